//! `bootcheck run`, `list`, `targets`, `lab`, `refserver`.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bootcheck_lab::run::{self as labrun, Mode, ScenarioRun};
use bootcheck_refserver::Fault;
use bootcheck_scenario::{discover, load_scenario, load_site, Scenario, Site};

use crate::report::{self, Totals};
use crate::{Format, LabCmd, RunArgs, EXIT_FAIL, EXIT_INPUT, EXIT_OK};

/// Scenarios at once in the lab when `--jobs` is not given.
pub const DEFAULT_LAB_JOBS: usize = 16;

fn default_site(site: Option<&Path>) -> PathBuf {
    site.map_or_else(|| PathBuf::from("scenarios/site.yaml"), Path::to_path_buf)
}

/// Load the site and every scenario under `paths`; print every load error.
pub(crate) fn load_all(
    paths: &[PathBuf],
    site: Option<&Path>,
) -> Result<(PathBuf, Site, Vec<(PathBuf, Scenario)>), u8> {
    let site_path = default_site(site);
    if !site_path.exists() {
        eprintln!(
            "error: site file {} not found: run from the bootcheck checkout or pass --site FILE",
            site_path.display()
        );
        return Err(EXIT_INPUT);
    }
    let site = load_site(&site_path).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_INPUT
    })?;
    let paths = if paths.is_empty() { vec![PathBuf::from("scenarios")] } else { paths.to_vec() };
    for p in &paths {
        if !p.exists() {
            eprintln!("error: {}: no such file or directory", p.display());
            return Err(EXIT_INPUT);
        }
    }
    let files: Vec<PathBuf> =
        discover(&paths).into_iter().filter(|f| f.canonicalize().ok() != site_path.canonicalize().ok()).collect();
    let mut out = Vec::new();
    let mut bad = 0;
    for f in files {
        match load_scenario(&f, &site) {
            Ok(s) => out.push((f, s)),
            Err(e) => {
                eprintln!("error: {e}");
                bad += 1;
            }
        }
    }
    if bad > 0 {
        eprintln!("{bad} scenario file(s) could not be loaded; nothing was run");
        return Err(EXIT_INPUT);
    }
    if out.is_empty() {
        eprintln!(
            "error: no scenario files under {}",
            paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
        return Err(EXIT_INPUT);
    }
    Ok((site_path, site, out))
}

pub fn list(paths: &[PathBuf], site: Option<&Path>) -> u8 {
    match load_all(paths, site) {
        Ok((_, _, scns)) => {
            for (p, s) in scns {
                println!("{:<45} {}  [{}]  ({})", s.id, s.title, s.cites.join(", "), p.display());
            }
            EXIT_OK
        }
        Err(c) => c,
    }
}

pub fn targets() -> u8 {
    println!(
        "{:<12} built-in reference server (RFC 951/1542/1534, TFTP, RARP); fault switches: {}",
        "reference",
        Fault::ALL_NAMES.join(", ")
    );
    match bootcheck_lab::target::list_profiles(Path::new("targets")) {
        Ok(list) => {
            for (name, desc) in list {
                if name != "reference" {
                    println!("{name:<12} {desc}");
                }
            }
            println!(
                "\nServers that each serve part of a boot chain combine with `+`: `--target bootpd+tftpd-hpa`\n\
                 (BOOTP from bootpd, TFTP from tftpd-hpa), `rarpd+tftpd-hpa`; each part says what it serves."
            );
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_INPUT
        }
    }
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (k, n) = s.split_once('/').ok_or_else(|| format!("--shard {s}: expected K/N, e.g. 2/4"))?;
    let (k, n): (usize, usize) = (k.parse().map_err(|_| "bad K")?, n.parse().map_err(|_| "bad N")?);
    if n == 0 || k == 0 || k > n {
        return Err(format!("--shard {s}: need 1 <= K <= N"));
    }
    Ok((k, n))
}

/// Where snapshots of a target live.
pub fn snapshot_dir(target: &str) -> PathBuf {
    PathBuf::from("scenarios/snapshots").join(target)
}

/// Write a snapshot file in insta's format, so `cargo insta review` and the rstest
/// suite read what `--update-snapshots` wrote.
pub fn write_snapshot(dir: &Path, id: &str, text: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("scenario@{}.snap", labrun::file_stem(id)));
    let body = format!("---\nsource: crates/cli/tests/scenarios.rs\nexpression: snapshot\n---\n{text}");
    std::fs::write(&path, body)?;
    Ok(path)
}

/// `userns`: what entering a user namespace gave, when main() tried (not root).
pub fn run(args: &RunArgs, userns: Option<Result<String, String>>) -> u8 {
    let (site_path, site, mut scns) = match load_all(&args.paths, args.site.as_deref()) {
        Ok(v) => v,
        Err(c) => return c,
    };
    if let Some(s) = &args.shard {
        match parse_shard(s) {
            Ok((k, n)) => scns = labrun::shard(scns, k, n),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_INPUT;
            }
        }
    }
    let mut faults = Vec::new();
    for f in &args.faults {
        match Fault::from_str(f) {
            Ok(x) => faults.push(x),
            Err(e) => {
                eprintln!("error: --fault {f}: {e}");
                return EXIT_INPUT;
            }
        }
    }
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("out/run-{stamp}")));
    if let Err(e) = std::fs::create_dir_all(&out) {
        eprintln!("error: cannot create out dir {}: {e}", out.display());
        return EXIT_INPUT;
    }
    // Pick the backend.
    let target_name = args.target.clone().unwrap_or_else(|| "reference".into());
    let (mode, why) = match (&args.target, args.in_process, userns) {
        (_, true, _) => (Mode::InProcess, "--in-process".to_string()),
        (None, false, Some(Err(e))) if args.relay.is_some() => {
            eprintln!("error: --relay needs the lab (network namespaces): {e}");
            return EXIT_INPUT;
        }
        (_, false, Some(Ok(note))) => (Mode::Lab, note),
        (Some(_), false, Some(Err(e))) => {
            eprintln!("error: the lab needs network namespaces: {e}");
            return EXIT_INPUT;
        }
        (None, false, Some(Err(e))) => (Mode::InProcess, format!("not root, and no user namespace could be made: {e}")),
        (Some(_), false, None) => (Mode::Lab, String::new()),
        (None, false, None) => match bootcheck_lab::privilege() {
            bootcheck_lab::Privilege::None => {
                (Mode::InProcess, "not root and no user namespaces: network namespaces cannot be made here".to_string())
            }
            _ => (Mode::Lab, String::new()),
        },
    };
    let human = args.format == Format::Human;
    if human {
        let note = if why.is_empty() { String::new() } else { format!(" ({why})") };
        println!(
            "bootcheck: {} scenario(s) against {target_name}, {}{note}\n  out dir: {}",
            scns.len(),
            mode.describe(),
            out.display()
        );
    }
    let color = human && std::io::stdout().is_terminal();
    let bar = if human && std::io::stderr().is_terminal() {
        let b = indicatif::ProgressBar::new(scns.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let mut on_done = |r: &ScenarioRun| {
        let text = report::line(r, color);
        match &bar {
            Some(b) => {
                b.println(text);
                b.inc(1);
                b.set_message(r.scenario.id.clone());
            }
            None if human => println!("{text}"),
            None => {}
        }
    };
    let started = Instant::now();
    let runs: Vec<ScenarioRun> = match mode {
        Mode::InProcess => run_in_process(&scns, &site, &faults, args, &out, &mut on_done),
        Mode::Lab => {
            let lab_target = args.target.clone().unwrap_or_else(|| "reference".into());
            match labrun::run_lab(
                &labrun::LabRunOptions {
                    site_path: site_path.clone(),
                    site: site.clone(),
                    target: lab_target,
                    faults: args.faults.clone(),
                    seed: args.seed,
                    out: out.clone(),
                    targets_dir: PathBuf::from("targets"),
                    relay: args.relay.clone(),
                    jobs: args.jobs.unwrap_or(DEFAULT_LAB_JOBS).max(1),
                },
                &scns,
                &mut on_done,
            ) {
                Ok(r) => r,
                Err(e) => {
                    if let Some(b) = &bar {
                        b.finish_and_clear();
                    }
                    eprintln!("error: {e}");
                    return EXIT_INPUT;
                }
            }
        }
    };
    let wall = started.elapsed();
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if args.update_snapshots {
        // Relayed runs are snapshotted under the relay's name: it is the subject.
        let dir = snapshot_dir(args.relay.as_deref().unwrap_or(&target_name));
        for r in &runs {
            if !r.snapshot.is_empty() {
                if let Err(e) = write_snapshot(&dir, &r.scenario.id, &r.snapshot) {
                    eprintln!("error: writing snapshot: {e}");
                }
            }
        }
        if human {
            println!("snapshots written to {}", dir.display());
        }
    }
    let mode_text = if why.is_empty() { mode.describe().to_string() } else { format!("{} ({why})", mode.describe()) };
    let mode_text = mode_text.as_str();
    // A run with fault switches is a different server: it gets its own name in the
    // reports (and its own matrix column).
    let served = match &args.relay {
        Some(r) => format!("{r}→{target_name}"),
        None => target_name.clone(),
    };
    let report_name = if args.faults.is_empty() { served } else { format!("{served}+{}", args.faults.join("+")) };
    if let Err(e) = report::write_files(&out, &runs, &report_name, mode_text) {
        eprintln!("error: writing reports to {}: {e}", out.display());
    }
    let totals = Totals::of(&runs);
    // Rule deviations the target profile records but that did not happen: stale. On a
    // whole-suite run that is a failure (the record must be updated); on a subset it is
    // a note, since the scenario that shows the deviation may not have run.
    let stale = if mode == Mode::Lab {
        // Behind a relay only the relay-agent scenarios run, so the server's own
        // recorded deviations cannot be judged stale there: only the relay's are.
        let mut profile = if args.relay.is_some() {
            BTreeMap::new()
        } else {
            bootcheck_lab::Target::resolve(Path::new("targets"), &target_name)
                .map(|t| t.rule_deviations())
                .unwrap_or_default()
        };
        if let Some(r) = &args.relay {
            if let Ok(t) = bootcheck_lab::Target::load_named(Path::new("targets"), r) {
                profile.extend(t.profile.rule_deviations.clone());
            }
        }
        bootcheck_lab::conformance::stale_deviations(runs.iter().flat_map(|r| r.rules.iter()), &profile)
    } else {
        Vec::new()
    };
    let whole_suite = args.paths.is_empty() && args.shard.is_none();
    // Behind a relay only the relay's records are judged (see above).
    let recorder = args.relay.as_ref().unwrap_or(&target_name);
    for st in &stale {
        eprintln!(
            "{}: rule deviation `{st}` is recorded for {recorder} in {}, but the rule passed on every reply it was checked on: update `rule-deviations`",
            if whole_suite { "error" } else { "note" },
            recorder.split('+').map(|p| format!("targets/{p}.yaml")).collect::<Vec<_>>().join(" or ")
        );
    }
    let stale_fails = whole_suite && !stale.is_empty();
    match args.format {
        Format::Human => {
            // In-process: the virtual time the scenarios took; in the lab: the wall time
            // of the run (lab and target start included; scenarios overlap).
            let total: Duration = if mode == Mode::InProcess { runs.iter().map(|r| r.duration).sum() } else { wall };
            println!(
                "\n{} passed, {} failed, {} deviations, {} skipped, {} errors ({} scenarios, {:.1}s {})",
                totals.passed,
                totals.failed,
                totals.deviations,
                totals.skipped,
                totals.errors,
                runs.len(),
                total.as_secs_f64(),
                if mode == Mode::InProcess { "virtual" } else { "wall" }
            );
            println!("reports: {}, {}", out.join("report.json").display(), out.join("junit.xml").display());
        }
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report::json(&runs, &report_name, mode_text)).unwrap_or_default()
        ),
        Format::Junit => println!("{}", report::junit(&runs, &report_name)),
    }
    if totals.ok() && !stale_fails {
        EXIT_OK
    } else {
        EXIT_FAIL
    }
}

fn run_in_process(
    scns: &[(PathBuf, Scenario)],
    site: &Site,
    faults: &[Fault],
    args: &RunArgs,
    out: &Path,
    on_done: &mut dyn FnMut(&ScenarioRun),
) -> Vec<ScenarioRun> {
    let jobs = args.jobs.unwrap_or(1).max(1);
    let mut runs: Vec<ScenarioRun> = Vec::with_capacity(scns.len());
    for chunk in scns.chunks(jobs) {
        let results: Vec<ScenarioRun> = std::thread::scope(|s| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|(p, scn)| s.spawn(move || labrun::run_in_process(p, scn, site, faults, args.seed, Some(out))))
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        for r in results {
            on_done(&r);
            runs.push(r);
        }
    }
    runs
}

pub fn lab(cmd: LabCmd) -> u8 {
    match labrun::lab_command(match cmd {
        LabCmd::Up { site, relay } => labrun::LabCommand::Up { site: default_site(site.as_deref()), relay },
        LabCmd::Down { id } => labrun::LabCommand::Down { id },
        LabCmd::Clean { force } => labrun::LabCommand::Clean { force },
        LabCmd::List => labrun::LabCommand::List,
    }) {
        Ok(text) => {
            print!("{text}");
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_INPUT
        }
    }
}

pub fn refserver(site: &Path, iface: &str, faults: &[String], max_seconds: u64) -> u8 {
    let site = match load_site(site) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_INPUT;
        }
    };
    let mut fs = Vec::new();
    for f in faults {
        match Fault::from_str(f) {
            Ok(x) => fs.push(x),
            Err(e) => {
                eprintln!("error: --fault {f}: {e}");
                return EXIT_INPUT;
            }
        }
    }
    match labrun::serve_refserver(site, fs, iface, Duration::from_secs(max_seconds)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_INPUT
        }
    }
}
