//! The diff half of `bootcheck replay`, sans-IO: a recorded reply and the live one,
//! both decoded and normalised as the snapshots are (`bootcheck_scenario::snapshot`),
//! compared field by field.
//!
//! A decode is read as fields: the addressing line gives `eth.src`, `eth.dst`,
//! `ip.src`, `ip.dst`; `key=value` tokens give their key (`yiaddr`, `xid`, `file`…);
//! option lines give `option N <name>`; any other line is a field of its own. The
//! result says which fields changed (old → new), which appeared and which went.

use std::fmt;

use bootcheck_scenario::snapshot::{decode_frame, redact};
use bootcheck_wire::frame::LinkType;
use serde::Serialize;

use crate::lift::Rewrite;

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: String,
    /// Recorded value (`None`: not in the recorded reply).
    pub recorded: Option<String>,
    /// Live value (`None`: not in the live reply).
    pub live: Option<String>,
}

impl fmt::Display for FieldChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.recorded, &self.live) {
            (Some(a), Some(b)) => write!(f, "{}: {a} → {b}", self.field),
            (Some(a), None) => write!(f, "{}: {a} → (gone)", self.field),
            (None, Some(b)) => write!(f, "{}: (new) → {b}", self.field),
            (None, None) => write!(f, "{}", self.field),
        }
    }
}

/// How one exchange replayed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepDiff {
    /// Same reply, field for field (after normalisation).
    Same,
    /// Both replied; these fields differ.
    Changed(Vec<FieldChange>),
    /// The capture has a reply, the live server sent none.
    NoLiveReply,
    /// The capture has no reply, the live server answered.
    NewReply,
    /// Neither replied.
    BothSilent,
}

/// The fields of a normalised decode, in order; repeated keys get `#2`, `#3`…
pub fn fields(decode: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |k: String, v: String| {
        let mut key = k.clone();
        let mut n = 1;
        while out.iter().any(|(x, _)| *x == key) {
            n += 1;
            key = format!("{k} #{n}");
        }
        out.push((key, v));
    };
    for (i, line) in decode.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        // The addressing line: `SRCMAC > DSTMAC SRCIP:PORT > DSTIP:PORT`.
        if i == 0 {
            let w: Vec<&str> = t.split_whitespace().collect();
            if w.len() == 6 && w[1] == ">" && w[4] == ">" {
                push("eth.src".into(), w[0].into());
                push("eth.dst".into(), w[2].into());
                // A TFTP server's transfer port (TID) is its own random choice.
                let src = match w[3].rsplit_once(':') {
                    Some((ip, port)) if !matches!(port, "67" | "68" | "69") => format!("{ip}:[tid]"),
                    _ => w[3].to_string(),
                };
                push("ip.src".into(), src);
                push("ip.dst".into(), w[5].into());
                continue;
            }
            // ARP/RARP: `SRCMAC > DSTMAC <decode>`.
            if w.len() > 3 && w[1] == ">" {
                push("eth.src".into(), w[0].into());
                push("eth.dst".into(), w[2].into());
                push("arp".into(), w[3..].join(" "));
                continue;
            }
        }
        // A TFTP line is one field (its words are not key=value pairs).
        if t.starts_with("TFTP ") {
            let kind = t.split_whitespace().nth(1).unwrap_or("").to_string();
            push(format!("tftp {kind}"), t.to_string());
            continue;
        }
        if let Some(v) = t.strip_prefix("vend:") {
            push("vend".into(), v.trim().to_string());
            continue;
        }
        // An option line: `N name value…`, `[sname] N name value…` when overloaded.
        let (area, body) = match t.split_once("] ") {
            Some((a, b)) if a.starts_with('[') => (format!("{a}] "), b),
            _ => (String::new(), t),
        };
        let mut words = body.splitn(3, ' ');
        if let (Some(code), Some(name)) = (words.next(), words.next()) {
            if code.parse::<u8>().is_ok() {
                push(format!("{area}option {code} {name}"), words.next().unwrap_or("").to_string());
                continue;
            }
        }
        let toks = tokens(t);
        if toks.iter().any(|x| x.contains('=')) {
            for tok in toks {
                match tok.split_once('=') {
                    Some((k, v)) => push(k.to_string(), v.to_string()),
                    None => push(tok, String::new()),
                }
            }
        } else {
            push(t.to_string(), String::new());
        }
    }
    out
}

/// Whitespace-separated tokens, keeping `"quoted strings"` whole.
fn tokens(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The normalised decode of a frame captured on `link` (Ethernet only: other link
/// types are described, not decoded).
pub fn normalised(link: LinkType, frame: &[u8]) -> String {
    if link != LinkType::Ethernet {
        return format!("a {} octet frame on link type {}", frame.len(), link.to_u32());
    }
    redact(&decode_frame(frame))
}

/// The harness's own endpoint in a request: (source MAC, `ip:port`). Replies name it
/// as their destination; it is the replayer's choice, not the server's, so a diff
/// maps the recorded one to the live one.
pub fn endpoint(link: LinkType, frame: &[u8]) -> Option<(String, String)> {
    let f = bootcheck_wire::frame::Frame::parse(link, frame).ok()?;
    let mac = f.src_mac().map(|m| m.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"))?;
    match (f.ipv4(), f.udp()) {
        (Some(ip), Some(u)) => Some((mac, format!("{}:{}", ip.src, u.src_port))),
        _ => Some((mac, String::new())),
    }
}

/// Compare the recorded reply (rewritten to the site) with the live one. `harness`:
/// the recorded request's endpoint and the live request's ([`endpoint`]).
pub fn diff_with(
    recorded: Option<(LinkType, &[u8])>,
    live: Option<&[u8]>,
    rewrite: &Rewrite,
    harness: Option<((String, String), (String, String))>,
) -> StepDiff {
    let live = live.map(|l| fields(&normalised(LinkType::Ethernet, l)));
    let live_has = |k: &str, v: &str| live.as_ref().is_some_and(|l| l.iter().any(|(lk, lv)| lk == k && lv == v));
    let recorded = recorded.map(|(link, r)| {
        let mut f = fields(&rewrite.text(&normalised(link, r)));
        // Only where the reply is addressed: the request's own fields keep their
        // recorded values (a chaddr is the server's business, the source MAC ours).
        if let Some(((rmac, rep), (lmac, lep))) = &harness {
            for (k, v) in f.iter_mut() {
                if k == "eth.dst" && v == rmac && live_has(k, lmac) {
                    v.clone_from(lmac);
                }
                if k == "ip.dst" && v == rep && live_has(k, lep) {
                    v.clone_from(lep);
                }
            }
        }
        f
    });
    diff_fields(recorded, live)
}

/// Compare the recorded reply (rewritten to the site) with the live one.
pub fn diff(recorded: Option<(LinkType, &[u8])>, live: Option<&[u8]>, rewrite: &Rewrite) -> StepDiff {
    diff_with(recorded, live, rewrite, None)
}

/// Compare the fields of two normalised decodes.
pub fn diff_fields(recorded: Option<Vec<(String, String)>>, live: Option<Vec<(String, String)>>) -> StepDiff {
    match (recorded, live) {
        (None, None) => StepDiff::BothSilent,
        (Some(_), None) => StepDiff::NoLiveReply,
        (None, Some(_)) => StepDiff::NewReply,
        (Some(rec), Some(liv)) => {
            let mut changes = Vec::new();
            for (k, v) in &rec {
                match liv.iter().find(|(lk, _)| lk == k) {
                    Some((_, lv)) if lv == v => {}
                    Some((_, lv)) => changes.push(FieldChange {
                        field: k.clone(),
                        recorded: Some(v.clone()),
                        live: Some(lv.clone()),
                    }),
                    None => changes.push(FieldChange { field: k.clone(), recorded: Some(v.clone()), live: None }),
                }
            }
            for (k, v) in &liv {
                if !rec.iter().any(|(rk, _)| rk == k) {
                    changes.push(FieldChange { field: k.clone(), recorded: None, live: Some(v.clone()) });
                }
            }
            if changes.is_empty() {
                StepDiff::Same
            } else {
                StepDiff::Changed(changes)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPLY: &str = "02:00:00:00:5e:01 > ff:ff:ff:ff:ff:ff 192.0.2.1:67 > 255.255.255.255:68
BOOTREPLY xid=[xid] secs=0 flags=0x8000 hops=0 htype=1 hlen=6 chaddr=02:00:00:00:be:01
  ciaddr=0.0.0.0 yiaddr=192.0.2.21 siaddr=192.0.2.1 giaddr=0.0.0.0
  sname=\"boot srv\" file=\"/tftpboot/pxelinux.0\"
  vend: 64 octets, RFC 1048 cookie
  1 subnet-mask 255.255.255.0
  3 router 192.0.2.254
  255 end";

    #[test]
    fn a_decode_reads_as_fields() {
        let f = fields(REPLY);
        let get = |k: &str| f.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
        assert_eq!(get("eth.dst"), Some("ff:ff:ff:ff:ff:ff"));
        assert_eq!(get("ip.src"), Some("192.0.2.1:67"));
        assert_eq!(get("siaddr"), Some("192.0.2.1"));
        assert_eq!(get("sname"), Some("\"boot srv\""));
        assert_eq!(get("option 3 router"), Some("192.0.2.254"));
        assert_eq!(get("vend"), Some("64 octets, RFC 1048 cookie"));
    }

    #[test]
    fn changed_gone_and_new_fields_are_named() {
        let live = REPLY
            .replace("siaddr=192.0.2.1", "siaddr=0.0.0.0")
            .replace("  3 router 192.0.2.254\n", "  6 domain-name-server 192.0.2.53\n");
        let rec = fields(REPLY);
        let liv = fields(&live);
        assert_ne!(rec, liv);
        let changed: Vec<&str> = rec
            .iter()
            .filter(|(k, v)| liv.iter().find(|(lk, _)| lk == k).map(|(_, lv)| lv) != Some(v))
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(changed, vec!["siaddr", "option 3 router"]);
    }

    #[test]
    fn rewritten_addresses_compare_equal() {
        let rw =
            Rewrite { ips: vec![("10.0.0.1".parse().expect("ip"), "192.0.2.1".parse().expect("ip"))], macs: vec![] };
        assert_eq!(rw.text("siaddr=10.0.0.1 giaddr=10.0.0.10"), "siaddr=192.0.2.1 giaddr=10.0.0.10");
    }
}
