//! Loading YAML with errors that name the file, line, column and field path, and say
//! what was expected.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// A bad input file. `Display` prints `file:line:column: field: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub file: PathBuf,
    /// 1-based; 0 when unknown.
    pub line: usize,
    /// 1-based; 0 when unknown.
    pub column: usize,
    /// The field path, e.g. `steps[1].send.bootp.flags`; empty for the whole file.
    pub path: String,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        f.write_str(": ")?;
        if !self.path.is_empty() && self.path != "." {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for LoadError {}

impl LoadError {
    pub fn new(file: &Path, path: impl Into<String>, message: impl Into<String>) -> Self {
        LoadError { file: file.to_path_buf(), line: 0, column: 0, path: path.into(), message: message.into() }
    }

    /// Place the error at the first occurrence of `needle` in `source` (for checks that
    /// run after deserialisation, when serde's positions are gone).
    #[must_use]
    pub fn at_text(mut self, source: &str, needle: &str) -> Self {
        if let Some((l, c)) = locate(source, needle) {
            self.line = l;
            self.column = c;
        }
        self
    }

    /// Place the error at the YAML key that ends `path` (`clients.ws1.ip` → the `ip:`
    /// key under `ws1:` under `clients:`), when it can be found by indentation.
    #[must_use]
    pub fn at_path(mut self, source: &str) -> Self {
        if let Some((l, c)) = locate_path(source, &self.path) {
            self.line = l;
            self.column = c;
        }
        self
    }
}

/// 1-based line and column of the first occurrence of `needle`.
pub fn locate(source: &str, needle: &str) -> Option<(usize, usize)> {
    let at = source.find(needle)?;
    let before = source.get(..at)?;
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Some((line, col))
}

/// Best-effort location of a dotted key path (`a.b[2].c`) by walking keys in order.
fn locate_path(source: &str, path: &str) -> Option<(usize, usize)> {
    let mut from = 0usize;
    let mut found = None;
    for seg in path.split('.') {
        let key = seg.split('[').next().unwrap_or(seg);
        if key.is_empty() {
            continue;
        }
        let rest = source.get(from..)?;
        let pats = [format!("{key}:"), format!("\"{key}\":")];
        let hit = pats.iter().filter_map(|p| rest.find(p.as_str())).min()?;
        from += hit;
        found = Some(from);
        from += key.len();
    }
    let at = found?;
    let before = source.get(..at)?;
    Some((before.matches('\n').count() + 1, before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1))
}

/// Deserialize `T` from YAML text, with located errors.
pub fn from_yaml<T: DeserializeOwned>(file: &Path, source: &str) -> Result<T, LoadError> {
    let de = serde_yaml::Deserializer::from_str(source);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let (line, column) = inner.location().map_or((0, 0), |l| (l.line(), l.column()));
        let mut message = inner.to_string();
        // serde_yaml appends " at line L column C" and prefixes its own path; ours
        // already says both.
        if let Some(i) = message.find(" at line ") {
            message.truncate(i);
        }
        if let Some((head, rest)) = message.split_once(": ") {
            if !head.contains(' ') && (head.contains('.') || head.contains('[') || path.ends_with(head)) {
                message = rest.to_string();
            }
        }
        if let Some(hint) = did_you_mean(&message) {
            message.push_str(&hint);
        }
        let (line, column) = refine(source, line, column, &message).unwrap_or((line, column));
        LoadError { file: file.to_path_buf(), line, column, path, message }
    })
}

/// Read a file and deserialize it.
pub fn read_yaml<T: DeserializeOwned>(file: &Path) -> Result<(T, String), LoadError> {
    let source = std::fs::read_to_string(file).map_err(|e| LoadError::new(file, "", format!("cannot read: {e}")))?;
    let v = from_yaml(file, &source)?;
    Ok((v, source))
}

/// For "unknown field `x`, expected one of `a`, `b`": the closest expected name.
fn did_you_mean(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `").or_else(|| message.strip_prefix("unknown variant `"))?;
    let (bad, rest) = rest.split_once('`')?;
    let candidates: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    let best = candidates.iter().min_by_key(|c| edit_distance(bad, c))?;
    (edit_distance(bad, best) <= 2.max(bad.len() / 3)).then(|| format!(" (did you mean `{best}`?)"))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// Errors raised by value-level checks point at the start of the enclosing mapping;
/// move them to the key the message names (`option `subnet-mask`` → `subnet-mask:`),
/// when it follows within a few lines.
fn refine(source: &str, line: usize, column: usize, message: &str) -> Option<(usize, usize)> {
    if line == 0 {
        return None;
    }
    let key = message.split('`').nth(1)?;
    if key.is_empty() || key.contains(char::is_whitespace) {
        return None;
    }
    let start: usize =
        source.split_inclusive('\n').take(line - 1).map(str::len).sum::<usize>() + column.saturating_sub(1);
    let window: String = source.get(start..)?.lines().take(30).collect::<Vec<_>>().join("\n");
    let at = [format!("{key}:"), format!("{key} ")].iter().filter_map(|p| window.find(p.as_str())).min()?;
    let before = source.get(..start + at)?;
    Some((before.matches('\n').count() + 1, before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1))
}
