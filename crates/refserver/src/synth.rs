//! Synthetic boot traffic: a population of clients talking to the reference server, in
//! virtual time, as one stream of frames — for benchmarks of the offline checker and
//! for large captures with known-good content.
//!
//! Each cycle plays, one after another: a BOOTP request of a known client and its
//! reply; a DHCP DISCOVER/OFFER/REQUEST/ACK of a client served from the pool; a relayed
//! BOOTP request (the harness as relay agent, giaddr set) and the reply to the relay;
//! and a TFTP read of a boot file acknowledged block by block. Every reply is the
//! reference server's own answer, so the stream is conformant by construction (that is
//! what the server's own tests say).

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::time::Duration;

use bootcheck_scenario::site::Site;
use bootcheck_wire::frame::{build_udp, Frame, LinkType, UdpEndpoints};

use crate::Server;

const COOKIE: [u8; 4] = [99, 130, 83, 99];

/// The frame stream. Iterate it for `(time since start, Ethernet frame)`.
#[derive(Debug)]
pub struct Traffic {
    server: Server,
    site: Site,
    now: Duration,
    queue: VecDeque<(Duration, Vec<u8>)>,
    cycle: u64,
    xid: u32,
}

impl Traffic {
    pub fn new(site: Site) -> Self {
        Traffic {
            server: Server::new(site.clone(), Vec::new()),
            site,
            now: Duration::ZERO,
            queue: VecDeque::new(),
            cycle: 0,
            xid: 0x5eed_0000,
        }
    }

    fn tick(&mut self, us: u64) -> Duration {
        self.now += Duration::from_micros(us);
        self.now
    }

    /// Send a frame to the server; queue it and the server's answers.
    fn exchange(&mut self, frame: Vec<u8>) -> Vec<Vec<u8>> {
        let t = self.tick(500);
        let replies = self.server.handle_frame(t, &frame);
        self.queue.push_back((t, frame));
        for r in &replies {
            let t = self.tick(100);
            self.queue.push_back((t, r.clone()));
        }
        replies
    }

    fn next_xid(&mut self) -> u32 {
        self.xid = self.xid.wrapping_add(0x9e37_79b9);
        self.xid
    }

    fn bootrequest(&mut self, mac: [u8; 6], giaddr: Ipv4Addr, hops: u8, options: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 300];
        b[0] = 1;
        b[1] = 1;
        b[2] = 6;
        b[3] = hops;
        b[4..8].copy_from_slice(&self.next_xid().to_be_bytes());
        b[24..28].copy_from_slice(&giaddr.octets());
        b[28..34].copy_from_slice(&mac);
        b[236..240].copy_from_slice(&COOKIE);
        b[240..240 + options.len()].copy_from_slice(options);
        b[240 + options.len()] = 255;
        b
    }

    fn cycle(&mut self) {
        let n = self.cycle;
        self.cycle += 1;
        let server = (self.site.server.ip, self.site.server.mac.0);
        let bcast = |src_mac: [u8; 6], payload: &[u8]| {
            let ep = UdpEndpoints {
                src_mac,
                dst_mac: [0xff; 6],
                src_ip: Ipv4Addr::UNSPECIFIED,
                dst_ip: Ipv4Addr::BROADCAST,
                src_port: 68,
                dst_port: 67,
                ttl: 64,
            };
            build_udp(&ep, payload).unwrap_or_default()
        };
        // A known client, pure BOOTP.
        let known: Vec<[u8; 6]> = self.site.clients.values().map(|c| c.mac.0).collect();
        if let Some(mac) = known.get(n as usize % known.len().max(1)).copied() {
            let q = self.bootrequest(mac, Ipv4Addr::UNSPECIFIED, 0, &[]);
            self.exchange(bcast(mac, &q));
        }
        // A known client speaking DHCP: DORA (the server answers its host table's
        // clients, RFC 1534).
        let Some(mac) = known.get((n as usize + 1) % known.len().max(1)).copied() else { return };
        let prl = [55, 4, 1, 3, 6, 51];
        let mut opts = vec![53, 1, 1];
        opts.extend_from_slice(&prl);
        let q = self.bootrequest(mac, Ipv4Addr::UNSPECIFIED, 0, &opts);
        let offer = self.exchange(bcast(mac, &q));
        let offered = offer.iter().find_map(|f| {
            let fr = Frame::parse(LinkType::Ethernet, f).ok()?;
            let p = fr.bootp()?;
            Some((Ipv4Addr::new(p[16], p[17], p[18], p[19]), u32::from_be_bytes([p[4], p[5], p[6], p[7]])))
        });
        if let Some((yiaddr, _)) = offered {
            let mut opts = vec![53, 1, 3, 50, 4];
            opts.extend_from_slice(&yiaddr.octets());
            opts.extend_from_slice(&[54, 4]);
            opts.extend_from_slice(&server.0.octets());
            opts.extend_from_slice(&prl);
            let xid = self.xid;
            let mut q = self.bootrequest(mac, Ipv4Addr::UNSPECIFIED, 0, &opts);
            // The REQUEST carries the DISCOVER's xid (RFC 2131 §4.4.1).
            q[4..8].copy_from_slice(&xid.to_be_bytes());
            self.xid = xid;
            self.exchange(bcast(mac, &q));
        }
        // The harness as relay agent for a client on the relay subnet.
        let relay = &self.site.relay;
        let (giaddr, uplink) = (relay.ip, relay.uplink);
        if let Some(mac) = known.last().copied() {
            let q = self.bootrequest(mac, giaddr, 1, &[]);
            let ep = UdpEndpoints {
                src_mac: [0x02, 0, 0, 0, 0x7e, 0x01],
                dst_mac: server.1,
                src_ip: uplink,
                dst_ip: server.0,
                src_port: 67,
                dst_port: 67,
                ttl: 64,
            };
            self.exchange(build_udp(&ep, &q).unwrap_or_default());
        }
        // A TFTP read of a known client's boot file, ACKed block by block.
        let Some(c) = self.site.clients.values().next() else { return };
        let (cip, cmac) = (c.ip, c.mac.0);
        // A small file, so a cycle stays short: the kernel image of the site, else the
        // client's boot file.
        let file = if self.site.files.contains_key("boot/kernel.img") {
            "boot/kernel.img".to_string()
        } else {
            c.bootfile.clone()
        };
        let port = 2000 + (n % 30000) as u16;
        let mut rrq = vec![0, 1];
        rrq.extend_from_slice(file.as_bytes());
        rrq.push(0);
        rrq.extend_from_slice(b"octet\0");
        let ep = |dst_port: u16| UdpEndpoints {
            src_mac: cmac,
            dst_mac: server.1,
            src_ip: cip,
            dst_ip: server.0,
            src_port: port,
            dst_port,
            ttl: 64,
        };
        let mut answer = self.exchange(build_udp(&ep(69), &rrq).unwrap_or_default());
        for _ in 0..64 {
            let Some(data) = answer.first() else { break };
            let Ok(fr) = Frame::parse(LinkType::Ethernet, data) else { break };
            let Some(u) = fr.udp() else { break };
            if u.payload.get(..2) != Some(&[0, 3]) {
                break;
            }
            let block = [u.payload[2], u.payload[3]];
            let last = u.payload.len() < 4 + 512;
            let tid = u.src_port;
            let ack = [0, 4, block[0], block[1]];
            answer = self.exchange(build_udp(&ep(tid), &ack).unwrap_or_default());
            if last {
                break;
            }
        }
    }
}

impl Iterator for Traffic {
    type Item = (Duration, Vec<u8>);

    fn next(&mut self) -> Option<Self::Item> {
        while self.queue.is_empty() {
            let before = self.cycle;
            self.cycle();
            if self.queue.is_empty() && self.cycle > before + 4 {
                return None;
            }
        }
        self.queue.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/site.yaml");
        bootcheck_scenario::load_site(std::path::Path::new(path)).expect("site")
    }

    #[test]
    fn a_cycle_has_every_kind_of_exchange_with_its_replies() {
        let frames: Vec<(Duration, Vec<u8>)> = Traffic::new(site()).take(200).collect();
        let mut bootp_replies = 0;
        let mut tftp_data = 0;
        let mut relayed = 0;
        for (_, f) in &frames {
            let fr = Frame::parse(LinkType::Ethernet, f).expect("frame");
            let Some(u) = fr.udp() else { continue };
            if u.src_port == 67 && u.payload.first() == Some(&2) {
                bootp_replies += 1;
                relayed += usize::from(u.dst_port == 67);
            }
            tftp_data += usize::from(u.payload.get(..2) == Some(&[0, 3]) && u.src_port != 69);
        }
        assert!(bootp_replies >= 20, "{bootp_replies} BOOTP replies");
        assert!(relayed >= 5, "{relayed} replies to the relay");
        assert!(tftp_data >= 50, "{tftp_data} TFTP DATA");
        assert!(frames.windows(2).all(|w| w[0].0 < w[1].0), "time goes forward");
    }
}
