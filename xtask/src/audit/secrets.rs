//! Secret scan of every text file of the package (the ELF application binary is skipped):
//! private key blocks, cloud and SaaS tokens by their documented formats, JWTs, URLs with
//! a password, high-entropy values assigned to secret-looking keys, and files that must
//! never ship (`.env`, keys, credential files; the same list `package` refuses).
//!
//! Matchers are hand-written (no regex crate): each format is a fixed prefix followed by
//! a run of characters from a known set, which a byte scan checks exactly. Documented
//! placeholders (`CHANGE_ME`, `changeme`, `your-`, `<...>`, `example`, empty) never count.

use super::{AuditFinding, FileKind, Package};
use crate::policy::{forbidden_reason, has_private_key_block};

pub const PRIVATE_KEY: &str = "secret-private-key";
pub const AWS_KEY: &str = "secret-aws-key";
pub const GITHUB_TOKEN: &str = "secret-github-token";
pub const GITLAB_TOKEN: &str = "secret-gitlab-token";
pub const SLACK: &str = "secret-slack";
pub const STRIPE: &str = "secret-stripe";
pub const JWT: &str = "secret-jwt";
pub const URL_CREDENTIALS: &str = "secret-url-credentials";
pub const HIGH_ENTROPY: &str = "secret-high-entropy";
pub const ENV_FILE: &str = "secret-env-file";
pub const FORBIDDEN_FILE: &str = "secret-forbidden-file";
pub const UNSCANNED: &str = "secret-unscanned";

const FIX_ROTATE: &str = "remove it from the package sources and rotate it (it must be treated as leaked); ship a placeholder in .env.example instead";

/// Minimum length of a value for the entropy rule.
pub const MIN_SECRET_LEN: usize = 16;

/// True for values that are documented placeholders, not secrets.
pub fn is_placeholder(v: &str) -> bool {
    let l = v.to_ascii_lowercase();
    v.trim().is_empty()
        || l.contains("change_me")
        || l.contains("changeme")
        || l.contains("change-me")
        || l.contains("your-")
        || l.contains("your_")
        || l.contains("example")
        || (l.contains('<') && l.contains('>'))
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut n = 0usize;
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    counts
        .values()
        .map(|&c| {
            let p = c as f64 / n as f64;
            -p * p.log2()
        })
        .sum()
}

/// Random-looking: hex needs fewer bits per character than mixed alphabets.
pub fn is_high_entropy(v: &str) -> bool {
    if v.chars().count() < MIN_SECRET_LEN || v.chars().any(char::is_whitespace) {
        return false;
    }
    let hex = v.chars().all(|c| c.is_ascii_hexdigit());
    let e = entropy(v);
    if hex {
        e >= 3.0
    } else {
        // Real secrets mix letters with digits or symbols; identifiers and prose do not.
        let has_digit_or_symbol = v.chars().any(|c| !c.is_ascii_alphabetic());
        e >= 3.5 && has_digit_or_symbol
    }
}

/// Key names that hold secrets: PASSWORD, SECRET, TOKEN, SALT anywhere; KEY as a word
/// (`API_KEY`, `apiKey`, not `KeyringMode` or `MONKEY`).
pub fn is_secret_key(key: &str) -> bool {
    // Schema field names that end in "Key" and hold no secret (Kubernetes: a node label
    // name such as kubernetes.io/hostname).
    if ["topologyKey"].contains(&key) {
        return false;
    }
    let u = key.to_ascii_uppercase();
    if [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "SALT",
        "CREDENTIAL",
    ]
    .iter()
    .any(|w| u.contains(w))
    {
        return true;
    }
    // Split into words at `_`, `-`, `.` and lower-to-upper case changes.
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            words.push(std::mem::take(&mut cur));
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    words.push(cur);
    words
        .iter()
        .any(|w| w == "key" || w == "apikey" || w == "privatekey")
}

/// Runs of bytes from `set` starting right after each occurrence of `prefix` at a token
/// boundary; yields (start of the prefix, the full token).
fn tokens<'a>(line: &'a str, prefix: &str, set: fn(u8) -> bool) -> Vec<&'a str> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(p) = line[from..].find(prefix).map(|p| p + from) {
        let boundary = p == 0 || !(b[p - 1].is_ascii_alphanumeric() || b[p - 1] == b'_');
        let mut end = p + prefix.len();
        while end < b.len() && set(b[end]) {
            end += 1;
        }
        if boundary {
            out.push(&line[p..end]);
        }
        from = p + prefix.len();
    }
    out
}

fn alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}
fn b64url(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}
fn word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}
fn upper_digit(c: u8) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

/// Token formats on one line: (check id, what).
pub fn token_matches(line: &str) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    // Which bytes the line holds: a prefix with a byte the line lacks cannot occur, which
    // skips almost every search on almost every line.
    let mut present = [false; 256];
    for &b in line.as_bytes() {
        present[b as usize] = true;
    }
    let tokens = |prefix: &str, set: fn(u8) -> bool| {
        if prefix.bytes().all(|b| present[b as usize]) {
            tokens(line, prefix, set)
        } else {
            Vec::new()
        }
    };
    let mut hit = |id, what, t: &str, min: usize| {
        if t.len() >= min && !is_placeholder(t) {
            out.push((id, what));
        }
    };
    for p in ["AKIA", "ASIA", "ABIA", "ACCA"] {
        for t in tokens(p, upper_digit) {
            if t.len() == 20 {
                hit(AWS_KEY, "an AWS access key id", t, 20);
            }
        }
    }
    for p in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        for t in tokens(p, alnum) {
            hit(GITHUB_TOKEN, "a GitHub token", t, 4 + 36);
        }
    }
    for t in tokens("github_pat_", word) {
        hit(GITHUB_TOKEN, "a GitHub fine-grained token", t, 11 + 22);
    }
    for t in tokens("glpat-", b64url) {
        hit(GITLAB_TOKEN, "a GitLab personal access token", t, 6 + 20);
    }
    for p in ["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"] {
        for t in tokens(p, |c| c.is_ascii_alphanumeric() || c == b'-') {
            hit(SLACK, "a Slack token", t, 5 + 10);
        }
    }
    for t in tokens("hooks.slack.com/services/", |c| {
        c.is_ascii_alphanumeric() || c == b'/'
    }) {
        hit(SLACK, "a Slack webhook URL", t, 25 + 20);
    }
    for p in ["sk_live_", "rk_live_"] {
        for t in tokens(p, alnum) {
            hit(STRIPE, "a Stripe live key", t, 8 + 20);
        }
    }
    for t in tokens("eyJ", |c| b64url(c) || c == b'.') {
        let parts: Vec<&str> = t.split('.').collect();
        if parts.len() == 3
            && parts[0].len() >= 10
            && parts[1].starts_with("eyJ")
            && parts[1].len() >= 10
        {
            hit(JWT, "a JSON Web Token", t, 0);
        }
    }
    out
}

/// `scheme://user:password@host` with a literal password.
pub fn url_password(line: &str) -> bool {
    let mut rest = line;
    while let Some(p) = rest.find("://") {
        let after = &rest[p + 3..];
        let authority_end = after
            .find(|c: char| c == '/' || c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            if let Some((_, pass)) = userinfo.split_once(':') {
                if !pass.is_empty()
                    && !pass.contains('$')
                    && !pass.contains('%')
                    && !is_placeholder(pass)
                {
                    return true;
                }
            }
        }
        rest = after;
    }
    false
}

/// `KEY=VALUE`, `KEY: VALUE`, `"KEY": "VALUE"`, `'KEY' => 'VALUE'` on one line; the value
/// must be a literal (no `$`, `@@`, function call or reference).
pub fn assignments(line: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        // Separators are ASCII, so slicing at them stays on character boundaries.
        let sep_len = if b[i] == b'=' && b.get(i + 1) == Some(&b'>') {
            2
        } else if b[i] == b'=' || b[i] == b':' {
            1
        } else {
            i += 1;
            continue;
        };
        // The key: identifier characters before the separator (quotes and spaces allowed).
        let before = line[..i].trim_end().trim_end_matches(['"', '\'']);
        let kstart = before
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-' || *c == '.'))
            .map(|(p, c)| p + c.len_utf8())
            .unwrap_or(0);
        let key = &before[kstart..];
        let after = line[i + sep_len..].trim_start();
        let (value, _) = match after.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let inner = &after[1..];
                (inner.split(q).next().unwrap_or(""), ())
            }
            _ => (
                after
                    .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
                    .next()
                    .unwrap_or(""),
                (),
            ),
        };
        if !key.is_empty()
            && !value.is_empty()
            && !value.contains('$')
            && !value.contains("@@")
            && !value.contains('(')
            && !value.starts_with("//")
        {
            out.push((key, value));
        }
        i += sep_len;
    }
    out
}

/// The secret findings for one text file.
pub fn scan_text(file: &str, text: &str) -> Vec<AuditFinding> {
    let mut out = Vec::new();
    if has_private_key_block(text.as_bytes()) {
        for (n, l) in text.lines().enumerate() {
            if l.contains("-----BEGIN ") && l.contains("PRIVATE KEY-----") {
                out.push(AuditFinding::error(
                    PRIVATE_KEY,
                    file,
                    Some(n + 1),
                    "a PEM private key block",
                    FIX_ROTATE,
                ));
            }
        }
    }
    for (n, line) in text.lines().enumerate() {
        let at = Some(n + 1);
        let mut ids: Vec<&str> = Vec::new();
        for (id, what) in token_matches(line) {
            if !ids.contains(&id) {
                ids.push(id);
                out.push(AuditFinding::error(
                    id,
                    file,
                    at,
                    what.to_string(),
                    FIX_ROTATE,
                ));
            }
        }
        if url_password(line) {
            out.push(AuditFinding::error(
                URL_CREDENTIALS,
                file,
                at,
                "a URL with a literal password (scheme://user:password@host)",
                "take the password from the environment (${VAR}) and rotate it",
            ));
        }
        for (key, value) in assignments(line) {
            if !is_secret_key(key) || is_placeholder(value) || !ids.is_empty() {
                continue;
            }
            let upper = key.to_ascii_uppercase();
            let aws_secret = upper.contains("AWS")
                && upper.contains("SECRET")
                && value.len() == 40
                && value
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'/' || c == b'+');
            if aws_secret {
                out.push(AuditFinding::error(
                    AWS_KEY,
                    file,
                    at,
                    format!("{key} holds an AWS secret access key"),
                    FIX_ROTATE,
                ));
            } else if is_high_entropy(value) {
                out.push(AuditFinding::error(
                    HIGH_ENTROPY,
                    file,
                    at,
                    format!(
                        "{key} is set to a random-looking value ({} characters, {:.1} bits/char): a real secret",
                        value.chars().count(),
                        entropy(value)
                    ),
                    FIX_ROTATE,
                ));
            }
        }
    }
    out
}

pub fn check(pkg: &Package) -> Vec<AuditFinding> {
    let mut out = Vec::new();
    for (rel, f) in &pkg.files {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        if let Some(why) = forbidden_reason(rel) {
            let env = name == ".env" || name.starts_with(".env.");
            out.push(AuditFinding::error(
                if env { ENV_FILE } else { FORBIDDEN_FILE },
                rel,
                None,
                format!("this file must never ship: {why}"),
                "remove it from the package sources (common/, targets/); keep real configuration on the server only",
            ));
        }
        match &f.kind {
            FileKind::Text(t) => out.extend(scan_text(rel, t)),
            FileKind::Large(size) => out.push(AuditFinding::warning(
                UNSCANNED,
                rel,
                None,
                format!("{size} bytes, too large to scan for secrets"),
                "keep large data out of the package, or scan it separately",
            )),
            FileKind::Elf | FileKind::Symlink(_) | FileKind::Generated => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<&'static str> {
        scan_text("f", text).into_iter().map(|f| f.check).collect()
    }

    #[test]
    fn token_formats() {
        assert_eq!(ids("key: AKIAABCDEFGHIJKLMNOP\n"), [AWS_KEY]);
        assert_eq!(
            ids("AKIAIOSFODNN7EXAMPLE"),
            Vec::<&str>::new(),
            "AWS's documented example"
        );
        assert_eq!(ids("xAKIAABCDEFGHIJKLMNOP"), Vec::<&str>::new());
        assert_eq!(ids(&format!("t=ghp_{}", "a1B2".repeat(9))), [GITHUB_TOKEN]);
        assert_eq!(
            ids(&format!("github_pat_{}", "a1_B".repeat(15))),
            [GITHUB_TOKEN]
        );
        assert_eq!(ids("ghp_short"), Vec::<&str>::new());
        assert_eq!(ids("glpat-abcdefghij0123456789"), [GITLAB_TOKEN]);
        assert_eq!(ids("xoxb-1234567890-abcdef"), [SLACK]);
        assert_eq!(
            ids("https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXX"),
            [SLACK]
        );
        assert_eq!(
            ids(&format!("sk_live_{}", "4eC39HqLyjWDarjtT1zdp7dc")),
            [STRIPE]
        );
        assert_eq!(ids("sk_test_4eC39HqLyjWDarjtT1zdp7dc"), Vec::<&str>::new());
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(ids(jwt), [JWT]);
        assert_eq!(
            ids("eyJhbGciOiJIUzI1NiJ9 only a header"),
            Vec::<&str>::new()
        );
        assert_eq!(
            ids("x\n-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n"),
            [PRIVATE_KEY]
        );
        assert_eq!(
            scan_text("f", "x\n-----BEGIN RSA PRIVATE KEY-----\n")[0].line,
            Some(2)
        );
        assert_eq!(ids("-----BEGIN PUBLIC KEY-----"), Vec::<&str>::new());
    }

    #[test]
    fn urls_with_passwords() {
        assert!(url_password(
            "DATABASE_URL=postgres://app:s3cr3tPass@db:5432/app"
        ));
        assert!(!url_password(
            "http://${AWS_ACCESS_KEY_ID}:${AWS_SECRET}@minio:9000"
        ));
        assert!(!url_password("https://user@host/x and https://host:443/"));
        assert!(!url_password("redis://:CHANGE_ME@redis"));
    }

    #[test]
    fn high_entropy_assignments() {
        assert_eq!(
            ids("DB_PASSWORD=9fK2xQ7mLp3ZvR8tWn4Yb6Hc\n"),
            [HIGH_ENTROPY]
        );
        assert_eq!(
            ids("SECURITY_SALT=3f9a1c0d7e5b2a8f6c4d0e1b9a7c5d3f\n"),
            [HIGH_ENTROPY]
        );
        assert_eq!(
            ids("  'password' => 'Zq8#vN2!pL5@wR9$kT'"),
            Vec::<&str>::new(),
            "$ = not a literal"
        );
        assert_eq!(ids("  'password' => 'Zq8#vN2!pL5@wR9%kT',"), [HIGH_ENTROPY]);
        assert_eq!(ids("\"api_key\": \"Zq8vN2pL5wR9kT3mX7\""), [HIGH_ENTROPY]);
        assert_eq!(
            ids("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            Vec::<&str>::new()
        );
        assert_eq!(
            ids("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYQWERTYKEY1"),
            [AWS_KEY]
        );
        for ok in [
            "DB_PASSWORD=__CHANGE_ME_generate_with_helpers_generate-secrets.sh__",
            "DB_PASSWORD=",
            "SECURITY_SALT=$(rand_hex 32)",
            "'password' => env('DB_PASSWORD'),",
            "KeyringMode=private",
            "DB_PASSWORD=correcthorsebatterystaple",
            "SENDGRID_API_KEY=<your sendgrid key>",
            "TOKEN=your-token-here-please-1234",
            "sha256: 1c9de2210ba5cc2eee401c158cb2cd6062c188dfc1294becb648e5c2badeab9d",
            "PASSWORD_MIN_LENGTH=16",
            "# app — template: x=1 ü: ok",
            "\u{fffd}\u{fffd}=\u{fffd}: ‘quoted’ = ’x’",
        ] {
            assert_eq!(ids(ok), Vec::<&str>::new(), "{ok}");
        }
    }

    #[test]
    fn entropy_values() {
        assert_eq!(entropy(""), 0.0);
        assert_eq!(entropy("aaaa"), 0.0);
        assert!((entropy("abcd") - 2.0).abs() < 1e-9);
        assert!(
            is_high_entropy("0123456789abcdef"),
            "16 distinct hex digits: 4 bits"
        );
        assert!(!is_high_entropy("0123456789abcde"), "too short");
        assert!(!is_high_entropy("aaaaaaaaaaaaaaaaaaaa"));
    }

    #[test]
    fn key_names() {
        for k in [
            "DB_PASSWORD",
            "apiKey",
            "API_KEY",
            "secretKey",
            "SECURITY_SALT",
            "x-auth-token",
            "AWS_ACCESS_KEY_ID",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "KeyringMode",
            "MONKEY",
            "keys",
            "DB_HOST",
            "sha256",
            "topologyKey",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }

    #[test]
    fn forbidden_files() {
        let pkg = Package::from_texts(
            None,
            &[(".env", 0o644, "A=1\n"), ("k/server.key", 0o600, "x")],
        );
        let f = check(&pkg);
        let ids: Vec<&str> = f.iter().map(|f| f.check).collect();
        assert_eq!(ids, [ENV_FILE, FORBIDDEN_FILE]);
    }
}
