//! Shared checks for the cargo-fuzz targets of `bootcheck-wire`.
//!
//! Each `check_*` function drives one layer of the wire crate over arbitrary bytes and
//! asserts the properties the crate documents. The targets in `fuzz_targets/` are thin
//! wrappers, so the `frame` target can run the same checks on whatever payload it finds.
//!
//! Every property follows from what the crate documents (no panic, byte-exact re-emission,
//! offsets relative to the buffer parsed, strict = lenient without errors); a failed
//! assertion is a bug in the crate or a mistake here, never an acceptable outcome.

use std::fmt::Write as _;

pub mod differential;
pub mod mutator;

use bootcheck_wire::bootp::{self, Packet, VendKind};
use bootcheck_wire::frame::{Frame, LinkType, Net, Transport};
use bootcheck_wire::options::{self, AreaIter, Item, SubOptions};
use bootcheck_wire::{arp, bsdp, tftp};
use bootcheck_wire::{Area, Error, Mode, Severity};

/// Link types selectable by the first octet of a `frame` input (`selector % 6`).
pub const LINK_TYPES: [LinkType; 5] =
    [LinkType::Ethernet, LinkType::Raw, LinkType::Ipv4, LinkType::LinuxSll, LinkType::LinuxSll2];

/// The link type a `frame` input's selector octet picks: 0–4 index [`LINK_TYPES`],
/// anything else (modulo 6 == 5) is `LinkType::Other(selector)`, which must be refused.
pub fn link_type(selector: u8) -> LinkType {
    LINK_TYPES.get(usize::from(selector % 6)).copied().unwrap_or(LinkType::Other(u32::from(selector)))
}

/// The selector octet for `lt` (inverse of [`link_type`] for the five supported types).
pub fn selector(lt: LinkType) -> Option<u8> {
    LINK_TYPES.iter().position(|&l| l == lt).and_then(|i| u8::try_from(i).ok())
}

/// Formats `v` into a scratch string (exercises every `Display` path without I/O).
pub fn render<T: std::fmt::Display + ?Sized>(v: &T) -> String {
    let mut s = String::new();
    let _ = write!(s, "{v}");
    s
}

/// Every finding's offset must point into the buffer it was reported against (one past
/// the end is allowed: "the area ends here" and truncation errors point there).
pub fn assert_offsets_in(findings: &[Error], len: usize, what: &str) {
    for f in findings {
        assert!(f.offset <= len, "{what}: finding offset {} past buffer length {len}: {f}", f.offset);
        let _ = render(f);
    }
}

/// Walk one option area with [`AreaIter`]: items must tile the area exactly (Pad runs,
/// options, End, then the rest), every option's typed value must re-encode to its own
/// octets, and all `Display` impls must work.
pub fn check_area(area: &[u8], base: usize, which: Area) {
    let mut it = AreaIter::new(area, base, which);
    let mut pos = 0usize; // expected position of the next item, relative to the area
    let mut ended = false;
    let mut errored = false;
    let mut items = 0usize;
    while let Some(r) = it.next() {
        items += 1;
        assert!(items <= area.len() + 2, "AreaIter does not terminate");
        match r {
            Ok(item) => {
                assert!(!ended && !errored, "item after End or error: {item:?}");
                match item {
                    Item::Pad { offset, len, area: a } => {
                        assert_eq!(a, which);
                        assert_eq!(offset, base + pos, "pad run not where the walk stands");
                        assert!(len > 0, "empty pad run");
                        assert!(area[pos..pos + len].iter().all(|&b| b == options::PAD));
                        pos += len;
                    }
                    Item::Option(o) => {
                        assert_eq!(o.area, which);
                        assert_eq!(o.offset, base + pos, "option not where the walk stands");
                        let raw = o.option;
                        assert!(raw.code != options::PAD && raw.code != options::END);
                        assert_eq!(area.get(pos + 1).copied(), Some(raw.data.len() as u8));
                        assert_eq!(&area[pos + 2..pos + raw.wire_len()], raw.data);
                        pos += raw.wire_len();
                        check_option(raw.code, raw.data);
                        if let Err(e) = o.value() {
                            assert!(e.offset >= o.offset + 2, "value error before the value: {e}");
                            assert!(e.offset <= o.offset + raw.wire_len(), "value error past the value: {e}");
                        }
                        let _ = render(&raw);
                    }
                    Item::End { offset, area: a } => {
                        assert_eq!(a, which);
                        assert_eq!(offset, base + pos);
                        assert_eq!(area.get(pos).copied(), Some(options::END));
                        pos += 1;
                        ended = true;
                    }
                }
                assert_eq!(it.position(), pos, "position() disagrees with the items");
            }
            Err(e) => {
                assert!(!errored, "two structural errors from one area: {e}");
                assert!(e.offset >= base && e.offset <= base + area.len(), "error outside the area: {e}");
                let _ = render(&e);
                if ended {
                    assert_eq!(e.severity(), Severity::Warning, "only trailing garbage may follow End: {e}");
                }
                errored = true;
            }
        }
    }
    // The walk stops after End (rest = tail) or at the first structural error (rest =
    // from the offending option on); either way consumed + rest = the whole area.
    assert_eq!(pos + it.rest().len(), area.len());
    assert!(ended || errored, "area walk ended without End and without an error");
}

/// Typed decode of one option value: an accepted value re-encodes to the same octets and
/// decodes to the same value; `Display` works either way; encapsulated sub-options of
/// 82 and 43 walk without panicking.
pub fn check_option(code: u8, data: &[u8]) {
    let _ = options::name(code);
    if let Some(spec) = options::spec(code) {
        assert_eq!(spec.code, code);
        assert_eq!(options::code_by_name(spec.name), Some(code), "codebook name not unique: {}", spec.name);
    }
    match options::Value::decode(code, data) {
        Ok(v) => {
            let mut out = Vec::new();
            v.encode(&mut out);
            assert_eq!(out, data, "option {code}: encode(decode(x)) != x");
            assert_eq!(options::Value::decode(code, &out).ok(), Some(v));
            let _ = render(&v);
        }
        Err(e) => {
            assert!(e.offset <= data.len(), "option {code}: value error offset {} past the value", e.offset);
            let _ = render(&e);
        }
    }
    if code == options::code::RELAY_AGENT_INFO || code == options::code::VENDOR_SPECIFIC {
        let mut at = 0usize;
        for r in SubOptions(data).iter() {
            match r {
                Ok((_, d, off)) => {
                    assert_eq!(off, at);
                    at = off + 2 + d.len();
                }
                Err(e) => {
                    assert!(e.offset <= data.len());
                    break;
                }
            }
        }
        assert!(at <= data.len());
    }
    let mut emitted = Vec::new();
    options::emit_option(&mut emitted, code, data);
    if code != options::PAD && code != options::END {
        // Re-walk the emitted TLVs: RFC 3396 splitting must aggregate back to `data`.
        let mut joined = Vec::new();
        let mut count = 0usize;
        for r in AreaIter::new(&emitted, 0, Area::Options) {
            match r {
                Ok(Item::Option(o)) => {
                    assert_eq!(o.option.code, code);
                    joined.extend_from_slice(o.option.data);
                    count += 1;
                }
                Ok(other) => panic!("emit_option produced {other:?}"),
                Err(_) => break, // MissingEnd: emit_option writes no End
            }
        }
        assert_eq!(joined, data, "emit_option does not aggregate back");
        assert_eq!(count, data.len().div_ceil(255).max(1));
    }
}

/// A fixed BOOTREQUEST header (236 octets) whose `file` and `sname` fields hold small
/// option areas, so that an option 52 in the fuzzed vend field has something to walk.
pub fn fixed_header() -> Vec<u8> {
    let mut h = vec![0u8; bootp::HEADER_LEN];
    h[0] = 1; // BOOTREQUEST
    h[1] = 1; // Ethernet
    h[2] = 6;
    h[4..8].copy_from_slice(&0x1234_5678u32.to_be_bytes());
    h[28..34].copy_from_slice(&[0x02, 0, 0, 0, 0, 1]);
    // sname (44..108): host-name "sn", vendor-specific, End.
    let sname: &[u8] = &[12, 2, b's', b'n', 43, 3, 1, 1, 2, 255];
    h[44..44 + sname.len()].copy_from_slice(sname);
    // file (108..236): domain-name "f", host-name "x", vendor class, End.
    let file: &[u8] = &[15, 1, b'f', 12, 1, b'x', 60, 9, b'A', b'A', b'P', b'L', b'B', b'S', b'D', b'P', b'C', 255];
    h[108..108 + file.len()].copy_from_slice(file);
    h
}

/// The fixed header, the RFC 1048 cookie, then `area`.
pub fn bootp_with_options(area: &[u8]) -> Vec<u8> {
    let mut m = fixed_header();
    m.extend_from_slice(&bootp::MAGIC_COOKIE);
    m.extend_from_slice(area);
    m
}

/// Exercise a [`Packet`] view: accessors, the overload walk, `aggregate`, findings and
/// `Display`. Returns the findings.
pub fn check_packet(bytes: &[u8]) -> Vec<Error> {
    let p = Packet::new_unchecked(bytes);
    let _ = (p.op(), p.htype(), p.hlen(), p.hops(), p.xid(), p.secs(), p.flags(), p.broadcast());
    let _ = (p.ciaddr(), p.yiaddr(), p.siaddr(), p.giaddr());
    assert!(p.chaddr().len() <= 16);
    let _ = (p.sname(), p.file(), p.vend(), p.message_type(), p.overload());
    if p.vend_kind() == VendKind::Cmu {
        let c = bootp::CmuVend(p.vend());
        let _ = (c.flags(), c.subnet_mask(), c.gateway(), c.dns(), c.ien116(), c.time_servers());
    }
    // The walk: every option lies inside the message, areas come in RFC 3396 order.
    let mut walk = p.walk();
    let mut last_area = Area::Options;
    let rank = |a: Area| match a {
        Area::Options => 0,
        Area::File => 1,
        Area::Sname => 2,
    };
    let mut steps = 0usize;
    for r in walk.by_ref() {
        steps += 1;
        assert!(steps <= 3 * bytes.len() + 8, "Walk does not terminate");
        if let Ok(Item::Option(o)) = r {
            assert!(rank(o.area) >= rank(last_area), "walk went back to an earlier area");
            last_area = o.area;
            let end = o.offset + o.option.wire_len();
            assert!(end <= bytes.len());
            assert_eq!(&bytes[o.offset + 2..end], o.option.data);
        }
    }
    let _ = walk.overload();
    // aggregate == concatenation of the instances, in walk order.
    for code in [12u8, 15, 43, 53, 55, 60, 61, 82, 52, 1] {
        let joined: Vec<u8> =
            p.options().filter(|o| o.option.code == code).flat_map(|o| o.option.data).copied().collect();
        let n = p.options().filter(|o| o.option.code == code).count();
        match p.aggregate(code) {
            None => assert_eq!(n, 0),
            Some(a) => {
                assert!(n > 0);
                assert_eq!(&*a, &joined[..], "aggregate({code}) differs from the instances");
            }
        }
        if let Some(first) = p.find(code) {
            assert_eq!(first.option.code, code);
        }
    }
    let findings = p.findings();
    assert_offsets_in(&findings, bytes.len(), "bootp");
    let _ = render(&p);
    // Strict check accepts exactly when no finding is an error.
    let no_errors = findings.iter().all(|f| f.severity() == Severity::Warning);
    match p.check() {
        Ok(()) => assert!(no_errors, "check() passed but findings hold an error: {findings:?}"),
        Err(e) => {
            assert!(!no_errors, "check() failed ({e}) but findings hold no error");
            assert!(findings.contains(&e), "check()'s error {e} is not among the findings");
        }
    }
    findings
}

/// Strict parse of a BOOTP message. An accepted message re-emits to the exact octets and
/// the lenient parse agrees with it.
pub fn check_bootp_strict(bytes: &[u8]) {
    let findings = check_packet(bytes);
    match bootp::Repr::parse(bytes) {
        Ok(r) => {
            assert!(findings.iter().all(|f| f.severity() == Severity::Warning));
            assert_eq!(r.buffer_len(), bytes.len());
            assert_eq!(r.to_vec(), bytes, "strict Repr does not re-emit the input");
            let (l, lf) = bootp::Repr::parse_lenient(bytes);
            assert_eq!(l.as_ref(), Some(&r), "lenient and strict parses differ");
            assert_eq!(lf, findings);
            let (m, _) = bootp::Repr::parse_mode(bytes, Mode::Strict).expect("parse_mode(Strict)");
            assert_eq!(m, r);
            let _ = render(&r);
        }
        Err(e) => {
            assert!(e.offset <= bytes.len());
            assert!(bootp::Repr::parse_mode(bytes, Mode::Strict).is_err());
            let _ = render(&e);
        }
    }
}

/// Lenient parse of a BOOTP message. Whatever it returns re-emits to the exact input
/// octets (the Repr keeps everything from the first malformed option on as its tail), and
/// parsing the emitted octets gives the same Repr.
pub fn check_bootp_lenient(bytes: &[u8]) {
    let (r, findings) = bootp::Repr::parse_lenient(bytes);
    assert_offsets_in(&findings, bytes.len(), "bootp lenient");
    match r {
        None => {
            assert!(bytes.len() < bootp::HEADER_LEN, "lenient parse refused a whole header");
            assert!(!findings.is_empty(), "lenient parse refused without a finding");
            assert!(bootp::Repr::parse(bytes).is_err());
            assert!(bootp::Repr::parse_mode(bytes, Mode::Lenient).is_err());
        }
        Some(r) => {
            assert!(bytes.len() >= bootp::HEADER_LEN);
            assert_eq!(r.buffer_len(), bytes.len());
            let out = r.to_vec();
            assert_eq!(out, bytes, "lenient Repr does not re-emit the input");
            let (again, again_findings) = bootp::Repr::parse_lenient(&out);
            assert_eq!(again.as_ref(), Some(&r));
            assert_eq!(again_findings, findings);
            assert_eq!(
                r.options().count(),
                match &r.vend {
                    bootp::Vend::Options { items, .. } =>
                        items.iter().filter(|i| matches!(i, bootp::OptItem::Option(_))).count(),
                    bootp::Vend::Raw(_) => 0,
                }
            );
            let _ = render(&r);
        }
    }
}

/// Parse a frame and check every layer points into it; then decode the payload found.
pub fn check_frame(lt: LinkType, bytes: &[u8]) {
    let f = match Frame::parse(lt, bytes) {
        Ok(f) => f,
        Err(e) => {
            assert!(e.offset <= bytes.len());
            let _ = render(&e);
            return;
        }
    };
    assert!(!matches!(lt, LinkType::Other(_)), "an unsupported link type parsed");
    assert_offsets_in(&f.findings, bytes.len(), "frame");
    let _ = (f.src_mac(), f.dst_mac(), f.ipv4().map(|i| i.is_fragment()));
    let inside = |payload: &[u8], offset: usize| {
        assert_eq!(bytes.get(offset..offset + payload.len()), Some(payload), "payload not at its offset");
    };
    match f.net {
        Net::Ipv4(ip) => {
            assert!(ip.offset <= bytes.len());
            match ip.transport {
                Transport::Udp(u) => {
                    inside(u.payload, u.payload_offset);
                    let is_bootp = f.bootp().is_some();
                    if is_bootp {
                        assert_eq!(f.bootp(), Some(u.payload));
                        check_bootp_strict(u.payload);
                        check_bootp_lenient(u.payload);
                    } else {
                        check_tftp(u.payload);
                    }
                }
                Transport::Fragment { payload, offset } | Transport::Other { payload, offset } => {
                    inside(payload, offset);
                }
            }
        }
        Net::Arp { body, offset } => {
            inside(body, offset);
            check_arp(body);
        }
        Net::Other { payload, offset } => inside(payload, offset),
    }
}

/// TFTP, strict and lenient. Strict: `Packet::check_len` agrees with `Repr::parse_bytes`
/// and an accepted packet re-emits byte for byte. Lenient: when it reports nothing it
/// equals the strict parse; when it repairs (an unterminated string, a name without a
/// value, octets after an ACK or an ERROR message), the emitted octets are *not* the
/// input — they are the repaired packet, which must parse strictly to the same Repr.
pub fn check_tftp(bytes: &[u8]) {
    let p = tftp::Packet::new_unchecked(bytes);
    let _ = (p.opcode(), p.block(), p.error_code(), p.data(), p.error_message(), p.filename(), p.mode());
    let _ = (p.transfer_mode(), p.is_final_block(tftp::DEFAULT_BLKSIZE));
    if let Some(at) = p.options_offset() {
        assert!(at <= bytes.len());
    }
    for o in p.options() {
        match o {
            Ok(o) => {
                let _ = (o.kind(), o.value_u64(), o.check(), render(&o));
            }
            Err(e) => assert!(e.offset <= bytes.len(), "TFTP option error past the end: {e}"),
        }
    }
    let _ = render(&p);
    let strict = tftp::Repr::parse_bytes(bytes);
    assert_eq!(p.check_len().err(), strict.as_ref().err().cloned(), "check_len and parse_bytes disagree");
    let (lenient, findings) = tftp::Repr::parse_lenient(bytes);
    assert_offsets_in(&findings, bytes.len(), "tftp lenient");
    match &strict {
        Ok(r) => {
            assert_eq!(r.buffer_len(), bytes.len());
            assert_eq!(r.to_vec(), bytes, "strict TFTP Repr does not re-emit the input");
            assert!(r.check_encodable().is_ok(), "a parsed TFTP Repr is not encodable");
            assert_eq!(lenient.as_ref(), Some(r), "lenient and strict TFTP parses differ");
            assert!(findings.is_empty(), "strict accepted what lenient reports: {findings:?}");
            let (m, _) = tftp::Repr::parse_mode(bytes, Mode::Strict).expect("parse_mode(Strict)");
            assert_eq!(&m, r);
            check_tftp_repr(r);
        }
        Err(e) => {
            assert!(e.offset <= bytes.len(), "TFTP error past the end: {e}");
            let _ = render(e);
            assert!(!findings.is_empty(), "strict refused ({e}) but lenient found nothing");
            assert_eq!(findings.first(), Some(e), "strict error is not the first lenient finding");
        }
    }
    match lenient {
        Some(r) => {
            let out = r.to_vec();
            if findings.is_empty() {
                assert_eq!(out, bytes);
            }
            assert!(r.check_encodable().is_ok(), "a leniently parsed TFTP Repr is not encodable: {r:?}");
            let again = tftp::Repr::parse_bytes(&out);
            assert_eq!(again.as_ref().ok(), Some(&r), "repaired TFTP packet does not parse back strictly");
            assert!(tftp::Repr::parse_mode(bytes, Mode::Lenient).is_ok());
            check_tftp_repr(&r);
        }
        None => {
            assert!(strict.is_err());
            assert!(!findings.is_empty(), "lenient TFTP refused without a finding");
            assert!(tftp::Repr::parse_mode(bytes, Mode::Lenient).is_err());
        }
    }
}

fn check_tftp_repr(r: &tftp::Repr<'_>) {
    let _ = (r.opcode(), r.transfer_mode(), r.is_final_block(tftp::DEFAULT_BLKSIZE), render(r));
    for k in [tftp::OptionKind::from_name(b"blksize"), tftp::OptionKind::from_name(b"TSIZE")].into_iter().flatten() {
        let _ = r.option(k);
    }
    let len = r.buffer_len();
    for f in r.validate() {
        assert!(f.offset <= len, "validate() finding past the packet: {f}");
        let _ = render(&f);
    }
}

/// ARP/RARP: `check_len` agrees with `parse_bytes`; an accepted body re-emits to the
/// declared body octets (padding excluded) and the typed Ethernet/IPv4 form agrees.
pub fn check_arp(bytes: &[u8]) {
    let p = arp::Packet::new_unchecked(bytes);
    let _ = (p.hardware_type(), p.protocol_type(), p.hardware_len(), p.protocol_len(), p.operation());
    let _ = (p.sha(), p.spa(), p.tha(), p.tpa(), p.sender_mac(), p.target_mac(), p.sender_ipv4(), p.target_ipv4());
    assert!(p.trailing().len() == p.trailing_len());
    let _ = render(&p);
    let parsed = arp::Repr::parse_bytes(bytes);
    assert_eq!(p.check_len().err(), parsed.as_ref().err().cloned(), "check_len and parse_bytes disagree");
    match parsed {
        Ok(r) => {
            let body = p.body_len();
            assert!(body <= bytes.len());
            assert_eq!(r.buffer_len(), body);
            assert_eq!(r.to_vec(), &bytes[..body], "ARP Repr does not re-emit the body");
            assert_eq!(p.trailing(), &bytes[body..]);
            assert!(r.check_encodable().is_ok(), "a parsed ARP Repr is not encodable");
            assert_eq!(r.operation.is_rarp(), matches!(u16::from(r.operation), 3 | 4));
            let _ = (r.sender_mac(), r.target_mac(), r.sender_ipv4(), r.target_ipv4(), render(&r));
            match r.to_ethernet_ipv4() {
                Some(e) => {
                    assert!(r.is_ethernet_ipv4());
                    assert_eq!(e.to_vec(), &bytes[..body]);
                    assert_eq!(render(&e), render(&r));
                }
                None => assert!(!r.is_ethernet_ipv4()),
            }
        }
        Err(e) => {
            assert!(e.offset <= bytes.len());
            let _ = render(&e);
        }
    }
}

/// A BSDP option-43 payload, strict and lenient: both re-emit the input exactly; the
/// strict parse succeeds exactly when the lenient one finds nothing; Apple-style
/// splitting into option-43 instances joins back to the payload without straddles.
pub fn check_bsdp_payload(bytes: &[u8]) {
    let (lenient, findings) = bsdp::Repr::parse_lenient(bytes);
    assert_offsets_in(&findings, bytes.len(), "bsdp lenient");
    let emitted = lenient.to_bytes().expect("a leniently parsed BSDP Repr must emit");
    assert_eq!(emitted, bytes, "lenient BSDP Repr does not re-emit the input");
    match bsdp::Repr::parse(bytes) {
        Ok(r) => {
            assert!(findings.is_empty(), "strict BSDP accepted what lenient reports: {findings:?}");
            assert_eq!(r, lenient);
            assert!(r.trailing().is_empty());
            assert_eq!(r.to_bytes().ok().as_deref(), Some(bytes), "strict BSDP Repr does not re-emit the input");
        }
        Err(e) => {
            assert!(e.offset <= bytes.len());
            assert_eq!(findings.first(), Some(&e), "strict BSDP error is not the first lenient finding");
        }
    }
    let r = &lenient;
    let _ = (r.message_type(), r.version(), r.server_id(), r.priority(), r.reply_port(), r.boot_image_list_path());
    let _ = (r.default_image(), r.selected_image(), r.netboot_1_0_firmware(), r.max_message_size());
    let _ = (r.shadow_mount_path(), r.shadow_file_path(), r.machine_name());
    for img in r.images() {
        let id = img.id;
        let _ = (id.attributes(), id.index(), id.is_install(), id.kind(), id.reserved(), id.is_global(), id.is_null());
        assert_eq!(bsdp::BootImageId::from_bytes(id.to_bytes()), id);
        assert_eq!(bsdp::BootImageId::from_parts(id.attributes(), id.index()), id);
        let _ = (render(&id), render(&id.kind()));
    }
    if let Some(f) = r.attributes_filter() {
        let _ = (f.len(), f.is_empty(), f.iter().count(), f.check());
    }
    for o in r.iter() {
        let _ = (o.code(), bsdp::sub_option_name(o.code()), o.value_len());
        if let Ok(v) = o.to_vec() {
            assert_eq!(v.len(), o.buffer_len());
        }
    }
    let _ = render(r);
    let _ = render(&r.summary().dhcp_message_type(5).server_id(std::net::Ipv4Addr::new(192, 0, 2, 1)));
    match r.split_instances() {
        Ok(instances) => {
            assert!(instances.iter().all(|i| !i.is_empty() && i.len() <= bsdp::MAX_INSTANCE_LEN));
            assert_eq!(instances.concat(), bytes, "split_instances does not join back");
            let joined = bsdp::JoinedInstances::join(instances.iter().map(Vec::as_slice));
            if r.trailing().is_empty() {
                assert!(joined.straddles().is_empty(), "split_instances cut inside a sub-option");
            }
            let opt43 = r.to_option_43().expect("to_option_43 after split_instances");
            let mut agg = Vec::new();
            for item in AreaIter::new(&opt43, 0, Area::Options) {
                match item {
                    Ok(Item::Option(o)) => {
                        assert_eq!(o.option.code, bsdp::OPTION_VENDOR_SPECIFIC);
                        agg.extend_from_slice(o.option.data);
                    }
                    Ok(other) => panic!("to_option_43 produced {other:?}"),
                    Err(_) => break,
                }
            }
            assert_eq!(agg, bytes, "to_option_43 does not aggregate back");
        }
        Err(e) => {
            let _ = render(&e);
            assert!(r.iter().any(|o| o.buffer_len() > bsdp::MAX_INSTANCE_LEN), "split_instances failed: {e}");
        }
    }
}

/// The same octets cut into option-43 instances of `chunk` octets (the RFC 3396 view):
/// joining gives the payload back, offsets map back to instances, and the joined parse
/// agrees with the plain one.
pub fn check_bsdp_instances(bytes: &[u8], chunk: usize) {
    let chunk = chunk.max(1);
    let mut instances: Vec<&[u8]> = bytes.chunks(chunk).collect();
    if bytes.len() % 7 == 3 {
        instances.push(&[]); // an empty instance: a finding of its own
    }
    let j = bsdp::JoinedInstances::join(instances.iter().copied());
    assert_eq!(j.as_bytes(), bytes);
    assert_eq!(j.instance_count(), instances.len());
    for off in [0, bytes.len() / 2, bytes.len().saturating_sub(1)] {
        if let Some((i, o)) = j.locate(off) {
            let r = j.instance_range(i).expect("located instance exists");
            assert_eq!(r.start + o, off);
        } else {
            assert!(bytes.is_empty());
        }
    }
    for s in j.straddles() {
        assert!(s.first_instance < s.last_instance);
        assert!(s.offset + s.len <= bytes.len());
        let _ = render(&s.to_error());
    }
    assert_eq!(j.parse().ok(), bsdp::Repr::parse(bytes).ok());
    let (r, findings) = j.parse_lenient();
    assert_eq!(r, bsdp::Repr::parse_lenient(bytes).0);
    assert!(findings.windows(2).all(|w| w[0].offset <= w[1].offset), "findings not ordered by offset");
    assert_offsets_in(&findings, bytes.len(), "bsdp joined");
}

/// A BSDP option-60 vendor class: what parses emits the same octets back.
pub fn check_vendor_class(bytes: &[u8]) {
    let ok = bsdp::is_bsdp(bytes);
    match bsdp::parse_vendor_class(bytes) {
        Ok(v) => {
            assert!(ok);
            assert_eq!(v.to_vec(), bytes, "vendor class does not re-emit the input");
            assert_eq!(v.buffer_len(), bytes.len());
            let mut buf = vec![0u8; v.buffer_len()];
            assert_eq!(v.emit(&mut buf).ok(), Some(bytes.len()));
            assert_eq!(buf, bytes);
            assert_eq!(v.is_server(), v.arch().is_none());
            let _ = (v.system_id(), render(&v));
        }
        Err(e) => {
            assert!(!ok);
            assert!(e.offset <= bytes.len(), "vendor class error past the end: {e}");
            let _ = render(&e);
        }
    }
}
