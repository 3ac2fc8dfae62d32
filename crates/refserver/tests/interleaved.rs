//! The suite run at once on one reference server, in virtual time, the way the lab runs
//! it with `--jobs N` (`bootcheck-lab::run`): starts ordered and held back by the
//! scenarios' footprints, every frame from the server routed by the executions' claims.
//! Each scenario must then see exactly what it sees alone: the same frames in its
//! trace, byte for byte and in order, the same step verdicts and the same snapshot.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::time::Duration;

use bootcheck_refserver::Server;
use bootcheck_scenario::engine::{run_virtual, Env, Execution, ExecutionResult, VIRTUAL_LATENCY};
use bootcheck_scenario::footprint::{self, Resource};
use bootcheck_scenario::model::ScenarioTopology;
use bootcheck_scenario::{discover, load_scenario, snapshot, Mac, Scenario};

fn env() -> Env {
    Env { site: common::site(), seed: 1, harness_mac: Mac([0x02, 0, 0, 0, 0x77, 0x01]), gateway_mac: None }
}

fn suite() -> Vec<Scenario> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios"));
    let site = common::site();
    discover(&[dir])
        .iter()
        .filter(|f| !f.ends_with("site.yaml"))
        .map(|f| load_scenario(f, &site).unwrap_or_else(|e| panic!("{e}")))
        .filter(|s| s.topology == ScenarioTopology::Direct)
        .collect()
}

/// Run `scns` at once (up to `jobs`) against one server; each one's result, in order.
fn at_once(scns: &[Scenario], jobs: usize) -> Vec<ExecutionResult> {
    let site = common::site();
    let mut server = Server::new(site.clone(), Vec::new());
    let fps: Vec<_> = scns.iter().map(|s| footprint::footprint(s, &site, 1)).collect();
    let todo: Vec<usize> = (0..scns.len()).collect();
    let mut pending = footprint::schedule(&todo, &fps);
    let mut live: Vec<(usize, Execution, Duration)> = Vec::new();
    let mut done: Vec<Option<ExecutionResult>> = scns.iter().map(|_| None).collect();
    let mut retired: HashSet<u32> = HashSet::new();
    let mut inbound: VecDeque<(Duration, Vec<u8>)> = VecDeque::new();
    let mut now = Duration::ZERO;
    let mut most = 0;
    for _ in 0..10_000_000u32 {
        let mut k = 0;
        while k < pending.len() && live.len() < jobs {
            let i = pending[k];
            if live.iter().any(|(j, _, _)| fps[*j].clashes(&fps[i])) {
                if fps[i].alone.is_some() {
                    break;
                }
                k += 1;
                continue;
            }
            pending.remove(k);
            live.push((i, Execution::new(scns[i].clone(), env()).unwrap(), now));
            if fps[i].alone.is_some() {
                break;
            }
        }
        most = most.max(live.len());
        for (_, e, start) in &mut live {
            while let Some(f) = e.poll_transmit(now - *start) {
                for reply in server.handle_frame(now, &f) {
                    inbound.push_back((now + VIRTUAL_LATENCY, reply));
                }
            }
        }
        let mut k = 0;
        while k < live.len() {
            if live[k].1.is_finished() {
                let (i, e, _) = live.remove(k);
                retired.extend(fps[i].resources.iter().filter_map(|r| match r {
                    Resource::Xid(x) => Some(*x),
                    _ => None,
                }));
                done[i] = Some(e.finish());
            } else {
                k += 1;
            }
        }
        if live.is_empty() {
            if pending.is_empty() {
                break;
            }
            continue;
        }
        let next = live
            .iter()
            .filter_map(|(_, e, start)| e.poll_timeout().map(|t| *start + t))
            .chain(inbound.front().map(|(t, _)| *t))
            .chain(server.poll_timeout())
            .min()
            .unwrap();
        now = now.max(next);
        while inbound.front().is_some_and(|(t, _)| *t <= now) {
            let (_, f) = inbound.pop_front().unwrap();
            let claims: Vec<_> = live.iter().map(|(_, e, _)| e.claim(&f)).collect();
            for k in footprint::route(&claims, &f, |x| retired.contains(&x)) {
                let (_, e, start) = &mut live[k];
                e.handle_frame(now - *start, &f);
            }
        }
        if server.poll_timeout().is_some_and(|t| t <= now) {
            for reply in server.handle_timeout(now) {
                inbound.push_back((now + VIRTUAL_LATENCY, reply));
            }
        }
        for (_, e, start) in &mut live {
            if e.poll_timeout().is_some_and(|t| *start + t <= now) {
                e.handle_timeout(now - *start);
            }
        }
    }
    assert!(most > 1, "nothing ran at once");
    done.into_iter().map(|d| d.unwrap()).collect()
}

/// A frame with the server's TFTP transfer port (its TID, which a server that serves
/// others too picks differently: RFC 1350 §4) and the UDP checksum over it zeroed.
fn without_tid(frame: &[u8]) -> Vec<u8> {
    let mut f = frame.to_vec();
    if f.get(12..14) != Some(&[0x08, 0x00]) || f.get(23) != Some(&17) {
        return f;
    }
    let ihl = usize::from(f[14] & 0x0f) * 4;
    let (u, server) = (14 + ihl, common::SERVER_IP.octets());
    if f.len() < u + 8 {
        return f;
    }
    let port = |f: &[u8], at: usize| u16::from_be_bytes([f[at], f[at + 1]]);
    let mut zero = |at: usize| {
        f[at..at + 2].fill(0);
        f[u + 6..u + 8].fill(0);
    };
    if frame[26..30] == server && ![67, 68, 69].contains(&port(frame, u)) {
        zero(u);
    }
    if frame[30..34] == server && ![67, 68, 69].contains(&port(frame, u + 2)) {
        zero(u + 2);
    }
    f
}

#[test]
fn each_scenario_sees_what_it_sees_alone() {
    let scns = suite();
    let together = at_once(&scns, 16);
    let mut differ = Vec::new();
    for (s, t) in scns.iter().zip(&together) {
        let alone =
            run_virtual(Execution::new(s.clone(), env()).unwrap(), &mut Server::new(common::site(), Vec::new()));
        let frames = |r: &ExecutionResult| r.trace.iter().map(|t| (t.dir, without_tid(&t.frame))).collect::<Vec<_>>();
        let verdicts = |r: &ExecutionResult| r.steps.iter().map(|s| s.verdict.clone()).collect::<Vec<_>>();
        if frames(&alone) != frames(t) || verdicts(&alone) != verdicts(t) {
            differ.push(format!(
                "{}:\n--- alone\n{}--- at once\n{}",
                s.id,
                snapshot::render(&alone),
                snapshot::render(t)
            ));
        } else {
            assert_eq!(snapshot::render(&alone), snapshot::render(t), "{}", s.id);
        }
    }
    assert!(differ.is_empty(), "{} of {} scenarios differ:\n{}", differ.len(), scns.len(), differ.join("\n"));
}
