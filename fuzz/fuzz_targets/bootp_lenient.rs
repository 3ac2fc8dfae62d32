//! `bootp::Repr::parse_lenient` on raw octets: whatever it returns re-emits to exactly
//! the input and re-parses to the same Repr and findings.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bootcheck_fuzz::check_bootp_lenient(data);
    let _ = bootcheck_fuzz::check_packet(data);
});
