//! Every fault switch of the reference server is caught by at least one scenario.
//!
//! For each fault in `Fault::ALL_NAMES` (parameterised ones with the values of
//! `Fault::examples()`, which the suite triggers: `drop-every-nth=2` and
//! `crash-on-option=60`), the whole suite runs in-process against a reference server
//! with only that fault on; at least one scenario must come out not ok. The table of
//! fault → catching scenarios is printed (`cargo test --test fault_coverage -- --nocapture`).
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use bootcheck_lab::run::run_in_process;
use bootcheck_refserver::Fault;
use bootcheck_scenario::verdict::Outcome;
use bootcheck_scenario::{discover, load_scenario, load_site, Scenario, Site};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn suite() -> (Site, Vec<(PathBuf, Scenario)>) {
    let site = load_site(&root().join("scenarios/site.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let files: Vec<PathBuf> =
        discover(&[root().join("scenarios")]).into_iter().filter(|p| !p.ends_with("site.yaml")).collect();
    let scns = files
        .into_iter()
        .map(|f| {
            let s = load_scenario(&f, &site).unwrap_or_else(|e| panic!("{e}"));
            (f, s)
        })
        .collect::<Vec<_>>();
    assert!(scns.len() >= 20, "only {} scenarios found", scns.len());
    (site, scns)
}

/// The scenarios that do not come out ok with `faults`, with a short reason each.
fn not_ok(site: &Site, scns: &[(PathBuf, Scenario)], faults: &[Fault]) -> Vec<(String, String)> {
    scns.iter()
        .filter_map(|(p, s)| {
            let run = run_in_process(p, s, site, faults, 1, None);
            (!run.outcome.is_ok()).then(|| {
                let why = match &run.outcome {
                    Outcome::Fail { step } => {
                        let field = run
                            .result
                            .as_ref()
                            .and_then(|r| r.steps.get(step.saturating_sub(1)))
                            .map(|st| match &st.verdict {
                                bootcheck_scenario::engine::StepVerdict::Fail(ms) => {
                                    ms.iter().map(|m| m.field.clone()).collect::<Vec<_>>().join(", ")
                                }
                                other => format!("{other:?}"),
                            })
                            .unwrap_or_default();
                        format!("step {step}: {field}")
                    }
                    other => format!("{other:?}"),
                };
                (s.id.clone(), why)
            })
        })
        .collect()
}

#[test]
fn every_fault_example_is_one_of_all_names() {
    let ex = Fault::examples();
    assert_eq!(ex.len(), Fault::ALL_NAMES.len(), "Fault::examples() and Fault::ALL_NAMES differ in length");
    for (f, name) in ex.iter().zip(Fault::ALL_NAMES) {
        assert_eq!(Some(f.name()), name.split('=').next(), "{f} is listed as {name}");
    }
}

#[test]
fn every_fault_is_caught_by_some_scenario() {
    let (site, scns) = suite();
    // The baseline: without faults, everything passes; so whatever fails below fails
    // because of the fault.
    let base = not_ok(&site, &scns, &[]);
    assert!(base.is_empty(), "scenarios fail against the unfaulted reference server: {base:#?}");

    let faults = Fault::examples();
    // Two workers (the suite's TFTP rollover scenario moves 65538 blocks per run).
    let results: BTreeMap<usize, Vec<(String, String)>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|w| {
                let (site, scns, faults) = (&site, &scns, &faults);
                s.spawn(move || {
                    faults
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| i % 2 == w)
                        .map(|(i, f)| (i, not_ok(site, scns, &[*f])))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });

    let mut table = String::from("fault → scenarios that catch it\n");
    let mut uncaught = Vec::new();
    for (i, f) in faults.iter().enumerate() {
        let caught = results.get(&i).cloned().unwrap_or_default();
        table.push_str(&format!("{f}  ({})\n", f.description()));
        if caught.is_empty() {
            table.push_str("    NOT CAUGHT\n");
            uncaught.push(f.to_string());
        }
        for (id, why) in &caught {
            table.push_str(&format!("    {id}  [{why}]\n"));
        }
    }
    println!("{table}");
    assert!(uncaught.is_empty(), "faults no scenario catches: {}\n\n{table}", uncaught.join(", "));
}
