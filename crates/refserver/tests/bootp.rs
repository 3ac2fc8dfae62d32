//! BOOTP (RFC 951, RFC 1542, RFC 1497): what is answered, what is dropped, and the
//! reply octet by octet.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::net::Ipv4Addr;

use bootcheck_refserver::{Config, DropReason, Kind};
use bootcheck_wire::bootp::Packet;
use bootcheck_wire::frame::BROADCAST_MAC;
use common::*;

/// The whole BOOTREPLY to ws1, octet for octet, and its framing.
#[test]
fn known_client_reply_is_exact() {
    let mut s = server(&[]);
    let out = ask(&mut s, &Bootp::new(0x1234_5678, WS1_MAC).frame());

    let mut want = vec![0u8; 300];
    want[..12].copy_from_slice(&[2, 1, 6, 0, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0]);
    want[16..20].copy_from_slice(&[192, 0, 2, 21]); // yiaddr
    want[20..24].copy_from_slice(&[192, 0, 2, 1]); // siaddr
    want[28..34].copy_from_slice(&WS1_MAC);
    want[44..51].copy_from_slice(b"bootsrv");
    want[108..128].copy_from_slice(b"/tftpboot/pxelinux.0");
    let vend: &[u8] = &[
        99, 130, 83, 99, // cookie
        1, 4, 255, 255, 255, 0, // subnet mask
        3, 4, 192, 0, 2, 254, // router
        6, 4, 192, 0, 2, 53, // DNS
        12, 3, b'w', b's', b'1', // host name
        13, 2, 0, 196, // boot file size: 100000 octets = 196 blocks of 512
        15, 12, b'b', b'o', b'o', b't', b'.', b'e', b'x', b'a', b'm', b'p', b'l', b'e', // domain
        255,
    ];
    want[236..236 + vend.len()].copy_from_slice(vend);
    assert_eq!(out.payload, want);

    // RFC 1542 §5.4: B clear, giaddr and ciaddr 0: to yiaddr:68 at chaddr.
    assert_eq!(out.dst_mac, WS1_MAC);
    assert_eq!(out.dst_ip, WS1_IP);
    assert_eq!(out.dst_port, 68);
    assert_eq!((out.src_mac, out.src_ip, out.src_port, out.ttl), (SERVER_MAC, SERVER_IP, 67, 64));
    assert_eq!(out.checksum_ok, Some(true));
    assert_eq!(out.findings, 0);
    let log = log_text(&mut s);
    assert!(log.contains("RFC951 §7.3: xid 0x12345678: BOOTREPLY for client ws1"), "{log}");
    assert!(log.contains("RFC1542 §5.4: BROADCAST flag clear"), "{log}");
    assert_eq!(s.stats().kind(Kind::Bootp).requests, 1);
    assert_eq!(s.stats().kind(Kind::Bootp).replies, 1);
}

#[test]
fn reply_fields_follow_the_request() {
    let mut s = server(&[]);
    let mut req = Bootp::new(7, WS2_MAC);
    req.hops = 1;
    req.secs = 9;
    req.flags = 0x8000 | 0x0001; // B plus an MBZ bit: echoed as is
    req.yiaddr = Ipv4Addr::new(192, 0, 2, 99);
    req.siaddr = Ipv4Addr::new(192, 0, 2, 98);
    let out = ask(&mut s, &req.frame());
    let p = Packet::new_unchecked(&out.payload[..]);
    assert_eq!(p.op().to_u8(), 2);
    assert_eq!((p.htype(), p.hlen(), p.xid()), (1, 6, 7));
    assert_eq!(p.hops(), 0, "hops 0 (RFC 2131 Table 3)");
    assert_eq!(p.secs(), 0, "secs 0 (RFC 2131 Table 3)");
    assert_eq!(p.flags(), 0x8001, "flags echoed (RFC 1542 §5.4)");
    assert_eq!(p.yiaddr(), WS2_IP);
    assert_eq!(p.siaddr(), SERVER_IP);
    assert_eq!(p.chaddr_field(), &req.chaddr[..]);
    assert_eq!(p.sname(), b"bootsrv");
    assert_eq!(p.file(), b"/tftpboot/boot/kernel.img");
    // ws2's kernel is 4096 octets: 8 blocks.
    assert_eq!(opt(&out.payload, 13), Some(vec![0, 8]));
    assert_eq!(opt(&out.payload, 12), Some(b"ws2".to_vec()));
}

#[test]
fn bootp_reply_is_300_octets_with_end_and_no_dhcp_options() {
    let mut s = server(&[]);
    let out = ask(&mut s, &Bootp::new(1, WS1_MAC).frame());
    assert_eq!(out.payload.len(), 300);
    let p = Packet::new_unchecked(&out.payload[..]);
    assert!(p.check().is_ok());
    assert!(p.findings().is_empty(), "{:?}", p.findings());
    assert_eq!(codes(&out.payload), vec![1, 3, 6, 12, 13, 15]);
    for dhcp_only in [50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 61] {
        assert!(opt(&out.payload, dhcp_only).is_none(), "option {dhcp_only}");
    }
}

#[test]
fn parameter_request_list_orders_the_options() {
    let mut s = server(&[]);
    let out = ask(&mut s, &Bootp::new(1, WS1_MAC).opt(55, &[15, 12, 99, 1]).frame());
    assert_eq!(codes(&out.payload), vec![15, 12, 1, 3, 6, 13]);
}

#[test]
fn vend_without_cookie_gets_64_zero_octets() {
    let mut s = server(&[]);
    // Pure RFC 951: 64 octets of vendor data without a cookie.
    let rfc951 = Bootp::new(1, WS1_MAC).raw_vend(&[0x11; 64]);
    let out = ask(&mut s, &rfc951.frame());
    assert_eq!(out.payload.len(), 300);
    assert_eq!(&out.payload[236..], &[0u8; 64][..]);
    assert_eq!(Packet::new_unchecked(&out.payload[..]).yiaddr(), WS1_IP);
    // CMU vend.
    let mut cmu = b"CMU\0".to_vec();
    cmu.resize(64, 0);
    let out = ask(&mut s, &Bootp::new(2, WS1_MAC).raw_vend(&cmu).frame());
    assert_eq!(&out.payload[236..], &[0u8; 64][..]);
    // All zeros.
    let out = ask(&mut s, &Bootp::new(3, WS1_MAC).raw_vend(&[0; 64]).frame());
    assert_eq!(&out.payload[236..], &[0u8; 64][..]);
}

#[test]
fn short_messages_and_non_requests_are_discarded() {
    let mut s = server(&[]);
    // RFC 1542 §2.1: under 300 octets.
    let short = Bootp::new(1, WS1_MAC).raw_vend(&[]);
    assert!(s.handle_frame(T0, &short.frame()).is_empty());
    let mut b = Bootp::new(1, WS1_MAC).bytes();
    b.truncate(299);
    assert!(s
        .handle_frame(T0, &udp_frame(WS1_MAC, BROADCAST_MAC, Ipv4Addr::UNSPECIFIED, 68, Ipv4Addr::BROADCAST, 67, &b))
        .is_empty());
    assert_eq!(s.stats().dropped(DropReason::BootpTooShort), 2);
    // op 2 (RFC 951 §7.4) and op 3 (RFC 1542 §2.1).
    for op in [2, 3, 0] {
        let mut r = Bootp::new(1, WS1_MAC);
        r.op = op;
        assert!(s.handle_frame(T0, &r.frame()).is_empty());
    }
    assert_eq!(s.stats().dropped(DropReason::NotBootrequest), 3);
    let log = log_text(&mut s);
    assert!(log.contains("RFC1542 §2.1: 236 octets, less than the 300-octet minimum"), "{log}");
    assert!(log.contains("RFC951 §7.4: BOOTREPLY"), "{log}");
    // 301 octets and more are fine (RFC 1542 §2.1 NOTE).
    let long = Bootp::new(1, WS1_MAC).raw_vend(&[0; 200]);
    assert_eq!(ask(&mut s, &long.frame()).payload.len(), 300);
}

#[test]
fn only_frames_for_us_on_port_67_are_processed() {
    let mut s = server(&[]);
    let body = Bootp::new(1, WS1_MAC).bytes();
    let send = |s: &mut bootcheck_refserver::Server, dmac, dip, dport| {
        s.handle_frame(T0, &udp_frame(WS1_MAC, dmac, Ipv4Addr::UNSPECIFIED, 68, dip, dport, &body)).len()
    };
    assert_eq!(send(&mut s, BROADCAST_MAC, Ipv4Addr::BROADCAST, 67), 1);
    assert_eq!(send(&mut s, SERVER_MAC, SERVER_IP, 67), 1);
    assert_eq!(send(&mut s, BROADCAST_MAC, Ipv4Addr::new(192, 0, 2, 255), 67), 1, "subnet broadcast");
    assert_eq!(send(&mut s, BROADCAST_MAC, Ipv4Addr::new(192, 0, 2, 7), 67), 0, "another host");
    assert_eq!(send(&mut s, [0x02, 0, 0, 0, 0, 0x42], SERVER_IP, 67), 0, "another MAC");
    assert_eq!(send(&mut s, BROADCAST_MAC, Ipv4Addr::BROADCAST, 68), 0, "RFC 1542 §5.1: port 68");
    assert_eq!(send(&mut s, BROADCAST_MAC, Ipv4Addr::BROADCAST, 1067), 0);
    assert_eq!(s.stats().dropped(DropReason::NotOurAddress), 1);
    assert_eq!(s.stats().dropped(DropReason::NotOurMac), 1);
    assert_eq!(s.stats().dropped(DropReason::NotOurPort), 2);
    // A corrupted UDP checksum ([UDP checksum.] in RFC 951 §7.3).
    let mut f = Bootp::new(1, WS1_MAC).frame();
    f[40] ^= 0xff;
    assert!(s.handle_frame(T0, &f).is_empty());
    assert_eq!(s.stats().dropped(DropReason::BadIpUdp), 1);
    // Our own transmissions, looped back by a raw socket, are ignored.
    let own = udp_frame(SERVER_MAC, BROADCAST_MAC, SERVER_IP, 68, Ipv4Addr::BROADCAST, 67, &body);
    assert!(s.handle_frame(T0, &own).is_empty());
    assert_eq!(s.stats().dropped(DropReason::OwnFrame), 1);
    // A checksum of 0 means "not computed" (RFC 768): accepted.
    let mut f = Bootp::new(1, WS1_MAC).frame();
    f[40] = 0;
    f[41] = 0;
    assert_eq!(s.handle_frame(T0, &f).len(), 1);
}

#[test]
fn sname_must_be_empty_or_ours() {
    let mut s = server(&[]);
    assert!(s.handle_frame(T0, &Bootp::new(1, WS1_MAC).sname("some-other-server").frame()).is_empty());
    assert!(log_text(&mut s)
        .contains("RFC951 §7.3: xid 0x00000001: sname \"some-other-server\" is not ours (bootsrv): silently dropped"));
    for ours in ["bootsrv", "BOOTSRV", "bootsrv.boot.example", "bootsrv.boot.example."] {
        assert_eq!(s.handle_frame(T0, &Bootp::new(2, WS1_MAC).sname(ours).frame()).len(), 1, "{ours}");
    }
    for other in ["bootsrv.other.example", "boot", "bootsrvx"] {
        assert!(s.handle_frame(T0, &Bootp::new(3, WS1_MAC).sname(other).frame()).is_empty(), "{other}");
    }
    assert_eq!(s.stats().dropped(DropReason::ForeignSname), 4);
}

#[test]
fn unknown_clients_are_not_answered() {
    let mut s = server(&[]);
    assert!(s.handle_frame(T0, &Bootp::new(1, STRANGER_MAC).frame()).is_empty());
    // Knowing an address (ciaddr) does not make a client known (RFC 1542 §5.3).
    assert!(s.handle_frame(T0, &Bootp::new(1, STRANGER_MAC).ciaddr(WS1_IP).frame()).is_empty());
    // Not Ethernet.
    let mut r = Bootp::new(2, WS1_MAC);
    r.htype = 6;
    assert!(s.handle_frame(T0, &r.frame()).is_empty());
    let mut r = Bootp::new(2, WS1_MAC);
    r.hlen = 7;
    assert!(s.handle_frame(T0, &r.frame()).is_empty());
    assert_eq!(s.stats().dropped(DropReason::UnknownClient), 4);
    let log = log_text(&mut s);
    assert!(log.contains("chaddr 02:00:00:00:be:99 is not in our database: discarded"), "{log}");
}

#[test]
fn boot_file_names_resolve_to_full_paths() {
    let mut s = server(&[]);
    let file_of = |s: &mut bootcheck_refserver::Server, name: &str| {
        let f = s.handle_frame(T0, &Bootp::new(1, WS1_MAC).file(name).frame());
        f.first().map(|f| String::from_utf8(Packet::new_unchecked(&decode(f).payload[..]).file().to_vec()).unwrap())
    };
    assert_eq!(file_of(&mut s, "").as_deref(), Some("/tftpboot/pxelinux.0"), "the client's own file");
    assert_eq!(file_of(&mut s, "boot/kernel.img").as_deref(), Some("/tftpboot/boot/kernel.img"));
    assert_eq!(file_of(&mut s, "/tftpboot/boot/kernel.img").as_deref(), Some("/tftpboot/boot/kernel.img"));
    assert_eq!(file_of(&mut s, "exact1024.bin").as_deref(), Some("/tftpboot/exact1024.bin"));
    // RFC 951 §7.3: no match → discard.
    assert_eq!(file_of(&mut s, "no-such-kernel"), None);
    assert_eq!(file_of(&mut s, "../etc/passwd"), None);
    assert_eq!(file_of(&mut s, "/etc/passwd"), None);
    assert_eq!(s.stats().dropped(DropReason::NoSuchBootFile), 3);
    // The size option follows the file asked for.
    let out = ask(&mut s, &Bootp::new(1, WS1_MAC).file("exact1024.bin").frame());
    assert_eq!(opt(&out.payload, 13), Some(vec![0, 2]));
    let out = ask(&mut s, &Bootp::new(1, WS1_MAC).file("empty.bin").frame());
    assert_eq!(opt(&out.payload, 13), Some(vec![0, 0]));
}

/// RFC 2132 §9.3: under overload, `file` and `sname` hold options, not names.
#[test]
fn overloaded_fields_are_options_not_names() {
    let mut s = server(&[]);
    let mut r = Bootp::new(1, WS1_MAC).opt(52, &[3]);
    // file area: parameter request list [15], End. sname area: just End.
    r.file[..4].copy_from_slice(&[55, 1, 15, 255]);
    r.sname[0] = 255;
    let out = ask(&mut s, &r.frame());
    let p = Packet::new_unchecked(&out.payload[..]);
    assert_eq!(p.file(), b"/tftpboot/pxelinux.0", "file area was not taken as a file name");
    assert_eq!(codes(&out.payload)[0], 15, "the PRL in the overloaded file field was read");
    // Without overload the same octets are a file name, and no such file exists.
    let mut r = Bootp::new(1, WS1_MAC);
    r.file[..4].copy_from_slice(&[55, 1, 15, 255]);
    assert!(s.handle_frame(T0, &r.frame()).is_empty());
}

/// RFC 1542 §5.4, the four rows of the table.
#[test]
fn delivery_table() {
    let mut s = server(&[]);
    // ciaddr set: to ciaddr:68; on our subnet, at chaddr.
    let out = ask(&mut s, &Bootp::new(1, WS1_MAC).ciaddr(WS1_IP).frame());
    assert_eq!((out.dst_mac, out.dst_ip, out.dst_port), (WS1_MAC, WS1_IP, 68));
    let p = Packet::new_unchecked(&out.payload[..]);
    assert_eq!((p.ciaddr(), p.yiaddr()), (WS1_IP, WS1_IP), "ciaddr preserved (RFC 1542 §5.3)");
    // ciaddr set, even with giaddr: ciaddr first for BOOTP.
    let out = ask(&mut s, &Bootp::new(2, WS3_MAC).ciaddr(WS3_IP).giaddr(RELAY_IP).relayed());
    assert_eq!(
        (out.dst_mac, out.dst_ip, out.dst_port),
        (RELAY_MAC, WS3_IP, 68),
        "off-subnet ciaddr via the relay's link"
    );
    // giaddr set: to the relay at giaddr:67, B preserved.
    let out = ask(&mut s, &Bootp::new(3, WS3_MAC).giaddr(RELAY_IP).broadcast().relayed());
    assert_eq!((out.dst_mac, out.dst_ip, out.dst_port), (RELAY_MAC, RELAY_IP, 67));
    let p = Packet::new_unchecked(&out.payload[..]);
    assert_eq!((p.giaddr(), p.yiaddr(), p.flags()), (RELAY_IP, WS3_IP, 0x8000));
    // Relayed clients get their subnet's mask and the relay as router.
    assert_eq!(opt(&out.payload, 1), Some(vec![255, 255, 255, 0]));
    assert_eq!(opt(&out.payload, 3), Some(vec![198, 51, 100, 1]));
    // B set: broadcast.
    let out = ask(&mut s, &Bootp::new(4, WS1_MAC).broadcast().frame());
    assert_eq!((out.dst_mac, out.dst_ip, out.dst_port), (BROADCAST_MAC, Ipv4Addr::BROADCAST, 68));
    // B clear: yiaddr at chaddr.
    let out = ask(&mut s, &Bootp::new(5, WS2_MAC).frame());
    assert_eq!((out.dst_mac, out.dst_ip, out.dst_port), (WS2_MAC, WS2_IP, 68));
}

/// RFC 1534 §2: automatic addresses for BOOTP clients only behind an explicit switch.
#[test]
fn dynamic_bootp_is_a_switch_that_defaults_off() {
    assert!(!Config::default().dynamic_bootp);
    let mut s = server_with(Config { dynamic_bootp: true });
    let out = ask(&mut s, &Bootp::new(1, STRANGER_MAC).frame());
    let p = Packet::new_unchecked(&out.payload[..]);
    assert_eq!(p.yiaddr(), Ipv4Addr::new(192, 0, 2, 100));
    assert_eq!(p.file(), b"/tftpboot/pxelinux.0", "boot.default");
    assert!(opt(&out.payload, 12).is_none(), "no host name for an automatic binding");
    assert!(opt(&out.payload, 51).is_none() && opt(&out.payload, 53).is_none());
    // The binding is forever.
    let again = ask(&mut s, &Bootp::new(2, STRANGER_MAC).frame());
    assert_eq!(Packet::new_unchecked(&again.payload[..]).yiaddr(), Ipv4Addr::new(192, 0, 2, 100));
    let other = ask(&mut s, &Bootp::new(3, [0x02, 0, 0, 0, 0xbe, 0x98]).frame());
    assert_eq!(Packet::new_unchecked(&other.payload[..]).yiaddr(), Ipv4Addr::new(192, 0, 2, 101));
    assert_eq!(s.dynamic_bindings().len(), 2);
    // Known clients keep their fixed address.
    let out = ask(&mut s, &Bootp::new(4, WS1_MAC).frame());
    assert_eq!(Packet::new_unchecked(&out.payload[..]).yiaddr(), WS1_IP);
    // DHCP clients do not get automatic addresses.
    assert!(s.handle_frame(T0, &Bootp::new(5, [0x02, 0, 0, 0, 0xbe, 0x97]).dhcp(1).frame()).is_empty());
    assert!(log_text(&mut s)
        .contains("RFC1534 §2: chaddr 02:00:00:00:be:99 not in the host table: automatic address 192.0.2.100"));
}

#[test]
fn pool_exhaustion() {
    let mut site = site();
    site.pool.end = site.pool.start; // one address
    let mut s = bootcheck_refserver::Server::with_config(site, vec![], Config { dynamic_bootp: true });
    assert_eq!(s.handle_frame(T0, &Bootp::new(1, STRANGER_MAC).frame()).len(), 1);
    assert!(s.handle_frame(T0, &Bootp::new(2, [0x02, 0, 0, 0, 0xbe, 0x98]).frame()).is_empty());
    assert_eq!(s.stats().dropped(DropReason::PoolExhausted), 1);
}

#[test]
fn server_is_send() {
    fn send<T: Send + 'static>() {}
    send::<bootcheck_refserver::Server>();
}

#[test]
fn stats_and_log_account_for_every_frame() {
    let mut s = server(&[]);
    s.handle_frame(T0, &Bootp::new(1, WS1_MAC).frame());
    s.handle_frame(T0, &Bootp::new(2, STRANGER_MAC).frame());
    s.handle_frame(T0, &[0u8; 10]);
    let st = s.stats().clone();
    assert_eq!(st.frames_in, 3);
    assert_eq!(st.frames_out, 1);
    assert_eq!(st.kind(Kind::Bootp).requests, 2);
    assert_eq!(st.kind(Kind::Bootp).dropped, 1);
    assert_eq!(st.dropped(DropReason::BadFrame), 1);
    assert_eq!(st.dropped_total(), 2);
    let log = s.log();
    assert!(log.iter().all(|e| !e.clause.is_empty() && !e.message.is_empty()));
    assert!(s.log().is_empty(), "drained");
}
