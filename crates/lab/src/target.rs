//! Target server profiles (`targets/NAME.yaml`) and running them inside a lab.
//!
//! A profile says how to run one server: which binary (and which Debian package has
//! it), the command line, config files rendered from the site with minijinja, where
//! it runs (server or relay namespace), how to tell it is ready, and which scenario
//! results are known, accepted deviations. See `targets/reference.yaml`.
//!
//! Rendering context (every template: command, env, binary, config files, netns-etc):
//!
//! * `site` — the site as a nested map (`site.server.ip`, `site.server.mac`,
//!   `site.clients.ws1.ip`, `site.files["boot/kernel.img"].size`, …) plus derived
//!   values: `site.netmask`, `site.broadcast`, `site.prefix`, `site.network`, the same
//!   four under `site.relay`, `clients.X.name`, `clients.X.bootfile_path` (full path
//!   under `boot.home`), `clients.X.relayed` (its address is on the relay subnet),
//!   `files.X.path`, `files.X.blocks512`.
//! * `lab` — `id`, `topology`, `ns` / `iface` (the target's own namespace and veth),
//!   `client_ns`, `server_ns`, `relay_ns`, `client_if`, `server_if`,
//!   `relay_client_if`, `relay_server_if`, `client_mac`, `server_mac`, `run_dir`,
//!   `tftp_root`.
//! * `target` — `name`; `bootcheck_exe`, `site_file`, `run_dir`, `tftp_root` (also at
//!   top level), and any [`StartOptions::vars`].
//! * filters: `mac_hex` (`02:00:00:00:be:01` → `02000000be01`), `ip_hex`
//!   (`192.0.2.1` → `c0000201`), `blocks512` (bytes → 512-byte blocks, rounded up).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use bootcheck_scenario::load::{from_yaml, LoadError};
use bootcheck_scenario::site::generate_content;
use bootcheck_scenario::Site;
use nix::sys::signal::Signal;
use regex::Regex;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value as Json};

use crate::netns::{Lab, LabNames, Role, SpawnOptions, STOP_GRACE};
use crate::proc::parse_signal;
use crate::LabError;

/// Default time a target gets to become ready.
pub const DEFAULT_READINESS_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a target runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    #[default]
    Server,
    Relay,
}

impl Placement {
    pub fn role(self) -> Role {
        match self {
            Placement::Server => Role::Server,
            Placement::Relay => Role::Relay,
        }
    }
}

/// How to tell a started target is ready. Written as a one-key map:
/// `{ udp-port: 67 }`, `{ log-line: REGEX }` or `{ delay: 500ms }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "ReadinessRepr")]
pub enum Readiness {
    /// A UDP socket bound to this local port exists in the target's namespace
    /// (`/proc/net/udp` and `udp6` as seen from inside it).
    UdpPort(u16),
    /// A line of its log matches this regular expression.
    LogLine(LineRegex),
    /// Just wait (`500ms`, `2s`).
    Delay(DurationText),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ReadinessRepr {
    #[serde(default)]
    udp_port: Option<u16>,
    #[serde(default)]
    log_line: Option<LineRegex>,
    #[serde(default)]
    delay: Option<DurationText>,
}

impl TryFrom<ReadinessRepr> for Readiness {
    type Error = String;
    fn try_from(r: ReadinessRepr) -> Result<Self, String> {
        match (r.udp_port, r.log_line, r.delay) {
            (Some(p), None, None) => Ok(Readiness::UdpPort(p)),
            (None, Some(l), None) => Ok(Readiness::LogLine(l)),
            (None, None, Some(d)) => Ok(Readiness::Delay(d)),
            _ => Err("needs exactly one of `udp-port`, `log-line`, `delay`".into()),
        }
    }
}

/// Where the target logs: `stderr` or `{ file: PATH }`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(try_from = "LogRepr")]
pub enum LogSpec {
    /// stdout and stderr (both always go to `RUN_DIR/NAME.log`).
    #[default]
    Stderr,
    /// A file the target writes itself (a template; relative to the run dir), read for
    /// `log-line` readiness and error reports in addition to `NAME.log`.
    File(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum LogRepr {
    Word(String),
    File(LogFileRepr),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogFileRepr {
    file: String,
}

impl TryFrom<LogRepr> for LogSpec {
    type Error = String;
    fn try_from(r: LogRepr) -> Result<Self, String> {
        match r {
            LogRepr::Word(w) if w == "stderr" => Ok(LogSpec::Stderr),
            LogRepr::Word(w) => Err(format!("`{w}`: expected `stderr` or `{{ file: PATH }}`")),
            LogRepr::File(f) => Ok(LogSpec::File(f.file)),
        }
    }
}

/// A protocol a scenario step sends (`send:`), for a profile's `serves`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// BOOTREQUESTs (BOOTP, DHCP and BSDP messages).
    Bootp,
    /// TFTP reads.
    Tftp,
    /// RARP requests.
    Rarp,
}

impl Protocol {
    /// The protocol a step's `send` uses.
    pub fn of(send: &bootcheck_scenario::model::Send) -> Protocol {
        use bootcheck_scenario::model::Send;
        match send {
            Send::Bootp(_) => Protocol::Bootp,
            Send::TftpRead(_) => Protocol::Tftp,
            Send::Rarp(_) => Protocol::Rarp,
            // A whole frame: RARP by EtherType, TFTP by UDP port 69 (after a 20-octet
            // IPv4 header), BOOTP otherwise.
            Send::Raw(r) => match (r.hex.0.get(12..14), r.hex.0.get(36..38)) {
                (Some([0x80, 0x35]), _) => Protocol::Rarp,
                (Some([0x08, 0x00]), Some([0, 69])) => Protocol::Tftp,
                _ => Protocol::Bootp,
            },
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Bootp => "bootp",
            Protocol::Tftp => "tftp",
            Protocol::Rarp => "rarp",
        }
    }
}

/// A config file to write into the run dir before start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    /// Relative to the run dir (no `..`).
    pub path: String,
    /// Inline template.
    #[serde(default)]
    pub template: Option<String>,
    /// Template file, relative to the profile's directory.
    #[serde(default)]
    pub template_file: Option<String>,
}

/// A target profile as written in `targets/NAME.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Profile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Debian packages that provide the binary (named in the "not installed" error).
    #[serde(default)]
    pub debian_package: Vec<String>,
    /// The program that must exist (a template, e.g. `/usr/sbin/dnsmasq`).
    #[serde(default)]
    pub binary: Option<String>,
    /// argv; every element is a template.
    pub command: Vec<String>,
    #[serde(default)]
    pub config: Vec<ConfigFile>,
    /// Extra environment (values are templates).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub namespace: Placement,
    pub readiness: Readiness,
    #[serde(default)]
    pub readiness_timeout: Option<DurationText>,
    #[serde(default)]
    pub log: LogSpec,
    /// The program daemonizes: its PIDs are found with `ip netns pids` after the
    /// launcher exits, recorded, and stopped by PID.
    #[serde(default)]
    pub forks: bool,
    #[serde(default)]
    pub stop_signal: Option<SignalName>,
    /// Files for `/etc/netns/<ns>/NAME` (bind-mounted over `/etc/NAME` inside the
    /// namespace), e.g. `ethers` for rarpd. Values are templates.
    #[serde(default)]
    pub netns_etc: BTreeMap<String, String>,
    /// The TFTP root inside the run dir (default `tftp`), filled with the site files.
    /// A template rendered with `site` only, e.g. `tftp{{ site.boot.home }}` for
    /// servers that see the run dir's `tftp/` as `/` and the site's boot home under it.
    #[serde(default)]
    pub tftp_root: Option<String>,
    /// Known deviations: scenario id → why this server behaves differently.
    #[serde(default)]
    pub deviations: BTreeMap<String, String>,
    /// Rule ids of the RFC catalogue (`bootcheck rfc`) this server is known to break,
    /// with the reason: recorded, so CI is green while the server behaves as recorded
    /// and red when it changes (a recorded rule that passes everywhere it was checked
    /// is reported as stale).
    #[serde(default)]
    pub rule_deviations: BTreeMap<String, String>,
    /// The protocols the server speaks (`bootp`: BOOTP/DHCP/BSDP on ports 67/68,
    /// `tftp`, `rarp`); default all. A scenario with a step sending another protocol
    /// is skipped on this target, with the reason shown (a TFTP-only server gets no
    /// BOOTREQUESTs).
    #[serde(default)]
    pub serves: Option<BTreeSet<Protocol>>,
    /// For a relay agent: the hops limit it is configured with (RFC 1542 §4.1.1:
    /// default 4, at most 16); requests above it must not be relayed.
    #[serde(default)]
    pub relay_max_hops: Option<u8>,
    /// For a relay agent: it relays only requests whose `secs` reached this (a policy
    /// RFC 1542 §4.1.1 allows); rules expecting a request to be relayed skip the others.
    #[serde(default)]
    pub relay_min_secs: Option<u16>,
}

/// A duration written `500ms`, `2s`, `1.5s`, `1m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationText(pub Duration);

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s).map(DurationText).map_err(serde::de::Error::custom)
    }
}

/// Parse `500ms`, `2s`, `1.5s`, `1m`, `250us`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("`{s}` is not a duration (e.g. 500ms, 2s)"))?;
    let secs = match unit.trim() {
        "us" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("`{s}`: unknown unit (use us, ms, s or m)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("`{s}`: {e}"))
}

/// A regular expression, checked when the profile loads.
#[derive(Debug, Clone)]
pub struct LineRegex(pub Regex);

impl<'de> Deserialize<'de> for LineRegex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Regex::new(&s).map(LineRegex).map_err(serde::de::Error::custom)
    }
}

/// A signal name (`SIGTERM`, `TERM`, `15`), checked when the profile loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalName(pub Signal);

impl<'de> Deserialize<'de> for SignalName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_signal(&s).map(SignalName).map_err(serde::de::Error::custom)
    }
}

/// A loaded profile, or several combined (`bootpd+tftpd-hpa`).
#[derive(Debug, Clone)]
pub struct Target {
    pub profile: Profile,
    /// The profile file.
    pub file: PathBuf,
    /// Config templates by index in `profile.config` (inline or read from file).
    templates: Vec<String>,
    /// Servers started beside this one in its namespace, each serving protocols no
    /// other part serves: a boot service made of several daemons, as sites run them
    /// (bootpd for BOOTP and tftpd-hpa for the boot file). Empty for one profile.
    companions: Vec<Target>,
    /// `a+b` for a combination.
    label: Option<String>,
}

/// Extra inputs for [`Target::start_with`].
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// `bootcheck_exe` in templates; default: this process's executable.
    pub bootcheck_exe: Option<PathBuf>,
    /// `site_file` in templates; default: `RUN_DIR/site.yaml`, written from the site.
    pub site_file: Option<PathBuf>,
    /// Extra template variables (top level).
    pub vars: BTreeMap<String, Json>,
    /// Overrides the profile's `readiness-timeout`.
    pub readiness_timeout: Option<Duration>,
}

impl Target {
    /// Load and check a profile: schema (unknown fields refused), regexes, signals,
    /// durations, template syntax, config paths. Errors name file, line and column.
    pub fn load(path: &Path) -> Result<Target, LabError> {
        let source = fs::read_to_string(path)
            .map_err(|e| LoadError::new(path, "", format!("cannot read target profile: {e}")))?;
        Target::from_str(path, &source)
    }

    /// `DIR/NAME.yaml`, with the available names in the error when there is none.
    pub fn load_named(dir: &Path, name: &str) -> Result<Target, LabError> {
        let path = dir.join(format!("{name}.yaml"));
        if !path.exists() {
            let mut have: Vec<String> = fs::read_dir(dir)
                .map(|rd| {
                    rd.flatten()
                        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".yaml").map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            have.sort();
            return Err(LabError::Invalid(format!(
                "no target profile `{name}` ({} does not exist); available: {}",
                path.display(),
                if have.is_empty() { "none".to_string() } else { have.join(", ") }
            )));
        }
        Target::load(&path)
    }

    /// Parse a profile from text (`path` is used for errors and `template-file`).
    pub fn from_str(path: &Path, source: &str) -> Result<Target, LabError> {
        let profile: Profile = from_yaml(path, source).map_err(|e| {
            // Custom errors from scalar fields (signal names, …) come back placed at
            // the start of the document: place them at their key instead.
            if e.line <= 1 && e.column <= 1 && !e.path.is_empty() && e.path != "." {
                e.at_path(source)
            } else {
                e
            }
        })?;
        let err = |field: &str, msg: String| LabError::from(LoadError::new(path, field, msg).at_path(source));
        if profile.command.is_empty() {
            return Err(err("command", "must name at least the program".into()));
        }
        let env = environment();
        let check = |field: String, t: &str| -> Result<(), LabError> {
            env.template_from_str(t).map(|_| ()).map_err(|e| err(&field, format!("template error: {e}")))
        };
        for (i, a) in profile.command.iter().enumerate() {
            check(format!("command[{i}]"), a)?;
        }
        if let Some(b) = &profile.binary {
            check("binary".into(), b)?;
        }
        for (k, v) in &profile.env {
            check(format!("env.{k}"), v)?;
        }
        for (k, v) in &profile.netns_etc {
            if !k.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) || k.starts_with('.') {
                return Err(err(&format!("netns-etc.{k}"), "must be a plain /etc file name like `ethers`".into()));
            }
            check(format!("netns-etc.{k}"), v)?;
        }
        if let LogSpec::File(f) = &profile.log {
            check("log.file".into(), f)?;
        }
        if let Some(r) = &profile.tftp_root {
            check("tftp-root".into(), r)?;
            if !r.contains("{{") && !is_relative_inside(r) {
                return Err(err("tftp-root", format!("`{r}` must be a relative path without `..`")));
            }
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut templates = Vec::new();
        for (i, c) in profile.config.iter().enumerate() {
            let field = format!("config[{i}]");
            if !is_relative_inside(&c.path) {
                return Err(err(
                    &format!("{field}.path"),
                    format!("`{}` must be a relative path without `..`", c.path),
                ));
            }
            let text = match (&c.template, &c.template_file) {
                (Some(t), None) => t.clone(),
                (None, Some(f)) => {
                    let p = dir.join(f);
                    fs::read_to_string(&p).map_err(|e| {
                        err(&format!("{field}.template-file"), format!("cannot read {}: {e}", p.display()))
                    })?
                }
                _ => return Err(err(&field, "needs exactly one of `template` and `template-file`".into())),
            };
            check(format!("{field}.template"), &text)?;
            templates.push(text);
        }
        Ok(Target { profile, file: path.to_path_buf(), templates, companions: Vec::new(), label: None })
    }

    /// A target named on the command line: a profile name under `dir`, a path to a
    /// profile (`….yaml` or containing `/`), or several of these joined by `+`
    /// (`bootpd+tftpd-hpa`), started together in the server namespace.
    pub fn resolve(dir: &Path, spec: &str) -> Result<Target, LabError> {
        let one = |s: &str| {
            if s.ends_with(".yaml") || s.contains('/') {
                Target::load(Path::new(s))
            } else {
                Target::load_named(dir, s)
            }
        };
        if !spec.contains('+') || Path::new(spec).is_file() {
            return one(spec);
        }
        let parts = spec.split('+').map(one).collect::<Result<Vec<_>, _>>()?;
        Target::combine(spec, parts)
    }

    /// Several server profiles as one target. Each part must say what it serves
    /// (`serves:`), and no two may serve the same protocol: every request then has
    /// exactly one server, and a recorded deviation of a part applies to the
    /// scenarios that part alone serves.
    pub fn combine(label: &str, mut parts: Vec<Target>) -> Result<Target, LabError> {
        let bad = |m: String| LabError::Invalid(format!("target `{label}`: {m}"));
        if parts.len() < 2 {
            return Err(bad("a combination names two or more profiles joined by `+`".into()));
        }
        let mut seen: BTreeMap<Protocol, String> = BTreeMap::new();
        for p in &parts {
            if !p.companions.is_empty() {
                return Err(bad(format!("`{}` is itself a combination", p.name())));
            }
            if p.profile.namespace != Placement::Server {
                return Err(bad(format!(
                    "`{}` runs in the {} namespace; only servers (`namespace: server`) combine",
                    p.name(),
                    p.profile.namespace.role()
                )));
            }
            let Some(serves) = &p.profile.serves else {
                return Err(bad(format!(
                    "`{}` does not say what it serves (`serves:` in {}); each part of a combination must",
                    p.name(),
                    p.file.display()
                )));
            };
            for proto in serves {
                if let Some(other) = seen.insert(*proto, p.name().to_string()) {
                    return Err(bad(format!("`{other}` and `{}` both serve {}", p.name(), proto.name())));
                }
            }
        }
        let mut first = parts.remove(0);
        first.companions = parts;
        first.label = Some(label.to_string());
        Ok(first)
    }

    pub fn name(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.profile.name)
    }

    /// The profiles started for this target: itself, then its companions.
    pub fn parts(&self) -> impl Iterator<Item = &Target> {
        std::iter::once(self).chain(&self.companions)
    }

    /// The protocols the target serves (all of them when the profile does not say).
    pub fn serves(&self) -> Option<BTreeSet<Protocol>> {
        self.parts().map(|p| p.profile.serves.clone()).try_fold(BTreeSet::new(), |mut all, s| {
            all.extend(s?);
            Some(all)
        })
    }

    /// Rule deviations recorded by every part.
    pub fn rule_deviations(&self) -> BTreeMap<String, String> {
        self.parts().flat_map(|p| p.profile.rule_deviations.clone()).collect()
    }

    /// The part that serves every request `scn` sends; `None` when they go to
    /// different parts (a boot chain across daemons) or nothing serves them.
    pub fn part_for(&self, scn: &bootcheck_scenario::Scenario) -> Option<&Target> {
        if self.companions.is_empty() {
            return Some(self);
        }
        let sent: BTreeSet<Protocol> = scn.steps.iter().filter_map(|s| s.send.as_ref().map(Protocol::of)).collect();
        if sent.is_empty() {
            return Some(self);
        }
        self.parts().find(|p| p.profile.serves.as_ref().is_some_and(|s| sent.is_subset(s)))
    }

    /// The accepted deviation for a scenario, if the profile (for a combination: the
    /// part serving the scenario) lists one.
    pub fn deviation(&self, scn: &bootcheck_scenario::Scenario) -> Option<&str> {
        self.part_for(scn)?.profile.deviations.get(&scn.id).map(String::as_str)
    }

    /// `scn` as judged on this target: for a combination, a deviation the scenario
    /// records for the part that serves it alone counts as recorded for the
    /// combination (unless the scenario names the combination itself).
    pub fn scenario_for<'s>(
        &self,
        scn: &'s bootcheck_scenario::Scenario,
    ) -> std::borrow::Cow<'s, bootcheck_scenario::Scenario> {
        use std::borrow::Cow;
        let Some(label) = &self.label else { return Cow::Borrowed(scn) };
        if scn.deviations.contains_key(label) {
            return Cow::Borrowed(scn);
        }
        match self.part_for(scn).and_then(|p| scn.deviations.get(&p.profile.name)) {
            Some(d) => {
                let mut s = scn.clone();
                s.deviations.insert(label.clone(), d.clone());
                Cow::Owned(s)
            }
            None => Cow::Borrowed(scn),
        }
    }

    /// Why `scn` does not run on this target: a step sends a protocol the profile's
    /// `serves` leaves out.
    pub fn unserved(&self, scn: &bootcheck_scenario::Scenario) -> Option<String> {
        let serves = self.serves()?;
        let (i, p) = scn
            .steps
            .iter()
            .enumerate()
            .find_map(|(i, s)| s.send.as_ref().map(Protocol::of).filter(|p| !serves.contains(p)).map(|p| (i, p)))?;
        let list: Vec<&str> = serves.iter().map(|p| p.name()).collect();
        Some(format!(
            "{} serves {} only (`serves:` in {}); step {} sends {}",
            self.name(),
            list.join(", "),
            if self.companions.is_empty() { "its profile" } else { "their profiles" },
            i + 1,
            p.name()
        ))
    }

    /// The namespace role the target runs in.
    pub fn role(&self) -> Role {
        self.profile.namespace.role()
    }

    /// The TFTP root for this site: `run_dir` joined with the rendered `tftp-root`
    /// (default `tftp`), which must stay a relative path inside the run dir.
    pub fn tftp_root(&self, site: &Site, run_dir: &Path) -> Result<PathBuf, LabError> {
        let Some(t) = &self.profile.tftp_root else { return Ok(run_dir.join("tftp")) };
        let ctx = json!({ "site": site_context(site)? });
        let rel = environment().render_str(t, &ctx).map_err(|e| LabError::Template {
            what: format!("target `{}` ({}): tftp-root", self.profile.name, self.file.display()),
            message: format!("{e:#}"),
        })?;
        if !is_relative_inside(&rel) {
            return Err(LabError::Invalid(format!(
                "target `{}`: tftp-root `{rel}` must be a relative path without `..`",
                self.profile.name
            )));
        }
        Ok(run_dir.join(rel))
    }

    /// The template context for this lab, site and run dir (see the module docs).
    pub fn context(&self, n: &LabNames, site: &Site, run_dir: &Path, opts: &StartOptions) -> Result<Json, LabError> {
        let role = self.role();
        let ns = n.ns(role).ok_or_else(|| {
            LabError::Invalid(format!(
                "target `{}` runs in the {role} namespace; this {} lab has none",
                self.profile.name, n.topology
            ))
        })?;
        let tftp_root = self.tftp_root(site, run_dir)?;
        let exe = match &opts.bootcheck_exe {
            Some(p) => p.clone(),
            None => std::env::current_exe().map_err(|e| LabError::io("finding this executable", e))?,
        };
        let site_file = opts.site_file.clone().unwrap_or_else(|| run_dir.join("site.yaml"));
        let path = |p: &Path| p.display().to_string();
        let lab_v = json!({
            "id": n.id,
            "topology": n.topology.to_string(),
            "ns": ns,
            "iface": n.iface(role),
            "client_ns": n.client_ns,
            "server_ns": n.server_ns,
            "relay_ns": n.relay_ns,
            "client_if": n.client_if,
            "server_if": n.server_if,
            "relay_client_if": n.relay_client_if,
            "relay_server_if": n.relay_server_if,
            "client_mac": n.client_mac.to_string(),
            "server_mac": n.server_mac.to_string(),
            "run_dir": path(run_dir),
            "tftp_root": path(&tftp_root),
        });
        let mut ctx = json!({
            "site": site_context(site)?,
            "lab": lab_v,
            "target": { "name": self.profile.name },
            "bootcheck_exe": path(&exe),
            "site_file": path(&site_file),
            "run_dir": path(run_dir),
            "tftp_root": path(&tftp_root),
            // Reference-server fault switches, comma-separated (`bootcheck run --fault`).
            "faults": "",
        });
        if let Some(m) = ctx.as_object_mut() {
            for (k, v) in &opts.vars {
                m.insert(k.clone(), v.clone());
            }
        }
        Ok(ctx)
    }

    /// The command line as it would be started (for dry runs and `target show`).
    pub fn render_command(
        &self,
        names: &LabNames,
        site: &Site,
        run_dir: &Path,
        opts: &StartOptions,
    ) -> Result<Vec<String>, LabError> {
        let ctx = self.context(names, site, run_dir, opts)?;
        let env = environment();
        self.profile
            .command
            .iter()
            .enumerate()
            .map(|(i, a)| {
                env.render_str(a, &ctx).map_err(|e| LabError::Template {
                    what: format!("target `{}` ({}): command[{i}]", self.profile.name, self.file.display()),
                    message: format!("{e:#}"),
                })
            })
            .collect()
    }

    /// [`Target::start_with`] with default options.
    pub fn start<'lab>(&self, lab: &'lab Lab, site: &Site, run_dir: &Path) -> Result<RunningTarget<'lab>, LabError> {
        self.start_with(lab, site, run_dir, &StartOptions::default())
    }

    /// Write the configs and TFTP root into `run_dir`, start the target inside its lab
    /// namespace with stdout/stderr to `RUN_DIR/NAME.log`, and wait until it is ready.
    /// A combination starts its parts in order, sharing the run dir (each writes its
    /// own configs and log). On any error what was started is stopped again.
    pub fn start_with<'lab>(
        &self,
        lab: &'lab Lab,
        site: &Site,
        run_dir: &Path,
        opts: &StartOptions,
    ) -> Result<RunningTarget<'lab>, LabError> {
        let mut rt = self.start_part(lab, site, run_dir, opts)?;
        for c in &self.companions {
            let started = c.start_part(lab, site, run_dir, opts)?;
            rt.companions.push(started);
        }
        Ok(rt)
    }

    fn start_part<'lab>(
        &self,
        lab: &'lab Lab,
        site: &Site,
        run_dir: &Path,
        opts: &StartOptions,
    ) -> Result<RunningTarget<'lab>, LabError> {
        let name = self.profile.name.clone();
        let role = self.role();
        fs::create_dir_all(run_dir).map_err(|e| LabError::io(format!("creating {}", run_dir.display()), e))?;
        let run_dir =
            fs::canonicalize(run_dir).map_err(|e| LabError::io(format!("resolving {}", run_dir.display()), e))?;
        let ctx = self.context(lab.names(), site, &run_dir, opts)?;
        let env = environment();
        let render = |what: String, t: &str| -> Result<String, LabError> {
            env.render_str(t, &ctx).map_err(|e| LabError::Template {
                what: format!("target `{name}` ({}): {what}", self.file.display()),
                message: format!("{e:#}"),
            })
        };

        if let Some(b) = &self.profile.binary {
            let p = PathBuf::from(render("binary".into(), b)?);
            if !p.exists() {
                return Err(LabError::BinaryMissing {
                    target: name.clone(),
                    path: p,
                    packages: self.profile.debian_package.clone(),
                });
            }
        }
        if opts.site_file.is_none() {
            let text =
                serde_yaml::to_string(site).map_err(|e| LabError::Invalid(format!("serializing the site: {e}")))?;
            write_file(&run_dir.join("site.yaml"), text.as_bytes())?;
        }
        let tftp_root = self.tftp_root(site, &run_dir)?;
        fill_tftp_root(&tftp_root, site)?;
        for (i, (c, t)) in self.profile.config.iter().zip(&self.templates).enumerate() {
            let text = render(format!("config[{i}] {}", c.path), t)?;
            write_file(&run_dir.join(&c.path), text.as_bytes())?;
        }
        for (k, v) in &self.profile.netns_etc {
            let text = render(format!("netns-etc.{k}"), v)?;
            lab.add_etc_file(role, k, &text)?;
        }
        let argv = self
            .profile
            .command
            .iter()
            .enumerate()
            .map(|(i, a)| render(format!("command[{i}]"), a))
            .collect::<Result<Vec<_>, _>>()?;
        let mut envs = Vec::new();
        for (k, v) in &self.profile.env {
            envs.push((k.clone(), render(format!("env.{k}"), v)?));
        }
        let extra_log = match &self.profile.log {
            LogSpec::Stderr => None,
            LogSpec::File(f) => Some(run_dir.join(render("log.file".into(), f)?)),
        };
        let log_path = run_dir.join(format!("{name}.log"));
        write_file(&log_path, b"")?;
        let timeout =
            opts.readiness_timeout.or(self.profile.readiness_timeout.map(|d| d.0)).unwrap_or(DEFAULT_READINESS_TIMEOUT);
        let before: BTreeSet<i32> =
            if self.profile.forks { lab.ns_pids(role)?.into_iter().collect() } else { BTreeSet::new() };

        let started = Instant::now();
        let child = lab.exec_with(
            role,
            &argv,
            &SpawnOptions { env: envs, clear_env: false, cwd: Some(run_dir.clone()), log: Some(log_path.clone()) },
        )?;
        let pid = i32::try_from(child.id()).unwrap_or(i32::MAX);
        // From here on, any error drops `rt`, which stops what was started.
        let mut rt = RunningTarget {
            lab,
            name: name.clone(),
            role,
            argv,
            pid,
            pids: vec![pid],
            child: Some(child),
            forks: self.profile.forks,
            log_path,
            extra_log,
            stop_signal: self.profile.stop_signal.map_or(Signal::SIGTERM, |s| s.0),
            stopped: false,
            companions: Vec::new(),
        };
        let deadline = started + timeout;
        if rt.forks {
            rt.adopt_daemon(&before, deadline)?;
        }
        let condition = match &self.profile.readiness {
            Readiness::UdpPort(p) => format!("waiting for a UDP socket on port {p}"),
            Readiness::LogLine(r) => format!("waiting for a log line matching /{}/", r.0.as_str()),
            Readiness::Delay(d) => format!("waiting {:?}", d.0),
        };
        loop {
            rt.check_alive()?;
            let ready = match &self.profile.readiness {
                Readiness::UdpPort(p) => udp_port_bound(lab, role, *p)?,
                Readiness::LogLine(r) => rt.log_matches(&r.0),
                Readiness::Delay(d) => started.elapsed() >= d.0,
            };
            if ready {
                // A last check: readiness seen just as the process died is no readiness.
                rt.check_alive()?;
                return Ok(rt);
            }
            crate::signals::check()?;
            if Instant::now() >= deadline {
                return Err(LabError::NotReady { target: name, waited: timeout, condition, log_tail: rt.log_tail(20) });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A started target. Stopped by [`RunningTarget::stop`] or on drop; borrowing the lab
/// makes sure it goes before the lab does.
#[derive(Debug)]
pub struct RunningTarget<'lab> {
    lab: &'lab Lab,
    name: String,
    role: Role,
    argv: Vec<String>,
    /// The main process (the launcher, or the oldest daemon process after a fork).
    pid: i32,
    pids: Vec<i32>,
    child: Option<Child>,
    forks: bool,
    log_path: PathBuf,
    extra_log: Option<PathBuf>,
    stop_signal: Signal,
    stopped: bool,
    /// The other parts of a combination, started after this one.
    companions: Vec<RunningTarget<'lab>>,
}

impl RunningTarget<'_> {
    /// The part's own name (a combination's parts report under their names).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Each started part's name and log: this one, then its companions.
    pub fn logs(&self) -> Vec<(&str, &Path)> {
        std::iter::once(self).chain(&self.companions).map(|r| (r.name.as_str(), r.log_path.as_path())).collect()
    }
    /// The main PID.
    pub fn pid(&self) -> i32 {
        self.pid
    }
    /// Every PID recorded for it (more than one when it forked workers).
    pub fn pids(&self) -> &[i32] {
        &self.pids
    }
    /// The rendered command line.
    pub fn argv(&self) -> &[String] {
        &self.argv
    }
    /// `RUN_DIR/NAME.log` (stdout and stderr).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Whether the main process (of every part) still runs (crash detection between
    /// scenarios).
    pub fn is_alive(&self) -> bool {
        !self.stopped && self.lab.is_running(self.pid) && self.companions.iter().all(RunningTarget::is_alive)
    }

    /// `Err(Exited)` with the log tail when the main process (of any part) is gone.
    pub fn check_alive(&mut self) -> Result<(), LabError> {
        for c in &mut self.companions {
            c.check_alive()?;
        }
        if !self.stopped && self.lab.is_running(self.pid) {
            return Ok(());
        }
        let status = match self.child.as_mut().map(Child::try_wait) {
            Some(Ok(Some(s))) => s.to_string(),
            _ => "gone".to_string(),
        };
        Err(LabError::Exited { target: self.name.clone(), status, log_tail: self.log_tail(20) })
    }

    /// The last `n` lines of its log(s).
    pub fn log_tail(&self, n: usize) -> String {
        let mut out = String::new();
        for p in std::iter::once(&self.log_path).chain(self.extra_log.as_ref()) {
            let text = read_tail(p, 64 * 1024);
            let lines: Vec<&str> = text.lines().collect();
            let from = lines.len().saturating_sub(n);
            if self.extra_log.is_some() && !lines.is_empty() {
                out.push_str(&format!("==> {} <==\n", p.display()));
            }
            for l in &lines[from..] {
                out.push_str(l);
                out.push('\n');
            }
        }
        for c in &self.companions {
            out.push_str(&format!("==> {} <==\n", c.name));
            out.push_str(&c.log_tail(n));
        }
        out
    }

    /// Stop every process of the target by PID (its stop signal, 2 s, SIGKILL).
    pub fn stop(mut self) -> Result<(), LabError> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> Result<(), LabError> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        let mut problems = Vec::new();
        for mut c in std::mem::take(&mut self.companions) {
            if let Err(e) = c.stop_inner() {
                problems.push(format!("{}: {e}", c.name));
            }
        }
        for &pid in &self.pids {
            if let Err(e) = self.lab.stop_process(pid, self.stop_signal, STOP_GRACE) {
                problems.push(e.to_string());
            }
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.wait(); // reap the launcher (already dead: stopped above)
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(LabError::Teardown(problems))
        }
    }

    fn log_matches(&self, re: &Regex) -> bool {
        std::iter::once(&self.log_path)
            .chain(self.extra_log.as_ref())
            .any(|p| read_tail(p, 1 << 20).lines().any(|l| re.is_match(l)))
    }

    /// After a forking launcher exits, find the daemon's processes among the new PIDs in
    /// the namespace, and record them.
    fn adopt_daemon(&mut self, before: &BTreeSet<i32>, deadline: Instant) -> Result<(), LabError> {
        // The launcher must exit (successfully) once it has forked.
        let status = loop {
            let c = self.child.as_mut().ok_or_else(|| LabError::Invalid("no launcher".into()))?;
            match c.try_wait() {
                Ok(Some(s)) => break s,
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
                Ok(None) => {
                    return Err(LabError::NotReady {
                        target: self.name.clone(),
                        waited: deadline.saturating_duration_since(Instant::now()),
                        condition: "`forks: true`, but the launcher did not exit".into(),
                        log_tail: self.log_tail(20),
                    })
                }
                Err(e) => return Err(LabError::io(format!("waiting for {}", self.name), e)),
            }
            crate::signals::check()?;
        };
        self.child = None;
        let launcher = self.pid;
        self.lab.forget_pid(launcher)?;
        if !status.success() {
            self.pids.clear();
            return Err(LabError::Exited {
                target: self.name.clone(),
                status: format!("launcher {status}"),
                log_tail: self.log_tail(20),
            });
        }
        // Let double forks settle: the same set of new PIDs twice in a row.
        let mut last: Vec<i32> = Vec::new();
        let settle_until = (Instant::now() + Duration::from_secs(1)).min(deadline);
        loop {
            let now: Vec<i32> =
                self.lab.ns_pids(self.role)?.into_iter().filter(|p| !before.contains(p) && *p != launcher).collect();
            if (!now.is_empty() && now == last) || Instant::now() >= settle_until {
                last = now;
                break;
            }
            last = now;
            std::thread::sleep(Duration::from_millis(25));
        }
        if last.is_empty() {
            self.pids.clear();
            return Err(LabError::Exited {
                target: self.name.clone(),
                status: "forked, but no process of it is left in the namespace".into(),
                log_tail: self.log_tail(20),
            });
        }
        for &p in &last {
            self.lab.record_pid(self.role, p, &self.argv)?;
        }
        // The main process: the oldest one (lowest start time).
        self.pid = *last
            .iter()
            .min_by_key(|p| crate::proc::ProcId::of(**p).map_or(u64::MAX, |i| i.start_time))
            .unwrap_or(&last[0]);
        self.pids = last;
        Ok(())
    }
}

impl Drop for RunningTarget<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.stop_inner() {
            eprintln!("warning: stopping target {}: {e}", self.name);
        }
    }
}

/// Whether a UDP socket is bound to local `port` in the namespace of `role`.
fn udp_port_bound(lab: &Lab, role: Role, port: u16) -> Result<bool, LabError> {
    lab.in_ns(role, || {
        let mut found = false;
        for f in ["/proc/thread-self/net/udp", "/proc/thread-self/net/udp6"] {
            let Ok(text) = fs::read_to_string(f) else { continue };
            found |= udp_table_has_port(&text, port);
        }
        Ok(found)
    })
}

/// Whether a `/proc/net/udp`-format table lists a socket on local `port`.
fn udp_table_has_port(text: &str, port: u16) -> bool {
    text.lines().skip(1).any(|l| {
        l.split_whitespace()
            .nth(1)
            .and_then(|local| local.rsplit(':').next())
            .and_then(|h| u16::from_str_radix(h, 16).ok())
            == Some(port)
    })
}

fn read_tail(p: &Path, max: u64) -> String {
    let Ok(mut f) = fs::File::open(p) else { return String::new() };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if len > max {
        let _ = f.seek(SeekFrom::Start(len - max));
    }
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

fn write_file(p: &Path, data: &[u8]) -> Result<(), LabError> {
    if let Some(d) = p.parent() {
        fs::create_dir_all(d).map_err(|e| LabError::io(format!("creating {}", d.display()), e))?;
    }
    fs::write(p, data).map_err(|e| LabError::io(format!("writing {}", p.display()), e))
}

fn is_relative_inside(p: &str) -> bool {
    let path = Path::new(p);
    !p.is_empty() && path.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Create `root` with every site file (deterministic content) in it.
pub fn fill_tftp_root(root: &Path, site: &Site) -> Result<(), LabError> {
    fs::create_dir_all(root).map_err(|e| LabError::io(format!("creating {}", root.display()), e))?;
    for (name, f) in &site.files {
        if !is_relative_inside(name) {
            return Err(LabError::Unsafe(format!("site file `{name}` is not a relative path inside the TFTP root")));
        }
        write_file(&root.join(name), &generate_content(name, f))?;
    }
    Ok(())
}

fn environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env.add_filter("mac_hex", |s: String| -> String {
        s.chars().filter(|c| c.is_ascii_hexdigit()).collect::<String>().to_ascii_lowercase()
    });
    env.add_filter("ip_hex", |s: String| -> Result<String, minijinja::Error> {
        let ip: std::net::Ipv4Addr = s.parse().map_err(|_| {
            minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, format!("`{s}` is not an IPv4 address"))
        })?;
        Ok(ip.octets().iter().map(|b| format!("{b:02x}")).collect())
    });
    env.add_filter("blocks512", |n: u64| -> u64 { n.div_ceil(512) });
    env
}

/// The site as a nested map, with derived values (see the module docs).
fn site_context(site: &Site) -> Result<Json, LabError> {
    let mut v = serde_json::to_value(site).map_err(|e| LabError::Invalid(format!("site: {e}")))?;
    let net = |n: &ipnet::Ipv4Net| {
        json!({
            "netmask": n.netmask().to_string(),
            "broadcast": n.broadcast().to_string(),
            "prefix": n.prefix_len(),
            "network": n.network().to_string(),
        })
    };
    let merge = |dst: Option<&mut Json>, src: Json| {
        if let (Some(Json::Object(d)), Json::Object(s)) = (dst, src) {
            d.extend(s);
        }
    };
    merge(Some(&mut v), net(&site.subnet));
    merge(v.get_mut("relay"), net(&site.relay.subnet));
    for (name, c) in &site.clients {
        merge(
            v.get_mut("clients").and_then(|m| m.get_mut(name)),
            json!({
                "name": name,
                "bootfile_path": site.full_path(&c.bootfile),
                "relayed": site.relay.subnet.contains(&c.ip),
            }),
        );
    }
    for (name, f) in &site.files {
        merge(
            v.get_mut("files").and_then(|m| m.get_mut(name)),
            json!({ "path": site.full_path(name), "blocks512": f.size.div_ceil(512) }),
        );
    }
    Ok(v)
}

/// Every profile in `dir` as (name, description), sorted by name. A profile that does
/// not load is an error (naming file, line and column).
pub fn list_profiles(dir: &Path) -> Result<Vec<(String, String)>, LabError> {
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir(dir) else { return Ok(out) };
    let mut paths: Vec<PathBuf> =
        rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "yaml")).collect();
    paths.sort();
    for p in paths {
        let t = Target::load(&p)?;
        out.push((t.name().to_string(), t.profile.description.clone()));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("ms").is_err());
    }

    #[test]
    fn udp_table_port_is_found() {
        let t = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
                 12: 010200C0:0043 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1 2 0 0\n";
        assert!(udp_table_has_port(t, 67));
        assert!(!udp_table_has_port(t, 69));
    }

    #[test]
    fn a_target_skips_scenarios_of_protocols_it_does_not_serve() {
        let profile = |serves: &str| {
            Target::from_str(
                Path::new("t.yaml"),
                &format!("name: t\ncommand: [/bin/true]\nreadiness: {{ delay: 1ms }}\n{serves}"),
            )
        };
        let scn = |sends: &[&str]| {
            let steps: String = sends.iter().map(|s| format!("  - send: {s}\n    expect: {{ any: 1s }}\n")).collect();
            from_yaml::<bootcheck_scenario::Scenario>(
                Path::new("s.yaml"),
                &format!("id: x/y\ntitle: t\nclient: ws1\nsteps:\n{steps}"),
            )
            .unwrap_or_else(|e| panic!("{e}"))
        };
        let bootp = "{ bootp: {} }";
        let tftp = "{ tftp-read: { file: a } }";
        let t = profile("serves: [tftp]").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.unserved(&scn(&[tftp])), None);
        let why = t.unserved(&scn(&[tftp, bootp])).unwrap_or_default();
        assert_eq!(why, "t serves tftp only (`serves:` in its profile); step 2 sends bootp");
        // No `serves`: everything.
        let all = profile("").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(all.unserved(&scn(&[bootp, tftp, "{ rarp: {} }"])), None);
        let e = profile("serves: [tftp, smtp]").map(|_| ()).unwrap_err().to_string();
        assert!(e.contains("serves") && e.contains("smtp"), "{e}");
    }

    #[test]
    fn a_combination_serves_each_protocol_from_one_part_and_judges_by_that_part() {
        let profile = |name: &str, extra: &str| {
            Target::from_str(
                Path::new(&format!("{name}.yaml")),
                &format!("name: {name}\ncommand: [/bin/true]\nreadiness: {{ delay: 1ms }}\n{extra}"),
            )
            .unwrap_or_else(|e| panic!("{e}"))
        };
        let scn = |sends: &[&str], deviations: &str| {
            let steps: String = sends.iter().map(|s| format!("  - send: {s}\n    expect: {{ any: 1s }}\n")).collect();
            from_yaml::<bootcheck_scenario::Scenario>(
                Path::new("s.yaml"),
                &format!("id: x/y\ntitle: t\nclient: ws1\nsteps:\n{steps}{deviations}"),
            )
            .unwrap_or_else(|e| panic!("{e}"))
        };
        let (bootp, tftp, rarp) = ("{ bootp: {} }", "{ tftp-read: { file: a } }", "{ rarp: {} }");
        let b = profile("b", "serves: [bootp]\ndeviations: { x/y: b's own record }\nrule-deviations: { r/1: b }");
        let t = profile("t", "serves: [tftp]\nrule-deviations: { r/2: t }");
        let both = Target::combine("b+t", vec![b.clone(), t.clone()]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(both.name(), "b+t");
        assert_eq!(both.serves(), Some([Protocol::Bootp, Protocol::Tftp].into()));
        assert_eq!(both.rule_deviations().keys().collect::<Vec<_>>(), ["r/1", "r/2"]);
        // A chain runs on both parts; RARP on none of them.
        assert_eq!(both.unserved(&scn(&[bootp, tftp], "")), None);
        assert_eq!(
            both.unserved(&scn(&[rarp], "")).unwrap_or_default(),
            "b+t serves bootp, tftp only (`serves:` in their profiles); step 1 sends rarp"
        );
        // A part's deviations count where that part alone serves the scenario.
        let rec = "deviations:\n  t: { why: t's record, step: 1 }\n  b: { why: b has no tftp, outcome: skip }\n";
        let only_tftp = scn(&[tftp], rec);
        assert_eq!(both.part_for(&only_tftp).map(Target::name), Some("t"));
        assert_eq!(both.scenario_for(&only_tftp).deviations["b+t"].why, "t's record");
        assert_eq!(both.deviation(&scn(&[bootp], "")), Some("b's own record"));
        // …and not on a chain across parts: b's skip ("no tftp") is no longer true.
        let chain = scn(&[bootp, tftp], rec);
        assert!(both.part_for(&chain).is_none());
        assert!(!both.scenario_for(&chain).deviations.contains_key("b+t"));
        assert_eq!(both.deviation(&chain), None);
        // One profile is its own part.
        assert_eq!(b.part_for(&chain).map(Target::name), Some("b"));

        let err = |parts: Vec<Target>| Target::combine("c", parts).map(|_| ()).unwrap_err().to_string();
        let e = err(vec![b.clone(), profile("b2", "serves: [bootp, rarp]")]);
        assert!(e.contains("`b` and `b2` both serve bootp"), "{e}");
        let e = err(vec![b.clone(), profile("any", "")]);
        assert!(e.contains("`any` does not say what it serves"), "{e}");
        let e = err(vec![b.clone(), profile("relay", "serves: [rarp]\nnamespace: relay")]);
        assert!(e.contains("only servers"), "{e}");
        let e = err(vec![b]);
        assert!(e.contains("two or more"), "{e}");
    }

    #[test]
    fn relative_paths_stay_inside() {
        assert!(is_relative_inside("tftp"));
        assert!(is_relative_inside("conf/dnsmasq.conf"));
        assert!(!is_relative_inside("../x"));
        assert!(!is_relative_inside("/etc/passwd"));
        assert!(!is_relative_inside("a/../../b"));
    }
}
