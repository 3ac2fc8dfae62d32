//! The pcapng writer's files open in tshark and libpcap with the right frames,
//! interfaces, directions and timestamps. Needs no privilege.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use bootcheck_lab::pcapng::{Resolution, LINKTYPE_ETHERNET};
use bootcheck_lab::{Direction, PcapNgWriter};

fn frames() -> Vec<Vec<u8>> {
    // Lengths 60..=63 exercise every padding case; one 1514-byte frame.
    let mut v: Vec<Vec<u8>> = (60..64).map(|n| (0..n).map(|i| (i * 7 + n) as u8).collect()).collect();
    v.push((0..1514).map(|i| (i % 251) as u8).collect());
    v
}

fn write(path: &Path, res: Resolution) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = PcapNgWriter::new(std::io::BufWriter::new(f), res).unwrap();
    let a = w.add_interface("bc0a0b0c-cli/bc0a0b0c-c0", Some("client"), LINKTYPE_ETHERNET, 65535).unwrap();
    let b = w.add_interface("bc0a0b0c-srv/bc0a0b0c-s0", None, LINKTYPE_ETHERNET, 65535).unwrap();
    for (i, fr) in frames().iter().enumerate() {
        let ts = UNIX_EPOCH + Duration::new(1_700_000_000 + i as u64, 123_456_789);
        let (iface, dir) = if i % 2 == 0 { (a, Direction::Out) } else { (b, Direction::In) };
        w.write_packet(iface, ts, fr, dir).unwrap();
    }
    w.finish().unwrap();
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("bootcheck-pcapng-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

#[test]
fn pcapng_file_reads_back_in_libpcap_with_identical_frames() {
    for (name, res) in [("nano.pcapng", Resolution::Nano), ("micro.pcapng", Resolution::Micro)] {
        let path = tmp(name);
        write(&path, res);
        let mut cap = pcap::Capture::from_file_with_precision(&path, pcap::Precision::Nano).unwrap();
        let mut got = Vec::new();
        while let Ok(p) = cap.next_packet() {
            assert_eq!(p.header.caplen as usize, p.data.len());
            let frac = p.header.ts.tv_usec;
            let want = if res == Resolution::Nano { 123_456_789 } else { 123_456_000 };
            assert_eq!(frac, want, "{name}: sub-second part");
            got.push(p.data.to_vec());
        }
        assert_eq!(got, frames(), "{name}");
        let _ = std::fs::remove_file(path);
    }
}

#[test]
fn pcapng_file_reads_back_in_tshark_with_interfaces_and_directions() {
    if !Command::new("tshark").arg("-v").output().is_ok_and(|o| o.status.success()) {
        eprintln!("skipping: tshark not installed (apt-get install tshark)");
        return;
    }
    let path = tmp("tshark.pcapng");
    write(&path, Resolution::Nano);
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args(["-T", "fields", "-E", "separator=|"])
        .args(["-e", "frame.interface_name", "-e", "frame.packet_flags_direction", "-e", "frame.len"])
        .args(["-e", "frame.time_epoch"])
        .output()
        .unwrap();
    assert!(out.status.success(), "tshark: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('|').collect()).collect();
    assert_eq!(rows.len(), frames().len(), "{text}");
    for (i, r) in rows.iter().enumerate() {
        let (ifname, dir) = if i % 2 == 0 { ("bc0a0b0c-cli/bc0a0b0c-c0", 2) } else { ("bc0a0b0c-srv/bc0a0b0c-s0", 1) };
        assert_eq!(r[0], ifname, "{text}");
        assert_eq!(u32::from_str_radix(r[1].trim_start_matches("0x"), 16).unwrap(), dir, "{text}");
        assert_eq!(r[2].parse::<usize>().unwrap(), frames()[i].len(), "{text}");
        assert!(r[3].starts_with(&format!("{}.123456789", 1_700_000_000 + i)), "nanosecond timestamp: {text}");
    }
    // tshark's own consistency check of the file structure.
    let cap = Command::new("capinfos").arg(&path).output();
    if let Ok(o) = cap {
        assert!(o.status.success(), "capinfos: {}", String::from_utf8_lossy(&o.stderr));
    }
    let _ = std::fs::remove_file(path);
}
