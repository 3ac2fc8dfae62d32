//! ARP (RFC 826) and RARP (RFC 903) packets, for any hardware and protocol address
//! lengths, with typed helpers for the Ethernet/IPv4 case.
//!
//! ```text
//!  0        2        4      5      6        8
//! +--------+--------+------+------+--------+-----------+-----------+-----------+-----------+
//! | htype  | ptype  | hlen | plen |  oper  | sha[hlen] | spa[plen] | tha[hlen] | tpa[plen] |
//! +--------+--------+------+------+--------+-----------+-----------+-----------+-----------+
//! ```
//!
//! RARP uses the same format with operations 3 ("request reverse") and 4 ("reply
//! reverse") and its own EtherType; the operation, not the EtherType, decides how a
//! packet is read here (captures show RARP operations under the ARP EtherType too).
//!
//! An ARP body is usually shorter than the Ethernet minimum, so it is followed by
//! padding: octets after the body are allowed and counted by
//! [`Packet::trailing_len`]; they are not part of [`Repr`].
//!
//! Hardware type 19 (ATM) is the exception: ATM ARP (RFC 2225) has another layout
//! (type-and-length octets for ATM numbers and subaddresses), so such packets are
//! refused as unsupported rather than misread.
//!
//! Offsets in errors are relative to the first octet of the ARP packet.

use core::fmt;
use core::net::Ipv4Addr;

use crate::error::{Error, ErrorKind, Result};
use crate::field::{array_at, put, u16_at, u8_at};

/// EtherType of ARP (RFC 826).
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType of RARP (RFC 903).
pub const ETHERTYPE_RARP: u16 = 0x8035;
/// Hardware type of Ethernet (10 Mb and up).
pub const HTYPE_ETHERNET: u16 = 1;
/// Hardware type of ATM, whose ARP (RFC 2225) does not use this layout.
pub const HTYPE_ATM: u16 = 19;
/// Protocol type of IPv4 (its EtherType).
pub const PTYPE_IPV4: u16 = 0x0800;
/// Octets before the addresses: htype, ptype, hlen, plen, oper.
pub const HEADER_LEN: usize = 8;
/// Octets of an Ethernet/IPv4 ARP body (hlen 6, plen 4).
pub const ETHERNET_IPV4_LEN: usize = 28;

/// Field offsets. The four address fields follow the header at offsets that depend on
/// hlen and plen; all of them end by 8 + 2 × (255 + 255) = 1028, so the sums below
/// cannot overflow.
mod field {
    use core::ops::Range;

    /// Hardware address space (ar$hrd).
    pub const HTYPE: Range<usize> = 0..2;
    /// Protocol address space (ar$pro).
    pub const PTYPE: Range<usize> = 2..4;
    /// Hardware address length (ar$hln).
    pub const HLEN: usize = 4;
    /// Protocol address length (ar$pln).
    pub const PLEN: usize = 5;
    /// Operation (ar$op).
    pub const OPER: Range<usize> = 6..8;
    /// First octet of the sender hardware address.
    pub const ADDRESSES: usize = 8;

    /// Sender hardware address.
    pub fn sha(hlen: u8, _plen: u8) -> Range<usize> {
        ADDRESSES..ADDRESSES + usize::from(hlen)
    }
    /// Sender protocol address.
    pub fn spa(hlen: u8, plen: u8) -> Range<usize> {
        let start = sha(hlen, plen).end;
        start..start + usize::from(plen)
    }
    /// Target hardware address.
    pub fn tha(hlen: u8, plen: u8) -> Range<usize> {
        let start = spa(hlen, plen).end;
        start..start + usize::from(hlen)
    }
    /// Target protocol address.
    pub fn tpa(hlen: u8, plen: u8) -> Range<usize> {
        let start = tha(hlen, plen).end;
        start..start + usize::from(plen)
    }
}

/// An ARP/RARP operation (ar$op).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// 1: ARP request (RFC 826).
    Request,
    /// 2: ARP reply (RFC 826).
    Reply,
    /// 3: RARP "request reverse" (RFC 903).
    RarpRequest,
    /// 4: RARP "reply reverse" (RFC 903).
    RarpReply,
    /// Any other value. [`Operation::from`] never puts 1..=4 here.
    Unknown(u16),
}

impl From<u16> for Operation {
    fn from(v: u16) -> Self {
        match v {
            1 => Operation::Request,
            2 => Operation::Reply,
            3 => Operation::RarpRequest,
            4 => Operation::RarpReply,
            n => Operation::Unknown(n),
        }
    }
}

impl From<Operation> for u16 {
    fn from(op: Operation) -> u16 {
        match op {
            Operation::Request => 1,
            Operation::Reply => 2,
            Operation::RarpRequest => 3,
            Operation::RarpReply => 4,
            Operation::Unknown(n) => n,
        }
    }
}

impl Operation {
    /// Whether this is one of RARP's operations (3 or 4).
    pub const fn is_rarp(self) -> bool {
        matches!(self, Operation::RarpRequest | Operation::RarpReply)
    }
}

impl fmt::Display for Operation {
    /// `request`, `reply`, `reverse request`, `reverse reply`, or `op(N)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operation::Request => f.write_str("request"),
            Operation::Reply => f.write_str("reply"),
            Operation::RarpRequest => f.write_str("reverse request"),
            Operation::RarpReply => f.write_str("reverse reply"),
            Operation::Unknown(n) => write!(f, "op({n})"),
        }
    }
}

#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Operation {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Operation::from(u16::arbitrary(u)?))
    }
}

// ---------------------------------------------------------------------------------
// Packet view
// ---------------------------------------------------------------------------------

/// A read-only (or, for `T: AsMut<[u8]>`, read-write) view of an ARP/RARP packet.
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

    /// Check the buffer holds the 8-octet header and the 2 × (hlen + plen) octets of
    /// addresses it declares. A short header is [`ErrorKind::Truncated`] at the end of
    /// the buffer; hardware type 19 ([`HTYPE_ATM`], whose ARP has another layout) is
    /// [`ErrorKind::Unsupported`] at offset 0; addresses that overrun the buffer are
    /// [`ErrorKind::LengthMismatch`] at the hlen octet (offset 4). Octets after the
    /// body are allowed.
    pub fn check_len(&self) -> Result<()> {
        let have = self.as_bytes().len();
        if have < HEADER_LEN {
            return Err(Error::new(have, ErrorKind::Truncated { what: "ARP header", need: HEADER_LEN, have }));
        }
        if self.hardware_type() == HTYPE_ATM {
            return Err(Error::new(field::HTYPE.start, ATM_UNSUPPORTED));
        }
        let need = self.body_len();
        if have < need {
            return Err(Error::new(
                field::HLEN,
                ErrorKind::LengthMismatch {
                    what: "ARP packet (8 + 2 × (hlen + plen))",
                    declared: need,
                    available: have,
                },
            ));
        }
        Ok(())
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// All octets of the buffer, trailing ones included.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Hardware address space (ar$hrd), e.g. [`HTYPE_ETHERNET`].
    pub fn hardware_type(&self) -> u16 {
        u16_at(self.as_bytes(), field::HTYPE.start).unwrap_or(0)
    }

    /// Protocol address space (ar$pro), e.g. [`PTYPE_IPV4`].
    pub fn protocol_type(&self) -> u16 {
        u16_at(self.as_bytes(), field::PTYPE.start).unwrap_or(0)
    }

    /// Hardware address length in octets (ar$hln).
    pub fn hardware_len(&self) -> u8 {
        u8_at(self.as_bytes(), field::HLEN).unwrap_or(0)
    }

    /// Protocol address length in octets (ar$pln).
    pub fn protocol_len(&self) -> u8 {
        u8_at(self.as_bytes(), field::PLEN).unwrap_or(0)
    }

    /// The operation (ar$op).
    pub fn operation(&self) -> Operation {
        Operation::from(u16_at(self.as_bytes(), field::OPER.start).unwrap_or(0))
    }

    /// Octets of the ARP body the header declares: 8 + 2 × (hlen + plen).
    pub fn body_len(&self) -> usize {
        field::tpa(self.hardware_len(), self.protocol_len()).end
    }

    /// Octets after the body (Ethernet padding); 0 if the body is cut short.
    pub fn trailing_len(&self) -> usize {
        self.as_bytes().len().saturating_sub(self.body_len())
    }

    /// The octets after the body.
    pub fn trailing(&self) -> &[u8] {
        self.as_bytes().get(self.body_len()..).unwrap_or(&[])
    }

    fn slice(&self, r: core::ops::Range<usize>) -> &[u8] {
        self.as_bytes().get(r).unwrap_or(&[])
    }

    /// Sender hardware address (ar$sha), hlen octets.
    pub fn sha(&self) -> &[u8] {
        self.slice(field::sha(self.hardware_len(), self.protocol_len()))
    }

    /// Sender protocol address (ar$spa), plen octets.
    pub fn spa(&self) -> &[u8] {
        self.slice(field::spa(self.hardware_len(), self.protocol_len()))
    }

    /// Target hardware address (ar$tha), hlen octets.
    pub fn tha(&self) -> &[u8] {
        self.slice(field::tha(self.hardware_len(), self.protocol_len()))
    }

    /// Target protocol address (ar$tpa), plen octets.
    pub fn tpa(&self) -> &[u8] {
        self.slice(field::tpa(self.hardware_len(), self.protocol_len()))
    }

    /// The sender hardware address as a MAC, when hlen is 6.
    pub fn sender_mac(&self) -> Option<[u8; 6]> {
        mac(self.sha())
    }

    /// The target hardware address as a MAC, when hlen is 6.
    pub fn target_mac(&self) -> Option<[u8; 6]> {
        mac(self.tha())
    }

    /// The sender protocol address as IPv4, when ptype is IPv4 and plen is 4.
    pub fn sender_ipv4(&self) -> Option<Ipv4Addr> {
        ipv4(self.protocol_type(), self.spa())
    }

    /// The target protocol address as IPv4, when ptype is IPv4 and plen is 4.
    pub fn target_ipv4(&self) -> Option<Ipv4Addr> {
        ipv4(self.protocol_type(), self.tpa())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Set ar$hrd (no-op if the buffer is too short).
    pub fn set_hardware_type(&mut self, v: u16) {
        put(self.buffer.as_mut(), field::HTYPE.start, &v.to_be_bytes());
    }

    /// Set ar$pro (no-op if the buffer is too short).
    pub fn set_protocol_type(&mut self, v: u16) {
        put(self.buffer.as_mut(), field::PTYPE.start, &v.to_be_bytes());
    }

    /// Set ar$hln (no-op if the buffer is too short). Moves where the addresses are.
    pub fn set_hardware_len(&mut self, v: u8) {
        put(self.buffer.as_mut(), field::HLEN, &[v]);
    }

    /// Set ar$pln (no-op if the buffer is too short). Moves where the addresses are.
    pub fn set_protocol_len(&mut self, v: u8) {
        put(self.buffer.as_mut(), field::PLEN, &[v]);
    }

    /// Set ar$op (no-op if the buffer is too short).
    pub fn set_operation(&mut self, op: Operation) {
        put(self.buffer.as_mut(), field::OPER.start, &u16::from(op).to_be_bytes());
    }

    /// All address octets (sha, spa, tha, tpa), writable; empty if the buffer is
    /// shorter than the header.
    pub fn addresses_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut().get_mut(field::ADDRESSES..).unwrap_or(&mut [])
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Packet<T> {
    /// The [`Repr`] line, or `ARP [at byte N: …]` when the packet does not parse.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Repr::parse_bytes(self.as_bytes()) {
            Ok(r) => r.fmt(f),
            Err(e) => write!(f, "ARP [{e}]"),
        }
    }
}

/// The error for ATM ARP packets.
const ATM_UNSUPPORTED: ErrorKind = ErrorKind::Unsupported {
    what: "ARP hardware type (ATM ARP has the RFC 2225 layout, not RFC 826's)",
    value: HTYPE_ATM as u32,
};

fn mac(s: &[u8]) -> Option<[u8; 6]> {
    if s.len() == 6 {
        array_at(s, 0)
    } else {
        None
    }
}

fn ipv4(ptype: u16, s: &[u8]) -> Option<Ipv4Addr> {
    if ptype == PTYPE_IPV4 && s.len() == 4 {
        array_at::<4>(s, 0).map(Ipv4Addr::from)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------
// Repr
// ---------------------------------------------------------------------------------

/// A parsed ARP/RARP packet of any address lengths, borrowing the addresses.
///
/// hlen and plen are the lengths of `sha` and `spa`. `emit` writes exactly the body
/// `parse` read (not the trailing padding). A hand-built `Repr` whose target addresses
/// differ in length from the sender's, or longer than 255 octets, is written as given
/// (lengths wrap to a byte) so that negative tests can send it;
/// [`Repr::check_encodable`] tells whether it would parse back the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Repr<'a> {
    /// Hardware address space (ar$hrd).
    pub hardware_type: u16,
    /// Protocol address space (ar$pro).
    pub protocol_type: u16,
    /// Operation (ar$op).
    pub operation: Operation,
    /// Sender hardware address (ar$sha).
    pub sha: &'a [u8],
    /// Sender protocol address (ar$spa).
    pub spa: &'a [u8],
    /// Target hardware address (ar$tha).
    pub tha: &'a [u8],
    /// Target protocol address (ar$tpa).
    pub tpa: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Parse a packet view (see [`Packet::check_len`] for the checks; any htype but
    /// ATM's, any ptype, lengths and operation are accepted).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Packet<&'a T>) -> Result<Repr<'a>> {
        let buffer: &'a T = packet.buffer;
        Self::parse_bytes(buffer.as_ref())
    }

    /// Parse a byte slice (the link-layer payload).
    pub fn parse_bytes(bytes: &'a [u8]) -> Result<Repr<'a>> {
        let p = Packet::new_checked(bytes)?;
        let (h, l) = (p.hardware_len(), p.protocol_len());
        let part = |r: core::ops::Range<usize>| -> Result<&'a [u8]> {
            let have = bytes.len();
            bytes
                .get(r.clone())
                .ok_or(Error::new(have, ErrorKind::Truncated { what: "ARP addresses", need: r.end, have }))
        };
        Ok(Repr {
            hardware_type: p.hardware_type(),
            protocol_type: p.protocol_type(),
            operation: p.operation(),
            sha: part(field::sha(h, l))?,
            spa: part(field::spa(h, l))?,
            tha: part(field::tha(h, l))?,
            tpa: part(field::tpa(h, l))?,
        })
    }

    /// A request or reply for Ethernet/IPv4 addresses.
    pub fn ethernet_ipv4(
        operation: Operation,
        sha: &'a [u8; 6],
        spa: &'a [u8; 4],
        tha: &'a [u8; 6],
        tpa: &'a [u8; 4],
    ) -> Self {
        Repr { hardware_type: HTYPE_ETHERNET, protocol_type: PTYPE_IPV4, operation, sha, spa, tha, tpa }
    }

    /// Whether this is the common case: Ethernet (htype 1) hardware addresses of 6
    /// octets and IPv4 (ptype 0x0800) protocol addresses of 4.
    pub fn is_ethernet_ipv4(&self) -> bool {
        self.hardware_type == HTYPE_ETHERNET
            && self.protocol_type == PTYPE_IPV4
            && self.sha.len() == 6
            && self.tha.len() == 6
            && self.spa.len() == 4
            && self.tpa.len() == 4
    }

    /// The sender hardware address as a MAC, when it is 6 octets.
    pub fn sender_mac(&self) -> Option<[u8; 6]> {
        mac(self.sha)
    }

    /// The target hardware address as a MAC, when it is 6 octets.
    pub fn target_mac(&self) -> Option<[u8; 6]> {
        mac(self.tha)
    }

    /// The sender protocol address as IPv4, when ptype is IPv4 and it is 4 octets.
    pub fn sender_ipv4(&self) -> Option<Ipv4Addr> {
        ipv4(self.protocol_type, self.spa)
    }

    /// The target protocol address as IPv4, when ptype is IPv4 and it is 4 octets.
    pub fn target_ipv4(&self) -> Option<Ipv4Addr> {
        ipv4(self.protocol_type, self.tpa)
    }

    /// The typed Ethernet/IPv4 form, when [`Repr::is_ethernet_ipv4`].
    pub fn to_ethernet_ipv4(&self) -> Option<EthernetIpv4> {
        if !self.is_ethernet_ipv4() {
            return None;
        }
        Some(EthernetIpv4 {
            operation: self.operation,
            sha: self.sender_mac()?,
            spa: self.sender_ipv4()?,
            tha: self.target_mac()?,
            tpa: self.target_ipv4()?,
        })
    }

    /// Octets [`Repr::emit`] writes: 8 plus the four address lengths.
    pub fn buffer_len(&self) -> usize {
        [self.sha, self.spa, self.tha, self.tpa].iter().fold(HEADER_LEN, |n, a| n.saturating_add(a.len()))
    }

    /// Write the packet into the start of `buf`, returning the number of octets
    /// written ([`Repr::buffer_len`]). hlen and plen are the lengths of `sha` and
    /// `spa`, modulo 256. Fails only when `buf` is too short.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let need = self.buffer_len();
        let have = buf.len();
        let truncated = || Error::new(have, ErrorKind::Truncated { what: "ARP output buffer", need, have });
        let Some(out) = buf.get_mut(..need) else {
            return Err(truncated());
        };
        let [h, l] = [self.sha.len(), self.spa.len()].map(|n| (n & 0xff) as u8);
        let mut ok = true;
        ok &= put(out, field::HTYPE.start, &self.hardware_type.to_be_bytes());
        ok &= put(out, field::PTYPE.start, &self.protocol_type.to_be_bytes());
        ok &= put(out, field::HLEN, &[h, l]);
        ok &= put(out, field::OPER.start, &u16::from(self.operation).to_be_bytes());
        let mut at = field::ADDRESSES;
        for a in [self.sha, self.spa, self.tha, self.tpa] {
            ok &= put(out, at, a);
            at = at.saturating_add(a.len());
        }
        if ok {
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

    /// `Ok` when [`Repr::emit`]'s output parses back to this same `Repr`: the hardware
    /// type is not ATM's, the target addresses have the sender's lengths, which are at
    /// most 255, and the operation is not an `Unknown` holding a defined value.
    pub fn check_encodable(&self) -> Result<()> {
        let bad = |at: usize, what: &'static str, reason: &'static str| {
            Err(Error::new(at, ErrorKind::Malformed { what, reason }))
        };
        if self.hardware_type == HTYPE_ATM {
            return Err(Error::new(field::HTYPE.start, ATM_UNSUPPORTED));
        }
        if self.sha.len() > 255 {
            return bad(field::HLEN, "ARP hardware address", "longer than 255 octets");
        }
        if self.spa.len() > 255 {
            return bad(field::PLEN, "ARP protocol address", "longer than 255 octets");
        }
        if self.tha.len() != self.sha.len() {
            return bad(field::HLEN, "ARP target hardware address", "length differs from the sender hardware address");
        }
        if self.tpa.len() != self.spa.len() {
            return bad(field::PLEN, "ARP target protocol address", "length differs from the sender protocol address");
        }
        if let Operation::Unknown(v) = self.operation {
            if Operation::from(v) != self.operation {
                return bad(field::OPER.start, "ARP operation", "stored as Unknown but the value is defined");
            }
        }
        Ok(())
    }
}

impl fmt::Display for Repr<'_> {
    /// One stable line. Ethernet/IPv4 packets read like tcpdump:
    ///
    /// ```text
    /// ARP request who-has 192.0.2.1 tell 192.0.2.10 (02:00:00:00:be:01)
    /// ARP request who-has 192.0.2.1 (02:00:00:00:00:09) tell 192.0.2.10 (02:00:00:00:be:01)
    /// ARP reply 192.0.2.1 is-at 02:00:00:00:00:09
    /// RARP request who-is 02:00:00:00:be:01 tell 02:00:00:00:be:01
    /// RARP reply 02:00:00:00:be:01 is-at 192.0.2.20
    /// ```
    ///
    /// (the target hardware address of a request is shown only when not all zero).
    /// Anything else (other types or lengths, unknown operations) lists every field:
    ///
    /// ```text
    /// ARP op(7) htype=1 ptype=0x0800 hlen=6 plen=4 sha=… spa=… tha=… tpa=…
    /// ```
    ///
    /// with hardware addresses as colon-separated hex (`-` when empty) and protocol
    /// addresses dotted when ptype is IPv4 and plen is 4, hex otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(e) = self.to_ethernet_ipv4() {
            let (sha, tha) = (Hex(&e.sha), Hex(&e.tha));
            match e.operation {
                Operation::Request => {
                    write!(f, "ARP request who-has {}", e.tpa)?;
                    if e.tha != [0; 6] {
                        write!(f, " ({tha})")?;
                    }
                    return write!(f, " tell {} ({sha})", e.spa);
                }
                Operation::Reply => return write!(f, "ARP reply {} is-at {sha}", e.spa),
                Operation::RarpRequest => return write!(f, "RARP request who-is {tha} tell {sha}"),
                Operation::RarpReply => return write!(f, "RARP reply {tha} is-at {}", e.tpa),
                Operation::Unknown(_) => {}
            }
        }
        let label = match self.operation {
            Operation::Request => "ARP request",
            Operation::Reply => "ARP reply",
            Operation::RarpRequest => "RARP request",
            Operation::RarpReply => "RARP reply",
            Operation::Unknown(_) => "ARP",
        };
        f.write_str(label)?;
        if let Operation::Unknown(n) = self.operation {
            write!(f, " op({n})")?;
        }
        write!(
            f,
            " htype={} ptype={:#06x} hlen={} plen={} sha={} spa={} tha={} tpa={}",
            self.hardware_type,
            self.protocol_type,
            self.sha.len(),
            self.spa.len(),
            Hex(self.sha),
            ProtoAddr(self.protocol_type, self.spa),
            Hex(self.tha),
            ProtoAddr(self.protocol_type, self.tpa),
        )
    }
}

/// Colon-separated lower-case hex, `-` when empty.
struct Hex<'a>(&'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("-");
        }
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// A protocol address: dotted IPv4 when it is one, [`Hex`] otherwise.
struct ProtoAddr<'a>(u16, &'a [u8]);

impl fmt::Display for ProtoAddr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match ipv4(self.0, self.1) {
            Some(a) => a.fmt(f),
            None => Hex(self.1).fmt(f),
        }
    }
}

// ---------------------------------------------------------------------------------
// Ethernet/IPv4
// ---------------------------------------------------------------------------------

/// An owned Ethernet/IPv4 ARP or RARP packet (htype 1, ptype 0x0800, hlen 6, plen 4)
/// with typed addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct EthernetIpv4 {
    /// Operation.
    pub operation: Operation,
    /// Sender MAC.
    pub sha: [u8; 6],
    /// Sender IPv4 address.
    pub spa: Ipv4Addr,
    /// Target MAC.
    pub tha: [u8; 6],
    /// Target IPv4 address.
    pub tpa: Ipv4Addr,
}

impl EthernetIpv4 {
    /// ARP request: who has `tpa`? tell `spa` at `sha` (the target MAC is zero).
    pub const fn request(sha: [u8; 6], spa: Ipv4Addr, tpa: Ipv4Addr) -> Self {
        EthernetIpv4 { operation: Operation::Request, sha, spa, tha: [0; 6], tpa }
    }

    /// ARP reply: `spa` is at `sha`, sent to `tpa` at `tha`.
    pub const fn reply(sha: [u8; 6], spa: Ipv4Addr, tha: [u8; 6], tpa: Ipv4Addr) -> Self {
        EthernetIpv4 { operation: Operation::Reply, sha, spa, tha, tpa }
    }

    /// RARP request from `sha` for the protocol address of `tha` (its own MAC when a
    /// client asks for its own address). Both protocol addresses are 0.0.0.0, as RFC
    /// 903 leaves them undefined.
    pub const fn rarp_request(sha: [u8; 6], tha: [u8; 6]) -> Self {
        EthernetIpv4 {
            operation: Operation::RarpRequest,
            sha,
            spa: Ipv4Addr::UNSPECIFIED,
            tha,
            tpa: Ipv4Addr::UNSPECIFIED,
        }
    }

    /// RARP reply from the server (`sha`, `spa`): `tha` is at `tpa`.
    pub const fn rarp_reply(sha: [u8; 6], spa: Ipv4Addr, tha: [u8; 6], tpa: Ipv4Addr) -> Self {
        EthernetIpv4 { operation: Operation::RarpReply, sha, spa, tha, tpa }
    }

    /// Call `f` with the equivalent borrowed [`Repr`].
    pub fn with_repr<R>(&self, f: impl FnOnce(&Repr<'_>) -> R) -> R {
        let (spa, tpa) = (self.spa.octets(), self.tpa.octets());
        f(&Repr::ethernet_ipv4(self.operation, &self.sha, &spa, &self.tha, &tpa))
    }

    /// Octets [`EthernetIpv4::emit`] writes (28).
    pub const fn buffer_len(&self) -> usize {
        ETHERNET_IPV4_LEN
    }

    /// Write the 28-octet body into the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        self.with_repr(|r| r.emit(buf))
    }

    /// Emit into a new vector.
    pub fn to_vec(&self) -> Vec<u8> {
        self.with_repr(|r| r.to_vec())
    }
}

impl fmt::Display for EthernetIpv4 {
    /// Same line as the equivalent [`Repr`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with_repr(|r| r.fmt(f))
    }
}
