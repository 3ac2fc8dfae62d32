//! bootcheck-wire's strict BOOTP parse against dhcproto 0.15's borrowed parser on the
//! same octets (`bootcheck_fuzz::differential`): a disagreement that no known,
//! reasoned difference (fuzz/differential-known.md) explains is a crash. Uses the
//! structure-aware option mutator, so overload, splits and truncation come up often.
#![no_main]

use bootcheck_fuzz::{differential::differential, mutator};
use libfuzzer_sys::{fuzz_mutator, fuzz_target, fuzzer_mutate};

fuzz_target!(|data: &[u8]| {
    let _ = differential(data);
});

fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    mutator::mutate(data, size, max_size, seed, &mut |d, s, m| fuzzer_mutate(d, s, m))
});
