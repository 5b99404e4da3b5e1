//! End-to-end tests of `cargo xtask package`: real files in temporary folders.

mod support;

use std::{fs, path::Path};

use support::*;

/// Snapshot of a tree: every path with its content hash and mode, to prove "touched nothing".
fn snapshot(dir: &Path) -> Vec<(String, u32, Vec<u8>)> {
    if !dir.exists() {
        return Vec::new();
    }
    listing(dir)
        .into_iter()
        .map(|(p, m)| {
            let full = dir.join(&p);
            let bytes = if full.is_file() {
                fs::read(&full).unwrap()
            } else {
                Vec::new()
            };
            (p, m, bytes)
        })
        .collect()
}

/// Every `@@NAME@@` token (NAME of A-Z, 0-9, _) in `text`.
fn placeholders_in(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("@@") {
        let after = &rest[i + 2..];
        let len = after
            .bytes()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
            .count();
        if len > 0 && after[len..].starts_with("@@") {
            out.push(&after[..len]);
            rest = &after[len + 2..];
        } else {
            rest = after;
        }
    }
    out
}

fn package_all(fx: &Fixture) -> std::path::PathBuf {
    ok(&mut fx.package_cmd("all", &fx.out(), sample_binary()));
    fx.out().join(config_version())
}

#[test]
fn sample_packages_have_the_expected_files_and_modes() {
    let tmp = tempfile::tempdir().unwrap();
    ok(xtask()
        .args(["package", "all", "--sample", "--out"])
        .arg(tmp.path()));
    let v = tmp.path().join(config_version());
    let docker = listing(&v.join("docker"));
    let native = listing(&v.join("native"));
    let has = |l: &[(String, u32)], p: &str, mode: u32| {
        assert!(
            l.iter().any(|(f, m)| f == p && *m == mode),
            "{p} with mode {mode:o} missing from {l:#?}"
        );
    };
    for (file, mode) in [
        ("Dockerfile", 0o644),
        ("docker-compose.yaml", 0o644),
        ("docker-compose.services.yml", 0o644),
        ("entrypoint.sh", 0o755),
        (".dockerignore", 0o644),
        ("orangescrum-app/osv4-prod", 0o755),
        (".env.example", 0o644),
        ("README.md", 0o644),
        ("CONFIGS.md", 0o644),
        ("build-manifest.json", 0o644),
        ("SHA256SUMS", 0o644),
        ("helpers/validate-env.sh", 0o755),
    ] {
        has(&docker, file, mode);
    }
    for (file, mode) in [
        ("bin/orangescrum", 0o755),
        ("run-native.sh", 0o755),
        ("systemd/orangescrum.service", 0o644),
        ("systemd/orangescrum-queue.service", 0o644),
        ("helpers/install.sh", 0o755),
        (".env.example", 0o644),
        ("README.md", 0o644),
        ("build-manifest.json", 0o644),
        ("SHA256SUMS", 0o644),
    ] {
        has(&native, file, mode);
    }
    assert!(
        docker.iter().any(|(f, _)| f.starts_with("config/"))
            && docker.iter().any(|(f, _)| f.starts_with("docs/"))
    );
    assert!(
        !docker.iter().any(|(f, _)| f.starts_with("bin/")),
        "native files stay out of docker"
    );
    assert!(!native
        .iter()
        .any(|(f, _)| f == "Dockerfile" || f.starts_with("orangescrum-app/")));
    for (pkg, files) in [("docker", &docker), ("native", &native)] {
        for (f, mode) in files.iter() {
            assert!(
                *mode == 0o755 || *mode == 0o644,
                "{pkg}/{f} has mode {mode:o}"
            );
            let bytes = fs::read(v.join(pkg).join(f)).unwrap();
            let exec = f.ends_with(".sh")
                || bytes.starts_with(b"#!")
                || f.starts_with("bin/")
                || f.starts_with("orangescrum-app/");
            assert_eq!(
                *mode == 0o755,
                exec,
                "{pkg}/{f}: scripts and binaries 0755, the rest 0644"
            );
            assert!(f.rsplit('/').next() != Some(".env"), "{pkg} ships a .env");
            if let Ok(text) = std::str::from_utf8(&bytes) {
                for token in placeholders_in(text) {
                    assert!(
                        ["PREFIX", "SERVICE_USER", "SERVICE_GROUP"].contains(&token),
                        "{pkg}/{f}: placeholder @@{token}@@ left after packaging"
                    );
                }
            }
        }
    }
    // The per-package SHA256SUMS is accepted by sha256sum -c.
    for pkg in ["docker", "native"] {
        let st = std::process::Command::new("sha256sum")
            .args(["-c", "--quiet", "SHA256SUMS"])
            .current_dir(v.join(pkg))
            .status()
            .unwrap();
        assert!(st.success(), "sha256sum -c in {pkg}");
    }
}

#[test]
fn binary_is_placed_renamed_and_recorded() {
    let fx = Fixture::new();
    let v = package_all(&fx);
    let original = fs::read(sample_binary()).unwrap();
    assert_eq!(
        fs::read(v.join("docker/orangescrum-app/osv4-prod")).unwrap(),
        original
    );
    assert_eq!(
        fs::read(v.join("native/bin/orangescrum")).unwrap(),
        original
    );

    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(v.join("native/build-manifest.json")).unwrap()).unwrap();
    assert_eq!(m["version"], config_version());
    assert_eq!(m["target"], "native");
    assert_eq!(m["frankenphp_version"], "1.12.1");
    assert_eq!(m["php_version"], "8.3");
    assert_eq!(m["binary"]["path"], "bin/orangescrum");
    assert_eq!(m["binary"]["size"], original.len() as u64);
    assert_eq!(m["binary"]["binary_source"], "external");
    assert_eq!(m["binary"]["arch"], std::env::consts::ARCH);
    let sha =
        String::from_utf8(ok(std::process::Command::new("sha256sum").arg(sample_binary())).stdout)
            .unwrap();
    assert_eq!(
        m["binary"]["sha256"],
        sha.split_whitespace().next().unwrap()
    );
    let rev = String::from_utf8(
        ok(std::process::Command::new("git")
            .arg("-C")
            .arg(&fx.root)
            .args(["rev-parse", "HEAD"]))
        .stdout,
    )
    .unwrap();
    assert_eq!(m["git_revision"], rev.trim());
}

#[test]
fn sample_is_recorded_as_sample() {
    let tmp = tempfile::tempdir().unwrap();
    ok(xtask()
        .args(["package", "docker", "--sample", "--out"])
        .arg(tmp.path()));
    let m: serde_json::Value = serde_json::from_slice(
        &fs::read(
            tmp.path()
                .join(config_version())
                .join("docker/build-manifest.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(m["binary"]["binary_source"], "sample");
    assert!(
        !tmp.path().join(config_version()).join("native").exists(),
        "only the asked target"
    );
}

#[test]
fn missing_binary_names_the_three_ways_out_and_touches_nothing() {
    let fx = Fixture::new();
    let before = snapshot(&fx.root);
    let err = fails(fx.xtask().args(["package", "all", "--out"]).arg(fx.out()));
    assert!(
        err.contains("cargo xtask build") && err.contains("--binary") && err.contains("--sample"),
        "{err}"
    );
    assert_eq!(snapshot(&fx.root), before);
    assert!(!fx.out().join(config_version()).exists());

    let err = fails(
        fx.xtask()
            .args([
                "package",
                "all",
                "--binary",
                "/nonexistent/osv4-prod",
                "--out",
            ])
            .arg(fx.out()),
    );
    assert!(err.contains("/nonexistent/osv4-prod"), "{err}");
}

#[test]
fn binary_checks_refuse_non_elf_dynamic_and_small() {
    let fx = Fixture::new();
    let script = fx.root.join("not-elf");
    fs::write(&script, "#!/bin/sh\n").unwrap();
    let err = fails(
        fx.xtask()
            .args(["package", "all", "--binary"])
            .arg(&script)
            .arg("--out")
            .arg(fx.out()),
    );
    assert!(err.contains("not-elf") && err.contains("ELF"), "{err}");
    // The test binary itself is dynamically linked.
    let me = std::env::current_exe().unwrap();
    let err = fails(
        fx.xtask()
            .args(["package", "all", "--binary"])
            .arg(&me)
            .arg("--out")
            .arg(fx.out()),
    );
    assert!(err.contains("dynamically linked"), "{err}");
    // The static sample is far below the real app's 50 MB floor.
    let err = fails(
        fx.xtask()
            .args(["package", "all", "--binary"])
            .arg(sample_binary())
            .arg("--out")
            .arg(fx.out()),
    );
    assert!(err.contains("min_size_mb"), "{err}");
    assert!(!fx.out().join(config_version()).exists());
}

#[test]
fn bad_config_names_file_line_and_key() {
    let fx = Fixture::new();
    let cfg = fx.root.join("packaging/release.toml");
    let text = fs::read_to_string(&cfg).unwrap();
    fs::write(
        &cfg,
        text.replacen("[release]\n", "[release]\nverison = \"v1\"\n", 1),
    )
    .unwrap();
    let line = fs::read_to_string(&cfg)
        .unwrap()
        .lines()
        .position(|l| l.starts_with("verison"))
        .unwrap()
        + 1;
    let err = fails(
        fx.xtask()
            .args(["package", "all", "--sample", "--out"])
            .arg(fx.out()),
    );
    assert!(err.contains("release.toml"), "{err}");
    assert!(err.contains(&format!("line {line}")), "{err}");
    assert!(err.contains("verison"), "{err}");
    assert!(!fx.out().exists(), "nothing written");

    fs::write(&cfg, "[release\nversion = 1\n").unwrap();
    let err = fails(fx.xtask().args(["package", "all", "--sample"]));
    assert!(
        err.contains("release.toml") && err.contains("line 1"),
        "{err}"
    );

    fs::write(&cfg, text).unwrap();
    let err = fails(
        fx.xtask()
            .env("XTASK_RELEASE_VERSION", "26.1")
            .args(["package", "all", "--sample"]),
    );
    assert!(err.contains("release.version"), "{err}");
}

#[test]
fn env_file_in_common_is_refused_and_previous_package_survives() {
    let fx = Fixture::new();
    let v = package_all(&fx);
    let before = snapshot(&fx.out());
    fs::write(
        fx.root.join("common/.env"),
        "DB_PASSWORD=hunter2hunter2hunter2\n",
    )
    .unwrap();
    let err = fails(&mut fx.package_cmd("all", &fx.out(), sample_binary()));
    assert!(err.contains("common/.env"), "{err}");
    assert_eq!(
        snapshot(&fx.out()),
        before,
        "the previous packages are intact"
    );
    assert!(v.join("docker/Dockerfile").exists());
    fs::remove_file(fx.root.join("common/.env")).unwrap();

    fs::write(fx.root.join("targets/native/deploy.pem"), "x").unwrap();
    let err = fails(&mut fx.package_cmd("native", &fx.out(), sample_binary()));
    assert!(err.contains("deploy.pem"), "{err}");
    assert_eq!(snapshot(&fx.out()), before);
}

#[test]
fn dangerous_out_folders_are_refused() {
    let fx = Fixture::new();
    let foreign = fx._tmp.path().join("foreign");
    fs::create_dir(&foreign).unwrap();
    fs::write(foreign.join("precious.txt"), "keep me").unwrap();
    let before_root = snapshot(&fx.root);
    for out in [
        Path::new("/").to_path_buf(),
        fx.root.clone(),
        fx.root.join("common"),
        fx.root.join("targets/docker"),
        foreign.clone(),
    ] {
        let err = fails(
            fx.xtask()
                .args(["package", "all", "--sample", "--out"])
                .arg(&out),
        );
        assert!(err.contains("refusing --out"), "{}: {err}", out.display());
    }
    assert_eq!(snapshot(&fx.root), before_root);
    assert_eq!(
        fs::read_to_string(foreign.join("precious.txt")).unwrap(),
        "keep me"
    );
    assert_eq!(fs::read_dir(&foreign).unwrap().count(), 1);
}

#[test]
fn rerun_replaces_only_its_own_package() {
    let fx = Fixture::new();
    let v = package_all(&fx);
    fs::write(v.join("docker/stale-file"), "x").unwrap();
    fs::write(fx.out().join("notes.txt"), "mine").unwrap();
    ok(&mut fx.package_cmd("docker", &fx.out(), sample_binary()));
    assert!(
        !v.join("docker/stale-file").exists(),
        "the package folder is rebuilt from scratch"
    );
    assert!(
        v.join("native/bin/orangescrum").exists(),
        "the other target is untouched"
    );
    assert_eq!(
        fs::read_to_string(fx.out().join("notes.txt")).unwrap(),
        "mine"
    );
    let leftovers: Vec<_> = fs::read_dir(&v)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        leftovers.iter().all(|n| !n.starts_with('.')),
        "no staging folders left: {leftovers:?}"
    );
}

#[test]
fn help_explains_every_flag() {
    let top = String::from_utf8(ok(xtask().arg("--help")).stdout).unwrap();
    for word in ["package", "dist", "verify", "--set", "--root", "XTASK_"] {
        assert!(top.contains(word), "--help lacks {word}:\n{top}");
    }
    let pkg = String::from_utf8(ok(xtask().args(["package", "--help"])).stdout).unwrap();
    for word in ["docker", "native", "all", "--binary", "--sample", "--out"] {
        assert!(pkg.contains(word), "package --help lacks {word}:\n{pkg}");
    }
    let dist = String::from_utf8(ok(xtask().args(["dist", "--help"])).stdout).unwrap();
    for word in [
        "--target",
        "--binary",
        "--sample",
        "--out",
        "--level",
        "--no-cache",
        "--json",
    ] {
        assert!(dist.contains(word), "dist --help lacks {word}:\n{dist}");
    }
}

#[test]
fn untracked_packaged_files_mark_the_revision_dirty() {
    let fx = Fixture::new();
    fs::write(fx.root.join("common/docs/UNTRACKED.md"), "not committed\n").unwrap();
    let v = package_all(&fx);
    assert!(v.join("docker/docs/UNTRACKED.md").exists());
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(v.join("docker/build-manifest.json")).unwrap()).unwrap();
    let rev = m["git_revision"].as_str().unwrap();
    assert!(
        rev.ends_with("-dirty"),
        "an untracked packaged file makes the tree dirty: {rev}"
    );
}
