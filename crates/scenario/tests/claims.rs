//! Frame ownership when scenarios share one port (`Execution::claim`, `footprint::route`):
//! each execution claims what its own requests drew — replies with its xids, its TFTP
//! endpoint, the RARP reply about its MAC, ARP for the addresses it plays, ICMP errors
//! quoting its datagrams — and nothing else; a chaddr alone is a weaker claim.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

use bootcheck_scenario::engine::{frame_xid, Claim, Env, Execution};
use bootcheck_scenario::{footprint, load_site, Mac, Scenario, Site};
use bootcheck_wire::arp::EthernetIpv4;
use bootcheck_wire::frame::{self, Frame, LinkType, UdpEndpoints};

const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x5e, 0x01];
const SERVER_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

fn site() -> Site {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/site.yaml");
    load_site(&p).unwrap_or_else(|e| panic!("{e}"))
}

fn exec(yaml: &str) -> Execution {
    let scn: Scenario = serde_yaml::from_str(yaml).unwrap();
    let env = Env { site: site(), seed: 1, harness_mac: Mac([2, 0, 0, 0, 0x77, 1]), gateway_mac: None };
    Execution::new(scn, env).unwrap()
}

/// Everything the execution sends now (its first step).
fn sent(e: &mut Execution) -> Vec<Vec<u8>> {
    std::iter::from_fn(|| e.poll_transmit(Duration::ZERO)).collect()
}

/// A BOOTREPLY from the server to `request`, with `xid` and `chaddr` changed if given.
fn reply(request: &[u8], xid: Option<u32>, chaddr: Option<[u8; 6]>) -> Vec<u8> {
    let f = Frame::parse(LinkType::Ethernet, request).unwrap();
    let mut msg = f.bootp().unwrap().to_vec();
    msg[0] = 2;
    if let Some(x) = xid {
        msg[4..8].copy_from_slice(&x.to_be_bytes());
    }
    if let Some(c) = chaddr {
        msg[28..34].copy_from_slice(&c);
    }
    to_client(&msg, 67, 68, Ipv4Addr::BROADCAST)
}

fn to_client(payload: &[u8], src_port: u16, dst_port: u16, dst_ip: Ipv4Addr) -> Vec<u8> {
    let ep = UdpEndpoints {
        src_mac: SERVER_MAC,
        dst_mac: frame::BROADCAST_MAC,
        src_ip: SERVER_IP,
        dst_ip,
        src_port,
        dst_port,
        ttl: 64,
    };
    frame::build_udp(&ep, payload).unwrap()
}

fn arp_request(tpa: Ipv4Addr) -> Vec<u8> {
    let body = EthernetIpv4::request(SERVER_MAC, SERVER_IP, tpa).to_vec();
    frame::build_ethernet(SERVER_MAC, frame::BROADCAST_MAC, frame::ETHERTYPE_ARP, &body)
}

/// ICMP port unreachable about `datagram` (an Ethernet frame the harness sent).
fn icmp_about(datagram: &[u8]) -> Vec<u8> {
    let quoted = &datagram[14..14 + 28];
    let mut icmp = vec![3u8, 3, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(quoted);
    let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0];
    ip.extend_from_slice(&SERVER_IP.octets());
    ip.extend_from_slice(&datagram[14 + 12..14 + 16]);
    let total = u16::try_from(20 + icmp.len()).unwrap();
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&icmp);
    frame::build_ethernet(SERVER_MAC, frame::BROADCAST_MAC, 0x0800, &ip)
}

const WS1_BOOTP: &str =
    "id: t/ws1\ntitle: t\nclient: ws1\nsteps:\n  - send: { bootp: {} }\n    expect: { reply: {} }\n";
const WS2_TFTP: &str = "id: t/ws2\ntitle: t\nclient: ws2\nsteps:\n  - send: { tftp-read: { file: /tftpboot/boot/kernel.img } }\n    expect: { transfer: {} }\n";
const RELAYED: &str =
    "id: t/relay\ntitle: t\nclient: { mac: \"02:00:00:00:be:99\" }\nsteps:\n  - send: { bootp: { as: relay } }\n    expect: { reply: {} }\n";
const RARP: &str = "id: t/rarp\ntitle: t\nclient: ws2\nsteps:\n  - send: { rarp: {} }\n    expect: { reply: {} }\n";

#[test]
fn nothing_is_claimed_before_the_first_send() {
    let mut a = exec(WS1_BOOTP);
    let mut probe = exec(WS1_BOOTP);
    let q = sent(&mut probe).remove(0);
    assert_eq!(a.claim(&reply(&q, None, None)), Claim::None);
    sent(&mut a);
    assert_eq!(a.claim(&reply(&q, None, None)), Claim::Own);
}

#[test]
fn bootp_replies_go_by_xid_then_chaddr() {
    let mut a = exec(WS1_BOOTP);
    let mut r = exec(RELAYED);
    let qa = sent(&mut a).remove(0);
    let qr = sent(&mut r).remove(0);
    let ws1 = site().client("ws1").unwrap().mac.0;
    // Its own xid: its reply, whatever the chaddr says.
    assert_eq!(a.claim(&reply(&qa, None, None)), Claim::Own);
    assert_eq!(a.claim(&reply(&qa, None, Some([2, 0, 0, 0, 0xbe, 0x42]))), Claim::Own);
    assert_eq!(r.claim(&reply(&qa, None, None)), Claim::None);
    // Another's xid with its chaddr: a chaddr claim, which the other's xid claim beats.
    let theirs = reply(&qr, None, Some(ws1));
    assert_eq!(a.claim(&theirs), Claim::Chaddr);
    assert_eq!(r.claim(&theirs), Claim::Own);
    assert_eq!(footprint::route(&[a.claim(&theirs), r.claim(&theirs)], &theirs, |_| false), vec![1]);
    // A mangled xid with its chaddr is its (weakly), unless the xid is a finished
    // scenario's: a late answer, nobody's now.
    let stray = reply(&qa, Some(0x1234_5678), None);
    assert_eq!(a.claim(&stray), Claim::Chaddr);
    assert_eq!(footprint::route(&[a.claim(&stray)], &stray, |_| false), vec![0]);
    assert_eq!(footprint::route(&[a.claim(&stray)], &stray, |x| x == 0x1234_5678), Vec::<usize>::new());
    // A reply cut short after the xid is still claimed by it.
    let mut short = reply(&qa, None, None);
    short.truncate(14 + 20 + 8 + 12);
    assert_eq!(frame_xid(&short), frame_xid(&qa));
    assert_eq!(a.claim(&short), Claim::Own);
}

#[test]
fn tftp_goes_by_endpoint_and_arp_by_address() {
    let site = site();
    let mut t = exec(WS2_TFTP);
    let mut a = exec(WS1_BOOTP);
    let rrq = sent(&mut t).remove(0);
    sent(&mut a);
    let f = Frame::parse(LinkType::Ethernet, &rrq).unwrap();
    let port = f.udp().unwrap().src_port;
    let ws2 = site.client("ws2").unwrap().ip;
    let data = to_client(&[0, 3, 0, 1, 1, 2, 3], 50000, port, ws2);
    assert_eq!(t.claim(&data), Claim::Own);
    assert_eq!(a.claim(&data), Claim::None);
    // Another port, or another address: not its transfer.
    assert_eq!(t.claim(&to_client(&[0, 3, 0, 1], 50000, port.wrapping_add(7), ws2)), Claim::None);
    assert_eq!(t.claim(&to_client(&[0, 3, 0, 1], 50000, port, Ipv4Addr::new(192, 0, 2, 99))), Claim::None);
    // The server asks for the TFTP client's address: the TFTP execution answers.
    assert_eq!(t.claim(&arp_request(ws2)), Claim::Own);
    assert_eq!(a.claim(&arp_request(ws2)), Claim::None);
    // The relay addresses every execution plays: one of them answers (the first),
    // unless one sent as the relay.
    let relay_arp = arp_request(site.relay.ip);
    let claims = [t.claim(&relay_arp), a.claim(&relay_arp)];
    assert_eq!(claims, [Claim::Shared, Claim::Shared]);
    assert_eq!(footprint::route(&claims, &relay_arp, |_| false), vec![0]);
    let mut r = exec(RELAYED);
    sent(&mut r);
    let claims = [t.claim(&relay_arp), r.claim(&relay_arp)];
    assert_eq!(footprint::route(&claims, &relay_arp, |_| false), vec![1]);
}

#[test]
fn rarp_and_icmp_go_to_the_sender() {
    let site = site();
    let mut r = exec(RARP);
    let mut a = exec(WS1_BOOTP);
    sent(&mut r);
    let qa = sent(&mut a).remove(0);
    let ws2 = site.client("ws2").unwrap();
    let body = EthernetIpv4::rarp_reply(SERVER_MAC, SERVER_IP, ws2.mac.0, ws2.ip).to_vec();
    let rarp = frame::build_ethernet(SERVER_MAC, ws2.mac.0, frame::ETHERTYPE_RARP, &body);
    assert_eq!(r.claim(&rarp), Claim::Own);
    assert_eq!(a.claim(&rarp), Claim::None);
    let other = EthernetIpv4::rarp_reply(SERVER_MAC, SERVER_IP, [2, 0, 0, 0, 0xbe, 0x42], ws2.ip).to_vec();
    assert_eq!(r.claim(&frame::build_ethernet(SERVER_MAC, ws2.mac.0, frame::ETHERTYPE_RARP, &other)), Claim::None);
    // An ICMP error quoting the BOOTREQUEST A sent is A's.
    let icmp = icmp_about(&qa);
    assert_eq!(a.claim(&icmp), Claim::Own);
    assert_eq!(r.claim(&icmp), Claim::None);
    // Quoting a request A did not send (another xid changes the UDP checksum): not A's.
    let mut b = exec(&WS1_BOOTP.replace("t/ws1", "t/other"));
    let qb = sent(&mut b).remove(0);
    assert_eq!(a.claim(&icmp_about(&qb)), Claim::None);
}
