//! # bootcheck-wire
//!
//! Sans-IO, zero-copy parsing and emitting of everything bootcheck puts on or reads
//! off a wire: BOOTP (RFC 951) with RFC 1048/2132 vendor options, option overload and
//! RFC 3396 long options, Apple BSDP, TFTP (RFC 1350, 2347–2349, 7440), ARP/RARP
//! (RFC 826, 903), and the Ethernet II / IPv4 / UDP framing around them.
//!
//! Style (after smoltcp's `wire`): a `Packet<T: AsRef<[u8]>>` view with checked
//! construction and field offset constants, and a `Repr` value with `parse` and
//! `emit`. Nothing here does I/O, allocates on the view/iterator path, or panics on
//! any input (the `fuzz/` targets hold it to that).
#![forbid(unsafe_code)]

pub mod arp;
pub mod bootp;
pub mod bsdp;
pub mod error;
mod field;
pub mod frame;
pub mod options;
pub mod tftp;

pub use error::{Area, Error, ErrorKind, Finding, Mode, Result, Severity};
