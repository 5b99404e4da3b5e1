//! Queue worker stand-in for `php-cli bin/cake.php queue worker`: stays alive, logs a
//! heartbeat so supervisors and log shippers see activity, and exits 0 on SIGTERM/SIGINT.

use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use crate::cli::PROGRAM;
use crate::signals;

/// Environment variable holding the heartbeat period in whole seconds.
pub const HEARTBEAT_ENV: &str = "WORKER_SLEEP";
const DEFAULT_HEARTBEAT_SECS: u64 = 30;

/// How often the shutdown flag is checked: short so `docker stop` / `systemctl stop` return
/// at once, long enough to cost nothing while idle.
const POLL: Duration = Duration::from_millis(50);

/// Reads the heartbeat period from the value of [`HEARTBEAT_ENV`]. An invalid value falls
/// back to the default with a warning rather than failing: a typo in an environment file
/// should not stop a worker from starting.
pub fn heartbeat_interval(value: Option<&str>) -> (Duration, Option<String>) {
    let default = Duration::from_secs(DEFAULT_HEARTBEAT_SECS);
    let Some(raw) = value else {
        return (default, None);
    };
    match raw.trim().parse::<u64>() {
        // Zero would mean a heartbeat on every poll; a day caps obviously mistaken values.
        Ok(secs @ 1..=86_400) => (Duration::from_secs(secs), None),
        _ => (
            default,
            Some(format!(
                "{HEARTBEAT_ENV}='{raw}' is not a number of seconds from 1 to 86400; \
                 using {DEFAULT_HEARTBEAT_SECS}"
            )),
        ),
    }
}

/// Runs until SIGTERM or SIGINT.
pub fn run() -> ExitCode {
    signals::install();
    let env_value = std::env::var(HEARTBEAT_ENV).ok();
    let (interval, warning) = heartbeat_interval(env_value.as_deref());
    if let Some(warning) = warning {
        eprintln!("{PROGRAM}: warning: {warning}");
    }
    eprintln!(
        "{PROGRAM}: queue worker started (pid {}); heartbeat every {}s; stand-in, no jobs are processed",
        std::process::id(),
        interval.as_secs()
    );

    let started = Instant::now();
    let mut next_beat = started + interval;
    while !signals::shutdown_requested() {
        let now = Instant::now();
        if now >= next_beat {
            eprintln!(
                "{PROGRAM}: queue worker heartbeat: idle, uptime {}s",
                now.duration_since(started).as_secs()
            );
            // Schedule from the previous beat so the period does not drift with poll jitter.
            next_beat += interval;
        }
        thread::sleep(POLL.min(next_beat.saturating_duration_since(now)));
    }
    eprintln!("{PROGRAM}: queue worker stopping");
    ExitCode::SUCCESS
}

/// Environment variable: how long the recurring-task stand-in takes, in whole seconds.
pub const RECURRING_ENV: &str = "RECURRING_TASK_SECONDS";

/// Reads [`RECURRING_ENV`]: 0..=3600 seconds, default 0; anything else is an error.
pub fn recurring_duration(value: Option<&str>) -> Result<Duration, String> {
    match value.map(str::trim) {
        None | Some("") => Ok(Duration::ZERO),
        Some(raw) => match raw.parse::<u64>() {
            Ok(secs @ 0..=3600) => Ok(Duration::from_secs(secs)),
            _ => Err(format!(
                "{RECURRING_ENV}='{raw}' is not a number of seconds from 0 to 3600"
            )),
        },
    }
}

/// `php-cli bin/cake.php recurring_task` without PHP: a start line and an end line with the
/// pid, so a scheduler's "never two at once" can be checked from its log. SIGTERM ends it
/// early with exit 0, like the worker.
pub fn recurring_task() -> ExitCode {
    signals::install();
    let duration = match recurring_duration(std::env::var(RECURRING_ENV).ok().as_deref()) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{PROGRAM}: error: {e}");
            return ExitCode::from(2);
        }
    };
    let pid = std::process::id();
    eprintln!(
        "{PROGRAM}: recurring_task started (pid {pid}); stand-in without PHP, no work is done"
    );
    let end = Instant::now() + duration;
    while Instant::now() < end && !signals::shutdown_requested() {
        thread::sleep(POLL.min(end.saturating_duration_since(Instant::now())));
    }
    eprintln!("{PROGRAM}: recurring_task finished (pid {pid})");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recurring_duration_values() {
        assert_eq!(recurring_duration(None), Ok(Duration::ZERO));
        assert_eq!(recurring_duration(Some(" 3 ")), Ok(Duration::from_secs(3)));
        for bad in ["-1", "x", "3601", "1.5"] {
            let e = recurring_duration(Some(bad)).unwrap_err();
            assert!(e.contains(RECURRING_ENV) && e.contains(bad), "{e}");
        }
    }

    #[test]
    fn default_when_unset() {
        assert_eq!(heartbeat_interval(None), (Duration::from_secs(30), None));
    }

    #[test]
    fn valid_values() {
        assert_eq!(heartbeat_interval(Some("1")).0, Duration::from_secs(1));
        assert_eq!(heartbeat_interval(Some(" 45 ")).0, Duration::from_secs(45));
        assert!(heartbeat_interval(Some("86400")).1.is_none());
    }

    #[test]
    fn invalid_values_fall_back_with_warning() {
        for bad in ["", "0", "-1", "1.5", "ten", "86401"] {
            let (interval, warning) = heartbeat_interval(Some(bad));
            assert_eq!(interval, Duration::from_secs(30), "{bad:?}");
            let warning = warning.unwrap_or_else(|| panic!("no warning for {bad:?}"));
            assert!(warning.contains(HEARTBEAT_ENV), "{warning}");
        }
    }
}
