//! What a test needs from the machine (a tool, root, a running Docker engine) and what happens
//! when it is missing: on a developer's machine the test prints one loud `skipped:` line and
//! passes, so the README's test command works on a fresh clone; under `CI=true` it fails,
//! so CI never passes by skipping.

use std::{io::Write, process::Command};

/// True when running under CI (`CI=true`, as GitHub Actions and `.ci/run`'s runner set it).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Returns `present`; when it is false, skips loudly (or fails under CI) naming what is
/// missing and the command that installs it.
pub fn available(what: &str, present: bool, install: &str) -> bool {
    if present {
        return true;
    }
    let line = format!("{what} missing — install with {install}");
    if in_ci() {
        panic!("{line} (CI=true: tests never skip in CI; .ci/install-deps installs everything)");
    }
    // Written to the real stderr, not through eprintln!, which the test harness captures:
    // a skip has to be seen.
    let _ = writeln!(std::io::stderr(), "skipped: {line}");
    false
}

/// True when `name` runs (`name --version` exits 0), else skips or fails as above.
pub fn tool(name: &str, install: &str) -> bool {
    let runs = Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    available(name, runs, install)
}

/// True when the tests run as root (uid switching, `useradd`, installs into a prefix).
pub fn root() -> bool {
    // `id -u` keeps the tests free of a libc dependency.
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    available(
        "root",
        uid.as_deref() == Some("0"),
        "sudo -E cargo test --workspace (these tests switch users and install into a prefix)",
    )
}

/// True when a Docker engine answers `docker info`.
pub fn docker() -> bool {
    let up = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
        .is_ok_and(|o| o.status.success());
    available(
        "a running Docker engine",
        up,
        "apt-get install docker.io docker-compose, then start dockerd",
    )
}
