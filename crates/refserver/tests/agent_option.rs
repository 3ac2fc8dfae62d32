//! RFC 3046 §2.2: the relay agent information option (82) a relay agent added is echoed
//! whole, as the last option, in every reply — DHCP, and BOOTP with an RFC 1048 vend —
//! and a request without one gets none.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use bootcheck_wire::bootp::Packet;
use common::*;

const DISCOVER: u8 = 1;
const REQUEST: u8 = 3;

/// What ISC dhcrelay `-a` adds: a circuit-id sub-option naming its interface.
const AGENT: [u8; 13] = [1, 11, b'b', b'c', b'1', b'2', b'3', b'4', b'5', b'6', b'-', b'r', b'0'];

/// Option 82 is there once, as the last option (`codes` stops at End).
fn last_is_82_then_end(payload: &[u8]) -> bool {
    let c = codes(payload);
    c.last() == Some(&82) && c.iter().filter(|x| **x == 82).count() == 1
}

#[test]
fn a_relayed_dhcp_request_gets_its_option_82_back_last() {
    let mut s = server(&[]);
    let req = Bootp::new(0x82, WS3_MAC).dhcp(DISCOVER).opt(55, &[1, 3]).opt(82, &AGENT).giaddr(RELAY_IP);
    let out = ask(&mut s, &req.relayed());
    assert_eq!(opt(&out.payload, 82), Some(AGENT.to_vec()));
    assert!(last_is_82_then_end(&out.payload), "{:?}", codes(&out.payload));
    assert_eq!(codes(&out.payload), vec![53, 54, 51, 1, 3, 6, 12, 13, 15, 82]);
    assert!(Packet::new_unchecked(&out.payload[..]).check().is_ok());
    assert!(log_text(&mut s).contains("RFC3046 §2.2"));
    // The DHCPREQUEST that follows, and its DHCPACK.
    let req = Bootp::new(0x83, WS3_MAC)
        .dhcp(REQUEST)
        .opt(54, &SERVER_IP.octets())
        .opt(50, &WS3_IP.octets())
        .opt(82, &AGENT)
        .giaddr(RELAY_IP);
    let out = ask(&mut s, &req.relayed());
    assert_eq!(opt(&out.payload, 53), Some(vec![5]));
    assert_eq!(opt(&out.payload, 82), Some(AGENT.to_vec()));
    assert!(last_is_82_then_end(&out.payload));
}

#[test]
fn a_bootp_request_with_the_cookie_gets_it_back_too() {
    let mut s = server(&[]);
    let out = ask(&mut s, &Bootp::new(0x84, WS3_MAC).opt(82, &AGENT).giaddr(RELAY_IP).relayed());
    assert_eq!(opt(&out.payload, 82), Some(AGENT.to_vec()));
    assert!(last_is_82_then_end(&out.payload));
    // Still a 300-octet BOOTREPLY (RFC 1534 §2): a parameter gave way, not the echo.
    assert_eq!(out.payload.len(), 300);
    assert!(opt(&out.payload, 53).is_none());
}

#[test]
fn no_option_82_in_the_request_none_in_the_reply() {
    let mut s = server(&[]);
    for req in [Bootp::new(0x85, WS3_MAC).dhcp(DISCOVER).giaddr(RELAY_IP), Bootp::new(0x86, WS3_MAC).giaddr(RELAY_IP)] {
        let out = ask(&mut s, &req.relayed());
        assert!(opt(&out.payload, 82).is_none(), "{:?}", codes(&out.payload));
    }
    // A direct client's request without one: none either.
    let out = ask(&mut s, &Bootp::new(0x87, WS1_MAC).dhcp(DISCOVER).frame());
    assert!(opt(&out.payload, 82).is_none());
}

#[test]
fn an_option_82_that_cannot_fit_whole_is_left_out_whole() {
    let mut s = server(&[]);
    // 200 octets of agent information cannot fit in a BOOTP reply's 64-octet vend.
    let big = [9u8; 200];
    let out = ask(&mut s, &Bootp::new(0x88, WS3_MAC).opt(82, &big).giaddr(RELAY_IP).relayed());
    assert!(opt(&out.payload, 82).is_none());
    assert_eq!(out.payload.len(), 300);
    assert!(log_text(&mut s).contains("does not fit whole"));
    // In a DHCP reply (576-octet default) it fits, parameters first giving way.
    let out = ask(&mut s, &Bootp::new(0x89, WS3_MAC).dhcp(DISCOVER).opt(82, &big).giaddr(RELAY_IP).relayed());
    assert_eq!(opt(&out.payload, 82), Some(big.to_vec()));
    assert!(last_is_82_then_end(&out.payload));
}

#[test]
fn the_no_agent_option_echo_fault_drops_the_echo() {
    let mut s = server(&["no-agent-option-echo"]);
    let req = Bootp::new(0x8a, WS3_MAC).dhcp(DISCOVER).opt(82, &AGENT).giaddr(RELAY_IP);
    let out = ask(&mut s, &req.relayed());
    assert_eq!(opt(&out.payload, 53), Some(vec![2]));
    assert!(opt(&out.payload, 82).is_none());
    assert!(log_text(&mut s).contains("no-agent-option-echo"));
}
