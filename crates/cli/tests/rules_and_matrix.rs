//! The rule catalogue as a user meets it, through the built binary:
//!
//! * `bootcheck rfc --json` lists every clause of RFC 951, 1542, 1534 and 2132 with its
//!   rules and scenarios; every rule of the catalogue enforces at least one listed
//!   clause; a scenario that `covers:` an unknown clause id is rejected (exit 2);
//! * reference-server fault switches make the rule about them fail in a run
//!   (`RULE FAIL`, exit 1, the rule and its evidence in report.json), and the unfaulted
//!   run passes every rule it checks;
//! * `bootcheck matrix` builds matrix.md/matrix.json from run out dirs, with the failing
//!   rule and its evidence in the faulted target's column.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("rules_and_matrix").join(format!("{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn bootcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bootcheck")).args(args).current_dir(root()).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn rfc_lists_every_clause_with_its_rules() {
    let o = bootcheck(&["rfc", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let specs = v["specs"].as_array().unwrap();
    // Specifications that are not RFCs (BSDP) have no number, only their id prefix.
    let rfcs: Vec<u64> = specs.iter().filter_map(|s| s["rfc"].as_u64()).collect();
    assert!(specs.iter().any(|s| s["spec"] == "bsdp" && s["rfc"].is_null()), "no BSDP clauses");
    // The BOOTP RFCs first; then one spec per clause file, each listed once.
    assert_eq!(rfcs[..4], [951, 1542, 1534, 2132]);
    let files = std::fs::read_dir(root().join("crates/rules/clauses"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "yaml"))
        .count();
    assert_eq!(specs.len(), files, "one spec per clause file");
    let distinct: std::collections::BTreeSet<u64> = rfcs.iter().copied().collect();
    assert_eq!(distinct.len(), rfcs.len(), "{rfcs:?}");
    let mut enforced = std::collections::BTreeSet::new();
    for s in specs {
        for c in s["clauses"].as_array().unwrap() {
            for r in c["rules"].as_array().unwrap() {
                enforced.insert(r.as_str().unwrap().to_string());
            }
        }
    }
    for r in bootcheck_rules::catalogue() {
        assert!(enforced.contains(r.id), "rule {} enforces no listed clause", r.id);
    }
    let must = &v["coverage"]["must"];
    assert!(must["total"].as_u64().unwrap() > 150, "{must}");
    assert!(must["covered"].as_u64().unwrap() <= must["total"].as_u64().unwrap());
}

#[test]
fn a_scenario_covering_an_unknown_clause_is_rejected() {
    let d = tmp("bad-covers");
    std::fs::write(
        d.join("x.yaml"),
        "id: x/bad-covers\ntitle: t\ncovers: [rfc951/7.3/no-such-clause]\nclient: ws1\nsteps:\n  - send: { bootp: {} }\n    expect: { reply: {} }\n",
    )
    .unwrap();
    let o = bootcheck(&["rfc", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("rfc951/7.3/no-such-clause"), "{}", text(&o));
}

fn rules_of(report: &Path) -> Vec<(String, String, String)> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    v["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["rules"].as_array().unwrap().iter().map(|r| {
                (
                    r["rule"].as_str().unwrap().to_string(),
                    r["verdict"].as_str().unwrap().to_string(),
                    r["evidence"].as_str().unwrap_or("").to_string(),
                )
            })
        })
        .collect()
}

#[test]
fn a_fault_breaks_its_rule_and_the_matrix_shows_it() {
    let d = tmp("fault");
    let good = d.join("good");
    let bad = d.join("bad");
    let scn = "scenarios/bootp/broadcast-flag.yaml";
    let o =
        bootcheck(&["run", "--in-process", scn, "scenarios/bootp/known-client.yaml", "--out", good.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let rules = rules_of(&good.join("report.json"));
    assert!(rules.iter().any(|(r, v, _)| r == "rfc1542/5.4/broadcast-flag" && v == "pass"), "{rules:?}");
    assert!(rules.iter().all(|(_, v, _)| v == "pass"), "{rules:?}");
    // no-cookie: the scenario's own expectations do not look at the cookie, the rule does.
    let o = bootcheck(&[
        "run",
        "--in-process",
        "--fault",
        "no-cookie",
        "scenarios/bootp/known-client.yaml",
        "--out",
        bad.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("RULE FAIL") || t.contains("FAIL"), "{t}");
    let rules = rules_of(&bad.join("report.json"));
    let hit = rules.iter().find(|(r, v, _)| r == "rfc2132/2/magic-cookie" && v == "fail");
    let (_, _, evidence) = hit.unwrap_or_else(|| panic!("magic-cookie did not fail: {rules:?}"));
    assert!(evidence.contains("packet 2") && evidence.contains("byte"), "{evidence}");
    // The matrix of both runs: the cookie rule passes in one column, fails in the other.
    let mx = d.join("mx");
    let o = bootcheck(&["matrix", good.to_str().unwrap(), bad.to_str().unwrap(), "--out", mx.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let md = std::fs::read_to_string(mx.join("matrix.md")).unwrap();
    let row = md.lines().find(|l| l.starts_with("| `rfc2132/2/magic-cookie`")).unwrap_or_else(|| panic!("{md}"));
    assert!(row.contains("pass (") && row.contains("**FAIL**"), "{row}");
    assert!(md.contains("### Evidence") && md.contains("rfc951/known-client"), "{md}");
    let js: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(mx.join("matrix.json")).unwrap()).unwrap();
    assert!(js["rules"].as_array().unwrap().len() >= bootcheck_rules::catalogue().len());
}
