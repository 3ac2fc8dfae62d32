//! `bootcheck fuzz`: black-box fuzzing of a target in the lab — a server, or (`relay`)
//! the relay agent in front of one.
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
//! With a relay agent ([`FuzzOptions::relay`]) the relay is the subject: the lab is the
//! relay topology (the harness on the relay's client link, the server behind the relay
//! on the server link); the seeds are the relay-agent scenarios' requests plus the
//! direct BOOTP seeds re-addressed as a client behind the relay sends them
//! ([`seeds_behind_relay`]); the probe is a BOOTREQUEST from a probe client on the
//! relay subnet, which only an answer relayed to the server and delivered back answers;
//! a crash is the relay's or the server's (whichever PID is gone), a hang is told apart
//! by a tap on the server link during the retry (not forwarded or reply not delivered:
//! the relay; forwarded, not answered: the server); RSS is the relay's; reproducers are
//! relay-topology scenarios for `bootcheck run --relay`.
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
use crate::target::Protocol;
use crate::{Lab, RawPort, Role, Started, Subjects};

/// What a campaign needs.
#[derive(Debug, Clone)]
pub struct FuzzOptions {
    pub site: Site,
    /// A profile name under `targets_dir`, or a path to a profile file.
    pub target: String,
    /// A relay agent profile: fuzz it, in front of `target` (the relay topology).
    pub relay: Option<String>,
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
    /// The server (behind the relay agent, with `relay`).
    pub target: String,
    /// The relay agent fuzzed, if any.
    pub relay: Option<String>,
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
    /// The subject's RSS: the relay agent's with `relay`, else the server's.
    pub rss: Option<RssReport>,
    /// With `relay`: what the relay agent passed on, seen on the server link.
    pub relayed: Option<RelayedCounts>,
    pub findings: Vec<Finding>,
    /// `duration`, `max-packets`, `max-findings` or `interrupted`.
    pub stopped: String,
    pub wall_seconds: f64,
}

/// BOOTP traffic on the server link while fuzzing (minimisation's replays not counted),
/// the probe client's exchanges left out.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct RelayedCounts {
    /// BOOTREQUESTs the relay agent forwarded to the server.
    pub forwarded: u64,
    /// BOOTREPLYs the server sent the relay agent.
    pub replies: u64,
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
    /// Whose: `server` or `relay`.
    pub role: String,
    /// The profile name of the process that failed.
    pub process: String,
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
    /// Which process: the server, or the relay agent in front of it.
    who: Role,
    detail: String,
    log_tail: String,
}

/// Harvest seeds: run every direct-topology scenario in-process against the reference
/// server (virtual time) and keep the requests it sends (BOOTREQUESTs to port 67,
/// TFTP requests to port 69, RARP requests), deduplicated.
pub fn seeds_from_scenarios(site: &Site, scns: &[(PathBuf, Scenario)], seed: u64) -> Corpus {
    let mut corpus = Corpus::new();
    harvest(site, scns, seed, ScenarioTopology::Direct, &mut corpus, &|p| Some(p.clone()));
    corpus
}

/// The seeds of a relay agent's campaign: the requests the relay-topology scenarios
/// send (the clients behind the relay), then the direct seeds' BOOTREQUESTs as a client
/// behind the relay sends them ([`behind_relay`]), deduplicated. TFTP and RARP are not
/// relayed: none of theirs.
pub fn seeds_behind_relay(site: &Site, scns: &[(PathBuf, Scenario)], seed: u64) -> Corpus {
    let mut corpus = Corpus::new();
    harvest(site, scns, seed, ScenarioTopology::Relay, &mut corpus, &|p| Some(p.clone()));
    harvest(site, scns, seed, ScenarioTopology::Direct, &mut corpus, &|p| behind_relay(site, p));
    corpus.retain_protos(&[Proto::Bootp]);
    corpus
}

/// A direct seed's BOOTREQUEST as a client on the relay's client link sends it: to the
/// limited broadcast (Ethernet and IPv4 destination: every request reaches the relay
/// agent, whatever it was addressed to on the server's link), from the same host number
/// on the relay subnet when it came from the server's subnet (from 0.0.0.0 when that is
/// the relay's own address); ports, payload (giaddr, hops, options) and header lies
/// unchanged. A whole-frame seed only gets the broadcast Ethernet destination. `None`:
/// not a BOOTREQUEST.
pub fn behind_relay(site: &Site, p: &Packet) -> Option<Packet> {
    let is_request = match p {
        Packet::Udp { ep, .. } => ep.dst_port == bootcheck_wire::bootp::SERVER_PORT,
        Packet::Ether { frame } => frame.get(36..38) == Some(&[0, 67][..]),
    };
    if !is_request {
        return None;
    }
    Some(match p {
        Packet::Udp { ep, payload, lies } => {
            let mut ep = *ep;
            ep.dst_mac = [0xff; 6];
            ep.dst_ip = std::net::Ipv4Addr::BROADCAST;
            let (from, to) = (site.subnet, site.relay.subnet);
            if from.contains(&ep.src_ip) {
                let host = u32::from(ep.src_ip) & !u32::from(from.netmask());
                let moved = std::net::Ipv4Addr::from(u32::from(to.network()) | (host & !u32::from(to.netmask())));
                ep.src_ip = if moved == site.relay.ip { std::net::Ipv4Addr::UNSPECIFIED } else { moved };
            } else if ep.src_ip == site.relay.ip {
                ep.src_ip = std::net::Ipv4Addr::UNSPECIFIED;
            }
            Packet::Udp { ep, payload: payload.clone(), lies: *lies }
        }
        Packet::Ether { frame } => {
            let mut f = frame.clone();
            if let Some(d) = f.get_mut(..6) {
                d.copy_from_slice(&[0xff; 6]);
            }
            Packet::Ether { frame: f }
        }
    })
}

/// Run every scenario of `topology` in-process against the reference server (virtual
/// time) and add the requests it sends, each through `map`, to `corpus`.
fn harvest(
    site: &Site,
    scns: &[(PathBuf, Scenario)],
    seed: u64,
    topology: ScenarioTopology,
    corpus: &mut Corpus,
    map: &dyn Fn(&Packet) -> Option<Packet>,
) {
    // The requests do not depend on the files' contents, and every execution hashes
    // every file: small files make the harvest fast.
    let mut site = site.clone();
    for f in site.files.values_mut() {
        f.size = f.size.min(512);
    }
    let site = &site;
    for (_, scn) in scns {
        if scn.topology != topology {
            continue;
        }
        let env = Env { site: site.clone(), seed, harness_mac: crate::run::HARNESS_MAC, gateway_mac: None };
        let Ok(exec) = Execution::new(scn.clone(), env) else { continue };
        let mut server = Capped { server: Server::new(site.clone(), Vec::new()), left: 200 };
        let result = engine::run_virtual(exec, &mut server);
        for t in result.trace.iter().filter(|t| t.dir == Dir::Out) {
            let origin = format!("{} step {}", scn.id, t.step.map_or(0, |s| s + 1));
            let Some((_, p)) = Packet::from_frame(&t.frame) else { continue };
            if let Some(p) = map(&p) {
                corpus.add_frame(&p.to_frame(), &origin);
            }
        }
    }
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
    /// The probes to calibrate. `relayed`: through a relay agent, BOOTREQUESTs only (TFTP
    /// and RARP do not go through it), with `secs` 5 (a relay may forward a request only
    /// once the client has waited: bootpgw's threshold is 3 s, RFC 1542 §4.1.1).
    fn candidates(site: &Site, relayed: bool) -> Vec<Probe> {
        if relayed {
            return vec![
                Probe {
                    name: "bootp",
                    proto: Proto::Bootp,
                    step: "send: { bootp: { secs: 5 } }\n    expect: { reply: { within: {within} } }".into(),
                },
                Probe {
                    name: "dhcp-discover",
                    proto: Proto::Bootp,
                    step: "send: { bootp: { secs: 5, dhcp: discover } }\n    expect: { reply: { within: {within} } }"
                        .into(),
                },
            ];
        }
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

    fn scenario(&self, client: &str, within: Duration, relayed: bool) -> Result<Scenario, String> {
        let text = format!(
            "id: fuzz/probe-{}\ntitle: liveness probe\n{}client: {client}\nsteps:\n  - {}\n",
            self.name,
            if relayed { "topology: relay\n" } else { "" },
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
/// fixed site addresses and 203.0.113.0/24 in address fields) — of the relay subnet,
/// `relayed`, where the clients behind a relay agent live.
fn with_probe_client(site: &Site, relayed: bool) -> Result<Site, String> {
    let mut site = site.clone();
    let ip = crate::setup::free_addresses(&site, relayed)
        .pop()
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

/// A BOOTP message's op and chaddr (first 6 octets), for a UDP frame to or from port 67.
fn bootp_op_chaddr(f: &[u8]) -> Option<(u8, [u8; 6])> {
    use bootcheck_wire::frame::{Frame, LinkType};
    let p = Frame::parse(LinkType::Ethernet, f).ok()?;
    let u = p.udp()?;
    if u.dst_port != 67 && u.src_port != 67 {
        return None;
    }
    let op = *u.payload.first()?;
    let chaddr: [u8; 6] = u.payload.get(28..34)?.try_into().ok()?;
    Some((op, chaddr))
}

/// [`RelayedCounts`] as a server-link tap thread keeps them.
#[derive(Debug, Default)]
struct LinkCounts {
    forwarded: std::sync::atomic::AtomicU64,
    replies: std::sync::atomic::AtomicU64,
}

impl LinkCounts {
    fn on_frame(&self, f: &[u8]) {
        use std::sync::atomic::Ordering::Relaxed;
        match bootp_op_chaddr(f) {
            Some((_, chaddr)) if chaddr == PROBE_MAC => {}
            Some((1, _)) => {
                self.forwarded.fetch_add(1, Relaxed);
            }
            Some((2, _)) => {
                self.replies.fetch_add(1, Relaxed);
            }
            _ => {}
        }
    }
    fn now(&self) -> RelayedCounts {
        use std::sync::atomic::Ordering::Relaxed;
        RelayedCounts { forwarded: self.forwarded.load(Relaxed), replies: self.replies.load(Relaxed) }
    }
}

/// The lab side of a campaign: the server (and relay agent) restartable, the client
/// port, the probes.
struct Bench<'lab> {
    lab: &'lab Lab,
    subjects: &'lab Subjects,
    opts: &'lab FuzzOptions,
    start: crate::StartOptions,
    port: RawPort,
    running: Option<Started<'lab>>,
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
    fn relayed(&self) -> bool {
        self.subjects.relay.is_some()
    }

    /// (Re)start the server, then the relay agent, with their files in `dir` and
    /// `dir-relay`, on a lab whose ARP tables are empty again (a trial must not inherit
    /// an entry an earlier packet made a daemon write).
    fn start(&mut self, dir: &Path) -> Result<(), String> {
        self.stop();
        self.lab.flush_neighbours().map_err(|e| e.to_string())?;
        let relay_dir = PathBuf::from(format!("{}-relay", dir.display()));
        self.running = Some(self.subjects.start(self.lab, &self.opts.site, dir, &relay_dir, &self.start)?);
        self.starts += 1;
        Ok(())
    }

    fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            let _ = r.stop();
        }
    }

    /// How a report names `who`: the server (behind the relay agent) or the relay agent.
    fn name_of(&self, who: Role) -> String {
        match (who, &self.subjects.relay) {
            (Role::Relay, Some(r)) => format!("the relay agent {}", r.name()),
            (_, Some(_)) => format!("the server {} behind the relay", self.subjects.server.name()),
            _ => "the server".into(),
        }
    }

    fn process_of(&self, who: Role) -> &str {
        match (who, &self.subjects.relay) {
            (Role::Relay, Some(r)) => r.name(),
            _ => self.subjects.server.name(),
        }
    }

    fn alive(&mut self) -> Result<(), Failure> {
        let crash = |who, detail, log_tail| Failure { kind: Kind::Crash, who, detail, log_tail };
        let Some(r) = self.running.as_mut() else {
            return Err(crash(Role::Server, "not running".into(), String::new()));
        };
        match r.check_alive() {
            Ok(()) => Ok(()),
            Err((who, crate::LabError::Exited { status, log_tail, .. })) => {
                Err(crash(who, format!("{} exited: {status}", self.name_of(who)), log_tail))
            }
            Err((who, e)) => Err(crash(who, e.to_string(), String::new())),
        }
    }

    fn log_tail(&self) -> String {
        let Some(r) = self.running.as_ref() else { return String::new() };
        let mut out = r.server.log_tail(40);
        if let Some(relay) = &r.relay {
            out.push_str(&format!("==> {} <==\n{}", relay.name(), relay.log_tail(40)));
        }
        out
    }

    /// The log of `who` (the server's main part, or the relay agent's).
    fn log_path(&self, who: Role) -> Option<&Path> {
        let r = self.running.as_ref()?;
        let relay = r.relay.as_ref().filter(|_| who == Role::Relay);
        Some(relay.unwrap_or(&r.server).log_path())
    }

    /// The processes RSS is sampled for: the subject's (the relay agent, if any).
    fn subject_pids(&self) -> Option<&[i32]> {
        let r = self.running.as_ref()?;
        Some(r.relay.as_ref().unwrap_or(&r.server).pids())
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
                            && tpa != self.opts.site.relay.ip
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
        let scn = probe.scenario(&self.client, within, self.relayed())?;
        let env = Env {
            site: self.opts.site.clone(),
            // Another seed per probe: another xid and TFTP port each time.
            seed: self.opts.seed ^ 0x5eed_0000_0000 ^ self.probe_seq,
            harness_mac: self.lab.names().client_mac,
            gateway_mac: self.lab.names().relay_client_mac,
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

    /// Every probe, each retried once: `Ok(None)` all answered, else who did not answer
    /// and how. A server that is slow for a while is not hung (busybox udhcpd blocks for
    /// 2 s in an ARP check of each address it offers a new client): the retry comes after
    /// a pause as long as the first wait, and waits three times as long. Any answer to
    /// the probe client counts (a late answer to the first attempt too: the server is
    /// alive). Behind a relay agent a tap on the server link watches the retry: a request
    /// not forwarded, or a reply not delivered, is the relay's hang; a forwarded request
    /// not answered, the server's.
    fn probe_all(&mut self) -> Result<Option<(Role, String)>, String> {
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
            let names = self.lab.names();
            let tap = if self.relayed() {
                Some(crate::relay::ServerTap::start(&names.server_ns, &names.server_if).map_err(|e| e.to_string())?)
            } else {
                None
            };
            let answered = self.probe_once(p, t * 3)?;
            let seen = match tap.map(crate::relay::ServerTap::stop) {
                Some(r) => Some(r.map_err(|e| format!("server-link tap: {e}"))?),
                None => None,
            };
            if answered {
                continue;
            }
            let unanswered =
                format!("probe `{}` unanswered twice (within {t:?}, then, {t:?} later, within {:?})", p.name, t * 3);
            let Some(seen) = seen else { return Ok(Some((Role::Server, unanswered))) };
            let server_mac = self.lab.names().server_mac.0;
            let probe = |op: u8| seen.iter().filter(move |(_, f)| bootp_op_chaddr(f) == Some((op, PROBE_MAC)));
            let to_server = |(_, f): &&(std::time::SystemTime, Vec<u8>)| {
                f.get(..6).is_some_and(|d| d == server_mac || d == [0xff; 6])
            };
            // (The detail names no address of the packets: the same failure again must
            // read the same, to be counted as a repeat; the pcapng and logs have them.)
            let misdirected = probe(1).any(|f| !to_server(&f));
            let (who, why) = match (probe(1).any(|f| to_server(&f)), probe(2).next().is_some(), misdirected) {
                (false, _, true) => (
                    Role::Relay,
                    format!(
                        "the relay agent forwarded the request to another Ethernet address than the server's ({})",
                        bootcheck_scenario::Mac(server_mac)
                    ),
                ),
                (false, _, false) => (Role::Relay, "the relay agent did not forward the request".into()),
                (true, false, _) => (Role::Server, "the relay agent forwarded it and the server did not answer".into()),
                (true, true, _) => {
                    (Role::Relay, "the server answered and the relay agent did not deliver the reply".into())
                }
            };
            return Ok(Some((who, format!("{unanswered}: {why}"))));
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
        if let Some((who, why)) = self.probe_all()? {
            if let Err(f) = self.alive() {
                return Ok(Some(f));
            }
            return Ok(Some(Failure { kind: Kind::Hang, who, detail: why, log_tail: self.log_tail() }));
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

    /// Replay `packets` against a fresh server (and relay agent): does the same process
    /// fail the same way?
    fn trial(&mut self, packets: &[Packet], kind: Kind, who: Role, dir: &Path) -> Result<bool, String> {
        self.start(dir)?;
        self.port.drain().map_err(|e| e.to_string())?;
        let frames: Vec<Vec<u8>> = packets.iter().map(Packet::to_frame).collect();
        self.send_paced(&frames)?;
        Ok(self.health()?.is_some_and(|f| f.kind == kind && f.who == who))
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
    let subjects = Subjects::resolve(&opts.targets_dir, &opts.target, opts.relay.as_deref())?;
    let relayed = subjects.relay.is_some();
    // Reproducers probe as the first site client on the server's subnet, or behind a
    // relay agent on the relay subnet (they run with the site as it is); the campaign
    // probes as a client of its own (see `with_probe_client`).
    let net = if relayed { opts.site.relay.subnet } else { opts.site.subnet };
    let repro_client = opts
        .site
        .clients
        .iter()
        .find(|(_, c)| net.contains(&c.ip))
        .map(|(n, _)| n.clone())
        .ok_or(format!("the site has no client on {net} to probe with: add one under `clients:`"))?;
    let site = with_probe_client(&opts.site, relayed)?;
    crate::setup::prepare_dir(&opts.out)?;
    let lab = subjects.lab_up(&site)?;
    let opts = &FuzzOptions { site, ..opts.clone() };
    let result = campaign(opts, &lab, &subjects, &repro_client, corpus, on_progress, wall);
    lab.down().map_err(|e| e.to_string())?;
    result
}

fn campaign(
    opts: &FuzzOptions,
    lab: &Lab,
    subjects: &Subjects,
    repro_client: &str,
    corpus: Corpus,
    on_progress: &mut dyn FnMut(&Progress),
    wall: Instant,
) -> Result<FuzzReport, String> {
    let mut start = crate::StartOptions::default();
    start.vars.insert("faults".into(), serde_json::json!(opts.faults.join(",")));
    let target = &subjects.server;
    // Direct: replies to requests sent as a relay go to the relay address in the client
    // namespace; a socket there keeps its kernel from answering with ICMP. (Behind a
    // relay agent that address is the relay's.)
    let _relay_sock = (subjects.relay.is_none())
        .then(|| lab.udp_bind(Role::Client, std::net::SocketAddr::from((opts.site.relay.ip, 67))).ok())
        .flatten();
    let port = RawPort::open(lab, Role::Client).map_err(|e| e.to_string())?;
    let mut bench = Bench {
        lab,
        subjects,
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
    let relayed = subjects.relay.is_some();
    for p in Probe::candidates(&opts.site, relayed) {
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
        if let Some(r) = &opts.relay {
            return Err(format!(
                "no liveness probe is answered through the relay agent `{}` by `{}` (tried a BOOTREQUEST and a DHCPDISCOVER for the probe client `{PROBE_CLIENT}` behind it): check them with `bootcheck run --target {} --relay {r} scenarios/relay-agent`; logs:\n{}",
                subjects.subject(),
                target.name(),
                opts.target,
                bench.log_tail()
            ));
        }
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
    // Behind a relay agent: what it passes on, counted on the server link (the lab's
    // links outlive restarts); minimisation's replays are taken off again.
    let counts = std::sync::Arc::new(LinkCounts::default());
    let _counter = if relayed {
        let c = counts.clone();
        let names = lab.names();
        Some(
            crate::relay::LinkTap::start_with(&names.server_ns, &names.server_if, (), move |_, _, f| c.on_frame(&f))
                .map_err(|e| format!("server-link tap: {e}"))?,
        )
    } else {
        None
    };
    let mut not_fuzzing = RelayedCounts::default();

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
            if let Some(k) = bench.subject_pids().and_then(rss_kib) {
                let r = rss.get_or_insert(RssReport { first_kib: k, max_kib: k, last_kib: k, samples: 0 });
                r.max_kib = r.max_kib.max(k);
                r.last_kib = k;
                r.samples += 1;
                if let Some(limit) = opts.rss_growth_kib {
                    if !leak_flagged && k.saturating_sub(r.first_kib) > limit {
                        leak_flagged = true;
                        let mut top: Vec<(&String, &u64)> = classes.iter().collect();
                        top.sort_by(|a, b| b.1.cmp(a.1));
                        let who = if relayed { Role::Relay } else { Role::Server };
                        findings.push(Finding {
                            id: findings.len() + 1,
                            kind: "leak".into(),
                            role: who.to_string(),
                            process: bench.process_of(who).to_string(),
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
        // The whole logs (the next start rewrites them): `server-N.log`, `relay-N.log`;
        // the finding names the failed process's.
        for who in [Role::Server, Role::Relay].into_iter().filter(|w| *w == Role::Server || relayed) {
            let l = opts.out.join(format!("{who}-{id}.log"));
            let copied = bench.log_path(who).is_some_and(|p| std::fs::copy(p, &l).is_ok());
            if !copied && who == failure.who {
                let _ = std::fs::write(&l, &failure.log_tail);
            }
        }
        let log = opts.out.join(format!("{}-{id}.log", failure.who));
        let earlier: Vec<Case> = history.iter().flatten().cloned().collect();
        let before = counts.now();
        let minimized = minimize_and_write(&mut bench, opts, &earlier, &window, &failure, id, packets, &min_dir);
        let after = counts.now();
        not_fuzzing.forwarded += after.forwarded - before.forwarded;
        not_fuzzing.replies += after.replies - before.replies;
        let finding = match minimized {
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
        r.copy_logs(&opts.out);
    }
    bench.stop();
    let relayed_counts = relayed.then(|| {
        let all = counts.now();
        RelayedCounts { forwarded: all.forwarded - not_fuzzing.forwarded, replies: all.replies - not_fuzzing.replies }
    });
    let secs = fuzz_time.as_secs_f64();
    Ok(FuzzReport {
        target: target.name().to_string(),
        relay: subjects.relay.as_ref().map(|r| r.name().to_string()),
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
        relayed: relayed_counts,
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
    let (kind, who) = (failure.kind, failure.who);
    let deadline = Instant::now() + opts.minimize_time;
    let mut budget = Budget::new(opts.minimize_trials);
    let mut error: Option<String> = None;
    // A trial that cannot run (or runs out of time) counts as "does not fail": the
    // result is then less minimal, never wrong.
    let mut fails = |bench: &mut Bench<'_>, p: &[Packet]| -> bool {
        if error.is_some() || Instant::now() >= deadline || crate::interrupted() {
            return false;
        }
        match bench.trial(p, kind, who, dir) {
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
    let relay_arg = opts.relay.as_ref().map_or(String::new(), |r| format!(" --relay {r}"));
    let replay = format!("bootcheck run --target {}{relay_arg}{fault_args} {}", opts.target, yaml_path.display());
    let yaml = repro_yaml(&ReproInfo {
        subject: bench.subjects.subject(),
        failed: bench.process_of(who),
        relayed: bench.relayed(),
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
        role: who.to_string(),
        process: bench.process_of(who).to_string(),
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
    /// The campaign's subject (the relay agent, if any): the scenario id names it.
    subject: &'a str,
    /// The profile name of the process that failed.
    failed: &'a str,
    /// A relay-topology scenario, for `bootcheck run --relay`.
    relayed: bool,
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
    let _ = writeln!(out, "# {} of {}: {}", r.kind.name(), r.failed, r.detail);
    if !r.confirmed {
        let _ = writeln!(
            out,
            "# NOT reproduced by replaying these packets against a fresh server: the failure may need state built by earlier packets."
        );
    }
    let _ = writeln!(out, "# Replay: {}", r.replay);
    let _ = writeln!(out, "id: fuzz/{}/repro-{}", r.subject, r.id);
    let classes: Vec<&str> = r.cases.iter().map(|c| c.class.name()).collect();
    let title = format!(
        "{} packet(s) of class {} do not {} {} (found by bootcheck fuzz, seed {})",
        r.frames.len(),
        classes.join("+"),
        if r.kind == Kind::Crash { "crash" } else { "wedge" },
        r.failed,
        r.seed
    );
    let _ = writeln!(out, "title: {}", yaml_str(&title));
    let _ = writeln!(out, "tags: [fuzz, robustness{}]", if r.relayed { ", relay-agent" } else { "" });
    if r.relayed {
        let _ = writeln!(out, "topology: relay");
    }
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
#[allow(clippy::panic)]
mod tests {
    use super::*;
    use crate::setup::tests::site;

    /// Run `scn` in virtual time against `r` (the reference server, or it behind an
    /// in-process relay): it must pass.
    fn passes(scn: Scenario, s: &Site, r: &mut dyn engine::Responder) -> engine::ExecutionResult {
        let env = Env { site: s.clone(), seed: 1, harness_mac: crate::run::HARNESS_MAC, gateway_mac: None };
        let res = engine::run_virtual(Execution::new(scn, env).unwrap_or_else(|e| panic!("{e}")), r);
        assert!(res.passed(), "{:?}", res.steps);
        res
    }

    fn scenarios(s: &Site) -> Vec<(PathBuf, Scenario)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        bootcheck_scenario::discover(&[root])
            .into_iter()
            .filter(|p| !p.ends_with("site.yaml"))
            .filter_map(|p| bootcheck_scenario::load_scenario(&p, s).ok().map(|x| (p, x)))
            .collect()
    }

    /// A reproducer of one (made-up) frame, then `probes`, as the campaign writes it.
    fn one_frame_repro(subject: &str, relayed: bool, client: &str, probes: &[Probe]) -> (Scenario, Vec<u8>) {
        let case = Case {
            index: 7,
            seed: 0,
            proto: Proto::Bootp,
            class: MutationClass::ByteFlip,
            packet: Packet::Ether { frame: vec![0xff; 60] },
        };
        let frames = vec![case.packet.to_frame()];
        let text = repro_yaml(&ReproInfo {
            subject,
            failed: subject,
            relayed,
            id: 1,
            kind: Kind::Crash,
            detail: "exited: signal 11",
            seed: 3,
            cases: &[&case],
            frames: &frames,
            probes,
            client,
            replay: "bootcheck run …",
            confirmed: true,
        });
        let scn: Scenario = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(scn.id, format!("fuzz/{subject}/repro-1"));
        assert_eq!(scn.steps.len(), 1 + probes.len());
        let topology = if relayed { ScenarioTopology::Relay } else { ScenarioTopology::Direct };
        assert_eq!(scn.topology, topology, "{text}");
        (scn, frames[0].clone())
    }

    #[test]
    fn probes_are_valid_scenarios() {
        let s = site();
        for p in Probe::candidates(&s, false) {
            let scn = p.scenario("ws1", Duration::from_millis(500), false).unwrap_or_else(|e| panic!("{e}"));
            // Each is answered by the reference server in-process.
            passes(scn, &s, &mut Server::new(s.clone(), Vec::new()));
        }
    }

    #[test]
    fn a_reproducer_is_a_scenario_that_replays() {
        let s = site();
        let probes: Vec<Probe> = Probe::candidates(&s, false).into_iter().take(1).collect();
        let (scn, frame) = one_frame_repro("reference", false, "ws1", &probes);
        let r = passes(scn, &s, &mut Server::new(s.clone(), Vec::new()));
        assert_eq!(r.trace.iter().find(|t| t.dir == Dir::Out).map(|t| t.frame.clone()), Some(frame));
    }

    #[test]
    fn the_corpus_has_seeds_of_every_protocol() {
        let s = site();
        let c = seeds_from_scenarios(&s, &scenarios(&s), 1);
        for p in Proto::ALL {
            assert!(c.count(p) > 0, "no {p:?} seeds");
        }
        assert!(c.seeds().iter().all(|s| s.packet.is_safe()));
    }

    #[test]
    fn the_probe_client_is_nobody_else() {
        let s = site();
        for relayed in [false, true] {
            let p = with_probe_client(&s, relayed).unwrap_or_else(|e| panic!("{e}"));
            let c = p.client(PROBE_CLIENT).unwrap_or_else(|| panic!("no probe client"));
            assert!(if relayed { s.relay.subnet.contains(&c.ip) } else { s.subnet.contains(&c.ip) });
            assert!(!(u32::from(s.pool.start)..=u32::from(s.pool.end)).contains(&u32::from(c.ip)));
            assert!(s.clients.values().all(|o| o.ip != c.ip && o.mac != c.mac));
            assert_ne!(c.ip, s.relay.ip);
            assert_eq!(p.clients.len(), s.clients.len() + 1);
        }
    }

    /// The site's client behind the relay, answered through an in-process relay agent:
    /// giaddr set and hops incremented on the way to the reference server, the reply
    /// broadcast back (enough to run the relay probes and reproducers in virtual time).
    struct VirtualRelay {
        server: Server,
        site: Site,
    }

    impl engine::Responder for VirtualRelay {
        fn on_frame(&mut self, now: Duration, frame: &[u8]) -> Vec<Vec<u8>> {
            use bootcheck_wire::frame::{build_udp, UdpEndpoints};
            let Some((_, Packet::Udp { payload, .. })) = Packet::from_frame(frame) else { return Vec::new() };
            let (relay, uplink) = (self.site.relay.ip.octets(), self.site.relay.uplink);
            let mut req = payload;
            if req.len() < 240 || req[0] != 1 || req[3] > 16 {
                return Vec::new();
            }
            req[3] += 1;
            if req[24..28] == [0; 4] {
                req[24..28].copy_from_slice(&relay);
            }
            let up = UdpEndpoints {
                src_mac: [2, 0, 0, 0, 0x77, 3],
                dst_mac: self.site.server.mac.0,
                src_ip: uplink,
                dst_ip: self.site.server.ip,
                src_port: 67,
                dst_port: 67,
                ttl: 64,
            };
            let Ok(fwd) = build_udp(&up, &req) else { return Vec::new() };
            let replies = self.server.on_frame(now, &fwd);
            replies
                .into_iter()
                .filter_map(|r| {
                    let Some((_, Packet::Udp { payload, .. })) = Packet::from_frame(&r) else { return None };
                    let down = UdpEndpoints {
                        src_mac: [2, 0, 0, 0, 0x77, 2],
                        dst_mac: [0xff; 6],
                        src_ip: self.site.relay.ip,
                        dst_ip: std::net::Ipv4Addr::BROADCAST,
                        src_port: 67,
                        dst_port: 68,
                        ttl: 64,
                    };
                    build_udp(&down, &payload).ok()
                })
                .collect()
        }
        fn next_timeout(&self) -> Option<Duration> {
            None
        }
        fn on_timeout(&mut self, _: Duration) -> Vec<Vec<u8>> {
            Vec::new()
        }
    }

    #[test]
    fn relay_probes_are_relay_scenarios_answered_through_a_relay() {
        let s = with_probe_client(&site(), true).unwrap_or_else(|e| panic!("{e}"));
        let probes = Probe::candidates(&s, true);
        assert_eq!(probes.iter().map(|p| p.name).collect::<Vec<_>>(), ["bootp", "dhcp-discover"]);
        for p in probes {
            let scn = p.scenario(PROBE_CLIENT, Duration::from_millis(500), true).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(scn.topology, ScenarioTopology::Relay);
            passes(scn, &s, &mut VirtualRelay { server: Server::new(s.clone(), Vec::new()), site: s.clone() });
        }
    }

    #[test]
    fn a_relay_reproducer_is_a_relay_scenario() {
        let s = site();
        let (scn, _) = one_frame_repro("dhcrelay", true, "ws3", &Probe::candidates(&s, true));
        passes(scn, &s, &mut VirtualRelay { server: Server::new(s.clone(), Vec::new()), site: s.clone() });
    }

    #[test]
    fn direct_seeds_are_readdressed_as_a_client_behind_the_relay_sends_them() {
        use bootcheck_wire::frame::{Lies, UdpEndpoints};
        let s = site();
        let ep = |src_ip, dst_ip, src_port| UdpEndpoints {
            src_mac: [2, 0, 0, 0, 0xbe, 1],
            dst_mac: s.server.mac.0,
            src_ip,
            dst_ip,
            src_port,
            dst_port: 67,
            ttl: 64,
        };
        let lies = Lies { udp_len: Some(9), ..Lies::default() };
        let ip = |a, b, c, d| std::net::Ipv4Addr::new(a, b, c, d);
        for (src, src_port, want) in [
            (ip(0, 0, 0, 0), 68, ip(0, 0, 0, 0)),
            // ws1 at 192.0.2.21 → the same host behind the relay.
            (ip(192, 0, 2, 21), 68, ip(198, 51, 100, 21)),
            // The harness as a relay agent (its giaddr is the relay's own address).
            (s.relay.ip, 67, ip(0, 0, 0, 0)),
            (ip(203, 0, 113, 9), 68, ip(203, 0, 113, 9)),
        ] {
            let p = Packet::Udp { ep: ep(src, s.server.ip, src_port), payload: vec![1; 300], lies };
            let Some(Packet::Udp { ep: e, payload, lies: l }) = behind_relay(&s, &p) else { panic!("{p:?}") };
            assert_eq!((e.dst_mac, e.dst_ip), ([0xff; 6], std::net::Ipv4Addr::BROADCAST));
            assert_eq!((e.src_ip, e.src_port, e.dst_port, e.src_mac), (want, src_port, 67, [2, 0, 0, 0, 0xbe, 1]));
            assert_eq!((payload, l), (vec![1; 300], lies), "payload and lies kept");
        }
        let tftp = Packet::Udp {
            ep: UdpEndpoints { dst_port: 69, ..ep(s.relay.ip, s.server.ip, 2000) },
            payload: vec![0, 1],
            lies,
        };
        assert_eq!(behind_relay(&s, &tftp), None);
    }

    #[test]
    fn relay_seeds_are_bootrequests_to_the_broadcast_address() {
        let s = site();
        let scns = scenarios(&s);
        let relay_only: Vec<(PathBuf, Scenario)> =
            scns.iter().filter(|(_, x)| x.topology == ScenarioTopology::Relay).cloned().collect();
        assert!(!relay_only.is_empty());
        let c = seeds_behind_relay(&s, &scns, 1);
        let from_relay_scenarios = seeds_behind_relay(&s, &relay_only, 1);
        let direct = seeds_from_scenarios(&s, &scns, 1);
        assert_eq!(c.count(Proto::Tftp) + c.count(Proto::Rarp), 0);
        assert!(!from_relay_scenarios.is_empty() && c.len() > from_relay_scenarios.len());
        assert!(c.len() <= from_relay_scenarios.len() + direct.count(Proto::Bootp));
        assert!(c.seeds().iter().any(|x| x.origin.starts_with("rfc1542/4.1.1/relay")), "relay scenarios' own requests");
        for x in c.seeds() {
            assert!(x.packet.is_safe());
            let f = x.packet.to_frame();
            assert_eq!(f.get(..6), Some(&[0xff; 6][..]), "{}", x.origin);
        }
    }

    #[test]
    fn rss_of_this_process() {
        let me = i32::try_from(std::process::id()).unwrap_or(0);
        assert!(rss_kib(&[me]).is_some_and(|k| k > 0));
        assert_eq!(rss_kib(&[]), None);
    }
}
