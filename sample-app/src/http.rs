//! Minimal HTTP/1.x handling for the stand-in server: request-head parsing, routing and
//! response serialisation as pure functions (no I/O), so all status codes are unit-tested.

use crate::cli::PROGRAM;

/// Largest request head (request line + headers) read before answering 431; the only routes
/// need the request line, so anything this large is garbage or abuse.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// The health-check route probed by Docker `HEALTHCHECK`, systemd units and load balancers.
pub const HEALTHCHECK_PATH: &str = "/home/healthcheck";

/// A parsed request line. Headers are not kept: no route depends on them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine<'a> {
    pub method: &'a str,
    /// Path without the query string.
    pub path: &'a str,
    /// The request target as sent (path and query).
    pub target: &'a str,
}

/// A complete response; `head_only` is set for HEAD so the body is not sent while
/// Content-Length still describes it (as RFC 9110 asks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Header fields other than Content-Length and Connection, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub head_only: bool,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        let mut headers = vec![
            (
                "Server".to_string(),
                format!("{PROGRAM}/{}", env!("CARGO_PKG_VERSION")),
            ),
            ("Content-Type".to_string(), content_type.to_string()),
        ];
        if status == 405 {
            headers.push(("Allow".to_string(), "GET, HEAD".to_string()));
        }
        Response {
            status,
            headers,
            body: body.into(),
            head_only: false,
        }
    }

    pub fn text(status: u16) -> Self {
        Response::new(
            status,
            "text/plain; charset=utf-8",
            format!("{} {}\n", status, reason(status)),
        )
    }

    /// The value of the first header field called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The bytes to put on the wire. Every response closes the connection: the stand-in
    /// serves one request per connection, which keeps the thread handling it short-lived.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        if self.header("Cache-Control").is_none() {
            // Health answers must never be served from a cache by a proxy in front of the app.
            out.push_str("Cache-Control: no-store\r\n");
        }
        out.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.body.len()
        ));
        let mut bytes = out.into_bytes();
        if !self.head_only {
            bytes.extend_from_slice(&self.body);
        }
        bytes
    }
}

/// Reason phrases for the statuses this server produces.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        308 => "Permanent Redirect",
        401 => "Unauthorized",
        403 => "Forbidden",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        504 => "Gateway Timeout",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Returns the length of the request head including its blank-line terminator, if `buf`
/// holds a complete one. Bare `\n\n` is accepted too, for hand-typed `nc` sessions.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = find(buf, b"\r\n\r\n").map(|i| i + 4);
    let lf = find(buf, b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Parses the first line of a request head. Errors are the status to answer with.
pub fn parse_request_line(head: &[u8]) -> Result<RequestLine<'_>, u16> {
    // RFC 9112 §2.2: a server should ignore empty lines received before the request line.
    let start = head
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .ok_or(400u16)?;
    let head = &head[start..];
    let line = match head.iter().position(|&b| b == b'\n') {
        Some(end) => &head[..end],
        None => head,
    };
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = std::str::from_utf8(line).map_err(|_| 400u16)?;

    // Exactly three parts separated by single spaces; anything else is malformed.
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(400);
    };
    if method.is_empty() || !method.bytes().all(is_token_byte) {
        return Err(400);
    }
    if !target.starts_with('/') || target.bytes().any(|b| b.is_ascii_control() || b >= 0x80) {
        return Err(400);
    }
    match version.strip_prefix("HTTP/").map(str::as_bytes) {
        Some([b'1', b'.', b'0' | b'1']) => {}
        Some([major, b'.', minor]) if major.is_ascii_digit() && minor.is_ascii_digit() => {
            return Err(505)
        }
        _ => return Err(400),
    }
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    Ok(RequestLine {
        method,
        path,
        target,
    })
}

/// The header fields of a request head (after the request line), names as sent. Lines
/// without a colon are skipped; obsolete line folding is not supported.
pub fn parse_headers(head: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(head);
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .skip_while(|l| l.is_empty())
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| {
            let (name, value) = l.split_once(':')?;
            let name = name.trim();
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return None;
            }
            Some((name.to_string(), value.trim().to_string()))
        })
        .collect()
}

/// RFC 9110 `tchar`: the characters allowed in a method name.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Chooses the response for a request line.
pub fn route(request: &RequestLine<'_>) -> Response {
    let head_only = match request.method {
        "GET" => false,
        "HEAD" => true,
        _ => return Response::text(405),
    };
    let mut response = match request.path {
        HEALTHCHECK_PATH => Response::new(200, "application/json", "{\"status\":\"ok\"}"),
        "/" => Response::new(200, "text/html; charset=utf-8", index_page()),
        _ => Response::text(404),
    };
    response.head_only = head_only;
    response
}

/// Answers a complete (or truncated-by-EOF) request head with the built-in routes.
#[cfg(test)]
pub fn respond(head: &[u8]) -> Response {
    match parse_request_line(head) {
        Ok(request) => route(&request),
        Err(status) => Response::text(status),
    }
}

/// Response for a request whose head did not arrive in time or did not fit; these bypass
/// routing because there is no trustworthy request line.
pub fn error_response(status: u16) -> Response {
    Response::text(status)
}

fn index_page() -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>OrangeScrum sample</title></head>\n\
         <body><h1>OrangeScrum sample stand-in</h1>\n\
         <p>This is <code>{PROGRAM} {}</code>, a small stand-in for the OrangeScrum FrankenPHP \
         binary used for demos and package tests. It is not the real application.</p>\n\
         <p>Health check: <a href=\"{HEALTHCHECK_PATH}\">{HEALTHCHECK_PATH}</a></p>\n</body></html>\n",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(head: &str) -> u16 {
        respond(head.as_bytes()).status
    }

    #[test]
    fn healthcheck_get_and_head() {
        let get = respond(b"GET /home/healthcheck HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(get.status, 200);
        assert_eq!(get.header("content-type"), Some("application/json"));
        assert_eq!(get.body, br#"{"status":"ok"}"#);
        let wire = String::from_utf8(get.to_bytes()).unwrap();
        assert!(wire.starts_with("HTTP/1.1 200 OK\r\n"), "{wire}");
        assert!(wire.contains("Content-Length: 15\r\n"), "{wire}");
        assert!(wire.contains("Connection: close\r\n"), "{wire}");
        assert!(wire.ends_with("\r\n\r\n{\"status\":\"ok\"}"), "{wire}");

        let head = respond(b"HEAD /home/healthcheck HTTP/1.1\r\n\r\n");
        assert_eq!(head.status, 200);
        let wire = String::from_utf8(head.to_bytes()).unwrap();
        assert!(wire.contains("Content-Length: 15\r\n"), "{wire}");
        assert!(
            wire.ends_with("\r\n\r\n"),
            "HEAD must not carry a body: {wire}"
        );
    }

    #[test]
    fn query_string_is_ignored_for_routing() {
        assert_eq!(
            status_of("GET /home/healthcheck?probe=1 HTTP/1.1\r\n\r\n"),
            200
        );
    }

    #[test]
    fn index_page_says_it_is_the_stand_in() {
        let r = respond(b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(r.status, 200);
        assert!(r.header("Content-Type").unwrap().starts_with("text/html"));
        let body = String::from_utf8(r.body).unwrap();
        assert!(body.contains("stand-in"));
        assert!(body.contains(HEALTHCHECK_PATH));
    }

    #[test]
    fn unknown_paths_are_404() {
        assert_eq!(status_of("GET /nope HTTP/1.1\r\n\r\n"), 404);
        assert_eq!(status_of("GET /home/healthcheck/ HTTP/1.1\r\n\r\n"), 404);
        assert_eq!(status_of("HEAD /index.php HTTP/1.1\r\n\r\n"), 404);
    }

    #[test]
    fn other_methods_are_405_with_allow() {
        for m in ["POST", "PUT", "DELETE", "OPTIONS", "get"] {
            let r = respond(format!("{m} /home/healthcheck HTTP/1.1\r\n\r\n").as_bytes());
            assert_eq!(r.status, 405, "{m}");
            let wire = String::from_utf8(r.to_bytes()).unwrap();
            assert!(wire.contains("Allow: GET, HEAD\r\n"), "{wire}");
        }
    }

    #[test]
    fn malformed_requests_are_400() {
        for bad in [
            "",
            "\r\n\r\n",
            "GET\r\n\r\n",
            "GET /\r\n\r\n",
            "GET  / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1 extra\r\n\r\n",
            "GET home HTTP/1.1\r\n\r\n",
            "G(T / HTTP/1.1\r\n\r\n",
            "GET / FTP/1.1\r\n\r\n",
            "GET / HTTP/1\r\n\r\n",
            "GET /a\u{7f}b HTTP/1.1\r\n\r\n",
            "\u{16}\u{3}\u{1}\u{0}",
        ] {
            assert_eq!(status_of(bad), 400, "{bad:?}");
        }
        assert_eq!(respond(b"GET /\xff HTTP/1.1\r\n\r\n").status, 400);
    }

    #[test]
    fn other_http_versions_are_505() {
        assert_eq!(status_of("GET / HTTP/2.0\r\n\r\n"), 505);
        assert_eq!(status_of("GET / HTTP/0.9\r\n\r\n"), 505);
    }

    #[test]
    fn tolerant_line_endings() {
        // Leading blank lines are skipped and bare LF works, for hand-typed requests.
        assert_eq!(status_of("\r\nGET /home/healthcheck HTTP/1.1\r\n\r\n"), 200);
        assert_eq!(status_of("GET /home/healthcheck HTTP/1.1\n\n"), 200);
        // A request line without its terminator (client closed early) is still answered.
        assert_eq!(status_of("GET /home/healthcheck HTTP/1.1"), 200);
    }

    #[test]
    fn header_fields_are_parsed() {
        let h = parse_headers(
            b"\r\nGET / HTTP/1.1\r\nHost: a:1\r\nX-Forwarded-Proto:  https \r\nbad line\r\n\r\nBody: no",
        );
        assert_eq!(
            h,
            vec![
                ("Host".to_string(), "a:1".to_string()),
                ("X-Forwarded-Proto".to_string(), "https".to_string())
            ]
        );
    }

    #[test]
    fn head_end_detection() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n"), None);
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\n"), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.1\n\nbody"), Some(16));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\nA: b\r\n\r\nx\n\n"), Some(24));
        assert_eq!(head_end(b""), None);
    }

    #[test]
    fn error_responses_have_reason_phrases() {
        for status in [400, 404, 405, 408, 431, 503, 505] {
            let wire = String::from_utf8(error_response(status).to_bytes()).unwrap();
            assert!(
                wire.starts_with(&format!("HTTP/1.1 {status} {}\r\n", reason(status))),
                "{wire}"
            );
            assert_ne!(reason(status), "Unknown");
        }
    }
}
