//! SIGTERM/SIGINT handling: the handlers only set an atomic flag that the long-running loops
//! poll, which is the one thing that is async-signal-safe to do from a handler.
//!
//! Installing handlers matters most in Docker, where the binary runs as PID 1: the kernel
//! does not apply the default "terminate" action to PID 1, so without a handler `docker stop`
//! would wait its full timeout and then SIGKILL the container.

use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, Ordering};

// Same numbers on Linux, the BSDs and macOS, the only platforms the packages target.
const SIGINT: c_int = 2;
const SIGTERM: c_int = 15;
/// `SIG_ERR` is `(sighandler_t) -1`.
const SIG_ERR: usize = usize::MAX;

extern "C" {
    // Declared by hand because the crate is std-only (no `libc` crate). glibc's `signal`
    // has BSD semantics: the handler stays installed and the flags include SA_RESTART.
    fn signal(signum: c_int, handler: extern "C" fn(c_int)) -> usize;
}

static SHUTDOWN: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_signum: c_int) {
    // A lock-free atomic store: no allocation, no locks, no I/O in the handler.
    SHUTDOWN.store(true, Ordering::SeqCst);
}

/// Installs the SIGTERM and SIGINT handlers. Failure is only reported: the process then keeps
/// the default actions, which still stop it outside of PID 1.
pub fn install() {
    for (signum, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
        // SAFETY: `on_signal` has the C handler signature and only touches an atomic.
        let previous = unsafe { signal(signum, on_signal) };
        if previous == SIG_ERR {
            eprintln!(
                "{}: warning: could not install {name} handler: {}",
                crate::cli::PROGRAM,
                std::io::Error::last_os_error()
            );
        }
    }
}

/// True once SIGTERM or SIGINT has been received.
pub fn shutdown_requested() -> bool {
    SHUTDOWN.load(Ordering::SeqCst)
}
