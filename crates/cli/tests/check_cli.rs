//! `bootcheck check` as a user meets it: exit statuses, the three formats, damaged and
//! foreign files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

fn bootcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bootcheck")).args(args).current_dir(root()).output().expect("runs bootcheck")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bootcheck-check-cli-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("tmp");
    d.join(name)
}

/// A capture of the reference server with a fault: the rule catalogue must fail it.
fn faulty_capture() -> PathBuf {
    let out = tmp("faulty-run");
    let o = bootcheck(&[
        "run",
        "--in-process",
        "--fault",
        "no-siaddr",
        "scenarios/bootp/known-client.yaml",
        "--out",
        &out.display().to_string(),
    ]);
    assert!(matches!(o.status.code(), Some(1)), "{}", String::from_utf8_lossy(&o.stdout));
    out.join("pcap/rfc951_known-client.pcapng")
}

#[test]
fn a_must_failure_exits_1_with_packet_offset_expected_and_seen() {
    let cap = faulty_capture();
    let o = bootcheck(&["check", &cap.display().to_string()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains(
            "MUST rfc951/7.3/siaddr-filled: packet 2 byte 62: reply.siaddr: expected a server address, seen 0.0.0.0"
        ),
        "{out}"
    );
    assert!(out.contains("1 exchanges: 1 fail"), "{out}");
}

#[test]
fn json_and_junit_are_well_formed_and_say_the_same() {
    let cap = faulty_capture().display().to_string();
    let clean = root().join("captures/lab/dnsmasq-known-client.pcapng").display().to_string();
    let o = bootcheck(&["check", "--format", "json", &cap, &clean]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON document");
    assert_eq!(v["captures"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["captures"][0]["exchanges"][0]["verdict"], "fail");
    assert_eq!(v["captures"][0]["exchanges"][0]["failures"][0]["rule"], "rfc951/7.3/siaddr-filled");
    assert_eq!(v["captures"][0]["exchanges"][0]["failures"][0]["offset"], 62);
    assert_eq!(v["captures"][1]["summary"]["by_verdict"]["pass"], 1);

    let o = bootcheck(&["check", "--format", "junit", &cap, &clean]);
    assert_eq!(o.status.code(), Some(1));
    let xml = String::from_utf8_lossy(&o.stdout);
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures) = (0, 0);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => match e.name().as_ref() {
                b"testcase" => cases += 1,
                b"failure" => failures += 1,
                _ => {}
            },
            Ok(quick_xml::events::Event::Eof) => break,
            Err(e) => panic!("bad XML: {e}\n{xml}"),
            _ => {}
        }
    }
    assert_eq!((cases, failures), (2, 1), "{xml}");
}

#[test]
fn damaged_and_foreign_files_are_explained_not_panicked_on() {
    // A file that is not a capture: exit 2, what it starts with, no panic.
    let junk = tmp("junk.pcap");
    std::fs::write(&junk, b"this is not a capture file at all").expect("write");
    let o = bootcheck(&["check", &junk.display().to_string()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("not a pcap or pcapng file: it starts with 7468697320697320"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // A capture cut in its last record: every whole packet checked, the cut reported,
    // exit 0 (2 with --strict).
    let good = std::fs::read(root().join("captures/lab/reference-bootp-then-tftp.pcapng")).expect("capture");
    let cut = tmp("cut.pcapng");
    std::fs::write(&cut, &good[..good.len() - 30]).expect("write");
    let o = bootcheck(&["check", &cut.display().to_string()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("the file ends inside a record"), "{out}");
    assert!(out.contains("pass"), "{out}");
    assert_eq!(bootcheck(&["check", "--strict", &cut.display().to_string()]).status.code(), Some(2));
    // A missing file.
    let o = bootcheck(&["check", "/nonexistent/x.pcap"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/x.pcap"));
}
