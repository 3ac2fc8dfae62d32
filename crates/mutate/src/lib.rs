//! # bootcheck-mutate
//!
//! The sans-IO half of `bootcheck fuzz`: structure-aware mutation of the requests the
//! scenario corpus sends (BOOTP/DHCP/BSDP BOOTREQUESTs, TFTP requests, RARP requests),
//! and delta debugging of a failing packet sequence. No I/O, no clock, no panics on any
//! input; every case is a pure function of the campaign seed and its index, so a
//! campaign is reproduced by its seed and a single case by `Mutator::case(index)`.
//!
//! * [`Corpus`]: the seeds (frames a scenario run sends, deduplicated).
//! * [`Mutator`]: case `i` = a seed, a [`MutationClass`] and the damage it does.
//! * [`minimize`]: `ddmin` over packets and octets with a test budget; the test
//!   (replaying against a fresh server) is the caller's.
//!
//! Safety: a mutation never changes a frame's Ethernet or IPv4 destination, and every
//! case is checked to go only to RFC 5737 documentation space, the limited broadcast
//! or 0.0.0.0 ([`Packet::is_safe`]); the lab sends nothing else.
#![forbid(unsafe_code)]

pub mod class;
pub mod minimize;
pub mod mutator;
pub mod packet;
pub mod rng;

pub use class::MutationClass;
pub use minimize::{ddmin, shrink, shrink_bytes, Budget};
pub use mutator::{Case, Corpus, Mutator, Seed};
pub use packet::{is_safe_frame, Packet, Proto};
pub use rng::Rng;
