//! The normalised text of an execution, for insta snapshots and `--update-snapshots`:
//! each step's sent and received frames decoded, with what changes from run to run
//! (xids, times, a TFTP server's transfer port) redacted.

use std::fmt::Write as _;

use bootcheck_wire::arp;
use bootcheck_wire::bootp::Packet;
use bootcheck_wire::frame::{Frame, LinkType, Net};
use bootcheck_wire::tftp;

use crate::engine::{ExecutionResult, StepVerdict};

/// Decode one Ethernet frame for a snapshot: addressing line, then the payload decode.
pub fn decode_frame(frame: &[u8]) -> String {
    let Ok(f) = Frame::parse(LinkType::Ethernet, frame) else {
        return format!("unparsable frame of {} octets", frame.len());
    };
    let mut out = String::new();
    let mac = |m: Option<[u8; 6]>| m.map_or("-".to_string(), |m| crate::site::Mac(m).to_string());
    match (&f.net, f.udp()) {
        (_, Some(u)) => {
            let ip = f.ipv4();
            let _ = write!(
                out,
                "{} > {} {}:{} > {}:{}",
                mac(f.src_mac()),
                mac(f.dst_mac()),
                ip.map_or("-".into(), |i| i.src.to_string()),
                u.src_port,
                ip.map_or("-".into(), |i| i.dst.to_string()),
                u.dst_port
            );
            if u.src_port == 67 || u.src_port == 68 || u.dst_port == 67 || u.dst_port == 68 {
                let _ = write!(out, "\n{}", Packet::new_unchecked(u.payload));
                if let Some(line) = bsdp_line(u.payload) {
                    let _ = write!(out, "\n  {line}");
                }
            } else {
                match tftp::Repr::parse_bytes(u.payload) {
                    Ok(tftp::Repr::Data { block, data }) => {
                        let _ = write!(out, "\nTFTP DATA block={block} {} octets", data.len());
                    }
                    Ok(r) => {
                        let _ = write!(out, "\n{r}");
                    }
                    Err(_) => {
                        let _ = write!(out, "\nUDP {} octets", u.payload.len());
                    }
                }
            }
        }
        (Net::Arp { body, .. }, _) => {
            let _ = write!(out, "{} > {} ", mac(f.src_mac()), mac(f.dst_mac()));
            match arp::Repr::parse_bytes(body) {
                Ok(r) => {
                    let _ = write!(out, "{r}");
                }
                Err(e) => {
                    let _ = write!(out, "ARP ! {e}");
                }
            }
        }
        _ => {
            let _ = write!(out, "{} > {} ethertype {:#06x}", mac(f.src_mac()), mac(f.dst_mac()), f.ethertype);
        }
    }
    for fi in &f.findings {
        let _ = write!(out, "\n! {fi}");
    }
    out
}

/// The decoded BSDP content of a BOOTP message whose option 60 starts with
/// `AAPLBSDPC` (option 43 joined over its instances), one line.
fn bsdp_line(payload: &[u8]) -> Option<String> {
    use bootcheck_wire::bsdp;
    let p = Packet::new_checked(payload).ok()?;
    let vc = p.aggregate(bsdp::OPTION_VENDOR_CLASS)?;
    if !vc.starts_with(bsdp::VENDOR_CLASS_PREFIX) {
        return None;
    }
    let data = p.aggregate(bsdp::OPTION_VENDOR_SPECIFIC).unwrap_or_default();
    let (repr, findings) = bsdp::Repr::parse_lenient(&data);
    let mut summary = repr.summary();
    if let Some(t) = p.message_type() {
        summary = summary.dhcp_message_type(t.to_u8());
    }
    let mut line = summary.to_string();
    for f in findings {
        line.push_str(&format!(" ! {f}"));
    }
    Some(line)
}

/// Replace what varies between runs.
pub fn redact(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.lines() {
        let mut l = line.to_string();
        if let Some(i) = l.find("xid=0x") {
            let end = (i + 14).min(l.len());
            l.replace_range(i..end, "xid=[xid]");
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// The snapshot text of an execution.
pub fn render(result: &ExecutionResult) -> String {
    let mut out = String::new();
    for s in &result.steps {
        let _ = writeln!(out, "## step {}: {}", s.index + 1, s.name);
        let _ = match &s.verdict {
            StepVerdict::Pass => writeln!(out, "verdict: pass"),
            StepVerdict::Fail(ms) => {
                let _ = writeln!(out, "verdict: fail");
                for m in ms {
                    let _ = writeln!(out, "  {}: expected {}, got {}", m.field, m.expected, m.actual);
                }
                Ok(())
            }
            StepVerdict::Error(e) => writeln!(out, "verdict: error: {e}"),
        };
        // Repeated sends and bulk TFTP data are summarised, not listed.
        let sent: Vec<&Vec<u8>> = s.sent.iter().filter(|f| !is_arp(f)).collect();
        if let [first, rest @ ..] = sent.as_slice() {
            let n = 1 + rest.len();
            let note = if n == 1 {
                String::new()
            } else if rest.iter().all(|f| f == first) {
                format!(" x{n} (identical)")
            } else {
                format!(" ({n} frames, first shown)")
            };
            let _ = writeln!(out, "-> sent{note}:");
            out.push_str(&indent(&redact_tid_dst(first, decode_frame(first))));
        }
        let received: Vec<&Vec<u8>> = s.received.iter().filter(|f| !is_arp(f)).collect();
        match received.as_slice() {
            [] => {
                let _ = writeln!(out, "<- nothing");
            }
            [first, rest @ ..] => {
                let _ = writeln!(
                    out,
                    "<- received{}:",
                    if rest.is_empty() { String::new() } else { format!(" ({} frames, first shown)", rest.len() + 1) }
                );
                out.push_str(&indent(&redact_tid(first, decode_frame(first))));
            }
        }
    }
    redact(&out)
}

/// A TFTP server answers from a transfer port of its own choosing (RFC 1350 §4: "TID's
/// chosen for a connection should be randomly chosen"): a received frame from a port
/// other than 67, 68 and 69 shows it as `[tid]`.
fn redact_tid(frame: &[u8], text: String) -> String {
    let Ok(f) = Frame::parse(LinkType::Ethernet, frame) else { return text };
    match (f.ipv4(), f.udp()) {
        (Some(ip), Some(u)) if ![67, 68, 69].contains(&u.src_port) => {
            text.replacen(&format!(" {}:{} > ", ip.src, u.src_port), &format!(" {}:[tid] > ", ip.src), 1)
        }
        _ => text,
    }
}

/// The same for a frame the harness sent to the server's transfer port (the last ACK of
/// a transfer goes out after its step has ended, and so is the next step's first frame).
fn redact_tid_dst(frame: &[u8], text: String) -> String {
    let Ok(f) = Frame::parse(LinkType::Ethernet, frame) else { return text };
    match (f.ipv4(), f.udp()) {
        (Some(ip), Some(u))
            if ![67, 68, 69].contains(&u.dst_port) && text.lines().nth(1).is_some_and(|l| l.starts_with("TFTP")) =>
        {
            text.replacen(&format!(" > {}:{}\n", ip.dst, u.dst_port), &format!(" > {}:[tid]\n", ip.dst), 1)
        }
        _ => text,
    }
}

fn is_arp(f: &[u8]) -> bool {
    f.get(12..14) == Some(&[0x08, 0x06])
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("   {l}\n")).collect()
}
