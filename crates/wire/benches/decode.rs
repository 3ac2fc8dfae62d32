//! Decode real BOOTREPLYs: header fields plus a typed walk of every option, with
//! bootcheck-wire and, in the same run, with dhcproto's `v4::Message::decode` (the
//! yardstick only). `ci/bench.sh` reads both medians and reports the ratio.

use std::hint::black_box;

use bootcheck_wire::bootp::Packet;
use bootcheck_wire::options::Value;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dhcproto::{Decodable, Decoder};

#[path = "../tests/common/mod.rs"]
mod common;

/// What a decoder must touch for the comparison to be fair: every header field and
/// every option's typed value.
fn bootcheck_decode(b: &[u8]) -> u64 {
    let Ok(p) = Packet::new_checked(b) else { return 0 };
    let mut acc = u64::from(p.xid()) ^ u64::from(p.secs()) ^ u64::from(p.flags());
    acc ^= u64::from(u32::from(p.ciaddr()) ^ u32::from(p.yiaddr()) ^ u32::from(p.siaddr()) ^ u32::from(p.giaddr()));
    acc ^= p.chaddr().len() as u64 ^ p.sname().len() as u64 ^ p.file().len() as u64;
    acc ^= u64::from(p.op().to_u8()) ^ u64::from(p.htype()) ^ u64::from(p.hlen()) ^ u64::from(p.hops());
    for o in p.options() {
        acc = acc.wrapping_add(u64::from(o.option.code));
        if let Ok(v) = o.value() {
            acc = acc.wrapping_add(digest(&v));
        }
    }
    acc
}

/// Consume a typed value: read what it decoded, so no decoding work can be elided.
fn digest(v: &Value<'_>) -> u64 {
    match *v {
        Value::Ip(a) => u64::from(u32::from(a)),
        Value::U8(x) | Value::NodeType(x) => u64::from(x),
        Value::U16(x) => u64::from(x),
        Value::U32(x) => u64::from(x),
        Value::I32(x) => x as u64,
        Value::Bool(b) => u64::from(b),
        Value::MessageType(t) => u64::from(t.to_u8()),
        Value::Overload(o) => u64::from(o.to_u8()),
        Value::Ips(l) | Value::IpPairs(l) => l.iter().map(|a| u64::from(u32::from(a))).sum(),
        Value::U16s(l) => l.iter().map(u64::from).sum(),
        Value::Str(s) | Value::Codes(s) | Value::Bytes(s) | Value::Unknown(s) => s.len() as u64,
        Value::ClientId { kind, id } => u64::from(kind) + id.len() as u64,
        Value::ClientIdDuid { iaid, duid } => u64::from(iaid) + duid.len() as u64,
        Value::RelayAgent(s) => s.0.len() as u64,
        Value::ClientNdi { major, minor, .. } => u64::from(major) + u64::from(minor),
        Value::MachineId { id, .. } => id.len() as u64,
    }
}

fn dhcproto_decode(b: &[u8]) -> u64 {
    match dhcproto::v4::Message::decode(&mut Decoder::new(b)) {
        Ok(m) => {
            let mut acc = u64::from(m.xid()) ^ u64::from(m.secs());
            acc ^= u64::from(u32::from(m.yiaddr()));
            acc = acc.wrapping_add(m.opts().len() as u64);
            acc
        }
        Err(_) => 0,
    }
}

fn bench(c: &mut Criterion) {
    let replies = common::real_replies();
    let octets: usize = replies.iter().map(Vec::len).sum();
    let mut g = c.benchmark_group("decode-replies");
    g.throughput(Throughput::Elements(replies.len() as u64));
    g.bench_function("bootcheck-wire", |bn| {
        bn.iter(|| replies.iter().map(|r| bootcheck_decode(black_box(r))).fold(0u64, u64::wrapping_add))
    });
    g.bench_function("dhcproto", |bn| {
        bn.iter(|| replies.iter().map(|r| dhcproto_decode(black_box(r))).fold(0u64, u64::wrapping_add))
    });
    g.finish();
    eprintln!("corpus: {} replies, {} octets", replies.len(), octets);
}

criterion_group!(benches, bench);
criterion_main!(benches);
