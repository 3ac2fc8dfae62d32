//! The sans-IO execution engine.
//!
//! An [`Execution`] runs one scenario as a state machine. It is fed frames and time by
//! a backend and never touches a socket or a clock (after quinn-proto):
//!
//! ```text
//! loop {
//!     while let Some(frame) = exec.poll_transmit(now) { wire.send(frame) }
//!     if exec.is_finished() { break }
//!     match wire.recv_until(exec.poll_timeout()) {
//!         Some((t, frame)) => exec.handle_frame(t, &frame),
//!         None => exec.handle_timeout(deadline),
//!     }
//! }
//! ```
//!
//! Time is a `Duration` since the execution began. The engine answers ARP for the
//! addresses it uses (the client's IP during TFTP, a BOOTREQUEST's ciaddr, the relay
//! addresses), plays a TFTP
//! client, and keeps every frame it sent or saw in a trace for pcaps and snapshots.

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::time::Duration;

use bootcheck_wire::arp;
use bootcheck_wire::bootp::{self, Packet as BootpPacket};
use bootcheck_wire::frame::{self, Frame, LinkType, Net, UdpEndpoints};
use bootcheck_wire::options as wopt;
use bootcheck_wire::tftp;
use serde_json::{json, Value as Json};

use crate::matcher::{Matcher, Val};
use crate::model::{
    BootpSend, BsdpExpect, BsdpRequest, ClientRef, Delivery, DeliveryName, Expect, Octets, RarpSend, ReplyExpect, Role,
    Scenario, Send, Step, TftpRead, TransferExpect, VendName, VendSpec,
};
use crate::site::{sha256_hex, Mac, Site};
use crate::template::{json_text, Scope, Template};

/// What the backend tells the engine about the run.
#[derive(Debug, Clone)]
pub struct Env {
    pub site: Site,
    /// Seed for xids and ports: the same seed gives the same frames.
    pub seed: u64,
    /// The MAC of the harness's own interface (used when playing a relay).
    pub harness_mac: Mac,
    /// The router to reach the server's subnet through, when the harness sits on
    /// another subnet (the relay topology: the relay agent's client-side MAC). Unicast
    /// IP to the server (TFTP) goes to this MAC instead of the server's.
    pub gateway_mac: Option<Mac>,
}

/// Direction of a traced frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Out,
    In,
}

/// A frame the engine sent or saw.
#[derive(Debug, Clone)]
pub struct Traced {
    pub at: Duration,
    pub dir: Dir,
    /// The step it belongs to (0-based), if any.
    pub step: Option<usize>,
    pub frame: Vec<u8>,
}

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// `reply.yiaddr`, `reply.options.host-name`, `transfer.sha256`…
    pub field: String,
    pub expected: String,
    pub actual: String,
}

/// The verdict on one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepVerdict {
    Pass,
    Fail(Vec<Mismatch>),
    /// The step could not be carried out (bad variable, unbuildable packet…).
    Error(String),
}

/// What happened in one step.
#[derive(Debug, Clone)]
pub struct StepResult {
    pub index: usize,
    pub name: String,
    pub verdict: StepVerdict,
    /// Frames sent and received in this step.
    pub sent: Vec<Vec<u8>>,
    pub received: Vec<Vec<u8>>,
    /// Time from the first send to the first reply, if any.
    pub first_reply_after: Option<Duration>,
    pub elapsed: Duration,
}

/// The result of a whole execution.
#[derive(Debug, Clone)]
pub struct ExecutionResult {
    pub steps: Vec<StepResult>,
    pub trace: Vec<Traced>,
}

impl ExecutionResult {
    pub fn passed(&self) -> bool {
        self.steps.iter().all(|s| s.verdict == StepVerdict::Pass)
    }
    /// The first step (1-based) that did not pass.
    pub fn first_failure(&self) -> Option<usize> {
        self.steps.iter().find(|s| s.verdict != StepVerdict::Pass).map(|s| s.index + 1)
    }
}

const DEFAULT_WITHIN: Duration = Duration::from_secs(2);
const TFTP_RETRY: Duration = Duration::from_secs(1);
const TFTP_RETRIES: u32 = 5;
const DEFAULT_TRANSFER: Duration = Duration::from_secs(10);

#[derive(Debug)]
enum State {
    Ready,
    Waiting(Box<Wait>),
    Done,
}

#[derive(Debug)]
struct Wait {
    started: Duration,
    deadline: Duration,
    kind: WaitKind,
    sent: Vec<Vec<u8>>,
    received: Vec<Vec<u8>>,
    first_reply: Option<Duration>,
}

#[derive(Debug)]
enum WaitKind {
    Bootp { xid: u32, chaddr: Vec<u8>, request: Vec<u8>, replies: Vec<Vec<u8>> },
    Rarp { target: [u8; 6], replies: Vec<Vec<u8>> },
    Tftp(Box<TftpClient>),
    Silence,
}

/// Runs one scenario.
#[derive(Debug)]
pub struct Execution {
    scenario: Scenario,
    env: Env,
    scope: Json,
    step: usize,
    state: State,
    outbox: VecDeque<Vec<u8>>,
    results: Vec<StepResult>,
    trace: Vec<Traced>,
    /// IPv4 addresses the harness answers ARP for, with the MAC to answer with. The
    /// first [`SHARED_ARP_CLAIMS`] (the relay addresses) every execution has.
    arp_claims: Vec<(Ipv4Addr, [u8; 6])>,
    /// What the requests sent so far make this execution's (see [`Execution::claim`]).
    owned: Owned,
}

/// The relay addresses at the head of `arp_claims`, answered by every execution.
const SHARED_ARP_CLAIMS: usize = 2;

/// What identifies the frames an execution's requests draw, recorded as each step
/// starts and kept to the end (a late reply to an earlier step is still its own).
#[derive(Debug, Default)]
struct Owned {
    /// xids of the BOOTREQUESTs sent.
    xids: Vec<u32>,
    /// chaddr octets of the BOOTREQUESTs sent (as many as the step gives).
    chaddrs: Vec<Vec<u8>>,
    /// MACs the RARP requests asked about.
    rarp_targets: Vec<[u8; 6]>,
    /// TFTP endpoints on the harness side: (client address, port), the wrong-TID
    /// probe's port included.
    tftp: Vec<(Ipv4Addr, u16)>,
    /// A request went out as the relay agent (the relay addresses are then its own).
    relay: bool,
}

/// Whether a frame that arrived on a port shared by several executions belongs to one
/// of them, and how surely ([`Execution::claim`]). Ordered: a stronger claim wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Claim {
    /// Not its frame.
    None,
    /// An ARP request for a relay address every execution answers for, from an
    /// execution that did not send as the relay: one of them should answer it.
    Shared,
    /// A BOOTP message with the chaddr of a request it sent but none of its xids (the
    /// engine takes such a reply as an answer; a server that mangles xids sends them).
    Chaddr,
    /// Its frame: the xid of a BOOTREQUEST it sent, its TFTP endpoint, a RARP reply
    /// about the MAC it asked for, an ARP request for an address it plays, or an ICMP
    /// error quoting a datagram it sent.
    Own,
}

/// Build the variable scope: `site` (with `netmask`, `broadcast`, `relay.netmask` and
/// each file's `sha256`), `client`.
pub fn base_scope(site: &Site, client: Option<&ClientRef>) -> Result<Json, String> {
    let mut s = serde_json::to_value(site).map_err(|e| e.to_string())?;
    if let Json::Object(o) = &mut s {
        o.insert("netmask".into(), json!(site.netmask().to_string()));
        o.insert("broadcast".into(), json!(site.broadcast().to_string()));
        if let Some(Json::Object(relay)) = o.get_mut("relay") {
            relay.insert("netmask".into(), json!(site.relay.subnet.netmask().to_string()));
        }
        // NetBoot: each image's 32-bit `id` (`0x01001001`) and `bootfile-path` (the
        // booter's full path), the image list as a BSDP
        // reply must carry it (`list`, the `images` matcher's form) and `default-id`.
        if let Some(Json::Object(nb)) = o.get_mut("netboot") {
            if let Some(Json::Object(images)) = nb.get_mut("images") {
                for (k, v) in images.iter_mut() {
                    if let (Json::Object(io), Some(img)) = (v, site.netboot.images.get(k)) {
                        io.insert("id".into(), json!(format!("{:#010x}", img.id())));
                        io.insert("bootfile-path".into(), json!(site.full_path(&img.bootfile)));
                    }
                }
            }
            let list: Vec<String> =
                site.netboot.images.values().map(|i| format!("{:#010x} {}", i.id(), i.name)).collect();
            nb.insert("list".into(), json!(list));
            if let Some((_, d)) = site.netboot.default_image() {
                nb.insert("default-id".into(), json!(format!("{:#010x}", d.id())));
            }
        }
        if let Some(Json::Object(files)) = o.get_mut("files") {
            for (name, f) in files.iter_mut() {
                if let (Json::Object(fo), Some(sha)) = (f, site.file_sha256(name)) {
                    fo.insert("sha256".into(), json!(sha));
                    fo.insert("path".into(), json!(site.full_path(name)));
                }
            }
        }
    }
    let client = match client {
        Some(ClientRef::Known(n)) => {
            let c = site.client(n).ok_or_else(|| format!("unknown site client `{n}`"))?;
            json!({
                "name": n, "mac": c.mac.to_string(), "ip": c.ip.to_string(), "hostname": c.hostname,
                "bootfile": c.bootfile, "bootfile-path": site.full_path(&c.bootfile),
            })
        }
        Some(ClientRef::Unknown(u)) => match u.ip {
            Some(ip) => json!({ "mac": u.mac.to_string(), "ip": ip.to_string() }),
            None => json!({ "mac": u.mac.to_string() }),
        },
        None => json!({}),
    };
    Ok(json!({ "site": s, "client": client }))
}

fn xorshift(mut x: u64) -> u64 {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

fn hash_str(seed: u64, s: &str) -> u64 {
    let mut h = seed ^ 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    xorshift(h | 1)
}

/// The xid step `step` (0-based) of scenario `id` sends when the scenario gives none:
/// derived from the run seed, the id and the step, so that a run is reproducible and
/// scenarios running at once on one lab tell their replies apart.
pub fn default_xid(seed: u64, step: usize, id: &str) -> u32 {
    hash_str(seed ^ step as u64, id) as u32
}

/// The client port of a TFTP read of scenario `id` that gives none (1024..61024).
pub fn default_tftp_port(seed: u64, id: &str) -> u16 {
    1024 + (hash_str(seed, id) % 60000) as u16
}

impl Execution {
    /// Prepare a run of `scenario`. Fails on a scenario that names an unknown client.
    pub fn new(scenario: Scenario, env: Env) -> Result<Self, String> {
        let scope = base_scope(&env.site, scenario.client.as_ref())?;
        let relay = &env.site.relay;
        let arp_claims = vec![(relay.ip, env.harness_mac.0), (relay.uplink, env.harness_mac.0)];
        Ok(Execution {
            scenario,
            env,
            scope,
            step: 0,
            state: State::Ready,
            outbox: VecDeque::new(),
            results: Vec::new(),
            trace: Vec::new(),
            arp_claims,
            owned: Owned::default(),
        })
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Whether every step has run.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Done) && self.outbox.is_empty()
    }

    /// The next frame to put on the wire.
    pub fn poll_transmit(&mut self, now: Duration) -> Option<Vec<u8>> {
        if matches!(self.state, State::Ready) {
            self.start_step(now);
        }
        let f = self.outbox.pop_front()?;
        self.trace.push(Traced { at: now, dir: Dir::Out, step: self.current_step(), frame: f.clone() });
        if let State::Waiting(w) = &mut self.state {
            w.sent.push(f.clone());
        }
        Some(f)
    }

    fn current_step(&self) -> Option<usize> {
        match self.state {
            State::Waiting(_) => Some(self.step),
            _ => None,
        }
    }

    /// When the engine next needs `handle_timeout`, if it is waiting.
    pub fn poll_timeout(&self) -> Option<Duration> {
        match &self.state {
            State::Waiting(w) => Some(match &w.kind {
                WaitKind::Tftp(t) if !t.done => w.deadline.min(t.retry_at),
                _ => w.deadline,
            }),
            State::Ready => Some(Duration::ZERO),
            State::Done => None,
        }
    }

    /// Time passed: finish a step whose window closed, or retransmit.
    pub fn handle_timeout(&mut self, now: Duration) {
        let State::Waiting(w) = &mut self.state else {
            return;
        };
        if let WaitKind::Tftp(t) = &mut w.kind {
            if !t.done && now >= t.retry_at && now < w.deadline {
                if let Some(f) = t.on_timeout(now) {
                    self.outbox.push_back(f);
                }
                if !t.done {
                    return;
                }
            }
        }
        if now >= w.deadline || matches!(&w.kind, WaitKind::Tftp(t) if t.done) {
            self.finish_step(now);
        }
    }

    /// A frame arrived on the harness's interface.
    pub fn handle_frame(&mut self, now: Duration, frame: &[u8]) {
        self.trace.push(Traced { at: now, dir: Dir::In, step: self.current_step(), frame: frame.to_vec() });
        let Ok(parsed) = Frame::parse(LinkType::Ethernet, frame) else { return };
        if let Some(reply) = self.answer_arp(&parsed) {
            self.outbox.push_back(reply);
        }
        let State::Waiting(w) = &mut self.state else { return };
        let relevant = match &mut w.kind {
            WaitKind::Bootp { xid, chaddr, replies, .. } => {
                // A BOOTREPLY with the step's xid or chaddr; or a message of another op
                // from the server port carrying both (a server that gets `op` wrong
                // still answered, and `op` is then checked like any other field).
                let from_server = parsed.udp().is_some_and(|u| u.src_port == bootp::SERVER_PORT);
                let hit = parsed.bootp().is_some_and(|b| {
                    let p = BootpPacket::new_unchecked(b);
                    let ours_xid = p.xid() == *xid;
                    let ours_chaddr = p.chaddr_field().starts_with(chaddr);
                    p.check_len().is_ok()
                        && if p.op() == bootp::Op::Reply {
                            ours_xid || ours_chaddr
                        } else {
                            from_server && ours_xid && ours_chaddr
                        }
                });
                if hit {
                    replies.push(frame.to_vec());
                }
                hit
            }
            WaitKind::Rarp { target, replies } => {
                let hit = parsed.ethertype == frame::ETHERTYPE_RARP
                    && matches!(parsed.net, Net::Arp { body, .. } if arp::Packet::new_checked(body)
                        .is_ok_and(|p| p.operation() == arp::Operation::RarpReply && p.tha() == target));
                if hit {
                    replies.push(frame.to_vec());
                }
                hit
            }
            WaitKind::Tftp(t) => match t.on_frame(now, &parsed) {
                Some(out) => {
                    self.outbox.extend(out);
                    true
                }
                None => false,
            },
            WaitKind::Silence => false,
        };
        if relevant {
            w.received.push(frame.to_vec());
            w.first_reply.get_or_insert(now.saturating_sub(w.started));
            // A plain reply expectation ends at the first reply; counts watch the window.
            let early = match (&w.kind, self.scenario.steps.get(self.step).map(|s| &s.expect)) {
                (WaitKind::Bootp { .. } | WaitKind::Rarp { .. }, Some(Expect::Reply { reply })) => {
                    reply.count.is_none()
                }
                (WaitKind::Tftp(t), _) => t.done,
                _ => false,
            };
            if early {
                self.finish_step(now);
            }
        }
    }

    fn answer_arp(&self, f: &Frame<'_>) -> Option<Vec<u8>> {
        let Net::Arp { body, .. } = f.net else { return None };
        if f.ethertype != frame::ETHERTYPE_ARP {
            return None;
        }
        let p = arp::Packet::new_checked(body).ok()?;
        if p.operation() != arp::Operation::Request {
            return None;
        }
        let want = p.target_ipv4()?;
        let (ip, mac) = self.arp_claims.iter().find(|(ip, _)| *ip == want)?;
        let sha = p.sender_mac()?;
        let spa = p.sender_ipv4()?;
        let reply = arp::EthernetIpv4::reply(*mac, *ip, sha, spa);
        Some(frame::build_ethernet(*mac, sha, frame::ETHERTYPE_ARP, &reply.to_vec()))
    }

    /// Record what the step about to send makes this execution's.
    fn own(&mut self, step: &Step, kind: &WaitKind) {
        let o = &mut self.owned;
        match kind {
            WaitKind::Bootp { xid, chaddr, .. } => {
                o.xids.push(*xid);
                o.chaddrs.push(chaddr.clone());
                o.relay |= matches!(&step.send, Some(Send::Bootp(b)) if b.role == Role::Relay);
            }
            WaitKind::Rarp { target, .. } => o.rarp_targets.push(*target),
            WaitKind::Tftp(t) => o.tftp.extend([(t.ip, t.port), (t.ip, t.stranger_port())]),
            WaitKind::Silence => {}
        }
    }

    /// Whether `frame`, received on a port several executions share, is this one's.
    /// Only what its own requests drew counts (see [`Claim`]), so that each execution's
    /// trace holds its own exchanges when scenarios run at once on one lab. Frames
    /// before its first send are nobody's.
    pub fn claim(&self, frame: &[u8]) -> Claim {
        let Ok(f) = Frame::parse(LinkType::Ethernet, frame) else { return Claim::None };
        let o = &self.owned;
        if let Net::Arp { body, .. } = f.net {
            let Ok(p) = arp::Packet::new_checked(body) else { return Claim::None };
            return match (f.ethertype, p.operation()) {
                (frame::ETHERTYPE_RARP, arp::Operation::RarpReply) => {
                    if o.rarp_targets.iter().any(|t| p.tha() == t) {
                        Claim::Own
                    } else {
                        Claim::None
                    }
                }
                (frame::ETHERTYPE_ARP, arp::Operation::Request) => {
                    let Some(want) = p.target_ipv4() else { return Claim::None };
                    let (shared, own) = self.arp_claims.split_at(SHARED_ARP_CLAIMS.min(self.arp_claims.len()));
                    if own.iter().any(|(ip, _)| *ip == want) || (o.relay && shared.iter().any(|(ip, _)| *ip == want)) {
                        Claim::Own
                    } else if shared.iter().any(|(ip, _)| *ip == want) {
                        Claim::Shared
                    } else {
                        Claim::None
                    }
                }
                _ => Claim::None,
            };
        }
        let Some(ip) = f.ipv4() else { return Claim::None };
        if let Some(u) = f.udp() {
            if o.tftp.contains(&(ip.dst, u.dst_port)) {
                return Claim::Own;
            }
        }
        if let Some(b) = f.bootp() {
            // Read xid and chaddr from the raw octets: a reply cut short is still the
            // answer to one request (and judged for being short).
            if frame_xid(frame).is_some_and(|x| o.xids.contains(&x)) {
                return Claim::Own;
            }
            // The engine's own test: the chaddr field starts with the octets sent.
            let seen = b.get(28..b.len().min(44)).unwrap_or(&[]);
            let ours = |c: &Vec<u8>| !seen.is_empty() && seen.starts_with(&c[..c.len().min(seen.len())]);
            return if o.chaddrs.iter().any(ours) { Claim::Chaddr } else { Claim::None };
        }
        // An ICMP error (RFC 792: type 3, 4, 5, 11, 12) quotes the IP header and the
        // first 8 octets of the datagram it is about: ours if we sent that datagram
        // (same addresses, IP id and UDP header, checksum included).
        if let bootcheck_wire::frame::Transport::Other { payload, .. } = ip.transport {
            if ip.protocol == 1 && payload.first().is_some_and(|t| [3, 4, 5, 11, 12].contains(t)) {
                let quoted = payload.get(8..).unwrap_or(&[]);
                if self.trace.iter().any(|t| t.dir == Dir::Out && quotes(quoted, &t.frame)) {
                    return Claim::Own;
                }
            }
        }
        Claim::None
    }

    /// Consume the execution.
    pub fn finish(self) -> ExecutionResult {
        ExecutionResult { steps: self.results, trace: self.trace }
    }

    fn step_name(&self, i: usize, step: &Step) -> String {
        step.name.clone().unwrap_or_else(|| match &step.send {
            Some(Send::Bootp(b)) => match (&b.dhcp, b.role) {
                _ if b.bsdp.is_some() => bsdp_step_name(b),
                (Some(t), _) => format!("DHCP {t}"),
                (None, Role::Relay) => "relayed BOOTREQUEST".into(),
                (None, Role::Client) => "BOOTREQUEST".into(),
            },
            Some(Send::TftpRead(t)) => format!("TFTP read {}", t.file),
            Some(Send::Rarp(_)) => "RARP request".into(),
            Some(Send::Raw(_)) => "raw frame".into(),
            None => format!("step {}", i + 1),
        })
    }

    fn start_step(&mut self, now: Duration) {
        let Some(step) = self.scenario.steps.get(self.step).cloned() else {
            self.state = State::Done;
            return;
        };
        let window = match &step.expect {
            Expect::Reply { reply } => reply.within.map_or(DEFAULT_WITHIN, |d| d.0),
            Expect::NoReply { no_reply } => no_reply.0,
            Expect::Any { any } => any.0,
            Expect::Transfer { transfer } => transfer.within.map_or(DEFAULT_TRANSFER, |d| d.0),
        };
        let built = match &step.send {
            Some(Send::Bootp(b)) => self.build_bootp(b, self.step).map(|(frame, xid, chaddr, request)| {
                // A client that states its address in ciaddr (RFC 951 §7.3) owns it:
                // a server that replies through its kernel ARPs for it first.
                if b.role != Role::Relay {
                    if let (Some(ip), Some(mac)) = (request.get(12..16), frame.get(6..12)) {
                        let ip = Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]);
                        if !ip.is_unspecified() && crate::site::is_documentation(ip) {
                            let mut m = [0u8; 6];
                            m.copy_from_slice(mac);
                            self.arp_claims.push((ip, m));
                        }
                    }
                }
                let frames = vec![frame; step.repeat.max(1) as usize];
                (frames, WaitKind::Bootp { xid, chaddr, request, replies: Vec::new() })
            }),
            Some(Send::Rarp(r)) => self.build_rarp(r).map(|(f, target)| {
                (vec![f; step.repeat.max(1) as usize], WaitKind::Rarp { target, replies: Vec::new() })
            }),
            Some(Send::TftpRead(t)) => {
                self.build_tftp(t, now).map(|(client, first)| (vec![first], WaitKind::Tftp(Box::new(client))))
            }
            Some(Send::Raw(r)) => {
                raw_frame(&r.hex.0, &step.expect).map(|f| (vec![f; step.repeat.max(1) as usize], WaitKind::Silence))
            }
            None => Ok((Vec::new(), WaitKind::Silence)),
        };
        match built {
            Ok((frames, kind)) => {
                self.own(&step, &kind);
                self.outbox.extend(frames);
                self.state = State::Waiting(Box::new(Wait {
                    started: now,
                    deadline: now + window,
                    kind,
                    sent: Vec::new(),
                    received: Vec::new(),
                    first_reply: None,
                }));
            }
            Err(e) => {
                let name = self.step_name(self.step, &step);
                self.results.push(StepResult {
                    index: self.step,
                    name,
                    verdict: StepVerdict::Error(e),
                    sent: Vec::new(),
                    received: Vec::new(),
                    first_reply_after: None,
                    elapsed: Duration::ZERO,
                });
                // Later steps depend on this one; they are not run.
                self.state = State::Done;
            }
        }
    }

    fn finish_step(&mut self, now: Duration) {
        let State::Waiting(w) = std::mem::replace(&mut self.state, State::Ready) else { return };
        let w = *w;
        let Some(step) = self.scenario.steps.get(self.step).cloned() else {
            self.state = State::Done;
            return;
        };
        let mut mismatches = Vec::new();
        let mut error = None;
        let mut reply_scope = None;
        match (&w.kind, &step.expect) {
            (_, Expect::Any { .. }) => {}
            (WaitKind::Bootp { replies, .. } | WaitKind::Rarp { replies, .. }, Expect::NoReply { no_reply }) => {
                if let Some(r) = replies.first() {
                    mismatches.push(Mismatch {
                        field: "reply".into(),
                        expected: format!("no reply within {no_reply}"),
                        actual: describe_frame(r),
                    });
                }
            }
            (WaitKind::Silence, Expect::NoReply { .. }) => {}
            (WaitKind::Bootp { replies, request, .. }, Expect::Reply { reply }) => {
                match self.check_bootp_reply(reply, replies, request, &mut mismatches) {
                    Ok(s) => reply_scope = s,
                    Err(e) => error = Some(e),
                }
            }
            (WaitKind::Rarp { replies, .. }, Expect::Reply { reply }) => {
                reply_scope = self.check_rarp_reply(reply, replies, &mut mismatches);
            }
            (WaitKind::Tftp(t), Expect::Transfer { transfer }) => {
                match self.check_transfer(transfer, t, &mut mismatches) {
                    Ok(s) => reply_scope = Some(s),
                    Err(e) => error = Some(e),
                }
            }
            (_, e) => {
                error = Some(format!("this expectation ({}) does not fit what the step sends", expect_name(e)));
            }
        }
        if let Some(s) = reply_scope {
            if let Json::Object(o) = &mut self.scope {
                o.insert("reply".into(), s);
            }
        }
        for (var, path) in &step.capture {
            match Template::new(format!("${path}")).resolve(&self.scope) {
                Ok(v) => {
                    if let Json::Object(o) = &mut self.scope {
                        o.insert(var.clone(), v);
                    }
                }
                Err(_) => mismatches.push(Mismatch {
                    field: format!("capture.{var}"),
                    expected: format!("a value at `{path}`"),
                    actual: "nothing (no such field in the reply)".into(),
                }),
            }
        }
        let verdict = match error {
            Some(e) => StepVerdict::Error(e),
            None if mismatches.is_empty() => StepVerdict::Pass,
            None => StepVerdict::Fail(mismatches),
        };
        self.results.push(StepResult {
            index: self.step,
            name: self.step_name(self.step, &step),
            verdict,
            sent: w.sent,
            received: w.received,
            first_reply_after: w.first_reply,
            elapsed: now.saturating_sub(w.started),
        });
        self.step += 1;
        self.state = if self.step < self.scenario.steps.len() { State::Ready } else { State::Done };
    }

    // ---- building requests ----

    fn client_mac(&self) -> Option<Mac> {
        match &self.scenario.client {
            Some(ClientRef::Known(n)) => self.env.site.client(n).map(|c| c.mac),
            Some(ClientRef::Unknown(u)) => Some(u.mac),
            None => None,
        }
    }

    fn render_ip(&self, t: &Template, what: &str) -> Result<Ipv4Addr, String> {
        let s = t.render(&self.scope)?;
        s.trim().parse().map_err(|_| format!("{what}: `{s}` is not an IPv4 address"))
    }

    fn render_mac(&self, t: &Template, what: &str) -> Result<[u8; 6], String> {
        let s = t.render(&self.scope)?;
        s.parse::<Mac>().map(|m| m.0).map_err(|e| format!("{what}: {e}"))
    }

    fn octets(&self, o: &Octets) -> Result<Vec<u8>, String> {
        match o {
            Octets::Text(t) => Ok(t.render(&self.scope)?.into_bytes()),
            Octets::Hex(h) => Ok(h.hex.0.clone()),
        }
    }

    /// Build a BOOTREQUEST frame; returns (frame, xid, chaddr prefix, BOOTP message).
    fn build_bootp(&self, b: &BootpSend, step: usize) -> Result<(Vec<u8>, u32, Vec<u8>, Vec<u8>), String> {
        let site = &self.env.site;
        let relay = b.role == Role::Relay;
        let cmac = self.client_mac();
        let xid = b.xid.unwrap_or_else(|| default_xid(self.env.seed, step, &self.scenario.id));
        let mut chaddr = [0u8; 16];
        let chaddr_used: Vec<u8> = match &b.chaddr {
            Some(Octets::Text(t)) => self.render_mac(t, "chaddr")?.to_vec(),
            Some(Octets::Hex(h)) => h.hex.0.clone(),
            None => cmac.map(|m| m.0.to_vec()).ok_or("the scenario has no `client`, so `chaddr` must be given")?,
        };
        if chaddr_used.len() > 16 {
            return Err(format!("chaddr has {} octets; the field holds 16", chaddr_used.len()));
        }
        chaddr[..chaddr_used.len()].copy_from_slice(&chaddr_used);
        let field = |t: &Option<Octets>, n: usize, what: &str| -> Result<Vec<u8>, String> {
            let v = match t {
                Some(o) => self.octets(o)?,
                None => Vec::new(),
            };
            if v.len() > n {
                return Err(format!("{what} has {} octets; the field holds {n}", v.len()));
            }
            let mut out = v;
            out.resize(n, 0);
            Ok(out)
        };
        let sname = field(&b.sname, 64, "sname")?;
        let file = field(&b.file, 128, "file")?;
        let ip_or = |t: &Option<Template>, d: Ipv4Addr, what: &str| -> Result<Ipv4Addr, String> {
            t.as_ref().map_or(Ok(d), |t| self.render_ip(t, what))
        };
        // A BSDP client has its address (BSDP §6.1 step 2): ciaddr defaults to it.
        let ciaddr_default = match (&b.bsdp, self.scope.lookup("client.ip")) {
            (Some(_), Some(v)) => json_text(&v).parse().unwrap_or(Ipv4Addr::UNSPECIFIED),
            _ => Ipv4Addr::UNSPECIFIED,
        };
        let ciaddr = ip_or(&b.ciaddr, ciaddr_default, "ciaddr")?;
        let bsdp_opts = match &b.bsdp {
            Some(q) => self.bsdp_options(q, b)?,
            None => Vec::new(),
        };
        let giaddr = ip_or(&b.giaddr, if relay { site.relay.ip } else { Ipv4Addr::UNSPECIFIED }, "giaddr")?;
        let mut msg = Vec::with_capacity(548);
        msg.push(b.op.unwrap_or(1));
        msg.push(b.htype.unwrap_or(1));
        msg.push(b.hlen.unwrap_or(6));
        msg.push(b.hops.unwrap_or(u8::from(relay)));
        msg.extend(xid.to_be_bytes());
        msg.extend(b.secs.unwrap_or(0).to_be_bytes());
        msg.extend(b.flags.map_or(0, |f| f.value()).to_be_bytes());
        msg.extend(ciaddr.octets());
        msg.extend(ip_or(&b.yiaddr, Ipv4Addr::UNSPECIFIED, "yiaddr")?.octets());
        msg.extend(ip_or(&b.siaddr, Ipv4Addr::UNSPECIFIED, "siaddr")?.octets());
        msg.extend(giaddr.octets());
        msg.extend(chaddr);
        msg.extend(&sname);
        msg.extend(&file);
        // vend
        let vend = b.vend.clone().unwrap_or(VendSpec::Named(VendName::Rfc1048));
        let has_options = !b.options.0.is_empty() || b.dhcp.is_some() || b.raw_options.is_some() || b.bsdp.is_some();
        let dhcp = b.dhcp.clone().or_else(|| b.bsdp.as_ref().map(|_| "inform".to_string()));
        let write_options = |msg: &mut Vec<u8>| -> Result<(), String> {
            if let Some(t) = &dhcp {
                msg.extend([wopt::code::MESSAGE_TYPE, 1, crate::options::message_type_code(t)?]);
            }
            for (code, v) in &b.options.0 {
                let data = crate::options::encode(*code, v, &self.scope)
                    .map_err(|e| format!("option {} ({}): {e}", code, wopt::name(*code)))?;
                wopt::emit_option(msg, *code, &data);
            }
            for (code, data) in &bsdp_opts {
                // Option 43 may need several instances (RFC 3396); the others fit one.
                for chunk in data.chunks(255) {
                    wopt::emit_option(msg, *code, chunk);
                }
            }
            if let Some(r) = &b.raw_options {
                msg.extend(self.octets(r)?);
            }
            if b.end.unwrap_or(true) {
                msg.push(wopt::END);
            }
            Ok(())
        };
        match &vend {
            VendSpec::Named(VendName::Rfc1048) => {
                msg.extend(bootp::MAGIC_COOKIE);
                write_options(&mut msg)?;
            }
            VendSpec::Cookie { cookie } => {
                msg.extend(self.octets(cookie)?);
                write_options(&mut msg)?;
            }
            VendSpec::Named(VendName::Rfc951)
            | VendSpec::Named(VendName::Cmu)
            | VendSpec::Named(VendName::None)
            | VendSpec::Raw { .. }
                if has_options =>
            {
                return Err("options need an RFC 1048 vend (or `vend: { cookie: ... }`)".into());
            }
            VendSpec::Named(VendName::Rfc951) => msg.extend([0u8; 64]),
            VendSpec::Named(VendName::Cmu) => {
                msg.extend(bootp::CMU_MAGIC);
                msg.extend([0u8; 60]);
            }
            VendSpec::Named(VendName::None) => {}
            VendSpec::Raw { raw } => msg.extend(self.octets(raw)?),
        }
        let pad_to =
            b.pad_to.unwrap_or(if matches!(vend, VendSpec::Named(VendName::None)) { 0 } else { bootp::MIN_LEN });
        if msg.len() < pad_to {
            msg.resize(pad_to, 0);
        }
        if let Some(n) = b.truncate {
            msg.truncate(n);
        }
        // Addressing.
        let (dsrc_mac, dsrc_ip, dsrc_port) = if relay {
            (self.env.harness_mac.0, site.relay.ip, bootp::SERVER_PORT)
        } else {
            (
                cmac.map_or(self.env.harness_mac.0, |m| m.0),
                if ciaddr.is_unspecified() { Ipv4Addr::UNSPECIFIED } else { ciaddr },
                bootp::CLIENT_PORT,
            )
        };
        let (ddst_mac, ddst_ip) =
            if relay { (site.server.mac.0, site.server.ip) } else { (frame::BROADCAST_MAC, Ipv4Addr::BROADCAST) };
        let ep = UdpEndpoints {
            src_mac: b.from.mac.as_ref().map_or(Ok(dsrc_mac), |t| self.render_mac(t, "from.mac"))?,
            dst_mac: b.to.mac.as_ref().map_or(Ok(ddst_mac), |t| self.render_mac(t, "to.mac"))?,
            src_ip: b.from.ip.as_ref().map_or(Ok(dsrc_ip), |t| self.render_ip(t, "from.ip"))?,
            dst_ip: b.to.ip.as_ref().map_or(Ok(ddst_ip), |t| self.render_ip(t, "to.ip"))?,
            src_port: b.from.port.unwrap_or(dsrc_port),
            dst_port: b.to.port.unwrap_or(bootp::SERVER_PORT),
            ttl: 64,
        };
        for ip in [ep.src_ip, ep.dst_ip] {
            if !(ip.is_unspecified() || ip.is_broadcast() || crate::site::is_documentation(ip)) {
                return Err(format!("{ip} is not an RFC 5737 documentation address; bootcheck sends to nothing else"));
            }
        }
        let mut f = frame::build_udp(&ep, &msg).map_err(|e| e.to_string())?;
        let l = &b.lies;
        frame::apply_lies(
            &mut f,
            &frame::Lies {
                ihl: l.ihl,
                ip_total_len: l.ip_total_len,
                ip_checksum: l.ip_checksum,
                udp_len: l.udp_len,
                udp_checksum: l.udp_checksum,
            },
        );
        let prefix = chaddr_used.get(..chaddr_used.len().min(6)).unwrap_or(&[]).to_vec();
        Ok((f, xid, prefix, msg))
    }

    /// The options a BSDP request adds (BSDP §6.1 steps 2 and 5): parameter request
    /// list, option 57 with a maximum message size, option 60, option 43; each unless
    /// the step's `options` has it.
    fn bsdp_options(&self, q: &BsdpRequest, b: &BootpSend) -> Result<Vec<(u8, Vec<u8>)>, String> {
        use bootcheck_wire::bsdp::{self as wb, code as sc};
        let given = |c: u8| b.options.0.iter().any(|(code, _)| *code == c);
        let none = |t: &Template| -> Result<Option<String>, String> {
            let v = t.render(&self.scope)?;
            Ok((v.trim() != "none").then_some(v))
        };
        let select = q.message.value() == Some(2);
        let mut sub: Vec<u8> = Vec::new();
        let mut put = |code: u8, v: &[u8]| {
            sub.push(code);
            sub.push(v.len() as u8);
            sub.extend_from_slice(v);
        };
        if let Some(t) = q.message.value() {
            put(sc::MESSAGE_TYPE, &[t]);
        }
        if let Some(v) = q.version.map_or(Some(0x0101), |v| v.0) {
            put(sc::VERSION, &v.to_be_bytes());
        }
        let server = match &q.server_id {
            Some(t) => none(t)?,
            None if select => Some(self.env.site.server.ip.to_string()),
            None => None,
        };
        if let Some(ip) = server {
            let ip: Ipv4Addr =
                ip.trim().parse().map_err(|_| format!("bsdp.server-id: `{ip}` is not an IPv4 address"))?;
            put(sc::SERVER_IDENTIFIER, &ip.octets());
        }
        let image = match &q.image {
            Some(t) => none(t)?,
            None if select => self.env.site.netboot.default_image().map(|(_, i)| format!("{:#010x}", i.id())),
            None => None,
        };
        if let Some(name) = image {
            let name = name.trim();
            let id = match self.env.site.netboot.images.get(name) {
                Some(img) => img.id(),
                None => crate::matcher::parse_u64(name).and_then(|v| u32::try_from(v).ok()).ok_or_else(|| {
                    format!("bsdp.image: `{name}` is neither a netboot.images key nor a 32-bit boot image ID")
                })?,
            };
            put(sc::SELECTED_BOOT_IMAGE_ID, &id.to_be_bytes());
        }
        if let Some(p) = q.reply_port {
            put(sc::REPLY_PORT, &p.to_be_bytes());
        }
        if q.netboot_1_0 {
            put(sc::NETBOOT_1_0_FIRMWARE, &[]);
        }
        if !q.filter.is_empty() {
            if q.filter.len() > 127 {
                return Err("bsdp.filter: at most 127 attribute values fit one sub-option".into());
            }
            let v: Vec<u8> = q.filter.iter().flat_map(|a| a.to_be_bytes()).collect();
            put(sc::ATTRIBUTES_FILTER_LIST, &v);
        }
        if let Some(m) = q.max_size {
            put(sc::MAX_MESSAGE_SIZE, &m.to_be_bytes());
        }
        if let Some(r) = &q.raw {
            sub.extend(self.octets(r)?);
        }
        let mut out = Vec::new();
        if !given(wopt::code::PARAMETER_REQUEST_LIST) {
            out.push((wopt::code::PARAMETER_REQUEST_LIST, vec![1, 3, 17, 43, 60]));
        }
        if q.max_size.is_some() && !given(wopt::code::MAX_MESSAGE_SIZE) {
            out.push((wopt::code::MAX_MESSAGE_SIZE, 1500u16.to_be_bytes().to_vec()));
        }
        if !given(wb::OPTION_VENDOR_CLASS) {
            let vc = match &q.vendor_class {
                Some(Octets::Text(t)) if t.as_str() == "none" => None,
                Some(o) => Some(self.octets(o)?),
                None => Some(
                    wb::VendorClass::Client {
                        arch: q.arch.as_deref().unwrap_or("i386").as_bytes(),
                        system_id: q.system_id.as_deref().unwrap_or("MacBookPro11,1").as_bytes(),
                    }
                    .to_vec(),
                ),
            };
            if let Some(v) = vc {
                if v.is_empty() || v.len() > 255 {
                    return Err(format!("bsdp.vendor-class: {} octets; option 60 holds 1 to 255", v.len()));
                }
                out.push((wb::OPTION_VENDOR_CLASS, v));
            }
        }
        if !given(wb::OPTION_VENDOR_SPECIFIC) && !sub.is_empty() {
            out.push((wb::OPTION_VENDOR_SPECIFIC, sub));
        }
        Ok(out)
    }

    fn build_rarp(&self, r: &RarpSend) -> Result<(Vec<u8>, [u8; 6]), String> {
        let mac = self.client_mac().map_or(self.env.harness_mac.0, |m| m.0);
        let target = match &r.target {
            Some(t) => self.render_mac(t, "target")?,
            None => mac,
        };
        let mut body = arp::EthernetIpv4::rarp_request(mac, target).to_vec();
        if let Some(h) = r.hlen {
            if let Some(b) = body.get_mut(4) {
                *b = h;
            }
        }
        Ok((frame::build_ethernet(mac, frame::BROADCAST_MAC, frame::ETHERTYPE_RARP, &body), target))
    }

    fn build_tftp(&mut self, t: &TftpRead, now: Duration) -> Result<(TftpClient, Vec<u8>), String> {
        let site = &self.env.site;
        let server = match &t.server {
            Some(s) => self.render_ip(s, "server")?,
            None => site.server.ip,
        };
        if !crate::site::is_documentation(server) {
            return Err(format!("{server} is not an RFC 5737 documentation address"));
        }
        let client_ip = match self.scope.lookup("client.ip") {
            Some(v) => json_text(&v).parse::<Ipv4Addr>().map_err(|_| "client.ip is not an address")?,
            None => return Err("a TFTP read needs a client with an address (a site client)".into()),
        };
        let mac = self.client_mac().map_or(self.env.harness_mac.0, |m| m.0);
        self.arp_claims.push((client_ip, mac));
        let port = t.port.unwrap_or_else(|| default_tftp_port(self.env.seed, &self.scenario.id));
        let file = t.file.render(&self.scope)?;
        let mode = t.mode.clone().unwrap_or_else(|| "octet".into());
        let mut options = Vec::new();
        for (k, v) in &t.options {
            options.push((k.clone(), Template::new(v.clone()).render(&self.scope)?));
        }
        // Off the server's subnet (behind a relay), the first hop is the router.
        let first_hop = match self.env.gateway_mac {
            Some(g) if !site.subnet.contains(&client_ip) => g.0,
            _ => site.server.mac.0,
        };
        let mut client = TftpClient::new(mac, client_ip, port, first_hop, server, file, mode, options, now);
        client.duplicate_ack = t.duplicate_ack;
        client.drop_ack = t.drop_ack;
        client.wrong_tid = t.wrong_tid;
        client.raw = t.raw.as_ref().map(|o| self.octets(o)).transpose()?;
        let first = client.rrq_frame()?;
        Ok((client, first))
    }

    // ---- checking replies ----

    fn check_bootp_reply(
        &self,
        exp: &ReplyExpect,
        replies: &[Vec<u8>],
        request: &[u8],
        out: &mut Vec<Mismatch>,
    ) -> Result<Option<Json>, String> {
        let s = &self.scope;
        if let Some(c) = &exp.count {
            if let Err(e) = c.check(&Val::Int(replies.len() as u64), None, s) {
                out.push(Mismatch { field: "reply.count".into(), expected: e, actual: replies.len().to_string() });
            }
        }
        let Some(first) = replies.first() else {
            // A count that admits 0 makes silence a pass ("answer correctly or not at all").
            if exp.count.as_ref().is_some_and(|c| c.check(&Val::Int(0), None, s).is_ok()) {
                return Ok(None);
            }
            out.push(Mismatch {
                field: "reply".into(),
                expected: format!("a BOOTREPLY within {}", exp.within.map_or("2s".into(), |d| d.to_string())),
                actual: "no reply".into(),
            });
            return Ok(None);
        };
        let f = Frame::parse(LinkType::Ethernet, first).map_err(|e| e.to_string())?;
        let payload = f.bootp().unwrap_or(&[]);
        let p = BootpPacket::new_unchecked(payload);
        let q = BootpPacket::new_unchecked(request);
        let fields: [(&str, &Option<Matcher>); 21] = [
            ("size", &exp.size),
            ("op", &exp.op),
            ("htype", &exp.htype),
            ("hlen", &exp.hlen),
            ("hops", &exp.hops),
            ("xid", &exp.xid),
            ("secs", &exp.secs),
            ("flags", &exp.flags),
            ("ciaddr", &exp.ciaddr),
            ("yiaddr", &exp.yiaddr),
            ("siaddr", &exp.siaddr),
            ("giaddr", &exp.giaddr),
            ("chaddr", &exp.chaddr),
            ("sname", &exp.sname),
            ("file", &exp.file),
            ("sname-terminated", &exp.sname_terminated),
            ("file-terminated", &exp.file_terminated),
            ("vend", &exp.vend),
            ("vend-size", &exp.vend_size),
            ("vend-octets", &exp.vend_octets),
            ("end-option", &exp.end_option),
        ];
        for (name, m) in fields {
            if let Some(m) = m {
                let actual = bootp_field(&p, name);
                let sent = bootp_field(&q, name);
                if let Err(e) = m.check(&actual, Some(&sent), s) {
                    out.push(Mismatch { field: format!("reply.{name}"), expected: e, actual: actual.to_string() });
                }
            }
        }
        // A reply is a BOOTREPLY (RFC 951 §3) even where the scenario does not say so;
        // messages of another op from the server port are kept only to say this.
        if exp.op.is_none() && p.op() != bootp::Op::Reply {
            out.push(Mismatch {
                field: "reply.op".into(),
                expected: "2 (BOOTREPLY)".into(),
                actual: bootp_field(&p, "op").to_string(),
            });
        }
        if let Some(m) = &exp.udp_checksum {
            let actual = udp_checksum_val(&f);
            if let Err(e) = m.check(&actual, None, s) {
                out.push(Mismatch { field: "reply.udp-checksum".into(), expected: e, actual: actual.to_string() });
            }
        }
        for (name, m) in &exp.options {
            let code = crate::options::option_code(name)?;
            let actual = option_val(&p, code);
            let sent = option_val(&q, code);
            if let Err(e) = m.check(&actual, Some(&sent), s) {
                out.push(Mismatch { field: format!("reply.options.{name}"), expected: e, actual: actual.to_string() });
            }
        }
        if !exp.options_order.0.is_empty() {
            let order = option_order(&p);
            let positions: Vec<Option<usize>> =
                exp.options_order.0.iter().map(|c| order.iter().position(|o| o == c)).collect();
            let in_order = positions.windows(2).all(|w| matches!(w, [Some(a), Some(b)] if a < b))
                && positions.iter().all(Option::is_some);
            if !in_order {
                let names = |codes: &[u8]| codes.iter().map(|&c| code_name(c)).collect::<Vec<_>>().join(", ");
                out.push(Mismatch {
                    field: "reply.options-order".into(),
                    expected: format!("[{}] present, in this order", names(&exp.options_order.0)),
                    actual: format!("[{}]", names(&order)),
                });
            }
        }
        for (name, offset, m) in exp.cmu.fields() {
            if let Some(m) = m {
                let actual = cmu_field(&p, name, offset);
                if let Err(e) = m.check(&actual, None, s) {
                    out.push(Mismatch { field: format!("reply.cmu.{name}"), expected: e, actual: actual.to_string() });
                }
            }
        }
        if let Some(b) = &exp.bsdp {
            check_bsdp(b, &p, s, out);
        }
        if let Some(d) = &exp.delivered_to {
            self.check_delivery(d, &f, &p, out);
        }
        Ok(Some(reply_json(&p, &f)))
    }

    fn check_delivery(&self, d: &Delivery, f: &Frame<'_>, p: &BootpPacket<&[u8]>, out: &mut Vec<Mismatch>) {
        let dst_mac = f.dst_mac().map(|m| Val::Mac(m.to_vec())).unwrap_or(Val::Absent);
        let dst_ip = f.ipv4().map(|i| Val::Ip(i.dst)).unwrap_or(Val::Absent);
        let dst_port = f.udp().map(|u| Val::Int(u64::from(u.dst_port))).unwrap_or(Val::Absent);
        let chaddr = Val::Mac(p.chaddr().get(..6).unwrap_or(p.chaddr()).to_vec());
        let (mac, ip, port): (Val, Val, u64) = match d {
            Delivery::Named(DeliveryName::Broadcast) => {
                (Val::Mac(vec![0xff; 6]), Val::Ip(Ipv4Addr::BROADCAST), u64::from(bootp::CLIENT_PORT))
            }
            Delivery::Named(DeliveryName::Unicast) => (chaddr, Val::Ip(p.yiaddr()), u64::from(bootp::CLIENT_PORT)),
            Delivery::Named(DeliveryName::Ciaddr) => (chaddr, Val::Ip(p.ciaddr()), u64::from(bootp::CLIENT_PORT)),
            Delivery::Named(DeliveryName::Relay) => {
                (Val::Mac(self.env.harness_mac.0.to_vec()), Val::Ip(p.giaddr()), u64::from(bootp::SERVER_PORT))
            }
            Delivery::Explicit(e) => {
                for (name, m, actual) in
                    [("mac", &e.mac, &dst_mac), ("ip", &e.ip, &dst_ip), ("port", &e.port, &dst_port)]
                {
                    if let Some(m) = m {
                        if let Err(x) = m.check(actual, None, &self.scope) {
                            out.push(Mismatch {
                                field: format!("reply.delivered-to.{name}"),
                                expected: x,
                                actual: actual.to_string(),
                            });
                        }
                    }
                }
                return;
            }
        };
        for (name, want, actual) in [("mac", mac, dst_mac), ("ip", ip, dst_ip), ("port", Val::Int(port), dst_port)] {
            if want != actual {
                out.push(Mismatch {
                    field: format!("reply.delivered-to.{name}"),
                    expected: want.to_string(),
                    actual: actual.to_string(),
                });
            }
        }
    }

    fn check_rarp_reply(&self, exp: &ReplyExpect, replies: &[Vec<u8>], out: &mut Vec<Mismatch>) -> Option<Json> {
        let Some(first) = replies.first() else {
            out.push(Mismatch { field: "reply".into(), expected: "a RARP reply".into(), actual: "no reply".into() });
            return None;
        };
        let f = Frame::parse(LinkType::Ethernet, first).ok()?;
        let Net::Arp { body, .. } = f.net else { return None };
        let p = arp::Packet::new_unchecked(body);
        let vals = [
            ("op", Val::Int(u64::from(u16::from(p.operation())))),
            ("sha", Val::Mac(p.sha().to_vec())),
            ("spa", p.sender_ipv4().map_or(Val::Absent, Val::Ip)),
            ("tha", Val::Mac(p.tha().to_vec())),
            ("tpa", p.target_ipv4().map_or(Val::Absent, Val::Ip)),
        ];
        for (name, m) in &exp.rarp {
            let actual = vals.iter().find(|(n, _)| n == name).map_or(Val::Absent, |(_, v)| v.clone());
            if let Err(e) = m.check(&actual, None, &self.scope) {
                out.push(Mismatch { field: format!("reply.rarp.{name}"), expected: e, actual: actual.to_string() });
            }
        }
        Some(json!({
            "sha": vals[1].1.to_string(), "spa": vals[2].1.to_string(),
            "tha": vals[3].1.to_string(), "tpa": vals[4].1.to_string(),
        }))
    }

    fn check_transfer(&self, exp: &TransferExpect, t: &TftpClient, out: &mut Vec<Mismatch>) -> Result<Json, String> {
        let s = &self.scope;
        let sha = sha256_hex(&t.data);
        if let Some(m) = &exp.error {
            let actual = t.error.as_ref().map_or(Val::Absent, |(c, _)| Val::Int(u64::from(*c)));
            if let Err(e) = m.check(&actual, None, s) {
                out.push(Mismatch { field: "transfer.error".into(), expected: e, actual: actual.to_string() });
            }
        } else if let Some((c, msg)) = &t.error {
            out.push(Mismatch {
                field: "transfer".into(),
                expected: "the file".into(),
                actual: format!("ERROR {c} {:?}", String::from_utf8_lossy(msg)),
            });
        } else if !t.complete {
            out.push(Mismatch {
                field: "transfer".into(),
                expected: "a complete transfer".into(),
                actual: format!(
                    "{} octets, then {}",
                    t.data.len(),
                    t.failure.clone().unwrap_or_else(|| match t.withholding {
                        Some(b) => format!("silence: block {b}'s ACK was withheld and nothing was sent again"),
                        None => "silence".into(),
                    })
                ),
            });
        } else if let Some(b) = t.withholding {
            // Complete, but the last block's ACK was withheld and the block never
            // came again (RFC 1350 §6: the sender of the last DATA retransmits it).
            out.push(Mismatch {
                field: "transfer".into(),
                expected: format!("block {b} (the last) sent again after its ACK was lost"),
                actual: "silence".into(),
            });
        }
        if let Some(m) = &exp.wrong_tid_error {
            let actual = match &t.stranger_answer {
                Some(Ok((c, _))) => Val::Int(u64::from(*c)),
                Some(Err(what)) => Val::Bytes(what.clone().into_bytes()),
                None => Val::Absent,
            };
            if let Err(e) = m.check(&actual, None, s) {
                out.push(Mismatch {
                    field: "transfer.wrong-tid-error".into(),
                    expected: e,
                    actual: actual.to_string(),
                });
            }
        }
        if let Some(f) = &exp.site_file {
            let name = f.render(s)?;
            let want = self
                .env
                .site
                .file_for_path(&name)
                .and_then(|(n, _)| self.env.site.file_content(n))
                .ok_or_else(|| format!("`{name}` is not a site file"))?;
            let netascii = t.mode.eq_ignore_ascii_case("netascii");
            let want = if netascii { to_netascii(&want) } else { want };
            if t.data != want {
                out.push(Mismatch {
                    field: "transfer.content".into(),
                    expected: format!(
                        "site file {name}{}: {} octets, sha256 {}",
                        if netascii { " in netascii (LF as CR LF, CR as CR NUL)" } else { "" },
                        want.len(),
                        sha256_hex(&want)
                    ),
                    actual: format!("{} octets, sha256 {sha}", t.data.len()),
                });
            }
        }
        if let Some(m) = &exp.sha256 {
            if let Err(e) = m.check(&Val::Bytes(sha.clone().into_bytes()), None, s) {
                out.push(Mismatch { field: "transfer.sha256".into(), expected: e, actual: sha.clone() });
            }
        }
        if let Some(m) = &exp.size {
            let n = Val::Int(t.data.len() as u64);
            if let Err(e) = m.check(&n, None, s) {
                out.push(Mismatch { field: "transfer.size".into(), expected: e, actual: n.to_string() });
            }
        }
        for (name, m) in &exp.oack {
            let actual = t
                .oack
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map_or(Val::Absent, |(_, v)| Val::Bytes(v.clone().into_bytes()));
            if let Err(e) = m.check(&actual, None, s) {
                out.push(Mismatch { field: format!("transfer.oack.{name}"), expected: e, actual: actual.to_string() });
            }
        }
        if let Some(m) = &exp.duplicate_data {
            let n = Val::Int(t.duplicates);
            if let Err(e) = m.check(&n, None, s) {
                out.push(Mismatch { field: "transfer.duplicate-data".into(), expected: e, actual: n.to_string() });
            }
        }
        Ok(json!({ "size": t.data.len(), "sha256": sha }))
    }
}

/// The xid of a BOOTP message in an Ethernet frame (read from the octets, so a message
/// cut short after it still has one).
pub fn frame_xid(frame: &[u8]) -> Option<u32> {
    let f = Frame::parse(LinkType::Ethernet, frame).ok()?;
    let x = f.bootp()?.get(4..8)?;
    Some(u32::from_be_bytes([x[0], x[1], x[2], x[3]]))
}

/// Whether `quoted` (what an ICMP error quotes: an IP header and the first 8 octets
/// after it) is the start of the IPv4 datagram in the Ethernet frame `sent`: same
/// protocol, addresses and IP id, same 8 octets of UDP header.
fn quotes(quoted: &[u8], sent: &[u8]) -> bool {
    if sent.get(12..14) != Some(&[0x08, 0x00]) {
        return false;
    }
    let ip = &sent[14..];
    let ihl = |h: &[u8]| h.first().map_or(0, |b| usize::from(b & 0x0f) * 4);
    let (qi, si) = (ihl(quoted), ihl(ip));
    qi >= 20
        && si >= 20
        && quoted.get(4..6) == ip.get(4..6)
        && quoted.get(9) == ip.get(9)
        && quoted.get(12..20) == ip.get(12..20)
        && quoted.get(qi..qi + 8).is_some_and(|q| ip.get(si..si + 8) == Some(q))
}

/// Check a `raw` step's frame: a whole Ethernet header, an IPv4 destination in RFC
/// 5737 space (or broadcast, or 0.0.0.0), and `expect: { any: … }` (the engine cannot
/// tell which frames answer a raw one).
fn raw_frame(f: &[u8], expect: &Expect) -> Result<Vec<u8>, String> {
    if !matches!(expect, Expect::Any { .. }) {
        return Err(format!(
            "a `raw` frame step takes `expect: {{ any: DURATION }}`, not `{}`: the engine cannot tell which frames answer a raw one (check the server's health with a later step)",
            expect_name(expect)
        ));
    }
    if f.len() < 14 {
        return Err(format!("a raw frame of {} octets is shorter than an Ethernet header (14)", f.len()));
    }
    if f.get(12..14) == Some(&[0x08, 0x00]) {
        if let Some(d) = f.get(30..34) {
            let ip = Ipv4Addr::new(d[0], d[1], d[2], d[3]);
            if !(ip.is_unspecified() || ip.is_broadcast() || crate::site::is_documentation(ip)) {
                return Err(format!(
                    "the raw frame's IPv4 destination {ip} is not an RFC 5737 documentation address; bootcheck sends to nothing else"
                ));
            }
        }
    }
    Ok(f.to_vec())
}

/// A local (Unix) text file in netascii (RFC 1350 §5, RFC 764): LF as CR LF, a bare
/// CR as CR NUL.
pub fn to_netascii(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 8);
    for &b in data {
        match b {
            b'\n' => out.extend_from_slice(b"\r\n"),
            b'\r' => out.extend_from_slice(b"\r\0"),
            other => out.push(other),
        }
    }
    out
}

fn expect_name(e: &Expect) -> &'static str {
    match e {
        Expect::Reply { .. } => "reply",
        Expect::NoReply { .. } => "no-reply",
        Expect::Any { .. } => "any",
        Expect::Transfer { .. } => "transfer",
    }
}

/// One line about a frame, for "expected no reply, got …".
pub fn describe_frame(f: &[u8]) -> String {
    match Frame::parse(LinkType::Ethernet, f) {
        Ok(p) => match p.bootp() {
            Some(b) => {
                let q = BootpPacket::new_unchecked(b);
                format!("{} xid={:#010x} yiaddr={} ({} octets)", q.op(), q.xid(), q.yiaddr(), b.len())
            }
            None => format!("a frame of {} octets, EtherType {:#06x}", f.len(), p.ethertype),
        },
        Err(e) => format!("an unparsable frame ({e})"),
    }
}

/// A header field of a BOOTP message as a matcher value.
pub fn bootp_field(p: &BootpPacket<&[u8]>, name: &str) -> Val {
    if p.check_len().is_err() && name != "size" {
        return Val::Absent;
    }
    match name {
        "size" => Val::Int(p.as_bytes().len() as u64),
        "op" => Val::Named(
            u64::from(p.op().to_u8()),
            match p.op() {
                bootp::Op::Request => "BOOTREQUEST",
                bootp::Op::Reply => "BOOTREPLY",
                bootp::Op::Other(_) => "unknown",
            },
        ),
        "htype" => Val::Int(u64::from(p.htype())),
        "hlen" => Val::Int(u64::from(p.hlen())),
        "hops" => Val::Int(u64::from(p.hops())),
        "xid" => Val::Int(u64::from(p.xid())),
        "secs" => Val::Int(u64::from(p.secs())),
        "flags" => Val::Int(u64::from(p.flags())),
        "ciaddr" => Val::Ip(p.ciaddr()),
        "yiaddr" => Val::Ip(p.yiaddr()),
        "siaddr" => Val::Ip(p.siaddr()),
        "giaddr" => Val::Ip(p.giaddr()),
        "chaddr" => Val::Mac(p.chaddr().to_vec()),
        "sname" => Val::Bytes(p.sname().to_vec()),
        "file" => Val::Bytes(p.file().to_vec()),
        "sname-terminated" => Val::Bool(p.sname_field().contains(&0)),
        "file-terminated" => Val::Bool(p.file_field().contains(&0)),
        "vend" => Val::Bytes(
            match p.vend_kind() {
                bootp::VendKind::Rfc1048 => "rfc1048",
                bootp::VendKind::Cmu => "cmu",
                bootp::VendKind::Raw => "raw",
                bootp::VendKind::Empty => "empty",
            }
            .as_bytes()
            .to_vec(),
        ),
        "vend-size" => Val::Int(p.vend().len() as u64),
        "vend-octets" => Val::Bytes(p.vend().to_vec()),
        "end-option" => {
            Val::Bool(p.walk().any(|i| matches!(i, Ok(wopt::Item::End { area: bootcheck_wire::Area::Options, .. }))))
        }
        _ => Val::Absent,
    }
}

/// The option codes of a message in the order they appear (RFC 3396 aggregate order:
/// options, then file, then sname), each once, without Pad and End.
pub fn option_order(p: &BootpPacket<&[u8]>) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    for o in p.options() {
        if !out.contains(&o.option.code) {
            out.push(o.option.code);
        }
    }
    out
}

/// `subnet-mask (1)`.
fn code_name(c: u8) -> String {
    format!("{} ({c})", wopt::name(c))
}

/// A field of the CMU vendor area (`struct cmu_vend`) at `offset` in the vend field:
/// `flags` as a number, the others as addresses; absent when the vend is not CMU or is
/// too short.
pub fn cmu_field(p: &BootpPacket<&[u8]>, name: &str, offset: usize) -> Val {
    if p.check_len().is_err() || p.vend_kind() != bootp::VendKind::Cmu {
        return Val::Absent;
    }
    let Some(&[a, b, c, d]) = p.vend().get(offset..offset + 4) else { return Val::Absent };
    if name == "flags" {
        Val::Int(u64::from(u32::from_be_bytes([a, b, c, d])))
    } else {
        Val::Ip(Ipv4Addr::new(a, b, c, d))
    }
}

/// The UDP checksum of a frame as a matcher value: `valid`, `none` (0, not computed:
/// legal over IPv4, RFC 768), `invalid`, `unverifiable` (a cut datagram); absent when
/// the frame is not UDP.
pub fn udp_checksum_val(f: &Frame<'_>) -> Val {
    let Some(u) = f.udp() else { return Val::Absent };
    let word: &str = match u.checksum_ok {
        Some(true) => "valid",
        Some(false) => "invalid",
        None if u.checksum == 0 => "none",
        None => "unverifiable",
    };
    Val::Bytes(word.as_bytes().to_vec())
}

/// An option's value (RFC 3396 aggregate of all instances) as a matcher value.
pub fn option_val(p: &BootpPacket<&[u8]>, code: u8) -> Val {
    let Some(data) = p.aggregate(code) else { return Val::Absent };
    match wopt::Value::decode(code, &data) {
        Ok(v) => value_val(&v),
        Err(_) => Val::Bytes(data.to_vec()),
    }
}

fn value_val(v: &wopt::Value<'_>) -> Val {
    use wopt::Value as V;
    match *v {
        V::Ip(a) => Val::Ip(a),
        V::Ips(l) => Val::List(l.iter().map(Val::Ip).collect()),
        V::IpPairs(l) => Val::List(
            l.iter()
                .collect::<Vec<_>>()
                .chunks(2)
                .map(|c| Val::Bytes(c.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(" ").into_bytes()))
                .collect(),
        ),
        V::U8(n) | V::NodeType(n) => Val::Int(u64::from(n)),
        V::U16(n) => Val::Int(u64::from(n)),
        V::U32(n) => Val::Int(u64::from(n)),
        V::I32(n) => Val::Int(n as u32 as u64),
        V::Bool(b) => Val::Bool(b),
        V::Str(s) | V::Bytes(s) | V::Unknown(s) => Val::Bytes(s.to_vec()),
        V::U16s(l) => Val::List(l.iter().map(|x| Val::Int(u64::from(x))).collect()),
        V::Codes(c) => Val::List(c.iter().map(|&x| Val::Int(u64::from(x))).collect()),
        V::MessageType(t) => Val::Named(u64::from(t.to_u8()), t.name()),
        V::Overload(o) => Val::Int(u64::from(o.to_u8())),
        V::ClientId { kind, id } => {
            let mut b = vec![kind];
            b.extend_from_slice(id);
            Val::Bytes(b)
        }
        V::ClientIdDuid { .. } | V::RelayAgent(_) | V::ClientNdi { .. } | V::MachineId { .. } => {
            let mut b = Vec::new();
            v.encode(&mut b);
            Val::Bytes(b)
        }
    }
}

/// `BSDP INFORM[LIST]` for a step that sends BSDP.
fn bsdp_step_name(b: &BootpSend) -> String {
    let Some(q) = &b.bsdp else { return "BOOTREQUEST".into() };
    let t = match q.message.value() {
        Some(1) => "LIST".to_string(),
        Some(2) => "SELECT".to_string(),
        Some(3) => "FAILED".to_string(),
        Some(n) => n.to_string(),
        None => "-".to_string(),
    };
    let dhcp = b.dhcp.as_deref().unwrap_or("inform").to_ascii_uppercase();
    format!("BSDP {}[{t}]", dhcp.strip_prefix("DHCP").unwrap_or(&dhcp))
}

/// The fields of [`BsdpExpect`], for `$reply.bsdp.*`.
const BSDP_FIELDS: &[&str] = &[
    "message",
    "server-id",
    "server-priority",
    "default-image",
    "selected-image",
    "images",
    "machine-name",
    "sub-options",
    "well-formed",
];

/// The DHCP message type's short name (`ack` for 5), lower case.
fn dhcp_short(t: u8) -> &'static str {
    match t {
        1 => "discover",
        2 => "offer",
        3 => "request",
        4 => "decline",
        5 => "ack",
        6 => "nak",
        7 => "release",
        8 => "inform",
        _ => "dhcp",
    }
}

/// A BSDP field of a reply as a matcher value (option 43 joined over its instances,
/// RFC 3396): see [`BsdpExpect`].
pub fn bsdp_field(p: &BootpPacket<&[u8]>, name: &str) -> Val {
    use bootcheck_wire::bsdp::{self as wb, MessageType as M};
    if p.check_len().is_err() {
        return Val::Absent;
    }
    if name == "server-id" {
        return option_val(p, wopt::code::SERVER_ID);
    }
    let Some(data) = p.aggregate(wb::OPTION_VENDOR_SPECIFIC) else {
        return if name == "well-formed" { Val::Bool(false) } else { Val::Absent };
    };
    let strict = wb::Repr::parse(&data).is_ok();
    let (r, _) = wb::Repr::parse_lenient(&data);
    match name {
        "well-formed" => Val::Bool(strict),
        "message" => match r.message_type() {
            None => Val::Absent,
            Some(t) => {
                let dhcp = p.message_type().map_or("bootp", |m| dhcp_short(m.to_u8()));
                let name: &'static str = match (dhcp, t) {
                    ("ack", M::List) => "ack-list",
                    ("ack", M::Select) => "ack-select",
                    ("ack", M::Failed) => "ack-failed",
                    ("offer", M::List) => "offer-list",
                    ("offer", M::Select) => "offer-select",
                    ("offer", M::Failed) => "offer-failed",
                    (_, M::List) => "list",
                    (_, M::Select) => "select",
                    (_, M::Failed) => "failed",
                    (_, M::Unknown(_)) => "unknown",
                };
                Val::Named(u64::from(u8::from(t)), name)
            }
        },
        "server-priority" => r.priority().map_or(Val::Absent, |v| Val::Int(u64::from(v))),
        "default-image" => r.default_image().map_or(Val::Absent, |v| Val::Int(u64::from(v.0))),
        "selected-image" => r.selected_image().map_or(Val::Absent, |v| Val::Int(u64::from(v.0))),
        "images" => {
            if r.image_lists().next().is_none() {
                return Val::Absent;
            }
            Val::List(
                r.image_lists()
                    .flat_map(|l| l.iter().collect::<Vec<_>>())
                    .map(|e| match e {
                        Ok(img) => Val::Bytes(format!("{} {}", img.id, String::from_utf8_lossy(img.name)).into_bytes()),
                        Err(_) => Val::Bytes(b"<truncated entry>".to_vec()),
                    })
                    .collect(),
            )
        }
        "machine-name" => r.machine_name().map_or(Val::Absent, |v| Val::Bytes(v.to_vec())),
        "sub-options" => Val::List(r.iter().map(|o| Val::Int(u64::from(o.code()))).collect()),
        _ => Val::Absent,
    }
}

fn check_bsdp(exp: &BsdpExpect, p: &BootpPacket<&[u8]>, s: &Json, out: &mut Vec<Mismatch>) {
    let checks: [(&str, &Option<Matcher>); 9] = [
        ("message", &exp.message),
        ("server-id", &exp.server_id),
        ("server-priority", &exp.server_priority),
        ("default-image", &exp.default_image),
        ("selected-image", &exp.selected_image),
        ("images", &exp.images),
        ("machine-name", &exp.machine_name),
        ("sub-options", &exp.sub_options),
        ("well-formed", &exp.well_formed),
    ];
    for (name, m) in checks {
        if let Some(m) = m {
            let actual = bsdp_field(p, name);
            if let Err(e) = m.check(&actual, None, s) {
                out.push(Mismatch { field: format!("reply.bsdp.{name}"), expected: e, actual: actual.to_string() });
            }
        }
    }
}

/// The reply's fields for `$reply.*`.
fn reply_json(p: &BootpPacket<&[u8]>, f: &Frame<'_>) -> Json {
    let mut o = serde_json::Map::new();
    for name in
        ["op", "htype", "hlen", "hops", "xid", "secs", "flags", "ciaddr", "yiaddr", "siaddr", "giaddr", "chaddr"]
    {
        o.insert(name.into(), json!(bootp_field(p, name).to_string()));
    }
    o.insert("sname".into(), json!(String::from_utf8_lossy(p.sname())));
    o.insert("file".into(), json!(String::from_utf8_lossy(p.file())));
    o.insert("size".into(), json!(p.as_bytes().len()));
    let mut opts = serde_json::Map::new();
    for l in p.options() {
        let name = wopt::name(l.option.code).to_string();
        if !opts.contains_key(&name) {
            let v = match option_val(p, l.option.code) {
                Val::Bytes(b) => String::from_utf8_lossy(&b).into_owned(),
                Val::Named(n, _) => n.to_string(),
                other => other.to_string().trim_matches(|c| c == '[' || c == ']').to_string(),
            };
            opts.insert(name, json!(v));
        }
    }
    o.insert("options".into(), Json::Object(opts));
    if p.aggregate(bootcheck_wire::bsdp::OPTION_VENDOR_SPECIFIC).is_some() {
        let mut b = serde_json::Map::new();
        for name in BSDP_FIELDS {
            let v = bsdp_field(p, name);
            if v != Val::Absent {
                let text = match v {
                    Val::Bytes(x) => String::from_utf8_lossy(&x).into_owned(),
                    Val::Named(_, n) => n.to_string(),
                    Val::Int(n) if name.ends_with("-image") => format!("{n:#010x}"),
                    other => other.to_string(),
                };
                b.insert((*name).into(), json!(text));
            }
        }
        o.insert("bsdp".into(), Json::Object(b));
    }
    if let Some(m) = f.src_mac() {
        o.insert("src-mac".into(), json!(Mac(m).to_string()));
    }
    if let Some(i) = f.ipv4() {
        o.insert("src-ip".into(), json!(i.src.to_string()));
    }
    Json::Object(o)
}

/// A TFTP read, as the client (RFC 1350; RFC 2347–2349 and 7440 options).
#[derive(Debug)]
struct TftpClient {
    mac: [u8; 6],
    ip: Ipv4Addr,
    port: u16,
    server_mac: [u8; 6],
    server: Ipv4Addr,
    file: String,
    mode: String,
    options: Vec<(String, String)>,
    /// The server's TID, once its first packet came.
    tid: Option<u16>,
    blksize: usize,
    windowsize: u16,
    next_block: u16,
    /// Blocks received since the last ACK.
    unacked: u16,
    last_ack: Option<Vec<u8>>,
    retry_at: Duration,
    retries: u32,
    data: Vec<u8>,
    oack: Vec<(String, String)>,
    error: Option<(u16, Vec<u8>)>,
    failure: Option<String>,
    complete: bool,
    done: bool,
    /// DATA blocks received in order.
    blocks: u64,
    /// DATA packets for blocks already received.
    duplicates: u64,
    /// `duplicate-ack`: the block whose ACK is sent twice, until it has been.
    duplicate_ack: Option<u16>,
    /// `drop-ack`: the block whose ACK is withheld once, until it has been.
    drop_ack: Option<u16>,
    /// An ACK was withheld and nothing came from the server since.
    withholding: Option<u16>,
    /// `wrong-tid`: after this DATA block, an ACK of it goes to the server's TID from
    /// the client's port + 1 (RFC 1350 §4), before the real ACK.
    wrong_tid: Option<u16>,
    /// The other port's ACK was sent.
    stranger_sent: bool,
    /// What the server sent that other port: (ERROR code, message), or another packet.
    stranger_answer: Option<Result<(u16, Vec<u8>), String>>,
    /// The last DATA that was neither the next block nor one already received:
    /// (block, the block expected).
    stray: Option<(u16, u16)>,
    /// `raw`: the octets sent in place of the RRQ.
    raw: Option<Vec<u8>>,
}

impl TftpClient {
    #[allow(clippy::too_many_arguments)]
    fn new(
        mac: [u8; 6],
        ip: Ipv4Addr,
        port: u16,
        server_mac: [u8; 6],
        server: Ipv4Addr,
        file: String,
        mode: String,
        options: Vec<(String, String)>,
        now: Duration,
    ) -> Self {
        TftpClient {
            mac,
            ip,
            port,
            server_mac,
            server,
            file,
            mode,
            options,
            tid: None,
            blksize: 512,
            windowsize: 1,
            next_block: 1,
            unacked: 0,
            last_ack: None,
            retry_at: now + TFTP_RETRY,
            retries: 0,
            data: Vec::new(),
            oack: Vec::new(),
            error: None,
            failure: None,
            complete: false,
            done: false,
            blocks: 0,
            duplicates: 0,
            duplicate_ack: None,
            drop_ack: None,
            withholding: None,
            wrong_tid: None,
            stranger_sent: false,
            stranger_answer: None,
            stray: None,
            raw: None,
        }
    }

    fn udp(&self, dst_port: u16, payload: &[u8]) -> Result<Vec<u8>, String> {
        self.udp_from(self.port, dst_port, payload)
    }

    fn udp_from(&self, src_port: u16, dst_port: u16, payload: &[u8]) -> Result<Vec<u8>, String> {
        let ep = UdpEndpoints {
            src_mac: self.mac,
            dst_mac: self.server_mac,
            src_ip: self.ip,
            dst_ip: self.server,
            src_port,
            dst_port,
            ttl: 64,
        };
        frame::build_udp(&ep, payload).map_err(|e| e.to_string())
    }

    /// A wrong-TID probe went out and nothing came back to its port yet.
    fn stranger_pending(&self) -> bool {
        self.stranger_sent && self.stranger_answer.is_none()
    }

    /// The port `wrong-tid` sends from: the client's port + 1 (wrapping within
    /// 1024..=65535).
    fn stranger_port(&self) -> u16 {
        if self.port == u16::MAX {
            1024
        } else {
            self.port + 1
        }
    }

    fn rrq_frame(&self) -> Result<Vec<u8>, String> {
        if let Some(raw) = &self.raw {
            return self.udp(tftp::SERVER_PORT, raw);
        }
        let mut p = vec![0, 1];
        p.extend(self.file.as_bytes());
        p.push(0);
        p.extend(self.mode.as_bytes());
        p.push(0);
        for (k, v) in &self.options {
            p.extend(k.as_bytes());
            p.push(0);
            p.extend(v.as_bytes());
            p.push(0);
        }
        self.udp(tftp::SERVER_PORT, &p)
    }

    /// The ACK of `block`: none if `drop-ack` withholds it, two if `duplicate-ack`
    /// doubles it.
    fn ack(&mut self, block: u16, now: Duration) -> Vec<Vec<u8>> {
        let Some(tid) = self.tid else { return Vec::new() };
        if self.drop_ack == Some(block) {
            // Lost on the way: nothing is sent, and the client does not retransmit
            // either, so only the server's own timeout can move the transfer on.
            self.drop_ack = None;
            self.withholding = Some(block);
            self.retry_at = Duration::MAX;
            return Vec::new();
        }
        self.withholding = None;
        let mut p = vec![0, 4];
        p.extend(block.to_be_bytes());
        let Ok(f) = self.udp(tid, &p) else { return Vec::new() };
        self.last_ack = Some(f.clone());
        self.retry_at = now + TFTP_RETRY;
        self.retries = 0;
        if self.duplicate_ack == Some(block) {
            self.duplicate_ack = None;
            return vec![f.clone(), f];
        }
        vec![f]
    }

    fn on_timeout(&mut self, now: Duration) -> Option<Vec<u8>> {
        if self.complete && self.withholding.is_none() {
            // Complete, and waited for the wrong-TID probe's answer long enough.
            self.done = true;
            return None;
        }
        self.retries += 1;
        if self.retries > TFTP_RETRIES {
            self.failure = Some(match self.stray {
                Some((got, want)) => format!(
                    "block {want} never came after {TFTP_RETRIES} retransmissions (the last DATA was block {got})"
                ),
                None => format!("no packet from the server after {TFTP_RETRIES} retransmissions"),
            });
            self.done = true;
            return None;
        }
        self.retry_at = now + TFTP_RETRY;
        match &self.last_ack {
            Some(a) => Some(a.clone()),
            None => self.rrq_frame().ok(),
        }
    }

    /// Handle a frame; `None` if it is not part of this transfer.
    fn on_frame(&mut self, now: Duration, f: &Frame<'_>) -> Option<Vec<Vec<u8>>> {
        if self.done {
            return None;
        }
        let ip = f.ipv4()?;
        let u = f.udp()?;
        if ip.src != self.server || ip.dst != self.ip {
            return None;
        }
        if u.dst_port == self.stranger_port() && self.stranger_sent {
            // The answer to the packet from the wrong TID: noted, never answered.
            if self.stranger_answer.is_none() {
                self.stranger_answer = Some(match tftp::Repr::parse_bytes(u.payload) {
                    Ok(tftp::Repr::Error { code, message }) => Ok((code.into(), message.to_vec())),
                    Ok(other) => Err(other.opcode().to_string()),
                    Err(e) => Err(format!("a malformed packet ({e})")),
                });
            }
            if self.complete && self.withholding.is_none() {
                self.done = true;
            }
            return Some(Vec::new());
        }
        if u.dst_port != self.port {
            return None;
        }
        match self.tid {
            None => self.tid = Some(u.src_port),
            Some(t) if t != u.src_port => {
                // RFC 1350 §4: a packet from another TID gets ERROR 5; the transfer goes on.
                let mut p = vec![0, 5, 0, 5];
                p.extend(b"Unknown transfer ID\0");
                return Some(self.udp(u.src_port, &p).ok().into_iter().collect());
            }
            Some(_) => {}
        }
        let mut out = Vec::new();
        match tftp::Repr::parse_bytes(u.payload) {
            Ok(tftp::Repr::Oack { .. }) if !self.oack.is_empty() => {
                // The OACK again (our ACK 0 was lost or withheld): ACK it again.
                out.extend(self.ack(0, now));
            }
            Ok(tftp::Repr::Oack { options }) => {
                for o in &options {
                    let k = String::from_utf8_lossy(o.name).into_owned();
                    let v = String::from_utf8_lossy(o.value).into_owned();
                    match o.kind() {
                        Some(tftp::OptionKind::Blksize) => self.blksize = o.value_u64().unwrap_or(512) as usize,
                        Some(tftp::OptionKind::Windowsize) => {
                            self.windowsize = o.value_u64().unwrap_or(1).clamp(1, 65535) as u16
                        }
                        _ => {}
                    }
                    self.oack.push((k, v));
                }
                out.extend(self.ack(0, now));
            }
            Ok(tftp::Repr::Data { block, data }) => {
                let behind = self.next_block.wrapping_sub(block);
                if block == self.next_block {
                    self.data.extend_from_slice(data);
                    self.next_block = self.next_block.wrapping_add(1);
                    self.blocks += 1;
                    self.unacked += 1;
                    let last = data.len() < self.blksize;
                    if self.wrong_tid == Some(block) && !self.stranger_sent {
                        // A packet from another port (a wrong TID), before our ACK.
                        let mut p = vec![0, 4];
                        p.extend(block.to_be_bytes());
                        let f = self.tid.map(|tid| self.udp_from(self.stranger_port(), tid, &p));
                        if let Some(Ok(f)) = f {
                            out.push(f);
                            self.stranger_sent = true;
                        }
                    }
                    if last || self.unacked >= self.windowsize {
                        out.extend(self.ack(block, now));
                        self.unacked = 0;
                    }
                    if last {
                        self.complete = true;
                        // With the final ACK withheld, wait for the server to send
                        // the last block again (RFC 1350 §6); after a wrong-TID probe,
                        // up to a second for its answer.
                        self.done = self.withholding.is_none() && !self.stranger_pending();
                        if self.stranger_pending() {
                            self.retry_at = now + TFTP_RETRY;
                        }
                    }
                } else if behind <= 0x8000 && u64::from(behind) <= self.blocks {
                    // A block already received: a retransmission or a duplicate.
                    self.duplicates += 1;
                    if (block == self.next_block.wrapping_sub(1) && self.windowsize == 1) || self.withholding.is_some()
                    {
                        // Our ACK was lost (or withheld): ACK the last block received
                        // in order again (never ACK ahead).
                        let last = self.next_block.wrapping_sub(1);
                        out.extend(self.ack(last, now));
                        if self.complete && self.withholding.is_none() {
                            self.done = true;
                        }
                    }
                } else {
                    self.stray = Some((block, self.next_block));
                }
            }
            Ok(tftp::Repr::Error { code, message }) => {
                self.error = Some((code.into(), message.to_vec()));
                self.done = true;
            }
            Ok(other) => {
                self.failure = Some(format!("unexpected {}", other.opcode()));
                self.done = true;
            }
            Err(e) => {
                self.failure = Some(format!("malformed TFTP packet: {e}"));
                self.done = true;
            }
        }
        Some(out)
    }
}

/// Something that answers frames in virtual time: the in-process reference server, or
/// a test double.
pub trait Responder {
    /// A frame from the harness at `now`; the frames to send back.
    fn on_frame(&mut self, now: Duration, frame: &[u8]) -> Vec<Vec<u8>>;
    /// When the responder next wants `on_timeout` (retransmissions).
    fn next_timeout(&self) -> Option<Duration> {
        None
    }
    fn on_timeout(&mut self, _now: Duration) -> Vec<Vec<u8>> {
        Vec::new()
    }
}

/// Latency the virtual wire adds to every frame.
pub const VIRTUAL_LATENCY: Duration = Duration::from_micros(100);

/// Run an execution against a responder in virtual time: waits for silence cost
/// nothing, so a scenario that expects `no-reply: 3s` finishes at once. Deterministic.
pub fn run_virtual(mut exec: Execution, r: &mut dyn Responder) -> ExecutionResult {
    let mut now = Duration::ZERO;
    // Frames in flight to the harness, in arrival order.
    let mut inbound: VecDeque<(Duration, Vec<u8>)> = VecDeque::new();
    for _ in 0..10_000_000u32 {
        while let Some(f) = exec.poll_transmit(now) {
            for reply in r.on_frame(now, &f) {
                inbound.push_back((now + VIRTUAL_LATENCY, reply));
            }
        }
        if exec.is_finished() {
            break;
        }
        let next =
            [inbound.front().map(|(t, _)| *t), exec.poll_timeout(), r.next_timeout()].into_iter().flatten().min();
        let Some(next) = next else { break };
        now = now.max(next);
        if now > Duration::from_secs(3600) {
            break;
        }
        while inbound.front().is_some_and(|(t, _)| *t <= now) {
            if let Some((_, f)) = inbound.pop_front() {
                exec.handle_frame(now, &f);
            }
        }
        if r.next_timeout().is_some_and(|t| t <= now) {
            for reply in r.on_timeout(now) {
                inbound.push_back((now + VIRTUAL_LATENCY, reply));
            }
        }
        if exec.poll_timeout().is_some_and(|t| t <= now) {
            exec.handle_timeout(now);
        }
    }
    exec.finish()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn netascii_of_a_unix_text_file() {
        assert_eq!(to_netascii(b"a\nb\rc\r\nd"), b"a\r\nb\r\0c\r\0\r\nd");
        assert_eq!(to_netascii(b""), b"");
    }

    fn udp_frame(lie: Option<u16>) -> Vec<u8> {
        let ep = UdpEndpoints {
            src_mac: [2, 0, 0, 0, 0x5e, 1],
            dst_mac: [2, 0, 0, 0, 0xbe, 1],
            src_ip: Ipv4Addr::new(192, 0, 2, 1),
            dst_ip: Ipv4Addr::new(192, 0, 2, 21),
            src_port: 67,
            dst_port: 68,
            ttl: 64,
        };
        let mut f = frame::build_udp(&ep, &[1u8; 300]).unwrap();
        frame::apply_lies(&mut f, &frame::Lies { udp_checksum: lie, ..Default::default() });
        f
    }

    #[test]
    fn udp_checksum_values() {
        let word = |f: &[u8]| udp_checksum_val(&Frame::parse(LinkType::Ethernet, f).unwrap()).to_string();
        assert_eq!(word(&udp_frame(None)), "\"valid\"");
        assert_eq!(word(&udp_frame(Some(0))), "\"none\"");
        let good = Frame::parse(LinkType::Ethernet, &udp_frame(None)).unwrap().udp().unwrap().checksum;
        assert_eq!(word(&udp_frame(Some(good ^ 0x5a5a))), "\"invalid\"");
    }

    fn site() -> Site {
        let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/site.yaml");
        crate::load_site(std::path::Path::new(p)).unwrap()
    }

    /// A responder that answers every BOOTREQUEST with a BOOTREPLY for `yiaddr` (or
    /// not at all), to the client's MAC.
    struct Answer(Option<Ipv4Addr>);

    impl Responder for Answer {
        fn on_frame(&mut self, _now: Duration, frame: &[u8]) -> Vec<Vec<u8>> {
            let Some(yiaddr) = self.0 else { return Vec::new() };
            let f = Frame::parse(LinkType::Ethernet, frame).unwrap();
            let mut msg = f.bootp().unwrap().to_vec();
            msg[0] = 2;
            msg[16..20].copy_from_slice(&yiaddr.octets());
            let ep = UdpEndpoints {
                src_mac: [2, 0, 0, 0, 0x5e, 1],
                dst_mac: f.src_mac().unwrap(),
                src_ip: Ipv4Addr::new(192, 0, 2, 1),
                dst_ip: yiaddr,
                src_port: 67,
                dst_port: 68,
                ttl: 64,
            };
            vec![frame::build_udp(&ep, &msg).unwrap()]
        }
    }

    fn run(yaml: &str, r: &mut dyn Responder) -> Vec<StepVerdict> {
        let scn: Scenario = serde_yaml::from_str(yaml).unwrap();
        let env = Env { site: site(), seed: 1, harness_mac: Mac([2, 0, 0, 0, 0x77, 1]), gateway_mac: None };
        run_virtual(Execution::new(scn, env).unwrap(), r).steps.into_iter().map(|s| s.verdict).collect()
    }

    /// A one-block TFTP server: DATA 1 of 100 octets from TID 50000 for any RRQ;
    /// `stranger`: the ERROR code for a packet to the TID from another port;
    /// `retransmit`: DATA 1 again after 1 s without its ACK.
    struct OneBlock {
        stranger: Option<u16>,
        retransmit: bool,
        client: Option<([u8; 6], Ipv4Addr, u16)>,
        acked: bool,
        due: Option<Duration>,
    }

    impl OneBlock {
        fn new(stranger: Option<u16>, retransmit: bool) -> Self {
            OneBlock { stranger, retransmit, client: None, acked: false, due: None }
        }
        fn to(&self, mac: [u8; 6], ip: Ipv4Addr, port: u16, payload: &[u8]) -> Vec<u8> {
            let ep = UdpEndpoints {
                src_mac: [2, 0, 0, 0, 0x5e, 1],
                dst_mac: mac,
                src_ip: Ipv4Addr::new(192, 0, 2, 1),
                dst_ip: ip,
                src_port: 50000,
                dst_port: port,
                ttl: 64,
            };
            frame::build_udp(&ep, payload).unwrap()
        }
        fn data(&self) -> Vec<u8> {
            let (mac, ip, port) = self.client.unwrap();
            let mut p = vec![0, 3, 0, 1];
            p.extend([7u8; 100]);
            self.to(mac, ip, port, &p)
        }
    }

    impl Responder for OneBlock {
        fn on_frame(&mut self, now: Duration, frame: &[u8]) -> Vec<Vec<u8>> {
            let f = Frame::parse(LinkType::Ethernet, frame).unwrap();
            let (Some(ip), Some(u)) = (f.ipv4(), f.udp()) else { return Vec::new() };
            let mac = f.src_mac().unwrap();
            if u.dst_port == 69 {
                self.client = Some((mac, ip.src, u.src_port));
                self.due = self.retransmit.then_some(now + Duration::from_secs(1));
                return vec![self.data()];
            }
            match self.client {
                Some((_, _, port)) if port == u.src_port => {
                    self.acked = true;
                    self.due = None;
                    Vec::new()
                }
                _ => match self.stranger {
                    Some(code) => {
                        let mut p = vec![0, 5];
                        p.extend(code.to_be_bytes());
                        p.extend(b"Unknown transfer ID\0");
                        vec![self.to(mac, ip.src, u.src_port, &p)]
                    }
                    None => Vec::new(),
                },
            }
        }
        fn next_timeout(&self) -> Option<Duration> {
            self.due
        }
        fn on_timeout(&mut self, now: Duration) -> Vec<Vec<u8>> {
            if self.acked || self.due.is_none_or(|d| d > now) {
                return Vec::new();
            }
            self.due = None;
            vec![self.data()]
        }
    }

    fn tftp_mismatches(read: &str, expect: &str, r: &mut OneBlock) -> Vec<String> {
        let yaml = format!(
            "id: t/tftp\ntitle: t\nclient: ws1\nsteps:\n  - send: {{ tftp-read: {{ file: a, {read} }} }}\n    expect: {{ transfer: {{ within: 5s, {expect} }} }}\n"
        );
        match run(&yaml, r).pop() {
            Some(StepVerdict::Pass) => Vec::new(),
            Some(StepVerdict::Fail(ms)) => {
                ms.iter().map(|m| format!("{}: {} / {}", m.field, m.expected, m.actual)).collect()
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_wrong_tid_probe_goes_from_the_next_port_and_its_answer_is_checked() {
        assert_eq!(
            tftp_mismatches("wrong-tid: 1", "size: 100, wrong-tid-error: 5", &mut OneBlock::new(Some(5), false)),
            Vec::<String>::new()
        );
        assert_eq!(
            tftp_mismatches("wrong-tid: 1", "size: 100, wrong-tid-error: 5", &mut OneBlock::new(None, false)),
            ["transfer.wrong-tid-error: 5 / absent"]
        );
        assert_eq!(
            tftp_mismatches("wrong-tid: 1", "wrong-tid-error: 5", &mut OneBlock::new(Some(4), false)),
            ["transfer.wrong-tid-error: 5 / 4"]
        );
    }

    #[test]
    fn a_withheld_final_ack_waits_for_the_last_block_again() {
        assert_eq!(
            tftp_mismatches("drop-ack: 1", "size: 100, duplicate-data: 1", &mut OneBlock::new(None, true)),
            Vec::<String>::new()
        );
        assert_eq!(
            tftp_mismatches("drop-ack: 1", "size: 100", &mut OneBlock::new(None, false)),
            ["transfer: block 1 (the last) sent again after its ACK was lost / silence"]
        );
    }

    const AT_MOST_ONE: &str = "
id: t/count-zero
title: t
client: ws1
steps:
  - send: { bootp: {} }
    expect: { reply: { within: 1s, count: 0..1, yiaddr: $site.clients.ws1.ip } }
";

    #[test]
    fn a_count_that_admits_zero_passes_silence_and_checks_a_reply() {
        assert_eq!(run(AT_MOST_ONE, &mut Answer(None)), [StepVerdict::Pass]);
        assert_eq!(run(AT_MOST_ONE, &mut Answer(Some(Ipv4Addr::new(192, 0, 2, 21)))), [StepVerdict::Pass]);
        match &run(AT_MOST_ONE, &mut Answer(Some(Ipv4Addr::new(192, 0, 2, 99))))[..] {
            [StepVerdict::Fail(m)] => assert_eq!(m[0].field, "reply.yiaddr"),
            other => panic!("{other:?}"),
        }
        // Without a count, silence is still a failure.
        let plain = AT_MOST_ONE.replace("count: 0..1, ", "");
        assert!(matches!(&run(&plain, &mut Answer(None))[..], [StepVerdict::Fail(_)]));
    }

    fn reply_with_options(opts: &[u8]) -> Vec<u8> {
        let mut msg = vec![0u8; 236];
        msg[0] = 2;
        msg.extend(bootp::MAGIC_COOKIE);
        msg.extend(opts);
        msg.resize(300, 0);
        msg
    }

    #[test]
    fn options_are_listed_in_wire_order_once() {
        let msg = reply_with_options(&[3, 4, 192, 0, 2, 254, 0, 0, 1, 4, 255, 255, 255, 0, 3, 0, 255]);
        let p = BootpPacket::new_unchecked(&msg[..]);
        assert_eq!(option_order(&p), [3, 1]);
        let expect: ReplyExpect = serde_yaml::from_str("{ options-order: [subnet-mask, router] }").unwrap();
        assert_eq!(expect.options_order.0, [1, 3]);
        let bad: Result<ReplyExpect, _> = serde_yaml::from_str("{ options-order: [subnet-mas] }");
        assert!(bad.unwrap_err().to_string().contains("did you mean subnet-mask"));
    }

    #[test]
    fn options_order_is_checked() {
        let yaml = |order: &str| {
            format!(
                "
id: t/order
title: t
client: ws1
steps:
  - send: {{ bootp: {{}} }}
    expect: {{ reply: {{ options-order: {order} }} }}
"
            )
        };
        // The test responder echoes the request's options: a parameter request list
        // and a host name, in that order.
        let with_opts = |order: &str| {
            yaml(order).replace("bootp: {}", "bootp: { options: { parameter-request-list: [1], host-name: ws1 } }")
        };
        let mut r = Answer(Some(Ipv4Addr::new(192, 0, 2, 21)));
        assert_eq!(run(&with_opts("[parameter-request-list, host-name]"), &mut r), [StepVerdict::Pass]);
        match &run(&with_opts("[host-name, parameter-request-list]"), &mut r)[..] {
            [StepVerdict::Fail(m)] => {
                assert_eq!(m[0].field, "reply.options-order");
                assert_eq!(m[0].actual, "[parameter-request-list (55), host-name (12)]");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&run(&with_opts("[host-name, router]"), &mut r)[..], [StepVerdict::Fail(_)]));
    }

    #[test]
    fn cmu_fields_follow_struct_cmu_vend() {
        let mut msg = vec![0u8; 236];
        msg[0] = 2;
        msg.extend(bootp::CMU_MAGIC);
        msg.extend([0, 0, 0, 1, 255, 255, 255, 0, 192, 0, 2, 254, 192, 0, 2, 53]);
        msg.resize(300, 0);
        let p = BootpPacket::new_unchecked(&msg[..]);
        let e = crate::model::CmuExpect::default();
        let vals: Vec<String> = e.fields().iter().map(|(n, o, _)| cmu_field(&p, n, *o).to_string()).collect();
        assert_eq!(vals[..5], ["1", "255.255.255.0", "192.0.2.254", "192.0.2.53", "0.0.0.0"]);
        let raw = reply_with_options(&[255]);
        assert_eq!(cmu_field(&BootpPacket::new_unchecked(&raw[..]), "subnet-mask", 8), Val::Absent);
        assert_eq!(bootp_field(&p, "vend-octets"), Val::Bytes(msg[236..].to_vec()));
    }

    #[test]
    fn the_scope_has_the_relay_netmask() {
        let s = base_scope(&site(), None).unwrap();
        assert_eq!(s.lookup("site.relay.netmask").map(|v| json_text(&v)), Some("255.255.255.0".to_string()));
    }

    /// The options of the request a one-step scenario sends.
    fn sent_options(yaml: &str) -> Vec<(u8, Vec<u8>)> {
        let scn: Scenario = serde_yaml::from_str(yaml).unwrap();
        let env = Env { site: site(), seed: 1, harness_mac: Mac([2, 0, 0, 0, 0x77, 1]), gateway_mac: None };
        let mut exec = Execution::new(scn, env).unwrap();
        let f = exec.poll_transmit(Duration::ZERO).unwrap();
        let f = Frame::parse(LinkType::Ethernet, &f).unwrap();
        let p = BootpPacket::new_unchecked(f.bootp().unwrap());
        assert_eq!(p.ciaddr(), Ipv4Addr::new(192, 0, 2, 21), "a BSDP client sends from its address");
        p.options().map(|o| (o.option.code, o.option.data.to_vec())).collect()
    }

    #[test]
    fn a_bsdp_step_sends_an_inform_with_options_60_and_43() {
        let one = |send: &str| {
            sent_options(&format!(
                "{{ id: t/b, title: t, client: ws1, steps: [ {{ send: {send}, expect: {{ no-reply: 1s }} }} ] }}"
            ))
        };
        let o = one("{ bsdp: { message: list } }");
        let codes: Vec<u8> = o.iter().map(|(c, _)| *c).collect();
        assert_eq!(codes, [53, 55, 60, 43]);
        assert_eq!(o[0].1, [8]);
        assert_eq!(o[2].1, b"AAPLBSDPC/i386/MacBookPro11,1");
        assert_eq!(o[3].1, [1, 1, 1, 2, 2, 1, 1]);
        // SELECT: the site server and the default image unless told otherwise.
        let o = one("{ bsdp: { message: select, reply-port: 993, max-size: 8192, filter: [0x0300] } }");
        let o43 = &o.iter().find(|(c, _)| *c == 43).unwrap().1;
        assert_eq!(
            o43,
            &[1, 1, 2, 2, 2, 1, 1, 3, 4, 192, 0, 2, 1, 8, 4, 1, 0, 0x10, 1, 5, 2, 3, 0xe1, 11, 2, 3, 0, 12, 2, 0x20, 0]
        );
        assert!(o.contains(&(57, vec![5, 0xdc])), "option 57 = 1500 with a maximum message size");
        let o = one("{ bsdp: { message: select, image: diags, server-id: none, version: 0x0000 } }");
        assert_eq!(o.iter().find(|(c, _)| *c == 43).unwrap().1, [1, 1, 2, 2, 2, 0, 0, 8, 4, 3, 0, 0, 8]);
        let o = one("{ bsdp: { message: none, version: none, vendor-class: none, raw: { hex: '05 06 03' } } }");
        assert_eq!(o.iter().map(|(c, _)| *c).collect::<Vec<_>>(), [53, 55, 43]);
        assert_eq!(o[2].1, [5, 6, 3]);
        // `options` replace the generated ones; `bootp` fields apply.
        let o = sent_options(
            "{ id: t/b, title: t, client: ws1, steps: [ { send: { bootp: { dhcp: discover, \
             options: { vendor-class: PXEClient }, bsdp: { message: 9, version: '1.0' } } }, expect: { no-reply: 1s } } ] }",
        );
        assert_eq!(o[0].1, [1]);
        assert_eq!(o[1], (60, b"PXEClient".to_vec()));
        assert_eq!(o.iter().find(|(c, _)| *c == 43).unwrap().1, [1, 1, 9, 2, 2, 1, 0]);
    }

    #[test]
    fn bsdp_fields_of_a_reply() {
        let mut opts = vec![53, 1, 5, 54, 4, 192, 0, 2, 1, 60, 9];
        opts.extend(b"AAPLBSDPC");
        // Option 43 in two instances, split between sub-options.
        opts.extend([43, 13, 1, 1, 1, 4, 2, 0x80, 0, 7, 4, 1, 0, 0x10, 1]);
        opts.extend([43, 8, 9, 6, 3, 0, 0, 8, 1, b'd', 255]);
        let msg = reply_with_options(&opts);
        let p = BootpPacket::new_unchecked(&msg[..]);
        assert_eq!(bsdp_field(&p, "message"), Val::Named(1, "ack-list"));
        assert_eq!(bsdp_field(&p, "server-id"), Val::Ip(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(bsdp_field(&p, "server-priority"), Val::Int(0x8000));
        assert_eq!(bsdp_field(&p, "default-image"), Val::Int(0x0100_1001));
        assert_eq!(bsdp_field(&p, "selected-image"), Val::Absent);
        assert_eq!(bsdp_field(&p, "images"), Val::List(vec![Val::Bytes(b"0x03000008 d".to_vec())]));
        assert_eq!(bsdp_field(&p, "sub-options").to_string(), "[1, 4, 7, 9]");
        assert_eq!(bsdp_field(&p, "well-formed"), Val::Bool(true));
        let scope = json!({});
        let m = |y: &str| Matcher::from_yaml(serde_yaml::from_str(y).unwrap()).unwrap();
        assert!(m("ack-list").check(&bsdp_field(&p, "message"), None, &scope).is_ok());
        assert!(m("ack-select").check(&bsdp_field(&p, "message"), None, &scope).is_err());
        assert!(m("'0x01001001'").check(&bsdp_field(&p, "default-image"), None, &scope).is_ok());
        let plain = reply_with_options(&[53, 1, 5, 255]);
        let p = BootpPacket::new_unchecked(&plain[..]);
        assert_eq!(bsdp_field(&p, "message"), Val::Absent);
        assert_eq!(bsdp_field(&p, "well-formed"), Val::Bool(false));
        let scope = base_scope(&site(), None).unwrap();
        assert_eq!(
            scope.lookup("site.netboot.list").unwrap(),
            json!(["0x03000008 Hardware Test", "0x81001002 macOS Install", "0x01001001 macOS NetBoot"])
        );
        assert_eq!(scope.lookup("site.netboot.images.install.id").unwrap(), json!("0x81001002"));
    }

    #[test]
    fn bsdp_request_values_parse() {
        use crate::model::{BsdpMessage, BsdpRequest};
        let q: BsdpRequest = serde_yaml::from_str("{ message: 2, version: 1.0 }").unwrap();
        assert_eq!((q.message.value(), q.version.map(|v| v.0)), (Some(2), Some(Some(0x0100))));
        for (v, want) in [("1.1", Some(0x0101)), ("'1.0'", Some(0x0100)), ("0x0200", Some(0x0200)), ("none", None)] {
            let q: BsdpRequest = serde_yaml::from_str(&format!("{{ message: list, version: {v} }}")).unwrap();
            assert_eq!(q.version.map(|v| v.0), Some(want), "{v}");
        }
        assert_eq!(serde_yaml::from_str::<BsdpMessage>("none").unwrap().value(), None);
        for bad in
            ["{ message: lst }", "{ message: 256 }", "{ message: list, version: 1.5 }", "{ message: list, x: 1 }"]
        {
            assert!(serde_yaml::from_str::<BsdpRequest>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn string_fields_are_terminated_or_not() {
        let mut msg = vec![0u8; 300];
        msg[0] = 2;
        let p = BootpPacket::new_unchecked(&msg[..]);
        assert_eq!(bootp_field(&p, "sname-terminated"), Val::Bool(true));
        assert_eq!(bootp_field(&p, "file-terminated"), Val::Bool(true));
        msg[44..108].fill(b' ');
        msg[108..236].fill(b'x');
        let p = BootpPacket::new_unchecked(&msg[..]);
        assert_eq!(bootp_field(&p, "sname-terminated"), Val::Bool(false));
        assert_eq!(bootp_field(&p, "file-terminated"), Val::Bool(false));
    }
}
