//! The subset of the Caddyfile that the packages' embedded `Caddyfile` uses, read the way
//! Caddy and FrankenPHP v1.12.1 read it, so the stand-in listens, serves and sets headers
//! where the real binary would:
//!
//! - `{$VAR}` / `{$VAR:default}` are replaced on the raw text before tokenising (Caddy's
//!   `replaceEnvVars`: an unset variable takes the default, a set one, even empty, its value);
//! - a leading global options block `{ ... }` is skipped (the stand-in has no admin API,
//!   no automatic HTTPS);
//! - one site block with the address `[http://][host]:port`; `bind HOST` picks the listen
//!   host (without it Caddy listens on every interface);
//! - `root [*] DIR` (site root: used by `file_server`, but NOT by `php_server` on an
//!   embedded app, see [`php_root`]);
//! - `php_server [{ root DIR }]`;
//! - `header [@matcher] Name value | -Name | +Name value | ?Name value | { ... }`;
//! - named matchers `@name path P...`, `@name header Name Value`, or a block of those.
//!
//! Anything else (`encode`, `log`, ...) is accepted and reported, so a warning shows what the
//! stand-in does not model.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

/// FrankenPHP's `defaultDocumentRoot` (`caddy/caddy.go`, line 14).
pub const DEFAULT_DOCUMENT_ROOT: &str = "public";

/// What the stand-in takes from a Caddyfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub listen: SocketAddr,
    /// The `root` directive of the site block (relative as written).
    pub site_root: Option<String>,
    /// `Some` when the site has `php_server`; the inner value is its own `root`, if any.
    pub php_server: Option<Option<String>>,
    pub headers: Vec<HeaderRule>,
    pub matchers: Vec<(String, Vec<Condition>)>,
    /// Directives read but not modelled, with their line numbers.
    pub ignored: Vec<String>,
}

/// One `header` operation, optionally under a named matcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderRule {
    pub matcher: Option<String>,
    pub op: HeaderOp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderOp {
    /// `Name value`: replace.
    Set(String, String),
    /// `+Name value`: append another field.
    Add(String, String),
    /// `?Name value`: set only when the response has none.
    Default(String, String),
    /// `-Name`: remove.
    Delete(String),
}

/// One condition of a named matcher; all conditions of a matcher must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `path P...`: any of the patterns (`*` is a wildcard; case-insensitive, as Caddy's).
    Path(Vec<String>),
    /// `header Name Value`: the request field equals the value (`*` wildcards allowed).
    Header(String, String),
}

/// The folder `php_server` serves for an embedded app in `app`: its own `root` joined to
/// the app when relative, else `<app>/public` — whatever the site's `root` directive says.
/// FrankenPHP v1.12.1 `caddy/module.go` lines 473-481 (`parsePhpServer`).
pub fn php_root(app: &Path, own_root: Option<&str>) -> PathBuf {
    match own_root {
        None => app.join(DEFAULT_DOCUMENT_ROOT),
        Some(r) => app.join(r),
    }
}

/// Replaces `{$VAR}` and `{$VAR:default}` using `lookup`.
pub fn substitute_env(input: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(start) = rest.find("{$") {
        let Some(len) = rest[start + 2..].find('}') else {
            break;
        };
        let inner = &rest[start + 2..start + 2 + len];
        out.push_str(&rest[..start]);
        if inner.is_empty() {
            out.push_str("{$}");
        } else {
            let (name, default) = match inner.split_once(':') {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            match lookup(name) {
                Some(value) => out.push_str(&value),
                None => out.push_str(default.unwrap_or("")),
            }
        }
        rest = &rest[start + 2 + len + 1..];
    }
    out.push_str(rest);
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    line: usize,
    quoted: bool,
}

fn tokenize(input: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    let mut line = 1;
    while let Some(&c) = chars.peek() {
        if c == '\n' {
            line += 1;
            chars.next();
        } else if c.is_whitespace() {
            chars.next();
        } else if c == '#' {
            while chars.peek().is_some_and(|&c| c != '\n') {
                chars.next();
            }
        } else if c == '"' {
            chars.next();
            let start = line;
            let mut text = String::new();
            loop {
                match chars.next() {
                    None => return Err(format!("line {start}: unterminated quoted string")),
                    Some('"') => break,
                    Some('\\') if chars.peek() == Some(&'"') => {
                        chars.next();
                        text.push('"');
                    }
                    Some(c) => {
                        if c == '\n' {
                            line += 1;
                        }
                        text.push(c);
                    }
                }
            }
            tokens.push(Token {
                text,
                line: start,
                quoted: true,
            });
        } else {
            let mut text = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                text.push(c);
                chars.next();
            }
            tokens.push(Token {
                text,
                line,
                quoted: false,
            });
        }
    }
    Ok(tokens)
}

fn is_open(t: &Token) -> bool {
    !t.quoted && t.text == "{"
}

fn is_close(t: &Token) -> bool {
    !t.quoted && t.text == "}"
}

/// A directive: its tokens on one line, plus the lines of the block it opens.
#[derive(Debug)]
struct Segment {
    args: Vec<Token>,
    block: Vec<Vec<Token>>,
}

/// Splits the tokens of a block body into lines (one per directive or sub-directive),
/// keeping nested blocks with the line that opened them.
fn segments(tokens: &[Token]) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let line = tokens[i].line;
        let mut args = Vec::new();
        while i < tokens.len() && tokens[i].line == line && !is_open(&tokens[i]) {
            if is_close(&tokens[i]) {
                return Err(format!("line {line}: unexpected '}}'"));
            }
            args.push(tokens[i].clone());
            i += 1;
        }
        let mut block = Vec::new();
        if i < tokens.len() && is_open(&tokens[i]) && tokens[i].line == line {
            let (body, next) = block_body(tokens, i)?;
            let mut j = 0;
            while j < body.len() {
                let l = body[j].line;
                let mut sub = Vec::new();
                while j < body.len() && body[j].line == l {
                    sub.push(body[j].clone());
                    j += 1;
                }
                block.push(sub);
            }
            i = next;
        }
        out.push(Segment { args, block });
    }
    Ok(out)
}

/// Given the index of a `{`, returns the tokens inside it and the index after its `}`.
fn block_body(tokens: &[Token], open: usize) -> Result<(Vec<Token>, usize), String> {
    let mut depth = 0;
    for (k, t) in tokens.iter().enumerate().skip(open) {
        if is_open(t) {
            depth += 1;
        } else if is_close(t) {
            depth -= 1;
            if depth == 0 {
                return Ok((tokens[open + 1..k].to_vec(), k + 1));
            }
        }
    }
    Err(format!("line {}: '{{' is never closed", tokens[open].line))
}

/// Parses a Caddyfile after environment substitution.
pub fn parse(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Site, String> {
    let tokens = tokenize(&substitute_env(text, lookup))?;
    let mut i = 0;
    // Global options block: a `{` as the very first token.
    if tokens.first().is_some_and(is_open) {
        i = block_body(&tokens, 0)?.1;
    }
    let Some(address) = tokens.get(i) else {
        return Err("no site block (expected e.g. 'http://:8080 { ... }')".into());
    };
    let open = i + 1;
    if !tokens.get(open).is_some_and(is_open) || tokens[open].line != address.line {
        return Err(format!(
            "line {}: the stand-in reads exactly one site address followed by '{{' (got {:?})",
            address.line, address.text
        ));
    }
    let (body, next) = block_body(&tokens, open)?;
    if let Some(extra) = tokens.get(next) {
        return Err(format!(
            "line {}: a second site block ({:?}) is not modelled by the stand-in",
            extra.line, extra.text
        ));
    }
    let port = site_port(&address.text).map_err(|e| format!("line {}: {e}", address.line))?;

    let mut site = Site {
        listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
        site_root: None,
        php_server: None,
        headers: Vec::new(),
        matchers: Vec::new(),
        ignored: Vec::new(),
    };
    for seg in segments(&body)? {
        let name = seg.args[0].text.as_str();
        let line = seg.args[0].line;
        let args: Vec<&str> = seg.args[1..].iter().map(|t| t.text.as_str()).collect();
        let err = |m: &str| format!("line {line}: {name}: {m}");
        match name {
            "bind" => {
                let host = args.first().ok_or_else(|| err("needs a host"))?;
                let ip = parse_host(host).map_err(|e| err(&e))?;
                site.listen = SocketAddr::new(ip, port);
            }
            "root" => {
                let dir = match args.as_slice() {
                    [dir] => dir,
                    ["*", dir] => dir,
                    _ => return Err(err("expected 'root [*] DIR'")),
                };
                site.site_root = Some(dir.to_string());
            }
            "php_server" => {
                let mut own_root = None;
                for sub in &seg.block {
                    match sub
                        .iter()
                        .map(|t| t.text.as_str())
                        .collect::<Vec<_>>()
                        .as_slice()
                    {
                        ["root", dir] => own_root = Some(dir.to_string()),
                        other => site.ignored.push(format!(
                            "line {}: php_server {}",
                            sub[0].line,
                            other.join(" ")
                        )),
                    }
                }
                site.php_server = Some(own_root);
            }
            "header" => {
                let (matcher, rest) = match args.split_first() {
                    Some((m, rest)) if m.starts_with('@') => (Some(m.to_string()), rest),
                    _ => (None, &args[..]),
                };
                if !rest.is_empty() {
                    site.headers.push(HeaderRule {
                        matcher: matcher.clone(),
                        op: header_op(rest).map_err(|e| err(&e))?,
                    });
                }
                for sub in &seg.block {
                    let words: Vec<&str> = sub.iter().map(|t| t.text.as_str()).collect();
                    if words == ["defer"] {
                        continue;
                    }
                    site.headers.push(HeaderRule {
                        matcher: matcher.clone(),
                        op: header_op(&words)
                            .map_err(|e| format!("line {}: header: {e}", sub[0].line))?,
                    });
                }
                if rest.is_empty() && seg.block.is_empty() {
                    return Err(err("needs a field"));
                }
            }
            m if m.starts_with('@') => {
                let mut conditions = Vec::new();
                if !args.is_empty() {
                    conditions.push(condition(&args).map_err(|e| err(&e))?);
                }
                for sub in &seg.block {
                    let words: Vec<&str> = sub.iter().map(|t| t.text.as_str()).collect();
                    conditions.push(
                        condition(&words).map_err(|e| format!("line {}: {m}: {e}", sub[0].line))?,
                    );
                }
                if conditions.is_empty() {
                    return Err(err("empty matcher"));
                }
                site.matchers.push((m.to_string(), conditions));
            }
            other => site.ignored.push(format!("line {line}: {other}")),
        }
    }
    for rule in &site.headers {
        if let Some(m) = &rule.matcher {
            if !site.matchers.iter().any(|(name, _)| name == m) {
                return Err(format!("header uses the undefined matcher {m}"));
            }
        }
    }
    Ok(site)
}

/// Port of a site address `[http://][host]:port`.
fn site_port(address: &str) -> Result<u16, String> {
    let rest = address.strip_prefix("http://").unwrap_or(address);
    if rest.starts_with("https://") || address.contains("://") && !address.starts_with("http://") {
        return Err(format!(
            "site address {address:?}: only plain http is modelled"
        ));
    }
    let port = rest.rsplit_once(':').map(|(_, p)| p).ok_or_else(|| {
        format!("site address {address:?} has no port (the stand-in has no automatic HTTPS)")
    })?;
    port.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("site address {address:?}: port {port:?} is not 1..65535"))
}

fn parse_host(host: &str) -> Result<IpAddr, String> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if bare.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    bare.parse()
        .map_err(|_| format!("{host:?} is not an IP address (host names are not resolved)"))
}

fn header_op(words: &[&str]) -> Result<HeaderOp, String> {
    match words {
        [field] if field.starts_with('-') && field.len() > 1 => {
            Ok(HeaderOp::Delete(field[1..].to_string()))
        }
        [field, value] => Ok(if let Some(f) = field.strip_prefix('+') {
            HeaderOp::Add(f.to_string(), value.to_string())
        } else if let Some(f) = field.strip_prefix('?') {
            HeaderOp::Default(f.to_string(), value.to_string())
        } else {
            HeaderOp::Set(field.to_string(), value.to_string())
        }),
        other => Err(format!(
            "expected 'Name value' or '-Name', got {:?}",
            other.join(" ")
        )),
    }
}

fn condition(words: &[&str]) -> Result<Condition, String> {
    match words {
        ["path", patterns @ ..] if !patterns.is_empty() => Ok(Condition::Path(
            patterns.iter().map(|p| p.to_string()).collect(),
        )),
        ["header", field, value] => Ok(Condition::Header(field.to_string(), value.to_string())),
        other => Err(format!(
            "only 'path P...' and 'header Name Value' matchers are modelled, got {:?}",
            other.join(" ")
        )),
    }
}

/// `*` matches any run of characters (including `/`), as in Caddy's path matcher.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

impl Site {
    fn matches(&self, matcher: &str, path: &str, headers: &[(String, String)]) -> bool {
        let Some((_, conditions)) = self.matchers.iter().find(|(n, _)| n == matcher) else {
            return false;
        };
        conditions.iter().all(|c| match c {
            Condition::Path(patterns) => {
                let lower = path.to_ascii_lowercase();
                patterns
                    .iter()
                    .any(|p| glob(&p.to_ascii_lowercase(), &lower))
            }
            Condition::Header(field, value) => headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case(field) && glob(value, v)),
        })
    }

    /// Applies the `header` rules whose matcher holds for the request to the response
    /// fields, in file order.
    pub fn apply_headers(
        &self,
        path: &str,
        request_headers: &[(String, String)],
        response: &mut Vec<(String, String)>,
    ) {
        for rule in &self.headers {
            if let Some(m) = &rule.matcher {
                if !self.matches(m, path, request_headers) {
                    continue;
                }
            }
            match &rule.op {
                HeaderOp::Set(name, value) => {
                    response.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
                    response.push((name.clone(), value.clone()));
                }
                HeaderOp::Add(name, value) => response.push((name.clone(), value.clone())),
                HeaderOp::Default(name, value) => {
                    if !response.iter().any(|(k, _)| k.eq_ignore_ascii_case(name)) {
                        response.push((name.clone(), value.clone()));
                    }
                }
                HeaderOp::Delete(name) => response.retain(|(k, _)| !k.eq_ignore_ascii_case(name)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// COMMON.md contract 2: the shape of `packaging/builder/Caddyfile`.
    const CONTRACT: &str = r#"{
	auto_https off
	admin {$CADDY_ADMIN:off}
	frankenphp
}

http://:{$APP_PORT:8080} {
	bind {$APP_BIND_IP:127.0.0.1}
	root * webroot/
	encode zstd br gzip
	header {
		-Server
		-X-Powered-By
		-Server-Timing
		X-Content-Type-Options nosniff
		X-Frame-Options SAMEORIGIN
		Referrer-Policy "strict-origin-when-cross-origin"
	}
	@static path /css/* /js/* *.map /favicon.ico
	header @static Cache-Control "public, max-age=2592000, immutable"
	@https header X-Forwarded-Proto https
	header @https Strict-Transport-Security "max-age=31536000; includeSubDomains; preload"
	php_server {
		root webroot/
	}
}
"#;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn env_substitution_follows_caddy() {
        let e = env(&[("SET", "v"), ("EMPTY", "")]);
        assert_eq!(substitute_env("a{$SET}b", &e), "avb");
        assert_eq!(substitute_env("{$UNSET:def}", &e), "def");
        assert_eq!(substitute_env("{$UNSET}", &e), "");
        // Set but empty keeps the empty value (os.LookupEnv finds it).
        assert_eq!(substitute_env("x{$EMPTY:def}x", &e), "xx");
        assert_eq!(substitute_env("{$SET:def}", &e), "v");
        assert_eq!(substitute_env("{ unchanged } {$", &e), "{ unchanged } {$");
    }

    #[test]
    fn contract_caddyfile_defaults() {
        let site = parse(CONTRACT, &env(&[])).unwrap();
        assert_eq!(site.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(site.site_root.as_deref(), Some("webroot/"));
        assert_eq!(site.php_server, Some(Some("webroot/".to_string())));
        assert_eq!(site.ignored, vec!["line 10: encode".to_string()]);
    }

    #[test]
    fn contract_caddyfile_takes_address_from_env() {
        let site = parse(
            CONTRACT,
            &env(&[("APP_BIND_IP", "::1"), ("APP_PORT", "18080")]),
        )
        .unwrap();
        assert_eq!(site.listen, "[::1]:18080".parse().unwrap());
        let site = parse(
            CONTRACT,
            &env(&[("APP_BIND_IP", "0.0.0.0"), ("APP_PORT", "9")]),
        )
        .unwrap();
        assert_eq!(site.listen, "0.0.0.0:9".parse().unwrap());
        let e = parse(CONTRACT, &env(&[("APP_PORT", "99999")])).unwrap_err();
        assert!(e.contains("99999"), "{e}");
        let e = parse(CONTRACT, &env(&[("APP_BIND_IP", "db.local")])).unwrap_err();
        assert!(e.contains("db.local") && e.contains("bind"), "{e}");
    }

    #[test]
    fn php_server_without_root_serves_public() {
        // caddy/module.go lines 473-481 (v1.12.1): no own root -> <app>/public, even when
        // the site block has `root * webroot/`.
        let text = "http://:8080 {\n root * webroot/\n php_server\n}\n";
        let site = parse(text, &env(&[])).unwrap();
        assert_eq!(site.php_server, Some(None));
        let app = Path::new("/tmp/frankenphp_x");
        assert_eq!(php_root(app, None), app.join("public"));
        assert_eq!(php_root(app, Some("webroot/")), app.join("webroot/"));
        assert_eq!(php_root(app, Some("/srv/www")), PathBuf::from("/srv/www"));
    }

    #[test]
    fn header_rules_and_matchers() {
        let site = parse(CONTRACT, &env(&[])).unwrap();
        let base = || {
            vec![
                ("Server".to_string(), "x".to_string()),
                ("X-Powered-By".to_string(), "PHP".to_string()),
                ("Content-Type".to_string(), "text/html".to_string()),
            ]
        };
        let mut r = base();
        site.apply_headers("/home/healthcheck", &[], &mut r);
        let names: Vec<&str> = r.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "Content-Type",
                "X-Content-Type-Options",
                "X-Frame-Options",
                "Referrer-Policy"
            ]
        );
        assert!(r.contains(&(
            "Referrer-Policy".into(),
            "strict-origin-when-cross-origin".into()
        )));

        let mut r = base();
        site.apply_headers(
            "/CSS/app.css",
            &[("x-forwarded-proto".into(), "https".into())],
            &mut r,
        );
        assert!(r
            .iter()
            .any(|(k, v)| k == "Cache-Control" && v.contains("immutable")));
        assert!(r.iter().any(|(k, _)| k == "Strict-Transport-Security"));

        let mut r = base();
        site.apply_headers(
            "/js.map",
            &[("X-Forwarded-Proto".into(), "http".into())],
            &mut r,
        );
        assert!(r.iter().any(|(k, _)| k == "Cache-Control"), "*.map");
        assert!(!r.iter().any(|(k, _)| k == "Strict-Transport-Security"));
    }

    #[test]
    fn header_op_forms() {
        assert_eq!(
            header_op(&["-Server"]),
            Ok(HeaderOp::Delete("Server".into()))
        );
        assert_eq!(
            header_op(&["+Vary", "Accept"]),
            Ok(HeaderOp::Add("Vary".into(), "Accept".into()))
        );
        assert_eq!(
            header_op(&["?A", "b"]),
            Ok(HeaderOp::Default("A".into(), "b".into()))
        );
        assert!(header_op(&["A"]).is_err());
        let mut r = vec![("A".to_string(), "1".to_string())];
        let site = parse(
            "http://:1 {\nheader ?A 2\nheader ?B 3\nheader +A 4\n}",
            &env(&[]),
        )
        .unwrap();
        site.apply_headers("/", &[], &mut r);
        assert_eq!(
            r,
            vec![
                ("A".to_string(), "1".to_string()),
                ("B".to_string(), "3".to_string()),
                ("A".to_string(), "4".to_string())
            ]
        );
    }

    #[test]
    fn glob_forms() {
        assert!(glob("/css/*", "/css/a/b.css"));
        assert!(!glob("/css/*", "/cssx"));
        assert!(glob("*.map", "/js/app.js.map"));
        assert!(glob("/a*b*c", "/aXXbYYc"));
        assert!(!glob("/a*b*c", "/ac"));
        assert!(glob("/favicon.ico", "/favicon.ico"));
        assert!(!glob("/favicon.ico", "/favicon.icon"));
    }

    #[test]
    fn errors_name_the_line() {
        for (text, needle) in [
            ("", "no site block"),
            ("{\n admin off\n}\n", "no site block"),
            ("http://:8080 {\n", "never closed"),
            ("https://x:443 {\n}", "plain http"),
            ("example.com {\n}", "no port"),
            (":80 {\n}\n:81 {\n}", "second site block"),
            (":80 {\n header @nope X y\n}", "undefined matcher"),
            (":80 {\n @m method GET\n}", "line 2"),
            (":80 {\n root a b c\n}", "line 2: root"),
            (":@@HTTP_PORT@@ {\n}", "@@HTTP_PORT@@"),
        ] {
            let e = parse(text, &env(&[])).unwrap_err();
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn comments_quotes_and_blocks() {
        let text = "# top\n{\n log {\n  output stderr\n }\n}\n:8081 { # site\n header \"X-A\" \"a # b\"\n log {\n format json\n }\n}\n";
        let site = parse(text, &env(&[])).unwrap();
        assert_eq!(site.listen, "0.0.0.0:8081".parse().unwrap());
        assert_eq!(
            site.headers[0].op,
            HeaderOp::Set("X-A".into(), "a # b".into())
        );
        assert_eq!(site.ignored, vec!["line 9: log".to_string()]);
        assert_eq!(site.php_server, None);
    }
}
