//! Parsed views of observed frames, built once per frame and shared by every rule.

use std::net::Ipv4Addr;
use std::time::Duration;

use bootcheck_wire::bootp::{self, Packet as Bootp};
use bootcheck_wire::frame::{Frame, LinkType};

/// One observed BOOTP frame.
#[derive(Debug, Clone)]
pub struct Msg<'a> {
    /// Packet number (1-based) in the capture or pcapng it came from.
    pub packet: usize,
    /// Time since the start of the capture/scenario.
    pub at: Duration,
    pub frame: Frame<'a>,
    /// The UDP payload (the BOOTP message, however short).
    pub payload: &'a [u8],
    /// Offset of the payload's first octet (`op`) in the frame.
    pub bootp_at: usize,
    /// The BOOTP view, when the payload holds the whole 236-octet fixed header.
    pub bootp: Option<Bootp<&'a [u8]>>,
    /// The option walk's findings, computed on first use (several rules read them).
    findings: std::cell::OnceCell<Vec<bootcheck_wire::Finding>>,
}

impl<'a> Msg<'a> {
    /// Parse a frame. `None` when it is not a UDP datagram to or from port 67/68.
    pub fn parse(packet: usize, at: Duration, link: LinkType, bytes: &'a [u8]) -> Option<Msg<'a>> {
        Self::from_frame(packet, at, Frame::parse(link, bytes).ok()?)
    }

    /// [`Msg::parse`] of a frame already parsed.
    pub fn from_frame(packet: usize, at: Duration, frame: Frame<'a>) -> Option<Msg<'a>> {
        let udp = frame.udp()?;
        let ports = [bootp::SERVER_PORT, bootp::CLIENT_PORT];
        if !ports.contains(&udp.src_port) && !ports.contains(&udp.dst_port) {
            return None;
        }
        let payload = udp.payload;
        let bootp_at = udp.payload_offset;
        let view = Bootp::new_checked(payload).ok();
        Some(Msg { packet, at, frame, payload, bootp_at, bootp: view, findings: std::cell::OnceCell::new() })
    }

    /// The findings of the option walk (offsets from the BOOTP message start); empty
    /// without a whole fixed header.
    pub fn findings(&self) -> &[bootcheck_wire::Finding] {
        self.findings.get_or_init(|| self.bootp.as_ref().map(|b| b.findings()).unwrap_or_default())
    }

    /// Frame offset of a BOOTP field offset.
    pub fn at_field(&self, field_offset: usize) -> Option<usize> {
        Some(self.bootp_at + field_offset)
    }

    pub fn is_request(&self) -> bool {
        self.payload.first() == Some(&bootp::Op::BOOTREQUEST)
    }
    pub fn is_reply(&self) -> bool {
        self.payload.first() == Some(&bootp::Op::BOOTREPLY)
    }
    pub fn src_ip(&self) -> Option<Ipv4Addr> {
        self.frame.ipv4().map(|i| i.src)
    }
    pub fn dst_ip(&self) -> Option<Ipv4Addr> {
        self.frame.ipv4().map(|i| i.dst)
    }
    pub fn ports(&self) -> Option<(u16, u16)> {
        self.frame.udp().map(|u| (u.src_port, u.dst_port))
    }
    /// Whether the request is pure BOOTP (no DHCP message type option 53).
    pub fn is_pure_bootp(&self) -> bool {
        self.bootp.as_ref().is_some_and(|b| b.message_type().is_none())
    }
}

/// What the observer knows beyond the frames.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// UDP checksums of replies mean something (the lab turns veth TX checksum
    /// offload off; a capture taken on the sending host does not guarantee it).
    pub checksums_meaningful: bool,
}

/// One request and one reply to it.
#[derive(Debug, Clone, Copy)]
pub struct Pair<'a> {
    pub request: &'a Msg<'a>,
    pub reply: &'a Msg<'a>,
    pub ctx: &'a Context,
}

impl<'a> Pair<'a> {
    /// Both BOOTP views (request, reply), when both hold a whole fixed header.
    pub fn bootp(&self) -> Option<(&'a Bootp<&'a [u8]>, &'a Bootp<&'a [u8]>)> {
        Some((self.request.bootp.as_ref()?, self.reply.bootp.as_ref()?))
    }
}

/// What is known about the relay agent under observation.
#[derive(Debug, Clone)]
pub struct RelayContext {
    /// The relay's address on the client's subnet (what it must put into giaddr).
    pub client_side_ip: Ipv4Addr,
    /// The relay's configured hops limit (RFC 1542 §4.1.1: default 4, at most 16).
    pub max_hops: u8,
    /// The relay's `secs` threshold, if it has one (RFC 1542 §4.1.1 MAY): requests
    /// below it need not be relayed.
    pub min_secs: u16,
}

/// One exchange seen on both sides of a relay agent. Absent messages make the rules
/// that need them not applicable (except the rules about forwarding or not).
#[derive(Debug, Clone, Copy)]
pub struct RelayView<'a> {
    /// The client's request on the client-side link.
    pub request: &'a Msg<'a>,
    /// The relay's forwarded request on the server-side link, if it forwarded one.
    pub forwarded: Option<&'a Msg<'a>>,
    /// The server's reply to the relay on the server-side link.
    pub reply: Option<&'a Msg<'a>>,
    /// The relay's delivery of that reply on the client-side link.
    pub delivered: Option<&'a Msg<'a>>,
    pub ctx: &'a RelayContext,
}

/// One frame of a whole exchange trace (what the harness sent and saw), for rules
/// about what must never appear on the wire (fragments, ICMP errors).
#[derive(Debug, Clone)]
pub struct TraceFrame<'a> {
    /// Packet number (1-based).
    pub packet: usize,
    pub at: Duration,
    /// Sent by the harness (a request), or seen from the target.
    pub sent: bool,
    pub frame: Frame<'a>,
    pub bytes: &'a [u8],
}

/// Every frame of one scenario or capture. Build it with [`TraceView::new`]: the
/// TFTP transfers in it are found once and shared by every TFTP rule.
#[derive(Debug, Clone)]
pub struct TraceView<'a> {
    pub frames: &'a [TraceFrame<'a>],
    /// UDP checksums mean something here (see [`Context::checksums_meaningful`]).
    pub checksums_meaningful: bool,
    transfers: std::cell::OnceCell<Vec<crate::rfc1350::Transfer<'a>>>,
}

impl<'a> TraceView<'a> {
    pub fn new(frames: &'a [TraceFrame<'a>], checksums_meaningful: bool) -> Self {
        TraceView { frames, checksums_meaningful, transfers: std::cell::OnceCell::new() }
    }

    /// The TFTP reads in the trace (computed on first use).
    pub(crate) fn transfers(&self) -> &[crate::rfc1350::Transfer<'a>] {
        self.transfers.get_or_init(|| crate::rfc1350::transfers(self))
    }
}
