//! The per-run lab: network namespaces joined by veth pairs, built with `ip`
//! (iproute2), recorded in a state file, and torn down by `Drop`.
//!
//! Names carry a random 6-hex-digit run id: namespaces `bc<id>-cli`, `bc<id>-srv`,
//! `bc<id>-rly`; interfaces `bc<id>-c0` (client), `bc<id>-s0` (server), `bc<id>-r0` /
//! `bc<id>-r1` (relay, client side / server side). Every veth is created with
//! `ip -n A link add … type veth peer name … netns B`, so neither end ever exists in
//! the root namespace.
//!
//! ## State file
//! `/run/bootcheck/labs/<id>.json` ([`LabState`], JSON) is written *before* anything is
//! created and rewritten after every change (atomically: temp file + rename). It
//! records the owner process (PID + start time), the namespaces, the files and
//! directories created, the `/etc` bind-mount targets relied on, and every process
//! started. A later run's [`Lab::reap_stale`] tears down labs whose owner is gone.
//! `/run/bootcheck/etc-created` lists `/etc` paths bootcheck itself created (an empty
//! `/etc/ethers`, `/etc/netns`) so they are removed once no lab uses them. All changes
//! happen under an `flock` on `/run/bootcheck/lock`.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fmt;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bootcheck_scenario::{Mac, Site};
use nix::fcntl::{Flock, FlockArg};
use nix::sched::CloneFlags;
use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

use crate::cmd::{self, run};
use crate::proc::{self, ProcId};
use crate::LabError;

/// Where lab state files live.
pub const STATE_DIR: &str = "/run/bootcheck/labs";
const BASE_DIR: &str = "/run/bootcheck";
const LOCK_FILE: &str = "/run/bootcheck/lock";
const ETC_REGISTRY: &str = "/run/bootcheck/etc-created";
const NETNS_RUN: &str = "/run/netns";
const ETC_NETNS: &str = "/etc/netns";
/// How long a process gets between SIGTERM and SIGKILL at teardown.
pub const STOP_GRACE: Duration = Duration::from_secs(2);
const STATE_VERSION: u32 = 1;

/// Lab shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Topology {
    /// client ns ↔ server ns, one veth pair. The client namespace also holds the relay
    /// agent's addresses (`relay.uplink` on the veth, `relay.ip/32` on lo), so the
    /// harness can play a relay agent with giaddr = `relay.ip`.
    Direct,
    /// client ns ↔ relay ns ↔ server ns, two veth pairs: `relay.subnet` on the client
    /// side, the site subnet on the server side.
    Relay,
}

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Topology::Direct => "direct",
            Topology::Relay => "relay",
        })
    }
}

/// Which lab namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Client,
    Server,
    Relay,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Client => "client",
            Role::Server => "server",
            Role::Relay => "relay",
        })
    }
}

/// A file placed in `/etc/netns/<ns>/NAME`, which `ip netns exec` bind-mounts over
/// `/etc/NAME` for processes started in that namespace (e.g. `ethers` for rarpd).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcFile {
    pub role: Role,
    /// A plain file name (`hosts`, `ethers`, …), no `/`.
    pub name: String,
    pub content: String,
}

/// What to build.
#[derive(Debug, Clone)]
pub struct LabSpec {
    pub site: Site,
    pub topology: Topology,
    /// The client veth's MAC; default `02:bc:<run id>:01` (locally administered).
    pub client_mac: Option<Mac>,
    /// Extra per-namespace `/etc` files. `hosts` is always written (server name and
    /// the machine's host name → server IP in the server namespace, etc.); an entry
    /// named `hosts` here replaces it.
    pub etc_files: Vec<EtcFile>,
}

impl LabSpec {
    pub fn new(site: Site, topology: Topology) -> Self {
        LabSpec { site, topology, client_mac: None, etc_files: Vec::new() }
    }
}

/// Every name and address of one lab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabNames {
    pub id: String,
    pub topology: Topology,
    pub client_ns: String,
    pub server_ns: String,
    pub relay_ns: Option<String>,
    /// The client's veth (in `client_ns`).
    pub client_if: String,
    /// The server's veth (in `server_ns`).
    pub server_if: String,
    /// Relay topology: the relay's veth towards the client (in `relay_ns`).
    pub relay_client_if: Option<String>,
    /// Relay topology: the relay's veth towards the server (in `relay_ns`).
    pub relay_server_if: Option<String>,
    pub client_mac: Mac,
    pub server_mac: Mac,
    pub relay_client_mac: Option<Mac>,
    pub relay_server_mac: Option<Mac>,
}

impl LabNames {
    fn new(id: &str, topology: Topology, site: &Site, client_mac: Option<Mac>) -> LabNames {
        let b = hex_bytes(id);
        let mac = |n: u8| Mac([0x02, 0xbc, b[0], b[1], b[2], n]);
        let relay = topology == Topology::Relay;
        LabNames {
            id: id.to_string(),
            topology,
            client_ns: format!("bc{id}-cli"),
            server_ns: format!("bc{id}-srv"),
            relay_ns: relay.then(|| format!("bc{id}-rly")),
            client_if: format!("bc{id}-c0"),
            server_if: format!("bc{id}-s0"),
            relay_client_if: relay.then(|| format!("bc{id}-r0")),
            relay_server_if: relay.then(|| format!("bc{id}-r1")),
            client_mac: client_mac.unwrap_or(mac(1)),
            server_mac: site.server.mac,
            relay_client_mac: relay.then(|| mac(2)),
            relay_server_mac: relay.then(|| mac(3)),
        }
    }

    /// The namespace of `role`, if the topology has it.
    pub fn ns(&self, role: Role) -> Option<&str> {
        match role {
            Role::Client => Some(&self.client_ns),
            Role::Server => Some(&self.server_ns),
            Role::Relay => self.relay_ns.as_deref(),
        }
    }

    /// The harness-facing veth of `role`: client → `client_if`, server → `server_if`,
    /// relay → `relay_client_if`.
    pub fn iface(&self, role: Role) -> Option<&str> {
        match role {
            Role::Client => Some(&self.client_if),
            Role::Server => Some(&self.server_if),
            Role::Relay => self.relay_client_if.as_deref(),
        }
    }

    /// All namespaces, client first.
    pub fn namespaces(&self) -> Vec<String> {
        let mut v = vec![self.client_ns.clone()];
        v.extend(self.relay_ns.clone());
        v.push(self.server_ns.clone());
        v
    }

    /// Every lab MAC (for leak checks).
    pub fn macs(&self) -> Vec<Mac> {
        let mut v = vec![self.client_mac, self.server_mac];
        v.extend(self.relay_client_mac);
        v.extend(self.relay_server_mac);
        v
    }
}

impl fmt::Display for LabNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "lab {} ({})", self.id, self.topology)?;
        writeln!(f, "  client: netns {} if {} mac {}", self.client_ns, self.client_if, self.client_mac)?;
        if let (Some(ns), Some(a), Some(b), Some(ma), Some(mb)) = (
            &self.relay_ns,
            &self.relay_client_if,
            &self.relay_server_if,
            &self.relay_client_mac,
            &self.relay_server_mac,
        ) {
            writeln!(f, "  relay:  netns {ns} if {a} mac {ma} | if {b} mac {mb}")?;
        }
        write!(f, "  server: netns {} if {} mac {}", self.server_ns, self.server_if, self.server_mac)
    }
}

/// A process the lab started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcRecord {
    pub pid: i32,
    /// Clock ticks since boot (field 22 of /proc/PID/stat); 0 if it was gone already.
    pub start_time: u64,
    pub ns: String,
    pub argv: Vec<String>,
}

impl ProcRecord {
    fn id(&self) -> ProcId {
        ProcId { pid: self.pid, start_time: self.start_time }
    }
}

/// The state file's content (`/run/bootcheck/labs/<id>.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabState {
    pub version: u32,
    pub id: String,
    /// The process that owns the lab; `None` for a detached lab (`lab up`).
    pub owner: Option<ProcId>,
    pub detached: bool,
    pub created_unix: u64,
    pub names: LabNames,
    /// Namespaces (recorded before they are created).
    pub namespaces: Vec<String>,
    /// Files the lab created (`/etc/netns/<ns>/hosts`, …).
    pub files: Vec<PathBuf>,
    /// Directories the lab created (`/etc/netns/<ns>`).
    pub dirs: Vec<PathBuf>,
    /// `/etc` paths the lab's bind mounts need (`/etc/ethers`, `/etc/netns`).
    pub etc_targets: Vec<PathBuf>,
    /// Processes started with [`Lab::exec`] or found after a daemon forked.
    pub pids: Vec<ProcRecord>,
}

impl LabState {
    /// Whether the owner process still runs (always false for detached labs).
    pub fn owner_alive(&self) -> bool {
        self.owner.as_ref().is_some_and(ProcId::alive)
    }
}

/// What this process may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Privilege {
    /// Effective UID 0: namespaces can be created.
    Root,
    /// Not root, but unprivileged user namespaces are allowed: call
    /// [`crate::userns::enter`] (single-threaded) and the lab runs inside one.
    UserNamespaces,
    /// Neither.
    None,
}

/// Detect what this process may do (see [`Privilege`]).
pub fn privilege() -> Privilege {
    if nix::unistd::geteuid().is_root() {
        Privilege::Root
    } else if userns_blocker().is_none() {
        Privilege::UserNamespaces
    } else {
        Privilege::None
    }
}

/// Why unprivileged user namespaces are unavailable, with the sysctl that changes it.
fn userns_blocker() -> Option<String> {
    let read = |p: &str| fs::read_to_string(p).ok().map(|s| s.trim().to_string());
    if read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        return Some("sysctl kernel.unprivileged_userns_clone=1".into());
    }
    if read("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        return Some("sysctl user.max_user_namespaces=15000".into());
    }
    if read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1") {
        return Some("sysctl kernel.apparmor_restrict_unprivileged_userns=0".into());
    }
    None
}

fn check_privilege() -> Result<(), LabError> {
    let what =
        "creating the lab's network namespaces and veth pairs needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN)".to_string();
    match privilege() {
        Privilege::Root => Ok(()),
        Privilege::UserNamespaces => Err(LabError::NeedsPrivilege {
            what,
            how: "enter a user namespace first (`bootcheck run` does so by itself when not root), or run as root"
                .into(),
        }),
        Privilege::None => Err(LabError::NeedsPrivilege {
            what,
            how: format!(
                "run as root, or allow unprivileged user namespaces: {}",
                userns_blocker().unwrap_or_else(|| "sysctl kernel.unprivileged_userns_clone=1".into())
            ),
        }),
    }
}

fn check_tools() -> Result<(), LabError> {
    cmd::require("ip", "iproute2", "create network namespaces and veth pairs")?;
    cmd::require("ethtool", "ethtool", "turn off veth TX checksum offload")?;
    cmd::require("sh", "dash", "set sysctls inside the lab namespaces")?;
    Ok(())
}

// ---------------------------------------------------------------------------------
// Names and safety checks

/// Whether `s` is a run id: 6 lowercase hex digits.
pub fn is_run_id(s: &str) -> bool {
    s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The run id of a bootcheck namespace name (`bc<id>-cli|srv|rly`).
pub fn ns_run_id(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("bc")?;
    let (id, role) = rest.split_once('-')?;
    (is_run_id(id) && matches!(role, "cli" | "srv" | "rly")).then_some(id)
}

/// The run id of a bootcheck interface name (`bc<id>-c0|s0|r0|r1`).
pub fn if_run_id(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("bc")?;
    let (id, port) = rest.split_once('-')?;
    (is_run_id(id) && matches!(port, "c0" | "s0" | "r0" | "r1")).then_some(id)
}

fn hex_bytes(id: &str) -> [u8; 3] {
    let mut b = [0u8; 3];
    for (i, o) in b.iter_mut().enumerate() {
        *o = id.get(2 * i..2 * i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).unwrap_or(0);
    }
    b
}

fn fresh_id() -> Result<String, LabError> {
    for _ in 0..64 {
        let mut b = [0u8; 3];
        File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut b))
            .map_err(|e| LabError::io("reading /dev/urandom", e))?;
        let id: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let taken = ["cli", "srv", "rly"].iter().any(|r| Path::new(NETNS_RUN).join(format!("bc{id}-{r}")).exists())
            || state_path(&id).exists();
        if !taken {
            return Ok(id);
        }
    }
    Err(LabError::Invalid("no free run id after 64 tries".into()))
}

fn ns_exists(ns: &str) -> bool {
    Path::new(NETNS_RUN).join(ns).exists()
}

/// A path bootcheck may delete at teardown: `/etc/netns/<bootcheck ns>[/<file>]`.
fn is_our_etc_path(p: &Path) -> bool {
    let Ok(rest) = p.strip_prefix(ETC_NETNS) else { return false };
    let mut comps = rest.components();
    let Some(std::path::Component::Normal(ns)) = comps.next() else { return false };
    if ns.to_str().and_then(ns_run_id).is_none() {
        return false;
    }
    matches!((comps.next(), comps.next()), (None, _) | (Some(std::path::Component::Normal(_)), None))
}

fn valid_etc_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

// ---------------------------------------------------------------------------------
// The global lock

thread_local! {
    static LOCK_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Exclusive `flock` on /run/bootcheck/lock, re-entrant within a thread (so a lab
/// dropped while its creator still holds the lock, e.g. during a panic, does not
/// deadlock).
struct Lock {
    _file: Option<Flock<File>>,
}

impl Lock {
    fn take() -> Result<Lock, LabError> {
        if LOCK_DEPTH.with(Cell::get) > 0 {
            LOCK_DEPTH.with(|d| d.set(d.get() + 1));
            return Ok(Lock { _file: None });
        }
        ensure_dir(Path::new(BASE_DIR))?;
        let mut file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(LOCK_FILE)
            .map_err(|e| LabError::io(format!("opening {LOCK_FILE}"), e))?;
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(l) => {
                    LOCK_DEPTH.with(|d| d.set(1));
                    return Ok(Lock { _file: Some(l) });
                }
                Err((f, nix::errno::Errno::EWOULDBLOCK | nix::errno::Errno::EINTR)) if Instant::now() < until => {
                    file = f;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err((_, e)) => return Err(LabError::sys(format!("locking {LOCK_FILE} (another bootcheck busy?)"), e)),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        LOCK_DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

fn ensure_dir(p: &Path) -> Result<(), LabError> {
    fs::create_dir_all(p).map_err(|e| LabError::io(format!("creating {}", p.display()), e))
}

// ---------------------------------------------------------------------------------
// State files

fn state_path(id: &str) -> PathBuf {
    Path::new(STATE_DIR).join(format!("{id}.json"))
}

fn write_state(st: &LabState) -> Result<(), LabError> {
    ensure_dir(Path::new(STATE_DIR))?;
    let path = state_path(&st.id);
    // The writer's PID in the temp name: a crash mid-write leaves a file `clean` can
    // attribute (and remove once that PID is gone).
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    let mut text = serde_json::to_string_pretty(st).map_err(|e| LabError::Invalid(format!("state: {e}")))?;
    text.push('\n');
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, &path)
    };
    write().map_err(|e| LabError::io(format!("writing {}", path.display()), e))
}

fn read_state(path: &Path) -> Result<LabState, LabError> {
    let text = fs::read_to_string(path).map_err(|e| LabError::io(format!("reading {}", path.display()), e))?;
    serde_json::from_str(&text).map_err(|e| LabError::Invalid(format!("{}: not a lab state file: {e}", path.display())))
}

/// Every state file: (run id from the file name, parsed state or the parse error).
fn all_states() -> Vec<(String, Result<LabState, LabError>)> {
    let Ok(rd) = fs::read_dir(STATE_DIR) else { return Vec::new() };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(id) = name.strip_suffix(".json").filter(|i| is_run_id(i)) {
            out.push((id.to_string(), read_state(&e.path())));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Every lab with a state file (for `lab list`).
pub fn list() -> Vec<Result<LabState, LabError>> {
    all_states().into_iter().map(|(_, s)| s).collect()
}

// ---------------------------------------------------------------------------------
// /etc paths bootcheck created

fn registry() -> Vec<PathBuf> {
    fs::read_to_string(ETC_REGISTRY)
        .map(|s| s.lines().filter(|l| !l.trim().is_empty()).map(PathBuf::from).collect())
        .unwrap_or_default()
}

fn registry_add(p: &Path) -> Result<(), LabError> {
    let mut r = registry();
    if !r.iter().any(|x| x == p) {
        r.push(p.to_path_buf());
    }
    registry_write(&r)
}

fn registry_write(r: &[PathBuf]) -> Result<(), LabError> {
    let text: String = r.iter().map(|p| format!("{}\n", p.display())).collect();
    fs::write(ETC_REGISTRY, text).map_err(|e| LabError::io(format!("writing {ETC_REGISTRY}"), e))
}

/// Remove `/etc` paths bootcheck created that no lab with a state file still needs,
/// if they are still empty. Caller holds the lock.
fn registry_gc() -> Vec<String> {
    let mut problems = Vec::new();
    let used: BTreeSet<PathBuf> =
        all_states().into_iter().filter_map(|(_, s)| s.ok()).flat_map(|s| s.etc_targets).collect();
    let mut keep = Vec::new();
    for p in registry() {
        if used.contains(&p) {
            keep.push(p);
            continue;
        }
        match fs::symlink_metadata(&p) {
            Err(_) => {} // gone already
            Ok(m) if m.is_file() && m.len() == 0 => {
                if let Err(e) = fs::remove_file(&p) {
                    problems.push(format!("removing {}: {e}", p.display()));
                    keep.push(p);
                }
            }
            Ok(m) if m.is_dir() => match fs::remove_dir(&p) {
                Ok(()) => {}
                // Not empty: someone else uses it now; it is theirs.
                Err(e) if e.raw_os_error() == Some(nix::libc::ENOTEMPTY) => {}
                Err(e) => {
                    problems.push(format!("removing {}: {e}", p.display()));
                    keep.push(p);
                }
            },
            Ok(_) => {} // written to since: no longer ours to remove
        }
    }
    if let Err(e) = registry_write(&keep) {
        problems.push(e.to_string());
    }
    problems
}

// ---------------------------------------------------------------------------------
// Teardown of a recorded lab

fn ns_pids(ns: &str) -> Result<Vec<ProcId>, LabError> {
    let out = run(&["ip", "netns", "pids", ns])?;
    Ok(out.split_whitespace().filter_map(|t| t.parse::<i32>().ok()).filter_map(ProcId::of).collect())
}

/// Kill every process in `ns` (SIGTERM, grace, SIGKILL).
fn empty_ns(ns: &str, problems: &mut Vec<String>) {
    match ns_pids(ns) {
        Ok(p) if p.is_empty() => {}
        Ok(p) => {
            for left in proc::stop(&p, Signal::SIGTERM, STOP_GRACE) {
                problems.push(format!("PID {} in {ns} survived SIGKILL", left.pid));
            }
        }
        Err(e) => problems.push(e.to_string()),
    }
}

fn delete_ns(ns: &str, problems: &mut Vec<String>) {
    if ns_run_id(ns).is_none() {
        problems.push(format!("refused to delete namespace `{ns}`: not a bootcheck name"));
        return;
    }
    if !ns_exists(ns) {
        return;
    }
    empty_ns(ns, problems);
    if let Err(e) = run(&["ip", "netns", "del", ns]) {
        problems.push(e.to_string());
    }
}

/// Stop, delete and remove everything `st` records. Returns what could not be done.
fn teardown_state(st: &LabState) -> Vec<String> {
    let mut problems = Vec::new();
    let recorded: Vec<ProcId> = st.pids.iter().map(ProcRecord::id).collect();
    for left in proc::stop(&recorded, Signal::SIGTERM, STOP_GRACE) {
        problems.push(format!("PID {} survived SIGKILL", left.pid));
    }
    for ns in &st.namespaces {
        delete_ns(ns, &mut problems);
    }
    for f in &st.files {
        if !is_our_etc_path(f) {
            problems.push(format!("refused to remove {}: not under /etc/netns/<bootcheck ns>", f.display()));
            continue;
        }
        match fs::remove_file(f) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => problems.push(format!("removing {}: {e}", f.display())),
        }
    }
    for d in &st.dirs {
        if !is_our_etc_path(d) {
            problems.push(format!("refused to remove {}: not /etc/netns/<bootcheck ns>", d.display()));
            continue;
        }
        match fs::remove_dir_all(d) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => problems.push(format!("removing {}: {e}", d.display())),
        }
    }
    problems
}

/// Tear down `st` and drop its state file (kept when something is left, so the next
/// reap retries). Caller holds the lock.
fn teardown_recorded(st: &LabState) -> Vec<String> {
    let problems = teardown_state(st);
    if problems.is_empty() {
        let _ = fs::remove_file(state_path(&st.id));
    }
    problems
}

/// Everything bootcheck-named that exists now, by run id: namespaces, /etc/netns
/// dirs, and (should never happen) interfaces in the root namespace.
#[derive(Debug, Default)]
struct Found {
    namespaces: BTreeMap<String, Vec<String>>,
    etc_dirs: BTreeMap<String, Vec<PathBuf>>,
    root_links: BTreeMap<String, Vec<String>>,
}

fn find_named() -> Found {
    let mut f = Found::default();
    if let Ok(rd) = fs::read_dir(NETNS_RUN) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if let Some(id) = ns_run_id(&n) {
                f.namespaces.entry(id.to_string()).or_default().push(n.clone());
            }
        }
    }
    if let Ok(rd) = fs::read_dir(ETC_NETNS) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if let Some(id) = ns_run_id(&n) {
                f.etc_dirs.entry(id.to_string()).or_default().push(e.path());
            }
        }
    }
    for name in root_links() {
        if let Some(id) = if_run_id(&name) {
            f.root_links.entry(id.to_string()).or_default().push(name.clone());
        }
    }
    f
}

/// Interface names in the root namespace (`ip -o link show`).
pub(crate) fn root_links() -> Vec<String> {
    let Ok(out) = run(&["ip", "-o", "link", "show"]) else { return Vec::new() };
    out.lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).trim().to_string())
        .collect()
}

/// What [`clean`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CleanReport {
    /// Run ids whose labs were removed.
    pub removed: Vec<String>,
    /// Run ids left alone because their owner still runs (or they are detached).
    pub kept: Vec<String>,
}

/// Remove every bootcheck lab whose owner is gone (and, with `force`, every
/// bootcheck-named lab, running or detached): recorded processes and everything
/// running in its namespaces by PID, namespaces, `/etc/netns` dirs, state files, and
/// `/etc` files bootcheck created that no lab needs any more. Also removes orphans with
/// no state file (bootcheck-named namespaces and /etc/netns dirs). Never touches a lab
/// owned by this process unless `force`.
pub fn clean(force: bool) -> Result<CleanReport, LabError> {
    check_privilege()?;
    let _lock = Lock::take()?;
    clean_locked(force)
}

/// Remove temp files of interrupted state writes whose writer is gone.
fn remove_dead_temp_files() {
    let Ok(rd) = fs::read_dir(STATE_DIR) else { return };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let writer = name.strip_suffix(".tmp").and_then(|n| n.rsplit('.').next()).and_then(|p| p.parse::<i32>().ok());
        if let Some(pid) = writer {
            if ProcId::of(pid).is_none() {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

fn clean_locked(force: bool) -> Result<CleanReport, LabError> {
    remove_dead_temp_files();
    let mut report = CleanReport::default();
    let mut problems = Vec::new();
    let mut keep_ids = BTreeSet::new();
    for (id, st) in all_states() {
        match st {
            Ok(st) if !force && (st.detached || st.owner_alive()) => {
                keep_ids.insert(id.clone());
                report.kept.push(id);
            }
            Ok(st) => {
                let p = teardown_recorded(&st);
                if p.is_empty() {
                    report.removed.push(id);
                } else {
                    keep_ids.insert(id);
                    problems.extend(p);
                }
            }
            // Unreadable state (should not happen: writes are atomic): remove what
            // its name says, below, like an orphan.
            Err(_) => {
                let _ = fs::remove_file(state_path(&id));
            }
        }
    }
    let found = find_named();
    let mut orphan_ids = BTreeSet::new();
    for (id, nss) in &found.namespaces {
        if keep_ids.contains(id) {
            continue;
        }
        for ns in nss {
            delete_ns(ns, &mut problems);
        }
        orphan_ids.insert(id.clone());
    }
    for (id, dirs) in &found.etc_dirs {
        if keep_ids.contains(id) {
            continue;
        }
        for d in dirs {
            if is_our_etc_path(d) {
                if let Err(e) = fs::remove_dir_all(d) {
                    problems.push(format!("removing {}: {e}", d.display()));
                }
            }
        }
        orphan_ids.insert(id.clone());
    }
    for (id, links) in &found.root_links {
        if keep_ids.contains(id) {
            problems.push(format!("lab {id} has interfaces in the root namespace: {}", links.join(", ")));
            continue;
        }
        for l in links {
            if let Err(e) = run(&["ip", "link", "del", l]) {
                problems.push(e.to_string());
            }
        }
        orphan_ids.insert(id.clone());
    }
    for id in orphan_ids {
        if !report.removed.contains(&id) {
            report.removed.push(id);
        }
    }
    problems.extend(registry_gc());
    if problems.is_empty() {
        Ok(report)
    } else {
        Err(LabError::Teardown(problems))
    }
}

/// Tear down the lab `id` (e.g. one made by [`Lab::up_detached`]). Refused while its
/// owner process still runs.
pub fn down(id: &str) -> Result<(), LabError> {
    if !is_run_id(id) {
        return Err(LabError::Invalid(format!("`{id}` is not a lab id (6 hex digits, as in bc<id>-srv)")));
    }
    check_privilege()?;
    let _lock = Lock::take()?;
    let path = state_path(id);
    let mut problems = Vec::new();
    if path.exists() {
        let st = read_state(&path)?;
        if let Some(owner) = st.owner.as_ref().filter(|o| o.alive()) {
            return Err(LabError::InUse { id: id.into(), pid: owner.pid });
        }
        problems.extend(teardown_recorded(&st));
    } else {
        let found = find_named();
        let nss = found.namespaces.get(id).cloned().unwrap_or_default();
        let dirs = found.etc_dirs.get(id).cloned().unwrap_or_default();
        if nss.is_empty() && dirs.is_empty() {
            return Err(LabError::Invalid(format!("no lab {id} (no {} and no bc{id}-* namespace)", path.display())));
        }
        for ns in &nss {
            delete_ns(ns, &mut problems);
        }
        for d in dirs.iter().filter(|d| is_our_etc_path(d)) {
            if let Err(e) = fs::remove_dir_all(d) {
                problems.push(format!("removing {}: {e}", d.display()));
            }
        }
    }
    problems.extend(registry_gc());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(LabError::Teardown(problems))
    }
}

// ---------------------------------------------------------------------------------
// Running code inside a namespace

/// Run `f` on a short-lived thread that has joined the network namespace `ns` (a
/// bootcheck namespace only). Sockets created by `f` stay in that namespace for their
/// whole life. The thread checks that it really left this process's own namespace
/// before calling `f`.
pub fn in_namespace<T: Send>(ns: &str, f: impl FnOnce() -> Result<T, LabError> + Send) -> Result<T, LabError> {
    if ns_run_id(ns).is_none() {
        return Err(LabError::Unsafe(format!("`{ns}` is not a bootcheck lab namespace")));
    }
    let path = Path::new(NETNS_RUN).join(ns);
    let file = File::open(&path).map_err(|e| LabError::io(format!("opening {}", path.display()), e))?;
    let target = file.metadata().map_err(|e| LabError::io(format!("stat {}", path.display()), e))?;
    let own = fs::metadata("/proc/self/ns/net").map_err(|e| LabError::io("stat /proc/self/ns/net", e))?;
    if (target.dev(), target.ino()) == (own.dev(), own.ino()) {
        return Err(LabError::Unsafe(format!("namespace {ns} is this process's own namespace")));
    }
    std::thread::scope(|s| {
        let h = std::thread::Builder::new()
            .name(format!("setns-{ns}"))
            .spawn_scoped(s, move || {
                nix::sched::setns(&file, CloneFlags::CLONE_NEWNET)
                    .map_err(|e| LabError::sys(format!("setns into {}", path.display()), e))?;
                let now = fs::metadata("/proc/thread-self/ns/net")
                    .map_err(|e| LabError::io("stat /proc/thread-self/ns/net", e))?;
                if (now.dev(), now.ino()) != (target.dev(), target.ino()) {
                    return Err(LabError::Unsafe(format!("setns into {ns} did not take effect")));
                }
                f()
            })
            .map_err(|e| LabError::io("spawning a namespace thread", e))?;
        match h.join() {
            Ok(r) => r,
            Err(p) => std::panic::resume_unwind(p),
        }
    })
}

// ---------------------------------------------------------------------------------
// The lab

/// How to start a process in a lab namespace.
#[derive(Debug, Clone, Default)]
pub struct SpawnOptions {
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Start from an empty environment (plus a standard PATH) before adding `env`.
    pub clear_env: bool,
    pub cwd: Option<PathBuf>,
    /// Append stdout and stderr to this file (created if missing); inherit otherwise.
    pub log: Option<PathBuf>,
}

/// One run's lab. Built by [`Lab::up`], torn down by `Drop` (or [`Lab::down`], which
/// reports errors instead of printing them).
#[derive(Debug)]
pub struct Lab {
    names: LabNames,
    site: Site,
    state: Mutex<LabState>,
    /// Torn down already, or detached: `Drop` does nothing.
    done: bool,
}

impl Lab {
    /// Build a lab. Removes stale labs first (see [`Lab::reap_stale`]). On error
    /// everything created so far is removed again.
    pub fn up(spec: &LabSpec) -> Result<Lab, LabError> {
        check_privilege()?;
        check_tools()?;
        validate_spec(spec)?;
        let lock = Lock::take()?;
        if let Err(e) = clean_locked(false) {
            eprintln!("warning: removing stale bootcheck labs: {e}");
        }
        let id = fresh_id()?;
        let names = LabNames::new(&id, spec.topology, &spec.site, spec.client_mac);
        let state = LabState {
            version: STATE_VERSION,
            id: id.clone(),
            owner: ProcId::me(),
            detached: false,
            created_unix: SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
            names: names.clone(),
            namespaces: names.namespaces(),
            files: Vec::new(),
            dirs: Vec::new(),
            etc_targets: Vec::new(),
            pids: Vec::new(),
        };
        write_state(&state)?;
        let lab = Lab { names, site: spec.site.clone(), state: Mutex::new(state), done: false };
        // The lock is re-entrant on this thread, so a failed build tears down here.
        let built = lab.build(spec);
        drop(lock);
        match built {
            Ok(()) => Ok(lab),
            Err(e) => {
                if let Err(t) = lab.down() {
                    eprintln!("warning: cleaning up after a failed lab build: {t}");
                }
                Err(e)
            }
        }
    }

    /// [`Lab::up`], then hand the lab over to nobody: it stays until [`down`] (or
    /// `clean --force`). Returns its names for the CLI to print.
    pub fn up_detached(spec: &LabSpec) -> Result<LabNames, LabError> {
        let mut lab = Lab::up(spec)?;
        {
            let _lock = Lock::take()?;
            let mut st = lab.lock_state();
            st.owner = None;
            st.detached = true;
            write_state(&st)?;
        }
        lab.done = true;
        Ok(lab.names.clone())
    }

    /// Remove labs left by runs that died (owner PID gone): run before every lab.
    pub fn reap_stale() -> Result<CleanReport, LabError> {
        clean(false)
    }

    pub fn id(&self) -> &str {
        &self.names.id
    }
    pub fn names(&self) -> &LabNames {
        &self.names
    }
    pub fn site(&self) -> &Site {
        &self.site
    }
    pub fn topology(&self) -> Topology {
        self.names.topology
    }
    /// A copy of the current state file content.
    pub fn state(&self) -> LabState {
        self.lock_state().clone()
    }

    /// The namespace of `role`.
    pub fn ns(&self, role: Role) -> Result<&str, LabError> {
        self.names
            .ns(role)
            .ok_or_else(|| LabError::Invalid(format!("a {} lab has no {role} namespace", self.names.topology)))
    }

    fn lock_state(&self) -> MutexGuard<'_, LabState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn update(&self, f: impl FnOnce(&mut LabState)) -> Result<(), LabError> {
        let mut st = self.lock_state();
        f(&mut st);
        write_state(&st)
    }

    fn build(&self, spec: &LabSpec) -> Result<(), LabError> {
        let n = &self.names;
        let site = &spec.site;
        for ns in n.namespaces() {
            run(&["ip", "netns", "add", &ns])?;
            // Written through /proc/sys by a shell inside the namespace (no dependency on
            // procps' sysctl); a kernel without IPv6 has no such keys, which is fine.
            let mut keys =
                vec!["/proc/sys/net/ipv6/conf/all/disable_ipv6", "/proc/sys/net/ipv6/conf/default/disable_ipv6"];
            if Some(&ns) == n.relay_ns.as_ref() {
                keys.push("/proc/sys/net/ipv4/ip_forward");
            }
            let mut argv = vec![
                "ip",
                "netns",
                "exec",
                &ns,
                "sh",
                "-c",
                "set -e; for f; do if [ -e \"$f\" ]; then echo 1 > \"$f\"; fi; done",
                "sh",
            ];
            argv.extend(keys);
            run(&argv)?;
            run(&["ip", "-n", &ns, "link", "set", "lo", "up"])?;
        }
        let mut ends: Vec<(&str, &str)> = Vec::new();
        match (&n.relay_ns, &n.relay_client_if, &n.relay_server_if, &n.relay_client_mac, &n.relay_server_mac) {
            (Some(rns), Some(rc), Some(rs), Some(rcm), Some(rsm)) => {
                self.veth((&n.client_ns, &n.client_if, n.client_mac), (rns, rc, *rcm))?;
                self.veth((rns, rs, *rsm), (&n.server_ns, &n.server_if, n.server_mac))?;
                ends.extend([(n.client_ns.as_str(), n.client_if.as_str()), (rns, rc), (rns, rs)]);
            }
            _ => {
                self.veth((&n.client_ns, &n.client_if, n.client_mac), (&n.server_ns, &n.server_if, n.server_mac))?;
                ends.push((&n.client_ns, &n.client_if));
            }
        }
        ends.push((&n.server_ns, &n.server_if));
        // Defence in depth: no lab interface may exist in the root namespace.
        let leaked: Vec<String> = root_links().into_iter().filter(|l| if_run_id(l) == Some(n.id.as_str())).collect();
        if !leaked.is_empty() {
            return Err(LabError::Unsafe(format!(
                "lab interfaces appeared in the root namespace: {}",
                leaked.join(", ")
            )));
        }
        for (ns, ifname) in &ends {
            run(&["ip", "netns", "exec", ns, "ethtool", "-K", ifname, "tx", "off"])?;
        }
        let site_len = site.subnet.prefix_len();
        let addr = |ip: std::net::Ipv4Addr, len: u8| format!("{ip}/{len}");
        run(&[
            "ip",
            "-n",
            &n.server_ns,
            "addr",
            "add",
            &addr(site.server.ip, site_len),
            "brd",
            "+",
            "dev",
            &n.server_if,
        ])?;
        match (&n.relay_ns, &n.relay_client_if, &n.relay_server_if) {
            (Some(rns), Some(rc), Some(rs)) => {
                let rl = site.relay.subnet.prefix_len();
                run(&["ip", "-n", rns, "addr", "add", &addr(site.relay.ip, rl), "brd", "+", "dev", rc])?;
                run(&["ip", "-n", rns, "addr", "add", &addr(site.relay.uplink, site_len), "brd", "+", "dev", rs])?;
            }
            _ => {
                run(&[
                    "ip",
                    "-n",
                    &n.client_ns,
                    "addr",
                    "add",
                    &addr(site.relay.uplink, site_len),
                    "brd",
                    "+",
                    "dev",
                    &n.client_if,
                ])?;
                run(&["ip", "-n", &n.client_ns, "addr", "add", &addr(site.relay.ip, 32), "dev", "lo"])?;
            }
        }
        for (ns, ifname) in &ends {
            run(&["ip", "-n", ns, "link", "set", "dev", ifname, "up"])?;
        }
        let relay_net = site.relay.subnet.trunc().to_string();
        run(&[
            "ip",
            "-n",
            &n.server_ns,
            "route",
            "add",
            &relay_net,
            "via",
            &site.relay.uplink.to_string(),
            "dev",
            &n.server_if,
        ])?;
        for (ns, ifname) in &ends {
            wait_carrier(ns, ifname)?;
        }
        let hostname = fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default().trim().to_string();
        for role in [Role::Client, Role::Relay, Role::Server] {
            if self.names.ns(role).is_none() || spec.etc_files.iter().any(|e| e.role == role && e.name == "hosts") {
                continue;
            }
            if crate::userns::active() && !crate::userns::etc_writable() {
                // Only name resolution of the lab's own names is lost; the reference
                // target does not need it. Profile files below still fail clearly.
                continue;
            }
            self.add_etc_file(role, "hosts", &hosts_file(site, role, &hostname))?;
        }
        for e in &spec.etc_files {
            self.add_etc_file(e.role, &e.name, &e.content)?;
        }
        Ok(())
    }

    fn veth(&self, a: (&str, &str, Mac), b: (&str, &str, Mac)) -> Result<(), LabError> {
        let (am, bm) = (a.2.to_string(), b.2.to_string());
        run(&[
            "ip", "-n", a.0, "link", "add", a.1, "address", &am, "type", "veth", "peer", "name", b.1, "address", &bm,
            "netns", b.0,
        ])
        .map(|_| ())
    }

    /// Write `/etc/netns/<ns>/NAME` (bind-mounted over `/etc/NAME` for processes
    /// started with [`Lab::exec`]). Creates an empty `/etc/NAME` if there is none (the
    /// bind mount needs a target) and records it so it is removed when no lab needs it.
    pub fn add_etc_file(&self, role: Role, name: &str, content: &str) -> Result<PathBuf, LabError> {
        if !valid_etc_name(name) {
            return Err(LabError::Invalid(format!("`{name}` is not a plain /etc file name")));
        }
        let ns = self.ns(role)?.to_string();
        if crate::userns::active() && !crate::userns::etc_writable() {
            return Err(LabError::NeedsPrivilege {
                what: format!("writing /etc/netns/{ns}/{name}"),
                how: "this kernel refused an overlay on /etc inside the user namespace; run as root".into(),
            });
        }
        let _lock = Lock::take()?;
        let etc_netns = Path::new(ETC_NETNS);
        if !etc_netns.exists() {
            ensure_dir(etc_netns)?;
            registry_add(etc_netns)?;
        }
        let dir = etc_netns.join(&ns);
        if !dir.exists() {
            ensure_dir(&dir)?;
        }
        let target = Path::new("/etc").join(name);
        if !target.exists() {
            File::create(&target).map_err(|e| LabError::io(format!("creating an empty {}", target.display()), e))?;
            let _ = fs::set_permissions(&target, fs::Permissions::from_mode(0o644));
            registry_add(&target)?;
        }
        let file = dir.join(name);
        self.update(|st| {
            for (list, p) in [(&mut st.dirs, &dir), (&mut st.files, &file)] {
                if !list.contains(p) {
                    list.push(p.clone());
                }
            }
            for p in [etc_netns, &target] {
                if !st.etc_targets.iter().any(|x| x == p) {
                    st.etc_targets.push(p.to_path_buf());
                }
            }
        })?;
        fs::write(&file, content).map_err(|e| LabError::io(format!("writing {}", file.display()), e))?;
        let _ = fs::set_permissions(&file, fs::Permissions::from_mode(0o644));
        Ok(file)
    }

    /// Start `argv` inside the namespace of `role` (`ip netns exec NS argv…`, which
    /// execs in place, so the child's PID is the program's), with extra environment
    /// variables and inherited stdout/stderr. The PID is recorded; stop it with
    /// [`Lab::stop_process`] (teardown stops it anyway).
    pub fn exec<S: AsRef<OsStr>>(&self, role: Role, argv: &[S], env: &[(&str, &str)]) -> Result<Child, LabError> {
        let opts = SpawnOptions {
            env: env.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect(),
            ..SpawnOptions::default()
        };
        self.exec_with(role, argv, &opts)
    }

    /// [`Lab::exec`] with full options (log file, cwd, clean environment).
    pub fn exec_with<S: AsRef<OsStr>>(&self, role: Role, argv: &[S], opts: &SpawnOptions) -> Result<Child, LabError> {
        let ns = self.ns(role)?.to_string();
        if argv.is_empty() {
            return Err(LabError::Invalid("exec: empty command".into()));
        }
        let shown: Vec<String> = argv.iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect();
        let mut c = if crate::userns::active() {
            // In a user namespace nothing reaps a killed run's processes, so they die
            // with bootcheck (setpriv execs in place: the PID stays the program's).
            let mut c = Command::new(cmd::which("setpriv"));
            c.args(["--pdeathsig", "KILL"]).arg(cmd::which("ip"));
            c
        } else {
            Command::new(cmd::which("ip"))
        };
        c.args(["netns", "exec", &ns]).args(argv).stdin(Stdio::null());
        if opts.clear_env {
            c.env_clear().env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        }
        c.envs(opts.env.iter().map(|(k, v)| (k, v)));
        if let Some(d) = &opts.cwd {
            c.current_dir(d);
        }
        if let Some(log) = &opts.log {
            let f = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .map_err(|e| LabError::io(format!("opening log {}", log.display()), e))?;
            let g = f.try_clone().map_err(|e| LabError::io(format!("opening log {}", log.display()), e))?;
            c.stdout(f).stderr(g);
        }
        // Own process group: a terminal's Ctrl-C reaches only bootcheck, which then stops
        // the lab's processes in order.
        c.process_group(0);
        let shown_cmd =
            format!("ip netns exec {ns} {}", cmd::display(&shown.iter().map(String::as_str).collect::<Vec<_>>()));
        let child = c.spawn().map_err(|e| LabError::Command {
            command: shown_cmd,
            status: format!("could not be started ({e})"),
            stderr: String::new(),
        })?;
        let pid = i32::try_from(child.id()).unwrap_or(i32::MAX);
        let start_time = ProcId::of(pid).map_or(0, |p| p.start_time);
        self.update(|st| st.pids.push(ProcRecord { pid, start_time, ns: ns.clone(), argv: shown }))?;
        Ok(child)
    }

    /// Record a process found in a lab namespace (a daemon that forked), so teardown
    /// stops it.
    pub fn record_pid(&self, role: Role, pid: i32, argv: &[String]) -> Result<(), LabError> {
        let ns = self.ns(role)?.to_string();
        let Some(id) = ProcId::of(pid) else { return Ok(()) };
        self.update(|st| {
            if !st.pids.iter().any(|p| p.pid == pid && p.start_time == id.start_time) {
                st.pids.push(ProcRecord { pid, start_time: id.start_time, ns, argv: argv.to_vec() });
            }
        })
    }

    /// Drop a process from the record without signalling it (it exited already).
    pub(crate) fn forget_pid(&self, pid: i32) -> Result<(), LabError> {
        self.update(|st| st.pids.retain(|p| p.pid != pid))
    }

    /// PIDs of every process in the namespace of `role` (`ip netns pids`).
    pub fn ns_pids(&self, role: Role) -> Result<Vec<i32>, LabError> {
        Ok(ns_pids(self.ns(role)?)?.into_iter().map(|p| p.pid).collect())
    }

    /// Stop a process this lab started: `signal`, up to `grace`, then SIGKILL. Refuses
    /// PIDs the lab did not record. The caller still reaps its `Child`.
    pub fn stop_process(&self, pid: i32, signal: Signal, grace: Duration) -> Result<(), LabError> {
        let rec = self
            .lock_state()
            .pids
            .iter()
            .find(|p| p.pid == pid)
            .cloned()
            .ok_or_else(|| LabError::Invalid(format!("PID {pid} was not started by lab {}", self.names.id)))?;
        let left = proc::stop(&[rec.id()], signal, grace);
        if !left.is_empty() {
            return Err(LabError::Teardown(vec![format!("PID {pid} survived SIGKILL")]));
        }
        self.update(|st| st.pids.retain(|p| p.pid != pid))
    }

    /// Whether a process this lab recorded still runs (same PID and start time).
    pub fn is_running(&self, pid: i32) -> bool {
        self.lock_state().pids.iter().any(|p| p.pid == pid && p.id().alive())
    }

    /// Run `f` on a thread inside the namespace of `role` (see [`in_namespace`]).
    pub fn in_ns<T: Send>(&self, role: Role, f: impl FnOnce() -> Result<T, LabError> + Send) -> Result<T, LabError> {
        in_namespace(self.ns(role)?, f)
    }

    /// A UDP socket bound to `addr` inside the namespace of `role`.
    pub fn udp_bind(&self, role: Role, addr: SocketAddr) -> Result<UdpSocket, LabError> {
        self.in_ns(role, || UdpSocket::bind(addr).map_err(|e| LabError::io(format!("binding UDP {addr}"), e)))
    }

    /// Forget every neighbour (ARP) entry in every namespace of the lab: what a daemon
    /// wrote into its kernel's ARP table (bootpgw and bootpd set an entry for each client
    /// they answer) outlives the daemon, and a fresh start must not inherit it.
    pub fn flush_neighbours(&self) -> Result<(), LabError> {
        for ns in self.names.namespaces() {
            run(&["ip", "-n", &ns, "neigh", "flush", "all"])?;
        }
        Ok(())
    }

    /// Tear down now and report problems (instead of printing them from `Drop`).
    pub fn down(mut self) -> Result<(), LabError> {
        self.teardown()
    }

    fn teardown(&mut self) -> Result<(), LabError> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        let lock = Lock::take();
        let st = self.lock_state().clone();
        let mut problems = teardown_recorded(&st);
        if !problems.is_empty() {
            problems.push(format!("{} kept for the next `bootcheck lab clean`", state_path(&st.id).display()));
        }
        if lock.is_ok() {
            problems.extend(registry_gc());
        }
        match (lock, problems.is_empty()) {
            (Ok(_), true) => Ok(()),
            (Err(e), _) => {
                problems.push(e.to_string());
                Err(LabError::Teardown(problems))
            }
            (Ok(_), false) => Err(LabError::Teardown(problems)),
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Err(e) = self.teardown() {
            eprintln!("warning: lab {}: {e}", self.names.id);
        }
    }
}

fn wait_carrier(ns: &str, ifname: &str) -> Result<(), LabError> {
    let until = Instant::now() + Duration::from_secs(3);
    loop {
        let out = run(&["ip", "-n", ns, "-o", "link", "show", "dev", ifname])?;
        if out.contains("LOWER_UP") {
            return Ok(());
        }
        if Instant::now() >= until {
            return Err(LabError::Invalid(format!("{ifname} in {ns} has no carrier after 3 s: {}", out.trim())));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn validate_spec(spec: &LabSpec) -> Result<(), LabError> {
    let problems = spec.site.validate();
    if !problems.is_empty() {
        let msg: Vec<String> = problems.into_iter().map(|(p, m)| format!("{p}: {m}")).collect();
        return Err(LabError::Unsafe(format!("site is not usable for a lab: {}", msg.join("; "))));
    }
    if let Some(m) = spec.client_mac {
        if !m.is_local_unicast() {
            return Err(LabError::Invalid(format!("client MAC {m} must be locally administered unicast")));
        }
        if m == spec.site.server.mac {
            return Err(LabError::Invalid(format!("client MAC {m} is the server's")));
        }
    }
    for e in &spec.etc_files {
        if !valid_etc_name(&e.name) {
            return Err(LabError::Invalid(format!("`{}` is not a plain /etc file name", e.name)));
        }
        if spec.topology == Topology::Direct && e.role == Role::Relay {
            return Err(LabError::Invalid(format!("etc file `{}` is for the relay, but the lab is direct", e.name)));
        }
    }
    Ok(())
}

/// `/etc/hosts` for one namespace: the site's names, plus the machine's host name
/// (what `gethostname()` returns inside the namespace, as `ip netns exec` keeps the UTS
/// namespace) → the server address in the server namespace (bootpd's own address,
/// option 54) and → giaddr in the relay namespace (bootpgw's giaddr).
fn hosts_file(site: &Site, role: Role, hostname: &str) -> String {
    let mut out = String::from("# written by bootcheck for this lab namespace\n127.0.0.1\tlocalhost\n");
    let mut seen = BTreeSet::from(["localhost".to_string()]);
    let usable_host = !hostname.is_empty() && hostname != "localhost";
    let mut line = |ip: std::net::Ipv4Addr, names: &[&str], seen: &mut BTreeSet<String>| {
        let fresh: Vec<&str> =
            names.iter().copied().filter(|n| !n.is_empty() && seen.insert((*n).to_string())).collect();
        if !fresh.is_empty() {
            out.push_str(&format!("{ip}\t{}\n", fresh.join(" ")));
        }
    };
    match role {
        Role::Server if usable_host => line(site.server.ip, &[&site.server.name, hostname], &mut seen),
        Role::Relay if usable_host => {
            line(site.relay.ip, &[hostname], &mut seen);
            line(site.server.ip, &[&site.server.name], &mut seen);
        }
        _ => line(site.server.ip, &[&site.server.name], &mut seen),
    }
    for c in site.clients.values() {
        line(c.ip, &[&c.hostname], &mut seen);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_and_parse_back() {
        assert!(is_run_id("0a1b2c"));
        assert!(!is_run_id("0A1B2C"));
        assert_eq!(ns_run_id("bc0a1b2c-srv"), Some("0a1b2c"));
        assert_eq!(ns_run_id("bc0a1b2c-foo"), None);
        assert_eq!(ns_run_id("bt-srv"), None);
        assert_eq!(if_run_id("bc0a1b2c-r1"), Some("0a1b2c"));
        assert!("bc0a1b2c-r1".len() <= 15);
    }

    #[test]
    fn only_bootcheck_etc_paths_are_removable() {
        assert!(is_our_etc_path(Path::new("/etc/netns/bc0a1b2c-srv")));
        assert!(is_our_etc_path(Path::new("/etc/netns/bc0a1b2c-srv/hosts")));
        assert!(!is_our_etc_path(Path::new("/etc/netns/other/hosts")));
        assert!(!is_our_etc_path(Path::new("/etc/hosts")));
        assert!(!is_our_etc_path(Path::new("/etc/netns/bc0a1b2c-srv/../../passwd")));
        assert!(!is_our_etc_path(Path::new("/etc/netns")));
    }
}
