//! Boot file names: how a name in a BOOTREQUEST `file` field (RFC 951 §7.3) or a TFTP
//! RRQ (RFC 1350) maps onto the site's files, which live under `boot.home`.
//!
//! A name is split on `/`; empty and `.` components are dropped. A `..` anywhere makes
//! the name refer outside the served tree. A name starting with `/` must begin with
//! the components of `boot.home` (`/tftpboot/pxelinux.0`); any other absolute name is
//! outside. A relative name (`pxelinux.0`, `boot/kernel.img`) is relative to
//! `boot.home`. Components must match a site file's key exactly (case-sensitive).

use bootcheck_scenario::Site;

/// Where a name leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// A site file: its key in `site.files` (relative to the boot home) and size.
    Found { key: String, size: u64 },
    /// Outside the served tree (`..`, or absolute but not under the boot home).
    Outside,
    /// Inside the tree, but no such file (or not valid UTF-8).
    Missing,
}

/// Resolve `name` against the site's files.
pub(crate) fn lookup(site: &Site, name: &[u8]) -> Lookup {
    let Ok(name) = core::str::from_utf8(name) else {
        return Lookup::Missing;
    };
    let comps: Vec<&str> = name.split('/').filter(|c| !c.is_empty() && *c != ".").collect();
    if comps.contains(&"..") {
        return Lookup::Outside;
    }
    let rest: &[&str] = if name.starts_with('/') {
        let home: Vec<&str> = site.boot.home.split('/').filter(|c| !c.is_empty() && *c != ".").collect();
        match comps.strip_prefix(home.as_slice()) {
            Some(rest) => rest,
            None => return Lookup::Outside,
        }
    } else {
        &comps
    };
    if rest.is_empty() {
        return Lookup::Missing;
    }
    let key = rest.join("/");
    match site.files.get(&key) {
        Some(f) => Lookup::Found { size: f.size, key },
        None => Lookup::Missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/site.yaml");
        bootcheck_scenario::load_site(std::path::Path::new(p)).expect("scenarios/site.yaml loads")
    }

    #[test]
    fn names() {
        let s = site();
        let found = |k: &str, size| Lookup::Found { key: k.to_string(), size };
        assert_eq!(lookup(&s, b"pxelinux.0"), found("pxelinux.0", 100_000));
        assert_eq!(lookup(&s, b"./pxelinux.0"), found("pxelinux.0", 100_000));
        assert_eq!(lookup(&s, b"/tftpboot/pxelinux.0"), found("pxelinux.0", 100_000));
        assert_eq!(lookup(&s, b"//tftpboot//boot/./kernel.img"), found("boot/kernel.img", 4096));
        assert_eq!(lookup(&s, b"boot/kernel.img"), found("boot/kernel.img", 4096));
        assert_eq!(lookup(&s, b"/tftpbootpxelinux.0"), Lookup::Outside);
        assert_eq!(lookup(&s, b"/etc/passwd"), Lookup::Outside);
        assert_eq!(lookup(&s, b"../etc/passwd"), Lookup::Outside);
        assert_eq!(lookup(&s, b"boot/../pxelinux.0"), Lookup::Outside);
        assert_eq!(lookup(&s, b"/tftpboot/../tftpboot/pxelinux.0"), Lookup::Outside);
        assert_eq!(lookup(&s, b"PXELINUX.0"), Lookup::Missing);
        assert_eq!(lookup(&s, b"kernel.img"), Lookup::Missing);
        assert_eq!(lookup(&s, b"/tftpboot"), Lookup::Missing);
        assert_eq!(lookup(&s, b""), Lookup::Missing);
        assert_eq!(lookup(&s, b"\xff"), Lookup::Missing);
    }
}
