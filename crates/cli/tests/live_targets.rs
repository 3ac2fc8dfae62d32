//! The whole suite against live targets in the lab, through the built binary:
//! `bootcheck run --target T --format json --out DIR` for the reference server (as a
//! process in the lab, not in-process), CMU bootpd, dnsmasq, ISC dhcpd, Kea (with its
//! BOOTP hook), busybox udhcpd, and the TFTP servers tftpd-hpa and atftpd.
//!
//! For each target: exit status 0; every scenario's outcome is what its file (and the
//! profile) records for the target — `pass`, `deviation` (and a recorded deviation that
//! passes is a failure), or `skip`; the run's lab namespaces and processes are gone
//! afterwards; and each scenario's normalised decode matches its insta snapshot in
//! `scenarios/snapshots/<target>/` (`bootcheck run --target T --update-snapshots`
//! writes them; review them before committing).
//!
//! Needs root, or a kernel that lets a normal user make user namespaces (`bootcheck
//! run` then enters one itself and runs the lab inside it). Without either the tests
//! say why and pass. A target whose daemon is not installed is skipped the same way,
//! except under `CI=true`, where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bootcheck_lab::run::file_stem;
use bootcheck_lab::{privilege, Privilege, Target};
use bootcheck_scenario::model::{DeviationOutcome, ScenarioTopology};
use bootcheck_scenario::{discover, load_scenario, load_site};

/// A whole target run may take this long before it is stopped (SIGTERM: the binary
/// tears its lab down) and failed.
const RUN_LIMIT: Duration = Duration::from_secs(240);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Servers that cannot run in the user namespace a non-root run uses, and why.
const ROOT_ONLY: &[(&str, &str)] = &[(
    "tftpd-hpa",
    "tftpd-hpa 5.2 calls setgroups() for every transfer (initgroups(), even with -u root), which an unprivileged user namespace forbids, so it needs a lab made as root",
)];

/// Why `target` cannot run here, if it cannot. Panics in CI when its daemon is missing.
fn skip_reason(target: &Target) -> Option<String> {
    let privilege = match privilege() {
        // As a normal user, `bootcheck run` enters a private user namespace and builds
        // the lab there: the same suite runs, except for servers that cannot run there.
        Privilege::Root => None,
        Privilege::UserNamespaces => {
            ROOT_ONLY.iter().find(|(n, _)| target.parts().any(|p| p.name() == *n)).map(|(_, why)| *why)
        }
        Privilege::None => Some("not root, and no user namespace can be made here"),
    };
    decide_skip(target, privilege, in_ci()).unwrap_or_else(|e| panic!("{e}"))
}

/// `Ok(Some(why))`: skip; `Ok(None)`: run; `Err`: fail (CI and the daemon is missing).
fn decide_skip(target: &Target, not_root: Option<&str>, ci: bool) -> Result<Option<String>, String> {
    if let Some(why) = not_root {
        return Ok(Some(format!(
            "{why} (euid {}); the live lab needs root or unprivileged user namespaces: run `cargo test -p bootcheck --test live_targets` as root",
            nix::unistd::geteuid()
        )));
    }
    // Every part of a combination (`bootpd+tftpd-hpa`) must be installed.
    for part in target.parts() {
        let Some(binary) = part.profile.binary.as_deref().filter(|b| !b.contains("{{")) else { continue };
        if Path::new(binary).exists() {
            continue;
        }
        let why = format!(
            "{binary} is not installed (Debian: apt-get install {}; ci/install-deps.sh installs it)",
            part.profile.debian_package.join(" ")
        );
        if ci {
            return Err(format!("CI is set and target `{}` cannot run: {why}", target.name()));
        }
        return Ok(Some(why));
    }
    Ok(None)
}

/// What the suite records for `target` on one scenario: `pass`, `deviation` or `skip`.
/// These runs have no `--relay`, so a relay-agent scenario (`topology: relay`) is a skip.
fn recorded(file: &Path, site: &bootcheck_scenario::Site, target: &Target) -> (String, String) {
    let scn = load_scenario(file, site).unwrap_or_else(|e| panic!("{e}"));
    // A combination counts the deviations of the part that serves the scenario alone.
    let scn = target.scenario_for(&scn).into_owned();
    let expected = match scn.deviations.get(target.name()) {
        _ if scn.topology == ScenarioTopology::Relay => "skip",
        Some(d) if d.outcome == DeviationOutcome::Skip => "skip",
        // A protocol the profile's `serves` leaves out (a TFTP-only server).
        _ if target.unserved(&scn).is_some() => "skip",
        Some(_) => "deviation",
        None if target.deviation(&scn).is_some() => "deviation",
        None => "pass",
    };
    (scn.id, expected.to_string())
}

/// The run id of the lab a run used: the pcapng interface names are `bc<id>-cli/…`.
fn lab_run_id(out: &Path) -> Option<String> {
    for e in fs::read_dir(out.join("pcap")).ok()?.flatten() {
        let bytes = fs::read(e.path()).ok()?;
        let text = String::from_utf8_lossy(&bytes);
        if let Some(at) = text.find("-cli/") {
            let head = &text[..at];
            let start = head.rfind("bc")?;
            let id = &head[start + 2..];
            if !id.is_empty() && id.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Some(id.to_string());
            }
        }
    }
    None
}

/// PIDs of processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let me = std::process::id();
    for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        if pid == me {
            continue;
        }
        let Ok(raw) = fs::read(e.path().join("cmdline")) else { continue };
        let cmd = String::from_utf8_lossy(&raw).replace('\0', " ");
        if cmd.contains(needle) {
            out.push((pid, cmd));
        }
    }
    out
}

fn tail(p: &Path, n: usize) -> String {
    let text = fs::read_to_string(p).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn live(target_name: &str) {
    live_on(target_name, &[]);
}

/// [`live`] on the scenarios under `paths` (relative to the repository; all of
/// `scenarios/` when empty).
fn live_on(target_name: &str, paths: &[&str]) {
    let root = root();
    let target = Target::resolve(&root.join("targets"), target_name).unwrap_or_else(|e| panic!("{e}"));
    if let Some(why) = skip_reason(&target) {
        eprintln!("skipping live target `{target_name}`: {why}");
        return;
    }
    let site = load_site(&root.join("scenarios/site.yaml")).unwrap_or_else(|e| panic!("{e}"));

    let work = std::env::temp_dir().join(format!("bootcheck-live-{target_name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&work);
    let out = work.join("out");
    fs::create_dir_all(&out).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        // Daemons that drop privileges must be able to reach the run dir.
        fs::set_permissions(&work, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let stdout = work.join("stdout.json");
    let stderr = work.join("stderr.txt");

    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bootcheck"))
        .current_dir(&root)
        .args(["run", "--target", target_name, "--format", "json", "--out"])
        .arg(&out)
        .args(paths)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&stdout).unwrap())
        .stderr(fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > RUN_LIMIT {
            // SIGTERM lets the binary tear its lab down; then give up on it.
            let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let grace = Instant::now();
            while child.try_wait().unwrap().is_none() && grace.elapsed() < Duration::from_secs(15) {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`bootcheck run --target {target_name}` still ran after {RUN_LIMIT:?}; stderr:\n{}",
                tail(&stderr, 30)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let wall = started.elapsed();
    eprintln!("live target `{target_name}`: suite ran in {:.1}s wall", wall.as_secs_f64());

    // The lab and everything started in it are gone, whatever the outcome.
    let id = lab_run_id(&out);
    if let Some(id) = &id {
        let list =
            String::from_utf8_lossy(&Command::new("ip").args(["netns", "list"]).output().unwrap().stdout).into_owned();
        let left: Vec<&str> = list.lines().filter(|l| l.starts_with(&format!("bc{id}-"))).collect();
        assert!(left.is_empty(), "`{target_name}`: lab namespaces left behind: {left:?}");
    }
    let left = processes_mentioning(&out.display().to_string());
    assert!(left.is_empty(), "`{target_name}`: processes of the run still running: {left:?}");

    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("report.json")).unwrap_or_default()).unwrap_or_else(|e| {
            panic!("`{target_name}`: no JSON report ({e}), exit {status}; stderr:\n{}", tail(&stderr, 30))
        });
    let stdout_report: serde_json::Value = serde_json::from_str(&fs::read_to_string(&stdout).unwrap())
        .unwrap_or_else(|e| panic!("`{target_name}`: --format json printed no JSON: {e}"));
    assert_eq!(stdout_report["totals"], report["totals"], "stdout and report.json disagree");
    let mode = report["mode"].as_str().unwrap_or_default();
    assert!(mode.starts_with("lab"), "`{target_name}` did not run in the lab: {mode}");
    assert!(id.is_some(), "`{target_name}`: no lab run id in the captures under {}", out.display());

    // Every scenario file ran, with the outcome recorded for this target.
    let scenarios = report["scenarios"].as_array().cloned().unwrap_or_default();
    let site_path = root.join("scenarios/site.yaml");
    let dirs: Vec<PathBuf> =
        if paths.is_empty() { vec![root.join("scenarios")] } else { paths.iter().map(|p| root.join(p)).collect() };
    let files: Vec<PathBuf> =
        discover(&dirs).into_iter().filter(|f| f.canonicalize().ok() != site_path.canonicalize().ok()).collect();
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    for f in &files {
        let (id, outcome) = recorded(f, &site, &target);
        expected.insert(id, outcome);
    }
    let mut problems = Vec::new();
    let mut seen = BTreeMap::new();
    for s in &scenarios {
        let id = s["id"].as_str().unwrap_or_default().to_string();
        let got = s["outcome"].as_str().unwrap_or_default().to_string();
        match expected.get(&id) {
            Some(want) if *want == got => {}
            Some(want) => problems.push(format!(
                "{id}: recorded {want}, got {got} ({}){}",
                s["detail"].as_str().unwrap_or(""),
                s["steps"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|st| st["verdict"] != "pass")
                    .map(|st| format!("\n    step {}: {} {}", st["step"], st["mismatches"], st["error"]))
                    .collect::<String>()
            )),
            None => problems.push(format!("{id}: in the report, but no scenario file has this id")),
        }
        seen.insert(id, got);
    }
    for id in expected.keys().filter(|id| !seen.contains_key(*id)) {
        problems.push(format!("{id}: not in the report"));
    }
    assert!(
        problems.is_empty(),
        "`{target_name}` (exit {status}, {:.1}s):\n  {}\nstderr:\n{}",
        wall.as_secs_f64(),
        problems.join("\n  "),
        tail(&stderr, 20)
    );
    assert!(status.success(), "`{target_name}`: exit {status}; stderr:\n{}", tail(&stderr, 30));

    // Normalised decodes against the target's snapshots.
    for (id, outcome) in &seen {
        if outcome == "skip" {
            continue;
        }
        let decode = out.join("decode").join(format!("{}.txt", file_stem(id)));
        let text = fs::read_to_string(&decode).unwrap_or_else(|e| panic!("{}: {e}", decode.display()));
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(root.join("scenarios/snapshots").join(target_name));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_snapshot_suffix(file_stem(id));
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!("scenario", text));
    }
    let _ = fs::remove_dir_all(&work);
}

#[test]
fn reference_server_in_the_lab() {
    live("reference");
}

#[test]
fn bootpd() {
    live("bootpd");
}

#[test]
fn dnsmasq() {
    live("dnsmasq");
}

#[test]
fn isc_dhcpd() {
    live("isc-dhcpd");
}

#[test]
fn kea() {
    live("kea");
}

#[test]
fn udhcpd() {
    live("udhcpd");
}

#[test]
fn tftpd_hpa() {
    live("tftpd-hpa");
}

#[test]
fn atftpd() {
    live("atftpd");
}

#[test]
fn rarpd() {
    live("rarpd");
}

// Boot chains across daemons, as sites run them: a BOOTP server and a separate TFTP
// server (or RARP and TFTP) started together in the server namespace. The client
// boots end to end and the boot file's checksum is the site's (RFC 906).

const BOOTP_CHAIN: &[&str] = &["scenarios/tftp/bootp-then-tftp.yaml"];
const RARP_CHAIN: &[&str] = &["scenarios/rarp/rarp-then-tftp.yaml"];

#[test]
fn boot_chain_bootpd_then_tftpd_hpa() {
    live_on("bootpd+tftpd-hpa", BOOTP_CHAIN);
}

#[test]
fn boot_chain_isc_dhcpd_then_atftpd() {
    live_on("isc-dhcpd+atftpd", BOOTP_CHAIN);
}

#[test]
fn boot_chain_kea_then_tftpd_hpa() {
    live_on("kea+tftpd-hpa", BOOTP_CHAIN);
}

#[test]
fn boot_chain_rarpd_then_tftpd_hpa() {
    live_on("rarpd+tftpd-hpa", RARP_CHAIN);
}

#[test]
fn boot_chain_rarpd_then_atftpd() {
    live_on("rarpd+atftpd", RARP_CHAIN);
}

#[test]
fn boot_chain_rarpd_then_dnsmasq_tftp() {
    // dnsmasq serves BOOTP and TFTP; rarpd adds RARP: both chains run.
    live_on("dnsmasq+rarpd", &["scenarios/tftp/bootp-then-tftp.yaml", "scenarios/rarp/rarp-then-tftp.yaml"]);
}

#[test]
fn a_missing_daemon_is_skipped_outside_ci_and_fails_in_ci() {
    let t = Target::from_str(
        Path::new("/nonexistent/targets/gone.yaml"),
        "name: gone\ndebian-package: [gone-server]\nbinary: /nonexistent/sbin/gone\ncommand: [/nonexistent/sbin/gone]\nreadiness: { udp-port: 67 }\n",
    )
    .unwrap();
    let why = decide_skip(&t, None, false).unwrap().unwrap();
    assert!(
        why.contains("/nonexistent/sbin/gone is not installed") && why.contains("apt-get install gone-server"),
        "{why}"
    );
    let err = decide_skip(&t, None, true).unwrap_err();
    assert!(err.contains("CI is set"), "{err}");
    // Not root: a skip with the reason, in CI too.
    let why = decide_skip(&t, Some("not root, and no user namespace can be made here"), true).unwrap().unwrap();
    assert!(why.contains("no user namespace") && why.contains("needs root"), "{why}");
    // An installed daemon (or the reference server's templated binary) runs.
    let here = Target::load_named(&root().join("targets"), "reference").unwrap();
    assert_eq!(decide_skip(&here, None, true).unwrap(), None);
}
