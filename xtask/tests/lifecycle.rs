//! The database lifecycle and the FrankenPHP serving rules, proven with real components: the
//! `--sample` stand-in binary (built through `package --sample`) runs its embedded fixture app
//! (`sample-app/fixture/`, shaped like OrangeScrum) with Debian's `php-cli`, against a
//! PostgreSQL 15 cluster and a redis-server that each test starts in a temporary folder on
//! a free loopback port (`support::services`).
//!
//! Covered: `helpers/migrate.sh` (first run migrates the app and its plugin and seeds once,
//! a second run does neither; `SKIP_MIGRATIONS`, `RUN_SEEDERS`, `SKIP_SEEDERS`,
//! `DB_PASSWORD_FILE`; the database down: a bounded wait, then an error naming host:port),
//! the queue worker (takes a job pushed into Redis, exits at `--max-runtime`), the recurring
//! task, `php-server` (serves `/home/healthcheck` from the fixture on exactly
//! `APP_BIND_IP:APP_PORT` from the embedded Caddyfile, ignoring `-l`; 200 with the database
//! up, 503 with it down; the Caddyfile's headers) and php.ini (read by `php-server`, not by
//! `php-cli` unless `PHP_INI_SCAN_DIR` names it).
//!
//! Without PostgreSQL, Redis or PHP the tests are skipped loudly on a developer machine and
//! fail under CI (`CI` set), where `.ci/run` installs them.

mod support;

use std::{
    fs,
    io::{Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    thread,
    time::{Duration, Instant},
};

use support::services::{self, free_port, Postgres, Redis};

/// One test's world: the sample binary, a private TMPDIR (so the embedded app is extracted
/// afresh, as on a new server), and the environment the package's launchers would set.
struct World {
    bin: PathBuf,
    tmp: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl World {
    /// `None` when PHP (with pdo_pgsql and redis) is missing and the test is skipped.
    fn new(test: &str) -> Option<World> {
        services::php_with_extensions(test)?;
        let bin = support::sample_binary().to_path_buf();
        let tmp = tempfile::Builder::new()
            .prefix("test-lifecycle-")
            .tempdir()
            .unwrap();
        let env = vec![
            (
                "PATH".to_string(),
                std::env::var("PATH").unwrap_or_default(),
            ),
            ("TMPDIR".to_string(), tmp.path().display().to_string()),
        ];
        Some(World { bin, tmp, env })
    }

    fn with(&mut self, vars: Vec<(String, String)>) -> &mut World {
        self.env.extend(vars);
        self
    }

    fn set(&mut self, key: &str, value: &str) -> &mut World {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    fn unset(&mut self, key: &str) -> &mut World {
        self.env.retain(|(k, _)| k != key);
        self
    }

    /// A command with exactly this world's environment (nothing from the developer's shell
    /// such as PHP_INI_SCAN_DIR), run from `/` like the packages' launchers.
    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir("/")
            .stdin(Stdio::null());
        c
    }

    fn sample(&self, args: &[&str]) -> Command {
        let mut c = self.command(&self.bin);
        c.args(args);
        c
    }

    /// `sh helpers/migrate.sh BINARY` (with dash when installed: the script is POSIX sh).
    fn migrate(&self) -> Output {
        let shell = if Path::new("/bin/dash").exists() {
            "/bin/dash"
        } else {
            "/bin/sh"
        };
        let mut c = self.command(Path::new(shell));
        c.arg(support::repo().join("common/helpers/migrate.sh"))
            .arg(&self.bin);
        run(&mut c)
    }

    /// The extracted app: `$TMPDIR/frankenphp_<checksum>`.
    fn app_dir(&self) -> PathBuf {
        let found: Vec<PathBuf> = fs::read_dir(self.tmp.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("frankenphp_")
            })
            .collect();
        assert_eq!(found.len(), 1, "one extracted app expected: {found:?}");
        found.into_iter().next().unwrap()
    }
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("spawn");
    eprintln!(
        "$ {cmd:?}\n--- stdout\n{}--- stderr\n{}--- {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        out.status
    );
    out
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn count(pg: &Postgres, table: &str) -> u64 {
    pg.query(&format!("SELECT count(*) FROM {table}"))
        .parse()
        .unwrap()
}

const APP_TABLES: [&str; 7] = [
    "actions",
    "payments_phinxlog",
    "payments_transactions",
    "phinxlog",
    "queue_processed",
    "recurring_runs",
    "settings",
];

#[test]
fn migrate_sh_migrates_and_seeds_once_then_does_nothing() {
    let test = "migrate_sh_migrates_and_seeds_once_then_does_nothing";
    let Some(mut w) = World::new(test) else {
        return;
    };
    let Some(pg) = Postgres::start(test) else {
        return;
    };
    w.with(pg.env());
    assert!(pg.tables().is_empty());

    let out = w.migrate();
    assert!(out.status.success(), "first run failed: {}", text(&out));
    let log = text(&out);
    assert_eq!(pg.tables(), APP_TABLES, "{log}");
    // App migrations, then the plugin's, each recorded once.
    assert_eq!(count(&pg, "phinxlog"), 2);
    assert_eq!(count(&pg, "payments_phinxlog"), 1);
    assert!(log.contains("migrations migrate -p Payments"), "{log}");
    assert!(log.contains("Seeded 3 actions."), "{log}");
    assert_eq!(count(&pg, "actions"), 3);
    // pg_config_1.sql ran before the seeders (explicit ids need GENERATED BY DEFAULT) and
    // pg_config_2.sql after them (the sequence moved past the seeded ids).
    assert_eq!(
        pg.query("SELECT count(*) FROM settings WHERE name = 'sequences_reset'"),
        "1"
    );
    pg.query("INSERT INTO actions (name) VALUES ('after-seed')");

    // Second start, password from a file (Docker secrets): nothing to migrate, no seeding.
    let secret = w.tmp.path().join("db_password");
    fs::write(&secret, format!("{}\n", services::DB_PASSWORD)).unwrap();
    w.set("DB_PASSWORD", "wrong-on-purpose")
        .set("DB_PASSWORD_FILE", secret.to_str().unwrap());
    let out = w.migrate();
    let log = text(&out);
    assert!(out.status.success(), "second run failed: {log}");
    assert!(log.contains("No migrations to run for the app."), "{log}");
    assert!(
        log.contains("No migrations to run for the plugin Payments."),
        "{log}"
    );
    assert!(log.contains("already seeded"), "{log}");
    assert!(!log.contains("Seeded 3 actions."), "{log}");
    assert_eq!(count(&pg, "phinxlog"), 2);
    assert_eq!(count(&pg, "actions"), 4);

    // RUN_SEEDERS=true on a seeded database: the seeders hit the unique keys (SQLSTATE
    // 23505), which means "already seeded", and the run still succeeds.
    w.set("RUN_SEEDERS", "true");
    let out = w.migrate();
    let log = text(&out);
    assert!(out.status.success(), "forced seeding failed: {log}");
    assert!(log.contains("23505"), "{log}");
    assert_eq!(count(&pg, "actions"), 4);
}

#[test]
fn skip_migrations_run_seeders_and_skip_seeders_are_honoured() {
    let test = "skip_migrations_run_seeders_and_skip_seeders_are_honoured";
    let Some(mut w) = World::new(test) else {
        return;
    };
    let Some(pg) = Postgres::start(test) else {
        return;
    };
    w.with(pg.env());

    w.set("SKIP_MIGRATIONS", "1").set("RUN_SEEDERS", "false");
    let out = w.migrate();
    assert!(out.status.success(), "{}", text(&out));
    assert!(pg.tables().is_empty(), "SKIP_MIGRATIONS=1 must not migrate");

    // Migrations on, seeding off.
    w.set("SKIP_MIGRATIONS", "false");
    let out = w.migrate();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(pg.tables(), APP_TABLES);
    assert_eq!(count(&pg, "actions"), 0, "RUN_SEEDERS=false must not seed");

    // SKIP_SEEDERS=true wins over the automatic choice.
    w.set("RUN_SEEDERS", "auto").set("SKIP_SEEDERS", "true");
    let out = w.migrate();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(count(&pg, "actions"), 0, "SKIP_SEEDERS=true must not seed");

    // auto on an empty actions table seeds; SKIP_MIGRATIONS=0 means "do not skip".
    w.unset("SKIP_SEEDERS").set("SKIP_MIGRATIONS", "0");
    let out = w.migrate();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(count(&pg, "actions"), 3);

    w.set("RUN_SEEDERS", "sometimes");
    let out = w.migrate();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("RUN_SEEDERS=sometimes"),
        "{}",
        text(&out)
    );
}

#[test]
fn database_down_bounded_wait_then_error_naming_host_and_port() {
    let test = "database_down_bounded_wait_then_error_naming_host_and_port";
    let Some(mut w) = World::new(test) else {
        return;
    };
    let port = free_port();
    w.set("DB_HOST", "127.0.0.1")
        .set("DB_PORT", &port.to_string())
        .set("DB_NAME", "orangescrum")
        .set("DB_USERNAME", "orangescrum")
        .set("DB_PASSWORD", "x")
        .set("DB_WAIT_TIMEOUT", "3");
    let started = Instant::now();
    let out = w.migrate();
    let took = started.elapsed();
    let log = text(&out);
    assert!(!out.status.success(), "{log}");
    assert!(log.contains(&format!("127.0.0.1:{port}")), "{log}");
    assert!(log.contains("DB_WAIT_TIMEOUT"), "{log}");
    assert!(
        !log.contains("migrations migrate"),
        "nothing may run without the database: {log}"
    );
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(30),
        "waited {took:?} for DB_WAIT_TIMEOUT=3"
    );

    w.set("DB_WAIT_TIMEOUT", "0");
    let out = w.migrate();
    assert!(!out.status.success());
    assert!(text(&out).contains("DB_WAIT_TIMEOUT='0'"), "{}", text(&out));
}

#[test]
fn queue_worker_takes_a_job_from_redis_and_exits_at_max_runtime() {
    let test = "queue_worker_takes_a_job_from_redis_and_exits_at_max_runtime";
    let Some(mut w) = World::new(test) else {
        return;
    };
    let (Some(pg), Some(redis)) = (Postgres::start(test), Redis::start(test)) else {
        return;
    };
    w.with(pg.env())
        .with(redis.env())
        .set("RUN_SEEDERS", "false");
    assert!(w.migrate().status.success());

    const QUEUE: &str = "orangescrum:queue:default";
    for run in 1..=2 {
        let job = format!("{{\"job\":\"send-mail\",\"n\":{run}}}");
        assert_eq!(redis.command(&["RPUSH", QUEUE, &job]), "1");
        let started = Instant::now();
        let out = run_cmd(w.sample(&[
            "php-cli",
            "bin/cake.php",
            "queue",
            "worker",
            "--max-runtime",
            "3",
            "--sleep",
            "1",
            "--verbose",
        ]));
        let took = started.elapsed();
        let log = text(&out);
        assert_eq!(out.status.code(), Some(0), "{log}");
        assert!(log.contains(&format!("Processed job: {job}")), "{log}");
        assert!(log.contains("Max runtime of 3s reached"), "{log}");
        assert!(
            took >= Duration::from_secs(3) && took < Duration::from_secs(20),
            "worker ran {took:?} with --max-runtime 3"
        );
        assert_eq!(redis.command(&["LLEN", QUEUE]), "0");
        assert_eq!(count(&pg, "queue_processed"), run);
    }
}

fn run_cmd(mut c: Command) -> Output {
    run(&mut c)
}

#[test]
fn recurring_task_records_a_complete_run() {
    let test = "recurring_task_records_a_complete_run";
    let Some(mut w) = World::new(test) else {
        return;
    };
    let Some(pg) = Postgres::start(test) else {
        return;
    };
    w.with(pg.env()).set("RUN_SEEDERS", "false");
    assert!(w.migrate().status.success());
    w.set("RECURRING_TASK_SECONDS", "1");
    let out = run_cmd(w.sample(&["php-cli", "bin/cake.php", "recurring_task"]));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        pg.query("SELECT count(*) FROM recurring_runs WHERE finished_at >= started_at + interval '1 second'"),
        "1"
    );
}

/// A running `php-server`, killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(port: u16, path: &str, extra: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {response:?}"));
    (status, head.to_string(), body.to_string())
}

fn wait_connectable(port: u16, server: &mut Server) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!("php-server exited with {status} before listening on {port}");
        }
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn php_server_serves_the_fixture_on_app_bind_ip_and_app_port_from_the_caddyfile() {
    let test = "php_server_serves_the_fixture_on_app_bind_ip_and_app_port_from_the_caddyfile";
    let Some(mut w) = World::new(test) else {
        return;
    };
    let Some(mut pg) = Postgres::start(test) else {
        return;
    };
    let (port, ignored_port) = (free_port(), free_port());
    w.with(pg.env())
        .set("APP_BIND_IP", "127.0.0.1")
        .set("APP_PORT", &port.to_string());
    // -l and -r as the old launchers passed them: FrankenPHP ignores both when the
    // embedded app has a Caddyfile (caddy/php-server.go, v1.12.1, lines 113-124).
    let mut c = w.sample(&[
        "php-server",
        "-l",
        &format!("127.0.0.1:{ignored_port}"),
        "-r",
        "public",
    ]);
    let mut server = Server(
        c.stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    wait_connectable(port, &mut server);
    assert!(
        TcpStream::connect(("127.0.0.1", ignored_port)).is_err(),
        "-l must be ignored"
    );

    let (status, head, body) = get(port, "/home/healthcheck", "");
    assert_eq!(status, 200, "{head}\n{body}");
    assert!(body.contains("\"database\":true"), "{body}");
    // The Caddyfile's header rules.
    let lower = head.to_ascii_lowercase();
    assert!(!lower.contains("\r\nserver:"), "{head}");
    assert!(lower.contains("x-content-type-options: nosniff"), "{head}");
    assert!(!lower.contains("strict-transport-security"), "{head}");
    let (_, head, _) = get(port, "/home/healthcheck", "X-Forwarded-Proto: https\r\n");
    assert!(
        head.to_ascii_lowercase()
            .contains("strict-transport-security"),
        "{head}"
    );
    // Static files come from webroot/ (php_server's own root), with long caching.
    let (status, head, body) = get(port, "/css/app.css", "");
    assert_eq!(status, 200, "{head}");
    assert!(body.contains("color"), "{body}");
    assert!(head.contains("immutable"), "{head}");
    // The request as PHP saw it; php.ini of the app applies to php-server. The header
    // fields the script sets reach the client, as FrankenPHP sends them.
    let (status, head, body) = get(port, "/fixture/server?a=1", "X-Forwarded-Proto: https\r\n");
    assert_eq!(status, 200, "{body}");
    // The stand-in hands requests to the php-cgi beside php when there is one: the CLI
    // SAPI drops the header fields a script sets.
    let php = services::php_with_extensions(test).expect("World::new checked it");
    let cgi = php.with_file_name("php-cgi");
    if support::require::available(
        "php-cgi beside php (the header fields a script sets)",
        cgi.is_file(),
        "apt-get install php-cgi",
    ) {
        let lower = head.to_ascii_lowercase();
        assert!(lower.contains("x-fixture: server"), "{head}");
        assert!(lower.contains("content-type: application/json"), "{head}");
        assert!(lower.contains("x-content-type-options: nosniff"), "{head}");
        let (status, head, _) = get(port, "/fixture/redirect", "");
        assert_eq!(status, 302, "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("location: /home/healthcheck"),
            "{head}"
        );
    }
    assert!(
        body.contains("\"uri\":\"\\/fixture\\/server?a=1\""),
        "{body}"
    );
    assert!(body.contains("\"query\":{\"a\":\"1\"}"), "{body}");
    assert!(body.contains("\"forwarded_proto\":\"https\""), "{body}");
    assert!(body.contains("\"memory_limit\":\"512M\""), "{body}");
    let app = w.app_dir();
    assert!(
        body.contains(&format!(
            "\"ini_scan_dir\":\":{}\"",
            app.display().to_string().replace('/', "\\/")
        )),
        "{body}"
    );

    // Database down: 503; back up: 200.
    pg.stop();
    let (status, _, body) = get(port, "/home/healthcheck", "");
    assert_eq!(status, 503, "{body}");
    pg.start_again();
    let (status, _, body) = get(port, "/home/healthcheck", "");
    assert_eq!(status, 200, "{body}");
}

#[test]
fn php_ini_reaches_php_cli_only_through_php_ini_scan_dir() {
    let test = "php_ini_reaches_php_cli_only_through_php_ini_scan_dir";
    let Some(mut w) = World::new(test) else {
        return;
    };
    let out = run_cmd(w.sample(&["php-cli", "bin/ini.php"]));
    assert!(out.status.success(), "{}", text(&out));
    let app = w.app_dir();
    let app_ini = app.join("php.ini");
    assert!(
        app_ini.is_file(),
        "the build embeds common/php/php.ini as php.ini; it is missing from {}",
        app.display()
    );
    let json = String::from_utf8_lossy(&out.stdout).to_string();
    let escaped = |p: &Path| p.display().to_string().replace('/', "\\/");
    // caddy/php-cli.go does not touch PHP_INI_SCAN_DIR: PHP's defaults apply.
    assert!(!json.contains(&escaped(&app_ini)), "{json}");
    assert!(!json.contains("\"memory_limit\":\"512M\""), "{json}");
    // The script was resolved inside the app (caddy/php-cli.go lines 34-38).
    assert!(json.contains(&escaped(&app.join("bin/ini.php"))), "{json}");

    // What the launchers do: PHP_INI_SCAN_DIR=":<dir with the php.ini>".
    let pkg = w.tmp.path().join("package-php");
    fs::create_dir(&pkg).unwrap();
    fs::copy(&app_ini, pkg.join("php.ini")).unwrap();
    w.set("PHP_INI_SCAN_DIR", &format!(":{}", pkg.display()));
    let out = run_cmd(w.sample(&["php-cli", "bin/ini.php"]));
    let json = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(json.contains(&escaped(&pkg.join("php.ini"))), "{json}");
    assert!(json.contains("\"memory_limit\":\"512M\""), "{json}");
}

#[test]
fn php_cli_resolves_scripts_like_frankenphp() {
    let test = "php_cli_resolves_scripts_like_frankenphp";
    let Some(w) = World::new(test) else {
        return;
    };
    // A script that exists relative to the current folder wins (os.Stat succeeds).
    let here = w.tmp.path().join("cwd");
    fs::create_dir_all(here.join("bin")).unwrap();
    fs::write(here.join("bin/ini.php"), "<?php echo 'local copy';").unwrap();
    let out = run_cmd(
        w.sample(&["php-cli", "bin/ini.php"])
            .current_dir(&here)
            .to_owned_cmd(),
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "local copy");

    // `php-cli -r CODE` with an embedded app: "-r" is resolved as a script inside the app
    // first (caddy/php-cli.go lines 34-38), so the `-r` branch (line 41) is never taken.
    let out = run_cmd(w.sample(&["php-cli", "-r", "echo 'ran';"]));
    let app = w.app_dir();
    assert!(!out.status.success());
    assert_ne!(String::from_utf8_lossy(&out.stdout).trim(), "ran");
    assert!(
        text(&out).contains(&format!("Could not open input file: {}/-r", app.display())),
        "{}",
        text(&out)
    );

    // A file missing from the extracted app is written again at the next start (embed.go
    // writes every file that os.Stat does not find), so a damaged extraction heals.
    fs::remove_file(app.join("config/v2_routing.php")).unwrap();
    let out = run_cmd(w.sample(&["php-cli", "bin/ini.php"]));
    assert!(out.status.success(), "{}", text(&out));
    assert!(app.join("config/v2_routing.php").is_file());

    // The fixture's bootstrap names a config file of the contract that the build left out.
    let copy = w.tmp.path().join("app-copy");
    support::copy_tree(&app, &copy, false);
    fs::remove_file(copy.join("config/v2_routing.php")).unwrap();
    let mut c = w.command(Path::new("php"));
    c.arg(copy.join("bin/cake.php")).arg("recurring_task");
    let out = run(&mut c);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("missing config file config/v2_routing.php"),
        "{}",
        text(&out)
    );
}

/// `Command` builders return `&mut Command`; this turns one back into an owned command.
trait ToOwnedCmd {
    fn to_owned_cmd(&mut self) -> Command;
}

impl ToOwnedCmd for Command {
    fn to_owned_cmd(&mut self) -> Command {
        std::mem::replace(self, Command::new("false"))
    }
}

#[test]
fn db_lifecycle_commands_and_exit_codes() {
    let test = "db_lifecycle_commands_and_exit_codes";
    let Some(mut w) = World::new(test) else {
        return;
    };
    let Some(pg) = Postgres::start(test) else {
        return;
    };
    w.with(pg.env());
    let lifecycle = |w: &World, args: &[&str]| {
        let mut all = vec!["php-cli", "bin/db-lifecycle.php"];
        all.extend_from_slice(args);
        run_cmd(w.sample(&all))
    };

    let out = lifecycle(&w, &["plugins"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Payments\n");

    // Missing table, then empty table: seeding needed (0); rows: not needed (1).
    assert_eq!(lifecycle(&w, &["seed-needed"]).status.code(), Some(0));
    w.set("RUN_SEEDERS", "false");
    assert!(w.migrate().status.success());
    assert_eq!(lifecycle(&w, &["seed-needed"]).status.code(), Some(0));
    pg.query("INSERT INTO actions (name) VALUES ('x')");
    assert_eq!(lifecycle(&w, &["seed-needed"]).status.code(), Some(1));

    // sql: applied (0), duplicate key (3), other errors (1), bad path (2).
    let schema = w.app_dir().join("config/schema");
    fs::write(
        schema.join("test_insert.sql"),
        "INSERT INTO settings (name, value) VALUES ('k', 'v');",
    )
    .unwrap();
    fs::write(
        schema.join("test_broken.sql"),
        "SELECT * FROM no_such_table;",
    )
    .unwrap();
    let sql = |w: &World, file: &str| lifecycle(w, &["sql", file]);
    assert_eq!(
        sql(&w, "config/schema/test_insert.sql").status.code(),
        Some(0)
    );
    let out = sql(&w, "config/schema/test_insert.sql");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("23505"), "{}", text(&out));
    let out = sql(&w, "config/schema/test_broken.sql");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("no_such_table"), "{}", text(&out));
    for bad in ["/etc/passwd", "../x.sql", ""] {
        assert_eq!(sql(&w, bad).status.code(), Some(2), "{bad:?}");
    }
    assert_eq!(sql(&w, "config/schema/none.sql").status.code(), Some(1));

    // An unreadable DB_PASSWORD_FILE is named.
    w.set("DB_PASSWORD_FILE", "/nonexistent/secret");
    let out = lifecycle(&w, &["wait"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("DB_PASSWORD_FILE=/nonexistent/secret"),
        "{}",
        text(&out)
    );
    w.unset("DB_PASSWORD_FILE");
    let out = lifecycle(&w, &["nonsense"]);
    assert_eq!(out.status.code(), Some(2));
}

/// The OCI image's entrypoint, built for this test with the stand-in as its application
/// binary (the image itself has no PHP to run the fixture with).
fn host_entrypoint(bin: &Path) -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("oci-entrypoint-host");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let st = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "oci-entrypoint",
            "--target-dir",
        ])
        .arg(&target)
        .arg("--manifest-path")
        .arg(support::repo().join("Cargo.toml"))
        .env("OCI_APP_BINARY", bin)
        .status()
        .unwrap();
    assert!(st.success(), "building oci-entrypoint failed");
    target.join("release/oci-entrypoint")
}

/// `entrypoint migrate` (the image, no shell) and `migrate.sh` (Docker and native packages)
/// do the same to a database: same tables, same migrations recorded, same seeding, and the
/// same "already done" on a second start, each on its own fresh PostgreSQL.
#[test]
fn the_image_entrypoint_migrates_like_migrate_sh() {
    let test = "the_image_entrypoint_migrates_like_migrate_sh";
    let Some(mut w) = World::new(test) else {
        return;
    };
    let entrypoint = host_entrypoint(&w.bin);
    // The entrypoint checks the environment first: a complete one (the original operator's
    // .env), with the test database's settings.
    let fixture =
        fs::read(support::repo().join("xtask/tests/fixtures/original-operator.env")).unwrap();
    for e in envcheck::parse::systemd(&fixture).unwrap() {
        w.set(&e.key, &e.value);
    }
    w.unset("DB_PASSWORD_FILE");
    let state = |pg: &Postgres| {
        (
            pg.tables(),
            count(pg, "phinxlog"),
            count(pg, "payments_phinxlog"),
            count(pg, "actions"),
        )
    };
    let mut results = Vec::new();
    for via_image in [false, true] {
        let Some(pg) = Postgres::start(test) else {
            return;
        };
        w.with(pg.env());
        let start = |w: &World| {
            if via_image {
                let mut c = w.command(&entrypoint);
                c.arg("migrate");
                run(&mut c)
            } else {
                w.migrate()
            }
        };
        let first = start(&w);
        assert!(
            first.status.success(),
            "first start ({via_image}): {}",
            text(&first)
        );
        let after_first = state(&pg);
        let second = start(&w);
        let log = text(&second);
        assert!(second.status.success(), "second start ({via_image}): {log}");
        assert!(log.contains("No migrations to run for the app."), "{log}");
        assert!(!log.contains("Seeded 3 actions."), "{log}");
        results.push((after_first, state(&pg)));
    }
    assert_eq!(
        results[0], results[1],
        "migrate.sh vs the image's entrypoint"
    );
    assert_eq!(results[0].0 .3, 3, "seeded once");
}
