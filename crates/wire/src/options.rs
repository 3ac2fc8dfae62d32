//! RFC 1048 / RFC 2132 option TLVs: zero-copy iteration, the option codebook, typed
//! values, and emission.
//!
//! Three layers:
//! * [`AreaIter`] walks one option area (the vend field after the cookie, or `file` /
//!   `sname` under overload) and yields [`Item`]s: runs of Pad, options, End. It never
//!   allocates and never panics; malformed input becomes an [`Error`] item, after which
//!   the area is abandoned (a TLV stream cannot be resynchronised).
//! * [`spec`] is the codebook: name and value kind for every code of RFC 2132 (which
//!   includes RFC 1497's), RFC 3046 (82), RFC 4578 (93, 94, 97), RFC 5859 (150) and
//!   RFC 4361's form of option 61. Codes 128–223 are public since RFC 3942; 224–254
//!   are site-specific. Codes not in the book decode as [`Value::Unknown`].
//! * [`Value`] is the typed decode of one option, borrowing from the packet.

use core::fmt;
use core::net::Ipv4Addr;

use crate::error::{Area, Error, ErrorKind};
use crate::field;

/// Pad option code (RFC 2132 §3.1).
pub const PAD: u8 = 0;
/// End option code (RFC 2132 §3.2).
pub const END: u8 = 255;

/// Option codes by name (RFC 2132 unless stated).
#[allow(missing_docs)]
pub mod code {
    pub const SUBNET_MASK: u8 = 1;
    pub const TIME_OFFSET: u8 = 2;
    pub const ROUTER: u8 = 3;
    pub const DOMAIN_NAME_SERVER: u8 = 6;
    pub const HOST_NAME: u8 = 12;
    pub const BOOT_FILE_SIZE: u8 = 13;
    pub const DOMAIN_NAME: u8 = 15;
    pub const ROOT_PATH: u8 = 17;
    pub const BROADCAST_ADDRESS: u8 = 28;
    pub const VENDOR_SPECIFIC: u8 = 43;
    pub const REQUESTED_IP: u8 = 50;
    pub const LEASE_TIME: u8 = 51;
    pub const OVERLOAD: u8 = 52;
    pub const MESSAGE_TYPE: u8 = 53;
    pub const SERVER_ID: u8 = 54;
    pub const PARAMETER_REQUEST_LIST: u8 = 55;
    pub const MESSAGE: u8 = 56;
    pub const MAX_MESSAGE_SIZE: u8 = 57;
    pub const RENEWAL_TIME: u8 = 58;
    pub const REBINDING_TIME: u8 = 59;
    pub const VENDOR_CLASS: u8 = 60;
    pub const CLIENT_ID: u8 = 61;
    pub const TFTP_SERVER_NAME: u8 = 66;
    pub const BOOTFILE_NAME: u8 = 67;
    /// RFC 3046.
    pub const RELAY_AGENT_INFO: u8 = 82;
    /// RFC 4578.
    pub const CLIENT_ARCH: u8 = 93;
    /// RFC 4578.
    pub const CLIENT_NDI: u8 = 94;
    /// RFC 4578.
    pub const CLIENT_MACHINE_ID: u8 = 97;
    /// RFC 5859.
    pub const TFTP_SERVER_ADDRESS: u8 = 150;
}

/// How an option's value is encoded, with the length rules of its RFC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One IPv4 address (length 4).
    Ip,
    /// A list of IPv4 addresses (length a multiple of 4, at least `min` addresses).
    Ips { min: usize },
    /// A list of address pairs (length a multiple of 8, at least one pair).
    IpPairs,
    /// An 8-bit unsigned integer, with an inclusive minimum.
    U8 { min: u8 },
    /// A 16-bit unsigned integer, with an inclusive minimum (e.g. 576 for option 57).
    U16 { min: u16 },
    /// A 32-bit unsigned integer.
    U32,
    /// A 32-bit signed integer (option 2).
    I32,
    /// A flag octet, 0 or 1.
    Bool,
    /// NVT ASCII text, at least `min` octets.
    Str { min: usize },
    /// A list of 16-bit integers, at least `min` entries.
    U16s { min: usize },
    /// A list of option codes (option 55), at least one.
    Codes,
    /// Opaque octets, at least `min`.
    Bytes { min: usize },
    /// DHCP message type (53).
    MessageType,
    /// Option overload (52).
    Overload,
    /// NetBIOS node type (46): 1, 2, 4 or 8.
    NodeType,
    /// Client identifier (61): type octet + identifier; RFC 4361 type 255 = IAID + DUID.
    ClientId,
    /// Relay agent information (82): sub-option TLVs.
    RelayAgent,
    /// PXE client network device interface (94): type 1, major, minor.
    ClientNdi,
    /// PXE client machine identifier (97): type 0 + 16-octet GUID.
    MachineId,
}

/// One entry of the codebook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    pub code: u8,
    /// A stable kebab-case name (used in decodes, snapshots and scenario files).
    pub name: &'static str,
    pub kind: Kind,
    /// Where the code is defined.
    pub rfc: &'static str,
}

macro_rules! book {
    ($( $code:literal $name:literal $kind:expr, $rfc:literal; )*) => {
        /// Every option code bootcheck knows, in code order.
        pub static BOOK: &[Spec] = BOOK_CONST;
        const BOOK_CONST: &[Spec] = &[ $( Spec { code: $code, name: $name, kind: $kind, rfc: $rfc }, )* ];
    };
}

/// Code-indexed view of [`BOOK`], built at compile time, so a lookup is one load.
static TABLE: [Option<Spec>; 256] = {
    let mut t: [Option<Spec>; 256] = [None; 256];
    let mut i = 0;
    while i < BOOK_CONST.len() {
        let s = BOOK_CONST[i];
        t[s.code as usize] = Some(s);
        i += 1;
    }
    t
};

/// Look up an option code in the codebook.
#[inline]
pub fn spec(code: u8) -> Option<&'static Spec> {
    TABLE[usize::from(code)].as_ref()
}

use Kind::*;
book! {
    1 "subnet-mask" Ip, "RFC2132 §3.3";
    2 "time-offset" I32, "RFC2132 §3.4";
    3 "router" Ips { min: 1 }, "RFC2132 §3.5";
    4 "time-server" Ips { min: 1 }, "RFC2132 §3.6";
    5 "name-server" Ips { min: 1 }, "RFC2132 §3.7";
    6 "domain-name-server" Ips { min: 1 }, "RFC2132 §3.8";
    7 "log-server" Ips { min: 1 }, "RFC2132 §3.9";
    8 "cookie-server" Ips { min: 1 }, "RFC2132 §3.10";
    9 "lpr-server" Ips { min: 1 }, "RFC2132 §3.11";
    10 "impress-server" Ips { min: 1 }, "RFC2132 §3.12";
    11 "resource-location-server" Ips { min: 1 }, "RFC2132 §3.13";
    12 "host-name" Str { min: 1 }, "RFC2132 §3.14";
    13 "boot-file-size" U16 { min: 0 }, "RFC2132 §3.15";
    14 "merit-dump-file" Str { min: 1 }, "RFC2132 §3.16";
    15 "domain-name" Str { min: 1 }, "RFC2132 §3.17";
    16 "swap-server" Ip, "RFC2132 §3.18";
    17 "root-path" Str { min: 1 }, "RFC2132 §3.19";
    18 "extensions-path" Str { min: 1 }, "RFC2132 §3.20";
    19 "ip-forwarding" Bool, "RFC2132 §4.1";
    20 "non-local-source-routing" Bool, "RFC2132 §4.2";
    21 "policy-filter" IpPairs, "RFC2132 §4.3";
    22 "max-datagram-reassembly" U16 { min: 576 }, "RFC2132 §4.4";
    23 "default-ip-ttl" U8 { min: 1 }, "RFC2132 §4.5";
    24 "path-mtu-aging-timeout" U32, "RFC2132 §4.6";
    25 "path-mtu-plateau-table" U16s { min: 1 }, "RFC2132 §4.7";
    26 "interface-mtu" U16 { min: 68 }, "RFC2132 §5.1";
    27 "all-subnets-local" Bool, "RFC2132 §5.2";
    28 "broadcast-address" Ip, "RFC2132 §5.3";
    29 "perform-mask-discovery" Bool, "RFC2132 §5.4";
    30 "mask-supplier" Bool, "RFC2132 §5.5";
    31 "perform-router-discovery" Bool, "RFC2132 §5.6";
    32 "router-solicitation-address" Ip, "RFC2132 §5.7";
    33 "static-route" IpPairs, "RFC2132 §5.8";
    34 "trailer-encapsulation" Bool, "RFC2132 §6.1";
    35 "arp-cache-timeout" U32, "RFC2132 §6.2";
    36 "ethernet-encapsulation" Bool, "RFC2132 §6.3";
    37 "tcp-default-ttl" U8 { min: 1 }, "RFC2132 §7.1";
    38 "tcp-keepalive-interval" U32, "RFC2132 §7.2";
    39 "tcp-keepalive-garbage" Bool, "RFC2132 §7.3";
    40 "nis-domain" Str { min: 1 }, "RFC2132 §8.1";
    41 "nis-servers" Ips { min: 1 }, "RFC2132 §8.2";
    42 "ntp-servers" Ips { min: 1 }, "RFC2132 §8.3";
    43 "vendor-specific" Bytes { min: 1 }, "RFC2132 §8.4";
    44 "netbios-name-server" Ips { min: 1 }, "RFC2132 §8.5";
    45 "netbios-dd-server" Ips { min: 1 }, "RFC2132 §8.6";
    46 "netbios-node-type" NodeType, "RFC2132 §8.7";
    47 "netbios-scope" Str { min: 1 }, "RFC2132 §8.8";
    48 "x-font-server" Ips { min: 1 }, "RFC2132 §8.9";
    49 "x-display-manager" Ips { min: 1 }, "RFC2132 §8.10";
    50 "requested-ip" Ip, "RFC2132 §9.1";
    51 "lease-time" U32, "RFC2132 §9.2";
    52 "overload" Overload, "RFC2132 §9.3";
    53 "message-type" MessageType, "RFC2132 §9.6";
    54 "server-id" Ip, "RFC2132 §9.7";
    55 "parameter-request-list" Codes, "RFC2132 §9.8";
    56 "message" Str { min: 1 }, "RFC2132 §9.9";
    57 "max-message-size" U16 { min: 576 }, "RFC2132 §9.10";
    58 "renewal-time" U32, "RFC2132 §9.11";
    59 "rebinding-time" U32, "RFC2132 §9.12";
    60 "vendor-class" Bytes { min: 1 }, "RFC2132 §9.13";
    61 "client-id" ClientId, "RFC2132 §9.14, RFC4361 §6.1";
    64 "nisplus-domain" Str { min: 1 }, "RFC2132 §8.11";
    65 "nisplus-servers" Ips { min: 1 }, "RFC2132 §8.12";
    66 "tftp-server-name" Str { min: 1 }, "RFC2132 §9.4";
    67 "bootfile-name" Str { min: 1 }, "RFC2132 §9.5";
    68 "mobile-ip-home-agent" Ips { min: 0 }, "RFC2132 §8.13";
    69 "smtp-server" Ips { min: 1 }, "RFC2132 §8.14";
    70 "pop3-server" Ips { min: 1 }, "RFC2132 §8.15";
    71 "nntp-server" Ips { min: 1 }, "RFC2132 §8.16";
    72 "www-server" Ips { min: 1 }, "RFC2132 §8.17";
    73 "finger-server" Ips { min: 1 }, "RFC2132 §8.18";
    74 "irc-server" Ips { min: 1 }, "RFC2132 §8.19";
    75 "streettalk-server" Ips { min: 1 }, "RFC2132 §8.20";
    76 "stda-server" Ips { min: 1 }, "RFC2132 §8.21";
    82 "relay-agent-info" RelayAgent, "RFC3046 §2.0";
    93 "client-arch" U16s { min: 1 }, "RFC4578 §2.1";
    94 "client-ndi" ClientNdi, "RFC4578 §2.2";
    97 "client-machine-id" MachineId, "RFC4578 §2.3";
    150 "tftp-server-address" Ips { min: 1 }, "RFC5859 §3";
}

/// The codebook name of `code`, or `"pad"`, `"end"`, `"site-specific"` (224–254),
/// `"unknown"`.
pub fn name(code: u8) -> &'static str {
    match code {
        PAD => "pad",
        END => "end",
        224..=254 => "site-specific",
        c => spec(c).map_or("unknown", |s| s.name),
    }
}

/// Look up a code by its codebook name (as used in scenario files).
pub fn code_by_name(name: &str) -> Option<u8> {
    match name {
        "pad" => Some(PAD),
        "end" => Some(END),
        n => BOOK.iter().find(|s| s.name == n).map(|s| s.code),
    }
}

/// An option exactly as on the wire: code and value octets (at most 255).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawOption<'a> {
    pub code: u8,
    pub data: &'a [u8],
}

impl<'a> RawOption<'a> {
    /// Typed decode of this option's value. A wrong length or value is an error whose
    /// offset is relative to the first value octet.
    #[inline]
    pub fn value(&self) -> Result<Value<'a>, Error> {
        Value::decode(self.code, self.data)
    }

    /// Octets on the wire: code, length, value.
    pub fn wire_len(&self) -> usize {
        2 + self.data.len()
    }
}

/// An option with where it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Located<'a> {
    pub area: Area,
    /// Offset of the code octet, relative to the start of the buffer the walk was given
    /// (for a BOOTP message: the first octet of `op`).
    pub offset: usize,
    pub option: RawOption<'a>,
}

impl<'a> Located<'a> {
    /// Typed decode, with errors rebased to the option's place in the packet.
    #[inline]
    pub fn value(&self) -> Result<Value<'a>, Error> {
        self.option.value().map_err(|e| e.shifted(self.offset + 2))
    }
}

/// One element of an option area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Item<'a> {
    /// A run of `len` Pad (0) octets starting at `offset`.
    Pad { offset: usize, len: usize, area: Area },
    /// An option.
    Option(Located<'a>),
    /// The End (255) option at `offset`.
    End { offset: usize, area: Area },
}

/// Zero-copy walk over one option area.
///
/// Yields Pad runs, options and End; stops after End or at the first structural error
/// (which it yields as `Err`). After End, any non-zero octet left in the area is
/// reported once as [`ErrorKind::TrailingGarbage`] (a warning: receivers ignore it).
/// Reaching the end of the area without End yields [`ErrorKind::MissingEnd`].
#[derive(Debug, Clone)]
pub struct AreaIter<'a> {
    buf: &'a [u8],
    base: usize,
    area: Area,
    pos: usize,
    state: IterState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IterState {
    Running,
    AfterEnd,
    Done,
}

impl<'a> AreaIter<'a> {
    /// Walk `buf`, an area that starts `base` octets into the enclosing buffer.
    pub fn new(buf: &'a [u8], base: usize, area: Area) -> Self {
        AreaIter { buf, base, area, pos: 0, state: IterState::Running }
    }

    /// The octets not consumed yet (after End: the tail; after an error: from the
    /// offending option on).
    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    /// Offset of [`Self::rest`] within the area.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn at(&self, pos: usize) -> usize {
        self.base.saturating_add(pos)
    }
}

impl<'a> Iterator for AreaIter<'a> {
    type Item = Result<Item<'a>, Error>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        // Fast path: a whole option (not Pad, not End) at the cursor.
        if self.state == IterState::Running {
            let start = self.pos;
            if let Some([code, len]) = field::array_at::<2>(self.buf, start) {
                if code != PAD && code != END {
                    let end = start + 2 + usize::from(len);
                    if let Some(data) = self.buf.get(start + 2..end) {
                        self.pos = end;
                        let option = RawOption { code, data };
                        return Some(Ok(Item::Option(Located { area: self.area, offset: self.at(start), option })));
                    }
                }
            }
        }
        self.next_slow()
    }
}

impl<'a> AreaIter<'a> {
    /// Pad runs, End, the octets after End, and every error.
    #[inline(never)]
    fn next_slow(&mut self) -> Option<Result<Item<'a>, Error>> {
        match self.state {
            IterState::Done => return None,
            IterState::AfterEnd => {
                self.state = IterState::Done;
                let rest = self.rest();
                let first = field::first_nonzero(rest)?;
                let len = rest.len() - first;
                return Some(Err(Error::new(
                    self.at(self.pos + first),
                    ErrorKind::TrailingGarbage { len, area: self.area },
                )));
            }
            IterState::Running => {}
        }
        let start = self.pos;
        let Some(code) = field::u8_at(self.buf, start) else {
            self.state = IterState::Done;
            return Some(Err(Error::new(self.at(start), ErrorKind::MissingEnd { area: self.area })));
        };
        match code {
            PAD => {
                let rest = self.rest();
                let len = field::first_nonzero(rest).unwrap_or(rest.len());
                self.pos += len;
                Some(Ok(Item::Pad { offset: self.at(start), len, area: self.area }))
            }
            END => {
                self.pos += 1;
                self.state = IterState::AfterEnd;
                Some(Ok(Item::End { offset: self.at(start), area: self.area }))
            }
            code => {
                let Some(len) = field::u8_at(self.buf, start + 1) else {
                    self.state = IterState::Done;
                    return Some(Err(Error::new(self.at(start), ErrorKind::MissingLength { code, area: self.area })));
                };
                let len = usize::from(len);
                let Some(data) = self.buf.get(start + 2..start + 2 + len) else {
                    self.state = IterState::Done;
                    let available = self.buf.len().saturating_sub(start + 2);
                    return Some(Err(Error::new(
                        self.at(start + 1),
                        ErrorKind::LengthPastEnd { code, declared: len, available, area: self.area },
                    )));
                };
                self.pos = start + 2 + len;
                Some(Ok(Item::Option(Located {
                    area: self.area,
                    offset: self.at(start),
                    option: RawOption { code, data },
                })))
            }
        }
    }
}

/// Option overload (52) values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Overload {
    File,
    Sname,
    Both,
}

impl Overload {
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(Overload::File),
            2 => Some(Overload::Sname),
            3 => Some(Overload::Both),
            _ => None,
        }
    }
    pub fn to_u8(self) -> u8 {
        match self {
            Overload::File => 1,
            Overload::Sname => 2,
            Overload::Both => 3,
        }
    }
    pub fn file(self) -> bool {
        matches!(self, Overload::File | Overload::Both)
    }
    pub fn sname(self) -> bool {
        matches!(self, Overload::Sname | Overload::Both)
    }
}

/// DHCP message types (RFC 2132 §9.6, RFC 2131; 9–18 from later RFCs are named for
/// display only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    Discover,
    Offer,
    Request,
    Decline,
    Ack,
    Nak,
    Release,
    Inform,
    Other(u8),
}

impl MessageType {
    pub fn from_u8(v: u8) -> Self {
        match v {
            1 => MessageType::Discover,
            2 => MessageType::Offer,
            3 => MessageType::Request,
            4 => MessageType::Decline,
            5 => MessageType::Ack,
            6 => MessageType::Nak,
            7 => MessageType::Release,
            8 => MessageType::Inform,
            n => MessageType::Other(n),
        }
    }
    pub fn to_u8(self) -> u8 {
        match self {
            MessageType::Discover => 1,
            MessageType::Offer => 2,
            MessageType::Request => 3,
            MessageType::Decline => 4,
            MessageType::Ack => 5,
            MessageType::Nak => 6,
            MessageType::Release => 7,
            MessageType::Inform => 8,
            MessageType::Other(n) => n,
        }
    }
    pub fn name(self) -> &'static str {
        match self.to_u8() {
            1 => "DHCPDISCOVER",
            2 => "DHCPOFFER",
            3 => "DHCPREQUEST",
            4 => "DHCPDECLINE",
            5 => "DHCPACK",
            6 => "DHCPNAK",
            7 => "DHCPRELEASE",
            8 => "DHCPINFORM",
            9 => "DHCPFORCERENEW",
            10 => "DHCPLEASEQUERY",
            11 => "DHCPLEASEUNASSIGNED",
            12 => "DHCPLEASEUNKNOWN",
            13 => "DHCPLEASEACTIVE",
            _ => "unknown",
        }
    }
}

/// A zero-copy list of IPv4 addresses (or address pairs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4List<'a>(pub &'a [u8]);

impl<'a> Ipv4List<'a> {
    pub fn iter(&self) -> impl Iterator<Item = Ipv4Addr> + 'a {
        self.0.chunks_exact(4).filter_map(|c| <[u8; 4]>::try_from(c).ok().map(Ipv4Addr::from))
    }
    pub fn len(&self) -> usize {
        self.0.len() / 4
    }
    pub fn is_empty(&self) -> bool {
        self.0.len() < 4
    }
}

/// A zero-copy list of big-endian 16-bit integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct U16List<'a>(pub &'a [u8]);

impl<'a> U16List<'a> {
    pub fn iter(&self) -> impl Iterator<Item = u16> + 'a {
        self.0.chunks_exact(2).filter_map(|c| <[u8; 2]>::try_from(c).ok().map(u16::from_be_bytes))
    }
}

/// Relay agent information sub-option names (RFC 3046 and its successors).
pub fn relay_suboption_name(code: u8) -> &'static str {
    match code {
        1 => "circuit-id",
        2 => "remote-id",
        5 => "link-selection",
        6 => "subscriber-id",
        9 => "vendor-specific",
        11 => "server-id-override",
        12 => "relay-id",
        _ => "unknown",
    }
}

/// Zero-copy walk over sub-option TLVs (no pad, no end) as used by option 82 and by
/// encapsulated option 43. Yields `(code, data, offset)`; a length past the end is an
/// error (offset relative to the start of the sub-option buffer), after which it stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubOptions<'a>(pub &'a [u8]);

impl<'a> SubOptions<'a> {
    pub fn iter(&self) -> SubOptionIter<'a> {
        SubOptionIter { buf: self.0, pos: 0, failed: false }
    }
    /// The first structural error, if any.
    pub fn validate(&self) -> Result<(), Error> {
        self.iter().try_for_each(|r| r.map(|_| ()))
    }
}

/// Iterator for [`SubOptions`].
#[derive(Debug, Clone)]
pub struct SubOptionIter<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Iterator for SubOptionIter<'a> {
    type Item = Result<(u8, &'a [u8], usize), Error>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let start = self.pos;
        let code = field::u8_at(self.buf, start)?;
        let Some(len) = field::u8_at(self.buf, start + 1) else {
            self.failed = true;
            return Some(Err(Error::new(
                start,
                ErrorKind::Malformed { what: "sub-option", reason: "code without a length octet" },
            )));
        };
        let len = usize::from(len);
        match self.buf.get(start + 2..start + 2 + len) {
            Some(data) => {
                self.pos = start + 2 + len;
                Some(Ok((code, data, start)))
            }
            None => {
                self.failed = true;
                Some(Err(Error::new(
                    start + 1,
                    ErrorKind::LengthPastEnd {
                        code,
                        declared: len,
                        available: self.buf.len().saturating_sub(start + 2),
                        area: Area::Options,
                    },
                )))
            }
        }
    }
}

/// A typed option value, borrowing from the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Value<'a> {
    Ip(Ipv4Addr),
    Ips(Ipv4List<'a>),
    IpPairs(Ipv4List<'a>),
    U8(u8),
    U16(u16),
    U32(u32),
    I32(i32),
    Bool(bool),
    /// NVT ASCII text as sent (not necessarily valid UTF-8; may contain NUL).
    Str(&'a [u8]),
    U16s(U16List<'a>),
    /// Option codes (parameter request list).
    Codes(&'a [u8]),
    Bytes(&'a [u8]),
    MessageType(MessageType),
    Overload(Overload),
    NodeType(u8),
    /// Client identifier: hardware type (or 0, or 255 for RFC 4361) and identifier.
    ClientId {
        kind: u8,
        id: &'a [u8],
    },
    /// RFC 4361 node-specific client identifier: type 255, IAID, DUID.
    ClientIdDuid {
        iaid: u32,
        duid: &'a [u8],
    },
    RelayAgent(SubOptions<'a>),
    ClientNdi {
        kind: u8,
        major: u8,
        minor: u8,
    },
    MachineId {
        kind: u8,
        id: &'a [u8],
    },
    /// A code not in the codebook.
    Unknown(&'a [u8]),
}

fn wrong_len(code: u8, len: usize, expected: &'static str) -> Error {
    Error::new(0, ErrorKind::WrongLength { code, name: name(code), len, expected })
}

fn bad_value(code: u8, at: usize, reason: &'static str) -> Error {
    Error::new(at, ErrorKind::BadValue { code, name: name(code), reason })
}

fn fixed<const N: usize>(code: u8, d: &[u8], expected: &'static str) -> Result<[u8; N], Error> {
    <[u8; N]>::try_from(d).map_err(|_| wrong_len(code, d.len(), expected))
}

impl<'a> Value<'a> {
    /// Decode `data` as the value of option `code`, checking the length and value rules
    /// of the defining RFC.
    #[inline]
    pub fn decode(code: u8, d: &'a [u8]) -> Result<Self, Error> {
        let Some(spec) = spec(code) else {
            return Ok(Value::Unknown(d));
        };
        let len = d.len();
        Ok(match spec.kind {
            Ip => Value::Ip(Ipv4Addr::from(fixed::<4>(code, d, "expected exactly 4")?)),
            Ips { min } => {
                if len % 4 != 0 || len < min * 4 {
                    return Err(wrong_len(
                        code,
                        len,
                        if min == 0 { "expected a multiple of 4" } else { "expected a non-zero multiple of 4" },
                    ));
                }
                Value::Ips(Ipv4List(d))
            }
            IpPairs => {
                if len % 8 != 0 || len == 0 {
                    return Err(wrong_len(code, len, "expected a non-zero multiple of 8"));
                }
                Value::IpPairs(Ipv4List(d))
            }
            U8 { min } => {
                let [v] = fixed::<1>(code, d, "expected exactly 1")?;
                if v < min {
                    return Err(bad_value(code, 0, "below the minimum allowed by the RFC"));
                }
                Value::U8(v)
            }
            U16 { min } => {
                let v = u16::from_be_bytes(fixed::<2>(code, d, "expected exactly 2")?);
                if v < min {
                    return Err(bad_value(code, 0, "below the minimum allowed by the RFC"));
                }
                Value::U16(v)
            }
            U32 => Value::U32(u32::from_be_bytes(fixed::<4>(code, d, "expected exactly 4")?)),
            I32 => Value::I32(i32::from_be_bytes(fixed::<4>(code, d, "expected exactly 4")?)),
            Bool => match fixed::<1>(code, d, "expected exactly 1")? {
                [0] => Value::Bool(false),
                [1] => Value::Bool(true),
                _ => return Err(bad_value(code, 0, "flag must be 0 or 1")),
            },
            Str { min } => {
                if len < min {
                    return Err(wrong_len(code, len, "expected at least 1"));
                }
                Value::Str(d)
            }
            U16s { min } => {
                if len % 2 != 0 || len < min * 2 {
                    return Err(wrong_len(code, len, "expected a non-zero multiple of 2"));
                }
                Value::U16s(U16List(d))
            }
            Codes => {
                if len == 0 {
                    return Err(wrong_len(code, len, "expected at least 1"));
                }
                Value::Codes(d)
            }
            Bytes { min } => {
                if len < min {
                    return Err(wrong_len(code, len, "expected at least 1"));
                }
                Value::Bytes(d)
            }
            MessageType => {
                let [v] = fixed::<1>(code, d, "expected exactly 1")?;
                Value::MessageType(self::MessageType::from_u8(v))
            }
            Overload => {
                let [v] = fixed::<1>(code, d, "expected exactly 1")?;
                match self::Overload::from_u8(v) {
                    Some(o) => Value::Overload(o),
                    None => return Err(Error::new(0, ErrorKind::OverloadValue { value: v })),
                }
            }
            NodeType => {
                let [v] = fixed::<1>(code, d, "expected exactly 1")?;
                if !matches!(v, 1 | 2 | 4 | 8) {
                    return Err(bad_value(code, 0, "node type must be 1, 2, 4 or 8"));
                }
                Value::NodeType(v)
            }
            ClientId => match d {
                [] | [_] => return Err(wrong_len(code, len, "expected at least 2")),
                [255, rest @ ..] => {
                    let Some(iaid) = field::u32_at(rest, 0) else {
                        return Err(wrong_len(code, len, "type 255 needs a 4-octet IAID and a DUID (RFC 4361 §6.1)"));
                    };
                    let duid = rest.get(4..).unwrap_or(&[]);
                    if duid.len() < 2 {
                        return Err(wrong_len(code, len, "type 255 needs a 4-octet IAID and a DUID (RFC 4361 §6.1)"));
                    }
                    Value::ClientIdDuid { iaid, duid }
                }
                [kind, id @ ..] => Value::ClientId { kind: *kind, id },
            },
            RelayAgent => {
                if len == 0 {
                    return Err(wrong_len(code, len, "expected at least one sub-option"));
                }
                let subs = SubOptions(d);
                subs.validate()?;
                Value::RelayAgent(subs)
            }
            ClientNdi => {
                let [kind, major, minor] = fixed::<3>(code, d, "expected exactly 3")?;
                if kind != 1 {
                    return Err(bad_value(code, 0, "interface type must be 1 (UNDI)"));
                }
                Value::ClientNdi { kind, major, minor }
            }
            MachineId => {
                let [kind, ..] = fixed::<17>(code, d, "expected exactly 17 (type 0 + 16-octet GUID)")?;
                if kind != 0 {
                    return Err(bad_value(code, 0, "machine identifier type must be 0 (GUID)"));
                }
                Value::MachineId { kind, id: d.get(1..).unwrap_or(&[]) }
            }
        })
    }

    /// Append the value octets (without code and length) to `out`. For every value that
    /// [`Value::decode`] returns, `decode(code, encode(v)) == v` and the octets equal the
    /// decoded input.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            Value::Ip(a) => out.extend_from_slice(&a.octets()),
            Value::Ips(l) | Value::IpPairs(l) => out.extend_from_slice(l.0),
            Value::U8(v) | Value::NodeType(v) => out.push(v),
            Value::U16(v) => out.extend_from_slice(&v.to_be_bytes()),
            Value::U32(v) => out.extend_from_slice(&v.to_be_bytes()),
            Value::I32(v) => out.extend_from_slice(&v.to_be_bytes()),
            Value::Bool(b) => out.push(u8::from(b)),
            Value::Str(s) | Value::Codes(s) | Value::Bytes(s) | Value::Unknown(s) => out.extend_from_slice(s),
            Value::U16s(l) => out.extend_from_slice(l.0),
            Value::MessageType(t) => out.push(t.to_u8()),
            Value::Overload(o) => out.push(o.to_u8()),
            Value::ClientId { kind, id } => {
                out.push(kind);
                out.extend_from_slice(id);
            }
            Value::ClientIdDuid { iaid, duid } => {
                out.push(255);
                out.extend_from_slice(&iaid.to_be_bytes());
                out.extend_from_slice(duid);
            }
            Value::RelayAgent(s) => out.extend_from_slice(s.0),
            Value::ClientNdi { kind, major, minor } => out.extend_from_slice(&[kind, major, minor]),
            Value::MachineId { kind, id } => {
                out.push(kind);
                out.extend_from_slice(id);
            }
        }
    }
}

/// Writes `bytes` as text: printable ASCII as is, anything else as `\xNN`, quoted.
pub(crate) fn fmt_text(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    f.write_str("\"")?;
    for &b in bytes {
        match b {
            b'"' => f.write_str("\\\"")?,
            b'\\' => f.write_str("\\\\")?,
            0x20..=0x7e => write!(f, "{}", char::from(b))?,
            _ => write!(f, "\\x{b:02x}")?,
        }
    }
    f.write_str("\"")
}

/// Writes `bytes` as lowercase hex pairs separated by spaces.
pub(crate) fn fmt_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            f.write_str(" ")?;
        }
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

fn fmt_list<I: Iterator<Item = T>, T: fmt::Display>(f: &mut fmt::Formatter<'_>, it: I) -> fmt::Result {
    f.write_str("[")?;
    for (i, v) in it.enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{v}")?;
    }
    f.write_str("]")
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Value::Ip(a) => write!(f, "{a}"),
            Value::Ips(l) => fmt_list(f, l.iter()),
            Value::IpPairs(l) => {
                let v: Vec<Ipv4Addr> = l.iter().collect();
                f.write_str("[")?;
                for (i, p) in v.chunks_exact(2).enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if let [a, b] = p {
                        write!(f, "{a} {b}")?;
                    }
                }
                f.write_str("]")
            }
            Value::U8(v) | Value::NodeType(v) => write!(f, "{v}"),
            Value::U16(v) => write!(f, "{v}"),
            Value::U32(v) => {
                if v == u32::MAX {
                    write!(f, "{v} (infinite)")
                } else {
                    write!(f, "{v}")
                }
            }
            Value::I32(v) => write!(f, "{v}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Str(s) => fmt_text(f, s),
            Value::U16s(l) => fmt_list(f, l.iter()),
            Value::Codes(c) => fmt_list(f, c.iter()),
            Value::Bytes(b) | Value::Unknown(b) => {
                if !b.is_empty() && b.iter().all(|c| (0x20..=0x7e).contains(c)) {
                    fmt_text(f, b)
                } else {
                    f.write_str("0x[")?;
                    fmt_hex(f, b)?;
                    f.write_str("]")
                }
            }
            Value::MessageType(t) => write!(f, "{} ({})", t.to_u8(), t.name()),
            Value::Overload(o) => write!(
                f,
                "{} ({})",
                o.to_u8(),
                match o {
                    Overload::File => "file",
                    Overload::Sname => "sname",
                    Overload::Both => "file+sname",
                }
            ),
            Value::ClientId { kind, id } => {
                write!(f, "type={kind} id=")?;
                if kind == 1 && id.len() == 6 {
                    fmt_mac(f, id)
                } else {
                    f.write_str("0x[")?;
                    fmt_hex(f, id)?;
                    f.write_str("]")
                }
            }
            Value::ClientIdDuid { iaid, duid } => {
                write!(f, "type=255 iaid={iaid:#010x} duid=0x[")?;
                fmt_hex(f, duid)?;
                f.write_str("]")
            }
            Value::RelayAgent(s) => {
                f.write_str("{")?;
                for (i, r) in s.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if let Ok((c, d, _)) = r {
                        write!(f, "{c} {}=0x[", relay_suboption_name(c))?;
                        fmt_hex(f, d)?;
                        f.write_str("]")?;
                    }
                }
                f.write_str("}")
            }
            Value::ClientNdi { kind, major, minor } => write!(f, "type={kind} undi={major}.{minor}"),
            Value::MachineId { kind, id } => {
                write!(f, "type={kind} guid=")?;
                for (i, b) in id.iter().enumerate() {
                    if matches!(i, 4 | 6 | 8 | 10) {
                        f.write_str("-")?;
                    }
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }
    }
}

/// Writes a hardware address as colon-separated hex.
pub(crate) fn fmt_mac(f: &mut fmt::Formatter<'_>, b: &[u8]) -> fmt::Result {
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            f.write_str(":")?;
        }
        write!(f, "{x:02x}")?;
    }
    Ok(())
}

impl fmt::Display for RawOption<'_> {
    /// `CODE NAME VALUE`, or `CODE NAME !error 0x[raw]` when the value does not decode.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.code, name(self.code))?;
        match self.value() {
            Ok(v) => write!(f, "{v}"),
            Err(e) => {
                write!(f, "!{} 0x[", e.kind)?;
                fmt_hex(f, self.data)?;
                f.write_str("]")
            }
        }
    }
}

/// Append one option as TLV(s). Values longer than 255 octets are split into several
/// instances of the same code, as RFC 3396 §6 prescribes.
pub fn emit_option(out: &mut Vec<u8>, code: u8, data: &[u8]) {
    if data.is_empty() {
        out.extend_from_slice(&[code, 0]);
        return;
    }
    for chunk in data.chunks(255) {
        out.push(code);
        out.push(chunk.len() as u8); // chunks(255) bounds the length
        out.extend_from_slice(chunk);
    }
}
