//! A structure-aware mutator for DHCP option TLVs (for `fuzz_mutator!`).
//!
//! The input is read as an RFC 1048 option area, or, when it is a whole BOOTP message
//! (236-octet header, the magic cookie), as its three option areas: options, file and
//! sname. One TLV-level change is made — insert, delete, duplicate or swap options, a
//! length past the end, a zero length, option 52 values and loops, an RFC 3396 split of
//! one option into several instances, Pad and End moved around, options moved into
//! sname/file — and the result is written back. Some of the time, and whenever the
//! structured change cannot apply, libFuzzer's own byte mutator runs instead.

use bootcheck_wire::bootp::{self, field};
use bootcheck_wire::options::{AreaIter, Item};
use bootcheck_wire::Area;

/// One element of an option area, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tlv {
    Pad(usize),
    Opt(u8, Vec<u8>),
    End,
    /// Octets kept as they are: after End, or from a malformed option on.
    Raw(Vec<u8>),
}

/// Split an option area into TLVs; `serialize(parse(x)) == x` for every `x`.
pub fn parse_area(area: &[u8]) -> Vec<Tlv> {
    let mut out = Vec::new();
    let mut it = AreaIter::new(area, 0, Area::Options);
    loop {
        let before = it.position();
        match it.next() {
            Some(Ok(Item::Pad { len, .. })) => out.push(Tlv::Pad(len)),
            Some(Ok(Item::Option(o))) => out.push(Tlv::Opt(o.option.code, o.option.data.to_vec())),
            Some(Ok(Item::End { .. })) => {
                out.push(Tlv::End);
                let rest = area.get(it.position()..).unwrap_or(&[]);
                if !rest.is_empty() {
                    out.push(Tlv::Raw(rest.to_vec()));
                }
                break;
            }
            Some(Err(_)) => {
                let rest = area.get(before..).unwrap_or(&[]);
                if !rest.is_empty() {
                    out.push(Tlv::Raw(rest.to_vec()));
                }
                break;
            }
            None => break,
        }
    }
    out
}

pub fn serialize(tlvs: &[Tlv], out: &mut Vec<u8>) {
    for t in tlvs {
        match t {
            Tlv::Pad(n) => out.extend(std::iter::repeat_n(0u8, *n)),
            Tlv::Opt(c, d) => {
                out.push(*c);
                out.push(u8::try_from(d.len()).unwrap_or(255));
                out.extend_from_slice(&d[..d.len().min(255)]);
            }
            Tlv::End => out.push(255),
            Tlv::Raw(r) => out.extend_from_slice(r),
        }
    }
}

/// A small deterministic generator seeded by libFuzzer's seed.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u32) -> Self {
        Rng(u64::from(seed).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    /// 0..n (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    pub fn chance(&mut self, one_in: u64) -> bool {
        self.next() % one_in == 0
    }
}

/// Codes worth inserting: the ones parsers special-case.
const CODES: &[u8] =
    &[1, 3, 6, 12, 15, 28, 43, 50, 51, 52, 53, 54, 55, 57, 60, 61, 66, 67, 81, 82, 119, 121, 124, 125, 224, 254];

fn value_for(rng: &mut Rng, code: u8) -> Vec<u8> {
    let len = match rng.below(6) {
        0 => 0,
        1 => 1,
        2 => 4,
        3 => 255,
        _ => rng.below(40),
    };
    match code {
        52 => vec![[0u8, 1, 2, 3, 4, 255][rng.below(6)]; len.min(2).max(1)],
        53 => vec![(rng.below(19)) as u8; 1],
        _ => (0..len).map(|_| rng.next() as u8).collect(),
    }
}

fn option_indices(t: &[Tlv]) -> Vec<usize> {
    t.iter().enumerate().filter(|(_, x)| matches!(x, Tlv::Opt(..))).map(|(i, _)| i).collect()
}

/// One structural change to an area. Returns false when nothing applied.
fn mutate_area(rng: &mut Rng, t: &mut Vec<Tlv>, data_mutate: &mut dyn FnMut(&mut Vec<u8>)) -> bool {
    let opts = option_indices(t);
    let pick = |rng: &mut Rng| opts.get(rng.below(opts.len())).copied();
    match rng.below(11) {
        // insert an option
        0 => {
            let code = if rng.chance(4) { rng.next() as u8 } else { CODES[rng.below(CODES.len())] };
            let v = value_for(rng, code);
            let at = rng.below(t.len() + 1);
            t.insert(at, Tlv::Opt(code, v));
        }
        // delete an item
        1 if !t.is_empty() => {
            let i = rng.below(t.len());
            t.remove(i);
        }
        // duplicate an option, next to it or anywhere
        2 => {
            let Some(i) = pick(rng) else { return false };
            let c = t[i].clone();
            let at = if rng.chance(2) { i + 1 } else { rng.below(t.len() + 1) };
            t.insert(at, c);
        }
        // swap two items
        3 if t.len() >= 2 => {
            let (a, b) = (rng.below(t.len()), rng.below(t.len()));
            t.swap(a, b);
        }
        // an option whose length runs past the end: it becomes the last thing
        4 => {
            let Some(i) = pick(rng) else { return false };
            let Tlv::Opt(c, d) = t[i].clone() else { return false };
            t.truncate(i);
            let claim = d.len() + 1 + rng.below(256 - d.len().min(255));
            let mut raw = vec![c, u8::try_from(claim.min(255)).unwrap_or(255)];
            raw.extend_from_slice(&d[..d.len().min(255)]);
            if rng.chance(3) {
                raw.truncate(1); // a code with no length octet
            }
            t.push(Tlv::Raw(raw));
        }
        // a zero length
        5 => {
            let Some(i) = pick(rng) else { return false };
            if let Tlv::Opt(_, d) = &mut t[i] {
                d.clear();
            }
        }
        // option 52: a value, a length, or again
        6 => {
            let v = value_for(rng, 52);
            match t.iter().position(|x| matches!(x, Tlv::Opt(52, _))) {
                Some(i) if rng.chance(2) => t[i] = Tlv::Opt(52, v),
                _ => {
                    let at = rng.below(t.len() + 1);
                    t.insert(at, Tlv::Opt(52, v));
                }
            }
        }
        // RFC 3396: one option split into several instances, maybe with others between
        7 => {
            let Some(i) = pick(rng) else { return false };
            let Tlv::Opt(c, d) = t[i].clone() else { return false };
            let parts = 2 + rng.below(3);
            let mut pieces = Vec::new();
            let mut rest = &d[..];
            for k in 0..parts {
                let n = if k + 1 == parts { rest.len() } else { rng.below(rest.len() + 1) };
                let (a, b) = rest.split_at(n);
                pieces.push(Tlv::Opt(c, a.to_vec()));
                rest = b;
            }
            t.remove(i);
            for (k, p) in pieces.into_iter().enumerate() {
                let at = if rng.chance(3) { rng.below(t.len() + 1) } else { (i + k).min(t.len()) };
                t.insert(at, p);
            }
        }
        // Pad and End placement
        8 => match rng.below(4) {
            0 => {
                let at = rng.below(t.len() + 1);
                t.insert(at, Tlv::Pad(1 + rng.below(8)));
            }
            1 => t.retain(|x| !matches!(x, Tlv::End)),
            2 => {
                t.retain(|x| !matches!(x, Tlv::End));
                let at = rng.below(t.len() + 1);
                t.insert(at, Tlv::End);
            }
            _ => t.push(Tlv::Raw(vec![rng.next() as u8; 1 + rng.below(4)])),
        },
        // mutate one option's value with libFuzzer's byte mutator
        9 => {
            let Some(i) = pick(rng) else { return false };
            if let Tlv::Opt(_, d) = &mut t[i] {
                data_mutate(d);
            }
        }
        // a long option: one value of more than 255 octets as consecutive instances
        _ => {
            let code = CODES[rng.below(CODES.len())];
            let n = 256 + rng.below(300);
            let mut rest: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            let at = rng.below(t.len() + 1);
            let mut k = 0;
            while !rest.is_empty() {
                let take = rest.len().min(255);
                let chunk: Vec<u8> = rest.drain(..take).collect();
                t.insert(at + k, Tlv::Opt(code, chunk));
                k += 1;
            }
        }
    }
    true
}

/// A whole BOOTP message with the RFC 1048 cookie?
fn is_packet(data: &[u8]) -> bool {
    data.len() >= field::OPTIONS.start
        && data.get(field::VEND.start..field::OPTIONS.start) == Some(&bootp::MAGIC_COOKIE[..])
}

/// The mutator: `data[..size]` is the input, the result (at most `max_size` octets)
/// is written back to `data` and its length returned. `fallback` is libFuzzer's own
/// mutator (`fuzzer_mutate`), used for one mutation in four and when the structured
/// one has nothing to work on.
pub fn mutate(
    data: &mut [u8],
    size: usize,
    max_size: usize,
    seed: u32,
    fallback: &mut dyn FnMut(&mut [u8], usize, usize) -> usize,
) -> usize {
    let mut rng = Rng::new(seed);
    let size = size.min(data.len());
    if rng.chance(4) {
        return fallback(data, size, max_size);
    }
    let input = data[..size].to_vec();
    // libFuzzer's mutator on a scratch buffer, for option values.
    let mut data_mutate = |d: &mut Vec<u8>| {
        let n = d.len();
        d.resize(255, 0);
        let m = fallback(d, n, 255);
        d.truncate(m);
    };
    let mut out = Vec::with_capacity(max_size);
    if is_packet(&input) {
        let (head, areas) = input.split_at(field::OPTIONS.start);
        let mut head = head.to_vec();
        let mut opts = parse_area(areas);
        let mut file = parse_area(&head[field::FILE]);
        let mut sname = parse_area(&head[field::SNAME]);
        match rng.below(6) {
            // move options into file or sname, and say so with option 52
            0 | 1 => {
                let into_file = rng.chance(2);
                let idx = option_indices(&opts);
                if idx.is_empty() {
                    return fallback(data, size, max_size);
                }
                let take = 1 + rng.below(idx.len());
                let mut moved = Vec::new();
                for &i in idx.iter().rev().take(take) {
                    moved.insert(0, opts.remove(i));
                }
                let target = if into_file { &mut file } else { &mut sname };
                target.retain(|x| !matches!(x, Tlv::End));
                target.extend(moved);
                target.push(Tlv::End);
                let v = match (into_file, rng.below(4)) {
                    (_, 0) => 3,
                    (true, _) => 1,
                    (false, _) => 2,
                };
                opts.retain(|x| !matches!(x, Tlv::Opt(52, _)));
                let at = rng.below(opts.len() + 1);
                opts.insert(at, Tlv::Opt(52, vec![v]));
            }
            // an overload loop: 52 inside file or sname
            2 => {
                let target = if rng.chance(2) { &mut file } else { &mut sname };
                let v = value_for(&mut rng, 52);
                target.insert(0, Tlv::Opt(52, v));
            }
            3 => {
                if !mutate_area(&mut rng, &mut file, &mut data_mutate) {
                    return fallback(data, size, max_size);
                }
            }
            4 => {
                if !mutate_area(&mut rng, &mut sname, &mut data_mutate) {
                    return fallback(data, size, max_size);
                }
            }
            _ => {
                if !mutate_area(&mut rng, &mut opts, &mut data_mutate) {
                    return fallback(data, size, max_size);
                }
            }
        }
        for (range, tlvs) in [(field::FILE, &file), (field::SNAME, &sname)] {
            let len = range.len();
            let mut b = Vec::new();
            serialize(tlvs, &mut b);
            b.resize(len, 0);
            head[range].copy_from_slice(&b[..len]);
        }
        out.extend_from_slice(&head);
        serialize(&opts, &mut out);
    } else {
        let mut t = parse_area(&input);
        if !mutate_area(&mut rng, &mut t, &mut data_mutate) {
            return fallback(data, size, max_size);
        }
        serialize(&t, &mut out);
    }
    let n = out.len().min(max_size).min(data.len());
    data[..n].copy_from_slice(&out[..n]);
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_serialize_round_trip() {
        for area in [
            &[53u8, 1, 1, 0, 0, 12, 3, b'w', b's', b'1', 255, 0, 7][..],
            &[12, 200, 1, 2][..],
            &[1][..],
            &[][..],
            &[0, 0, 0][..],
        ] {
            let mut out = Vec::new();
            serialize(&parse_area(area), &mut out);
            assert_eq!(out, area);
        }
    }
}
