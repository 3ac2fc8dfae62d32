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
    /// `<prefix>/<section>/<slug>`, the prefix being `rfc<N>` or the file's `prefix`.
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
    /// RFC number, from the file (0 for a specification that is not an RFC).
    #[serde(skip)]
    pub rfc: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// The RFC number; ids then start with `rfc<N>/`.
    #[serde(default)]
    rfc: Option<u32>,
    /// The id prefix of a specification that is not an RFC (`bsdp`); ids then start
    /// with `<prefix>/`.
    #[serde(default)]
    prefix: Option<String>,
    title: String,
    clauses: Vec<Clause>,
}

/// One specification's clause list.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The RFC number; 0 for a specification that is not an RFC.
    pub rfc: u32,
    /// The id prefix: `rfc951`, …, or the file's `prefix` (`bsdp`).
    pub prefix: String,
    pub title: String,
    pub clauses: Vec<Clause>,
}

impl Spec {
    /// How to name it to a reader: `RFC 951`, or the prefix in capitals (`BSDP`).
    pub fn name(&self) -> String {
        if self.rfc != 0 {
            format!("RFC {}", self.rfc)
        } else {
            self.prefix.to_ascii_uppercase()
        }
    }
}

const SOURCES: &[(&str, &str)] = &[
    ("clauses/rfc951.yaml", include_str!("../clauses/rfc951.yaml")),
    ("clauses/rfc1542.yaml", include_str!("../clauses/rfc1542.yaml")),
    ("clauses/rfc1534.yaml", include_str!("../clauses/rfc1534.yaml")),
    ("clauses/rfc2132.yaml", include_str!("../clauses/rfc2132.yaml")),
    ("clauses/rfc3046.yaml", include_str!("../clauses/rfc3046.yaml")),
    ("clauses/rfc1350.yaml", include_str!("../clauses/rfc1350.yaml")),
    ("clauses/rfc2347.yaml", include_str!("../clauses/rfc2347.yaml")),
    ("clauses/rfc2348.yaml", include_str!("../clauses/rfc2348.yaml")),
    ("clauses/rfc2349.yaml", include_str!("../clauses/rfc2349.yaml")),
    ("clauses/rfc7440.yaml", include_str!("../clauses/rfc7440.yaml")),
    ("clauses/rfc906.yaml", include_str!("../clauses/rfc906.yaml")),
    ("clauses/rfc903.yaml", include_str!("../clauses/rfc903.yaml")),
    ("clauses/bsdp.yaml", include_str!("../clauses/bsdp.yaml")),
];

/// Parse one clause file (the embedded ones, or a file under test).
pub fn parse(name: &str, text: &str) -> Result<Spec, String> {
    let f: File = serde_yaml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
    let spec_prefix = match (&f.prefix, f.rfc) {
        (Some(p), None) => {
            let ok = !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !ok || p.starts_with("rfc") {
                return Err(format!(
                    "{name}: prefix `{p}`: lowercase letters, digits and `-`, not starting with `rfc` (RFCs give `rfc:`)"
                ));
            }
            p.clone()
        }
        (None, Some(n)) => format!("rfc{n}"),
        (Some(_), Some(_)) => return Err(format!("{name}: give either `rfc:` or `prefix:`, not both")),
        (None, None) => {
            return Err(format!("{name}: missing `rfc:` (an RFC number) or `prefix:` (for another specification)"))
        }
    };
    let prefix = format!("{spec_prefix}/");
    let rfc = f.rfc.unwrap_or(0);
    let mut clauses = f.clauses;
    for c in &mut clauses {
        if !c.id.starts_with(&prefix) {
            return Err(format!("{name}: clause id `{}` does not start with `{prefix}`", c.id));
        }
        c.rfc = rfc;
    }
    Ok(Spec { rfc, prefix: spec_prefix, title: f.title, clauses })
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

    #[test]
    #[allow(clippy::unwrap_used)]
    fn a_specification_that_is_no_rfc_declares_its_prefix() {
        let clause = |id: &str| {
            format!("  - id: {id}\n    section: '1'\n    level: MUST\n    role: server\n    in-scope: true\n    text: t\n    observable: o\n")
        };
        let s = super::parse("b.yaml", &format!("prefix: bsdp\ntitle: t\nclauses:\n{}", clause("bsdp/1/x"))).unwrap();
        assert_eq!((s.rfc, s.prefix.as_str(), s.name().as_str()), (0, "bsdp", "BSDP"));
        let e =
            super::parse("b.yaml", &format!("prefix: bsdp\ntitle: t\nclauses:\n{}", clause("rfc951/1/x"))).unwrap_err();
        assert!(e.contains("`bsdp/`"), "{e}");
        for head in ["title: t", "rfc: 951\nprefix: bsdp\ntitle: t", "prefix: rfc9\ntitle: t", "prefix: B S\ntitle: t"]
        {
            assert!(super::parse("b.yaml", &format!("{head}\nclauses: []\n")).is_err(), "{head}");
        }
        let r = super::parse("r.yaml", "rfc: 951\ntitle: t\nclauses: []\n").unwrap();
        assert_eq!((r.prefix.as_str(), r.name().as_str()), ("rfc951", "RFC 951"));
        assert!(super::specs().iter().any(|s| s.prefix == "bsdp"));
    }
}
