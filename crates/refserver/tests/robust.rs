//! No input makes the server panic: every prefix and every single-octet mutation of
//! valid requests (at the frame level, and at the payload level with the framing
//! rebuilt so that checksums hold and the mutation reaches the protocol code), plus
//! pseudo-random datagrams to every port the server listens on.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use bootcheck_refserver::{Config, Fault, Server};
use bootcheck_wire::arp::EthernetIpv4;
use bootcheck_wire::frame::{build_ethernet, BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_RARP};
use common::*;

/// Servers to torture: plain, with every switch that keeps it alive, and dynamic.
fn servers() -> Vec<Server> {
    let alive: Vec<Fault> = Fault::examples()
        .into_iter()
        .filter(|f| !matches!(f, Fault::CrashOnOption(_) | Fault::HangOnOverload))
        .collect();
    vec![
        Server::new(site(), vec![]),
        Server::new(site(), alive),
        Server::with_config(site(), vec![], Config { dynamic_bootp: true }),
    ]
}

/// Values each octet is replaced with.
const VALUES: [u8; 8] = [0x00, 0x01, 0x02, 0x34, 0x7f, 0x80, 0xfe, 0xff];

fn feed(servers: &mut [Server], t: &mut Duration, frame: &[u8]) {
    for s in servers.iter_mut() {
        let out = s.handle_frame(*t, frame);
        for f in out {
            assert!(f.len() >= 60 && f.len() <= 1514, "frame of {} octets", f.len());
        }
        if let Some(at) = s.poll_timeout() {
            if at <= *t {
                s.handle_timeout(*t);
            }
        }
        let _ = s.log();
    }
    *t += Duration::from_millis(700);
}

/// Prefixes and mutations of `frame` as is.
fn frame_level(servers: &mut [Server], t: &mut Duration, frame: &[u8]) {
    for n in 0..frame.len() {
        feed(servers, t, &frame[..n]);
    }
    let mut m = frame.to_vec();
    for i in 0..frame.len() {
        let keep = m[i];
        for v in VALUES {
            m[i] = v;
            feed(servers, t, &m);
        }
        m[i] = keep;
    }
}

/// Prefixes and mutations of a UDP payload, re-framed with correct checksums.
fn payload_level(servers: &mut [Server], t: &mut Duration, wrap: &dyn Fn(&[u8]) -> Vec<u8>, payload: &[u8]) {
    for n in 0..payload.len() {
        feed(servers, t, &wrap(&payload[..n]));
    }
    let mut m = payload.to_vec();
    for i in 0..payload.len() {
        let keep = m[i];
        for v in VALUES {
            m[i] = v;
            feed(servers, t, &wrap(&m));
        }
        m[i] = keep;
    }
}

fn bootp_requests() -> Vec<Bootp> {
    vec![
        Bootp::new(1, WS1_MAC).opt(55, &[1, 3, 6, 12, 15]).file("boot/kernel.img").sname("bootsrv"),
        Bootp::new(2, WS1_MAC).dhcp(1).opt(61, &[1, 2, 0, 0, 0, 0xbe, 1]).opt(57, &[2, 64]),
        Bootp::new(3, WS2_MAC).dhcp(3).opt(54, &SERVER_IP.octets()).opt(50, &WS2_IP.octets()),
        Bootp::new(4, WS1_MAC).dhcp(8).ciaddr(WS1_IP),
        Bootp::new(5, WS3_MAC).giaddr(RELAY_IP).broadcast(),
        {
            let mut r = Bootp::new(6, WS1_MAC).opt(52, &[3]);
            r.file[..4].copy_from_slice(&[55, 1, 15, 255]);
            r.sname[..3].copy_from_slice(&[12, 0, 255]);
            r
        },
    ]
}

#[test]
fn bootp_payload_mutations() {
    let mut servers = servers();
    let mut t = Duration::ZERO;
    let wrap = |p: &[u8]| udp_frame(WS1_MAC, BROADCAST_MAC, Ipv4Addr::UNSPECIFIED, 68, Ipv4Addr::BROADCAST, 67, p);
    for r in bootp_requests() {
        payload_level(&mut servers, &mut t, &wrap, &r.bytes());
    }
}

#[test]
fn frame_mutations() {
    let mut servers = servers();
    let mut t = Duration::ZERO;
    for r in bootp_requests().iter().take(2) {
        frame_level(&mut servers, &mut t, &r.frame());
    }
    frame_level(&mut servers, &mut t, &Bootp::new(5, WS3_MAC).giaddr(RELAY_IP).relayed());
    let arp = EthernetIpv4::request(WS1_MAC, WS1_IP, SERVER_IP).to_vec();
    frame_level(&mut servers, &mut t, &build_ethernet(WS1_MAC, BROADCAST_MAC, ETHERTYPE_ARP, &arp));
    let rarp = EthernetIpv4::rarp_request(WS2_MAC, WS2_MAC).to_vec();
    frame_level(&mut servers, &mut t, &build_ethernet(WS2_MAC, BROADCAST_MAC, ETHERTYPE_RARP, &rarp));
    frame_level(&mut servers, &mut t, &from_ws1(CLIENT_PORT, 69, &rrq("pxelinux.0", "octet", &[("blksize", "1024")])));
}

#[test]
fn tftp_mutations() {
    let mut servers = servers();
    let mut t = Duration::ZERO;
    let to69 = |p: &[u8]| from_ws1(CLIENT_PORT, 69, p);
    payload_level(
        &mut servers,
        &mut t,
        &to69,
        &rrq("/tftpboot/notes.txt", "netascii", &[("tsize", "0"), ("windowsize", "3")]),
    );
    payload_level(&mut servers, &mut t, &to69, &wrq("x"));
    // Packets to live transfers: start one per server, then mutate ACKs to its TID.
    for s in servers.iter_mut() {
        s.handle_frame(t, &from_ws1(CLIENT_PORT, 69, &rrq("pxelinux.0", "octet", &[])));
    }
    let to_tid = |p: &[u8]| from_ws1(CLIENT_PORT, 49152, p);
    payload_level(&mut servers, &mut t, &to_tid, &ack(1));
    payload_level(&mut servers, &mut t, &to_tid, &ack(0));
}

#[test]
fn random_datagrams() {
    let mut servers = servers();
    let mut t = Duration::ZERO;
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let base = Bootp::new(9, WS1_MAC).dhcp(1).bytes();
    for i in 0..3000 {
        let len = (next() % 700) as usize;
        let mut p: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        // Half of them keep a valid BOOTP header and cookie, so options get parsed.
        if i % 2 == 0 && p.len() > 240 {
            p[..240].copy_from_slice(&base[..240]);
        }
        let port = [67u16, 69, 49152, 49153][(next() % 4) as usize];
        feed(&mut servers, &mut t, &udp_frame(WS1_MAC, SERVER_MAC, WS1_IP, 68, SERVER_IP, port, &p));
    }
}
