//! Framing: a real Ethernet/IPv4/UDP frame taken apart, frames built with correct
//! lengths and checksums, and every lie in the IPv4/UDP length fields reported as a
//! finding with its offset (never a panic, never a silent accept).

use std::net::Ipv4Addr;

use bootcheck_wire::bootp::Packet;
use bootcheck_wire::frame::{self, Frame, Lies, LinkType, Transport, UdpEndpoints};
use bootcheck_wire::ErrorKind;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn ep() -> UdpEndpoints {
    UdpEndpoints {
        src_mac: [2, 0, 0, 0, 0xbe, 1],
        dst_mac: frame::BROADCAST_MAC,
        src_ip: Ipv4Addr::UNSPECIFIED,
        dst_ip: Ipv4Addr::BROADCAST,
        src_port: 68,
        dst_port: 67,
        ttl: 64,
    }
}

fn request() -> Vec<u8> {
    bootcheck_wire::bootp::Repr::request(0xdead_beef, [2, 0, 0, 0, 0xbe, 1]).to_vec()
}

#[test]
fn built_frame_parses_back_clean() {
    let payload = request();
    let f = frame::build_udp(&ep(), &payload).expect("builds");
    assert_eq!(f.len(), 14 + 20 + 8 + 300);
    let p = Frame::parse(LinkType::Ethernet, &f).expect("parses");
    assert!(p.findings.is_empty(), "{:?}", p.findings);
    assert_eq!(p.src_mac(), Some([2, 0, 0, 0, 0xbe, 1]));
    assert_eq!(p.dst_mac(), Some(frame::BROADCAST_MAC));
    let ip = p.ipv4().expect("ipv4");
    assert_eq!((ip.src, ip.dst, ip.ttl, ip.checksum_ok), (Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST, 64, true));
    let u = p.udp().expect("udp");
    assert_eq!((u.src_port, u.dst_port, u.length, u.checksum_ok), (68, 67, 308, Some(true)));
    assert_eq!(u.payload_offset, 42);
    assert_eq!(p.bootp(), Some(&payload[..]));
    assert_eq!(Packet::new_checked(u.payload).expect("bootp").xid(), 0xdead_beef);
}

#[test]
fn short_payload_is_padded_to_ethernet_minimum_and_padding_is_not_a_lie() {
    let f = frame::build_udp(&ep(), b"x").expect("builds");
    assert_eq!(f.len(), 60);
    let p = Frame::parse(LinkType::Ethernet, &f).expect("parses");
    assert!(p.findings.is_empty(), "{:?}", p.findings);
    assert_eq!(p.udp().expect("udp").payload, b"x");
}

#[test]
fn lies_are_findings_with_offsets() {
    let payload = request();
    let base = frame::build_udp(&ep(), &payload).expect("builds");
    let cases: &[(Lies, usize, &str)] = &[
        (Lies { ip_total_len: Some(65535), ..Lies::default() }, 16, "IPv4 total length exceeds the frame"),
        (Lies { ip_total_len: Some(12), ..Lies::default() }, 16, "IPv4 total length below the header length"),
        (Lies { udp_len: Some(65535), ..Lies::default() }, 38, "UDP length exceeds the IP payload"),
        (Lies { udp_len: Some(7), ..Lies::default() }, 38, "UDP length below 8"),
        (Lies { udp_len: Some(100), ..Lies::default() }, 38, "UDP length shorter than the IP payload"),
    ];
    for (lies, offset, what) in cases {
        let mut f = base.clone();
        frame::apply_lies(&mut f, lies);
        let p = Frame::parse(LinkType::Ethernet, &f).expect("still parses");
        let hit = p.findings.iter().find(|e| matches!(&e.kind, ErrorKind::LengthMismatch { what: w, .. } if w == what));
        let hit = hit.unwrap_or_else(|| panic!("{what}: {:?}", p.findings));
        assert_eq!(hit.offset, *offset, "{what}");
        // The IPv4 checksum was recomputed: only the lie is reported.
        assert!(p.ipv4().expect("ipv4").checksum_ok, "{what}");
    }
    // IHL 15 (CVE-2015-8605's shape): 60-octet header eats the UDP header.
    let mut f = base.clone();
    frame::apply_lies(&mut f, &Lies { ihl: Some(15), ..Lies::default() });
    let p = Frame::parse(LinkType::Ethernet, &f).expect("parses");
    assert_eq!(p.ipv4().expect("ipv4").header_len, 60);
    // The "UDP header" is now read from inside the BOOTP message: its length field
    // (octets 78..80 of the frame) is 0.
    assert!(p.ipv4().expect("ipv4").checksum_ok);
    assert_eq!(p.findings.len(), 1, "{:?}", p.findings);
    assert_eq!(p.findings[0].offset, 78);
    assert!(matches!(p.findings[0].kind, ErrorKind::LengthMismatch { what: "UDP length below 8", .. }));
    // IHL 3: below the minimum.
    let mut f = base.clone();
    frame::apply_lies(&mut f, &Lies { ihl: Some(3), ..Lies::default() });
    let p = Frame::parse(LinkType::Ethernet, &f).expect("parses");
    assert!(matches!(p.findings[0].kind, ErrorKind::Malformed { what: "IPv4 header", .. }));
    // A wrong UDP checksum.
    let mut f = base.clone();
    frame::apply_lies(&mut f, &Lies { udp_checksum: Some(0x1234), ..Lies::default() });
    let p = Frame::parse(LinkType::Ethernet, &f).expect("parses");
    assert_eq!(p.udp().expect("udp").checksum_ok, Some(false));
    assert_eq!(p.findings[0].offset, 40);
}

/// charrua/dhcp2.pcap frame 2, first 60 octets: the server's OFFER as captured on the
/// sender (IPv4 header checksum left to the NIC: 0x0000).
#[test]
fn real_frame_with_offloaded_checksum() {
    let mut f = hex("000b8201fc42000874adf19b08004500 0148044500008011 0000 c0a80001c0a8000a 00430044 0134 0000");
    f.extend(hex("0201060000003d1d0000000000000000c0a8000ac0a8000100000000000b8201fc42"));
    f.resize(14 + 0x148, 0);
    let p = Frame::parse(LinkType::Ethernet, &f).expect("parses");
    let ip = p.ipv4().expect("ipv4");
    assert_eq!(
        (ip.src, ip.dst, ip.ttl, ip.identification),
        (Ipv4Addr::new(192, 168, 0, 1), Ipv4Addr::new(192, 168, 0, 10), 128, 0x0445)
    );
    assert!(!ip.checksum_ok);
    assert_eq!(p.findings.len(), 1);
    assert_eq!(p.findings[0].offset, 24);
    let u = p.udp().expect("udp");
    assert_eq!((u.src_port, u.dst_port, u.checksum_ok), (67, 68, None));
}

#[test]
fn cooked_and_raw_link_types() {
    let payload = request();
    let eth = frame::build_udp(&ep(), &payload).expect("builds");
    let ip = &eth[14..];
    let p = Frame::parse(LinkType::Raw, ip).expect("raw");
    assert_eq!(p.udp().expect("udp").payload, &payload[..]);
    let mut sll = hex("0000 0001 0006 020000 00be01 0000 0800");
    sll.extend_from_slice(ip);
    let p = Frame::parse(LinkType::LinuxSll, &sll).expect("sll");
    assert_eq!(p.src_mac(), Some([2, 0, 0, 0, 0xbe, 1]));
    assert_eq!(p.udp().expect("udp").dst_port, 67);
    let mut sll2 = hex("0800 0000 00000002 0001 00 06 020000 00be01 0000");
    sll2.extend_from_slice(ip);
    let p = Frame::parse(LinkType::LinuxSll2, &sll2).expect("sll2");
    assert_eq!(p.src_mac(), Some([2, 0, 0, 0, 0xbe, 1]));
    assert!(Frame::parse(LinkType::Other(127), &eth).is_err());
}

#[test]
fn fragments_are_not_parsed_as_udp() {
    let mut f = frame::build_udp(&ep(), &request()).expect("builds");
    f[20] = 0x20; // MF
    frame::apply_lies(&mut f, &Lies::default()); // recompute the header checksum
    let p = Frame::parse(LinkType::Ethernet, &f).expect("parses");
    assert!(matches!(p.ipv4().expect("ipv4").transport, Transport::Fragment { .. }));
    assert!(p.udp().is_none());
}

#[test]
fn vlan_tags_are_skipped() {
    let eth = frame::build_udp(&ep(), &request()).expect("builds");
    let mut tagged = eth[..12].to_vec();
    tagged.extend(hex("8100 0064"));
    tagged.extend_from_slice(&eth[12..]);
    let p = Frame::parse(LinkType::Ethernet, &tagged).expect("parses");
    assert_eq!(p.vlans, [Some(100), None]);
    assert_eq!(p.udp().expect("udp").dst_port, 67);
}

#[test]
fn no_panic_on_every_prefix_and_mutation() {
    let f = frame::build_udp(&ep(), &request()).expect("builds");
    for lt in [LinkType::Ethernet, LinkType::Raw, LinkType::LinuxSll, LinkType::LinuxSll2] {
        for n in 0..=f.len() {
            let _ = Frame::parse(lt, &f[..n]);
        }
        for i in 0..60 {
            for v in [0u8, 0x0f, 0x45, 0xff] {
                let mut m = f.clone();
                m[i] = v;
                let _ = Frame::parse(lt, &m);
            }
        }
    }
}
