//! A lab whose owner was killed with SIGKILL (no Drop, no cleanup) is found and removed
//! by the next run. Alone in its own test binary so no concurrent `Lab::up` in the same
//! process reaps the lab before the test looks at it.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bootcheck_lab::{Lab, Role, Topology};
use common::{eventually, lab, lab_allowed, traces_of};

/// Not a test on its own: the child process of
/// `lab_whose_owner_was_killed_is_reaped_by_the_next_run`.
#[test]
#[allow(clippy::zombie_processes)] // killed with its lab, by design
fn lab_hold_helper() {
    if std::env::var_os("BOOTCHECK_LAB_HOLD").is_none() {
        return;
    }
    let lab = lab(Topology::Relay);
    let sleeper = lab.exec(Role::Server, &["sleep", "120"], &[]).unwrap();
    println!("LAB-ID {} {}", lab.id(), sleeper.id());
    std::thread::sleep(Duration::from_secs(60)); // killed long before
}

#[test]
fn lab_whose_owner_was_killed_is_reaped_by_the_next_run() {
    if !lab_allowed("lab_whose_owner_was_killed_is_reaped_by_the_next_run") {
        return;
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "lab_hold_helper", "--nocapture", "--test-threads=1"])
        .env("BOOTCHECK_LAB_HOLD", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // libtest prints `test lab_hold_helper ... ` before it on the same line.
            if let Some(at) = line.find("LAB-ID ") {
                let _ = tx.send(line[at + 7..].trim().to_string());
                return;
            }
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(30)).expect("helper reported its lab");
    let (id, sleeper) = line.split_once(' ').unwrap();
    let sleeper: i32 = sleeper.parse().unwrap();
    assert!(!traces_of(id).is_empty(), "the helper's lab exists");
    assert!(Path::new(&format!("/proc/{sleeper}")).exists());

    child.kill().unwrap(); // SIGKILL by PID: no Drop, no cleanup
    child.wait().unwrap();
    assert!(!traces_of(id).is_empty(), "SIGKILL left the lab behind (that is the point)");

    let report = Lab::reap_stale().unwrap();
    assert!(report.removed.iter().any(|r| r == id), "{report:?}");
    eventually(&format!("no trace of lab {id}"), || traces_of(id).is_empty());
    let until = Instant::now() + Duration::from_secs(5);
    while Path::new(&format!("/proc/{sleeper}/stat")).exists()
        && !std::fs::read_to_string(format!("/proc/{sleeper}/stat")).unwrap_or_default().contains(") Z ")
    {
        assert!(Instant::now() < until, "the process in the stale lab ({sleeper}) still runs");
        std::thread::sleep(Duration::from_millis(20));
    }
}
