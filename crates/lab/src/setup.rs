//! What every lab driver (`run`, `load`, `fuzz`) sets up the same way: the subjects (a
//! server, and in the relay topology a relay agent in front of it) resolved from their
//! profiles and checked for their placement, a lab of the matching topology, both
//! processes started (the server first: the relay forwards to it) and stopped again
//! (the relay first) on `stop` or on drop, and free addresses for the clients a driver
//! adds to the site.

use std::net::Ipv4Addr;
use std::path::Path;

use bootcheck_scenario::Site;

use crate::target::Placement;
use crate::{Lab, LabError, LabSpec, Role, RunningTarget, StartOptions, Target, Topology};

/// A server and, behind `--relay`, the relay agent between the harness and it.
#[derive(Debug, Clone)]
pub struct Subjects {
    pub server: Target,
    pub relay: Option<Target>,
}

impl Subjects {
    /// Resolve the profiles (names under `dir`, paths, combinations) and check that the
    /// server runs in the server namespace and the relay in the relay namespace.
    pub fn resolve(dir: &Path, server: &str, relay: Option<&str>) -> Result<Subjects, String> {
        let server = Target::resolve(dir, server).map_err(|e| e.to_string())?;
        if server.profile.namespace != Placement::Server {
            return Err(format!(
                "target `{}` is a relay agent (`namespace: relay`): give it as --relay and a server as --target",
                server.name()
            ));
        }
        let relay = match relay {
            Some(r) => {
                let t = Target::resolve(dir, r).map_err(|e| e.to_string())?;
                if t.profile.namespace != Placement::Relay {
                    return Err(format!(
                        "--relay {r}: the profile does not place it in the relay namespace (`namespace: relay`)"
                    ));
                }
                Some(t)
            }
            None => None,
        };
        Ok(Subjects { server, relay })
    }

    /// Relay with a relay agent, else direct.
    pub fn topology(&self) -> Topology {
        if self.relay.is_some() {
            Topology::Relay
        } else {
            Topology::Direct
        }
    }

    /// The subject a report is about: the relay agent behind `--relay`, else the server.
    pub fn subject(&self) -> &str {
        self.relay.as_ref().unwrap_or(&self.server).name()
    }

    /// Ctrl-C cleanup installed, stale labs reaped, and a lab of this topology up for
    /// `site` (torn down by [`Lab::down`] or on drop).
    pub fn lab_up(&self, site: &Site) -> Result<Lab, String> {
        crate::install_signal_cleanup().map_err(|e| e.to_string())?;
        if let Err(e) = Lab::reap_stale() {
            eprintln!("warning: reaping stale labs: {e}");
        }
        Lab::up(&LabSpec::new(site.clone(), self.topology())).map_err(|e| e.to_string())
    }

    /// Start the server with its files in `server_dir`, then the relay agent (if any) in
    /// `relay_dir`; both dirs are made traversable for daemons that drop privileges. On
    /// an error what was started is stopped again.
    pub fn start<'lab>(
        &self,
        lab: &'lab Lab,
        site: &Site,
        server_dir: &Path,
        relay_dir: &Path,
        opts: &StartOptions,
    ) -> Result<Started<'lab>, String> {
        prepare_dir(server_dir)?;
        let server = self.server.start_with(lab, site, server_dir, opts).map_err(|e| e.to_string())?;
        let relay = match &self.relay {
            Some(t) => {
                prepare_dir(relay_dir)?;
                Some(t.start_with(lab, site, relay_dir, opts).map_err(|e| e.to_string())?)
            }
            None => None,
        };
        Ok(Started { relay, server })
    }
}

/// The started subjects. Stopped by [`Started::stop`] or on drop, the relay agent first.
#[derive(Debug)]
pub struct Started<'lab> {
    // Fields drop in declaration order: the relay before the server it forwards to.
    pub relay: Option<RunningTarget<'lab>>,
    pub server: RunningTarget<'lab>,
}

impl Started<'_> {
    /// `Err((role, Exited))` for the first process found gone: the relay agent is looked
    /// at first (it is the subject when there is one), then the server.
    pub fn check_alive(&mut self) -> Result<(), (Role, LabError)> {
        if let Some(r) = self.relay.as_mut() {
            r.check_alive().map_err(|e| (Role::Relay, e))?;
        }
        self.server.check_alive().map_err(|e| (Role::Server, e))
    }

    /// Whether every process still runs.
    pub fn is_alive(&self) -> bool {
        self.server.is_alive() && self.relay.as_ref().is_none_or(RunningTarget::is_alive)
    }

    /// Copy each log into `dir` as `NAME.log` (each part of a combined server by its
    /// own name, then the relay agent).
    pub fn copy_logs(&self, dir: &Path) {
        for (part, log) in self.server.logs().into_iter().chain(self.relay.iter().flat_map(RunningTarget::logs)) {
            let _ = std::fs::copy(log, dir.join(format!("{part}.log")));
        }
    }

    /// Stop the relay agent, then the server.
    pub fn stop(self) -> Result<(), String> {
        let Started { relay, server } = self;
        let relay = relay.map(RunningTarget::stop).transpose().map_err(|e| e.to_string());
        let server = server.stop().map_err(|e| e.to_string());
        relay.and(server)
    }
}

/// Create `dir` (and its parents), traversable by daemons that drop privileges.
pub fn prepare_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
    Ok(())
}

/// Addresses a driver may give clients of its own (load clients, the fuzz probe client),
/// in ascending order: hosts of the server's subnet or, `relayed`, of the relay subnet
/// (where clients behind a relay agent live) that no site address, client or pool uses.
pub fn free_addresses(site: &Site, relayed: bool) -> Vec<Ipv4Addr> {
    let mut used: Vec<Ipv4Addr> = [site.server.ip, site.router, site.relay.uplink, site.relay.ip]
        .into_iter()
        .chain(site.dns.iter().copied())
        .chain(site.clients.values().map(|c| c.ip))
        .collect();
    used.sort();
    let (lo, hi) = (u32::from(site.pool.start), u32::from(site.pool.end));
    let net = if relayed { site.relay.subnet } else { site.subnet };
    net.hosts().filter(|ip| used.binary_search(ip).is_err() && !(lo..=hi).contains(&u32::from(*ip))).collect()
}

#[cfg(test)]
#[allow(clippy::panic)]
pub(crate) mod tests {
    use super::*;

    /// `scenarios/site.yaml`, for the lab's unit tests.
    pub(crate) fn site() -> Site {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/site.yaml");
        bootcheck_scenario::load_site(&p).unwrap_or_else(|e| panic!("{e}"))
    }

    fn targets() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../targets")
    }

    #[test]
    fn free_addresses_avoid_everything_the_site_uses() {
        let s = site();
        for relayed in [false, true] {
            let free = free_addresses(&s, relayed);
            let net = if relayed { s.relay.subnet } else { s.subnet };
            assert!(!free.is_empty());
            assert!(free.windows(2).all(|w| w[0] < w[1]));
            for ip in &free {
                assert!(net.contains(ip));
                assert!(![s.server.ip, s.router, s.relay.ip, s.relay.uplink].contains(ip));
                assert!(s.clients.values().all(|c| c.ip != *ip));
                assert!(!(s.pool.start..=s.pool.end).contains(ip));
            }
        }
    }

    #[test]
    fn subjects_are_checked_for_their_namespace() {
        let dir = targets();
        let s = Subjects::resolve(&dir, "reference", Some("dhcrelay")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.topology(), Topology::Relay);
        assert_eq!(s.subject(), "dhcrelay");
        let s = Subjects::resolve(&dir, "reference", None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((s.topology(), s.subject()), (Topology::Direct, "reference"));
        let e = Subjects::resolve(&dir, "dhcrelay", None).err().unwrap_or_default();
        assert!(e.contains("is a relay agent"), "{e}");
        let e = Subjects::resolve(&dir, "reference", Some("reference")).err().unwrap_or_default();
        assert!(e.contains("does not place it in the relay namespace"), "{e}");
    }
}
