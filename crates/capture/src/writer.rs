//! A pcap writer (microsecond or nanosecond timestamps, any link type): what `lift`,
//! `replay` and the generated benchmark captures write.

use std::io::{self, Write};
use std::time::Duration;

use bootcheck_wire::frame::LinkType;

/// Writes a classic pcap file, little-endian, nanosecond timestamps.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    pub fn new(mut out: W, link: LinkType) -> io::Result<Self> {
        let snaplen = 262_144u32;
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&0xa1b2_3c4du32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&snaplen.to_le_bytes());
        h.extend_from_slice(&link.to_u32().to_le_bytes());
        out.write_all(&h)?;
        Ok(PcapWriter { out, snaplen })
    }

    /// One packet captured at `time` (since the Unix epoch).
    pub fn write(&mut self, time: Duration, data: &[u8]) -> io::Result<()> {
        let incl = data.len().min(self.snaplen as usize);
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&(time.as_secs() as u32).to_le_bytes());
        h[4..8].copy_from_slice(&time.subsec_nanos().to_le_bytes());
        h[8..12].copy_from_slice(&(incl as u32).to_le_bytes());
        h[12..16].copy_from_slice(&(data.len() as u32).to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(&data[..incl])
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
