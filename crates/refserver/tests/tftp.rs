//! TFTP (RFC 1350, 2347, 2348, 2349, 7440): transfers, negotiation, errors, time.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::Duration;

use bootcheck_refserver::{DropReason, Kind, Server, DEFAULT_TIMEOUT, MAX_RETRIES};
use bootcheck_scenario::site::{generate_content, Content, TftpFile};
use bootcheck_wire::tftp::{ErrorCode, Repr};
use common::*;

fn content(name: &str) -> Vec<u8> {
    let s = site();
    generate_content(name, &s.files[name])
}

fn request(s: &mut Server, name: &str, mode: &str, options: &[(&str, &str)]) -> Vec<Out> {
    s.handle_frame(T0, &from_ws1(CLIENT_PORT, 69, &rrq(name, mode, options))).iter().map(|f| decode(f)).collect()
}

fn error_of(o: &Out) -> (ErrorCode, String) {
    match tftp_of(o) {
        Repr::Error { code, message } => (code, String::from_utf8(message.to_vec()).unwrap()),
        other => panic!("expected ERROR, got {other:?}"),
    }
}

fn data_of(o: &Out) -> (u16, Vec<u8>) {
    match tftp_of(o) {
        Repr::Data { block, data } => (block, data.to_vec()),
        other => panic!("expected DATA, got {other:?}"),
    }
}

#[test]
fn octet_read_without_options() {
    let mut s = server(&[]);
    let first = request(&mut s, "pxelinux.0", "octet", &[]);
    assert_eq!(first.len(), 1);
    let o = &first[0];
    // A new TID, from the server's address to the client's TID.
    assert_eq!(
        (o.src_ip, o.src_port, o.dst_ip, o.dst_port, o.dst_mac),
        (SERVER_IP, 49152, WS1_IP, CLIENT_PORT, WS1_MAC)
    );
    assert_eq!(o.checksum_ok, Some(true));
    let (block, data) = data_of(o);
    assert_eq!(block, 1);
    assert_eq!(data, &content("pxelinux.0")[..512]);

    let mut s = server(&[]);
    let (data, blocks) = fetch(&mut s, "pxelinux.0", "octet", &[]);
    assert_eq!(data, content("pxelinux.0"));
    assert_eq!(blocks.len(), 100_000 / 512 + 1);
    assert_eq!(blocks.last(), Some(&(196, 100_000 % 512)));
    assert!(log_text(&mut s)
        .contains("RFC1350 §6: final ACK 196: transfer of pxelinux.0 complete (100000 octets, 196 blocks, TID 49152)"));
    assert_eq!(s.poll_timeout(), None, "nothing pending after the final ACK");
}

#[test]
fn final_block_rules() {
    // A multiple of the block size ends with an empty block (RFC 1350 §6, RFC 2348).
    let mut s = server(&[]);
    let (data, blocks) = fetch(&mut s, "exact1024.bin", "octet", &[]);
    assert_eq!(data, content("exact1024.bin"));
    assert_eq!(blocks, vec![(1, 512), (2, 512), (3, 0)]);
    let (data, blocks) = fetch(&mut s, "empty.bin", "octet", &[]);
    assert!(data.is_empty());
    assert_eq!(blocks, vec![(1, 0)]);
}

#[test]
fn names_absolute_relative_and_refused() {
    let mut s = server(&[]);
    for ok in ["pxelinux.0", "/tftpboot/pxelinux.0", "boot/kernel.img", "/tftpboot//boot/./kernel.img"] {
        let r = request(&mut s, ok, "octet", &[]);
        assert_eq!(data_of(&r[0]).0, 1, "{ok}");
    }
    for (name, code) in [
        ("../etc/passwd", ErrorCode::AccessViolation),
        ("/etc/passwd", ErrorCode::AccessViolation),
        ("boot/../../x", ErrorCode::AccessViolation),
        ("/tftpboot/../tftpboot/pxelinux.0", ErrorCode::AccessViolation),
        ("missing.bin", ErrorCode::FileNotFound),
        ("/tftpboot/missing.bin", ErrorCode::FileNotFound),
    ] {
        let r = request(&mut s, name, "octet", &[]);
        assert_eq!(r.len(), 1);
        assert_eq!(error_of(&r[0]).0, code, "{name}");
        assert!(r[0].src_port >= 49152, "errors come from a new TID too");
    }
    let r = request(&mut s, "pxelinux.0", "mail", &[]);
    assert_eq!(error_of(&r[0]).0, ErrorCode::IllegalOperation);
    let r = request(&mut s, "pxelinux.0", "binary", &[]);
    assert_eq!(error_of(&r[0]).0, ErrorCode::IllegalOperation);
    // Modes are case-insensitive.
    let r = request(&mut s, "pxelinux.0", "OCTET", &[]);
    assert_eq!(data_of(&r[0]).0, 1);
}

#[test]
fn write_requests_and_junk_at_port_69() {
    let mut s = server(&[]);
    let r = s.handle_frame(T0, &from_ws1(CLIENT_PORT, 69, &wrq("pxelinux.0")));
    let (code, msg) = error_of(&decode(&r[0]));
    assert_eq!(code, ErrorCode::AccessViolation);
    assert!(msg.contains("read-only"), "{msg}");
    // Malformed request, ACK to port 69: ERROR 4. An ERROR to port 69: nothing.
    let r = s.handle_frame(T0, &from_ws1(CLIENT_PORT, 69, b"\x00\x01pxelinux.0"));
    assert_eq!(error_of(&decode(&r[0])).0, ErrorCode::IllegalOperation);
    let r = s.handle_frame(T0, &from_ws1(CLIENT_PORT, 69, &ack(1)));
    assert_eq!(error_of(&decode(&r[0])).0, ErrorCode::IllegalOperation);
    let err = Repr::Error { code: ErrorCode::NotDefined, message: b"x" }.to_vec();
    assert!(s.handle_frame(T0, &from_ws1(CLIENT_PORT, 69, &err)).is_empty());
    assert!(s.handle_frame(T0, &from_ws1(CLIENT_PORT, 69, b"\x00\x05")).is_empty());
    assert!(s.handle_frame(T0, &from_ws1(CLIENT_PORT, 69, b"")).len() == 1);
}

#[test]
fn oack_negotiation() {
    let mut s = server(&[]);
    let r = request(
        &mut s,
        "pxelinux.0",
        "octet",
        &[("blksize", "1024"), ("tsize", "0"), ("timeout", "3"), ("windowsize", "4")],
    );
    assert_eq!(r.len(), 1);
    let want = Repr::Oack {
        options: vec![
            bootcheck_wire::tftp::TftpOption::new(b"blksize", b"1024"),
            bootcheck_wire::tftp::TftpOption::new(b"tsize", b"100000"),
            bootcheck_wire::tftp::TftpOption::new(b"timeout", b"3"),
            bootcheck_wire::tftp::TftpOption::new(b"windowsize", b"4"),
        ],
    };
    assert_eq!(tftp_of(&r[0]), want);
    let tid = r[0].src_port;
    // Retransmission uses the negotiated timeout.
    assert_eq!(s.poll_timeout(), Some(Duration::from_secs(3)));
    // ACK 0 confirms: a window of 4 blocks of 1024.
    let w = s.handle_frame(T0, &from_ws1(CLIENT_PORT, tid, &ack(0)));
    assert_eq!(w.len(), 4);
    for (i, f) in w.iter().enumerate() {
        let (b, d) = data_of(&decode(f));
        assert_eq!(b as usize, i + 1);
        assert_eq!(d, &content("pxelinux.0")[i * 1024..(i + 1) * 1024]);
    }

    // The client's spelling is kept; unknown, invalid and repeated options are left out.
    let r = request(
        &mut s,
        "boot/kernel.img",
        "octet",
        &[("BlkSize", "9000"), ("foo", "1"), ("timeout", "0"), ("blksize", "600"), ("tsize", "x")],
    );
    let want = Repr::Oack { options: vec![bootcheck_wire::tftp::TftpOption::new(b"BlkSize", b"1468")] };
    assert_eq!(tftp_of(&r[0]), want, "blksize answered smaller (RFC 2348)");
    // Nothing acceptable: no OACK, DATA at once.
    let mut s = server(&[]);
    let r = request(&mut s, "boot/kernel.img", "octet", &[("blksize", "7"), ("windowsize", "0"), ("foo", "1")]);
    assert_eq!(data_of(&r[0]).0, 1);
    assert!(log_text(&mut s).contains("RFC2347: option blksize value \"7\" is invalid: left out of the OACK"));
    // An ERROR 8 from the client ends the transfer.
    let r = request(&mut s, "pxelinux.0", "octet", &[("blksize", "1024")]);
    let tid = r[0].src_port;
    let e8 = Repr::Error { code: ErrorCode::OptionNegotiation, message: b"no" }.to_vec();
    assert!(s.handle_frame(T0, &from_ws1(CLIENT_PORT, tid, &e8)).is_empty());
    assert!(s.handle_frame(T0, &from_ws1(CLIENT_PORT, tid, &ack(0))).is_empty(), "transfer gone");
}

#[test]
fn full_transfers_with_options() {
    let mut s = server(&[]);
    let (data, blocks) = fetch(&mut s, "pxelinux.0", "octet", &[("blksize", "1468")]);
    assert_eq!(data, content("pxelinux.0"));
    assert_eq!(blocks.len(), 100_000 / 1468 + 1);
    assert!(blocks.iter().rev().skip(1).all(|(_, n)| *n == 1468));
    // Windows: the fetch helper ACKs the last block of each window.
    let (data, _) = fetch(&mut s, "pxelinux.0", "octet", &[("windowsize", "8"), ("blksize", "100")]);
    assert_eq!(data, content("pxelinux.0"));
}

#[test]
fn netascii_conversion() {
    let mut s = server(&[]);
    let raw = content("notes.txt");
    let mut want = Vec::new();
    for &b in &raw {
        match b {
            b'\n' => want.extend_from_slice(b"\r\n"),
            b'\r' => want.extend_from_slice(b"\r\0"),
            c => want.push(c),
        }
    }
    assert!(want.len() > raw.len());
    let (data, _) = fetch(&mut s, "notes.txt", "netascii", &[]);
    assert_eq!(data, want);
    // tsize reports the octets transferred.
    let r = request(&mut s, "notes.txt", "netascii", &[("tsize", "0")]);
    let want_tsize = want.len().to_string();
    assert_eq!(tftp_of(&r[0]).options()[0].value, want_tsize.as_bytes());
}

/// RFC 1123 §4.2.3.1: a duplicate ACK must not trigger a duplicate DATA.
#[test]
fn duplicate_acks_do_not_duplicate_data() {
    let mut s = server(&[]);
    let r = request(&mut s, "pxelinux.0", "octet", &[]);
    let tid = r[0].src_port;
    let n = s.handle_frame(T0, &from_ws1(CLIENT_PORT, tid, &ack(1)));
    assert_eq!(data_of(&decode(&n[0])).0, 2);
    assert!(s.handle_frame(T0, &from_ws1(CLIENT_PORT, tid, &ack(1))).is_empty());
    assert!(s.handle_frame(T0, &from_ws1(CLIENT_PORT, tid, &ack(1))).is_empty());
    assert!(s.handle_frame(T0, &from_ws1(CLIENT_PORT, tid, &ack(7))).is_empty(), "not in flight");
    let n = s.handle_frame(T0, &from_ws1(CLIENT_PORT, tid, &ack(2)));
    assert_eq!(data_of(&decode(&n[0])).0, 3);
    assert_eq!(s.stats().dropped(DropReason::TftpIgnored), 3);
    assert!(log_text(&mut s).contains("RFC1123 §4.2.3.1: duplicate ACK 1 at TID 49152: no DATA sent again"));
}

/// RFC 7440 §4: an ACK inside the window restarts the window after it.
#[test]
fn window_restarts_after_an_inner_ack() {
    let mut s = server(&[]);
    let r = request(&mut s, "pxelinux.0", "octet", &[("windowsize", "4")]);
    let tid = r[0].src_port;
    assert_eq!(s.handle_frame(T0, &from_ws1(CLIENT_PORT, tid, &ack(0))).len(), 4);
    let w = s.handle_frame(T0, &from_ws1(CLIENT_PORT, tid, &ack(2)));
    let blocks: Vec<u16> = w.iter().map(|f| data_of(&decode(f)).0).collect();
    assert_eq!(blocks, vec![3, 4, 5, 6]);
    let w = s.handle_frame(T0, &from_ws1(CLIENT_PORT, tid, &ack(6)));
    let blocks: Vec<u16> = w.iter().map(|f| data_of(&decode(f)).0).collect();
    assert_eq!(blocks, vec![7, 8, 9, 10]);
}

/// RFC 7440 §4: with a window out, an ACK of the last block already acknowledged says
/// the window's first block was lost: the window goes out again from it, at once. In
/// lock step the same ACK is a duplicate and draws nothing (RFC 1123 §4.2.3.1).
#[test]
fn a_repeated_ack_with_a_window_out_resends_the_window() {
    let mut s = server(&[]);
    let r = request(&mut s, "pxelinux.0", "octet", &[("windowsize", "4")]);
    let tid = r[0].src_port;
    assert_eq!(s.handle_frame(T0, &from_ws1(CLIENT_PORT, tid, &ack(0))).len(), 4);
    let w = s.handle_frame(T0, &from_ws1(CLIENT_PORT, tid, &ack(4)));
    let blocks: Vec<u16> = w.iter().map(|f| data_of(&decode(f)).0).collect();
    assert_eq!(blocks, vec![5, 6, 7, 8]);
    // Block 5 lost: the receiver acknowledges block 4, the last it got in order.
    let w = s.handle_frame(T0, &from_ws1(CLIENT_PORT, tid, &ack(4)));
    let blocks: Vec<u16> = w.iter().map(|f| data_of(&decode(f)).0).collect();
    assert_eq!(blocks, vec![5, 6, 7, 8]);
    assert!(
        log_text(&mut s).contains("RFC7440 §4: ACK 4 again with blocks 5-8 out: the window is sent again from block 5")
    );
    // Once the window is acknowledged, a repeat of that ACK has nothing out to resend
    // beyond the new window, which it restarts again the same way.
    let w = s.handle_frame(T0, &from_ws1(CLIENT_PORT, tid, &ack(8)));
    assert_eq!(w.len(), 4);
}

#[test]
fn retransmission_is_time_driven() {
    let mut s = server(&[]);
    let r = request(&mut s, "pxelinux.0", "octet", &[]);
    let tid = r[0].src_port;
    assert_eq!(s.poll_timeout(), Some(DEFAULT_TIMEOUT));
    assert!(s.handle_timeout(DEFAULT_TIMEOUT - Duration::from_millis(1)).is_empty());
    let again = s.handle_timeout(DEFAULT_TIMEOUT);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0], s_first_frame(&r), "the same DATA 1, from the same TID");
    assert_eq!(s.poll_timeout(), Some(DEFAULT_TIMEOUT * 2));
    // An ACK resets the count; then silence until the transfer is given up.
    let now = DEFAULT_TIMEOUT * 2;
    assert_eq!(s.handle_frame(now, &from_ws1(CLIENT_PORT, tid, &ack(1))).len(), 1);
    let mut t = now;
    for i in 1..=MAX_RETRIES {
        t += DEFAULT_TIMEOUT;
        let f = s.handle_timeout(t);
        assert_eq!(f.len(), 1, "retry {i}");
        assert_eq!(data_of(&decode(&f[0])).0, 2);
    }
    t += DEFAULT_TIMEOUT;
    assert!(s.handle_timeout(t).is_empty());
    assert_eq!(s.poll_timeout(), None);
    assert_eq!(s.stats().dropped(DropReason::TftpGaveUp), 1);
    // The OACK is retransmitted the same way.
    let r = request(&mut s, "pxelinux.0", "octet", &[("tsize", "0")]);
    let at = s.poll_timeout().unwrap();
    let again = s.handle_timeout(at);
    assert_eq!(again, vec![s_first_frame(&r)]);
}

/// The frame of a decoded reply, rebuilt (decode → the same octets for our frames).
fn s_first_frame(r: &[Out]) -> Vec<u8> {
    let o = &r[0];
    udp_frame(o.src_mac, o.dst_mac, o.src_ip, o.src_port, o.dst_ip, o.dst_port, &o.payload)
}

/// RFC 1350 §4: a packet from another TID gets ERROR 5; the transfer carries on.
#[test]
fn unknown_tid_gets_error_5() {
    let mut s = server(&[]);
    let r = request(&mut s, "pxelinux.0", "octet", &[]);
    let tid = r[0].src_port;
    let e = s.handle_frame(T0, &from_ws1(CLIENT_PORT + 1, tid, &ack(1)));
    let o = decode(&e[0]);
    assert_eq!((o.src_port, o.dst_port), (tid, CLIENT_PORT + 1));
    assert_eq!(error_of(&o).0, ErrorCode::UnknownTransferId);
    let other_host = udp_frame(WS2_MAC, SERVER_MAC, WS2_IP, CLIENT_PORT, SERVER_IP, tid, &ack(1));
    let o = decode(&s.handle_frame(T0, &other_host)[0]);
    assert_eq!((o.dst_ip, o.dst_mac), (WS2_IP, WS2_MAC));
    assert_eq!(error_of(&o).0, ErrorCode::UnknownTransferId);
    // Undisturbed.
    let n = s.handle_frame(T0, &from_ws1(CLIENT_PORT, tid, &ack(1)));
    assert_eq!(data_of(&decode(&n[0])).0, 2);
    // A port with no transfer: nothing.
    assert!(s.handle_frame(T0, &from_ws1(CLIENT_PORT, 50_000, &ack(1))).is_empty());
    assert_eq!(s.stats().kind(Kind::Tftp).requests, 4);
}

#[test]
fn tids_differ_per_transfer_and_repeated_rrq_resends() {
    let mut s = server(&[]);
    let a = request(&mut s, "pxelinux.0", "octet", &[]);
    // The same client TID asks again before any ACK: the same DATA 1 from the same TID.
    let again = request(&mut s, "pxelinux.0", "octet", &[]);
    assert_eq!(again, a);
    let b = s.handle_frame(T0, &from_ws1(CLIENT_PORT + 1, 69, &rrq("pxelinux.0", "octet", &[])));
    let b = decode(&b[0]);
    assert_ne!(a[0].src_port, b.src_port);
    assert_eq!((a[0].src_port, b.src_port), (49152, 49153));
    // After progress, a repeated RRQ is ignored.
    assert_eq!(s.handle_frame(T0, &from_ws1(CLIENT_PORT, 49152, &ack(1))).len(), 1);
    assert!(request(&mut s, "pxelinux.0", "octet", &[]).is_empty());
    // DATA from the client: ERROR 4, transfer over.
    let data = Repr::Data { block: 1, data: b"x" }.to_vec();
    let e = s.handle_frame(T0, &from_ws1(CLIENT_PORT + 1, 49153, &data));
    assert_eq!(error_of(&decode(&e[0])).0, ErrorCode::IllegalOperation);
    assert!(s.handle_frame(T0, &from_ws1(CLIENT_PORT + 1, 49153, &ack(1))).is_empty());
}

/// Block numbers wrap from 65535 to 0.
#[test]
fn block_number_rollover() {
    let mut site = site();
    site.files.insert("big.bin".into(), TftpFile { size: 8 * 65_540, content: Content::Binary });
    let want = generate_content("big.bin", &site.files["big.bin"]);
    let mut s = Server::new(site, vec![]);
    let (data, blocks) = fetch(&mut s, "big.bin", "octet", &[("blksize", "8"), ("windowsize", "64")]);
    assert_eq!(data, want);
    assert_eq!(blocks.len(), 65_541);
    assert_eq!(&blocks[65_534..65_538], &[(65_535, 8), (0, 8), (1, 8), (2, 8)]);
    assert_eq!(blocks.last(), Some(&(5, 0)), "65541 blocks: the last is 65541 - 65536");
}
