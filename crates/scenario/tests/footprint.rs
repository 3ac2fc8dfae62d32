//! Which scenarios may run at once on one lab, read from their data
//! (`footprint::footprint`), and the order they start in (`footprint::schedule`).
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use bootcheck_scenario::footprint::{self, Footprint, Resource};
use bootcheck_scenario::{discover, load_scenario, load_site, Scenario, Site};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn site() -> Site {
    load_site(&root().join("scenarios/site.yaml")).unwrap_or_else(|e| panic!("{e}"))
}

fn fp(yaml: &str) -> Footprint {
    let scn: Scenario = serde_yaml::from_str(yaml).unwrap();
    footprint::footprint(&scn, &site(), 1)
}

fn scn(id: &str, client: &str, steps: &str) -> String {
    format!("id: {id}\ntitle: t\nclient: {client}\nsteps:\n{steps}")
}

const BOOTP: &str = "  - send: { bootp: {} }\n    expect: { reply: {} }\n";
const SILENCE: &str = "  - send: { bootp: { sname: other } }\n    expect: { no-reply: 3s }\n";

#[test]
fn one_client_one_scenario_at_a_time() {
    let a = fp(&scn("t/a", "ws1", BOOTP));
    let b = fp(&scn("t/b", "ws1", SILENCE));
    let c = fp(&scn("t/c", "ws2", SILENCE));
    assert!(a.clashes(&b), "two scenarios playing ws1");
    assert!(!a.clashes(&c) && !b.clashes(&c), "ws1 and ws2 with their own xids");
    assert!(a.alone.is_none());
    assert_eq!(b.estimate, std::time::Duration::from_secs(3));
    // The client's MAC and address, and the xid the engine will use.
    let ws1 = site().client("ws1").unwrap().clone();
    assert!(a.resources.contains(&Resource::Mac(ws1.mac.0.to_vec())));
    assert!(a.resources.contains(&Resource::Ip(ws1.ip)));
    let xid = bootcheck_scenario::engine::default_xid(1, 0, "t/a");
    assert!(a.resources.contains(&Resource::Xid(xid)));
}

#[test]
fn chaddr_ciaddr_and_sources_count_as_clients() {
    let site = site();
    let ws2 = site.client("ws2").unwrap().clone();
    // A request of an unknown client naming ws2's address, or ws2's MAC as chaddr.
    let by_ip = fp(&scn(
        "t/ip",
        "{ mac: \"02:00:00:00:be:99\" }",
        "  - send: { bootp: { ciaddr: $site.clients.ws2.ip } }\n    expect: { no-reply: 1s }\n",
    ));
    assert!(by_ip.resources.contains(&Resource::Ip(ws2.ip)));
    let by_mac = fp(&scn(
        "t/mac",
        "{ mac: \"02:00:00:00:be:99\" }",
        "  - send: { bootp: { chaddr: $site.clients.ws2.mac } }\n    expect: { no-reply: 1s }\n",
    ));
    let ws2_scn = fp(&scn("t/ws2", "ws2", BOOTP));
    assert!(by_ip.clashes(&ws2_scn) && by_mac.clashes(&ws2_scn));
    // A short chaddr is a prefix of every MAC that starts with it (the engine matches
    // replies by prefix).
    let short = fp(&scn(
        "t/short",
        "{ mac: \"02:00:00:00:be:99\" }",
        "  - send: { bootp: { hlen: 2, chaddr: { hex: \"02 00\" } } }\n    expect: { no-reply: 1s }\n",
    ));
    assert!(short.clashes(&ws2_scn));
    // The harness as relay agent holds the relay addresses.
    let relay = fp(&scn(
        "t/relay",
        "{ mac: \"02:00:00:00:be:98\" }",
        "  - send: { bootp: { as: relay } }\n    expect: { reply: {} }\n",
    ));
    assert!(relay.resources.contains(&Resource::Ip(site.relay.ip)));
    // Explicit xids and TFTP ports are held as given.
    let x = fp(&scn(
        "t/x1",
        "{ mac: \"02:00:00:00:be:97\" }",
        "  - send: { bootp: { xid: 7 } }\n    expect: { reply: {} }\n",
    ));
    let y = fp(&scn(
        "t/x2",
        "{ mac: \"02:00:00:00:be:96\" }",
        "  - send: { bootp: { xid: 7 } }\n    expect: { reply: {} }\n",
    ));
    assert!(x.clashes(&y), "one xid, two scenarios");
    let t = fp(&scn(
        "t/t",
        "ws1",
        "  - send: { tftp-read: { file: /tftpboot/pxelinux.0, port: 45001 } }\n    expect: { transfer: {} }\n",
    ));
    assert!(t.resources.contains(&Resource::Port(45001)) && t.resources.contains(&Resource::Port(45002)));
    let _ = Ipv4Addr::UNSPECIFIED;
}

#[test]
fn floods_and_hostile_requests_run_alone() {
    let flood = fp(&scn("t/flood", "ws1", "  - send: { bootp: {} }\n    repeat: 20\n    expect: { any: 1s }\n"));
    assert!(flood.alone.as_deref().is_some_and(|w| w.contains("20 copies")), "{:?}", flood.alone);
    let any = fp(&scn("t/any", "ws1", "  - send: { bootp: { truncate: 100 } }\n    expect: { any: 1s }\n"));
    assert!(any.alone.as_deref().is_some_and(|w| w.contains("crash")), "{:?}", any.alone);
    let other = fp(&scn("t/other", "{ mac: \"02:00:00:00:be:99\" }", BOOTP));
    assert!(any.clashes(&other) && other.clashes(&any), "alone clashes with everything");
    // A chaddr known only once an earlier step ran: alone rather than a guess.
    let captured = fp(&scn(
        "t/cap",
        "ws1",
        "  - send: { bootp: {} }\n    expect: { reply: {} }\n    capture: { m: reply.chaddr }\n  - send: { bootp: { chaddr: $m } }\n    expect: { reply: {} }\n",
    ));
    assert!(captured.alone.is_some());
}

#[test]
fn schedule_starts_lone_scenarios_first_then_the_busiest_client() {
    let fps = vec![
        fp(&scn("t/ws2", "ws2", SILENCE)),
        fp(&scn("t/ws1a", "ws1", SILENCE)),
        fp(&scn("t/any", "ws3", "  - send: { bootp: {} }\n    expect: { any: 1s }\n")),
        fp(&scn("t/ws1b", "ws1", BOOTP)),
    ];
    // ws1 carries 3 s + 20 ms, ws2 3 s: ws1's scenarios come first, longest first.
    assert_eq!(footprint::schedule(&[0, 1, 2, 3], &fps), vec![2, 1, 3, 0]);
}

/// Over the suite: the footprints derive from every scenario file, and the xids and
/// TFTP ports the seed gives scenarios are distinct (a collision would only make two
/// scenarios wait for each other, but it should not happen by chance).
#[test]
fn the_suite_has_distinct_xids_and_ports() {
    let site = site();
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    let mut clashes = Vec::new();
    for f in discover(&[root().join("scenarios")]) {
        if f.ends_with("site.yaml") {
            continue;
        }
        let s = load_scenario(&f, &site).unwrap_or_else(|e| panic!("{e}"));
        let fp = footprint::footprint(&s, &site, 1);
        for r in &fp.resources {
            let key = match r {
                Resource::Xid(x) => format!("xid {x:#010x}"),
                Resource::Port(p) if s.steps.iter().all(|st| !st_port_given(st)) => format!("port {p}"),
                _ => continue,
            };
            if let Some(other) = owner.insert(key.clone(), s.id.clone()) {
                if other != s.id {
                    clashes.push(format!("{key}: {other} and {}", s.id));
                }
            }
        }
    }
    assert!(clashes.is_empty(), "{clashes:#?}");
}

fn st_port_given(step: &bootcheck_scenario::model::Step) -> bool {
    matches!(&step.send, Some(bootcheck_scenario::model::Send::TftpRead(t)) if t.port.is_some())
}
