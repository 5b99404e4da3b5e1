//! End-to-end tests of `cargo xtask audit`: the real packages (from `package --sample` and
//! from `dist --sample`) pass clean; then, for each check, a copy of a real package with
//! exactly one planted defect fails with exactly that check, naming the file and line.
//!
//! The systemd checks need `systemd-analyze` (Debian: apt-get install systemd): without it
//! the audit only warns, which these tests treat as a failure (a skipped check is no check).

mod support;

use std::{
    fs,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    sync::OnceLock,
};

use serde_json::Value;
use support::*;

/// `<tmp>/<version>/` holding the real `docker/` and `native/` packages, built once.
fn packages() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = std::env::temp_dir().join(format!("xtask-audit-{}", std::process::id()));
        let _ = fs::remove_dir_all(&out);
        ok(xtask()
            .args(["package", "all", "--sample", "--out"])
            .arg(&out));
        out.join(config_version())
    })
}

/// True when `systemd-analyze` runs; else skips (or fails under CI=true).
fn systemd_analyze_present() -> bool {
    require::tool("systemd-analyze", "apt-get install systemd")
}

/// One audit run: exit code and (check, severity, file:line) of each finding.
struct Audit {
    code: i32,
    findings: Vec<(String, String, String)>,
    stdout: String,
}

impl Audit {
    fn checks(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.findings.iter().map(|f| f.0.as_str()).collect();
        v.sort();
        v.dedup();
        v
    }
}

fn audit(args: &[&str], path: &Path) -> Audit {
    let out = run(xtask().arg("audit").arg("--json").args(args).arg(path));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let v: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("audit --json printed no JSON ({e}): {stdout}"));
    let mut findings = Vec::new();
    for p in v["packages"].as_array().unwrap() {
        for f in p["findings"].as_array().unwrap() {
            let loc = match f["line"].as_u64() {
                Some(l) => format!("{}:{l}", f["file"].as_str().unwrap()),
                None => f["file"].as_str().unwrap().to_string(),
            };
            findings.push((
                f["check"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                loc,
            ));
        }
    }
    Audit {
        code: out.status.code().unwrap_or(-1),
        findings,
        stdout,
    }
}

/// A copy of the real `target` package with one defect planted by `plant`, audited.
fn planted(target: &str, plant: impl FnOnce(&Path)) -> Audit {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(target);
    copy_tree(&packages().join(target), &dir, false);
    plant(&dir);
    audit(&[], &dir)
}

/// Replaces the first `from` in `file` (which must contain it) by `to`.
fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let p = dir.join(file);
    let text = fs::read_to_string(&p).unwrap();
    assert!(text.contains(from), "{file} does not contain {from:?}");
    fs::write(&p, text.replacen(from, to, 1)).unwrap();
}

fn append(dir: &Path, file: &str, text: &str) {
    let p = dir.join(file);
    let mut t = fs::read_to_string(&p).unwrap_or_default();
    t.push_str(text);
    fs::write(p, t).unwrap();
}

/// A fixture: its name, how to plant the defect, the check that must fire and where.
type Case<'a> = (
    &'static str,
    Box<dyn FnOnce(&Path) + 'a>,
    &'static str,
    String,
);
/// The same, with the target package to start from.
type TargetCase<'a> = (
    &'static str,
    &'static str,
    Box<dyn FnOnce(&Path) + 'a>,
    &'static str,
    String,
);

/// 1-based line of the first line of the real package's `file` containing `needle`.
fn line_of(target: &str, file: &str, needle: &str) -> usize {
    let text = fs::read_to_string(packages().join(target).join(file)).unwrap();
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{file} has no line with {needle:?}"))
        + 1
}

fn lines(target: &str, file: &str) -> usize {
    fs::read_to_string(packages().join(target).join(file))
        .unwrap()
        .lines()
        .count()
}

/// Exactly `check` fired (as an error, exit status 1), at `location` among others.
fn assert_only(name: &str, a: &Audit, check: &str, location: &str) {
    assert_eq!(a.checks(), [check], "{name}: {}", a.stdout);
    assert_eq!(a.code, 1, "{name}: {}", a.stdout);
    assert!(
        a.findings.iter().any(|f| f.2 == location && f.1 == "error"),
        "{name}: no error at {location}: {:?}",
        a.findings
    );
}

#[test]
fn real_packages_pass_clean() {
    if !systemd_analyze_present() {
        return;
    }
    for target in ["docker", "native"] {
        let a = audit(&["--strict"], &packages().join(target));
        assert_eq!(a.findings, [], "{target}: {}", a.stdout);
        assert_eq!(a.code, 0, "{target}");
    }
    // The human report says so too.
    let out = ok(xtask().arg("audit").arg(packages().join("native")));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("audit passed: 0 error(s), 0 warning(s)"),
        "{text}"
    );
}

#[test]
fn real_release_passes_clean() {
    if !systemd_analyze_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    ok(xtask().args(["dist", "--sample", "--out"]).arg(tmp.path()));
    let release = tmp.path().join(config_version());
    let a = audit(&["--strict"], &release);
    assert_eq!(a.findings, [], "{}", a.stdout);
    assert_eq!(a.code, 0);
    let v: Value = serde_json::from_str(&a.stdout).unwrap();
    let names: Vec<&str> = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["package"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.iter().all(|n| n.ends_with(".tar.zst")), "{names:?}");
    assert_eq!(v["packages"][0]["target"], "docker");
    assert_eq!(v["packages"][1]["target"], "kubernetes");
    assert_eq!(v["packages"][2]["target"], "native");
    // One archive on its own.
    let archive = release.join(names[2]);
    let a = audit(&[], &archive);
    assert_eq!((a.code, a.findings.len()), (0, 0), "{}", a.stdout);
}

#[test]
fn dockerfile_defects() {
    let df = "Dockerfile";
    let arg = line_of("docker", df, "ARG BASE_IMAGE=");
    let cases: Vec<Case<'_>> = vec![
        (
            "unpinned base image",
            Box::new(|d| {
                edit(
                    d,
                    df,
                    "ARG BASE_IMAGE=alpine:3.20.3",
                    "ARG BASE_IMAGE=alpine",
                )
            }),
            "dockerfile-base-unpinned",
            format!("{df}:{arg}"),
        ),
        (
            ":latest base image",
            Box::new(|d| {
                edit(
                    d,
                    df,
                    "ARG BASE_IMAGE=alpine:3.20.3",
                    "ARG BASE_IMAGE=alpine:latest",
                )
            }),
            "dockerfile-base-unpinned",
            format!("{df}:{arg}"),
        ),
        (
            "root USER",
            Box::new(|d| edit(d, df, "USER 1000:1000", "USER root")),
            "dockerfile-root-user",
            format!("{df}:{}", line_of("docker", df, "USER 1000:1000")),
        ),
        (
            "shell-form CMD",
            Box::new(|d| edit(d, df, "CMD [\"php-server\"]", "CMD php-server")),
            "dockerfile-shell-form",
            format!("{df}:{}", line_of("docker", df, "CMD [\"php-server\"]")),
        ),
        (
            "ADD of a URL",
            Box::new(|d| {
                edit(
                    d,
                    df,
                    "WORKDIR /app\n",
                    "WORKDIR /app\nADD https://example.org/tool.tgz /app/\n",
                )
            }),
            "dockerfile-add-url",
            format!("{df}:{}", line_of("docker", df, "WORKDIR /app") + 1),
        ),
        (
            "no HEALTHCHECK",
            Box::new(|d| {
                let p = d.join(df);
                let text = fs::read_to_string(&p).unwrap();
                let kept: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.starts_with("HEALTHCHECK") && !l.contains("CMD [\"wget\""))
                    .collect();
                fs::write(&p, kept.join("\n") + "\n").unwrap();
            }),
            "dockerfile-no-healthcheck",
            format!("{df}:{}", line_of("docker", df, "FROM ")),
        ),
    ];
    for (name, plant, check, loc) in cases {
        assert_only(name, &planted("docker", plant), check, &loc);
    }
}

#[test]
fn compose_defects() {
    let dc = "docker-compose.yaml";
    let app = line_of("docker", dc, "  orangescrum-app:");
    let cases: Vec<Case<'_>> = vec![
        (
            "no CPU/memory limits",
            Box::new(|d| {
                let p = d.join(dc);
                let text = fs::read_to_string(&p).unwrap();
                let mut out = Vec::new();
                let mut in_limits = false;
                for l in text.lines() {
                    if l == "      limits:" {
                        in_limits = true;
                        continue;
                    }
                    if in_limits && l.starts_with("        ") {
                        continue;
                    }
                    in_limits = false;
                    if [
                        "  cpus:",
                        "  cpu_period:",
                        "  cpu_quota:",
                        "  mem_limit:",
                        "  mem_reservation:",
                    ]
                    .iter()
                    .any(|k| l.starts_with(k))
                    {
                        continue;
                    }
                    out.push(l);
                }
                fs::write(&p, out.join("\n") + "\n").unwrap();
            }),
            "compose-no-limits",
            // In each of the two limit anchors above it: cpu_period, cpu_quota and the
            // 2-line deploy.resources.limits block.
            format!("{dc}:{}", app - 8),
        ),
        (
            "no log rotation",
            Box::new(|d| {
                edit(
                    d,
                    dc,
                    "    options:\n      max-size: \"10m\"\n      max-file: \"3\"\n",
                    "",
                )
            }),
            "compose-no-log-rotation",
            format!("{dc}:{}", line_of("docker", dc, "  logging:")),
        ),
        (
            "no restart policy",
            Box::new(|d| edit(d, dc, "  restart: unless-stopped\n", "")),
            "compose-no-restart",
            format!("{dc}:{}", app - 1),
        ),
        (
            "container_name",
            Box::new(|d| {
                edit(
                    d,
                    dc,
                    "  orangescrum-app:\n",
                    "  orangescrum-app:\n    container_name: orangescrum\n",
                )
            }),
            "compose-container-name",
            format!("{dc}:{}", app + 1),
        ),
        (
            "$(...) in a value",
            Box::new(|d| {
                edit(
                    d,
                    dc,
                    "    command: [\"php-server\"]\n",
                    "    command: [\"php-server\"]\n    labels:\n      started: \"$(date)\"\n",
                )
            }),
            "compose-command-substitution",
            format!(
                "{dc}:{}",
                line_of("docker", dc, "command: [\"php-server\"]") + 2
            ),
        ),
        (
            "health check disabled on a service with a port",
            Box::new(|d| {
                let p = d.join(dc);
                let text = fs::read_to_string(&p).unwrap();
                let start = text.find("    healthcheck:\n      test:").unwrap();
                let end = start + text[start..].find("\n\n").unwrap();
                let new = format!(
                    "{}    healthcheck:\n      disable: true{}",
                    &text[..start],
                    &text[end..]
                );
                fs::write(&p, new).unwrap();
            }),
            "compose-no-healthcheck",
            // The web service's health check: the line above its test.
            format!(
                "{dc}:{}",
                line_of("docker", dc, "      test: [\"CMD\", \"wget\"") - 1
            ),
        ),
    ];
    for (name, plant, check, loc) in cases {
        assert_only(name, &planted("docker", plant), check, &loc);
    }
}

#[test]
fn systemd_defects() {
    if !systemd_analyze_present() {
        return;
    }
    let unit = "systemd/orangescrum.service";
    let exec = line_of("native", unit, "ExecStart=");
    let cases: Vec<Case<'_>> = vec![
        (
            "${X:-y} in ExecStart",
            Box::new(|d| {
                edit(
                    d,
                    unit,
                    "ExecStart=@@PREFIX@@/run-native.sh php-server",
                    "ExecStart=@@PREFIX@@/run-native.sh php-server ${APP_PORT:-8080}",
                )
            }),
            "systemd-shell-syntax",
            format!("{unit}:{exec}"),
        ),
        (
            "MemoryDenyWriteExecute",
            Box::new(|d| {
                edit(
                    d,
                    unit,
                    "NoNewPrivileges=yes\n",
                    "NoNewPrivileges=yes\nMemoryDenyWriteExecute=true\n",
                )
            }),
            "systemd-mdwe",
            format!(
                "{unit}:{}",
                line_of("native", unit, "NoNewPrivileges=yes") + 1
            ),
        ),
        (
            "weakened hardening",
            Box::new(|d| {
                let p = d.join(unit);
                let text = fs::read_to_string(&p).unwrap();
                let start = text.find("NoNewPrivileges=").unwrap();
                let end = text.find("ReadOnlyPaths=").unwrap();
                let end = end + text[end..].find('\n').unwrap() + 1;
                fs::write(&p, format!("{}{}", &text[..start], &text[end..])).unwrap();
            }),
            "systemd-exposure",
            format!("{unit}:{}", line_of("native", unit, "[Service]")),
        ),
        (
            "misspelled key",
            Box::new(|d| edit(d, unit, "ProtectHome=yes", "ProtectHme=yes")),
            "systemd-verify",
            format!("{unit}:{}", line_of("native", unit, "ProtectHome=yes")),
        ),
    ];
    for (name, plant, check, loc) in cases {
        assert_only(name, &planted("native", plant), check, &loc);
    }
}

#[test]
fn secret_defects() {
    let cases: Vec<TargetCase<'_>> = vec![
        (
            "AWS access key id",
            "docker",
            Box::new(|d| {
                append(
                    d,
                    "docs/TROUBLESHOOTING.md",
                    "aws_access_key_id = AKIAZ7Q2WXYV3KLMN4PQ\n",
                )
            }),
            "secret-aws-key",
            format!(
                "docs/TROUBLESHOOTING.md:{}",
                lines("docker", "docs/TROUBLESHOOTING.md") + 1
            ),
        ),
        (
            "GitHub token",
            "native",
            Box::new(|d| {
                append(
                    d,
                    "config/app_local.example.php",
                    "// deploy token: ghp_R4nd0mT0kenV4lueF0rTheAud1tTestX9yZq\n",
                )
            }),
            "secret-github-token",
            format!(
                "config/app_local.example.php:{}",
                lines("native", "config/app_local.example.php") + 1
            ),
        ),
        (
            "private key block",
            "docker",
            Box::new(|d| {
                fs::write(
                    d.join("docs/deploy-notes.txt"),
                    "notes\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
                )
                .unwrap()
            }),
            "secret-private-key",
            "docs/deploy-notes.txt:2".to_string(),
        ),
        (
            "JWT",
            "native",
            Box::new(|d| {
                append(
                    d,
                    "CONFIGS.md",
                    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvcmFuZ2VzY3J1bSJ9.kq0x3nN9vY2dTQf8uJ1rWb5sLzXhA7cE4gM6pR2tV0o\n",
                )
            }),
            "secret-jwt",
            format!("CONFIGS.md:{}", lines("native", "CONFIGS.md") + 1),
        ),
        (
            "a .env file",
            "docker",
            Box::new(|d| fs::write(d.join(".env"), "APP_PORT=8080\n").unwrap()),
            "secret-env-file",
            ".env".to_string(),
        ),
        (
            "high-entropy password",
            "native",
            Box::new(|d| {
                append(
                    d,
                    "config/smtp.example.php",
                    "// fallback: 'password' => 'Xk9vQ2mLp7ZrT4wN8bYc',\n",
                )
            }),
            "secret-high-entropy",
            format!(
                "config/smtp.example.php:{}",
                lines("native", "config/smtp.example.php") + 1
            ),
        ),
    ];
    for (name, target, plant, check, loc) in cases {
        assert_only(name, &planted(target, plant), check, &loc);
    }
}

#[test]
fn reference_and_environment_defects() {
    let df = "Dockerfile";
    let cases: Vec<TargetCase<'_>> = vec![
        (
            "missing COPY source",
            "docker",
            Box::new(|d| fs::remove_file(d.join("helpers/validate-env.sh")).unwrap()),
            "ref-missing",
            format!(
                "{df}:{}",
                line_of("docker", df, "COPY helpers/validate-env.sh")
            ),
        ),
        (
            "COPY source excluded by .dockerignore",
            "docker",
            Box::new(|d| edit(d, ".dockerignore", "!entrypoint.sh\n", "")),
            "ref-missing",
            format!("{df}:{}", line_of("docker", df, "COPY entrypoint.sh")),
        ),
        (
            "non-executable script",
            "docker",
            Box::new(|d| {
                fs::set_permissions(d.join("entrypoint.sh"), fs::Permissions::from_mode(0o644))
                    .unwrap()
            }),
            "ref-not-executable",
            "entrypoint.sh:1".to_string(),
        ),
        (
            "missing script run by a unit",
            "native",
            Box::new(|d| {
                edit(
                    d,
                    "systemd/orangescrum.service",
                    "ExecStartPre=@@PREFIX@@/helpers/validate-env.sh",
                    "ExecStartPre=@@PREFIX@@/helpers/check-env.sh",
                )
            }),
            "ref-missing",
            format!(
                "systemd/orangescrum.service:{}",
                line_of("native", "systemd/orangescrum.service", "ExecStartPre=")
            ),
        ),
        (
            ".env.example failing the validator",
            "native",
            Box::new(|d| edit(d, ".env.example", "\nDEBUG=false\n", "\nDEBUG=maybe\n")),
            "env-example-invalid",
            format!(
                ".env.example:{}",
                line_of("native", ".env.example", "DEBUG=false")
            ),
        ),
        (
            "undocumented variable in compose",
            "docker",
            Box::new(|d| {
                edit(
                    d,
                    "docker-compose.yaml",
                    "${APP_PORT:-8080}",
                    "${APP_PUBLIC_PORT:-8080}",
                )
            }),
            "env-undocumented",
            format!(
                "docker-compose.yaml:{}",
                line_of("docker", "docker-compose.yaml", "${APP_PORT:-8080}")
            ),
        ),
        (
            "undocumented variable in the run script",
            "native",
            Box::new(|d| {
                edit(
                    d,
                    "run-native.sh",
                    "${WORKER_MAX_RUNTIME:-1800}",
                    "${WORKER_MAX_RUNTIME_SECS:-1800}",
                )
            }),
            "env-undocumented",
            format!(
                "run-native.sh:{}",
                line_of("native", "run-native.sh", "${WORKER_MAX_RUNTIME:-1800}")
            ),
        ),
    ];
    for (name, target, plant, check, loc) in cases {
        assert_only(name, &planted(target, plant), check, &loc);
    }
}

#[test]
fn warnings_fail_only_with_strict() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("docker");
    copy_tree(&packages().join("docker"), &dir, false);
    edit(
        &dir,
        "docker-compose.services.yml",
        "    image: mailhog/mailhog:v1.0.1\n",
        "    image: mailhog/mailhog:v1.0.1\n    container_name: mailhog\n",
    );
    let a = audit(&[], &dir);
    assert_eq!(a.checks(), ["compose-container-name"], "{}", a.stdout);
    assert_eq!(a.findings[0].1, "warning");
    assert_eq!(a.code, 0, "warnings alone pass");
    assert_eq!(
        audit(&["--strict"], &dir).code,
        1,
        "--strict fails on warnings"
    );
    let out = run(xtask().arg("audit").arg(&dir));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("WARN  docker-compose.services.yml:")
            && text.contains("[compose-container-name]")
            && text.contains("fix: "),
        "{text}"
    );
}

#[test]
fn bad_inputs_are_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let err = fails(xtask().arg("audit").arg(tmp.path().join("nope")));
    assert!(err.contains("does not exist"), "{err}");
    let err = fails(xtask().arg("audit").arg(tmp.path()));
    assert!(err.contains("holds no package"), "{err}");
}
