//! The `php-server` socket loop: a non-blocking listener polled together with the shutdown
//! flag, and one short-lived thread per connection (bounded), each with a hard deadline.
//! All HTTP decisions are made by the pure functions in [`crate::http`].

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::cli::PROGRAM;
use crate::http::{self, MAX_HEAD_BYTES};
use crate::signals;

/// Accept-loop sleep when no connection is pending. It bounds both the shutdown latency
/// (the packages expect an exit within ~100 ms of SIGTERM) and the idle CPU cost.
const POLL: Duration = Duration::from_millis(20);

/// Total time a client gets to send its request head, however it trickles the bytes in;
/// a per-read timeout alone would let a slow client hold a thread forever.
const REQUEST_DEADLINE: Duration = Duration::from_secs(5);

/// Time allowed for writing the response to a client that does not read it.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections handled at once; beyond this, clients get an immediate 503 instead of a
/// new thread, so a flood cannot exhaust memory or thread limits.
const MAX_CONNECTIONS: usize = 64;

/// How long shutdown waits for in-flight requests before exiting anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(50);

/// Answers one request: (request head, local address, peer address) -> response.
pub type Handler = dyn Fn(&[u8], SocketAddr, SocketAddr) -> http::Response + Send + Sync;

/// Binds `addr` and serves until SIGTERM or SIGINT. Exit code 1 if the address cannot be
/// bound, 0 after a signal.
pub fn run(addr: SocketAddr, handler: Arc<Handler>) -> ExitCode {
    signals::install();
    let listener = match TcpListener::bind(addr) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("{PROGRAM}: error: cannot listen on {addr}: {e}");
            return ExitCode::from(1);
        }
    };
    if let Err(e) = listener.set_nonblocking(true) {
        eprintln!("{PROGRAM}: error: cannot make listener on {addr} non-blocking: {e}");
        return ExitCode::from(1);
    }
    // Print the bound address rather than the requested one so `:0` shows the real port.
    let local = listener.local_addr().unwrap_or(addr);
    eprintln!("{PROGRAM}: listening on {local} (stand-in for FrankenPHP php-server)");

    let active = Arc::new(AtomicUsize::new(0));
    while !signals::shutdown_requested() {
        match listener.accept() {
            Ok((stream, peer)) => dispatch(stream, peer, &active, &handler),
            Err(e) if e.kind() == ErrorKind::WouldBlock => thread::sleep(POLL),
            Err(e) if is_transient_accept_error(&e) => {}
            Err(e) => {
                // E.g. EMFILE: report and back off instead of spinning on the error.
                eprintln!("{PROGRAM}: warning: accept failed: {e}");
                thread::sleep(POLL);
            }
        }
    }

    eprintln!("{PROGRAM}: shutting down");
    drop(listener);
    // Let requests that are already being answered finish, but never wait on a slow client.
    let deadline = Instant::now() + SHUTDOWN_GRACE;
    while active.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    ExitCode::SUCCESS
}

/// Errors that concern one aborted connection, not the listener.
fn is_transient_accept_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Interrupted | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    )
}

/// Decrements the active-connection count when the handler ends, even by panic.
struct ActiveGuard(Arc<AtomicUsize>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn dispatch(
    stream: TcpStream,
    peer: SocketAddr,
    active: &Arc<AtomicUsize>,
    handler: &Arc<Handler>,
) {
    if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
        active.fetch_sub(1, Ordering::SeqCst);
        // Answered on the accept thread: a short write into an empty socket buffer does not
        // block, and the write timeout covers the odd case where it would.
        let _ = prepare(&stream);
        let _ = send(&stream, &http::error_response(503));
        return;
    }
    let guard = ActiveGuard(Arc::clone(active));
    let handler = Arc::clone(handler);
    let spawned = thread::Builder::new()
        .name(format!("conn {peer}"))
        .spawn(move || {
            let _guard = guard;
            if let Err(e) = handle(&stream, peer, &*handler) {
                // Client-side trouble (reset, timeout while writing) is routine for a server;
                // one line helps when debugging a probe without flooding the log.
                eprintln!("{PROGRAM}: connection from {peer}: {e}");
            }
        });
    if let Err(e) = spawned {
        // The closure (and with it the guard and stream) was dropped, so the count is right.
        eprintln!("{PROGRAM}: warning: cannot start a connection thread: {e}");
    }
}

/// Accepted sockets inherit O_NONBLOCK from the listener on the BSDs and macOS (not on
/// Linux); handlers want blocking I/O with timeouts everywhere.
fn prepare(stream: &TcpStream) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    stream.set_read_timeout(Some(REQUEST_DEADLINE))
}

fn handle(stream: &TcpStream, peer: SocketAddr, handler: &Handler) -> io::Result<()> {
    prepare(stream)?;
    let local = stream.local_addr()?;
    let response = match read_head(stream)? {
        Head::Complete(head) => handler(&head, local, peer),
        // The client went away without sending anything (e.g. a TCP port probe).
        Head::Empty => return Ok(()),
        Head::TimedOut => http::error_response(408),
        Head::TooLarge => http::error_response(431),
    };
    send(stream, &response)
}

fn send(mut stream: &TcpStream, response: &http::Response) -> io::Result<()> {
    stream.write_all(&response.to_bytes())?;
    stream.flush()?;
    // Closing with unread request bytes (say, a POST body) makes the kernel send RST, which
    // can destroy the response before the client reads it. Half-close, then briefly drain.
    stream.shutdown(Shutdown::Write)?;
    stream.set_read_timeout(Some(Duration::from_millis(200)))?;
    let mut sink = [0u8; 4096];
    let mut drained = 0;
    while drained < 64 * 1024 {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
    Ok(())
}

/// Outcome of reading a request head.
enum Head {
    /// A full head, or whatever arrived before the client half-closed.
    Complete(Vec<u8>),
    Empty,
    TimedOut,
    TooLarge,
}

fn read_head(mut stream: &TcpStream) -> io::Result<Head> {
    let deadline = Instant::now() + REQUEST_DEADLINE;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Ok(Head::TimedOut);
        }
        stream.set_read_timeout(Some(remaining))?;
        match stream.read(&mut chunk) {
            Ok(0) if buf.is_empty() => return Ok(Head::Empty),
            Ok(0) => return Ok(Head::Complete(buf)),
            Ok(n) => {
                // Only the new bytes plus a 3-byte overlap can contain a new terminator.
                let scan_from = buf.len().saturating_sub(3);
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = http::head_end(&buf[scan_from..]) {
                    buf.truncate(scan_from + end);
                    return Ok(Head::Complete(buf));
                }
                if buf.len() > MAX_HEAD_BYTES {
                    return Ok(Head::TooLarge);
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(if buf.is_empty() {
                    Head::Empty
                } else {
                    Head::TimedOut
                });
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
