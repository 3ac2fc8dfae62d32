//! # bootcheck-refserver
//!
//! bootcheck's built-in reference server: the default target of `bootcheck run`. It
//! serves the [`Site`] the scenarios are written against, following the RFCs to the
//! letter, and can be made to break them one way at a time ([`Fault`]) so that every
//! check bootcheck makes can be shown to fail.
//!
//! It speaks, on one Ethernet interface:
//! * BOOTP (RFC 951, clarified by RFC 1542) from the site's static host table, with
//!   RFC 1497 vendor options when the client shows the RFC 1048 magic cookie;
//! * DHCP for known clients (RFC 1534 §2, RFC 2131 §4.3): DISCOVER→OFFER,
//!   REQUEST→ACK/NAK, INFORM→ACK, the fixed address on an infinite lease;
//! * a relay agent's information option (82) echoed whole and last in every reply to
//!   a request that carries one (RFC 3046 §2.2);
//! * Apple BSDP (NetBoot) for DHCPINFORMs with a BSDP vendor class, from the site's
//!   NetBoot images: `INFORM[LIST]` → `ACK[LIST]`, `INFORM[SELECT]` → `ACK[SELECT]` or
//!   `ACK[FAILED]`, the reply port honoured, Apple bootpd's silent drops;
//! * ARP for its own address (RFC 826) and RARP for known clients (RFC 903);
//! * TFTP (RFC 1350, 2347, 2348, 2349, 7440), read-only, serving the site's files.
//!
//! The server is sans-IO: no sockets, clocks or threads. The caller hands it every
//! Ethernet frame received on the interface with the time since start
//! ([`Server::handle_frame`]), transmits the frames it returns, and drives TFTP
//! retransmission with [`Server::poll_timeout`] / [`Server::handle_timeout`]. Every
//! decision is logged with the clause behind it ([`Server::log`]).
//!
//! ```no_run
//! # use std::time::Duration;
//! # fn demo(site: bootcheck_scenario::Site, frame: &[u8]) {
//! use bootcheck_refserver::{Fault, Server};
//! let mut server = Server::new(site, vec!["wrong-xid".parse::<Fault>().unwrap()]);
//! for reply in server.handle_frame(Duration::ZERO, frame) {
//!     // transmit `reply` on the interface
//! #   let _ = reply;
//! }
//! for entry in server.log() {
//!     println!("{entry}");
//! }
//! # }
//! ```
#![forbid(unsafe_code)]

mod arp;
mod bootp;
mod bsdp;
mod deliver;
mod dhcp;
mod faults;
mod paths;
mod report;
pub mod synth;
mod tftp;

use core::net::Ipv4Addr;
use core::time::Duration;
use std::collections::{BTreeMap, VecDeque};

use bootcheck_scenario::Site;
use bootcheck_wire::frame::{self, Frame, LinkType, Transport};

pub use faults::{Fault, FaultParseError};
pub use report::{DropReason, Kind, KindStats, LogEntry, Stats};
pub use tftp::{DEFAULT_TIMEOUT, MAX_BLKSIZE, MAX_RETRIES, MAX_TRANSFERS, MAX_WINDOWSIZE, TID_RANGE};

/// How many log entries are kept until [`Server::log`] drains them (the oldest go
/// first; [`Stats::log_overflow`] counts them).
pub const LOG_CAPACITY: usize = 4096;

/// Administrative switches (not faults: every setting is conformant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Config {
    /// RFC 1534 §2: give BOOTP clients that are not in the host table an address from
    /// `site.pool` (an "automatic" address, bound forever: infinite lease). The RFC
    /// requires this to be a switch that defaults to off; so it does.
    pub dynamic_bootp: bool,
}

/// Whether the server still answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Running normally.
    Alive,
    /// Crashed (the `crash-on-option` fault): it will never send again.
    Crashed {
        /// What crashed it.
        reason: String,
    },
    /// Hung (the `hang-on-overload` fault) since this time: it will never send again.
    Hung {
        /// The `now` of the frame that hung it.
        since: Duration,
    },
}

/// The reference server. See the crate documentation.
#[derive(Debug)]
pub struct Server {
    site: Site,
    config: Config,
    faults: faults::Faults,
    health: Health,
    stats: Stats,
    log: VecDeque<LogEntry>,
    /// BOOTREQUESTs seen, for `drop-every-nth`.
    bootrequests: u64,
    /// RFC 1534 automatic bindings: Ethernet address → address, forever.
    dynamic: BTreeMap<[u8; 6], Ipv4Addr>,
    /// BSDP bindings (BSDP §6.1 step 6): Ethernet address → selected boot image ID.
    bsdp_bindings: BTreeMap<[u8; 6], u32>,
    tftp: tftp::Tftp,
}

/// One received UDP datagram, with what the server needs to know of its frame.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rx<'a> {
    pub now: Duration,
    /// The Ethernet source: the neighbour the datagram came through.
    pub src_mac: [u8; 6],
    pub ip_src: Ipv4Addr,
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: &'a [u8],
}

impl Server {
    /// A server for `site`, with the given faults and the default [`Config`].
    pub fn new(site: Site, faults: Vec<Fault>) -> Self {
        Self::with_config(site, faults, Config::default())
    }

    /// A server with explicit administrative switches.
    pub fn with_config(site: Site, faults: Vec<Fault>, config: Config) -> Self {
        Server {
            site,
            config,
            faults: faults::Faults::new(faults),
            health: Health::Alive,
            stats: Stats::default(),
            log: VecDeque::new(),
            bootrequests: 0,
            dynamic: BTreeMap::new(),
            bsdp_bindings: BTreeMap::new(),
            tftp: tftp::Tftp::default(),
        }
    }

    /// The site served.
    pub fn site(&self) -> &Site {
        &self.site
    }

    /// The administrative switches.
    pub fn config(&self) -> Config {
        self.config
    }

    /// The faults the server runs with.
    pub fn faults(&self) -> &[Fault] {
        self.faults.list()
    }

    /// Whether the server still answers.
    pub fn health(&self) -> Health {
        self.health.clone()
    }

    /// Counters since start.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Take the decisions logged since the last call, oldest first.
    pub fn log(&mut self) -> Vec<LogEntry> {
        self.log.drain(..).collect()
    }

    /// The RFC 1534 automatic bindings made so far (Ethernet address → address).
    pub fn dynamic_bindings(&self) -> &BTreeMap<[u8; 6], Ipv4Addr> {
        &self.dynamic
    }

    /// The BSDP image bindings made so far (Ethernet address → boot image ID).
    pub fn bsdp_bindings(&self) -> &BTreeMap<[u8; 6], u32> {
        &self.bsdp_bindings
    }

    /// Feed one Ethernet II frame received on the server's interface at `now` (time
    /// since start). Returns the frames to transmit, fully built (Ethernet II + IPv4 +
    /// UDP with correct checksums, or Ethernet II + ARP/RARP). Never panics.
    pub fn handle_frame(&mut self, now: Duration, frame: &[u8]) -> Vec<Vec<u8>> {
        self.stats.frames_in += 1;
        if self.health != Health::Alive {
            let what = match &self.health {
                Health::Crashed { reason } => format!("crashed ({reason})"),
                Health::Hung { since } => format!("hung since {since:?}"),
                Health::Alive => String::new(),
            };
            return self.discard(
                now,
                Kind::Other,
                DropReason::NotAlive,
                "fault",
                format!("server {what}: frame ignored"),
            );
        }
        self.dispatch(now, frame)
    }

    /// When [`Server::handle_timeout`] next has work (a TFTP retransmission), as a time
    /// since start; `None` when nothing is pending.
    pub fn poll_timeout(&self) -> Option<Duration> {
        if self.health != Health::Alive {
            return None;
        }
        self.tftp.poll_timeout()
    }

    /// Do the time-driven work due at `now`: retransmit unacknowledged TFTP DATA/OACK,
    /// give up transfers that exhausted [`MAX_RETRIES`]. Returns the frames to send.
    pub fn handle_timeout(&mut self, now: Duration) -> Vec<Vec<u8>> {
        if self.health != Health::Alive {
            return Vec::new();
        }
        self.tftp_timeout(now)
    }

    fn dispatch(&mut self, now: Duration, bytes: &[u8]) -> Vec<Vec<u8>> {
        let parsed = match Frame::parse(LinkType::Ethernet, bytes) {
            Ok(f) => f,
            Err(e) => {
                return self.discard(
                    now,
                    Kind::Other,
                    DropReason::BadFrame,
                    "IEEE 802.3",
                    format!("not an Ethernet II frame ({e}): dropped"),
                );
            }
        };
        let (Some(dst), Some(src)) = (parsed.dst_mac(), parsed.src_mac()) else {
            return self.discard(
                now,
                Kind::Other,
                DropReason::BadFrame,
                "IEEE 802.3",
                "no Ethernet addresses: dropped",
            );
        };
        if dst != self.site.server.mac.0 && dst != frame::BROADCAST_MAC {
            return self.discard(
                now,
                Kind::Other,
                DropReason::NotOurMac,
                "IEEE 802.3",
                format!("Ethernet destination {} is neither ours nor broadcast: dropped", mac_str(&dst)),
            );
        }
        if src[0] & 1 != 0 {
            return self.discard(
                now,
                Kind::Other,
                DropReason::GroupSource,
                "IEEE 802.3",
                format!("Ethernet source {} is a group address: dropped", mac_str(&src)),
            );
        }
        if src == self.site.server.mac.0 {
            return self.discard(
                now,
                Kind::Other,
                DropReason::OwnFrame,
                "IEEE 802.3",
                "a frame from our own MAC (looped back): ignored",
            );
        }
        if parsed.vlans[0].is_some() {
            return self.discard(
                now,
                Kind::Other,
                DropReason::VlanTagged,
                "IEEE 802.1Q",
                "VLAN-tagged frame on an untagged interface: dropped",
            );
        }
        match parsed.ethertype {
            frame::ETHERTYPE_ARP => self.handle_arp(now, &parsed),
            frame::ETHERTYPE_RARP => self.handle_rarp(now, &parsed),
            frame::ETHERTYPE_IPV4 => self.handle_ipv4(now, src, &parsed),
            et => self.discard(
                now,
                Kind::Other,
                DropReason::UnsupportedEthertype,
                "IEEE 802.3",
                format!("EtherType {et:#06x} is not IPv4, ARP or RARP: dropped"),
            ),
        }
    }

    fn handle_ipv4(&mut self, now: Duration, src_mac: [u8; 6], parsed: &Frame<'_>) -> Vec<Vec<u8>> {
        let Some(ip) = parsed.ipv4() else {
            let why = parsed.findings.first().map_or_else(|| "malformed".to_string(), ToString::to_string);
            return self.discard(
                now,
                Kind::Other,
                DropReason::BadIpUdp,
                "RFC791",
                format!("bad IPv4 header ({why}): dropped"),
            );
        };
        if ip.is_fragment() {
            return self.discard(
                now,
                Kind::Other,
                DropReason::Fragment,
                "RFC951 §3",
                "an IPv4 fragment (BOOTP and TFTP datagrams are never fragmented): dropped",
            );
        }
        if let Some(f) = parsed.findings.first() {
            return self.discard(
                now,
                Kind::Other,
                DropReason::BadIpUdp,
                "RFC1542 §2.1",
                format!("IPv4/UDP header check failed ({f}): silently discarded"),
            );
        }
        let Transport::Udp(udp) = ip.transport else {
            return self.discard(
                now,
                Kind::Other,
                DropReason::NotUdp,
                "RFC791",
                format!("IP protocol {} is not UDP: dropped", ip.protocol),
            );
        };
        let rx =
            Rx { now, src_mac, ip_src: ip.src, src_port: udp.src_port, dst_port: udp.dst_port, payload: udp.payload };
        let server = self.site.server.ip;
        let listening = ip.dst == server || ip.dst == Ipv4Addr::BROADCAST || ip.dst == self.site.broadcast();
        match udp.dst_port {
            bootcheck_wire::bootp::SERVER_PORT => {
                if !listening {
                    return self.discard(
                        now,
                        Kind::Bootp,
                        DropReason::NotOurAddress,
                        "RFC951 §7.1",
                        format!("BOOTREQUEST to {}, not to us or a broadcast: ignored", ip.dst),
                    );
                }
                self.handle_bootp(&rx)
            }
            bootcheck_wire::bootp::CLIENT_PORT => self.discard(
                now,
                Kind::Bootp,
                DropReason::NotOurPort,
                "RFC1542 §5.1",
                "UDP to port 68 (BOOTPC): a BOOTP server MUST silently discard it",
            ),
            bootcheck_wire::tftp::SERVER_PORT => {
                if !listening {
                    return self.discard(
                        now,
                        Kind::Tftp,
                        DropReason::NotOurAddress,
                        "RFC1350 §4",
                        format!("TFTP request to {}, not to us: ignored", ip.dst),
                    );
                }
                self.tftp_request(&rx)
            }
            port if ip.dst == server && self.tftp.has_port(port) => self.tftp_packet(&rx),
            port => self.discard(
                now,
                Kind::Other,
                DropReason::NotOurPort,
                "RFC768",
                format!("UDP to {}:{port}: no service or transfer there: dropped", ip.dst),
            ),
        }
    }

    // --- bookkeeping shared by the modules -----------------------------------------

    /// Log a decision.
    pub(crate) fn note(&mut self, at: Duration, kind: Kind, clause: &'static str, message: impl Into<String>) {
        if self.log.len() >= LOG_CAPACITY {
            self.log.pop_front();
            self.stats.log_overflow += 1;
        }
        self.log.push_back(LogEntry { at, kind, clause, message: message.into() });
    }

    /// Count and log a frame that gets no answer; returns no frames.
    pub(crate) fn discard(
        &mut self,
        at: Duration,
        kind: Kind,
        reason: DropReason,
        clause: &'static str,
        message: impl Into<String>,
    ) -> Vec<Vec<u8>> {
        self.stats.drop(kind, reason);
        self.note(at, kind, clause, message);
        Vec::new()
    }

    /// Count frames being sent.
    pub(crate) fn sent(&mut self, kind: Kind, frames: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        self.stats.replied(kind, frames.len());
        frames
    }
}

/// `02:00:00:00:be:01`.
pub(crate) fn mac_str(m: &[u8]) -> String {
    m.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// Printable text of raw octets, for log lines.
pub(crate) fn text(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() + 2);
    s.push('"');
    for &c in b {
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(char::from(c)),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

/// The server is the engine's virtual-time responder: `run_virtual(exec, &mut server)`
/// plays a scenario against it in-process.
impl bootcheck_scenario::engine::Responder for Server {
    fn on_frame(&mut self, now: Duration, frame: &[u8]) -> Vec<Vec<u8>> {
        self.handle_frame(now, frame)
    }
    fn next_timeout(&self) -> Option<Duration> {
        self.poll_timeout()
    }
    fn on_timeout(&mut self, now: Duration) -> Vec<Vec<u8>> {
        self.handle_timeout(now)
    }
}
