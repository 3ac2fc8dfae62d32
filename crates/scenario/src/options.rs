//! Options in scenario files: an ordered list keyed by codebook name or number, with
//! values written the way people think of them and encoded by the option's kind.

use std::net::Ipv4Addr;

use bootcheck_wire::options::{self as wopt, Kind};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use serde_json::Value as Json;

use crate::matcher::{describe, parse_u64};
use crate::template::{json_text, Scope, Template};

/// Options in the order written; repeated keys are repeated options.
#[derive(Debug, Clone, Default)]
pub struct OptionList(pub Vec<(u8, serde_yaml::Value)>);

/// Resolve an option key: a codebook name (`subnet-mask`), a number, or `option-N`.
pub fn option_code(key: &str) -> Result<u8, String> {
    if let Some(c) = wopt::code_by_name(key) {
        return Ok(c);
    }
    if let Some(n) = parse_u64(key.strip_prefix("option-").unwrap_or(key)) {
        return u8::try_from(n).map_err(|_| format!("option code {n} is not 0–255"));
    }
    let close: Vec<&str> = wopt::BOOK
        .iter()
        .map(|s| s.name)
        .filter(|n| n.contains(key) || key.contains(n) || shared_prefix(n, key) >= 4)
        .take(3)
        .collect();
    let hint = if close.is_empty() { String::new() } else { format!(" (did you mean {}?)", close.join(", ")) };
    Err(format!("unknown option `{key}`{hint}: use a name from the RFC 2132 codebook or a number"))
}

fn shared_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

fn key_text(k: &serde_yaml::Value) -> Result<String, String> {
    match k {
        serde_yaml::Value::String(s) => Ok(s.clone()),
        serde_yaml::Value::Number(n) => Ok(n.to_string()),
        o => Err(format!("option keys are names or numbers, found {}", describe(o))),
    }
}

impl<'de> Deserialize<'de> for OptionList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let v = serde_yaml::Value::deserialize(d)?;
        let pairs: Vec<(serde_yaml::Value, serde_yaml::Value)> = match v {
            serde_yaml::Value::Mapping(m) => m.into_iter().collect(),
            // A list of one-key mappings allows repeating an option.
            serde_yaml::Value::Sequence(items) => {
                let mut out = Vec::new();
                for i in items {
                    match i {
                        serde_yaml::Value::Mapping(m) if m.len() == 1 => out.extend(m),
                        o => {
                            return Err(D::Error::custom(format!(
                                "each list item is one `name: value`, found {}",
                                describe(&o)
                            )))
                        }
                    }
                }
                out
            }
            serde_yaml::Value::Null => Vec::new(),
            o => {
                return Err(D::Error::custom(format!(
                    "expected options as `name: value` pairs, found {}",
                    describe(&o)
                )))
            }
        };
        let mut out = Vec::new();
        for (k, v) in pairs {
            let key = key_text(&k).map_err(D::Error::custom)?;
            let code = option_code(&key).map_err(D::Error::custom)?;
            if !has_vars(&v) {
                encode(code, &v, &Json::Null).map_err(|e| D::Error::custom(format!("option `{key}`: {e}")))?;
            }
            out.push((code, v));
        }
        Ok(OptionList(out))
    }
}

impl JsonSchema for OptionList {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "OptionList".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = wopt::BOOK.iter().map(|s| s.name).collect();
        schemars::json_schema!({
            "description": "Options in order: `name: value` (RFC 2132 codebook names or numbers); a list of one-key mappings repeats options",
            "anyOf": [
                { "type": "object", "propertyNames": { "anyOf": [ { "enum": names }, { "pattern": "^(option-)?[0-9]+$" } ] } },
                { "type": "array", "items": { "type": "object", "maxProperties": 1 } }
            ]
        })
    }
}

/// A list of option codes written by codebook name or number (`[subnet-mask, router]`,
/// `[1, 3]`), checked when the file is read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionCodes(pub Vec<u8>);

impl<'de> Deserialize<'de> for OptionCodes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match serde_yaml::Value::deserialize(d)? {
            serde_yaml::Value::Sequence(items) => items
                .iter()
                .map(|i| key_text(i).and_then(|k| option_code(&k)))
                .collect::<Result<Vec<u8>, String>>()
                .map(OptionCodes)
                .map_err(D::Error::custom),
            serde_yaml::Value::Null => Ok(OptionCodes::default()),
            o => Err(D::Error::custom(format!(
                "expected a list of option names or codes, e.g. [subnet-mask, router], found {}",
                describe(&o)
            ))),
        }
    }
}

impl JsonSchema for OptionCodes {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "OptionCodes".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = wopt::BOOK.iter().map(|s| s.name).collect();
        schemars::json_schema!({
            "description": "Option codes in order, by RFC 2132 codebook name or number",
            "type": "array",
            "items": { "anyOf": [ { "enum": names }, { "type": "string", "pattern": "^(option-)?[0-9]+$" }, { "type": "integer", "minimum": 0, "maximum": 255 } ] }
        })
    }
}

/// Whether a YAML value mentions a variable.
pub fn has_vars(v: &serde_yaml::Value) -> bool {
    match v {
        serde_yaml::Value::String(s) => s.contains('$'),
        serde_yaml::Value::Sequence(i) => i.iter().any(has_vars),
        serde_yaml::Value::Mapping(m) => m.iter().any(|(k, v)| has_vars(k) || has_vars(v)),
        _ => false,
    }
}

/// Resolve a YAML value's variables into JSON.
fn resolve(v: &serde_yaml::Value, scope: &dyn Scope) -> Result<Json, String> {
    use serde_yaml::Value as Y;
    Ok(match v {
        Y::String(s) => Template::new(s.clone()).resolve(scope)?,
        Y::Sequence(items) => Json::Array(items.iter().map(|i| resolve(i, scope)).collect::<Result<_, _>>()?),
        Y::Mapping(m) => {
            let mut o = serde_json::Map::new();
            for (k, v) in m {
                o.insert(key_text(k)?, resolve(v, scope)?);
            }
            Json::Object(o)
        }
        Y::Null => Json::Null,
        Y::Bool(b) => Json::Bool(*b),
        Y::Number(n) => serde_json::to_value(n).map_err(|e| e.to_string())?,
        Y::Tagged(t) => resolve(&t.value, scope)?,
    })
}

fn items(j: &Json) -> Vec<Json> {
    match j {
        Json::Array(a) => a.clone(),
        Json::String(s) if s.contains(',') => s.split(',').map(|p| Json::String(p.trim().to_string())).collect(),
        other => vec![other.clone()],
    }
}

fn ip(j: &Json) -> Result<Ipv4Addr, String> {
    let s = json_text(j);
    s.trim().parse().map_err(|_| format!("`{s}` is not an IPv4 address"))
}

fn uint(j: &Json, max: u64) -> Result<u64, String> {
    let n = match j {
        Json::Number(n) => n.as_u64(),
        Json::String(s) if s == "infinite" || s == "infinity" => Some(u64::from(u32::MAX)),
        Json::String(s) => parse_u64(s),
        Json::Bool(b) => Some(u64::from(*b)),
        _ => None,
    }
    .ok_or_else(|| format!("`{}` is not a number", json_text(j)))?;
    if n > max {
        return Err(format!("{n} is larger than {max}"));
    }
    Ok(n)
}

/// Octets from text or `{ hex: ... }`.
pub fn octets(j: &Json) -> Result<Vec<u8>, String> {
    match j {
        Json::Object(o) if o.len() == 1 && o.contains_key("hex") => {
            crate::model::parse_hex(&o.get("hex").map(json_text).unwrap_or_default())
        }
        Json::Object(_) => Err("expected text or { hex: ... }".into()),
        other => Ok(json_text(other).into_bytes()),
    }
}

fn mac_or_hex(j: &Json) -> Result<Vec<u8>, String> {
    match j {
        Json::String(s) if s.contains(':') || s.contains('-') => s.parse::<crate::site::Mac>().map(|m| m.0.to_vec()),
        other => octets(other),
    }
}

/// Encode the value of option `code` (without code and length).
pub fn encode(code: u8, v: &serde_yaml::Value, scope: &dyn Scope) -> Result<Vec<u8>, String> {
    let j = resolve(v, scope)?;
    // `{ hex: ... }` is always exactly those octets (any length: lying on purpose).
    if let Json::Object(o) = &j {
        if o.len() == 1 && o.contains_key("hex") {
            return octets(&j);
        }
    }
    let Some(spec) = wopt::spec(code) else {
        return octets(&j);
    };
    let mut out = Vec::new();
    match spec.kind {
        Kind::Ip => out.extend(ip(&j)?.octets()),
        Kind::Ips { .. } => {
            for i in items(&j) {
                out.extend(ip(&i)?.octets());
            }
        }
        Kind::IpPairs => {
            for i in items(&j) {
                let t = json_text(&i);
                let parts: Vec<&str> = t.split_whitespace().collect();
                let [a, b] = parts.as_slice() else {
                    return Err(format!("`{t}`: each entry is `address mask` (or `destination router`)"));
                };
                out.extend(ip(&Json::String((*a).into()))?.octets());
                out.extend(ip(&Json::String((*b).into()))?.octets());
            }
        }
        Kind::U8 { .. } | Kind::NodeType => out.push(uint(&j, 255)? as u8),
        Kind::U16 { .. } => out.extend((uint(&j, 0xffff)? as u16).to_be_bytes()),
        Kind::U32 => out.extend((uint(&j, u64::from(u32::MAX))? as u32).to_be_bytes()),
        Kind::I32 => {
            let n: i64 = match &j {
                Json::Number(n) => n.as_i64(),
                other => json_text(other).trim().parse().ok(),
            }
            .ok_or_else(|| format!("`{}` is not a number", json_text(&j)))?;
            let n = i32::try_from(n).map_err(|_| format!("{n} does not fit 32 bits"))?;
            out.extend(n.to_be_bytes());
        }
        Kind::Bool => out.push(match &j {
            Json::Bool(b) => u8::from(*b),
            other => uint(other, 255)? as u8,
        }),
        Kind::Str { .. } | Kind::Bytes { .. } => out.extend(octets(&j)?),
        Kind::U16s { .. } => {
            for i in items(&j) {
                out.extend((uint(&i, 0xffff)? as u16).to_be_bytes());
            }
        }
        Kind::Codes => {
            for i in items(&j) {
                let c = match &i {
                    Json::Number(n) => n.as_u64().and_then(|n| u8::try_from(n).ok()).ok_or("code out of range")?,
                    other => option_code(&json_text(other))?,
                };
                out.push(c);
            }
        }
        Kind::MessageType => out.push(match &j {
            Json::Number(_) => uint(&j, 255)? as u8,
            other => message_type_code(&json_text(other))?,
        }),
        Kind::Overload => out.push(match json_text(&j).as_str() {
            "file" => 1,
            "sname" => 2,
            "both" | "file+sname" => 3,
            _ => uint(&j, 255)? as u8,
        }),
        Kind::ClientId => match &j {
            Json::Object(o) => {
                let t = o.get("type").map_or(Ok(1), |t| uint(t, 255))? as u8;
                out.push(t);
                out.extend(mac_or_hex(o.get("id").ok_or("client-id needs `id`")?)?);
            }
            other => {
                out.push(1);
                out.extend(mac_or_hex(other)?);
            }
        },
        Kind::RelayAgent => match &j {
            Json::Object(o) => {
                for (k, v) in o {
                    let sub = match k.as_str() {
                        "circuit-id" => 1,
                        "remote-id" => 2,
                        "link-selection" => 5,
                        "subscriber-id" => 6,
                        other => parse_u64(other)
                            .and_then(|n| u8::try_from(n).ok())
                            .ok_or_else(|| format!("unknown relay agent sub-option `{other}`"))?,
                    };
                    let data = octets(v)?;
                    out.push(sub);
                    out.push(u8::try_from(data.len()).map_err(|_| "sub-option longer than 255")?);
                    out.extend(data);
                }
            }
            other => out.extend(octets(other)?),
        },
        Kind::ClientNdi => {
            let v: Vec<u64> = items(&j).iter().map(|i| uint(i, 255)).collect::<Result<_, _>>()?;
            out.extend(v.iter().map(|&x| x as u8));
        }
        Kind::MachineId => out.extend(octets(&j)?),
    }
    Ok(out)
}

/// A DHCP message type by name (`discover`, `DHCPOFFER`…) or number.
pub fn message_type_code(s: &str) -> Result<u8, String> {
    let n = s.trim().to_ascii_lowercase();
    let n = n.strip_prefix("dhcp").unwrap_or(&n);
    Ok(match n {
        "discover" => 1,
        "offer" => 2,
        "request" => 3,
        "decline" => 4,
        "ack" => 5,
        "nak" => 6,
        "release" => 7,
        "inform" => 8,
        other => parse_u64(other).and_then(|v| u8::try_from(v).ok()).ok_or_else(|| {
            format!("`{s}` is not a DHCP message type (discover, offer, request, decline, ack, nak, release, inform)")
        })?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn enc(code: u8, y: &str) -> Result<Vec<u8>, String> {
        encode(code, &serde_yaml::from_str(y).unwrap(), &serde_json::json!({"site": {"router": "192.0.2.254"}}))
    }

    #[test]
    fn encodes_by_kind() {
        assert_eq!(enc(1, "255.255.255.0").unwrap(), [255, 255, 255, 0]);
        assert_eq!(enc(3, "[$site.router, 192.0.2.1]").unwrap(), [192, 0, 2, 254, 192, 0, 2, 1]);
        assert_eq!(enc(55, "[subnet-mask, router, 43]").unwrap(), [1, 3, 43]);
        assert_eq!(enc(53, "discover").unwrap(), [1]);
        assert_eq!(enc(51, "infinite").unwrap(), [255; 4]);
        assert_eq!(enc(57, "1500").unwrap(), [5, 220]);
        assert_eq!(enc(12, "ws1").unwrap(), b"ws1");
        assert_eq!(enc(12, "{ hex: '' }").unwrap(), b"");
        assert_eq!(enc(61, "02:00:00:00:be:01").unwrap(), [1, 2, 0, 0, 0, 0xbe, 1]);
        assert_eq!(enc(82, "{ circuit-id: eth0 }").unwrap(), [1, 4, b'e', b't', b'h', b'0']);
        assert_eq!(enc(52, "both").unwrap(), [3]);
        assert!(enc(1, "not-an-ip").unwrap_err().contains("not an IPv4 address"));
        assert!(enc(57, "70000").unwrap_err().contains("larger than"));
        assert!(option_code("subnet-mas").unwrap_err().contains("did you mean subnet-mask"));
    }
}
