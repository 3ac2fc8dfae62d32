//! Where a BOOTREPLY goes (RFC 951 §4 and §7.3, RFC 1542 §5.4, RFC 2131 §4.1), and the
//! framing of everything the server sends over UDP.
//!
//! Pure BOOTP replies follow the RFC 1542 §5.4 table, which checks `ciaddr` first:
//!
//! | ciaddr | giaddr | B | UDP dst | IP dst          | link dst  |
//! |--------|--------|---|---------|-----------------|-----------|
//! | ≠ 0    | any    | · | 68      | ciaddr          | "normal"  |
//! | 0      | ≠ 0    | · | 67      | giaddr          | "normal"  |
//! | 0      | 0      | 0 | 68      | yiaddr          | chaddr    |
//! | 0      | 0      | 1 | 68      | 255.255.255.255 | broadcast |
//!
//! DHCP replies follow RFC 2131 §4.1, which checks `giaddr` first (then `ciaddr`, the
//! BROADCAST bit, yiaddr/chaddr); a DHCPNAK goes to giaddr if set, else is broadcast;
//! the DHCPACK to a DHCPINFORM goes straight to `ciaddr` (RFC 2131 §4.3.5).
//!
//! "normal" link delivery means routing + ARP. The server is sans-IO and keeps no ARP
//! cache, so it stands in for ARP: a `ciaddr` on the server's subnet is reached at
//! `chaddr` (RFC 1542 §3.3: a client that puts an address in ciaddr MUST answer ARP
//! for it, so ARP would return chaddr); anything else (giaddr, an off-subnet ciaddr)
//! is reached through the Ethernet source of the request: the relay or router it came
//! through, which is the next hop the route would pick. The yiaddr row sends to chaddr
//! without ARP, as RFC 951 §4 (2a) and RFC 1542 §3.1.1 describe.

use core::net::Ipv4Addr;

use bootcheck_wire::bootp::{Packet, CLIENT_PORT, FLAG_BROADCAST, SERVER_PORT};
use bootcheck_wire::frame::{self, UdpEndpoints, BROADCAST_MAC};

use crate::faults::{Fault, Faults};

/// TTL of everything the server sends.
pub(crate) const TTL: u8 = 64;

/// Which delivery rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rules {
    /// RFC 1542 §5.4 (a BOOTREPLY to a BOOTP client).
    Bootp,
    /// RFC 2131 §4.1, DHCPOFFER/DHCPACK.
    Dhcp,
    /// RFC 2131 §4.1 and §4.3.2, DHCPNAK.
    DhcpNak,
    /// RFC 2131 §4.3.5, the DHCPACK to a DHCPINFORM.
    DhcpInform,
}

/// Where one reply goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub mac: [u8; 6],
    pub ip: Ipv4Addr,
    pub port: u16,
    /// The clause that chose it.
    pub clause: &'static str,
    /// Why, for the log.
    pub why: String,
}

/// Choose the destination of a reply to `req` (received from `src_mac`) that carries
/// `yiaddr`; `ciaddr_on_link` says whether the request's ciaddr is on the server's
/// subnet. `None` when it cannot be delivered.
pub(crate) fn route(
    rules: Rules,
    req: &Packet<&[u8]>,
    src_mac: [u8; 6],
    ciaddr_on_link: bool,
    yiaddr: Ipv4Addr,
    faults: &Faults,
) -> Option<Route> {
    let ciaddr = req.ciaddr();
    let giaddr = if faults.has(Fault::IgnoreGiaddr) { Ipv4Addr::UNSPECIFIED } else { req.giaddr() };
    let b = req.flags() & FLAG_BROADCAST != 0;
    let chaddr: Option<[u8; 6]> = if req.htype() == 1 && req.hlen() == 6 { req.chaddr().try_into().ok() } else { None };
    let unspec = Ipv4Addr::UNSPECIFIED;

    let to_ciaddr = |clause| match chaddr.filter(|_| ciaddr_on_link) {
        Some(mac) => Route {
            mac,
            ip: ciaddr,
            port: CLIENT_PORT,
            clause,
            why: format!("ciaddr {ciaddr} is set: unicast to {ciaddr}:68 at chaddr (the client answers ARP for it)"),
        },
        None => Route {
            mac: src_mac,
            ip: ciaddr,
            port: CLIENT_PORT,
            clause,
            why: format!(
                "ciaddr {ciaddr} is set and off our subnet: unicast to {ciaddr}:68 through the request's link source"
            ),
        },
    };
    let to_giaddr = |clause| Route {
        mac: src_mac,
        ip: giaddr,
        port: SERVER_PORT,
        clause,
        why: format!("giaddr {giaddr} is set: unicast to the relay agent at {giaddr}:67"),
    };
    let broadcast = |clause, why: &str| Route {
        mac: BROADCAST_MAC,
        ip: Ipv4Addr::BROADCAST,
        port: CLIENT_PORT,
        clause,
        why: why.to_string(),
    };
    // The last two rows: BROADCAST bit, else yiaddr/chaddr.
    let local = |clause: &'static str| -> Option<Route> {
        let ignore_b = faults.has(Fault::IgnoreBroadcastFlag);
        if b && !ignore_b {
            return Some(broadcast(clause, "BROADCAST flag set: broadcast to 255.255.255.255:68"));
        }
        match chaddr {
            Some(mac) if yiaddr != unspec => Some(Route {
                mac,
                ip: yiaddr,
                port: CLIENT_PORT,
                clause,
                why: if b {
                    format!("fault ignore-broadcast-flag: BROADCAST flag set, unicast to {yiaddr}:68 at chaddr anyway")
                } else {
                    format!("BROADCAST flag clear: unicast to yiaddr {yiaddr}:68 at chaddr {}", crate::mac_str(&mac))
                },
            }),
            _ => Some(broadcast(
                clause,
                "unicast impossible (no yiaddr or no Ethernet chaddr): broadcast to 255.255.255.255:68",
            )),
        }
    };

    match rules {
        Rules::Bootp => {
            if ciaddr != unspec {
                Some(to_ciaddr("RFC1542 §5.4"))
            } else if giaddr != unspec {
                Some(to_giaddr("RFC1542 §5.4"))
            } else {
                local("RFC1542 §5.4")
            }
        }
        Rules::Dhcp => {
            if giaddr != unspec {
                Some(to_giaddr("RFC2131 §4.1"))
            } else if ciaddr != unspec {
                Some(to_ciaddr("RFC2131 §4.1"))
            } else {
                local("RFC2131 §4.1")
            }
        }
        Rules::DhcpNak => {
            if giaddr != unspec {
                let mut r = to_giaddr("RFC2131 §4.3.2");
                r.why.push_str(" (BROADCAST bit set in the DHCPNAK for the relay)");
                Some(r)
            } else {
                Some(broadcast("RFC2131 §4.1", "giaddr is 0: a DHCPNAK is always broadcast to 255.255.255.255:68"))
            }
        }
        Rules::DhcpInform => {
            if ciaddr != unspec {
                Some(to_ciaddr("RFC2131 §4.3.5"))
            } else {
                // A DHCPINFORM without ciaddr is broken; fall back to the general rules.
                route(Rules::Dhcp, req, src_mac, ciaddr_on_link, yiaddr, faults)
            }
        }
    }
}

/// Frame a UDP datagram from the server. The `bad-udp-checksum` fault corrupts the
/// checksum here (to another non-zero value).
#[allow(clippy::too_many_arguments)]
pub(crate) fn udp_frame(
    server_mac: [u8; 6],
    server_ip: Ipv4Addr,
    src_port: u16,
    dst_mac: [u8; 6],
    dst_ip: Ipv4Addr,
    dst_port: u16,
    payload: &[u8],
    faults: &Faults,
) -> Option<Vec<u8>> {
    let ep = UdpEndpoints { src_mac: server_mac, dst_mac, src_ip: server_ip, dst_ip, src_port, dst_port, ttl: TTL };
    let mut f = frame::build_udp(&ep, payload).ok()?;
    if faults.has(Fault::BadUdpChecksum) {
        // Ethernet 14 + IPv4 20 + UDP checksum offset 6.
        const AT: usize = 14 + 20 + 6;
        let good = u16::from_be_bytes([f.get(AT).copied().unwrap_or(0), f.get(AT + 1).copied().unwrap_or(0)]);
        let mut bad = good ^ 0x5a5a;
        if bad == 0 {
            bad = 0x1234;
        }
        frame::apply_lies(&mut f, &frame::Lies { udp_checksum: Some(bad), ..Default::default() });
    }
    Some(f)
}
