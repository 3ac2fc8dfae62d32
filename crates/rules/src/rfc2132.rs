//! RFC 2132 (DHCP Options and BOOTP Vendor Extensions) as it applies to the options a
//! BOOTP server sends: the magic cookie and option format (§2), Pad and End (§3.1,
//! §3.2), the length each option's type demands (§3–§8), the DHCP-only options of §9
//! kept out of BOOTP replies, and option overload (§9.3).

use bootcheck_wire::bootp::{field, VendKind, MAGIC_COOKIE};
use bootcheck_wire::ErrorKind;

use crate::{fail, hex, Check, Level, Pair, Rule, Verdict};

/// Options of RFC 2132 §9 that only DHCP defines a use for (the message type, 53, is
/// RFC 1534's own MUST NOT, see `rfc1534`).
pub const DHCP_ONLY: &[u8] = &[50, 51, 54, 55, 57, 58, 59, 61];

/// RFC 2132 clauses on option lengths and values that the typed decode of
/// `bootcheck-wire` enforces: (clause, option code, a value the clause forbids). The
/// `rfc2132/option-lengths` rule enforces each; a test feeds every forbidden value.
pub const OPTION_VALUE_CLAUSES: &[(&str, u8, &[u8])] = &[
    ("rfc2132/3.3/subnet-mask-length", 1, &[1, 2, 3]),
    ("rfc2132/3.4/time-offset-length", 2, &[1, 2, 3]),
    ("rfc2132/3.5/router-length", 3, &[1, 2, 3]),
    ("rfc2132/3.6/time-server-length", 4, &[1, 2, 3]),
    ("rfc2132/3.7/name-server-length", 5, &[1, 2, 3]),
    ("rfc2132/3.8/domain-name-server-length", 6, &[1, 2, 3]),
    ("rfc2132/3.9/log-server-length", 7, &[1, 2, 3]),
    ("rfc2132/3.10/cookie-server-length", 8, &[1, 2, 3]),
    ("rfc2132/3.11/lpr-server-length", 9, &[1, 2, 3]),
    ("rfc2132/3.12/impress-server-length", 10, &[1, 2, 3]),
    ("rfc2132/3.13/resource-location-server-length", 11, &[1, 2, 3]),
    ("rfc2132/3.14/host-name-length", 12, &[]),
    ("rfc2132/3.15/boot-file-size-length", 13, &[1, 2, 3]),
    ("rfc2132/3.16/merit-dump-file-length", 14, &[]),
    ("rfc2132/3.17/domain-name-length", 15, &[]),
    ("rfc2132/3.18/swap-server-length", 16, &[1, 2, 3]),
    ("rfc2132/3.19/root-path-length", 17, &[]),
    ("rfc2132/3.20/extensions-path-length", 18, &[]),
    ("rfc2132/4.1/ip-forwarding-length", 19, &[1, 0]),
    ("rfc2132/4.2/non-local-source-routing-length", 20, &[1, 0]),
    ("rfc2132/4.3/policy-filter-length", 21, &[1, 2, 3]),
    ("rfc2132/4.4/max-datagram-reassembly-length", 22, &[1, 2, 3]),
    ("rfc2132/4.4/max-datagram-reassembly-min-576", 22, &[2, 0]),
    ("rfc2132/4.5/default-ip-ttl-length", 23, &[1, 0]),
    ("rfc2132/4.5/default-ip-ttl-range", 23, &[0]),
    ("rfc2132/4.6/path-mtu-aging-timeout-length", 24, &[1, 2, 3]),
    ("rfc2132/4.7/path-mtu-plateau-table-length", 25, &[1, 2, 3]),
    ("rfc2132/4.7/path-mtu-plateau-table-values", 25, &[0, 10]),
    ("rfc2132/5.1/interface-mtu-length", 26, &[1, 2, 3]),
    ("rfc2132/5.1/interface-mtu-min-68", 26, &[0, 67]),
    ("rfc2132/5.2/all-subnets-local-length", 27, &[1, 0]),
    ("rfc2132/5.3/broadcast-address-length", 28, &[1, 2, 3]),
    ("rfc2132/5.4/perform-mask-discovery-length", 29, &[1, 0]),
    ("rfc2132/5.5/mask-supplier-length", 30, &[1, 0]),
    ("rfc2132/5.6/perform-router-discovery-length", 31, &[1, 0]),
    ("rfc2132/5.7/router-solicitation-address-length", 32, &[1, 2, 3]),
    ("rfc2132/5.8/static-route-no-default", 33, &[0, 0, 0, 0, 192, 0, 2, 1]),
    ("rfc2132/5.8/static-route-length", 33, &[1, 2, 3]),
    ("rfc2132/6.1/trailer-encapsulation-length", 34, &[1, 0]),
    ("rfc2132/6.2/arp-cache-timeout-length", 35, &[1, 2, 3]),
    ("rfc2132/6.3/ethernet-encapsulation-length", 36, &[1, 0]),
    ("rfc2132/7.1/tcp-default-ttl-length", 37, &[1, 0]),
    ("rfc2132/7.1/tcp-default-ttl-min-1", 37, &[0]),
    ("rfc2132/7.2/tcp-keepalive-interval-length", 38, &[1, 2, 3]),
    ("rfc2132/7.3/tcp-keepalive-garbage-length", 39, &[1, 0]),
    ("rfc2132/8.1/nis-domain-length", 40, &[]),
    ("rfc2132/8.2/nis-servers-length", 41, &[1, 2, 3]),
    ("rfc2132/8.3/ntp-servers-length", 42, &[1, 2, 3]),
    ("rfc2132/8.4/vendor-specific-length", 43, &[]),
    ("rfc2132/8.5/netbios-name-server-length", 44, &[1, 2, 3]),
    ("rfc2132/8.6/netbios-dd-server-length", 45, &[1, 2, 3]),
    ("rfc2132/8.7/netbios-node-type-length", 46, &[1, 0]),
    ("rfc2132/8.8/netbios-scope-length", 47, &[]),
    ("rfc2132/8.9/x-font-server-length", 48, &[1, 2, 3]),
    ("rfc2132/8.10/x-display-manager-length", 49, &[1, 2, 3]),
    ("rfc2132/8.11/nisplus-domain-length", 64, &[]),
    ("rfc2132/8.12/nisplus-servers-length", 65, &[1, 2, 3]),
    ("rfc2132/8.13/mobile-ip-home-agent-length", 68, &[1, 2, 3]),
    ("rfc2132/8.14/smtp-server-length", 69, &[1, 2, 3]),
    ("rfc2132/8.15/pop3-server-length", 70, &[1, 2, 3]),
    ("rfc2132/8.16/nntp-server-length", 71, &[1, 2, 3]),
    ("rfc2132/8.17/www-server-length", 72, &[1, 2, 3]),
    ("rfc2132/8.18/finger-server-length", 73, &[1, 2, 3]),
    ("rfc2132/8.19/irc-server-length", 74, &[1, 2, 3]),
    ("rfc2132/8.20/streettalk-server-length", 75, &[1, 2, 3]),
    ("rfc2132/8.21/stda-server-length", 76, &[1, 2, 3]),
    ("rfc2132/9.2/lease-time-length", 51, &[1, 2, 3]),
    ("rfc2132/9.4/tftp-server-name-length", 66, &[]),
    ("rfc2132/9.5/bootfile-name-length", 67, &[]),
    ("rfc2132/9.6/message-type-length", 53, &[1, 0]),
    ("rfc2132/9.7/server-id-length", 54, &[1, 2, 3]),
    ("rfc2132/9.9/message-length", 56, &[]),
];

const OPTION_VALUE_CLAUSE_IDS: &[&str] = &[
    "rfc2132/3.3/subnet-mask-length",
    "rfc2132/3.4/time-offset-length",
    "rfc2132/3.5/router-length",
    "rfc2132/3.6/time-server-length",
    "rfc2132/3.7/name-server-length",
    "rfc2132/3.8/domain-name-server-length",
    "rfc2132/3.9/log-server-length",
    "rfc2132/3.10/cookie-server-length",
    "rfc2132/3.11/lpr-server-length",
    "rfc2132/3.12/impress-server-length",
    "rfc2132/3.13/resource-location-server-length",
    "rfc2132/3.14/host-name-length",
    "rfc2132/3.15/boot-file-size-length",
    "rfc2132/3.16/merit-dump-file-length",
    "rfc2132/3.17/domain-name-length",
    "rfc2132/3.18/swap-server-length",
    "rfc2132/3.19/root-path-length",
    "rfc2132/3.20/extensions-path-length",
    "rfc2132/4.1/ip-forwarding-length",
    "rfc2132/4.2/non-local-source-routing-length",
    "rfc2132/4.3/policy-filter-length",
    "rfc2132/4.4/max-datagram-reassembly-length",
    "rfc2132/4.4/max-datagram-reassembly-min-576",
    "rfc2132/4.5/default-ip-ttl-length",
    "rfc2132/4.5/default-ip-ttl-range",
    "rfc2132/4.6/path-mtu-aging-timeout-length",
    "rfc2132/4.7/path-mtu-plateau-table-length",
    "rfc2132/4.7/path-mtu-plateau-table-values",
    "rfc2132/5.1/interface-mtu-length",
    "rfc2132/5.1/interface-mtu-min-68",
    "rfc2132/5.2/all-subnets-local-length",
    "rfc2132/5.3/broadcast-address-length",
    "rfc2132/5.4/perform-mask-discovery-length",
    "rfc2132/5.5/mask-supplier-length",
    "rfc2132/5.6/perform-router-discovery-length",
    "rfc2132/5.7/router-solicitation-address-length",
    "rfc2132/5.8/static-route-no-default",
    "rfc2132/5.8/static-route-length",
    "rfc2132/6.1/trailer-encapsulation-length",
    "rfc2132/6.2/arp-cache-timeout-length",
    "rfc2132/6.3/ethernet-encapsulation-length",
    "rfc2132/7.1/tcp-default-ttl-length",
    "rfc2132/7.1/tcp-default-ttl-min-1",
    "rfc2132/7.2/tcp-keepalive-interval-length",
    "rfc2132/7.3/tcp-keepalive-garbage-length",
    "rfc2132/8.1/nis-domain-length",
    "rfc2132/8.2/nis-servers-length",
    "rfc2132/8.3/ntp-servers-length",
    "rfc2132/8.4/vendor-specific-length",
    "rfc2132/8.5/netbios-name-server-length",
    "rfc2132/8.6/netbios-dd-server-length",
    "rfc2132/8.7/netbios-node-type-length",
    "rfc2132/8.8/netbios-scope-length",
    "rfc2132/8.9/x-font-server-length",
    "rfc2132/8.10/x-display-manager-length",
    "rfc2132/8.11/nisplus-domain-length",
    "rfc2132/8.12/nisplus-servers-length",
    "rfc2132/8.13/mobile-ip-home-agent-length",
    "rfc2132/8.14/smtp-server-length",
    "rfc2132/8.15/pop3-server-length",
    "rfc2132/8.16/nntp-server-length",
    "rfc2132/8.17/www-server-length",
    "rfc2132/8.18/finger-server-length",
    "rfc2132/8.19/irc-server-length",
    "rfc2132/8.20/streettalk-server-length",
    "rfc2132/8.21/stda-server-length",
    "rfc2132/9.2/lease-time-length",
    "rfc2132/9.4/tftp-server-name-length",
    "rfc2132/9.5/bootfile-name-length",
    "rfc2132/9.6/message-type-length",
    "rfc2132/9.7/server-id-length",
    "rfc2132/9.9/message-length",
];

pub static RULES: &[Rule] = &[
    Rule {
        id: "rfc2132/2/magic-cookie",
        level: Level::Must,
        clauses: &["rfc2132/2/magic-cookie"],
        summary: "Options in a reply's vend field follow the magic cookie 99.130.83.99; a vend field without a recognised magic carries no options",
        check: Check::Reply(magic_cookie),
    },
    Rule {
        id: "rfc2132/2/option-format",
        level: Level::Must,
        clauses: &["rfc2132/3.1/pad-length", "rfc2132/3.2/end-length", "rfc2132/2/later-options-have-length", "rfc2132/2/option-tag-length-format", "rfc2132/2/length-excludes-tag-and-length", "rfc2132/2/constant-length-still-specified"],
        summary: "Every option has a tag, a length octet and that many data octets inside its field",
        check: Check::Reply(option_format),
    },
    Rule {
        id: "rfc2132/3/end-option",
        level: Level::Must,
        clauses: &["rfc2132/3.2/end-marks-end"],
        summary: "The options end with the End option (255) in every field that holds options",
        check: Check::Reply(end_option),
    },
    Rule {
        id: "rfc2132/3/pad-after-end",
        level: Level::Should,
        clauses: &["rfc2132/3.2/pad-after-end"],
        summary: "Octets after End are Pad (0)",
        check: Check::Reply(pad_after_end),
    },
    Rule {
        id: "rfc2132/option-lengths",
        level: Level::Must,
        clauses: OPTION_VALUE_CLAUSE_IDS,
        summary: "Each option's length and value fit its type (4 octets for an address, a multiple of 4 for a list, at least 1 for a string, …)",
        check: Check::Reply(option_lengths),
    },
    Rule {
        id: "rfc2132/3.3/mask-before-router",
        level: Level::Must,
        clauses: &["rfc2132/3.3/subnet-mask-before-router"],
        summary: "When a reply carries both, the subnet mask option comes before the router option",
        check: Check::Reply(mask_before_router),
    },
    Rule {
        id: "rfc2132/9.2/lease-time-in-offer",
        level: Level::Must,
        clauses: &["rfc2132/9.2/lease-time-in-offer"],
        summary: "A DHCPOFFER (a DHCP server's reply to a DHCPDISCOVER) carries the lease time option 51",
        check: Check::Reply(lease_time_in_offer),
    },
    Rule {
        id: "rfc2132/9.7/server-id",
        level: Level::Must,
        clauses: &["rfc2132/9.7/server-id-in-offer", "rfc2132/9.7/server-id-is-server-address"],
        summary: "A DHCPOFFER carries the server identifier option 54, and it is an address of the server (the reply's IP source)",
        check: Check::Reply(server_id),
    },
    Rule {
        id: "rfc2132/9.6/reply-message-type",
        level: Level::Must,
        clauses: &["rfc2132/9.6/message-type-values"],
        summary: "A DHCP server's reply is a DHCPOFFER, DHCPACK or DHCPNAK (message type 2, 5 or 6)",
        check: Check::Reply(reply_message_type),
    },
    Rule {
        id: "rfc2132/9.8/prl-order",
        level: Level::Must,
        clauses: &["rfc2132/9.8/prl-order"],
        summary: "The options a DHCP client asked for in its parameter request list (55) come in the order it asked",
        check: Check::Reply(prl_order),
    },
    Rule {
        id: "rfc2132/9/no-dhcp-only-options",
        level: Level::ShouldNot,
        clauses: &["rfc2132/2/options-usable-with-bootp"],
        summary: "A reply to a pure BOOTP request carries none of the DHCP-only options of §9 (50, 51, 54, 55, 57, 58, 59, 61)",
        check: Check::Reply(no_dhcp_only),
    },
    Rule {
        id: "rfc2132/9.3/overload",
        level: Level::Must,
        clauses: &["rfc2132/9.3/overload-inserted", "rfc2132/9.3/overload-length", "rfc2132/9.3/overload-values"],
        summary: "Option overload (52) appears once, in the options field, with value 1, 2 or 3, and the fields it claims hold options",
        check: Check::Reply(overload),
    },
];

fn magic_cookie(p: &Pair<'_>) -> Verdict {
    let Some(r) = p.reply.bootp.as_ref() else { return Verdict::NotApplicable };
    let v = r.vend();
    match r.vend_kind() {
        VendKind::Rfc1048 | VendKind::Cmu | VendKind::Empty => Verdict::Pass,
        VendKind::Raw if v.iter().all(|&b| b == 0) => Verdict::Pass,
        VendKind::Raw => {
            // A vendor's own magic echoed from the request is RFC 951's vendor area.
            let asked = p.request.bootp.as_ref().map(|q| q.vend().get(..4).unwrap_or(&[]).to_vec());
            let magic = v.get(..4).unwrap_or(v);
            if asked.as_deref().is_some_and(|a| a.len() == 4 && a == magic && a.iter().any(|&b| b != 0)) {
                return Verdict::Pass;
            }
            fail(
                p.reply,
                p.reply.at_field(field::VEND.start),
                "reply.vend",
                format!("empty (zeros), or options after the cookie {}", hex(&MAGIC_COOKIE)),
                format!("{} … (no recognised magic, not empty)", hex(v.get(..8).unwrap_or(v))),
            )
        }
    }
}

/// The walk's findings for the reply (offsets from the BOOTP message start).
fn findings<'p>(p: &'p Pair<'_>) -> Option<&'p [bootcheck_wire::Finding]> {
    let r = p.reply.bootp.as_ref()?;
    (r.vend_kind() == VendKind::Rfc1048).then(|| p.reply.findings())
}

fn first<'f>(
    f: &'f [bootcheck_wire::Finding],
    pred: impl Fn(&ErrorKind) -> bool,
) -> Option<&'f bootcheck_wire::Finding> {
    f.iter().find(|e| pred(&e.kind))
}

fn from_finding(p: &Pair<'_>, e: &bootcheck_wire::Finding, what: &str, expected: &str) -> Verdict {
    fail(p.reply, p.reply.at_field(e.offset), what, expected, &e.kind)
}

fn option_format(p: &Pair<'_>) -> Verdict {
    let Some(f) = findings(p) else { return Verdict::NotApplicable };
    match first(&f, |k| matches!(k, ErrorKind::LengthPastEnd { .. } | ErrorKind::MissingLength { .. })) {
        None => Verdict::Pass,
        Some(e) => from_finding(p, e, "reply option", "tag, length, data within the field"),
    }
}

fn end_option(p: &Pair<'_>) -> Verdict {
    let Some(f) = findings(p) else { return Verdict::NotApplicable };
    match first(&f, |k| matches!(k, ErrorKind::MissingEnd { .. })) {
        None => Verdict::Pass,
        Some(e) => from_finding(p, e, "reply options", "an End option (255)"),
    }
}

fn pad_after_end(p: &Pair<'_>) -> Verdict {
    let Some(f) = findings(p) else { return Verdict::NotApplicable };
    match first(&f, |k| matches!(k, ErrorKind::TrailingGarbage { .. })) {
        None => Verdict::Pass,
        Some(e) => from_finding(p, e, "reply octets after End", "Pad (0)"),
    }
}

fn option_lengths(p: &Pair<'_>) -> Verdict {
    let Some(f) = findings(p) else { return Verdict::NotApplicable };
    // RFC 6842 §3: a server MUST return the client identifier (61) "unaltered", so a
    // malformed one echoed octet for octet is the client's, not the server's, doing.
    let echoed_client_id = || {
        let q = p.request.bootp.as_ref().and_then(|q| q.aggregate(61));
        let r = p.reply.bootp.as_ref().and_then(|r| r.aggregate(61));
        q.is_some() && q == r
    };
    let bad = |k: &ErrorKind| match k {
        ErrorKind::WrongLength { code, .. } | ErrorKind::BadValue { code, .. } => *code != 61 || !echoed_client_id(),
        _ => false,
    };
    if let Some(e) = first(&f, bad) {
        return from_finding(p, e, "reply option", "a length and value its type allows");
    }
    // Value rules the codebook's types do not carry.
    let Some(r) = p.reply.bootp.as_ref() else { return Verdict::NotApplicable };
    for o in r.options() {
        let d = o.option.data;
        match o.option.code {
            // §4.7: "The minimum value of the MTU is 68."
            25 => {
                if let Some(i) = d.chunks_exact(2).position(|c| u16::from_be_bytes([c[0], c[1]]) < 68) {
                    return fail(
                        p.reply,
                        p.reply.at_field(o.offset + 2 + 2 * i),
                        "reply option 25 (path-mtu-plateau-table)",
                        "each MTU ≥ 68",
                        format!("{:?}", &d[2 * i..2 * i + 2]),
                    );
                }
            }
            // §5.8: "The default route (0.0.0.0) is an illegal destination for a static route."
            33 => {
                if let Some(i) = d.chunks_exact(8).position(|c| c[..4] == [0, 0, 0, 0]) {
                    return fail(
                        p.reply,
                        p.reply.at_field(o.offset + 2 + 8 * i),
                        "reply option 33 (static-route)",
                        "no 0.0.0.0 destination",
                        "0.0.0.0",
                    );
                }
            }
            _ => {}
        }
    }
    Verdict::Pass
}

fn mask_before_router(p: &Pair<'_>) -> Verdict {
    let Some(r) = p.reply.bootp.as_ref() else { return Verdict::NotApplicable };
    let (Some(mask), Some(router)) = (r.find(1), r.find(3)) else { return Verdict::NotApplicable };
    // Offsets grow in walk order only within one area; both live in the options field
    // in practice, and the walk order is the order a client reads them in.
    let order: Vec<u8> = r.options().map(|o| o.option.code).filter(|c| *c == 1 || *c == 3).collect();
    if order.first() == Some(&1) {
        Verdict::Pass
    } else {
        let _ = mask;
        fail(
            p.reply,
            p.reply.at_field(router.offset),
            "reply option order",
            "1 (subnet mask) before 3 (router)",
            "3 before 1",
        )
    }
}

/// A DHCP reply offering an address: request DHCPDISCOVER, reply DHCPOFFER.
fn is_offer(p: &Pair<'_>) -> bool {
    use bootcheck_wire::options::MessageType;
    let q = p.request.bootp.as_ref().and_then(|b| b.message_type());
    let r = p.reply.bootp.as_ref().and_then(|b| b.message_type());
    q == Some(MessageType::Discover) && r == Some(MessageType::Offer)
}

fn lease_time_in_offer(p: &Pair<'_>) -> Verdict {
    if !is_offer(p) {
        return Verdict::NotApplicable;
    }
    let Some(r) = p.reply.bootp.as_ref() else { return Verdict::NotApplicable };
    if r.find(51).is_some() {
        Verdict::Pass
    } else {
        fail(p.reply, p.reply.at_field(field::OPTIONS.start), "DHCPOFFER option 51", "present", "absent")
    }
}

fn server_id(p: &Pair<'_>) -> Verdict {
    if !is_offer(p) {
        return Verdict::NotApplicable;
    }
    let Some(r) = p.reply.bootp.as_ref() else { return Verdict::NotApplicable };
    let Some(o) = r.find(54) else {
        return fail(p.reply, p.reply.at_field(field::OPTIONS.start), "DHCPOFFER option 54", "present", "absent");
    };
    let Ok(d) = <[u8; 4]>::try_from(o.option.data) else { return Verdict::NotApplicable };
    let id = std::net::Ipv4Addr::from(d);
    match p.reply.src_ip() {
        Some(src) if src != id && !src.is_unspecified() => fail(
            p.reply,
            p.reply.at_field(o.offset + 2),
            "DHCPOFFER option 54 (server identifier)",
            format!("{src} (the address the offer came from)"),
            id,
        ),
        _ => Verdict::Pass,
    }
}

fn reply_message_type(p: &Pair<'_>) -> Verdict {
    if p.request.is_pure_bootp() {
        return Verdict::NotApplicable;
    }
    let Some(r) = p.reply.bootp.as_ref() else { return Verdict::NotApplicable };
    let Some(o) = r.find(53) else { return Verdict::NotApplicable };
    match o.option.data {
        [2 | 5 | 6] => Verdict::Pass,
        d => fail(
            p.reply,
            p.reply.at_field(o.offset + 2),
            "reply option 53 (message type)",
            "2, 5 or 6 (OFFER, ACK, NAK)",
            hex(d),
        ),
    }
}

fn prl_order(p: &Pair<'_>) -> Verdict {
    let (Some(q), Some(r)) = (p.request.bootp.as_ref(), p.reply.bootp.as_ref()) else { return Verdict::NotApplicable };
    if r.find(53).is_none() {
        return Verdict::NotApplicable;
    }
    let Some(prl) = q.aggregate(55) else { return Verdict::NotApplicable };
    let asked: Vec<u8> = prl.iter().copied().filter(|c| *c != 0 && *c != 255).collect();
    // The requested options the reply carries, in the reply's order (first instance).
    let mut got: Vec<(u8, usize)> = Vec::new();
    for o in r.options() {
        if asked.contains(&o.option.code) && !got.iter().any(|(c, _)| *c == o.option.code) {
            got.push((o.option.code, o.offset));
        }
    }
    if got.len() < 2 {
        return Verdict::NotApplicable;
    }
    let rank = |c: u8| asked.iter().position(|x| *x == c).unwrap_or(usize::MAX);
    for w in got.windows(2) {
        // §3.3's MUST (subnet mask before router) overrides the requested order.
        if (w[0].0, w[1].0) == (1, 3) {
            continue;
        }
        if rank(w[1].0) < rank(w[0].0) {
            return fail(
                p.reply,
                p.reply.at_field(w[1].1),
                "requested options' order",
                format!("as requested: {asked:?}"),
                format!("{:?}", got.iter().map(|(c, _)| *c).collect::<Vec<_>>()),
            );
        }
    }
    Verdict::Pass
}

fn no_dhcp_only(p: &Pair<'_>) -> Verdict {
    if !p.request.is_pure_bootp() {
        return Verdict::NotApplicable;
    }
    let Some(r) = p.reply.bootp.as_ref() else { return Verdict::NotApplicable };
    match r.options().find(|o| DHCP_ONLY.contains(&o.option.code)) {
        None => Verdict::Pass,
        Some(o) => fail(
            p.reply,
            p.reply.at_field(o.offset),
            format!("reply option {}", o.option.code),
            "absent (DHCP-only, RFC 2132 §9)",
            format!("present [{}]", hex(o.option.data)),
        ),
    }
}

fn overload(p: &Pair<'_>) -> Verdict {
    let Some(f) = findings(p) else { return Verdict::NotApplicable };
    let Some(r) = p.reply.bootp.as_ref() else { return Verdict::NotApplicable };
    let bad = first(&f, |k| {
        matches!(
            k,
            ErrorKind::OverloadInField { .. }
                | ErrorKind::OverloadValue { .. }
                | ErrorKind::OverloadRepeated
                | ErrorKind::OverloadNoRoom { .. }
        ) || matches!(k, ErrorKind::WrongLength { code: 52, .. })
    });
    match bad {
        Some(e) => from_finding(
            p,
            e,
            "reply option 52",
            "once, in the options field, value 1–3, claimed fields holding options",
        ),
        None if r.find(52).is_some() => Verdict::Pass,
        None => Verdict::NotApplicable,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::testkit::{Case, Crafted};

    /// RFC 6842 §3: the client identifier comes back unaltered, malformed or not; one
    /// the server made up (or altered) is still judged.
    #[test]
    fn an_echoed_malformed_client_id_is_the_clients() {
        Case::both(
            |q| q[240..248].copy_from_slice(&[61, 5, 255, 0, 0, 0, 1, 255]),
            |r| r[252..260].copy_from_slice(&[61, 5, 255, 0, 0, 0, 1, 255]),
        )
        .assert_passes("rfc2132/option-lengths");
        let altered = Case::both(
            |q| q[240..248].copy_from_slice(&[61, 5, 255, 0, 0, 0, 1, 255]),
            |r| r[252..260].copy_from_slice(&[61, 5, 255, 0, 0, 0, 2, 255]),
        );
        assert!(altered.verdict("rfc2132/option-lengths").is_fail());
    }

    pub(crate) fn fails_on_a_crafted_reply() -> Vec<(&'static str, Crafted)> {
        vec![
            (
                "rfc2132/3.3/mask-before-router",
                Crafted::Reply(Case::reply(|r| {
                    r[240..252].copy_from_slice(&[3, 4, 192, 0, 2, 254, 1, 4, 255, 255, 255, 0])
                })),
            ),
            (
                "rfc2132/9.2/lease-time-in-offer",
                Crafted::Reply(Case::both(
                    |q| q[240..244].copy_from_slice(&[53, 1, 1, 255]),
                    |r| {
                        r[252..258].copy_from_slice(&[53, 1, 2, 54, 4, 192]);
                        r[258..261].copy_from_slice(&[0, 2, 1]);
                        r[261] = 255;
                    },
                )),
            ),
            (
                "rfc2132/9.7/server-id",
                Crafted::Reply(Case::both(
                    |q| q[240..244].copy_from_slice(&[53, 1, 1, 255]),
                    |r| {
                        r[252..258].copy_from_slice(&[53, 1, 2, 51, 4, 0]);
                        r[258..261].copy_from_slice(&[0, 14, 16]);
                        r[261..267].copy_from_slice(&[54, 4, 127, 0, 0, 1]);
                        r[267] = 255;
                    },
                )),
            ),
            (
                "rfc2132/9.6/reply-message-type",
                Crafted::Reply(Case::both(
                    |q| q[240..244].copy_from_slice(&[53, 1, 1, 255]),
                    |r| {
                        r[252..255].copy_from_slice(&[53, 1, 3]);
                        r[255] = 255;
                    },
                )),
            ),
            (
                "rfc2132/9.8/prl-order",
                Crafted::Reply(Case::both(
                    |q| q[240..248].copy_from_slice(&[53, 1, 1, 55, 2, 6, 1, 255]),
                    |r| {
                        r[252..261].copy_from_slice(&[53, 1, 5, 6, 4, 192, 0, 2, 53]);
                        r[261] = 255;
                    },
                )),
            ),
            ("rfc2132/2/magic-cookie", Crafted::Reply(Case::reply(|r| r[236..240].fill(0)))),
            (
                "rfc2132/2/option-format",
                Crafted::Reply(Case::reply(|r| {
                    r[240..243].copy_from_slice(&[12, 200, b'w']);
                    r[243..].fill(b's');
                })),
            ),
            (
                "rfc2132/3/end-option",
                Crafted::Reply(Case::reply(|r| {
                    let n = r.len();
                    r[252..n - 2].fill(0);
                    r[252..255].copy_from_slice(&[12, 1, b'x']);
                })),
            ),
            ("rfc2132/3/pad-after-end", Crafted::Reply(Case::reply(|r| r[260] = 7))),
            ("rfc2132/option-lengths", Crafted::Reply(Case::reply(|r| r[241] = 3))),
            (
                "rfc2132/9/no-dhcp-only-options",
                Crafted::Reply(Case::reply(|r| {
                    r[252..258].copy_from_slice(&[51, 4, 0, 0, 14, 16]);
                    r[258] = 255;
                })),
            ),
            (
                "rfc2132/9.3/overload",
                Crafted::Reply(Case::reply(|r| {
                    r[252..255].copy_from_slice(&[52, 1, 9]);
                    r[255] = 255;
                })),
            ),
            (
                "rfc2132/9.3/overload",
                Crafted::Reply(Case::reply(|r| {
                    r[252..255].copy_from_slice(&[52, 1, 1]);
                    r[255] = 255;
                    r[108..236].fill(0);
                    r[108] = 255;
                })),
            ),
        ]
    }

    /// Every clause the option-length rule claims is enforced: a reply carrying the
    /// forbidden value fails the rule, with the option's offset as evidence.
    #[test]
    fn each_claimed_option_clause_is_enforced() {
        use crate::testkit::{reply_to, request};
        let mut unenforced = Vec::new();
        for (clause, code, bad) in super::OPTION_VALUE_CLAUSES {
            let q = request();
            let mut r = reply_to(&q);
            let at = 252;
            r[at] = *code;
            r[at + 1] = u8::try_from(bad.len()).unwrap();
            r[at + 2..at + 2 + bad.len()].copy_from_slice(bad);
            r[at + 2 + bad.len()] = 255;
            let v = Case::default().verdict_for_payloads("rfc2132/option-lengths", &q, &r);
            if !v.is_fail() {
                unenforced.push(format!("{clause} (option {code} = {bad:?}): {v:?}"));
            }
        }
        assert!(unenforced.is_empty(), "{unenforced:#?}");
    }

    #[test]
    fn requested_order_passes_and_mask_may_precede_router_against_it() {
        ack_in_requested_order().assert_passes("rfc2132/9.8/prl-order");
        Case::both(
            |q| q[240..249].copy_from_slice(&[53, 1, 1, 55, 3, 1, 3, 6, 255]),
            |r| {
                r[252..261].copy_from_slice(&[53, 1, 5, 6, 4, 192, 0, 2, 53]);
                r[261] = 255;
            },
        )
        .assert_passes("rfc2132/9.8/prl-order");
        Case::both(
            |q| q[240..248].copy_from_slice(&[53, 1, 1, 55, 2, 3, 1, 255]),
            |r| {
                r[252..255].copy_from_slice(&[53, 1, 5]);
                r[255] = 255;
            },
        )
        .assert_passes("rfc2132/9.8/prl-order");
    }

    #[test]
    fn a_correct_offer_passes_the_dhcp_rules() {
        let c = Case::dhcp_offer();
        c.assert_passes("rfc2132/9.2/lease-time-in-offer");
        c.assert_passes("rfc2132/9.7/server-id");
        c.assert_passes("rfc2132/9.6/reply-message-type");
    }

    /// A DHCPREQUEST's options (SELECTING: requested address and server identifier),
    /// asking for mask, router, DNS servers and domain name, in that order.
    const DHCP_REQUEST: [u8; 22] = [53, 1, 3, 50, 4, 192, 0, 2, 50, 54, 4, 192, 0, 2, 1, 55, 4, 1, 3, 6, 15, 255];

    /// Its DHCPACK: the requested options in the requested order, after the
    /// message type, server identifier and lease time.
    fn ack_in_requested_order() -> Case {
        Case::both(
            |q| q[240..262].copy_from_slice(&DHCP_REQUEST),
            |r| {
                r[252..267].copy_from_slice(&[53, 1, 5, 54, 4, 192, 0, 2, 1, 51, 4, 0, 0, 14, 16]);
                r[267..273].copy_from_slice(&[6, 4, 192, 0, 2, 53]);
                r[273..286]
                    .copy_from_slice(&[15, 11, b'e', b'x', b'a', b'm', b'p', b'l', b'e', b'.', b'n', b'e', b't']);
                r[286] = 255;
            },
        )
    }

    /// The same DHCPACK with the file field overloaded (RFC 2132 §9.3): option 52 = 1
    /// in the options field, and the boot file name as option 67 in file, ended by End.
    fn ack_with_overloaded_file() -> Case {
        Case::both(
            |q| q[240..262].copy_from_slice(&DHCP_REQUEST),
            |r| {
                r[252..270].copy_from_slice(&[53, 1, 5, 54, 4, 192, 0, 2, 1, 51, 4, 0, 0, 14, 16, 52, 1, 1]);
                r[270] = 255;
                r[108..236].fill(0);
                r[108..110].copy_from_slice(&[67, 20]);
                r[110..130].copy_from_slice(b"/tftpboot/pxelinux.0");
                r[130] = 255;
            },
        )
    }

    /// A BOOTP reply without vendor information: a vend field of zeros.
    fn empty_vend() -> Case {
        Case::both(|q| q[236..].fill(0), |r| r[236..].fill(0))
    }

    /// Correct exchanges: a BOOTP reply, one without vendor information, a DHCPOFFER,
    /// a DHCPACK giving the requested options in order, and one overloading file.
    pub(crate) fn passes_on_correct_exchanges() -> Vec<(&'static str, Crafted)> {
        vec![
            ("a BOOTP reply", Crafted::Reply(Case::default())),
            ("a BOOTP reply without vendor information", Crafted::Reply(empty_vend())),
            ("a DHCPOFFER", Crafted::Reply(Case::dhcp_offer())),
            ("a DHCPACK in the requested order", Crafted::Reply(ack_in_requested_order())),
            ("a DHCPACK overloading file", Crafted::Reply(ack_with_overloaded_file())),
        ]
    }

    #[test]
    fn correct_exchanges_pass() {
        for (what, c) in passes_on_correct_exchanges() {
            c.assert_passes_all(what);
        }
    }

    #[test]
    fn dhcp_options_are_fine_in_a_reply_to_dhcp() {
        Case::both(
            |q| q[240..244].copy_from_slice(&[53, 1, 1, 255]),
            |r| {
                r[252..258].copy_from_slice(&[51, 4, 0, 0, 14, 16]);
                r[258] = 255;
            },
        )
        .assert_not_applicable("rfc2132/9/no-dhcp-only-options");
    }

    #[test]
    fn a_valid_overload_passes() {
        Case::reply(|r| {
            r[252..255].copy_from_slice(&[52, 1, 1]);
            r[255] = 255;
            r[108..236].fill(0);
            r[108..112].copy_from_slice(&[12, 2, b'w', b's']);
            r[112] = 255;
        })
        .assert_passes("rfc2132/9.3/overload");
        let ack = ack_with_overloaded_file();
        ack.assert_passes("rfc2132/9.3/overload");
        ack.assert_not_applicable("rfc951/3/file-terminated");
    }

    #[test]
    fn an_echoed_vendor_magic_and_an_empty_vend_pass() {
        Case::both(|q| q[236..240].copy_from_slice(b"ACME"), |r| r[236..240].copy_from_slice(b"ACME"))
            .assert_passes("rfc2132/2/magic-cookie");
        empty_vend().assert_passes("rfc2132/2/magic-cookie");
    }
}
