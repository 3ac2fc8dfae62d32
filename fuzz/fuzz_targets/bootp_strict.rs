//! `bootp::Repr::parse` (strict) on raw octets: accepted messages re-emit byte for byte,
//! the strict and lenient parses agree, `Packet` accessors/walk/`Display` never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bootcheck_fuzz::check_bootp_strict(data);
});
