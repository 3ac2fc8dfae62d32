//! TFTP: strict and lenient parse, the `Packet` view, `Display`, and byte-exact
//! re-emission of accepted packets (see `bootcheck_fuzz::check_tftp`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bootcheck_fuzz::check_tftp(data);
});
