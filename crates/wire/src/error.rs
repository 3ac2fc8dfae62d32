//! Errors and findings.
//!
//! The wire crate never panics on input. Every problem it sees in a packet becomes an
//! [`Error`]: a byte offset (relative to the start of the buffer handed to the parser,
//! see [`Error::shifted`] to rebase it onto an enclosing frame) and an [`ErrorKind`]
//! that says what is wrong. Strict parsers return the first error of
//! [`Severity::Error`]; lenient parsers return everything that parsed plus the list of
//! findings (errors and warnings alike).

use core::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Legal but unusual or discouraged (e.g. non-zero bytes after the End option
    /// that a receiver must ignore). Strict parsing accepts these.
    Warning,
    /// The packet violates its format; a strict parser stops here.
    Error,
}

/// Which region of a BOOTP message an option (or a problem) sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Area {
    /// The vend/options field (after the magic cookie).
    Options,
    /// The `file` header field, used for options by overload (option 52) value 1 or 3.
    File,
    /// The `sname` header field, used for options by overload value 2 or 3.
    Sname,
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Area::Options => "options",
            Area::File => "file",
            Area::Sname => "sname",
        })
    }
}

/// What is wrong. Codes are option codes; lengths are in octets.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    #[error("truncated {what}: need {need} octets, have {have}")]
    Truncated { what: &'static str, need: usize, have: usize },
    #[error("option {code} has no length octet (the {area} area ends after its code)")]
    MissingLength { code: u8, area: Area },
    #[error("option {code} declares length {declared} but only {available} octets remain in the {area} area")]
    LengthPastEnd { code: u8, declared: usize, available: usize, area: Area },
    #[error("the {area} area has no End option (255)")]
    MissingEnd { area: Area },
    #[error("option {code} ({name}) has length {len}; {expected}")]
    WrongLength { code: u8, name: &'static str, len: usize, expected: &'static str },
    #[error("option {code} ({name}) has invalid value: {reason}")]
    BadValue { code: u8, name: &'static str, reason: &'static str },
    #[error("{len} non-pad octets after the End option in the {area} area")]
    TrailingGarbage { len: usize, area: Area },
    #[error("bad magic cookie {found:02x?}: expected 63 82 53 63 (RFC 1048)")]
    BadCookie { found: [u8; 4] },
    #[error("option overload (52) found inside the {area} field; RFC 2132 §9.3 allows it only in the options field")]
    OverloadInField { area: Area },
    #[error("option overload (52) value {value} is not 1, 2 or 3")]
    OverloadValue { value: u8 },
    #[error("option overload (52) appears more than once")]
    OverloadRepeated,
    /// Option 52 gives up the field, but the field holds no option at all (only End
    /// and Pad): the sname/file it replaced is lost for nothing.
    #[error("option overload (52) claims the {area} field, but it holds no options (only End/Pad)")]
    OverloadNoRoom { area: Area },
    #[error("{what}: header says {declared} octets, {available} present")]
    LengthMismatch { what: &'static str, declared: usize, available: usize },
    #[error("bad {what}: {reason}")]
    Malformed { what: &'static str, reason: &'static str },
    #[error("unsupported {what} {value:#x}")]
    Unsupported { what: &'static str, value: u32 },
    #[error("{what} is not NUL-terminated")]
    Unterminated { what: &'static str },
}

impl ErrorKind {
    /// The severity of this kind of problem.
    pub fn severity(&self) -> Severity {
        match self {
            ErrorKind::TrailingGarbage { .. } | ErrorKind::OverloadNoRoom { .. } => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

/// A problem at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Error {
    /// Offset of the first offending octet, relative to the buffer the parser was given.
    pub offset: usize,
    pub kind: ErrorKind,
}

/// Findings reported by lenient parsers are the same values as errors.
pub type Finding = Error;

impl Error {
    pub const fn new(offset: usize, kind: ErrorKind) -> Self {
        Error { offset, kind }
    }

    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }

    /// Rebase the offset onto an enclosing buffer that starts `base` octets earlier.
    #[must_use]
    pub fn shifted(mut self, base: usize) -> Self {
        self.offset = self.offset.saturating_add(base);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.kind)
    }
}

impl std::error::Error for Error {}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Parse mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Stop at the first [`Severity::Error`].
    #[default]
    Strict,
    /// Keep going: return all that parses and a list of findings.
    Lenient,
}
