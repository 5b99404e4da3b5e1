//! Command-line parsing: turns argv into a [`Command`] without touching sockets or signals,
//! so every accepted and rejected form is unit-tested here.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

/// Name used as the prefix of every diagnostic line, so log readers can tell the stand-in's
/// messages apart from those of the real FrankenPHP binary.
pub const PROGRAM: &str = "orangescrum-sample";

/// Where `php-server` listens when no `-l`/`--listen` is given.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 1), 8080));

/// What the process was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `help`, `--help`, `-h`: usage on stdout, exit 0.
    Help,
    /// `version`, `--version`, `-v`.
    Version,
    /// `php-cli -v` / `php-cli --version`.
    PhpVersion,
    /// `php-server [-l ADDR]`.
    Server(ServerOptions),
    /// `php-cli bin/cake.php queue worker [options]`.
    QueueWorker {
        /// Worker options (e.g. `--max-runtime=3600`) that the stand-in accepts but ignores.
        ignored: Vec<String>,
    },
}

/// Options of the `php-server` subcommand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOptions {
    pub listen: SocketAddr,
    /// Arguments the real FrankenPHP understands (e.g. `--root public/`) but the stand-in
    /// does not; kept so `main` can warn about them instead of failing.
    pub ignored: Vec<String>,
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
        "php-cli" => parse_php_cli(rest),
        other => Err(ParseError::Usage(format!("unknown command '{other}'"))),
    }
}

fn parse_php_server(args: &[String]) -> Result<Command, ParseError> {
    let mut listen = DEFAULT_LISTEN;
    let mut ignored = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let value = match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-l" | "--listen" => Some(
                iter.next()
                    .ok_or_else(|| {
                        ParseError::Usage(format!("php-server: {arg} needs an address"))
                    })?
                    .as_str(),
            ),
            other => other.strip_prefix("--listen="),
        };
        match value {
            // The last occurrence wins, as with most CLI parsers (lets a wrapper override).
            Some(value) => listen = parse_listen_addr(value).map_err(ParseError::Usage)?,
            // php-server takes no positional arguments, so anything else is either an
            // unsupported flag or that flag's value; both are ignored (with a warning).
            None => ignored.push(arg.clone()),
        }
    }
    Ok(Command::Server(ServerOptions { listen, ignored }))
}

fn parse_php_cli(args: &[String]) -> Result<Command, ParseError> {
    match args {
        [flag] if flag == "-v" || flag == "--version" => Ok(Command::PhpVersion),
        [script, queue, worker, options @ ..]
            if is_cake_script(script)
                && queue == "queue"
                && worker == "worker"
                && options.iter().all(|o| o.starts_with('-')) =>
        {
            Ok(Command::QueueWorker {
                ignored: options.to_vec(),
            })
        }
        [] => Err(ParseError::Usage(
            "php-cli: missing script (supported: 'php-cli bin/cake.php queue worker', 'php-cli -v')"
                .to_string(),
        )),
        _ => Err(ParseError::Usage(format!(
            "php-cli: unsupported command 'php-cli {}' (the stand-in only runs \
             'bin/cake.php queue worker' and '-v'/'--version')",
            args.join(" ")
        ))),
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

Usage:
  {PROGRAM} php-server [-l ADDR | --listen ADDR | --listen=ADDR]
      Serve HTTP on ADDR (IP:PORT or :PORT for all interfaces; default {DEFAULT_LISTEN}).
      GET /home/healthcheck -> 200 {{\"status\":\"ok\"}}; GET / -> an info page.
      Other FrankenPHP flags (e.g. --root DIR) are accepted and ignored with a warning.
  {PROGRAM} php-cli bin/cake.php queue worker
      Run a queue worker stand-in that logs a heartbeat every QUEUE_HEARTBEAT_SECS
      seconds (environment variable, default 30).
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
    fn php_server_default_and_listen_forms() {
        assert_eq!(server(&["php-server"]).listen, DEFAULT_LISTEN);
        let want: SocketAddr = "127.0.0.1:18080".parse().unwrap();
        assert_eq!(
            server(&["php-server", "-l", "127.0.0.1:18080"]).listen,
            want
        );
        assert_eq!(
            server(&["php-server", "--listen", "127.0.0.1:18080"]).listen,
            want
        );
        assert_eq!(
            server(&["php-server", "--listen=127.0.0.1:18080"]).listen,
            want
        );
        // Last one wins.
        assert_eq!(
            server(&["php-server", "-l", ":1", "-l", "127.0.0.1:18080"]).listen,
            want
        );
    }

    #[test]
    fn php_server_ignores_unknown_flags_and_their_values() {
        let options = server(&["php-server", "--root", "public/", "-l", ":80", "--debug"]);
        assert_eq!(options.listen, "0.0.0.0:80".parse().unwrap());
        assert_eq!(options.ignored, args(&["--root", "public/", "--debug"]));
        assert!(server(&["php-server", "-l", ":80"]).ignored.is_empty());
    }

    #[test]
    fn php_server_listen_errors() {
        for bad in [
            &["php-server", "-l"][..],
            &["php-server", "--listen"],
            &["php-server", "-l", "example.com:80"],
            &["php-server", "--listen=8080"],
        ] {
            assert!(
                matches!(parse_args(&args(bad)), Err(ParseError::Usage(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn listen_addr_forms() {
        let ok = |t: &str| parse_listen_addr(t).unwrap().to_string();
        assert_eq!(ok("127.0.0.1:8080"), "127.0.0.1:8080");
        assert_eq!(ok(":9000"), "0.0.0.0:9000");
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
    fn php_cli_forms() {
        assert_eq!(
            parse_args(&args(&["php-cli", "bin/cake.php", "queue", "worker"])),
            Ok(Command::QueueWorker { ignored: vec![] })
        );
        assert_eq!(
            parse_args(&args(&[
                "php-cli",
                "/opt/app/bin/cake.php",
                "queue",
                "worker",
                "--max-runtime=60"
            ])),
            Ok(Command::QueueWorker {
                ignored: args(&["--max-runtime=60"])
            })
        );
        for v in ["-v", "--version"] {
            assert_eq!(parse_args(&args(&["php-cli", v])), Ok(Command::PhpVersion));
        }
    }

    #[test]
    fn php_cli_unsupported_names_the_command() {
        for (bad, needle) in [
            (&["php-cli"][..], "missing script"),
            (
                &["php-cli", "bin/cake.php", "migrations", "migrate"],
                "migrations migrate",
            ),
            (&["php-cli", "bin/cake.php", "queue"], "bin/cake.php queue"),
            (
                &["php-cli", "bin/cake.php", "queue", "worker", "extra"],
                "extra",
            ),
            (&["php-cli", "other.php", "queue", "worker"], "other.php"),
            (&["php-cli", "-v", "x"], "-v x"),
        ] {
            match parse_args(&args(bad)) {
                Err(ParseError::Usage(m)) => assert!(m.contains(needle), "{bad:?}: {m}"),
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
            "--listen=ADDR",
            "php-cli bin/cake.php queue worker",
            "QUEUE_HEARTBEAT_SECS",
            "version",
            "--help",
            "SIGTERM",
        ] {
            assert!(u.contains(needle), "usage lacks {needle}");
        }
    }
}
