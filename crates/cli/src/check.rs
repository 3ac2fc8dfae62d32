//! `bootcheck check CAPTURE…`: the rule catalogue over every exchange of pcap/pcapng
//! captures, streamed (flat memory), with per-exchange verdicts and a summary.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use bootcheck_capture::{render, ExchangeVerdict, Options, Output};

use crate::{Format, EXIT_FAIL, EXIT_INPUT, EXIT_OK};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// pcap or pcapng files (Ethernet, Linux SLL/SLL2, raw IPv4; any number of
    /// interfaces per pcapng).
    #[arg(required = true)]
    pub captures: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Print only failing exchanges (and warnings), issues and the summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// Seconds after a request within which a reply pairs with it.
    #[arg(long, default_value_t = 10.0)]
    pub window: f64,
    /// Seconds of silence that end a TFTP transfer.
    #[arg(long, default_value_t = 10.0)]
    pub tftp_idle: f64,
    /// Frames kept per exchange (longer TFTP transfers are reported unchecked).
    #[arg(long, default_value_t = 65_536)]
    pub max_frames: usize,
    /// Judge UDP checksums (only for captures taken off the wire, not on the sending
    /// host, where checksum offload leaves them unfinished).
    #[arg(long)]
    pub checksums: bool,
    /// Exit 2 when a capture is damaged (truncated, bad records), even if every
    /// exchange passed.
    #[arg(long)]
    pub strict: bool,
}

pub fn check(args: &CheckArgs) -> u8 {
    let opts = Options {
        window: Duration::from_secs_f64(args.window.max(0.0)),
        tftp_idle: Duration::from_secs_f64(args.tftp_idle.max(0.0)),
        max_frames: args.max_frames.max(1),
        checksums_meaningful: args.checksums,
        ..Options::default()
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut failed = false;
    let mut damaged = false;
    let mut unreadable = false;
    let mut junit = quick_junit::Report::new("bootcheck check");
    if args.format == Format::Json {
        let _ = write!(out, "{{\"captures\":[");
    }
    for (n, path) in args.captures.iter().enumerate() {
        let name = path.display().to_string();
        let mut suite = quick_junit::TestSuite::new(name.clone());
        let mut issues: Vec<String> = Vec::new();
        let mut first = true;
        match args.format {
            Format::Human => {
                let _ = writeln!(out, "== {name}");
            }
            Format::Json => {
                let _ = write!(
                    out,
                    "{}{{\"capture\":{},\"exchanges\":[",
                    if n > 0 { "," } else { "" },
                    serde_json::to_string(&name).unwrap_or_default()
                );
            }
            Format::Junit => {}
        }
        let mut sink = |o: Output| match o {
            Output::Exchange(e) => {
                let bad = matches!(e.verdict, ExchangeVerdict::Fail | ExchangeVerdict::Warn);
                failed |= e.verdict == ExchangeVerdict::Fail;
                match args.format {
                    Format::Human => {
                        if !args.quiet || bad {
                            let _ = writeln!(out, "{}", render::exchange(&e));
                        }
                    }
                    Format::Json => {
                        let _ = write!(
                            out,
                            "{}{}",
                            if first { "" } else { "," },
                            serde_json::to_string(&e).unwrap_or_default()
                        );
                        first = false;
                    }
                    Format::Junit => {
                        suite.add_test_case(junit_case(&e));
                    }
                }
            }
            Output::Issue(i) => {
                if !matches!(i.kind, bootcheck_capture::IssueKind::Cut { .. }) {
                    damaged = true;
                }
                if args.format == Format::Human {
                    let _ = writeln!(out, "{}", render::issue(&i));
                }
                if issues.len() < 1000 {
                    issues.push(i.to_string());
                }
            }
        };
        match bootcheck_capture::check_file(path, opts.clone(), &mut sink) {
            Ok(summary) => match args.format {
                Format::Human => {
                    let _ = writeln!(out, "{}", render::summary(&summary));
                }
                Format::Json => {
                    let _ = write!(
                        out,
                        "],\"issues\":{},\"summary\":{}}}",
                        serde_json::to_string(&issues).unwrap_or_default(),
                        serde_json::to_string(&summary).unwrap_or_default()
                    );
                }
                Format::Junit => {
                    if !issues.is_empty() {
                        let mut s = quick_junit::TestCaseStatus::non_success(quick_junit::NonSuccessKind::Error);
                        s.set_message(format!("{} problems in the capture file", issues.len()));
                        s.set_description(issues.join("\n"));
                        suite.add_test_case(quick_junit::TestCase::new("capture file integrity", s));
                    }
                    junit.add_test_suite(suite);
                }
            },
            Err(e) => {
                unreadable = true;
                let _ = out.flush();
                eprintln!("error: {name}: {e}");
                if args.format == Format::Json {
                    let _ = write!(out, "],\"error\":{}}}", serde_json::to_string(&e.to_string()).unwrap_or_default());
                }
            }
        }
    }
    match args.format {
        Format::Json => {
            let _ = writeln!(out, "]}}");
        }
        Format::Junit => {
            let _ = writeln!(out, "{}", junit.to_string().unwrap_or_default());
        }
        Format::Human => {}
    }
    let _ = out.flush();
    if unreadable || (args.strict && damaged) {
        EXIT_INPUT
    } else if failed {
        EXIT_FAIL
    } else {
        EXIT_OK
    }
}

fn junit_case(e: &bootcheck_capture::Exchange) -> quick_junit::TestCase {
    use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus};
    let status = match e.verdict {
        ExchangeVerdict::Pass | ExchangeVerdict::Warn => TestCaseStatus::success(),
        ExchangeVerdict::Fail => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let first = e.failures.first().map_or(String::new(), |f| format!("{} {}", f.level, f.rule));
            s.set_message(first);
            s.set_description(render::exchange(e));
            s
        }
        ExchangeVerdict::Unanswered | ExchangeVerdict::Unpaired | ExchangeVerdict::Unchecked => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(e.verdict.label());
            s
        }
    };
    let mut tc = TestCase::new(format!("{} {} {}", render::packets(&e.packets), e.kind, e.what), status);
    tc.set_classname(e.kind);
    tc
}

/// `bootcheck synth`: the reference server's synthetic traffic as a pcap.
pub fn synth(packets: u64, out: &std::path::Path, site: Option<&std::path::Path>) -> u8 {
    let site_path = site.map_or_else(|| PathBuf::from("scenarios/site.yaml"), PathBuf::from);
    let site = match bootcheck_scenario::load_site(&site_path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_INPUT;
        }
    };
    let file = match std::fs::File::create(out) {
        Ok(f) => std::io::BufWriter::with_capacity(1 << 20, f),
        Err(e) => {
            eprintln!("error: {}: {e}", out.display());
            return EXIT_INPUT;
        }
    };
    let written = (|| -> std::io::Result<()> {
        let mut w = bootcheck_capture::writer::PcapWriter::new(file, bootcheck_wire::frame::LinkType::Ethernet)?;
        // A fixed epoch, so the same count gives the same file.
        let epoch = Duration::from_secs(1_800_000_000);
        for (t, frame) in bootcheck_refserver::synth::Traffic::new(site).take(packets as usize) {
            w.write(epoch + t, &frame)?;
        }
        w.finish()?;
        Ok(())
    })();
    match written {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("error: writing {}: {e}", out.display());
            EXIT_INPUT
        }
    }
}

/// `bootcheck lift`: a capture as a scenario.
pub fn lift(
    capture: &std::path::Path,
    out: Option<&std::path::Path>,
    id: Option<&str>,
    site: Option<&std::path::Path>,
) -> u8 {
    let site_path = site.map_or_else(|| PathBuf::from("scenarios/site.yaml"), PathBuf::from);
    let site = match bootcheck_scenario::load_site(&site_path) {
        Ok(s) => Some(s),
        Err(e) if site.is_some() => {
            eprintln!("{e}");
            return EXIT_INPUT;
        }
        Err(_) => None,
    };
    let stem = capture.file_stem().map_or_else(|| "capture".into(), |s| s.to_string_lossy().into_owned());
    let id = id.map_or_else(|| format!("lifted/{stem}"), str::to_string);
    let lifted = match bootcheck_capture::lift::lift_file(capture, site.as_ref(), &id) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {}: {e}", capture.display());
            return EXIT_INPUT;
        }
    };
    match out {
        Some(p) => {
            if let Err(e) = std::fs::write(p, &lifted.yaml) {
                eprintln!("error: {}: {e}", p.display());
                return EXIT_INPUT;
            }
            eprintln!(
                "wrote {} ({} steps{}); run it with `bootcheck run {}`",
                p.display(),
                lifted.steps,
                if lifted.left_out > 0 { format!(", {} exchanges left out", lifted.left_out) } else { String::new() },
                p.display()
            );
        }
        None => print!("{}", lifted.yaml),
    }
    EXIT_OK
}
