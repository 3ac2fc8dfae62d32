//! Apple BSDP (NetBoot 2.0 Boot Server Discovery Protocol).
//!
//! BSDP rides inside ordinary DHCP packets. Two DHCP options matter here:
//!
//! * **Option 60** (vendor class identifier) marks a packet as BSDP. A server sends
//!   exactly `AAPLBSDPC`; a client sends `AAPLBSDPC/<arch>/<system_id>`. See
//!   [`VendorClass`], [`parse_vendor_class`] and [`is_bsdp`].
//! * **Option 43** (vendor specific information) carries the BSDP sub-options in the
//!   RFC 2132 §8.4 encapsulated form: a one-octet code, a one-octet length and the
//!   value, with **no pad or end sub-option** (codes 0 and 255 are read as ordinary
//!   code/length/value items, so a server that pads stands out as an unknown
//!   sub-option). Option 43 may appear several times; the instances are joined in
//!   order (RFC 3396) before the sub-options are read.
//!
//! Layers, lowest first:
//!
//! * [`SubOptions`] / [`sub_options`]: a zero-copy iterator over [`RawSubOption`]s
//!   (code, value, offset) of an already joined option-43 payload.
//! * [`SubOption`]: one typed sub-option; [`BootImageId`], [`BootImageList`] and
//!   [`AttributesFilterList`] are its value types.
//! * [`Repr`] (alias [`Message`]): a whole option-43 payload as an ordered list of
//!   sub-options (duplicates kept), with strict [`Repr::parse`], lenient
//!   [`Repr::parse_lenient`], byte-exact [`Repr::emit`], Apple-style splitting into
//!   option-43 instances ([`Repr::split_instances`]) and a one-line [`fmt::Display`].
//! * [`JoinedInstances`]: joins the values of several option-43 instances and reports
//!   sub-options that straddle an instance boundary ([`Straddle`]).
//!
//! Offsets in errors are relative to the payload handed to the parser (the joined
//! option-43 value, or the option-60 value). Nothing here panics on any input.

use core::fmt;
use core::iter::FusedIterator;
use core::net::Ipv4Addr;
use core::ops::Range;

use crate::error::{Error, ErrorKind, Result};
use crate::field;

/// DHCP option code of the vendor specific information option that carries BSDP.
pub const OPTION_VENDOR_SPECIFIC: u8 = 43;
/// DHCP option code of the vendor class identifier option that marks BSDP packets.
pub const OPTION_VENDOR_CLASS: u8 = 60;
/// The vendor class identifier prefix; the whole value a server sends.
pub const VENDOR_CLASS_PREFIX: &[u8] = b"AAPLBSDPC";
/// Largest value one DHCP option instance can carry (one-octet length field).
pub const MAX_INSTANCE_LEN: usize = 255;
/// Largest value one BSDP sub-option can carry (one-octet length field).
pub const MAX_VALUE_LEN: usize = 255;

/// BSDP sub-option codes (inside option 43).
pub mod code {
    /// Message type (1 octet: LIST, SELECT, FAILED).
    pub const MESSAGE_TYPE: u8 = 1;
    /// Protocol version (2 octets).
    pub const VERSION: u8 = 2;
    /// Server identifier (IPv4 address), sent by the client in `INFORM[SELECT]`.
    pub const SERVER_IDENTIFIER: u8 = 3;
    /// Server priority (2 octets), sent by the server in `ACK[LIST]`.
    pub const SERVER_PRIORITY: u8 = 4;
    /// Reply port (2 octets, must be < 1024), optionally sent by the client.
    pub const REPLY_PORT: u8 = 5;
    /// Boot image list path (defined, never used).
    pub const BOOT_IMAGE_LIST_PATH: u8 = 6;
    /// Default boot image ID (4 octets).
    pub const DEFAULT_BOOT_IMAGE_ID: u8 = 7;
    /// Selected boot image ID (4 octets).
    pub const SELECTED_BOOT_IMAGE_ID: u8 = 8;
    /// Boot image list (variable; may be repeated).
    pub const BOOT_IMAGE_LIST: u8 = 9;
    /// NetBoot 1.0 firmware flag (0 octets).
    pub const NETBOOT_1_0_FIRMWARE: u8 = 10;
    /// Image attributes filter list (2N octets, N ≥ 1).
    pub const ATTRIBUTES_FILTER_LIST: u8 = 11;
    /// Maximum message size (2 octets).
    pub const MAX_MESSAGE_SIZE: u8 = 12;
    /// Shadow mount path (Apple bootpd image-specific option).
    pub const SHADOW_MOUNT_PATH: u8 = 128;
    /// Shadow file path (Apple bootpd image-specific option).
    pub const SHADOW_FILE_PATH: u8 = 129;
    /// Machine name (Apple bootpd image-specific option).
    pub const MACHINE_NAME: u8 = 130;
}

/// Human-readable name of a BSDP sub-option code, or `None` if the code is unassigned.
pub fn sub_option_name(code: u8) -> Option<&'static str> {
    Some(match code {
        code::MESSAGE_TYPE => "message type",
        code::VERSION => "version",
        code::SERVER_IDENTIFIER => "server identifier",
        code::SERVER_PRIORITY => "server priority",
        code::REPLY_PORT => "reply port",
        code::BOOT_IMAGE_LIST_PATH => "boot image list path",
        code::DEFAULT_BOOT_IMAGE_ID => "default boot image ID",
        code::SELECTED_BOOT_IMAGE_ID => "selected boot image ID",
        code::BOOT_IMAGE_LIST => "boot image list",
        code::NETBOOT_1_0_FIRMWARE => "NetBoot 1.0 firmware",
        code::ATTRIBUTES_FILTER_LIST => "image attributes filter list",
        code::MAX_MESSAGE_SIZE => "maximum message size",
        code::SHADOW_MOUNT_PATH => "shadow mount path",
        code::SHADOW_FILE_PATH => "shadow file path",
        code::MACHINE_NAME => "machine name",
        _ => return None,
    })
}

/// The value length a fixed-size sub-option must have, or `None` for variable ones.
pub fn fixed_value_len(code: u8) -> Option<usize> {
    match code {
        code::MESSAGE_TYPE => Some(1),
        code::VERSION | code::SERVER_PRIORITY | code::REPLY_PORT | code::MAX_MESSAGE_SIZE => Some(2),
        code::SERVER_IDENTIFIER | code::DEFAULT_BOOT_IMAGE_ID | code::SELECTED_BOOT_IMAGE_ID => Some(4),
        code::NETBOOT_1_0_FIRMWARE => Some(0),
        _ => None,
    }
}

/// `name` field of [`ErrorKind::WrongLength`] / [`ErrorKind::BadValue`] for a code.
fn error_name(code: u8) -> &'static str {
    match code {
        code::MESSAGE_TYPE => "BSDP message type",
        code::VERSION => "BSDP version",
        code::SERVER_IDENTIFIER => "BSDP server identifier",
        code::SERVER_PRIORITY => "BSDP server priority",
        code::REPLY_PORT => "BSDP reply port",
        code::BOOT_IMAGE_LIST_PATH => "BSDP boot image list path",
        code::DEFAULT_BOOT_IMAGE_ID => "BSDP default boot image ID",
        code::SELECTED_BOOT_IMAGE_ID => "BSDP selected boot image ID",
        code::BOOT_IMAGE_LIST => "BSDP boot image list",
        code::NETBOOT_1_0_FIRMWARE => "BSDP NetBoot 1.0 firmware",
        code::ATTRIBUTES_FILTER_LIST => "BSDP image attributes filter list",
        code::MAX_MESSAGE_SIZE => "BSDP maximum message size",
        code::SHADOW_MOUNT_PATH => "BSDP shadow mount path",
        code::SHADOW_FILE_PATH => "BSDP shadow file path",
        code::MACHINE_NAME => "BSDP machine name",
        _ => "BSDP unassigned sub-option",
    }
}

/// `what` field of [`ErrorKind::LengthMismatch`] for a sub-option whose length runs
/// past the end of the payload.
fn length_what(code: u8) -> &'static str {
    match code {
        code::MESSAGE_TYPE => "BSDP sub-option 1 (message type)",
        code::VERSION => "BSDP sub-option 2 (version)",
        code::SERVER_IDENTIFIER => "BSDP sub-option 3 (server identifier)",
        code::SERVER_PRIORITY => "BSDP sub-option 4 (server priority)",
        code::REPLY_PORT => "BSDP sub-option 5 (reply port)",
        code::BOOT_IMAGE_LIST_PATH => "BSDP sub-option 6 (boot image list path)",
        code::DEFAULT_BOOT_IMAGE_ID => "BSDP sub-option 7 (default boot image ID)",
        code::SELECTED_BOOT_IMAGE_ID => "BSDP sub-option 8 (selected boot image ID)",
        code::BOOT_IMAGE_LIST => "BSDP sub-option 9 (boot image list)",
        code::NETBOOT_1_0_FIRMWARE => "BSDP sub-option 10 (NetBoot 1.0 firmware)",
        code::ATTRIBUTES_FILTER_LIST => "BSDP sub-option 11 (image attributes filter list)",
        code::MAX_MESSAGE_SIZE => "BSDP sub-option 12 (maximum message size)",
        code::SHADOW_MOUNT_PATH => "BSDP sub-option 128 (shadow mount path)",
        code::SHADOW_FILE_PATH => "BSDP sub-option 129 (shadow file path)",
        code::MACHINE_NAME => "BSDP sub-option 130 (machine name)",
        _ => "BSDP sub-option (unassigned code)",
    }
}

fn expected_text(code: u8) -> &'static str {
    match fixed_value_len(code) {
        Some(0) => "expected 0",
        Some(1) => "expected 1",
        Some(2) => "expected 2",
        Some(4) => "expected 4",
        _ => "expected a different length",
    }
}

fn wrong_len(code: u8, offset: usize, len: usize, expected: &'static str) -> Error {
    Error::new(offset, ErrorKind::WrongLength { code, name: error_name(code), len, expected })
}

fn emit_buffer_short(offset: usize, need: usize, have: usize) -> Error {
    Error::new(offset, ErrorKind::Truncated { what: "BSDP emit buffer", need, have })
}

/// A write cursor over a caller-supplied buffer; running out of room is an error, not
/// a panic.
struct Cursor<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl<'b> Cursor<'b> {
    fn new(buf: &'b mut [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    fn put(&mut self, src: &[u8]) -> Result<()> {
        if field::put(self.buf, self.pos, src) {
            self.pos = self.pos.saturating_add(src.len());
            Ok(())
        } else {
            Err(emit_buffer_short(self.pos, self.pos.saturating_add(src.len()), self.buf.len()))
        }
    }

    fn put_u8(&mut self, v: u8) -> Result<()> {
        self.put(&[v])
    }
}

// ---------------------------------------------------------------------------------
// Option 60: vendor class identifier
// ---------------------------------------------------------------------------------

/// A BSDP vendor class identifier (the value of DHCP option 60).
///
/// Parsing follows Apple's rules: the value must start with `AAPLBSDPC`; nothing after
/// the prefix means a server; otherwise the next octet must be `/`, the architecture
/// runs up to the next `/` (which is required), and the rest is the system id. A NUL or
/// newline octet in the architecture or the system id makes the value invalid. Empty
/// architecture or system id strings are not forbidden by these rules and are
/// accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VendorClass<'a> {
    /// `AAPLBSDPC`: sent by servers.
    Server,
    /// `AAPLBSDPC/<arch>/<system_id>`: sent by clients.
    Client {
        /// Architecture, e.g. `ppc`, `i386`, `arm`.
        arch: &'a [u8],
        /// Machine model, e.g. `PowerMac3,1`, `MacBookPro11,1`. May contain `/`.
        system_id: &'a [u8],
    },
}

fn vendor_class_error(offset: usize, reason: &'static str) -> Error {
    Error::new(offset, ErrorKind::Malformed { what: "BSDP vendor class identifier", reason })
}

/// Checks a component (arch or system id) that starts at `base` for NUL and newline.
fn check_component(bytes: &[u8], base: usize, nul: &'static str, nl: &'static str) -> Result<()> {
    match bytes.iter().position(|&b| b == 0 || b == b'\n') {
        None => Ok(()),
        Some(i) => {
            let reason = if bytes.get(i) == Some(&0) { nul } else { nl };
            Err(vendor_class_error(base.saturating_add(i), reason))
        }
    }
}

impl<'a> VendorClass<'a> {
    /// Parses an option-60 value. Offsets in errors are relative to `value`.
    pub fn parse(value: &'a [u8]) -> Result<Self> {
        let Some(rest) = value.strip_prefix(VENDOR_CLASS_PREFIX) else {
            let mismatch = value.iter().zip(VENDOR_CLASS_PREFIX).position(|(a, b)| a != b);
            return Err(match mismatch {
                Some(at) => vendor_class_error(at, "does not start with AAPLBSDPC"),
                None => Error::new(
                    value.len(),
                    ErrorKind::Truncated {
                        what: "BSDP vendor class identifier",
                        need: VENDOR_CLASS_PREFIX.len(),
                        have: value.len(),
                    },
                ),
            });
        };
        let Some((&slash, after)) = rest.split_first() else {
            return Ok(VendorClass::Server);
        };
        let prefix_len = VENDOR_CLASS_PREFIX.len();
        if slash != b'/' {
            return Err(vendor_class_error(prefix_len, "expected '/' or the end of the value after AAPLBSDPC"));
        }
        let arch_start = prefix_len.saturating_add(1);
        let Some(arch_len) = after.iter().position(|&b| b == b'/') else {
            check_component(after, arch_start, "NUL octet in the architecture", "newline in the architecture")?;
            return Err(vendor_class_error(value.len(), "no '/' between the architecture and the system id"));
        };
        let (arch, tail) = after.split_at_checked(arch_len).unwrap_or((after, &[]));
        let system_id = tail.get(1..).unwrap_or(&[]);
        check_component(arch, arch_start, "NUL octet in the architecture", "newline in the architecture")?;
        check_component(
            system_id,
            arch_start.saturating_add(arch_len).saturating_add(1),
            "NUL octet in the system id",
            "newline in the system id",
        )?;
        Ok(VendorClass::Client { arch, system_id })
    }

    /// True for the server form (`AAPLBSDPC`).
    pub fn is_server(&self) -> bool {
        matches!(self, VendorClass::Server)
    }

    /// The architecture of the client form.
    pub fn arch(&self) -> Option<&'a [u8]> {
        match self {
            VendorClass::Server => None,
            VendorClass::Client { arch, .. } => Some(arch),
        }
    }

    /// The system id of the client form.
    pub fn system_id(&self) -> Option<&'a [u8]> {
        match self {
            VendorClass::Server => None,
            VendorClass::Client { system_id, .. } => Some(system_id),
        }
    }

    /// Length of the encoded option-60 value.
    pub fn buffer_len(&self) -> usize {
        match self {
            VendorClass::Server => VENDOR_CLASS_PREFIX.len(),
            VendorClass::Client { arch, system_id } => {
                VENDOR_CLASS_PREFIX.len().saturating_add(2).saturating_add(arch.len()).saturating_add(system_id.len())
            }
        }
    }

    /// Writes the option-60 value into `buf`, returning its length. Components are
    /// written as given, so values that would not parse back (a `/`, NUL or newline
    /// in the architecture) can be produced on purpose.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let mut c = Cursor::new(buf);
        c.put(VENDOR_CLASS_PREFIX)?;
        if let VendorClass::Client { arch, system_id } = self {
            c.put(b"/")?;
            c.put(arch)?;
            c.put(b"/")?;
            c.put(system_id)?;
        }
        Ok(c.pos)
    }

    /// The encoded option-60 value.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.buffer_len());
        v.extend_from_slice(VENDOR_CLASS_PREFIX);
        if let VendorClass::Client { arch, system_id } = self {
            v.push(b'/');
            v.extend_from_slice(arch);
            v.push(b'/');
            v.extend_from_slice(system_id);
        }
        v
    }
}

/// Writes bytes as text: valid UTF-8 with `char::escape_debug`, other octets as `\xNN`.
fn write_escaped(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for chunk in bytes.utf8_chunks() {
        for ch in chunk.valid().chars() {
            write!(f, "{}", ch.escape_debug())?;
        }
        for b in chunk.invalid() {
            write!(f, "\\x{b:02x}")?;
        }
    }
    Ok(())
}

fn write_quoted(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    f.write_str("\"")?;
    write_escaped(f, bytes)?;
    f.write_str("\"")
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for b in bytes {
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

impl fmt::Display for VendorClass<'_> {
    /// `AAPLBSDPC` or `AAPLBSDPC/<arch>/<system_id>`, non-printable octets escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AAPLBSDPC")?;
        if let VendorClass::Client { arch, system_id } = self {
            f.write_str("/")?;
            write_escaped(f, arch)?;
            f.write_str("/")?;
            write_escaped(f, system_id)?;
        }
        Ok(())
    }
}

/// Parses an option-60 value as a BSDP vendor class identifier (see [`VendorClass`]).
pub fn parse_vendor_class(value: &[u8]) -> Result<VendorClass<'_>> {
    VendorClass::parse(value)
}

/// True if an option-60 value is a valid BSDP vendor class identifier (server or
/// client form).
pub fn is_bsdp(value: &[u8]) -> bool {
    VendorClass::parse(value).is_ok()
}

// ---------------------------------------------------------------------------------
// Raw sub-option iteration
// ---------------------------------------------------------------------------------

/// One code/length/value item of an option-43 payload, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawSubOption<'a> {
    /// Sub-option code.
    pub code: u8,
    /// The value (its length is the length octet).
    pub value: &'a [u8],
    /// Offset of the code octet in the payload.
    pub offset: usize,
}

impl RawSubOption<'_> {
    /// Offset of the first value octet in the payload.
    pub fn value_offset(&self) -> usize {
        self.offset.saturating_add(2)
    }

    /// Offset just past the value.
    pub fn end(&self) -> usize {
        self.value_offset().saturating_add(self.value.len())
    }
}

/// Zero-copy iterator over the sub-options of a joined option-43 payload.
///
/// Yields `Ok` items until the payload ends, or one `Err` (a code octet without a
/// length octet, or a length that runs past the end) after which it stops. There is
/// no pad or end sub-option: every code is followed by a length.
#[derive(Debug, Clone)]
pub struct SubOptions<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> SubOptions<'a> {
    /// Starts iterating over `payload`.
    pub fn new(payload: &'a [u8]) -> Self {
        SubOptions { buf: payload, pos: 0, failed: false }
    }

    /// Offset of the next sub-option (or of the error, after one was returned).
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// The part of the payload not yet consumed (after an error: the unframed tail).
    pub fn remaining(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }
}

impl<'a> Iterator for SubOptions<'a> {
    type Item = Result<RawSubOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let offset = self.pos;
        let code = field::u8_at(self.buf, offset)?;
        let have = self.buf.len().saturating_sub(offset);
        let Some(len) = field::u8_at(self.buf, offset.saturating_add(1)) else {
            self.failed = true;
            return Some(Err(Error::new(
                offset,
                ErrorKind::Truncated { what: "BSDP sub-option header (code without length)", need: 2, have },
            )));
        };
        let len = usize::from(len);
        let start = offset.saturating_add(2);
        let end = start.saturating_add(len);
        match self.buf.get(start..end) {
            Some(value) => {
                self.pos = end;
                Some(Ok(RawSubOption { code, value, offset }))
            }
            None => {
                self.failed = true;
                Some(Err(Error::new(
                    offset,
                    ErrorKind::LengthMismatch {
                        what: length_what(code),
                        declared: len,
                        available: have.saturating_sub(2),
                    },
                )))
            }
        }
    }
}

impl FusedIterator for SubOptions<'_> {}

/// Iterates over the sub-options of a joined option-43 payload.
pub fn sub_options(payload: &[u8]) -> SubOptions<'_> {
    SubOptions::new(payload)
}

// ---------------------------------------------------------------------------------
// Value types
// ---------------------------------------------------------------------------------

/// BSDP message type (sub-option 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageType {
    /// 1: `INFORM[LIST]` / `ACK[LIST]`.
    List,
    /// 2: `INFORM[SELECT]` / `ACK[SELECT]`.
    Select,
    /// 3: `ACK[FAILED]`.
    Failed,
    /// Any other value (0 is Apple's internal "none" and never valid on the wire).
    /// [`MessageType::from`] never puts 1, 2 or 3 here.
    Unknown(u8),
}

impl From<u8> for MessageType {
    fn from(v: u8) -> Self {
        match v {
            1 => MessageType::List,
            2 => MessageType::Select,
            3 => MessageType::Failed,
            other => MessageType::Unknown(other),
        }
    }
}

impl From<MessageType> for u8 {
    fn from(t: MessageType) -> u8 {
        match t {
            MessageType::List => 1,
            MessageType::Select => 2,
            MessageType::Failed => 3,
            MessageType::Unknown(v) => v,
        }
    }
}

impl fmt::Display for MessageType {
    /// `LIST`, `SELECT`, `FAILED` or `UNKNOWN(n)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageType::List => f.write_str("LIST"),
            MessageType::Select => f.write_str("SELECT"),
            MessageType::Failed => f.write_str("FAILED"),
            MessageType::Unknown(v) => write!(f, "UNKNOWN({v})"),
        }
    }
}

/// BSDP protocol version (sub-option 2): major in the high octet, minor in the low.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(pub u16);

impl Version {
    /// 0x0000: Apple bootpd treats it as a NetBoot 1.0 client.
    pub const NETBOOT_1_0: Version = Version(0x0000);
    /// 0x0100: version 1.0 (older clients).
    pub const V1_0: Version = Version(0x0100);
    /// 0x0101: version 1.1, the current one (needed to receive the boot image list).
    pub const V1_1: Version = Version(0x0101);

    /// The major version (high octet).
    pub const fn major(self) -> u8 {
        (self.0 >> 8) as u8
    }

    /// The minor version (low octet).
    pub const fn minor(self) -> u8 {
        (self.0 & 0xff) as u8
    }

    /// True for the values Apple bootpd accepts: 0x0000, 0x0100 and 0x0101.
    pub const fn is_known(self) -> bool {
        matches!(self.0, 0x0000 | 0x0100 | 0x0101)
    }
}

impl From<u16> for Version {
    fn from(v: u16) -> Self {
        Version(v)
    }
}

impl From<Version> for u16 {
    fn from(v: Version) -> u16 {
        v.0
    }
}

impl fmt::Display for Version {
    /// `major.minor`, e.g. `1.1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major(), self.minor())
    }
}

/// The kind field of a [`BootImageId`] (bits 6..0 of its first octet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BootImageKind {
    /// 0: Mac OS 9.
    MacOs9,
    /// 1: Mac OS X.
    MacOsX,
    /// 2: Mac OS X Server.
    MacOsXServer,
    /// 3: Hardware Diagnostics.
    HardwareDiagnostics,
    /// 4–127: reserved. [`BootImageKind::from_bits`] never puts 0–3 here, and only
    /// the low 7 bits are ever encoded.
    Reserved(u8),
}

impl BootImageKind {
    /// Decodes a 7-bit kind value (the high bit of `bits` is ignored).
    pub const fn from_bits(bits: u8) -> Self {
        match bits & 0x7f {
            0 => BootImageKind::MacOs9,
            1 => BootImageKind::MacOsX,
            2 => BootImageKind::MacOsXServer,
            3 => BootImageKind::HardwareDiagnostics,
            n => BootImageKind::Reserved(n),
        }
    }

    /// The 7-bit kind value.
    pub const fn bits(self) -> u8 {
        match self {
            BootImageKind::MacOs9 => 0,
            BootImageKind::MacOsX => 1,
            BootImageKind::MacOsXServer => 2,
            BootImageKind::HardwareDiagnostics => 3,
            BootImageKind::Reserved(n) => n & 0x7f,
        }
    }
}

impl fmt::Display for BootImageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootImageKind::MacOs9 => f.write_str("Mac OS 9"),
            BootImageKind::MacOsX => f.write_str("Mac OS X"),
            BootImageKind::MacOsXServer => f.write_str("Mac OS X Server"),
            BootImageKind::HardwareDiagnostics => f.write_str("Hardware Diagnostics"),
            BootImageKind::Reserved(n) => write!(f, "reserved kind {n}"),
        }
    }
}

/// A 32-bit boot image identifier (sub-options 7, 8 and the entries of 9).
///
/// ```text
///  octet 0          octet 1     octets 2-3
/// +-+-------------+-----------+----------------+
/// |I|    Kind     | reserved  |     Index      |
/// +-+-------------+-----------+----------------+
///  \____ attributes (u16) ___/ \_ index (u16) _/
/// ```
///
/// An image is identified by the whole value, not only by its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BootImageId(pub u32);

impl BootImageId {
    /// First globally unique index (indices below are server-specific).
    pub const GLOBAL_INDEX_START: u16 = 0x1000;

    /// Builds an ID from its parts, with the reserved octet zero.
    pub const fn new(install: bool, kind: BootImageKind, index: u16) -> Self {
        let attributes = ((install as u16) << 15) | ((kind.bits() as u16) << 8);
        Self::from_parts(attributes, index)
    }

    /// Builds an ID from the attributes (high 16 bits) and the index (low 16 bits).
    pub const fn from_parts(attributes: u16, index: u16) -> Self {
        BootImageId(((attributes as u32) << 16) | index as u32)
    }

    /// Builds an ID from its four big-endian octets.
    pub const fn from_bytes(bytes: [u8; 4]) -> Self {
        BootImageId(u32::from_be_bytes(bytes))
    }

    /// The four big-endian octets.
    pub const fn to_bytes(self) -> [u8; 4] {
        self.0.to_be_bytes()
    }

    /// Attributes: the high 16 bits (install bit, kind, reserved octet). This is the
    /// value an image attributes filter (sub-option 11) matches against.
    pub const fn attributes(self) -> u16 {
        (self.0 >> 16) as u16
    }

    /// Index: the low 16 bits.
    pub const fn index(self) -> u16 {
        (self.0 & 0xffff) as u16
    }

    /// The install bit (bit 7 of the first octet).
    pub const fn is_install(self) -> bool {
        self.0 & 0x8000_0000 != 0
    }

    /// The kind (bits 6..0 of the first octet).
    pub const fn kind(self) -> BootImageKind {
        BootImageKind::from_bits((self.0 >> 24) as u8)
    }

    /// The reserved second octet (clients must not interpret it).
    pub const fn reserved(self) -> u8 {
        ((self.0 >> 16) & 0xff) as u8
    }

    /// True if the index is globally unique (≥ 0x1000); otherwise server-specific.
    pub const fn is_global(self) -> bool {
        self.index() >= Self::GLOBAL_INDEX_START
    }

    /// True for index 0, the null image that a server never sends.
    pub const fn is_null(self) -> bool {
        self.index() == 0
    }
}

impl From<u32> for BootImageId {
    fn from(v: u32) -> Self {
        BootImageId(v)
    }
}

impl From<BootImageId> for u32 {
    fn from(id: BootImageId) -> u32 {
        id.0
    }
}

impl fmt::Display for BootImageId {
    /// `0x` and eight lowercase hex digits, e.g. `0x81001001`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

/// One entry of a boot image list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BootImage<'a> {
    /// The image ID.
    pub id: BootImageId,
    /// The name as sent (UTF-8 by the specification, not NUL-terminated; not checked).
    pub name: &'a [u8],
}

impl BootImage<'_> {
    /// Encoded length of this entry (5 + name length).
    pub fn wire_len(&self) -> usize {
        self.name.len().saturating_add(5)
    }
}

#[derive(Clone, Copy)]
enum ListInner<'a> {
    Wire(&'a [u8]),
    Entries(&'a [BootImage<'a>]),
}

/// The value of a boot image list sub-option (9): a sequence of entries, each a
/// 4-octet [`BootImageId`], a 1-octet name length *n* and *n* octets of name.
///
/// Either a view of wire bytes ([`BootImageList::new_checked`],
/// [`BootImageList::new_unchecked`]) or a borrowed slice of entries
/// ([`BootImageList::from_entries`]) for building messages. Iteration yields
/// `Result`s: a view that was not checked can end in a truncated entry.
#[derive(Clone, Copy)]
pub struct BootImageList<'a>(ListInner<'a>);

impl<'a> BootImageList<'a> {
    /// A view of a sub-option 9 value, checked so that every entry is complete.
    /// Error offsets are relative to `value`.
    pub fn new_checked(value: &'a [u8]) -> Result<Self> {
        let list = BootImageList(ListInner::Wire(value));
        list.check()?;
        Ok(list)
    }

    /// A view of a sub-option 9 value without checking it; iteration reports a
    /// truncated entry as an error.
    pub const fn new_unchecked(value: &'a [u8]) -> Self {
        BootImageList(ListInner::Wire(value))
    }

    /// A list built from entries (for emitting).
    pub const fn from_entries(entries: &'a [BootImage<'a>]) -> Self {
        BootImageList(ListInner::Entries(entries))
    }

    /// The wire bytes, if this is a view of wire bytes.
    pub fn as_wire(&self) -> Option<&'a [u8]> {
        match self.0 {
            ListInner::Wire(b) => Some(b),
            ListInner::Entries(_) => None,
        }
    }

    /// Iterates over the entries.
    pub fn iter(&self) -> BootImageIter<'a> {
        BootImageIter(match self.0 {
            ListInner::Wire(buf) => IterInner::Wire { buf, pos: 0, failed: false },
            ListInner::Entries(e) => IterInner::Entries(e.iter()),
        })
    }

    /// Checks that every entry is complete (and, for built lists, that every name fits
    /// its one-octet length). Error offsets are relative to the value.
    pub fn check(&self) -> Result<()> {
        let mut offset = 0usize;
        for entry in self.iter() {
            let entry = entry?;
            if entry.name.len() > 255 {
                return Err(Error::new(
                    offset,
                    ErrorKind::BadValue {
                        code: code::BOOT_IMAGE_LIST,
                        name: error_name(code::BOOT_IMAGE_LIST),
                        reason: "a boot image name is longer than 255 octets",
                    },
                ));
            }
            offset = offset.saturating_add(entry.wire_len());
        }
        Ok(())
    }

    /// Number of complete entries (stops at the first bad one).
    pub fn len(&self) -> usize {
        self.iter().map_while(|e| e.ok()).count()
    }

    /// True if there are no complete entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Encoded value length.
    pub fn value_len(&self) -> usize {
        match self.0 {
            ListInner::Wire(b) => b.len(),
            ListInner::Entries(e) => e.iter().fold(0usize, |acc, i| acc.saturating_add(i.wire_len())),
        }
    }

    fn emit_value(&self, c: &mut Cursor<'_>) -> Result<()> {
        match self.0 {
            ListInner::Wire(b) => c.put(b),
            ListInner::Entries(entries) => {
                for e in entries {
                    let Ok(n) = u8::try_from(e.name.len()) else {
                        return Err(Error::new(
                            c.pos,
                            ErrorKind::BadValue {
                                code: code::BOOT_IMAGE_LIST,
                                name: error_name(code::BOOT_IMAGE_LIST),
                                reason: "a boot image name is longer than 255 octets",
                            },
                        ));
                    };
                    c.put(&e.id.to_bytes())?;
                    c.put_u8(n)?;
                    c.put(e.name)?;
                }
                Ok(())
            }
        }
    }
}

impl PartialEq for BootImageList<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self.0, other.0) {
            (ListInner::Wire(a), ListInner::Wire(b)) => a == b,
            _ => self.iter().eq(other.iter()),
        }
    }
}

impl Eq for BootImageList<'_> {}

impl fmt::Debug for BootImageList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for BootImageList<'a> {
    type Item = Result<BootImage<'a>>;
    type IntoIter = BootImageIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a> IntoIterator for &BootImageList<'a> {
    type Item = Result<BootImage<'a>>;
    type IntoIter = BootImageIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[derive(Debug, Clone)]
enum IterInner<'a> {
    Wire { buf: &'a [u8], pos: usize, failed: bool },
    Entries(core::slice::Iter<'a, BootImage<'a>>),
}

/// Iterator over the entries of a [`BootImageList`]. After a truncated entry (an
/// `Err`, offset relative to the list value) it stops.
#[derive(Debug, Clone)]
pub struct BootImageIter<'a>(IterInner<'a>);

impl<'a> Iterator for BootImageIter<'a> {
    type Item = Result<BootImage<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            IterInner::Entries(it) => it.next().map(|e| Ok(*e)),
            IterInner::Wire { buf, pos, failed } => {
                if *failed || *pos >= buf.len() {
                    return None;
                }
                let at = *pos;
                let have = buf.len().saturating_sub(at);
                let truncated = |need: usize| {
                    Error::new(at, ErrorKind::Truncated { what: "BSDP boot image list entry", need, have })
                };
                let header = field::u32_at(buf, at).zip(field::u8_at(buf, at.saturating_add(4)));
                let Some((id, n)) = header else {
                    *failed = true;
                    return Some(Err(truncated(5)));
                };
                let start = at.saturating_add(5);
                let end = start.saturating_add(usize::from(n));
                match buf.get(start..end) {
                    Some(name) => {
                        *pos = end;
                        Some(Ok(BootImage { id: BootImageId(id), name }))
                    }
                    None => {
                        *failed = true;
                        Some(Err(truncated(usize::from(n).saturating_add(5))))
                    }
                }
            }
        }
    }
}

impl FusedIterator for BootImageIter<'_> {}

#[derive(Clone, Copy)]
enum FilterInner<'a> {
    Wire(&'a [u8]),
    Values(&'a [u16]),
}

/// The value of an image attributes filter list sub-option (11): N ≥ 1 big-endian
/// `u16` attribute values (the high 16 bits of a [`BootImageId`]).
///
/// Either a view of wire bytes or a borrowed slice of values (for emitting).
#[derive(Clone, Copy)]
pub struct AttributesFilterList<'a>(FilterInner<'a>);

impl<'a> AttributesFilterList<'a> {
    /// A view of a sub-option 11 value, checked: the length must be even and at least
    /// 2. The error offset is 0 (the start of the value).
    pub fn new_checked(value: &'a [u8]) -> Result<Self> {
        let list = AttributesFilterList(FilterInner::Wire(value));
        list.check()?;
        Ok(list)
    }

    /// A view without checking; an odd last octet is ignored by iteration.
    pub const fn new_unchecked(value: &'a [u8]) -> Self {
        AttributesFilterList(FilterInner::Wire(value))
    }

    /// A list built from values (for emitting).
    pub const fn from_values(values: &'a [u16]) -> Self {
        AttributesFilterList(FilterInner::Values(values))
    }

    /// The wire bytes, if this is a view of wire bytes.
    pub fn as_wire(&self) -> Option<&'a [u8]> {
        match self.0 {
            FilterInner::Wire(b) => Some(b),
            FilterInner::Values(_) => None,
        }
    }

    /// Checks the length: even and at least 2 octets.
    pub fn check(&self) -> Result<()> {
        let len = self.value_len();
        if len >= 2 && len % 2 == 0 {
            Ok(())
        } else {
            Err(wrong_len(code::ATTRIBUTES_FILTER_LIST, 0, len, "expected a non-zero multiple of 2"))
        }
    }

    /// Iterates over the attribute values.
    pub fn iter(&self) -> AttributesIter<'a> {
        AttributesIter(match self.0 {
            FilterInner::Wire(b) => AttrInner::Wire(b.chunks_exact(2)),
            FilterInner::Values(v) => AttrInner::Values(v.iter()),
        })
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self.0 {
            FilterInner::Wire(b) => b.len() / 2,
            FilterInner::Values(v) => v.len(),
        }
    }

    /// True if there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if `attributes` is one of the values.
    pub fn contains(&self, attributes: u16) -> bool {
        self.iter().any(|a| a == attributes)
    }

    /// True if the image's attributes match one of the values.
    pub fn matches(&self, id: BootImageId) -> bool {
        self.contains(id.attributes())
    }

    /// Encoded value length.
    pub fn value_len(&self) -> usize {
        match self.0 {
            FilterInner::Wire(b) => b.len(),
            FilterInner::Values(v) => v.len().saturating_mul(2),
        }
    }

    fn emit_value(&self, c: &mut Cursor<'_>) -> Result<()> {
        match self.0 {
            FilterInner::Wire(b) => c.put(b),
            FilterInner::Values(v) => v.iter().try_for_each(|a| c.put(&a.to_be_bytes())),
        }
    }
}

impl PartialEq for AttributesFilterList<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self.0, other.0) {
            (FilterInner::Wire(a), FilterInner::Wire(b)) => a == b,
            _ => self.value_len() == other.value_len() && self.iter().eq(other.iter()),
        }
    }
}

impl Eq for AttributesFilterList<'_> {}

impl fmt::Debug for AttributesFilterList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().map(|a| format!("{a:#06x}"))).finish()
    }
}

impl<'a> IntoIterator for AttributesFilterList<'a> {
    type Item = u16;
    type IntoIter = AttributesIter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[derive(Debug, Clone)]
enum AttrInner<'a> {
    Wire(core::slice::ChunksExact<'a, u8>),
    Values(core::slice::Iter<'a, u16>),
}

/// Iterator over the values of an [`AttributesFilterList`].
#[derive(Debug, Clone)]
pub struct AttributesIter<'a>(AttrInner<'a>);

impl Iterator for AttributesIter<'_> {
    type Item = u16;

    fn next(&mut self) -> Option<u16> {
        match &mut self.0 {
            AttrInner::Wire(chunks) => chunks.next().and_then(|c| field::u16_at(c, 0)),
            AttrInner::Values(it) => it.next().copied(),
        }
    }
}

impl FusedIterator for AttributesIter<'_> {}

// ---------------------------------------------------------------------------------
// Typed sub-options
// ---------------------------------------------------------------------------------

/// One typed BSDP sub-option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubOption<'a> {
    /// 1: message type.
    MessageType(MessageType),
    /// 2: protocol version.
    Version(Version),
    /// 3: server identifier (the server the client selected).
    ServerIdentifier(Ipv4Addr),
    /// 4: server priority, 0 (lowest) to 65535.
    ServerPriority(u16),
    /// 5: reply port (must be < 1024; not checked here).
    ReplyPort(u16),
    /// 6: boot image list path (defined, never used).
    BootImageListPath(&'a [u8]),
    /// 7: default boot image ID.
    DefaultBootImageId(BootImageId),
    /// 8: selected boot image ID.
    SelectedBootImageId(BootImageId),
    /// 9: boot image list (may be repeated; all instances form one list).
    BootImageList(BootImageList<'a>),
    /// 10: NetBoot 1.0 firmware flag (zero length).
    NetBoot10Firmware,
    /// 11: image attributes filter list.
    AttributesFilterList(AttributesFilterList<'a>),
    /// 12: maximum message size.
    MaxMessageSize(u16),
    /// 128: shadow mount path (an AFP URL).
    ShadowMountPath(&'a [u8]),
    /// 129: shadow file path.
    ShadowFilePath(&'a [u8]),
    /// 130: machine name.
    MachineName(&'a [u8]),
    /// A sub-option with an unassigned code, kept as raw bytes.
    Unknown {
        /// The code.
        code: u8,
        /// The raw value.
        value: &'a [u8],
    },
    /// A fixed-size sub-option with the wrong length, kept as raw bytes by
    /// [`SubOption::parse_lenient`] so that emitting reproduces it (and usable to
    /// emit such malformed sub-options on purpose).
    Invalid {
        /// The code.
        code: u8,
        /// The raw value.
        value: &'a [u8],
    },
}

impl<'a> SubOption<'a> {
    /// Decodes a raw sub-option strictly: fixed-size sub-options must have their exact
    /// length, a boot image list must consist of complete entries, and a filter list
    /// must have an even, non-zero length. Error offsets are those of the payload the
    /// raw sub-option came from.
    pub fn parse(raw: RawSubOption<'a>) -> Result<Self> {
        match Self::parse_lenient(raw) {
            (opt, None) => Ok(opt),
            (_, Some(err)) => Err(err),
        }
    }

    /// Decodes a raw sub-option, never failing: returns the best decoding plus the
    /// problem found, if any. A fixed-size sub-option with the wrong length becomes
    /// [`SubOption::Invalid`]; a damaged boot image list or filter list is kept as an
    /// unchecked view (its good entries remain readable).
    pub fn parse_lenient(raw: RawSubOption<'a>) -> (Self, Option<Error>) {
        let RawSubOption { code, value, offset } = raw;
        let invalid = SubOption::Invalid { code, value };
        if let Some(expected) = fixed_value_len(code) {
            if value.len() != expected {
                let err = wrong_len(code, offset, value.len(), expected_text(code));
                return (invalid, Some(err));
            }
        }
        let decoded = match code {
            code::MESSAGE_TYPE => field::u8_at(value, 0).map(|v| SubOption::MessageType(v.into())),
            code::VERSION => field::u16_at(value, 0).map(|v| SubOption::Version(Version(v))),
            code::SERVER_IDENTIFIER => field::ipv4_at(value, 0).map(SubOption::ServerIdentifier),
            code::SERVER_PRIORITY => field::u16_at(value, 0).map(SubOption::ServerPriority),
            code::REPLY_PORT => field::u16_at(value, 0).map(SubOption::ReplyPort),
            code::BOOT_IMAGE_LIST_PATH => Some(SubOption::BootImageListPath(value)),
            code::DEFAULT_BOOT_IMAGE_ID => {
                field::u32_at(value, 0).map(|v| SubOption::DefaultBootImageId(BootImageId(v)))
            }
            code::SELECTED_BOOT_IMAGE_ID => {
                field::u32_at(value, 0).map(|v| SubOption::SelectedBootImageId(BootImageId(v)))
            }
            code::BOOT_IMAGE_LIST => {
                let list = BootImageList::new_unchecked(value);
                let err = list.check().err().map(|e| e.shifted(raw.value_offset()));
                return (SubOption::BootImageList(list), err);
            }
            code::NETBOOT_1_0_FIRMWARE => Some(SubOption::NetBoot10Firmware),
            code::ATTRIBUTES_FILTER_LIST => {
                let list = AttributesFilterList::new_unchecked(value);
                let err = list.check().err().map(|e| Error::new(offset, e.kind));
                return (SubOption::AttributesFilterList(list), err);
            }
            code::MAX_MESSAGE_SIZE => field::u16_at(value, 0).map(SubOption::MaxMessageSize),
            code::SHADOW_MOUNT_PATH => Some(SubOption::ShadowMountPath(value)),
            code::SHADOW_FILE_PATH => Some(SubOption::ShadowFilePath(value)),
            code::MACHINE_NAME => Some(SubOption::MachineName(value)),
            _ => Some(SubOption::Unknown { code, value }),
        };
        match decoded {
            Some(opt) => (opt, None),
            // Unreachable after the length check above, but never panic.
            None => {
                let err = wrong_len(code, offset, value.len(), expected_text(code));
                (invalid, Some(err))
            }
        }
    }

    /// The sub-option code.
    pub fn code(&self) -> u8 {
        match self {
            SubOption::MessageType(_) => code::MESSAGE_TYPE,
            SubOption::Version(_) => code::VERSION,
            SubOption::ServerIdentifier(_) => code::SERVER_IDENTIFIER,
            SubOption::ServerPriority(_) => code::SERVER_PRIORITY,
            SubOption::ReplyPort(_) => code::REPLY_PORT,
            SubOption::BootImageListPath(_) => code::BOOT_IMAGE_LIST_PATH,
            SubOption::DefaultBootImageId(_) => code::DEFAULT_BOOT_IMAGE_ID,
            SubOption::SelectedBootImageId(_) => code::SELECTED_BOOT_IMAGE_ID,
            SubOption::BootImageList(_) => code::BOOT_IMAGE_LIST,
            SubOption::NetBoot10Firmware => code::NETBOOT_1_0_FIRMWARE,
            SubOption::AttributesFilterList(_) => code::ATTRIBUTES_FILTER_LIST,
            SubOption::MaxMessageSize(_) => code::MAX_MESSAGE_SIZE,
            SubOption::ShadowMountPath(_) => code::SHADOW_MOUNT_PATH,
            SubOption::ShadowFilePath(_) => code::SHADOW_FILE_PATH,
            SubOption::MachineName(_) => code::MACHINE_NAME,
            SubOption::Unknown { code, .. } | SubOption::Invalid { code, .. } => *code,
        }
    }

    /// Length of the encoded value (may exceed 255 for a value that cannot be
    /// emitted).
    pub fn value_len(&self) -> usize {
        match self {
            SubOption::MessageType(_) => 1,
            SubOption::Version(_)
            | SubOption::ServerPriority(_)
            | SubOption::ReplyPort(_)
            | SubOption::MaxMessageSize(_) => 2,
            SubOption::ServerIdentifier(_) | SubOption::DefaultBootImageId(_) | SubOption::SelectedBootImageId(_) => 4,
            SubOption::NetBoot10Firmware => 0,
            SubOption::BootImageList(l) => l.value_len(),
            SubOption::AttributesFilterList(l) => l.value_len(),
            SubOption::BootImageListPath(v)
            | SubOption::ShadowMountPath(v)
            | SubOption::ShadowFilePath(v)
            | SubOption::MachineName(v)
            | SubOption::Unknown { value: v, .. }
            | SubOption::Invalid { value: v, .. } => v.len(),
        }
    }

    /// Length of the encoded sub-option: code, length and value.
    pub fn buffer_len(&self) -> usize {
        self.value_len().saturating_add(2)
    }

    /// Writes the sub-option (code, length, value) into `buf` and returns the number of
    /// octets written. Fails if the value is longer than 255 octets or `buf` is too
    /// short; error offsets are relative to `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let mut c = Cursor::new(buf);
        self.emit_into(&mut c)?;
        Ok(c.pos)
    }

    fn too_long(&self, offset: usize) -> Error {
        wrong_len(self.code(), offset, self.value_len(), "at most 255 octets fit a one-octet length")
    }

    fn emit_into(&self, c: &mut Cursor<'_>) -> Result<()> {
        let Ok(len) = u8::try_from(self.value_len()) else {
            return Err(self.too_long(c.pos));
        };
        c.put(&[self.code(), len])?;
        match self {
            SubOption::MessageType(t) => c.put_u8(u8::from(*t)),
            SubOption::Version(v) => c.put(&v.0.to_be_bytes()),
            SubOption::ServerIdentifier(ip) => c.put(&ip.octets()),
            SubOption::ServerPriority(v) | SubOption::ReplyPort(v) | SubOption::MaxMessageSize(v) => {
                c.put(&v.to_be_bytes())
            }
            SubOption::DefaultBootImageId(id) | SubOption::SelectedBootImageId(id) => c.put(&id.to_bytes()),
            SubOption::BootImageList(l) => l.emit_value(c),
            SubOption::NetBoot10Firmware => Ok(()),
            SubOption::AttributesFilterList(l) => l.emit_value(c),
            SubOption::BootImageListPath(v)
            | SubOption::ShadowMountPath(v)
            | SubOption::ShadowFilePath(v)
            | SubOption::MachineName(v)
            | SubOption::Unknown { value: v, .. }
            | SubOption::Invalid { value: v, .. } => c.put(v),
        }
    }

    /// The encoded sub-option (code, length, value).
    pub fn to_vec(&self) -> Result<Vec<u8>> {
        let mut v = vec![0u8; self.buffer_len()];
        let n = self.emit(&mut v)?;
        v.truncate(n);
        Ok(v)
    }
}

// ---------------------------------------------------------------------------------
// The whole option-43 payload
// ---------------------------------------------------------------------------------

/// A BSDP option-43 payload: its sub-options in wire order, duplicates kept.
///
/// Accessors return the first occurrence of a sub-option, except [`Repr::images`],
/// which joins all boot image lists in order. [`Repr::emit`] reproduces the parsed
/// bytes exactly (for a lenient parse too: an unframeable tail is kept, see
/// [`Repr::trailing`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Repr<'a> {
    /// The sub-options in order.
    pub options: Vec<SubOption<'a>>,
    trailing: &'a [u8],
}

/// Another name for [`Repr`].
pub type Message<'a> = Repr<'a>;

impl<'a> From<Vec<SubOption<'a>>> for Repr<'a> {
    fn from(options: Vec<SubOption<'a>>) -> Self {
        Repr::new(options)
    }
}

impl<'a> Repr<'a> {
    /// A message made of these sub-options.
    pub fn new(options: Vec<SubOption<'a>>) -> Self {
        Repr { options, trailing: &[] }
    }

    /// Parses a joined option-43 payload strictly; the first problem is the error.
    pub fn parse(payload: &'a [u8]) -> Result<Self> {
        let mut options = Vec::new();
        for raw in SubOptions::new(payload) {
            options.push(SubOption::parse(raw?)?);
        }
        Ok(Repr::new(options))
    }

    /// Parses a joined option-43 payload, keeping everything that parses and listing
    /// every problem. A framing error (a length past the end) ends the sub-options;
    /// the unframed tail is kept in [`Repr::trailing`].
    pub fn parse_lenient(payload: &'a [u8]) -> (Self, Vec<Error>) {
        let mut options = Vec::new();
        let mut findings = Vec::new();
        let mut iter = SubOptions::new(payload);
        let mut trailing: &'a [u8] = &[];
        while let Some(item) = iter.next() {
            match item {
                Ok(raw) => {
                    let (opt, err) = SubOption::parse_lenient(raw);
                    options.push(opt);
                    findings.extend(err);
                }
                Err(err) => {
                    trailing = iter.remaining();
                    findings.push(err);
                }
            }
        }
        (Repr { options, trailing }, findings)
    }

    /// Octets after the last sub-option that could not be framed (only ever non-empty
    /// after [`Repr::parse_lenient`]).
    pub fn trailing(&self) -> &'a [u8] {
        self.trailing
    }

    /// Iterates over the sub-options.
    pub fn iter(&self) -> core::slice::Iter<'_, SubOption<'a>> {
        self.options.iter()
    }

    /// The first sub-option with this code.
    pub fn find(&self, code: u8) -> Option<&SubOption<'a>> {
        self.options.iter().find(|o| o.code() == code)
    }

    /// How many sub-options have this code.
    pub fn count(&self, code: u8) -> usize {
        self.options.iter().filter(|o| o.code() == code).count()
    }

    fn first<T>(&self, f: impl Fn(&SubOption<'a>) -> Option<T>) -> Option<T> {
        self.options.iter().find_map(f)
    }

    /// Sub-option 1.
    pub fn message_type(&self) -> Option<MessageType> {
        self.first(|o| match o {
            SubOption::MessageType(t) => Some(*t),
            _ => None,
        })
    }

    /// Sub-option 2.
    pub fn version(&self) -> Option<Version> {
        self.first(|o| match o {
            SubOption::Version(v) => Some(*v),
            _ => None,
        })
    }

    /// Sub-option 3.
    pub fn server_id(&self) -> Option<Ipv4Addr> {
        self.first(|o| match o {
            SubOption::ServerIdentifier(ip) => Some(*ip),
            _ => None,
        })
    }

    /// Sub-option 4.
    pub fn priority(&self) -> Option<u16> {
        self.first(|o| match o {
            SubOption::ServerPriority(p) => Some(*p),
            _ => None,
        })
    }

    /// Sub-option 5.
    pub fn reply_port(&self) -> Option<u16> {
        self.first(|o| match o {
            SubOption::ReplyPort(p) => Some(*p),
            _ => None,
        })
    }

    /// Sub-option 6.
    pub fn boot_image_list_path(&self) -> Option<&'a [u8]> {
        self.first(|o| match o {
            SubOption::BootImageListPath(p) => Some(*p),
            _ => None,
        })
    }

    /// Sub-option 7.
    pub fn default_image(&self) -> Option<BootImageId> {
        self.first(|o| match o {
            SubOption::DefaultBootImageId(id) => Some(*id),
            _ => None,
        })
    }

    /// Sub-option 8.
    pub fn selected_image(&self) -> Option<BootImageId> {
        self.first(|o| match o {
            SubOption::SelectedBootImageId(id) => Some(*id),
            _ => None,
        })
    }

    /// Every boot image list sub-option (9), in order.
    pub fn image_lists(&self) -> impl Iterator<Item = BootImageList<'a>> + '_ {
        self.options.iter().filter_map(|o| match o {
            SubOption::BootImageList(l) => Some(*l),
            _ => None,
        })
    }

    /// All entries of all boot image lists (9), joined in order. A damaged list (only
    /// possible after [`Repr::parse_lenient`]) contributes its entries up to the first
    /// truncated one.
    pub fn images(&self) -> impl Iterator<Item = BootImage<'a>> + '_ {
        self.image_lists().flat_map(|l| l.iter().map_while(|e| e.ok()))
    }

    /// True if sub-option 10 is present.
    pub fn netboot_1_0_firmware(&self) -> bool {
        self.options.iter().any(|o| matches!(o, SubOption::NetBoot10Firmware))
    }

    /// Sub-option 11.
    pub fn attributes_filter(&self) -> Option<AttributesFilterList<'a>> {
        self.first(|o| match o {
            SubOption::AttributesFilterList(l) => Some(*l),
            _ => None,
        })
    }

    /// Sub-option 12.
    pub fn max_message_size(&self) -> Option<u16> {
        self.first(|o| match o {
            SubOption::MaxMessageSize(v) => Some(*v),
            _ => None,
        })
    }

    /// Sub-option 128.
    pub fn shadow_mount_path(&self) -> Option<&'a [u8]> {
        self.first(|o| match o {
            SubOption::ShadowMountPath(v) => Some(*v),
            _ => None,
        })
    }

    /// Sub-option 129.
    pub fn shadow_file_path(&self) -> Option<&'a [u8]> {
        self.first(|o| match o {
            SubOption::ShadowFilePath(v) => Some(*v),
            _ => None,
        })
    }

    /// Sub-option 130.
    pub fn machine_name(&self) -> Option<&'a [u8]> {
        self.first(|o| match o {
            SubOption::MachineName(v) => Some(*v),
            _ => None,
        })
    }

    /// Length of the encoded payload. Fails if a value is longer than 255 octets.
    pub fn buffer_len(&self) -> Result<usize> {
        let mut total = 0usize;
        for opt in &self.options {
            if opt.value_len() > MAX_VALUE_LEN {
                return Err(opt.too_long(total));
            }
            total = total.saturating_add(opt.buffer_len());
        }
        Ok(total.saturating_add(self.trailing.len()))
    }

    /// Writes the joined option-43 payload into `buf` and returns its length. Error
    /// offsets are relative to `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let mut c = Cursor::new(buf);
        for opt in &self.options {
            opt.emit_into(&mut c)?;
        }
        c.put(self.trailing)?;
        Ok(c.pos)
    }

    /// The joined option-43 payload.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut v = vec![0u8; self.buffer_len()?];
        let n = self.emit(&mut v)?;
        v.truncate(n);
        Ok(v)
    }

    /// Splits the payload into option-43 instance values of at most 255 octets,
    /// starting a new instance only at a sub-option boundary (as Apple bootpd does):
    /// sub-options are packed in order, and an instance is closed when the next
    /// sub-option does not fit in it. Fails if one sub-option is longer than 255
    /// octets including its code and length (a value over 253 octets); the error
    /// offset is where that sub-option starts in the joined payload. An unframed
    /// [`Repr::trailing`] tail, having no boundaries, is cut wherever needed. An
    /// empty message gives no instances.
    pub fn split_instances(&self) -> Result<Vec<Vec<u8>>> {
        let mut out: Vec<Vec<u8>> = Vec::new();
        let mut cur: Vec<u8> = Vec::new();
        let mut offset = 0usize;
        for opt in &self.options {
            let n = opt.buffer_len();
            if n > MAX_INSTANCE_LEN {
                return Err(wrong_len(
                    opt.code(),
                    offset,
                    opt.value_len(),
                    "at most 253 octets so the sub-option fits one 255-octet option-43 instance",
                ));
            }
            if cur.len().saturating_add(n) > MAX_INSTANCE_LEN {
                out.push(core::mem::take(&mut cur));
            }
            let bytes = opt.to_vec().map_err(|e| e.shifted(offset))?;
            cur.extend_from_slice(&bytes);
            offset = offset.saturating_add(n);
        }
        let mut tail = self.trailing;
        while !tail.is_empty() {
            let room = MAX_INSTANCE_LEN.saturating_sub(cur.len());
            if room == 0 {
                out.push(core::mem::take(&mut cur));
                continue;
            }
            let (head, rest) = tail.split_at_checked(room).unwrap_or((tail, &[]));
            cur.extend_from_slice(head);
            tail = rest;
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        Ok(out)
    }

    /// The payload as complete DHCP option-43 instances (`43, len, value`, repeated),
    /// split as by [`Repr::split_instances`], ready to go into a DHCP options field.
    pub fn to_option_43(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        for inst in self.split_instances()? {
            let Ok(len) = u8::try_from(inst.len()) else {
                // split_instances never makes one this long; report rather than panic.
                return Err(Error::new(
                    out.len(),
                    ErrorKind::WrongLength {
                        code: OPTION_VENDOR_SPECIFIC,
                        name: "vendor specific information",
                        len: inst.len(),
                        expected: "expected at most 255",
                    },
                ));
            };
            out.push(OPTION_VENDOR_SPECIFIC);
            out.push(len);
            out.extend_from_slice(&inst);
        }
        Ok(out)
    }

    /// A one-line decode with DHCP context (see [`Summary`]).
    pub fn summary(&self) -> Summary<'_, 'a> {
        Summary { repr: self, dhcp_message_type: None, server_id: None }
    }
}

impl<'r, 'a> IntoIterator for &'r Repr<'a> {
    type Item = &'r SubOption<'a>;
    type IntoIter = core::slice::Iter<'r, SubOption<'a>>;

    fn into_iter(self) -> Self::IntoIter {
        self.options.iter()
    }
}

/// A stable one-line decode of a [`Repr`], optionally with the DHCP message type
/// (option 53) and server identifier (option 54) of the enclosing packet.
///
/// Format: `BSDP `, then `<DHCP>[<TYPE>]` (e.g. `ACK[LIST]`, or just `[LIST]` without
/// DHCP context; `[-]` if there is no message type), then, each only when present and
/// in this order: `v<major>.<minor>`, `server=<ip>` (sub-option 3, else the option-54
/// context), `priority=`, `reply_port=`, `max_size=`, `netboot1.0`,
/// `filter=[0x0300,..]`, `default=<id>`, `selected=<id>`,
/// `images=[<id> "<name>", ..]`, `list_path=`, `shadow_mount=`, `shadow_file=`,
/// `machine=` (quoted, escaped), then every unknown sub-option as `opt<code>=<hex>`,
/// every wrong-length one as `bad<code>=<hex>`, `dup=[codes]` for repeated sub-options
/// other than 9, and `trailing=<hex>`. Scalars show their first occurrence.
///
/// ```text
/// BSDP ACK[LIST] server=192.0.2.1 priority=100 default=0x01000001 images=[0x01000001 "Mac OS X 10.4"]
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Summary<'r, 'a> {
    repr: &'r Repr<'a>,
    dhcp_message_type: Option<u8>,
    server_id: Option<Ipv4Addr>,
}

impl Summary<'_, '_> {
    /// The DHCP message type (option 53) of the enclosing packet, e.g. 5 (ACK).
    #[must_use]
    pub fn dhcp_message_type(mut self, t: u8) -> Self {
        self.dhcp_message_type = Some(t);
        self
    }

    /// The DHCP server identifier (option 54), shown when sub-option 3 is absent.
    #[must_use]
    pub fn server_id(mut self, ip: Ipv4Addr) -> Self {
        self.server_id = Some(ip);
        self
    }
}

fn dhcp_type_name(f: &mut fmt::Formatter<'_>, t: u8) -> fmt::Result {
    let name = match t {
        1 => "DISCOVER",
        2 => "OFFER",
        3 => "REQUEST",
        4 => "DECLINE",
        5 => "ACK",
        6 => "NAK",
        7 => "RELEASE",
        8 => "INFORM",
        other => return write!(f, "DHCP{other}"),
    };
    f.write_str(name)
}

impl fmt::Display for Summary<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.repr;
        f.write_str("BSDP ")?;
        if let Some(t) = self.dhcp_message_type {
            dhcp_type_name(f, t)?;
        }
        match r.message_type() {
            Some(t) => write!(f, "[{t}]")?,
            None => f.write_str("[-]")?,
        }
        if let Some(v) = r.version() {
            write!(f, " v{v}")?;
        }
        if let Some(ip) = r.server_id().or(self.server_id) {
            write!(f, " server={ip}")?;
        }
        if let Some(p) = r.priority() {
            write!(f, " priority={p}")?;
        }
        if let Some(p) = r.reply_port() {
            write!(f, " reply_port={p}")?;
        }
        if let Some(m) = r.max_message_size() {
            write!(f, " max_size={m}")?;
        }
        if r.netboot_1_0_firmware() {
            f.write_str(" netboot1.0")?;
        }
        if let Some(l) = r.attributes_filter() {
            f.write_str(" filter=[")?;
            for (i, a) in l.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{a:#06x}")?;
            }
            f.write_str("]")?;
        }
        if let Some(id) = r.default_image() {
            write!(f, " default={id}")?;
        }
        if let Some(id) = r.selected_image() {
            write!(f, " selected={id}")?;
        }
        if r.image_lists().next().is_some() {
            f.write_str(" images=[")?;
            let mut first = true;
            for list in r.image_lists() {
                for entry in list.iter() {
                    if !first {
                        f.write_str(", ")?;
                    }
                    first = false;
                    match entry {
                        Ok(img) => {
                            write!(f, "{} ", img.id)?;
                            write_quoted(f, img.name)?;
                        }
                        Err(_) => f.write_str("<truncated>")?,
                    }
                }
            }
            f.write_str("]")?;
        }
        let strings: [(&str, Option<&[u8]>); 4] = [
            ("list_path", r.boot_image_list_path()),
            ("shadow_mount", r.shadow_mount_path()),
            ("shadow_file", r.shadow_file_path()),
            ("machine", r.machine_name()),
        ];
        for (label, value) in strings {
            if let Some(v) = value {
                write!(f, " {label}=")?;
                write_quoted(f, v)?;
            }
        }
        for opt in r.iter() {
            let (label, code, value) = match opt {
                SubOption::Unknown { code, value } => ("opt", code, value),
                SubOption::Invalid { code, value } => ("bad", code, value),
                _ => continue,
            };
            write!(f, " {label}{code}=")?;
            write_hex(f, value)?;
        }
        let mut seen = [0u8; 256];
        for opt in r.iter() {
            if let Some(n) = seen.get_mut(usize::from(opt.code())) {
                *n = n.saturating_add(1);
            }
        }
        let dups =
            seen.iter().enumerate().filter(|&(c, &n)| n > 1 && c != usize::from(code::BOOT_IMAGE_LIST)).map(|(c, _)| c);
        let mut first = true;
        for c in dups {
            f.write_str(if first { " dup=[" } else { "," })?;
            first = false;
            write!(f, "{c}")?;
        }
        if !first {
            f.write_str("]")?;
        }
        if !r.trailing.is_empty() {
            f.write_str(" trailing=")?;
            write_hex(f, r.trailing)?;
        }
        Ok(())
    }
}

impl fmt::Display for Repr<'_> {
    /// The [`Summary`] without DHCP context.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.summary().fmt(f)
    }
}

// ---------------------------------------------------------------------------------
// Several option-43 instances
// ---------------------------------------------------------------------------------

/// A sub-option that spans more than one option-43 instance.
///
/// Joining the instances makes such a payload legal (RFC 3396), but Apple bootpd only
/// starts a new instance at a sub-option boundary, so a server that straddles is
/// worth reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Straddle {
    /// Code of the straddling sub-option.
    pub code: u8,
    /// Offset of its code octet in the joined payload.
    pub offset: usize,
    /// Its encoded length (code, length and value).
    pub len: usize,
    /// Index of the instance where it starts.
    pub first_instance: usize,
    /// Index of the instance where it ends.
    pub last_instance: usize,
}

impl Straddle {
    /// This straddle as an error (at its offset in the joined payload).
    pub fn to_error(&self) -> Error {
        Error::new(
            self.offset,
            ErrorKind::Malformed {
                what: "BSDP option-43 instances",
                reason: "a sub-option straddles two option-43 instances \
                         (legal per RFC 3396; Apple bootpd splits only at sub-option boundaries)",
            },
        )
    }
}

/// The values of several option-43 instances joined in order (RFC 3396), with the
/// instance boundaries remembered.
///
/// The sub-options are parsed from the joined bytes (so parsed values borrow from this
/// value); offsets in errors are offsets in the joined payload, which
/// [`JoinedInstances::locate`] maps back to an instance.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JoinedInstances {
    bytes: Vec<u8>,
    ranges: Vec<Range<usize>>,
}

impl JoinedInstances {
    /// Joins option-43 instance values (without their `43, len` headers), in order.
    pub fn join<'i, I>(instances: I) -> Self
    where
        I: IntoIterator<Item = &'i [u8]>,
    {
        let mut bytes = Vec::new();
        let mut ranges = Vec::new();
        for inst in instances {
            let start = bytes.len();
            bytes.extend_from_slice(inst);
            ranges.push(start..bytes.len());
        }
        JoinedInstances { bytes, ranges }
    }

    /// The joined payload.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Number of instances joined.
    pub fn instance_count(&self) -> usize {
        self.ranges.len()
    }

    /// Where instance `index` lies in the joined payload.
    pub fn instance_range(&self, index: usize) -> Option<Range<usize>> {
        self.ranges.get(index).cloned()
    }

    /// Maps an offset in the joined payload to (instance index, offset in that
    /// instance). Empty instances never contain an offset.
    pub fn locate(&self, offset: usize) -> Option<(usize, usize)> {
        let index = self.ranges.partition_point(|r| r.end <= offset);
        let range = self.ranges.get(index)?;
        range.contains(&offset).then(|| (index, offset.saturating_sub(range.start)))
    }

    /// Every framed sub-option that does not lie within a single instance.
    pub fn straddles(&self) -> Vec<Straddle> {
        let mut out = Vec::new();
        for raw in SubOptions::new(&self.bytes).map_while(|r| r.ok()) {
            let first = self.locate(raw.offset).map(|(i, _)| i);
            let last = self.locate(raw.end().saturating_sub(1)).map(|(i, _)| i);
            if let (Some(first_instance), Some(last_instance)) = (first, last) {
                if first_instance != last_instance {
                    out.push(Straddle {
                        code: raw.code,
                        offset: raw.offset,
                        len: raw.end().saturating_sub(raw.offset),
                        first_instance,
                        last_instance,
                    });
                }
            }
        }
        out
    }

    /// Parses the joined payload strictly ([`Repr::parse`]). Straddling sub-options
    /// are legal here; see [`JoinedInstances::straddles`].
    pub fn parse(&self) -> Result<Repr<'_>> {
        Repr::parse(&self.bytes)
    }

    /// Parses the joined payload leniently ([`Repr::parse_lenient`]). The findings
    /// also list every empty instance (RFC 2132 gives option 43 a minimum length of
    /// 1) and every [`Straddle`], ordered by offset.
    pub fn parse_lenient(&self) -> (Repr<'_>, Vec<Error>) {
        let (repr, mut findings) = Repr::parse_lenient(&self.bytes);
        for r in self.ranges.iter().filter(|r| r.is_empty()) {
            findings.push(Error::new(
                r.start,
                ErrorKind::WrongLength {
                    code: OPTION_VENDOR_SPECIFIC,
                    name: "vendor specific information",
                    len: 0,
                    expected: "expected at least 1 (RFC 2132 §8.4)",
                },
            ));
        }
        findings.extend(self.straddles().iter().map(Straddle::to_error));
        findings.sort_by_key(|e| e.offset);
        (repr, findings)
    }
}

// ---------------------------------------------------------------------------------
// Fuzzing support
// ---------------------------------------------------------------------------------

#[cfg(feature = "arbitrary")]
mod arbitrary_impls {
    use super::*;
    use arbitrary::{Arbitrary, Unstructured};

    impl<'a> Arbitrary<'a> for MessageType {
        fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
            Ok(MessageType::from(u8::arbitrary(u)?))
        }
    }

    impl<'a> Arbitrary<'a> for Version {
        fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
            Ok(Version(u16::arbitrary(u)?))
        }
    }

    impl<'a> Arbitrary<'a> for BootImageId {
        fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
            Ok(BootImageId(u32::arbitrary(u)?))
        }
    }

    impl<'a> Arbitrary<'a> for VendorClass<'a> {
        fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
            if bool::arbitrary(u)? {
                Ok(VendorClass::Server)
            } else {
                Ok(VendorClass::Client { arch: <&[u8]>::arbitrary(u)?, system_id: <&[u8]>::arbitrary(u)? })
            }
        }
    }

    /// Picks a code, then (usually) the right length for fixed-size codes, and decodes
    /// the bytes; values that do not decode become [`SubOption::Invalid`].
    impl<'a> Arbitrary<'a> for SubOption<'a> {
        fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
            let code = u8::arbitrary(u)?;
            let len = match fixed_value_len(code) {
                Some(n) if u.ratio(7u8, 8u8)? => n,
                _ => usize::from(u8::arbitrary(u)?),
            };
            let value = u.bytes(len)?;
            let raw = RawSubOption { code, value, offset: 0 };
            Ok(SubOption::parse_lenient(raw).0)
        }
    }

    impl<'a> Arbitrary<'a> for Repr<'a> {
        fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
            let options = u.arbitrary_iter::<SubOption<'a>>()?.collect::<arbitrary::Result<Vec<_>>>()?;
            Ok(Repr::new(options))
        }
    }
}
