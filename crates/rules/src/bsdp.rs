//! Apple BSDP (NetBoot 2.0): what a BSDP server's reply to a BSDP request must be
//! (clauses in `clauses/bsdp.yaml`, sections of the BSDP summary the suite is written
//! against).
//!
//! A request is a **BSDP request** when it is a DHCPINFORM whose option 60 is a valid
//! client vendor class (`AAPLBSDPC/<arch>/<system-id>`, §2). It is a **valid** one when
//! Apple bootpd would answer it (§6.5): Ethernet, option 43 that parses, a known
//! version, ciaddr set, message type LIST or SELECT, a reply port under 1024, a SELECT
//! with a server identifier. A reply is a **BSDP reply** when it carries option 43 or
//! an option 60 starting with `AAPLBSDPC`; a plain DHCPACK (a DHCP server that does not
//! speak BSDP) is not one, and the rules then do not apply.
//!
//! The content rules apply to a BSDP reply to a valid BSDP request; the silence rules
//! fail when a BSDP reply answers a request that must get none (an invalid one, a
//! SELECT naming another server, a request that is not BSDP).

use std::net::Ipv4Addr;

use bootcheck_wire::bootp::{field, Packet as Bootp, CLIENT_PORT, SERVER_PORT};
use bootcheck_wire::bsdp::{self, code as sub, BootImageId, JoinedInstances, MessageType as M, Repr, VendorClass};
use bootcheck_wire::options::code;

use crate::{fail, ip, Check, Level, Msg, Pair, Rule, Verdict};

pub static RULES: &[Rule] = &[
    Rule {
        id: "bsdp/1/reply-is-dhcpack",
        level: Level::Must,
        clauses: &["bsdp/1/inform-answered-with-ack"],
        summary: "A BSDP reply to a BSDP DHCPINFORM is a DHCPACK (option 53 = 5)",
        check: Check::Reply(reply_is_dhcpack),
    },
    Rule {
        id: "bsdp/2/server-vendor-class",
        level: Level::Must,
        clauses: &["bsdp/2/every-packet-option-60", "bsdp/2/server-vendor-class"],
        summary: "A BSDP reply carries option 60 = exactly AAPLBSDPC",
        check: Check::Reply(server_vendor_class),
    },
    Rule {
        id: "bsdp/1/option-43-well-formed",
        level: Level::Must,
        clauses: &["bsdp/1/option-43-encapsulated", "bsdp/4/message-type-in-every-message"],
        summary: "A BSDP reply's option 43 (instances joined) parses as BSDP sub-options and has a message type of 1, 2 or 3",
        check: Check::Reply(option_43_well_formed),
    },
    Rule {
        id: "bsdp/1/instances-at-boundaries",
        level: Level::Should,
        clauses: &["bsdp/1/option-43-instances-at-boundaries", "bsdp/6.4/image-list-split"],
        summary: "No BSDP sub-option straddles two option-43 instances",
        check: Check::Reply(instances_at_boundaries),
    },
    Rule {
        id: "bsdp/3/message-type-answers",
        level: Level::Must,
        clauses: &["bsdp/3/list-answered-with-list", "bsdp/3/select-answered-with-select-or-failed"],
        summary: "INFORM[LIST] is answered with ACK[LIST], INFORM[SELECT] with ACK[SELECT] or ACK[FAILED]",
        check: Check::Reply(message_type_answers),
    },
    Rule {
        id: "bsdp/6.1/server-identifier",
        level: Level::Must,
        clauses: &["bsdp/6.1/list-reply-options", "bsdp/6.1/ack-failed"],
        summary: "A BSDP reply carries option 54, the server's address (the reply's IP source)",
        check: Check::Reply(server_identifier),
    },
    Rule {
        id: "bsdp/4/server-priority",
        level: Level::Must,
        clauses: &["bsdp/4/server-priority-in-list"],
        summary: "An ACK[LIST] carries the server priority (sub-option 4)",
        check: Check::Reply(server_priority),
    },
    Rule {
        id: "bsdp/4/default-image",
        level: Level::Must,
        clauses: &["bsdp/4/default-image-in-list"],
        summary: "An ACK[LIST] carries the default boot image ID (sub-option 7)",
        check: Check::Reply(default_image),
    },
    Rule {
        id: "bsdp/4/image-list",
        level: Level::Must,
        clauses: &["bsdp/4/image-list-in-list", "bsdp/6.1/list-every-server-replies"],
        summary: "An ACK[LIST] to a client at version 0x0101 or later carries a boot image list (sub-option 9) with at least one image",
        check: Check::Reply(image_list_present),
    },
    Rule {
        id: "bsdp/4/image-list-format",
        level: Level::Must,
        clauses: &["bsdp/4/image-list-format"],
        summary: "Every boot image list entry is whole (4-octet ID, length, name) and its name is UTF-8 without NUL",
        check: Check::Reply(image_list_format),
    },
    Rule {
        id: "bsdp/4/image-list-version",
        level: Level::MustNot,
        clauses: &["bsdp/4/image-list-for-v1.1"],
        summary: "The ACK[LIST] to a client at a version below 0x0101 has no boot image list",
        check: Check::Reply(image_list_version),
    },
    Rule {
        id: "bsdp/5/no-null-image",
        level: Level::MustNot,
        clauses: &["bsdp/5/null-image-never-sent"],
        summary: "No boot image ID in a reply (sub-options 7, 8, 9) has index 0, the null image",
        check: Check::Reply(no_null_image),
    },
    Rule {
        id: "bsdp/4/filter-applied",
        level: Level::Should,
        clauses: &["bsdp/4/filter-removes-images"],
        summary: "With an image attributes filter in the INFORM[LIST], every image ID in the ACK[LIST] has attributes in the filter",
        check: Check::Reply(filter_applied),
    },
    Rule {
        id: "bsdp/4/reply-port",
        level: Level::Must,
        clauses: &["bsdp/4/reply-port-honoured", "bsdp/6.4/reply-to-ciaddr"],
        summary: "The reply to a request with a reply port (sub-option 5) goes to that UDP port",
        check: Check::Reply(reply_port),
    },
    Rule {
        id: "bsdp/6.4/to-ciaddr",
        level: Level::Must,
        clauses: &["bsdp/6.4/reply-to-ciaddr"],
        summary: "A BSDP reply goes by unicast to the request's ciaddr, from UDP port 67",
        check: Check::Reply(to_ciaddr),
    },
    Rule {
        id: "bsdp/6.1/list-header",
        level: Level::Must,
        clauses: &["bsdp/6.1/list-reply-header"],
        summary: "An ACK[LIST] has yiaddr 0.0.0.0, the server's address in siaddr and an empty file",
        check: Check::Reply(list_header),
    },
    Rule {
        id: "bsdp/6.1/select-boot-file",
        level: Level::Must,
        clauses: &["bsdp/6.1/ack-select-header"],
        summary: "An ACK[SELECT] names the boot file in file and the TFTP server in siaddr",
        check: Check::Reply(select_boot_file),
    },
    Rule {
        id: "bsdp/6.1/select-root-path",
        level: Level::Must,
        clauses: &["bsdp/6.1/ack-select-root-path"],
        summary: "An ACK[SELECT] carries the image's URL in the root path option 17",
        check: Check::Reply(select_root_path),
    },
    Rule {
        id: "bsdp/6.1/select-image-echoed",
        level: Level::Must,
        clauses: &["bsdp/4/selected-image-in-select", "bsdp/6.1/ack-select-sub-options", "bsdp/5/whole-id"],
        summary: "An ACK[SELECT] carries the selected boot image ID (sub-option 8), the very ID the INFORM[SELECT] named",
        check: Check::Reply(select_image_echoed),
    },
    Rule {
        id: "bsdp/6.1/failed-message",
        level: Level::Must,
        clauses: &["bsdp/6.1/ack-failed"],
        summary: "An ACK[FAILED]'s option 43 holds only the message type, and its file is empty",
        check: Check::Reply(failed_message),
    },
    Rule {
        id: "bsdp/6.4/min-size",
        level: Level::Should,
        clauses: &["bsdp/6.4/min-size"],
        summary: "A BSDP reply's BOOTP message is at least 300 octets",
        check: Check::Reply(min_size),
    },
    Rule {
        id: "bsdp/6.4/max-size",
        level: Level::Must,
        clauses: &["bsdp/6.4/max-size"],
        summary: "A BSDP reply's IP datagram is no larger than the request's maximum (sub-option 12, else option 57, else 576)",
        check: Check::Reply(max_size),
    },
    Rule {
        id: "bsdp/6.1/select-other-server",
        level: Level::MustNot,
        clauses: &["bsdp/6.1/select-other-server-silent", "bsdp/6.5/drop-select-other-server"],
        summary: "An INFORM[SELECT] naming another server gets no BSDP reply",
        check: Check::Reply(select_other_server),
    },
    Rule {
        id: "bsdp/6.5/invalid-request-silent",
        level: Level::ShouldNot,
        clauses: &[
            "bsdp/4/version-required",
            "bsdp/4/reply-port-limit",
            "bsdp/6.5/drop-not-ethernet",
            "bsdp/6.5/drop-bad-option-43",
            "bsdp/6.5/drop-bad-version",
            "bsdp/6.5/drop-no-ciaddr",
            "bsdp/6.5/drop-bad-message-type",
            "bsdp/6.5/drop-high-reply-port",
            "bsdp/6.5/drop-select-without-server-id",
        ],
        summary: "A BSDP request Apple bootpd drops (not Ethernet, bad option 43, no or unknown version, ciaddr 0, no or unknown message type, reply port ≥ 1024, SELECT without server identifier) gets no BSDP reply",
        check: Check::Reply(invalid_request_silent),
    },
    Rule {
        id: "bsdp/2/not-bsdp-not-answered",
        level: Level::ShouldNot,
        clauses: &["bsdp/2/invalid-vendor-class-not-bsdp", "bsdp/6.5/drop-bad-vendor-class"],
        summary: "A request whose option 60 is missing or not a valid BSDP client vendor class gets no BSDP reply (option 60 AAPLBSDPC)",
        check: Check::Reply(not_bsdp_not_answered),
    },
];

/// What a BSDP request asks.
struct Ask {
    message: Option<M>,
    version: Option<u16>,
    server_id: Option<Ipv4Addr>,
    image: Option<BootImageId>,
    reply_port: Option<u16>,
    max_size: Option<u16>,
    filter: Option<Vec<u16>>,
    /// Why Apple bootpd would drop it (§6.5), if it would.
    invalid: Option<String>,
}

/// The request as a BSDP request: a DHCPINFORM with a valid client vendor class.
fn ask(m: &Msg<'_>) -> Option<Ask> {
    let q = m.bootp.as_ref()?;
    if q.message_type().map(|t| t.to_u8()) != Some(8) {
        return None;
    }
    let vc = q.aggregate(bsdp::OPTION_VENDOR_CLASS)?;
    if !matches!(VendorClass::parse(&vc), Ok(VendorClass::Client { .. })) {
        return None;
    }
    let data = q.aggregate(bsdp::OPTION_VENDOR_SPECIFIC);
    let parsed = data.as_deref().map(Repr::parse);
    let r = match &parsed {
        Some(Ok(r)) => Some(r),
        _ => None,
    };
    let mut a = Ask {
        message: r.and_then(Repr::message_type),
        version: r.and_then(|r| r.version()).map(|v| v.0),
        server_id: r.and_then(Repr::server_id),
        image: r.and_then(Repr::selected_image),
        reply_port: r.and_then(Repr::reply_port),
        max_size: r.and_then(Repr::max_message_size),
        filter: r.and_then(Repr::attributes_filter).map(|f| f.iter().collect()),
        invalid: None,
    };
    a.invalid = if q.htype() != 1 || q.hlen() != 6 {
        Some(format!("htype {} hlen {}", q.htype(), q.hlen()))
    } else {
        match &parsed {
            None => Some("no option 43".into()),
            Some(Err(e)) => Some(format!("option 43 does not parse ({e})")),
            Some(Ok(_)) if !a.version.is_some_and(|v| matches!(v, 0x0000 | 0x0100 | 0x0101)) => {
                Some(a.version.map_or("no version".into(), |v| format!("version {v:#06x}")))
            }
            Some(Ok(_)) if q.ciaddr().is_unspecified() => Some("ciaddr 0.0.0.0".into()),
            Some(Ok(_)) if !matches!(a.message, Some(M::List | M::Select)) => {
                Some(a.message.map_or("no message type".into(), |t| format!("message type {t}")))
            }
            Some(Ok(_)) if a.reply_port.is_some_and(|p| p >= 1024) => {
                Some(format!("reply port {}", a.reply_port.unwrap_or(0)))
            }
            Some(Ok(_)) if a.message == Some(M::Select) && a.server_id.is_none() => {
                Some("SELECT without a server identifier".into())
            }
            Some(Ok(_)) => None,
        }
    };
    Some(a)
}

/// Whether a reply carries BSDP content (option 43, or option 60 starting AAPLBSDPC).
fn is_bsdp_reply(r: &Bootp<&[u8]>) -> bool {
    r.aggregate(bsdp::OPTION_VENDOR_SPECIFIC).is_some()
        || r.aggregate(bsdp::OPTION_VENDOR_CLASS).is_some_and(|v| v.starts_with(bsdp::VENDOR_CLASS_PREFIX))
}

/// A valid BSDP request and a BSDP reply to it: the content rules apply.
fn valid<'p>(p: &'p Pair<'_>) -> Option<(Ask, &'p Bootp<&'p [u8]>)> {
    let a = ask(p.request)?;
    let r = p.reply.bootp.as_ref()?;
    (a.invalid.is_none() && is_bsdp_reply(r)).then_some((a, r))
}

/// The reply's option 43, joined and parsed leniently.
fn joined(r: &Bootp<&[u8]>) -> Option<Vec<u8>> {
    r.aggregate(bsdp::OPTION_VENDOR_SPECIFIC).map(|c| c.into_owned())
}

/// The reply's BSDP message type.
fn reply_type(r: &Bootp<&[u8]>) -> Option<M> {
    let data = joined(r)?;
    Repr::parse_lenient(&data).0.message_type()
}

/// Frame offset of the first instance of option `c` in the reply, else of the options.
fn at_option(p: &Pair<'_>, c: u8) -> Option<usize> {
    let r = p.reply.bootp.as_ref()?;
    let off = r.find(c).map_or(field::OPTIONS.start, |o| o.offset);
    p.reply.at_field(off)
}

fn reply_is_dhcpack(p: &Pair<'_>) -> Verdict {
    let Some((_, r)) = valid(p) else { return Verdict::NotApplicable };
    match r.message_type().map(|t| t.to_u8()) {
        Some(5) => Verdict::Pass,
        Some(t) => fail(p.reply, at_option(p, code::MESSAGE_TYPE), "reply option 53", "5 (DHCPACK)", t),
        None => fail(p.reply, at_option(p, code::MESSAGE_TYPE), "reply option 53", "5 (DHCPACK)", "absent"),
    }
}

fn server_vendor_class(p: &Pair<'_>) -> Verdict {
    let Some((_, r)) = valid(p) else { return Verdict::NotApplicable };
    match r.aggregate(bsdp::OPTION_VENDOR_CLASS) {
        Some(v) if &*v == bsdp::VENDOR_CLASS_PREFIX => Verdict::Pass,
        Some(v) => fail(
            p.reply,
            at_option(p, bsdp::OPTION_VENDOR_CLASS),
            "reply option 60",
            "\"AAPLBSDPC\"",
            format!("{:?}", String::from_utf8_lossy(&v)),
        ),
        None => fail(p.reply, at_option(p, bsdp::OPTION_VENDOR_CLASS), "reply option 60", "\"AAPLBSDPC\"", "absent"),
    }
}

fn option_43_well_formed(p: &Pair<'_>) -> Verdict {
    let Some((_, r)) = valid(p) else { return Verdict::NotApplicable };
    let at = at_option(p, bsdp::OPTION_VENDOR_SPECIFIC);
    let Some(data) = joined(r) else {
        return fail(p.reply, at, "reply option 43", "BSDP sub-options", "absent");
    };
    match Repr::parse(&data) {
        Err(e) => fail(p.reply, at, "reply option 43", "well-formed BSDP sub-options", e),
        Ok(repr) => match repr.message_type() {
            Some(M::List | M::Select | M::Failed) => Verdict::Pass,
            Some(t) => fail(p.reply, at, "reply BSDP message type", "1, 2 or 3", t),
            None => fail(p.reply, at, "reply BSDP message type", "sub-option 1", "absent"),
        },
    }
}

fn instances_at_boundaries(p: &Pair<'_>) -> Verdict {
    let Some((_, r)) = valid(p) else { return Verdict::NotApplicable };
    let inst: Vec<&[u8]> =
        r.options().filter(|o| o.option.code == bsdp::OPTION_VENDOR_SPECIFIC).map(|o| o.option.data).collect();
    if inst.len() < 2 {
        return if inst.is_empty() { Verdict::NotApplicable } else { Verdict::Pass };
    }
    match JoinedInstances::join(inst).straddles().first() {
        None => Verdict::Pass,
        Some(s) => fail(
            p.reply,
            at_option(p, bsdp::OPTION_VENDOR_SPECIFIC),
            "reply option 43 instances",
            "each sub-option within one instance",
            format!("sub-option {} spans instances {} to {}", s.code, s.first_instance + 1, s.last_instance + 1),
        ),
    }
}

fn message_type_answers(p: &Pair<'_>) -> Verdict {
    let Some((a, r)) = valid(p) else { return Verdict::NotApplicable };
    // An unknown type is `bsdp/1/option-43-well-formed`'s.
    let Some(got) = reply_type(r).filter(|t| !matches!(t, M::Unknown(_))) else { return Verdict::NotApplicable };
    let ok = match a.message {
        Some(M::List) => got == M::List,
        Some(M::Select) => matches!(got, M::Select | M::Failed),
        _ => return Verdict::NotApplicable,
    };
    if ok {
        Verdict::Pass
    } else {
        let want = if a.message == Some(M::List) { "LIST (the request was LIST)" } else { "SELECT or FAILED" };
        fail(p.reply, at_option(p, bsdp::OPTION_VENDOR_SPECIFIC), "reply BSDP message type", want, got)
    }
}

fn server_identifier(p: &Pair<'_>) -> Verdict {
    let Some((_, r)) = valid(p) else { return Verdict::NotApplicable };
    let at = at_option(p, code::SERVER_ID);
    let Some(o) = r.find(code::SERVER_ID) else {
        return fail(p.reply, at, "reply option 54", "the server's address", "absent");
    };
    let Ok(b): Result<[u8; 4], _> = o.option.data.try_into() else {
        return fail(p.reply, at, "reply option 54", "4 octets", format!("{} octets", o.option.data.len()));
    };
    let sid = Ipv4Addr::from(b);
    match p.reply.src_ip() {
        Some(src) if src != sid => fail(p.reply, at, "reply option 54", format!("{src} (the reply's source)"), ip(sid)),
        _ if sid.is_unspecified() => fail(p.reply, at, "reply option 54", "the server's address", ip(sid)),
        _ => Verdict::Pass,
    }
}

/// The reply's BSDP sub-options, when it is an ACK of this type answering a request
/// it may answer (LIST a LIST, SELECT or FAILED a SELECT; a mismatch is
/// `bsdp/3/message-type-answers`' alone).
fn reply_of(p: &Pair<'_>, t: M) -> Option<(Ask, Vec<u8>)> {
    let (a, r) = valid(p)?;
    let asked = if t == M::List { M::List } else { M::Select };
    (reply_type(r) == Some(t) && a.message == Some(asked)).then(|| (a, joined(r).unwrap_or_default()))
}

fn list_sub_option(p: &Pair<'_>, c: u8, what: &str) -> Verdict {
    let Some((_, data)) = reply_of(p, M::List) else { return Verdict::NotApplicable };
    if Repr::parse_lenient(&data).0.find(c).is_some() {
        Verdict::Pass
    } else {
        fail(p.reply, at_option(p, bsdp::OPTION_VENDOR_SPECIFIC), format!("ACK[LIST] sub-option {c}"), what, "absent")
    }
}

fn server_priority(p: &Pair<'_>) -> Verdict {
    list_sub_option(p, sub::SERVER_PRIORITY, "the server priority")
}

fn default_image(p: &Pair<'_>) -> Verdict {
    // An attributes filter may remove the default image from sub-option 7 (§4).
    if ask(p.request).is_some_and(|a| a.filter.is_some()) {
        return Verdict::NotApplicable;
    }
    list_sub_option(p, sub::DEFAULT_BOOT_IMAGE_ID, "the default boot image ID")
}

fn image_list_present(p: &Pair<'_>) -> Verdict {
    let Some((a, data)) = reply_of(p, M::List) else { return Verdict::NotApplicable };
    if a.version.is_none_or(|v| v < 0x0101) {
        return Verdict::NotApplicable;
    }
    // Entries that do not parse are `bsdp/4/image-list-format`'s.
    let r = Repr::parse_lenient(&data).0;
    let n = r.image_lists().filter(|l| l.value_len() > 0).count();
    if n > 0 {
        Verdict::Pass
    } else {
        fail(
            p.reply,
            at_option(p, bsdp::OPTION_VENDOR_SPECIFIC),
            "ACK[LIST] sub-option 9",
            "at least one image",
            "none",
        )
    }
}

fn image_list_format(p: &Pair<'_>) -> Verdict {
    let Some((_, r)) = valid(p) else { return Verdict::NotApplicable };
    let Some(data) = joined(r) else { return Verdict::NotApplicable };
    let at = at_option(p, bsdp::OPTION_VENDOR_SPECIFIC);
    let mut any = false;
    for raw in bsdp::sub_options(&data).map_while(Result::ok).filter(|s| s.code == sub::BOOT_IMAGE_LIST) {
        any = true;
        let list = bsdp::BootImageList::new_unchecked(raw.value);
        if let Err(e) = list.check() {
            return fail(p.reply, at, "boot image list", "whole entries (ID, length, name)", e);
        }
        for img in list.iter().map_while(Result::ok) {
            if img.name.contains(&0) || std::str::from_utf8(img.name).is_err() {
                return fail(
                    p.reply,
                    at,
                    format!("boot image list entry {}", img.id),
                    "a UTF-8 name without NUL",
                    format!("{:?}", String::from_utf8_lossy(img.name)),
                );
            }
        }
    }
    if any {
        Verdict::Pass
    } else {
        Verdict::NotApplicable
    }
}

fn image_list_version(p: &Pair<'_>) -> Verdict {
    let Some((a, data)) = reply_of(p, M::List) else { return Verdict::NotApplicable };
    if a.version.is_none_or(|v| v >= 0x0101) {
        return Verdict::NotApplicable;
    }
    let r = Repr::parse_lenient(&data).0;
    if r.find(sub::BOOT_IMAGE_LIST).is_none() {
        Verdict::Pass
    } else {
        fail(
            p.reply,
            at_option(p, bsdp::OPTION_VENDOR_SPECIFIC),
            "ACK[LIST] sub-option 9",
            format!("absent (the client is at version {:#06x})", a.version.unwrap_or(0)),
            format!("{} image(s)", r.images().count()),
        )
    }
}

/// Every boot image ID of a reply: (where, ID).
fn ids(data: &[u8]) -> Vec<(&'static str, BootImageId)> {
    let r = Repr::parse_lenient(data).0;
    let mut v: Vec<(&'static str, BootImageId)> = Vec::new();
    v.extend(r.default_image().map(|i| ("default boot image ID", i)));
    v.extend(r.selected_image().map(|i| ("selected boot image ID", i)));
    v.extend(r.images().map(|i| ("boot image list entry", i.id)));
    v
}

fn no_null_image(p: &Pair<'_>) -> Verdict {
    let Some((_, r)) = valid(p) else { return Verdict::NotApplicable };
    let Some(data) = joined(r) else { return Verdict::NotApplicable };
    let all = ids(&data);
    if all.is_empty() {
        return Verdict::NotApplicable;
    }
    match all.iter().find(|(_, i)| i.is_null()) {
        None => Verdict::Pass,
        Some((what, id)) => {
            fail(p.reply, at_option(p, bsdp::OPTION_VENDOR_SPECIFIC), *what, "an index other than 0", id)
        }
    }
}

fn filter_applied(p: &Pair<'_>) -> Verdict {
    let Some((a, data)) = reply_of(p, M::List) else { return Verdict::NotApplicable };
    let Some(filter) = a.filter else { return Verdict::NotApplicable };
    match ids(&data).into_iter().find(|(_, i)| !filter.contains(&i.attributes())) {
        None => Verdict::Pass,
        Some((what, id)) => fail(
            p.reply,
            at_option(p, bsdp::OPTION_VENDOR_SPECIFIC),
            what,
            format!("attributes in the filter {filter:04x?}"),
            format!("{id} (attributes {:#06x})", id.attributes()),
        ),
    }
}

fn reply_port(p: &Pair<'_>) -> Verdict {
    let Some((a, _)) = valid(p) else { return Verdict::NotApplicable };
    let (Some(want), Some((_, got))) = (a.reply_port, p.reply.ports()) else { return Verdict::NotApplicable };
    if got == want {
        Verdict::Pass
    } else {
        fail(p.reply, None, "udp.dst_port", format!("{want} (the BSDP reply port)"), got)
    }
}

fn to_ciaddr(p: &Pair<'_>) -> Verdict {
    let Some((_, _)) = valid(p) else { return Verdict::NotApplicable };
    let Some(q) = p.request.bootp.as_ref() else { return Verdict::NotApplicable };
    let (Some(dst), Some((src_port, _))) = (p.reply.dst_ip(), p.reply.ports()) else {
        return Verdict::NotApplicable;
    };
    if dst != q.ciaddr() {
        return fail(p.reply, None, "ip.dst", format!("{} (ciaddr)", q.ciaddr()), ip(dst));
    }
    if src_port != SERVER_PORT {
        return fail(p.reply, None, "udp.src_port", SERVER_PORT, src_port);
    }
    Verdict::Pass
}

fn list_header(p: &Pair<'_>) -> Verdict {
    if reply_of(p, M::List).is_none() {
        return Verdict::NotApplicable;
    }
    let Some(r) = p.reply.bootp.as_ref() else { return Verdict::NotApplicable };
    if !r.yiaddr().is_unspecified() {
        return fail(p.reply, p.reply.at_field(field::YIADDR.start), "ACK[LIST] yiaddr", "0.0.0.0", ip(r.yiaddr()));
    }
    if r.siaddr().is_unspecified() {
        return fail(
            p.reply,
            p.reply.at_field(field::SIADDR.start),
            "ACK[LIST] siaddr",
            "the server's address",
            "0.0.0.0",
        );
    }
    if r.overload().is_none_or(|o| !o.file()) && !r.file().is_empty() {
        return fail(
            p.reply,
            p.reply.at_field(field::FILE.start),
            "ACK[LIST] file",
            "empty",
            format!("{:?}", String::from_utf8_lossy(r.file())),
        );
    }
    Verdict::Pass
}

fn select_boot_file(p: &Pair<'_>) -> Verdict {
    if reply_of(p, M::Select).is_none() {
        return Verdict::NotApplicable;
    }
    let Some(r) = p.reply.bootp.as_ref() else { return Verdict::NotApplicable };
    if r.file().is_empty() {
        return fail(p.reply, p.reply.at_field(field::FILE.start), "ACK[SELECT] file", "the boot file", "empty");
    }
    if r.siaddr().is_unspecified() {
        return fail(
            p.reply,
            p.reply.at_field(field::SIADDR.start),
            "ACK[SELECT] siaddr",
            "the TFTP server",
            "0.0.0.0",
        );
    }
    Verdict::Pass
}

fn select_root_path(p: &Pair<'_>) -> Verdict {
    if reply_of(p, M::Select).is_none() {
        return Verdict::NotApplicable;
    }
    let Some(r) = p.reply.bootp.as_ref() else { return Verdict::NotApplicable };
    match r.aggregate(code::ROOT_PATH) {
        Some(v) if !v.is_empty() => Verdict::Pass,
        _ => fail(p.reply, at_option(p, code::ROOT_PATH), "ACK[SELECT] option 17", "the image's URL", "absent"),
    }
}

fn select_image_echoed(p: &Pair<'_>) -> Verdict {
    let Some((a, data)) = reply_of(p, M::Select) else { return Verdict::NotApplicable };
    let at = at_option(p, bsdp::OPTION_VENDOR_SPECIFIC);
    match (Repr::parse_lenient(&data).0.selected_image(), a.image) {
        (None, _) => fail(p.reply, at, "ACK[SELECT] sub-option 8", "the selected boot image ID", "absent"),
        (Some(got), Some(want)) if got != want => {
            fail(p.reply, at, "ACK[SELECT] sub-option 8", format!("{want} (the ID selected)"), got)
        }
        _ => Verdict::Pass,
    }
}

fn failed_message(p: &Pair<'_>) -> Verdict {
    let Some((_, data)) = reply_of(p, M::Failed) else { return Verdict::NotApplicable };
    let Some(r) = p.reply.bootp.as_ref() else { return Verdict::NotApplicable };
    let repr = Repr::parse_lenient(&data).0;
    if let Some(other) = repr.iter().find(|o| o.code() != sub::MESSAGE_TYPE) {
        return fail(
            p.reply,
            at_option(p, bsdp::OPTION_VENDOR_SPECIFIC),
            "ACK[FAILED] option 43",
            "the message type only",
            format!("also sub-option {}", other.code()),
        );
    }
    if r.overload().is_none_or(|o| !o.file()) && !r.file().is_empty() {
        return fail(
            p.reply,
            p.reply.at_field(field::FILE.start),
            "ACK[FAILED] file",
            "empty",
            format!("{:?}", String::from_utf8_lossy(r.file())),
        );
    }
    Verdict::Pass
}

fn min_size(p: &Pair<'_>) -> Verdict {
    if valid(p).is_none() {
        return Verdict::NotApplicable;
    }
    let n = p.reply.payload.len();
    if n >= 300 {
        Verdict::Pass
    } else {
        fail(p.reply, Some(p.reply.bootp_at + n), "reply size (UDP payload)", "≥ 300 octets", n)
    }
}

fn max_size(p: &Pair<'_>) -> Verdict {
    let Some((a, _)) = valid(p) else { return Verdict::NotApplicable };
    let Some(q) = p.request.bootp.as_ref() else { return Verdict::NotApplicable };
    let opt57 = q.find(code::MAX_MESSAGE_SIZE).and_then(|o| <[u8; 2]>::try_from(o.option.data).ok());
    let limit = a.max_size.or(opt57.map(u16::from_be_bytes)).map_or(576, usize::from).max(576);
    let Some(total) = p.reply.frame.ipv4().map(|i| i.total_len) else { return Verdict::NotApplicable };
    let total = usize::from(total);
    if total <= limit {
        Verdict::Pass
    } else {
        fail(p.reply, None, "IP datagram size", format!("≤ {limit} octets (the client's maximum)"), total)
    }
}

fn select_other_server(p: &Pair<'_>) -> Verdict {
    let Some(a) = ask(p.request) else { return Verdict::NotApplicable };
    let Some(r) = p.reply.bootp.as_ref() else { return Verdict::NotApplicable };
    let (Some(M::Select), Some(named), None) = (a.message, a.server_id, &a.invalid) else {
        return Verdict::NotApplicable;
    };
    if !is_bsdp_reply(r) {
        return Verdict::NotApplicable;
    }
    let sid = r.find(code::SERVER_ID).and_then(|o| <[u8; 4]>::try_from(o.option.data).ok()).map(Ipv4Addr::from);
    let from = sid.or(p.reply.src_ip());
    match from {
        Some(s) if s != named => fail(
            p.reply,
            at_option(p, code::SERVER_ID),
            "BSDP reply",
            format!("none (the INFORM[SELECT] names server {named})"),
            format!("a reply from {s}"),
        ),
        _ => Verdict::Pass,
    }
}

fn invalid_request_silent(p: &Pair<'_>) -> Verdict {
    let Some(a) = ask(p.request) else { return Verdict::NotApplicable };
    let Some(why) = a.invalid else { return Verdict::NotApplicable };
    let Some(r) = p.reply.bootp.as_ref() else { return Verdict::NotApplicable };
    if is_bsdp_reply(r) {
        fail(
            p.reply,
            at_option(p, bsdp::OPTION_VENDOR_SPECIFIC),
            "BSDP reply",
            format!("none (request: {why})"),
            "a BSDP reply",
        )
    } else {
        Verdict::Pass
    }
}

fn not_bsdp_not_answered(p: &Pair<'_>) -> Verdict {
    let Some(q) = p.request.bootp.as_ref() else { return Verdict::NotApplicable };
    let Some(r) = p.reply.bootp.as_ref() else { return Verdict::NotApplicable };
    // Only requests that look like BSDP otherwise: option 43, or an option 60 that
    // starts like Apple's.
    let vc = q.aggregate(bsdp::OPTION_VENDOR_CLASS);
    let looks = vc.as_deref().is_some_and(|v| v.starts_with(bsdp::VENDOR_CLASS_PREFIX))
        || q.aggregate(bsdp::OPTION_VENDOR_SPECIFIC).is_some();
    let valid_client = vc.as_deref().is_some_and(|v| matches!(VendorClass::parse(v), Ok(VendorClass::Client { .. })));
    if !looks || valid_client {
        return Verdict::NotApplicable;
    }
    match r.aggregate(bsdp::OPTION_VENDOR_CLASS) {
        Some(v) if v.starts_with(bsdp::VENDOR_CLASS_PREFIX) => fail(
            p.reply,
            at_option(p, bsdp::OPTION_VENDOR_CLASS),
            "reply option 60",
            format!(
                "no BSDP reply (request option 60: {})",
                vc.as_deref().map_or("absent".to_string(), |v| format!("{:?}", String::from_utf8_lossy(v)))
            ),
            format!("{:?}", String::from_utf8_lossy(&v)),
        ),
        _ => Verdict::Pass,
    }
}

/// The UDP port a reply to this request must go to when it asked for a BSDP reply
/// port (for the RFC 1542 port rule, which then does not apply).
pub(crate) fn requested_reply_port(m: &Msg<'_>) -> Option<u16> {
    ask(m).filter(|a| a.invalid.is_none()).and_then(|a| a.reply_port).filter(|p| *p != CLIENT_PORT)
}

#[cfg(test)]
pub(crate) mod testdata {
    //! A BSDP INFORM and a correct ACK for the rules' tests, and helpers to change
    //! their options.
    #![allow(clippy::unwrap_used)]

    use crate::testkit::{CLIENT_IP, CLIENT_MAC, COOKIE, SERVER_IP};

    /// Which request the case starts from.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Base {
        List,
        Select,
    }

    pub const MACOS: [u8; 4] = [0x01, 0x00, 0x10, 0x01];
    pub const DIAGS: [u8; 4] = [0x03, 0x00, 0x00, 0x08];

    /// The options of a message (cookie at 236), in order; End and Pad dropped.
    pub fn opts(b: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut out = Vec::new();
        let mut i = 240;
        while i < b.len() {
            match b[i] {
                0 => i += 1,
                255 => break,
                c => {
                    let n = usize::from(b[i + 1]);
                    out.push((c, b[i + 2..i + 2 + n].to_vec()));
                    i += 2 + n;
                }
            }
        }
        out
    }

    /// Rewrite the options field: cookie, these options, End, padded to 300.
    pub fn set_opts(b: &mut Vec<u8>, o: &[(u8, Vec<u8>)]) {
        b.truncate(236);
        b.extend_from_slice(&COOKIE);
        for (c, d) in o {
            b.push(*c);
            b.push(d.len() as u8);
            b.extend_from_slice(d);
        }
        b.push(255);
        if b.len() < 300 {
            b.resize(300, 0);
        }
    }

    /// Replace (or remove, with `None`) option `c`, keeping its place.
    pub fn set_opt(b: &mut Vec<u8>, c: u8, v: Option<&[u8]>) {
        let mut o = opts(b);
        match (o.iter().position(|(x, _)| *x == c), v) {
            (Some(i), Some(v)) => o[i].1 = v.to_vec(),
            (Some(i), None) => {
                o.remove(i);
            }
            (None, Some(v)) => o.push((c, v.to_vec())),
            (None, None) => {}
        }
        set_opts(b, &o);
    }

    /// The BSDP sub-options of option 43 (one instance), in order.
    pub fn subs(b: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let o = opts(b);
        let data = o.iter().find(|(c, _)| *c == 43).map(|(_, d)| d.clone()).unwrap_or_default();
        let mut out = Vec::new();
        let mut i = 0;
        while i + 1 < data.len() {
            let n = usize::from(data[i + 1]);
            out.push((data[i], data[i + 2..i + 2 + n].to_vec()));
            i += 2 + n;
        }
        out
    }

    /// Replace (or remove) sub-option `c` of option 43, appending it when absent.
    pub fn set_sub(b: &mut Vec<u8>, c: u8, v: Option<&[u8]>) {
        let mut s = subs(b);
        match (s.iter().position(|(x, _)| *x == c), v) {
            (Some(i), Some(v)) => s[i].1 = v.to_vec(),
            (Some(i), None) => {
                s.remove(i);
            }
            (None, Some(v)) => s.push((c, v.to_vec())),
            (None, None) => {}
        }
        let data: Vec<u8> = s.iter().flat_map(|(c, d)| [vec![*c, d.len() as u8], d.clone()].concat()).collect();
        set_opt(b, 43, Some(&data));
    }

    /// A BSDP INFORM[LIST] or INFORM[SELECT] (of MACOS, naming SERVER_IP) from
    /// CLIENT_IP.
    pub fn request(base: Base) -> Vec<u8> {
        let mut b = vec![0u8; 236];
        b[0] = 1;
        b[1] = 1;
        b[2] = 6;
        b[4..8].copy_from_slice(&0x4253_4450u32.to_be_bytes());
        b[12..16].copy_from_slice(&CLIENT_IP.octets());
        b[28..34].copy_from_slice(&CLIENT_MAC);
        let mut sub = vec![1, 1, if base == Base::List { 1 } else { 2 }, 2, 2, 1, 1];
        if base == Base::Select {
            sub.extend([3, 4]);
            sub.extend(SERVER_IP.octets());
            sub.extend([8, 4]);
            sub.extend(MACOS);
        }
        let o = vec![
            (53, vec![8]),
            (55, vec![1, 3, 17, 43, 60]),
            (60, b"AAPLBSDPC/i386/MacBookPro11,1".to_vec()),
            (43, sub),
        ];
        set_opts(&mut b, &o);
        b
    }

    /// The correct ACK to a request made by [`request`] (whatever was changed in it):
    /// ACK[LIST] with priority, default and a two-image list; ACK[SELECT] of the
    /// selected image with file and root path.
    pub fn reply_to(q: &[u8]) -> Vec<u8> {
        let mut b = q[..236].to_vec();
        b[0] = 2;
        b[3] = 0;
        b[8..10].fill(0);
        b[16..20].fill(0);
        b[20..24].copy_from_slice(&SERVER_IP.octets());
        b[44..108].fill(0);
        b[44..51].copy_from_slice(b"bootsrv");
        b[108..236].fill(0);
        let select = subs(q).iter().any(|(c, d)| *c == 1 && d == &[2]);
        let mut o = vec![(53, vec![5]), (54, SERVER_IP.octets().to_vec())];
        if select {
            let path = b"/tftpboot/NetBoot/NetBootSP0/macos.nbi/i386/booter";
            b[108..108 + path.len()].copy_from_slice(path);
            let id = subs(q).iter().find(|(c, _)| *c == 8).map_or(MACOS.to_vec(), |(_, d)| d.clone());
            o.push((17, b"http://192.0.2.1/NetBoot/NetBootSP0/macos.nbi/macos.dmg".to_vec()));
            o.push((43, [vec![1, 1, 2, 8, 4], id].concat()));
        } else {
            let mut sub = vec![1, 1, 1, 4, 2, 0x80, 0, 7, 4];
            sub.extend(MACOS);
            let mut list = Vec::new();
            for (id, name) in [(DIAGS, &b"Hardware Test"[..]), (MACOS, &b"macOS NetBoot"[..])] {
                list.extend(id);
                list.push(name.len() as u8);
                list.extend(name);
            }
            sub.push(9);
            sub.push(list.len() as u8);
            sub.extend(list);
            o.push((43, sub));
        }
        o.push((60, b"AAPLBSDPC".to_vec()));
        set_opts(&mut b, &o);
        b
    }

    /// Where the reply goes: ciaddr at chaddr, the reply port or 68.
    pub fn delivery(q: &[u8], r: &[u8]) -> ([u8; 6], std::net::Ipv4Addr, u16) {
        let mut mac = [0u8; 6];
        mac.copy_from_slice(&r[28..34]);
        let ci = std::net::Ipv4Addr::new(q[12], q[13], q[14], q[15]);
        let port = subs(q)
            .iter()
            .find(|(c, d)| *c == 5 && d.len() == 2)
            .map(|(_, d)| u16::from_be_bytes([d[0], d[1]]))
            .filter(|p| *p < 1024)
            .unwrap_or(68);
        (mac, ci, port)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::testdata::{self, set_opt, set_sub, Base, DIAGS};
    use crate::testkit::{Case, Crafted};

    fn list() -> Case {
        Case::bsdp(Base::List)
    }
    fn select() -> Case {
        Case::bsdp(Base::Select)
    }

    pub(crate) fn fails_on_a_crafted_reply() -> Vec<(&'static str, Crafted)> {
        vec![
            ("bsdp/1/reply-is-dhcpack", Crafted::Reply(list().then_reply(|r| set_opt(r, 53, Some(&[2]))))),
            ("bsdp/2/server-vendor-class", Crafted::Reply(list().then_reply(|r| set_opt(r, 60, Some(b"AAPLBSDPC/"))))),
            ("bsdp/2/server-vendor-class", Crafted::Reply(list().then_reply(|r| set_opt(r, 60, None)))),
            (
                "bsdp/1/option-43-well-formed",
                Crafted::Reply(list().then_reply(|r| {
                    let mut o = testdata::opts(r);
                    if let Some((_, d)) = o.iter_mut().find(|(c, _)| *c == 43) {
                        d.extend([5, 3, 0]);
                    }
                    testdata::set_opts(r, &o);
                })),
            ),
            ("bsdp/1/option-43-well-formed", Crafted::Reply(list().then_reply(|r| set_sub(r, 1, Some(&[7]))))),
            (
                "bsdp/1/instances-at-boundaries",
                Crafted::Reply(list().then_reply(|r| {
                    // Option 43 cut in two in the middle of the image list.
                    let mut o = testdata::opts(r);
                    let i = o.iter().position(|(c, _)| *c == 43).unwrap();
                    let d = o[i].1.clone();
                    o[i].1 = d[..20].to_vec();
                    o.insert(i + 1, (43, d[20..].to_vec()));
                    testdata::set_opts(r, &o);
                })),
            ),
            ("bsdp/3/message-type-answers", Crafted::Reply(list().then_reply(|r| set_sub(r, 1, Some(&[3]))))),
            ("bsdp/6.1/server-identifier", Crafted::Reply(list().then_reply(|r| set_opt(r, 54, None)))),
            (
                "bsdp/6.1/server-identifier",
                Crafted::Reply(list().then_reply(|r| set_opt(r, 54, Some(&[192, 0, 2, 99])))),
            ),
            ("bsdp/4/server-priority", Crafted::Reply(list().then_reply(|r| set_sub(r, 4, None)))),
            ("bsdp/4/default-image", Crafted::Reply(list().then_reply(|r| set_sub(r, 7, None)))),
            ("bsdp/4/image-list", Crafted::Reply(list().then_reply(|r| set_sub(r, 9, None)))),
            (
                "bsdp/4/image-list-format",
                Crafted::Reply(list().then_reply(|r| set_sub(r, 9, Some(&[1, 0, 0x10, 1, 3, b'a', 0, b'b'])))),
            ),
            ("bsdp/4/image-list-version", Crafted::Reply(list().then_request(|q| set_sub(q, 2, Some(&[1, 0]))))),
            ("bsdp/5/no-null-image", Crafted::Reply(list().then_reply(|r| set_sub(r, 7, Some(&[1, 0, 0, 0]))))),
            ("bsdp/4/filter-applied", Crafted::Reply(list().then_request(|q| set_sub(q, 11, Some(&[3, 0]))))),
            (
                "bsdp/4/reply-port",
                Crafted::Reply(
                    list().then_request(|q| set_sub(q, 5, Some(&[3, 0xe1]))).with_endpoints(|e| e.dst_port = 68),
                ),
            ),
            ("bsdp/6.4/to-ciaddr", Crafted::Reply(list().with_endpoints(|e| e.dst_ip = std::net::Ipv4Addr::BROADCAST))),
            (
                "bsdp/6.1/list-header",
                Crafted::Reply(list().then_reply(|r| r[16..20].copy_from_slice(&[192, 0, 2, 50]))),
            ),
            ("bsdp/6.1/list-header", Crafted::Reply(list().then_reply(|r| r[108..112].copy_from_slice(b"boot")))),
            ("bsdp/6.1/select-boot-file", Crafted::Reply(select().then_reply(|r| r[108..236].fill(0)))),
            ("bsdp/6.1/select-root-path", Crafted::Reply(select().then_reply(|r| set_opt(r, 17, None)))),
            ("bsdp/6.1/select-image-echoed", Crafted::Reply(select().then_reply(|r| set_sub(r, 8, None)))),
            (
                "bsdp/6.1/select-image-echoed",
                Crafted::Reply(select().then_reply(|r| set_sub(r, 8, Some(&[2, 0, 0x10, 1])))),
            ),
            (
                "bsdp/6.1/failed-message",
                Crafted::Reply(select().then_reply(|r| {
                    set_sub(r, 1, Some(&[3]));
                    set_opt(r, 17, None);
                })),
            ),
            (
                "bsdp/6.4/min-size",
                // A version 1.0 client (no list): the message is short enough to cut.
                Crafted::Reply(list().then_request(|q| set_sub(q, 2, Some(&[1, 0]))).then_reply(|r| {
                    set_sub(r, 9, None);
                    let end = r.iter().rposition(|&x| x == 255).unwrap();
                    r.truncate(end + 1);
                })),
            ),
            (
                "bsdp/6.4/max-size",
                Crafted::Reply(list().then_reply(|r| {
                    r.resize(600, 0);
                })),
            ),
            (
                "bsdp/6.1/select-other-server",
                Crafted::Reply(select().then_request(|q| set_sub(q, 3, Some(&[192, 0, 2, 9])))),
            ),
            ("bsdp/6.5/invalid-request-silent", Crafted::Reply(list().then_request(|q| set_sub(q, 2, Some(&[2, 0]))))),
            (
                "bsdp/2/not-bsdp-not-answered",
                Crafted::Reply(list().then_request(|q| set_opt(q, 60, Some(b"AAPLBSDPC/i386")))),
            ),
        ]
    }

    /// ACK[FAILED] to an INFORM[SELECT] of an image the server does not have.
    fn failed() -> Case {
        select().then_request(|q| set_sub(q, 8, Some(&[1, 0, 0x77, 0x77]))).then_reply(|r| {
            set_sub(r, 8, None);
            set_sub(r, 1, Some(&[3]));
            set_opt(r, 17, None);
            r[108..236].fill(0);
        })
    }

    /// A client at version 1.0 (no image list in its ACK[LIST]).
    fn v1_0_client() -> Case {
        list().then_request(|q| set_sub(q, 2, Some(&[1, 0]))).then_reply(|r| set_sub(r, 9, None))
    }

    /// An attributes filter for diagnostics images: only the diagnostics image is
    /// listed, and no default (the default, MACOS, is filtered out).
    fn filtered() -> Case {
        list().then_request(|q| set_sub(q, 11, Some(&[3, 0]))).then_reply(|r| {
            set_sub(r, 7, None);
            set_sub(r, 9, Some(&[&DIAGS[..], &[4], b"diag"].concat()));
        })
    }

    /// The ACK[LIST]'s option 43 in two instances, split between sub-options.
    fn split_at_a_boundary() -> Case {
        list().then_reply(|r| {
            let mut o = testdata::opts(r);
            let i = o.iter().position(|(c, _)| *c == 43).unwrap();
            let d = o[i].1.clone();
            let at = 3 + 4 + 6; // message type, priority, default
            o[i].1 = d[..at].to_vec();
            o.insert(i + 1, (43, d[at..].to_vec()));
            testdata::set_opts(r, &o);
        })
    }

    /// What a DHCP server that does not speak BSDP (or will not for this request)
    /// sends for an INFORM: a plain DHCPACK, no option 43 or 60.
    fn plain_ack(r: &mut Vec<u8>) {
        set_opt(r, 43, None);
        set_opt(r, 60, None);
    }

    /// Correct exchanges: ACK[LIST], ACK[SELECT] and ACK[FAILED]; a reply port
    /// honoured, a v1.0 client, a filter applied, a list split at a boundary; and
    /// requests that must get no BSDP reply answered with a plain DHCPACK (the rules
    /// judge a reply: a request dropped altogether has no pair to judge).
    pub(crate) fn passes_on_correct_exchanges() -> Vec<(&'static str, Crafted)> {
        vec![
            ("ACK[LIST]", Crafted::Reply(list())),
            ("ACK[SELECT]", Crafted::Reply(select())),
            ("ACK[FAILED] of an unknown image", Crafted::Reply(failed())),
            ("ACK[LIST] to a reply port", Crafted::Reply(list().then_request(|q| set_sub(q, 5, Some(&[3, 0xe1]))))),
            ("ACK[LIST] to a v1.0 client", Crafted::Reply(v1_0_client())),
            ("ACK[LIST] with a filter applied", Crafted::Reply(filtered())),
            ("ACK[LIST] split between sub-options", Crafted::Reply(split_at_a_boundary())),
            (
                "version 2.0 (dropped) answered with a plain DHCPACK",
                Crafted::Reply(list().then_request(|q| set_sub(q, 2, Some(&[2, 0]))).then_reply(plain_ack)),
            ),
            (
                "a malformed vendor class answered with a plain DHCPACK",
                Crafted::Reply(list().then_request(|q| set_opt(q, 60, Some(b"AAPLBSDPC/i386"))).then_reply(plain_ack)),
            ),
        ]
    }

    #[test]
    fn correct_bsdp_replies_pass_every_rule() {
        for (what, c) in passes_on_correct_exchanges() {
            c.assert_passes_all(what);
        }
        v1_0_client().assert_passes("bsdp/4/image-list-version");
        filtered().assert_passes("bsdp/4/filter-applied");
        split_at_a_boundary().assert_passes("bsdp/1/instances-at-boundaries");
        failed().assert_passes("bsdp/6.1/failed-message");
    }

    #[test]
    fn silence_rules_pass_a_plain_dhcp_reply_and_do_not_judge_valid_requests() {
        // A DHCP server that does not speak BSDP answers with a plain DHCPACK: not a
        // BSDP reply, so no BSDP rule applies.
        list().then_reply(plain_ack).assert_not_applicable("bsdp/2/server-vendor-class");
        list()
            .then_request(|q| set_sub(q, 2, Some(&[2, 0])))
            .then_reply(plain_ack)
            .assert_passes("bsdp/6.5/invalid-request-silent");
        list()
            .then_request(|q| set_opt(q, 60, Some(b"AAPLBSDPC/i386")))
            .then_reply(plain_ack)
            .assert_passes("bsdp/2/not-bsdp-not-answered");
        list().assert_not_applicable("bsdp/6.5/invalid-request-silent");
        select().assert_passes("bsdp/6.1/select-other-server");
        list().assert_not_applicable("bsdp/2/not-bsdp-not-answered");
        // Every drop case of §6.5 is recognised.
        for (what, case) in [
            ("ciaddr", list().then_request(|q| q[12..16].fill(0))),
            ("htype", list().then_request(|q| q[1] = 6)),
            ("no version", list().then_request(|q| set_sub(q, 2, None))),
            ("no type", list().then_request(|q| set_sub(q, 1, None))),
            ("FAILED", list().then_request(|q| set_sub(q, 1, Some(&[3])))),
            ("port", list().then_request(|q| set_sub(q, 5, Some(&[4, 0])))),
            ("no server id", select().then_request(|q| set_sub(q, 3, None))),
            ("bad 43", list().then_request(|q| set_sub(q, 5, Some(&[1])))),
        ] {
            assert!(case.verdict("bsdp/6.5/invalid-request-silent").is_fail(), "{what}");
        }
    }

    #[test]
    fn the_rfc1542_port_rule_leaves_a_bsdp_reply_port_to_bsdp() {
        let c = list().then_request(|q| set_sub(q, 5, Some(&[3, 0xe1])));
        c.assert_not_applicable("rfc1542/5.4/client-port");
        list().assert_passes("rfc1542/5.4/client-port");
    }
}
