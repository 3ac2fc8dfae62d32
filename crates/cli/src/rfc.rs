//! `bootcheck rfc`: clause traceability. Every clause of the RFCs in scope (the
//! `bootcheck-rules` clause files), with the rules that enforce it on every reply and
//! the scenarios that prove it (`covers:`), and the coverage of the in-scope MUST /
//! MUST NOT clauses.

use std::collections::BTreeMap;
use std::path::PathBuf;

use bootcheck_rules::clauses::{self, Clause};
use bootcheck_rules::Level;
use serde_json::json;

use crate::{EXIT_FAIL, EXIT_INPUT, EXIT_OK};

#[derive(Debug, clap::Args)]
pub struct RfcArgs {
    /// Scenario files or directories whose `covers:` count (default: scenarios/).
    pub paths: Vec<PathBuf>,
    #[arg(long)]
    pub site: Option<PathBuf>,
    /// Only this specification (`rfc951`, `rfc1542`, …).
    #[arg(long)]
    pub spec: Option<String>,
    /// List only in-scope clauses nothing covers.
    #[arg(long)]
    pub uncovered: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Exit 1 when in-scope MUST/MUST NOT coverage is below this percentage.
    #[arg(long)]
    pub min_coverage: Option<f64>,
}

/// One clause with what covers it.
struct Row<'a> {
    clause: &'a Clause,
    rules: Vec<&'static str>,
    scenarios: Vec<String>,
}

impl Row<'_> {
    fn covered(&self) -> bool {
        !self.rules.is_empty() || !self.scenarios.is_empty()
    }
}

fn mandatory(l: Level) -> bool {
    l.is_mandatory()
}

pub fn rfc(args: &RfcArgs) -> u8 {
    let problems = clauses::problems();
    if !problems.is_empty() {
        for p in problems {
            eprintln!("error: {p}");
        }
        return EXIT_INPUT;
    }
    let (_, _, scns) = match crate::run::load_all(&args.paths, args.site.as_deref()) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let mut covers: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut bad = Vec::new();
    for (path, s) in &scns {
        for c in &s.covers {
            if clauses::by_id().contains_key(c) {
                covers.entry(c.as_str()).or_default().push(s.id.clone());
            } else {
                bad.push(format!(
                    "{}: scenario {} covers `{c}`, which is no clause id (see `bootcheck rfc`)",
                    path.display(),
                    s.id
                ));
            }
        }
    }
    if !bad.is_empty() {
        for b in bad {
            eprintln!("error: {b}");
        }
        return EXIT_INPUT;
    }
    let specs: Vec<_> = clauses::specs()
        .iter()
        .filter(|s| {
            args.spec.as_deref().is_none_or(|w| {
                w.eq_ignore_ascii_case(&s.prefix) || (s.rfc != 0 && w.trim_start_matches("rfc") == s.rfc.to_string())
            })
        })
        .collect();
    if specs.is_empty() {
        eprintln!(
            "error: no specification `{}`; known: {}",
            args.spec.as_deref().unwrap_or(""),
            clauses::specs().iter().map(|s| s.prefix.as_str()).collect::<Vec<_>>().join(", ")
        );
        return EXIT_INPUT;
    }
    let mut rows_by_spec = Vec::new();
    for s in &specs {
        let rows: Vec<Row<'_>> = s
            .clauses
            .iter()
            .map(|c| Row {
                clause: c,
                rules: clauses::rules_for(&c.id).iter().map(|r| r.id).collect(),
                scenarios: covers.get(c.id.as_str()).cloned().unwrap_or_default(),
            })
            .collect();
        rows_by_spec.push((*s, rows));
    }
    // Coverage of the in-scope MUST / MUST NOT and SHOULD clauses.
    let count = |pred: &dyn Fn(&Row<'_>) -> bool| -> (usize, usize) {
        let all: Vec<&Row<'_>> = rows_by_spec.iter().flat_map(|(_, r)| r.iter()).filter(|r| pred(r)).collect();
        (all.iter().filter(|r| r.covered()).count(), all.len())
    };
    let (must_cov, must_all) = count(&|r| r.clause.in_scope && mandatory(r.clause.level));
    let (should_cov, should_all) =
        count(&|r| r.clause.in_scope && matches!(r.clause.level, Level::Should | Level::ShouldNot));
    let pct = |a: usize, b: usize| if b == 0 { 100.0 } else { 100.0 * a as f64 / b as f64 };
    if args.json {
        let v = json!({
            "coverage": {
                "must": { "covered": must_cov, "total": must_all, "percent": pct(must_cov, must_all) },
                "should": { "covered": should_cov, "total": should_all, "percent": pct(should_cov, should_all) },
            },
            "specs": rows_by_spec.iter().map(|(s, rows)| json!({
                "rfc": (s.rfc != 0).then_some(s.rfc), "spec": s.prefix, "title": s.title,
                "clauses": rows.iter().map(|r| json!({
                    "id": r.clause.id, "section": r.clause.section, "level": r.clause.level.as_str(),
                    "role": r.clause.role, "in_scope": r.clause.in_scope, "text": r.clause.text,
                    "rules": r.rules, "scenarios": r.scenarios, "covered": r.covered(),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        for (s, rows) in &rows_by_spec {
            println!("{} — {}", s.name(), s.title);
            for r in rows {
                let c = r.clause;
                if args.uncovered
                    && (!c.in_scope
                        || r.covered()
                        || !matches!(c.level, Level::Must | Level::MustNot | Level::Should | Level::ShouldNot))
                {
                    continue;
                }
                let mark = if !c.in_scope {
                    "  -  "
                } else if r.covered() {
                    " ok  "
                } else if mandatory(c.level) {
                    " GAP "
                } else {
                    "  .  "
                };
                println!("{mark} {:<52} {:<10} {:<6} §{}", c.id, c.level.as_str(), c.role, c.section);
                if !r.rules.is_empty() {
                    println!("        rules: {}", r.rules.join(", "));
                }
                if !r.scenarios.is_empty() {
                    println!("        scenarios: {}", r.scenarios.join(", "));
                }
                if !c.in_scope {
                    println!("        out of scope: {}", c.observable);
                }
            }
            println!();
        }
        println!(
            "coverage: in-scope MUST/MUST NOT {must_cov}/{must_all} ({:.1}%), SHOULD/SHOULD NOT {should_cov}/{should_all} ({:.1}%); {} rules, {} scenarios",
            pct(must_cov, must_all),
            pct(should_cov, should_all),
            bootcheck_rules::catalogue().len(),
            scns.len()
        );
        println!("legend: ok covered · GAP in-scope MUST/MUST NOT with no rule or scenario · . uncovered SHOULD/MAY · - out of scope");
    }
    match args.min_coverage {
        Some(min) if pct(must_cov, must_all) + 1e-9 < min => {
            eprintln!("error: MUST/MUST NOT coverage {:.1}% is below --min-coverage {min}", pct(must_cov, must_all));
            EXIT_FAIL
        }
        _ => EXIT_OK,
    }
}
