//! A read-only TFTP server (RFC 1350) with option negotiation (RFC 2347): blksize
//! (RFC 2348), timeout and tsize (RFC 2349), windowsize (RFC 7440). It serves the
//! site's files (`site.files`, content from `generate_content`) rooted at `boot.home`.
//!
//! Decisions:
//! * Requests go to port 69; every answer to a request, ERRORs included, comes from a
//!   new TID: ports are taken in turn from [`TID_RANGE`], skipping those in use, so
//!   they are deterministic and differ between concurrent transfers (RFC 1350 §4).
//! * WRQ → ERROR 2 (access violation: a read-only server). A mode other than octet or
//!   netascii (mail included) → ERROR 4. A name outside the served tree (`..`, or an
//!   absolute path not under `boot.home`) → ERROR 2; a missing file → ERROR 1. A
//!   malformed request → ERROR 4. An ERROR sent to port 69 is never answered.
//! * Options (RFC 2347): unknown options, repeated options and invalid values are left
//!   out of the OACK (never an ERROR); the OACK holds only requested options, with
//!   the client's spelling of each name. blksize 8..=65464 is answered with at most
//!   [`MAX_BLKSIZE`] (1468: a 1500-octet Ethernet MTU minus IPv4, UDP and TFTP
//!   headers, so DATA is never fragmented; RFC 2348 lets the server answer smaller).
//!   timeout 1..=255 is accepted as given (RFC 2349: the value must match). tsize is
//!   answered with the octets that will be transferred (after netascii conversion).
//!   windowsize 1..=65535 is answered with at most [`MAX_WINDOWSIZE`] (RFC 7440 lets
//!   the server answer smaller). No acceptable option: no OACK, DATA 1 at once.
//! * netascii (RFC 1350 §5, RFC 764): LF → CR LF, CR → CR NUL.
//! * Blocks are numbered from 1; past 65535 the number wraps to 0. A window of
//!   `windowsize` blocks is sent, then the server waits for an ACK (RFC 7440 §4): the
//!   ACK of the window's last block opens the next window; the ACK of an earlier block
//!   restarts the window after it; the ACK of the block already acknowledged (a
//!   duplicate) is ignored in lock step: duplicate ACKs never cause duplicate DATA (the
//!   Sorcerer's Apprentice fix, RFC 1123 §4.2.3.1). With a window of more than one
//!   block out, that ACK is the receiver's notice that the window's first block did not
//!   arrive (RFC 7440 §4: it ACKs "the last data block correctly received"), and the
//!   window is sent again from the block after it. The final block (shorter than
//!   blksize, maybe empty) once acknowledged ends the transfer.
//! * Retransmission is driven by time: no ACK within the timeout (negotiated, else
//!   [`DEFAULT_TIMEOUT`]) → the OACK, or the window after the last ACK, is sent again
//!   (RFC 7440 §4); after [`MAX_RETRIES`] retransmissions the transfer is given up
//!   silently.
//! * A packet at a transfer's port from another address or port gets ERROR 5 and does
//!   not disturb the transfer (RFC 1350 §4). An ERROR from the client ends the
//!   transfer (RFC 1350 §7; RFC 2347 error 8 when it refuses the OACK). Any other
//!   opcode from the client → ERROR 4 and the transfer ends.
//! * A repeated RRQ (the same octets from the same client TID) before anything was
//!   acknowledged makes the server send its first packet(s) again from the same TID
//!   (the client lost them); later, it is ignored. A different RRQ from a reused
//!   client TID starts a new transfer.

use core::net::Ipv4Addr;
use core::ops::RangeInclusive;
use core::time::Duration;
use std::collections::BTreeMap;
use std::sync::Arc;

use bootcheck_wire::tftp::{ErrorCode, OptionKind, Packet, Repr, RequestOpcode, TftpOption, TransferMode};

use crate::deliver;
use crate::faults::Fault;
use crate::paths::{self, Lookup};
use crate::report::{DropReason, Kind};
use crate::{text, Rx, Server};

/// Retransmission timeout when the client did not negotiate one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// Retransmissions before a transfer is given up.
pub const MAX_RETRIES: u32 = 5;
/// Largest block size the server agrees to (1500 − 20 − 8 − 4).
pub const MAX_BLKSIZE: u64 = 1468;
/// Largest window the server agrees to.
pub const MAX_WINDOWSIZE: u64 = 64;
/// Transfers at the same time; more requests get ERROR 0.
pub const MAX_TRANSFERS: usize = 256;
/// Ports the server's TIDs are taken from.
pub const TID_RANGE: RangeInclusive<u16> = 49152..=65535;

const DEFAULT_BLKSIZE: u64 = 512;

/// The TFTP side of the server.
#[derive(Debug, Default)]
pub(crate) struct Tftp {
    /// Active transfers by server TID (port).
    transfers: BTreeMap<u16, Transfer>,
    /// Offset in [`TID_RANGE`] of the next TID to try.
    next_tid: u32,
    /// File contents by site key.
    cache: BTreeMap<String, Arc<[u8]>>,
}

impl Tftp {
    pub(crate) fn has_port(&self, port: u16) -> bool {
        self.transfers.contains_key(&port)
    }

    pub(crate) fn poll_timeout(&self) -> Option<Duration> {
        self.transfers.values().map(|t| t.deadline).min()
    }

    fn allocate_tid(&mut self) -> u16 {
        let start = u32::from(*TID_RANGE.start());
        let span = u32::from(*TID_RANGE.end()) - start + 1;
        for _ in 0..span {
            let port = u16::try_from(start + self.next_tid % span).unwrap_or(*TID_RANGE.start());
            self.next_tid = (self.next_tid + 1) % span;
            if !self.transfers.contains_key(&port) {
                return port;
            }
        }
        *TID_RANGE.start()
    }
}

/// One read transfer.
#[derive(Debug, Clone)]
struct Transfer {
    peer_mac: [u8; 6],
    peer_ip: Ipv4Addr,
    peer_port: u16,
    /// Site key, for the log.
    file: String,
    /// The octets sent (netascii already converted).
    data: Arc<[u8]>,
    blksize: usize,
    window: u64,
    timeout: Duration,
    /// The OACK, while its ACK (block 0) is awaited.
    oack: Option<Vec<u8>>,
    /// Highest block acknowledged (0: none yet, or the OACK).
    acked: u64,
    /// Highest block sent.
    sent_upto: u64,
    /// Number of DATA blocks (the last one shorter than blksize, maybe empty).
    total: u64,
    deadline: Duration,
    retries: u32,
    /// Some valid ACK arrived.
    progressed: bool,
    /// The RRQ that started it (to recognise a repeat).
    rrq: Vec<u8>,
}

impl Transfer {
    fn block(&self, n: u64) -> &[u8] {
        let start = usize::try_from(n.saturating_sub(1)).unwrap_or(usize::MAX).saturating_mul(self.blksize);
        let end = start.saturating_add(self.blksize).min(self.data.len());
        self.data.get(start..end).unwrap_or(&[])
    }
}

/// The block number on the wire for block `n` (wrapping to 0 past 65535, or to 1 under
/// the `tftp-rollover-to-1` fault).
fn wire(n: u64, to_one: bool) -> u16 {
    if to_one && n > 65535 {
        ((n - 65536) % 65535 + 1) as u16
    } else {
        (n & 0xffff) as u16
    }
}

/// RFC 1350 §5 / RFC 764 netascii: LF → CR LF, CR → CR NUL.
pub(crate) fn netascii(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 16);
    for &b in data {
        match b {
            b'\n' => out.extend_from_slice(b"\r\n"),
            b'\r' => out.extend_from_slice(b"\r\0"),
            other => out.push(other),
        }
    }
    out
}

impl Server {
    /// A packet to port 69.
    pub(crate) fn tftp_request(&mut self, rx: &Rx<'_>) -> Vec<Vec<u8>> {
        let now = rx.now;
        let k = Kind::Tftp;
        self.stats.request(k);
        if rx.ip_src.is_unspecified() || rx.ip_src.is_broadcast() || rx.ip_src.is_multicast() || rx.src_port == 0 {
            return self.discard(
                now,
                k,
                DropReason::TftpIgnored,
                "RFC1350 §4",
                format!("request from {}:{}: no address to answer", rx.ip_src, rx.src_port),
            );
        }
        let repr = match Repr::parse_bytes(rx.payload) {
            Ok(r) => r,
            Err(e) => {
                if Packet::new_unchecked(rx.payload).opcode() == bootcheck_wire::tftp::Opcode::Error {
                    return self.discard(
                        now,
                        k,
                        DropReason::TftpIgnored,
                        "RFC1350 §7",
                        "malformed ERROR to port 69: not answered",
                    );
                }
                let msg = format!("malformed request ({e})");
                return self.tftp_error_new_tid(rx, ErrorCode::IllegalOperation, &msg, "RFC1350 §5");
            }
        };
        match repr {
            Repr::Request { opcode: RequestOpcode::Wrq, filename, .. } => {
                let msg = format!("write request for {}: this server is read-only", text(filename));
                self.tftp_error_new_tid(rx, ErrorCode::AccessViolation, &msg, "RFC1350 §5")
            }
            Repr::Request { opcode: RequestOpcode::Rrq, filename, mode, options } => {
                self.tftp_rrq(rx, filename, mode, &options)
            }
            Repr::Error { code, message } => self.discard(
                now,
                k,
                DropReason::TftpIgnored,
                "RFC1350 §7",
                format!("ERROR {} {} to port 69: errors are not answered", u16::from(code), text(message)),
            ),
            other => {
                let msg = format!("{} sent to port 69, which takes only RRQ/WRQ", other.opcode());
                self.tftp_error_new_tid(rx, ErrorCode::IllegalOperation, &msg, "RFC1350 §4")
            }
        }
    }

    fn tftp_rrq(&mut self, rx: &Rx<'_>, filename: &[u8], mode: &[u8], options: &[TftpOption<'_>]) -> Vec<Vec<u8>> {
        let now = rx.now;
        let k = Kind::Tftp;
        // The same RRQ from the same client TID again?
        let same = self
            .tftp
            .transfers
            .iter()
            .find(|(_, t)| t.peer_ip == rx.ip_src && t.peer_port == rx.src_port && t.rrq == rx.payload)
            .map(|(p, t)| (*p, t.progressed));
        if let Some((port, progressed)) = same {
            if progressed {
                return self.discard(
                    now,
                    k,
                    DropReason::TftpIgnored,
                    "RFC1350 §4",
                    format!(
                        "repeated RRQ from {}:{}: its transfer (TID {port}) is under way: ignored",
                        rx.ip_src, rx.src_port
                    ),
                );
            }
            let Some(mut t) = self.tftp.transfers.remove(&port) else {
                return Vec::new();
            };
            self.note(
                now,
                k,
                "RFC1350 §4",
                format!(
                    "repeated RRQ from {}:{} before any ACK: first packet(s) sent again from TID {port}",
                    rx.ip_src, rx.src_port
                ),
            );
            let frames = self.tftp_send_next(now, port, &mut t);
            self.tftp.transfers.insert(port, t);
            return self.sent(k, frames);
        }
        let netascii_mode = match TransferMode::from_bytes(mode) {
            Some(TransferMode::Octet) => false,
            Some(TransferMode::Netascii) => true,
            _ => {
                let msg = format!("transfer mode {} is not octet or netascii", text(mode));
                return self.tftp_error_new_tid(rx, ErrorCode::IllegalOperation, &msg, "RFC1350 §5");
            }
        };
        let key = match paths::lookup(&self.site, filename) {
            Lookup::Found { key, .. } => key,
            Lookup::Outside => {
                let msg = format!("{} is outside {}", text(filename), self.site.boot.home);
                return self.tftp_error_new_tid(rx, ErrorCode::AccessViolation, &msg, "RFC1350 §5");
            }
            Lookup::Missing => {
                let msg = format!("{} not found", text(filename));
                return self.tftp_error_new_tid(rx, ErrorCode::FileNotFound, &msg, "RFC1350 §5");
            }
        };
        if self.tftp.transfers.len() >= MAX_TRANSFERS {
            return self.tftp_error_new_tid(rx, ErrorCode::NotDefined, "server busy: too many transfers", "RFC1350 §5");
        }
        let raw = match self.tftp.cache.get(&key) {
            Some(d) => d.clone(),
            None => {
                let d: Arc<[u8]> = self.site.file_content(&key).unwrap_or_default().into();
                self.tftp.cache.insert(key.clone(), d.clone());
                d
            }
        };
        let data: Arc<[u8]> = if netascii_mode {
            if self.faults.has(Fault::TftpNetasciiRaw) {
                self.note(now, k, "fault", "tftp-netascii-raw: netascii file sent without conversion");
                raw
            } else {
                netascii(&raw).into()
            }
        } else {
            raw
        };

        // RFC 2347 negotiation.
        let mut blksize = DEFAULT_BLKSIZE;
        let mut window = 1;
        let mut timeout = DEFAULT_TIMEOUT;
        let mut seen: Vec<OptionKind> = Vec::new();
        let mut acked_opts: Vec<(Vec<u8>, String)> = Vec::new();
        for o in options {
            let Some(kind) = o.kind() else {
                self.note(now, k, "RFC2347", format!("option {} not supported: left out of the OACK", text(o.name)));
                continue;
            };
            if seen.contains(&kind) {
                self.note(
                    now,
                    k,
                    "RFC2347",
                    format!("option {kind} repeated (\"an option may only be specified once\"): the repeat is ignored"),
                );
                continue;
            }
            seen.push(kind);
            let v = match o.check() {
                Ok(Some(v)) => v,
                _ => {
                    self.note(
                        now,
                        k,
                        "RFC2347",
                        format!("option {kind} value {} is invalid: left out of the OACK", text(o.value)),
                    );
                    continue;
                }
            };
            let answer = match kind {
                OptionKind::Blksize => {
                    blksize = v.min(MAX_BLKSIZE);
                    if blksize < v {
                        self.note(
                            now,
                            k,
                            "RFC2348",
                            format!("blksize {v} answered with {blksize} (fits a 1500-octet MTU)"),
                        );
                    }
                    blksize
                }
                OptionKind::Timeout => {
                    timeout = Duration::from_secs(v);
                    v
                }
                OptionKind::Tsize => {
                    if v != 0 {
                        self.note(
                            now,
                            k,
                            "RFC2349",
                            format!("tsize {v} in a RRQ (should be 0): answered with the size"),
                        );
                    }
                    data.len() as u64
                }
                OptionKind::Windowsize => {
                    window = v.min(MAX_WINDOWSIZE);
                    if window < v {
                        self.note(now, k, "RFC7440 §3", format!("windowsize {v} answered with {window}"));
                    }
                    window
                }
            };
            acked_opts.push((o.name.to_vec(), answer.to_string()));
        }
        if self.faults.has(Fault::TftpOackUnrequested) {
            let extra = [
                (OptionKind::Tsize, data.len() as u64),
                (OptionKind::Blksize, blksize),
                (OptionKind::Timeout, timeout.as_secs()),
            ]
            .into_iter()
            .find(|(kind, _)| !seen.contains(kind));
            if let Some((kind, v)) = extra {
                self.note(now, k, "fault", format!("tftp-oack-unrequested: {kind} {v} added to the OACK"));
                acked_opts.push((kind.name().as_bytes().to_vec(), v.to_string()));
            }
        }
        let oack = if acked_opts.is_empty() {
            None
        } else {
            let opts: Vec<TftpOption<'_>> = acked_opts.iter().map(|(n, v)| TftpOption::new(n, v.as_bytes())).collect();
            Some(Repr::Oack { options: opts }.to_vec())
        };
        let blksize_usize = usize::try_from(blksize).unwrap_or(512);
        let total = (data.len() / blksize_usize) as u64 + 1;
        let port = self.tftp.allocate_tid();
        let mut t = Transfer {
            peer_mac: rx.src_mac,
            peer_ip: rx.ip_src,
            peer_port: rx.src_port,
            file: key,
            data,
            blksize: blksize_usize,
            window,
            timeout,
            oack,
            acked: 0,
            sent_upto: 0,
            total,
            deadline: now,
            retries: 0,
            progressed: false,
            rrq: rx.payload.to_vec(),
        };
        let negotiated = if t.oack.is_some() {
            let list: Vec<String> =
                acked_opts.iter().map(|(n, v)| format!("{}={v}", String::from_utf8_lossy(n))).collect();
            format!("OACK {}", list.join(" "))
        } else {
            "no options: DATA at once".to_string()
        };
        self.note(
            now,
            k,
            "RFC1350 §4",
            format!(
                "RRQ {} ({}) from {}:{}: TID {port}, {} octets in {} blocks of {}, {negotiated}",
                text(filename),
                if netascii_mode { "netascii" } else { "octet" },
                rx.ip_src,
                rx.src_port,
                t.data.len(),
                total,
                t.blksize
            ),
        );
        let frames = self.tftp_send_next(now, port, &mut t);
        self.tftp.transfers.insert(port, t);
        self.sent(k, frames)
    }

    /// Send what the transfer is waiting to have acknowledged: the OACK, or the window
    /// after the last ACK. Sets the deadline.
    fn tftp_send_next(&self, now: Duration, port: u16, t: &mut Transfer) -> Vec<Vec<u8>> {
        t.deadline = now.saturating_add(t.timeout);
        if let Some(oack) = &t.oack {
            return self.tftp_frame(port, t, oack).into_iter().collect();
        }
        let to_one = self.faults.has(Fault::TftpRolloverToOne);
        let from = t.acked + 1;
        let to = t.acked.saturating_add(t.window).min(t.total);
        let mut out = Vec::new();
        for n in from..=to {
            let payload = Repr::Data { block: wire(n, to_one), data: t.block(n) }.to_vec();
            out.extend(self.tftp_frame(port, t, &payload));
        }
        t.sent_upto = t.sent_upto.max(to);
        out
    }

    fn tftp_frame(&self, port: u16, t: &Transfer, payload: &[u8]) -> Option<Vec<u8>> {
        let s = &self.site.server;
        deliver::udp_frame(s.mac.0, s.ip, port, t.peer_mac, t.peer_ip, t.peer_port, payload, &self.faults)
    }

    /// Answer a request with an ERROR from a new TID.
    fn tftp_error_new_tid(&mut self, rx: &Rx<'_>, code: ErrorCode, msg: &str, clause: &'static str) -> Vec<Vec<u8>> {
        let port = self.tftp.allocate_tid();
        self.tftp_error(rx, port, code, msg, clause)
    }

    /// Send ERROR `code` from our `port` to the sender of `rx`.
    fn tftp_error(&mut self, rx: &Rx<'_>, port: u16, code: ErrorCode, msg: &str, clause: &'static str) -> Vec<Vec<u8>> {
        let payload = Repr::Error { code, message: msg.as_bytes() }.to_vec();
        let s = &self.site.server;
        let frame = deliver::udp_frame(s.mac.0, s.ip, port, rx.src_mac, rx.ip_src, rx.src_port, &payload, &self.faults);
        self.note(
            rx.now,
            Kind::Tftp,
            clause,
            format!(
                "ERROR {} ({}) to {}:{} from TID {port}: {msg}",
                u16::from(code),
                code.name(),
                rx.ip_src,
                rx.src_port
            ),
        );
        self.sent(Kind::Tftp, frame.into_iter().collect())
    }

    /// A packet to one of our TIDs.
    pub(crate) fn tftp_packet(&mut self, rx: &Rx<'_>) -> Vec<Vec<u8>> {
        let now = rx.now;
        let k = Kind::Tftp;
        self.stats.request(k);
        let port = rx.dst_port;
        let Some(t) = self.tftp.transfers.remove(&port) else {
            return self.discard(now, k, DropReason::TftpIgnored, "RFC1350 §4", format!("no transfer at port {port}"));
        };
        let pkt = Packet::new_unchecked(rx.payload);
        let op = pkt.opcode();
        use bootcheck_wire::tftp::Opcode;
        if (rx.ip_src, rx.src_port) != (t.peer_ip, t.peer_port) {
            self.tftp.transfers.insert(port, t);
            if op == Opcode::Error {
                return self.discard(
                    now,
                    k,
                    DropReason::TftpIgnored,
                    "RFC1350 §7",
                    format!("ERROR from a stranger at TID {port}: not answered"),
                );
            }
            let msg = format!("{}:{} is not this transfer's peer", rx.ip_src, rx.src_port);
            return self.tftp_error(rx, port, ErrorCode::UnknownTransferId, &msg, "RFC1350 §4");
        }
        match op {
            Opcode::Ack if rx.payload.len() >= 4 => self.tftp_ack(rx, port, t, pkt.block()),
            Opcode::Error => self.discard(
                now,
                k,
                DropReason::NoReplyNeeded,
                "RFC1350 §7",
                format!(
                    "ERROR {} {} from the client: transfer of {} (TID {port}) terminated",
                    u16::from(pkt.error_code()),
                    text(pkt.error_message()),
                    t.file
                ),
            ),
            Opcode::Ack => {
                self.tftp.transfers.insert(port, t);
                self.discard(
                    now,
                    k,
                    DropReason::TftpIgnored,
                    "RFC1350 §5",
                    format!("truncated ACK at TID {port}: ignored"),
                )
            }
            other => {
                let msg = format!("{other} is not expected from the reader of a transfer");
                self.note(now, k, "RFC1350 §7", format!("transfer of {} (TID {port}) terminated", t.file));
                self.tftp_error(rx, port, ErrorCode::IllegalOperation, &msg, "RFC1350 §5")
            }
        }
    }

    fn tftp_ack(&mut self, rx: &Rx<'_>, port: u16, mut t: Transfer, block: u16) -> Vec<Vec<u8>> {
        let now = rx.now;
        let k = Kind::Tftp;
        if t.oack.is_some() {
            if block != 0 {
                self.tftp.transfers.insert(port, t);
                return self.discard(
                    now,
                    k,
                    DropReason::TftpIgnored,
                    "RFC2347",
                    format!("ACK {block} while the OACK awaits ACK 0: ignored"),
                );
            }
            t.oack = None;
            t.progressed = true;
            t.retries = 0;
            self.note(now, k, "RFC2347", format!("ACK 0: OACK of TID {port} confirmed"));
            let frames = self.tftp_send_next(now, port, &mut t);
            self.tftp.transfers.insert(port, t);
            return self.sent(k, frames);
        }
        let to_one = self.faults.has(Fault::TftpRolloverToOne);
        let n = (t.acked..=t.sent_upto).find(|n| wire(*n, to_one) == block);
        match n {
            None => {
                self.tftp.transfers.insert(port, t);
                self.discard(
                    now,
                    k,
                    DropReason::TftpIgnored,
                    "RFC1350 §6",
                    format!("ACK {block} at TID {port}: not a block in flight: ignored"),
                )
            }
            Some(n) if n == t.acked && t.window > 1 && t.sent_upto > t.acked && t.oack.is_none() => {
                // RFC 7440 §4: "the DRCV SHOULD notify the DSND by sending an ACK
                // corresponding to the last data block correctly received. The notified
                // DSND SHOULD send a new data block window whose beginning MUST be set
                // based on the ACK received out of sequence."
                t.retries = 0;
                self.note(
                    now,
                    k,
                    "RFC7440 §4",
                    format!(
                        "ACK {block} again with blocks {}-{} out: the window is sent again from block {}",
                        n + 1,
                        t.sent_upto,
                        n + 1
                    ),
                );
                let frames = self.tftp_send_next(now, port, &mut t);
                self.tftp.transfers.insert(port, t);
                self.sent(k, frames)
            }
            Some(n) if n == t.acked => {
                if self.faults.has(Fault::TftpSorcerersApprentice) {
                    self.note(
                        now,
                        k,
                        "fault",
                        format!("tftp-sorcerers-apprentice: duplicate ACK {block}: DATA sent again"),
                    );
                    let frames = self.tftp_send_next(now, port, &mut t);
                    self.tftp.transfers.insert(port, t);
                    return self.sent(k, frames);
                }
                self.tftp.transfers.insert(port, t);
                self.discard(
                    now,
                    k,
                    DropReason::TftpIgnored,
                    "RFC1123 §4.2.3.1",
                    format!("duplicate ACK {block} at TID {port}: no DATA sent again (Sorcerer's Apprentice)"),
                )
            }
            Some(n) => {
                t.acked = n;
                t.progressed = true;
                t.retries = 0;
                if n >= t.total {
                    self.note(
                        now,
                        k,
                        "RFC1350 §6",
                        format!(
                            "final ACK {block}: transfer of {} complete ({} octets, {} blocks, TID {port})",
                            t.file,
                            t.data.len(),
                            t.total
                        ),
                    );
                    return Vec::new();
                }
                if n < t.sent_upto {
                    self.note(
                        now,
                        k,
                        "RFC7440 §4",
                        format!("ACK {block} inside the window: next window starts at block {}", n + 1),
                    );
                }
                let frames = self.tftp_send_next(now, port, &mut t);
                self.tftp.transfers.insert(port, t);
                self.sent(k, frames)
            }
        }
    }

    pub(crate) fn tftp_timeout(&mut self, now: Duration) -> Vec<Vec<u8>> {
        let k = Kind::Tftp;
        let due: Vec<u16> = self.tftp.transfers.iter().filter(|(_, t)| t.deadline <= now).map(|(p, _)| *p).collect();
        let mut out = Vec::new();
        for port in due {
            let Some(mut t) = self.tftp.transfers.remove(&port) else {
                continue;
            };
            if self.faults.has(Fault::TftpNoRetransmit) {
                self.stats.drop(k, DropReason::TftpGaveUp);
                self.note(
                    now,
                    k,
                    "fault",
                    format!("tftp-no-retransmit: transfer of {} (TID {port}) abandoned without retransmission", t.file),
                );
                continue;
            }
            t.retries += 1;
            if t.retries > MAX_RETRIES {
                self.stats.drop(k, DropReason::TftpGaveUp);
                self.note(
                    now,
                    k,
                    "RFC1350 §2",
                    format!("no ACK after {MAX_RETRIES} retransmissions: transfer of {} (TID {port}) given up", t.file),
                );
                continue;
            }
            let what = if t.oack.is_some() { "OACK".to_string() } else { format!("window from block {}", t.acked + 1) };
            self.note(now, k, "RFC1350 §2", format!("timeout at TID {port}: {what} sent again (retry {})", t.retries));
            let frames = self.tftp_send_next(now, port, &mut t);
            out.extend(frames);
            self.tftp.transfers.insert(port, t);
        }
        self.sent(k, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netascii_conversion() {
        assert_eq!(netascii(b"a\nb\rc\r\nd"), b"a\r\nb\r\0c\r\0\r\nd");
        assert_eq!(netascii(b""), b"");
    }

    #[test]
    fn block_numbers_wrap() {
        assert_eq!(wire(1, false), 1);
        assert_eq!(wire(65535, false), 65535);
        assert_eq!(wire(65536, false), 0);
        assert_eq!(wire(65537, false), 1);
        assert_eq!(wire(65535, true), 65535);
        assert_eq!(wire(65536, true), 1);
        assert_eq!(wire(131070, true), 65535);
        assert_eq!(wire(131071, true), 1);
    }

    #[test]
    fn tids_are_distinct_and_skip_busy_ports() {
        let mut t = Tftp::default();
        let a = t.allocate_tid();
        let b = t.allocate_tid();
        assert_eq!((a, b), (49152, 49153));
        t.next_tid = 0;
        let dummy = Transfer {
            peer_mac: [0; 6],
            peer_ip: Ipv4Addr::UNSPECIFIED,
            peer_port: 1,
            file: String::new(),
            data: Arc::from(&b""[..]),
            blksize: 512,
            window: 1,
            timeout: DEFAULT_TIMEOUT,
            oack: None,
            acked: 0,
            sent_upto: 0,
            total: 1,
            deadline: Duration::ZERO,
            retries: 0,
            progressed: false,
            rrq: Vec::new(),
        };
        t.transfers.insert(49152, dummy);
        assert_eq!(t.allocate_tid(), 49153);
        t.next_tid = 16383;
        assert_eq!(t.allocate_tid(), 65535);
        assert_eq!(t.allocate_tid(), 49153);
    }
}
