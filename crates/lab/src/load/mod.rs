//! `bootcheck load`: many simulated clients against a server in the lab, open-loop at a
//! fixed rate or closed-loop as fast as answered, with drops, orphans, duplicates,
//! latency percentiles and the achieved rate.
//!
//! * [`gen`]: the generator's state, sans-IO (clients, exchanges in flight, matching,
//!   timeouts, counters, histograms); [`frames`]: request templates and the reply
//!   parser; [`hist`]: the latency histogram.
//! * [`null`]: the null responder (`targets/null.yaml`), a reflector that measures the
//!   harness alone.
//! * [`perfdhcp`]: ISC perfdhcp run in the same lab against the same server, for a side
//!   by side comparison.
//! * here: the lab (the site plus the load clients, so that every server's config,
//!   rendered from the site, knows them), the target (and a relay agent in the relay
//!   topology), and the driver: one thread, an AF_PACKET socket in the client namespace
//!   with batched sends and reads ([`crate::packet`]).
//!
//! Bounded: sending stops at `duration` or `max_requests` (or Ctrl-C), then the
//! exchanges in flight get their timeout, and the lab is torn down.

pub mod frames;
pub mod gen;
pub mod hist;
pub mod null;
pub mod perfdhcp;

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bootcheck_scenario::site::Client;
use bootcheck_scenario::{Mac, Site};
use serde::Serialize;

use crate::packet::PacketSocket;
use crate::{Lab, Role, Subjects};
pub use gen::{Counters, Exchange, GenConfig, Generator, Pacing};
pub use hist::{Histogram, LatencySummary};

/// What the load is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Pure BOOTREQUEST/BOOTREPLY exchanges from clients on the server's link.
    Bootp,
    /// DHCP DISCOVER → OFFER → REQUEST → ACK, one exchange per DORA.
    Dora,
    /// BOOTP exchanges relayed: the harness as the relay agent (giaddr set, unicast to
    /// the server), or through a real relay agent (`relay`).
    Relayed,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Bootp => "bootp",
            Mode::Dora => "dora",
            Mode::Relayed => "relayed",
        }
    }
    fn exchange(self) -> Exchange {
        match self {
            Mode::Dora => Exchange::Dora,
            Mode::Bootp | Mode::Relayed => Exchange::Bootp,
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "bootp" => Ok(Mode::Bootp),
            "dora" => Ok(Mode::Dora),
            "relayed" => Ok(Mode::Relayed),
            _ => Err(format!("`{s}`: expected bootp, dora or relayed")),
        }
    }
}

/// A comparison run in the same lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versus {
    Perfdhcp,
}

/// What a load run needs.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub site: Site,
    /// A profile name under `targets_dir`, or a path to a profile file.
    pub target: String,
    /// A relay agent profile: the relay topology, the load goes through it.
    pub relay: Option<String>,
    pub targets_dir: PathBuf,
    /// Reference server fault switches (the profile's `faults` variable).
    pub faults: Vec<String>,
    pub mode: Mode,
    /// Open loop at this many exchanges per second; `None`: closed loop.
    pub rate: Option<f64>,
    /// Closed loop: exchanges in flight (at most `per_client` per client).
    pub window: usize,
    pub clients: usize,
    /// Exchanges one client may have in flight at once.
    pub per_client: usize,
    pub duration: Duration,
    pub max_requests: u64,
    /// Per leg.
    pub timeout: Duration,
    /// Frames per system call.
    pub batch: usize,
    /// The run passes when (sent − received) / sent is at most this.
    pub max_drop_ratio: f64,
    /// Render the server's config for load (`load` template variable: Kea and dnsmasq
    /// log warnings only instead of every packet).
    pub quiet_server: bool,
    pub versus: Option<Versus>,
    /// Extra perfdhcp arguments (`-g single`, …), appended to the comparison's command.
    pub perfdhcp_args: Vec<String>,
    /// xids start from a value derived from this.
    pub seed: u64,
    pub out: PathBuf,
}

/// Where a run stands (about once a second, and on events).
#[derive(Debug, Clone, Default)]
pub struct LoadProgress {
    pub elapsed: Duration,
    pub counters: Counters,
    pub in_flight: usize,
    /// Exchanges completed per second over the last interval.
    pub rate: f64,
    /// Something to tell a human.
    pub event: Option<String>,
}

/// One second of a run.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Sample {
    pub t_s: f64,
    pub sent: u64,
    pub received: u64,
    pub drops: u64,
    /// Exchanges completed per second in this interval.
    pub rate: f64,
}

/// CPU time used during the load (seconds, from `/proc/*/schedstat`).
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct CpuReport {
    /// The harness process (generator and I/O).
    pub harness_s: f64,
    /// The target's processes (every thread).
    pub server_s: f64,
    /// The relay agent's processes, in the relay topology.
    pub relay_s: Option<f64>,
}

/// The outcome of one load run (`load.json`).
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub target: String,
    pub relay: Option<String>,
    pub mode: Mode,
    /// `direct` (clients on the server's link), `harness-relay` (the harness as relay
    /// agent for the relay subnet), `link-relay` (as perfdhcp: a relay agent on the
    /// server's link, with `versus`), `relay` (through the relay agent named in `relay`).
    pub path: String,
    /// `open` or `closed`.
    pub pacing: String,
    pub rate: Option<f64>,
    pub window: Option<usize>,
    pub clients: usize,
    pub per_client: usize,
    pub timeout_ms: f64,
    pub duration_s: f64,
    pub max_requests: u64,
    pub batch: usize,
    /// Exchanges started.
    pub sent: u64,
    /// Exchanges completed (BOOTREPLY; DHCPACK for DORA).
    pub received: u64,
    pub drops: u64,
    pub drops_first_leg: u64,
    pub drops_second_leg: u64,
    pub naks: u64,
    /// (sent − received) / sent: exchanges that did not complete (unanswered in time, or
    /// a NAK).
    pub drop_ratio: f64,
    pub orphans: u64,
    pub late: u64,
    pub duplicates: u64,
    /// Open loop: starts due while every client was busy.
    pub skipped: u64,
    /// Frames the kernel refused to send (no buffer space): they count as drops.
    pub send_refused: u64,
    pub frames_sent: u64,
    pub frames_received: u64,
    /// Seconds from the first request to the end of sending or the last reply,
    /// whichever came later.
    pub active_s: f64,
    /// Exchanges started per second.
    pub offered_rate: f64,
    /// Exchanges completed per second.
    pub achieved_rate: f64,
    /// Whole exchanges (DORA: DISCOVER sent → ACK received).
    pub latency: Option<LatencySummary>,
    /// DORA: DISCOVER → OFFER.
    pub latency_discover_offer: Option<LatencySummary>,
    /// DORA: REQUEST → ACK.
    pub latency_request_ack: Option<LatencySummary>,
    pub cpu: CpuReport,
    pub max_drop_ratio: f64,
    /// received > 0 and drop_ratio ≤ max_drop_ratio.
    pub passed: bool,
    /// `duration`, `max-requests` or `interrupted`.
    pub stopped: String,
    pub samples: Vec<Sample>,
    /// The same load from perfdhcp against the same server (`--versus perfdhcp`).
    pub versus: Option<perfdhcp::PerfdhcpReport>,
    pub wall_s: f64,
    /// The load average when the run started (1, 5, 15 minutes).
    pub loadavg: Option<[f64; 3]>,
}

/// MAC of load client `i` (0-based): `02:1c:ad:00:HH:LL` with HHLL = i + 1 (locally
/// administered; no site client or fuzz probe uses the prefix).
pub fn client_mac(i: usize) -> [u8; 6] {
    let n = i + 1;
    [0x02, 0x1c, 0xad, (n >> 16) as u8, (n >> 8) as u8, n as u8]
}

/// The site plus `n` clients of the load (`load-0001`, …), each with its own MAC and
/// fixed address, on the server's subnet (outside the pool and every address the site
/// uses) or, `relayed`, on the relay subnet: every target config rendered from the site
/// then knows them (host entries, reservations), for BOOTP as for DHCP.
pub fn with_load_clients(site: &Site, n: usize, relayed: bool) -> Result<(Site, Vec<[u8; 6]>), String> {
    let mut site = site.clone();
    let net = if relayed { site.relay.subnet } else { site.subnet };
    let free = crate::setup::free_addresses(&site, relayed);
    if n == 0 || n > free.len() {
        return Err(format!(
            "--clients {n}: the {} {net} has {} free addresses for load clients (1 to {})",
            if relayed { "relay subnet" } else { "subnet" },
            free.len(),
            free.len()
        ));
    }
    let bootfile = site.boot.default.clone();
    let mut macs = Vec::with_capacity(n);
    for (i, ip) in free.into_iter().take(n).enumerate() {
        let mac = client_mac(i);
        let name = format!("load-{:04}", i + 1);
        site.clients.insert(name.clone(), Client { mac: Mac(mac), ip, hostname: name, bootfile: bootfile.clone() });
        macs.push(mac);
    }
    if let Some((p, m)) = site.validate().into_iter().next() {
        return Err(format!("the site with the load clients is not valid: {p}: {m}"));
    }
    Ok((site, macs))
}

/// CPU time of every thread of `pid`, nanoseconds (`/proc/PID/task/*/schedstat`).
pub fn cpu_ns(pid: i32) -> u64 {
    let Ok(rd) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return 0 };
    rd.flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()))
        .sum()
}

fn cpu_of(pids: &[i32]) -> u64 {
    pids.iter().map(|p| cpu_ns(*p)).sum()
}

/// `/proc/loadavg`.
pub fn loadavg() -> Option<[f64; 3]> {
    let s = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = s.split_whitespace().map(|v| v.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// What the driver loop measured besides the generator's own state.
#[derive(Debug, Clone, Default)]
pub struct DriveStats {
    pub send_refused: u64,
    /// First request to the end of sending or the last reply, whichever came later.
    pub active: Duration,
    pub samples: Vec<Sample>,
}

/// Run `gen` over `sock` until it is done (or `hard_limit` passes): send what is due in
/// batches, read what arrived in batches, wait for the next deadline. `on_tick` about
/// once a second.
pub fn drive(
    gen: &mut Generator,
    sock: &mut PacketSocket,
    hard_limit: Duration,
    on_tick: &mut dyn FnMut(&LoadProgress),
) -> Result<DriveStats, String> {
    // Wake-ups on time for open-loop pacing: the default 50 µs timer slack would do.
    let _ = nix::sys::prctl::set_timerslack(1_000);
    let batch = sock.batch();
    let mut bufs: Vec<Vec<u8>> = (0..batch).map(|_| Vec::with_capacity(400)).collect();
    let mut stats = DriveStats::default();
    let tick = Duration::from_secs(1);
    let mut next_tick = tick;
    let mut last = (Duration::ZERO, 0u64);
    let mut send_end: Option<Duration> = None;
    let mut last_rx = Duration::ZERO;
    let t0 = Instant::now();
    loop {
        if crate::interrupted() {
            gen.stop();
        }
        // Read everything queued.
        let mut got = 0;
        loop {
            let mut at: Option<Duration> = None;
            let n = sock
                .recv_batch(|f| {
                    let t = *at.get_or_insert_with(|| t0.elapsed());
                    gen.handle_frame(t, f);
                })
                .map_err(|e| e.to_string())?;
            if let Some(t) = at {
                last_rx = t;
            }
            got += n;
            if n < batch {
                break;
            }
        }
        let now = t0.elapsed();
        gen.handle_timeout(now);
        // Send what is due.
        let mut n = 0;
        while n < batch && gen.poll_transmit(now, &mut bufs[n]) {
            n += 1;
        }
        if n > 0 {
            let s = sock.send_all(&bufs[..n]).map_err(|e| e.to_string())?;
            stats.send_refused += s.refused as u64;
        }
        if send_end.is_none() && !gen.starting(now) {
            send_end = Some(now);
        }
        if now >= next_tick {
            let c = gen.counters;
            let dt = (now - last.0).as_secs_f64().max(1e-9);
            let rate = (c.received - last.1) as f64 / dt;
            stats.samples.push(Sample {
                t_s: now.as_secs_f64(),
                sent: c.sent,
                received: c.received,
                drops: c.drops,
                rate,
            });
            on_tick(&LoadProgress { elapsed: now, counters: c, in_flight: gen.in_flight(), rate, event: None });
            last = (now, c.received);
            next_tick = now + tick;
        }
        if gen.is_done(now) || now >= hard_limit {
            break;
        }
        if n == 0 && got == 0 {
            let due = gen.poll_timeout(now).unwrap_or(now + tick).min(next_tick).min(now + Duration::from_millis(100));
            let wait = due.saturating_sub(t0.elapsed());
            if !wait.is_zero() {
                sock.wait(wait).map_err(|e| e.to_string())?;
            }
        }
    }
    let end = send_end.unwrap_or_else(|| t0.elapsed());
    stats.active = end.max(last_rx);
    Ok(stats)
}

/// The generator's configuration for `opts` in `lab`.
fn gen_config(opts: &LoadOptions, site: &Site, lab: &Lab, clients: Vec<[u8; 6]>) -> GenConfig {
    let addressing = if opts.versus.is_some() {
        // As perfdhcp sends: a relay agent on the server's own link (giaddr = its
        // interface address, the site's relay uplink), broadcast from port 67; the
        // server answers giaddr:67 by unicast. Same subnet, same reservations, same
        // reply path as perfdhcp's.
        frames::Addressing::RelayAgent {
            src_mac: lab.names().client_mac.0,
            src_ip: site.relay.uplink,
            giaddr: site.relay.uplink,
            server_mac: [0xff; 6],
            server_ip: Ipv4Addr::BROADCAST,
        }
    } else if opts.mode == Mode::Relayed && opts.relay.is_none() {
        frames::Addressing::RelayAgent {
            src_mac: lab.names().client_mac.0,
            src_ip: site.relay.uplink,
            giaddr: site.relay.ip,
            server_mac: site.server.mac.0,
            server_ip: site.server.ip,
        }
    } else {
        frames::Addressing::Client
    };
    let pacing = match opts.rate {
        // A bucket of 20 ms of tokens (at least 2): the starts due while the harness
        // was not scheduled for up to 20 ms go out when it is, so the offered rate
        // holds on a busy machine (as a burst, in batches).
        Some(rate) => Pacing::Open { rate, burst: (rate * 0.02).max(2.0) },
        None => Pacing::Closed { window: opts.window.clamp(1, clients.len() * opts.per_client.max(1)) },
    };
    GenConfig {
        exchange: opts.mode.exchange(),
        addressing,
        pacing,
        clients,
        per_client: opts.per_client,
        timeout: opts.timeout,
        max_requests: opts.max_requests,
        duration: opts.duration,
        xid_base: (opts.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as u32,
        server_id: site.server.ip.octets(),
    }
}

/// Check the options before a lab is made.
pub fn validate(opts: &LoadOptions) -> Result<(), String> {
    if let Some(r) = opts.rate {
        if !(r > 0.0 && r.is_finite()) {
            return Err(format!("--rate {r}: exchanges per second must be above 0"));
        }
    }
    if opts.per_client == 0 || opts.per_client > 64 {
        return Err(format!("--per-client {}: from 1 to 64 exchanges in flight per client", opts.per_client));
    }
    if opts.window == 0 {
        return Err("--window 0: at least one exchange must be in flight".into());
    }
    if opts.duration.is_zero() && opts.max_requests == 0 {
        return Err("nothing to send: --duration 0 and --max-requests 0".into());
    }
    if opts.duration > Duration::from_secs(3600) {
        return Err("--duration: at most 1 hour".into());
    }
    if opts.timeout.is_zero() || opts.timeout > Duration::from_secs(30) {
        return Err("--timeout: above 0 and at most 30 s".into());
    }
    if !(0.0..=1.0).contains(&opts.max_drop_ratio) {
        return Err(format!("--max-drop-ratio {}: a ratio from 0 to 1", opts.max_drop_ratio));
    }
    if opts.versus.is_some() && opts.mode != Mode::Dora {
        return Err("--versus perfdhcp compares DHCP DORA load: use --mode dora".into());
    }
    if opts.versus.is_some() && opts.relay.is_some() {
        return Err("--versus perfdhcp runs on the server's link: not with --relay".into());
    }
    if opts.versus.is_some() && opts.rate.is_none() {
        return Err("--versus perfdhcp needs --rate (perfdhcp's -r): both tools get the same offered rate".into());
    }
    Ok(())
}

/// Run a load against the target in a fresh lab. `on_progress` about once a second
/// and on events.
pub fn load_lab(opts: &LoadOptions, on_progress: &mut dyn FnMut(&LoadProgress)) -> Result<LoadReport, String> {
    let wall = Instant::now();
    let loadavg_at_start = loadavg();
    validate(opts)?;
    let subjects = Subjects::resolve(&opts.targets_dir, &opts.target, opts.relay.as_deref())?;
    let relayed = opts.mode == Mode::Relayed || subjects.relay.is_some();
    let (site, clients) = with_load_clients(&opts.site, opts.clients, relayed)?;
    crate::setup::prepare_dir(&opts.out)?;
    let lab = subjects.lab_up(&site)?;
    let result = run_in_lab(opts, &lab, &subjects, &site, clients, on_progress);
    let down = lab.down().map_err(|e| e.to_string());
    let mut report = result?;
    down?;
    report.wall_s = wall.elapsed().as_secs_f64();
    report.loadavg = loadavg_at_start;
    Ok(report)
}

fn start_opts(opts: &LoadOptions) -> crate::StartOptions {
    let mut start = crate::StartOptions::default();
    start.vars.insert("faults".into(), serde_json::json!(opts.faults.join(",")));
    start.vars.insert("load".into(), serde_json::json!(opts.quiet_server));
    start
}

fn run_in_lab(
    opts: &LoadOptions,
    lab: &Lab,
    subjects: &Subjects,
    site: &Site,
    clients: Vec<[u8; 6]>,
    on_progress: &mut dyn FnMut(&LoadProgress),
) -> Result<LoadReport, String> {
    let (target, relay) = (&subjects.server, subjects.relay.as_ref());
    let start = start_opts(opts);
    let mut event = |e: String| on_progress(&LoadProgress { event: Some(e), ..LoadProgress::default() });
    let versus = match opts.versus {
        Some(Versus::Perfdhcp) => {
            // perfdhcp first, against a server of its own; then a fresh one for bootcheck,
            // so both start from the same (empty) lease state.
            // (--versus is refused with --relay: the server alone.)
            let server_only = Subjects { server: target.clone(), relay: None };
            let dir = opts.out.join("server-perfdhcp");
            let running = server_only.start(lab, site, &dir, &dir, &start)?;
            event(format!(
                "perfdhcp: {} DORA/s for {:?} from {} clients",
                opts.rate.unwrap_or(0.0),
                opts.duration,
                clients.len()
            ));
            let before = cpu_of(running.server.pids());
            let r = perfdhcp::run(lab, &clients, opts);
            let server_s = cpu_of(running.server.pids()).saturating_sub(before) as f64 / 1e9;
            let _ = std::fs::copy(running.server.log_path(), opts.out.join(format!("{}-perfdhcp.log", target.name())));
            running.stop()?;
            let mut r = r?;
            r.server_cpu_s = server_s;
            event(format!("perfdhcp: {:.0} DORA/s achieved, drops {:.2} %", r.achieved_rate, r.drop_ratio * 100.0));
            Some(r)
        }
        None => None,
    };
    let mut running = subjects.start(lab, site, &opts.out.join("server"), &opts.out.join("relay"), &start)?;
    // The harness as relay agent: replies come to giaddr:67 in the client namespace; a
    // socket there keeps its kernel from answering them with ICMP port-unreachable.
    let giaddr = if opts.versus.is_some() {
        Some(site.relay.uplink)
    } else {
        (opts.mode == Mode::Relayed && relay.is_none()).then_some(site.relay.ip)
    };
    let _relay_sock = giaddr.and_then(|ip| lab.udp_bind(Role::Client, std::net::SocketAddr::from((ip, 67))).ok());
    let names = lab.names().clone();
    let mut sock = PacketSocket::open_in(&names.client_ns, &names.client_if, opts.batch).map_err(|e| e.to_string())?;
    sock.drain().map_err(|e| e.to_string())?;
    let cfg = gen_config(opts, site, lab, clients);
    let pacing = cfg.pacing;
    let mut gen = Generator::new(cfg)?;
    let hard = opts.duration + opts.timeout * 3 + Duration::from_secs(5);
    let server_before = cpu_of(running.server.pids());
    let relay_before = running.relay.as_ref().map(|r| cpu_of(r.pids()));
    let own = i32::try_from(std::process::id()).unwrap_or(0);
    let own_before = cpu_ns(own);
    let mut alive_err = None;
    let mut tick = |p: &LoadProgress| {
        if alive_err.is_none() {
            if let Err((_, e)) = running.check_alive() {
                alive_err = Some(e.to_string());
            }
        }
        on_progress(p);
    };
    let stats = drive(&mut gen, &mut sock, hard, &mut tick)?;
    let cpu = CpuReport {
        harness_s: cpu_ns(own).saturating_sub(own_before) as f64 / 1e9,
        server_s: cpu_of(running.server.pids()).saturating_sub(server_before) as f64 / 1e9,
        relay_s: running.relay.as_ref().zip(relay_before).map(|(r, b)| cpu_of(r.pids()).saturating_sub(b) as f64 / 1e9),
    };
    let died = alive_err.or_else(|| running.check_alive().err().map(|(_, e)| e.to_string()));
    running.copy_logs(&opts.out);
    drop(sock);
    let _ = running.stop();
    if let Some(e) = died {
        return Err(format!("the target died during the load: {e}"));
    }
    let c = gen.counters;
    let active = stats.active.as_secs_f64().max(1e-9);
    let drop_ratio = if c.sent == 0 { 1.0 } else { (c.sent - c.received) as f64 / c.sent as f64 };
    let now = Duration::from_secs_f64(active);
    Ok(LoadReport {
        target: target.name().to_string(),
        relay: relay.map(|r| r.name().to_string()),
        mode: opts.mode,
        path: match (opts.mode, relay) {
            (_, Some(_)) => "relay".into(),
            _ if opts.versus.is_some() => "link-relay".into(),
            (Mode::Relayed, None) => "harness-relay".into(),
            _ => "direct".into(),
        },
        pacing: match pacing {
            Pacing::Open { .. } => "open".into(),
            Pacing::Closed { .. } => "closed".into(),
        },
        rate: opts.rate,
        window: match pacing {
            Pacing::Closed { window } => Some(window),
            Pacing::Open { .. } => None,
        },
        clients: opts.clients,
        per_client: opts.per_client,
        timeout_ms: opts.timeout.as_secs_f64() * 1000.0,
        duration_s: opts.duration.as_secs_f64(),
        max_requests: opts.max_requests,
        batch: opts.batch,
        sent: c.sent,
        received: c.received,
        drops: c.drops,
        drops_first_leg: c.drops_first_leg,
        drops_second_leg: c.drops_second_leg,
        naks: c.naks,
        drop_ratio,
        orphans: c.orphans,
        late: c.late,
        duplicates: c.duplicates,
        skipped: c.skipped,
        send_refused: stats.send_refused,
        frames_sent: c.frames_sent,
        frames_received: c.frames_received,
        active_s: active,
        offered_rate: c.sent as f64 / active,
        achieved_rate: c.received as f64 / active,
        latency: gen.latency.summary(),
        latency_discover_offer: gen.latency_first_leg.summary(),
        latency_request_ack: gen.latency_second_leg.summary(),
        cpu,
        max_drop_ratio: opts.max_drop_ratio,
        passed: c.received > 0 && drop_ratio <= opts.max_drop_ratio,
        stopped: gen.stop_reason(now).unwrap_or("duration").to_string(),
        samples: stats.samples,
        versus,
        wall_s: 0.0,
        loadavg: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/site.yaml"));
        bootcheck_scenario::load::read_yaml::<Site>(path).expect("site parses").0
    }

    #[test]
    fn load_clients_fill_free_addresses_only() {
        let s = site();
        let (with, macs) = with_load_clients(&s, 200, false).expect("200 fit");
        assert_eq!(macs.len(), 200);
        assert_eq!(with.clients.len(), s.clients.len() + 200);
        let ips: std::collections::BTreeSet<_> = with.clients.values().map(|c| c.ip).collect();
        assert_eq!(ips.len(), with.clients.len(), "distinct addresses");
        for c in with.clients.values().filter(|c| c.hostname.starts_with("load-")) {
            assert!(s.subnet.contains(&c.ip));
            assert!(!(s.pool.start..=s.pool.end).contains(&c.ip));
            assert_ne!(c.ip, s.server.ip);
        }
        let (relayed, _) = with_load_clients(&s, 10, true).expect("relayed");
        assert!(relayed
            .clients
            .values()
            .filter(|c| c.hostname.starts_with("load-"))
            .all(|c| s.relay.subnet.contains(&c.ip)));
        assert!(with_load_clients(&s, 10_000, false).is_err());
        assert!(with_load_clients(&s, 0, false).is_err());
    }

    /// The generator against the null responder's reflect function, in virtual time.
    #[test]
    fn generator_and_null_responder_agree() {
        for mode in [Mode::Bootp, Mode::Dora] {
            let cfg = GenConfig {
                exchange: mode.exchange(),
                addressing: frames::Addressing::Client,
                pacing: Pacing::Closed { window: 8 },
                clients: (0..16).map(client_mac).collect(),
                per_client: 1,
                timeout: Duration::from_millis(100),
                max_requests: 1000,
                duration: Duration::from_secs(60),
                xid_base: 42,
                server_id: [192, 0, 2, 1],
            };
            let mut g = Generator::new(cfg).expect("gen");
            let mut now = Duration::ZERO;
            let mut buf = Vec::new();
            let mut reply = Vec::new();
            while !g.is_done(now) {
                let mut out = Vec::new();
                while g.poll_transmit(now, &mut buf) {
                    out.push(buf.clone());
                }
                now += Duration::from_micros(20);
                for f in &out {
                    assert!(null::reflect(f, [2, 0, 0, 0, 0x5e, 1], Ipv4Addr::new(192, 0, 2, 1), &mut reply));
                    g.handle_frame(now, &reply);
                }
                g.handle_timeout(now);
                assert!(now < Duration::from_secs(10), "{mode:?} does not finish: {:?}", g.counters);
            }
            assert_eq!(g.counters.sent, 1000, "{mode:?}");
            assert_eq!(g.counters.received, 1000, "{mode:?}");
            assert_eq!(g.counters.drops + g.counters.orphans + g.counters.duplicates, 0);
        }
    }
}
