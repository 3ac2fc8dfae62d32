//! Real relay agents in the relay topology, through the built binary:
//! `bootcheck run --target reference --relay R --format json --out DIR` (the whole suite)
//! for ISC dhcrelay, dhcp-helper, CMU bootpgw and dnsmasq in relay mode.
//!
//! For each relay: exit status 0 (every rule failure and scenario deviation is the
//! recorded one); every relay-agent scenario (`topology: relay`) ran with the outcome its
//! file records for the relay, every direct scenario was skipped; the relay rules were
//! really checked (hops, giaddr, delivery: at least one pass each); the lab is gone
//! afterwards; and each relay-agent scenario's normalised decode matches its snapshot in
//! `scenarios/snapshots/<relay>/`.
//!
//! Needs root (or an unprivileged user namespace); without, each test says why and
//! passes. A relay whose binary is missing is skipped the same way, except under
//! `CI=true`, where it fails.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use bootcheck_lab::run::file_stem;
use bootcheck_lab::{privilege, Privilege, Target};
use bootcheck_scenario::model::{DeviationOutcome, ScenarioTopology};
use bootcheck_scenario::{discover, load_scenario, load_site};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn live_relay(relay: &str) {
    let root = root();
    if privilege() == Privilege::None {
        eprintln!("skipping relay `{relay}`: no network namespaces here (not root, no user namespaces)");
        return;
    }
    let target = Target::load_named(&root.join("targets"), relay).unwrap_or_else(|e| panic!("{e}"));
    if let Some(b) = target.profile.binary.as_deref() {
        if !Path::new(b).exists() {
            let why = format!("{b} is missing (ci/install-deps.sh installs it)");
            assert!(!in_ci(), "CI is set and relay `{relay}` cannot run: {why}");
            eprintln!("skipping relay `{relay}`: {why}");
            return;
        }
    }
    let site = load_site(&root.join("scenarios/site.yaml")).unwrap();
    let work = std::env::temp_dir().join(format!("bootcheck-live-relay-{relay}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&work);
    let out = work.join("out");
    fs::create_dir_all(&out).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_bootcheck"))
        .current_dir(&root)
        .args(["run", "--target", "reference", "--relay", relay, "--format", "json", "--out"])
        .arg(&out)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("report.json")).unwrap_or_default())
            .unwrap_or_else(|e| panic!("relay `{relay}`: no report ({e}); stderr:\n{stderr}"));
    assert_eq!(report["target"], format!("{relay}→reference"));

    // What each scenario file records for this relay.
    let site_path = root.join("scenarios/site.yaml");
    let mut expected = BTreeMap::new();
    for f in discover(&[root.join("scenarios")]) {
        if f.canonicalize().ok() == site_path.canonicalize().ok() {
            continue;
        }
        let s = load_scenario(&f, &site).unwrap_or_else(|e| panic!("{e}"));
        let want = if s.topology != ScenarioTopology::Relay {
            "skip"
        } else {
            match s
                .deviations
                .get(relay)
                .or_else(|| s.deviations.get("reference").filter(|d| d.outcome == DeviationOutcome::Skip))
            {
                Some(d) if d.outcome == DeviationOutcome::Skip => "skip",
                Some(_) => "deviation",
                None => "pass",
            }
        };
        expected.insert(s.id.clone(), want.to_string());
    }
    let mut problems = Vec::new();
    let mut relayed = Vec::new();
    for s in report["scenarios"].as_array().unwrap() {
        let id = s["id"].as_str().unwrap().to_string();
        let got = s["outcome"].as_str().unwrap().to_string();
        match expected.get(&id) {
            Some(w) if *w == got => {}
            Some(w) => problems.push(format!("{id}: recorded {w}, got {got} ({})", s["detail"].as_str().unwrap_or(""))),
            None => problems.push(format!("{id}: no such scenario file")),
        }
        if got != "skip" {
            relayed.push(id);
        }
    }
    assert!(problems.is_empty(), "relay `{relay}`:\n  {}\nstderr:\n{stderr}", problems.join("\n  "));
    assert!(o.status.success(), "relay `{relay}`: exit {}; stderr:\n{stderr}", o.status);
    assert!(relayed.len() >= 8, "relay `{relay}`: only {} relay-agent scenarios ran", relayed.len());

    // The relay rules saw the server link: each was checked at least once somewhere.
    let checked: Vec<String> = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["rules"].as_array().cloned().unwrap_or_default())
        .map(|r| r["rule"].as_str().unwrap().to_string())
        .collect();
    for rule in [
        "rfc1542/4.1.1/giaddr-filled",
        "rfc1542/4.1.1/request-intact",
        "rfc1542/4.1.2/reply-delivered",
        "rfc1542/4.1.2/reply-port",
    ] {
        assert!(checked.iter().any(|c| c == rule), "relay `{relay}`: {rule} was never checked");
    }

    // No lab left behind.
    let list =
        String::from_utf8_lossy(&Command::new("ip").args(["netns", "list"]).output().unwrap().stdout).into_owned();
    let pcap = fs::read_dir(out.join("pcap")).unwrap().flatten().next().map(|e| fs::read(e.path()).unwrap()).unwrap();
    let text = String::from_utf8_lossy(&pcap);
    if let Some(at) = text.find("-cli/") {
        let id = &text[text[..at].rfind("bc").unwrap() + 2..at];
        assert!(!list.lines().any(|l| l.starts_with(&format!("bc{id}-"))), "relay `{relay}`: lab left behind");
    }

    for id in &relayed {
        let decode = out.join("decode").join(format!("{}.txt", file_stem(id)));
        let text = fs::read_to_string(&decode).unwrap_or_else(|e| panic!("{}: {e}", decode.display()));
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(root.join("scenarios/snapshots").join(relay));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_snapshot_suffix(file_stem(id));
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!("scenario", text));
    }
    let _ = fs::remove_dir_all(&work);
}

#[test]
fn dhcrelay() {
    live_relay("dhcrelay");
}

#[test]
fn dhcp_helper() {
    live_relay("dhcp-helper");
}

#[test]
fn bootpgw() {
    live_relay("bootpgw");
}

#[test]
fn dnsmasq_relay() {
    live_relay("dnsmasq-relay");
}
