//! The scenario data model: what a scenario file says, deserialized with unknown keys
//! rejected. `scenarios/schema.json` is generated from these types.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

use crate::matcher::Matcher;
use crate::template::Template;

/// A scenario file.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Scenario {
    /// Stable id, e.g. `rfc951/known-client`. Snapshots and reports are named after it.
    pub id: String,
    /// One line saying what the scenario proves.
    pub title: String,
    /// The clauses it exercises, e.g. `RFC951 §7.3`.
    #[serde(default)]
    pub cites: Vec<String>,
    /// The clause ids of the rule catalogue this scenario proves a target obeys
    /// (`rfc951/7.3/sname-other-server`); `bootcheck rfc` counts them as coverage and
    /// rejects ids that do not exist.
    #[serde(default)]
    pub covers: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Where the harness sits: `direct` (default: on the server's link, a client or a
    /// relay agent itself) or `relay` (on the far side of a relay agent under test,
    /// `bootcheck run --relay NAME`: the relay is the subject, a server behind it).
    #[serde(default)]
    pub topology: ScenarioTopology,
    /// The site client the exchanges are made for (MAC, fixed IP, boot file…).
    #[serde(default)]
    pub client: Option<ClientRef>,
    /// Expected deviations per target, with the reason: recorded, not hidden.
    #[serde(default)]
    pub deviations: BTreeMap<String, Deviation>,
    pub steps: Vec<Step>,
}

/// Where a scenario's harness sits (see [`Scenario::topology`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ScenarioTopology {
    #[default]
    Direct,
    Relay,
}

/// Which client a scenario plays: a site client by name, or an unknown one.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(untagged)]
pub enum ClientRef {
    /// A client from the site, by name.
    Known(String),
    /// A client the site does not know.
    Unknown(UnknownClient),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct UnknownClient {
    pub mac: crate::site::Mac,
    /// An address the client already has (`$client.ip`; a BSDP client's ciaddr), for
    /// a client the server's host table does not list.
    #[serde(default)]
    pub ip: Option<std::net::Ipv4Addr>,
}

impl<'de> Deserialize<'de> for ClientRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_yaml::Value::deserialize(d)?;
        match v {
            serde_yaml::Value::String(s) => Ok(ClientRef::Known(s)),
            v @ serde_yaml::Value::Mapping(_) => {
                serde_yaml::from_value(v).map(ClientRef::Unknown).map_err(serde::de::Error::custom)
            }
            _ => Err(serde::de::Error::custom(
                "expected a site client name (e.g. `ws1`) or `{ mac: 02:00:00:00:be:99 }` for an unknown client",
            )),
        }
    }
}

/// What a target is known to do differently.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Deviation {
    /// Why: the server's documented behaviour, a finding page, a version.
    pub why: String,
    /// `fail` (default): the scenario is expected to fail on this target, and passing
    /// is reported so the record gets updated; `skip`: not run on this target.
    #[serde(default)]
    pub outcome: DeviationOutcome,
    /// The step (1-based) expected to fail; any step when absent.
    #[serde(default)]
    pub step: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DeviationOutcome {
    #[default]
    Fail,
    Skip,
}

/// One exchange: something sent, what is expected back, what to remember.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Step {
    #[serde(default)]
    pub name: Option<String>,
    /// What to send. Absent: only wait/observe (e.g. `expect: { no-reply: 2s }`).
    #[serde(default)]
    pub send: Option<Send>,
    /// Send this many copies (each with the same xid); the expectation applies to the
    /// replies of all of them.
    #[serde(default = "one")]
    pub repeat: u32,
    pub expect: Expect,
    /// Variables for later steps: `name: reply.siaddr`, `name: reply.options.server-id`.
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
}

fn one() -> u32 {
    1
}

/// What to send: exactly one of `bootp`, `tftp-read`, `rarp`, `raw`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(try_from = "SendRepr")]
pub enum Send {
    /// A BOOTREQUEST (DHCP and BSDP messages are BOOTREQUESTs with options).
    Bootp(Box<BootpSend>),
    /// A TFTP read of a file (RFC 1350), with options (RFC 2347–2349, 7440).
    TftpRead(TftpRead),
    /// A RARP request (RFC 903) for a hardware address.
    Rarp(RarpSend),
    /// A whole Ethernet frame, sent exactly as given (`bootcheck fuzz` reproducers).
    Raw(RawSend),
}

/// The YAML shape of [`Send`]: a mapping with one key. (A struct, so that errors inside
/// keep their line and column.)
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SendRepr {
    /// A BOOTREQUEST (DHCP and BSDP messages are BOOTREQUESTs with options).
    #[serde(default)]
    pub bootp: Option<Box<BootpSend>>,
    /// A TFTP read of a file (RFC 1350), with options (RFC 2347–2349, 7440).
    #[serde(default)]
    pub tftp_read: Option<TftpRead>,
    /// A RARP request (RFC 903) for a hardware address.
    #[serde(default)]
    pub rarp: Option<RarpSend>,
    /// An Apple BSDP request: short for `bootp: { bsdp: ... }` (a DHCPINFORM from the
    /// client's address with options 60 and 43).
    #[serde(default)]
    pub bsdp: Option<BsdpRequest>,
    /// A whole Ethernet frame, sent exactly as given (`bootcheck fuzz` writes its
    /// reproducers with these); the step's `expect` must be `any`.
    #[serde(default)]
    pub raw: Option<RawSend>,
}

/// A whole Ethernet frame to send as is. The engine refuses a frame shorter than an
/// Ethernet header, and an IPv4 destination outside RFC 5737 documentation space (the
/// limited broadcast and 0.0.0.0 aside). Its protocol, for a profile's `serves`, is read
/// from the frame: RARP by EtherType, TFTP by UDP port 69, BOOTP otherwise.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawSend {
    /// The frame from the destination MAC on, in hex digits (spaces, `:` and `-` are
    /// ignored).
    #[schemars(with = "String")]
    pub hex: Hex,
}

impl TryFrom<SendRepr> for Send {
    type Error = String;
    fn try_from(r: SendRepr) -> Result<Self, String> {
        if let Some(raw) = r.raw {
            if r.bootp.is_some() || r.tftp_read.is_some() || r.rarp.is_some() || r.bsdp.is_some() {
                return Err("`send` takes exactly one of `bootp`, `tftp-read`, `rarp`, `bsdp`, `raw`".into());
            }
            return Ok(Send::Raw(raw));
        }
        match (r.bootp, r.tftp_read, r.rarp, r.bsdp) {
            (Some(b), None, None, None) => Ok(Send::Bootp(b)),
            (None, Some(t), None, None) => Ok(Send::TftpRead(t)),
            (None, None, Some(r), None) => Ok(Send::Rarp(r)),
            (None, None, None, Some(q)) => {
                Ok(Send::Bootp(Box::new(BootpSend { bsdp: Some(q), ..BootpSend::default() })))
            }
            _ => Err("`send` takes exactly one of `bootp`, `tftp-read`, `rarp`, `bsdp`, `raw`".into()),
        }
    }
}

/// Addressing of a sent frame. Defaults: from the client's MAC, 0.0.0.0:68, to the
/// Ethernet and IP broadcast, port 67 — a client with no address (RFC 951 §4).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Endpoint {
    #[serde(default)]
    pub mac: Option<Template>,
    #[serde(default)]
    pub ip: Option<Template>,
    #[serde(default)]
    pub port: Option<u16>,
}

/// Who sends: the client itself, or the harness playing a relay agent (RFC 951 §8,
/// RFC 1542 §4): from the relay's address and port 67, giaddr set, hops 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    #[default]
    Client,
    Relay,
}

/// Falsified IPv4/UDP header fields (the raw path; CVE-2015-8605's shape).
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LiesSpec {
    /// IPv4 header length in 32-bit words (5 is honest).
    pub ihl: Option<u8>,
    pub ip_total_len: Option<u16>,
    pub ip_checksum: Option<u16>,
    pub udp_len: Option<u16>,
    pub udp_checksum: Option<u16>,
}

/// The BROADCAST flag (RFC 1542 §2.2) or the whole flags field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(untagged)]
pub enum Flags {
    /// `broadcast` (0x8000) or `unicast` (0).
    Named(FlagName),
    Value(u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FlagName {
    Broadcast,
    Unicast,
}

impl Flags {
    pub fn value(self) -> u16 {
        match self {
            Flags::Named(FlagName::Broadcast) => 0x8000,
            Flags::Named(FlagName::Unicast) => 0,
            Flags::Value(v) => v,
        }
    }
}

impl<'de> Deserialize<'de> for Flags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_yaml::Value::deserialize(d)? {
            serde_yaml::Value::String(s) if s == "broadcast" => Ok(Flags::Named(FlagName::Broadcast)),
            serde_yaml::Value::String(s) if s == "unicast" => Ok(Flags::Named(FlagName::Unicast)),
            serde_yaml::Value::Number(n) => n
                .as_u64()
                .and_then(|v| u16::try_from(v).ok())
                .map(Flags::Value)
                .ok_or_else(|| serde::de::Error::custom(format!("flags {n} does not fit 16 bits"))),
            other => Err(serde::de::Error::custom(format!(
                "expected `broadcast`, `unicast` or a 16-bit number for flags, found {}",
                crate::matcher::describe(&other)
            ))),
        }
    }
}

/// Octets given as text or hex: `"some text"` or `{ hex: "63 82 53 63" }`.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(untagged)]
pub enum Octets {
    Text(Template),
    Hex(HexOctets),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HexOctets {
    /// Hex digits; spaces, colons and dashes are ignored.
    #[schemars(with = "String")]
    pub hex: Hex,
}

/// Parsed hex octets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hex(pub Vec<u8>);

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_hex(&s).map(Hex).map_err(serde::de::Error::custom)
    }
}

/// Parse hex digits, ignoring whitespace, `:` and `-`.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<char> = s.chars().filter(|c| !c.is_whitespace() && *c != ':' && *c != '-').collect();
    if digits.len() % 2 != 0 {
        return Err(format!("`{s}` has an odd number of hex digits"));
    }
    digits
        .chunks(2)
        .map(|p| {
            let t: String = p.iter().collect();
            u8::from_str_radix(&t, 16).map_err(|_| format!("`{t}` in `{s}` is not a hex octet"))
        })
        .collect()
}

impl<'de> Deserialize<'de> for Octets {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_yaml::Value::deserialize(d)? {
            serde_yaml::Value::String(s) => Ok(Octets::Text(Template::new(s))),
            v @ serde_yaml::Value::Mapping(_) => {
                serde_yaml::from_value(v).map(Octets::Hex).map_err(serde::de::Error::custom)
            }
            other => Err(serde::de::Error::custom(format!(
                "expected text or {{ hex: \"...\" }}, found {}",
                crate::matcher::describe(&other)
            ))),
        }
    }
}

/// The vend field of a request.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(untagged)]
pub enum VendSpec {
    /// `rfc1048` (cookie + options, the default), `rfc951` (64 zero octets, no cookie),
    /// `cmu` (the CMU vendor area), `none` (no vend field: a 236-octet message).
    Named(VendName),
    /// Exactly these octets; `options` must be empty.
    Raw { raw: Octets },
    /// Another cookie in place of 99.130.83.99, followed by the options.
    Cookie { cookie: Octets },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum VendName {
    Rfc1048,
    Rfc951,
    Cmu,
    None,
}

impl<'de> Deserialize<'de> for VendSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            raw: Octets,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Cookie {
            cookie: Octets,
        }
        let v = serde_yaml::Value::deserialize(d)?;
        let err = |what: &str| {
            serde::de::Error::custom(format!(
                "expected `rfc1048`, `rfc951`, `cmu`, `none`, {{ raw: ... }} or {{ cookie: ... }} for vend{what}"
            ))
        };
        match &v {
            serde_yaml::Value::String(s) => match s.as_str() {
                "rfc1048" => Ok(VendSpec::Named(VendName::Rfc1048)),
                "rfc951" => Ok(VendSpec::Named(VendName::Rfc951)),
                "cmu" => Ok(VendSpec::Named(VendName::Cmu)),
                "none" => Ok(VendSpec::Named(VendName::None)),
                other => Err(err(&format!(", found `{other}`"))),
            },
            serde_yaml::Value::Mapping(m) if m.contains_key("raw") => {
                serde_yaml::from_value::<Raw>(v).map(|r| VendSpec::Raw { raw: r.raw }).map_err(serde::de::Error::custom)
            }
            serde_yaml::Value::Mapping(m) if m.contains_key("cookie") => serde_yaml::from_value::<Cookie>(v)
                .map(|c| VendSpec::Cookie { cookie: c.cookie })
                .map_err(serde::de::Error::custom),
            _ => Err(err("")),
        }
    }
}

/// A BOOTREQUEST to send. Every field has the value a plain RFC 951 client would use;
/// set one to make the request unusual or wrong on purpose.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BootpSend {
    /// Default 1 (BOOTREQUEST).
    pub op: Option<u8>,
    /// Default 1 (Ethernet).
    pub htype: Option<u8>,
    /// Default 6.
    pub hlen: Option<u8>,
    /// Default 0 (1 when sent as a relay).
    pub hops: Option<u8>,
    /// Default: derived from the run seed, the scenario id and the step.
    pub xid: Option<u32>,
    pub secs: Option<u16>,
    pub flags: Option<Flags>,
    pub ciaddr: Option<Template>,
    pub yiaddr: Option<Template>,
    pub siaddr: Option<Template>,
    /// Default 0.0.0.0 (the relay address when sent as a relay).
    pub giaddr: Option<Template>,
    /// Client hardware address: a MAC, or `{ hex: ... }` for all 16 octets; default the
    /// scenario client's MAC.
    pub chaddr: Option<Octets>,
    pub sname: Option<Octets>,
    pub file: Option<Octets>,
    pub vend: Option<VendSpec>,
    /// DHCP message type sugar: `discover`, `request`, `inform`… (option 53).
    pub dhcp: Option<String>,
    /// Make it an Apple BSDP request: option 60 `AAPLBSDPC/<arch>/<system-id>` and the
    /// option-43 sub-options; unless set otherwise, a DHCPINFORM (`dhcp: inform`) with
    /// ciaddr = the client's address and a parameter request list of 1, 3, 17, 43, 60.
    /// Options named in `options` replace the generated ones.
    pub bsdp: Option<BsdpRequest>,
    /// Options in order, by codebook name or number; values are typed by the option's
    /// kind, or `{ hex: ... }` for exactly those octets (any length, to lie).
    #[serde(default)]
    pub options: crate::options::OptionList,
    /// Octets appended after the options (before End): malformed TLVs on purpose.
    pub raw_options: Option<Octets>,
    /// Whether to write End (255) after the options. Default true.
    pub end: Option<bool>,
    /// Pad the message to at least this many octets. Default 300 (RFC 951).
    pub pad_to: Option<usize>,
    /// Cut the BOOTP message to this many octets after building it.
    pub truncate: Option<usize>,
    /// Who sends it.
    #[serde(default, rename = "as")]
    pub role: Role,
    #[serde(default)]
    pub from: Endpoint,
    #[serde(default)]
    pub to: Endpoint,
    #[serde(default)]
    pub lies: LiesSpec,
}

/// The BSDP part of a request (option 60 and the option-43 sub-options of BSDP §4).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BsdpRequest {
    /// Sub-option 1: `list`, `select`, `failed`, a number, or `none` (left out).
    pub message: BsdpMessage,
    /// Sub-option 2: `1.1` (0x0101, the default), `1.0`, a number such as `0x0000`,
    /// or `none` (left out).
    #[serde(default)]
    pub version: Option<BsdpVersion>,
    /// Sub-option 3, the server the client selects: an address; default the site
    /// server for `select` and nothing for `list`; `none` leaves it out.
    #[serde(default)]
    pub server_id: Option<Template>,
    /// Sub-option 8, the selected boot image: a `netboot.images` key or a 32-bit ID;
    /// default the site's default image for `select` and nothing for `list`; `none`
    /// leaves it out.
    #[serde(default)]
    pub image: Option<Template>,
    /// Sub-option 5: the UDP port the reply must go to instead of 68.
    #[serde(default)]
    pub reply_port: Option<u16>,
    /// Sub-option 12, the largest reply the client takes; DHCP option 57 is then set
    /// to 1500 as Apple's client does.
    #[serde(default)]
    pub max_size: Option<u16>,
    /// Sub-option 10 (a NetBoot 1.0 firmware flag).
    #[serde(default, rename = "netboot-1.0")]
    pub netboot_1_0: bool,
    /// Sub-option 11: image attribute values (the upper 16 bits of boot image IDs,
    /// e.g. 0x0300 for diagnostics); only matching images may be offered.
    #[serde(default)]
    pub filter: Vec<u16>,
    /// Architecture in option 60. Default `i386`.
    #[serde(default)]
    pub arch: Option<String>,
    /// System id (model) in option 60. Default `MacBookPro11,1`.
    #[serde(default)]
    pub system_id: Option<String>,
    /// The whole option-60 value instead of `AAPLBSDPC/<arch>/<system-id>` (text or
    /// `{ hex: ... }`); `none` leaves option 60 out.
    #[serde(default)]
    pub vendor_class: Option<Octets>,
    /// Octets appended to option 43 after the sub-options (malformed on purpose).
    #[serde(default)]
    pub raw: Option<Octets>,
}

/// A BSDP message type to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(untagged)]
pub enum BsdpMessage {
    /// `list`, `select`, `failed`, or `none` (no message type sub-option).
    Named(BsdpMessageName),
    Value(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BsdpMessageName {
    List,
    Select,
    Failed,
    None,
}

impl BsdpMessage {
    /// The sub-option value, `None` for `none`.
    pub fn value(self) -> Option<u8> {
        match self {
            BsdpMessage::Named(BsdpMessageName::List) => Some(1),
            BsdpMessage::Named(BsdpMessageName::Select) => Some(2),
            BsdpMessage::Named(BsdpMessageName::Failed) => Some(3),
            BsdpMessage::Named(BsdpMessageName::None) => None,
            BsdpMessage::Value(v) => Some(v),
        }
    }
}

impl<'de> Deserialize<'de> for BsdpMessage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_yaml::Value::deserialize(d)?;
        match &v {
            serde_yaml::Value::String(_) => serde_yaml::from_value(v).map(BsdpMessage::Named).map_err(|_| {
                serde::de::Error::custom("expected `list`, `select`, `failed`, `none` or a number for the BSDP message")
            }),
            serde_yaml::Value::Number(n) => n
                .as_u64()
                .and_then(|x| u8::try_from(x).ok())
                .map(BsdpMessage::Value)
                .ok_or_else(|| serde::de::Error::custom(format!("BSDP message type {n} does not fit one octet"))),
            other => Err(serde::de::Error::custom(format!(
                "expected `list`, `select`, `failed`, `none` or a number for the BSDP message, found {}",
                crate::matcher::describe(other)
            ))),
        }
    }
}

/// A BSDP version to send: `1.1`, `1.0`, a 16-bit number, or `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(with = "String")]
pub struct BsdpVersion(pub Option<u16>);

impl<'de> Deserialize<'de> for BsdpVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bad = |what: &str| {
            serde::de::Error::custom(format!(
                "expected `1.1`, `1.0`, a 16-bit number (0x0101) or `none` for the BSDP version, found {what}"
            ))
        };
        match serde_yaml::Value::deserialize(d)? {
            serde_yaml::Value::String(s) => match s.trim() {
                "none" => Ok(BsdpVersion(None)),
                "1.1" => Ok(BsdpVersion(Some(0x0101))),
                "1.0" => Ok(BsdpVersion(Some(0x0100))),
                t => crate::matcher::parse_u64(t)
                    .and_then(|v| u16::try_from(v).ok())
                    .map(|v| BsdpVersion(Some(v)))
                    .ok_or_else(|| bad(&format!("`{s}`"))),
            },
            // YAML reads 1.1 and 1.0 as numbers.
            serde_yaml::Value::Number(n) => match n.as_f64() {
                Some(x) if (x - 1.1).abs() < 1e-9 => Ok(BsdpVersion(Some(0x0101))),
                Some(x) if (x - 1.0).abs() < 1e-9 && n.as_u64().is_none() => Ok(BsdpVersion(Some(0x0100))),
                _ => n
                    .as_u64()
                    .and_then(|v| u16::try_from(v).ok())
                    .map(|v| BsdpVersion(Some(v)))
                    .ok_or_else(|| bad(&format!("`{n}`"))),
            },
            other => Err(bad(&crate::matcher::describe(&other))),
        }
    }
}

/// A TFTP read.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TftpRead {
    /// Server address; default the site server.
    pub server: Option<Template>,
    /// File name as sent in the RRQ.
    pub file: Template,
    /// `octet` (default) or `netascii`.
    #[serde(default)]
    pub mode: Option<String>,
    /// RFC 2347 options in order: blksize, tsize, timeout, windowsize, or any name.
    #[serde(default, deserialize_with = "ordered_strings")]
    #[schemars(with = "BTreeMap<String, String>")]
    pub options: Vec<(String, String)>,
    /// Client port; default derived from the seed (≥ 1024).
    pub port: Option<u16>,
    /// Send the ACK of this block twice, as a delayed ACK arriving after its
    /// retransmission would (RFC 1123 §4.2.3.1): a correct server sends the next DATA
    /// once, never again for the duplicate (see `duplicate-data` in `transfer`).
    pub duplicate_ack: Option<u16>,
    /// Withhold the ACK of this block once, as if it were lost (0: the ACK of the
    /// OACK). The client then stays silent until the server sends again, so the
    /// transfer completes only if the server retransmits on its own timeout
    /// (RFC 1350 §2). For the last block, the transfer must also see that block again
    /// (RFC 1350 §6).
    pub drop_ack: Option<u16>,
    /// After DATA block N arrives, send an ACK of it to the server's TID from another
    /// port (the client's port + 1), before the real ACK: RFC 1350 §4 wants ERROR 5
    /// at that port and the transfer undisturbed (see `wrong-tid-error` in
    /// `transfer`).
    pub wrong_tid: Option<u16>,
    /// Send exactly these octets to the server's port 69 in place of the RRQ built
    /// from `file`, `mode` and `options` (which then only name the step): malformed
    /// requests on purpose, e.g. an option without its terminating NUL
    /// (CVE-2021-46671) or an ERROR packet of 2 to 4 octets (CVE-2019-11365).
    pub raw: Option<Octets>,
}

/// A RARP request (RFC 903 op 3).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RarpSend {
    /// The hardware address to resolve; default the client's MAC.
    pub target: Option<Template>,
    /// Hardware length to claim (6 is honest).
    pub hlen: Option<u8>,
}

/// What the step expects: exactly one of `reply`, `no-reply`, `any`, `transfer`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(try_from = "ExpectRepr")]
pub enum Expect {
    /// A reply (or several) matching these checks.
    Reply { reply: Box<ReplyExpect> },
    /// Silence for this long (e.g. `3s`).
    NoReply { no_reply: Dur },
    /// Either; only the target's health matters (robustness steps).
    Any { any: Dur },
    /// A TFTP transfer outcome.
    Transfer { transfer: TransferExpect },
}

/// The YAML shape of [`Expect`].
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ExpectRepr {
    /// A reply (or several) matching these checks.
    #[serde(default)]
    pub reply: Option<Box<ReplyExpect>>,
    /// Silence for this long (e.g. `3s`).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub no_reply: Option<Dur>,
    /// Reply or not; only the target's health matters (robustness steps).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub any: Option<Dur>,
    /// A TFTP transfer outcome.
    #[serde(default)]
    pub transfer: Option<TransferExpect>,
}

impl TryFrom<ExpectRepr> for Expect {
    type Error = String;
    fn try_from(r: ExpectRepr) -> Result<Self, String> {
        match (r.reply, r.no_reply, r.any, r.transfer) {
            (Some(reply), None, None, None) => Ok(Expect::Reply { reply }),
            (None, Some(no_reply), None, None) => Ok(Expect::NoReply { no_reply }),
            (None, None, Some(any), None) => Ok(Expect::Any { any }),
            (None, None, None, Some(transfer)) => Ok(Expect::Transfer { transfer }),
            _ => Err("`expect` takes exactly one of `reply`, `no-reply`, `any`, `transfer`".into()),
        }
    }
}

/// Where a reply must be delivered (RFC 1542 §5.4, RFC 2131 §4.1).
#[derive(Debug, Clone, JsonSchema)]
#[schemars(untagged)]
pub enum Delivery {
    /// `broadcast`: ff:ff:ff:ff:ff:ff, 255.255.255.255:68. `unicast`: chaddr MAC,
    /// yiaddr:68. `relay`: giaddr:67. `ciaddr`: ciaddr:68.
    Named(DeliveryName),
    /// Explicit matchers on the frame's destination.
    Explicit(DeliveryExplicit),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryName {
    Broadcast,
    Unicast,
    Relay,
    Ciaddr,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DeliveryExplicit {
    pub mac: Option<Matcher>,
    pub ip: Option<Matcher>,
    pub port: Option<Matcher>,
}

impl<'de> Deserialize<'de> for Delivery {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_yaml::Value::deserialize(d)?;
        match &v {
            serde_yaml::Value::String(_) => serde_yaml::from_value(v).map(Delivery::Named).map_err(|_| {
                serde::de::Error::custom("expected `broadcast`, `unicast`, `relay`, `ciaddr` or { mac, ip, port }")
            }),
            serde_yaml::Value::Mapping(_) => {
                serde_yaml::from_value(v).map(Delivery::Explicit).map_err(serde::de::Error::custom)
            }
            _ => {
                Err(serde::de::Error::custom("expected `broadcast`, `unicast`, `relay`, `ciaddr` or { mac, ip, port }"))
            }
        }
    }
}

/// Checks on a reply. Every field is a [`Matcher`].
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReplyExpect {
    /// How long to wait. Default 2s.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub within: Option<Dur>,
    /// How many replies: a number or a range `1..3`. Default: at least one (the step
    /// ends at the first); with a count, the whole window is watched. A count that
    /// admits 0 (`0..1`) makes silence a pass: the other checks then apply to a reply
    /// only if one comes ("answer correctly or not at all", for hostile requests).
    #[serde(default)]
    pub count: Option<Matcher>,
    pub delivered_to: Option<Delivery>,
    /// BOOTP message length in octets (UDP payload).
    pub size: Option<Matcher>,
    pub op: Option<Matcher>,
    pub htype: Option<Matcher>,
    pub hlen: Option<Matcher>,
    pub hops: Option<Matcher>,
    pub xid: Option<Matcher>,
    pub secs: Option<Matcher>,
    pub flags: Option<Matcher>,
    pub ciaddr: Option<Matcher>,
    pub yiaddr: Option<Matcher>,
    pub siaddr: Option<Matcher>,
    pub giaddr: Option<Matcher>,
    pub chaddr: Option<Matcher>,
    /// sname up to its first NUL.
    pub sname: Option<Matcher>,
    /// file up to its first NUL.
    pub file: Option<Matcher>,
    /// Whether the 64-octet sname field holds a NUL, i.e. is a null-terminated string
    /// (RFC 951 §3); an all-zero field is terminated.
    pub sname_terminated: Option<Matcher>,
    /// Whether the 128-octet file field holds a NUL (RFC 951 §3).
    pub file_terminated: Option<Matcher>,
    /// What the vend field holds: `rfc1048`, `cmu`, `raw`, `empty`.
    pub vend: Option<Matcher>,
    /// Length of the vend field.
    pub vend_size: Option<Matcher>,
    /// The vend field's octets, e.g. `{ hex: "..." }`, `{ len: 64 }`; the field holds
    /// only zero octets (nothing said in it) when `{ regex: '^\x00*$' }` matches.
    pub vend_octets: Option<Matcher>,
    /// The CMU vendor area of the reply (CMU bootp's `struct cmu_vend`), field by
    /// field; each field is absent when the reply's vend is not a CMU area.
    #[serde(default)]
    pub cmu: CmuExpect,
    /// Whether an End option terminates the options.
    pub end_option: Option<Matcher>,
    /// The UDP checksum of the reply (RFC 768): `valid` (it verifies), `none` (0: not
    /// computed, legal over IPv4), `invalid`, or `unverifiable` (the datagram is cut).
    /// Write `{ one-of: [valid, none] }` to accept every legal reply.
    pub udp_checksum: Option<Matcher>,
    /// Per option, by name or code: `absent`, `present`, a value, or any matcher.
    #[serde(default)]
    pub options: BTreeMap<String, Matcher>,
    /// These options, by name or code, are all in the reply and their first instances
    /// come in this order (RFC 1497 and RFC 2132 §3.3: the subnet mask before the
    /// router; RFC 2132 §9.8: the order of the parameter request list). Other options
    /// may come before, between and after them.
    #[serde(default)]
    pub options_order: crate::options::OptionCodes,
    /// RARP reply fields (op, sha, spa, tha, tpa) when the step sent RARP.
    #[serde(default)]
    pub rarp: BTreeMap<String, Matcher>,
    /// The Apple BSDP content of the reply (options 43, 54, 60).
    #[serde(default)]
    pub bsdp: Option<BsdpExpect>,
}

/// Checks on a BSDP reply. Option 43 is read with all its instances joined (RFC 3396).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BsdpExpect {
    /// `ack-list`, `ack-select`, `ack-failed` (the DHCP message type, then the BSDP
    /// one), or the BSDP message type's number; absent without a message type
    /// sub-option.
    pub message: Option<Matcher>,
    /// The server identifier: DHCP option 54, which the client copies into the
    /// server identifier sub-option of its `INFORM[SELECT]`.
    pub server_id: Option<Matcher>,
    /// Sub-option 4.
    pub server_priority: Option<Matcher>,
    /// Sub-option 7, as a number (`$site.netboot.images.macos.id`).
    pub default_image: Option<Matcher>,
    /// Sub-option 8, as a number.
    pub selected_image: Option<Matcher>,
    /// The boot image list (every sub-option 9 joined), one `"<id> <name>"` text per
    /// entry with the ID as `0x` and 8 hex digits; `$site.netboot.list` is the site's.
    pub images: Option<Matcher>,
    /// Sub-option 130.
    pub machine_name: Option<Matcher>,
    /// The sub-option codes in wire order, e.g. `[1, 4, 7, 9]`.
    pub sub_options: Option<Matcher>,
    /// Whether option 43 parses as BSDP sub-options (lengths right, image list
    /// entries complete); false without option 43.
    pub well_formed: Option<Matcher>,
}

/// Checks on the CMU vendor area of a reply (CMU bootp's `struct cmu_vend`: the magic
/// `CMU\0`, then `v_flags`, `v_smask`, `v_dgate`, `v_dns1`, `v_dns2`, `v_ins1`,
/// `v_ins2`, `v_ts1`, `v_ts2`, 32 bits each). Every field is absent when the reply's
/// vend is not CMU, so `{ any-of: [absent, ...] }` accepts a server that does not
/// answer in CMU form.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CmuExpect {
    /// `v_flags` (1: the subnet mask is valid), read in network byte order.
    pub flags: Option<Matcher>,
    pub subnet_mask: Option<Matcher>,
    /// The default gateway.
    pub gateway: Option<Matcher>,
    /// Domain name servers 1 and 2.
    pub dns1: Option<Matcher>,
    pub dns2: Option<Matcher>,
    /// IEN-116 name servers 1 and 2.
    #[serde(rename = "ien116-1")]
    pub ien116_1: Option<Matcher>,
    #[serde(rename = "ien116-2")]
    pub ien116_2: Option<Matcher>,
    /// Time servers 1 and 2.
    #[serde(rename = "time-server-1")]
    pub time_server_1: Option<Matcher>,
    #[serde(rename = "time-server-2")]
    pub time_server_2: Option<Matcher>,
}

impl CmuExpect {
    /// The checks with their field names and octet offsets in the vend field.
    pub fn fields(&self) -> [(&'static str, usize, &Option<Matcher>); 9] {
        [
            ("flags", 4, &self.flags),
            ("subnet-mask", 8, &self.subnet_mask),
            ("gateway", 12, &self.gateway),
            ("dns1", 16, &self.dns1),
            ("dns2", 20, &self.dns2),
            ("ien116-1", 24, &self.ien116_1),
            ("ien116-2", 28, &self.ien116_2),
            ("time-server-1", 32, &self.time_server_1),
            ("time-server-2", 36, &self.time_server_2),
        ]
    }
}

/// Checks on a TFTP transfer.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TransferExpect {
    /// Default 10s for the whole transfer.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub within: Option<Dur>,
    /// The received octets equal this site file (name relative to the boot home). For
    /// a `netascii` read, the file in netascii form: LF sent as CR LF, CR as CR NUL
    /// (RFC 1350 §5, RFC 764), the local file being a Unix text file.
    pub site_file: Option<Template>,
    pub sha256: Option<Matcher>,
    pub size: Option<Matcher>,
    /// An ERROR packet's code instead of data (1 not found, 2 access violation…).
    pub error: Option<Matcher>,
    /// The OACK's options, by name (`absent`: not in the OACK, or no OACK).
    #[serde(default)]
    pub oack: BTreeMap<String, Matcher>,
    /// How many DATA packets arrived for a block already received (retransmissions
    /// and duplicates; 0 after `duplicate-ack` on a correct server).
    pub duplicate_data: Option<Matcher>,
    /// After `wrong-tid`: the code of the ERROR the server sent to the other port
    /// (`absent` when it sent nothing; another packet shows as its opcode).
    pub wrong_tid_error: Option<Matcher>,
}

/// A duration written `2s`, `500ms`, `1.5s`, `1m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub Duration);

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms % 1000 == 0 {
            write!(f, "{}s", ms / 1000)
        } else {
            write!(f, "{ms}ms")
        }
    }
}

/// Parse `2s`, `500ms`, `1.5s`, `1m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.find(|c: char| c.is_ascii_alphabetic()).map_or((s, "s"), |i| s.split_at(i));
    let n: f64 = num.trim().parse().map_err(|_| format!("`{s}` is not a duration: expected e.g. 2s, 500ms"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (use ms, s or m)")),
    };
    if !(0.0..=3600.0).contains(&secs) {
        return Err(format!("`{s}` is out of range (0 to 1h)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_yaml::Value::deserialize(d)? {
            serde_yaml::Value::String(s) => parse_duration(&s).map(Dur).map_err(serde::de::Error::custom),
            serde_yaml::Value::Number(n) => n
                .as_f64()
                .filter(|v| (0.0..=3600.0).contains(v))
                .map(|v| Dur(Duration::from_secs_f64(v)))
                .ok_or_else(|| serde::de::Error::custom("duration out of range")),
            other => Err(serde::de::Error::custom(format!(
                "expected a duration like 2s or 500ms, found {}",
                crate::matcher::describe(&other)
            ))),
        }
    }
}

/// A mapping read in document order, keys and values as text.
fn ordered_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    use serde::de::Error;
    let text = |v: serde_yaml::Value| match v {
        serde_yaml::Value::String(s) => Ok(s),
        serde_yaml::Value::Number(n) => Ok(n.to_string()),
        serde_yaml::Value::Bool(b) => Ok(b.to_string()),
        o => Err(D::Error::custom(format!("expected text or a number, found {}", crate::matcher::describe(&o)))),
    };
    match serde_yaml::Value::deserialize(d)? {
        serde_yaml::Value::Mapping(m) => m.into_iter().map(|(k, v)| Ok((text(k)?, text(v)?))).collect(),
        serde_yaml::Value::Null => Ok(Vec::new()),
        o => Err(D::Error::custom(format!("expected `name: value` pairs, found {}", crate::matcher::describe(&o)))),
    }
}

impl JsonSchema for Dur {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": ["string", "number"],
            "description": "A duration: 2s, 500ms, 1.5s, 1m (a bare number is seconds)"
        })
    }
}
