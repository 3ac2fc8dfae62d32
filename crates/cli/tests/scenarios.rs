//! One test per scenario file: each runs in-process against the reference server (no
//! root needed), must pass (or deviate as recorded), and its normalised exchange is
//! an insta snapshot named after the scenario (`scenarios/snapshots/reference/`).

use std::path::PathBuf;

use bootcheck_lab::run::{file_stem, run_in_process};
use bootcheck_scenario::{load_scenario, load_site};
use rstest::rstest;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[rstest]
fn scenario(
    #[files("../../scenarios/**/*.yaml")]
    #[exclude("site\\.yaml$")]
    path: PathBuf,
) {
    let site = load_site(&root().join("scenarios/site.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let scn = load_scenario(&path, &site).unwrap_or_else(|e| panic!("{e}"));
    let run = run_in_process(&path, &scn, &site, &[], 1, None);
    assert!(
        run.outcome.is_ok(),
        "{}: {:?}\n{}",
        scn.id,
        run.outcome,
        run.result
            .as_ref()
            .map(|r| format!("{:#?}", r.steps.iter().map(|s| &s.verdict).collect::<Vec<_>>()))
            .unwrap_or_default()
    );
    // Relay-agent scenarios need the lab's relay topology (`tests/live_relays.rs`).
    if let bootcheck_scenario::verdict::Outcome::Skipped { why } = &run.outcome {
        assert_eq!(scn.topology, bootcheck_scenario::model::ScenarioTopology::Relay, "{}: skipped: {why}", scn.id);
        return;
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("scenarios/snapshots/reference"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_suffix(file_stem(&scn.id));
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!("scenario", run.snapshot));
}
