//! DHCP clients of the BOOTP server (RFC 1534 §2, RFC 2131 §4.1 and §4.3).
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::net::Ipv4Addr;

use bootcheck_refserver::{DropReason, Kind};
use bootcheck_wire::bootp::Packet;
use bootcheck_wire::frame::BROADCAST_MAC;
use common::*;

const DISCOVER: u8 = 1;
const OFFER: u8 = 2;
const REQUEST: u8 = 3;
const DECLINE: u8 = 4;
const ACK: u8 = 5;
const NAK: u8 = 6;
const RELEASE: u8 = 7;
const INFORM: u8 = 8;

const INFINITE: [u8; 4] = [0xff; 4];

#[test]
fn discover_gets_an_offer_of_the_fixed_address() {
    let mut s = server(&[]);
    let req = Bootp::new(0xd15c, WS1_MAC).dhcp(DISCOVER).opt(55, &[3, 1]).ciaddr(Ipv4Addr::UNSPECIFIED);
    let out = ask(&mut s, &req.frame());
    let p = Packet::new_unchecked(&out.payload[..]);
    // Table 3.
    assert_eq!((p.op().to_u8(), p.hops(), p.xid(), p.secs()), (2, 0, 0xd15c, 0));
    assert_eq!(
        (p.ciaddr(), p.yiaddr(), p.siaddr(), p.giaddr()),
        (Ipv4Addr::UNSPECIFIED, WS1_IP, SERVER_IP, Ipv4Addr::UNSPECIFIED)
    );
    assert_eq!(p.chaddr(), &WS1_MAC);
    assert_eq!(p.sname(), b"bootsrv");
    assert_eq!(p.file(), b"/tftpboot/pxelinux.0");
    // The PRL asks router first; RFC 2132 §3.3 puts the subnet mask before it anyway.
    assert_eq!(codes(&out.payload), vec![53, 54, 51, 1, 3, 6, 12, 13, 15]);
    assert_eq!(opt(&out.payload, 53), Some(vec![OFFER]));
    assert_eq!(opt(&out.payload, 54), Some(SERVER_IP.octets().to_vec()));
    assert_eq!(opt(&out.payload, 51), Some(INFINITE.to_vec()));
    assert!(opt(&out.payload, 56).is_none() && opt(&out.payload, 61).is_none());
    assert!(out.payload.len() >= 300);
    assert!(p.check().is_ok());
    // §4.1: B clear, giaddr and ciaddr 0: unicast to yiaddr at chaddr.
    assert_eq!((out.dst_mac, out.dst_ip, out.dst_port), (WS1_MAC, WS1_IP, 68));
    assert_eq!(s.stats().kind(Kind::Dhcp).requests, 1);
    assert_eq!(s.stats().kind(Kind::Dhcp).replies, 1);
    assert!(log_text(&mut s).contains("RFC2131 §4.3.1: xid 0x0000d15c: DHCPOFFER of 192.0.2.21 to client ws1"));
    // B set: broadcast.
    let out = ask(&mut s, &Bootp::new(2, WS1_MAC).dhcp(DISCOVER).broadcast().frame());
    assert_eq!((out.dst_mac, out.dst_ip, out.dst_port), (BROADCAST_MAC, Ipv4Addr::BROADCAST, 68));
    // A requested address other than the binding is not offered.
    let out = ask(&mut s, &Bootp::new(3, WS1_MAC).dhcp(DISCOVER).opt(50, &[192, 0, 2, 77]).frame());
    assert_eq!(Packet::new_unchecked(&out.payload[..]).yiaddr(), WS1_IP);
}

#[test]
fn request_for_the_fixed_address_is_acked() {
    let mut s = server(&[]);
    // SELECTING: server id ours, requested address = the offer.
    let out = ask(
        &mut s,
        &Bootp::new(9, WS2_MAC).dhcp(REQUEST).opt(54, &SERVER_IP.octets()).opt(50, &WS2_IP.octets()).frame(),
    );
    let p = Packet::new_unchecked(&out.payload[..]);
    assert_eq!(opt(&out.payload, 53), Some(vec![ACK]));
    assert_eq!(opt(&out.payload, 51), Some(INFINITE.to_vec()));
    assert_eq!((p.ciaddr(), p.yiaddr(), p.siaddr()), (Ipv4Addr::UNSPECIFIED, WS2_IP, SERVER_IP));
    assert_eq!(p.file(), b"/tftpboot/boot/kernel.img");
    // INIT-REBOOT: no server id.
    let out = ask(&mut s, &Bootp::new(10, WS2_MAC).dhcp(REQUEST).opt(50, &WS2_IP.octets()).frame());
    assert_eq!(opt(&out.payload, 53), Some(vec![ACK]));
    // RENEWING: ciaddr, unicast from the client: the ACK goes to ciaddr (giaddr 0).
    let req = Bootp::new(11, WS2_MAC).dhcp(REQUEST).ciaddr(WS2_IP);
    let f = udp_frame(WS2_MAC, SERVER_MAC, WS2_IP, 68, SERVER_IP, 67, &req.bytes());
    let out = ask(&mut s, &f);
    let p = Packet::new_unchecked(&out.payload[..]);
    assert_eq!((p.ciaddr(), p.yiaddr()), (WS2_IP, WS2_IP), "Table 3: ciaddr from the DHCPREQUEST");
    assert_eq!((out.dst_mac, out.dst_ip, out.dst_port), (WS2_MAC, WS2_IP, 68));
    assert!(log_text(&mut s).contains("DHCPACK (RENEWING/REBINDING) of 192.0.2.22 to client ws2"));
}

#[test]
fn request_for_another_address_is_naked() {
    let mut s = server(&[]);
    let req = Bootp::new(5, WS1_MAC).dhcp(REQUEST).opt(50, &[192, 0, 2, 77]).opt(61, &[1, 2, 0, 0, 0, 0xbe, 1]);
    let out = ask(&mut s, &req.frame());
    let p = Packet::new_unchecked(&out.payload[..]);
    // Table 3, DHCPNAK column.
    assert_eq!(
        (p.ciaddr(), p.yiaddr(), p.siaddr(), p.giaddr()),
        (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED)
    );
    assert_eq!(p.sname_field(), &[0u8; 64][..]);
    assert_eq!(p.file_field(), &[0u8; 128][..]);
    assert_eq!(opt(&out.payload, 53), Some(vec![NAK]));
    assert_eq!(opt(&out.payload, 54), Some(SERVER_IP.octets().to_vec()));
    assert_eq!(opt(&out.payload, 61), Some(vec![1, 2, 0, 0, 0, 0xbe, 1]), "RFC 6842: client id echoed");
    assert_eq!(
        opt(&out.payload, 56).map(|m| String::from_utf8(m).unwrap()).as_deref(),
        Some("requested address 192.0.2.77 is not the address of this client (192.0.2.21)")
    );
    assert_eq!(codes(&out.payload), vec![53, 54, 61, 56], "no lease time, no parameters");
    // giaddr 0: always broadcast.
    assert_eq!((out.dst_mac, out.dst_ip, out.dst_port), (BROADCAST_MAC, Ipv4Addr::BROADCAST, 68));
    // Through a relay: to giaddr:67, with the BROADCAST bit set for the relay.
    let out =
        ask(&mut s, &Bootp::new(6, WS3_MAC).dhcp(REQUEST).opt(50, &[198, 51, 100, 99]).giaddr(RELAY_IP).relayed());
    assert_eq!((out.dst_mac, out.dst_ip, out.dst_port), (RELAY_MAC, RELAY_IP, 67));
    let p = Packet::new_unchecked(&out.payload[..]);
    assert_eq!((p.flags(), p.giaddr()), (0x8000, RELAY_IP));
    // A renewing client with the wrong ciaddr is NAKed too.
    let out = ask(&mut s, &Bootp::new(7, WS1_MAC).dhcp(REQUEST).ciaddr(Ipv4Addr::new(192, 0, 2, 78)).frame());
    assert_eq!(opt(&out.payload, 53), Some(vec![NAK]));
}

#[test]
fn request_for_another_server_or_without_address_is_silent() {
    let mut s = server(&[]);
    let other = Bootp::new(1, WS1_MAC).dhcp(REQUEST).opt(54, &[192, 0, 2, 9]).opt(50, &WS1_IP.octets());
    assert!(s.handle_frame(T0, &other.frame()).is_empty());
    assert_eq!(s.stats().dropped(DropReason::OtherServer), 1);
    let neither = Bootp::new(2, WS1_MAC).dhcp(REQUEST);
    assert!(s.handle_frame(T0, &neither.frame()).is_empty());
    assert_eq!(s.stats().dropped(DropReason::BadDhcp), 1);
    assert!(log_text(&mut s).contains("RFC2131 §4.3.2: xid 0x00000001: DHCPREQUEST selects server 192.0.2.9, not us"));
}

#[test]
fn inform_is_acked_without_address_or_lease() {
    let mut s = server(&[]);
    let req = Bootp::new(8, WS1_MAC).dhcp(INFORM).ciaddr(WS1_IP);
    let f = udp_frame(WS1_MAC, SERVER_MAC, WS1_IP, 68, SERVER_IP, 67, &req.bytes());
    let out = ask(&mut s, &f);
    let p = Packet::new_unchecked(&out.payload[..]);
    assert_eq!(opt(&out.payload, 53), Some(vec![ACK]));
    assert!(opt(&out.payload, 51).is_none(), "§4.3.5 MUST NOT send a lease time");
    assert_eq!((p.ciaddr(), p.yiaddr(), p.siaddr()), (WS1_IP, Ipv4Addr::UNSPECIFIED, SERVER_IP));
    assert_eq!(opt(&out.payload, 1), Some(vec![255, 255, 255, 0]));
    // §4.3.5: straight to ciaddr, even through a relay.
    assert_eq!((out.dst_mac, out.dst_ip, out.dst_port), (WS1_MAC, WS1_IP, 68));
    let out = ask(&mut s, &Bootp::new(9, WS3_MAC).dhcp(INFORM).ciaddr(WS3_IP).giaddr(RELAY_IP).relayed());
    assert_eq!((out.dst_mac, out.dst_ip, out.dst_port), (RELAY_MAC, WS3_IP, 68));
}

/// RFC 2131 §4.1 checks giaddr before ciaddr (BOOTP, RFC 1542 §5.4, the other way).
#[test]
fn dhcp_delivery_prefers_giaddr() {
    let mut s = server(&[]);
    let req = Bootp::new(1, WS3_MAC).dhcp(REQUEST).ciaddr(WS3_IP).giaddr(RELAY_IP);
    let out = ask(&mut s, &req.relayed());
    assert_eq!((out.dst_mac, out.dst_ip, out.dst_port), (RELAY_MAC, RELAY_IP, 67));
    let bootp = Bootp::new(1, WS3_MAC).ciaddr(WS3_IP).giaddr(RELAY_IP);
    let out = ask(&mut s, &bootp.relayed());
    assert_eq!((out.dst_ip, out.dst_port), (WS3_IP, 68));
}

#[test]
fn unknown_dhcp_clients_are_silent_and_client_id_is_the_key() {
    let mut s = server(&[]);
    assert!(s.handle_frame(T0, &Bootp::new(1, STRANGER_MAC).dhcp(DISCOVER).frame()).is_empty());
    // §4.2: the client identifier is the key: a type-1 id naming ws2 from another chaddr.
    let out = ask(&mut s, &Bootp::new(2, STRANGER_MAC).dhcp(DISCOVER).opt(61, &[1, 2, 0, 0, 0, 0xbe, 2]).frame());
    assert_eq!(Packet::new_unchecked(&out.payload[..]).yiaddr(), WS2_IP);
    assert_eq!(opt(&out.payload, 61), Some(vec![1, 2, 0, 0, 0, 0xbe, 2]));
    // A DUID-style id does not match the Ethernet host table, even from ws1's chaddr.
    let duid = Bootp::new(3, WS1_MAC).dhcp(DISCOVER).opt(61, &[255, 0, 0, 0, 1, 0, 3, 0, 1, 2, 0, 0, 0, 0xbe, 1]);
    assert!(s.handle_frame(T0, &duid.frame()).is_empty());
    assert_eq!(s.stats().dropped(DropReason::UnknownClient), 2);
    assert!(log_text(&mut s).contains(
        "RFC2131 §4.2: xid 0x00000001: DHCPDISCOVER: chaddr 02:00:00:00:be:99 is not in the host table: silent"
    ));
}

#[test]
fn decline_release_and_server_messages_get_no_reply() {
    let mut s = server(&[]);
    for t in [DECLINE, RELEASE] {
        assert!(s.handle_frame(T0, &Bootp::new(1, WS1_MAC).dhcp(t).frame()).is_empty());
    }
    assert_eq!(s.stats().dropped(DropReason::NoReplyNeeded), 2);
    for t in [OFFER, ACK, NAK, 0, 9, 200] {
        assert!(s.handle_frame(T0, &Bootp::new(1, WS1_MAC).dhcp(t).frame()).is_empty());
    }
    // Option 53 of the wrong length.
    assert!(s.handle_frame(T0, &Bootp::new(1, WS1_MAC).opt(53, &[1, 1]).frame()).is_empty());
    assert!(s.handle_frame(T0, &Bootp::new(1, WS1_MAC).opt(53, &[]).frame()).is_empty());
    assert_eq!(s.stats().dropped(DropReason::BadDhcp), 8);
    let log = log_text(&mut s);
    assert!(log.contains("RFC2131 §4.3.3"), "{log}");
    assert!(log.contains("RFC2131 §4.3.4"), "{log}");
}

/// Option 57 raises the options-field budget; without it 576 octets (RFC 2131 §2).
#[test]
fn options_budget() {
    let mut site = site();
    site.domain = "d".repeat(250);
    let mut s = bootcheck_refserver::Server::new(site, vec![]);
    // BOOTP: 64 octets of vend, the long domain is left out.
    let out = ask(&mut s, &Bootp::new(1, WS1_MAC).frame());
    assert_eq!(out.payload.len(), 300);
    assert!(opt(&out.payload, 15).is_none());
    assert!(log_text(&mut s).contains("options [15] left out"));
    // DHCP: 312 octets of options: it fits.
    let out = ask(&mut s, &Bootp::new(2, WS1_MAC).dhcp(DISCOVER).frame());
    assert_eq!(opt(&out.payload, 15).map(|d| d.len()), Some(250));
    assert!(out.payload.len() <= 576 - 28);
    // A client that says 576 is too much for it is still given 576 (the minimum).
    let out = ask(&mut s, &Bootp::new(3, WS1_MAC).dhcp(DISCOVER).opt(57, &[1, 0]).frame());
    assert!(opt(&out.payload, 15).is_some());
}
