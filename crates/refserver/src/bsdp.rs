//! Apple BSDP (NetBoot 2.0 Boot Server Discovery Protocol), served from the site's
//! NetBoot images (`site.netboot`). References are to the sections of the BSDP summary
//! (`/work/shared/specs/bsdp-summary.md`), written `BSDP §n`.
//!
//! A DHCPINFORM whose option 60 is a valid client vendor class (`AAPLBSDPC/<arch>/
//! <system-id>`, §2) is a BSDP request, once the site has images; everything else
//! (DISCOVER/REQUEST with option 60, an invalid option 60, a site without images) is
//! left to the DHCP server (`dhcp.rs`). Decisions, in Apple bootpd's order (§6.5):
//!
//! 1. htype ≠ 1 or hlen ≠ 6; option 43 missing or not parseable; the version
//!    sub-option missing or not 0x0000/0x0100/0x0101; ciaddr 0; the message type
//!    missing, unknown or FAILED; a reply port ≥ 1024 (§4); the NetBoot 1.0 firmware
//!    flag (this server is not configured for such clients, §4): silently dropped.
//! 2. `INFORM[LIST]` → `ACK[LIST]` (§6.1 step 3): op 2, xid/flags/giaddr/chaddr/
//!    ciaddr copied, yiaddr 0, siaddr and sname ours, file empty; options 53 = ACK,
//!    54, 60 = `AAPLBSDPC`, 43 = message type, server priority, default image,
//!    selected image (only when this client is bound to an image that still applies),
//!    and the image list for clients at version ≥ 0x0101. An attributes filter
//!    (sub-option 11) removes the images that do not match; when none applies, or the
//!    site's default does not, sub-option 7/9 leave them out, and with no image left the
//!    request is dropped (§4, §6.5).
//! 3. `INFORM[SELECT]` (§6.1 steps 5–6): no server identifier sub-option, or one that
//!    names another server: dropped, and a binding this server held for the client is
//!    deleted. Otherwise the selected image (the default one when none is named) →
//!    `ACK[SELECT]`: file = the image's booter (full path), siaddr ours, sname ours,
//!    options 53, 54, 60, 17 = the image's root path, 43 = message type, selected
//!    image, machine name (the host-table name, when the client has one); the client's
//!    hardware address is bound to the image. An unknown image → `ACK[FAILED]`: options
//!    53, 54, 60 and 43 = message type only, file empty.
//!
//! The reply goes like any DHCPACK to a DHCPINFORM, by unicast to ciaddr (RFC 2131
//! §4.3.5), from port 67 to the reply port when the request has one, else 68 (§6.4).
//! Its size: at most sub-option 12, else option 57, else 576 octets of IP datagram
//! (never less than 576, never more than the link MTU). The image list is sent as as
//! many sub-options 9 as it needs, each in one option-43 instance (instances split only
//! at sub-option boundaries, §1, §4, §6.4), and cut (the cut logged) to fit. Replies
//! are padded to 300 octets.

use core::net::Ipv4Addr;

use bootcheck_wire::bootp::HEADER_LEN;
use bootcheck_wire::bsdp::{self, BootImageId, MessageType as Bsdp, SubOption, VendorClass, Version};
use bootcheck_wire::options::{code, MessageType, Value};

use crate::bootp::{Header, Opt, Request};
use crate::deliver::{self, Route, Rules};
use crate::faults::Fault;
use crate::report::{DropReason, Kind};
use crate::{text, Rx, Server};

/// IP (20) + UDP (8) headers, counted in the message size limits.
const IP_UDP: usize = 28;
/// RFC 2131 §2: every client accepts 576-octet messages.
const DEFAULT_MAX_MESSAGE: usize = 576;
/// The server's link MTU.
const MTU: usize = 1500;
/// The highest reply port a client may ask for (BSDP §4: "must be < 1024").
const MAX_REPLY_PORT: u16 = 1023;

/// What a valid BSDP request asks, read once.
struct Ask {
    message: Bsdp,
    version: Version,
    server_id: Option<Ipv4Addr>,
    image: Option<BootImageId>,
    reply_port: Option<u16>,
    max_size: Option<u16>,
    filter: Option<Vec<u16>>,
}

impl Server {
    /// A BSDP request, answered or dropped; `None` when the request is not BSDP (or
    /// the site has no NetBoot images), for the DHCP server to handle.
    pub(crate) fn handle_bsdp(&mut self, rx: &Rx<'_>, req: &Request<'_>) -> Option<Vec<Vec<u8>>> {
        if self.site.netboot.images.is_empty() || req.msg_type != Some(MessageType::Inform) {
            return None;
        }
        let vc = req.pkt.aggregate(bsdp::OPTION_VENDOR_CLASS)?;
        let now = rx.now;
        let xid = req.pkt.xid();
        match VendorClass::parse(&vc) {
            Ok(VendorClass::Client { .. }) => {}
            Ok(VendorClass::Server) => {
                self.note(
                    now,
                    Kind::Dhcp,
                    "BSDP §2",
                    format!("xid {xid:#010x}: option 60 is the server form `AAPLBSDPC`: not a BSDP client request"),
                );
                return None;
            }
            Err(e) => {
                self.note(
                    now,
                    Kind::Dhcp,
                    "BSDP §2",
                    format!(
                        "xid {xid:#010x}: option 60 {} is not a valid BSDP vendor class ({e}): not BSDP",
                        text(&vc)
                    ),
                );
                return None;
            }
        }
        let drop = |s: &mut Server, reason: DropReason, clause: &'static str, why: String| {
            Some(s.discard(now, Kind::Dhcp, reason, clause, format!("xid {xid:#010x}: BSDP {why}: silently dropped")))
        };
        if req.pkt.htype() != 1 || req.pkt.hlen() != 6 {
            let why = format!("htype {} hlen {} (Ethernet only)", req.pkt.htype(), req.pkt.hlen());
            return drop(self, DropReason::BadBsdp, "BSDP §6.5", why);
        }
        let Some(data) = req.pkt.aggregate(bsdp::OPTION_VENDOR_SPECIFIC) else {
            return drop(self, DropReason::BadBsdp, "BSDP §6.5", "request without option 43".into());
        };
        let repr = match bsdp::Repr::parse(&data) {
            Ok(r) => r,
            Err(e) => return drop(self, DropReason::BadBsdp, "BSDP §6.5", format!("option 43 does not parse ({e})")),
        };
        let version = match repr.version() {
            Some(v) if v.is_known() => v,
            Some(v) => {
                let why = format!("version {:#06x} (only 0x0000, 0x0100, 0x0101 are known)", v.0);
                return drop(self, DropReason::BadBsdp, "BSDP §4", why);
            }
            None => return drop(self, DropReason::BadBsdp, "BSDP §4", "request without a version sub-option".into()),
        };
        if req.pkt.ciaddr().is_unspecified() {
            return drop(self, DropReason::BadBsdp, "BSDP §6.5", "INFORM with ciaddr 0.0.0.0".into());
        }
        let message = match repr.message_type() {
            Some(t @ (Bsdp::List | Bsdp::Select)) => t,
            Some(t) => {
                return drop(self, DropReason::BadBsdp, "BSDP §3", format!("message type {t} from a client"));
            }
            None => return drop(self, DropReason::BadBsdp, "BSDP §6.5", "request without a message type".into()),
        };
        let reply_port = repr.reply_port();
        if let Some(p) = reply_port.filter(|p| *p > MAX_REPLY_PORT) {
            return drop(self, DropReason::BadBsdp, "BSDP §4", format!("reply port {p} (must be < 1024)"));
        }
        if repr.netboot_1_0_firmware() {
            let why = "NetBoot 1.0 firmware flag (this server is not configured for such clients)".to_string();
            return drop(self, DropReason::BadBsdp, "BSDP §4", why);
        }
        let ask = Ask {
            message,
            version,
            server_id: repr.server_id(),
            image: repr.selected_image(),
            reply_port,
            max_size: repr.max_message_size(),
            filter: repr.attributes_filter().map(|f| f.iter().collect()),
        };
        Some(match ask.message {
            Bsdp::List => self.bsdp_list(rx, req, &ask),
            _ => self.bsdp_select(rx, req, &ask),
        })
    }

    /// The images that apply to this request (the attributes filter), in list order.
    fn bsdp_images(&self, ask: &Ask) -> Vec<(String, u32, String)> {
        self.site
            .netboot
            .images
            .iter()
            .filter(|(_, i)| ask.filter.as_ref().is_none_or(|f| f.contains(&((i.id() >> 16) as u16))))
            .map(|(k, i)| (k.clone(), i.id(), i.name.clone()))
            .collect()
    }

    fn bsdp_list(&mut self, rx: &Rx<'_>, req: &Request<'_>, ask: &Ask) -> Vec<Vec<u8>> {
        let now = rx.now;
        let xid = req.pkt.xid();
        let images = self.bsdp_images(ask);
        if images.is_empty() {
            return self.discard(
                now,
                Kind::Dhcp,
                DropReason::BsdpNoImage,
                "BSDP §6.5",
                format!("xid {xid:#010x}: BSDP INFORM[LIST]: no image matches the attributes filter: silently dropped"),
            );
        }
        let applies = |id: u32| images.iter().any(|(_, i, _)| *i == id);
        let mut head: Vec<SubOption<'_>> =
            vec![SubOption::MessageType(Bsdp::List), SubOption::ServerPriority(self.site.netboot.priority)];
        let default = self.site.netboot.default_image().map(|(_, i)| i.id()).filter(|id| applies(*id));
        if let Some(id) = default {
            head.push(SubOption::DefaultBootImageId(BootImageId(id)));
        }
        let mac = req.mac();
        let bound = mac.and_then(|m| self.bsdp_bindings.get(&m).copied()).filter(|id| applies(*id));
        if let Some(id) = bound {
            head.push(SubOption::SelectedBootImageId(BootImageId(id)));
        }
        // The image list, for clients at version ≥ 0x0101, as many entries as fit.
        let room = self.bsdp_room(req, ask);
        let entries: Vec<bsdp::BootImage<'_>> = if ask.version >= Version::V1_1 {
            images.iter().map(|(_, id, name)| bsdp::BootImage { id: BootImageId(*id), name: name.as_bytes() }).collect()
        } else {
            Vec::new()
        };
        let mut n = entries.len();
        let payload = loop {
            let mut opts = head.clone();
            // Sub-option 9 repeated as needed, each fitting one option-43 instance.
            let mut start = 0;
            let mut len = 0;
            for (i, e) in entries.iter().enumerate().take(n) {
                if len + e.wire_len() > bsdp::MAX_INSTANCE_LEN - 2 {
                    opts.push(SubOption::BootImageList(bsdp::BootImageList::from_entries(&entries[start..i])));
                    (start, len) = (i, 0);
                }
                len += e.wire_len();
            }
            if n > start {
                opts.push(SubOption::BootImageList(bsdp::BootImageList::from_entries(&entries[start..n])));
            }
            let repr = bsdp::Repr::new(opts);
            match repr.to_option_43() {
                Ok(o43) if o43.len() <= room || n == 0 => break (repr.split_instances().unwrap_or_default(), n),
                _ => n -= 1,
            }
        };
        let (instances, listed) = payload;
        if listed < entries.len() {
            self.note(
                now,
                Kind::Dhcp,
                "BSDP §6.4",
                format!(
                    "xid {xid:#010x}: image list cut to {listed} of {} entries to fit the reply size",
                    entries.len()
                ),
            );
        }
        let hdr = self.bsdp_header(req, None);
        let why = format!(
            "ACK[LIST] to {}: priority {}, default {}, {}, {} image(s) listed",
            crate::mac_str(req.pkt.chaddr()),
            self.site.netboot.priority,
            default.map_or("none".to_string(), |d| format!("{d:#010x}")),
            bound.map_or("not bound".to_string(), |b| format!("bound to {b:#010x}")),
            listed
        );
        self.bsdp_send(rx, req, ask, &hdr, &instances, Vec::new(), "BSDP §6.1", why)
    }

    fn bsdp_select(&mut self, rx: &Rx<'_>, req: &Request<'_>, ask: &Ask) -> Vec<Vec<u8>> {
        let now = rx.now;
        let xid = req.pkt.xid();
        let ours = self.site.server.ip;
        let mac = req.mac();
        match ask.server_id {
            None => {
                return self.discard(
                    now,
                    Kind::Dhcp,
                    DropReason::BadBsdp,
                    "BSDP §6.5",
                    format!("xid {xid:#010x}: BSDP INFORM[SELECT] without a server identifier: silently dropped"),
                );
            }
            Some(sid) if sid != ours => {
                if !self.faults.has(Fault::BsdpAnswerForeignSelect) {
                    if let Some(m) = mac {
                        if let Some(old) = self.bsdp_bindings.remove(&m) {
                            self.note(
                                now,
                                Kind::Dhcp,
                                "BSDP §6.1",
                                format!("binding of {} to {old:#010x} deleted: it selected {sid}", crate::mac_str(&m)),
                            );
                        }
                    }
                    return self.discard(
                        now,
                        Kind::Dhcp,
                        DropReason::BsdpOtherServer,
                        "BSDP §6.1",
                        format!("xid {xid:#010x}: BSDP INFORM[SELECT] selects server {sid}, not us: silent"),
                    );
                }
                self.note(
                    now,
                    Kind::Dhcp,
                    "fault",
                    format!("bsdp-answer-foreign-select: INFORM[SELECT] for server {sid} answered anyway"),
                );
            }
            Some(_) => {}
        }
        let wanted = ask.image.map(|i| i.0).or_else(|| self.site.netboot.default_image().map(|(_, i)| i.id()));
        let found = wanted.and_then(|id| self.site.netboot.image_by_id(id).map(|(k, i)| (k.to_string(), i.clone())));
        let Some((key, image)) = found else {
            let hdr = self.bsdp_header(req, None);
            let o43 = bsdp::Repr::new(vec![SubOption::MessageType(Bsdp::Failed)]).split_instances().unwrap_or_default();
            let why = match wanted {
                Some(id) => format!("ACK[FAILED]: image {id:#010x} is not one of ours"),
                None => "ACK[FAILED]: no image named and no default image".to_string(),
            };
            return self.bsdp_send(rx, req, ask, &hdr, &o43, Vec::new(), "BSDP §6.1", why);
        };
        let path = self.site.full_path(&image.bootfile);
        let id = image.id();
        let mut subs = vec![SubOption::MessageType(Bsdp::Select), SubOption::SelectedBootImageId(BootImageId(id))];
        let machine = mac.and_then(|m| self.site.client_by_mac(&m)).map(|(_, c)| c.hostname.clone());
        if let Some(name) = machine.as_deref().filter(|n| !n.is_empty()) {
            subs.push(SubOption::MachineName(name.as_bytes()));
        }
        let o43 = bsdp::Repr::new(subs).split_instances().unwrap_or_default();
        if let Some(m) = mac {
            self.bsdp_bindings.insert(m, id);
        }
        let hdr = self.bsdp_header(req, Some(path.clone()));
        let root = vec![(code::ROOT_PATH, image.root_path.as_bytes().to_vec())];
        let why = format!("ACK[SELECT] of image `{key}` ({id:#010x}): file {}, client bound", text(path.as_bytes()));
        self.bsdp_send(rx, req, ask, &hdr, &o43, root, "BSDP §6.1", why)
    }

    /// The options field budget (§6.4): sub-option 12, else option 57, else 576
    /// octets of IP datagram, at least 576, at most the MTU; less IP, UDP and the BOOTP
    /// header.
    fn bsdp_budget(&self, req: &Request<'_>, ask: &Ask) -> usize {
        let opt57 = match req.pkt.find(code::MAX_MESSAGE_SIZE).map(|o| o.value()) {
            Some(Ok(Value::U16(v))) => Some(usize::from(v)),
            _ => None,
        };
        let max =
            ask.max_size.map(usize::from).or(opt57).unwrap_or(DEFAULT_MAX_MESSAGE).clamp(DEFAULT_MAX_MESSAGE, MTU);
        max.saturating_sub(IP_UDP + HEADER_LEN)
    }

    /// Octets the option-43 instances of an `ACK[LIST]` may take: the budget less the
    /// cookie, options 53, 54, 60 and End.
    fn bsdp_room(&self, req: &Request<'_>, ask: &Ask) -> usize {
        let fixed = 4 + 3 + 6 + (2 + bsdp::VENDOR_CLASS_PREFIX.len()) + 1;
        self.bsdp_budget(req, ask).saturating_sub(fixed)
    }

    /// The header of a BSDP reply (§6.1): yiaddr 0, siaddr and sname ours.
    fn bsdp_header(&self, req: &Request<'_>, file: Option<String>) -> Header {
        Header {
            ciaddr: req.pkt.ciaddr(),
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: self.site.server.ip,
            flags: req.pkt.flags(),
            sname: true,
            file,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn bsdp_send(
        &mut self,
        rx: &Rx<'_>,
        req: &Request<'_>,
        ask: &Ask,
        hdr: &Header,
        o43: &[Vec<u8>],
        params: Vec<Opt>,
        clause: &'static str,
        why: String,
    ) -> Vec<Vec<u8>> {
        let now = rx.now;
        let mandatory: Vec<Opt> = vec![
            (code::MESSAGE_TYPE, vec![MessageType::Ack.to_u8()]),
            (code::SERVER_ID, self.site.server.ip.octets().to_vec()),
        ];
        // 43 (its instances kept in order), 60 and 17 in the parameter request list's
        // order (RFC 2132 §9.8).
        let mut rest: Vec<Opt> = o43.iter().map(|i| (bsdp::OPTION_VENDOR_SPECIFIC, i.clone())).collect();
        rest.push((bsdp::OPTION_VENDOR_CLASS, bsdp::VENDOR_CLASS_PREFIX.to_vec()));
        rest.extend(params);
        let budget = self.bsdp_budget(req, ask);
        let vend = self.vend(now, Kind::Dhcp, req, &mandatory, rest, budget);
        let payload = self.reply(&req.pkt, hdr, &vend);
        self.note(now, Kind::Dhcp, clause, format!("xid {:#010x}: BSDP {why}", req.pkt.xid()));
        let pkt = req.pkt;
        let on_link = self.site.subnet.contains(&pkt.ciaddr());
        let Some(Route { mac, ip, port, clause, why }) =
            deliver::route(Rules::DhcpInform, &pkt, rx.src_mac, on_link, Ipv4Addr::UNSPECIFIED, &self.faults)
        else {
            return self.discard(now, Kind::Dhcp, DropReason::CannotReply, "BSDP §6.4", "no destination for the reply");
        };
        let (port, why) = match ask.reply_port {
            Some(p) if self.faults.has(Fault::BsdpIgnoreReplyPort) => {
                self.note(now, Kind::Dhcp, "fault", format!("bsdp-ignore-reply-port: reply port {p} ignored"));
                (port, why)
            }
            Some(p) => (p, format!("{why}; the BSDP reply port {p} replaces port {port} (BSDP §6.4)")),
            None => (port, why),
        };
        let server = &self.site.server;
        let frame = deliver::udp_frame(
            server.mac.0,
            server.ip,
            bootcheck_wire::bootp::SERVER_PORT,
            mac,
            ip,
            port,
            &payload,
            &self.faults,
        );
        match frame {
            Some(f) => {
                self.note(now, Kind::Dhcp, clause, why);
                self.sent(Kind::Dhcp, vec![f])
            }
            None => {
                self.discard(now, Kind::Dhcp, DropReason::CannotReply, "RFC768", "reply too large for a UDP datagram")
            }
        }
    }
}
