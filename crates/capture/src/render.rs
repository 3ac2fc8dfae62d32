//! Plain-text renderings of verdicts, shared by `bootcheck check` and the snapshot
//! tests (so what the tests pin is what users read).

use std::fmt::Write as _;

use crate::check::{Exchange, Summary};
use crate::reader::Issue;

/// `#3,#4` / `#3-#9` / `#3,#4,#7 … (12)`.
pub fn packets(p: &[u64]) -> String {
    match p {
        [] => String::new(),
        [a] => format!("#{a}"),
        _ if p.len() > 2 && p.windows(2).all(|w| w[1] == w[0] + 1) => format!("#{}-#{}", p[0], p[p.len() - 1]),
        _ if p.len() <= 4 => p.iter().map(|n| format!("#{n}")).collect::<Vec<_>>().join(","),
        _ => format!("#{},#{} … #{} ({})", p[0], p[1], p[p.len() - 1], p.len()),
    }
}

/// One exchange: the verdict line, then one line per failure.
pub fn exchange(e: &Exchange) -> String {
    let mut s = format!("{:<10} {:<12} {:<7} {}", e.verdict.label(), packets(&e.packets), e.kind, e.what);
    if e.checked > 0 {
        let _ = write!(s, "  [{} checks]", e.checked);
    }
    for f in &e.failures {
        let _ = write!(s, "\n    {} {}: packet {}", f.level, f.rule, f.packet);
        if let Some(o) = f.offset {
            let _ = write!(s, " byte {o}");
        }
        let _ = write!(s, ": {}: expected {}, seen {}", f.field, f.expected, f.seen);
    }
    if let Some(n) = &e.note {
        let _ = write!(s, "\n    note: {n}");
    }
    s
}

/// One capture problem.
pub fn issue(i: &Issue) -> String {
    format!("!          {i}")
}

/// The closing lines.
pub fn summary(s: &Summary) -> String {
    let mut out = format!(
        "{} packets ({} BOOTP/DHCP, {} TFTP, {} ARP/RARP, {} other",
        s.packets, s.bootp_messages, s.tftp_packets, s.arp_rarp_packets, s.other_packets
    );
    if s.unparsable > 0 {
        let _ = write!(out, ", {} unparsable", s.unparsable);
    }
    if s.reassembled > 0 {
        let _ = write!(out, ", {} reassembled from fragments", s.reassembled);
    }
    let verdicts: Vec<String> = s.by_verdict.iter().map(|(k, v)| format!("{v} {k}")).collect();
    let _ = write!(out, "); {} exchanges", s.exchanges);
    if !verdicts.is_empty() {
        let _ = write!(out, ": {}", verdicts.join(", "));
    }
    let _ = write!(out, "; {} issues", s.issues);
    let failing: Vec<String> = s
        .rules
        .iter()
        .filter(|r| r.failed > 0)
        .map(|r| format!("  {} {} failed {} of {} times", r.level, r.rule, r.failed, r.checked))
        .collect();
    if !failing.is_empty() {
        out.push_str("\nfailing rules:\n");
        out.push_str(&failing.join("\n"));
    }
    out
}
