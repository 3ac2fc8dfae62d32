//! Fault switches: deliberate, single-point departures from the RFCs, so that
//! bootcheck's own tests can prove every check it makes is able to fail.
//!
//! Each fault changes exactly one observable thing and is named on the command line in
//! kebab case (`wrong-xid`, `drop-every-nth=3`, …). [`Fault::ALL_NAMES`] lists the
//! spellings; [`Fault::examples`] gives one value of each.

use core::fmt;
use core::str::FromStr;

/// One deliberate bug of the reference server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// BOOTREPLY `xid` is the request's plus one (RFC 951 §7.5: the client matches xid).
    WrongXid,
    /// BOOTREPLY `chaddr` has its last hardware-address octet inverted (RFC 951 §7.5,
    /// RFC 2131 Table 3). Delivery still goes to the real client.
    WrongChaddr,
    /// BOOTREPLY `op` is 1 (BOOTREQUEST) instead of 2 (RFC 951 §3).
    WrongOp,
    /// BOOTREPLY `siaddr` is 0.0.0.0 instead of the server's address (RFC 951 §7.3).
    NoSiaddr,
    /// BOOTREPLY `file` is the generic name relative to the boot home instead of the
    /// fully qualified path (RFC 951 §7.3).
    RelativeBootfile,
    /// BOOTREPLY `sname` fills all 64 octets (name then spaces), with no NUL (RFC 951 §3).
    SnameNotTerminated,
    /// Requests whose `sname` names another server are answered (RFC 951 §7.3).
    AnswerForeignSname,
    /// The BROADCAST flag is ignored: replies that should be broadcast are unicast to
    /// yiaddr/chaddr (RFC 1542 §5.4, RFC 2131 §4.1).
    IgnoreBroadcastFlag,
    /// `giaddr` is ignored when delivering: relayed replies are delivered on the local
    /// link as if giaddr were 0 (RFC 1542 §5.4, RFC 2131 §4.1).
    IgnoreGiaddr,
    /// BOOTREPLY `ciaddr` is 0.0.0.0 instead of the request's (RFC 1542 §5.3).
    ClearCiaddr,
    /// BOOTREPLY is not padded: shorter than the 300-octet minimum (RFC 951 §3,
    /// RFC 1542 §2.1).
    ShortReply,
    /// The option area has no End option (RFC 2132 §3.2, RFC 2131 §4.1).
    NoEndOption,
    /// The vend area carries the options without the RFC 1048 magic cookie.
    NoCookie,
    /// Replies to pure BOOTP requests carry DHCP options 53, 54 and 51 (RFC 1534 §2).
    DhcpOptionsInBootpReply,
    /// DHCPOFFER and DHCPACK (to a DHCPREQUEST) lack the lease time option 51
    /// (RFC 2131 §4.3.1 Table 3; RFC 1534 §2 infinite lease for BOOTP bindings).
    InfiniteLeaseMissing,
    /// Every UDP frame the server sends has a wrong, non-zero UDP checksum (RFC 768,
    /// RFC 951 §7.3 "[UDP checksum.]").
    BadUdpChecksum,
    /// Every Nth BOOTREQUEST is silently dropped (N ≥ 1).
    DropEveryNth(u32),
    /// A BOOTREQUEST carrying option N crashes the server: it never sends again.
    CrashOnOption(u8),
    /// A BOOTREQUEST carrying option overload (52) hangs the server: it never sends
    /// again.
    HangOnOverload,
    /// TFTP: a duplicate ACK makes the server send the following DATA again (the
    /// Sorcerer's Apprentice bug, RFC 1123 §4.2.3.1).
    TftpSorcerersApprentice,
    /// TFTP: the OACK carries an option the client did not request (RFC 2347).
    TftpOackUnrequested,
    /// TFTP: no retransmission after a timeout; the transfer is abandoned silently
    /// (RFC 1350 §2).
    TftpNoRetransmit,
    /// TFTP: netascii transfers send the file's octets unconverted (RFC 1350 §5,
    /// RFC 764).
    TftpNetasciiRaw,
    /// TFTP: the block number rolls over from 65535 to 1 instead of 0.
    TftpRolloverToOne,
    /// BSDP: the reply port sub-option is ignored; replies go to port 68 (BSDP §6.4).
    BsdpIgnoreReplyPort,
    /// BSDP: an `INFORM[SELECT]` naming another server is answered (BSDP §6.1).
    BsdpAnswerForeignSelect,
    /// A relay agent's option 82 is not echoed in the reply (RFC 3046 §2.2: a server
    /// that supports the option, as this one does, echoes it in all replies).
    NoAgentOptionEcho,
}

/// A fault name that is not one of [`Fault::ALL_NAMES`], or a bad parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FaultParseError(String);

impl Fault {
    /// Every fault's command-line spelling; `N` stands for the parameter.
    pub const ALL_NAMES: &'static [&'static str] = &[
        "wrong-xid",
        "wrong-chaddr",
        "wrong-op",
        "no-siaddr",
        "relative-bootfile",
        "sname-not-terminated",
        "answer-foreign-sname",
        "ignore-broadcast-flag",
        "ignore-giaddr",
        "clear-ciaddr",
        "short-reply",
        "no-end-option",
        "no-cookie",
        "dhcp-options-in-bootp-reply",
        "infinite-lease-missing",
        "bad-udp-checksum",
        "drop-every-nth=N",
        "crash-on-option=N",
        "hang-on-overload",
        "tftp-sorcerers-apprentice",
        "tftp-oack-unrequested",
        "tftp-no-retransmit",
        "tftp-netascii-raw",
        "tftp-rollover-to-1",
        "bsdp-ignore-reply-port",
        "bsdp-answer-foreign-select",
        "no-agent-option-echo",
    ];

    /// One value of every fault, in [`Fault::ALL_NAMES`] order (parameters: every 2nd
    /// request; option 60, vendor class).
    pub fn examples() -> Vec<Fault> {
        vec![
            Fault::WrongXid,
            Fault::WrongChaddr,
            Fault::WrongOp,
            Fault::NoSiaddr,
            Fault::RelativeBootfile,
            Fault::SnameNotTerminated,
            Fault::AnswerForeignSname,
            Fault::IgnoreBroadcastFlag,
            Fault::IgnoreGiaddr,
            Fault::ClearCiaddr,
            Fault::ShortReply,
            Fault::NoEndOption,
            Fault::NoCookie,
            Fault::DhcpOptionsInBootpReply,
            Fault::InfiniteLeaseMissing,
            Fault::BadUdpChecksum,
            Fault::DropEveryNth(2),
            Fault::CrashOnOption(60),
            Fault::HangOnOverload,
            Fault::TftpSorcerersApprentice,
            Fault::TftpOackUnrequested,
            Fault::TftpNoRetransmit,
            Fault::TftpNetasciiRaw,
            Fault::TftpRolloverToOne,
            Fault::BsdpIgnoreReplyPort,
            Fault::BsdpAnswerForeignSelect,
            Fault::NoAgentOptionEcho,
        ]
    }

    /// The name without its parameter (`drop-every-nth` for `drop-every-nth=3`).
    pub fn name(&self) -> &'static str {
        match self {
            Fault::WrongXid => "wrong-xid",
            Fault::WrongChaddr => "wrong-chaddr",
            Fault::WrongOp => "wrong-op",
            Fault::NoSiaddr => "no-siaddr",
            Fault::RelativeBootfile => "relative-bootfile",
            Fault::SnameNotTerminated => "sname-not-terminated",
            Fault::AnswerForeignSname => "answer-foreign-sname",
            Fault::IgnoreBroadcastFlag => "ignore-broadcast-flag",
            Fault::IgnoreGiaddr => "ignore-giaddr",
            Fault::ClearCiaddr => "clear-ciaddr",
            Fault::ShortReply => "short-reply",
            Fault::NoEndOption => "no-end-option",
            Fault::NoCookie => "no-cookie",
            Fault::DhcpOptionsInBootpReply => "dhcp-options-in-bootp-reply",
            Fault::InfiniteLeaseMissing => "infinite-lease-missing",
            Fault::BadUdpChecksum => "bad-udp-checksum",
            Fault::DropEveryNth(_) => "drop-every-nth",
            Fault::CrashOnOption(_) => "crash-on-option",
            Fault::HangOnOverload => "hang-on-overload",
            Fault::TftpSorcerersApprentice => "tftp-sorcerers-apprentice",
            Fault::TftpOackUnrequested => "tftp-oack-unrequested",
            Fault::TftpNoRetransmit => "tftp-no-retransmit",
            Fault::TftpNetasciiRaw => "tftp-netascii-raw",
            Fault::TftpRolloverToOne => "tftp-rollover-to-1",
            Fault::BsdpIgnoreReplyPort => "bsdp-ignore-reply-port",
            Fault::BsdpAnswerForeignSelect => "bsdp-answer-foreign-select",
            Fault::NoAgentOptionEcho => "no-agent-option-echo",
        }
    }

    /// What the fault breaks, with the clause it violates.
    pub fn description(&self) -> &'static str {
        match self {
            Fault::WrongXid => "BOOTREPLY xid is the request's + 1 (RFC 951 §7.5)",
            Fault::WrongChaddr => "BOOTREPLY chaddr differs from the request's (RFC 951 §7.5, RFC 2131 Table 3)",
            Fault::WrongOp => "BOOTREPLY op is 1, not 2 (RFC 951 §3)",
            Fault::NoSiaddr => "BOOTREPLY siaddr is 0.0.0.0, not the server (RFC 951 §7.3)",
            Fault::RelativeBootfile => "BOOTREPLY file is not the fully qualified path (RFC 951 §7.3)",
            Fault::SnameNotTerminated => "BOOTREPLY sname has no NUL terminator (RFC 951 §3)",
            Fault::AnswerForeignSname => "requests naming another server in sname are answered (RFC 951 §7.3)",
            Fault::IgnoreBroadcastFlag => "BROADCAST flag ignored: unicast instead of broadcast (RFC 1542 §5.4)",
            Fault::IgnoreGiaddr => "giaddr ignored: relayed replies delivered locally (RFC 1542 §5.4)",
            Fault::ClearCiaddr => "BOOTREPLY ciaddr not preserved (RFC 1542 §5.3)",
            Fault::ShortReply => "BOOTREPLY shorter than 300 octets (RFC 951 §3, RFC 1542 §2.1)",
            Fault::NoEndOption => "option area not terminated by End (RFC 2132 §3.2)",
            Fault::NoCookie => "vend options without the RFC 1048 magic cookie (RFC 1497)",
            Fault::DhcpOptionsInBootpReply => "DHCP options 53/54/51 in a BOOTREPLY to a BOOTP client (RFC 1534 §2)",
            Fault::InfiniteLeaseMissing => "DHCPOFFER/DHCPACK without lease time 51 (RFC 2131 Table 3)",
            Fault::BadUdpChecksum => "wrong UDP checksum on every reply (RFC 768)",
            Fault::DropEveryNth(_) => "every Nth BOOTREQUEST silently dropped",
            Fault::CrashOnOption(_) => "a BOOTREQUEST carrying option N crashes the server",
            Fault::HangOnOverload => "a BOOTREQUEST carrying option overload (52) hangs the server",
            Fault::TftpSorcerersApprentice => "duplicate ACKs cause duplicate DATA (RFC 1123 §4.2.3.1)",
            Fault::TftpOackUnrequested => "OACK carries an unrequested option (RFC 2347)",
            Fault::TftpNoRetransmit => "no DATA/OACK retransmission on timeout (RFC 1350 §2)",
            Fault::TftpNetasciiRaw => "netascii sent without CR LF / CR NUL conversion (RFC 1350 §5)",
            Fault::TftpRolloverToOne => "block number rolls over from 65535 to 1, not 0",
            Fault::BsdpIgnoreReplyPort => "BSDP reply port ignored: replies go to port 68 (BSDP §6.4)",
            Fault::BsdpAnswerForeignSelect => "BSDP INFORM[SELECT] naming another server answered (BSDP §6.1)",
            Fault::NoAgentOptionEcho => "a relay agent's option 82 not echoed in the reply (RFC 3046 §2.2)",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::DropEveryNth(n) => write!(f, "drop-every-nth={n}"),
            Fault::CrashOnOption(n) => write!(f, "crash-on-option={n}"),
            other => f.write_str(other.name()),
        }
    }
}

impl FromStr for Fault {
    type Err = FaultParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, param) = match s.split_once('=') {
            Some((n, p)) => (n, Some(p)),
            None => (s, None),
        };
        let need = |what: &str| FaultParseError(format!("fault `{name}` needs a parameter: `{name}={what}`"));
        let fault = match name {
            "drop-every-nth" => {
                let p = param.ok_or_else(|| need("N"))?;
                let n: u32 =
                    p.parse().map_err(|_| FaultParseError(format!("drop-every-nth: `{p}` is not a whole number")))?;
                if n == 0 {
                    return Err(FaultParseError("drop-every-nth: N must be at least 1".into()));
                }
                return Ok(Fault::DropEveryNth(n));
            }
            "crash-on-option" => {
                let p = param.ok_or_else(|| need("CODE"))?;
                let n: u8 = p
                    .parse()
                    .map_err(|_| FaultParseError(format!("crash-on-option: `{p}` is not an option code 0-255")))?;
                return Ok(Fault::CrashOnOption(n));
            }
            other => Fault::examples()
                .into_iter()
                .find(|f| f.name() == other && !matches!(f, Fault::DropEveryNth(_) | Fault::CrashOnOption(_)))
                .ok_or_else(|| {
                    FaultParseError(format!("unknown fault `{other}`; known faults: {}", Fault::ALL_NAMES.join(", ")))
                })?,
        };
        if param.is_some() {
            return Err(FaultParseError(format!("fault `{name}` takes no parameter")));
        }
        Ok(fault)
    }
}

/// The faults a server runs with, with quick queries.
#[derive(Debug, Clone, Default)]
pub(crate) struct Faults(Vec<Fault>);

impl Faults {
    pub(crate) fn new(v: Vec<Fault>) -> Self {
        Faults(v)
    }
    pub(crate) fn has(&self, f: Fault) -> bool {
        self.0.contains(&f)
    }
    pub(crate) fn drop_every_nth(&self) -> Option<u32> {
        self.0.iter().find_map(|f| match f {
            Fault::DropEveryNth(n) => Some(*n),
            _ => None,
        })
    }
    pub(crate) fn crash_on(&self, code: u8) -> bool {
        self.0.contains(&Fault::CrashOnOption(code))
    }
    pub(crate) fn list(&self) -> &[Fault] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let ex = Fault::examples();
        assert_eq!(ex.len(), Fault::ALL_NAMES.len());
        for (f, spelled) in ex.iter().zip(Fault::ALL_NAMES) {
            let shown = f.to_string();
            assert_eq!(spelled.split('=').next(), Some(f.name()));
            assert_eq!(spelled.contains('='), shown.contains('='));
            assert_eq!(shown.parse::<Fault>(), Ok(*f));
            assert!(!f.description().is_empty());
        }
    }

    #[test]
    fn bad_spellings() {
        for bad in [
            "",
            "wrong",
            "drop-every-nth",
            "drop-every-nth=0",
            "drop-every-nth=x",
            "crash-on-option=256",
            "wrong-xid=1",
        ] {
            assert!(bad.parse::<Fault>().is_err(), "{bad}");
        }
        assert_eq!("crash-on-option=0".parse::<Fault>(), Ok(Fault::CrashOnOption(0)));
    }
}
