//! The mutation classes, by name: what the report says found a failure.

use core::fmt;
use core::str::FromStr;

use crate::packet::Proto;

/// One kind of structure-aware damage done to a seed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MutationClass {
    /// An option whose length byte runs past the end of the datagram (CVE-2018-5733's
    /// neighbourhood, RFC 2132 §2).
    OptionLengthPastEnd,
    /// Options that need data sent with length 0.
    ZeroLengthOption,
    /// The same option many times.
    RepeatedOption,
    /// Two instances of an option with different values (message type, requested
    /// address, maximum size, overload, client id, server id).
    ConflictingOptions,
    /// Option overload (52) pointing at sname/file that carry option 52 again.
    OverloadLoop,
    /// Long options split into several instances (RFC 3396), with empty fragments and
    /// fragments in the overloaded fields.
    Rfc3396Split,
    /// Options in sname and file (overload 1, 2, 3), malformed there: no End, lengths
    /// past the field.
    OptionsInSnameFile,
    /// Random options of random codes and lengths inserted.
    OptionGarbage,
    /// The message cut at a field boundary (or one octet either side).
    Truncated,
    /// Messages grown to 576, 1024, 1400, 1472 octets: pads, hundreds of options, long
    /// trailers after End.
    Oversized,
    /// Another magic cookie in place of 99.130.83.99.
    BadCookie,
    /// hlen above 16 (the chaddr field's size).
    HlenOverflow,
    /// hops above 16 (RFC 1542 §4.1.1's limit).
    HopsOverflow,
    /// op, htype, flags, secs, addresses, sname, file set to odd values.
    HeaderFields,
    /// An IPv4 total length that disagrees with the frame (CVE-2015-8605's shape).
    LyingIpLength,
    /// A UDP length that disagrees with the datagram (CVE-2015-8605's shape).
    LyingUdpLength,
    /// An IPv4 header length (IHL) other than 5.
    LyingIpHeaderLength,
    /// Octets overwritten, bits flipped (havoc).
    ByteFlip,
    /// TFTP requests without terminators, huge names, odd modes, bad option values,
    /// other opcodes, 2-to-5-octet packets.
    TftpMalformed,
    /// RARP requests with odd hardware/protocol lengths, types and opcodes, cut short.
    RarpMalformed,
}

impl MutationClass {
    pub const ALL: [MutationClass; 20] = [
        MutationClass::OptionLengthPastEnd,
        MutationClass::ZeroLengthOption,
        MutationClass::RepeatedOption,
        MutationClass::ConflictingOptions,
        MutationClass::OverloadLoop,
        MutationClass::Rfc3396Split,
        MutationClass::OptionsInSnameFile,
        MutationClass::OptionGarbage,
        MutationClass::Truncated,
        MutationClass::Oversized,
        MutationClass::BadCookie,
        MutationClass::HlenOverflow,
        MutationClass::HopsOverflow,
        MutationClass::HeaderFields,
        MutationClass::LyingIpLength,
        MutationClass::LyingUdpLength,
        MutationClass::LyingIpHeaderLength,
        MutationClass::ByteFlip,
        MutationClass::TftpMalformed,
        MutationClass::RarpMalformed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MutationClass::OptionLengthPastEnd => "option-length-past-end",
            MutationClass::ZeroLengthOption => "zero-length-option",
            MutationClass::RepeatedOption => "repeated-option",
            MutationClass::ConflictingOptions => "conflicting-options",
            MutationClass::OverloadLoop => "overload-loop",
            MutationClass::Rfc3396Split => "rfc3396-split",
            MutationClass::OptionsInSnameFile => "options-in-sname-file",
            MutationClass::OptionGarbage => "option-garbage",
            MutationClass::Truncated => "truncated",
            MutationClass::Oversized => "oversized",
            MutationClass::BadCookie => "bad-cookie",
            MutationClass::HlenOverflow => "hlen-overflow",
            MutationClass::HopsOverflow => "hops-overflow",
            MutationClass::HeaderFields => "header-fields",
            MutationClass::LyingIpLength => "lying-ip-length",
            MutationClass::LyingUdpLength => "lying-udp-length",
            MutationClass::LyingIpHeaderLength => "lying-ip-header-length",
            MutationClass::ByteFlip => "byte-flip",
            MutationClass::TftpMalformed => "tftp-malformed",
            MutationClass::RarpMalformed => "rarp-malformed",
        }
    }

    /// Whether the class applies to a seed of `proto`; `udp`: the seed is a UDP
    /// datagram (the lying-header classes need one).
    pub fn applies(self, proto: Proto, udp: bool) -> bool {
        use MutationClass as M;
        match self {
            M::Truncated | M::ByteFlip => true,
            M::Oversized => proto != Proto::Rarp && udp,
            M::LyingIpLength | M::LyingUdpLength | M::LyingIpHeaderLength => udp,
            M::TftpMalformed => proto == Proto::Tftp && udp,
            M::RarpMalformed => proto == Proto::Rarp,
            _ => proto == Proto::Bootp && udp,
        }
    }
}

impl fmt::Display for MutationClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for MutationClass {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        MutationClass::ALL.into_iter().find(|c| c.name() == s).ok_or_else(|| {
            format!(
                "unknown mutation class `{s}`; known: {}",
                MutationClass::ALL.iter().map(|c| c.name()).collect::<Vec<_>>().join(", ")
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_every_protocol_has_classes() {
        for c in MutationClass::ALL {
            assert_eq!(c.name().parse::<MutationClass>(), Ok(c));
        }
        for p in Proto::ALL {
            assert!(MutationClass::ALL.iter().filter(|c| c.applies(p, p != Proto::Rarp)).count() >= 3, "{p:?}");
        }
        assert!("nope".parse::<MutationClass>().is_err());
    }
}
