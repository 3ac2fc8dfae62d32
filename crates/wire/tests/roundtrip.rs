//! Round-trip property over generated `Repr`s: emit → parse_lenient gives back the same
//! value, and parse → emit gives back the same octets. The generator is the crate's
//! `arbitrary::Arbitrary` impl (the same one the `roundtrip` fuzz target drives); here
//! it is fed from a fixed-seed xorshift stream so every run checks the same cases.

use arbitrary::{Arbitrary, Unstructured};
use bootcheck_wire::bootp::{Packet, Repr};

struct XorShift(u64);
impl XorShift {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *b = self.0 as u8;
        }
    }
}

#[test]
fn bootp_repr_roundtrip() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut raw = vec![0u8; 4096];
    let mut checked = 0;
    for _ in 0..3000 {
        rng.fill(&mut raw);
        let mut u = Unstructured::new(&raw);
        let Ok(r) = Repr::arbitrary(&mut u) else { continue };
        let bytes = r.to_vec();
        assert_eq!(bytes.len(), r.buffer_len());
        let (back, _findings) = Repr::parse_lenient(&bytes);
        let back = back.expect("a generated message has a whole header");
        assert_eq!(back, r, "emit → parse_lenient changed the value");
        assert_eq!(back.to_vec(), bytes, "parse → emit changed the octets");
        // The view agrees with the value on every header field.
        let p = Packet::new_checked(&bytes[..]).expect("whole header");
        assert_eq!((p.op().to_u8(), p.htype(), p.hlen(), p.hops()), (r.op, r.htype, r.hlen, r.hops));
        assert_eq!((p.xid(), p.secs(), p.flags()), (r.xid, r.secs, r.flags));
        assert_eq!((p.ciaddr(), p.yiaddr(), p.siaddr(), p.giaddr()), (r.ciaddr, r.yiaddr, r.siaddr, r.giaddr));
        assert_eq!(p.chaddr_field(), r.chaddr);
        let _ = p.to_string();
        checked += 1;
    }
    assert!(checked > 2500, "generator produced only {checked} messages");
}
