//! `bootcheck-rules`: what the RFCs demand of **every** BOOTP reply (and every relayed
//! message) the harness sees, in every mode — live lab, in-process, offline capture;
//! and what Apple's BSDP (not an RFC: rule ids `bsdp/…`) demands of a BSDP reply.
//!
//! A scenario's expectations say what one test wants; a [`Rule`] says what a clause of
//! RFC 951, 1542, 1534 or 2132 requires of any reply at all. Each rule has a stable id
//! (`rfc1542/5.4/broadcast-flag`), a [`Level`], the clause ids it enforces (the clause
//! list is data: `clauses/*.yaml`, quoted from the RFC texts, see [`clauses`]) and a
//! check over an observed exchange:
//!
//! * [`Check::Reply`] rules look at one request and one reply to it ([`Pair`]);
//! * [`Check::Relay`] rules look at a relayed exchange seen on both sides of a relay
//!   agent ([`RelayView`]).
//!
//! A check says [`Verdict::Pass`], [`Verdict::Fail`] with [`Evidence`] (packet number,
//! byte offset in the frame, field, expected vs seen), or [`Verdict::NotApplicable`].
//! Rules never panic and never allocate on the pass path beyond the result list; they
//! only read the frames through `bootcheck-wire`'s zero-copy views.
//!
//! Modules are named after the specification whose clauses they enforce.
#![forbid(unsafe_code)]

pub mod bsdp;
pub mod clauses;
pub mod rfc1350;
pub mod rfc1534;
pub mod rfc1542;
pub mod rfc2132;
pub mod rfc2347;
pub mod rfc2348;
pub mod rfc2349;
pub mod rfc7440;
pub mod rfc903;
pub mod rfc951;
mod view;

use std::fmt;
use std::sync::OnceLock;

pub use view::{Context, Msg, Pair, RelayContext, RelayView, TraceFrame, TraceView};

/// Requirement level of a rule (RFC 2119 key words; pre-2119 RFCs mapped, see
/// `clauses/README.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum Level {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "MUST NOT")]
    MustNot,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "SHOULD NOT")]
    ShouldNot,
    #[serde(rename = "MAY")]
    May,
}

impl Level {
    /// MUST and MUST NOT: what `bootcheck rfc` measures coverage of. (In a run, a
    /// failure of a rule of any level fails the scenario unless the target records it.)
    pub fn is_mandatory(self) -> bool {
        matches!(self, Level::Must | Level::MustNot)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::MustNot => "MUST NOT",
            Level::Should => "SHOULD",
            Level::ShouldNot => "SHOULD NOT",
            Level::May => "MAY",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a rule failed: where, and expected vs seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// Packet number (1-based, in the capture or the scenario's pcapng).
    pub packet: usize,
    /// Byte offset in that frame, when one field is at fault.
    pub offset: Option<usize>,
    /// The field or property (`reply.xid`, `ip.dst`, `option 51`).
    pub field: String,
    pub expected: String,
    pub seen: String,
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "packet {}", self.packet)?;
        if let Some(o) = self.offset {
            write!(f, " byte {o}")?;
        }
        write!(f, ": {}: expected {}, seen {}", self.field, self.expected, self.seen)
    }
}

/// The verdict of one rule on one exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail(Box<Evidence>),
    /// The rule does not apply (e.g. a delivery rule for the broadcast flag when the
    /// flag is clear).
    NotApplicable,
}

impl Verdict {
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail(_) => "fail",
            Verdict::NotApplicable => "n/a",
        }
    }
    pub fn is_fail(&self) -> bool {
        matches!(self, Verdict::Fail(_))
    }
}

/// Build a failing verdict.
pub(crate) fn fail(
    msg: &Msg<'_>,
    offset: Option<usize>,
    field: impl Into<String>,
    expected: impl fmt::Display,
    seen: impl fmt::Display,
) -> Verdict {
    Verdict::Fail(Box::new(Evidence {
        packet: msg.packet,
        offset,
        field: field.into(),
        expected: expected.to_string(),
        seen: seen.to_string(),
    }))
}

/// What a rule looks at.
#[derive(Clone, Copy)]
pub enum Check {
    /// One request and one reply to it.
    Reply(fn(&Pair<'_>) -> Verdict),
    /// One exchange seen on both sides of a relay agent.
    Relay(fn(&RelayView<'_>) -> Verdict),
    /// Every frame of a scenario or capture (things that must never be on the wire;
    /// the TFTP rules find each transfer in it themselves).
    Trace(fn(&TraceView<'_>) -> Verdict),
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Check::Reply(_) => "Check::Reply",
            Check::Relay(_) => "Check::Relay",
            Check::Trace(_) => "Check::Trace",
        })
    }
}

/// One rule of the catalogue.
#[derive(Debug)]
pub struct Rule {
    /// Stable id: `<spec>/<section>/<slug>`.
    pub id: &'static str,
    pub level: Level,
    /// The clause ids (in `clauses/*.yaml`) this rule enforces.
    pub clauses: &'static [&'static str],
    /// One line: what every reply must do.
    pub summary: &'static str,
    pub check: Check,
}

impl Rule {
    /// The specification module (`rfc951`, …): the id's first component.
    pub fn spec(&self) -> &'static str {
        self.id.split('/').next().unwrap_or(self.id)
    }
}

/// Every rule, in catalogue order (by specification, then as written).
pub fn catalogue() -> &'static [&'static Rule] {
    static ALL: OnceLock<Vec<&'static Rule>> = OnceLock::new();
    ALL.get_or_init(|| {
        rfc951::RULES
            .iter()
            .chain(rfc1542::RULES)
            .chain(rfc1534::RULES)
            .chain(rfc2132::RULES)
            .chain(bsdp::RULES)
            .chain(rfc1350::RULES)
            .chain(rfc2347::RULES)
            .chain(rfc2348::RULES)
            .chain(rfc2349::RULES)
            .chain(rfc7440::RULES)
            .chain(rfc903::RULES)
            .collect()
    })
}

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    catalogue().iter().copied().find(|r| r.id == id)
}

/// One rule's verdict on one exchange.
#[derive(Debug, Clone)]
pub struct RuleResult {
    pub rule: &'static Rule,
    pub verdict: Verdict,
}

/// Run every reply rule on a request/reply pair.
pub fn check_pair(pair: &Pair<'_>) -> Vec<RuleResult> {
    catalogue()
        .iter()
        .filter_map(|r| match r.check {
            Check::Reply(f) => Some(RuleResult { rule: r, verdict: f(pair) }),
            Check::Relay(_) | Check::Trace(_) => None,
        })
        .collect()
}

/// Run every relay rule on a relayed exchange.
pub fn check_relay(v: &RelayView<'_>) -> Vec<RuleResult> {
    catalogue()
        .iter()
        .filter_map(|r| match r.check {
            Check::Relay(f) => Some(RuleResult { rule: r, verdict: f(v) }),
            Check::Reply(_) | Check::Trace(_) => None,
        })
        .collect()
}

/// Run every trace rule over a whole trace.
pub fn check_trace(v: &TraceView<'_>) -> Vec<RuleResult> {
    catalogue()
        .iter()
        .filter_map(|r| match r.check {
            Check::Trace(f) => Some(RuleResult { rule: r, verdict: f(v) }),
            Check::Reply(_) | Check::Relay(_) => None,
        })
        .collect()
}

/// `a.b.c.d` of four octets.
pub(crate) fn ip(b: std::net::Ipv4Addr) -> String {
    b.to_string()
}

/// `aa:bb:…` of octets.
pub(crate) fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{x:02x}"));
    }
    s
}

#[cfg(test)]
pub(crate) mod testkit;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// Every rule of the catalogue is made to fail by a crafted exchange (and only
    /// that rule, or a listed collateral one), and no crafted case names a rule that
    /// does not exist. The passing side is the next test.
    #[test]
    fn every_rule_fails_on_its_crafted_defect() {
        let all = [
            crate::rfc951::tests::fails_on_a_crafted_reply(),
            crate::rfc1542::tests::server_rule_fails_on_a_crafted_reply(),
            crate::rfc1542::tests::relay_rule_fails_on_a_crafted_exchange(),
            crate::rfc1534::tests::fails_on_a_crafted_reply(),
            crate::rfc2132::tests::fails_on_a_crafted_reply(),
            crate::bsdp::tests::fails_on_a_crafted_reply(),
            crate::rfc951::tests::fails_on_a_crafted_trace(),
            crate::rfc1542::tests::fails_on_a_crafted_trace(),
            crate::rfc1350::tests::fails_on_a_crafted_trace(),
            crate::rfc2347::tests::fails_on_a_crafted_trace(),
            crate::rfc2348::tests::fails_on_a_crafted_trace(),
            crate::rfc2349::tests::fails_on_a_crafted_trace(),
            crate::rfc7440::tests::fails_on_a_crafted_trace(),
            crate::rfc903::tests::fails_on_a_crafted_trace(),
        ]
        .concat();
        let mut covered = BTreeSet::new();
        for (id, case) in &all {
            assert!(crate::rule(id).is_some(), "crafted case for unknown rule {id}");
            case.assert_fails(id);
            covered.insert(*id);
        }
        let missing: Vec<_> = crate::catalogue().iter().map(|r| r.id).filter(|id| !covered.contains(id)).collect();
        assert!(missing.is_empty(), "rules without a crafted failing case: {missing:?}");
    }

    /// The mirror of the test above: every rule of the catalogue passes on some
    /// correct exchange, and no rule fails on any of them. A rule that only ever says
    /// "not applicable" to correct behaviour is a rule nothing shows to work.
    #[test]
    fn every_rule_passes_on_a_correct_exchange() {
        let all = [
            ("rfc951", crate::rfc951::tests::passes_on_correct_exchanges()),
            ("rfc1542", crate::rfc1542::tests::passes_on_correct_exchanges()),
            ("rfc1534", crate::rfc1534::tests::passes_on_correct_exchanges()),
            ("rfc2132", crate::rfc2132::tests::passes_on_correct_exchanges()),
            ("bsdp", crate::bsdp::tests::passes_on_correct_exchanges()),
            ("rfc1350", crate::rfc1350::tests::passes_on_correct_exchanges()),
            ("rfc2347", crate::rfc2347::tests::passes_on_correct_exchanges()),
            ("rfc2348", crate::rfc2348::tests::passes_on_correct_exchanges()),
            ("rfc2349", crate::rfc2349::tests::passes_on_correct_exchanges()),
            ("rfc7440", crate::rfc7440::tests::passes_on_correct_exchanges()),
            ("rfc903", crate::rfc903::tests::passes_on_correct_exchanges()),
        ];
        let mut passed = BTreeSet::new();
        let mut failed = Vec::new();
        for (module, exchanges) in &all {
            for (what, case) in exchanges {
                for r in case.results() {
                    match &r.verdict {
                        crate::Verdict::Pass => {
                            passed.insert(r.rule.id);
                        }
                        crate::Verdict::Fail(e) => failed.push(format!("{module}: {what}: {}: {e}", r.rule.id)),
                        crate::Verdict::NotApplicable => {}
                    }
                }
            }
        }
        assert!(failed.is_empty(), "rules failing on a correct exchange:\n{}", failed.join("\n"));
        let never: Vec<_> = crate::catalogue().iter().map(|r| r.id).filter(|id| !passed.contains(id)).collect();
        assert!(never.is_empty(), "rules that pass on no correct exchange ({}): {never:#?}", never.len());
    }

    #[test]
    fn rule_ids_are_unique_and_name_their_module() {
        let mut seen = BTreeSet::new();
        for r in crate::catalogue() {
            assert!(seen.insert(r.id), "duplicate rule id {}", r.id);
            assert!(r.id.split('/').count() >= 2 && (r.id.starts_with("rfc") || r.id.starts_with("bsdp/")), "{}", r.id);
            assert!(
                crate::clauses::specs().iter().any(|s| s.prefix == r.spec()),
                "{}: no clause file {}",
                r.id,
                r.spec()
            );
        }
    }
}
