//! Known-byte tests for `bootcheck_wire::tftp`, with packets taken from public captures
//! (the UDP payload of the named frame, as `tshark -T fields -e udp.payload` prints
//! it), in four directions: view accessors on the bytes, a hand-built Repr emitted to
//! the bytes, the bytes parsed to the expected Repr, and the parsed Repr emitted back.
//! Then the negative cases and an exhaustive no-panic sweep.

use bootcheck_wire::tftp::{
    ErrorCode, Opcode, OptionKind, Packet, Repr, RequestOpcode, TftpOption, TransferMode, DEFAULT_BLKSIZE,
};
use bootcheck_wire::{ErrorKind, Mode};

/// Decode a hex string, ignoring whitespace.
fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    assert!(digits.len() % 2 == 0, "odd number of hex digits");
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).expect("ascii"), 16).expect("hex digit"))
        .collect()
}

// ---------------------------------------------------------------------------------
// Known packets
// ---------------------------------------------------------------------------------

/// tcpdump/tftp.pcap frame 1: RRQ "file1" octet.
const RRQ_FILE1: &str = "0001 66696c6531 00 6f63746574 00";

/// suricata-verify/output-eve-tftp-01/input.pcap frame 1 (also nDPI/tftp.pcap frame 3):
/// RRQ "rfc1350.txt" octet.
const RRQ_RFC1350: &str = "0001 726663313335302e747874 00 6f63746574 00";

/// nDPI/tftp.pcap frame 103: WRQ "zz.bin" netascii.
const WRQ_NETASCII: &str = "0002 7a7a2e62696e 00 6e65746173636969 00";

/// nDPI/tftp.pcap frame 108: WRQ "empty100KB" octet blksize=1468 tsize=100000.
const WRQ_OPTIONS: &str = "0002 656d7074793130304b42 00 6f63746574 00
    626c6b73697a65 00 31343638 00 7473697a65 00 313030303030 00";

/// nDPI/tftp.pcap frame 109: OACK blksize=1468 tsize=100000.
const OACK: &str = "0006 626c6b73697a65 00 31343638 00 7473697a65 00 313030303030 00";

/// tcpdump/tftp.pcap frame 6: DATA block 3, 105 octets (the last block).
const DATA_LAST: &str = "0003 0003
    7570706f7274656422203e26320a096578697420330a093b3b0a202073746f70290a09646f5f73746f
    700a093b3b0a20202a290a096563686f202255736167653a2024302073746172747c73746f7022203e
    26320a096578697420330a093b3b0a657361630a0a3a0a";

/// tcpdump/tftp.pcap frame 2: DATA block 1, a full 512-octet block.
const DATA_FULL: &str = "0003 0001
    2321202f62696e2f73680a23232320424547494e20494e495420494e464f0a232050726f76696465733a
    20202020202020202020756d6f756e74726f6f740a232052657175697265642d53746172743a0a232052
    657175697265642d53746f703a0a232053686f756c642d53746f703a2020202020202068616c74207265
    626f6f74206b657865630a232044656661756c742d53746172743a0a232044656661756c742d53746f70
    3a2020202020203020360a232053686f72742d4465736372697074696f6e3a204d6f756e742074686520
    726f6f742066696c6573797374656d20726561642d6f6e6c792e0a23232320454e4420494e495420494e
    464f0a0a504154483d2f7362696e3a2f62696e0a2e202f6c69622f696e69742f766172732e73680a0a2e
    202f6c69622f6c73622f696e69742d66756e6374696f6e730a0a646f5f73746f70202829207b0a095b20
    2224564552424f534522203d206e6f205d207c7c206c6f675f616374696f6e5f626567696e5f6d736720
    224d6f756e74696e6720726f6f742066696c6573797374656d20726561642d6f6e6c79220a094d4f554e
    545f464f5243455f4f50543d0a095b20222428756e616d65202d732922203d2022474e552f6b46726565
    42534422205d202626204d4f554e545f464f5243455f4f50543d2d660a092320546869733a0a09232020
    2020206d6f756e74";

/// suricata-verify/output-eve-tftp-01/input.pcap frame 98: DATA block 49, 23 octets.
const DATA_SHORT: &str = "0003 0031 2020202020202020202020205b506167652031315d0a0c";

/// tcpdump/tftp.pcap frame 3: ACK block 1.
const ACK_1: &str = "0004 0001";

/// nDPI/tftp.pcap frame 104: ACK block 0 (the answer to a WRQ).
const ACK_0: &str = "0004 0000";

/// Synthesized per RFC 1350 §5 (none of the captures holds an ERROR packet):
/// ERROR 1 "File not found".
const ERROR_NOT_FOUND: &str = "0005 0001 46696c65206e6f7420666f756e64 00";

/// Synthesized per RFC 2347: ERROR 8 with an empty message.
const ERROR_OPTNEG: &str = "0005 0008 00";

/// nDPI/tftp.pcap frame 1: a malformed RRQ whose file name and mode are empty and
/// whose nine further NULs and "octet" read as five option pairs.
const RRQ_EMPTY_STRINGS: &str = "0001 00 00 00 00 00 00 00 00 00 00 00 6f63746574 00";

/// nDPI/tftp.pcap frame 2: RRQ with an empty file name, mode octet.
const RRQ_EMPTY_NAME: &str = "0001 00 6f63746574 00";

/// tcpdump/tftp-heapoverflow.pcap frame 1 (snapped at 48 octets): RRQ whose file name
/// "00" runs into the end of the captured payload without a NUL.
const RRQ_UNTERMINATED: &str = "0001 3030";

fn all_known() -> Vec<(&'static str, Vec<u8>)> {
    [
        ("RRQ_FILE1", RRQ_FILE1),
        ("RRQ_RFC1350", RRQ_RFC1350),
        ("WRQ_NETASCII", WRQ_NETASCII),
        ("WRQ_OPTIONS", WRQ_OPTIONS),
        ("OACK", OACK),
        ("DATA_LAST", DATA_LAST),
        ("DATA_FULL", DATA_FULL),
        ("DATA_SHORT", DATA_SHORT),
        ("ACK_1", ACK_1),
        ("ACK_0", ACK_0),
        ("ERROR_NOT_FOUND", ERROR_NOT_FOUND),
        ("ERROR_OPTNEG", ERROR_OPTNEG),
        ("RRQ_EMPTY_STRINGS", RRQ_EMPTY_STRINGS),
        ("RRQ_EMPTY_NAME", RRQ_EMPTY_NAME),
    ]
    .into_iter()
    .map(|(n, h)| (n, hex(h)))
    .collect()
}

/// Parse strictly and check that emitting gives the same octets back.
fn roundtrip(bytes: &[u8]) -> Repr<'_> {
    let packet = Packet::new_checked(bytes).expect("valid packet");
    let repr = Repr::parse(&packet).expect("parses");
    assert_eq!(repr.buffer_len(), bytes.len());
    assert_eq!(repr.to_vec(), bytes, "emit(parse(x)) != x for {repr}");
    let mut buf = vec![0xa5u8; bytes.len() + 7];
    assert_eq!(repr.emit(&mut buf).expect("fits"), bytes.len());
    assert_eq!(&buf[..bytes.len()], bytes);
    assert_eq!(repr.check_encodable(), Ok(()));
    repr
}

// ---------------------------------------------------------------------------------
// RRQ / WRQ
// ---------------------------------------------------------------------------------

#[test]
fn rrq_deconstruct() {
    let bytes = hex(RRQ_FILE1);
    let p = Packet::new_checked(&bytes[..]).expect("valid");
    assert_eq!(p.opcode(), Opcode::Rrq);
    assert_eq!(p.filename(), b"file1");
    assert_eq!(p.mode(), b"octet");
    assert_eq!(p.transfer_mode(), Some(TransferMode::Octet));
    assert_eq!(p.options_offset(), Some(14));
    assert_eq!(p.options().count(), 0);
}

#[test]
fn rrq_construct() {
    let repr = Repr::Request { opcode: RequestOpcode::Rrq, filename: b"file1", mode: b"octet", options: vec![] };
    assert_eq!(repr.to_vec(), hex(RRQ_FILE1));
    let repr = Repr::Request { opcode: RequestOpcode::Rrq, filename: b"rfc1350.txt", mode: b"octet", options: vec![] };
    assert_eq!(repr.to_vec(), hex(RRQ_RFC1350));
}

#[test]
fn rrq_parse_and_emit() {
    let bytes = hex(RRQ_FILE1);
    let repr = roundtrip(&bytes);
    assert_eq!(repr, Repr::Request { opcode: RequestOpcode::Rrq, filename: b"file1", mode: b"octet", options: vec![] });
    assert_eq!(repr.opcode(), Opcode::Rrq);
    assert_eq!(repr.transfer_mode(), Some(TransferMode::Octet));
    assert_eq!(repr.to_string(), r#"TFTP RRQ "file1" mode=octet"#);
    assert!(repr.validate().is_empty());

    let bytes = hex(RRQ_RFC1350);
    let repr = roundtrip(&bytes);
    assert_eq!(repr.to_string(), r#"TFTP RRQ "rfc1350.txt" mode=octet"#);
}

#[test]
fn wrq_netascii_four_ways() {
    let bytes = hex(WRQ_NETASCII);
    let p = Packet::new_checked(&bytes[..]).expect("valid");
    assert_eq!(p.opcode(), Opcode::Wrq);
    assert_eq!(p.filename(), b"zz.bin");
    assert_eq!(p.mode(), b"netascii");
    assert_eq!(p.transfer_mode(), Some(TransferMode::Netascii));

    let expected =
        Repr::Request { opcode: RequestOpcode::Wrq, filename: b"zz.bin", mode: b"netascii", options: vec![] };
    assert_eq!(expected.to_vec(), bytes);
    let repr = roundtrip(&bytes);
    assert_eq!(repr, expected);
    assert_eq!(repr.to_string(), r#"TFTP WRQ "zz.bin" mode=netascii"#);
}

#[test]
fn wrq_options_deconstruct() {
    let bytes = hex(WRQ_OPTIONS);
    let p = Packet::new_checked(&bytes[..]).expect("valid");
    assert_eq!(p.opcode(), Opcode::Wrq);
    assert_eq!(p.filename(), b"empty100KB");
    assert_eq!(p.mode(), b"octet");
    assert_eq!(p.options_offset(), Some(19));
    let opts: Vec<TftpOption<'_>> = p.options().collect::<Result<_, _>>().expect("well-formed options");
    assert_eq!(opts, vec![TftpOption::new(b"blksize", b"1468"), TftpOption::new(b"tsize", b"100000")]);
    assert_eq!(opts[0].kind(), Some(OptionKind::Blksize));
    assert_eq!(opts[0].value_u64(), Some(1468));
    assert_eq!(opts[1].kind(), Some(OptionKind::Tsize));
    assert_eq!(opts[1].value_u64(), Some(100_000));
}

#[test]
fn wrq_options_construct_parse_emit() {
    let bytes = hex(WRQ_OPTIONS);
    let expected = Repr::Request {
        opcode: RequestOpcode::Wrq,
        filename: b"empty100KB",
        mode: b"octet",
        options: vec![TftpOption::new(b"blksize", b"1468"), TftpOption::new(b"tsize", b"100000")],
    };
    assert_eq!(expected.to_vec(), bytes);
    let repr = roundtrip(&bytes);
    assert_eq!(repr, expected);
    assert_eq!(repr.to_string(), r#"TFTP WRQ "empty100KB" mode=octet blksize=1468 tsize=100000"#);
    assert_eq!(repr.option(OptionKind::Blksize).and_then(TftpOption::value_u64), Some(1468));
    assert_eq!(repr.option(OptionKind::Windowsize), None);
    assert!(repr.validate().is_empty());
}

#[test]
fn request_options_keep_order_case_and_duplicates() {
    let repr = Repr::Request {
        opcode: RequestOpcode::Rrq,
        filename: b"pxelinux.0",
        mode: b"OCTET",
        options: vec![
            TftpOption::new(b"TSIZE", b"0"),
            TftpOption::new(b"BlkSize", b"1468"),
            TftpOption::new(b"x-vendor", b"a b"),
            TftpOption::new(b"blksize", b"512"),
        ],
    };
    let bytes = repr.to_vec();
    let parsed = roundtrip(&bytes);
    assert_eq!(parsed, repr);
    assert_eq!(parsed.transfer_mode(), Some(TransferMode::Octet));
    assert_eq!(parsed.option(OptionKind::Blksize), Some(&TftpOption::new(b"BlkSize", b"1468")));
    assert_eq!(
        parsed.to_string(),
        r#"TFTP RRQ "pxelinux.0" mode=OCTET TSIZE=0 BlkSize=1468 x-vendor="a b" blksize=512"#
    );
    let findings = parsed.validate();
    assert_eq!(findings.len(), 1, "{findings:?}");
    // The second blksize starts after 2 + "pxelinux.0\0" + "OCTET\0" + "TSIZE\00\0" +
    // "BlkSize\01468\0" + "x-vendor\0a b\0".
    assert_eq!(findings[0].offset, 2 + 11 + 6 + 8 + 13 + 13);
    assert!(matches!(findings[0].kind, ErrorKind::Malformed { what: "TFTP option", .. }));
}

#[test]
fn malformed_rrqs_from_ndpi_parse_but_fail_validation() {
    let bytes = hex(RRQ_EMPTY_STRINGS);
    let repr = roundtrip(&bytes);
    let empty = TftpOption::new(b"", b"");
    assert_eq!(
        repr,
        Repr::Request {
            opcode: RequestOpcode::Rrq,
            filename: b"",
            mode: b"",
            options: vec![empty, empty, empty, empty, TftpOption::new(b"", b"octet")],
        }
    );
    assert_eq!(repr.to_string(), r#"TFTP RRQ "" mode="" ""="" ""="" ""="" ""="" ""=octet"#);
    let findings = repr.validate();
    let offsets: Vec<usize> = findings.iter().map(|f| f.offset).collect();
    // Empty file name at 2, unknown mode at 3, then the repeats of the empty name.
    assert_eq!(offsets, vec![2, 3, 6, 8, 10, 12]);
    assert!(matches!(findings[0].kind, ErrorKind::Malformed { what: "TFTP filename", .. }));
    assert!(matches!(findings[1].kind, ErrorKind::Malformed { what: "TFTP transfer mode", .. }));

    let bytes = hex(RRQ_EMPTY_NAME);
    let repr = roundtrip(&bytes);
    assert_eq!(repr, Repr::Request { opcode: RequestOpcode::Rrq, filename: b"", mode: b"octet", options: vec![] });
    let findings = repr.validate();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].offset, 2);
}

#[test]
fn unterminated_filename_from_heapoverflow_capture() {
    let bytes = hex(RRQ_UNTERMINATED);
    let err = Repr::parse_bytes(&bytes).expect_err("unterminated");
    assert_eq!(err.offset, 2);
    assert_eq!(err.kind, ErrorKind::Unterminated { what: "TFTP filename" });
    assert_eq!(Packet::new_checked(&bytes[..]).expect_err("unterminated"), err);

    let (repr, findings) = Repr::parse_lenient(&bytes);
    assert_eq!(findings, vec![err.clone()]);
    assert_eq!(repr, Some(Repr::Request { opcode: RequestOpcode::Rrq, filename: b"00", mode: b"", options: vec![] }));
    assert_eq!(
        Packet::new_unchecked(&bytes[..]).to_string(),
        r#"TFTP RRQ "00" mode="" [at byte 2: TFTP filename is not NUL-terminated]"#
    );
    assert_eq!(Repr::parse_mode(&bytes, Mode::Strict), Err(err));
}

#[test]
fn unterminated_mode_option_name_and_value() {
    // Mode "octet" without its NUL.
    let bytes = hex("0001 6600 6f63746574");
    let err = Repr::parse_bytes(&bytes).expect_err("unterminated mode");
    assert_eq!((err.offset, err.kind), (4, ErrorKind::Unterminated { what: "TFTP transfer mode" }));
    let (repr, findings) = Repr::parse_lenient(&bytes);
    assert_eq!(findings.len(), 1);
    assert_eq!(
        repr,
        Some(Repr::Request { opcode: RequestOpcode::Rrq, filename: b"f", mode: b"octet", options: vec![] })
    );

    // Option name "blksize" without its NUL.
    let bytes = hex("0001 6600 6f6374657400 626c6b73697a65");
    let err = Repr::parse_bytes(&bytes).expect_err("unterminated name");
    assert_eq!((err.offset, err.kind), (10, ErrorKind::Unterminated { what: "TFTP option name" }));

    // Value "1468" without its NUL.
    let bytes = hex("0001 6600 6f6374657400 626c6b73697a6500 31343638");
    let err = Repr::parse_bytes(&bytes).expect_err("unterminated value");
    assert_eq!((err.offset, err.kind.clone()), (18, ErrorKind::Unterminated { what: "TFTP option value" }));
    let (repr, findings) = Repr::parse_lenient(&bytes);
    assert_eq!(findings, vec![err]);
    assert_eq!(repr.expect("lenient").options(), &[TftpOption::new(b"blksize", b"1468")]);
}

#[test]
fn odd_option_count_is_an_error() {
    // WRQ_OPTIONS without the tsize value: three option strings.
    let bytes = hex("0002 656d7074793130304b42 00 6f63746574 00 626c6b73697a65 00 31343638 00 7473697a65 00");
    let err = Repr::parse_bytes(&bytes).expect_err("odd count");
    assert_eq!(err.offset, 32, "at the name that has no value");
    assert!(matches!(err.kind, ErrorKind::Malformed { what: "TFTP options", .. }), "{err}");
    assert_eq!(Packet::new_checked(&bytes[..]).expect_err("odd count"), err);
    // The view's iterator yields the good pair, then the error, then stops.
    let p = Packet::new_unchecked(&bytes[..]);
    let items: Vec<_> = p.options().collect();
    assert_eq!(items, vec![Ok(TftpOption::new(b"blksize", b"1468")), Err(err.clone())]);
    // Lenient keeps the dangling name with an empty value.
    let (repr, findings) = Repr::parse_lenient(&bytes);
    assert_eq!(findings, vec![err.clone()]);
    assert_eq!(
        repr.expect("lenient").options(),
        &[TftpOption::new(b"blksize", b"1468"), TftpOption::new(b"tsize", b"")]
    );
    // Same for an OACK.
    let bytes = hex("0006 626c6b73697a65 00");
    let err = Repr::parse_bytes(&bytes).expect_err("odd count");
    assert_eq!(err.offset, 2);
    assert!(matches!(err.kind, ErrorKind::Malformed { what: "TFTP options", .. }));
}

// ---------------------------------------------------------------------------------
// OACK
// ---------------------------------------------------------------------------------

#[test]
fn oack_four_ways() {
    let bytes = hex(OACK);
    let p = Packet::new_checked(&bytes[..]).expect("valid");
    assert_eq!(p.opcode(), Opcode::Oack);
    assert_eq!(p.options_offset(), Some(2));
    let opts: Vec<_> = p.options().collect::<Result<Vec<_>, _>>().expect("options");
    assert_eq!(opts, [TftpOption::new(b"blksize", b"1468"), TftpOption::new(b"tsize", b"100000")]);

    let expected =
        Repr::Oack { options: vec![TftpOption::new(b"blksize", b"1468"), TftpOption::new(b"tsize", b"100000")] };
    assert_eq!(expected.to_vec(), bytes);
    let repr = roundtrip(&bytes);
    assert_eq!(repr, expected);
    assert_eq!(repr.to_string(), "TFTP OACK blksize=1468 tsize=100000");
    assert!(repr.validate().is_empty());
}

#[test]
fn empty_oack_parses_but_fails_validation() {
    let bytes = hex("0006");
    let repr = roundtrip(&bytes);
    assert_eq!(repr, Repr::Oack { options: vec![] });
    assert_eq!(repr.to_string(), "TFTP OACK (no options)");
    assert_eq!(repr.validate().len(), 1);
}

// ---------------------------------------------------------------------------------
// DATA
// ---------------------------------------------------------------------------------

#[test]
fn data_four_ways() {
    let bytes = hex(DATA_LAST);
    assert_eq!(bytes.len(), 109);
    let p = Packet::new_checked(&bytes[..]).expect("valid");
    assert_eq!(p.opcode(), Opcode::Data);
    assert_eq!(p.block(), 3);
    assert_eq!(p.data(), &bytes[4..]);
    assert!(p.data().starts_with(b"upported\" >&2\n"));
    assert!(p.is_final_block(DEFAULT_BLKSIZE));

    let expected = Repr::Data { block: 3, data: &bytes[4..] };
    let mut buf = vec![0u8; expected.buffer_len()];
    assert_eq!(expected.emit(&mut buf), Ok(109));
    assert_eq!(buf, bytes);
    let repr = roundtrip(&bytes);
    assert_eq!(repr, expected);
    assert_eq!(repr.to_string(), "TFTP DATA block=3 len=105");
    assert!(repr.is_final_block(DEFAULT_BLKSIZE));
}

#[test]
fn data_full_block_is_not_final() {
    let bytes = hex(DATA_FULL);
    assert_eq!(bytes.len(), 516);
    let p = Packet::new_checked(&bytes[..]).expect("valid");
    assert_eq!((p.opcode(), p.block(), p.data().len()), (Opcode::Data, 1, 512));
    assert!(p.data().starts_with(b"#! /bin/sh\n"));
    let repr = roundtrip(&bytes);
    assert_eq!(repr, Repr::Data { block: 1, data: &bytes[4..] });
    assert!(!repr.is_final_block(512));
    assert!(repr.is_final_block(1468));
    assert!(!repr.is_final_block(8));
    assert_eq!(repr.to_string(), "TFTP DATA block=1 len=512");

    let short = hex(DATA_SHORT);
    let repr = roundtrip(&short);
    assert_eq!(repr, Repr::Data { block: 49, data: b"            [Page 11]\n\x0c" });
    assert!(repr.is_final_block(512));
    // Non-DATA packets are never a final block.
    assert!(!Repr::Ack { block: 1 }.is_final_block(512));
}

#[test]
fn data_payload_is_not_limited_and_may_be_empty() {
    let payload = vec![0x5au8; 65464];
    let repr = Repr::Data { block: 65535, data: &payload };
    let bytes = repr.to_vec();
    assert_eq!(bytes.len(), 65468);
    assert_eq!(roundtrip(&bytes), repr);
    assert!(!repr.is_final_block(65464));

    let bytes = hex("0003 0002");
    assert_eq!(roundtrip(&bytes), Repr::Data { block: 2, data: b"" });
}

#[test]
fn data_construct_with_setters() {
    let mut buf = [0u8; 8];
    let mut p = Packet::new_unchecked(&mut buf[..]);
    p.set_opcode(Opcode::Data);
    p.set_block(7);
    p.data_mut().copy_from_slice(b"abcd");
    assert_eq!(buf, *b"\x00\x03\x00\x07abcd");
    // Setters on a too-short buffer do nothing rather than panic.
    let mut tiny = [0u8; 1];
    let mut p = Packet::new_unchecked(&mut tiny[..]);
    p.set_opcode(Opcode::Ack);
    p.set_block(1);
    p.set_error_code(ErrorCode::DiskFull);
    assert!(p.data_mut().is_empty());
    assert_eq!(tiny, [0]);
}

// ---------------------------------------------------------------------------------
// ACK
// ---------------------------------------------------------------------------------

#[test]
fn ack_four_ways() {
    for (h, block) in [(ACK_1, 1u16), (ACK_0, 0)] {
        let bytes = hex(h);
        let p = Packet::new_checked(&bytes[..]).expect("valid");
        assert_eq!((p.opcode(), p.block()), (Opcode::Ack, block));

        let expected = Repr::Ack { block };
        assert_eq!(expected.to_vec(), bytes);
        let repr = roundtrip(&bytes);
        assert_eq!(repr, expected);
        assert_eq!(repr.to_string(), format!("TFTP ACK block={block}"));
    }
    let mut buf = [0u8; 4];
    let mut p = Packet::new_unchecked(&mut buf);
    p.set_opcode(Opcode::Ack);
    p.set_block(1);
    assert_eq!(buf.to_vec(), hex(ACK_1));
}

#[test]
fn ack_with_trailing_octets() {
    let bytes = hex("0004 0001 0000");
    let err = Repr::parse_bytes(&bytes).expect_err("trailing");
    assert_eq!(err.offset, 4);
    assert!(matches!(err.kind, ErrorKind::Malformed { what: "TFTP ACK", .. }));
    let (repr, findings) = Repr::parse_lenient(&bytes);
    assert_eq!((repr, findings), (Some(Repr::Ack { block: 1 }), vec![err]));
}

// ---------------------------------------------------------------------------------
// ERROR
// ---------------------------------------------------------------------------------

#[test]
fn error_four_ways() {
    let bytes = hex(ERROR_NOT_FOUND);
    let p = Packet::new_checked(&bytes[..]).expect("valid");
    assert_eq!(p.opcode(), Opcode::Error);
    assert_eq!(p.error_code(), ErrorCode::FileNotFound);
    assert_eq!(p.error_message(), b"File not found");

    let expected = Repr::Error { code: ErrorCode::FileNotFound, message: b"File not found" };
    assert_eq!(expected.to_vec(), bytes);
    let repr = roundtrip(&bytes);
    assert_eq!(repr, expected);
    assert_eq!(repr.to_string(), r#"TFTP ERROR code=1 (file not found) "File not found""#);
    assert!(repr.validate().is_empty());

    let bytes = hex(ERROR_OPTNEG);
    let repr = roundtrip(&bytes);
    assert_eq!(repr, Repr::Error { code: ErrorCode::OptionNegotiation, message: b"" });
    assert_eq!(repr.to_string(), r#"TFTP ERROR code=8 (option negotiation failed) """#);
}

#[test]
fn error_codes() {
    let names: Vec<(u16, &str)> = (0..=9).map(|c| (c, ErrorCode::from(c).name())).collect();
    assert_eq!(
        names,
        vec![
            (0, "not defined"),
            (1, "file not found"),
            (2, "access violation"),
            (3, "disk full or allocation exceeded"),
            (4, "illegal TFTP operation"),
            (5, "unknown transfer ID"),
            (6, "file already exists"),
            (7, "no such user"),
            (8, "option negotiation failed"),
            (9, "unknown"),
        ]
    );
    for c in 0..=20u16 {
        assert_eq!(u16::from(ErrorCode::from(c)), c);
        assert_eq!(ErrorCode::from(c).description().is_some(), c <= 8);
    }
    assert_eq!(ErrorCode::from(1).description(), Some("File not found."));
    let repr = Repr::Error { code: ErrorCode::Unknown(42), message: b"\x01odd\"" };
    let bytes = repr.to_vec();
    assert_eq!(roundtrip(&bytes), repr);
    assert_eq!(repr.to_string(), r#"TFTP ERROR code=42 (unknown) "\x01odd\"""#);
    let findings = repr.validate();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].kind, ErrorKind::Unsupported { what: "TFTP error code", value: 42 });
}

#[test]
fn error_without_nul_or_with_trailing_octets() {
    let bytes = hex("0005 0001 46696c65");
    let err = Repr::parse_bytes(&bytes).expect_err("no NUL");
    assert_eq!((err.offset, err.kind.clone()), (4, ErrorKind::Unterminated { what: "TFTP error message" }));
    let (repr, findings) = Repr::parse_lenient(&bytes);
    assert_eq!(repr, Some(Repr::Error { code: ErrorCode::FileNotFound, message: b"File" }));
    assert_eq!(findings, vec![err]);
    assert_eq!(Packet::new_unchecked(&bytes[..]).error_message(), b"File");

    let bytes = hex("0005 0001 46696c65 00 ff");
    let err = Repr::parse_bytes(&bytes).expect_err("trailing");
    assert_eq!(err.offset, 9);
    assert!(matches!(err.kind, ErrorKind::Malformed { what: "TFTP ERROR", .. }));
    let (repr, findings) = Repr::parse_lenient(&bytes);
    assert_eq!(repr, Some(Repr::Error { code: ErrorCode::FileNotFound, message: b"File" }));
    assert_eq!(findings, vec![err]);
}

// ---------------------------------------------------------------------------------
// Option helpers
// ---------------------------------------------------------------------------------

#[test]
fn option_kinds_are_case_insensitive() {
    for (name, kind) in [
        (&b"blksize"[..], Some(OptionKind::Blksize)),
        (b"BLKSIZE", Some(OptionKind::Blksize)),
        (b"BlkSize", Some(OptionKind::Blksize)),
        (b"timeout", Some(OptionKind::Timeout)),
        (b"TSize", Some(OptionKind::Tsize)),
        (b"WindowSize", Some(OptionKind::Windowsize)),
        (b"blksize2", None),
        (b"blksiz", None),
        (b" blksize", None),
        (b"multicast", None),
        (b"", None),
    ] {
        assert_eq!(TftpOption::new(name, b"1").kind(), kind, "{:?}", String::from_utf8_lossy(name));
    }
    assert_eq!(OptionKind::Windowsize.to_string(), "windowsize");
    for (mode, m) in [
        (&b"octet"[..], Some(TransferMode::Octet)),
        (b"OCTET", Some(TransferMode::Octet)),
        (b"NetAscii", Some(TransferMode::Netascii)),
        (b"mail", Some(TransferMode::Mail)),
        (b"binary", None),
        (b"octet ", None),
        (b"", None),
    ] {
        assert_eq!(TransferMode::from_bytes(mode), m);
    }
}

#[test]
fn option_values_parse_as_decimal() {
    for (value, expected) in [
        (&b"0"[..], Some(0)),
        (b"1468", Some(1468)),
        (b"00012", Some(12)),
        (b"18446744073709551615", Some(u64::MAX)),
        (b"18446744073709551616", None),
        (b"99999999999999999999999", None),
        (b"", None),
        (b"+1", None),
        (b"-1", None),
        (b" 1", None),
        (b"1 ", None),
        (b"0x10", None),
        (b"1e3", None),
    ] {
        assert_eq!(TftpOption::new(b"tsize", value).value_u64(), expected, "{:?}", String::from_utf8_lossy(value));
    }
}

#[test]
fn option_ranges_per_rfc() {
    let check = |name: &'static [u8], value: &'static [u8]| TftpOption::new(name, value).check();
    assert_eq!(check(b"blksize", b"7").map_err(|_| ()), Err(()));
    assert_eq!(check(b"blksize", b"8"), Ok(Some(8)));
    assert_eq!(check(b"BLKSIZE", b"65464"), Ok(Some(65464)));
    assert_eq!(
        check(b"blksize", b"65465"),
        Err(ErrorKind::Malformed { what: "TFTP blksize value", reason: "outside 8..=65464 octets (RFC 2348)" })
    );
    assert_eq!(check(b"timeout", b"0").map_err(|_| ()), Err(()));
    assert_eq!(check(b"timeout", b"1"), Ok(Some(1)));
    assert_eq!(check(b"timeout", b"255"), Ok(Some(255)));
    assert_eq!(
        check(b"timeout", b"256"),
        Err(ErrorKind::Malformed { what: "TFTP timeout value", reason: "outside 1..=255 seconds (RFC 2349)" })
    );
    assert_eq!(check(b"windowsize", b"0").map_err(|_| ()), Err(()));
    assert_eq!(check(b"windowsize", b"1"), Ok(Some(1)));
    assert_eq!(check(b"windowsize", b"65535"), Ok(Some(65535)));
    assert_eq!(check(b"windowsize", b"65536").map_err(|_| ()), Err(()));
    assert_eq!(check(b"tsize", b"0"), Ok(Some(0)));
    assert_eq!(check(b"tsize", b"18446744073709551615"), Ok(Some(u64::MAX)));
    assert_eq!(
        check(b"tsize", b"18446744073709551616"),
        Err(ErrorKind::Malformed { what: "TFTP tsize value", reason: "decimal number does not fit in 64 bits" })
    );
    assert_eq!(
        check(b"blksize", b"1k"),
        Err(ErrorKind::Malformed { what: "TFTP blksize value", reason: "not an ASCII decimal number" })
    );
    assert!(check(b"timeout", b"").is_err());
    // Options no RFC here defines are not checked.
    assert_eq!(check(b"multicast", b"garbage"), Ok(None));
}

#[test]
fn validate_reports_bad_values_at_their_offsets() {
    let repr = Repr::Oack {
        options: vec![
            TftpOption::new(b"blksize", b"70000"),
            TftpOption::new(b"timeout", b"x"),
            TftpOption::new(b"windowsize", b"16"),
        ],
    };
    let bytes = repr.to_vec();
    let parsed = roundtrip(&bytes);
    let findings = parsed.validate();
    let offsets: Vec<usize> = findings.iter().map(|f| f.offset).collect();
    // "70000" starts at 2 + "blksize\0"; "x" at 2 + "blksize\070000\0" + "timeout\0".
    assert_eq!(offsets, vec![10, 24]);
    assert_eq!(&bytes[10..15], b"70000");
    assert_eq!(bytes[24], b'x');

    let long_name = vec![b'a'; 600];
    let repr = Repr::Request { opcode: RequestOpcode::Rrq, filename: &long_name, mode: b"octet", options: vec![] };
    let findings = repr.validate();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].offset, 512);
}

// ---------------------------------------------------------------------------------
// Negative: short, unknown, truncated
// ---------------------------------------------------------------------------------

#[test]
fn empty_short_and_unknown() {
    for bytes in [&b""[..], b"\x00"] {
        let err = Repr::parse_bytes(bytes).expect_err("too short");
        assert_eq!(err.kind, ErrorKind::Truncated { what: "TFTP opcode", need: 2, have: bytes.len() });
        assert_eq!(err.offset, bytes.len());
        assert_eq!(Repr::parse_lenient(bytes).0, None);
        assert_eq!(Packet::new_unchecked(bytes).opcode(), Opcode::Unknown(0));
    }
    let err = Repr::parse_bytes(b"\x00\x07\x00\x01").expect_err("unknown opcode");
    assert_eq!((err.offset, err.kind), (0, ErrorKind::Unsupported { what: "TFTP opcode", value: 7 }));
    assert_eq!(Packet::new_unchecked(&b"\x00\x07"[..]).opcode(), Opcode::Unknown(7));
    assert_eq!(Opcode::Unknown(7).to_string(), "opcode(7)");
    assert_eq!(Packet::new_unchecked(&b"\x00\x07"[..]).to_string(), "TFTP [at byte 0: unsupported TFTP opcode 0x7]");

    let err = Repr::parse_bytes(b"\x00\x03\x00").expect_err("short block");
    assert_eq!((err.offset, err.kind), (3, ErrorKind::Truncated { what: "TFTP block number", need: 2, have: 1 }));
    let err = Repr::parse_bytes(b"\x00\x05").expect_err("short code");
    assert_eq!((err.offset, err.kind), (2, ErrorKind::Truncated { what: "TFTP error code", need: 2, have: 0 }));
}

/// The prefix lengths at which a known packet is itself a valid packet: a request or
/// OACK cut at the end of its mode or of an option pair, a DATA cut anywhere after the
/// block number, and only the whole of an ACK or ERROR.
fn valid_prefix_lengths(bytes: &[u8]) -> Vec<usize> {
    let p = Packet::new_unchecked(bytes);
    match p.opcode() {
        Opcode::Data => (4..=bytes.len()).collect(),
        Opcode::Rrq | Opcode::Wrq | Opcode::Oack => {
            let mut at = p.options_offset().expect("options offset");
            let mut v = vec![at];
            let mut strings = 0;
            while at < bytes.len() {
                let nul = bytes[at..].iter().position(|&c| c == 0).expect("terminated");
                at += nul + 1;
                strings += 1;
                if strings % 2 == 0 {
                    v.push(at);
                }
            }
            v
        }
        _ => vec![bytes.len()],
    }
}

#[test]
fn every_truncation_is_an_error_or_a_valid_shorter_packet() {
    for (name, bytes) in all_known() {
        let valid = valid_prefix_lengths(&bytes);
        for n in 0..=bytes.len() {
            let prefix = &bytes[..n];
            let strict = Repr::parse_bytes(prefix);
            assert_eq!(strict.is_ok(), valid.contains(&n), "{name} cut to {n}: {strict:?}");
            assert_eq!(Packet::new_checked(prefix).is_ok(), strict.is_ok(), "{name} cut to {n}");
            match strict {
                Ok(r) => assert_eq!(r.to_vec(), prefix, "{name} cut to {n}"),
                Err(e) => assert!(e.offset <= n, "{name} cut to {n}: offset {} past the end", e.offset),
            }
            let (_, findings) = Repr::parse_lenient(prefix);
            assert!(findings.iter().all(|f| f.offset <= n), "{name} cut to {n}: {findings:?}");
        }
    }
}

#[test]
fn parse_mode_matches_strict_and_lenient() {
    let good = hex(OACK);
    let (r, f) = Repr::parse_mode(&good, Mode::Strict).expect("valid");
    assert_eq!((r, f.len()), (Repr::parse_bytes(&good).expect("valid"), 0));
    let bad = hex(RRQ_UNTERMINATED);
    assert!(Repr::parse_mode(&bad, Mode::Strict).is_err());
    let (r, f) = Repr::parse_mode(&bad, Mode::Lenient).expect("lenient decodes");
    assert_eq!(f.len(), 1);
    assert_eq!(r.opcode(), Opcode::Rrq);
    let err = Repr::parse_mode(b"\x00", Mode::Lenient).expect_err("nothing decodes");
    assert!(matches!(err.kind, ErrorKind::Truncated { .. }));
}

#[test]
fn hand_built_broken_reprs_emit_as_given() {
    // A NUL inside the file name: emitted as is (a negative test may want exactly
    // that), flagged by check_encodable, and parsed back differently.
    let repr = Repr::Request { opcode: RequestOpcode::Rrq, filename: b"a\0b", mode: b"octet", options: vec![] };
    let err = repr.check_encodable().expect_err("NUL in name");
    assert_eq!(err.offset, 3);
    let bytes = repr.to_vec();
    assert_eq!(bytes, b"\x00\x01a\0b\0octet\0");
    assert!(Repr::parse_bytes(&bytes).is_err(), "'octet' becomes an option name without a value");

    let repr = Repr::Error { code: ErrorCode::Unknown(1), message: b"" };
    assert!(repr.check_encodable().is_err());
    let repr = Repr::Oack { options: vec![TftpOption::new(b"blksize", b"1\x004")] };
    assert_eq!(repr.check_encodable().expect_err("NUL in value").offset, 11);

    let mut small = [0u8; 3];
    let err = Repr::Ack { block: 1 }.emit(&mut small).expect_err("too small");
    assert_eq!(err.kind, ErrorKind::Truncated { what: "TFTP output buffer", need: 4, have: 3 });
}

#[test]
fn largest_packets_stay_fast() {
    // 32 767 empty option pairs: parse, display and validate are all linear.
    let mut bytes = vec![0u8; 65536];
    bytes[1] = 6;
    let repr = roundtrip(&bytes);
    assert_eq!(repr.options().len(), 32767);
    assert_eq!(repr.validate().len(), 32766, "every pair after the first repeats the empty name");
    assert!(repr.to_string().starts_with(r#"TFTP OACK ""="" ""="""#));
    // A request whose file name fills the whole packet.
    let mut bytes = vec![b'a'; 65536];
    bytes[..2].copy_from_slice(&[0, 1]);
    let err = Repr::parse_bytes(&bytes).expect_err("unterminated");
    assert_eq!(err.kind, ErrorKind::Unterminated { what: "TFTP filename" });
}

// ---------------------------------------------------------------------------------
// No panic, whatever the input
// ---------------------------------------------------------------------------------

/// Everything a caller might do with untrusted bytes.
fn exercise(bytes: &[u8]) {
    let p = Packet::new_unchecked(bytes);
    let _ = (p.opcode(), p.block(), p.error_code(), p.data(), p.error_message(), p.filename(), p.mode());
    let _ = (p.transfer_mode(), p.options_offset(), p.is_final_block(512));
    for o in p.options().flatten() {
        let _ = (o.kind(), o.value_u64(), o.check(), o.to_string());
    }
    let _ = p.to_string();
    let _ = Packet::new_checked(bytes);
    if let Ok(r) = Repr::parse_bytes(bytes) {
        assert_eq!(r.to_vec(), bytes);
        let _ = (r.validate(), r.to_string(), r.check_encodable());
    }
    let (r, findings) = Repr::parse_lenient(bytes);
    if let Some(r) = r {
        let _ = (r.to_vec(), r.validate(), r.to_string());
    } else {
        assert!(!findings.is_empty());
    }
}

#[test]
fn no_panic_on_prefixes_and_single_byte_mutations() {
    for (_, bytes) in all_known().into_iter().chain([("RRQ_UNTERMINATED", hex(RRQ_UNTERMINATED))]) {
        for n in 0..=bytes.len() {
            exercise(&bytes[..n]);
        }
        let mut m = bytes.clone();
        for i in 0..m.len() {
            let orig = m[i];
            for v in 0..=255u8 {
                m[i] = v;
                exercise(&m);
            }
            m[i] = orig;
        }
    }
}
