//! Regenerates the seed corpora under `fuzz/corpus/<target>/` from packet captures.
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --example seed_corpus -- \
//!     [CAPTURE_DIR (default ../shared/captures/third-party)] [OUT_DIR (default fuzz/corpus)]
//! ```
//!
//! Reads every `.pcap` / `.pcapng` under CAPTURE_DIR (its own small reader, no libpcap),
//! parses each frame with `bootcheck_wire::frame::Frame::parse` and writes:
//!
//! * `frame/`: selector octet (see `bootcheck_fuzz::link_type`) + the frame, plus the
//!   IPv4 packets of Ethernet frames re-framed as LINKTYPE_RAW / LINKTYPE_IPV4, plus a
//!   few frames built with `frame::build_udp` and then falsified with `frame::Lies`;
//! * `bootp_strict/`, `bootp_lenient/`: UDP payloads on ports 67/68;
//! * `options/`: the octets after the magic cookie of those payloads;
//! * `tftp/`: UDP payloads to or from port 69, and of the transfers those requests open
//!   (the client's address and port), plus hand-built packets (ERROR, OACK, options);
//! * `arp/`: ARP/RARP bodies (EtherType 0x0806 and 0x8035);
//! * `bsdp/`: hand-built BSDP option-43 payloads and option-60 vendor classes (no BSDP
//!   capture exists), plus the option-43 values found in the captures;
//! * `roundtrip/`: nothing: its inputs are `arbitrary` streams, libFuzzer grows them.
//!
//! Inputs are deduplicated by content and then by a coarse "shape" per target (option
//! codes and lengths for BOOTP, opcode and size class for TFTP, …) so that a capture of
//! 10,000 identical DISCOVERs yields one file; each kept file is named by the SHA-1 of
//! its content, as cargo fuzz names corpus entries. Files of 4 KiB or more are skipped.
//! Existing files in OUT_DIR are kept (regression inputs live there too); run with an
//! empty OUT_DIR to start over.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::{env, fs};

use bootcheck_wire::bootp;
use bootcheck_wire::frame::{self, Frame, LinkType, Net, Transport};
use bootcheck_wire::options::{AreaIter, Item};
use bootcheck_wire::Area;

/// Largest corpus file written.
const MAX_FILE: usize = 4095;
/// At most this many files per target and capture file (after shape dedup).
const PER_CAPTURE: usize = 40;

struct Corpus {
    out: PathBuf,
    /// target -> shape keys seen
    shapes: HashMap<&'static str, HashSet<Vec<u8>>>,
    /// target -> content -> source
    files: BTreeMap<&'static str, BTreeMap<Vec<u8>, String>>,
    per_capture: HashMap<(&'static str, String), usize>,
}

impl Corpus {
    fn add(&mut self, target: &'static str, shape: Vec<u8>, bytes: &[u8], source: &str) {
        if bytes.is_empty() || bytes.len() > MAX_FILE {
            return;
        }
        let files = self.files.entry(target).or_default();
        if files.contains_key(bytes) {
            return;
        }
        if !self.shapes.entry(target).or_default().insert(shape) {
            return;
        }
        let n = self.per_capture.entry((target, source.to_owned())).or_default();
        if *n >= PER_CAPTURE {
            return;
        }
        *n += 1;
        files.insert(bytes.to_vec(), source.to_owned());
    }

    /// Hand-built seeds bypass the shape filter.
    fn add_always(&mut self, target: &'static str, bytes: &[u8]) {
        if !bytes.is_empty() && bytes.len() <= MAX_FILE {
            self.files.entry(target).or_default().entry(bytes.to_vec()).or_insert_with(|| "hand-built".into());
        }
    }

    fn write(&self) -> std::io::Result<()> {
        for (target, files) in &self.files {
            let dir = self.out.join(target);
            fs::create_dir_all(&dir)?;
            let mut sources: BTreeMap<&str, usize> = BTreeMap::new();
            for (bytes, src) in files {
                let name = sha1_smol::Sha1::from(bytes).digest().to_string();
                fs::write(dir.join(name), bytes)?;
                *sources.entry(src).or_default() += 1;
            }
            println!("{target}: {} files", files.len());
            for (src, n) in sources {
                println!("    {n:4}  {src}");
            }
        }
        Ok(())
    }
}

/// One captured frame.
struct Captured {
    link: u32,
    data: Vec<u8>,
}

fn rd16(b: &[u8], at: usize, le: bool) -> Option<u16> {
    let a: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
    Some(if le { u16::from_le_bytes(a) } else { u16::from_be_bytes(a) })
}

fn rd32(b: &[u8], at: usize, le: bool) -> Option<u32> {
    let a: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(if le { u32::from_le_bytes(a) } else { u32::from_be_bytes(a) })
}

/// Classic pcap (micro- or nanosecond, either byte order). Stops at the first record
/// header that does not fit.
fn read_pcap(b: &[u8]) -> Option<Vec<Captured>> {
    let le = match b.get(..4)? {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => return None,
    };
    // The upper bits carry FCS information (pcap spec §LinkType); the type is the low 16.
    let link = rd32(b, 20, le)? & 0xffff;
    let mut out = Vec::new();
    let mut at = 24;
    while let Some(incl) = rd32(b, at + 8, le) {
        let start = at + 16;
        let Some(data) = b.get(start..start + incl as usize) else { break };
        out.push(Captured { link, data: data.to_vec() });
        at = start + incl as usize;
    }
    Some(out)
}

/// pcapng: section header, interface descriptions, enhanced/simple/obsolete packets.
fn read_pcapng(b: &[u8]) -> Option<Vec<Captured>> {
    if b.get(..4)? != [0x0a, 0x0d, 0x0d, 0x0a] {
        return None;
    }
    let mut out = Vec::new();
    let mut links: Vec<u32> = Vec::new();
    let mut le = true;
    let mut at = 0usize;
    while at + 12 <= b.len() {
        if b.get(at..at + 4) == Some(&[0x0a, 0x0d, 0x0d, 0x0a]) {
            le = match b.get(at + 8..at + 12)? {
                [0x4d, 0x3c, 0x2b, 0x1a] => true,
                [0x1a, 0x2b, 0x3c, 0x4d] => false,
                _ => return Some(out),
            };
            links.clear();
        }
        let kind = rd32(b, at, le)?;
        let len = rd32(b, at + 4, le)? as usize;
        if len < 12 || at + len > b.len() {
            break;
        }
        let body = b.get(at + 8..at + len - 4)?;
        match kind {
            1 => links.push(u32::from(rd16(body, 0, le)?)),
            6 => {
                let ifc = rd32(body, 0, le)? as usize;
                let cap = rd32(body, 12, le)? as usize;
                if let (Some(&link), Some(data)) = (links.get(ifc), body.get(20..20 + cap)) {
                    out.push(Captured { link, data: data.to_vec() });
                }
            }
            3 => {
                let orig = rd32(body, 0, le)? as usize;
                let data = body.get(4..)?;
                if let Some(&link) = links.first() {
                    out.push(Captured { link, data: data[..orig.min(data.len())].to_vec() });
                }
            }
            2 => {
                let ifc = usize::from(rd16(body, 0, le)?);
                let cap = rd32(body, 12, le)? as usize;
                if let (Some(&link), Some(data)) = (links.get(ifc), body.get(20..20 + cap)) {
                    out.push(Captured { link, data: data.to_vec() });
                }
            }
            _ => {}
        }
        at += len;
    }
    Some(out)
}

fn captures_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            captures_under(&p, out);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("pcap" | "pcapng")) {
            out.push(p);
        }
    }
}

/// Option codes and lengths of an option area (up to End or the first error), the
/// shape key of BOOTP and option-area seeds.
fn area_shape(area: &[u8]) -> Vec<u8> {
    let mut key = Vec::new();
    for r in AreaIter::new(area, 0, Area::Options) {
        match r {
            Ok(Item::Option(o)) => key.extend_from_slice(&[o.option.code, o.option.data.len() as u8]),
            Ok(Item::Pad { .. }) => key.push(0),
            Ok(Item::End { .. }) => key.push(255),
            Err(_) => key.extend_from_slice(b"ERR"),
        }
    }
    key
}

fn bootp_shape(msg: &[u8]) -> Vec<u8> {
    let p = bootp::Packet::new_unchecked(msg);
    let mut key = vec![b'B', p.op().to_u8(), p.htype(), p.hlen(), u8::from(p.giaddr() != Ipv4Addr::UNSPECIFIED)];
    key.push(u8::from(!p.sname().is_empty()));
    key.push(u8::from(!p.file().is_empty()));
    key.extend_from_slice(&(msg.len().min(0xffff) as u16).to_be_bytes());
    key.push(p.vend_kind() as u8);
    if p.vend_kind() == bootp::VendKind::Rfc1048 {
        key.extend(area_shape(msg.get(bootp::field::OPTIONS).unwrap_or(&[])));
    }
    key
}

fn tftp_shape(payload: &[u8]) -> Vec<u8> {
    let op = payload.get(..2).map_or(0xffff, |o| u16::from_be_bytes([o[0], o[1]]));
    let mut key = vec![b'T'];
    key.extend_from_slice(&op.to_be_bytes());
    match op {
        // Requests and OACK: the option names and the mode.
        1 | 2 | 6 => {
            for (i, s) in payload.get(2..).unwrap_or(&[]).split(|&c| c == 0).enumerate() {
                if i > 0 || op == 6 {
                    key.extend(s.iter().map(u8::to_ascii_lowercase).filter(|c| !c.is_ascii_digit()));
                }
                key.push(0);
            }
        }
        // DATA: full block, short block, empty; ACK/ERROR: the length.
        3 => key.push(match payload.len() {
            4 => 0,
            516 => 1,
            n if n > 516 => 2,
            _ => 3,
        }),
        _ => key.extend_from_slice(&(payload.len().min(0xffff) as u16).to_be_bytes()),
    }
    key
}

fn arp_shape(body: &[u8]) -> Vec<u8> {
    let mut key = vec![b'A'];
    key.extend_from_slice(body.get(..8).unwrap_or(body));
    key.extend_from_slice(&(body.len().min(0xffff) as u16).to_be_bytes());
    key
}

/// State for recognising TFTP transfers on ephemeral ports.
#[derive(Default)]
struct Tftp {
    /// (client address, client port) of every request seen.
    clients: HashSet<(Ipv4Addr, u16)>,
}

fn harvest(c: &mut Corpus, link: u32, data: &[u8], src: &str, tftp: &mut Tftp) {
    let lt = LinkType::from_u32(link);
    let Some(sel) = bootcheck_fuzz::selector(lt) else { return };
    let Ok(f) = Frame::parse(lt, data) else { return };
    let mut framed = vec![sel];
    framed.extend_from_slice(data);
    let mut fshape = vec![b'F', sel];
    fshape.extend_from_slice(&f.ethertype.to_be_bytes());
    fshape.push(u8::from(f.vlans[0].is_some()));
    fshape.push(u8::from(!f.findings.is_empty()));
    match f.net {
        Net::Ipv4(ip) => {
            fshape.push(ip.protocol);
            fshape.push(u8::from(ip.is_fragment()));
            // A first fragment whose UDP header names a BOOTP port (CVE regressions such
            // as tcpdump's bootp_asan set MF on a whole datagram): seed its payload too.
            if let Transport::Fragment { payload, .. } = ip.transport {
                let ports = [payload.get(..2), payload.get(2..4)];
                let bootp_port = ports.iter().flatten().any(|p| matches!(p, [0, 67 | 68]));
                if ip.fragment_offset == 0 && bootp_port {
                    if let Some(msg) = payload.get(8..) {
                        let shape = bootp_shape(msg);
                        c.add("bootp_strict", shape.clone(), msg, src);
                        c.add("bootp_lenient", shape, msg, src);
                    }
                }
            }
            if let Transport::Udp(u) = ip.transport {
                let (s, d) = (ip.src, ip.dst);
                if f.bootp().is_some() {
                    let shape = bootp_shape(u.payload);
                    fshape.extend_from_slice(&shape);
                    c.add("bootp_strict", shape.clone(), u.payload, src);
                    c.add("bootp_lenient", shape, u.payload, src);
                    let pk = bootp::Packet::new_unchecked(u.payload);
                    if pk.vend_kind() == bootp::VendKind::Rfc1048 {
                        let area = u.payload.get(bootp::field::OPTIONS).unwrap_or(&[]);
                        c.add("options", area_shape(area), area, src);
                    }
                    // Option-43 values as BSDP seeds (vendor-specific data of other
                    // vendors is what a BSDP parser meets in the wild too).
                    if let Some(v) = pk.aggregate(43) {
                        let mut shape = b"V43".to_vec();
                        shape.extend_from_slice(&v);
                        c.add("bsdp", shape, &v, src);
                    }
                    if let Some(v) = pk.aggregate(60) {
                        c.add("bsdp", v.to_vec(), &v, src);
                    }
                    // The IPv4 packet alone, as LINKTYPE_RAW and LINKTYPE_IPV4.
                    if let (Some(ip_bytes), LinkType::Ethernet) = (data.get(ip.offset..), lt) {
                        for rsel in [1u8, 2] {
                            let mut raw = vec![rsel];
                            raw.extend_from_slice(ip_bytes);
                            let mut k = fshape.clone();
                            k[1] = rsel;
                            c.add("frame", k, &raw, src);
                        }
                    }
                } else {
                    let is_tftp = if u.dst_port == 69 {
                        tftp.clients.insert((s, u.src_port));
                        true
                    } else {
                        u.src_port == 69
                            || tftp.clients.contains(&(s, u.src_port))
                            || tftp.clients.contains(&(d, u.dst_port))
                    };
                    if is_tftp {
                        let shape = tftp_shape(u.payload);
                        fshape.extend_from_slice(&shape);
                        c.add("tftp", shape, u.payload, src);
                    } else {
                        fshape.extend_from_slice(&u.dst_port.min(u.src_port).to_be_bytes());
                    }
                }
            }
        }
        Net::Arp { body, .. } => {
            let shape = arp_shape(body);
            fshape.extend_from_slice(&shape);
            c.add("arp", shape, body, src);
        }
        Net::Other { payload, .. } => fshape.push(payload.len().min(255) as u8),
    }
    c.add("frame", fshape, &framed, src);
}

/// BSDP option-43 payloads (Apple's NetBoot 2.0 exchange) and option-60 values.
fn bsdp_seeds(c: &mut Corpus) {
    let image = |id: [u8; 4], name: &[u8]| {
        let mut v = id.to_vec();
        v.push(name.len() as u8);
        v.extend_from_slice(name);
        v
    };
    let sub = |code: u8, v: &[u8]| {
        let mut o = vec![code, v.len() as u8];
        o.extend_from_slice(v);
        o
    };
    let cat = |parts: &[Vec<u8>]| parts.concat();
    let list = cat(&[image([0x81, 0, 0x10, 0x01], b"macOS Monterey"), image([0x01, 0, 0, 0x02], b"Install")]);
    let seeds: Vec<Vec<u8>> = vec![
        // Client INFORM[LIST]: type, version 1.1, reply port 1023, max message size 1500.
        cat(&[sub(1, &[1]), sub(2, &[1, 1]), sub(5, &[3, 0xff]), sub(12, &[5, 0xdc])]),
        // Client INFORM[LIST] from NetBoot 1.0-era firmware.
        cat(&[sub(1, &[1]), sub(2, &[1, 0]), sub(10, &[])]),
        // Server ACK[LIST]: type, version, server id, priority, default image, list.
        cat(&[
            sub(1, &[1]),
            sub(2, &[1, 1]),
            sub(3, &[10, 0, 0, 1]),
            sub(4, &[0x80, 0]),
            sub(7, &[0x81, 0, 0x10, 0x01]),
            sub(9, &list),
        ]),
        // Client INFORM[SELECT]: server id, selected image, attribute filter list.
        cat(&[
            sub(1, &[2]),
            sub(2, &[1, 1]),
            sub(3, &[10, 0, 0, 1]),
            sub(8, &[0x81, 0, 0x10, 0x01]),
            sub(11, &[0x81, 0, 0x01, 0]),
        ]),
        // Server ACK[SELECT]: selected image, boot image list path, shadow paths, name.
        cat(&[
            sub(1, &[2]),
            sub(8, &[0x81, 0, 0x10, 0x01]),
            sub(6, b"/Library/NetBoot"),
            sub(128, b"afp://10.0.0.1/NetBootClients0"),
            sub(129, b"Shadow"),
            sub(130, b"client-01"),
        ]),
        // Server ACK[FAILED].
        sub(1, &[3]),
        // A boot image list split over two sub-options (as a big list is sent).
        cat(&[sub(1, &[1]), sub(9, &image([0x81, 0, 0x10, 0x01], b"A")), sub(9, &image([0, 0, 0, 3], b"B"))]),
        // Oddities: an unknown sub-option, a pad octet, a length past the end.
        cat(&[sub(1, &[1]), sub(200, b"x"), vec![0], vec![255]]),
        cat(&[sub(1, &[1]), vec![9, 40, 0x81, 0, 0x10]]),
        // Option-60 vendor classes.
        b"AAPLBSDPC".to_vec(),
        b"AAPLBSDPC/i386/MacBookPro11,1".to_vec(),
        b"AAPLBSDPC/ppc/PowerMac3,6".to_vec(),
        b"AAPLBSDPC/arm64/Mac14,2".to_vec(),
        b"AAPLBSDPC/i386".to_vec(),
    ];
    for s in seeds {
        c.add_always("bsdp", &s);
    }
}

/// TFTP packets the captures lack: every ERROR code, OACK, RFC 2347–2349/7440 options.
fn tftp_seeds(c: &mut Corpus) {
    let pkt = |op: u16, parts: &[&[u8]]| {
        let mut v = op.to_be_bytes().to_vec();
        for p in parts {
            v.extend_from_slice(p);
            v.push(0);
        }
        v
    };
    let mut seeds = vec![
        pkt(1, &[b"pxelinux.0", b"octet", b"blksize", b"1468", b"tsize", b"0", b"windowsize", b"4", b"timeout", b"5"]),
        pkt(1, &[b"boot/grub/grub.cfg", b"netascii"]),
        pkt(1, &[b"mailbox", b"mail"]),
        pkt(2, &[b"upload.bin", b"OCTET", b"tsize", b"100000"]),
        pkt(6, &[b"blksize", b"1468", b"tsize", b"24960", b"windowsize", b"4", b"timeout", b"5"]),
        pkt(6, &[]),
        vec![0, 4, 0, 0],
        vec![0, 3, 0xff, 0xff],
    ];
    for code in 0u8..=8 {
        let mut e = vec![0, 5, 0, code];
        e.extend_from_slice(b"error text\0");
        seeds.push(e);
    }
    for s in seeds {
        c.add_always("tftp", &s);
    }
}

/// Frames falsified the ways `frame::Lies` can, and RARP / ARP frames built by hand.
fn frame_seeds(c: &mut Corpus) {
    let discover = bootcheck_fuzz::bootp_with_options(&[53, 1, 1, 255]);
    let ep = frame::UdpEndpoints {
        src_mac: [2, 0, 0, 0, 0, 1],
        dst_mac: frame::BROADCAST_MAC,
        src_ip: Ipv4Addr::UNSPECIFIED,
        dst_ip: Ipv4Addr::BROADCAST,
        src_port: bootp::CLIENT_PORT,
        dst_port: bootp::SERVER_PORT,
        ttl: 64,
    };
    let lies = [
        frame::Lies::default(),
        frame::Lies { ip_total_len: Some(0xffff), ..Default::default() },
        frame::Lies { ip_total_len: Some(10), ..Default::default() },
        frame::Lies { ihl: Some(15), ..Default::default() },
        frame::Lies { ihl: Some(4), ..Default::default() },
        frame::Lies { udp_len: Some(7), ..Default::default() },
        frame::Lies { udp_len: Some(0xffff), ..Default::default() },
        frame::Lies { udp_len: Some(100), udp_checksum: Some(0x1234), ..Default::default() },
        frame::Lies { ip_checksum: Some(0), ..Default::default() },
    ];
    for l in &lies {
        if let Ok(mut f) = frame::build_udp(&ep, &discover) {
            frame::apply_lies(&mut f, l);
            let mut v = vec![0u8];
            v.extend_from_slice(&f);
            c.add_always("frame", &v);
        }
    }
    // TFTP RRQ to port 69, and a VLAN-tagged copy of the DISCOVER.
    let tftp_ep = frame::UdpEndpoints { src_port: 2000, dst_port: 69, dst_ip: Ipv4Addr::new(10, 0, 0, 1), ..ep };
    if let Ok(f) = frame::build_udp(&tftp_ep, b"\0\x01file\0octet\0blksize\x001432\0") {
        c.add_always("frame", &[&[0u8][..], &f].concat());
    }
    if let Ok(f) = frame::build_udp(&ep, &discover) {
        for tags in [&[0x81, 0x00, 0x00, 0x0a][..], &[0x88, 0xa8, 0x00, 0x14, 0x81, 0x00, 0x00, 0x0a][..]] {
            let tagged = [&[0u8][..], &f[..12], tags, &f[12..]].concat();
            c.add_always("frame", &tagged);
        }
    }
    // RARP request (RFC 903 opcode 3) in Ethernet, SLL and SLL2 framing.
    let mac = [2, 0, 0, 0, 0, 1];
    let mut rarp = vec![0, 1, 8, 0, 6, 4, 0, 3];
    rarp.extend_from_slice(&mac);
    rarp.extend_from_slice(&[0; 4]);
    rarp.extend_from_slice(&mac);
    rarp.extend_from_slice(&[0; 4]);
    c.add_always("arp", &rarp);
    let eth = frame::build_ethernet(mac, frame::BROADCAST_MAC, frame::ETHERTYPE_RARP, &rarp);
    c.add_always("frame", &[&[0u8][..], &eth].concat());
    let mut sll = vec![0, 4, 0, 1, 0, 6];
    sll.extend_from_slice(&mac);
    sll.extend_from_slice(&[0, 0]);
    sll.extend_from_slice(&frame::ETHERTYPE_RARP.to_be_bytes());
    sll.extend_from_slice(&rarp);
    c.add_always("frame", &[&[3u8][..], &sll].concat());
    let mut sll2 = frame::ETHERTYPE_ARP.to_be_bytes().to_vec();
    sll2.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 4, 6]);
    sll2.extend_from_slice(&mac);
    sll2.extend_from_slice(&[0, 0]);
    let mut arp = rarp.clone();
    arp[7] = 1;
    sll2.extend_from_slice(&arp);
    c.add_always("frame", &[&[4u8][..], &sll2].concat());
    c.add_always("arp", &arp);
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = env::args().skip(1).collect();
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let captures = args.first().map_or_else(|| here.join("../../shared/captures/third-party"), PathBuf::from);
    let out = args.get(1).map_or_else(|| here.join("corpus"), PathBuf::from);
    let mut files = Vec::new();
    captures_under(&captures, &mut files);
    if files.is_empty() {
        eprintln!("no .pcap/.pcapng files under {}", captures.display());
        std::process::exit(1);
    }
    let mut c = Corpus { out, shapes: HashMap::new(), files: BTreeMap::new(), per_capture: HashMap::new() };
    let mut links = BTreeSet::new();
    for path in &files {
        let Ok(bytes) = fs::read(path) else { continue };
        let Some(frames) = read_pcap(&bytes).or_else(|| read_pcapng(&bytes)) else {
            eprintln!("skipping {} (not pcap/pcapng)", path.display());
            continue;
        };
        let src = path.strip_prefix(&captures).unwrap_or(path).display().to_string();
        let mut tftp = Tftp::default();
        for f in &frames {
            links.insert(f.link);
            harvest(&mut c, f.link, &f.data, &src, &mut tftp);
        }
    }
    bsdp_seeds(&mut c);
    tftp_seeds(&mut c);
    frame_seeds(&mut c);
    println!("link types seen: {links:?}");
    c.write()
}
