//! `bootcheck fuzz`: black-box fuzzing of a target in the lab.
//!
//! The I/O half of the fuzzer (the mutation engine and delta debugging are
//! `bootcheck-mutate`, sans-IO). A campaign:
//!
//! 1. harvests seeds: every scenario of the corpus runs in-process against the
//!    reference server ([`seeds_from_scenarios`]) and the requests it sends are kept;
//! 2. brings up a lab (direct topology) and starts the target in it, as `bootcheck run`
//!    does; calibrates liveness probes (a BOOTREQUEST, a DHCPDISCOVER, a TFTP read, a
//!    RARP request for a known client of the site) and keeps those the target answers;
//!    fuzzes only the protocols a probe covers;
//! 3. sends mutated frames from the client namespace in batches at `rate`; after each
//!    batch the server's PID is checked (an exit or a signal is a crash) and every probe
//!    runs (no answer twice is a hang); the server's RSS is sampled (growth beyond a
//!    limit is a leak);
//! 4. on a crash or hang: the packets since the last good probe are replayed against a
//!    fresh server to confirm, minimised (ddmin over packets, then octets, each trial
//!    against a fresh server, bounded in trials and time), and written as
//!    `repro-N.pcapng` and `repro-N.yaml` (raw frames, then the probes, for `bootcheck
//!    run`); the campaign server restarts and the campaign goes on.
//!
//! Bounded by time and packet count; the lab is torn down on return, on error, on
//! panic (Drop) and on Ctrl-C (the loop polls the flag and stops).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use bootcheck_mutate::{Budget, Case, Corpus, MutationClass, Mutator, Packet, Proto};
use bootcheck_refserver::Server;
use bootcheck_scenario::engine::{self, Dir, Env, Execution};
use bootcheck_scenario::model::ScenarioTopology;
use bootcheck_scenario::{Scenario, Site};
use serde::Serialize;

use crate::pcapng::{Direction, PcapNgWriter};
use crate::target::{Placement, Protocol};
use crate::{Lab, RawPort, RunningTarget, Target};

/// What a campaign needs.
#[derive(Debug, Clone)]
pub struct FuzzOptions {
    pub site: Site,
    /// A profile name under `targets_dir`, or a path to a profile file.
    pub target: String,
    pub targets_dir: PathBuf,
    /// Reference server fault switches (the profile's `faults` variable).
    pub faults: Vec<String>,
    /// Campaign seed: the same seed and corpus give the same packets.
    pub seed: u64,
    /// Stop after this long (the fuzzing loop; minimisation has its own bound).
    pub duration: Duration,
    /// Stop after this many mutated packets.
    pub max_packets: u64,
    /// Packets per second.
    pub rate: f64,
    /// Packets between liveness probes.
    pub batch: usize,
    /// How long a probe waits for its answer (it is retried once).
    pub probe_timeout: Duration,
    /// Stop after this many distinct crashes/hangs (a repeat of one already found is
    /// counted on it, see [`Finding::repeats`]).
    pub max_findings: usize,
    /// Trials (replays against a fresh server) minimisation may run per finding.
    pub minimize_trials: usize,
    /// Wall time minimisation may take per finding.
    pub minimize_time: Duration,
    /// RSS growth over the first sample that counts as a leak (KiB); `None`: sample and
    /// report, never flag.
    pub rss_growth_kib: Option<u64>,
    /// Mutation classes to use (empty: all).
    pub classes: Vec<MutationClass>,
    pub out: PathBuf,
}

/// Where a campaign stands (after every batch, and on events).
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub packets: u64,
    pub elapsed: Duration,
    pub probes: u64,
    pub findings: usize,
    /// Something to tell a human (calibration, a finding, minimisation).
    pub event: Option<String>,
}

/// The campaign's report (`fuzz-report.json`).
#[derive(Debug, Clone, Serialize)]
pub struct FuzzReport {
    pub target: String,
    pub faults: Vec<String>,
    pub seed: u64,
    pub seeds: BTreeMap<String, usize>,
    /// Protocols fuzzed (those a probe covers).
    pub protocols: Vec<String>,
    /// The liveness probes in use.
    pub probes_used: Vec<String>,
    pub packets: u64,
    /// Seconds spent in the fuzzing loop (sending, probing; not minimising).
    pub fuzz_seconds: f64,
    pub packets_per_second: f64,
    pub batches: u64,
    pub probes: u64,
    /// Probes that needed their retry.
    pub probe_retries: u64,
    /// Server starts (the first, after each finding, and for each minimisation trial).
    pub server_starts: u64,
    /// ARP requests for fuzzed clients' addresses the harness answered.
    pub arp_answers: u64,
    /// TFTP transfers started by fuzzed requests that the harness ended with an ERROR.
    pub tftp_transfers_abandoned: u64,
    pub classes: BTreeMap<String, u64>,
    pub rss: Option<RssReport>,
    pub findings: Vec<Finding>,
    /// `duration`, `max-packets`, `max-findings` or `interrupted`.
    pub stopped: String,
    pub wall_seconds: f64,
}

/// Resident set size of the target's processes, KiB.
#[derive(Debug, Clone, Serialize)]
pub struct RssReport {
    pub first_kib: u64,
    pub max_kib: u64,
    pub last_kib: u64,
    pub samples: u64,
}

/// A crash, hang or leak.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: usize,
    /// `crash`, `hang` or `leak`.
    pub kind: String,
    /// The exit status or signal, the probe that went unanswered, the RSS growth.
    pub detail: String,
    /// The mutation class(es) of the packet(s) that do it (after minimisation).
    pub classes: Vec<String>,
    /// Case numbers of those packets (`Mutator::case(n)` with the campaign seed).
    pub cases: Vec<u64>,
    /// Packets of the sequence that reproduced it on a fresh server (those since the
    /// last good probe, with as many batches before them as it took), or, unconfirmed,
    /// those since the last good probe.
    pub window_packets: usize,
    /// A replay against a fresh server did the same.
    pub confirmed: bool,
    pub minimized_packets: usize,
    /// Octets of each minimised packet's frame.
    pub minimized_octets: Vec<usize>,
    pub minimize_trials: usize,
    pub repro_yaml: Option<PathBuf>,
    pub repro_pcap: Option<PathBuf>,
    /// The command that replays the reproducer.
    pub replay: Option<String>,
    /// The server's log around the failure.
    pub log: Option<PathBuf>,
    /// Packets sent in the campaign when it was found.
    pub at_packet: u64,
    /// How many more times the same failure (kind and detail: exit status or signal,
    /// unanswered probe) happened later in the campaign. A heuristic: another bug that
    /// fails the same way is counted here, not minimised.
    pub repeats: u64,
    /// Packets sent when it happened again (the first 20).
    pub repeat_at: Vec<u64>,
}

/// Which way a server failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Crash,
    Hang,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Crash => "crash",
            Kind::Hang => "hang",
        }
    }
}

#[derive(Debug, Clone)]
struct Failure {
    kind: Kind,
    detail: String,
    log_tail: String,
}

/// Harvest seeds: run every direct-topology scenario in-process against the reference
/// server (virtual time) and keep the requests it sends (BOOTREQUESTs to port 67,
/// TFTP requests to port 69, RARP requests), deduplicated.
pub fn seeds_from_scenarios(site: &Site, scns: &[(PathBuf, Scenario)], seed: u64) -> Corpus {
    let mut corpus = Corpus::new();
    // The requests do not depend on the files' contents, and every execution hashes
    // every file: small files make the harvest fast.
    let mut site = site.clone();
    for f in site.files.values_mut() {
        f.size = f.size.min(512);
    }
    let site = &site;
    for (_, scn) in scns {
        if scn.topology != ScenarioTopology::Direct {
            continue;
        }
        let env = Env { site: site.clone(), seed, harness_mac: crate::run::HARNESS_MAC, gateway_mac: None };
        let Ok(exec) = Execution::new(scn.clone(), env) else { continue };
        let mut server = Capped { server: Server::new(site.clone(), Vec::new()), left: 200 };
        let result = engine::run_virtual(exec, &mut server);
        for t in result.trace.iter().filter(|t| t.dir == Dir::Out) {
            let origin = format!("{} step {}", scn.id, t.step.map_or(0, |s| s + 1));
            corpus.add_frame(&t.frame, &origin);
        }
    }
    corpus
}

/// The reference server, answering at most `left` frames: seeds are requests, so a
/// long TFTP transfer need not run to its end (the client then gives up, in virtual
/// time).
struct Capped {
    server: Server,
    left: usize,
}

impl engine::Responder for Capped {
    fn on_frame(&mut self, now: Duration, frame: &[u8]) -> Vec<Vec<u8>> {
        if self.left == 0 {
            return Vec::new();
        }
        self.left -= 1;
        self.server.on_frame(now, frame)
    }
    fn next_timeout(&self) -> Option<Duration> {
        if self.left == 0 {
            return None;
        }
        self.server.next_timeout()
    }
    fn on_timeout(&mut self, now: Duration) -> Vec<Vec<u8>> {
        if self.left == 0 {
            return Vec::new();
        }
        self.server.on_timeout(now)
    }
}

/// A liveness probe: a known-good exchange as a one-step scenario.
#[derive(Debug, Clone)]
struct Probe {
    name: &'static str,
    proto: Proto,
    /// The step (send + expect) with `{within}` for the timeout.
    step: String,
}

impl Probe {
    fn candidates(site: &Site) -> Vec<Probe> {
        // The smallest non-empty site file (a short transfer).
        let file = site.files.iter().filter(|(_, f)| f.size > 0).min_by_key(|(_, f)| f.size);
        let mut v = vec![
            Probe {
                name: "bootp",
                proto: Proto::Bootp,
                step: "send: { bootp: {} }\n    expect: { reply: { within: {within} } }".into(),
            },
            Probe {
                name: "dhcp-discover",
                proto: Proto::Bootp,
                step: "send: { bootp: { dhcp: discover } }\n    expect: { reply: { within: {within} } }".into(),
            },
        ];
        if let Some((name, f)) = file {
            v.push(Probe {
                name: "tftp",
                proto: Proto::Tftp,
                step: format!(
                    "send: {{ tftp-read: {{ file: \"${{site.boot.home}}/{}\" }} }}\n    expect: {{ transfer: {{ within: {{within}}, size: {} }} }}",
                    name.replace('"', "\\\""),
                    f.size
                ),
            });
        }
        v.push(Probe {
            name: "rarp",
            proto: Proto::Rarp,
            step: "send: { rarp: {} }\n    expect: { reply: { within: {within} } }".into(),
        });
        v
    }

    fn step_yaml(&self, within: Duration) -> String {
        let ms = within.as_millis().max(1);
        self.step.replace("{within}", &format!("{ms}ms"))
    }

    fn scenario(&self, client: &str, within: Duration) -> Result<Scenario, String> {
        let text = format!(
            "id: fuzz/probe-{}\ntitle: liveness probe\nclient: {client}\nsteps:\n  - {}\n",
            self.name,
            self.step_yaml(within)
        );
        serde_yaml::from_str(&text).map_err(|e| format!("probe `{}`: {e}", self.name))
    }
}

fn protocol_of(p: Proto) -> Protocol {
    match p {
        Proto::Bootp => Protocol::Bootp,
        Proto::Tftp => Protocol::Tftp,
        Proto::Rarp => Protocol::Rarp,
    }
}

fn load_profile(dir: &Path, name: &str) -> Result<Target, String> {
    Target::resolve(dir, name).map_err(|e| e.to_string())
}

/// Batches kept before the failing one, for a failure the failing batch alone does not
/// reproduce on a fresh server.
const HISTORY_BATCHES: usize = 8;

/// The site client the campaign probes as.
const PROBE_CLIENT: &str = "fuzzprobe";
/// Its MAC: no seed request carries it, and no mutation makes it.
const PROBE_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0xfb, 0x01];

/// The site plus a client of the campaign's own, for the liveness probes: a fuzzed
/// request can legitimately change what a server does for a client it names (a BOOTP
/// request with ws1's MAC and another hardware type makes dnsmasq hold ws1's address
/// for that other client: ws1 is then refused, "address in use", while the server is
/// fine), so the probe client must be one no mutated request names. Its address is the
/// highest free one of the subnet outside the pool (mutations put only the pool, a few
/// fixed site addresses and 203.0.113.0/24 in address fields).
fn with_probe_client(site: &Site) -> Result<Site, String> {
    let mut site = site.clone();
    let used: Vec<std::net::Ipv4Addr> = [site.server.ip, site.router, site.relay.uplink]
        .into_iter()
        .chain(site.dns.iter().copied())
        .chain(site.clients.values().map(|c| c.ip))
        .collect();
    let (lo, hi) = (u32::from(site.pool.start), u32::from(site.pool.end));
    let ip = site
        .subnet
        .hosts()
        .rev()
        .find(|ip| !used.contains(ip) && !(lo..=hi).contains(&u32::from(*ip)))
        .ok_or("the site's subnet has no free address for the fuzz probe client")?;
    let bootfile = site.boot.default.clone();
    site.clients.insert(
        PROBE_CLIENT.to_string(),
        bootcheck_scenario::site::Client {
            mac: bootcheck_scenario::Mac(PROBE_MAC),
            ip,
            hostname: PROBE_CLIENT.to_string(),
            bootfile,
        },
    );
    if let Some((p, m)) = site.validate().into_iter().next() {
        return Err(format!("the site with the fuzz probe client is not valid: {p}: {m}"));
    }
    Ok(site)
}

/// Sum of VmRSS over `pids`, KiB.
fn rss_kib(pids: &[i32]) -> Option<u64> {
    let mut total = 0;
    let mut any = false;
    for pid in pids {
        let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { continue };
        if let Some(v) = s
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            total += v;
            any = true;
        }
    }
    any.then_some(total)
}

/// The lab side of a campaign: the target (restartable), the client port, the probes.
struct Bench<'lab> {
    lab: &'lab Lab,
    target: &'lab Target,
    opts: &'lab FuzzOptions,
    start: crate::StartOptions,
    port: RawPort,
    running: Option<RunningTarget<'lab>>,
    probes: Vec<Probe>,
    /// The campaign's probe client, and the one reproducers probe as.
    client: String,
    repro_client: String,
    probe_seq: u64,
    probes_run: u64,
    probe_retries: u64,
    starts: u64,
    arp_answers: u64,
    transfers_abandoned: u64,
}

impl<'lab> Bench<'lab> {
    fn start(&mut self, dir: &Path) -> Result<(), String> {
        self.stop();
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
        }
        let r = self.target.start_with(self.lab, &self.opts.site, dir, &self.start).map_err(|e| e.to_string())?;
        self.running = Some(r);
        self.starts += 1;
        Ok(())
    }

    fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            let _ = r.stop();
        }
    }

    fn alive(&mut self) -> Result<(), Failure> {
        match self.running.as_mut().map(RunningTarget::check_alive) {
            Some(Ok(())) => Ok(()),
            Some(Err(crate::LabError::Exited { status, log_tail, .. })) => {
                Err(Failure { kind: Kind::Crash, detail: format!("the server exited: {status}"), log_tail })
            }
            Some(Err(e)) => Err(Failure { kind: Kind::Crash, detail: e.to_string(), log_tail: String::new() }),
            None => Err(Failure { kind: Kind::Crash, detail: "not running".into(), log_tail: String::new() }),
        }
    }

    fn log_tail(&self) -> String {
        self.running.as_ref().map(|r| r.log_tail(40)).unwrap_or_default()
    }

    /// Let late answers arrive, then forget them.
    fn settle(&mut self, d: Duration) -> Result<(), String> {
        self.pump(Instant::now() + d)
    }

    /// Read (and serve, see [`Bench::serve`]) every frame until `until`.
    fn pump(&mut self, until: Instant) -> Result<(), String> {
        loop {
            match self.port.recv(until) {
                Ok(Some((_, f))) => self.serve(&f)?,
                Ok(None) => return Ok(()),
                Err(crate::LabError::Interrupted) => return Err("interrupted".into()),
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    /// What a client would do with a frame while the fuzzer is not probing: answer ARP
    /// for the (documentation) addresses fuzzed requests come from, and end with an
    /// ERROR every TFTP transfer a fuzzed request started (DATA or OACK from the
    /// server), so that transfers nobody acknowledges do not pile up in the server
    /// (atftpd serves at most 100 at once; each would retransmit for half a minute).
    fn serve(&mut self, f: &[u8]) -> Result<(), String> {
        use bootcheck_wire::frame::{self as wf, Frame, LinkType, Net};
        let Ok(p) = Frame::parse(LinkType::Ethernet, f) else { return Ok(()) };
        let me = self.lab.names().client_mac.0;
        let server = self.opts.site.server.ip;
        let out = match p.net {
            Net::Arp { body, .. } if p.ethertype == wf::ETHERTYPE_ARP => {
                let Ok(a) = bootcheck_wire::arp::Packet::new_checked(body) else { return Ok(()) };
                match (a.operation(), a.target_ipv4(), a.sender_mac(), a.sender_ipv4()) {
                    (bootcheck_wire::arp::Operation::Request, Some(tpa), Some(sha), Some(spa))
                        if tpa != server
                            && !tpa.is_unspecified()
                            && bootcheck_mutate::packet::safe_ip(tpa)
                            && !tpa.is_broadcast() =>
                    {
                        let r = bootcheck_wire::arp::EthernetIpv4::reply(me, tpa, sha, spa);
                        self.arp_answers += 1;
                        wf::build_ethernet(me, sha, wf::ETHERTYPE_ARP, &r.to_vec())
                    }
                    _ => return Ok(()),
                }
            }
            _ => {
                let (Some(ip), Some(u)) = (p.ipv4(), p.udp()) else { return Ok(()) };
                let opcode = u.payload.get(..2).map(|o| u16::from_be_bytes([o[0], o[1]]));
                if ip.src != server || u.src_port == 69 || !matches!(opcode, Some(3) | Some(6)) {
                    return Ok(());
                }
                let (Some(src_mac), Some(dst_mac)) = (p.src_mac(), p.dst_mac()) else { return Ok(()) };
                let ep = wf::UdpEndpoints {
                    src_mac: dst_mac,
                    dst_mac: src_mac,
                    src_ip: ip.dst,
                    dst_ip: ip.src,
                    src_port: u.dst_port,
                    dst_port: u.src_port,
                    ttl: 64,
                };
                let mut err = vec![0, 5, 0, 0];
                err.extend_from_slice(b"bootcheck fuzz: transfer abandoned\0");
                self.transfers_abandoned += 1;
                wf::build_udp(&ep, &err).map_err(|e| e.to_string())?
            }
        };
        if bootcheck_mutate::is_safe_frame(&out) {
            self.port.send(&out).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Run one probe once: Ok(true) answered as expected.
    fn probe_once(&mut self, probe: &Probe, within: Duration) -> Result<bool, String> {
        self.probe_seq += 1;
        self.probes_run += 1;
        let scn = probe.scenario(&self.client, within)?;
        let env = Env {
            site: self.opts.site.clone(),
            // Another seed per probe: another xid and TFTP port each time.
            seed: self.opts.seed ^ 0x5eed_0000_0000 ^ self.probe_seq,
            harness_mac: self.lab.names().client_mac,
            gateway_mac: None,
        };
        let exec = Execution::new(scn, env)?;
        let running = self.running.as_ref();
        let port = std::cell::RefCell::new(&mut self.port);
        let dead = || running.is_none_or(|r| !r.is_alive());
        let r = crate::run::drive_real(
            exec,
            &mut |f| port.borrow_mut().send(f).map_err(|e| e.to_string()),
            &mut |deadline| match port.borrow_mut().recv(deadline) {
                Ok(v) => Ok(v.map(|(_, f)| f)),
                Err(crate::LabError::Interrupted) => Err("interrupted".into()),
                Err(e) => Err(e.to_string()),
            },
            &|| crate::interrupted() || dead(),
        );
        match r {
            Ok(res) => Ok(res.passed()),
            Err(_) if crate::interrupted() => Err("interrupted".into()),
            // The server died while the probe waited.
            Err(_) if dead() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Every probe, each retried once: `Ok(None)` all answered. A server that is slow
    /// for a while is not hung (busybox udhcpd blocks for 2 s in an ARP check of each
    /// address it offers a new client): the retry comes after a pause as long as the
    /// first wait, and waits three times as long. Any answer to the probe client counts
    /// (a late answer to the first attempt too: the server is alive).
    fn probe_all(&mut self) -> Result<Option<String>, String> {
        let probes = self.probes.clone();
        let t = self.opts.probe_timeout;
        for p in &probes {
            if self.probe_once(p, t)? {
                continue;
            }
            self.probe_retries += 1;
            // Late answers to the first attempt arrive here (and show life).
            let late = self.port_frames_within(t)?;
            if late > 0 && self.alive().is_ok() {
                continue;
            }
            if !self.probe_once(p, t * 3)? {
                return Ok(Some(format!(
                    "probe `{}` unanswered twice (within {t:?}, then, {t:?} later, within {:?})",
                    p.name,
                    t * 3
                )));
            }
        }
        Ok(None)
    }

    /// Frames that arrive in the next `d` and look like answers to the probe client
    /// (its MAC as chaddr, RARP target or Ethernet destination).
    fn port_frames_within(&mut self, d: Duration) -> Result<usize, String> {
        let until = Instant::now() + d;
        let mut n = 0;
        loop {
            match self.port.recv(until) {
                Ok(Some((_, f))) => {
                    let to_probe = f.get(..6) == Some(&PROBE_MAC[..])
                        || f.windows(6).any(|w| w == PROBE_MAC) && f.get(..6) == Some(&[0xff; 6][..]);
                    if to_probe {
                        n += 1;
                    }
                    self.serve(&f)?;
                }
                Ok(None) => return Ok(n),
                Err(crate::LabError::Interrupted) => return Err("interrupted".into()),
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    /// Is the server alive and answering? `Ok(Some(failure))` if not.
    fn health(&mut self) -> Result<Option<Failure>, String> {
        self.settle(Duration::from_millis(30))?;
        if let Err(f) = self.alive() {
            return Ok(Some(f));
        }
        if let Some(why) = self.probe_all()? {
            if let Err(f) = self.alive() {
                return Ok(Some(f));
            }
            return Ok(Some(Failure { kind: Kind::Hang, detail: why, log_tail: self.log_tail() }));
        }
        // A probe may have seen the last breath.
        if let Err(f) = self.alive() {
            return Ok(Some(f));
        }
        Ok(None)
    }

    /// Send frames at the campaign rate.
    fn send_paced(&mut self, frames: &[Vec<u8>]) -> Result<(), String> {
        let gap = Duration::from_secs_f64(1.0 / self.opts.rate.max(0.001));
        let t0 = Instant::now();
        for (i, f) in frames.iter().enumerate() {
            if !bootcheck_mutate::is_safe_frame(f) {
                return Err("refusing to send a frame to an address outside RFC 5737 (a mutation engine bug)".into());
            }
            let due = t0 + gap.mul_f64(i as f64);
            if due > Instant::now() {
                self.pump(due)?;
            }
            if crate::interrupted() {
                return Err("interrupted".into());
            }
            self.port.send(f).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Replay `packets` against a fresh server: does it fail the `kind` way?
    fn trial(&mut self, packets: &[Packet], kind: Kind, dir: &Path) -> Result<bool, String> {
        self.start(dir)?;
        self.port.drain().map_err(|e| e.to_string())?;
        let frames: Vec<Vec<u8>> = packets.iter().map(Packet::to_frame).collect();
        self.send_paced(&frames)?;
        Ok(self.health()?.is_some_and(|f| f.kind == kind))
    }
}

/// Run a campaign. `on_progress` is called after every batch and on events.
pub fn fuzz_lab(
    opts: &FuzzOptions,
    corpus: Corpus,
    on_progress: &mut dyn FnMut(&Progress),
) -> Result<FuzzReport, String> {
    let wall = Instant::now();
    if opts.rate <= 0.0 || !opts.rate.is_finite() {
        return Err(format!("--rate {}: packets per second must be above 0", opts.rate));
    }
    if opts.batch == 0 {
        return Err("--batch 0: a batch needs at least one packet".into());
    }
    crate::install_signal_cleanup().map_err(|e| e.to_string())?;
    let target = load_profile(&opts.targets_dir, &opts.target)?;
    if target.profile.namespace != Placement::Server {
        return Err(format!(
            "target `{}` is a relay agent (`namespace: relay`): fuzz a server (relays are not fuzzed yet)",
            target.name()
        ));
    }
    // Reproducers probe as the first site client on the server's subnet (they run with
    // the site as it is); the campaign probes as a client of its own (see `with_probe_client`).
    let repro_client = opts
        .site
        .clients
        .iter()
        .find(|(_, c)| opts.site.subnet.contains(&c.ip))
        .map(|(n, _)| n.clone())
        .ok_or("the site has no client on the server's subnet to probe with: add one under `clients:`")?;
    let site = with_probe_client(&opts.site)?;
    std::fs::create_dir_all(&opts.out).map_err(|e| format!("creating {}: {e}", opts.out.display()))?;
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&opts.out, std::fs::Permissions::from_mode(0o755));
    }
    if let Err(e) = Lab::reap_stale() {
        eprintln!("warning: reaping stale labs: {e}");
    }
    let lab = Lab::up(&crate::LabSpec::new(site.clone(), crate::Topology::Direct)).map_err(|e| e.to_string())?;
    let opts = &FuzzOptions { site, ..opts.clone() };
    let result = campaign(opts, &lab, &target, &repro_client, corpus, on_progress, wall);
    lab.down().map_err(|e| e.to_string())?;
    result
}

fn campaign(
    opts: &FuzzOptions,
    lab: &Lab,
    target: &Target,
    repro_client: &str,
    corpus: Corpus,
    on_progress: &mut dyn FnMut(&Progress),
    wall: Instant,
) -> Result<FuzzReport, String> {
    let mut start = crate::StartOptions::default();
    start.vars.insert("faults".into(), serde_json::json!(opts.faults.join(",")));
    // Replies to requests sent as a relay go to the relay address in the client
    // namespace: a socket there keeps its kernel from answering with ICMP.
    let _relay_sock = lab.udp_bind(crate::Role::Client, std::net::SocketAddr::from((opts.site.relay.ip, 67))).ok();
    let port = RawPort::open(lab, crate::Role::Client).map_err(|e| e.to_string())?;
    let mut bench = Bench {
        lab,
        target,
        opts,
        start,
        port,
        running: None,
        probes: Vec::new(),
        client: PROBE_CLIENT.to_string(),
        repro_client: repro_client.to_string(),
        probe_seq: 0,
        probes_run: 0,
        probe_retries: 0,
        starts: 0,
        arp_answers: 0,
        transfers_abandoned: 0,
    };
    let run_dir = opts.out.join("run");
    let min_dir = opts.out.join("minimize");
    let mut progress = Progress::default();
    let tell = |p: &mut Progress, on: &mut dyn FnMut(&Progress), text: String| {
        p.event = Some(text);
        on(p);
        p.event = None;
    };
    bench.start(&run_dir)?;
    // Calibrate: the probes the target answers, for the protocols it serves.
    let mut used = Vec::new();
    for p in Probe::candidates(&opts.site) {
        if target.serves().is_some_and(|s| !s.contains(&protocol_of(p.proto))) {
            continue;
        }
        if used.iter().any(|u: &Probe| u.proto == p.proto) {
            continue;
        }
        let ok = bench.probe_once(&p, opts.probe_timeout.max(Duration::from_secs(1)))?
            || bench.probe_once(&p, opts.probe_timeout.max(Duration::from_secs(2)))?;
        if ok {
            used.push(p);
        }
        bench.settle(Duration::from_millis(20))?;
    }
    if used.is_empty() {
        return Err(format!(
            "no liveness probe is answered by `{}` (tried a BOOTREQUEST and a DHCPDISCOVER for the probe client `{PROBE_CLIENT}`, a TFTP read, a RARP request, as its `serves` allows): check it with `bootcheck run --target {}`; server log:\n{}",
            target.name(),
            opts.target,
            bench.log_tail()
        ));
    }
    let protos: Vec<Proto> = used.iter().map(|p| p.proto).collect();
    let mut corpus = corpus;
    corpus.retain_protos(&protos);
    let mut seeds = BTreeMap::new();
    for p in &protos {
        seeds.insert(p.name().to_string(), corpus.count(*p));
    }
    bench.probes = used;
    let probes_used: Vec<String> = bench.probes.iter().map(|p| p.name.to_string()).collect();
    tell(
        &mut progress,
        on_progress,
        format!(
            "probes: {}; seeds: {}",
            probes_used.join(", "),
            seeds.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", ")
        ),
    );
    let mutator = Mutator::new(corpus, opts.seed)?.with_classes(&opts.classes);

    let mut classes: BTreeMap<String, u64> = BTreeMap::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut packets: u64 = 0;
    let mut batches: u64 = 0;
    let mut rss: Option<RssReport> = None;
    let mut leak_flagged = false;
    let mut fuzz_time = Duration::ZERO;
    let stopped;
    let mut index: u64 = 0;
    let mut history: std::collections::VecDeque<Vec<Case>> = std::collections::VecDeque::new();
    loop {
        if crate::interrupted() {
            stopped = "interrupted";
            break;
        }
        if fuzz_time >= opts.duration {
            stopped = "duration";
            break;
        }
        if packets >= opts.max_packets {
            stopped = "max-packets";
            break;
        }
        if findings.iter().filter(|f| f.kind != "leak").count() >= opts.max_findings {
            stopped = "max-findings";
            break;
        }
        let t_batch = Instant::now();
        let n = (opts.batch as u64).min(opts.max_packets - packets) as usize;
        let window: Vec<Case> = (0..n).map(|i| mutator.case(index + i as u64)).collect();
        index += n as u64;
        let frames: Vec<Vec<u8>> = window.iter().map(|c| c.packet.to_frame()).collect();
        match bench.send_paced(&frames) {
            Ok(()) => {}
            Err(e) if e == "interrupted" => {
                stopped = "interrupted";
                break;
            }
            Err(e) => return Err(e),
        }
        packets += n as u64;
        batches += 1;
        for c in &window {
            *classes.entry(c.class.name().to_string()).or_default() += 1;
        }
        let health = match bench.health() {
            Ok(h) => h,
            Err(e) if e == "interrupted" => {
                stopped = "interrupted";
                break;
            }
            Err(e) => return Err(e),
        };
        fuzz_time += t_batch.elapsed();
        // RSS, after the probes (the server has done its work).
        if health.is_none() {
            if let Some(k) = bench.running.as_ref().and_then(|r| rss_kib(r.pids())) {
                let r = rss.get_or_insert(RssReport { first_kib: k, max_kib: k, last_kib: k, samples: 0 });
                r.max_kib = r.max_kib.max(k);
                r.last_kib = k;
                r.samples += 1;
                if let Some(limit) = opts.rss_growth_kib {
                    if !leak_flagged && k.saturating_sub(r.first_kib) > limit {
                        leak_flagged = true;
                        let mut top: Vec<(&String, &u64)> = classes.iter().collect();
                        top.sort_by(|a, b| b.1.cmp(a.1));
                        findings.push(Finding {
                            id: findings.len() + 1,
                            kind: "leak".into(),
                            detail: format!(
                                "RSS grew from {} KiB to {k} KiB (limit +{limit} KiB) after {packets} packets",
                                r.first_kib
                            ),
                            classes: top.iter().take(3).map(|(c, _)| (*c).clone()).collect(),
                            cases: Vec::new(),
                            window_packets: 0,
                            confirmed: false,
                            minimized_packets: 0,
                            minimized_octets: Vec::new(),
                            minimize_trials: 0,
                            repro_yaml: None,
                            repro_pcap: None,
                            replay: None,
                            log: None,
                            at_packet: packets,
                            repeats: 0,
                            repeat_at: Vec::new(),
                        });
                        tell(
                            &mut progress,
                            on_progress,
                            format!("leak: {}", findings.last().map_or("", |f| &f.detail)),
                        );
                    }
                }
            }
        }
        progress.packets = packets;
        progress.elapsed = fuzz_time;
        progress.probes = bench.probes_run;
        progress.findings = findings.len();
        on_progress(&progress);
        let Some(failure) = health else {
            // Batches that passed may still have built the state a later failure needs.
            history.push_back(window);
            if history.len() > HISTORY_BATCHES {
                history.pop_front();
            }
            continue;
        };

        // The same failure again (same kind, same exit status or signal, same probe):
        // counted on the first one, not minimised again; the campaign goes on.
        if let Some(f) = findings.iter_mut().find(|f| f.kind == failure.kind.name() && f.detail == failure.detail) {
            f.repeats += 1;
            if f.repeat_at.len() < 20 {
                f.repeat_at.push(packets);
            }
            let (n, id) = (f.repeats, f.id);
            tell(
                &mut progress,
                on_progress,
                format!(
                    "{} after {packets} packets: {} (as #{id}; {n} repeat(s))",
                    failure.kind.name(),
                    failure.detail
                ),
            );
            history.clear();
            bench.start(&run_dir)?;
            bench.port.drain().map_err(|e| e.to_string())?;
            continue;
        }
        // A crash or a hang: keep the log, confirm, minimise, write the reproducer.
        let id = findings.len() + 1;
        tell(
            &mut progress,
            on_progress,
            format!(
                "{} after {packets} packets: {}; minimising the last {n} packets",
                failure.kind.name(),
                failure.detail
            ),
        );
        // The whole log of the server that failed (the next start rewrites it).
        let log = opts.out.join(format!("server-{id}.log"));
        let copied = bench.running.as_ref().is_some_and(|r| std::fs::copy(r.log_path(), &log).is_ok());
        if !copied {
            let _ = std::fs::write(&log, &failure.log_tail);
        }
        let earlier: Vec<Case> = history.iter().flatten().cloned().collect();
        let finding = match minimize_and_write(&mut bench, opts, &earlier, &window, &failure, id, packets, &min_dir) {
            Ok(f) => f,
            Err(e) if e == "interrupted" => {
                stopped = "interrupted";
                break;
            }
            Err(e) => return Err(e),
        };
        tell(
            &mut progress,
            on_progress,
            format!(
                "{} #{id}: {} packet(s), class {}, {} trials{}; reproducer {}",
                finding.kind,
                finding.minimized_packets,
                finding.classes.join("+"),
                finding.minimize_trials,
                if finding.confirmed { "" } else { " (NOT reproduced on a fresh server)" },
                finding.repro_yaml.as_ref().map_or(String::new(), |p| p.display().to_string())
            ),
        );
        let finding = Finding { log: Some(log), ..finding };
        findings.push(finding);
        progress.findings = findings.len();
        // Back to the campaign with a fresh server.
        history.clear();
        bench.start(&run_dir)?;
        bench.port.drain().map_err(|e| e.to_string())?;
    }
    if let Some(r) = bench.running.as_ref() {
        let _ = std::fs::copy(r.log_path(), opts.out.join(format!("{}.log", target.name())));
    }
    bench.stop();
    let secs = fuzz_time.as_secs_f64();
    Ok(FuzzReport {
        target: target.name().to_string(),
        faults: opts.faults.clone(),
        seed: opts.seed,
        seeds,
        protocols: protos.iter().map(|p| p.name().to_string()).collect(),
        probes_used,
        packets,
        fuzz_seconds: secs,
        packets_per_second: if secs > 0.0 { packets as f64 / secs } else { 0.0 },
        batches,
        probes: bench.probes_run,
        probe_retries: bench.probe_retries,
        server_starts: bench.starts,
        arp_answers: bench.arp_answers,
        tftp_transfers_abandoned: bench.transfers_abandoned,
        classes,
        rss,
        findings,
        stopped: stopped.to_string(),
        wall_seconds: wall.elapsed().as_secs_f64(),
    })
}

#[allow(clippy::too_many_arguments)]
fn minimize_and_write(
    bench: &mut Bench<'_>,
    opts: &FuzzOptions,
    earlier: &[Case],
    last: &[Case],
    failure: &Failure,
    id: usize,
    at_packet: u64,
    dir: &Path,
) -> Result<Finding, String> {
    let kind = failure.kind;
    let deadline = Instant::now() + opts.minimize_time;
    let mut budget = Budget::new(opts.minimize_trials);
    let mut error: Option<String> = None;
    // A trial that cannot run (or runs out of time) counts as "does not fail": the
    // result is then less minimal, never wrong.
    let mut fails = |bench: &mut Bench<'_>, p: &[Packet]| -> bool {
        if error.is_some() || Instant::now() >= deadline || crate::interrupted() {
            return false;
        }
        match bench.trial(p, kind, dir) {
            Ok(b) => b,
            Err(e) => {
                error = Some(e);
                false
            }
        }
    };
    // Confirm on a fresh server: the failing batch (twice: timing), then with more and
    // more of the batches before it (state they built).
    let batch = last.len().max(1);
    let mut tries: Vec<usize> = vec![0, 0];
    for k in [1usize, 2, 4, HISTORY_BATCHES] {
        let n = (k * batch).min(earlier.len());
        if tries.last().is_some_and(|l| *l < n) {
            tries.push(n);
        }
    }
    let mut trials = 0;
    let mut confirmed = false;
    let mut window: Vec<Case> = last.to_vec();
    for n in tries {
        let seq: Vec<Case> = earlier.get(earlier.len() - n..).unwrap_or(&[]).iter().chain(last).cloned().collect();
        let packets: Vec<Packet> = seq.iter().map(|c| c.packet.clone()).collect();
        trials += 1;
        if fails(bench, &packets) {
            confirmed = true;
            window = seq;
            break;
        }
    }
    let window = window.as_slice();
    let all: Vec<Packet> = window.iter().map(|c| c.packet.clone()).collect();
    let mut kept: Vec<usize> = (0..window.len()).collect();
    let mut packets = all.clone();
    if confirmed {
        kept = bootcheck_mutate::ddmin(&kept, &mut budget, &mut |idx: &[usize]| {
            let sub: Vec<Packet> = idx.iter().filter_map(|i| all.get(*i).cloned()).collect();
            fails(bench, &sub)
        });
        packets = kept.iter().filter_map(|i| all.get(*i).cloned()).collect();
        // Then octets, packet by packet.
        for k in 0..packets.len() {
            if budget.exhausted() || Instant::now() >= deadline {
                break;
            }
            let before = packets.clone();
            let Some(target) = packets.get(k).cloned() else { break };
            let proto = kept.get(k).and_then(|i| window.get(*i)).map_or(Proto::Bootp, |c| c.proto);
            let shrunk = bootcheck_mutate::shrink(proto, &target, &mut budget, &mut |p: &Packet| {
                let mut cand = before.clone();
                if let Some(x) = cand.get_mut(k) {
                    *x = p.clone();
                }
                fails(bench, &cand)
            });
            if let Some(x) = packets.get_mut(k) {
                *x = shrunk;
            }
        }
        trials += budget.used();
        // The result must still fail; if not (a flaky server), keep the window.
        if !fails(bench, &packets) {
            packets = all.clone();
            kept = (0..window.len()).collect();
        }
        trials += 1;
    }
    if let Some(e) = error {
        if e == "interrupted" {
            return Err(e);
        }
        return Err(format!("minimising {} #{id}: {e}", kind.name()));
    }
    let cases: Vec<&Case> = kept.iter().filter_map(|i| window.get(*i)).collect();
    let mut class_names: Vec<String> = Vec::new();
    for c in &cases {
        if !class_names.iter().any(|n| n == c.class.name()) {
            class_names.push(c.class.name().to_string());
        }
    }
    let frames: Vec<Vec<u8>> = packets.iter().map(Packet::to_frame).collect();
    let yaml_path = opts.out.join(format!("repro-{id}.yaml"));
    let pcap_path = opts.out.join(format!("repro-{id}.pcapng"));
    write_pcap(&pcap_path, &frames)?;
    let fault_args: String = opts.faults.iter().map(|f| format!(" --fault {f}")).collect();
    let replay = format!("bootcheck run --target {}{fault_args} {}", opts.target, yaml_path.display());
    let yaml = repro_yaml(&ReproInfo {
        target: bench.target.name(),
        id,
        kind,
        detail: &failure.detail,
        seed: opts.seed,
        cases: &cases,
        frames: &frames,
        probes: &bench.probes,
        client: &bench.repro_client,
        replay: &replay,
        confirmed,
    });
    std::fs::write(&yaml_path, yaml).map_err(|e| format!("writing {}: {e}", yaml_path.display()))?;
    Ok(Finding {
        id,
        kind: kind.name().into(),
        detail: failure.detail.clone(),
        classes: class_names,
        cases: cases.iter().map(|c| c.index).collect(),
        window_packets: window.len(),
        confirmed,
        minimized_packets: frames.len(),
        minimized_octets: frames.iter().map(Vec::len).collect(),
        minimize_trials: trials,
        repro_yaml: Some(yaml_path),
        repro_pcap: Some(pcap_path),
        replay: Some(replay),
        log: None,
        at_packet,
        repeats: 0,
        repeat_at: Vec::new(),
    })
}

fn write_pcap(path: &Path, frames: &[Vec<u8>]) -> Result<(), String> {
    let mut w = PcapNgWriter::create(path).map_err(|e| e.to_string())?;
    let iface = w.add_interface("fuzz0", Some("bootcheck fuzz reproducer"), 1, 65535).map_err(|e| e.to_string())?;
    let t0 = SystemTime::now();
    for (i, f) in frames.iter().enumerate() {
        w.write_packet(iface, t0 + Duration::from_millis(10 * i as u64), f, Direction::Out)
            .map_err(|e| e.to_string())?;
    }
    w.finish().map(|_| ()).map_err(|e| e.to_string())
}

struct ReproInfo<'a> {
    target: &'a str,
    id: usize,
    kind: Kind,
    detail: &'a str,
    seed: u64,
    cases: &'a [&'a Case],
    frames: &'a [Vec<u8>],
    probes: &'a [Probe],
    client: &'a str,
    replay: &'a str,
    confirmed: bool,
}

/// A scenario that replays the frames and then runs the probes: it fails while the
/// server crashes or hangs on them, and passes once it does not.
fn repro_yaml(r: &ReproInfo<'_>) -> String {
    let yaml_str = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let mut out = String::new();
    let _ = writeln!(out, "# Written by `bootcheck fuzz` (campaign seed {}).", r.seed);
    let _ = writeln!(out, "# {} of {}: {}", r.kind.name(), r.target, r.detail);
    if !r.confirmed {
        let _ = writeln!(
            out,
            "# NOT reproduced by replaying these packets against a fresh server: the failure may need state built by earlier packets."
        );
    }
    let _ = writeln!(out, "# Replay: {}", r.replay);
    let _ = writeln!(out, "id: fuzz/{}/repro-{}", r.target, r.id);
    let classes: Vec<&str> = r.cases.iter().map(|c| c.class.name()).collect();
    let title = format!(
        "{} packet(s) of class {} do not {} {} (found by bootcheck fuzz, seed {})",
        r.frames.len(),
        classes.join("+"),
        if r.kind == Kind::Crash { "crash" } else { "wedge" },
        r.target,
        r.seed
    );
    let _ = writeln!(out, "title: {}", yaml_str(&title));
    let _ = writeln!(out, "tags: [fuzz, robustness]");
    let _ = writeln!(out, "client: {}", r.client);
    let _ = writeln!(out, "steps:");
    for (i, f) in r.frames.iter().enumerate() {
        let what = r.cases.get(i).map_or(String::new(), |c| format!("case {} ({})", c.index, c.class.name()));
        let hex: Vec<String> = f.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(out, "  - name: {}", yaml_str(&what));
        let _ = writeln!(out, "    send: {{ raw: {{ hex: \"{}\" }} }}", hex.join(" "));
        let _ = writeln!(out, "    expect: {{ any: 20ms }}");
    }
    for p in r.probes {
        let _ = writeln!(out, "  - name: {}", yaml_str(&format!("liveness probe ({})", p.name)));
        let _ = writeln!(out, "    {}", p.step_yaml(Duration::from_secs(2)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/site.yaml");
        bootcheck_scenario::load_site(&p).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn probes_are_valid_scenarios() {
        let s = site();
        for p in Probe::candidates(&s) {
            let scn = p.scenario("ws1", Duration::from_millis(500)).unwrap_or_else(|e| panic!("{e}"));
            // Each is answered by the reference server in-process.
            let env = Env { site: s.clone(), seed: 1, harness_mac: crate::run::HARNESS_MAC, gateway_mac: None };
            let exec = Execution::new(scn, env).unwrap_or_else(|e| panic!("{e}"));
            let mut server = Server::new(s.clone(), Vec::new());
            let r = engine::run_virtual(exec, &mut server);
            assert!(r.passed(), "probe {}: {:?}", p.name, r.steps);
        }
    }

    #[test]
    fn a_reproducer_is_a_scenario_that_replays() {
        let s = site();
        let case = Case {
            index: 7,
            seed: 0,
            proto: Proto::Bootp,
            class: MutationClass::ByteFlip,
            packet: Packet::Ether { frame: vec![0xff; 60] },
        };
        let frames = vec![case.packet.to_frame()];
        let probes: Vec<Probe> = Probe::candidates(&s).into_iter().take(1).collect();
        let text = repro_yaml(&ReproInfo {
            target: "reference",
            id: 1,
            kind: Kind::Crash,
            detail: "the server exited: signal 11",
            seed: 3,
            cases: &[&case],
            frames: &frames,
            probes: &probes,
            client: "ws1",
            replay: "bootcheck run …",
            confirmed: true,
        });
        let scn: Scenario = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(scn.steps.len(), 2);
        let env = Env { site: s.clone(), seed: 1, harness_mac: crate::run::HARNESS_MAC, gateway_mac: None };
        let mut server = Server::new(s.clone(), Vec::new());
        let r = engine::run_virtual(Execution::new(scn, env).unwrap_or_else(|e| panic!("{e}")), &mut server);
        assert!(r.passed(), "{:?}", r.steps);
        assert_eq!(r.trace.iter().find(|t| t.dir == Dir::Out).map(|t| t.frame.clone()), Some(frames[0].clone()));
    }

    #[test]
    fn the_corpus_has_seeds_of_every_protocol() {
        let s = site();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        let scns: Vec<(PathBuf, Scenario)> = bootcheck_scenario::discover(&[root])
            .into_iter()
            .filter(|p| !p.ends_with("site.yaml"))
            .filter_map(|p| bootcheck_scenario::load_scenario(&p, &s).ok().map(|x| (p, x)))
            .collect();
        let c = seeds_from_scenarios(&s, &scns, 1);
        for p in Proto::ALL {
            assert!(c.count(p) > 0, "no {p:?} seeds");
        }
        assert!(c.seeds().iter().all(|s| s.packet.is_safe()));
    }

    #[test]
    fn the_probe_client_is_nobody_else() {
        let s = site();
        let p = with_probe_client(&s).unwrap_or_else(|e| panic!("{e}"));
        let c = p.client(PROBE_CLIENT).unwrap_or_else(|| panic!("no probe client"));
        assert!(s.subnet.contains(&c.ip));
        assert!(!(u32::from(s.pool.start)..=u32::from(s.pool.end)).contains(&u32::from(c.ip)));
        assert!(s.clients.values().all(|o| o.ip != c.ip && o.mac != c.mac));
        assert_eq!(p.clients.len(), s.clients.len() + 1);
    }

    #[test]
    fn rss_of_this_process() {
        let me = i32::try_from(std::process::id()).unwrap_or(0);
        assert!(rss_kib(&[me]).is_some_and(|k| k > 0));
        assert_eq!(rss_kib(&[]), None);
    }
}
