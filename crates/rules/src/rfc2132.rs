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
        clauses: &["rfc2132/2/option-format"],
        summary: "Every option has a tag, a length octet and that many data octets inside its field",
        check: Check::Reply(option_format),
    },
    Rule {
        id: "rfc2132/3/end-option",
        level: Level::Must,
        clauses: &["rfc2132/3.2/end-option"],
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
        clauses: &[],
        summary: "Each option's length and value fit its type (4 octets for an address, a multiple of 4 for a list, at least 1 for a string, …)",
        check: Check::Reply(option_lengths),
    },
    Rule {
        id: "rfc2132/9/no-dhcp-only-options",
        level: Level::ShouldNot,
        clauses: &["rfc2132/2/dhcp-only-options"],
        summary: "A reply to a pure BOOTP request carries none of the DHCP-only options of §9 (50, 51, 54, 55, 57, 58, 59, 61)",
        check: Check::Reply(no_dhcp_only),
    },
    Rule {
        id: "rfc2132/9.3/overload",
        level: Level::Must,
        clauses: &["rfc2132/9.3/overload-value", "rfc2132/9.3/overload-options-field"],
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
fn findings(p: &Pair<'_>) -> Option<Vec<bootcheck_wire::Finding>> {
    let r = p.reply.bootp.as_ref()?;
    (r.vend_kind() == VendKind::Rfc1048).then(|| r.findings())
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
    match first(&f, |k| matches!(k, ErrorKind::WrongLength { .. } | ErrorKind::BadValue { .. })) {
        None => Verdict::Pass,
        Some(e) => from_finding(p, e, "reply option", "a length and value its type allows"),
    }
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

    pub(crate) fn fails_on_a_crafted_reply() -> Vec<(&'static str, Crafted)> {
        vec![
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

    #[test]
    fn a_correct_reply_passes_every_rfc2132_rule() {
        Case::default().assert_passes_all("rfc2132/");
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
    }

    #[test]
    fn an_echoed_vendor_magic_and_an_empty_vend_pass() {
        Case::both(|q| q[236..240].copy_from_slice(b"ACME"), |r| r[236..240].copy_from_slice(b"ACME"))
            .assert_passes("rfc2132/2/magic-cookie");
        Case::both(|q| q[236..].fill(0), |r| r[236..].fill(0)).assert_passes("rfc2132/2/magic-cookie");
    }
}
