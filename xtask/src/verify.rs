//! `cargo xtask verify`: proves that what is on disk is what was built. Accepts a release
//! folder (`dist/<version>/`), one `.tar.zst` archive, or an extracted package folder,
//! checks every hash it can reach and names each missing, extra or modified file.

use std::{
    collections::BTreeMap,
    fs::{self, File},
    io::{BufReader, Read},
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::{bail, Context, Result};

use crate::{
    dist::{self, DistArgs, RELEASE_SUMS},
    fsx::{is_plain_rel, resolve_link},
    hash,
    manifest::{self, BuildManifest, DistManifest, BUILD_MANIFEST, RELEASE_MANIFEST},
    oci,
    package::SUMS_FILE,
    project::BinarySource,
    project::Project,
    sbom, BinaryArgs,
};

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// A dist/<version>/ folder, one .tar.zst archive, or an extracted package folder.
    pub path: PathBuf,
    /// Also rebuild the release into a temporary folder and compare it byte for byte.
    #[arg(long)]
    pub rebuild: bool,
    #[command(flatten)]
    pub sets: crate::SetArgs,
    /// With --rebuild: the binary to rebuild with (default: what the manifest recorded).
    #[command(flatten)]
    pub binary: BinaryArgs,
}

/// Findings, one line each, printed at the end.
#[derive(Default)]
pub struct Report {
    pub problems: Vec<String>,
    pub checked: usize,
}

impl Report {
    fn problem(&mut self, s: impl Into<String>) {
        let s = s.into();
        eprintln!("FAIL {s}");
        self.problems.push(s);
    }
}

pub fn run(proj: &Project, args: &VerifyArgs) -> Result<ExitCode> {
    let mut report = Report::default();
    let path = &args.path;
    let kind = classify(path)?;
    match kind {
        Input::Release => verify_release(path, &mut report)?,
        Input::Archive => {
            check_sidecar(path, &mut report)?;
            verify_archive(path, &mut report)?;
        }
        Input::Package => verify_package_dir(path, &mut report)?,
    }
    if args.rebuild {
        let release = match kind {
            Input::Release => path.clone(),
            Input::Archive => path.parent().map(Path::to_path_buf).unwrap_or_default(),
            Input::Package => {
                bail!("--rebuild needs a release folder or an archive, not an extracted package")
            }
        };
        rebuild_and_compare(proj, &release, &args.binary, &mut report)?;
    }
    if report.problems.is_empty() {
        eprintln!(
            "verified: {} files checked, no mismatch in {}",
            report.checked,
            path.display()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "verification FAILED: {} problem(s) in {}",
            report.problems.len(),
            path.display()
        );
        Ok(ExitCode::FAILURE)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Input {
    Release,
    Archive,
    Package,
}

fn classify(path: &Path) -> Result<Input> {
    if path.is_file() {
        if path.to_string_lossy().ends_with(".tar.zst") {
            return Ok(Input::Archive);
        }
        bail!("{} is a file but not a .tar.zst archive", path.display());
    }
    if !path.is_dir() {
        bail!("{} does not exist", path.display());
    }
    if path.join(RELEASE_MANIFEST).is_file() {
        return Ok(Input::Release);
    }
    if path.join(SUMS_FILE).is_file() {
        return Ok(Input::Package);
    }
    bail!(
        "{} has neither {RELEASE_MANIFEST} (a release folder) nor {SUMS_FILE} (a package folder): nothing to verify against",
        path.display()
    )
}

fn read_sums(path: &Path) -> Result<Vec<(String, String)>> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    hash::parse_sums(&text).with_context(|| format!("malformed {}", path.display()))
}

/// Checks `<archive>.sha256` when it is there.
fn check_sidecar(archive: &Path, report: &mut Report) -> Result<()> {
    let side = PathBuf::from(format!("{}.sha256", archive.display()));
    if !side.is_file() {
        return Ok(());
    }
    report.checked += 1;
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lines = read_sums(&side)?;
    // Exactly one line naming this archive: an empty or foreign sidecar proves nothing.
    let [(listed, expected)] = lines.as_slice() else {
        report.problem(format!(
            "CORRUPT {}: expected one line `<sha256>  {name}`",
            side.display()
        ));
        return Ok(());
    };
    if *listed != name {
        report.problem(format!(
            "CORRUPT {}: names {listed}, not {name}",
            side.display()
        ));
    }
    let (actual, _) = hash::sha256_file(archive)?;
    if *expected != actual {
        report.problem(format!(
            "MODIFIED {} (does not match {})",
            archive.display(),
            side.display()
        ));
    }
    Ok(())
}

fn verify_release(dir: &Path, report: &mut Report) -> Result<()> {
    let manifest: DistManifest = manifest::read(&dir.join(RELEASE_MANIFEST))?;
    let sums_path = dir.join(RELEASE_SUMS);
    let sums: BTreeMap<String, String> = if sums_path.is_file() {
        let lines = read_sums(&sums_path)?;
        let mut map = BTreeMap::new();
        for (name, h) in lines {
            if !is_plain_rel(&name) || name.contains('/') {
                report.problem(format!(
                    "CORRUPT {RELEASE_SUMS}: {name:?} is not a file name of this folder"
                ));
            } else if map.insert(name.clone(), h).is_some() {
                report.problem(format!("CORRUPT {RELEASE_SUMS}: {name} is listed twice"));
            }
        }
        map
    } else {
        report.problem(format!("MISSING {}", sums_path.display()));
        BTreeMap::new()
    };
    let mut actual = BTreeMap::new();
    for (name, expected) in &sums {
        let p = dir.join(name);
        report.checked += 1;
        if !p.is_file() {
            report.problem(format!("MISSING {name} (listed in {RELEASE_SUMS})"));
            continue;
        }
        let (h, size) = hash::sha256_file(&p)?;
        if &h != expected {
            report.problem(format!(
                "MODIFIED {name} (sha256 {h}, {RELEASE_SUMS} says {expected})"
            ));
        }
        actual.insert(name.clone(), (h, size));
    }
    for entry in fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if (name.ends_with(".tar.zst") || name.ends_with(".tar")) && !sums.contains_key(&name) {
            report.problem(format!("EXTRA {name} (not listed in {RELEASE_SUMS})"));
        }
    }
    let published = dist::artifacts(&manifest);
    for &(name, sha, size) in &published {
        match actual.get(name) {
            None if !sums.contains_key(name) => report.problem(format!(
                "MISSING {name} (listed in {RELEASE_MANIFEST}, not in {RELEASE_SUMS})"
            )),
            Some((h, s)) if h != sha || *s != size => {
                report.problem(format!("MODIFIED {name} (differs from {RELEASE_MANIFEST})"))
            }
            _ => {}
        }
    }
    if published.len() != sums.len() {
        report.problem(format!(
            "{RELEASE_MANIFEST} lists {} files, {RELEASE_SUMS} {}",
            published.len(),
            sums.len()
        ));
    }
    // Each package archive's own SHA256SUMS, read in its one pass, for the SBOM check.
    let mut inner_sums: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for name in sums.keys() {
        let file = dir.join(name);
        if !file.is_file() {
            continue;
        }
        check_sidecar(&file, report)?;
        match &manifest.image {
            Some(img) if img.archive == *name => {
                report.checked += 1;
                if let Err(e) = oci::check_image(&file, &img.digest) {
                    report.problem(format!("CORRUPT {name}: {e:#}"));
                }
            }
            // The SBOM is checked against the archives below.
            _ if manifest.sbom.as_ref().is_some_and(|e| e.file == *name) => {}
            _ => {
                if let Some(listed) = verify_archive(&file, report)? {
                    inner_sums.insert(name.clone(), listed);
                }
            }
        }
    }
    if let Some(entry) = &manifest.sbom {
        report.checked += 1;
        if let Err(e) = check_sbom(dir, &manifest, &entry.file, &inner_sums) {
            report.problem(format!("CORRUPT {}: {e:#}", entry.file));
        }
    }
    // The unpacked package folders beside the archives, when present.
    for t in &manifest.targets {
        let pkg = dir.join(t.target.name());
        if pkg.join(SUMS_FILE).is_file() {
            verify_package_dir(&pkg, report)?;
        }
    }
    Ok(())
}

/// The SBOM names every package file with the hash the archive's own `SHA256SUMS` gives it
/// (`inner_sums`, by archive name), and the archives and the image with their published
/// hashes.
fn check_sbom(
    dir: &Path,
    manifest: &DistManifest,
    file: &str,
    inner_sums: &BTreeMap<String, Vec<(String, String)>>,
) -> Result<()> {
    let doc: serde_json::Value = manifest::read(&dir.join(file))?;
    let listed = sbom::listed_hashes(&doc);
    for t in &manifest.targets {
        let bom_ref = format!("package-{}", t.target);
        let mut inner = inner_sums
            .get(&t.archive)
            .with_context(|| {
                format!(
                    "the SHA256SUMS inside {} could not be read (see above)",
                    t.archive
                )
            })?
            .clone();
        inner.sort();
        let mut named: Vec<(String, String)> = listed
            .iter()
            .filter(|(r, _, _)| *r == bom_ref)
            .map(|(_, n, h)| (n.clone(), h.clone()))
            .collect();
        named.sort();
        if named != inner {
            bail!(
                "its {} files do not match the SHA256SUMS inside {}",
                t.target,
                t.archive
            );
        }
        let component = doc["components"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["bom-ref"] == bom_ref.as_str()))
            .with_context(|| format!("it has no component {bom_ref}"))?;
        if component["hashes"][0]["content"] != t.sha256.as_str() {
            bail!("its hash of {} is not the published one", t.archive);
        }
    }
    Ok(())
}

/// Streams the archive once: every file is hashed and compared with the archive's own
/// `SHA256SUMS`, which is returned when it could be read.
pub fn verify_archive(path: &Path, report: &mut Report) -> Result<Option<Vec<(String, String)>>> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(match scan_archive(path) {
        Ok(scan) => compare_with_sums(&name, &scan, report),
        Err(e) => {
            report.problem(format!("CORRUPT {name}: {e:#}"));
            None
        }
    })
}

/// What an archive holds: hashes of files, link targets, and its `SHA256SUMS` text.
struct Scan {
    files: BTreeMap<String, String>,
    links: BTreeMap<String, String>,
    sums: Option<String>,
    build_manifest: Option<Vec<u8>>,
}

/// Upper bound for the archive's own `SHA256SUMS` and `build-manifest.json`.
const SMALL_FILE_CAP: u64 = 1 << 20;

/// Entries are canonical, as `dist` writes them: owned by 0:0, folders and links 0755,
/// files 0644 or 0755. Anything else (setuid bits, other owners) was not made by `dist`.
fn check_header(full: &str, h: &tar::Header, is_dir: bool) -> Result<()> {
    let (uid, gid, mode) = (h.uid()?, h.gid()?, h.mode()?);
    let ty = h.entry_type();
    let mode_ok = if is_dir || ty.is_symlink() {
        mode == 0o755
    } else {
        mode == 0o644 || mode == 0o755
    };
    if uid != 0 || gid != 0 || !mode_ok {
        bail!("entry {full} has owner {uid}:{gid} and mode {mode:o}: not a canonical entry (0:0, 0644/0755)");
    }
    Ok(())
}

fn scan_archive(path: &Path) -> Result<Scan> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let decoder =
        zstd::stream::read::Decoder::new(BufReader::new(file)).context("not a zstd stream")?;
    let mut ar = tar::Archive::new(decoder);
    let mut top: Option<String> = None;
    let mut seen = std::collections::BTreeSet::new();
    let mut scan = Scan {
        files: BTreeMap::new(),
        links: BTreeMap::new(),
        sums: None,
        build_manifest: None,
    };
    for entry in ar.entries().context("cannot read the tar stream")? {
        let mut entry = entry.context("damaged tar entry")?;
        let full = entry
            .path()
            .context("bad entry path")?
            .to_string_lossy()
            .into_owned();
        let full = full.trim_end_matches('/').to_string();
        let (head, rel) = full.split_once('/').unwrap_or((&full, ""));
        match &top {
            None => top = Some(head.to_string()),
            Some(t) if t != head => bail!("entry {full} is outside the top-level folder {t}/"),
            _ => {}
        }
        if rel.is_empty() {
            check_header(&full, entry.header(), true)?;
            continue;
        }
        if !is_plain_rel(rel) {
            bail!("entry {full} has an empty, `.` or `..` path component");
        }
        if !seen.insert(rel.to_string()) {
            bail!("entry {full} appears twice (extraction would keep the later one)");
        }
        let ty = entry.header().entry_type();
        check_header(&full, entry.header(), ty.is_dir())?;
        if ty.is_dir() {
            continue;
        } else if ty.is_symlink() {
            let to = entry
                .link_name()?
                .map(|l| l.to_string_lossy().into_owned())
                .unwrap_or_default();
            if resolve_link(rel, &to).is_none() {
                bail!("entry {full} is a link to {to}, outside the package");
            }
            scan.links.insert(rel.to_string(), to);
        } else if ty.is_file() {
            if rel == SUMS_FILE || rel == BUILD_MANIFEST {
                // Small by nature; a cap keeps a crafted archive from exhausting memory.
                let size = entry.header().size().context("bad entry size")?;
                if size > SMALL_FILE_CAP {
                    bail!("entry {full} is {size} bytes; a real one is a few KiB");
                }
                let mut buf = Vec::new();
                entry
                    .read_to_end(&mut buf)
                    .with_context(|| format!("cannot read {full}"))?;
                scan.files.insert(rel.to_string(), hash::sha256_hex(&buf));
                if rel == SUMS_FILE {
                    scan.sums = Some(String::from_utf8(buf).context("SHA256SUMS is not UTF-8")?);
                } else {
                    scan.build_manifest = Some(buf);
                }
            } else {
                let (h, _) = hash::sha256_reader(&mut entry)
                    .with_context(|| format!("cannot read {full}"))?;
                scan.files.insert(rel.to_string(), h);
            }
        } else {
            bail!("entry {full} has unsupported type {ty:?}");
        }
    }
    Ok(scan)
}

/// Compares the scanned files with the archive's `SHA256SUMS`; returns its lines when it
/// could be read (problems are in `report` either way).
fn compare_with_sums(
    archive: &str,
    scan: &Scan,
    report: &mut Report,
) -> Option<Vec<(String, String)>> {
    let Some(sums) = &scan.sums else {
        report.problem(format!("MISSING {archive}: {SUMS_FILE} inside the archive"));
        return None;
    };
    let listed = match hash::parse_sums(sums) {
        Ok(l) => l,
        Err(e) => {
            report.problem(format!("CORRUPT {archive}: its {SUMS_FILE}: {e:#}"));
            return None;
        }
    };
    let mut actual = scan.files.clone();
    for (link, to) in &scan.links {
        if let Some(h) = resolve_link(link, to).and_then(|r| scan.files.get(&r)) {
            actual.insert(link.clone(), h.clone());
        } else {
            actual.insert(link.clone(), String::new());
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for (name, expected) in &listed {
        report.checked += 1;
        if !seen.insert(name.as_str()) {
            report.problem(format!(
                "CORRUPT {archive}: {name} is listed twice in its {SUMS_FILE}"
            ));
        }
        match actual.get(name) {
            None => report.problem(format!("MISSING {archive}: {name}")),
            Some(h) if h != expected => report.problem(format!("MODIFIED {archive}: {name}")),
            _ => {}
        }
    }
    for name in actual.keys() {
        if name != SUMS_FILE && !seen.contains(name.as_str()) {
            report.problem(format!("EXTRA {archive}: {name}"));
        }
    }
    check_build_manifest(archive, scan.build_manifest.as_deref(), &listed, report);
    Some(listed)
}

/// The build manifest's binary hash must be the hash of the binary it describes.
fn check_build_manifest(
    place: &str,
    manifest: Option<&[u8]>,
    listed: &[(String, String)],
    report: &mut Report,
) {
    let Some(bytes) = manifest else { return };
    let m: BuildManifest = match manifest::parse(bytes, BUILD_MANIFEST) {
        Ok(m) => m,
        Err(e) => {
            report.problem(format!("CORRUPT {place}: {e:#}"));
            return;
        }
    };
    // A package without the binary (Kubernetes) names only the image's binary: nothing to
    // find in the package.
    let Some(path) = m.binary.path.as_deref() else {
        return;
    };
    let sha = m.binary.sha256.as_str();
    match listed.iter().find(|(n, _)| n == path) {
        Some((_, h)) if h == sha => {}
        _ => report.problem(format!(
            "MODIFIED {place}: {path} does not match the sha256 in {BUILD_MANIFEST}"
        )),
    }
}

/// Checks an extracted package folder against its `SHA256SUMS`. A local `.env` is
/// expected on a server (it is never packaged) and is not reported.
pub fn verify_package_dir(dir: &Path, report: &mut Report) -> Result<()> {
    let place = dir.display().to_string();
    let listed = read_sums(&dir.join(SUMS_FILE))?;
    let mut seen = std::collections::BTreeSet::new();
    let canonical_dir =
        fs::canonicalize(dir).with_context(|| format!("cannot resolve {}", dir.display()))?;
    for (name, expected) in &listed {
        report.checked += 1;
        if !is_plain_rel(name) {
            report.problem(format!(
                "CORRUPT {place}: {SUMS_FILE} lists {name:?}, a path outside the package"
            ));
            continue;
        }
        if !seen.insert(name.clone()) {
            report.problem(format!(
                "CORRUPT {place}: {name} is listed twice in {SUMS_FILE}"
            ));
        }
        let p = dir.join(name);
        if fs::symlink_metadata(&p).is_err() {
            report.problem(format!("MISSING {place}: {name}"));
            continue;
        }
        // Whatever the path resolves to must be inside the package, or the hash would
        // vouch for a file the package does not contain.
        match fs::canonicalize(&p) {
            Ok(real) if real.starts_with(&canonical_dir) => {}
            _ => {
                report.problem(format!(
                    "MODIFIED {place}: {name} resolves outside the package"
                ));
                continue;
            }
        }
        let (h, _) = hash::sha256_file(&p)?;
        if &h != expected {
            report.problem(format!("MODIFIED {place}: {name}"));
        }
    }
    for entry in walkdir::WalkDir::new(dir).min_depth(1) {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        if entry.file_type().is_dir() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .expect("below root")
            .to_string_lossy()
            .into_owned();
        if rel != SUMS_FILE && rel != ".env" && !seen.contains(&rel) {
            report.problem(format!("EXTRA {place}: {rel}"));
        }
    }
    let manifest = fs::read(dir.join(BUILD_MANIFEST)).ok();
    check_build_manifest(&place, manifest.as_deref(), &listed, report);
    Ok(())
}

/// Rebuilds the release described by `release/dist-manifest.json` into a temporary folder
/// and compares every release-level file byte for byte.
fn rebuild_and_compare(
    proj: &Project,
    release: &Path,
    binary: &BinaryArgs,
    report: &mut Report,
) -> Result<()> {
    let manifest_path = release.join(RELEASE_MANIFEST);
    let manifest: DistManifest = manifest::read(&manifest_path)?;
    if manifest.version != proj.cfg.release.version {
        bail!(
            "the release is {} but this checkout configures {}: check out the release's commit ({}) to rebuild it",
            manifest.version,
            proj.cfg.release.version,
            manifest.git_revision
        );
    }
    let mut binary = binary.clone();
    if binary.binary.is_none() && !binary.sample {
        match manifest.targets.first().map(|t| t.binary_source.as_str()) {
            Some(s) if s == BinarySource::Sample.as_str() => binary.sample = true,
            Some(s) if s == BinarySource::External.as_str() => {
                bail!("the release was built with --binary PATH: pass the same binary to rebuild (--binary PATH)")
            }
            _ => {}
        }
    }
    let tmp = tempfile::tempdir().context("cannot create a temporary folder")?;
    let args = DistArgs {
        targets: manifest.targets.iter().map(|t| t.target).collect(),
        binary,
        out: Some(tmp.path().join("out")),
        level: Some(manifest.zstd_level),
        source_date: Some(manifest.source_date_epoch),
        ..DistArgs::default()
    };
    eprintln!(
        "rebuilding {} into {} ...",
        manifest.version,
        tmp.path().display()
    );
    dist::run(proj, &args).context("rebuilding the release")?;
    let rebuilt = tmp.path().join("out").join(&manifest.version);
    let mut names = vec![RELEASE_SUMS.to_string(), RELEASE_MANIFEST.to_string()];
    for t in &manifest.targets {
        names.push(t.archive.clone());
        names.push(format!("{}.sha256", t.archive));
    }
    for name in names {
        report.checked += 1;
        let (a, b) = (release.join(&name), rebuilt.join(&name));
        if !b.is_file() {
            report.problem(format!("REBUILD {name}: the rebuild did not produce it"));
        } else if !a.is_file() {
            report.problem(format!(
                "REBUILD {name}: missing from {}",
                release.display()
            ));
        } else if !same_bytes(&a, &b)? {
            report.problem(format!("REBUILD {name}: differs from a fresh build (not reproducible, or not built from this commit)"));
        }
    }
    Ok(())
}

fn same_bytes(a: &Path, b: &Path) -> Result<bool> {
    let (ma, mb) = (fs::metadata(a)?, fs::metadata(b)?);
    if ma.len() != mb.len() {
        return Ok(false);
    }
    let mut ra =
        BufReader::new(File::open(a).with_context(|| format!("cannot open {}", a.display()))?);
    let mut rb =
        BufReader::new(File::open(b).with_context(|| format!("cannot open {}", b.display()))?);
    let (mut ba, mut bb) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let n = ra.read(&mut ba)?;
        if n == 0 {
            return Ok(true);
        }
        rb.read_exact(&mut bb[..n])?;
        if ba[..n] != bb[..n] {
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{to_json, ManifestBinary};
    use crate::target::Target;

    fn header(uid: u64, mode: u32, ty: tar::EntryType) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_uid(uid);
        h.set_gid(0);
        h.set_mode(mode);
        h.set_entry_type(ty);
        h
    }

    #[test]
    fn only_canonical_headers_pass() {
        use tar::EntryType::{Directory, Regular, Symlink};
        assert!(check_header("t/a", &header(0, 0o644, Regular), false).is_ok());
        assert!(check_header("t/b", &header(0, 0o755, Regular), false).is_ok());
        assert!(check_header("t/d", &header(0, 0o755, Directory), true).is_ok());
        assert!(check_header("t/l", &header(0, 0o755, Symlink), false).is_ok());
        for (h, dir) in [
            (header(1000, 0o644, Regular), false),
            (header(0, 0o4755, Regular), false),
            (header(0, 0o600, Regular), false),
            (header(0, 0o700, Directory), true),
            (header(0, 0o644, Symlink), false),
        ] {
            let e = check_header("t/x", &h, dir).unwrap_err().to_string();
            assert!(
                e.contains("t/x") && e.contains("not a canonical entry"),
                "{e}"
            );
        }
    }

    fn scan(files: &[(&str, &str)], links: &[(&str, &str)], sums: Option<&str>) -> Scan {
        Scan {
            files: files
                .iter()
                .map(|(n, h)| (n.to_string(), h.to_string()))
                .collect(),
            links: links
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect(),
            sums: sums.map(str::to_string),
            build_manifest: None,
        }
    }

    fn h(c: char) -> String {
        c.to_string().repeat(64)
    }

    #[test]
    fn sums_comparison_names_each_missing_modified_extra_and_duplicate_file() {
        let sums = format!(
            "{}  a\n{}  b\n{}  gone\n{}  a\n",
            h('1'),
            h('2'),
            h('3'),
            h('1')
        );
        let (a, b, c) = (h('1'), h('9'), h('4'));
        let s = scan(
            &[("a", &a), ("b", &b), ("new", &c), (SUMS_FILE, &c)],
            &[("lnk", "a")],
            Some(&sums),
        );
        let mut r = Report::default();
        compare_with_sums("x.tar.zst", &s, &mut r);
        let p = r.problems.join("\n");
        for want in [
            "MODIFIED x.tar.zst: b",
            "MISSING x.tar.zst: gone",
            "EXTRA x.tar.zst: new",
            "EXTRA x.tar.zst: lnk",
            "a is listed twice",
        ] {
            assert!(p.contains(want), "{want} not in:\n{p}");
        }
        assert!(
            !p.contains(": a\n") && !p.contains("MODIFIED x.tar.zst: a"),
            "{p}"
        );
        assert_eq!(r.checked, 4);

        let mut r = Report::default();
        compare_with_sums("y", &scan(&[], &[], None), &mut r);
        assert_eq!(
            r.problems,
            [format!("MISSING y: {SUMS_FILE} inside the archive")]
        );
    }

    #[test]
    fn build_manifest_must_hash_the_binary_it_names() {
        let m = BuildManifest {
            app: "a".into(),
            version: "v1.0.0".into(),
            target: Target::Native,
            git_revision: "r".into(),
            frankenphp_version: "1".into(),
            php_version: "8.3".into(),
            php_extensions: vec![],
            binary: ManifestBinary {
                path: Some("bin/app".into()),
                sha256: h('7'),
                size: 1,
                arch: "x86_64".into(),
                binary_source: "sample".into(),
            },
        };
        let json = to_json(&m, BUILD_MANIFEST).unwrap();
        let listed = |sha: String| vec![("bin/app".to_string(), sha)];
        let mut r = Report::default();
        check_build_manifest("p", Some(&json), &listed(h('7')), &mut r);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        check_build_manifest("p", Some(&json), &listed(h('8')), &mut r);
        assert_eq!(
            r.problems,
            [format!(
                "MODIFIED p: bin/app does not match the sha256 in {BUILD_MANIFEST}"
            )]
        );
        let mut r = Report::default();
        check_build_manifest("p", Some(b"{\"app\": 1}"), &listed(h('7')), &mut r);
        assert!(r.problems[0].starts_with("CORRUPT p: "), "{:?}", r.problems);
    }
}
