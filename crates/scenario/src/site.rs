//! The site: one file that describes the network every target serves — server,
//! router, DNS, known clients, dynamic pool, relay, TFTP files. Each target's config is
//! rendered from it, so one scenario runs against every server.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A 48-bit Ethernet address, written `02:00:00:00:be:01`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    pub const BROADCAST: Mac = Mac([0xff; 6]);
    /// Whether every RFC 5737-lab rule holds: locally administered, unicast.
    pub fn is_local_unicast(&self) -> bool {
        self.0[0] & 0x02 != 0 && self.0[0] & 0x01 == 0
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for Mac {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split([':', '-']).collect();
        if parts.len() != 6 {
            return Err(format!("`{s}` is not a MAC address: expected six hex octets like 02:00:00:00:be:01"));
        }
        let mut out = [0u8; 6];
        for (o, p) in out.iter_mut().zip(parts) {
            *o = u8::from_str_radix(p, 16)
                .map_err(|_| format!("`{s}` is not a MAC address: `{p}` is not a hex octet"))?;
        }
        Ok(Mac(out))
    }
}

impl Serialize for Mac {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Mac {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Mac {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Mac".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$",
            "description": "Ethernet address, e.g. 02:00:00:00:be:01"
        })
    }
}

/// The server every target runs as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServerSite {
    /// The server's address on the client subnet.
    pub ip: Ipv4Addr,
    /// The server interface's Ethernet address.
    pub mac: Mac,
    /// Host name the server answers to (RFC 951 `sname`).
    pub name: String,
}

/// A relay agent network (RFC 951 §8, RFC 1542 §4): the harness or a real relay sits
/// at `ip` on `subnet`, and the server routes that subnet back to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RelaySite {
    /// giaddr: the relay's address on the client-side subnet.
    pub ip: Ipv4Addr,
    /// The client-side subnet behind the relay (clients with addresses in it are
    /// served through the relay).
    #[schemars(with = "String")]
    pub subnet: Ipv4Net,
    /// The relay's address on the server's subnet (where it forwards from).
    pub uplink: Ipv4Addr,
}

/// A dynamic address pool (RFC 1534 automatic allocation for BOOTP clients).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Pool {
    pub start: Ipv4Addr,
    pub end: Ipv4Addr,
}

/// A known client (RFC 951 §7.3 host table entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Client {
    pub mac: Mac,
    /// The fixed address the server gives this client.
    pub ip: Ipv4Addr,
    pub hostname: String,
    /// Boot file, relative to the boot home (`boot.home`); the reply's `file` is the
    /// full path.
    pub bootfile: String,
}

/// Boot file naming (RFC 951 §7.3: a generic name resolved to a full path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Boot {
    /// The directory boot files live in, as the client sees it in the `file` field.
    pub home: String,
    /// The boot file for clients that ask with an empty `file` and have none of their
    /// own.
    pub default: String,
}

/// A file the TFTP server serves. Content is generated from the name and size, the same
/// for every target, so a transfer's checksum can be checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TftpFile {
    pub size: u64,
    /// `binary` (pseudo-random octets) or `text` (lines of ASCII with CR and LF in them,
    /// for netascii tests).
    #[serde(default)]
    pub content: Content,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Content {
    #[default]
    Binary,
    Text,
}

/// The kind of a NetBoot image (the 7-bit kind field of a BSDP boot image ID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ImageKind {
    /// 0: Mac OS 9.
    MacOs9,
    /// 1: Mac OS X.
    MacOsX,
    /// 2: Mac OS X Server.
    MacOsXServer,
    /// 3: Hardware Diagnostics.
    HardwareDiagnostics,
}

impl ImageKind {
    /// The kind field's value.
    pub fn bits(self) -> u8 {
        match self {
            ImageKind::MacOs9 => 0,
            ImageKind::MacOsX => 1,
            ImageKind::MacOsXServer => 2,
            ImageKind::HardwareDiagnostics => 3,
        }
    }
}

/// One Apple NetBoot image a BSDP server offers (BSDP §4, §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NetBootImage {
    /// The index (low 16 bits of the boot image ID): 1–4095 server-specific,
    /// 4096–65535 globally unique; 0 is the null image and not allowed.
    pub index: u16,
    pub kind: ImageKind,
    /// An install image (the ID's top bit).
    #[serde(default)]
    pub install: bool,
    /// The name shown in the client's menu (printable ASCII without `"` or `\`, so
    /// that every server's config can quote it).
    pub name: String,
    /// The booter, relative to the boot home: a site file (`files`).
    pub bootfile: String,
    /// The image's URL, sent as the root path (option 17) in `ACK[SELECT]`.
    pub root_path: String,
}

impl NetBootImage {
    /// The 32-bit boot image ID: install bit, kind, reserved octet 0, index.
    pub fn id(&self) -> u32 {
        (u32::from(self.install) << 31) | (u32::from(self.kind.bits()) << 24) | u32::from(self.index)
    }
}

/// The Apple NetBoot (BSDP) service of the site: what `INFORM[LIST]` lists and
/// `INFORM[SELECT]` can select. No images: the site has no BSDP service.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NetBoot {
    /// Server priority (BSDP sub-option 4): 0 (lowest) to 65535.
    #[serde(default)]
    pub priority: u16,
    /// The default image (a key of `images`), sent as the default boot image ID.
    #[serde(default)]
    pub default: Option<String>,
    /// Images by key; the image list is sent in key order.
    #[serde(default)]
    pub images: BTreeMap<String, NetBootImage>,
}

impl NetBoot {
    /// The default image: `default`, else the first.
    pub fn default_image(&self) -> Option<(&str, &NetBootImage)> {
        match &self.default {
            Some(d) => self.images.get_key_value(d).map(|(k, v)| (k.as_str(), v)),
            None => self.images.iter().next().map(|(k, v)| (k.as_str(), v)),
        }
    }
    /// The image with this 32-bit ID.
    pub fn image_by_id(&self, id: u32) -> Option<(&str, &NetBootImage)> {
        self.images.iter().find(|(_, i)| i.id() == id).map(|(k, v)| (k.as_str(), v))
    }
}

/// The site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Site {
    /// The client subnet (RFC 5737 documentation space only).
    #[schemars(with = "String")]
    pub subnet: Ipv4Net,
    pub server: ServerSite,
    pub router: Ipv4Addr,
    pub dns: Vec<Ipv4Addr>,
    pub domain: String,
    pub relay: RelaySite,
    pub pool: Pool,
    pub boot: Boot,
    /// TFTP files by path relative to the boot home.
    pub files: BTreeMap<String, TftpFile>,
    pub clients: BTreeMap<String, Client>,
    /// Apple NetBoot images (BSDP); absent: no BSDP service.
    #[serde(default, skip_serializing_if = "NetBoot::is_empty")]
    pub netboot: NetBoot,
}

impl NetBoot {
    /// No images and nothing set.
    pub fn is_empty(&self) -> bool {
        *self == NetBoot::default()
    }
}

/// RFC 5737 documentation networks: the only addresses a lab may use.
pub const DOCUMENTATION_NETS: [&str; 3] = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"];

/// Whether `ip` is in an RFC 5737 documentation network.
pub fn is_documentation(ip: Ipv4Addr) -> bool {
    matches!(ip.octets(), [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _])
}

impl Site {
    pub fn netmask(&self) -> Ipv4Addr {
        self.subnet.netmask()
    }
    pub fn broadcast(&self) -> Ipv4Addr {
        self.subnet.broadcast()
    }
    pub fn client(&self, name: &str) -> Option<&Client> {
        self.clients.get(name)
    }
    /// The known client with this hardware address, and its name.
    pub fn client_by_mac(&self, mac: &[u8]) -> Option<(&str, &Client)> {
        self.clients.iter().find(|(_, c)| c.mac.0[..] == *mac).map(|(n, c)| (n.as_str(), c))
    }
    /// The full path of a boot file relative to the boot home.
    pub fn full_path(&self, file: &str) -> String {
        if file.starts_with('/') {
            file.to_string()
        } else {
            format!("{}/{}", self.boot.home.trim_end_matches('/'), file)
        }
    }
    /// The site file a TFTP path names: relative to the boot home, or a full path under
    /// it.
    pub fn file_for_path(&self, path: &str) -> Option<(&str, &TftpFile)> {
        let home = self.boot.home.trim_end_matches('/');
        let rel = path.strip_prefix(home).and_then(|r| r.strip_prefix('/')).unwrap_or(path);
        self.files.get_key_value(rel).map(|(k, v)| (k.as_str(), v))
    }
    /// Octets of a site file (deterministic from name and size).
    pub fn file_content(&self, name: &str) -> Option<Vec<u8>> {
        self.files.get(name).map(|f| generate_content(name, f))
    }

    /// The SHA-256 (hex) of a site file's content, computed once per name and spec in
    /// this process: every scenario's variable scope carries each file's hash, and
    /// generating and hashing the files (600 KB) for each of 120 scenarios cost seconds.
    pub fn file_sha256(&self, name: &str) -> Option<String> {
        use std::collections::HashMap;
        use std::sync::{Mutex, OnceLock, PoisonError};
        static CACHE: OnceLock<Mutex<HashMap<(String, TftpFile), String>>> = OnceLock::new();
        let f = self.files.get(name)?;
        let key = (name.to_string(), f.clone());
        let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
        if let Some(h) = cache.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return Some(h.clone());
        }
        let h = sha256_hex(&generate_content(name, f));
        cache.lock().unwrap_or_else(PoisonError::into_inner).insert(key, h.clone());
        Some(h)
    }

    /// Checks that make a site safe and coherent: RFC 5737 addresses only, clients and
    /// pool inside the subnet, unique MACs and addresses. Returns (field path, message).
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut doc = |path: &str, ip: Ipv4Addr| {
            if !is_documentation(ip) {
                out.push((
                    path.to_string(),
                    format!("{ip} is not an RFC 5737 documentation address (use 192.0.2.0/24, 198.51.100.0/24 or 203.0.113.0/24)"),
                ));
            }
        };
        doc("subnet", self.subnet.network());
        doc("server.ip", self.server.ip);
        doc("router", self.router);
        for (i, d) in self.dns.iter().enumerate() {
            doc(&format!("dns[{i}]"), *d);
        }
        doc("relay.ip", self.relay.ip);
        doc("relay.uplink", self.relay.uplink);
        doc("relay.subnet", self.relay.subnet.network());
        doc("pool.start", self.pool.start);
        doc("pool.end", self.pool.end);
        for (n, c) in &self.clients {
            doc(&format!("clients.{n}.ip"), c.ip);
        }
        let inside = |ip: Ipv4Addr| self.subnet.contains(&ip);
        if !inside(self.server.ip) {
            out.push(("server.ip".into(), format!("{} is outside subnet {}", self.server.ip, self.subnet)));
        }
        if !inside(self.pool.start) || !inside(self.pool.end) || self.pool.start > self.pool.end {
            out.push(("pool".into(), format!("pool must be an ascending range inside {}", self.subnet)));
        }
        if !self.relay.subnet.contains(&self.relay.ip) {
            out.push(("relay.ip".into(), format!("{} is outside relay.subnet {}", self.relay.ip, self.relay.subnet)));
        }
        if !inside(self.relay.uplink) {
            out.push(("relay.uplink".into(), format!("{} is outside subnet {}", self.relay.uplink, self.subnet)));
        }
        let mut macs = std::collections::BTreeSet::new();
        for (n, c) in &self.clients {
            if !inside(c.ip) && !self.relay.subnet.contains(&c.ip) {
                out.push((
                    format!("clients.{n}.ip"),
                    format!("{} is outside subnet {} and relay.subnet {}", c.ip, self.subnet, self.relay.subnet),
                ));
            }
            if !c.mac.is_local_unicast() {
                out.push((format!("clients.{n}.mac"), format!("{} must be a locally administered unicast MAC", c.mac)));
            }
            if !macs.insert(c.mac) {
                out.push((format!("clients.{n}.mac"), format!("{} is used by two clients", c.mac)));
            }
            if !self.files.contains_key(&c.bootfile) {
                out.push((format!("clients.{n}.bootfile"), format!("`{}` is not in `files`", c.bootfile)));
            }
        }
        if !self.server.mac.is_local_unicast() {
            out.push(("server.mac".into(), "must be a locally administered unicast MAC".into()));
        }
        self.validate_netboot(&mut out);
        out
    }

    /// NetBoot images: a real index, unique IDs, quotable names, booters that are site
    /// files, an image list that fits one BSDP sub-option (so every server's config
    /// can send it as one), a default that exists.
    fn validate_netboot(&self, out: &mut Vec<(String, String)>) {
        let nb = &self.netboot;
        let mut ids = std::collections::BTreeMap::new();
        let mut list_len = 0usize;
        for (k, img) in &nb.images {
            let at = |f: &str| format!("netboot.images.{k}.{f}");
            if img.index == 0 {
                out.push((at("index"), "index 0 is the null image, which a server never sends".into()));
            }
            if let Some(other) = ids.insert(img.id(), k) {
                out.push((at("index"), format!("boot image ID {:#010x} is also image `{other}`'s", img.id())));
            }
            let quotable = img.name.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
            if img.name.is_empty() || img.name.len() > 64 || !quotable {
                out.push((at("name"), "1 to 64 printable ASCII characters without `\"` or `\\`".into()));
            }
            if !self.files.contains_key(&img.bootfile) {
                out.push((at("bootfile"), format!("`{}` is not in `files`", img.bootfile)));
            }
            let rp_ok = img.root_path.bytes().all(|b| (0x21..0x7f).contains(&b) && b != b'"' && b != b'\\');
            if img.root_path.is_empty() || !rp_ok {
                out.push((at("root-path"), "a URL of printable ASCII without spaces, `\"` or `\\`".into()));
            }
            list_len += 5 + img.name.len();
        }
        if list_len > 253 {
            out.push((
                "netboot.images".into(),
                format!("the image list takes {list_len} octets; at most 253 fit one BSDP sub-option"),
            ));
        }
        if let Some(d) = &nb.default {
            if !nb.images.contains_key(d) {
                out.push(("netboot.default".into(), format!("`{d}` is not one of `netboot.images`")));
            }
        }
    }
}

/// Deterministic file content: xorshift octets seeded from the name (binary), or ASCII
/// lines with bare CR, bare LF and CRLF in them (text, for netascii).
pub fn generate_content(name: &str, f: &TftpFile) -> Vec<u8> {
    let mut seed: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        seed = (seed ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let n = usize::try_from(f.size).unwrap_or(usize::MAX);
    let mut out = Vec::with_capacity(n.min(1 << 26));
    match f.content {
        Content::Binary => {
            let mut x = seed | 1;
            while out.len() < n {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                for b in x.to_le_bytes() {
                    if out.len() < n {
                        out.push(b);
                    }
                }
            }
        }
        Content::Text => {
            let mut line = 0u64;
            while out.len() < n {
                let l = format!("line {line} of {name}");
                out.extend_from_slice(l.as_bytes());
                out.extend_from_slice(match line % 3 {
                    0 => b"\n",
                    1 => b"\r\n",
                    _ => b"\r",
                });
                line += 1;
            }
            out.truncate(n);
        }
    }
    out
}

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}
