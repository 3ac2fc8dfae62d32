//! ARP (RFC 826) for the server's address, RARP (RFC 903) for known clients.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::net::Ipv4Addr;

use bootcheck_refserver::{DropReason, Kind};
use bootcheck_wire::arp::EthernetIpv4;
use bootcheck_wire::frame::{build_ethernet, BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_RARP};
use common::*;

fn arp_frame(src: [u8; 6], dst: [u8; 6], ethertype: u16, body: &EthernetIpv4) -> Vec<u8> {
    build_ethernet(src, dst, ethertype, &body.to_vec())
}

#[test]
fn arp_request_for_the_server_is_answered_exactly() {
    let mut s = server(&[]);
    let req = EthernetIpv4::request(WS1_MAC, WS1_IP, SERVER_IP);
    let out = s.handle_frame(T0, &arp_frame(WS1_MAC, BROADCAST_MAC, ETHERTYPE_ARP, &req));
    assert_eq!(out.len(), 1);
    let mut want = Vec::new();
    want.extend_from_slice(&WS1_MAC); // to the (new) target hardware address
    want.extend_from_slice(&SERVER_MAC);
    want.extend_from_slice(&[0x08, 0x06]);
    want.extend_from_slice(&[0, 1, 0x08, 0, 6, 4, 0, 2]); // Ethernet, IPv4, 6, 4, REPLY
    want.extend_from_slice(&SERVER_MAC); // sha: us
    want.extend_from_slice(&[192, 0, 2, 1]); // spa: us
    want.extend_from_slice(&WS1_MAC); // tha: the requester
    want.extend_from_slice(&[192, 0, 2, 21]); // tpa: the requester
    want.resize(60, 0);
    assert_eq!(out[0], want);
    assert_eq!(s.stats().kind(Kind::Arp).replies, 1);
    assert!(log_text(&mut s)
        .contains("RFC826: ARP reply to 192.0.2.21 (02:00:00:00:be:01): 192.0.2.1 is at 02:00:00:00:5e:01"));
    // An RFC 5227 probe (sender address 0.0.0.0) is answered too.
    let probe = EthernetIpv4::request(WS1_MAC, Ipv4Addr::UNSPECIFIED, SERVER_IP);
    assert_eq!(s.handle_frame(T0, &arp_frame(WS1_MAC, BROADCAST_MAC, ETHERTYPE_ARP, &probe)).len(), 1);
}

#[test]
fn other_arp_is_ignored() {
    let mut s = server(&[]);
    let other = EthernetIpv4::request(WS1_MAC, WS1_IP, Ipv4Addr::new(192, 0, 2, 254));
    assert!(s.handle_frame(T0, &arp_frame(WS1_MAC, BROADCAST_MAC, ETHERTYPE_ARP, &other)).is_empty());
    let reply = EthernetIpv4::reply(WS1_MAC, WS1_IP, SERVER_MAC, SERVER_IP);
    assert!(s.handle_frame(T0, &arp_frame(WS1_MAC, SERVER_MAC, ETHERTYPE_ARP, &reply)).is_empty());
    // RARP operations under the ARP EtherType.
    let rarp = EthernetIpv4::rarp_request(WS1_MAC, WS1_MAC);
    assert!(s.handle_frame(T0, &arp_frame(WS1_MAC, BROADCAST_MAC, ETHERTYPE_ARP, &rarp)).is_empty());
    // Not Ethernet/IPv4, and truncated.
    let mut body = EthernetIpv4::request(WS1_MAC, WS1_IP, SERVER_IP).to_vec();
    body[1] = 6;
    assert!(s.handle_frame(T0, &build_ethernet(WS1_MAC, BROADCAST_MAC, ETHERTYPE_ARP, &body)).is_empty());
    let mut f = build_ethernet(WS1_MAC, BROADCAST_MAC, ETHERTYPE_ARP, &[0, 1, 8, 0, 6, 4, 0, 1, 2]);
    f.truncate(23);
    assert!(s.handle_frame(T0, &f).is_empty());
    assert_eq!(s.stats().dropped(DropReason::ArpIgnored), 5);
}

#[test]
fn rarp_answers_known_clients_only() {
    let mut s = server(&[]);
    // A diskless ws2 asks for its own address.
    let req = EthernetIpv4::rarp_request(WS2_MAC, WS2_MAC);
    let out = s.handle_frame(T0, &arp_frame(WS2_MAC, BROADCAST_MAC, ETHERTYPE_RARP, &req));
    assert_eq!(out.len(), 1);
    let mut want = Vec::new();
    want.extend_from_slice(&WS2_MAC);
    want.extend_from_slice(&SERVER_MAC);
    want.extend_from_slice(&[0x80, 0x35]);
    want.extend_from_slice(&[0, 1, 0x08, 0, 6, 4, 0, 4]); // reply reverse
    want.extend_from_slice(&SERVER_MAC);
    want.extend_from_slice(&[192, 0, 2, 1]);
    want.extend_from_slice(&WS2_MAC);
    want.extend_from_slice(&[192, 0, 2, 22]);
    want.resize(60, 0);
    assert_eq!(out[0], want);
    // A third party asks on ws1's behalf: the answer goes to the asker.
    let req = EthernetIpv4::rarp_request(WS2_MAC, WS1_MAC);
    let out = s.handle_frame(T0, &arp_frame(WS2_MAC, BROADCAST_MAC, ETHERTYPE_RARP, &req));
    assert_eq!(&out[0][..6], &WS2_MAC);
    assert_eq!(&out[0][14 + 18..14 + 28], &[2, 0, 0, 0, 0xbe, 1, 192, 0, 2, 21]);
    // Unknown: silence.
    let req = EthernetIpv4::rarp_request(STRANGER_MAC, STRANGER_MAC);
    assert!(s.handle_frame(T0, &arp_frame(STRANGER_MAC, BROADCAST_MAC, ETHERTYPE_RARP, &req)).is_empty());
    assert_eq!(s.stats().dropped(DropReason::RarpUnknown), 1);
    // ARP under the RARP EtherType is passed on to ARP.
    let arp = EthernetIpv4::request(WS1_MAC, WS1_IP, SERVER_IP);
    assert_eq!(s.handle_frame(T0, &arp_frame(WS1_MAC, BROADCAST_MAC, ETHERTYPE_RARP, &arp)).len(), 1);
    assert_eq!(s.stats().kind(Kind::Rarp).replies, 3);
}
