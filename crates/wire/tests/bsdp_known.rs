//! Known-answer tests for `bootcheck_wire::bsdp`.
//!
//! There are no public BSDP captures, so every payload here is built by hand from the
//! message layouts, tables and example IDs in `/work/shared/specs/bsdp-summary.md`
//! (§3 message types, §4 sub-options, §5 boot image IDs, §6 exchange flow). Each
//! message is checked four ways: deconstruct (raw sub-option iterator), construct
//! (emit sub-options one by one), parse to a `Repr`, and emit the `Repr` and compare.
#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;

use bootcheck_wire::bsdp::{
    self, code, parse_vendor_class, sub_options, AttributesFilterList, BootImage, BootImageId, BootImageKind,
    BootImageList, JoinedInstances, Message, MessageType, RawSubOption, Repr, Straddle, SubOption, VendorClass,
    Version,
};
use bootcheck_wire::{Error, ErrorKind};

const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

// §5 examples.
const ID_MACOSX_1: [u8; 4] = [0x01, 0x00, 0x00, 0x01];
const ID_MACOSX_INSTALL_1001: [u8; 4] = [0x81, 0x00, 0x10, 0x01];
const ID_DIAGS_1000: [u8; 4] = [0x03, 0x00, 0x10, 0x00];

// ---------------------------------------------------------------------------------
// Test messages (option-43 payloads, joined)
// ---------------------------------------------------------------------------------

/// `INFORM[LIST]` (§6.1 step 2): Message Type = LIST, Version 1.1, Reply Port 1023,
/// Attributes Filter [Mac OS X, Diagnostics], Max Message Size 8192.
const INFORM_LIST: &[u8] = &[
    0x01, 0x01, 0x01, // message type: LIST
    0x02, 0x02, 0x01, 0x01, // version 1.1
    0x05, 0x02, 0x03, 0xff, // reply port 1023
    0x0b, 0x04, 0x01, 0x00, 0x03, 0x00, // filter: 0x0100, 0x0300
    0x0c, 0x02, 0x20, 0x00, // max message size 8192
];

/// `INFORM[LIST]` from a client on NetBoot 1.0 firmware (§6.3), version 1.0.
const INFORM_LIST_NB10: &[u8] = &[
    0x01, 0x01, 0x01, // LIST
    0x02, 0x02, 0x01, 0x00, // version 1.0
    0x0a, 0x00, // NetBoot 1.0 firmware
];

/// `INFORM[SELECT]` (§6.1 step 5).
const INFORM_SELECT: &[u8] = &[
    0x01, 0x01, 0x02, // SELECT
    0x02, 0x02, 0x01, 0x01, // version 1.1
    0x03, 0x04, 192, 0, 2, 1, // server identifier 192.0.2.1
    0x08, 0x04, 0x81, 0x00, 0x10, 0x01, // selected image 0x81001001
    0x05, 0x02, 0x02, 0x58, // reply port 600
];

const MACHINE: &[u8] = b"NetBoot001";
const SHADOW_MOUNT: &[u8] = b"afp://netboot:secret@192.0.2.1/NetBootClients0";
const SHADOW_FILE: &[u8] = b"NetBoot001/Shadow";

/// `ACK[SELECT]` (§6.1 step 6) for a diskless image.
fn ack_select() -> Vec<u8> {
    let mut v = vec![
        0x01, 0x01, 0x02, // SELECT
        0x08, 0x04, 0x81, 0x00, 0x10, 0x01, // selected image
    ];
    v.extend([0x82, MACHINE.len() as u8]);
    v.extend_from_slice(MACHINE);
    v.extend([0x80, SHADOW_MOUNT.len() as u8]);
    v.extend_from_slice(SHADOW_MOUNT);
    v.extend([0x81, SHADOW_FILE.len() as u8]);
    v.extend_from_slice(SHADOW_FILE);
    v
}

/// `ACK[FAILED]` (§6.1 step 6): only the message type.
const ACK_FAILED: &[u8] = &[0x01, 0x01, 0x03];

/// A long image name, so that two images do not fit one 255-octet option-43 instance.
fn long_name(prefix: &str, len: usize) -> Vec<u8> {
    let mut v = prefix.as_bytes().to_vec();
    while v.len() < len {
        v.push(b'.');
    }
    v
}

fn name1() -> Vec<u8> {
    long_name("Mac OS X 10.4 NetBoot", 120)
}

fn name2() -> Vec<u8> {
    long_name("Mac OS X 10.4 NetInstall", 120)
}

/// `ACK[LIST]` (§6.1 step 3) in Apple bootpd's order: message type, priority, default
/// image, then the boot image list. Each image is in its own sub-option 9, and the
/// second does not fit in the first 255-octet instance, so it opens a second one.
fn ack_list_instances() -> (Vec<u8>, Vec<u8>) {
    let n1 = name1();
    let n2 = name2();
    let mut i1 = vec![
        0x01, 0x01, 0x01, // LIST
        0x04, 0x02, 0x00, 0x64, // priority 100
        0x07, 0x04, 0x01, 0x00, 0x00, 0x01, // default image 0x01000001
    ];
    i1.extend([0x09, (5 + n1.len()) as u8]);
    i1.extend_from_slice(&ID_MACOSX_1);
    i1.push(n1.len() as u8);
    i1.extend_from_slice(&n1);
    let mut i2 = vec![0x09, (5 + n2.len()) as u8];
    i2.extend_from_slice(&ID_MACOSX_INSTALL_1001);
    i2.push(n2.len() as u8);
    i2.extend_from_slice(&n2);
    (i1, i2)
}

fn ack_list() -> Vec<u8> {
    let (mut a, b) = ack_list_instances();
    a.extend_from_slice(&b);
    a
}

/// A short `ACK[LIST]` (one image, one instance) for the display example.
const ACK_LIST_SHORT: &[u8] = &[
    0x01, 0x01, 0x01, // LIST
    0x04, 0x02, 0x00, 0x64, // priority 100
    0x07, 0x04, 0x01, 0x00, 0x00, 0x01, // default 0x01000001
    0x09, 0x12, 0x01, 0x00, 0x00, 0x01, 0x0d, b'M', b'a', b'c', b' ', b'O', b'S', b' ', b'X', b' ', b'1', b'0', b'.',
    b'4', // image list
];

fn all_payloads() -> Vec<Vec<u8>> {
    vec![
        INFORM_LIST.to_vec(),
        INFORM_LIST_NB10.to_vec(),
        INFORM_SELECT.to_vec(),
        ack_select(),
        ACK_FAILED.to_vec(),
        ack_list(),
        ACK_LIST_SHORT.to_vec(),
    ]
}

fn raw_list(payload: &[u8]) -> Vec<(u8, Vec<u8>, usize)> {
    sub_options(payload)
        .map(|r| {
            let r = r.expect("well-formed test payload");
            (r.code, r.value.to_vec(), r.offset)
        })
        .collect()
}

fn emit_each(options: &[SubOption<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for opt in options {
        let mut buf = vec![0u8; opt.buffer_len()];
        let n = opt.emit(&mut buf).expect("emit sub-option");
        assert_eq!(n, buf.len());
        out.extend_from_slice(&buf);
    }
    out
}

fn assert_emits(repr: &Repr<'_>, bytes: &[u8]) {
    assert_eq!(repr.buffer_len().unwrap(), bytes.len());
    assert_eq!(repr.to_bytes().unwrap(), bytes);
    let mut buf = vec![0xeeu8; bytes.len()];
    assert_eq!(repr.emit(&mut buf).unwrap(), bytes.len());
    assert_eq!(buf, bytes);
    if !bytes.is_empty() {
        let mut short = vec![0u8; bytes.len() - 1];
        let err = repr.emit(&mut short).unwrap_err();
        assert!(matches!(err.kind, ErrorKind::Truncated { .. }), "{err}");
    }
}

// ---------------------------------------------------------------------------------
// Vendor class (option 60), §2 and §6.5
// ---------------------------------------------------------------------------------

#[test]
fn vendor_class_server_form() {
    let vc = parse_vendor_class(b"AAPLBSDPC").unwrap();
    assert_eq!(vc, VendorClass::Server);
    assert!(vc.is_server());
    assert_eq!(vc.arch(), None);
    assert_eq!(vc.system_id(), None);
    assert_eq!(vc.to_vec(), b"AAPLBSDPC");
    assert_eq!(vc.buffer_len(), 9);
    assert_eq!(vc.to_string(), "AAPLBSDPC");
    assert!(bsdp::is_bsdp(b"AAPLBSDPC"));
}

#[test]
fn vendor_class_client_forms() {
    for (value, arch, sysid) in [
        (&b"AAPLBSDPC/ppc/PowerMac3,1"[..], &b"ppc"[..], &b"PowerMac3,1"[..]),
        (b"AAPLBSDPC/ppc/PowerBook2,1", b"ppc", b"PowerBook2,1"),
        (b"AAPLBSDPC/i386/MacBookPro11,1", b"i386", b"MacBookPro11,1"),
        (b"AAPLBSDPC/arm/Mac14,2", b"arm", b"Mac14,2"),
        // The rules only stop at the second '/': the rest, slashes included, is the id.
        (b"AAPLBSDPC/i386/a/b", b"i386", b"a/b"),
        // Empty components are not forbidden by the rules in §2.
        (b"AAPLBSDPC//", b"", b""),
    ] {
        let vc = VendorClass::parse(value).unwrap();
        assert_eq!(vc, VendorClass::Client { arch, system_id: sysid });
        assert!(!vc.is_server());
        assert_eq!(vc.arch(), Some(arch));
        assert_eq!(vc.system_id(), Some(sysid));
        // Length is 11 + len(arch) + len(system_id).
        assert_eq!(vc.buffer_len(), 11 + arch.len() + sysid.len());
        assert_eq!(vc.to_vec(), value);
        let mut buf = vec![0u8; value.len()];
        assert_eq!(vc.emit(&mut buf).unwrap(), value.len());
        assert_eq!(buf, value);
        assert!(vc.emit(&mut [0u8; 9]).is_err());
        assert!(bsdp::is_bsdp(value));
    }
    assert_eq!(
        parse_vendor_class(b"AAPLBSDPC/i386/MacBookPro11,1").unwrap().to_string(),
        "AAPLBSDPC/i386/MacBookPro11,1"
    );
}

#[test]
fn vendor_class_invalid() {
    fn malformed(offset: usize, reason: &'static str) -> Error {
        Error::new(offset, ErrorKind::Malformed { what: "BSDP vendor class identifier", reason })
    }
    let cases: Vec<(&[u8], Error)> = vec![
        // §6.5: option 60 missing or not a valid BSDP value.
        (b"", Error::new(0, ErrorKind::Truncated { what: "BSDP vendor class identifier", need: 9, have: 0 })),
        (b"AAPLBSDP", Error::new(8, ErrorKind::Truncated { what: "BSDP vendor class identifier", need: 9, have: 8 })),
        (b"PXEClient:Arch:00000:UNDI:002001", malformed(0, "does not start with AAPLBSDPC")),
        (b"aaplbsdpc", malformed(0, "does not start with AAPLBSDPC")),
        (b"AAPLBSDPc/i386/x", malformed(8, "does not start with AAPLBSDPC")),
        // §2: after the prefix the next byte must be '/'.
        (b"AAPLBSDPCX", malformed(9, "expected '/' or the end of the value after AAPLBSDPC")),
        (b"AAPLBSDPC:i386:x", malformed(9, "expected '/' or the end of the value after AAPLBSDPC")),
        (b"AAPLBSDPC\0", malformed(9, "expected '/' or the end of the value after AAPLBSDPC")),
        // §2: the second '/' is required.
        (b"AAPLBSDPC/", malformed(10, "no '/' between the architecture and the system id")),
        (b"AAPLBSDPC/i386", malformed(14, "no '/' between the architecture and the system id")),
        // §2: NUL or newline in the arch or the system id.
        (b"AAPLBSDPC/i3\x0086/Mac", malformed(12, "NUL octet in the architecture")),
        (b"AAPLBSDPC/i386\n/Mac", malformed(14, "newline in the architecture")),
        (b"AAPLBSDPC/i386\n", malformed(14, "newline in the architecture")),
        (b"AAPLBSDPC/i386/Mac\0", malformed(18, "NUL octet in the system id")),
        (b"AAPLBSDPC/i386/Mac\n", malformed(18, "newline in the system id")),
        (b"AAPLBSDPC/i386/\nMac", malformed(15, "newline in the system id")),
    ];
    for (value, expected) in cases {
        assert_eq!(VendorClass::parse(value), Err(expected), "value {:?}", String::from_utf8_lossy(value));
        assert!(!bsdp::is_bsdp(value));
    }
}

// ---------------------------------------------------------------------------------
// boot_image_id, §5
// ---------------------------------------------------------------------------------

#[test]
fn boot_image_id_examples() {
    // Mac OS X, non-install, index 1.
    let a = BootImageId::from_bytes(ID_MACOSX_1);
    assert_eq!(a, BootImageId(0x0100_0001));
    assert!(!a.is_install());
    assert_eq!(a.kind(), BootImageKind::MacOsX);
    assert_eq!(a.index(), 1);
    assert_eq!(a.attributes(), 0x0100);
    assert_eq!(a.reserved(), 0);
    assert!(!a.is_global());
    assert!(!a.is_null());
    assert_eq!(BootImageId::new(false, BootImageKind::MacOsX, 1), a);
    assert_eq!(a.to_bytes(), ID_MACOSX_1);
    assert_eq!(a.to_string(), "0x01000001");

    // Mac OS X install, index 0x1001.
    let b = BootImageId::from_bytes(ID_MACOSX_INSTALL_1001);
    assert!(b.is_install());
    assert_eq!(b.kind(), BootImageKind::MacOsX);
    assert_eq!(b.index(), 0x1001);
    assert_eq!(b.attributes(), 0x8100);
    assert!(b.is_global());
    assert_eq!(BootImageId::new(true, BootImageKind::MacOsX, 0x1001), b);
    assert_eq!(BootImageId::from_parts(0x8100, 0x1001), b);
    assert_eq!(b.to_string(), "0x81001001");

    // Diagnostics, index 0x1000; the matching filter value is 0x0300.
    let c = BootImageId::from_bytes(ID_DIAGS_1000);
    assert!(!c.is_install());
    assert_eq!(c.kind(), BootImageKind::HardwareDiagnostics);
    assert_eq!(c.index(), 0x1000);
    assert_eq!(c.attributes(), 0x0300);
    assert!(c.is_global());
    assert_eq!(BootImageId::new(false, BootImageKind::HardwareDiagnostics, 0x1000), c);
    let filter = [0x0300u16];
    assert!(AttributesFilterList::from_values(&filter).matches(c));
    assert!(!AttributesFilterList::from_values(&filter).matches(a));
}

#[test]
fn boot_image_id_fields() {
    assert!(!BootImageId(0x0000_0fff).is_global());
    assert!(BootImageId(0x0000_1000).is_global());
    assert!(BootImageId(0x0100_0000).is_null());
    assert_eq!(BootImageId(0x0000_0001).kind(), BootImageKind::MacOs9);
    assert_eq!(BootImageId(0x0200_0001).kind(), BootImageKind::MacOsXServer);
    assert_eq!(BootImageId(0x0400_0001).kind(), BootImageKind::Reserved(4));
    assert_eq!(BootImageId(0xff00_0001).kind(), BootImageKind::Reserved(127));
    assert!(BootImageId(0xff00_0001).is_install());
    assert_eq!(BootImageId(0x01ab_0001).reserved(), 0xab);
    assert_eq!(BootImageId(0x01ab_0001).attributes(), 0x01ab);
    for bits in 0..=0x7fu8 {
        assert_eq!(BootImageKind::from_bits(bits).bits(), bits);
        let id = BootImageId::new(true, BootImageKind::from_bits(bits), 7);
        assert_eq!(id.kind().bits(), bits);
        assert!(id.is_install());
        assert_eq!(id.index(), 7);
    }
}

#[test]
fn message_type_and_version_values() {
    assert_eq!(MessageType::from(1), MessageType::List);
    assert_eq!(MessageType::from(2), MessageType::Select);
    assert_eq!(MessageType::from(3), MessageType::Failed);
    assert_eq!(MessageType::from(0), MessageType::Unknown(0));
    for v in 0..=255u8 {
        assert_eq!(u8::from(MessageType::from(v)), v);
    }
    assert_eq!(Version::V1_0, Version(0x0100));
    assert_eq!(Version::V1_1, Version(0x0101));
    assert_eq!(Version::V1_1.to_string(), "1.1");
    assert_eq!(Version::V1_1.major(), 1);
    assert_eq!(Version::V1_1.minor(), 1);
    assert!(Version::V1_0.is_known());
    assert!(Version::NETBOOT_1_0.is_known());
    assert!(!Version(0x0102).is_known());
}

// ---------------------------------------------------------------------------------
// INFORM[LIST]
// ---------------------------------------------------------------------------------

fn inform_list_repr() -> Repr<'static> {
    static FILTER: [u16; 2] = [0x0100, 0x0300];
    Repr::new(vec![
        SubOption::MessageType(MessageType::List),
        SubOption::Version(Version::V1_1),
        SubOption::ReplyPort(1023),
        SubOption::AttributesFilterList(AttributesFilterList::from_values(&FILTER)),
        SubOption::MaxMessageSize(8192),
    ])
}

#[test]
fn inform_list_deconstruct() {
    assert_eq!(
        raw_list(INFORM_LIST),
        vec![
            (1, vec![1], 0),
            (2, vec![1, 1], 3),
            (5, vec![0x03, 0xff], 7),
            (11, vec![0x01, 0x00, 0x03, 0x00], 11),
            (12, vec![0x20, 0x00], 17),
        ]
    );
    let filter = AttributesFilterList::new_checked(&INFORM_LIST[13..17]).unwrap();
    assert_eq!(filter.iter().collect::<Vec<_>>(), vec![0x0100, 0x0300]);
    assert_eq!(filter.len(), 2);
}

#[test]
fn inform_list_construct() {
    assert_eq!(emit_each(&inform_list_repr().options), INFORM_LIST);
}

#[test]
fn inform_list_parse() {
    let repr = Repr::parse(INFORM_LIST).unwrap();
    assert_eq!(repr, inform_list_repr());
    assert_eq!(repr.message_type(), Some(MessageType::List));
    assert_eq!(repr.version(), Some(Version::V1_1));
    assert_eq!(repr.reply_port(), Some(1023));
    assert_eq!(repr.max_message_size(), Some(8192));
    assert_eq!(repr.attributes_filter().unwrap().iter().collect::<Vec<_>>(), vec![0x0100, 0x0300]);
    assert_eq!(repr.server_id(), None);
    assert_eq!(repr.priority(), None);
    assert!(!repr.netboot_1_0_firmware());
    assert_eq!(repr.images().count(), 0);
    assert!(repr.trailing().is_empty());
    let (lenient, findings) = Repr::parse_lenient(INFORM_LIST);
    assert!(findings.is_empty());
    assert_eq!(lenient, repr);
}

#[test]
fn inform_list_emit() {
    assert_emits(&inform_list_repr(), INFORM_LIST);
    assert_eq!(inform_list_repr().split_instances().unwrap(), vec![INFORM_LIST.to_vec()]);
}

#[test]
fn inform_list_netboot10() {
    let expected = Repr::new(vec![
        SubOption::MessageType(MessageType::List),
        SubOption::Version(Version::V1_0),
        SubOption::NetBoot10Firmware,
    ]);
    assert_eq!(raw_list(INFORM_LIST_NB10), vec![(1, vec![1], 0), (2, vec![1, 0], 3), (10, vec![], 7)]);
    assert_eq!(emit_each(&expected.options), INFORM_LIST_NB10);
    let repr = Repr::parse(INFORM_LIST_NB10).unwrap();
    assert_eq!(repr, expected);
    assert!(repr.netboot_1_0_firmware());
    assert_emits(&expected, INFORM_LIST_NB10);
    assert_eq!(repr.to_string(), "BSDP [LIST] v1.0 netboot1.0");
}

// ---------------------------------------------------------------------------------
// ACK[LIST] over two option-43 instances
// ---------------------------------------------------------------------------------

#[test]
fn ack_list_deconstruct() {
    let payload = ack_list();
    let n1 = name1();
    let n2 = name2();
    let raws: Vec<RawSubOption<'_>> = sub_options(&payload).map(|r| r.unwrap()).collect();
    assert_eq!(
        raws.iter().map(|r| (r.code, r.offset)).collect::<Vec<_>>(),
        vec![(1, 0), (4, 3), (7, 7), (9, 13), (9, 140)]
    );
    assert_eq!(raws[1].value, &[0x00, 0x64]);
    assert_eq!(raws[2].value, &ID_MACOSX_1);
    assert_eq!(raws[3].value_offset(), 15);
    assert_eq!(raws[3].end(), 140);
    assert_eq!(raws[4].end(), payload.len());

    let l1 = BootImageList::new_checked(raws[3].value).unwrap();
    let e1: Vec<_> = l1.iter().map(|e| e.unwrap()).collect();
    assert_eq!(e1, vec![BootImage { id: BootImageId(0x0100_0001), name: &n1 }]);
    let l2 = BootImageList::new_checked(raws[4].value).unwrap();
    assert_eq!(l2.len(), 1);
    let e2 = l2.iter().next().unwrap().unwrap();
    assert_eq!(e2.id, BootImageId(0x8100_1001));
    assert_eq!(e2.name, &n2[..]);
}

fn ack_list_repr<'a>(images1: &'a [BootImage<'a>], images2: &'a [BootImage<'a>]) -> Repr<'a> {
    Repr::new(vec![
        SubOption::MessageType(MessageType::List),
        SubOption::ServerPriority(100),
        SubOption::DefaultBootImageId(BootImageId::new(false, BootImageKind::MacOsX, 1)),
        SubOption::BootImageList(BootImageList::from_entries(images1)),
        SubOption::BootImageList(BootImageList::from_entries(images2)),
    ])
}

#[test]
fn ack_list_construct_and_emit() {
    let (n1, n2) = (name1(), name2());
    let images1 = [BootImage { id: BootImageId::from_bytes(ID_MACOSX_1), name: &n1 }];
    let images2 = [BootImage { id: BootImageId::from_bytes(ID_MACOSX_INSTALL_1001), name: &n2 }];
    let repr = ack_list_repr(&images1, &images2);
    let payload = ack_list();
    assert_eq!(emit_each(&repr.options), payload);
    assert_emits(&repr, &payload);

    // Apple bootpd starts a new instance at a sub-option boundary.
    let (i1, i2) = ack_list_instances();
    assert!(i1.len() <= 255 && i1.len() + i2.len() > 255);
    let split = repr.split_instances().unwrap();
    assert_eq!(split, vec![i1.clone(), i2.clone()]);

    let mut opt43 = vec![43, i1.len() as u8];
    opt43.extend_from_slice(&i1);
    opt43.extend([43, i2.len() as u8]);
    opt43.extend_from_slice(&i2);
    assert_eq!(repr.to_option_43().unwrap(), opt43);

    // Built lists compare equal to parsed views of the same entries.
    assert_eq!(Repr::parse(&payload).unwrap(), repr);
}

#[test]
fn ack_list_parse_joined() {
    let (i1, i2) = ack_list_instances();
    let joined = JoinedInstances::join([&i1[..], &i2[..]]);
    assert_eq!(joined.instance_count(), 2);
    assert_eq!(joined.as_bytes(), &ack_list()[..]);
    assert_eq!(joined.instance_range(1), Some(i1.len()..i1.len() + i2.len()));
    assert_eq!(joined.locate(0), Some((0, 0)));
    assert_eq!(joined.locate(i1.len()), Some((1, 0)));
    assert_eq!(joined.locate(i1.len() + i2.len()), None);
    assert!(joined.straddles().is_empty());

    let repr = joined.parse().unwrap();
    let (lenient, findings) = joined.parse_lenient();
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!(lenient, repr);

    assert_eq!(repr.message_type(), Some(MessageType::List));
    assert_eq!(repr.priority(), Some(100));
    assert_eq!(repr.default_image(), Some(BootImageId(0x0100_0001)));
    assert_eq!(repr.selected_image(), None);
    assert_eq!(repr.count(code::BOOT_IMAGE_LIST), 2);
    assert_eq!(repr.image_lists().count(), 2);
    let images: Vec<_> = repr.images().collect();
    assert_eq!(images.len(), 2);
    assert_eq!(images[0].id, BootImageId(0x0100_0001));
    assert_eq!(images[0].name, &name1()[..]);
    assert_eq!(images[1].id, BootImageId(0x8100_1001));
    assert_eq!(images[1].name, &name2()[..]);
    assert_eq!(repr.to_bytes().unwrap(), joined.as_bytes());
    assert_eq!(repr.split_instances().unwrap(), vec![i1, i2]);
}

#[test]
fn ack_list_straddling_instances_are_reported() {
    let payload = ack_list();
    // Cut inside the first boot image list sub-option (which starts at 13).
    let cut = 50;
    let joined = JoinedInstances::join([&payload[..cut], &payload[cut..]]);
    assert_eq!(
        joined.straddles(),
        vec![Straddle { code: 9, offset: 13, len: 127, first_instance: 0, last_instance: 1 }]
    );
    // Legal per RFC 3396: the strict parse still succeeds ...
    assert_eq!(joined.parse().unwrap(), Repr::parse(&payload).unwrap());
    // ... but the lenient parse reports it.
    let (_, findings) = joined.parse_lenient();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].offset, 13);
    assert!(matches!(findings[0].kind, ErrorKind::Malformed { .. }));
    assert_eq!(findings[0], joined.straddles()[0].to_error());

    // A cut between code and length octets straddles too.
    let joined = JoinedInstances::join([&payload[..1], &payload[1..]]);
    assert_eq!(joined.straddles().len(), 1);
    assert_eq!(joined.straddles()[0].code, 1);

    // Empty instances are flagged (option 43 has a minimum length of 1).
    let joined = JoinedInstances::join([&payload[..13], &[][..], &payload[13..]]);
    assert!(joined.straddles().is_empty());
    let (_, findings) = joined.parse_lenient();
    assert_eq!(
        findings,
        vec![Error::new(
            13,
            ErrorKind::WrongLength {
                code: 43,
                name: "vendor specific information",
                len: 0,
                expected: "expected at least 1 (RFC 2132 §8.4)"
            }
        )]
    );
}

#[test]
fn ack_list_display() {
    let repr = Repr::parse(ACK_LIST_SHORT).unwrap();
    assert_eq!(
        repr.summary().dhcp_message_type(5).server_id(SERVER).to_string(),
        r#"BSDP ACK[LIST] server=192.0.2.1 priority=100 default=0x01000001 images=[0x01000001 "Mac OS X 10.4"]"#
    );
    assert_eq!(repr.to_string(), r#"BSDP [LIST] priority=100 default=0x01000001 images=[0x01000001 "Mac OS X 10.4"]"#);
}

// ---------------------------------------------------------------------------------
// INFORM[SELECT], ACK[SELECT], ACK[FAILED]
// ---------------------------------------------------------------------------------

fn inform_select_repr() -> Repr<'static> {
    Repr::new(vec![
        SubOption::MessageType(MessageType::Select),
        SubOption::Version(Version::V1_1),
        SubOption::ServerIdentifier(SERVER),
        SubOption::SelectedBootImageId(BootImageId::new(true, BootImageKind::MacOsX, 0x1001)),
        SubOption::ReplyPort(600),
    ])
}

#[test]
fn inform_select_four_ways() {
    assert_eq!(
        raw_list(INFORM_SELECT),
        vec![
            (1, vec![2], 0),
            (2, vec![1, 1], 3),
            (3, vec![192, 0, 2, 1], 7),
            (8, ID_MACOSX_INSTALL_1001.to_vec(), 13),
            (5, vec![0x02, 0x58], 19),
        ]
    );
    assert_eq!(emit_each(&inform_select_repr().options), INFORM_SELECT);
    let repr = Repr::parse(INFORM_SELECT).unwrap();
    assert_eq!(repr, inform_select_repr());
    assert_eq!(repr.server_id(), Some(SERVER));
    assert_eq!(repr.selected_image(), Some(BootImageId(0x8100_1001)));
    assert_eq!(repr.reply_port(), Some(600));
    assert_emits(&inform_select_repr(), INFORM_SELECT);
    assert_eq!(
        repr.summary().dhcp_message_type(8).to_string(),
        "BSDP INFORM[SELECT] v1.1 server=192.0.2.1 reply_port=600 selected=0x81001001"
    );
}

fn ack_select_repr() -> Repr<'static> {
    Repr::new(vec![
        SubOption::MessageType(MessageType::Select),
        SubOption::SelectedBootImageId(BootImageId(0x8100_1001)),
        SubOption::MachineName(MACHINE),
        SubOption::ShadowMountPath(SHADOW_MOUNT),
        SubOption::ShadowFilePath(SHADOW_FILE),
    ])
}

#[test]
fn ack_select_four_ways() {
    let payload = ack_select();
    assert_eq!(
        raw_list(&payload),
        vec![
            (1, vec![2], 0),
            (8, ID_MACOSX_INSTALL_1001.to_vec(), 3),
            (130, MACHINE.to_vec(), 9),
            (128, SHADOW_MOUNT.to_vec(), 21),
            (129, SHADOW_FILE.to_vec(), 69),
        ]
    );
    assert_eq!(emit_each(&ack_select_repr().options), payload);
    let repr = Repr::parse(&payload).unwrap();
    assert_eq!(repr, ack_select_repr());
    assert_eq!(repr.machine_name(), Some(MACHINE));
    assert_eq!(repr.shadow_mount_path(), Some(SHADOW_MOUNT));
    assert_eq!(repr.shadow_file_path(), Some(SHADOW_FILE));
    assert_eq!(repr.boot_image_list_path(), None);
    assert_emits(&ack_select_repr(), &payload);
    assert_eq!(
        repr.summary().dhcp_message_type(5).server_id(SERVER).to_string(),
        "BSDP ACK[SELECT] server=192.0.2.1 selected=0x81001001 \
         shadow_mount=\"afp://netboot:secret@192.0.2.1/NetBootClients0\" \
         shadow_file=\"NetBoot001/Shadow\" machine=\"NetBoot001\""
    );
}

#[test]
fn ack_failed_four_ways() {
    assert_eq!(raw_list(ACK_FAILED), vec![(1, vec![3], 0)]);
    let expected = Message::new(vec![SubOption::MessageType(MessageType::Failed)]);
    assert_eq!(emit_each(&expected.options), ACK_FAILED);
    let repr = Repr::parse(ACK_FAILED).unwrap();
    assert_eq!(repr, expected);
    assert_eq!(repr.message_type(), Some(MessageType::Failed));
    assert_emits(&expected, ACK_FAILED);
    assert_eq!(repr.summary().dhcp_message_type(5).server_id(SERVER).to_string(), "BSDP ACK[FAILED] server=192.0.2.1");
}

// ---------------------------------------------------------------------------------
// Duplicates, unknown codes, display details
// ---------------------------------------------------------------------------------

#[test]
fn duplicates_are_kept_in_order() {
    let payload = [
        0x01, 0x01, 0x01, // LIST
        0x04, 0x02, 0x00, 0x01, // priority 1
        0x01, 0x01, 0x02, // SELECT (duplicate)
        0x04, 0x02, 0x00, 0x02, // priority 2 (duplicate)
        0xc8, 0x02, 0xab, 0xcd, // unassigned code 200
        0x00, 0x00, // code 0 is not a pad here
    ];
    let repr = Repr::parse(&payload).unwrap();
    assert_eq!(repr.options.len(), 6);
    assert_eq!(repr.message_type(), Some(MessageType::List));
    assert_eq!(repr.priority(), Some(1));
    assert_eq!(repr.count(code::MESSAGE_TYPE), 2);
    assert_eq!(repr.options[2], SubOption::MessageType(MessageType::Select));
    assert_eq!(repr.options[4], SubOption::Unknown { code: 200, value: &[0xab, 0xcd] });
    assert_eq!(repr.options[5], SubOption::Unknown { code: 0, value: &[] });
    assert_eq!(repr.find(200).map(|o| o.code()), Some(200));
    assert_eq!(repr.to_bytes().unwrap(), payload);
    assert_eq!(repr.to_string(), "BSDP [LIST] priority=1 opt200=abcd opt0= dup=[1,4]");
    assert_eq!(bsdp::sub_option_name(200), None);
    assert_eq!(bsdp::sub_option_name(9), Some("boot image list"));
}

#[test]
fn display_escapes_names() {
    let images = [BootImage { id: BootImageId(0x0100_0002), name: b"Caf\xc3\xa9 \"x\"\xff\n" }];
    let repr = Repr::new(vec![
        SubOption::MessageType(MessageType::Unknown(9)),
        SubOption::BootImageList(BootImageList::from_entries(&images)),
    ]);
    assert_eq!(repr.to_string(), r#"BSDP [UNKNOWN(9)] images=[0x01000002 "Café \"x\"\xff\n"]"#);
    assert_eq!(Repr::default().to_string(), "BSDP [-]");
}

// ---------------------------------------------------------------------------------
// Negative cases
// ---------------------------------------------------------------------------------

#[test]
fn sub_option_length_past_end() {
    // A boot image list that declares 10 octets when only 6 remain.
    let payload = [0x01, 0x01, 0x01, 0x09, 0x0a, 0x01, 0x00, 0x00, 0x01, 0x05, b'A'];
    let expected = Error::new(
        3,
        ErrorKind::LengthMismatch { what: "BSDP sub-option 9 (boot image list)", declared: 10, available: 6 },
    );
    let mut it = sub_options(&payload);
    assert!(it.next().unwrap().is_ok());
    assert_eq!(it.next(), Some(Err(expected.clone())));
    assert_eq!(it.offset(), 3);
    assert_eq!(it.remaining(), &payload[3..]);
    assert_eq!(it.next(), None);
    assert_eq!(Repr::parse(&payload), Err(expected.clone()));

    let (repr, findings) = Repr::parse_lenient(&payload);
    assert_eq!(findings, vec![expected]);
    assert_eq!(repr.options, vec![SubOption::MessageType(MessageType::List)]);
    assert_eq!(repr.trailing(), &payload[3..]);
    assert_eq!(repr.to_bytes().unwrap(), payload);
    assert!(repr.to_string().ends_with(" trailing=090a010000010541"));

    // A code without a length octet.
    let payload = [0x01, 0x01, 0x01, 0x07];
    assert_eq!(
        Repr::parse(&payload),
        Err(Error::new(
            3,
            ErrorKind::Truncated { what: "BSDP sub-option header (code without length)", need: 2, have: 1 }
        ))
    );
}

#[test]
fn wrong_fixed_lengths() {
    for (code, good) in [(1u8, 1usize), (2, 2), (3, 4), (4, 2), (5, 2), (7, 4), (8, 4), (10, 0), (12, 2)] {
        assert_eq!(bsdp::fixed_value_len(code), Some(good));
        for len in [0usize, 1, 2, 3, 4, 5, 8] {
            let mut payload = vec![0x01, 0x01, 0x01];
            payload.extend([code, len as u8]);
            payload.extend(std::iter::repeat_n(0x11, len));
            let result = Repr::parse(&payload);
            if len == good {
                assert!(result.is_ok(), "code {code} len {len}: {result:?}");
                continue;
            }
            let err = result.unwrap_err();
            assert_eq!(err.offset, 3, "code {code} len {len}");
            let expected = format!("expected {good}");
            assert!(
                matches!(err.kind, ErrorKind::WrongLength { code: c, len: l, expected: e, .. }
                    if c == code && l == len && e == expected),
                "code {code} len {len}: {err}"
            );
            let (repr, findings) = Repr::parse_lenient(&payload);
            assert_eq!(findings, vec![err]);
            assert_eq!(repr.options[1], SubOption::Invalid { code, value: &payload[5..] });
            assert_eq!(repr.to_bytes().unwrap(), payload);
            assert!(repr.to_string().contains(&format!(" bad{code}=")));
        }
    }
    for code in [6u8, 9, 11, 128, 129, 130, 13, 200] {
        assert_eq!(bsdp::fixed_value_len(code), None);
    }
}

#[test]
fn attributes_filter_lengths() {
    for (value, ok) in [
        (&[][..], false),
        (&[0x03][..], false),
        (&[0x03, 0x00][..], true),
        (&[0x03, 0x00, 0x01][..], false),
        (&[0x03, 0x00, 0x01, 0x00][..], true),
    ] {
        let mut payload = vec![0x0b, value.len() as u8];
        payload.extend_from_slice(value);
        let result = Repr::parse(&payload);
        assert_eq!(result.is_ok(), ok, "{value:?}");
        assert_eq!(AttributesFilterList::new_checked(value).is_ok(), ok);
        if !ok {
            assert_eq!(
                result.unwrap_err(),
                Error::new(
                    0,
                    ErrorKind::WrongLength {
                        code: 11,
                        name: "BSDP image attributes filter list",
                        len: value.len(),
                        expected: "expected a non-zero multiple of 2"
                    }
                )
            );
            let (repr, findings) = Repr::parse_lenient(&payload);
            assert_eq!(findings.len(), 1);
            assert_eq!(repr.to_bytes().unwrap(), payload);
        }
    }
}

#[test]
fn boot_image_list_truncated_entries() {
    // Entry header cut short: 4 octets where 5 are needed (offset of the entry).
    let value = [0x01, 0x00, 0x00, 0x01, 0x01, b'A', 0x81, 0x00, 0x10, 0x01];
    let list = BootImageList::new_unchecked(&value);
    let items: Vec<_> = list.iter().collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    assert_eq!(
        items[1],
        Err(Error::new(6, ErrorKind::Truncated { what: "BSDP boot image list entry", need: 5, have: 4 }))
    );
    assert_eq!(list.len(), 1);
    assert!(BootImageList::new_checked(&value).is_err());

    // Name cut short: declares 13 octets, 3 present.
    let mut payload = vec![0x01, 0x01, 0x01, 0x09, 0x08, 0x01, 0x00, 0x00, 0x01, 0x0d];
    payload.extend_from_slice(b"Mac");
    let expected = Error::new(5, ErrorKind::Truncated { what: "BSDP boot image list entry", need: 18, have: 8 });
    assert_eq!(Repr::parse(&payload), Err(expected.clone()));
    let (repr, findings) = Repr::parse_lenient(&payload);
    assert_eq!(findings, vec![expected]);
    assert_eq!(repr.images().count(), 0);
    assert_eq!(repr.to_bytes().unwrap(), payload);
    assert!(repr.to_string().contains("images=[<truncated>]"));

    // Empty list is well-formed (k = 0).
    assert_eq!(Repr::parse(&[0x09, 0x00]).unwrap().images().count(), 0);
}

#[test]
fn emit_rejects_oversized_values() {
    let long = vec![b'x'; 256];
    let repr = Repr::new(vec![SubOption::MessageType(MessageType::Select), SubOption::MachineName(&long)]);
    let err = repr.to_bytes().unwrap_err();
    assert_eq!(err.offset, 3);
    assert!(matches!(err.kind, ErrorKind::WrongLength { code: 130, len: 256, .. }));

    // 254 octets: encodable, but the sub-option (256 octets) cannot fit one instance.
    let repr = Repr::new(vec![SubOption::MessageType(MessageType::Select), SubOption::MachineName(&long[..254])]);
    assert_eq!(repr.to_bytes().unwrap().len(), 3 + 256);
    let err = repr.split_instances().unwrap_err();
    assert_eq!(err.offset, 3);
    assert!(matches!(err.kind, ErrorKind::WrongLength { code: 130, len: 254, .. }));

    // 253 octets fit exactly one instance of 255.
    let repr = Repr::new(vec![SubOption::MessageType(MessageType::Select), SubOption::MachineName(&long[..253])]);
    let split = repr.split_instances().unwrap();
    assert_eq!(split.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 255]);

    // A built image list whose name cannot be length-prefixed.
    let images = [BootImage { id: BootImageId(1), name: &long }];
    let list = BootImageList::from_entries(&images);
    assert!(list.check().is_err());
    assert!(SubOption::BootImageList(list).to_vec().is_err());

    // Nothing to split: no instances.
    assert!(Repr::default().split_instances().unwrap().is_empty());
}

#[test]
fn split_packs_greedily_at_boundaries() {
    // 60 sub-options of 6 octets: 42 fit in 252 octets, the next would make 258.
    let ids: Vec<SubOption<'static>> = (0..60u32).map(|i| SubOption::SelectedBootImageId(BootImageId(i))).collect();
    let repr = Repr::new(ids);
    let split = repr.split_instances().unwrap();
    assert_eq!(split.iter().map(Vec::len).collect::<Vec<_>>(), vec![252, 108]);
    let joined = JoinedInstances::join(split.iter().map(Vec::as_slice));
    assert!(joined.straddles().is_empty());
    assert_eq!(joined.parse().unwrap(), repr);
}

// ---------------------------------------------------------------------------------
// Robustness: every prefix and every single-octet mutation
// ---------------------------------------------------------------------------------

fn exercise(payload: &[u8]) {
    let strict = Repr::parse(payload);
    let (lenient, findings) = Repr::parse_lenient(payload);
    // The lenient parse always reproduces the input exactly.
    assert_eq!(lenient.to_bytes().unwrap(), payload);
    if let Ok(repr) = &strict {
        assert!(findings.is_empty());
        assert_eq!(repr, &lenient);
        assert_eq!(repr.to_bytes().unwrap(), payload);
    } else {
        assert_eq!(findings.first(), strict.as_ref().err());
    }
    let _ = lenient.to_string();
    let _ = lenient.summary().dhcp_message_type(5).to_string();
    let _ = lenient.images().count();
    if let Ok(split) = lenient.split_instances() {
        let joined = JoinedInstances::join(split.iter().map(Vec::as_slice));
        assert_eq!(joined.as_bytes(), payload);
        if strict.is_ok() {
            assert!(joined.straddles().is_empty());
        }
    }
    for raw in sub_options(payload).flatten() {
        let _ = SubOption::parse(raw);
    }
    // Arbitrary instance boundaries.
    let mid = payload.len() / 2;
    let joined = JoinedInstances::join([&payload[..mid], &payload[mid..]]);
    let _ = joined.parse();
    let _ = joined.parse_lenient();
    let _ = VendorClass::parse(payload);
}

#[test]
fn every_prefix_parses_without_panic() {
    for payload in all_payloads() {
        for end in 0..=payload.len() {
            exercise(&payload[..end]);
        }
    }
}

#[test]
fn every_single_byte_mutation_parses_without_panic() {
    for payload in all_payloads() {
        let mut m = payload.clone();
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

#[test]
fn vendor_class_prefixes_and_mutations_without_panic() {
    for value in [&b"AAPLBSDPC"[..], b"AAPLBSDPC/i386/MacBookPro11,1"] {
        for end in 0..=value.len() {
            let _ = VendorClass::parse(&value[..end]).map(|v| v.to_string());
        }
        let mut m = value.to_vec();
        for i in 0..m.len() {
            let orig = m[i];
            for v in 0..=255u8 {
                m[i] = v;
                if let Ok(vc) = VendorClass::parse(&m) {
                    assert_eq!(vc.to_vec(), m);
                }
            }
            m[i] = orig;
        }
    }
}

/// With the `arbitrary` feature: arbitrary `Repr`s survive emit and lenient re-parse.
#[cfg(feature = "arbitrary")]
#[test]
fn arbitrary_reprs_round_trip() {
    use arbitrary::{Arbitrary, Unstructured};
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..2000 {
        let data: Vec<u8> = (0..600)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        let mut u = Unstructured::new(&data);
        let Ok(repr) = Repr::arbitrary(&mut u) else { continue };
        let bytes = repr.to_bytes().unwrap();
        let (back, _) = Repr::parse_lenient(&bytes);
        assert_eq!(back, repr);
        assert_eq!(back.to_bytes().unwrap(), bytes);
        let _ = repr.to_string();
    }
}
