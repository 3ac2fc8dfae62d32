//! The load generator's frames: request templates built once with the wire crate's
//! builder and then patched per exchange (source MAC, xid, chaddr, requested address,
//! server identifier; the UDP checksum recomputed), and a minimal reply parser that
//! reads only what matching needs (op, xid, chaddr, yiaddr, options 53 and 54).
//!
//! Fixed layout: Ethernet II, a 20-octet IPv4 header, UDP, a 300-octet BOOTP message
//! (RFC 951's size; DHCP options in the first 64 octets of the vend area after the RFC
//! 1048 cookie). No I/O.

use std::net::Ipv4Addr;

use bootcheck_wire::frame::{build_udp, UdpEndpoints};

/// Frame offsets.
pub mod off {
    pub const ETH_DST: usize = 0;
    pub const ETH_SRC: usize = 6;
    pub const IP: usize = 14;
    pub const UDP: usize = 34;
    pub const UDP_CHECKSUM: usize = UDP + 6;
    pub const BOOTP: usize = 42;
    pub const XID: usize = BOOTP + 4;
    pub const CHADDR: usize = BOOTP + 28;
    pub const OPTIONS: usize = BOOTP + 240;
    /// DHCPREQUEST template: the value of option 50 (requested IP address).
    pub const REQ_IP: usize = OPTIONS + 3 + 2;
    /// DHCPREQUEST template: the value of option 54 (server identifier).
    pub const REQ_SERVER_ID: usize = OPTIONS + 3 + 6 + 2;
    /// DHCPDISCOVER template: the MAC in option 61 (client identifier, type 1).
    pub const DISCOVER_CLIENT_ID: usize = OPTIONS + 3 + 3;
    /// DHCPREQUEST template: the MAC in option 61.
    pub const REQ_CLIENT_ID: usize = OPTIONS + 3 + 6 + 6 + 3;
}

/// The BOOTP message length the templates use (RFC 951 §3: 300 octets).
pub const BOOTP_LEN: usize = 300;

/// Which request a template is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A pure BOOTREQUEST: the RFC 1048 cookie and End, nothing of DHCP.
    Bootp,
    /// DHCPDISCOVER (53 = 1, 61 client identifier = 1 + chaddr, parameter request list
    /// 1, 28, 2, 3, 15, 6, 12: what perfdhcp sends).
    Discover,
    /// DHCPREQUEST in the SELECTING state (53 = 3, 50 requested IP, 54 server id, 61,
    /// the same PRL).
    Request,
}

/// How requests are addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// A client on the link: from its chaddr and 0.0.0.0:68, to ff:ff:ff:ff:ff:ff and
    /// 255.255.255.255:67.
    Client,
    /// The harness as a relay agent (RFC 1542 §4): from its port's MAC and `src_ip`:67,
    /// unicast to the server's MAC and address, giaddr set, hops 1.
    RelayAgent { src_mac: [u8; 6], src_ip: Ipv4Addr, giaddr: Ipv4Addr, server_mac: [u8; 6], server_ip: Ipv4Addr },
}

/// A request template.
#[derive(Debug, Clone)]
pub struct Template {
    pub kind: Kind,
    pub addressing: Addressing,
    frame: Vec<u8>,
}

impl Template {
    pub fn new(kind: Kind, addressing: Addressing) -> Template {
        let mut bootp = vec![0u8; BOOTP_LEN];
        bootp[0] = 1; // BOOTREQUEST
        bootp[1] = 1; // Ethernet
        bootp[2] = 6;
        bootp[236..240].copy_from_slice(&[99, 130, 83, 99]);
        let opts: &[u8] = match kind {
            Kind::Bootp => &[255],
            Kind::Discover => &[53, 1, 1, 61, 7, 1, 0, 0, 0, 0, 0, 0, 55, 7, 1, 28, 2, 3, 15, 6, 12, 255],
            Kind::Request => &[
                53, 1, 3, 50, 4, 0, 0, 0, 0, 54, 4, 0, 0, 0, 0, 61, 7, 1, 0, 0, 0, 0, 0, 0, 55, 7, 1, 28, 2, 3, 15, 6,
                12, 255,
            ],
        };
        bootp[240..240 + opts.len()].copy_from_slice(opts);
        let ep = match addressing {
            Addressing::Client => UdpEndpoints {
                src_mac: [0x02, 0, 0, 0, 0, 0],
                dst_mac: [0xff; 6],
                src_ip: Ipv4Addr::UNSPECIFIED,
                dst_ip: Ipv4Addr::BROADCAST,
                src_port: 68,
                dst_port: 67,
                ttl: 64,
            },
            Addressing::RelayAgent { src_mac, src_ip, giaddr, server_mac, server_ip } => {
                bootp[3] = 1; // hops
                bootp[24..28].copy_from_slice(&giaddr.octets());
                UdpEndpoints {
                    src_mac,
                    dst_mac: server_mac,
                    src_ip,
                    dst_ip: server_ip,
                    src_port: 67,
                    dst_port: 67,
                    ttl: 64,
                }
            }
        };
        // 300 octets of UDP payload always fit.
        let frame = build_udp(&ep, &bootp).unwrap_or_default();
        Template { kind, addressing, frame }
    }

    /// The template's frame (zero xid and chaddr).
    pub fn frame(&self) -> &[u8] {
        &self.frame
    }

    /// Write the request of `chaddr` with `xid` into `out` (its previous content is
    /// replaced); for [`Kind::Request`], with `requested` and `server_id`.
    pub fn write(&self, out: &mut Vec<u8>, xid: u32, chaddr: [u8; 6], requested: [u8; 4], server_id: [u8; 4]) {
        out.clear();
        out.extend_from_slice(&self.frame);
        if self.addressing == Addressing::Client {
            out[off::ETH_SRC..off::ETH_SRC + 6].copy_from_slice(&chaddr);
        }
        out[off::XID..off::XID + 4].copy_from_slice(&xid.to_be_bytes());
        out[off::CHADDR..off::CHADDR + 6].copy_from_slice(&chaddr);
        match self.kind {
            Kind::Bootp => {}
            Kind::Discover => out[off::DISCOVER_CLIENT_ID..off::DISCOVER_CLIENT_ID + 6].copy_from_slice(&chaddr),
            Kind::Request => {
                out[off::REQ_IP..off::REQ_IP + 4].copy_from_slice(&requested);
                out[off::REQ_SERVER_ID..off::REQ_SERVER_ID + 4].copy_from_slice(&server_id);
                out[off::REQ_CLIENT_ID..off::REQ_CLIENT_ID + 6].copy_from_slice(&chaddr);
            }
        }
        set_udp_checksum(out);
    }
}

/// Recompute the UDP checksum of an Ethernet + 20-octet IPv4 + UDP frame.
pub fn set_udp_checksum(f: &mut [u8]) {
    f[off::UDP_CHECKSUM] = 0;
    f[off::UDP_CHECKSUM + 1] = 0;
    let udp_len = usize::from(u16::from_be_bytes([f[off::UDP + 4], f[off::UDP + 5]]));
    let end = (off::UDP + udp_len).min(f.len());
    // Pseudo header: source, destination, protocol, UDP length.
    let mut sum: u64 = 17 + udp_len as u64;
    sum += sum_words(&f[off::IP + 12..off::IP + 20]);
    sum += sum_words(&f[off::UDP..end]);
    let mut s = sum;
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    let ck = !(s as u16);
    // RFC 768: a computed zero is sent as all ones.
    let ck = if ck == 0 { 0xffff } else { ck };
    f[off::UDP_CHECKSUM..off::UDP_CHECKSUM + 2].copy_from_slice(&ck.to_be_bytes());
}

fn sum_words(b: &[u8]) -> u64 {
    let mut sum = 0u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        sum += (v >> 48) + ((v >> 32) & 0xffff) + ((v >> 16) & 0xffff) + (v & 0xffff);
    }
    let mut rest = chunks.remainder().chunks(2);
    for c in &mut rest {
        sum += u64::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]));
    }
    sum
}

/// What matching a reply needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    pub xid: u32,
    pub chaddr: [u8; 6],
    pub yiaddr: [u8; 4],
    /// Option 53, if any.
    pub msg_type: Option<u8>,
    /// Option 54, if any.
    pub server_id: Option<[u8; 4]>,
}

/// A BOOTREPLY in an Ethernet II / IPv4 / UDP frame (to port 67 or 68, unfragmented),
/// or `None`. Options are read from the vend area after the cookie, without overload
/// (52) or RFC 3396 concatenation: enough for 53 and 54 in every server's replies.
pub fn parse_reply(f: &[u8]) -> Option<Reply> {
    if f.get(12..14)? != [0x08, 0x00] {
        return None;
    }
    let vihl = *f.get(14)?;
    if vihl >> 4 != 4 || *f.get(23)? != 17 {
        return None;
    }
    // Fragments (MF or an offset) are not replies the generator can match.
    if u16::from_be_bytes([*f.get(20)?, *f.get(21)?]) & 0x3fff != 0 {
        return None;
    }
    let udp = 14 + usize::from(vihl & 0x0f) * 4;
    let dport = u16::from_be_bytes([*f.get(udp + 2)?, *f.get(udp + 3)?]);
    if dport != 68 && dport != 67 {
        return None;
    }
    let b = f.get(udp + 8..)?;
    if b.len() < 240 || b[0] != 2 {
        return None;
    }
    let mut chaddr = [0u8; 6];
    chaddr.copy_from_slice(&b[28..34]);
    let mut yiaddr = [0u8; 4];
    yiaddr.copy_from_slice(&b[16..20]);
    let mut r =
        Reply { xid: u32::from_be_bytes([b[4], b[5], b[6], b[7]]), chaddr, yiaddr, msg_type: None, server_id: None };
    if b[236..240] == [99, 130, 83, 99] {
        let mut i = 240;
        while let Some(&code) = b.get(i) {
            match code {
                0 => i += 1,
                255 => break,
                _ => {
                    let Some(&len) = b.get(i + 1) else { break };
                    let v = b.get(i + 2..i + 2 + usize::from(len));
                    match (code, v) {
                        (53, Some(&[t])) => r.msg_type = Some(t),
                        (54, Some(&[a, b1, c, d])) => r.server_id = Some([a, b1, c, d]),
                        _ => {}
                    }
                    i += 2 + usize::from(len);
                }
            }
        }
    }
    Some(r)
}

/// DHCP message types the generator tells apart.
pub mod msg {
    pub const DISCOVER: u8 = 1;
    pub const OFFER: u8 = 2;
    pub const REQUEST: u8 = 3;
    pub const ACK: u8 = 5;
    pub const NAK: u8 = 6;
}

#[cfg(test)]
mod tests {
    use super::*;
    use bootcheck_wire::frame::{Frame, LinkType};

    fn parsed(f: &[u8]) -> Frame<'_> {
        Frame::parse(LinkType::Ethernet, f).expect("frame parses")
    }

    #[test]
    fn templates_are_valid_frames_with_good_checksums() {
        let relay = Addressing::RelayAgent {
            src_mac: [2, 0xbc, 1, 2, 3, 1],
            src_ip: Ipv4Addr::new(192, 0, 2, 2),
            giaddr: Ipv4Addr::new(198, 51, 100, 1),
            server_mac: [2, 0, 0, 0, 0x5e, 1],
            server_ip: Ipv4Addr::new(192, 0, 2, 1),
        };
        for addressing in [Addressing::Client, relay] {
            for kind in [Kind::Bootp, Kind::Discover, Kind::Request] {
                let t = Template::new(kind, addressing);
                let mut out = Vec::new();
                let chaddr = [2, 0x1c, 0, 0, 1, 7];
                t.write(&mut out, 0xdead_beef, chaddr, [192, 0, 2, 30], [192, 0, 2, 1]);
                let f = parsed(&out);
                let udp = f.udp().expect("udp");
                assert_eq!(udp.checksum_ok, Some(true), "{kind:?} {addressing:?}");
                assert!(bootcheck_mutate::is_safe_frame(&out));
                let b = f.bootp().expect("bootp");
                assert_eq!(b.len(), BOOTP_LEN);
                assert_eq!(&b[4..8], &0xdead_beefu32.to_be_bytes());
                assert_eq!(&b[28..34], &chaddr);
                let p = bootcheck_wire::bootp::Packet::new_checked(b).expect("bootp parses");
                let msg_type = p.find(53).map(|o| o.option.data.to_vec());
                if kind != Kind::Bootp {
                    let mut cid = vec![1];
                    cid.extend_from_slice(&chaddr);
                    assert_eq!(p.find(61).map(|o| o.option.data.to_vec()), Some(cid), "{kind:?}");
                    assert_eq!(p.find(55).map(|o| o.option.data.to_vec()), Some(vec![1, 28, 2, 3, 15, 6, 12]));
                }
                match kind {
                    Kind::Bootp => assert_eq!(msg_type, None),
                    Kind::Discover => assert_eq!(msg_type, Some(vec![1])),
                    Kind::Request => {
                        assert_eq!(msg_type, Some(vec![3]));
                        assert_eq!(&out[off::REQ_IP..off::REQ_IP + 4], &[192, 0, 2, 30]);
                        assert_eq!(&out[off::REQ_SERVER_ID..off::REQ_SERVER_ID + 4], &[192, 0, 2, 1]);
                    }
                }
                if addressing == Addressing::Client {
                    assert_eq!(f.src_mac(), Some(chaddr));
                } else {
                    assert_eq!(&b[24..28], &[198, 51, 100, 1]);
                    assert_eq!(b[3], 1);
                }
            }
        }
    }

    #[test]
    fn a_reply_is_read_back() {
        let t = Template::new(Kind::Request, Addressing::Client);
        let mut out = Vec::new();
        t.write(&mut out, 7, [2, 0x1c, 0, 0, 0, 9], [192, 0, 2, 30], [192, 0, 2, 1]);
        // Make it a DHCPACK from the server.
        out[off::BOOTP] = 2;
        out[off::OPTIONS + 2] = msg::ACK;
        out[off::BOOTP + 16..off::BOOTP + 20].copy_from_slice(&[192, 0, 2, 30]);
        out[off::UDP + 2..off::UDP + 4].copy_from_slice(&68u16.to_be_bytes());
        let r = parse_reply(&out).expect("a reply");
        assert_eq!(r.xid, 7);
        assert_eq!(r.chaddr, [2, 0x1c, 0, 0, 0, 9]);
        assert_eq!(r.msg_type, Some(msg::ACK));
        assert_eq!(r.server_id, Some([192, 0, 2, 1]));
        assert_eq!(r.yiaddr, [192, 0, 2, 30]);
        // A request is not a reply; neither is a truncated frame.
        out[off::BOOTP] = 1;
        assert_eq!(parse_reply(&out), None);
        assert_eq!(parse_reply(&out[..100]), None);
    }
}
