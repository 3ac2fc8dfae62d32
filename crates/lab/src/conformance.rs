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
    let mut folded: BTreeMap<&'static str, RuleRecord> = BTreeMap::new();
    for (q, r) in pair_up(&msgs) {
        let pair = Pair { request: &msgs[q].2, reply: &msgs[r].2, ctx };
        for res in bootcheck_rules::check_pair(&pair) {
            if res.verdict == Verdict::NotApplicable {
                continue;
            }
            let e = folded.entry(res.rule.id).or_insert_with(|| RuleRecord {
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
    }
    // Rules over the whole trace (fragments, ICMP errors).
    let frames: Vec<bootcheck_rules::TraceFrame<'_>> = result
        .trace
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            Some(bootcheck_rules::TraceFrame {
                packet: i + 1,
                at: t.at,
                sent: t.dir == Dir::Out,
                frame: bootcheck_wire::frame::Frame::parse(LinkType::Ethernet, &t.frame).ok()?,
                bytes: &t.frame,
            })
        })
        .collect();
    for res in bootcheck_rules::check_trace(&bootcheck_rules::TraceView { frames: &frames }) {
        if res.verdict == Verdict::NotApplicable {
            continue;
        }
        let mut rec = RuleRecord {
            rule: res.rule.id.to_string(),
            level: res.rule.level.to_string(),
            verdict: "pass".into(),
            checked: 1,
            evidence: None,
            packet: None,
            deviation: None,
        };
        if let Verdict::Fail(ev) = &res.verdict {
            rec.verdict = "fail".into();
            rec.evidence = Some(ev.to_string());
            rec.packet = Some(ev.packet);
            rec.deviation = deviations.get(res.rule.id).cloned();
        }
        folded.insert(res.rule.id, rec);
    }
    folded.into_values().collect()
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
