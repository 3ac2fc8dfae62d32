//! The lab for a non-root user: a private user namespace (`unshare --user --net --mount
//! --map-root-user`, done with the syscalls) in which this process is root for the
//! namespaces it creates, and nothing else.
//!
//! [`enter`] must run while the process has one thread (the kernel refuses
//! `CLONE_NEWUSER` otherwise), so the CLI calls it first thing. After it:
//! - UID/GID 0 inside map to the caller's own UID/GID; files written (the out dir) belong
//!   to the caller;
//! - the process sits in a fresh, empty network namespace of its own, so even a bug can
//!   reach no interface of the machine; the lab's namespaces are created beneath it;
//! - mounts are private: `/run` is a fresh tmpfs (for `/run/netns` and the lab state), and
//!   `/etc` is a copy-on-write overlay (for `/etc/netns/<ns>/hosts`), both gone with the
//!   process. Nothing of the lab is visible from the rest of the machine, and nothing is
//!   left behind if the run is killed: processes the lab starts get a parent-death signal
//!   (see [`active`]), and the namespaces die with the last process in them.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};

use crate::LabError;

static ACTIVE: AtomicBool = AtomicBool::new(false);
static ETC_OVERLAY: AtomicBool = AtomicBool::new(false);

/// Whether this process entered a user namespace with [`enter`].
pub fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

/// Whether `/etc` is a private writable overlay (so per-namespace `/etc` files work).
pub fn etc_writable() -> bool {
    ETC_OVERLAY.load(Ordering::Relaxed)
}

fn threads() -> Option<u32> {
    let s = fs::read_to_string("/proc/self/status").ok()?;
    s.lines().find_map(|l| l.strip_prefix("Threads:")).and_then(|v| v.trim().parse().ok())
}

/// Enter a private user + mount + network namespace (see the module docs). Call before
/// any thread is started. Returns a note for the report on success.
pub fn enter() -> Result<String, LabError> {
    if active() {
        return Ok("already in a bootcheck user namespace".into());
    }
    if threads().is_some_and(|n| n > 1) {
        return Err(LabError::Invalid(
            "entering a user namespace needs a single-threaded process (call it before starting threads)".into(),
        ));
    }
    let uid = nix::unistd::getuid();
    let gid = nix::unistd::getgid();
    unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWNET)
        .map_err(|e| LabError::sys("unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET)", e))?;
    let write = |p: &str, s: String| fs::write(p, s).map_err(|e| LabError::io(format!("writing {p}"), e));
    // setgroups must be denied before an unprivileged process may write gid_map.
    write("/proc/self/setgroups", "deny".into())?;
    write("/proc/self/uid_map", format!("0 {uid} 1\n"))?;
    write("/proc/self/gid_map", format!("0 {gid} 1\n"))?;
    ACTIVE.store(true, Ordering::Relaxed);
    // Nothing mounted from here on may propagate back to the machine's mount namespace.
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
        .map_err(|e| LabError::sys("making / a private mount tree", e))?;
    mount(
        Some("bootcheck-run"),
        "/run",
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("mode=0755,size=16m"),
    )
    .map_err(|e| LabError::sys("mounting a private tmpfs on /run", e))?;
    let mut note = format!("unprivileged: user namespace, uid {uid} mapped to 0, private /run");
    match etc_overlay() {
        Ok(()) => {
            ETC_OVERLAY.store(true, Ordering::Relaxed);
            note.push_str(", /etc overlay");
        }
        Err(e) => {
            note.push_str(&format!(", /etc read-only ({e}; per-namespace /etc files are skipped)"));
        }
    }
    Ok(note)
}

/// Mount a copy-on-write overlay on `/etc` (upper and work dirs on the private `/run`).
fn etc_overlay() -> Result<(), String> {
    let base = Path::new("/run/bootcheck-etc");
    for d in ["upper", "work"] {
        fs::create_dir_all(base.join(d)).map_err(|e| format!("creating {}: {e}", base.join(d).display()))?;
    }
    let data = "lowerdir=/etc,upperdir=/run/bootcheck-etc/upper,workdir=/run/bootcheck-etc/work";
    mount(Some("bootcheck-etc"), "/etc", Some("overlay"), MsFlags::empty(), Some(data))
        .map_err(|e| format!("overlay on /etc: {e}"))?;
    // The machine's own /etc/netns (left by root runs, or holding a root lab running
    // now) belongs to an unmapped root: nothing can be created in it from here. Labs
    // made here get an empty, private one, and do not see (or reap) the machine's.
    if Path::new("/etc/netns").is_dir() {
        mount(
            Some("bootcheck-netns-etc"),
            "/etc/netns",
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some("mode=0755,size=4m"),
        )
        .map_err(|e| format!("tmpfs on /etc/netns: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn thread_count_is_read() {
        assert!(super::threads().is_some_and(|n| n >= 1));
    }
}
