//! `bootcheck replay CAPTURE --target X`: the recorded requests re-sent into the lab
//! (as a lifted scenario: same fields and options, addresses rewritten to the site),
//! the live replies recorded, and each diffed field by field against the recorded one
//! with the snapshots' normalisation.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use bootcheck_capture::lift::{LiftOptions, Recorded};
use bootcheck_capture::replay::{diff_with, endpoint, StepDiff};
use bootcheck_lab::run::{self as labrun, ScenarioRun};
use bootcheck_refserver::Fault;
use serde_json::json;

use crate::{Format, EXIT_FAIL, EXIT_INPUT, EXIT_OK};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Timing {
    /// The steps follow one another at once.
    Compressed,
    /// The capture's pauses between exchanges are kept.
    Original,
}

#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    pub capture: PathBuf,
    /// Target profile (default: the reference server).
    #[arg(long)]
    pub target: Option<String>,
    /// Replay against the reference server in this process (no lab).
    #[arg(long, conflicts_with = "target")]
    pub in_process: bool,
    /// Reference server fault switch (repeatable), as for `run`.
    #[arg(long = "fault")]
    pub faults: Vec<String>,
    #[arg(long, value_enum, default_value = "compressed")]
    pub timing: Timing,
    /// Send the capture's addresses as they are (default: clients, server and relay
    /// rewritten to the site's, so the target knows them).
    #[arg(long)]
    pub no_rewrite: bool,
    #[arg(long)]
    pub site: Option<PathBuf>,
    /// Out dir: the lifted scenario, the live pcapng, report.json (default:
    /// out/replay-<time>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

pub fn replay(args: &ReplayArgs) -> u8 {
    let site_path = args.site.clone().unwrap_or_else(|| PathBuf::from("scenarios/site.yaml"));
    let site = match bootcheck_scenario::load_site(&site_path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_INPUT;
        }
    };
    let mut faults = Vec::new();
    for f in &args.faults {
        match f.parse::<Fault>() {
            Ok(x) => faults.push(x),
            Err(e) => {
                eprintln!("error: --fault {f}: {e}");
                return EXIT_INPUT;
            }
        }
    }
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("out/replay-{stamp}")));
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("error: cannot create out dir {}: {e}", out.display());
        return EXIT_INPUT;
    }
    let stem = args.capture.file_stem().map_or_else(|| "capture".into(), |s| s.to_string_lossy().into_owned());
    let opts = LiftOptions { rewrite: !args.no_rewrite, original_timing: args.timing == Timing::Original };
    let lifted =
        match bootcheck_capture::lift::lift_file_with(&args.capture, Some(&site), &format!("replay/{stem}"), opts) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: {}: {e}", args.capture.display());
                return EXIT_INPUT;
            }
        };
    if lifted.recorded.is_empty() {
        eprintln!("error: {}: no BOOTP, TFTP or RARP request to replay", args.capture.display());
        return EXIT_INPUT;
    }
    let yaml = out.join("replay.yaml");
    if let Err(e) = std::fs::write(&yaml, &lifted.yaml) {
        eprintln!("error: {}: {e}", yaml.display());
        return EXIT_INPUT;
    }
    let scn = match bootcheck_scenario::load_scenario(&yaml, &site) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: the lifted scenario does not load (a bug: please report it with the capture): {e}");
            return EXIT_INPUT;
        }
    };
    let lab =
        !args.in_process && (args.target.is_some() || bootcheck_lab::privilege() == bootcheck_lab::Privilege::Root);
    let target = args.target.clone().unwrap_or_else(|| "reference".into());
    let run: ScenarioRun = if lab {
        let opts = labrun::LabRunOptions {
            site_path: site_path.clone(),
            site: site.clone(),
            target: target.clone(),
            faults: args.faults.clone(),
            seed: 1,
            out: out.clone(),
            targets_dir: PathBuf::from("targets"),
            relay: None,
            jobs: 1,
        };
        match labrun::run_lab(&opts, &[(yaml.clone(), scn)], &mut |_| {}) {
            Ok(mut r) if !r.is_empty() => r.remove(0),
            Ok(_) => {
                eprintln!("error: the lab ran nothing");
                return EXIT_INPUT;
            }
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_INPUT;
            }
        }
    } else {
        labrun::run_in_process(&yaml, &scn, &site, &faults, 1, Some(&out))
    };
    let Some(result) = &run.result else {
        eprintln!("error: the replay did not run: {}", run.outcome.label());
        return EXIT_INPUT;
    };
    let rows: Vec<(&Recorded, StepDiff, Vec<String>)> = lifted
        .recorded
        .iter()
        .map(|r| {
            let step = result.steps.get(r.step);
            let live = step.and_then(|s| s.received.first()).map(Vec::as_slice);
            let rec = r.reply.as_ref().map(|(_, link, f)| (*link, f.as_slice()));
            let mismatches = match step.map(|s| &s.verdict) {
                Some(bootcheck_scenario::engine::StepVerdict::Fail(m)) => {
                    m.iter().map(|m| format!("{}: expected {}, seen {}", m.field, m.expected, m.actual)).collect()
                }
                Some(bootcheck_scenario::engine::StepVerdict::Error(e)) => vec![format!("error: {e}")],
                _ => Vec::new(),
            };
            let harness = step.and_then(|s| s.sent.first()).and_then(|live_req| {
                Some((
                    endpoint(r.request.0, &r.request.1)?,
                    endpoint(bootcheck_wire::frame::LinkType::Ethernet, live_req)?,
                ))
            });
            (r, diff_with(rec, live, &lifted.rewrite, harness), mismatches)
        })
        .collect();
    let same = rows.iter().filter(|(_, d, _)| matches!(d, StepDiff::Same | StepDiff::BothSilent)).count();
    let report = json!({
        "capture": args.capture.display().to_string(),
        "target": target,
        "faults": args.faults,
        "scenario": yaml.display().to_string(),
        "pcap": run.pcap.as_ref().map(|p| p.display().to_string()),
        "exchanges": rows.iter().map(|(r, d, m)| json!({
            "step": r.step + 1,
            "name": r.name,
            "recorded-packet": r.reply.as_ref().map(|(n, _, _)| n),
            "diff": d,
            "expectations": m,
        })).collect::<Vec<_>>(),
        "same": same,
        "changed": rows.len() - same,
    });
    let _ = std::fs::write(out.join("report.json"), serde_json::to_string_pretty(&report).unwrap_or_default());
    match args.format {
        Format::Json | Format::Junit => println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default()),
        Format::Human => print_human(args, &target, &out, &rows, same),
    }
    if same == rows.len() {
        EXIT_OK
    } else {
        EXIT_FAIL
    }
}

fn print_human(args: &ReplayArgs, target: &str, out: &Path, rows: &[(&Recorded, StepDiff, Vec<String>)], same: usize) {
    let stdout = std::io::stdout();
    let mut o = stdout.lock();
    let faults = if args.faults.is_empty() { String::new() } else { format!(" +{}", args.faults.join(",")) };
    let _ = writeln!(o, "replay of {} against {target}{faults}", args.capture.display());
    for (r, d, _) in rows {
        let label = match d {
            StepDiff::Same => "same",
            StepDiff::BothSilent => "same (silent)",
            StepDiff::Changed(_) => "CHANGED",
            StepDiff::NoLiveReply => "NO REPLY now",
            StepDiff::NewReply => "NEW REPLY",
        };
        let _ = writeln!(o, "{label:<14} step {:<3} {}", r.step + 1, r.name);
        if let StepDiff::Changed(c) = d {
            for ch in c {
                let _ = writeln!(o, "    {ch}");
            }
        }
    }
    let _ = writeln!(
        o,
        "{same} of {} exchanges as recorded; scenario, live pcapng and report.json in {}",
        rows.len(),
        out.display()
    );
}
