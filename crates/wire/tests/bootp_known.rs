//! Known-byte tests for BOOTP messages and options, in four directions: deconstruct a
//! real message with the view, construct it from fields, parse it to a `Repr`, and
//! emit the `Repr` back to the same octets. Then the negative cases: every problem the
//! parser must report, with its offset.

use std::net::Ipv4Addr;

use bootcheck_wire::bootp::{self, OptItem, Packet, Repr, Vend, VendKind};
use bootcheck_wire::options::{self, code, Item, MessageType, Overload, RawOption, Value};
use bootcheck_wire::{Area, ErrorKind, Severity};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

/// charrua/dhcp2.pcap frame 2 (the Wireshark wiki DORA): the DHCPOFFER's UDP payload.
const OFFER: &str = "0201060000003d1d0000000000000000c0a8000ac0a8000100000000000b8201fc42
    00000000000000000000" /* chaddr padding */;

fn offer() -> Vec<u8> {
    let mut b = hex(OFFER);
    b.resize(236, 0); // sname and file are all zero
    b.extend(hex("638253633501020104ffffff003a04000007083b0400000c4e330400000e103604c0a80001ff"));
    b.resize(300, 0);
    b
}

fn offer_options() -> Vec<u8> {
    hex("3501020104ffffff003a04000007083b0400000c4e330400000e103604c0a80001")
}

#[test]
fn offer_deconstruct() {
    let b = offer();
    let p = Packet::new_checked(&b[..]).expect("valid");
    assert_eq!(p.op(), bootp::Op::Reply);
    assert_eq!((p.htype(), p.hlen(), p.hops()), (1, 6, 0));
    assert_eq!(p.xid(), 0x3d1d);
    assert_eq!((p.secs(), p.flags(), p.broadcast()), (0, 0, false));
    assert_eq!(p.ciaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(p.yiaddr(), Ipv4Addr::new(192, 168, 0, 10));
    assert_eq!(p.siaddr(), Ipv4Addr::new(192, 168, 0, 1));
    assert_eq!(p.giaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(p.chaddr(), &[0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42]);
    assert_eq!(p.chaddr_field().len(), 16);
    assert_eq!((p.sname(), p.file()), (&b""[..], &b""[..]));
    assert_eq!(p.vend().len(), 64);
    assert_eq!(p.vend_kind(), VendKind::Rfc1048);
    assert_eq!(p.message_type(), Some(MessageType::Offer));
    let codes: Vec<u8> = p.options().map(|o| o.option.code).collect();
    assert_eq!(codes, [53, 1, 58, 59, 51, 54]);
    let first = p.options().next().expect("an option");
    assert_eq!((first.offset, first.area), (240, Area::Options));
    let values: Vec<Value> = p.options().map(|o| o.value().expect("typed")).collect();
    assert_eq!(
        values,
        [
            Value::MessageType(MessageType::Offer),
            Value::Ip(Ipv4Addr::new(255, 255, 255, 0)),
            Value::U32(1800),
            Value::U32(3150),
            Value::U32(3600),
            Value::Ip(Ipv4Addr::new(192, 168, 0, 1)),
        ]
    );
    assert!(p.findings().is_empty(), "{:?}", p.findings());
    p.check().expect("strict check");
}

fn offer_repr(opts: &[u8]) -> Repr<'_> {
    let mut chaddr = [0u8; 16];
    chaddr[..6].copy_from_slice(&[0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42]);
    let items = vec![
        OptItem::Option(RawOption { code: 53, data: &opts[2..3] }),
        OptItem::Option(RawOption { code: 1, data: &opts[5..9] }),
        OptItem::Option(RawOption { code: 58, data: &opts[11..15] }),
        OptItem::Option(RawOption { code: 59, data: &opts[17..21] }),
        OptItem::Option(RawOption { code: 51, data: &opts[23..27] }),
        OptItem::Option(RawOption { code: 54, data: &opts[29..33] }),
        OptItem::End,
    ];
    Repr {
        op: 2,
        htype: 1,
        hlen: 6,
        hops: 0,
        xid: 0x3d1d,
        secs: 0,
        flags: 0,
        ciaddr: Ipv4Addr::UNSPECIFIED,
        yiaddr: Ipv4Addr::new(192, 168, 0, 10),
        siaddr: Ipv4Addr::new(192, 168, 0, 1),
        giaddr: Ipv4Addr::UNSPECIFIED,
        chaddr,
        sname: [0; 64],
        file: [0; 128],
        vend: Vend::Options { items, tail: &[0; 26] },
    }
}

#[test]
fn offer_construct() {
    let opts = offer_options();
    let mut buf = vec![0xaa; 300];
    let n = offer_repr(&opts).emit(&mut buf).expect("fits");
    assert_eq!(n, 300);
    assert_eq!(buf, offer());
    // Too small a buffer is an error, not a panic.
    assert!(offer_repr(&opts).emit(&mut [0u8; 299]).is_err());
}

#[test]
fn offer_parse_to_repr() {
    let b = offer();
    let opts = offer_options();
    assert_eq!(Repr::parse(&b).expect("strict"), offer_repr(&opts));
    let (lenient, findings) = Repr::parse_lenient(&b);
    assert_eq!(lenient.expect("lenient"), offer_repr(&opts));
    assert!(findings.is_empty());
}

#[test]
fn offer_emit_roundtrip() {
    let b = offer();
    assert_eq!(Repr::parse(&b).expect("strict").to_vec(), b);
}

#[test]
fn offer_display_is_stable() {
    insta::assert_snapshot!(Packet::new_unchecked(offer()).to_string());
}

/// suricata-verify dhcp-option-52-overload-both (the Wireshark wiki sample
/// PRIV_bootp-both_overload.pcap): DISCOVER with option 52 = 3, message options (56) in
/// both sname and file, a Pad between options.
const OVERLOAD_BOTH: &str = "01010600ac2effff000000000000000000000000000000000000000000006c82dc4e000000000000000000003814736e616d65206669656c64206f7665726c6f6164ff0000000000000000000000000000000000000000000000000000000000000000000000000000000000381866696c65206e616d65206669656c64206f7665726c6f6164ff0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000638253633501013902024e3704011c032b330400000e10340103380750616464696e67003d070100006c82dc4eff";

#[test]
fn overload_both_walks_options_file_sname_in_order() {
    let b = hex(OVERLOAD_BOTH);
    let p = Packet::new_checked(&b[..]).expect("valid");
    assert_eq!(p.overload(), Some(Overload::Both));
    let seen: Vec<(Area, u8)> = p.options().map(|o| (o.area, o.option.code)).collect();
    // RFC 3396 §7 / RFC 2131 §4.1: options field, then file, then sname.
    assert_eq!(
        seen,
        [
            (Area::Options, 53),
            (Area::Options, 57),
            (Area::Options, 55),
            (Area::Options, 51),
            (Area::Options, 52),
            (Area::Options, 56),
            (Area::Options, 61),
            (Area::File, 56),
            (Area::Sname, 56),
        ]
    );
    // RFC 3396 concatenation of the three option-56 instances, in that order.
    let agg = p.aggregate(code::MESSAGE).expect("present");
    assert_eq!(&agg[..], &b"Paddingfile name field overloadsname field overload"[..]);
    assert_eq!(p.aggregate(code::CLIENT_ID).expect("present").len(), 7);
    assert!(p.aggregate(code::ROUTER).is_none());
    // The Pad between 56 and 61 is an item of its own.
    let pads = p.walk().filter(|i| matches!(i, Ok(Item::Pad { .. }))).count();
    assert!(pads >= 1);
    assert!(p.findings().is_empty(), "{:?}", p.findings());
    assert_eq!(Repr::parse(&b).expect("strict").to_vec(), b);
    insta::assert_snapshot!(p.to_string());
}

fn with_options(opts: &[u8]) -> Vec<u8> {
    let mut b = Repr::request(0x1234_5678, [2, 0, 0, 0, 0xbe, 1]).to_vec();
    b.truncate(240);
    b.extend_from_slice(opts);
    b
}

fn kinds(b: &[u8]) -> Vec<(usize, ErrorKind)> {
    Packet::new_unchecked(b).findings().into_iter().map(|e| (e.offset, e.kind)).collect()
}

#[test]
fn length_past_end_is_reported_at_the_length_octet() {
    // CVE-2018-5733's shape: host name claiming 255 octets, one present.
    let b = with_options(&[0x0c, 0xff, 0x41]);
    assert_eq!(
        kinds(&b),
        [(241, ErrorKind::LengthPastEnd { code: 12, declared: 255, available: 1, area: Area::Options })]
    );
    let e = Repr::parse(&b).expect_err("strict rejects");
    assert_eq!(e.offset, 241);
    let (r, f) = Repr::parse_lenient(&b);
    let r = r.expect("lenient keeps the header");
    assert_eq!(f.len(), 1);
    // What could not be parsed is kept as the tail, so the octets survive.
    assert_eq!(r.to_vec(), b);
}

#[test]
fn missing_end_and_missing_length() {
    let b = with_options(&[0x35, 0x01, 0x01]);
    assert_eq!(kinds(&b), [(243, ErrorKind::MissingEnd { area: Area::Options })]);
    let b = with_options(&[0x35, 0x01, 0x01, 0x0c]);
    assert_eq!(kinds(&b), [(243, ErrorKind::MissingLength { code: 12, area: Area::Options })]);
}

#[test]
fn trailing_garbage_is_a_warning_and_zero_padding_is_fine() {
    let b = with_options(&[0xff, 0, 0, 0, 0]);
    assert!(kinds(&b).is_empty());
    let b = with_options(&[0xff, 0, 0x41, 0x42]);
    let f = Packet::new_unchecked(&b[..]).findings();
    assert_eq!(f.len(), 1);
    assert_eq!((f[0].offset, &f[0].kind), (242, &ErrorKind::TrailingGarbage { len: 2, area: Area::Options }));
    assert_eq!(f[0].severity(), Severity::Warning);
    Repr::parse(&b).expect("warnings pass strict");
}

#[test]
fn wrong_length_for_type() {
    // subnet mask with 3 octets; router list of 6; zero-length client id (CVE-2012-3571).
    for (opts, code, len) in [
        (&[1u8, 3, 255, 255, 255, 255][..], 1u8, 3usize),
        (&[3, 6, 1, 2, 3, 4, 5, 6, 255][..], 3, 6),
        (&[61, 0, 255][..], 61, 0),
        (&[57, 2, 0, 64, 255][..], 57, 2),
    ] {
        let b = with_options(opts);
        let f = Packet::new_unchecked(&b[..]).findings();
        assert_eq!(f.len(), 1, "{opts:?}: {f:?}");
        match &f[0].kind {
            ErrorKind::WrongLength { code: c, len: l, .. } => assert_eq!((*c, *l), (code, len)),
            ErrorKind::BadValue { code: c, .. } => assert_eq!(*c, code),
            k => panic!("unexpected {k:?}"),
        }
        assert_eq!(f[0].offset, 242, "offset of the first value octet");
    }
}

#[test]
fn overload_pathologies() {
    // Value out of range.
    let b = with_options(&[52, 1, 7, 255]);
    assert_eq!(kinds(&b), [(242, ErrorKind::OverloadValue { value: 7 })], "reported once");
    // Repeated.
    let mut b = with_options(&[52, 1, 1, 52, 1, 2, 255]);
    b[108] = 255; // file holds just End
    let k = kinds(&b);
    assert!(k.contains(&(243, ErrorKind::OverloadRepeated)), "{k:?}");
    // Only the first counts: sname is not walked.
    assert_eq!(Packet::new_unchecked(&b[..]).overload(), Some(Overload::File));
    // 52 inside the file field: reported, not honoured (no sname walk).
    let mut b = with_options(&[52, 1, 1, 255]);
    b[108..112].copy_from_slice(&[52, 1, 2, 255]);
    b[44] = 12; // garbage in sname that would be an error if walked
    let k = kinds(&b);
    assert_eq!(k, [(108, ErrorKind::OverloadInField { area: Area::File })]);
    // file named as options but without End.
    let mut b = with_options(&[52, 1, 1, 255]);
    b[108..111].copy_from_slice(&[12, 1, b'x']);
    for x in &mut b[111..236] {
        *x = 0;
    }
    assert_eq!(kinds(&b), [(236, ErrorKind::MissingEnd { area: Area::File })]);
    // Overload naming a field that holds nothing but End: a warning.
    let mut b = with_options(&[52, 1, 2, 255]);
    b[44] = 255;
    let f = Packet::new_unchecked(&b[..]).findings();
    assert_eq!((f[0].offset, &f[0].kind), (44, &ErrorKind::OverloadNoRoom { area: Area::Sname }));
    assert_eq!(f[0].severity(), Severity::Warning);
}

#[test]
fn truncation_names_the_field() {
    let b = offer();
    for (len, what) in [(0, "op"), (3, "hops"), (5, "xid"), (30, "chaddr"), (50, "sname"), (200, "file")] {
        let e = Packet::new_checked(&b[..len]).expect_err("short");
        assert_eq!((e.offset, e.kind), (len, ErrorKind::Truncated { what, need: 236, have: len }));
    }
    // A 236-octet message (no vend) is legal and has an empty vend field.
    let p = Packet::new_checked(&b[..236]).expect("header only");
    assert_eq!(p.vend_kind(), VendKind::Empty);
}

#[test]
fn vend_kinds() {
    let mut b = offer();
    b[236..300].fill(0);
    assert_eq!(Packet::new_unchecked(&b[..]).vend_kind(), VendKind::Raw);
    assert_eq!(Packet::new_unchecked(&b[..]).options().count(), 0);
    b[236..240].copy_from_slice(b"CMU\0");
    b[240..244].copy_from_slice(&1u32.to_be_bytes());
    b[244..248].copy_from_slice(&[255, 255, 255, 0]);
    // struct cmu_vend: magic, v_flags, v_smask, v_dgate, v_dns1, v_dns2, …
    b[248..252].copy_from_slice(&[192, 0, 2, 1]);
    b[252..256].copy_from_slice(&[192, 0, 2, 53]);
    let p = Packet::new_unchecked(&b[..]);
    assert_eq!(p.vend_kind(), VendKind::Cmu);
    let cmu = bootp::CmuVend(p.vend());
    assert_eq!(cmu.flags(), Some(1));
    assert_eq!(cmu.subnet_mask(), Some(Ipv4Addr::new(255, 255, 255, 0)));
    assert_eq!(cmu.gateway(), Some(Ipv4Addr::new(192, 0, 2, 1)));
    assert_eq!(cmu.dns()[0], Some(Ipv4Addr::new(192, 0, 2, 53)));
    let r = Repr::parse(&b).expect("CMU is legal");
    assert!(matches!(r.vend, Vend::Raw(_)));
    assert_eq!(r.to_vec(), b);
}

#[test]
fn typed_values_roundtrip_through_encode() {
    let cases: &[(u8, &[u8])] = &[
        (1, &[255, 255, 255, 0]),
        (2, &[0xff, 0xff, 0xf1, 0xf0]),
        (3, &[192, 0, 2, 1, 192, 0, 2, 2]),
        (12, b"ws1"),
        (13, &[0, 200]),
        (19, &[1]),
        (21, &[192, 0, 2, 0, 255, 255, 255, 0]),
        (25, &[0x02, 0x40, 0x05, 0xdc]),
        (46, &[8]),
        (51, &[0xff, 0xff, 0xff, 0xff]),
        (52, &[3]),
        (53, &[8]),
        (55, &[1, 3, 43, 60]),
        (57, &[0x05, 0xdc]),
        (61, &[1, 2, 0, 0, 0, 0xbe, 1]),
        (61, &[255, 0, 0, 0, 1, 0, 3, 0, 1, 2, 0, 0, 0, 0xbe, 1]),
        (82, &[1, 3, b'e', b't', b'h', 2, 1, 9]),
        (93, &[0, 7]),
        (94, &[1, 3, 16]),
        (97, &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]),
        (150, &[192, 0, 2, 1]),
        (200, &[1, 2, 3]),
    ];
    for &(code, data) in cases {
        let v = Value::decode(code, data).unwrap_or_else(|e| panic!("option {code}: {e}"));
        let mut out = Vec::new();
        v.encode(&mut out);
        assert_eq!(out, data, "option {code}");
    }
    assert!(matches!(Value::decode(61, &[255, 0, 0, 0, 1, 0, 3, 0, 1]), Ok(Value::ClientIdDuid { iaid: 1, .. })));
    assert!(Value::decode(94, &[2, 1, 0]).is_err());
    assert!(Value::decode(46, &[3]).is_err());
    assert!(Value::decode(19, &[2]).is_err());
    assert!(Value::decode(82, &[1, 5, 0]).is_err());
}

#[test]
fn codebook_covers_rfc2132_and_names_roundtrip() {
    for c in (1u8..=61).chain(64..=76).chain([82, 93, 94, 97, 150]) {
        if matches!(c, 62 | 63) {
            continue;
        }
        let s = options::spec(c).unwrap_or_else(|| panic!("code {c} missing from the codebook"));
        assert_eq!(options::code_by_name(s.name), Some(c));
    }
    assert_eq!(options::name(230), "site-specific");
    assert_eq!(options::name(0), "pad");
}

#[test]
fn long_options_split_per_rfc3396() {
    let data: Vec<u8> = (0..600u32).map(|i| i as u8).collect();
    let mut area = Vec::new();
    options::emit_option(&mut area, 43, &data);
    area.push(255);
    let b = with_options(&area);
    let p = Packet::new_unchecked(&b[..]);
    assert_eq!(p.options().filter(|o| o.option.code == 43).count(), 3);
    assert_eq!(&p.aggregate(43).expect("present")[..], &data[..]);
}

#[test]
fn no_panic_on_prefixes_and_single_byte_mutations() {
    for b in [offer(), hex(OVERLOAD_BOTH)] {
        for n in 0..=b.len() {
            let s = &b[..n];
            let _ = Repr::parse(s);
            let (r, _) = Repr::parse_lenient(s);
            if let Some(r) = r {
                assert_eq!(r.to_vec(), s, "lenient parse of a {n}-octet prefix re-emits it");
            }
            let _ = Packet::new_unchecked(s).to_string();
        }
        for i in 0..b.len() {
            for v in [0u8, 1, 52, 0x7f, 0xff] {
                let mut m = b.clone();
                m[i] = v;
                let (r, _) = Repr::parse_lenient(&m);
                assert_eq!(r.expect("header intact").to_vec(), m);
                let _ = Packet::new_unchecked(&m[..]).to_string();
            }
        }
    }
}
