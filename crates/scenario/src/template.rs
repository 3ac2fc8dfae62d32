//! Text with variables: `$site.server.ip`, `$client.mac`, `$reply.siaddr`, a captured
//! `$server`, or `${site.boot.home}/pxelinux.0` inside other text.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use serde_json::Value as Json;

/// A string that may contain variables.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Template(String);

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Template {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_yaml::Value::deserialize(d)? {
            serde_yaml::Value::String(s) => Ok(Template(s)),
            serde_yaml::Value::Number(n) => Ok(Template(n.to_string())),
            serde_yaml::Value::Bool(b) => Ok(Template(b.to_string())),
            other => Err(serde::de::Error::custom(format!(
                "expected text (variables like $site.server.ip allowed), found {}",
                crate::matcher::describe(&other)
            ))),
        }
    }
}

impl JsonSchema for Template {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Template".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": ["string", "number", "boolean"],
            "description": "Text; $site.x.y, $client.x, $reply.x, $sent.x and captured $name are replaced"
        })
    }
}

/// A span of a template: literal text or a variable path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part<'a> {
    Text(&'a str),
    Var(&'a str),
}

fn is_var_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'
}

/// Split a template into literal text and variable paths.
pub fn parts(s: &str) -> Vec<Part<'_>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        let (text, after) = rest.split_at(i);
        if !text.is_empty() {
            out.push(Part::Text(text));
        }
        let after = &after[1..];
        if let Some(inner) = after.strip_prefix('{') {
            match inner.find('}') {
                Some(j) => {
                    out.push(Part::Var(&inner[..j]));
                    rest = &inner[j + 1..];
                }
                None => {
                    out.push(Part::Text(&rest[i..]));
                    rest = "";
                }
            }
            continue;
        }
        let n = after.find(|c: char| !is_var_char(c)).unwrap_or(after.len());
        let mut name = &after[..n];
        while name.ends_with('.') {
            name = &name[..name.len() - 1];
        }
        if name.is_empty() {
            out.push(Part::Text("$"));
            rest = after;
        } else {
            out.push(Part::Var(name));
            rest = &after[name.len()..];
        }
    }
    if !rest.is_empty() {
        out.push(Part::Text(rest));
    }
    out
}

/// Where variables come from.
pub trait Scope {
    /// The value at a dotted path (`site.clients.ws1.ip`), if any.
    fn lookup(&self, path: &str) -> Option<Json>;
}

/// A JSON tree as a scope.
impl Scope for Json {
    fn lookup(&self, path: &str) -> Option<Json> {
        let mut cur = self;
        for seg in path.split('.') {
            cur = match cur {
                Json::Object(m) => m.get(seg)?,
                Json::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(cur.clone())
    }
}

/// Text of a JSON scalar as it appears in a template.
pub fn json_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        Json::Array(a) => a.iter().map(json_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

impl Template {
    pub fn new(s: impl Into<String>) -> Self {
        Template(s.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Variable paths used.
    pub fn vars(&self) -> Vec<&str> {
        parts(&self.0)
            .into_iter()
            .filter_map(|p| match p {
                Part::Var(v) => Some(v),
                Part::Text(_) => None,
            })
            .collect()
    }
    /// The value: a lone variable keeps its JSON type (a list stays a list);
    /// otherwise the text with every variable replaced.
    pub fn resolve(&self, scope: &dyn Scope) -> Result<Json, String> {
        let ps = parts(&self.0);
        if let [Part::Var(v)] = ps.as_slice() {
            return scope.lookup(v).ok_or_else(|| unknown(v));
        }
        let mut s = String::new();
        for p in ps {
            match p {
                Part::Text(t) => s.push_str(t),
                Part::Var(v) => s.push_str(&json_text(&scope.lookup(v).ok_or_else(|| unknown(v))?)),
            }
        }
        Ok(Json::String(s))
    }
    /// The value as text.
    pub fn render(&self, scope: &dyn Scope) -> Result<String, String> {
        self.resolve(scope).map(|v| json_text(&v))
    }
}

fn unknown(v: &str) -> String {
    format!("unknown variable `${v}`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_variables() {
        assert_eq!(parts("$site.server.ip"), [Part::Var("site.server.ip")]);
        assert_eq!(
            parts("ends ${site.boot.home}/x"),
            [Part::Text("ends "), Part::Var("site.boot.home"), Part::Text("/x")]
        );
        assert_eq!(parts("cost $5."), [Part::Text("cost "), Part::Var("5"), Part::Text(".")]);
        assert_eq!(parts("a $ b"), [Part::Text("a "), Part::Text("$"), Part::Text(" b")]);
    }

    #[test]
    fn resolves_against_json() {
        let scope = serde_json::json!({"site": {"server": {"ip": "192.0.2.1"}, "dns": ["192.0.2.53"]}});
        assert_eq!(Template::new("$site.server.ip").render(&scope).unwrap(), "192.0.2.1");
        assert_eq!(Template::new("$site.dns").resolve(&scope).unwrap(), serde_json::json!(["192.0.2.53"]));
        assert_eq!(Template::new("$site.dns.0").render(&scope).unwrap(), "192.0.2.53");
        assert!(Template::new("$site.nope").render(&scope).unwrap_err().contains("$site.nope"));
    }
}
