//! Offline checking, sans-IO: packets in, judged exchanges out.
//!
//! [`Checker`] takes the records of a capture in order, reassembles IPv4 fragments,
//! groups frames into exchanges and runs the rule catalogue on each:
//!
//! * **BOOTP/DHCP/BSDP**: a BOOTREQUEST opens an exchange keyed by xid and chaddr; a
//!   BOOTREPLY with the same xid and chaddr within the window is paired with it and every
//!   reply rule runs on the pair as it arrives. A later request with the same key (a
//!   retransmission, or DHCPREQUEST after DHCPDISCOVER) closes the exchange and opens the
//!   next — the reply always pairs with the latest request, as in the lab. A capture
//!   taken on both sides of a relay agent shows the client's request and then the
//!   relay's forwarded copy (giaddr set, hops higher): both stay in one exchange, the
//!   server's reply pairs with the forwarded copy, the relay's delivery to the client is
//!   recognised by its source (the giaddr), and the RFC 1542 §4 relay rules run on the
//!   four messages.
//! * **TFTP**: an RRQ or WRQ to port 69 opens a transfer keyed by the client's address
//!   and port; everything between that endpoint and the server's address (and anything
//!   sent to the server's transfer port from elsewhere: a wrong TID) belongs to it. It
//!   closes after an idle time or at the end, and the TFTP trace rules run on it.
//! * **RARP**: a request reverse opens an exchange keyed by the target hardware
//!   address; replies reverse for it within the window join it.
//!
//! Memory is bounded: at most [`Options::max_open`] exchanges are open at once (the
//! oldest is closed early when more arrive), each keeps at most
//! [`Options::max_frames`] frames, and closed exchanges leave only their verdict.

use std::collections::VecDeque;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::Ipv4Addr;
use std::time::Duration;

use bootcheck_rules::{
    Check, Context, Level, Msg, Pair, RelayContext, RelayView, Rule, TraceFrame, TraceView, Verdict,
};
use bootcheck_wire::arp;
use bootcheck_wire::bootp::{self, Packet as Bootp};
use bootcheck_wire::frame::{Frame, LinkType, Net, ETHERTYPE_ARP, ETHERTYPE_RARP};
use bootcheck_wire::options::Item;
use bootcheck_wire::tftp;
use serde::Serialize;

use crate::reader::{Issue, IssueKind, Record};
use crate::reasm::{Limits, Reassembler};

/// FxHash (rustc's): the maps here are keyed by xids, ports and ids from the
/// capture, looked up several times per packet; SipHash's flood resistance buys
/// nothing for a file being read, and costs a tenth of the run.
#[derive(Debug, Default, Clone, Copy)]
struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }
    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type HashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<Fx>>;

/// Tunables of the checker.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long after a request a reply still pairs with it.
    pub window: Duration,
    /// A TFTP transfer with no packet for this long is over.
    pub tftp_idle: Duration,
    /// Exchanges open at once.
    pub max_open: usize,
    /// Frames kept per exchange (a longer TFTP transfer is reported, its trace rules
    /// are not run on a part of it).
    pub max_frames: usize,
    /// Failures kept per exchange.
    pub max_failures: usize,
    /// UDP checksums in the capture mean something (captured off the wire, not on
    /// the sending host, where checksum offload leaves them unfinished).
    pub checksums_meaningful: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            window: Duration::from_secs(10),
            tftp_idle: Duration::from_secs(10),
            max_open: 65_536,
            max_frames: 65_536,
            max_failures: 32,
            checksums_meaningful: false,
        }
    }
}

/// The verdict on one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExchangeVerdict {
    /// Every rule that applied passed.
    Pass,
    /// A SHOULD (or MAY) rule failed, no MUST rule did.
    Warn,
    /// A MUST or MUST NOT rule failed.
    Fail,
    /// A request that got no reply in the capture (not a failure: a server may stay
    /// silent, and the capture may have missed the reply).
    Unanswered,
    /// A reply with no request before it in the capture: not checked.
    Unpaired,
    /// The exchange could not be checked (a TFTP transfer longer than the frame limit).
    Unchecked,
}

impl ExchangeVerdict {
    pub fn label(self) -> &'static str {
        match self {
            ExchangeVerdict::Pass => "pass",
            ExchangeVerdict::Warn => "warn",
            ExchangeVerdict::Fail => "FAIL",
            ExchangeVerdict::Unanswered => "unanswered",
            ExchangeVerdict::Unpaired => "unpaired",
            ExchangeVerdict::Unchecked => "unchecked",
        }
    }
}

/// A rule failure in an exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub rule: &'static str,
    pub level: &'static str,
    /// Packet number in the capture.
    pub packet: u64,
    /// Byte offset in that packet's frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<usize>,
    pub field: String,
    pub expected: String,
    pub seen: String,
}

/// One judged exchange.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    /// 1-based, in the order exchanges opened.
    pub id: u64,
    /// `bootp`, `dhcp`, `bsdp`, `relayed`, `tftp`, `rarp`.
    pub kind: &'static str,
    /// Packet numbers of its frames, in capture order.
    pub packets: Vec<u64>,
    /// Seconds since the first packet of the capture.
    pub start: f64,
    /// What happened, in one line.
    pub what: String,
    pub verdict: ExchangeVerdict,
    /// Rule verdicts that were pass or fail (n/a not counted).
    pub checked: u32,
    pub failures: Vec<Failure>,
    /// Why it was not (fully) checked, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Per-rule totals over a capture.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RuleTotal {
    pub rule: &'static str,
    pub level: &'static str,
    pub checked: u64,
    pub failed: u64,
}

/// Totals over everything checked.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub packets: u64,
    pub bytes: u64,
    pub bootp_messages: u64,
    pub tftp_packets: u64,
    pub arp_rarp_packets: u64,
    pub other_packets: u64,
    /// Datagrams rebuilt from IPv4 fragments.
    pub reassembled: u64,
    /// Frames that do not parse as their link type says (with why, first ones).
    pub unparsable: u64,
    pub exchanges: u64,
    pub by_verdict: std::collections::BTreeMap<String, u64>,
    /// Capture damage and fragments given up on.
    pub issues: u64,
    /// The most exchanges open at once, and the most frame octets they held: what
    /// memory depends on (the traffic's rate × the window), not the file's size.
    pub peak_open: u64,
    pub peak_held_octets: u64,
    /// Only rules that applied at least once.
    pub rules: Vec<RuleTotal>,
}

/// Something the checker has to say: a finished exchange or a problem with the input.
#[derive(Debug, Clone)]
pub enum Output {
    Exchange(Box<Exchange>),
    Issue(Issue),
}

#[derive(Debug)]
struct Stored {
    packet: u64,
    at: Duration,
    link: LinkType,
    bytes: Vec<u8>,
    /// From the client side (request, client's TFTP packets, RARP request).
    sent: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Request,
    Forwarded,
    Reply,
    Delivered,
    Other,
}

#[derive(Debug)]
enum Kind {
    Bootp { xid: u32 },
    Tftp { client: (Ipv4Addr, u16), server: Ipv4Addr, tid: Option<u16> },
    Rarp { target: [u8; 6] },
}

#[derive(Debug)]
struct Unit {
    id: u64,
    kind: Kind,
    opened: Duration,
    last: Duration,
    frames: Vec<(Stored, Role)>,
    packets: Vec<u64>,
    overflow: u64,
    checked: u32,
    failures: Vec<Failure>,
    worst: Option<Level>,
    replies: u32,
    what: String,
    /// Why some pairs were not checked.
    note: Option<String>,
    /// Request/reply pairs the reply rules ran on.
    pairs: u32,
}

/// The offline checker.
#[derive(Debug)]
pub struct Checker {
    opts: Options,
    ctx: Context,
    reasm: Reassembler,
    units: HashMap<u64, Unit>,
    order: VecDeque<(Duration, u64)>,
    next_id: u64,
    bootp_by_xid: HashMap<u32, Vec<u64>>,
    tftp_by_client: HashMap<(Ipv4Addr, u16), u64>,
    tftp_by_server: HashMap<(Ipv4Addr, u16), u64>,
    rarp_by_target: HashMap<[u8; 6], u64>,
    out: VecDeque<Output>,
    summary: Summary,
    rule_totals: Vec<(u64, u64)>,
    epoch: Option<Duration>,
    now: Duration,
    scratch: Vec<(usize, Verdict)>,
    held: u64,
}

fn rules() -> &'static [&'static Rule] {
    bootcheck_rules::catalogue()
}

impl Checker {
    pub fn new(opts: Options) -> Self {
        let ctx = Context { checksums_meaningful: opts.checksums_meaningful };
        Checker {
            ctx,
            reasm: Reassembler::new(Limits::default()),
            units: HashMap::default(),
            order: VecDeque::new(),
            next_id: 1,
            bootp_by_xid: HashMap::default(),
            tftp_by_client: HashMap::default(),
            tftp_by_server: HashMap::default(),
            rarp_by_target: HashMap::default(),
            out: VecDeque::new(),
            summary: Summary::default(),
            rule_totals: vec![(0, 0); rules().len()],
            epoch: None,
            now: Duration::ZERO,
            scratch: Vec::new(),
            held: 0,
            opts,
        }
    }

    /// The next finished exchange or input problem.
    pub fn poll(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// A problem the reader found in the file.
    pub fn issue(&mut self, issue: Issue) {
        self.summary.issues += 1;
        self.out.push_back(Output::Issue(issue));
    }

    /// Totals so far (complete after [`Checker::finish`]).
    pub fn summary(&self) -> Summary {
        let mut s = self.summary.clone();
        s.rules = rules()
            .iter()
            .zip(&self.rule_totals)
            .filter(|(_, (c, _))| *c > 0)
            .map(|(r, (c, f))| RuleTotal { rule: r.id, level: r.level.as_str(), checked: *c, failed: *f })
            .collect();
        s
    }

    /// The end of the capture: close everything.
    pub fn finish(&mut self) {
        self.reasm.finish();
        self.abandoned();
        let mut ids: Vec<u64> = self.units.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            self.close(id);
        }
        self.order.clear();
    }

    /// Take one captured packet.
    pub fn packet(&mut self, rec: &Record<'_>) {
        self.summary.packets += 1;
        self.summary.bytes += rec.data.len() as u64;
        let epoch = *self.epoch.get_or_insert(rec.time);
        let at = rec.time.checked_sub(epoch).unwrap_or_default();
        self.now = self.now.max(at);
        self.expire();
        if rec.is_cut() {
            self.issue(Issue {
                packet: rec.number,
                offset: rec.offset,
                kind: IssueKind::Cut { captured: rec.data.len() as u32, orig: rec.orig_len },
            });
            return;
        }
        let frame = match Frame::parse(rec.link, rec.data) {
            Ok(f) => f,
            Err(_) => {
                self.summary.unparsable += 1;
                return;
            }
        };
        if frame.ipv4().is_some_and(|i| i.is_fragment()) {
            // Fragments of boot traffic join their exchange when complete; the first
            // fragment (with the UDP header) also goes to the exchange as it is, for
            // the rule that replies must not be fragmented.
            if let Some(a) = self.reasm.push(rec.number, at, rec.link, rec.data, &frame) {
                self.summary.reassembled += 1;
                let frags: Vec<(u64, Duration, Vec<u8>)> =
                    a.fragments.into_iter().map(|f| (f.packet, f.time, f.bytes)).collect();
                if let Ok(whole) = Frame::parse(a.link, &a.bytes) {
                    self.frame(rec.number, at, a.link, &a.bytes, &whole, &frags);
                }
            }
            self.abandoned();
            return;
        }
        self.frame(rec.number, at, rec.link, rec.data, &frame, &[]);
    }

    fn abandoned(&mut self) {
        for a in self.reasm.take_abandoned() {
            self.summary.issues += 1;
            let first = a.packets.first().copied().unwrap_or(0);
            self.out.push_back(Output::Issue(Issue {
                packet: first,
                offset: 0,
                kind: IssueKind::BadRecord {
                    why: format!(
                        "IPv4 datagram {} → {} id {:#06x} (fragments in packets {:?}) not reassembled: {}",
                        a.src, a.dst, a.id, a.packets, a.why
                    ),
                    skipped: Some(0),
                },
            }));
        }
    }

    fn frame(
        &mut self,
        packet: u64,
        at: Duration,
        link: LinkType,
        bytes: &[u8],
        frame: &Frame<'_>,
        frags: &[(u64, Duration, Vec<u8>)],
    ) {
        match &frame.net {
            Net::Arp { body, .. } if frame.ethertype == ETHERTYPE_ARP || frame.ethertype == ETHERTYPE_RARP => {
                self.summary.arp_rarp_packets += 1;
                self.arp(packet, at, link, bytes, body);
            }
            Net::Ipv4(_) => {
                let Some(u) = frame.udp() else {
                    self.summary.other_packets += 1;
                    return;
                };
                let boot = [bootp::SERVER_PORT, bootp::CLIENT_PORT];
                if boot.contains(&u.src_port) || boot.contains(&u.dst_port) {
                    self.summary.bootp_messages += 1;
                    self.bootp(packet, at, link, bytes, frame, frags);
                } else if let Some(src) = frame.ipv4().map(|i| i.src) {
                    let dst = frame.ipv4().map_or(Ipv4Addr::UNSPECIFIED, |i| i.dst);
                    if !self.tftp(packet, at, link, bytes, (src, u.src_port), (dst, u.dst_port), u.payload) {
                        self.summary.other_packets += 1;
                    }
                }
            }
            _ => self.summary.other_packets += 1,
        }
    }

    fn new_unit(&mut self, kind: Kind, at: Duration, what: String) -> u64 {
        if self.units.len() >= self.opts.max_open {
            while let Some((_, id)) = self.order.pop_front() {
                if self.units.contains_key(&id) {
                    self.close(id);
                    break;
                }
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        self.units.insert(
            id,
            Unit {
                id,
                kind,
                opened: at,
                last: at,
                frames: Vec::new(),
                packets: Vec::new(),
                overflow: 0,
                checked: 0,
                failures: Vec::new(),
                worst: None,
                replies: 0,
                what,
                note: None,
                pairs: 0,
            },
        );
        self.order.push_back((at, id));
        self.summary.peak_open = self.summary.peak_open.max(self.units.len() as u64);
        id
    }

    fn store(&mut self, id: u64, s: Stored, role: Role) {
        let max = self.opts.max_frames;
        if let Some(u) = self.units.get_mut(&id) {
            u.last = u.last.max(s.at);
            u.packets.push(s.packet);
            if u.frames.len() < max {
                self.held += s.bytes.len() as u64;
                self.summary.peak_held_octets = self.summary.peak_held_octets.max(self.held);
                u.frames.push((s, role));
            } else {
                u.overflow += 1;
            }
        }
    }

    /// Close exchanges whose time is up.
    fn expire(&mut self) {
        while let Some(&(t, id)) = self.order.front() {
            let Some(u) = self.units.get(&id) else {
                self.order.pop_front();
                continue;
            };
            let (limit, since) = match u.kind {
                Kind::Tftp { .. } => (self.opts.tftp_idle, u.last),
                _ => (self.opts.window, u.opened),
            };
            if self.now.saturating_sub(since) <= limit {
                if since > t {
                    // Still active: look again later.
                    self.order.pop_front();
                    self.order.push_back((since, id));
                    if self.order.front().map(|f| f.1) == Some(id) {
                        break;
                    }
                    continue;
                }
                break;
            }
            self.order.pop_front();
            self.close(id);
        }
    }

    fn bootp(
        &mut self,
        packet: u64,
        at: Duration,
        link: LinkType,
        bytes: &[u8],
        frame: &Frame<'_>,
        frags: &[(u64, Duration, Vec<u8>)],
    ) {
        let Some(msg) = Msg::from_frame(packet as usize, at, frame.clone()) else { return };
        let Some(b) = msg.bootp.as_ref() else { return };
        let xid = b.xid();
        let hlen = usize::from(b.hlen()).min(16);
        let chaddr = b.chaddr_field().get(..hlen).unwrap_or(&[]).to_vec();
        let stored = |sent| Stored { packet, at, link, bytes: bytes.to_vec(), sent };
        let same_key = |u: &Unit| -> bool {
            u.frames.iter().find(|(_, r)| *r == Role::Request).is_some_and(|(s, _)| {
                Msg::parse(0, s.at, s.link, &s.bytes)
                    .and_then(|m| m.bootp.map(|q| q.chaddr_field().get(..hlen) == Some(&chaddr[..])))
                    .unwrap_or(false)
            })
        };
        if msg.is_request() {
            let open: Option<u64> = self
                .bootp_by_xid
                .get(&xid)
                .and_then(|ids| ids.iter().rev().copied().find(|id| self.units.get(id).is_some_and(same_key)));
            // A relay's forwarded copy of a request already seen: same exchange.
            if let Some(id) = open {
                let forwarded = self.units.get(&id).is_some_and(|u| {
                    let req = u.frames.iter().find(|(_, r)| *r == Role::Request);
                    let has_fwd = u.frames.iter().any(|(_, r)| *r == Role::Forwarded);
                    req.and_then(|(s, _)| Msg::parse(0, s.at, s.link, &s.bytes)).and_then(|m| m.bootp).is_some_and(
                        |q| {
                            !has_fwd
                                && q.giaddr().is_unspecified()
                                && !b.giaddr().is_unspecified()
                                && b.hops() > q.hops()
                        },
                    )
                });
                if forwarded {
                    self.store(id, stored(true), Role::Forwarded);
                    if let Some(u) = self.units.get_mut(&id) {
                        u.what.push_str(&format!(", relayed by {} (hops {})", b.giaddr(), b.hops()));
                    }
                    return;
                }
                self.close(id);
            }
            let what = describe_request(b);
            let id = self.new_unit(Kind::Bootp { xid }, at, what);
            self.store(id, stored(true), Role::Request);
            self.bootp_by_xid.entry(xid).or_default().push(id);
            return;
        }
        if !msg.is_reply() {
            return;
        }
        let open = self
            .bootp_by_xid
            .get(&xid)
            .and_then(|ids| ids.iter().rev().copied().find(|id| self.units.get(id).is_some_and(same_key)));
        let Some(id) = open else {
            let id = self.next_id;
            self.next_id += 1;
            self.summary.exchanges += 1;
            *self.summary.by_verdict.entry("unpaired".into()).or_default() += 1;
            self.out.push_back(Output::Exchange(Box::new(Exchange {
                id,
                kind: kind_of(b),
                packets: vec![packet],
                start: at.as_secs_f64(),
                what: format!("{} with no request for xid {xid:#010x} before it", describe_reply(b, &msg)),
                verdict: ExchangeVerdict::Unpaired,
                checked: 0,
                failures: Vec::new(),
                note: Some("no BOOTREQUEST with this xid and chaddr in the window before it".into()),
            })));
            return;
        };
        for (p, t, f) in frags {
            // The fragments of a reassembled reply, for the fragmentation rule.
            self.store(id, Stored { packet: *p, at: *t, link, bytes: f.clone(), sent: false }, Role::Other);
        }
        let Some(u) = self.units.get(&id) else { return };
        let request = u.frames.iter().find(|(_, r)| *r == Role::Request).map(|(s, _)| s);
        let fwd = u.frames.iter().find(|(_, r)| *r == Role::Forwarded).map(|(s, _)| s);
        // The relay's delivery to the client comes from the giaddr of the forwarded copy.
        let delivered = fwd
            .and_then(|s| Msg::parse(0, s.at, s.link, &s.bytes))
            .and_then(|m| m.bootp.map(|q| q.giaddr()))
            .is_some_and(|g| msg.src_ip() == Some(g));
        let role = if delivered { Role::Delivered } else { Role::Reply };
        if !delivered {
            if let Some(q) = fwd.or(request) {
                let qmsg = Msg::parse(q.packet as usize, q.at, q.link, &q.bytes);
                let skip = qmsg.as_ref().and_then(|q| out_of_scope(q, &msg, fwd.is_some()));
                if let Some(why) = skip {
                    if let Some(u) = self.units.get_mut(&id) {
                        u.note.get_or_insert(why);
                    }
                } else if let Some(qmsg) = qmsg {
                    let pair = Pair { request: &qmsg, reply: &msg, ctx: &self.ctx };
                    // One buffer for every pair's verdicts: no allocation per reply.
                    let mut results = std::mem::take(&mut self.scratch);
                    results.clear();
                    for (i, r) in rules().iter().enumerate() {
                        if let Check::Reply(f) = r.check {
                            results.push((i, f(&pair)));
                        }
                    }
                    self.fold(id, &results);
                    self.scratch = results;
                    if let Some(u) = self.units.get_mut(&id) {
                        u.pairs += 1;
                    }
                }
            }
        }
        let describe = describe_reply(b, &msg);
        if let Some(u) = self.units.get_mut(&id) {
            u.replies += 1;
            if u.replies <= 3 {
                u.what.push_str(&format!(" → {describe}"));
            }
        }
        self.store(id, stored(false), role);
    }

    fn fold(&mut self, id: u64, results: &[(usize, Verdict)]) {
        if let Some(u) = self.units.get_mut(&id) {
            fold_into(u, &mut self.rule_totals, results, self.opts.max_failures);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn tftp(
        &mut self,
        packet: u64,
        at: Duration,
        link: LinkType,
        bytes: &[u8],
        src: (Ipv4Addr, u16),
        dst: (Ipv4Addr, u16),
        payload: &[u8],
    ) -> bool {
        let stored = |sent| Stored { packet, at, link, bytes: bytes.to_vec(), sent };
        let opcode = payload.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]));
        if dst.1 == tftp::SERVER_PORT && matches!(opcode, Some(1) | Some(2)) {
            self.summary.tftp_packets += 1;
            if let Some(old) = self.tftp_by_client.get(&src).copied() {
                // The same client asking again from the same port: a retransmitted
                // RRQ before any answer stays in the transfer, otherwise a new one.
                let answered = self.units.get(&old).is_some_and(|u| u.frames.iter().any(|(s, _)| !s.sent));
                if !answered {
                    self.store(old, stored(true), Role::Request);
                    return true;
                }
                self.close(old);
            }
            let what = match tftp::Repr::parse_bytes(payload) {
                Ok(r) => format!("{r} from {}:{}", src.0, src.1),
                Err(_) => format!("TFTP request (malformed) from {}:{}", src.0, src.1),
            };
            let id = self.new_unit(Kind::Tftp { client: src, server: dst.0, tid: None }, at, what);
            self.tftp_by_client.insert(src, id);
            self.store(id, stored(true), Role::Request);
            return true;
        }
        // The server's answers to the client endpoint.
        if let Some(id) = self.tftp_by_client.get(&dst).copied() {
            let mut tid_new = None;
            if let Some(Unit { kind: Kind::Tftp { server, tid, .. }, .. }) = self.units.get_mut(&id) {
                if *server == src.0 || src.1 != tftp::SERVER_PORT {
                    if tid.is_none() {
                        *tid = Some(src.1);
                        tid_new = Some((src.0, src.1));
                    }
                } else {
                    return false;
                }
            }
            if let Some(k) = tid_new {
                self.tftp_by_server.insert(k, id);
            }
            self.summary.tftp_packets += 1;
            self.store(id, stored(false), Role::Reply);
            return true;
        }
        // The client's packets to the server's TID (or anyone's: a wrong TID).
        if let Some(id) = self.tftp_by_server.get(&dst).copied() {
            self.summary.tftp_packets += 1;
            self.store(id, stored(true), Role::Request);
            return true;
        }
        // The server answering a wrong TID at its port.
        if let Some(id) = self.tftp_by_server.get(&src).copied() {
            self.summary.tftp_packets += 1;
            self.store(id, stored(false), Role::Reply);
            return true;
        }
        false
    }

    fn arp(&mut self, packet: u64, at: Duration, link: LinkType, bytes: &[u8], body: &[u8]) {
        let Ok(p) = arp::Packet::new_checked(body) else { return };
        let stored = |sent| Stored { packet, at, link, bytes: bytes.to_vec(), sent };
        match p.operation() {
            arp::Operation::RarpRequest => {
                let Some(target) = p.target_mac() else { return };
                if let Some(old) = self.rarp_by_target.remove(&target) {
                    self.close(old);
                }
                let id = self.new_unit(Kind::Rarp { target }, at, format!("RARP who-is {}", mac(&target)));
                self.rarp_by_target.insert(target, id);
                self.store(id, stored(true), Role::Request);
            }
            arp::Operation::RarpReply => {
                let Some(target) = p.target_mac() else { return };
                match self.rarp_by_target.get(&target).copied() {
                    Some(id) => {
                        if let Some(u) = self.units.get_mut(&id) {
                            u.replies += 1;
                            if u.replies == 1 {
                                let ip = p.target_ipv4().map_or("?".to_string(), |i| i.to_string());
                                u.what.push_str(&format!(" → {ip}"));
                            }
                        }
                        self.store(id, stored(false), Role::Reply);
                    }
                    None => {
                        let id = self.next_id;
                        self.next_id += 1;
                        self.summary.exchanges += 1;
                        *self.summary.by_verdict.entry("unpaired".into()).or_default() += 1;
                        self.out.push_back(Output::Exchange(Box::new(Exchange {
                            id,
                            kind: "rarp",
                            packets: vec![packet],
                            start: at.as_secs_f64(),
                            what: format!("RARP reply for {} with no request before it", mac(&target)),
                            verdict: ExchangeVerdict::Unpaired,
                            checked: 0,
                            failures: Vec::new(),
                            note: None,
                        })));
                    }
                }
            }
            _ => {}
        }
    }

    /// Finish an exchange: trace rules, relay rules, verdict.
    fn close(&mut self, id: u64) {
        let Some(u) = self.units.remove(&id) else { return };
        self.held -= u.frames.iter().map(|(s, _)| s.bytes.len() as u64).sum::<u64>();
        match &u.kind {
            Kind::Bootp { xid } => {
                if let Some(ids) = self.bootp_by_xid.get_mut(xid) {
                    ids.retain(|i| *i != id);
                    if ids.is_empty() {
                        self.bootp_by_xid.remove(xid);
                    }
                }
            }
            Kind::Tftp { client, server, tid } => {
                if self.tftp_by_client.get(client) == Some(&id) {
                    self.tftp_by_client.remove(client);
                }
                if let Some(t) = tid {
                    if self.tftp_by_server.get(&(*server, *t)) == Some(&id) {
                        self.tftp_by_server.remove(&(*server, *t));
                    }
                }
            }
            Kind::Rarp { target } => {
                if self.rarp_by_target.get(target) == Some(&id) {
                    self.rarp_by_target.remove(target);
                }
            }
        }
        let truncated = u.overflow > 0;
        let mut results = std::mem::take(&mut self.scratch);
        results.clear();
        if !truncated {
            let frames: Vec<TraceFrame<'_>> = u
                .frames
                .iter()
                .filter_map(|(s, _)| {
                    Some(TraceFrame {
                        packet: s.packet as usize,
                        at: s.at,
                        sent: s.sent,
                        frame: Frame::parse(s.link, &s.bytes).ok()?,
                        bytes: &s.bytes,
                    })
                })
                .collect();
            let view = TraceView::new(&frames, self.ctx.checksums_meaningful);
            for (i, r) in rules().iter().enumerate() {
                if let Check::Trace(f) = r.check {
                    results.push((i, f(&view)));
                }
            }
            // Both sides of a relay agent seen: the relay rules.
            if matches!(u.kind, Kind::Bootp { .. }) {
                let msg_of = |role: Role| {
                    u.frames
                        .iter()
                        .find(|(_, r)| *r == role)
                        .and_then(|(s, _)| Msg::parse(s.packet as usize, s.at, s.link, &s.bytes))
                };
                let (request, forwarded) = (msg_of(Role::Request), msg_of(Role::Forwarded));
                if let (Some(request), Some(forwarded)) = (&request, &forwarded) {
                    let reply = msg_of(Role::Reply);
                    let delivered = msg_of(Role::Delivered);
                    let giaddr = forwarded.bootp.as_ref().map_or(Ipv4Addr::UNSPECIFIED, Bootp::giaddr);
                    // What the relay was configured with is not in the capture: its
                    // address is the giaddr it used, the hops limit the RFC's maximum.
                    let ctx = RelayContext { client_side_ip: giaddr, max_hops: 16, min_secs: 0 };
                    let view = RelayView {
                        request,
                        forwarded: Some(forwarded),
                        reply: reply.as_ref(),
                        delivered: delivered.as_ref(),
                        ctx: &ctx,
                    };
                    for (i, r) in rules().iter().enumerate() {
                        if let Check::Relay(f) = r.check {
                            results.push((i, f(&view)));
                        }
                    }
                }
            }
        }
        // Fold into the unit (it is out of the map now).
        let mut u = u;
        fold_into(&mut u, &mut self.rule_totals, &results, self.opts.max_failures);
        self.scratch = results;
        let answered = u.frames.iter().any(|(s, _)| !s.sent);
        let (verdict, note) = match u.worst {
            None if u.pairs == 0 && u.note.is_some() => (ExchangeVerdict::Unchecked, u.note.take()),
            Some(l) if l.is_mandatory() => (ExchangeVerdict::Fail, None),
            Some(_) => (ExchangeVerdict::Warn, None),
            None if truncated => (
                ExchangeVerdict::Unchecked,
                Some(format!(
                    "{} frames, more than the {} kept per exchange; raise --max-frames to check it",
                    u.packets.len(),
                    self.opts.max_frames
                )),
            ),
            None if !answered => (ExchangeVerdict::Unanswered, None),
            None => (ExchangeVerdict::Pass, None),
        };
        let kind = match &u.kind {
            Kind::Bootp { .. } => {
                let first = u.frames.first().and_then(|(s, _)| Msg::parse(0, s.at, s.link, &s.bytes));
                let k = first.as_ref().and_then(|m| m.bootp.as_ref()).map_or("bootp", kind_of);
                if u.frames.iter().any(|(_, r)| *r == Role::Forwarded) {
                    "relayed"
                } else {
                    k
                }
            }
            Kind::Tftp { .. } => "tftp",
            Kind::Rarp { .. } => "rarp",
        };
        if u.replies > 3 {
            u.what.push_str(&format!(" (+{} more replies)", u.replies - 3));
        }
        if matches!(u.kind, Kind::Tftp { .. }) {
            u.what.push_str(&format!(", {} packets", u.packets.len()));
        }
        self.summary.exchanges += 1;
        *self.summary.by_verdict.entry(verdict.label().to_lowercase()).or_default() += 1;
        self.out.push_back(Output::Exchange(Box::new(Exchange {
            id: u.id,
            kind,
            packets: u.packets,
            start: u.opened.as_secs_f64(),
            what: u.what,
            verdict,
            checked: u.checked,
            failures: u.failures,
            note,
        })));
    }
}

/// Why a request/reply pair is outside what the catalogue can judge, if it is.
fn out_of_scope(q: &Msg<'_>, r: &Msg<'_>, forwarded_seen: bool) -> Option<String> {
    let (qb, rb) = (q.bootp.as_ref()?, r.bootp.as_ref()?);
    if let Some(t) = qb.find(53).and_then(|o| o.option.data.first().copied()) {
        if !(1..=8).contains(&t) {
            return Some(format!(
                "DHCP message type {t} is outside the rule catalogue (RFC 2132 §9.6 types 1-8; 10-13 are RFC 4388 leasequery)"
            ));
        }
    }
    if !forwarded_seen && qb.giaddr().is_unspecified() && !rb.giaddr().is_unspecified() {
        return Some(format!(
            "the reply (giaddr {}) answers a relayed copy of the request that is not in the capture: it was taken on both sides of a relay agent without the relay's own leg",
            rb.giaddr()
        ));
    }
    None
}

/// Count rule verdicts into an exchange and the per-rule totals; keep the first
/// `max` failures and the worst level failed.
fn fold_into(u: &mut Unit, totals: &mut [(u64, u64)], results: &[(usize, Verdict)], max: usize) {
    for (i, v) in results {
        fold_one(u, totals, *i, v, max);
    }
}

/// Count one rule verdict (rule `i` of the catalogue) into an exchange.
fn fold_one(u: &mut Unit, totals: &mut [(u64, u64)], i: usize, v: &Verdict, max: usize) {
    let rule = rules()[i];
    match v {
        Verdict::NotApplicable => {}
        Verdict::Pass => {
            u.checked += 1;
            totals[i].0 += 1;
        }
        Verdict::Fail(e) => {
            u.checked += 1;
            totals[i].0 += 1;
            totals[i].1 += 1;
            if u.worst.is_none_or(|w| !w.is_mandatory() && rule.level.is_mandatory()) {
                u.worst = Some(rule.level);
            }
            if u.failures.len() < max {
                u.failures.push(Failure {
                    rule: rule.id,
                    level: rule.level.as_str(),
                    packet: e.packet as u64,
                    offset: e.offset,
                    field: e.field.clone(),
                    expected: e.expected.clone(),
                    seen: e.seen.clone(),
                });
            }
        }
    }
}

fn kind_of(b: &Bootp<&[u8]>) -> &'static str {
    if b.message_type().is_none() {
        return "bootp";
    }
    let is_bsdp = b
        .walk()
        .any(|it| matches!(it, Ok(Item::Option(o)) if o.option.code == 60 && o.option.data.starts_with(b"AAPLBSDPC")));
    if is_bsdp {
        "bsdp"
    } else {
        "dhcp"
    }
}

fn mac(b: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        let _ = write!(s, "{}{x:02x}", if i > 0 { ":" } else { "" });
    }
    s
}

fn message_name(b: &Bootp<&[u8]>, fallback: &str) -> String {
    match b.message_type() {
        Some(t) => format!("DHCP{}", format!("{t:?}").to_uppercase()),
        None => fallback.to_string(),
    }
}

fn describe_request(b: &Bootp<&[u8]>) -> String {
    let hlen = usize::from(b.hlen()).min(16);
    let mut s = format!(
        "{} xid {:#010x} from {}",
        message_name(b, "BOOTREQUEST"),
        b.xid(),
        mac(b.chaddr_field().get(..hlen).unwrap_or(&[]))
    );
    if !b.giaddr().is_unspecified() {
        s.push_str(&format!(" via {}", b.giaddr()));
    }
    s
}

fn describe_reply(b: &Bootp<&[u8]>, m: &Msg<'_>) -> String {
    let mut s = message_name(b, "BOOTREPLY");
    if !b.yiaddr().is_unspecified() {
        s.push_str(&format!(" {}", b.yiaddr()));
    }
    if let Some(src) = m.src_ip() {
        s.push_str(&format!(" from {src}"));
    }
    s
}
