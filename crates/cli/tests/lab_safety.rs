//! The lab leaves nothing behind and leaks nothing, seen from outside the built binary:
//!
//! * (a) `bootcheck run` (lab mode, reference target) interrupted with SIGINT exits
//!   within 10 s, and then its namespaces, its interfaces, its state file and its
//!   `bootcheck refserver` process are gone;
//! * (b) killed with SIGKILL, it may leave them; `bootcheck lab clean` then removes
//!   them all, the orphaned reference server included;
//! * (c) while a lab run goes on, a capture on every interface of the root namespace
//!   (`any`) sees none of the lab's frames (site MACs and addresses), although it does
//!   see a control datagram on `lo`.
//!
//! Root only: without root each test prints why and passes without doing anything.
//! Processes are identified by PID (and start time), never by name: other people's
//! labs and reference servers on the same machine are left alone.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, UdpSocket};
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bootcheck_wire::frame::{Frame, LinkType, Net};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// The lab tests run one at a time (they share the machine's two cores with builds).
static SERIAL: Mutex<()> = Mutex::new(());

const STATE_DIR: &str = "/run/bootcheck/labs";

fn root_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn allowed(test: &str) -> bool {
    if !nix::unistd::geteuid().is_root() {
        eprintln!(
            "skipping {test}: network namespaces need root; run `cargo test -p bootcheck --test lab_safety` as root"
        );
        return false;
    }
    if Command::new("ip").arg("-V").output().is_err() {
        eprintln!("skipping {test}: iproute2 (`ip`) is not installed");
        return false;
    }
    true
}

/// A directory for one test under the target dir, removed when the test passes (kept
/// for a look when it fails).
struct Tmp(PathBuf);

impl std::ops::Deref for Tmp {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn tmp(name: &str) -> Tmp {
    // Per test process: another run of these tests may share the target dir.
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lab_safety").join(format!("{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Tmp(d)
}

fn cmd(argv: &[&str]) -> String {
    let out = Command::new(argv[0]).args(&argv[1..]).output().unwrap();
    assert!(out.status.success(), "{argv:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A `bootcheck run` child. Should the test give up on it (panic), it is stopped the
/// way a user would stop it (SIGINT; SIGKILL 10 s later), not left running unattended.
struct Run(Child);

impl std::ops::Deref for Run {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Run {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = kill(Pid::from_raw(self.0.id() as i32), Signal::SIGINT);
            let t0 = Instant::now();
            while matches!(self.0.try_wait(), Ok(None)) && t0.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// `bootcheck run --out OUT ARGS…` in the lab, as a child; output goes to files in
/// `dir`.
fn spawn_run(dir: &Path, out: &Path, args: &[&str]) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bootcheck"));
    c.arg("run").arg("--out").arg(out).args(args).current_dir(root_dir()).env("NO_COLOR", "1");
    c.stdout(std::fs::File::create(dir.join("stdout")).unwrap());
    c.stderr(std::fs::File::create(dir.join("stderr")).unwrap());
    c.stdin(Stdio::null());
    Run(c.spawn().unwrap())
}

fn output_of(dir: &Path) -> String {
    let read = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap_or_default();
    format!("stdout:\n{}\nstderr:\n{}", read("stdout"), read("stderr"))
}

/// A process: PID, start time (clock ticks since boot), state, command line, network
/// namespace inode.
#[derive(Debug, Clone)]
struct Proc {
    pid: i32,
    start: u64,
    state: char,
    cmdline: String,
    netns: Option<u64>,
}

fn proc_of(pid: i32) -> Option<Proc> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    // Field 22 of stat; `rest` starts at field 3.
    let start = fields.get(19)?.parse().ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ").trim().to_string();
    let netns = std::fs::read_link(format!("/proc/{pid}/ns/net"))
        .ok()
        .and_then(|l| l.to_string_lossy().strip_prefix("net:[")?.strip_suffix(']')?.parse().ok());
    Some(Proc { pid, start, state, cmdline, netns })
}

fn all_procs() -> Vec<Proc> {
    let Ok(rd) = std::fs::read_dir("/proc") else { return Vec::new() };
    rd.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).filter_map(proc_of).collect()
}

/// Whether the process with this PID and start time still runs (zombies count as
/// gone: they hold nothing).
fn alive(p: &Proc) -> bool {
    proc_of(p.pid).is_some_and(|q| q.start == p.start && q.state != 'Z')
}

/// What the run with out dir `out` started: processes whose command line names the
/// out dir (the reference server gets `--site OUT/run/site.yaml`).
fn procs_of_run(out: &Path) -> Vec<Proc> {
    let tag = out.to_str().unwrap();
    let me = std::process::id() as i32;
    all_procs().into_iter().filter(|p| p.pid != me && p.state != 'Z' && p.cmdline.contains(tag)).collect()
}

/// A lab as its state file describes it.
#[derive(Debug, Clone)]
struct LabInfo {
    id: String,
    namespaces: Vec<String>,
    /// The namespaces' nsfs inodes (to find processes still inside them).
    inodes: BTreeSet<u64>,
}

/// The lab owned by `owner`, once its state file and namespaces exist.
fn lab_of(owner: u32) -> Option<LabInfo> {
    for e in std::fs::read_dir(STATE_DIR).ok()?.flatten() {
        let Ok(text) = std::fs::read_to_string(e.path()) else { continue };
        let Ok(j) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
        if j["owner"]["pid"].as_u64() != Some(u64::from(owner)) {
            continue;
        }
        let id = j["id"].as_str()?.to_string();
        let namespaces: Vec<String> =
            j["namespaces"].as_array()?.iter().filter_map(|n| n.as_str().map(String::from)).collect();
        let inodes: BTreeSet<u64> = namespaces
            .iter()
            .filter_map(|n| std::fs::metadata(format!("/run/netns/{n}")).ok().map(|m| m.ino()))
            .collect();
        if namespaces.is_empty() || inodes.len() < namespaces.len() {
            return None;
        }
        return Some(LabInfo { id, namespaces, inodes });
    }
    None
}

fn wait_for<T>(what: &str, limit: Duration, child: &mut Run, dir: &Path, mut f: impl FnMut() -> Option<T>) -> T {
    let t0 = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if let Some(st) = child.try_wait().unwrap() {
            panic!("bootcheck exited ({st}) before {what}\n{}", output_of(dir));
        }
        if t0.elapsed() > limit {
            panic!("no {what} after {limit:?}\n{}", output_of(dir));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Start a lab run and wait until its lab is up and its reference server runs.
fn started_run(dir: &Path, out: &Path) -> (Run, LabInfo, Proc) {
    let mut child = spawn_run(dir, out, &[]);
    let pid = child.id();
    let t0 = Instant::now();
    let lab = wait_for("lab of the run", Duration::from_secs(60), &mut child, dir, || lab_of(pid));
    eprintln!("lab {} up after {:?}", lab.id, t0.elapsed());
    let listed = cmd(&["ip", "netns", "list"]);
    for ns in &lab.namespaces {
        assert!(ns.starts_with("bc") && listed.contains(ns.as_str()), "{ns} not in `ip netns list`:\n{listed}");
    }
    let server = wait_for("reference server process", Duration::from_secs(60), &mut child, dir, || {
        procs_of_run(out).into_iter().find(|p| p.cmdline.contains(" refserver "))
    });
    assert!(
        server.netns.is_some_and(|n| lab.inodes.contains(&n)),
        "the reference server (PID {}) is not in the lab's namespaces: {server:?} {lab:?}",
        server.pid
    );
    // Let a scenario or two get under way.
    wait_for("first capture file", Duration::from_secs(60), &mut child, dir, || {
        std::fs::read_dir(out.join("pcap")).ok()?.next().map(|_| ())
    });
    (child, lab, server)
}

/// Everything of `lab` and `server` that is still there.
fn leftovers(lab: &LabInfo, server: &Proc, out: &Path) -> Vec<String> {
    let mut left = Vec::new();
    let tag = format!("bc{}-", lab.id);
    for l in cmd(&["ip", "netns", "list"]).lines() {
        if l.contains(&tag) || lab.namespaces.iter().any(|n| l.split_whitespace().next() == Some(n.as_str())) {
            left.push(format!("namespace {l}"));
        }
    }
    for l in cmd(&["ip", "-o", "link", "show"]).lines() {
        if l.contains(&tag) {
            left.push(format!("root-namespace interface {l}"));
        }
    }
    let state = Path::new(STATE_DIR).join(format!("{}.json", lab.id));
    if state.exists() {
        left.push(format!("state file {}", state.display()));
    }
    if alive(server) {
        left.push(format!("reference server PID {}: {}", server.pid, server.cmdline));
    }
    for p in procs_of_run(out) {
        left.push(format!("process of the run, PID {}: {}", p.pid, p.cmdline));
    }
    for p in all_procs() {
        if p.state != 'Z' && p.netns.is_some_and(|n| lab.inodes.contains(&n)) {
            left.push(format!("process in a lab namespace, PID {}: {}", p.pid, p.cmdline));
        }
    }
    left
}

#[test]
fn sigint_stops_the_run_and_removes_everything() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !allowed("sigint_stops_the_run_and_removes_everything") {
        return;
    }
    let dir = tmp("sigint");
    let out = dir.join("out");
    let (mut child, lab, server) = started_run(&dir, &out);
    assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be interrupted\n{}", output_of(&dir));
    let t0 = Instant::now();
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t0.elapsed() > Duration::from_secs(10) {
            panic!("still running 10 s after SIGINT\n{}", output_of(&dir));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = t0.elapsed();
    eprintln!("SIGINT: exited with {status} after {took:?}");
    assert_eq!(status.code(), Some(130), "an interrupted run exits 130 (128 + SIGINT)\n{}", output_of(&dir));
    assert!(output_of(&dir).contains("interrupted"), "{}", output_of(&dir));
    let left = leftovers(&lab, &server, &out);
    assert!(left.is_empty(), "left behind after SIGINT:\n  {}\n{}", left.join("\n  "), output_of(&dir));
}

#[test]
fn sigkill_leftovers_are_removed_by_lab_clean() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !allowed("sigkill_leftovers_are_removed_by_lab_clean") {
        return;
    }
    let dir = tmp("sigkill");
    let out = dir.join("out");
    let (mut child, lab, server) = started_run(&dir, &out);
    assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed\n{}", output_of(&dir));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), None, "{status}");
    // Whatever a SIGKILLed run could not clean up (allowed to remain at this point).
    let before = leftovers(&lab, &server, &out);
    eprintln!("after SIGKILL, before `lab clean`:\n  {}", before.join("\n  "));
    let o =
        Command::new(env!("CARGO_BIN_EXE_bootcheck")).args(["lab", "clean"]).current_dir(root_dir()).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "bootcheck lab clean: {}\n{text}", o.status);
    assert!(!text.contains("panicked"), "{text}");
    let t0 = Instant::now();
    let left = loop {
        let left = leftovers(&lab, &server, &out);
        // Processes get a grace period between SIGTERM and SIGKILL; clean waits for
        // them, but allow the kernel a moment to finish.
        if left.is_empty() || t0.elapsed() > Duration::from_secs(5) {
            break left;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(left.is_empty(), "left behind after `bootcheck lab clean`:\n  {}\n{text}", left.join("\n  "));
}

/// What a capture on `any` in the root namespace saw.
#[derive(Debug, Default)]
struct Seen {
    /// Interfaces of the root namespace before the run (eth0, lo…): their ordinary
    /// traffic is the host's own, whatever its addresses (a machine may itself sit in
    /// 192.0.2.0/24, as this one's eth0 does).
    host_ifindexes: BTreeSet<u32>,
    packets: u64,
    /// Frames carrying a site MAC or address, described.
    leaks: Vec<String>,
    markers: BTreeSet<String>,
}

fn site_ip(a: Ipv4Addr) -> bool {
    let o = a.octets();
    (o[0], o[1], o[2]) == (192, 0, 2) || (o[0], o[1], o[2]) == (198, 51, 100)
}

/// A site MAC (02:00:00:00:be:xx clients, 02:00:00:00:5e:01 server) anywhere in `data`.
fn site_mac_in(data: &[u8]) -> Option<String> {
    data.windows(6)
        .find(|w| w[..5] == [0x02, 0, 0, 0, 0xbe] || *w == [0x02, 0, 0, 0, 0x5e, 0x01])
        .map(|w| w.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"))
}

fn inspect(link: LinkType, data: &[u8], seen: &mut Seen) {
    seen.packets += 1;
    if let Some(m) = site_mac_in(data) {
        seen.leaks.push(format!("a frame of {} octets carrying MAC {m}", data.len()));
        return;
    }
    let Ok(f) = Frame::parse(link, data) else { return };
    // SLL2 carries the interface index at octets 4..8.
    let ifindex = (link == LinkType::LinuxSll2)
        .then(|| data.get(4..8).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
        .flatten();
    if ifindex.is_some_and(|i| seen.host_ifindexes.contains(&i)) {
        // On a host interface, only boot traffic (the site's BOOTP, TFTP, RARP) can be
        // the lab's: a daemon started in the root namespace by mistake would send it.
        let boot_udp =
            f.udp().is_some_and(|u| [67, 68, 69].contains(&u.src_port) || [67, 68, 69].contains(&u.dst_port));
        let site = f.ipv4().is_some_and(|ip| site_ip(ip.src) || site_ip(ip.dst));
        if (boot_udp && site) || f.ethertype == bootcheck_wire::frame::ETHERTYPE_RARP {
            seen.leaks.push(format!(
                "boot traffic on host interface {}: {:?}",
                ifindex.unwrap_or(0),
                f.ipv4().map(|i| (i.src, i.dst))
            ));
        }
        if let Some(u) = f.udp() {
            if let Some(m) = String::from_utf8_lossy(u.payload).strip_prefix("bootcheck-lab-safety-control-") {
                seen.markers.insert(m.to_string());
            }
        }
        return;
    }
    if let Some(ip) = f.ipv4() {
        if site_ip(ip.src) || site_ip(ip.dst) {
            seen.leaks.push(format!("IPv4 {} > {}", ip.src, ip.dst));
        }
    }
    if let Net::Arp { body, .. } = f.net {
        if let Ok(p) = bootcheck_wire::arp::Packet::new_checked(body) {
            for a in [p.sender_ipv4(), p.target_ipv4()].into_iter().flatten() {
                if site_ip(a) {
                    seen.leaks.push(format!("ARP/RARP about {a}"));
                }
            }
        }
    }
    if let Some(u) = f.udp() {
        let text = String::from_utf8_lossy(u.payload);
        if let Some(m) = text.strip_prefix("bootcheck-lab-safety-control-") {
            seen.markers.insert(m.to_string());
        }
    }
}

/// Send a control datagram to 127.0.0.1 (it crosses `lo` in the root namespace).
fn control(marker: &str) {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = s.local_addr().unwrap();
    s.send_to(format!("bootcheck-lab-safety-control-{marker}").as_bytes(), to).unwrap();
}

#[test]
fn root_namespace_sees_no_lab_frames() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !allowed("root_namespace_sees_no_lab_frames") {
        return;
    }
    let dir = tmp("capture");
    let out = dir.join("out");
    // The capture runs in this process, in the root namespace, on every interface.
    let mut cap = pcap::Capture::from_device("any")
        .unwrap()
        .immediate_mode(true)
        .promisc(false)
        .snaplen(512)
        .open()
        .and_then(|c| c.setnonblock())
        .unwrap_or_else(|e| panic!("capture on `any`: {e}"));
    // SLL2 names the interface of each frame (libpcap ≥ 1.10 offers it on `any`).
    let _ = cap.set_datalink(pcap::Linktype(276));
    let link = LinkType::from_u32(cap.get_datalink().0 as u32);
    let stop = Arc::new(AtomicBool::new(false));
    let host_ifindexes: BTreeSet<u32> = std::fs::read_dir("/sys/class/net")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| std::fs::read_to_string(e.path().join("ifindex")).ok()?.trim().parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let seen = Arc::new(Mutex::new(Seen { host_ifindexes, ..Seen::default() }));
    let worker = {
        let (stop, seen) = (Arc::clone(&stop), Arc::clone(&seen));
        std::thread::spawn(move || {
            // Non-blocking reads, waited for with poll(2) and a timeout: a blocking read
            // on `any` can sleep until the next packet, however long that takes.
            while !stop.load(Ordering::SeqCst) {
                match cap.next_packet() {
                    Ok(p) => inspect(link, p.data, &mut seen.lock().unwrap()),
                    Err(pcap::Error::TimeoutExpired) => {
                        let mut fds = [PollFd::new(cap.as_fd(), PollFlags::POLLIN)];
                        match nix::poll::poll(&mut fds, PollTimeout::from(50u16)) {
                            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                            Err(e) => panic!("poll on the capture: {e}"),
                        }
                    }
                    Err(e) => panic!("capture: {e}"),
                }
            }
            cap.stats().ok()
        })
    };
    let wait_marker = |m: &str| {
        let t0 = Instant::now();
        while !seen.lock().unwrap().markers.contains(m) {
            assert!(t0.elapsed() < Duration::from_secs(5), "the capture on `any` did not see the control datagram {m}");
            control(m);
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    wait_marker("before");
    // A whole lab run: BOOTP, DHCP, relay, RARP, TFTP (the rollover scenario moves
    // 65538 blocks) between the lab's namespaces.
    let mut child = spawn_run(&dir, &out, &[]);
    let t0 = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t0.elapsed() > Duration::from_secs(300) {
            panic!("the lab run took more than 5 minutes\n{}", output_of(&dir));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    eprintln!("the lab run took {:?}", t0.elapsed());
    wait_marker("after");
    stop.store(true, Ordering::SeqCst);
    let stats = worker.join().unwrap();
    let seen = seen.lock().unwrap();
    eprintln!("capture on `any`: {} packets, stats {stats:?}", seen.packets);
    assert!(status.success(), "the lab run failed ({status})\n{}", output_of(&dir));
    // The run really moved frames in its lab.
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert!(report["totals"]["passed"].as_u64().unwrap_or(0) >= 20, "{report:#}");
    assert!(
        seen.leaks.is_empty(),
        "the root namespace saw {} lab frame(s), e.g.:\n  {}",
        seen.leaks.len(),
        seen.leaks.iter().take(20).cloned().collect::<Vec<_>>().join("\n  ")
    );
}
