//! Differential test: every BOOTP/DHCP, TFTP and ARP/RARP packet in every capture under
//! `shared/captures/third-party/` is decoded by bootcheck-wire and by `tshark -T json`,
//! and the header fields, options and values are compared frame by frame.
//!
//! A disagreement fails the test unless `tests/tshark-known-differences.toml` lists it
//! (capture, frame, field, both values) with the reason. An entry that no longer
//! matches anything fails the test too, so the file cannot rot.
//!
//! See the summary table with
//! `cargo test -p bootcheck-wire --test tshark_diff -- --nocapture`.
//!
//! tshark is needed (CI installs the Debian package: `apt-get install tshark`). Without
//! it the test fails, unless `BOOTCHECK_SKIP_TSHARK=1` is set, which skips it then
//! (when tshark is installed the variable changes nothing).
//!
//! How the two sides are made comparable:
//! * tshark runs once per capture with `-T json --no-duplicate-keys -x`: `-x` adds a
//!   `<field>_raw` twin to every field, `[hex, frame offset, length, bitmask, type]`,
//!   so options are compared by their exact octets and positions rather than by
//!   tshark's display strings. `--no-duplicate-keys` merges repeated keys of one object
//!   (every option is a `dhcp.option.type`) into arrays instead of emitting invalid
//!   JSON with duplicate keys. IPv4 reassembly is switched off (`ip.defragment:FALSE`),
//!   as `Frame` does not reassemble either, and so is the F5 Ethernet-trailer
//!   heuristic, which otherwise claims (and fails on) the padding after ARP bodies; a
//!   private, empty configuration directory keeps a user's Wireshark preferences out.
//! * BOOTP is what either side sees on UDP port 67 or 68 (tshark's `dhcp` layer);
//!   TFTP is tracked like tshark does: a request to port 69 opens a transfer, and the
//!   server answers from a new port (its TID), so DATA/ACK/ERROR/OACK between the two
//!   ephemeral ports are TFTP too; ARP and RARP are EtherTypes 0x0806 and 0x8035.
//! * Field values are rendered the same way on both sides (numbers in decimal, xid and
//!   flags in hex, addresses in their usual notation, octets in hex) and compared as
//!   strings; an option is keyed by its area and offset in the BOOTP message, so one
//!   extra or missing option is one disagreement, not a cascade.
//! * Besides the fields, each side says whether it decoded the protocol in the frame at
//!   all (`<proto>.layer`) and whether the packet is damaged (`<proto>.damaged`: tshark
//!   marked it malformed or short; we reported that the data ran out).
//! * Captures whose link type `Frame::parse` does not support are skipped, with the
//!   reason and the number of packets tshark found in them.
//!
//! `BOOTCHECK_TSHARK_DUMP=<part of a capture path>[:<frame>]` prints both decodes of the
//! matching frames, field by field, to write or review known-differences entries.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use bootcheck_wire::arp;
use bootcheck_wire::bootp::{Packet as BootpPacket, VendKind};
use bootcheck_wire::error::{Area, ErrorKind};
use bootcheck_wire::frame::{Frame, LinkType, Net};
use bootcheck_wire::options::{Item, Overload};
use bootcheck_wire::tftp;
use serde_json::Value;

/// The capture corpus; `shared/` is a sibling of the repository checkout.
const CAPTURE_ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/captures/third-party");
/// The reviewed list of explained disagreements.
const KNOWN_DIFFERENCES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tshark-known-differences.toml");

/// Causes a known difference may give (the `cause` key), so the summary can count them.
const CAUSES: &[(&str, &str)] = &[
    ("our-design", "bootcheck-wire deliberately decodes this differently (documented behaviour)"),
    ("capture-truncated", "the capture holds less than the packet; the two stop at different places"),
    ("other-format", "tshark reads the octets as another protocol or format"),
    ("tshark-limitation", "tshark does not decode this, or decodes it wrongly"),
    ("tshark-heuristic", "tshark reinterprets the octets with a heuristic"),
    ("parser-bug", "a bug in bootcheck-wire, not fixed yet (say why)"),
];

// ---------------------------------------------------------------------------------
// Decoded fields
// ---------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Proto {
    Bootp,
    Tftp,
    Arp,
}

impl Proto {
    const ALL: [Proto; 3] = [Proto::Bootp, Proto::Tftp, Proto::Arp];
    fn name(self) -> &'static str {
        match self {
            Proto::Bootp => "bootp",
            Proto::Tftp => "tftp",
            Proto::Arp => "arp",
        }
    }
    fn index(self) -> usize {
        self as usize
    }
}

/// Ordered `field = value` pairs of one protocol layer of one frame.
#[derive(Debug, Default, Clone)]
struct Fields(Vec<(String, String)>);

impl Fields {
    fn put(&mut self, field: impl Into<String>, value: impl Into<String>) {
        self.0.push((field.into(), value.into()));
    }
    fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| f == field).map(|(_, v)| v.as_str())
    }
}

/// What one side decoded in one frame: the layers it recognised.
type Decoded = BTreeMap<Proto, Fields>;

const ABSENT: &str = "<absent>";

fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

fn colon_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(":")
}

/// Text as both sides show it: printable ASCII as is, anything else as `\xNN`.
fn text(b: &[u8]) -> String {
    let mut s = String::new();
    for &c in b {
        if (0x20..0x7f).contains(&c) {
            s.push(char::from(c));
        } else {
            let _ = write!(s, "\\x{c:02x}");
        }
    }
    s
}

// ---------------------------------------------------------------------------------
// Our side
// ---------------------------------------------------------------------------------

/// Whether a finding says the data ran out (the analogue of tshark's malformed/short).
fn is_cut_short(kind: &ErrorKind) -> bool {
    match kind {
        ErrorKind::Truncated { .. }
        | ErrorKind::MissingLength { .. }
        | ErrorKind::LengthPastEnd { .. }
        | ErrorKind::OverloadNoRoom { .. } => true,
        ErrorKind::LengthMismatch { declared, available, .. } => declared > available,
        _ => false,
    }
}

fn area_name(a: Area) -> &'static str {
    match a {
        Area::Options => "options",
        Area::File => "file",
        Area::Sname => "sname",
    }
}

/// The BOOTP fields we decode from `msg`, the UDP payload at frame offset `base`.
fn ours_bootp(frame: &Frame<'_>, msg: &[u8], base: usize) -> Fields {
    let mut f = Fields::default();
    f.put("offset", base.to_string());
    let p = BootpPacket::new_unchecked(msg);
    let findings = p.findings();
    let damaged = frame.findings.iter().chain(findings.iter()).any(|e| is_cut_short(&e.kind));
    f.put("damaged", if damaged { "yes" } else { "no" });
    if p.check_len().is_err() {
        return f;
    }
    f.put("op", p.op().to_u8().to_string());
    f.put("htype", p.htype().to_string());
    f.put("hlen", p.hlen().to_string());
    f.put("hops", p.hops().to_string());
    f.put("xid", format!("{:#010x}", p.xid()));
    f.put("secs", p.secs().to_string());
    f.put("flags", format!("{:#06x}", p.flags()));
    f.put("ciaddr", p.ciaddr().to_string());
    f.put("yiaddr", p.yiaddr().to_string());
    f.put("siaddr", p.siaddr().to_string());
    f.put("giaddr", p.giaddr().to_string());
    let hlen = usize::from(p.hlen());
    f.put("chaddr", if hlen == 0 { "<not given>".to_string() } else { colon_hex(p.chaddr()) });
    let ov = p.overload();
    f.put("sname", if ov.is_some_and(Overload::sname) { "<options>".to_string() } else { text(p.sname()) });
    f.put("file", if ov.is_some_and(Overload::file) { "<options>".to_string() } else { text(p.file()) });
    f.put("cookie", if p.vend_kind() == VendKind::Rfc1048 { "99.130.83.99" } else { ABSENT });
    // Every option instance, keyed by area and offset in the message.
    let mut end_of_options = None;
    for r in p.walk() {
        match r {
            Ok(Item::Pad { offset, len, area }) => {
                f.put(format!("{}@{offset}", area_name(area)), format!("pad len={len}"))
            }
            Ok(Item::Option(o)) => f.put(
                format!("{}@{}", area_name(o.area), o.offset),
                format!("{} len={} {}", o.option.code, o.option.data.len(), hex(o.option.data)),
            ),
            Ok(Item::End { offset, area }) => {
                if area == Area::Options {
                    end_of_options = Some(offset + 1);
                }
                f.put(format!("{}@{offset}", area_name(area)), "end");
            }
            Err(e) => match e.kind {
                ErrorKind::LengthPastEnd { code, declared, area, .. } => {
                    f.put(format!("{}@{}", area_name(area), e.offset - 1), format!("{code} len={declared} <past end>"))
                }
                ErrorKind::MissingLength { code, area } => {
                    f.put(format!("{}@{}", area_name(area), e.offset), format!("{code} <no length>"))
                }
                _ => {}
            },
        }
    }
    if let Some(at) = end_of_options {
        if at < msg.len() {
            f.put("options.after-end", hex(&msg[at..]));
        }
    }
    f
}

/// TFTP transfer tracking, as tshark does it: a request to port 69 from `client`
/// makes every later datagram between `client` and any port of the server TFTP.
#[derive(Debug, Default)]
struct TftpTracker {
    /// (client ip, client port, server ip) of requests seen so far.
    requests: Vec<([u8; 4], u16, [u8; 4])>,
}

impl TftpTracker {
    /// Whether the UDP datagram belongs to a TFTP exchange (updating the state).
    fn classify(&mut self, src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> bool {
        if dport == 69 {
            if !self.requests.contains(&(src, sport, dst)) {
                self.requests.push((src, sport, dst));
            }
            return true;
        }
        if sport == 69 {
            return true;
        }
        self.requests
            .iter()
            .any(|&(c, cp, s)| (src == c && sport == cp && dst == s) || (dst == c && dport == cp && src == s))
    }
}

/// A digest of DATA payloads, so that a 512-octet block is one short value.
fn digest(b: &[u8]) -> String {
    let h = b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &c| (h ^ u64::from(c)).wrapping_mul(0x0100_0000_01b3));
    format!("{} octets fnv1a={h:016x}", b.len())
}

/// The TFTP fields we decode from `msg`, the UDP payload at frame offset `base`.
fn ours_tftp(frame: &Frame<'_>, msg: &[u8], base: usize) -> Fields {
    let mut f = Fields::default();
    f.put("offset", base.to_string());
    let (repr, findings) = tftp::Repr::parse_lenient(msg);
    let damaged = frame
        .findings
        .iter()
        .chain(findings.iter())
        .any(|e| is_cut_short(&e.kind) || matches!(e.kind, ErrorKind::Unterminated { .. }));
    f.put("damaged", if damaged { "yes" } else { "no" });
    let p = tftp::Packet::new_unchecked(msg);
    if msg.len() < 2 {
        return f;
    }
    f.put("opcode", u16::from(p.opcode()).to_string());
    let Some(repr) = repr else { return f };
    match &repr {
        tftp::Repr::Request { filename, mode, .. } => {
            f.put("filename", text(filename));
            f.put("mode", text(mode));
        }
        tftp::Repr::Data { block, data } => {
            f.put("block", block.to_string());
            f.put("data", digest(data));
        }
        tftp::Repr::Ack { block } => f.put("block", block.to_string()),
        tftp::Repr::Error { code, message } => {
            f.put("error.code", u16::from(*code).to_string());
            f.put("error.message", text(message));
        }
        tftp::Repr::Oack { .. } => {}
    }
    // Options with their offsets: the view's iterator knows where each pair starts.
    // A malformed last pair ends the iteration with an error; the lenient Repr holds
    // what was salvaged of it.
    let mut it = p.options();
    for n in 0.. {
        let at = it.offset();
        match it.next() {
            Some(Ok(o)) => f.put(format!("option@{at}"), format!("{}={}", text(o.name), text(o.value))),
            Some(Err(_)) => {
                if let Some(o) = repr.options().get(n) {
                    f.put(format!("option@{at}"), format!("{}={} <malformed>", text(o.name), text(o.value)));
                }
                break;
            }
            None => break,
        }
    }
    f
}

/// A protocol address as both sides show it: dotted IPv4 when it is one, else hex.
fn proto_addr(ptype: u16, b: &[u8]) -> String {
    match <[u8; 4]>::try_from(b) {
        Ok(a) if ptype == 0x0800 => core::net::Ipv4Addr::from(a).to_string(),
        _ => colon_hex(b),
    }
}

/// The ARP/RARP fields we decode from `body`, the link payload at frame offset `base`.
fn ours_arp(frame: &Frame<'_>, body: &[u8], base: usize) -> Fields {
    let mut f = Fields::default();
    f.put("offset", base.to_string());
    let p = arp::Packet::new_unchecked(body);
    let damaged = p.check_len().is_err() || frame.findings.iter().any(|e| is_cut_short(&e.kind));
    f.put("damaged", if damaged { "yes" } else { "no" });
    if body.len() < arp::HEADER_LEN {
        return f;
    }
    let ptype = p.protocol_type();
    f.put("htype", p.hardware_type().to_string());
    f.put("ptype", format!("{ptype:#06x}"));
    f.put("hlen", p.hardware_len().to_string());
    f.put("plen", p.protocol_len().to_string());
    f.put("opcode", u16::from(p.operation()).to_string());
    // The addresses come from the parsed Repr, which needs the whole body (ARP has no
    // lenient parse: a body too short for its addresses is an error, and then no
    // address is decoded; tshark likewise adds none). A zero-length address is no
    // address, on both sides.
    if let Ok(r) = arp::Repr::parse_bytes(body) {
        for (name, v, is_proto) in
            [("sha", r.sha, false), ("spa", r.spa, true), ("tha", r.tha, false), ("tpa", r.tpa, true)]
        {
            if !v.is_empty() {
                f.put(name, if is_proto { proto_addr(ptype, v) } else { colon_hex(v) });
            }
        }
    }
    f
}

fn ours_frame(link: LinkType, data: &[u8], tftp: &mut TftpTracker) -> Decoded {
    let mut out = Decoded::new();
    let Ok(frame) = Frame::parse(link, data) else { return out };
    if let Some(msg) = frame.bootp() {
        let base = frame.udp().map_or(0, |u| u.payload_offset);
        out.insert(Proto::Bootp, ours_bootp(&frame, msg, base));
    } else if let (Some(ip), Some(u)) = (frame.ipv4(), frame.udp()) {
        if tftp.classify(ip.src.octets(), u.src_port, ip.dst.octets(), u.dst_port) {
            out.insert(Proto::Tftp, ours_tftp(&frame, u.payload, u.payload_offset));
        }
    }
    if let Net::Arp { body, offset } = frame.net {
        out.insert(Proto::Arp, ours_arp(&frame, body, offset));
    }
    out
}

// ---------------------------------------------------------------------------------
// tshark's side
// ---------------------------------------------------------------------------------

/// One `_raw` value: `[hex, offset, length, bitmask, type]`. `hex` is `None` when
/// tshark wrote a message instead (e.g. "field length invalid!").
#[derive(Debug, Clone)]
struct Raw {
    bytes: Option<Vec<u8>>,
    offset: usize,
    len: usize,
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

fn parse_raw(v: &Value) -> Option<Raw> {
    let a = v.as_array()?;
    let s = a.first()?.as_str()?;
    Some(Raw {
        bytes: unhex(s),
        offset: usize::try_from(a.get(1)?.as_u64()?).ok()?,
        len: usize::try_from(a.get(2)?.as_u64()?).ok()?,
    })
}

/// All raws of a `_raw` key: one, or a list when the field repeats.
fn raws(v: &Value) -> Vec<Raw> {
    match v.as_array().and_then(|a| a.first()) {
        Some(Value::Array(_)) => v.as_array().into_iter().flatten().filter_map(parse_raw).collect(),
        Some(_) => parse_raw(v).into_iter().collect(),
        None => Vec::new(),
    }
}

/// All values of a (non-raw) key: one, or a list when the field repeats.
fn values(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    }
}

fn first_str<'a>(m: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a str> {
    m.get(key).and_then(|v| values(v).into_iter().next()).and_then(Value::as_str)
}

/// Whether `key` occurs in the tree below `v`, at most `depth` levels down (expert
/// items sit at `label -> _ws.expert -> key`).
fn has_key(v: &Value, key: &str, depth: usize) -> bool {
    match v {
        Value::Object(m) if depth > 0 => m.iter().any(|(k, v)| k == key || has_key(v, key, depth - 1)),
        Value::Array(a) if depth > 0 => a.iter().any(|v| has_key(v, key, depth - 1)),
        _ => false,
    }
}

/// Every `dhcp.option.type` item anywhere in the `dhcp` tree (options of overloaded
/// `sname`/`file` fields sit in the subtree of option 52), with its display code.
fn collect_dhcp_options(v: &Value, out: &mut Vec<(Raw, Option<String>)>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("dhcp.option.type_raw") {
                let codes: Vec<Option<String>> = m
                    .get("dhcp.option.type")
                    .map(|v| values(v).into_iter().map(|c| c.as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                for (i, raw) in raws(r).into_iter().enumerate() {
                    out.push((raw, codes.get(i).cloned().flatten()));
                }
            }
            for (k, v) in m {
                if k != "dhcp.option.type_raw" {
                    collect_dhcp_options(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_dhcp_options(v, out)),
        _ => {}
    }
}

fn parse_num(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// The BOOTP fields tshark decoded, from its `dhcp` layer. Offsets of options are made
/// relative to the message (tshark's are relative to the frame).
fn tshark_bootp(layers: &serde_json::Map<String, Value>) -> Fields {
    let mut f = Fields::default();
    let base = layers.get("dhcp_raw").map(raws).and_then(|r| r.first().map(|r| r.offset)).unwrap_or(0);
    f.put("offset", base.to_string());
    f.put("damaged", damaged(layers));
    // `dhcp` is a plain string when tshark added no field (the header was cut short).
    let Some(dhcp) = layers.get("dhcp").and_then(|d| values(d).into_iter().next()) else { return f };
    let Some(m) = dhcp.as_object() else { return f };
    let num = |key: &str| first_str(m, key).and_then(parse_num);
    let put_num = |f: &mut Fields, name: &str, key: &str, fmt: fn(u64) -> String| {
        if let Some(v) = num(key) {
            f.put(name, fmt(v));
        }
    };
    put_num(&mut f, "op", "dhcp.type", |v| v.to_string());
    put_num(&mut f, "htype", "dhcp.hw.type", |v| v.to_string());
    put_num(&mut f, "hlen", "dhcp.hw.len", |v| v.to_string());
    put_num(&mut f, "hops", "dhcp.hops", |v| v.to_string());
    put_num(&mut f, "xid", "dhcp.id", |v| format!("{v:#010x}"));
    put_num(&mut f, "secs", "dhcp.secs", |v| v.to_string());
    put_num(&mut f, "flags", "dhcp.flags", |v| format!("{v:#06x}"));
    for (name, key) in [
        ("ciaddr", "dhcp.ip.client"),
        ("yiaddr", "dhcp.ip.your"),
        ("siaddr", "dhcp.ip.server"),
        ("giaddr", "dhcp.ip.relay"),
    ] {
        if let Some(v) = first_str(m, key) {
            f.put(name, v);
        }
    }
    if let Some(mac) = first_str(m, "dhcp.hw.mac_addr") {
        f.put("chaddr", mac);
    } else if let Some(r) = m.get("dhcp.hw.addr_raw").map(raws).and_then(|r| r.into_iter().next()) {
        // Other hardware types: tshark's item covers all 16 octets of chaddr; the
        // address is its first hlen octets.
        let hlen = num("dhcp.hw.len").unwrap_or(0) as usize;
        let b = r.bytes.unwrap_or_default();
        f.put("chaddr", colon_hex(b.get(..hlen.min(b.len())).unwrap_or(&[])));
    } else if has_key(dhcp, "dhcp.client_address_not_given", 3) {
        f.put("chaddr", "<not given>");
    }
    let field_text = |key: &str, overloaded: &str| -> Option<String> {
        if has_key(dhcp, overloaded, 3) {
            return Some("<options>".to_string());
        }
        // Take the octets, not the display string, and cut at the first NUL as tshark
        // does for display.
        let r = m.get(&format!("{key}_raw")).map(raws)?.into_iter().next()?;
        let b = r.bytes?;
        let n = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        Some(text(&b[..n]))
    };
    if let Some(s) = field_text("dhcp.server", "dhcp.server_name_overloaded_by_dhcp") {
        f.put("sname", s);
    }
    if let Some(s) = field_text("dhcp.file", "dhcp.boot_filename_overloaded_by_dhcp") {
        f.put("file", s);
    }
    if m.contains_key("dhcp.type") {
        f.put("cookie", first_str(m, "dhcp.cookie").unwrap_or(ABSENT));
    }
    // Options, with runs of Pad merged as we report them.
    let mut opts = Vec::new();
    collect_dhcp_options(dhcp, &mut opts);
    opts.sort_by_key(|(r, _)| r.offset);
    let area_of = |off: usize| match off {
        44..=107 => "sname",
        108..=235 => "file",
        _ => "options",
    };
    let mut pad: Option<(usize, usize)> = None; // (offset, len) of the current run
    let flush = |f: &mut Fields, pad: &mut Option<(usize, usize)>| {
        if let Some((at, len)) = pad.take() {
            f.put(format!("{}@{at}", area_of(at)), format!("pad len={len}"));
        }
    };
    for (r, code) in opts {
        let at = r.offset.saturating_sub(base);
        match r.bytes.as_deref() {
            Some([0]) => {
                match &mut pad {
                    Some((start, len)) if *start + *len == at && area_of(*start) == area_of(at) => *len += 1,
                    _ => {
                        flush(&mut f, &mut pad);
                        pad = Some((at, 1));
                    }
                }
                continue;
            }
            Some([0xff]) => {
                flush(&mut f, &mut pad);
                f.put(format!("{}@{at}", area_of(at)), "end");
            }
            Some([c, l, v @ ..]) => {
                flush(&mut f, &mut pad);
                f.put(format!("{}@{at}", area_of(at)), format!("{c} len={l} {}", hex(v)));
            }
            _ => {
                flush(&mut f, &mut pad);
                let code = code.as_deref().and_then(parse_num).map_or("?".to_string(), |c| c.to_string());
                let v = if r.len >= 2 {
                    format!("{code} len={} <past end>", r.len - 2)
                } else {
                    format!("{code} <no length>")
                };
                f.put(format!("{}@{at}", area_of(at)), v);
            }
        }
    }
    flush(&mut f, &mut pad);
    if let Some(r) = m.get("dhcp.option.padding_raw").map(raws).and_then(|r| r.into_iter().next()) {
        f.put("options.after-end", r.bytes.map_or_else(|| "<invalid>".to_string(), |b| hex(&b)));
    }
    f
}

/// The first raw of `key` in `m`, if tshark gave the field octets (generated fields,
/// such as the file name repeated in every DATA packet, have no `_raw`).
fn first_raw(m: &serde_json::Map<String, Value>, key: &str) -> Option<Raw> {
    m.get(&format!("{key}_raw")).map(raws).and_then(|r| r.into_iter().next())
}

/// A NUL-terminated string field: its octets without the NUL.
fn stringz(r: &Raw) -> String {
    match r.bytes.as_deref() {
        Some([s @ .., 0]) => text(s),
        Some(s) => text(s),
        None => "<invalid>".to_string(),
    }
}

/// Every TFTP option pair anywhere in the `tftp` tree (each pair is a subtree labelled
/// "Option: name = value"): the name's raw and the value's raw.
fn collect_tftp_options(m: &serde_json::Map<String, Value>, out: &mut Vec<(Raw, Option<Raw>)>) {
    if let Some(name) = first_raw(m, "tftp.option.name") {
        out.push((name, first_raw(m, "tftp.option.value")));
    }
    for v in m.values() {
        match v {
            Value::Object(m) => collect_tftp_options(m, out),
            Value::Array(a) => a.iter().filter_map(Value::as_object).for_each(|m| collect_tftp_options(m, out)),
            _ => {}
        }
    }
}

fn layer_base(layers: &serde_json::Map<String, Value>, name: &str) -> usize {
    layers.get(&format!("{name}_raw")).map(raws).and_then(|r| r.first().map(|r| r.offset)).unwrap_or(0)
}

fn damaged(layers: &serde_json::Map<String, Value>) -> &'static str {
    if layers.contains_key("_ws.malformed") || layers.contains_key("_ws.short") {
        "yes"
    } else {
        "no"
    }
}

/// The TFTP fields tshark decoded, from its `tftp` layer (and `data` for DATA).
fn tshark_tftp(layers: &serde_json::Map<String, Value>) -> Fields {
    let mut f = Fields::default();
    let base = layer_base(layers, "tftp");
    f.put("offset", base.to_string());
    f.put("damaged", damaged(layers));
    let Some(m) = layers.get("tftp").and_then(|d| values(d).into_iter().next()).and_then(Value::as_object) else {
        return f;
    };
    let Some(op) = first_str(m, "tftp.opcode").and_then(parse_num) else { return f };
    f.put("opcode", op.to_string());
    if let Some(r) = first_raw(m, "tftp.source_file").or_else(|| first_raw(m, "tftp.destination_file")) {
        f.put("filename", stringz(&r));
    }
    if let Some(r) = first_raw(m, "tftp.type") {
        f.put("mode", stringz(&r));
    }
    if first_raw(m, "tftp.block").is_some() {
        if let Some(b) = first_str(m, "tftp.block") {
            f.put("block", b);
        }
    }
    if op == 3 {
        let data = first_raw(layers, "data").and_then(|r| r.bytes);
        f.put("data", digest(&data.unwrap_or_default()));
    }
    if first_raw(m, "tftp.error.code").is_some() {
        if let Some(c) = first_str(m, "tftp.error.code") {
            f.put("error.code", c);
        }
    }
    if let Some(r) = first_raw(m, "tftp.error.message") {
        f.put("error.message", stringz(&r));
    }
    let mut opts = Vec::new();
    collect_tftp_options(m, &mut opts);
    opts.sort_by_key(|(n, _)| n.offset);
    for (name, value) in opts {
        let v = value.as_ref().map_or_else(|| ABSENT.to_string(), stringz);
        f.put(format!("option@{}", name.offset.saturating_sub(base)), format!("{}={v}", stringz(&name)));
    }
    f
}

/// The ARP fields tshark decoded, from its `arp` layer.
fn tshark_arp(layers: &serde_json::Map<String, Value>) -> Fields {
    let mut f = Fields::default();
    f.put("offset", layer_base(layers, "arp").to_string());
    f.put("damaged", damaged(layers));
    let Some(m) = layers.get("arp").and_then(|d| values(d).into_iter().next()).and_then(Value::as_object) else {
        return f;
    };
    let num = |key: &str| first_str(m, key).and_then(parse_num);
    let ptype = num("arp.proto.type").unwrap_or(0) as u16;
    for (name, key) in
        [("htype", "arp.hw.type"), ("ptype", "arp.proto.type"), ("hlen", "arp.hw.size"), ("plen", "arp.proto.size")]
    {
        if let Some(v) = num(key) {
            f.put(name, if name == "ptype" { format!("{v:#06x}") } else { v.to_string() });
        }
    }
    if let Some(v) = num("arp.opcode") {
        f.put("opcode", v.to_string());
    }
    // Addresses by their octets: tshark names the field after the address type
    // (`arp.src.hw_mac` for 6-octet hardware addresses, `arp.src.proto_ipv4` for
    // IPv4, `arp.src.hw` / `arp.src.proto` otherwise).
    for (name, keys, is_proto) in [
        ("sha", ["arp.src.hw_mac", "arp.src.hw"], false),
        ("spa", ["arp.src.proto_ipv4", "arp.src.proto"], true),
        ("tha", ["arp.dst.hw_mac", "arp.dst.hw"], false),
        ("tpa", ["arp.dst.proto_ipv4", "arp.dst.proto"], true),
    ] {
        if let Some(r) = keys.iter().find_map(|k| first_raw(m, k)) {
            let b = r.bytes.unwrap_or_default();
            f.put(name, if is_proto { proto_addr(ptype, &b) } else { colon_hex(&b) });
        }
    }
    f
}

fn tshark_frame(layers: &serde_json::Map<String, Value>) -> Decoded {
    let mut out = Decoded::new();
    if layers.contains_key("dhcp") {
        out.insert(Proto::Bootp, tshark_bootp(layers));
    }
    if layers.contains_key("tftp") {
        out.insert(Proto::Tftp, tshark_tftp(layers));
    }
    if layers.contains_key("arp") {
        out.insert(Proto::Arp, tshark_arp(layers));
    }
    out
}

/// Splits tshark's top-level JSON array into its elements, so that no more than one
/// packet's document is built at a time (the largest capture makes ~70 MB of JSON).
///
/// tshark pretty-prints with two-space indentation and JSON strings cannot hold a raw
/// newline, so every element ends at a line that is exactly `  }`; the search for
/// that uses the (optimised) standard library even in a debug build. Anything else is
/// split with a small tokenizer.
fn split_json_array(buf: &[u8]) -> Vec<&[u8]> {
    if let Ok(s) = std::str::from_utf8(buf) {
        let body = s.trim();
        if let Some(body) = body.strip_prefix('[').and_then(|b| b.strip_suffix(']')) {
            let body = body.trim_end();
            if body.is_empty() {
                return Vec::new();
            }
            if body.starts_with("\n  {\n") && body.ends_with("\n  }") {
                let parts: Vec<&[u8]> = body
                    .split("\n  }")
                    .filter_map(|p| p.trim_start_matches(',').trim_start().strip_prefix('{'))
                    .map(|p| {
                        // Re-attach the braces the split removed.
                        let start = p.as_ptr() as usize - buf.as_ptr() as usize - 1;
                        let end = start + 1 + p.len() + "\n  }".len();
                        &buf[start..end]
                    })
                    .collect();
                return parts;
            }
        }
    }
    let mut out = Vec::new();
    let (mut depth, mut in_str, mut esc, mut start) = (0usize, false, false, 0usize);
    for (i, &b) in buf.iter().enumerate() {
        if in_str {
            if esc {
                esc = false;
            } else if b == b'\\' {
                esc = true;
            } else if b == b'"' {
                in_str = false;
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' | b'[' => {
                depth += 1;
                if depth == 2 {
                    start = i;
                }
            }
            b'}' | b']' => {
                if depth == 2 {
                    out.push(&buf[start..=i]);
                }
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
    }
    out
}

/// Runs tshark on one capture: the decoded layers by frame number.
fn run_tshark(path: &Path, conf_dir: &Path) -> Result<HashMap<u64, Decoded>, String> {
    let out = Command::new("tshark")
        .env("WIRESHARK_CONFIG_DIR", conf_dir)
        .args(["-n", "-o", "ip.defragment:FALSE", "--disable-heuristic", "f5ethtrailer"])
        .args(["-T", "json", "--no-duplicate-keys", "-x"])
        .args(["-J", "frame dhcp tftp arp", "-Y", "dhcp || tftp || arp", "-r"])
        .arg(path)
        .output()
        .map_err(|e| format!("cannot run tshark: {e}"))?;
    if !out.status.success() {
        return Err(format!("tshark failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim()));
    }
    let mut frames = HashMap::new();
    for elem in split_json_array(&out.stdout) {
        let v: Value = serde_json::from_slice(elem).map_err(|e| format!("tshark JSON: {e}"))?;
        let Some(layers) = v.pointer("/_source/layers").and_then(Value::as_object) else { continue };
        let Some(n) = layers.get("frame").and_then(|f| f.get("frame.number")).and_then(Value::as_str) else {
            continue;
        };
        frames.insert(n.parse().map_err(|_| format!("bad frame number {n}"))?, tshark_frame(layers));
    }
    Ok(frames)
}

// ---------------------------------------------------------------------------------
// Known differences
// ---------------------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
struct Known {
    line: usize,
    capture: String,
    frame: u64,
    field: String,
    tshark: Option<String>,
    ours: Option<String>,
    cause: String,
    why: String,
}

/// Parses the known-differences file: a TOML subset of `[[difference]]` tables whose
/// keys are basic strings ("..." with \\ \" \n \t escapes) or integers, plus the
/// top-level `tshark_version = "major.minor"` the file was reviewed against.
fn parse_known(src: &str) -> Result<(String, Vec<Known>), String> {
    let mut version = String::new();
    let mut entries: Vec<Known> = Vec::new();
    for (i, line) in src.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "[[difference]]" {
            entries.push(Known { line: n, ..Known::default() });
            continue;
        }
        let (key, rest) = line.split_once('=').ok_or(format!("line {n}: expected key = value"))?;
        let (key, rest) = (key.trim(), rest.trim());
        let (value, tail) = if let Some(body) = rest.strip_prefix('"') {
            let mut s = String::new();
            let mut chars = body.char_indices();
            let mut end = None;
            while let Some((j, c)) = chars.next() {
                match c {
                    '"' => {
                        end = Some(j + 1);
                        break;
                    }
                    '\\' => match chars.next().map(|(_, c)| c) {
                        Some('\\') => s.push('\\'),
                        Some('"') => s.push('"'),
                        Some('n') => s.push('\n'),
                        Some('t') => s.push('\t'),
                        other => return Err(format!("line {n}: unsupported escape \\{}", other.unwrap_or(' '))),
                    },
                    c => s.push(c),
                }
            }
            let end = end.ok_or(format!("line {n}: unterminated string"))?;
            (s, body[end..].trim())
        } else {
            let end = rest.find(|c: char| c.is_whitespace() || c == '#').unwrap_or(rest.len());
            let v = &rest[..end];
            if v.parse::<u64>().is_err() {
                return Err(format!("line {n}: value must be a \"string\" or an integer"));
            }
            (v.to_string(), rest[end..].trim())
        };
        if !(tail.is_empty() || tail.starts_with('#')) {
            return Err(format!("line {n}: unexpected text after the value"));
        }
        let Some(e) = entries.last_mut() else {
            if key == "tshark_version" {
                version = value;
                continue;
            }
            return Err(format!("line {n}: unknown top-level key {key}"));
        };
        match key {
            "capture" => e.capture = value,
            "frame" => e.frame = value.parse().map_err(|_| format!("line {n}: frame must be an integer"))?,
            "field" => e.field = value,
            "tshark" => e.tshark = Some(value),
            "ours" => e.ours = Some(value),
            "cause" => e.cause = value,
            "why" => e.why = value,
            k => return Err(format!("line {n}: unknown key {k}")),
        }
    }
    for e in &entries {
        let missing = [("capture", &e.capture), ("field", &e.field), ("cause", &e.cause), ("why", &e.why)]
            .into_iter()
            .filter(|(_, v)| v.trim().is_empty())
            .map(|(k, _)| k)
            .collect::<Vec<_>>();
        if !missing.is_empty() || e.frame == 0 || e.tshark.is_none() || e.ours.is_none() {
            return Err(format!("entry at line {}: needs capture, frame, field, tshark, ours, cause and why", e.line));
        }
        if !CAUSES.iter().any(|(c, _)| *c == e.cause) {
            return Err(format!("entry at line {}: unknown cause {:?}", e.line, e.cause));
        }
    }
    Ok((version, entries))
}

// ---------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Diff {
    capture: String,
    frame: u64,
    proto: Proto,
    field: String,
    tshark: String,
    ours: String,
}

#[derive(Debug, Default, Clone)]
struct Counts {
    packets: usize,
    fields: usize,
    agree: usize,
    known: usize,
    unexplained: usize,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.packets += o.packets;
        self.fields += o.fields;
        self.agree += o.agree;
        self.known += o.known;
        self.unexplained += o.unexplained;
    }
}

#[derive(Debug, Default)]
struct CaptureReport {
    name: String,
    frames: usize,
    skipped: Option<String>,
    /// Protocol packets tshark saw in a skipped capture.
    not_compared: [usize; 3],
    per_proto: [Counts; 3],
    diffs: Vec<Diff>,
}

/// Compares one frame; disagreements go to `diffs` (not yet matched against the file).
fn compare_frame(capture: &str, frame: u64, ours: &Decoded, theirs: &Decoded, rep: &mut CaptureReport) {
    for proto in Proto::ALL {
        let (o, t) = (ours.get(&proto), theirs.get(&proto));
        if o.is_none() && t.is_none() {
            continue;
        }
        let c = &mut rep.per_proto[proto.index()];
        c.packets += 1;
        let diff = |field: &str, tshark: &str, ours: &str| Diff {
            capture: capture.to_string(),
            frame,
            proto,
            field: format!("{}.{field}", proto.name()),
            tshark: tshark.to_string(),
            ours: ours.to_string(),
        };
        match (o, t) {
            (Some(o), Some(t)) => {
                let mut keys: Vec<&str> = o.0.iter().map(|(k, _)| k.as_str()).collect();
                for (k, _) in &t.0 {
                    if o.get(k).is_none() {
                        keys.push(k);
                    }
                }
                for k in keys {
                    let (ov, tv) = (o.get(k).unwrap_or(ABSENT), t.get(k).unwrap_or(ABSENT));
                    c.fields += 1;
                    if ov == tv {
                        c.agree += 1;
                    } else {
                        rep.diffs.push(diff(k, tv, ov));
                    }
                }
            }
            (o, t) => {
                c.fields += 1;
                let says = |x: Option<&Fields>| if x.is_some() { "dissected" } else { "not dissected" };
                rep.diffs.push(diff("layer", says(t), says(o)));
            }
        }
    }
}

/// Whether the file is a pcap or pcapng capture, by its magic number (the corpus also
/// holds tcpdump's expected outputs, `.out`, and notes).
fn is_capture(path: &Path) -> bool {
    use std::io::Read as _;
    let mut b = [0u8; 4];
    if std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut b)).is_err() {
        return false;
    }
    matches!(
        b,
        [0xa1, 0xb2, 0xc3, 0xd4]
            | [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d]
            | [0x4d, 0x3c, 0xb2, 0xa1]
            | [0x0a, 0x0d, 0x0d, 0x0a]
    )
}

fn find_captures(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            find_captures(&p, out);
        } else if is_capture(&p) {
            out.push(p);
        }
    }
}

fn check_capture(root: &Path, path: &Path, conf_dir: &Path) -> Result<CaptureReport, String> {
    let name = path.strip_prefix(root).unwrap_or(path).to_string_lossy().replace('\\', "/");
    let mut rep = CaptureReport { name: name.clone(), ..CaptureReport::default() };
    let mut cap = match pcap::Capture::from_file(path) {
        Ok(c) => c,
        Err(e) => {
            rep.skipped = Some(format!("libpcap cannot read it: {e}"));
            return Ok(rep);
        }
    };
    let dlt = cap.get_datalink().0;
    let link = LinkType::from_u32(u32::try_from(dlt).unwrap_or(u32::MAX));
    let theirs = run_tshark(path, conf_dir).map_err(|e| format!("{name}: {e}"))?;
    if let LinkType::Other(n) = link {
        let lname = cap.get_datalink().get_name().unwrap_or_default();
        while cap.next_packet().is_ok() {
            rep.frames += 1;
        }
        for d in theirs.values() {
            for p in d.keys() {
                rep.not_compared[p.index()] += 1;
            }
        }
        rep.skipped = Some(format!("link type {n} ({lname}) is not supported by Frame::parse"));
        return Ok(rep);
    }
    let mut tftp = TftpTracker::default();
    let none = Decoded::new();
    let dump = dump_request();
    while let Ok(pkt) = cap.next_packet() {
        rep.frames += 1;
        let n = rep.frames as u64;
        let ours = ours_frame(link, pkt.data, &mut tftp);
        let theirs = theirs.get(&n).unwrap_or(&none);
        if dump.as_ref().is_some_and(|(c, f)| name.contains(c.as_str()) && (*f == 0 || *f == n)) {
            print_dump(&name, n, &ours, theirs);
        }
        compare_frame(&name, n, &ours, theirs, &mut rep);
    }
    if let Some(n) = theirs.keys().find(|&&n| n > rep.frames as u64) {
        return Err(format!("{name}: tshark reports frame {n} but libpcap read only {} frames", rep.frames));
    }
    Ok(rep)
}

/// `BOOTCHECK_TSHARK_DUMP=<part of a capture path>[:<frame>]` prints both decodes of
/// the matching frames (all frames without `:<frame>`), to write or review entries of
/// the known-differences file.
fn dump_request() -> Option<(String, u64)> {
    let v = std::env::var("BOOTCHECK_TSHARK_DUMP").ok()?;
    Some(match v.rsplit_once(':') {
        Some((c, f)) if f.parse::<u64>().is_ok() => (c.to_string(), f.parse().unwrap_or(0)),
        _ => (v, 0),
    })
}

fn print_dump(capture: &str, frame: u64, ours: &Decoded, theirs: &Decoded) {
    let mut out = String::new();
    for p in Proto::ALL {
        let (o, t) = (ours.get(&p), theirs.get(&p));
        if o.is_none() && t.is_none() {
            continue;
        }
        let _ = writeln!(out, "== {capture} frame {frame} {}: ours {}, tshark {}", p.name(), o.is_some(), t.is_some());
        let mut keys: Vec<&str> = o.map(|o| o.0.iter().map(|(k, _)| k.as_str()).collect()).unwrap_or_default();
        for (k, _) in t.map(|t| t.0.as_slice()).unwrap_or_default() {
            if !keys.contains(&k.as_str()) {
                keys.push(k);
            }
        }
        for k in keys {
            let ov = o.and_then(|o| o.get(k)).unwrap_or(ABSENT);
            let tv = t.and_then(|t| t.get(k)).unwrap_or(ABSENT);
            let mark = if ov == tv { "  " } else { "!=" };
            let _ = writeln!(out, "  {mark} {k:<22} ours {ov:?}");
            if ov != tv {
                let _ = writeln!(out, "     {:<22} tshark {tv:?}", "");
            }
        }
    }
    print!("{out}");
}

fn tshark_version() -> Option<String> {
    let out = Command::new("tshark").arg("--version").output().ok()?;
    let s = String::from_utf8_lossy(&out.stdout);
    let first = s.lines().next()?;
    // "TShark (Wireshark) 4.0.17 (Git v4.0.17 packaged as ...)."
    first.split_whitespace().nth(2).map(str::to_string)
}

#[test]
fn tshark_differential() {
    let Some(version) = tshark_version() else {
        if std::env::var("BOOTCHECK_SKIP_TSHARK").is_ok_and(|v| v == "1") {
            println!("tshark_diff: SKIPPED: tshark is not installed and BOOTCHECK_SKIP_TSHARK=1");
            return;
        }
        panic!(
            "tshark is not installed (or not on PATH), and this test needs it: install it with \
             `apt-get install tshark` (CI does), or set BOOTCHECK_SKIP_TSHARK=1 to skip the test."
        );
    };
    let root = Path::new(CAPTURE_ROOT);
    let root = root.canonicalize().unwrap_or_else(|e| {
        panic!(
            "capture corpus not found at {CAPTURE_ROOT} ({e}): the `shared` folder must be a sibling of the \
             repository checkout (CI clones the repository next to shared/)"
        )
    });
    let known_src = std::fs::read_to_string(KNOWN_DIFFERENCES).unwrap_or_else(|e| panic!("{KNOWN_DIFFERENCES}: {e}"));
    let (reviewed, known) = parse_known(&known_src).unwrap_or_else(|e| panic!("{KNOWN_DIFFERENCES}: {e}"));

    let mut paths = Vec::new();
    find_captures(&root, &mut paths);
    // Largest first, so that the big captures overlap with the many small ones.
    paths.sort_by_key(|p| std::cmp::Reverse(std::fs::metadata(p).map_or(0, |m| m.len())));
    assert!(!paths.is_empty(), "no captures under {}", root.display());

    // A private, empty configuration directory: the user's preferences stay out.
    let conf_dir = std::env::temp_dir().join(format!("bootcheck-tshark-diff-{}", std::process::id()));
    std::fs::create_dir_all(&conf_dir).expect("temp dir");

    // tshark's start-up dominates small captures: run a few at a time.
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 4);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(p) = paths.get(i) else { break };
                let r = check_capture(&root, p, &conf_dir);
                results.lock().unwrap().push(r);
            });
        }
    });
    let _ = std::fs::remove_dir_all(&conf_dir);
    let (mut reports, errors): (Vec<_>, Vec<_>) = results.into_inner().unwrap().into_iter().partition(Result::is_ok);
    let errors: Vec<String> = errors.into_iter().filter_map(Result::err).collect();
    assert!(errors.is_empty(), "tshark could not be run on every capture:\n  {}", errors.join("\n  "));
    let mut reports: Vec<CaptureReport> = reports.drain(..).filter_map(Result::ok).collect();
    reports.sort_by(|a, b| a.name.cmp(&b.name));

    // Match disagreements against the reviewed list.
    let mut index: HashMap<(&str, u64, &str), usize> = HashMap::new();
    for (i, k) in known.iter().enumerate() {
        if let Some(prev) = index.insert((k.capture.as_str(), k.frame, k.field.as_str()), i) {
            panic!("{KNOWN_DIFFERENCES}: entries at lines {} and {} are for the same field", known[prev].line, k.line);
        }
    }
    let mut used = vec![false; known.len()];
    let mut unexplained = Vec::new();
    for r in &mut reports {
        for d in &r.diffs {
            let c = &mut r.per_proto[d.proto.index()];
            match index.get(&(d.capture.as_str(), d.frame, d.field.as_str())) {
                Some(&i)
                    if known[i].tshark.as_deref() == Some(&d.tshark) && known[i].ours.as_deref() == Some(&d.ours) =>
                {
                    used[i] = true;
                    c.known += 1;
                }
                hit => {
                    c.unexplained += 1;
                    unexplained.push((d.clone(), hit.map(|&i| known[i].line)));
                }
            }
        }
    }

    // Summary.
    let mut out = String::new();
    let _ = writeln!(out, "\ntshark {version} vs bootcheck-wire, captures under {}", root.display());
    let _ = writeln!(
        out,
        "{:<58} {:>6} {:>6} {:>5} {:>5} {:>7} {:>7} {:>5} {:>5}  skipped",
        "capture", "frames", "bootp", "tftp", "arp", "fields", "agree", "known", "unexp"
    );
    let mut totals = [Counts::default(), Counts::default(), Counts::default()];
    let (mut frames, mut skipped, mut not_compared) = (0, 0, [0usize; 3]);
    for r in &reports {
        let mut all = Counts::default();
        for (i, c) in r.per_proto.iter().enumerate() {
            all.add(c);
            totals[i].add(c);
            not_compared[i] += r.not_compared[i];
        }
        frames += r.frames;
        let note = match &r.skipped {
            Some(why) => {
                skipped += 1;
                let nc: Vec<String> = Proto::ALL
                    .iter()
                    .filter(|p| r.not_compared[p.index()] > 0)
                    .map(|p| format!("{} {}", r.not_compared[p.index()], p.name()))
                    .collect();
                format!(
                    "{why}{}",
                    if nc.is_empty() { String::new() } else { format!("; not compared: {}", nc.join(", ")) }
                )
            }
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "{:<58} {:>6} {:>6} {:>5} {:>5} {:>7} {:>7} {:>5} {:>5}  {note}",
            r.name,
            r.frames,
            r.per_proto[0].packets,
            r.per_proto[1].packets,
            r.per_proto[2].packets,
            all.fields,
            all.agree,
            all.known,
            all.unexplained
        );
    }
    let mut all = Counts::default();
    for t in &totals {
        all.add(t);
    }
    let _ = writeln!(
        out,
        "{:<58} {:>6} {:>6} {:>5} {:>5} {:>7} {:>7} {:>5} {:>5}  {skipped} capture(s)",
        format!("TOTAL ({} captures)", reports.len()),
        frames,
        totals[0].packets,
        totals[1].packets,
        totals[2].packets,
        all.fields,
        all.agree,
        all.known,
        all.unexplained
    );
    let _ = writeln!(
        out,
        "\n{:<8} {:>8} {:>8} {:>8} {:>6} {:>6} {:>13}",
        "protocol", "packets", "fields", "agree", "known", "unexp", "not compared"
    );
    for p in Proto::ALL {
        let t = &totals[p.index()];
        let _ = writeln!(
            out,
            "{:<8} {:>8} {:>8} {:>8} {:>6} {:>6} {:>13}",
            p.name(),
            t.packets,
            t.fields,
            t.agree,
            t.known,
            t.unexplained,
            not_compared[p.index()]
        );
    }
    let mut by_cause: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (i, k) in known.iter().enumerate() {
        let e = by_cause.entry(k.cause.as_str()).or_default();
        e.0 += 1;
        e.1 += usize::from(used[i]);
    }
    let _ = writeln!(out, "\nknown differences by cause (entries, of which matched):");
    for (cause, (n, m)) in &by_cause {
        let _ = writeln!(out, "  {cause:<20} {n:>4} {m:>4}");
    }
    let reviewed_mm: String = reviewed.split('.').take(2).collect::<Vec<_>>().join(".");
    let running_mm: String = version.split('.').take(2).collect::<Vec<_>>().join(".");
    if reviewed_mm != running_mm {
        let _ = writeln!(
            out,
            "\nnote: the known differences were reviewed against tshark {reviewed}, this is tshark {version}"
        );
    }
    println!("{out}");

    let mut failures = String::new();
    if !unexplained.is_empty() {
        let _ = writeln!(failures, "{} unexplained disagreement(s) with tshark:", unexplained.len());
        for (d, line) in &unexplained {
            let _ = write!(
                failures,
                "  {} frame {}: {}: tshark {:?}, ours {:?}",
                d.capture, d.frame, d.field, d.tshark, d.ours
            );
            if let Some(l) = line {
                let _ = write!(failures, " (the entry at line {l} of the known-differences file expects other values)");
            }
            failures.push('\n');
        }
    }
    let stale: Vec<&Known> = known.iter().zip(&used).filter(|(_, u)| !**u).map(|(k, _)| k).collect();
    if !stale.is_empty() {
        let _ = writeln!(failures, "{} stale known-differences entr(y/ies) matching no disagreement:", stale.len());
        for k in stale {
            let _ = writeln!(
                failures,
                "  line {}: {} frame {}: {}: tshark {:?}, ours {:?}",
                k.line,
                k.capture,
                k.frame,
                k.field,
                k.tshark.as_deref().unwrap_or_default(),
                k.ours.as_deref().unwrap_or_default()
            );
        }
    }
    assert!(failures.is_empty(), "\n{failures}");
}
