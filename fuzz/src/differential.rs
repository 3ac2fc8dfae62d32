//! Differential check: `bootcheck-wire`'s strict BOOTP parse against dhcproto 0.15's
//! borrowed (zero-copy) `v4::borrowed::Message` on the same octets.
//!
//! Both are compared on what both can express: accept or reject, the fixed header, sname
//! and file, and the option area as a list of (code, value) in wire order. The two read
//! RFC 2131/2132/3396 differently in a few known, reasoned ways; [`differential`] names
//! the ones an input shows ([`Known`], listed with the reasons in
//! `fuzz/differential-known.md`) and panics on any other disagreement, which the fuzzer
//! then reports as a crash.

use bootcheck_wire::bootp::{self, Packet, VendKind};
use bootcheck_wire::options::Overload;
use bootcheck_wire::options::{AreaIter, Item};
use bootcheck_wire::{Area, ErrorKind};
use dhcproto::v4::borrowed;

/// A known disagreement (see `fuzz/differential-known.md` for each reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Known {
    /// 236..239 octets: bootcheck-wire accepts a BOOTP message with no (or a partial)
    /// vend field (RFC 951 needs none for a reply it only reads); dhcproto wants 240.
    ShortVend,
    /// bootcheck-wire rejects an option whose length runs past its area (or that has no
    /// length octet); dhcproto's iterator silently stops there.
    TruncatedOption,
    /// bootcheck-wire rejects an option area with no End (RFC 2132 §3: End "marks the
    /// end of valid information"); dhcproto stops at the end of the buffer.
    MissingEnd,
    /// bootcheck-wire checks each option's value against the codebook (lengths, ranges);
    /// dhcproto's borrowed iterator hands out raw octets.
    TypedValue,
    /// bootcheck-wire rejects option 52 with a value other than 1–3, repeated, or inside
    /// sname/file (RFC 2132 §9.3); dhcproto does not look at option 52 at all.
    OverloadPathology,
    /// Option 52 is in effect: bootcheck-wire reads options from file and/or sname
    /// (RFC 2132 §9.3, RFC 3396 §5 order) and does not take those fields as names;
    /// dhcproto reads neither as options and returns them as NUL-terminated names.
    Overload,
    /// The same option code appears in non-adjacent instances: RFC 3396 §5 joins all of
    /// them (bootcheck-wire's `aggregate`); dhcproto joins only consecutive ones.
    NonAdjacentSplit,
    /// hlen > 16: dhcproto's `chaddr()` slices `28..28 + hlen`, past the 16-octet field
    /// into sname (and panics if the buffer is shorter); bootcheck-wire stops at 16.
    LongHlen,
}

impl Known {
    pub const ALL: [Known; 8] = [
        Known::ShortVend,
        Known::TruncatedOption,
        Known::MissingEnd,
        Known::TypedValue,
        Known::OverloadPathology,
        Known::Overload,
        Known::NonAdjacentSplit,
        Known::LongHlen,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Known::ShortVend => "short-vend",
            Known::TruncatedOption => "truncated-option",
            Known::MissingEnd => "missing-end",
            Known::TypedValue => "typed-value",
            Known::OverloadPathology => "overload-pathology",
            Known::Overload => "overload",
            Known::NonAdjacentSplit => "non-adjacent-split",
            Known::LongHlen => "long-hlen",
        }
    }
}

/// What a comparison found: `accepted` by both, and the known differences it showed
/// (empty: full agreement).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub both_accept: bool,
    pub both_reject: bool,
    pub known: Vec<Known>,
}

/// The option area as dhcproto's borrowed iterator sees it: Pad skipped, End stops,
/// and an option followed directly by more instances of the same code is one option
/// with the values joined. Only for a well-formed area (bootcheck-wire accepted it).
fn consecutive_joined(area: &[u8], base: usize) -> Vec<(u8, Vec<u8>)> {
    let mut out: Vec<(u8, Vec<u8>)> = Vec::new();
    let mut last_was_option = false;
    for item in AreaIter::new(area, base, Area::Options) {
        match item {
            Ok(Item::Option(o)) => {
                match out.last_mut() {
                    Some((code, data)) if last_was_option && *code == o.option.code => {
                        data.extend_from_slice(o.option.data)
                    }
                    _ => out.push((o.option.code, o.option.data.to_vec())),
                }
                last_was_option = true;
            }
            Ok(Item::Pad { .. }) => last_was_option = false,
            Ok(Item::End { .. }) | Err(_) => break,
        }
    }
    out
}

fn classify_rejection(kind: &ErrorKind) -> Known {
    match kind {
        ErrorKind::MissingLength { .. } | ErrorKind::LengthPastEnd { .. } => Known::TruncatedOption,
        ErrorKind::MissingEnd { .. } => Known::MissingEnd,
        ErrorKind::WrongLength { .. } | ErrorKind::BadValue { .. } | ErrorKind::Malformed { .. } => Known::TypedValue,
        ErrorKind::OverloadInField { .. } | ErrorKind::OverloadValue { .. } | ErrorKind::OverloadRepeated => {
            Known::OverloadPathology
        }
        other => panic!("bootcheck-wire rejects a message of 240+ octets for a reason with no known class: {other}"),
    }
}

/// Compare both parsers on `bytes`. Panics on a disagreement that no [`Known`] explains.
pub fn differential(bytes: &[u8]) -> Outcome {
    let ours = bootp::Repr::parse(bytes);
    let theirs = borrowed::Message::new(bytes);
    let mut out = Outcome::default();
    let Ok(m) = theirs else {
        match ours {
            Ok(_) => {
                assert!(
                    (bootp::HEADER_LEN..240).contains(&bytes.len()),
                    "bootcheck-wire accepts {} octets, dhcproto refuses",
                    bytes.len()
                );
                out.known.push(Known::ShortVend);
            }
            Err(_) => out.both_reject = true,
        }
        return out;
    };
    let p = Packet::new_unchecked(bytes);
    // The fixed header is read from the same offsets, whatever either thinks of the rest.
    assert_eq!(u8::from(m.opcode()), p.op().to_u8(), "op");
    assert_eq!(u8::from(m.htype()), p.htype(), "htype");
    assert_eq!(m.hlen(), p.hlen(), "hlen");
    assert_eq!(m.hops(), p.hops(), "hops");
    assert_eq!(m.xid(), p.xid(), "xid");
    assert_eq!(m.secs(), p.secs(), "secs");
    assert_eq!(u16::from(m.flags()), p.flags(), "flags");
    assert_eq!(m.ciaddr(), p.ciaddr(), "ciaddr");
    assert_eq!(m.yiaddr(), p.yiaddr(), "yiaddr");
    assert_eq!(m.siaddr(), p.siaddr(), "siaddr");
    assert_eq!(m.giaddr(), p.giaddr(), "giaddr");
    if p.hlen() <= 16 {
        assert_eq!(m.chaddr(), p.chaddr(), "chaddr");
    } else {
        out.known.push(Known::LongHlen);
    }
    if let Err(e) = ours {
        out.known.push(classify_rejection(&e.kind));
        return out;
    }
    out.both_accept = true;
    let overload = p.overload();
    let (file_opts, sname_opts) = match overload {
        Some(Overload::File) => (true, false),
        Some(Overload::Sname) => (false, true),
        Some(Overload::Both) => (true, true),
        None => (false, false),
    };
    if file_opts || sname_opts {
        out.known.push(Known::Overload);
    }
    if !sname_opts {
        assert_eq!(m.sname(), p.sname(), "sname");
    }
    if !file_opts {
        assert_eq!(m.fname(), p.file(), "file");
    }
    let theirs: Vec<(u8, Vec<u8>)> = m.opts().map(|o| (u8::from(o.code()), o.data().to_vec())).collect();
    if p.vend_kind() != VendKind::Rfc1048 {
        assert!(theirs.is_empty(), "dhcproto found options without the RFC 1048 cookie: {theirs:?}");
        return out;
    }
    // The options field itself: the same (code, value) list in the same order.
    let area = bytes.get(bootp::field::OPTIONS).unwrap_or(&[]);
    let mine = consecutive_joined(area, bootp::field::OPTIONS.start);
    assert_eq!(mine, theirs, "the options field differs");
    // RFC 3396: one option's value is all its instances joined, options field first,
    // then file, then sname when overloaded.
    let mut codes: Vec<u8> = p.options().map(|o| o.option.code).collect();
    codes.sort_unstable();
    codes.dedup();
    for code in codes {
        let joined: Vec<u8> = theirs.iter().filter(|(c, _)| *c == code).flat_map(|(_, d)| d.clone()).collect();
        let aggregate = p.aggregate(code).map(|a| a.into_owned()).unwrap_or_default();
        let instances = theirs.iter().filter(|(c, _)| *c == code).count();
        let in_fields = p.options().any(|o| o.option.code == code && o.area != Area::Options);
        if instances > 1 && !out.known.contains(&Known::NonAdjacentSplit) {
            out.known.push(Known::NonAdjacentSplit);
        }
        if aggregate == joined {
            continue;
        }
        assert!(
            in_fields,
            "option {code}: bootcheck-wire aggregates {aggregate:02x?}, dhcproto's instances join to {joined:02x?}"
        );
    }
    out.known.sort_unstable();
    out.known.dedup();
    out
}
