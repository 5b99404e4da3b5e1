//! Differential test of the two environment validators: `cargo xtask validate-env` (Rust)
//! and the generated `common/helpers/validate-env.sh` (under dash and under busybox sh)
//! must reach the same verdict on every file of a corpus — the same exit code, with and
//! without `--strict`, and the same set of (rule, variable) findings — and neither may
//! execute anything from a file: a canary file that the corpus tries to create with
//! `$(touch ...)` and backticks must never appear.

mod support;

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use support::*;

const CANARY: &str = "CANARY";

fn script() -> PathBuf {
    repo().join("common/helpers/validate-env.sh")
}

fn fixture(name: &str) -> PathBuf {
    repo().join("xtask/tests/fixtures").join(name)
}

/// The shells the script must work under (busybox runs its own od and awk applets).
const SHELLS: &[&[&str]] = &[&["dash"], &["busybox", "sh"]];

/// The [`SHELLS`] this machine has; a missing one is skipped loudly (a failure under CI).
fn shells() -> Vec<&'static [&'static str]> {
    SHELLS
        .iter()
        .copied()
        .filter(|sh| {
            let runs = Command::new(sh[0])
                .args(&sh[1..])
                .args(["-c", "exit 0"])
                .output()
                .is_ok_and(|o| o.status.success());
            let package = if sh[0] == "busybox" {
                "busybox-static"
            } else {
                sh[0]
            };
            require::available(sh[0], runs, &format!("apt-get install {package}"))
        })
        .collect()
}

type Findings = BTreeSet<(String, String)>;

struct Verdict {
    code: i32,
    findings: Findings,
    text: String,
}

/// `cargo xtask validate-env --env-file NAME --json [--strict]` in `dir`.
fn rust(dir: &Path, name: &str, strict: bool) -> Verdict {
    let mut cmd = xtask();
    cmd.args(["validate-env", "--json", "--env-file", name])
        .current_dir(dir);
    if strict {
        cmd.arg("--strict");
    }
    let out = cmd.output().expect("spawn xtask");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{name}: xtask printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let findings = json
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["key"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    Verdict {
        code: out.status.code().unwrap(),
        findings,
        text: serde_json::to_string_pretty(&json).unwrap(),
    }
}

/// Parses `ERROR|WARN <rule> <origin>[:<line>][ <KEY>]: ...` lines.
fn shell_findings(stderr: &str, origin: &str) -> Findings {
    let mut set = BTreeSet::new();
    for line in stderr.lines() {
        let Some((sev, rest)) = line.split_once(' ') else {
            continue;
        };
        if sev != "ERROR" && sev != "WARN" {
            continue;
        }
        let (rule, rest) = rest.split_once(' ').unwrap();
        let rest = rest
            .strip_prefix(origin)
            .unwrap_or_else(|| panic!("{line:?} does not name {origin}"));
        let rest = match rest.strip_prefix(':') {
            Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) => {
                r.trim_start_matches(|c: char| c.is_ascii_digit())
            }
            _ => rest,
        };
        let key = if rest.starts_with(": ") {
            ""
        } else {
            rest[1..].split_once(": ").unwrap().0
        };
        set.insert((rule.to_string(), key.to_string()));
    }
    set
}

fn verdict(out: Output, origin: &str) -> Verdict {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    Verdict {
        code: out.status.code().unwrap(),
        findings: shell_findings(&stderr, origin),
        text: stderr,
    }
}

/// `SHELL validate-env.sh --env-file NAME [--strict]` in `dir`, with a minimal environment.
fn shell(sh: &[&str], dir: &Path, name: &str, strict: bool) -> Verdict {
    let mut cmd = Command::new(sh[0]);
    cmd.args(&sh[1..])
        .arg(script())
        .args(["--env-file", name])
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin");
    if strict {
        cmd.arg("--strict");
    }
    verdict(cmd.output().expect("spawn the shell"), name)
}

// ------------------------------------------------------------------------------------------
// The corpus
// ------------------------------------------------------------------------------------------

/// A configuration every rule accepts.
const GOOD: &[(&str, &str)] = &[
    ("DEBUG", "false"),
    ("APP_BIND_IP", "127.0.0.1"),
    ("APP_PORT", "8080"),
    ("FULL_BASE_URL", "https://projects.example.org"),
    (
        "SECURITY_SALT",
        "4f1c2a9d8e7b6c5a4f1c2a9d8e7b6c5a4f1c2a9d8e7b6c5a",
    ),
    ("DB_HOST", "db.internal.example.org"),
    ("DB_PORT", "5432"),
    ("DB_USERNAME", "orangescrum"),
    ("DB_PASSWORD", "9b8a7c6d5e4f3a2b1c0d"),
    ("DB_NAME", "orangescrum"),
    ("REDIS_HOST", "redis.internal.example.org"),
    ("REDIS_PORT", "6379"),
    ("REDIS_PASSWORD", "0a1b2c3d4e5f6a7b8c9d"),
    ("CACHE_ENGINE", "redis"),
    ("SESSION_HANDLER", "cache"),
    ("QUEUE_ENGINE", "redis"),
    ("WORKER_SLEEP", "5"),
    ("STORAGE_BUCKET", "orangescrum-uploads"),
    ("STORAGE_REGION", "us-east-1"),
    ("EMAIL_TRANSPORT", "smtp"),
    ("FROM_EMAIL", "noreply@example.org"),
    ("NOTIFY_EMAIL", "admin@example.org"),
    ("SMTP_HOST", "smtp.example.org"),
    ("SMTP_PORT", "587"),
    ("SMTP_TLS", "true"),
    ("V4_ROUTING_ENABLED", "false"),
    ("V2_ROUTING_SSL_VERIFY", "true"),
];

/// GOOD with some variables replaced (`Some(raw value text)`) or removed (`None`); new
/// names are appended.
fn good_with(changes: &[(&str, Option<&str>)]) -> Vec<u8> {
    let mut lines: Vec<(String, Option<String>)> = GOOD
        .iter()
        .map(|(k, v)| (k.to_string(), Some(v.to_string())))
        .collect();
    for (k, v) in changes {
        match lines.iter_mut().find(|(n, _)| n == k) {
            Some(slot) => slot.1 = v.map(String::from),
            None => lines.push((k.to_string(), v.map(String::from))),
        }
    }
    let mut text = String::from("# test configuration\n");
    for (k, v) in lines {
        if let Some(v) = v {
            text.push_str(&format!("{k}={v}\n"));
        }
    }
    text.into_bytes()
}

fn good() -> Vec<u8> {
    good_with(&[])
}

fn appended(extra: &str) -> Vec<u8> {
    let mut b = good();
    b.extend_from_slice(extra.as_bytes());
    b
}

struct Case {
    name: &'static str,
    /// `None`: no file at all.
    bytes: Option<Vec<u8>>,
    /// Exit code without `--strict`.
    code: i32,
    /// Findings that must be among the verdict ("rule" or "rule:KEY"); empty with code 0
    /// means no finding at all.
    expect: &'static [&'static str],
}

fn case(name: &'static str, bytes: Vec<u8>, code: i32, expect: &'static [&'static str]) -> Case {
    Case {
        name,
        bytes: Some(bytes),
        code,
        expect,
    }
}

fn corpus() -> Vec<Case> {
    let megabyte = format!("SMTP_PASSWORD={}\n", "a".repeat(1 << 20));
    let near_limit = format!(
        "SMTP_PASSWORD={}\n",
        "x<y-your_ changeme@@ ".repeat(8_000 / 21)
    );
    let many_lines: String = (0..2000)
        .map(|i| format!("# note {i}\nEXTRA_{i}=v{i}\n"))
        .collect();
    let example = fs::read(repo().join("common/.env.example")).unwrap();
    vec![
        // --- Valid files ---------------------------------------------------------------
        case("valid", good(), 0, &[]),
        case(
            "valid-comments-and-blanks",
            [
                "# header\n\n   \n\t# indented comment\n",
                std::str::from_utf8(&good()).unwrap(),
                "\n# trailing comment with 'quotes' \"and\" $(touch CANARY) `touch CANARY` \\x\n",
            ]
            .concat()
            .into_bytes(),
            0,
            &[],
        ),
        case(
            "valid-no-final-newline",
            good().strip_suffix(b"\n").unwrap().to_vec(),
            0,
            &[],
        ),
        case(
            "valid-quoted",
            good_with(&[
                ("DB_PASSWORD", Some("\"9b8a7c6d5e4f3a2b1c0d\"")),
                ("FROM_EMAIL", Some("'Project Bot noreply@example.org'")),
                ("SMTP_PASSWORD", Some("\"it's a #secret\"")),
                ("SMTP_USERNAME", Some("''")),
            ]),
            0,
            &[],
        ),
        case(
            "valid-unicode",
            good_with(&[
                ("SMTP_PASSWORD", Some("pässwörd€ÁƒłąĀ😀ˆ₁")),
                ("FROM_EMAIL", Some("\"Zoë Ærø noreply@example.org\"")),
            ]),
            0,
            &[],
        ),
        case(
            "valid-shell-metacharacters",
            good_with(&[
                ("SMTP_PASSWORD", Some("a*b?[c]d;e|f&g<h")),
                ("SMTP_USERNAME", Some("-n")),
                ("STORAGE_REGION", Some("%s%n")),
                ("RECAPTCHA_SITE_KEY", Some("#notacomment")),
                ("RECAPTCHA_SECRET_KEY", Some("a#b=c")),
            ]),
            0,
            &[],
        ),
        case(
            "valid-sendgrid",
            good_with(&[
                ("EMAIL_TRANSPORT", Some("sendgrid")),
                ("EMAIL_API_KEY", Some("SG.abc")),
                ("SMTP_HOST", None),
            ]),
            0,
            &[],
        ),
        case(
            "valid-routing",
            good_with(&[
                ("V4_ROUTING_ENABLED", Some("TRUE")),
                ("V2_ROUTING_API_KEY", Some("0123456789abcdef")),
                ("V2_BASE_URL", Some("https://v2.example.org")),
                ("V4_BASE_URL", Some("https://projects.example.org")),
            ]),
            0,
            &[],
        ),
        case(
            "valid-integrations",
            good_with(&[
                ("RECAPTCHA_ENABLED", Some("yes")),
                ("RECAPTCHA_SITE_KEY", Some("site")),
                ("RECAPTCHA_SECRET_KEY", Some("secret")),
                ("GOOGLE_OAUTH_ENABLED", Some("On")),
                ("GOOGLE_OAUTH_CLIENT_ID", Some("id.apps.googleusercontent.com")),
                ("GOOGLE_OAUTH_CLIENT_SECRET", Some("secret")),
                ("STORAGE_ACCESS_KEY", Some("AKIA")),
                ("STORAGE_SECRET_KEY", Some("s3cr3t")),
                ("STORAGE_ENDPOINT", Some("http://minio:9000")),
                ("STORAGE_PATH_STYLE", Some("1")),
            ]),
            0,
            &[],
        ),
        case(
            "valid-near-line-limit",
            appended(
                &near_limit
                    .replace('<', "(")
                    .replace("your_", "yours")
                    .replace("changeme", "chnageme")
                    .replace(' ', "-"),
            ),
            0,
            &[],
        ),
        case(
            "valid-many-lines",
            appended(&many_lines),
            0,
            &["unknown-key:EXTRA_0"],
        ),
        // --- Each value rule -----------------------------------------------------------
        case(
            "salt-missing",
            good_with(&[("SECURITY_SALT", None)]),
            1,
            &["salt-required:SECURITY_SALT"],
        ),
        case(
            "salt-short",
            good_with(&[("SECURITY_SALT", Some("0123456789abcdef0123456789abcde"))]),
            0,
            &["salt-length:SECURITY_SALT"],
        ),
        case(
            "db-password-short",
            good_with(&[("DB_PASSWORD", Some("short"))]),
            0,
            &["db-password-length:DB_PASSWORD"],
        ),
        case(
            "db-password-empty",
            good_with(&[("DB_PASSWORD", Some(""))]),
            1,
            &["db-password-required:DB_PASSWORD"],
        ),
        case(
            "db-host-missing",
            good_with(&[("DB_HOST", None)]),
            1,
            &["db-host-required:DB_HOST"],
        ),
        case(
            "db-names-missing",
            good_with(&[("DB_USERNAME", None), ("DB_NAME", None)]),
            0,
            &["db-username-unset:DB_USERNAME", "db-name-unset:DB_NAME"],
        ),
        case(
            "debug-true",
            good_with(&[("DEBUG", Some("true"))]),
            0,
            &["debug-false:DEBUG"],
        ),
        case(
            "debug-not-boolean",
            good_with(&[("DEBUG", Some("maybe"))]),
            1,
            &["debug-boolean:DEBUG"],
        ),
        case(
            "bind-all-interfaces",
            good_with(&[("APP_BIND_IP", Some("0.0.0.0"))]),
            0,
            &["bind-all-interfaces:APP_BIND_IP"],
        ),
        case(
            "ports",
            good_with(&[
                ("APP_PORT", Some("99999")),
                ("DB_PORT", Some("abc")),
                ("SMTP_PORT", Some("0")),
                ("REDIS_PORT", Some("06379")),
            ]),
            1,
            &[
                "app-port:APP_PORT",
                "db-port:DB_PORT",
                "smtp-port:SMTP_PORT",
            ],
        ),
        case(
            "base-url-ftp",
            good_with(&[("FULL_BASE_URL", Some("ftp://example.org"))]),
            1,
            &["base-url:FULL_BASE_URL"],
        ),
        case(
            "base-url-http",
            good_with(&[("FULL_BASE_URL", Some("http://example.org"))]),
            0,
            &["base-url-https:FULL_BASE_URL"],
        ),
        case(
            "base-url-unset",
            good_with(&[("FULL_BASE_URL", None)]),
            0,
            &["base-url-unset:FULL_BASE_URL"],
        ),
        case(
            "redis",
            good_with(&[("REDIS_HOST", None), ("REDIS_PASSWORD", Some(""))]),
            1,
            &[
                "redis-host-required:REDIS_HOST",
                "redis-password-unset:REDIS_PASSWORD",
            ],
        ),
        case(
            "engines-local",
            good_with(&[
                ("CACHE_ENGINE", Some("file")),
                ("SESSION_HANDLER", Some("php")),
            ]),
            0,
            &[
                "cache-engine-local:CACHE_ENGINE",
                "session-handler-local:SESSION_HANDLER",
            ],
        ),
        case(
            "engines-unsupported",
            good_with(&[
                ("CACHE_ENGINE", Some("apcu")),
                ("SESSION_HANDLER", Some("\"cache php\"")),
                ("QUEUE_ENGINE", Some("sqs")),
                ("WORKER_SLEEP", Some("0")),
            ]),
            1,
            &[
                "cache-engine:CACHE_ENGINE",
                "session-handler:SESSION_HANDLER",
                "queue-engine:QUEUE_ENGINE",
                "worker-sleep:WORKER_SLEEP",
            ],
        ),
        case(
            "s3",
            good_with(&[
                ("STORAGE_BUCKET", None),
                ("STORAGE_ENDPOINT", Some("minio:9000")),
                ("STORAGE_PATH_STYLE", Some("maybe")),
                ("STORAGE_ACCESS_KEY", Some("AKIA")),
            ]),
            1,
            &[
                "storage-bucket-required:STORAGE_BUCKET",
                "storage-endpoint-url:STORAGE_ENDPOINT",
                "storage-path-style-boolean:STORAGE_PATH_STYLE",
                "storage-credentials-pair:STORAGE_SECRET_KEY",
            ],
        ),
        case(
            "smtp-without-host",
            good_with(&[("SMTP_HOST", None)]),
            1,
            &["smtp-host-required:SMTP_HOST"],
        ),
        case(
            "sendgrid-without-key",
            good_with(&[("EMAIL_TRANSPORT", Some("sendgrid")), ("SMTP_HOST", None)]),
            1,
            &["sendgrid-key-required:EMAIL_API_KEY"],
        ),
        case(
            "email-unsupported",
            good_with(&[
                ("EMAIL_TRANSPORT", Some("mailgun")),
                ("FROM_EMAIL", None),
                ("SMTP_TLS", Some("sometimes")),
            ]),
            1,
            &[
                "email-transport:EMAIL_TRANSPORT",
                "from-email-unset:FROM_EMAIL",
                "smtp-tls-boolean:SMTP_TLS",
            ],
        ),
        case(
            "routing-incomplete",
            good_with(&[
                ("V4_ROUTING_ENABLED", Some("on")),
                ("V2_ROUTING_SSL_VERIFY", Some("false")),
                ("V4_BASE_URL", Some("projects.example.org")),
            ]),
            1,
            &[
                "routing-api-key-required:V2_ROUTING_API_KEY",
                "routing-v2-url-required:V2_BASE_URL",
                "v4-base-url:V4_BASE_URL",
                "routing-ssl-verify:V2_ROUTING_SSL_VERIFY",
            ],
        ),
        case(
            "integrations-incomplete",
            good_with(&[
                ("RECAPTCHA_ENABLED", Some("true")),
                ("GOOGLE_OAUTH_ENABLED", Some("1")),
                ("GOOGLE_OAUTH_CLIENT_ID", Some("id")),
            ]),
            1,
            &[
                "recaptcha-site-key-required:RECAPTCHA_SITE_KEY",
                "recaptcha-secret-key-required:RECAPTCHA_SECRET_KEY",
                "oauth-client-secret-required:GOOGLE_OAUTH_CLIENT_SECRET",
            ],
        ),
        case(
            "integrations-not-boolean",
            good_with(&[
                ("RECAPTCHA_ENABLED", Some("enabled")),
                ("GOOGLE_OAUTH_ENABLED", Some("y")),
                ("V4_ROUTING_ENABLED", Some("no way")),
            ]),
            1,
            &[
                "recaptcha-boolean:RECAPTCHA_ENABLED",
                "oauth-boolean:GOOGLE_OAUTH_ENABLED",
            ],
        ),
        case(
            "engines-of-the-original",
            good_with(&[
                ("CACHE_ENGINE", Some("memcached")),
                ("QUEUE_ENGINE", Some("database")),
                ("MEMCACHED_PORT", Some("11211")),
                ("MEMCACHED_LOG", Some("true")),
            ]),
            0,
            &["queue-engine-database:QUEUE_ENGINE"],
        ),
        case(
            "worker-and-lifecycle",
            good_with(&[
                ("WORKER_MAX_RUNTIME", Some("1800")),
                ("WORKER_SLEEP", Some("5")),
                ("SKIP_MIGRATIONS", Some("1")),
                ("RUN_SEEDERS", Some("auto")),
                ("SKIP_SEEDERS", Some("false")),
                ("DB_WAIT_TIMEOUT", Some("3600")),
            ]),
            0,
            &[],
        ),
        case(
            "worker-and-lifecycle-invalid",
            good_with(&[
                ("WORKER_MAX_RUNTIME", Some("30m")),
                ("WORKER_SLEEP", Some("-1")),
                ("SKIP_MIGRATIONS", Some("no")),
                ("RUN_SEEDERS", Some("TRUE")),
                ("SKIP_SEEDERS", Some("yes")),
                ("DB_WAIT_TIMEOUT", Some("0")),
            ]),
            1,
            &[
                "worker-max-runtime:WORKER_MAX_RUNTIME",
                "worker-sleep:WORKER_SLEEP",
                "skip-migrations:SKIP_MIGRATIONS",
                "run-seeders:RUN_SEEDERS",
                "skip-seeders:SKIP_SEEDERS",
                "db-wait-timeout:DB_WAIT_TIMEOUT",
            ],
        ),
        case(
            "db-wait-timeout-too-long",
            good_with(&[("DB_WAIT_TIMEOUT", Some("3601"))]),
            1,
            &["db-wait-timeout:DB_WAIT_TIMEOUT"],
        ),
        case(
            "db-password-from-file",
            good_with(&[
                ("DB_PASSWORD", Some("")),
                ("DB_PASSWORD_FILE", Some("/run/secrets/db_password")),
            ]),
            0,
            &[],
        ),
        case(
            "db-password-file-relative",
            good_with(&[
                ("DB_PASSWORD", None),
                ("DB_PASSWORD_FILE", Some("secrets/db_password")),
            ]),
            1,
            &["db-password-file:DB_PASSWORD_FILE"],
        ),
        case(
            "original-fatal-placeholders",
            good_with(&[
                ("SECURITY_SALT", Some("__CHANGE_THIS_TO_RANDOM_STRING__")),
                ("DB_PASSWORD", Some("changeme_in_production")),
                ("V4_ROUTING_ENABLED", Some("true")),
                (
                    "V2_ROUTING_API_KEY",
                    Some("your-secure-api-key-here-change-this"),
                ),
                ("V2_BASE_URL", Some("https://v2.example.org")),
                ("V4_BASE_URL", Some("https://projects.example.org")),
            ]),
            1,
            &[
                "placeholder:SECURITY_SALT",
                "placeholder:DB_PASSWORD",
                "placeholder:V2_ROUTING_API_KEY",
            ],
        ),
        case(
            "original-published-salt",
            good_with(&[(
                "SECURITY_SALT",
                Some("365d69a31aa12630170a659a76ccbf1726a7c4a65efa339675cc69decd8a72ae"),
            )]),
            1,
            &["placeholder:SECURITY_SALT"],
        ),
        case(
            "bind-ip-literals",
            good_with(&[
                ("APP_BIND_IP", Some("::1")),
                ("CADDY_ADMIN", Some("localhost:2019")),
                ("BASE_IMAGE", Some("registry.local:5000/alpine@sha256:0123abcd")),
            ]),
            0,
            &[],
        ),
        case(
            "bind-ip-host-name",
            good_with(&[("APP_BIND_IP", Some("localhost"))]),
            1,
            &["app-bind-ip:APP_BIND_IP"],
        ),
        case(
            "bind-ip-with-blank",
            good_with(&[("APP_BIND_IP", Some("\"1.2.3.4 \""))]),
            1,
            &["app-bind-ip:APP_BIND_IP"],
        ),
        case(
            "bind-ip-with-port",
            good_with(&[("APP_BIND_IP", Some("127.0.0.1:9000"))]),
            1,
            &["app-bind-ip:APP_BIND_IP"],
        ),
        case(
            "bind-ip-bracketed",
            good_with(&[("APP_BIND_IP", Some("[::1]"))]),
            1,
            &["app-bind-ip:APP_BIND_IP"],
        ),
        case(
            "bind-ip-ipv6-all",
            good_with(&[("APP_BIND_IP", Some("::"))]),
            0,
            &["bind-all-interfaces:APP_BIND_IP"],
        ),
        case(
            "empty-listen-address",
            good_with(&[
                ("APP_BIND_IP", Some("")),
                ("APP_PORT", Some("''")),
                ("CADDY_ADMIN", Some("")),
            ]),
            1,
            &[
                "app-bind-ip-empty:APP_BIND_IP",
                "app-port-empty:APP_PORT",
                "caddy-admin-empty:CADDY_ADMIN",
            ],
        ),
        case(
            "caddy-admin-exposed",
            good_with(&[("CADDY_ADMIN", Some("0.0.0.0:2019"))]),
            0,
            &["caddy-admin-exposed:CADDY_ADMIN"],
        ),
        case(
            "base-image-unpinned",
            good_with(&[("BASE_IMAGE", Some("alpine"))]),
            1,
            &["base-image:BASE_IMAGE"],
        ),
        case(
            "base-image-latest",
            good_with(&[("BASE_IMAGE", Some("registry:5000/alpine:latest"))]),
            1,
            &["base-image:BASE_IMAGE"],
        ),
        case(
            "base-image-empty-tag",
            good_with(&[("BASE_IMAGE", Some("alpine:"))]),
            1,
            &["base-image:BASE_IMAGE"],
        ),
        case(
            "loader-and-shell-variables",
            appended(
                "LD_PRELOAD=/tmp/x/payload.so\nLD_LIBRARY_PATH=/tmp/x\nLD_AUDIT=/tmp/a.so\nPATH=/tmp/x\n\
                 IFS=x\nENV=/tmp/rc\nBASH_ENV=/tmp/rc\nSHELLOPTS=xtrace\nBASHOPTS=extglob\n\
                 PS4=x\nPHPRC=/tmp\nPHP_INI_SCAN_DIR=/tmp\nld_preload=x\n",
            ),
            1,
            &[
                "forbidden-key:LD_PRELOAD",
                "forbidden-key:LD_LIBRARY_PATH",
                "forbidden-key:LD_AUDIT",
                "forbidden-key:PATH",
                "forbidden-key:IFS",
                "forbidden-key:ENV",
                "forbidden-key:BASH_ENV",
                "forbidden-key:SHELLOPTS",
                "forbidden-key:BASHOPTS",
                "forbidden-key:PS4",
                "forbidden-key:PHPRC",
                "forbidden-key:PHP_INI_SCAN_DIR",
                "key-case:ld_preload",
            ],
        ),
        case(
            "renamed-names",
            appended("AWS_S3_ENDPOINT=http://minio:9000\nEMAIL_FROM=noreply@example.org\n"),
            1,
            &[
                "renamed-key:AWS_S3_ENDPOINT",
                "renamed-key:EMAIL_FROM",
            ],
        ),
        case(
            "original-operator-full",
            fs::read(fixture("original-operator-full.env")).unwrap(),
            0,
            &[
                "base-url-unset:FULL_BASE_URL",
                "redis-password-unset:REDIS_PASSWORD",
            ],
        ),
        case(
            "original-operator",
            fs::read(fixture("original-operator.env")).unwrap(),
            0,
            &[
                "bind-all-interfaces:APP_BIND_IP",
                "caddy-admin-exposed:CADDY_ADMIN",
                "base-url-unset:FULL_BASE_URL",
                "redis-password-unset:REDIS_PASSWORD",
            ],
        ),
        // --- Placeholders ----------------------------------------------------------------
        case(
            "placeholders",
            good_with(&[
                ("DB_HOST", Some("changeme")),
                ("REDIS_HOST", Some("your-redis-host")),
                ("DB_PASSWORD", Some("<password>")),
                ("SECURITY_SALT", Some("__CHANGE_ME_generate__")),
                ("DB_NAME", Some("@@APP_NAME@@")),
                ("FULL_BASE_URL", Some("https://your_domain.example")),
                ("MY_EXTRA", Some("Change-Me")),
            ]),
            1,
            &[
                "placeholder:DB_HOST",
                "placeholder:REDIS_HOST",
                "placeholder:DB_PASSWORD",
                "placeholder:SECURITY_SALT",
                "placeholder:DB_NAME",
                "placeholder:FULL_BASE_URL",
                "placeholder:MY_EXTRA",
            ],
        ),
        case(
            "env-example",
            example,
            1,
            &["placeholder:SECURITY_SALT", "placeholder:APP_PORT"],
        ),
        case(
            "env-full-example",
            fs::read(repo().join("common/.env.full.example")).unwrap(),
            1,
            &["placeholder:SECURITY_SALT", "placeholder:STORAGE_BUCKET"],
        ),
        // --- Names -----------------------------------------------------------------------
        case(
            "duplicate",
            appended("DB_NAME=other\n"),
            0,
            &["duplicate-key:DB_NAME"],
        ),
        case(
            "duplicate-placeholder-first",
            good_with(&[(
                "DB_PASSWORD",
                Some("changeme\nDB_PASSWORD=9b8a7c6d5e4f3a2b1c0d"),
            )]),
            1,
            &["placeholder:DB_PASSWORD", "duplicate-key:DB_PASSWORD"],
        ),
        case(
            "lowercase-key",
            good_with(&[("DB_NAME", None), ("db_name", Some("x"))]),
            0,
            &["key-case:db_name", "db-name-unset:DB_NAME"],
        ),
        case(
            "unknown-key",
            appended("DATABASE__NAME=x\nSECURITY_SALTT=y\n"),
            0,
            &["unknown-key:DATABASE__NAME", "unknown-key:SECURITY_SALTT"],
        ),
        case(
            "invalid-keys",
            appended("1KEY=x\nKEY-NAME=x\n'QUOTED'=x\nKEY.NAME=x\n=x\nKÉ=x\n"),
            1,
            &["invalid-key"],
        ),
        case(
            "key-spacing",
            good_with(&[
                ("DB_NAME", Some(" spaced")),
                ("DB_USERNAME", None),
                ("DB_USERNAME ", Some("x")),
                ("  REDIS_PORT", Some("6379")),
            ]),
            1,
            &[
                "key-spacing:DB_NAME",
                "key-spacing:DB_USERNAME",
                "key-spacing:REDIS_PORT",
            ],
        ),
        case(
            "malformed-lines",
            appended("JUSTAWORD\n; a semicolon comment\n[section]\n"),
            1,
            &["malformed-line"],
        ),
        // --- Line formats the readers disagree on -------------------------------------------
        case(
            "crlf",
            String::from_utf8(good())
                .unwrap()
                .replace('\n', "\r\n")
                .into_bytes(),
            0,
            &["crlf"],
        ),
        case(
            "export",
            appended("export SMTP_USERNAME=x\nexport\tSMTP_PASSWORD = y\nexport BARE\n"),
            1,
            &[
                "export-prefix:SMTP_USERNAME",
                "export-prefix:SMTP_PASSWORD",
                "export-prefix:BARE",
            ],
        ),
        case(
            "inline-comment",
            good_with(&[
                ("DB_NAME", Some("orangescrum # the database")),
                ("DB_USERNAME", Some("x\t#tab")),
            ]),
            1,
            &["inline-comment:DB_NAME", "inline-comment:DB_USERNAME"],
        ),
        case(
            "unquoted-space",
            good_with(&[
                ("FROM_EMAIL", Some("Project Bot noreply@example.org")),
                ("DB_NAME", Some("orangescrum  ")),
            ]),
            0,
            &["unquoted-space:FROM_EMAIL", "unquoted-space:DB_NAME"],
        ),
        case(
            "bad-quoting",
            good_with(&[
                ("DB_NAME", Some("\"unterminated")),
                ("DB_USERNAME", Some("\"a\"b")),
                ("SMTP_PASSWORD", Some("'it's'")),
                ("SMTP_USERNAME", Some("\"x\" # c")),
            ]),
            1,
            &[
                "bad-quoting:DB_NAME",
                "bad-quoting:DB_USERNAME",
                "bad-quoting:SMTP_PASSWORD",
                "bad-quoting:SMTP_USERNAME",
            ],
        ),
        case(
            "command-substitution",
            good_with(&[
                ("DB_HOST", Some("$(touch CANARY)")),
                ("SMTP_PASSWORD", Some("\"$(touch CANARY)\"")),
            ]),
            1,
            &[
                "command-substitution:DB_HOST",
                "command-substitution:SMTP_PASSWORD",
            ],
        ),
        case(
            "backticks",
            good_with(&[
                ("DB_HOST", Some("`touch CANARY`")),
                ("REDIS_HOST", Some("'`touch CANARY`'")),
            ]),
            1,
            &[
                "command-substitution:DB_HOST",
                "command-substitution:REDIS_HOST",
            ],
        ),
        case(
            "variable-reference",
            good_with(&[
                ("DB_NAME", Some("${HOME}")),
                ("DB_USERNAME", Some("${USER:-me}")),
                ("SMTP_PASSWORD", Some("pa$$word")),
                ("REDIS_PASSWORD", Some("$REDIS_SECRET")),
            ]),
            1,
            &[
                "variable-reference:DB_NAME",
                "variable-reference:DB_USERNAME",
                "variable-reference:SMTP_PASSWORD",
                "variable-reference:REDIS_PASSWORD",
            ],
        ),
        case(
            "multi-line-value",
            good_with(&[("SMTP_PASSWORD", Some("\"first\nsecond\""))]),
            1,
            &["bad-quoting:SMTP_PASSWORD", "malformed-line"],
        ),
        case(
            "backslashes",
            good_with(&[
                ("SMTP_PASSWORD", Some("a\\nb")),
                ("DB_NAME", Some("orange\\\nscrum")),
                ("SMTP_USERNAME", Some("\"q\\\"q\"")),
            ]),
            1,
            &[
                "backslash:SMTP_PASSWORD",
                "backslash:DB_NAME",
                "backslash:SMTP_USERNAME",
                "malformed-line",
            ],
        ),
        case(
            "comment-continuation",
            appended("# a comment \\\nSMTP_USERNAME=x\n"),
            1,
            &["comment-continuation"],
        ),
        case(
            "unicode-space",
            good_with(&[
                ("DB_NAME", Some("orangescrum\u{a0}")),
                ("DB_USERNAME", Some("a\u{2003}b")),
            ]),
            1,
            &["unicode-space:DB_NAME", "unicode-space:DB_USERNAME"],
        ),
        case(
            "tab-in-value",
            good_with(&[("SMTP_PASSWORD", Some("a\tb"))]),
            0,
            &["unquoted-space:SMTP_PASSWORD"],
        ),
        // --- Bytes -------------------------------------------------------------------------
        case(
            "one-megabyte-value",
            appended(&megabyte),
            1,
            &["line-too-long:SMTP_PASSWORD"],
        ),
        case(
            "line-over-8-kib",
            appended(&format!("SMTP_PASSWORD={}\n", "b".repeat(8179))),
            1,
            &["line-too-long:SMTP_PASSWORD"],
        ),
        case(
            "line-of-8-kib",
            appended(&format!("SMTP_PASSWORD={}\n", "b".repeat(8178))),
            0,
            &[],
        ),
        case(
            "long-trailing-blanks",
            appended(&format!("SMTP_PASSWORD=x{}\n", " ".repeat(8000))),
            0,
            &["unquoted-space:SMTP_PASSWORD"],
        ),
        case(
            "near-limit-placeholders",
            appended(&near_limit),
            1,
            &["placeholder:SMTP_PASSWORD"],
        ),
        case(
            "invalid-utf8",
            [good(), b"SMTP_PASSWORD=caf\xe9\n".to_vec()].concat(),
            1,
            &["non-utf8"],
        ),
        case(
            "binary-and-nul",
            [
                good(),
                b"SMTP_PASSWORD=\x00\x01\xff\xfe$(touch CANARY)\n".to_vec(),
            ]
            .concat(),
            1,
            &["nul-byte"],
        ),
        case(
            "noncharacter",
            appended("SMTP_PASSWORD=a\u{ffff}b\n"),
            1,
            &["non-utf8"],
        ),
        case(
            "surrogate",
            [good(), b"SMTP_PASSWORD=\xed\xa0\x80\n".to_vec()].concat(),
            1,
            &["non-utf8"],
        ),
        case(
            "overlong",
            [good(), b"SMTP_PASSWORD=\xc0\xaf\n".to_vec()].concat(),
            1,
            &["non-utf8"],
        ),
        case(
            "truncated-utf8-at-end",
            [good(), b"SMTP_PASSWORD=\xe2\x82".to_vec()].concat(),
            1,
            &["non-utf8"],
        ),
        case(
            "byte-order-mark",
            [b"\xEF\xBB\xBF".to_vec(), good()].concat(),
            1,
            &["byte-order-mark"],
        ),
        case(
            "bare-carriage-returns",
            appended("SMTP_USERNAME=a\rSMTP_PASSWORD=b\r"),
            1,
            &["control-char"],
        ),
        case(
            "control-chars",
            appended("SMTP_USERNAME=a\x1bb\n# bell \x07\nSMTP_PASSWORD=\x0b\n"),
            1,
            &["control-char"],
        ),
        case(
            "empty-file",
            Vec::new(),
            1,
            &["salt-required:SECURITY_SALT", "db-host-required:DB_HOST"],
        ),
        case(
            "only-comments",
            b"# nothing here\n\n".to_vec(),
            1,
            &["salt-required:SECURITY_SALT"],
        ),
        Case {
            name: "no-file-at-all",
            bytes: None,
            code: 1,
            expect: &["env-file"],
        },
    ]
}

fn show(v: &Verdict) -> String {
    format!("exit {} {:?}\n{}", v.code, v.findings, v.text)
}

#[test]
fn both_validators_agree_on_the_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = corpus();
    assert!(corpus.len() >= 40, "{}", corpus.len());
    let mut names = BTreeSet::new();
    for c in &corpus {
        assert!(names.insert(c.name), "duplicate case {}", c.name);
        let name = format!("{}.env", c.name);
        let path = dir.path().join(&name);
        if let Some(bytes) = &c.bytes {
            fs::write(&path, bytes).unwrap();
        }
        let canary = dir.path().join(CANARY);
        let reference = rust(dir.path(), &name, false);
        assert!(
            !canary.exists(),
            "{}: the Rust validator executed something",
            c.name
        );
        assert_eq!(reference.code, c.code, "{}: {}", c.name, show(&reference));
        if c.expect.is_empty() && c.code == 0 {
            assert!(
                reference.findings.is_empty(),
                "{}: {}",
                c.name,
                show(&reference)
            );
        }
        for e in c.expect {
            let found = match e.split_once(':') {
                Some((rule, key)) => reference.findings.contains(&(rule.into(), key.into())),
                None => reference.findings.iter().any(|(r, _)| r == e),
            };
            assert!(found, "{}: expected {e}: {}", c.name, show(&reference));
        }
        assert!(
            !reference
                .findings
                .iter()
                .any(|(r, _)| r == "readers-disagree"),
            "{}: a format rule is missing: {}",
            c.name,
            show(&reference)
        );
        let strict = rust(dir.path(), &name, true);
        assert_eq!(strict.findings, reference.findings, "{}", c.name);
        for sh in shells() {
            for (strict, want) in [(false, &reference), (true, &strict)] {
                let got = shell(sh, dir.path(), &name, strict);
                assert!(!canary.exists(), "{}: {sh:?} executed something", c.name);
                assert_eq!(
                    (got.code, &got.findings),
                    (want.code, &want.findings),
                    "{} under {sh:?} (strict: {strict}):\nshell: {}\nrust: {}",
                    c.name,
                    show(&got),
                    show(want)
                );
            }
        }
    }
}

/// Environment mode (how the entrypoint, run-native.sh and ExecStartPre= call the script):
/// `env -i KEY=VALUE... sh validate-env.sh` reaches the verdict the Rust validator reaches
/// on the same variables written as a file.
#[test]
fn environment_mode_agrees_with_file_mode() {
    let dir = tempfile::tempdir().unwrap();
    let good: Vec<(String, String)> = GOOD
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let with = |changes: &[(&str, Option<&str>)]| {
        let mut vars = good.clone();
        for (k, v) in changes {
            vars.retain(|(n, _)| n != k);
            if let Some(v) = v {
                vars.push((k.to_string(), v.to_string()));
            }
        }
        vars
    };
    let cases: Vec<Vec<(String, String)>> = vec![
        with(&[]),
        with(&[("SECURITY_SALT", Some("short")), ("DEBUG", Some("1"))]),
        with(&[
            ("APP_BIND_IP", Some("0.0.0.0")),
            ("FULL_BASE_URL", Some("http://x")),
        ]),
        with(&[
            ("DB_PASSWORD", Some("__CHANGE_ME__")),
            ("DB_HOST", Some("")),
            ("REDIS_HOST", None),
        ]),
        with(&[
            ("V4_ROUTING_ENABLED", Some("true")),
            ("V2_ROUTING_SSL_VERIFY", Some("off")),
        ]),
        with(&[("EMAIL_TRANSPORT", Some("sendgrid")), ("SMTP_HOST", None)]),
        with(&[
            ("STORAGE_SECRET_KEY", Some("s")),
            ("APP_PORT", Some("http")),
        ]),
        with(&[
            ("CACHE_ENGINE", Some("file")),
            ("SESSION_HANDLER", Some("php")),
        ]),
        with(&[
            ("RECAPTCHA_ENABLED", Some("YES")),
            ("GOOGLE_OAUTH_ENABLED", Some("maybe")),
        ]),
        // Set but empty is not unset: the web server would listen on every interface.
        with(&[
            ("APP_BIND_IP", Some("")),
            ("APP_PORT", Some("")),
            ("CADDY_ADMIN", Some("")),
            ("DB_PASSWORD", Some("")),
            ("DB_PASSWORD_FILE", Some("/run/secrets/db_password")),
        ]),
        with(&[
            ("APP_BIND_IP", Some("fe80::1")),
            ("BASE_IMAGE", Some("alpine")),
            ("SKIP_MIGRATIONS", Some("off")),
        ]),
        vec![],
    ];
    for (i, vars) in cases.iter().enumerate() {
        let name = format!("env-{i}.env");
        let text: String = vars.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        fs::write(dir.path().join(&name), text).unwrap();
        let want = rust(dir.path(), &name, false);
        // The OCI entrypoint's environment mode (envcheck::check_environment) decides
        // the same: same rule table, same findings, same verdict.
        let found = envcheck::check_environment(vars.iter().cloned());
        let code = i32::from(
            found
                .iter()
                .any(|f| f.severity == envcheck::Severity::Error),
        );
        let entry: Findings = found
            .iter()
            .map(|f| (f.rule.to_string(), f.key.clone().unwrap_or_default()))
            .collect();
        assert_eq!(
            (code, &entry),
            (want.code, &want.findings),
            "case {i}: check_environment vs the file mode:\n{}",
            show(&want)
        );
        for sh in shells() {
            let mut cmd = Command::new("env");
            cmd.arg("-i")
                .args(vars.iter().map(|(k, v)| format!("{k}={v}")))
                .args(sh)
                .arg(script())
                .current_dir(dir.path());
            let got = verdict(cmd.output().unwrap(), "environment");
            assert_eq!(
                (got.code, &got.findings),
                (want.code, &want.findings),
                "case {i} under {sh:?}:\nshell: {}\nrust: {}",
                show(&got),
                show(&want)
            );
        }
    }
    // Values are data in environment mode too: nothing in them runs, and the known
    // variables' values in the inherited environment are what gets checked.
    for sh in shells() {
        let mut cmd = Command::new("env");
        cmd.arg("-i")
            .args(good.iter().map(|(k, v)| format!("{k}={v}")))
            .arg(format!("SMTP_PASSWORD=$(touch {CANARY})`touch {CANARY}`"))
            .arg("SMTP_USERNAME=a b #c\n* ; rm -rf /")
            .arg(format!("{CANARY}=$(touch {CANARY})"))
            .args(sh)
            .arg(script())
            .arg("--strict")
            .current_dir(dir.path());
        let got = verdict(cmd.output().unwrap(), "environment");
        assert_eq!(got.code, 0, "{sh:?}: {}", show(&got));
        assert!(!dir.path().join(CANARY).exists(), "{sh:?} executed a value");
    }
}

/// `APP_BIND_IP` and `BASE_IMAGE` values, fixed and pseudo-random: the shell's IP literal
/// and image pinning checks decide as the Rust ones (the standard library's address
/// parser and `image_pin_problem`).
#[test]
fn address_and_image_checks_agree() {
    const FIXED: &[&str] = &[
        "127.0.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "256.0.0.1",
        "1.2.3",
        "1.2.3.4.5",
        "01.2.3.4",
        "1.2.3.04",
        "1.2.3.0",
        "1..2.3",
        ".1.2.3",
        "1.2.3.",
        "1234.1.1.1",
        "::",
        "::1",
        "1::",
        "::0",
        "fe80::1",
        "FE80::ABCD",
        "2001:db8::1:0:0:1",
        "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7::",
        "::2:3:4:5:6:7:8",
        "1:2:3:4::5:6:7:8",
        ":1::2",
        "1::2:",
        ":::",
        "1:::2",
        "1::2::3",
        "12345::",
        "::ffff:1.2.3.4",
        "::1.2.3.4",
        "1:2:3:4:5:6:1.2.3.4",
        "1:2:3:4:5:6:7:1.2.3.4",
        "1:2:3:4:5:6::1.2.3.4",
        "1:2:3:4:5::1.2.3.4",
        "1.2.3.4::",
        "1.2.3.4:1::",
        "::ffff:1.2.3",
        "::ffff:01.2.3.4",
        "fe80::1%eth0",
        "[::1]",
        "localhost",
        "g::1",
        ":",
        "",
    ];
    const PIECES: &[&str] = &[
        "1", "0", "00", "255", "256", "ff", "FFFF", "12345", ":", "::", ".", "1.2.3.4", "g",
    ];
    const IMAGES: &[&str] = &[
        "alpine:3.20.3",
        "alpine",
        "alpine:latest",
        "alpine:",
        "a/b:c",
        "a:5000/b",
        "a:5000/b:1",
        "a@sha256:0",
        "a@sha1:0",
        "a/b@sha256:x:latest",
        "@@BASE_IMAGE@@",
        "a:LATEST",
        "x/y/z:1/2",
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut values: Vec<String> = FIXED.iter().map(|s| s.to_string()).collect();
    for _ in 0..60 {
        let n = next(8) + 1;
        values.push((0..n).map(|_| PIECES[next(PIECES.len())]).collect());
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut accepted, mut refused) = (0, 0);
    for (i, ip) in values.iter().enumerate() {
        let image = IMAGES[i % IMAGES.len()];
        let name = format!("addr-{i}.env");
        let bytes = good_with(&[("APP_BIND_IP", Some(ip)), ("BASE_IMAGE", Some(image))]);
        fs::write(dir.path().join(&name), bytes).unwrap();
        let want = rust(dir.path(), &name, false);
        if want
            .findings
            .contains(&("app-bind-ip".into(), "APP_BIND_IP".into()))
        {
            refused += 1;
        } else {
            accepted += 1;
        }
        for sh in shells() {
            let got = shell(sh, dir.path(), &name, false);
            assert_eq!(
                (got.code, &got.findings),
                (want.code, &want.findings),
                "APP_BIND_IP={ip:?} BASE_IMAGE={image:?} under {sh:?}:\nshell: {}\nrust: {}",
                show(&got),
                show(&want)
            );
        }
    }
    assert!(
        accepted >= 15 && refused >= 30,
        "{accepted} accepted, {refused} refused"
    );
}

/// An `.env` written for the original packages (every placeholder replaced) passes both
/// validators without errors and without unknown names; its warnings are the ones the
/// original packages gave too (plus the admin API on every interface).
#[test]
fn an_env_of_the_original_packages_passes() {
    // From the original common + Docker .env.example, and from its .env.full.example.
    for fixture_name in ["original-operator.env", "original-operator-full.env"] {
        env_of_the_original_passes(fixture_name);
    }
}

fn env_of_the_original_passes(fixture_name: &str) {
    let path = fixture(fixture_name);
    let dir = path.parent().unwrap();
    let name = path.file_name().unwrap().to_str().unwrap();
    let want = rust(dir, name, false);
    assert_eq!(want.code, 0, "{}", show(&want));
    for (rule, key) in &want.findings {
        assert!(
            ![
                "unknown-key",
                "renamed-key",
                "forbidden-key",
                "placeholder",
                "key-case"
            ]
            .contains(&rule.as_str()),
            "{rule} {key}: {}",
            show(&want)
        );
    }
    let text = String::from_utf8_lossy(
        &ok(xtask()
            .args(["validate-env", "--env-file", name])
            .current_dir(dir))
        .stdout,
    )
    .into_owned();
    assert!(text.contains("0 error(s)"), "{text}");
    for sh in shells() {
        let got = shell(sh, dir, name, false);
        assert_eq!(
            (got.code, &got.findings),
            (0, &want.findings),
            "{sh:?}: {}",
            show(&got)
        );
    }
}

/// The names of the original packages' `.env` example files (a list kept as facts in
/// `fixtures/original-env-names.txt`): the common ones are in `.env.example`, all are in
/// `.env.full.example`, and none is reported as unknown, renamed or forbidden.
#[test]
fn every_name_of_the_original_packages_is_known() {
    let list = fs::read_to_string(fixture("original-env-names.txt")).unwrap();
    let keys = |rel: &str| -> BTreeSet<String> {
        fs::read_to_string(repo().join(rel))
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, _)| k.to_string()))
            .filter(|k| !k.starts_with('#'))
            .collect()
    };
    let (example, full) = (
        keys("common/.env.example"),
        keys("common/.env.full.example"),
    );
    assert!(
        example.is_subset(&full),
        "{:?}",
        example.difference(&full).collect::<Vec<_>>()
    );
    let mut section = "";
    let mut names = Vec::new();
    for line in list
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        if line.starts_with('[') {
            section = line;
            continue;
        }
        match section {
            "[common]" => assert!(example.contains(line), "common/.env.example lacks {line}"),
            "[full]" => assert!(full.contains(line), "common/.env.full.example lacks {line}"),
            _ => panic!("{line} outside a section"),
        }
        names.push(line);
    }
    assert_eq!(names.len(), 91 + 38);
    // Every name in one file, with an empty value: value rules may fire, name rules not.
    let dir = tempfile::tempdir().unwrap();
    let text: String = names.iter().map(|n| format!("{n}=\n")).collect();
    fs::write(dir.path().join("names.env"), text).unwrap();
    let mut verdicts = vec![rust(dir.path(), "names.env", false)];
    for sh in shells() {
        verdicts.push(shell(sh, dir.path(), "names.env", false));
    }
    for v in &verdicts {
        for (rule, key) in &v.findings {
            assert!(
                !["unknown-key", "renamed-key", "forbidden-key", "key-case"]
                    .contains(&rule.as_str()),
                "{rule} {key}"
            );
        }
    }
}

/// Every old name of `fixtures/renamed-env-names.txt` is an error naming its new name in
/// both validators, and the new name is known.
#[test]
fn renamed_names_name_the_original() {
    let list = fs::read_to_string(fixture("renamed-env-names.txt")).unwrap();
    let pairs: Vec<(&str, &str)> = list
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_once(' ').unwrap())
        .collect();
    assert!(pairs.len() >= 11, "{pairs:?}");
    let dir = tempfile::tempdir().unwrap();
    let text: String = pairs
        .iter()
        .flat_map(|(old, new)| [format!("{old}=x\n"), format!("{new}=\n")])
        .collect();
    fs::write(dir.path().join("old.env"), &text).unwrap();
    let out = run(xtask()
        .args(["validate-env", "--env-file", "old.env"])
        .current_dir(dir.path()));
    assert_eq!(out.status.code(), Some(1));
    let rust_text = String::from_utf8_lossy(&out.stdout).into_owned();
    for sh in shells() {
        let out = Command::new(sh[0])
            .args(&sh[1..])
            .arg(script())
            .args(["--env-file", "old.env"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let shell_text = String::from_utf8_lossy(&out.stderr).into_owned();
        for text in [&rust_text, &shell_text] {
            for (old, new) in &pairs {
                assert!(
                    text.lines().any(|l| l.starts_with("ERROR renamed-key ")
                        && l.contains(&format!(" {old}: "))
                        && l.contains(&format!("its name is now {new} "))),
                    "{old} -> {new} under {sh:?}:\n{text}"
                );
            }
            assert!(!text.contains("unknown-key"), "{text}");
        }
    }
}

/// The command-line surface the packages rely on is the same for both validators.
#[test]
fn command_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("ok.env"), good()).unwrap();
    fs::create_dir(dir.path().join("a-directory")).unwrap();
    for sh in shells() {
        let run_sh = |args: &[&str]| {
            Command::new(sh[0])
                .args(&sh[1..])
                .arg(script())
                .args(args)
                .current_dir(dir.path())
                .output()
                .unwrap()
        };
        let out = run_sh(&["--env-file=ok.env"]);
        assert_eq!(out.status.code(), Some(0), "{sh:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("OK (ok.env)"));
        let out = run_sh(&["--quiet", "--env-file", "ok.env"]);
        assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{sh:?}");
        assert_eq!(run_sh(&["--env-file"]).status.code(), Some(2), "{sh:?}");
        assert_eq!(run_sh(&["--bogus"]).status.code(), Some(2), "{sh:?}");
        assert_eq!(run_sh(&["--help"]).status.code(), Some(0), "{sh:?}");
        let dir_verdict = shell(sh, dir.path(), "a-directory", false);
        assert_eq!(dir_verdict.code, 1);
        assert_eq!(
            dir_verdict.findings,
            rust(dir.path(), "a-directory", false).findings
        );
    }
    // Rust: --target changes the readers the messages name, not the verdict.
    for target in ["docker", "native"] {
        let out = run(xtask()
            .args([
                "validate-env",
                "--json",
                "--target",
                target,
                "--env-file",
                "ok.env",
            ])
            .current_dir(dir.path()));
        assert_eq!(out.status.code(), Some(0));
    }
    // Default file: .env in the current directory; human output names rule, place and fix.
    fs::write(
        dir.path().join(".env"),
        good_with(&[("DEBUG", Some("true"))]),
    )
    .unwrap();
    let out = run(xtask().arg("validate-env").current_dir(dir.path()));
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().next().unwrap();
    assert!(
        line.starts_with("WARN debug-false .env:2 DEBUG: should be false in production — fix: "),
        "{text}"
    );
}

/// `validate-env` and `audit` read only the files they are given: a broken release.toml in
/// the checkout must not stop them (the tasks that need it still refuse it, naming it).
#[test]
fn validate_env_and_audit_do_not_need_the_release_config() {
    let fx = Fixture::new();
    fs::write(fx.root.join("packaging/release.toml"), "[release\nbroken").unwrap();
    let env = fixture("original-operator.env");
    let out = ok(fx.xtask().arg("validate-env").arg("--env-file").arg(&env));
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 error(s)"));
    let pkg = tempfile::tempdir().unwrap();
    ok(xtask()
        .args(["package", "native", "--sample", "--out"])
        .arg(pkg.path()));
    let native = pkg.path().join(config_version()).join("native");
    ok(fx.xtask().arg("audit").arg(&native));
    let e = fails(fx.xtask().arg("version"));
    assert!(e.contains("release.toml"), "{e}");
}

/// `--print-env` (what run-native.sh reads `.env` through): the values exactly as compose
/// and systemd read them, known names only, and nothing on stdout when the file fails.
#[test]
fn print_env_prints_known_names_as_the_readers_read_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut env = good();
    env.extend_from_slice(b"WORKER_SLEEP=7   \nBIN=/tmp/payload\n");
    fs::write(dir.path().join("ok.env"), &env).unwrap();
    fs::write(dir.path().join("bad.env"), appended("LD_PRELOAD=/x.so\n")).unwrap();
    for sh in shells() {
        let run = |name: &str| {
            Command::new(sh[0])
                .args(&sh[1..])
                .arg(script())
                .args(["--env-file", name, "--print-env"])
                .current_dir(dir.path())
                .output()
                .unwrap()
        };
        let out = run("ok.env");
        assert!(
            out.status.success(),
            "{sh:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(
            stdout.lines().any(|l| l == "WORKER_SLEEP=7"),
            "{sh:?}: trailing blanks trimmed:\n{stdout}"
        );
        assert!(
            !stdout.contains("BIN="),
            "{sh:?}: an unknown name is never printed"
        );
        assert!(
            stdout.lines().all(|l| l.contains('=')),
            "{sh:?}: only assignments on stdout"
        );
        let bad = run("bad.env");
        assert_eq!(bad.status.code(), Some(1), "{sh:?}");
        assert!(
            bad.stdout.is_empty(),
            "{sh:?}: nothing on stdout when the file fails"
        );
        let usage = Command::new(sh[0])
            .args(&sh[1..])
            .arg(script())
            .arg("--print-env")
            .output()
            .unwrap();
        assert_eq!(usage.status.code(), Some(2), "{sh:?}");
    }
}

/// docker compose v2 (compose-go's dotenv, modelled by `envcheck::parse::compose_v2` and
/// checked against compose-go's own tests in `envcheck/tests/compose_v2.rs`) reads every
/// line the validator accepts, in the corpus and in the original operators' files, exactly
/// as the validator does; every file v2 refuses as a whole the validator refuses too.
/// (Measured when v2 was added: 0 accepted lines read differently; see the counts printed.)
#[test]
fn compose_v2_reads_every_accepted_line_as_the_validator() {
    use envcheck::parse::{self, ComposeValue, Line};
    let mut files: Vec<(String, Vec<u8>)> = corpus()
        .into_iter()
        .filter_map(|c| c.bytes.map(|b| (c.name.to_string(), b)))
        .collect();
    for name in ["original-operator.env", "original-operator-full.env"] {
        files.push((name.into(), fs::read(fixture(name)).unwrap()));
    }
    let (mut accepted, mut v2_refuses_file, mut differ) = (0, 0, Vec::new());
    for (name, bytes) in &files {
        if parse::scan_bytes(bytes).is_some() {
            continue;
        }
        let v2 = parse::compose_v2(bytes);
        let mut file_accepted = 0;
        for (n, raw) in parse::lines(bytes) {
            let line = if n == 1 {
                raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
            } else {
                raw
            };
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let Line::Assign { key, value, .. } = parse::classify_line(line) else {
                continue;
            };
            file_accepted += 1;
            let Ok(entries) = &v2 else { continue };
            let theirs: Vec<_> = entries.iter().filter(|e| e.line == n).collect();
            if theirs.len() != 1
                || theirs[0].key != key
                || theirs[0].value != ComposeValue::Text(value.clone())
            {
                differ.push(format!("{name}:{n} {key}: v2 reads {theirs:?}"));
            }
        }
        accepted += file_accepted;
        if let Err(e) = &v2 {
            v2_refuses_file += file_accepted;
            let verdict = xtask_check(bytes);
            assert!(
                verdict.iter().any(|r| r.1),
                "{name}: docker compose v2 refuses the file ({e}) but the validator has no error: {verdict:?}"
            );
        }
    }
    eprintln!(
        "{} files, {accepted} accepted lines: {} read differently by docker compose v2, \
         {v2_refuses_file} in files v2 refuses as a whole (each refused by the validator too)",
        files.len(),
        differ.len()
    );
    assert!(accepted > 2000, "{accepted}");
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// The Rust validator's (rule, is error) findings for the bytes.
fn xtask_check(bytes: &[u8]) -> Vec<(String, bool)> {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("x.env"), bytes).unwrap();
    let out = xtask()
        .args(["validate-env", "--json", "--env-file", "x.env"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"] == "error",
            )
        })
        .collect()
}
