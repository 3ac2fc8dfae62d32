//! The one error type of the lab crate. Every variant says what was being done; command
//! failures name the full command line and carry its stderr.

use std::path::PathBuf;
use std::time::Duration;

use bootcheck_scenario::LoadError;

/// Everything that can go wrong while building, using or tearing down a lab.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LabError {
    /// The lab needs privileges this process does not have.
    #[error("{what}: {how}")]
    NeedsPrivilege { what: String, how: String },

    /// A program the lab runs is not installed.
    #[error("`{tool}` is not installed (needed to {purpose}): apt-get install {package}")]
    MissingTool { tool: String, package: String, purpose: String },

    /// An external command could not be started or exited unsuccessfully.
    #[error("command `{command}` {status}{}", stderr_suffix(.stderr))]
    Command { command: String, status: String, stderr: String },

    /// A file-system or process operation failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },

    /// A system call failed.
    #[error("{what}: {source}")]
    Sys {
        what: String,
        #[source]
        source: nix::errno::Errno,
    },

    /// libpcap failed.
    #[error("{what}: {source}")]
    Pcap {
        what: String,
        #[source]
        source: pcap::Error,
    },

    /// A target profile is malformed (the error names file, line and column).
    #[error(transparent)]
    Profile(#[from] LoadError),

    /// A config or command template did not render.
    #[error("{what}: {message}")]
    Template { what: String, message: String },

    /// A target's program is missing.
    #[error("target `{target}`: {path} does not exist{}", install_hint(.packages))]
    BinaryMissing { target: String, path: PathBuf, packages: Vec<String> },

    /// A target did not become ready in time.
    #[error("target `{target}` not ready after {waited:?} ({condition}){}", tail_suffix(.log_tail))]
    NotReady { target: String, waited: Duration, condition: String, log_tail: String },

    /// A target's process exited while it should be running.
    #[error("target `{target}` exited ({status}){}", tail_suffix(.log_tail))]
    Exited { target: String, status: String, log_tail: String },

    /// A request that would break the lab's safety rules was refused.
    #[error("refused: {0}")]
    Unsafe(String),

    /// A lab spec, id or argument is invalid.
    #[error("{0}")]
    Invalid(String),

    /// The lab is still owned by a running process.
    #[error("lab {id} belongs to running process {pid}; stop that process first (or `lab clean --force`)")]
    InUse { id: String, pid: i32 },

    /// SIGINT/SIGTERM arrived (see [`crate::install_signal_cleanup`]).
    #[error("interrupted")]
    Interrupted,

    /// Teardown left something behind (each entry says what and why).
    #[error("teardown incomplete: {}", .0.join("; "))]
    Teardown(Vec<String>),
}

fn stderr_suffix(stderr: &str) -> String {
    let s = stderr.trim();
    if s.is_empty() {
        String::new()
    } else {
        format!(": {s}")
    }
}

fn tail_suffix(tail: &str) -> String {
    if tail.trim().is_empty() {
        "; its log is empty".to_string()
    } else {
        format!("; last log lines:\n{}", tail.trim_end())
    }
}

fn install_hint(packages: &[String]) -> String {
    if packages.is_empty() {
        String::new()
    } else {
        format!(": apt-get install {}", packages.join(" "))
    }
}

impl LabError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        LabError::Io { what: what.into(), source }
    }
    pub(crate) fn sys(what: impl Into<String>, source: nix::errno::Errno) -> Self {
        LabError::Sys { what: what.into(), source }
    }
    pub(crate) fn pcap(what: impl Into<String>, source: pcap::Error) -> Self {
        LabError::Pcap { what: what.into(), source }
    }
}
