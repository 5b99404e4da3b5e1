//! The release's OCI image against the real tools: `docker load` of this machine's engine,
//! `skopeo inspect` and `umoci` (Debian's packages) agree on what `dist` wrote, the image
//! runs the (sample) binary non-root on a read-only root and turns healthy, a placeholder
//! secret is refused by the entrypoint, and two builds give the same digest.
//! Traffic stays on 127.0.0.1 and the containers the test made; everything is removed after.

mod support;

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use support::*;

fn release(fx: &Fixture, out: &Path) -> (PathBuf, serde_json::Value) {
    ok(&mut fx.dist_cmd(out, sample_binary()));
    let v = out.join(config_version());
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(v.join("dist-manifest.json")).unwrap()).unwrap();
    (
        v.join(m["image"]["archive"].as_str().unwrap()),
        m["image"].clone(),
    )
}

fn run(cmd: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(cmd).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Removes the test's containers and image even when an assertion fails.
struct Cleanup(Vec<String>, String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.0 {
            let _ = Command::new("docker").args(["rm", "-f", c]).output();
        }
        let _ = Command::new("docker").args(["rmi", "-f", &self.1]).output();
    }
}

#[test]
fn the_image_is_reproducible_and_the_standard_tools_agree_on_it() {
    if !require::tool("skopeo", "apt-get install skopeo")
        || !require::tool("umoci", "apt-get install umoci")
    {
        return;
    }
    let fx = Fixture::new();
    let (a, meta) = release(&fx, &fx.out());
    let other = fx._tmp.path().join("again");
    let (b, meta_b) = release(&fx, &other);
    assert_eq!(meta, meta_b, "two builds: same image entry");
    assert!(
        fs::read(&a).unwrap() == fs::read(&b).unwrap(),
        "two builds: same bytes"
    );
    let digest = meta["digest"].as_str().unwrap();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );

    let arg = format!("oci-archive:{}", a.display());
    let (ok_inspect, text) = run("skopeo", &["inspect", &arg]);
    assert!(ok_inspect, "{text}");
    let inspected: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        inspected["Digest"], digest,
        "skopeo sees the digest dist recorded"
    );
    let (ok_config, text) = run("skopeo", &["inspect", "--config", &arg]);
    assert!(ok_config, "{text}");
    let config: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(config["config"]["User"], "1000:1000");
    assert_eq!(
        config["config"]["Entrypoint"],
        serde_json::json!(["/app/entrypoint"])
    );
    assert_eq!(
        config["config"]["Labels"]["org.opencontainers.image.version"],
        config_version()
    );

    // umoci unpacks the layout: the root file system holds only what runs.
    let x = tempfile::tempdir().unwrap();
    let layout = x.path().join("layout");
    ok(Command::new("tar").arg("-xf").arg(&a).arg("-C").arg({
        fs::create_dir(&layout).unwrap();
        &layout
    }));
    let bundle = x.path().join("bundle");
    let (unpacked, text) = run(
        "umoci",
        &[
            "unpack",
            "--rootless",
            "--image",
            &format!("{}:{}", layout.display(), config_version()),
            bundle.to_str().unwrap(),
        ],
    );
    assert!(unpacked, "{text}");
    let rootfs = bundle.join("rootfs");
    let mut files: Vec<String> = walk(&rootfs)
        .into_iter()
        .filter(|p| !p.is_dir())
        .map(|p| {
            p.strip_prefix(&rootfs)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "app/entrypoint",
            "app/osv4-prod",
            "app/php/php.ini",
            "etc/group",
            "etc/passwd",
            "etc/ssl/certs/ca-certificates.crt"
        ],
        "no shell, nothing else"
    );
    let runtime: serde_json::Value =
        serde_json::from_slice(&fs::read(bundle.join("config.json")).unwrap()).unwrap();
    assert_eq!(
        runtime["process"]["user"]["uid"], 1000,
        "umoci reads the same user"
    );
    assert_eq!(runtime["process"]["args"][0], "/app/entrypoint");
}

#[test]
fn the_image_loads_runs_non_root_read_only_turns_healthy_and_refuses_a_placeholder() {
    if !require::docker() {
        return;
    }
    let fx = Fixture::new();
    let (archive, meta) = release(&fx, &fx.out());
    let tag = meta["repo_tag"].as_str().unwrap().to_string();
    let name = format!("xtask-oci-{}", std::process::id());
    let refused = format!("{name}-refused");
    let _cleanup = Cleanup(vec![name.clone(), refused.clone()], tag.clone());
    let loaded = docker_out(&["load", "-i", archive.to_str().unwrap()]);
    assert!(loaded.contains(&format!("Loaded image: {tag}")), "{loaded}");

    // A placeholder secret: the entrypoint refuses before the server starts.
    let (_, _) = run(
        "docker",
        &[
            "run",
            "--name",
            &refused,
            "--read-only",
            "--tmpfs",
            "/tmp",
            "-e",
            "SECURITY_SALT=__CHANGE_THIS_TO_RANDOM_STRING__",
            &tag,
        ],
    );
    let state = docker_out(&["inspect", "-f", "{{.State.ExitCode}}", &refused]);
    assert_eq!(state.trim(), "78", "refused with EX_CONFIG");
    let logs = run("docker", &["logs", &refused]).1;
    assert!(
        logs.contains("ERROR")
            && logs.contains("SECURITY_SALT")
            && logs.contains("refusing to start"),
        "{logs}"
    );
    assert!(
        !logs.contains("__CHANGE_THIS_TO_RANDOM_STRING__"),
        "values are never printed"
    );

    // The real run: read-only root, a tmpfs /tmp, no capabilities, published on loopback.
    // The image's own health check runs, only more often than its 30 s interval.
    // A complete, valid environment: the original packages' operator .env (the
    // validator's fixture), read as systemd reads it, passed with -e.
    let fixture = repo().join("xtask/tests/fixtures/original-operator.env");
    let entries = envcheck::parse::systemd(&fs::read(&fixture).unwrap()).unwrap();
    let mut args: Vec<String> = [
        "run",
        "-d",
        "--name",
        &name,
        "--read-only",
        "--tmpfs",
        "/tmp:rw,nosuid,nodev",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--health-interval",
        "1s",
        "--health-start-period",
        "0s",
        "-p",
        "127.0.0.1::8080",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for e in entries {
        args.push("-e".into());
        args.push(format!("{}={}", e.key, e.value));
    }
    args.push(tag.clone());
    docker_out(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut status = String::new();
    while Instant::now() < deadline {
        status = docker_out(&["inspect", "-f", "{{.State.Health.Status}}", &name]);
        if status.trim() == "healthy" {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(
        status.trim(),
        "healthy",
        "{}",
        run("docker", &["logs", &name]).1
    );
    let uid = docker_out(&["top", &name, "-o", "uid,pid,args"]);
    let server = uid
        .lines()
        .find(|l| l.contains("php-server"))
        .unwrap_or_else(|| panic!("{uid}"));
    assert!(
        server.trim_start().starts_with("1000 "),
        "runs as uid 1000: {uid}"
    );
    let port = docker_out(&["port", &name, "8080/tcp"]);
    let addr = port.lines().next().unwrap().trim().to_string();
    let body = http_get(&addr, "/home/healthcheck");
    assert!(
        body.starts_with("HTTP/1.1 200") || body.starts_with("HTTP/1.0 200"),
        "{body}"
    );
    let inspect = docker_out(&[
        "inspect",
        "-f",
        "{{.HostConfig.ReadonlyRootfs}} {{.Config.User}}",
        &name,
    ]);
    assert_eq!(inspect.trim(), "true 1000:1000");

    // The image's other commands, without a shell in it (the stand-in answers the PHP
    // commands without PHP; the database lifecycle itself is tested in lifecycle.rs).
    let env_args: Vec<String> = envcheck::parse::systemd(&fs::read(&fixture).unwrap())
        .unwrap()
        .into_iter()
        .flat_map(|e| ["-e".to_string(), format!("{}={}", e.key, e.value)])
        .collect();
    let one_off = |extra: &[&str], cmd: &[&str]| -> (bool, String) {
        let mut a: Vec<String> = ["run", "--rm", "--read-only", "--tmpfs", "/tmp"]
            .map(String::from)
            .to_vec();
        a.extend(env_args.iter().cloned());
        a.extend(extra.iter().map(|s| s.to_string()));
        a.push(tag.clone());
        a.extend(cmd.iter().map(|s| s.to_string()));
        run("docker", &a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let (done, text) = one_off(
        &["-e", "SKIP_MIGRATIONS=1", "-e", "RUN_SEEDERS=false"],
        &["migrate"],
    );
    assert!(done && text.contains("nothing to do"), "{text}");
    let (refused, text) = one_off(&["-e", "RUN_SEEDERS=sometimes"], &["migrate"]);
    assert!(!refused && text.contains("RUN_SEEDERS"), "{text}");

    // The scheduler: runs on 2 s slots, one at a time, and stops promptly on SIGTERM even
    // as PID 1 (no init in the container).
    let sched = format!("{name}-scheduler");
    let mut a: Vec<String> = [
        "run",
        "-d",
        "--name",
        &sched,
        "--read-only",
        "--tmpfs",
        "/tmp",
    ]
    .map(String::from)
    .to_vec();
    a.extend(env_args.iter().cloned());
    a.extend([tag.clone(), "scheduler".into(), "2".into()]);
    docker_out(&a.iter().map(String::as_str).collect::<Vec<_>>());
    std::thread::sleep(Duration::from_secs(7));
    let stopped = Instant::now();
    docker_out(&["stop", "-t", "10", &sched]);
    let took = stopped.elapsed();
    let logs = run("docker", &["logs", &sched]).1;
    let _ = Command::new("docker").args(["rm", "-f", &sched]).output();
    assert!(
        logs.matches("recurring_task started").count() >= 2,
        "two scheduled runs in 7 s:\n{logs}"
    );
    assert!(logs.contains("scheduler: stopped"), "{logs}");
    assert!(
        took < Duration::from_secs(5),
        "SIGTERM honoured as PID 1: {took:?}"
    );
}

fn docker_out(args: &[&str]) -> String {
    let (ok, text) = run("docker", args);
    assert!(ok, "docker {args:?}: {text}");
    text
}

fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf
}

/// The Docker package runs the released image instead of building one
/// (docker-compose.release-image.yml): same start order, the image's own entrypoint and
/// health check. The image is loaded from the release archive and named by APP_IMAGE.
#[test]
fn the_docker_package_runs_the_released_image() {
    if !require::docker() || !require::tool("docker-compose", "apt-get install docker-compose") {
        return;
    }
    let fx = Fixture::new();
    let (archive, meta) = release(&fx, &fx.out());
    let tag = meta["repo_tag"].as_str().unwrap().to_string();
    let project = format!("xtaskociimg{}", std::process::id());
    let loaded = docker_out(&["load", "-i", archive.to_str().unwrap()]);
    assert!(loaded.contains(&tag), "{loaded}");
    let image_id = docker_out(&["image", "inspect", "-f", "{{.Id}}", &tag]);

    // The Docker package of the same release, unpacked.
    let rel = archive.parent().unwrap();
    let pkg_archive = find_archive(rel, "-docker-x86_64.tar.zst");
    let x = tempfile::tempdir().unwrap();
    let pkg = extract(&pkg_archive, x.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let fixture =
        fs::read_to_string(repo().join("xtask/tests/fixtures/original-operator.env")).unwrap();
    let ours = [
        ("APP_IMAGE", tag.clone()),
        ("APP_BIND_IP", "127.0.0.1".to_string()),
        ("APP_PORT", port.to_string()),
        ("SKIP_MIGRATIONS", "1".to_string()),
        ("RUN_SEEDERS", "false".to_string()),
    ];
    let mut env: String = fixture
        .lines()
        .filter(|l| !ours.iter().any(|(k, _)| l.starts_with(&format!("{k}="))))
        .map(|l| format!("{l}\n"))
        .collect();
    for (k, v) in &ours {
        env.push_str(&format!("{k}={v}\n"));
    }
    fs::write(pkg.join(".env"), env).unwrap();
    ok(Command::new(pkg.join("helpers/validate-env.sh"))
        .args(["--env-file", ".env"])
        .current_dir(&pkg));
    // Test only: probe every second instead of every 30 s.
    fs::write(
        pkg.join("test-fast-health.yml"),
        "services:\n  orangescrum-app:\n    healthcheck:\n      interval: 1s\n      start_period: 0s\n",
    )
    .unwrap();
    let compose = |args: &[&str]| {
        let mut c = Command::new("docker-compose");
        c.args([
            "-p",
            &project,
            "-f",
            "docker-compose.yaml",
            "-f",
            "docker-compose.release-image.yml",
            "-f",
            "test-fast-health.yml",
        ])
        .args(args)
        .current_dir(&pkg);
        c
    };
    struct Down<F: Fn()>(F);
    impl<F: Fn()> Drop for Down<F> {
        fn drop(&mut self) {
            (self.0)()
        }
    }
    let _down = Down(|| {
        let _ = compose(&["down", "-v", "--remove-orphans"]).output();
    });
    ok(&mut compose(&["up", "-d", "--no-build"]));
    let app = String::from_utf8(ok(&mut compose(&["ps", "-q", "orangescrum-app"])).stdout)
        .unwrap()
        .trim()
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut status = String::new();
    while Instant::now() < deadline {
        status = docker_out(&["inspect", "-f", "{{.State.Health.Status}}", &app]);
        if status.trim() == "healthy" {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let logs = String::from_utf8_lossy(&compose(&["logs", "--no-color"]).output().unwrap().stdout)
        .into_owned();
    assert_eq!(status.trim(), "healthy", "{logs}");
    assert_eq!(
        docker_out(&["inspect", "-f", "{{.Image}}", &app]).trim(),
        image_id.trim(),
        "the app runs the released image, not a local build"
    );
    assert!(
        logs.contains("nothing to do"),
        "migrate ran first through the image's entrypoint:\n{logs}"
    );
    let body = http_get(&format!("127.0.0.1:{port}"), "/home/healthcheck");
    assert!(
        body.starts_with("HTTP/1.1 200") || body.starts_with("HTTP/1.0 200"),
        "{body}"
    );
}
