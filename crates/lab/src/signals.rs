//! Ctrl-C handling: SIGINT/SIGTERM become a flag the driver polls, so the run unwinds
//! normally and every [`crate::Lab`] is torn down by its `Drop`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use signal_hook::consts::{SIGINT, SIGTERM};

use crate::LabError;

fn flag() -> &'static Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// Turn SIGINT and SIGTERM into the [`interrupted`] flag instead of killing the
/// process, so the driver can stop at its next check and let every lab tear down
/// through `Drop`. A *second* SIGINT/SIGTERM while the flag is already set exits at
/// once with status 130 (the lab is then left behind and removed by the next run's
/// [`crate::Lab::reap_stale`]). Call once, early in `main`; calling again is harmless.
pub fn install_signal_cleanup() -> Result<(), LabError> {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    if INSTALLED.get().is_some() {
        return Ok(());
    }
    let f = flag();
    for sig in [SIGINT, SIGTERM] {
        // Registered first, so it sees the flag as it was before this signal set it.
        signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(f))
            .map_err(|e| LabError::io(format!("installing the handler for signal {sig}"), e))?;
        signal_hook::flag::register(sig, Arc::clone(f))
            .map_err(|e| LabError::io(format!("installing the handler for signal {sig}"), e))?;
    }
    let _ = INSTALLED.set(());
    Ok(())
}

/// Whether SIGINT/SIGTERM arrived since [`install_signal_cleanup`].
pub fn interrupted() -> bool {
    flag().load(Ordering::SeqCst)
}

/// `Err(Interrupted)` once a signal arrived: `check_interrupted()?` in loops.
pub(crate) fn check() -> Result<(), LabError> {
    if interrupted() {
        Err(LabError::Interrupted)
    } else {
        Ok(())
    }
}
