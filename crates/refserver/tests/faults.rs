//! Every fault switch changes exactly the one observable thing it names.
//!
//! `demonstrate` matches on every `Fault` variant (no wildcard), so a new fault does
//! not compile until it has a demonstration here.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use bootcheck_refserver::{Fault, Health, Server, DEFAULT_TIMEOUT};
use bootcheck_scenario::site::{generate_content, Content, TftpFile};
use bootcheck_wire::arp::EthernetIpv4;
use bootcheck_wire::bootp::Packet;
use bootcheck_wire::frame::{build_ethernet, BROADCAST_MAC, ETHERTYPE_ARP};
use bootcheck_wire::tftp::Repr;
use common::*;

/// The observable parts of a BOOTREPLY frame that differ between `a` and `b`.
fn differences(a: &Out, b: &Out) -> BTreeSet<&'static str> {
    let mut d = BTreeSet::new();
    if (a.dst_mac, a.dst_ip, a.dst_port) != (b.dst_mac, b.dst_ip, b.dst_port) {
        d.insert("destination");
    }
    if (a.src_mac, a.src_ip, a.src_port, a.ttl) != (b.src_mac, b.src_ip, b.src_port, b.ttl) {
        d.insert("source");
    }
    if a.checksum_ok != b.checksum_ok {
        d.insert("checksum");
    }
    if a.payload.len() != b.payload.len() {
        d.insert("length");
    }
    let (p, q) = (Packet::new_unchecked(&a.payload[..]), Packet::new_unchecked(&b.payload[..]));
    let fields: [(&str, bool); 13] = [
        ("op", p.op() != q.op()),
        ("htype/hlen/hops", (p.htype(), p.hlen(), p.hops()) != (q.htype(), q.hlen(), q.hops())),
        ("xid", p.xid() != q.xid()),
        ("secs", p.secs() != q.secs()),
        ("flags", p.flags() != q.flags()),
        ("ciaddr", p.ciaddr() != q.ciaddr()),
        ("yiaddr", p.yiaddr() != q.yiaddr()),
        ("siaddr", p.siaddr() != q.siaddr()),
        ("giaddr", p.giaddr() != q.giaddr()),
        ("chaddr", p.chaddr_field() != q.chaddr_field()),
        ("sname", p.sname_field() != q.sname_field()),
        ("file", p.file_field() != q.file_field()),
        ("cookie", p.vend().get(..4) != q.vend().get(..4)),
    ];
    for (name, differs) in fields {
        if differs {
            d.insert(name);
        }
    }
    if opts(&a.payload) != opts(&b.payload) {
        d.insert("options");
    }
    let ends = |x: &Out| {
        Packet::new_unchecked(&x.payload[..]).walk().any(|i| matches!(i, Ok(bootcheck_wire::options::Item::End { .. })))
    };
    if ends(a) != ends(b) {
        d.insert("end");
    }
    d
}

/// Ask a clean server and one with `fault` the same thing; return both replies.
fn both(fault: Fault, frame: &[u8]) -> (Out, Out) {
    let mut good = Server::new(site(), vec![]);
    let mut bad = Server::new(site(), vec![fault]);
    (ask(&mut good, frame), ask(&mut bad, frame))
}

fn changes(fault: Fault, frame: &[u8], want: &[&str]) {
    let (good, bad) = both(fault, frame);
    let got = differences(&good, &bad);
    assert_eq!(got, want.iter().copied().collect::<BTreeSet<_>>(), "{fault}");
}

fn bootp() -> Bootp {
    Bootp::new(0xfa17, WS1_MAC)
}

fn demonstrate(fault: Fault) {
    match fault {
        Fault::WrongXid => {
            changes(fault, &bootp().frame(), &["xid"]);
            let (_, bad) = both(fault, &bootp().frame());
            assert_eq!(Packet::new_unchecked(&bad.payload[..]).xid(), 0xfa18);
        }
        Fault::WrongChaddr => {
            changes(fault, &bootp().frame(), &["chaddr"]);
            let (_, bad) = both(fault, &bootp().frame());
            assert_eq!(Packet::new_unchecked(&bad.payload[..]).chaddr(), &[2, 0, 0, 0, 0xbe, 0xfe]);
            assert_eq!(bad.dst_mac, WS1_MAC, "still delivered to the client");
        }
        Fault::WrongOp => changes(fault, &bootp().frame(), &["op"]),
        Fault::NoSiaddr => changes(fault, &bootp().frame(), &["siaddr"]),
        Fault::RelativeBootfile => {
            changes(fault, &bootp().frame(), &["file"]);
            let (_, bad) = both(fault, &bootp().frame());
            assert_eq!(Packet::new_unchecked(&bad.payload[..]).file(), b"pxelinux.0");
        }
        Fault::SnameNotTerminated => {
            changes(fault, &bootp().frame(), &["sname"]);
            let (_, bad) = both(fault, &bootp().frame());
            let f = Packet::new_unchecked(&bad.payload[..]).sname_field().to_vec();
            assert!(!f.contains(&0) && f.starts_with(b"bootsrv "));
        }
        Fault::AnswerForeignSname => {
            let req = bootp().sname("some-other-server").frame();
            assert!(server(&[]).handle_frame(T0, &req).is_empty());
            let mut bad = Server::new(site(), vec![fault]);
            let out = ask(&mut bad, &req);
            // Otherwise the very reply the request would get without sname.
            let good = ask(&mut server(&[]), &bootp().frame());
            assert!(differences(&good, &out).is_empty());
        }
        Fault::IgnoreBroadcastFlag => {
            changes(fault, &bootp().broadcast().frame(), &["destination"]);
            let (_, bad) = both(fault, &bootp().broadcast().frame());
            assert_eq!((bad.dst_mac, bad.dst_ip), (WS1_MAC, WS1_IP));
            // Without the flag nothing changes.
            changes(fault, &bootp().frame(), &[]);
        }
        Fault::IgnoreGiaddr => {
            let relayed = Bootp::new(1, WS3_MAC).giaddr(RELAY_IP).relayed();
            changes(fault, &relayed, &["destination"]);
            let (_, bad) = both(fault, &relayed);
            assert_eq!((bad.dst_mac, bad.dst_ip, bad.dst_port), (WS3_MAC, WS3_IP, 68));
        }
        Fault::ClearCiaddr => {
            changes(fault, &bootp().ciaddr(WS1_IP).frame(), &["ciaddr"]);
        }
        Fault::ShortReply => {
            changes(fault, &bootp().frame(), &["length"]);
            let (_, bad) = both(fault, &bootp().frame());
            assert_eq!(bad.payload.len(), 236 + 46);
            // A cookie-less request: no vend at all.
            let (_, bad) = both(fault, &bootp().raw_vend(&[0; 64]).frame());
            assert_eq!(bad.payload.len(), 236);
        }
        Fault::NoEndOption => changes(fault, &bootp().frame(), &["end"]),
        Fault::NoCookie => {
            let (good, bad) = both(fault, &bootp().frame());
            let mut want = good.payload.clone();
            want.drain(236..240);
            want.extend_from_slice(&[0; 4]);
            assert_eq!(bad.payload, want, "the same options, without the cookie");
            assert!(differences(&good, &bad).contains("cookie"));
        }
        Fault::DhcpOptionsInBootpReply => {
            changes(fault, &bootp().frame(), &["options"]);
            let (good, bad) = both(fault, &bootp().frame());
            assert_eq!(codes(&bad.payload), [vec![53, 54, 51], codes(&good.payload)].concat());
            // DHCP replies are not affected.
            changes(fault, &bootp().dhcp(1).frame(), &[]);
        }
        Fault::InfiniteLeaseMissing => {
            let discover = bootp().dhcp(1).frame();
            changes(fault, &discover, &["options"]);
            let (good, bad) = both(fault, &discover);
            assert!(opt(&good.payload, 51).is_some() && opt(&bad.payload, 51).is_none());
            changes(fault, &bootp().frame(), &[]);
        }
        Fault::BadUdpChecksum => {
            changes(fault, &bootp().frame(), &["checksum"]);
            let (_, bad) = both(fault, &bootp().frame());
            assert_eq!(bad.checksum_ok, Some(false), "non-zero and wrong");
        }
        Fault::DropEveryNth(n) => {
            assert_eq!(n, 2);
            let mut s = Server::new(site(), vec![fault]);
            let answered: Vec<bool> =
                (0..6).map(|i| !s.handle_frame(T0, &Bootp::new(i, WS1_MAC).frame()).is_empty()).collect();
            assert_eq!(answered, [true, false, true, false, true, false]);
        }
        Fault::CrashOnOption(code) => {
            let mut s = Server::new(site(), vec![fault]);
            assert_eq!(s.handle_frame(T0, &bootp().frame()).len(), 1);
            assert!(s.handle_frame(T0, &bootp().opt(code, b"PXEClient").frame()).is_empty());
            assert!(matches!(s.health(), Health::Crashed { .. }));
            assert!(s.handle_frame(T0, &bootp().frame()).is_empty(), "nothing further, ever");
            let arp = EthernetIpv4::request(WS1_MAC, WS1_IP, SERVER_IP).to_vec();
            assert!(s.handle_frame(T0, &build_ethernet(WS1_MAC, BROADCAST_MAC, ETHERTYPE_ARP, &arp)).is_empty());
            assert_eq!(server(&[]).health(), Health::Alive);
        }
        Fault::HangOnOverload => {
            let mut s = Server::new(site(), vec![fault]);
            let tftp = s.handle_frame(T0, &from_ws1(CLIENT_PORT, 69, &rrq("pxelinux.0", "octet", &[])));
            assert_eq!(tftp.len(), 1);
            let at = std::time::Duration::from_secs(1);
            assert!(s.handle_frame(at, &bootp().opt(52, &[1]).frame()).is_empty());
            assert_eq!(s.health(), Health::Hung { since: at });
            assert!(s.handle_frame(at, &bootp().frame()).is_empty());
            assert_eq!(s.poll_timeout(), None);
            assert!(s.handle_timeout(DEFAULT_TIMEOUT * 10).is_empty(), "no retransmission either");
            // Without the fault, overload is just honoured.
            assert_eq!(server(&[]).handle_frame(at, &bootp().opt(52, &[1]).frame()).len(), 1);
        }
        Fault::TftpSorcerersApprentice => {
            let run = |faults: &[&str]| {
                let mut s = server(faults);
                let first = s.handle_frame(T0, &from_ws1(CLIENT_PORT, 69, &rrq("pxelinux.0", "octet", &[])));
                let tid = decode(&first[0]).src_port;
                s.handle_frame(T0, &from_ws1(CLIENT_PORT, tid, &ack(1)));
                s.handle_frame(T0, &from_ws1(CLIENT_PORT, tid, &ack(1)))
            };
            assert!(run(&[]).is_empty());
            let dup = run(&["tftp-sorcerers-apprentice"]);
            assert_eq!(
                tftp_of(&decode(&dup[0])),
                Repr::Data { block: 2, data: &generate_content("pxelinux.0", &site().files["pxelinux.0"])[512..1024] }
            );
        }
        Fault::TftpOackUnrequested => {
            let run = |faults: &[&str], options: &[(&str, &str)]| {
                let mut s = server(faults);
                let f = s.handle_frame(T0, &from_ws1(CLIENT_PORT, 69, &rrq("exact1024.bin", "octet", options)));
                decode(&f[0]).payload
            };
            let name = "tftp-oack-unrequested";
            assert_eq!(Repr::parse_bytes(&run(&[], &[])).unwrap().opcode(), bootcheck_wire::tftp::Opcode::Data);
            let oack = run(&[name], &[]);
            let opts: Vec<(String, String)> = Repr::parse_bytes(&oack)
                .unwrap()
                .options()
                .iter()
                .map(|o| (String::from_utf8(o.name.to_vec()).unwrap(), String::from_utf8(o.value.to_vec()).unwrap()))
                .collect();
            assert_eq!(opts, [("tsize".to_string(), "1024".to_string())]);
            let oack = run(&[name], &[("tsize", "0")]);
            assert_eq!(Repr::parse_bytes(&oack).unwrap().options().len(), 2, "tsize and an unrequested blksize");
        }
        Fault::TftpNoRetransmit => {
            let run = |faults: &[&str]| {
                let mut s = server(faults);
                s.handle_frame(T0, &from_ws1(CLIENT_PORT, 69, &rrq("pxelinux.0", "octet", &[])));
                let at = s.poll_timeout().unwrap();
                s.handle_timeout(at).len()
            };
            assert_eq!((run(&[]), run(&["tftp-no-retransmit"])), (1, 0));
        }
        Fault::TftpNetasciiRaw => {
            let raw = generate_content("notes.txt", &site().files["notes.txt"]);
            let mut s = server(&["tftp-netascii-raw"]);
            let (data, _) = fetch(&mut s, "notes.txt", "netascii", &[]);
            assert_eq!(data, raw);
            let mut s = server(&[]);
            assert_ne!(fetch(&mut s, "notes.txt", "netascii", &[]).0, raw);
            // Octet transfers are not affected.
            let mut s = server(&["tftp-netascii-raw"]);
            assert_eq!(fetch(&mut s, "notes.txt", "octet", &[]).0, raw);
        }
        Fault::TftpRolloverToOne => {
            let run = |faults: Vec<Fault>| {
                let mut site = site();
                site.files.insert("big.bin".into(), TftpFile { size: 8 * 65_537, content: Content::Binary });
                let mut s = Server::new(site, faults);
                let (data, blocks) = fetch(&mut s, "big.bin", "octet", &[("blksize", "8"), ("windowsize", "64")]);
                assert_eq!(data.len(), 8 * 65_537);
                blocks.iter().skip(65_534).map(|b| b.0).collect::<Vec<u16>>()
            };
            assert_eq!(run(vec![]), [65_535, 0, 1, 2]);
            assert_eq!(run(vec![fault]), [65_535, 1, 2, 3]);
        }
        Fault::BsdpIgnoreReplyPort => {
            let inform = |sub: &[u8]| {
                Bootp::new(0xb5d9, WS1_MAC).ciaddr(WS1_IP).dhcp(8).opt(60, b"AAPLBSDPC/i386/M1,1").opt(43, sub).frame()
            };
            let with_port = inform(&[1, 1, 1, 2, 2, 1, 1, 5, 2, 3, 0xe1]);
            changes(fault, &with_port, &["destination"]);
            let (good, bad) = both(fault, &with_port);
            assert_eq!((good.dst_port, bad.dst_port), (993, 68));
            changes(fault, &inform(&[1, 1, 1, 2, 2, 1, 1]), &[]);
        }
        Fault::BsdpAnswerForeignSelect => {
            let select = |server: [u8; 4]| {
                let mut sub = vec![1, 1, 2, 2, 2, 1, 1, 3, 4];
                sub.extend(server);
                sub.extend([8, 4, 1, 0, 0x10, 1]);
                Bootp::new(0xb5d9, WS1_MAC).ciaddr(WS1_IP).dhcp(8).opt(60, b"AAPLBSDPC/i386/M1,1").opt(43, &sub).frame()
            };
            let foreign = select([192, 0, 2, 9]);
            assert!(server(&[]).handle_frame(T0, &foreign).is_empty());
            let out = ask(&mut Server::new(site(), vec![fault]), &foreign);
            // Otherwise the very reply a SELECT naming this server gets.
            let good = ask(&mut server(&[]), &select(SERVER_IP.octets()));
            assert!(differences(&good, &out).is_empty());
        }
        Fault::NoAgentOptionEcho => {
            let relayed = |agent: bool| {
                let b = Bootp::new(0x82ec, WS3_MAC).dhcp(1).giaddr(RELAY_IP);
                if agent { b.opt(82, &[1, 4, b'r', b'e', b'l', b'0']) } else { b }.relayed()
            };
            // The echo (and the octets it took) is gone; nothing else changes.
            changes(fault, &relayed(true), &["options", "length"]);
            let (good, bad) = both(fault, &relayed(true));
            assert_eq!((opt(&good.payload, 82).is_some(), opt(&bad.payload, 82)), (true, None));
            changes(fault, &relayed(false), &[]);
        }
    }
}

#[test]
fn every_fault_changes_what_it_says() {
    for f in Fault::examples() {
        demonstrate(f);
    }
}

#[test]
fn fault_names_parse_and_print() {
    for (f, name) in Fault::examples().into_iter().zip(Fault::ALL_NAMES) {
        let shown = f.to_string();
        assert_eq!(shown.parse::<Fault>().unwrap(), f);
        assert_eq!(name.split('=').next().unwrap(), f.name());
    }
    assert_eq!("drop-every-nth=7".parse::<Fault>().unwrap(), Fault::DropEveryNth(7));
    assert_eq!(Fault::CrashOnOption(60).to_string(), "crash-on-option=60");
    let e = "no-such-fault".parse::<Fault>().unwrap_err().to_string();
    assert!(e.contains("unknown fault `no-such-fault`") && e.contains("wrong-xid"), "{e}");
    assert!(Fault::ALL_NAMES.len() >= 12);
}

#[test]
fn faults_are_logged() {
    let mut s = server(&["wrong-xid", "dhcp-options-in-bootp-reply"]);
    assert_eq!(s.faults().len(), 2);
    s.handle_frame(T0, &bootp().frame());
    let log = log_text(&mut s);
    assert!(log.contains("fault: dhcp-options-in-bootp-reply"), "{log}");
}
