//! Matchers: what an expectation says about one observed value.
//!
//! YAML forms (the observed field's kind decides how text is read: an address, a
//! number, a MAC, octets):
//! * a scalar or a list: equals (`yiaddr: $site.clients.ws1.ip`, `router: [192.0.2.254]`)
//! * `present`, `absent`, `as-sent`, `any`
//! * `{ one-of: [...] }`, `{ in: 192.0.2.0/24 }`, `{ regex: "^ws" }`,
//!   `{ len: 1..64 }`, `{ range: 300.. }`, `{ starts-with: .. }`, `{ ends-with: .. }`,
//!   `{ contains: .. }`, `{ not: matcher }`, `{ all: [matchers] }`,
//!   `{ any-of: [matchers] }` (at least one holds: `{ any-of: [absent, 196] }`)
//! * for numbers, text `300..`, `..=16`, `1..3`, `>= 300`, `< 16` is a range.

use std::fmt;
use std::net::Ipv4Addr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use serde_json::Value as Json;

use crate::template::{json_text, Scope, Template};

/// An observed value, typed by the field it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    Int(u64),
    /// A number with a name (message types, op…): matches either.
    Named(u64, &'static str),
    Ip(Ipv4Addr),
    /// A hardware address (shown as colon hex).
    Mac(Vec<u8>),
    /// Octets; shown as text when printable.
    Bytes(Vec<u8>),
    List(Vec<Val>),
    Bool(bool),
    /// The field or option is not there.
    Absent,
}

impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::Int(n) => write!(f, "{n}"),
            Val::Named(n, s) => write!(f, "{n} ({s})"),
            Val::Ip(a) => write!(f, "{a}"),
            Val::Mac(m) => {
                let s: Vec<String> = m.iter().map(|b| format!("{b:02x}")).collect();
                f.write_str(&s.join(":"))
            }
            Val::Bytes(b) => {
                if b.iter().all(|c| (0x20..0x7f).contains(c)) {
                    write!(f, "{:?}", String::from_utf8_lossy(b))
                } else {
                    let s: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
                    write!(f, "0x[{}]", s.join(" "))
                }
            }
            Val::List(l) => {
                f.write_str("[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Val::Bool(b) => write!(f, "{b}"),
            Val::Absent => f.write_str("absent"),
        }
    }
}

/// A numeric range, inclusive bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

impl Range {
    pub fn contains(&self, v: u64) -> bool {
        self.min.is_none_or(|m| v >= m) && self.max.is_none_or(|m| v <= m)
    }
    /// `300..`, `..=16`, `..16`, `1..3` (inclusive, as people read it), `>= 300`, `> 1`,
    /// `<= 16`, `< 16`, or a bare number.
    pub fn parse(s: &str) -> Option<Range> {
        let s = s.trim();
        let num = |t: &str| parse_u64(t.trim());
        if let Some(r) = s.strip_prefix(">=") {
            return Some(Range { min: Some(num(r)?), max: None });
        }
        if let Some(r) = s.strip_prefix('>') {
            return Some(Range { min: Some(num(r)?.checked_add(1)?), max: None });
        }
        if let Some(r) = s.strip_prefix("<=") {
            return Some(Range { min: None, max: Some(num(r)?) });
        }
        if let Some(r) = s.strip_prefix('<') {
            return Some(Range { min: None, max: Some(num(r)?.checked_sub(1)?) });
        }
        if let Some((a, b)) = s.split_once("..") {
            let min = if a.trim().is_empty() { None } else { Some(num(a)?) };
            let b = b.trim_start_matches('=');
            let max = if b.trim().is_empty() { None } else { Some(num(b)?) };
            return Some(Range { min, max });
        }
        num(s).map(|n| Range { min: Some(n), max: Some(n) })
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.min, self.max) {
            (Some(a), Some(b)) if a == b => write!(f, "{a}"),
            (Some(a), Some(b)) => write!(f, "{a}..={b}"),
            (Some(a), None) => write!(f, ">= {a}"),
            (None, Some(b)) => write!(f, "<= {b}"),
            (None, None) => f.write_str("any"),
        }
    }
}

/// Decimal or `0x` hex.
pub fn parse_u64(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// A check on one value.
#[derive(Debug, Clone)]
pub enum Matcher {
    Equals(serde_yaml::Value),
    AsSent,
    Present,
    Absent,
    Any,
    OneOf(Vec<serde_yaml::Value>),
    Cidr(Template),
    Regex(regex::Regex),
    Len(Range),
    Range(Range),
    StartsWith(Template),
    EndsWith(Template),
    Contains(Template),
    Not(Box<Matcher>),
    All(Vec<Matcher>),
    /// At least one of these holds.
    AnyOf(Vec<Matcher>),
}

/// A short description of a YAML value for error messages.
pub fn describe(v: &serde_yaml::Value) -> String {
    match v {
        serde_yaml::Value::Null => "nothing (null)".into(),
        serde_yaml::Value::Bool(b) => format!("`{b}`"),
        serde_yaml::Value::Number(n) => format!("`{n}`"),
        serde_yaml::Value::String(s) => format!("`{s}`"),
        serde_yaml::Value::Sequence(_) => "a list".into(),
        serde_yaml::Value::Mapping(_) => "a mapping".into(),
        serde_yaml::Value::Tagged(t) => format!("a value tagged {}", t.tag),
    }
}

const MATCHER_KEYS: &str = "equals, one-of, in, regex, len, range, starts-with, ends-with, contains, not, all, any-of";

impl Matcher {
    /// Interpret a YAML value as a matcher.
    pub fn from_yaml(v: serde_yaml::Value) -> Result<Matcher, String> {
        use serde_yaml::Value as Y;
        match v {
            Y::String(s) => Ok(match s.as_str() {
                "present" => Matcher::Present,
                "absent" => Matcher::Absent,
                "as-sent" => Matcher::AsSent,
                "any" => Matcher::Any,
                _ => Matcher::Equals(Y::String(s)),
            }),
            Y::Mapping(m) if m.len() == 1 => {
                let Some((k, v)) = m.into_iter().next() else { return Err("empty mapping".into()) };
                let Y::String(k) = k else { return Err(format!("matcher keys are text: {MATCHER_KEYS}")) };
                let text = |v: Y| -> Result<Template, String> {
                    match v {
                        Y::String(s) => Ok(Template::new(s)),
                        Y::Number(n) => Ok(Template::new(n.to_string())),
                        o => Err(format!("`{k}` expects text, found {}", describe(&o))),
                    }
                };
                let range = |v: &Y| -> Result<Range, String> {
                    match v {
                        Y::Number(n) => n.as_u64().map(|n| Range { min: Some(n), max: Some(n) }),
                        Y::String(s) => Range::parse(s),
                        _ => None,
                    }
                    .ok_or_else(|| format!("`{k}` expects a range like `1..64`, `>= 300` or a number"))
                };
                match k.as_str() {
                    "equals" => Ok(Matcher::Equals(v)),
                    "one-of" => match v {
                        Y::Sequence(items) => Ok(Matcher::OneOf(items)),
                        o => Err(format!("`one-of` expects a list, found {}", describe(&o))),
                    },
                    "in" => Ok(Matcher::Cidr(text(v)?)),
                    "regex" => {
                        let t = text(v)?;
                        regex::Regex::new(t.as_str()).map(Matcher::Regex).map_err(|e| format!("bad regex: {e}"))
                    }
                    "len" => Ok(Matcher::Len(range(&v)?)),
                    "range" => Ok(Matcher::Range(range(&v)?)),
                    "starts-with" => Ok(Matcher::StartsWith(text(v)?)),
                    "ends-with" => Ok(Matcher::EndsWith(text(v)?)),
                    "contains" => Ok(Matcher::Contains(text(v)?)),
                    "not" => Ok(Matcher::Not(Box::new(Matcher::from_yaml(v)?))),
                    "all" => match v {
                        Y::Sequence(items) => {
                            Ok(Matcher::All(items.into_iter().map(Matcher::from_yaml).collect::<Result<_, _>>()?))
                        }
                        o => Err(format!("`all` expects a list of matchers, found {}", describe(&o))),
                    },
                    "any-of" => match v {
                        Y::Sequence(items) if !items.is_empty() => {
                            Ok(Matcher::AnyOf(items.into_iter().map(Matcher::from_yaml).collect::<Result<_, _>>()?))
                        }
                        o => Err(format!("`any-of` expects a non-empty list of matchers, found {}", describe(&o))),
                    },
                    "hex" => Ok(Matcher::Equals(Y::Mapping([(Y::String(k), v)].into_iter().collect()))),
                    other => Err(format!("unknown matcher `{other}`: expected one of {MATCHER_KEYS}")),
                }
            }
            Y::Mapping(_) => Err(format!("a matcher mapping has exactly one key: {MATCHER_KEYS}")),
            Y::Null => Err("expected a value or a matcher, found nothing".into()),
            other => Ok(Matcher::Equals(other)),
        }
    }

    /// Check `actual`. `sent` is the same field of the request (for `as-sent`). On
    /// failure, returns what was expected, in words.
    pub fn check(&self, actual: &Val, sent: Option<&Val>, scope: &dyn Scope) -> Result<(), String> {
        match self {
            Matcher::Any => Ok(()),
            Matcher::Present => (actual != &Val::Absent).then_some(()).ok_or_else(|| "present".into()),
            Matcher::Absent => (actual == &Val::Absent).then_some(()).ok_or_else(|| "absent".into()),
            Matcher::AsSent => {
                let s = sent.unwrap_or(&Val::Absent);
                (actual == s).then_some(()).ok_or_else(|| format!("as sent: {s}"))
            }
            Matcher::Equals(y) => {
                let want = resolve_yaml(y, scope)?;
                if equals(actual, &want) {
                    Ok(())
                } else {
                    Err(show(&want))
                }
            }
            Matcher::OneOf(items) => {
                let wants = items.iter().map(|y| resolve_yaml(y, scope)).collect::<Result<Vec<_>, _>>()?;
                if wants.iter().any(|w| equals(actual, w)) {
                    Ok(())
                } else {
                    Err(format!("one of {}", wants.iter().map(show).collect::<Vec<_>>().join(", ")))
                }
            }
            Matcher::Cidr(t) => {
                let s = t.render(scope)?;
                let net: ipnet::Ipv4Net = s.parse().map_err(|_| format!("`{s}` is not a CIDR prefix"))?;
                match actual {
                    Val::Ip(a) if net.contains(a) => Ok(()),
                    _ => Err(format!("an address in {net}")),
                }
            }
            Matcher::Regex(re) => {
                let text = text_of(actual);
                if text.as_deref().is_some_and(|t| re.is_match(t)) {
                    Ok(())
                } else {
                    Err(format!("matching /{re}/"))
                }
            }
            Matcher::Len(r) => {
                let n = match actual {
                    Val::Bytes(b) | Val::Mac(b) => Some(b.len() as u64),
                    Val::List(l) => Some(l.len() as u64),
                    _ => None,
                };
                if n.is_some_and(|n| r.contains(n)) {
                    Ok(())
                } else {
                    Err(format!("length {r}"))
                }
            }
            Matcher::Range(r) => match actual {
                Val::Int(n) | Val::Named(n, _) if r.contains(*n) => Ok(()),
                _ => Err(format!("a number {r}")),
            },
            Matcher::StartsWith(t) | Matcher::EndsWith(t) | Matcher::Contains(t) => {
                let want = t.render(scope)?;
                let have = text_of(actual).unwrap_or_default();
                let ok = match self {
                    Matcher::StartsWith(_) => have.starts_with(&want),
                    Matcher::EndsWith(_) => have.ends_with(&want),
                    _ => have.contains(&want),
                };
                let verb = match self {
                    Matcher::StartsWith(_) => "starting with",
                    Matcher::EndsWith(_) => "ending with",
                    _ => "containing",
                };
                ok.then_some(()).ok_or_else(|| format!("text {verb} {want:?}"))
            }
            Matcher::Not(m) => match m.check(actual, sent, scope) {
                Ok(()) => Err(format!("not {}", m.summary())),
                Err(_) => Ok(()),
            },
            Matcher::All(ms) => ms.iter().try_for_each(|m| m.check(actual, sent, scope)),
            Matcher::AnyOf(ms) => {
                let mut why = Vec::with_capacity(ms.len());
                for m in ms {
                    match m.check(actual, sent, scope) {
                        Ok(()) => return Ok(()),
                        Err(e) => why.push(e),
                    }
                }
                Err(format!("any of: {}", why.join("; ")))
            }
        }
    }

    /// A short description for messages.
    pub fn summary(&self) -> String {
        match self {
            Matcher::Equals(y) => describe(y),
            Matcher::AsSent => "as sent".into(),
            Matcher::Present => "present".into(),
            Matcher::Absent => "absent".into(),
            Matcher::Any => "anything".into(),
            Matcher::OneOf(v) => format!("one of {} values", v.len()),
            Matcher::Cidr(t) => format!("in {t}"),
            Matcher::Regex(r) => format!("/{r}/"),
            Matcher::Len(r) => format!("length {r}"),
            Matcher::Range(r) => format!("{r}"),
            Matcher::StartsWith(t) => format!("starting with {t}"),
            Matcher::EndsWith(t) => format!("ending with {t}"),
            Matcher::Contains(t) => format!("containing {t}"),
            Matcher::Not(m) => format!("not {}", m.summary()),
            Matcher::All(ms) => ms.iter().map(Matcher::summary).collect::<Vec<_>>().join(" and "),
            Matcher::AnyOf(ms) => ms.iter().map(Matcher::summary).collect::<Vec<_>>().join(" or "),
        }
    }
}

fn text_of(v: &Val) -> Option<String> {
    match v {
        Val::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Val::Absent => None,
        other => Some(other.to_string()),
    }
}

/// Resolve variables inside a YAML value into JSON.
fn resolve_yaml(y: &serde_yaml::Value, scope: &dyn Scope) -> Result<Json, String> {
    use serde_yaml::Value as Y;
    Ok(match y {
        Y::String(s) => Template::new(s.clone()).resolve(scope)?,
        Y::Sequence(items) => Json::Array(items.iter().map(|i| resolve_yaml(i, scope)).collect::<Result<_, _>>()?),
        Y::Mapping(m) => {
            let mut o = serde_json::Map::new();
            for (k, v) in m {
                o.insert(json_text(&serde_json::to_value(k).unwrap_or(Json::Null)), resolve_yaml(v, scope)?);
            }
            Json::Object(o)
        }
        other => serde_json::to_value(other).map_err(|e| e.to_string())?,
    })
}

fn show(j: &Json) -> String {
    match j {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Equality of an observed value and an expected JSON value, reading the expected
/// value the way the observed one's kind requires.
pub fn equals(actual: &Val, want: &Json) -> bool {
    match (actual, want) {
        (Val::Absent, Json::Null) => true,
        (Val::Absent, _) => false,
        (Val::List(items), Json::Array(ws)) => {
            items.len() == ws.len() && items.iter().zip(ws).all(|(a, w)| equals(a, w))
        }
        (Val::List(items), w) => items.len() == 1 && items.first().is_some_and(|a| equals(a, w)),
        (a, Json::Array(ws)) if ws.len() == 1 => ws.first().is_some_and(|w| equals(a, w)),
        (Val::Int(n), w) => scalar_u64(w).is_some_and(|x| x == *n) || range_of(w).is_some_and(|r| r.contains(*n)),
        (Val::Named(n, name), w) => {
            scalar_u64(w).is_some_and(|x| x == *n) || matches!(w, Json::String(s) if names_match(s, name))
        }
        (Val::Bool(b), Json::Bool(x)) => b == x,
        (Val::Bool(b), Json::String(s)) => s == if *b { "true" } else { "false" },
        (Val::Ip(a), Json::String(s)) => s.trim().parse::<Ipv4Addr>().is_ok_and(|x| x == *a),
        (Val::Mac(m), Json::String(s)) => parse_mac_like(s).is_some_and(|x| x == *m),
        (Val::Bytes(b), Json::String(s)) => b == s.as_bytes(),
        (Val::Bytes(b) | Val::Mac(b), Json::Object(o)) => {
            o.get("hex").and_then(|h| h.as_str()).and_then(|h| crate::model::parse_hex(h).ok()).is_some_and(|x| x == *b)
        }
        (Val::Bytes(b), w) => scalar_u64(w).is_some_and(|n| b == n.to_string().as_bytes()),
        _ => false,
    }
}

fn names_match(s: &str, name: &str) -> bool {
    let norm = |x: &str| x.to_ascii_lowercase().replace(['_', ' '], "-");
    let a = norm(s);
    let b = norm(name);
    a == b || b.strip_prefix("dhcp").is_some_and(|r| r == a) || a.strip_prefix("dhcp").is_some_and(|r| r == b)
}

fn scalar_u64(w: &Json) -> Option<u64> {
    match w {
        Json::Number(n) => n.as_u64(),
        Json::String(s) => parse_u64(s),
        Json::Bool(b) => Some(u64::from(*b)),
        _ => None,
    }
}

fn range_of(w: &Json) -> Option<Range> {
    match w {
        Json::String(s) => Range::parse(s),
        _ => None,
    }
}

fn parse_mac_like(s: &str) -> Option<Vec<u8>> {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    if parts.len() < 2 {
        return crate::model::parse_hex(s).ok();
    }
    parts.iter().map(|p| u8::from_str_radix(p, 16).ok()).collect()
}

impl<'de> Deserialize<'de> for Matcher {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_yaml::Value::deserialize(d)?;
        Matcher::from_yaml(v).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Matcher {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Matcher".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A value to equal (variables allowed), `present`, `absent`, `as-sent`, `any`, a list, or a one-key matcher",
            "anyOf": [
                { "type": ["string", "number", "boolean", "array"] },
                {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 1,
                    "properties": {
                        "equals": {}, "one-of": { "type": "array" }, "in": { "type": "string" },
                        "regex": { "type": "string" }, "len": { "type": ["string", "integer"] },
                        "range": { "type": ["string", "integer"] }, "starts-with": { "type": "string" },
                        "ends-with": { "type": "string" }, "contains": { "type": "string" },
                        "not": { "$ref": "#/$defs/Matcher" }, "all": { "type": "array", "items": { "$ref": "#/$defs/Matcher" } },
                        "any-of": { "type": "array", "minItems": 1, "items": { "$ref": "#/$defs/Matcher" } },
                        "hex": { "type": "string" }
                    },
                    "additionalProperties": false
                }
            ]
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn m(y: &str) -> Matcher {
        Matcher::from_yaml(serde_yaml::from_str(y).unwrap()).unwrap()
    }

    #[test]
    fn matchers_accept_and_reject() {
        let scope = serde_json::json!({"site": {"server": {"ip": "192.0.2.1"}}});
        let ip = Val::Ip("192.0.2.1".parse().unwrap());
        assert!(m("$site.server.ip").check(&ip, None, &scope).is_ok());
        assert!(m("192.0.2.2").check(&ip, None, &scope).is_err());
        assert!(m("{ in: 192.0.2.0/24 }").check(&ip, None, &scope).is_ok());
        assert!(m("{ in: 198.51.100.0/24 }").check(&ip, None, &scope).is_err());
        assert!(m("{ not: absent }").check(&ip, None, &scope).is_ok());
        assert!(m("absent").check(&Val::Absent, None, &scope).is_ok());
        assert!(m("present").check(&Val::Absent, None, &scope).is_err());
        let n = Val::Int(300);
        assert!(m("'>= 300'").check(&n, None, &scope).is_ok());
        assert!(m("'301..'").check(&n, None, &scope).is_err());
        assert!(m("{ range: 1..300 }").check(&n, None, &scope).is_ok());
        let t = Val::Bytes(b"/tftpboot/pxelinux.0".to_vec());
        assert!(m("{ ends-with: pxelinux.0 }").check(&t, None, &scope).is_ok());
        assert!(m("{ regex: '^/tftpboot/' }").check(&t, None, &scope).is_ok());
        assert!(m("{ len: 1..10 }").check(&t, None, &scope).is_err());
        let mt = Val::Named(2, "DHCPOFFER");
        assert!(m("offer").check(&mt, None, &scope).is_ok());
        assert!(m("2").check(&mt, None, &scope).is_ok());
        assert!(m("ack").check(&mt, None, &scope).is_err());
        let x = Val::Int(0x1234);
        assert!(m("as-sent").check(&x, Some(&Val::Int(0x1234)), &scope).is_ok());
        assert!(m("as-sent").check(&x, Some(&Val::Int(0x1235)), &scope).is_err());
        let l = Val::List(vec![Val::Ip("192.0.2.254".parse().unwrap())]);
        assert!(m("[192.0.2.254]").check(&l, None, &scope).is_ok());
        assert!(m("192.0.2.254").check(&l, None, &scope).is_ok());
        assert!(m("{ one-of: [1, 2] }").check(&Val::Int(2), None, &scope).is_ok());
    }

    #[test]
    fn any_of_holds_when_one_matcher_does() {
        let scope = serde_json::json!({"site": {"netmask": "255.255.255.0"}});
        let mask = m("{ any-of: [absent, $site.netmask] }");
        assert!(mask.check(&Val::Absent, None, &scope).is_ok());
        assert!(mask.check(&Val::Ip("255.255.255.0".parse().unwrap()), None, &scope).is_ok());
        let e = mask.check(&Val::Ip("255.0.28.4".parse().unwrap()), None, &scope).unwrap_err();
        assert_eq!(e, "any of: absent; 255.255.255.0");
        let hops = m("{ any-of: [0, as-sent] }");
        assert!(hops.check(&Val::Int(4), Some(&Val::Int(4)), &scope).is_ok());
        assert!(hops.check(&Val::Int(0), Some(&Val::Int(4)), &scope).is_ok());
        assert!(hops.check(&Val::Int(1), Some(&Val::Int(4)), &scope).is_err());
        let zeros = m(r"{ regex: '^\x00*$' }");
        assert!(zeros.check(&Val::Bytes(vec![0; 64]), None, &scope).is_ok());
        assert!(zeros.check(&Val::Bytes(vec![0, 0, 0, 0, 1, 4, 255]), None, &scope).is_err());
        let e = Matcher::from_yaml(serde_yaml::from_str("{ any-of: [] }").unwrap()).unwrap_err();
        assert!(e.contains("non-empty list"), "{e}");
    }

    #[test]
    fn bad_matchers_say_what_is_expected() {
        let e = Matcher::from_yaml(serde_yaml::from_str("{ nope: 1 }").unwrap()).unwrap_err();
        assert!(e.contains("unknown matcher `nope`"), "{e}");
        let e = Matcher::from_yaml(serde_yaml::from_str("{ regex: '(' }").unwrap()).unwrap_err();
        assert!(e.contains("bad regex"), "{e}");
    }
}
