//! Target profiles: loading with located errors, rendering, and starting/stopping
//! processes inside the lab by PID with each readiness kind.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bootcheck_lab::{LabError, LabNames, Role, StartOptions, Target, Topology};
use bootcheck_scenario::Mac;
use common::{lab, lab_allowed, repo_root, site};

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bootcheck-target-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn profile(text: &str) -> Target {
    Target::from_str(Path::new("/nonexistent/targets/test.yaml"), text).unwrap()
}

fn fake_names() -> LabNames {
    LabNames {
        id: "0a0b0c".into(),
        topology: Topology::Direct,
        client_ns: "bc0a0b0c-cli".into(),
        server_ns: "bc0a0b0c-srv".into(),
        relay_ns: None,
        client_if: "bc0a0b0c-c0".into(),
        server_if: "bc0a0b0c-s0".into(),
        relay_client_if: None,
        relay_server_if: None,
        client_mac: Mac([2, 0xbc, 0x0a, 0x0b, 0x0c, 1]),
        server_mac: Mac([2, 0, 0, 0, 0x5e, 1]),
        relay_client_mac: None,
        relay_server_mac: None,
    }
}

#[test]
fn reference_profile_loads_and_renders_the_refserver_command() {
    let t = Target::load_named(&repo_root().join("targets"), "reference").unwrap();
    assert_eq!(t.name(), "reference");
    assert_eq!(t.role(), Role::Server);
    let opts = StartOptions {
        bootcheck_exe: Some("/usr/bin/bootcheck".into()),
        site_file: Some("/runs/1/site.yaml".into()),
        ..StartOptions::default()
    };
    let argv = t.render_command(&fake_names(), &site(), Path::new("/runs/1"), &opts).unwrap();
    assert_eq!(argv, ["/usr/bin/bootcheck", "refserver", "--site", "/runs/1/site.yaml", "--iface", "bc0a0b0c-s0"]);
}

#[test]
fn context_exposes_site_lab_and_filters() {
    let t = profile(
        r#"
name: ctx
command:
  - "{{ site.server.ip }} {{ site.server.mac | mac_hex }} {{ site.netmask }} {{ site.prefix }}"
  - "{{ site.relay.broadcast }} {{ site.clients.ws2.bootfile_path }} {{ site.files['pxelinux.0'].blocks512 }}"
  - "{{ lab.ns }} {{ lab.iface }} {{ lab.tftp_root }} {{ site.server.ip | ip_hex }} {{ answer }}"
readiness: { delay: 10ms }
"#,
    );
    let mut opts = StartOptions { bootcheck_exe: Some("/x".into()), ..StartOptions::default() };
    opts.vars = BTreeMap::from([("answer".to_string(), serde_json::json!(42))]);
    let argv = t.render_command(&fake_names(), &site(), Path::new("/run/d"), &opts).unwrap();
    assert_eq!(argv[0], "192.0.2.1 020000005e01 255.255.255.0 24");
    assert_eq!(argv[1], "198.51.100.255 /tftpboot/boot/kernel.img 196");
    assert_eq!(argv[2], "bc0a0b0c-srv bc0a0b0c-s0 /run/d/tftp c0000201 42");
    // Strict undefined: a typo is an error naming the template, not an empty string.
    let typo = profile("name: t\ncommand: [\"{{ site.server.ipp }}\"]\nreadiness: { delay: 1ms }\n");
    let e = typo.render_command(&fake_names(), &site(), Path::new("/r"), &opts).unwrap_err();
    assert!(matches!(e, LabError::Template { .. }), "{e}");
}

#[test]
fn profile_errors_name_file_line_and_column() {
    let path = Path::new("targets/bad.yaml");
    let cases = [
        ("name: x\ncommand: [a]\nreadiness: { delay: 1s }\nforkz: true\n", "targets/bad.yaml:4:1", "forkz"),
        ("name: x\ncommand: [a]\nreadiness: { log-line: '(' }\n", "targets/bad.yaml:3:", "regex"),
        ("name: x\ncommand: [a]\nreadiness: { delay: 1s }\nstop-signal: SIGNOPE\n", "targets/bad.yaml:4:", "signal"),
        ("name: x\ncommand: [a]\nreadiness: { delay: soon }\n", "targets/bad.yaml:3:", "duration"),
        ("name: x\ncommand: [a]\nreadiness: { udp-port: 99999 }\n", "targets/bad.yaml:3:", "99999"),
        ("name: x\ncommand: [\"{{ oops\"]\nreadiness: { delay: 1s }\n", "targets/bad.yaml:2:", "template"),
        (
            "name: x\ncommand: [a]\nreadiness: { delay: 1s }\nconfig:\n  - path: ../escape\n    template: x\n",
            "targets/bad.yaml:5:",
            "..",
        ),
        (
            "name: x\ncommand: [a]\nreadiness: { delay: 1s }\nconfig:\n  - path: a.conf\n",
            "targets/bad.yaml:4:",
            "exactly one",
        ),
    ];
    for (text, at, word) in cases {
        let e = Target::from_str(path, text).unwrap_err().to_string();
        assert!(e.starts_with(at), "expected {at}… for {text:?}, got: {e}");
        assert!(e.to_lowercase().contains(word), "expected `{word}` in: {e}");
    }
    // Both log forms parse.
    profile("name: x\ncommand: [a]\nreadiness: { delay: 1s }\nlog: stderr\n");
    profile("name: x\ncommand: [a]\nreadiness: { delay: 1s }\nlog: { file: x.log }\n");
}

/// A stand-in for `bootcheck refserver`: checks its arguments and its namespace,
/// announces readiness, then waits.
fn stub_refserver(dir: &Path) -> PathBuf {
    let p = dir.join("bootcheck-stub");
    std::fs::write(
        &p,
        "#!/bin/sh\n\
         echo \"stub args: $*\" >&2\n\
         [ \"$1\" = refserver ] || exit 9\n\
         [ -f \"$3\" ] || exit 8\n\
         ip -o link show \"$5\" >/dev/null || exit 7\n\
         echo \"refserver: ready on $5\" >&2\n\
         exec sleep 300\n",
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

#[test]
fn reference_profile_starts_a_refserver_in_the_server_namespace_and_stops_it_by_pid() {
    if !lab_allowed("reference_profile_starts_a_refserver_in_the_server_namespace_and_stops_it_by_pid") {
        return;
    }
    let lab = lab(Topology::Direct);
    let dir = tempdir("ref");
    let t = Target::load_named(&repo_root().join("targets"), "reference").unwrap();
    let opts = StartOptions { bootcheck_exe: Some(stub_refserver(&dir)), ..StartOptions::default() };
    let run_dir = dir.join("run");
    let rt = t.start_with(&lab, lab.site(), &run_dir, &opts).unwrap();
    assert!(rt.is_alive());
    let pid = rt.pid();
    assert!(lab.ns_pids(Role::Server).unwrap().contains(&pid), "runs in the server namespace");
    let log = std::fs::read_to_string(rt.log_path()).unwrap();
    assert!(log.contains(&format!("--iface {}", lab.names().server_if)), "{log}");
    // The run dir holds the site it was given and the TFTP root with every site file.
    let written = bootcheck_scenario::load_site(&run_dir.join("site.yaml")).unwrap();
    assert_eq!(&written, lab.site());
    for (name, f) in &lab.site().files {
        assert_eq!(std::fs::metadata(run_dir.join("tftp").join(name)).unwrap().len(), f.size, "{name}");
    }
    rt.stop().unwrap();
    assert!(!Path::new(&format!("/proc/{pid}")).exists() || !lab.ns_pids(Role::Server).unwrap().contains(&pid));
    assert!(lab.state().pids.iter().all(|p| p.pid != pid), "record dropped after stop");
    let _ = std::fs::remove_dir_all(dir);
}

/// Not a test on its own: the UDP server started by
/// `udp_port_readiness_waits_for_a_socket_in_the_target_namespace`.
#[test]
fn udp_listen_helper() {
    let Some(port) = std::env::var("BOOTCHECK_TEST_UDP_PORT").ok() else { return };
    std::thread::sleep(Duration::from_millis(300));
    let _s = std::net::UdpSocket::bind(format!("0.0.0.0:{port}")).unwrap();
    eprintln!("bound udp {port}");
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn udp_port_readiness_waits_for_a_socket_in_the_target_namespace() {
    if !lab_allowed("udp_port_readiness_waits_for_a_socket_in_the_target_namespace") {
        return;
    }
    let lab = lab(Topology::Direct);
    let dir = tempdir("udp");
    let t = profile(
        r#"
name: udp-helper
command: ["{{ test_exe }}", "--exact", "udp_listen_helper", "--nocapture", "--test-threads=1"]
env: { BOOTCHECK_TEST_UDP_PORT: "6767" }
readiness: { udp-port: 6767 }
readiness-timeout: 20s
"#,
    );
    let mut opts = StartOptions::default();
    opts.vars.insert("test_exe".into(), serde_json::json!(std::env::current_exe().unwrap()));
    let t0 = Instant::now();
    let rt = t.start_with(&lab, lab.site(), &dir, &opts).unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(300), "ready only once bound");
    // The socket is in the server namespace, not in ours.
    assert!(std::net::UdpSocket::bind("0.0.0.0:6767").is_ok(), "port 6767 is free in the root namespace");
    let log = std::fs::read_to_string(rt.log_path()).unwrap();
    assert!(log.contains("bound udp 6767"), "{log}");
    rt.stop().unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn forking_target_is_found_with_netns_pids_and_stopped_by_pid() {
    if !lab_allowed("forking_target_is_found_with_netns_pids_and_stopped_by_pid") {
        return;
    }
    let lab = lab(Topology::Relay);
    let dir = tempdir("fork");
    let t = profile(
        r#"
name: forker
command: ["sh", "-c", "sleep 300 </dev/null >/dev/null 2>&1 & echo forked"]
namespace: relay
forks: true
readiness: { delay: 50ms }
stop-signal: TERM
"#,
    );
    let rt = t.start(&lab, lab.site(), &dir).unwrap();
    let pid = rt.pid();
    assert!(rt.is_alive());
    assert!(lab.ns_pids(Role::Relay).unwrap().contains(&pid), "the daemon, found in the relay namespace");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(cmdline.starts_with(b"sleep\x00300"), "{:?}", String::from_utf8_lossy(&cmdline));
    assert!(lab.state().pids.iter().any(|p| p.pid == pid), "recorded in the state file");
    rt.stop().unwrap();
    assert!(!lab.ns_pids(Role::Relay).unwrap().contains(&pid));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn target_that_exits_early_is_reported_with_its_log_tail() {
    if !lab_allowed("target_that_exits_early_is_reported_with_its_log_tail") {
        return;
    }
    let lab = lab(Topology::Direct);
    let dir = tempdir("crash");
    let t = profile("name: crasher\ncommand: [sh, -c, 'echo boom-marker >&2; exit 3']\nreadiness: { delay: 5s }\n");
    let t0 = Instant::now();
    let e = t.start(&lab, lab.site(), &dir).unwrap_err();
    assert!(t0.elapsed() < Duration::from_secs(4), "noticed before the readiness delay");
    match &e {
        LabError::Exited { target, log_tail, .. } => {
            assert_eq!(target, "crasher");
            assert!(log_tail.contains("boom-marker"), "{e}");
        }
        other => panic!("expected Exited, got {other}"),
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn readiness_timeout_stops_the_target_and_shows_its_log() {
    if !lab_allowed("readiness_timeout_stops_the_target_and_shows_its_log") {
        return;
    }
    let lab = lab(Topology::Direct);
    let dir = tempdir("slow");
    let t = profile(
        "name: slow\ncommand: [sh, -c, 'echo starting-up; exec sleep 300']\n\
         readiness: { log-line: '^listening' }\nreadiness-timeout: 300ms\n",
    );
    let e = t.start(&lab, lab.site(), &dir).unwrap_err();
    match &e {
        LabError::NotReady { log_tail, .. } => assert!(log_tail.contains("starting-up"), "{e}"),
        other => panic!("expected NotReady, got {other}"),
    }
    assert!(e.to_string().contains("/^listening/"), "{e}");
    assert_eq!(lab.ns_pids(Role::Server).unwrap(), Vec::<i32>::new(), "stopped after the failed start");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn missing_binary_names_the_debian_package() {
    if !lab_allowed("missing_binary_names_the_debian_package") {
        return;
    }
    let lab = lab(Topology::Direct);
    let dir = tempdir("missing");
    let t = profile(
        "name: ghost\ndebian-package: [ghost-server]\nbinary: /usr/sbin/bootcheck-no-such-daemon\n\
         command: [/usr/sbin/bootcheck-no-such-daemon]\nreadiness: { delay: 1ms }\n",
    );
    let e = t.start(&lab, lab.site(), &dir).unwrap_err().to_string();
    assert!(e.contains("apt-get install ghost-server") && e.contains("/usr/sbin/bootcheck-no-such-daemon"), "{e}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn config_templates_and_netns_etc_files_are_rendered_from_the_site() {
    if !lab_allowed("config_templates_and_netns_etc_files_are_rendered_from_the_site") {
        return;
    }
    let lab = lab(Topology::Direct);
    let dir = tempdir("cfg");
    let t = profile(
        r#"
name: cfg
config:
  - path: conf/hosts.conf
    template: |
      {% for name, c in site.clients | items %}{{ name }}:ha={{ c.mac | mac_hex }}:ip={{ c.ip }}:
      {% endfor %}
  - path: state/leases
    template: ""
netns-etc:
  ethers: |
    {% for name, c in site.clients | items %}{{ c.mac }} {{ c.hostname }}
    {% endfor %}
command: [sh, -c, 'cat conf/hosts.conf /etc/ethers; exec sleep 300']
readiness: { log-line: 'ws3' }
"#,
    );
    let rt = t.start(&lab, lab.site(), &dir).unwrap();
    let log = std::fs::read_to_string(rt.log_path()).unwrap();
    assert!(log.contains("ws1:ha=02000000be01:ip=192.0.2.21:"), "{log}");
    assert!(log.contains("02:00:00:00:be:03 ws3"), "{log}");
    assert_eq!(std::fs::metadata(dir.join("state/leases")).unwrap().len(), 0, "an empty template, an empty file");
    rt.stop().unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn tftp_root_is_a_site_template_and_clients_say_which_subnet_they_are_on() {
    let t = profile(
        r#"
name: root
tftp-root: "tftp{{ site.boot.home }}"
command:
  - "{{ tftp_root }} {{ lab.tftp_root }}"
  - "{% for n, c in site.clients | items %}{{ n }}={{ c.relayed }} {% endfor %}"
readiness: { delay: 1ms }
"#,
    );
    let opts = StartOptions { bootcheck_exe: Some("/x".into()), ..StartOptions::default() };
    let argv = t.render_command(&fake_names(), &site(), Path::new("/run/d"), &opts).unwrap();
    assert_eq!(argv[0], "/run/d/tftp/tftpboot /run/d/tftp/tftpboot");
    assert_eq!(argv[1], "ws1=False ws2=False ws3=True ");
    assert_eq!(t.tftp_root(&site(), Path::new("/run/d")).unwrap(), Path::new("/run/d/tftp/tftpboot"));
    // Rendered, it must still stay inside the run dir.
    let out = profile("name: out\ntftp-root: \"..{{ site.boot.home }}\"\ncommand: [x]\nreadiness: { delay: 1ms }\n");
    let e = out.tftp_root(&site(), Path::new("/run/d")).unwrap_err();
    assert!(e.to_string().contains("relative path without `..`"), "{e}");
}

#[test]
fn daemon_profiles_load_and_render_from_the_site() {
    let dir = repo_root().join("targets");
    let opts = StartOptions { bootcheck_exe: Some("/x".into()), ..StartOptions::default() };
    for name in ["bootpd", "dnsmasq"] {
        let t = Target::load_named(&dir, name).unwrap();
        let argv = t.render_command(&fake_names(), &site(), Path::new("/run/d"), &opts).unwrap();
        assert!(argv.iter().any(|a| a.contains("/run/d/")), "{name}: {argv:?}");
        assert_eq!(t.tftp_root(&site(), Path::new("/run/d")).unwrap(), Path::new("/run/d/tftp/tftpboot"), "{name}");
    }
}
