//! Step 2 of `cargo xtask build`: the application source goes into the builder's package
//! folder, either from `git archive HEAD` (a git checkout: committed files only) or as a
//! filtered copy of the folder. The same exclusion rule ([`exclusion`]) applies to both, so
//! secrets (`.env*`), VCS data, IDE folders, dependencies and runtime folders never end up
//! embedded in the binary.
//!
//! Then the files the packages need are added ([`copy_overlay`]: `packaging/app-overlay/`)
//! and the config files of `app.configs`/`app.plugin_configs` are installed from
//! `common/config/` ([`install_configs`]: `<name>.example.php` -> `config/<name>.php`,
//! placeholders filled, replacing a file of that name from the source): that is how the
//! real application reads its settings from the environment (see common/CONFIGS.md).

use std::{fs, io::Read, path::Path};

use anyhow::{bail, Context, Result};

use crate::{config::Config, fsx};

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

/// File (or folder) names excluded wherever they occur: local metadata and caches.
const ANY_DEPTH_FILES: &[&str] = &[".DS_Store", "Thumbs.db", ".phpunit.result.cache"];
/// Name prefix of environment files (`.env`, `.env.local`, ...): secrets come from the
/// runtime environment, never from the binary.
const ENV_PREFIX: &str = ".env";
/// Name suffixes of editor swap and backup files.
const BACKUP_SUFFIXES: &[&str] = &[".swp", ".swo", "~"];

/// One-line summary of the rule, for plans and messages, built from the same tables as
/// [`exclusion`] so it cannot leave a name out.
pub fn exclusion_summary() -> String {
    let mut any: Vec<String> = ANY_DEPTH_DIRS.iter().map(|(n, _)| n.to_string()).collect();
    any.push(format!("{ENV_PREFIX}*"));
    any.extend(BACKUP_SUFFIXES.iter().map(|s| format!("*{s}")));
    any.extend(ANY_DEPTH_FILES.iter().map(|n| n.to_string()));
    let top: Vec<String> = TOP_LEVEL_DIRS
        .iter()
        .map(|(n, _)| format!("{n}/"))
        .collect();
    format!("{}, and top-level {}", any.join(" "), top.join(" "))
}

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
        if c.starts_with(ENV_PREFIX) {
            return Some("environment file (secrets come from the runtime environment)");
        }
        if BACKUP_SUFFIXES.iter().any(|s| c.ends_with(s)) {
            return Some("editor swap or backup file");
        }
        if ANY_DEPTH_FILES.contains(&c) {
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

/// One config file the build installs: `common/config/...example.php` -> a path in the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFile {
    /// Relative to the overrides folder (`common/config/`).
    pub source: String,
    /// Relative to the app root.
    pub dest: String,
    /// For a plugin config: the plugin folder (`plugins/<Plugin>`) that must exist in the app.
    pub plugin: Option<String>,
}

/// The config files of `app.configs` and `app.plugin_configs`, in that order: `<name>` ->
/// `config/<name>.php`; `<Plugin>/<name>` -> `plugins/<Plugin>/config/<name>.php` (only when
/// the app has `plugins/<Plugin>/`, as the original packages did).
pub fn config_files(cfg: &Config) -> Vec<ConfigFile> {
    let app = cfg.app.configs.iter().map(|name| ConfigFile {
        source: format!("{name}.example.php"),
        dest: format!("config/{name}.php"),
        plugin: None,
    });
    let plugins = cfg.app.plugin_configs.iter().filter_map(|entry| {
        let (plugin, name) = entry.split_once('/')?;
        Some(ConfigFile {
            source: format!("plugins/{plugin}/{name}.example.php"),
            dest: format!("plugins/{plugin}/config/{name}.php"),
            plugin: Some(format!("plugins/{plugin}")),
        })
    });
    app.chain(plugins).collect()
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
        Ok(text) => crate::config::render(text, &cfg.placeholders())
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

/// What [`install_configs`] did: files written (app-relative) and plugin configs skipped
/// because the app has no such plugin.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Installed {
    pub written: Vec<String>,
    pub skipped: Vec<String>,
}

/// Installs every file of [`config_files`] from `from` (`common/config/`) into the app at
/// `app`, rendered. A listed file missing from `from` is an error naming it and the fix.
pub fn install_configs(cfg: &Config, from: &Path, app: &Path) -> Result<Installed> {
    let mut done = Installed::default();
    for file in config_files(cfg) {
        if let Some(plugin) = &file.plugin {
            if !app.join(plugin).is_dir() {
                done.skipped.push(file.dest);
                continue;
            }
        }
        let src = from.join(&file.source);
        if !src.is_file() {
            bail!(
                "{} is listed in {} ([app] configs/plugin_configs) but {} does not exist: add the file, or remove the name from the list",
                file.source,
                crate::config::CONFIG_FILE,
                src.display()
            );
        }
        let dest = app.join(&file.dest);
        if dest.exists() {
            eprintln!(
                "note: {} from the app source is replaced by {}",
                file.dest,
                src.display()
            );
        }
        render_file(cfg, &src, &dest)?;
        done.written.push(file.dest);
    }
    Ok(done)
}

/// Copies the overlay folder (`packaging/app-overlay/`: files the packages need inside the
/// embedded app, e.g. `bin/db-lifecycle.php`) over the app at `app`, keeping modes. Returns
/// the app-relative paths copied (sorted). A missing overlay folder copies nothing.
pub fn copy_overlay(from: &Path, app: &Path) -> Result<Vec<String>> {
    if !from.is_dir() {
        return Ok(Vec::new());
    }
    let mut copied = Vec::new();
    for entry in walkdir::WalkDir::new(from).min_depth(1).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot read {}", from.display()))?;
        let rel = entry
            .path()
            .strip_prefix(from)
            .expect("walkdir stays below its root")
            .to_string_lossy()
            .replace(std::path::MAIN_SEPARATOR, "/");
        let to = app.join(&rel);
        let ft = entry.file_type();
        if ft.is_dir() {
            fs::create_dir_all(&to).with_context(|| format!("cannot create {}", to.display()))?;
        } else if ft.is_file() {
            if to.exists() {
                eprintln!(
                    "note: {rel} from the app source is replaced by {}",
                    entry.path().display()
                );
            }
            fs::copy(entry.path(), &to).with_context(|| {
                format!("cannot copy {} to {}", entry.path().display(), to.display())
            })?;
            copied.push(rel);
        } else {
            bail!(
                "{} is not a plain file or folder: the overlay holds files only",
                entry.path().display()
            );
        }
    }
    Ok(copied)
}

/// The app-relative files that must exist in `app`; the ones missing.
pub fn missing_files<'a>(app: &Path, files: &[&'a str]) -> Vec<&'a str> {
    files
        .iter()
        .copied()
        .filter(|f| !app.join(f).is_file())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_names_every_excluded_name() {
        let summary = exclusion_summary();
        let words: Vec<&str> = summary
            .split([' ', ','])
            .map(|w| w.trim_end_matches('/'))
            .collect();
        for (name, _) in ANY_DEPTH_DIRS.iter().chain(TOP_LEVEL_DIRS) {
            assert!(exclusion(name).is_some(), "{name}");
            assert!(words.contains(name), "{name} missing from {summary}");
        }
        for name in ANY_DEPTH_FILES {
            assert!(exclusion(&format!("a/{name}")).is_some(), "{name}");
            assert!(words.contains(name), "{name} missing from {summary}");
        }
        assert!(exclusion(".env.local").is_some() && words.contains(&".env*"));
        for s in BACKUP_SUFFIXES {
            assert!(exclusion(&format!("x{s}")).is_some(), "{s}");
            assert!(words.contains(&format!("*{s}").as_str()), "*{s} missing");
        }
    }

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

    fn cfg_with_lists() -> Config {
        let mut c = Config::default();
        c.app.configs = vec!["app_local".into(), "queue".into()];
        c.app.plugin_configs = vec!["Payments/stripe".into(), "GitSync/gitsync".into()];
        c
    }

    #[test]
    fn config_files_follow_the_lists() {
        let got = config_files(&cfg_with_lists());
        let pairs: Vec<(&str, &str, Option<&str>)> = got
            .iter()
            .map(|f| (f.source.as_str(), f.dest.as_str(), f.plugin.as_deref()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("app_local.example.php", "config/app_local.php", None),
                ("queue.example.php", "config/queue.php", None),
                (
                    "plugins/Payments/stripe.example.php",
                    "plugins/Payments/config/stripe.php",
                    Some("plugins/Payments")
                ),
                (
                    "plugins/GitSync/gitsync.example.php",
                    "plugins/GitSync/config/gitsync.php",
                    Some("plugins/GitSync")
                ),
            ]
        );
    }

    #[test]
    fn configs_are_installed_rendered_and_plugin_configs_only_for_present_plugins() {
        let from = tempfile::tempdir().unwrap();
        let app = tempfile::tempdir().unwrap();
        let f = from.path();
        fs::create_dir_all(f.join("plugins/Payments")).unwrap();
        fs::create_dir_all(f.join("plugins/GitSync")).unwrap();
        fs::write(
            f.join("app_local.example.php"),
            "<?php // @@APP_NAME@@ @@VERSION@@\n",
        )
        .unwrap();
        fs::write(f.join("queue.example.php"), "<?php\n").unwrap();
        fs::write(f.join("unlisted.example.php"), "<?php\n").unwrap();
        fs::write(
            f.join("plugins/Payments/stripe.example.php"),
            "<?php // stripe\n",
        )
        .unwrap();
        fs::write(f.join("plugins/GitSync/gitsync.example.php"), "<?php\n").unwrap();
        let a = app.path();
        fs::create_dir_all(a.join("config")).unwrap();
        fs::write(a.join("config/app_local.php"), "old").unwrap();
        fs::create_dir_all(a.join("plugins/Payments/src")).unwrap();
        let cfg = cfg_with_lists();
        let done = install_configs(&cfg, f, a).unwrap();
        assert_eq!(
            done.written,
            [
                "config/app_local.php",
                "config/queue.php",
                "plugins/Payments/config/stripe.php"
            ]
        );
        assert_eq!(done.skipped, ["plugins/GitSync/config/gitsync.php"]);
        assert_eq!(
            fs::read_to_string(a.join("config/app_local.php")).unwrap(),
            "<?php // orangescrum v0.0.0\n"
        );
        assert!(!a.join("config/unlisted.php").exists(), "only listed files");
        assert!(
            !a.join("plugins/GitSync").exists(),
            "no plugin folder invented"
        );

        fs::remove_file(f.join("queue.example.php")).unwrap();
        let e = format!("{:#}", install_configs(&cfg, f, a).unwrap_err());
        assert!(
            e.contains("queue.example.php is listed in packaging/release.toml"),
            "{e}"
        );
        fs::write(f.join("queue.example.php"), "@@NOPE@@").unwrap();
        let e = format!("{:#}", install_configs(&cfg, f, a).unwrap_err());
        assert!(
            e.contains("queue.example.php") && e.contains("unknown placeholder"),
            "{e}"
        );
    }

    #[test]
    fn overlay_is_copied_over_the_app_with_modes() {
        use std::os::unix::fs::PermissionsExt;
        let from = tempfile::tempdir().unwrap();
        let app = tempfile::tempdir().unwrap();
        fs::create_dir_all(from.path().join("bin")).unwrap();
        fs::write(from.path().join("bin/db-lifecycle.php"), "<?php // new\n").unwrap();
        fsx::set_mode(&from.path().join("bin/db-lifecycle.php"), 0o755).unwrap();
        fs::create_dir_all(app.path().join("bin")).unwrap();
        fs::write(app.path().join("bin/cake.php"), "<?php\n").unwrap();
        fs::write(app.path().join("bin/db-lifecycle.php"), "old").unwrap();
        let copied = copy_overlay(from.path(), app.path()).unwrap();
        assert_eq!(copied, ["bin/db-lifecycle.php"]);
        let dest = app.path().join("bin/db-lifecycle.php");
        assert_eq!(fs::read_to_string(&dest).unwrap(), "<?php // new\n");
        assert_eq!(
            fs::metadata(&dest).unwrap().permissions().mode() & 0o777,
            0o755
        );
        assert!(
            app.path().join("bin/cake.php").is_file(),
            "the app keeps its files"
        );
        assert!(copy_overlay(&from.path().join("none"), app.path())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn missing_required_files() {
        let app = tempfile::tempdir().unwrap();
        fs::create_dir_all(app.path().join("webroot")).unwrap();
        fs::write(app.path().join("composer.json"), "{}").unwrap();
        assert_eq!(
            missing_files(app.path(), &["composer.json", "webroot/index.php"]),
            ["webroot/index.php"]
        );
    }
}
