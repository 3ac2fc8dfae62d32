//! The BOOTP message (RFC 951 §3), as extended by RFC 1048/1497/2132 vendor options,
//! RFC 1542 (flags), RFC 2131 (DHCP) and RFC 3396 (long options).
//!
//! [`Packet`] is a checked view over the UDP payload; [`Walk`] iterates every option in
//! the order RFC 3396 §7 aggregates them (options field, then `file`, then `sname` when
//! option 52 says so), reporting overload pathologies; [`Repr`] is the owned-structure,
//! borrowed-data value that round-trips to the exact octets.

use core::fmt;
use core::net::Ipv4Addr;
use std::borrow::Cow;

use crate::error::{Area, Error, ErrorKind, Finding, Mode, Severity};
use crate::field as rd;
use crate::options::{self, AreaIter, Item, Located, Overload, RawOption};

/// Field offsets of the fixed header (RFC 951 §3). Note `sname` is 44..108.
pub mod field {
    use core::ops::{Range, RangeFrom};
    pub const OP: usize = 0;
    pub const HTYPE: usize = 1;
    pub const HLEN: usize = 2;
    pub const HOPS: usize = 3;
    pub const XID: Range<usize> = 4..8;
    pub const SECS: Range<usize> = 8..10;
    /// Unused in RFC 951; `flags` since RFC 1542 §2.2.
    pub const FLAGS: Range<usize> = 10..12;
    pub const CIADDR: Range<usize> = 12..16;
    pub const YIADDR: Range<usize> = 16..20;
    pub const SIADDR: Range<usize> = 20..24;
    pub const GIADDR: Range<usize> = 24..28;
    pub const CHADDR: Range<usize> = 28..44;
    pub const SNAME: Range<usize> = 44..108;
    pub const FILE: Range<usize> = 108..236;
    pub const VEND: RangeFrom<usize> = 236..;
    /// The RFC 1048 magic cookie, at the start of the vend field.
    pub const COOKIE: Range<usize> = 236..240;
    /// First option octet after the cookie.
    pub const OPTIONS: RangeFrom<usize> = 240..;
}

/// Length of the fixed header up to (not including) the vend field.
pub const HEADER_LEN: usize = 236;
/// RFC 951's vend field is 64 octets, so a BOOTP message is 300 octets.
pub const RFC951_VEND_LEN: usize = 64;
/// Minimum BOOTP message length (RFC 951 §3; RFC 1542 §2.1).
pub const MIN_LEN: usize = HEADER_LEN + RFC951_VEND_LEN;
/// RFC 1048 magic cookie 99.130.83.99.
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// CMU vendor area magic, `"CMU\0"`.
pub const CMU_MAGIC: [u8; 4] = *b"CMU\0";
/// BROADCAST bit of the flags field (RFC 1542 §2.2).
pub const FLAG_BROADCAST: u16 = 0x8000;
/// UDP port of the server (RFC 951 §3).
pub const SERVER_PORT: u16 = 67;
/// UDP port of the client.
pub const CLIENT_PORT: u16 = 68;

/// `op` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Request,
    Reply,
    Other(u8),
}

impl Op {
    pub const BOOTREQUEST: u8 = 1;
    pub const BOOTREPLY: u8 = 2;
    pub fn from_u8(v: u8) -> Self {
        match v {
            1 => Op::Request,
            2 => Op::Reply,
            n => Op::Other(n),
        }
    }
    pub fn to_u8(self) -> u8 {
        match self {
            Op::Request => 1,
            Op::Reply => 2,
            Op::Other(n) => n,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Request => f.write_str("BOOTREQUEST"),
            Op::Reply => f.write_str("BOOTREPLY"),
            Op::Other(n) => write!(f, "op={n}"),
        }
    }
}

/// What the vend field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VendKind {
    /// No vend octets at all (a 236-octet message).
    Empty,
    /// RFC 1048 magic cookie followed by TLV options.
    Rfc1048,
    /// The CMU vendor area (`"CMU\0"` + fixed fields).
    Cmu,
    /// Anything else: uninterpreted octets, as in pure RFC 951.
    Raw,
}

/// Names the header field that contains octet `at`, for truncation messages.
pub fn field_name_at(at: usize) -> &'static str {
    match at {
        0 => "op",
        1 => "htype",
        2 => "hlen",
        3 => "hops",
        4..=7 => "xid",
        8..=9 => "secs",
        10..=11 => "flags",
        12..=15 => "ciaddr",
        16..=19 => "yiaddr",
        20..=23 => "siaddr",
        24..=27 => "giaddr",
        28..=43 => "chaddr",
        44..=107 => "sname",
        108..=235 => "file",
        236..=239 => "magic cookie",
        _ => "vend",
    }
}

/// A read-only (or read-write, for `T: AsMut<[u8]>`) view of a BOOTP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap without checking. Accessors of a too-short buffer return zeros/empties.
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wrap, checking the buffer holds the whole fixed header (236 octets).
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let p = Packet { buffer };
        p.check_len()?;
        Ok(p)
    }

    /// Error if the fixed header is cut short, naming the field it is cut in.
    pub fn check_len(&self) -> Result<(), Error> {
        let have = self.buffer.as_ref().len();
        if have < HEADER_LEN {
            return Err(Error::new(have, ErrorKind::Truncated { what: field_name_at(have), need: HEADER_LEN, have }));
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// All octets of the message.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn op(&self) -> Op {
        Op::from_u8(rd::u8_at(self.b(), field::OP).unwrap_or(0))
    }
    pub fn htype(&self) -> u8 {
        rd::u8_at(self.b(), field::HTYPE).unwrap_or(0)
    }
    pub fn hlen(&self) -> u8 {
        rd::u8_at(self.b(), field::HLEN).unwrap_or(0)
    }
    pub fn hops(&self) -> u8 {
        rd::u8_at(self.b(), field::HOPS).unwrap_or(0)
    }
    pub fn xid(&self) -> u32 {
        rd::u32_at(self.b(), field::XID.start).unwrap_or(0)
    }
    pub fn secs(&self) -> u16 {
        rd::u16_at(self.b(), field::SECS.start).unwrap_or(0)
    }
    pub fn flags(&self) -> u16 {
        rd::u16_at(self.b(), field::FLAGS.start).unwrap_or(0)
    }
    pub fn broadcast(&self) -> bool {
        self.flags() & FLAG_BROADCAST != 0
    }
    pub fn ciaddr(&self) -> Ipv4Addr {
        rd::ipv4_at(self.b(), field::CIADDR.start).unwrap_or(Ipv4Addr::UNSPECIFIED)
    }
    pub fn yiaddr(&self) -> Ipv4Addr {
        rd::ipv4_at(self.b(), field::YIADDR.start).unwrap_or(Ipv4Addr::UNSPECIFIED)
    }
    pub fn siaddr(&self) -> Ipv4Addr {
        rd::ipv4_at(self.b(), field::SIADDR.start).unwrap_or(Ipv4Addr::UNSPECIFIED)
    }
    pub fn giaddr(&self) -> Ipv4Addr {
        rd::ipv4_at(self.b(), field::GIADDR.start).unwrap_or(Ipv4Addr::UNSPECIFIED)
    }
    /// The whole 16-octet chaddr field.
    pub fn chaddr_field(&self) -> &[u8] {
        self.b().get(field::CHADDR).unwrap_or(&[])
    }
    /// The client hardware address: the first `hlen` octets of chaddr (at most 16).
    pub fn chaddr(&self) -> &[u8] {
        let f = self.chaddr_field();
        f.get(..usize::from(self.hlen()).min(f.len())).unwrap_or(f)
    }
    /// The whole 64-octet sname field.
    pub fn sname_field(&self) -> &[u8] {
        self.b().get(field::SNAME).unwrap_or(&[])
    }
    /// The whole 128-octet file field.
    pub fn file_field(&self) -> &[u8] {
        self.b().get(field::FILE).unwrap_or(&[])
    }
    /// sname up to its first NUL (the whole field if there is none).
    pub fn sname(&self) -> &[u8] {
        until_nul(self.sname_field())
    }
    /// file up to its first NUL.
    pub fn file(&self) -> &[u8] {
        until_nul(self.file_field())
    }
    /// The vend field: everything after the fixed header.
    pub fn vend(&self) -> &[u8] {
        self.b().get(field::VEND).unwrap_or(&[])
    }
    /// What the vend field holds.
    pub fn vend_kind(&self) -> VendKind {
        let v = self.vend();
        match v.get(..4) {
            _ if v.is_empty() => VendKind::Empty,
            Some(m) if m == MAGIC_COOKIE => VendKind::Rfc1048,
            Some(m) if m == CMU_MAGIC => VendKind::Cmu,
            _ => VendKind::Raw,
        }
    }
    /// Whether the message carries a DHCP message type (option 53).
    pub fn message_type(&self) -> Option<options::MessageType> {
        self.find(options::code::MESSAGE_TYPE)
            .and_then(|o| o.option.data.first().copied())
            .map(options::MessageType::from_u8)
    }

    /// Walk every option in RFC 3396 aggregate order; see [`Walk`]. Yields nothing if
    /// the vend field has no RFC 1048 cookie.
    pub fn walk(&self) -> Walk<'_> {
        Walk::new(self.b())
    }

    /// Every option instance (lenient: problems are skipped, see [`Self::findings`]).
    pub fn options(&self) -> impl Iterator<Item = Located<'_>> + '_ {
        self.walk().filter_map(|r| match r {
            Ok(Item::Option(o)) => Some(o),
            _ => None,
        })
    }

    /// The first instance of `code`.
    pub fn find(&self, code: u8) -> Option<Located<'_>> {
        self.options().find(|o| o.option.code == code)
    }

    /// RFC 3396 §7 aggregate of all instances of `code`, in order (options, file,
    /// sname). Borrowed when there is one instance; `None` when there is none.
    pub fn aggregate(&self, code: u8) -> Option<Cow<'_, [u8]>> {
        let mut it = self.options().filter(|o| o.option.code == code);
        let first = it.next()?;
        match it.next() {
            None => Some(Cow::Borrowed(first.option.data)),
            Some(second) => {
                let mut v = Vec::with_capacity(first.option.data.len() + second.option.data.len());
                v.extend_from_slice(first.option.data);
                v.extend_from_slice(second.option.data);
                for o in it {
                    v.extend_from_slice(o.option.data);
                }
                Some(Cow::Owned(v))
            }
        }
    }

    /// The overload value in effect (from the first valid option 52 of the options
    /// field), if any.
    pub fn overload(&self) -> Option<Overload> {
        let cookie_ok = self.vend_kind() == VendKind::Rfc1048;
        if !cookie_ok {
            return None;
        }
        AreaIter::new(self.b().get(field::OPTIONS).unwrap_or(&[]), field::OPTIONS.start, Area::Options)
            .filter_map(|r| match r {
                Ok(Item::Option(o)) if o.option.code == options::code::OVERLOAD => Some(o),
                _ => None,
            })
            .find_map(|o| match o.option.data {
                [v] => Overload::from_u8(*v),
                _ => None,
            })
    }

    /// Every finding in the message: header truncation, option structure, overload
    /// pathologies and typed-value errors, with offsets from the first octet of `op`.
    pub fn findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        if let Err(e) = self.check_len() {
            out.push(e);
            return out;
        }
        for r in self.walk() {
            match r {
                Err(e) if out.contains(&e) => {}
                Err(e) => out.push(e),
                Ok(Item::Option(o)) => {
                    // The walk already reported a bad overload value at this offset.
                    if let Err(e) = o.value() {
                        if !out.contains(&e) {
                            out.push(e);
                        }
                    }
                }
                Ok(_) => {}
            }
        }
        out
    }

    /// Strict check: the first finding of severity Error.
    pub fn check(&self) -> Result<(), Error> {
        self.check_len()?;
        for r in self.walk() {
            match r {
                Err(e) if e.severity() == Severity::Error => return Err(e),
                Ok(Item::Option(o)) => {
                    o.value()?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn bm(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }
    fn set(&mut self, at: usize, v: &[u8]) {
        let _ = rd::put(self.bm(), at, v);
    }
    pub fn set_op(&mut self, v: u8) {
        self.set(field::OP, &[v]);
    }
    pub fn set_htype(&mut self, v: u8) {
        self.set(field::HTYPE, &[v]);
    }
    pub fn set_hlen(&mut self, v: u8) {
        self.set(field::HLEN, &[v]);
    }
    pub fn set_hops(&mut self, v: u8) {
        self.set(field::HOPS, &[v]);
    }
    pub fn set_xid(&mut self, v: u32) {
        self.set(field::XID.start, &v.to_be_bytes());
    }
    pub fn set_secs(&mut self, v: u16) {
        self.set(field::SECS.start, &v.to_be_bytes());
    }
    pub fn set_flags(&mut self, v: u16) {
        self.set(field::FLAGS.start, &v.to_be_bytes());
    }
    pub fn set_ciaddr(&mut self, v: Ipv4Addr) {
        self.set(field::CIADDR.start, &v.octets());
    }
    pub fn set_yiaddr(&mut self, v: Ipv4Addr) {
        self.set(field::YIADDR.start, &v.octets());
    }
    pub fn set_siaddr(&mut self, v: Ipv4Addr) {
        self.set(field::SIADDR.start, &v.octets());
    }
    pub fn set_giaddr(&mut self, v: Ipv4Addr) {
        self.set(field::GIADDR.start, &v.octets());
    }
    pub fn set_chaddr(&mut self, v: &[u8; 16]) {
        self.set(field::CHADDR.start, v);
    }
    pub fn set_sname(&mut self, v: &[u8; 64]) {
        self.set(field::SNAME.start, v);
    }
    pub fn set_file(&mut self, v: &[u8; 128]) {
        self.set(field::FILE.start, v);
    }
    /// The vend field, mutable.
    pub fn vend_mut(&mut self) -> &mut [u8] {
        self.bm().get_mut(field::VEND).unwrap_or(&mut [])
    }
}

fn until_nul(b: &[u8]) -> &[u8] {
    let n = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    b.get(..n).unwrap_or(b)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Options,
    File,
    Sname,
    Done,
}

/// Walks every option area of a BOOTP message in RFC 3396 §7 order and applies option
/// overload (RFC 2132 §9.3).
///
/// Yields `Ok(Item)` for Pad runs, options and End in each area, and `Err(Finding)` for
/// every problem, then carries on where it can: a structural error abandons the rest
/// of that area only. Overload problems reported: option 52 inside `file`/`sname`
/// ([`ErrorKind::OverloadInField`], not honoured), a value other than 1–3
/// ([`ErrorKind::OverloadValue`]), a second 52 ([`ErrorKind::OverloadRepeated`]; the
/// first counts), and an overloaded field the message is too short to hold
/// ([`ErrorKind::OverloadNoRoom`]). A strict caller stops at the first `Err` whose
/// severity is Error; a lenient caller collects them all. No allocation.
#[derive(Debug, Clone)]
pub struct Walk<'a> {
    buf: &'a [u8],
    stage: Stage,
    iter: AreaIter<'a>,
    overload: Option<Overload>,
    seen_52: bool,
    pending: Option<Error>,
}

impl<'a> Walk<'a> {
    /// Walk the BOOTP message `buf` (first octet = `op`). If the vend field does not
    /// start with the RFC 1048 cookie, the walk is empty.
    pub fn new(buf: &'a [u8]) -> Self {
        let has_cookie = buf.get(field::COOKIE) == Some(&MAGIC_COOKIE[..]);
        let opts = if has_cookie { buf.get(field::OPTIONS).unwrap_or(&[]) } else { &[] };
        Walk {
            buf,
            stage: if has_cookie { Stage::Options } else { Stage::Done },
            iter: AreaIter::new(opts, field::OPTIONS.start, Area::Options),
            overload: None,
            seen_52: false,
            pending: None,
        }
    }

    /// The overload value honoured so far.
    pub fn overload(&self) -> Option<Overload> {
        self.overload
    }

    fn advance(&mut self) -> Option<Error> {
        loop {
            let (next, range, area) = match self.stage {
                Stage::Options => (Stage::File, field::FILE, Area::File),
                Stage::File => (Stage::Sname, field::SNAME, Area::Sname),
                Stage::Sname | Stage::Done => {
                    self.stage = Stage::Done;
                    return None;
                }
            };
            self.stage = next;
            let wanted = self.overload.is_some_and(|o| if area == Area::File { o.file() } else { o.sname() });
            if !wanted {
                continue;
            }
            // The fixed header precedes the cookie, so a walk that got here has the field.
            let b = self.buf.get(range.clone()).unwrap_or(&[]);
            self.iter = AreaIter::new(b, range.start, area);
            if b.iter().find(|&&x| x != options::PAD) == Some(&options::END) {
                return Some(Error::new(range.start, ErrorKind::OverloadNoRoom { area }));
            }
            return None;
        }
    }
}

impl<'a> Iterator for Walk<'a> {
    type Item = Result<Item<'a>, Finding>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.pending.take() {
            return Some(Err(e));
        }
        loop {
            if self.stage == Stage::Done {
                return None;
            }
            match self.iter.next() {
                None => {
                    if let Some(e) = self.advance() {
                        return Some(Err(e));
                    }
                }
                Some(Ok(Item::Option(o))) if o.option.code == options::code::OVERLOAD => {
                    if o.area != Area::Options {
                        // Yield the option, then report it; it is not honoured.
                        self.pending = Some(Error::new(o.offset, ErrorKind::OverloadInField { area: o.area }));
                        return Some(Ok(Item::Option(o)));
                    }
                    if self.seen_52 {
                        self.pending = Some(Error::new(o.offset, ErrorKind::OverloadRepeated));
                        return Some(Ok(Item::Option(o)));
                    }
                    self.seen_52 = true;
                    // A wrong length is reported by the typed decode of the option.
                    if let [v] = o.option.data {
                        match Overload::from_u8(*v) {
                            Some(ov) => self.overload = Some(ov),
                            None => {
                                self.pending = Some(Error::new(o.offset + 2, ErrorKind::OverloadValue { value: *v }));
                            }
                        }
                    }
                    return Some(Ok(Item::Option(o)));
                }
                Some(other) => return Some(other),
            }
        }
    }
}

/// The CMU vendor area (CMU bootp's `struct cmu_vend`): magic `"CMU\0"`, then fixed
/// 32-bit fields. Accessors return `None` when the area is too short for the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CmuVend<'a>(pub &'a [u8]);

impl CmuVend<'_> {
    /// `v_flags` bit: the subnet mask field is valid.
    pub const FLAG_SUBNET_MASK: u32 = 1;
    pub fn flags(&self) -> Option<u32> {
        rd::u32_at(self.0, 4)
    }
    pub fn subnet_mask(&self) -> Option<Ipv4Addr> {
        rd::ipv4_at(self.0, 8)
    }
    /// `v_dgate`, the default gateway (right after the subnet mask: `struct cmu_vend`
    /// has no time offset).
    pub fn gateway(&self) -> Option<Ipv4Addr> {
        rd::ipv4_at(self.0, 12)
    }
    /// Domain name servers 1 and 2.
    pub fn dns(&self) -> [Option<Ipv4Addr>; 2] {
        [rd::ipv4_at(self.0, 16), rd::ipv4_at(self.0, 20)]
    }
    /// IEN-116 name servers 1 and 2.
    pub fn ien116(&self) -> [Option<Ipv4Addr>; 2] {
        [rd::ipv4_at(self.0, 24), rd::ipv4_at(self.0, 28)]
    }
    /// Time servers 1 and 2.
    pub fn time_servers(&self) -> [Option<Ipv4Addr>; 2] {
        [rd::ipv4_at(self.0, 32), rd::ipv4_at(self.0, 36)]
    }
}

/// One element of an RFC 1048 option area, without offsets (for [`Repr`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OptItem<'a> {
    /// A run of this many Pad octets.
    Pad(usize),
    Option(RawOption<'a>),
    End,
}

/// The vend field of a [`Repr`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Vend<'a> {
    /// RFC 1048 cookie followed by `items`, then `tail`: the octets after End (or, in a
    /// lenient parse, from the first malformed option on).
    Options { items: Vec<OptItem<'a>>, tail: &'a [u8] },
    /// Uninterpreted octets (empty, CMU, or pure RFC 951).
    Raw(&'a [u8]),
}

impl Vend<'_> {
    /// Octets on the wire.
    pub fn len(&self) -> usize {
        match self {
            Vend::Options { items, tail } => {
                let items = items.iter().fold(0usize, |acc, i| {
                    acc.saturating_add(match i {
                        OptItem::Pad(n) => *n,
                        OptItem::Option(o) => o.wire_len(),
                        OptItem::End => 1,
                    })
                });
                items.saturating_add(4).saturating_add(tail.len())
            }
            Vend::Raw(r) => r.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A BOOTP message as a value: header fields, and the vend field as items. Data is
/// borrowed from the parsed buffer. `emit` reproduces the parsed octets exactly
/// (padding, option order and repetition, and octets after End included).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Repr<'a> {
    pub op: u8,
    pub htype: u8,
    pub hlen: u8,
    pub hops: u8,
    pub xid: u32,
    pub secs: u16,
    pub flags: u16,
    pub ciaddr: Ipv4Addr,
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    pub chaddr: [u8; 16],
    pub sname: [u8; 64],
    pub file: [u8; 128],
    pub vend: Vend<'a>,
}

impl<'a> Repr<'a> {
    /// A zeroed BOOTREQUEST for an Ethernet client with an empty RFC 1048 option area
    /// (cookie + End, padded to the RFC 951 300-octet size).
    pub fn request(xid: u32, mac: [u8; 6]) -> Self {
        let mut chaddr = [0u8; 16];
        chaddr[..6].copy_from_slice(&mac);
        Repr {
            op: Op::BOOTREQUEST,
            htype: 1,
            hlen: 6,
            hops: 0,
            xid,
            secs: 0,
            flags: 0,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            chaddr,
            sname: [0; 64],
            file: [0; 128],
            vend: Vend::Options { items: vec![OptItem::End, OptItem::Pad(59)], tail: &[] },
        }
    }

    /// Strict parse: the first problem of severity Error fails it.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Error> {
        let p = Packet::new_checked(bytes)?;
        p.check()?;
        Ok(Self::build(&p, bytes))
    }

    /// Lenient parse: whatever parses, plus every finding. `None` only when the fixed
    /// header itself is cut short (the first finding then says where).
    pub fn parse_lenient(bytes: &'a [u8]) -> (Option<Self>, Vec<Finding>) {
        let p = Packet::new_unchecked(bytes);
        let findings = p.findings();
        if p.check_len().is_err() {
            return (None, findings);
        }
        (Some(Self::build(&p, bytes)), findings)
    }

    /// Parse in the given mode, returning findings (warnings only, in strict mode).
    pub fn parse_mode(bytes: &'a [u8], mode: Mode) -> Result<(Self, Vec<Finding>), Error> {
        match mode {
            Mode::Strict => {
                let r = Self::parse(bytes)?;
                let warnings = Packet::new_unchecked(bytes).findings();
                Ok((r, warnings))
            }
            Mode::Lenient => match Self::parse_lenient(bytes) {
                (Some(r), f) => Ok((r, f)),
                (None, f) => Err(f.into_iter().next().unwrap_or(Error::new(
                    0,
                    ErrorKind::Truncated { what: "op", need: HEADER_LEN, have: bytes.len() },
                ))),
            },
        }
    }

    fn build(p: &Packet<&'a [u8]>, bytes: &'a [u8]) -> Self {
        let vend_bytes = bytes.get(field::VEND).unwrap_or(&[]);
        let vend = if p.vend_kind() == VendKind::Rfc1048 {
            let area = bytes.get(field::OPTIONS).unwrap_or(&[]);
            let mut it = AreaIter::new(area, field::OPTIONS.start, Area::Options);
            let mut items = Vec::new();
            let mut tail_at = area.len();
            loop {
                let before = it.position();
                match it.next() {
                    Some(Ok(Item::Pad { len, .. })) => items.push(OptItem::Pad(len)),
                    Some(Ok(Item::Option(o))) => items.push(OptItem::Option(o.option)),
                    Some(Ok(Item::End { .. })) => {
                        items.push(OptItem::End);
                        tail_at = it.position();
                        break;
                    }
                    Some(Err(_)) => {
                        tail_at = before;
                        break;
                    }
                    None => break,
                }
            }
            Vend::Options { items, tail: area.get(tail_at..).unwrap_or(&[]) }
        } else {
            Vend::Raw(vend_bytes)
        };
        let arr = |r: core::ops::Range<usize>| bytes.get(r).unwrap_or(&[]);
        let mut chaddr = [0u8; 16];
        chaddr.copy_from_slice(arr(field::CHADDR).get(..16).unwrap_or(&[0; 16]));
        let mut sname = [0u8; 64];
        sname.copy_from_slice(arr(field::SNAME).get(..64).unwrap_or(&[0; 64]));
        let mut file = [0u8; 128];
        file.copy_from_slice(arr(field::FILE).get(..128).unwrap_or(&[0; 128]));
        Repr {
            op: p.op().to_u8(),
            htype: p.htype(),
            hlen: p.hlen(),
            hops: p.hops(),
            xid: p.xid(),
            secs: p.secs(),
            flags: p.flags(),
            ciaddr: p.ciaddr(),
            yiaddr: p.yiaddr(),
            siaddr: p.siaddr(),
            giaddr: p.giaddr(),
            chaddr,
            sname,
            file,
            vend,
        }
    }

    /// Octets `emit` writes.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN.saturating_add(self.vend.len())
    }

    /// Write the message into `buf`, which must be at least [`Self::buffer_len`] long.
    /// Returns the number of octets written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, Error> {
        let need = self.buffer_len();
        let Some(buf) = buf.get_mut(..need) else {
            return Err(Error::new(buf.len(), ErrorKind::Truncated { what: "output buffer", need, have: buf.len() }));
        };
        let mut p = Packet::new_unchecked(&mut *buf);
        p.set_op(self.op);
        p.set_htype(self.htype);
        p.set_hlen(self.hlen);
        p.set_hops(self.hops);
        p.set_xid(self.xid);
        p.set_secs(self.secs);
        p.set_flags(self.flags);
        p.set_ciaddr(self.ciaddr);
        p.set_yiaddr(self.yiaddr);
        p.set_siaddr(self.siaddr);
        p.set_giaddr(self.giaddr);
        p.set_chaddr(&self.chaddr);
        p.set_sname(&self.sname);
        p.set_file(&self.file);
        let v = p.vend_mut();
        match &self.vend {
            Vend::Raw(r) => {
                rd::put(v, 0, r);
            }
            Vend::Options { items, tail } => {
                rd::put(v, 0, &MAGIC_COOKIE);
                let mut at: usize = 4;
                for i in items {
                    match i {
                        OptItem::Pad(n) => {
                            if let Some(s) = v.get_mut(at..at.saturating_add(*n)) {
                                s.fill(0);
                            }
                            at = at.saturating_add(*n);
                        }
                        OptItem::Option(o) => {
                            // A Repr built by hand may hold more than 255 octets; the
                            // length octet then wraps, exactly as a liar would send it.
                            rd::put(v, at, &[o.code, o.data.len() as u8]);
                            rd::put(v, at + 2, o.data);
                            at = at.saturating_add(o.wire_len());
                        }
                        OptItem::End => {
                            rd::put(v, at, &[options::END]);
                            at += 1;
                        }
                    }
                }
                rd::put(v, at, tail);
            }
        }
        Ok(need)
    }

    /// Emit into a new vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = vec![0u8; self.buffer_len()];
        let _ = self.emit(&mut v);
        v
    }

    /// Options of the vend field (not of overloaded sname/file), in order.
    pub fn options(&self) -> impl Iterator<Item = &RawOption<'a>> + '_ {
        let items: &[OptItem<'a>] = match &self.vend {
            Vend::Options { items, .. } => items,
            Vend::Raw(_) => &[],
        };
        items.iter().filter_map(|i| match i {
            OptItem::Option(o) => Some(o),
            _ => None,
        })
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Packet<T> {
    /// A stable, multi-line, lenient decode: header, every option in aggregate order
    /// with its typed value, and every finding (lines starting with `!`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Err(e) = self.check_len() {
            return write!(f, "BOOTP ! {e}");
        }
        write!(f, "{} xid={:#010x} secs={} flags={:#06x}", self.op(), self.xid(), self.secs(), self.flags())?;
        if self.broadcast() {
            f.write_str(" (broadcast)")?;
        }
        write!(f, " hops={} htype={} hlen={} chaddr=", self.hops(), self.htype(), self.hlen())?;
        options::fmt_mac(f, self.chaddr())?;
        write!(
            f,
            "\n  ciaddr={} yiaddr={} siaddr={} giaddr={}\n  sname=",
            self.ciaddr(),
            self.yiaddr(),
            self.siaddr(),
            self.giaddr()
        )?;
        let ov = self.overload();
        if ov.is_some_and(Overload::sname) {
            f.write_str("(options)")?;
        } else {
            options::fmt_text(f, self.sname())?;
        }
        f.write_str(" file=")?;
        if ov.is_some_and(Overload::file) {
            f.write_str("(options)")?;
        } else {
            options::fmt_text(f, self.file())?;
        }
        let vend = self.vend();
        match self.vend_kind() {
            VendKind::Empty => f.write_str("\n  vend: none")?,
            VendKind::Raw => {
                write!(f, "\n  vend: {} octets, no cookie", vend.len())?;
                if vend.iter().any(|&b| b != 0) {
                    f.write_str(" 0x[")?;
                    options::fmt_hex(f, vend)?;
                    f.write_str("]")?;
                }
            }
            VendKind::Cmu => {
                write!(f, "\n  vend: {} octets, CMU", vend.len())?;
                let c = CmuVend(vend);
                if let (Some(fl), Some(m), Some(g)) = (c.flags(), c.subnet_mask(), c.gateway()) {
                    write!(f, " flags={fl:#x} subnet-mask={m} gateway={g}")?;
                }
            }
            VendKind::Rfc1048 => {
                write!(f, "\n  vend: {} octets, RFC 1048 cookie", vend.len())?;
                for r in self.walk() {
                    match r {
                        Ok(Item::Option(o)) => {
                            f.write_str("\n  ")?;
                            if o.area != Area::Options {
                                write!(f, "[{}] ", o.area)?;
                            }
                            write!(f, "{}", o.option)?;
                        }
                        Ok(Item::End { area, .. }) => {
                            f.write_str("\n  ")?;
                            if area != Area::Options {
                                write!(f, "[{area}] ")?;
                            }
                            f.write_str("255 end")?;
                        }
                        Ok(Item::Pad { .. }) => {}
                        Err(e) => write!(f, "\n  ! {e}")?,
                    }
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for Repr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Packet::new_unchecked(self.to_vec()).fmt(f)
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Repr<'a> {
    /// Generates messages in the canonical form `parse_lenient` returns: Pad runs never
    /// adjacent and non-empty, options with codes 1–254 and at most 255 octets, End
    /// last, and raw vend fields that do not start with the RFC 1048 cookie.
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let mut arr = |n: usize| -> arbitrary::Result<&'a [u8]> { u.bytes(n) };
        let chaddr: [u8; 16] = arr(16)?.try_into().unwrap_or([0; 16]);
        let sname: [u8; 64] = arr(64)?.try_into().unwrap_or([0; 64]);
        let file: [u8; 128] = arr(128)?.try_into().unwrap_or([0; 128]);
        let vend = if u.ratio(3, 4)? {
            let mut items = Vec::new();
            let n = u.int_in_range(0..=24)?;
            for _ in 0..n {
                if u.ratio(1, 5)? && !matches!(items.last(), Some(OptItem::Pad(_))) {
                    items.push(OptItem::Pad(u.int_in_range(1..=16)?));
                } else {
                    let code = u.int_in_range(1..=254)?;
                    let len = u.int_in_range(0..=255)?;
                    items.push(OptItem::Option(RawOption { code, data: u.bytes(len)? }));
                }
            }
            items.push(OptItem::End);
            let tail_len = u.int_in_range(0..=64)?;
            Vend::Options { items, tail: u.bytes(tail_len)? }
        } else {
            let len = u.int_in_range(0..=64)?;
            let raw = u.bytes(len)?;
            if raw.starts_with(&MAGIC_COOKIE) {
                Vend::Raw(&[])
            } else {
                Vend::Raw(raw)
            }
        };
        Ok(Repr {
            op: u.arbitrary()?,
            htype: u.arbitrary()?,
            hlen: u.arbitrary()?,
            hops: u.arbitrary()?,
            xid: u.arbitrary()?,
            secs: u.arbitrary()?,
            flags: u.arbitrary()?,
            ciaddr: Ipv4Addr::from(u.arbitrary::<u32>()?),
            yiaddr: Ipv4Addr::from(u.arbitrary::<u32>()?),
            siaddr: Ipv4Addr::from(u.arbitrary::<u32>()?),
            giaddr: Ipv4Addr::from(u.arbitrary::<u32>()?),
            chaddr,
            sname,
            file,
            vend,
        })
    }
}
