//! RFC 2348 (TFTP Blocksize Option): the `blksize` a server acknowledges and the DATA
//! it then sends. Trace rules over the transfers `rfc1350` finds.

use bootcheck_wire::tftp::OptionKind;

use crate::rfc1350::{each, fail_at, sizes};
use crate::{Check, Level, Rule, TraceView, Verdict};

pub static RULES: &[Rule] = &[
    Rule {
        id: "rfc2348/blocksize-option/oack-blksize",
        level: Level::Must,
        clauses: &[
            "rfc2348/blocksize-option/oack-not-larger",
            "rfc2348/blocksize-option/valid-range",
            "rfc2347/packet-formats/oack-value-per-option",
            "rfc2347/negotiation-protocol/invalid-value",
        ],
        summary: "An acknowledged blksize is a number from 8 to 65464, no larger than the requested one",
        check: Check::Trace(oack_blksize),
    },
    Rule {
        id: "rfc2348/blocksize-option/negotiated-size",
        level: Level::Must,
        clauses: &["rfc2348/blocksize-option/final-packet", "rfc2348/blocksize-option/first-packet-final"],
        summary: "With a negotiated blksize, DATA carries exactly blksize octets, and a shorter one is the last",
        check: Check::Trace(negotiated_size),
    },
];

fn oack_blksize(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        let Some((o, value)) = t.acked(OptionKind::Blksize) else { return Verdict::NotApplicable };
        let Some((p, _)) = t.oack() else { return Verdict::NotApplicable };
        // Not requested at all: the OACK-only-requested rule's business.
        let Some(asked) = t.requested_opt(OptionKind::Blksize) else { return Verdict::NotApplicable };
        let asked = asked.value_u64();
        let shown = String::from_utf8_lossy(o.value).into_owned();
        let Some(v) = value.filter(|v| (8..=65464).contains(v)) else {
            return fail_at(p, None, "OACK blksize", "a number from 8 to 65464", shown);
        };
        match asked {
            Some(a) if v > a => fail_at(p, None, "OACK blksize", format!("at most {a} (the requested value)"), v),
            None => fail_at(
                p,
                None,
                "OACK blksize",
                "none: the requested value is not a valid blksize (omit it, or send ERROR 8)",
                v,
            ),
            _ => Verdict::Pass,
        }
    })
}

fn negotiated_size(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        let Some((_, Some(bs))) = t.acked(OptionKind::Blksize) else { return Verdict::NotApplicable };
        let Ok(bs) = usize::try_from(bs) else { return Verdict::NotApplicable };
        sizes(t, bs, "the negotiated blksize")
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::testkit::{Crafted, TftpTrace};

    pub(crate) fn fails_on_a_crafted_trace() -> Vec<(&'static str, Crafted)> {
        let asked = |v: &str| TftpTrace::read(3000).options(&[("blksize", v)]);
        vec![
            ("rfc2348/blocksize-option/oack-blksize", Crafted::Tftp(asked("1024").oack(&[("blksize", "1468")]))),
            ("rfc2348/blocksize-option/oack-blksize", Crafted::Tftp(asked("7").oack(&[("blksize", "7")]))),
            ("rfc2348/blocksize-option/oack-blksize", Crafted::Tftp(asked("65535").oack(&[("blksize", "65535")]))),
            (
                "rfc2348/blocksize-option/negotiated-size",
                Crafted::Tftp(asked("1024").oack(&[("blksize", "1024")]).server_blksize(1468)),
            ),
            (
                "rfc2348/blocksize-option/negotiated-size",
                Crafted::Tftp(asked("1024").oack(&[("blksize", "1024")]).short_block_at(1)),
            ),
        ]
    }

    /// Correct blksize reads: accepted, lowered, short and whole-block files, the
    /// smallest size.
    pub(crate) fn passes_on_correct_exchanges() -> Vec<(&'static str, Crafted)> {
        vec![
            (
                "blksize 1024",
                Crafted::Tftp(TftpTrace::read(3000).options(&[("blksize", "1024")]).oack(&[("blksize", "1024")])),
            ),
            (
                "blksize 1468 lowered to 1024",
                Crafted::Tftp(TftpTrace::read(3000).options(&[("blksize", "1468")]).oack(&[("blksize", "1024")])),
            ),
            (
                "a file shorter than a block",
                Crafted::Tftp(TftpTrace::read(100).options(&[("blksize", "1024")]).oack(&[("blksize", "1024")])),
            ),
            (
                "a file of two whole blocks",
                Crafted::Tftp(TftpTrace::read(2048).options(&[("blksize", "1024")]).oack(&[("blksize", "1024")])),
            ),
            (
                "the smallest blksize, 8",
                Crafted::Tftp(TftpTrace::read(64).options(&[("blksize", "8")]).oack(&[("blksize", "8")])),
            ),
        ]
    }

    #[test]
    fn blksize_reads_pass() {
        for (what, c) in passes_on_correct_exchanges() {
            c.assert_passes_all(what);
        }
    }
}
