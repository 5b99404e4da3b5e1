//! What `php-server` serves: where it listens and from which folder, decided by FrankenPHP
//! v1.12.1's rules for an embedded app (`caddy/php-server.go`), and how one request is
//! answered (static file, PHP front controller, or the built-in routes without PHP).
//!
//! Modelled for PHP requests: php_server's try_files order (the file, the folder's
//! `index.php`, the root `index.php`), the CGI variables, the status and (through the
//! `php-cgi` beside `php`) the header fields the script sets. Not modelled: request bodies
//! (not passed to PHP), header fields when only the CLI SAPI is there (it drops them),
//! compression, keep-alive.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::caddyfile::{self, Site};
use crate::cli::{self, ServerOptions};
use crate::http::{self, Response};
use crate::php;

/// Where and what to serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub listen: SocketAddr,
    pub docroot: PathBuf,
    /// The embedded Caddyfile's rules, when the app has one.
    pub site: Option<Site>,
    /// Flags given on the command line that the plan ignores, for a warning.
    pub overridden: Vec<String>,
    /// Upstream behaviour the stand-in does not reproduce here, for a warning.
    pub unmodelled: Option<String>,
}

/// Decides the plan for an app at `app` (already the current directory):
/// - with a `Caddyfile` (`caddy/php-server.go` lines 113-124), the Caddyfile alone decides
///   and `--listen`, `--root` and `--domain` are not read;
/// - without one, `--root` or `public` (lines 126-128) and `--listen` or `:80` (lines 280-286).
pub fn plan(
    app: &Path,
    caddyfile_text: Option<&str>,
    options: &ServerOptions,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Plan, String> {
    if let Some(text) = caddyfile_text {
        let site = caddyfile::parse(text, lookup)
            .map_err(|e| format!("{}/Caddyfile: {e}", app.display()))?;
        let mut overridden = Vec::new();
        for (flag, value) in [
            ("--listen", &options.listen),
            ("--root", &options.root),
            ("--domain", &options.domain),
        ] {
            if let Some(v) = value {
                overridden.push(format!("{flag} {v}"));
            }
        }
        let docroot = match &site.php_server {
            Some(own_root) => caddyfile::php_root(app, own_root.as_deref()),
            // No php_server: only the site root could serve files.
            None => app.join(site.site_root.as_deref().unwrap_or(".")),
        };
        return Ok(Plan {
            listen: site.listen,
            docroot,
            site: Some(site),
            overridden,
            unmodelled: None,
        });
    }
    // With --domain and no --listen, upstream listens on the HTTPS port (line 284).
    let default_listen = match options.domain {
        Some(_) => ":443",
        None => cli::DEFAULT_LISTEN,
    };
    let listen = options.listen.as_deref().unwrap_or(default_listen);
    let listen = cli::parse_listen_addr(listen)?;
    let root = options
        .root
        .as_deref()
        .unwrap_or(caddyfile::DEFAULT_DOCUMENT_ROOT);
    Ok(Plan {
        listen,
        docroot: app.join(root),
        site: None,
        overridden: Vec::new(),
        unmodelled: options.domain.as_ref().map(|d| {
            format!("--domain {d}: FrankenPHP would serve HTTPS with a certificate for it; the stand-in serves plain HTTP")
        }),
    })
}

/// `PHP_INI_SCAN_DIR` as `php-server` leaves it when the app has a `php.ini`
/// (`caddy/php-server.go` lines 104-110): the old value, `:`, the app folder — even when
/// the old value is empty, which keeps PHP's compiled-in scan dir.
pub fn ini_scan_dir(previous: Option<&str>, app: &Path) -> String {
    format!("{}:{}", previous.unwrap_or(""), app.display())
}

/// Serves requests according to a [`Plan`].
pub struct Server {
    pub plan: Plan,
    pub php: Option<PathBuf>,
}

impl Server {
    pub fn respond(&self, head: &[u8], local: SocketAddr, peer: SocketAddr) -> Response {
        let request = match http::parse_request_line(head) {
            Ok(r) => r,
            Err(status) => return Response::text(status),
        };
        let headers = http::parse_headers(head);
        let mut response = match &self.php {
            None => http::route(&request),
            Some(php) => self.app_route(php, &request, &headers, local, peer),
        };
        if let Some(site) = &self.plan.site {
            site.apply_headers(request.path, &headers, &mut response.headers);
        }
        response.head_only = request.method == "HEAD";
        response
    }

    fn app_route(
        &self,
        php: &Path,
        request: &http::RequestLine<'_>,
        headers: &[(String, String)],
        local: SocketAddr,
        peer: SocketAddr,
    ) -> Response {
        let Some(rel) = decode_path(request.path) else {
            return Response::text(400);
        };
        let docroot = &self.plan.docroot;
        let file = docroot.join(rel.trim_start_matches('/'));
        // php_server's try_files: the file, the folder's index.php, then index.php.
        let script = if file.is_file() {
            if !rel.ends_with(".php") {
                return static_file(&file, request.method);
            }
            file
        } else if file.join("index.php").is_file() {
            file.join("index.php")
        } else if docroot.join("index.php").is_file() {
            docroot.join("index.php")
        } else {
            return Response::text(404);
        };
        let req = php::PhpRequest {
            method: request.method,
            target: request.target,
            headers,
            docroot,
            script: &script,
            server_addr: local,
            peer,
        };
        match php::run_request(php, &req) {
            Ok(out) => {
                let content_type = out
                    .headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
                    .map_or("text/html; charset=UTF-8", |(_, v)| v.as_str());
                let mut response = Response::new(out.status, content_type, out.body);
                // The script's own header fields, as FrankenPHP sends them (the server
                // sets the length and the connection).
                for (name, value) in &out.headers {
                    let skip = ["content-type", "content-length", "connection"]
                        .iter()
                        .any(|h| name.eq_ignore_ascii_case(h));
                    if !skip {
                        response.headers.push((name.clone(), value.clone()));
                    }
                }
                response
            }
            Err((status, message)) => {
                eprintln!(
                    "{}: {} {}: {message}",
                    cli::PROGRAM,
                    request.method,
                    request.target
                );
                Response::text(status)
            }
        }
    }
}

fn static_file(file: &Path, method: &str) -> Response {
    if method != "GET" && method != "HEAD" {
        return Response::text(405);
    }
    match std::fs::read(file) {
        Ok(bytes) => Response::new(200, content_type(file), bytes),
        Err(_) => Response::text(403),
    }
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// Percent-decodes a request path for the file lookup; `None` for paths that could leave
/// the document root (`..` segments, NUL) or are not valid UTF-8 once decoded.
pub fn decode_path(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let decoded = String::from_utf8(out).ok()?;
    if decoded.contains('\0') || decoded.split('/').any(|s| s == "..") {
        return None;
    }
    Some(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CADDYFILE: &str = "{\n admin off\n}\nhttp://:{$APP_PORT:8080} {\n bind {$APP_BIND_IP:127.0.0.1}\n root * webroot/\n header -Server\n php_server {\n  root webroot/\n }\n}\n";

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn opts(listen: Option<&str>, root: Option<&str>, domain: Option<&str>) -> ServerOptions {
        ServerOptions {
            listen: listen.map(String::from),
            root: root.map(String::from),
            domain: domain.map(String::from),
            ignored: vec![],
        }
    }

    #[test]
    fn caddyfile_wins_over_listen_root_and_domain() {
        // caddy/php-server.go lines 113-124 (v1.12.1): with a Caddyfile in the embedded app,
        // php-server loads it and never reaches the code that reads --listen/--root/--domain.
        let app = Path::new("/tmp/frankenphp_x");
        let p = plan(
            app,
            Some(CADDYFILE),
            &opts(Some("0.0.0.0:9999"), Some("public"), Some("example.com")),
            &|k| (k == "APP_PORT").then(|| "18080".to_string()),
        )
        .unwrap();
        assert_eq!(p.listen, "127.0.0.1:18080".parse().unwrap());
        assert_eq!(p.docroot, app.join("webroot/"));
        assert_eq!(
            p.overridden,
            [
                "--listen 0.0.0.0:9999",
                "--root public",
                "--domain example.com"
            ]
        );
        // Even an invalid -l is never looked at.
        assert!(plan(
            app,
            Some(CADDYFILE),
            &opts(Some("bogus"), None, None),
            &no_env
        )
        .is_ok());
    }

    #[test]
    fn without_caddyfile_flags_and_upstream_defaults_apply() {
        // caddy/php-server.go lines 126-128 (root "public") and 280-286 (listen ":80").
        let app = Path::new("/tmp/frankenphp_x");
        let p = plan(app, None, &ServerOptions::default(), &no_env).unwrap();
        assert_eq!(p.listen, "0.0.0.0:80".parse().unwrap());
        assert_eq!(p.docroot, app.join("public"));
        assert!(p.site.is_none());
        let p = plan(
            app,
            None,
            &opts(Some("127.0.0.1:1234"), Some("webroot"), None),
            &no_env,
        )
        .unwrap();
        assert_eq!(p.listen, "127.0.0.1:1234".parse().unwrap());
        assert_eq!(p.docroot, app.join("webroot"));
        let e = plan(app, None, &opts(Some("host:1"), None, None), &no_env).unwrap_err();
        assert!(e.contains("host:1"), "{e}");
        // --domain without --listen: the HTTPS port (line 284), which the stand-in says it
        // serves without TLS.
        let p = plan(app, None, &opts(None, None, Some("example.com")), &no_env).unwrap();
        assert_eq!(p.listen, "0.0.0.0:443".parse().unwrap());
        assert!(p.unmodelled.unwrap().contains("--domain example.com"));
    }

    #[test]
    fn caddyfile_errors_name_the_file() {
        let e = plan(
            Path::new("/a"),
            Some(":@@HTTP_PORT@@ {\n}\n"),
            &ServerOptions::default(),
            &no_env,
        )
        .unwrap_err();
        assert!(e.starts_with("/a/Caddyfile: line 1"), "{e}");
    }

    #[test]
    fn ini_scan_dir_is_appended() {
        // caddy/php-server.go lines 104-110.
        let app = Path::new("/tmp/frankenphp_x");
        assert_eq!(ini_scan_dir(None, app), ":/tmp/frankenphp_x");
        assert_eq!(
            ini_scan_dir(Some(":/pkg/php"), app),
            ":/pkg/php:/tmp/frankenphp_x"
        );
    }

    #[test]
    fn builtin_routes_get_the_caddyfile_headers() {
        let app = Path::new("/nonexistent");
        let server = Server {
            plan: plan(app, Some(CADDYFILE), &ServerOptions::default(), &no_env).unwrap(),
            php: None,
        };
        let local = "127.0.0.1:8080".parse().unwrap();
        let r = server.respond(b"GET /home/healthcheck HTTP/1.1\r\n\r\n", local, local);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("Server"), None, "-Server removes it");
        let r = server.respond(b"HEAD /home/healthcheck HTTP/1.1\r\n\r\n", local, local);
        assert!(r.head_only);
    }

    #[test]
    fn decode_path_rules() {
        assert_eq!(decode_path("/a%20b.css").as_deref(), Some("/a b.css"));
        assert_eq!(decode_path("/../etc/passwd"), None);
        assert_eq!(decode_path("/%2e%2e/etc"), None);
        assert_eq!(decode_path("/a%00"), None);
        assert_eq!(decode_path("/a%zz"), None);
        assert_eq!(decode_path("/a..b/c").as_deref(), Some("/a..b/c"));
    }
}
