//! `bootcheck check`, `lift` and `replay` on the captures checked in under `captures/`:
//!
//! * every capture there checks clean (the lab ones) or as pinned (third-party ones);
//! * each lab capture, recorded from a real daemon in the lab, replays against that
//!   daemon with every reply as recorded (a regression test of the daemon and of the
//!   harness);
//! * a reference server with a fault switch turned on gives a precise field diff
//!   against a capture recorded before the change — in-process and in the lab;
//! * third-party captures (rewritten to the site) replay against the reference
//!   server with their diff pinned as a snapshot.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn bootcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bootcheck")).args(args).current_dir(root()).output().expect("runs bootcheck")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn captures(dir: &str, ext: &[&str]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> =
        std::fs::read_dir(root().join(dir)).map(|rd| rd.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    out.retain(|p| p.extension().is_some_and(|x| ext.iter().any(|e| x == *e)));
    out.sort();
    out
}

/// The target a lab capture was recorded from: the longest profile name its file
/// name starts with.
fn target_of(capture: &Path) -> String {
    let name = capture.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut targets: Vec<String> = std::fs::read_dir(root().join("targets"))
        .expect("targets/")
        .flatten()
        .filter_map(|e| e.path().file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|t| name.starts_with(&format!("{t}-")))
        .collect();
    targets.sort_by_key(|t| std::cmp::Reverse(t.len()));
    targets.into_iter().next().unwrap_or_else(|| panic!("{name}: no target profile matches its name"))
}

fn out_dir(name: &str) -> String {
    let d = std::env::temp_dir().join(format!("bootcheck-replay-test-{}-{name}", std::process::id()));
    d.display().to_string()
}

#[test]
fn every_lab_capture_checks_clean() {
    let lab = captures("captures/lab", &["pcapng", "pcap"]);
    assert!(lab.len() >= 7, "captures/lab holds the regression captures ({} found)", lab.len());
    for c in &lab {
        let o = bootcheck(&["check", "-q", &c.display().to_string()]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(0), "{}:\n{t}", c.display());
        assert!(t.contains("0 issues") && !t.contains("FAIL"), "{}:\n{t}", c.display());
    }
}

#[test]
fn a_fault_switch_shows_as_a_precise_field_diff_in_process() {
    let cap = root().join("captures/lab/reference-bootp-then-tftp.pcapng").display().to_string();
    let same = bootcheck(&["replay", &cap, "--in-process", "--out", &out_dir("same")]);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same));
    assert!(text(&same).contains("2 of 2 exchanges as recorded"), "{}", text(&same));

    let out = out_dir("fault");
    let faulty = bootcheck(&["replay", &cap, "--in-process", "--fault", "no-siaddr", "--out", &out]);
    let t = text(&faulty);
    assert_eq!(faulty.status.code(), Some(1), "{t}");
    // Exactly the field the fault changes, and the boot chain it breaks.
    assert!(t.contains("CHANGED        step 1   #1 BOOTREQUEST\n    siaddr: 192.0.2.1 → 0.0.0.0\n"), "{t}");
    assert!(t.contains("NO REPLY now   step 2"), "{t}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(Path::new(&out).join("report.json")).expect("report.json"))
            .expect("json");
    let changed = &report["exchanges"][0]["diff"]["changed"];
    assert_eq!(changed.as_array().map(Vec::len), Some(1), "{report:#}");
    assert_eq!(changed[0]["field"], "siaddr");
    assert_eq!(changed[0]["recorded"], "192.0.2.1");
    assert_eq!(changed[0]["live"], "0.0.0.0");
}

#[test]
fn lab_captures_replay_as_recorded_against_their_daemons() {
    if !is_root() {
        assert!(!in_ci(), "CI runs as root");
        eprintln!("skipped: the lab replay needs root");
        return;
    }
    for c in captures("captures/lab", &["pcapng", "pcap"]) {
        let target = target_of(&c);
        let name = c.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let o = bootcheck(&["replay", &c.display().to_string(), "--target", &target, "--out", &out_dir(&name)]);
        assert_eq!(o.status.code(), Some(0), "{} against {target}:\n{}", c.display(), text(&o));
    }
    // And the fault diff in the lab, through a real wire.
    let cap = root().join("captures/lab/reference-bootp-then-tftp.pcapng").display().to_string();
    let o =
        bootcheck(&["replay", &cap, "--target", "reference", "--fault", "no-siaddr", "--out", &out_dir("lab-fault")]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("    siaddr: 192.0.2.1 → 0.0.0.0\n"), "{}", text(&o));
}

#[test]
fn third_party_captures_replay_with_their_diff_pinned() {
    let mut files = Vec::new();
    for d in ["captures/third-party/charrua", "captures/third-party/suricata-verify"] {
        files.extend(captures(d, &["pcap", "pcapng"]));
    }
    assert!(files.len() >= 2);
    for c in files {
        let rel = c.strip_prefix(root()).unwrap_or(&c).display().to_string();
        let out = out_dir(&rel.replace('/', "_"));
        let o = bootcheck(&["replay", &rel, "--in-process", "--out", &out]);
        assert!(matches!(o.status.code(), Some(0 | 1)), "{rel}: {}", text(&o));
        let shown = String::from_utf8_lossy(&o.stdout).replace(&out, "[out]");
        let lifted = std::fs::read_to_string(Path::new(&out).join("replay.yaml")).expect("replay.yaml");
        insta::assert_snapshot!(format!("replay-{}", rel.replace(['/', '.'], "_")), format!("{shown}\n{lifted}"), &rel);
    }
}
