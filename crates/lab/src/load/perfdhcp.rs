//! ISC perfdhcp (Debian `kea-admin`) in the lab: the same DORA load as `bootcheck load
//! --mode dora`, from the client namespace against the same server, for a side by side
//! comparison (`bootcheck load --versus perfdhcp`).
//!
//! perfdhcp runs as `perfdhcp -4 -l IFACE -r RATE -p SECONDS -M MACS -d TIMEOUT`: the
//! clients are the load's own (`-M`, a file of their MACs: the server has a host entry
//! for each, as for bootcheck's), the offered rate and the drop time the same. It
//! behaves as a relay agent (giaddr = its interface address, the relay agent address of
//! the direct lab, on the server's subnet; broadcast from port 67, replies unicast to
//! it, port 67), and bootcheck's side of the comparison sends the same way (path
//! `link-relay`), with perfdhcp's options (61 client identifier, the same parameter
//! request list): the server does the same work for both.
//!
//! Its final report is parsed: the rate line, then per exchange (DISCOVER-OFFER,
//! REQUEST-ACK) sent, received, drops, orphans and min/avg/max/std delays. It has no
//! percentiles.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::LoadOptions;
use crate::netns::SpawnOptions;
use crate::{Lab, Role};

/// One perfdhcp exchange type's statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LegStats {
    pub sent: u64,
    pub received: u64,
    pub drops: u64,
    pub orphans: u64,
    pub min_ms: Option<f64>,
    pub avg_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub std_ms: Option<f64>,
}

/// perfdhcp's run, as parsed from its report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PerfdhcpReport {
    pub command: Vec<String>,
    /// perfdhcp's exit status (3: some exchanges did not complete).
    pub exit_status: Option<i32>,
    /// The rate asked for (`-r`).
    pub rate: f64,
    /// DORAs completed per second of the test period (`-p`): the same definition as
    /// bootcheck's `achieved_rate`.
    pub achieved_rate: f64,
    /// perfdhcp's own "Rate:" line (4-way exchanges per second), which divides by the
    /// test period plus the exit wait (`-W`).
    pub reported_rate: f64,
    /// DISCOVERs sent.
    pub sent: u64,
    /// ACKs received.
    pub received: u64,
    /// Both legs' drops.
    pub drops: u64,
    /// (sent − received) / sent, as bootcheck's.
    pub drop_ratio: f64,
    pub orphans: u64,
    pub discover_offer: Option<LegStats>,
    pub request_ack: Option<LegStats>,
    /// CPU time the server used during perfdhcp's run (seconds).
    pub server_cpu_s: f64,
    /// CPU time perfdhcp itself used (seconds).
    pub perfdhcp_cpu_s: f64,
    /// perfdhcp's whole output.
    pub output: PathBuf,
}

/// The installed perfdhcp, or why there is none.
pub fn find() -> Result<PathBuf, String> {
    for d in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"] {
        let p = PathBuf::from(d).join("perfdhcp");
        if p.exists() {
            return Ok(p);
        }
    }
    Err("perfdhcp is not installed (Debian package `kea-admin`; ci/install-deps.sh installs it)".into())
}

/// Run perfdhcp in the client namespace of `lab` with `opts`' rate, duration and
/// timeout, for `clients` (whose MACs the server knows). Bounded: killed by PID after
/// the duration plus 30 s.
pub fn run(lab: &Lab, clients: &[[u8; 6]], opts: &LoadOptions) -> Result<PerfdhcpReport, String> {
    let exe = find()?;
    // Absolute: perfdhcp runs in the out dir, and with a -M file it cannot open it
    // silently falls back to its one default MAC, which the server does not know.
    let macs =
        std::path::absolute(opts.out.join("perfdhcp-macs.txt")).map_err(|e| format!("{}: {e}", opts.out.display()))?;
    let text: String = clients
        .iter()
        .map(|m| format!("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}\n", m[0], m[1], m[2], m[3], m[4], m[5]))
        .collect();
    std::fs::write(&macs, text).map_err(|e| format!("writing {}: {e}", macs.display()))?;
    let rate = opts.rate.unwrap_or(1.0);
    let secs = opts.duration.as_secs_f64();
    let mut argv: Vec<String> = vec![
        exe.display().to_string(),
        "-4".into(),
        "-l".into(),
        lab.names().client_if.clone(),
        "-r".into(),
        format!("{}", rate.round().max(1.0) as u64),
        "-p".into(),
        format!("{secs}"),
        "-M".into(),
        macs.display().to_string(),
        "-d".into(),
        format!("{}", opts.timeout.as_secs_f64()),
        // After the period, wait one drop time for the answers still due.
        "-W".into(),
        format!("{}", opts.timeout.as_micros()),
    ];
    argv.extend(opts.perfdhcp_args.iter().cloned());
    let log = opts.out.join("perfdhcp.txt");
    let _ = std::fs::remove_file(&log);
    let spawn = SpawnOptions { log: Some(log.clone()), cwd: Some(opts.out.clone()), ..SpawnOptions::default() };
    let mut child = lab.exec_with(Role::Client, &argv, &spawn).map_err(|e| e.to_string())?;
    let pid = i32::try_from(child.id()).unwrap_or(i32::MAX);
    let deadline = Instant::now() + opts.duration + opts.timeout + Duration::from_secs(30);
    let mut cpu = 0;
    let status = loop {
        cpu = cpu.max(super::cpu_ns(pid));
        match child.try_wait() {
            Ok(Some(s)) => {
                let _ = lab.forget_pid(pid);
                break Some(s);
            }
            Ok(None) if Instant::now() < deadline && !crate::interrupted() => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(None) => {
                // SIGINT: perfdhcp prints its report and exits.
                let _ = lab.stop_process(pid, nix::sys::signal::Signal::SIGINT, Duration::from_secs(3));
                break child.wait().ok();
            }
            Err(e) => return Err(format!("waiting for perfdhcp: {e}")),
        }
    };
    let out = std::fs::read_to_string(&log).map_err(|e| format!("reading {}: {e}", log.display()))?;
    let mut r = parse(&out);
    if r.discover_offer.is_none() {
        return Err(format!(
            "perfdhcp printed no statistics (exit {:?}); its output:\n{}",
            status.and_then(|s| s.code()),
            out.lines().take(30).collect::<Vec<_>>().join("\n")
        ));
    }
    r.command = argv;
    r.exit_status = status.and_then(|s| s.code());
    r.rate = rate;
    r.achieved_rate = r.received as f64 / secs.max(1e-9);
    r.perfdhcp_cpu_s = cpu as f64 / 1e9;
    r.output = log;
    Ok(r)
}

/// Parse perfdhcp's final report (the sections after `***Rate statistics***`).
pub fn parse(text: &str) -> PerfdhcpReport {
    let mut r = PerfdhcpReport::default();
    let mut leg: Option<(String, LegStats)> = None;
    let mut legs: Vec<(String, LegStats)> = Vec::new();
    let num = |s: &str| s.split_whitespace().next().and_then(|v| v.parse::<f64>().ok());
    for line in text.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("Rate:") {
            r.reported_rate = num(rest).unwrap_or(0.0);
        } else if let Some(rest) = l.strip_prefix("***Statistics for:") {
            if let Some(done) = leg.take() {
                legs.push(done);
            }
            leg = Some((rest.trim_end_matches('*').trim().to_string(), LegStats::default()));
        } else if let Some((_, s)) = leg.as_mut() {
            let Some((key, value)) = l.split_once(':') else { continue };
            let v = num(value);
            let n = v.map_or(0, |v| v as u64);
            match key.trim() {
                "sent packets" => s.sent = n,
                "received packets" => s.received = n,
                "drops" => s.drops = n,
                "orphans" => s.orphans = n,
                "min delay" => s.min_ms = v,
                "avg delay" => s.avg_ms = v,
                "max delay" => s.max_ms = v,
                "std deviation" => s.std_ms = v,
                _ => {}
            }
        }
    }
    if let Some(done) = leg.take() {
        legs.push(done);
    }
    for (name, s) in legs {
        match name.as_str() {
            "DISCOVER-OFFER" => r.discover_offer = Some(s),
            "REQUEST-ACK" => r.request_ack = Some(s),
            _ => {}
        }
    }
    let d = r.discover_offer.clone().unwrap_or_default();
    let a = r.request_ack.clone().unwrap_or_default();
    r.sent = d.sent;
    r.received = a.received;
    r.drops = d.drops + a.drops;
    r.orphans = d.orphans + a.orphans;
    r.drop_ratio = if r.sent == 0 { 1.0 } else { r.sent.saturating_sub(r.received) as f64 / r.sent as f64 };
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_final_report() {
        let text = "\
Running: perfdhcp -4 -l bc1-c0 -r 100 -p 2
***Rate statistics***
Rate: 99.5 4-way exchanges/second, expected rate: 100

***Statistics for: DISCOVER-OFFER***
sent packets: 200
received packets: 199
drops: 1
drops ratio: 0.5 %
orphans: 0
rejected leases: 0
non unique addresses: 0

min delay: 0.150 ms
avg delay: 0.400 ms
max delay: 3.000 ms
std deviation: 0.100 ms
collected packets: 0

***Statistics for: REQUEST-ACK***
sent packets: 199
received packets: 199
drops: 0
drops ratio: 0 %
orphans: 2
rejected leases: 0
non unique addresses: 0

min delay: 0.200 ms
avg delay: 0.500 ms
max delay: 4.000 ms
std deviation: 0.200 ms
collected packets: 0
";
        let r = parse(text);
        assert!((r.reported_rate - 99.5).abs() < 1e-9);
        assert_eq!((r.sent, r.received, r.drops, r.orphans), (200, 199, 1, 2));
        assert!((r.drop_ratio - 0.005).abs() < 1e-9);
        let a = r.request_ack.expect("RA");
        assert_eq!(a.avg_ms, Some(0.5));
        assert_eq!(a.max_ms, Some(4.0));
        assert_eq!(r.discover_offer.expect("DO").min_ms, Some(0.15));
    }
}
