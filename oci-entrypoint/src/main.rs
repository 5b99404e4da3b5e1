//! `/app/entrypoint`, the entrypoint of the release's OCI image. The image has no shell, so
//! this small static program does what `entrypoint.sh` does in the Docker package:
//!
//! - `entrypoint healthcheck`: GET `http://127.0.0.1:$APP_PORT/home/healthcheck`, exit 0 on
//!   a 2xx answer (the image's HEALTHCHECK runs this; there is no wget in the image);
//! - `migrate`, `queue-worker`, `scheduler [SECONDS]`: the database lifecycle, the queue
//!   worker and the recurring task, as the Docker package's `entrypoint.sh` and
//!   `helpers/migrate.sh` run them (see `lifecycle.rs`);
//! - anything else (default `php-server`): check the environment, then `exec` the
//!   application binary with the arguments, so it becomes PID 1 and receives SIGTERM.
//!
//! Configuration comes from the container's environment only; no file is read, and a
//! `.env` is never executed or parsed here.

mod check;
mod health;
mod lifecycle;

use std::{os::unix::process::CommandExt, process::ExitCode};

/// Where the image puts the application binary (set by `cargo xtask dist` at build time).
const APP_BIN: &str = match option_env!("OCI_APP_BINARY") {
    Some(p) => p,
    None => "/app/orangescrum",
};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        args.push("php-server".into());
    }
    match args[0].as_str() {
        "healthcheck" => return health::run(),
        "version" => return exec(&args),
        _ => {}
    }
    if let Err(e) = load_password_file() {
        eprintln!("entrypoint: {e}");
        return ExitCode::from(78);
    }
    let env: Vec<(String, String)> = std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        // Inside the container these are the image's own socket (set in its config), not
        // the operator's publishing choice: checking them would warn on every start.
        .filter(|(k, _)| k != "APP_BIND_IP" && k != "APP_PORT")
        .collect();
    let findings = check::check(&env);
    for f in &findings {
        eprintln!("{f}");
    }
    if findings.iter().any(|f| f.fatal) {
        eprintln!("entrypoint: refusing to start: the environment failed validation (ERROR lines above name each variable and its fix); set the values in the container's environment (compose env_file / Kubernetes Secret) and start again");
        return ExitCode::from(78);
    }
    match args[0].as_str() {
        "migrate" => lifecycle::migrate(APP_BIN),
        "queue-worker" => exec(&lifecycle::worker_args(|k| std::env::var(k).ok())),
        "scheduler" => {
            let interval = match args.get(1).map(|s| s.parse::<u64>()) {
                None => 1800,
                Some(Ok(n)) if n > 0 => n,
                _ => {
                    eprintln!("entrypoint: scheduler takes a whole number of seconds > 0, e.g. scheduler 1800");
                    return ExitCode::from(64);
                }
            };
            lifecycle::scheduler(APP_BIN, interval)
        }
        _ => exec(&args),
    }
}

/// `DB_PASSWORD_FILE` (Docker/Kubernetes secrets), when set, supplies `DB_PASSWORD`.
fn load_password_file() -> Result<(), String> {
    let Ok(path) = std::env::var("DB_PASSWORD_FILE") else {
        return Ok(());
    };
    if path.is_empty() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!("DB_PASSWORD_FILE={path} cannot be read ({e}): mount the secret there readable by the container's user, or unset DB_PASSWORD_FILE and set DB_PASSWORD")
    })?;
    let password = text.strip_suffix('\n').unwrap_or(&text);
    // SAFETY: single-threaded here, before any thread is started or program executed.
    unsafe { std::env::set_var("DB_PASSWORD", password) };
    Ok(())
}

/// Replaces this process with the application binary; returns only on failure.
fn exec(args: &[String]) -> ExitCode {
    let err = std::process::Command::new(APP_BIN).args(args).exec();
    eprintln!("entrypoint: cannot run {APP_BIN}: {err} (the image is incomplete: rebuild it with cargo xtask dist)");
    ExitCode::from(126)
}
