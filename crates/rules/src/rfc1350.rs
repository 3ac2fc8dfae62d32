//! RFC 1350 (TFTP): what a TFTP server does on the wire while it serves a read. The
//! rules are [`Check::Trace`] rules: each finds the TFTP reads in a trace itself (an
//! RRQ the harness sent to port 69, the server's answers from its new TID, the
//! harness's ACKs and ERRORs, and packets the harness sent to the server's TID from
//! another port) and judges every transfer it finds. The transfer model
//! ([`transfers`], [`Transfer`], [`Blocks`]) is shared with the modules of the option
//! RFCs (`rfc2347`, `rfc2348`, `rfc2349`, `rfc7440`).
//!
//! RFC 1350 predates RFC 2119; levels are read as `clauses/rfc1350.yaml` says.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use bootcheck_wire::tftp::{self, ErrorCode, Opcode, OptionKind, Repr, TftpOption, TransferMode};

use crate::{Check, Evidence, Level, Rule, TraceFrame, TraceView, Verdict};

pub static RULES: &[Rule] = &[
    Rule {
        id: "rfc1350/4/server-tid",
        level: Level::Must,
        clauses: &["rfc1350/4/server-chooses-tid", "rfc1350/3/tids-are-ports"],
        summary: "The answer to an RRQ comes from a port the server chose (not 69) and goes to the RRQ's source port",
        check: Check::Trace(server_tid),
    },
    Rule {
        id: "rfc1350/4/tids-kept",
        level: Level::Must,
        clauses: &["rfc1350/4/tids-kept"],
        summary: "Every packet of a transfer comes from the server's TID (the port of its first answer)",
        check: Check::Trace(tids_kept),
    },
    Rule {
        id: "rfc1350/5/data-block-numbers",
        level: Level::Must,
        clauses: &[
            "rfc1350/5/data-block-numbers",
            "rfc1350/4/blocks-consecutive-from-one",
            "rfc1350/4/first-data-is-reply",
            "rfc1350/appendix/read-starts-with-data-1",
        ],
        summary: "DATA blocks are numbered from 1, each new one the previous plus one (65535 → 0); a retransmission repeats a block already sent",
        check: Check::Trace(data_block_numbers),
    },
    Rule {
        id: "rfc1350/5/answers-data-or-error",
        level: Level::Must,
        clauses: &["rfc1350/5/rrq-ack-answered-by-data", "rfc2347/negotiation-protocol/rrq-answers"],
        summary: "The server answers a read with DATA or ERROR (or one OACK before the first DATA), nothing else",
        check: Check::Trace(answers_data_or_error),
    },
    Rule {
        id: "rfc1350/5/data-length",
        level: Level::Must,
        clauses: &[
            "rfc1350/2/fixed-512-blocks",
            "rfc1350/5/data-length",
            "rfc1350/2/short-block-terminates",
            "rfc2347/negotiation-protocol/unacknowledged-ignored",
        ],
        summary: "Without a negotiated blksize, DATA carries 512 octets, and one of 0-511 octets is the last block",
        check: Check::Trace(data_length),
    },
    Rule {
        id: "rfc1350/6/ends-with-short-block",
        level: Level::Must,
        clauses: &["rfc1350/2/short-block-terminates", "rfc2348/blocksize-option/extra-empty-packet"],
        summary: "A transfer ends with a DATA shorter than the block size (an empty one when the file is a multiple of it)",
        check: Check::Trace(ends_with_short_block),
    },
    Rule {
        id: "rfc1350/2/lock-step",
        level: Level::Must,
        clauses: &["rfc1350/2/lock-step", "rfc7440/4/windowsize-1-is-rfc1350"],
        summary: "Without a negotiated windowsize, DATA n+1 is sent only after the ACK of DATA n",
        check: Check::Trace(lock_step),
    },
    Rule {
        id: "rfc1350/5/duplicate-ack-ignored",
        level: Level::MustNot,
        clauses: &["rfc1350/5/duplicate-ack-not-acknowledged"],
        summary: "A duplicate ACK is not answered with DATA (no Sorcerer's Apprentice retransmission)",
        check: Check::Trace(duplicate_ack_ignored),
    },
    Rule {
        id: "rfc1350/4/wrong-tid-error",
        level: Level::Should,
        clauses: &["rfc1350/4/wrong-tid-error"],
        summary: "A packet to the server's TID from another port gets ERROR 5 (unknown transfer ID) at that port",
        check: Check::Trace(wrong_tid_error),
    },
    Rule {
        id: "rfc1350/2/wrong-tid-not-terminating",
        level: Level::Must,
        clauses: &["rfc1350/2/wrong-tid-not-terminating", "rfc1350/4/check-source-tid"],
        summary: "A packet from a wrong TID does not disturb the transfer: no ERROR to the client, and it goes on to its last block",
        check: Check::Trace(wrong_tid_not_terminating),
    },
    Rule {
        id: "rfc1350/appendix/error-code",
        level: Level::Must,
        clauses: &["rfc1350/appendix/error-codes", "rfc2347/packet-formats/error-code-8"],
        summary: "Every ERROR carries a defined code: 0-7, or 8 (option negotiation) in answer to a request with options",
        check: Check::Trace(error_code),
    },
    Rule {
        id: "rfc1350/5/error-message-terminated",
        level: Level::Must,
        clauses: &["rfc1350/5/error-message-terminated"],
        summary: "An ERROR's message ends with a NUL, the datagram's last octet",
        check: Check::Trace(error_message_terminated),
    },
    Rule {
        id: "rfc1350/5/error-message-netascii",
        level: Level::Should,
        clauses: &["rfc1350/5/error-message-netascii"],
        summary: "An ERROR's message is netascii: ASCII text, a CR only before LF or NUL",
        check: Check::Trace(error_message_netascii),
    },
    Rule {
        id: "rfc1350/1/netascii-data",
        level: Level::Must,
        clauses: &["rfc1350/1/netascii-is-telnet-ascii"],
        summary: "The data of a netascii read is netascii: every CR is followed by LF or NUL",
        check: Check::Trace(netascii_data),
    },
    Rule {
        id: "rfc1350/2/error-not-retransmitted",
        level: Level::MustNot,
        clauses: &["rfc1350/2/error-not-retransmitted"],
        summary: "An ERROR is sent once: not again unless the client sent something in between",
        check: Check::Trace(error_not_retransmitted),
    },
    Rule {
        id: "rfc1350/appendix/udp-checksum",
        level: Level::Must,
        clauses: &["rfc1350/appendix/udp-checksum"],
        summary: "The UDP checksum of every TFTP packet from the server verifies, or is 0 (judged where checksums mean something: the lab turns offload off)",
        check: Check::Trace(udp_checksum),
    },
    Rule {
        id: "rfc1350/3/udp-length",
        level: Level::Must,
        clauses: &["rfc1350/3/udp-length"],
        summary: "The IPv4 and UDP lengths of every TFTP packet from the server match the datagram",
        check: Check::Trace(udp_length),
    },
    Rule {
        id: "rfc1350/5/mail-mode-refused",
        level: Level::Must,
        clauses: &["rfc1350/5/mail-begins-with-wrq", "rfc1350/1/mail-mode-obsolete"],
        summary: "An RRQ in mode \"mail\" is not served: mail mode must begin with a WRQ (and is obsolete)",
        check: Check::Trace(mail_mode_refused),
    },
];

// ---------------------------------------------------------------------------------
// The transfer model
// ---------------------------------------------------------------------------------

/// Who sent a packet of a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    /// The harness, from the RRQ's source port (ACKs, ERRORs, a repeated RRQ).
    Client,
    /// The server, from its TID to the client's port.
    Server,
    /// The server, to the client's port but from another port than its TID.
    OtherServerPort,
    /// The harness, to the server's TID from another port (a wrong TID).
    Stranger,
    /// The server, to such another port.
    ToStranger,
}

/// One TFTP packet of a transfer.
#[derive(Debug, Clone)]
pub(crate) struct Pkt<'a> {
    pub t: &'a TraceFrame<'a>,
    pub who: Who,
    pub src_port: u16,
    pub dst_port: u16,
    /// The UDP payload (the TFTP packet).
    pub payload: &'a [u8],
    /// Offset of the payload in the frame.
    pub payload_at: usize,
}

impl Pkt<'_> {
    pub fn op(&self) -> Option<Opcode> {
        let b = self.payload.get(..2)?;
        Some(Opcode::from(u16::from_be_bytes([b[0], b[1]])))
    }
    /// The block number of a DATA or ACK.
    pub fn block(&self) -> Option<u16> {
        match self.op()? {
            Opcode::Data | Opcode::Ack => {
                let b = self.payload.get(2..4)?;
                Some(u16::from_be_bytes([b[0], b[1]]))
            }
            _ => None,
        }
    }
    pub fn is(&self, op: Opcode) -> bool {
        self.op() == Some(op)
    }
    /// The data of a DATA.
    pub fn data(&self) -> &[u8] {
        self.payload.get(4..).unwrap_or(&[])
    }
    /// The code of an ERROR.
    pub fn error_code(&self) -> Option<u16> {
        if !self.is(Opcode::Error) {
            return None;
        }
        let b = self.payload.get(2..4)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }
    pub fn at(&self) -> Duration {
        self.t.at
    }
    pub fn packet(&self) -> usize {
        self.t.packet
    }
    /// A from-the-server packet (to the client or to a stranger).
    pub fn by_server(&self) -> bool {
        matches!(self.who, Who::Server | Who::OtherServerPort | Who::ToStranger)
    }
}

/// One read: the RRQ and everything after it between the client's port and the
/// server (until the next RRQ from that port starts another transfer).
#[derive(Debug, Clone)]
pub(crate) struct Transfer<'a> {
    pub rrq_payload: &'a [u8],
    pub request: Option<Repr<'a>>,
    pub server_ip: Ipv4Addr,
    /// The server's TID: the source port of its first answer.
    pub tid: Option<u16>,
    /// The RRQ was sent again before any answer came.
    pub rrq_repeated: bool,
    pub pkts: Vec<Pkt<'a>>,
}

impl<'a> Transfer<'a> {
    /// The requested options.
    pub fn requested(&self) -> &[TftpOption<'a>] {
        self.request.as_ref().map_or(&[], |r| r.options())
    }
    /// The first requested option of a kind.
    pub fn requested_opt(&self, kind: OptionKind) -> Option<&TftpOption<'a>> {
        self.requested().iter().find(|o| o.kind() == Some(kind))
    }
    /// The transfer mode of the RRQ.
    pub fn mode(&self) -> Option<TransferMode> {
        self.request.as_ref().and_then(Repr::transfer_mode)
    }
    /// The server's packets on the TID, in order.
    pub fn server(&self) -> impl Iterator<Item = &Pkt<'a>> {
        self.pkts.iter().filter(|p| p.who == Who::Server)
    }
    /// The server's OACK (its first one on the TID) and what it parses to.
    pub fn oack(&self) -> Option<(&Pkt<'a>, Option<Repr<'a>>)> {
        let p = self.server().take_while(|p| !p.is(Opcode::Data)).find(|p| p.is(Opcode::Oack))?;
        Some((p, Repr::parse_bytes(p.payload).ok()))
    }
    /// An option the OACK acknowledged, with its value as a number (if it is one).
    pub fn acked(&self, kind: OptionKind) -> Option<(TftpOption<'a>, Option<u64>)> {
        let (_, r) = self.oack()?;
        let o = *r?.option(kind)?;
        Some((o, o.value_u64()))
    }
    /// The block size in force: the OACK's blksize, else 512.
    pub fn blksize(&self) -> usize {
        self.acked(OptionKind::Blksize)
            .and_then(|(_, v)| v)
            .and_then(|v| usize::try_from(v).ok())
            .unwrap_or(tftp::DEFAULT_BLKSIZE)
    }
    /// The first DATA the server sent shorter than the block size.
    pub fn short_block(&self) -> Option<&Pkt<'a>> {
        let bs = self.blksize();
        self.server().find(|p| p.is(Opcode::Data) && p.data().len() < bs)
    }
}

/// Source and destination address and port of a datagram.
type Addressing = (Ipv4Addr, Ipv4Addr, u16, u16);
/// When a datagram was seen, its TTL, IP identification and UDP payload.
type Seen<'a> = (Duration, u8, u16, &'a [u8]);

/// Every TFTP read in a trace.
pub(crate) fn transfers<'a>(v: &TraceView<'a>) -> Vec<Transfer<'a>> {
    let mut out: Vec<Transfer<'a>> = Vec::new();
    // Index in `out` of the current transfer per client (ip, port).
    let mut current: HashMap<(Ipv4Addr, u16), usize> = HashMap::new();
    // Stranger ports: (client ip, port) → transfer index.
    let mut strangers: HashMap<(Ipv4Addr, u16), usize> = HashMap::new();
    // The last datagram from the target per (addresses, ports): when, TTL, IP id, octets.
    let mut last_seen: HashMap<Addressing, Seen<'a>> = HashMap::new();
    for t in v.frames {
        let (Some(ip), Some(u)) = (t.frame.ipv4(), t.frame.udp()) else { continue };
        let pkt = |who| Pkt {
            t,
            who,
            src_port: u.src_port,
            dst_port: u.dst_port,
            payload: u.payload,
            payload_at: u.payload_offset,
        };
        let op = u.payload.get(..2).map(|b| Opcode::from(u16::from_be_bytes([b[0], b[1]])));
        if t.sent {
            if u.dst_port == tftp::SERVER_PORT && op == Some(Opcode::Rrq) {
                let key = (ip.src, u.src_port);
                if let Some(&i) = current.get(&key) {
                    let x = &mut out[i];
                    let answered = x.pkts.iter().any(Pkt::by_server);
                    if !answered && x.rrq_payload == u.payload && x.server_ip == ip.dst {
                        x.rrq_repeated = true;
                        x.pkts.push(pkt(Who::Client));
                        continue;
                    }
                }
                out.push(Transfer {
                    rrq_payload: u.payload,
                    request: Repr::parse_bytes(u.payload).ok(),
                    server_ip: ip.dst,
                    tid: None,
                    rrq_repeated: false,
                    pkts: Vec::new(),
                });
                current.insert(key, out.len() - 1);
                continue;
            }
            if let Some(&i) = current.get(&(ip.src, u.src_port)) {
                let x = &mut out[i];
                if x.server_ip == ip.dst && (Some(u.dst_port) == x.tid || u.dst_port == tftp::SERVER_PORT) {
                    x.pkts.push(pkt(Who::Client));
                }
                continue;
            }
            // Another port of a client host, to a server TID in use: a wrong TID.
            let hit = current
                .iter()
                .filter(|((cip, _), &i)| *cip == ip.src && out[i].server_ip == ip.dst && out[i].tid == Some(u.dst_port))
                .map(|(_, &i)| i)
                .max();
            if let Some(i) = hit {
                strangers.insert((ip.src, u.src_port), i);
                out[i].pkts.push(pkt(Who::Stranger));
            }
            continue;
        }
        // From the target. Seen on both links of a relay topology, a routed datagram
        // shows up twice: the same IP id and octets, the TTL one lower. That second
        // copy is no second packet.
        let key = (ip.src, ip.dst, u.src_port, u.dst_port);
        let copy = last_seen.get(&key).is_some_and(|&(at, ttl, id, payload): &Seen<'_>| {
            id == ip.identification
                && ttl.abs_diff(ip.ttl) == 1
                && payload == u.payload
                && t.at.saturating_sub(at) < Duration::from_secs(1)
        });
        if copy {
            // Paired: the next datagram is compared with neither.
            last_seen.remove(&key);
            continue;
        }
        last_seen.insert(key, (t.at, ip.ttl, ip.identification, u.payload));
        if let Some(&i) = current.get(&(ip.dst, u.dst_port)) {
            let x = &mut out[i];
            if x.server_ip != ip.src {
                continue;
            }
            let tid = *x.tid.get_or_insert(u.src_port);
            x.pkts.push(pkt(if tid == u.src_port { Who::Server } else { Who::OtherServerPort }));
        } else if let Some(&i) = strangers.get(&(ip.dst, u.dst_port)) {
            if out[i].server_ip == ip.src {
                out[i].pkts.push(pkt(Who::ToStranger));
            }
        }
    }
    out
}

/// Block bookkeeping over a transfer: each DATA's position in the file (its count,
/// 1-based, which keeps growing past 65535 while the wire number wraps) and the
/// highest count the client acknowledged.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Blocks {
    /// New blocks sent so far (the highest count).
    pub sent: u64,
    /// The highest count acknowledged (0: none, or only the OACK).
    pub acked: u64,
    /// The client sent ACK 0 (of an OACK) before any DATA.
    pub oack_acked: bool,
}

impl Blocks {
    /// The latest count ≤ `sent` whose wire number is `w` (0 stands for "before block
    /// 1": the ACK of an OACK).
    fn count_of(&self, w: u16) -> Option<u64> {
        // Within the last half of the number space: further back, a number is a
        // jump ahead, not a block sent long ago.
        let back = u64::from((self.sent as u16).wrapping_sub(w));
        if back > 0x8000 {
            return None;
        }
        self.sent.checked_sub(back)
    }

    /// A DATA from the server: `(count, new)`, or `None` when it is neither the next
    /// block nor one already sent.
    pub fn data(&mut self, w: u16) -> Option<(u64, bool)> {
        if w == (self.sent.wrapping_add(1) & 0xffff) as u16 {
            self.sent += 1;
            return Some((self.sent, true));
        }
        self.count_of(w).filter(|c| *c >= 1).map(|c| (c, false))
    }

    /// An ACK from the client: `(count, advanced)`; `None` when it acknowledges no block
    /// sent.
    pub fn ack(&mut self, w: u16) -> Option<(u64, bool)> {
        if self.sent == 0 && w == 0 {
            let first = !self.oack_acked;
            self.oack_acked = true;
            return Some((0, first));
        }
        let c = self.count_of(w)?;
        if c > self.acked {
            self.acked = c;
            Some((c, true))
        } else {
            Some((c, false))
        }
    }
}

/// A failing verdict about one packet.
pub(crate) fn fail_at(
    p: &Pkt<'_>,
    offset: Option<usize>,
    field: impl Into<String>,
    expected: impl std::fmt::Display,
    seen: impl std::fmt::Display,
) -> Verdict {
    Verdict::Fail(Box::new(Evidence {
        packet: p.packet(),
        offset: offset.map(|o| p.payload_at + o),
        field: field.into(),
        expected: expected.to_string(),
        seen: seen.to_string(),
    }))
}

/// Fold per-transfer verdicts: the first failure, else pass if any applied.
pub(crate) fn each<'a>(v: &TraceView<'a>, f: impl Fn(&Transfer<'a>) -> Verdict) -> Verdict {
    let mut any = false;
    for t in v.transfers() {
        match f(t) {
            Verdict::Pass => any = true,
            Verdict::NotApplicable => {}
            fail => return fail,
        }
    }
    if any {
        Verdict::Pass
    } else {
        Verdict::NotApplicable
    }
}

/// Whether a transfer has any answer from the server.
fn answered(t: &Transfer<'_>) -> bool {
    t.pkts.iter().any(|p| matches!(p.who, Who::Server | Who::OtherServerPort))
}

/// Ms of a duration, for evidence.
pub(crate) fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

// ---------------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------------

fn server_tid(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        let Some(first) = t.pkts.iter().find(|p| p.who == Who::Server) else { return Verdict::NotApplicable };
        if first.src_port == tftp::SERVER_PORT {
            return Verdict::Fail(Box::new(Evidence {
                packet: first.packet(),
                offset: None,
                field: "udp.src_port (the server's TID)".into(),
                expected: "a port the server chose for the transfer, not 69".into(),
                seen: "69".into(),
            }));
        }
        Verdict::Pass
    })
}

fn tids_kept(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        if !answered(t) {
            return Verdict::NotApplicable;
        }
        for p in t.pkts.iter().filter(|p| p.who == Who::OtherServerPort) {
            // A repeated RRQ may be answered by a second connection from another TID
            // (RFC 1350 §4's own example); that answer starts afresh.
            let fresh = p.is(Opcode::Oack) || p.is(Opcode::Error) || (p.is(Opcode::Data) && p.block() == Some(1));
            if t.rrq_repeated && fresh {
                continue;
            }
            return Verdict::Fail(Box::new(Evidence {
                packet: p.packet(),
                offset: None,
                field: "udp.src_port".into(),
                expected: format!("{} (the TID of the server's first answer)", t.tid.unwrap_or(0)),
                seen: p.src_port.to_string(),
            }));
        }
        Verdict::Pass
    })
}

fn data_block_numbers(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        let mut b = Blocks::default();
        let mut any = false;
        for p in t.server().filter(|p| p.is(Opcode::Data)) {
            let Some(w) = p.block() else { continue };
            any = true;
            if b.data(w).is_none() {
                let next = (b.sent.wrapping_add(1) & 0xffff) as u16;
                return fail_at(
                    p,
                    Some(2),
                    "DATA block number",
                    format!(
                        "{next} (the next block{}), or a block already sent",
                        if b.sent == 0 { ", the first being 1" } else { "" }
                    ),
                    w,
                );
            }
        }
        if any {
            Verdict::Pass
        } else {
            Verdict::NotApplicable
        }
    })
}

fn answers_data_or_error(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        let mut data_seen = false;
        let mut any = false;
        for p in t.server() {
            any = true;
            match p.op() {
                Some(Opcode::Data) => data_seen = true,
                Some(Opcode::Error) => {}
                Some(Opcode::Oack) if !data_seen => {}
                Some(Opcode::Oack) => {
                    return fail_at(p, Some(0), "opcode", "DATA or ERROR (an OACK only before the first DATA)", "OACK");
                }
                Some(other) => return fail_at(p, Some(0), "opcode", "DATA, ERROR or OACK (answering a read)", other),
                None => return fail_at(p, Some(0), "TFTP packet", "an opcode", "fewer than 2 octets"),
            }
        }
        if any {
            Verdict::Pass
        } else {
            Verdict::NotApplicable
        }
    })
}

/// Every DATA holds at most `bs` octets, and a shorter one is the last new block.
pub(crate) fn sizes(t: &Transfer<'_>, bs: usize, what: &str) -> Verdict {
    let mut b = Blocks::default();
    let mut short: Option<(u64, usize)> = None;
    let mut any = false;
    for p in t.server().filter(|p| p.is(Opcode::Data)) {
        let Some(w) = p.block() else { continue };
        any = true;
        let n = p.data().len();
        if n > bs {
            return fail_at(p, Some(4 + bs), "DATA length", format!("at most {bs} octets ({what})"), n);
        }
        let Some((count, new)) = b.data(w) else { continue };
        if new {
            if let Some((c, len)) = short {
                if count > c {
                    return fail_at(
                        p,
                        Some(2),
                        "DATA after a short block",
                        format!("no block after block {} of {len} octets (shorter than {bs}: the last)", (c & 0xffff)),
                        format!("block {w}"),
                    );
                }
            }
            if n < bs && short.is_none() {
                short = Some((count, n));
            }
        }
    }
    if any {
        Verdict::Pass
    } else {
        Verdict::NotApplicable
    }
}

fn data_length(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        if t.acked(OptionKind::Blksize).is_some() {
            return Verdict::NotApplicable;
        }
        let what = if t.requested_opt(OptionKind::Blksize).is_some() {
            "blksize was requested but not acknowledged: 512"
        } else {
            "no blksize negotiated: 512"
        };
        sizes(t, tftp::DEFAULT_BLKSIZE, what)
    })
}

fn ends_with_short_block(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        if t.short_block().is_some() {
            return Verdict::Pass;
        }
        let bs = t.blksize();
        let mut b = Blocks::default();
        let mut last_new: Option<(usize, u64)> = None;
        for (i, p) in t.pkts.iter().enumerate() {
            match p.who {
                Who::Server if p.is(Opcode::Data) => {
                    if let Some((c, true)) = p.block().and_then(|w| b.data(w)) {
                        last_new = Some((i, c));
                    }
                }
                Who::Server if p.is(Opcode::Error) => return Verdict::NotApplicable,
                _ => {}
            }
        }
        let Some((i, c)) = last_new else { return Verdict::NotApplicable };
        let p = &t.pkts[i];
        if p.data().len() < bs {
            return Verdict::Pass;
        }
        // The client acknowledged the full last block twice (it waited, then asked
        // again) and nothing more came: the server ended on a full block.
        let acks: Vec<&Pkt<'_>> = t.pkts[i + 1..]
            .iter()
            .filter(|q| q.who == Who::Client && q.is(Opcode::Ack) && q.block() == Some((c & 0xffff) as u16))
            .collect();
        let Some(second) = acks.get(1) else { return Verdict::NotApplicable };
        let after = t.pkts.iter().any(|q| q.who == Who::Server && q.packet() > second.packet());
        if after {
            return Verdict::NotApplicable;
        }
        fail_at(
            p,
            None,
            "end of transfer",
            format!("a DATA of fewer than {bs} octets (an empty one after a full last block)"),
            format!("block {} of {} octets acknowledged, then nothing", c & 0xffff, p.data().len()),
        )
    })
}

fn lock_step(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        if t.acked(OptionKind::Windowsize).is_some() {
            return Verdict::NotApplicable;
        }
        let mut b = Blocks::default();
        let mut any = false;
        for p in &t.pkts {
            match p.who {
                Who::Client if p.is(Opcode::Ack) => {
                    if let Some(w) = p.block() {
                        b.ack(w);
                    }
                }
                Who::Server if p.is(Opcode::Data) => {
                    let Some(w) = p.block() else { continue };
                    let before = b.acked;
                    if let Some((count, true)) = b.data(w) {
                        any = true;
                        if count > before + 1 {
                            return fail_at(
                                p,
                                Some(2),
                                "DATA sent before the previous block was acknowledged",
                                format!("block {w} only after the ACK of block {}", (count - 1) & 0xffff),
                                format!("block {w} with the last ACK for block {}", before & 0xffff),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        if any {
            Verdict::Pass
        } else {
            Verdict::NotApplicable
        }
    })
}

/// How soon after a duplicate ACK a retransmission counts as its answer (a server's
/// own timeout is seconds; an answer comes at once).
pub(crate) const ANSWER_WINDOW: Duration = Duration::from_millis(250);

fn duplicate_ack_ignored(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        // With a window of more blocks, RFC 7440 §4 makes a repeated ACK the notice of
        // a lost block, to be answered with the window again (rfc7440 rules).
        if t.acked(OptionKind::Windowsize).and_then(|(_, w)| w).is_some_and(|w| w > 1) {
            return Verdict::NotApplicable;
        }
        let mut b = Blocks::default();
        // Times of the client's ACKs per count, and of the last send per count.
        let mut acks: HashMap<u64, Vec<Duration>> = HashMap::new();
        let mut last_send: HashMap<u64, Duration> = HashMap::new();
        let mut dup_seen = false;
        for p in &t.pkts {
            match p.who {
                Who::Client if p.is(Opcode::Ack) => {
                    let Some(w) = p.block() else { continue };
                    if let Some((c, advanced)) = b.ack(w) {
                        let list = acks.entry(c).or_default();
                        list.push(p.at());
                        dup_seen |= !advanced && list.len() > 1;
                    }
                }
                Who::Server if p.is(Opcode::Data) => {
                    let Some(w) = p.block() else { continue };
                    let Some((c, new)) = b.data(w) else { continue };
                    let prev = last_send.insert(c, p.at());
                    if new {
                        continue;
                    }
                    let Some(prev) = prev else { continue };
                    // The ACK of the block before, sent twice, the second time just
                    // before this retransmission, which follows the previous send at
                    // once: an answer to the duplicate, not a timeout.
                    let Some(list) = acks.get(&(c - 1)) else { continue };
                    let dup = list.iter().skip(1).rev().find(|a| **a <= p.at());
                    if let Some(dup) = dup {
                        if p.at().saturating_sub(*dup) < ANSWER_WINDOW && p.at().saturating_sub(prev) < ANSWER_WINDOW {
                            return fail_at(
                                p,
                                Some(2),
                                "DATA in answer to a duplicate ACK",
                                format!(
                                    "block {w} sent once for the ACK of block {}, again only after a timeout",
                                    (c - 1) & 0xffff
                                ),
                                format!(
                                    "block {w} sent again {} after the duplicate ACK ({} after its previous send)",
                                    ms(p.at().saturating_sub(*dup)),
                                    ms(p.at().saturating_sub(prev))
                                ),
                            );
                        }
                    }
                }
                _ => {}
            }
        }
        if dup_seen {
            Verdict::Pass
        } else {
            Verdict::NotApplicable
        }
    })
}

fn wrong_tid_error(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        let mut any = false;
        for (i, s) in t.pkts.iter().enumerate().filter(|(_, p)| p.who == Who::Stranger) {
            // An ERROR from the stranger itself is not answered (RFC 1350 §7).
            if s.is(Opcode::Error) {
                continue;
            }
            any = true;
            let answer = t.pkts[i + 1..].iter().find(|p| p.who == Who::ToStranger && p.dst_port == s.src_port);
            match answer {
                None => {
                    return Verdict::Fail(Box::new(Evidence {
                        packet: s.packet(),
                        offset: None,
                        field: format!("answer to the packet from port {} (a wrong TID)", s.src_port),
                        expected: format!("ERROR 5 (unknown transfer ID) to port {}", s.src_port),
                        seen: "nothing".into(),
                    }))
                }
                Some(a) if a.error_code() == Some(5) => {}
                Some(a) => {
                    let seen = match (a.op(), a.error_code()) {
                        (_, Some(c)) => format!("ERROR {}", ErrorCode::from(c)),
                        (Some(op), None) => op.to_string(),
                        (None, None) => "a packet without opcode".into(),
                    };
                    return fail_at(a, Some(0), "answer to a wrong TID", "ERROR 5 (unknown transfer ID)", seen);
                }
            }
        }
        if any {
            Verdict::Pass
        } else {
            Verdict::NotApplicable
        }
    })
}

fn wrong_tid_not_terminating(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        let Some(first) = t.pkts.iter().position(|p| p.who == Who::Stranger) else { return Verdict::NotApplicable };
        let stranger = &t.pkts[first];
        let after = &t.pkts[first + 1..];
        if let Some(e) = after.iter().find(|p| p.who == Who::Server && p.is(Opcode::Error)) {
            return fail_at(
                e,
                Some(0),
                "the transfer after a packet from a wrong TID",
                format!(
                    "no ERROR to the client (the packet of packet {} came from port {})",
                    stranger.packet(),
                    stranger.src_port
                ),
                format!("ERROR {}", ErrorCode::from(e.error_code().unwrap_or(0))),
            );
        }
        // It went on to its last block, or at least sent more DATA (the trace may end
        // before the transfer does).
        let bs = t.blksize();
        let went_on = after.iter().any(|p| p.who == Who::Server && p.is(Opcode::Data));
        let finished = t.pkts.iter().any(|p| p.who == Who::Server && p.is(Opcode::Data) && p.data().len() < bs);
        let client_waited = after.iter().filter(|p| p.who == Who::Client && p.is(Opcode::Ack)).count() >= 3;
        if !finished && !went_on && client_waited {
            return Verdict::Fail(Box::new(Evidence {
                packet: stranger.packet(),
                offset: None,
                field: "the transfer after a packet from a wrong TID".into(),
                expected: "more DATA to the client, up to the last block".into(),
                seen: "no DATA after it, though the client acknowledged again".into(),
            }));
        }
        Verdict::Pass
    })
}

fn all_errors<'t, 'a>(t: &'t Transfer<'a>) -> impl Iterator<Item = &'t Pkt<'a>> {
    t.pkts.iter().filter(|p| p.by_server() && p.is(Opcode::Error))
}

fn error_code(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        let mut any = false;
        for p in all_errors(t) {
            let Some(c) = p.error_code() else { continue };
            any = true;
            if c > 8 {
                return fail_at(p, Some(2), "ERROR code", "0-7 (RFC 1350) or 8 (RFC 2347)", c);
            }
            if c == 8 && t.requested().is_empty() {
                return fail_at(
                    p,
                    Some(2),
                    "ERROR code",
                    "0-7: code 8 ends an option negotiation, and the request carried no options",
                    8,
                );
            }
        }
        if any {
            Verdict::Pass
        } else {
            Verdict::NotApplicable
        }
    })
}

fn error_message_terminated(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        let mut any = false;
        for p in all_errors(t) {
            any = true;
            if p.payload.len() < 5 {
                return fail_at(
                    p,
                    Some(p.payload.len()),
                    "ERROR length",
                    "at least 5 octets (code and a NUL)",
                    p.payload.len(),
                );
            }
            if p.payload.last() != Some(&0) {
                return fail_at(
                    p,
                    Some(p.payload.len() - 1),
                    "ERROR message",
                    "a NUL as the last octet",
                    format!("{:#04x}", p.payload[p.payload.len() - 1]),
                );
            }
        }
        if any {
            Verdict::Pass
        } else {
            Verdict::NotApplicable
        }
    })
}

/// The first octet of `b` that is not netascii (Telnet NVT ASCII: printable ASCII and
/// the NVT controls, a CR only before LF or NUL), with `next` the octet after `b`
/// (`None`: the end of the text). `high` allows octets ≥ 0x80 ("8 bit ascii").
pub(crate) fn not_netascii(b: &[u8], next: Option<u8>, high: bool) -> Option<usize> {
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'\r' => {
                let n = b.get(i + 1).copied().or(next);
                if !matches!(n, Some(b'\n') | Some(0)) {
                    return Some(i);
                }
            }
            0 | 0x07..=0x0c | 0x20..=0x7e => {}
            0x80..=0xff if high => {}
            _ if high => {}
            _ => return Some(i),
        }
    }
    None
}

fn error_message_netascii(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        let mut any = false;
        for p in all_errors(t) {
            let msg = p.payload.get(4..).unwrap_or(&[]);
            let msg = &msg[..msg.iter().position(|&c| c == 0).unwrap_or(msg.len())];
            any = true;
            if let Some(i) = not_netascii(msg, None, false) {
                return fail_at(
                    p,
                    Some(4 + i),
                    "ERROR message",
                    "netascii text (ASCII; a CR only before LF or NUL)",
                    format!("{:#04x} at message offset {i}", msg[i]),
                );
            }
        }
        if any {
            Verdict::Pass
        } else {
            Verdict::NotApplicable
        }
    })
}

fn netascii_data(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        if t.mode() != Some(TransferMode::Netascii) {
            return Verdict::NotApplicable;
        }
        let bs = t.blksize();
        let mut b = Blocks::default();
        let new: Vec<&Pkt<'_>> = t
            .server()
            .filter(|p| p.is(Opcode::Data))
            .filter(|p| p.block().and_then(|w| b.data(w)).is_some_and(|(_, n)| n))
            .collect();
        if new.is_empty() {
            return Verdict::NotApplicable;
        }
        let complete = new.last().is_some_and(|p| p.data().len() < bs);
        for (i, p) in new.iter().enumerate() {
            let next = match new.get(i + 1) {
                Some(q) => q.data().first().copied(),
                // The file's very end: a CR there is bare; an incomplete transfer may
                // continue in a block not seen.
                None if complete => None,
                None => Some(0),
            };
            // An empty final block after a full one: the CR at the end of the
            // previous block ended the file.
            let next = if new.get(i + 1).is_some_and(|q| q.data().is_empty()) { None } else { next };
            if let Some(j) = not_netascii(p.data(), next, true) {
                return fail_at(
                    p,
                    Some(4 + j),
                    format!("netascii DATA block {}", p.block().unwrap_or(0)),
                    "CR followed by LF (line end) or NUL (a bare CR)",
                    match p.data().get(j + 1).copied().or(next) {
                        Some(n) => format!("CR followed by {n:#04x}"),
                        None => "CR at the end of the file".into(),
                    },
                );
            }
        }
        Verdict::Pass
    })
}

fn error_not_retransmitted(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        let mut last_error: Option<&Pkt<'_>> = None;
        let mut any = false;
        for p in &t.pkts {
            match p.who {
                Who::Client => last_error = None,
                Who::Server | Who::OtherServerPort if p.is(Opcode::Error) => {
                    any = true;
                    if let Some(e) = last_error {
                        if e.payload == p.payload {
                            return fail_at(
                                p,
                                Some(0),
                                "ERROR sent again",
                                "one ERROR (it is not retransmitted)",
                                format!(
                                    "the ERROR of packet {} again, with nothing from the client between",
                                    e.packet()
                                ),
                            );
                        }
                    }
                    last_error = Some(p);
                }
                _ => {}
            }
        }
        if any {
            Verdict::Pass
        } else {
            Verdict::NotApplicable
        }
    })
}

fn udp_length(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        let mut any = false;
        for p in t.pkts.iter().filter(|p| p.by_server()) {
            any = true;
            let bad =
                p.t.frame.findings.iter().find(|f| matches!(f.kind, bootcheck_wire::ErrorKind::LengthMismatch { .. }));
            if let Some(f) = bad {
                return Verdict::Fail(Box::new(Evidence {
                    packet: p.packet(),
                    offset: Some(f.offset),
                    field: "IPv4/UDP length".into(),
                    expected: "lengths that match the datagram".into(),
                    seen: f.kind.to_string(),
                }));
            }
        }
        if any {
            Verdict::Pass
        } else {
            Verdict::NotApplicable
        }
    })
}

fn udp_checksum(v: &TraceView<'_>) -> Verdict {
    if !v.checksums_meaningful {
        return Verdict::NotApplicable;
    }
    each(v, |t| {
        let mut any = false;
        for p in t.pkts.iter().filter(|p| p.by_server()) {
            any = true;
            if let Some(u) = p.t.frame.udp().filter(|u| u.checksum_ok == Some(false)) {
                return Verdict::Fail(Box::new(Evidence {
                    packet: p.packet(),
                    offset: p.payload_at.checked_sub(2),
                    field: "UDP checksum".into(),
                    expected: "correct, or 0 (unused)".into(),
                    seen: format!("{:#06x} (wrong)", u.checksum),
                }));
            }
        }
        if any {
            Verdict::Pass
        } else {
            Verdict::NotApplicable
        }
    })
}

fn mail_mode_refused(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        if t.mode() != Some(TransferMode::Mail) || !answered(t) {
            return Verdict::NotApplicable;
        }
        match t.server().find(|p| p.is(Opcode::Data) || p.is(Opcode::Oack)) {
            Some(p) => fail_at(
                p,
                Some(0),
                "answer to an RRQ in mode mail",
                "an ERROR (mail mode begins with a WRQ, and is obsolete)",
                format!("{} (the request was served)", p.op().map_or("?".to_string(), |o| o.to_string())),
            ),
            None => Verdict::Pass,
        }
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::testkit::{Crafted, TftpTrace};

    /// A crafted trace per rule, each breaking only that rule.
    pub(crate) fn fails_on_a_crafted_trace() -> Vec<(&'static str, Crafted)> {
        vec![
            ("rfc1350/4/server-tid", Crafted::Tftp(TftpTrace::read(1000).server_tid(69))),
            ("rfc1350/4/tids-kept", Crafted::Tftp(TftpTrace::read(1000).tid_changes_at(2))),
            ("rfc1350/5/data-block-numbers", Crafted::Tftp(TftpTrace::read(1000).first_block(0))),
            ("rfc1350/5/data-block-numbers", Crafted::Tftp(TftpTrace::read(2000).skip_block(2))),
            ("rfc1350/5/answers-data-or-error", Crafted::Tftp(TftpTrace::read(1000).server_acks_rrq())),
            ("rfc1350/5/data-length", Crafted::Tftp(TftpTrace::read(1500).blksize_unacked(600))),
            ("rfc1350/5/data-length", Crafted::Tftp(TftpTrace::read(1500).short_block_at(1))),
            ("rfc1350/6/ends-with-short-block", Crafted::Tftp(TftpTrace::read(1024).no_final_empty_block())),
            ("rfc1350/2/lock-step", Crafted::Tftp(TftpTrace::read(1500).eager())),
            ("rfc1350/5/duplicate-ack-ignored", Crafted::Tftp(TftpTrace::read(2000).duplicate_ack(1).sorcerer())),
            ("rfc1350/4/wrong-tid-error", Crafted::Tftp(TftpTrace::read(2000).wrong_tid(1).stranger_answer(None))),
            ("rfc1350/4/wrong-tid-error", Crafted::Tftp(TftpTrace::read(2000).wrong_tid(1).stranger_answer(Some(4)))),
            (
                "rfc1350/2/wrong-tid-not-terminating",
                Crafted::Tftp(TftpTrace::read(2000).wrong_tid(1).aborts_on_stranger()),
            ),
            ("rfc1350/appendix/error-code", Crafted::Tftp(TftpTrace::error(9, b"odd"))),
            ("rfc1350/appendix/error-code", Crafted::Tftp(TftpTrace::error(8, b"no options asked"))),
            ("rfc1350/5/error-message-terminated", Crafted::Tftp(TftpTrace::error_raw(vec![0, 5, 0, 1, b'n', b'o']))),
            ("rfc1350/5/error-message-netascii", Crafted::Tftp(TftpTrace::error(1, b"not \xe9 found"))),
            ("rfc1350/5/error-message-netascii", Crafted::Tftp(TftpTrace::error(1, b"bare\rcr"))),
            ("rfc1350/1/netascii-data", Crafted::Tftp(TftpTrace::netascii(b"line\r\nbare\rcr\n"))),
            ("rfc1350/1/netascii-data", Crafted::Tftp(TftpTrace::netascii(b"ends with cr\r"))),
            ("rfc1350/2/error-not-retransmitted", Crafted::Tftp(TftpTrace::error(1, b"not found").error_twice())),
            (
                "rfc1350/2/error-not-retransmitted",
                Crafted::Tftp(TftpTrace::error(1, b"not found").error_twice().relayed()),
            ),
            (
                "rfc1350/5/duplicate-ack-ignored",
                Crafted::Tftp(TftpTrace::read(2000).duplicate_ack(1).sorcerer().relayed()),
            ),
            ("rfc1350/3/udp-length", Crafted::Tftp(TftpTrace::read(100).lying_udp_length())),
            ("rfc1350/appendix/udp-checksum", Crafted::Tftp(TftpTrace::read(100).bad_server_checksums())),
            ("rfc1350/5/mail-mode-refused", Crafted::Tftp(TftpTrace::read(100).mode("mail"))),
        ]
    }

    /// Correct reads: files of every length class, both modes, lost and duplicate
    /// ACKs, a stranger, refusals, a repeated RRQ, and reads seen on both links of a
    /// relay.
    pub(crate) fn passes_on_correct_exchanges() -> Vec<(&'static str, Crafted)> {
        vec![
            ("an empty file", Crafted::Tftp(TftpTrace::read(0))),
            ("a one-block file", Crafted::Tftp(TftpTrace::read(100))),
            ("a file of two full blocks (and an empty one)", Crafted::Tftp(TftpTrace::read(1024))),
            ("a three-block file", Crafted::Tftp(TftpTrace::read(1500))),
            ("mode OCTET in capitals", Crafted::Tftp(TftpTrace::read(1500).mode("OCTET"))),
            ("a netascii file", Crafted::Tftp(TftpTrace::netascii(b"line one\r\nbare\r\0cr\r\n"))),
            ("a duplicate ACK ignored", Crafted::Tftp(TftpTrace::read(2000).duplicate_ack(1))),
            ("a lost ACK, DATA retransmitted", Crafted::Tftp(TftpTrace::read(2000).drop_ack(2))),
            ("a stranger refused with ERROR 5", Crafted::Tftp(TftpTrace::read(2000).wrong_tid(1))),
            ("mail mode refused with ERROR 4", Crafted::Tftp(TftpTrace::read(100).mode("mail").refused(4))),
            ("ERROR 1, file not found", Crafted::Tftp(TftpTrace::error(1, b"File not found"))),
            ("ERROR 2 with a netascii message", Crafted::Tftp(TftpTrace::error(2, b"Access violation\r\n"))),
            (
                "a repeated RRQ answered twice, the second refused",
                Crafted::Tftp(TftpTrace::read(3000).rrq_repeated_two_answers()),
            ),
            // Both links of a relay: each server packet twice, the routed copy's TTL
            // one lower.
            ("a read seen on both links of a relay", Crafted::Tftp(TftpTrace::read(3000).relayed())),
            ("an ERROR seen on both links of a relay", Crafted::Tftp(TftpTrace::error(1, b"File not found").relayed())),
            (
                "a duplicate ACK seen on both links of a relay",
                Crafted::Tftp(TftpTrace::read(3000).duplicate_ack(2).relayed()),
            ),
        ]
    }

    #[test]
    fn correct_transfers_pass_every_rule() {
        for (what, c) in passes_on_correct_exchanges() {
            c.assert_passes_all(what);
        }
    }

    #[test]
    fn block_numbers_roll_over_to_zero() {
        // 65537 full blocks and a short one: block 65536 goes out as 0.
        let mut b = super::Blocks::default();
        for n in 1..=70_000u64 {
            assert_eq!(b.data((n & 0xffff) as u16), Some((n, true)));
            assert_eq!(b.ack((n & 0xffff) as u16), Some((n, true)));
        }
        // Block 1 again now is the retransmission of count 65537, not of count 1.
        assert_eq!(b.data(1), Some((65537, false)));
        assert_eq!(b.ack(1), Some((65537, false)));
        // A number neither next nor sent lately: 70001 is next (wire 4465).
        assert_eq!(b.data(4466), None);
    }

    #[test]
    fn netascii_scan() {
        use super::not_netascii;
        assert_eq!(not_netascii(b"a\r\nb\r\0", None, true), None);
        assert_eq!(not_netascii(b"a\r", Some(b'\n'), true), None);
        assert_eq!(not_netascii(b"a\r", None, true), Some(1));
        assert_eq!(not_netascii(b"a\rb", None, true), Some(1));
        assert_eq!(not_netascii(b"\xe9", None, false), Some(0));
        assert_eq!(not_netascii(b"\xe9", None, true), None);
    }
}
