//! Bounds-checked big-endian reads. Every accessor returns `None` past the end instead
//! of panicking; callers turn that into an [`crate::Error`] with the right offset.

use core::net::Ipv4Addr;

#[inline]
pub(crate) fn u8_at(b: &[u8], at: usize) -> Option<u8> {
    b.get(at).copied()
}

#[inline]
pub(crate) fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
}

#[inline]
pub(crate) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    let a: [u8; 4] = s.try_into().ok()?;
    Some(u32::from_be_bytes(a))
}

#[inline]
pub(crate) fn ipv4_at(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    u32_at(b, at).map(Ipv4Addr::from)
}

#[inline]
pub(crate) fn array_at<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// Writes `src` into `dst` at `at`, if it fits. Emitters size their buffers first, so a
/// `false` here is a bug in the emitter, reported as a truncation error by the caller.
#[inline]
pub(crate) fn put(dst: &mut [u8], at: usize, src: &[u8]) -> bool {
    match at.checked_add(src.len()).and_then(|end| dst.get_mut(at..end)) {
        Some(d) => {
            d.copy_from_slice(src);
            true
        }
        None => false,
    }
}

/// Index of the first non-zero octet, eight octets at a time (option areas end in long
/// runs of Pad, and sname/file are mostly zeros).
#[inline]
pub(crate) fn first_nonzero(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        let v = u64::from_ne_bytes(w.try_into().unwrap_or([1; 8]));
        if v != 0 {
            break;
        }
        i += 8;
    }
    b.get(i..)?.iter().position(|&x| x != 0).map(|p| p + i)
}
