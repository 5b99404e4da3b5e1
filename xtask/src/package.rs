//! `cargo xtask package`: assembles each target's deployment folder from `common/`, the
//! target's own files under `targets/<t>/`, the application binary and generated files.
//!
//! [`plan_files`] decides everything (file list, renames, modes, placeholder substitution,
//! refusals) from sources already read into memory; [`write_plan`] only writes it out.
//! The two files that name the binary's hash come last ([`Assembly::finish`]), so that
//! `dist` can hash the binary while it compresses it.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

use anyhow::{bail, Context, Result};

use crate::{
    config::Config,
    fsx, hash,
    manifest::{self, BuildManifest, ManifestBinary},
    project::{BinaryChoice, Project},
};

/// Name of the per-package checksum file (`sha256sum -c` format).
pub const SUMS_FILE: &str = "SHA256SUMS";
/// Name of the per-package build manifest.
pub use crate::manifest::BUILD_MANIFEST;
use crate::{
    config::render,
    fsx::{resolve_link, CACHE_DIR},
    policy::{forbidden_reason, has_private_key_block},
    project::{note, BinaryInfo},
    target::Target,
};

/// One source file read from `common/` or `targets/<t>/`.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to its source root, with `/` separators.
    pub rel: String,
    /// Where it was read from, for error messages.
    pub origin: PathBuf,
    pub content: SourceContent,
}

#[derive(Debug, Clone)]
pub enum SourceContent {
    Bytes(Vec<u8>),
    Symlink(String),
}

/// One entry of an assembled package.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedFile {
    pub dest: String,
    pub content: Content,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// Bytes to write, with their mode (0o755 or 0o644).
    Data { bytes: Vec<u8>, mode: u32 },
    /// The application binary (mode 0o755), copied from [`BinaryInfo::path`].
    Binary,
    /// A relative symbolic link.
    Symlink(String),
}

/// Package paths end up in `SHA256SUMS` lines and shell loops: keep them plain.
fn check_path(rel: &str) -> Result<()> {
    if rel.is_empty()
        || rel.starts_with('/')
        || rel
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
        || rel.chars().any(|c| c.is_control() || c == '\\')
    {
        bail!("unsupported file name {rel:?}: use plain relative names without control characters or backslashes");
    }
    Ok(())
}

/// Scripts (by suffix or `#!`) are executable, everything else is not.
pub fn mode_for(rel: &str, bytes: &[u8]) -> u32 {
    if rel.ends_with(".sh") || bytes.starts_with(b"#!") {
        0o755
    } else {
        0o644
    }
}

/// The files that name the binary's SHA-256. `dist` learns that hash while it compresses
/// the binary (one read instead of two), so it writes these two last: they close every
/// archive, after the entries in bytewise order (see [`Assembly`]).
pub const HASH_FILES: [&str; 2] = [BUILD_MANIFEST, SUMS_FILE];

/// Decides a package's files but for the [`HASH_FILES`] (file list, renames, modes,
/// placeholder substitution, refusals), sorted bytewise.
pub fn plan_files(
    target: Target,
    cfg: &Config,
    common: &[SourceFile],
    own: &[SourceFile],
) -> Result<Vec<PlannedFile>> {
    let placeholders = cfg.placeholders();
    let binary_dest = target.binary_dest(cfg);
    let mut files: BTreeMap<String, (PlannedFile, String)> = BTreeMap::new();
    let reserved: Vec<&str> = binary_dest
        .as_deref()
        .into_iter()
        .chain([BUILD_MANIFEST, SUMS_FILE])
        .collect();

    for (layer, sources) in [("common/", common), (&*format!("targets/{target}/"), own)] {
        for src in sources {
            let origin = src.origin.display();
            check_path(&src.rel).with_context(|| format!("{origin}"))?;
            if let Some(why) = forbidden_reason(&src.rel) {
                bail!("refusing to package {origin}: {why}. Remove it from {layer} (keep secrets out of the repository)");
            }
            if reserved.contains(&src.rel.as_str()) {
                bail!(
                    "{origin} would overwrite the generated {}: rename or remove it",
                    src.rel
                );
            }
            if let Some((_, first)) = files.get(&src.rel) {
                bail!("{origin} collides with {first}: a target file may not replace a common file; rename one of them");
            }
            let content = match &src.content {
                SourceContent::Symlink(to) => {
                    check_symlink(&src.rel, to).with_context(|| format!("{origin}"))?;
                    Content::Symlink(to.clone())
                }
                SourceContent::Bytes(bytes) => {
                    if has_private_key_block(bytes) {
                        bail!("refusing to package {origin}: it contains a private key block");
                    }
                    let bytes = match std::str::from_utf8(bytes) {
                        Ok(text) => render(text, &placeholders)
                            .with_context(|| format!("{origin}"))?
                            .into_bytes(),
                        Err(_) => bytes.clone(),
                    };
                    let mode = mode_for(&src.rel, &bytes);
                    Content::Data { bytes, mode }
                }
            };
            files.insert(
                src.rel.clone(),
                (
                    PlannedFile {
                        dest: src.rel.clone(),
                        content,
                    },
                    origin.to_string(),
                ),
            );
        }
    }
    // A file may not sit where the package needs a folder, e.g. `bin` vs `bin/orangescrum`.
    for dest in files
        .keys()
        .map(String::as_str)
        .chain(binary_dest.as_deref())
    {
        let mut prefix = String::new();
        for comp in dest
            .split('/')
            .collect::<Vec<_>>()
            .split_last()
            .map(|(_, d)| d)
            .unwrap_or(&[])
        {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(comp);
            if let Some((_, origin)) = files.get(&prefix) {
                bail!("{origin} is a file where the package needs the folder {prefix}/");
            }
        }
    }

    let mut out: Vec<PlannedFile> = files.into_values().map(|(f, _)| f).collect();
    if let Some(dest) = binary_dest {
        out.push(PlannedFile {
            dest,
            content: Content::Binary,
        });
    }
    out.sort_by(|a, b| a.dest.as_bytes().cmp(b.dest.as_bytes()));
    Ok(out)
}

/// `build-manifest.json`'s content; `binary.sha256` is copied as it is (empty while
/// `dist` has not read the binary yet: [`Assembly::finish`] fills it in).
fn build_manifest(
    target: Target,
    cfg: &Config,
    binary: &BinaryInfo,
    git_revision: &str,
) -> BuildManifest {
    BuildManifest {
        app: cfg.release.app_name.clone(),
        version: cfg.release.version.clone(),
        target,
        git_revision: git_revision.to_string(),
        frankenphp_version: cfg.frankenphp.version.clone(),
        php_version: cfg.frankenphp.php_version.clone(),
        php_extensions: cfg.frankenphp.extensions.clone(),
        binary: ManifestBinary {
            path: target.binary_dest(cfg),
            sha256: binary.sha256.clone(),
            size: binary.size,
            arch: binary.arch.to_string(),
            binary_source: binary.source.as_str().to_string(),
        },
    }
}

fn manifest_file(manifest: &BuildManifest) -> Result<PlannedFile> {
    Ok(PlannedFile {
        dest: BUILD_MANIFEST.into(),
        content: Content::Data {
            bytes: manifest::to_json(manifest, BUILD_MANIFEST)?,
            mode: 0o644,
        },
    })
}

/// A link must stay inside the package, or it would point at whatever the server has.
fn check_symlink(rel: &str, to: &str) -> Result<()> {
    if to.starts_with('/') {
        bail!("symbolic link {rel} -> {to} is absolute; use a relative link inside the package");
    }
    let mut depth: i64 = rel.matches('/').count() as i64;
    for comp in to.split('/') {
        match comp {
            "" | "." => {}
            ".." => depth -= 1,
            _ => depth += 1,
        }
        if depth < 0 {
            bail!("symbolic link {rel} -> {to} points outside the package");
        }
    }
    Ok(())
}

/// The `SHA256SUMS` text for a plan: `<hex>  <path>` per regular file, bytewise sorted.
/// Links are listed with the hash of what they point to, as `sha256sum -c` reads them.
pub fn sums_file(files: &[PlannedFile], binary_sha256: &str) -> Result<String> {
    let mut hashes: BTreeMap<&str, String> = BTreeMap::new();
    for f in files {
        match &f.content {
            Content::Data { bytes, .. } => {
                hashes.insert(&f.dest, hash::sha256_hex(bytes));
            }
            Content::Binary => {
                hashes.insert(&f.dest, binary_sha256.to_string());
            }
            Content::Symlink(_) => {}
        }
    }
    for f in files {
        if let Content::Symlink(to) = &f.content {
            let resolved = resolve_link(&f.dest, to).unwrap_or_default();
            let h = hashes
                .get(resolved.as_str())
                .with_context(|| {
                    format!(
                        "symbolic link {} -> {to} does not point at a packaged file",
                        f.dest
                    )
                })?
                .clone();
            hashes.insert(&f.dest, h);
        }
    }
    Ok(hashes.iter().map(|(p, h)| format!("{h}  {p}\n")).collect())
}

/// Reads every file below `dir` (sorted, relative paths with `/`). Sockets, FIFOs and
/// devices are refused: they cannot be shipped.
pub fn read_sources(dir: &Path) -> Result<Vec<SourceFile>> {
    if !dir.is_dir() {
        bail!(
            "source folder {} is missing: restore it from git (git checkout -- {})",
            dir.display(),
            dir.display()
        );
    }
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name().min_depth(1) {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let path = entry.path();
        let rel = path
            .strip_prefix(dir)
            .expect("walkdir stays below its root")
            .to_str()
            .with_context(|| format!("{} is not valid UTF-8", path.display()))?
            .replace(std::path::MAIN_SEPARATOR, "/");
        let ft = entry.file_type();
        let content = if ft.is_dir() {
            continue;
        } else if ft.is_symlink() {
            let to = fs::read_link(path)
                .with_context(|| format!("cannot read link {}", path.display()))?;
            SourceContent::Symlink(
                to.to_str()
                    .with_context(|| format!("{} is not UTF-8", path.display()))?
                    .to_string(),
            )
        } else if ft.is_file() {
            SourceContent::Bytes(
                fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
            )
        } else {
            bail!(
                "{} is a socket, FIFO or device: only files, folders and links can be packaged",
                path.display()
            );
        };
        out.push(SourceFile {
            rel,
            origin: path.to_path_buf(),
            content,
        });
    }
    Ok(out)
}

/// How the binary gets into a package folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryPlacement {
    /// A copy with mode 0755: the folder is a deliverable.
    Copy,
    /// A hard link to the source when it already has mode 0755 (else a copy): the folder
    /// is scratch space that is archived and deleted.
    Link,
}

/// Writes `files` into the new folder `dir`, with exact modes.
pub fn write_plan(
    files: &[PlannedFile],
    binary: &BinaryInfo,
    dir: &Path,
    placement: BinaryPlacement,
) -> Result<()> {
    fs::create_dir(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for f in files {
        let path = dir.join(&f.dest);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        match &f.content {
            Content::Data { bytes, mode } => fsx::write_file(&path, bytes, *mode)?,
            Content::Binary => match placement {
                BinaryPlacement::Copy => fsx::copy_file(&binary.path, &path, 0o755)?,
                BinaryPlacement::Link => {
                    // A link shares the source's mode: only link a 0755 binary, so the
                    // folder (which the audit reads) matches the archive exactly.
                    use std::os::unix::fs::PermissionsExt;
                    let mode = fs::metadata(&binary.path)
                        .with_context(|| format!("cannot stat {}", binary.path.display()))?
                        .permissions()
                        .mode();
                    if mode & 0o7777 != 0o755 || fs::hard_link(&binary.path, &path).is_err() {
                        fsx::copy_file(&binary.path, &path, 0o755)?;
                    }
                }
            },
            Content::Symlink(to) => std::os::unix::fs::symlink(to, &path)
                .with_context(|| format!("cannot create link {}", path.display()))?,
        }
    }
    // Folder modes are fixed too, so umask never leaks into the package.
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        if entry.file_type().is_dir() {
            fsx::set_mode(entry.path(), 0o755)?;
        }
    }
    Ok(())
}

/// Loads the sources for `target` from the repository at `root`.
pub fn load_sources(root: &Path, target: Target) -> Result<(Vec<SourceFile>, Vec<SourceFile>)> {
    let common = read_sources(&root.join("common"))?;
    let own = read_sources(&root.join("targets").join(target.name()))?;
    Ok((common, own))
}

/// Writes `target`'s package into the new folder `dir`, all but its [`HASH_FILES`], which
/// [`Assembly::finish`] adds once the binary's hash is known.
#[allow(clippy::too_many_arguments)]
pub fn begin(
    root: &Path,
    cfg: &Config,
    target: Target,
    binary: &BinaryInfo,
    git_revision: &str,
    dir: &Path,
    placement: BinaryPlacement,
    image_digest: Option<&str>,
) -> Result<Assembly> {
    let (common, own) = load_sources(root, target)?;
    let mut files = plan_files(target, cfg, &common, &own)?;
    if let Some(digest) = image_digest.filter(|_| target == Target::Kubernetes) {
        pin_image(&mut files, digest)?;
    }
    write_plan(&files, binary, dir, placement)?;
    Ok(Assembly {
        dir: dir.to_path_buf(),
        manifest: build_manifest(target, cfg, binary, git_revision),
        files,
    })
}

/// A package folder written but for its [`HASH_FILES`].
pub struct Assembly {
    dir: PathBuf,
    /// `build-manifest.json` but for the binary's hash.
    manifest: BuildManifest,
    files: Vec<PlannedFile>,
}

impl Assembly {
    /// Writes `build-manifest.json` and `SHA256SUMS` with the binary's hash `sha256`, which
    /// must be what was packaged.
    pub fn finish(mut self, sha256: &str) -> Result<()> {
        if !hash::is_sha256_hex(sha256) {
            bail!("internal error: the binary's SHA-256 is not known ({sha256:?})");
        }
        self.manifest.binary.sha256 = sha256.to_string();
        let manifest = manifest_file(&self.manifest)?;
        if let Content::Data { bytes, mode } = &manifest.content {
            fsx::write_file(&self.dir.join(&manifest.dest), bytes, *mode)?;
        }
        self.files.push(manifest);
        let sums = sums_file(&self.files, sha256)?;
        fsx::write_file(&self.dir.join(SUMS_FILE), sums.as_bytes(), 0o644)
    }
}

/// Points the Kubernetes package's `images:` entry at the release's OCI image (by digest),
/// so a release never ships the placeholder.
fn pin_image(files: &mut [PlannedFile], digest: &str) -> Result<()> {
    let k = files
        .iter_mut()
        .find(|f| f.dest == "kustomization.yaml")
        .context("the kubernetes package has no kustomization.yaml")?;
    let Content::Data { bytes, .. } = &mut k.content else {
        bail!("kustomization.yaml is not a plain file");
    };
    let text =
        String::from_utf8(std::mem::take(bytes)).context("kustomization.yaml is not UTF-8")?;
    *bytes = crate::audit::kubernetes::set_image_digest(&text, digest)?.into_bytes();
    Ok(())
}

/// `cargo xtask package`: writes `<out>/<version>/<target>/` for each target, each one
/// staged beside its final name and renamed into place.
pub fn run(
    proj: &Project,
    targets: &[Target],
    choice: &BinaryChoice,
    out: Option<&Path>,
) -> Result<()> {
    let out_root = proj.out_root(out);
    let _lock = proj.prepare_out(&out_root)?;
    let binary = proj.resolve_binary(choice, &out_root.join(CACHE_DIR))?;
    let git_revision = proj.git_revision();
    let version_dir = out_root.join(&proj.cfg.release.version);
    fs::create_dir_all(&version_dir)
        .with_context(|| format!("cannot create {}", version_dir.display()))?;
    fsx::clean_stale(&version_dir)?;
    for &target in targets {
        let dest = version_dir.join(target.name());
        fsx::publish_dir(&dest, |staged| {
            // The binary is hashed already: the hash files go in straight away.
            begin(
                &proj.root,
                &proj.cfg,
                target,
                &binary,
                &git_revision,
                staged,
                BinaryPlacement::Copy,
                None,
            )?
            .finish(&binary.sha256)?;
            audit_or_fail(target, staged)
        })
        .with_context(|| format!("assembling the {target} package"))?;
        note(format!(
            "{target}: package ready in {} (binary: {}, {})",
            dest.display(),
            binary.source.as_str(),
            binary.sha256
        ));
    }
    Ok(())
}

/// Audits an assembled package folder (see `crate::audit`); prints every finding and
/// fails on errors, so no package that fails the production checks is ever published.
pub fn audit_or_fail(target: Target, dir: &Path) -> Result<()> {
    let findings =
        crate::audit::audit_dir(dir).with_context(|| format!("auditing the {target} package"))?;
    report_audit(target, &findings)
}

/// Prints an audit's findings and fails on errors (see [`audit_or_fail`]).
pub fn report_audit(target: Target, findings: &[crate::audit::AuditFinding]) -> Result<()> {
    for f in findings {
        note(format!("audit {target}: {f}"));
    }
    if crate::audit::has_errors(findings) {
        bail!(
            "the {target} package fails the production audit (findings above; paths are relative to the package, i.e. to common/ or targets/{target}/): fix the sources and run again"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::BinarySource;

    fn src(rel: &str, text: &str) -> SourceFile {
        SourceFile {
            rel: rel.into(),
            origin: PathBuf::from(rel),
            content: SourceContent::Bytes(text.as_bytes().to_vec()),
        }
    }

    /// A whole package's files but for `SHA256SUMS` (which [`sums_file`] derives).
    fn plan(
        target: Target,
        cfg: &Config,
        common: &[SourceFile],
        own: &[SourceFile],
        binary: &BinaryInfo,
        git_revision: &str,
    ) -> Result<Vec<PlannedFile>> {
        let mut out = plan_files(target, cfg, common, own)?;
        out.push(manifest_file(&build_manifest(
            target,
            cfg,
            binary,
            git_revision,
        ))?);
        out.sort_by(|a, b| a.dest.as_bytes().cmp(b.dest.as_bytes()));
        Ok(out)
    }

    fn binary() -> BinaryInfo {
        BinaryInfo {
            path: "/bin/true".into(),
            size: 42,
            sha256: "ab".repeat(32),
            arch: "x86_64",
            source: BinarySource::Sample,
        }
    }

    fn cfg() -> Config {
        Config::default()
    }

    #[test]
    fn render_substitutes_and_keeps_install_time() {
        let vals = vec![("VERSION", "v1.2.3".to_string())];
        assert_eq!(
            render("v=@@VERSION@@ p=@@PREFIX@@ a@@b @@\n", &vals).unwrap(),
            "v=v1.2.3 p=@@PREFIX@@ a@@b @@\n"
        );
        let err = render("ok\nx=@@VERSON@@\n", &vals).unwrap_err();
        assert!(
            format!("{err}").contains("line 2: unknown placeholder @@VERSON@@"),
            "{err}"
        );
    }

    #[test]
    fn forbidden_names() {
        for bad in [
            ".env",
            "x/.env",
            ".env.production",
            "id_rsa",
            "keys/server.key",
            "tls.pem",
            ".npmrc",
            "a/token",
        ] {
            assert!(forbidden_reason(bad).is_some(), "{bad}");
        }
        for ok in [
            ".env.example",
            ".env.full.example",
            "id_rsa.pub",
            "docs/keys.md",
            "env.example",
            "tokenizer.php",
        ] {
            assert!(forbidden_reason(ok).is_none(), "{ok}");
        }
        assert!(has_private_key_block(
            b"x\n-----BEGIN OPENSSH PRIVATE KEY-----\nabc"
        ));
        assert!(!has_private_key_block(b"-----BEGIN PUBLIC KEY-----"));
    }

    #[test]
    fn modes_follow_content() {
        assert_eq!(mode_for("a.sh", b"echo"), 0o755);
        assert_eq!(mode_for("run", b"#!/bin/sh\n"), 0o755);
        assert_eq!(mode_for("Dockerfile", b"FROM x"), 0o644);
    }

    #[test]
    fn plan_places_and_renames_the_binary() {
        let c = cfg();
        let common = [
            src("docs/a.md", "v @@VERSION@@\n"),
            src("helpers/x.sh", "#!/bin/sh\n"),
        ];
        let own = [src("run-native.sh", "exec bin/@@NATIVE_BINARY@@\n")];
        let plan = plan(Target::Native, &c, &common, &own, &binary(), "abc").unwrap();
        let dests: Vec<&str> = plan.iter().map(|f| f.dest.as_str()).collect();
        assert_eq!(
            dests,
            [
                "bin/orangescrum",
                "build-manifest.json",
                "docs/a.md",
                "helpers/x.sh",
                "run-native.sh"
            ]
        );
        let run = plan.iter().find(|f| f.dest == "run-native.sh").unwrap();
        assert_eq!(
            run.content,
            Content::Data {
                bytes: b"exec bin/orangescrum\n".to_vec(),
                mode: 0o755
            }
        );
        let docker = self::plan(Target::Docker, &c, &common, &[], &binary(), "abc").unwrap();
        assert!(docker
            .iter()
            .any(|f| f.dest == "orangescrum-app/osv4-prod" && f.content == Content::Binary));
    }

    #[test]
    fn plan_manifest_fields() {
        let plan = plan(Target::Docker, &cfg(), &[], &[], &binary(), "deadbeef").unwrap();
        let Content::Data { bytes, .. } = &plan
            .iter()
            .find(|f| f.dest == BUILD_MANIFEST)
            .unwrap()
            .content
        else {
            panic!()
        };
        let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        assert_eq!(v["version"], "v0.0.0");
        assert_eq!(v["target"], "docker");
        assert_eq!(v["git_revision"], "deadbeef");
        assert_eq!(v["frankenphp_version"], "1.12.1");
        assert_eq!(v["binary"]["sha256"], "ab".repeat(32));
        assert_eq!(v["binary"]["size"], 42);
        assert_eq!(v["binary"]["binary_source"], "sample");
    }

    #[test]
    fn kubernetes_plan_has_no_binary() {
        let own = [src("kustomization.yaml", "resources: []\n")];
        let plan = plan(Target::Kubernetes, &cfg(), &[], &own, &binary(), "x").unwrap();
        assert!(
            plan.iter().all(|f| f.content != Content::Binary),
            "{plan:?}"
        );
        let dests: Vec<&str> = plan.iter().map(|f| f.dest.as_str()).collect();
        assert_eq!(dests, [BUILD_MANIFEST, "kustomization.yaml"]);
        let Content::Data { bytes, .. } = &plan[0].content else {
            panic!()
        };
        let m: BuildManifest = manifest::parse(bytes, BUILD_MANIFEST).unwrap();
        assert_eq!((m.target, m.binary.path), (Target::Kubernetes, None));
        // The image is built from this binary: the manifest still says which one.
        assert_eq!(m.binary.sha256, "ab".repeat(32));
    }

    #[test]
    fn plan_refusals() {
        let c = cfg();
        let err = |common: &[SourceFile], own: &[SourceFile]| {
            format!(
                "{:#}",
                plan(Target::Docker, &c, common, own, &binary(), "x").unwrap_err()
            )
        };
        assert!(err(&[src(".env", "A=1")], &[]).contains("refusing to package .env"));
        assert!(err(&[src("a", "x")], &[src("a", "y")]).contains("collides"));
        assert!(
            err(&[src("k.txt", "-----BEGIN RSA PRIVATE KEY-----\n")], &[]).contains("private key")
        );
        assert!(err(&[src("orangescrum-app", "x")], &[]).contains("needs the folder"));
        assert!(err(&[src("x", "@@NOPE@@")], &[]).contains("unknown placeholder"));
        assert!(err(&[src("a\nb", "x")], &[]).contains("unsupported file name"));
        let link = SourceFile {
            rel: "a/l".into(),
            origin: "a/l".into(),
            content: SourceContent::Symlink("../../etc/passwd".into()),
        };
        assert!(err(&[link], &[]).contains("outside the package"));
    }

    #[test]
    fn sums_cover_every_file_sorted() {
        let common = [src("b.txt", "b"), src("a.txt", "a")];
        let link = SourceFile {
            rel: "docs/l".into(),
            origin: "l".into(),
            content: SourceContent::Symlink("../a.txt".into()),
        };
        let plan = plan(Target::Native, &cfg(), &common, &[link], &binary(), "x").unwrap();
        let sums = sums_file(&plan, &binary().sha256).unwrap();
        let names: Vec<&str> = sums
            .lines()
            .map(|l| l.split_once("  ").unwrap().1)
            .collect();
        assert_eq!(
            names,
            [
                "a.txt",
                "b.txt",
                "bin/orangescrum",
                "build-manifest.json",
                "docs/l"
            ]
        );
        let a = sums
            .lines()
            .next()
            .unwrap()
            .split_once("  ")
            .unwrap()
            .0
            .to_string();
        assert!(
            sums.lines().last().unwrap().starts_with(&a),
            "links hash as their target"
        );
    }
}
