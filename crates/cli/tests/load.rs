//! `bootcheck load` in the lab: against the null responder (the harness alone), the
//! reference server (BOOTP, DORA, the harness as relay agent, through dhcrelay), and Kea
//! beside perfdhcp; each run bounded to a few seconds, asserting the numbers in
//! load.json and that the exit status follows the drop-ratio threshold (the reference
//! server with `drop-every-nth=2` fails it on purpose).
//!
//! Needs root (the lab: network namespaces, veth, raw frames). As a normal user it says
//! why and passes, except under `CI=true`, where it fails. The runs share the machine's
//! two cores, so they go one at a time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use serde_json::Value;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn can_run() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    assert!(!in_ci(), "CI is set: the load tests must run, and they need root (the lab)");
    eprintln!("skipped: bootcheck load needs the lab as root; run `cargo test -p bootcheck --test load` as root");
    false
}

/// Whether `path` exists; when it does not, outside CI, say so (the test skips).
fn installed(path: &str, package: &str) -> bool {
    if Path::new(path).exists() {
        return true;
    }
    assert!(!in_ci(), "CI is set: {path} (Debian {package}) must be installed by ci/install-deps.sh");
    eprintln!("skipped: {path} is not installed (Debian {package})");
    false
}

fn text(o: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// `bootcheck load ARGS --out TMP`: the output and load.json.
fn load(name: &str, args: &[&str]) -> (Output, Value) {
    let out = std::env::temp_dir().join(format!("bootcheck-load-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let o = Command::new(env!("CARGO_BIN_EXE_bootcheck"))
        .arg("load")
        .args(args)
        .arg("--out")
        .arg(&out)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("running bootcheck load {args:?}: {e}"));
    let json = std::fs::read_to_string(out.join("load.json"))
        .unwrap_or_else(|e| panic!("load.json of {args:?}: {e}\n{}", text(&o)));
    let v: Value = serde_json::from_str(&json).unwrap();
    let _ = std::fs::remove_dir_all(&out);
    (o, v)
}

fn u(v: &Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or_else(|| panic!("`{k}` in {v:#}"))
}
fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or_else(|| panic!("`{k}` in {v:#}"))
}

/// Every exchange accounted for; the fields a reader of load.json relies on present.
fn consistent(v: &Value) {
    for k in [
        "sent",
        "received",
        "drops",
        "naks",
        "drop_ratio",
        "orphans",
        "late",
        "duplicates",
        "achieved_rate",
        "offered_rate",
        "active_s",
        "passed",
        "stopped",
        "cpu",
        "samples",
        "max_drop_ratio",
    ] {
        assert!(!v[k].is_null(), "`{k}` missing in {v:#}");
    }
    assert_eq!(u(v, "sent"), u(v, "received") + u(v, "drops") + u(v, "naks"), "every exchange accounted for: {v:#}");
    let ratio = (u(v, "sent") - u(v, "received")) as f64 / u(v, "sent") as f64;
    assert!((f(v, "drop_ratio") - ratio).abs() < 1e-9, "{v:#}");
    assert_eq!(v["passed"].as_bool(), Some(u(v, "received") > 0 && ratio <= f(v, "max_drop_ratio")));
}

fn latency(v: &Value, k: &str) -> (f64, f64, f64, f64) {
    let l = &v[k];
    let t = (f(l, "min_us"), f(l, "median_us"), f(l, "p99_us"), f(l, "max_us"));
    assert!(t.0 > 0.0 && t.0 <= t.1 && t.1 <= t.2 && t.2 <= t.3, "{k}: {l:#}");
    t
}

#[test]
fn null_responder_closed_loop_measures_the_harness() {
    if !can_run() {
        return;
    }
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let (o, v) = load("null-closed", &["--target", "null", "--duration", "2s", "--clients", "100", "--window", "32"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    consistent(&v);
    assert_eq!(v["pacing"], "closed");
    assert_eq!(v["stopped"], "duration");
    // Nothing lost between two namespaces of this machine, and thousands per second
    // even from a debug build on a busy machine.
    assert!(f(&v, "drop_ratio") <= 0.001, "{v:#}");
    assert!(f(&v, "achieved_rate") > 2000.0, "{v:#}");
    assert_eq!(u(&v, "orphans") + u(&v, "duplicates"), 0, "{v:#}");
    latency(&v, "latency");
    assert!(v["samples"].as_array().is_some_and(|s| !s.is_empty()), "a progress sample per second");
    assert!(text(&o).contains("PASS"), "{}", text(&o));
}

#[test]
fn null_responder_open_loop_dora_holds_the_rate() {
    if !can_run() {
        return;
    }
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let (o, v) = load(
        "null-open-dora",
        &["--target", "null", "--mode", "dora", "--rate", "2000", "--duration", "2s", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // --format json prints the report itself.
    let printed: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
    assert_eq!(printed["sent"], v["sent"]);
    consistent(&v);
    assert_eq!(v["mode"], "dora");
    assert_eq!(v["pacing"], "open");
    assert!(f(&v, "drop_ratio") <= 0.01, "{v:#}");
    // 2 s at 2000/s: 4000 DORAs offered, within 10 %.
    let sent = u(&v, "sent");
    assert!((3600..=4400).contains(&sent), "{v:#}");
    assert_eq!(u(&v, "frames_sent"), sent + u(&v, "received") + u(&v, "drops_second_leg"), "two requests per DORA");
    let whole = latency(&v, "latency");
    let d_o = latency(&v, "latency_discover_offer");
    let r_a = latency(&v, "latency_request_ack");
    assert!(whole.0 >= d_o.0 + r_a.0 - 1.0, "a DORA takes both legs: {whole:?} {d_o:?} {r_a:?}");
}

#[test]
fn reference_server_bootp_dora_and_relayed() {
    if !can_run() {
        return;
    }
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for mode in ["bootp", "dora", "relayed"] {
        let (o, v) = load(
            &format!("reference-{mode}"),
            &["--target", "reference", "--mode", mode, "--rate", "300", "--duration", "2s", "--clients", "50"],
        );
        assert_eq!(o.status.code(), Some(0), "{mode}: {}", text(&o));
        consistent(&v);
        assert!(u(&v, "received") > 400, "{mode}: {v:#}");
        assert!(f(&v, "drop_ratio") <= 0.01, "{mode}: {v:#}");
        assert_eq!(v["path"], if mode == "relayed" { "harness-relay" } else { "direct" });
        latency(&v, "latency");
        assert!(f(&v["cpu"], "server_s") > 0.0, "the server's CPU time is measured: {v:#}");
    }
}

#[test]
fn the_exit_status_follows_the_drop_threshold() {
    if !can_run() {
        return;
    }
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // Every 2nd request dropped by the server: half the exchanges time out.
    let args = [
        "--target",
        "reference",
        "--fault",
        "drop-every-nth=2",
        "--rate",
        "200",
        "--duration",
        "2s",
        "--timeout",
        "200ms",
        "--clients",
        "50",
    ];
    let (o, v) = load("drop-fail", &args);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    consistent(&v);
    assert_eq!(v["passed"], false);
    let r = f(&v, "drop_ratio");
    assert!((0.45..=0.55).contains(&r), "drop-every-nth=2: about half dropped, got {r}: {v:#}");
    assert!(text(&o).contains("FAIL: drop ratio"), "{}", text(&o));
    // The same load with a threshold it meets passes.
    let mut lenient = args.to_vec();
    lenient.extend(["--max-drop-ratio", "0.6"]);
    let (o, v) = load("drop-pass", &lenient);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(v["passed"], true);
}

#[test]
fn relayed_through_dhcrelay() {
    if !can_run() || !installed("/usr/sbin/dhcrelay", "isc-dhcp-relay") {
        return;
    }
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let (o, v) = load(
        "dhcrelay",
        &["--target", "reference", "--relay", "dhcrelay", "--mode", "relayed", "--rate", "200", "--duration", "2s"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    consistent(&v);
    assert_eq!(v["path"], "relay");
    assert_eq!(v["relay"], "dhcrelay");
    assert!(u(&v, "received") > 300, "{v:#}");
    assert!(v["cpu"]["relay_s"].as_f64().is_some_and(|s| s > 0.0), "{v:#}");
}

#[test]
fn kea_beside_perfdhcp() {
    if !can_run()
        || !installed("/usr/sbin/kea-dhcp4", "kea-dhcp4-server")
        || !installed("/usr/sbin/perfdhcp", "kea-admin")
    {
        return;
    }
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let (o, v) = load(
        "versus",
        &["--target", "kea", "--mode", "dora", "--versus", "perfdhcp", "--rate", "200", "--duration", "2s"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    consistent(&v);
    assert_eq!(v["path"], "link-relay", "bootcheck sends as perfdhcp does: {v:#}");
    let p = &v["versus"];
    assert!(u(p, "sent") > 300 && u(p, "received") > 300, "perfdhcp ran its DORAs against Kea: {p:#}");
    assert!(f(p, "drop_ratio") <= 0.05, "{p:#}");
    assert!(p["discover_offer"]["avg_ms"].as_f64().is_some(), "{p:#}");
    assert!(u(&v, "received") > 300, "{v:#}");
    let t = text(&o);
    assert!(t.contains("perfdhcp") && t.contains("bootcheck") && t.contains("achieved DORA/s"), "{t}");
}

#[test]
fn bad_options_are_input_errors() {
    // No lab needed: refused before one is made.
    for args in [
        &["--target", "null", "--rate", "0"][..],
        &["--target", "null", "--mode", "nope"],
        &["--target", "null", "--versus", "perfdhcp", "--rate", "10"],
        &["--target", "null", "--max-drop-ratio", "2"],
        &["--target", "null", "--timeout", "0s"],
    ] {
        let o =
            Command::new(env!("CARGO_BIN_EXE_bootcheck")).arg("load").args(args).current_dir(root()).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
    }
}
