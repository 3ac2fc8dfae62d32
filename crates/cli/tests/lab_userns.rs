//! The lab for a non-root user (issue 3): `bootcheck run` started as an unprivileged
//! user enters a private user namespace by itself and runs the lab there.
//!
//! * (a) as UID/GID 65534, a direct, a relay and a TFTP scenario pass in lab mode (not
//!   in-process), the report says it ran in a user namespace, the pcapngs hold frames and
//!   belong to the user, and the root namespace never sees a `bc…` namespace;
//! * (b) the same run killed with SIGKILL leaves no process behind: the reference server
//!   it started dies with it (parent-death signal), and with it the namespaces.
//!
//! Needs root to become another user (`setpriv`), and a kernel that allows unprivileged
//! user namespaces; otherwise each test prints why and passes without doing anything.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());
const NOBODY: u32 = 65534;

fn root_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn allowed(test: &str) -> bool {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipping {test}: becoming an unprivileged user for the test needs root");
        return false;
    }
    if bootcheck_lab::privilege() == bootcheck_lab::Privilege::None
        || std::fs::read_to_string("/proc/sys/user/max_user_namespaces").is_ok_and(|s| s.trim() == "0")
    {
        eprintln!("skipping {test}: this kernel does not allow unprivileged user namespaces");
        return false;
    }
    for tool in ["setpriv", "ip"] {
        if Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err() {
            eprintln!("skipping {test}: `{tool}` is not installed");
            return false;
        }
    }
    true
}

/// A world-readable copy of the binary, the scenarios and the target profiles under
/// /tmp (the build tree may not be reachable for UID 65534), removed when the test
/// passes.
struct Tree(PathBuf);

impl Drop for Tree {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn tree(name: &str) -> Tree {
    let d = std::env::temp_dir().join(format!("bootcheck-userns-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let root = root_dir();
    let st = Command::new("cp").arg("-r").arg(root.join("scenarios")).arg(root.join("targets")).arg(&d).status();
    assert!(st.unwrap().success(), "copying scenarios/ and targets/ into {}", d.display());
    std::fs::copy(env!("CARGO_BIN_EXE_bootcheck"), d.join("bootcheck")).unwrap();
    let st = Command::new("chmod").args(["-R", "a+rX"]).arg(&d).status().unwrap();
    assert!(st.success());
    std::fs::create_dir(d.join("out")).unwrap();
    std::fs::set_permissions(d.join("out"), std::fs::Permissions::from_mode(0o777)).unwrap();
    Tree(d)
}

fn as_nobody(t: &Tree, args: &[&str]) -> Command {
    let mut c = Command::new("setpriv");
    c.args(["--reuid", &NOBODY.to_string(), "--regid", &NOBODY.to_string(), "--clear-groups", "--"])
        .arg(t.0.join("bootcheck"))
        .args(args)
        .current_dir(&t.0)
        .env("HOME", &t.0)
        .env_remove("CI");
    c
}

fn bc_namespaces() -> Vec<String> {
    std::fs::read_dir("/run/netns")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| bootcheck_lab::netns::ns_run_id(n).is_some())
                .collect()
        })
        .unwrap_or_default()
}

fn text(o: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn unprivileged_run_uses_a_lab_in_a_user_namespace() {
    if !allowed("unprivileged_run_uses_a_lab_in_a_user_namespace") {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let t = tree("run");
    let before = bc_namespaces();
    let out = t.0.join("out/r");
    let o = as_nobody(
        &t,
        &[
            "run",
            "scenarios/bootp/known-client.yaml",
            "scenarios/relay/harness-as-relay.yaml",
            "scenarios/tftp/bootp-then-tftp.yaml",
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .output()
    .unwrap();
    let all = text(&o);
    assert_eq!(o.status.code(), Some(0), "the run failed:\n{all}");
    assert!(all.contains("lab (network namespaces"), "not a lab run:\n{all}");
    assert!(all.contains("user namespace, uid 65534 mapped to 0"), "no user-namespace note:\n{all}");
    assert!(all.contains("3 passed"), "{all}");
    // The run's namespaces were private to it: the machine's /run/netns never changed.
    assert_eq!(bc_namespaces(), before);
    // Real frames were captured, into files the user owns.
    let pcaps: Vec<_> = std::fs::read_dir(out.join("pcap")).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(pcaps.len(), 3, "{pcaps:?}");
    for p in &pcaps {
        let m = std::fs::metadata(p).unwrap();
        assert_eq!(m.uid(), NOBODY, "{} belongs to uid {}", p.display(), m.uid());
        assert!(m.len() > 300, "{} holds no frames ({} bytes)", p.display(), m.len());
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let mode = report["mode"].as_str().unwrap_or_default();
    assert!(mode.starts_with("lab (") && mode.contains("user namespace"), "report.json mode: {mode}");
}

/// Children of `pid` (by /proc/*/stat's ppid), recursively.
fn descendants(pid: u32) -> Vec<u32> {
    let mut all: Vec<(u32, u32)> = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else { continue };
        let Some(rest) = stat.rsplit_once(')').map(|x| x.1) else { continue };
        let ppid = rest.split_whitespace().nth(1).and_then(|x| x.parse().ok()).unwrap_or(0);
        all.push((p, ppid));
    }
    let mut out = vec![];
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        for &(c, pp) in &all {
            if pp == p {
                out.push(c);
                todo.push(c);
            }
        }
    }
    out
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit_once(')').is_some_and(|(_, r)| !r.trim_start().starts_with('Z')))
}

#[test]
fn killed_unprivileged_run_leaves_no_process() {
    if !allowed("killed_unprivileged_run_leaves_no_process") {
        return;
    }
    let _g = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let t = tree("kill");
    let out = t.0.join("out/r");
    let mut child = as_nobody(&t, &["run", "--out", out.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // setpriv execs bootcheck in place; wait for its reference server to be up.
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut kids;
    loop {
        kids = descendants(pid);
        if kids
            .iter()
            .any(|&k| std::fs::read_to_string(format!("/proc/{k}/cmdline")).is_ok_and(|c| c.contains("refserver")))
            && Path::new(&out).join("pcap").exists()
        {
            break;
        }
        assert!(Instant::now() < deadline, "the reference server did not start within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL: no cleanup code runs.
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while kids.iter().any(|&k| alive(k)) {
        assert!(Instant::now() < deadline, "processes of the killed run still alive: {kids:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
