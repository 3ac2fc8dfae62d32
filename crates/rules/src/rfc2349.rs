//! RFC 2349 (TFTP Timeout Interval and Transfer Size Options): the `timeout` and
//! `tsize` a server acknowledges, and its retransmission interval once a timeout is
//! agreed. Trace rules over the transfers `rfc1350` finds.

use std::collections::HashMap;
use std::time::Duration;

use bootcheck_wire::tftp::{Opcode, OptionKind, TransferMode};

use crate::rfc1350::{each, fail_at, ms, Blocks, Who};
use crate::{Check, Level, Rule, TraceView, Verdict};

pub static RULES: &[Rule] = &[
    Rule {
        id: "rfc2349/timeout-option/oack-timeout",
        level: Level::Must,
        clauses: &[
            "rfc2349/timeout-option/value-must-match",
            "rfc2349/timeout-option/seconds-before-retransmitting",
            "rfc2347/packet-formats/oack-value-per-option",
        ],
        summary: "An acknowledged timeout is the requested value, a number from 1 to 255",
        check: Check::Trace(oack_timeout),
    },
    Rule {
        id: "rfc2349/tsize-option/oack-tsize",
        level: Level::Must,
        clauses: &["rfc2349/tsize-option/rrq-size-returned", "rfc2347/packet-formats/oack-value-per-option"],
        summary: "An acknowledged tsize of a read is the file's size: the octets an octet-mode transfer then delivers",
        check: Check::Trace(oack_tsize),
    },
    Rule {
        id: "rfc2349/timeout-option/retransmit-after-timeout",
        level: Level::Must,
        clauses: &["rfc2349/timeout-option/seconds-before-retransmitting"],
        summary:
            "With a timeout agreed, an unacknowledged OACK or DATA is sent again after that many seconds, not sooner",
        check: Check::Trace(retransmit_after_timeout),
    },
];

fn oack_timeout(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        let Some((o, value)) = t.acked(OptionKind::Timeout) else { return Verdict::NotApplicable };
        let Some((p, _)) = t.oack() else { return Verdict::NotApplicable };
        // Not requested at all: the OACK-only-requested rule's business.
        let Some(asked) = t.requested_opt(OptionKind::Timeout) else { return Verdict::NotApplicable };
        let asked = asked.value_u64();
        let shown = String::from_utf8_lossy(o.value).into_owned();
        let Some(v) = value.filter(|v| (1..=255).contains(v)) else {
            return fail_at(p, None, "OACK timeout", "a number from 1 to 255", shown);
        };
        match asked {
            Some(a) if a == v => Verdict::Pass,
            Some(a) => fail_at(p, None, "OACK timeout", format!("{a} (the requested value)"), v),
            None => fail_at(p, None, "OACK timeout", "none: the requested value is not a valid timeout", v),
        }
    })
}

fn oack_tsize(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        let Some((o, value)) = t.acked(OptionKind::Tsize) else { return Verdict::NotApplicable };
        let Some((p, _)) = t.oack() else { return Verdict::NotApplicable };
        let Some(size) = value else {
            return fail_at(p, None, "OACK tsize", "the file size, a decimal number", String::from_utf8_lossy(o.value));
        };
        // The delivered size is known once the last block came, in octet mode (a
        // netascii file's size on the wire is not the file's).
        if t.mode() != Some(TransferMode::Octet) || t.short_block().is_none() {
            return Verdict::Pass;
        }
        let mut b = Blocks::default();
        let mut total: u64 = 0;
        for d in t.server().filter(|d| d.is(Opcode::Data)) {
            if let Some((_, true)) = d.block().and_then(|w| b.data(w)) {
                total += d.data().len() as u64;
            }
        }
        if total == size {
            Verdict::Pass
        } else {
            fail_at(p, None, "OACK tsize", format!("{total} (the octets the transfer delivered)"), size)
        }
    })
}

fn retransmit_after_timeout(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        let Some((_, Some(secs))) = t.acked(OptionKind::Timeout) else { return Verdict::NotApplicable };
        if !(1..=255).contains(&secs) {
            return Verdict::NotApplicable;
        }
        let timeout = Duration::from_secs(secs);
        // Not sooner than the timeout, less a tenth and 50 ms of timer slack.
        let floor = timeout.saturating_sub(timeout / 10).saturating_sub(Duration::from_millis(50));
        let mut b = Blocks::default();
        // The last send of each count (0: the OACK), and whether the client sent
        // anything since.
        let mut last: HashMap<u64, Duration> = HashMap::new();
        let mut client_since: HashMap<u64, bool> = HashMap::new();
        let mut checked = false;
        for p in &t.pkts {
            let count = match p.who {
                Who::Client => {
                    if let (true, Some(w)) = (p.is(Opcode::Ack), p.block()) {
                        b.ack(w);
                    }
                    for s in client_since.values_mut() {
                        *s = true;
                    }
                    continue;
                }
                Who::Server if p.is(Opcode::Oack) => 0,
                Who::Server if p.is(Opcode::Data) => match p.block().and_then(|w| b.data(w)) {
                    Some((c, _)) => c,
                    None => continue,
                },
                _ => continue,
            };
            let prev = last.insert(count, p.at());
            let answered = client_since.insert(count, false).unwrap_or(true);
            let Some(prev) = prev else { continue };
            if answered {
                // Something from the client came between: not a timeout.
                continue;
            }
            checked = true;
            let gap = p.at().saturating_sub(prev);
            if gap < floor {
                let what =
                    if count == 0 { "OACK".to_string() } else { format!("DATA block {}", p.block().unwrap_or(0)) };
                return fail_at(
                    p,
                    Some(0),
                    format!("{what} sent again"),
                    format!("after the negotiated timeout of {secs} s"),
                    format!("after {}", ms(gap)),
                );
            }
        }
        if checked {
            Verdict::Pass
        } else {
            Verdict::NotApplicable
        }
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use crate::testkit::{Crafted, TftpTrace};

    pub(crate) fn fails_on_a_crafted_trace() -> Vec<(&'static str, Crafted)> {
        vec![
            (
                "rfc2349/timeout-option/oack-timeout",
                Crafted::Tftp(TftpTrace::read(2000).options(&[("timeout", "3")]).oack(&[("timeout", "5")])),
            ),
            (
                "rfc2349/timeout-option/oack-timeout",
                Crafted::Tftp(TftpTrace::read(2000).options(&[("timeout", "0")]).oack(&[("timeout", "0")])),
            ),
            (
                "rfc2349/tsize-option/oack-tsize",
                Crafted::Tftp(TftpTrace::read(2000).options(&[("tsize", "0")]).oack(&[("tsize", "1999")])),
            ),
            (
                "rfc2349/tsize-option/oack-tsize",
                Crafted::Tftp(TftpTrace::read(2000).options(&[("tsize", "0")]).oack(&[("tsize", "big")])),
            ),
            (
                "rfc2349/timeout-option/retransmit-after-timeout",
                Crafted::Tftp(
                    TftpTrace::read(2000)
                        .options(&[("timeout", "3")])
                        .oack(&[("timeout", "3")])
                        .drop_ack(2)
                        .retransmit_after(Duration::from_millis(1000)),
                ),
            ),
        ]
    }

    /// Correct timeout and tsize reads: acknowledged, honoured on a lost ACK, or not
    /// acknowledged.
    pub(crate) fn passes_on_correct_exchanges() -> Vec<(&'static str, Crafted)> {
        vec![
            (
                "timeout acknowledged",
                Crafted::Tftp(TftpTrace::read(2000).options(&[("timeout", "3")]).oack(&[("timeout", "3")])),
            ),
            (
                "tsize answered with the size",
                Crafted::Tftp(TftpTrace::read(2000).options(&[("tsize", "0")]).oack(&[("tsize", "2000")])),
            ),
            (
                "a retransmission after the agreed timeout",
                Crafted::Tftp(
                    TftpTrace::read(2000)
                        .options(&[("timeout", "2")])
                        .oack(&[("timeout", "2")])
                        .drop_ack(2)
                        .retransmit_after(Duration::from_millis(2000)),
                ),
            ),
            (
                "timeout not acknowledged: the server's own timing",
                Crafted::Tftp(
                    TftpTrace::read(2000)
                        .options(&[("timeout", "3")])
                        .drop_ack(2)
                        .retransmit_after(Duration::from_millis(500)),
                ),
            ),
        ]
    }

    #[test]
    fn timeout_and_tsize_reads_pass() {
        for (what, c) in passes_on_correct_exchanges() {
            c.assert_passes_all(what);
        }
    }
}
