//! End-to-end tests of the built `orangescrum-sample` binary: real processes, real sockets on
//! 127.0.0.1 and real SIGTERM, since that is how the deployment packages drive it.
//!
//! Each test gives the binary its own TMPDIR (where it extracts the embedded app, as
//! FrankenPHP does) and, unless it is about PHP delegation, `ORANGESCRUM_SAMPLE_PHP=none`,
//! so the built-in behaviour is tested whether or not a php is installed. The FrankenPHP
//! v1.12.1 rules are cited where they are tested; the embedded Caddyfile is the packages'
//! `packaging/builder/Caddyfile` (COMMON.md contract 2: address from APP_BIND_IP/APP_PORT).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_orangescrum-sample");

/// A temporary folder removed on drop (the crate is std-only, without `tempfile`).
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "sample-cli-{name}-{}-{:?}",
            std::process::id(),
            Instant::now()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// The extracted app: the one `frankenphp_<checksum>` folder inside.
    fn app(&self) -> PathBuf {
        let found: Vec<PathBuf> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("frankenphp_")
            })
            .collect();
        assert_eq!(found.len(), 1, "{found:?}");
        found[0].clone()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The environment every built-in test runs with: no PHP, its own TMPDIR.
fn builtin_env(tmp: &TempDir) -> Vec<(String, String)> {
    vec![
        ("ORANGESCRUM_SAMPLE_PHP".into(), "none".into()),
        ("TMPDIR".into(), tmp.0.display().to_string()),
    ]
}

/// A started binary whose stderr lines arrive on a channel. Dropping it kills the process,
/// so a failing assertion does not leave a server behind.
struct Running {
    child: Child,
    stderr: Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(args: &[&str], env: &[(String, String)]) -> Running {
        let mut child = Command::new(BIN)
            .args(args)
            .env_remove("PHP_INI_SCAN_DIR")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start orangescrum-sample");
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            stderr: rx,
            seen: Vec::new(),
        }
    }

    /// Waits (bounded) for a stderr line containing `needle` and returns it.
    fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        if let Some(line) = self.seen.iter().find(|l| l.contains(needle)) {
            return line.clone();
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no stderr line containing {needle:?}; saw {:?}", self.seen),
            }
        }
    }

    fn terminate(&mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed: {status}");
    }

    /// Waits (bounded) for the process to exit.
    fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "process did not exit within {timeout:?}"
            );
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Asks the OS for a free port. The listener is dropped before the server binds, so there is
/// a small window in which another process could take the port; acceptable for tests.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_until_connectable(port: u16, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "server did not accept connections on port {port} within {timeout:?}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// Sends raw request bytes and returns (status code, full response text).
fn raw_request(port: u16, request: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read response until the server closes");
    let status = response
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP/1.1 response: {response:?}"));
    (status, response)
}

fn request(port: u16, method: &str, path: &str) -> (u16, String) {
    raw_request(
        port,
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes(),
    )
}

fn body(response: &str) -> &str {
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body)
        .unwrap_or_else(|| panic!("no header terminator in {response:?}"))
}

fn run_to_end(args: &[&str], env: &[(String, String)]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("PHP_INI_SCAN_DIR")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .expect("run orangescrum-sample")
}

#[test]
fn php_server_serves_and_stops_on_sigterm() {
    let tmp = TempDir::new("serve");
    let port = free_port();
    let ignored = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut env = builtin_env(&tmp);
    env.push(("APP_BIND_IP".into(), "127.0.0.1".into()));
    env.push(("APP_PORT".into(), port.to_string()));
    // The embedded app has a Caddyfile, so -l/-r/--domain are not read
    // (caddy/php-server.go lines 113-124, v1.12.1); --worker is not modelled.
    let mut server = Running::start(
        &[
            "php-server",
            "--root",
            "public/",
            "-l",
            &format!("127.0.0.1:{ignored}"),
            "--worker",
            "w.php",
        ],
        &env,
    );
    wait_until_connectable(port, Duration::from_secs(10));
    let line = server.wait_for_line("listening on", Duration::from_secs(5));
    assert!(
        line.contains(&format!(
            "listening on {addr} (stand-in for FrankenPHP php-server)"
        )),
        "{line}"
    );
    let line = server.wait_for_line("ignoring --listen", Duration::from_secs(5));
    assert!(line.contains("--root public/"), "{line}");
    server.wait_for_line("--worker w.php", Duration::from_secs(5));
    assert!(TcpStream::connect(("127.0.0.1", ignored)).is_err());

    let (status, response) = request(port, "GET", "/home/healthcheck");
    assert_eq!(status, 200, "{response}");
    assert!(
        response.contains("Content-Type: application/json\r\n"),
        "{response}"
    );
    assert_eq!(body(&response), r#"{"status":"ok"}"#);
    // The Caddyfile's header rules apply to the built-in answers too.
    assert!(!response.contains("\r\nServer:"), "{response}");
    assert!(
        response.contains("X-Content-Type-Options: nosniff\r\n"),
        "{response}"
    );

    let (status, response) = request(port, "HEAD", "/home/healthcheck");
    assert_eq!(status, 200, "{response}");
    assert_eq!(body(&response), "", "HEAD must have no body");

    let (status, response) = request(port, "GET", "/");
    assert_eq!(status, 200);
    assert!(body(&response).contains("stand-in"), "{response}");

    assert_eq!(request(port, "GET", "/nope").0, 404);
    let (status, response) = request(port, "POST", "/home/healthcheck");
    assert_eq!(status, 405);
    assert!(response.contains("Allow: GET, HEAD\r\n"), "{response}");
    assert_eq!(raw_request(port, b"garbage\r\n\r\n").0, 400);

    // A client that connects and never sends anything must not stop the others or shutdown.
    let _idle = TcpStream::connect(("127.0.0.1", port)).unwrap();
    assert_eq!(request(port, "GET", "/home/healthcheck").0, 200);

    let sent = Instant::now();
    server.terminate();
    let status = server.wait_exit(Duration::from_secs(5));
    assert_eq!(
        status.code(),
        Some(0),
        "exit status after SIGTERM: {status}"
    );
    // The packages rely on a prompt stop; allow generous slack for loaded CI machines.
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "took {:?}",
        sent.elapsed()
    );
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    // frankenphp.go lines 376-379 (v1.12.1): Shutdown() deletes the extracted app.
    server.wait_for_line("removed the extracted app", Duration::from_secs(5));
    let left: Vec<_> = std::fs::read_dir(&tmp.0).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn php_server_bind_failure_exits_1() {
    let tmp = TempDir::new("bind");
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let mut env = builtin_env(&tmp);
    env.push(("APP_BIND_IP".into(), "127.0.0.1".into()));
    env.push(("APP_PORT".into(), addr.port().to_string()));
    let out = run_to_end(&["php-server"], &env);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    drop(taken);
}

#[test]
fn php_server_rejects_host_names_in_app_bind_ip() {
    let tmp = TempDir::new("hostname");
    let mut env = builtin_env(&tmp);
    env.push(("APP_BIND_IP".into(), "example.invalid".into()));
    let out = run_to_end(&["php-server"], &env);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Caddyfile"), "{stderr}");
    assert!(stderr.contains("example.invalid"), "{stderr}");
}

#[test]
fn queue_worker_heartbeats_and_stops_on_sigterm() {
    let tmp = TempDir::new("worker");
    let mut worker = Running::start(
        &["php-cli", "bin/cake.php", "queue", "worker"],
        &[builtin_env(&tmp), vec![("WORKER_SLEEP".into(), "1".into())]].concat(),
    );
    let line = worker.wait_for_line("queue worker started", Duration::from_secs(10));
    assert!(
        line.contains(&format!("(pid {})", worker.child.id())),
        "{line}"
    );
    thread::sleep(Duration::from_millis(1500));
    assert!(
        worker.child.try_wait().unwrap().is_none(),
        "worker exited early"
    );
    worker.wait_for_line("heartbeat", Duration::from_secs(5));

    worker.terminate();
    let status = worker.wait_exit(Duration::from_secs(5));
    assert_eq!(
        status.code(),
        Some(0),
        "exit status after SIGTERM: {status}"
    );
    worker.wait_for_line("queue worker stopping", Duration::from_secs(5));
}

#[test]
fn version_prints_to_stdout() {
    let tmp = TempDir::new("version");
    let env = builtin_env(&tmp);
    let expected = format!(
        "orangescrum-sample {} (stand-in for FrankenPHP; not the real application)\n",
        env!("CARGO_PKG_VERSION")
    );
    for flag in ["version", "--version", "-v"] {
        let out = run_to_end(&[flag], &env);
        assert_eq!(out.status.code(), Some(0), "{flag}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{flag}");
    }
    let out = run_to_end(&["php-cli", "-v"], &env);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("stand-in"));
}

#[test]
fn help_no_args_and_unknown_commands() {
    let tmp = TempDir::new("help");
    let env = builtin_env(&tmp);
    let out = run_to_end(&["--help"], &env);
    assert_eq!(out.status.code(), Some(0));
    let usage = String::from_utf8_lossy(&out.stdout);
    assert!(usage.contains("php-server"), "{usage}");
    assert!(
        usage.contains("php-cli bin/cake.php queue worker"),
        "{usage}"
    );

    let out = run_to_end(&[], &env);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Usage:"));

    let out = run_to_end(&["frobnicate"], &env);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown command 'frobnicate'"), "{stderr}");
    assert!(stderr.contains("Usage:"), "{stderr}");

    // Without PHP only the built-in commands run.
    let out = run_to_end(&["php-cli", "bin/cake.php", "migrations", "migrate"], &env);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("migrations migrate"), "{stderr}");
    assert!(stderr.contains("ORANGESCRUM_SAMPLE_PHP"), "{stderr}");
}

#[test]
fn the_embedded_app_is_extracted_like_frankenphp() {
    // embed.go (v1.12.1): $TMPDIR/frankenphp_<checksum>, files written only when missing.
    let tmp = TempDir::new("extract");
    let env = builtin_env(&tmp);
    assert!(run_to_end(&["php-cli", "-v"], &env).status.success());
    let app = tmp.app();
    let name = app.file_name().unwrap().to_string_lossy().into_owned();
    let checksum = name.strip_prefix("frankenphp_").unwrap();
    assert_eq!(checksum.len(), 16, "{name}");
    assert!(checksum.bytes().all(|b| b.is_ascii_hexdigit()), "{name}");
    for file in [
        "Caddyfile",
        "bin/cake.php",
        "bin/db-lifecycle.php",
        "config/bootstrap.php",
        "config/app_local.php",
        "config/schema/pg_config_1.sql",
        "config/schema/pg_config_2.sql",
        "webroot/index.php",
        "plugins/Payments/config/Migrations",
    ] {
        assert!(
            app.join(file).exists(),
            "{file} missing from {}",
            app.display()
        );
    }
    // An existing file is left alone; a missing one is written again.
    std::fs::write(app.join("webroot/index.php"), "changed").unwrap();
    std::fs::remove_file(app.join("bin/cake.php")).unwrap();
    assert!(run_to_end(&["php-cli", "-v"], &env).status.success());
    assert_eq!(
        std::fs::read_to_string(app.join("webroot/index.php")).unwrap(),
        "changed"
    );
    assert!(app.join("bin/cake.php").is_file());
}

/// A stand-in PHP (a shell script) that reports how it was run: enough to check what the
/// binary hands to PHP without needing one installed.
fn fake_php(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let php = dir.join("fake-php");
    std::fs::write(
        &php,
        r#"#!/bin/sh
if [ "$1" = "-r" ] && [ -n "${REQUEST_METHOD:-}" ]; then
    printf 'Status: 207\n\n'
    for v in REQUEST_METHOD REQUEST_URI QUERY_STRING SCRIPT_FILENAME SCRIPT_NAME HTTP_X_TEST; do
        eval "printf '%s=%s\n' $v \"\${$v-}\""
    done
    printf 'PHP_INI_SCAN_DIR=%s\n' "${PHP_INI_SCAN_DIR-unset}"
    printf 'PWD=%s\n' "$(pwd)"
    exit 0
fi
for a in "$@"; do printf 'ARG=%s\n' "$a"; done
printf 'PHP_INI_SCAN_DIR=%s\n' "${PHP_INI_SCAN_DIR-unset}"
exit 7
"#,
    )
    .unwrap();
    std::fs::set_permissions(&php, std::fs::Permissions::from_mode(0o755)).unwrap();
    php
}

#[test]
fn php_cli_hands_the_resolved_script_to_php() {
    let tmp = TempDir::new("cli-php");
    let php = fake_php(&tmp.0);
    let env = vec![
        (
            "ORANGESCRUM_SAMPLE_PHP".to_string(),
            php.display().to_string(),
        ),
        ("TMPDIR".to_string(), tmp.0.display().to_string()),
    ];
    let out = Command::new(BIN)
        .args([
            "php-cli",
            "bin/cake.php",
            "migrations",
            "migrate",
            "-p",
            "Payments",
        ])
        .env_remove("PHP_INI_SCAN_DIR")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir("/")
        .output()
        .unwrap();
    // PHP's exit status comes back unchanged (the binary execs PHP).
    assert_eq!(out.status.code(), Some(7));
    let app = tmp.app();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // caddy/php-cli.go lines 34-38: bin/cake.php does not exist in / -> taken in the app.
    // php-cli leaves PHP_INI_SCAN_DIR alone (only php-server extends it).
    assert_eq!(
        stdout,
        format!(
            "ARG={}/bin/cake.php\nARG=migrations\nARG=migrate\nARG=-p\nARG=Payments\nPHP_INI_SCAN_DIR=unset\n",
            app.display()
        )
    );
    // -r is resolved like a script too, so PHP gets <app>/-r (lines 34-41).
    let out = run_to_end(&["php-cli", "-r", "echo 1;"], &env);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(&format!("ARG={}/-r\nARG=echo 1;\n", app.display())),
        "{stdout}"
    );
    // A PHP named by ORANGESCRUM_SAMPLE_PHP that is not there is an error naming it.
    let out = run_to_end(
        &["php-cli", "bin/cake.php"],
        &[
            (
                "ORANGESCRUM_SAMPLE_PHP".to_string(),
                "/nonexistent/php".to_string(),
            ),
            ("TMPDIR".to_string(), tmp.0.display().to_string()),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ORANGESCRUM_SAMPLE_PHP=/nonexistent/php"),
        "{stderr}"
    );
}

#[test]
fn php_server_runs_the_front_controller_and_serves_static_files() {
    let tmp = TempDir::new("server-php");
    let php = fake_php(&tmp.0);
    let port = free_port();
    let env = vec![
        (
            "ORANGESCRUM_SAMPLE_PHP".to_string(),
            php.display().to_string(),
        ),
        ("TMPDIR".to_string(), tmp.0.display().to_string()),
        ("APP_BIND_IP".to_string(), "127.0.0.1".to_string()),
        ("APP_PORT".to_string(), port.to_string()),
    ];
    let mut server = Running::start(&["php-server"], &env);
    wait_until_connectable(port, Duration::from_secs(10));
    let app = tmp.app();

    let (status, response) = raw_request(
        port,
        b"GET /home/healthcheck?probe=1 HTTP/1.1\r\nHost: x\r\nX-Test: yes\r\nX-Forwarded-Proto: https\r\n\r\n",
    );
    assert_eq!(status, 207, "{response}");
    let text = body(&response).to_string();
    // php_server { root webroot/ }: the front controller of <app>/webroot
    // (caddy/module.go lines 473-481).
    for line in [
        "REQUEST_METHOD=GET".to_string(),
        "REQUEST_URI=/home/healthcheck?probe=1".to_string(),
        "QUERY_STRING=probe=1".to_string(),
        format!("SCRIPT_FILENAME={}/webroot/index.php", app.display()),
        "SCRIPT_NAME=/index.php".to_string(),
        "HTTP_X_TEST=yes".to_string(),
        format!("PWD={}/webroot", app.display()),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} not in {text}");
    }
    // caddy/php-server.go lines 104-110: php-server appends the app to PHP_INI_SCAN_DIR
    // when the app has a php.ini.
    let want = if app.join("php.ini").is_file() {
        format!("PHP_INI_SCAN_DIR=:{}", app.display())
    } else {
        "PHP_INI_SCAN_DIR=unset".to_string()
    };
    assert!(text.lines().any(|l| l == want), "{want} not in {text}");
    assert!(
        response.contains("Strict-Transport-Security: max-age=31536000"),
        "{response}"
    );

    // A file under the root is served as is, with the Caddyfile's caching for /css/*.
    let (status, response) = request(port, "GET", "/css/app.css");
    assert_eq!(status, 200, "{response}");
    assert_eq!(
        body(&response),
        std::fs::read_to_string(app.join("webroot/css/app.css")).unwrap()
    );
    assert!(response.contains("Content-Type: text/css"), "{response}");
    assert!(response.contains("immutable"), "{response}");
    // Paths that could leave the root are refused.
    assert_eq!(request(port, "GET", "/../Caddyfile").0, 400);

    server.terminate();
    assert_eq!(server.wait_exit(Duration::from_secs(5)).code(), Some(0));
}

#[test]
fn recurring_task_without_php_logs_start_and_end() {
    let tmp = TempDir::new("recurring");
    let mut env = builtin_env(&tmp);
    env.push(("RECURRING_TASK_SECONDS".into(), "1".into()));
    let started = Instant::now();
    let out = run_to_end(&["php-cli", "bin/cake.php", "recurring_task"], &env);
    assert_eq!(out.status.code(), Some(0));
    assert!(started.elapsed() >= Duration::from_secs(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("recurring_task started (pid "), "{stderr}");
    assert!(stderr.contains("recurring_task finished (pid "), "{stderr}");
    env.push(("RECURRING_TASK_SECONDS".into(), "soon".into()));
    let out = run_to_end(&["php-cli", "bin/cake.php", "recurring_task"], &env);
    assert_eq!(out.status.code(), Some(2));
}
