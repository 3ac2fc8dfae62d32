//! Helpers shared by the lab integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use bootcheck_lab::{privilege, Lab, LabSpec, Privilege, Topology};
use bootcheck_scenario::{Mac, Site};

/// True when the lab can run here; otherwise prints why the test is skipped.
pub fn lab_allowed(test: &str) -> bool {
    match privilege() {
        Privilege::Root => true,
        other => {
            eprintln!(
                "skipping {test}: the live lab needs root (privilege here: {other:?}); \
                 run `cargo test -p bootcheck-lab` as root to exercise it"
            );
            false
        }
    }
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

pub fn site() -> Site {
    bootcheck_scenario::load_site(&repo_root().join("scenarios/site.yaml")).unwrap()
}

pub fn lab(topology: Topology) -> Lab {
    Lab::up(&LabSpec::new(site(), topology)).unwrap()
}

fn cmd(argv: &[&str]) -> String {
    let out = Command::new(argv[0]).args(&argv[1..]).output().unwrap();
    assert!(out.status.success(), "{argv:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Everything on the machine that carries run id `id`: namespaces, root-namespace
/// links, /etc/netns dirs, the state file.
pub fn traces_of(id: &str) -> Vec<String> {
    let tag = format!("bc{id}-");
    let mut out = Vec::new();
    for l in cmd(&["ip", "netns", "list"]).lines() {
        if l.contains(&tag) {
            out.push(format!("netns {l}"));
        }
    }
    for l in cmd(&["ip", "-o", "link", "show"]).lines() {
        if l.contains(&tag) {
            out.push(format!("root link {l}"));
        }
    }
    if let Ok(rd) = std::fs::read_dir("/etc/netns") {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().contains(&tag) {
                out.push(format!("etc dir {}", e.path().display()));
            }
        }
    }
    let state = PathBuf::from(format!("/run/bootcheck/labs/{id}.json"));
    if state.exists() {
        out.push(format!("state file {}", state.display()));
    }
    out
}

/// Root-namespace interface names.
pub fn root_links() -> String {
    cmd(&["ip", "-o", "link", "show"])
}

/// Interface lines of a namespace.
pub fn ns_links(ns: &str) -> String {
    cmd(&["ip", "-n", ns, "-o", "link", "show"])
}

/// Wait until `f` holds (netns destruction is asynchronous in the kernel).
pub fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !f() {
        assert!(std::time::Instant::now() < until, "timed out waiting for: {what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// An Ethernet frame with a local-experimental EtherType carrying `payload`.
pub fn frame(dst: Mac, src: Mac, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len().max(46));
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&[0x88, 0xb5]);
    f.extend_from_slice(payload);
    while f.len() < 60 {
        f.push(0);
    }
    f
}

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}
