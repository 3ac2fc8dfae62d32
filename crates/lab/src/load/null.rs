//! The null responder: the cheapest possible BOOTP/DHCP "server", for measuring the
//! load generator alone (`targets/null.yaml` runs it inside the lab's server namespace
//! as `bootcheck null-responder --iface IF`, like any real server).
//!
//! Each BOOTREQUEST becomes a minimal BOOTREPLY: the request's header with op 2, the
//! RFC 1048 cookie, for a DHCP request option 53 (DISCOVER → OFFER, REQUEST → ACK,
//! anything else → ACK) and option 54 (this server), End, padded to 300 octets. It goes
//! to chaddr and 255.255.255.255:68, or, when giaddr is set, back to the relay (the
//! request's source MAC, giaddr:67). No lease, no lookup, no log line per packet.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::frames::{self, off, BOOTP_LEN};
use crate::packet::PacketSocket;

/// Frames read and written per system call.
const BATCH: usize = 64;

/// Write the reply to `req` into `out`; `false` if `req` is not a BOOTREQUEST to port 67
/// (or not one this responder understands: IP options, hlen other than 6).
pub fn reflect(req: &[u8], own_mac: [u8; 6], server_ip: Ipv4Addr, out: &mut Vec<u8>) -> bool {
    if req.len() < off::OPTIONS || req[12..14] != [0x08, 0x00] || req[off::IP] != 0x45 || req[off::IP + 9] != 17 {
        return false;
    }
    if u16::from_be_bytes([req[off::IP + 6], req[off::IP + 7]]) & 0x3fff != 0 {
        return false;
    }
    let dport = u16::from_be_bytes([req[off::UDP + 2], req[off::UDP + 3]]);
    let b = &req[off::BOOTP..];
    if dport != 67 || b[0] != 1 || b[2] != 6 {
        return false;
    }
    let dhcp_type = if b[236..240] == [99, 130, 83, 99] { message_type(&b[240..]) } else { None };
    let giaddr = [b[24], b[25], b[26], b[27]];
    let relayed = giaddr != [0; 4];
    out.clear();
    out.resize(off::BOOTP + BOOTP_LEN, 0);
    // Ethernet.
    let dst_mac: [u8; 6] = if relayed {
        [req[6], req[7], req[8], req[9], req[10], req[11]]
    } else {
        [b[28], b[29], b[30], b[31], b[32], b[33]]
    };
    out[off::ETH_DST..off::ETH_DST + 6].copy_from_slice(&dst_mac);
    out[off::ETH_SRC..off::ETH_SRC + 6].copy_from_slice(&own_mac);
    out[12..14].copy_from_slice(&[0x08, 0x00]);
    // IPv4.
    let dst_ip = if relayed { giaddr } else { [255; 4] };
    let ip_len = (20 + 8 + BOOTP_LEN) as u16;
    let ip = &mut out[off::IP..off::IP + 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
    ip[8] = 64;
    ip[9] = 17;
    ip[12..16].copy_from_slice(&server_ip.octets());
    ip[16..20].copy_from_slice(&dst_ip);
    let ck = ip_checksum(ip);
    ip[10..12].copy_from_slice(&ck.to_be_bytes());
    // UDP.
    let udp = &mut out[off::UDP..off::UDP + 8];
    udp[0..2].copy_from_slice(&67u16.to_be_bytes());
    udp[2..4].copy_from_slice(&(if relayed { 67u16 } else { 68 }).to_be_bytes());
    udp[4..6].copy_from_slice(&((8 + BOOTP_LEN) as u16).to_be_bytes());
    // BOOTP: the request's header, op 2.
    let r = &mut out[off::BOOTP..];
    r[..236].copy_from_slice(&b[..236]);
    r[0] = 2;
    r[236..240].copy_from_slice(&[99, 130, 83, 99]);
    let mut i = 240;
    if let Some(t) = dhcp_type {
        let reply_type = if t == frames::msg::DISCOVER { frames::msg::OFFER } else { frames::msg::ACK };
        let s = server_ip.octets();
        r[i..i + 9].copy_from_slice(&[53, 1, reply_type, 54, 4, s[0], s[1], s[2], s[3]]);
        i += 9;
    }
    r[i] = 255;
    frames::set_udp_checksum(out);
    true
}

fn message_type(opts: &[u8]) -> Option<u8> {
    let mut i = 0;
    while let Some(&code) = opts.get(i) {
        match code {
            0 => i += 1,
            255 => return None,
            _ => {
                let len = usize::from(*opts.get(i + 1)?);
                if code == 53 && len == 1 {
                    return opts.get(i + 2).copied();
                }
                i += 2 + len;
            }
        }
    }
    None
}

fn ip_checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for (i, c) in h.chunks_exact(2).enumerate() {
        if i != 5 {
            sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// What a null responder did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NullStats {
    pub frames_in: u64,
    pub replies: u64,
    pub refused: u64,
}

/// Serve on `iface` of this process's namespace (which must be a bootcheck lab's) until
/// SIGINT/SIGTERM or `max`.
pub fn serve(iface: &str, server_ip: Ipv4Addr, max: Duration) -> Result<NullStats, String> {
    if !crate::run::in_lab_netns() {
        return Err(format!(
            "refusing to answer on {iface}: this process is not inside a bootcheck lab namespace (the lab starts the null responder there: `bootcheck load --target null`)"
        ));
    }
    if !bootcheck_mutate::packet::safe_ip(server_ip) {
        return Err(format!("--server-ip {server_ip}: not an RFC 5737 documentation address"));
    }
    crate::install_signal_cleanup().map_err(|e| e.to_string())?;
    let mut sock = PacketSocket::open_here(iface, BATCH).map_err(|e| e.to_string())?;
    let mac = sock.mac();
    eprintln!("bootcheck null-responder: ready on {iface} ({server_ip}, batches of {BATCH})");
    let start = Instant::now();
    let mut stats = NullStats::default();
    let mut pool: Vec<Vec<u8>> = (0..BATCH).map(|_| Vec::with_capacity(off::BOOTP + BOOTP_LEN)).collect();
    loop {
        if crate::interrupted() || start.elapsed() > max {
            break;
        }
        let mut n = 0;
        let got = sock
            .recv_batch(|f| {
                stats.frames_in += 1;
                if let Some(buf) = pool.get_mut(n) {
                    if reflect(f, mac, server_ip, buf) {
                        n += 1;
                    }
                }
            })
            .map_err(|e| e.to_string())?;
        if n > 0 {
            let s = sock.send_all(&pool[..n]).map_err(|e| e.to_string())?;
            stats.replies += s.sent as u64;
            stats.refused += s.refused as u64;
        }
        if got == 0 {
            sock.wait(Duration::from_millis(100)).map_err(|e| e.to_string())?;
        }
    }
    eprintln!(
        "bootcheck null-responder: {} frames in, {} replies, {} refused by the kernel, {:.1}s",
        stats.frames_in,
        stats.replies,
        stats.refused,
        start.elapsed().as_secs_f64()
    );
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::frames::{parse_reply, Addressing, Kind, Template};
    use bootcheck_wire::frame::{Frame, LinkType};

    const MAC: [u8; 6] = [2, 0, 0, 0, 0x5e, 1];
    const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

    #[test]
    fn reflects_bootp_and_dhcp() {
        let chaddr = [2, 0x1c, 0, 0, 0, 5];
        for (kind, want) in [(Kind::Bootp, None), (Kind::Discover, Some(2)), (Kind::Request, Some(5))] {
            let mut req = Vec::new();
            Template::new(kind, Addressing::Client).write(&mut req, 99, chaddr, [0; 4], [0; 4]);
            let mut out = Vec::new();
            assert!(reflect(&req, MAC, SERVER, &mut out));
            let f = Frame::parse(LinkType::Ethernet, &out).expect("parses");
            assert_eq!(f.udp().and_then(|u| u.checksum_ok), Some(true));
            assert_eq!(f.dst_mac(), Some(chaddr));
            let r = parse_reply(&out).expect("a reply");
            assert_eq!((r.xid, r.chaddr, r.msg_type), (99, chaddr, want));
            if want.is_some() {
                assert_eq!(r.server_id, Some(SERVER.octets()));
            }
            // A reply is not reflected again.
            let mut again = Vec::new();
            assert!(!reflect(&out, MAC, SERVER, &mut again));
        }
    }

    #[test]
    fn relayed_requests_go_back_to_the_relay() {
        let relay_mac = [2, 0xbc, 0, 0, 0, 1];
        let a = Addressing::RelayAgent {
            src_mac: relay_mac,
            src_ip: Ipv4Addr::new(192, 0, 2, 2),
            giaddr: Ipv4Addr::new(198, 51, 100, 1),
            server_mac: MAC,
            server_ip: SERVER,
        };
        let mut req = Vec::new();
        Template::new(Kind::Bootp, a).write(&mut req, 5, [2, 0x1c, 0, 0, 0, 6], [0; 4], [0; 4]);
        let mut out = Vec::new();
        assert!(reflect(&req, MAC, SERVER, &mut out));
        let f = Frame::parse(LinkType::Ethernet, &out).expect("parses");
        assert_eq!(f.dst_mac(), Some(relay_mac));
        assert_eq!(f.udp().map(|u| u.dst_port), Some(67));
        assert_eq!(f.ipv4().map(|i| i.dst), Some(Ipv4Addr::new(198, 51, 100, 1)));
        assert!(bootcheck_mutate::is_safe_frame(&out));
    }
}
