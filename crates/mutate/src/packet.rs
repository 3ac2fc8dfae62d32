//! Test cases as the mutation engine holds them: a UDP datagram kept as endpoints,
//! payload and deliberate header lies (so that shrinking the payload keeps the lengths
//! honest or keeps the same lie), or a whole Ethernet frame (RARP, and headers too odd
//! to be rebuilt).

use core::net::Ipv4Addr;

use bootcheck_wire::frame::{self, Frame, Lies, LinkType, UdpEndpoints};

/// The largest frame a lab veth (MTU 1500) carries: 14 + 1500 octets.
pub const MAX_FRAME: usize = 1514;
/// The largest UDP payload that fits [`MAX_FRAME`] with a 20-octet IPv4 header.
pub const MAX_UDP_PAYLOAD: usize = MAX_FRAME - 14 - 20 - 8;

/// The protocol a seed (and every case made from it) speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Proto {
    /// BOOTREQUESTs to port 67: BOOTP, DHCP and BSDP.
    Bootp,
    /// TFTP requests to port 69.
    Tftp,
    /// RARP requests (EtherType 0x8035).
    Rarp,
}

impl Proto {
    pub const ALL: [Proto; 3] = [Proto::Bootp, Proto::Tftp, Proto::Rarp];

    pub fn name(self) -> &'static str {
        match self {
            Proto::Bootp => "bootp",
            Proto::Tftp => "tftp",
            Proto::Rarp => "rarp",
        }
    }
}

/// One packet to send.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Packet {
    /// Ethernet + IPv4 + UDP built by `wire::frame::build_udp`, then `apply_lies`.
    Udp { ep: UdpEndpoints, payload: Vec<u8>, lies: Lies },
    /// Exactly these octets.
    Ether { frame: Vec<u8> },
}

impl Packet {
    /// Read a frame the scenario corpus sends: a BOOTREQUEST to port 67, a TFTP
    /// request to port 69 or a RARP request. Anything else (ARP answers, TFTP ACKs to a
    /// transfer port) is not a seed: `None`.
    pub fn from_frame(bytes: &[u8]) -> Option<(Proto, Packet)> {
        let f = Frame::parse(LinkType::Ethernet, bytes).ok();
        let ethertype = bytes.get(12..14).map(|b| u16::from_be_bytes([b[0], b[1]]))?;
        if ethertype == frame::ETHERTYPE_RARP {
            return Some((Proto::Rarp, Packet::Ether { frame: bytes.to_vec() }));
        }
        if ethertype != frame::ETHERTYPE_IPV4 {
            return None;
        }
        // The UDP header where `apply_lies` puts it: after a 20-octet IPv4 header.
        let raw_port = bytes.get(36..38).map(|b| u16::from_be_bytes([b[0], b[1]]));
        let proto = |port: u16| match port {
            bootcheck_wire::bootp::SERVER_PORT => Some(Proto::Bootp),
            69 => Some(Proto::Tftp),
            _ => None,
        };
        let parsed = f.as_ref().and_then(|f| {
            let ip = f.ipv4()?;
            let udp = f.udp()?;
            let ep = UdpEndpoints {
                src_mac: f.src_mac()?,
                dst_mac: f.dst_mac()?,
                src_ip: ip.src,
                dst_ip: ip.dst,
                src_port: udp.src_port,
                dst_port: udp.dst_port,
                ttl: ip.ttl,
            };
            Some((ep, udp.payload.to_vec()))
        });
        if let Some((ep, payload, p)) = parsed.and_then(|(ep, pl)| Some((ep, pl, proto(ep.dst_port)?))) {
            // Rebuild honestly, then find the lies that make it the frame we were given.
            let honest = frame::build_udp(&ep, &payload).ok()?;
            let field = |b: &[u8], r: core::ops::Range<usize>| b.get(r).map(|x| u16::from_be_bytes([x[0], x[1]]));
            let mut lies = Lies::default();
            if bytes.get(14) != honest.get(14) {
                lies.ihl = bytes.get(14).map(|b| b & 0x0f);
            }
            if field(bytes, 16..18) != field(&honest, 16..18) {
                lies.ip_total_len = field(bytes, 16..18);
            }
            if field(bytes, 38..40) != field(&honest, 38..40) {
                lies.udp_len = field(bytes, 38..40);
            }
            if field(bytes, 40..42) != field(&honest, 40..42) {
                lies.udp_checksum = field(bytes, 40..42);
            }
            let mut candidate = Packet::Udp { ep, payload, lies };
            if candidate.to_frame() != bytes {
                if let Packet::Udp { lies, .. } = &mut candidate {
                    lies.ip_checksum = field(bytes, 24..26);
                }
            }
            if candidate.to_frame() == bytes {
                return Some((p, candidate));
            }
            return Some((p, Packet::Ether { frame: bytes.to_vec() }));
        }
        let p = proto(raw_port?)?;
        Some((p, Packet::Ether { frame: bytes.to_vec() }))
    }

    /// The frame to put on the wire (at most [`MAX_FRAME`] octets).
    pub fn to_frame(&self) -> Vec<u8> {
        match self {
            Packet::Udp { ep, payload, lies } => {
                let payload = payload.get(..MAX_UDP_PAYLOAD).unwrap_or(payload);
                let mut f = frame::build_udp(ep, payload).unwrap_or_default();
                frame::apply_lies(&mut f, lies);
                f
            }
            Packet::Ether { frame } => frame.get(..MAX_FRAME).unwrap_or(frame).to_vec(),
        }
    }

    /// The octets mutations and shrinking work on: the UDP payload, or everything after
    /// the Ethernet header.
    pub fn body(&self) -> &[u8] {
        match self {
            Packet::Udp { payload, .. } => payload,
            Packet::Ether { frame } => frame.get(14..).unwrap_or(&[]),
        }
    }

    /// The same packet with another body.
    pub fn with_body(&self, body: Vec<u8>) -> Packet {
        match self {
            Packet::Udp { ep, lies, .. } => {
                let mut body = body;
                body.truncate(MAX_UDP_PAYLOAD);
                Packet::Udp { ep: *ep, payload: body, lies: *lies }
            }
            Packet::Ether { frame } => {
                let mut f: Vec<u8> = frame.get(..14).unwrap_or(frame).to_vec();
                f.extend(body);
                f.truncate(MAX_FRAME);
                Packet::Ether { frame: f }
            }
        }
    }

    /// Whether the frame goes only where a lab frame may: an IPv4 destination in RFC
    /// 5737 documentation space, the limited broadcast or 0.0.0.0 (non-IPv4 frames:
    /// always). Every case the engine makes passes; the lab checks it again.
    pub fn is_safe(&self) -> bool {
        is_safe_frame(&self.to_frame())
    }
}

/// See [`Packet::is_safe`].
pub fn is_safe_frame(f: &[u8]) -> bool {
    if f.get(12..14) != Some(&[0x08, 0x00]) {
        return true;
    }
    match f.get(30..34) {
        Some(d) => safe_ip(Ipv4Addr::new(d[0], d[1], d[2], d[3])),
        None => true,
    }
}

/// RFC 5737 documentation space, 255.255.255.255 or 0.0.0.0.
pub fn safe_ip(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_broadcast()
        || ip.is_unspecified()
        || matches!((o[0], o[1], o[2]), (192, 0, 2) | (198, 51, 100) | (203, 0, 113))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep() -> UdpEndpoints {
        UdpEndpoints {
            src_mac: [2, 0, 0, 0, 0xbe, 1],
            dst_mac: [0xff; 6],
            src_ip: Ipv4Addr::UNSPECIFIED,
            dst_ip: Ipv4Addr::BROADCAST,
            src_port: 68,
            dst_port: 67,
            ttl: 64,
        }
    }

    #[test]
    fn a_built_frame_reads_back_with_its_lies() {
        for lies in [
            Lies::default(),
            Lies { ip_total_len: Some(20), ..Lies::default() },
            Lies { udp_len: Some(9), ..Lies::default() },
            Lies { udp_len: Some(65535), udp_checksum: Some(1), ..Lies::default() },
        ] {
            let p = Packet::Udp { ep: ep(), payload: vec![1; 300], lies };
            let f = p.to_frame();
            let (proto, back) = Packet::from_frame(&f).unwrap_or_else(|| panic!("{lies:?}"));
            assert_eq!(proto, Proto::Bootp);
            assert_eq!(back.to_frame(), f, "{lies:?}");
        }
    }

    #[test]
    fn odd_headers_stay_whole_frames() {
        let p = Packet::Udp { ep: ep(), payload: vec![1; 300], lies: Lies { ihl: Some(15), ..Lies::default() } };
        let f = p.to_frame();
        let (proto, back) = Packet::from_frame(&f).unwrap_or_else(|| panic!("no seed"));
        assert_eq!(proto, Proto::Bootp);
        assert_eq!(back.to_frame(), f);
    }

    #[test]
    fn safety() {
        assert!(safe_ip(Ipv4Addr::new(192, 0, 2, 1)));
        assert!(safe_ip(Ipv4Addr::new(203, 0, 113, 9)));
        assert!(!safe_ip(Ipv4Addr::new(10, 0, 0, 1)));
        let mut e = ep();
        e.dst_ip = Ipv4Addr::new(8, 8, 8, 8);
        assert!(!Packet::Udp { ep: e, payload: vec![], lies: Lies::default() }.is_safe());
    }

    #[test]
    fn not_seeds() {
        assert!(Packet::from_frame(&[]).is_none());
        let mut e = ep();
        e.dst_port = 1234;
        let f = Packet::Udp { ep: e, payload: vec![0; 4], lies: Lies::default() }.to_frame();
        assert!(Packet::from_frame(&f).is_none());
    }
}
