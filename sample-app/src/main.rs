//! `orangescrum-sample`: a small stand-in for the OrangeScrum FrankenPHP static binary.
//!
//! The real binary is about 340 MB, which makes demos and package tests slow. This one has
//! the same command-line surface the deployment packages use (`php-server`, `php-cli
//! SCRIPT ...`, `version`) and follows FrankenPHP v1.12.1's rules where the packages depend
//! on them: it embeds a PHP app (a fixture shaped like OrangeScrum, plus what the release
//! build adds) and extracts it to `$TMPDIR/frankenphp_<checksum>` ([`embed`]); `php-server`
//! takes its address, document root and headers from the app's `Caddyfile` when there is
//! one ([`site`], [`caddyfile`]); `php-cli` resolves scripts inside the app ([`php`]).
//!
//! It embeds no PHP interpreter: with a `php` available (`ORANGESCRUM_SAMPLE_PHP` or `PATH`)
//! it runs the app's scripts with that one; without, it answers the health check itself and
//! runs a heartbeat-only queue worker, as before. It stops cleanly on SIGTERM/SIGINT, and
//! uses std only so it links statically.

mod caddyfile;
mod cli;
mod embed;
mod http;
mod php;
mod server;
mod signals;
mod site;
mod worker;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use cli::{Builtin, Command, ParseError, ServerOptions};

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
        Err(ParseError::Usage(message)) => usage_error(&message),
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("{}: {message}\n", cli::PROGRAM);
    eprint!("{}", cli::usage());
    ExitCode::from(2)
}

fn fail(message: &str) -> ExitCode {
    eprintln!("{}: error: {message}", cli::PROGRAM);
    ExitCode::from(1)
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
        Command::Server(options) => {
            warn_ignored("php-server", &options.ignored);
            match php_server(&options) {
                Ok(code) => code,
                Err(message) => fail(&message),
            }
        }
        Command::PhpCli(args) => php_cli(&args),
    }
}

/// Extracts the embedded app, as FrankenPHP does at start-up of every command.
fn app() -> Result<PathBuf, String> {
    embed::extract_embedded().map_err(|e| {
        format!(
            "cannot extract the embedded app below {} ({e}); set TMPDIR to a writable folder",
            std::env::temp_dir().display()
        )
    })
}

fn php_server(options: &ServerOptions) -> Result<ExitCode, String> {
    let app = app()?;
    // caddy/php-server.go lines 82-86: php-server works from inside the embedded app.
    std::env::set_current_dir(&app)
        .map_err(|e| format!("cannot change into {}: {e}", app.display()))?;
    if app.join("php.ini").is_file() {
        let previous = std::env::var("PHP_INI_SCAN_DIR").ok();
        // Single-threaded here: no other thread reads the environment yet.
        std::env::set_var(
            "PHP_INI_SCAN_DIR",
            site::ini_scan_dir(previous.as_deref(), &app),
        );
    }
    let caddyfile_path = app.join("Caddyfile");
    let caddyfile = match std::fs::read_to_string(&caddyfile_path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read {}: {e}", caddyfile_path.display())),
    };
    let plan = site::plan(&app, caddyfile.as_deref(), options, &|k| {
        std::env::var(k).ok()
    })?;
    if !plan.overridden.is_empty() {
        eprintln!(
            "{}: warning: the embedded app has a Caddyfile, which decides the address and root; \
             ignoring {} (as FrankenPHP php-server does)",
            cli::PROGRAM,
            plan.overridden.join(", ")
        );
    }
    if let Some(what) = &plan.unmodelled {
        eprintln!("{}: warning: {what}", cli::PROGRAM);
    }
    if let Some(site) = &plan.site {
        for what in &site.ignored {
            eprintln!(
                "{}: note: Caddyfile {what}: not modelled by the stand-in",
                cli::PROGRAM
            );
        }
    }
    let php = php::php_from_env()?;
    match &php {
        Some(p) => eprintln!(
            "{}: serving {} with PHP {}",
            cli::PROGRAM,
            plan.docroot.display(),
            p.display()
        ),
        None => eprintln!(
            "{}: no PHP ({}=none or no php on PATH): built-in routes only",
            cli::PROGRAM,
            php::PHP_ENV
        ),
    }
    let listen = plan.listen;
    let server = Arc::new(site::Server { plan, php });
    let code = server::run(
        listen,
        Arc::new(move |head: &[u8], local, peer| server.respond(head, local, peer)),
    );
    if code == ExitCode::SUCCESS {
        // A graceful stop ends in frankenphp.Shutdown(), which deletes the extracted app
        // (frankenphp.go lines 376-379, v1.12.1), also under other processes using it.
        match std::fs::remove_dir_all(&app) {
            Ok(()) => eprintln!(
                "{}: removed the extracted app {} (as FrankenPHP does on shutdown)",
                cli::PROGRAM,
                app.display()
            ),
            Err(e) => eprintln!(
                "{}: warning: cannot remove {}: {e}",
                cli::PROGRAM,
                app.display()
            ),
        }
    }
    Ok(code)
}

fn php_cli(args: &[String]) -> ExitCode {
    let app = match app() {
        Ok(app) => app,
        Err(message) => return fail(&message),
    };
    let php = match php::php_from_env() {
        Ok(php) => php,
        Err(message) => return fail(&message),
    };
    match php {
        Some(php) => {
            let Some((first, rest)) = args.split_first() else {
                // caddy/php-cli.go lines 30-32.
                return fail("the path to the PHP script is required");
            };
            let script = php::resolve_script(Some(&app), first, &|p| Path::new(p).exists());
            let mut full = vec![script];
            full.extend_from_slice(rest);
            php::exec_cli(&php, &full)
        }
        None => match cli::builtin_cli(args) {
            Ok(Builtin::PhpVersion) => {
                print_stdout(&format!("{}\n", cli::php_version_text()));
                ExitCode::SUCCESS
            }
            Ok(Builtin::QueueWorker { ignored }) => {
                warn_ignored("php-cli bin/cake.php queue worker", &ignored);
                worker::run()
            }
            Ok(Builtin::RecurringTask) => worker::recurring_task(),
            Err(message) => usage_error(&message),
        },
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
