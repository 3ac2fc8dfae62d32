//! RFC 2347 (TFTP Option Extension): the OACK a server sends in answer to a read that
//! carries options. Trace rules over the transfers `rfc1350` finds.

use bootcheck_wire::tftp::{Opcode, Repr};

use crate::rfc1350::{each, fail_at, Blocks, Who};
use crate::{Check, Level, Rule, TraceView, Verdict};

pub static RULES: &[Rule] = &[
    Rule {
        id: "rfc2347/negotiation-protocol/oack-only-requested",
        level: Level::MustNot,
        clauses: &[
            "rfc2347/negotiation-protocol/oack-only-requested",
            "rfc2347/negotiation-protocol/server-cannot-request",
            "rfc2347/packet-formats/oack-option-copied",
        ],
        summary: "The OACK holds only options the request carried",
        check: Check::Trace(oack_only_requested),
    },
    Rule {
        id: "rfc2347/negotiation-protocol/ack-0-before-data",
        level: Level::Must,
        clauses: &["rfc2347/negotiation-protocol/ack-0-confirms-oack"],
        summary: "After an OACK, DATA block 1 is sent only once the client confirmed the OACK with ACK 0",
        check: Check::Trace(ack_0_before_data),
    },
    Rule {
        id: "rfc2347/packet-formats/oack-format",
        level: Level::Must,
        clauses: &["rfc2347/packet-formats/oack-format", "rfc7440/3/fields-nul-terminated"],
        summary: "An OACK is NUL-terminated name/value pairs, at least one, each option once",
        check: Check::Trace(oack_format),
    },
];

fn oack_only_requested(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        let Some((p, Some(Repr::Oack { options }))) = t.oack() else { return Verdict::NotApplicable };
        let mut at = 2;
        for o in &options {
            if !t.requested().iter().any(|q| q.name.eq_ignore_ascii_case(o.name)) {
                let asked: Vec<String> =
                    t.requested().iter().map(|q| String::from_utf8_lossy(q.name).into_owned()).collect();
                return fail_at(
                    p,
                    Some(at),
                    "OACK option",
                    format!(
                        "only requested options ({})",
                        if asked.is_empty() { "none".to_string() } else { asked.join(", ") }
                    ),
                    format!("{o} (not requested)"),
                );
            }
            at += o.wire_len();
        }
        Verdict::Pass
    })
}

fn ack_0_before_data(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        if t.oack().is_none() {
            return Verdict::NotApplicable;
        }
        let mut b = Blocks::default();
        for p in &t.pkts {
            match p.who {
                Who::Client if p.is(Opcode::Ack) => {
                    if let Some(w) = p.block() {
                        b.ack(w);
                    }
                }
                Who::Server if p.is(Opcode::Data) => {
                    if !b.oack_acked {
                        return fail_at(
                            p,
                            Some(0),
                            "DATA after an OACK",
                            "DATA block 1 only after the client's ACK 0",
                            format!("DATA block {} before any ACK 0", p.block().unwrap_or(0)),
                        );
                    }
                    return Verdict::Pass;
                }
                _ => {}
            }
        }
        Verdict::NotApplicable
    })
}

fn oack_format(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        let Some((p, _)) = t.oack() else { return Verdict::NotApplicable };
        let (repr, findings) = Repr::parse_lenient(p.payload);
        if let Some(f) = findings.first() {
            return fail_at(p, Some(f.offset), "OACK", "NUL-terminated name/value pairs", &f.kind);
        }
        let Some(Repr::Oack { options }) = repr else { return Verdict::NotApplicable };
        if options.is_empty() {
            return fail_at(p, Some(2), "OACK", "at least one acknowledged option", "none");
        }
        let mut at = 2;
        for (i, o) in options.iter().enumerate() {
            if options[..i].iter().any(|q| q.name.eq_ignore_ascii_case(o.name)) {
                return fail_at(p, Some(at), "OACK option", "each option once", format!("{o} repeated"));
            }
            at += o.wire_len();
        }
        Verdict::Pass
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::testkit::{Crafted, TftpTrace};

    pub(crate) fn fails_on_a_crafted_trace() -> Vec<(&'static str, Crafted)> {
        vec![
            (
                "rfc2347/negotiation-protocol/oack-only-requested",
                Crafted::Tftp(
                    TftpTrace::read(2000)
                        .options(&[("blksize", "1024")])
                        .oack(&[("blksize", "1024"), ("tsize", "2000")]),
                ),
            ),
            (
                "rfc2347/negotiation-protocol/oack-only-requested",
                Crafted::Tftp(TftpTrace::read(2000).oack(&[("blksize", "1024")])),
            ),
            (
                "rfc2347/negotiation-protocol/ack-0-before-data",
                Crafted::Tftp(
                    TftpTrace::read(2000)
                        .options(&[("blksize", "1024")])
                        .oack(&[("blksize", "1024")])
                        .data_before_ack0(),
                ),
            ),
            (
                "rfc2347/packet-formats/oack-format",
                Crafted::Tftp(TftpTrace::read(2000).options(&[("blksize", "1024")]).oack_raw(b"blksize\x001024")),
            ),
            (
                "rfc2347/packet-formats/oack-format",
                Crafted::Tftp(
                    TftpTrace::read(2000)
                        .options(&[("blksize", "512")])
                        .oack_raw(b"blksize\x00512\x00BLKSIZE\x00512\x00"),
                ),
            ),
            (
                "rfc2347/packet-formats/oack-format",
                Crafted::Tftp(TftpTrace::read(2000).options(&[("blksize", "512")]).oack_raw(b"")),
            ),
        ]
    }

    /// Correct negotiations: acknowledged options, in any case and order, an unknown
    /// option ignored, a refusal.
    pub(crate) fn passes_on_correct_exchanges() -> Vec<(&'static str, Crafted)> {
        vec![
            (
                "blksize acknowledged",
                Crafted::Tftp(TftpTrace::read(2000).options(&[("blksize", "1024")]).oack(&[("blksize", "1024")])),
            ),
            (
                "an option name in mixed case acknowledged",
                Crafted::Tftp(TftpTrace::read(2000).options(&[("BlkSize", "1024")]).oack(&[("blksize", "1024")])),
            ),
            (
                "two options acknowledged in another order",
                Crafted::Tftp(
                    TftpTrace::read(2000)
                        .options(&[("blksize", "1024"), ("tsize", "0")])
                        .oack(&[("tsize", "2000"), ("blksize", "1024")]),
                ),
            ),
            // Options not acknowledged: a plain transfer.
            ("an unknown option ignored", Crafted::Tftp(TftpTrace::read(2000).options(&[("foo", "bar")]))),
            (
                "an unacceptable option refused with ERROR 8",
                Crafted::Tftp(TftpTrace::read(2000).options(&[("blksize", "7")]).refused(8)),
            ),
        ]
    }

    #[test]
    fn negotiated_reads_pass() {
        for (what, c) in passes_on_correct_exchanges() {
            c.assert_passes_all(what);
        }
    }
}
