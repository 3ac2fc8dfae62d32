//! Running scenarios against a target: in-process (the reference server in virtual
//! time, no privileges) or in the lab (a real process in a namespace, real time, raw
//! frames). Both feed the same sans-IO engine; results, pcapngs and snapshots come out
//! the same way.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use bootcheck_refserver::{Fault, Health, Server};
use bootcheck_scenario::engine::{self, Claim, Dir, Env, Execution, ExecutionResult};
use bootcheck_scenario::footprint::{self, Footprint, Resource};
use bootcheck_scenario::verdict::{self, Outcome};
use bootcheck_scenario::{snapshot, Mac, Scenario, Site};

use crate::pcapng::{Direction, PcapNgWriter};

pub use bootcheck_refserver::Fault as RefFault;

/// Where the scenarios run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The reference server, in this process, in virtual time.
    InProcess,
    /// A target process inside a network-namespace lab.
    Lab,
}

impl Mode {
    pub fn describe(self) -> &'static str {
        match self {
            Mode::InProcess => "in-process (virtual time, no network)",
            Mode::Lab => "lab (network namespaces, veth, raw Ethernet)",
        }
    }
}

/// One scenario's run.
#[derive(Debug, Clone)]
pub struct ScenarioRun {
    pub path: PathBuf,
    pub scenario: Scenario,
    pub target: String,
    pub outcome: Outcome,
    pub result: Option<ExecutionResult>,
    /// The pcapng of every frame of the scenario, when an out dir was given.
    pub pcap: Option<PathBuf>,
    /// The normalised decode (for snapshots).
    pub snapshot: String,
    /// Wall time (lab) or virtual time (in-process) the scenario took.
    pub duration: Duration,
    /// The RFC rule catalogue's verdicts on every reply of the scenario.
    pub rules: Vec<crate::conformance::RuleRecord>,
}

/// Fold rule failures into an outcome: expectations that held (or deviated as
/// recorded) do not hide a reply that broke a rule the target does not record.
pub fn with_rules(outcome: Outcome, rules: &[crate::conformance::RuleRecord]) -> Outcome {
    let bad: Vec<String> = rules
        .iter()
        .filter(|r| r.unrecorded_failure())
        .map(|r| format!("{} ({}) — {}", r.rule, r.level, r.evidence.as_deref().unwrap_or("")))
        .collect();
    match outcome {
        Outcome::Pass | Outcome::ExpectedFail { .. } if !bad.is_empty() => Outcome::RuleFail { rules: bad },
        o => o,
    }
}

/// The harness's own MAC in the lab and in-process (locally administered).
pub const HARNESS_MAC: Mac = Mac([0x02, 0x00, 0x00, 0x00, 0xbc, 0x01]);

/// A file name for a scenario id: `rfc951/known-client` → `rfc951_known-client`.
pub fn file_stem(id: &str) -> String {
    id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' }).collect()
}

/// Write an execution's trace as pcapng (virtual times are offset from `epoch`).
pub fn write_pcap(path: &Path, result: &ExecutionResult, iface: &str, epoch: SystemTime) -> Result<(), String> {
    let mut w = PcapNgWriter::create(path).map_err(|e| e.to_string())?;
    let id = w.add_interface(iface, Some("bootcheck harness port"), 1, 65535).map_err(|e| e.to_string())?;
    for t in &result.trace {
        let dir = match t.dir {
            Dir::Out => Direction::Out,
            Dir::In => Direction::In,
        };
        w.write_packet(id, epoch + t.at, &t.frame, dir).map_err(|e| e.to_string())?;
    }
    w.finish().map(|_| ()).map_err(|e| e.to_string())
}

/// Run one scenario against a fresh in-process reference server.
pub fn run_in_process(
    path: &Path,
    scenario: &Scenario,
    site: &Site,
    faults: &[Fault],
    seed: u64,
    out_dir: Option<&Path>,
) -> ScenarioRun {
    let target = "reference".to_string();
    let base = ScenarioRun {
        path: path.to_path_buf(),
        scenario: scenario.clone(),
        target: target.clone(),
        outcome: Outcome::Pass,
        result: None,
        pcap: None,
        snapshot: String::new(),
        duration: Duration::ZERO,
        rules: Vec::new(),
    };
    if let Some(why) = verdict::skip_reason(scenario, &target).or_else(|| topology_skip(scenario, None)) {
        return ScenarioRun { outcome: Outcome::Skipped { why }, ..base };
    }
    let env = Env { site: site.clone(), seed, harness_mac: HARNESS_MAC, gateway_mac: None };
    let exec = match Execution::new(scenario.clone(), env) {
        Ok(e) => e,
        Err(message) => return ScenarioRun { outcome: Outcome::Error { message }, ..base },
    };
    let mut server = Server::new(site.clone(), faults.to_vec());
    let result = engine::run_virtual(exec, &mut server);
    let mut outcome = verdict::judge(scenario, &target, &result);
    // A crash is reported as such whatever the expectations said (robustness steps
    // accept any reply, but never a dead server).
    if let Health::Crashed { reason } = server.health() {
        outcome = Outcome::Error { message: format!("the target crashed: {reason}") };
    }
    let rules =
        crate::conformance::check(&result, &BTreeMap::new(), &bootcheck_rules::Context { checksums_meaningful: true });
    let outcome = with_rules(outcome, &rules);
    let duration = result.steps.iter().map(|s| s.elapsed).sum();
    let pcap = out_dir.and_then(|d| {
        let p = d.join("pcap").join(format!("{}.pcapng", file_stem(&scenario.id)));
        std::fs::create_dir_all(p.parent()?).ok()?;
        write_pcap(&p, &result, "virtual0", SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)).ok()?;
        Some(p)
    });
    // The server's decisions (each with its RFC clause), one log per scenario.
    if let Some(d) = out_dir {
        let dir = d.join("log");
        if std::fs::create_dir_all(&dir).is_ok() {
            let text: String = server.log().iter().map(|e| format!("{e}\n")).collect();
            let _ = std::fs::write(dir.join(format!("{}.log", file_stem(&scenario.id))), text);
        }
    }
    ScenarioRun { outcome, snapshot: snapshot::render(&result), result: Some(result), pcap, duration, rules, ..base }
}

/// Drive an execution over a real port until it finishes; `deadline` bounds the whole
/// scenario. `send` puts a frame on the wire; `recv` waits until the instant given for
/// one frame.
pub fn drive_real(
    mut exec: Execution,
    send: &mut dyn FnMut(&[u8]) -> Result<(), String>,
    recv: &mut dyn FnMut(Instant) -> Result<Option<Vec<u8>>, String>,
    interrupted: &dyn Fn() -> bool,
) -> Result<ExecutionResult, String> {
    let start = Instant::now();
    let limit = Duration::from_secs(600);
    loop {
        let now = start.elapsed();
        while let Some(f) = exec.poll_transmit(now) {
            send(&f)?;
        }
        if exec.is_finished() {
            return Ok(exec.finish());
        }
        if interrupted() {
            return Err("interrupted".into());
        }
        if now > limit {
            return Err(format!("scenario still running after {}s", limit.as_secs()));
        }
        let wake = exec.poll_timeout().unwrap_or(now + Duration::from_millis(100));
        // Wake at least every 100 ms to notice Ctrl-C.
        let until = start + wake.min(now + Duration::from_millis(100));
        match recv(until)? {
            Some(frame) => exec.handle_frame(start.elapsed(), &frame),
            None => {
                let t = start.elapsed();
                if exec.poll_timeout().is_some_and(|w| w <= t) {
                    exec.handle_timeout(t);
                }
            }
        }
    }
}

/// Keep `runs` whose index falls in shard `k` of `n` (1-based k).
pub fn shard<T>(items: Vec<T>, k: usize, n: usize) -> Vec<T> {
    items.into_iter().enumerate().filter(|(i, _)| n == 0 || i % n == k.saturating_sub(1)).map(|(_, t)| t).collect()
}

/// What `run_lab` needs.
#[derive(Debug, Clone)]
pub struct LabRunOptions {
    pub site_path: PathBuf,
    pub site: Site,
    /// A profile name under `targets_dir`, or a path to a profile file.
    pub target: String,
    /// Reference server fault switches (passed to the profile as `faults`).
    pub faults: Vec<String>,
    pub seed: u64,
    pub out: PathBuf,
    pub targets_dir: PathBuf,
    /// A relay agent profile (placed in the relay namespace) between the harness and
    /// the target: the relay topology, where the relay is the subject.
    pub relay: Option<String>,
    /// Scenarios run at once on the lab (see `run_at_once`); 1 runs them one after
    /// another. The relay topology always runs them one after another.
    pub jobs: usize,
}

/// Why a scenario does not run in this lab's topology, if it does not.
fn topology_skip(scn: &Scenario, relay: Option<&str>) -> Option<String> {
    use bootcheck_scenario::model::ScenarioTopology as T;
    match (scn.topology, relay) {
        (T::Relay, None) => Some(
            "a relay-agent scenario: it needs a relay between the harness and the server (`bootcheck run --relay NAME`)"
                .into(),
        ),
        (T::Direct, Some(r)) => {
            Some(format!("a direct scenario: with --relay {r} the harness sits behind the relay, on the relay subnet"))
        }
        _ => None,
    }
}

/// Run scenarios against a target started inside a fresh lab. The lab is torn down
/// on return (success or error), on panic (Drop) and on Ctrl-C (the driver notices the
/// flag and returns).
pub fn run_lab(
    opts: &LabRunOptions,
    scns: &[(PathBuf, Scenario)],
    on_done: &mut dyn FnMut(&ScenarioRun),
) -> Result<Vec<ScenarioRun>, String> {
    let subjects = crate::Subjects::resolve(&opts.targets_dir, &opts.target, opts.relay.as_deref())?;
    let (target, relay_target) = (&subjects.server, subjects.relay.as_ref());
    // A combination judges each scenario with the deviations of the part serving it.
    let scns: Vec<(PathBuf, Scenario)> =
        scns.iter().map(|(p, s)| (p.clone(), target.scenario_for(s).into_owned())).collect();
    let scns = scns.as_slice();
    let lab = subjects.lab_up(&opts.site)?;
    let names = lab.names().clone();
    let run_dir = opts.out.join("run");
    crate::setup::prepare_dir(&opts.out)?;
    let mut start = crate::StartOptions::default();
    start.vars.insert("faults".into(), serde_json::json!(opts.faults.join(",")));
    // The relay starts after the server it forwards to.
    let mut started = subjects.start(&lab, &opts.site, &run_dir, &opts.out.join("run-relay"), &start)?;
    let relay_ctx = bootcheck_rules::RelayContext {
        client_side_ip: opts.site.relay.ip,
        max_hops: relay_target.and_then(|t| t.profile.relay_max_hops).unwrap_or(4),
        min_secs: relay_target.and_then(|t| t.profile.relay_min_secs).unwrap_or(0),
    };
    let mut rule_deviations = target.rule_deviations();
    if let Some(t) = relay_target {
        rule_deviations.extend(t.profile.rule_deviations.clone());
    }
    let run_dir_text = std::fs::canonicalize(&run_dir).unwrap_or_else(|_| run_dir.clone()).display().to_string();
    // The client namespace holds the relay addresses (so the server can route to the
    // harness-as-relay); a socket on relay:67 keeps its kernel from answering relayed
    // replies with ICMP port-unreachable.
    let _relay_sock = if relay_target.is_none() {
        lab.udp_bind(crate::Role::Client, std::net::SocketAddr::from((opts.site.relay.ip, 67))).ok()
    } else {
        None
    };
    let mut port = crate::RawPort::open(&lab, crate::Role::Client).map_err(|e| e.to_string())?;
    // With a relay, the relay is the subject: deviations and reports go by its name.
    let name = subjects.subject().to_string();
    let ctx = LabCtx {
        opts,
        target,
        relay_target,
        lab: &lab,
        name: name.clone(),
        names: &names,
        rule_deviations,
        relay_ctx,
        run_dir_text,
    };
    let mut alive = || match started.check_alive() {
        Ok(()) => None,
        Err((crate::Role::Relay, e)) => Some(format!("relay: {e}")),
        Err((_, e)) => Some(format!("{e}")),
    };
    // The relay topology's server-link tap and merged pcapng follow one scenario at a
    // time: it stays sequential.
    let runs = if relay_target.is_none() && opts.jobs > 1 {
        run_at_once(&ctx, scns, &mut port, opts.jobs, &mut alive, on_done)?
    } else {
        run_one_by_one(&ctx, scns, &mut port, &mut alive, on_done)?
    };
    started.copy_logs(&opts.out);
    drop(port);
    started.stop()?;
    lab.down().map_err(|e| e.to_string())?;
    Ok(runs)
}

/// What every scenario of one lab run shares: the subject, how outcomes are judged, how
/// snapshots are normalised.
struct LabCtx<'a> {
    opts: &'a LabRunOptions,
    target: &'a crate::Target,
    relay_target: Option<&'a crate::Target>,
    lab: &'a crate::Lab,
    /// The subject: the relay behind a relay, else the target.
    name: String,
    names: &'a crate::LabNames,
    rule_deviations: BTreeMap<String, String>,
    relay_ctx: bootcheck_rules::RelayContext,
    run_dir_text: String,
}

impl LabCtx<'_> {
    fn base(&self, path: &Path, scn: &Scenario) -> ScenarioRun {
        ScenarioRun {
            path: path.to_path_buf(),
            scenario: scn.clone(),
            target: self.name.clone(),
            outcome: Outcome::Pass,
            result: None,
            pcap: None,
            snapshot: String::new(),
            duration: Duration::ZERO,
            rules: Vec::new(),
        }
    }

    /// Why `scn` does not run here, if it does not.
    fn skip(&self, scn: &Scenario) -> Option<String> {
        // Behind a relay, a skip recorded for the server (a capability it lacks, such as
        // TFTP) applies too; its other deviations do not: the relay is the subject.
        let server_skip = self.relay_target.and_then(|_| verdict::skip_reason(scn, self.target.name()));
        verdict::skip_reason(scn, &self.name)
            .or(server_skip)
            .or_else(|| topology_skip(scn, self.opts.relay.as_deref()))
            .or_else(|| self.target.unserved(scn))
    }

    fn pcap_path(&self, scn: &Scenario) -> PathBuf {
        let dir = self.opts.out.join("pcap");
        let _ = std::fs::create_dir_all(&dir);
        dir.join(format!("{}.pcapng", file_stem(&scn.id)))
    }

    fn env(&self) -> Env {
        Env {
            site: self.opts.site.clone(),
            seed: self.opts.seed,
            harness_mac: self.names.client_mac,
            gateway_mac: self.names.relay_client_mac,
        }
    }

    /// The run of a scenario whose execution ended: outcome with the target's recorded
    /// deviations, the rule catalogue (over both links behind a relay, whose merged
    /// pcapng is written here), the normalised snapshot. `dead`: the target was found
    /// dead when the scenario ended.
    #[allow(clippy::too_many_arguments)]
    fn conclude(
        &self,
        base: ScenarioRun,
        scn: &Scenario,
        result: Result<ExecutionResult, String>,
        duration: Duration,
        dead: Option<&str>,
        server_side: Option<Vec<(SystemTime, Vec<u8>)>>,
        t0_sys: SystemTime,
        pcap_path: PathBuf,
    ) -> Result<ScenarioRun, String> {
        let name = &self.name;
        let names = self.names;
        let result = match result {
            Err(message) if message == "interrupted" => {
                return Err("interrupted (Ctrl-C); the lab was torn down".into())
            }
            Err(message) => return Ok(ScenarioRun { outcome: Outcome::Error { message }, duration, ..base }),
            Ok(r) => r,
        };
        let mut outcome = match self.target.deviation(scn) {
            // A deviation recorded in the target profile counts like one in the
            // scenario file.
            Some(why) if !scn.deviations.contains_key(name) => {
                let mut s = scn.clone();
                s.deviations.insert(
                    name.clone(),
                    bootcheck_scenario::model::Deviation {
                        why: why.to_string(),
                        outcome: bootcheck_scenario::model::DeviationOutcome::Fail,
                        step: None,
                    },
                );
                verdict::judge(&s, name, &result)
            }
            _ => verdict::judge(scn, name, &result),
        };
        // The lab turns veth TX checksum offload off, so reply checksums are what the
        // server computed.
        let ctx = bootcheck_rules::Context { checksums_meaningful: true };
        let rules = match server_side {
            None => crate::conformance::check(&result, &self.rule_deviations, &ctx),
            Some(server) => {
                let merged = crate::relay::merge(&result, t0_sys, server);
                crate::relay::write_pcap(
                    &pcap_path,
                    &merged,
                    t0_sys,
                    (
                        &format!("{}/{}", names.client_ns, names.client_if),
                        &format!("{}/{}", names.server_ns, names.server_if),
                    ),
                )
                .map_err(|e| e.to_string())?;
                let raw_steps: Vec<usize> = scn
                    .steps
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| matches!(s.send, Some(bootcheck_scenario::model::Send::Raw(_))))
                    .map(|(i, _)| i)
                    .collect();
                crate::conformance::check_relayed(&merged, &raw_steps, &self.relay_ctx, &ctx, &self.rule_deviations)
            }
        };
        outcome = with_rules(outcome, &rules);
        if let Some(d) = dead {
            outcome = Outcome::Error { message: format!("the target died during this scenario: {d}") };
        }
        // What only this run has: the lab's harness MAC (it carries the run id) becomes
        // the in-process one, so runs and backends compare line for line; the run dir
        // (servers name their own paths in TFTP error messages) becomes `[run-dir]`.
        let mut snap = cut_run_dir_lines(
            &snapshot::render(&result)
                .replace(&names.client_mac.to_string(), &HARNESS_MAC.to_string())
                .replace(&self.run_dir_text, "[run-dir]"),
        );
        // The relay agent's MACs carry the run id too.
        for (m, stable) in
            [(names.relay_client_mac, "02:bc:00:00:00:02"), (names.relay_server_mac, "02:bc:00:00:00:03")]
        {
            if let Some(m) = m {
                snap = snap.replace(&m.to_string(), stable);
            }
        }
        Ok(ScenarioRun {
            outcome,
            snapshot: snap,
            result: Some(result),
            pcap: Some(pcap_path),
            duration,
            rules,
            ..base
        })
    }
}

/// One scenario after another (`--jobs 1`, and the relay topology): every frame the
/// port sees while a scenario runs is that scenario's; the port writes its pcapng.
fn run_one_by_one(
    ctx: &LabCtx<'_>,
    scns: &[(PathBuf, Scenario)],
    port: &mut crate::RawPort,
    alive: &mut dyn FnMut() -> Option<String>,
    on_done: &mut dyn FnMut(&ScenarioRun),
) -> Result<Vec<ScenarioRun>, String> {
    let names = ctx.names;
    let mut runs = Vec::new();
    let mut dead: Option<String> = None;
    for (path, scn) in scns {
        let base = ctx.base(path, scn);
        let run = if let Some(why) = ctx.skip(scn) {
            ScenarioRun { outcome: Outcome::Skipped { why }, ..base }
        } else if let Some(d) = &dead {
            ScenarioRun { outcome: Outcome::Error { message: format!("target not running: {d}") }, ..base }
        } else {
            let pcap_path = ctx.pcap_path(scn);
            // Direct: the port writes the pcapng as frames pass. Relay: both links are
            // merged afterwards and written in one go (see `relay`).
            let writer = if ctx.relay_target.is_none() {
                let w = crate::PcapNgWriter::create_shared(&pcap_path).map_err(|e| e.to_string())?;
                port.attach(&w).map_err(|e| e.to_string())?;
                Some(w)
            } else {
                port.detach();
                None
            };
            let _ = port.drain();
            if ctx.relay_target.is_some() {
                // Each scenario starts from empty ARP tables: an entry a relay agent wrote
                // (bootpgw writes one for every reply it passes on, forged ones included)
                // must not decide where a later scenario's frames go.
                ctx.lab.flush_neighbours().map_err(|e| e.to_string())?;
            }
            let tap = if ctx.relay_target.is_some() {
                Some(crate::relay::ServerTap::start(&names.server_ns, &names.server_if).map_err(|e| e.to_string())?)
            } else {
                None
            };
            let mut t0 = Instant::now();
            let mut t0_sys = SystemTime::now();
            let result = match Execution::new(scn.clone(), ctx.env()) {
                Err(message) => Err(message),
                Ok(exec) => {
                    let cell = std::cell::RefCell::new(&mut *port);
                    // The engine's clock starts inside drive_real: the server-link
                    // tap's instants are merged against this one, taken just before.
                    t0 = Instant::now();
                    t0_sys = SystemTime::now();
                    drive_real(
                        exec,
                        &mut |f| port_send(&mut cell.borrow_mut(), f),
                        &mut |deadline| port_recv(&mut cell.borrow_mut(), deadline),
                        &crate::interrupted,
                    )
                }
            };
            if let Some(Ok(mut w)) = writer.as_ref().map(|w| w.lock()) {
                let _ = w.flush();
            }
            let server_side = match tap.map(crate::relay::ServerTap::stop) {
                Some(Ok(f)) => Some(f),
                Some(Err(e)) => return Err(format!("server-link tap: {e}")),
                None => None,
            };
            let duration = t0.elapsed();
            if let Some(d) = alive() {
                dead = Some(d);
            }
            ctx.conclude(base, scn, result, duration, dead.as_deref(), server_side, t0_sys, pcap_path)?
        };
        on_done(&run);
        runs.push(run);
    }
    Ok(runs)
}

/// A scenario running in [`run_at_once`].
struct Live {
    /// Its index in the scenario list.
    idx: usize,
    exec: Execution,
    start: Instant,
    start_sys: SystemTime,
    /// When each frame of the execution's trace was sent or captured, in trace order.
    stamps: Vec<SystemTime>,
}

/// Several scenarios at once on one lab (`--jobs N`): one loop over the one port drives
/// up to `jobs` executions, each on its own clock; each received frame goes to the
/// execution(s) that claim it ([`Execution::claim`]: its xid, TFTP endpoint, RARP
/// target, ARP address — a chaddr only when no xid says otherwise, and never the
/// chaddr of a late answer to a scenario that already ended), so a scenario's trace,
/// pcapng and snapshot hold its own exchanges only. Scenarios whose footprints clash
/// ([`bootcheck_scenario::footprint`]: same client MAC or address, xid or TFTP port)
/// never overlap; those that must run alone run first, each by itself. Frames nobody
/// claims go to `unclaimed.pcapng` in the out dir.
fn run_at_once(
    ctx: &LabCtx<'_>,
    scns: &[(PathBuf, Scenario)],
    port: &mut crate::RawPort,
    jobs: usize,
    alive: &mut dyn FnMut() -> Option<String>,
    on_done: &mut dyn FnMut(&ScenarioRun),
) -> Result<Vec<ScenarioRun>, String> {
    let limit = Duration::from_secs(600);
    let mut done: Vec<Option<ScenarioRun>> = scns.iter().map(|_| None).collect();
    let mut todo = Vec::new();
    for (i, (path, scn)) in scns.iter().enumerate() {
        match ctx.skip(scn) {
            Some(why) => {
                let run = ScenarioRun { outcome: Outcome::Skipped { why }, ..ctx.base(path, scn) };
                on_done(&run);
                done[i] = Some(run);
            }
            None => todo.push(i),
        }
    }
    let fps: Vec<Footprint> =
        scns.iter().map(|(_, s)| footprint::footprint(s, &ctx.opts.site, ctx.opts.seed)).collect();
    let mut pending = footprint::schedule(&todo, &fps);
    let mut live: Vec<Live> = Vec::new();
    // xids of scenarios that ended: a late reply carrying one is nobody's now, even
    // if its chaddr is that of a scenario still running.
    let mut retired: HashSet<u32> = HashSet::new();
    let mut strays: Vec<(SystemTime, Vec<u8>)> = Vec::new();
    let mut dead: Option<String> = None;
    let mut admit = true;
    let _ = port.drain();
    let finish = |idx: usize,
                  l: (Instant, SystemTime, Vec<SystemTime>),
                  result: Result<ExecutionResult, String>,
                  dead: Option<String>| {
        let (path, scn) = &scns[idx];
        let (start, start_sys, stamps) = l;
        let duration = start.elapsed();
        let pcap_path = ctx.pcap_path(scn);
        if let Ok(r) = &result {
            let iface = format!("{}/{}", ctx.names.client_ns, ctx.names.client_if);
            write_port_pcap(&pcap_path, r, &stamps, start_sys, &iface)?;
        }
        ctx.conclude(ctx.base(path, scn), scn, result, duration, dead.as_deref(), None, start_sys, pcap_path)
    };
    // Judging a scenario that ended (rules, snapshot, pcapng) happens on a thread of
    // its own: the loop keeps the others' clocks and exchanges going meanwhile.
    let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<ScenarioRun, String>)>();
    let mut judging = 0usize;
    std::thread::scope(|s| -> Result<(), String> {
        loop {
            while let Ok((idx, run)) = rx.try_recv() {
                judging -= 1;
                let run = run?;
                on_done(&run);
                done[idx] = Some(run);
            }
            if admit {
                admit = false;
                let mut k = 0;
                while k < pending.len() && live.len() < jobs {
                    let i = pending[k];
                    let (path, scn) = &scns[i];
                    if let Some(d) = &dead {
                        pending.remove(k);
                        let message = format!("target not running: {d}");
                        let run = ScenarioRun { outcome: Outcome::Error { message }, ..ctx.base(path, scn) };
                        on_done(&run);
                        done[i] = Some(run);
                        continue;
                    }
                    if live.iter().any(|l| fps[l.idx].clashes(&fps[i])) {
                        if fps[i].alone.is_some() {
                            // It waits for the lab to empty, and nothing overtakes it.
                            break;
                        }
                        k += 1;
                        continue;
                    }
                    pending.remove(k);
                    match Execution::new(scn.clone(), ctx.env()) {
                        Ok(exec) => live.push(Live {
                            idx: i,
                            exec,
                            start: Instant::now(),
                            start_sys: SystemTime::now(),
                            stamps: Vec::new(),
                        }),
                        Err(message) => {
                            let run = ScenarioRun { outcome: Outcome::Error { message }, ..ctx.base(path, scn) };
                            on_done(&run);
                            done[i] = Some(run);
                        }
                    }
                    if fps[i].alone.is_some() {
                        break;
                    }
                }
            }
            for l in &mut live {
                let now = l.start.elapsed();
                while let Some(f) = l.exec.poll_transmit(now) {
                    // Stamp before sending: a fast reply can be read before sendpacket returns.
                    l.stamps.push(SystemTime::now());
                    port.send(&f).map_err(|e| e.to_string())?;
                }
            }
            let mut k = 0;
            while k < live.len() {
                let over = live[k].start.elapsed() > limit;
                if !(live[k].exec.is_finished() || over) {
                    k += 1;
                    continue;
                }
                let Live { idx, exec, start, start_sys, stamps } = live.remove(k);
                if dead.is_none() {
                    dead = alive();
                }
                retired.extend(fps[idx].resources.iter().filter_map(|r| match r {
                    Resource::Xid(x) => Some(*x),
                    _ => None,
                }));
                let result = if over {
                    drop(exec);
                    Err(format!("scenario still running after {}s", limit.as_secs()))
                } else {
                    Ok(exec.finish())
                };
                let (tx, finish, dead) = (tx.clone(), &finish, dead.clone());
                s.spawn(move || {
                    let _ = tx.send((idx, finish(idx, (start, start_sys, stamps), result, dead)));
                });
                judging += 1;
                admit = true;
            }
            if admit && !pending.is_empty() {
                // A scenario ended: start the next ones now, not after the next wait.
                continue;
            }
            if live.is_empty() {
                if pending.is_empty() {
                    if judging == 0 {
                        break;
                    }
                    // Only judging left: wait for it.
                    if let Ok((idx, run)) = rx.recv() {
                        judging -= 1;
                        let run = run?;
                        on_done(&run);
                        done[idx] = Some(run);
                    }
                    continue;
                }
                admit = true;
                continue;
            }
            if crate::interrupted() {
                return Err("interrupted (Ctrl-C); the lab was torn down".into());
            }
            let now = Instant::now();
            // Wake at least every 100 ms to notice Ctrl-C.
            let wake = live
                .iter()
                .filter_map(|l| l.exec.poll_timeout().map(|t| l.start + t))
                .min()
                .unwrap_or(now)
                .min(now + Duration::from_millis(100));
            match port.recv_stamped(wake) {
                Ok(Some((_, ts, frame))) => {
                    let claims: Vec<Claim> = live.iter().map(|l| l.exec.claim(&frame)).collect();
                    let to = footprint::route(&claims, &frame, |x| retired.contains(&x));
                    for &k in &to {
                        let l = &mut live[k];
                        l.stamps.push(ts);
                        l.exec.handle_frame(l.start.elapsed(), &frame);
                    }
                    if to.is_empty() {
                        strays.push((ts, frame));
                    }
                }
                Ok(None) => {}
                Err(crate::LabError::Interrupted) => return Err("interrupted (Ctrl-C); the lab was torn down".into()),
                Err(e) => return Err(e.to_string()),
            }
            for l in &mut live {
                let t = l.start.elapsed();
                if l.exec.poll_timeout().is_some_and(|w| w <= t) {
                    l.exec.handle_timeout(t);
                }
            }
        }
        Ok(())
    })?;
    if !strays.is_empty() {
        let iface = format!("{}/{}", ctx.names.client_ns, ctx.names.client_if);
        let _ = write_frames_pcap(
            &ctx.opts.out.join("unclaimed.pcapng"),
            &iface,
            strays.iter().map(|(t, f)| (*t, f.as_slice(), Direction::In)),
        );
    }
    Ok(done.into_iter().flatten().collect())
}

/// An execution's trace as the pcapng of a lab port: frames stamped when they were sent
/// or captured (`stamps`, in trace order), else at the engine's instants.
fn write_port_pcap(
    path: &Path,
    result: &ExecutionResult,
    stamps: &[SystemTime],
    start_sys: SystemTime,
    iface: &str,
) -> Result<(), String> {
    let exact = stamps.len() == result.trace.len();
    write_frames_pcap(
        path,
        iface,
        result.trace.iter().enumerate().map(|(i, t)| {
            let at = if exact { stamps[i] } else { start_sys + t.at };
            (at, t.frame.as_slice(), if t.dir == Dir::Out { Direction::Out } else { Direction::In })
        }),
    )
}

/// A pcapng with one lab port interface named `iface`.
fn write_frames_pcap<'a>(
    path: &Path,
    iface: &str,
    frames: impl Iterator<Item = (SystemTime, &'a [u8], Direction)>,
) -> Result<(), String> {
    let mut w = PcapNgWriter::create(path).map_err(|e| e.to_string())?;
    let id = w
        .add_interface(iface, Some("bootcheck lab port"), crate::pcapng::LINKTYPE_ETHERNET, 65535)
        .map_err(|e| e.to_string())?;
    for (at, f, d) in frames {
        w.write_packet(id, at, f, d).map_err(|e| e.to_string())?;
    }
    w.finish().map(|_| ()).map_err(|e| e.to_string())
}

fn port_send(port: &mut crate::RawPort, f: &[u8]) -> Result<(), String> {
    port.send(f).map_err(|e| e.to_string())
}

fn port_recv(port: &mut crate::RawPort, deadline: Instant) -> Result<Option<Vec<u8>>, String> {
    match port.recv(deadline) {
        Ok(v) => Ok(v.map(|(_, f)| f)),
        Err(crate::LabError::Interrupted) => Err("interrupted".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// `bootcheck lab …`.
#[derive(Debug, Clone)]
pub enum LabCommand {
    Up { site: PathBuf, relay: bool },
    Down { id: String },
    Clean { force: bool },
    List,
}

/// Carry out a `bootcheck lab` command; returns what to print.
pub fn lab_command(cmd: LabCommand) -> Result<String, String> {
    match cmd {
        LabCommand::Up { site, relay } => {
            let site = bootcheck_scenario::load_site(&site).map_err(|e| e.to_string())?;
            let topo = if relay { crate::Topology::Relay } else { crate::Topology::Direct };
            let names = crate::Lab::up_detached(&crate::LabSpec::new(site, topo)).map_err(|e| e.to_string())?;
            Ok(format!("{names}\ntear down with: bootcheck lab down {}\n", names.id))
        }
        LabCommand::Down { id } => {
            crate::netns::down(&id).map_err(|e| e.to_string())?;
            Ok(format!("lab {id} torn down\n"))
        }
        LabCommand::Clean { force } => {
            let r = crate::netns::clean(force).map_err(|e| e.to_string())?;
            Ok(format!("{r:?}\n"))
        }
        LabCommand::List => {
            let mut out = String::new();
            for l in crate::netns::list() {
                match l {
                    Ok(s) => out.push_str(&format!(
                        "{} owner alive: {} namespaces: {}\n",
                        s.id,
                        s.owner_alive(),
                        s.namespaces.join(" ")
                    )),
                    Err(e) => out.push_str(&format!("unreadable lab state: {e}\n")),
                }
            }
            if out.is_empty() {
                out.push_str("no labs\n");
            }
            Ok(out)
        }
    }
}

/// Whether this process runs inside a bootcheck lab namespace: its network namespace
/// inode is that of one of the `/run/netns/bc…` namespaces a lab created.
pub(crate) fn in_lab_netns() -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(link) = std::fs::read_link("/proc/self/ns/net") else { return false };
    let Some(ino) = link
        .to_str()
        .and_then(|s| s.strip_prefix("net:["))
        .and_then(|s| s.strip_suffix(']'))
        .and_then(|s| s.parse::<u64>().ok())
    else {
        return false;
    };
    let Ok(rd) = std::fs::read_dir("/run/netns") else { return false };
    rd.flatten().any(|e| {
        e.file_name().to_str().is_some_and(|n| crate::netns::ns_run_id(n).is_some())
            && std::fs::metadata(e.path()).is_ok_and(|m| m.ino() == ino)
    })
}

/// `bootcheck refserver`: the reference server on a raw interface of the namespace this
/// process runs in (the lab starts it with `ip netns exec`). Refuses to run outside a
/// bootcheck lab namespace. Prints `ready` once the capture is open; stops on SIGTERM/SIGINT or after
/// `max`. A crash fault exits with status 134 (as an abort would).
pub fn serve_refserver(site: Site, faults: Vec<Fault>, iface: &str, max: Duration) -> Result<u8, String> {
    use std::os::fd::AsFd;
    if !in_lab_netns() {
        return Err(format!(
            "refusing to serve on {iface}: this process is not inside a bootcheck lab namespace (bootcheck run starts the reference server there; `bootcheck lab up` makes one)"
        ));
    }
    crate::install_signal_cleanup().map_err(|e| e.to_string())?;
    let mut faults = faults;
    if let Ok(v) = std::env::var("BOOTCHECK_FAULTS") {
        for f in v.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            faults.push(f.parse().map_err(|e| format!("BOOTCHECK_FAULTS: {f}: {e}"))?);
        }
    }
    let cap = pcap::Capture::from_device(iface)
        .and_then(|c| c.promisc(true).immediate_mode(true).snaplen(65535).open())
        .map_err(|e| format!("opening {iface}: {e}"))?;
    let mut cap = cap.setnonblock().map_err(|e| format!("{iface}: {e}"))?;
    cap.direction(pcap::Direction::In).map_err(|e| format!("{iface}: {e}"))?;
    // The reference server owns the interface: it answers ARP itself and builds every
    // frame, so the namespace kernel gets no address on it (otherwise it would answer
    // TFTP ACKs to the server's transfer ports with ICMP port-unreachable).
    let flush = std::process::Command::new("ip").args(["addr", "flush", "dev", iface]).status();
    if !flush.is_ok_and(|s| s.success()) {
        return Err(format!("`ip addr flush dev {iface}` failed inside the lab namespace"));
    }
    let mut server = Server::new(site, faults.clone());
    eprintln!(
        "bootcheck refserver: ready on {iface} (faults: {})",
        if faults.is_empty() {
            "none".to_string()
        } else {
            faults.iter().map(|f| f.to_string()).collect::<Vec<_>>().join(", ")
        }
    );
    let start = Instant::now();
    loop {
        if crate::interrupted() || start.elapsed() > max {
            return Ok(0);
        }
        let now = start.elapsed();
        let wait = server
            .poll_timeout()
            .map_or(Duration::from_millis(100), |t| t.saturating_sub(now))
            .min(Duration::from_millis(100));
        {
            let fd = cap.as_fd();
            let mut fds = [nix::poll::PollFd::new(fd, nix::poll::PollFlags::POLLIN)];
            let ms = u16::try_from(wait.as_millis()).unwrap_or(100);
            let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(ms));
        }
        let mut out: Vec<Vec<u8>> = Vec::new();
        loop {
            match cap.next_packet() {
                Ok(p) => {
                    let frame = p.data.to_vec();
                    out.extend(server.handle_frame(start.elapsed(), &frame));
                }
                Err(pcap::Error::TimeoutExpired) | Err(pcap::Error::NoMorePackets) => break,
                Err(e) => return Err(format!("reading {iface}: {e}")),
            }
        }
        let now = start.elapsed();
        if server.poll_timeout().is_some_and(|t| t <= now) {
            out.extend(server.handle_timeout(now));
        }
        for f in out {
            cap.sendpacket(f.as_slice()).map_err(|e| format!("sending on {iface}: {e}"))?;
        }
        for e in server.log() {
            eprintln!("{e}");
        }
        if let Health::Crashed { reason } = server.health() {
            eprintln!("bootcheck refserver: simulated crash: {reason}");
            return Ok(134);
        }
    }
}

/// A server cuts a long message (a TFTP ERROR naming its own path) to its buffer, so
/// how much of it shows depends on the run dir's length: such lines (over 200
/// characters) are cut 64 characters after `[run-dir]`, so snapshots agree wherever
/// the run happens.
fn cut_run_dir_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.split_inclusive('\n') {
        let (body, nl) = line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n"));
        match body.find("[run-dir]") {
            Some(i) if body.chars().count() > 200 => {
                let keep: String = body[i..].chars().take("[run-dir]".len() + 64).collect();
                out.push_str(&body[..i]);
                out.push_str(&keep);
                out.push_str("…[cut]");
                out.push_str(nl);
            }
            _ => out.push_str(line),
        }
    }
    out
}

#[cfg(test)]
mod cut_tests {
    #[test]
    fn long_run_dir_lines_are_cut_whatever_the_run_dir() {
        let msg = |n: usize| format!("  TFTP ERROR \"cannot read [run-dir]/tftp/{}\"\nnext\n", "b".repeat(n));
        assert_eq!(super::cut_run_dir_lines(&msg(400)), super::cut_run_dir_lines(&msg(380)));
        assert!(super::cut_run_dir_lines(&msg(400)).ends_with("…[cut]\nnext\n"));
        assert_eq!(super::cut_run_dir_lines(&msg(20)), msg(20));
    }
}
