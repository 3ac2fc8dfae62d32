//! `bootcheck decode`: every boot-protocol packet of captures, decoded with findings.

use std::path::PathBuf;

use bootcheck_capture::reader::{Event, IssueKind};
use bootcheck_wire::arp;
use bootcheck_wire::bootp::Packet;
use bootcheck_wire::frame::{Frame, Net};
use bootcheck_wire::tftp;

use crate::{EXIT_INPUT, EXIT_OK};

pub fn decode(paths: &[PathBuf]) -> u8 {
    let mut status = EXIT_OK;
    for path in paths {
        // The streaming reader `check` uses: every pcapng interface keeps its own link
        // type, and damage is reported with packet and byte offset, then read past.
        let mut reader = match bootcheck_capture::open(path) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {}: cannot read as pcap/pcapng: {e}", path.display());
                status = EXIT_INPUT;
                continue;
            }
        };
        while let Some(ev) = reader.next_event() {
            let rec = match ev {
                Event::Packet(rec) => rec,
                Event::Issue(issue) => {
                    let damaged = matches!(issue.kind, IssueKind::BadRecord { .. } | IssueKind::Truncated { .. });
                    eprintln!("{}: {}: {issue}", if damaged { "error" } else { "warning" }, path.display());
                    if damaged {
                        status = EXIT_INPUT;
                    }
                    continue;
                }
            };
            let n = rec.number;
            let frame = match Frame::parse(rec.link, rec.data) {
                Ok(f) => f,
                Err(e) => {
                    println!("{}#{n}: ! {e}", path.display());
                    continue;
                }
            };
            let body = match (&frame.net, frame.bootp(), frame.udp()) {
                (_, Some(b), Some(u)) => Some(rebase(&Packet::new_unchecked(b).to_string(), u.payload_offset)),
                (_, None, Some(u)) if u.dst_port == tftp::SERVER_PORT => {
                    Some(match tftp::Repr::parse_bytes(u.payload) {
                        Ok(r) => r.to_string(),
                        Err(e) => format!("TFTP ! {}", e.shifted(u.payload_offset)),
                    })
                }
                (Net::Arp { body, offset }, _, _) => Some(match arp::Repr::parse_bytes(body) {
                    Ok(r) => r.to_string(),
                    Err(e) => format!("ARP ! {}", e.shifted(*offset)),
                }),
                _ => None,
            };
            if let Some(body) = body {
                println!("{}#{n}: {body}", path.display());
                for f in &frame.findings {
                    println!("  ! {f}");
                }
            }
        }
    }
    status
}

/// Decodes print payload offsets; show frame offsets, as Wireshark's byte view does.
fn rebase(decode: &str, base: usize) -> String {
    decode
        .lines()
        .map(|l| match l.trim_start().strip_prefix("! at byte ").and_then(|r| r.split_once(':')) {
            Some((n, rest)) => match n.parse::<usize>() {
                Ok(n) => format!("  ! at byte {}:{rest}", n + base),
                Err(_) => l.to_string(),
            },
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
