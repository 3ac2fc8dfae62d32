//! The built `bootcheck` binary on bad input and on failures: exit codes (0 pass, 1
//! failures, 2 bad input), errors located as file:line:column, never a panic; the
//! human report of a failure (diff, citation, pcap); machine-readable JSON and JUnit;
//! shards that partition the suite.
//!
//! Every run is `--in-process` (no privileges, no network), from the repository root,
//! with `--out` under Cargo's per-target temporary directory.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// A directory for one test under the target dir, removed when the test passes (kept
/// for a look when it fails).
struct Tmp(PathBuf);

impl std::ops::Deref for Tmp {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn tmp(name: &str) -> Tmp {
    // Per test process: another run of these tests may share the target dir.
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli_errors").join(format!("{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Tmp(d)
}

/// Run the built binary from the repository root.
fn bootcheck(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_bootcheck"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "bootcheck {args:?} panicked:\n{stderr}");
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or_else(|| panic!("killed by a signal: {o:?}"))
}

/// `bootcheck run --in-process --out OUT ARGS…`
fn run(out: &Path, args: &[&str]) -> Output {
    let mut v = vec!["run", "--in-process", "--out", out.to_str().unwrap()];
    v.extend_from_slice(args);
    bootcheck(&v)
}

/// Write `name` into `dir`; its path as text.
fn write(dir: &Path, name: &str, content: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p.to_str().unwrap().to_string()
}

/// The file:line:column prefix an error must carry.
fn assert_located(o: &Output, file: &str, line: usize, col: usize, also: &str) {
    let err = text(&o.stderr);
    assert_eq!(code(o), 2, "exit code; stderr:\n{err}");
    let want = format!("{file}:{line}:{col}: ");
    assert!(err.contains(&want), "stderr lacks `{want}`:\n{err}");
    assert!(err.contains(also), "stderr lacks `{also}`:\n{err}");
}

#[test]
fn a_yaml_error_exits_2_located() {
    let d = tmp("yaml-error");
    let f = write(
        &d,
        "yaml-error.yaml",
        "id: bad/yaml\ntitle: broken\nsteps:\n  - send: { bootp: {}\n    expect: { no-reply: 1s }\n",
    );
    let o = run(&d.join("out"), &[&f]);
    assert_located(&o, &f, 5, 5, "nothing was run");
}

#[test]
fn an_unknown_key_exits_2_located_with_a_suggestion() {
    let d = tmp("unknown-key");
    let f = write(
        &d,
        "unknown-key.yaml",
        "id: bad/unknown-key\ntitle: a misspelt key\nclient: ws1\nsteps:\n  - send:\n      bootp:\n        flgas: broadcast\n    expect: { no-reply: 1s }\n",
    );
    let o = run(&d.join("out"), &[&f]);
    assert_located(&o, &f, 7, 9, "unknown field `flgas`");
    assert!(text(&o.stderr).contains("did you mean `flags`?"), "{}", text(&o.stderr));
}

#[test]
fn a_schema_error_exits_2_located() {
    let d = tmp("schema");
    // A value of the wrong type, and (separately) a value out of range.
    let f = write(
        &d,
        "schema.yaml",
        "id: bad/schema\ntitle: a value of the wrong type\nclient: ws1\nsteps:\n  - send: { bootp: {} }\n    repeat: many\n    expect: { no-reply: 1s }\n",
    );
    let o = run(&d.join("out"), &[&f]);
    assert_located(&o, &f, 6, 13, "steps[0].repeat: invalid type");
    let g = write(
        &d,
        "range.yaml",
        "id: bad/range\ntitle: a block number past 65535\nclient: ws1\nsteps:\n  - send: { tftp-read: { file: a, duplicate-ack: 70000 } }\n    expect: { transfer: {} }\n",
    );
    let o = run(&d.join("out"), &[&g]);
    assert_located(&o, &g, 5, 50, "duplicate-ack");
    // Two bad files: both reported, nothing run.
    let o = run(&d.join("out"), &[&f, &g]);
    assert_eq!(code(&o), 2);
    let err = text(&o.stderr);
    assert!(err.contains(&format!("{f}:6:13")) && err.contains(&format!("{g}:5:50")), "{err}");
    assert!(err.contains("2 scenario file(s) could not be loaded"), "{err}");
}

#[test]
fn a_bad_site_exits_2_located() {
    let d = tmp("bad-site");
    let good = std::fs::read_to_string(root().join("scenarios/site.yaml")).unwrap();
    let line = good.lines().position(|l| l.starts_with("server:")).unwrap() + 1;
    let bad = good.replacen("server: { ip: 192.0.2.1", "server: { ip: 10.1.2.3", 1);
    assert_ne!(bad, good, "site.yaml changed shape; update this test");
    let site = write(&d, "site.yaml", &bad);
    let o = run(&d.join("out"), &["--site", &site, "scenarios/bootp/known-client.yaml"]);
    assert_located(&o, &site, line, 11, "not an RFC 5737 documentation address");
    // Not a site at all.
    let site = write(&d, "list.yaml", "- a\n- b\n");
    let o = run(&d.join("out"), &["--site", &site, "scenarios/bootp/known-client.yaml"]);
    assert_located(&o, &site, 1, 1, "expected struct Site");
    // No site file.
    let o = run(&d.join("out"), &["--site", d.join("none.yaml").to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
}

#[test]
fn odd_files_exit_2_without_panicking() {
    let d = tmp("odd-files");
    let cases = [
        ("empty.yaml", String::new(), "missing field `id`"),
        ("list.yaml", "- a\n- b\n".into(), "expected struct Scenario"),
        ("nul.yaml", "id: \0\n".into(), ""),
        ("no-steps.yaml", "id: x\ntitle: y\nsteps: []\n".into(), "at least one step"),
        ("deep.yaml", format!("id: x\ntitle: y\nsteps: {}{}\n", "[".repeat(5000), "]".repeat(5000)), ""),
    ];
    for (name, content, want) in cases {
        let f = write(&d, name, &content);
        let o = run(&d.join("out"), &[&f]);
        assert_eq!(code(&o), 2, "{name}: {}", text(&o.stderr));
        assert!(text(&o.stderr).contains(&f), "{name}: the error names the file:\n{}", text(&o.stderr));
        assert!(text(&o.stderr).contains(want), "{name}: {}", text(&o.stderr));
    }
    // Not UTF-8.
    let p = d.join("binary.yaml");
    std::fs::write(&p, [0xff, 0xfe, 0x00, 0x80, 0x81]).unwrap();
    let o = run(&d.join("out"), &[p.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    // A directory without scenarios.
    let empty = d.join("empty-dir");
    std::fs::create_dir_all(&empty).unwrap();
    let o = run(&d.join("out"), &[empty.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
}

#[test]
fn a_bad_fault_name_exits_2() {
    let d = tmp("bad-fault");
    for f in ["no-such-fault", "drop-every-nth", "drop-every-nth=0", "crash-on-option=256", "wrong-xid=1"] {
        let o = run(&d.join("out"), &["--fault", f, "scenarios/bootp/known-client.yaml"]);
        assert_eq!(code(&o), 2, "--fault {f}: {}", text(&o.stderr));
        assert!(text(&o.stderr).contains("--fault"), "--fault {f}: {}", text(&o.stderr));
    }
}

#[test]
fn a_missing_path_exits_2() {
    let d = tmp("missing-path");
    let o = run(&d.join("out"), &["scenarios/no/such/file.yaml"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("scenarios/no/such/file.yaml: no such file or directory"), "{}", text(&o.stderr));
}

#[test]
fn bad_shards_exit_2() {
    let d = tmp("bad-shard");
    for s in ["0/2", "3/2", "1/0", "two/4", "1", "1/99999999999999999999999"] {
        let o = run(&d.join("out"), &["--shard", s, "scenarios/bootp/known-client.yaml"]);
        assert_eq!(code(&o), 2, "--shard {s}: {}", text(&o.stderr));
    }
}

#[test]
fn a_failing_scenario_exits_1_with_diff_citation_and_pcap() {
    let d = tmp("failing");
    let out = d.join("out");
    let o =
        run(&out, &["--fault", "wrong-xid", "scenarios/bootp/echoed-fields.yaml", "scenarios/bootp/own-sname.yaml"]);
    let stdout = text(&o.stdout);
    assert_eq!(code(&o), 1, "stdout:\n{stdout}\nstderr:\n{}", text(&o.stderr));
    // The failing one, with its diff, its clause and its capture…
    let fail = stdout
        .lines()
        .position(|l| l.starts_with("FAIL") && l.contains("rfc951/3/echoed-fields"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let block: Vec<&str> = stdout.lines().skip(fail + 1).take_while(|l| l.starts_with("   ")).collect();
    let block = block.join("\n");
    assert!(block.contains("reply.xid:"), "{block}");
    assert!(block.contains("- expected 1592590337"), "{block}");
    assert!(block.contains("+ got      1592590338"), "{block}");
    assert!(block.contains("cites: RFC951 §3, RFC1542 §3.1.1"), "{block}");
    let pcap = out.join("pcap/rfc951_3_echoed-fields.pcapng");
    assert!(block.contains(&format!("pcap: {}", pcap.display())), "{block}");
    assert!(pcap.is_file(), "{} was not written", pcap.display());
    // …and the one whose own expectations do not look at xid is caught by the rule
    // catalogue, which judges every reply: RULE FAIL, the rule, packet and offset.
    let rule = stdout
        .lines()
        .position(|l| l.starts_with("RULE FAIL") && l.contains("rfc951/7.3/own-sname"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let next = stdout.lines().nth(rule + 1).unwrap_or_default();
    assert!(next.contains("breaks rfc951/3/xid-echoed (MUST)") && next.contains("packet 2 byte 46"), "{next}");
    assert!(stdout.contains("0 passed, 2 failed"), "{stdout}");
    // Without the fault: exit 0.
    let o = run(&out, &["scenarios/bootp/echoed-fields.yaml"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stdout));
}

fn json_run(out: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let mut v = vec!["--format", "json"];
    v.extend_from_slice(args);
    let o = run(out, &v);
    let stdout = text(&o.stdout);
    let j: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("--format json printed no JSON ({e}):\n{stdout}"));
    (code(&o), j)
}

fn ids(j: &serde_json::Value) -> Vec<String> {
    j["scenarios"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn json_output_parses() {
    let d = tmp("json");
    let (c, j) = json_run(&d.join("out"), &["scenarios/bootp"]);
    assert_eq!(c, 0);
    assert_eq!(j["target"], "reference");
    let n = ids(&j).len();
    assert!(n >= 10, "{j:#}");
    assert_eq!(j["totals"]["passed"].as_u64(), Some(n as u64), "{j:#}");
    // A failure, in JSON: the mismatch, the clause and the pcap are there.
    let (c, j) = json_run(&d.join("out2"), &["--fault", "wrong-xid", "scenarios/bootp/echoed-fields.yaml"]);
    assert_eq!(c, 1);
    let s = &j["scenarios"][0];
    assert_eq!(s["outcome"], "fail", "{j:#}");
    assert_eq!(s["steps"][0]["mismatches"][0]["field"], "reply.xid", "{j:#}");
    assert!(s["cites"].as_array().is_some_and(|c| !c.is_empty()), "{j:#}");
    assert!(s["pcap"].as_str().is_some_and(|p| Path::new(p).is_file()), "{j:#}");
    // The report file is the same JSON.
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out2/report.json")).unwrap()).unwrap();
    assert_eq!(file, j);
}

/// (testsuite count, testcase names, failure count) of a JUnit document.
fn junit_parts(xml: &str) -> (usize, Vec<String>, usize) {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(xml);
    let (mut suites, mut cases, mut failures) = (0, Vec::new(), 0);
    let mut root = None;
    loop {
        match r.read_event().unwrap_or_else(|e| panic!("JUnit is not XML ({e}):\n{xml}")) {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                root.get_or_insert(name.clone());
                match name.as_str() {
                    "testsuite" => suites += 1,
                    "testcase" => {
                        let a = e.try_get_attribute("name").unwrap().unwrap();
                        cases.push(a.unescape_value().unwrap().into_owned());
                    }
                    "failure" => failures += 1,
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(root.as_deref(), Some("testsuites"), "{xml}");
    (suites, cases, failures)
}

#[test]
fn junit_output_parses() {
    let d = tmp("junit");
    let o = run(&d.join("out"), &["--format", "junit", "scenarios/bootp"]);
    assert_eq!(code(&o), 0);
    let (suites, cases, failures) = junit_parts(&text(&o.stdout));
    assert_eq!(suites, 1);
    assert!(cases.len() >= 10 && cases.contains(&"rfc951/known-client".to_string()), "{cases:?}");
    assert_eq!(failures, 0);
    let o = run(&d.join("out2"), &["--format", "junit", "--fault", "wrong-xid", "scenarios/bootp/echoed-fields.yaml"]);
    assert_eq!(code(&o), 1);
    let (_, cases, failures) = junit_parts(&text(&o.stdout));
    assert_eq!((cases.len(), failures), (1, 1));
    // The file written to the out dir parses too.
    junit_parts(&std::fs::read_to_string(d.join("out2/junit.xml")).unwrap());
}

#[test]
fn two_shards_cover_every_scenario_exactly_once() {
    let d = tmp("shards");
    let (_, all) = json_run(&d.join("all"), &[]);
    let (_, one) = json_run(&d.join("one"), &["--shard", "1/2"]);
    let (_, two) = json_run(&d.join("two"), &["--shard", "2/2"]);
    let all = ids(&all);
    let (one, two) = (ids(&one), ids(&two));
    assert!(!one.is_empty() && !two.is_empty());
    let mut both: Vec<String> = one.iter().chain(&two).cloned().collect();
    both.sort();
    let mut want = all.clone();
    want.sort();
    assert_eq!(both, want, "shard 1/2 {one:?} + shard 2/2 {two:?} != all {all:?}");
    let set: BTreeSet<&String> = one.iter().collect();
    assert!(two.iter().all(|t| !set.contains(t)), "a scenario is in both shards");
}

/// `bootcheck … | head`: a reader that goes away ends the command quietly with the
/// shell's SIGPIPE status, not a panic message.
#[test]
fn a_closed_stdout_ends_quietly() {
    use std::process::Stdio;
    for args in [&["list"][..], &["schema"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bootcheck"))
            .current_dir(root())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the read end before the child writes: its first write gets EPIPE.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(141), "{args:?}: {}; stderr:\n{err}", o.status);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

/// `bootcheck decode` on a cut capture: what is there is decoded, the cut is an error
/// naming the packet and byte offset, exit 2; a file that is no capture at all says
/// what it starts with.
#[test]
fn decode_reports_a_cut_capture_with_packet_and_offset() {
    let dir = tmp("decode-cut");
    let whole = std::fs::read(root().join("captures/lab/tftpd-hpa-blksize.pcapng")).unwrap();
    let cut = dir.join("cut.pcapng");
    std::fs::write(&cut, &whole[..3000]).unwrap();
    let o = bootcheck(&["decode", cut.to_str().unwrap()]);
    assert_eq!(code(&o), 2, "{o:?}");
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert!(out.contains("#1: TFTP RRQ"), "{out}");
    assert!(err.contains("packet 8 (byte 1888): the file ends inside a record"), "{err}");

    let whole_out = bootcheck(&["decode", "captures/lab/tftpd-hpa-blksize.pcapng"]);
    assert_eq!(code(&whole_out), 0, "{whole_out:?}");
    let body = |s: String, file: &str| s.replace(file, "F");
    assert!(
        body(text(&whole_out.stdout), "captures/lab/tftpd-hpa-blksize.pcapng")
            .starts_with(&body(out.clone(), cut.to_str().unwrap())),
        "the cut file decodes as the start of the whole one"
    );

    let junk = write(&dir, "junk.pcap", "this is not a capture at all");
    let o = bootcheck(&["decode", &junk]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("not a pcap or pcapng file: it starts with"), "{}", text(&o.stderr));
}
