//! Helpers shared by the integration tests: the real site, request builders (with
//! bootcheck-wire), and decoders for what the server sends.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use bootcheck_refserver::{Config, Fault, Server};
use bootcheck_scenario::Site;
use bootcheck_wire::bootp::{self, Packet};
use bootcheck_wire::frame::{self, Frame, LinkType, UdpEndpoints};
use bootcheck_wire::options;
use bootcheck_wire::tftp;

pub const T0: Duration = Duration::ZERO;
pub const SERVER_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
pub const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x5e, 0x01];
pub const WS1_MAC: [u8; 6] = [0x02, 0, 0, 0, 0xbe, 0x01];
pub const WS1_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 21);
pub const WS2_MAC: [u8; 6] = [0x02, 0, 0, 0, 0xbe, 0x02];
pub const WS2_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 22);
pub const WS3_MAC: [u8; 6] = [0x02, 0, 0, 0, 0xbe, 0x03];
pub const WS3_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 23);
pub const STRANGER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0xbe, 0x99];
/// The relay agent's Ethernet address (its uplink on the server's subnet).
pub const RELAY_MAC: [u8; 6] = [0x02, 0, 0, 0, 0x77, 0x01];
pub const RELAY_IP: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

pub fn site() -> Site {
    bootcheck_scenario::load_site(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/site.yaml"))).unwrap()
}

pub fn server(faults: &[&str]) -> Server {
    Server::new(site(), faults.iter().map(|f| f.parse::<Fault>().unwrap()).collect())
}

pub fn server_with(config: Config) -> Server {
    Server::with_config(site(), Vec::new(), config)
}

/// A BOOTREQUEST under construction.
#[derive(Debug, Clone)]
pub struct Bootp {
    pub op: u8,
    pub htype: u8,
    pub hlen: u8,
    pub hops: u8,
    pub xid: u32,
    pub secs: u16,
    pub flags: u16,
    pub ciaddr: Ipv4Addr,
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    pub chaddr: [u8; 16],
    pub sname: [u8; 64],
    pub file: [u8; 128],
    /// `None`: a raw vend field (`raw`); `Some`: cookie + these options + End.
    pub options: Option<Vec<(u8, Vec<u8>)>>,
    pub raw: Vec<u8>,
}

impl Bootp {
    /// An RFC 1542 §3.5 request: cookie, End, zeros to 300 octets.
    pub fn new(xid: u32, mac: [u8; 6]) -> Self {
        let mut chaddr = [0; 16];
        chaddr[..6].copy_from_slice(&mac);
        Bootp {
            op: 1,
            htype: 1,
            hlen: 6,
            hops: 0,
            xid,
            secs: 0,
            flags: 0,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            chaddr,
            sname: [0; 64],
            file: [0; 128],
            options: Some(Vec::new()),
            raw: Vec::new(),
        }
    }
    pub fn opt(mut self, code: u8, data: &[u8]) -> Self {
        self.options.get_or_insert_with(Vec::new).push((code, data.to_vec()));
        self
    }
    pub fn dhcp(self, t: u8) -> Self {
        self.opt(53, &[t])
    }
    pub fn raw_vend(mut self, v: &[u8]) -> Self {
        self.options = None;
        self.raw = v.to_vec();
        self
    }
    pub fn sname(mut self, s: &str) -> Self {
        self.sname = [0; 64];
        self.sname[..s.len()].copy_from_slice(s.as_bytes());
        self
    }
    pub fn file(mut self, s: &str) -> Self {
        self.file = [0; 128];
        self.file[..s.len()].copy_from_slice(s.as_bytes());
        self
    }
    pub fn broadcast(mut self) -> Self {
        self.flags |= 0x8000;
        self
    }
    pub fn ciaddr(mut self, a: Ipv4Addr) -> Self {
        self.ciaddr = a;
        self
    }
    pub fn giaddr(mut self, a: Ipv4Addr) -> Self {
        self.giaddr = a;
        self
    }
    pub fn bytes(&self) -> Vec<u8> {
        let mut v = vec![0u8; bootp::HEADER_LEN];
        let mut p = Packet::new_unchecked(&mut v[..]);
        p.set_op(self.op);
        p.set_htype(self.htype);
        p.set_hlen(self.hlen);
        p.set_hops(self.hops);
        p.set_xid(self.xid);
        p.set_secs(self.secs);
        p.set_flags(self.flags);
        p.set_ciaddr(self.ciaddr);
        p.set_yiaddr(self.yiaddr);
        p.set_siaddr(self.siaddr);
        p.set_giaddr(self.giaddr);
        p.set_chaddr(&self.chaddr);
        p.set_sname(&self.sname);
        p.set_file(&self.file);
        match &self.options {
            Some(opts) => {
                v.extend_from_slice(&bootp::MAGIC_COOKIE);
                for (c, d) in opts {
                    options::emit_option(&mut v, *c, d);
                }
                v.push(255);
                if v.len() < bootp::MIN_LEN {
                    v.resize(bootp::MIN_LEN, 0);
                }
            }
            None => v.extend_from_slice(&self.raw),
        }
        v
    }
    /// As a client on the server's link would send it: from chaddr, 0.0.0.0:68 (or
    /// ciaddr:68) to the broadcast address.
    pub fn frame(&self) -> Vec<u8> {
        let mac: [u8; 6] = self.chaddr[..6].try_into().unwrap();
        udp_frame(mac, frame::BROADCAST_MAC, self.ciaddr, 68, Ipv4Addr::BROADCAST, 67, &self.bytes())
    }
    /// As the relay agent forwards it: from the relay's uplink MAC and giaddr:67 to the
    /// server.
    pub fn relayed(&self) -> Vec<u8> {
        udp_frame(RELAY_MAC, SERVER_MAC, self.giaddr, 67, SERVER_IP, 67, &self.bytes())
    }
}

pub fn udp_frame(
    smac: [u8; 6],
    dmac: [u8; 6],
    sip: Ipv4Addr,
    sport: u16,
    dip: Ipv4Addr,
    dport: u16,
    payload: &[u8],
) -> Vec<u8> {
    let ep = UdpEndpoints {
        src_mac: smac,
        dst_mac: dmac,
        src_ip: sip,
        dst_ip: dip,
        src_port: sport,
        dst_port: dport,
        ttl: 64,
    };
    frame::build_udp(&ep, payload).unwrap()
}

/// A decoded UDP frame from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Out {
    pub src_mac: [u8; 6],
    pub dst_mac: [u8; 6],
    pub src_ip: Ipv4Addr,
    pub dst_ip: Ipv4Addr,
    pub src_port: u16,
    pub dst_port: u16,
    pub ttl: u8,
    pub checksum_ok: Option<bool>,
    pub findings: usize,
    pub payload: Vec<u8>,
}

pub fn decode(f: &[u8]) -> Out {
    let fr = Frame::parse(LinkType::Ethernet, f).unwrap();
    let ip = *fr.ipv4().expect("IPv4");
    let udp = *fr.udp().expect("UDP");
    Out {
        src_mac: fr.src_mac().unwrap(),
        dst_mac: fr.dst_mac().unwrap(),
        src_ip: ip.src,
        dst_ip: ip.dst,
        src_port: udp.src_port,
        dst_port: udp.dst_port,
        ttl: ip.ttl,
        checksum_ok: udp.checksum_ok,
        findings: fr.findings.len(),
        payload: udp.payload.to_vec(),
    }
}

/// Exactly one reply frame, decoded.
pub fn one(frames: Vec<Vec<u8>>) -> Out {
    assert_eq!(frames.len(), 1, "expected exactly one frame, got {}", frames.len());
    decode(&frames[0])
}

/// Send a request, expect one reply; returns it.
pub fn ask(s: &mut Server, frame: &[u8]) -> Out {
    one(s.handle_frame(T0, frame))
}

/// The options of a BOOTP message as (code, data), in aggregate order.
pub fn opts(payload: &[u8]) -> Vec<(u8, Vec<u8>)> {
    Packet::new_unchecked(payload).options().map(|o| (o.option.code, o.option.data.to_vec())).collect()
}

pub fn opt(payload: &[u8], code: u8) -> Option<Vec<u8>> {
    Packet::new_unchecked(payload).find(code).map(|o| o.option.data.to_vec())
}

pub fn codes(payload: &[u8]) -> Vec<u8> {
    opts(payload).into_iter().map(|(c, _)| c).collect()
}

/// The log as text, drained.
pub fn log_text(s: &mut Server) -> String {
    s.log().iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

// --- TFTP -----------------------------------------------------------------------

pub const CLIENT_PORT: u16 = 2000;

pub fn rrq(name: &str, mode: &str, options: &[(&str, &str)]) -> Vec<u8> {
    let options = options.iter().map(|(n, v)| tftp::TftpOption::new(n.as_bytes(), v.as_bytes())).collect();
    tftp::Repr::Request { opcode: tftp::RequestOpcode::Rrq, filename: name.as_bytes(), mode: mode.as_bytes(), options }
        .to_vec()
}

pub fn wrq(name: &str) -> Vec<u8> {
    tftp::Repr::Request { opcode: tftp::RequestOpcode::Wrq, filename: name.as_bytes(), mode: b"octet", options: vec![] }
        .to_vec()
}

pub fn ack(block: u16) -> Vec<u8> {
    tftp::Repr::Ack { block }.to_vec()
}

/// A TFTP datagram from ws1 (port `sport`) to the server's port `dport`.
pub fn from_ws1(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    udp_frame(WS1_MAC, SERVER_MAC, WS1_IP, sport, SERVER_IP, dport, payload)
}

/// The TFTP packet of a reply.
pub fn tftp_of(o: &Out) -> tftp::Repr<'_> {
    tftp::Repr::parse_bytes(&o.payload).unwrap()
}

/// Run a whole read of `name` from ws1 with lock-step ACKs (window 1 or as
/// negotiated): returns the data and the DATA packets' (block, length) in order.
pub fn fetch(s: &mut Server, name: &str, mode: &str, options: &[(&str, &str)]) -> (Vec<u8>, Vec<(u16, usize)>) {
    let first = s.handle_frame(T0, &from_ws1(CLIENT_PORT, 69, &rrq(name, mode, options)));
    let mut pending: Vec<Out> = first.iter().map(|f| decode(f)).collect();
    let mut data = Vec::new();
    let mut blocks = Vec::new();
    let mut blksize = 512usize;
    let mut guard = 0;
    loop {
        guard += 1;
        assert!(guard < 1_000_000, "transfer does not end");
        assert!(!pending.is_empty(), "server went silent");
        let tid = pending[0].src_port;
        let mut last = None;
        let mut done = false;
        for o in &pending {
            assert_eq!(o.dst_port, CLIENT_PORT);
            assert_eq!(o.src_port, tid);
            match tftp_of(o) {
                tftp::Repr::Oack { options } => {
                    for opt in options {
                        if opt.name.eq_ignore_ascii_case(b"blksize") {
                            blksize = opt.value_u64().unwrap() as usize;
                        }
                    }
                    last = Some(0);
                }
                tftp::Repr::Data { block, data: d } => {
                    data.extend_from_slice(d);
                    blocks.push((block, d.len()));
                    last = Some(block);
                    if d.len() < blksize {
                        done = true;
                    }
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        let reply = s.handle_frame(T0, &from_ws1(CLIENT_PORT, tid, &ack(last.unwrap())));
        if done {
            assert!(reply.is_empty(), "nothing after the final ACK");
            return (data, blocks);
        }
        pending = reply.iter().map(|f| decode(f)).collect();
    }
}
