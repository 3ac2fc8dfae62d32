//! BOOTREQUEST processing (RFC 951 §7.3, RFC 1542 §2 and §5) and the construction of
//! every BOOTREPLY, BOOTP or DHCP (header fields, vend/options area, size).
//!
//! Decisions, in the order RFC 951 §7.3 takes them:
//! 1. RFC 1542 §2.1: a message under 300 octets, or whose `op` is neither 1 nor 2, is
//!    silently discarded; a BOOTREPLY (op 2) is for relays (RFC 951 §7.4): ignored.
//! 2. `sname` non-empty and not our name (`site.server.name`, or it with
//!    `.site.domain`, ASCII case-insensitive): discarded (RFC 951 §7.3 option 1).
//!    Under option overload (RFC 2132 §9.3) `sname`/`file` hold options, not names.
//! 3. A request with option 53 is a DHCP client's (RFC 1534 §2): see `dhcp.rs`.
//! 4. Look `chaddr` (htype 1, hlen 6) up in the host table (`site.clients`); not
//!    there: discarded (RFC 951 §7.3), unless the RFC 1534 §2 automatic-address switch
//!    ([`crate::Config::dynamic_bootp`], off by default) is on. RFC 1542 §5.3: ciaddr
//!    is not trusted as the key, so a known ciaddr does not identify a client.
//! 5. The boot file (RFC 951 §7.3): empty `file` → the client's boot file (or
//!    `boot.default`); a generic name or a full path naming a site file → that file;
//!    otherwise "the client is asking for a file we dont have; discard the packet".
//!    The reply carries the fully qualified path (`site.full_path`).
//! 6. The reply: op 2; htype, hlen, xid, chaddr, flags (RFC 1542 §5.4 preserves the
//!    BROADCAST bit), giaddr and ciaddr (RFC 1542 §5.3) from the request; hops 0 and
//!    secs 0 (RFC 2131 Table 3, the only table that says; RFC 951 does not define them
//!    in replies); yiaddr = the client's address (RFC 1542 §3.3 lets the server assign
//!    it even when ciaddr is set, and the client SHOULD adopt it); siaddr = the server,
//!    which is also the TFTP server (RFC 951 §7.3); sname = our name, NUL-terminated;
//!    file = the full path, NUL-terminated.
//! 7. The vend area: with the RFC 1048 cookie in the request, the reply has the cookie
//!    and RFC 1497 options 1, 3, 6, 12, 13, 15 then End (options named in a parameter
//!    request list, 55, come first, in its order, RFC 2132 §9.8); without it (pure
//!    RFC 951, CMU, empty), 64 zero octets: never TLVs without a cookie. A BOOTREPLY
//!    to a BOOTP client is exactly 300 octets (RFC 1534 §2: not over the BOOTREPLY size
//!    limit; RFC 1542 §2.1: not under it); options that do not fit are left out and
//!    logged. It carries no DHCP-only option (RFC 1534 §2 allows them; this server
//!    chooses not to, so any DHCP option in a BOOTP reply is a fault).
//! 8. RFC 3046 §2.2: this server supports the relay agent information option, so a
//!    request that carries one in its options field (a relay agent added it, §2.1)
//!    gets it echoed whole in every reply — DHCP, BSDP, and BOOTP with an RFC 1048
//!    vend, since §2.1 has relay agents add it to "any recognized BOOTP or DHCP packet"
//!    — as the last option before End, never in `sname`/`file`. It is kept before
//!    any parameter when the room is short; if even it alone does not fit, the reply
//!    goes without it (§2.2) and the log says so. A request without option 82 gets
//!    none. A request without the cookie has no options field a relay could add to.

use core::net::Ipv4Addr;

use bootcheck_wire::bootp::{
    field as bootp_field, Op, Packet, VendKind, HEADER_LEN, MAGIC_COOKIE, MIN_LEN, RFC951_VEND_LEN,
};
use bootcheck_wire::options::{self, code, MessageType};

use crate::deliver::{self, Route, Rules};
use crate::faults::Fault;
use crate::paths::{self, Lookup};
use crate::report::{DropReason, Kind};
use crate::{text, Health, Rx, Server};

/// A BOOTREQUEST, read once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    pub pkt: Packet<&'a [u8]>,
    /// `sname` up to its NUL; empty when overload gives the field to options.
    pub sname: &'a [u8],
    /// `file` up to its NUL; empty when overload gives the field to options.
    pub file: &'a [u8],
    /// The vend field starts with the RFC 1048 cookie.
    pub cookie: bool,
    /// An option 53 is present (a DHCP client, RFC 1534 §2).
    pub has_53: bool,
    /// Its value, when it is one octet.
    pub msg_type: Option<MessageType>,
}

impl<'a> Request<'a> {
    pub(crate) fn read(bytes: &'a [u8]) -> Self {
        let pkt = Packet::new_unchecked(bytes);
        // RFC 2132 §9.3: when option 52 gives `file`/`sname` to options, they hold no name.
        let ov = pkt.overload();
        let field = |r: core::ops::Range<usize>| until_nul(bytes.get(r).unwrap_or(&[]));
        let sname = if ov.is_some_and(options::Overload::sname) { &[][..] } else { field(bootp_field::SNAME) };
        let file = if ov.is_some_and(options::Overload::file) { &[][..] } else { field(bootp_field::FILE) };
        let m = pkt.find(code::MESSAGE_TYPE);
        let msg_type = match m.map(|o| o.option.data) {
            Some([t]) => Some(MessageType::from_u8(*t)),
            _ => None,
        };
        Request { pkt, sname, file, cookie: pkt.vend_kind() == VendKind::Rfc1048, has_53: m.is_some(), msg_type }
    }

    /// The parameter request list (55), aggregated (RFC 3396).
    pub(crate) fn prl(&self) -> Vec<u8> {
        self.pkt.aggregate(code::PARAMETER_REQUEST_LIST).map(|c| c.into_owned()).unwrap_or_default()
    }

    /// The relay agent information option (82) of the options field, aggregated (RFC
    /// 3396): what a relay agent added (RFC 3046 §2.1 puts it there, never in `sname`
    /// or `file`). `None` without one, or without the RFC 1048 cookie.
    pub(crate) fn agent_option(&self) -> Option<Vec<u8>> {
        let mut data: Option<Vec<u8>> = None;
        for o in self.pkt.options().filter(|o| o.option.code == code::RELAY_AGENT_INFO) {
            if o.area == bootcheck_wire::Area::Options {
                data.get_or_insert_with(Vec::new).extend_from_slice(o.option.data);
            }
        }
        data
    }

    /// The client's Ethernet address, when htype is 1 and hlen 6.
    pub(crate) fn mac(&self) -> Option<[u8; 6]> {
        if self.pkt.htype() == 1 && self.pkt.hlen() == 6 {
            self.pkt.chaddr().try_into().ok()
        } else {
            None
        }
    }
}

/// The octets before the first NUL.
fn until_nul(b: &[u8]) -> &[u8] {
    b.split(|&c| c == 0).next().unwrap_or(b)
}

/// A client the server will answer, and what it gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Binding {
    pub ip: Ipv4Addr,
    /// Host name (option 12); none for automatic bindings.
    pub hostname: Option<String>,
    /// Boot file relative to the boot home (may be empty: then `boot.default`).
    pub bootfile: String,
    /// For the log: `client ws1` or `automatic binding`.
    pub label: String,
}

/// The boot file chosen for a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BootFile {
    /// What goes into `file`.
    pub path: String,
    /// Octets, when the file is one of the site's (for option 13).
    pub size: Option<u64>,
}

/// The header fields of a reply that vary (the rest come from the request).
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub ciaddr: Ipv4Addr,
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub flags: u16,
    /// Put our name in `sname`.
    pub sname: bool,
    pub file: Option<String>,
}

/// One option to send: code and value.
pub(crate) type Opt = (u8, Vec<u8>);

impl Server {
    pub(crate) fn handle_bootp(&mut self, rx: &Rx<'_>) -> Vec<Vec<u8>> {
        let now = rx.now;
        let bytes = rx.payload;
        if bytes.len() < MIN_LEN {
            self.stats.request(Kind::Bootp);
            return self.discard(
                now,
                Kind::Bootp,
                DropReason::BootpTooShort,
                "RFC1542 §2.1",
                format!("{} octets, less than the 300-octet minimum BOOTP message: silently discarded", bytes.len()),
            );
        }
        let pkt = Packet::new_unchecked(bytes);
        match pkt.op() {
            Op::Request => {}
            Op::Reply => {
                self.stats.request(Kind::Bootp);
                return self.discard(
                    now,
                    Kind::Bootp,
                    DropReason::NotBootrequest,
                    "RFC951 §7.4",
                    format!(
                        "BOOTREPLY xid {:#010x} to the server port: only relay agents take BOOTREPLYs: ignored",
                        pkt.xid()
                    ),
                );
            }
            Op::Other(n) => {
                self.stats.request(Kind::Bootp);
                return self.discard(
                    now,
                    Kind::Bootp,
                    DropReason::NotBootrequest,
                    "RFC1542 §2.1",
                    format!("op {n} is neither BOOTREQUEST (1) nor BOOTREPLY (2): silently discarded"),
                );
            }
        }
        let req = Request::read(bytes);
        let kind = if req.has_53 { Kind::Dhcp } else { Kind::Bootp };
        self.stats.request(kind);

        // Fault switches that take the server down.
        if self.faults.has(Fault::HangOnOverload) && pkt.find(code::OVERLOAD).is_some() {
            self.health = Health::Hung { since: now };
            return self.discard(
                now,
                kind,
                DropReason::NotAlive,
                "fault",
                "hang-on-overload: option 52 received: server hangs",
            );
        }
        if let Some(c) = pkt.options().map(|o| o.option.code).find(|&c| self.faults.crash_on(c)) {
            self.health = Health::Crashed { reason: format!("crash-on-option={c}: option {c} received") };
            return self.discard(
                now,
                kind,
                DropReason::NotAlive,
                "fault",
                format!("crash-on-option={c}: option {c} received: server crashed"),
            );
        }
        self.bootrequests += 1;
        if let Some(n) = self.faults.drop_every_nth() {
            if self.bootrequests % u64::from(n) == 0 {
                return self.discard(
                    now,
                    kind,
                    DropReason::FaultDrop,
                    "fault",
                    format!("drop-every-nth={n}: BOOTREQUEST #{} silently dropped", self.bootrequests),
                );
            }
        }

        let xid = pkt.xid();
        if !req.sname.is_empty() && !self.sname_is_ours(req.sname) {
            if !self.faults.has(Fault::AnswerForeignSname) {
                return self.discard(
                    now,
                    kind,
                    DropReason::ForeignSname,
                    "RFC951 §7.3",
                    format!(
                        "xid {xid:#010x}: sname {} is not ours ({}): silently dropped",
                        text(req.sname),
                        self.site.server.name
                    ),
                );
            }
            self.note(
                now,
                kind,
                "fault",
                format!("answer-foreign-sname: sname {} is not ours: answering anyway", text(req.sname)),
            );
        }

        if req.has_53 {
            // Apple BSDP rides on DHCPINFORM (BSDP §1); what is not BSDP is DHCP.
            if let Some(frames) = self.handle_bsdp(rx, &req) {
                return frames;
            }
            return self.handle_dhcp(rx, &req);
        }

        // RFC 951 §7.3: look the client up.
        let Some(binding) = self.bootp_binding(now, &req) else {
            return Vec::new();
        };
        let Some(file) = self.boot_file(now, kind, &req, &binding) else {
            return Vec::new();
        };
        let hdr = Header {
            ciaddr: pkt.ciaddr(),
            yiaddr: binding.ip,
            siaddr: self.site.server.ip,
            flags: pkt.flags(),
            sname: true,
            file: Some(file.path.clone()),
        };
        let mut mandatory = Vec::new();
        if self.faults.has(Fault::DhcpOptionsInBootpReply) {
            mandatory.push((code::MESSAGE_TYPE, vec![MessageType::Ack.to_u8()]));
            mandatory.push((code::SERVER_ID, self.site.server.ip.octets().to_vec()));
            mandatory.push((code::LEASE_TIME, u32::MAX.to_be_bytes().to_vec()));
            self.note(now, kind, "fault", "dhcp-options-in-bootp-reply: adding options 53, 54, 51 to a BOOTREPLY");
        }
        let params = self.config_params(&binding, file.size);
        // RFC 1534 §2: not over the BOOTREPLY size limit (300 octets, vend 64).
        let vend = self.vend(now, kind, &req, &mandatory, params, RFC951_VEND_LEN);
        let payload = self.reply(&pkt, &hdr, &vend);
        self.note(
            now,
            kind,
            "RFC951 §7.3",
            format!(
                "xid {xid:#010x}: BOOTREPLY for {}: yiaddr {}, file {}, {}",
                binding.label,
                binding.ip,
                text(file.path.as_bytes()),
                if req.cookie { "RFC 1048 options" } else { "no cookie in the request: 64 zero vend octets" }
            ),
        );
        self.send_reply(rx, kind, Rules::Bootp, binding.ip, &payload)
    }

    /// Whether `sname` names this server.
    fn sname_is_ours(&self, sname: &[u8]) -> bool {
        let Ok(s) = core::str::from_utf8(sname) else {
            return false;
        };
        let s = s.strip_suffix('.').unwrap_or(s);
        let name = &self.site.server.name;
        if s.eq_ignore_ascii_case(name) {
            return true;
        }
        match s.split_once('.') {
            Some((host, domain)) => {
                host.eq_ignore_ascii_case(name)
                    && !self.site.domain.is_empty()
                    && domain.eq_ignore_ascii_case(&self.site.domain)
            }
            None => false,
        }
    }

    /// RFC 951 §7.3 (and RFC 1534 §2): who the BOOTP client is, or `None` (logged).
    fn bootp_binding(&mut self, now: core::time::Duration, req: &Request<'_>) -> Option<Binding> {
        let pkt = &req.pkt;
        let Some(mac) = req.mac() else {
            self.discard(
                now,
                Kind::Bootp,
                DropReason::UnknownClient,
                "RFC951 §7.3",
                format!(
                    "xid {:#010x}: htype {} hlen {} is not in our database (Ethernet only): discarded",
                    pkt.xid(),
                    pkt.htype(),
                    pkt.hlen()
                ),
            );
            return None;
        };
        if let Some(b) = self.static_binding(&mac) {
            return Some(b);
        }
        if !self.config.dynamic_bootp {
            self.discard(
                now,
                Kind::Bootp,
                DropReason::UnknownClient,
                "RFC951 §7.3",
                format!(
                    "xid {:#010x}: chaddr {} is not in our database: discarded (RFC 1534 §2 automatic addresses for BOOTP clients: off)",
                    pkt.xid(),
                    crate::mac_str(&mac)
                ),
            );
            return None;
        }
        match self.automatic_address(&mac) {
            Some(ip) => {
                self.note(
                    now,
                    Kind::Bootp,
                    "RFC1534 §2",
                    format!(
                        "chaddr {} not in the host table: automatic address {ip}, infinite lease",
                        crate::mac_str(&mac)
                    ),
                );
                Some(Binding {
                    ip,
                    hostname: None,
                    bootfile: String::new(),
                    label: format!("automatic binding {}", crate::mac_str(&mac)),
                })
            }
            None => {
                self.discard(
                    now,
                    Kind::Bootp,
                    DropReason::PoolExhausted,
                    "RFC1534 §2",
                    format!(
                        "chaddr {} not in the host table and the pool is exhausted: discarded",
                        crate::mac_str(&mac)
                    ),
                );
                None
            }
        }
    }

    /// The host-table entry for `mac`.
    pub(crate) fn static_binding(&self, mac: &[u8]) -> Option<Binding> {
        self.site.client_by_mac(mac).map(|(name, c)| Binding {
            ip: c.ip,
            hostname: Some(c.hostname.clone()),
            bootfile: c.bootfile.clone(),
            label: format!("client {name}"),
        })
    }

    /// RFC 1534 §2: the automatic address bound to `mac`, binding a free pool address
    /// on first use. Free: not bound, not a host-table address, not a site address.
    fn automatic_address(&mut self, mac: &[u8; 6]) -> Option<Ipv4Addr> {
        if let Some(ip) = self.dynamic.get(mac) {
            return Some(*ip);
        }
        let site = &self.site;
        let taken = |ip: Ipv4Addr| {
            ip == site.server.ip
                || ip == site.router
                || ip == site.relay.ip
                || ip == site.relay.uplink
                || ip == site.subnet.network()
                || ip == site.broadcast()
                || site.dns.contains(&ip)
                || site.clients.values().any(|c| c.ip == ip)
                || self.dynamic.values().any(|d| *d == ip)
        };
        let (start, end) = (u32::from(site.pool.start), u32::from(site.pool.end));
        let ip = (start..=end).map(Ipv4Addr::from).find(|ip| !taken(*ip))?;
        self.dynamic.insert(*mac, ip);
        Some(ip)
    }

    /// RFC 951 §7.3: the boot file for the reply, or `None` (discarded and logged).
    pub(crate) fn boot_file(
        &mut self,
        now: core::time::Duration,
        kind: Kind,
        req: &Request<'_>,
        binding: &Binding,
    ) -> Option<BootFile> {
        let xid = req.pkt.xid();
        let (key, size) = if req.file.is_empty() {
            let name =
                if binding.bootfile.is_empty() { self.site.boot.default.clone() } else { binding.bootfile.clone() };
            let size = self.site.files.get(&name).map(|f| f.size);
            (name, size)
        } else {
            match paths::lookup(&self.site, req.file) {
                Lookup::Found { key, size } => (key, Some(size)),
                Lookup::Outside | Lookup::Missing => {
                    self.discard(
                        now,
                        kind,
                        DropReason::NoSuchBootFile,
                        "RFC951 §7.3",
                        format!(
                            "xid {xid:#010x}: file {} matches no boot file: \"the client is asking for a file we dont have; discard the packet\"",
                            text(req.file)
                        ),
                    );
                    return None;
                }
            }
        };
        let path = if self.faults.has(Fault::RelativeBootfile) {
            self.note(
                now,
                kind,
                "fault",
                format!("relative-bootfile: file {} instead of the full path", text(key.as_bytes())),
            );
            key
        } else {
            self.site.full_path(&key)
        };
        if path.len() >= 128 || path.as_bytes().contains(&0) {
            self.discard(
                now,
                kind,
                DropReason::CannotReply,
                "RFC951 §3",
                format!("xid {xid:#010x}: boot file path {} does not fit the 128-octet file field with its NUL: not answered", text(path.as_bytes())),
            );
            return None;
        }
        Some(BootFile { path, size })
    }

    /// RFC 1497 / RFC 2132 §3 configuration for a client, in the server's default
    /// order: 1 subnet mask, 3 router, 6 DNS, 12 host name, 13 boot file size, 15
    /// domain name. Clients on the relay's subnet get its mask, and the relay as router.
    pub(crate) fn config_params(&self, binding: &Binding, file_size: Option<u64>) -> Vec<Opt> {
        let site = &self.site;
        let (mask, router) = if site.subnet.contains(&binding.ip) {
            (site.netmask(), Some(site.router))
        } else if site.relay.subnet.contains(&binding.ip) {
            (site.relay.subnet.netmask(), Some(site.relay.ip))
        } else {
            (site.netmask(), None)
        };
        let mut v: Vec<Opt> = vec![(code::SUBNET_MASK, mask.octets().to_vec())];
        if let Some(r) = router {
            v.push((code::ROUTER, r.octets().to_vec()));
        }
        if !site.dns.is_empty() {
            v.push((code::DOMAIN_NAME_SERVER, site.dns.iter().flat_map(|a| a.octets()).collect()));
        }
        if let Some(h) = binding.hostname.as_deref().filter(|h| !h.is_empty()) {
            v.push((code::HOST_NAME, h.as_bytes().to_vec()));
        }
        // RFC 2132 §3.15: the size in 512-octet blocks, two octets.
        if let Some(blocks) = file_size.map(|s| s.div_ceil(512)).and_then(|b| u16::try_from(b).ok()) {
            v.push((code::BOOT_FILE_SIZE, blocks.to_be_bytes().to_vec()));
        }
        if !site.domain.is_empty() {
            v.push((code::DOMAIN_NAME, site.domain.as_bytes().to_vec()));
        }
        v
    }

    /// The vend/options field of a reply.
    ///
    /// `mandatory` options go first, then `params` with those named in the request's
    /// parameter request list first, in its order (RFC 2132 §9.8). Options that would
    /// not fit in `budget` octets (cookie and End included) are left out and logged.
    /// The field is padded with zeros to 64 octets (a 300-octet message). Without a
    /// cookie in a BOOTP request, the field is 64 zero octets.
    pub(crate) fn vend(
        &mut self,
        now: core::time::Duration,
        kind: Kind,
        req: &Request<'_>,
        mandatory: &[Opt],
        mut params: Vec<Opt>,
        budget: usize,
    ) -> Vec<u8> {
        let short = self.faults.has(Fault::ShortReply);
        if !req.cookie {
            // RFC 951 §7.3: no recognised vend format, nothing to say in it.
            return if short { Vec::new() } else { vec![0; RFC951_VEND_LEN] };
        }
        let prl = req.prl();
        // What fits is decided in priority order (the mandatory options first), what
        // is sent in wire order: the options the parameter request list names in its
        // order, mandatory ones included (RFC 2132 §9.8), after the mandatory ones it
        // does not name and before the other parameters.
        let rank = |c: u8, mandatory: bool| match prl.iter().position(|p| *p == c) {
            Some(i) => (1, i),
            None if mandatory => (0, 0),
            None => (2, 0),
        };
        // RFC 3046 §2.2: the relay agent's option 82, echoed whole, as the last option.
        // It comes right after the mandatory options in priority (a parameter is left
        // out before it is), and after everything on the wire, whatever the list says.
        let echo = req.agent_option().filter(|_| {
            let off = self.faults.has(Fault::NoAgentOptionEcho);
            if off {
                self.note(now, kind, "fault", "no-agent-option-echo: the relay agent's option 82 is not echoed");
            }
            !off
        });
        // (wire rank, priority index, option)
        let mut all: Vec<((usize, usize), usize, Opt)> = mandatory
            .iter()
            .map(|o| (rank(o.0, true), o.clone()))
            .chain(echo.map(|data| ((3, 0), (code::RELAY_AGENT_INFO, data))))
            .chain(params.drain(..).map(|o| (rank(o.0, false), o)))
            .enumerate()
            .map(|(i, (r, o))| (r, i, o))
            .collect();
        // Decide what fits, in priority order.
        let mut room = budget.saturating_sub(MAGIC_COOKIE.len() + 1);
        let mut left_out = Vec::new();
        all.retain(|(_, _, (c, data))| {
            let need = data.len().div_ceil(255).max(1) * 2 + data.len();
            if need > room {
                left_out.push(*c);
                false
            } else {
                room -= need;
                true
            }
        });
        all.sort_by_key(|(r, i, _)| (*r, *i));
        let mut wire: Vec<Opt> = all.into_iter().map(|(_, _, o)| o).collect();
        // RFC 2132 §3.3 (RFC 1497): the subnet mask MUST precede the router, whatever
        // order the client asked in.
        if let (Some(m), Some(r)) =
            (wire.iter().position(|(c, _)| *c == code::SUBNET_MASK), wire.iter().position(|(c, _)| *c == code::ROUTER))
        {
            if r < m {
                let mask = wire.remove(m);
                wire.insert(r, mask);
            }
        }
        let mut out = Vec::with_capacity(budget);
        if self.faults.has(Fault::NoCookie) {
            self.note(now, kind, "fault", "no-cookie: vend options without the RFC 1048 magic cookie");
        } else {
            out.extend_from_slice(&MAGIC_COOKIE);
        }
        for (c, data) in &wire {
            options::emit_option(&mut out, *c, data);
        }
        if left_out.contains(&code::RELAY_AGENT_INFO) {
            self.note(
                now,
                kind,
                "RFC3046 §2.2",
                "the relay agent information option (82) does not fit whole: the reply goes without it",
            );
            left_out.retain(|c| *c != code::RELAY_AGENT_INFO);
        } else if wire.iter().any(|(c, _)| *c == code::RELAY_AGENT_INFO) {
            self.note(now, kind, "RFC3046 §2.2", "the relay agent information option (82) echoed, last");
        }
        if !left_out.is_empty() {
            self.note(
                now,
                kind,
                "RFC1534 §2",
                format!("options {left_out:?} left out: they do not fit in the {budget}-octet options field"),
            );
        }
        if self.faults.has(Fault::NoEndOption) {
            self.note(now, kind, "fault", "no-end-option: option area not terminated by End");
        } else {
            out.push(options::END);
        }
        if short {
            self.note(
                now,
                kind,
                "fault",
                format!("short-reply: BOOTREPLY of {} octets, not padded to 300", HEADER_LEN + out.len()),
            );
        } else if out.len() < RFC951_VEND_LEN {
            out.resize(RFC951_VEND_LEN, options::PAD);
        }
        out
    }

    /// The BOOTREPLY octets for `req`: header from `hdr` and the request, then `vend`.
    pub(crate) fn reply(&self, req: &Packet<&[u8]>, hdr: &Header, vend: &[u8]) -> Vec<u8> {
        let f = &self.faults;
        let mut buf = vec![0u8; HEADER_LEN + vend.len()];
        let mut r = Packet::new_unchecked(&mut buf[..]);
        r.set_op(if f.has(Fault::WrongOp) { Op::BOOTREQUEST } else { Op::BOOTREPLY });
        r.set_htype(req.htype());
        r.set_hlen(req.hlen());
        r.set_hops(0);
        r.set_xid(if f.has(Fault::WrongXid) { req.xid().wrapping_add(1) } else { req.xid() });
        r.set_secs(0);
        r.set_flags(hdr.flags);
        r.set_ciaddr(if f.has(Fault::ClearCiaddr) { Ipv4Addr::UNSPECIFIED } else { hdr.ciaddr });
        r.set_yiaddr(hdr.yiaddr);
        r.set_siaddr(if f.has(Fault::NoSiaddr) { Ipv4Addr::UNSPECIFIED } else { hdr.siaddr });
        r.set_giaddr(req.giaddr());
        let mut chaddr = [0u8; 16];
        for (d, s) in chaddr.iter_mut().zip(req.chaddr_field()) {
            *d = *s;
        }
        if f.has(Fault::WrongChaddr) {
            let last = usize::from(req.hlen()).clamp(1, 16) - 1;
            if let Some(b) = chaddr.get_mut(last) {
                *b ^= 0xff;
            }
        }
        r.set_chaddr(&chaddr);
        let mut sname = [0u8; 64];
        if hdr.sname {
            let name = self.site.server.name.as_bytes();
            if f.has(Fault::SnameNotTerminated) {
                sname.fill(b' ');
            }
            if name.len() < sname.len() && !name.contains(&0) {
                for (d, s) in sname.iter_mut().zip(name) {
                    *d = *s;
                }
            }
        }
        r.set_sname(&sname);
        let mut file = [0u8; 128];
        if let Some(path) = &hdr.file {
            for (d, s) in file.iter_mut().zip(path.as_bytes()) {
                *d = *s;
            }
        }
        r.set_file(&file);
        for (d, s) in r.vend_mut().iter_mut().zip(vend) {
            *d = *s;
        }
        buf
    }

    /// Route, frame and count one BOOTREPLY.
    pub(crate) fn send_reply(
        &mut self,
        rx: &Rx<'_>,
        kind: Kind,
        rules: Rules,
        yiaddr: Ipv4Addr,
        payload: &[u8],
    ) -> Vec<Vec<u8>> {
        let req = Packet::new_unchecked(rx.payload);
        let on_link = self.site.subnet.contains(&req.ciaddr());
        let Some(Route { mac, ip, port, clause, why }) =
            deliver::route(rules, &req, rx.src_mac, on_link, yiaddr, &self.faults)
        else {
            return self.discard(rx.now, kind, DropReason::CannotReply, "RFC1542 §5.4", "no destination for the reply");
        };
        if self.faults.has(Fault::IgnoreGiaddr) && req.giaddr() != Ipv4Addr::UNSPECIFIED {
            self.note(rx.now, kind, "fault", format!("ignore-giaddr: giaddr {} ignored for delivery", req.giaddr()));
        }
        let server = &self.site.server;
        let frame = deliver::udp_frame(
            server.mac.0,
            server.ip,
            bootcheck_wire::bootp::SERVER_PORT,
            mac,
            ip,
            port,
            payload,
            &self.faults,
        );
        match frame {
            Some(f) => {
                self.note(rx.now, kind, clause, why);
                self.sent(kind, vec![f])
            }
            None => self.discard(rx.now, kind, DropReason::CannotReply, "RFC768", "reply too large for a UDP datagram"),
        }
    }
}
