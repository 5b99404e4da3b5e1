//! Running the embedded app with a real PHP when one is available (COMMON.md contract 5):
//! the stand-in has no PHP inside, so it hands scripts to `ORANGESCRUM_SAMPLE_PHP` or the
//! `php` on `PATH`, the way FrankenPHP hands them to its embedded interpreter.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::cli::PROGRAM;

/// Chooses the PHP: `none` disables, a path picks one, unset/empty searches `PATH`.
pub const PHP_ENV: &str = "ORANGESCRUM_SAMPLE_PHP";

/// Longest a request may run PHP before the server answers 504 and kills it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Which PHP to use, from the values of [`PHP_ENV`] and `PATH`.
pub fn choose_php(
    setting: Option<&str>,
    path_var: Option<&str>,
) -> Result<Option<PathBuf>, String> {
    match setting {
        Some("none") => Ok(None),
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            if is_executable(&p) {
                Ok(Some(p))
            } else {
                Err(format!(
                    "{PHP_ENV}={}: not an executable file (give the path of a php binary, or 'none' for the built-in behaviour)",
                    p.display()
                ))
            }
        }
        _ => Ok(path_var
            .unwrap_or("")
            .split(':')
            .filter(|d| !d.is_empty())
            .map(|d| Path::new(d).join("php"))
            .find(|p| is_executable(p))),
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The PHP of this process's environment.
pub fn php_from_env() -> Result<Option<PathBuf>, String> {
    choose_php(
        std::env::var(PHP_ENV).ok().as_deref(),
        std::env::var("PATH").ok().as_deref(),
    )
}

/// Go's `filepath.Join(app, script)`: concatenation then lexical cleaning, so even an
/// absolute script path lands inside the app.
pub fn join_clean(app: &Path, script: &str) -> PathBuf {
    let joined = PathBuf::from(format!("{}/{}", app.display(), script));
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The script argument of `php-cli` as FrankenPHP v1.12.1 resolves it for an embedded app
/// (`caddy/php-cli.go` lines 34-38): when `os.Stat(script)` fails relative to the current
/// directory, the script is taken inside the app. This applies to the first argument
/// whatever it is, so `-r` becomes `<app>/-r` too, and the `args[0] == "-r"` check
/// (line 41) no longer sees it: `php-cli -r CODE` then fails to open a script.
pub fn resolve_script(app: Option<&Path>, first: &str, exists: &dyn Fn(&str) -> bool) -> String {
    match app {
        Some(app) if !exists(first) => join_clean(app, first).display().to_string(),
        _ => first.to_string(),
    }
}

/// `php-cli ARGS` with a PHP: replaces this process by PHP running the resolved script
/// (or `-r CODE`, only reachable when a file named `-r` exists in the current directory,
/// as upstream). `PHP_INI_SCAN_DIR` is passed on unchanged: FrankenPHP's `php-cli` does
/// not add the app's php.ini.
pub fn exec_cli(php: &Path, args: &[String]) -> ExitCode {
    let mut cmd = Command::new(php);
    match args {
        [flag, code, rest @ ..] if flag == "-r" => {
            cmd.arg("-r").arg(code);
            if !rest.is_empty() {
                cmd.arg("--").args(rest);
            }
        }
        [script, rest @ ..] => {
            cmd.arg(script).args(rest);
        }
        [] => {}
    }
    let err = cmd.exec();
    eprintln!("{PROGRAM}: error: cannot run {}: {err}", php.display());
    ExitCode::from(1)
}

/// PHP code that runs a front controller under the CLI SAPI like a web request: it
/// restores the CGI variables the CLI overwrites, buffers the output and, at shutdown,
/// prints `Status: N` and a blank line before the body. The CLI SAPI drops `header()`
/// calls, so only the status (from `http_response_code()`, 500 after a fatal error) and the
/// body come back.
const SHIM: &str = r#"
foreach (['SCRIPT_NAME', 'SCRIPT_FILENAME', 'PHP_SELF', 'DOCUMENT_ROOT', 'PATH_INFO'] as $k) {
    $v = getenv($k);
    if ($v !== false) { $_SERVER[$k] = $v; }
}
unset($_SERVER['argv'], $_SERVER['argc']);
$_GET = [];
parse_str((string) getenv('QUERY_STRING'), $_GET);
$_REQUEST = $_GET;
ob_start();
register_shutdown_function(function () {
    $body = '';
    while (ob_get_level() > 0) { $body = ob_get_clean() . $body; }
    $code = http_response_code();
    $e = error_get_last();
    if ($e !== null && in_array($e['type'], [E_ERROR, E_PARSE, E_CORE_ERROR, E_COMPILE_ERROR, E_USER_ERROR], true)) {
        $code = 500;
    }
    fwrite(STDOUT, 'Status: ' . ($code ?: 200) . "\n\n" . $body);
});
chdir(dirname($_SERVER['SCRIPT_FILENAME']));
require $_SERVER['SCRIPT_FILENAME'];
"#;

/// A request handed to PHP.
pub struct PhpRequest<'a> {
    pub method: &'a str,
    pub target: &'a str,
    pub headers: &'a [(String, String)],
    pub docroot: &'a Path,
    pub script: &'a Path,
    pub server_addr: std::net::SocketAddr,
    pub peer: std::net::SocketAddr,
}

/// The CGI/1.1 variables (RFC 3875) of a request, as (name, value).
pub fn cgi_env(req: &PhpRequest<'_>) -> Vec<(String, String)> {
    let query = req.target.split_once('?').map_or("", |(_, q)| q);
    let script_name = format!(
        "/{}",
        req.script
            .strip_prefix(req.docroot)
            .unwrap_or(req.script)
            .display()
    );
    let mut env = vec![
        ("GATEWAY_INTERFACE", "CGI/1.1".to_string()),
        (
            "SERVER_SOFTWARE",
            format!("{PROGRAM}/{}", env!("CARGO_PKG_VERSION")),
        ),
        ("SERVER_PROTOCOL", "HTTP/1.1".to_string()),
        ("SERVER_ADDR", req.server_addr.ip().to_string()),
        ("SERVER_PORT", req.server_addr.port().to_string()),
        ("REMOTE_ADDR", req.peer.ip().to_string()),
        ("REMOTE_PORT", req.peer.port().to_string()),
        ("REQUEST_METHOD", req.method.to_string()),
        ("REQUEST_URI", req.target.to_string()),
        ("QUERY_STRING", query.to_string()),
        ("DOCUMENT_ROOT", req.docroot.display().to_string()),
        ("SCRIPT_FILENAME", req.script.display().to_string()),
        ("SCRIPT_NAME", script_name.clone()),
        ("PHP_SELF", script_name),
        ("REQUEST_SCHEME", "http".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect::<Vec<_>>();
    let mut server_name = None;
    for (name, value) in req.headers {
        let key = name.to_ascii_uppercase().replace('-', "_");
        match key.as_str() {
            // httpoxy: a client must not be able to set the PHP's proxy.
            "PROXY" => continue,
            "CONTENT_TYPE" | "CONTENT_LENGTH" => env.push((key, value.clone())),
            _ => {
                if key == "HOST" {
                    server_name = Some(value.rsplit_once(':').map_or(value.as_str(), |(h, _)| h));
                }
                env.push((format!("HTTP_{key}"), value.clone()));
            }
        }
    }
    env.push((
        "SERVER_NAME".to_string(),
        server_name.unwrap_or("localhost").to_string(),
    ));
    env
}

/// What a PHP run answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhpOutput {
    pub status: u16,
    /// The header fields the script set (`header()`), `Status` taken out. Empty under the
    /// CLI SAPI, which drops them.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// The CGI SAPI beside `php` (`php-cgi` in the same folder, as Debian's php-cgi installs
/// it), when there is one. FrankenPHP sends the headers a script sets; the CGI SAPI hands
/// them back, the CLI SAPI drops them, so requests go to `php-cgi` whenever it is there.
pub fn cgi_sibling(php: &Path) -> Option<PathBuf> {
    let cgi = php.with_file_name("php-cgi");
    is_executable(&cgi).then_some(cgi)
}

/// Splits a CGI response (RFC 3875 section 6): header lines up to a blank line, then the
/// body. `Status: NNN reason` sets the status; otherwise a `Location` makes it 302 and
/// anything else 200.
pub fn parse_cgi_output(out: &[u8]) -> Option<PhpOutput> {
    let (head_end, body_start) = match out.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(p) => (p, p + 4),
        None => {
            let p = out.windows(2).position(|w| w == b"\n\n")?;
            (p, p + 2)
        }
    };
    let head = std::str::from_utf8(&out[..head_end]).ok()?;
    let mut status = None;
    let mut headers = Vec::new();
    for line in head.lines() {
        let (name, value) = line.split_once(':')?;
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("status") {
            let code: u16 = value.split_whitespace().next()?.parse().ok()?;
            if !(100..=999).contains(&code) {
                return None;
            }
            status = Some(code);
        } else {
            headers.push((name.to_string(), value.to_string()));
        }
    }
    let redirect = headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("location"));
    Some(PhpOutput {
        status: status.unwrap_or(if redirect { 302 } else { 200 }),
        headers,
        body: out[body_start..].to_vec(),
    })
}

/// Splits the shim's output: `Status: N\n\n` then the body.
pub fn parse_output(out: &[u8]) -> Option<PhpOutput> {
    let text_end = out.windows(2).position(|w| w == b"\n\n")?;
    let head = std::str::from_utf8(&out[..text_end]).ok()?;
    let status: u16 = head.strip_prefix("Status: ")?.trim().parse().ok()?;
    if !(100..=999).contains(&status) {
        return None;
    }
    Some(PhpOutput {
        status,
        headers: Vec::new(),
        body: out[text_end + 2..].to_vec(),
    })
}

/// Runs one request through PHP, bounded by [`REQUEST_TIMEOUT`]: through `php-cgi` when
/// it sits beside `php` ([`cgi_sibling`]), else through the CLI SAPI and [`SHIM`]. `Err`
/// carries the status to answer (502 when PHP failed, 504 on timeout).
pub fn run_request(php: &Path, req: &PhpRequest<'_>) -> Result<PhpOutput, (u16, String)> {
    let cgi = cgi_sibling(php);
    let mut cmd = match &cgi {
        Some(cgi) => {
            let mut c = Command::new(cgi);
            // php-cgi runs only what a server hands it (its force-cgi-redirect check).
            c.env("REDIRECT_STATUS", "200");
            c
        }
        None => {
            let mut c = Command::new(php);
            c.arg("-r").arg(SHIM);
            c
        }
    };
    cmd.current_dir(req.docroot)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // Variables of an earlier request never leak in: the server's own environment has none
    // of these, and a header can only produce HTTP_* names.
    for (k, v) in cgi_env(req) {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| (502, format!("cannot start {}: {e}", php.display())))?;
    let mut stdout = child.stdout.take().expect("piped");
    let reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + REQUEST_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err((504, format!("PHP ran longer than {REQUEST_TIMEOUT:?}")));
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err((502, format!("waiting for PHP: {e}"))),
        }
    };
    let out = reader
        .join()
        .map_err(|_| (502, "reading PHP output failed".to_string()))?;
    let parsed = match cgi {
        Some(_) => parse_cgi_output(&out),
        None => parse_output(&out),
    };
    match parsed {
        Some(o) => Ok(o),
        None => Err((
            502,
            format!(
                "PHP exited with {status} without an answer: {}",
                String::from_utf8_lossy(&out[..out.len().min(500)])
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choose_php_rules() {
        assert_eq!(choose_php(Some("none"), Some("/usr/bin:/bin")), Ok(None));
        let e = choose_php(Some("/nonexistent/php"), None).unwrap_err();
        assert!(e.contains(PHP_ENV) && e.contains("/nonexistent/php"), "{e}");
        // A PATH without php finds none; an empty setting means "search PATH".
        assert_eq!(choose_php(None, Some("/nonexistent")), Ok(None));
        assert_eq!(choose_php(Some(""), Some("")), Ok(None));
        let dir = std::env::temp_dir().join(format!("sample-php-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let php = dir.join("php");
        std::fs::write(&php, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&php, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = format!("/nonexistent:{}", dir.display());
        assert_eq!(choose_php(None, Some(&path)), Ok(Some(php.clone())));
        assert_eq!(
            choose_php(Some(php.to_str().unwrap()), None),
            Ok(Some(php.clone()))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn script_resolution_follows_php_cli_go() {
        // caddy/php-cli.go lines 34-38 (v1.12.1).
        let app = Path::new("/tmp/frankenphp_abc");
        let none = |_: &str| false;
        let all = |_: &str| true;
        assert_eq!(
            resolve_script(Some(app), "bin/cake.php", &none),
            "/tmp/frankenphp_abc/bin/cake.php"
        );
        // Found relative to the current directory: kept as given.
        assert_eq!(
            resolve_script(Some(app), "bin/cake.php", &all),
            "bin/cake.php"
        );
        // filepath.Join also puts a missing absolute path inside the app, and cleans "..".
        assert_eq!(
            resolve_script(Some(app), "/opt/x/bin/cake.php", &none),
            "/tmp/frankenphp_abc/opt/x/bin/cake.php"
        );
        assert_eq!(
            resolve_script(Some(app), "bin/../webroot/./index.php", &none),
            "/tmp/frankenphp_abc/webroot/index.php"
        );
        // -r is resolved like a script (line 41 then no longer sees "-r").
        assert_eq!(
            resolve_script(Some(app), "-r", &none),
            "/tmp/frankenphp_abc/-r"
        );
        // Without an embedded app nothing is rewritten.
        assert_eq!(resolve_script(None, "-r", &none), "-r");
    }

    #[test]
    fn cgi_env_has_the_request() {
        let headers = vec![
            ("Host".to_string(), "example.test:8080".to_string()),
            ("X-Forwarded-Proto".to_string(), "https".to_string()),
            ("Proxy".to_string(), "evil".to_string()),
            ("Content-Type".to_string(), "text/plain".to_string()),
        ];
        let req = PhpRequest {
            method: "GET",
            target: "/home/healthcheck?a=1&b=2",
            headers: &headers,
            docroot: Path::new("/app/webroot"),
            script: Path::new("/app/webroot/index.php"),
            server_addr: "127.0.0.1:8080".parse().unwrap(),
            peer: "127.0.0.1:5555".parse().unwrap(),
        };
        let env = cgi_env(&req);
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("REQUEST_URI"), Some("/home/healthcheck?a=1&b=2"));
        assert_eq!(get("QUERY_STRING"), Some("a=1&b=2"));
        assert_eq!(get("REQUEST_METHOD"), Some("GET"));
        assert_eq!(get("SCRIPT_NAME"), Some("/index.php"));
        assert_eq!(get("HTTP_X_FORWARDED_PROTO"), Some("https"));
        assert_eq!(get("CONTENT_TYPE"), Some("text/plain"));
        assert_eq!(get("SERVER_NAME"), Some("example.test"));
        assert_eq!(get("HTTP_PROXY"), None);
    }

    #[test]
    fn shim_output_parsing() {
        assert_eq!(
            parse_output(b"Status: 503\n\n{\"db\":false}"),
            Some(PhpOutput {
                status: 503,
                headers: Vec::new(),
                body: b"{\"db\":false}".to_vec()
            })
        );
        assert_eq!(parse_output(b"Fatal error"), None);
        assert_eq!(parse_output(b"Status: x\n\n"), None);
    }

    #[test]
    fn cgi_output_parsing() {
        // What Debian's php-cgi 8.2 printed for header('X-Fixture: seen') and a Location.
        let out = parse_cgi_output(
            b"Status: 302 Found\r\nX-Fixture: seen\r\nLocation: /x\r\nContent-type: text/html; charset=UTF-8\r\n\r\nbody",
        )
        .unwrap();
        assert_eq!(out.status, 302);
        assert_eq!(
            out.headers,
            [
                ("X-Fixture".to_string(), "seen".to_string()),
                ("Location".to_string(), "/x".to_string()),
                (
                    "Content-type".to_string(),
                    "text/html; charset=UTF-8".to_string()
                ),
            ]
        );
        assert_eq!(out.body, b"body");
        // No Status: 200, or 302 with a Location (RFC 3875 6.2.3).
        assert_eq!(parse_cgi_output(b"A: b\n\nx").unwrap().status, 200);
        assert_eq!(parse_cgi_output(b"Location: /y\n\n").unwrap().status, 302);
        assert_eq!(parse_cgi_output(b"no header block"), None);
        assert_eq!(parse_cgi_output(b"Status: 99x\r\n\r\n"), None);
    }
}
