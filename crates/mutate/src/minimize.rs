//! Delta debugging (Zeller and Hildebrandt, "Simplifying and Isolating
//! Failure-Inducing Input", 2002) over packets, then over octets, with a bounded number
//! of tests. The test itself (replay against a fresh server) is the caller's: this
//! module does no I/O.

use crate::mutator::Msg;
use crate::packet::{Packet, Proto};

/// How many tests minimisation may still run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    left: usize,
    used: usize,
}

impl Budget {
    pub fn new(tests: usize) -> Self {
        Budget { left: tests, used: 0 }
    }
    pub fn used(&self) -> usize {
        self.used
    }
    pub fn exhausted(&self) -> bool {
        self.left == 0
    }
    fn take(&mut self) -> bool {
        if self.left == 0 {
            return false;
        }
        self.left -= 1;
        self.used += 1;
        true
    }
}

/// The smallest subsequence of `items` (1-minimal when the budget allows) for which
/// `fails` holds; `items` itself is assumed to fail. Order is kept. When the budget
/// runs out, the smallest failing subsequence found so far.
pub fn ddmin<T: Clone>(items: &[T], budget: &mut Budget, fails: &mut dyn FnMut(&[T]) -> bool) -> Vec<T> {
    let mut cur: Vec<T> = items.to_vec();
    let mut n = 2usize;
    while cur.len() >= 2 {
        let chunks = split(cur.len(), n);
        let mut reduced = false;
        // A chunk alone.
        for r in &chunks {
            if !budget.take() {
                return cur;
            }
            let sub: Vec<T> = cur.get(r.clone()).unwrap_or(&[]).to_vec();
            if fails(&sub) {
                cur = sub;
                n = 2;
                reduced = true;
                break;
            }
        }
        if reduced {
            continue;
        }
        // Everything but a chunk (with two chunks this is the same as above).
        if n > 2 {
            for r in &chunks {
                if !budget.take() {
                    return cur;
                }
                let sub: Vec<T> =
                    cur.iter().enumerate().filter(|(i, _)| !r.contains(i)).map(|(_, t)| t.clone()).collect();
                if fails(&sub) {
                    cur = sub;
                    n = (n - 1).max(2);
                    reduced = true;
                    break;
                }
            }
        }
        if reduced {
            continue;
        }
        if n >= cur.len() {
            break;
        }
        n = (n * 2).min(cur.len());
    }
    cur
}

fn split(len: usize, n: usize) -> Vec<core::ops::Range<usize>> {
    let n = n.clamp(1, len.max(1));
    (0..n).map(|i| (i * len / n)..((i + 1) * len / n)).filter(|r| !r.is_empty()).collect()
}

/// Shrink one failing packet: for a BOOTP message with the RFC 1048 cookie, first whole
/// options (ddmin over the option list, the message rebuilt with its header, padded
/// as before); then octets, see [`shrink_bytes`].
pub fn shrink(proto: Proto, packet: &Packet, budget: &mut Budget, fails: &mut dyn FnMut(&Packet) -> bool) -> Packet {
    let mut packet = packet.clone();
    if proto == Proto::Bootp {
        let msg = Msg::parse(packet.body());
        if msg.has_cookie() && msg.opts.len() > 1 && packet.with_body(msg.emit()).body() == packet.body() {
            let idx: Vec<usize> = (0..msg.opts.len()).collect();
            let rebuild = |keep: &[usize]| {
                let mut m = msg.clone();
                m.opts = keep.iter().filter_map(|i| msg.opts.get(*i).cloned()).collect();
                packet.with_body(m.emit())
            };
            let keep = ddmin(&idx, budget, &mut |k: &[usize]| fails(&rebuild(k)));
            packet = rebuild(&keep);
        }
    }
    shrink_bytes(&packet, budget, fails)
}

/// Shrink one failing packet's octets (the UDP payload, or what follows the Ethernet
/// header): first the shortest failing prefix (binary search), then as many octets as
/// possible set to zero (ddmin over the non-zero octets: zero keeps every other
/// octet's offset, and is Pad in an option area). Lying header fields are kept as
/// they are.
pub fn shrink_bytes(packet: &Packet, budget: &mut Budget, fails: &mut dyn FnMut(&Packet) -> bool) -> Packet {
    let mut body = packet.body().to_vec();
    // Shortest failing prefix.
    let (mut lo, mut hi) = (0usize, body.len());
    while lo < hi && budget.take() {
        let mid = lo + (hi - lo) / 2;
        let cand = packet.with_body(body.get(..mid).unwrap_or(&body).to_vec());
        if fails(&cand) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    body.truncate(hi);
    // Zero what does not matter.
    let nonzero: Vec<usize> = body.iter().enumerate().filter(|(_, b)| **b != 0).map(|(i, _)| i).collect();
    if nonzero.is_empty() || budget.exhausted() {
        return packet.with_body(body);
    }
    let base = body.clone();
    let keep = ddmin(&nonzero, budget, &mut |kept: &[usize]| {
        let mut b = vec![0u8; base.len()];
        for &i in kept {
            if let (Some(d), Some(s)) = (b.get_mut(i), base.get(i)) {
                *d = *s;
            }
        }
        fails(&packet.with_body(b))
    });
    let mut b = vec![0u8; base.len()];
    for i in keep {
        if let (Some(d), Some(s)) = (b.get_mut(i), base.get(i)) {
            *d = *s;
        }
    }
    packet.with_body(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bootcheck_wire::frame::{Lies, UdpEndpoints};
    use core::net::Ipv4Addr;

    #[test]
    fn one_culprit_among_many() {
        let items: Vec<u32> = (0..64).collect();
        let mut b = Budget::new(100);
        let out = ddmin(&items, &mut b, &mut |s| s.contains(&37));
        assert_eq!(out, vec![37]);
        assert!(b.used() <= 20, "{}", b.used());
    }

    #[test]
    fn two_culprits_together() {
        let items: Vec<u32> = (0..40).collect();
        let mut b = Budget::new(200);
        let out = ddmin(&items, &mut b, &mut |s| s.contains(&3) && s.contains(&30));
        assert_eq!(out, vec![3, 30]);
    }

    #[test]
    fn the_budget_is_kept() {
        let items: Vec<u32> = (0..64).collect();
        let mut b = Budget::new(3);
        let mut calls = 0;
        let out = ddmin(&items, &mut b, &mut |s| {
            calls += 1;
            s.contains(&37)
        });
        assert_eq!(calls, 3);
        assert!(out.contains(&37));
    }

    #[test]
    fn options_go_first() {
        let ep = UdpEndpoints {
            src_mac: [2, 0, 0, 0, 0xbe, 1],
            dst_mac: [0xff; 6],
            src_ip: Ipv4Addr::UNSPECIFIED,
            dst_ip: Ipv4Addr::BROADCAST,
            src_port: 68,
            dst_port: 67,
            ttl: 64,
        };
        let mut payload = vec![0u8; 240];
        payload[0] = 1;
        payload[236..240].copy_from_slice(&bootcheck_wire::bootp::MAGIC_COOKIE);
        for c in 1..=60u8 {
            payload.extend([c, 2, c, c]);
        }
        payload.push(255);
        let p = Packet::Udp { ep, payload, lies: Lies::default() };
        let has_37 = |q: &Packet| {
            let b = q.body();
            bootcheck_wire::bootp::Packet::new_unchecked(b).options().any(|o| o.option.code == 37)
        };
        let mut b = Budget::new(200);
        let out = shrink(Proto::Bootp, &p, &mut b, &mut |q| has_37(q));
        assert!(has_37(&out));
        let left: Vec<u8> =
            bootcheck_wire::bootp::Packet::new_unchecked(out.body()).options().map(|o| o.option.code).collect();
        assert_eq!(left, vec![37]);
    }

    #[test]
    fn bytes_shrink_to_what_matters() {
        let ep = UdpEndpoints {
            src_mac: [2, 0, 0, 0, 0xbe, 1],
            dst_mac: [0xff; 6],
            src_ip: Ipv4Addr::UNSPECIFIED,
            dst_ip: Ipv4Addr::BROADCAST,
            src_port: 68,
            dst_port: 67,
            ttl: 64,
        };
        let mut payload = vec![7u8; 300];
        payload[100] = 42;
        let p = Packet::Udp { ep, payload, lies: Lies::default() };
        let mut b = Budget::new(400);
        let out = shrink_bytes(&p, &mut b, &mut |q| q.body().get(100) == Some(&42));
        assert_eq!(out.body().len(), 101);
        assert_eq!(out.body().iter().filter(|x| **x != 0).count(), 1);
    }
}
