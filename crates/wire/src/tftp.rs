//! TFTP: RFC 1350 packets, RFC 2347 option negotiation (OACK), and the option values
//! of RFC 2348 (`blksize`), RFC 2349 (`timeout`, `tsize`) and RFC 7440 (`windowsize`).
//!
//! ```text
//!   2 bytes    string   1 byte  string  1 byte  string 1 byte string 1 byte
//!  +--------+----------+------+--------+------+-------+------+-------+------+-->
//!  | 01/02  | filename |  0   |  mode  |  0   | opt1  |  0   | value1|  0   | ...   RRQ/WRQ
//!  +--------+----------+------+--------+------+-------+------+-------+------+-->
//!  |   03   |  block # |  data (0..=blksize octets)                            DATA
//!  |   04   |  block # |                                                       ACK
//!  |   05   | errcode  |  message  |  0  |                                     ERROR
//!  |   06   |  opt1  | 0 | value1 | 0 | ...                                    OACK
//! ```
//!
//! [`Packet`] is a zero-copy view with field accessors; [`Repr`] is the parsed value
//! that borrows its strings from the buffer and emits the same octets back. Strings
//! (file names, modes, option names and values, error messages) are kept as raw bytes:
//! TFTP says "netascii" but real packets carry anything, and a conformance harness must
//! see exactly what was sent.
//!
//! Parsing checks the *format* (lengths, NUL terminators, option pairing). Whether the
//! contents make sense (a known transfer mode, option values in their RFC ranges, no
//! repeated options, a request of at most 512 octets) is checked separately by
//! [`Repr::validate`], so captures of broken clients still decode.
//!
//! Offsets in errors are relative to the first octet of the TFTP packet (the UDP
//! payload). A truncated fixed field is reported at the offset where the missing
//! octets would start; an unterminated string at the offset of its first octet.

use core::fmt;
use core::ops::RangeInclusive;

use crate::error::{Error, ErrorKind, Finding, Mode, Result};
use crate::field::{put, u16_at};

/// The TFTP server's well-known UDP port (RFC 1350).
pub const SERVER_PORT: u16 = 69;

/// The block size used when no `blksize` option was negotiated (RFC 1350).
pub const DEFAULT_BLKSIZE: usize = 512;

/// The largest request (RRQ/WRQ) packet RFC 2347 allows, in octets.
pub const MAX_REQUEST_LEN: usize = 512;

/// Field offsets. Only the opcode and the two-octet field after it are fixed; the
/// rest is a sequence of NUL-terminated strings or the DATA payload.
mod field {
    use core::ops::Range;

    /// Opcode of every packet.
    pub const OPCODE: Range<usize> = 0..2;
    /// Block number of DATA and ACK.
    pub const BLOCK: Range<usize> = 2..4;
    /// Error code of ERROR.
    pub const ERROR_CODE: Range<usize> = 2..4;
    /// First octet of the DATA payload.
    pub const DATA: usize = 4;
    /// First octet of the ERROR message.
    pub const ERROR_MESSAGE: usize = 4;
    /// First octet of the file name of RRQ/WRQ.
    pub const FILENAME: usize = 2;
    /// First octet of the option list of OACK.
    pub const OACK_OPTIONS: usize = 2;
}

// ---------------------------------------------------------------------------------
// Opcodes, error codes, modes
// ---------------------------------------------------------------------------------

/// A TFTP opcode (RFC 1350 §5, RFC 2347).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Opcode {
    /// 1: read request.
    Rrq,
    /// 2: write request.
    Wrq,
    /// 3: data.
    Data,
    /// 4: acknowledgment.
    Ack,
    /// 5: error.
    Error,
    /// 6: option acknowledgment (RFC 2347).
    Oack,
    /// Any other value. [`Opcode::from`] never puts 1..=6 here.
    Unknown(u16),
}

impl From<u16> for Opcode {
    fn from(v: u16) -> Self {
        match v {
            1 => Opcode::Rrq,
            2 => Opcode::Wrq,
            3 => Opcode::Data,
            4 => Opcode::Ack,
            5 => Opcode::Error,
            6 => Opcode::Oack,
            n => Opcode::Unknown(n),
        }
    }
}

impl From<Opcode> for u16 {
    fn from(op: Opcode) -> u16 {
        match op {
            Opcode::Rrq => 1,
            Opcode::Wrq => 2,
            Opcode::Data => 3,
            Opcode::Ack => 4,
            Opcode::Error => 5,
            Opcode::Oack => 6,
            Opcode::Unknown(n) => n,
        }
    }
}

impl fmt::Display for Opcode {
    /// `RRQ`, `WRQ`, `DATA`, `ACK`, `ERROR`, `OACK`, or `opcode(N)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Opcode::Rrq => f.write_str("RRQ"),
            Opcode::Wrq => f.write_str("WRQ"),
            Opcode::Data => f.write_str("DATA"),
            Opcode::Ack => f.write_str("ACK"),
            Opcode::Error => f.write_str("ERROR"),
            Opcode::Oack => f.write_str("OACK"),
            Opcode::Unknown(n) => write!(f, "opcode({n})"),
        }
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Opcode {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Opcode::from(u16::arbitrary(u)?))
    }
}

/// The opcode of a request: read (RRQ, 1) or write (WRQ, 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum RequestOpcode {
    /// Read request (1).
    Rrq,
    /// Write request (2).
    Wrq,
}

impl From<RequestOpcode> for Opcode {
    fn from(op: RequestOpcode) -> Opcode {
        match op {
            RequestOpcode::Rrq => Opcode::Rrq,
            RequestOpcode::Wrq => Opcode::Wrq,
        }
    }
}

impl fmt::Display for RequestOpcode {
    /// `RRQ` or `WRQ`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Opcode::from(*self).fmt(f)
    }
}

/// A TFTP error code (RFC 1350 appendix, RFC 2347 for 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    /// 0: Not defined, see error message (if any).
    NotDefined,
    /// 1: File not found.
    FileNotFound,
    /// 2: Access violation.
    AccessViolation,
    /// 3: Disk full or allocation exceeded.
    DiskFull,
    /// 4: Illegal TFTP operation.
    IllegalOperation,
    /// 5: Unknown transfer ID.
    UnknownTransferId,
    /// 6: File already exists.
    FileExists,
    /// 7: No such user.
    NoSuchUser,
    /// 8: the transfer is terminated due to option negotiation (RFC 2347).
    OptionNegotiation,
    /// Any other value. [`ErrorCode::from`] never puts 0..=8 here.
    Unknown(u16),
}

impl From<u16> for ErrorCode {
    fn from(v: u16) -> Self {
        match v {
            0 => ErrorCode::NotDefined,
            1 => ErrorCode::FileNotFound,
            2 => ErrorCode::AccessViolation,
            3 => ErrorCode::DiskFull,
            4 => ErrorCode::IllegalOperation,
            5 => ErrorCode::UnknownTransferId,
            6 => ErrorCode::FileExists,
            7 => ErrorCode::NoSuchUser,
            8 => ErrorCode::OptionNegotiation,
            n => ErrorCode::Unknown(n),
        }
    }
}

impl From<ErrorCode> for u16 {
    fn from(c: ErrorCode) -> u16 {
        match c {
            ErrorCode::NotDefined => 0,
            ErrorCode::FileNotFound => 1,
            ErrorCode::AccessViolation => 2,
            ErrorCode::DiskFull => 3,
            ErrorCode::IllegalOperation => 4,
            ErrorCode::UnknownTransferId => 5,
            ErrorCode::FileExists => 6,
            ErrorCode::NoSuchUser => 7,
            ErrorCode::OptionNegotiation => 8,
            ErrorCode::Unknown(n) => n,
        }
    }
}

impl ErrorCode {
    /// A short lower-case name: `file not found`, `option negotiation failed`,
    /// `unknown` for codes no RFC defines.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorCode::NotDefined => "not defined",
            ErrorCode::FileNotFound => "file not found",
            ErrorCode::AccessViolation => "access violation",
            ErrorCode::DiskFull => "disk full or allocation exceeded",
            ErrorCode::IllegalOperation => "illegal TFTP operation",
            ErrorCode::UnknownTransferId => "unknown transfer ID",
            ErrorCode::FileExists => "file already exists",
            ErrorCode::NoSuchUser => "no such user",
            ErrorCode::OptionNegotiation => "option negotiation failed",
            ErrorCode::Unknown(_) => "unknown",
        }
    }

    /// The meaning as RFC 1350's table words it (for 8, which RFC 2347 defines in a
    /// sentence, a paraphrase of that sentence), or `None` for undefined codes.
    pub const fn description(self) -> Option<&'static str> {
        Some(match self {
            ErrorCode::NotDefined => "Not defined, see error message (if any).",
            ErrorCode::FileNotFound => "File not found.",
            ErrorCode::AccessViolation => "Access violation.",
            ErrorCode::DiskFull => "Disk full or allocation exceeded.",
            ErrorCode::IllegalOperation => "Illegal TFTP operation.",
            ErrorCode::UnknownTransferId => "Unknown transfer ID.",
            ErrorCode::FileExists => "File already exists.",
            ErrorCode::NoSuchUser => "No such user.",
            ErrorCode::OptionNegotiation => "Transfer terminated due to option negotiation.",
            ErrorCode::Unknown(_) => return None,
        })
    }
}

impl fmt::Display for ErrorCode {
    /// The number followed by the short name: `1 (file not found)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", u16::from(*self), self.name())
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for ErrorCode {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(ErrorCode::from(u16::arbitrary(u)?))
    }
}

/// A transfer mode RFC 1350 defines. Requests keep the raw mode bytes; this is the
/// case-insensitive interpretation of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TransferMode {
    /// `netascii`.
    Netascii,
    /// `octet`.
    Octet,
    /// `mail` (obsolete).
    Mail,
}

impl TransferMode {
    /// Recognise a mode string, ignoring ASCII case. `None` for anything else
    /// (including a mode with surrounding spaces).
    pub fn from_bytes(mode: &[u8]) -> Option<Self> {
        if mode.eq_ignore_ascii_case(b"netascii") {
            Some(TransferMode::Netascii)
        } else if mode.eq_ignore_ascii_case(b"octet") {
            Some(TransferMode::Octet)
        } else if mode.eq_ignore_ascii_case(b"mail") {
            Some(TransferMode::Mail)
        } else {
            None
        }
    }

    /// The canonical lower-case spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            TransferMode::Netascii => "netascii",
            TransferMode::Octet => "octet",
            TransferMode::Mail => "mail",
        }
    }
}

impl fmt::Display for TransferMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------

/// An option whose value an RFC defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OptionKind {
    /// `blksize`, 8..=65464 octets (RFC 2348).
    Blksize,
    /// `timeout`, 1..=255 seconds (RFC 2349).
    Timeout,
    /// `tsize`, the transfer size in octets, any value (RFC 2349).
    Tsize,
    /// `windowsize`, 1..=65535 blocks (RFC 7440).
    Windowsize,
}

impl OptionKind {
    /// Recognise an option name, ignoring ASCII case (RFC 2347 makes names
    /// case-insensitive).
    pub fn from_name(name: &[u8]) -> Option<Self> {
        [OptionKind::Blksize, OptionKind::Timeout, OptionKind::Tsize, OptionKind::Windowsize]
            .into_iter()
            .find(|k| name.eq_ignore_ascii_case(k.name().as_bytes()))
    }

    /// The canonical lower-case name, e.g. `blksize`.
    pub const fn name(self) -> &'static str {
        match self {
            OptionKind::Blksize => "blksize",
            OptionKind::Timeout => "timeout",
            OptionKind::Tsize => "tsize",
            OptionKind::Windowsize => "windowsize",
        }
    }

    /// The valid values, inclusive (`tsize` accepts any 64-bit value).
    pub const fn range(self) -> RangeInclusive<u64> {
        match self {
            OptionKind::Blksize => 8..=65464,
            OptionKind::Timeout => 1..=255,
            OptionKind::Tsize => 0..=u64::MAX,
            OptionKind::Windowsize => 1..=65535,
        }
    }

    /// The `what` of errors about this option's value.
    const fn value_what(self) -> &'static str {
        match self {
            OptionKind::Blksize => "TFTP blksize value",
            OptionKind::Timeout => "TFTP timeout value",
            OptionKind::Tsize => "TFTP tsize value",
            OptionKind::Windowsize => "TFTP windowsize value",
        }
    }

    /// The reason given when the value is outside [`OptionKind::range`].
    const fn range_reason(self) -> &'static str {
        match self {
            OptionKind::Blksize => "outside 8..=65464 octets (RFC 2348)",
            OptionKind::Timeout => "outside 1..=255 seconds (RFC 2349)",
            OptionKind::Tsize => "outside the 64-bit range",
            OptionKind::Windowsize => "outside 1..=65535 blocks (RFC 7440)",
        }
    }

    /// Check a value against this option's syntax (ASCII decimal) and range.
    pub fn check_value(self, value: &[u8]) -> core::result::Result<u64, ErrorKind> {
        let what = self.value_what();
        let v = decimal(value).map_err(|reason| ErrorKind::Malformed { what, reason })?;
        if self.range().contains(&v) {
            Ok(v)
        } else {
            Err(ErrorKind::Malformed { what, reason: self.range_reason() })
        }
    }
}

impl fmt::Display for OptionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parse an unsigned ASCII decimal number: one or more digits, nothing else.
fn decimal(s: &[u8]) -> core::result::Result<u64, &'static str> {
    if s.is_empty() {
        return Err("empty; expected an ASCII decimal number");
    }
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return Err("not an ASCII decimal number");
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(c.wrapping_sub(b'0'))))
            .ok_or("decimal number does not fit in 64 bits")?;
    }
    Ok(v)
}

/// One option name/value pair of a request or OACK, as raw bytes (without the NULs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct TftpOption<'a> {
    /// The option name, e.g. `blksize` (any case).
    pub name: &'a [u8],
    /// The option value, e.g. `1468`.
    pub value: &'a [u8],
}

impl<'a> TftpOption<'a> {
    /// A name/value pair.
    pub const fn new(name: &'a [u8], value: &'a [u8]) -> Self {
        TftpOption { name, value }
    }

    /// The option this is, if an RFC defines it (name compared ignoring ASCII case).
    pub fn kind(&self) -> Option<OptionKind> {
        OptionKind::from_name(self.name)
    }

    /// The value as an unsigned ASCII decimal number; `None` if it is empty, holds
    /// anything but the digits 0-9 (no sign, no spaces), or overflows 64 bits.
    pub fn value_u64(&self) -> Option<u64> {
        decimal(self.value).ok()
    }

    /// Check the value of a known option against its RFC: `Ok(Some(value))` when it
    /// is a decimal number in range, `Ok(None)` for options no RFC here defines, and a
    /// precise [`ErrorKind::Malformed`] otherwise.
    pub fn check(&self) -> core::result::Result<Option<u64>, ErrorKind> {
        match self.kind() {
            Some(k) => k.check_value(self.value).map(Some),
            None => Ok(None),
        }
    }

    /// Octets on the wire: name, NUL, value, NUL.
    pub fn wire_len(&self) -> usize {
        self.name.len().saturating_add(self.value.len()).saturating_add(2)
    }
}

impl fmt::Display for TftpOption<'_> {
    /// `name=value`, each part bare when it is plain printable ASCII, quoted and
    /// escaped otherwise (see [`Repr`]'s `Display`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", Token(self.name), Token(self.value))
    }
}

/// The result of reading one option pair at some offset.
enum Step<'a> {
    /// A complete pair and the offset after its value's NUL.
    Pair(TftpOption<'a>, usize),
    /// A malformed pair: what could be salvaged (an unterminated string runs to the
    /// end of the buffer, a missing value is empty) and the error.
    Bad(TftpOption<'a>, Error),
}

/// Read the option pair starting at `at`, or `None` at the end of the buffer.
fn next_option(b: &[u8], at: usize) -> Option<Step<'_>> {
    if at >= b.len() {
        return None;
    }
    let (name, after_name) = cstr(b, at);
    let Some(value_at) = after_name else {
        let e = Error::new(at, ErrorKind::Unterminated { what: "TFTP option name" });
        return Some(Step::Bad(TftpOption::new(name, &[]), e));
    };
    if value_at >= b.len() {
        let e = Error::new(
            at,
            ErrorKind::Malformed {
                what: "TFTP options",
                reason: "odd number of option strings (option name without a value)",
            },
        );
        return Some(Step::Bad(TftpOption::new(name, &[]), e));
    }
    let (value, after_value) = cstr(b, value_at);
    match after_value {
        Some(next) => Some(Step::Pair(TftpOption::new(name, value), next)),
        None => {
            let e = Error::new(value_at, ErrorKind::Unterminated { what: "TFTP option value" });
            Some(Step::Bad(TftpOption::new(name, value), e))
        }
    }
}

/// A zero-copy iterator over the options of a request or OACK, in wire order
/// (duplicates included). Yields an error, then stops, at the first malformed pair.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    buf: &'a [u8],
    at: usize,
    done: bool,
}

impl<'a> Options<'a> {
    /// An iterator that yields nothing.
    const fn empty() -> Self {
        Options { buf: &[], at: 0, done: true }
    }

    /// The offset (in the packet) of the next pair this iterator would read.
    pub fn offset(&self) -> usize {
        self.at
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<TftpOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match next_option(self.buf, self.at) {
            None => {
                self.done = true;
                None
            }
            Some(Step::Pair(opt, next)) => {
                self.at = next;
                Some(Ok(opt))
            }
            Some(Step::Bad(_, e)) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl core::iter::FusedIterator for Options<'_> {}

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

/// The string starting at `at` up to (not including) the first NUL, and the offset
/// just past that NUL; `None` for the offset when there is no NUL (the string then
/// runs to the end of the buffer). Never panics, whatever `at` is.
fn cstr(b: &[u8], at: usize) -> (&[u8], Option<usize>) {
    let rest = b.get(at..).unwrap_or(&[]);
    match rest.iter().position(|&c| c == 0) {
        Some(i) => {
            let (s, _) = rest.split_at_checked(i).unwrap_or((rest, &[]));
            (s, at.checked_add(i).and_then(|e| e.checked_add(1)))
        }
        None => (rest, None),
    }
}

/// Where findings go: the first error only (strict) or all of them (lenient).
struct Sink {
    mode: Mode,
    first: Option<Error>,
    all: Vec<Finding>,
}

impl Sink {
    fn new(mode: Mode) -> Self {
        Sink { mode, first: None, all: Vec::new() }
    }

    /// Record a problem; `true` when parsing should go on.
    fn report(&mut self, e: Error) -> bool {
        match self.mode {
            Mode::Strict => {
                if self.first.is_none() {
                    self.first = Some(e);
                }
                false
            }
            Mode::Lenient => {
                self.all.push(e);
                true
            }
        }
    }
}

/// A decoded packet without its options (those go to a callback, so that checking a
/// view allocates nothing).
enum Skeleton<'a> {
    Request { opcode: RequestOpcode, filename: &'a [u8], mode: &'a [u8] },
    Data { block: u16, data: &'a [u8] },
    Ack { block: u16 },
    Error { code: ErrorCode, message: &'a [u8] },
    Oack,
}

/// Read the two-octet field after the opcode, or report it truncated.
fn fixed_u16(b: &[u8], what: &'static str, sink: &mut Sink) -> Option<u16> {
    let v = u16_at(b, field::BLOCK.start);
    if v.is_none() {
        let have = b.len().saturating_sub(field::BLOCK.start);
        sink.report(Error::new(b.len(), ErrorKind::Truncated { what, need: 2, have }));
    }
    v
}

/// Hand every option from `at` on to `on`, reporting malformed pairs. `false` when
/// the sink says to stop.
fn scan_options<'a>(b: &'a [u8], mut at: usize, sink: &mut Sink, on: &mut impl FnMut(TftpOption<'a>)) -> bool {
    loop {
        match next_option(b, at) {
            None => return true,
            Some(Step::Pair(opt, next)) => {
                on(opt);
                at = next;
            }
            Some(Step::Bad(opt, e)) => {
                if !sink.report(e) {
                    return false;
                }
                on(opt);
                return true;
            }
        }
    }
}

/// The decoder shared by [`Packet::check_len`] and the [`Repr`] parsers. Returns
/// `None` when nothing usable was decoded or the strict sink stopped.
fn decode<'a>(b: &'a [u8], sink: &mut Sink, on_option: &mut impl FnMut(TftpOption<'a>)) -> Option<Skeleton<'a>> {
    let Some(op) = u16_at(b, field::OPCODE.start) else {
        let e = Error::new(b.len(), ErrorKind::Truncated { what: "TFTP opcode", need: 2, have: b.len() });
        sink.report(e);
        return None;
    };
    let skeleton = match Opcode::from(op) {
        op @ (Opcode::Rrq | Opcode::Wrq) => {
            let opcode = if op == Opcode::Rrq { RequestOpcode::Rrq } else { RequestOpcode::Wrq };
            let (filename, after_filename) = cstr(b, field::FILENAME);
            let Some(mode_at) = after_filename else {
                let e = Error::new(field::FILENAME, ErrorKind::Unterminated { what: "TFTP filename" });
                if !sink.report(e) {
                    return None;
                }
                return Some(Skeleton::Request { opcode, filename, mode: &[] });
            };
            let (mode, after_mode) = cstr(b, mode_at);
            let Some(options_at) = after_mode else {
                let e = Error::new(mode_at, ErrorKind::Unterminated { what: "TFTP transfer mode" });
                if !sink.report(e) {
                    return None;
                }
                return Some(Skeleton::Request { opcode, filename, mode });
            };
            if !scan_options(b, options_at, sink, on_option) {
                return None;
            }
            Skeleton::Request { opcode, filename, mode }
        }
        Opcode::Data => {
            let block = fixed_u16(b, "TFTP block number", sink)?;
            Skeleton::Data { block, data: b.get(field::DATA..).unwrap_or(&[]) }
        }
        Opcode::Ack => {
            let block = fixed_u16(b, "TFTP block number", sink)?;
            if b.len() > field::BLOCK.end {
                let e = Error::new(
                    field::BLOCK.end,
                    ErrorKind::Malformed { what: "TFTP ACK", reason: "octets after the block number" },
                );
                if !sink.report(e) {
                    return None;
                }
            }
            Skeleton::Ack { block }
        }
        Opcode::Error => {
            let code = ErrorCode::from(fixed_u16(b, "TFTP error code", sink)?);
            let (message, after) = cstr(b, field::ERROR_MESSAGE);
            match after {
                None => {
                    let e = Error::new(field::ERROR_MESSAGE, ErrorKind::Unterminated { what: "TFTP error message" });
                    if !sink.report(e) {
                        return None;
                    }
                }
                Some(end) if end < b.len() => {
                    let e = Error::new(
                        end,
                        ErrorKind::Malformed {
                            what: "TFTP ERROR",
                            reason: "octets after the NUL that ends the error message",
                        },
                    );
                    if !sink.report(e) {
                        return None;
                    }
                }
                Some(_) => {}
            }
            Skeleton::Error { code, message }
        }
        Opcode::Oack => {
            if !scan_options(b, field::OACK_OPTIONS, sink, on_option) {
                return None;
            }
            Skeleton::Oack
        }
        Opcode::Unknown(v) => {
            sink.report(Error::new(
                field::OPCODE.start,
                ErrorKind::Unsupported { what: "TFTP opcode", value: u32::from(v) },
            ));
            return None;
        }
    };
    Some(skeleton)
}

// ---------------------------------------------------------------------------------
// Packet view
// ---------------------------------------------------------------------------------

/// A read-only (or, for `T: AsMut<[u8]>`, read-write) view of a TFTP packet.
///
/// Accessors never panic: on a buffer too short for a field (possible only with
/// [`Packet::new_unchecked`]) they return 0 or an empty slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wrap a buffer without checking it.
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wrap a buffer, checking it with [`Packet::check_len`].
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Packet { buffer };
        p.check_len()?;
        Ok(p)
    }

    /// Check the packet's format: a known opcode, the fixed fields present, every
    /// string NUL-terminated, options in pairs, nothing after an ACK's block number or
    /// after an ERROR message's NUL. Exactly the packets [`Repr::parse`] accepts pass.
    /// Allocates nothing.
    pub fn check_len(&self) -> Result<()> {
        let mut sink = Sink::new(Mode::Strict);
        let _ = decode(self.buffer.as_ref(), &mut sink, &mut |_| {});
        match sink.first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// All octets of the packet.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// The opcode (`Unknown(0)` if the buffer is shorter than 2 octets).
    pub fn opcode(&self) -> Opcode {
        Opcode::from(u16_at(self.as_bytes(), field::OPCODE.start).unwrap_or(0))
    }

    /// The block number of a DATA or ACK packet (the same two octets of any packet).
    pub fn block(&self) -> u16 {
        u16_at(self.as_bytes(), field::BLOCK.start).unwrap_or(0)
    }

    /// The error code of an ERROR packet (the same two octets of any packet).
    pub fn error_code(&self) -> ErrorCode {
        ErrorCode::from(u16_at(self.as_bytes(), field::ERROR_CODE.start).unwrap_or(0))
    }

    /// The payload of a DATA packet: everything after the block number.
    pub fn data(&self) -> &[u8] {
        self.as_bytes().get(field::DATA..).unwrap_or(&[])
    }

    /// The message of an ERROR packet, without its NUL (up to the end of the buffer if
    /// there is none).
    pub fn error_message(&self) -> &[u8] {
        cstr(self.as_bytes(), field::ERROR_MESSAGE).0
    }

    /// The file name of a request, without its NUL.
    pub fn filename(&self) -> &[u8] {
        cstr(self.as_bytes(), field::FILENAME).0
    }

    /// The raw transfer mode of a request, without its NUL (empty if the file name is
    /// unterminated).
    pub fn mode(&self) -> &[u8] {
        match cstr(self.as_bytes(), field::FILENAME).1 {
            Some(at) => cstr(self.as_bytes(), at).0,
            None => &[],
        }
    }

    /// The recognised transfer mode of a request.
    pub fn transfer_mode(&self) -> Option<TransferMode> {
        TransferMode::from_bytes(self.mode())
    }

    /// Offset of the first option of a request (after the mode's NUL) or OACK, or
    /// `None` for other opcodes and for requests whose file name or mode is
    /// unterminated.
    pub fn options_offset(&self) -> Option<usize> {
        let b = self.as_bytes();
        match self.opcode() {
            Opcode::Rrq | Opcode::Wrq => {
                let mode_at = cstr(b, field::FILENAME).1?;
                cstr(b, mode_at).1
            }
            Opcode::Oack if b.len() >= field::OACK_OPTIONS => Some(field::OACK_OPTIONS),
            _ => None,
        }
    }

    /// The options of a request or OACK, in wire order; empty for other packets.
    pub fn options(&self) -> Options<'_> {
        match self.options_offset() {
            Some(at) => Options { buf: self.as_bytes(), at, done: false },
            None => Options::empty(),
        }
    }

    /// For DATA: whether this is the last block of a transfer with the given block
    /// size (payload shorter than `blksize`). `false` for other packets.
    pub fn is_final_block(&self, blksize: usize) -> bool {
        self.opcode() == Opcode::Data && self.as_bytes().len() >= field::DATA && self.data().len() < blksize
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Set the opcode (no-op if the buffer is shorter than 2 octets).
    pub fn set_opcode(&mut self, op: Opcode) {
        put(self.buffer.as_mut(), field::OPCODE.start, &u16::from(op).to_be_bytes());
    }

    /// Set the block number of DATA/ACK (no-op if the buffer is too short).
    pub fn set_block(&mut self, block: u16) {
        put(self.buffer.as_mut(), field::BLOCK.start, &block.to_be_bytes());
    }

    /// Set the error code of ERROR (no-op if the buffer is too short).
    pub fn set_error_code(&mut self, code: ErrorCode) {
        put(self.buffer.as_mut(), field::ERROR_CODE.start, &u16::from(code).to_be_bytes());
    }

    /// The DATA payload, writable (empty if the buffer is shorter than 4 octets).
    pub fn data_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut().get_mut(field::DATA..).unwrap_or(&mut [])
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Packet<T> {
    /// A lenient one-line decode: the [`Repr`] line, followed by each finding as
    /// ` [at byte N: …]`; `TFTP` plus the findings when nothing decodes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (repr, findings) = Repr::parse_lenient(self.as_bytes());
        match repr {
            Some(r) => write!(f, "{r}")?,
            None => f.write_str("TFTP")?,
        }
        for e in &findings {
            write!(f, " [{e}]")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------
// Repr
// ---------------------------------------------------------------------------------

/// A parsed TFTP packet, borrowing its strings and payload from the buffer.
///
/// `emit` writes exactly the octets `parse` read. A hand-built `Repr` is written as
/// given, even when that cannot parse back the same (a NUL inside a string, an
/// `Unknown` code holding a defined value): that is how negative tests build broken
/// packets. [`Repr::check_encodable`] tells the two cases apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Repr<'a> {
    /// RRQ or WRQ, with RFC 2347 options in wire order (duplicates kept).
    Request {
        /// Read or write.
        opcode: RequestOpcode,
        /// The file name, raw.
        filename: &'a [u8],
        /// The transfer mode, raw (see [`TransferMode::from_bytes`]).
        mode: &'a [u8],
        /// Option pairs in wire order.
        options: Vec<TftpOption<'a>>,
    },
    /// DATA: a block number and 0 or more payload octets (not limited to 512).
    Data {
        /// Block number.
        block: u16,
        /// Payload.
        data: &'a [u8],
    },
    /// ACK of a block.
    Ack {
        /// Block number.
        block: u16,
    },
    /// ERROR with a code and a message (raw, without its NUL).
    Error {
        /// Error code.
        code: ErrorCode,
        /// Message, raw.
        message: &'a [u8],
    },
    /// OACK (RFC 2347) with the acknowledged option pairs in wire order.
    Oack {
        /// Option pairs in wire order.
        options: Vec<TftpOption<'a>>,
    },
}

impl<'a> Repr<'a> {
    /// Strict parse of a packet view: the first format error fails it (see
    /// [`Packet::check_len`] for what is checked).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Repr<'a>> {
        let buffer: &'a T = packet.buffer;
        Self::parse_bytes(buffer.as_ref())
    }

    /// Strict parse of a byte slice (the UDP payload).
    pub fn parse_bytes(bytes: &'a [u8]) -> Result<Repr<'a>> {
        let mut sink = Sink::new(Mode::Strict);
        let repr = Self::decode_with(bytes, &mut sink);
        match (sink.first, repr) {
            (Some(e), _) => Err(e),
            (None, Some(r)) => Ok(r),
            // Unreachable: the decoder reports whenever it gives up.
            (None, None) => {
                Err(Error::new(0, ErrorKind::Malformed { what: "TFTP packet", reason: "could not be decoded" }))
            }
        }
    }

    /// Lenient parse: everything that decodes, plus every format error found.
    ///
    /// An unterminated string is taken to run to the end of the packet, a missing mode
    /// is empty, an option name without a value gets an empty value, and the octets
    /// after an ACK's block number or an ERROR message's NUL are ignored. `None` only
    /// when the opcode is missing or unknown or the fixed two-octet field after it is
    /// cut short.
    pub fn parse_lenient(bytes: &'a [u8]) -> (Option<Repr<'a>>, Vec<Finding>) {
        let mut sink = Sink::new(Mode::Lenient);
        let repr = Self::decode_with(bytes, &mut sink);
        (repr, sink.all)
    }

    /// Parse in the given mode. Strict: the packet or the first error. Lenient: what
    /// [`Repr::parse_lenient`] returns, or its first finding when nothing decodes.
    pub fn parse_mode(bytes: &'a [u8], mode: Mode) -> Result<(Repr<'a>, Vec<Finding>)> {
        match mode {
            Mode::Strict => Self::parse_bytes(bytes).map(|r| (r, Vec::new())),
            Mode::Lenient => match Self::parse_lenient(bytes) {
                (Some(r), findings) => Ok((r, findings)),
                (None, findings) => Err(findings.into_iter().next().unwrap_or(Error::new(
                    0,
                    ErrorKind::Malformed { what: "TFTP packet", reason: "could not be decoded" },
                ))),
            },
        }
    }

    fn decode_with(bytes: &'a [u8], sink: &mut Sink) -> Option<Repr<'a>> {
        let mut options = Vec::new();
        let skeleton = decode(bytes, sink, &mut |o| options.push(o))?;
        Some(match skeleton {
            Skeleton::Request { opcode, filename, mode } => Repr::Request { opcode, filename, mode, options },
            Skeleton::Data { block, data } => Repr::Data { block, data },
            Skeleton::Ack { block } => Repr::Ack { block },
            Skeleton::Error { code, message } => Repr::Error { code, message },
            Skeleton::Oack => Repr::Oack { options },
        })
    }

    /// The opcode this packet is sent with.
    pub fn opcode(&self) -> Opcode {
        match self {
            Repr::Request { opcode, .. } => Opcode::from(*opcode),
            Repr::Data { .. } => Opcode::Data,
            Repr::Ack { .. } => Opcode::Ack,
            Repr::Error { .. } => Opcode::Error,
            Repr::Oack { .. } => Opcode::Oack,
        }
    }

    /// The options of a request or OACK (empty for other packets).
    pub fn options(&self) -> &[TftpOption<'a>] {
        match self {
            Repr::Request { options, .. } | Repr::Oack { options } => options,
            _ => &[],
        }
    }

    /// The first option of the given kind (names compared ignoring case).
    pub fn option(&self, kind: OptionKind) -> Option<&TftpOption<'a>> {
        self.options().iter().find(|o| o.kind() == Some(kind))
    }

    /// The recognised transfer mode of a request.
    pub fn transfer_mode(&self) -> Option<TransferMode> {
        match self {
            Repr::Request { mode, .. } => TransferMode::from_bytes(mode),
            _ => None,
        }
    }

    /// For DATA: whether this is the last block of a transfer with the given block
    /// size, i.e. the payload is shorter than `blksize` ([`DEFAULT_BLKSIZE`] unless
    /// negotiated). `false` for other packets.
    pub fn is_final_block(&self, blksize: usize) -> bool {
        matches!(self, Repr::Data { data, .. } if data.len() < blksize)
    }

    /// Octets [`Repr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        let options_len = |opts: &[TftpOption<'_>]| opts.iter().fold(0usize, |n, o| n.saturating_add(o.wire_len()));
        match self {
            Repr::Request { filename, mode, options, .. } => 2usize
                .saturating_add(filename.len())
                .saturating_add(mode.len())
                .saturating_add(2)
                .saturating_add(options_len(options)),
            Repr::Data { data, .. } => field::DATA.saturating_add(data.len()),
            Repr::Ack { .. } => field::BLOCK.end,
            Repr::Error { message, .. } => field::ERROR_MESSAGE.saturating_add(message.len()).saturating_add(1),
            Repr::Oack { options } => field::OACK_OPTIONS.saturating_add(options_len(options)),
        }
    }

    /// Write the packet into the start of `buf`, returning the number of octets written
    /// ([`Repr::buffer_len`]). Fails only when `buf` is too short.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let need = self.buffer_len();
        let have = buf.len();
        let truncated = || Error::new(have, ErrorKind::Truncated { what: "TFTP output buffer", need, have });
        let Some(out) = buf.get_mut(..need) else {
            return Err(truncated());
        };
        let mut w = Writer { out, at: 0, ok: true };
        w.bytes(&u16::from(self.opcode()).to_be_bytes());
        match self {
            Repr::Request { filename, mode, options, .. } => {
                w.cstr(filename);
                w.cstr(mode);
                w.options(options);
            }
            Repr::Data { block, data } => {
                w.bytes(&block.to_be_bytes());
                w.bytes(data);
            }
            Repr::Ack { block } => w.bytes(&block.to_be_bytes()),
            Repr::Error { code, message } => {
                w.bytes(&u16::from(*code).to_be_bytes());
                w.cstr(message);
            }
            Repr::Oack { options } => w.options(options),
        }
        if w.ok && w.at == need {
            Ok(need)
        } else {
            Err(truncated())
        }
    }

    /// Emit into a new vector.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = vec![0u8; self.buffer_len()];
        // Cannot fail: the buffer is exactly `buffer_len` long.
        let _ = self.emit(&mut v);
        v
    }

    /// `Ok` when [`Repr::emit`]'s output parses back to this same `Repr`; otherwise
    /// the first reason it would not (a NUL inside a string, an error code stored as
    /// `Unknown` although it is defined), at the offset it would appear.
    pub fn check_encodable(&self) -> Result<()> {
        let mut at: usize = 2;
        let no_nul = |s: &[u8], at: usize, what: &'static str| -> Result<()> {
            match s.iter().position(|&c| c == 0) {
                Some(i) => Err(Error::new(
                    at.saturating_add(i),
                    ErrorKind::Malformed { what, reason: "contains a NUL octet, which would end it early" },
                )),
                None => Ok(()),
            }
        };
        let check_options = |opts: &[TftpOption<'_>], at: &mut usize| -> Result<()> {
            for o in opts {
                no_nul(o.name, *at, "TFTP option name")?;
                no_nul(o.value, at.saturating_add(o.name.len()).saturating_add(1), "TFTP option value")?;
                *at = at.saturating_add(o.wire_len());
            }
            Ok(())
        };
        match self {
            Repr::Request { filename, mode, options, .. } => {
                no_nul(filename, at, "TFTP filename")?;
                at = at.saturating_add(filename.len()).saturating_add(1);
                no_nul(mode, at, "TFTP transfer mode")?;
                at = at.saturating_add(mode.len()).saturating_add(1);
                check_options(options, &mut at)
            }
            Repr::Data { .. } | Repr::Ack { .. } => Ok(()),
            Repr::Error { code, message } => {
                if let ErrorCode::Unknown(v) = code {
                    if ErrorCode::from(*v) != *code {
                        return Err(Error::new(
                            field::ERROR_CODE.start,
                            ErrorKind::Malformed {
                                what: "TFTP error code",
                                reason: "stored as Unknown but the value is a defined code",
                            },
                        ));
                    }
                }
                no_nul(message, field::ERROR_MESSAGE, "TFTP error message")
            }
            Repr::Oack { options } => check_options(options, &mut at),
        }
    }

    /// Check the contents against the RFCs, beyond the format `parse` enforces.
    /// Offsets are those of the emitted packet (for a parsed `Repr`, of the original).
    ///
    /// Requests: the file name is not empty; the mode is netascii, octet or mail (any
    /// case, RFC 1350); the packet is at most 512 octets (RFC 2347). Requests and OACK:
    /// each `blksize`/`timeout`/`tsize`/`windowsize` value is a decimal number in its
    /// RFC range; no option appears twice, names compared ignoring case (RFC 2347);
    /// an OACK acknowledges at least one option. ERROR: the code is 0..=8.
    pub fn validate(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        match self {
            Repr::Request { filename, mode, options, .. } => {
                if filename.is_empty() {
                    out.push(Error::new(
                        field::FILENAME,
                        ErrorKind::Malformed { what: "TFTP filename", reason: "empty" },
                    ));
                }
                let mode_at = field::FILENAME.saturating_add(filename.len()).saturating_add(1);
                if TransferMode::from_bytes(mode).is_none() {
                    out.push(Error::new(
                        mode_at,
                        ErrorKind::Malformed {
                            what: "TFTP transfer mode",
                            reason: "not netascii, octet or mail (RFC 1350)",
                        },
                    ));
                }
                let len = self.buffer_len();
                if len > MAX_REQUEST_LEN {
                    out.push(Error::new(
                        MAX_REQUEST_LEN,
                        ErrorKind::Malformed { what: "TFTP request", reason: "longer than 512 octets (RFC 2347)" },
                    ));
                }
                let options_at = mode_at.saturating_add(mode.len()).saturating_add(1);
                validate_options(options, options_at, &mut out);
            }
            Repr::Oack { options } => {
                if options.is_empty() {
                    out.push(Error::new(
                        field::OACK_OPTIONS,
                        ErrorKind::Malformed { what: "TFTP OACK", reason: "acknowledges no options" },
                    ));
                }
                validate_options(options, field::OACK_OPTIONS, &mut out);
            }
            Repr::Error { code: ErrorCode::Unknown(v), .. } => out.push(Error::new(
                field::ERROR_CODE.start,
                ErrorKind::Unsupported { what: "TFTP error code", value: u32::from(*v) },
            )),
            Repr::Error { .. } | Repr::Data { .. } | Repr::Ack { .. } => {}
        }
        out
    }
}

/// Findings about option values and repeats; `at` is the offset of the first pair.
/// Linear in the number of options (a fuzzed OACK can hold tens of thousands).
fn validate_options(options: &[TftpOption<'_>], mut at: usize, out: &mut Vec<Finding>) {
    let mut seen = std::collections::HashSet::with_capacity(options.len());
    for o in options {
        if !seen.insert(o.name.to_ascii_lowercase()) {
            out.push(Error::new(
                at,
                ErrorKind::Malformed { what: "TFTP option", reason: "specified more than once (RFC 2347)" },
            ));
        }
        if let Err(kind) = o.check() {
            out.push(Error::new(at.saturating_add(o.name.len()).saturating_add(1), kind));
        }
        at = at.saturating_add(o.wire_len());
    }
}

/// Sequential writer over an exactly-sized output buffer.
struct Writer<'b> {
    out: &'b mut [u8],
    at: usize,
    ok: bool,
}

impl Writer<'_> {
    fn bytes(&mut self, s: &[u8]) {
        self.ok &= put(self.out, self.at, s);
        self.at = self.at.saturating_add(s.len());
    }

    fn cstr(&mut self, s: &[u8]) {
        self.bytes(s);
        self.bytes(&[0]);
    }

    fn options(&mut self, options: &[TftpOption<'_>]) {
        for o in options {
            self.cstr(o.name);
            self.cstr(o.value);
        }
    }
}

impl fmt::Display for Repr<'_> {
    /// One stable line, e.g.
    ///
    /// ```text
    /// TFTP RRQ "pxelinux.0" mode=octet blksize=1468 tsize=0
    /// TFTP DATA block=3 len=105
    /// TFTP ACK block=3
    /// TFTP ERROR code=1 (file not found) "File not found"
    /// TFTP OACK blksize=1468 tsize=100000
    /// ```
    ///
    /// The file name and error message are always quoted; modes and option names and
    /// values are bare when they are non-empty printable ASCII without `"`, `\` or `=`,
    /// quoted otherwise. Inside quotes, `"` and `\` are backslash-escaped and octets
    /// outside printable ASCII are written `\xNN`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Repr::Request { opcode, filename, mode, options } => {
                write!(f, "TFTP {opcode} {} mode={}", Quoted(filename), Token(mode))?;
                for o in options {
                    write!(f, " {o}")?;
                }
                Ok(())
            }
            Repr::Data { block, data } => write!(f, "TFTP DATA block={block} len={}", data.len()),
            Repr::Ack { block } => write!(f, "TFTP ACK block={block}"),
            Repr::Error { code, message } => write!(f, "TFTP ERROR code={code} {}", Quoted(message)),
            Repr::Oack { options } => {
                f.write_str("TFTP OACK")?;
                if options.is_empty() {
                    f.write_str(" (no options)")?;
                }
                for o in options {
                    write!(f, " {o}")?;
                }
                Ok(())
            }
        }
    }
}

/// Raw bytes in double quotes, escaped so the output is one line of printable ASCII.
struct Quoted<'a>(&'a [u8]);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for &c in self.0 {
            match c {
                b'"' => f.write_str("\\\"")?,
                b'\\' => f.write_str("\\\\")?,
                0x20..=0x7e => write!(f, "{}", char::from(c))?,
                _ => write!(f, "\\x{c:02x}")?,
            }
        }
        f.write_str("\"")
    }
}

/// Raw bytes bare when unambiguous (non-empty, printable, no space, `"`, `\` or `=`),
/// [`Quoted`] otherwise.
struct Token<'a>(&'a [u8]);

impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bare =
            !self.0.is_empty() && self.0.iter().all(|&c| matches!(c, 0x21..=0x7e) && !matches!(c, b'"' | b'\\' | b'='));
        if bare {
            for &c in self.0 {
                write!(f, "{}", char::from(c))?;
            }
            Ok(())
        } else {
            Quoted(self.0).fmt(f)
        }
    }
}
