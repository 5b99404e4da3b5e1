//! Real tests of `cargo xtask build` and `cargo xtask deploy docker` against the Docker
//! engine: no mocks. Nothing can be pulled here, so the base image is made locally from
//! Debian's busybox-static (`apt-get download` + `dpkg-deb -x` + `docker import`).
//!
//! Every name (images, compose projects, containers, app names, release versions) carries
//! this process id, so parallel runs do not collide, and a Drop guard removes everything a
//! test made even when it fails. Without a working `docker info` these tests FAIL: they
//! never skip silently. All traffic stays on 127.0.0.1.
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

/// Fails the test loudly when the Docker engine is not usable.
fn require_docker() {
    let out = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "these tests need a running Docker engine and `docker info` failed: {}\nStart Docker (systemctl start docker) or set DOCKER_HOST; the Docker tests never skip",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!(
            "these tests need Docker and the docker CLI cannot be run ({e}): install Docker Engine; the Docker tests never skip"
        ),
    }
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

/// An environment file the validator accepts, with freshly generated secrets.
fn env_file(port: u16, salt: &str) -> String {
    format!(
        "# test environment\nDEBUG=false\nAPP_BIND_IP=127.0.0.1\nAPP_PORT={port}\n\
         FULL_BASE_URL=https://orangescrum.example.test\nSECURITY_SALT={salt}\n\
         DB_HOST=db.example.test\nDB_PORT=5432\nDB_USERNAME=orangescrum\nDB_NAME=orangescrum\n\
         DB_PASSWORD={}\nREDIS_HOST=redis.example.test\nREDIS_PORT=6379\nREDIS_PASSWORD={}\n\
         CACHE_ENGINE=redis\nSESSION_HANDLER=cache\nQUEUE_ENGINE=redis\nQUEUE_HEARTBEAT_SECS=30\n\
         AWS_S3_BUCKET=orangescrum-test\nAWS_S3_REGION=us-east-1\n\
         EMAIL_TRANSPORT=smtp\nEMAIL_FROM=noreply@example.test\nSMTP_HOST=smtp.example.test\n\
         SMTP_PORT=587\nSMTP_TLS=true\n",
        hex_secret(16),
        hex_secret(16)
    )
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

#[test]
fn deploy_docker_sample_release_end_to_end() {
    require_docker();
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

    let port = free_port();
    let good = tmp.path().join("good.env");
    fs::write(&good, env_file(port, &hex_secret(32))).unwrap();
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
        ]);
        c
    };
    let deploy_dir = out
        .join(".deploy")
        .join(format!("orangescrum-{version}-docker"));

    // The deploy validates the env file with the package's validator before anything runs.
    let err = fails(deploy().arg("--env-file").arg(&bad));
    assert!(err.contains("refusing to deploy"), "{err}");
    assert!(has_error_about(&err, "SECURITY_SALT"), "{err}");
    assert!(!deploy_dir.exists(), "a refused deploy installs nothing");
    assert!(
        docker_ok(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=com.docker.compose.project={project}")
        ])
        .is_empty(),
        "a refused deploy starts nothing"
    );
    // No env file at all, and none from an earlier deploy: refused with the fix.
    let err = fails(&mut deploy());
    assert!(err.contains("--env-file"), "{err}");

    // A good env file: healthy, served on the host port.
    let t = Instant::now();
    let res = ok(deploy().arg("--env-file").arg(&good));
    eprintln!("deploy took {:.1} s", t.elapsed().as_secs_f64());
    let printed = stdout_of(&res);
    assert!(
        printed.contains(&format!("listening on http://127.0.0.1:{port}/")),
        "{printed}"
    );
    let env_meta = fs::metadata(deploy_dir.join(".env")).unwrap();
    assert_eq!(
        env_meta.permissions().mode() & 0o777,
        0o600,
        ".env is private"
    );
    assert_eq!(
        fs::read(deploy_dir.join(".env")).unwrap(),
        fs::read(&good).unwrap()
    );

    let app_id = docker_ok(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--filter",
        "label=com.docker.compose.service=orangescrum-app",
    ]);
    assert_eq!(lines(&app_id).len(), 1, "one application container");
    assert_eq!(
        docker_ok(&["inspect", "--format", "{{.State.Health.Status}}", &app_id]),
        "healthy"
    );
    assert_eq!(http_get_status(port, "/home/healthcheck"), 200);
    assert_eq!(http_get_status(port, "/no/such/page"), 404);
    let status = docker_ok(&["exec", &app_id, "cat", "/proc/1/status"]);
    let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert_eq!(
        uid.split_whitespace().skip(1).collect::<Vec<_>>(),
        ["1000", "1000", "1000", "1000"],
        "the application runs as uid 1000: {uid}"
    );
    assert_eq!(
        docker_ok(&["inspect", "--format", "{{.Config.Image}}", &app_id]),
        app_image
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
    assert_ne!(
        docker_ok(&["inspect", "--format", "{{.State.ExitCode}}", &run_name]),
        "0"
    );
    docker_ok(&["rm", "-f", &run_name]);

    // Redeploy with the .env already in the deploy folder, plus the queue worker.
    ok(deploy().args(["--version", &version, "--queue"]));
    let worker = docker_ok(&[
        "ps",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--filter",
        "label=com.docker.compose.service=queue-worker",
        "--format",
        "{{.ID}} {{.State}}",
    ]);
    assert!(worker.ends_with(" running"), "queue worker: {worker:?}");
    assert_eq!(
        http_get_status(port, "/home/healthcheck"),
        200,
        "still serving"
    );

    // --down: containers and network gone, the deploy folder (with .env) kept.
    ok(xtask_clean()
        .args(["deploy", "docker", "--down", "--out"])
        .arg(&out)
        .args(["--version", &version]));
    let project_filter = format!("label=com.docker.compose.project={project}");
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
    require_docker();
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
    for d in ["src", "config", "node_modules/x", "vendor"] {
        fs::create_dir_all(app.join(d)).unwrap();
    }
    fs::write(app.join("composer.json"), "{}").unwrap();
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
    assert!(
        caddyfile.contains(":8080 {") && !caddyfile.contains("@@"),
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
    fs::write(plain.join("src/App.php"), "<?php\n").unwrap();
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
    require_docker();
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
        has("BUILDER_BASE_IMAGE=orangescrum-builder-base:"),
        "{plan}"
    );
    assert!(has("docker create --name orangescrum-build-"), "{plan}");
    assert!(has("docker cp orangescrum-build-"), "{plan}");
    assert!(plan.contains(&format!(
        "# warning: the app source {} does not exist",
        missing.display()
    )));
    assert!(
        plan.contains("# compose: not found; assuming docker compose"),
        "{plan}"
    );
}

#[test]
fn deploy_refuses_a_release_that_does_not_match_its_checksums() {
    require_docker();
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
