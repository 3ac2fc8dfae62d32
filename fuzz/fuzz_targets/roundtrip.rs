//! Structure-aware round trips. The first choice picks a family; its `Repr` is built
//! with `arbitrary` (the wire crate's impls, feature "arbitrary"), emitted, parsed back
//! leniently, and must come back equal and re-emit the same octets:
//!
//! * 0: `bootp::Repr` (generated in the canonical form `parse_lenient` returns);
//! * 1: `tftp::Repr`, when `check_encodable` says its octets can parse back the same
//!   (a NUL inside a generated string cannot);
//! * 2: `arp::Repr` (same condition), and `arp::EthernetIpv4`;
//! * 3: `bsdp::Repr` (sub-options decoded the way `parse_lenient` decodes them), and
//!   `bsdp::VendorClass` when its components hold no `/` (arch), NUL or newline.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use bootcheck_wire::{arp, bootp, bsdp, tftp};
use libfuzzer_sys::fuzz_target;

fn bootp_roundtrip(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let r = bootp::Repr::arbitrary(u)?;
    let bytes = r.to_vec();
    assert_eq!(bytes.len(), r.buffer_len());
    let (back, findings) = bootp::Repr::parse_lenient(&bytes);
    assert_eq!(back.as_ref(), Some(&r), "bootp: parse_lenient(to_vec(r)) != r; findings {findings:?}");
    if let Ok(s) = bootp::Repr::parse(&bytes) {
        assert_eq!(s, r);
    }
    bootcheck_fuzz::check_bootp_strict(&bytes);
    Ok(())
}

fn tftp_roundtrip(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let r = tftp::Repr::arbitrary(u)?;
    let bytes = r.to_vec();
    assert_eq!(bytes.len(), r.buffer_len());
    let mut buf = vec![0u8; bytes.len()];
    assert_eq!(r.emit(&mut buf).ok(), Some(bytes.len()));
    assert_eq!(buf, bytes);
    if r.check_encodable().is_ok() {
        let (back, findings) = tftp::Repr::parse_lenient(&bytes);
        assert_eq!(back.as_ref(), Some(&r), "tftp: parse_lenient(to_vec(r)) != r; findings {findings:?}");
        assert!(findings.is_empty(), "tftp: an encodable Repr parses with findings {findings:?}");
        assert_eq!(tftp::Repr::parse_bytes(&bytes).ok().as_ref(), Some(&r));
    }
    bootcheck_fuzz::check_tftp(&bytes);
    Ok(())
}

fn arp_roundtrip(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let r = arp::Repr::arbitrary(u)?;
    let bytes = r.to_vec();
    assert_eq!(bytes.len(), r.buffer_len());
    if r.check_encodable().is_ok() {
        let back = arp::Repr::parse_bytes(&bytes);
        assert_eq!(back.as_ref().ok(), Some(&r), "arp: parse(to_vec(r)) != r");
    }
    bootcheck_fuzz::check_arp(&bytes);
    let e = arp::EthernetIpv4::arbitrary(u)?;
    let eb = e.to_vec();
    assert_eq!(eb.len(), arp::ETHERNET_IPV4_LEN);
    let back = arp::Repr::parse_bytes(&eb).expect("an EthernetIpv4 body parses");
    assert_eq!(back.to_ethernet_ipv4(), Some(e));
    Ok(())
}

fn bsdp_roundtrip(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let v = bsdp::VendorClass::arbitrary(u)?;
    let vb = v.to_vec();
    let clean = |s: &[u8]| !s.iter().any(|&c| c == 0 || c == b'\n');
    let parses_back = match v {
        bsdp::VendorClass::Server => true,
        bsdp::VendorClass::Client { arch, system_id } => !arch.contains(&b'/') && clean(arch) && clean(system_id),
    };
    if parses_back {
        assert_eq!(bsdp::VendorClass::parse(&vb).ok(), Some(v), "vendor class does not round-trip");
    }
    bootcheck_fuzz::check_vendor_class(&vb);
    let r = bsdp::Repr::arbitrary(u)?;
    let bytes = r.to_bytes().expect("generated BSDP sub-options fit their length octets");
    let (back, _findings) = bsdp::Repr::parse_lenient(&bytes);
    assert_eq!(back, r, "bsdp: parse_lenient(to_bytes(r)) != r");
    assert_eq!(back.to_bytes().ok().as_ref(), Some(&bytes));
    bootcheck_fuzz::check_bsdp_payload(&bytes);
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(which) = u.int_in_range(0u8..=3) else { return };
    let _ = match which {
        0 => bootp_roundtrip(&mut u),
        1 => tftp_roundtrip(&mut u),
        2 => arp_roundtrip(&mut u),
        _ => bsdp_roundtrip(&mut u),
    };
});
