//! A streaming reader of pcap and pcapng files that survives damage.
//!
//! [`Reader`] reads through a fixed-size window over any [`Read`] (memory stays flat
//! however large the file), and yields [`Event`]s: a [`Record`] per captured packet, or
//! an [`Issue`] when something in the file is wrong — a record header that cannot be
//! true, a file cut in the middle of a record, an interface with a link type nobody
//! can decode, a packet cut by the snapshot length. After an issue the reader looks for
//! the next plausible record (pcap) or block (pcapng) and goes on, so one damaged
//! record does not hide the rest of a capture.
//!
//! The format logic is in pure functions over byte slices ([`pcap_record_header`],
//! [`pcapng_block_header`], …); [`Reader`] only moves the window.
//!
//! Formats: pcap (microsecond and nanosecond magic, either byte order), pcapng (any
//! number of sections, either byte order, any number of interfaces with their own link
//! types and timestamp resolutions; Enhanced, Simple and obsolete Packet blocks).

use std::fmt;
use std::io::Read;
use std::time::Duration;

use bootcheck_wire::frame::LinkType;

/// A record larger than this is taken for damage (libpcap's own limit for most link
/// types is 262144).
pub const MAX_RECORD: usize = 262_144;
/// How far the reader looks for the next plausible record after damage.
pub const RESYNC_WINDOW: usize = 4 << 20;
const WINDOW: usize = 64 << 10;

const PCAP_MAGIC_US: u32 = 0xa1b2_c3d4;
const PCAP_MAGIC_NS: u32 = 0xa1b2_3c4d;
const PCAP_MAGIC_MODIFIED: u32 = 0xa1b2_cd34;
const NG_SHB: u32 = 0x0a0d_0d0a;
const NG_BYTE_ORDER: u32 = 0x1a2b_3c4d;
const NG_IDB: u32 = 1;
const NG_PB: u32 = 2;
const NG_SPB: u32 = 3;
const NG_EPB: u32 = 6;

/// One captured packet.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// 1-based packet number, as Wireshark counts.
    pub number: u64,
    /// Byte offset of the record (pcap record header or pcapng block) in the file.
    pub offset: u64,
    /// Capture time since the Unix epoch (as recorded, any timezone).
    pub time: Duration,
    /// pcapng interface id (0 for pcap).
    pub interface: u32,
    pub link: LinkType,
    /// Length of the packet on the wire.
    pub orig_len: u32,
    /// The captured octets (fewer than `orig_len` when the snapshot length cut it).
    pub data: &'a [u8],
}

impl Record<'_> {
    /// Whether the capture kept fewer octets than were on the wire.
    pub fn is_cut(&self) -> bool {
        (self.data.len() as u64) < u64::from(self.orig_len)
    }
}

/// What is wrong in a capture file, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// The packet the issue is about (or the next packet number, for damage between
    /// records).
    pub packet: u64,
    /// Byte offset in the file.
    pub offset: u64,
    pub kind: IssueKind,
}

/// The kinds of [`Issue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueKind {
    /// A record header that cannot be true; the reader skipped `skipped` octets to the
    /// next plausible record (`None`: none found, the rest of the file was not read).
    BadRecord { why: String, skipped: Option<u64> },
    /// The file ends inside a record or block.
    Truncated { need: u64, have: u64 },
    /// An interface whose link type bootcheck cannot decode; its packets are counted
    /// and skipped.
    UnknownLinkType { interface: u32, link: u32 },
    /// A packet referring to an interface no Interface Description Block declared.
    UnknownInterface { interface: u32 },
    /// The packet was cut by the snapshot length: `captured` of `orig` octets.
    Cut { captured: u32, orig: u32 },
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "packet {} (byte {}): ", self.packet, self.offset)?;
        match &self.kind {
            IssueKind::BadRecord { why, skipped: Some(n) } => {
                write!(f, "{why}; skipped {n} octets to the next plausible record")
            }
            IssueKind::BadRecord { why, skipped: None } => {
                write!(f, "{why}; no plausible record follows, the rest of the file was not read")
            }
            IssueKind::Truncated { need, have } => write!(
                f,
                "the file ends inside a record ({have} of {need} octets present): an interrupted capture or a cut download"
            ),
            IssueKind::UnknownLinkType { interface, link } => write!(
                f,
                "interface {interface} has link type {link}, which bootcheck does not decode (Ethernet 1, raw IP 101, IPv4 228, Linux SLL 113, SLL2 276); its packets are skipped"
            ),
            IssueKind::UnknownInterface { interface } => {
                write!(f, "the packet names interface {interface}, which no Interface Description Block declared")
            }
            IssueKind::Cut { captured, orig } => write!(
                f,
                "cut by the snapshot length: {captured} of {orig} octets captured; not checked (capture with a larger -s)"
            ),
        }
    }
}

/// Why a file cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a pcap or pcapng file: it starts with {0}; expected the pcap magic a1b2c3d4/a1b23c4d or a pcapng Section Header Block (0a0d0d0a)")]
    NotACapture(String),
    #[error("the file is shorter than a capture file header ({0} octets)")]
    TooShort(usize),
    #[error("a modified (Kuznetzov) pcap: convert it with `editcap -F pcap IN OUT` first")]
    ModifiedPcap,
}

/// What the reader yields.
#[derive(Debug)]
pub enum Event<'a> {
    Packet(Record<'a>),
    Issue(Issue),
}

/// The file format, as detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pcap { big_endian: bool, nanos: bool, link: LinkType, snaplen: u32 },
    PcapNg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Endian {
    big: bool,
}

impl Endian {
    fn u16(self, b: &[u8], at: usize) -> Option<u16> {
        let a: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
        Some(if self.big { u16::from_be_bytes(a) } else { u16::from_le_bytes(a) })
    }
    fn u32(self, b: &[u8], at: usize) -> Option<u32> {
        let a: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big { u32::from_be_bytes(a) } else { u32::from_le_bytes(a) })
    }
}

/// The 16-octet pcap record header: (seconds, fraction, captured length, wire length).
pub fn pcap_record_header(b: &[u8], big_endian: bool) -> Option<(u32, u32, u32, u32)> {
    let e = Endian { big: big_endian };
    Some((e.u32(b, 0)?, e.u32(b, 4)?, e.u32(b, 8)?, e.u32(b, 12)?))
}

/// Whether a pcap record header is plausible: lengths within bounds, not more octets
/// captured than the snapshot length allows (with slack for writers that ignore it).
pub fn pcap_header_plausible(h: (u32, u32, u32, u32), nanos: bool, snaplen: u32) -> Result<(), String> {
    let (_, frac, incl, orig) = h;
    let max = (snaplen as usize).clamp(65_535, MAX_RECORD);
    if incl as usize > max {
        return Err(format!("record claims {incl} captured octets (more than the {max} a record can hold)"));
    }
    if orig as usize > MAX_RECORD.max(incl as usize) * 4 {
        return Err(format!("record claims a {orig}-octet packet"));
    }
    if frac >= if nanos { 1_000_000_000 } else { 1_000_000 } {
        return Err(format!("record timestamp fraction {frac} is out of range"));
    }
    Ok(())
}

/// A pcapng block header: (type, total length).
pub fn pcapng_block_header(b: &[u8], big_endian: bool) -> Option<(u32, u32)> {
    let e = Endian { big: big_endian };
    Some((e.u32(b, 0)?, e.u32(b, 4)?))
}

#[derive(Debug, Clone, Copy)]
struct Iface {
    link: LinkType,
    /// Timestamp units per second.
    units: u64,
    /// if_tsoffset, seconds.
    offset: i64,
    snaplen: u32,
}

/// Timestamp units per second from an `if_tsresol` value.
fn tsresol(v: u8) -> u64 {
    let n = u32::from(v & 0x7f);
    if v & 0x80 != 0 {
        2u64.checked_pow(n).unwrap_or(1_000_000)
    } else {
        10u64.checked_pow(n).unwrap_or(1_000_000)
    }
}

fn units_to_duration(ts: u64, units: u64, offset: i64) -> Duration {
    let units = units.max(1);
    let secs = ts / units;
    let rem = ts % units;
    let nanos = (u128::from(rem) * 1_000_000_000 / u128::from(units)) as u32;
    let secs = secs.saturating_add_signed(offset);
    Duration::new(secs, nanos)
}

/// The streaming reader.
#[derive(Debug)]
pub struct Reader<R> {
    src: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// File offset of `buf[start]`.
    pos: u64,
    format: Format,
    endian: Endian,
    ifaces: Vec<Iface>,
    reported_links: Vec<u32>,
    next_number: u64,
    finished: bool,
    /// Issues waiting to be yielded before the next record.
    pending: std::collections::VecDeque<Issue>,
    last_time: Option<Duration>,
    skipped: u64,
}

impl<R: Read> Reader<R> {
    /// Read the file header and get ready for the first record.
    pub fn new(src: R) -> Result<Self, OpenError> {
        let mut r = Reader {
            src,
            buf: vec![0; WINDOW],
            start: 0,
            end: 0,
            eof: false,
            pos: 0,
            format: Format::PcapNg,
            endian: Endian { big: false },
            ifaces: Vec::new(),
            reported_links: Vec::new(),
            next_number: 1,
            finished: false,
            pending: Default::default(),
            last_time: None,
            skipped: 0,
        };
        r.fill(24)?;
        let head = &r.buf[r.start..r.end];
        if head.len() < 24 && !(head.len() >= 12 && head.get(..4) == Some(&NG_SHB.to_be_bytes())) {
            return Err(OpenError::TooShort(head.len()));
        }
        let m_le = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let m_be = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        if m_be == NG_SHB {
            r.format = Format::PcapNg;
            // The byte order is set by each Section Header Block as it is read.
            return Ok(r);
        }
        let (big, nanos) = match (m_le, m_be) {
            (PCAP_MAGIC_US, _) => (false, false),
            (PCAP_MAGIC_NS, _) => (false, true),
            (_, PCAP_MAGIC_US) => (true, false),
            (_, PCAP_MAGIC_NS) => (true, true),
            (PCAP_MAGIC_MODIFIED, _) | (_, PCAP_MAGIC_MODIFIED) => return Err(OpenError::ModifiedPcap),
            _ => {
                let hex: String = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
                return Err(OpenError::NotACapture(hex));
            }
        };
        let e = Endian { big };
        let snaplen = e.u32(head, 16).unwrap_or(0);
        let link = e.u32(head, 20).unwrap_or(0) & 0xffff;
        let link = LinkType::from_u32(link);
        r.format = Format::Pcap { big_endian: big, nanos, link, snaplen };
        r.endian = e;
        r.ifaces.push(Iface { link, units: if nanos { 1_000_000_000 } else { 1_000_000 }, offset: 0, snaplen });
        r.consume(24);
        if let LinkType::Other(n) = link {
            r.reported_links.push(0);
            r.pending.push_back(Issue {
                packet: 1,
                offset: 20,
                kind: IssueKind::UnknownLinkType { interface: 0, link: n },
            });
        }
        Ok(r)
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Octets read so far (the file offset of the next record).
    pub fn offset(&self) -> u64 {
        self.pos
    }

    /// Make at least `n` octets available from `start` (fewer only at the end of the file).
    fn fill(&mut self, n: usize) -> std::io::Result<()> {
        if self.end - self.start >= n || self.eof {
            return Ok(());
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end < n && !self.eof {
            if self.end == self.buf.len() {
                // Grow only as data arrives: a small file never costs a big window.
                let grown = (self.buf.len() * 2).max(4096);
                self.buf.resize(grown, 0);
            }
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn avail(&self) -> usize {
        self.end - self.start
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.avail());
        self.start += n;
        self.pos += n as u64;
    }

    /// The next packet or issue; `None` at the end of the file. I/O errors end the read
    /// with an issue.
    pub fn next_event(&mut self) -> Option<Event<'_>> {
        if let Some(i) = self.pending.pop_front() {
            return Some(Event::Issue(i));
        }
        if self.finished {
            return None;
        }
        let step = match self.format {
            Format::Pcap { big_endian, nanos, snaplen, .. } => self.step_pcap(big_endian, nanos, snaplen),
            Format::PcapNg => self.step_pcapng(),
        };
        match step {
            Err(e) => {
                self.finished = true;
                Some(Event::Issue(Issue {
                    packet: self.next_number,
                    offset: self.pos,
                    kind: IssueKind::BadRecord { why: format!("read error: {e}"), skipped: None },
                }))
            }
            Ok(Step::Done) => {
                self.finished = true;
                self.pending.pop_front().map(Event::Issue)
            }
            Ok(Step::Again) => self.next_event(),
            Ok(Step::Packet { at, len, offset, time, iface, orig }) => {
                let link = self.ifaces.get(iface as usize).map_or(LinkType::Other(0), |f| f.link);
                let number = self.next_number - 1;
                let data = &self.buf[at..at + len];
                Some(Event::Packet(Record { number, offset, time, interface: iface, link, orig_len: orig, data }))
            }
        }
    }

    /// Packets skipped because their interface's link type cannot be decoded.
    pub fn skipped_packets(&self) -> u64 {
        self.skipped
    }

    /// The file ends inside the record at `offset`, which needs `need` octets: report
    /// it and stop.
    fn ends_inside(&mut self, need: usize, offset: u64) -> Step {
        let have = self.avail() as u64;
        self.pending.push_back(Issue {
            packet: self.next_number,
            offset,
            kind: IssueKind::Truncated { need: need as u64, have },
        });
        self.consume(self.avail());
        Step::Done
    }

    fn step_pcap(&mut self, big: bool, nanos: bool, snaplen: u32) -> std::io::Result<Step> {
        self.fill(16)?;
        if self.avail() == 0 {
            return Ok(Step::Done);
        }
        let offset = self.pos;
        if self.avail() < 16 {
            return Ok(self.ends_inside(16, offset));
        }
        let h = pcap_record_header(&self.buf[self.start..self.end], big).unwrap_or_default();
        if let Err(why) = pcap_header_plausible(h, nanos, snaplen) {
            self.resync_pcap(big, nanos, snaplen, why)?;
            return Ok(Step::Again);
        }
        let (sec, frac, incl, orig) = h;
        let need = 16 + incl as usize;
        self.fill(need)?;
        if self.avail() < need {
            return Ok(self.ends_inside(need, offset));
        }
        self.next_number += 1;
        let time = Duration::new(u64::from(sec), if nanos { frac } else { frac.saturating_mul(1000) });
        self.last_time = Some(time);
        let at = self.start + 16;
        self.consume(need);
        if let Some(LinkType::Other(_)) = self.ifaces.first().map(|i| i.link) {
            self.skipped += 1;
            return Ok(Step::Again);
        }
        Ok(Step::Packet { at, len: incl as usize, offset, time, iface: 0, orig })
    }

    /// After an implausible record header at `start`: find the next offset whose
    /// header is plausible and whose following header (or the end of the file) is too.
    fn resync_pcap(&mut self, big: bool, nanos: bool, snaplen: u32, why: String) -> std::io::Result<()> {
        let offset = self.pos;
        let number = self.next_number;
        self.fill(RESYNC_WINDOW)?;
        let window = &self.buf[self.start..self.end];
        let plausible_at = |at: usize| -> bool {
            let Some(h) = window.get(at..).and_then(|w| pcap_record_header(w, big)) else { return false };
            if pcap_header_plausible(h, nanos, snaplen).is_err() || h.2 > h.3.max(1) || h.2 == 0 {
                return false;
            }
            if let Some(last) = self.last_time {
                let t = u64::from(h.0);
                if t + 86_400 < last.as_secs() || t > last.as_secs() + 86_400 {
                    return false;
                }
            }
            let next = at + 16 + h.2 as usize;
            if next == window.len() && self.eof {
                return true;
            }
            match window.get(next..).and_then(|w| pcap_record_header(w, big)) {
                Some(n) => pcap_header_plausible(n, nanos, snaplen).is_ok() && n.2 <= n.3.max(1),
                None => self.eof && next <= window.len(),
            }
        };
        let found = (1..window.len().saturating_sub(15)).find(|&at| plausible_at(at));
        self.skip_to(found, number, offset, why);
        Ok(())
    }

    /// Report the damage at `offset` and skip to `found` (octets from the window's
    /// start), or, with nothing plausible ahead, give up on the rest of the file.
    fn skip_to(&mut self, found: Option<usize>, number: u64, offset: u64, why: String) {
        let skipped = found.map(|at| at as u64);
        self.pending.push_back(Issue { packet: number, offset, kind: IssueKind::BadRecord { why, skipped } });
        match found {
            Some(at) => self.consume(at),
            None => {
                self.finished = true;
                self.consume(self.avail());
            }
        }
    }

    fn step_pcapng(&mut self) -> std::io::Result<Step> {
        self.fill(12)?;
        if self.avail() == 0 {
            return Ok(Step::Done);
        }
        let offset = self.pos;
        if self.avail() < 12 {
            return Ok(self.ends_inside(12, offset));
        }
        let head = &self.buf[self.start..self.end];
        let mut e = self.endian;
        if head.get(..4) == Some(&NG_SHB.to_be_bytes()) {
            // A new section: its byte-order magic sets the byte order.
            let bom = head.get(8..12).map(|b| [b[0], b[1], b[2], b[3]]).unwrap_or_default();
            e = if u32::from_be_bytes(bom) == NG_BYTE_ORDER {
                Endian { big: true }
            } else if u32::from_le_bytes(bom) == NG_BYTE_ORDER {
                Endian { big: false }
            } else {
                let why = "a Section Header Block with a bad byte-order magic".to_string();
                self.resync_pcapng(why)?;
                return Ok(Step::Again);
            };
        }
        let (ty, len) = pcapng_block_header(head, e.big).unwrap_or_default();
        let len = len as usize;
        if len < 12 || len % 4 != 0 || len > MAX_RECORD + 1024 {
            self.resync_pcapng(format!("block of type {ty:#x} claims a total length of {len} octets"))?;
            return Ok(Step::Again);
        }
        self.fill(len)?;
        if self.avail() < len {
            return Ok(self.ends_inside(len, offset));
        }
        let block = &self.buf[self.start..self.start + len];
        if e.u32(block, len - 4) != Some(len as u32) {
            self.resync_pcapng(format!(
                "block of type {ty:#x}: its trailing length {} does not repeat its length {len}",
                e.u32(block, len - 4).unwrap_or(0)
            ))?;
            return Ok(Step::Again);
        }
        let base = self.start;
        match ty {
            NG_SHB => {
                self.endian = e;
                self.ifaces.clear();
                self.reported_links.clear();
                self.consume(len);
                Ok(Step::Again)
            }
            NG_IDB => {
                let link = u32::from(e.u16(block, 8).unwrap_or(0));
                let snaplen = e.u32(block, 12).unwrap_or(0);
                let (units, off) = idb_options(&block[16..len - 4], e);
                let id = self.ifaces.len() as u32;
                self.ifaces.push(Iface { link: LinkType::from_u32(link), units, offset: off, snaplen });
                if let LinkType::Other(n) = LinkType::from_u32(link) {
                    self.reported_links.push(id);
                    self.pending.push_back(Issue {
                        packet: self.next_number,
                        offset,
                        kind: IssueKind::UnknownLinkType { interface: id, link: n },
                    });
                }
                self.consume(len);
                Ok(Step::Again)
            }
            NG_EPB | NG_PB => {
                let (iface, hi, lo, incl, orig) = if ty == NG_EPB {
                    (
                        e.u32(block, 8).unwrap_or(0),
                        e.u32(block, 12).unwrap_or(0),
                        e.u32(block, 16).unwrap_or(0),
                        e.u32(block, 20).unwrap_or(0),
                        e.u32(block, 24).unwrap_or(0),
                    )
                } else {
                    (
                        u32::from(e.u16(block, 8).unwrap_or(0)),
                        e.u32(block, 12).unwrap_or(0),
                        e.u32(block, 16).unwrap_or(0),
                        e.u32(block, 20).unwrap_or(0),
                        e.u32(block, 24).unwrap_or(0),
                    )
                };
                let number = self.next_number;
                if 28 + incl as usize + 4 > len {
                    let why = format!("packet block claims {incl} captured octets in a {len}-octet block");
                    self.next_number += 1;
                    self.pending.push_back(Issue {
                        packet: number,
                        offset,
                        kind: IssueKind::BadRecord { why, skipped: Some(len as u64) },
                    });
                    self.consume(len);
                    return Ok(Step::Again);
                }
                self.next_number += 1;
                self.consume(len);
                self.packet_on(
                    iface,
                    number,
                    offset,
                    base + 28,
                    incl as usize,
                    (u64::from(hi) << 32) | u64::from(lo),
                    orig,
                )
            }
            NG_SPB => {
                let orig = e.u32(block, 8).unwrap_or(0);
                let snap = self.ifaces.first().map_or(0, |i| i.snaplen);
                let room = len - 16;
                let mut incl = (orig as usize).min(room);
                if snap > 0 {
                    incl = incl.min(snap as usize);
                }
                let number = self.next_number;
                self.next_number += 1;
                self.consume(len);
                // No timestamp: the previous packet's time.
                let time = self.last_time.unwrap_or_default();
                self.packet_at(0, number, offset, base + 12, incl, time, orig)
            }
            _ => {
                // Name resolution, statistics, custom, decryption secrets…: not packets.
                self.consume(len);
                Ok(Step::Again)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn packet_on(
        &mut self,
        iface: u32,
        number: u64,
        offset: u64,
        at: usize,
        len: usize,
        ts: u64,
        orig: u32,
    ) -> std::io::Result<Step> {
        let Some(f) = self.ifaces.get(iface as usize).copied() else {
            self.pending.push_back(Issue {
                packet: number,
                offset,
                kind: IssueKind::UnknownInterface { interface: iface },
            });
            return Ok(Step::Again);
        };
        let time = units_to_duration(ts, f.units, f.offset);
        self.last_time = Some(time);
        self.packet_at(iface, number, offset, at, len, time, orig)
    }

    #[allow(clippy::too_many_arguments)]
    fn packet_at(
        &mut self,
        iface: u32,
        number: u64,
        offset: u64,
        at: usize,
        len: usize,
        time: Duration,
        orig: u32,
    ) -> std::io::Result<Step> {
        match self.ifaces.get(iface as usize) {
            None => {
                self.pending.push_back(Issue {
                    packet: number,
                    offset,
                    kind: IssueKind::UnknownInterface { interface: iface },
                });
                Ok(Step::Again)
            }
            Some(f) if matches!(f.link, LinkType::Other(_)) => {
                self.skipped += 1;
                Ok(Step::Again)
            }
            Some(_) => {
                // The block was consumed, but its octets stay in the window until the next
                // fill, which happens only on the next call.
                Ok(Step::Packet { at, len, offset, time, iface, orig })
            }
        }
    }

    /// After a bad block at `start`: find the next Enhanced Packet, Interface
    /// Description or Section Header block whose two length fields agree.
    fn resync_pcapng(&mut self, why: String) -> std::io::Result<()> {
        let offset = self.pos;
        let number = self.next_number;
        self.fill(RESYNC_WINDOW)?;
        let window = &self.buf[self.start..self.end];
        let e = self.endian;
        let ok_at = |at: usize| -> bool {
            let Some((ty, len)) = window.get(at..).and_then(|w| pcapng_block_header(w, e.big)) else { return false };
            let len = len as usize;
            if ![NG_EPB, NG_IDB, NG_SPB].contains(&ty) && ty != NG_SHB {
                return false;
            }
            if len < 12 || len % 4 != 0 || len > MAX_RECORD + 1024 {
                return false;
            }
            window.get(at..).and_then(|w| e.u32(w, len - 4)) == Some(len as u32)
        };
        let found = (4..window.len().saturating_sub(11)).step_by(4).find(|&at| ok_at(at));
        self.skip_to(found, number, offset, why);
        Ok(())
    }
}

#[derive(Debug)]
enum Step {
    Done,
    Again,
    Packet { at: usize, len: usize, offset: u64, time: Duration, iface: u32, orig: u32 },
}

/// `if_tsresol` (9) and `if_tsoffset` (14) from an IDB's options.
fn idb_options(mut opts: &[u8], e: Endian) -> (u64, i64) {
    let mut units = 1_000_000;
    let mut off = 0i64;
    while opts.len() >= 4 {
        let code = e.u16(opts, 0).unwrap_or(0);
        let len = usize::from(e.u16(opts, 2).unwrap_or(0));
        if code == 0 {
            break;
        }
        let Some(v) = opts.get(4..4 + len) else { break };
        match (code, len) {
            (9, 1) => units = tsresol(v[0]),
            (14, 8) => {
                let a: [u8; 8] = v.try_into().unwrap_or_default();
                off = if e.big { i64::from_be_bytes(a) } else { i64::from_le_bytes(a) };
            }
            _ => {}
        }
        opts = opts.get(4 + len.div_ceil(4) * 4..).unwrap_or(&[]);
    }
    (units, off)
}
