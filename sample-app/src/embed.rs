//! The embedded app, extracted the way FrankenPHP v1.12.1 does it (`embed.go`, `init()` and
//! `untar()`): into `$TMPDIR/frankenphp_<checksum>` (`os.TempDir()` reads `TMPDIR`, default
//! `/tmp`), creating folders as needed and writing each file only when it does not exist
//! yet, so every process of a deployment (server, worker, migrations) shares one copy.
//!
//! One deliberate difference: each file is written to a temporary name and renamed, so a
//! process starting while another one extracts never sees a half-written file.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The pack written by `build.rs`.
static PACK: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/app.pack"));
/// Checksum of [`PACK`]; names the extraction folder.
pub const CHECKSUM: &str = include_str!(concat!(env!("OUT_DIR"), "/app_checksum.txt"));

const MAGIC: &[u8] = b"orangescrum-sample-app 1\n";

/// One file of the embedded app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    pub path: &'a str,
    pub mode: u32,
    pub bytes: &'a [u8],
}

/// Parses a pack: the magic line, then per file `<mode octal> <length> <path>\n<bytes>`.
pub fn parse(pack: &[u8]) -> Result<Vec<Entry<'_>>, String> {
    let mut rest = pack.strip_prefix(MAGIC).ok_or("embedded app: bad header")?;
    let mut entries = Vec::new();
    while !rest.is_empty() {
        let nl = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("embedded app: truncated entry header")?;
        let header = std::str::from_utf8(&rest[..nl]).map_err(|_| "embedded app: bad header")?;
        let mut parts = header.splitn(3, ' ');
        let (Some(mode), Some(len), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("embedded app: bad entry header {header:?}"));
        };
        let mode = u32::from_str_radix(mode, 8).map_err(|_| format!("bad mode in {header:?}"))?;
        let len: usize = len
            .parse()
            .map_err(|_| format!("bad length in {header:?}"))?;
        // Same rule as FrankenPHP's nativeRelPath: relative, no parent references.
        if path.starts_with('/') || path.split('/').any(|c| c.is_empty() || c == "..") {
            return Err(format!("embedded app: invalid path {path:?}"));
        }
        let body = &rest[nl + 1..];
        if body.len() < len {
            return Err(format!("embedded app: {path} is truncated"));
        }
        entries.push(Entry {
            path,
            mode,
            bytes: &body[..len],
        });
        rest = &body[len..];
    }
    Ok(entries)
}

/// Where the app is extracted: `<tmp>/frankenphp_<checksum>`.
pub fn app_dir(tmp: &Path) -> PathBuf {
    tmp.join(format!("frankenphp_{CHECKSUM}"))
}

/// Extracts the embedded app below the temporary folder and returns its path.
pub fn extract_embedded() -> io::Result<PathBuf> {
    let dir = app_dir(&std::env::temp_dir());
    let entries = parse(PACK).map_err(io::Error::other)?;
    extract(&entries, &dir)?;
    Ok(dir)
}

/// Writes `entries` below `dir`; files that already exist are left as they are.
pub fn extract(entries: &[Entry<'_>], dir: &Path) -> io::Result<()> {
    for entry in entries {
        let target = dir.join(entry.path);
        if target.exists() {
            continue;
        }
        let parent = target.parent().unwrap_or(dir);
        fs::create_dir_all(parent)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", parent.display())))?;
        let tmp = parent.join(format!(
            ".{}.{}.tmp",
            target.file_name().and_then(|n| n.to_str()).unwrap_or("f"),
            std::process::id()
        ));
        let write = || -> io::Result<()> {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(entry.mode)
                .open(&tmp)?;
            f.write_all(entry.bytes)?;
            // The umask may have cleared bits the app needs (e.g. an executable script).
            f.set_permissions(fs::Permissions::from_mode(entry.mode))?;
            fs::rename(&tmp, &target)
        };
        if let Err(e) = write() {
            let _ = fs::remove_file(&tmp);
            return Err(io::Error::new(
                e.kind(),
                format!("{}: {e}", target.display()),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_pack_parses_and_holds_the_fixture() {
        let entries = parse(PACK).unwrap();
        let paths: Vec<&str> = entries.iter().map(|e| e.path).collect();
        for want in [
            "bin/cake.php",
            "webroot/index.php",
            "config/bootstrap.php",
            "bin/db-lifecycle.php",
        ] {
            assert!(paths.contains(&want), "{want} missing from {paths:?}");
        }
        assert_eq!(CHECKSUM.len(), 16);
    }

    #[test]
    fn parse_rejects_escaping_and_truncated_entries() {
        let mut p = MAGIC.to_vec();
        p.extend_from_slice(b"644 1 ../x\nA");
        assert!(parse(&p).unwrap_err().contains("invalid path"));
        let mut p = MAGIC.to_vec();
        p.extend_from_slice(b"644 1 /x\nA");
        assert!(parse(&p).unwrap_err().contains("invalid path"));
        let mut p = MAGIC.to_vec();
        p.extend_from_slice(b"644 5 x\nA");
        assert!(parse(&p).unwrap_err().contains("truncated"));
        assert!(parse(b"nope").is_err());
    }

    #[test]
    fn extract_writes_missing_files_only_and_keeps_modes() {
        let tmp = std::env::temp_dir().join(format!("sample-embed-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        let entries = vec![
            Entry {
                path: "bin/run.sh",
                mode: 0o755,
                bytes: b"#!/bin/sh\n",
            },
            Entry {
                path: "a.txt",
                mode: 0o644,
                bytes: b"new",
            },
        ];
        fs::create_dir_all(&tmp).unwrap();
        // embed.go writes a file only when os.Stat says it does not exist.
        fs::write(tmp.join("a.txt"), "old").unwrap();
        extract(&entries, &tmp).unwrap();
        assert_eq!(fs::read_to_string(tmp.join("a.txt")).unwrap(), "old");
        let meta = fs::metadata(tmp.join("bin/run.sh")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o755);
        fs::remove_dir_all(&tmp).unwrap();
    }
}
