//! The `raw` send step (`bootcheck fuzz` reproducers): the frame goes out exactly as
//! written, only with `expect: { any: … }`, and never to an address outside RFC 5737.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use bootcheck_scenario::engine::{run_virtual, Dir, Env, Execution, Responder, StepVerdict};
use bootcheck_scenario::{load_site, Mac, Scenario};

struct Silent;
impl Responder for Silent {
    fn on_frame(&mut self, _now: Duration, _frame: &[u8]) -> Vec<Vec<u8>> {
        Vec::new()
    }
}

fn run(yaml: &str) -> (Vec<StepVerdict>, Vec<Vec<u8>>) {
    let site = load_site(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/site.yaml")).unwrap();
    let scn: Scenario = serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("{e}"));
    let env = Env { site, seed: 1, harness_mac: Mac([2, 0, 0, 0, 0xbc, 1]), gateway_mac: None };
    let r = run_virtual(Execution::new(scn, env).unwrap(), &mut Silent);
    let sent = r.trace.iter().filter(|t| t.dir == Dir::Out).map(|t| t.frame.clone()).collect();
    (r.steps.into_iter().map(|s| s.verdict).collect(), sent)
}

/// A UDP frame to `dst` (Ethernet broadcast, 0.0.0.0:68 → dst:67, checksums left 0).
fn frame_to(dst: [u8; 4]) -> String {
    let mut f = vec![0xff; 6];
    f.extend([2, 0, 0, 0, 0xbe, 1, 0x08, 0x00]);
    f.extend([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 0, 0, 0, 0]);
    f.extend(dst);
    f.extend([0, 68, 0, 67, 0, 8, 0, 0]);
    f.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

#[test]
fn a_raw_frame_is_sent_as_written() {
    let hex = frame_to([255, 255, 255, 255]);
    let (v, sent) = run(&format!(
        "id: t\ntitle: t\nsteps:\n  - send: {{ raw: {{ hex: \"{hex}\" }} }}\n    repeat: 2\n    expect: {{ any: 10ms }}\n"
    ));
    assert_eq!(v, vec![StepVerdict::Pass]);
    let want = bootcheck_scenario::model::parse_hex(&hex).unwrap();
    assert_eq!(sent, vec![want.clone(), want]);
}

#[test]
fn a_raw_frame_outside_rfc5737_is_refused() {
    let (v, sent) = run(&format!(
        "id: t\ntitle: t\nsteps:\n  - send: {{ raw: {{ hex: \"{}\" }} }}\n    expect: {{ any: 10ms }}\n",
        frame_to([10, 0, 0, 1])
    ));
    assert!(sent.is_empty());
    assert!(matches!(&v[..], [StepVerdict::Error(e)] if e.contains("RFC 5737")), "{v:?}");
}

#[test]
fn a_raw_frame_step_expects_any() {
    let (v, sent) = run(&format!(
        "id: t\ntitle: t\nsteps:\n  - send: {{ raw: {{ hex: \"{}\" }} }}\n    expect: {{ no-reply: 10ms }}\n",
        frame_to([192, 0, 2, 1])
    ));
    assert!(sent.is_empty());
    assert!(matches!(&v[..], [StepVerdict::Error(e)] if e.contains("any")), "{v:?}");
    let short = run("id: t\ntitle: t\nsteps:\n  - send: { raw: { hex: \"ff ff\" } }\n    expect: { any: 10ms }\n").0;
    assert!(matches!(&short[..], [StepVerdict::Error(e)] if e.contains("Ethernet header")), "{short:?}");
}

#[test]
fn raw_takes_no_company() {
    let e = serde_yaml::from_str::<Scenario>(
        "id: t\ntitle: t\nsteps:\n  - send: { raw: { hex: \"ff\" }, rarp: {} }\n    expect: { any: 10ms }\n",
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert!(e.contains("exactly one of"), "{e}");
}
