//! Packs the PHP app the stand-in embeds, the way the real build assembles FrankenPHP's
//! `app.tar`: the fixture app (`sample-app/fixture/`), plus what the release build adds to
//! every app (`common/config/*.example.php` as `config/<name>.php`, plugin configs,
//! `packaging/builder/Caddyfile`, `common/php/php.ini`, `packaging/app-overlay/**`).
//!
//! Like `cargo xtask build` (`build/source.rs`, `render_file`), the files the build adds are
//! rendered: `@@NAME@@` placeholders take their values from `packaging/release.toml`
//! (file values only; `--set` and `XTASK_*` overrides do not reach a build script).
//!
//! The pack is a simple length-prefixed format (see `src/embed.rs`), written to `OUT_DIR`
//! with a content checksum, so two builds of the same sources embed the same bytes
//! whatever the checkout path, file times or creation order.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// First line of the pack; `src/embed.rs` checks it.
const MAGIC: &str = "orangescrum-sample-app 1\n";

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let repo = manifest
        .parent()
        .expect("sample-app sits in the repository")
        .to_path_buf();
    let mut files: BTreeMap<String, (u32, Vec<u8>)> = BTreeMap::new();
    let release = repo.join("packaging/release.toml");
    watch_or_parent(&release);
    let values = placeholders(&fs::read_to_string(&release).unwrap_or_default());

    // Directories are watched as a whole: cargo then also notices files added to them.
    let fixture = manifest.join("fixture");
    watch(&fixture);
    add_tree(&fixture, "", &mut files);

    let config = repo.join("common/config");
    watch_or_parent(&config);
    for (name, path) in example_files(&config) {
        add_rendered(&path, &format!("config/{name}.php"), &values, &mut files);
    }
    // Plugin configs only for plugins the app has, as the original entrypoint did.
    let plugin_configs = config.join("plugins");
    for plugin in sorted_entries(&plugin_configs) {
        let Some(plugin_name) = plugin.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !plugin.is_dir() || !fixture.join("plugins").join(plugin_name).is_dir() {
            continue;
        }
        for (name, path) in example_files(&plugin) {
            add_rendered(
                &path,
                &format!("plugins/{plugin_name}/config/{name}.php"),
                &values,
                &mut files,
            );
        }
    }

    let caddyfile = repo.join("packaging/builder/Caddyfile");
    watch_or_parent(&caddyfile);
    if caddyfile.is_file() {
        add_rendered(&caddyfile, "Caddyfile", &values, &mut files);
    }

    // Another part of the project provides the php.ini; until it exists there is none.
    let php_ini = repo.join("common/php/php.ini");
    watch_or_parent(&php_ini);
    if php_ini.is_file() {
        add_rendered(&php_ini, "php.ini", &values, &mut files);
    }

    let overlay = repo.join("packaging/app-overlay");
    watch_or_parent(&overlay);
    add_tree(&overlay, "", &mut files);

    let mut pack = MAGIC.as_bytes().to_vec();
    for (path, (mode, bytes)) in &files {
        pack.extend_from_slice(format!("{mode:o} {} {path}\n", bytes.len()).as_bytes());
        pack.extend_from_slice(bytes);
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    fs::write(out.join("app.pack"), &pack).expect("write app.pack");
    fs::write(out.join("app_checksum.txt"), checksum(&pack)).expect("write app_checksum.txt");
}

fn watch(path: &Path) {
    println!("cargo:rerun-if-changed={}", path.display());
}

/// Watching a path that does not exist makes cargo rerun the script on every build; watch
/// the closest existing ancestor instead, which changes when the path appears.
fn watch_or_parent(path: &Path) {
    let mut p = path;
    while !p.exists() {
        match p.parent() {
            Some(parent) => p = parent,
            None => return,
        }
    }
    watch(p);
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(read) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut entries: Vec<PathBuf> = read
        .map(|e| e.expect("read directory entry").path())
        .collect();
    entries.sort();
    entries
}

/// `<name>.example.php` files of `dir`, as (name, path).
fn example_files(dir: &Path) -> Vec<(String, PathBuf)> {
    sorted_entries(dir)
        .into_iter()
        .filter(|p| p.is_file())
        .filter_map(|p| {
            let name = p
                .file_name()?
                .to_str()?
                .strip_suffix(".example.php")?
                .to_string();
            Some((name, p))
        })
        .collect()
}

fn add_tree(dir: &Path, prefix: &str, files: &mut BTreeMap<String, (u32, Vec<u8>)>) {
    for entry in sorted_entries(dir) {
        let name = entry
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_else(|| panic!("non-UTF-8 file name in {}", dir.display()));
        let rel = format!("{prefix}{name}");
        if entry.is_dir() {
            add_tree(&entry, &format!("{rel}/"), files);
        } else if entry.is_file() {
            add_file(&entry, &rel, files);
        }
    }
}

fn add_file(path: &Path, rel: &str, files: &mut BTreeMap<String, (u32, Vec<u8>)>) {
    watch(path);
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let executable = fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false);
    // Only the executable bit is kept: the umask of the checkout must not change the pack.
    let mode = if executable { 0o755 } else { 0o644 };
    assert!(
        !rel.contains('\n')
            && !rel
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == ".."),
        "unsupported path in the embedded app: {rel:?}"
    );
    files.insert(rel.to_string(), (mode, bytes));
}

/// Adds a file with its `@@NAME@@` placeholders filled in (unknown ones stay as they are).
fn add_rendered(
    path: &Path,
    rel: &str,
    values: &[(String, String)],
    files: &mut BTreeMap<String, (u32, Vec<u8>)>,
) {
    add_file(path, rel, files);
    let entry = files.get_mut(rel).expect("just added");
    if let Ok(text) = String::from_utf8(entry.1.clone()) {
        let mut text = text;
        for (name, value) in values {
            text = text.replace(&format!("@@{name}@@"), value);
        }
        entry.1 = text.into_bytes();
    }
}

/// The package-time placeholders of `xtask/src/config.rs` (`Config::placeholders`), read
/// from the `[section]` / `key = value` lines of release.toml.
fn placeholders(toml: &str) -> Vec<(String, String)> {
    const MAP: [(&str, &str, &str); 11] = [
        ("APP_NAME", "release", "app_name"),
        ("VERSION", "release", "version"),
        ("BINARY_NAME", "binary", "name"),
        ("NATIVE_BINARY", "binary", "native_name"),
        ("RUNTIME_USER", "runtime", "user"),
        ("RUNTIME_UID", "runtime", "uid"),
        ("RUNTIME_GID", "runtime", "gid"),
        ("HTTP_PORT", "runtime", "http_port"),
        ("BASE_IMAGE", "runtime", "base_image"),
        ("FRANKENPHP_VERSION", "frankenphp", "version"),
        ("PHP_VERSION", "frankenphp", "php_version"),
    ];
    let mut section = String::new();
    let mut out = Vec::new();
    for line in toml.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value
            .split(" #")
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"');
        for (name, s, k) in MAP {
            if s == section && k == key.trim() {
                out.push((name.to_string(), value.to_string()));
            }
        }
    }
    out
}

/// 64-bit FNV-1a of the pack, as 16 hex digits: the name of the extraction folder only
/// has to change when the content does (FrankenPHP uses the archive's checksum the same way).
fn checksum(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}
