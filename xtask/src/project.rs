//! The context every task receives: repository root, loaded configuration, a shell for
//! subprocesses, and the facts derived from them (git revision, source date, the binary).

use std::{
    collections::BTreeMap,
    fmt, fs,
    io::Write,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
};

use anyhow::{bail, Context, Result};
use serde::Serialize;
use xshell::{cmd, Shell};

use crate::{
    config::{Config, CONFIG_FILE},
    elf, fsx, hash,
};

pub struct Project {
    pub root: PathBuf,
    pub cfg: Config,
    pub sh: Shell,
}

/// Where the binary should come from, as the user asked.
#[derive(Debug, Clone, Default)]
pub struct BinaryChoice {
    pub path: Option<PathBuf>,
    pub sample: bool,
}

impl Project {
    /// Loads `packaging/release.toml` below `root` with environment and `--set` overrides.
    pub fn load(root: Option<PathBuf>, sets: &[String]) -> Result<Project> {
        let root = match root {
            Some(r) => r,
            None => Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("xtask sits in the repo")
                .to_path_buf(),
        };
        let root = fs::canonicalize(&root)
            .with_context(|| format!("repository root {} not found", root.display()))?;
        let env: Vec<(String, String)> = std::env::vars().collect();
        let cfg = Config::load(&root.join(CONFIG_FILE), &env, sets)?;
        let sh = Shell::new().context("cannot start a shell context")?;
        sh.change_dir(&root);
        Ok(Project { root, cfg, sh })
    }

    /// The output root: `--out` when given, else `dist.dir` below the repository.
    pub fn out_root(&self, out: Option<&Path>) -> PathBuf {
        // Always the normalised absolute path: the one `prepare_out` checks is the one used.
        let raw = match out {
            Some(o) => o.to_path_buf(),
            None => self.root.join(&self.cfg.dist.dir),
        };
        fsx::absolute(&raw).unwrap_or(raw)
    }

    /// Checks the output root, creates it with its marker and takes the lock.
    pub fn prepare_out(&self, out: &Path) -> Result<fsx::Lock> {
        fsx::check_out_root(&self.root, out)?;
        fsx::init_out_root(out)?;
        fsx::Lock::acquire(out)
    }

    /// True when the root is itself the top of a git work tree (not a folder inside
    /// some other repository).
    fn is_git_root(&self) -> bool {
        let root = &self.root;
        cmd!(self.sh, "git -C {root} rev-parse --show-toplevel")
            .quiet()
            .ignore_stderr()
            .read()
            .ok()
            .and_then(|top| fs::canonicalize(top.trim()).ok())
            .is_some_and(|top| top == self.root)
    }

    /// `HEAD`'s commit id, with `-dirty` when the packaged sources (`common/`, `targets/`,
    /// `packaging/`, untracked files included) differ from it; `unknown` outside git.
    pub fn git_revision(&self) -> String {
        if !self.is_git_root() {
            return "unknown".into();
        }
        let root = &self.root;
        let Ok(rev) = cmd!(self.sh, "git -C {root} rev-parse HEAD")
            .quiet()
            .ignore_stderr()
            .read()
        else {
            return "unknown".into();
        };
        let dirty = cmd!(
            self.sh,
            "git -C {root} status --porcelain -- common targets packaging"
        )
        .quiet()
        .ignore_stderr()
        .read()
        .map(|s| !s.trim().is_empty())
        .unwrap_or(false);
        if dirty {
            format!("{rev}-dirty")
        } else {
            rev
        }
    }

    /// The timestamp stamped on every archive entry: `SOURCE_DATE_EPOCH` when set, else
    /// the commit time of `HEAD`.
    pub fn source_date_epoch(&self) -> Result<u64> {
        if let Some(v) = std::env::var_os("SOURCE_DATE_EPOCH") {
            let v = v.to_string_lossy();
            return parse_source_date_epoch(&v);
        }
        let root = &self.root;
        if self.is_git_root() {
            if let Ok(t) = cmd!(self.sh, "git -C {root} log -1 --format=%ct HEAD")
                .quiet()
                .ignore_stderr()
                .read()
            {
                if let Ok(t) = t.trim().parse() {
                    return Ok(t);
                }
            }
        }
        bail!(
            "cannot tell the source date: {} is not a git checkout with a commit. Set SOURCE_DATE_EPOCH (seconds since 1970), e.g. SOURCE_DATE_EPOCH=$(date +%s)",
            self.root.display()
        )
    }

    /// Finds, checks and hashes the application binary. `cache` holds a small index from
    /// file identity to its SHA-256, so an unchanged 340 MB binary is not re-read.
    pub fn resolve_binary(&self, choice: &BinaryChoice, cache: &Path) -> Result<BinaryInfo> {
        let (mut info, meta) = self.locate_binary(choice)?;
        info.sha256 = match known_sha256(cache, &meta) {
            Some(h) => h,
            None => {
                let h = hash::sha256_file(&info.path)?.0;
                remember_sha256(cache, &meta, &h)?;
                h
            }
        };
        Ok(info)
    }

    /// Finds and checks the binary (ELF, static, size) without reading all of it; the
    /// returned `sha256` is empty.
    pub fn locate_binary(&self, choice: &BinaryChoice) -> Result<(BinaryInfo, fs::Metadata)> {
        let (path, source) = if choice.sample {
            (self.build_sample()?, BinarySource::Sample)
        } else if let Some(p) = &choice.path {
            if !p.is_file() {
                bail!("--binary {}: no such file. Pass the path of the FrankenPHP binary (or use --sample for the stand-in)", p.display());
            }
            (
                fs::canonicalize(p).with_context(|| format!("cannot resolve {}", p.display()))?,
                BinarySource::External,
            )
        } else {
            let built = self.root.join(&self.cfg.binary.built_path);
            if !built.is_file() {
                bail!(
                    "no application binary: {} does not exist.\nEither\n  - build it: cargo xtask build\n  - pass one: --binary PATH\n  - or use the stand-in server for a demo: --sample",
                    built.display()
                );
            }
            (built, BinarySource::Built)
        };
        let info = elf::read(&path)?;
        if !info.is_static {
            bail!(
                "{} is dynamically linked (it has an ELF interpreter): the packages need a static binary that runs without the build machine's libraries",
                path.display()
            );
        }
        let meta =
            fs::metadata(&path).with_context(|| format!("cannot stat {}", path.display()))?;
        let min = self.cfg.binary.min_size_mb * 1024 * 1024;
        if source != BinarySource::Sample && meta.len() < min {
            bail!(
                "{} is {} bytes, below binary.min_size_mb = {} MB: a real FrankenPHP build with the embedded app is far larger. Rebuild it (cargo xtask build) or lower the limit (--set binary.min_size_mb=N)",
                path.display(),
                meta.len(),
                self.cfg.binary.min_size_mb
            );
        }
        Ok((
            BinaryInfo {
                path,
                size: meta.len(),
                sha256: String::new(),
                arch: info.arch,
                source,
            },
            meta,
        ))
    }

    /// Builds the stand-in server statically (`--sample`) and returns its path.
    pub fn build_sample(&self) -> Result<PathBuf> {
        eprintln!("building the sample stand-in server (static)...");
        build_static("orangescrum-sample", &[])
    }
}

/// Builds a workspace binary (package and binary of the same name) as a static executable
/// whose bytes do not depend on the checkout path; `envs` are compile-time settings read
/// with `option_env!`. Returns the executable's path. It has its own shell context, so any
/// thread may call it (`dist` builds the image entrypoint while it compresses).
pub fn build_static(name: &str, envs: &[(&str, &str)]) -> Result<PathBuf> {
    let sh = xshell::Shell::new().context("cannot start a shell context")?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // These binaries are part of the tooling, not of the packaged sources: build them
    // from the workspace this xtask was built from, also when --root points elsewhere.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask's workspace")?;
    let manifest = workspace.join("Cargo.toml");
    let remap = format!("--remap-path-prefix={}=.", workspace.display());
    let mut c = cmd!(
        sh,
        "{cargo} rustc --quiet --manifest-path {manifest} -p {name} --release --bin {name} --message-format=json-render-diagnostics -- -C target-feature=+crt-static {remap}"
    )
    .quiet();
    for (k, v) in envs {
        c = c.env(k, v);
    }
    let out = c
        .read()
        .with_context(|| format!("building {name} failed (see the compiler output above)"))?;
    for line in out.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if v["reason"] == "compiler-artifact" && v["target"]["name"] == name {
            if let Some(exe) = v["executable"].as_str() {
                return Ok(PathBuf::from(exe));
            }
        }
    }
    bail!("cargo built {name} but reported no executable")
}

/// Parses `SOURCE_DATE_EPOCH`: a whole, non-negative number of seconds.
pub fn parse_source_date_epoch(v: &str) -> Result<u64> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        bail!("SOURCE_DATE_EPOCH={v:?} is malformed: expected whole seconds since 1970, e.g. 1737072000 (or unset it to use the commit time)");
    }
    let t: u64 = v
        .parse()
        .with_context(|| format!("SOURCE_DATE_EPOCH={v:?} is out of range"))?;
    // The tar mtime field holds 11 octal digits.
    if t >= 8u64.pow(11) {
        bail!(
            "SOURCE_DATE_EPOCH={v} is out of range for tar (must be below {})",
            8u64.pow(11)
        );
    }
    Ok(t)
}

/// Identity of a file's current content as far as the kernel tracks it: a rebuild puts a
/// new file in place (another inode) or writes into it (mtime, usually size). ctime is
/// left out on purpose: `dist` hard-links the binary into its scratch packages, and each
/// link and unlink moves ctime, so with it every run would miss the index and hash the
/// binary again.
fn identity(meta: &fs::Metadata) -> String {
    format!(
        "{}:{}:{}:{}.{}",
        meta.dev(),
        meta.ino(),
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec(),
    )
}

/// True when `path` is still the file `before` describes (see [`identity`]).
pub fn unchanged(path: &Path, before: &fs::Metadata) -> Result<bool> {
    let now = fs::metadata(path).with_context(|| format!("cannot stat {}", path.display()))?;
    Ok(identity(&now) == identity(before))
}

const SHA_INDEX: &str = "binary-sha256.json";

fn read_index(dir: &Path) -> BTreeMap<String, String> {
    fs::read(dir.join(SHA_INDEX))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// The SHA-256 recorded for this exact file state, if any.
pub fn known_sha256(dir: &Path, meta: &fs::Metadata) -> Option<String> {
    read_index(dir).remove(&identity(meta))
}

/// Records the SHA-256 of this file state (keeps only the last few entries).
pub fn remember_sha256(dir: &Path, meta: &fs::Metadata, sha: &str) -> Result<()> {
    let mut index = read_index(dir);
    while index.len() >= 8 {
        let first = index.keys().next().cloned().expect("non-empty");
        index.remove(&first);
    }
    index.insert(identity(meta), sha.to_string());
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // A cache: a lost or cut index after a crash reads as empty, and the binary is hashed again.
    fsx::write_atomic_unsynced(&dir.join(SHA_INDEX), &serde_json::to_vec(&index)?, 0o644)
}

/// Where the binary came from, recorded in the manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BinarySource {
    /// `--binary PATH`.
    External,
    /// The location `cargo xtask build` writes to (`binary.built_path`).
    Built,
    /// The stand-in server built by `--sample`.
    Sample,
}

impl BinarySource {
    pub fn as_str(self) -> &'static str {
        match self {
            BinarySource::External => "external",
            BinarySource::Built => "built",
            BinarySource::Sample => "sample",
        }
    }
}

/// The application binary after it has been checked and hashed once.
#[derive(Debug, Clone)]
pub struct BinaryInfo {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
    pub arch: &'static str,
    pub source: BinarySource,
}

/// Prints a line to stderr (progress never goes to stdout, which `--json` owns).
pub fn note(msg: impl fmt::Display) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_leaves_the_binary_unchanged_a_rebuild_does_not() {
        let t = tempfile::tempdir().unwrap();
        let bin = t.path().join("bin");
        fs::write(&bin, b"one").unwrap();
        let before = fs::metadata(&bin).unwrap();
        // dist's own hard link (and its removal) moves ctime only.
        fs::hard_link(&bin, t.path().join("link")).unwrap();
        fs::remove_file(t.path().join("link")).unwrap();
        assert!(unchanged(&bin, &before).unwrap());
        // A rebuild that renames a new file into place is another inode.
        fs::write(t.path().join("new"), b"two").unwrap();
        fs::rename(t.path().join("new"), &bin).unwrap();
        assert!(!unchanged(&bin, &before).unwrap());
        // Writing into it moves mtime (set apart explicitly: a coarse clock may not).
        let before = fs::metadata(&bin).unwrap();
        fs::write(&bin, b"six").unwrap();
        let f = fs::File::options().write(true).open(&bin).unwrap();
        f.set_modified(std::time::SystemTime::UNIX_EPOCH).unwrap();
        assert!(!unchanged(&bin, &before).unwrap());
    }

    #[test]
    fn source_date_epoch_parsing() {
        assert_eq!(parse_source_date_epoch("1737072000").unwrap(), 1737072000);
        assert_eq!(parse_source_date_epoch("0").unwrap(), 0);
        for bad in ["", "abc", "-1", "1.5", " 1", "1e9", "99999999999999999999"] {
            let msg = format!("{:#}", parse_source_date_epoch(bad).unwrap_err());
            assert!(msg.contains("SOURCE_DATE_EPOCH"), "{bad}: {msg}");
        }
    }
}
