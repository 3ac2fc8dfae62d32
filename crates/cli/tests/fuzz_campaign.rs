//! Proof that `bootcheck fuzz` finds what it is for: against the reference server in
//! the lab with `crash-on-option=150` and with `hang-on-overload` (fault switches of
//! `bootcheck-refserver`), a campaign with a fixed seed and packet budget finds the
//! crash (the server process exits) and the hang (the liveness probe goes unanswered),
//! minimises it to one packet, and writes a reproducer that `bootcheck run` fails with
//! the fault and passes without it.
//!
//! Option 150 is in none of the seed requests: the mutations have to put it there.
//! Option 52 is in some seeds (the overload scenarios), and mutations add it too.
//!
//! Needs root (the lab: network namespaces, veth, raw frames). As a normal user it says
//! why and passes, except under `CI=true`, where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The fixed budget: a campaign that has not found the fault by then fails the test.
const MAX_PACKETS: &str = "3000";
const SEED: &str = "7";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn bootcheck(args: &[&str]) -> (Output, Duration) {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_bootcheck"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("running bootcheck {args:?}: {e}"));
    (out, t.elapsed())
}

fn text(o: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn can_run() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    assert!(!in_ci(), "CI is set: the fuzz campaign test must run, and it needs root (the lab)");
    eprintln!(
        "skipped: the fuzz campaign needs the lab as root (euid {}); run `cargo test -p bootcheck --test fuzz_campaign` as root",
        nix::unistd::geteuid()
    );
    false
}

/// Fuzz with `fault` until the first finding; check it and replay its reproducer.
fn find_and_replay(fault: &str, kind: &str) {
    let dir = std::env::temp_dir().join(format!("bootcheck-fuzz-test-{}-{}", std::process::id(), kind));
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.join("campaign");
    let (o, took) = bootcheck(&[
        "fuzz",
        "--target",
        "reference",
        "--fault",
        fault,
        "--seed",
        SEED,
        "--max-packets",
        MAX_PACKETS,
        "--duration",
        "60s",
        "--rate",
        "500",
        "--batch",
        "25",
        "--probe-timeout",
        "300ms",
        "--max-findings",
        "1",
        "--minimize-trials",
        "40",
        "--minimize-time",
        "30s",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "a finding exits 1\n{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}\n{}", text(&o)));
    let f = &report["findings"][0];
    assert_eq!(f["kind"], kind, "{report:#}");
    assert_eq!(f["confirmed"], true, "{report:#}");
    assert_eq!(f["minimized_packets"], 1, "one packet does it: {report:#}");
    assert!(f["classes"].as_array().is_some_and(|c| !c.is_empty()), "{report:#}");
    let packets = report["packets"].as_u64().unwrap();
    assert!(packets <= MAX_PACKETS.parse().unwrap(), "{report:#}");
    let yaml = PathBuf::from(f["repro_yaml"].as_str().unwrap());
    let pcap = PathBuf::from(f["repro_pcap"].as_str().unwrap());
    assert!(yaml.is_file() && pcap.is_file(), "{report:#}");
    assert!(out.join("fuzz-report.json").is_file());
    eprintln!(
        "{fault}: {kind} found after {packets} packets, class {}, {} minimisation trials; campaign {:.1}s",
        f["classes"],
        f["minimize_trials"],
        took.as_secs_f64()
    );

    // The reproducer fails against the faulted server…
    let (o, took) = bootcheck(&[
        "run",
        "--target",
        "reference",
        "--fault",
        fault,
        "--out",
        dir.join("faulted").to_str().unwrap(),
        yaml.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "the reproducer fails with --fault {fault}\n{}", text(&o));
    eprintln!("{fault}: replay with the fault fails ({:.1}s)", took.as_secs_f64());
    // …and passes against the same server without the fault.
    let (o, took) = bootcheck(&[
        "run",
        "--target",
        "reference",
        "--out",
        dir.join("clean").to_str().unwrap(),
        yaml.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "the reproducer passes without the fault\n{}", text(&o));
    eprintln!("{fault}: replay without the fault passes ({:.1}s)", took.as_secs_f64());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fuzz_finds_a_crash_and_a_hang_and_writes_reproducers() {
    if !can_run() {
        return;
    }
    let t = Instant::now();
    find_and_replay("crash-on-option=150", "crash");
    find_and_replay("hang-on-overload", "hang");
    eprintln!("fuzz campaign proof: {:.1}s", t.elapsed().as_secs_f64());
}

#[test]
fn bad_input_exits_2() {
    for args in [
        vec!["fuzz", "--target", "reference", "--rate", "0"],
        vec!["fuzz", "--target", "reference", "--class", "no-such-class"],
        vec!["fuzz", "--target", "reference", "--fault", "no-such-fault"],
        vec!["fuzz", "--target", "reference", "--duration", "soon"],
        vec!["fuzz", "--target", "reference", "--format", "junit"],
    ] {
        let (o, _) = bootcheck(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}\n{}", text(&o));
        assert!(String::from_utf8_lossy(&o.stderr).contains("error:"), "{args:?}\n{}", text(&o));
    }
}
