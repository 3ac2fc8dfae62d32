//! `bootcheck fuzz`: a bounded, seeded fuzzing campaign against a target in the lab —
//! a server, or with `--relay` the relay agent in front of one (`bootcheck_lab::fuzz`),
//! with a progress line and a JSON report.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bootcheck_lab::fuzz::{FuzzOptions, FuzzReport, Progress};
use bootcheck_mutate::MutationClass;
use bootcheck_refserver::Fault;

use crate::{Format, EXIT_FAIL, EXIT_INPUT, EXIT_OK};

#[derive(Debug, clap::Args)]
pub struct FuzzArgs {
    /// Target: a profile name under targets/ or a path to a profile (with --relay: the
    /// server behind the relay agent).
    #[arg(long)]
    pub target: String,
    /// Fuzz this relay agent (dhcrelay, dhcp-helper, bootpgw, dnsmasq-relay: a profile
    /// with `namespace: relay`) in front of --target, in the relay topology: mutated
    /// BOOTREQUESTs from the client link (the relay-agent scenarios' requests, and the
    /// direct ones as a client behind the relay sends them), a BOOTREQUEST probe that
    /// must come back through the relay; a crash or hang is the relay's or the server's,
    /// whichever process failed; RSS is the relay's; reproducers replay with
    /// `bootcheck run --target T --relay R`.
    #[arg(long)]
    pub relay: Option<String>,
    /// How long to fuzz: seconds, or `90s`, `5m` (minimisation of a finding comes on
    /// top, bounded by --minimize-time).
    #[arg(long, default_value = "60s")]
    pub duration: String,
    /// Stop after this many mutated packets.
    #[arg(long, default_value_t = 1_000_000)]
    pub max_packets: u64,
    /// Campaign seed: the same seed and scenarios give the same packets.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Packets per second.
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Packets between liveness probes.
    #[arg(long, default_value_t = 50)]
    pub batch: usize,
    /// How long a liveness probe waits for its answer (retried once, twice as long):
    /// `500ms`, `1s`.
    #[arg(long, default_value = "1s")]
    pub probe_timeout: String,
    /// Reference server fault switch (repeatable): crash-on-option=N, hang-on-overload, …
    #[arg(long = "fault")]
    pub faults: Vec<String>,
    /// Scenario files or directories whose requests seed the campaign (default:
    /// scenarios/).
    #[arg(long = "scenarios")]
    pub scenarios: Vec<PathBuf>,
    /// The site file (default: scenarios/site.yaml).
    #[arg(long)]
    pub site: Option<PathBuf>,
    /// Use only these mutation classes (repeatable; default all).
    #[arg(long = "class")]
    pub classes: Vec<String>,
    /// Stop after this many distinct crashes or hangs (the same exit status, signal or
    /// unanswered probe again is counted as a repeat of the first, not minimised again).
    #[arg(long, default_value_t = 3)]
    pub max_findings: usize,
    /// Replays against a fresh server that minimising one finding may take.
    #[arg(long, default_value_t = 80)]
    pub minimize_trials: usize,
    /// Wall time minimising one finding may take: seconds, or `90s`, `2m`.
    #[arg(long, default_value = "120s")]
    pub minimize_time: String,
    /// Flag a leak when the server's RSS grows by more than this many MiB over its
    /// first sample (it is always sampled and reported).
    #[arg(long)]
    pub rss_growth_mib: Option<u64>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Output directory: fuzz-report.json, repro-N.yaml, repro-N.pcapng, server logs
    /// (default: out/fuzz-<time>).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `userns`: what entering a user namespace gave, when main() tried (not root).
pub fn fuzz(args: &FuzzArgs, userns: Option<Result<String, String>>) -> u8 {
    match prepare(args, userns) {
        Ok((opts, corpus)) => campaign(args, &opts, corpus),
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_INPUT
        }
    }
}

fn prepare(
    args: &FuzzArgs,
    userns: Option<Result<String, String>>,
) -> Result<(FuzzOptions, bootcheck_mutate::Corpus), String> {
    if args.format == Format::Junit {
        return Err("--format junit: a fuzz campaign reports as human or json".into());
    }
    let duration = crate::parse_secs("--duration", &args.duration)?;
    let probe_timeout = crate::parse_secs("--probe-timeout", &args.probe_timeout)?;
    let minimize_time = crate::parse_secs("--minimize-time", &args.minimize_time)?;
    if !(args.rate > 0.0 && args.rate.is_finite()) {
        return Err(format!("--rate {}: packets per second must be above 0", args.rate));
    }
    if args.batch == 0 {
        return Err("--batch 0: a batch needs at least one packet".into());
    }
    if probe_timeout.is_zero() {
        return Err("--probe-timeout 0: a probe needs time to be answered".into());
    }
    for f in &args.faults {
        f.parse::<Fault>().map_err(|e| format!("--fault {f}: {e}"))?;
    }
    let classes = args.classes.iter().map(|c| c.parse::<MutationClass>()).collect::<Result<Vec<_>, _>>()?;
    match userns {
        Some(Err(e)) => return Err(format!("fuzzing needs the lab (network namespaces): {e}")),
        Some(Ok(_)) => {}
        None if bootcheck_lab::privilege() == bootcheck_lab::Privilege::None => {
            return Err("fuzzing needs the lab: run as root, or where unprivileged user namespaces are allowed".into())
        }
        None => {}
    }
    let (_, site, scns) = crate::run::load_all(&args.scenarios, args.site.as_deref()).map_err(|_| {
        "the seed scenarios could not be loaded (errors above); pass --scenarios DIR with loadable scenario files"
            .to_string()
    })?;
    let corpus = if args.relay.is_some() {
        bootcheck_lab::fuzz::seeds_behind_relay(&site, &scns, args.seed)
    } else {
        bootcheck_lab::fuzz::seeds_from_scenarios(&site, &scns, args.seed)
    };
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("out/fuzz-{stamp}")));
    let opts = FuzzOptions {
        site,
        target: args.target.clone(),
        relay: args.relay.clone(),
        targets_dir: PathBuf::from("targets"),
        faults: args.faults.clone(),
        seed: args.seed,
        duration,
        max_packets: args.max_packets,
        rate: args.rate,
        batch: args.batch,
        probe_timeout,
        max_findings: args.max_findings.max(1),
        minimize_trials: args.minimize_trials,
        minimize_time,
        rss_growth_kib: args.rss_growth_mib.map(|m| m.saturating_mul(1024)),
        classes,
        out,
    };
    Ok((opts, corpus))
}

fn campaign(args: &FuzzArgs, opts: &FuzzOptions, corpus: bootcheck_mutate::Corpus) -> u8 {
    let human = args.format == Format::Human;
    if human {
        println!(
            "bootcheck fuzz: {} for {:?} or {} packets at {}/s, seed {}, {} seed request(s){}\n  out dir: {}",
            opts.relay.as_ref().map_or_else(|| opts.target.clone(), |r| format!("relay {r} (server {})", opts.target)),
            opts.duration,
            opts.max_packets,
            opts.rate,
            opts.seed,
            corpus.len(),
            if opts.faults.is_empty() { String::new() } else { format!(", faults {}", opts.faults.join(",")) },
            opts.out.display()
        );
    }
    let bar = (human && std::io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new(opts.duration.as_secs().max(1));
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len}s {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let mut last_line = std::time::Instant::now();
    let mut on_progress = |p: &Progress| {
        let pps = if p.elapsed.as_secs_f64() > 0.0 { p.packets as f64 / p.elapsed.as_secs_f64() } else { 0.0 };
        let status = format!("{} packets ({pps:.0}/s), {} probes, {} finding(s)", p.packets, p.probes, p.findings);
        match (&bar, &p.event) {
            (Some(b), Some(e)) => b.println(e),
            (Some(b), None) => {
                b.set_position(p.elapsed.as_secs());
                b.set_message(status);
            }
            (None, Some(e)) => eprintln!("{e}"),
            (None, None) => {
                if last_line.elapsed() >= Duration::from_secs(10) {
                    last_line = std::time::Instant::now();
                    eprintln!("{:>5.0}s {status}", p.elapsed.as_secs_f64());
                }
            }
        }
    };
    let result = bootcheck_lab::fuzz::fuzz_lab(opts, corpus, &mut on_progress);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_INPUT;
        }
    };
    let json = serde_json::to_string_pretty(&report).unwrap_or_default();
    let path = opts.out.join("fuzz-report.json");
    if let Err(e) = std::fs::write(&path, format!("{json}\n")) {
        eprintln!("error: writing {}: {e}", path.display());
    }
    match args.format {
        Format::Json => println!("{json}"),
        _ => print_human(&report, &path),
    }
    if report.findings.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAIL
    }
}

fn print_human(r: &FuzzReport, path: &std::path::Path) {
    println!(
        "\n{} packets in {:.1}s ({:.0}/s), {} batches, {} probes ({} retried), {} server start(s); stopped: {}",
        r.packets,
        r.fuzz_seconds,
        r.packets_per_second,
        r.batches,
        r.probes,
        r.probe_retries,
        r.server_starts,
        r.stopped
    );
    if let Some(rss) = &r.rss {
        println!(
            "RSS{}: {} KiB first, {} KiB max, {} KiB last ({} samples)",
            r.relay.as_ref().map_or(String::new(), |n| format!(" of {n}")),
            rss.first_kib,
            rss.max_kib,
            rss.last_kib,
            rss.samples
        );
    }
    if let (Some(n), Some(c)) = (&r.relay, &r.relayed) {
        println!(
            "{n} forwarded {} fuzzed BOOTREQUEST(s) to {}, which sent {} BOOTREPLY(s) back",
            c.forwarded, r.target, c.replies
        );
    }
    if r.findings.is_empty() {
        println!("no crash, hang or leak found");
    }
    for f in &r.findings {
        println!(
            "{} #{} of {} ({}): {} — class {} (case{} {}){}",
            f.kind.to_uppercase(),
            f.id,
            f.process,
            f.role,
            f.detail,
            f.classes.join("+"),
            if f.cases.len() == 1 { "" } else { "s" },
            f.cases.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
            if f.confirmed || f.kind == "leak" { "" } else { " — NOT reproduced on a fresh server" }
        );
        if f.repeats > 0 {
            println!("          happened {} more time(s) in the campaign", f.repeats);
        }
        if let (Some(y), Some(p)) = (&f.repro_yaml, &f.repro_pcap) {
            println!(
                "          {} packet(s) of {} after {} trials: {}, {}",
                f.minimized_packets,
                f.window_packets,
                f.minimize_trials,
                y.display(),
                p.display()
            );
        }
        if let Some(cmd) = &f.replay {
            println!("          replay: {cmd}");
        }
    }
    println!("report: {}", path.display());
}
