//! Real tests of `cargo xtask build` and `cargo xtask deploy docker` against the Docker
//! engine: no mocks. Nothing can be pulled here, so the base image is made locally from
//! Debian's busybox-static (`apt-get download` + `dpkg-deb -x` + `docker import`).
//!
//! Every name (images, compose projects, containers, app names, release versions) carries
//! this process id, so parallel runs do not collide, and a Drop guard removes everything a
//! test made even when it fails. Without a working `docker info` these tests print one
//! `skipped:` line on a developer's machine and fail under CI=true (support::require). All
//! traffic stays on 127.0.0.1.
//!
//! Needs: Docker Engine, docker-compose >= 1.29 or the compose plugin, apt-get and
//! dpkg-deb (Debian/Ubuntu) with access to the Debian/Ubuntu archive, GNU tar, git.

mod support;

use std::{
    fs,
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    os::unix::fs::PermissionsExt,
    path::Path,
    process::{Command, Output, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

use support::*;

fn pid() -> u32 {
    std::process::id()
}

/// Runs a command, returns its output (never panics on a non-zero exit).
fn cmd_output(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} {args:?}: {e}"))
}

fn docker(args: &[&str]) -> Output {
    cmd_output("docker", args)
}

fn docker_ok(args: &[&str]) -> String {
    let out = docker(args);
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// True when a Docker engine answers; else skips (or fails under CI=true).
fn require_docker() -> bool {
    require::docker()
}

/// A tar of a minimal root filesystem: Debian's static busybox with every applet linked,
/// /tmp (1777), /etc/passwd and /etc/group with uid/gid 1000. Built once per process, in
/// a temporary folder that is removed again.
fn busybox_rootfs_tar() -> &'static [u8] {
    static TAR: OnceLock<Vec<u8>> = OnceLock::new();
    TAR.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let download = || {
            Command::new("apt-get")
                .args(["download", "-q", "busybox-static"])
                .current_dir(dir)
                .output()
                .expect("apt-get is needed to fetch busybox-static (Debian/Ubuntu)")
        };
        if !download().status.success() {
            let up = cmd_output("apt-get", &["update", "-qq"]);
            assert!(
                up.status.success(),
                "apt-get update failed: {}",
                String::from_utf8_lossy(&up.stderr)
            );
            let again = download();
            assert!(
                again.status.success(),
                "apt-get download busybox-static failed: {}",
                String::from_utf8_lossy(&again.stderr)
            );
        }
        let deb = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "deb"))
            .expect("apt-get download left no .deb");
        let x = dir.join("x");
        let st = Command::new("dpkg-deb")
            .arg("-x")
            .arg(&deb)
            .arg(&x)
            .status()
            .unwrap();
        assert!(st.success(), "dpkg-deb -x failed");
        let root = dir.join("rootfs");
        for d in ["bin", "tmp", "etc"] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        let bb = root.join("bin/busybox");
        fs::copy(x.join("bin/busybox"), &bb).unwrap();
        fs::set_permissions(&bb, fs::Permissions::from_mode(0o755)).unwrap();
        let list = Command::new(&bb).arg("--list").output().unwrap();
        assert!(list.status.success(), "busybox --list failed");
        for applet in lines(&String::from_utf8_lossy(&list.stdout)) {
            if applet != "busybox" && !applet.contains('/') {
                std::os::unix::fs::symlink("busybox", root.join("bin").join(&applet)).unwrap();
            }
        }
        for must in [
            "sh", "wget", "id", "cat", "ps", "sleep", "env", "test", "cp", "mkdir",
        ] {
            assert!(root.join("bin").join(must).exists(), "busybox lacks {must}");
        }
        fs::set_permissions(root.join("tmp"), fs::Permissions::from_mode(0o1777)).unwrap();
        fs::write(
            root.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\norangescrum:x:1000:1000:orangescrum:/tmp:/bin/sh\n",
        )
        .unwrap();
        fs::write(root.join("etc/group"), "root:x:0:\norangescrum:x:1000:\n").unwrap();
        let tar = Command::new("tar")
            .arg("-C")
            .arg(&root)
            .args(["--numeric-owner", "--owner=0", "--group=0", "-cf", "-", "."])
            .output()
            .unwrap();
        assert!(tar.status.success(), "tar of the root filesystem failed");
        tar.stdout
    })
}

/// `docker import`s the busybox root filesystem as `tag`.
fn import_base(tag: &str) {
    let bytes = busybox_rootfs_tar();
    let mut child = Command::new("docker")
        .args(["import", "-", tag])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    assert!(child.wait().unwrap().success(), "docker import failed");
}

/// Removes what a test made, also when it panics: containers and networks by compose
/// project or label, containers by name, images by reference.
#[derive(Default)]
struct Cleanup {
    projects: Vec<String>,
    labels: Vec<String>,
    containers: Vec<String>,
    image_refs: Vec<String>,
    images: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let quiet = |args: &[&str]| {
            let _ = Command::new("docker")
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        };
        let listed = |args: &[&str]| -> Vec<String> {
            Command::new("docker")
                .args(args)
                .output()
                .map(|o| lines(&String::from_utf8_lossy(&o.stdout)))
                .unwrap_or_default()
        };
        let mut filters: Vec<String> = self
            .projects
            .iter()
            .map(|p| format!("label=com.docker.compose.project={p}"))
            .collect();
        filters.extend(self.labels.iter().map(|l| format!("label={l}")));
        for f in &filters {
            for id in listed(&["ps", "-aq", "--filter", f]) {
                quiet(&["rm", "-f", "-v", &id]);
            }
        }
        for name in &self.containers {
            quiet(&["rm", "-f", "-v", name]);
        }
        for f in &filters {
            for id in listed(&["network", "ls", "-q", "--filter", f]) {
                quiet(&["network", "rm", &id]);
            }
            for v in listed(&["volume", "ls", "-q", "--filter", f]) {
                quiet(&["volume", "rm", &v]);
            }
        }
        let mut images = self.images.clone();
        for r in &self.image_refs {
            images.extend(listed(&[
                "images",
                "--format",
                "{{.Repository}}:{{.Tag}}",
                "--filter",
                &format!("reference={r}"),
            ]));
        }
        // Derived images first (they were registered last), the base image last.
        for img in images.iter().rev() {
            quiet(&["image", "rm", "-f", img]);
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Plain HTTP/1.1 GET on 127.0.0.1; returns the status code.
fn http_get_status(port: u16, path: &str) -> u16 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {resp:?}"))
}

fn hex_secret(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut buf)
        .unwrap();
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the application finds its database and Redis, and what it listens on.
#[derive(Clone)]
struct Env {
    app_port: String,
    salt: String,
    db_host: String,
    db_port: u16,
    db_password: String,
    redis_host: String,
    redis_port: u16,
    redis_password: String,
    /// Extra `KEY=value` lines.
    extra: String,
}

impl Env {
    /// Fresh secrets; database and Redis on made-up hosts (nothing answers there).
    fn new(app_port: &str) -> Env {
        Env {
            app_port: app_port.to_string(),
            salt: hex_secret(32),
            db_host: "db.example.test".into(),
            db_port: 5432,
            db_password: hex_secret(16),
            redis_host: "redis.example.test".into(),
            redis_port: 6379,
            redis_password: hex_secret(16),
            extra: String::new(),
        }
    }

    /// An environment file the validator accepts (the original's variable names).
    fn render(&self) -> String {
        format!(
            "# test environment\nDEBUG=false\nAPP_BIND_IP=127.0.0.1\nAPP_PORT={}\n\
             FULL_BASE_URL=https://orangescrum.example.test\nSECURITY_SALT={}\n\
             DB_HOST={}\nDB_PORT={}\nDB_USERNAME=orangescrum\nDB_NAME=orangescrum\n\
             DB_PASSWORD={}\nREDIS_HOST={}\nREDIS_PORT={}\nREDIS_PASSWORD={}\n\
             CACHE_ENGINE=redis\nQUEUE_ENGINE=redis\n\
             STORAGE_BUCKET=orangescrum-test\nSTORAGE_REGION=us-east-1\n\
             EMAIL_TRANSPORT=smtp\nFROM_EMAIL=noreply@example.test\nSMTP_HOST=smtp.example.test\n\
             SMTP_PORT=587\nSMTP_TLS=true\n{}",
            self.app_port,
            self.salt,
            self.db_host,
            self.db_port,
            self.db_password,
            self.redis_host,
            self.redis_port,
            self.redis_password,
            self.extra
        )
    }
}

/// An environment file the validator accepts, with freshly generated secrets.
fn env_file(port: u16, salt: &str) -> String {
    let mut e = Env::new(&port.to_string());
    e.salt = salt.to_string();
    e.render()
}

/// `xtask` with a clean configuration environment (no XTASK_* from the caller).
fn xtask_clean() -> Command {
    let mut c = xtask();
    for (k, _) in std::env::vars() {
        if k.starts_with("XTASK_") {
            c.env_remove(k);
        }
    }
    c
}

/// True when some line reports an ERROR about `var` (the validator's exact wording is its
/// own business).
fn has_error_about(text: &str, var: &str) -> bool {
    text.lines()
        .any(|l| l.trim_start().starts_with("ERROR") && l.contains(var))
}

fn stdout_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The compose command of this machine: `docker compose` when the plugin answers, else
/// `docker-compose` (1.29).
fn compose_program() -> &'static [&'static str] {
    static PROG: OnceLock<&'static [&'static str]> = OnceLock::new();
    PROG.get_or_init(|| {
        let plugin = Command::new("docker")
            .args(["compose", "version"])
            .output()
            .is_ok_and(|o| o.status.success());
        if plugin {
            &["docker", "compose"]
        } else {
            &["docker-compose"]
        }
    })
}

/// `compose -p <project> -f <file>... <args>` with `BASE_IMAGE` set.
fn compose(project: &str, files: &[&Path], base: &str, args: &[&str]) -> Output {
    let prog = compose_program();
    let mut c = Command::new(prog[0]);
    c.args(&prog[1..]).args(["-p", project]);
    for f in files {
        c.arg("-f").arg(f);
    }
    c.args(args).env("BASE_IMAGE", base);
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("cannot run {prog:?}: {e}"));
    eprintln!(
        "$ compose {args:?}: {}\n{}{}",
        out.status,
        stdout_of(&out),
        stderr_of(&out)
    );
    out
}

/// Ids of a service's containers (stopped ones too; not `run` one-offs).
fn service_ids(project: &str, service: &str) -> Vec<String> {
    lines(&docker_ok(&[
        "ps",
        "-a",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--filter",
        &format!("label=com.docker.compose.service={service}"),
        "--filter",
        "label=com.docker.compose.oneoff=False",
    ]))
}

fn inspect(id: &str, format: &str) -> String {
    docker_ok(&["inspect", "--format", format, id])
}

fn container_logs(id: &str) -> String {
    let out = docker(&["logs", id]);
    format!("{}{}", stdout_of(&out), stderr_of(&out))
}

/// Polls `f` once a second until it gives a value; panics after `secs` with `what`.
fn wait_until<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s: {what}"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// `n` consecutive free loopback ports; returns the first.
fn free_port_range(n: u16) -> u16 {
    'outer: for _ in 0..50 {
        let first = free_port();
        if first > 65535 - n {
            continue;
        }
        for p in first..first + n {
            if TcpListener::bind(("127.0.0.1", p)).is_err() {
                continue 'outer;
            }
        }
        return first;
    }
    panic!("no {n} consecutive free ports on 127.0.0.1");
}

/// `package docker --sample` of release `version` into `out`; returns the package folder.
fn package_docker(version: &str, out: &Path) -> std::path::PathBuf {
    ok(xtask_clean()
        .env("XTASK_RELEASE_VERSION", version)
        .args(["package", "docker", "--sample", "--out"])
        .arg(out));
    let dir = out.join(version).join("docker");
    assert!(
        dir.join("docker-compose.yaml").is_file(),
        "{}",
        dir.display()
    );
    dir
}

fn write_exec(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Test stand-in for the application binary: says how the entrypoint called it, serves
/// the health check with busybox httpd on APP_BIND_IP:APP_PORT, and takes time for
/// recurring_task and the worker, so the scheduler's and restart policy's timing shows.
const STUB_BINARY: &str = r#"#!/bin/sh
case "$*" in
    php-server)
        echo "stub php-server on ${APP_BIND_IP}:${APP_PORT} ini=${PHP_INI_SCAN_DIR}"
        mkdir -p /tmp/www/home && echo ok >/tmp/www/home/healthcheck
        exec httpd -f -p "${APP_BIND_IP}:${APP_PORT}" -h /tmp/www
        ;;
    "php-cli bin/cake.php recurring_task")
        echo "recurring_task start $(date +%s)"
        sleep 6
        echo "recurring_task end $(date +%s)"
        ;;
    "php-cli bin/cake.php queue worker "*)
        echo "worker argv: $* ini=${PHP_INI_SCAN_DIR}"
        sleep 3
        ;;
    *)
        echo "stub: unexpected arguments: $*" >&2
        exit 64
        ;;
esac
"#;

/// Test stand-in for helpers/migrate.sh: reports its call (the password only as a hash)
/// and fails like the real one when the database does not answer.
const STUB_MIGRATE: &str = r#"#!/bin/sh
echo "migrate stub: $* cwd=$(pwd) ini=${PHP_INI_SCAN_DIR} password_sha256=$(printf %s "${DB_PASSWORD}" | sha256sum | cut -d' ' -f1)"
if [ "${DB_HOST}" = unreachable.invalid ]; then
    echo "migrate stub: the database at ${DB_HOST}:${DB_PORT} did not answer" >&2
    exit 1
fi
sleep 2
echo "migrate stub: done"
"#;

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The package's compose file and entrypoint with stand-ins for the binary and the
/// migration runner (no PHP): start order, one migration per `up` however many web
/// replicas, the scheduler's clock-aligned sequential runs and prompt stop, the worker's
/// arguments and restarts, DB_PASSWORD_FILE, limits, init, and a failed migration that
/// keeps everything else from starting.
#[test]
fn compose_runs_one_migration_then_the_services_with_their_limits() {
    if !require_docker() {
        return;
    }
    let started = Instant::now();
    let version = format!("v26.1.1-c{}", pid());
    let project = format!("xtask-compose-t{}", pid());
    let base = format!("xtask-test-busybox:compose-{}", pid());
    let mut guard = Cleanup::default();
    guard.projects.push(project.clone());
    guard.images.push(base.clone());
    guard.images.push(format!("orangescrum:{version}"));
    import_base(&base);

    let tmp = tempfile::tempdir().unwrap();
    let pkg = package_docker(&version, &tmp.path().join("out"));
    let compose_file = pkg.join("docker-compose.yaml");
    let services_file = pkg.join("docker-compose.services.yml");
    write_exec(&pkg.join("orangescrum-app/osv4-prod"), STUB_BINARY);
    write_exec(&pkg.join("helpers/migrate.sh"), STUB_MIGRATE);
    let first_port = free_port_range(3);
    let mut env = Env::new(&format!("{first_port}-{}", first_port + 2));
    env.extra = "WORKER_MAX_RUNTIME=3\nWORKER_SLEEP=1\nSTORAGE_ACCESS_KEY=minio-test\nSTORAGE_SECRET_KEY=minio-test-secret\n".into();
    fs::write(pkg.join(".env"), env.render()).unwrap();
    let override_file = tmp.path().join("test-override.yml");
    fs::write(
        &override_file,
        "services:\n  scheduler:\n    command: [\"scheduler\", \"4\"]\n",
    )
    .unwrap();
    let files = [compose_file.as_path(), override_file.as_path()];
    let run = |args: &[&str]| compose(&project, &files, &base, args);

    // The files parse, alone and with the development services, and say what they must.
    for f in [
        vec![compose_file.as_path()],
        vec![compose_file.as_path(), services_file.as_path()],
    ] {
        let out = compose(&project, &f, &base, &["config"]);
        assert!(out.status.success(), "compose config of {f:?} failed");
        let text = stdout_of(&out);
        assert!(
            text.contains("condition: service_completed_successfully"),
            "{text}"
        );
        assert!(
            !text.contains("cpus: 2") && !text.contains("cpus: '2"),
            "no hard cpus limit: {text}"
        );
    }
    let services = lines(&stdout_of(&run(&[
        "--profile",
        "queue",
        "config",
        "--services",
    ])));
    for s in ["migrate", "orangescrum-app", "scheduler", "queue-worker"] {
        assert!(services.contains(&s.to_string()), "{services:?}");
    }

    // Three web replicas: one migration, and every replica starts after it finished.
    let up = run(&["up", "-d", "--build", "--scale", "orangescrum-app=3"]);
    assert!(
        up.status.success(),
        "compose up failed; migrate said: {:?}",
        service_ids(&project, "migrate")
            .iter()
            .map(|id| container_logs(id))
            .collect::<Vec<_>>()
    );
    let migrate = service_ids(&project, "migrate");
    assert_eq!(migrate.len(), 1, "one migrate container: {migrate:?}");
    let m = &migrate[0];
    assert_eq!(
        inspect(m, "{{.State.Status}} {{.State.ExitCode}}"),
        "exited 0"
    );
    let mlog = container_logs(m);
    assert!(
        mlog.contains("migrate stub: /app/osv4-prod cwd=/app ini=:/app/php"),
        "{mlog}"
    );
    assert!(
        mlog.contains(&format!("password_sha256={}", sha256_hex(&env.db_password))),
        "{mlog}"
    );
    assert!(
        !mlog.contains(&env.db_password),
        "the password is never printed"
    );
    let finished = inspect(m, "{{.State.FinishedAt}}");
    let apps = service_ids(&project, "orangescrum-app");
    assert_eq!(apps.len(), 3, "{apps:?}");
    for id in &apps {
        // RFC 3339 in UTC with the same precision: string order is time order.
        let at = inspect(id, "{{.State.StartedAt}}");
        assert!(
            at > finished,
            "replica {id} started at {at}, before the migration finished at {finished}"
        );
    }
    assert_eq!(service_ids(&project, "scheduler").len(), 1, "one scheduler");

    // Limits, init, pids, extra host; the web server listens per APP_BIND_IP/APP_PORT.
    let app = &apps[0];
    assert_eq!(
        inspect(app, "{{.HostConfig.NanoCpus}} {{.HostConfig.CpuPeriod}} {{.HostConfig.CpuQuota}} {{.HostConfig.Memory}} {{.HostConfig.MemoryReservation}} {{.HostConfig.PidsLimit}} {{.HostConfig.Init}} {{.HostConfig.ExtraHosts}}"),
        format!("0 100000 200000 {} {} 1024 true [host.docker.internal:host-gateway]", 2u64 << 30, 512u64 << 20)
    );
    let sched = &service_ids(&project, "scheduler")[0];
    assert_eq!(
        inspect(sched, "{{.HostConfig.CpuQuota}} {{.HostConfig.Memory}} {{.HostConfig.MemoryReservation}} {{.HostConfig.Init}} {{.HostConfig.RestartPolicy.Name}}"),
        format!("100000 {} {} true unless-stopped", 1u64 << 30, 256u64 << 20)
    );
    assert_eq!(inspect(m, "{{.HostConfig.RestartPolicy.Name}}"), "no");
    // Why a CFS quota and not `cpus`: the engine refuses `cpus` above the host's CPU count
    // (a 2-CPU limit on a 1-vCPU host), and accepts a quota above it.
    let ncpu: u64 = docker_ok(&["info", "--format", "{{.NCPU}}"])
        .parse()
        .unwrap();
    let refused = docker(&[
        "run",
        "--rm",
        "--cpus",
        &(ncpu + 1).to_string(),
        &base,
        "true",
    ]);
    assert!(
        !refused.status.success() && stderr_of(&refused).contains("Range of CPUs"),
        "{}",
        stderr_of(&refused)
    );
    docker_ok(&[
        "run",
        "--rm",
        "--cpu-period",
        "100000",
        "--cpu-quota",
        &((ncpu + 1) * 100_000).to_string(),
        &base,
        "true",
    ]);
    let alog = container_logs(app);
    assert!(
        alog.contains("stub php-server on 0.0.0.0:8080 ini=:/app/php"),
        "{alog}"
    );
    for id in &apps {
        let h = wait_until(100, "replicas healthy", || {
            let h = inspect(id, "{{.State.Health.Status}}");
            (h != "starting").then_some(h)
        });
        assert_eq!(h, "healthy", "{}", container_logs(id));
    }
    let mut served = 0;
    for p in first_port..first_port + 3 {
        if TcpStream::connect(("127.0.0.1", p)).is_ok() {
            assert_eq!(http_get_status(p, "/home/healthcheck"), 200);
            served += 1;
        }
    }
    assert_eq!(
        served, 3,
        "each replica on its own port of APP_PORT's range"
    );

    // PID 1 is Docker's init: an orphaned process is reaped, not left a zombie.
    assert!(docker_ok(&["exec", app, "cat", "/proc/1/cmdline"]).contains("docker-init"));
    docker_ok(&["exec", app, "sh", "-c", "sleep 1 & exit 0"]);
    std::thread::sleep(Duration::from_secs(3));
    let states = docker_ok(&["exec", app, "sh", "-c", "cat /proc/[0-9]*/stat"]);
    assert!(
        !states
            .lines()
            .any(|l| l.split_whitespace().nth(2) == Some("Z")),
        "zombies: {states}"
    );

    // The scheduler: runs on multiples of its interval (4 s here), one after the other
    // (each run takes 6 s, so every other slot is skipped, never overlapped).
    let runs = wait_until(60, "three recurring_task runs", || {
        let log = container_logs(sched);
        let starts: Vec<u64> = log
            .lines()
            .filter_map(|l| l.strip_prefix("recurring_task start "))
            .map(|t| t.trim().parse().unwrap())
            .collect();
        (starts.len() >= 3).then_some((starts, log))
    });
    let (starts, slog) = runs;
    let ends: Vec<u64> = slog
        .lines()
        .filter_map(|l| l.strip_prefix("recurring_task end "))
        .map(|t| t.trim().parse().unwrap())
        .collect();
    for (i, s) in starts.iter().enumerate() {
        // date +%s inside the stub may tick once after the slot's second.
        assert!(s % 4 <= 1, "run {i} at {s} is not on a 4 s slot: {slog}");
        if i > 0 {
            assert!(
                *s >= ends[i - 1],
                "run {i} overlapped the previous one: {slog}"
            );
        }
    }
    assert!(
        slog.contains("entrypoint: scheduler: recurring_task finished in"),
        "{slog}"
    );
    // Stop during a run: prompt and clean.
    wait_until(20, "a run in progress", || {
        let l = container_logs(sched);
        (l.matches("recurring_task start").count() > l.matches("recurring_task end").count())
            .then_some(())
    });
    let t = Instant::now();
    docker_ok(&["stop", "-t", "30", sched]);
    let took = t.elapsed();
    assert!(took < Duration::from_secs(5), "docker stop took {took:?}");
    assert_eq!(inspect(sched, "{{.State.ExitCode}}"), "0");
    assert!(container_logs(sched).contains("entrypoint: scheduler: stopped"));

    // The worker: the original's arguments from WORKER_MAX_RUNTIME/WORKER_SLEEP, started
    // again by the restart policy after it exits.
    assert!(run(&["--profile", "queue", "up", "-d", "queue-worker"])
        .status
        .success());
    let worker = service_ids(&project, "queue-worker");
    assert_eq!(worker.len(), 1);
    let wlog = wait_until(40, "the worker restarted twice", || {
        let l = container_logs(&worker[0]);
        (l.matches("worker argv:").count() >= 3).then_some(l)
    });
    assert!(
        wlog.contains("worker argv: php-cli bin/cake.php queue worker --max-runtime 3 --sleep 1 --verbose ini=:/app/php"),
        "{wlog}"
    );
    assert_eq!(
        inspect(
            &worker[0],
            "{{.HostConfig.CpuQuota}} {{.HostConfig.Memory}}"
        ),
        format!("100000 {}", 1u64 << 30)
    );

    // DB_PASSWORD_FILE (Docker secrets) supplies the password, never printed.
    let secret = hex_secret(20);
    let secret_file = tmp.path().join("db_password");
    fs::write(&secret_file, format!("{secret}\n")).unwrap();
    fs::set_permissions(&secret_file, fs::Permissions::from_mode(0o444)).unwrap();
    let mount = format!("{}:/run/secrets/db_password:ro", secret_file.display());
    let out = run(&[
        "run",
        "--rm",
        "-v",
        &mount,
        "-e",
        "DB_PASSWORD_FILE=/run/secrets/db_password",
        "-e",
        "DB_PASSWORD=",
        "migrate",
    ]);
    let text = format!("{}{}", stdout_of(&out), stderr_of(&out));
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("password_sha256={}", sha256_hex(&secret))),
        "{text}"
    );
    assert!(
        !text.contains(&secret),
        "the secret is never printed: {text}"
    );
    let out = run(&[
        "run",
        "--rm",
        "-e",
        "DB_PASSWORD_FILE=/run/secrets/missing",
        "migrate",
    ]);
    let text = format!("{}{}", stdout_of(&out), stderr_of(&out));
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("DB_PASSWORD_FILE=/run/secrets/missing is not a readable file"),
        "{text}"
    );
    assert!(!text.contains("migrate stub"), "nothing ran: {text}");

    // A failed migration starts nothing else, and its output names the database.
    assert!(run(&["--profile", "queue", "down", "--remove-orphans"])
        .status
        .success());
    env.db_host = "unreachable.invalid".into();
    fs::write(pkg.join(".env"), env.render()).unwrap();
    let up = run(&["up", "-d"]);
    assert!(!up.status.success(), "up succeeded with a failed migration");
    let migrate = service_ids(&project, "migrate");
    assert_eq!(
        inspect(&migrate[0], "{{.State.Status}} {{.State.ExitCode}}"),
        "exited 1"
    );
    assert!(
        container_logs(&migrate[0]).contains("unreachable.invalid:5432 did not answer"),
        "{}",
        container_logs(&migrate[0])
    );
    for s in ["orangescrum-app", "scheduler"] {
        let running: Vec<String> = service_ids(&project, s)
            .into_iter()
            .filter(|id| inspect(id, "{{.State.Running}}") == "true")
            .collect();
        assert!(
            running.is_empty(),
            "{s} started despite the failed migration"
        );
    }
    drop(guard);
    eprintln!("compose test took {:.1} s", started.elapsed().as_secs_f64());
}

/// The host's Debian programs inside a test container: PHP (with pdo_pgsql and redis),
/// PostgreSQL 15 and Redis, read-only.
const HOST_PROGRAMS: [&str; 5] = [
    "/usr:/usr:ro",
    "/lib:/lib:ro",
    "/lib64:/lib64:ro",
    "/etc/php:/etc/php:ro",
    "/etc/alternatives:/etc/alternatives:ro",
];

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// Test-only compose override for the PHP-backed deployment: PostgreSQL and Redis from
/// Debian's packages in containers of the project (docker-compose 1.29 cannot take the
/// web service's published port away, so the containers cannot join the host network;
/// a service on the project network is reachable only by the containers the test made),
/// the host's `php` for the stand-in binary, a 3 s scheduler slot and a fast health check.
/// `$$` is Compose's escape for a `$` the container's shell expands.
fn php_override(base: &str, env: &Env) -> String {
    let pg_script = format!(
        "set -e; umask 077; printf '%s' \"$$DB_PASSWORD\" >/tmp/pw; \
         {PG_BIN}/initdb -D /tmp/pg -U \"$$DB_USERNAME\" --pwfile=/tmp/pw --auth-local=trust \
         --auth-host=scram-sha-256 -E UTF8 --no-locale >/dev/null; rm -f /tmp/pw; \
         echo 'host all all all scram-sha-256' >>/tmp/pg/pg_hba.conf; \
         {PG_BIN}/pg_ctl -D /tmp/pg -o '-c listen_addresses= -c unix_socket_directories=/tmp' -w start >/dev/null; \
         {PG_BIN}/psql -h /tmp -U \"$$DB_USERNAME\" -d postgres -qc \"CREATE DATABASE \\\"$$DB_NAME\\\"\"; \
         {PG_BIN}/pg_ctl -D /tmp/pg -w stop >/dev/null; \
         exec {PG_BIN}/postgres -D /tmp/pg -c listen_addresses='*' -c unix_socket_directories=/tmp -p 5432"
    );
    let redis_script = "exec /usr/bin/redis-server --bind 0.0.0.0 --port 6379 --requirepass \"$$REDIS_PASSWORD\" --save '' --appendonly no --dir /tmp --protected-mode no";
    let php = serde_json::json!({
        "volumes": HOST_PROGRAMS,
        "environment": {"ORANGESCRUM_SAMPLE_PHP": "/usr/bin/php"},
    });
    let service = |script: &str| {
        serde_json::json!({
            "image": base,
            "user": "1000:1000",
            // Fixed values, not the env file: a later .env change must not recreate
            // (and so empty) the database.
            "environment": {
                "DB_USERNAME": "orangescrum",
                "DB_NAME": "orangescrum",
                "DB_PASSWORD": env.db_password,
                "REDIS_PASSWORD": env.redis_password,
            },
            "command": ["/bin/sh", "-c", script],
            "volumes": &HOST_PROGRAMS[..3],
            "restart": "no",
        })
    };
    let mut scheduler = php.clone();
    scheduler["command"] = serde_json::json!(["scheduler", "3"]);
    // Each run takes 4 s, longer than the slot: runs must queue up, never overlap.
    scheduler["environment"]["RECURRING_TASK_SECONDS"] = "4".into();
    let mut app = php.clone();
    app["healthcheck"] = serde_json::json!({"interval": "2s", "start_period": "60s"});
    serde_json::to_string_pretty(&serde_json::json!({
        "services": {
            "postgres": service(&pg_script),
            "redis": service(redis_script),
            "migrate": php,
            "orangescrum-app": app,
            "scheduler": scheduler,
            "queue-worker": php,
        }
    }))
    .unwrap()
}

/// `psql -Atc SQL` inside the test's PostgreSQL container.
fn psql(pg: &str, sql: &str) -> String {
    docker_ok(&[
        "exec",
        pg,
        &format!("{PG_BIN}/psql"),
        "-h",
        "/tmp",
        "-U",
        "orangescrum",
        "-d",
        "orangescrum",
        "-Atc",
        sql,
    ])
}

/// What a migration or a seeding would change: migration logs of app and plugin, and the
/// rows the seeders and pg_config_*.sql write.
const DB_STATE: &str =
    "SELECT (SELECT count(*) FROM phinxlog) || ' ' || (SELECT count(*) FROM payments_phinxlog) \
    || ' ' || (SELECT count(*) FROM actions) || ' ' || (SELECT count(*) FROM settings)";

/// `cargo xtask deploy docker` of a `--sample` release with the stand-in running the PHP
/// fixture on Debian's php, against Debian's PostgreSQL and Redis: env refusals; a
/// database that does not answer stops the deployment before the web server with the
/// migration's output naming host:port; the first start migrates and seeds, the second
/// does neither; the scheduler runs recurring_task one run at a time; the worker takes a
/// job from Redis and is restarted after its max runtime; three web replicas run one
/// migration; the image refuses a placeholder secret; --down removes everything.
#[test]
fn deploy_docker_migrates_seeds_and_schedules_with_postgres_and_redis() {
    // The containers run the host's PHP, PostgreSQL and Redis (HOST_PROGRAMS).
    const TEST: &str = "deploy_docker_migrates_seeds_and_schedules_with_postgres_and_redis";
    if !require_docker()
        || !services::require_tools(TEST, &[&format!("{PG_BIN}/initdb"), "redis-server"])
        || services::php_with_extensions(TEST).is_none()
    {
        return;
    }
    let started = Instant::now();
    let version = format!("v26.1.1-t{}", pid());
    let project = format!("orangescrum-v26-1-1-t{}", pid());
    let base = format!("xtask-test-busybox:deploy-{}", pid());
    let run_name = format!("xtask-test-refusal-{}", pid());
    let app_image = format!("orangescrum:{version}");
    let mut guard = Cleanup::default();
    guard.projects.push(project.clone());
    guard.containers.push(run_name.clone());
    guard.images.push(base.clone());
    guard.images.push(app_image.clone());
    import_base(&base);

    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dist");
    ok(xtask_clean()
        .env("XTASK_RELEASE_VERSION", &version)
        .args(["dist", "--sample", "--out"])
        .arg(&out));
    let deploy_dir = out
        .join(".deploy")
        .join(format!("orangescrum-{version}-docker"));
    let port = free_port();
    let mut env = Env::new(&port.to_string());
    env.db_host = "postgres".into();
    env.redis_host = "redis".into();
    env.extra = "DB_WAIT_TIMEOUT=60\nWORKER_MAX_RUNTIME=20\nWORKER_SLEEP=1\n".into();
    let good = tmp.path().join("good.env");
    fs::write(&good, env.render()).unwrap();
    let override_file = tmp.path().join("test-override.yml");
    fs::write(&override_file, php_override(&base, &env)).unwrap();
    let mut down_db = env.clone();
    down_db.db_port = 5433;
    down_db.extra = "DB_WAIT_TIMEOUT=5\nWORKER_MAX_RUNTIME=20\nWORKER_SLEEP=1\n".into();
    let db_down = tmp.path().join("db-down.env");
    fs::write(&db_down, down_db.render()).unwrap();
    let bad = tmp.path().join("bad.env");
    fs::write(
        &bad,
        env_file(
            port,
            "__CHANGE_ME_generate_with_helpers_generate-secrets.sh__",
        ),
    )
    .unwrap();
    let deploy = || {
        let mut c = xtask_clean();
        c.args(["deploy", "docker", "--out"]).arg(&out).args([
            "--base-image",
            &base,
            "--timeout",
            "120",
            "--compose-file",
        ]);
        c.arg(&override_file);
        c
    };
    let project_filter = format!("label=com.docker.compose.project={project}");

    // The deploy validates the env file with the package's validator before anything runs.
    let err = fails(deploy().arg("--env-file").arg(&bad));
    assert!(err.contains("refusing to deploy"), "{err}");
    assert!(has_error_about(&err, "SECURITY_SALT"), "{err}");
    assert!(!deploy_dir.exists(), "a refused deploy installs nothing");
    assert!(
        docker_ok(&["ps", "-aq", "--filter", &project_filter]).is_empty(),
        "a refused deploy starts nothing"
    );
    // No env file at all, and none from an earlier deploy: refused with the fix.
    let err = fails(&mut deploy());
    assert!(err.contains("--env-file"), "{err}");

    // The database does not answer (nothing on 5433): bounded wait, the migration's
    // output naming host:port, and no web server.
    let t = Instant::now();
    let err = fails(deploy().arg("--env-file").arg(&db_down));
    assert!(err.contains("the database migration failed"), "{err}");
    assert!(
        err.contains("postgres:5433"),
        "the error names host:port: {err}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(100),
        "bounded wait: {:?}",
        t.elapsed()
    );
    assert!(
        service_ids(&project, "orangescrum-app").is_empty(),
        "no web container after a failed migration"
    );
    let pg = wait_until(30, "the test's PostgreSQL container", || {
        service_ids(&project, "postgres").pop()
    });

    // First start: migrates (app and plugin) and seeds, then serves.
    let t = Instant::now();
    let res = ok(deploy().arg("--env-file").arg(&good));
    eprintln!("deploy took {:.1} s", t.elapsed().as_secs_f64());
    let printed = stdout_of(&res);
    assert!(
        printed.contains(&format!("listening on http://127.0.0.1:{port}/")),
        "{printed}"
    );
    assert!(
        stderr_of(&res).contains("migrate finished"),
        "{}",
        stderr_of(&res)
    );
    let migrate = service_ids(&project, "migrate");
    assert_eq!(migrate.len(), 1);
    let mlog = container_logs(&migrate[0]);
    assert!(mlog.contains("Seeded 3 actions."), "{mlog}");
    assert!(
        !mlog.contains(&env.db_password),
        "the password is never printed"
    );
    let first = psql(&pg, DB_STATE);
    let counts: Vec<u64> = first.split(' ').map(|n| n.parse().unwrap()).collect();
    assert!(
        counts[0] >= 1 && counts[1] >= 1,
        "app and plugin migrated: {first}"
    );
    assert_eq!(counts[2], 3, "seeded once: {first}");
    assert_eq!(http_get_status(port, "/home/healthcheck"), 200);
    assert_eq!(http_get_status(port, "/no/such/page"), 404);
    let env_meta = fs::metadata(deploy_dir.join(".env")).unwrap();
    assert_eq!(
        env_meta.permissions().mode() & 0o777,
        0o600,
        ".env is private"
    );
    let app_id = service_ids(&project, "orangescrum-app").pop().unwrap();
    // Every process (Docker's init as PID 1, the server, PHP) runs as uid 1000.
    assert!(docker_ok(&["exec", &app_id, "cat", "/proc/1/cmdline"]).contains("docker-init"));
    let uids = docker_ok(&[
        "exec",
        &app_id,
        "sh",
        "-c",
        "grep -h ^Uid: /proc/[0-9]*/status",
    ]);
    assert!(uids.lines().count() >= 2, "{uids}");
    for l in uids.lines() {
        assert_eq!(
            l.split_whitespace().skip(1).collect::<Vec<_>>(),
            ["1000", "1000", "1000", "1000"],
            "{uids}"
        );
    }
    assert_eq!(inspect(&app_id, "{{.Config.Image}}"), app_image);

    // The scheduler runs recurring_task, never two at once (each run outlasts its slot).
    let runs = wait_until(60, "three finished recurring_task runs", || {
        let n: u64 = psql(
            &pg,
            "SELECT count(*) FROM recurring_runs WHERE finished_at IS NOT NULL",
        )
        .parse()
        .unwrap();
        (n >= 3).then_some(n)
    });
    let overlaps = psql(
        &pg,
        "SELECT count(*) FROM recurring_runs a JOIN recurring_runs b ON a.id < b.id \
         WHERE b.started_at < coalesce(a.finished_at, 'infinity')",
    );
    assert_eq!(overlaps, "0", "{runs} runs, overlapping pairs: {overlaps}");
    let sched = service_ids(&project, "scheduler");
    assert_eq!(sched.len(), 1, "one scheduler");
    assert!(container_logs(&sched[0]).contains("recurring_task run 1 finished"));

    // Second start (with the queue worker): no migration, no seeding, still serving.
    let res = ok(deploy().args(["--version", &version, "--queue"]));
    let migrate = service_ids(&project, "migrate");
    let mlog = container_logs(&migrate[0]);
    assert!(mlog.contains("No migrations to run for the app."), "{mlog}");
    assert!(mlog.contains("seeding skipped"), "{mlog}");
    assert_eq!(
        psql(&pg, DB_STATE),
        first,
        "the second start changed the database"
    );
    assert!(stderr_of(&res).contains("queue-worker is running"));
    assert_eq!(
        http_get_status(port, "/home/healthcheck"),
        200,
        "still serving"
    );

    // The worker takes a job pushed into Redis, and is started again after its max runtime.
    let redis = service_ids(&project, "redis").pop().unwrap();
    let job = format!("job-{}", pid());
    docker_ok(&[
        "exec",
        "-e",
        &format!("REDISCLI_AUTH={}", env.redis_password),
        &redis,
        "/usr/bin/redis-cli",
        "LPUSH",
        "orangescrum:queue:default",
        &job,
    ]);
    wait_until(30, "the worker processed the job", || {
        (psql(
            &pg,
            &format!("SELECT count(*) FROM queue_processed WHERE job = '{job}'"),
        ) == "1")
            .then_some(())
    });
    let worker = service_ids(&project, "queue-worker").pop().unwrap();
    wait_until(60, "the worker restarted after WORKER_MAX_RUNTIME", || {
        (inspect(&worker, "{{.RestartCount}}") != "0").then_some(())
    });
    let wlog = container_logs(&worker);
    assert!(wlog.contains("max runtime 20s, sleep 1s"), "{wlog}");
    assert!(
        wlog.contains("Max runtime of 20s reached, exiting."),
        "{wlog}"
    );

    // Three web replicas on a port range (compose directly: the range is the host side
    // only): still one migration, which changes nothing.
    let first_port = free_port_range(3);
    let pg_started = inspect(&pg, "{{.State.StartedAt}}");
    let scaled = Env {
        app_port: format!("{first_port}-{}", first_port + 2),
        ..env.clone()
    };
    fs::write(deploy_dir.join(".env"), scaled.render()).unwrap();
    let files = [
        deploy_dir.join("docker-compose.yaml"),
        override_file.clone(),
    ];
    let files: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let up = compose(
        &project,
        &files,
        &base,
        &["up", "-d", "--scale", "orangescrum-app=3"],
    );
    assert!(up.status.success(), "scaled up failed");
    let migrate = service_ids(&project, "migrate");
    assert_eq!(migrate.len(), 1, "one migrate container for three replicas");
    assert_eq!(
        container_logs(&migrate[0])
            .matches("migrate.sh: done")
            .count(),
        1
    );
    let apps = service_ids(&project, "orangescrum-app");
    assert_eq!(apps.len(), 3);
    for id in &apps {
        let h = wait_until(90, "replicas healthy", || {
            let h = inspect(id, "{{.State.Health.Status}}");
            (h != "starting").then_some(h)
        });
        assert_eq!(h, "healthy", "{}", container_logs(id));
    }
    assert_eq!(psql(&pg, DB_STATE), first);
    assert_eq!(
        inspect(&pg, "{{.State.StartedAt}}"),
        pg_started,
        "the same database all along"
    );

    // The image itself refuses a placeholder secret (its entrypoint runs the validator).
    let refused = docker(&[
        "run",
        "--name",
        &run_name,
        "--env-file",
        bad.to_str().unwrap(),
        &app_image,
    ]);
    let logs = format!("{}{}", stdout_of(&refused), stderr_of(&refused));
    assert!(
        !refused.status.success(),
        "container started with a placeholder salt: {logs}"
    );
    assert!(has_error_about(&logs, "SECURITY_SALT"), "{logs}");
    assert!(logs.contains("refusing to start"), "{logs}");
    docker_ok(&["rm", "-f", &run_name]);

    // --down: containers (the override's too) and network gone, the deploy folder kept.
    ok(xtask_clean()
        .args(["deploy", "docker", "--down", "--out"])
        .arg(&out)
        .args(["--version", &version]));
    assert!(docker_ok(&["ps", "-aq", "--filter", &project_filter]).is_empty());
    assert!(docker_ok(&["network", "ls", "-q", "--filter", &project_filter]).is_empty());
    assert!(deploy_dir.join(".env").is_file());
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port released"
    );
    eprintln!("deploy test took {:.1} s", started.elapsed().as_secs_f64());
}

/// Builder stand-ins: same build arguments and contract as the real base/embed
/// Dockerfiles (which need the network), on the local busybox image.
fn stub_builder(root: &Path, base: &str) {
    let b = root.join("packaging/builder");
    fs::write(
        b.join("base.Dockerfile"),
        format!(
            "FROM {base}\nARG FRANKENPHP_VERSION\nARG PHP_VERSION\nARG PHP_EXTENSIONS\n\
             RUN test -n \"$FRANKENPHP_VERSION\" && test -n \"$PHP_VERSION\" && test -n \"$PHP_EXTENSIONS\" \
             && echo \"$FRANKENPHP_VERSION|$PHP_VERSION|$PHP_EXTENSIONS\" > /build-args\n"
        ),
    )
    .unwrap();
    fs::write(
        b.join("embed.Dockerfile"),
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nARG BINARY_OUT\nCOPY package/ /app/\n\
         RUN test -n \"$BINARY_OUT\" && mkdir -p \"$(dirname \"$BINARY_OUT\")\" \
         && if [ -f /app/fake-frankenphp ]; then cp /app/fake-frankenphp \"$BINARY_OUT\"; fi\n\
         CMD [\"/bin/sh\"]\n",
    )
    .unwrap();
}

fn git(dir: &Path, args: &[&str]) {
    let st = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .status()
        .unwrap();
    assert!(st.success(), "git {args:?}");
}

fn tmp_entries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".tmp-"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn build_runs_its_plan_against_the_docker_engine() {
    if !require_docker() {
        return;
    }
    let started = Instant::now();
    let app_name = format!("xtb{}", pid());
    let base = format!("xtask-test-busybox:build-{}", pid());
    let label = format!("org.orangescrum.xtask.build={app_name}");
    let mut guard = Cleanup::default();
    guard.labels.push(label.clone());
    guard.projects.push(format!("{app_name}-builder"));
    guard.images.push(base.clone());
    guard.image_refs.push(format!("{app_name}-builder-base"));
    guard.image_refs.push(format!("{app_name}-builder"));
    import_base(&base);

    let fx = Fixture::new();
    stub_builder(&fx.root, &base);
    let sample = sample_binary();

    // A git checkout of the "app": committed files only, exclusions applied.
    let app = fx._tmp.path().join("app");
    for d in ["src", "config", "node_modules/x", "vendor", "webroot"] {
        fs::create_dir_all(app.join(d)).unwrap();
    }
    fs::write(app.join("composer.json"), "{}").unwrap();
    fs::write(app.join("webroot/index.php"), "<?php\n").unwrap();
    fs::write(app.join("src/App.php"), "<?php\n").unwrap();
    fs::write(app.join("config/app.php"), "<?php return [];\n").unwrap();
    fs::write(app.join(".env"), "SECURITY_SALT=committed-by-mistake\n").unwrap();
    fs::write(app.join("node_modules/x/i.js"), "x").unwrap();
    fs::write(app.join("vendor/autoload.php"), "<?php\n").unwrap();
    fs::copy(sample, app.join("fake-frankenphp")).unwrap();
    git(&app, &["init", "-q"]);
    git(&app, &["add", "-A", "-f"]);
    git(&app, &["commit", "-q", "-m", "app"]);
    fs::write(app.join("src/Uncommitted.php"), "<?php\n").unwrap();

    let build = || {
        let mut c = fx.xtask();
        c.args(["--set", &format!("release.app_name={app_name}")])
            .args(["--set", "binary.min_size_mb=0"]);
        c
    };
    let built = fx.root.join("packaging/build/osv4-prod");
    let package = fx.root.join("packaging/builder/package");

    // 1. A full build: the binary is the one the embed image produced.
    let res = ok(build()
        .args(["build", "--keep-package", "--app-source"])
        .arg(&app));
    let log = stderr_of(&res);
    assert!(
        log.contains("is missing: building it"),
        "first run builds the base: {log}"
    );
    assert_eq!(fs::read(&built).unwrap(), fs::read(sample).unwrap());
    assert_eq!(
        fs::metadata(&built).unwrap().permissions().mode() & 0o777,
        0o755
    );
    assert!(tmp_entries(&fx.root.join("packaging/build")).is_empty());
    // The package folder holds the app as embedded.
    assert!(package.join("src/App.php").is_file());
    assert!(
        !package.join("src/Uncommitted.php").exists(),
        "git archive HEAD only"
    );
    assert!(!package.join(".env").exists(), ".env never embedded");
    assert!(!package.join("node_modules").exists() && !package.join("vendor").exists());
    let app_local = fs::read_to_string(package.join("config/app_local.php")).unwrap();
    assert!(
        app_local.contains(&app_name) && !app_local.contains("@@"),
        "{app_local}"
    );
    assert_eq!(
        fs::read_to_string(package.join("config/app.php")).unwrap(),
        "<?php return [];\n",
        "the app's own config is kept"
    );
    let caddyfile = fs::read_to_string(package.join("Caddyfile")).unwrap();
    // COMMON.md contract 2: the listen address comes from the environment at load time.
    assert!(
        caddyfile.contains("http://:{$APP_PORT:8080} {")
            && caddyfile.contains("bind {$APP_BIND_IP:127.0.0.1}")
            && !caddyfile.contains("@@"),
        "{caddyfile}"
    );
    assert!(package.join("php.ini").is_file());
    // Build arguments reached the base image, from packaging/release.toml.
    let bases = lines(&docker_ok(&[
        "images",
        "--format",
        "{{.Repository}}:{{.Tag}}",
        "--filter",
        &format!("reference={app_name}-builder-base"),
    ]));
    assert_eq!(bases.len(), 1, "{bases:?}");
    assert!(bases[0].starts_with(&format!("{app_name}-builder-base:1.12.1-php8.3-")));
    let args = docker_ok(&["run", "--rm", &bases[0], "cat", "/build-args"]);
    assert!(args.starts_with("1.12.1|8.3|bcmath,calendar,"), "{args}");
    // The temporary container and the embed image are gone; the base image stays.
    assert!(docker_ok(&["ps", "-aq", "--filter", &format!("label={label}")]).is_empty());
    assert!(docker_ok(&["images", "-q", &format!("{app_name}-builder:v26.1.1")]).is_empty());

    // 2. docker cp fails (the embed image made no binary): the container is still
    // removed, nothing is written, the previous binary is untouched.
    let plain = fx._tmp.path().join("plain-app");
    fs::create_dir_all(plain.join("src")).unwrap();
    fs::create_dir_all(plain.join("webroot")).unwrap();
    fs::write(plain.join("src/App.php"), "<?php\n").unwrap();
    fs::write(plain.join("composer.json"), "{}").unwrap();
    fs::write(plain.join("webroot/index.php"), "<?php\n").unwrap();
    let err = fails(build().args(["build", "--app-source"]).arg(&plain));
    assert!(err.contains("docker cp"), "{err}");
    assert!(err.contains("reusing the builder base image"), "{err}");
    assert!(
        docker_ok(&["ps", "-aq", "--filter", &format!("label={label}")]).is_empty(),
        "temporary container removed after the failure"
    );
    assert_eq!(fs::read(&built).unwrap(), fs::read(sample).unwrap());
    assert!(tmp_entries(&fx.root.join("packaging/build")).is_empty());

    // 3. Validation refuses the binary (too small for the limit): nothing replaced.
    let err = fails(
        fx.xtask()
            .args(["--set", &format!("release.app_name={app_name}")])
            .args(["--set", "binary.min_size_mb=1000", "build", "--app-source"])
            .arg(&app),
    );
    assert!(err.contains("below binary.min_size_mb = 1000 MB"), "{err}");
    assert_eq!(fs::read(&built).unwrap(), fs::read(sample).unwrap());
    assert!(tmp_entries(&fx.root.join("packaging/build")).is_empty());
    assert!(docker_ok(&["ps", "-aq", "--filter", &format!("label={label}")]).is_empty());
    assert!(
        !package.exists(),
        "package folder removed without --keep-package"
    );

    // 4. --clean removes leftovers of an interrupted build, and only ours.
    docker_ok(&[
        "create",
        "--name",
        &format!("{app_name}-build-1"),
        "--label",
        &label,
        &base,
        "true",
    ]);
    fs::create_dir_all(package.join("src")).unwrap();
    fs::write(fx.root.join("packaging/build/.tmp-osv4-prod-1"), "partial").unwrap();
    ok(build().args(["build", "--clean"]));
    assert!(docker_ok(&["ps", "-aq", "--filter", &format!("label={label}")]).is_empty());
    assert!(!package.exists());
    assert!(tmp_entries(&fx.root.join("packaging/build")).is_empty());
    assert!(built.is_file(), "--clean keeps the built binary");
    drop(guard);
    eprintln!("build test took {:.1} s", started.elapsed().as_secs_f64());
}

#[test]
fn build_check_names_a_missing_app_source_and_dry_run_runs_nothing() {
    if !require_docker() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-such-app");
    let err = fails(
        xtask_clean()
            .args(["build", "--check", "--app-source"])
            .arg(&missing),
    );
    assert!(
        err.contains(&format!(
            "the app source {} does not exist",
            missing.display()
        )),
        "{err}"
    );
    assert!(err.contains("--app-source DIR"), "the fix is named: {err}");
    assert!(err.contains("ok       Docker daemon"), "{err}");

    // With an empty PATH any command would fail to start: the dry run must not need one.
    let empty = tmp.path().join("empty-path");
    fs::create_dir(&empty).unwrap();
    let out = ok(xtask_clean()
        .env("PATH", &empty)
        .args(["build", "--dry-run", "--app-source"])
        .arg(&missing));
    let plan = stdout_of(&out);
    let has = |prefix: &str| plan.lines().any(|l| l.starts_with(prefix));
    assert!(has("docker info --format"), "{plan}");
    assert!(
        has("docker image inspect --format '{{.Id}}' orangescrum-builder-base:1.12.1-php8.3-"),
        "{plan}"
    );
    assert!(
        plan.lines()
            .any(|l| l.starts_with("DOCKER_BUILDKIT=1 docker build --file")
                && l.contains("embed.Dockerfile")
                && l.contains("--build-arg BASE_IMAGE=orangescrum-builder-base:1.12.1-php8.3-")),
        "{plan}"
    );
    assert!(has("docker create --name orangescrum-build-"), "{plan}");
    assert!(has("docker cp orangescrum-build-"), "{plan}");
    assert!(plan.contains(&format!(
        "# warning: the app source {} does not exist",
        missing.display()
    )));
}

#[test]
fn deploy_refuses_a_release_that_does_not_match_its_checksums() {
    if !require_docker() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dist");
    let version = format!("v26.1.1-x{}", pid());
    ok(xtask_clean()
        .env("XTASK_RELEASE_VERSION", &version)
        .args(["dist", "--sample", "--out"])
        .arg(&out));
    let archive = out.join(&version).join(format!(
        "orangescrum-{version}-docker-{}.tar.zst",
        std::env::consts::ARCH
    ));
    let mut bytes = fs::read(&archive).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    fs::write(&archive, bytes).unwrap();
    let good = tmp.path().join("good.env");
    fs::write(&good, env_file(free_port(), &hex_secret(32))).unwrap();
    let err = fails(
        xtask_clean()
            .args(["deploy", "docker", "--out"])
            .arg(&out)
            .arg("--env-file")
            .arg(&good),
    );
    assert!(err.contains("refusing to deploy"), "{err}");
    assert!(err.contains("does not match its checksums"), "{err}");
    assert!(
        err.contains(&format!("MODIFIED orangescrum-{version}-docker")),
        "{err}"
    );
    assert!(
        !out.join(".deploy")
            .join(format!("orangescrum-{version}-docker"))
            .exists(),
        "nothing extracted"
    );
    let project = format!(
        "label=com.docker.compose.project=orangescrum-v26-1-1-x{}",
        pid()
    );
    assert!(docker_ok(&["ps", "-aq", "--filter", &project]).is_empty());
}
