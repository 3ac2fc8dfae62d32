//! `bootcheck load`: many simulated clients against a target in the lab
//! (`bootcheck_lab::load`), with a progress line every second, a human or JSON report,
//! `load.json` in the out dir, and an exit status that says whether the drop ratio met
//! the threshold. `bootcheck null-responder` (hidden) is the null target's server.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bootcheck_lab::load::{LatencySummary, LoadOptions, LoadProgress, LoadReport, Mode, Versus};
use bootcheck_refserver::Fault;

use crate::{Format, EXIT_FAIL, EXIT_INPUT, EXIT_OK};

#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// Target: a profile name under targets/ or a path to a profile (`null`: the null
    /// responder, which measures the harness alone).
    #[arg(long)]
    pub target: String,
    /// `bootp` (BOOTREQUEST/BOOTREPLY), `dora` (DHCP DISCOVER → OFFER → REQUEST → ACK,
    /// one exchange per DORA) or `relayed` (BOOTP with the harness as relay agent, or
    /// through --relay).
    #[arg(long, default_value = "bootp")]
    pub mode: String,
    /// A relay agent profile (dhcrelay, dhcp-helper, …): the relay topology, the load
    /// goes through the relay.
    #[arg(long)]
    pub relay: Option<String>,
    /// Open loop: start this many exchanges per second, whatever the answers. Without
    /// it: closed loop, as fast as answered (see --window).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Closed loop: exchanges in flight at once (at most --per-client per client).
    #[arg(long, default_value_t = 64)]
    pub window: usize,
    /// Simulated clients (distinct chaddr; the server gets a host entry for each): up
    /// to the free addresses of the site's subnet (of the relay subnet when relayed).
    #[arg(long, default_value_t = 100)]
    pub clients: usize,
    /// Exchanges one client may have in flight at once (distinct xids). 1, a real
    /// client's behaviour, by default; more, as perfdhcp does, when a rate near the
    /// server's capacity needs more exchanges in flight than there are clients.
    #[arg(long, default_value_t = 1)]
    pub per_client: usize,
    /// How long to send: seconds, or `90s`, `2m`.
    #[arg(long, default_value = "10s")]
    pub duration: String,
    /// Start at most this many exchanges.
    #[arg(long, default_value_t = 10_000_000)]
    pub max_requests: u64,
    /// How long each leg of an exchange may wait for its answer: `500ms`, `1s`.
    #[arg(long, default_value = "1s")]
    pub timeout: String,
    /// Frames per system call (sendmmsg/recvmmsg).
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Exit status 1 when more than this fraction of the exchanges did not complete.
    #[arg(long, default_value_t = 0.01)]
    pub max_drop_ratio: f64,
    /// Also run this load generator with the same load against the same server in the
    /// same lab, and show both side by side: `perfdhcp` (needs --mode dora and --rate;
    /// bootcheck then sends as perfdhcp does, as a relay agent on the server's link).
    #[arg(long)]
    pub versus: Option<String>,
    /// An extra argument for perfdhcp (repeatable), e.g. `--perfdhcp-arg=-g
    /// --perfdhcp-arg=single` for its single-thread mode.
    #[arg(long = "perfdhcp-arg", allow_hyphen_values = true)]
    pub perfdhcp_args: Vec<String>,
    /// Reference server fault switch (repeatable): drop-every-nth=N, …
    #[arg(long = "fault")]
    pub faults: Vec<String>,
    /// Keep the server's conformance-run logging (Kea at DEBUG, dnsmasq --log-dhcp)
    /// instead of the load config's warnings only.
    #[arg(long)]
    pub verbose_server_log: bool,
    /// The site file (default: scenarios/site.yaml).
    #[arg(long)]
    pub site: Option<PathBuf>,
    /// xids derive from this.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Output directory: load.json, the server's log (default: out/load-<time>).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `userns`: what entering a user namespace gave, when main() tried (not root).
pub fn load(args: &LoadArgs, userns: Option<Result<String, String>>) -> u8 {
    let opts = match prepare(args, userns) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_INPUT;
        }
    };
    run(args, &opts)
}

fn prepare(args: &LoadArgs, userns: Option<Result<String, String>>) -> Result<LoadOptions, String> {
    if args.format == Format::Junit {
        return Err("--format junit: a load run reports as human or json".into());
    }
    let mode: Mode = args.mode.parse().map_err(|e| format!("--mode {e}"))?;
    let versus = match args.versus.as_deref() {
        None => None,
        Some("perfdhcp") => Some(Versus::Perfdhcp),
        Some(v) => return Err(format!("--versus {v}: the only comparison is `perfdhcp`")),
    };
    for f in &args.faults {
        f.parse::<Fault>().map_err(|e| format!("--fault {f}: {e}"))?;
    }
    let site_path = args.site.clone().unwrap_or_else(|| PathBuf::from("scenarios/site.yaml"));
    let site = bootcheck_scenario::load_site(&site_path).map_err(|e| e.to_string())?;
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let opts = LoadOptions {
        site,
        target: args.target.clone(),
        relay: args.relay.clone(),
        targets_dir: PathBuf::from("targets"),
        faults: args.faults.clone(),
        mode,
        rate: args.rate,
        window: args.window,
        clients: args.clients,
        per_client: args.per_client,
        duration: crate::parse_secs("--duration", &args.duration)?,
        max_requests: args.max_requests,
        timeout: crate::parse_secs("--timeout", &args.timeout)?,
        batch: args.batch,
        max_drop_ratio: args.max_drop_ratio,
        quiet_server: !args.verbose_server_log,
        versus,
        perfdhcp_args: args.perfdhcp_args.clone(),
        seed: args.seed,
        out: args.out.clone().unwrap_or_else(|| PathBuf::from(format!("out/load-{stamp}"))),
    };
    bootcheck_lab::load::validate(&opts)?;
    if versus.is_some() {
        bootcheck_lab::load::perfdhcp::find()?;
    }
    match userns {
        Some(Err(e)) => return Err(format!("load needs the lab (network namespaces): {e}")),
        Some(Ok(_)) => {}
        None if bootcheck_lab::privilege() == bootcheck_lab::Privilege::None => {
            return Err("load needs the lab: run as root, or where unprivileged user namespaces are allowed".into())
        }
        None => {}
    }
    Ok(opts)
}

fn run(args: &LoadArgs, opts: &LoadOptions) -> u8 {
    let human = args.format == Format::Human;
    if human {
        println!("bootcheck load: {}", describe(opts));
        println!("  out dir: {}", opts.out.display());
    }
    let tty = human && std::io::stderr().is_terminal();
    let mut on_progress = |p: &LoadProgress| {
        if let Some(e) = &p.event {
            eprintln!("{e}");
            return;
        }
        let c = &p.counters;
        let line = format!(
            "{:>5.1}s  sent {:>9}  received {:>9}  drops {:>6}  {:>9.0}/s  in flight {}",
            p.elapsed.as_secs_f64(),
            c.sent,
            c.received,
            c.drops,
            p.rate,
            p.in_flight
        );
        if tty {
            eprint!("\r{line}");
        } else if human {
            eprintln!("{line}");
        }
    };
    let result = bootcheck_lab::load::load_lab(opts, &mut on_progress);
    if tty {
        eprintln!();
    }
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_INPUT;
        }
    };
    let json = serde_json::to_string_pretty(&report).unwrap_or_default();
    let path = opts.out.join("load.json");
    if let Err(e) = std::fs::write(&path, format!("{json}\n")) {
        eprintln!("error: writing {}: {e}", path.display());
    }
    match args.format {
        Format::Json => println!("{json}"),
        _ => print_human(&report, &path),
    }
    if report.passed {
        EXIT_OK
    } else {
        EXIT_FAIL
    }
}

fn describe(o: &LoadOptions) -> String {
    let pacing = match o.rate {
        Some(r) => format!("open loop at {r}/s"),
        None => format!("closed loop, window {}", o.window.min(o.clients * o.per_client)),
    };
    format!(
        "{}{}, {}, {pacing}, {} clients{}, {:?} or {} exchanges, timeout {:?}{}",
        o.target,
        o.relay.as_ref().map(|r| format!(" behind {r}")).unwrap_or_default(),
        o.mode.name(),
        o.clients,
        if o.per_client > 1 { format!(" ({} exchanges in flight each)", o.per_client) } else { String::new() },
        o.duration,
        o.max_requests,
        o.timeout,
        if o.faults.is_empty() { String::new() } else { format!(", faults {}", o.faults.join(",")) }
    )
}

fn us(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2} ms", v / 1000.0)
    } else {
        format!("{v:.0} µs")
    }
}

fn latency_line(l: &LatencySummary) -> String {
    format!(
        "min {}, median {}, p99 {}, max {} ({} samples)",
        us(l.min_us),
        us(l.median_us),
        us(l.p99_us),
        us(l.max_us),
        l.samples
    )
}

fn pct(r: f64) -> String {
    format!("{:.3} %", r * 100.0)
}

fn print_human(r: &LoadReport, path: &Path) {
    println!(
        "\nsent {}, received {}, drops {} ({}{}), naks {}, orphans {} ({} late), duplicates {}{}{}",
        r.sent,
        r.received,
        r.drops,
        pct(r.drop_ratio),
        if r.mode == Mode::Dora {
            format!(": {} DISCOVER, {} REQUEST", r.drops_first_leg, r.drops_second_leg)
        } else {
            String::new()
        },
        r.naks,
        r.orphans,
        r.late,
        r.duplicates,
        if r.skipped > 0 { format!(", {} starts skipped (every client busy)", r.skipped) } else { String::new() },
        if r.send_refused > 0 { format!(", {} frames refused by the kernel", r.send_refused) } else { String::new() },
    );
    println!(
        "achieved {:.0} exchanges/s (offered {:.0}/s) over {:.1} s; stopped: {}",
        r.achieved_rate, r.offered_rate, r.active_s, r.stopped
    );
    if r.skipped * 100 > r.sent {
        println!(
            "warning: the offered rate fell short of {:.0}/s: {} starts were due while every client had its exchanges in flight (more --clients or --per-client, or a lower --rate)",
            r.rate.unwrap_or(0.0),
            r.skipped
        );
    }
    if let Some(l) = &r.latency {
        println!("latency: {}", latency_line(l));
    }
    if let (Some(a), Some(b)) = (&r.latency_discover_offer, &r.latency_request_ack) {
        println!("  DISCOVER→OFFER: {}", latency_line(a));
        println!("  REQUEST→ACK:    {}", latency_line(b));
    }
    println!(
        "cpu: harness {:.2} s, server {:.2} s{}",
        r.cpu.harness_s,
        r.cpu.server_s,
        r.cpu.relay_s.map(|s| format!(", relay {s:.2} s")).unwrap_or_default()
    );
    if let Some(p) = &r.versus {
        let leg = |l: &Option<bootcheck_lab::load::perfdhcp::LegStats>| {
            l.as_ref().map_or("-".to_string(), |l| {
                format!(
                    "avg {} max {}",
                    l.avg_ms.map_or("-".into(), |v| us(v * 1000.0)),
                    l.max_ms.map_or("-".into(), |v| us(v * 1000.0))
                )
            })
        };
        let bleg = |l: &Option<LatencySummary>| {
            l.as_ref().map_or("-".to_string(), |l| format!("avg {} max {}", us(l.mean_us), us(l.max_us)))
        };
        println!("\nside by side, same server, same clients, {} DORA/s offered:", p.rate);
        println!("  {:<24} {:>22} {:>22}", "", "perfdhcp", "bootcheck");
        println!("  {:<24} {:>22.0} {:>22.0}", "achieved DORA/s", p.achieved_rate, r.achieved_rate);
        println!("  {:<24} {:>22.0} {:>22}", "(perfdhcp's Rate: line)", p.reported_rate, "");
        println!("  {:<24} {:>22} {:>22}", "DORAs started", p.sent, r.sent);
        println!("  {:<24} {:>22} {:>22}", "DORAs completed", p.received, r.received);
        println!("  {:<24} {:>22} {:>22}", "starts skipped", "-", r.skipped);
        println!("  {:<24} {:>22} {:>22}", "drop ratio", pct(p.drop_ratio), pct(r.drop_ratio));
        println!("  {:<24} {:>22} {:>22}", "orphans", p.orphans, r.orphans);
        println!("  {:<24} {:>22} {:>22}", "DISCOVER→OFFER", leg(&p.discover_offer), bleg(&r.latency_discover_offer));
        println!("  {:<24} {:>22} {:>22}", "REQUEST→ACK", leg(&p.request_ack), bleg(&r.latency_request_ack));
        println!(
            "  {:<24} {:>22} {:>22}",
            "DORA p50 / p99",
            "-",
            r.latency.as_ref().map_or("-".into(), |l| format!("{} / {}", us(l.median_us), us(l.p99_us)))
        );
        println!("  {:<24} {:>22.2} {:>22.2}", "generator CPU s", p.perfdhcp_cpu_s, r.cpu.harness_s);
        println!("  {:<24} {:>22.2} {:>22.2}", "server CPU s", p.server_cpu_s, r.cpu.server_s);
        println!("  perfdhcp output: {}", p.output.display());
    }
    println!(
        "{}: drop ratio {} {} {}",
        if r.passed { "PASS" } else { "FAIL" },
        pct(r.drop_ratio),
        if r.drop_ratio <= r.max_drop_ratio { "≤" } else { ">" },
        pct(r.max_drop_ratio)
    );
    println!("report: {}", path.display());
}

/// `bootcheck null-responder --iface IF`: the null target's server (inside a lab).
pub fn null_responder(iface: &str, server_ip: &str, max_seconds: u64) -> u8 {
    let ip = match server_ip.parse() {
        Ok(ip) => ip,
        Err(e) => {
            eprintln!("error: --server-ip {server_ip}: {e}");
            return EXIT_INPUT;
        }
    };
    match bootcheck_lab::load::null::serve(iface, ip, Duration::from_secs(max_seconds)) {
        Ok(_) => EXIT_OK,
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_INPUT
        }
    }
}
