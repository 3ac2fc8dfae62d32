//! A scenario's outcome on a target, with its recorded deviations taken into account.

use crate::engine::ExecutionResult;
use crate::model::{DeviationOutcome, Scenario};

/// The outcome of one scenario on one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// Failed, and no deviation is recorded for this target.
    Fail {
        step: usize,
    },
    /// Failed as recorded: the target's known deviation, with the reason.
    ExpectedFail {
        step: usize,
        why: String,
    },
    /// A deviation is recorded but the scenario passed: the record is stale.
    UnexpectedPass {
        why: String,
    },
    /// The expectations held, but replies broke rules of the RFC catalogue that the
    /// target's profile does not record (`rule — evidence` each).
    RuleFail {
        rules: Vec<String>,
    },
    /// Not run on this target, with the reason.
    Skipped {
        why: String,
    },
    /// The scenario could not run (bad variable, unbuildable packet, lab trouble).
    Error {
        message: String,
    },
}

impl Outcome {
    /// Whether this outcome keeps the run green.
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Pass | Outcome::ExpectedFail { .. } | Outcome::Skipped { .. })
    }
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail { .. } => "FAIL",
            Outcome::ExpectedFail { .. } => "deviation",
            Outcome::UnexpectedPass { .. } => "UNEXPECTED PASS",
            Outcome::RuleFail { .. } => "RULE FAIL",
            Outcome::Skipped { .. } => "skip",
            Outcome::Error { .. } => "ERROR",
        }
    }
}

/// Whether the scenario is to be skipped on `target`.
pub fn skip_reason(s: &Scenario, target: &str) -> Option<String> {
    s.deviations.get(target).filter(|d| d.outcome == DeviationOutcome::Skip).map(|d| d.why.clone())
}

/// Judge a finished execution.
pub fn judge(s: &Scenario, target: &str, r: &ExecutionResult) -> Outcome {
    if let Some(e) = r.steps.iter().find_map(|st| match &st.verdict {
        crate::engine::StepVerdict::Error(e) => Some(format!("step {}: {e}", st.index + 1)),
        _ => None,
    }) {
        return Outcome::Error { message: e };
    }
    let dev = s.deviations.get(target).filter(|d| d.outcome == DeviationOutcome::Fail);
    match (r.first_failure(), dev) {
        (None, None) => Outcome::Pass,
        (None, Some(d)) => Outcome::UnexpectedPass { why: d.why.clone() },
        (Some(step), None) => Outcome::Fail { step },
        (Some(step), Some(d)) if d.step.is_none_or(|s| s == step) => Outcome::ExpectedFail { step, why: d.why.clone() },
        (Some(step), Some(_)) => Outcome::Fail { step },
    }
}
