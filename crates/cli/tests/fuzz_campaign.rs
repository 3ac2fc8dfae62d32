//! Proof that `bootcheck fuzz` finds what it is for: against the reference server in
//! the lab with `crash-on-option=150` and with `hang-on-overload` (fault switches of
//! `bootcheck-refserver`), a campaign with a fixed seed and packet budget finds the
//! crash (the server process exits) and the hang (the liveness probe goes unanswered),
//! minimises it to one packet, and writes a reproducer that `bootcheck run` fails with
//! the fault and passes without it.
//!
//! Option 150 is in none of the seed requests: the mutations have to put it there.
//! Option 52 is in some seeds (the overload scenarios), and mutations add it too.
//!
//! Relay agents (`--relay`): no relay here crashes on demand, so the proof is made with
//! what is real — a clean campaign through dhcrelay (fuzzed requests forwarded, replies
//! delivered, probes answered through it, nothing reported), the reference server's crash
//! fault behind dhcrelay (reported as the server's, replayed through the relay), and
//! dhcrelay killed by PID mid-campaign (reported as the relay's).
//!
//! Needs root (the lab: network namespaces, veth, raw frames). As a normal user it says
//! why and passes, except under `CI=true`, where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The fixed budget: a campaign that has not found the fault by then fails the test.
const MAX_PACKETS: &str = "3000";
const SEED: &str = "7";
/// Until the first finding (with `fault`), which is minimised in bounded time.
const FIRST_FINDING: [&str; 16] = [
    "--seed",
    SEED,
    "--max-packets",
    MAX_PACKETS,
    "--batch",
    "25",
    "--max-findings",
    "1",
    "--minimize-trials",
    "40",
    "--minimize-time",
    "30s",
    "--duration",
    "60s",
    "--probe-timeout",
    "300ms",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn bootcheck(args: &[&str]) -> (Output, Duration) {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_bootcheck"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("running bootcheck {args:?}: {e}"));
    (out, t.elapsed())
}

fn text(o: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn can_run() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    assert!(!in_ci(), "CI is set: the fuzz campaign test must run, and it needs root (the lab)");
    eprintln!(
        "skipped: the fuzz campaign needs the lab as root (euid {}); run `cargo test -p bootcheck --test fuzz_campaign` as root",
        nix::unistd::geteuid()
    );
    false
}

/// Fuzz with `fault` until the first finding; check it and replay its reproducer.
fn find_and_replay(fault: &str, kind: &str) {
    let dir = fresh_dir(kind);
    let out = dir.join("campaign");
    let mut args = vec!["fuzz", "--target", "reference", "--fault", fault, "--rate", "500"];
    args.extend(FIRST_FINDING);
    args.extend(["--format", "json", "--out", out.to_str().unwrap()]);
    let (o, took) = bootcheck(&args);
    assert_eq!(o.status.code(), Some(1), "a finding exits 1\n{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}\n{}", text(&o)));
    let f = &report["findings"][0];
    assert_eq!(f["kind"], kind, "{report:#}");
    assert_eq!(f["confirmed"], true, "{report:#}");
    assert_eq!(f["minimized_packets"], 1, "one packet does it: {report:#}");
    assert!(f["classes"].as_array().is_some_and(|c| !c.is_empty()), "{report:#}");
    let packets = report["packets"].as_u64().unwrap();
    assert!(packets <= MAX_PACKETS.parse().unwrap(), "{report:#}");
    let yaml = PathBuf::from(f["repro_yaml"].as_str().unwrap());
    let pcap = PathBuf::from(f["repro_pcap"].as_str().unwrap());
    assert!(yaml.is_file() && pcap.is_file(), "{report:#}");
    assert!(out.join("fuzz-report.json").is_file());
    eprintln!(
        "{fault}: {kind} found after {packets} packets, class {}, {} minimisation trials; campaign {:.1}s",
        f["classes"],
        f["minimize_trials"],
        took.as_secs_f64()
    );

    // The reproducer fails against the faulted server…
    let (o, took) = bootcheck(&[
        "run",
        "--target",
        "reference",
        "--fault",
        fault,
        "--out",
        dir.join("faulted").to_str().unwrap(),
        yaml.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "the reproducer fails with --fault {fault}\n{}", text(&o));
    eprintln!("{fault}: replay with the fault fails ({:.1}s)", took.as_secs_f64());
    // …and passes against the same server without the fault.
    let (o, took) = bootcheck(&[
        "run",
        "--target",
        "reference",
        "--out",
        dir.join("clean").to_str().unwrap(),
        yaml.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "the reproducer passes without the fault\n{}", text(&o));
    eprintln!("{fault}: replay without the fault passes ({:.1}s)", took.as_secs_f64());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fuzz_finds_a_crash_and_a_hang_and_writes_reproducers() {
    if !can_run() {
        return;
    }
    let t = Instant::now();
    find_and_replay("crash-on-option=150", "crash");
    find_and_replay("hang-on-overload", "hang");
    eprintln!("fuzz campaign proof: {:.1}s", t.elapsed().as_secs_f64());
}

#[test]
fn bad_input_exits_2() {
    for args in [
        vec!["fuzz", "--target", "reference", "--rate", "0"],
        vec!["fuzz", "--target", "reference", "--class", "no-such-class"],
        vec!["fuzz", "--target", "reference", "--fault", "no-such-fault"],
        vec!["fuzz", "--target", "reference", "--duration", "soon"],
        vec!["fuzz", "--target", "reference", "--format", "junit"],
    ] {
        let (o, _) = bootcheck(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}\n{}", text(&o));
        assert!(String::from_utf8_lossy(&o.stderr).contains("error:"), "{args:?}\n{}", text(&o));
    }
}

// ---------------------------------------------------------------------------------
// Relay agents (`--relay`): the relay is the subject, the reference server behind it.

/// An empty scratch dir of this test process.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bootcheck-fuzz-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// [`fresh_dir`], where the lab can run (see [`can_run`]).
fn lab_scratch(name: &str) -> Option<PathBuf> {
    can_run().then(|| fresh_dir(name))
}

/// `bootcheck fuzz` through `relay` in front of the reference server, with `extra`
/// arguments, a JSON report and `out` as its out dir.
fn relay_args<'a>(relay: &'a str, extra: &[&'a str], out: &'a Path) -> Vec<&'a str> {
    let mut args = vec!["fuzz", "--target", "reference", "--relay", relay, "--rate", "500"];
    args.extend_from_slice(extra);
    args.extend(["--format", "json", "--out", out.to_str().unwrap()]);
    args
}

/// The report of a relay campaign (see [`relay_args`]).
fn relay_campaign(relay: &str, extra: &[&str], out: &Path) -> (Output, serde_json::Value, Duration) {
    let (o, took) = bootcheck(&relay_args(relay, extra, out));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}\n{}", text(&o)));
    (o, report, took)
}

/// Fuzzing through dhcrelay with a fixed seed and budget: every packet went out, the
/// relay forwarded fuzzed requests to the server and delivered its replies (the probes,
/// a BOOTREQUEST from a client behind the relay, were answered through it after every
/// batch), its RSS was sampled, and nothing was reported: no false crash or hang.
#[test]
fn fuzz_through_dhcrelay_relays_and_reports_nothing_false() {
    let Some(dir) = lab_scratch("relay-clean") else { return };
    let (o, r, took) = relay_campaign(
        "dhcrelay",
        &["--seed", "1", "--max-packets", "1000", "--batch", "50", "--probe-timeout", "300ms"],
        &dir,
    );
    assert_eq!(o.status.code(), Some(0), "nothing found exits 0\n{}", text(&o));
    assert_eq!(r["relay"], "dhcrelay", "{r:#}");
    assert_eq!(r["target"], "reference", "{r:#}");
    assert_eq!(r["packets"], 1000, "{r:#}");
    assert_eq!(r["stopped"], "max-packets", "{r:#}");
    assert_eq!(r["protocols"], serde_json::json!(["bootp"]), "only BOOTP goes through a relay: {r:#}");
    assert!(r["seeds"]["bootp"].as_u64().unwrap() > 100, "relay scenarios' and re-addressed direct seeds: {r:#}");
    assert!(r["findings"].as_array().unwrap().is_empty(), "no false crash or hang: {r:#}");
    // A probe after each of the 20 batches (and the calibration's), answered through
    // the relay: a retried probe would mean a lost answer.
    assert!(r["probes"].as_u64().unwrap() >= 21, "{r:#}");
    let forwarded = r["relayed"]["forwarded"].as_u64().unwrap();
    let replies = r["relayed"]["replies"].as_u64().unwrap();
    assert!((200..=1000).contains(&forwarded), "dhcrelay forwarded fuzzed requests: {r:#}");
    assert!(replies > 0 && replies <= forwarded, "the server answered some through it: {r:#}");
    assert!(r["rss"]["samples"].as_u64().unwrap() >= 20, "the relay's RSS, after every batch: {r:#}");
    eprintln!(
        "dhcrelay: {} packets, {forwarded} forwarded, {replies} replies, {} probes ({} retried) in {:.1}s",
        r["packets"],
        r["probes"],
        r["probe_retries"],
        took.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A crash of the server behind the relay is the server's: the reference server with
/// `crash-on-option=150` behind dhcrelay (which forwards option 150 as it came) exits;
/// the finding names the server, not the relay, is minimised to one packet, and its
/// reproducer — a relay-topology scenario — fails with `bootcheck run --relay dhcrelay`
/// and the fault, and passes without it.
#[test]
fn a_server_crash_behind_a_relay_is_the_servers_and_replays_through_the_relay() {
    let Some(dir) = lab_scratch("relay-server-crash") else { return };
    let mut extra = vec!["--fault", "crash-on-option=150"];
    extra.extend(FIRST_FINDING);
    let (o, r, took) = relay_campaign("dhcrelay", &extra, &dir.join("campaign"));
    assert_eq!(o.status.code(), Some(1), "a finding exits 1\n{}", text(&o));
    let f = &r["findings"][0];
    assert_eq!(f["kind"], "crash", "{r:#}");
    assert_eq!((&f["role"], &f["process"]), (&serde_json::json!("server"), &serde_json::json!("reference")), "{r:#}");
    assert!(f["detail"].as_str().unwrap().contains("behind the relay exited"), "{r:#}");
    assert_eq!(f["confirmed"], true, "{r:#}");
    assert_eq!(f["minimized_packets"], 1, "{r:#}");
    let yaml = PathBuf::from(f["repro_yaml"].as_str().unwrap());
    let scn = std::fs::read_to_string(&yaml).unwrap();
    assert!(scn.contains("\ntopology: relay\n") && scn.contains("\nclient: ws3\n"), "{scn}");
    assert!(f["replay"].as_str().unwrap().contains("--relay dhcrelay"), "{r:#}");
    eprintln!("server crash behind dhcrelay: found and minimised in {:.1}s", took.as_secs_f64());
    let replay = |fault: Option<&str>, sub: &str| {
        let out = dir.join(sub);
        let mut args = vec!["run", "--target", "reference", "--relay", "dhcrelay", "--out", out.to_str().unwrap()];
        if let Some(f) = fault {
            args.extend(["--fault", f]);
        }
        args.push(yaml.to_str().unwrap());
        bootcheck(&args).0
    };
    let o = replay(Some("crash-on-option=150"), "faulted");
    assert_eq!(o.status.code(), Some(1), "the reproducer fails with the fault\n{}", text(&o));
    let o = replay(None, "clean");
    assert_eq!(o.status.code(), Some(0), "the reproducer passes without the fault\n{}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A crash of the relay is the relay's: dhcrelay is killed (SIGKILL, by its PID, read
/// from the campaign's lab state) once the campaign fuzzes; the finding names the relay,
/// and, since a replay does not kill it again, says it was not reproduced.
#[test]
fn a_relay_killed_mid_campaign_is_a_relay_crash() {
    use std::io::BufRead;
    let Some(dir) = lab_scratch("relay-killed") else { return };
    let extra = [
        "--seed",
        "3",
        "--duration",
        "30s",
        "--batch",
        "30",
        "--max-findings",
        "1",
        "--minimize-trials",
        "10",
        "--minimize-time",
        "15s",
        "--probe-timeout",
        "300ms",
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_bootcheck"))
        .args(relay_args("dhcrelay", &extra, &dir))
        .current_dir(root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let me = i32::try_from(child.id()).unwrap();
    // Once calibrated ("probes: …"), the campaign is fuzzing: kill the relay.
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    for l in lines.by_ref() {
        let l = l.unwrap();
        let go = l.starts_with("probes:");
        seen.push(l);
        if go {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let state = bootcheck_lab::list()
        .into_iter()
        .flatten()
        .find(|s| s.owner.as_ref().is_some_and(|o| o.pid == me))
        .unwrap_or_else(|| panic!("no lab owned by the campaign (pid {me}); its stderr:\n{}", seen.join("\n")));
    let relay_ns = state.names.relay_ns.clone().unwrap();
    let relay = state
        .pids
        .iter()
        .filter(|p| p.ns == relay_ns && p.argv.iter().any(|a| a.ends_with("dhcrelay")))
        .map(|p| bootcheck_lab::ProcId { pid: p.pid, start_time: p.start_time })
        .find(bootcheck_lab::ProcId::alive)
        .unwrap_or_else(|| panic!("no running dhcrelay in the lab state: {:?}", state.pids));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(relay.pid), nix::sys::signal::Signal::SIGKILL).unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let o = child.wait_with_output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!("{e}\nstdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&o.stdout), rest.join("\n"))
    });
    assert_eq!(o.status.code(), Some(1), "a finding exits 1\n{report:#}");
    let f = &report["findings"][0];
    assert_eq!(f["kind"], "crash", "{report:#}");
    assert_eq!(
        (&f["role"], &f["process"]),
        (&serde_json::json!("relay"), &serde_json::json!("dhcrelay")),
        "{report:#}"
    );
    let detail = f["detail"].as_str().unwrap();
    assert!(detail.starts_with("the relay agent dhcrelay exited") && detail.contains("9"), "{report:#}");
    assert_eq!(f["confirmed"], false, "a kill is not in the packets: {report:#}");
    let _ = std::fs::remove_dir_all(&dir);
}
