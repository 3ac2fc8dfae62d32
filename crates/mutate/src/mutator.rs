//! The mutation engine: seeds from the scenario corpus, one case per index, every case
//! a pure function of (campaign seed, index). No I/O, no clock, no panics.

use core::net::Ipv4Addr;

use bootcheck_wire::bootp::{self, field, HEADER_LEN, MAGIC_COOKIE, MIN_LEN};
use bootcheck_wire::frame::Lies;
use bootcheck_wire::options::{code, END, PAD};

use crate::class::MutationClass;
use crate::packet::{safe_ip, Packet, Proto, MAX_UDP_PAYLOAD};
use crate::rng::Rng;

/// A request the corpus sends, and where it came from (scenario id, step).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    pub proto: Proto,
    pub packet: Packet,
    pub origin: String,
}

/// The seeds of a campaign, without duplicates.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    seeds: Vec<Seed>,
}

impl Corpus {
    pub fn new() -> Self {
        Corpus::default()
    }

    /// Add a frame the corpus sends if it is a request (see [`Packet::from_frame`]) that
    /// only goes where lab frames may, and is not there yet. Returns whether it was
    /// added.
    pub fn add_frame(&mut self, frame: &[u8], origin: &str) -> bool {
        let Some((proto, packet)) = Packet::from_frame(frame) else { return false };
        if !packet.is_safe() || self.seeds.iter().any(|s| s.packet == packet) {
            return false;
        }
        self.seeds.push(Seed { proto, packet, origin: origin.to_string() });
        true
    }

    /// Keep only seeds of these protocols.
    pub fn retain_protos(&mut self, protos: &[Proto]) {
        self.seeds.retain(|s| protos.contains(&s.proto));
    }

    pub fn seeds(&self) -> &[Seed] {
        &self.seeds
    }

    pub fn len(&self) -> usize {
        self.seeds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.seeds.is_empty()
    }

    /// How many seeds of each protocol.
    pub fn count(&self, p: Proto) -> usize {
        self.seeds.iter().filter(|s| s.proto == p).count()
    }
}

/// One mutated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Its number in the campaign: `Mutator::case(index)` makes it again.
    pub index: u64,
    /// The seed it was made from (index into the corpus).
    pub seed: usize,
    /// The seed's protocol.
    pub proto: Proto,
    pub class: MutationClass,
    pub packet: Packet,
}

/// Makes cases from a corpus, deterministically from a seed.
#[derive(Debug, Clone)]
pub struct Mutator {
    corpus: Corpus,
    seed: u64,
    classes: Vec<MutationClass>,
}

impl Mutator {
    /// A mutator over `corpus` (which must hold at least one seed).
    pub fn new(corpus: Corpus, seed: u64) -> Result<Self, String> {
        if corpus.is_empty() {
            return Err("the corpus has no seeds: no scenario sends a BOOTREQUEST, TFTP request or RARP request the target serves".into());
        }
        Ok(Mutator { corpus, seed, classes: MutationClass::ALL.to_vec() })
    }

    /// Use only these classes (where they apply; a seed none applies to is sent with
    /// `byte-flip`).
    pub fn with_classes(mut self, classes: &[MutationClass]) -> Self {
        if !classes.is_empty() {
            self.classes = classes.to_vec();
        }
        self
    }

    pub fn corpus(&self) -> &Corpus {
        &self.corpus
    }

    /// Case number `index`.
    pub fn case(&self, index: u64) -> Case {
        let mut rng = Rng::for_case(self.seed, index);
        let s = rng.below(self.corpus.seeds.len());
        let Some(seed) = self.corpus.seeds.get(s) else {
            return Case {
                index,
                seed: 0,
                proto: Proto::Bootp,
                class: MutationClass::ByteFlip,
                packet: Packet::Ether { frame: Vec::new() },
            };
        };
        let udp = matches!(seed.packet, Packet::Udp { .. });
        let usable: Vec<MutationClass> = self.classes.iter().copied().filter(|c| c.applies(seed.proto, udp)).collect();
        let class = rng.pick(&usable).unwrap_or(MutationClass::ByteFlip);
        let packet = apply(class, seed.proto, &seed.packet, &mut rng);
        // Never anything that leaves the lab's address space (mutations keep the IPv4
        // destination; this is the belt to those braces).
        let packet = if packet.is_safe() { packet } else { seed.packet.clone() };
        Case { index, seed: s, proto: seed.proto, class, packet }
    }
}

/// Apply one class to a seed packet.
pub fn apply(class: MutationClass, proto: Proto, seed: &Packet, rng: &mut Rng) -> Packet {
    use MutationClass as M;
    let body = seed.body();
    match class {
        M::LyingIpLength | M::LyingUdpLength | M::LyingIpHeaderLength => lie(class, seed, rng),
        M::Truncated => seed.with_body(truncate(proto, body, rng)),
        M::ByteFlip => seed.with_body(byte_flip(body, rng)),
        M::Oversized if proto == Proto::Tftp => seed.with_body(tftp_oversized(body, rng)),
        M::TftpMalformed => seed.with_body(tftp_malformed(body, rng)),
        M::RarpMalformed => seed.with_body(rarp_malformed(body, rng)),
        _ => seed.with_body(bootp_mutation(class, body, rng)),
    }
}

// ---- values ----

/// Option codes servers act on, plus a few they should not.
const INTERESTING: &[u8] = &[
    1, 3, 6, 12, 15, 17, 43, 50, 51, 52, 53, 54, 55, 56, 57, 60, 61, 66, 67, 77, 81, 82, 93, 94, 97, 116, 119, 121,
    124, 125, 150, 210, 249, 252,
];

fn pick<T: Copy>(rng: &mut Rng, items: &[T], default: T) -> T {
    rng.pick(items).unwrap_or(default)
}

fn safe_addr(rng: &mut Rng) -> [u8; 4] {
    let a = match rng.below(7) {
        0 => Ipv4Addr::UNSPECIFIED,
        1 => Ipv4Addr::BROADCAST,
        2 => Ipv4Addr::new(192, 0, 2, 1),
        3 => Ipv4Addr::new(192, 0, 2, 21),
        4 => Ipv4Addr::new(198, 51, 100, 1),
        // The pool only: the harness keeps other addresses of the subnet for itself.
        5 => Ipv4Addr::new(192, 0, 2, rng.range(100, 119) as u8),
        _ => Ipv4Addr::new(203, 0, 113, rng.byte()),
    };
    debug_assert!(safe_ip(a));
    a.octets()
}

fn printable(rng: &mut Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| b'!' + (rng.below(94) as u8)).collect()
}

// ---- BOOTP ----

/// A BOOTP message taken apart leniently: header, cookie, options (pads dropped), what
/// could not be read, End, what follows End.
#[derive(Debug, Clone)]
pub(crate) struct Msg {
    head: Vec<u8>,
    cookie: Vec<u8>,
    pub(crate) opts: Vec<(u8, Vec<u8>)>,
    garbage: Vec<u8>,
    end: bool,
    trailer: Vec<u8>,
    min_len: usize,
}

impl Msg {
    pub(crate) fn parse(p: &[u8]) -> Msg {
        let mut head = p.get(..HEADER_LEN).unwrap_or(p).to_vec();
        head.resize(HEADER_LEN, 0);
        let cookie = p.get(field::COOKIE).map_or(MAGIC_COOKIE.to_vec(), <[u8]>::to_vec);
        let area = p.get(field::OPTIONS).unwrap_or(&[]);
        let (mut opts, mut garbage, mut end) = (Vec::new(), Vec::new(), false);
        let mut i = 0;
        while let Some(&c) = area.get(i) {
            if c == PAD {
                i += 1;
                continue;
            }
            if c == END {
                end = true;
                break;
            }
            let data = area.get(i + 1).and_then(|&len| area.get(i + 2..i + 2 + usize::from(len)));
            match data {
                Some(d) => {
                    opts.push((c, d.to_vec()));
                    i += 2 + d.len();
                }
                None => {
                    garbage = area.get(i..).unwrap_or(&[]).to_vec();
                    break;
                }
            }
        }
        Msg { head, cookie, opts, garbage, end, trailer: Vec::new(), min_len: p.len().max(MIN_LEN) }
    }

    pub(crate) fn emit(&self) -> Vec<u8> {
        let mut out = self.head.clone();
        out.extend(&self.cookie);
        for (c, d) in &self.opts {
            push_option(&mut out, *c, d);
        }
        out.extend(&self.garbage);
        if self.end {
            out.push(END);
        }
        out.extend(&self.trailer);
        if out.len() < self.min_len {
            out.resize(self.min_len, 0);
        }
        out.truncate(MAX_UDP_PAYLOAD);
        out
    }

    /// Whether the octets are a message with the RFC 1048 cookie (options to shrink).
    pub(crate) fn has_cookie(&self) -> bool {
        self.cookie == MAGIC_COOKIE
    }

    fn size(&self) -> usize {
        HEADER_LEN + self.cookie.len() + self.opts.iter().map(|(_, d)| 2 + d.len()).sum::<usize>() + 1
    }

    fn remove(&mut self, c: u8) {
        self.opts.retain(|(x, _)| *x != c);
    }

    fn insert_at_random(&mut self, rng: &mut Rng, c: u8, d: Vec<u8>) {
        let at = rng.below(self.opts.len() + 1);
        self.opts.insert(at, (c, d));
    }

    fn set_field(&mut self, range: core::ops::Range<usize>, bytes: &[u8]) {
        let n = range.len();
        if let Some(f) = self.head.get_mut(range) {
            f.fill(0);
            let k = bytes.len().min(n);
            if let (Some(dst), Some(src)) = (f.get_mut(..k), bytes.get(..k)) {
                dst.copy_from_slice(src);
            }
        }
    }
}

/// Encode an option; data longer than 255 octets is split the RFC 3396 way.
fn push_option(out: &mut Vec<u8>, c: u8, d: &[u8]) {
    if d.is_empty() {
        out.extend([c, 0]);
    }
    for chunk in d.chunks(255) {
        out.push(c);
        out.push(chunk.len() as u8);
        out.extend(chunk);
    }
}

fn bootp_mutation(class: MutationClass, payload: &[u8], rng: &mut Rng) -> Vec<u8> {
    use MutationClass as M;
    let mut m = Msg::parse(payload);
    match class {
        M::OptionLengthPastEnd => return option_length_past_end(m, rng),
        M::ZeroLengthOption => {
            for _ in 0..rng.range(1, 3) {
                if !m.opts.is_empty() && rng.one_in(2) {
                    let i = rng.below(m.opts.len());
                    if let Some(o) = m.opts.get_mut(i) {
                        o.1.clear();
                    }
                } else {
                    let c = pick(rng, INTERESTING, code::MESSAGE_TYPE);
                    m.insert_at_random(rng, c, Vec::new());
                }
            }
        }
        M::RepeatedOption => {
            let (c, d) = match m.opts.get(rng.below(m.opts.len())) {
                Some(o) if !rng.one_in(4) => o.clone(),
                _ => {
                    let c = pick(rng, INTERESTING, code::HOST_NAME);
                    let n = rng.below(17);
                    (c, rng.bytes(n))
                }
            };
            let n = pick(rng, &[2, 3, 8, 64, 200], 2);
            let adjacent = rng.one_in(2);
            let at = rng.below(m.opts.len() + 1);
            for _ in 0..n {
                if m.size() + 2 + d.len() > MAX_UDP_PAYLOAD {
                    break;
                }
                if adjacent {
                    m.opts.insert(at.min(m.opts.len()), (c, d.clone()));
                } else {
                    m.insert_at_random(rng, c, d.clone());
                }
            }
        }
        M::ConflictingOptions => conflicting(&mut m, rng),
        M::OverloadLoop => {
            m.remove(code::OVERLOAD);
            let v = if rng.one_in(4) { pick(rng, &[0, 4, 255], 0) } else { rng.range(1, 3) as u8 };
            m.insert_at_random(rng, code::OVERLOAD, vec![v]);
            let inner = |rng: &mut Rng, size: usize| -> Vec<u8> {
                let mut a = Vec::new();
                match rng.below(4) {
                    // 52 again and again, no End.
                    0 => {
                        while a.len() + 3 <= size {
                            a.extend([code::OVERLOAD, 1, rng.range(1, 3) as u8]);
                        }
                    }
                    // 52 pointing at the other field, then End.
                    1 => a.extend([code::OVERLOAD, 1, rng.range(1, 3) as u8, END]),
                    // 52 with a length past the field.
                    2 => {
                        a.extend([code::OVERLOAD, 255, 3]);
                    }
                    // 52 after other options, End missing.
                    _ => {
                        a.extend([code::HOST_NAME, 3, b'w', b's', b'1']);
                        a.extend([code::OVERLOAD, 1, 3]);
                    }
                }
                a.truncate(size);
                a
            };
            if v & 1 != 0 || rng.one_in(3) {
                let a = inner(rng, 128);
                m.set_field(field::FILE, &a);
            }
            if v & 2 != 0 || rng.one_in(3) {
                let a = inner(rng, 64);
                m.set_field(field::SNAME, &a);
            }
            if rng.one_in(3) {
                let w = rng.range(1, 3) as u8;
                m.insert_at_random(rng, code::OVERLOAD, vec![w]);
            }
        }
        M::Rfc3396Split => split(&mut m, rng),
        M::OptionsInSnameFile => {
            m.remove(code::OVERLOAD);
            let v = rng.range(1, 3) as u8;
            m.insert_at_random(rng, code::OVERLOAD, vec![v]);
            for (bit, range) in [(1u8, field::FILE), (2u8, field::SNAME)] {
                if v & bit == 0 {
                    continue;
                }
                let size = range.len();
                let mut a = Vec::new();
                while a.len() < size && !rng.one_in(4) {
                    let (c, d) = match m.opts.get(rng.below(m.opts.len())) {
                        Some(o) if rng.one_in(2) => o.clone(),
                        _ => {
                            let c = pick(rng, INTERESTING, code::HOST_NAME);
                            let n = rng.below(12);
                            (c, printable(rng, n))
                        }
                    };
                    push_option(&mut a, c, &d);
                }
                match rng.below(4) {
                    0 => a.push(END),
                    // The last option claims more than the field holds.
                    1 => a.extend([code::VENDOR_CLASS, (size as u8).saturating_add(rng.byte() % 64)]),
                    // End first, then options.
                    2 => a.insert(0, END),
                    _ => {} // no End at all
                }
                a.truncate(size);
                if a.len() < size && rng.one_in(2) {
                    // No pad: fill the rest with non-zero octets.
                    let k = size - a.len();
                    a.extend(printable(rng, k));
                }
                m.set_field(range, &a);
            }
        }
        M::OptionGarbage => {
            for _ in 0..rng.range(1, 8) {
                let c = rng.range(1, 254) as u8;
                let n = match rng.below(5) {
                    0 => 0,
                    1 => 1,
                    2 => 4,
                    3 => rng.below(32),
                    _ => rng.below(256),
                };
                if m.size() + 2 + n > MAX_UDP_PAYLOAD {
                    break;
                }
                let d = rng.bytes(n);
                m.insert_at_random(rng, c, d);
            }
        }
        M::Oversized => {
            let target = pick(rng, &[576, 577, 1024, 1400, MAX_UDP_PAYLOAD], 576);
            match rng.below(4) {
                0 => m.min_len = target,
                1 => {
                    while m.size() + 3 < target {
                        let c = rng.range(1, 254) as u8;
                        let n = rng.below(3);
                        let d = rng.bytes(n);
                        m.opts.push((c, d));
                    }
                }
                2 => {
                    let c = pick(rng, INTERESTING, code::VENDOR_SPECIFIC);
                    let room = target.saturating_sub(m.size());
                    // 2 octets of header per 255 of data.
                    let n = room.saturating_sub(2 * room.div_ceil(257)).saturating_sub(2);
                    let d = printable(rng, n);
                    m.insert_at_random(rng, c, d);
                }
                _ => {
                    m.end = true;
                    let n = target.saturating_sub(m.size());
                    m.trailer = rng.bytes(n);
                }
            }
        }
        M::BadCookie => {
            let c: [u8; 4] = match rng.below(6) {
                0 => [0; 4],
                1 => bootp::CMU_MAGIC,
                2 => [99, 130, 83, 98],
                3 => [99, 83, 130, 99],
                4 => [0xff; 4],
                _ => [rng.byte(), rng.byte(), rng.byte(), rng.byte()],
            };
            m.cookie = c.to_vec();
            if rng.one_in(6) {
                m.cookie.truncate(rng.below(4));
                m.opts.clear();
                m.end = false;
                m.min_len = 0;
            }
        }
        M::HlenOverflow => {
            let v = if rng.one_in(2) { rng.range(17, 255) as u8 } else { pick(rng, &[17, 18, 32, 64, 128, 255], 17) };
            if let Some(h) = m.head.get_mut(field::HLEN) {
                *h = v;
            }
            if rng.one_in(3) {
                if let Some(h) = m.head.get_mut(field::HTYPE) {
                    *h = rng.byte();
                }
            }
            if rng.one_in(2) {
                let ch = rng.bytes(16);
                m.set_field(field::CHADDR, &ch);
            }
        }
        M::HopsOverflow => {
            let v = if rng.one_in(2) { rng.range(17, 255) as u8 } else { pick(rng, &[16, 17, 32, 255], 17) };
            if let Some(h) = m.head.get_mut(field::HOPS) {
                *h = v;
            }
            if rng.one_in(2) {
                m.set_field(field::GIADDR, &[198, 51, 100, 1]);
            }
        }
        M::HeaderFields => {
            for _ in 0..rng.range(1, 3) {
                match rng.below(9) {
                    0 => {
                        let v = pick(rng, &[0, 2, 3, 255], 0);
                        if let Some(h) = m.head.get_mut(field::OP) {
                            *h = v;
                        }
                    }
                    1 => {
                        let v = rng.byte();
                        if let Some(h) = m.head.get_mut(field::HTYPE) {
                            *h = v;
                        }
                    }
                    2 => {
                        let v = rng.u16().to_be_bytes();
                        m.set_field(field::FLAGS, &v);
                    }
                    3 => {
                        let v = pick(rng, &[0u16, 1, 0x7fff, 0x8000, 0xffff], 0xffff).to_be_bytes();
                        m.set_field(field::SECS, &v);
                    }
                    4 => {
                        let fields = [field::CIADDR, field::YIADDR, field::SIADDR, field::GIADDR];
                        let r = fields.get(rng.below(4)).cloned().unwrap_or(field::CIADDR);
                        let a = safe_addr(rng);
                        m.set_field(r, &a);
                    }
                    5 => {
                        let v = rng.bytes(4);
                        m.set_field(field::XID, &v);
                    }
                    6 => {
                        let v = printable(rng, 64);
                        m.set_field(field::SNAME, &v);
                    }
                    7 => {
                        let v = printable(rng, 128);
                        m.set_field(field::FILE, &v);
                    }
                    _ => {
                        let v = rng.bytes(16);
                        m.set_field(field::CHADDR, &v);
                    }
                }
            }
        }
        _ => return byte_flip(payload, rng),
    }
    m.emit()
}

fn option_length_past_end(mut m: Msg, rng: &mut Rng) -> Vec<u8> {
    let (c, d) = if !m.opts.is_empty() && rng.one_in(2) {
        let i = rng.below(m.opts.len());
        m.opts.remove(i)
    } else {
        let c = pick(rng, INTERESTING, code::HOST_NAME);
        let n = rng.below(16);
        (c, printable(rng, n))
    };
    m.end = false;
    m.garbage.clear();
    m.min_len = 0;
    let mut out = m.emit();
    out.push(c);
    // Octets really there after the length byte; the length claims more.
    let there = match rng.below(3) {
        // The datagram still reaches 300 octets.
        0 => MIN_LEN.saturating_sub(out.len() + 1).min(254),
        1 => d.len().min(254),
        _ => rng.below(255),
    };
    let claimed = match rng.below(3) {
        0 => there + 1,
        1 => 255,
        _ => rng.range(there + 1, 255),
    };
    out.push(claimed.min(255) as u8);
    let mut data = d;
    data.resize(there, b'A');
    out.extend(data);
    out.truncate(MAX_UDP_PAYLOAD);
    out
}

fn conflicting(m: &mut Msg, rng: &mut Rng) {
    let (c, values): (u8, Vec<Vec<u8>>) = match rng.below(6) {
        0 => (code::MESSAGE_TYPE, (0u8..=18).chain([255]).map(|v| vec![v]).collect()),
        1 => (code::REQUESTED_IP, (0..4).map(|_| safe_addr(rng).to_vec()).collect()),
        2 => (
            code::MAX_MESSAGE_SIZE,
            [0u16, 1, 2, 300, 575, 576, 1500, 65535]
                .iter()
                .map(|v| v.to_be_bytes().to_vec())
                .chain([vec![1]])
                .collect(),
        ),
        3 => (code::OVERLOAD, [0u8, 1, 2, 3, 4, 255].iter().map(|v| vec![*v]).collect()),
        4 => (
            code::CLIENT_ID,
            vec![vec![1, 2, 0, 0, 0, 0xbe, 0x02], vec![0], vec![1], (0..16).map(|_| rng.byte()).collect()],
        ),
        _ => (code::SERVER_ID, (0..4).map(|_| safe_addr(rng).to_vec()).collect()),
    };
    let first = m.opts.iter().find(|(x, _)| *x == c).map(|(_, d)| d.clone());
    let first = match first {
        Some(d) => d,
        None => {
            let d = values.get(rng.below(values.len())).cloned().unwrap_or_default();
            m.insert_at_random(rng, c, d.clone());
            d
        }
    };
    let others: Vec<&Vec<u8>> = values.iter().filter(|v| **v != first).collect();
    let second = others.get(rng.below(others.len())).map(|v| (*v).clone()).unwrap_or_else(|| vec![rng.byte()]);
    m.insert_at_random(rng, c, second);
}

fn split(m: &mut Msg, rng: &mut Rng) {
    let long_codes = [43u8, 60, 61, 12, 55, 77, 82, 119, 121, 125];
    let (c, mut d) = match m.opts.iter().filter(|(_, d)| !d.is_empty()).nth(rng.below(m.opts.len().max(1))) {
        Some(o) if rng.one_in(2) => o.clone(),
        _ => (pick(rng, &long_codes, 43), Vec::new()),
    };
    if d.len() < 256 || rng.one_in(2) {
        let n = rng.range(256, 700).min(MAX_UDP_PAYLOAD.saturating_sub(m.size() + 16));
        let more = n.saturating_sub(d.len());
        d.extend(printable(rng, more));
    }
    m.remove(c);
    // Fragments of random sizes, some empty.
    let mut frags = Vec::new();
    let mut rest = d.as_slice();
    while !rest.is_empty() {
        if rng.one_in(6) {
            frags.push(Vec::new());
        }
        let n = rng.range(1, 255).min(rest.len());
        let (a, b) = rest.split_at(n);
        frags.push(a.to_vec());
        rest = b;
    }
    let into_file = rng.one_in(3);
    let at = rng.below(m.opts.len() + 1);
    let mut file = Vec::new();
    for (i, f) in frags.into_iter().enumerate() {
        if into_file && i % 2 == 1 && file.len() + 2 + f.len() < 127 {
            push_option(&mut file, c, &f);
        } else if rng.one_in(3) {
            m.insert_at_random(rng, c, f);
        } else {
            m.opts.insert((at + i).min(m.opts.len()), (c, f));
        }
    }
    if into_file {
        file.push(END);
        m.set_field(field::FILE, &file);
        m.remove(code::OVERLOAD);
        m.insert_at_random(rng, code::OVERLOAD, vec![1]);
    }
}

// ---- generic ----

fn boundaries(proto: Proto, body: &[u8]) -> Vec<usize> {
    let mut b: Vec<usize> = match proto {
        Proto::Bootp => {
            let mut v = vec![0, 1, 2, 3, 4, 8, 10, 12, 16, 20, 24, 28, 44, 108, 236, 240, 300];
            // Option starts.
            let mut i = 240;
            while let Some(&c) = body.get(i) {
                v.push(i);
                if c == END {
                    break;
                }
                i += if c == PAD { 1 } else { 2 + usize::from(body.get(i + 1).copied().unwrap_or(0)) };
            }
            v
        }
        Proto::Tftp => {
            let mut v = vec![0, 1, 2];
            v.extend(body.iter().enumerate().filter(|(_, c)| **c == 0).map(|(i, _)| i));
            v
        }
        Proto::Rarp => vec![0, 2, 4, 5, 6, 8, 14, 18, 24, 28],
    };
    b.retain(|x| *x <= body.len());
    b
}

fn truncate(proto: Proto, body: &[u8], rng: &mut Rng) -> Vec<u8> {
    let b = boundaries(proto, body);
    let at = pick(rng, &b, body.len() / 2);
    let at = match rng.below(3) {
        0 => at.saturating_sub(1),
        1 => at + 1,
        _ => at,
    };
    body.get(..at.min(body.len())).unwrap_or(body).to_vec()
}

fn byte_flip(body: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = body.to_vec();
    if b.is_empty() {
        let n = rng.range(1, 8);
        return rng.bytes(n);
    }
    for _ in 0..rng.range(1, 8) {
        let i = rng.below(b.len());
        let v = match rng.below(4) {
            0 => b.get(i).copied().unwrap_or(0) ^ (1 << rng.below(8)),
            1 => pick(rng, &[0u8, 1, 0x7f, 0x80, 0xff], 0xff),
            _ => rng.byte(),
        };
        if let Some(x) = b.get_mut(i) {
            *x = v;
        }
    }
    b
}

fn lie(class: MutationClass, seed: &Packet, rng: &mut Rng) -> Packet {
    let Packet::Udp { ep, payload, lies } = seed else { return seed.clone() };
    let honest_ip = (20 + 8 + payload.len()) as u16;
    let honest_udp = (8 + payload.len()) as u16;
    let mut l: Lies = *lies;
    match class {
        MutationClass::LyingIpLength => {
            l.ip_total_len = Some(match rng.below(8) {
                0 => 0,
                1 => pick(rng, &[1, 19, 20, 27, 28], 20),
                2 => honest_ip.saturating_sub(1),
                3 => honest_ip.saturating_add(1),
                4 => honest_ip.saturating_add(rng.range(2, 1000) as u16),
                5 => 65535,
                6 => rng.range(28, usize::from(honest_ip).max(29)) as u16,
                _ => rng.u16(),
            });
        }
        MutationClass::LyingUdpLength => {
            l.udp_len = Some(match rng.below(7) {
                0 => 0,
                1 => pick(rng, &[1, 7, 8, 9], 7),
                2 => honest_udp.saturating_sub(1),
                3 => honest_udp.saturating_add(1),
                4 => 65535,
                5 => rng.range(8, usize::from(honest_udp).max(9)) as u16,
                _ => rng.u16(),
            });
            // Checksum 0 (none), so a socket-based server's kernel passes it on.
            if !rng.one_in(3) {
                l.udp_checksum = Some(0);
            }
        }
        _ => {
            l.ihl = Some(pick(rng, &[0, 1, 4, 6, 7, 8, 15], 6));
            if rng.one_in(2) {
                l.ip_total_len = Some(honest_ip.saturating_add(4 * rng.below(11) as u16));
            }
        }
    }
    Packet::Udp { ep: *ep, payload: payload.clone(), lies: l }
}

// ---- TFTP ----

fn tftp_oversized(body: &[u8], rng: &mut Rng) -> Vec<u8> {
    let target = pick(rng, &[516, 1024, 1400, MAX_UDP_PAYLOAD], 1024);
    let mut b = body.to_vec();
    while b.len() < target {
        if rng.one_in(2) {
            b.extend(b"blksize\x001428\x00");
        } else {
            let n = rng.range(1, 40);
            b.extend(printable(rng, n));
            b.push(0);
        }
    }
    b.truncate(target);
    b
}

fn tftp_malformed(body: &[u8], rng: &mut Rng) -> Vec<u8> {
    let opcode = body.get(..2).map_or([0, 1], |o| [o[0], o[1]]);
    let fields: Vec<Vec<u8>> = body.get(2..).unwrap_or(&[]).split(|c| *c == 0).map(<[u8]>::to_vec).collect();
    let mut fields: Vec<Vec<u8>> =
        if fields.last().is_some_and(Vec::is_empty) { fields[..fields.len() - 1].to_vec() } else { fields };
    if fields.is_empty() {
        fields = vec![b"pxelinux.0".to_vec(), b"octet".to_vec()];
    }
    let join = |op: [u8; 2], f: &[Vec<u8>], terminate: bool| {
        let mut out = op.to_vec();
        for (i, x) in f.iter().enumerate() {
            out.extend(x);
            if terminate || i + 1 < f.len() {
                out.push(0);
            }
        }
        out
    };
    let names: &[&[u8]] = &[b"blksize", b"tsize", b"timeout", b"windowsize", b"utimeout", b"rollover", b"multicast"];
    let values: &[&[u8]] = &[
        b"0",
        b"1",
        b"7",
        b"8",
        b"65464",
        b"65465",
        b"65536",
        b"-1",
        b"4294967296",
        b"18446744073709551616",
        b"abc",
        b"",
        b"1e3",
    ];
    let mut out = match rng.below(10) {
        0 => join(opcode, &fields, false),
        1 => {
            let mut o = opcode.to_vec();
            for f in &fields {
                o.extend(f);
            }
            o
        }
        2 => {
            let n = pick(rng, &[100, 255, 256, 512, 1000, 1400], 512);
            let name = match rng.below(3) {
                0 => vec![b'A'; n],
                1 => b"../".iter().copied().cycle().take(n).collect(),
                _ => b"%s%n%x".iter().copied().cycle().take(n).collect(),
            };
            if let Some(f) = fields.first_mut() {
                *f = name;
            }
            join(opcode, &fields, true)
        }
        3 => {
            let mode: Vec<u8> = match rng.below(6) {
                0 => Vec::new(),
                1 => b"NETASCII".to_vec(),
                2 => b"mail".to_vec(),
                3 => b"binary".to_vec(),
                4 => vec![b'o'; 300],
                _ => printable(rng, 12),
            };
            if fields.len() < 2 {
                fields.push(mode);
            } else if let Some(f) = fields.get_mut(1) {
                *f = mode;
            }
            join(opcode, &fields, true)
        }
        4 => {
            fields.push(pick(rng, names, b"blksize").to_vec());
            join(opcode, &fields, rng.one_in(2))
        }
        5 => {
            for _ in 0..rng.range(1, 3) {
                fields.push(pick(rng, names, b"blksize").to_vec());
                fields.push(pick(rng, values, b"0").to_vec());
            }
            join(opcode, &fields, true)
        }
        6 => {
            let name = pick(rng, names, b"blksize").to_vec();
            for _ in 0..rng.range(2, 50) {
                fields.push(name.clone());
                fields.push(pick(rng, values, b"512").to_vec());
            }
            join(opcode, &fields, true)
        }
        7 => {
            let op = pick(rng, &[0u16, 2, 3, 4, 5, 6, 7, 8, 255, 0xffff], 0);
            join(op.to_be_bytes(), &fields, true)
        }
        8 => {
            let op = rng.range(1, 6) as u16;
            let mut o = op.to_be_bytes().to_vec();
            let n = rng.below(4);
            o.extend(rng.bytes(n));
            o
        }
        _ => {
            while fields.iter().map(|f| f.len() + 1).sum::<usize>() < 1200 {
                let n = rng.range(1, 30);
                fields.push(printable(rng, n));
            }
            join(opcode, &fields, true)
        }
    };
    out.truncate(MAX_UDP_PAYLOAD);
    out
}

// ---- RARP ----

fn rarp_malformed(body: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = body.to_vec();
    if b.len() < 28 {
        b.resize(28, 0);
    }
    let put = |b: &mut Vec<u8>, at: usize, v: &[u8]| {
        if let Some(dst) = b.get_mut(at..at + v.len()) {
            dst.copy_from_slice(v);
        }
    };
    for _ in 0..rng.range(1, 2) {
        match rng.below(7) {
            0 => {
                let v = pick(rng, &[0u8, 1, 5, 7, 8, 16, 255], 7);
                put(&mut b, 4, &[v]);
            }
            1 => {
                let v = pick(rng, &[0u8, 1, 3, 5, 6, 16, 255], 5);
                put(&mut b, 5, &[v]);
            }
            2 => {
                let v = pick(rng, &[0u16, 1, 2, 3, 4, 5, 8, 9, 255, 0xffff], 0);
                put(&mut b, 6, &v.to_be_bytes());
            }
            3 => {
                let v = pick(rng, &[0u16, 2, 6, 0xffff], 0);
                put(&mut b, 0, &v.to_be_bytes());
            }
            4 => {
                let v = pick(rng, &[0u16, 0x86dd, 0x0806, 0xffff], 0);
                put(&mut b, 2, &v.to_be_bytes());
            }
            5 => {
                let mac: [u8; 6] = match rng.below(3) {
                    0 => [0xff; 6],
                    1 => [0; 6],
                    _ => [0x02, 0, 0, rng.byte(), rng.byte(), rng.byte()],
                };
                put(&mut b, 18, &mac);
            }
            _ => {
                if rng.one_in(2) {
                    b.truncate(rng.below(28));
                } else {
                    let n = rng.range(1, 1400);
                    b.extend(rng.bytes(n));
                }
            }
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use bootcheck_wire::frame::{build_ethernet, UdpEndpoints, ETHERTYPE_RARP};

    fn bootp_seed(options: &[u8]) -> Packet {
        let mut p = vec![0u8; 240];
        p[0] = 1;
        p[1] = 1;
        p[2] = 6;
        p[28..34].copy_from_slice(&[2, 0, 0, 0, 0xbe, 1]);
        p[236..240].copy_from_slice(&MAGIC_COOKIE);
        p.extend(options);
        p.push(255);
        p.resize(300, 0);
        Packet::Udp {
            ep: UdpEndpoints {
                src_mac: [2, 0, 0, 0, 0xbe, 1],
                dst_mac: [0xff; 6],
                src_ip: Ipv4Addr::UNSPECIFIED,
                dst_ip: Ipv4Addr::BROADCAST,
                src_port: 68,
                dst_port: 67,
                ttl: 64,
            },
            payload: p,
            lies: Lies::default(),
        }
    }

    fn corpus() -> Corpus {
        let mut c = Corpus::new();
        assert!(c.add_frame(&bootp_seed(&[53, 1, 1, 55, 2, 1, 3]).to_frame(), "dhcp"));
        assert!(c.add_frame(&bootp_seed(&[]).to_frame(), "bootp"));
        assert!(!c.add_frame(&bootp_seed(&[]).to_frame(), "again"));
        let tftp = Packet::Udp {
            ep: UdpEndpoints {
                src_mac: [2, 0, 0, 0, 0xbe, 1],
                dst_mac: [2, 0, 0, 0, 0x5e, 1],
                src_ip: Ipv4Addr::new(192, 0, 2, 21),
                dst_ip: Ipv4Addr::new(192, 0, 2, 1),
                src_port: 40000,
                dst_port: 69,
                ttl: 64,
            },
            payload: b"\x00\x01pxelinux.0\x00octet\x00blksize\x001428\x00".to_vec(),
            lies: Lies::default(),
        };
        assert!(c.add_frame(&tftp.to_frame(), "tftp"));
        let mut rarp = vec![0, 1, 8, 0, 6, 4, 0, 3];
        rarp.extend([2, 0, 0, 0, 0xbe, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0xbe, 1, 0, 0, 0, 0]);
        assert!(c.add_frame(&build_ethernet([2, 0, 0, 0, 0xbe, 1], [0xff; 6], ETHERTYPE_RARP, &rarp), "rarp"));
        c
    }

    #[test]
    fn cases_are_reproducible_from_seed_and_index() {
        let m = Mutator::new(corpus(), 42).unwrap_or_else(|e| panic!("{e}"));
        for i in 0..200 {
            assert_eq!(m.case(i), m.case(i));
        }
        let other = Mutator::new(corpus(), 43).unwrap_or_else(|e| panic!("{e}"));
        assert!((0..50).any(|i| m.case(i) != other.case(i)));
    }

    #[test]
    fn every_class_makes_safe_frames_that_fit_the_link() {
        let c = corpus();
        for class in MutationClass::ALL {
            for (si, s) in c.seeds().iter().enumerate() {
                if !class.applies(s.proto, matches!(s.packet, Packet::Udp { .. })) {
                    continue;
                }
                for i in 0..300 {
                    let mut rng = Rng::for_case(si as u64, i);
                    let p = apply(class, s.proto, &s.packet, &mut rng);
                    let f = p.to_frame();
                    assert!(f.len() <= crate::packet::MAX_FRAME, "{class} {}", f.len());
                    assert!(p.is_safe(), "{class}");
                    // The destination never changes.
                    assert_eq!(f.get(..6), s.packet.to_frame().get(..6), "{class}");
                    if let Packet::Udp { ep, .. } = &p {
                        let Packet::Udp { ep: e0, .. } = &s.packet else { panic!("kind changed") };
                        assert_eq!(ep, e0, "{class}");
                    }
                }
            }
        }
    }

    #[test]
    fn classes_do_what_they_say() {
        let seed = bootp_seed(&[53, 1, 1, 55, 2, 1, 3]);
        let body = |class, i| {
            let mut rng = Rng::for_case(9, i);
            apply(class, Proto::Bootp, &seed, &mut rng).body().to_vec()
        };
        for i in 0..100 {
            let b = body(MutationClass::HlenOverflow, i);
            assert!(b[2] > 16 || b[2] == 16);
            let b = body(MutationClass::HopsOverflow, i);
            assert!(b[3] >= 16);
            let b = body(MutationClass::BadCookie, i);
            assert_ne!(b.get(236..240), Some(&MAGIC_COOKIE[..]));
            let b = body(MutationClass::OverloadLoop, i);
            assert!(bootp::Packet::new_unchecked(&b[..]).find(code::OVERLOAD).is_some());
            let b = body(MutationClass::ConflictingOptions, i);
            let codes: Vec<u8> = Msg::parse(&b).opts.iter().map(|o| o.0).collect();
            assert!(codes.iter().any(|c| codes.iter().filter(|x| *x == c).count() > 1), "{codes:?}");
        }
        // An option length past the end: the last option's length overruns.
        for i in 0..100 {
            let b = body(MutationClass::OptionLengthPastEnd, i);
            let m = Msg::parse(&b);
            assert!(!m.garbage.is_empty() && !m.end, "{i}");
        }
        // Overload-loop and friends parse without trouble in the wire crate.
        for class in MutationClass::ALL {
            for i in 0..50 {
                let b = body(class, i);
                let p = bootp::Packet::new_unchecked(&b[..]);
                let _ = p.options().count();
                let _ = p.findings();
            }
        }
    }

    #[test]
    fn empty_corpus_is_an_error() {
        assert!(Mutator::new(Corpus::new(), 1).is_err());
    }
}
