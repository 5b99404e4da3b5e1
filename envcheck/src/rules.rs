//! The rule table both validators are made of: [`RULES`] drives `cargo xtask validate-env`
//! here and renders `common/helpers/validate-env.sh` (`shell.rs`), so a rule changes in
//! one place. Predicates are defined on bytes, as `sh` sees them with `LC_ALL=C`.

use std::collections::{BTreeMap, BTreeSet};

use crate::{Finding, Severity};

/// One check: its stable id (printed, and matched by tests and tooling), severity, what it
/// checks, when it applies, the problem as printed after the variable name, and the fix.
#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    pub check: Check,
    pub when: When,
    pub problem: &'static str,
    pub fix: &'static str,
}

#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// Found by the line reader of a file (`parse::classify_line` and the byte scan).
    Format,
    /// Safety net of the Rust validator only: the consumer models disagree on a file that
    /// passed every format rule (never expected; tested).
    ReadersDisagree,
    /// Any value that still looks like a placeholder ([`PLACEHOLDER_GLOBS`]).
    Placeholder,
    /// A file key that neither `.env.example` nor `.env.full.example` has.
    UnknownKey,
    /// A file key of [`FORBIDDEN_KEYS`] or [`FORBIDDEN_PREFIXES`].
    ForbiddenKey,
    /// A file key of [`RENAMED`]: the old name of a variable.
    RenamedKey,
    /// Present (in the file or the environment) with an empty value: for variables whose
    /// readers treat empty differently from unset.
    NotEmpty(&'static str),
    /// Must be set (non-empty; unset and empty are the same everywhere).
    Set(&'static str),
    /// When set, at least this many bytes.
    MinLength(&'static str, usize),
    /// When set, one of [`TRUE_WORDS`] or [`FALSE_WORDS`].
    Boolean(&'static str),
    /// When set, one of [`FALSE_WORDS`].
    False(&'static str),
    /// When set, not one of [`FALSE_WORDS`].
    NotFalse(&'static str),
    /// When set, an integer 1-65535.
    Port(&'static str),
    /// When set, an integer >= 1 of at most 9 digits.
    PositiveInt(&'static str),
    /// When set, an integer in this range (at most 9 digits).
    IntRange(&'static str, u32, u32),
    /// When set, an IPv4 or IPv6 address literal ([`is_ip_literal`]).
    IpLiteral(&'static str),
    /// When set, a container image with a version tag or digest ([`image_pin_problem`]).
    PinnedImage(&'static str),
    /// When set, starts with `/`.
    AbsolutePath(&'static str),
    /// When set, `http://` or `https://` and something after it.
    Url(&'static str),
    /// When set, exactly one of the words.
    OneOf(&'static str, &'static [&'static str]),
    /// A finding when the value is exactly one of the words.
    NoneOf(&'static str, &'static [&'static str]),
    /// A finding when the value starts with this text.
    Prefix(&'static str, &'static str),
    /// A finding when the value is set and starts with none of these texts.
    NoPrefix(&'static str, &'static [&'static str]),
    /// Both set or neither: the finding names the missing one.
    Pair(&'static str, &'static str),
}

/// When a rule applies (decided on the values, whatever errors their variables have).
#[derive(Debug, Clone, Copy)]
pub enum When {
    Always,
    /// The variable is one of [`TRUE_WORDS`].
    True(&'static str),
    /// The variable is exactly this text.
    Equals(&'static str, &'static str),
    /// The variable is unset or empty.
    Unset(&'static str),
}

pub const TRUE_WORDS: &[&str] = &["true", "1", "yes", "on"];
pub const FALSE_WORDS: &[&str] = &["false", "0", "no", "off"];

/// Shell `case` patterns (`*`, `?`, `[...]`, `[!...]`) of values copied unchanged from a
/// template: `__CHANGE_ME...__`, `changeme`, `your-host`, `<password>`, and package-time
/// `@@NAME@@` placeholders of an unrendered copy of the sources.
pub const PLACEHOLDER_GLOBS: &[&str] = &[
    "*[Cc][Hh][Aa][Nn][Gg][Ee][Mm][Ee]*",
    "*[Cc][Hh][Aa][Nn][Gg][Ee][_-][Mm][Ee]*",
    "__[Cc][Hh][Aa][Nn][Gg][Ee]*",
    "[Yy][Oo][Uu][Rr][_-]*",
    "*[!A-Za-z0-9][Yy][Oo][Uu][Rr][_-]*",
    "*<*>*",
    "*@@[A-Z]*@@*",
    // The SECURITY_SALT the original Docker package's .env.example shipped: public.
    "365d69a31aa12630170a659a76ccbf1726a7c4a65efa339675cc69decd8a72ae",
];

/// Names that change how programs are loaded or how `sh`/`bash`/PHP start. From `.env`
/// they reach every process of the service (and the validator itself): `LD_PRELOAD` runs
/// code, `SHELLOPTS=xtrace` with `PS4` prints (or runs) what the scripts do,
/// `PHPRC`/`PHP_INI_SCAN_DIR` replace the package's php.ini. The package sets what it needs.
pub const FORBIDDEN_KEYS: &[&str] = &[
    "PATH",
    "IFS",
    "ENV",
    "BASH_ENV",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
    "BASH_XTRACEFD",
    "PROMPT_COMMAND",
    "CDPATH",
    "GLOBIGNORE",
    "GCONV_PATH",
    "PHPRC",
    "PHP_INI_SCAN_DIR",
];

/// Prefixes of forbidden names: the dynamic loader's variables (`LD_PRELOAD`,
/// `LD_LIBRARY_PATH`, `LD_AUDIT`, ...).
pub const FORBIDDEN_PREFIXES: &[&str] = &["LD_"];

/// Names this project's earlier releases used, and the original packages' names that
/// replaced them (no alias is read: a renamed line is an error, so its value is not
/// silently ignored). `xtask/tests/fixtures/renamed-env-names.txt` lists the same pairs.
pub const RENAMED: &[(&str, &str)] = &[
    ("AWS_S3_BUCKET", "STORAGE_BUCKET"),
    ("AWS_S3_REGION", "STORAGE_REGION"),
    ("AWS_S3_ENDPOINT", "STORAGE_ENDPOINT"),
    ("AWS_S3_USE_PATH_STYLE", "STORAGE_PATH_STYLE"),
    ("AWS_ACCESS_KEY_ID", "STORAGE_ACCESS_KEY"),
    ("AWS_SECRET_ACCESS_KEY", "STORAGE_SECRET_KEY"),
    ("EMAIL_FROM", "FROM_EMAIL"),
    ("SENDGRID_API_KEY", "EMAIL_API_KEY"),
    ("GOOGLE_CLIENT_ID", "GOOGLE_OAUTH_CLIENT_ID"),
    ("GOOGLE_CLIENT_SECRET", "GOOGLE_OAUTH_CLIENT_SECRET"),
    ("V2_SSL_VERIFY", "V2_ROUTING_SSL_VERIFY"),
    ("QUEUE_HEARTBEAT_SECS", "WORKER_SLEEP"),
];

pub fn is_forbidden_key(key: &str) -> bool {
    FORBIDDEN_KEYS.contains(&key) || FORBIDDEN_PREFIXES.iter().any(|p| key.starts_with(p))
}

/// The name that replaced an old one.
pub fn renamed_to(key: &str) -> Option<&'static str> {
    RENAMED
        .iter()
        .find(|(old, _)| *old == key)
        .map(|(_, new)| *new)
}

pub fn renamed_message(problem: &str, new: &str) -> String {
    format!("{problem}; its name is now {new}")
}

const FIX_SECRET: &str = "generate one with helpers/generate-secrets.sh (--fill .env) and set it";
const FIX_BOOLEAN: &str = "use true or false";
const FIX_PORT: &str = "use an integer between 1 and 65535";
const FIX_URL: &str = "use the form https://host[:port][/path]";

const fn make(
    severity: Severity,
    id: &'static str,
    check: Check,
    problem: &'static str,
    fix: &'static str,
) -> Rule {
    Rule {
        id,
        severity,
        check,
        when: When::Always,
        problem,
        fix,
    }
}

const fn error(id: &'static str, check: Check, problem: &'static str, fix: &'static str) -> Rule {
    make(Severity::Error, id, check, problem, fix)
}

const fn warn(id: &'static str, check: Check, problem: &'static str, fix: &'static str) -> Rule {
    make(Severity::Warning, id, check, problem, fix)
}

impl Rule {
    const fn when(mut self, when: When) -> Rule {
        self.when = when;
        self
    }
}

use Check::*;

/// Every rule, in evaluation order. Format rules come first (found while reading a file),
/// then the placeholder and unknown-key checks (per line), then the value rules in table
/// order; the first ERROR on a variable stops every later check of that variable, so each
/// variable gets at most one error.
pub const RULES: &[Rule] = &[
    // --- The file as a whole ------------------------------------------------------------
    error("env-file", Format,
        "cannot be read (missing, not a regular file, or not readable)",
        "create it from the template: cp .env.example .env (or pass --env-file PATH)"),
    error("nul-byte", Format,
        "contains a NUL byte: systemd refuses the whole file, docker compose reads it",
        "save the file as plain text without binary data"),
    error("non-utf8", Format,
        "is not valid UTF-8 (or holds a Unicode noncharacter): docker compose 1.29 cannot decode it (v2 reads the bytes) and systemd refuses the whole file",
        "save the file as UTF-8, e.g. iconv -f ISO-8859-1 -t UTF-8"),
    error("byte-order-mark", Format,
        "starts with a byte order mark: docker compose skips it, systemd reads it as part of the first name",
        "save the file as UTF-8 without a byte order mark"),
    warn("crlf", Format,
        "has Windows (CRLF) line endings: docker compose (1.29 and v2) and systemd accept them, shell tools keep the CR",
        "convert the file, e.g. dos2unix .env or sed -i 's/\\r$//' .env"),
    // --- One line ------------------------------------------------------------------------
    error("line-too-long", Format,
        "is longer than 8192 bytes: no setting needs that much (and over 128 KiB the kernel refuses to start the process)",
        "shorten the value; large data belongs in a file"),
    error("control-char", Format,
        "contains a control character (e.g. a carriage return inside the line): the readers split or keep it differently",
        "remove it; values must be printable text (tabs are allowed)"),
    error("comment-continuation", Format,
        "is a comment ending in a backslash: systemd (before 254) continues the comment on the next line, docker compose does not",
        "remove the trailing backslash"),
    error("export-prefix", Format,
        "starts with 'export': docker compose strips it, systemd ignores the line",
        "remove 'export ' and write KEY=VALUE"),
    error("malformed-line", Format,
        "is not a KEY=VALUE line: docker compose passes the caller's value of a bare name (v2 also reads KEY: VALUE), systemd ignores it",
        "write KEY=VALUE, or start the line with # to make it a comment"),
    error("invalid-key", Format,
        "has an invalid variable name: systemd ignores the line, docker compose 1.29 may not, docker compose v2 may read it or refuse the whole file",
        "use letters, digits and _ only, not starting with a digit (e.g. DB_NAME)"),
    error("key-spacing", Format,
        "has spaces around '='",
        "write KEY=VALUE with no space before or after '='"),
    error("command-substitution", Format,
        "contains $(...) or a backtick: the readers keep it literally, a shell sourcing the file would run it",
        "write the literal value (generated secrets are plain hex)"),
    error("variable-reference", Format,
        "contains '$': docker compose interpolates ${VAR} (Compose v2 also $VAR), systemd keeps it literally",
        "write the literal value without '$'"),
    error("backslash", Format,
        "contains a backslash: systemd treats it as an escape (a trailing one joins lines), docker compose keeps it outside quotes and decodes it inside (1.29 and v2 differently)",
        "choose a value without backslashes"),
    error("bad-quoting", Format,
        "has unbalanced quotes or text after the closing quote (multi-line values are not supported): the readers disagree",
        "write KEY=\"value\" on one line, with no quote of the same kind inside"),
    error("inline-comment", Format,
        "has a comment after the value: docker compose 1.29 drops it, docker compose v2 drops it only after a space (not a tab), systemd keeps it as part of the value",
        "put the comment on a line of its own"),
    error("unicode-space", Format,
        "contains a Unicode space (e.g. a no-break space) outside quotes: docker compose trims it at the ends, systemd keeps it",
        "remove it, or quote the value"),
    warn("unquoted-space", Format,
        "has whitespace outside quotes: docker compose and systemd keep inner and drop trailing whitespace, a shell would split the value",
        "quote the value, e.g. KEY=\"two words\""),
    warn("duplicate-key", Format,
        "is set more than once; the last line wins",
        "keep one line per variable"),
    warn("key-case", Format,
        "has lower-case letters: names are case-sensitive and the package reads upper-case names only",
        "write the name as in .env.example"),
    error("forbidden-key", ForbiddenKey,
        "changes how programs are loaded or how the shell and PHP start (a loader, shell or PHP start-up variable): from .env it could run code or leak secrets",
        "remove the line; the package sets what it needs itself"),
    error("renamed-key", RenamedKey,
        "is a name an earlier release of this package used; the package does not read it, so its value would be ignored",
        "rename the line to the name given"),
    warn("unknown-key", UnknownKey,
        "is not read by the package (not in .env.example or .env.full.example)",
        "remove the line or correct the name"),
    error("readers-disagree", ReadersDisagree,
        "is read differently by docker compose 1.29, docker compose v2 or systemd",
        "write the line in the plain KEY=VALUE form of .env.example"),
    error("placeholder", Placeholder,
        "still contains a placeholder value",
        "replace it with the real value (secrets: helpers/generate-secrets.sh --fill .env)"),
    // --- Application ---------------------------------------------------------------------
    error("debug-boolean", Boolean("DEBUG"), "is not a boolean", FIX_BOOLEAN),
    warn("debug-false", False("DEBUG"), "should be false in production",
        "set DEBUG=false (debug pages leak configuration and stack traces)"),
    error("app-bind-ip-empty", NotEmpty("APP_BIND_IP"), "is set but empty: it overrides the default 127.0.0.1 and listens on every interface",
        "remove the line (127.0.0.1) or set an address such as 127.0.0.1"),
    error("app-bind-ip", IpLiteral("APP_BIND_IP"),
        "is not an IP address: docker compose and the web server need an IPv4 or IPv6 literal",
        "use an address such as 127.0.0.1 or ::1 (no host name, brackets, port or blanks)"),
    warn("bind-all-interfaces", NoneOf("APP_BIND_IP", &["0.0.0.0", "::", "::0", "0:0:0:0:0:0:0:0"]),
        "listens on (native) or publishes to (Docker) every network interface",
        "use 127.0.0.1 behind a TLS reverse proxy, unless this is intended and firewalled"),
    error("app-port-empty", NotEmpty("APP_PORT"), "is set but empty: the listen address would lose its port",
        "remove the line (default port) or set a port number"),
    error("app-port", Port("APP_PORT"), "is not a TCP port number", FIX_PORT),
    error("caddy-admin-empty", NotEmpty("CADDY_ADMIN"), "is set but empty: the web server would enable its admin API on its default address",
        "remove the line (off) or set CADDY_ADMIN=off"),
    warn("caddy-admin-exposed", NoPrefix("CADDY_ADMIN", &["off", "localhost:", "127.", "[::1]:", "unix/"]),
        "opens the web server's admin API beyond this host: whoever reaches it can reconfigure the server",
        "set CADDY_ADMIN=off, or a loopback address such as localhost:2019"),
    error("base-url", Url("FULL_BASE_URL"), "is not an http(s) URL", FIX_URL),
    warn("base-url-unset", Set("FULL_BASE_URL"), "is not set",
        "set the public https:// URL; links in e-mails use it"),
    warn("base-url-https", Prefix("FULL_BASE_URL", "http://"), "is not https",
        "serve the application over TLS (reverse proxy) and use https://"),
    error("salt-required", Set("SECURITY_SALT"), "is required but not set", FIX_SECRET),
    warn("salt-length", MinLength("SECURITY_SALT", 32), "is too short", FIX_SECRET),
    error("base-image", PinnedImage("BASE_IMAGE"), "is not a pinned image",
        "pin a version tag or digest, e.g. alpine:3.20.3 or alpine@sha256:<digest>, or leave it empty for the package default"),
    error("app-image", PinnedImage("APP_IMAGE"), "is not a pinned image",
        "name the release image by digest (dist-manifest.json image.digest), e.g. ghcr.io/owner/repo@sha256:<digest>, or leave it empty to build"),
    // --- Database ------------------------------------------------------------------------
    error("db-host-required", Set("DB_HOST"), "is required but not set",
        "set the PostgreSQL host name or address"),
    error("db-port", Port("DB_PORT"), "is not a TCP port number", FIX_PORT),
    warn("db-username-unset", Set("DB_USERNAME"), "is not set", "set the PostgreSQL user name"),
    warn("db-name-unset", Set("DB_NAME"), "is not set", "set the PostgreSQL database name"),
    error("db-password-file", AbsolutePath("DB_PASSWORD_FILE"), "is not an absolute path",
        "use the full path of the secret file, e.g. /run/secrets/db_password"),
    error("db-password-required", Set("DB_PASSWORD"), "is required but not set (and DB_PASSWORD_FILE is not set)",
        FIX_SECRET).when(When::Unset("DB_PASSWORD_FILE")),
    warn("db-password-length", MinLength("DB_PASSWORD", 16), "is too short", FIX_SECRET),
    error("db-log-boolean", Boolean("DB_LOG"), "is not a boolean", FIX_BOOLEAN),
    // --- Start-up lifecycle --------------------------------------------------------------
    error("skip-migrations", OneOf("SKIP_MIGRATIONS", &["true", "false", "1", "0"]),
        "is ambiguous: any other non-empty value also skips the migrations",
        "use true (skip) or false (run them)"),
    error("run-seeders", OneOf("RUN_SEEDERS", &["auto", "true", "false"]),
        "is not a seeding mode", "use auto (seed an empty database), true or false"),
    error("skip-seeders", OneOf("SKIP_SEEDERS", &["true", "false"]),
        "is not true or false (only true skips seeding)", "use true or false"),
    error("db-wait-timeout", IntRange("DB_WAIT_TIMEOUT", 1, 3600), "is not a whole number of seconds from 1 to 3600",
        "use e.g. DB_WAIT_TIMEOUT=60"),
    // --- Redis, cache, sessions, queue ---------------------------------------------------
    error("redis-host-required", Set("REDIS_HOST"), "is required but not set",
        "set the Redis host name or address"),
    error("redis-port", Port("REDIS_PORT"), "is not a TCP port number", FIX_PORT),
    warn("redis-password-unset", Set("REDIS_PASSWORD"), "is not set: Redis without authentication",
        "protect Redis with a password (helpers/generate-secrets.sh)"),
    error("redis-database", IntRange("REDIS_DATABASE", 0, 999_999_999), "is not a Redis database number",
        "use a whole number, e.g. 0"),
    error("redis-timeout", PositiveInt("REDIS_TIMEOUT"), "is not a positive integer", "use a whole number of seconds, e.g. 1"),
    error("redis-persistent-boolean", Boolean("REDIS_PERSISTENT"), "is not a boolean", FIX_BOOLEAN),
    error("redis-tls-boolean", Boolean("REDIS_TLS_ENABLED"), "is not a boolean", FIX_BOOLEAN),
    error("redis-tls-verify-boolean", Boolean("REDIS_TLS_VERIFY_PEER"), "is not a boolean", FIX_BOOLEAN),
    error("redis-ssl-verify-boolean", Boolean("REDIS_SSL_VERIFY_PEER"), "is not a boolean", FIX_BOOLEAN),
    error("cache-engine", OneOf("CACHE_ENGINE", &["redis", "memcached", "file", "auto"]),
        "is not a supported cache engine", "use CACHE_ENGINE=redis"),
    warn("cache-engine-local", NoneOf("CACHE_ENGINE", &["file"]),
        "keeps the cache on local disk (not shared between instances)", "use CACHE_ENGINE=redis"),
    error("memcached-port", Port("MEMCACHED_PORT"), "is not a TCP port number", FIX_PORT),
    error("memcached-log-boolean", Boolean("MEMCACHED_LOG"), "is not a boolean", FIX_BOOLEAN),
    error("session-handler", OneOf("SESSION_HANDLER", &["cache", "php", "database"]),
        "is not a supported session handler", "use SESSION_HANDLER=cache"),
    warn("session-handler-local", NoneOf("SESSION_HANDLER", &["php"]),
        "keeps sessions on local disk (lost on restart, not shared)", "use SESSION_HANDLER=cache"),
    error("queue-engine", OneOf("QUEUE_ENGINE", &["redis", "database"]), "is not a supported queue engine",
        "use QUEUE_ENGINE=redis"),
    warn("queue-engine-database", NoneOf("QUEUE_ENGINE", &["database"]),
        "polls the database for jobs (slower than Redis)", "use QUEUE_ENGINE=redis"),
    error("worker-max-runtime", PositiveInt("WORKER_MAX_RUNTIME"), "is not a positive integer",
        "use a whole number of seconds, e.g. 1800"),
    error("worker-sleep", PositiveInt("WORKER_SLEEP"), "is not a positive integer",
        "use a whole number of seconds, e.g. 5"),
    // --- Object storage ------------------------------------------------------------------
    error("storage-bucket-required", Set("STORAGE_BUCKET"), "is required but not set",
        "set the bucket that stores uploads"),
    error("storage-endpoint-url", Url("STORAGE_ENDPOINT"), "is not an http(s) URL",
        "leave it empty for AWS S3, or use the provider's endpoint URL"),
    error("storage-path-style-boolean", Boolean("STORAGE_PATH_STYLE"), "is not a boolean", FIX_BOOLEAN),
    error("storage-credentials-pair", Pair("STORAGE_ACCESS_KEY", "STORAGE_SECRET_KEY"),
        "is required because the other storage key is set",
        "set both keys, or neither to use the instance/IAM role credentials"),
    // --- E-mail --------------------------------------------------------------------------
    error("email-transport", OneOf("EMAIL_TRANSPORT", &["smtp", "sendgrid"]),
        "is not a supported transport", "use EMAIL_TRANSPORT=smtp or sendgrid"),
    warn("email-transport-unset", Set("EMAIL_TRANSPORT"), "is not set: the application cannot send mail",
        "set EMAIL_TRANSPORT=smtp or sendgrid"),
    warn("from-email-unset", Set("FROM_EMAIL"), "is not set",
        "set the sender address of the application's mail"),
    warn("notify-email-unset", Set("NOTIFY_EMAIL"), "is not set",
        "set the address that receives system notifications"),
    error("smtp-host-required", Set("SMTP_HOST"), "is required when EMAIL_TRANSPORT=smtp",
        "set the SMTP relay host").when(When::Equals("EMAIL_TRANSPORT", "smtp")),
    error("smtp-port", Port("SMTP_PORT"), "is not a TCP port number", FIX_PORT),
    error("smtp-tls-boolean", Boolean("SMTP_TLS"), "is not a boolean", FIX_BOOLEAN),
    error("sendgrid-key-required", Set("EMAIL_API_KEY"), "is required when EMAIL_TRANSPORT=sendgrid",
        "create an API key in SendGrid and set it").when(When::Equals("EMAIL_TRANSPORT", "sendgrid")),
    // --- V2/V4 routing -------------------------------------------------------------------
    error("routing-boolean", Boolean("V4_ROUTING_ENABLED"), "is not a boolean", FIX_BOOLEAN),
    error("ssl-verify-boolean", Boolean("V2_ROUTING_SSL_VERIFY"), "is not a boolean", FIX_BOOLEAN),
    error("v2-base-url", Url("V2_BASE_URL"), "is not an http(s) URL", FIX_URL),
    error("v4-base-url", Url("V4_BASE_URL"), "is not an http(s) URL", FIX_URL),
    error("routing-token-expiration", PositiveInt("V2_ROUTING_TOKEN_EXPIRATION"), "is not a positive integer",
        "use a whole number of minutes, e.g. 15"),
    error("routing-timeout", PositiveInt("V2_ROUTING_TIMEOUT"), "is not a positive integer",
        "use a whole number of seconds, e.g. 10"),
    error("routing-api-key-required", Set("V2_ROUTING_API_KEY"), "is required when V4_ROUTING_ENABLED is true",
        FIX_SECRET).when(When::True("V4_ROUTING_ENABLED")),
    error("routing-v2-url-required", Set("V2_BASE_URL"), "is required when V4_ROUTING_ENABLED is true",
        "set the V2 base URL, e.g. https://v2.example.org").when(When::True("V4_ROUTING_ENABLED")),
    error("routing-v4-url-required", Set("V4_BASE_URL"), "is required when V4_ROUTING_ENABLED is true",
        "set this installation's public base URL").when(When::True("V4_ROUTING_ENABLED")),
    warn("routing-ssl-verify", NotFalse("V2_ROUTING_SSL_VERIFY"), "should not be false when V4_ROUTING_ENABLED is true",
        "set V2_ROUTING_SSL_VERIFY=true and give V2 a valid certificate").when(When::True("V4_ROUTING_ENABLED")),
    // --- Optional integrations -----------------------------------------------------------
    error("recaptcha-boolean", Boolean("RECAPTCHA_ENABLED"), "is not a boolean", FIX_BOOLEAN),
    error("recaptcha-site-key-required", Set("RECAPTCHA_SITE_KEY"), "is required when RECAPTCHA_ENABLED is true",
        "set the reCAPTCHA site key").when(When::True("RECAPTCHA_ENABLED")),
    error("recaptcha-secret-key-required", Set("RECAPTCHA_SECRET_KEY"), "is required when RECAPTCHA_ENABLED is true",
        "set the reCAPTCHA secret key").when(When::True("RECAPTCHA_ENABLED")),
    error("recaptcha-version", OneOf("RECAPTCHA_VERSION", &["v2", "v3"]), "is not a reCAPTCHA version",
        "use v2 or v3"),
    error("recaptcha-theme", OneOf("RECAPTCHA_THEME", &["light", "dark"]), "is not a reCAPTCHA theme",
        "use light or dark"),
    error("recaptcha-size", OneOf("RECAPTCHA_SIZE", &["normal", "compact", "invisible"]), "is not a reCAPTCHA size",
        "use normal or compact"),
    error("oauth-boolean", Boolean("GOOGLE_OAUTH_ENABLED"), "is not a boolean", FIX_BOOLEAN),
    error("oauth-client-id-required", Set("GOOGLE_OAUTH_CLIENT_ID"), "is required when GOOGLE_OAUTH_ENABLED is true",
        "set the Google OAuth client ID").when(When::True("GOOGLE_OAUTH_ENABLED")),
    error("oauth-client-secret-required", Set("GOOGLE_OAUTH_CLIENT_SECRET"), "is required when GOOGLE_OAUTH_ENABLED is true",
        "set the Google OAuth client secret").when(When::True("GOOGLE_OAUTH_ENABLED")),
    error("oauth-redirect-url", Url("GOOGLE_OAUTH_REDIRECT_URI"), "is not an http(s) URL", FIX_URL),
    error("critical-path-boolean", Boolean("CRITICAL_PATH_ENABLED"), "is not a boolean", FIX_BOOLEAN),
    error("critical-path-url", Url("CRITICAL_PATH_BASE_URL"), "is not an http(s) URL", FIX_URL),
    error("critical-path-url-required", Set("CRITICAL_PATH_BASE_URL"), "is required when CRITICAL_PATH_ENABLED is true",
        "set the URL of the critical path service, or CRITICAL_PATH_ENABLED=false").when(When::True("CRITICAL_PATH_ENABLED")),
    error("gitlab-instance-url", Url("GITLAB_INSTANCE_URL"), "is not an http(s) URL", FIX_URL),
    error("cloud-storage-boolean", Boolean("CLOUD_STORAGE_ENABLED"), "is not a boolean", FIX_BOOLEAN),
    error("dropbox-boolean", Boolean("DROPBOX_ENABLED"), "is not a boolean", FIX_BOOLEAN),
    error("dropbox-credentials-required", Pair("DROPBOX_CLIENT_ID", "DROPBOX_CLIENT_SECRET"),
        "is required because the other Dropbox key is set", "set both Dropbox keys, or neither"),
    error("onedrive-boolean", Boolean("ONEDRIVE_ENABLED"), "is not a boolean", FIX_BOOLEAN),
    error("onedrive-credentials-required", Pair("ONEDRIVE_CLIENT_ID", "ONEDRIVE_CLIENT_SECRET"),
        "is required because the other OneDrive key is set", "set both OneDrive keys, or neither"),
    error("load-test-boolean", Boolean("LOAD_TEST_ENABLED"), "is not a boolean", FIX_BOOLEAN),
    error("load-test-token-required", Set("LOAD_TEST_TOKEN"), "is required when LOAD_TEST_ENABLED is true",
        FIX_SECRET).when(When::True("LOAD_TEST_ENABLED")),
    warn("load-test-enabled", False("LOAD_TEST_ENABLED"), "exposes load-test endpoints",
        "set LOAD_TEST_ENABLED=false outside load testing"),
    error("load-test-cleanup-boolean", Boolean("LOAD_TEST_AUTO_CLEANUP"), "is not a boolean", FIX_BOOLEAN),
    error("load-test-cleanup-hours", PositiveInt("LOAD_TEST_CLEANUP_HOURS"), "is not a positive integer",
        "use a whole number of hours, e.g. 24"),
];

/// The rule with this id (ids are unique: tested).
pub fn rule(id: &str) -> &'static Rule {
    RULES
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no rule {id:?} in RULES"))
}

impl Check {
    /// The variable a value rule checks.
    pub fn key(self) -> Option<&'static str> {
        match self {
            Set(k)
            | MinLength(k, _)
            | Boolean(k)
            | False(k)
            | NotFalse(k)
            | Port(k)
            | PositiveInt(k)
            | IntRange(k, ..)
            | IpLiteral(k)
            | PinnedImage(k)
            | AbsolutePath(k)
            | NotEmpty(k)
            | Url(k)
            | OneOf(k, _)
            | NoneOf(k, _)
            | Prefix(k, _)
            | NoPrefix(k, _) => Some(k),
            Pair(..) | Format | ReadersDisagree | Placeholder | UnknownKey | ForbiddenKey
            | RenamedKey => None,
        }
    }
}

impl Rule {
    /// The message when it does not depend on the value.
    pub fn message(&self) -> String {
        match self.check {
            OneOf(_, words) => format!("{}: use one of {}", self.problem, words.join(", ")),
            _ => self.problem.to_string(),
        }
    }
}

pub fn min_length_message(len: usize, min: usize) -> String {
    format!("is {len} characters, at least {min} required")
}

pub fn pair_message(other: &str) -> String {
    format!("is required because {other} is set")
}

// ------------------------------------------------------------------------------------------
// Predicates (each has a shell twin in shell.rs; the differential test compares them)
// ------------------------------------------------------------------------------------------

/// A shell `case` pattern match, as dash and busybox sh do it under `LC_ALL=C`: on bytes,
/// with `*`, `?`, `[...]` and `[!...]` (ranges by byte value; `[` without `]` is literal).
pub fn glob(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if p < pat.len() {
            match pat[p] {
                b'*' => {
                    star = Some((p, i));
                    p += 1;
                    continue;
                }
                b'?' => {
                    p += 1;
                    i += 1;
                    continue;
                }
                b'[' => {
                    if let Some((matched, next)) = bracket(pat, p, s[i]) {
                        if matched {
                            p = next;
                            i += 1;
                            continue;
                        }
                    } else if s[i] == b'[' {
                        p += 1;
                        i += 1;
                        continue;
                    }
                }
                c if c == s[i] => {
                    p += 1;
                    i += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, si)) => {
                p = sp + 1;
                i = si + 1;
                star = Some((sp, si + 1));
            }
            None => return false,
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

/// Matches one byte against the bracket expression at `pat[at]`: (matched, index after
/// it), or `None` when there is no closing `]`.
fn bracket(pat: &[u8], at: usize, c: u8) -> Option<(bool, usize)> {
    let mut j = at + 1;
    let negate = matches!(pat.get(j), Some(b'!' | b'^'));
    if negate {
        j += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let lo = *pat.get(j)?;
        if lo == b']' && !first {
            return Some((matched != negate, j + 1));
        }
        first = false;
        if pat.get(j + 1) == Some(&b'-') && pat.get(j + 2).is_some_and(|&h| h != b']') {
            matched |= (lo..=pat[j + 2]).contains(&c);
            j += 3;
        } else {
            matched |= lo == c;
            j += 1;
        }
    }
}

/// Template values are short: longer ones are not matched (which also keeps the shell's
/// glob matching fast on huge environment values).
pub fn is_placeholder(v: &str) -> bool {
    v.len() <= crate::parse::MAX_LINE
        && PLACEHOLDER_GLOBS
            .iter()
            .any(|g| glob(g.as_bytes(), v.as_bytes()))
}

pub fn is_true(v: &str) -> bool {
    TRUE_WORDS.iter().any(|w| w.eq_ignore_ascii_case(v))
}

pub fn is_false(v: &str) -> bool {
    FALSE_WORDS.iter().any(|w| w.eq_ignore_ascii_case(v))
}

fn is_uint(v: &str) -> bool {
    !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())
}

pub fn is_port(v: &str) -> bool {
    is_uint(v) && v.len() <= 5 && (1..=65535).contains(&v.parse::<u32>().unwrap_or(0))
}

pub fn is_positive_int(v: &str) -> bool {
    is_uint(v) && v.len() <= 9 && v.parse::<u32>().unwrap_or(0) >= 1
}

/// An integer `lo..=hi` written with at most 9 digits (leading zeros allowed).
pub fn is_int_in(v: &str, lo: u32, hi: u32) -> bool {
    is_uint(v) && v.len() <= 9 && (lo..=hi).contains(&v.parse::<u32>().unwrap_or(u32::MAX))
}

/// An IPv4 (dotted quad, no leading zeros) or IPv6 address literal, as the standard
/// library parses it: no brackets, zone, port, host name or blanks. Docker and the web
/// server (Go's `net.ParseIP`) accept the same literals.
pub fn is_ip_literal(v: &str) -> bool {
    v.parse::<std::net::IpAddr>().is_ok()
}

pub use crate::image_ref::image_pin_problem;

pub fn is_url(v: &str) -> bool {
    v.strip_prefix("http://")
        .or_else(|| v.strip_prefix("https://"))
        .is_some_and(|rest| !rest.is_empty())
}

// ------------------------------------------------------------------------------------------
// Evaluation
// ------------------------------------------------------------------------------------------

/// What the checks of one file (or environment) have found so far.
#[derive(Default)]
pub struct State {
    /// Values of the known variables (unset and empty are the same).
    pub values: BTreeMap<String, String>,
    /// Line of each variable's last assignment.
    pub lines: BTreeMap<String, usize>,
    /// Variables that already have an error: later checks skip them.
    pub flagged: BTreeSet<String>,
    pub findings: Vec<Finding>,
}

impl State {
    pub fn get(&self, key: &str) -> &str {
        self.values.get(key).map_or("", String::as_str)
    }

    /// True while the variable has no error yet.
    pub fn open(&self, key: &str) -> bool {
        !self.flagged.contains(key)
    }

    pub fn report(
        &mut self,
        rule: &'static Rule,
        key: Option<&str>,
        line: Option<usize>,
        message: String,
    ) {
        if rule.severity == Severity::Error {
            if let Some(k) = key {
                self.flagged.insert(k.to_string());
            }
        }
        self.findings.push(Finding {
            rule: rule.id,
            severity: rule.severity,
            key: key.map(String::from),
            line,
            message,
            fix: rule.fix,
        });
    }

    /// A finding on a variable's value, at the line of its last assignment.
    fn report_value(&mut self, rule: &'static Rule, key: &str, message: String) {
        let line = self.lines.get(key).copied();
        self.report(rule, Some(key), line, message);
    }

    fn holds(&self, when: When) -> bool {
        match when {
            When::Always => true,
            When::True(k) => is_true(self.get(k)),
            When::Equals(k, v) => self.get(k) == v,
            When::Unset(k) => self.get(k).is_empty(),
        }
    }
}

/// Runs the value rules of [`RULES`] in order.
pub fn check_values(st: &mut State) {
    for rule in RULES {
        if !st.holds(rule.when) {
            continue;
        }
        if let Pair(a, b) = rule.check {
            let (va, vb) = (st.get(a).is_empty(), st.get(b).is_empty());
            let missing = match (va, vb) {
                (false, true) => Some((b, a)),
                (true, false) => Some((a, b)),
                _ => None,
            };
            if let Some((missing, other)) = missing.filter(|(m, _)| st.open(m)) {
                st.report_value(rule, missing, pair_message(other));
            }
            continue;
        }
        let Some(key) = rule.check.key() else {
            continue;
        };
        if !st.open(key) {
            continue;
        }
        let v = st.get(key);
        let set = !v.is_empty();
        let message = match rule.check {
            Set(_) if !set => Some(rule.message()),
            MinLength(_, min) if set && v.len() < min => Some(min_length_message(v.len(), min)),
            Boolean(_) if set && !is_true(v) && !is_false(v) => Some(rule.message()),
            False(_) if set && !is_false(v) => Some(rule.message()),
            NotFalse(_) if set && is_false(v) => Some(rule.message()),
            Port(_) if set && !is_port(v) => Some(rule.message()),
            PositiveInt(_) if set && !is_positive_int(v) => Some(rule.message()),
            IntRange(_, lo, hi) if set && !is_int_in(v, lo, hi) => Some(rule.message()),
            IpLiteral(_) if set && !is_ip_literal(v) => Some(rule.message()),
            PinnedImage(_) if set && image_pin_problem(v).is_some() => Some(rule.message()),
            AbsolutePath(_) if set && !v.starts_with('/') => Some(rule.message()),
            NotEmpty(k) if !set && st.values.contains_key(k) => Some(rule.message()),
            NoPrefix(_, ps) if set && !ps.iter().any(|p| v.starts_with(p)) => Some(rule.message()),
            Url(_) if set && !is_url(v) => Some(rule.message()),
            OneOf(_, words) if set && !words.contains(&v) => Some(rule.message()),
            NoneOf(_, words) if set && words.contains(&v) => Some(rule.message()),
            Prefix(_, p) if set && v.starts_with(p) => Some(rule.message()),
            _ => None,
        };
        if let Some(m) = message {
            st.report_value(rule, key, m);
        }
    }
}

// ------------------------------------------------------------------------------------------
// "Did you mean" for unknown names
// ------------------------------------------------------------------------------------------

/// A name in the form the package would spell it: upper case, one `_` between words,
/// common synonyms replaced (`DATABASE__NAME` -> `DB_NAME`, `REDIS_PASS` -> `REDIS_PASSWORD`).
fn normalise(key: &str) -> String {
    key.to_ascii_uppercase()
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| match w {
            "DATABASE" | "POSTGRES" | "PG" => "DB",
            "PASS" | "PASSWD" | "PWD" => "PASSWORD",
            "USER" | "USR" => "USERNAME",
            "HOSTNAME" => "HOST",
            w => w,
        })
        .collect::<Vec<_>>()
        .join("_")
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The known name an unknown one most likely means, if any.
pub fn suggest(key: &str, known: &[String]) -> Option<String> {
    let norm = normalise(key);
    if let Some(k) = known.iter().find(|k| normalise(k) == norm) {
        return Some(k.clone());
    }
    let (dist, best) = known
        .iter()
        .map(|k| (levenshtein(&norm, k), k))
        .min_by_key(|(d, _)| *d)?;
    let limit = if norm.len() >= 8 { 2 } else { 1 };
    (dist <= limit).then(|| best.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_keys_known() {
        let known = crate::known_keys();
        let mut ids = BTreeSet::new();
        for r in RULES {
            assert!(ids.insert(r.id), "duplicate rule id {}", r.id);
            assert!(
                r.id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{}",
                r.id
            );
            let mut keys: Vec<&str> = r.check.key().into_iter().collect();
            if let Pair(a, b) = r.check {
                keys.extend([a, b]);
            }
            match r.when {
                When::True(k) | When::Equals(k, _) | When::Unset(k) => keys.push(k),
                When::Always => {}
            }
            for k in keys {
                assert!(
                    known.iter().any(|x| x == k),
                    "rule {} checks {k}, not in .env.example or .env.full.example",
                    r.id
                );
            }
            assert!(!r.fix.is_empty() && !r.problem.is_empty());
        }
        // Every id classify_line can return is a format rule.
        for id in [
            "line-too-long",
            "control-char",
            "comment-continuation",
            "export-prefix",
            "malformed-line",
            "invalid-key",
            "key-spacing",
            "command-substitution",
            "variable-reference",
            "backslash",
            "bad-quoting",
            "inline-comment",
            "unicode-space",
            "unquoted-space",
        ] {
            assert!(matches!(rule(id).check, Format), "{id}");
        }
    }

    #[test]
    fn globs() {
        let g = |p: &str, s: &str| glob(p.as_bytes(), s.as_bytes());
        assert!(g("*", "") && g("*", "abc") && g("a*c", "abbc") && g("a?c", "abc"));
        assert!(!g("a?c", "ac") && !g("a*c", "abd"));
        assert!(g("[!A-Za-z]x", "1x") && !g("[!A-Za-z]x", "ax"));
        assert!(g("[_-]", "-") && g("[_-]", "_") && !g("[_-]", "a"));
        assert!(
            g("*[!A-Za-z0-9]ab", "\u{e9}ab"),
            "bytes >= 0x80 are not letters"
        );
        assert!(g("[]]", "]") && g("a[", "a["));
        assert!(g("*<*>*", "x<y>z") && !g("*<*>*", "x>y<z"));
    }

    #[test]
    fn placeholders() {
        for v in [
            "changeme",
            "ChangeMe123",
            "change_me",
            "__CHANGE_ME_db__",
            "__CHANGEIT__",
            "your-host",
            "YOUR_KEY",
            "https://your-domain",
            "<password>",
            "a<b>c",
            "@@APP_NAME@@",
            "x@@HTTP_PORT@@",
        ] {
            assert!(is_placeholder(v), "{v}");
        }
        for v in [
            "",
            "0123abcdef",
            "yourself",
            "flavour-x",
            "a@@b",
            "@@",
            "@@a@@",
            "noreply@example.org",
            "5>3<4",
        ] {
            assert!(!is_placeholder(v), "{v}");
        }
    }

    #[test]
    fn value_predicates() {
        assert!(is_true("TRUE") && is_true("1") && is_true("On") && !is_true("y"));
        assert!(is_false("False") && is_false("0") && is_false("OFF") && !is_false(""));
        assert!(is_port("1") && is_port("65535") && is_port("08080"));
        for bad in ["0", "65536", "123456", "-1", "8080 ", "abc", ""] {
            assert!(!is_port(bad), "{bad}");
        }
        assert!(is_positive_int("30") && is_positive_int("999999999"));
        assert!(!is_positive_int("0") && !is_positive_int("1000000000") && !is_positive_int("1.5"));
        assert!(is_url("https://x") && is_url("http://minio:9000"));
        assert!(is_int_in("0", 0, 5) && is_int_in("0005", 1, 5) && !is_int_in("6", 1, 5));
        assert!(!is_int_in("1234567890", 0, u32::MAX) && !is_int_in("-1", 0, 5));
        for ip in [
            "127.0.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fe80::1",
            "::ffff:1.2.3.4",
        ] {
            assert!(is_ip_literal(ip), "{ip}");
        }
        for bad in [
            "localhost",
            "127.0.0.1:9000",
            "[::1]",
            "1.2.3.4 ",
            "01.2.3.4",
            "256.1.1.1",
            "fe80::1%eth0",
            "",
        ] {
            assert!(!is_ip_literal(bad), "{bad}");
        }
        assert!(!is_url("https://") && !is_url("ftp://x") && !is_url("example.org"));
    }

    fn run(pairs: &[(&str, &str)]) -> Vec<(&'static str, String)> {
        let mut st = State::default();
        for (k, v) in pairs {
            st.values.insert(k.to_string(), v.to_string());
        }
        check_values(&mut st);
        st.findings
            .into_iter()
            .map(|f| (f.rule, f.key.unwrap_or_default()))
            .collect()
    }

    /// A configuration every value rule accepts.
    pub const GOOD: &[(&str, &str)] = &[
        ("DEBUG", "false"),
        ("APP_BIND_IP", "127.0.0.1"),
        ("APP_PORT", "8080"),
        ("FULL_BASE_URL", "https://projects.example.org"),
        ("SECURITY_SALT", "0123456789abcdef0123456789abcdef"),
        ("DB_HOST", "db"),
        ("DB_PORT", "5432"),
        ("DB_USERNAME", "orangescrum"),
        ("DB_PASSWORD", "0123456789abcdef"),
        ("DB_NAME", "orangescrum"),
        ("REDIS_HOST", "redis"),
        ("REDIS_PASSWORD", "0123456789abcdef"),
        ("CACHE_ENGINE", "redis"),
        ("SESSION_HANDLER", "cache"),
        ("QUEUE_ENGINE", "redis"),
        ("STORAGE_BUCKET", "uploads"),
        ("EMAIL_TRANSPORT", "smtp"),
        ("FROM_EMAIL", "noreply@example.org"),
        ("NOTIFY_EMAIL", "admin@example.org"),
        ("SMTP_HOST", "smtp.example.org"),
    ];

    fn with(changes: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        let mut v: BTreeMap<&str, &str> = GOOD.iter().copied().collect();
        for (k, val) in changes {
            v.insert(k, val);
        }
        v.into_iter().collect()
    }

    /// (variable, value) changes, or (rule, variable) findings.
    type Pairs = &'static [(&'static str, &'static str)];

    #[test]
    fn each_value_rule() {
        assert_eq!(run(GOOD), vec![]);
        let cases: &[(Pairs, Pairs)] = &[
            (
                &[("SECURITY_SALT", "")],
                &[("salt-required", "SECURITY_SALT")],
            ),
            (
                &[("SECURITY_SALT", "short")],
                &[("salt-length", "SECURITY_SALT")],
            ),
            (
                &[("DB_PASSWORD", "0123456789abcde")],
                &[("db-password-length", "DB_PASSWORD")],
            ),
            (
                &[("DB_PASSWORD", "")],
                &[("db-password-required", "DB_PASSWORD")],
            ),
            (&[("DB_HOST", "")], &[("db-host-required", "DB_HOST")]),
            (&[("DEBUG", "true")], &[("debug-false", "DEBUG")]),
            (&[("DEBUG", "maybe")], &[("debug-boolean", "DEBUG")]),
            (
                &[("APP_BIND_IP", "0.0.0.0")],
                &[("bind-all-interfaces", "APP_BIND_IP")],
            ),
            (&[("APP_PORT", "99999")], &[("app-port", "APP_PORT")]),
            (
                &[("FULL_BASE_URL", "ftp://x")],
                &[("base-url", "FULL_BASE_URL")],
            ),
            (
                &[("FULL_BASE_URL", "http://x")],
                &[("base-url-https", "FULL_BASE_URL")],
            ),
            (
                &[("FULL_BASE_URL", "")],
                &[("base-url-unset", "FULL_BASE_URL")],
            ),
            (
                &[("REDIS_PASSWORD", "")],
                &[("redis-password-unset", "REDIS_PASSWORD")],
            ),
            (
                &[("CACHE_ENGINE", "file")],
                &[("cache-engine-local", "CACHE_ENGINE")],
            ),
            (
                &[("CACHE_ENGINE", "apcu")],
                &[("cache-engine", "CACHE_ENGINE")],
            ),
            (
                &[("SESSION_HANDLER", "php")],
                &[("session-handler-local", "SESSION_HANDLER")],
            ),
            (
                &[("QUEUE_ENGINE", "sqs")],
                &[("queue-engine", "QUEUE_ENGINE")],
            ),
            (
                &[("WORKER_SLEEP", "0"), ("WORKER_MAX_RUNTIME", "x")],
                &[
                    ("worker-max-runtime", "WORKER_MAX_RUNTIME"),
                    ("worker-sleep", "WORKER_SLEEP"),
                ],
            ),
            (
                &[("STORAGE_BUCKET", "")],
                &[("storage-bucket-required", "STORAGE_BUCKET")],
            ),
            (
                &[("STORAGE_ACCESS_KEY", "k")],
                &[("storage-credentials-pair", "STORAGE_SECRET_KEY")],
            ),
            (
                &[("STORAGE_SECRET_KEY", "s")],
                &[("storage-credentials-pair", "STORAGE_ACCESS_KEY")],
            ),
            (
                &[("DB_PASSWORD", ""), ("DB_PASSWORD_FILE", "/run/secrets/db")],
                &[],
            ),
            (
                &[("DB_PASSWORD_FILE", "secrets/db")],
                &[("db-password-file", "DB_PASSWORD_FILE")],
            ),
            (
                &[("APP_BIND_IP", "localhost"), ("APP_PORT", "")],
                &[
                    ("app-bind-ip", "APP_BIND_IP"),
                    ("app-port-empty", "APP_PORT"),
                ],
            ),
            (
                &[("APP_BIND_IP", "")],
                &[("app-bind-ip-empty", "APP_BIND_IP")],
            ),
            (&[("APP_BIND_IP", "::1")], &[]),
            (
                &[("CADDY_ADMIN", "0.0.0.0:2019")],
                &[("caddy-admin-exposed", "CADDY_ADMIN")],
            ),
            (
                &[("CADDY_ADMIN", "")],
                &[("caddy-admin-empty", "CADDY_ADMIN")],
            ),
            (&[("CADDY_ADMIN", "localhost:2019")], &[]),
            (
                &[("BASE_IMAGE", "alpine:latest")],
                &[("base-image", "BASE_IMAGE")],
            ),
            (&[("BASE_IMAGE", "registry:5000/alpine:3.20")], &[]),
            (
                &[
                    ("SKIP_MIGRATIONS", "no"),
                    ("RUN_SEEDERS", "yes"),
                    ("SKIP_SEEDERS", "1"),
                    ("DB_WAIT_TIMEOUT", "3601"),
                ],
                &[
                    ("skip-migrations", "SKIP_MIGRATIONS"),
                    ("run-seeders", "RUN_SEEDERS"),
                    ("skip-seeders", "SKIP_SEEDERS"),
                    ("db-wait-timeout", "DB_WAIT_TIMEOUT"),
                ],
            ),
            (
                &[
                    ("SKIP_MIGRATIONS", "1"),
                    ("RUN_SEEDERS", "auto"),
                    ("SKIP_SEEDERS", "true"),
                    ("DB_WAIT_TIMEOUT", "3600"),
                ],
                &[],
            ),
            (&[("SMTP_HOST", "")], &[("smtp-host-required", "SMTP_HOST")]),
            (
                &[("EMAIL_TRANSPORT", "sendgrid"), ("SMTP_HOST", "")],
                &[("sendgrid-key-required", "EMAIL_API_KEY")],
            ),
            (
                &[("EMAIL_TRANSPORT", "")],
                &[("email-transport-unset", "EMAIL_TRANSPORT")],
            ),
            (
                &[
                    ("V4_ROUTING_ENABLED", "true"),
                    ("V2_ROUTING_SSL_VERIFY", "false"),
                ],
                &[
                    ("routing-api-key-required", "V2_ROUTING_API_KEY"),
                    ("routing-v2-url-required", "V2_BASE_URL"),
                    ("routing-v4-url-required", "V4_BASE_URL"),
                    ("routing-ssl-verify", "V2_ROUTING_SSL_VERIFY"),
                ],
            ),
            (
                &[("RECAPTCHA_ENABLED", "yes")],
                &[
                    ("recaptcha-site-key-required", "RECAPTCHA_SITE_KEY"),
                    ("recaptcha-secret-key-required", "RECAPTCHA_SECRET_KEY"),
                ],
            ),
            (
                &[("GOOGLE_OAUTH_ENABLED", "1")],
                &[
                    ("oauth-client-id-required", "GOOGLE_OAUTH_CLIENT_ID"),
                    ("oauth-client-secret-required", "GOOGLE_OAUTH_CLIENT_SECRET"),
                ],
            ),
        ];
        for (changes, want) in cases {
            let got = run(&with(changes));
            let want: Vec<(&str, String)> = want.iter().map(|(r, k)| (*r, k.to_string())).collect();
            assert_eq!(got, want, "{changes:?}");
        }
    }

    /// The one pinning rule (also `release.toml`'s `runtime.base_image` and the
    /// Dockerfile audit's).
    #[test]
    fn image_pinning() {
        for ok in [
            "alpine:3.20.3",
            "registry:5000/alpine:3.20",
            "alpine@sha256:abc",
            "registry:5000/alpine@sha256:abc",
        ] {
            assert_eq!(image_pin_problem(ok), None, "{ok}");
        }
        for bad in [
            "alpine",
            "alpine:latest",
            "alpine:",
            "registry:5000/alpine",
            "@@BASE_IMAGE@@",
        ] {
            assert!(image_pin_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn names() {
        for k in [
            "LD_PRELOAD",
            "LD_LIBRARY_PATH",
            "LD_AUDIT",
            "PATH",
            "IFS",
            "PS4",
        ] {
            assert!(is_forbidden_key(k), "{k}");
        }
        for k in [
            "PHPRC",
            "PHP_INI_SCAN_DIR",
            "BASH_ENV",
            "SHELLOPTS",
            "BASHOPTS",
            "ENV",
        ] {
            assert!(is_forbidden_key(k), "{k}");
        }
        for k in ["LDAP_HOST", "LD", "DB_PATH", "PATHS", "ld_preload"] {
            assert!(!is_forbidden_key(k), "{k}");
        }
        let known = crate::known_keys();
        for (old, new) in RENAMED {
            assert!(!known.iter().any(|k| k == old), "{old} is still known");
            assert!(known.iter().any(|k| k == new), "{new} is not known");
            assert_eq!(renamed_to(old), Some(*new));
        }
        for k in &known {
            assert!(!is_forbidden_key(k), "{k} is both known and forbidden");
        }
    }

    #[test]
    fn one_error_per_variable() {
        let mut st = State::default();
        st.values.insert("SECURITY_SALT".into(), "short".into());
        st.flagged.insert("SECURITY_SALT".into());
        check_values(&mut st);
        assert!(st
            .findings
            .iter()
            .all(|f| f.key.as_deref() != Some("SECURITY_SALT")));
        // A non-boolean DEBUG is reported once, not also as "must be false".
        let got = run(&with(&[("DEBUG", "maybe")]));
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn suggestions() {
        let known = crate::known_keys();
        let s = |k: &str| suggest(k, &known);
        assert_eq!(s("DATABASE__NAME").as_deref(), Some("DB_NAME"));
        assert_eq!(s("db_name").as_deref(), Some("DB_NAME"));
        assert_eq!(s("REDIS_PASS").as_deref(), Some("REDIS_PASSWORD"));
        assert_eq!(s("DB_USER").as_deref(), Some("DB_USERNAME"));
        assert_eq!(s("SECURITY_SALTT").as_deref(), Some("SECURITY_SALT"));
        assert_eq!(s("SMTP_HOTS").as_deref(), Some("SMTP_HOST"));
        assert_eq!(s("PATH"), None);
        assert_eq!(s("MY_OWN_SETTING"), None);
    }
}
