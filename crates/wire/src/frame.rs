//! Link, IPv4 and UDP framing, parsed and built with `etherparse`.
//!
//! [`Frame::parse`] accepts the link types bootcheck meets in captures (Ethernet II
//! with up to two VLAN tags, Linux cooked SLL and SLL2, raw IPv4) and never fails on a
//! lying header: an IPv4 total length, header length or UDP length that disagrees with
//! the octets present becomes a [`Finding`] with its offset, and the payload is cut to
//! what is actually there. [`build_udp`] and [`build_ethernet`] construct frames with
//! correct lengths and checksums; [`Lies`] then falsifies chosen fields on purpose.

use core::net::Ipv4Addr;

use etherparse::{EtherType, Ethernet2Header, IpNumber, Ipv4Header, Ipv4HeaderSlice, UdpHeader};

use crate::error::{Error, ErrorKind, Finding};
use crate::field as rd;

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of ARP (RFC 826).
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType of RARP (RFC 903).
pub const ETHERTYPE_RARP: u16 = 0x8035;
/// EtherType of an 802.1Q VLAN tag.
pub const ETHERTYPE_VLAN: u16 = 0x8100;
/// EtherType of an 802.1ad service tag.
pub const ETHERTYPE_QINQ: u16 = 0x88a8;
/// The Ethernet broadcast address.
pub const BROADCAST_MAC: [u8; 6] = [0xff; 6];
/// Smallest Ethernet frame without FCS; shorter frames are padded by the sender.
pub const ETHERNET_MIN_LEN: usize = 60;

/// Link-layer header types (the pcap LINKTYPE_ values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// LINKTYPE_ETHERNET (1).
    Ethernet,
    /// LINKTYPE_RAW (101) and the DLT_RAW aliases 12 and 14: a bare IP packet.
    Raw,
    /// LINKTYPE_IPV4 (228).
    Ipv4,
    /// LINKTYPE_LINUX_SLL (113).
    LinuxSll,
    /// LINKTYPE_LINUX_SLL2 (276).
    LinuxSll2,
    /// Anything else.
    Other(u32),
}

impl LinkType {
    pub fn from_u32(v: u32) -> Self {
        match v {
            1 => LinkType::Ethernet,
            12 | 14 | 101 => LinkType::Raw,
            228 => LinkType::Ipv4,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            n => LinkType::Other(n),
        }
    }
    pub fn to_u32(self) -> u32 {
        match self {
            LinkType::Ethernet => 1,
            LinkType::Raw => 101,
            LinkType::Ipv4 => 228,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
            LinkType::Other(n) => n,
        }
    }
}

/// The link layer of a parsed frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Link {
    Ethernet {
        dst: [u8; 6],
        src: [u8; 6],
    },
    /// Linux cooked capture: the packet type (0 to us, 1 broadcast, 4 outgoing…) and
    /// the link-layer source address when it is 6 octets.
    Cooked {
        packet_type: u16,
        src: Option<[u8; 6]>,
    },
    /// No link header.
    None,
}

/// The network layer of a parsed frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Net<'a> {
    Ipv4(Ipv4<'a>),
    /// An ARP or RARP body (see [`Frame::ethertype`]); parse it with [`crate::arp`].
    Arp {
        body: &'a [u8],
        offset: usize,
    },
    /// Another EtherType, or a network header too broken to use.
    Other {
        payload: &'a [u8],
        offset: usize,
    },
}

/// The IPv4 layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4<'a> {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    pub protocol: u8,
    pub identification: u16,
    pub dont_fragment: bool,
    pub more_fragments: bool,
    /// Fragment offset in octets.
    pub fragment_offset: u32,
    /// Header length in octets (IHL × 4).
    pub header_len: usize,
    /// The total length field as sent.
    pub total_len: u16,
    /// Whether the header checksum is right.
    pub checksum_ok: bool,
    /// Offset of the IPv4 header in the frame.
    pub offset: usize,
    pub transport: Transport<'a>,
}

impl Ipv4<'_> {
    /// Whether this is a fragment of a larger datagram (not the whole of it).
    pub fn is_fragment(&self) -> bool {
        self.more_fragments || self.fragment_offset != 0
    }
}

/// The transport layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport<'a> {
    Udp(Udp<'a>),
    /// A fragment: the IP payload (reassembly is the caller's, with the identification).
    Fragment {
        payload: &'a [u8],
        offset: usize,
    },
    Other {
        payload: &'a [u8],
        offset: usize,
    },
}

/// A UDP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Udp<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    /// The length field as sent.
    pub length: u16,
    pub checksum: u16,
    /// `None` when the checksum is 0 (not computed by the sender) or the datagram is cut
    /// short; otherwise whether it verifies.
    pub checksum_ok: Option<bool>,
    pub payload: &'a [u8],
    /// Offset of the payload in the frame (add it to payload-relative error offsets).
    pub payload_offset: usize,
}

/// A parsed frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Frame<'a> {
    pub link: Link,
    /// The EtherType (or SLL protocol) of the network layer; 0x0800 for raw IPv4.
    pub ethertype: u16,
    /// VLAN ids, outermost first (at most two).
    pub vlans: [Option<u16>; 2],
    pub net: Net<'a>,
    /// Lies and damage found on the way down, offsets relative to the frame.
    pub findings: Vec<Finding>,
}

fn truncated(what: &'static str, need: usize, have: usize, at: usize) -> Error {
    Error::new(at, ErrorKind::Truncated { what, need, have })
}

impl<'a> Frame<'a> {
    /// Parse `bytes` captured with link type `link`. Fails only when no network layer
    /// can be found (unsupported link type, link header cut short).
    pub fn parse(link: LinkType, bytes: &'a [u8]) -> Result<Self, Error> {
        let (link_hdr, ethertype, at, vlans) = match link {
            LinkType::Ethernet => {
                let eth = etherparse::Ethernet2HeaderSlice::from_slice(bytes)
                    .map_err(|_| truncated("Ethernet header", 14, bytes.len(), 0))?;
                let mut et = eth.ether_type().0;
                let mut at = 14;
                let mut vlans = [None, None];
                for slot in &mut vlans {
                    if et != ETHERTYPE_VLAN && et != ETHERTYPE_QINQ {
                        break;
                    }
                    let (Some(tci), Some(inner)) = (rd::u16_at(bytes, at), rd::u16_at(bytes, at + 2)) else {
                        return Err(truncated("VLAN tag", at + 4, bytes.len(), at));
                    };
                    *slot = Some(tci & 0x0fff);
                    et = inner;
                    at += 4;
                }
                (Link::Ethernet { dst: eth.destination(), src: eth.source() }, et, at, vlans)
            }
            LinkType::Raw | LinkType::Ipv4 => {
                let et = match bytes.first().map(|b| b >> 4) {
                    Some(4) => ETHERTYPE_IPV4,
                    Some(6) => 0x86dd,
                    _ => {
                        return Err(Error::new(
                            0,
                            ErrorKind::Malformed { what: "raw IP packet", reason: "IP version is not 4" },
                        ))
                    }
                };
                (Link::None, et, 0, [None, None])
            }
            LinkType::LinuxSll => {
                // packet type, ARPHRD, address length, 8 octets of address, protocol.
                let (Some(pt), Some(alen), Some(proto)) =
                    (rd::u16_at(bytes, 0), rd::u16_at(bytes, 4), rd::u16_at(bytes, 14))
                else {
                    return Err(truncated("Linux SLL header", 16, bytes.len(), 0));
                };
                let src = if alen == 6 { rd::array_at::<6>(bytes, 6) } else { None };
                (Link::Cooked { packet_type: pt, src }, proto, 16, [None, None])
            }
            LinkType::LinuxSll2 => {
                // protocol, reserved, ifindex, ARPHRD, packet type, address length, address.
                let (Some(proto), Some(pt), Some(alen)) =
                    (rd::u16_at(bytes, 0), rd::u8_at(bytes, 10), rd::u8_at(bytes, 11))
                else {
                    return Err(truncated("Linux SLL2 header", 20, bytes.len(), 0));
                };
                if bytes.len() < 20 {
                    return Err(truncated("Linux SLL2 header", 20, bytes.len(), 0));
                }
                let src = if alen == 6 { rd::array_at::<6>(bytes, 12) } else { None };
                (Link::Cooked { packet_type: u16::from(pt), src }, proto, 20, [None, None])
            }
            LinkType::Other(n) => return Err(Error::new(0, ErrorKind::Unsupported { what: "link type", value: n })),
        };
        let mut findings = Vec::new();
        let rest = bytes.get(at..).unwrap_or(&[]);
        let net = match ethertype {
            ETHERTYPE_IPV4 => parse_ipv4(rest, at, &mut findings),
            ETHERTYPE_ARP | ETHERTYPE_RARP => Net::Arp { body: rest, offset: at },
            _ => Net::Other { payload: rest, offset: at },
        };
        Ok(Frame { link: link_hdr, ethertype, vlans, net, findings })
    }

    /// The UDP datagram, if the frame carries a whole (unfragmented) one.
    pub fn udp(&self) -> Option<&Udp<'a>> {
        match &self.net {
            Net::Ipv4(Ipv4 { transport: Transport::Udp(u), .. }) => Some(u),
            _ => None,
        }
    }

    /// The IPv4 layer, if any.
    pub fn ipv4(&self) -> Option<&Ipv4<'a>> {
        match &self.net {
            Net::Ipv4(i) => Some(i),
            _ => None,
        }
    }

    /// The BOOTP message, if this is a UDP datagram from or to port 67 or 68.
    pub fn bootp(&self) -> Option<&'a [u8]> {
        let u = self.udp()?;
        let ports = [crate::bootp::SERVER_PORT, crate::bootp::CLIENT_PORT];
        (ports.contains(&u.src_port) || ports.contains(&u.dst_port)).then_some(u.payload)
    }

    /// The source MAC address (Ethernet, or cooked captures that record one).
    pub fn src_mac(&self) -> Option<[u8; 6]> {
        match self.link {
            Link::Ethernet { src, .. } => Some(src),
            Link::Cooked { src, .. } => src,
            Link::None => None,
        }
    }

    /// The destination MAC address (Ethernet only).
    pub fn dst_mac(&self) -> Option<[u8; 6]> {
        match self.link {
            Link::Ethernet { dst, .. } => Some(dst),
            _ => None,
        }
    }
}

fn parse_ipv4<'a>(b: &'a [u8], base: usize, findings: &mut Vec<Finding>) -> Net<'a> {
    let hdr = match Ipv4HeaderSlice::from_slice(b) {
        Ok(h) => h,
        Err(e) => {
            let reason = match e {
                etherparse::err::ipv4::HeaderSliceError::Len(_) => "header cut short",
                etherparse::err::ipv4::HeaderSliceError::Content(c) => match c {
                    etherparse::err::ipv4::HeaderError::UnexpectedVersion { .. } => "version is not 4",
                    etherparse::err::ipv4::HeaderError::HeaderLengthSmallerThanHeader { .. } => {
                        "header length (IHL) below 5"
                    }
                },
            };
            findings.push(Error::new(base, ErrorKind::Malformed { what: "IPv4 header", reason }));
            return Net::Other { payload: b, offset: base };
        }
    };
    let header_len = usize::from(hdr.ihl()) * 4;
    let total_len = hdr.total_len();
    let declared = usize::from(total_len);
    let available = b.len();
    let end = if declared > available {
        findings.push(Error::new(
            base + 2,
            ErrorKind::LengthMismatch { what: "IPv4 total length exceeds the frame", declared, available },
        ));
        available
    } else if declared < header_len {
        findings.push(Error::new(
            base + 2,
            ErrorKind::LengthMismatch {
                what: "IPv4 total length below the header length",
                declared,
                available: header_len,
            },
        ));
        available
    } else {
        // Octets after `declared` are link padding (short Ethernet frames); not a lie.
        declared
    };
    // The one's-complement sum over the header, checksum included, is 0xffff when it
    // verifies (RFC 1071); summed in place, without building an owned header.
    let checksum_ok = ones_complement_sum(hdr.slice()) == 0xffff;
    if !checksum_ok {
        findings.push(Error::new(
            base + 10,
            ErrorKind::Malformed { what: "IPv4 header checksum", reason: "does not verify" },
        ));
    }
    let payload = b.get(header_len..end).unwrap_or(&[]);
    let poff = base + header_len;
    let frag_off = u32::from(hdr.fragments_offset().value()) * 8;
    let more = hdr.more_fragments();
    let protocol = hdr.protocol().0;
    let transport = if more || frag_off != 0 {
        Transport::Fragment { payload, offset: poff }
    } else if protocol == IpNumber::UDP.0 {
        parse_udp(payload, poff, hdr.source(), hdr.destination(), findings)
    } else {
        Transport::Other { payload, offset: poff }
    };
    Net::Ipv4(Ipv4 {
        src: hdr.source_addr(),
        dst: hdr.destination_addr(),
        ttl: hdr.ttl(),
        protocol,
        identification: hdr.identification(),
        dont_fragment: hdr.dont_fragment(),
        more_fragments: more,
        fragment_offset: frag_off,
        header_len,
        total_len,
        checksum_ok,
        offset: base,
        transport,
    })
}

/// The 16-bit one's-complement sum of `b` (RFC 1071), folded.
fn ones_complement_sum(b: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut chunks = b.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

fn parse_udp<'a>(b: &'a [u8], base: usize, src: [u8; 4], dst: [u8; 4], findings: &mut Vec<Finding>) -> Transport<'a> {
    let (Some(sp), Some(dp), Some(len), Some(ck)) =
        (rd::u16_at(b, 0), rd::u16_at(b, 2), rd::u16_at(b, 4), rd::u16_at(b, 6))
    else {
        findings.push(truncated("UDP header", 8, b.len(), base));
        return Transport::Other { payload: b, offset: base };
    };
    let declared = usize::from(len);
    let available = b.len();
    let end = if declared < 8 {
        findings
            .push(Error::new(base + 4, ErrorKind::LengthMismatch { what: "UDP length below 8", declared, available }));
        available
    } else if declared > available {
        findings.push(Error::new(
            base + 4,
            ErrorKind::LengthMismatch { what: "UDP length exceeds the IP payload", declared, available },
        ));
        available
    } else if declared < available {
        findings.push(Error::new(
            base + 4,
            ErrorKind::LengthMismatch { what: "UDP length shorter than the IP payload", declared, available },
        ));
        declared
    } else {
        declared
    };
    let payload = b.get(8..end).unwrap_or(&[]);
    let checksum_ok = if ck == 0 || declared > available || declared < 8 {
        None
    } else {
        let hdr = UdpHeader { source_port: sp, destination_port: dp, length: len, checksum: ck };
        Some(hdr.calc_checksum_ipv4_raw(src, dst, payload).ok() == Some(ck))
    };
    if checksum_ok == Some(false) {
        findings.push(Error::new(base + 6, ErrorKind::Malformed { what: "UDP checksum", reason: "does not verify" }));
    }
    Transport::Udp(Udp {
        src_port: sp,
        dst_port: dp,
        length: len,
        checksum: ck,
        checksum_ok,
        payload,
        payload_offset: base + 8,
    })
}

/// Addresses and ports of a UDP frame to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpEndpoints {
    pub src_mac: [u8; 6],
    pub dst_mac: [u8; 6],
    pub src_ip: Ipv4Addr,
    pub dst_ip: Ipv4Addr,
    pub src_port: u16,
    pub dst_port: u16,
    pub ttl: u8,
}

/// Deliberate falsifications applied after a frame is built (CVE-2015-8605's shape and
/// friends). Each `Some` replaces the field as is; the IPv4 header checksum is then
/// recomputed unless `ip_checksum` is set too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Lies {
    pub ihl: Option<u8>,
    pub ip_total_len: Option<u16>,
    pub ip_checksum: Option<u16>,
    pub udp_len: Option<u16>,
    pub udp_checksum: Option<u16>,
}

/// Build an Ethernet II + IPv4 + UDP frame with correct lengths and checksums, padded
/// to the 60-octet Ethernet minimum.
pub fn build_udp(ep: &UdpEndpoints, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let too_big = || {
        Error::new(
            0,
            ErrorKind::LengthMismatch {
                what: "UDP payload too large for IPv4",
                declared: payload.len(),
                available: 65507,
            },
        )
    };
    let mut ip = Ipv4Header::new(
        u16::try_from(payload.len() + 8).map_err(|_| too_big())?,
        ep.ttl,
        IpNumber::UDP,
        ep.src_ip.octets(),
        ep.dst_ip.octets(),
    )
    .map_err(|_| too_big())?;
    ip.header_checksum = ip.calc_header_checksum();
    let udp = UdpHeader::with_ipv4_checksum(ep.src_port, ep.dst_port, &ip, payload).map_err(|_| too_big())?;
    let eth = Ethernet2Header { source: ep.src_mac, destination: ep.dst_mac, ether_type: EtherType::IPV4 };
    let mut out = Vec::with_capacity(14 + 20 + 8 + payload.len());
    out.extend_from_slice(&eth.to_bytes());
    out.extend_from_slice(&ip.to_bytes());
    out.extend_from_slice(&udp.to_bytes());
    out.extend_from_slice(payload);
    if out.len() < ETHERNET_MIN_LEN {
        out.resize(ETHERNET_MIN_LEN, 0);
    }
    Ok(out)
}

/// Apply [`Lies`] to an Ethernet + IPv4 (+ UDP) frame built by [`build_udp`].
pub fn apply_lies(frame: &mut [u8], lies: &Lies) {
    const IP: usize = 14;
    if let Some(ihl) = lies.ihl {
        if let Some(b) = frame.get_mut(IP) {
            *b = (*b & 0xf0) | (ihl & 0x0f);
        }
    }
    if let Some(v) = lies.ip_total_len {
        rd::put(frame, IP + 2, &v.to_be_bytes());
    }
    // UDP header position follows the real header length (20), not a lied IHL.
    if let Some(v) = lies.udp_len {
        rd::put(frame, IP + 20 + 4, &v.to_be_bytes());
    }
    if let Some(v) = lies.udp_checksum {
        rd::put(frame, IP + 20 + 6, &v.to_be_bytes());
    }
    let ck = match lies.ip_checksum {
        Some(v) => Some(v),
        None => {
            let hl = frame.get(IP).map_or(20, |b| usize::from(b & 0x0f) * 4).max(20);
            frame.get(IP..IP + hl)
        }
        .map(|h| {
            let mut sum: u32 = 0;
            for (i, c) in h.chunks_exact(2).enumerate() {
                if i != 5 {
                    sum += u32::from(u16::from_be_bytes([
                        c.first().copied().unwrap_or(0),
                        c.get(1).copied().unwrap_or(0),
                    ]));
                }
            }
            while sum > 0xffff {
                sum = (sum & 0xffff) + (sum >> 16);
            }
            !(sum as u16)
        }),
    };
    if let Some(v) = ck {
        rd::put(frame, IP + 10, &v.to_be_bytes());
    }
}

/// Build an Ethernet II frame around `payload` (ARP, RARP, anything), padded to the
/// 60-octet minimum.
pub fn build_ethernet(src: [u8; 6], dst: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let eth = Ethernet2Header { source: src, destination: dst, ether_type: EtherType(ethertype) };
    let mut out = Vec::with_capacity(14 + payload.len());
    out.extend_from_slice(&eth.to_bytes());
    out.extend_from_slice(payload);
    if out.len() < ETHERNET_MIN_LEN {
        out.resize(ETHERNET_MIN_LEN, 0);
    }
    out
}
