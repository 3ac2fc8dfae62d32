//! ARP (RFC 826) for the server's own address, so that clients and relays can resolve
//! it, and RARP (RFC 903) for the clients in the host table.
//!
//! ARP, per RFC 826 "Packet Reception": Ethernet (ar$hrd 1, ar$hln 6) and IPv4
//! (ar$pro 0x0800, ar$pln 4) only; a request whose target protocol address is ours is
//! answered by swapping the sender and target fields, putting our addresses in the
//! sender fields, setting ar$op to REPLY, and sending it to the (new) target hardware
//! address. The translation table merge is not needed: the server never ARPs (see
//! `deliver.rs`). Everything else is ignored.
//!
//! RARP, per RFC 903 §III: its own EtherType (0x8035); op 3 ("request reverse") asks
//! for the protocol address of ar$tha. For a host-table client the reply (op 4) has
//! ar$sha/ar$spa = the server, ar$tha = the target as given, ar$tpa = the client's
//! address, and goes to the requester (ar$sha of the request). Unknown targets get
//! nothing ("there are no 'not found' or 'error' packets"). Ops 1 and 2 under the RARP
//! EtherType "may be passed on to regular ARP code", and are.

use core::time::Duration;

use bootcheck_wire::arp::{EthernetIpv4, Operation, Repr};
use bootcheck_wire::frame::{self, Frame, Net};

use crate::report::{DropReason, Kind};
use crate::{mac_str, Server};

impl Server {
    pub(crate) fn handle_arp(&mut self, now: Duration, f: &Frame<'_>) -> Vec<Vec<u8>> {
        let Some(p) = self.arp_body(now, Kind::Arp, f) else {
            return Vec::new();
        };
        if p.operation.is_rarp() {
            return self.discard(
                now,
                Kind::Arp,
                DropReason::ArpIgnored,
                "RFC903 §III",
                format!("RARP {} under the ARP EtherType (RARP has its own): ignored", p.operation),
            );
        }
        self.arp_request(now, Kind::Arp, &p)
    }

    pub(crate) fn handle_rarp(&mut self, now: Duration, f: &Frame<'_>) -> Vec<Vec<u8>> {
        let Some(p) = self.arp_body(now, Kind::Rarp, f) else {
            return Vec::new();
        };
        match p.operation {
            Operation::RarpRequest => {}
            Operation::Request | Operation::Reply => {
                self.note(
                    now,
                    Kind::Rarp,
                    "RFC903 §III",
                    format!("ARP {} under the RARP EtherType: passed on to ARP", p.operation),
                );
                return self.arp_request(now, Kind::Rarp, &p);
            }
            other => {
                return self.discard(
                    now,
                    Kind::Rarp,
                    DropReason::ArpIgnored,
                    "RFC903 §III",
                    format!("RARP {other}: only 'request reverse' (3) is for a server: ignored"),
                );
            }
        }
        let Some(client) = self.site.client_by_mac(&p.tha).map(|(n, c)| (n.to_string(), c.ip)) else {
            return self.discard(
                now,
                Kind::Rarp,
                DropReason::RarpUnknown,
                "RFC903 §III",
                format!(
                    "RARP request for {}: not in the host table; RARP has no 'not found' packet: silent",
                    mac_str(&p.tha)
                ),
            );
        };
        if p.sha[0] & 1 != 0 {
            return self.discard(
                now,
                Kind::Rarp,
                DropReason::ArpIgnored,
                "RFC903 §III",
                "RARP request from a group hardware address: ignored",
            );
        }
        let server = &self.site.server;
        let reply = EthernetIpv4::rarp_reply(server.mac.0, server.ip, p.tha, client.1);
        let out = frame::build_ethernet(server.mac.0, p.sha, frame::ETHERTYPE_RARP, &reply.to_vec());
        self.note(
            now,
            Kind::Rarp,
            "RFC903 §III",
            format!("RARP reply to {}: {} (client {}) is at {}", mac_str(&p.sha), mac_str(&p.tha), client.0, client.1),
        );
        self.sent(Kind::Rarp, vec![out])
    }

    /// Parse an ARP/RARP body as Ethernet/IPv4, or log and count why not.
    fn arp_body(&mut self, now: Duration, kind: Kind, f: &Frame<'_>) -> Option<EthernetIpv4> {
        self.stats.request(kind);
        let Net::Arp { body, .. } = f.net else {
            self.discard(now, kind, DropReason::ArpIgnored, "RFC826", "no ARP body: ignored");
            return None;
        };
        let repr = match Repr::parse_bytes(body) {
            Ok(r) => r,
            Err(e) => {
                self.discard(now, kind, DropReason::ArpIgnored, "RFC826", format!("malformed ({e}): ignored"));
                return None;
            }
        };
        match repr.to_ethernet_ipv4() {
            Some(p) => Some(p),
            None => {
                self.discard(
                    now,
                    kind,
                    DropReason::ArpIgnored,
                    "RFC826",
                    format!(
                        "htype {} / ptype {:#06x} / hlen {} / plen {}: not Ethernet/IPv4: ignored",
                        repr.hardware_type,
                        repr.protocol_type,
                        repr.sha.len(),
                        repr.spa.len()
                    ),
                );
                None
            }
        }
    }

    /// RFC 826 "Packet Reception" for an ARP request or reply.
    fn arp_request(&mut self, now: Duration, kind: Kind, p: &EthernetIpv4) -> Vec<Vec<u8>> {
        let server = &self.site.server;
        if p.tpa != server.ip {
            return self.discard(
                now,
                kind,
                DropReason::ArpIgnored,
                "RFC826",
                format!("ARP {} for {}, not us: ignored", p.operation, p.tpa),
            );
        }
        if p.operation != Operation::Request {
            return self.discard(
                now,
                kind,
                DropReason::ArpIgnored,
                "RFC826",
                format!("ARP {} to us: nothing to answer", p.operation),
            );
        }
        if p.sha[0] & 1 != 0 {
            return self.discard(
                now,
                kind,
                DropReason::ArpIgnored,
                "RFC826",
                "ARP request from a group hardware address: ignored",
            );
        }
        let reply = EthernetIpv4::reply(server.mac.0, server.ip, p.sha, p.spa);
        let out = frame::build_ethernet(server.mac.0, p.sha, frame::ETHERTYPE_ARP, &reply.to_vec());
        self.note(
            now,
            kind,
            "RFC826",
            format!("ARP reply to {} ({}): {} is at {}", p.spa, mac_str(&p.sha), server.ip, server.mac),
        );
        self.sent(kind, vec![out])
    }
}
