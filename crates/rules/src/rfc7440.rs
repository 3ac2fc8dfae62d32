//! RFC 7440 (TFTP Windowsize Option): the `windowsize` a server acknowledges, and the
//! windows it then sends. Trace rules over the transfers `rfc1350` finds.

use bootcheck_wire::tftp::{Opcode, OptionKind};

use crate::rfc1350::{each, fail_at, Blocks, Who};
use crate::{Check, Level, Rule, TraceView, Verdict};

pub static RULES: &[Rule] = &[
    Rule {
        id: "rfc7440/3/oack-windowsize",
        level: Level::Must,
        clauses: &["rfc7440/3/oack-not-larger", "rfc7440/3/valid-range", "rfc2347/packet-formats/oack-value-per-option"],
        summary: "An acknowledged windowsize is a number from 1 to 65535, no larger than the requested one",
        check: Check::Trace(oack_windowsize),
    },
    Rule {
        id: "rfc7440/4/send-window",
        level: Level::Must,
        clauses: &["rfc7440/4/send-window"],
        summary: "With windowsize W agreed, the server sends W blocks (fewer only at the end) and no more before the window's ACK",
        check: Check::Trace(send_window),
    },
    Rule {
        id: "rfc7440/4/resend-from-last-ack",
        level: Level::Must,
        clauses: &["rfc7440/4/timeout-restarts-at-last-ack", "rfc7440/4/window-from-out-of-sequence-ack"],
        summary: "With a windowsize agreed, blocks are sent again from the one after the last acknowledged",
        check: Check::Trace(resend_from_last_ack),
    },
];

fn oack_windowsize(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        let Some((o, value)) = t.acked(OptionKind::Windowsize) else { return Verdict::NotApplicable };
        let Some((p, _)) = t.oack() else { return Verdict::NotApplicable };
        // Not requested at all: the OACK-only-requested rule's business.
        let Some(asked) = t.requested_opt(OptionKind::Windowsize) else { return Verdict::NotApplicable };
        let asked = asked.value_u64();
        let Some(v) = value.filter(|v| (1..=65535).contains(v)) else {
            return fail_at(p, None, "OACK windowsize", "a number from 1 to 65535", String::from_utf8_lossy(o.value));
        };
        match asked {
            Some(a) if v > a => fail_at(p, None, "OACK windowsize", format!("at most {a} (the requested value)"), v),
            None => fail_at(p, None, "OACK windowsize", "none: the requested value is not a valid windowsize", v),
            _ => Verdict::Pass,
        }
    })
}

fn send_window(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        let Some((_, Some(w))) = t.acked(OptionKind::Windowsize) else { return Verdict::NotApplicable };
        if w == 0 {
            return Verdict::NotApplicable;
        }
        let bs = t.blksize();
        let mut b = Blocks::default();
        let mut any = false;
        // New blocks sent since the last advancing ACK, and whether the last was full.
        let mut window_start = 0u64;
        let mut last_full = false;
        let mut server_since_ack = false;
        for p in &t.pkts {
            match p.who {
                Who::Client if p.is(Opcode::Ack) => {
                    let Some(wb) = p.block() else { continue };
                    let Some((_, advanced)) = b.ack(wb) else { continue };
                    if advanced {
                        window_start = b.acked;
                    } else if any
                        && !server_since_ack
                        && last_full
                        && b.sent < window_start + w
                        && b.sent > window_start
                    {
                        // The client asked again: the server stopped short of a window.
                        return fail_at(
                            p,
                            Some(2),
                            "window",
                            format!("{w} blocks after the ACK of block {}", window_start & 0xffff),
                            format!("{} blocks, then nothing until the client asked again", b.sent - window_start),
                        );
                    }
                    server_since_ack = false;
                }
                Who::Server if p.is(Opcode::Data) => {
                    server_since_ack = true;
                    let Some(wb) = p.block() else { continue };
                    let acked = b.acked;
                    if let Some((count, true)) = b.data(wb) {
                        any = true;
                        last_full = p.data().len() >= bs;
                        if count > acked + w {
                            return fail_at(
                                p,
                                Some(2),
                                "DATA beyond the window",
                                format!(
                                    "at most block {} before the ACK of block {}",
                                    (acked + w) & 0xffff,
                                    (acked + w) & 0xffff
                                ),
                                format!("block {wb} with the last ACK for block {}", acked & 0xffff),
                            );
                        }
                    }
                }
                Who::Server => server_since_ack = true,
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

fn resend_from_last_ack(v: &TraceView<'_>) -> Verdict {
    each(v, |t| {
        if t.acked(OptionKind::Windowsize).is_none() {
            return Verdict::NotApplicable;
        }
        let mut b = Blocks::default();
        let mut prev: Option<u64> = None;
        let mut checked = false;
        for p in &t.pkts {
            match p.who {
                Who::Client if p.is(Opcode::Ack) => {
                    if let Some(w) = p.block() {
                        b.ack(w);
                    }
                }
                Who::Server if p.is(Opcode::Data) => {
                    let Some(w) = p.block() else { continue };
                    let acked = b.acked;
                    let Some((c, new)) = b.data(w) else { continue };
                    if !new && prev != Some(c - 1) {
                        checked = true;
                        if c != acked + 1 {
                            return fail_at(
                                p,
                                Some(2),
                                "first block sent again",
                                format!(
                                    "block {} (after the last acknowledged, {})",
                                    (acked + 1) & 0xffff,
                                    acked & 0xffff
                                ),
                                format!("block {w}"),
                            );
                        }
                    }
                    prev = Some(c);
                }
                _ => {}
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
    use crate::testkit::{Crafted, TftpTrace};

    fn windowed(size: usize, asked: &str, acked: &str) -> TftpTrace {
        TftpTrace::read(size).options(&[("windowsize", asked)]).oack(&[("windowsize", acked)])
    }

    pub(crate) fn fails_on_a_crafted_trace() -> Vec<(&'static str, Crafted)> {
        vec![
            ("rfc7440/3/oack-windowsize", Crafted::Tftp(windowed(5000, "4", "8").server_window(4))),
            ("rfc7440/3/oack-windowsize", Crafted::Tftp(windowed(5000, "0", "0").server_window(1))),
            ("rfc7440/4/send-window", Crafted::Tftp(windowed(5000, "4", "4").eager())),
            ("rfc7440/4/send-window", Crafted::Tftp(windowed(5000, "4", "4").short_windows())),
            ("rfc7440/4/resend-from-last-ack", Crafted::Tftp(windowed(5000, "2", "2").drop_ack(4).resend_back(1))),
        ]
    }

    /// Correct windowed reads: accepted and lowered windows, lost and repeated ACKs.
    pub(crate) fn passes_on_correct_exchanges() -> Vec<(&'static str, Crafted)> {
        vec![
            ("windowsize 4", Crafted::Tftp(windowed(5000, "4", "4"))),
            ("windowsize 8 lowered to 4", Crafted::Tftp(windowed(5000, "8", "4"))),
            ("a file of whole windows", Crafted::Tftp(windowed(2048, "4", "4"))),
            ("a lost ACK, the window resent", Crafted::Tftp(windowed(5000, "4", "4").drop_ack(4))),
            ("windowsize 1", Crafted::Tftp(windowed(5000, "1", "1"))),
            ("a duplicate ACK", Crafted::Tftp(windowed(5000, "4", "4").duplicate_ack(4))),
            // The repeated ACK answered with the window again at once (RFC 7440 §4),
            // which in lock step would be the Sorcerer's Apprentice.
            (
                "a duplicate ACK answered with the window again",
                Crafted::Tftp(windowed(5000, "4", "4").duplicate_ack(4).sorcerer()),
            ),
        ]
    }

    #[test]
    fn windowed_reads_pass() {
        for (what, c) in passes_on_correct_exchanges() {
            c.assert_passes_all(what);
        }
    }
}
