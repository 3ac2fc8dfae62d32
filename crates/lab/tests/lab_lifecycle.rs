//! Lab lifecycle: build, teardown on every path (normal, panic, killed owner), and what
//! is left on the machine afterwards.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::Path;

use bootcheck_lab::{in_namespace, EtcFile, Lab, LabError, LabSpec, Role, SpawnOptions, Topology};
use common::{eventually, lab, lab_allowed, ns_links, root_links, site, traces_of};

fn assert_built_inside_namespaces(lab: &Lab) {
    let n = lab.names();
    let root = root_links();
    for ifname in [Some(&n.client_if), Some(&n.server_if), n.relay_client_if.as_ref(), n.relay_server_if.as_ref()]
        .into_iter()
        .flatten()
    {
        assert!(!root.contains(ifname.as_str()), "{ifname} is in the root namespace:\n{root}");
    }
    assert!(ns_links(&n.client_ns).contains(&n.client_if));
    assert!(ns_links(&n.server_ns).contains(&n.server_if));
    assert!(ns_links(&n.server_ns).contains(&n.server_mac.to_string()));
    if let Some(r) = &n.relay_ns {
        let l = ns_links(r);
        assert!(l.contains(n.relay_client_if.as_deref().unwrap()) && l.contains(n.relay_server_if.as_deref().unwrap()));
    }
}

#[test]
fn lab_up_then_down_leaves_no_namespace_veth_or_etc_dir() {
    if !lab_allowed("lab_up_then_down_leaves_no_namespace_veth_or_etc_dir") {
        return;
    }
    for topology in [Topology::Direct, Topology::Relay] {
        let lab = lab(topology);
        let id = lab.id().to_string();
        assert_built_inside_namespaces(&lab);
        let state = lab.state();
        assert_eq!(state.namespaces.len(), if topology == Topology::Relay { 3 } else { 2 });
        assert!(Path::new(&format!("/run/bootcheck/labs/{id}.json")).exists());
        assert!(Path::new(&format!("/etc/netns/bc{id}-srv/hosts")).exists());
        lab.down().unwrap();
        eventually(&format!("no trace of lab {id}"), || traces_of(&id).is_empty());
    }
}

#[test]
fn dropping_the_lab_tears_it_down() {
    if !lab_allowed("dropping_the_lab_tears_it_down") {
        return;
    }
    let id = {
        let lab = lab(Topology::Direct);
        lab.id().to_string()
    };
    eventually(&format!("no trace of lab {id}"), || traces_of(&id).is_empty());
}

#[test]
fn panic_inside_a_lab_scope_tears_the_lab_down() {
    if !lab_allowed("panic_inside_a_lab_scope_tears_the_lab_down") {
        return;
    }
    let seen = std::sync::Mutex::new(String::new());
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let lab = lab(Topology::Relay);
        *seen.lock().unwrap() = lab.id().to_string();
        // Left running on purpose: the teardown during unwinding must stop it.
        let sleeper = lab.exec(Role::Server, &["sleep", "300"], &[]).unwrap();
        std::mem::forget(sleeper);
        panic!("scenario blew up");
    }));
    assert!(r.is_err());
    let id = seen.lock().unwrap().clone();
    assert!(!id.is_empty());
    eventually(&format!("no trace of lab {id} after the panic"), || traces_of(&id).is_empty());
}

#[test]
fn exec_runs_inside_the_namespace_with_its_etc_files_and_teardown_stops_it() {
    if !lab_allowed("exec_runs_inside_the_namespace_with_its_etc_files_and_teardown_stops_it") {
        return;
    }
    let ethers_existed = Path::new("/etc/ethers").exists();
    let mut spec = LabSpec::new(site(), Topology::Direct);
    spec.etc_files.push(EtcFile {
        role: Role::Server,
        name: "ethers".into(),
        content: "02:00:00:00:be:01 ws1\n".into(),
    });
    let lab = Lab::up(&spec).unwrap();
    let id = lab.id().to_string();
    assert!(Path::new("/etc/ethers").exists(), "the bind-mount target must exist");
    let dir = tempdir("exec");
    let log = dir.join("out.log");
    let opts = SpawnOptions { log: Some(log.clone()), ..SpawnOptions::default() };
    let root_v6 = std::fs::read_to_string("/proc/sys/net/ipv6/conf/all/disable_ipv6").ok();
    let script = "cat /etc/ethers; cat /etc/hosts; ip -o link show; ip -o -4 addr show; \
                  echo ipv6-off=$(cat /proc/sys/net/ipv6/conf/all/disable_ipv6)";
    let mut c = lab.exec_with(Role::Server, &["sh", "-c", script], &opts).unwrap();
    assert!(c.wait().unwrap().success());
    let out = std::fs::read_to_string(&log).unwrap();
    assert!(out.contains("02:00:00:00:be:01 ws1"), "{out}");
    assert!(out.contains("192.0.2.1\tbootsrv"), "{out}");
    assert!(out.contains(&lab.names().server_if), "{out}");
    assert!(out.contains("192.0.2.1/24 brd 192.0.2.255"), "{out}");
    assert!(!out.contains("eth0"), "the server namespace must not see root interfaces: {out}");
    if root_v6.is_some() {
        assert!(out.contains("ipv6-off=1"), "{out}");
        assert_eq!(
            std::fs::read_to_string("/proc/sys/net/ipv6/conf/all/disable_ipv6").ok(),
            root_v6,
            "root ns untouched"
        );
    }

    // A long-running process: recorded by PID, stopped at teardown.
    let mut sleeper = lab.exec(Role::Client, &["sleep", "300"], &[]).unwrap();
    let pid = i32::try_from(sleeper.id()).unwrap();
    assert!(lab.state().pids.iter().any(|p| p.pid == pid));
    // `ip netns exec` enters the namespace just after the spawn returns.
    eventually("the sleeper in the client namespace", || lab.ns_pids(Role::Client).unwrap().contains(&pid));
    lab.down().unwrap();
    // It was signalled; reap our child and check it is gone.
    let status = sleeper.wait().unwrap();
    assert!(!status.success());
    eventually(&format!("no trace of lab {id}"), || traces_of(&id).is_empty());
    assert_eq!(Path::new("/etc/ethers").exists(), ethers_existed, "/etc/ethers restored to how it was");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn raw_ports_and_namespace_threads_refuse_non_lab_namespaces() {
    // Needs no privilege: refused before anything is opened.
    for ns in ["", "default", "bt-srv", "../../proc/1/ns/net", "bc12345g-srv"] {
        match in_namespace(ns, || Ok(())) {
            Err(LabError::Unsafe(_)) => {}
            other => panic!("{ns:?}: expected a refusal, got {other:?}"),
        }
    }
}

#[test]
fn stale_lab_with_a_live_owner_is_left_alone() {
    if !lab_allowed("stale_lab_with_a_live_owner_is_left_alone") {
        return;
    }
    let lab = lab(Topology::Direct);
    let report = Lab::reap_stale().unwrap();
    assert!(report.kept.iter().any(|k| k == lab.id()), "{report:?}");
    assert!(traces_of(lab.id()).iter().any(|t| t.starts_with("netns")));
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("bootcheck-lab-test-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
