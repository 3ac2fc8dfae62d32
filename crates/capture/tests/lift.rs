//! `lift` end to end: traffic recorded from the reference server is lifted into a
//! scenario; the scenario loads, runs against the reference server and passes; and the
//! offline check of its run gives the same verdicts as the check of the capture.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bootcheck_capture::writer::PcapWriter;
use bootcheck_capture::{render, ExchangeVerdict, Options, Output};
use bootcheck_refserver::synth::Traffic;
use bootcheck_refserver::Server;
use bootcheck_scenario::engine::{run_virtual, Env, Execution};
use bootcheck_scenario::{Mac, Site};
use bootcheck_wire::frame::LinkType;

fn site_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/site.yaml")
}

fn site() -> Site {
    bootcheck_scenario::load_site(&site_path()).expect("site")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bootcheck-lift-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    dir.join(name)
}

fn write_pcap(path: &Path, frames: impl IntoIterator<Item = (Duration, Vec<u8>)>) {
    let f = std::fs::File::create(path).expect("create");
    let mut w = PcapWriter::new(f, LinkType::Ethernet).expect("writer");
    for (t, fr) in frames {
        w.write(Duration::from_secs(1_800_000_000) + t, &fr).expect("write");
    }
    w.finish().expect("finish");
}

/// (kind, verdict, failing rules) of every exchange, sorted.
fn verdicts(path: &Path) -> Vec<(String, ExchangeVerdict, Vec<String>)> {
    let mut out = Vec::new();
    bootcheck_capture::check_file(path, Options::default(), &mut |o| {
        if let Output::Exchange(e) = o {
            out.push((e.kind.to_string(), e.verdict, e.failures.iter().map(|f| f.rule.to_string()).collect()));
        }
    })
    .expect("check");
    out.sort();
    out
}

#[test]
fn a_lifted_capture_replays_against_the_reference_server_with_the_same_verdicts() {
    let site = site();
    // Three cycles of the synthetic traffic: BOOTP, DHCP DORA, relayed BOOTP, TFTP.
    let capture = tmp("recorded.pcap");
    write_pcap(&capture, Traffic::new(site.clone()).take(81));
    let recorded = verdicts(&capture);
    assert!(recorded.iter().all(|(_, v, _)| *v == ExchangeVerdict::Pass), "{recorded:?}");
    let kinds: std::collections::BTreeSet<&str> = recorded.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(kinds, ["bootp", "dhcp", "tftp"].into_iter().collect());

    let lifted = bootcheck_capture::lift::lift_file(&capture, Some(&site), "lifted/synthetic").expect("lift");
    let yaml_path = tmp("lifted.yaml");
    std::fs::write(&yaml_path, &lifted.yaml).expect("write yaml");
    // Bound variables: the DHCPREQUEST takes the offer's address and server id, the
    // TFTP read names its server by the site template.
    assert!(lifted.yaml.contains("requested-ip: \"$yiaddr-"), "{}", lifted.yaml);
    assert!(lifted.yaml.contains("server-id: \"$server-id-"), "{}", lifted.yaml);
    assert!(lifted.yaml.contains("client: \"ws"), "{}", lifted.yaml);
    let scn = match bootcheck_scenario::load_scenario(&yaml_path, &site) {
        Ok(s) => s,
        Err(e) => panic!("the lifted scenario does not load: {e}\n{}", lifted.yaml),
    };
    assert_eq!(scn.steps.len(), lifted.steps);
    assert_eq!(lifted.steps, recorded.len(), "one step per exchange");

    let env = Env { site: site.clone(), seed: 1, harness_mac: Mac([0x02, 0, 0, 0, 0xaa, 0x01]), gateway_mac: None };
    let exec = Execution::new(scn, env).expect("execution");
    let mut server = Server::new(site.clone(), Vec::new());
    let result = run_virtual(exec, &mut server);
    for st in &result.steps {
        assert!(
            st.verdict == bootcheck_scenario::engine::StepVerdict::Pass,
            "step {} did not pass: {:?}\n{}",
            st.index + 1,
            st,
            lifted.yaml
        );
    }
    // The run's own frames, checked offline: the same verdicts as the recording.
    let replayed = tmp("replayed.pcap");
    write_pcap(&replayed, result.trace.iter().map(|t| (t.at, t.frame.clone())));
    assert_eq!(verdicts(&replayed), recorded);
}

#[test]
fn a_faulty_server_fails_the_lifted_scenario() {
    let site = site();
    let capture = tmp("recorded-2.pcap");
    write_pcap(&capture, Traffic::new(site.clone()).take(27));
    let lifted = bootcheck_capture::lift::lift_file(&capture, Some(&site), "lifted/faulty").expect("lift");
    let yaml_path = tmp("lifted-2.yaml");
    std::fs::write(&yaml_path, &lifted.yaml).expect("write yaml");
    let scn = bootcheck_scenario::load_scenario(&yaml_path, &site).expect("loads");
    let env = Env { site: site.clone(), seed: 1, harness_mac: Mac([0x02, 0, 0, 0, 0xaa, 0x01]), gateway_mac: None };
    let exec = Execution::new(scn, env).expect("execution");
    let faults = vec!["no-siaddr".parse().expect("fault")];
    let mut server = Server::new(site, faults);
    let result = run_virtual(exec, &mut server);
    assert!(!result.passed(), "a server answering with another siaddr must fail the lifted scenario");
    let _ = render::packets(&[1]);
}
