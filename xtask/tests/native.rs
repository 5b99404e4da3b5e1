//! End-to-end tests of the native package as it is used on a Linux server, with the `--sample`
//! stand-in binary: the archive `cargo xtask dist` writes is unpacked with GNU tar, verified,
//! configured, run in the foreground (`run-native.sh` and the queue unit's `ExecStart=`),
//! stopped with SIGTERM; placeholder secrets are refused; and `helpers/install.sh` /
//! `uninstall.sh` are run for real (as root) into a temporary prefix, with the installed units
//! checked by `systemd-analyze`.
//!
//! Everything runs below temporary folders and listens on 127.0.0.1 only; every wait is
//! bounded; child processes run in their own process group, which a guard kills on drop (also
//! when an assertion fails); the throwaway service account is deleted by a guard as well.
//! Missing tools fail the tests (CI installs them): apt packages `tar`, `zstd`, `coreutils`,
//! `systemd` (systemd-analyze) and `passwd` (useradd/userdel/groupdel).

mod support;

use std::{
    collections::BTreeMap,
    fs,
    io::{BufRead, BufReader, Read, Write},
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    os::unix::{
        fs::{MetadataExt, PermissionsExt},
        process::CommandExt,
    },
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex, OnceLock,
    },
    thread,
    time::{Duration, Instant},
};

use sha2::{Digest, Sha256};
use support::*;

/// The search path the children get (systemd's default for services).
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Upper bound for the server to answer its health check after start.
const START_TIMEOUT: Duration = Duration::from_secs(20);

// ------------------------------------------------------------------------------------------
// Tools, release, package
// ------------------------------------------------------------------------------------------

/// Fails loudly when a tool the tests rely on is missing.
fn require_tools() {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        for (tool, arg, apt) in [
            ("tar", "--version", "tar"),
            ("zstd", "--version", "zstd"),
            ("sha256sum", "--version", "coreutils"),
            ("systemd-analyze", "--version", "systemd"),
            ("useradd", "--help", "passwd"),
            ("userdel", "--help", "passwd"),
            ("groupdel", "--help", "passwd"),
        ] {
            let found = Command::new(tool)
                .arg(arg)
                .env("PATH", PATH)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .output();
            let out = found.unwrap_or_else(|e| {
                panic!("{tool} is required by the native package tests but cannot be run ({e}): apt-get install {apt}")
            });
            if tool == "tar" {
                assert!(
                    String::from_utf8_lossy(&out.stdout).contains("GNU tar"),
                    "the native package tests need GNU tar (for --zstd): apt-get install tar"
                );
            }
        }
    });
}

/// `xtask` with no `XTASK_*` overrides from the caller's environment.
fn clean_xtask() -> Command {
    let mut c = xtask();
    for (k, _) in std::env::vars() {
        if k.starts_with("XTASK_") {
            c.env_remove(k);
        }
    }
    c
}

/// The native archive of `xtask dist --sample --target native`, built once per test process
/// (into a temporary `--out` that is removed again) and kept in memory.
struct Release {
    name: String,
    bytes: Vec<u8>,
}

fn release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| {
        require_tools();
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        ok(clean_xtask()
            .args(["dist", "--sample", "--target", "native", "--out"])
            .arg(&out));
        let dir = out.join(config_version());
        // The published checksums of the release folder hold.
        ok(Command::new("sha256sum")
            .args(["-c", "--strict", "SHA256SUMS"])
            .current_dir(&dir));
        let archive = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let n = p.file_name().unwrap().to_string_lossy();
                n.contains("-native-") && n.ends_with(".tar.zst")
            })
            .unwrap_or_else(|| panic!("no native .tar.zst in {}", dir.display()));
        Release {
            name: archive.file_name().unwrap().to_string_lossy().into_owned(),
            bytes: fs::read(&archive).unwrap(),
        }
    })
}

/// One unpacked copy of the native package in its own temporary folder.
struct Unpacked {
    tmp: tempfile::TempDir,
    /// The package's top folder (`orangescrum-<version>-native/`).
    dir: PathBuf,
}

fn unpack() -> Unpacked {
    let rel = release();
    let tmp = tempfile::tempdir().unwrap();
    let archive = tmp.path().join(&rel.name);
    fs::write(&archive, &rel.bytes).unwrap();
    ok(Command::new("tar")
        .args(["--zstd", "-xf"])
        .arg(&archive)
        .current_dir(tmp.path()));
    fs::remove_file(&archive).unwrap();
    let tops: Vec<PathBuf> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(tops.len(), 1, "the archive has one top folder: {tops:?}");
    let dir = tops.into_iter().next().unwrap();
    assert!(
        dir.join("SHA256SUMS").is_file(),
        "no SHA256SUMS in the package"
    );
    Unpacked { tmp, dir }
}

// ------------------------------------------------------------------------------------------
// Processes
// ------------------------------------------------------------------------------------------

/// A child process in its own process group, with its output collected in the background.
/// Dropping it kills the whole group (the shell and the server it started) and reaps it.
struct Proc {
    name: String,
    child: Child,
    status: Option<ExitStatus>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    /// How many of the two output readers have reached end of file.
    readers_done: Arc<AtomicUsize>,
}

fn collect(stream: impl Read + Send + 'static, into: Arc<Mutex<String>>, done: Arc<AtomicUsize>) {
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            let mut buf = into.lock().unwrap();
            buf.push_str(&line);
            buf.push('\n');
        }
        done.fetch_add(1, Ordering::SeqCst);
    });
}

impl Proc {
    fn spawn(name: &str, cmd: &mut Command) -> Proc {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {cmd:?}: {e}"));
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let readers_done = Arc::new(AtomicUsize::new(0));
        collect(
            child.stdout.take().unwrap(),
            Arc::clone(&stdout),
            Arc::clone(&readers_done),
        );
        collect(
            child.stderr.take().unwrap(),
            Arc::clone(&stderr),
            Arc::clone(&readers_done),
        );
        Proc {
            name: name.to_string(),
            child,
            status: None,
            stdout,
            stderr,
            readers_done,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn output(&self) -> String {
        format!(
            "--- {} stdout ---\n{}--- {} stderr ---\n{}",
            self.name,
            self.stdout.lock().unwrap(),
            self.name,
            self.stderr.lock().unwrap()
        )
    }

    /// The exit status if the process has ended (reaping it).
    fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().unwrap();
        }
        self.status
    }

    /// Waits at most `limit` for the process to end.
    fn wait_timeout(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(st) = self.exited() {
                // Let the output readers catch up with the last lines (they end when every
                // process holding the pipes has gone).
                let readers = Arc::clone(&self.readers_done);
                wait_until(Duration::from_secs(2), || {
                    readers.load(Ordering::SeqCst) == 2
                });
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, sig: &str) {
        signal(&self.pid().to_string(), sig);
    }

    /// Processes still alive in this process group (the shell's children included).
    fn group_members(&self) -> Vec<u32> {
        let pgid = self.pid();
        let mut pids = Vec::new();
        for e in fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            // Fields after the command name "(...)": state ppid pgrp ...
            let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
                continue;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            if fields.len() > 2 && fields[2] == pgid.to_string() {
                pids.push(pid);
            }
        }
        pids
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // The group id stays reserved while any member lives, so this reaches only our
        // processes: the child and whatever it started.
        let _ = Command::new("sh")
            .args(["-c", "kill -s KILL -- \"-$1\" 2>/dev/null", "sh"])
            .arg(self.pid().to_string())
            .status();
        let _ = self.child.wait();
        if thread::panicking() {
            eprintln!("{}", self.output());
        }
    }
}

/// Sends `sig` (a name such as TERM) to `target` (a pid) with the shell's `kill`.
fn signal(target: &str, sig: &str) {
    let st = Command::new("sh")
        .args(["-c", "kill -s \"$1\" \"$2\"", "sh", sig, target])
        .status()
        .unwrap();
    assert!(st.success(), "kill -s {sig} {target} failed");
}

/// Polls `cond` every 50 ms for at most `limit`.
fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

// ------------------------------------------------------------------------------------------
// Network
// ------------------------------------------------------------------------------------------

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// The HTTP status of `GET path` on 127.0.0.1:port, or None if nothing answers.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect_timeout(&loopback(port), Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    let _ = s.take(64 * 1024).read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    text.lines().next()?.split_whitespace().nth(1)?.parse().ok()
}

fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(&loopback(port), Duration::from_millis(300)).is_ok()
}

// ------------------------------------------------------------------------------------------
// Configuration
// ------------------------------------------------------------------------------------------

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut buf)
        .unwrap();
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses KEY=VALUE lines the way the package documents `.env` (comments and blank lines
/// skipped, one pair of surrounding quotes removed, the last assignment wins).
fn parse_env(text: &str) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(v);
        vars.insert(k.to_string(), v.to_string());
    }
    vars
}

/// Writes `dir/.env` from the shipped `.env.example`: fresh random secrets, realistic values
/// for every other placeholder, the server on 127.0.0.1:`port`, a 1 s queue heartbeat.
/// Returns the variables as written.
fn write_valid_env(dir: &Path, port: u16) -> BTreeMap<String, String> {
    let example = fs::read_to_string(dir.join(".env.example")).unwrap();
    let mut fixed: BTreeMap<&str, String> = BTreeMap::from([
        ("SECURITY_SALT", random_hex(32)),
        ("DB_PASSWORD", random_hex(16)),
        ("REDIS_PASSWORD", random_hex(16)),
        ("FULL_BASE_URL", "https://projects.example.org".to_string()),
        ("DB_HOST", "db.internal.example.org".to_string()),
        ("REDIS_HOST", "redis.internal.example.org".to_string()),
        ("AWS_S3_BUCKET", "orangescrum-uploads".to_string()),
        ("EMAIL_FROM", "noreply@example.org".to_string()),
        ("SMTP_HOST", "smtp.example.org".to_string()),
        ("APP_BIND_IP", "127.0.0.1".to_string()),
        ("APP_PORT", port.to_string()),
        ("QUEUE_HEARTBEAT_SECS", "1".to_string()),
    ]);
    let mut out = String::new();
    for line in example.lines() {
        let key = line.split_once('=').map(|(k, _)| k);
        match key.filter(|k| !k.starts_with('#')) {
            Some(k) if fixed.contains_key(k) => {
                out.push_str(&format!("{k}={}\n", fixed.remove(k).unwrap()));
            }
            Some(k) => {
                let v = &line[k.len() + 1..];
                assert!(
                    !v.to_ascii_lowercase().contains("change_me"),
                    ".env.example has a placeholder for {k} that this test does not fill in; \
                     add a realistic value for it to write_valid_env"
                );
                out.push_str(line);
                out.push('\n');
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    for (k, v) in fixed {
        out.push_str(&format!("{k}={v}\n"));
    }
    let path = dir.join(".env");
    fs::write(&path, &out).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    let vars = parse_env(&out);
    assert!(vars["SECURITY_SALT"].len() >= 32 && vars["DB_PASSWORD"].len() >= 16);
    vars
}

// ------------------------------------------------------------------------------------------
// Units
// ------------------------------------------------------------------------------------------

/// The `[Service]` settings of a unit file, in order (continuation lines joined).
fn service_settings(text: &str) -> Vec<(String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    let mut pending = String::new();
    for raw in text.lines() {
        let line = format!("{pending}{}", raw.trim());
        pending.clear();
        if let Some(cont) = line.strip_suffix('\\') {
            pending = format!("{cont} ");
            continue;
        }
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') {
            section = line;
            continue;
        }
        if section == "[Service]" {
            let (k, v) = line.split_once('=').expect("KEY=VALUE in [Service]");
            out.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

fn setting<'a>(settings: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    settings
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn one_setting<'a>(settings: &'a [(String, String)], key: &str) -> &'a str {
    let v = setting(settings, key);
    assert_eq!(v.len(), 1, "expected exactly one {key}= in the unit: {v:?}");
    v[0]
}

/// A systemd time span such as `30`, `30s`, `1min 30s`, `500ms`.
fn timespan(text: &str) -> Duration {
    let mut total = Duration::ZERO;
    for part in text.split_whitespace() {
        let split = part
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(part.len());
        let n: u64 = part[..split]
            .parse()
            .unwrap_or_else(|_| panic!("time span {text:?}"));
        total += match &part[split..] {
            "" | "s" | "sec" => Duration::from_secs(n),
            "ms" | "msec" => Duration::from_millis(n),
            "m" | "min" => Duration::from_secs(60 * n),
            "h" | "hr" => Duration::from_secs(3600 * n),
            unit => panic!("time span unit {unit:?} in {text:?}"),
        };
    }
    total
}

/// The argv systemd would run for an `Exec*=` value: `@@PREFIX@@` replaced, split at blanks,
/// `${VAR}` replaced from `env` inside each word. Anything else this emulation does not
/// implement (quotes, `$VAR`, prefixes like `-`/`+`) fails the test rather than being guessed.
fn exec_argv(value: &str, prefix: &Path, env: &BTreeMap<String, String>) -> Vec<String> {
    let value = value.replace("@@PREFIX@@", &prefix.to_string_lossy());
    assert!(!value.contains("@@"), "placeholder left in {value:?}");
    assert!(
        !value.starts_with(['-', '@', '+', '!', ':', '|']),
        "Exec prefix characters are not emulated: {value:?}"
    );
    assert!(
        !value.contains(['"', '\'', '\\', ';']),
        "quoting/escapes are not emulated: {value:?}"
    );
    value
        .split_whitespace()
        .map(|word| {
            let mut out = String::new();
            let mut rest = word;
            while let Some(i) = rest.find('$') {
                out.push_str(&rest[..i]);
                let after = &rest[i + 1..];
                let Some(body) = after.strip_prefix('{') else {
                    panic!("only ${{VAR}} is emulated: {word:?}")
                };
                let end = body.find('}').expect("closing brace");
                let name = &body[..end];
                let v = env.get(name).unwrap_or_else(|| {
                    panic!("{name} is not set, so systemd would pass an empty value in {word:?}")
                });
                out.push_str(v);
                rest = &body[end + 1..];
            }
            out.push_str(rest);
            out
        })
        .collect()
}

/// The environment of a unit's processes: its `Environment=` defaults, overridden by
/// the `.env` of `EnvironmentFile=` (systemd's precedence), plus systemd's PATH.
fn unit_env(settings: &[(String, String)], prefix: &Path) -> BTreeMap<String, String> {
    let mut env = BTreeMap::from([("PATH".to_string(), PATH.to_string())]);
    for value in setting(settings, "Environment") {
        for assignment in value.split_whitespace() {
            let (k, v) = assignment.split_once('=').expect("Environment=KEY=VALUE");
            env.insert(k.to_string(), v.to_string());
        }
    }
    for file in setting(settings, "EnvironmentFile") {
        let path = file.replace("@@PREFIX@@", &prefix.to_string_lossy());
        let text =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("EnvironmentFile {path}: {e}"));
        env.extend(parse_env(&text));
    }
    env
}

/// `Exec*` values must be plain commands: no shell syntax (`${VAR}` is systemd's own).
fn assert_no_shell_syntax(unit: &str, text: &str) {
    for line in text.lines().filter(|l| l.starts_with("Exec")) {
        let without_vars = line.replace("${", "");
        assert!(
            !without_vars.contains(['|', '&', ';', '<', '>', '`', '$', '(', ')', '*', '?']),
            "{unit}: shell syntax in {line:?}; systemd runs Exec lines without a shell"
        );
    }
}

// ------------------------------------------------------------------------------------------
// Test 1: unpack, verify, configure, run, stop
// ------------------------------------------------------------------------------------------

#[test]
fn unpacked_package_serves_runs_the_queue_worker_and_stops_on_sigterm() {
    let started = Instant::now();
    let pkg = unpack();
    let dir = &pkg.dir;

    ok(clean_xtask().arg("verify").arg(dir));
    ok(Command::new("sha256sum")
        .args(["-c", "--strict", "--quiet", "SHA256SUMS"])
        .current_dir(dir));

    let port = free_port();
    let env_file = write_valid_env(dir, port);
    let check = run(Command::new(dir.join("helpers/validate-env.sh"))
        .args(["--env-file", ".env"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", PATH));
    assert!(
        check.status.success(),
        "the test's .env does not satisfy helpers/validate-env.sh:\n{}",
        String::from_utf8_lossy(&check.stderr)
    );

    // The web server, in the foreground from another working directory.
    let mut web = Proc::spawn(
        "run-native.sh",
        Command::new(dir.join("run-native.sh"))
            .current_dir(pkg.tmp.path())
            .env_clear()
            .env("PATH", PATH),
    );
    let healthy = wait_until(START_TIMEOUT, || {
        web.exited().is_none() && http_status(port, "/home/healthcheck") == Some(200)
    });
    assert!(
        healthy,
        "GET http://127.0.0.1:{port}/home/healthcheck did not answer 200 within {START_TIMEOUT:?} \
         (run-native.sh status {:?})\n{}",
        web.exited(),
        web.output()
    );
    let listen_line = format!("listening on 127.0.0.1:{port}");
    assert!(
        wait_until(Duration::from_secs(2), || web
            .stderr()
            .contains(&listen_line)),
        "the server does not report listening on the address from .env\n{}",
        web.output()
    );
    let web_unit = fs::read_to_string(dir.join("systemd/orangescrum.service")).unwrap();
    let web_stop = timespan(one_setting(&service_settings(&web_unit), "TimeoutStopSec"));

    // The queue worker, exactly as the unit would start it.
    let queue_unit = fs::read_to_string(dir.join("systemd/orangescrum-queue.service")).unwrap();
    assert_no_shell_syntax("orangescrum-queue.service", &queue_unit);
    let settings = service_settings(&queue_unit);
    let env = unit_env(&settings, dir);
    assert_eq!(env["SECURITY_SALT"], env_file["SECURITY_SALT"]);
    let workdir = PathBuf::from(
        one_setting(&settings, "WorkingDirectory").replace("@@PREFIX@@", &dir.to_string_lossy()),
    );
    for pre in setting(&settings, "ExecStartPre") {
        let argv = exec_argv(pre, dir, &env);
        let out = run(Command::new(&argv[0])
            .args(&argv[1..])
            .current_dir(&workdir)
            .env_clear()
            .envs(&env));
        assert!(out.status.success(), "ExecStartPre={pre} failed");
    }
    let argv = exec_argv(one_setting(&settings, "ExecStart"), dir, &env);
    assert!(
        argv.iter().any(|a| a == "worker"),
        "the queue unit runs the queue worker: {argv:?}"
    );
    let mut queue = Proc::spawn(
        "queue worker",
        Command::new(&argv[0])
            .args(&argv[1..])
            .current_dir(&workdir)
            .env_clear()
            .envs(&env),
    );
    // The stand-in logs "heartbeat every Ns" at start, then one "queue worker heartbeat"
    // line per period: the first shows QUEUE_HEARTBEAT_SECS from .env arrived, the second
    // that the worker keeps running.
    let beating = wait_until(Duration::from_secs(10), || {
        let log = queue.stderr();
        queue.exited().is_none()
            && log.contains("heartbeat every 1s")
            && log.contains("queue worker heartbeat")
    });
    assert!(
        beating,
        "the queue worker did not run and log a heartbeat (QUEUE_HEARTBEAT_SECS=1) within 10 s \
         (status {:?})\n{}",
        queue.exited(),
        queue.output()
    );
    let queue_stop = timespan(one_setting(&settings, "TimeoutStopSec"));
    assert!(
        web.exited().is_none(),
        "the web server died\n{}",
        web.output()
    );

    // SIGTERM to both (to the script, which must pass it on to the server).
    let stop = Instant::now();
    web.signal("TERM");
    queue.signal("TERM");
    let web_status = web.wait_timeout(web_stop);
    let web_took = stop.elapsed();
    let queue_status = queue.wait_timeout(queue_stop.saturating_sub(stop.elapsed()));
    let queue_took = stop.elapsed();
    assert!(
        web_status.is_some_and(|s| s.success()),
        "run-native.sh did not exit with status 0 within TimeoutStopSec={web_stop:?} of SIGTERM: \
         {web_status:?}\n{}",
        web.output()
    );
    assert!(
        queue_status.is_some_and(|s| s.success()),
        "the queue worker did not exit with status 0 within TimeoutStopSec={queue_stop:?} of \
         SIGTERM: {queue_status:?}\n{}",
        queue.output()
    );
    assert!(
        web.group_members().is_empty(),
        "processes of run-native.sh outlived it: {:?}",
        web.group_members()
    );
    assert!(!listening(port), "port {port} still open after the stop");
    eprintln!(
        "native e2e: web stopped in {web_took:?} (limit {web_stop:?}), queue in {queue_took:?} \
         (limit {queue_stop:?}); test took {:?}",
        started.elapsed()
    );
}

/// Ctrl-C (SIGINT) stops the server gracefully too, and a variable set in the environment
/// wins over `.env` (`APP_PORT=9090 ./run-native.sh`).
#[test]
fn run_native_passes_sigint_on_and_env_wins_over_dotenv() {
    let pkg = unpack();
    let dir = &pkg.dir;
    let dotenv_port = free_port();
    write_valid_env(dir, dotenv_port);
    let port = free_port();
    let mut web = Proc::spawn(
        "run-native.sh",
        Command::new(dir.join("run-native.sh"))
            .env_clear()
            .env("PATH", PATH)
            .env("APP_PORT", port.to_string()),
    );
    assert!(
        wait_until(START_TIMEOUT, || web.exited().is_none()
            && http_status(port, "/home/healthcheck") == Some(200)),
        "no health check answer on the port from the environment ({port})\n{}",
        web.output()
    );
    assert!(
        wait_until(Duration::from_secs(2), || web.stderr().contains("APP_PORT")),
        "run-native.sh names the variable kept from the environment\n{}",
        web.output()
    );
    assert!(!listening(dotenv_port), "the .env port must not be used");
    web.signal("INT");
    let status = web.wait_timeout(Duration::from_secs(10));
    assert!(
        status.is_some_and(|s| s.success()),
        "SIGINT: run-native.sh did not stop the server with status 0: {status:?}\n{}",
        web.output()
    );
    assert!(
        web.group_members().is_empty(),
        "server outlived run-native.sh"
    );
}

// ------------------------------------------------------------------------------------------
// Test 2: placeholder secrets are refused
// ------------------------------------------------------------------------------------------

#[test]
fn run_native_refuses_placeholder_secrets() {
    let pkg = unpack();
    let dir = &pkg.dir;
    fs::copy(dir.join(".env.example"), dir.join(".env")).unwrap();
    let port = free_port();
    let mut web = Proc::spawn(
        "run-native.sh",
        Command::new(dir.join("run-native.sh"))
            .env_clear()
            .env("PATH", PATH)
            .env("APP_BIND_IP", "127.0.0.1")
            .env("APP_PORT", port.to_string()),
    );
    let status = web.wait_timeout(Duration::from_secs(20));
    let stderr = web.stderr();
    assert!(
        status.is_some_and(|s| !s.success()),
        "run-native.sh must refuse to start with the shipped placeholders (status {status:?})\n{}",
        web.output()
    );
    assert!(
        stderr.contains("SECURITY_SALT"),
        "the validator's message names SECURITY_SALT on stderr\n{}",
        web.output()
    );
    assert!(
        !stderr.contains("listening on") && !stderr.contains("starting:"),
        "the server must not have been started\n{}",
        web.output()
    );
    assert!(!listening(port), "something listens on port {port}");
    assert!(web.group_members().is_empty(), "a process was left behind");
}

// ------------------------------------------------------------------------------------------
// Test 3: install, verify the units, idempotence, dry run, uninstall
// ------------------------------------------------------------------------------------------

/// A throwaway system account; deleted on drop if it exists.
struct TempUser(String);

fn user_exists(name: &str) -> bool {
    Command::new("id")
        .args(["-u", name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

fn group_exists(name: &str) -> bool {
    Command::new("getent")
        .args(["group", name])
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success()
}

fn id_of(flag: &str, name: &str) -> u32 {
    let out = ok(Command::new("id").args([flag, name]));
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

impl Drop for TempUser {
    fn drop(&mut self) {
        if user_exists(&self.0) {
            let _ = Command::new("userdel")
                .arg(&self.0)
                .env("PATH", PATH)
                .status();
        }
        if group_exists(&self.0) {
            let _ = Command::new("groupdel")
                .arg(&self.0)
                .env("PATH", PATH)
                .status();
        }
    }
}

/// Every entry below `root`: path, type, mode, owner and content hash (symlinks by target).
fn snapshot(root: &Path) -> Vec<String> {
    if !root.exists() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(root).sort_by_file_name() {
        let e = e.unwrap();
        let m = fs::symlink_metadata(e.path()).unwrap();
        let rel = e.path().strip_prefix(root).unwrap().display().to_string();
        let what = if m.is_dir() {
            "dir".to_string()
        } else if m.file_type().is_symlink() {
            format!("link {}", fs::read_link(e.path()).unwrap().display())
        } else {
            format!("{:x}", Sha256::digest(fs::read(e.path()).unwrap()))
        };
        out.push(format!(
            "{rel} {:o} {}:{} {what}",
            m.mode() & 0o7777,
            m.uid(),
            m.gid()
        ));
    }
    out
}

/// Files of `pkg` as listed in its SHA256SUMS, with their packaged modes.
fn packaged_files(pkg: &Path) -> BTreeMap<String, (String, u32)> {
    let sums = fs::read_to_string(pkg.join("SHA256SUMS")).unwrap();
    let mut files = BTreeMap::new();
    for line in sums.lines() {
        let (hash, name) = line.split_once("  ").expect("sha256sum line");
        let mode = fs::metadata(pkg.join(name)).unwrap().mode() & 0o777;
        files.insert(name.to_string(), (hash.to_string(), mode));
    }
    let mode = fs::metadata(pkg.join("SHA256SUMS")).unwrap().mode() & 0o777;
    let hash = format!("{:x}", Sha256::digest(sums.as_bytes()));
    files.insert("SHA256SUMS".to_string(), (hash, mode));
    files
}

/// True if `text` contains `@@NAME@@` with NAME made of A-Z, 0-9 and `_`.
fn has_placeholder(text: &str) -> bool {
    text.match_indices("@@").any(|(i, _)| {
        let rest = &text[i + 2..];
        rest.find("@@").is_some_and(|end| {
            end > 0
                && rest[..end]
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
    })
}

/// The "Overall exposure level for X: N.N ..." number of `systemd-analyze security`.
fn exposure(unit: &Path) -> f64 {
    let out = run(Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(unit));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or_else(|| panic!("no exposure level in:\n{text}"));
    line.rsplit_once(": ")
        .and_then(|(_, r)| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("cannot read the exposure from {line:?}"))
}

#[test]
fn install_verify_units_reinstall_dry_run_and_uninstall() {
    let started = Instant::now();
    require_tools();
    assert_eq!(
        String::from_utf8(ok(Command::new("id").arg("-u")).stdout)
            .unwrap()
            .trim(),
        "0",
        "this test installs for real (system user, chown) and must run as root (CI does)"
    );
    let pkg = unpack();
    let src = &pkg.dir;
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("inst");
    let prefix = root.join("opt/orangescrum");
    let units = root.join("units");
    let user = TempUser(format!("ost{}{}", std::process::id(), random_hex(3)));
    let name = user.0.as_str();
    assert!(!user_exists(name), "the test user {name} already exists");

    let install = |from: &Path, extra: &[&str]| {
        let mut c = Command::new(from.join("helpers/install.sh"));
        c.arg("--prefix")
            .arg(&prefix)
            .arg("--unit-dir")
            .arg(&units)
            .args(["--user", name])
            .args(extra)
            .env_clear()
            .env("PATH", PATH);
        c
    };
    let uninstall = |extra: &[&str]| {
        let mut c = Command::new(prefix.join("helpers/uninstall.sh"));
        c.arg("--unit-dir")
            .arg(&units)
            .args(extra)
            .env_clear()
            .env("PATH", PATH);
        c
    };

    // Things the installer must never copy.
    fs::write(src.join(".env"), "SECURITY_SALT=from-the-package-folder\n").unwrap();
    fs::write(src.join("notes.txt"), "not part of the package\n").unwrap();

    // A modified package is refused before anything is changed.
    let tampered = work.path().join("tampered");
    copy_tree(src, &tampered, false);
    fs::write(tampered.join("README.md"), "changed\n").unwrap();
    let err = fails(&mut install(&tampered, &[]));
    assert!(err.contains("SHA256SUMS"), "names the failed check: {err}");
    assert!(
        !root.exists() && !user_exists(name),
        "a refused install changed something"
    );

    // --dry-run on a new machine: prints the plan, changes nothing.
    let out = ok(&mut install(src, &["--dry-run"]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("[dry-run] useradd") && stdout.contains("[dry-run] copy bin/"),
        "dry run shows the plan:\n{stdout}"
    );
    assert!(
        !root.exists() && !user_exists(name),
        "--dry-run changed something"
    );

    // The real installation.
    let out = ok(&mut install(src, &[]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for cmd in [
        "systemctl daemon-reload",
        "systemctl enable orangescrum-queue.service orangescrum.service",
        "systemctl start",
    ] {
        assert!(stdout.contains(cmd), "install prints `{cmd}`:\n{stdout}");
    }
    assert!(user_exists(name), "the service user was created");
    let (uid, gid) = (id_of("-u", name), id_of("-g", name));
    assert!(uid > 0 && uid < 1000, "{name} is a system user (uid {uid})");
    let passwd =
        String::from_utf8(ok(Command::new("getent").args(["passwd", name])).stdout).unwrap();
    assert!(
        passwd.trim_end().ends_with("nologin"),
        "no login shell: {passwd}"
    );

    // The installed tree: exactly the package's files, root-owned, packaged modes.
    let files = packaged_files(src);
    let mut expected: Vec<String> = files.keys().cloned().collect();
    expected.push(".install-manifest".to_string());
    expected.sort();
    let mut found = Vec::new();
    for e in walkdir::WalkDir::new(&prefix) {
        let e = e.unwrap();
        let m = fs::symlink_metadata(e.path()).unwrap();
        let rel = e
            .path()
            .strip_prefix(&prefix)
            .unwrap()
            .display()
            .to_string();
        assert_eq!((m.uid(), m.gid()), (0, 0), "{rel} is owned by root:root");
        assert_eq!(
            m.mode() & 0o022,
            0,
            "{rel} is writable only by root (mode {:o})",
            m.mode() & 0o7777
        );
        if m.is_dir() {
            assert_eq!(m.mode() & 0o7777, 0o755, "directory {rel}");
            continue;
        }
        assert!(m.is_file(), "{rel} is a regular file");
        let mode = m.mode() & 0o7777;
        if let Some((hash, want)) = files.get(&rel) {
            assert_eq!(mode, *want, "{rel} has its packaged mode");
            let got = format!("{:x}", Sha256::digest(fs::read(e.path()).unwrap()));
            assert_eq!(&got, hash, "{rel} has the packaged content");
        } else {
            assert_eq!(rel, ".install-manifest");
            assert_eq!(mode, 0o644, "{rel}");
        }
        if !rel.starts_with("systemd/") && !rel.starts_with("bin/") {
            let text = String::from_utf8_lossy(&fs::read(e.path()).unwrap()).into_owned();
            assert!(
                !has_placeholder(&text),
                "{rel}: only the unit templates keep @@...@@ placeholders"
            );
        }
        found.push(rel);
    }
    found.sort();
    assert_eq!(found, expected, "installed files = the package's files");
    ok(Command::new("sha256sum")
        .args(["-c", "--strict", "--quiet", "SHA256SUMS"])
        .current_dir(&prefix));

    // The units: rendered, root-owned 0644, valid, hardened.
    let unit_names = ["orangescrum-queue.service", "orangescrum.service"];
    let mut in_dir: Vec<String> = fs::read_dir(&units)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    in_dir.sort();
    assert_eq!(in_dir, unit_names, "the unit directory holds the two units");
    let mut scores = Vec::new();
    for unit in unit_names {
        let path = units.join(unit);
        let m = fs::metadata(&path).unwrap();
        assert_eq!(
            (m.mode() & 0o7777, m.uid(), m.gid()),
            (0o644, 0, 0),
            "{unit}: root:root 0644"
        );
        let text = fs::read_to_string(&path).unwrap();
        assert!(!text.contains("@@"), "{unit}: placeholder left:\n{text}");
        assert_no_shell_syntax(unit, &text);
        assert!(
            !text.contains("MemoryDenyWriteExecute"),
            "{unit}: MemoryDenyWriteExecute breaks PHP's JIT"
        );
        let settings = service_settings(&text);
        let p = prefix.display().to_string();
        assert_eq!(one_setting(&settings, "User"), name, "{unit}");
        assert_eq!(one_setting(&settings, "Group"), name, "{unit}");
        assert_eq!(one_setting(&settings, "WorkingDirectory"), p, "{unit}");
        assert_eq!(
            one_setting(&settings, "EnvironmentFile"),
            format!("{p}/.env"),
            "{unit}"
        );
        assert!(
            one_setting(&settings, "ExecStart").starts_with(&format!("{p}/bin/")),
            "{unit}: ExecStart runs the installed binary"
        );
        let score = exposure(&path);
        assert!(
            score <= 2.0,
            "{unit}: systemd-analyze security exposure {score} > 2.0"
        );
        scores.push(format!("{unit} {score}"));
    }
    let verify = run(Command::new("systemd-analyze")
        .args(["verify", "--no-pager"])
        .args(unit_names.map(|u| units.join(u))));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(
        verify.status.success(),
        "systemd-analyze verify failed:\n{said}"
    );
    let ours: Vec<&str> = said
        .lines()
        .filter(|l| l.contains("orangescrum") || l.contains(&*prefix.to_string_lossy()))
        .collect();
    assert!(
        ours.is_empty(),
        "systemd-analyze verify warns about our units:\n{said}"
    );

    // Idempotent: a second run gives the same tree.
    let first = snapshot(&root);
    ok(&mut install(src, &[]));
    assert_eq!(snapshot(&root), first, "a second install changed the tree");

    // An existing .env is kept (content), made root:<group> 0640.
    let env_path = prefix.join(".env");
    let secret = format!("SECURITY_SALT={}\n", random_hex(32));
    fs::write(&env_path, &secret).unwrap();
    fs::set_permissions(&env_path, fs::Permissions::from_mode(0o600)).unwrap();
    ok(&mut install(src, &[]));
    assert_eq!(fs::read_to_string(&env_path).unwrap(), secret, ".env kept");
    let m = fs::metadata(&env_path).unwrap();
    assert_eq!(
        (m.mode() & 0o7777, m.uid(), m.gid()),
        (0o640, 0, gid),
        ".env is root:{name} 0640"
    );
    let with_env = snapshot(&root);
    assert_eq!(
        with_env
            .iter()
            .filter(|l| !l.starts_with("opt/orangescrum/.env "))
            .cloned()
            .collect::<Vec<_>>(),
        first,
        "only .env differs"
    );

    // --dry-run on the installed tree: nothing to do, nothing changed.
    let out = ok(&mut install(src, &["--dry-run"]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("[dry-run]"),
        "nothing to do on an installed tree:\n{stdout}"
    );
    assert_eq!(snapshot(&root), with_env, "--dry-run changed the tree");

    // Upgrade: files of an older version that this one lacks are removed.
    fs::create_dir(prefix.join("old")).unwrap();
    fs::write(prefix.join("old/gone.txt"), "old\n").unwrap();
    let manifest = prefix.join(".install-manifest");
    let mut list = fs::read_to_string(&manifest).unwrap();
    list.push_str("old/gone.txt\n");
    fs::write(&manifest, list).unwrap();
    ok(&mut install(src, &[]));
    assert!(!prefix.join("old").exists(), "stale files are removed");
    assert_eq!(snapshot(&root), with_env, "upgrade leaves the same tree");

    // Uninstall: --dry-run changes nothing; then units and files go, .env stays.
    ok(&mut uninstall(&["--dry-run"]));
    assert_eq!(
        snapshot(&root),
        with_env,
        "uninstall --dry-run changed the tree"
    );
    ok(&mut uninstall(&[]));
    assert_eq!(fs::read_dir(&units).unwrap().count(), 0, "units removed");
    let left: Vec<String> = fs::read_dir(&prefix)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, [".env"], "only .env is kept");
    assert_eq!(fs::read_to_string(&env_path).unwrap(), secret, ".env kept");
    assert!(user_exists(name), "the service user is kept by default");

    // Reinstall, then remove everything: --purge and --remove-user.
    ok(&mut install(src, &[]));
    ok(&mut uninstall(&["--purge", "--remove-user"]));
    assert!(!prefix.exists(), "--purge removes the prefix with .env");
    assert_eq!(fs::read_dir(&units).unwrap().count(), 0, "units removed");
    assert!(
        !user_exists(name) && !group_exists(name),
        "--remove-user removes the account and its group"
    );
    eprintln!(
        "native install test: exposure {}; took {:?}",
        scores.join(", "),
        started.elapsed()
    );
}
