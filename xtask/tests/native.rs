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
use support::{services, *};

/// The search path the children get (systemd's default for services).
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Upper bound for the server to answer its health check after start.
const START_TIMEOUT: Duration = Duration::from_secs(20);

// ------------------------------------------------------------------------------------------
// Tools, release, package
// ------------------------------------------------------------------------------------------

/// True when every tool the tests rely on runs; else skips (or fails under CI=true).
fn require_tools() -> bool {
    static CHECKED: OnceLock<bool> = OnceLock::new();
    *CHECKED.get_or_init(|| {
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
            let runs = found.as_ref().is_ok_and(|o| {
                tool != "tar" || String::from_utf8_lossy(&o.stdout).contains("GNU tar")
            });
            if !require::available(tool, runs, &format!("apt-get install {apt}")) {
                return false;
            }
        }
        true
    })
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

/// A realistic value for a placeholder (`__CHANGE_ME...__`) of `.env.example`, by the
/// variable's name, so the test follows the template whatever its names are.
fn fill_placeholder(key: &str) -> String {
    let secret = ["PASSWORD", "SALT", "SECRET", "_KEY", "TOKEN"];
    if secret.iter().any(|s| key.contains(s)) {
        random_hex(32)
    } else if key.ends_with("_HOST") {
        format!(
            "{}.internal.example.org",
            key.to_ascii_lowercase().replace('_', "-")
        )
    } else if key.ends_with("_URL") || key.ends_with("_URI") || key.ends_with("_ENDPOINT") {
        "https://projects.example.org".to_string()
    } else if key.contains("EMAIL") {
        "noreply@example.org".to_string()
    } else if key.contains("BUCKET") {
        "orangescrum-uploads".to_string()
    } else {
        panic!(
            ".env.example has a placeholder for {key} that this test cannot fill in; add a \
             realistic value for it to fill_placeholder"
        )
    }
}

/// Writes `dir/.env` from the shipped `.env.example`: fresh random secrets, realistic values
/// for every other placeholder, the server on 127.0.0.1:`port`, a 1 s queue heartbeat, and
/// `extra` lines at the end. Returns the variables as written.
fn write_env(dir: &Path, port: u16, extra: &str) -> BTreeMap<String, String> {
    let example = fs::read_to_string(dir.join(".env.example")).unwrap();
    let mut fixed: BTreeMap<&str, String> = BTreeMap::from([
        ("APP_BIND_IP", "127.0.0.1".to_string()),
        ("APP_PORT", port.to_string()),
    ]);
    let mut out = String::new();
    for line in example.lines() {
        let key = line
            .split_once('=')
            .map(|(k, _)| k)
            .filter(|k| !k.trim_start().starts_with('#'));
        match key {
            Some(k) if fixed.contains_key(k) => {
                out.push_str(&format!("{k}={}\n", fixed.remove(k).unwrap()));
            }
            Some(k)
                if line[k.len() + 1..]
                    .to_ascii_lowercase()
                    .contains("change_me") =>
            {
                out.push_str(&format!("{k}={}\n", fill_placeholder(k)));
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    for (k, v) in fixed {
        out.push_str(&format!("{k}={v}\n"));
    }
    out.push_str(extra);
    let path = dir.join(".env");
    fs::write(&path, &out).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    parse_env(&out)
}

fn write_valid_env(dir: &Path, port: u16) -> BTreeMap<String, String> {
    let vars = write_env(dir, port, "");
    assert!(vars["SECURITY_SALT"].len() >= 32 && vars["DB_PASSWORD"].len() >= 16);
    vars
}

// ------------------------------------------------------------------------------------------
// The service account, and a recording stand-in for the binary
// ------------------------------------------------------------------------------------------

/// The unprivileged account the tests run the package as: run-native.sh refuses root.
const NOBODY: u32 = 65534;

/// Runs `cmd` as [`NOBODY`] (std drops root's supplementary groups with the uid switch).
fn as_nobody(cmd: &mut Command) -> &mut Command {
    cmd.uid(NOBODY).gid(NOBODY)
}

/// Lets [`NOBODY`] reach the unpacked package (the temporary folders are 0700) and read its
/// `.env` the way install.sh shares it: root:<service group> 0640. Returns a folder the
/// account may write (TMPDIR for the binary, records of the stub).
fn share_with_nobody(pkg: &Unpacked) -> PathBuf {
    fs::set_permissions(pkg.tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&pkg.dir, fs::Permissions::from_mode(0o755)).unwrap();
    let env = pkg.dir.join(".env");
    if env.exists() {
        std::os::unix::fs::chown(&env, Some(0), Some(NOBODY)).unwrap();
        fs::set_permissions(&env, fs::Permissions::from_mode(0o640)).unwrap();
    }
    let scratch = pkg.tmp.path().join("scratch");
    fs::create_dir_all(&scratch).unwrap();
    std::os::unix::fs::chown(&scratch, Some(NOBODY), Some(NOBODY)).unwrap();
    scratch
}

/// `run-native.sh` of the unpacked package `pkg` as [`NOBODY`] with a clean environment:
/// PATH, a private TMPDIR (`scratch` from [`share_with_nobody`]) and the stand-in's
/// built-in behaviour (these tests exercise the scripts, not PHP).
fn run_native(pkg: &Unpacked, scratch: &Path) -> Command {
    let mut c = Command::new(pkg.dir.join("run-native.sh"));
    c.current_dir(pkg.tmp.path())
        .env_clear()
        .env("PATH", PATH)
        .env("TMPDIR", scratch)
        .env("ORANGESCRUM_SAMPLE_PHP", "none");
    as_nobody(&mut c);
    c
}

/// Stands in for the package's binary (and for helpers/migrate.sh): records its uid, pid,
/// working directory, argv and environment in `scratch/record` two folders up from itself
/// (found without the environment, which the helpers reset), then exits 0; with STUB_WAIT
/// set it waits for a signal instead and writes the signal's name to `record.signal`.
const STUB: &str = r#"#!/bin/sh
out=$(cd "$(dirname "$0")/../.." && pwd)/scratch/record
{
    printf 'uid=%s\n' "$(id -u)"
    printf 'pid=%s\n' "$$"
    printf 'cwd=%s\n' "$(pwd)"
    for a in "$0" "$@"; do printf 'arg=%s\n' "$a"; done
    env | LC_ALL=C sort | sed 's/^/env=/'
} >"$out.tmp"
mv "$out.tmp" "$out"
[ -n "${STUB_WAIT-}" ] || exit 0
child=
for sig in HUP INT QUIT USR1 USR2 TERM; do
    trap "[ -z \"\$child\" ] || kill \$child 2>/dev/null; echo $sig >\"\$out.signal\"; exit 0" "$sig"
done
while :; do
    sleep 0.2 &
    child=$!
    wait "$child"
done
"#;

/// What the queue worker modes start: `BIN php-cli bin/cake.php queue worker --max-runtime N
/// --sleep S --verbose` (contract 4).
fn worker_argv(bin: &str, max_runtime: u32, sleep: u32) -> Vec<String> {
    let (n, s) = (max_runtime.to_string(), sleep.to_string());
    let argv = [
        bin,
        "php-cli",
        "bin/cake.php",
        "queue",
        "worker",
        "--max-runtime",
        &n,
    ];
    let mut argv: Vec<String> = argv.map(String::from).to_vec();
    argv.extend(["--sleep", &s, "--verbose"].map(String::from));
    argv
}

/// How the stub was started.
#[derive(Debug)]
struct Record {
    uid: u32,
    pid: u32,
    cwd: String,
    /// argv, program first.
    args: Vec<String>,
    env: BTreeMap<String, String>,
}

fn read_record(path: &Path) -> Option<Record> {
    let text = fs::read_to_string(path).ok()?;
    let mut rec = Record {
        uid: u32::MAX,
        pid: 0,
        cwd: String::new(),
        args: Vec::new(),
        env: BTreeMap::new(),
    };
    for line in text.lines() {
        let (k, v) = line.split_once('=').unwrap();
        match k {
            "uid" => rec.uid = v.parse().unwrap(),
            "pid" => rec.pid = v.parse().unwrap(),
            "cwd" => rec.cwd = v.to_string(),
            "arg" => rec.args.push(v.to_string()),
            "env" => {
                if let Some((n, val)) = v.split_once('=') {
                    rec.env.insert(n.to_string(), val.to_string());
                }
            }
            _ => panic!("unexpected record line {line:?}"),
        }
    }
    Some(rec)
}

/// The package's binary (the one file in bin/).
fn binary_of(dir: &Path) -> PathBuf {
    let mut bins: Vec<PathBuf> = fs::read_dir(dir.join("bin"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(bins.len(), 1, "one binary in bin/: {bins:?}");
    bins.pop().unwrap()
}

fn write_stub(path: &Path) {
    fs::write(path, STUB).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// An unpacked package whose binary and helpers/migrate.sh are the recording stub, with a
/// valid `.env` (plus `extra` lines) shared with [`NOBODY`].
struct StubPackage {
    pkg: Unpacked,
    scratch: PathBuf,
    port: u16,
}

impl StubPackage {
    fn new(extra_env: &str) -> StubPackage {
        let pkg = unpack();
        write_stub(&binary_of(&pkg.dir));
        // helpers/migrate.sh comes from another part of the project; run-native.sh only
        // hands over to it, which is what this stub records.
        write_stub(&pkg.dir.join("helpers/migrate.sh"));
        let port = free_port();
        write_env(&pkg.dir, port, extra_env);
        let scratch = share_with_nobody(&pkg);
        StubPackage { pkg, scratch, port }
    }

    fn dir(&self) -> &Path {
        &self.pkg.dir
    }

    fn record_path(&self) -> PathBuf {
        self.scratch.join("record")
    }

    fn record(&self) -> Option<Record> {
        read_record(&self.record_path())
    }

    /// `run-native.sh ARGS` as [`NOBODY`] from another folder (see [`run_native`]).
    fn run_native(&self, args: &[&str]) -> Command {
        let mut c = run_native(&self.pkg, &self.scratch);
        c.args(args);
        c
    }
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

/// `argv` (from [`exec_argv`]) as systemd starts it: in `workdir`, with exactly `env`, as
/// the service account.
fn as_unit(argv: &[String], workdir: &Path, env: &BTreeMap<String, String>) -> Command {
    let mut c = Command::new(&argv[0]);
    c.args(&argv[1..])
        .current_dir(workdir)
        .env_clear()
        .envs(env);
    as_nobody(&mut c);
    c
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
    if !require_tools() {
        return;
    }
    let started = Instant::now();
    let pkg = unpack();
    let dir = &pkg.dir;

    ok(clean_xtask().arg("verify").arg(dir));
    ok(Command::new("sha256sum")
        .args(["-c", "--strict", "--quiet", "SHA256SUMS"])
        .current_dir(dir));

    let port = free_port();
    write_valid_env(dir, port);
    let scratch = share_with_nobody(&pkg);
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

    // The web server, in the foreground from another working directory, as the service
    // account; the stand-in's built-in behaviour (no PHP, no database here).
    let mut web = Proc::spawn("run-native.sh", &mut run_native(&pkg, &scratch));
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
    // helpers/healthcheck.sh finds the address in .env (none in its environment).
    let probe = run(as_nobody(
        Command::new(dir.join("helpers/healthcheck.sh"))
            .current_dir(pkg.tmp.path())
            .env_clear()
            .env("PATH", PATH),
    ));
    let said = String::from_utf8_lossy(&probe.stdout);
    assert!(
        probe.status.success() && said.contains(&format!("127.0.0.1:{port}/home/healthcheck")),
        "helpers/healthcheck.sh did not probe the address from .env: {said}{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let web_unit = fs::read_to_string(dir.join("systemd/orangescrum.service")).unwrap();
    let web_stop = timespan(one_setting(&service_settings(&web_unit), "TimeoutStopSec"));

    // The queue worker, exactly as the unit would start it.
    let queue_unit = fs::read_to_string(dir.join("systemd/orangescrum-queue.service")).unwrap();
    assert_no_shell_syntax("orangescrum-queue.service", &queue_unit);
    let settings = service_settings(&queue_unit);
    let mut env = unit_env_unset(&settings, dir);
    // PrivateTmp= gives the unit its own /tmp; here that is the scratch folder. The
    // stand-in's heartbeat period and built-in mode are test knobs from the environment.
    env.insert("TMPDIR".into(), scratch.display().to_string());
    env.insert("ORANGESCRUM_SAMPLE_PHP".into(), "none".into());
    env.insert("WORKER_SLEEP".into(), "1".into());
    let workdir = PathBuf::from(
        one_setting(&settings, "WorkingDirectory").replace("@@PREFIX@@", &dir.to_string_lossy()),
    );
    for pre in setting(&settings, "ExecStartPre") {
        let argv = exec_argv(pre, dir, &env);
        let out = run(&mut as_unit(&argv, &workdir, &env));
        assert!(out.status.success(), "ExecStartPre={pre} failed");
    }
    let argv = exec_argv(one_setting(&settings, "ExecStart"), dir, &env);
    assert_eq!(
        argv[1..],
        ["queue-worker"],
        "the queue unit runs the queue worker"
    );
    let mut queue = Proc::spawn("queue worker", &mut as_unit(&argv, &workdir, &env));
    // The stand-in logs "heartbeat every Ns" at start, then one "queue worker heartbeat"
    // line per period: the first shows the setting arrived, the second that the worker
    // keeps running.
    let beating = wait_until(Duration::from_secs(10), || {
        let log = queue.stderr();
        queue.exited().is_none()
            && log.contains("heartbeat every 1s")
            && log.contains("queue worker heartbeat")
    });
    assert!(
        beating,
        "the queue worker did not run and log a heartbeat (WORKER_SLEEP=1) within 10 s \
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
    if !require_tools() {
        return;
    }
    let pkg = unpack();
    let dir = &pkg.dir;
    let dotenv_port = free_port();
    write_valid_env(dir, dotenv_port);
    let scratch = share_with_nobody(&pkg);
    let port = free_port();
    let mut web = Proc::spawn(
        "run-native.sh",
        run_native(&pkg, &scratch).env("APP_PORT", port.to_string()),
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
    if !require_tools() {
        return;
    }
    let pkg = unpack();
    let dir = &pkg.dir;
    fs::copy(dir.join(".env.example"), dir.join(".env")).unwrap();
    let scratch = share_with_nobody(&pkg);
    let port = free_port();
    let mut web = Proc::spawn(
        "run-native.sh",
        run_native(&pkg, &scratch)
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
    if !require_tools() {
        return;
    }
    if !require::root() {
        return;
    }
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
        "systemctl enable",
        "systemctl start",
    ] {
        assert!(stdout.contains(cmd), "install prints `{cmd}`:\n{stdout}");
    }
    // Enabled: the web unit (it pulls in the migrations), the worker and the timer; the
    // recurring service only runs from its timer, the migrations only before the web unit.
    let enable = stdout
        .lines()
        .find(|l| l.contains("systemctl enable"))
        .unwrap();
    let enabled: Vec<&str> = enable.split_whitespace().skip(2).collect();
    for unit in [
        "orangescrum.service",
        "orangescrum-queue.service",
        "orangescrum-recurring.timer",
    ] {
        assert!(enabled.contains(&unit), "install enables {unit}: {enable}");
    }
    for unit in [
        "orangescrum-recurring.service",
        "orangescrum-migrate.service",
    ] {
        assert!(
            !enabled.contains(&unit),
            "install must not enable {unit}: {enable}"
        );
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
    let unit_names = [
        "orangescrum-migrate.service",
        "orangescrum-queue.service",
        "orangescrum-recurring.service",
        "orangescrum-recurring.timer",
        "orangescrum.service",
    ];
    let mut in_dir: Vec<String> = fs::read_dir(&units)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    in_dir.sort();
    assert_eq!(
        in_dir, unit_names,
        "the unit directory holds the package's units"
    );
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
        if !unit.ends_with(".service") {
            assert!(
                text.contains("Unit=orangescrum-recurring.service"),
                "{unit}"
            );
            continue;
        }
        let settings = service_settings(&text);
        let p = prefix.display().to_string();
        assert_eq!(one_setting(&settings, "User"), name, "{unit}");
        assert_eq!(one_setting(&settings, "Group"), name, "{unit}");
        assert_eq!(one_setting(&settings, "WorkingDirectory"), p, "{unit}");
        assert_eq!(
            one_setting(&settings, "ExecStartPre"),
            format!("{p}/helpers/validate-env.sh --env-file {p}/.env"),
            "{unit}: the installed .env is checked first"
        );
        assert!(
            one_setting(&settings, "ExecStart").starts_with(&format!("{p}/run-native.sh ")),
            "{unit}: ExecStart runs the installed launcher"
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

// ------------------------------------------------------------------------------------------
// Test 4: run-native.sh, the launcher of every native process (issues 10, 11, 12)
// ------------------------------------------------------------------------------------------

/// run-native.sh takes `.env` only from `helpers/validate-env.sh --env-file FILE
/// --print-env`, so the validator's rule table stays the one list of known names and the one
/// reader of values. This pins that interface of the shipped validator: the file's checks
/// and findings as with `--env-file` alone, the summary on stderr, and on success one
/// `NAME=VALUE` line per known name the file sets, valued as docker compose and systemd read
/// it; nothing on stdout on failure; a usage error without `--env-file`.
#[test]
fn validate_env_print_env_gives_run_native_the_checked_values() {
    if !require_tools() {
        return;
    }
    let pkg = unpack();
    let dir = &pkg.dir;
    let vars = write_env(
        dir,
        free_port(),
        "DB_NAME=trailing   \nDB_USERNAME=\"quoted user\"\nBIN=/tmp/payload\nbin=lower\n",
    );
    let validator = dir.join("helpers/validate-env.sh");
    let out = ok(Command::new(&validator)
        .args(["--env-file", ".env", "--print-env"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", PATH)
        .env("DB_HOST", "from-the-caller"));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("validate-env: OK") && !stdout.contains("validate-env:"),
        "the summary goes to stderr:\n{stdout}\n{stderr}"
    );
    let printed: BTreeMap<&str, &str> = stdout
        .lines()
        .map(|l| l.split_once('=').expect("NAME=VALUE lines only"))
        .collect();
    assert_eq!(printed.get("DB_NAME"), Some(&"trailing"), "trimmed");
    assert_eq!(printed.get("DB_USERNAME"), Some(&"quoted user"), "unquoted");
    assert_eq!(
        printed.get("DB_HOST").copied(),
        vars.get("DB_HOST").map(String::as_str),
        "the file's value, not the caller's"
    );
    for name in ["BIN", "bin"] {
        assert!(!printed.contains_key(name), "{name} is not a known name");
    }
    for (k, v) in &printed {
        assert_eq!(
            Some(&v.to_string()),
            vars.get(*k).map(|x| x.trim().to_string()).as_ref()
        );
    }

    fs::write(
        dir.join("bad.env"),
        "DB_PASSWORD=abcdefabcdefabcdef # rotated\n",
    )
    .unwrap();
    let out = run(Command::new(&validator)
        .args(["--env-file", "bad.env", "--print-env"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", PATH));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing printed for a refused file");
    let out = run(Command::new(&validator)
        .arg("--print-env")
        .env_clear()
        .env("PATH", PATH));
    assert_eq!(out.status.code(), Some(2), "--print-env needs --env-file");
}

/// Issue 12.1: `.env` lines cannot reach run-native.sh's own variables (it exported any
/// upper-case name: `BIN=` ran another program, `MODE=` swapped the server for the worker,
/// `CR=` cut APP_PORT), and only names the package knows reach the program.
#[test]
fn run_native_exports_only_known_names() {
    if !require_tools() {
        return;
    }
    let payload_dir = tempfile::tempdir().unwrap();
    let payload = payload_dir.path().join("payload");
    write_stub(&payload);
    fs::set_permissions(payload_dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let pkg = StubPackage::new(&format!(
        "BIN={}\nMODE=queue-worker\nCR=5\nENV_FILE=/dev/null\nPROG=x\nNOT_A_SETTING=1\n",
        payload.display()
    ));
    let out = ok(&mut pkg.run_native(&[]));
    let rec = pkg
        .record()
        .unwrap_or_else(|| panic!("nothing ran\n{}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(
        rec.args[0],
        binary_of(pkg.dir()).display().to_string(),
        "the package's binary ran"
    );
    assert_eq!(
        rec.args[1..],
        ["php-server"],
        "MODE= from .env did not change the mode"
    );
    assert_eq!(
        rec.env.get("APP_PORT"),
        Some(&pkg.port.to_string()),
        "CR= did not cut APP_PORT"
    );
    for name in ["BIN", "MODE", "CR", "ENV_FILE", "PROG", "NOT_A_SETTING"] {
        assert!(
            !rec.env.contains_key(name),
            "{name} from .env reached the program"
        );
    }
}

/// Issue 12.2: loader, shell and PHP variables in `.env` never reach a process through
/// run-native.sh: it refuses the file (the validator's error) or leaves them out.
#[test]
fn run_native_never_passes_loader_or_shell_variables_from_dotenv() {
    if !require_tools() {
        return;
    }
    for name in DANGEROUS.iter().chain(&["LD_AUDIT"]) {
        let value = "/tmp/from-dotenv";
        let pkg = StubPackage::new(&format!("{name}={value}\n"));
        let out = run(&mut pkg.run_native(&[]));
        match pkg.record() {
            None => assert!(
                !out.status.success() && String::from_utf8_lossy(&out.stderr).contains(*name),
                "{name}: refused without naming it:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Some(rec) => assert_ne!(
                rec.env.get(*name).map(String::as_str),
                Some(value),
                "{name} from .env reached the program"
            ),
        }
    }
}

/// Issue 10.1: an `.env` written for the original packages (the validator's fixture
/// `xtask/tests/fixtures/original-operator.env`) passes the units' pre-start check and
/// starts run-native.sh, with its values reaching the program.
#[test]
fn an_original_operator_env_starts_run_native_and_passes_the_units_check() {
    if !require_tools() {
        return;
    }
    let fixture = repo().join("xtask/tests/fixtures/original-operator.env");
    let text = fs::read_to_string(&fixture).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the validator's fixture of an .env written for the original packages)",
            fixture.display()
        )
    });
    let pkg = StubPackage::new("");
    fs::write(pkg.dir().join(".env"), &text).unwrap();
    let vars = parse_env(&text);
    let out = ok(&mut pkg.run_native(&[]));
    let rec = pkg
        .record()
        .unwrap_or_else(|| panic!("nothing ran\n{}", String::from_utf8_lossy(&out.stderr)));
    for name in [
        "APP_BIND_IP",
        "APP_PORT",
        "DB_HOST",
        "STORAGE_BUCKET",
        "FROM_EMAIL",
    ] {
        if let Some(v) = vars.get(name).filter(|v| !v.is_empty()) {
            assert_eq!(rec.env.get(name), Some(v), "{name} from the original .env");
        }
    }
    for unit in SERVICES {
        let settings =
            service_settings(&fs::read_to_string(pkg.dir().join("systemd").join(unit)).unwrap());
        let env = unit_env_unset(&settings, pkg.dir());
        let argv = exec_argv(one_setting(&settings, "ExecStartPre"), pkg.dir(), &env);
        let out = run(&mut as_unit(&argv, pkg.dir(), &env));
        assert!(
            out.status.success(),
            "{unit}: the pre-start check refuses the original .env:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Issue 12.3: run-native.sh reads values as compose and systemd do (trimmed, unquoted) and
/// refuses what the file check refuses (text after a closing quote, an inline comment).
#[test]
fn run_native_reads_values_like_compose_and_systemd() {
    if !require_tools() {
        return;
    }
    let pkg = StubPackage::new("DB_NAME=orangescrum   \nDB_USERNAME=\"app user\"\n");
    ok(&mut pkg.run_native(&[]));
    let rec = pkg.record().expect("the program ran");
    assert_eq!(
        rec.env["DB_NAME"], "orangescrum",
        "trailing blanks are trimmed"
    );
    assert_eq!(
        rec.env["DB_USERNAME"], "app user",
        "one pair of quotes is removed"
    );

    for (line, rule) in [
        ("DB_NAME=\"orangescrum\" \n", "bad-quoting"),
        (
            "FULL_BASE_URL=https://a.example.org #prod\n",
            "inline-comment",
        ),
        (
            "DB_PASSWORD=0123456789abcdef0123 # rotated\n",
            "inline-comment",
        ),
    ] {
        let pkg = StubPackage::new(line);
        let err = fails(&mut pkg.run_native(&[]));
        assert!(
            err.contains(rule),
            "{line:?}: the file check names {rule}:\n{err}"
        );
        assert!(pkg.record().is_none(), "{line:?}: the program was started");
    }
}

/// Issue 12.4: every signal a supervisor or a terminal sends reaches the program (the script
/// execs it: same pid), and nothing is left holding the port.
#[test]
fn run_native_signals_reach_the_program() {
    if !require_tools() {
        return;
    }
    for sig in ["HUP", "QUIT", "USR1", "USR2", "TERM", "INT"] {
        let pkg = StubPackage::new("");
        let mut proc = Proc::spawn("run-native.sh", pkg.run_native(&[]).env("STUB_WAIT", "1"));
        assert!(
            wait_until(START_TIMEOUT, || pkg.record().is_some()),
            "the program did not start\n{}",
            proc.output()
        );
        let rec = pkg.record().unwrap();
        assert_eq!(rec.pid, proc.pid(), "run-native.sh execs the program");
        proc.signal(sig);
        let status = proc.wait_timeout(Duration::from_secs(10));
        assert!(
            status.is_some_and(|s| s.success()),
            "{sig}: not handled by the program (status {status:?})\n{}",
            proc.output()
        );
        let got = fs::read_to_string(pkg.scratch.join("record.signal")).unwrap_or_default();
        assert_eq!(got.trim(), sig, "{sig} reached the program");
        assert!(
            wait_until(Duration::from_secs(3), || proc.group_members().is_empty()),
            "{sig}: processes left behind: {:?}",
            proc.group_members()
        );
    }
}

/// Issue 12.5: run-native.sh refuses uid 0, before reading anything.
#[test]
fn run_native_refuses_root() {
    if !require_tools() {
        return;
    }
    let pkg = StubPackage::new("");
    let mut c = pkg.run_native(&[]);
    c.uid(0).gid(0);
    let err = fails(&mut c);
    assert!(err.contains("root"), "the message says why:\n{err}");
    assert!(pkg.record().is_none(), "the program was started as root");
}

/// Contracts 2-4 and 6: the commands each mode starts, their environment (APP_BIND_IP and
/// APP_PORT for the embedded Caddyfile, never -l; the package's php.ini through
/// PHP_INI_SCAN_DIR, never a PHPRC; WORKER_MAX_RUNTIME/WORKER_SLEEP with their defaults),
/// run from / so FrankenPHP resolves bin/cake.php inside the embedded app.
#[test]
fn run_native_modes_start_the_contract_commands() {
    if !require_tools() {
        return;
    }
    let pkg = StubPackage::new("WORKER_MAX_RUNTIME=600\nWORKER_SLEEP=2\n");
    let dir = pkg.dir().to_path_buf();
    let bin = binary_of(&dir).display().to_string();
    let cases: [(&[&str], Vec<String>); 6] = [
        (&[], vec![bin.clone(), "php-server".into()]),
        (&["php-server"], vec![bin.clone(), "php-server".into()]),
        (&["queue-worker"], worker_argv(&bin, 600, 2)),
        (
            &["recurring-task"],
            [&bin, "php-cli", "bin/cake.php", "recurring_task"]
                .map(String::from)
                .to_vec(),
        ),
        (
            &["migrate"],
            vec![
                dir.join("helpers/migrate.sh").display().to_string(),
                bin.clone(),
            ],
        ),
        (
            &["php-cli", "bin/cake.php", "migrations", "status"],
            [&bin, "php-cli", "bin/cake.php", "migrations", "status"]
                .map(String::from)
                .to_vec(),
        ),
    ];
    for (args, want) in cases {
        let _ = fs::remove_file(pkg.record_path());
        let out = ok(pkg.run_native(args).env("PHPRC", "/tmp/evil.ini"));
        let rec = pkg.record().unwrap_or_else(|| {
            panic!(
                "{args:?}: nothing ran\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        assert_eq!(rec.args, want, "run-native.sh {args:?}");
        assert_eq!(rec.uid, NOBODY);
        assert_eq!(rec.cwd, "/", "{args:?}: runs from /");
        assert_eq!(
            rec.env.get("PHP_INI_SCAN_DIR").map(String::as_str),
            Some(format!(":{}/php", dir.display()).as_str()),
            "{args:?}: the package's php.ini"
        );
        assert!(!rec.env.contains_key("PHPRC"), "{args:?}: PHPRC removed");
        assert_eq!(rec.env["APP_BIND_IP"], "127.0.0.1");
        assert_eq!(rec.env["APP_PORT"], pkg.port.to_string());
    }

    // Defaults: --max-runtime 1800 --sleep 5.
    let pkg = StubPackage::new("");
    ok(&mut pkg.run_native(&["queue-worker"]));
    let rec = pkg.record().unwrap();
    assert_eq!(
        rec.args[5..],
        ["--max-runtime", "1800", "--sleep", "5", "--verbose"]
    );

    // The worker settings are checked before anything runs.
    let bad = StubPackage::new("WORKER_SLEEP=five\n");
    let err = fails(&mut bad.run_native(&["queue-worker"]));
    assert!(err.contains("WORKER_SLEEP"), "names the variable:\n{err}");
    assert!(bad.record().is_none());

    // Unknown modes and stray arguments are usage errors; nothing runs.
    for args in [&["serve"][..], &["php-server", "-l", ":80"], &["php-cli"]] {
        let out = run(&mut pkg.run_native(args));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

/// Contract 1 / issue 10.6: DB_PASSWORD_FILE supplies DB_PASSWORD (Docker-secrets style,
/// trailing newline dropped); one that cannot be read is refused by name.
#[test]
fn run_native_takes_db_password_file() {
    if !require_tools() {
        return;
    }
    let secret = random_hex(20);
    let pkg = StubPackage::new("");
    let file = pkg.scratch.join("db_password");
    fs::write(&file, format!("{secret}\n")).unwrap();
    std::os::unix::fs::chown(&file, Some(NOBODY), Some(NOBODY)).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o400)).unwrap();
    let env = fs::read_to_string(pkg.dir().join(".env")).unwrap();
    fs::write(
        pkg.dir().join(".env"),
        format!("{env}DB_PASSWORD_FILE={}\n", file.display()),
    )
    .unwrap();
    ok(&mut pkg.run_native(&[]));
    assert_eq!(pkg.record().unwrap().env["DB_PASSWORD"], secret);

    let _ = fs::remove_file(pkg.record_path());
    fs::set_permissions(&file, fs::Permissions::from_mode(0o000)).unwrap();
    let err = fails(&mut pkg.run_native(&[]));
    assert!(
        err.contains("DB_PASSWORD_FILE"),
        "names the variable:\n{err}"
    );
    assert!(pkg.record().is_none());
}

// ------------------------------------------------------------------------------------------
// Test 5: the units (issues 11, 12)
// ------------------------------------------------------------------------------------------

const SERVICES: [&str; 4] = [
    "orangescrum-migrate.service",
    "orangescrum-queue.service",
    "orangescrum-recurring.service",
    "orangescrum.service",
];
const TIMER: &str = "orangescrum-recurring.timer";

/// What the issue lists as loader and shell variables, plus PHP's own.
const DANGEROUS: [&str; 11] = [
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "PATH",
    "IFS",
    "ENV",
    "BASH_ENV",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
    "PHPRC",
    "PHP_INI_SCAN_DIR",
];

/// The settings of one `[Section]` of a unit.
fn section_settings(text: &str, section: &str) -> Vec<(String, String)> {
    let header = format!("[{section}]");
    let mut inside = false;
    let mut body = String::from("[Service]\n");
    for line in text.lines() {
        if line.starts_with('[') {
            inside = line.trim() == header;
            continue;
        }
        if inside {
            body.push_str(line);
            body.push('\n');
        }
    }
    service_settings(&body)
}

/// The environment systemd gives a unit's processes: the manager's (PATH, plus the
/// dangerous names as if a drop-in had set them), its `Environment=`, its
/// `EnvironmentFile=`s, then `UnsetEnvironment=` applied last (as systemd does).
fn unit_env_unset(settings: &[(String, String)], prefix: &Path) -> BTreeMap<String, String> {
    let mut env = unit_env(settings, prefix);
    for name in DANGEROUS {
        env.entry(name.to_string())
            .or_insert_with(|| "/tmp/from-a-drop-in".to_string());
    }
    for value in setting(settings, "UnsetEnvironment") {
        for name in value.split_whitespace() {
            env.remove(name);
        }
    }
    env
}

/// The unit templates of the package with the prefix and an existing, unprivileged account
/// filled in, in `units`.
fn render_units(pkg: &Path, units: &Path, user: &str) -> Vec<PathBuf> {
    fs::create_dir_all(units).unwrap();
    let mut out = Vec::new();
    for name in SERVICES.iter().chain([&TIMER]) {
        let text = fs::read_to_string(pkg.join("systemd").join(name))
            .unwrap_or_else(|e| panic!("systemd/{name} in the package: {e}"));
        let text = text
            .replace("@@PREFIX@@", &pkg.to_string_lossy())
            .replace("@@SERVICE_USER@@", user)
            .replace("@@SERVICE_GROUP@@", user);
        assert!(!has_placeholder(&text), "{name}: placeholder left");
        let path = units.join(name);
        fs::write(&path, text).unwrap();
        out.push(path);
    }
    out
}

/// Issue 12.2 and 12.14, issue 11, issue 10.6: the units' pre-start check reads the file,
/// loader/shell/PHP variables never reach a process, each unit starts its command through
/// run-native.sh; the migration unit gates the web unit; the worker rides out crash loops
/// and web restarts; the recurring timer; all verify clean with exposure <= 2.0.
#[test]
fn units_check_the_file_start_through_run_native_and_schedule_the_lifecycle() {
    if !require_tools() {
        return;
    }
    let pkg = StubPackage::new("");
    let dir = pkg.dir().to_path_buf();
    let mut hardening: Option<Vec<(String, String)>> = None;
    let bin = binary_of(&dir).display().to_string();
    for name in SERVICES {
        let text = fs::read_to_string(dir.join("systemd").join(name)).unwrap();
        assert_no_shell_syntax(name, &text);
        let settings = service_settings(&text);

        // UnsetEnvironment= holds every dangerous name.
        let unset: Vec<&str> = setting(&settings, "UnsetEnvironment")
            .into_iter()
            .flat_map(str::split_whitespace)
            .collect();
        for d in DANGEROUS {
            assert!(unset.contains(&d), "{name}: UnsetEnvironment= lacks {d}");
        }
        assert!(
            setting(&settings, "EnvironmentFile").is_empty(),
            "{name}: .env is read by run-native.sh (known names only), not by systemd"
        );

        // The hardening block is the same in every service.
        let block: Vec<(String, String)> = settings
            .iter()
            .skip_while(|(k, _)| k != "NoNewPrivileges")
            .cloned()
            .collect();
        assert!(!block.is_empty(), "{name}: no hardening block");
        match &hardening {
            None => hardening = Some(block),
            Some(first) => assert_eq!(&block, first, "{name}: hardening differs"),
        }

        // The pre-start check is the file check (a value check lets "# rotated" into the
        // password): run as systemd would, on a file with an inline comment.
        let pre = one_setting(&settings, "ExecStartPre");
        let env = unit_env_unset(&settings, &dir);
        assert!(!env.contains_key("PATH"), "{name}: PATH is unset");
        let argv = exec_argv(pre, &dir, &env);
        let good = run(&mut as_unit(&argv, &dir, &env));
        assert!(
            good.status.success(),
            "{name}: ExecStartPre={pre} refuses the valid .env:\n{}",
            String::from_utf8_lossy(&good.stderr)
        );
        let valid = fs::read_to_string(dir.join(".env")).unwrap();
        fs::write(
            dir.join(".env"),
            format!("{valid}DB_PASSWORD=0123456789abcdef0123 # rotated\n"),
        )
        .unwrap();
        let bad = run(&mut as_unit(&argv, &dir, &env));
        fs::write(dir.join(".env"), &valid).unwrap();
        assert!(
            !bad.status.success()
                && String::from_utf8_lossy(&bad.stderr).contains("inline-comment"),
            "{name}: ExecStartPre={pre} accepts an inline comment in .env:\n{}",
            String::from_utf8_lossy(&bad.stderr)
        );

        // ExecStart, as systemd would run it: what the program gets.
        let _ = fs::remove_file(pkg.record_path());
        let start = one_setting(&settings, "ExecStart");
        assert_eq!(
            start.split_whitespace().next(),
            Some("@@PREFIX@@/run-native.sh"),
            "{name}: starts through run-native.sh"
        );
        let argv = exec_argv(start, &dir, &env);
        let out = run(&mut as_unit(&argv, &dir, &env));
        assert!(
            out.status.success(),
            "{name}: ExecStart={start} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let rec = pkg.record().expect("the program ran");
        for d in DANGEROUS
            .iter()
            .filter(|d| **d != "PATH" && **d != "PHP_INI_SCAN_DIR")
        {
            assert!(!rec.env.contains_key(*d), "{name}: {d} reached the program");
        }
        assert_eq!(
            rec.env.get("PHP_INI_SCAN_DIR"),
            Some(&format!(":{}/php", dir.display())),
            "{name}: the package's php.ini (UnsetEnvironment= would drop an Environment= one)"
        );
        assert_eq!(
            rec.env["APP_PORT"],
            pkg.port.to_string(),
            "{name}: .env read"
        );
        let args: Vec<&str> = rec.args.iter().map(String::as_str).collect();
        let want: Vec<String> = match name {
            "orangescrum.service" => vec![bin.clone(), "php-server".into()],
            "orangescrum-queue.service" => worker_argv(&bin, 1800, 5),
            "orangescrum-recurring.service" => {
                [bin.as_str(), "php-cli", "bin/cake.php", "recurring_task"]
                    .map(String::from)
                    .to_vec()
            }
            _ => vec![
                dir.join("helpers/migrate.sh").display().to_string(),
                bin.clone(),
            ],
        };
        assert_eq!(args, want, "{name}: the command");
    }

    // The lifecycle between the units.
    let unit = |name: &str, section: &str| {
        section_settings(
            &fs::read_to_string(dir.join("systemd").join(name)).unwrap(),
            section,
        )
    };
    let words = |s: &[(String, String)], k: &str| -> Vec<String> {
        setting(s, k)
            .into_iter()
            .flat_map(str::split_whitespace)
            .map(String::from)
            .collect()
    };
    let web = unit("orangescrum.service", "Unit");
    for k in ["Requires", "After"] {
        assert!(
            words(&web, k).contains(&"orangescrum-migrate.service".to_string()),
            "the web unit {k}= the migration unit (a failed migration stops its start)"
        );
    }
    let migrate = unit("orangescrum-migrate.service", "Service");
    assert_eq!(one_setting(&migrate, "Type"), "oneshot");
    assert_eq!(one_setting(&migrate, "RemainAfterExit"), "yes");
    let queue_unit = unit("orangescrum-queue.service", "Unit");
    assert!(
        setting(&queue_unit, "PartOf").is_empty() && setting(&queue_unit, "BindsTo").is_empty(),
        "a web restart must not restart the worker"
    );
    assert_eq!(
        one_setting(&queue_unit, "StartLimitIntervalSec"),
        "0",
        "the worker never gives up restarting (it rides out a Redis restart)"
    );
    let queue = unit("orangescrum-queue.service", "Service");
    assert_eq!(
        one_setting(&queue, "Restart"),
        "always",
        "started again after --max-runtime"
    );
    assert_eq!(one_setting(&queue, "MemoryMax"), "1G");
    assert_eq!(one_setting(&queue, "CPUQuota"), "100%");
    let recurring = unit("orangescrum-recurring.service", "Service");
    assert_eq!(
        one_setting(&recurring, "Type"),
        "oneshot",
        "active for the whole run, so the timer never starts a second one"
    );
    assert!(setting(&recurring, "Restart").is_empty());
    let timer = unit(TIMER, "Timer");
    assert_eq!(one_setting(&timer, "Persistent"), "true");
    assert_eq!(one_setting(&timer, "Unit"), "orangescrum-recurring.service");
    let calendar = one_setting(&timer, "OnCalendar");
    let out = ok(Command::new("systemd-analyze")
        .args(["calendar", "--iterations=3", calendar])
        .env("TZ", "UTC"));
    let elapses: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once("UTC").and(l.split_once(": ")))
        .filter(|(k, _)| k.contains("Next elapse") || k.contains("Iter."))
        .map(|(_, v)| v.trim().to_string())
        .collect();
    let minutes: Vec<u32> = elapses
        .iter()
        .map(|e| {
            let hm = e
                .split_whitespace()
                .nth(2)
                .expect("Day YYYY-MM-DD HH:MM:SS");
            let mut p = hm.split(':').map(|n| n.parse::<u32>().unwrap());
            p.next().unwrap() * 60 + p.next().unwrap()
        })
        .collect();
    assert_eq!(minutes.len(), 3, "{elapses:?}");
    for w in minutes.windows(2) {
        assert_eq!(
            (w[1] + 24 * 60 - w[0]) % (24 * 60),
            30,
            "every 30 minutes: {elapses:?}"
        );
    }
    assert!(
        fs::read_to_string(dir.join("systemd").join(TIMER))
            .unwrap()
            .contains("WantedBy=timers.target"),
        "the timer is enabled with timers.target"
    );

    // systemd's own checks on the rendered units (the helper must exist for verify).
    let units = pkg.pkg.tmp.path().join("units");
    let rendered = render_units(&dir, &units, "daemon");
    let verify = run(Command::new("systemd-analyze")
        .args(["verify", "--man=no", "--no-pager"])
        .args(&rendered));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(
        verify.status.success() && said.trim().is_empty(),
        "systemd-analyze verify:\n{said}"
    );
    for path in rendered
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "service"))
    {
        let score = exposure(path);
        assert!(score <= 2.0, "{}: exposure {score} > 2.0", path.display());
    }
}

// ------------------------------------------------------------------------------------------
// Test 6: helpers/cake.sh and helpers/queue-worker.sh (issue 10.6)
// ------------------------------------------------------------------------------------------

/// The helpers run their command through run-native.sh (the .env loaded, never executed);
/// as root they switch to the service account with a clean environment.
#[test]
fn cake_and_queue_worker_helpers_run_as_the_service_account() {
    if !require_tools() {
        return;
    }
    let pkg = StubPackage::new("WORKER_SLEEP=3\n");
    let dir = pkg.dir();
    let bin = binary_of(dir).display().to_string();
    let helper = |name: &str| {
        let mut c = Command::new(dir.join("helpers").join(name));
        c.current_dir(pkg.pkg.tmp.path())
            .env_clear()
            .env("PATH", PATH)
            .env("ROOTS_SECRET", "must-not-leak");
        c
    };

    // As root: switched to the account named by --user, with a clean environment.
    for (name, args, want) in [
        (
            "cake.sh",
            &["--user", "nobody", "migrations", "status"][..],
            [&bin, "php-cli", "bin/cake.php", "migrations", "status"]
                .map(String::from)
                .to_vec(),
        ),
        (
            "queue-worker.sh",
            &["--user", "nobody"][..],
            worker_argv(&bin, 1800, 3),
        ),
    ] {
        let _ = fs::remove_file(pkg.record_path());
        let out = ok(helper(name).args(args));
        let rec = pkg.record().unwrap_or_else(|| {
            panic!(
                "{name}: nothing ran\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        assert_eq!(rec.uid, NOBODY, "{name}: runs as the service account");
        assert_eq!(rec.args, want, "{name}: the command");
        assert!(
            !rec.env.contains_key("ROOTS_SECRET"),
            "{name}: root's environment leaked"
        );
        assert_eq!(
            rec.env["APP_PORT"],
            pkg.port.to_string(),
            "{name}: .env loaded"
        );
    }

    // As the service account itself: no switch needed.
    let _ = fs::remove_file(pkg.record_path());
    ok(as_nobody(&mut helper("cake.sh")).arg("version"));
    assert_eq!(pkg.record().unwrap().uid, NOBODY);

    // Refusals name the fix.
    let err = fails(helper("cake.sh").args(["--user", "no-such-account-x", "version"]));
    assert!(err.contains("--user"), "{err}");
    let err = fails(as_nobody(&mut helper("cake.sh")).args(["--user", "root", "version"]));
    assert!(err.contains("only root"), "{err}");
    let err = fails(&mut helper("cake.sh"));
    assert!(err.contains("cake command"), "{err}");

    // In the Docker package (a folder with docker-compose.yaml instead of run-native.sh) the
    // same helpers run a one-off container of the app service, which reads .env itself.
    let docker_pkg = pkg.pkg.tmp.path().join("docker-pkg");
    fs::create_dir_all(docker_pkg.join("helpers")).unwrap();
    fs::write(docker_pkg.join("docker-compose.yaml"), "services: {}\n").unwrap();
    for name in ["cake.sh", "queue-worker.sh"] {
        fs::copy(
            dir.join("helpers").join(name),
            docker_pkg.join("helpers").join(name),
        )
        .unwrap();
    }
    let fake_bin = pkg.pkg.tmp.path().join("fake-bin");
    fs::create_dir_all(&fake_bin).unwrap();
    let calls = pkg.pkg.tmp.path().join("docker-calls");
    fs::write(
        fake_bin.join("docker"),
        format!(
            "#!/bin/sh\n[ \"$2\" = version ] && exit 0\necho \"$PWD $*\" >>{}\n",
            calls.display()
        ),
    )
    .unwrap();
    fs::set_permissions(fake_bin.join("docker"), fs::Permissions::from_mode(0o755)).unwrap();
    let docker_path = format!("{}:{PATH}", fake_bin.display());
    for (name, args) in [
        ("cake.sh", &["migrations", "status"][..]),
        ("queue-worker.sh", &[][..]),
    ] {
        ok(Command::new(docker_pkg.join("helpers").join(name))
            .args(args)
            .env_clear()
            .env("PATH", &docker_path));
    }
    let said = fs::read_to_string(&calls).unwrap();
    let d = docker_pkg.display();
    assert_eq!(
        said.lines().collect::<Vec<_>>(),
        [
            format!("{d} compose run --rm --no-deps orangescrum-app php-cli bin/cake.php migrations status"),
            format!("{d} compose run --rm --no-deps orangescrum-app queue-worker"),
        ],
        "the Docker package runs the command in a one-off app container"
    );
}

// ------------------------------------------------------------------------------------------
// Test 7: the units' commands against real PostgreSQL and Redis (issue 11)
// ------------------------------------------------------------------------------------------

/// The units' pre-start check and command, run as systemd would (the unit's environment,
/// as the service account, PrivateTmp= modelled by `tmp`), with the stand-in running the PHP
/// fixture application through Debian's php.
fn unit_command(
    dir: &Path,
    unit: &str,
    tmp: &Path,
    php: &Path,
) -> (Vec<Vec<String>>, BTreeMap<String, String>) {
    let text = fs::read_to_string(dir.join("systemd").join(unit)).unwrap();
    let settings = service_settings(&text);
    let mut env = unit_env_unset(&settings, dir);
    env.insert("TMPDIR".into(), tmp.display().to_string());
    env.insert("ORANGESCRUM_SAMPLE_PHP".into(), php.display().to_string());
    let mut argvs: Vec<Vec<String>> = setting(&settings, "ExecStartPre")
        .into_iter()
        .map(|pre| exec_argv(pre, dir, &env))
        .collect();
    argvs.push(exec_argv(one_setting(&settings, "ExecStart"), dir, &env));
    (argvs, env)
}

fn unit_run(dir: &Path, unit: &str, tmp: &Path, php: &Path) -> std::process::Output {
    let (argvs, env) = unit_command(dir, unit, tmp, php);
    let mut last = None;
    for argv in argvs {
        let out = run(&mut as_unit(&argv, dir, &env));
        if !out.status.success() {
            return out;
        }
        last = Some(out);
    }
    last.unwrap()
}

/// [`unit_run`] that must succeed.
fn unit_ok(dir: &Path, unit: &str, tmp: &Path, php: &Path) -> std::process::Output {
    let out = unit_run(dir, unit, tmp, php);
    assert!(out.status.success(), "{unit} failed:\n{}", out_text(&out));
    out
}

fn out_text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Issue 11 through the native units: the migration unit migrates and seeds once, a second
/// run does neither; the web unit then serves the health check (which needs the database);
/// the worker unit takes a job pushed into Redis and exits at --max-runtime; the recurring
/// unit records a complete run; with the database down the migration unit fails after a
/// bounded wait, naming host and port. (Needs support::services from the lifecycle tests.)
#[test]
fn units_run_the_database_lifecycle_against_postgresql_and_redis() {
    if !require_tools() {
        return;
    }
    let test = "units_run_the_database_lifecycle_against_postgresql_and_redis";
    let Some(php) = services::php_with_extensions(test) else {
        return;
    };
    let Some(mut pg) = services::Postgres::start(test) else {
        return;
    };
    let Some(redis) = services::Redis::start(test) else {
        return;
    };
    let pkg = unpack();
    let dir = pkg.dir.clone();
    let port = free_port();
    let mut extra = String::new();
    for (k, v) in pg.env().into_iter().chain(redis.env()) {
        extra.push_str(&format!("{k}={v}\n"));
    }
    extra.push_str("REDIS_PASSWORD=\nWORKER_MAX_RUNTIME=3\nWORKER_SLEEP=1\nDB_WAIT_TIMEOUT=3\n");
    write_env(&dir, port, &extra);
    let tmp = share_with_nobody(&pkg);
    let count = |sql: &str| pg.query(sql).trim().parse::<u64>().unwrap();

    // Migrations and seeding, once.
    unit_ok(&dir, "orangescrum-migrate.service", &tmp, &php);
    let tables = pg.tables();
    for table in ["actions", "queue_processed", "recurring_runs"] {
        assert!(
            tables.iter().any(|t| t == table),
            "table {table} missing: {tables:?}"
        );
    }
    assert_eq!(count("SELECT count(*) FROM actions"), 3, "seeded once");
    unit_ok(&dir, "orangescrum-migrate.service", &tmp, &php);
    assert_eq!(count("SELECT count(*) FROM actions"), 3, "not seeded twice");

    // The web unit serves the health check, which asks the database.
    let (argvs, env) = unit_command(&dir, "orangescrum.service", &tmp, &php);
    let start = argvs.last().unwrap();
    let mut web = Proc::spawn("web unit", &mut as_unit(start, &dir, &env));
    assert!(
        wait_until(START_TIMEOUT, || web.exited().is_none()
            && http_status(port, "/home/healthcheck") == Some(200)),
        "the web unit did not answer the health check with 200\n{}",
        web.output()
    );
    web.signal("TERM");
    let status = web.wait_timeout(Duration::from_secs(30));
    assert!(
        status.is_some_and(|s| s.success()),
        "web stop: {status:?}\n{}",
        web.output()
    );

    // The worker takes a job from Redis and exits at --max-runtime (systemd starts it again:
    // Restart=always, checked with the units).
    let job = format!("job-{}", random_hex(4));
    redis.command(&["RPUSH", "orangescrum:queue:default", &job]);
    let started = Instant::now();
    let out = unit_ok(&dir, "orangescrum-queue.service", &tmp, &php);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the worker did not exit at --max-runtime 3 ({:?})",
        started.elapsed()
    );
    assert_eq!(
        pg.query(&format!(
            "SELECT count(*) FROM queue_processed WHERE job = '{job}'"
        ))
        .trim(),
        "1",
        "the job was processed:\n{}",
        out_text(&out)
    );

    // The recurring unit records a complete run.
    unit_ok(&dir, "orangescrum-recurring.service", &tmp, &php);
    assert_eq!(
        count("SELECT count(*) FROM recurring_runs WHERE finished_at IS NOT NULL"),
        1
    );

    // Database down: a bounded wait, then a failure that names host and port.
    pg.stop();
    let started = Instant::now();
    let out = unit_run(&dir, "orangescrum-migrate.service", &tmp, &php);
    let took = started.elapsed();
    let said = out_text(&out);
    assert!(
        !out.status.success(),
        "the migration unit succeeded without a database"
    );
    assert!(
        said.contains(&format!("127.0.0.1:{}", pg.port)),
        "the error names DB_HOST:DB_PORT:\n{said}"
    );
    assert!(
        took < Duration::from_secs(30),
        "DB_WAIT_TIMEOUT=3 took {took:?}"
    );
}
