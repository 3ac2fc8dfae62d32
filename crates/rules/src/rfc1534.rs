//! RFC 1534 (Interoperation Between DHCP and BOOTP): a DHCP server answering a BOOTP
//! client answers in BOOTP — a BOOTREPLY without the DHCP message type, within the
//! BOOTREPLY size.

use bootcheck_wire::bootp::MIN_LEN;
use bootcheck_wire::options::code::MESSAGE_TYPE;

use crate::{fail, hex, Check, Level, Pair, Rule, Verdict};

pub static RULES: &[Rule] = &[
    Rule {
        id: "rfc1534/2/dhcp-answered-as-dhcp",
        level: Level::Must,
        clauses: &["rfc1534/2/message-type-means-dhcp"],
        summary: "A request with a DHCP message type (a DHCP client) gets a DHCP reply (with a message type)",
        check: Check::Reply(dhcp_answered_as_dhcp),
    },
    Rule {
        id: "rfc1534/2/no-message-type",
        level: Level::MustNot,
        clauses: &[
            "rfc1534/2/no-message-type-option",
            "rfc1534/2/bootreply-not-dhcpoffer",
            "rfc1534/2/no-message-type-means-bootp",
            "rfc1534/2/follow-bootp-protocol",
        ],
        summary: "A reply to a BOOTP client (no option 53 in the request) has no DHCP message type option",
        check: Check::Reply(no_message_type),
    },
    Rule {
        id: "rfc1534/2/bootreply-size",
        level: Level::MustNot,
        clauses: &["rfc1534/2/bootreply-size-limit"],
        summary: "A reply to a BOOTP client does not exceed the BOOTREPLY size (300 octets of BOOTP message)",
        check: Check::Reply(bootreply_size),
    },
];

fn dhcp_answered_as_dhcp(p: &Pair<'_>) -> Verdict {
    if p.request.is_pure_bootp() || p.request.bootp.is_none() {
        return Verdict::NotApplicable;
    }
    let Some(r) = p.reply.bootp.as_ref() else { return Verdict::NotApplicable };
    if r.find(MESSAGE_TYPE).is_some() {
        Verdict::Pass
    } else {
        fail(
            p.reply,
            p.reply.at_field(bootcheck_wire::bootp::field::OPTIONS.start),
            "reply option 53",
            "present (the request was DHCP)",
            "absent: a BOOTP reply to a DHCP client",
        )
    }
}

fn no_message_type(p: &Pair<'_>) -> Verdict {
    if !p.request.is_pure_bootp() {
        return Verdict::NotApplicable;
    }
    let Some(r) = p.reply.bootp.as_ref() else { return Verdict::NotApplicable };
    match r.find(MESSAGE_TYPE) {
        None => Verdict::Pass,
        Some(o) => fail(
            p.reply,
            p.reply.at_field(o.offset),
            "reply option 53",
            "absent (the request had none: a BOOTP client)",
            format!("present [{}]", hex(o.option.data)),
        ),
    }
}

fn bootreply_size(p: &Pair<'_>) -> Verdict {
    if !p.request.is_pure_bootp() {
        return Verdict::NotApplicable;
    }
    let n = p.reply.payload.len();
    if n <= MIN_LEN {
        Verdict::Pass
    } else {
        fail(p.reply, p.reply.at_field(MIN_LEN), "reply size (UDP payload)", format!("≤ {MIN_LEN} octets"), n)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::testkit::{Case, Crafted};

    pub(crate) fn fails_on_a_crafted_reply() -> Vec<(&'static str, Crafted)> {
        vec![
            (
                "rfc1534/2/no-message-type",
                Crafted::Reply(Case::reply(|r| {
                    r[252..255].copy_from_slice(&[53, 1, 2]);
                    r[255] = 255;
                })),
            ),
            ("rfc1534/2/bootreply-size", Crafted::Reply(Case::reply(|r| r.resize(548, 0)))),
            (
                "rfc1534/2/dhcp-answered-as-dhcp",
                Crafted::Reply(Case::request(|q| q[240..244].copy_from_slice(&[53, 1, 1, 255]))),
            ),
        ]
    }

    /// Correct exchanges: a BOOTP client answered in BOOTP, a DHCP client in DHCP.
    pub(crate) fn passes_on_correct_exchanges() -> Vec<(&'static str, Crafted)> {
        vec![
            ("a BOOTP reply to a BOOTP client", Crafted::Reply(Case::default())),
            ("a DHCPOFFER to a DHCP client", Crafted::Reply(Case::dhcp_offer())),
        ]
    }

    #[test]
    fn correct_replies_pass_and_a_dhcp_reply_is_not_judged_as_bootp() {
        for (what, c) in passes_on_correct_exchanges() {
            c.assert_passes_all(what);
        }
        Case::dhcp_offer().assert_passes("rfc1534/2/dhcp-answered-as-dhcp");
        Case::both(
            |q| q[240..244].copy_from_slice(&[53, 1, 1, 255]),
            |r| {
                r.resize(548, 0);
                r[252..255].copy_from_slice(&[53, 1, 2]);
                r[255] = 255;
            },
        )
        .assert_not_applicable("rfc1534/2/no-message-type");
    }
}
