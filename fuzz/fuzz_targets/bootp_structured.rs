//! The `bootp_strict` checks on whole BOOTP messages, with the structure-aware option
//! mutator (`bootcheck_fuzz::mutator`): options inserted, split (RFC 3396), moved into
//! file/sname with option 52, 52 inside the fields it overloads, lengths past the end.
//! Same checks as `bootp_strict`, so the two compare mutators: fuzz/README.md.
#![no_main]

use bootcheck_fuzz::{check_bootp_strict, mutator};
use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};

fuzz_target!(|data: &[u8]| {
    check_bootp_strict(data);
});

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    mutator::mutate(data, size, max_size, seed, &mut |d, s, m| fuzzer_mutate(d, s, m))
});
