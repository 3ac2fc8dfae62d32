//! RFC 1542 (Clarifications and Extensions for BOOTP): the server's delivery of a
//! BOOTREPLY (§5.3, §5.4), and the relay agent (§4.1.1 forwarding BOOTREQUESTs, §4.1.2
//! delivering BOOTREPLYs).

use std::net::Ipv4Addr;

use bootcheck_wire::bootp::{field, Packet as Bootp, CLIENT_PORT, FLAG_BROADCAST, SERVER_PORT};
use bootcheck_wire::options::Item;

use crate::{fail, hex, ip, Check, Level, Msg, Pair, RelayView, Rule, Verdict};

/// The highest hops value a relay may forward (§4.1.1).
pub const HOPS_LIMIT: u8 = 16;

pub static RULES: &[Rule] = &[
    Rule {
        id: "rfc1542/1.2/no-icmp-for-discards",
        level: Level::MustNot,
        clauses: &["rfc1542/1.2/silent-discard-no-icmp", "rfc1542/1.2/silent-discard-no-icmp-relay"],
        summary: "A request the target discards is discarded silently: no ICMP error about a datagram to port 67",
        check: Check::Trace(no_icmp_for_discards),
    },
    // --- §5.3, §5.4: the server ---
    Rule {
        id: "rfc1542/5.3/ciaddr-preserved",
        level: Level::Should,
        clauses: &["rfc1542/5.3/ciaddr-preserved"],
        summary: "The reply's ciaddr is exactly the request's",
        check: Check::Reply(ciaddr_preserved),
    },
    Rule {
        id: "rfc1542/5.4/to-ciaddr",
        level: Level::Should,
        clauses: &["rfc1542/5.4/reply-to-ciaddr", "rfc951/7.3/reply-to-ciaddr"],
        summary: "A reply to a request with ciaddr set goes as IP unicast to ciaddr",
        check: Check::Reply(to_ciaddr),
    },
    Rule {
        id: "rfc1542/5.4/client-port",
        level: Level::Must,
        clauses: &["rfc1542/5.4/ciaddr-reply-port-68", "rfc1542/5.4/direct-reply-port-68", "rfc951/7.3/reply-dst-port-68"],
        summary: "A reply sent to the client (not to a relay) has UDP destination port 68",
        check: Check::Reply(client_port),
    },
    Rule {
        id: "rfc1542/5.4/to-relay",
        level: Level::Should,
        clauses: &["rfc1542/5.4/reply-to-giaddr", "rfc951/7.3/reply-to-giaddr"],
        summary: "A reply to a relayed request (giaddr set, ciaddr 0) goes as IP unicast to giaddr",
        check: Check::Reply(to_relay),
    },
    Rule {
        id: "rfc1542/5.4/relay-port",
        level: Level::Must,
        clauses: &["rfc1542/5.4/giaddr-reply-port-67"],
        summary: "A reply sent to the relay agent (giaddr) has UDP destination port 67",
        check: Check::Reply(relay_port),
    },
    Rule {
        id: "rfc1542/5.4/preserve-broadcast-flag",
        level: Level::Must,
        clauses: &["rfc1542/5.4/preserve-broadcast-flag"],
        summary: "A reply to a relayed request keeps the request's BROADCAST flag (the relay acts on it)",
        check: Check::Reply(preserve_broadcast_flag),
    },
    Rule {
        id: "rfc1542/5.4/broadcast-flag",
        level: Level::Should,
        clauses: &["rfc1542/5.4/broadcast-flag-set", "rfc1542/5.4/examine-broadcast-flag"],
        summary: "With the BROADCAST flag set (no giaddr, no ciaddr), the reply goes to IP 255.255.255.255",
        check: Check::Reply(broadcast_flag_ip),
    },
    Rule {
        id: "rfc1542/5.4/broadcast-flag-link",
        level: Level::Should,
        clauses: &["rfc1542/5.4/broadcast-flag-set", "rfc1542/5.4/examine-broadcast-flag"],
        summary: "With the BROADCAST flag set (no giaddr, no ciaddr), the reply goes to the link-layer broadcast address",
        check: Check::Reply(broadcast_flag_link),
    },
    Rule {
        id: "rfc1542/5.4/unicast-to-client",
        level: Level::Should,
        clauses: &["rfc1542/5.4/unicast-to-chaddr", "rfc1542/5.4/unicast-fallback-broadcast", "rfc1542/5.4/fallback-broadcast-addresses", "rfc951/7.3/reply-egg"],
        summary: "With the BROADCAST flag clear (no giaddr, no ciaddr), the reply goes to yiaddr at chaddr (or, if unicast is impossible, to 255.255.255.255 at the link broadcast)",
        check: Check::Reply(unicast_to_client),
    },
    // --- §4.1.1: the relay agent forwarding a BOOTREQUEST ---
    Rule {
        id: "rfc1542/4.1.1/hops-limit",
        level: Level::MustNot,
        clauses: &["rfc1542/4.1.1/hops-over-16-discarded", "rfc951/8/hops-limit"],
        summary: "A relay agent does not forward a BOOTREQUEST whose hops exceeds 16",
        check: Check::Relay(hops_limit),
    },
    Rule {
        id: "rfc1542/4.1.1/hops-threshold",
        level: Level::Should,
        clauses: &["rfc1542/4.1.1/hops-threshold-default-4"],
        summary: "A relay agent does not forward a BOOTREQUEST whose hops exceeds its configured threshold (default 4)",
        check: Check::Relay(hops_threshold),
    },
    Rule {
        id: "rfc1542/4.1.1/giaddr-filled",
        level: Level::Must,
        clauses: &["rfc1542/4.1.1/giaddr-fill-if-zero", "rfc951/8/giaddr-fill"],
        summary: "A relayed request with giaddr 0 gets the address of the interface it was received on",
        check: Check::Relay(giaddr_filled),
    },
    Rule {
        id: "rfc1542/4.1.1/giaddr-kept",
        level: Level::MustNot,
        clauses: &["rfc1542/4.1.1/giaddr-nonzero-unchanged", "rfc1542/4.1.1/giaddr-never-broadcast"],
        summary: "A relay agent does not modify a non-zero giaddr, and never puts a broadcast address in it",
        check: Check::Relay(giaddr_kept),
    },
    Rule {
        id: "rfc1542/4.1.1/hops-incremented",
        level: Level::Must,
        clauses: &["rfc1542/4.1.1/hops-incremented", "rfc951/8/hops-increment"],
        summary: "A relayed request's hops is the received value plus one",
        check: Check::Relay(hops_incremented),
    },
    Rule {
        id: "rfc1542/4.1.1/request-intact",
        level: Level::Must,
        clauses: &[
            "rfc1542/4.1.1/request-fields-preserved",
            "rfc1542/2.3/chaddr-preserved-relay",
            "rfc1542/2.3/chaddr-no-bit-reversal",
            "rfc3046/2.1/no-overload",
        ],
        summary: "A relayed request is unchanged except hops and giaddr (and an RFC 3046 relay agent option)",
        check: Check::Relay(request_intact),
    },
    Rule {
        id: "rfc1542/4.1.1/no-rebroadcast",
        level: Level::MustNot,
        clauses: &["rfc1542/4.1.1/no-rebroadcast-on-arrival-interface", "rfc951/8/no-global-rebroadcast"],
        summary: "A relay agent does not rebroadcast a request (it unicasts it to its configured server)",
        check: Check::Relay(no_rebroadcast),
    },
    Rule {
        id: "rfc1542/4.1/discard-bootpc",
        level: Level::Must,
        clauses: &["rfc1542/4.1/relay-discard-bootpc"],
        summary: "A relay agent discards a message sent to UDP port 68 (it relays only what arrives on port 67)",
        check: Check::Relay(discard_bootpc),
    },
    Rule {
        id: "rfc1542/4.1/inconsistent-discarded",
        level: Level::Should,
        clauses: &["rfc1542/4.1/relay-consistency-checks", "rfc1542/4.1/relay-inconsistent-discarded"],
        summary: "A relay agent checks a request (op BOOTREQUEST, at least 300 octets) and silently discards one that fails",
        check: Check::Relay(inconsistent_discarded),
    },
    Rule {
        id: "rfc1542/4.1/relays-valid-requests",
        level: Level::Must,
        clauses: &[
            "rfc1542/4.1/relay-port-67-considered",
            "rfc1542/4.1/relay-accept-src-zero",
            "rfc1542/4.1/relay-accept-legal-src",
            "rfc1542/2.1/long-message-accepted-relay",
            "rfc1542/2.2/flags-mbz-ignored-relay",
        ],
        summary: "A relay agent relays a valid request to port 67 from 0.0.0.0 or a legal source, also when it is longer than 300 octets or has MBZ flag bits set",
        check: Check::Relay(relays_valid_requests),
    },
    Rule {
        id: "rfc1542/4/not-straight-through",
        level: Level::MustNot,
        clauses: &["rfc1542/4/relay-not-straight-through", "rfc1542/4.1/relay-ignore-transit-unicast"],
        summary: "A relay agent is not an IP router for BOOTP: it sends its own datagram from its own address, and does not relay a request unicast to another host",
        check: Check::Relay(not_straight_through),
    },
    Rule {
        id: "rfc1542/4.1.1/forwarded-checksum",
        level: Level::Must,
        clauses: &["rfc1542/4.1.1/relayed-request-checksum"],
        summary: "A relayed request's UDP checksum is correct for the changed message (or 0)",
        check: Check::Relay(forwarded_checksum),
    },
    Rule {
        id: "rfc1542/4.1.1/same-destination",
        level: Level::Must,
        clauses: &["rfc1542/4.1.1/same-destination-per-client"],
        summary: "A relay agent relays every request of one client to the same destination",
        check: Check::Trace(same_destination),
    },
    Rule {
        id: "rfc3046/2.1/agent-option-last",
        level: Level::Must,
        clauses: &["rfc3046/2.1/added-last"],
        summary: "An option 82 a relay agent adds is the last option of the relayed request, before End",
        check: Check::Relay(agent_option_last),
    },
    Rule {
        id: "rfc3046/2.1/agent-option-removed",
        level: Level::Must,
        clauses: &["rfc3046/2.1/echoed-option-removed"],
        summary: "When the relay added option 82 and the server echoed it, the reply delivered to the client carries no option 82 (the relay removes the echo)",
        check: Check::Relay(agent_option_removed),
    },
    // --- RFC 3046 §2.2: the server's echo of a relay agent's option 82 ---
    Rule {
        id: "rfc3046/2.2/agent-option-echoed",
        level: Level::Must,
        clauses: &["rfc3046/2.2/echo-entire-contents", "rfc3046/2.2/echo-whole-or-none", "rfc3046/2.2/echo-not-in-sname-file"],
        summary: "An option 82 in a reply is the request's, whole and unchanged, in the options field (a server unaware of RFC 3046 echoes none, which §2.2 allows)",
        check: Check::Reply(agent_option_echoed),
    },
    Rule {
        id: "rfc3046/2.2/agent-option-echo-last",
        level: Level::Should,
        clauses: &["rfc3046/2.2/echo-last"],
        summary: "An echoed option 82 is the reply's last option (before End)",
        check: Check::Reply(agent_option_echo_last),
    },
    // --- §4.1.2: the relay agent delivering a BOOTREPLY ---
    Rule {
        id: "rfc1542/4.1.2/foreign-giaddr-discarded",
        level: Level::Must,
        clauses: &["rfc1542/4.1.2/reply-giaddr-not-local-discarded", "rfc1542/4.1.2/replies-only-to-clients"],
        summary: "A relay agent discards a BOOTREPLY whose giaddr is not one of its interfaces",
        check: Check::Relay(foreign_giaddr_discarded),
    },
    Rule {
        id: "rfc1542/4.1.2/delivered-checksum",
        level: Level::Must,
        clauses: &["rfc1542/4.1.2/reply-checksum-recalculated"],
        summary: "A delivered reply's UDP checksum is correct (recalculated), or 0",
        check: Check::Relay(delivered_checksum),
    },
    Rule {
        id: "rfc1542/4.1.2/reply-delivered",
        level: Level::Must,
        clauses: &["rfc1542/4.1.2/reply-giaddr-interface", "rfc951/7.4/reply-forward-egg"],
        summary: "A server's reply to the relay (giaddr = one of its interfaces) is delivered to the client",
        check: Check::Relay(reply_delivered),
    },
    Rule {
        id: "rfc1542/4.1.2/reply-intact",
        level: Level::MustNot,
        clauses: &["rfc1542/4.1.2/reply-fields-preserved"],
        summary: "A relay agent does not modify any BOOTP field of the reply it delivers (an RFC 3046 option 82 is removed)",
        check: Check::Relay(reply_intact),
    },
    Rule {
        id: "rfc1542/4.1.2/reply-port",
        level: Level::Must,
        clauses: &["rfc1542/4.1.2/reply-dst-port-68", "rfc951/7.4/reply-forward-port-68"],
        summary: "A relay agent delivers the reply to UDP port 68",
        check: Check::Relay(reply_port),
    },
    Rule {
        id: "rfc1542/4.1.2/broadcast-flag",
        level: Level::Should,
        clauses: &["rfc1542/4.1.2/relay-examine-broadcast-flag", "rfc1542/4.1.2/relay-broadcast-flag-set", "rfc1542/4.1.2/relay-broadcast-flag-clear", "rfc1542/4.1.2/relay-unicast-fallback-broadcast", "rfc1542/4.1.2/relay-fallback-broadcast-addresses"],
        summary: "A relay agent delivers a reply with the BROADCAST flag to 255.255.255.255 at the link broadcast, otherwise to yiaddr at chaddr",
        check: Check::Relay(relay_broadcast_flag),
    },
];

fn no_icmp_for_discards(v: &crate::TraceView<'_>) -> Verdict {
    // The UDP datagrams the harness sent to port 67: (src, dst, src port, dst port).
    let sent: Vec<(std::net::Ipv4Addr, std::net::Ipv4Addr, u16, u16)> = v
        .frames
        .iter()
        .filter(|t| t.sent)
        .filter_map(|t| {
            let ip = t.frame.ipv4()?;
            let u = t.frame.udp()?;
            (u.dst_port == SERVER_PORT).then_some((ip.src, ip.dst, u.src_port, u.dst_port))
        })
        .collect();
    if sent.is_empty() {
        return Verdict::NotApplicable;
    }
    for t in v.frames.iter().filter(|t| !t.sent) {
        let Some(ip) = t.frame.ipv4() else { continue };
        let bootcheck_wire::frame::Transport::Other { payload, offset } = ip.transport else { continue };
        if ip.protocol != 1 || payload.first() != Some(&3) {
            continue;
        }
        // ICMP header (8), then the quoted IP header and the first 8 octets of UDP:
        // an error about one of the harness's own requests.
        let q = payload.get(8..).unwrap_or(&[]);
        let ihl = usize::from(q.first().map_or(0, |b| b & 0x0f)) * 4;
        let addr = |at: usize| q.get(at..at + 4).map(|b| std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]));
        let port = |at: usize| q.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
        let quoted = (addr(12), addr(16), port(ihl), port(ihl + 2));
        let about_ours =
            q.get(9) == Some(&17) && sent.iter().any(|s| (Some(s.0), Some(s.1), Some(s.2), Some(s.3)) == quoted);
        if about_ours {
            return Verdict::Fail(Box::new(crate::Evidence {
                packet: t.packet,
                offset: Some(offset),
                field: "ICMP".into(),
                expected: "silence for a discarded request".into(),
                seen: format!(
                    "ICMP destination unreachable (code {}) about the harness's request to port 67",
                    payload.get(1).copied().unwrap_or(0)
                ),
            }));
        }
    }
    Verdict::Pass
}

/// A DHCPNAK has ciaddr 0 and, without a giaddr, is broadcast (RFC 2131 §4.1 and
/// Table 3), whatever the request's ciaddr: the §5.3/§5.4 ciaddr rules do not apply.
fn is_nak(r: &bootcheck_wire::bootp::Packet<&[u8]>) -> bool {
    r.message_type() == Some(bootcheck_wire::options::MessageType::Nak)
}

fn ciaddr_preserved(p: &Pair<'_>) -> Verdict {
    let Some((q, r)) = p.bootp() else { return Verdict::NotApplicable };
    if is_nak(r) {
        return Verdict::NotApplicable;
    }
    if q.ciaddr() == r.ciaddr() {
        Verdict::Pass
    } else {
        fail(p.reply, p.reply.at_field(field::CIADDR.start), "reply.ciaddr", ip(q.ciaddr()), ip(r.ciaddr()))
    }
}

fn to_ciaddr(p: &Pair<'_>) -> Verdict {
    let Some((q, r)) = p.bootp() else { return Verdict::NotApplicable };
    let Some(dst) = p.reply.dst_ip() else { return Verdict::NotApplicable };
    // §5.4 looks at giaddr first: a relayed request's reply goes to the relay.
    if q.ciaddr().is_unspecified() || !q.giaddr().is_unspecified() || is_nak(r) {
        return Verdict::NotApplicable;
    }
    if dst == q.ciaddr() {
        Verdict::Pass
    } else {
        fail(p.reply, None, "ip.dst", format!("{} (ciaddr)", q.ciaddr()), ip(dst))
    }
}

/// Whether the reply is addressed to the relay agent named by the request's giaddr.
fn sent_to_relay(p: &Pair<'_>) -> Option<bool> {
    let q = p.request.bootp.as_ref()?;
    let dst = p.reply.dst_ip()?;
    Some(!q.giaddr().is_unspecified() && dst == q.giaddr())
}

fn client_port(p: &Pair<'_>) -> Verdict {
    let (Some(to_relay), Some((_, port))) = (sent_to_relay(p), p.reply.ports()) else {
        return Verdict::NotApplicable;
    };
    // A BSDP client may name its own reply port (BSDP §4); `bsdp/4/reply-port` judges it.
    if to_relay || crate::bsdp::requested_reply_port(p.request).is_some() {
        return Verdict::NotApplicable;
    }
    if port == CLIENT_PORT {
        Verdict::Pass
    } else {
        fail(p.reply, None, "udp.dst_port", CLIENT_PORT, port)
    }
}

fn to_relay(p: &Pair<'_>) -> Verdict {
    let Some((q, _)) = p.bootp() else { return Verdict::NotApplicable };
    let Some(dst) = p.reply.dst_ip() else { return Verdict::NotApplicable };
    if q.giaddr().is_unspecified() || !q.ciaddr().is_unspecified() {
        return Verdict::NotApplicable;
    }
    if dst == q.giaddr() {
        Verdict::Pass
    } else {
        fail(p.reply, None, "ip.dst", format!("{} (giaddr)", q.giaddr()), ip(dst))
    }
}

fn relay_port(p: &Pair<'_>) -> Verdict {
    let (Some(to_relay), Some((_, port))) = (sent_to_relay(p), p.reply.ports()) else {
        return Verdict::NotApplicable;
    };
    if !to_relay {
        return Verdict::NotApplicable;
    }
    if port == SERVER_PORT {
        Verdict::Pass
    } else {
        fail(p.reply, None, "udp.dst_port", SERVER_PORT, port)
    }
}

fn preserve_broadcast_flag(p: &Pair<'_>) -> Verdict {
    let Some((q, r)) = p.bootp() else { return Verdict::NotApplicable };
    if q.giaddr().is_unspecified() || !q.broadcast() {
        // A server MAY set the flag on its own knowledge; clearing it is the failure.
        return Verdict::NotApplicable;
    }
    if r.broadcast() {
        Verdict::Pass
    } else {
        fail(
            p.reply,
            p.reply.at_field(field::FLAGS.start),
            "reply.flags",
            "BROADCAST set (as requested)",
            format!("{:#06x}", r.flags()),
        )
    }
}

/// The direct-delivery case of §5.4: no giaddr, no ciaddr.
fn direct(p: &Pair<'_>) -> Option<bool> {
    let (q, _) = p.bootp()?;
    (q.giaddr().is_unspecified() && q.ciaddr().is_unspecified()).then(|| q.broadcast())
}

fn broadcast_flag_ip(p: &Pair<'_>) -> Verdict {
    if direct(p) != Some(true) {
        return Verdict::NotApplicable;
    }
    let Some(dst) = p.reply.dst_ip() else { return Verdict::NotApplicable };
    if dst == Ipv4Addr::BROADCAST {
        Verdict::Pass
    } else {
        fail(p.reply, None, "ip.dst", "255.255.255.255", ip(dst))
    }
}

fn broadcast_flag_link(p: &Pair<'_>) -> Verdict {
    if direct(p) != Some(true) {
        return Verdict::NotApplicable;
    }
    let Some(mac) = p.reply.frame.dst_mac() else { return Verdict::NotApplicable };
    if mac == [0xff; 6] {
        Verdict::Pass
    } else {
        fail(p.reply, Some(0), "eth.dst", "ff:ff:ff:ff:ff:ff", hex(&mac))
    }
}

fn unicast_to_client(p: &Pair<'_>) -> Verdict {
    if direct(p) != Some(false) {
        return Verdict::NotApplicable;
    }
    let Some((_, r)) = p.bootp() else { return Verdict::NotApplicable };
    let Some(dst) = p.reply.dst_ip() else { return Verdict::NotApplicable };
    if r.yiaddr().is_unspecified() {
        // No address to deliver to: `rfc951/7.3/yiaddr-filled` judges such a reply.
        return Verdict::NotApplicable;
    }
    let mac = p.reply.frame.dst_mac();
    let chaddr = r.chaddr();
    // Broadcast fallback (MAY), done properly.
    if dst == Ipv4Addr::BROADCAST && mac.is_none_or(|m| m == [0xff; 6]) {
        return Verdict::Pass;
    }
    if dst != r.yiaddr() {
        return fail(p.reply, None, "ip.dst", format!("{} (yiaddr)", r.yiaddr()), ip(dst));
    }
    match mac {
        Some(m) if m.as_slice() != chaddr && r.hlen() == 6 => {
            fail(p.reply, Some(0), "eth.dst", format!("{} (chaddr)", hex(chaddr)), hex(&m))
        }
        _ => Verdict::Pass,
    }
}

// --- relay ---

fn req_hops(v: &RelayView<'_>) -> Option<u8> {
    v.request.bootp.as_ref().map(Bootp::hops)
}

fn hops_limit(v: &RelayView<'_>) -> Verdict {
    let Some(h) = req_hops(v) else { return Verdict::NotApplicable };
    match (h > HOPS_LIMIT, v.forwarded) {
        (false, _) => Verdict::NotApplicable,
        (true, None) => Verdict::Pass,
        (true, Some(f)) => {
            fail(f, f.at_field(field::HOPS), "forwarded request", format!("not forwarded (hops {h} > 16)"), "forwarded")
        }
    }
}

fn hops_threshold(v: &RelayView<'_>) -> Verdict {
    let Some(h) = req_hops(v) else { return Verdict::NotApplicable };
    let max = v.ctx.max_hops.min(HOPS_LIMIT);
    match (h > max && h <= HOPS_LIMIT, v.forwarded) {
        (false, _) => Verdict::NotApplicable,
        (true, None) => Verdict::Pass,
        (true, Some(f)) => fail(
            f,
            f.at_field(field::HOPS),
            "forwarded request",
            format!("not forwarded (hops {h} > threshold {max})"),
            "forwarded",
        ),
    }
}

fn fwd<'v>(v: &'v RelayView<'_>) -> Option<(&'v Bootp<&'v [u8]>, &'v Msg<'v>, &'v Bootp<&'v [u8]>)> {
    let q = v.request.bootp.as_ref()?;
    let f = v.forwarded?;
    Some((q, f, f.bootp.as_ref()?))
}

fn giaddr_filled(v: &RelayView<'_>) -> Verdict {
    let Some((q, f, fb)) = fwd(v) else { return Verdict::NotApplicable };
    if !q.giaddr().is_unspecified() {
        return Verdict::NotApplicable;
    }
    if fb.giaddr() == v.ctx.client_side_ip {
        Verdict::Pass
    } else {
        fail(
            f,
            f.at_field(field::GIADDR.start),
            "forwarded.giaddr",
            format!("{} (the receiving interface)", v.ctx.client_side_ip),
            ip(fb.giaddr()),
        )
    }
}

fn giaddr_kept(v: &RelayView<'_>) -> Verdict {
    let Some((q, f, fb)) = fwd(v) else { return Verdict::NotApplicable };
    let g = fb.giaddr();
    if g.is_broadcast() || (g.octets()[3] == 255 && g != q.giaddr()) {
        return fail(f, f.at_field(field::GIADDR.start), "forwarded.giaddr", "not a broadcast address", ip(g));
    }
    if q.giaddr().is_unspecified() {
        return Verdict::NotApplicable;
    }
    if g == q.giaddr() {
        Verdict::Pass
    } else {
        fail(f, f.at_field(field::GIADDR.start), "forwarded.giaddr", format!("{} (unchanged)", q.giaddr()), ip(g))
    }
}

fn hops_incremented(v: &RelayView<'_>) -> Verdict {
    let Some((q, f, fb)) = fwd(v) else { return Verdict::NotApplicable };
    let want = q.hops().wrapping_add(1);
    if fb.hops() == want {
        Verdict::Pass
    } else {
        fail(f, f.at_field(field::HOPS), "forwarded.hops", want, fb.hops())
    }
}

/// The options of a message in order as (code, data), without option 82 (RFC 3046),
/// or `None` when the message carries no RFC 1048 options.
fn options_without_82<'a>(b: &'a Bootp<&'a [u8]>) -> Vec<(u8, &'a [u8])> {
    b.walk()
        .filter_map(|it| match it {
            Ok(Item::Option(o)) if o.option.code != 82 => Some((o.option.code, o.option.data)),
            _ => None,
        })
        .collect()
}

/// Compare two BOOTP messages field by field, ignoring `skip` header ranges and an
/// option 82. Returns the first differing BOOTP offset and a description.
fn first_difference(a: &Bootp<&[u8]>, b: &Bootp<&[u8]>, skip: &[std::ops::Range<usize>]) -> Option<(usize, String)> {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    for i in 0..bootcheck_wire::bootp::HEADER_LEN {
        if skip.iter().any(|r| r.contains(&i)) {
            continue;
        }
        if x.get(i) != y.get(i) {
            return Some((i, format!("{} octet {i}", bootcheck_wire::bootp::field_name_at(i))));
        }
    }
    let has_opts = |p: &Bootp<&[u8]>| p.vend_kind() == bootcheck_wire::bootp::VendKind::Rfc1048;
    if has_opts(a) && has_opts(b) {
        let (oa, ob) = (options_without_82(a), options_without_82(b));
        if oa != ob {
            let at = bootcheck_wire::bootp::field::OPTIONS.start;
            let k = oa.iter().zip(&ob).position(|(p, q)| p != q).unwrap_or(oa.len().min(ob.len()));
            let what =
                |o: Option<&(u8, &[u8])>| o.map_or("nothing".to_string(), |(c, d)| format!("option {c} [{}]", hex(d)));
            return Some((at, format!("option #{}: {} became {}", k + 1, what(oa.get(k)), what(ob.get(k)))));
        }
    } else if a.vend() != b.vend() {
        return Some((bootcheck_wire::bootp::field::VEND.start, "the vend field".to_string()));
    }
    None
}

fn request_intact(v: &RelayView<'_>) -> Verdict {
    let Some((q, f, fb)) = fwd(v) else { return Verdict::NotApplicable };
    match first_difference(q, fb, &[field::HOPS..field::HOPS + 1, field::GIADDR]) {
        None => Verdict::Pass,
        Some((at, what)) => {
            fail(f, f.at_field(at), "forwarded request", "unchanged but for hops and giaddr", format!("{what} changed"))
        }
    }
}

fn no_rebroadcast(v: &RelayView<'_>) -> Verdict {
    let Some(f) = v.forwarded else { return Verdict::NotApplicable };
    let bcast_ip = f.dst_ip().is_some_and(|d| d.is_broadcast());
    let bcast_mac = f.frame.dst_mac().is_some_and(|m| m == [0xff; 6]);
    if bcast_ip || bcast_mac {
        fail(
            f,
            Some(0),
            "forwarded request destination",
            "a unicast to the configured server",
            format!("{} / {}", f.dst_ip().map_or("-".into(), ip), f.frame.dst_mac().map_or("-".into(), |m| hex(&m))),
        )
    } else {
        Verdict::Pass
    }
}

fn req_dst_port(v: &RelayView<'_>) -> Option<u16> {
    v.request.ports().map(|(_, d)| d)
}

fn discard_bootpc(v: &RelayView<'_>) -> Verdict {
    if req_dst_port(v) != Some(CLIENT_PORT) {
        return Verdict::NotApplicable;
    }
    match v.forwarded {
        None => Verdict::Pass,
        Some(f) => fail(f, None, "forwarded request", "nothing (the request went to port 68)", "relayed"),
    }
}

/// Whether the client's request passes RFC 1542 §2.1's consistency checks.
fn consistent(v: &RelayView<'_>) -> bool {
    v.request.payload.len() >= bootcheck_wire::bootp::MIN_LEN && v.request.payload.first() == Some(&1)
}

fn inconsistent_discarded(v: &RelayView<'_>) -> Verdict {
    if req_dst_port(v) != Some(SERVER_PORT) || consistent(v) {
        return Verdict::NotApplicable;
    }
    match v.forwarded {
        None => Verdict::Pass,
        Some(f) => fail(
            f,
            None,
            "forwarded request",
            "nothing (the request fails the §2.1 checks)",
            format!("relayed ({} octets, op {:?})", v.request.payload.len(), v.request.payload.first()),
        ),
    }
}

fn relays_valid_requests(v: &RelayView<'_>) -> Verdict {
    let Some(q) = v.request.bootp.as_ref() else { return Verdict::NotApplicable };
    let to_relay = v.request.dst_ip().is_some_and(|d| d.is_broadcast() || d == v.ctx.client_side_ip);
    let hops_ok = q.hops() <= v.ctx.max_hops.min(HOPS_LIMIT);
    let secs_ok = q.secs() >= v.ctx.min_secs;
    // A frame whose IPv4/UDP headers lie about their lengths (or fail their checksum) is
    // no datagram to relay (CVE-2015-8605's shape): dropping it is right.
    let framed_ok = v.request.frame.findings.is_empty();
    if req_dst_port(v) != Some(SERVER_PORT) || !consistent(v) || !to_relay || !hops_ok || !secs_ok || !framed_ok {
        return Verdict::NotApplicable;
    }
    match v.forwarded {
        Some(_) => Verdict::Pass,
        None => fail(
            v.request,
            None,
            "relaying",
            "the request relayed to the server",
            format!(
                "nothing (request from {}, {} octets, flags {:#06x})",
                v.request.src_ip().map_or("-".into(), ip),
                v.request.payload.len(),
                q.flags()
            ),
        ),
    }
}

fn not_straight_through(v: &RelayView<'_>) -> Verdict {
    let Some(f) = v.forwarded else { return Verdict::NotApplicable };
    let (Some(qsrc), Some(fsrc), Some(qdst)) = (v.request.src_ip(), f.src_ip(), v.request.dst_ip()) else {
        return Verdict::NotApplicable;
    };
    if !qdst.is_broadcast() && qdst != v.ctx.client_side_ip {
        // A transit unicast: routed as is, never relayed (hops and giaddr untouched).
        let relayed = match (v.request.bootp.as_ref(), f.bootp.as_ref()) {
            (Some(q), Some(fb)) => fb.hops() != q.hops() || fb.giaddr() != q.giaddr(),
            _ => false,
        };
        return if relayed {
            fail(
                f,
                f.at_field(field::HOPS),
                "forwarded request",
                format!("routed unchanged (it was unicast to {qdst})"),
                "relayed (hops/giaddr changed)",
            )
        } else {
            Verdict::Pass
        };
    }
    if fsrc == qsrc {
        fail(f, None, "forwarded ip.src", "the relay agent's own address", format!("{fsrc} (the client's)"))
    } else {
        Verdict::Pass
    }
}

fn checksum_ok(m: &Msg<'_>, what: &str) -> Verdict {
    match m.frame.udp().and_then(|u| u.checksum_ok.map(|ok| (ok, u.checksum))) {
        Some((false, ck)) => fail(
            m,
            m.bootp_at.checked_sub(2),
            format!("{what} udp.checksum"),
            "correct, or 0",
            format!("{ck:#06x} (wrong)"),
        ),
        _ => Verdict::Pass,
    }
}

fn forwarded_checksum(v: &RelayView<'_>) -> Verdict {
    v.forwarded.map_or(Verdict::NotApplicable, |f| checksum_ok(f, "forwarded"))
}

fn delivered_checksum(v: &RelayView<'_>) -> Verdict {
    v.delivered.map_or(Verdict::NotApplicable, |d| checksum_ok(d, "delivered"))
}

fn foreign_giaddr_discarded(v: &RelayView<'_>) -> Verdict {
    let Some(rb) = v.reply.and_then(|r| r.bootp.as_ref()) else { return Verdict::NotApplicable };
    if rb.giaddr() == v.ctx.client_side_ip {
        return Verdict::NotApplicable;
    }
    match v.delivered {
        None => Verdict::Pass,
        Some(d) => fail(
            d,
            None,
            "delivered reply",
            format!("nothing (giaddr {} is not the relay's)", rb.giaddr()),
            "delivered",
        ),
    }
}

fn same_destination(v: &crate::TraceView<'_>) -> Verdict {
    // Relayed requests seen on the wire (giaddr set, to port 67, not the harness's own).
    let mut first: Vec<(Vec<u8>, Ipv4Addr)> = Vec::new();
    let mut relayed = false;
    for t in v.frames.iter().filter(|t| !t.sent) {
        let (Some(ip), Some(u)) = (t.frame.ipv4(), t.frame.udp()) else { continue };
        if u.dst_port != SERVER_PORT || u.payload.first() != Some(&1) {
            continue;
        }
        let Ok(b) = Bootp::new_checked(u.payload) else { continue };
        if b.giaddr().is_unspecified() {
            continue;
        }
        relayed = true;
        let chaddr = b.chaddr_field().to_vec();
        match first.iter().find(|(c, _)| *c == chaddr) {
            None => first.push((chaddr, ip.dst)),
            Some((_, d)) if *d == ip.dst => {}
            Some((c, d)) => {
                return Verdict::Fail(Box::new(crate::Evidence {
                    packet: t.packet,
                    offset: Some(ip.offset + 16),
                    field: format!("relayed request destination for client {}", hex(c.get(..6).unwrap_or(c))),
                    expected: format!("{d} (where its earlier requests went)"),
                    seen: ip.dst.to_string(),
                }))
            }
        }
    }
    if relayed {
        Verdict::Pass
    } else {
        Verdict::NotApplicable
    }
}

/// Codes of the options in the options field, in order (RFC 3046 options never go in
/// sname/file), with their offsets.
fn option_codes(b: &Bootp<&[u8]>) -> Vec<(u8, usize)> {
    b.walk()
        .filter_map(|it| match it {
            Ok(Item::Option(o)) if o.area == bootcheck_wire::Area::Options => Some((o.option.code, o.offset)),
            _ => None,
        })
        .collect()
}

fn agent_option_last(v: &RelayView<'_>) -> Verdict {
    let Some((q, f, fb)) = fwd(v) else { return Verdict::NotApplicable };
    if q.find(82).is_some() {
        return Verdict::NotApplicable;
    }
    let codes = option_codes(fb);
    let Some(i) = codes.iter().position(|(c, _)| *c == 82) else { return Verdict::NotApplicable };
    match codes.get(i + 1) {
        None => Verdict::Pass,
        Some((c, at)) => fail(
            f,
            f.at_field(*at),
            "relayed request options",
            "option 82 last (before End)",
            format!("option {c} after option 82"),
        ),
    }
}

/// Whether a message carries an option 82 in its options field.
fn has_82(b: &Bootp<&[u8]>) -> bool {
    option_codes(b).iter().any(|(c, _)| *c == 82)
}

fn agent_option_removed(v: &RelayView<'_>) -> Verdict {
    let Some(d) = v.delivered else { return Verdict::NotApplicable };
    let (Some(q), Some(db)) = (v.request.bootp.as_ref(), d.bootp.as_ref()) else { return Verdict::NotApplicable };
    // Only an echo of an option the relay added is the relay's to remove: the client sent
    // none, the relay forwarded one, and the server's reply carried it back. Otherwise
    // "no option 82 delivered" would pass without anything having been removed.
    let added = v.forwarded.and_then(|f| f.bootp.as_ref()).is_some_and(has_82) && !has_82(q);
    let echoed = v.reply.and_then(|r| r.bootp.as_ref()).is_some_and(has_82);
    if !added || !echoed {
        return Verdict::NotApplicable;
    }
    match option_codes(db).into_iter().find(|(c, _)| *c == 82) {
        None => Verdict::Pass,
        Some((_, at)) => {
            fail(d, d.at_field(at), "delivered reply option 82", "absent (removed by the relay)", "present")
        }
    }
}

/// The option 82 instances of a message, every area, in RFC 3396 aggregate order:
/// (area, offset, data).
fn agent_options<'a>(b: &'a Bootp<&'a [u8]>) -> Vec<(bootcheck_wire::Area, usize, &'a [u8])> {
    b.walk()
        .filter_map(|it| match it {
            Ok(Item::Option(o)) if o.option.code == 82 => Some((o.area, o.offset, o.option.data)),
            _ => None,
        })
        .collect()
}

fn agent_option_echoed(p: &Pair<'_>) -> Verdict {
    let Some((q, r)) = p.bootp() else { return Verdict::NotApplicable };
    let echo = agent_options(r);
    // No option 82 in the reply: nothing echoed, which a server unaware of RFC 3046 does
    // (§2.2), and one that cannot fit it whole must do.
    let Some(&(_, first_at, _)) = echo.first() else { return Verdict::NotApplicable };
    if let Some(&(area, at, _)) = echo.iter().find(|(a, _, _)| *a != bootcheck_wire::Area::Options) {
        return fail(
            p.reply,
            p.reply.at_field(at),
            "reply option 82",
            "in the options field",
            format!("in {} (overloaded)", if area == bootcheck_wire::Area::File { "file" } else { "sname" }),
        );
    }
    // What a relay agent added sits in the request's options field (§2.1).
    let sent_82: Vec<_> =
        agent_options(q).into_iter().filter(|(a, _, _)| *a == bootcheck_wire::Area::Options).collect();
    let sent: Vec<u8> = sent_82.iter().flat_map(|(_, _, d)| d.iter().copied()).collect();
    let got: Vec<u8> = echo.iter().flat_map(|(_, _, d)| d.iter().copied()).collect();
    if sent_82.is_empty() {
        return fail(
            p.reply,
            p.reply.at_field(first_at),
            "reply option 82",
            "absent (the request carried none to echo)",
            format!("[{}]", hex(&got)),
        );
    }
    if got == sent {
        Verdict::Pass
    } else {
        fail(
            p.reply,
            p.reply.at_field(first_at),
            "reply option 82",
            format!("the request's, whole: [{}]", hex(&sent)),
            format!("[{}]", hex(&got)),
        )
    }
}

fn agent_option_echo_last(p: &Pair<'_>) -> Verdict {
    let Some((_, r)) = p.bootp() else { return Verdict::NotApplicable };
    // Every option in aggregate order; after the first 82, only 82 (an RFC 3396 split).
    let all: Vec<(u8, usize)> = r
        .walk()
        .filter_map(|it| match it {
            Ok(Item::Option(o)) => Some((o.option.code, o.offset)),
            _ => None,
        })
        .collect();
    let Some(i) = all.iter().position(|(c, _)| *c == 82) else { return Verdict::NotApplicable };
    match all.iter().skip(i).find(|(c, _)| *c != 82) {
        None => Verdict::Pass,
        Some((c, at)) => fail(
            p.reply,
            p.reply.at_field(*at),
            "reply options",
            "option 82 last (before End)",
            format!("option {c} after option 82"),
        ),
    }
}

fn reply_delivered(v: &RelayView<'_>) -> Verdict {
    let Some(r) = v.reply else { return Verdict::NotApplicable };
    let Some(rb) = r.bootp.as_ref() else { return Verdict::NotApplicable };
    if rb.giaddr() != v.ctx.client_side_ip {
        return Verdict::NotApplicable;
    }
    if v.delivered.is_some() {
        Verdict::Pass
    } else {
        fail(r, None, "delivery to the client", "the reply relayed onto the client's link", "nothing")
    }
}

fn reply_intact(v: &RelayView<'_>) -> Verdict {
    let (Some(r), Some(d)) = (v.reply, v.delivered) else { return Verdict::NotApplicable };
    let (Some(rb), Some(db)) = (r.bootp.as_ref(), d.bootp.as_ref()) else { return Verdict::NotApplicable };
    match first_difference(rb, db, &[]) {
        None => Verdict::Pass,
        Some((at, what)) => {
            fail(d, d.at_field(at), "delivered reply", "the server's reply unchanged", format!("{what} changed"))
        }
    }
}

fn reply_port(v: &RelayView<'_>) -> Verdict {
    let Some(d) = v.delivered else { return Verdict::NotApplicable };
    let Some((_, port)) = d.ports() else { return Verdict::NotApplicable };
    if port == CLIENT_PORT {
        Verdict::Pass
    } else {
        fail(d, None, "udp.dst_port", CLIENT_PORT, port)
    }
}

fn relay_broadcast_flag(v: &RelayView<'_>) -> Verdict {
    let Some(d) = v.delivered else { return Verdict::NotApplicable };
    let Some(db) = d.bootp.as_ref() else { return Verdict::NotApplicable };
    let (Some(dst), Some(mac)) = (d.dst_ip(), d.frame.dst_mac()) else { return Verdict::NotApplicable };
    let bcast = dst == Ipv4Addr::BROADCAST && mac == [0xff; 6];
    if db.flags() & FLAG_BROADCAST != 0 {
        if bcast {
            Verdict::Pass
        } else {
            fail(
                d,
                Some(0),
                "delivered reply destination",
                "255.255.255.255 at ff:ff:ff:ff:ff:ff",
                format!("{dst} at {}", hex(&mac)),
            )
        }
    } else if bcast || (dst == db.yiaddr() && (db.hlen() != 6 || mac.as_slice() == db.chaddr())) {
        // Unicast to the client, or the broadcast fallback the RFC allows.
        Verdict::Pass
    } else {
        fail(
            d,
            Some(0),
            "delivered reply destination",
            format!("{} at {} (yiaddr, chaddr)", db.yiaddr(), hex(db.chaddr())),
            format!("{dst} at {}", hex(&mac)),
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::testkit::{Case, Crafted, RelayCase, TraceCase};
    use crate::Verdict;
    use std::net::Ipv4Addr;

    /// §5.4 looks at giaddr before ciaddr: a relayed request with ciaddr set is
    /// answered through the relay, and the ciaddr rule does not apply.
    #[test]
    fn ciaddr_delivery_yields_to_giaddr() {
        Case::both(|q| q[12..16].copy_from_slice(&[192, 0, 2, 50]), |r| r[12..16].copy_from_slice(&[192, 0, 2, 50]))
            .with_endpoints(|e| e.dst_ip = Ipv4Addr::new(192, 0, 2, 50))
            .assert_passes("rfc1542/5.4/to-ciaddr");
        Case::both(
            |q| {
                q[12..16].copy_from_slice(&[192, 0, 2, 50]);
                q[24..28].copy_from_slice(&[198, 51, 100, 1]);
            },
            |r| {
                r[12..16].copy_from_slice(&[192, 0, 2, 50]);
                r[24..28].copy_from_slice(&[198, 51, 100, 1]);
            },
        )
        .with_endpoints(|e| {
            e.dst_ip = Ipv4Addr::new(198, 51, 100, 1);
            e.dst_port = 67;
        })
        .assert_not_applicable("rfc1542/5.4/to-ciaddr");
    }

    /// A DHCPNAK to a request with ciaddr set has ciaddr 0 and is broadcast (RFC 2131
    /// §4.1, Table 3): the ciaddr rules of §5.3 and §5.4 do not judge it.
    #[test]
    fn a_dhcpnak_is_not_judged_by_the_ciaddr_rules() {
        let nak = Case::both(
            |q| {
                q[12..16].copy_from_slice(&[203, 0, 113, 77]);
                q[240..244].copy_from_slice(&[53, 1, 3, 255]);
            },
            |r| r[240..244].copy_from_slice(&[53, 1, 6, 255]),
        )
        .with_endpoints(|e| e.dst_ip = Ipv4Addr::BROADCAST);
        nak.assert_not_applicable("rfc1542/5.3/ciaddr-preserved");
        nak.assert_not_applicable("rfc1542/5.4/to-ciaddr");
    }

    pub(crate) fn fails_on_a_crafted_trace() -> Vec<(&'static str, Crafted)> {
        vec![
            ("rfc1542/1.2/no-icmp-for-discards", Crafted::Trace(TraceCase::IcmpPortUnreachable)),
            ("rfc1542/4.1.1/same-destination", Crafted::Trace(TraceCase::RelayedToTwoServers)),
        ]
    }

    pub(crate) fn server_rule_fails_on_a_crafted_reply() -> Vec<(&'static str, Crafted)> {
        vec![
            (
                "rfc1542/5.3/ciaddr-preserved",
                Crafted::Reply(Case::reply(|r| r[12..16].copy_from_slice(&[192, 0, 2, 9]))),
            ),
            (
                "rfc1542/5.4/to-ciaddr",
                Crafted::Reply(
                    Case::request(|q| q[12..16].copy_from_slice(&[192, 0, 2, 50]))
                        .with_endpoints(|e| e.dst_ip = Ipv4Addr::BROADCAST),
                ),
            ),
            ("rfc1542/5.4/client-port", Crafted::Reply(Case::default().with_endpoints(|e| e.dst_port = 67))),
            (
                "rfc1542/5.4/to-relay",
                Crafted::Reply(Case::request(|q| q[24..28].copy_from_slice(&[198, 51, 100, 1])).with_endpoints(|e| {
                    e.dst_ip = Ipv4Addr::new(198, 51, 100, 255);
                    e.dst_port = 68;
                })),
            ),
            (
                "rfc1542/5.4/relay-port",
                Crafted::Reply(
                    Case::request(|q| q[24..28].copy_from_slice(&[198, 51, 100, 1]))
                        .with_endpoints(|e| e.dst_port = 68),
                ),
            ),
            (
                "rfc1542/5.4/preserve-broadcast-flag",
                Crafted::Reply(Case::both(
                    |q| {
                        q[24..28].copy_from_slice(&[198, 51, 100, 1]);
                        q[10] = 0x80;
                    },
                    |r| r[10] = 0,
                )),
            ),
            (
                "rfc1542/5.4/broadcast-flag",
                Crafted::Reply(
                    Case::request(|q| q[10] = 0x80).with_endpoints(|e| e.dst_ip = Ipv4Addr::new(192, 0, 2, 255)),
                ),
            ),
            (
                "rfc1542/5.4/broadcast-flag-link",
                Crafted::Reply(Case::request(|q| q[10] = 0x80).with_endpoints(|e| e.dst_mac = [2, 0, 0, 0, 0xbe, 1])),
            ),
            (
                "rfc1542/5.4/unicast-to-client",
                Crafted::Reply(Case::default().with_endpoints(|e| e.dst_ip = Ipv4Addr::new(192, 0, 2, 255))),
            ),
            (
                "rfc1542/5.4/unicast-to-client",
                Crafted::Reply(Case::default().with_endpoints(|e| e.dst_mac = [2, 0, 0, 0, 0xbc, 1])),
            ),
            // The relay's option 82 echoed with a changed sub-option value.
            (
                "rfc3046/2.2/agent-option-echoed",
                Crafted::Reply(Case::both(with_82, |r| {
                    r[252..258].copy_from_slice(&[82, 4, 1, 2, 0, 8]);
                    r[258] = 255;
                })),
            ),
            // Only part of it: the circuit-id, not the remote-id.
            (
                "rfc3046/2.2/agent-option-echoed",
                Crafted::Reply(Case::both(
                    |q| {
                        q[240..250].copy_from_slice(&[82, 8, 1, 2, 0, 7, 2, 2, 0, 9]);
                        q[250] = 255;
                    },
                    |r| {
                        r[252..258].copy_from_slice(&[82, 4, 1, 2, 0, 7]);
                        r[258] = 255;
                    },
                )),
            ),
            // An option 82 the request did not carry.
            ("rfc3046/2.2/agent-option-echoed", Crafted::Reply(Case::reply(echo_82))),
            // Echoed in sname, which option 52 gives to options.
            (
                "rfc3046/2.2/agent-option-echoed",
                Crafted::Reply(Case::both(with_82, |r| {
                    r[252..255].copy_from_slice(&[52, 1, 2]);
                    r[255] = 255;
                    r[44..108].fill(0);
                    r[44..51].copy_from_slice(&[82, 4, 1, 2, 0, 7, 255]);
                })),
            ),
            (
                "rfc3046/2.2/agent-option-echo-last",
                Crafted::Reply(Case::both(with_82, |r| {
                    r[252..261].copy_from_slice(&[82, 4, 1, 2, 0, 7, 12, 1, b'x']);
                    r[261] = 255;
                })),
            ),
        ]
    }

    /// Correct exchanges: the server's deliveries of §5.4 (direct, broadcast, to a
    /// relay, to ciaddr, the unicast fallback), correct relaying and correct drops by a
    /// relay agent (§4.1), and traces without ICMP and with one destination per client.
    pub(crate) fn passes_on_correct_exchanges() -> Vec<(&'static str, Crafted)> {
        vec![
            ("direct", Crafted::Reply(Case::default())),
            ("broadcast", Crafted::Reply(Case::request(|q| q[10] = 0x80))),
            ("relayed", Crafted::Reply(Case::request(|q| q[24..28].copy_from_slice(&[198, 51, 100, 1])))),
            (
                "relayed broadcast",
                Crafted::Reply(Case::request(|q| {
                    q[24..28].copy_from_slice(&[198, 51, 100, 1]);
                    q[10] = 0x80;
                })),
            ),
            ("ciaddr", Crafted::Reply(Case::request(|q| q[12..16].copy_from_slice(&[192, 0, 2, 50])))),
            (
                "unicast fallback",
                Crafted::Reply(Case::default().with_endpoints(|e| {
                    e.dst_ip = Ipv4Addr::BROADCAST;
                    e.dst_mac = [0xff; 6];
                })),
            ),
            ("option 82 echoed whole and last", Crafted::Reply(Case::both(with_82, echo_82))),
            ("relay: plain", Crafted::Relay(RelayCase::default())),
            ("relay: broadcast", Crafted::Relay(RelayCase::request(|q| q[10] = 0x80))),
            (
                "relay: second relay",
                Crafted::Relay(RelayCase::request(|q| {
                    q[24..28].copy_from_slice(&[198, 51, 100, 1]);
                    q[3] = 1;
                })),
            ),
            (
                "relay: agent option",
                Crafted::Relay(RelayCase::forwarded(|f| {
                    f[240..246].copy_from_slice(&[82, 4, 1, 2, 0, 7]);
                    f[246] = 255;
                })),
            ),
            ("relay: agent option echoed by the server, removed by the relay", Crafted::Relay(agent_option_echoed())),
            ("relay: hops over 16 dropped", Crafted::Relay(RelayCase::request(|q| q[3] = 17).not_forwarded())),
            ("relay: hops 4, at the default threshold, relayed", Crafted::Relay(RelayCase::request(|q| q[3] = 4))),
            ("relay: hops over the default threshold dropped", Crafted::Relay(over_default_threshold())),
            ("relay: hops over a configured threshold dropped", Crafted::Relay(over_configured_threshold())),
            ("relay: long request", Crafted::Relay(RelayCase::request(|q| q.resize(548, 0)))),
            ("relay: port 68 dropped", Crafted::Relay(RelayCase::default().request_to_port(68).not_forwarded())),
            ("relay: short request dropped", Crafted::Relay(RelayCase::request(|q| q.truncate(241)).not_forwarded())),
            (
                "relay: foreign reply dropped",
                Crafted::Relay(RelayCase::default().reply_giaddr([203, 0, 113, 1]).not_delivered()),
            ),
            ("trace: a request and its reply", Crafted::Trace(TraceCase::Plain)),
            ("trace: a client's requests relayed to one server", Crafted::Trace(TraceCase::RelayedToOneServer)),
        ]
    }

    /// RFC 3046 end to end: the relay adds option 82 last, the server echoes it
    /// (§2.2), and the relay removes it before delivering the reply (§2.1).
    fn agent_option_echoed() -> RelayCase {
        RelayCase::forwarded(|f| {
            f[240..246].copy_from_slice(&[82, 4, 1, 2, 0, 7]);
            f[246] = 255;
        })
        .then_replied(|r| {
            r[252..258].copy_from_slice(&[82, 4, 1, 2, 0, 7]);
            r[258] = 255;
        })
        .then_delivered(|d| {
            d[252..259].fill(0);
            d[252] = 255;
        })
    }

    /// A request that has come through four relays already (hops 5 here), over the
    /// default threshold of 4: the relay drops it (§4.1.1's SHOULD).
    fn over_default_threshold() -> RelayCase {
        RelayCase::request(|q| {
            q[3] = 5;
            q[24..28].copy_from_slice(&[203, 0, 113, 1]);
        })
        .not_forwarded()
    }

    /// A relay configured with a threshold of 2 drops a request at hops 3.
    fn over_configured_threshold() -> RelayCase {
        RelayCase::request(|q| {
            q[3] = 3;
            q[24..28].copy_from_slice(&[203, 0, 113, 1]);
        })
        .hops_threshold(2)
        .not_forwarded()
    }

    /// The threshold is judged above the configured value and up to 16 (beyond that,
    /// `rfc1542/4.1.1/hops-limit`); a request at the threshold is relayed.
    #[test]
    fn an_agent_option_added_last_and_removed_passes() {
        let c = Crafted::Relay(agent_option_echoed());
        assert_eq!(c.verdict("rfc3046/2.1/agent-option-last"), Verdict::Pass);
        assert_eq!(c.verdict("rfc3046/2.1/agent-option-removed"), Verdict::Pass);
        assert_eq!(c.verdict("rfc1542/4.1.2/reply-intact"), Verdict::Pass);
    }

    #[test]
    fn hops_over_the_threshold_are_dropped() {
        let id = "rfc1542/4.1.1/hops-threshold";
        assert_eq!(Crafted::Relay(over_default_threshold()).verdict(id), Verdict::Pass);
        assert_eq!(Crafted::Relay(over_configured_threshold()).verdict(id), Verdict::Pass);
        assert_eq!(Crafted::Relay(RelayCase::request(|q| q[3] = 4)).verdict(id), Verdict::NotApplicable);
        assert_eq!(
            Crafted::Relay(RelayCase::request(|q| q[3] = 17).not_forwarded()).verdict(id),
            Verdict::NotApplicable
        );
        assert!(Crafted::Relay(RelayCase::request(|q| q[3] = 3).hops_threshold(2)).verdict(id).is_fail());
    }

    #[test]
    fn correct_exchanges_pass() {
        for (what, c) in passes_on_correct_exchanges() {
            c.assert_passes_all(what);
        }
    }

    /// A request with a relay agent's option 82 (circuit-id 0x0007) in its options.
    #[allow(clippy::ptr_arg)] // the testkit's tweaks are `fn(&mut Vec<u8>)`
    fn with_82(q: &mut Vec<u8>) {
        q[240..246].copy_from_slice(&[82, 4, 1, 2, 0, 7]);
        q[246] = 255;
    }

    /// The crafted reply's options (they end at 252) with that option 82 echoed last.
    #[allow(clippy::ptr_arg)] // the testkit's tweaks are `fn(&mut Vec<u8>)`
    fn echo_82(r: &mut Vec<u8>) {
        r[252..258].copy_from_slice(&[82, 4, 1, 2, 0, 7]);
        r[258] = 255;
    }

    /// RFC 3046 §2.2: the echo, whole and last, passes; no echo at all is a server that
    /// does not support the option (allowed), so the rules do not apply.
    #[test]
    fn an_echoed_agent_option_is_judged_only_when_there_is_one() {
        let echoed = Case::both(with_82, echo_82);
        echoed.assert_passes("rfc3046/2.2/agent-option-echoed");
        echoed.assert_passes("rfc3046/2.2/agent-option-echo-last");
        Crafted::Reply(echoed.clone()).assert_passes_all("option 82 echoed");
        let unaware = Case::request(with_82);
        unaware.assert_not_applicable("rfc3046/2.2/agent-option-echoed");
        unaware.assert_not_applicable("rfc3046/2.2/agent-option-echo-last");
        Case::default().assert_not_applicable("rfc3046/2.2/agent-option-echoed");
        // An RFC 3396 split of a long echo is still one option 82, last.
        let long = Case::both(
            |q| {
                q[240..244].copy_from_slice(&[82, 2, 1, 0]);
                q[244..248].copy_from_slice(&[82, 2, 2, 0]);
                q[248] = 255;
            },
            |r| {
                r[252..256].copy_from_slice(&[82, 2, 1, 0]);
                r[256..260].copy_from_slice(&[82, 2, 2, 0]);
                r[260] = 255;
            },
        );
        long.assert_passes("rfc3046/2.2/agent-option-echoed");
        long.assert_passes("rfc3046/2.2/agent-option-echo-last");
    }

    pub(crate) fn relay_rule_fails_on_a_crafted_exchange() -> Vec<(&'static str, Crafted)> {
        vec![
            ("rfc1542/4.1/discard-bootpc", Crafted::Relay(RelayCase::default().request_to_port(68))),
            (
                "rfc3046/2.1/agent-option-last",
                // The client sent option 12; the relay put its 82 before it.
                Crafted::Relay(
                    RelayCase::request(|q| {
                        q[240..243].copy_from_slice(&[12, 1, b'x']);
                        q[243] = 255;
                    })
                    .then_forwarded(|f| {
                        f[240..249].copy_from_slice(&[82, 4, 1, 2, 0, 7, 12, 1, b'x']);
                        f[249] = 255;
                    }),
                ),
            ),
            (
                "rfc3046/2.1/agent-option-removed",
                // The relay added option 82, the server echoed it (its options end at
                // 252), and the relay delivered the echo to the client.
                Crafted::Relay(RelayCase::forwarded(with_82).then_replied(echo_82)),
            ),
            ("rfc1542/4.1/inconsistent-discarded", Crafted::Relay(RelayCase::request(|q| q.truncate(241)))),
            ("rfc1542/4.1/relays-valid-requests", Crafted::Relay(RelayCase::request(|q| q[10] = 0x01).not_forwarded())),
            ("rfc1542/4/not-straight-through", Crafted::Relay(RelayCase::default().forwarded_from_client())),
            ("rfc1542/4.1.1/forwarded-checksum", Crafted::Relay(RelayCase::default().corrupt_forwarded_checksum())),
            (
                "rfc1542/4.1.2/foreign-giaddr-discarded",
                Crafted::Relay(RelayCase::default().reply_giaddr([203, 0, 113, 1])),
            ),
            ("rfc1542/4.1.2/delivered-checksum", Crafted::Relay(RelayCase::default().corrupt_delivered_checksum())),
            ("rfc1542/4.1.1/hops-limit", Crafted::Relay(RelayCase::request(|q| q[3] = 17))),
            ("rfc1542/4.1.1/hops-threshold", Crafted::Relay(RelayCase::request(|q| q[3] = 5))),
            (
                "rfc1542/4.1.1/giaddr-filled",
                Crafted::Relay(RelayCase::forwarded(|f| f[24..28].copy_from_slice(&[127, 0, 0, 1])).not_delivered()),
            ),
            (
                "rfc1542/4.1.1/giaddr-kept",
                Crafted::Relay(
                    RelayCase::request(|q| q[24..28].copy_from_slice(&[203, 0, 113, 1]))
                        .then_forwarded(|f| f[24..28].copy_from_slice(&[198, 51, 100, 1])),
                ),
            ),
            (
                "rfc1542/4.1.1/giaddr-kept",
                Crafted::Relay(
                    RelayCase::request(|q| q[24..28].copy_from_slice(&[198, 51, 100, 1]))
                        .then_forwarded(|f| f[24..28].copy_from_slice(&[255, 255, 255, 255]))
                        .not_delivered(),
                ),
            ),
            ("rfc1542/4.1.1/hops-incremented", Crafted::Relay(RelayCase::forwarded(|f| f[3] = 0))),
            ("rfc1542/4.1.1/request-intact", Crafted::Relay(RelayCase::forwarded(|f| f[8] = 9))),
            (
                "rfc1542/4.1.1/request-intact",
                Crafted::Relay(RelayCase::forwarded(|f| {
                    f[240..243].copy_from_slice(&[12, 1, b'x']);
                    f[243] = 255;
                })),
            ),
            ("rfc1542/4.1.1/no-rebroadcast", Crafted::Relay(RelayCase::default().forwarded_broadcast())),
            ("rfc1542/4.1.2/reply-delivered", Crafted::Relay(RelayCase::default().not_delivered())),
            ("rfc1542/4.1.2/reply-intact", Crafted::Relay(RelayCase::delivered(|d| d[3] = 0))),
            ("rfc1542/4.1.2/reply-port", Crafted::Relay(RelayCase::default().delivered_to_port(67))),
            ("rfc1542/4.1.2/broadcast-flag", Crafted::Relay(RelayCase::request(|q| q[10] = 0x80).delivered_unicast())),
            (
                "rfc1542/4.1.2/broadcast-flag",
                Crafted::Relay(RelayCase::default().delivered_to_mac([2, 0, 0, 0, 0xbc, 9])),
            ),
        ]
    }

    /// RFC 3046 §2.1: the relay removes only an echo of what it added. Without its own
    /// option 82 forwarded and echoed back, "none delivered" proves nothing: not applicable.
    #[test]
    fn agent_option_removed_needs_an_added_and_echoed_option() {
        let id = "rfc3046/2.1/agent-option-removed";
        let na = crate::Verdict::NotApplicable;
        // No relay added one (the client's own 82 delivered back is not the relay's).
        assert_eq!(Crafted::Relay(RelayCase::default()).verdict(id), na);
        assert_eq!(Crafted::Relay(RelayCase::request(with_82).then_replied(echo_82)).verdict(id), na);
        // Added, but the server did not echo it.
        assert_eq!(Crafted::Relay(RelayCase::forwarded(with_82)).verdict(id), na);
        // Added, echoed, removed: pass; added, echoed, delivered: fail.
        let removed = RelayCase::delivered(|d| d[252..259].copy_from_slice(&[255, 0, 0, 0, 0, 0, 0]))
            .then_forwarded(with_82)
            .then_replied(echo_82);
        assert_eq!(Crafted::Relay(removed).verdict(id), crate::Verdict::Pass);
        assert!(Crafted::Relay(RelayCase::forwarded(with_82).then_replied(echo_82)).verdict(id).is_fail());
    }
}
