//! Known-byte tests for `bootcheck_wire::arp`, with packets taken from public captures
//! (the link-layer payload of the named frame: after the 14-octet Ethernet header, or
//! the 20-octet Linux SLL2 header), in four directions: view accessors on the bytes, a
//! hand-built Repr emitted to the bytes, the bytes parsed to the expected Repr, and the
//! parsed Repr emitted back. Then the negative cases and an exhaustive no-panic sweep.

use core::net::Ipv4Addr;

use bootcheck_wire::arp::{
    EthernetIpv4, Operation, Packet, Repr, ETHERNET_IPV4_LEN, ETHERTYPE_ARP, ETHERTYPE_RARP, HEADER_LEN, HTYPE_ATM,
    HTYPE_ETHERNET, PTYPE_IPV4,
};
use bootcheck_wire::ErrorKind;

/// Decode a hex string, ignoring whitespace.
fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    assert!(digits.len() % 2 == 0, "odd number of hex digits");
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).expect("ascii"), 16).expect("hex digit"))
        .collect()
}

// ---------------------------------------------------------------------------------
// Known packets
// ---------------------------------------------------------------------------------

/// tcpdump/arp-oobr.pcap frame 1: request who-has 192.168.1.1 tell 192.168.1.104, then
/// 18 octets of Ethernet padding.
const REQUEST_PADDED: &str = "0001 0800 06 04 0001 001f29da2d79 c0a80168 000000000000 c0a80101
    000000000000000000000000000000000000";

/// tcpdump/arp-oobr.pcap frame 11: reply 192.168.0.1 is-at 00:21:d8:01:03:45 (to a
/// fuzzed target 193.168.0.30 at 00:08:25:00:b2:36), then 18 octets of padding.
const REPLY_PADDED: &str = "0001 0800 06 04 0002 0021d8010345 c0a80001 00082500b236 c1a8001e
    000000000000000000000000000000000000";

/// nDPI/iphone.pcap frame 46: reply 192.168.2.1 is-at c6:2c:03:60:6a:64, no padding.
const REPLY: &str = "0001 0800 06 04 0002 c62c03606a64 c0a80201 c4618b3582a9 c0a80211";

/// zeek/linux_dlt_sll2.pcap frame 5 (SLL2 protocol 0x0806): request who-has 192.0.2.2
/// tell 192.0.2.1.
const REQUEST_SLL2: &str = "0001 0800 06 04 0001 8e360644acaf c0000201 000000000000 c0000202";

/// zeek/linux_dlt_sll2.pcap frame 6 (SLL2 protocol 0x8035, RARP): request reverse from
/// 8e:36:06:44:ac:af for 00:00:00:00:00:00, with both protocol addresses filled in.
const RARP_REQUEST_SLL2: &str = "0001 0800 06 04 0003 8e360644acaf c0000201 000000000000 c0000202";

/// tcpdump/arp-oobr.pcap frame 1065: a RARP request (operation 3) under the ARP
/// EtherType, then 18 octets of padding.
const RARP_REQUEST_PADDED: &str = "0001 0800 06 04 0003 001f29da2d79 c0a80168 000000000000 c0a80101
    000000000000000000000000000000000000";

/// tcpdump/arp-oobr.pcap frame 28: hlen 14, plen 4 (body of 44 octets, 2 of padding).
const HLEN_14: &str = "0001 0800 0e 04 0001 001f29da2d79c0a8016e00000000 0000c0a8
    0101101800100000000000000000 00000000 0000";

/// tcpdump/arp-oobr.pcap frame 305: hlen 6, plen 12 (body of 44 octets, 2 of padding).
const PLEN_12: &str = "0001 0800 06 0c 0001 001f29da0479 c0a80168000000000000c0a8
    010100000000 000000000000000000000000 0000";

/// tcpdump/arp-oobr.pcap frame 15: unknown operation 0x7501.
const UNKNOWN_OP: &str = "0001 0800 06 04 7501 001f29daf8fb c0a80025 000000000000 c0a80025
    000000000000000000000000000000000000";

/// tcpdump/arp-oobr.pcap frame 13: hlen 0x86 (134): the addresses would need
/// 8 + 2 × (134 + 4) = 284 octets, but the payload has 46.
const HLEN_OVERRUN: &str = "0001 0800 86 04 0001 001f29daf8fbc0a80025000000000000c0a8002500000000
    0000000000000000006b00000000";

/// tcpdump/arp-oobr.pcap frame 307: hlen 0x62 (98): would need 212 octets of 46.
const HLEN_OVERRUN_2: &str = "0001 0800 62 04 0001 001f29da2d79c0a80168000000000000c0a8010100000000
    0000000000000000000000000000";

fn all_known() -> Vec<(&'static str, Vec<u8>)> {
    [
        ("REQUEST_PADDED", REQUEST_PADDED),
        ("REPLY_PADDED", REPLY_PADDED),
        ("REPLY", REPLY),
        ("REQUEST_SLL2", REQUEST_SLL2),
        ("RARP_REQUEST_SLL2", RARP_REQUEST_SLL2),
        ("RARP_REQUEST_PADDED", RARP_REQUEST_PADDED),
        ("HLEN_14", HLEN_14),
        ("PLEN_12", PLEN_12),
        ("UNKNOWN_OP", UNKNOWN_OP),
    ]
    .into_iter()
    .map(|(n, h)| (n, hex(h)))
    .collect()
}

/// Parse and check that emitting gives the body back, and body + trailing the input.
fn roundtrip(bytes: &[u8]) -> Repr<'_> {
    let packet = Packet::new_checked(bytes).expect("valid packet");
    let repr = Repr::parse(&packet).expect("parses");
    let body = packet.body_len();
    assert_eq!(repr.buffer_len(), body);
    assert_eq!(repr.to_vec(), &bytes[..body], "emit(parse(x)) != x for {repr}");
    assert_eq!([repr.to_vec(), packet.trailing().to_vec()].concat(), bytes);
    let mut buf = vec![0xa5u8; body + 3];
    assert_eq!(repr.emit(&mut buf).expect("fits"), body);
    assert_eq!(&buf[..body], &bytes[..body]);
    assert_eq!(repr.check_encodable(), Ok(()));
    repr
}

const MAC_1F: [u8; 6] = [0x00, 0x1f, 0x29, 0xda, 0x2d, 0x79];

// ---------------------------------------------------------------------------------
// ARP request
// ---------------------------------------------------------------------------------

#[test]
fn request_deconstruct() {
    let bytes = hex(REQUEST_PADDED);
    assert_eq!(bytes.len(), 46);
    let p = Packet::new_checked(&bytes[..]).expect("valid");
    assert_eq!(p.hardware_type(), HTYPE_ETHERNET);
    assert_eq!(p.protocol_type(), PTYPE_IPV4);
    assert_eq!((p.hardware_len(), p.protocol_len()), (6, 4));
    assert_eq!(p.operation(), Operation::Request);
    assert_eq!(p.sha(), MAC_1F);
    assert_eq!(p.spa(), [192, 168, 1, 104]);
    assert_eq!(p.tha(), [0; 6]);
    assert_eq!(p.tpa(), [192, 168, 1, 1]);
    assert_eq!(p.sender_mac(), Some(MAC_1F));
    assert_eq!(p.sender_ipv4(), Some(Ipv4Addr::new(192, 168, 1, 104)));
    assert_eq!(p.target_mac(), Some([0; 6]));
    assert_eq!(p.target_ipv4(), Some(Ipv4Addr::new(192, 168, 1, 1)));
    assert_eq!(p.body_len(), ETHERNET_IPV4_LEN);
    assert_eq!(p.trailing_len(), 18);
    assert_eq!(p.trailing(), [0; 18]);
}

#[test]
fn request_construct() {
    let bytes = hex(REQUEST_PADDED);
    let repr = Repr {
        hardware_type: HTYPE_ETHERNET,
        protocol_type: PTYPE_IPV4,
        operation: Operation::Request,
        sha: &MAC_1F,
        spa: &[192, 168, 1, 104],
        tha: &[0; 6],
        tpa: &[192, 168, 1, 1],
    };
    assert_eq!(repr.to_vec(), &bytes[..28]);
    let typed = EthernetIpv4::request(MAC_1F, Ipv4Addr::new(192, 168, 1, 104), Ipv4Addr::new(192, 168, 1, 1));
    assert_eq!(typed.to_vec(), &bytes[..28]);
    let mut buf = [0u8; 46];
    assert_eq!(typed.emit(&mut buf), Ok(28));
    assert_eq!(buf.to_vec(), bytes, "the padding of this capture is zeros");

    // The same through the view's setters.
    let mut buf = [0u8; 28];
    let mut p = Packet::new_unchecked(&mut buf);
    p.set_hardware_type(HTYPE_ETHERNET);
    p.set_protocol_type(PTYPE_IPV4);
    p.set_hardware_len(6);
    p.set_protocol_len(4);
    p.set_operation(Operation::Request);
    p.addresses_mut()[..10].copy_from_slice(&[0x00, 0x1f, 0x29, 0xda, 0x2d, 0x79, 192, 168, 1, 104]);
    p.addresses_mut()[16..].copy_from_slice(&[192, 168, 1, 1]);
    assert_eq!(buf, bytes[..28]);
}

#[test]
fn request_parse_and_emit() {
    let bytes = hex(REQUEST_PADDED);
    let repr = roundtrip(&bytes);
    assert_eq!(repr, Repr::ethernet_ipv4(Operation::Request, &MAC_1F, &[192, 168, 1, 104], &[0; 6], &[192, 168, 1, 1]));
    assert!(repr.is_ethernet_ipv4());
    assert_eq!(
        repr.to_ethernet_ipv4(),
        Some(EthernetIpv4::request(MAC_1F, Ipv4Addr::new(192, 168, 1, 104), Ipv4Addr::new(192, 168, 1, 1)))
    );
    assert_eq!(repr.to_string(), "ARP request who-has 192.168.1.1 tell 192.168.1.104 (00:1f:29:da:2d:79)");
    assert_eq!(Packet::new_unchecked(&bytes[..]).to_string(), repr.to_string());
}

#[test]
fn request_from_sll2_capture() {
    let bytes = hex(REQUEST_SLL2);
    let p = Packet::new_checked(&bytes[..]).expect("valid");
    assert_eq!(p.trailing_len(), 0);
    assert_eq!(p.operation(), Operation::Request);
    let mac = [0x8e, 0x36, 0x06, 0x44, 0xac, 0xaf];
    let expected = EthernetIpv4::request(mac, Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
    assert_eq!(expected.to_vec(), bytes);
    let repr = roundtrip(&bytes);
    assert_eq!(repr.to_ethernet_ipv4(), Some(expected));
    assert_eq!(repr.to_string(), "ARP request who-has 192.0.2.2 tell 192.0.2.1 (8e:36:06:44:ac:af)");
}

// ---------------------------------------------------------------------------------
// ARP reply
// ---------------------------------------------------------------------------------

#[test]
fn reply_four_ways() {
    let bytes = hex(REPLY);
    let p = Packet::new_checked(&bytes[..]).expect("valid");
    assert_eq!(p.operation(), Operation::Reply);
    let router = [0xc6, 0x2c, 0x03, 0x60, 0x6a, 0x64];
    let phone = [0xc4, 0x61, 0x8b, 0x35, 0x82, 0xa9];
    assert_eq!(p.sender_mac(), Some(router));
    assert_eq!(p.sender_ipv4(), Some(Ipv4Addr::new(192, 168, 2, 1)));
    assert_eq!(p.target_mac(), Some(phone));
    assert_eq!(p.target_ipv4(), Some(Ipv4Addr::new(192, 168, 2, 17)));
    assert_eq!(p.trailing_len(), 0);

    let expected = EthernetIpv4::reply(router, Ipv4Addr::new(192, 168, 2, 1), phone, Ipv4Addr::new(192, 168, 2, 17));
    assert_eq!(expected.to_vec(), bytes);
    let repr = roundtrip(&bytes);
    assert_eq!(repr, Repr::ethernet_ipv4(Operation::Reply, &router, &[192, 168, 2, 1], &phone, &[192, 168, 2, 17]));
    assert_eq!(repr.to_ethernet_ipv4(), Some(expected));
    assert_eq!(repr.to_string(), "ARP reply 192.168.2.1 is-at c6:2c:03:60:6a:64");
    assert_eq!(expected.to_string(), repr.to_string());
}

#[test]
fn reply_with_padding() {
    let bytes = hex(REPLY_PADDED);
    let p = Packet::new_checked(&bytes[..]).expect("valid");
    assert_eq!((p.body_len(), p.trailing_len()), (28, 18));
    let sha = [0x00, 0x21, 0xd8, 0x01, 0x03, 0x45];
    let tha = [0x00, 0x08, 0x25, 0x00, 0xb2, 0x36];
    let expected = Repr::ethernet_ipv4(Operation::Reply, &sha, &[192, 168, 0, 1], &tha, &[193, 168, 0, 30]);
    assert_eq!(expected.to_vec(), &bytes[..28]);
    let repr = roundtrip(&bytes);
    assert_eq!(repr, expected);
    assert_eq!(repr.to_string(), "ARP reply 192.168.0.1 is-at 00:21:d8:01:03:45");
}

// ---------------------------------------------------------------------------------
// RARP
// ---------------------------------------------------------------------------------

#[test]
fn rarp_request_from_sll2_capture() {
    assert_eq!(ETHERTYPE_RARP, 0x8035);
    assert_eq!(ETHERTYPE_ARP, 0x0806);
    let bytes = hex(RARP_REQUEST_SLL2);
    let p = Packet::new_checked(&bytes[..]).expect("valid");
    assert_eq!(p.operation(), Operation::RarpRequest);
    assert!(p.operation().is_rarp());
    let mac = [0x8e, 0x36, 0x06, 0x44, 0xac, 0xaf];
    assert_eq!(p.sha(), mac);
    assert_eq!(p.tha(), [0; 6]);

    let expected = Repr::ethernet_ipv4(Operation::RarpRequest, &mac, &[192, 0, 2, 1], &[0; 6], &[192, 0, 2, 2]);
    assert_eq!(expected.to_vec(), bytes);
    let repr = roundtrip(&bytes);
    assert_eq!(repr, expected);
    assert_eq!(repr.to_string(), "RARP request who-is 00:00:00:00:00:00 tell 8e:36:06:44:ac:af");
}

#[test]
fn rarp_request_under_arp_ethertype() {
    let bytes = hex(RARP_REQUEST_PADDED);
    let p = Packet::new_checked(&bytes[..]).expect("valid");
    assert_eq!((p.operation(), p.trailing_len()), (Operation::RarpRequest, 18));
    let repr = roundtrip(&bytes);
    assert_eq!(
        repr,
        Repr::ethernet_ipv4(Operation::RarpRequest, &MAC_1F, &[192, 168, 1, 104], &[0; 6], &[192, 168, 1, 1])
    );
    assert_eq!(repr.to_string(), "RARP request who-is 00:00:00:00:00:00 tell 00:1f:29:da:2d:79");
}

#[test]
fn rarp_request_and_reply_built_by_hand() {
    // None of the captures holds a RARP reply; these use documentation addresses.
    let client = [0x02, 0x00, 0x00, 0x00, 0xbe, 0x01];
    let server = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
    let req = EthernetIpv4::rarp_request(client, client);
    let bytes = req.to_vec();
    assert_eq!(bytes, hex("0001 0800 06 04 0003 02000000be01 00000000 02000000be01 00000000"));
    assert_eq!(roundtrip(&bytes).to_ethernet_ipv4(), Some(req));
    assert_eq!(req.to_string(), "RARP request who-is 02:00:00:00:be:01 tell 02:00:00:00:be:01");

    let reply = EthernetIpv4::rarp_reply(server, Ipv4Addr::new(192, 0, 2, 1), client, Ipv4Addr::new(192, 0, 2, 20));
    let bytes = reply.to_vec();
    assert_eq!(bytes, hex("0001 0800 06 04 0004 020000000001 c0000201 02000000be01 c0000214"));
    let repr = roundtrip(&bytes);
    assert_eq!(repr.operation, Operation::RarpReply);
    assert_eq!(repr.target_ipv4(), Some(Ipv4Addr::new(192, 0, 2, 20)));
    assert_eq!(repr.to_string(), "RARP reply 02:00:00:00:be:01 is-at 192.0.2.20");

    let req = EthernetIpv4::request(client, Ipv4Addr::new(192, 0, 2, 10), Ipv4Addr::new(192, 0, 2, 1));
    assert_eq!(req.to_string(), "ARP request who-has 192.0.2.1 tell 192.0.2.10 (02:00:00:00:be:01)");
    let probe = EthernetIpv4 { tha: server, ..req };
    assert_eq!(
        probe.to_string(),
        "ARP request who-has 192.0.2.1 (02:00:00:00:00:01) tell 192.0.2.10 (02:00:00:00:be:01)"
    );
}

// ---------------------------------------------------------------------------------
// Other address lengths and operations
// ---------------------------------------------------------------------------------

#[test]
fn hlen_14_four_ways() {
    let bytes = hex(HLEN_14);
    let p = Packet::new_checked(&bytes[..]).expect("valid");
    assert_eq!((p.hardware_len(), p.protocol_len(), p.body_len(), p.trailing_len()), (14, 4, 44, 2));
    assert_eq!(p.sha(), hex("001f29da2d79c0a8016e00000000"));
    assert_eq!(p.spa(), [0, 0, 192, 168]);
    assert_eq!(p.tha(), hex("0101101800100000000000000000"));
    assert_eq!(p.tpa(), [0; 4]);
    assert_eq!(p.sender_mac(), None);
    assert_eq!(p.sender_ipv4(), Some(Ipv4Addr::new(0, 0, 192, 168)));

    let (sha, tha) = (hex("001f29da2d79c0a8016e00000000"), hex("0101101800100000000000000000"));
    let expected = Repr {
        hardware_type: 1,
        protocol_type: 0x0800,
        operation: Operation::Request,
        sha: &sha,
        spa: &[0, 0, 192, 168],
        tha: &tha,
        tpa: &[0; 4],
    };
    assert_eq!(expected.to_vec(), &bytes[..44]);
    let repr = roundtrip(&bytes);
    assert_eq!(repr, expected);
    assert!(!repr.is_ethernet_ipv4());
    assert_eq!(repr.to_ethernet_ipv4(), None);
    assert_eq!(repr.sender_mac(), None);
    assert_eq!(
        repr.to_string(),
        "ARP request htype=1 ptype=0x0800 hlen=14 plen=4 sha=00:1f:29:da:2d:79:c0:a8:01:6e:00:00:00:00 \
         spa=0.0.192.168 tha=01:01:10:18:00:10:00:00:00:00:00:00:00:00 tpa=0.0.0.0"
    );
}

#[test]
fn plen_12_four_ways() {
    let bytes = hex(PLEN_12);
    let p = Packet::new_checked(&bytes[..]).expect("valid");
    assert_eq!((p.hardware_len(), p.protocol_len(), p.body_len(), p.trailing_len()), (6, 12, 44, 2));
    assert_eq!(p.sender_ipv4(), None, "plen is not 4");
    let spa = hex("c0a80168000000000000c0a8");
    let tpa = [0u8; 12];
    let expected = Repr {
        hardware_type: 1,
        protocol_type: 0x0800,
        operation: Operation::Request,
        sha: &[0x00, 0x1f, 0x29, 0xda, 0x04, 0x79],
        spa: &spa,
        tha: &[0x01, 0x01, 0, 0, 0, 0],
        tpa: &tpa,
    };
    assert_eq!(expected.to_vec(), &bytes[..44]);
    let repr = roundtrip(&bytes);
    assert_eq!(repr, expected);
    assert_eq!(repr.sender_mac(), Some([0x00, 0x1f, 0x29, 0xda, 0x04, 0x79]));
    assert_eq!(
        repr.to_string(),
        "ARP request htype=1 ptype=0x0800 hlen=6 plen=12 sha=00:1f:29:da:04:79 \
         spa=c0:a8:01:68:00:00:00:00:00:00:c0:a8 tha=01:01:00:00:00:00 tpa=00:00:00:00:00:00:00:00:00:00:00:00"
    );
}

#[test]
fn unknown_operation_is_kept() {
    let bytes = hex(UNKNOWN_OP);
    let p = Packet::new_checked(&bytes[..]).expect("valid");
    assert_eq!(p.operation(), Operation::Unknown(0x7501));
    let mac = [0x00, 0x1f, 0x29, 0xda, 0xf8, 0xfb];
    let expected =
        Repr::ethernet_ipv4(Operation::Unknown(0x7501), &mac, &[192, 168, 0, 37], &[0; 6], &[192, 168, 0, 37]);
    assert_eq!(expected.to_vec(), &bytes[..28]);
    let repr = roundtrip(&bytes);
    assert_eq!(repr, expected);
    assert!(repr.to_ethernet_ipv4().is_some());
    assert_eq!(
        repr.to_string(),
        "ARP op(29953) htype=1 ptype=0x0800 hlen=6 plen=4 sha=00:1f:29:da:f8:fb spa=192.168.0.37 \
         tha=00:00:00:00:00:00 tpa=192.168.0.37"
    );
    for v in 0..=10u16 {
        assert_eq!(u16::from(Operation::from(v)), v);
    }
    assert_eq!(Operation::from(3).to_string(), "reverse request");
    assert_eq!(Operation::from(9).to_string(), "op(9)");
}

#[test]
fn zero_length_addresses() {
    let repr = Repr {
        hardware_type: 0,
        protocol_type: 0,
        operation: Operation::Reply,
        sha: &[],
        spa: &[],
        tha: &[],
        tpa: &[],
    };
    let bytes = repr.to_vec();
    assert_eq!(bytes, hex("0000 0000 00 00 0002"));
    assert_eq!(roundtrip(&bytes), repr);
    assert_eq!(repr.to_string(), "ARP reply htype=0 ptype=0x0000 hlen=0 plen=0 sha=- spa=- tha=- tpa=-");
}

// ---------------------------------------------------------------------------------
// Negative
// ---------------------------------------------------------------------------------

#[test]
fn hlen_overrunning_the_buffer() {
    for (h, declared) in [(HLEN_OVERRUN, 284), (HLEN_OVERRUN_2, 212)] {
        let bytes = hex(h);
        assert_eq!(bytes.len(), 46);
        let err = Packet::new_checked(&bytes[..]).expect_err("overrun");
        assert_eq!(err.offset, 4, "reported at the hlen octet");
        assert!(
            matches!(err.kind, ErrorKind::LengthMismatch { declared: d, available: 46, .. } if d == declared),
            "{err}"
        );
        assert_eq!(Repr::parse_bytes(&bytes), Err(err.clone()));
        // The view still answers, without panicking.
        let p = Packet::new_unchecked(&bytes[..]);
        assert_eq!(p.body_len(), declared);
        assert_eq!(p.trailing_len(), 0);
        assert!(p.trailing().is_empty());
        assert!(p.tpa().is_empty());
        assert_eq!(p.to_string(), format!("ARP [{err}]"));
    }
    // plen overrunning a 28-octet body.
    let mut bytes = hex(REPLY);
    bytes[5] = 0xff;
    let err = Repr::parse_bytes(&bytes).expect_err("plen overrun");
    assert_eq!(
        err.kind,
        ErrorKind::LengthMismatch { what: "ARP packet (8 + 2 × (hlen + plen))", declared: 530, available: 28 }
    );
    // The largest declarable body.
    let mut bytes = vec![0u8; 1028];
    bytes[4] = 255;
    bytes[5] = 255;
    let repr = roundtrip(&bytes);
    assert_eq!((repr.sha.len(), repr.tpa.len()), (255, 255));
    assert!(Repr::parse_bytes(&bytes[..1027]).is_err());
}

/// tcpdump/arp-oobr.pcap frame 1166: a request whose htype was fuzzed to 19 (ATM).
/// ATM ARP (RFC 2225) has another layout, so it is refused, not misread.
const HTYPE_ATM_FRAME: &str = "0013 0800 06 04 0001 001f29da2d79 c0a80168 000000000000 c0a80101
    000000000000000000000000000000000000";

#[test]
fn atm_hardware_type_is_unsupported() {
    let bytes = hex(HTYPE_ATM_FRAME);
    let err = Packet::new_checked(&bytes[..]).expect_err("ATM ARP");
    assert_eq!(err.offset, 0);
    assert!(matches!(err.kind, ErrorKind::Unsupported { value: 19, .. }), "{err}");
    assert_eq!(Repr::parse_bytes(&bytes), Err(err));
    let good = hex(REQUEST_SLL2);
    let repr = Repr { hardware_type: HTYPE_ATM, ..roundtrip(&good) };
    assert!(repr.check_encodable().is_err());
}

#[test]
fn every_truncation_errors() {
    for (name, bytes) in all_known() {
        let body = Packet::new_unchecked(&bytes[..]).body_len();
        for n in 0..=bytes.len() {
            let prefix = &bytes[..n];
            let res = Repr::parse_bytes(prefix);
            if n < body {
                let err = res.expect_err(name);
                if n < HEADER_LEN {
                    assert_eq!(err.kind, ErrorKind::Truncated { what: "ARP header", need: 8, have: n });
                    assert_eq!(err.offset, n);
                } else {
                    assert!(matches!(err.kind, ErrorKind::LengthMismatch { available, .. } if available == n));
                }
                assert!(Packet::new_checked(prefix).is_err());
            } else {
                let r = res.expect(name);
                assert_eq!(r.to_vec(), &bytes[..body]);
                assert_eq!(Packet::new_unchecked(prefix).trailing_len(), n - body);
            }
        }
    }
}

#[test]
fn hand_built_mismatched_lengths_emit_as_given() {
    let repr = Repr {
        hardware_type: 1,
        protocol_type: 0x0800,
        operation: Operation::Request,
        sha: &[1, 2, 3, 4, 5, 6],
        spa: &[192, 0, 2, 1],
        tha: &[9; 4],
        tpa: &[192, 0, 2, 2],
    };
    let err = repr.check_encodable().expect_err("tha shorter than sha");
    assert_eq!(err.offset, 4);
    let bytes = repr.to_vec();
    assert_eq!(bytes.len(), 26);
    assert_eq!(&bytes[4..6], [6, 4]);
    assert!(Repr::parse_bytes(&bytes).is_err(), "26 octets where 28 are declared");

    let long = vec![0u8; 256];
    let repr = Repr { sha: &long, tha: &long, ..repr };
    assert!(repr.check_encodable().is_err());
    assert_eq!(repr.to_vec()[4], 0, "256 wraps to 0");

    let repr = Repr { operation: Operation::Unknown(2), tha: &[0; 6], ..repr };
    let repr = Repr { sha: &[0; 6], ..repr };
    assert!(repr.check_encodable().is_err());

    let mut small = [0u8; 27];
    let err = EthernetIpv4::request([0; 6], Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED)
        .emit(&mut small)
        .expect_err("too small");
    assert_eq!(err.kind, ErrorKind::Truncated { what: "ARP output buffer", need: 28, have: 27 });
}

#[test]
fn setters_on_short_buffers_do_nothing() {
    let mut buf = [0u8; 3];
    let mut p = Packet::new_unchecked(&mut buf);
    p.set_hardware_type(0xffff);
    p.set_protocol_type(0xffff);
    p.set_hardware_len(1);
    p.set_protocol_len(1);
    p.set_operation(Operation::Reply);
    assert!(p.addresses_mut().is_empty());
    assert_eq!(buf, [0xff, 0xff, 0]);
}

// ---------------------------------------------------------------------------------
// No panic, whatever the input
// ---------------------------------------------------------------------------------

/// Everything a caller might do with untrusted bytes.
fn exercise(bytes: &[u8]) {
    let p = Packet::new_unchecked(bytes);
    let _ = (p.hardware_type(), p.protocol_type(), p.hardware_len(), p.protocol_len(), p.operation());
    let _ = (p.sha(), p.spa(), p.tha(), p.tpa(), p.body_len(), p.trailing_len(), p.trailing());
    let _ = (p.sender_mac(), p.sender_ipv4(), p.target_mac(), p.target_ipv4());
    let _ = p.to_string();
    let checked = Packet::new_checked(bytes);
    match Repr::parse_bytes(bytes) {
        Ok(r) => {
            assert!(checked.is_ok());
            let body = p.body_len();
            assert_eq!(r.to_vec(), &bytes[..body]);
            assert_eq!(r.check_encodable(), Ok(()));
            let _ = (r.to_string(), r.to_ethernet_ipv4(), r.sender_mac(), r.target_ipv4());
        }
        Err(e) => {
            assert!(checked.is_err());
            assert!(e.offset <= bytes.len());
        }
    }
}

#[test]
fn no_panic_on_prefixes_and_single_byte_mutations() {
    let extra = [
        ("HLEN_OVERRUN", hex(HLEN_OVERRUN)),
        ("HLEN_OVERRUN_2", hex(HLEN_OVERRUN_2)),
        ("HTYPE_ATM_FRAME", hex(HTYPE_ATM_FRAME)),
    ];
    for (_, bytes) in all_known().into_iter().chain(extra) {
        for n in 0..=bytes.len() {
            exercise(&bytes[..n]);
        }
        let mut m = bytes.clone();
        for i in 0..m.len() {
            let orig = m[i];
            for v in 0..=255u8 {
                m[i] = v;
                exercise(&m);
            }
            m[i] = orig;
        }
    }
}
