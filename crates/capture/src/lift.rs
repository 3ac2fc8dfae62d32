//! `bootcheck lift`: a capture's exchanges written as a scenario, so a field capture
//! becomes a regression test in one step.
//!
//! Every BOOTREQUEST (BOOTP, DHCP, BSDP) becomes a `bootp` step sending the same fields
//! and options, expecting what the capture shows came back: the reply's addresses, file
//! and options (or silence). TFTP reads become `tftp-read` steps expecting the same
//! octets (SHA-256 and size) or the same ERROR; RARP requests become `rarp` steps.
//! Values that later requests take from earlier replies are bound to variables: the
//! offered address (`requested-ip: $yiaddr-1`), the server identifier
//! (`server-id: $server-id-1`), the next server and boot file a TFTP read uses
//! (`server: $siaddr-1`, `file: $file-1`). Values equal to the site's (a known
//! client's MAC or address, the server's address) are written as `$site…` templates,
//! so the scenario reads like a hand-written one and survives a site renumbering.
//!
//! The output is YAML text; every scalar is written as a JSON literal (valid YAML),
//! so odd octets never break it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use bootcheck_scenario::engine::option_val;
use bootcheck_scenario::matcher::Val;
use bootcheck_scenario::site::Site;
use bootcheck_wire::arp;
use bootcheck_wire::bootp::Packet as Bootp;
use bootcheck_wire::frame::{Frame, LinkType, Net, ETHERTYPE_RARP};
use bootcheck_wire::options::{self as wopt, Item};
use bootcheck_wire::tftp;

use crate::reader::{Event, OpenError, Reader};

/// Steps written at most (a flood capture stays a readable scenario).
pub const MAX_STEPS: usize = 200;
const WINDOW: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
struct Pkt {
    number: u64,
    at: Duration,
    link: LinkType,
    bytes: Vec<u8>,
}

impl Pkt {
    fn frame(&self) -> Option<Frame<'_>> {
        Frame::parse(self.link, &self.bytes).ok()
    }
}

/// What lifting found.
#[derive(Debug, Clone, Default)]
pub struct Lifted {
    /// The scenario, as YAML.
    pub yaml: String,
    pub steps: usize,
    /// Per exchange step, in order: what the capture recorded (for `replay` diffs).
    pub recorded: Vec<Recorded>,
    /// The capture's addresses rewritten to the site's (empty without `rewrite`).
    pub rewrite: Rewrite,
    /// Exchanges left out (over [`MAX_STEPS`], or kinds a scenario cannot send).
    pub left_out: usize,
}

/// How to lift.
#[derive(Debug, Clone, Copy, Default)]
pub struct LiftOptions {
    /// Rewrite the capture's clients, server and relay to the site's: each client
    /// hardware address to a site client's (in order of appearance), the addresses the
    /// server gave it to that client's address, every server address to the site
    /// server's, giaddr to the site relay's.
    pub rewrite: bool,
    /// Keep the capture's pauses between exchanges (wait steps); otherwise the steps
    /// follow one another at once.
    pub original_timing: bool,
}

/// One exchange step and what the capture shows for it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// 0-based index of the step in the scenario.
    pub step: usize,
    pub name: String,
    /// The recorded request: link, frame.
    pub request: (LinkType, Vec<u8>),
    /// The recorded reply (or the first TFTP answer): packet number, link, frame.
    pub reply: Option<(u64, LinkType, Vec<u8>)>,
}

/// Address rewrites from a capture to the site.
#[derive(Debug, Clone, Default)]
pub struct Rewrite {
    pub ips: Vec<(Ipv4Addr, Ipv4Addr)>,
    pub macs: Vec<(Vec<u8>, [u8; 6])>,
}

impl Rewrite {
    pub fn ip(&self, a: Ipv4Addr) -> Ipv4Addr {
        self.ips.iter().find(|(f, _)| *f == a).map_or(a, |(_, t)| *t)
    }
    pub fn mac(&self, m: &[u8]) -> Option<[u8; 6]> {
        self.macs.iter().find(|(f, _)| f[..] == *m).map(|(_, t)| *t)
    }
    /// Apply to a decoded text (addresses as words).
    pub fn text(&self, t: &str) -> String {
        let mut out = t.to_string();
        for (f, to) in &self.ips {
            out = replace_word(&out, &f.to_string(), &to.to_string());
        }
        for (f, to) in &self.macs {
            out = replace_word(&out, &mac(f), &mac(to));
        }
        out
    }
}

fn replace_word(t: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(i) = rest.find(from) {
        let before = rest[..i].chars().next_back();
        let after = rest[i + from.len()..].chars().next();
        let before_ok = before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '.' || c == ':'));
        // A port may follow an address (`192.0.2.1:67`).
        let after_ok = after.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '.'));
        out.push_str(&rest[..i]);
        out.push_str(if before_ok && after_ok { to } else { from });
        rest = &rest[i + from.len()..];
    }
    out.push_str(rest);
    out
}

fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}

fn mac(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(":")
}

fn printable(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(|c| (0x20..0x7f).contains(c))
}

/// Text up to the first NUL, when printable.
fn cstr(field: &[u8]) -> Option<String> {
    let end = field.iter().position(|&c| c == 0).unwrap_or(field.len());
    let s = &field[..end];
    printable(s).then(|| String::from_utf8_lossy(s).into_owned())
}

/// Variables bound so far: value → name.
#[derive(Debug, Default)]
struct Vars {
    ips: Vec<(Ipv4Addr, String)>,
    texts: Vec<(String, String)>,
}

struct Ctx<'s> {
    site: Option<&'s Site>,
    rewrite: Rewrite,
    vars: Vars,
    client_mac: Option<Vec<u8>>,
    known_client: Option<String>,
}

impl Ctx<'_> {
    /// An address as a variable, a site template, or itself.
    fn ip(&self, a: Ipv4Addr) -> String {
        let a = self.rewrite.ip(a);
        if let Some((_, n)) = self.vars.ips.iter().rev().find(|(v, _)| *v == a) {
            return q(&format!("${n}"));
        }
        q(&self.site_ip(a).unwrap_or_else(|| a.to_string()))
    }
    /// An expected address: a site template or itself (expectations name what must
    /// come back, not what an earlier reply said).
    fn expect_ip(&self, a: Ipv4Addr) -> String {
        let a = self.rewrite.ip(a);
        q(&self.site_ip(a).unwrap_or_else(|| a.to_string()))
    }
    fn site_ip(&self, a: Ipv4Addr) -> Option<String> {
        let site = self.site?;
        if site.server.ip == a {
            return Some("$site.server.ip".into());
        }
        site.clients.iter().find(|(_, c)| c.ip == a).map(|(n, _)| format!("$site.clients.{n}.ip"))
    }
    fn text(&self, s: &str) -> String {
        match self.vars.texts.iter().rev().find(|(v, _)| v == s) {
            Some((_, n)) => q(&format!("${n}")),
            None => q(s),
        }
    }
}

/// Lift a capture file. `site`: the site the scenario will run against (for `$site`
/// templates and known clients); `id`: the scenario id.
pub fn lift_file(path: &Path, site: Option<&Site>, id: &str) -> Result<Lifted, OpenError> {
    lift_file_with(path, site, id, LiftOptions::default())
}

/// [`lift_file`] with options.
pub fn lift_file_with(path: &Path, site: Option<&Site>, id: &str, opts: LiftOptions) -> Result<Lifted, OpenError> {
    let mut reader = Reader::new(std::fs::File::open(path)?)?;
    let mut pkts = Vec::new();
    let mut epoch = None;
    while let Some(ev) = reader.next_event() {
        if let Event::Packet(r) = ev {
            if r.is_cut() {
                continue;
            }
            let e = *epoch.get_or_insert(r.time);
            pkts.push(Pkt { number: r.number, at: r.time.saturating_sub(e), link: r.link, bytes: r.data.to_vec() });
            if pkts.len() > 200_000 {
                break;
            }
        }
    }
    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    Ok(lift(&pkts, site, id, &name, opts))
}

fn lift(pkts: &[Pkt], site: Option<&Site>, id: &str, source: &str, opts: LiftOptions) -> Lifted {
    let rewrite = match site {
        Some(site) if opts.rewrite => rewrite_for(pkts, site),
        _ => Rewrite::default(),
    };
    let mut ctx = Ctx { site, rewrite, vars: Vars::default(), client_mac: None, known_client: None };
    let mut recorded: Vec<Recorded> = Vec::new();
    let mut last_at: Option<Duration> = None;
    let mut steps: Vec<String> = Vec::new();
    let mut left_out = 0;
    let mut used_replies = std::collections::HashSet::new();
    let mut n = 0usize;
    for (i, p) in pkts.iter().enumerate() {
        let Some(f) = p.frame() else { continue };
        let mut reply_at: Option<usize> = None;
        let step = if let Some(u) = f.udp() {
            if u.dst_port == 67 && u.payload.first() == Some(&1) {
                Bootp::new_checked(u.payload).ok().map(|b| {
                    let reply = find_reply(pkts, i, &b, &mut used_replies);
                    reply_at = reply;
                    n += 1;
                    bootp_step(&mut ctx, pkts, p, &b, u.src_port, reply, n)
                })
            } else if u.dst_port == tftp::SERVER_PORT && u.payload.get(..2) == Some(&[0, 1]) {
                let ip = f.ipv4().map(|i| (i.src, i.dst));
                ip.and_then(|(src, dst)| {
                    // A TFTP read needs a client with an address: the site client
                    // with the requester's address, else the first one.
                    if ctx.client_mac.is_none() {
                        if let Some(site) = ctx.site {
                            let ip = ctx.rewrite.ip(src);
                            let c =
                                site.clients.iter().find(|(_, c)| c.ip == ip).or_else(|| site.clients.iter().next());
                            if let Some((name, c)) = c {
                                ctx.known_client = Some(name.clone());
                                ctx.client_mac = Some(c.mac.0.to_vec());
                            }
                        }
                    }
                    n += 1;
                    tftp_step(&ctx, pkts, i, (src, u.src_port), dst, u.payload, n)
                })
            } else {
                None
            }
        } else if let (Net::Arp { body, .. }, ETHERTYPE_RARP) = (&f.net, f.ethertype) {
            arp::Packet::new_checked(*body)
                .ok()
                .filter(|a| a.operation() == arp::Operation::RarpRequest)
                .map(|a| rarp_step(&ctx, pkts, i, &a))
        } else {
            None
        };
        if let Some(s) = step {
            if steps.len() < MAX_STEPS {
                if opts.original_timing {
                    if let Some(gap) =
                        last_at.map(|t| p.at.saturating_sub(t)).filter(|g| *g >= Duration::from_millis(50))
                    {
                        steps.push(format!(
                            "  - name: {}\n    expect: {{ any: {}ms }}\n",
                            q(&format!("pause of {} ms before #{}", gap.as_millis(), p.number)),
                            gap.as_millis()
                        ));
                    }
                }
                last_at = Some(p.at);
                let name = s.lines().next().and_then(|l| l.strip_prefix("  - name: ")).unwrap_or("").to_string();
                let name = serde_json::from_str::<String>(&name).unwrap_or(name);
                let reply = reply_at
                    .or_else(|| first_answer(pkts, i))
                    .map(|j| (pkts[j].number, pkts[j].link, pkts[j].bytes.clone()));
                recorded.push(Recorded { step: steps.len(), name, request: (p.link, p.bytes.clone()), reply });
                steps.push(s);
            } else {
                left_out += 1;
            }
        }
    }
    let mut y = String::new();
    let _ = writeln!(y, "# Lifted by `bootcheck lift` from {source}: one step per exchange, expecting");
    let _ = writeln!(y, "# what the capture shows. Review the values, then keep it as a regression test.");
    let _ = writeln!(y, "id: {}", q(id));
    let _ = writeln!(y, "title: {}", q(&format!("The exchanges of {source} get the replies recorded there")));
    let _ = writeln!(y, "tags: [lifted]");
    match (&ctx.known_client, &ctx.client_mac) {
        (Some(k), _) => {
            let _ = writeln!(y, "client: {}", q(k));
        }
        (None, Some(m)) => {
            let _ = writeln!(y, "client: {{ mac: {} }}", q(&mac(m)));
        }
        (None, None) => {}
    }
    // Keep only the variables a later step uses.
    let all = steps.concat();
    let steps: Vec<String> = steps
        .into_iter()
        .map(|st| {
            let lines: Vec<&str> = st.lines().collect();
            let mut out = String::new();
            for (k, l) in lines.iter().enumerate() {
                if *l == "    capture:" {
                    let used = lines[k + 1..]
                        .iter()
                        .take_while(|c| c.starts_with("      "))
                        .any(|c| c.trim().split(':').next().is_some_and(|v| all.contains(&format!("\"${v}\""))));
                    if !used {
                        continue;
                    }
                }
                if l.starts_with("      ") && l.contains(": reply.") {
                    let v = l.trim().split(':').next().unwrap_or("");
                    if !all.contains(&format!("\"${v}\"")) {
                        continue;
                    }
                }
                out.push_str(l);
                out.push('\n');
            }
            out
        })
        .collect();
    if steps.is_empty() {
        let _ = writeln!(y, "steps:\n  # nothing in the capture a scenario can send\n  - expect: {{ no-reply: 1s }}");
    } else {
        let _ = writeln!(y, "steps:");
        for s in &steps {
            y.push_str(s);
        }
    }
    if left_out > 0 {
        let _ = writeln!(y, "# {left_out} more exchanges left out (at most {MAX_STEPS} steps)");
    }
    let count = recorded.len();
    Lifted { yaml: y, steps: count, recorded, rewrite: ctx.rewrite, left_out }
}

/// The first BOOTREPLY to `b` after packet `i` (same xid and chaddr, within the window,
/// before the same client asks again).
fn find_reply(pkts: &[Pkt], i: usize, b: &Bootp<&[u8]>, used: &mut std::collections::HashSet<usize>) -> Option<usize> {
    let hlen = usize::from(b.hlen()).min(16);
    let key = (b.xid(), b.chaddr_field().get(..hlen).map(<[u8]>::to_vec));
    let t0 = pkts[i].at;
    for (j, p) in pkts.iter().enumerate().skip(i + 1) {
        if p.at.saturating_sub(t0) > WINDOW {
            break;
        }
        let Some(f) = p.frame() else { continue };
        let Some(u) = f.udp() else { continue };
        let Ok(r) = Bootp::new_checked(u.payload) else { continue };
        if (r.xid(), r.chaddr_field().get(..hlen).map(<[u8]>::to_vec)) != key {
            continue;
        }
        if u.payload.first() == Some(&1) && u.dst_port == 67 {
            // The same request again (or the next DHCP message): this one got nothing.
            if r.giaddr().is_unspecified() == b.giaddr().is_unspecified() {
                return None;
            }
            continue;
        }
        if u.payload.first() == Some(&2) && u.src_port == 67 && used.insert(j) {
            return Some(j);
        }
    }
    None
}

fn option_name(code: u8) -> String {
    let name = wopt::name(code);
    if wopt::code_by_name(name) == Some(code) {
        name.to_string()
    } else {
        code.to_string()
    }
}

/// A request option's value as the scenario writes it: typed where the codebook
/// knows the type, `{ hex }` otherwise.
fn option_value(ctx: &Ctx<'_>, code: u8, data: &[u8]) -> String {
    use wopt::Value as V;
    match wopt::Value::decode(code, data) {
        Ok(V::Ip(a)) => ctx.ip(a),
        Ok(V::Ips(l)) if !l.is_empty() => {
            format!("[{}]", l.iter().map(|a| ctx.ip(a)).collect::<Vec<_>>().join(", "))
        }
        Ok(V::U8(v)) => v.to_string(),
        Ok(V::U16(v)) => v.to_string(),
        Ok(V::U32(v)) => v.to_string(),
        Ok(V::Codes(c)) if !c.is_empty() => {
            format!("[{}]", c.iter().map(u8::to_string).collect::<Vec<_>>().join(", "))
        }
        Ok(V::Str(s)) if printable(s) => q(&String::from_utf8_lossy(s)),
        _ => format!("{{ hex: {} }}", q(&hex(data))),
    }
}

fn bootp_step(
    ctx: &mut Ctx<'_>,
    pkts: &[Pkt],
    p: &Pkt,
    b: &Bootp<&[u8]>,
    src_port: u16,
    reply: Option<usize>,
    n: usize,
) -> String {
    let hlen = usize::from(b.hlen()).min(16);
    let chaddr = b.chaddr_field().get(..hlen).unwrap_or(&[]).to_vec();
    let chaddr = ctx.rewrite.mac(&chaddr).map_or(chaddr, |m| m.to_vec());
    if ctx.client_mac.is_none() {
        ctx.known_client =
            ctx.site.and_then(|s| s.clients.iter().find(|(_, c)| c.mac.0[..] == chaddr[..])).map(|(n, _)| n.clone());
        ctx.client_mac = Some(chaddr.clone());
    }
    let mut s = String::new();
    let what = match b.message_type() {
        Some(t) => t.name().to_string(),
        None => "BOOTREQUEST".into(),
    };
    let _ = writeln!(s, "  - name: {}", q(&format!("#{} {what}", p.number)));
    let _ = writeln!(s, "    send:");
    let _ = writeln!(s, "      bootp:");
    let relayed = !b.giaddr().is_unspecified() && src_port == 67;
    if relayed {
        let _ = writeln!(s, "        as: relay");
    }
    let t = b.message_type().map(|t| t.to_u8());
    if let Some(t @ 1..=8) = t {
        let names = ["discover", "offer", "request", "decline", "ack", "nak", "release", "inform"];
        let _ = writeln!(s, "        dhcp: {}", names[usize::from(t) - 1]);
    }
    let _ = writeln!(s, "        xid: {:#010x}", b.xid());
    if let Some(&op) = b.as_bytes().first().filter(|&&o| o != 1) {
        let _ = writeln!(s, "        op: {op}");
    }
    if b.htype() != 1 || b.hlen() != 6 {
        let _ = writeln!(s, "        htype: {}\n        hlen: {}", b.htype(), b.hlen());
    }
    if b.hops() != u8::from(relayed) {
        let _ = writeln!(s, "        hops: {}", b.hops());
    }
    if b.secs() != 0 {
        let _ = writeln!(s, "        secs: {}", b.secs());
    }
    match b.flags() {
        0 => {}
        0x8000 => {
            let _ = writeln!(s, "        flags: broadcast");
        }
        f => {
            let _ = writeln!(s, "        flags: {f}");
        }
    }
    for (name, a) in [("ciaddr", b.ciaddr()), ("yiaddr", b.yiaddr()), ("siaddr", b.siaddr())] {
        if !a.is_unspecified() {
            let _ = writeln!(s, "        {name}: {}", ctx.ip(a));
        }
    }
    if !b.giaddr().is_unspecified() {
        let _ = writeln!(s, "        giaddr: {}", ctx.ip(b.giaddr()));
    }
    let padded = b.chaddr_field().get(hlen..).is_some_and(|r| r.iter().all(|&c| c == 0));
    if (hlen != 6 || !padded) && ctx.rewrite.macs.is_empty() {
        let _ = writeln!(s, "        chaddr: {{ hex: {} }}", q(&hex(b.chaddr_field())));
    } else if Some(&chaddr) != ctx.client_mac.as_ref() {
        let _ = writeln!(s, "        chaddr: {}", q(&mac(&chaddr)));
    }
    let overloaded = b.overload().is_some();
    for (name, field) in [("sname", b.sname()), ("file", b.file())] {
        if field.iter().any(|&c| c != 0) {
            match cstr(field) {
                Some(t) if !overloaded && field.iter().skip(t.len()).all(|&c| c == 0) => {
                    let _ = writeln!(s, "        {name}: {}", ctx.text(&t));
                }
                _ => {
                    let _ = writeln!(s, "        {name}: {{ hex: {} }}", q(&hex(field)));
                }
            }
        }
    }
    let vend = b.vend();
    let has_cookie = vend.get(..4) == Some(&[99, 130, 83, 99][..]);
    let mut ended = false;
    let mut opts: Vec<(u8, &[u8])> = Vec::new();
    let mut clean = has_cookie && !overloaded;
    if has_cookie {
        let mut it = wopt::AreaIter::new(vend.get(4..).unwrap_or(&[]), 0, bootcheck_wire::Area::Options);
        for item in it.by_ref() {
            match item {
                Ok(Item::Option(o)) => opts.push((o.option.code, o.option.data)),
                Ok(Item::Pad { .. }) => {}
                Ok(Item::End { .. }) => {
                    ended = true;
                    break;
                }
                Err(_) => {
                    clean = false;
                    break;
                }
            }
        }
        // Anything after End but zeros is not reproduced by an option list.
        if ended && it.rest().iter().any(|&c| c != 0) {
            clean = false;
        }
    }
    if !clean && !vend.is_empty() {
        let _ = writeln!(s, "        vend: {{ raw: {{ hex: {} }} }}", q(&hex(vend)));
    } else if !has_cookie && vend.is_empty() {
        let _ = writeln!(s, "        vend: none");
    } else if clean {
        let shown: Vec<&(u8, &[u8])> = opts.iter().filter(|(c, _)| *c != 53 || t.is_none_or(|t| t > 8)).collect();
        if !shown.is_empty() {
            let _ = writeln!(s, "        options:");
            for (code, data) in shown {
                // A client identifier of hardware type 1 names the client's MAC: it
                // follows the rewrite of chaddr (servers key on it, RFC 2131 §4.2).
                let rewritten: Option<Vec<u8>> = (*code == 61 && data.len() == 7 && data[0] == 1)
                    .then(|| ctx.rewrite.mac(&data[1..]))
                    .flatten()
                    .map(|m| [&[1u8][..], &m[..]].concat());
                let value = match &rewritten {
                    Some(d) => format!("{{ hex: {} }}", q(&hex(d))),
                    None => option_value(ctx, *code, data),
                };
                let _ = writeln!(s, "          {}: {value}", option_name(*code));
            }
        }
        if !ended {
            let _ = writeln!(s, "        end: false");
        }
    }
    let len = p.frame().and_then(|f| f.udp().map(|u| u.payload.len())).unwrap_or(300);
    if len > 300 {
        let _ = writeln!(s, "        pad-to: {len}");
    } else if len < 300 {
        let _ = writeln!(s, "        truncate: {len}");
    }
    // The expectation: what came back.
    let Some(r) = reply else {
        let _ = writeln!(s, "    # no reply in the capture");
        let _ = writeln!(s, "    expect: {{ no-reply: 2s }}");
        return s;
    };
    s.push_str(&reply_expect(ctx, p, &pkts[r], n));
    s
}

/// The `expect: reply` of a BOOTP step, and the variables its later steps use.
fn reply_expect(ctx: &mut Ctx<'_>, q_pkt: &Pkt, r_pkt: &Pkt, n: usize) -> String {
    let mut s = String::new();
    let Some(f) = r_pkt.frame() else { return "    expect: { any: 2s }\n".into() };
    let Some(rb) = f.udp().and_then(|u| Bootp::new_checked(u.payload).ok()) else {
        return "    expect: { any: 2s }\n".into();
    };
    let delay = r_pkt.at.saturating_sub(q_pkt.at);
    let within = (delay.as_secs_f64() * 4.0).ceil().max(2.0) as u64;
    let _ = writeln!(s, "    # reply: packet #{} after {} ms", r_pkt.number, delay.as_millis());
    let _ = writeln!(s, "    expect:");
    let _ = writeln!(s, "      reply:");
    let _ = writeln!(s, "        within: {within}s");
    let _ = writeln!(s, "        xid: as-sent");
    for (name, a) in [("yiaddr", rb.yiaddr()), ("siaddr", rb.siaddr()), ("giaddr", rb.giaddr())] {
        let _ = writeln!(s, "        {name}: {}", ctx.expect_ip(a));
    }
    let overloaded = rb.overload().is_some();
    for (name, field) in [("sname", rb.sname()), ("file", rb.file())] {
        if overloaded {
            break;
        }
        match cstr(field) {
            Some(t) => {
                let _ = writeln!(s, "        {name}: {}", q(&t));
            }
            None if field.iter().all(|&c| c == 0) => {
                let _ = writeln!(s, "        {name}: \"\"");
            }
            None => {}
        }
    }
    // Options: the first instance of each, typed; times as `present` (a renewal's
    // lease time may differ from the recorded one).
    let mut codes: Vec<u8> = Vec::new();
    for o in rb.options() {
        if !codes.contains(&o.option.code) {
            codes.push(o.option.code);
        }
    }
    if !codes.is_empty() {
        let _ = writeln!(s, "        options:");
        for code in &codes {
            let v =
                if matches!(code, 51 | 58 | 59) { Some("present".to_string()) } else { reply_option(ctx, &rb, *code) };
            let v = v.unwrap_or_else(|| "present".into());
            let _ = writeln!(s, "          {}: {v}", option_name(*code));
        }
    }
    // Variables for later steps.
    let mut caps: Vec<(String, String)> = Vec::new();
    if !rb.yiaddr().is_unspecified() {
        let name = format!("yiaddr-{n}");
        ctx.vars.ips.push((rb.yiaddr(), name.clone()));
        caps.push((name, "reply.yiaddr".into()));
    }
    if !rb.siaddr().is_unspecified() {
        let name = format!("siaddr-{n}");
        ctx.vars.ips.push((rb.siaddr(), name.clone()));
        caps.push((name, "reply.siaddr".into()));
    }
    if let Some(wopt::Value::Ip(a)) = rb.find(54).and_then(|o| o.value().ok()) {
        let name = format!("server-id-{n}");
        ctx.vars.ips.push((a, name.clone()));
        caps.push((name, "reply.options.server-id".into()));
    }
    if let Some(t) = cstr(rb.file()).filter(|_| !overloaded) {
        let name = format!("file-{n}");
        ctx.vars.texts.push((t, name.clone()));
        caps.push((name, "reply.file".into()));
    }
    if !caps.is_empty() {
        let _ = writeln!(s, "    capture:");
        for (k, v) in caps {
            let _ = writeln!(s, "      {k}: {v}");
        }
    }
    s
}

fn val_yaml(ctx: &Ctx<'_>, v: &Val) -> Option<String> {
    Some(match v {
        Val::Int(n) => n.to_string(),
        Val::Named(n, name) => match name.strip_prefix("DHCP") {
            Some(short) if (1..=8).contains(n) => q(&short.to_ascii_lowercase()),
            _ => n.to_string(),
        },
        Val::Ip(a) => ctx.expect_ip(*a),
        Val::Bytes(b) if printable(b) => q(&String::from_utf8_lossy(b)),
        Val::Bool(b) => b.to_string(),
        Val::List(l) if !l.is_empty() && l.iter().all(|x| matches!(x, Val::Ip(_) | Val::Int(_))) => {
            format!("[{}]", l.iter().filter_map(|x| val_yaml(ctx, x)).collect::<Vec<_>>().join(", "))
        }
        _ => return None,
    })
}

fn reply_option(ctx: &Ctx<'_>, b: &Bootp<&[u8]>, code: u8) -> Option<String> {
    val_yaml(ctx, &option_val(b, code))
}

/// A TFTP read: the RRQ as sent, and the transfer the capture shows (the octets of
/// the DATA blocks in order, or an ERROR).
fn tftp_step(
    ctx: &Ctx<'_>,
    pkts: &[Pkt],
    i: usize,
    client: (Ipv4Addr, u16),
    server: Ipv4Addr,
    rrq: &[u8],
    n: usize,
) -> Option<String> {
    let Ok(tftp::Repr::Request { filename, mode, options, .. }) = tftp::Repr::parse_bytes(rrq) else { return None };
    let file = String::from_utf8_lossy(filename).into_owned();
    let mut s = String::new();
    let _ = writeln!(s, "  - name: {}", q(&format!("#{} TFTP read {file}", pkts[i].number)));
    let _ = writeln!(s, "    send:");
    let _ = writeln!(s, "      tftp-read:");
    let _ = writeln!(s, "        server: {}", ctx.ip(server));
    let _ = writeln!(s, "        file: {}", ctx.text(&file));
    let mode = String::from_utf8_lossy(mode).to_ascii_lowercase();
    if mode != "octet" {
        let _ = writeln!(s, "        mode: {}", q(&mode));
    }
    let opts: Vec<(String, String)> = options
        .iter()
        .map(|o| (String::from_utf8_lossy(o.name).into_owned(), String::from_utf8_lossy(o.value).into_owned()))
        .collect();
    if !opts.is_empty() {
        let _ = writeln!(s, "        options:");
        for (k, v) in &opts {
            let _ = writeln!(s, "          {}: {}", q(k), q(v));
        }
    }
    // The transfer in the capture: frames to the client's endpoint from the server.
    let mut blocks: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut error: Option<u16> = None;
    let mut oack: Vec<(String, String)> = Vec::new();
    let mut last_block = 0u64;
    let mut high = 0u16;
    let mut wraps = 0u64;
    let mut done = false;
    let mut blksize = 512usize;
    let t0 = pkts[i].at;
    let mut last_at = t0;
    for p in &pkts[i + 1..] {
        if p.at.saturating_sub(last_at) > WINDOW {
            break;
        }
        let Some(f) = p.frame() else { continue };
        let (Some(ip), Some(u)) = (f.ipv4(), f.udp()) else { continue };
        if (ip.dst, u.dst_port) != client || ip.src != server {
            // The same client asking again from the same port starts another read.
            if (ip.src, u.src_port) == client && u.dst_port == tftp::SERVER_PORT {
                break;
            }
            continue;
        }
        last_at = p.at;
        match tftp::Repr::parse_bytes(u.payload) {
            Ok(tftp::Repr::Data { block, data }) => {
                if block < high && high > 0xff00 && block < 0x0100 {
                    wraps += 1;
                }
                high = if wraps > 0 && block < 0x0100 && high > 0xff00 { block } else { high.max(block) };
                let idx = (wraps << 16) | u64::from(block);
                blocks.entry(idx).or_insert_with(|| data.to_vec());
                last_block = last_block.max(idx);
                if data.len() < blksize {
                    done = true;
                }
            }
            Ok(tftp::Repr::Error { code, .. }) => {
                error = Some(u16::from(code));
                break;
            }
            Ok(tftp::Repr::Oack { options }) => {
                for o in options.iter() {
                    let (k, v) =
                        (String::from_utf8_lossy(o.name).into_owned(), String::from_utf8_lossy(o.value).into_owned());
                    if k.eq_ignore_ascii_case("blksize") {
                        blksize = v.parse().unwrap_or(512);
                    }
                    oack.push((k, v));
                }
            }
            _ => {}
        }
        if done {
            break;
        }
    }
    let _ = n;
    let _ = writeln!(s, "    expect:");
    let _ = writeln!(s, "      transfer:");
    let within = (last_at.saturating_sub(t0).as_secs_f64() * 4.0).ceil().max(10.0) as u64;
    let _ = writeln!(s, "        within: {within}s");
    if let Some(code) = error {
        let _ = writeln!(s, "        error: {code}");
    } else if done {
        let data: Vec<u8> = blocks.values().flatten().copied().collect();
        let _ = writeln!(s, "        size: {}", data.len());
        let _ = writeln!(s, "        sha256: {}", q(&bootcheck_scenario::site::sha256_hex(&data)));
    } else {
        let _ = writeln!(s, "        # the capture does not show the transfer's end");
    }
    if !oack.is_empty() {
        // Every option the OACK acknowledged, as acknowledged.
        let items: Vec<String> = oack.iter().map(|(k, v)| format!("{}: {}", q(k), q(v))).collect();
        let _ = writeln!(s, "        oack: {{ {} }}", items.join(", "));
    }
    Some(s)
}

/// A RARP request and the reply the capture shows for it.
fn rarp_step(ctx: &Ctx<'_>, pkts: &[Pkt], i: usize, a: &arp::Packet<&[u8]>) -> String {
    let mut s = String::new();
    let target = a.tha().to_vec();
    let _ = writeln!(s, "  - name: {}", q(&format!("#{} RARP who-is {}", pkts[i].number, mac(&target))));
    let _ = writeln!(s, "    send:");
    let _ = writeln!(s, "      rarp:");
    let _ = writeln!(s, "        target: {}", q(&mac(&target)));
    if a.hardware_len() != 6 {
        let _ = writeln!(s, "        hlen: {}", a.hardware_len());
    }
    let t0 = pkts[i].at;
    let reply = pkts[i + 1..].iter().take_while(|p| p.at.saturating_sub(t0) <= WINDOW).find_map(|p| {
        let f = p.frame()?;
        let Net::Arp { body, .. } = f.net else { return None };
        let r = arp::Packet::new_checked(body).ok()?;
        (r.operation() == arp::Operation::RarpReply && r.tha() == &target[..]).then(|| r.target_ipv4())
    });
    match reply {
        Some(ip) => {
            let _ = writeln!(s, "    expect:");
            let _ = writeln!(s, "      reply:");
            let _ = writeln!(s, "        rarp:");
            let _ = writeln!(s, "          op: 4");
            if let Some(ip) = ip {
                let _ = writeln!(s, "          tpa: {}", ctx.ip(ip));
            }
        }
        None => {
            let _ = writeln!(s, "    # no reply in the capture");
            let _ = writeln!(s, "    expect: {{ no-reply: 2s }}");
        }
    }
    s
}

/// The first frame after packet `i` that answers it: the TFTP server's first packet to
/// the client's port, a RARP reply, a BOOTREPLY (when `find_reply` found none).
fn first_answer(pkts: &[Pkt], i: usize) -> Option<usize> {
    let f = pkts[i].frame()?;
    if let (Net::Arp { body, .. }, ETHERTYPE_RARP) = (&f.net, f.ethertype) {
        let target = arp::Packet::new_checked(*body).ok()?.tha().to_vec();
        let t0 = pkts[i].at;
        return pkts.iter().enumerate().skip(i + 1).take_while(|(_, p)| p.at.saturating_sub(t0) <= WINDOW).find_map(
            |(j, p)| {
                let f = p.frame()?;
                let Net::Arp { body, .. } = f.net else { return None };
                let r = arp::Packet::new_checked(body).ok()?;
                (r.operation() == arp::Operation::RarpReply && r.tha() == &target[..]).then_some(j)
            },
        );
    }
    let (ip, u) = (f.ipv4()?, f.udp()?);
    let (client, t0) = ((ip.src, u.src_port), pkts[i].at);
    pkts.iter().enumerate().skip(i + 1).take_while(|(_, p)| p.at.saturating_sub(t0) <= WINDOW).find_map(|(j, p)| {
        let f = p.frame()?;
        let (ip, u) = (f.ipv4()?, f.udp()?);
        ((ip.dst, u.dst_port) == client).then_some(j)
    })
}

/// The site's clients, server and relay for the capture's.
fn rewrite_for(pkts: &[Pkt], site: &Site) -> Rewrite {
    let mut rw = Rewrite::default();
    let clients: Vec<&bootcheck_scenario::site::Client> = site.clients.values().collect();
    let map_ip = |rw: &mut Rewrite, from: Ipv4Addr, to: Ipv4Addr| {
        if !from.is_unspecified() && from != to && !rw.ips.iter().any(|(f, _)| *f == from) {
            rw.ips.push((from, to));
        }
    };
    for p in pkts {
        let Some(f) = p.frame() else { continue };
        let Some(u) = f.udp() else { continue };
        let Ok(b) = Bootp::new_checked(u.payload) else { continue };
        let hlen = usize::from(b.hlen()).min(16);
        let ch = b.chaddr_field().get(..hlen).unwrap_or(&[]).to_vec();
        if hlen == 6 && rw.mac(&ch).is_none() && !clients.iter().any(|c| c.mac.0[..] == ch[..]) {
            if let Some(c) = clients.get(rw.macs.len()) {
                rw.macs.push((ch.clone(), c.mac.0));
            }
        }
        let client = clients.iter().find(|c| Some(c.mac.0) == rw.mac(&ch) || c.mac.0[..] == ch[..]);
        if !b.giaddr().is_unspecified() {
            map_ip(&mut rw, b.giaddr(), site.relay.ip);
        }
        if u.payload.first() == Some(&2) {
            if let Some(m) = f.src_mac() {
                if src_is_server(&f, &b) && m != site.server.mac.0 && rw.mac(&m).is_none() {
                    rw.macs.push((m.to_vec(), site.server.mac.0));
                }
            }
            if let Some(src) = f.ipv4().map(|i| i.src) {
                if src != b.giaddr() {
                    map_ip(&mut rw, src, site.server.ip);
                }
            }
            map_ip(&mut rw, b.siaddr(), site.server.ip);
            if let Some(wopt::Value::Ip(a)) = b.find(54).and_then(|o| o.value().ok()) {
                map_ip(&mut rw, a, site.server.ip);
            }
            if let Some(c) = client {
                map_ip(&mut rw, b.yiaddr(), c.ip);
            }
        }
    }
    rw
}

/// Whether a BOOTREPLY comes from the server itself (not a relay agent delivering it).
fn src_is_server(f: &Frame<'_>, b: &Bootp<&[u8]>) -> bool {
    f.ipv4().is_some_and(|i| b.giaddr().is_unspecified() || i.src != b.giaddr())
}
