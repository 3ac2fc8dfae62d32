//! RFC 951 (BOOTP): the BOOTREPLY a server builds (§3 packet format, §7.3 server
//! receives BOOTREQUEST, §7.5 delivery). RFC 951 predates RFC 2119: "will", "is set",
//! "place … in" describing the server's reply are read as MUST (see clauses/README.md).

use bootcheck_wire::bootp::{field, Op, MIN_LEN};

use crate::{fail, hex, ip, Check, Level, Pair, Rule, Verdict};

pub static RULES: &[Rule] = &[
    Rule {
        id: "rfc951/3/op-bootreply",
        level: Level::Must,
        clauses: &["rfc951/7.3/op-bootreply"],
        summary: "A server's reply has op = BOOTREPLY (2)",
        check: Check::Reply(op_bootreply),
    },
    Rule {
        id: "rfc951/3/xid-echoed",
        level: Level::Must,
        clauses: &["rfc951/3/xid-matches-request"],
        summary: "The reply carries the request's transaction id (xid)",
        check: Check::Reply(xid_echoed),
    },
    Rule {
        id: "rfc951/3/htype-hlen-echoed",
        level: Level::Must,
        clauses: &["rfc951/2/same-layout-both-directions"],
        summary: "The reply carries the request's htype and hlen",
        check: Check::Reply(htype_hlen_echoed),
    },
    Rule {
        id: "rfc951/3/chaddr-echoed",
        level: Level::Must,
        clauses: &["rfc951/2/same-layout-both-directions", "rfc1542/2.3/chaddr-preserved"],
        summary: "The reply carries the request's client hardware address (all 16 octets of chaddr)",
        check: Check::Reply(chaddr_echoed),
    },
    Rule {
        id: "rfc951/3/reply-size",
        level: Level::Must,
        clauses: &["rfc951/3/vend-64-octets"],
        summary: "A BOOTREPLY to a BOOTP client is at least 300 octets: 236 of header and a 64-octet vend field",
        check: Check::Reply(reply_size),
    },
    Rule {
        id: "rfc951/3/sname-terminated",
        level: Level::Must,
        clauses: &["rfc951/3/sname-null-terminated"],
        summary: "The reply's sname is a null-terminated string (a NUL within its 64 octets)",
        check: Check::Reply(sname_terminated),
    },
    Rule {
        id: "rfc951/3/file-terminated",
        level: Level::Must,
        clauses: &["rfc951/3/file-null-terminated-path"],
        summary: "The reply's file is a null-terminated string (a NUL within its 128 octets)",
        check: Check::Reply(file_terminated),
    },
    Rule {
        id: "rfc951/7.3/sname-other-server",
        level: Level::Must,
        clauses: &["rfc951/7.3/sname-other-server"],
        summary: "A request naming a server in sname is answered only by that server (the reply's sname, when set, is the requested one)",
        check: Check::Reply(sname_other_server),
    },
    Rule {
        id: "rfc951/7.3/yiaddr-filled",
        level: Level::Must,
        clauses: &["rfc951/7.3/yiaddr-from-database"],
        summary: "A reply to a request with ciaddr 0.0.0.0 gives the client an address in yiaddr",
        check: Check::Reply(yiaddr_filled),
    },
    Rule {
        id: "rfc951/7.3/siaddr-filled",
        level: Level::Must,
        clauses: &["rfc951/7.3/siaddr-own-address"],
        summary: "The server places an IP address (its own, or the boot server's) in siaddr",
        check: Check::Reply(siaddr_filled),
    },
    Rule {
        id: "rfc951/7.3/source-port",
        level: Level::Must,
        clauses: &["rfc951/3/reply-to-client-port"],
        summary: "The reply comes from the BOOTP server port (67)",
        check: Check::Reply(source_port),
    },
    Rule {
        id: "rfc951/7.3/udp-checksum",
        level: Level::Should,
        clauses: &["rfc951/3/udp-checksum-optional"],
        summary: "The reply's UDP checksum is correct (or 0: not computed)",
        check: Check::Reply(udp_checksum),
    },
    Rule {
        id: "rfc951/3/udp-length",
        level: Level::Must,
        clauses: &["rfc951/3/udp-length"],
        summary: "The reply's IPv4 total length and UDP length agree with the datagram it carries",
        check: Check::Reply(udp_length),
    },
    Rule {
        id: "rfc951/3/never-fragmented",
        level: Level::MustNot,
        clauses: &["rfc951/3/never-fragmented"],
        summary: "No BOOTP message from the target is IP-fragmented",
        check: Check::Trace(never_fragmented),
    },
    Rule {
        id: "rfc951/7.3/forwarded-giaddr",
        level: Level::Must,
        clauses: &["rfc951/7.3/sname-forward-giaddr"],
        summary: "A BOOTREQUEST the target forwards (for another server) carries a non-zero giaddr",
        check: Check::Trace(forwarded_giaddr),
    },
    Rule {
        id: "rfc951/7.3/giaddr-echoed",
        level: Level::Must,
        clauses: &["rfc1542/4.1.2/server-replies-to-giaddr"],
        summary: "The reply keeps the request's giaddr (the relay delivering it depends on it)",
        check: Check::Reply(giaddr_echoed),
    },
];

fn op_bootreply(p: &Pair<'_>) -> Verdict {
    let Some(&op) = p.reply.payload.first() else { return Verdict::NotApplicable };
    if op == Op::BOOTREPLY {
        Verdict::Pass
    } else {
        fail(p.reply, p.reply.at_field(field::OP), "reply.op", "2 (BOOTREPLY)", op)
    }
}

fn xid_echoed(p: &Pair<'_>) -> Verdict {
    let Some((q, r)) = p.bootp() else { return Verdict::NotApplicable };
    if q.xid() == r.xid() {
        Verdict::Pass
    } else {
        fail(
            p.reply,
            p.reply.at_field(field::XID.start),
            "reply.xid",
            format!("{:#010x} (the request's)", q.xid()),
            format!("{:#010x}", r.xid()),
        )
    }
}

fn htype_hlen_echoed(p: &Pair<'_>) -> Verdict {
    let Some((q, r)) = p.bootp() else { return Verdict::NotApplicable };
    if q.htype() != r.htype() {
        return fail(p.reply, p.reply.at_field(field::HTYPE), "reply.htype", q.htype(), r.htype());
    }
    if q.hlen() != r.hlen() {
        return fail(p.reply, p.reply.at_field(field::HLEN), "reply.hlen", q.hlen(), r.hlen());
    }
    Verdict::Pass
}

fn chaddr_echoed(p: &Pair<'_>) -> Verdict {
    let Some((q, r)) = p.bootp() else { return Verdict::NotApplicable };
    let (a, b) = (q.chaddr_field(), r.chaddr_field());
    match a.iter().zip(b).position(|(x, y)| x != y) {
        None => Verdict::Pass,
        Some(i) => fail(p.reply, p.reply.at_field(field::CHADDR.start + i), "reply.chaddr", hex(a), hex(b)),
    }
}

fn reply_size(p: &Pair<'_>) -> Verdict {
    // RFC 1534/2131 let a DHCP server send shorter DHCP messages to DHCP clients; the
    // 300-octet minimum is the BOOTP one.
    if !p.request.is_pure_bootp() {
        return Verdict::NotApplicable;
    }
    let n = p.reply.payload.len();
    if n >= MIN_LEN {
        Verdict::Pass
    } else {
        fail(p.reply, Some(p.reply.bootp_at + n), "reply size (UDP payload)", format!("≥ {MIN_LEN} octets"), n)
    }
}

fn terminated(p: &Pair<'_>, name: &str, range: std::ops::Range<usize>) -> Verdict {
    let Some(r) = p.reply.bootp.as_ref() else { return Verdict::NotApplicable };
    // An overloaded field holds options, not a string (RFC 2132 §9.3).
    if let Some(o) = r.overload() {
        if (name == "sname" && o.sname()) || (name == "file" && o.file()) {
            return Verdict::NotApplicable;
        }
    }
    let f = r.as_bytes().get(range.clone()).unwrap_or(&[]);
    if f.contains(&0) {
        Verdict::Pass
    } else {
        fail(
            p.reply,
            p.reply.at_field(range.end - 1),
            format!("reply.{name}"),
            "a NUL terminator within the field",
            format!("{} octets without NUL", f.len()),
        )
    }
}

fn sname_terminated(p: &Pair<'_>) -> Verdict {
    terminated(p, "sname", field::SNAME)
}

fn file_terminated(p: &Pair<'_>) -> Verdict {
    terminated(p, "file", field::FILE)
}

/// The text of a null-terminated field (up to the first NUL).
fn cstr(b: &[u8]) -> &[u8] {
    b.iter().position(|&x| x == 0).map_or(b, |i| &b[..i])
}

fn sname_other_server(p: &Pair<'_>) -> Verdict {
    let Some((q, r)) = p.bootp() else { return Verdict::NotApplicable };
    let asked = cstr(q.sname_field());
    if asked.is_empty() || q.overload().is_some_and(|o| o.sname()) {
        return Verdict::NotApplicable;
    }
    let answered = cstr(r.sname_field());
    if answered.is_empty() || r.overload().is_some_and(|o| o.sname()) {
        // The server did not say who it is: nothing to compare.
        return Verdict::NotApplicable;
    }
    // A server may know itself by a nickname or a fully qualified name.
    let short = |s: &[u8]| s.split(|&c| c == b'.').next().unwrap_or(s).to_ascii_lowercase();
    if short(asked) == short(answered) {
        Verdict::Pass
    } else {
        fail(
            p.reply,
            p.reply.at_field(field::SNAME.start),
            "reply.sname",
            format!("no reply, or a reply from \"{}\" (the server the request names)", String::from_utf8_lossy(asked)),
            format!("a reply from \"{}\"", String::from_utf8_lossy(answered)),
        )
    }
}

fn yiaddr_filled(p: &Pair<'_>) -> Verdict {
    let Some((q, r)) = p.bootp() else { return Verdict::NotApplicable };
    if !q.ciaddr().is_unspecified() {
        return Verdict::NotApplicable;
    }
    // DHCP (RFC 2131 §4.3.1): only an OFFER or ACK to a DISCOVER or REQUEST carries an
    // address; a NAK, or the ACK to an INFORM, has yiaddr 0.
    use bootcheck_wire::options::MessageType as M;
    if let Some(t) = q.message_type() {
        if !matches!(t, M::Discover | M::Request) || r.message_type() == Some(M::Nak) {
            return Verdict::NotApplicable;
        }
    }
    if r.yiaddr().is_unspecified() {
        fail(p.reply, p.reply.at_field(field::YIADDR.start), "reply.yiaddr", "the client's address", "0.0.0.0")
    } else {
        Verdict::Pass
    }
}

fn siaddr_filled(p: &Pair<'_>) -> Verdict {
    let Some(r) = p.reply.bootp.as_ref() else { return Verdict::NotApplicable };
    // A DHCP client's reply names a next server only if there is one (RFC 2131
    // §4.3.1: siaddr is "the address of the next server to use in bootstrap").
    if !p.request.is_pure_bootp() {
        return Verdict::NotApplicable;
    }
    if r.siaddr().is_unspecified() {
        fail(p.reply, p.reply.at_field(field::SIADDR.start), "reply.siaddr", "a server address", "0.0.0.0")
    } else {
        Verdict::Pass
    }
}

fn source_port(p: &Pair<'_>) -> Verdict {
    let Some((src, _)) = p.reply.ports() else { return Verdict::NotApplicable };
    if src == bootcheck_wire::bootp::SERVER_PORT {
        Verdict::Pass
    } else {
        // Offsets within the UDP header are not tracked; point at the payload start.
        fail(p.reply, None, "udp.src_port", 67, src)
    }
}

fn udp_checksum(p: &Pair<'_>) -> Verdict {
    if !p.ctx.checksums_meaningful {
        return Verdict::NotApplicable;
    }
    let Some(u) = p.reply.frame.udp() else { return Verdict::NotApplicable };
    match u.checksum_ok {
        Some(false) => fail(
            p.reply,
            p.reply.bootp_at.checked_sub(2),
            "udp.checksum",
            "correct, or 0",
            format!("{:#06x} (wrong)", u.checksum),
        ),
        _ => Verdict::Pass,
    }
}

fn udp_length(p: &Pair<'_>) -> Verdict {
    match p.reply.frame.findings.iter().find(|f| matches!(f.kind, bootcheck_wire::ErrorKind::LengthMismatch { .. })) {
        None => Verdict::Pass,
        Some(f) => fail(p.reply, Some(f.offset), "IPv4/UDP length", "lengths that match the datagram", &f.kind),
    }
}

fn never_fragmented(v: &crate::TraceView<'_>) -> Verdict {
    let mut replies = false;
    for t in v.frames.iter().filter(|t| !t.sent) {
        let Some(ip) = t.frame.ipv4() else { continue };
        if let bootcheck_wire::frame::Transport::Fragment { payload, offset } = ip.transport {
            // Only the first fragment carries the UDP header.
            let sport = payload.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]));
            if ip.fragment_offset == 0 && sport == Some(bootcheck_wire::bootp::SERVER_PORT) {
                return Verdict::Fail(Box::new(crate::Evidence {
                    packet: t.packet,
                    offset: Some(offset),
                    field: "IPv4 fragment from port 67".into(),
                    expected: "a whole datagram".into(),
                    seen: format!("a fragment of {} octets, more fragments {}", payload.len(), ip.more_fragments),
                }));
            }
        }
        replies |= t.frame.udp().is_some_and(|u| u.src_port == bootcheck_wire::bootp::SERVER_PORT);
    }
    if replies {
        Verdict::Pass
    } else {
        Verdict::NotApplicable
    }
}

fn forwarded_giaddr(v: &crate::TraceView<'_>) -> Verdict {
    let mut seen = false;
    for t in v.frames.iter().filter(|t| !t.sent) {
        let Some(u) = t.frame.udp() else { continue };
        if u.dst_port != bootcheck_wire::bootp::SERVER_PORT || u.payload.first() != Some(&Op::BOOTREQUEST) {
            continue;
        }
        let Ok(b) = bootcheck_wire::bootp::Packet::new_checked(u.payload) else { continue };
        seen = true;
        if b.giaddr().is_unspecified() {
            return Verdict::Fail(Box::new(crate::Evidence {
                packet: t.packet,
                offset: Some(u.payload_offset + field::GIADDR.start),
                field: "forwarded BOOTREQUEST giaddr".into(),
                expected: "the forwarder's (or a gateway's) address".into(),
                seen: "0.0.0.0".into(),
            }));
        }
    }
    if seen {
        Verdict::Pass
    } else {
        Verdict::NotApplicable
    }
}

fn giaddr_echoed(p: &Pair<'_>) -> Verdict {
    let Some((q, r)) = p.bootp() else { return Verdict::NotApplicable };
    if q.giaddr() == r.giaddr() {
        Verdict::Pass
    } else {
        fail(p.reply, p.reply.at_field(field::GIADDR.start), "reply.giaddr", ip(q.giaddr()), ip(r.giaddr()))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::testkit::{Case, Crafted, TraceCase};

    pub(crate) fn fails_on_a_crafted_trace() -> Vec<(&'static str, Crafted)> {
        vec![
            ("rfc951/3/never-fragmented", Crafted::Trace(TraceCase::FragmentedReply)),
            ("rfc951/7.3/forwarded-giaddr", Crafted::Trace(TraceCase::ForwardedWithoutGiaddr)),
        ]
    }

    /// A request naming this server by its nickname, answered under its full name.
    fn named_server() -> Case {
        Case::both(|q| q[44..51].copy_from_slice(b"BOOTSRV"), |r| r[44..63].copy_from_slice(b"bootsrv.example.net"))
    }

    /// Correct exchanges: a plain BOOTP reply (checksums judged or not), one naming
    /// its server, and the traces of a server answering or forwarding with giaddr.
    pub(crate) fn passes_on_correct_exchanges() -> Vec<(&'static str, Crafted)> {
        vec![
            ("a BOOTP reply", Crafted::Reply(Case::default())),
            ("a BOOTP reply, checksums judged", Crafted::Reply(Case::default().with_checksums())),
            ("a reply from the server the request names", Crafted::Reply(named_server())),
            ("a trace of a request and its reply", Crafted::Trace(TraceCase::Plain)),
            ("a request forwarded with giaddr", Crafted::Trace(TraceCase::ForwardedWithGiaddr)),
        ]
    }

    #[test]
    fn correct_exchanges_pass() {
        for (what, c) in passes_on_correct_exchanges() {
            c.assert_passes_all(what);
        }
    }

    pub(crate) fn fails_on_a_crafted_reply() -> Vec<(&'static str, Crafted)> {
        vec![
            ("rfc951/3/udp-length", Crafted::Reply(Case::default().corrupt_udp_length())),
            ("rfc951/7.3/source-port", Crafted::Reply(Case::default().with_reply_src_port(6767))),
            ("rfc951/7.3/udp-checksum", Crafted::Reply(Case::default().with_checksums().corrupt_udp_checksum())),
            ("rfc951/3/op-bootreply", Crafted::Reply(Case::reply(|r| r[0] = 1))),
            ("rfc951/3/xid-echoed", Crafted::Reply(Case::reply(|r| r[4] ^= 0xff))),
            ("rfc951/3/htype-hlen-echoed", Crafted::Reply(Case::reply(|r| r[1] = 6))),
            ("rfc951/3/htype-hlen-echoed", Crafted::Reply(Case::reply(|r| r[2] = 16))),
            ("rfc951/3/chaddr-echoed", Crafted::Reply(Case::reply(|r| r[28 + 10] = 1))),
            ("rfc951/3/reply-size", Crafted::Reply(Case::reply(|r| r.truncate(280)))),
            ("rfc951/3/sname-terminated", Crafted::Reply(Case::reply(|r| r[44..108].fill(b'a')))),
            ("rfc951/3/file-terminated", Crafted::Reply(Case::reply(|r| r[108..236].fill(b'f')))),
            (
                "rfc951/7.3/sname-other-server",
                Crafted::Reply(Case::both(
                    |q| q[44..49].copy_from_slice(b"other"),
                    |r| r[44..51].copy_from_slice(b"bootsrv"),
                )),
            ),
            ("rfc951/7.3/yiaddr-filled", Crafted::Reply(Case::reply(|r| r[16..20].fill(0)))),
            ("rfc951/7.3/siaddr-filled", Crafted::Reply(Case::reply(|r| r[20..24].fill(0)))),
            (
                "rfc951/7.3/giaddr-echoed",
                Crafted::Reply(
                    Case::both(|q| q[24..28].copy_from_slice(&[198, 51, 100, 1]), |r| r[24..28].fill(0))
                        .with_endpoints(|e| {
                            e.dst_ip = std::net::Ipv4Addr::new(198, 51, 100, 1);
                            e.dst_port = 67;
                        }),
                ),
            ),
        ]
    }

    /// DHCP (RFC 2131 §4.3.1) relaxes siaddr and yiaddr: no next server, a NAK, the
    /// ACK to an INFORM; a DHCPOFFER still needs its yiaddr.
    #[test]
    fn dhcp_replies_without_siaddr_or_yiaddr_where_dhcp_allows_it() {
        // DISCOVER → OFFER with siaddr 0: siaddr not judged, yiaddr still is.
        let discover = Case::both(
            |q| q[240..244].copy_from_slice(&[53, 1, 1, 255]),
            |r| {
                r[20..24].fill(0);
                r[252..256].copy_from_slice(&[53, 1, 2, 255]);
            },
        );
        discover.assert_not_applicable("rfc951/7.3/siaddr-filled");
        discover.assert_passes("rfc951/7.3/yiaddr-filled");
        assert!(Case::both(
            |q| q[240..244].copy_from_slice(&[53, 1, 1, 255]),
            |r| {
                r[16..20].fill(0);
                r[252..256].copy_from_slice(&[53, 1, 2, 255]);
            }
        )
        .verdict("rfc951/7.3/yiaddr-filled")
        .is_fail());
        // INFORM → ACK, and REQUEST → NAK: yiaddr 0 is right.
        Case::both(
            |q| q[240..244].copy_from_slice(&[53, 1, 8, 255]),
            |r| {
                r[16..20].fill(0);
                r[252..256].copy_from_slice(&[53, 1, 5, 255]);
            },
        )
        .assert_not_applicable("rfc951/7.3/yiaddr-filled");
        Case::both(
            |q| q[240..244].copy_from_slice(&[53, 1, 3, 255]),
            |r| {
                r[16..20].fill(0);
                r[252..256].copy_from_slice(&[53, 1, 6, 255]);
            },
        )
        .assert_not_applicable("rfc951/7.3/yiaddr-filled");
    }

    #[test]
    fn checksums_are_judged_only_where_they_mean_something() {
        Case::default().corrupt_udp_checksum().assert_not_applicable("rfc951/7.3/udp-checksum");
        Case::default().with_checksums().assert_passes("rfc951/7.3/udp-checksum");
    }

    #[test]
    fn sname_other_server_passes_for_a_nickname_and_does_not_apply_without_sname() {
        named_server().assert_passes("rfc951/7.3/sname-other-server");
        Case::default().assert_not_applicable("rfc951/7.3/sname-other-server");
    }
}
