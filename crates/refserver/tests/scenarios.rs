//! The scenarios in `scenarios/` against the reference server, in virtual time through
//! the scenario engine: the reference server passes every one of them (but the
//! relay-agent ones, whose subject is a relay agent in the lab).
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::PathBuf;

use bootcheck_refserver::Server;
use bootcheck_scenario::engine::{run_virtual, Env, Execution, StepVerdict};
use bootcheck_scenario::{discover, load_scenario, Mac};

/// Run every scenario against a server with `faults`; the failures, described.
fn run_all(faults: &[&str]) -> (usize, Vec<String>) {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios"));
    let files = discover(&[dir]);
    assert!(!files.is_empty());
    let site = common::site();
    let mut failures = Vec::new();
    for f in &files {
        let scn = load_scenario(f, &site).unwrap_or_else(|e| panic!("{e}"));
        // Relay-agent scenarios need a relay between harness and server (the lab).
        if scn.topology == bootcheck_scenario::model::ScenarioTopology::Relay {
            continue;
        }
        let env = Env { site: site.clone(), seed: 1, harness_mac: Mac([0x02, 0, 0, 0, 0x77, 0x01]), gateway_mac: None };
        let exec = Execution::new(scn, env).unwrap();
        let mut server = Server::new(site.clone(), faults.iter().map(|f| f.parse().unwrap()).collect());
        let result = run_virtual(exec, &mut server);
        for st in &result.steps {
            if st.verdict != StepVerdict::Pass {
                let log: Vec<String> = server.log().iter().map(ToString::to_string).collect();
                failures.push(format!(
                    "{}: step {}: {:?}\n  log:\n    {}",
                    f.display(),
                    st.index + 1,
                    st.verdict,
                    log.join("\n    ")
                ));
                break;
            }
        }
    }
    (files.len(), failures)
}

#[test]
fn all_scenarios_pass() {
    let (n, failures) = run_all(&[]);
    assert!(failures.is_empty(), "{} of {n} scenarios failed:\n{}", failures.len(), failures.join("\n"));
}

/// And the scenarios can tell: a broken server fails some.
#[test]
fn faults_fail_scenarios() {
    for fault in
        ["wrong-xid", "ignore-broadcast-flag", "answer-foreign-sname", "dhcp-options-in-bootp-reply", "no-end-option"]
    {
        let (_, failures) = run_all(&[fault]);
        assert!(!failures.is_empty(), "{fault}: every scenario passed");
    }
}
