//! Batched AF_PACKET sockets: whole Ethernet frames on one lab interface, many per
//! system call (`sendmmsg`/`recvmmsg` through nix's safe wrappers), for the load
//! generator and the null responder, where libpcap's one call (and one copy into a
//! fresh `Vec`) per frame would be what gets measured.
//!
//! Like [`crate::RawPort`], a [`PacketSocket`] is created on a thread that joined the
//! lab namespace ([`crate::netns::in_namespace`]), so its socket belongs to that
//! namespace for its whole life, and it is bound to one interface there. The interface
//! is found with `getifaddrs(3)` (its `AF_PACKET` entry is a ready `sockaddr_ll`), so no
//! socket address is built by hand.
//!
//! What it sees: every frame arriving on the interface, whatever its destination MAC
//! (a veth hands frames for other MACs to packet sockets as `PACKET_OTHERHOST`; no
//! promiscuous mode needed), and frames other sockets of the namespace send out of it.
//! Never its own sends (the kernel skips the sending socket). Callers filter by content.

use std::fmt;
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags};
use nix::sys::socket::{
    self, recvmmsg, sendmmsg, AddressFamily, MsgFlags, MultiHeaders, SockFlag, SockProtocol, SockType,
};
use nix::sys::time::TimeSpec;

use crate::netns::in_namespace;
use crate::LabError;

/// Largest frame read (an MTU-1500 Ethernet frame with a VLAN tag fits).
pub const FRAME_MAX: usize = 1536;

/// Socket buffer size asked for (both directions): room for a few thousand small
/// frames while the other side is busy.
const SOCKET_BUFFER: usize = 8 << 20;

/// A bound AF_PACKET socket with preallocated batch buffers.
pub struct PacketSocket {
    fd: OwnedFd,
    ns: String,
    iface: String,
    mac: [u8; 6],
    batch: usize,
    rx_headers: MultiHeaders<()>,
    tx_headers: MultiHeaders<()>,
    rx_bufs: Vec<Vec<u8>>,
    rx_lens: Vec<usize>,
}

impl fmt::Debug for PacketSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PacketSocket")
            .field("ns", &self.ns)
            .field("iface", &self.iface)
            .field("batch", &self.batch)
            .finish_non_exhaustive()
    }
}

/// What a send of a batch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sent {
    /// Frames handed to the interface.
    pub sent: usize,
    /// Frames refused for want of buffer space (`ENOBUFS`/`EAGAIN`: the peer's backlog or
    /// the socket's send buffer was full). They were not sent.
    pub refused: usize,
}

impl PacketSocket {
    /// `iface` in the lab namespace `ns` (refused for anything but a bootcheck lab
    /// namespace), reading and writing up to `batch` frames per call.
    pub fn open_in(ns: &str, iface: &str, batch: usize) -> Result<PacketSocket, LabError> {
        let (fd, mac) = in_namespace(ns, || open_bound(iface))?;
        Ok(PacketSocket::wrap(fd, mac, ns, iface, batch))
    }

    /// `iface` in this process's own namespace: for a process the lab started inside a
    /// lab namespace (the null responder). The caller checks where it runs.
    pub fn open_here(iface: &str, batch: usize) -> Result<PacketSocket, LabError> {
        let (fd, mac) = open_bound(iface)?;
        Ok(PacketSocket::wrap(fd, mac, "(own namespace)", iface, batch))
    }

    fn wrap(fd: OwnedFd, mac: [u8; 6], ns: &str, iface: &str, batch: usize) -> PacketSocket {
        let batch = batch.clamp(1, 1024);
        PacketSocket {
            fd,
            ns: ns.to_string(),
            iface: iface.to_string(),
            mac,
            batch,
            rx_headers: MultiHeaders::preallocate(batch, None),
            tx_headers: MultiHeaders::preallocate(batch, None),
            rx_bufs: vec![vec![0u8; FRAME_MAX]; batch],
            rx_lens: vec![0; batch],
        }
    }

    pub fn ns(&self) -> &str {
        &self.ns
    }
    pub fn iface(&self) -> &str {
        &self.iface
    }
    /// The interface's own MAC.
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }
    /// Frames per call.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Send up to [`PacketSocket::batch`] frames at a time, all of `frames` unless the
    /// kernel refuses some for want of buffer space (counted, not retried).
    pub fn send_all<F: AsRef<[u8]>>(&mut self, frames: &[F]) -> Result<Sent, LabError> {
        let mut out = Sent::default();
        let mut rest = frames;
        while !rest.is_empty() {
            let n = rest.len().min(self.batch);
            let (chunk, tail) = rest.split_at(n);
            rest = tail;
            let iovs: Vec<[IoSlice<'_>; 1]> = chunk.iter().map(|f| [IoSlice::new(f.as_ref())]).collect();
            let addrs: Vec<Option<()>> = vec![None; n];
            let mut done = 0;
            while done < n {
                let r = sendmmsg(
                    self.fd.as_raw_fd(),
                    &mut self.tx_headers,
                    iovs[done..].iter(),
                    &addrs[done..],
                    [],
                    MsgFlags::MSG_DONTWAIT,
                );
                match r {
                    Ok(res) => {
                        let k = res.count();
                        if k == 0 {
                            out.refused += n - done;
                            break;
                        }
                        done += k;
                        out.sent += k;
                    }
                    // The first frame of what is left was refused: skip it, go on.
                    Err(Errno::ENOBUFS | Errno::EAGAIN) => {
                        out.refused += 1;
                        done += 1;
                    }
                    Err(Errno::EINTR) => {}
                    Err(e) => return Err(LabError::sys(format!("sending on {} in {}", self.iface, self.ns), e)),
                }
            }
        }
        Ok(out)
    }

    /// Read the frames already queued (up to one batch) without waiting, and hand each
    /// to `f`. Returns how many.
    pub fn recv_batch(&mut self, mut f: impl FnMut(&[u8])) -> Result<usize, LabError> {
        let n = {
            let mut iovs: Vec<[IoSliceMut<'_>; 1]> =
                self.rx_bufs.iter_mut().map(|b| [IoSliceMut::new(b.as_mut_slice())]).collect();
            let r = recvmmsg(self.fd.as_raw_fd(), &mut self.rx_headers, iovs.iter_mut(), MsgFlags::MSG_DONTWAIT, None);
            match r {
                Ok(res) => {
                    let mut n = 0;
                    for (len, m) in self.rx_lens.iter_mut().zip(res) {
                        *len = m.bytes;
                        n += 1;
                    }
                    n
                }
                Err(Errno::EAGAIN | Errno::EINTR) => 0,
                Err(e) => return Err(LabError::sys(format!("reading from {} in {}", self.iface, self.ns), e)),
            }
        };
        for (buf, len) in self.rx_bufs.iter().zip(&self.rx_lens).take(n) {
            f(&buf[..(*len).min(buf.len())]);
        }
        Ok(n)
    }

    /// Wait until a frame is queued or `timeout` passes (`ppoll`: microsecond
    /// resolution, plus the kernel's timer slack; zero polls once). `Ok(true)`:
    /// something to read.
    pub fn wait(&self, timeout: Duration) -> Result<bool, LabError> {
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        match nix::poll::ppoll(&mut fds, Some(TimeSpec::from_duration(timeout)), None) {
            Ok(n) => Ok(n > 0),
            Err(Errno::EINTR) => Ok(false),
            Err(e) => Err(LabError::sys(format!("poll on {} in {}", self.iface, self.ns), e)),
        }
    }

    /// Throw away every frame already queued.
    pub fn drain(&mut self) -> Result<usize, LabError> {
        let mut total = 0;
        loop {
            let n = self.recv_batch(|_| {})?;
            total += n;
            if n == 0 {
                return Ok(total);
            }
        }
    }
}

/// Create an AF_PACKET socket for every protocol, bound to `iface` of the current
/// namespace (the calling thread's), with large buffers; and the interface's MAC.
fn open_bound(iface: &str) -> Result<(OwnedFd, [u8; 6]), LabError> {
    let link = nix::ifaddrs::getifaddrs()
        .map_err(|e| LabError::sys("getifaddrs", e))?
        .filter(|a| a.interface_name == iface)
        .find_map(|a| a.address.and_then(|s| s.as_link_addr().copied()))
        .ok_or_else(|| {
            LabError::Invalid(format!("no interface {iface} here (getifaddrs has no link address for it)"))
        })?;
    let mac = link.addr().unwrap_or([0; 6]);
    let fd = socket::socket(
        AddressFamily::Packet,
        SockType::Raw,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        SockProtocol::EthAll,
    )
    .map_err(|e| LabError::sys("creating an AF_PACKET socket", e))?;
    // The link address from getifaddrs has protocol 0: the socket keeps ETH_P_ALL.
    socket::bind(fd.as_raw_fd(), &link).map_err(|e| LabError::sys(format!("binding a packet socket to {iface}"), e))?;
    // Forcing the sizes past rmem_max needs CAP_NET_ADMIN (root, or the lab's user
    // namespace); fall back to what the limits allow.
    if socket::setsockopt(&fd, socket::sockopt::RcvBufForce, &SOCKET_BUFFER).is_err() {
        let _ = socket::setsockopt(&fd, socket::sockopt::RcvBuf, &SOCKET_BUFFER);
    }
    if socket::setsockopt(&fd, socket::sockopt::SndBufForce, &SOCKET_BUFFER).is_err() {
        let _ = socket::setsockopt(&fd, socket::sockopt::SndBuf, &SOCKET_BUFFER);
    }
    Ok((fd, mac))
}
