//! `orangescrum-sample`: a small stand-in for the OrangeScrum FrankenPHP static binary.
//!
//! The real binary is about 340 MB, which makes demos and package tests slow. This one has
//! the same command-line surface the deployment packages use (`php-server`, `php-cli
//! bin/cake.php queue worker`, `version`), serves a health check, and stops cleanly on
//! SIGTERM/SIGINT, so service files, container entrypoints and health probes can be
//! exercised without the real application. It uses std only so it links statically.

mod cli;
mod http;
mod server;
mod signals;
mod worker;

use std::io::Write;
use std::process::ExitCode;

use cli::{Command, ParseError};

fn main() -> ExitCode {
    // Lossy conversion: the surface is plain ASCII, and a non-UTF-8 argument should become a
    // readable "unsupported" error rather than a panic inside `std::env::args`.
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();

    match cli::parse_args(&args) {
        Ok(command) => run(command),
        Err(ParseError::NoArgs) => {
            eprint!("{}", cli::usage());
            ExitCode::from(2)
        }
        Err(ParseError::Usage(message)) => {
            eprintln!("{}: {message}\n", cli::PROGRAM);
            eprint!("{}", cli::usage());
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> ExitCode {
    match command {
        Command::Help => {
            print_stdout(&cli::usage());
            ExitCode::SUCCESS
        }
        Command::Version => {
            print_stdout(&format!("{}\n", cli::version_line()));
            ExitCode::SUCCESS
        }
        Command::PhpVersion => {
            print_stdout(&format!("{}\n", cli::php_version_text()));
            ExitCode::SUCCESS
        }
        Command::Server(options) => {
            warn_ignored("php-server", &options.ignored);
            server::run(options.listen)
        }
        Command::QueueWorker { ignored } => {
            warn_ignored("php-cli bin/cake.php queue worker", &ignored);
            worker::run()
        }
    }
}

/// Writes to stdout without panicking: `println!` aborts with a panic when stdout is a closed
/// pipe (e.g. `orangescrum-sample version | head -c1`), which would turn a harmless probe
/// into a non-zero exit.
fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// The packages pass real FrankenPHP flags (such as `--root`) that the stand-in has no use
/// for; say so once instead of failing, so the same unit files work with both binaries.
fn warn_ignored(what: &str, ignored: &[String]) {
    if !ignored.is_empty() {
        eprintln!(
            "{}: warning: ignoring arguments not supported by the {what} stand-in: {}",
            cli::PROGRAM,
            ignored.join(" ")
        );
    }
}
