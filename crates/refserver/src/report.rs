//! What the server tells its caller: counters ([`Stats`]) and a log of every decision
//! with the clause that made it ([`LogEntry`]).

use core::fmt;
use core::time::Duration;
use std::collections::BTreeMap;

/// The kind of traffic a frame was classified as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A BOOTREQUEST without option 53 (RFC 951), or anything else sent to port 67.
    Bootp,
    /// A BOOTREQUEST with option 53 (RFC 1534 §2: a DHCP client).
    Dhcp,
    /// ARP (RFC 826).
    Arp,
    /// RARP (RFC 903).
    Rarp,
    /// TFTP (RFC 1350): requests to port 69 and packets of transfers.
    Tftp,
    /// Frames that are none of the above or not for this server.
    Other,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Bootp => "bootp",
            Kind::Dhcp => "dhcp",
            Kind::Arp => "arp",
            Kind::Rarp => "rarp",
            Kind::Tftp => "tftp",
            Kind::Other => "other",
        })
    }
}

/// Why a frame got no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DropReason {
    /// The server has crashed or hangs (a fault): it answers nothing.
    NotAlive,
    /// The frame is not Ethernet II, or cut short before its network layer.
    BadFrame,
    /// The Ethernet destination is neither the server's MAC nor broadcast.
    NotOurMac,
    /// The Ethernet source is a group (multicast/broadcast) address.
    GroupSource,
    /// The Ethernet source is the server's own MAC (a looped-back transmission).
    OwnFrame,
    /// 802.1Q/802.1ad tagged: the server's interface is untagged.
    VlanTagged,
    /// An EtherType the server does not speak.
    UnsupportedEthertype,
    /// IPv4/UDP headers that lie about lengths or fail their checksum.
    BadIpUdp,
    /// An IPv4 fragment (BOOTP is never fragmented, RFC 951 §3).
    Fragment,
    /// IPv4 but not UDP.
    NotUdp,
    /// The IPv4 destination is not the server, nor a broadcast it listens to.
    NotOurAddress,
    /// No service on this UDP port (including 68, RFC 1542 §5.1).
    NotOurPort,
    /// A BOOTP message shorter than 300 octets (RFC 1542 §2.1).
    BootpTooShort,
    /// `op` is not BOOTREQUEST.
    NotBootrequest,
    /// `sname` names another server (RFC 951 §7.3).
    ForeignSname,
    /// The client is not in the host table (RFC 951 §7.3).
    UnknownClient,
    /// The boot file asked for does not exist (RFC 951 §7.3).
    NoSuchBootFile,
    /// The reply cannot be built (e.g. the full path does not fit in `file`).
    CannotReply,
    /// The dynamic pool is exhausted (RFC 1534 automatic allocation).
    PoolExhausted,
    /// A malformed or unsupported DHCP message.
    BadDhcp,
    /// A DHCPREQUEST for another server's offer (RFC 2131 §4.3.2).
    OtherServer,
    /// A DHCP message that takes no reply (DHCPDECLINE, DHCPRELEASE).
    NoReplyNeeded,
    /// Dropped by the `drop-every-nth` fault.
    FaultDrop,
    /// A BSDP request Apple bootpd drops silently (BSDP §6.5): malformed option 43,
    /// unknown version or message type, ciaddr 0, reply port ≥ 1024, no server id.
    BadBsdp,
    /// A BSDP `INFORM[SELECT]` naming another server (BSDP §6.1).
    BsdpOtherServer,
    /// A BSDP `INFORM[LIST]` for which no image applies (BSDP §6.5).
    BsdpNoImage,
    /// An ARP/RARP packet that is malformed, not Ethernet/IPv4, or not for us.
    ArpIgnored,
    /// A RARP request for an unknown hardware address (RFC 903 §III).
    RarpUnknown,
    /// A TFTP packet that needs no answer (stray, duplicate ACK, ERROR).
    TftpIgnored,
    /// A TFTP transfer given up after too many retransmissions.
    TftpGaveUp,
}

impl DropReason {
    /// A stable kebab-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            DropReason::NotAlive => "not-alive",
            DropReason::BadFrame => "bad-frame",
            DropReason::NotOurMac => "not-our-mac",
            DropReason::GroupSource => "group-source",
            DropReason::OwnFrame => "own-frame",
            DropReason::VlanTagged => "vlan-tagged",
            DropReason::UnsupportedEthertype => "unsupported-ethertype",
            DropReason::BadIpUdp => "bad-ip-udp",
            DropReason::Fragment => "fragment",
            DropReason::NotUdp => "not-udp",
            DropReason::NotOurAddress => "not-our-address",
            DropReason::NotOurPort => "not-our-port",
            DropReason::BootpTooShort => "bootp-too-short",
            DropReason::NotBootrequest => "not-bootrequest",
            DropReason::ForeignSname => "foreign-sname",
            DropReason::UnknownClient => "unknown-client",
            DropReason::NoSuchBootFile => "no-such-boot-file",
            DropReason::CannotReply => "cannot-reply",
            DropReason::PoolExhausted => "pool-exhausted",
            DropReason::BadDhcp => "bad-dhcp",
            DropReason::OtherServer => "other-server",
            DropReason::NoReplyNeeded => "no-reply-needed",
            DropReason::FaultDrop => "fault-drop",
            DropReason::BadBsdp => "bad-bsdp",
            DropReason::BsdpOtherServer => "bsdp-other-server",
            DropReason::BsdpNoImage => "bsdp-no-image",
            DropReason::ArpIgnored => "arp-ignored",
            DropReason::RarpUnknown => "rarp-unknown",
            DropReason::TftpIgnored => "tftp-ignored",
            DropReason::TftpGaveUp => "tftp-gave-up",
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counters of one [`Kind`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindStats {
    /// Frames of this kind received (for TFTP: every packet, requests and ACKs).
    pub requests: u64,
    /// Frames of this kind sent.
    pub replies: u64,
    /// Frames of this kind that got no answer.
    pub dropped: u64,
}

/// Counters since the server started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Every frame handed to [`crate::Server::handle_frame`].
    pub frames_in: u64,
    /// Every frame returned by `handle_frame` and `handle_timeout`.
    pub frames_out: u64,
    /// Per kind.
    pub kinds: BTreeMap<Kind, KindStats>,
    /// Frames without an answer, by reason.
    pub drops: BTreeMap<DropReason, u64>,
    /// Log entries discarded because the log was not drained (it keeps the latest
    /// [`crate::LOG_CAPACITY`]).
    pub log_overflow: u64,
}

impl Stats {
    /// The counters of `kind` (zeros if none was seen).
    pub fn kind(&self, kind: Kind) -> KindStats {
        self.kinds.get(&kind).copied().unwrap_or_default()
    }
    /// How many frames were dropped for `reason`.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.drops.get(&reason).copied().unwrap_or(0)
    }
    /// Frames dropped, all reasons.
    pub fn dropped_total(&self) -> u64 {
        self.drops.values().sum()
    }

    pub(crate) fn request(&mut self, kind: Kind) {
        self.kinds.entry(kind).or_default().requests += 1;
    }
    pub(crate) fn replied(&mut self, kind: Kind, n: usize) {
        let n = n as u64;
        self.kinds.entry(kind).or_default().replies += n;
        self.frames_out += n;
    }
    pub(crate) fn drop(&mut self, kind: Kind, reason: DropReason) {
        self.kinds.entry(kind).or_default().dropped += 1;
        *self.drops.entry(reason).or_default() += 1;
    }
}

/// One decision of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// When (the `now` of the call that made it).
    pub at: Duration,
    /// What traffic it is about.
    pub kind: Kind,
    /// The clause behind the decision, e.g. `RFC951 §7.3`.
    pub clause: &'static str,
    /// What was decided and why.
    pub message: String,
}

impl fmt::Display for LogEntry {
    /// `RFC951 §7.3: sname "x" is not ours: silently dropped`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.clause, self.message)
    }
}
