//! References: every file the Dockerfile, the compose files, the systemd units and the
//! scripts point at is in the package, scripts and binaries are executable (0755), and the
//! package has the files its target needs.
//!
//! Rules worth knowing:
//! - `.env` is never shipped (the operator creates it from `.env.example`), so a reference
//!   to `.env` is satisfied by a `.env.example` beside it.
//! - In unit files `@@PREFIX@@` is the installation folder, i.e. the package root.
//! - Scripts copied into the image (by the Dockerfile) run there: their absolute paths
//!   below the folders the Dockerfile copies into (e.g. `/app/...`) must be copied too.
//! - In scripts, a word is a package path when its first folder is one of the package's
//!   top-level folders (or `bin/`, `helpers/`, `systemd/`); `$VAR/` prefixes (`$PKG_DIR`,
//!   `$PREFIX`) stand for the package root; words after `php-cli` are paths inside the
//!   embedded application and are skipped.

use std::collections::BTreeSet;

use super::{
    compose, dockerfile, join_rel,
    shell::{self, is_name},
    systemd::{self, PREFIX},
    AuditFinding, FileKind, Package,
};
use crate::{
    manifest::{self, BuildManifest, BUILD_MANIFEST},
    target::Target,
};

pub const INCOMPLETE: &str = "package-incomplete";
pub const MISSING: &str = "ref-missing";
pub const NOT_EXECUTABLE: &str = "ref-not-executable";

/// Folders that always hold package files, even when a package lost all of them.
const PACKAGE_DIRS: &[&str] = &["bin", "helpers", "systemd"];

/// System folders: a Dockerfile copying into them does not make the folder the image's own.
const SYSTEM_DIRS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc", "/tmp", "/var", "/dev", "/proc", "/sys",
    "/run", "/root", "/home",
];

fn missing(file: &str, line: Option<usize>, what: &str, path: &str) -> AuditFinding {
    AuditFinding::error(
        MISSING,
        file,
        line,
        format!("{what} refers to {path}, which is not in the package"),
        format!("add {path} to the package sources (common/ or targets/<target>/), or fix the reference"),
    )
}

/// Checks that `rel` (a file or folder) exists; `.env` is satisfied by `.env.example`.
fn check_exists(
    pkg: &Package,
    file: &str,
    line: Option<usize>,
    what: &str,
    rel: &str,
    out: &mut Vec<AuditFinding>,
) {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if name == ".env" {
        let example = format!("{rel}.example");
        if !pkg.is_file(rel) && !pkg.is_file(&example) {
            out.push(AuditFinding::error(
                MISSING,
                file,
                line,
                format!("{what} reads {rel}, and the package has no {example} to create it from"),
                "ship .env.example (common/.env.example) with every variable documented",
            ));
        }
        return;
    }
    if rel.contains(['*', '?', '[']) {
        if pkg.glob(rel).is_empty() {
            out.push(missing(file, line, what, rel));
        }
    } else if !(pkg.is_file(rel) || pkg.is_dir(rel)) {
        out.push(missing(file, line, what, rel));
    }
}

fn check_executable(
    pkg: &Package,
    file: &str,
    line: Option<usize>,
    what: &str,
    rel: &str,
    out: &mut Vec<AuditFinding>,
) {
    match pkg.resolve(rel) {
        None => out.push(missing(file, line, what, rel)),
        Some(f) if f.mode & 0o111 != 0o111 => out.push(AuditFinding::error(
            NOT_EXECUTABLE,
            file,
            line,
            format!("{what} runs {rel}, which has mode {:04o} (not executable)", f.mode),
            format!("make it executable: chmod 0755 {rel} in the package sources (packaging gives *.sh and #! files 0755)"),
        )),
        Some(_) => {}
    }
}

/// The files each target needs.
fn completeness(pkg: &Package, out: &mut Vec<AuditFinding>) {
    let need: &[(&str, &str)] = match pkg.target {
        Some(Target::Docker) => &[
            ("Dockerfile", "Dockerfile"),
            (
                "docker-compose.yaml",
                "production compose file (docker-compose.yaml)",
            ),
            (".env.example", ".env.example"),
        ],
        Some(Target::Native) => &[
            ("systemd/*.service", "systemd units (systemd/*.service)"),
            (".env.example", ".env.example"),
        ],
        Some(Target::Kubernetes) => &[
            ("kustomization.yaml", "Kustomize base (kustomization.yaml)"),
            (".env.example", ".env.example"),
        ],
        None => {
            out.push(AuditFinding::warning(
                INCOMPLETE,
                BUILD_MANIFEST,
                None,
                "cannot tell the package's target: no build-manifest.json, Dockerfile or systemd units",
                "audit a folder made by cargo xtask package (dist/<version>/<target>/)",
            ));
            return;
        }
    };
    for (path, what) in need {
        let present = if path.contains('*') {
            !pkg.glob(path).is_empty()
        } else if *path == "docker-compose.yaml" {
            compose::compose_files(pkg)
                .iter()
                .any(|f| compose::is_production(f))
        } else {
            pkg.is_file(path)
        };
        if !present {
            out.push(AuditFinding::error(
                INCOMPLETE,
                path,
                None,
                format!(
                    "the {} package has no {what}",
                    pkg.target.map(Target::name).unwrap_or("?")
                ),
                "restore it in targets/<target>/ or common/ and package again",
            ));
        }
    }
}

/// Scripts and ELF files must be 0755; the application binary named by the manifest must
/// be there.
fn modes(pkg: &Package, out: &mut Vec<AuditFinding>) {
    for (rel, f) in &pkg.files {
        let (is_exe, line) = match &f.kind {
            FileKind::Elf => (true, None),
            FileKind::Text(t) => (
                t.starts_with("#!") || shell::is_shell_script(rel, t),
                Some(1),
            ),
            _ => (false, None),
        };
        if is_exe && f.mode != 0o755 {
            out.push(AuditFinding::error(
                NOT_EXECUTABLE,
                rel,
                line,
                format!("{} has mode {:04o}; scripts and binaries ship as 0755", if line.is_some() { "this script" } else { "this binary" }, f.mode),
                format!("chmod 0755 {rel} (cargo xtask package sets it for *.sh, #! files and the binary; was the file changed after packaging?)"),
            ));
        }
    }
    let manifest = pkg
        .text(BUILD_MANIFEST)
        .and_then(|t| manifest::parse::<BuildManifest>(t.as_bytes(), BUILD_MANIFEST).ok());
    if let Some(path) = manifest.as_ref().and_then(|m| m.binary.path.as_deref()) {
        let line = pkg
            .text(BUILD_MANIFEST)
            .and_then(|t| t.lines().position(|l| l.contains("\"path\"")))
            .map(|i| i + 1);
        match pkg.resolve(path) {
            None => out.push(missing(BUILD_MANIFEST, line, "the build manifest", path)),
            Some(f) if f.kind != FileKind::Elf => out.push(AuditFinding::error(
                MISSING,
                BUILD_MANIFEST,
                line,
                format!("the application binary {path} is not an ELF executable"),
                "package again from the real binary",
            )),
            Some(_) => {}
        }
    }
}

/// `COPY`/`ADD` sources, the `.dockerignore`, and the image paths the entrypoint uses.
fn dockerfile_refs(pkg: &Package, out: &mut Vec<AuditFinding>) {
    for df in dockerfile::dockerfiles(pkg) {
        let Some(text) = pkg.text(df) else { continue };
        let context = df.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        let ignore_path = join_rel(context, ".dockerignore").unwrap_or_default();
        let ignore = pkg.text(&ignore_path);
        let m = dockerfile::model(text);
        // Absolute paths the image gets from the package: (image path, package path).
        let mut provided: Vec<(String, String)> = Vec::new();
        for c in &m.copies {
            let multi = c.sources.len() > 1 || c.dest.ends_with('/');
            for src in c.sources.iter().flatten() {
                if src.contains("://") || src.starts_with("git@") {
                    continue;
                }
                let Some(rel) = join_rel(context, src.trim_start_matches('/')) else {
                    out.push(AuditFinding::error(
                        MISSING,
                        df,
                        Some(c.line),
                        format!("{} source {src} is outside the build context", c.keyword),
                        "copy only files inside the package folder",
                    ));
                    continue;
                };
                check_exists(pkg, df, Some(c.line), &c.keyword, &rel, out);
                let matched: Vec<String> = if rel.contains(['*', '?', '[']) {
                    pkg.glob(&rel).into_iter().map(String::from).collect()
                } else if pkg.is_file(&rel) {
                    vec![rel.clone()]
                } else {
                    pkg.files
                        .keys()
                        .filter(|k| k.starts_with(&format!("{rel}/")))
                        .cloned()
                        .collect()
                };
                if let Some(ig) = ignore {
                    for f in &matched {
                        let in_ctx = f.strip_prefix(&format!("{context}/")).unwrap_or(f);
                        if let Some(l) = dockerfile::dockerignore_excludes(ig, in_ctx) {
                            out.push(AuditFinding::error(
                                MISSING,
                                df,
                                Some(c.line),
                                format!("{} needs {f}, but {ignore_path} line {l} keeps it out of the build context: the build fails", c.keyword),
                                format!("add !{in_ctx} to {ignore_path}"),
                            ));
                        }
                    }
                }
                if c.dest.starts_with('/') {
                    let dest = if multi || pkg.is_dir(&rel) && !pkg.is_file(&rel) {
                        format!(
                            "{}/{}",
                            c.dest.trim_end_matches('/'),
                            src.rsplit('/').next().unwrap_or(src)
                        )
                    } else {
                        c.dest.clone()
                    };
                    provided.push((dest, rel.clone()));
                }
            }
        }
        // Folders the image gets its own files in (not system folders).
        let owned: BTreeSet<String> = provided
            .iter()
            .filter_map(|(d, _)| d.rsplit_once('/').map(|(p, _)| p.to_string()))
            .filter(|p| {
                !p.is_empty()
                    && !SYSTEM_DIRS
                        .iter()
                        .any(|s| p == s || p.starts_with(&format!("{s}/")))
            })
            .collect();
        let is_provided = |p: &str| {
            provided
                .iter()
                .any(|(d, _)| p == d || p.starts_with(&format!("{d}/")))
        };
        let needs_check = |p: &str| owned.iter().any(|o| p.starts_with(&format!("{o}/")));
        let stage = m.final_stage();
        if let Some(e) = stage.iter().rev().find(|i| i.keyword == "ENTRYPOINT") {
            if let Some(first) = dockerfile::exec_form(&e.args).and_then(|v| v.into_iter().next()) {
                if first.starts_with('/') && needs_check(&first) && !is_provided(&first) {
                    out.push(AuditFinding::error(
                        MISSING,
                        df,
                        Some(e.line),
                        format!("ENTRYPOINT runs {first}, which no COPY puts into the image"),
                        "COPY the script into the image (and list it in .dockerignore as !<path>)",
                    ));
                }
            }
        }
        // Scripts copied into the image run there: their absolute paths below the image's
        // own folders must be copied as well.
        for (_, script) in &provided {
            let Some(t) = pkg
                .text(script)
                .filter(|t| shell::is_shell_script(script, t))
            else {
                continue;
            };
            for (line, word) in path_words(t) {
                if word.starts_with('/') && needs_check(&word) && !is_provided(&word) {
                    out.push(AuditFinding::error(
                        MISSING,
                        script,
                        Some(line),
                        format!("{word} is used inside the image, but {df} copies nothing there"),
                        format!("add a COPY for it to {df} (and !<path> to .dockerignore)"),
                    ));
                }
            }
        }
    }
}

/// Candidate path words of a script: every whitespace-separated piece of every word,
/// trimmed of punctuation, with assignments and `--opt=` split off; stops at `php-cli`.
fn path_words(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for cmd in shell::lex(text).commands {
        for w in cmd {
            if w.text == "php-cli" {
                break;
            }
            for piece in w.text.split_whitespace() {
                let mut p = piece.trim_start_matches(['(', '"', '\'']);
                p = p.trim_end_matches(['.', ',', ';', ':', ')', '"', '\'']);
                if let Some((k, v)) = p.split_once('=') {
                    if is_name(k) || k.starts_with("--") {
                        p = v;
                    }
                }
                if !p.is_empty() && p.contains('/') && !p.contains("://") {
                    out.push((w.line, p.to_string()));
                }
            }
        }
    }
    out
}

/// Strips leading `$VAR/` and `${VAR}/` (they stand for the package root) and `./`.
fn package_relative(word: &str) -> Option<String> {
    let mut w = word;
    loop {
        if let Some(rest) = w.strip_prefix("./") {
            w = rest;
        } else if let Some(rest) = w.strip_prefix("${") {
            let (name, after) = rest.split_once('}')?;
            if !is_name(name) {
                return None;
            }
            w = after.strip_prefix('/')?;
        } else if let Some(rest) = w.strip_prefix('$') {
            let n = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if n == 0 {
                return None;
            }
            w = rest[n..].strip_prefix('/')?;
        } else {
            break;
        }
    }
    if w.contains('$') || w.contains('`') || w.starts_with('/') || w.split('/').any(|c| c == "..") {
        return None;
    }
    Some(w.to_string())
}

fn script_refs(pkg: &Package, out: &mut Vec<AuditFinding>) {
    let mut dirs: BTreeSet<&str> = pkg.top_dirs().into_iter().collect();
    dirs.extend(PACKAGE_DIRS);
    for (rel, text) in pkg.texts() {
        if !shell::is_shell_script(rel, text) {
            continue;
        }
        for (line, word) in path_words(text) {
            let Some(p) = package_relative(&word) else {
                continue;
            };
            let Some((first, _)) = p.split_once('/') else {
                continue;
            };
            if !dirs.contains(first) {
                continue;
            }
            let p = p.trim_end_matches('/');
            check_exists(pkg, rel, Some(line), "this script", p, out);
        }
    }
}

fn compose_refs(pkg: &Package, out: &mut Vec<AuditFinding>) {
    for rel in compose::compose_files(pkg) {
        let Some(text) = pkg.text(rel) else { continue };
        let Ok(Some(doc)) = compose::parse(rel, text) else {
            continue; // reported by the compose check
        };
        for (line, what, path, optional) in compose::references(rel, &doc) {
            match path {
                None => out.push(AuditFinding::error(
                    MISSING,
                    rel,
                    Some(line),
                    format!("the {what} points outside the package"),
                    "refer only to files inside the package folder",
                )),
                Some(_) if optional => {}
                Some(p) => check_exists(pkg, rel, Some(line), &format!("the {what}"), &p, out),
            }
        }
    }
}

fn unit_refs(pkg: &Package, out: &mut Vec<AuditFinding>) {
    let in_prefix = |p: &str| -> Option<String> {
        if p == PREFIX {
            return Some(String::new());
        }
        p.strip_prefix(&format!("{PREFIX}/"))
            .map(|r| r.trim_end_matches('/').to_string())
    };
    for unit in systemd::unit_files(pkg) {
        let Some(text) = pkg.text(unit) else { continue };
        for e in systemd::parse_unit(text) {
            let at = Some(e.line);
            let what = format!("{}=", e.key);
            if systemd::is_exec_key(&e.key) {
                let (_, words) = systemd::exec_words(&e.value);
                if let Some(rel) = words.first().and_then(|w| in_prefix(w)) {
                    check_executable(pkg, unit, at, &what, &rel, out);
                }
                continue;
            }
            let optional = e.value.starts_with('-');
            let value = e.value.trim_start_matches(['-', '+']);
            match e.key.as_str() {
                "EnvironmentFile" | "WorkingDirectory" => {
                    if let Some(rel) = in_prefix(value) {
                        if !optional {
                            check_exists(pkg, unit, at, &what, &rel, out);
                        }
                    }
                }
                "ReadOnlyPaths" | "ReadWritePaths" | "InaccessiblePaths" | "ExecPaths"
                | "NoExecPaths" | "BindPaths" | "BindReadOnlyPaths" => {
                    for w in e.value.split_whitespace() {
                        let optional = w.starts_with('-');
                        let w = w.trim_start_matches(['-', '+']);
                        let src = w.split(':').next().unwrap_or(w);
                        if let Some(rel) = in_prefix(src) {
                            if !optional {
                                check_exists(pkg, unit, at, &what, &rel, out);
                            }
                        }
                    }
                }
                "Documentation" => {
                    for w in e.value.split_whitespace() {
                        if let Some(rel) = w.strip_prefix("file:").and_then(in_prefix) {
                            if !pkg.is_file(&rel) {
                                let mut f = missing(unit, at, &what, &rel);
                                f.severity = super::Severity::Warning;
                                out.push(f);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

pub fn check(pkg: &Package) -> Vec<AuditFinding> {
    let mut out = Vec::new();
    completeness(pkg, &mut out);
    modes(pkg, &mut out);
    dockerfile_refs(pkg, &mut out);
    compose_refs(pkg, &mut out);
    unit_refs(pkg, &mut out);
    script_refs(pkg, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(files: &[(&str, u32, &str)]) -> Package {
        Package::from_texts(Some(Target::Docker), files)
    }

    const DOCKERFILE: &str = "FROM a:1\nCOPY entrypoint.sh /app/entrypoint.sh\nCOPY helpers/v.sh /app/helpers/v.sh\nUSER 1\nHEALTHCHECK CMD true\nENTRYPOINT [\"/app/entrypoint.sh\"]\n";
    const ENTRY: &str =
        "#!/bin/sh\nV=/app/helpers/v.sh\nexec \"$V\" && echo see helpers/v.sh.\nexec /app/helpers/v.sh php-cli bin/cake.php\n";

    fn base() -> Vec<(&'static str, u32, &'static str)> {
        vec![
            ("Dockerfile", 0o644, DOCKERFILE),
            (
                "docker-compose.yaml",
                0o644,
                "services:\n  a:\n    build: .\n    env_file: .env\n",
            ),
            (".env.example", 0o644, "A=1\n"),
            ("entrypoint.sh", 0o755, ENTRY),
            ("helpers/v.sh", 0o755, "#!/bin/sh\n"),
            (".dockerignore", 0o644, "*\n!entrypoint.sh\n!helpers/v.sh\n"),
        ]
    }

    fn ids(files: &[(&str, u32, &str)]) -> Vec<(&'static str, String)> {
        check(&pkg(files))
            .into_iter()
            .map(|f| (f.check, f.location()))
            .collect()
    }

    #[test]
    fn a_consistent_package_passes() {
        assert_eq!(ids(&base()), []);
    }

    #[test]
    fn an_image_path_nothing_copies_is_missing() {
        let mut files = base();
        files[3].2 =
            "#!/bin/sh\nV=/app/helpers/v.sh\nexec \"$V\"\nexec /app/x php-cli bin/cake.php\n";
        assert_eq!(ids(&files), [(MISSING, "entrypoint.sh:4".to_string())]);
    }

    #[test]
    fn defects() {
        let mut files = base();
        files[3].2 = "#!/bin/sh\nexec /app/helpers/v.sh\n";
        assert_eq!(ids(&files), []);
        files[4].1 = 0o644;
        assert_eq!(
            ids(&files),
            [(NOT_EXECUTABLE, "helpers/v.sh:1".to_string())]
        );
        files[4].1 = 0o755;
        files.remove(4);
        assert_eq!(ids(&files), [(MISSING, "Dockerfile:3".to_string())]);
        let mut files = base();
        files[3].2 = "#!/bin/sh\nexec /app/helpers/v.sh\n";
        files[5].2 = "*\n!entrypoint.sh\n";
        assert_eq!(ids(&files), [(MISSING, "Dockerfile:3".to_string())]);
        files.remove(2);
        assert_eq!(
            ids(&files),
            [
                (INCOMPLETE, ".env.example".to_string()),
                (MISSING, "Dockerfile:3".to_string()),
                (MISSING, "docker-compose.yaml:4".to_string())
            ]
        );
    }

    #[test]
    fn units() {
        let unit = "[Service]\nWorkingDirectory=@@PREFIX@@\nEnvironmentFile=@@PREFIX@@/.env\nEnvironmentFile=-@@PREFIX@@/opt.env\nExecStartPre=@@PREFIX@@/helpers/v.sh\nExecStart=@@PREFIX@@/bin/app x\nReadOnlyPaths=@@PREFIX@@ -@@PREFIX@@/data\n";
        let p = Package::from_texts(
            Some(Target::Native),
            &[
                ("systemd/a.service", 0o644, unit),
                (".env.example", 0o644, ""),
                ("helpers/v.sh", 0o644, "#!/bin/sh\n"),
            ],
        );
        let f: Vec<(&str, String)> = check(&p)
            .into_iter()
            .map(|f| (f.check, f.location()))
            .collect();
        assert_eq!(
            f,
            [
                (NOT_EXECUTABLE, "helpers/v.sh:1".to_string()),
                (NOT_EXECUTABLE, "systemd/a.service:5".to_string()),
                (MISSING, "systemd/a.service:6".to_string()),
            ]
        );
    }

    #[test]
    fn path_word_extraction() {
        let w: Vec<String> = path_words("BIN=bin/app\nlog \"run ($PREFIX/helpers/x.sh).\"\nexec \"$BIN\" php-cli bin/cake.php\nsed 's|a|b|' --file=config/x\n")
            .into_iter()
            .map(|(_, w)| w)
            .collect();
        assert_eq!(w, ["bin/app", "$PREFIX/helpers/x.sh", "config/x"]);
        assert_eq!(
            package_relative("${PKG_DIR}/systemd/*.service").as_deref(),
            Some("systemd/*.service")
        );
        assert_eq!(package_relative("$PREFIX/$rel"), None);
        assert_eq!(package_relative("./bin/x").as_deref(), Some("bin/x"));
        assert_eq!(package_relative("../x"), None);
    }
}
