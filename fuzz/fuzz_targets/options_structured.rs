//! The `options` target's checks with a structure-aware mutator: libFuzzer's inputs are
//! changed at the TLV level (`bootcheck_fuzz::mutator`) three times in four, byte-wise
//! otherwise. Compare with `options` (same checks, byte mutations only): fuzz/README.md.
#![no_main]

use bootcheck_fuzz::{bootp_with_options, check_area, check_packet, mutator};
use bootcheck_wire::{bootp, Area};
use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};

fuzz_target!(|data: &[u8]| {
    check_area(data, bootp::field::OPTIONS.start, Area::Options);
    check_area(data, 0, Area::File);
    let msg = bootp_with_options(data);
    check_packet(&msg);
    if let Ok(r) = bootp::Repr::parse(&msg) {
        assert_eq!(r.to_vec(), msg);
    }
});

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    mutator::mutate(data, size, max_size, seed, &mut |d, s, m| fuzzer_mutate(d, s, m))
});
