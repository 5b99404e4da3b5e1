//! `/app/entrypoint`, the entrypoint of the release's OCI image. The image has no shell, so
//! this small static program does what `entrypoint.sh` does in the Docker package:
//!
//! - `entrypoint healthcheck`: GET `http://127.0.0.1:$APP_PORT/home/healthcheck`, exit 0 on
//!   a 2xx answer (the image's HEALTHCHECK runs this; there is no wget in the image);
//! - anything else (default `php-server`): check the environment, then `exec` the
//!   application binary with the arguments, so it becomes PID 1 and receives SIGTERM.
//!
//! Configuration comes from the container's environment only; no file is read, and a
//! `.env` is never executed or parsed here.

mod check;
mod health;

use std::{os::unix::process::CommandExt, process::ExitCode};

/// Where the image puts the application binary (set by `cargo xtask dist` at build time).
const APP_BIN: &str = match option_env!("OCI_APP_BINARY") {
    Some(p) => p,
    None => "/app/orangescrum",
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("healthcheck") => health::run(),
        Some("version") => exec(&args),
        _ => {
            let env: Vec<(String, String)> = std::env::vars_os()
                .map(|(k, v)| {
                    (
                        k.to_string_lossy().into_owned(),
                        v.to_string_lossy().into_owned(),
                    )
                })
                .collect();
            let findings = check::check(&env);
            for f in &findings {
                eprintln!("{f}");
            }
            if findings.iter().any(|f| f.fatal) {
                eprintln!("entrypoint: refusing to start: the environment failed validation (ERROR lines above name each variable and its fix); set the values in the container's environment (compose env_file / Kubernetes Secret) and start again");
                return ExitCode::from(78);
            }
            if args.is_empty() {
                exec(&["php-server".to_string()])
            } else {
                exec(&args)
            }
        }
    }
}

/// Replaces this process with the application binary; returns only on failure.
fn exec(args: &[String]) -> ExitCode {
    let err = std::process::Command::new(APP_BIN).args(args).exec();
    eprintln!("entrypoint: cannot run {APP_BIN}: {err} (the image is incomplete: rebuild it with cargo xtask dist)");
    ExitCode::from(126)
}
