//! The load generator's state, sans-IO: which client starts the next exchange, the
//! exchanges in flight (xid, send times, DORA phase), matching replies by xid and
//! chaddr, timeouts, counters and latency histograms. Time comes in as a `Duration`
//! since the start; frames go out through [`Generator::poll_transmit`] and come in
//! through [`Generator::handle_frame`]. The lab driver (`super::drive`) and the tests
//! (a responder in virtual time) are its only callers.
//!
//! * Clients: each has at most one exchange in flight (a real client's behaviour; a
//!   server may well drop a second DISCOVER of a client it is still answering), or
//!   `per_client` (perfdhcp's way: near a server's capacity its latency needs more
//!   exchanges in flight than the subnet has addresses for clients). Idle clients queue
//!   round-robin.
//! * Open loop (`Pacing::Open`): a token bucket at `rate` starts exchanges whatever the
//!   answers; a start due while every client is busy is counted as `skipped`.
//!   Closed loop (`Pacing::Closed`): a new exchange starts whenever fewer than `window`
//!   are in flight (as fast as the server answers).
//! * An exchange is a BOOTREQUEST/BOOTREPLY, or a whole DORA (DISCOVER → OFFER →
//!   REQUEST with the same xid → ACK); each leg has `timeout`; the REQUEST goes out as
//!   soon as the OFFER is in, unpaced.
//! * xid = `xid_base` + the exchange's sequence number, so a reply's xid finds its slot
//!   in a ring of the last [`RING`] exchanges directly; the slot remembers a finished
//!   exchange, so a second answer is a duplicate and an answer after the timeout is late.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Serialize;

use bootcheck_mutate::is_safe_frame;

use super::frames::{self, msg, Addressing, Kind, Template};
use super::hist::Histogram;

/// Exchanges remembered (for matching, duplicates and late answers).
pub const RING: usize = 1 << 18;

/// What one exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exchange {
    /// A pure BOOTREQUEST answered by a BOOTREPLY.
    Bootp,
    /// DHCPDISCOVER → DHCPOFFER → DHCPREQUEST → DHCPACK.
    Dora,
}

/// How exchanges are started.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pacing {
    /// `rate` exchanges per second, whatever the answers (token bucket of `burst`).
    Open { rate: f64, burst: f64 },
    /// As fast as answered, at most `window` exchanges in flight.
    Closed { window: usize },
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenConfig {
    pub exchange: Exchange,
    pub addressing: Addressing,
    pub pacing: Pacing,
    /// chaddr of each client (distinct).
    pub clients: Vec<[u8; 6]>,
    /// Exchanges one client may have in flight at once (at least 1).
    pub per_client: usize,
    /// Per leg.
    pub timeout: Duration,
    /// Start at most this many exchanges.
    pub max_requests: u64,
    /// Start none after this.
    pub duration: Duration,
    pub xid_base: u32,
    /// The server identifier to put in a DHCPREQUEST whose OFFER had none.
    pub server_id: [u8; 4],
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Exchanges started (the first request sent).
    pub sent: u64,
    /// Exchanges answered completely (the BOOTREPLY; for DORA the DHCPACK).
    pub received: u64,
    /// Exchanges with a leg unanswered within the timeout.
    pub drops: u64,
    /// DORA: drops in the DISCOVER → OFFER leg.
    pub drops_first_leg: u64,
    /// DORA: drops in the REQUEST → ACK leg.
    pub drops_second_leg: u64,
    /// DORA: exchanges answered with a DHCPNAK.
    pub naks: u64,
    /// Replies that match no exchange in flight: an unknown xid, another chaddr, an
    /// unexpected message type, or `late` ones.
    pub orphans: u64,
    /// Replies to a leg already given up (counted in `orphans` too).
    pub late: u64,
    /// Further replies to a leg already answered.
    pub duplicates: u64,
    /// Open loop: starts that were due while every client had an exchange in flight.
    pub skipped: u64,
    /// Request frames handed out (DISCOVERs and REQUESTs both count).
    pub frames_sent: u64,
    /// BOOTREPLY frames seen.
    pub frames_received: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Phase {
    #[default]
    Free,
    /// The first request is out.
    Leg1,
    /// DORA: the OFFER is in, the REQUEST is queued.
    Leg2Queued,
    /// DORA: the REQUEST is out.
    Leg2,
    /// Answered (or NAKed).
    Done,
    /// Given up.
    Expired,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    seq: u32,
    client: u32,
    phase: Phase,
    /// When the exchange started and when the current leg was sent (ns since start).
    started: u64,
    leg_sent: u64,
    yiaddr: [u8; 4],
    server_id: [u8; 4],
}

/// The generator.
#[derive(Debug)]
pub struct Generator {
    cfg: GenConfig,
    first: Template,
    second: Option<Template>,
    ring: Vec<Slot>,
    next_seq: u32,
    /// Oldest exchange whose first leg may still be in flight (first legs go out in
    /// sequence order, so this is also the oldest first-leg deadline).
    tail: u32,
    /// DORA: REQUESTs sent, in send order (their deadlines are in the same order).
    second_legs: VecDeque<u32>,
    /// DORA: REQUESTs to send.
    queued: VecDeque<u32>,
    idle: VecDeque<u32>,
    in_flight: usize,
    tokens: f64,
    last_refill: Duration,
    stopped: bool,
    pub counters: Counters,
    /// Whole exchanges (DORA: DISCOVER sent → ACK in).
    pub latency: Histogram,
    /// DORA: DISCOVER → OFFER.
    pub latency_first_leg: Histogram,
    /// DORA: REQUEST → ACK.
    pub latency_second_leg: Histogram,
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Generator {
    pub fn new(cfg: GenConfig) -> Result<Generator, String> {
        if cfg.clients.is_empty() {
            return Err("no clients".into());
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = cfg.clients.iter().find(|c| !seen.insert(**c)) {
            return Err(format!("client MAC {dup:02x?} twice"));
        }
        match cfg.pacing {
            Pacing::Open { rate, burst } if !(rate > 0.0 && rate.is_finite() && burst >= 1.0) => {
                return Err(format!("rate {rate}/s, burst {burst}: both must be positive (burst at least 1)"));
            }
            Pacing::Closed { window: 0 } => return Err("a window of 0 exchanges in flight".into()),
            _ => {}
        }
        let (first, second) = match cfg.exchange {
            Exchange::Bootp => (Template::new(Kind::Bootp, cfg.addressing), None),
            Exchange::Dora => {
                (Template::new(Kind::Discover, cfg.addressing), Some(Template::new(Kind::Request, cfg.addressing)))
            }
        };
        // Every frame goes to 255.255.255.255 or the server's address: refuse anything
        // outside RFC 5737 before a single frame is built from a template.
        if let Some(t) = std::iter::once(&first).chain(second.as_ref()).find(|t| !is_safe_frame(t.frame())) {
            return Err(format!("refusing a {:?} template addressed outside RFC 5737: {:?}", t.kind, t.addressing));
        }
        if cfg.per_client == 0 {
            return Err("0 exchanges in flight per client".into());
        }
        let n = u32::try_from(cfg.clients.len()).map_err(|_| "too many clients")?;
        // Round-robin: every client once, then every client again, …
        let idle = (0..cfg.per_client.min(RING / 4)).flat_map(|_| 0..n).collect();
        let tokens = match cfg.pacing {
            Pacing::Open { .. } => 1.0,
            Pacing::Closed { .. } => 0.0,
        };
        Ok(Generator {
            cfg,
            first,
            second,
            ring: vec![Slot::default(); RING],
            next_seq: 0,
            tail: 0,
            second_legs: VecDeque::new(),
            queued: VecDeque::new(),
            idle,
            in_flight: 0,
            tokens,
            last_refill: Duration::ZERO,
            stopped: false,
            counters: Counters::default(),
            latency: Histogram::new(),
            latency_first_leg: Histogram::new(),
            latency_second_leg: Histogram::new(),
        })
    }

    pub fn config(&self) -> &GenConfig {
        &self.cfg
    }

    /// Start no more exchanges (Ctrl-C, or the caller's own bound); those in flight
    /// still finish or time out.
    pub fn stop(&mut self) {
        self.stopped = true;
    }

    /// Whether new exchanges may still start at `now`.
    pub fn starting(&self, now: Duration) -> bool {
        !self.stopped && u64::from(self.next_seq) < self.cfg.max_requests && now < self.cfg.duration
    }

    /// Why starting ended: `interrupted`, `max-requests`, `duration`; `None` while it goes on.
    pub fn stop_reason(&self, now: Duration) -> Option<&'static str> {
        if self.stopped {
            Some("interrupted")
        } else if u64::from(self.next_seq) >= self.cfg.max_requests {
            Some("max-requests")
        } else if now >= self.cfg.duration {
            Some("duration")
        } else {
            None
        }
    }

    /// Exchanges in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Nothing left to start, send or wait for.
    pub fn is_done(&self, now: Duration) -> bool {
        !self.starting(now) && self.in_flight == 0
    }

    fn slot(&self, seq: u32) -> &Slot {
        &self.ring[seq as usize % RING]
    }
    fn slot_mut(&mut self, seq: u32) -> &mut Slot {
        &mut self.ring[seq as usize % RING]
    }

    fn refill(&mut self, now: Duration) {
        if let Pacing::Open { rate, burst } = self.cfg.pacing {
            let dt = now.saturating_sub(self.last_refill).as_secs_f64();
            self.tokens = (self.tokens + rate * dt).min(burst);
            self.last_refill = now;
        }
    }

    /// The next request frame due at `now`, written into `out`; `false` when none is.
    /// Queued DORA REQUESTs go first, then a new exchange if the pacing allows it.
    pub fn poll_transmit(&mut self, now: Duration, out: &mut Vec<u8>) -> bool {
        let t = ns(now);
        while let Some(seq) = self.queued.pop_front() {
            let s = *self.slot(seq);
            if s.seq != seq || s.phase != Phase::Leg2Queued {
                continue;
            }
            let Some(tpl) = &self.second else { continue };
            tpl.write(out, self.xid(seq), self.cfg.clients[s.client as usize], s.yiaddr, s.server_id);
            let slot = self.slot_mut(seq);
            slot.phase = Phase::Leg2;
            slot.leg_sent = t;
            self.second_legs.push_back(seq);
            self.counters.frames_sent += 1;
            return true;
        }
        if !self.starting(now) {
            return false;
        }
        match self.cfg.pacing {
            Pacing::Open { .. } => {
                self.refill(now);
                if self.tokens < 1.0 {
                    return false;
                }
                if self.idle.is_empty() {
                    // Due, but every client is busy: these starts are lost (open loop:
                    // not delayed until a client is free).
                    let lost = self.tokens.floor();
                    self.tokens -= lost;
                    self.counters.skipped += lost as u64;
                    return false;
                }
                self.tokens -= 1.0;
            }
            Pacing::Closed { window } => {
                if self.in_flight >= window {
                    return false;
                }
            }
        }
        let seq = self.next_seq;
        let old = *self.slot(seq);
        if old.seq != seq && matches!(old.phase, Phase::Leg1 | Phase::Leg2Queued | Phase::Leg2) {
            // Still in flight RING exchanges later (only with a timeout longer than
            // RING / rate): given up now, so the ring never stalls.
            self.expire(old.seq, old.phase != Phase::Leg1);
        }
        let Some(client) = self.idle.pop_front() else { return false };
        self.next_seq = self.next_seq.wrapping_add(1);
        *self.slot_mut(seq) = Slot { seq, client, phase: Phase::Leg1, started: t, leg_sent: t, ..Slot::default() };
        self.in_flight += 1;
        self.first.write(out, self.xid(seq), self.cfg.clients[client as usize], [0; 4], [0; 4]);
        self.counters.sent += 1;
        self.counters.frames_sent += 1;
        true
    }

    fn xid(&self, seq: u32) -> u32 {
        self.cfg.xid_base.wrapping_add(seq)
    }

    /// A frame from the wire at `now`.
    pub fn handle_frame(&mut self, now: Duration, frame: &[u8]) {
        let Some(r) = frames::parse_reply(frame) else { return };
        self.handle_reply(now, &r);
    }

    /// A parsed reply at `now`.
    pub fn handle_reply(&mut self, now: Duration, r: &frames::Reply) {
        self.counters.frames_received += 1;
        let t = ns(now);
        let seq = r.xid.wrapping_sub(self.cfg.xid_base);
        // Not one of the last RING exchanges started.
        if self.next_seq.wrapping_sub(seq) == 0 || self.next_seq.wrapping_sub(seq) > RING as u32 {
            self.counters.orphans += 1;
            return;
        }
        let s = *self.slot(seq);
        if s.seq != seq || s.phase == Phase::Free || self.cfg.clients[s.client as usize] != r.chaddr {
            self.counters.orphans += 1;
            return;
        }
        match (self.cfg.exchange, s.phase, r.msg_type) {
            (_, Phase::Expired, _) => {
                self.counters.late += 1;
                self.counters.orphans += 1;
            }
            (Exchange::Bootp, Phase::Leg1, _) => {
                self.latency.record(Duration::from_nanos(t.saturating_sub(s.started)));
                self.finish(seq, true);
            }
            (Exchange::Bootp, _, _) => self.counters.duplicates += 1,
            (Exchange::Dora, Phase::Leg1, Some(msg::OFFER)) => {
                self.latency_first_leg.record(Duration::from_nanos(t.saturating_sub(s.leg_sent)));
                let server_id = r.server_id.unwrap_or(self.cfg.server_id);
                let slot = self.slot_mut(seq);
                slot.phase = Phase::Leg2Queued;
                slot.yiaddr = r.yiaddr;
                slot.server_id = server_id;
                self.queued.push_back(seq);
            }
            (Exchange::Dora, Phase::Leg2Queued | Phase::Leg2 | Phase::Done, Some(msg::OFFER)) => {
                self.counters.duplicates += 1;
            }
            (Exchange::Dora, Phase::Leg2, Some(msg::ACK)) => {
                self.latency_second_leg.record(Duration::from_nanos(t.saturating_sub(s.leg_sent)));
                self.latency.record(Duration::from_nanos(t.saturating_sub(s.started)));
                self.finish(seq, true);
            }
            (Exchange::Dora, Phase::Leg2, Some(msg::NAK)) => {
                self.counters.naks += 1;
                self.finish(seq, false);
            }
            (Exchange::Dora, Phase::Done, Some(msg::ACK | msg::NAK)) => self.counters.duplicates += 1,
            // An ACK before the REQUEST, a BOOTREPLY without a message type, …
            _ => self.counters.orphans += 1,
        }
    }

    fn finish(&mut self, seq: u32, answered: bool) {
        let client = {
            let slot = self.slot_mut(seq);
            slot.phase = Phase::Done;
            slot.client
        };
        if answered {
            self.counters.received += 1;
        }
        self.in_flight -= 1;
        self.idle.push_back(client);
    }

    fn expire(&mut self, seq: u32, second_leg: bool) {
        let client = {
            let slot = self.slot_mut(seq);
            slot.phase = Phase::Expired;
            slot.client
        };
        self.counters.drops += 1;
        if self.cfg.exchange == Exchange::Dora {
            if second_leg {
                self.counters.drops_second_leg += 1;
            } else {
                self.counters.drops_first_leg += 1;
            }
        }
        self.in_flight -= 1;
        self.idle.push_back(client);
    }

    /// Give up the legs whose timeout passed at `now`.
    pub fn handle_timeout(&mut self, now: Duration) {
        let t = ns(now);
        let to = ns(self.cfg.timeout);
        while self.tail != self.next_seq {
            let s = *self.slot(self.tail);
            if s.seq != self.tail {
                // Reused by a later exchange (this one was given up when it was).
                self.tail = self.tail.wrapping_add(1);
                continue;
            }
            match s.phase {
                Phase::Leg1 if s.leg_sent.saturating_add(to) <= t => self.expire(self.tail, false),
                Phase::Leg1 => break,
                // A queued REQUEST that never went out (the caller stopped sending).
                Phase::Leg2Queued if s.leg_sent.saturating_add(to) <= t => self.expire(self.tail, true),
                Phase::Leg2Queued => break,
                _ => {}
            }
            self.tail = self.tail.wrapping_add(1);
        }
        while let Some(&seq) = self.second_legs.front() {
            let s = *self.slot(seq);
            if s.seq == seq && s.phase == Phase::Leg2 {
                if s.leg_sent.saturating_add(to) > t {
                    break;
                }
                self.expire(seq, true);
            }
            self.second_legs.pop_front();
        }
    }

    /// When something is due next (a token, a timeout, the end of the duration);
    /// `None`: nothing will happen without a frame. Queued REQUESTs are due now.
    pub fn poll_timeout(&self, now: Duration) -> Option<Duration> {
        if !self.queued.is_empty() {
            return Some(now);
        }
        let to = self.cfg.timeout;
        let mut next: Option<Duration> = None;
        let mut at = |d: Duration| next = Some(next.map_or(d, |n| n.min(d)));
        if self.tail != self.next_seq {
            let s = self.slot(self.tail);
            if s.seq == self.tail && matches!(s.phase, Phase::Leg1 | Phase::Leg2Queued) {
                at(Duration::from_nanos(s.leg_sent) + to);
            } else {
                // Finished ones at the tail are skipped at the next handle_timeout.
                at(now);
            }
        }
        if let Some(&seq) = self.second_legs.front() {
            at(Duration::from_nanos(self.slot(seq).leg_sent) + to);
        }
        if self.starting(now) {
            match self.cfg.pacing {
                Pacing::Open { rate, .. } => {
                    let wait = ((1.0 - self.tokens).max(0.0) / rate).min(1.0);
                    at(now + Duration::from_secs_f64(wait));
                }
                Pacing::Closed { window } if self.in_flight < window && !self.idle.is_empty() => at(now),
                Pacing::Closed { .. } => {}
            }
            at(self.cfg.duration);
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frames::off;

    fn cfg(exchange: Exchange, pacing: Pacing, clients: usize) -> GenConfig {
        GenConfig {
            exchange,
            addressing: Addressing::Client,
            pacing,
            clients: (0..clients).map(|i| [2, 0x1c, 0, 0, (i >> 8) as u8, i as u8]).collect(),
            per_client: 1,
            timeout: Duration::from_millis(100),
            max_requests: u64::MAX,
            duration: Duration::from_secs(3600),
            xid_base: 0x1000,
            server_id: [192, 0, 2, 1],
        }
    }

    /// A reply to `req` (a request frame): op 2, the message type for DORA.
    fn answer(req: &[u8], msg_type: Option<u8>) -> Vec<u8> {
        let mut f = req.to_vec();
        f[off::BOOTP] = 2;
        f[off::UDP + 2..off::UDP + 4].copy_from_slice(&68u16.to_be_bytes());
        if let Some(t) = msg_type {
            f[off::OPTIONS + 2] = t;
        }
        f
    }

    fn msg_type(req: &[u8]) -> u8 {
        req[off::OPTIONS + 2]
    }

    #[test]
    fn closed_loop_bootp_keeps_the_window_full_and_counts_latency() {
        let mut g = Generator::new(cfg(Exchange::Bootp, Pacing::Closed { window: 4 }, 10)).expect("gen");
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while g.poll_transmit(Duration::ZERO, &mut buf) {
            out.push(buf.clone());
        }
        assert_eq!(out.len(), 4, "window of 4");
        let chaddrs: std::collections::HashSet<_> =
            out.iter().map(|f| f[off::CHADDR..off::CHADDR + 6].to_vec()).collect();
        assert_eq!(chaddrs.len(), 4, "distinct clients");
        for f in &out {
            g.handle_frame(Duration::from_micros(50), &answer(f, None));
        }
        assert_eq!(g.counters.received, 4);
        assert_eq!(g.in_flight(), 0);
        // A second answer is a duplicate.
        g.handle_frame(Duration::from_micros(60), &answer(&out[0], None));
        assert_eq!(g.counters.duplicates, 1);
        let s = g.latency.summary().expect("latency");
        assert!((s.median_us - 50.0).abs() < 2.0, "{s:?}");
        assert!(g.poll_transmit(Duration::from_micros(70), &mut buf), "room again");
    }

    #[test]
    fn open_loop_paces_and_skips_when_every_client_is_busy() {
        let mut g = Generator::new(cfg(Exchange::Bootp, Pacing::Open { rate: 1000.0, burst: 1.0 }, 2)).expect("gen");
        let mut buf = Vec::new();
        let mut sent = 0;
        // 10 ms at 1000/s, never answered: 2 clients busy, the other starts skipped.
        for us in (0..10_000).step_by(100) {
            let now = Duration::from_micros(us);
            g.handle_timeout(now);
            while g.poll_transmit(now, &mut buf) {
                sent += 1;
            }
        }
        assert_eq!(sent, 2);
        assert_eq!(g.counters.sent, 2);
        assert!((7..=9).contains(&g.counters.skipped), "{:?}", g.counters);
        // After the timeout both are drops, and the clients are free again.
        g.handle_timeout(Duration::from_millis(200));
        assert_eq!(g.counters.drops, 2);
        assert_eq!(g.in_flight(), 0);
    }

    #[test]
    fn dora_runs_both_legs_with_one_xid() {
        let mut g = Generator::new(cfg(Exchange::Dora, Pacing::Closed { window: 1 }, 3)).expect("gen");
        let mut buf = Vec::new();
        assert!(g.poll_transmit(Duration::ZERO, &mut buf));
        assert_eq!(msg_type(&buf), msg::DISCOVER);
        let discover = buf.clone();
        assert!(!g.poll_transmit(Duration::ZERO, &mut buf), "window 1");
        let mut offer = answer(&discover, Some(msg::OFFER));
        offer[off::BOOTP + 16..off::BOOTP + 20].copy_from_slice(&[192, 0, 2, 40]);
        g.handle_frame(Duration::from_micros(100), &offer);
        assert!(g.poll_transmit(Duration::from_micros(110), &mut buf));
        assert_eq!(msg_type(&buf), msg::REQUEST);
        assert_eq!(&buf[off::XID..off::XID + 4], &discover[off::XID..off::XID + 4]);
        assert_eq!(&buf[off::REQ_IP..off::REQ_IP + 4], &[192, 0, 2, 40]);
        assert_eq!(&buf[off::REQ_SERVER_ID..off::REQ_SERVER_ID + 4], &[192, 0, 2, 1]);
        let request = buf.clone();
        // The offer again: a duplicate; an ACK: done.
        g.handle_frame(Duration::from_micros(120), &offer);
        g.handle_frame(Duration::from_micros(300), &answer(&request, Some(msg::ACK)));
        assert_eq!(g.counters.received, 1);
        assert_eq!(g.counters.duplicates, 1);
        assert_eq!(g.counters.frames_sent, 2);
        let s = g.latency.summary().expect("latency");
        assert!((s.max_us - 300.0).abs() < 1.0);
        let l2 = g.latency_second_leg.summary().expect("leg 2");
        assert!((l2.max_us - 190.0).abs() < 1.0);
    }

    #[test]
    fn dora_second_leg_times_out_and_late_answers_are_orphans() {
        let mut g = Generator::new(cfg(Exchange::Dora, Pacing::Closed { window: 2 }, 2)).expect("gen");
        let mut buf = Vec::new();
        let mut d = Vec::new();
        while g.poll_transmit(Duration::ZERO, &mut buf) {
            d.push(buf.clone());
        }
        assert_eq!(d.len(), 2);
        g.handle_frame(Duration::from_millis(1), &answer(&d[0], Some(msg::OFFER)));
        assert!(g.poll_transmit(Duration::from_millis(1), &mut buf));
        let req = buf.clone();
        // d[1] never answered: a first-leg drop at 100 ms; the REQUEST at 101 ms.
        g.handle_timeout(Duration::from_millis(100));
        assert_eq!(g.counters.drops_first_leg, 1);
        assert_eq!(g.counters.drops_second_leg, 0);
        g.handle_timeout(Duration::from_millis(101));
        assert_eq!(g.counters.drops_second_leg, 1);
        assert_eq!(g.counters.drops, 2);
        g.handle_frame(Duration::from_millis(150), &answer(&req, Some(msg::ACK)));
        assert_eq!(g.counters.late, 1);
        assert_eq!(g.counters.orphans, 1);
        // Another chaddr, an unknown xid: orphans.
        let mut other = answer(&d[1], Some(msg::OFFER));
        other[off::CHADDR + 5] ^= 0xff;
        g.handle_frame(Duration::from_millis(151), &other);
        let mut unknown = answer(&d[1], Some(msg::OFFER));
        unknown[off::XID..off::XID + 4].copy_from_slice(&7u32.to_be_bytes());
        g.handle_frame(Duration::from_millis(152), &unknown);
        assert_eq!(g.counters.orphans, 3);
        assert_eq!(g.counters.received, 0);
    }

    #[test]
    fn several_exchanges_per_client_when_asked() {
        let mut c = cfg(Exchange::Bootp, Pacing::Closed { window: 10 }, 2);
        c.per_client = 3;
        let mut g = Generator::new(c).expect("gen");
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while g.poll_transmit(Duration::ZERO, &mut buf) {
            out.push(buf.clone());
        }
        assert_eq!(out.len(), 6, "2 clients × 3");
        let xids: std::collections::HashSet<_> = out.iter().map(|f| f[off::XID..off::XID + 4].to_vec()).collect();
        assert_eq!(xids.len(), 6);
        for f in &out {
            g.handle_frame(Duration::from_micros(10), &answer(f, None));
        }
        assert_eq!(g.counters.received, 6);
        assert_eq!(g.counters.orphans, 0);
    }

    #[test]
    fn addresses_outside_rfc5737_are_refused() {
        let mut c = cfg(Exchange::Bootp, Pacing::Closed { window: 1 }, 1);
        c.addressing = Addressing::RelayAgent {
            src_mac: [2, 0, 0, 0, 0, 1],
            src_ip: std::net::Ipv4Addr::new(192, 0, 2, 2),
            giaddr: std::net::Ipv4Addr::new(198, 51, 100, 1),
            server_mac: [2, 0, 0, 0, 0, 2],
            server_ip: std::net::Ipv4Addr::new(10, 0, 0, 1),
        };
        let e = Generator::new(c).expect_err("10.0.0.1 is refused");
        assert!(e.contains("RFC 5737"), "{e}");
    }

    #[test]
    fn bounds_stop_starting() {
        let mut c = cfg(Exchange::Bootp, Pacing::Closed { window: 8 }, 8);
        c.max_requests = 5;
        let mut g = Generator::new(c).expect("gen");
        let mut buf = Vec::new();
        let mut n = 0;
        while g.poll_transmit(Duration::ZERO, &mut buf) {
            n += 1;
        }
        assert_eq!(n, 5);
        assert_eq!(g.stop_reason(Duration::ZERO), Some("max-requests"));
        assert!(!g.is_done(Duration::ZERO));
        g.handle_timeout(Duration::from_secs(1));
        assert!(g.is_done(Duration::from_secs(1)));
        let mut c = cfg(Exchange::Bootp, Pacing::Closed { window: 8 }, 8);
        c.duration = Duration::from_millis(10);
        let mut g = Generator::new(c).expect("gen");
        assert!(!g.poll_transmit(Duration::from_millis(10), &mut buf));
        assert_eq!(g.stop_reason(Duration::from_millis(10)), Some("duration"));
    }

    #[test]
    fn many_exchanges_through_the_ring() {
        // More exchanges than the ring holds, each answered at once.
        let mut g = Generator::new(cfg(Exchange::Bootp, Pacing::Closed { window: 16 }, 64)).expect("gen");
        let mut buf = Vec::new();
        let mut now = Duration::ZERO;
        while g.counters.sent < RING as u64 + 4096 {
            let mut batch = Vec::new();
            while g.poll_transmit(now, &mut buf) {
                batch.push(buf.clone());
            }
            now += Duration::from_micros(10);
            for f in &batch {
                g.handle_frame(now, &answer(f, None));
            }
            g.handle_timeout(now);
        }
        assert_eq!(g.counters.received, g.counters.sent);
        assert_eq!(g.counters.orphans + g.counters.drops + g.counters.duplicates, 0);
        assert!(g.counters.sent >= RING as u64 + 4096);
    }
}
