//! Real PostgreSQL and Redis for the tests, from Debian's packages: each instance lives in its
//! own temporary folder, listens on a free loopback port, and is stopped when dropped.
//!
//! ```ignore
//! let Some(pg) = services::Postgres::start("my_test") else { return };   // skipped (loudly)
//! let Some(redis) = services::Redis::start("my_test") else { return };
//! cmd.envs(pg.env()).envs(redis.env());   // DB_HOST, DB_PORT, ..., REDIS_HOST, REDIS_PORT
//! pg.query("SELECT count(*) FROM actions");  // psql -tA, trimmed
//! redis.command(&["RPUSH", "key", "value"]); // RESP reply as text
//! pg.stop(); pg.start_again();               // database down / up
//! ```
//!
//! Missing tools skip the test with a `skipped:` line on a developer machine and fail it
//! under CI (`CI=true`), where `.ci/install-deps` installs them.
//!
//! PostgreSQL refuses to run as root, so as root the cluster is created and run as `nobody`
//! (through `setpriv`), with the data folder owned by it.

#![allow(dead_code)]

use std::{
    fs,
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    thread,
    time::{Duration, Instant},
};

/// Where Debian's postgresql-15 (bookworm's `postgresql`) puts the server tools.
pub const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// [`PG_BIN`], or the newest `/usr/lib/postgresql/<major>/bin` with an initdb when another
/// Debian release ships another major version.
pub fn pg_bin() -> PathBuf {
    if Path::new(PG_BIN).join("initdb").exists() {
        return PathBuf::from(PG_BIN);
    }
    let mut found: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((major, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map_or_else(|| PathBuf::from(PG_BIN), |(_, bin)| bin)
}

/// Database settings the tests use (the app reads them as DB_*).
pub const DB_NAME: &str = "orangescrum";
pub const DB_USER: &str = "orangescrum";
pub const DB_PASSWORD: &str = "test-password-0123456789";

/// True when the tools exist; otherwise skips loudly, or fails under CI
/// ([`super::require::available`]).
pub fn require_tools(test: &str, tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools.iter().copied().filter(|t| !tool_exists(t)).collect();
    super::require::available(
        &format!("{test}: {}", missing.join(", ")),
        missing.is_empty(),
        "apt-get install postgresql redis-server php-cli php-pgsql php-redis (.ci/install-deps does)",
    )
}

fn tool_exists(tool: &str) -> bool {
    if tool.contains('/') {
        return Path::new(tool).exists();
    }
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|d| {
            fs::metadata(d.join(tool))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// The `php` on PATH, when it has pdo_pgsql and redis (what the fixture app needs).
pub fn php_with_extensions(test: &str) -> Option<PathBuf> {
    if !require_tools(test, &["php"]) {
        return None;
    }
    let out = Command::new("php").arg("-m").output().expect("run php -m");
    let modules = String::from_utf8_lossy(&out.stdout).to_lowercase();
    let missing: Vec<&str> = ["pdo_pgsql", "redis"]
        .into_iter()
        .filter(|m| !modules.lines().any(|l| l.trim() == *m))
        .collect();
    if !super::require::available(
        &format!("{test}: php's {}", missing.join(", ")),
        missing.is_empty(),
        "apt-get install php-pgsql php-redis",
    ) {
        return None;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("php"))
        .find(|p| p.is_file())
}

/// A port nobody listens on right now (there is a small race until the server binds it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn id_of(flag: &str, user: &str) -> u32 {
    let out = Command::new("id")
        .args([flag, user])
        .output()
        .expect("run id");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("id {flag} {user}: {out:?}"))
}

/// A PostgreSQL 15 cluster in a temporary folder.
pub struct Postgres {
    dir: tempfile::TempDir,
    pub port: u16,
    /// uid/gid the server runs as (`nobody` when the tests run as root).
    owner: Option<(u32, u32)>,
    running: bool,
}

impl Postgres {
    /// initdb + start + a database `orangescrum` owned by user `orangescrum` (password
    /// [`DB_PASSWORD`], scram over TCP). `None` when skipped (see [`require_tools`]).
    pub fn start(test: &str) -> Option<Postgres> {
        let root = is_root();
        let bin = pg_bin();
        let mut tools = vec![
            bin.join("initdb").display().to_string(),
            bin.join("pg_ctl").display().to_string(),
            "psql".to_string(),
        ];
        if root {
            // PostgreSQL refuses root: the cluster runs as nobody.
            tools.push("setpriv".to_string());
        }
        let tools: Vec<&str> = tools.iter().map(String::as_str).collect();
        if !require_tools(test, &tools) {
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("test-pg-")
            .tempdir()
            .unwrap();
        let owner = root.then(|| (id_of("-u", "nobody"), id_of("-g", "nobody")));
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
        }
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        let pwfile = dir.path().join("pw");
        fs::write(&pwfile, format!("{DB_PASSWORD}\n")).unwrap();
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&pwfile, Some(uid), Some(gid)).unwrap();
        }
        let mut pg = Postgres {
            dir,
            port: free_port(),
            owner,
            running: false,
        };
        let data = pg.data();
        pg.as_owner(&pg.tool("initdb"))
            .args([
                "-D",
                data.to_str().unwrap(),
                "-U",
                DB_USER,
                "-A",
                "scram-sha-256",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .args(["-E", "UTF8", "--no-sync"])
            .ok("initdb");
        pg.start_again();
        pg.psql(
            "postgres",
            &format!("CREATE DATABASE {DB_NAME} OWNER {DB_USER}"),
        );
        Some(pg)
    }

    fn tool(&self, name: &str) -> String {
        pg_bin().join(name).display().to_string()
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The server log, for failure messages.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    fn as_owner(&self, program: &str) -> Cmd {
        let mut c = match self.owner {
            Some((uid, gid)) => {
                let mut c = Command::new("setpriv");
                c.arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={gid}"))
                    .arg("--clear-groups")
                    .arg(program);
                c
            }
            None => Command::new(program),
        };
        c.current_dir(self.dir.path()).stdin(Stdio::null());
        Cmd(c)
    }

    /// Starts the (stopped) server and waits until it accepts connections.
    pub fn start_again(&mut self) {
        let data = self.data();
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        self.as_owner(&self.tool("pg_ctl"))
            .args(["-D", data.to_str().unwrap(), "-l"])
            .arg(self.dir.path().join("log"))
            .args(["-o", &options, "-w", "-t", "60", "start"])
            .ok("pg_ctl start");
        self.running = true;
    }

    /// Stops the server (fast shutdown); the data stays for [`Postgres::start_again`].
    pub fn stop(&mut self) {
        if !self.running {
            return;
        }
        let data = self.data();
        self.as_owner(&self.tool("pg_ctl"))
            .args(["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"])
            .ok("pg_ctl stop");
        self.running = false;
    }

    /// DB_* variables for the app.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("DB_HOST", "127.0.0.1".to_string()),
            ("DB_PORT", self.port.to_string()),
            ("DB_NAME", DB_NAME.to_string()),
            ("DB_USERNAME", DB_USER.to_string()),
            ("DB_PASSWORD", DB_PASSWORD.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Runs SQL in database `db` with psql; returns the unaligned, tuples-only output.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new("psql")
            .args([
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
            ])
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                DB_USER,
                "-d",
                db,
                "-c",
                sql,
            ])
            .env("PGPASSWORD", DB_PASSWORD)
            .env_remove("PGSERVICE")
            .stdin(Stdio::null())
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// [`Postgres::psql`] in the app's database.
    pub fn query(&self, sql: &str) -> String {
        self.psql(DB_NAME, sql)
    }

    /// Names of the tables in the app's database, sorted.
    pub fn tables(&self) -> Vec<String> {
        let text = self.query(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
        );
        text.lines().map(str::to_string).collect()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.running {
            let data = self.data();
            let _ = self
                .as_owner(&self.tool("pg_ctl"))
                .0
                .args([
                    "-D",
                    data.to_str().unwrap(),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

struct Cmd(Command);

impl Cmd {
    fn args<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(&mut self, a: I) -> &mut Cmd {
        self.0.args(a);
        self
    }
    fn arg(&mut self, a: impl AsRef<std::ffi::OsStr>) -> &mut Cmd {
        self.0.arg(a);
        self
    }
    fn ok(&mut self, what: &str) -> Output {
        let out = self.0.output().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            out.status.success(),
            "{what} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

/// A redis-server in a temporary folder, persistence off.
pub struct Redis {
    dir: tempfile::TempDir,
    pub port: u16,
    child: Child,
}

impl Redis {
    /// Starts redis-server on a free loopback port; `None` when skipped.
    pub fn start(test: &str) -> Option<Redis> {
        if !require_tools(test, &["redis-server"]) {
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("test-redis-")
            .tempdir()
            .unwrap();
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .arg("--dir")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let redis = Redis { dir, port, child };
        let deadline = Instant::now() + Duration::from_secs(20);
        while redis.try_command(&["PING"]).as_deref() != Ok("PONG") {
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer PING on port {port}"
            );
            thread::sleep(Duration::from_millis(50));
        }
        Some(redis)
    }

    /// REDIS_* variables for the app.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("REDIS_HOST".to_string(), "127.0.0.1".to_string()),
            ("REDIS_PORT".to_string(), self.port.to_string()),
            ("REDIS_DATABASE".to_string(), "0".to_string()),
        ]
    }

    /// Sends one command; returns a simple/bulk reply as text, an integer as its digits.
    pub fn command(&self, args: &[&str]) -> String {
        self.try_command(args)
            .unwrap_or_else(|e| panic!("redis {args:?}: {e}"))
    }

    fn try_command(&self, args: &[&str]) -> Result<String, String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = s.read(&mut chunk).map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(reply) = parse_reply(&buf) {
                return reply;
            }
        }
        Err("connection closed".into())
    }
}

/// One RESP reply, or `None` when incomplete.
fn parse_reply(buf: &[u8]) -> Option<Result<String, String>> {
    let end = buf.windows(2).position(|w| w == b"\r\n")?;
    let line = String::from_utf8_lossy(&buf[1..end]).to_string();
    match buf.first()? {
        b'+' | b':' => Some(Ok(line)),
        b'-' => Some(Err(line)),
        b'$' => {
            let len: i64 = line.parse().ok()?;
            if len < 0 {
                return Some(Ok(String::new()));
            }
            let body = buf.get(end + 2..end + 2 + len as usize)?;
            Some(Ok(String::from_utf8_lossy(body).to_string()))
        }
        _ => Some(Err(format!("unsupported reply {line:?}"))),
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = &self.dir;
    }
}
