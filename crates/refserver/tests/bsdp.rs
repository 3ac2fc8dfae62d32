//! Apple BSDP (NetBoot) from the site's images (BSDP summary §4, §6.1, §6.4, §6.5).
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::net::Ipv4Addr;

use bootcheck_refserver::DropReason;
use bootcheck_wire::bootp::Packet;
use bootcheck_wire::bsdp::{self, BootImageId, MessageType as M, Repr};
use common::*;

const INFORM: u8 = 8;
const VC: &[u8] = b"AAPLBSDPC/i386/MacBookPro11,1";
const MACOS: u32 = 0x0100_1001;
const INSTALL: u32 = 0x8100_1002;
const DIAGS: u32 = 0x0300_0008;

/// An INFORM from ws1 at its address with these BSDP sub-options.
fn inform(xid: u32, sub: &[u8]) -> Bootp {
    Bootp::new(xid, WS1_MAC).ciaddr(WS1_IP).dhcp(INFORM).opt(55, &[1, 3, 17, 43, 60]).opt(60, VC).opt(43, sub)
}

const LIST: &[u8] = &[1, 1, 1, 2, 2, 1, 1];

fn select(id: u32) -> Vec<u8> {
    let mut v = vec![1, 1, 2, 2, 2, 1, 1, 3, 4];
    v.extend(SERVER_IP.octets());
    v.extend([8, 4]);
    v.extend(id.to_be_bytes());
    v
}

/// Option 43 of a reply, joined, and its parse.
fn bsdp_of(payload: &[u8]) -> Vec<u8> {
    Packet::new_unchecked(payload).aggregate(43).unwrap().into_owned()
}

#[test]
fn list_gets_ack_list_with_priority_default_and_the_images() {
    let mut s = server(&[]);
    let out = ask(&mut s, &inform(0xb5d9, LIST).frame());
    // Unicast to ciaddr at chaddr, port 68, from 67 (§6.4).
    assert_eq!((out.dst_mac, out.dst_ip, out.dst_port, out.src_port), (WS1_MAC, WS1_IP, 68, 67));
    let p = Packet::new_unchecked(&out.payload[..]);
    assert_eq!(
        (p.op().to_u8(), p.xid(), p.ciaddr(), p.yiaddr(), p.siaddr()),
        (2, 0xb5d9, WS1_IP, Ipv4Addr::UNSPECIFIED, SERVER_IP)
    );
    assert_eq!(p.file(), b"");
    assert!(out.payload.len() >= 300);
    // 53, 54, then 43 and 60 in the parameter request list's order.
    assert_eq!(codes(&out.payload), [53, 54, 43, 60]);
    assert_eq!(opt(&out.payload, 53), Some(vec![5]));
    assert_eq!(opt(&out.payload, 54), Some(SERVER_IP.octets().to_vec()));
    assert_eq!(opt(&out.payload, 60), Some(b"AAPLBSDPC".to_vec()));
    let data = bsdp_of(&out.payload);
    let r = Repr::parse(&data).unwrap();
    assert_eq!(r.message_type(), Some(M::List));
    assert_eq!(r.priority(), Some(32768));
    assert_eq!(r.default_image(), Some(BootImageId(MACOS)));
    assert_eq!(r.selected_image(), None);
    let images: Vec<(u32, Vec<u8>)> = r.images().map(|i| (i.id.0, i.name.to_vec())).collect();
    assert_eq!(
        images,
        [(DIAGS, b"Hardware Test".to_vec()), (INSTALL, b"macOS Install".to_vec()), (MACOS, b"macOS NetBoot".to_vec())]
    );
    assert!(log_text(&mut s).contains("BSDP ACK[LIST]"));
}

#[test]
fn select_of_a_known_image_gets_ack_select_and_binds_the_client() {
    let mut s = server(&[]);
    let out = ask(&mut s, &inform(1, &select(DIAGS)).frame());
    let p = Packet::new_unchecked(&out.payload[..]);
    assert_eq!(p.file(), b"/tftpboot/NetBoot/NetBootSP0/diags.nbi/i386/booter");
    assert_eq!((p.siaddr(), p.sname()), (SERVER_IP, &b"bootsrv"[..]));
    assert_eq!(codes(&out.payload), [53, 54, 17, 43, 60]);
    assert_eq!(opt(&out.payload, 17), Some(b"http://192.0.2.1/NetBoot/NetBootSP0/diags.nbi/diags.dmg".to_vec()));
    let data = bsdp_of(&out.payload);
    let r = Repr::parse(&data).unwrap();
    assert_eq!((r.message_type(), r.selected_image()), (Some(M::Select), Some(BootImageId(DIAGS))));
    assert_eq!(r.machine_name(), Some(&b"ws1"[..]), "the host-table name");
    assert_eq!(s.bsdp_bindings().get(&WS1_MAC), Some(&DIAGS));
    // The next LIST names the bound image.
    let out = ask(&mut s, &inform(2, LIST).frame());
    let data = bsdp_of(&out.payload);
    assert_eq!(Repr::parse(&data).unwrap().selected_image(), Some(BootImageId(DIAGS)));
    // No image named: the default one (§6.1).
    let mut sub = select(0);
    sub.truncate(sub.len() - 6);
    let out = ask(&mut s, &inform(3, &sub).frame());
    let data = bsdp_of(&out.payload);
    assert_eq!(Repr::parse(&data).unwrap().selected_image(), Some(BootImageId(MACOS)));
}

#[test]
fn select_of_an_unknown_image_gets_ack_failed() {
    let mut s = server(&[]);
    // An unknown index, and a known index with other attributes (§5: the whole ID).
    for id in [0x0100_7777, 0x0200_1001] {
        let out = ask(&mut s, &inform(id, &select(id)).frame());
        let p = Packet::new_unchecked(&out.payload[..]);
        assert_eq!(p.file(), b"");
        assert_eq!(codes(&out.payload), [53, 54, 43, 60]);
        assert_eq!(bsdp_of(&out.payload), [1, 1, 3]);
    }
    assert!(s.bsdp_bindings().is_empty());
}

#[test]
fn the_reply_port_is_honoured() {
    let mut s = server(&[]);
    let mut sub = LIST.to_vec();
    sub.extend([5, 2, 3, 0xe1]);
    let out = ask(&mut s, &inform(1, &sub).frame());
    assert_eq!((out.dst_ip, out.dst_port), (WS1_IP, 993));
    // With the fault, port 68.
    let mut f = server(&["bsdp-ignore-reply-port"]);
    assert_eq!(ask(&mut f, &inform(1, &sub).frame()).dst_port, 68);
}

#[test]
fn version_1_0_gets_no_image_list_and_a_filter_removes_images() {
    let mut s = server(&[]);
    let out = ask(&mut s, &inform(1, &[1, 1, 1, 2, 2, 1, 0]).frame());
    let data = bsdp_of(&out.payload);
    let r = Repr::parse(&data).unwrap();
    assert_eq!((r.default_image(), r.find(bsdp::code::BOOT_IMAGE_LIST)), (Some(BootImageId(MACOS)), None));
    // Filter 0x0300: diagnostics only, and the default (Mac OS X) leaves sub-option 7.
    let out = ask(&mut s, &inform(2, &[1, 1, 1, 2, 2, 1, 1, 11, 2, 3, 0]).frame());
    let data = bsdp_of(&out.payload);
    let r = Repr::parse(&data).unwrap();
    assert_eq!(r.images().map(|i| i.id.0).collect::<Vec<_>>(), [DIAGS]);
    assert_eq!(r.default_image(), None);
    // Filter 0x0200: nothing applies, no reply.
    assert!(s.handle_frame(T0, &inform(3, &[1, 1, 1, 2, 2, 1, 1, 11, 2, 2, 0]).frame()).is_empty());
    assert_eq!(s.stats().dropped(DropReason::BsdpNoImage), 1);
}

#[test]
fn a_small_maximum_cuts_the_image_list_and_option_43_splits_at_sub_options() {
    let mut s = server(&[]);
    let mut site = s.site().clone();
    // Forty images: the list no longer fits one option-43 instance, nor 576 octets.
    for i in 0..40u16 {
        let mut img = site.netboot.images["macos"].clone();
        img.index = 0x2000 + i;
        img.name = format!("Image number {i:02}");
        site.netboot.images.insert(format!("img{i:02}"), img);
    }
    s = bootcheck_refserver::Server::new(site, Vec::new());
    let out = ask(&mut s, &inform(1, LIST).frame());
    assert!(out.payload.len() + 28 <= 576, "{} octets", out.payload.len());
    let p = Packet::new_unchecked(&out.payload[..]);
    let inst: Vec<&[u8]> = p.options().filter(|o| o.option.code == 43).map(|o| o.option.data).collect();
    assert!(inst.len() >= 2);
    assert!(bsdp::JoinedInstances::join(inst.iter().copied()).straddles().is_empty());
    let data = bsdp_of(&out.payload);
    let n = Repr::parse(&data).unwrap().images().count();
    assert!(n > 5 && n < 43, "{n} images listed");
    assert!(log_text(&mut s).contains("image list cut to"));
    // Sub-option 12 lets more through.
    let mut sub = LIST.to_vec();
    sub.extend([12, 2, 0x05, 0xdc]);
    let out = ask(&mut s, &inform(2, &sub).frame());
    let data = bsdp_of(&out.payload);
    assert_eq!(Repr::parse(&data).unwrap().images().count(), 43);
    assert!(out.payload.len() + 28 <= 1500);
}

#[test]
fn apple_bootpd_drop_cases_are_silent() {
    let mut s = server(&[]);
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("no ciaddr", inform(1, LIST).ciaddr(Ipv4Addr::UNSPECIFIED).frame()),
        ("no version", inform(2, &[1, 1, 1]).frame()),
        ("version 2.0", inform(3, &[1, 1, 1, 2, 2, 2, 0]).frame()),
        ("no message type", inform(4, &[2, 2, 1, 1]).frame()),
        ("message type 9", inform(5, &[1, 1, 9, 2, 2, 1, 1]).frame()),
        ("FAILED from a client", inform(6, &[1, 1, 3, 2, 2, 1, 1]).frame()),
        ("reply port 1024", inform(7, &[1, 1, 1, 2, 2, 1, 1, 5, 2, 4, 0]).frame()),
        ("option 43 past its end", inform(8, &[1, 1, 1, 2, 2, 1, 1, 5, 6, 3]).frame()),
        ("select without server id", inform(9, &[1, 1, 2, 2, 2, 1, 1, 8, 4, 1, 0, 0x10, 1]).frame()),
        ("netboot 1.0 firmware", inform(10, &[1, 1, 1, 2, 2, 1, 1, 10, 0]).frame()),
    ];
    let mut not_eth = inform(11, LIST);
    not_eth.htype = 6;
    cases.push(("htype 6", not_eth.frame()));
    let n = cases.len() as u64;
    for (what, f) in cases {
        assert!(s.handle_frame(T0, &f).is_empty(), "{what}: answered");
    }
    assert_eq!(s.stats().dropped(DropReason::BadBsdp), n);
    // Another server named: silent, and the client's binding here is deleted.
    ask(&mut s, &inform(20, &select(MACOS)).frame());
    let mut other = select(MACOS);
    other[9..13].copy_from_slice(&[192, 0, 2, 9]);
    assert!(s.handle_frame(T0, &inform(21, &other).frame()).is_empty());
    assert_eq!(s.stats().dropped(DropReason::BsdpOtherServer), 1);
    assert!(s.bsdp_bindings().is_empty());
    // ... unless the fault says otherwise.
    let mut f = server(&["bsdp-answer-foreign-select"]);
    let out = ask(&mut f, &inform(22, &other).frame());
    assert_eq!(Repr::parse(&bsdp_of(&out.payload)).unwrap().message_type(), Some(M::Select));
}

#[test]
fn what_is_not_bsdp_is_dhcp() {
    let mut s = server(&[]);
    // No option 60, an invalid one, the server form: ws1 is a known client, so the DHCP
    // server answers the DHCPINFORM, without BSDP.
    let plain = Bootp::new(1, WS1_MAC).ciaddr(WS1_IP).dhcp(INFORM).opt(43, LIST);
    for req in [
        plain.clone(),
        plain.clone().opt(60, b"AAPLBSDPC/i386"),
        plain.clone().opt(60, b"AAPLBSDPC/i\x00386/x"),
        plain.clone().opt(60, b"AAPLBSDPC"),
    ] {
        let out = ask(&mut s, &req.frame());
        assert_eq!(opt(&out.payload, 60), None);
        assert_eq!(Packet::new_unchecked(&out.payload[..]).file(), b"/tftpboot/pxelinux.0");
    }
    // A DISCOVER with a BSDP vendor class is a DHCP DISCOVER (no OFFER* here).
    let d = Bootp::new(2, WS1_MAC).dhcp(1).opt(60, VC).opt(43, &[2, 2, 1, 1]);
    let out = ask(&mut s, &d.frame());
    assert_eq!(opt(&out.payload, 53), Some(vec![2]));
    assert_eq!(opt(&out.payload, 60), None);
}
