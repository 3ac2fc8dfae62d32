//! Running scenarios at once on one lab: which may overlap, in what order they start,
//! and which execution a received frame goes to.
//!
//! A scenario's footprint is what it occupies on a lab shared with other scenarios, read
//! from its data: the client MACs and addresses it plays, the xids and TFTP ports it
//! uses (from the seed, as the engine derives them), and whether it must run alone (a
//! flood, a step that may crash or wedge the server, the relay topology). Two
//! scenarios whose footprints [clash](Footprint::clashes) never overlap; the lab driver
//! (`bootcheck-lab::run`) schedules by this.
//!
//! Why these: a server keeps state per client (leases, offers, ARP entries for its
//! address), and the engine takes a BOOTREPLY with its chaddr as an answer even when
//! the xid is wrong — so two scenarios playing one client at once could take each
//! other's replies and disturb each other's exchanges. Distinct xids and TFTP ports
//! keep the other replies apart ([`crate::engine::Execution::claim`]).

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::engine::{base_scope, default_tftp_port, default_xid, frame_xid, Claim};
use crate::model::{ClientRef, Expect, Octets, Role, Scenario, ScenarioTopology, Send};
use crate::site::{Mac, Site};
use crate::template::Template;

/// A step that sends this many copies of a request at once floods the server: the
/// scenario runs alone.
pub const FLOOD: u32 = 10;

/// Something a running scenario holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// A client hardware address (chaddr octets, a frame's source MAC, a RARP target).
    /// Octets that are a prefix of others clash with them: the engine matches a reply's
    /// chaddr by prefix.
    Mac(Vec<u8>),
    /// A client IPv4 address (the client's, a ciaddr, a source address, the relay
    /// address the harness plays): the server ARPs for it and sends to it.
    Ip(Ipv4Addr),
    /// A BOOTP transaction id.
    Xid(u32),
    /// A harness-side TFTP port.
    Port(u16),
}

impl Resource {
    pub fn clashes(&self, other: &Resource) -> bool {
        match (self, other) {
            (Resource::Mac(a), Resource::Mac(b)) => a.starts_with(b) || b.starts_with(a),
            (a, b) => a == b,
        }
    }
}

/// A scenario's footprint (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footprint {
    pub resources: Vec<Resource>,
    /// Why the scenario must run with no other, if it must.
    pub alone: Option<String>,
    /// A rough idea of how long it takes (its silence windows, transfers), to start
    /// long scenarios first; never a limit.
    pub estimate: Duration,
}

impl Footprint {
    /// Whether the two may not run at the same time.
    pub fn clashes(&self, other: &Footprint) -> bool {
        self.alone.is_some()
            || other.alone.is_some()
            || self.resources.iter().any(|a| other.resources.iter().any(|b| a.clashes(b)))
    }

    fn hold(&mut self, r: Resource) {
        if !self.resources.contains(&r) {
            self.resources.push(r);
        }
    }

    fn alone(&mut self, why: String) {
        self.alone.get_or_insert(why);
    }
}

/// The footprint of `scn` in a run with `seed` on `site`.
pub fn footprint(scn: &Scenario, site: &Site, seed: u64) -> Footprint {
    let mut fp = Footprint { resources: Vec::new(), alone: None, estimate: Duration::ZERO };
    if scn.topology == ScenarioTopology::Relay {
        fp.alone("a relay-topology scenario".into());
    }
    let scope = match base_scope(site, scn.client.as_ref()) {
        Ok(s) => s,
        Err(e) => {
            fp.alone(e);
            json_null()
        }
    };
    match &scn.client {
        Some(ClientRef::Known(n)) => {
            if let Some(c) = site.client(n) {
                fp.hold(Resource::Mac(c.mac.0.to_vec()));
                fp.hold(Resource::Ip(c.ip));
            }
        }
        Some(ClientRef::Unknown(u)) => {
            fp.hold(Resource::Mac(u.mac.0.to_vec()));
            if let Some(ip) = u.ip {
                fp.hold(Resource::Ip(ip));
            }
        }
        None => {}
    }
    // A value the footprint depends on that only a run can tell (a captured variable):
    // the scenario runs alone rather than guess.
    let render = |t: &Template| t.render(&scope).ok();
    for (i, step) in scn.steps.iter().enumerate() {
        let n = i + 1;
        if step.repeat >= FLOOD {
            fp.alone(format!("step {n} sends {} copies at once (a flood)", step.repeat));
        }
        match &step.expect {
            Expect::Any { any } => {
                fp.alone(format!("step {n} accepts any answer (`any`): the request may crash or wedge the server"));
                fp.estimate += any.0;
            }
            Expect::NoReply { no_reply } => fp.estimate += no_reply.0,
            Expect::Reply { reply } if reply.count.is_some() => {
                fp.estimate += reply.within.map_or(Duration::from_secs(2), |d| d.0);
            }
            Expect::Reply { .. } => fp.estimate += Duration::from_millis(20),
            Expect::Transfer { .. } => {}
        }
        match &step.send {
            Some(Send::Bootp(b)) => {
                fp.hold(Resource::Xid(b.xid.unwrap_or_else(|| default_xid(seed, i, &scn.id))));
                match &b.chaddr {
                    Some(Octets::Hex(h)) => fp.hold(Resource::Mac(h.hex.0.clone())),
                    Some(Octets::Text(t)) => match render(t).and_then(|s| s.trim().parse::<Mac>().ok()) {
                        Some(m) => fp.hold(Resource::Mac(m.0.to_vec())),
                        None => fp.alone(format!("step {n}: chaddr `{t}` is known only when it runs")),
                    },
                    None => {}
                }
                if let Some(t) = &b.from.mac {
                    match render(t).and_then(|s| s.trim().parse::<Mac>().ok()) {
                        Some(m) => fp.hold(Resource::Mac(m.0.to_vec())),
                        None => fp.alone(format!("step {n}: from.mac `{t}` is known only when it runs")),
                    }
                }
                for (what, t) in [("ciaddr", &b.ciaddr), ("from.ip", &b.from.ip)] {
                    let Some(t) = t else { continue };
                    match render(t).and_then(|s| s.trim().parse::<Ipv4Addr>().ok()) {
                        Some(ip) if ip.is_unspecified() || ip.is_broadcast() => {}
                        Some(ip) => fp.hold(Resource::Ip(ip)),
                        None => fp.alone(format!("step {n}: {what} `{t}` is known only when it runs")),
                    }
                }
                if b.role == Role::Relay {
                    fp.hold(Resource::Ip(site.relay.ip));
                    fp.hold(Resource::Ip(site.relay.uplink));
                }
            }
            Some(Send::TftpRead(t)) => {
                let port = t.port.unwrap_or_else(|| default_tftp_port(seed, &scn.id));
                fp.hold(Resource::Port(port));
                // The wrong-TID probe's port (the engine's `stranger_port`).
                fp.hold(Resource::Port(if port == u16::MAX { 1024 } else { port + 1 }));
                fp.estimate += transfer_estimate(site, &render, t);
            }
            Some(Send::Rarp(r)) => {
                if let Some(t) = &r.target {
                    match render(t).and_then(|s| s.trim().parse::<Mac>().ok()) {
                        Some(m) => fp.hold(Resource::Mac(m.0.to_vec())),
                        None => fp.alone(format!("step {n}: RARP target `{t}` is known only when it runs")),
                    }
                }
            }
            // A whole frame (a fuzz reproducer): what it holds is not read from it.
            Some(Send::Raw(_)) => fp.alone(format!("step {n} sends a raw frame (a fuzz reproducer)")),
            None => {}
        }
    }
    fp
}

fn json_null() -> serde_json::Value {
    serde_json::Value::Null
}

/// About how long a TFTP read takes: its blocks in lock step, and a server timeout
/// for each ACK the client withholds or probe it sends.
fn transfer_estimate(
    site: &Site,
    render: &dyn Fn(&Template) -> Option<String>,
    t: &crate::model::TftpRead,
) -> Duration {
    let size = render(&t.file).and_then(|f| site.file_for_path(&f).map(|(_, f)| f.size)).unwrap_or(0);
    let opt =
        |name: &str| t.options.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.parse().ok());
    let blksize: u64 = opt("blksize").filter(|b| *b > 0).unwrap_or(512);
    let window: u64 = opt("windowsize").filter(|w| *w > 0).unwrap_or(1);
    let rounds = (size / blksize + 1).div_ceil(window);
    let mut d = Duration::from_millis(20) + Duration::from_micros(70) * u32::try_from(rounds).unwrap_or(u32::MAX);
    if t.drop_ack.is_some() {
        d += Duration::from_secs(2);
    }
    if t.wrong_tid.is_some() {
        d += Duration::from_secs(1);
    }
    d
}

/// The order to start scenarios in (`todo`: indices into `fps`): those that must run
/// alone first (one by one, before anything else), then by the load of the busiest
/// client they play (the scenarios of one client run back to back while others fill
/// the gaps), then longest first, then as listed. Deterministic.
pub fn schedule(todo: &[usize], fps: &[Footprint]) -> Vec<usize> {
    let load = |i: usize| -> Duration {
        fps[i]
            .resources
            .iter()
            .filter(|r| matches!(r, Resource::Mac(_) | Resource::Ip(_)))
            .map(|r| {
                todo.iter()
                    .filter(|&&j| fps[j].resources.iter().any(|s| s.clashes(r)))
                    .map(|&j| fps[j].estimate)
                    .sum::<Duration>()
            })
            .max()
            .unwrap_or(Duration::ZERO)
    };
    let mut keyed: Vec<(bool, Duration, Duration, usize)> =
        todo.iter().map(|&i| (fps[i].alone.is_none(), load(i), fps[i].estimate, i)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2)).then(a.3.cmp(&b.3)));
    keyed.into_iter().map(|k| k.3).collect()
}

/// Which of the running executions get `frame`, given each one's
/// [claim](crate::engine::Execution::claim) on it (same order): every one with the
/// strongest claim; for an ARP request only every execution answers for, just the
/// first; none for a chaddr-only claim when the frame's xid is that of a scenario that
/// already ended (`retired`: a late answer to it). Empty: nobody's frame.
pub fn route(claims: &[Claim], frame: &[u8], retired: impl Fn(u32) -> bool) -> Vec<usize> {
    let best = claims.iter().copied().max().unwrap_or(Claim::None);
    match best {
        Claim::None => Vec::new(),
        Claim::Chaddr if frame_xid(frame).is_some_and(retired) => Vec::new(),
        Claim::Shared => claims.iter().position(|c| *c == Claim::Shared).into_iter().collect(),
        c => (0..claims.len()).filter(|&k| claims[k] == c).collect(),
    }
}
