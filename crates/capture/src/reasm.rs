//! IPv4 fragment reassembly (RFC 791 §3.2), sans-IO and bounded.
//!
//! Fragments are keyed by (source, destination, protocol, identification). A datagram
//! is complete when the fragment with More Fragments clear has arrived and every octet
//! before its end is covered; the result is a frame of the first fragment's link
//! header, its IPv4 header with the fragment fields cleared, the total length and
//! checksum recomputed, and the reassembled payload — so it parses like any other
//! frame. The fragments themselves are handed back too (rules about fragmentation
//! need them). At most [`Limits::max_pending`] datagrams wait at once, each for at most
//! [`Limits::timeout`] of capture time; what falls out is reported, never kept.

use std::collections::{HashMap, VecDeque};
use std::net::Ipv4Addr;
use std::time::Duration;

use bootcheck_wire::frame::{Frame, LinkType, Net, Transport};

/// Bounds on what the reassembler keeps.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_pending: usize,
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        // RFC 791's suggested upper bound on the reassembly timer is 15 s; captures are
        // read after the fact, so be generous.
        Limits { max_pending: 4096, timeout: Duration::from_secs(30) }
    }
}

type Key = (Ipv4Addr, Ipv4Addr, u8, u16);

/// One fragment as captured.
#[derive(Debug, Clone)]
pub struct Fragment {
    pub packet: u64,
    pub time: Duration,
    pub bytes: Vec<u8>,
}

#[derive(Debug)]
struct Partial {
    first_time: Duration,
    link: LinkType,
    /// Link header + IPv4 header of the fragment at offset 0.
    head: Option<Vec<u8>>,
    data: Vec<u8>,
    /// Covered [start, end) ranges, merged.
    have: Vec<(usize, usize)>,
    total: Option<usize>,
    fragments: Vec<Fragment>,
}

/// A reassembled datagram.
#[derive(Debug)]
pub struct Assembled {
    pub link: LinkType,
    /// The whole frame: link header, IPv4 header (unfragmented), payload.
    pub bytes: Vec<u8>,
    pub fragments: Vec<Fragment>,
}

/// A datagram given up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Abandoned {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub id: u16,
    /// Packet numbers of the fragments that did arrive.
    pub packets: Vec<u64>,
    pub why: &'static str,
}

/// The reassembler.
#[derive(Debug, Default)]
pub struct Reassembler {
    limits: Limits,
    pending: HashMap<Key, Partial>,
    order: VecDeque<(Duration, Key)>,
    abandoned: Vec<Abandoned>,
}

const MAX_DATAGRAM: usize = 65_535;

impl Reassembler {
    pub fn new(limits: Limits) -> Self {
        Reassembler { limits, ..Default::default() }
    }

    /// Datagrams waiting for fragments.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Datagrams given up on since the last call.
    pub fn take_abandoned(&mut self) -> Vec<Abandoned> {
        std::mem::take(&mut self.abandoned)
    }

    /// Give up on datagrams older than the timeout at `now`.
    pub fn expire(&mut self, now: Duration) {
        while let Some(&(t, key)) = self.order.front() {
            if now.saturating_sub(t) <= self.limits.timeout {
                break;
            }
            self.order.pop_front();
            // The order queue may name a datagram already completed (or a newer one
            // with a reused key); only drop one whose start matches.
            if self.pending.get(&key).is_some_and(|p| p.first_time == t) {
                if let Some(p) = self.pending.remove(&key) {
                    self.abandon(key, p, "fragments missing when the reassembly timer ran out");
                }
            }
        }
    }

    /// Everything still waiting, at the end of the capture.
    pub fn finish(&mut self) {
        let keys: Vec<Key> = self.pending.keys().copied().collect();
        for k in keys {
            if let Some(p) = self.pending.remove(&k) {
                self.abandon(k, p, "the capture ends before the datagram's last fragment");
            }
        }
        self.order.clear();
    }

    fn abandon(&mut self, key: Key, p: Partial, why: &'static str) {
        self.abandoned.push(Abandoned {
            src: key.0,
            dst: key.1,
            id: key.3,
            packets: p.fragments.iter().map(|f| f.packet).collect(),
            why,
        });
    }

    /// Take a fragment (`frame` parsed from `bytes`). Returns the datagram when this
    /// fragment completes it. Frames that are not IPv4 fragments are ignored.
    pub fn push(
        &mut self,
        packet: u64,
        time: Duration,
        link: LinkType,
        bytes: &[u8],
        frame: &Frame<'_>,
    ) -> Option<Assembled> {
        let Net::Ipv4(ip) = &frame.net else { return None };
        if !ip.is_fragment() {
            return None;
        }
        let Transport::Fragment { payload, offset } = ip.transport else { return None };
        self.expire(time);
        let key = (ip.src, ip.dst, ip.protocol, ip.identification);
        if !self.pending.contains_key(&key) {
            if self.pending.len() >= self.limits.max_pending {
                // Drop the oldest to stay bounded.
                while let Some((t, k)) = self.order.pop_front() {
                    if self.pending.get(&k).is_some_and(|p| p.first_time == t) {
                        if let Some(p) = self.pending.remove(&k) {
                            self.abandon(k, p, "too many datagrams waiting for fragments at once");
                        }
                        break;
                    }
                }
            }
            self.pending.insert(
                key,
                Partial {
                    first_time: time,
                    link,
                    head: None,
                    data: Vec::new(),
                    have: Vec::new(),
                    total: None,
                    fragments: Vec::new(),
                },
            );
            self.order.push_back((time, key));
        }
        let p = self.pending.get_mut(&key)?;
        let start = ip.fragment_offset as usize;
        let end = start + payload.len();
        if end > MAX_DATAGRAM {
            let p = self.pending.remove(&key)?;
            self.abandon(key, p, "fragments reach past 65535 octets");
            return None;
        }
        p.fragments.push(Fragment { packet, time, bytes: bytes.to_vec() });
        if start == 0 {
            p.head = bytes.get(..offset).map(<[u8]>::to_vec);
            p.link = link;
        }
        if !ip.more_fragments {
            p.total = Some(end);
        }
        if p.data.len() < end {
            p.data.resize(end, 0);
        }
        // First arrival wins where fragments overlap.
        let mut at = start;
        for &(s, e) in p.have.iter() {
            if e <= at || s >= end {
                continue;
            }
            if s > at {
                p.data[at..s].copy_from_slice(&payload[at - start..s - start]);
            }
            at = at.max(e);
        }
        if at < end {
            p.data[at..end].copy_from_slice(&payload[at - start..]);
        }
        p.have.push((start, end));
        p.have.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(p.have.len());
        for &(s, e) in &p.have {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        p.have = merged;
        let total = p.total?;
        if p.head.is_none() || !matches!(p.have.as_slice(), [(0, e)] if *e >= total) {
            return None;
        }
        let p = self.pending.remove(&key)?;
        let mut head = p.head?;
        let ip_at = head.len() - ip.header_len.min(head.len());
        let total_len = (ip.header_len + total) as u16;
        // Fragment fields cleared (keep DF), total length and checksum recomputed.
        let h = &mut head[ip_at..];
        h[2..4].copy_from_slice(&total_len.to_be_bytes());
        h[6] &= 0x40;
        h[7] = 0;
        h[10] = 0;
        h[11] = 0;
        let sum = checksum(h);
        h[10..12].copy_from_slice(&sum.to_be_bytes());
        head.extend_from_slice(&p.data[..total]);
        Some(Assembled { link: p.link, bytes: head, fragments: p.fragments })
    }
}

fn checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = h.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bootcheck_wire::frame::{build_udp, UdpEndpoints};

    /// Cut a frame built by `build_udp` into IPv4 fragments of `size` payload octets.
    pub(crate) fn fragment(frame: &[u8], size: usize) -> Vec<Vec<u8>> {
        let ip_at = 14;
        let ihl = usize::from(frame[ip_at] & 0x0f) * 4;
        let payload = &frame[ip_at + ihl..];
        payload
            .chunks(size)
            .enumerate()
            .map(|(i, chunk)| {
                let mut f = frame[..ip_at + ihl].to_vec();
                let off = (i * size / 8) as u16;
                let mf = if (i + 1) * size < payload.len() { 0x2000 } else { 0 };
                let h = &mut f[ip_at..];
                h[2..4].copy_from_slice(&((ihl + chunk.len()) as u16).to_be_bytes());
                h[6..8].copy_from_slice(&(off | mf).to_be_bytes());
                h[10] = 0;
                h[11] = 0;
                let s = checksum(h);
                h[10..12].copy_from_slice(&s.to_be_bytes());
                f.extend_from_slice(chunk);
                f
            })
            .collect()
    }

    fn datagram() -> Vec<u8> {
        let ep = UdpEndpoints {
            src_mac: [2, 0, 0, 0, 0, 1],
            dst_mac: [0xff; 6],
            src_ip: Ipv4Addr::new(192, 0, 2, 1),
            dst_ip: Ipv4Addr::new(192, 0, 2, 2),
            src_port: 67,
            dst_port: 68,
            ttl: 64,
        };
        let payload: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let mut f = build_udp(&ep, &payload).expect("frame");
        // Fragments cannot carry Don't Fragment; the original must not either.
        f[14 + 6] &= !0x40;
        f[14 + 10] = 0;
        f[14 + 11] = 0;
        let s = checksum(&f[14..34]);
        f[24..26].copy_from_slice(&s.to_be_bytes());
        f
    }

    fn push_all(r: &mut Reassembler, frags: &[Vec<u8>]) -> Option<Assembled> {
        let mut out = None;
        for (i, f) in frags.iter().enumerate() {
            let frame = Frame::parse(LinkType::Ethernet, f).expect("parses");
            if let Some(a) = r.push(i as u64 + 1, Duration::from_millis(i as u64), LinkType::Ethernet, f, &frame) {
                assert!(out.is_none(), "completed twice");
                out = Some(a);
            }
        }
        out
    }

    #[test]
    fn in_order_and_reversed_give_the_original_datagram() {
        let whole = datagram();
        let frags = fragment(&whole, 296);
        assert_eq!(frags.len(), 4);
        for order in [frags.clone(), frags.iter().rev().cloned().collect::<Vec<_>>()] {
            let mut r = Reassembler::default();
            let a = push_all(&mut r, &order).expect("complete");
            assert!(a.bytes == whole, "reassembled frame differs from the unfragmented one");
            assert_eq!(a.fragments.len(), 4);
            assert_eq!(r.pending(), 0);
            let f = Frame::parse(LinkType::Ethernet, &a.bytes).expect("parses");
            assert_eq!(f.udp().expect("udp").checksum_ok, Some(true));
        }
    }

    #[test]
    fn duplicates_and_overlaps_do_not_break_it() {
        let whole = datagram();
        let mut frags = fragment(&whole, 160);
        frags.insert(2, frags[1].clone());
        let mut r = Reassembler::default();
        let a = push_all(&mut r, &frags).expect("complete");
        assert!(a.bytes == whole);
    }

    #[test]
    fn a_missing_fragment_is_abandoned_at_timeout_and_at_the_end() {
        let whole = datagram();
        let mut frags = fragment(&whole, 296);
        frags.remove(1);
        let mut r = Reassembler::default();
        assert!(push_all(&mut r, &frags).is_none());
        assert_eq!(r.pending(), 1);
        r.expire(Duration::from_secs(60));
        let ab = r.take_abandoned();
        assert_eq!(ab.len(), 1);
        assert_eq!(ab[0].packets, vec![1, 2, 3]);
        assert_eq!(r.pending(), 0);

        let mut r = Reassembler::default();
        assert!(push_all(&mut r, &frags[..1]).is_none());
        r.finish();
        assert_eq!(r.take_abandoned().len(), 1);
    }

    #[test]
    fn pending_datagrams_are_bounded() {
        let whole = datagram();
        let first = &fragment(&whole, 296)[0];
        let mut r = Reassembler::new(Limits { max_pending: 8, timeout: Duration::from_secs(30) });
        for id in 0..100u16 {
            let mut f = first.clone();
            f[14 + 4..14 + 6].copy_from_slice(&id.to_be_bytes());
            let frame = Frame::parse(LinkType::Ethernet, &f).expect("parses");
            assert!(r.push(u64::from(id), Duration::ZERO, LinkType::Ethernet, &f, &frame).is_none());
        }
        assert_eq!(r.pending(), 8);
        assert_eq!(r.take_abandoned().len(), 92);
    }
}
