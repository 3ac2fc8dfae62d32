//! The clause list: every normative statement of the RFCs in scope, quoted from the
//! texts, with a stable id (`clauses/*.yaml`, embedded at build time). Rules name the
//! clauses they enforce; scenarios name the clauses they prove (`covers:`);
//! `bootcheck rfc` reports which clauses have neither.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Deserialize;

use crate::Level;

/// One normative statement.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Clause {
    /// `<rfcNNN>/<section>/<slug>`.
    pub id: String,
    pub section: String,
    pub level: Level,
    /// `server`, `relay` or `client`.
    pub role: String,
    /// Whether a black-box harness can check it on the wire.
    pub in_scope: bool,
    /// The RFC's words.
    pub text: String,
    /// How it shows on the wire (or why it does not).
    pub observable: String,
    /// RFC number, from the file.
    #[serde(skip)]
    pub rfc: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    rfc: u32,
    title: String,
    clauses: Vec<Clause>,
}

/// One specification's clause list.
#[derive(Debug, Clone)]
pub struct Spec {
    pub rfc: u32,
    pub title: String,
    pub clauses: Vec<Clause>,
}

const SOURCES: &[(&str, &str)] = &[
    ("clauses/rfc951.yaml", include_str!("../clauses/rfc951.yaml")),
    ("clauses/rfc1542.yaml", include_str!("../clauses/rfc1542.yaml")),
    ("clauses/rfc1534.yaml", include_str!("../clauses/rfc1534.yaml")),
    ("clauses/rfc2132.yaml", include_str!("../clauses/rfc2132.yaml")),
];

/// Parse one clause file (the embedded ones, or a file under test).
pub fn parse(name: &str, text: &str) -> Result<Spec, String> {
    let f: File = serde_yaml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
    let prefix = format!("rfc{}/", f.rfc);
    let mut clauses = f.clauses;
    for c in &mut clauses {
        if !c.id.starts_with(&prefix) {
            return Err(format!("{name}: clause id `{}` does not start with `{prefix}`", c.id));
        }
        c.rfc = f.rfc;
    }
    Ok(Spec { rfc: f.rfc, title: f.title, clauses })
}

/// Every specification's clauses, in file order. The embedded files are checked by
/// this crate's tests, so an error here means a broken build.
pub fn specs() -> &'static [Spec] {
    static ALL: OnceLock<Vec<Spec>> = OnceLock::new();
    ALL.get_or_init(|| SOURCES.iter().filter_map(|(n, t)| parse(n, t).ok()).collect())
}

/// Every clause by id.
pub fn by_id() -> &'static BTreeMap<String, Clause> {
    static MAP: OnceLock<BTreeMap<String, Clause>> = OnceLock::new();
    MAP.get_or_init(|| specs().iter().flat_map(|s| s.clauses.iter().map(|c| (c.id.clone(), c.clone()))).collect())
}

/// Problems with the embedded data: parse errors, duplicate ids, rules naming
/// clauses that do not exist.
pub fn problems() -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for (n, t) in SOURCES {
        match parse(n, t) {
            Err(e) => out.push(e),
            Ok(s) => {
                for c in s.clauses {
                    if !seen.insert(c.id.clone()) {
                        out.push(format!("{n}: duplicate clause id `{}`", c.id));
                    }
                }
            }
        }
    }
    for r in crate::catalogue() {
        for c in r.clauses {
            if !by_id().contains_key(*c) {
                out.push(format!("rule `{}` names clause `{c}`, which no clause file defines", r.id));
            }
        }
    }
    out
}

/// The rules enforcing each clause.
pub fn rules_for(clause: &str) -> Vec<&'static crate::Rule> {
    crate::catalogue().iter().copied().filter(|r| r.clauses.contains(&clause)).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_clause_files_are_consistent() {
        let p = super::problems();
        assert!(p.is_empty(), "{p:#?}");
        assert!(super::specs().len() == super::SOURCES.len());
    }

    #[test]
    fn a_bad_clause_file_is_reported_with_its_name() {
        let e = super::parse("x.yaml", "rfc: 951\ntitle: t\nclauses:\n  - id: rfc1542/1/x\n    section: '1'\n    level: MUST\n    role: server\n    in-scope: true\n    text: t\n    observable: o\n").unwrap_err();
        assert!(e.contains("x.yaml") && e.contains("rfc951/"), "{e}");
        let e =
            super::parse("y.yaml", "rfc: 951\ntitle: t\nclauses:\n  - id: rfc951/1/x\n    level: OFTEN\n").unwrap_err();
        assert!(e.contains("y.yaml"), "{e}");
    }
}
