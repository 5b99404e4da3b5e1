//! `cargo xtask audit`: checks an assembled package (or every package of a release folder)
//! for production readiness and explains each finding with its `file:line` and a fix.
//!
//! Check families, one module each; every check is a pure function over the package's
//! files ([`Package`]), except the two `systemd-analyze` runs in [`systemd::analyze`]:
//!
//! | module | check ids |
//! | --- | --- |
//! | [`refs`] | `package-incomplete`, `ref-missing`, `ref-not-executable` |
//! | [`env`](mod@env) | `env-undocumented`, `env-example-invalid` |
//! | [`dockerfile`] | `dockerfile-parse`, `dockerfile-base-unpinned`, `dockerfile-root-user`, `dockerfile-shell-form`, `dockerfile-add-url`, `dockerfile-no-healthcheck` |
//! | [`compose`] | `compose-parse`, `compose-no-healthcheck`, `compose-no-limits`, `compose-no-log-rotation`, `compose-no-restart`, `compose-container-name`, `compose-command-substitution`, `compose-image-unpinned`, `compose-cpus-host-bound`, `compose-no-init`, `compose-no-pids-limit` |
//! | [`systemd`] | `systemd-shell-syntax`, `systemd-mdwe`, `systemd-verify`, `systemd-exposure`, `systemd-analyze-missing` |
//! | [`kubernetes`] | `k8s-parse`, `k8s-image-unpinned`, `k8s-no-probes`, `k8s-no-resources`, `k8s-root`, `k8s-secret-in-configmap`, `k8s-host-path` |
//! | [`secrets`] | `secret-private-key`, `secret-aws-key`, `secret-github-token`, `secret-gitlab-token`, `secret-slack`, `secret-stripe`, `secret-jwt`, `secret-url-credentials`, `secret-high-entropy`, `secret-env-file`, `secret-forbidden-file`, `secret-unscanned` |

mod compose;
mod dockerfile;
mod env;
pub mod kubernetes;
mod refs;
mod secrets;
mod shell;
mod systemd;
mod yaml;

use std::{
    collections::BTreeMap,
    fmt,
    fs::{self, File},
    io::{BufReader, Read, Write},
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::{
    manifest::{self, BuildManifest, BUILD_MANIFEST},
    target::Target,
};

#[derive(clap::Args)]
pub struct AuditArgs {
    /// An assembled package folder (dist/<version>/<target>/), a release folder
    /// (dist/<version>/: every .tar.zst archive in it is extracted and audited) or one archive.
    pub path: PathBuf,
    /// Print the findings as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Fail on warnings too (exit status 1).
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in a package.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditFinding {
    /// Stable id of the check (see the module documentation), e.g. `dockerfile-root-user`.
    pub check: &'static str,
    pub severity: Severity,
    /// The audited package: its folder, or `<archive>` for a release archive.
    pub package: String,
    /// Path of the file inside the package, `/`-separated.
    pub file: String,
    /// 1-based line, when the finding is about one line.
    pub line: Option<usize>,
    pub message: String,
    pub fix: String,
}

impl AuditFinding {
    pub fn error(
        check: &'static str,
        file: &str,
        line: Option<usize>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> AuditFinding {
        AuditFinding {
            check,
            severity: Severity::Error,
            package: String::new(),
            file: file.to_string(),
            line,
            message: message.into(),
            fix: fix.into(),
        }
    }

    pub fn warning(
        check: &'static str,
        file: &str,
        line: Option<usize>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> AuditFinding {
        AuditFinding {
            severity: Severity::Warning,
            ..AuditFinding::error(check, file, line, message, fix)
        }
    }

    /// `file:line` (or just `file`).
    pub fn location(&self) -> String {
        match self.line {
            Some(l) => format!("{}:{l}", self.file),
            None => self.file.clone(),
        }
    }
}

impl fmt::Display for AuditFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "ERROR",
            Severity::Warning => "WARN ",
        };
        write!(
            f,
            "{sev} {} [{}] {}\n      fix: {}",
            self.location(),
            self.check,
            self.message,
            self.fix
        )
    }
}

/// True when any finding is an error.
pub fn has_errors(findings: &[AuditFinding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

/// What is in a package file, as far as the checks care.
#[derive(Debug, Clone, PartialEq)]
pub enum FileKind {
    /// Any file that is not an ELF binary (lossily decoded when not UTF-8).
    Text(String),
    /// An ELF binary (the application): never read beyond its magic number.
    Elf,
    /// A file too large to scan.
    Large(u64),
    /// A symbolic link with its target.
    Symlink(String),
    /// A file `dist` writes only once it has hashed the binary (`build-manifest.json`,
    /// `SHA256SUMS`): it will be in the package, made from typed data by code with its own
    /// tests, and is not read here.
    Generated,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PkgFile {
    /// Permission bits (e.g. 0o755).
    pub mode: u32,
    pub kind: FileKind,
}

/// An assembled package in memory: every file below its root with its mode and contents.
#[derive(Debug, Clone)]
pub struct Package {
    pub target: Option<Target>,
    pub files: BTreeMap<String, PkgFile>,
}

/// Text files above this size are not read (the application binary is skipped by its ELF
/// magic, not by size).
const MAX_TEXT: u64 = 16 * 1024 * 1024;

impl Package {
    /// Reads the package below `root`.
    pub fn load(root: &Path) -> Result<Package> {
        let mut files = BTreeMap::new();
        for entry in walkdir::WalkDir::new(root).sort_by_file_name().min_depth(1) {
            let entry = entry.with_context(|| format!("cannot read {}", root.display()))?;
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .expect("walkdir stays below its root")
                .to_string_lossy()
                .replace(std::path::MAIN_SEPARATOR, "/");
            let meta = fs::symlink_metadata(path)
                .with_context(|| format!("cannot stat {}", path.display()))?;
            let mode = meta.permissions().mode() & 0o7777;
            let kind = if meta.is_dir() {
                continue;
            } else if meta.file_type().is_symlink() {
                let to = fs::read_link(path)
                    .with_context(|| format!("cannot read link {}", path.display()))?;
                FileKind::Symlink(to.to_string_lossy().into_owned())
            } else if !meta.is_file() {
                continue;
            } else {
                let mut f =
                    File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
                let mut magic = [0u8; 4];
                let n = f
                    .read(&mut magic)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                if n == 4 && magic == *b"\x7fELF" {
                    FileKind::Elf
                } else if meta.len() > MAX_TEXT {
                    FileKind::Large(meta.len())
                } else {
                    let mut bytes = magic[..n].to_vec();
                    f.read_to_end(&mut bytes)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    FileKind::Text(String::from_utf8_lossy(&bytes).into_owned())
                }
            };
            files.insert(rel, PkgFile { mode, kind });
        }
        let mut pkg = Package {
            target: None,
            files,
        };
        pkg.target = pkg.detect_target();
        Ok(pkg)
    }

    /// The target named by `build-manifest.json`, else guessed from the files present.
    fn detect_target(&self) -> Option<Target> {
        let from_manifest = self
            .text(BUILD_MANIFEST)
            .and_then(|t| manifest::parse::<BuildManifest>(t.as_bytes(), BUILD_MANIFEST).ok())
            .map(|m| m.target);
        from_manifest.or_else(|| {
            if self.files.contains_key("Dockerfile") {
                Some(Target::Docker)
            } else if self.files.keys().any(|f| f.starts_with("systemd/"))
                || self.files.contains_key("run-native.sh")
            {
                Some(Target::Native)
            } else if self.files.contains_key("kustomization.yaml") {
                Some(Target::Kubernetes)
            } else {
                None
            }
        })
    }

    /// A package made of text files, for tests.
    #[cfg(test)]
    pub fn from_texts(target: Option<Target>, files: &[(&str, u32, &str)]) -> Package {
        Package {
            target,
            files: files
                .iter()
                .map(|(p, m, t)| {
                    (
                        p.to_string(),
                        PkgFile {
                            mode: *m,
                            kind: FileKind::Text(t.to_string()),
                        },
                    )
                })
                .collect(),
        }
    }

    pub fn text(&self, rel: &str) -> Option<&str> {
        match &self.resolve(rel)?.kind {
            FileKind::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The file at `rel`, following symbolic links inside the package.
    pub fn resolve(&self, rel: &str) -> Option<&PkgFile> {
        let mut rel = rel.to_string();
        for _ in 0..8 {
            let f = self.files.get(&rel)?;
            match &f.kind {
                FileKind::Symlink(to) => rel = crate::fsx::resolve_link(&rel, to)?,
                _ => return Some(f),
            }
        }
        None
    }

    pub fn is_file(&self, rel: &str) -> bool {
        self.resolve(rel).is_some()
    }

    /// True when some file lies below `rel/` (the package root is `""` or `.`).
    pub fn is_dir(&self, rel: &str) -> bool {
        let rel = rel.trim_end_matches('/');
        if rel.is_empty() || rel == "." {
            return !self.files.is_empty();
        }
        let prefix = format!("{rel}/");
        self.files.keys().any(|k| k.starts_with(&prefix))
    }

    /// Files whose path matches a glob (`*`, `?`, `[...]`; `*` stays within one folder).
    pub fn glob(&self, pattern: &str) -> Vec<&str> {
        self.files
            .keys()
            .filter(|k| glob_match(pattern, k))
            .map(String::as_str)
            .collect()
    }

    /// Every readable text file: (path, text).
    pub fn texts(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files.iter().filter_map(|(p, f)| match &f.kind {
            FileKind::Text(t) => Some((p.as_str(), t.as_str())),
            _ => None,
        })
    }

    /// Top-level folders of the package.
    pub fn top_dirs(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .files
            .keys()
            .filter_map(|k| k.split_once('/').map(|(d, _)| d))
            .collect();
        v.dedup();
        v
    }
}

/// Shell-style glob match of a whole `/`-separated path: `*` and `?` never match `/`.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    fn go(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('*') => (0..=s.len())
                .take_while(|&i| i == 0 || s[i - 1] != '/')
                .any(|i| go(&p[1..], &s[i..])),
            Some('?') => s.first().is_some_and(|&c| c != '/') && go(&p[1..], &s[1..]),
            Some('[') => {
                let Some(end) = p.iter().skip(1).position(|&c| c == ']').map(|e| e + 1) else {
                    return s.first() == Some(&'[') && go(&p[1..], &s[1..]);
                };
                let Some(&c) = s.first() else { return false };
                let set = &p[1..end];
                let (neg, set) = match set.first() {
                    Some('!') | Some('^') => (true, &set[1..]),
                    _ => (false, set),
                };
                let mut hit = false;
                let mut i = 0;
                while i < set.len() {
                    if i + 2 < set.len() && set[i + 1] == '-' {
                        hit |= set[i] <= c && c <= set[i + 2];
                        i += 3;
                    } else {
                        hit |= set[i] == c;
                        i += 1;
                    }
                }
                hit != neg && c != '/' && go(&p[end + 1..], &s[1..])
            }
            Some('\\') if p.len() > 1 => s.first() == Some(&p[1]) && go(&p[2..], &s[1..]),
            Some(&c) => s.first() == Some(&c) && go(&p[1..], &s[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = path.chars().collect();
    go(&p, &s)
}

pub use crate::fsx::join_rel;

/// Runs every static check on `pkg` (no subprocess).
pub fn check_package(pkg: &Package) -> Vec<AuditFinding> {
    let mut out = Vec::new();
    out.extend(refs::check(pkg));
    out.extend(env::check(pkg));
    out.extend(dockerfile::check(pkg));
    out.extend(compose::check(pkg));
    out.extend(systemd::check(pkg));
    out.extend(kubernetes::check(pkg));
    out.extend(secrets::check(pkg));
    out
}

/// Audits the package folder `dir`: every static check plus `systemd-analyze` on its units.
/// Findings are sorted by file, line and check; `package` is `dir` as given.
pub fn audit_dir(dir: &Path) -> Result<Vec<AuditFinding>> {
    let pkg =
        Package::load(dir).with_context(|| format!("reading the package {}", dir.display()))?;
    audit_package(dir, &pkg)
}

/// [`audit_dir`] for a `target` package whose `generated` files are not written yet
/// ([`FileKind::Generated`]): `dist` audits while it compresses the binary, whose hash
/// those files hold.
pub fn audit_dir_before(
    dir: &Path,
    target: Target,
    generated: &[&str],
) -> Result<Vec<AuditFinding>> {
    let mut pkg =
        Package::load(dir).with_context(|| format!("reading the package {}", dir.display()))?;
    for name in generated {
        if pkg.files.contains_key(*name) {
            bail!("{} already holds {name}", dir.display());
        }
        pkg.files.insert(
            name.to_string(),
            PkgFile {
                mode: 0o644,
                kind: FileKind::Generated,
            },
        );
    }
    pkg.target = Some(target);
    audit_package(dir, &pkg)
}

fn audit_package(dir: &Path, pkg: &Package) -> Result<Vec<AuditFinding>> {
    let mut findings = check_package(pkg);
    findings.extend(
        systemd::analyze(pkg, dir)
            .with_context(|| format!("running systemd-analyze on {}", dir.display()))?,
    );
    Ok(tidy(dir, findings))
}

/// Labels findings with the package `dir`, sorts them by file, line and check, and drops
/// repeats.
fn tidy(dir: &Path, mut findings: Vec<AuditFinding>) -> Vec<AuditFinding> {
    let label = dir.display().to_string();
    for f in &mut findings {
        f.package = label.clone();
    }
    findings.sort_by(|a, b| {
        (&a.file, a.line, a.check, &a.message).cmp(&(&b.file, b.line, b.check, &b.message))
    });
    findings.dedup();
    findings
}

/// One audited package, for the report.
#[derive(Serialize)]
struct Audited {
    package: String,
    target: Option<Target>,
    findings: Vec<AuditFinding>,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    ok: bool,
    errors: usize,
    warnings: usize,
    packages: &'a [Audited],
}

/// A package folder has its build manifest (or, when that was lost, the files of one);
/// a release folder has `dist-manifest.json` or archives instead.
fn looks_like_package(dir: &Path) -> bool {
    [BUILD_MANIFEST, "Dockerfile", ".env.example", "systemd"]
        .iter()
        .any(|n| dir.join(n).exists())
}

/// Extracts `archive` below `into` and returns its single top-level folder.
fn extract(archive: &Path, into: &Path) -> Result<PathBuf> {
    let file = File::open(archive).with_context(|| format!("cannot open {}", archive.display()))?;
    let decoder = zstd::stream::read::Decoder::new(BufReader::new(file))
        .with_context(|| format!("{} is not a zstd stream", archive.display()))?;
    let mut ar = tar::Archive::new(decoder);
    // `unpack` refuses entries that would land outside `into`; modes are kept exactly
    // (the executable bits are part of what is audited).
    ar.unpack(into)
        .with_context(|| format!("cannot extract {}", archive.display()))?;
    let tops: Vec<PathBuf> = fs::read_dir(into)
        .with_context(|| format!("cannot read {}", into.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("cannot read {}", into.display()))?;
    match tops.as_slice() {
        [one] if one.is_dir() => Ok(one.clone()),
        _ => bail!(
            "{} does not hold exactly one top-level folder",
            archive.display()
        ),
    }
}

fn audit_archive(archive: &Path) -> Result<Audited> {
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    crate::project::note(format!("audit: extracting {name}"));
    let tmp = tempfile::tempdir().context("cannot create a temporary folder")?;
    let top = extract(archive, tmp.path())?;
    let target = Package::load(&top)?.target;
    let mut findings = audit_dir(&top)?;
    for f in &mut findings {
        f.package = name.clone();
    }
    Ok(Audited {
        package: name,
        target,
        findings,
    })
}

fn audit_folder(dir: &Path) -> Result<Audited> {
    let target = Package::load(dir)?.target;
    let findings = audit_dir(dir)?;
    Ok(Audited {
        package: dir.display().to_string(),
        target,
        findings,
    })
}

/// What to audit: a package folder, an archive, or each archive and package folder of a
/// release folder.
fn audit_path(path: &Path) -> Result<Vec<Audited>> {
    if path.is_file() {
        if path.to_string_lossy().ends_with(".tar.zst") {
            return Ok(vec![audit_archive(path)?]);
        }
        bail!(
            "{} is a file but not a .tar.zst archive: pass a package folder, a release folder or an archive",
            path.display()
        );
    }
    if !path.is_dir() {
        bail!("{} does not exist", path.display());
    }
    if looks_like_package(path) {
        return Ok(vec![audit_folder(path)?]);
    }
    let mut entries: Vec<PathBuf> = fs::read_dir(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("cannot read {}", path.display()))?;
    entries.sort();
    let mut out = Vec::new();
    for e in &entries {
        if e.is_file() && e.to_string_lossy().ends_with(".tar.zst") {
            out.push(audit_archive(e)?);
        }
    }
    // Unpacked package folders beside the archives (`cargo xtask package` output).
    for e in &entries {
        let hidden = e
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if e.is_dir() && !hidden && looks_like_package(e) {
            out.push(audit_folder(e)?);
        }
    }
    if out.is_empty() {
        bail!(
            "{} holds no package: pass a package folder (with {BUILD_MANIFEST}), a release folder with .tar.zst archives, or one archive",
            path.display()
        );
    }
    Ok(out)
}

pub fn run(args: &AuditArgs) -> Result<ExitCode> {
    let audited = audit_path(&args.path)?;
    let all: Vec<&AuditFinding> = audited.iter().flat_map(|a| &a.findings).collect();
    let errors = all.iter().filter(|f| f.severity == Severity::Error).count();
    let warnings = all.len() - errors;
    let failed = audited.iter().any(|a| has_errors(&a.findings)) || (args.strict && warnings > 0);
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let report = JsonReport {
            ok: !failed,
            errors,
            warnings,
            packages: &audited,
        };
        let mut json = serde_json::to_vec_pretty(&report).context("serialising the findings")?;
        json.push(b'\n');
        stdout.write_all(&json).context("writing to stdout")?;
    } else {
        for a in &audited {
            let target = a.target.map(|t| t.name()).unwrap_or("unknown target");
            let e = a
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count();
            writeln!(
                stdout,
                "audit {} ({target}): {e} error(s), {} warning(s)",
                a.package,
                a.findings.len() - e
            )
            .context("writing to stdout")?;
            for f in &a.findings {
                writeln!(stdout, "  {}", f.to_string().replace('\n', "\n  "))
                    .context("writing to stdout")?;
            }
        }
        writeln!(
            stdout,
            "audit {}: {errors} error(s), {warnings} warning(s) in {} package(s){}",
            if failed { "FAILED" } else { "passed" },
            audited.len(),
            if args.strict { " (--strict)" } else { "" }
        )
        .context("writing to stdout")?;
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("systemd/*.service", "systemd/a.service"));
        assert!(!glob_match("*.service", "systemd/a.service"));
        assert!(glob_match("helpers/?.sh", "helpers/a.sh"));
        assert!(glob_match("a[0-9].txt", "a5.txt"));
        assert!(!glob_match("a[!0-9].txt", "a5.txt"));
        assert!(glob_match("*", "Dockerfile"));
    }

    #[test]
    fn relative_joins() {
        assert_eq!(join_rel("", "./a/../b"), Some("b".into()));
        assert_eq!(join_rel("x/y", "../z"), Some("x/z".into()));
        assert_eq!(join_rel("", "../z"), None);
    }

    #[test]
    fn an_audit_before_the_hash_files_counts_them_in_and_takes_the_target() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        std::fs::write(
            dir.join("Dockerfile"),
            "FROM scratch\nCOPY build-manifest.json /app/\n",
        )
        .unwrap();
        let refs_manifest = |fs: &[AuditFinding]| {
            fs.iter()
                .any(|f| f.check == "ref-missing" && f.message.contains(BUILD_MANIFEST))
        };
        // Without it, the reference is an error (the check is live)...
        assert!(refs_manifest(&audit_dir(dir).unwrap()));
        // ...before dist writes it, it counts as present.
        let hash_files = ["build-manifest.json", "SHA256SUMS"];
        let before = audit_dir_before(dir, Target::Native, &hash_files).unwrap();
        assert!(!refs_manifest(&before), "{before:?}");
        // The target is the one given, not guessed from the Dockerfile.
        assert!(
            before.iter().any(|f| f.message.contains("systemd units")),
            "{before:?}"
        );
        // A package that already holds one is refused.
        std::fs::write(dir.join("SHA256SUMS"), "").unwrap();
        let err = audit_dir_before(dir, Target::Native, &hash_files).unwrap_err();
        assert!(
            format!("{err:#}").contains("already holds SHA256SUMS"),
            "{err:#}"
        );
    }

    #[test]
    fn package_lookups() {
        let p = Package::from_texts(None, &[("a/b.sh", 0o755, "#!/bin/sh\n"), ("c", 0o644, "")]);
        assert!(p.is_dir("a") && p.is_dir("") && !p.is_dir("c"));
        assert!(p.is_file("a/b.sh") && !p.is_file("a"));
        assert_eq!(p.top_dirs(), ["a"]);
        assert_eq!(p.glob("a/*"), ["a/b.sh"]);
    }
}
