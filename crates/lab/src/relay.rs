//! The relay topology seen from both sides: while a scenario runs on the client link,
//! a tap in the server namespace records every frame on the server's link (the relay
//! agent's forwarded requests, the server's replies to it). Both sides are merged by
//! time into one list — the scenario's pcapng is written from it, so its packet numbers
//! are the ones rule evidence names — and the relay rules run over each exchange.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use bootcheck_scenario::engine::{Dir, ExecutionResult};

use crate::pcapng::{self, Direction, PcapNgWriter};
use crate::{LabError, RawOptions, RawPort};

/// Which link a frame was seen on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The client link: what the harness sent and received.
    Client,
    /// The server link, behind the relay agent.
    Server,
}

/// One frame of a relayed scenario, on either link.
#[derive(Debug, Clone)]
pub struct SeenFrame {
    pub side: Side,
    /// Since the scenario started.
    pub at: Duration,
    /// On the client link: sent by the harness.
    pub sent: bool,
    /// On the client link: the scenario step it belongs to.
    pub step: Option<usize>,
    pub frame: Vec<u8>,
}

/// A capture on a lab link (both directions), running in its own thread until stopped;
/// each frame goes to `on_frame` with the thread's state `T`, which [`LinkTap::stop`]
/// returns.
#[derive(Debug)]
pub struct LinkTap<T> {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Result<T, LabError>>>,
}

/// The server link's frames while a scenario runs, with their capture times.
pub type ServerTap = LinkTap<Vec<(SystemTime, Vec<u8>)>>;

impl ServerTap {
    /// Start capturing both directions on `iface` in namespace `ns`, keeping every frame.
    pub fn start(ns: &str, iface: &str) -> Result<ServerTap, LabError> {
        LinkTap::start_with(ns, iface, Vec::new(), |v, ts, f| v.push((ts, f)))
    }
}

impl<T: Send + 'static> LinkTap<T> {
    /// Start capturing both directions on `iface` in namespace `ns`.
    pub fn start_with(
        ns: &str,
        iface: &str,
        state: T,
        mut on_frame: impl FnMut(&mut T, SystemTime, Vec<u8>) + Send + 'static,
    ) -> Result<LinkTap<T>, LabError> {
        let opts = RawOptions { direction: pcap::Direction::InOut, ..RawOptions::default() };
        let mut port = RawPort::open_in(ns, iface, &opts)?;
        let _ = port.drain();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name(format!("tap-{iface}"))
            .spawn(move || {
                let mut state = state;
                loop {
                    let done = flag.load(Ordering::Relaxed);
                    match port.recv_stamped(Instant::now() + Duration::from_millis(20)) {
                        Ok(Some((_, ts, f))) => on_frame(&mut state, ts, f),
                        Ok(None) if done => return Ok(state),
                        Ok(None) => {}
                        Err(LabError::Interrupted) => return Ok(state),
                        Err(e) => return Err(e),
                    }
                }
            })
            .map_err(|e| LabError::io("starting a link tap", e))?;
        Ok(LinkTap { stop, handle: Some(handle) })
    }

    /// Stop after a short grace (frames in flight), and return the state.
    pub fn stop(mut self) -> Result<T, LabError> {
        std::thread::sleep(Duration::from_millis(50));
        self.stop.store(true, Ordering::Relaxed);
        match self.handle.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(LabError::Invalid("a link tap thread panicked".into())),
            None => Err(LabError::Invalid("a link tap stopped twice".into())),
        }
    }
}

impl<T> Drop for LinkTap<T> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Merge the harness's trace (times since the engine started, at `t0`) and the
/// server-link frames (capture timestamps: when the kernel saw them, so a frame read
/// late by the tap thread still sorts where it happened) into one time-ordered list.
pub fn merge(result: &ExecutionResult, t0: SystemTime, server: Vec<(SystemTime, Vec<u8>)>) -> Vec<SeenFrame> {
    let mut all: Vec<SeenFrame> = result
        .trace
        .iter()
        .map(|t| SeenFrame {
            side: Side::Client,
            at: t.at,
            sent: t.dir == Dir::Out,
            step: t.step,
            frame: t.frame.clone(),
        })
        .collect();
    all.extend(server.into_iter().map(|(i, f)| SeenFrame {
        side: Side::Server,
        at: i.duration_since(t0).unwrap_or(Duration::ZERO),
        sent: false,
        step: None,
        frame: f,
    }));
    // Stable: frames of one side keep their order.
    all.sort_by_key(|f| f.at);
    all
}

/// Write the merged frames as a pcapng with two interfaces (client link, server link),
/// in list order: packet N of the file is element N-1.
pub fn write_pcap(
    path: &std::path::Path,
    frames: &[SeenFrame],
    epoch: SystemTime,
    names: (&str, &str),
) -> Result<(), LabError> {
    let mut w = PcapNgWriter::create(path)?;
    let io = |e| LabError::io(format!("writing {}", path.display()), e);
    let c =
        w.add_interface(names.0, Some("client link (harness port)"), pcapng::LINKTYPE_ETHERNET, 65535).map_err(io)?;
    let s = w.add_interface(names.1, Some("server link (tap)"), pcapng::LINKTYPE_ETHERNET, 65535).map_err(io)?;
    for f in frames {
        let (iface, dir) = match (f.side, f.sent) {
            (Side::Client, true) => (c, Direction::Out),
            (Side::Client, false) => (c, Direction::In),
            (Side::Server, _) => (s, Direction::Unknown),
        };
        w.write_packet(iface, epoch + f.at, &f.frame, dir).map_err(io)?;
    }
    w.finish().map(|_| ()).map_err(io)
}
