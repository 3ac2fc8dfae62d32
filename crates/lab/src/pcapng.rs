//! A small pcapng writer (draft-ietf-opsawg-pcapng): one Section Header Block, one
//! Interface Description Block per port (with `if_name` and `if_tsresol`), and Enhanced
//! Packet Blocks with the `epb_flags` direction bits, so Wireshark/tshark show which
//! frames the harness sent and which it received, on which lab interface.
//!
//! All blocks are written little-endian (the byte-order magic says so).

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::LabError;

/// LINKTYPE_ETHERNET.
pub const LINKTYPE_ETHERNET: u16 = 1;

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 0x0000_0001;
const EPB: u32 = 0x0000_0006;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const OPT_END: u16 = 0;
const SHB_USERAPPL: u16 = 4;
const IF_NAME: u16 = 2;
const IF_DESCRIPTION: u16 = 3;
const IF_TSRESOL: u16 = 9;
const EPB_FLAGS: u16 = 2;

/// Which way a frame went, from the harness port's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received on the port.
    In,
    /// Sent by the port.
    Out,
    /// Not known (no `epb_flags` direction bits).
    Unknown,
}

impl Direction {
    fn flags(self) -> u32 {
        match self {
            Direction::Unknown => 0,
            Direction::In => 1,
            Direction::Out => 2,
        }
    }
}

/// Timestamp resolution of every interface of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Micro,
    Nano,
}

/// A pcapng file being written. Frames go to an interface registered with
/// [`PcapNgWriter::add_interface`].
pub struct PcapNgWriter<W: Write> {
    out: Option<W>,
    resolution: Resolution,
    snaplens: Vec<u32>,
}

/// A writer several ports append to (each with its own interface).
pub type SharedPcapNg = Arc<Mutex<PcapNgWriter<BufWriter<File>>>>;

impl<W: Write> fmt::Debug for PcapNgWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PcapNgWriter")
            .field("resolution", &self.resolution)
            .field("interfaces", &self.snaplens.len())
            .finish_non_exhaustive()
    }
}

impl PcapNgWriter<BufWriter<File>> {
    /// Create (truncate) `path` and write the section header; nanosecond timestamps.
    pub fn create(path: &Path) -> Result<Self, LabError> {
        let f = File::create(path).map_err(|e| LabError::io(format!("creating {}", path.display()), e))?;
        PcapNgWriter::new(BufWriter::new(f), Resolution::Nano)
            .map_err(|e| LabError::io(format!("writing {}", path.display()), e))
    }

    /// [`PcapNgWriter::create`], wrapped for sharing between ports.
    pub fn create_shared(path: &Path) -> Result<SharedPcapNg, LabError> {
        Ok(Arc::new(Mutex::new(PcapNgWriter::create(path)?)))
    }
}

impl<W: Write> PcapNgWriter<W> {
    /// Start a section on `out`.
    pub fn new(mut out: W, resolution: Resolution) -> io::Result<Self> {
        let mut body = Vec::with_capacity(64);
        put32(&mut body, BYTE_ORDER_MAGIC);
        put16(&mut body, 1); // major
        put16(&mut body, 0); // minor
        body.extend_from_slice(&u64::MAX.to_le_bytes()); // section length: unspecified
        let app = concat!("bootcheck-lab ", env!("CARGO_PKG_VERSION"));
        option(&mut body, SHB_USERAPPL, app.as_bytes());
        option(&mut body, OPT_END, &[]);
        block(&mut out, SHB, &body)?;
        Ok(PcapNgWriter { out: Some(out), resolution, snaplens: Vec::new() })
    }

    /// Register an interface; returns its id for [`PcapNgWriter::write_packet`].
    pub fn add_interface(
        &mut self,
        name: &str,
        description: Option<&str>,
        linktype: u16,
        snaplen: u32,
    ) -> io::Result<u32> {
        let mut body = Vec::with_capacity(64);
        put16(&mut body, linktype);
        put16(&mut body, 0);
        put32(&mut body, snaplen);
        option(&mut body, IF_NAME, name.as_bytes());
        if let Some(d) = description {
            option(&mut body, IF_DESCRIPTION, d.as_bytes());
        }
        option(&mut body, IF_TSRESOL, &[if self.resolution == Resolution::Nano { 9 } else { 6 }]);
        option(&mut body, OPT_END, &[]);
        block(self.out()?, IDB, &body)?;
        let id = u32::try_from(self.snaplens.len()).map_err(|_| io::Error::other("too many interfaces"))?;
        self.snaplens.push(snaplen);
        Ok(id)
    }

    /// Append one frame. `data` is cut to the interface's snaplen; the original
    /// length is kept in the block.
    pub fn write_packet(&mut self, iface: u32, ts: SystemTime, data: &[u8], direction: Direction) -> io::Result<()> {
        let snaplen = *self
            .snaplens
            .get(iface as usize)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("no interface {iface}")))?;
        let since = ts.duration_since(UNIX_EPOCH).unwrap_or_default();
        let units: u64 = match self.resolution {
            Resolution::Nano => since.as_secs().wrapping_mul(1_000_000_000) + u64::from(since.subsec_nanos()),
            Resolution::Micro => since.as_secs().wrapping_mul(1_000_000) + u64::from(since.subsec_micros()),
        };
        let orig_len = u32::try_from(data.len()).map_err(|_| io::Error::other("frame larger than 4 GiB"))?;
        let cap = &data[..data.len().min(snaplen as usize)];
        let mut body = Vec::with_capacity(cap.len() + 48);
        put32(&mut body, iface);
        put32(&mut body, (units >> 32) as u32);
        put32(&mut body, units as u32);
        put32(&mut body, cap.len() as u32);
        put32(&mut body, orig_len);
        body.extend_from_slice(cap);
        pad4(&mut body);
        if direction != Direction::Unknown {
            option(&mut body, EPB_FLAGS, &direction.flags().to_le_bytes());
            option(&mut body, OPT_END, &[]);
        }
        block(self.out()?, EPB, &body)
    }

    /// Flush buffered blocks to the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out()?.flush()
    }

    /// Flush and hand back the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.flush()?;
        self.out.take().ok_or_else(|| io::Error::other("pcapng writer already finished"))
    }

    fn out(&mut self) -> io::Result<&mut W> {
        self.out.as_mut().ok_or_else(|| io::Error::other("pcapng writer already finished"))
    }
}

impl<W: Write> Drop for PcapNgWriter<W> {
    fn drop(&mut self) {
        if let Some(o) = self.out.as_mut() {
            let _ = o.flush();
        }
    }
}

fn put16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn pad4(v: &mut Vec<u8>) {
    while v.len() % 4 != 0 {
        v.push(0);
    }
}
fn option(v: &mut Vec<u8>, code: u16, value: &[u8]) {
    put16(v, code);
    put16(v, value.len() as u16);
    v.extend_from_slice(value);
    pad4(v);
}
/// type, total length, body (already padded), total length.
fn block(out: &mut impl Write, kind: u32, body: &[u8]) -> io::Result<()> {
    let total = u32::try_from(body.len() + 12).map_err(|_| io::Error::other("pcapng block too large"))?;
    let mut b = Vec::with_capacity(total as usize);
    put32(&mut b, kind);
    put32(&mut b, total);
    b.extend_from_slice(body);
    put32(&mut b, total);
    out.write_all(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_aligned_and_lengths_match() {
        let mut w = PcapNgWriter::new(Vec::new(), Resolution::Nano).expect("shb");
        let i = w.add_interface("bc000000-c0", None, LINKTYPE_ETHERNET, 65535).expect("idb");
        w.write_packet(i, UNIX_EPOCH, &[1, 2, 3, 4, 5], Direction::Out).expect("epb");
        let buf = w.finish().expect("finish");
        // Walk blocks: every block's leading and trailing length agree, and are 4-aligned.
        let mut at = 0;
        let mut kinds = Vec::new();
        while at < buf.len() {
            let kind = u32::from_le_bytes(buf[at..at + 4].try_into().expect("4"));
            let len = u32::from_le_bytes(buf[at + 4..at + 8].try_into().expect("4")) as usize;
            assert_eq!(len % 4, 0);
            let tail = u32::from_le_bytes(buf[at + len - 4..at + len].try_into().expect("4")) as usize;
            assert_eq!(len, tail);
            kinds.push(kind);
            at += len;
        }
        assert_eq!(kinds, vec![SHB, IDB, EPB]);
    }

    #[test]
    fn unknown_interface_is_an_error() {
        let mut w = PcapNgWriter::new(Vec::new(), Resolution::Micro).expect("shb");
        assert!(w.write_packet(0, SystemTime::now(), &[0; 14], Direction::In).is_err());
    }
}
