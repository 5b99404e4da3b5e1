//! Packs the PHP app the stand-in embeds, the way the real build assembles FrankenPHP's
//! `app.tar`: the fixture app (`sample-app/fixture/`), plus what the release build adds to
//! every app (`common/config/*.example.php` as `config/<name>.php`, plugin configs,
//! `packaging/builder/Caddyfile`, `common/php/php.ini`, `packaging/app-overlay/**`).
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

    // Directories are watched as a whole: cargo then also notices files added to them.
    let fixture = manifest.join("fixture");
    watch(&fixture);
    add_tree(&fixture, "", &mut files);

    let config = repo.join("common/config");
    watch_or_parent(&config);
    for (name, path) in example_files(&config) {
        add_file(&path, &format!("config/{name}.php"), &mut files);
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
            add_file(
                &path,
                &format!("plugins/{plugin_name}/config/{name}.php"),
                &mut files,
            );
        }
    }

    let caddyfile = repo.join("packaging/builder/Caddyfile");
    watch_or_parent(&caddyfile);
    if caddyfile.is_file() {
        add_file(&caddyfile, "Caddyfile", &mut files);
    }

    // Another part of the project provides the php.ini; until it exists there is none.
    let php_ini = repo.join("common/php/php.ini");
    watch_or_parent(&php_ini);
    if php_ini.is_file() {
        add_file(&php_ini, "php.ini", &mut files);
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
