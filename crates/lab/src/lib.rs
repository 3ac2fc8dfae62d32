//! # bootcheck-lab
//!
//! The live lab a conformance run talks to real servers through:
//!
//! * [`netns`]: one [`Lab`] per run — network namespaces joined by veth pairs, named
//!   after a random run id, recorded in a state file so a killed run's lab is found and
//!   removed by the next run, and torn down on success, error, panic and Ctrl-C.
//! * [`raw`]: [`RawPort`], a libpcap handle opened *inside* a lab namespace, for sending
//!   and receiving whole Ethernet frames.
//! * [`pcapng`]: a small pcapng writer (one IDB per port, in/out direction flags).
//! * [`target`]: target server profiles (`targets/NAME.yaml`), started inside a lab
//!   namespace with configs rendered from the site.
//! * [`setup`]: the subjects of a run (a server, and a relay agent in front of it in the
//!   relay topology) resolved, their lab brought up, their processes started and stopped.
//! * [`packet`]: batched AF_PACKET sockets (`sendmmsg`/`recvmmsg`) for [`load`], the
//!   load generator (`bootcheck load`) and its null responder.
//!
//! Network safety: live traffic only ever flows inside namespaces this crate creates.
//! Both ends of every veth are created directly inside lab namespaces (never in the
//! root namespace), only RFC 5737 addresses are configured, raw ports refuse to open
//! outside a lab namespace, and processes are stopped by PID (checked against their
//! start time, so a reused PID is never signalled).
#![forbid(unsafe_code)]

mod cmd;
pub mod conformance;
mod error;
pub mod fuzz;
pub mod load;
pub mod netns;
pub mod packet;
pub mod pcapng;
pub mod proc;
pub mod raw;
pub mod relay;
pub mod run;
pub mod setup;
mod signals;
pub mod target;
pub mod userns;

pub use error::LabError;
pub use netns::{
    clean, down, in_namespace, list, privilege, CleanReport, EtcFile, Lab, LabNames, LabSpec, LabState, Privilege,
    ProcRecord, Role, SpawnOptions, Topology,
};
pub use pcapng::{Direction, PcapNgWriter, SharedPcapNg};
pub use proc::ProcId;
pub use raw::{RawOptions, RawPort};
pub use setup::{Started, Subjects};
pub use signals::{install_signal_cleanup, interrupted};
pub use target::{RunningTarget, StartOptions, Target};
