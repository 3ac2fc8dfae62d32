//! Reports: one line per scenario with an expected-vs-actual diff on failure (human),
//! JSON, and JUnit XML.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use bootcheck_lab::run::ScenarioRun;
use bootcheck_scenario::engine::StepVerdict;
use bootcheck_scenario::verdict::Outcome;
use owo_colors::OwoColorize;
use serde_json::json;

/// Counts for the closing line.
#[derive(Debug, Default, Clone, Copy)]
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub deviations: usize,
    pub skipped: usize,
    pub errors: usize,
}

impl Totals {
    pub fn of(runs: &[ScenarioRun]) -> Totals {
        let mut t = Totals::default();
        for r in runs {
            match r.outcome {
                Outcome::Pass => t.passed += 1,
                Outcome::Fail { .. } | Outcome::UnexpectedPass { .. } | Outcome::RuleFail { .. } => t.failed += 1,
                Outcome::ExpectedFail { .. } => t.deviations += 1,
                Outcome::Skipped { .. } => t.skipped += 1,
                Outcome::Error { .. } => t.errors += 1,
            }
        }
        t
    }
    pub fn ok(&self) -> bool {
        self.failed == 0 && self.errors == 0
    }
}

fn ms(d: Duration) -> String {
    if d.as_millis() >= 1000 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// The one-line result of a scenario (human format).
pub fn line(r: &ScenarioRun, color: bool) -> String {
    let label = format!("{:<9}", r.outcome.label());
    let label = if !color {
        label
    } else {
        match r.outcome {
            Outcome::Pass => label.green().to_string(),
            Outcome::ExpectedFail { .. } | Outcome::Skipped { .. } => label.yellow().to_string(),
            _ => label.red().bold().to_string(),
        }
    };
    let mut s = format!("{label} {}  {} ({})", r.scenario.id, r.scenario.title, ms(r.duration));
    match &r.outcome {
        Outcome::ExpectedFail { step, why } => s.push_str(&format!("\n          step {step} deviates as recorded: {why}")),
        Outcome::Skipped { why } => s.push_str(&format!("\n          skipped: {why}")),
        Outcome::UnexpectedPass { why } => s.push_str(&format!(
            "\n          passed, but a deviation is recorded for {}: {why}\n          update or remove `deviations.{}` in {}",
            r.target,
            r.target,
            r.path.display()
        )),
        Outcome::Error { message } => s.push_str(&format!("\n          {message}")),
        Outcome::RuleFail { rules } => {
            for rule in rules {
                let text = format!("breaks {rule}");
                s.push_str(&format!("\n          {}", if color { text.red().to_string() } else { text }));
            }
            s.push_str(&format!(
                "\n          (`bootcheck rfc` shows each rule's clause; a known server deviation goes into the target profile's `rule-deviations`)"
            ));
        }
        Outcome::Fail { .. } => {
            if let Some(res) = &r.result {
                for st in &res.steps {
                    match &st.verdict {
                        StepVerdict::Pass => {}
                        StepVerdict::Error(e) => s.push_str(&format!("\n          step {} ({}): error: {e}", st.index + 1, st.name)),
                        StepVerdict::Fail(ms) => {
                            s.push_str(&format!("\n          step {} ({}):", st.index + 1, st.name));
                            for m in ms {
                                let exp = format!("- expected {}", m.expected);
                                let got = format!("+ got      {}", m.actual);
                                let (exp, got) = if color {
                                    (exp.green().to_string(), got.red().to_string())
                                } else {
                                    (exp, got)
                                };
                                s.push_str(&format!("\n            {}:\n              {exp}\n              {got}", m.field));
                            }
                        }
                    }
                }
            }
            if !r.scenario.cites.is_empty() {
                s.push_str(&format!("\n          cites: {}", r.scenario.cites.join(", ")));
            }
        }
        Outcome::Pass => {}
    }
    if !r.outcome.is_ok() {
        if let Some(p) = &r.pcap {
            s.push_str(&format!("\n          pcap: {}", p.display()));
        }
    }
    s
}

/// The JSON report.
pub fn json(runs: &[ScenarioRun], target: &str, mode: &str) -> serde_json::Value {
    let t = Totals::of(runs);
    json!({
        "target": target,
        "mode": mode,
        "totals": { "passed": t.passed, "failed": t.failed, "deviations": t.deviations, "skipped": t.skipped, "errors": t.errors },
        "scenarios": runs.iter().map(|r| {
            let steps: Vec<serde_json::Value> = r.result.as_ref().map(|res| res.steps.iter().map(|st| {
                let (verdict, mismatches, error) = match &st.verdict {
                    StepVerdict::Pass => ("pass", vec![], None),
                    StepVerdict::Fail(ms) => ("fail", ms.iter().map(|m| json!({"field": m.field, "expected": m.expected, "actual": m.actual})).collect(), None),
                    StepVerdict::Error(e) => ("error", vec![], Some(e.clone())),
                };
                json!({
                    "step": st.index + 1, "name": st.name, "verdict": verdict, "mismatches": mismatches, "error": error,
                    "sent": st.sent.len(), "received": st.received.len(),
                    "first_reply_ms": st.first_reply_after.map(|d| d.as_secs_f64() * 1000.0),
                })
            }).collect()).unwrap_or_default();
            json!({
                "id": r.scenario.id, "title": r.scenario.title, "file": r.path.display().to_string(),
                "cites": r.scenario.cites, "tags": r.scenario.tags, "outcome": r.outcome.label().to_lowercase(),
                "detail": match &r.outcome {
                    Outcome::ExpectedFail { why, .. } | Outcome::UnexpectedPass { why } | Outcome::Skipped { why } => Some(why.clone()),
                    Outcome::Error { message } => Some(message.clone()),
                    Outcome::RuleFail { rules } => Some(rules.join("; ")),
                    _ => None,
                },
                "duration_ms": r.duration.as_secs_f64() * 1000.0,
                "rules": r.rules,
                "pcap": r.pcap.as_ref().map(|p| p.display().to_string()),
                "steps": steps,
            })
        }).collect::<Vec<_>>(),
    })
}

/// The JUnit XML report.
pub fn junit(runs: &[ScenarioRun], target: &str) -> String {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("bootcheck");
    let mut suite = TestSuite::new(format!("bootcheck/{target}"));
    for r in runs {
        let status = match &r.outcome {
            Outcome::Pass | Outcome::ExpectedFail { .. } => TestCaseStatus::success(),
            Outcome::Skipped { .. } => TestCaseStatus::skipped(),
            Outcome::Error { message } => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_message(message.clone());
                s
            }
            Outcome::Fail { .. } | Outcome::UnexpectedPass { .. } | Outcome::RuleFail { .. } => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(format!("{} on {target}", r.outcome.label()));
                s.set_description(line(r, false));
                s
            }
        };
        let mut tc = TestCase::new(r.scenario.id.clone(), status);
        tc.set_classname(target.to_string());
        tc.set_time(r.duration);
        suite.add_test_case(tc);
    }
    report.add_test_suite(suite);
    report.to_string().unwrap_or_default()
}

/// Write report.json, junit.xml and each scenario's normalised decode into the out dir.
pub fn write_files(out: &Path, runs: &[ScenarioRun], target: &str, mode: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    let mut f = std::fs::File::create(out.join("report.json"))?;
    f.write_all(serde_json::to_string_pretty(&json(runs, target, mode)).unwrap_or_default().as_bytes())?;
    std::fs::write(out.join("junit.xml"), junit(runs, target))?;
    // Each scenario's normalised decode (the snapshot text), `decode/<id stem>.txt`.
    for r in runs.iter().filter(|r| !r.snapshot.is_empty()) {
        let dir = out.join("decode");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("{}.txt", bootcheck_lab::run::file_stem(&r.scenario.id))), &r.snapshot)?;
    }
    Ok(())
}
