//! DHCP clients (RFC 1534 §2: a BOOTREQUEST with option 53), answered minimally but
//! correctly from the static host table (RFC 2131 §4.3):
//!
//! * The client is identified by its client identifier (61) if it sent one, else by
//!   `chaddr` (RFC 2131 §4.2). The host table is keyed by Ethernet address, so only a
//!   type-1 (Ethernet) identifier can match. No record: silence (RFC 2131 §4.2 and
//!   §4.3.2 "If the DHCP server has no record of this client, then it MUST remain
//!   silent"). Automatic addresses are for BOOTP clients only (RFC 1534 §2).
//! * DHCPDISCOVER → DHCPOFFER of the fixed address (§4.3.1: "the client's current
//!   address as recorded in the client's current binding").
//! * DHCPREQUEST → with a server identifier not ours: silence (the client chose another
//!   server, §4.3.2); else the address it asks for (option 50, or ciaddr when renewing
//!   or rebinding) is compared with the fixed address: equal → DHCPACK, different →
//!   DHCPNAK (§4.3.2 "SHOULD send a DHCPNAK ... if the 'requested IP address' is
//!   incorrect"). Neither option 50 nor ciaddr: malformed (Table 4), dropped.
//! * DHCPINFORM → DHCPACK with no yiaddr and no lease time (§4.3.5).
//! * DHCPDECLINE, DHCPRELEASE → logged, no reply; the static binding stays (§4.3.3,
//!   §4.3.4).
//!
//! Fields follow Table 3. The lease is infinite (0xffffffff): the address is a fixed
//! BOOTP binding, and RFC 1534 §3 says a client must assume that of a BOOTP server's
//! address anyway. Options: 53, 54 (our address: the client shares our subnet or
//! reaches us through the relay, §4.1), 51 where Table 3 says MUST, 61 echoed when the
//! client sent one (RFC 6842 §3), then the RFC 1497 configuration (parameter request
//! list order first), and last a relay agent's option 82 echoed whole (RFC 3046 §2.2,
//! see `bootp.rs`). Option 56 (message) only in DHCPNAK: RFC 2132 §9.9 defines it for
//! error messages. The options field is limited by option 57 (default 576-octet
//! message, RFC 2131 §2), capped at the Ethernet MTU; replies are padded to 300 octets.

use core::net::Ipv4Addr;

use bootcheck_wire::bootp::{Packet, FLAG_BROADCAST, HEADER_LEN};
use bootcheck_wire::options::{code, MessageType, Value};

use crate::bootp::{Binding, Header, Opt, Request};
use crate::deliver::Rules;
use crate::faults::Fault;
use crate::report::{DropReason, Kind};
use crate::{Rx, Server};

/// An infinite lease (RFC 2131 §3.3).
pub(crate) const INFINITE: u32 = u32::MAX;

/// IP (20) + UDP (8) headers, counted in option 57's message size.
const IP_UDP: usize = 28;
/// RFC 2131 §2: every client accepts 576-octet messages.
const DEFAULT_MAX_MESSAGE: usize = 576;
/// The server's link MTU.
const MTU: usize = 1500;

impl Server {
    pub(crate) fn handle_dhcp(&mut self, rx: &Rx<'_>, req: &Request<'_>) -> Vec<Vec<u8>> {
        let now = rx.now;
        let k = Kind::Dhcp;
        let xid = req.pkt.xid();
        let Some(mt) = req.msg_type else {
            return self.discard(
                now,
                k,
                DropReason::BadDhcp,
                "RFC2132 §9.6",
                format!("xid {xid:#010x}: option 53 is not one octet: silently dropped"),
            );
        };
        match mt {
            MessageType::Discover | MessageType::Request | MessageType::Inform => {}
            MessageType::Decline | MessageType::Release => {
                let (clause, what) = if mt == MessageType::Decline {
                    ("RFC2131 §4.3.3", "the address is in use elsewhere: the administrator is told (this log); the static binding stays")
                } else {
                    ("RFC2131 §4.3.4", "the static binding stays for this client")
                };
                return self.discard(
                    now,
                    k,
                    DropReason::NoReplyNeeded,
                    clause,
                    format!(
                        "xid {xid:#010x}: {} from {}: {what}; no reply",
                        mt.name(),
                        crate::mac_str(req.pkt.chaddr())
                    ),
                );
            }
            other => {
                return self.discard(
                    now,
                    k,
                    DropReason::BadDhcp,
                    "RFC2131 §4.3",
                    format!(
                        "xid {xid:#010x}: {} (type {}) is not a client message: silently dropped",
                        other.name(),
                        other.to_u8()
                    ),
                );
            }
        }
        let binding = match self.dhcp_client(req) {
            Ok(b) => b,
            Err(why) => {
                return self.discard(
                    now,
                    k,
                    DropReason::UnknownClient,
                    "RFC2131 §4.2",
                    format!("xid {xid:#010x}: {}: {why}: silent", mt.name()),
                )
            }
        };
        match mt {
            MessageType::Discover => self.dhcp_offer(rx, req, &binding),
            MessageType::Request => self.dhcp_request(rx, req, &binding),
            _ => self.dhcp_inform(rx, req, &binding),
        }
    }

    /// RFC 2131 §4.2: the client's key is option 61 if present, else chaddr.
    fn dhcp_client(&self, req: &Request<'_>) -> Result<Binding, String> {
        if let Some(ci) = req.pkt.find(code::CLIENT_ID) {
            return match ci.option.data {
                [1, mac @ ..] if mac.len() == 6 => self
                    .static_binding(mac)
                    .ok_or_else(|| format!("client identifier 1/{} is not in the host table", crate::mac_str(mac))),
                [t, ..] => Err(format!(
                    "client identifier of type {t} is the client's key, and the host table has only Ethernet addresses"
                )),
                [] => Err("empty client identifier".to_string()),
            };
        }
        match req.mac() {
            Some(mac) => self
                .static_binding(&mac)
                .ok_or_else(|| format!("chaddr {} is not in the host table", crate::mac_str(&mac))),
            None => Err(format!(
                "htype {} hlen {} is not in the host table (Ethernet only)",
                req.pkt.htype(),
                req.pkt.hlen()
            )),
        }
    }

    /// The options field budget: option 57 (at least 576), at most the MTU.
    fn dhcp_budget(&self, req: &Request<'_>) -> usize {
        let max = match req.pkt.find(code::MAX_MESSAGE_SIZE).map(|o| o.value()) {
            Some(Ok(Value::U16(v))) => usize::from(v).max(DEFAULT_MAX_MESSAGE),
            _ => DEFAULT_MAX_MESSAGE,
        };
        max.min(MTU).saturating_sub(IP_UDP + HEADER_LEN)
    }

    /// 53, 54, optionally 51, and 61 echoed (RFC 6842 §3).
    fn dhcp_mandatory(
        &mut self,
        now: core::time::Duration,
        req: &Request<'_>,
        mt: MessageType,
        lease: bool,
    ) -> Vec<Opt> {
        let mut v: Vec<Opt> =
            vec![(code::MESSAGE_TYPE, vec![mt.to_u8()]), (code::SERVER_ID, self.site.server.ip.octets().to_vec())];
        if lease {
            if self.faults.has(Fault::InfiniteLeaseMissing) {
                self.note(now, Kind::Dhcp, "fault", format!("infinite-lease-missing: {} without option 51", mt.name()));
            } else {
                v.push((code::LEASE_TIME, INFINITE.to_be_bytes().to_vec()));
            }
        }
        if let Some(ci) = req.pkt.aggregate(code::CLIENT_ID) {
            v.push((code::CLIENT_ID, ci.into_owned()));
        }
        v
    }

    fn dhcp_offer(&mut self, rx: &Rx<'_>, req: &Request<'_>, b: &Binding) -> Vec<Vec<u8>> {
        let now = rx.now;
        let Some(file) = self.boot_file(now, Kind::Dhcp, req, b) else {
            return Vec::new();
        };
        if let Some(asked) = requested_ip(&req.pkt).filter(|a| *a != b.ip) {
            self.note(
                now,
                Kind::Dhcp,
                "RFC2131 §4.3.1",
                format!("requested address {asked} ignored: the binding of {} is {}", b.label, b.ip),
            );
        }
        let hdr = Header {
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: b.ip,
            siaddr: self.site.server.ip,
            flags: req.pkt.flags(),
            sname: true,
            file: Some(file.path.clone()),
        };
        let mandatory = self.dhcp_mandatory(now, req, MessageType::Offer, true);
        self.dhcp_send(
            rx,
            req,
            &hdr,
            &mandatory,
            self.config_params(b, file.size),
            Rules::Dhcp,
            "RFC2131 §4.3.1",
            format!("DHCPOFFER of {} to {}, infinite lease", b.ip, b.label),
        )
    }

    fn dhcp_request(&mut self, rx: &Rx<'_>, req: &Request<'_>, b: &Binding) -> Vec<Vec<u8>> {
        let now = rx.now;
        let xid = req.pkt.xid();
        let server_id = match req.pkt.find(code::SERVER_ID).map(|o| o.value()) {
            Some(Ok(Value::Ip(a))) => Some(a),
            Some(_) => {
                return self.discard(
                    now,
                    Kind::Dhcp,
                    DropReason::BadDhcp,
                    "RFC2132 §9.7",
                    format!("xid {xid:#010x}: malformed server identifier: silently dropped"),
                );
            }
            None => None,
        };
        if let Some(sid) = server_id.filter(|s| *s != self.site.server.ip) {
            return self.discard(
                now,
                Kind::Dhcp,
                DropReason::OtherServer,
                "RFC2131 §4.3.2",
                format!("xid {xid:#010x}: DHCPREQUEST selects server {sid}, not us: our offer is declined; silent"),
            );
        }
        let ciaddr = req.pkt.ciaddr();
        let (asked, state) = match (requested_ip(&req.pkt), server_id) {
            (Some(a), Some(_)) => (a, "SELECTING"),
            (Some(a), None) => (a, "INIT-REBOOT"),
            (None, _) if ciaddr != Ipv4Addr::UNSPECIFIED => (ciaddr, "RENEWING/REBINDING"),
            (None, _) => {
                return self.discard(
                    now,
                    Kind::Dhcp,
                    DropReason::BadDhcp,
                    "RFC2131 §4.3.2",
                    format!("xid {xid:#010x}: DHCPREQUEST with neither 'requested IP address' nor 'ciaddr' (Table 4): silently dropped"),
                );
            }
        };
        if asked != b.ip {
            return self.dhcp_nak(rx, req, b, asked, state);
        }
        let Some(file) = self.boot_file(now, Kind::Dhcp, req, b) else {
            return Vec::new();
        };
        let hdr = Header {
            ciaddr,
            yiaddr: b.ip,
            siaddr: self.site.server.ip,
            flags: req.pkt.flags(),
            sname: true,
            file: Some(file.path.clone()),
        };
        let mandatory = self.dhcp_mandatory(now, req, MessageType::Ack, true);
        let why = format!("DHCPACK ({state}) of {} to {}, infinite lease", b.ip, b.label);
        self.dhcp_send(rx, req, &hdr, &mandatory, self.config_params(b, file.size), Rules::Dhcp, "RFC2131 §4.3.2", why)
    }

    fn dhcp_nak(&mut self, rx: &Rx<'_>, req: &Request<'_>, b: &Binding, asked: Ipv4Addr, state: &str) -> Vec<Vec<u8>> {
        let now = rx.now;
        let giaddr = req.pkt.giaddr();
        // §4.3.2: through a relay, set the BROADCAST bit so that it broadcasts the NAK.
        let flags = if giaddr != Ipv4Addr::UNSPECIFIED { req.pkt.flags() | FLAG_BROADCAST } else { req.pkt.flags() };
        let hdr = Header {
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            flags,
            sname: false,
            file: None,
        };
        let msg = format!("requested address {asked} is not the address of this client ({})", b.ip);
        let mut mandatory = self.dhcp_mandatory(now, req, MessageType::Nak, false);
        mandatory.push((code::MESSAGE, msg.clone().into_bytes()));
        let why = format!("DHCPNAK ({state}) to {}: {msg}", b.label);
        self.dhcp_send(rx, req, &hdr, &mandatory, Vec::new(), Rules::DhcpNak, "RFC2131 §4.3.2", why)
    }

    fn dhcp_inform(&mut self, rx: &Rx<'_>, req: &Request<'_>, b: &Binding) -> Vec<Vec<u8>> {
        let now = rx.now;
        let Some(file) = self.boot_file(now, Kind::Dhcp, req, b) else {
            return Vec::new();
        };
        let hdr = Header {
            ciaddr: req.pkt.ciaddr(),
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: self.site.server.ip,
            flags: req.pkt.flags(),
            sname: true,
            file: Some(file.path.clone()),
        };
        let mandatory = self.dhcp_mandatory(now, req, MessageType::Ack, false);
        let why = format!("DHCPACK to DHCPINFORM from {}: no yiaddr, no lease time", b.label);
        self.dhcp_send(
            rx,
            req,
            &hdr,
            &mandatory,
            self.config_params(b, file.size),
            Rules::DhcpInform,
            "RFC2131 §4.3.5",
            why,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn dhcp_send(
        &mut self,
        rx: &Rx<'_>,
        req: &Request<'_>,
        hdr: &Header,
        mandatory: &[Opt],
        params: Vec<Opt>,
        rules: Rules,
        clause: &'static str,
        why: String,
    ) -> Vec<Vec<u8>> {
        let budget = self.dhcp_budget(req);
        let vend = self.vend(rx.now, Kind::Dhcp, req, mandatory, params, budget);
        let payload = self.reply(&req.pkt, hdr, &vend);
        self.note(rx.now, Kind::Dhcp, clause, format!("xid {:#010x}: {why}", req.pkt.xid()));
        self.send_reply(rx, Kind::Dhcp, rules, hdr.yiaddr, &payload)
    }
}

/// Option 50, when it is a valid address.
fn requested_ip(pkt: &Packet<&[u8]>) -> Option<Ipv4Addr> {
    match pkt.find(code::REQUESTED_IP).map(|o| o.value()) {
        Some(Ok(Value::Ip(a))) => Some(a),
        _ => None,
    }
}
