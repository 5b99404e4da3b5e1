//! The image's health check: one HTTP/1.0 GET on loopback with short timeouts.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    process::ExitCode,
    time::Duration,
};

pub const PATH: &str = "/home/healthcheck";

/// The port the server listens on inside the container.
fn port() -> u16 {
    std::env::var("APP_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080)
}

/// True for a `HTTP/1.x 2xx` status line.
pub fn is_success(status_line: &str) -> bool {
    let mut parts = status_line.split_whitespace();
    matches!(parts.next(), Some(v) if v.starts_with("HTTP/1."))
        && parts.next().is_some_and(|c| {
            c.len() == 3 && c.starts_with('2') && c.bytes().all(|b| b.is_ascii_digit())
        })
}

pub fn run() -> ExitCode {
    let addr = SocketAddr::from(([127, 0, 0, 1], port()));
    let probe = || -> std::io::Result<String> {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        s.set_read_timeout(Some(Duration::from_secs(8)))?;
        s.set_write_timeout(Some(Duration::from_secs(5)))?;
        write!(
            s,
            "GET {PATH} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )?;
        let mut head = vec![0u8; 256];
        let n = s.read(&mut head)?;
        Ok(String::from_utf8_lossy(&head[..n])
            .lines()
            .next()
            .unwrap_or("")
            .to_string())
    };
    match probe() {
        Ok(line) if is_success(&line) => ExitCode::SUCCESS,
        Ok(line) => {
            eprintln!("healthcheck: {addr}{PATH} answered {line:?}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("healthcheck: {addr}{PATH}: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert!(is_success("HTTP/1.1 200 OK"));
        assert!(is_success("HTTP/1.0 204 No Content"));
        for bad in [
            "HTTP/1.1 503 Service Unavailable",
            "HTTP/1.1 2000",
            "",
            "SSH-2.0",
            "HTTP/1.1 301 Moved",
        ] {
            assert!(!is_success(bad), "{bad}");
        }
    }
}
