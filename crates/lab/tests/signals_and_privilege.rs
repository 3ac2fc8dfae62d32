//! Ctrl-C turns into a flag and the lab unwinds through Drop; a non-root process gets a
//! clear NeedsPrivilege error; a detached lab survives reaping until `down`.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bootcheck_lab::{install_signal_cleanup, interrupted, Lab, LabError, LabSpec, RawPort, Role, Topology};
use common::{eventually, lab_allowed, site, traces_of};

/// Spawn this test binary running only `test`, with `env`, and wait for the line
/// starting with `tag` on its stdout.
fn spawn_helper(test: &str, env: (&str, &str), tag: &str) -> (std::process::Child, String) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(env.0, env.1)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let tag = tag.to_string();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(at) = line.find(&tag) {
                let _ = tx.send(line[at + tag.len()..].trim().to_string());
            }
        }
    });
    let got = rx.recv_timeout(Duration::from_secs(30)).expect("helper reported");
    (child, got)
}

/// Not a test on its own: the process `ctrl_c_tears_the_lab_down_through_drop` interrupts.
#[test]
#[allow(clippy::zombie_processes)] // killed with its lab, by design
fn ctrl_c_helper() {
    if std::env::var_os("BOOTCHECK_CTRL_C_HELPER").is_none() {
        return;
    }
    install_signal_cleanup().unwrap();
    let lab = Lab::up(&LabSpec::new(site(), Topology::Direct)).unwrap();
    let _sleeper = lab.exec(Role::Server, &["sleep", "300"], &[]).unwrap();
    let mut port = RawPort::open(&lab, Role::Client).unwrap();
    println!("LAB-ID {}", lab.id());
    // A driver blocked in recv: it must come back with Interrupted, not hang or die.
    let r = port.recv(Instant::now() + Duration::from_secs(30));
    assert!(matches!(r, Err(LabError::Interrupted)), "{r:?}");
    assert!(interrupted());
    drop(port);
    drop(lab);
}

#[test]
fn ctrl_c_tears_the_lab_down_through_drop() {
    if !lab_allowed("ctrl_c_tears_the_lab_down_through_drop") {
        return;
    }
    let (mut child, id) = spawn_helper("ctrl_c_helper", ("BOOTCHECK_CTRL_C_HELPER", "1"), "LAB-ID ");
    assert!(!traces_of(&id).is_empty());
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < until, "helper did not exit after SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "the helper unwound normally: {status}");
    eventually(&format!("no trace of lab {id}"), || traces_of(&id).is_empty());
}

/// Not a test on its own: `Lab::up` as user nobody.
#[test]
fn unprivileged_helper() {
    if std::env::var_os("BOOTCHECK_UNPRIV_HELPER").is_none() {
        return;
    }
    match Lab::up(&LabSpec::new(site(), Topology::Direct)) {
        Err(e @ LabError::NeedsPrivilege { .. }) => println!("NEEDS-PRIVILEGE {e}"),
        other => println!("NEEDS-PRIVILEGE unexpected: {other:?}"),
    }
}

#[test]
fn non_root_gets_a_needs_privilege_error_that_says_how() {
    if !lab_allowed("non_root_gets_a_needs_privilege_error_that_says_how") {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let runnable = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&exe)
        .arg("--list")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !runnable {
        eprintln!("skipping: cannot run the test binary as nobody (setpriv missing or binary not readable)");
        return;
    }
    let child = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&exe)
        .args(["--exact", "unprivileged_helper", "--nocapture", "--test-threads=1"])
        .env("BOOTCHECK_UNPRIV_HELPER", "1")
        .env("HOME", "/")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&child.stdout);
    let line = out.lines().find_map(|l| l.find("NEEDS-PRIVILEGE ").map(|at| &l[at + 16..])).unwrap_or("");
    assert!(line.contains("needs root") && line.contains("run as root"), "{out}");
}

#[test]
fn detached_lab_survives_reaping_until_down() {
    if !lab_allowed("detached_lab_survives_reaping_until_down") {
        return;
    }
    let names = Lab::up_detached(&LabSpec::new(site(), Topology::Relay)).unwrap();
    let shown = names.to_string();
    assert!(shown.contains(&names.server_ns) && shown.contains(&names.relay_client_if.clone().unwrap()), "{shown}");
    let report = Lab::reap_stale().unwrap();
    assert!(report.kept.contains(&names.id), "{report:?}");
    assert!(traces_of(&names.id).iter().any(|t| t.starts_with("netns")));
    bootcheck_lab::down(&names.id).unwrap();
    eventually(&format!("no trace of lab {}", names.id), || traces_of(&names.id).is_empty());
    assert!(matches!(bootcheck_lab::down("zzzzzz"), Err(LabError::Invalid(_))));
}
