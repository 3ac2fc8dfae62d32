//! Processes by PID: identity (PID + start time, so a reused PID is never mistaken for
//! ours), liveness, and stopping with SIGTERM → grace → SIGKILL.

use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

/// A process as the lab knows it: PID plus the kernel's start time (clock ticks since
/// boot, field 22 of /proc/PID/stat), which together identify it even after PID reuse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcId {
    pub pid: i32,
    pub start_time: u64,
}

impl ProcId {
    /// The running process `pid`, if it exists.
    pub fn of(pid: i32) -> Option<ProcId> {
        stat(pid).map(|(_, start_time)| ProcId { pid, start_time })
    }
    /// This process.
    pub fn me() -> Option<ProcId> {
        ProcId::of(i32::try_from(std::process::id()).ok()?)
    }
    /// Whether this very process still runs (exists, same start time, not a zombie).
    pub fn alive(&self) -> bool {
        matches!(stat(self.pid), Some((state, st)) if st == self.start_time && state != 'Z' && state != 'X')
    }
}

/// (state, start time) of `pid` from /proc/PID/stat.
fn stat(pid: i32) -> Option<(char, u64)> {
    if pid <= 0 {
        return None;
    }
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    let rest = s.get(s.rfind(')')? + 1..)?;
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    let start = f.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// Whether a PID may be signalled at all: never PID 0/1, negative (process groups) or
/// ourselves.
fn signallable(pid: i32) -> bool {
    pid > 1 && u32::try_from(pid).ok() != Some(std::process::id())
}

/// Stop each process (if it is still the same process): `first` signal, wait up to
/// `grace` for all of them, then SIGKILL the rest and wait up to another second.
/// Returns what is still alive afterwards (normally nothing).
pub fn stop(procs: &[ProcId], first: Signal, grace: Duration) -> Vec<ProcId> {
    let live: Vec<&ProcId> = procs.iter().filter(|p| signallable(p.pid) && p.alive()).collect();
    for p in &live {
        let _ = kill(Pid::from_raw(p.pid), first);
    }
    let mut left = wait_gone(&live, grace);
    if !left.is_empty() {
        for p in &left {
            if p.alive() {
                let _ = kill(Pid::from_raw(p.pid), Signal::SIGKILL);
            }
        }
        left = wait_gone(&left, Duration::from_secs(1));
    }
    left.into_iter().cloned().collect()
}

fn wait_gone<'a>(procs: &[&'a ProcId], limit: Duration) -> Vec<&'a ProcId> {
    let until = Instant::now() + limit;
    loop {
        let left: Vec<&ProcId> = procs.iter().copied().filter(|p| p.alive()).collect();
        if left.is_empty() || Instant::now() >= until {
            return left;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Parse a signal name: `SIGTERM`, `TERM`, `term`, or a number.
pub fn parse_signal(s: &str) -> Result<Signal, String> {
    let t = s.trim();
    if let Ok(n) = t.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| format!("`{s}` is not a signal number"));
    }
    let up = t.to_ascii_uppercase();
    let name = if up.starts_with("SIG") { up } else { format!("SIG{up}") };
    name.parse::<Signal>().map_err(|_| format!("`{s}` is not a signal name (e.g. SIGTERM, SIGINT, SIGKILL)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_alive_and_identified() {
        let me = ProcId::me().expect("own /proc entry");
        assert!(me.alive());
        let other = ProcId { pid: me.pid, start_time: me.start_time + 1 };
        assert!(!other.alive(), "a different start time is a different process");
    }

    #[test]
    fn stop_never_signals_itself_or_init() {
        let me = ProcId::me().expect("own /proc entry");
        let left = stop(std::slice::from_ref(&me), Signal::SIGTERM, Duration::from_millis(10));
        // Filtered out before any signal is sent: we are still here.
        assert!(left.is_empty());
        assert!(me.alive());
    }

    #[test]
    fn signal_names_parse() {
        assert_eq!(parse_signal("SIGTERM"), Ok(Signal::SIGTERM));
        assert_eq!(parse_signal("int"), Ok(Signal::SIGINT));
        assert_eq!(parse_signal("9"), Ok(Signal::SIGKILL));
        assert!(parse_signal("SIGNOPE").is_err());
    }
}
