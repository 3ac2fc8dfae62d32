//! The parse path allocates nothing: header accessors, the option walk with overload,
//! and typed decode of every option of real replies.

use bootcheck_wire::bootp::Packet;

mod common;

#[test]
fn decoding_real_replies_allocates_nothing() {
    let replies = common::real_replies();
    let mut options = 0usize;
    let info = allocation_counter::measure(|| {
        for r in &replies {
            let p = Packet::new_checked(&r[..]).expect("valid header");
            std::hint::black_box((p.xid(), p.yiaddr(), p.chaddr(), p.sname(), p.file(), p.overload()));
            for o in p.walk().flatten() {
                if let bootcheck_wire::options::Item::Option(o) = o {
                    std::hint::black_box(o.value().ok());
                    options += 1;
                }
            }
        }
    });
    assert!(options > 100, "only {options} options walked");
    assert_eq!(info.count_total, 0, "the parse path allocated {} times", info.count_total);
}
