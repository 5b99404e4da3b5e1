//! Command-line parsing: turns argv into a [`Command`] without touching sockets or signals,
//! so every accepted and rejected form is unit-tested here.

use std::net::{Ipv4Addr, SocketAddr};

/// Name used as the prefix of every diagnostic line, so log readers can tell the stand-in's
/// messages apart from those of the real FrankenPHP binary.
pub const PROGRAM: &str = "orangescrum-sample";

/// Where `php-server` listens without a Caddyfile and without `-l`: FrankenPHP v1.12.1
/// `caddy/php-server.go` lines 280-286 (`:80`, every interface).
pub const DEFAULT_LISTEN: &str = ":80";

/// What the process was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `help`, `--help`, `-h`: usage on stdout, exit 0.
    Help,
    /// `version`, `--version`, `-v`.
    Version,
    /// `php-server [flags]`.
    Server(ServerOptions),
    /// `php-cli ARGS...`: everything after `php-cli`, unparsed (upstream disables flag
    /// parsing for it: `caddy/php-cli.go` line 22).
    PhpCli(Vec<String>),
}

/// Options of the `php-server` subcommand, as given (checked only when used: an embedded
/// `Caddyfile` makes FrankenPHP ignore `--listen`, `--root` and `--domain`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerOptions {
    pub listen: Option<String>,
    pub root: Option<String>,
    pub domain: Option<String>,
    /// Arguments the real FrankenPHP understands (e.g. `--worker`, `--debug`) but the
    /// stand-in does not model, or does not know; kept so `main` can warn about them.
    pub ignored: Vec<String>,
}

/// What `php-cli` does when no PHP is available: the built-in stand-ins of before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Builtin {
    /// `php-cli -v` / `php-cli --version`.
    PhpVersion,
    /// `php-cli bin/cake.php queue worker [options]`.
    QueueWorker {
        /// Worker options (e.g. `--max-runtime=3600`) that the stand-in accepts but ignores.
        ignored: Vec<String>,
    },
    /// `php-cli bin/cake.php recurring_task`: logs a start and an end line (with the pid),
    /// `RECURRING_TASK_SECONDS` apart, so schedulers can be tested for overlap without PHP.
    RecurringTask,
}

/// Why argv could not be turned into a [`Command`]; both cases exit with status 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Nothing at all was given: print only the usage.
    NoArgs,
    /// Something was given but is wrong; the message names it.
    Usage(String),
}

/// Parses the arguments after the program name.
pub fn parse_args(args: &[String]) -> Result<Command, ParseError> {
    let Some((first, rest)) = args.split_first() else {
        return Err(ParseError::NoArgs);
    };
    match first.as_str() {
        "help" | "--help" | "-h" => Ok(Command::Help),
        "version" | "--version" | "-v" => Ok(Command::Version),
        "php-server" => parse_php_server(rest),
        "php-cli" => Ok(Command::PhpCli(rest.to_vec())),
        other => Err(ParseError::Usage(format!("unknown command '{other}'"))),
    }
}

fn parse_php_server(args: &[String]) -> Result<Command, ParseError> {
    let mut options = ServerOptions::default();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, ParseError> {
            match &inline {
                Some(v) => Ok(v.clone()),
                None => iter
                    .next()
                    .cloned()
                    .ok_or_else(|| ParseError::Usage(format!("php-server: {name} needs a value"))),
            }
        };
        // The last occurrence wins, as with pflag (lets a wrapper override).
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "-l" | "--listen" => options.listen = Some(value(flag)?),
            "-r" | "--root" => options.root = Some(value(flag)?),
            "-d" | "--domain" => options.domain = Some(value(flag)?),
            "-w" | "--worker" => {
                let v = value(flag)?;
                options.ignored.extend([flag.to_string(), v]);
            }
            // Boolean flags of upstream, and unknown ones: not modelled. An unknown flag's
            // value (if any) lands here too and is ignored the same way.
            _ => options.ignored.push(arg.clone()),
        }
    }
    Ok(Command::Server(options))
}

/// The built-in behaviour for `php-cli ARGS` when there is no PHP to run them.
pub fn builtin_cli(args: &[String]) -> Result<Builtin, String> {
    match args {
        [flag] if flag == "-v" || flag == "--version" => Ok(Builtin::PhpVersion),
        [script, queue, worker, options @ ..]
            if is_cake_script(script)
                && queue == "queue"
                && worker == "worker"
                && options.iter().all(|o| o.starts_with('-') || o.parse::<f64>().is_ok()) =>
        {
            Ok(Builtin::QueueWorker {
                ignored: options.to_vec(),
            })
        }
        [script, task] if is_cake_script(script) && task == "recurring_task" => {
            Ok(Builtin::RecurringTask)
        }
        [] => Err(
            "php-cli: missing script (without PHP the stand-in runs only 'php-cli bin/cake.php queue worker', 'bin/cake.php recurring_task' and 'php-cli -v')"
                .to_string(),
        ),
        _ => Err(format!(
            "php-cli: unsupported command 'php-cli {}' (no PHP to run it: install php or set \
             ORANGESCRUM_SAMPLE_PHP; without PHP the stand-in only runs \
             'bin/cake.php queue worker', 'bin/cake.php recurring_task' and '-v'/'--version')",
            args.join(" ")
        )),
    }
}

/// The packages may call the CakePHP console relative to the app root or by absolute path
/// (e.g. `/opt/orangescrum/app/bin/cake.php`); both mean the same script.
fn is_cake_script(path: &str) -> bool {
    path == "bin/cake.php" || path.ends_with("/bin/cake.php")
}

/// Parses a FrankenPHP/Caddy-style listen address: `IP:PORT`, `[IPv6]:PORT`, or `:PORT`
/// (all IPv4 interfaces).
///
/// Host names are deliberately not resolved: the binary is linked statically against glibc,
/// where `getaddrinfo` would need the host's NSS modules at run time. `localhost` is the one
/// name accepted, mapped to 127.0.0.1 without any lookup, because it is what people type.
pub fn parse_listen_addr(text: &str) -> Result<SocketAddr, String> {
    let bad = |why: &str| {
        format!("invalid listen address '{text}': {why} (expected IP:PORT or :PORT, e.g. 127.0.0.1:8080)")
    };
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        // Bracketed IPv6: let the std parser handle the whole thing, only the port is
        // validated separately to give a better message.
        let (_, port) = rest.split_once("]:").ok_or_else(|| bad("missing port"))?;
        (None, port)
    } else {
        let (host, port) = text.rsplit_once(':').ok_or_else(|| bad("missing port"))?;
        (Some(host), port)
    };
    let port: u16 = port
        .parse()
        .map_err(|_| bad("port must be a number from 0 to 65535"))?;
    match host {
        None => text.parse().map_err(|_| bad("not a valid IPv6 address")),
        Some("") => Ok(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))),
        Some(h) if h.eq_ignore_ascii_case("localhost") => {
            Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        }
        Some(h) => match h.parse::<Ipv4Addr>() {
            Ok(ip) => Ok(SocketAddr::from((ip, port))),
            Err(_) if h.contains(':') => Err(bad("IPv6 addresses must be written as [IP]:PORT")),
            Err(_) => Err(bad("host names are not resolved; use an IP address")),
        },
    }
}

/// The `version` output; the packages' smoke tests grep for the program name.
pub fn version_line() -> String {
    format!(
        "{PROGRAM} {} (stand-in for FrankenPHP; not the real application)",
        env!("CARGO_PKG_VERSION")
    )
}

/// What `php-cli -v` prints: there is no PHP interpreter inside, so say what would run.
pub fn php_version_text() -> String {
    format!(
        "{}\nphp-cli -v would print the embedded PHP version; this stand-in embeds no PHP interpreter.",
        version_line()
    )
}

/// Usage text listing the whole command-line surface.
pub fn usage() -> String {
    format!(
        "{version}

The binary embeds a PHP app (extracted to $TMPDIR/frankenphp_<checksum>, as FrankenPHP does)
and runs it with the PHP named by ORANGESCRUM_SAMPLE_PHP (a path, or 'none' for the built-in
behaviour), else the php on PATH.

Usage:
  {PROGRAM} php-server [-l ADDR] [-r DIR] [--domain NAME]
      Serve HTTP from the embedded app. When the app has a Caddyfile, its site address,
      bind, root and header rules apply and -l/-r/--domain are ignored (as FrankenPHP);
      otherwise listen on ADDR (IP:PORT or :PORT; default {DEFAULT_LISTEN}) and serve DIR
      (default public/). With PHP, requests that are not static files run the front
      controller; without PHP: GET /home/healthcheck -> 200 {{\"status\":\"ok\"}}, GET / -> an
      info page. Other FrankenPHP flags (e.g. --worker) are accepted and ignored.
  {PROGRAM} php-cli SCRIPT [ARGS...]
      Run SCRIPT with PHP; a SCRIPT that does not exist relative to the current folder is
      taken inside the embedded app. Without PHP only these work:
  {PROGRAM} php-cli bin/cake.php queue worker [options]
      A queue worker stand-in that logs a heartbeat every WORKER_SLEEP
      seconds (environment variable, default 30).
  {PROGRAM} php-cli bin/cake.php recurring_task
      A recurring task stand-in: logs its start and end (with its pid),
      RECURRING_TASK_SECONDS apart (default 0); does no work.
  {PROGRAM} php-cli -v | --version
      Say what the real binary would print.
  {PROGRAM} version | --version | -v
      Print the version.
  {PROGRAM} help | --help | -h
      Print this help.

php-server and the queue worker stop cleanly (exit 0) on SIGTERM or SIGINT.
",
        version = version_line()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn server(list: &[&str]) -> ServerOptions {
        match parse_args(&args(list)) {
            Ok(Command::Server(options)) => options,
            other => panic!("expected php-server for {list:?}, got {other:?}"),
        }
    }

    #[test]
    fn no_args_is_its_own_error() {
        assert_eq!(parse_args(&[]), Err(ParseError::NoArgs));
    }

    #[test]
    fn help_and_version_aliases() {
        for a in ["help", "--help", "-h"] {
            assert_eq!(parse_args(&args(&[a])), Ok(Command::Help), "{a}");
        }
        for a in ["version", "--version", "-v"] {
            assert_eq!(parse_args(&args(&[a])), Ok(Command::Version), "{a}");
        }
        assert_eq!(
            parse_args(&args(&["php-server", "--help"])),
            Ok(Command::Help)
        );
    }

    #[test]
    fn unknown_command_names_it() {
        match parse_args(&args(&["serve"])) {
            Err(ParseError::Usage(m)) => assert!(m.contains("'serve'"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn php_server_flag_forms() {
        assert_eq!(server(&["php-server"]), ServerOptions::default());
        for form in [
            &["php-server", "-l", "127.0.0.1:18080"][..],
            &["php-server", "--listen", "127.0.0.1:18080"],
            &["php-server", "--listen=127.0.0.1:18080"],
            &["php-server", "-l", ":1", "-l", "127.0.0.1:18080"],
        ] {
            assert_eq!(
                server(form).listen.as_deref(),
                Some("127.0.0.1:18080"),
                "{form:?}"
            );
        }
        let o = server(&["php-server", "-r", "webroot", "--domain=example.com"]);
        assert_eq!(o.root.as_deref(), Some("webroot"));
        assert_eq!(o.domain.as_deref(), Some("example.com"));
        assert_eq!(
            server(&["php-server", "--root=x"]).root.as_deref(),
            Some("x")
        );
    }

    #[test]
    fn php_server_ignores_unmodelled_flags() {
        let options = server(&["php-server", "--worker", "w.php,2", "-l", ":80", "--debug"]);
        assert_eq!(options.listen.as_deref(), Some(":80"));
        assert_eq!(options.ignored, args(&["--worker", "w.php,2", "--debug"]));
        assert!(server(&["php-server", "-l", ":80"]).ignored.is_empty());
    }

    #[test]
    fn php_server_missing_values() {
        for bad in [
            &["php-server", "-l"][..],
            &["php-server", "--listen"],
            &["php-server", "-r"],
            &["php-server", "--domain"],
        ] {
            match parse_args(&args(bad)) {
                Err(ParseError::Usage(m)) => assert!(m.contains("needs a value"), "{m}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn listen_addr_forms() {
        let ok = |t: &str| parse_listen_addr(t).unwrap().to_string();
        assert_eq!(ok("127.0.0.1:8080"), "127.0.0.1:8080");
        assert_eq!(ok(":9000"), "0.0.0.0:9000");
        assert_eq!(ok(DEFAULT_LISTEN), "0.0.0.0:80");
        assert_eq!(ok("0.0.0.0:0"), "0.0.0.0:0");
        assert_eq!(ok("localhost:80"), "127.0.0.1:80");
        assert_eq!(ok("[::1]:8080"), "[::1]:8080");
        assert_eq!(ok("[::]:443"), "[::]:443");
    }

    #[test]
    fn listen_addr_rejects_with_reason() {
        let err = |t: &str| parse_listen_addr(t).unwrap_err();
        assert!(err("8080").contains("missing port"));
        assert!(err("").contains("missing port"));
        assert!(err("127.0.0.1:").contains("port must be"));
        assert!(err("127.0.0.1:65536").contains("port must be"));
        assert!(err(":http").contains("port must be"));
        assert!(err("db.internal:80").contains("host names are not resolved"));
        assert!(err("::1:80").contains("[IP]:PORT"));
        assert!(err("[::1]").contains("missing port"));
        assert!(err("[nope]:80").contains("IPv6"));
        assert!(err("300.1.1.1:80").contains("host names"));
        // The message quotes the input so a typo in a unit file is easy to find.
        assert!(err("bogus").contains("'bogus'"));
    }

    #[test]
    fn php_cli_takes_everything_after_it() {
        assert_eq!(
            parse_args(&args(&["php-cli", "bin/cake.php", "migrations", "migrate"])),
            Ok(Command::PhpCli(args(&[
                "bin/cake.php",
                "migrations",
                "migrate"
            ])))
        );
        assert_eq!(
            parse_args(&args(&["php-cli", "-r", "echo 1;"])),
            Ok(Command::PhpCli(args(&["-r", "echo 1;"])))
        );
    }

    #[test]
    fn builtin_cli_forms() {
        assert_eq!(
            builtin_cli(&args(&["bin/cake.php", "queue", "worker"])),
            Ok(Builtin::QueueWorker { ignored: vec![] })
        );
        assert_eq!(
            builtin_cli(&args(&[
                "/opt/app/bin/cake.php",
                "queue",
                "worker",
                "--max-runtime",
                "60",
                "--verbose"
            ])),
            Ok(Builtin::QueueWorker {
                ignored: args(&["--max-runtime", "60", "--verbose"])
            })
        );
        for v in ["-v", "--version"] {
            assert_eq!(builtin_cli(&args(&[v])), Ok(Builtin::PhpVersion));
        }
        assert_eq!(
            builtin_cli(&args(&["bin/cake.php", "recurring_task"])),
            Ok(Builtin::RecurringTask)
        );
    }

    #[test]
    fn builtin_cli_unsupported_names_the_command() {
        for (bad, needle) in [
            (&[][..], "missing script"),
            (
                &["bin/cake.php", "migrations", "migrate"],
                "migrations migrate",
            ),
            (&["bin/cake.php", "queue"], "bin/cake.php queue"),
            (&["bin/cake.php", "queue", "worker", "extra"], "extra"),
            (&["other.php", "queue", "worker"], "other.php"),
            (&["-v", "x"], "-v x"),
            (&["bin/cake.php", "recurring_task", "x"], "recurring_task x"),
        ] {
            match builtin_cli(&args(bad)) {
                Err(m) => assert!(m.contains(needle), "{bad:?}: {m}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn version_and_usage_text() {
        assert_eq!(
            version_line(),
            format!(
                "orangescrum-sample {} (stand-in for FrankenPHP; not the real application)",
                env!("CARGO_PKG_VERSION")
            )
        );
        let u = usage();
        for needle in [
            "php-server",
            "Caddyfile",
            "ORANGESCRUM_SAMPLE_PHP",
            "php-cli bin/cake.php queue worker",
            "WORKER_SLEEP",
            "version",
            "--help",
            "SIGTERM",
        ] {
            assert!(u.contains(needle), "usage lacks {needle}");
        }
    }
}
