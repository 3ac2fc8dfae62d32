//! # bootcheck-scenario
//!
//! The scenario language (site + scenario files, YAML), its loader with located
//! errors, the matchers, and the sans-IO execution engine that turns a scenario into
//! frames to send and verdicts on the frames that come back. No sockets, no clocks:
//! backends (the veth lab, the in-process reference server) feed it frames and time.
#![forbid(unsafe_code)]

pub mod engine;
pub mod footprint;
pub mod load;
pub mod matcher;
pub mod model;
pub mod options;
pub mod site;
pub mod snapshot;
pub mod template;
pub mod verdict;

use std::path::{Path, PathBuf};

pub use load::LoadError;
pub use model::Scenario;
pub use site::{Mac, Site};

/// Load and validate a site file.
pub fn load_site(path: &Path) -> Result<Site, LoadError> {
    let (site, source): (Site, String) = load::read_yaml(path)?;
    if let Some((p, m)) = site.validate().into_iter().next() {
        return Err(LoadError::new(path, p, m).at_path(&source));
    }
    Ok(site)
}

/// Load a scenario file and check it against the site: known client, variables that
/// exist, option names, matchers.
pub fn load_scenario(path: &Path, site: &Site) -> Result<Scenario, LoadError> {
    let (scn, source): (Scenario, String) = load::read_yaml(path)?;
    check_scenario(&scn, site).map_err(|(p, m, needle)| {
        let e = LoadError::new(path, p, m);
        match needle {
            Some(n) => e.at_text(&source, &n),
            None => e.at_path(&source),
        }
    })?;
    Ok(scn)
}

type CheckError = (String, String, Option<String>);

fn check_scenario(scn: &Scenario, site: &Site) -> Result<(), CheckError> {
    if scn.steps.is_empty() {
        return Err(("steps".into(), "a scenario needs at least one step".into(), None));
    }
    if let Some(model::ClientRef::Known(n)) = &scn.client {
        if site.client(n).is_none() {
            let known: Vec<&str> = site.clients.keys().map(String::as_str).collect();
            return Err((
                "client".into(),
                format!("`{n}` is not a site client (known: {})", known.join(", ")),
                Some(format!("client: {n}")),
            ));
        }
    }
    // Every variable must exist in the site/client scope, or be a reply/sent field, or
    // a capture of an earlier step.
    let scope = engine::base_scope(site, scn.client.as_ref()).map_err(|e| ("client".into(), e, None))?;
    let mut captured: Vec<String> = Vec::new();
    for (i, step) in scn.steps.iter().enumerate() {
        let text = serde_json::to_string(&debug_vars(step)).unwrap_or_default();
        for var in template::parts(&text).into_iter().filter_map(|p| match p {
            template::Part::Var(v) => Some(v.to_string()),
            template::Part::Text(_) => None,
        }) {
            let root = var.split('.').next().unwrap_or("");
            let ok = match root {
                "reply" | "sent" => i > 0 || root == "sent",
                "site" | "client" => template::Scope::lookup(&scope, &var).is_some(),
                r => captured.iter().any(|c| c == r),
            };
            if !ok {
                let why = match root {
                    "site" | "client" => "is not in the site".to_string(),
                    "reply" => "refers to a reply, but this is the first step".to_string(),
                    _ => format!("is neither $site, $client, $reply, $sent nor captured by an earlier step (captured so far: {})",
                        if captured.is_empty() { "none".to_string() } else { captured.join(", ") }),
                };
                return Err((format!("steps[{i}]"), format!("variable `${var}` {why}"), Some(format!("${var}"))));
            }
        }
        if let Some(model::Send::Bootp(b)) = &step.send {
            check_bsdp_image(b, site).map_err(|(m, n)| (format!("steps[{i}].send.bsdp.image"), m, Some(n)))?;
        }
        captured.extend(step.capture.keys().cloned());
    }
    for (t, d) in &scn.deviations {
        if d.why.trim().is_empty() {
            return Err((format!("deviations.{t}.why"), "say why the target deviates".into(), None));
        }
        if d.step.is_some_and(|s| s == 0 || s > scn.steps.len()) {
            return Err((format!("deviations.{t}.step"), format!("steps are numbered 1 to {}", scn.steps.len()), None));
        }
    }
    Ok(())
}

/// A BSDP image given as plain text names a site NetBoot image or is a 32-bit ID.
fn check_bsdp_image(b: &model::BootpSend, site: &Site) -> Result<(), (String, String)> {
    let Some(img) = b.bsdp.as_ref().and_then(|q| q.image.as_ref()).map(|t| t.as_str().trim()) else {
        return Ok(());
    };
    let id = matcher::parse_u64(img).is_some_and(|v| u32::try_from(v).is_ok());
    if img.contains('$') || img == "none" || id || site.netboot.images.contains_key(img) {
        return Ok(());
    }
    let known: Vec<&str> = site.netboot.images.keys().map(String::as_str).collect();
    Err((
        format!("`{img}` is neither a site NetBoot image (known: {}) nor a 32-bit boot image ID", known.join(", ")),
        format!("image: {img}"),
    ))
}

/// Every string a step holds (for finding variables), via its Debug form.
fn debug_vars(step: &model::Step) -> String {
    format!("{step:?}")
}

/// Every `*.yaml` scenario file under `paths` (files or directories), sorted, skipping
/// the site file and the schema.
pub fn discover(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(d) = stack.pop() {
                let Ok(rd) = std::fs::read_dir(&d) else { continue };
                for e in rd.flatten() {
                    let path = e.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if is_scenario_file(&path) {
                        out.push(path);
                    }
                }
            }
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    out.dedup();
    out
}

fn is_scenario_file(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "yaml" || e == "yml") && p.file_name().is_some_and(|n| n != "site.yaml")
}

/// The JSON Schema of scenario files, as checked in at `scenarios/schema.json`.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(Scenario);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}
