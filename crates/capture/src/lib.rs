//! `bootcheck-capture`: captures in, verdicts out.
//!
//! * [`reader`]: a streaming pcap/pcapng reader with flat memory that reports damage
//!   (with the packet number and byte offset) and reads on past it;
//! * [`reasm`]: IPv4 fragment reassembly, bounded;
//! * [`check`]: the offline checker — exchanges found in the packets (BOOTP/DHCP/BSDP
//!   by xid and chaddr, TFTP by transfer ids, RARP by hardware address) and the rule
//!   catalogue of `bootcheck-rules` run on each;
//! * [`lift`]: a capture's exchanges written as a scenario.
//!
//! Everything here is sans-IO except [`reader::Reader`], which reads from any
//! `std::io::Read`, and [`check_file`], which ties the two together.
#![forbid(unsafe_code)]

pub mod check;
pub mod lift;
pub mod reader;
pub mod reasm;
pub mod render;
pub mod replay;
pub mod writer;

use std::path::Path;

pub use check::{Checker, Exchange, ExchangeVerdict, Failure, Options, Output, Summary};
pub use reader::{Event, Issue, IssueKind, OpenError, Reader, Record};

/// Open a capture file for streaming.
pub fn open(path: &Path) -> Result<Reader<std::fs::File>, OpenError> {
    Reader::new(std::fs::File::open(path)?)
}

/// Check a whole capture file; `sink` gets every exchange and issue as it is decided.
pub fn check_file(path: &Path, opts: Options, sink: &mut dyn FnMut(Output)) -> Result<Summary, OpenError> {
    let mut reader = open(path)?;
    let mut checker = Checker::new(opts);
    while let Some(ev) = reader.next_event() {
        match ev {
            Event::Packet(rec) => checker.packet(&rec),
            Event::Issue(i) => checker.issue(i),
        }
        while let Some(o) = checker.poll() {
            sink(o);
        }
    }
    checker.finish();
    while let Some(o) = checker.poll() {
        sink(o);
    }
    Ok(checker.summary())
}
