//! ARP/RARP bodies: parse, `Display`, re-emission of the declared body.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bootcheck_fuzz::check_arp(data);
});
