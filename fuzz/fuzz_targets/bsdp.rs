//! BSDP: the input as a joined option-43 payload (strict + lenient, Display, byte-exact
//! emit, Apple-style instance splitting), as option-43 instances cut at a size taken
//! from the first octet, and as an option-60 vendor class.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bootcheck_fuzz::check_bsdp_payload(data);
    let chunk = data.first().map_or(1, |&b| usize::from(b % 64) + 1);
    bootcheck_fuzz::check_bsdp_instances(data, chunk);
    bootcheck_fuzz::check_vendor_class(data);
});
