//! End-to-end tests of the built `orangescrum-sample` binary: real processes, real sockets on
//! 127.0.0.1 and real SIGTERM, since that is how the deployment packages drive it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_orangescrum-sample");

/// A started binary whose stderr lines arrive on a channel. Dropping it kills the process,
/// so a failing assertion does not leave a server behind.
struct Running {
    child: Child,
    stderr: Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Running {
        let mut child = Command::new(BIN)
            .args(args)
            .envs(env.iter().copied())
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

fn run_to_end(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run orangescrum-sample")
}

#[test]
fn php_server_serves_and_stops_on_sigterm() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    // `--root` is a real FrankenPHP flag the packages pass; it must only cause a warning.
    let mut server = Running::start(&["php-server", "--root", "public/", "-l", &addr], &[]);
    wait_until_connectable(port, Duration::from_secs(10));
    let line = server.wait_for_line("listening on", Duration::from_secs(5));
    assert!(
        line.contains(&format!(
            "listening on {addr} (stand-in for FrankenPHP php-server)"
        )),
        "{line}"
    );
    server.wait_for_line("warning: ignoring", Duration::from_secs(5));

    let (status, response) = request(port, "GET", "/home/healthcheck");
    assert_eq!(status, 200, "{response}");
    assert!(
        response.contains("Content-Type: application/json\r\n"),
        "{response}"
    );
    assert_eq!(body(&response), r#"{"status":"ok"}"#);

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
}

#[test]
fn php_server_bind_failure_exits_1() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run_to_end(&["php-server", "--listen", &addr]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    drop(taken);
}

#[test]
fn php_server_rejects_host_names() {
    let out = run_to_end(&["php-server", "--listen=example.invalid:80"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("example.invalid:80"), "{stderr}");
}

#[test]
fn queue_worker_heartbeats_and_stops_on_sigterm() {
    let mut worker = Running::start(
        &["php-cli", "bin/cake.php", "queue", "worker"],
        &[("QUEUE_HEARTBEAT_SECS", "1")],
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
    let expected = format!(
        "orangescrum-sample {} (stand-in for FrankenPHP; not the real application)\n",
        env!("CARGO_PKG_VERSION")
    );
    for flag in ["version", "--version", "-v"] {
        let out = run_to_end(&[flag]);
        assert_eq!(out.status.code(), Some(0), "{flag}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{flag}");
    }
    let out = run_to_end(&["php-cli", "-v"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("stand-in"));
}

#[test]
fn help_no_args_and_unknown_commands() {
    let out = run_to_end(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let usage = String::from_utf8_lossy(&out.stdout);
    assert!(usage.contains("php-server"), "{usage}");
    assert!(
        usage.contains("php-cli bin/cake.php queue worker"),
        "{usage}"
    );

    let out = run_to_end(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Usage:"));

    let out = run_to_end(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown command 'frobnicate'"), "{stderr}");
    assert!(stderr.contains("Usage:"), "{stderr}");

    let out = run_to_end(&["php-cli", "bin/cake.php", "migrations", "migrate"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("migrations migrate"), "{stderr}");
}
