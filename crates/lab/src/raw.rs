//! Raw Ethernet ports inside lab namespaces.
//!
//! A [`RawPort`] is a libpcap handle opened on a short-lived thread that joined the lab
//! namespace (see [`crate::netns::in_namespace`]); its packet socket stays bound to that
//! namespace for its whole life, so frames sent through it can only ever reach the
//! lab's veth. Reads are non-blocking, waited for with `poll(2)` on the capture fd
//! (a blocking read with a timeout was seen to hang on an idle veth).

use std::fmt;
use std::os::fd::AsFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::poll::{PollFd, PollFlags, PollTimeout};
use pcap::{Active, Capture, Precision};

use crate::netns::{in_namespace, Lab, Role};
use crate::pcapng::{self, SharedPcapNg};
use crate::LabError;

/// How a [`RawPort`] captures.
#[derive(Debug, Clone)]
pub struct RawOptions {
    /// `In` (default): only frames that arrived at the interface, never the port's own
    /// sends nor anything else this namespace transmits.
    pub direction: pcap::Direction,
    /// Promiscuous mode (default on: replies unicast to a chaddr that is not the
    /// veth's own MAC must still be seen).
    pub promisc: bool,
    pub snaplen: i32,
}

impl Default for RawOptions {
    fn default() -> Self {
        RawOptions { direction: pcap::Direction::In, promisc: true, snaplen: 65535 }
    }
}

/// A raw Ethernet port on a lab interface.
pub struct RawPort {
    cap: Capture<Active>,
    ns: String,
    iface: String,
    nanos: bool,
    capture: Option<(SharedPcapNg, u32)>,
}

impl fmt::Debug for RawPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawPort")
            .field("ns", &self.ns)
            .field("iface", &self.iface)
            .field("pcapng", &self.capture.as_ref().map(|c| c.1))
            .finish_non_exhaustive()
    }
}

impl RawPort {
    /// The harness-facing veth of `role` (client → client veth, server → server veth,
    /// relay → its client-side veth), default options.
    pub fn open(lab: &Lab, role: Role) -> Result<RawPort, LabError> {
        let iface = lab
            .names()
            .iface(role)
            .ok_or_else(|| LabError::Invalid(format!("a {} lab has no {role} interface", lab.topology())))?
            .to_string();
        RawPort::open_in(lab.ns(role)?, &iface, &RawOptions::default())
    }

    /// `iface` in the namespace of `role`.
    pub fn open_iface(lab: &Lab, role: Role, iface: &str, opts: &RawOptions) -> Result<RawPort, LabError> {
        RawPort::open_in(lab.ns(role)?, iface, opts)
    }

    /// `iface` in the lab namespace `ns` (refused for anything but a bootcheck lab
    /// namespace).
    pub fn open_in(ns: &str, iface: &str, opts: &RawOptions) -> Result<RawPort, LabError> {
        let what = format!("opening a capture on {iface} in {ns}");
        let (cap, nanos) = in_namespace(ns, || {
            let (cap, nanos) = activate(iface, opts, Precision::Nano)
                .map(|c| (c, true))
                .or_else(|_| activate(iface, opts, Precision::Micro).map(|c| (c, false)))
                .map_err(|e| LabError::pcap(what.clone(), e))?;
            let cap = cap.setnonblock().map_err(|e| LabError::pcap(format!("{what}: setnonblock"), e))?;
            cap.direction(opts.direction).map_err(|e| LabError::pcap(format!("{what}: direction"), e))?;
            Ok((cap, nanos))
        })?;
        Ok(RawPort { cap, ns: ns.to_string(), iface: iface.to_string(), nanos, capture: None })
    }

    pub fn ns(&self) -> &str {
        &self.ns
    }
    pub fn iface(&self) -> &str {
        &self.iface
    }

    /// Append every frame sent and received from now on to `w`, as a new interface
    /// named `NS/IFACE`.
    pub fn attach(&mut self, w: &SharedPcapNg) -> Result<(), LabError> {
        let name = format!("{}/{}", self.ns, self.iface);
        let mut g = w.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let id = g
            .add_interface(&name, Some("bootcheck lab port"), pcapng::LINKTYPE_ETHERNET, 65535)
            .map_err(|e| LabError::io("writing a pcapng interface block", e))?;
        drop(g);
        self.capture = Some((w.clone(), id));
        Ok(())
    }

    /// Stop writing frames to the pcapng given to [`RawPort::attach`].
    pub fn detach(&mut self) {
        self.capture = None;
    }

    /// Send one whole Ethernet frame.
    pub fn send(&mut self, frame: &[u8]) -> Result<(), LabError> {
        // Stamp before sending: a fast reply can be read before sendpacket returns.
        let at = SystemTime::now();
        self.cap
            .sendpacket(frame)
            .map_err(|e| LabError::pcap(format!("sending on {} in {}", self.iface, self.ns), e))?;
        self.record(at, frame, pcapng::Direction::Out)
    }

    /// The next frame that arrives before `deadline`, with the time it was read;
    /// `Ok(None)` at the deadline. Returns `Err(Interrupted)` soon after SIGINT/SIGTERM
    /// (see [`crate::install_signal_cleanup`]).
    pub fn recv(&mut self, deadline: Instant) -> Result<Option<(Instant, Vec<u8>)>, LabError> {
        Ok(self.recv_stamped(deadline)?.map(|(at, _, data)| (at, data)))
    }

    /// [`RawPort::recv`], also giving the capture timestamp (when the kernel saw the
    /// frame, which may be well before it was read).
    pub fn recv_stamped(&mut self, deadline: Instant) -> Result<Option<(Instant, SystemTime, Vec<u8>)>, LabError> {
        loop {
            match self.cap.next_packet() {
                Ok(p) => {
                    let at = Instant::now();
                    let ts = timestamp(p.header.ts.tv_sec, p.header.ts.tv_usec, self.nanos);
                    let data = p.data.to_vec();
                    self.record(ts, &data, pcapng::Direction::In)?;
                    return Ok(Some((at, ts, data)));
                }
                Err(pcap::Error::TimeoutExpired) => {}
                Err(e) => return Err(LabError::pcap(format!("reading from {} in {}", self.iface, self.ns), e)),
            }
            crate::signals::check()?;
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            // Wake at least every 100 ms to notice Ctrl-C.
            let wait = (deadline - now).min(Duration::from_millis(100));
            let ms = u16::try_from(wait.as_millis().max(1)).unwrap_or(100);
            let mut fds = [PollFd::new(self.cap.as_fd(), PollFlags::POLLIN)];
            match nix::poll::poll(&mut fds, PollTimeout::from(ms)) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(LabError::sys(format!("poll on {} in {}", self.iface, self.ns), e)),
            }
        }
    }

    /// Throw away every frame already queued.
    pub fn drain(&mut self) -> Result<usize, LabError> {
        let mut n = 0;
        while self.recv(Instant::now())?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    fn record(&mut self, ts: SystemTime, data: &[u8], dir: pcapng::Direction) -> Result<(), LabError> {
        if let Some((w, id)) = &self.capture {
            let mut g = w.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            g.write_packet(*id, ts, data, dir).map_err(|e| LabError::io("writing a pcapng packet block", e))?;
        }
        Ok(())
    }
}

fn activate(iface: &str, opts: &RawOptions, precision: Precision) -> Result<Capture<Active>, pcap::Error> {
    Capture::from_device(iface)?
        .promisc(opts.promisc)
        .immediate_mode(true)
        .snaplen(opts.snaplen)
        .precision(precision)
        .open()
}

fn timestamp(sec: i64, frac: i64, nanos: bool) -> SystemTime {
    let secs = u64::try_from(sec).unwrap_or(0);
    let frac = u32::try_from(frac).unwrap_or(0);
    let sub = if nanos { frac.min(999_999_999) } else { frac.min(999_999).saturating_mul(1000) };
    UNIX_EPOCH + Duration::new(secs, sub)
}
