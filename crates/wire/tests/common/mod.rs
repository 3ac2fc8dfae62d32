//! Helpers shared by the integration tests and the bench: where the shared captures
//! are, and reading BOOTP payloads out of them.
#![allow(dead_code)]

use std::path::PathBuf;

use bootcheck_wire::frame::{Frame, LinkType};

/// `../shared/captures/third-party`, beside the repository checkout.
pub fn third_party() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/captures/third-party")
}

/// Every BOOTP message (UDP payload on port 67/68) in a capture file.
pub fn bootp_payloads(path: &std::path::Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cap = match pcap::Capture::from_file(path) {
        Ok(c) => c,
        Err(e) => panic!("cannot open {}: {e}", path.display()),
    };
    let lt = LinkType::from_u32(cap.get_datalink().0 as u32);
    while let Ok(pkt) = cap.next_packet() {
        if let Ok(f) = Frame::parse(lt, pkt.data) {
            if let Some(b) = f.bootp() {
                out.push(b.to_vec());
            }
        }
    }
    out
}

/// BOOTREPLY messages from the clean captures: the bench and allocation test corpus.
pub fn real_replies() -> Vec<Vec<u8>> {
    let dir = third_party();
    assert!(
        dir.is_dir(),
        "{} not found: the shared captures must sit beside the repository (../shared)",
        dir.display()
    );
    let files = [
        "charrua/dhcp2.pcap",
        "charrua/dhcp.pcap",
        "zeek/dhcp.pcap",
        "joy/dhcp.pcap",
        "PcapPlusPlus/Dhcp1.pcap",
        "PcapPlusPlus/Dhcp3.pcap",
        "tcpdump/dhcp-rfc5859.pcap",
        "tcpdump/dhcp-mud.pcap",
        "tcpdump/dhcp-rfc3004.pcap",
        "nDPI/iphone.pcap",
        "suricata-verify/dhcp-option-52-overload/input.pcap",
        "suricata-verify/dhcp-eve-extended/input.pcap",
    ];
    let replies: Vec<Vec<u8>> =
        files.iter().flat_map(|f| bootp_payloads(&dir.join(f))).filter(|b| b.first() == Some(&2)).collect();
    assert!(replies.len() >= 15, "expected at least 15 replies, got {}", replies.len());
    replies
}
