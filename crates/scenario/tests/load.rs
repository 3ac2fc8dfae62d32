//! Every scenario in `scenarios/` loads against the site; every broken file in
//! `tests/bad/` is refused with file:line:column, the field path and what was expected;
//! the checked-in JSON Schema is the one the model generates.

use std::path::{Path, PathBuf};

use bootcheck_scenario::{discover, load_scenario, load_site, schema_json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn site() -> bootcheck_scenario::Site {
    load_site(&root().join("scenarios/site.yaml")).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_scenario_loads() {
    let site = site();
    let files = discover(&[root().join("scenarios")]);
    assert!(files.len() >= 15, "only {} scenarios", files.len());
    let mut ids = std::collections::BTreeSet::new();
    for f in &files {
        let s = load_scenario(f, &site).unwrap_or_else(|e| panic!("{e}"));
        assert!(ids.insert(s.id.clone()), "duplicate id {}", s.id);
        assert!(!s.cites.is_empty(), "{}: every scenario cites its clause", f.display());
    }
}

fn err(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad").join(name);
    match load_scenario(&p, &site()) {
        Ok(_) => panic!("{name} loaded"),
        Err(e) => {
            let s = e.to_string();
            // Strip the absolute directory for stable assertions.
            s.rsplit_once("tests/bad/").map_or(s.clone(), |(_, r)| r.to_string())
        }
    }
}

#[test]
fn bad_files_are_refused_with_location_path_and_expectation() {
    let cases = [
        ("unknown-key.yaml", "unknown-key.yaml:7:9: steps[0].send.bootp.flgas: unknown field `flgas`, expected one of `op`"),
        ("bad-ip.yaml", "bad-ip.yaml:8:11: steps[0].send.bootp.options: option `subnet-mask`: `255.255.0` is not an IPv4 address"),
        ("unknown-client.yaml", "unknown-client.yaml:3:1: client: `ws9` is not a site client (known: ws1, ws2, ws3)"),
        ("unknown-variable.yaml", "unknown-variable.yaml:8:17: steps[0]: variable `$server` is neither $site, $client, $reply, $sent nor captured by an earlier step (captured so far: none)"),
        ("bad-matcher.yaml", "bad-matcher.yaml:8:17: steps[0].expect.reply.file: unknown matcher `endswith`"),
        ("bad-duration.yaml", "bad-duration.yaml:6:13: steps[0].expect.no-reply: `3 fortnights`: unknown unit `fortnights`"),
        ("bad-options-order.yaml", "bad-options-order.yaml:8:9: steps[0].expect.reply.options-order: unknown option `routr` (did you mean router"),
        ("bsdp-unknown-key.yaml", "bsdp-unknown-key.yaml:9:9: steps[0].send.bsdp.replyport: unknown field `replyport`, expected one of `message`"),
        ("bsdp-unknown-expect.yaml", "bsdp-unknown-expect.yaml:11:11: steps[0].expect.reply.bsdp.priority: unknown field `priority`, expected one of `message`, `server-id`, `server-priority`"),
        ("bsdp-bad-message.yaml", "bsdp-bad-message.yaml:7:13: steps[0].send.bsdp.message: expected `list`, `select`, `failed`, `none` or a number"),
        ("bsdp-bad-image.yaml", "bsdp-bad-image.yaml:6:45: steps[0]: variable `$site.netboot.images.macintosh.id` is not in the site"),
        ("bsdp-unknown-image.yaml", "bsdp-unknown-image.yaml:8:38: steps[1].send.bsdp.image: `macintosh` is neither a site NetBoot image (known: diags, install, macos)"),
    ];
    for (file, want) in cases {
        let got = err(file);
        assert!(got.starts_with(want), "\n got: {got}\nwant: {want}");
    }
    let got = err("not-yaml.yaml");
    assert!(got.starts_with("not-yaml.yaml:2:"), "{got}");
}

#[test]
fn checked_in_schema_is_current() {
    let path = root().join("scenarios/schema.json");
    let want = schema_json();
    if std::env::var_os("BOOTCHECK_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &want).expect("write schema");
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(have == want, "scenarios/schema.json is stale: run `cargo run -p bootcheck -- schema > scenarios/schema.json` (or BOOTCHECK_UPDATE_SCHEMA=1 cargo test -p bootcheck-scenario)");
}
