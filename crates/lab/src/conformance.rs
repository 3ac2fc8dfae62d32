//! The rule catalogue (`bootcheck-rules`) applied to every exchange a scenario
//! produced: each BOOTREPLY in the trace is paired with the request it answers (same
//! xid and chaddr, latest before it), every reply rule runs on the pair, and the
//! verdicts are folded per rule for the scenario (fail beats pass beats n/a; the first
//! failure's evidence is kept). Packet numbers are positions in the scenario's pcapng.

use std::collections::BTreeMap;

use bootcheck_rules::{Context, Msg, Pair, Verdict};
use bootcheck_scenario::engine::{Dir, ExecutionResult};
use bootcheck_wire::frame::LinkType;
use serde::Serialize;

/// One rule's verdict over one scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRecord {
    pub rule: String,
    pub level: String,
    /// `pass` or `fail` (rules that never applied are not recorded).
    pub verdict: String,
    /// How many request/reply pairs it was checked on.
    pub checked: usize,
    /// For a failure: packet, byte offset, expected vs seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// The first failing packet's number in the scenario's pcapng.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packet: Option<usize>,
    /// The target profile records this failure as a known deviation, with the reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deviation: Option<String>,
}

impl RuleRecord {
    pub fn failed(&self) -> bool {
        self.verdict == "fail"
    }
    /// A failure the target profile does not record: it makes the run fail.
    pub fn unrecorded_failure(&self) -> bool {
        self.failed() && self.deviation.is_none()
    }
}

/// Request/reply pairs of a scenario's trace (indices into `msgs`, which carry the
/// trace entry's direction and step). A frame the harness received from port 67 in a
/// step answers the step's latest BOOTREQUEST when it carries its xid or its chaddr
/// (the engine's own matching), so a reply with a wrong xid is still judged — by the
/// rule about xids.
pub fn pair_up(msgs: &[(Dir, Option<usize>, Msg<'_>)]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, (dir, step, r)) in msgs.iter().enumerate() {
        if *dir != Dir::In
            || step.is_none()
            || r.ports().is_none_or(|(src, _)| src != bootcheck_wire::bootp::SERVER_PORT)
        {
            continue;
        }
        let Some(rb) = r.bootp.as_ref() else { continue };
        let q = msgs[..i].iter().rposition(|(d, s, q)| *d == Dir::Out && s == step && q.is_request());
        let Some(q) = q else { continue };
        let Some(qb) = msgs[q].2.bootp.as_ref() else { continue };
        let hlen = usize::from(qb.hlen()).min(16);
        let same_chaddr = qb.chaddr_field().get(..hlen) == rb.chaddr_field().get(..hlen);
        if qb.xid() == rb.xid() || same_chaddr {
            out.push((q, i));
        }
    }
    out
}

/// Run the catalogue over a scenario's trace. `deviations`: rule id → why, from the
/// target profile.
pub fn check(result: &ExecutionResult, deviations: &BTreeMap<String, String>, ctx: &Context) -> Vec<RuleRecord> {
    let msgs: Vec<(Dir, Option<usize>, Msg<'_>)> = result
        .trace
        .iter()
        .enumerate()
        .filter_map(|(i, t)| Some((t.dir, t.step, Msg::parse(i + 1, t.at, LinkType::Ethernet, &t.frame)?)))
        .collect();
    let mut fold = Folder::default();
    for (q, r) in pair_up(&msgs) {
        let pair = Pair { request: &msgs[q].2, reply: &msgs[r].2, ctx };
        for res in bootcheck_rules::check_pair(&pair) {
            fold.add(&res, deviations);
        }
    }
    // Rules over the whole trace (fragments, ICMP errors, TFTP, RARP).
    let frames = trace_frames(result.trace.iter().map(|t| (t.at, t.dir == Dir::Out, t.frame.as_slice())));
    for res in bootcheck_rules::check_trace(&bootcheck_rules::TraceView::new(&frames, ctx.checksums_meaningful)) {
        fold.add(&res, deviations);
    }
    fold.done()
}

/// Parsed trace frames, numbered from 1 in order.
fn trace_frames<'a>(
    frames: impl Iterator<Item = (std::time::Duration, bool, &'a [u8])>,
) -> Vec<bootcheck_rules::TraceFrame<'a>> {
    frames
        .enumerate()
        .filter_map(|(i, (at, sent, bytes))| {
            Some(bootcheck_rules::TraceFrame {
                packet: i + 1,
                at,
                sent,
                frame: bootcheck_wire::frame::Frame::parse(LinkType::Ethernet, bytes).ok()?,
                bytes,
            })
        })
        .collect()
}

/// Recorded rule deviations that did not happen: the rule was checked in this run
/// and passed every time. (A deviation whose rule never applied says nothing.)
pub fn stale_deviations<'a>(
    records: impl IntoIterator<Item = &'a RuleRecord>,
    deviations: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut passed: BTreeMap<&str, bool> = BTreeMap::new();
    for r in records {
        let e = passed.entry(r.rule.as_str()).or_insert(true);
        *e &= !r.failed();
    }
    deviations.keys().filter(|k| passed.get(k.as_str()) == Some(&true)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(rule: &str, verdict: &str) -> RuleRecord {
        RuleRecord {
            rule: rule.into(),
            level: "MUST".into(),
            verdict: verdict.into(),
            checked: 1,
            evidence: None,
            packet: None,
            deviation: None,
        }
    }

    #[test]
    fn a_deviation_is_stale_only_when_its_rule_passed_everywhere() {
        let dev: BTreeMap<String, String> =
            [("a".to_string(), "x".to_string()), ("b".into(), "y".into()), ("c".into(), "z".into())].into();
        let recs = [rec("a", "pass"), rec("a", "pass"), rec("b", "pass"), rec("b", "fail")];
        assert_eq!(stale_deviations(&recs, &dev), vec!["a".to_string()]);
    }
}

/// Fold rule results per rule (fail beats pass; the first failure's evidence kept).
#[derive(Debug, Default)]
struct Folder {
    folded: BTreeMap<&'static str, RuleRecord>,
}

impl Folder {
    fn add(&mut self, res: &bootcheck_rules::RuleResult, deviations: &BTreeMap<String, String>) {
        if res.verdict == Verdict::NotApplicable {
            return;
        }
        let e = self.folded.entry(res.rule.id).or_insert_with(|| RuleRecord {
            rule: res.rule.id.to_string(),
            level: res.rule.level.to_string(),
            verdict: "pass".into(),
            checked: 0,
            evidence: None,
            packet: None,
            deviation: None,
        });
        e.checked += 1;
        if let Verdict::Fail(ev) = &res.verdict {
            if !e.failed() {
                e.verdict = "fail".into();
                e.evidence = Some(ev.to_string());
                e.packet = Some(ev.packet);
                e.deviation = deviations.get(res.rule.id).cloned();
            }
        }
    }
    fn done(self) -> Vec<RuleRecord> {
        self.folded.into_values().collect()
    }
}

/// Run the catalogue over a relayed scenario: both links merged in time order
/// (packet numbers = positions in the list and in its pcapng). Reply rules judge the
/// server's replies to the forwarded requests (a server behind a real relay); relay
/// rules judge each client request's journey through the relay — except frames that
/// `raw` steps sent (`raw_steps`, 0-based): a raw frame is deliberately malformed input
/// (a fuzz reproducer), whose fate only the steps after it judge; trace rules see both
/// links.
pub fn check_relayed(
    frames: &[crate::relay::SeenFrame],
    raw_steps: &[usize],
    relay: &bootcheck_rules::RelayContext,
    ctx: &Context,
    deviations: &BTreeMap<String, String>,
) -> Vec<RuleRecord> {
    use crate::relay::Side;
    let msgs: Vec<Option<Msg<'_>>> =
        frames.iter().enumerate().map(|(i, f)| Msg::parse(i + 1, f.at, LinkType::Ethernet, &f.frame)).collect();
    let key = |m: &Msg<'_>| m.bootp.as_ref().map(|b| (b.xid(), b.chaddr_field().to_vec()));
    let is = |i: usize, side: Side, op: u8| {
        frames[i].side == side && msgs[i].as_ref().is_some_and(|m| m.payload.first() == Some(&op))
    };
    let mut fold = Folder::default();
    // The server behind the relay: each reply on the server link with the latest
    // forwarded request of the same xid and chaddr.
    for r in 0..frames.len() {
        if !is(r, Side::Server, 2) {
            continue;
        }
        let Some(k) = msgs[r].as_ref().and_then(key) else { continue };
        let q = (0..r).rev().find(|&q| is(q, Side::Server, 1) && msgs[q].as_ref().and_then(key).as_ref() == Some(&k));
        if let (Some(q), Some(rm)) = (q, msgs[r].as_ref()) {
            let Some(qm) = msgs[q].as_ref() else { continue };
            for res in bootcheck_rules::check_pair(&Pair { request: qm, reply: rm, ctx }) {
                fold.add(&res, deviations);
            }
        }
    }
    // The relay: each request the harness sent, followed through.
    for q in 0..frames.len() {
        if !(frames[q].sent && is(q, Side::Client, 1)) || frames[q].step.is_some_and(|s| raw_steps.contains(&s)) {
            continue;
        }
        let (Some(qm), Some(k)) = (msgs[q].as_ref(), msgs[q].as_ref().and_then(key)) else { continue };
        let same = |i: usize| msgs[i].as_ref().and_then(key).as_ref() == Some(&k);
        // Up to the next request with the same key (a retransmission starts anew).
        let end = (q + 1..frames.len())
            .find(|&i| frames[i].sent && is(i, Side::Client, 1) && same(i))
            .unwrap_or(frames.len());
        // Within the window, by key only: two links' clocks can disagree by a little.
        let fwd = (q + 1..end).find(|&i| is(i, Side::Server, 1) && same(i));
        let rep = fwd.and_then(|_| (q + 1..end).find(|&i| is(i, Side::Server, 2) && same(i)));
        let dlv = rep.and_then(|_| (q + 1..end).find(|&i| !frames[i].sent && is(i, Side::Client, 2) && same(i)));
        let view = bootcheck_rules::RelayView {
            request: qm,
            forwarded: fwd.and_then(|i| msgs[i].as_ref()),
            reply: rep.and_then(|i| msgs[i].as_ref()),
            delivered: dlv.and_then(|i| msgs[i].as_ref()),
            ctx: relay,
        };
        for res in bootcheck_rules::check_relay(&view) {
            fold.add(&res, deviations);
        }
    }
    // Both links as one trace.
    let tf = trace_frames(frames.iter().map(|f| (f.at, f.sent, f.frame.as_slice())));
    for res in bootcheck_rules::check_trace(&bootcheck_rules::TraceView::new(&tf, ctx.checksums_meaningful)) {
        fold.add(&res, deviations);
    }
    fold.done()
}
