//! Arbitrary octets as an RFC 1048 option area: the zero-copy walk, the typed decode of
//! every option, `Display`; then the same octets as the vend field of a BOOTP message
//! with a fixed header (whose `file`/`sname` hold options, for overload), walked in
//! RFC 3396 order with `aggregate`.
#![no_main]

use bootcheck_fuzz::{bootp_with_options, check_area, check_packet};
use bootcheck_wire::{bootp, Area};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check_area(data, bootp::field::OPTIONS.start, Area::Options);
    check_area(data, 0, Area::File);
    let msg = bootp_with_options(data);
    check_packet(&msg);
    if let Ok(r) = bootp::Repr::parse(&msg) {
        assert_eq!(r.to_vec(), msg);
    }
});
