//! Step 2 of `cargo xtask build`: the application source goes into the builder's package
//! folder, either from `git archive HEAD` (a git checkout: committed files only) or as a
//! filtered copy of the folder. The same exclusion rule ([`exclusion`]) applies to both, so
//! secrets (`.env*`), VCS data, IDE folders, dependencies and runtime folders never end up
//! embedded in the binary.
//!
//! Then the production config overrides `common/config/<name>.example.php` are installed
//! as `config/<name>.php` of the app (placeholders filled, replacing a file of that name
//! from the source): that is how the real application reads its settings from the
//! environment (see common/CONFIGS.md).

use std::{
    fs,
    io::Read,
    path::{Path, PathBuf},
};

use anyhow::{bail, Context, Result};

use crate::{config::Config, fsx, package};

/// Folder names excluded wherever they occur.
const ANY_DEPTH_DIRS: &[(&str, &str)] = &[
    (".git", "version control data"),
    (".svn", "version control data"),
    (".hg", "version control data"),
    (".idea", "IDE settings"),
    (".vscode", "IDE settings"),
    (".fleet", "IDE settings"),
    (".vs", "IDE settings"),
    (
        "node_modules",
        "front-end build dependencies (not used at runtime)",
    ),
    (".phpunit.cache", "test cache"),
];

/// Folders excluded at the top of the app only: CakePHP's runtime folders and Composer's
/// `vendor/` (installed fresh in the builder). Deeper folders of these names (e.g.
/// `webroot/js/vendor/`) are application assets and are kept.
const TOP_LEVEL_DIRS: &[(&str, &str)] = &[
    ("vendor", "Composer dependencies (installed in the builder)"),
    ("tmp", "runtime folder"),
    ("logs", "runtime folder"),
    ("cache", "runtime folder"),
];

/// One-line summary of the rule, for plans and messages.
pub const EXCLUSION_SUMMARY: &str = ".git .svn .hg .idea .vscode node_modules .env* *.swp *.swo *~ .DS_Store, and top-level vendor/ tmp/ logs/ cache/";

/// Why the app-relative path `rel` (`/`-separated, a file or folder) is left out of the
/// binary, or `None` when it is kept. A path below an excluded folder is excluded too.
pub fn exclusion(rel: &str) -> Option<&'static str> {
    let comps: Vec<&str> = rel
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    for (i, &c) in comps.iter().enumerate() {
        if let Some((_, why)) = ANY_DEPTH_DIRS.iter().find(|(n, _)| *n == c) {
            return Some(why);
        }
        if i == 0 {
            if let Some((_, why)) = TOP_LEVEL_DIRS.iter().find(|(n, _)| *n == c) {
                return Some(why);
            }
        }
        if c.starts_with(".env") {
            return Some("environment file (secrets come from the runtime environment)");
        }
        if c.ends_with(".swp") || c.ends_with(".swo") || c.ends_with('~') {
            return Some("editor swap or backup file");
        }
        if c == ".DS_Store" || c == "Thumbs.db" || c == ".phpunit.result.cache" {
            return Some("local metadata or cache file");
        }
    }
    None
}

/// What an extraction or copy did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Copied {
    pub kept: usize,
    pub excluded: usize,
}

/// Unpacks a tar stream (e.g. `git archive` output) into `dest`, skipping excluded paths.
pub fn extract_filtered(reader: impl Read, dest: &Path) -> Result<Copied> {
    let mut ar = tar::Archive::new(reader);
    ar.set_preserve_mtime(true);
    let mut n = Copied::default();
    for entry in ar.entries().context("cannot read the tar stream")? {
        let mut entry = entry.context("damaged tar entry")?;
        let ty = entry.header().entry_type();
        if !(ty.is_file() || ty.is_dir() || ty.is_symlink() || ty.is_hard_link()) {
            // pax/GNU metadata records (git archive writes the commit id in one).
            continue;
        }
        let rel = entry
            .path()
            .context("bad entry path")?
            .to_string_lossy()
            .into_owned();
        if exclusion(&rel).is_some() {
            n.excluded += 1;
            continue;
        }
        let inside = entry
            .unpack_in(dest)
            .with_context(|| format!("cannot extract {rel} into {}", dest.display()))?;
        if !inside {
            bail!(
                "the archive entry {rel} points outside {}: refusing it",
                dest.display()
            );
        }
        if !ty.is_dir() {
            n.kept += 1;
        }
    }
    Ok(n)
}

/// Copies the folder `src` into `dest` (created by the caller), skipping excluded paths.
/// Files keep their mode; links are copied as links.
pub fn copy_filtered(src: &Path, dest: &Path) -> Result<Copied> {
    let mut n = Copied::default();
    let mut walk = walkdir::WalkDir::new(src).min_depth(1).into_iter();
    while let Some(entry) = walk.next() {
        let entry = entry.with_context(|| format!("cannot read {}", src.display()))?;
        let rel = entry
            .path()
            .strip_prefix(src)
            .expect("walkdir stays below its root")
            .to_string_lossy()
            .replace(std::path::MAIN_SEPARATOR, "/");
        let ft = entry.file_type();
        if exclusion(&rel).is_some() {
            n.excluded += 1;
            if ft.is_dir() {
                walk.skip_current_dir();
            }
            continue;
        }
        let to = dest.join(&rel);
        if ft.is_dir() {
            fs::create_dir_all(&to).with_context(|| format!("cannot create {}", to.display()))?;
        } else if ft.is_symlink() {
            let target = fs::read_link(entry.path())
                .with_context(|| format!("cannot read the link {}", entry.path().display()))?;
            std::os::unix::fs::symlink(&target, &to)
                .with_context(|| format!("cannot create the link {}", to.display()))?;
            n.kept += 1;
        } else if ft.is_file() {
            fs::copy(entry.path(), &to).with_context(|| {
                format!(
                    "cannot copy {} to {} (disk full?)",
                    entry.path().display(),
                    to.display()
                )
            })?;
            n.kept += 1;
        } else {
            bail!(
                "{} is a socket, FIFO or device: remove it from the app source",
                entry.path().display()
            );
        }
    }
    Ok(n)
}

/// `app_local.example.php` -> `app_local.php`; `None` for any other name.
pub fn override_name(file_name: &str) -> Option<String> {
    let stem = file_name.strip_suffix(".example.php")?;
    (!stem.is_empty() && !stem.contains('/')).then(|| format!("{stem}.php"))
}

/// Renders `src` (placeholders filled from the configuration) into `dest`, mode 0644.
pub fn render_file(cfg: &Config, src: &Path, dest: &Path) -> Result<()> {
    let bytes = fs::read(src).with_context(|| {
        format!(
            "cannot read {}: restore it (git checkout -- {})",
            src.display(),
            src.display()
        )
    })?;
    let out = match std::str::from_utf8(&bytes) {
        Ok(text) => package::render(text, &cfg.placeholders())
            .with_context(|| format!("{}", src.display()))?
            .into_bytes(),
        Err(_) => bytes,
    };
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    fsx::write_file(dest, &out, 0o644)
}

/// Installs every `<from>/<name>.example.php` as `<to>/<name>.php`; returns the names
/// written (sorted). A missing `from` folder installs nothing.
pub fn install_overrides(cfg: &Config, from: &Path, to: &Path) -> Result<Vec<String>> {
    if !from.is_dir() {
        return Ok(Vec::new());
    }
    let mut names: Vec<(PathBuf, String)> = fs::read_dir(from)
        .with_context(|| format!("cannot read {}", from.display()))?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = override_name(&e.file_name().to_string_lossy())?;
            Some((e.path(), name))
        })
        .collect();
    names.sort_by(|a, b| a.1.cmp(&b.1));
    let mut written = Vec::new();
    for (src, name) in names {
        let dest = to.join(&name);
        if dest.exists() {
            eprintln!(
                "note: {} from the app source is replaced by {}",
                dest.display(),
                src.display()
            );
        }
        render_file(cfg, &src, &dest)?;
        written.push(name);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusion_rule() {
        for (path, excluded) in [
            (".git", true),
            (".git/config", true),
            ("plugins/x/.git/HEAD", true),
            (".env", true),
            (".env.local", true),
            ("config/.env.example", true),
            (".envrc", true),
            ("vendor", true),
            ("vendor/autoload.php", true),
            ("./vendor/autoload.php", true),
            ("tmp/cache/x", true),
            ("logs/error.log", true),
            ("cache/a", true),
            ("node_modules/a/b.js", true),
            ("webroot/node_modules/x", true),
            (".idea/workspace.xml", true),
            ("src/.vscode/settings.json", true),
            ("src/Controller/App.php.swp", true),
            ("src/a.php~", true),
            ("src/.DS_Store", true),
            // kept
            ("src/Controller/AppController.php", false),
            ("webroot/js/vendor/jquery.js", false),
            ("src/Cache/Engine.php", false),
            ("plugins/Foo/tmp.php", false),
            ("config/app.php", false),
            ("environment.md", false),
            (".htaccess", false),
            ("composer.json", false),
            ("webroot/.gitkeep", false),
        ] {
            assert_eq!(exclusion(path).is_some(), excluded, "{path}");
        }
    }

    #[test]
    fn override_names() {
        assert_eq!(
            override_name("app_local.example.php").as_deref(),
            Some("app_local.php")
        );
        assert_eq!(
            override_name("queue.example.php").as_deref(),
            Some("queue.php")
        );
        assert_eq!(override_name(".example.php"), None);
        assert_eq!(override_name("app.php"), None);
        assert_eq!(override_name("README.md"), None);
        assert_eq!(override_name("app_local.example.php.bak"), None);
    }

    fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, path, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn extraction_skips_excluded_entries() {
        let t = tempfile::tempdir().unwrap();
        let data = tar_of(&[
            ("composer.json", b"{}"),
            ("src/App.php", b"<?php"),
            (".env", b"SECRET=1"),
            ("vendor/autoload.php", b"<?php"),
            ("webroot/js/vendor/x.js", b"x"),
        ]);
        let n = extract_filtered(&data[..], t.path()).unwrap();
        assert_eq!(
            n,
            Copied {
                kept: 3,
                excluded: 2
            }
        );
        assert!(t.path().join("src/App.php").is_file());
        assert!(t.path().join("webroot/js/vendor/x.js").is_file());
        assert!(!t.path().join(".env").exists());
        assert!(!t.path().join("vendor").exists());
        assert!(extract_filtered(&b"not a tar archive at all, just text"[..], t.path()).is_err());
    }

    #[test]
    fn copy_skips_excluded_paths_and_keeps_modes_and_links() {
        use std::os::unix::fs::PermissionsExt;
        let src = tempfile::tempdir().unwrap();
        let dst = tempfile::tempdir().unwrap();
        let s = src.path();
        for d in ["src", ".git/objects", "node_modules/a", "tmp/cache", "bin"] {
            fs::create_dir_all(s.join(d)).unwrap();
        }
        fs::write(s.join("src/App.php"), "<?php").unwrap();
        fs::write(s.join(".git/objects/x"), "x").unwrap();
        fs::write(s.join("node_modules/a/i.js"), "x").unwrap();
        fs::write(s.join(".env"), "S=1").unwrap();
        fs::write(s.join("bin/cake"), "#!/bin/sh\n").unwrap();
        fsx::set_mode(&s.join("bin/cake"), 0o755).unwrap();
        std::os::unix::fs::symlink("../src/App.php", s.join("bin/app")).unwrap();
        let n = copy_filtered(s, dst.path()).unwrap();
        assert_eq!(n.kept, 3, "{n:?}");
        assert_eq!(n.excluded, 4, "{n:?}");
        let d = dst.path();
        assert!(d.join("src/App.php").is_file());
        assert!(!d.join(".git").exists() && !d.join("node_modules").exists());
        assert!(!d.join("tmp").exists() && !d.join(".env").exists());
        let mode = fs::metadata(d.join("bin/cake"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
        assert_eq!(
            fs::read_link(d.join("bin/app")).unwrap(),
            Path::new("../src/App.php")
        );
    }

    #[test]
    fn overrides_are_installed_rendered_under_their_real_names() {
        let from = tempfile::tempdir().unwrap();
        let to = tempfile::tempdir().unwrap();
        fs::write(
            from.path().join("app_local.example.php"),
            "<?php // @@APP_NAME@@ @@VERSION@@\n",
        )
        .unwrap();
        fs::write(from.path().join("queue.example.php"), "<?php\n").unwrap();
        fs::write(from.path().join("notes.md"), "x").unwrap();
        fs::create_dir(to.path().join("config")).unwrap();
        fs::write(to.path().join("config/app_local.php"), "old").unwrap();
        let cfg = Config::default();
        let names = install_overrides(&cfg, from.path(), &to.path().join("config")).unwrap();
        assert_eq!(names, ["app_local.php", "queue.php"]);
        assert_eq!(
            fs::read_to_string(to.path().join("config/app_local.php")).unwrap(),
            "<?php // orangescrum v0.0.0\n"
        );
        assert!(!to.path().join("config/notes.md").exists());
        assert!(
            install_overrides(&cfg, &from.path().join("none"), to.path())
                .unwrap()
                .is_empty()
        );
        fs::write(from.path().join("bad.example.php"), "@@NOPE@@").unwrap();
        let e = format!(
            "{:#}",
            install_overrides(&cfg, from.path(), to.path()).unwrap_err()
        );
        assert!(
            e.contains("bad.example.php") && e.contains("unknown placeholder"),
            "{e}"
        );
    }
}
