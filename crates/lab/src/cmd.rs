//! Running helper commands (`ip`, `ethtool`, `sysctl`) with errors that name the
//! command line and carry its stderr.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::LabError;

/// The command line as a shell would show it (for error messages only).
pub(crate) fn display(argv: &[&str]) -> String {
    argv.iter()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$\\".contains(c)) {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                (*a).to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Run `argv`, wait, and return its stdout; a non-zero exit is an error naming the
/// command and its stderr.
pub(crate) fn run(argv: &[&str]) -> Result<String, LabError> {
    let (prog, args) = argv.split_first().ok_or_else(|| LabError::Invalid("empty command".into()))?;
    let out = Command::new(which(prog)).args(args).stdin(Stdio::null()).output().map_err(|e| LabError::Command {
        command: display(argv),
        status: format!("could not be started ({e})"),
        stderr: String::new(),
    })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(LabError::Command {
            command: display(argv),
            status: format!("failed ({})", out.status),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// Directories searched for helper programs (root's PATH may lack the sbin ones).
const SEARCH: [&str; 6] = ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"];

/// Where `tool` is installed (PATH, then the standard bin directories); `tool` itself
/// when it contains a `/` or is not found (so the spawn error names it).
pub(crate) fn which(tool: &str) -> std::path::PathBuf {
    if tool.contains('/') {
        return tool.into();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(SEARCH.iter().map(std::path::PathBuf::from))
        .map(|d| d.join(tool))
        .find(|p| is_executable(p))
        .unwrap_or_else(|| tool.into())
}

/// Whether `tool` is installed (in PATH or a standard bin directory).
pub(crate) fn have(tool: &str) -> bool {
    let p = which(tool);
    p.is_absolute() && is_executable(&p)
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// Fail with an install hint when `tool` is missing.
pub(crate) fn require(tool: &str, package: &str, purpose: &str) -> Result<(), LabError> {
    if have(tool) {
        Ok(())
    } else {
        Err(LabError::MissingTool { tool: tool.into(), package: package.into(), purpose: purpose.into() })
    }
}
