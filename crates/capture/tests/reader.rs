//! The streaming reader on well-formed files of every supported shape, and on damaged
//! ones: every packet before and after the damage is read, the damage is reported with
//! its packet number and byte offset, and nothing panics.

use std::time::Duration;

use bootcheck_capture::reader::{Event, IssueKind, OpenError, Reader};
use bootcheck_capture::writer::PcapWriter;
use bootcheck_wire::frame::LinkType;

fn frames(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| (0..(60 + i * 7 % 300)).map(|b| (b + i) as u8).collect()).collect()
}

fn pcap_of(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), LinkType::Ethernet).expect("writer");
    for (i, f) in frames.iter().enumerate() {
        w.write(Duration::new(1_700_000_000 + i as u64, 123_456_789), f).expect("write");
    }
    w.finish().expect("finish")
}

/// (packets as (number, offset, data), issues) of a whole file.
type Read = (Vec<(u64, u64, Vec<u8>)>, Vec<(u64, u64, IssueKind)>);

fn read_all(bytes: &[u8]) -> Read {
    let mut r = Reader::new(bytes).expect("opens");
    let mut packets = Vec::new();
    let mut issues = Vec::new();
    while let Some(ev) = r.next_event() {
        match ev {
            Event::Packet(p) => packets.push((p.number, p.offset, p.data.to_vec())),
            Event::Issue(i) => issues.push((i.packet, i.offset, i.kind)),
        }
    }
    (packets, issues)
}

#[test]
fn pcap_round_trip_keeps_data_numbers_offsets_and_times() {
    let fs = frames(50);
    let file = pcap_of(&fs);
    let mut r = Reader::new(&file[..]).expect("opens");
    let mut offset = 24u64;
    let mut n = 0;
    while let Some(Event::Packet(p)) = r.next_event() {
        assert_eq!(p.number, n as u64 + 1);
        assert_eq!(p.offset, offset);
        assert_eq!(p.data, &fs[n][..]);
        assert_eq!(p.time, Duration::new(1_700_000_000 + n as u64, 123_456_789));
        assert_eq!(p.link, LinkType::Ethernet);
        offset += 16 + fs[n].len() as u64;
        n += 1;
    }
    assert_eq!(n, 50);
}

#[test]
fn big_endian_microsecond_pcap() {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_be_bytes());
    f.extend_from_slice(&[0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
    f.extend_from_slice(&65535u32.to_be_bytes());
    f.extend_from_slice(&113u32.to_be_bytes()); // Linux SLL
    for (i, d) in frames(3).iter().enumerate() {
        f.extend_from_slice(&(1000 + i as u32).to_be_bytes());
        f.extend_from_slice(&250_000u32.to_be_bytes());
        f.extend_from_slice(&(d.len() as u32).to_be_bytes());
        f.extend_from_slice(&(d.len() as u32).to_be_bytes());
        f.extend_from_slice(d);
    }
    let mut r = Reader::new(&f[..]).expect("opens");
    let Some(Event::Packet(p)) = r.next_event() else { panic!("a packet") };
    assert_eq!(p.link, LinkType::LinuxSll);
    assert_eq!(p.time, Duration::new(1000, 250_000_000));
    let (packets, issues) = read_all(&f);
    assert_eq!(packets.len(), 3);
    assert!(issues.is_empty());
}

/// A pcapng block: type, length, body padded to 4, length.
fn block(big: bool, ty: u32, body: &[u8]) -> Vec<u8> {
    let pad = body.len().div_ceil(4) * 4 - body.len();
    let len = (12 + body.len() + pad) as u32;
    let w = |v: u32| if big { v.to_be_bytes() } else { v.to_le_bytes() };
    let mut b = Vec::new();
    b.extend_from_slice(&w(ty));
    b.extend_from_slice(&w(len));
    b.extend_from_slice(body);
    b.extend(std::iter::repeat_n(0, pad));
    b.extend_from_slice(&w(len));
    b
}

fn shb(big: bool) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&if big { 0x1a2b_3c4du32.to_be_bytes() } else { 0x1a2b_3c4du32.to_le_bytes() });
    body.extend_from_slice(&[0, 1, 0, 0]);
    body.extend_from_slice(&[0xff; 8]);
    let mut b = block(big, 0x0a0d_0d0a, &body);
    // The SHB type is the same in both byte orders.
    b[..4].copy_from_slice(&0x0a0d_0d0au32.to_be_bytes());
    b
}

fn idb(big: bool, link: u16, tsresol: Option<u8>) -> Vec<u8> {
    let h16 = |v: u16| if big { v.to_be_bytes() } else { v.to_le_bytes() };
    let mut body = Vec::new();
    body.extend_from_slice(&h16(link));
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(&if big { 65535u32.to_be_bytes() } else { 65535u32.to_le_bytes() });
    if let Some(r) = tsresol {
        body.extend_from_slice(&h16(9));
        body.extend_from_slice(&h16(1));
        body.extend_from_slice(&[r, 0, 0, 0]);
        body.extend_from_slice(&[0, 0, 0, 0]);
    }
    block(big, 1, &body)
}

fn epb(big: bool, iface: u32, ts: u64, data: &[u8], orig: u32) -> Vec<u8> {
    let w = |v: u32| if big { v.to_be_bytes() } else { v.to_le_bytes() };
    let mut body = Vec::new();
    body.extend_from_slice(&w(iface));
    body.extend_from_slice(&w((ts >> 32) as u32));
    body.extend_from_slice(&w(ts as u32));
    body.extend_from_slice(&w(data.len() as u32));
    body.extend_from_slice(&w(orig));
    body.extend_from_slice(data);
    block(big, 6, &body)
}

#[test]
fn pcapng_interfaces_resolutions_sections_and_foreign_blocks() {
    let d = frames(4);
    let mut f = shb(false);
    f.extend(idb(false, 1, None)); // Ethernet, microseconds
    f.extend(idb(false, 276, Some(9))); // SLL2, nanoseconds
    f.extend(epb(false, 0, 5_000_000, &d[0], d[0].len() as u32));
    f.extend(block(false, 0x0000_0bad, b"custom block, skipped")); // a custom block
    f.extend(epb(false, 1, 7_000_000_123, &d[1], d[1].len() as u32));
    // A second section, big-endian, with its own interface list.
    f.extend(shb(true));
    f.extend(idb(true, 101, None)); // raw IP
    f.extend(epb(true, 0, 9_000_000, &d[2], d[2].len() as u32));
    // A Simple Packet Block: interface 0, no timestamp.
    let mut spb = Vec::new();
    spb.extend_from_slice(&(d[3].len() as u32).to_be_bytes());
    spb.extend_from_slice(&d[3]);
    f.extend(block(true, 3, &spb));

    let mut r = Reader::new(&f[..]).expect("opens");
    let mut got = Vec::new();
    while let Some(ev) = r.next_event() {
        match ev {
            Event::Packet(p) => got.push((p.number, p.interface, p.link, p.time, p.data.to_vec())),
            Event::Issue(i) => panic!("no issue expected: {i}"),
        }
    }
    assert_eq!(got.len(), 4);
    assert_eq!((got[0].1, got[0].2, got[0].3), (0, LinkType::Ethernet, Duration::from_secs(5)));
    assert_eq!((got[1].1, got[1].2, got[1].3), (1, LinkType::LinuxSll2, Duration::new(7, 123)));
    assert_eq!((got[2].2, got[2].3), (LinkType::Raw, Duration::from_secs(9)));
    assert_eq!(got[3].2, LinkType::Raw);
    assert_eq!(got[3].3, Duration::from_secs(9), "an SPB takes the previous packet's time");
    for (i, g) in got.iter().enumerate() {
        assert_eq!(g.0, i as u64 + 1);
        assert_eq!(g.4, d[i]);
    }
}

#[test]
fn a_truncated_pcap_yields_every_whole_packet_then_says_where_it_ends() {
    let fs = frames(10);
    let file = pcap_of(&fs);
    let last_at = file.len() - (16 + fs[9].len());
    for cut in [file.len() - 5, last_at + 10, last_at + 3] {
        let (packets, issues) = read_all(&file[..cut]);
        assert_eq!(packets.len(), 9, "cut at {cut}");
        assert_eq!(issues.len(), 1);
        let (packet, offset, kind) = &issues[0];
        assert_eq!((*packet, *offset), (10, last_at as u64));
        assert!(matches!(kind, IssueKind::Truncated { .. }), "{kind:?}");
    }
}

#[test]
fn a_bad_record_header_is_skipped_and_the_rest_is_read() {
    let fs = frames(20);
    let file = pcap_of(&fs);
    // Damage the 6th record's captured length.
    let mut at = 24;
    for f in &fs[..5] {
        at += 16 + f.len();
    }
    let mut bad = file.clone();
    bad[at + 8..at + 12].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let (packets, issues) = read_all(&bad);
    assert_eq!(issues.len(), 1, "{issues:?}");
    let (packet, offset, kind) = &issues[0];
    assert_eq!((*packet, *offset), (6, at as u64));
    let IssueKind::BadRecord { skipped: Some(n), .. } = kind else { panic!("{kind:?}") };
    assert_eq!(*n, 16 + fs[5].len() as u64, "skipped exactly the damaged record");
    assert_eq!(packets.len(), 19);
    assert_eq!(packets[5].2, fs[6], "reading goes on with the next record");
}

#[test]
fn garbage_between_pcapng_blocks_is_skipped() {
    let d = frames(3);
    let mut f = shb(false);
    f.extend(idb(false, 1, None));
    f.extend(epb(false, 0, 1, &d[0], d[0].len() as u32));
    let garbage_at = f.len();
    f.extend_from_slice(&[0x42; 40]);
    f.extend(epb(false, 0, 2, &d[1], d[1].len() as u32));
    f.extend(epb(false, 0, 3, &d[2], d[2].len() as u32));
    let (packets, issues) = read_all(&f);
    assert_eq!(packets.len(), 3);
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].1, garbage_at as u64);
    assert!(matches!(issues[0].2, IssueKind::BadRecord { skipped: Some(40), .. }), "{:?}", issues[0].2);
}

#[test]
fn unknown_link_types_are_reported_once_and_their_packets_skipped() {
    let d = frames(3);
    let mut f = shb(false);
    f.extend(idb(false, 127, None)); // 802.11 radiotap
    f.extend(idb(false, 1, None));
    f.extend(epb(false, 0, 1, &d[0], d[0].len() as u32));
    f.extend(epb(false, 1, 2, &d[1], d[1].len() as u32));
    f.extend(epb(false, 0, 3, &d[2], d[2].len() as u32));
    f.extend(epb(false, 7, 3, &d[2], d[2].len() as u32)); // no such interface
    let mut r = Reader::new(&f[..]).expect("opens");
    let mut packets = Vec::new();
    let mut issues = Vec::new();
    while let Some(ev) = r.next_event() {
        match ev {
            Event::Packet(p) => packets.push(p.number),
            Event::Issue(i) => issues.push(i.kind),
        }
    }
    assert_eq!(packets, vec![2]);
    assert_eq!(r.skipped_packets(), 2);
    assert_eq!(issues.len(), 2, "{issues:?}");
    assert!(matches!(issues[0], IssueKind::UnknownLinkType { interface: 0, link: 127 }));
    assert!(matches!(issues[1], IssueKind::UnknownInterface { interface: 7 }));
}

#[test]
fn what_is_not_a_capture_is_refused_with_what_it_starts_with() {
    match Reader::new(&b"GET / HTTP/1.1\r\nHost: example\r\n\r\n"[..]) {
        Err(OpenError::NotACapture(start)) => assert_eq!(start, "474554202f204854"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(Reader::new(&[0xd4, 0xc3, 0xb2][..]), Err(OpenError::TooShort(3))));
    assert!(matches!(Reader::new(&[][..]), Err(OpenError::TooShort(0))));
}

/// Deterministic mutations of real-shaped files: the reader never panics and always
/// terminates, whatever the damage.
#[test]
fn mutated_files_never_panic() {
    let d = frames(8);
    let mut ng = shb(false);
    ng.extend(idb(false, 1, Some(6)));
    for (i, f) in d.iter().enumerate() {
        ng.extend(epb(false, 0, i as u64, f, f.len() as u32 + 3));
    }
    let bases = [pcap_of(&d), ng];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..3000 {
        let mut f = bases[(rnd() % 2) as usize].clone();
        for _ in 0..(1 + rnd() % 6) {
            let at = (rnd() as usize) % f.len();
            match rnd() % 4 {
                0 => f[at] = rnd() as u8,
                1 => f.truncate(at.max(1)),
                2 => f.insert(at, rnd() as u8),
                _ => {
                    f.remove(at);
                }
            }
            if f.is_empty() {
                break;
            }
        }
        if let Ok(mut r) = Reader::new(&f[..]) {
            let mut n = 0;
            while r.next_event().is_some() {
                n += 1;
                assert!(n < 100_000, "the reader does not terminate");
            }
        }
    }
}
