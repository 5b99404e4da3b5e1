//! Shared helpers for the end-to-end tests: run the real `xtask` binary against throwaway
//! copies of the repository's packaging sources.

#![allow(dead_code)]

pub mod require;
pub mod services;

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::OnceLock,
};

/// The repository this test binary was built from.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn xtask() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
}

/// Runs a command and returns its output; prints stderr to help when a test fails.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("spawn");
    eprintln!("$ {cmd:?}\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

pub fn ok(cmd: &mut Command) -> Output {
    let out = run(cmd);
    assert!(out.status.success(), "command failed: {cmd:?}");
    out
}

/// Runs `cmd`, expects failure, returns stderr.
pub fn fails(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        !out.status.success(),
        "command unexpectedly succeeded: {cmd:?}"
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The static stand-in binary, built once per test process through `package --sample`
/// (the real code path) and copied out of the package.
pub fn sample_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("xtask-sample-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        ok(xtask()
            .args(["package", "native", "--sample", "--out"])
            .arg(dir.join("out")));
        let version = config_version();
        let bin = dir.join("orangescrum-sample");
        fs::copy(
            dir.join("out").join(version).join("native/bin/orangescrum"),
            &bin,
        )
        .unwrap();
        bin
    })
}

pub fn config_version() -> String {
    let text = fs::read_to_string(repo().join("packaging/release.toml")).unwrap();
    let line = text.lines().find(|l| l.starts_with("version = ")).unwrap();
    line.split('"').nth(1).unwrap().to_string()
}

/// A throwaway copy of the packaging sources (`packaging/`, `common/`, `targets/`) in its
/// own git repository with a fixed commit, so two fixtures have the same revision.
pub struct Fixture {
    pub _tmp: tempfile::TempDir,
    pub root: PathBuf,
}

pub const SOURCE_DIRS: [&str; 3] = ["packaging", "common", "targets"];

impl Fixture {
    pub fn new() -> Fixture {
        Fixture::with(|src, dst| copy_tree(src, dst, false))
    }

    /// `copy` gets (source dir, destination dir) for each source folder.
    pub fn with(copy: impl Fn(&Path, &Path)) -> Fixture {
        Fixture::in_dir(&std::env::temp_dir(), copy)
    }

    /// A plain copy, then `edit` on the fixture's root before the commit.
    pub fn with_files(edit: impl FnOnce(&Path)) -> Fixture {
        Fixture::build(&std::env::temp_dir(), |s, d| copy_tree(s, d, false), edit)
    }

    /// Like [`Fixture::with`], with the fixture's temporary folder created inside `base`.
    pub fn in_dir(base: &Path, copy: impl Fn(&Path, &Path)) -> Fixture {
        Fixture::build(base, copy, |_| {})
    }

    fn build(base: &Path, copy: impl Fn(&Path, &Path), edit: impl FnOnce(&Path)) -> Fixture {
        let tmp = tempfile::tempdir_in(base).unwrap();
        let root = tmp.path().join("repo");
        fs::create_dir(&root).unwrap();
        for d in SOURCE_DIRS {
            copy(&repo().join(d), &root.join(d));
        }
        edit(&root);
        let fx = Fixture { _tmp: tmp, root };
        fx.git(&["init", "-q"]);
        fx.git(&["add", "-A"]);
        fx.git(&["commit", "-q", "-m", "fixture"]);
        fx
    }

    pub fn git(&self, args: &[&str]) {
        let st = Command::new("git")
            .arg("-C")
            .arg(&self.root)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("GIT_AUTHOR_DATE", "1737072000 +0000")
            .env("GIT_COMMITTER_DATE", "1737072000 +0000")
            .status()
            .unwrap();
        assert!(st.success(), "git {args:?}");
    }

    /// `xtask --root <fixture>` with the output root and settings every test wants.
    pub fn xtask(&self) -> Command {
        let mut c = xtask();
        c.arg("--root")
            .arg(&self.root)
            .env_remove("SOURCE_DATE_EPOCH");
        for (k, _) in std::env::vars() {
            if k.starts_with("XTASK_") {
                c.env_remove(k);
            }
        }
        c
    }

    pub fn out(&self) -> PathBuf {
        self._tmp.path().join("out")
    }

    /// `xtask --set binary.min_size_mb=0 <task...> --binary BINARY --out OUT`: a task
    /// run with a small stand-in binary passed as an external one.
    pub fn task_cmd(&self, task: &[&str], out: &Path, binary: &Path) -> Command {
        let mut c = self.xtask();
        c.args(["--set", "binary.min_size_mb=0"])
            .args(task)
            .arg("--binary")
            .arg(binary)
            .arg("--out")
            .arg(out);
        c
    }

    /// Runs `dist` with `binary` passed as `--binary` (no size floor) into `out`.
    pub fn dist_cmd(&self, out: &Path, binary: &Path) -> Command {
        self.task_cmd(&["dist"], out, binary)
    }

    /// Runs `package <target>` with `binary` passed as `--binary` into `out`.
    pub fn package_cmd(&self, target: &str, out: &Path, binary: &Path) -> Command {
        self.task_cmd(&["package", target], out, binary)
    }
}

/// Recursively copies `src` to `dst`; `reverse` creates entries in reverse name order.
pub fn copy_tree(src: &Path, dst: &Path, reverse: bool) {
    fs::create_dir_all(dst).unwrap();
    let mut entries: Vec<_> = fs::read_dir(src).unwrap().map(|e| e.unwrap()).collect();
    entries.sort_by_key(|e| e.file_name());
    if reverse {
        entries.reverse();
    }
    for e in entries {
        let to = dst.join(e.file_name());
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            copy_tree(&e.path(), &to, reverse);
        } else if ft.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(e.path()).unwrap(), &to).unwrap();
        } else {
            fs::copy(e.path(), &to).unwrap();
        }
    }
}

/// Every file below `dir` with its mode, as sorted `(relative path, mode)`.
pub fn listing(dir: &Path) -> Vec<(String, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    for e in walk(dir) {
        let m = fs::symlink_metadata(&e).unwrap();
        if m.is_dir() {
            continue;
        }
        let rel = e.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
        out.push((rel, m.permissions().mode() & 0o7777));
    }
    out.sort();
    out
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if fs::symlink_metadata(&p).unwrap().is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

/// The bytes of every file in the release folder (archives, sums, manifest).
pub fn release_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The archive in `dir` whose name ends with `suffix` (e.g. `docker-x86_64.tar.zst`).
pub fn find_archive(dir: &Path, suffix: &str) -> PathBuf {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(suffix))
        .unwrap_or_else(|| panic!("no *{suffix} in {}", dir.display()))
}

/// Extracts a `.tar.zst` archive into `into` with GNU tar and returns its one top folder.
pub fn extract(archive: &Path, into: &Path) -> PathBuf {
    fs::create_dir_all(into).unwrap();
    ok(Command::new("tar")
        .arg("--zstd")
        .arg("-xf")
        .arg(archive)
        .arg("-C")
        .arg(into));
    let tops: Vec<PathBuf> = fs::read_dir(into)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        tops.len(),
        1,
        "one top folder in {}: {tops:?}",
        archive.display()
    );
    tops[0].clone()
}

/// True when the account database knows this user (`getent passwd`).
pub fn user_exists(name: &str) -> bool {
    getent("passwd", name)
}

/// True when the group database knows this group (`getent group`).
pub fn group_exists(name: &str) -> bool {
    getent("group", name)
}

fn getent(db: &str, name: &str) -> bool {
    Command::new("getent")
        .args([db, name])
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap()
        .success()
}
