//! `bootcheck`: the command-line front end. Thin by design: it parses arguments, picks
//! the backend and prints reports; the work is in the library crates.

mod check;
mod decode;
mod fuzz;
mod load;
mod matrix;
mod replay;
mod report;
mod rfc;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Exit status: every scenario passed (or deviated as recorded).
pub const EXIT_OK: u8 = 0;
/// Exit status: a scenario failed (or a recorded deviation no longer happens).
pub const EXIT_FAIL: u8 = 1;
/// Exit status: bad input (YAML, schema, capture) or an unusable environment.
pub const EXIT_INPUT: u8 = 2;

#[derive(Debug, Parser)]
#[command(name = "bootcheck", version, about = "Conformance test and fuzzing harness for network-boot servers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Junit,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Scenario files or directories (default: scenarios/).
    pub paths: Vec<PathBuf>,
    /// The site file (default: scenarios/site.yaml).
    #[arg(long)]
    pub site: Option<PathBuf>,
    /// Target: a profile name under targets/ or a path to a profile, or several servers
    /// joined by `+` that together serve a boot chain (`bootpd+tftpd-hpa`: BOOTP from
    /// bootpd, TFTP from tftpd-hpa). Default: the built-in reference server (in the lab
    /// when namespaces can be made, otherwise in-process).
    #[arg(long)]
    pub target: Option<String>,
    /// Run the built-in reference server in this process, even when a lab is possible.
    #[arg(long, conflicts_with = "target")]
    pub in_process: bool,
    /// A relay agent profile (dhcrelay, bootpgw, …) between the harness and the
    /// target: the relay topology, for the relay-agent scenarios (`topology: relay`).
    /// The relay is the subject; the target serves behind it.
    #[arg(long, conflicts_with = "in_process")]
    pub relay: Option<String>,
    /// Reference server fault switch (repeatable): wrong-xid, short-reply, …
    #[arg(long = "fault")]
    pub faults: Vec<String>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Output directory for pcapngs, server log, JSON and JUnit (default: out/run-<time>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only shard K of N (1-based), e.g. 2/4.
    #[arg(long)]
    pub shard: Option<String>,
    /// Scenarios to run at once. In the lab (default 16): on one lab and one server,
    /// never two that play the same client or share an xid or TFTP port, and alone
    /// those that flood or may crash the server; 1 runs them one after another. The
    /// relay topology (--relay) always runs one at a time. In-process: threads
    /// (default 1).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Write each scenario's normalised decode as the new snapshot.
    #[arg(long)]
    pub update_snapshots: bool,
    /// Seed for xids and ports (same seed, same frames).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Subcommand)]
enum LabCmd {
    /// Create a lab and leave it up; prints its names.
    Up {
        #[arg(long)]
        site: Option<PathBuf>,
        /// Also create the relay namespace (client ↔ relay ↔ server).
        #[arg(long)]
        relay: bool,
    },
    /// Tear down a lab by id.
    Down { id: String },
    /// Remove labs whose owner process is gone (all bootcheck labs with --force).
    Clean {
        #[arg(long)]
        force: bool,
    },
    /// List labs.
    List,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenarios against a target and report a verdict per scenario.
    Run(RunArgs),
    /// List the scenarios that would run.
    List {
        paths: Vec<PathBuf>,
        #[arg(long)]
        site: Option<PathBuf>,
    },
    /// List the target profiles.
    Targets,
    /// Manage network-namespace labs.
    Lab {
        #[command(subcommand)]
        cmd: LabCmd,
    },
    /// Run the built-in reference server on an interface (used inside a lab).
    Refserver {
        #[arg(long)]
        site: PathBuf,
        #[arg(long)]
        iface: String,
        #[arg(long = "fault")]
        faults: Vec<String>,
        /// Stop after this many seconds (bounded by default: 1 hour).
        #[arg(long, default_value_t = 3600)]
        max_seconds: u64,
    },
    /// Print the JSON Schema of scenario files.
    Schema,
    /// The conformance matrix (target × rule, target × scenario) from run out dirs,
    /// as docs/conformance/matrix.md and matrix.json.
    Matrix(matrix::MatrixArgs),
    /// Clause traceability: every MUST/SHOULD of RFC 951, 1542, 1534 and 2132 with the
    /// rules and scenarios covering it, and the coverage.
    Rfc(rfc::RfcArgs),
    /// Check captures offline: every BOOTP/DHCP/BSDP, TFTP and RARP exchange in pcap or
    /// pcapng files against the RFC rule catalogue, with a verdict per exchange.
    Check(check::CheckArgs),
    /// Re-send a capture's requests to a target in the lab and diff the live replies
    /// against the recorded ones, field by field.
    Replay(replay::ReplayArgs),
    /// Write a scenario that replays a capture's exchanges and expects the replies
    /// recorded in it (a field capture becomes a regression test).
    Lift {
        capture: PathBuf,
        /// Where to write the scenario (default: stdout).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Scenario id (default: lifted/<capture file stem>).
        #[arg(long)]
        id: Option<String>,
        /// The site the scenario will run against (default: scenarios/site.yaml, if
        /// present): its clients and server become `$site` templates.
        #[arg(long)]
        site: Option<PathBuf>,
    },
    /// Write a capture of synthetic boot traffic (clients and the reference server in
    /// virtual time: BOOTP, DHCP, relayed BOOTP, TFTP reads) for benchmarks.
    #[command(hide = true)]
    Synth {
        /// How many packets.
        #[arg(long, default_value_t = 1_000_000)]
        packets: u64,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        site: Option<PathBuf>,
    },
    /// Fuzz a target in the lab — a server, or with --relay the relay agent in front of
    /// one: mutated requests from the scenario corpus in batches, a liveness probe after
    /// each; crashes and hangs minimised into reproducers.
    Fuzz(fuzz::FuzzArgs),
    /// Load a target in the lab: many simulated clients, open loop at a rate or closed
    /// loop as fast as answered; drops, orphans, duplicates, latency percentiles, the
    /// achieved rate (`--versus perfdhcp`: perfdhcp's numbers beside them).
    Load(load::LoadArgs),
    /// The null responder: reflect each BOOTREQUEST as a minimal BOOTREPLY (the `null`
    /// target, used inside a lab to measure the load generator alone).
    #[command(hide = true)]
    NullResponder {
        #[arg(long)]
        iface: String,
        /// The address replies come from (option 54).
        #[arg(long, default_value = "192.0.2.1")]
        server_ip: String,
        /// Stop after this many seconds.
        #[arg(long, default_value_t = 3600)]
        max_seconds: u64,
    },
    /// Decode every BOOTP/DHCP, TFTP and ARP/RARP packet of pcap or pcapng captures,
    /// with every finding (lying lengths, malformed options…).
    Decode {
        #[arg(required = true)]
        captures: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `bootcheck run | head`: once the reader closes stdout, printing panics with
    // EPIPE. That panic unwinds (labs are torn down by Drop on the way) and ends the
    // command quietly with the shell's status for SIGPIPE, not a panic message.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !is_broken_pipe(info.payload()) {
            default_hook(info);
        }
    }));
    let code = match std::panic::catch_unwind(move || dispatch(cli)) {
        Ok(code) => code,
        Err(p) if is_broken_pipe(&*p) => return ExitCode::from(141),
        Err(p) => std::panic::resume_unwind(p),
    };
    // Interrupted (SIGINT/SIGTERM) and cleaned up: the conventional 128 + SIGINT.
    if bootcheck_lab::interrupted() {
        return ExitCode::from(130);
    }
    ExitCode::from(code)
}

/// A duration option (`--duration`, `--timeout`, …): plain seconds (`2.5`) or a
/// duration with its unit (`500ms`, `90s`, `2m`).
fn parse_secs(what: &str, s: &str) -> Result<std::time::Duration, String> {
    if let Ok(n) = s.trim().parse::<f64>() {
        return std::time::Duration::try_from_secs_f64(n).map_err(|e| format!("{what} {s}: {e}"));
    }
    bootcheck_lab::target::parse_duration(s).map_err(|e| format!("{what}: {e}"))
}

/// A panic from printing to a closed stdout (`failed printing to stdout: Broken pipe`).
fn is_broken_pipe(payload: &(dyn std::any::Any + Send)) -> bool {
    let text = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("");
    text.contains("failed printing to stdout") && text.contains("Broken pipe")
}

fn dispatch(cli: Cli) -> u8 {
    match cli.command {
        Command::Run(args) => {
            // Not root: the lab runs inside a private user namespace, entered now while
            // the process still has one thread.
            let userns = (!args.in_process && bootcheck_lab::privilege() == bootcheck_lab::Privilege::UserNamespaces)
                .then(|| bootcheck_lab::userns::enter().map_err(|e| e.to_string()));
            run::run(&args, userns)
        }
        Command::List { paths, site } => run::list(&paths, site.as_deref()),
        Command::Targets => run::targets(),
        Command::Lab { cmd } => run::lab(cmd),
        Command::Refserver { site, iface, faults, max_seconds } => run::refserver(&site, &iface, &faults, max_seconds),
        Command::Schema => {
            print!("{}", bootcheck_scenario::schema_json());
            EXIT_OK
        }
        Command::Check(args) => check::check(&args),
        Command::Replay(args) => replay::replay(&args),
        Command::Lift { capture, out, id, site } => {
            check::lift(&capture, out.as_deref(), id.as_deref(), site.as_deref())
        }
        Command::Synth { packets, out, site } => check::synth(packets, &out, site.as_deref()),
        Command::Fuzz(args) => {
            // Not root: the lab runs inside a private user namespace, as for `run`.
            let userns = (bootcheck_lab::privilege() == bootcheck_lab::Privilege::UserNamespaces)
                .then(|| bootcheck_lab::userns::enter().map_err(|e| e.to_string()));
            fuzz::fuzz(&args, userns)
        }
        Command::Load(args) => {
            // Not root: the lab runs inside a private user namespace, as for `run`.
            let userns = (bootcheck_lab::privilege() == bootcheck_lab::Privilege::UserNamespaces)
                .then(|| bootcheck_lab::userns::enter().map_err(|e| e.to_string()));
            load::load(&args, userns)
        }
        Command::NullResponder { iface, server_ip, max_seconds } => {
            load::null_responder(&iface, &server_ip, max_seconds)
        }
        Command::Decode { captures } => decode::decode(&captures),
        Command::Rfc(args) => rfc::rfc(&args),
        Command::Matrix(args) => matrix::matrix(&args),
    }
}
