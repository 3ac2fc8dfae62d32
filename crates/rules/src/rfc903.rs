//! RFC 903 (RARP): what a RARP server's "reply reverse" looks like on the wire. The
//! rules are [`Check::Trace`] rules: each finds the server's RARP replies in a trace
//! (frames not sent by the harness, under the ARP or RARP EtherType, with opcode 4, or
//! under the RARP EtherType answering an opcode-3 request) and pairs each with the
//! request it answers: the last ARP/RARP frame the harness sent before it.
//!
//! A request for an unknown hardware address gets no answer at all (RFC 903 has no
//! "not found" packets): that shows only as silence, which the scenarios
//! (`scenarios/rarp/`) check, not a rule.
//!
//! RFC 903 predates RFC 2119; levels are read as `clauses/rfc903.yaml` says.

use bootcheck_wire::arp::{self, Operation, Packet};
use bootcheck_wire::frame::{Frame, Net};

use crate::{hex, Check, Evidence, Level, Rule, TraceFrame, TraceView, Verdict};

pub static RULES: &[Rule] = &[
    Rule {
        id: "rfc903/3/reply-ethertype",
        level: Level::Must,
        clauses: &["rfc903/3/own-ethertype"],
        summary: "A reply reverse (opcode 4) to a request sent under the RARP EtherType comes under the RARP EtherType (0x8035)",
        check: Check::Trace(reply_ethertype),
    },
    Rule {
        id: "rfc903/3/reply-opcode",
        level: Level::Must,
        clauses: &["rfc903/3/opcodes"],
        summary: "The server's RARP answer to a request reverse (opcode 3) is a reply reverse (opcode 4)",
        check: Check::Trace(reply_opcode),
    },
    Rule {
        id: "rfc903/3/reply-address-spaces",
        level: Level::Must,
        clauses: &["rfc903/3/address-spaces", "rfc903/3/ethernet-ipv4-values", "rfc903/3/arp-packet-reception"],
        summary: "A reply reverse answers a whole request and has its hardware/protocol types and lengths (Ethernet/IPv4: 1, 0x0800, 6, 4)",
        check: Check::Trace(reply_address_spaces),
    },
    Rule {
        id: "rfc903/3/reply-target-hardware",
        level: Level::Should,
        clauses: &["rfc903/3/reply-tha"],
        summary: "A reply reverse's target hardware address (ar$tha) is the one the request asked for",
        check: Check::Trace(reply_target_hardware),
    },
    Rule {
        id: "rfc903/3/reply-target-protocol",
        level: Level::Must,
        clauses: &["rfc903/3/reply-tpa", "rfc903/2/server-database"],
        summary: "A reply reverse's target protocol address (ar$tpa) is filled: not 0.0.0.0 or 255.255.255.255",
        check: Check::Trace(reply_target_protocol),
    },
    Rule {
        id: "rfc903/3/reply-sender-is-responder",
        level: Level::Must,
        clauses: &["rfc903/3/reply-sha", "rfc903/3/reply-spa"],
        summary: "A reply reverse's sender fields are the server's: ar$sha its Ethernet source, ar$spa a unicast address",
        check: Check::Trace(reply_sender_is_responder),
    },
    Rule {
        id: "rfc903/3/reply-to-requester",
        level: Level::Must,
        clauses: &["rfc903/3/arp-reply-destination"],
        summary: "A reply reverse goes to the requester: link destination = the request's target hardware address or its sender",
        check: Check::Trace(reply_to_requester),
    },
    Rule {
        id: "rfc903/3/only-request-reverse-answered",
        level: Level::Must,
        clauses: &["rfc903/3/other-opcodes-undefined", "rfc903/3/arp-opcodes-to-arp"],
        summary: "Only a request reverse (opcode 3) is answered with a reply reverse (opcode 4)",
        check: Check::Trace(only_request_reverse_answered),
    },
];

/// Offset of the Ethernet/IPv4 ARP fields in an ARP body.
const OPER_AT: usize = 6;
const SHA_AT: usize = 8;
const SPA_AT: usize = 14;
const THA_AT: usize = 18;
const TPA_AT: usize = 24;

/// One ARP/RARP frame of a trace.
struct ArpFrame<'a> {
    t: &'a TraceFrame<'a>,
    body: &'a [u8],
    /// Offset of the body in the frame.
    at: usize,
}

impl<'a> ArpFrame<'a> {
    fn of(t: &'a TraceFrame<'a>) -> Option<Self> {
        match t.frame.net {
            Net::Arp { body, offset } => Some(ArpFrame { t, body, at: offset }),
            _ => None,
        }
    }
    fn frame(&self) -> &Frame<'a> {
        &self.t.frame
    }
    fn rarp_ethertype(&self) -> bool {
        self.frame().ethertype == arp::ETHERTYPE_RARP
    }
    /// The opcode, when the body has its 8-octet header.
    fn op(&self) -> Option<Operation> {
        let b = self.body.get(OPER_AT..OPER_AT + 2)?;
        Some(Operation::from(u16::from_be_bytes([b[0], b[1]])))
    }
    /// The checked view (header and every address present).
    fn packet(&self) -> Option<Packet<&'a [u8]>> {
        Packet::new_checked(self.body).ok()
    }
    fn fail(&self, field_at: Option<usize>, field: &str, expected: impl ToString, seen: impl ToString) -> Verdict {
        Verdict::Fail(Box::new(Evidence {
            packet: self.t.packet,
            offset: field_at.map(|o| self.at + o),
            field: field.into(),
            expected: expected.to_string(),
            seen: seen.to_string(),
        }))
    }
}

/// A server frame judged as a RARP answer, and the request it answers.
struct Answer<'a> {
    reply: ArpFrame<'a>,
    request: ArpFrame<'a>,
}

/// The server's RARP answers: frames not sent by the harness that are a reply reverse
/// (opcode 4, either EtherType) or that come under the RARP EtherType after a request
/// reverse; each with the last ARP/RARP frame the harness sent before it.
fn answers<'a>(v: &TraceView<'a>) -> Vec<Answer<'a>> {
    let mut out = Vec::new();
    let mut last_sent: Option<&'a TraceFrame<'a>> = None;
    for t in v.frames {
        let Some(a) = ArpFrame::of(t) else { continue };
        if t.sent {
            last_sent = Some(t);
            continue;
        }
        let Some(req) = last_sent.and_then(ArpFrame::of) else { continue };
        let is_answer = a.op() == Some(Operation::RarpReply)
            || (a.rarp_ethertype() && req.rarp_ethertype() && req.op() == Some(Operation::RarpRequest));
        if is_answer {
            out.push(Answer { reply: a, request: req });
        }
    }
    out
}

/// Run `f` on every reply reverse whose request was a request reverse with the same
/// address spaces; the first failure wins.
fn each_reply<'a>(
    v: &TraceView<'a>,
    f: impl Fn(&Answer<'a>, &Packet<&'a [u8]>, &Packet<&'a [u8]>) -> Verdict,
) -> Verdict {
    let mut verdict = Verdict::NotApplicable;
    for a in answers(v) {
        if a.reply.op() != Some(Operation::RarpReply) || a.request.op() != Some(Operation::RarpRequest) {
            continue;
        }
        let (Some(q), Some(r)) = (a.request.packet(), a.reply.packet()) else { continue };
        if !q.is_ethernet_ipv4() || !r.is_ethernet_ipv4() {
            continue;
        }
        match f(&a, &q, &r) {
            Verdict::Pass => verdict = Verdict::Pass,
            Verdict::NotApplicable => {}
            fail => return fail,
        }
    }
    verdict
}

trait EthIpv4 {
    fn is_ethernet_ipv4(&self) -> bool;
}

impl EthIpv4 for Packet<&[u8]> {
    fn is_ethernet_ipv4(&self) -> bool {
        self.hardware_type() == arp::HTYPE_ETHERNET
            && self.protocol_type() == arp::PTYPE_IPV4
            && self.hardware_len() == 6
            && self.protocol_len() == 4
    }
}

fn ipv4_at(b: &[u8], at: usize) -> Option<std::net::Ipv4Addr> {
    let x = b.get(at..at + 4)?;
    Some(std::net::Ipv4Addr::new(x[0], x[1], x[2], x[3]))
}

fn reply_ethertype(v: &TraceView<'_>) -> Verdict {
    let mut verdict = Verdict::NotApplicable;
    for a in answers(v) {
        if a.reply.op() != Some(Operation::RarpReply) || !a.request.rarp_ethertype() {
            continue;
        }
        if !a.reply.rarp_ethertype() {
            return Verdict::Fail(Box::new(Evidence {
                packet: a.reply.t.packet,
                offset: a.reply.at.checked_sub(2),
                field: "eth.type".into(),
                expected: format!("0x{:04x} (RARP)", arp::ETHERTYPE_RARP),
                seen: format!("0x{:04x}", a.reply.frame().ethertype),
            }));
        }
        verdict = Verdict::Pass;
    }
    verdict
}

fn reply_opcode(v: &TraceView<'_>) -> Verdict {
    let mut verdict = Verdict::NotApplicable;
    for a in answers(v) {
        if a.request.op() != Some(Operation::RarpRequest) || !a.reply.rarp_ethertype() {
            continue;
        }
        match a.reply.op() {
            Some(Operation::RarpReply) => verdict = Verdict::Pass,
            Some(op) => {
                return a.reply.fail(Some(OPER_AT), "rarp.op", "4 (reply reverse)", format!("{} ({op})", u16::from(op)))
            }
            None => return a.reply.fail(None, "rarp.op", "4 (reply reverse)", "a body without an opcode"),
        }
    }
    verdict
}

fn reply_address_spaces(v: &TraceView<'_>) -> Verdict {
    let mut verdict = Verdict::NotApplicable;
    for a in answers(v) {
        if a.reply.op() != Some(Operation::RarpReply) || a.request.op() != Some(Operation::RarpRequest) {
            continue;
        }
        let Some(q) = a.request.packet() else {
            return a.reply.fail(
                None,
                "rarp request",
                "no reply to a truncated request",
                format!("a reply to packet {} ({} octets of ARP body)", a.request.t.packet, a.request.body.len()),
            );
        };
        let Some(r) = a.reply.packet() else {
            return a.reply.fail(None, "rarp reply", "a whole ARP body", format!("{} octets", a.reply.body.len()));
        };
        let fields: [(&str, usize, u16, u16); 4] = [
            ("rarp.htype", 0, q.hardware_type(), r.hardware_type()),
            ("rarp.ptype", 2, q.protocol_type(), r.protocol_type()),
            ("rarp.hlen", 4, u16::from(q.hardware_len()), u16::from(r.hardware_len())),
            ("rarp.plen", 5, u16::from(q.protocol_len()), u16::from(r.protocol_len())),
        ];
        for (name, at, want, got) in fields {
            if want != got {
                return a.reply.fail(
                    Some(at),
                    name,
                    format!("{want} (as in the request, packet {})", a.request.t.packet),
                    got,
                );
            }
        }
        if !q.is_ethernet_ipv4() {
            // Answering a request with other spaces on an Ethernet/IPv4 server.
            return a.reply.fail(
                Some(4),
                "rarp.hlen/plen",
                "no reply to a request that is not Ethernet/IPv4 (htype 1, ptype 0x0800, hlen 6, plen 4)",
                format!(
                    "a reply to htype {} ptype 0x{:04x} hlen {} plen {}",
                    q.hardware_type(),
                    q.protocol_type(),
                    q.hardware_len(),
                    q.protocol_len()
                ),
            );
        }
        verdict = Verdict::Pass;
    }
    verdict
}

fn reply_target_hardware(v: &TraceView<'_>) -> Verdict {
    each_reply(v, |a, q, r| {
        if q.tha() == r.tha() {
            Verdict::Pass
        } else {
            a.reply.fail(Some(THA_AT), "rarp.tha", hex(q.tha()), hex(r.tha()))
        }
    })
}

fn reply_target_protocol(v: &TraceView<'_>) -> Verdict {
    each_reply(v, |a, _q, r| match ipv4_at(r.as_bytes(), TPA_AT) {
        Some(ip) if !ip.is_unspecified() && !ip.is_broadcast() => Verdict::Pass,
        Some(ip) => a.reply.fail(Some(TPA_AT), "rarp.tpa", "the target's protocol address", ip),
        None => Verdict::NotApplicable,
    })
}

fn reply_sender_is_responder(v: &TraceView<'_>) -> Verdict {
    each_reply(v, |a, _q, r| {
        if let Some(src) = a.reply.frame().src_mac() {
            if r.sha() != src {
                return a.reply.fail(
                    Some(SHA_AT),
                    "rarp.sha",
                    format!("{} (the reply's Ethernet source)", hex(&src)),
                    hex(r.sha()),
                );
            }
        }
        match ipv4_at(r.as_bytes(), SPA_AT) {
            Some(ip) if ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast() => {
                a.reply.fail(Some(SPA_AT), "rarp.spa", "the responder's protocol address", ip)
            }
            Some(_) => Verdict::Pass,
            None => Verdict::NotApplicable,
        }
    })
}

fn reply_to_requester(v: &TraceView<'_>) -> Verdict {
    each_reply(v, |a, q, _r| {
        let Some(dst) = a.reply.frame().dst_mac() else { return Verdict::NotApplicable };
        let ok = dst.as_slice() == q.tha()
            || dst.as_slice() == q.sha()
            || a.request.frame().src_mac().is_some_and(|s| s == dst);
        if ok {
            Verdict::Pass
        } else {
            Verdict::Fail(Box::new(Evidence {
                packet: a.reply.t.packet,
                offset: Some(0),
                field: "eth.dst".into(),
                expected: format!("{} or {} (the request's tha or its sender)", hex(q.tha()), hex(q.sha())),
                seen: hex(&dst),
            }))
        }
    })
}

fn only_request_reverse_answered(v: &TraceView<'_>) -> Verdict {
    let mut verdict = Verdict::NotApplicable;
    for a in answers(v) {
        if a.reply.op() != Some(Operation::RarpReply) {
            continue;
        }
        match a.request.op() {
            Some(Operation::RarpRequest) => verdict = Verdict::Pass,
            Some(op) => {
                return a.reply.fail(
                    Some(OPER_AT),
                    "rarp.op",
                    format!("no reply reverse to packet {} (opcode {})", a.request.t.packet, u16::from(op)),
                    "4 (reply reverse)",
                )
            }
            None => {}
        }
    }
    verdict
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::testkit::{Crafted, RarpTrace};

    /// One crafted failing trace per rule.
    pub(crate) fn fails_on_a_crafted_trace() -> Vec<(&'static str, Crafted)> {
        vec![
            (
                "rfc903/3/reply-ethertype",
                Crafted::Rarp(RarpTrace::known().reply(|f| f[12..14].copy_from_slice(&[0x08, 0x06]))),
            ),
            ("rfc903/3/reply-opcode", Crafted::Rarp(RarpTrace::known().reply(|f| f[21] = 2))),
            ("rfc903/3/reply-address-spaces", Crafted::Rarp(RarpTrace::known().reply(|f| f[15] = 6))),
            ("rfc903/3/reply-address-spaces", Crafted::Rarp(RarpTrace::known().request(|f| f[18] = 7))),
            ("rfc903/3/reply-address-spaces", Crafted::Rarp(RarpTrace::known().request(|f| f.truncate(14 + 20)))),
            ("rfc903/3/reply-target-hardware", Crafted::Rarp(RarpTrace::known().reply(|f| f[37] = 0x99))),
            ("rfc903/3/reply-target-protocol", Crafted::Rarp(RarpTrace::known().reply(|f| f[38..42].fill(0)))),
            ("rfc903/3/reply-sender-is-responder", Crafted::Rarp(RarpTrace::known().reply(|f| f[27] = 0x77))),
            ("rfc903/3/reply-sender-is-responder", Crafted::Rarp(RarpTrace::known().reply(|f| f[28..32].fill(0)))),
            ("rfc903/3/reply-to-requester", Crafted::Rarp(RarpTrace::known().reply(|f| f[0..6].fill(0xff)))),
            ("rfc903/3/only-request-reverse-answered", Crafted::Rarp(RarpTrace::known().request(|f| f[21] = 1))),
        ]
    }

    #[test]
    fn crafted_failures() {
        for (id, c) in fails_on_a_crafted_trace() {
            c.assert_fails(id);
        }
    }

    /// Correct exchanges: a host asking for its own address, and a third-party lookup
    /// answered to the requester or to the target.
    fn correct_exchanges() -> Vec<(&'static str, RarpTrace)> {
        vec![
            ("a host's own address", RarpTrace::known()),
            (
                "a third-party lookup answered to the requester",
                RarpTrace::known().request(|f| f[37] = 0x02).reply(|f| f[37] = 0x02),
            ),
            (
                "a third-party lookup answered to the target",
                RarpTrace::known().request(|f| f[37] = 0x02).reply(|f| {
                    f[37] = 0x02;
                    f[5] = 0x02;
                }),
            ),
        ]
    }

    /// The same exchanges, for the catalogue-wide passing test.
    pub(crate) fn passes_on_correct_exchanges() -> Vec<(&'static str, Crafted)> {
        correct_exchanges().into_iter().map(|(what, t)| (what, Crafted::Rarp(t))).collect()
    }

    #[test]
    fn a_correct_exchange_passes_every_rule() {
        for (_, t) in correct_exchanges() {
            t.assert_passes_all();
        }
    }

    #[test]
    fn silence_and_plain_arp_are_not_judged() {
        RarpTrace::known().silent().assert_not_applicable();
        RarpTrace::known().request(|f| f[18] = 7).silent().assert_not_applicable();
        // An ARP request under the RARP EtherType answered by an ARP reply (RFC 903: may be
        // passed on to regular ARP code).
        RarpTrace::known().request(|f| f[21] = 1).reply(|f| f[21] = 2).assert_not_applicable();
    }
}
