//! `frame::Frame::parse` for every supported link type (the first input octet selects
//! it, see `bootcheck_fuzz::link_type`), then the payload found is decoded: BOOTP on
//! ports 67/68, TFTP on other UDP ports, ARP/RARP bodies.
#![no_main]

use bootcheck_fuzz::{check_frame, link_type};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, bytes)) = data.split_first() else { return };
    check_frame(link_type(sel), bytes);
});
