//! Filesystem primitives with the project's safety rules: exact modes, atomic renames,
//! an output root that is provably ours, and a lock against concurrent runs.

use std::{
    fs::{self, File, OpenOptions},
    io::Write,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
};

use anyhow::{bail, Context, Result};

/// Marker file that says "this output folder was made by xtask and may be cleared".
pub const OUT_MARKER: &str = ".xtask-dist";
/// Prefix of staging and retired folders inside the output root; always ours to delete.
pub const TMP_PREFIX: &str = ".tmp-";
pub const OLD_PREFIX: &str = ".old-";
/// Folder under the output root for caches (binary hashes, compressed binary frames).
pub const CACHE_DIR: &str = ".cache";

pub fn set_mode(path: &Path, mode: u32) -> Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set mode {mode:o} on {}", path.display()))
}

/// Creates `path` with `bytes` and exactly `mode` (umask does not apply).
pub fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let mut f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("cannot write {} (disk full?)", path.display()))?;
    drop(f);
    set_mode(path, mode)
}

/// Removes a file or folder; a missing path is fine.
pub fn remove_path(p: &Path) -> Result<()> {
    let res = match fs::symlink_metadata(p) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => Err(e),
        Ok(m) if m.is_dir() => fs::remove_dir_all(p),
        Ok(_) => fs::remove_file(p),
    };
    res.with_context(|| format!("cannot remove {}", p.display()))
}

/// Copies a file (in-kernel where possible, never through our memory) and sets `mode`.
pub fn copy_file(from: &Path, to: &Path, mode: u32) -> Result<()> {
    fs::copy(from, to).with_context(|| {
        format!(
            "cannot copy {} to {} (unreadable input or disk full?)",
            from.display(),
            to.display()
        )
    })?;
    set_mode(to, mode)
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so
/// readers see the old content or the new one, never a part; synced to disk first.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    replace_file(path, bytes, mode, true)
}

/// [`write_atomic`] without the sync, for cache files whose loss or truncation after a
/// crash only costs recomputing them: on ext4 an fsync waits for every dirty page of
/// the journal transaction, i.e. for the archives being written alongside.
pub fn write_atomic_unsynced(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    replace_file(path, bytes, mode, false)
}

fn replace_file(path: &Path, bytes: &[u8], mode: u32, sync: bool) -> Result<()> {
    let dir = path.parent().context("path has no parent folder")?;
    let mut tmp = tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("cannot write {} (disk full?)", path.display()))?;
    if sync {
        tmp.as_file()
            .sync_all()
            .with_context(|| format!("cannot sync {}", path.display()))?;
    }
    set_mode(tmp.path(), mode)?;
    tmp.persist(path)
        .with_context(|| format!("cannot rename into {}", path.display()))?;
    Ok(())
}

/// A file writer that asks the kernel to start writing each 8 MiB to disk as soon as it is
/// written (`sync_file_range`, what RocksDB calls bytes_per_sync), so that the sync before
/// the file is renamed into place waits only for the tail instead of the whole file.
pub struct WriteBehind<'a> {
    file: &'a fs::File,
    written: u64,
    started: u64,
}

impl<'a> WriteBehind<'a> {
    const STEP: u64 = 8 << 20;

    pub fn new(file: &'a fs::File) -> Self {
        WriteBehind {
            file,
            written: 0,
            started: 0,
        }
    }
}

impl Write for WriteBehind<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = (&mut &*self.file).write(buf)?;
        self.written += n as u64;
        if self.written - self.started >= Self::STEP {
            use std::os::fd::AsRawFd;
            extern "C" {
                fn sync_file_range(fd: i32, offset: i64, nbytes: i64, flags: u32) -> i32;
            }
            // SYNC_FILE_RANGE_WRITE: start writeback, do not wait. Only a hint: a failure
            // is left to the sync that follows.
            // SAFETY: a valid open descriptor and a plain range.
            unsafe {
                sync_file_range(
                    self.file.as_raw_fd(),
                    self.started as i64,
                    (self.written - self.started) as i64,
                    2,
                );
            }
            self.started = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        (&mut &*self.file).flush()
    }
}

/// Refuses an output root that could hold anything but our own output: `/`, the
/// repository root or one of its ancestors, a folder inside the sources, or a non-empty
/// folder without our marker.
pub fn check_out_root(repo_root: &Path, out: &Path) -> Result<()> {
    let abs = absolute(out)?;
    let root = absolute(repo_root)?;
    if abs.parent().is_none() {
        bail!(
            "refusing --out {}: that is the filesystem root",
            out.display()
        );
    }
    if root.starts_with(&abs) {
        bail!("refusing --out {}: it is the repository root or contains it; choose an empty folder such as dist/", out.display());
    }
    for src in [
        "common",
        "targets",
        "packaging",
        "xtask",
        "sample-app",
        ".git",
        ".github",
        ".cargo",
        "target",
    ] {
        if abs.starts_with(root.join(src)) {
            bail!("refusing --out {}: it is inside the source folder {src}/; choose a folder outside the sources", out.display());
        }
    }
    if abs.is_dir() {
        let non_empty = fs::read_dir(&abs)
            .with_context(|| format!("cannot read {}", abs.display()))?
            .next()
            .is_some();
        // Checked after listing: the marker is the first entry a run creates, so anything
        // the listing saw was made after it (a concurrent first run is not "foreign").
        let marked = abs.join(OUT_MARKER).is_file();
        if non_empty && !marked {
            bail!(
                "refusing --out {}: the folder is not empty and was not made by xtask (no {OUT_MARKER} marker); use an empty or new folder",
                out.display()
            );
        }
    } else if abs.exists() {
        bail!(
            "refusing --out {}: it exists and is not a folder",
            out.display()
        );
    }
    Ok(())
}

/// Creates the output root (if needed) with its marker.
pub fn init_out_root(out: &Path) -> Result<()> {
    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let marker = out.join(OUT_MARKER);
    if !marker.exists() {
        write_file(
            &marker,
            b"This folder is written by `cargo xtask`; its contents are replaced on each run.\n",
            0o644,
        )?;
    }
    Ok(())
}

/// Absolute, normalised path without requiring it to exist (symlinks in existing
/// ancestors are resolved, so `dist -> /` tricks are caught).
pub fn absolute(p: &Path) -> Result<PathBuf> {
    use std::path::Component;
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()?.join(p)
    };
    // Lexical normalisation first, so `..` is never lost: the result is the one path both
    // the safety checks and every later write use (callers must use it, not `p`).
    let mut lexical = PathBuf::new();
    for comp in joined.components() {
        match comp {
            Component::ParentDir => {
                lexical.pop();
            }
            Component::CurDir => {}
            c => lexical.push(c.as_os_str()),
        }
    }
    let mut existing = lexical.as_path();
    let mut tail = Vec::new();
    while !existing.exists() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                tail.push(name.to_os_string());
                existing = parent;
            }
            _ => break,
        }
    }
    let mut out = fs::canonicalize(existing).unwrap_or_else(|_| existing.to_path_buf());
    out.extend(tail.into_iter().rev());
    Ok(out)
}

/// An exclusive lock on `<out>/.lock`, held until dropped.
pub struct Lock {
    _file: File,
}

impl Lock {
    pub fn acquire(out: &Path) -> Result<Lock> {
        let path = out.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open the lock file {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                eprintln!(
                    "waiting for another xtask run to finish (lock {})",
                    path.display()
                );
                file.lock()
                    .with_context(|| format!("cannot lock {}", path.display()))?;
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
        Ok(Lock { _file: file })
    }
}

/// A unique staging name in `dir` for `name`, e.g. `.tmp-docker-1234`.
pub fn staging_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{TMP_PREFIX}{name}-{}", std::process::id()))
}

/// Moves the finished folder `staged` to `dest`, replacing any previous one. The old folder
/// is renamed aside first and deleted last, so an interruption leaves either the old or
/// the new folder under `dest` plus, at worst, a `.old-*` folder the next run removes.
pub fn replace_dir(staged: &Path, dest: &Path) -> Result<()> {
    let parent = dest.parent().context("destination has no parent")?;
    let name = dest
        .file_name()
        .context("destination has no name")?
        .to_string_lossy();
    let old = parent.join(format!("{OLD_PREFIX}{name}-{}", std::process::id()));
    let had_old = dest.exists();
    if had_old {
        fs::rename(dest, &old).with_context(|| format!("cannot move {} aside", dest.display()))?;
    }
    crash_point("between-renames");
    if let Err(e) = fs::rename(staged, dest) {
        if had_old {
            let _ = fs::rename(&old, dest);
        }
        return Err(e)
            .with_context(|| format!("cannot rename {} to {}", staged.display(), dest.display()));
    }
    crash_point("before-removing-old");
    if had_old {
        fs::remove_dir_all(&old).with_context(|| format!("cannot remove {}", old.display()))?;
    }
    Ok(())
}

/// A named point in the publish sequence where the tests make the process die as a kill
/// would (`CARGO_XTASK_CRASH_AT=<name>`), because a timed kill cannot be aimed at the
/// microseconds between two renames. `process::exit` runs no destructor, so nothing is
/// cleaned up, exactly as after SIGKILL (and, unlike `abort`, leaves no core file).
/// Does nothing otherwise.
pub fn crash_point(name: &str) {
    if std::env::var_os("CARGO_XTASK_CRASH_AT").is_some_and(|v| v == name) {
        eprintln!("crash point {name} reached: stopping as if killed");
        std::process::exit(137);
    }
}

/// Builds a new version of the folder `dest` and swaps it in: `build` gets a fresh staging
/// path beside `dest` (which it creates), the staging is removed if `build` fails, and
/// [`replace_dir`] moves it into place if it succeeds. The one way outputs are published.
pub fn publish_dir<T>(dest: &Path, build: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
    let parent = dest.parent().context("destination has no parent")?;
    let name = dest
        .file_name()
        .context("destination has no name")?
        .to_string_lossy();
    let staged = staging_path(parent, &name);
    match build(&staged) {
        Ok(value) => {
            crash_point("staged");
            replace_dir(&staged, dest)?;
            Ok(value)
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&staged);
            Err(e)
        }
    }
}

/// Removes staging and retired entries (`.tmp-*`, `.old-*`) left in `dir` by an
/// interrupted run. Called under the lock, so no live run owns them.
pub fn clean_stale(dir: &Path) -> Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        // A run killed between the two renames of `replace_dir` leaves the previous
        // output only as `.old-<name>-<pid>`: put it back instead of deleting it.
        if let Some(original) = retired_name(&name) {
            let dest = dir.join(original);
            if !dest.exists() {
                fs::rename(&path, &dest).with_context(|| {
                    format!("cannot restore {} to {}", path.display(), dest.display())
                })?;
                continue;
            }
        }
        if name.starts_with(TMP_PREFIX) || name.starts_with(OLD_PREFIX) {
            let res = if entry.file_type()?.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            res.with_context(|| format!("cannot remove the stale {}", path.display()))?;
        }
    }
    Ok(())
}

/// `.old-<name>-<pid>` -> `<name>`.
fn retired_name(entry: &str) -> Option<&str> {
    let rest = entry.strip_prefix(OLD_PREFIX)?;
    let (name, pid) = rest.rsplit_once('-')?;
    (!name.is_empty() && !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())).then_some(name)
}

/// Joins a relative link target onto the link's folder, folding `.` and `..`; `None` when
/// the target is absolute or climbs above the package root (it points outside).
pub fn resolve_link(link: &str, to: &str) -> Option<String> {
    if to.starts_with('/') {
        return None;
    }
    let folder = link.rsplit_once('/').map_or("", |(dir, _)| dir);
    join_rel(folder, to)
}

/// Joins `rel` onto the folder `base` (both package-relative) and folds `.` and `..`;
/// `None` when the result leaves the package.
pub fn join_rel(base: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = base.split('/').filter(|c| !c.is_empty()).collect();
    for comp in rel.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

/// A relative package path with no empty, `.` or `..` component (so it cannot leave the
/// package, and two spellings cannot name one file).
pub fn is_plain_rel(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.starts_with('/')
        && rel
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_root_safety() {
        let repo = tempfile::tempdir().unwrap();
        let r = repo.path();
        fs::create_dir_all(r.join("common/docs")).unwrap();
        let refused = |out: &Path, why: &str| {
            let e = format!("{:#}", check_out_root(r, out).unwrap_err());
            assert!(
                e.contains(&format!("refusing --out {}", out.display())) && e.contains(why),
                "{e}"
            );
        };
        refused(Path::new("/"), "filesystem root");
        refused(r, "repository root or contains it");
        refused(r.parent().unwrap(), "repository root or contains it");
        refused(&r.join("common/docs"), "inside the source folder common/");
        refused(
            &r.join("common/../common"),
            "inside the source folder common/",
        );
        assert!(check_out_root(r, &r.join("dist")).is_ok(), "new folder");
        fs::create_dir(r.join("other")).unwrap();
        assert!(check_out_root(r, &r.join("other")).is_ok(), "empty folder");
        fs::write(r.join("other/x"), "x").unwrap();
        refused(&r.join("other"), "not empty and was not made by xtask");
        fs::write(r.join("other").join(OUT_MARKER), "").unwrap();
        assert!(check_out_root(r, &r.join("other")).is_ok(), "our folder");
    }

    #[test]
    fn replace_dir_swaps_and_cleans() {
        let t = tempfile::tempdir().unwrap();
        let dest = t.path().join("pkg");
        fs::create_dir(&dest).unwrap();
        fs::write(dest.join("old"), "1").unwrap();
        let staged = staging_path(t.path(), "pkg");
        fs::create_dir(&staged).unwrap();
        fs::write(staged.join("new"), "2").unwrap();
        replace_dir(&staged, &dest).unwrap();
        assert!(dest.join("new").exists() && !dest.join("old").exists());
        assert_eq!(
            fs::read_dir(t.path()).unwrap().count(),
            1,
            "nothing left beside it"
        );
        fs::create_dir(t.path().join(".tmp-x-1")).unwrap();
        clean_stale(t.path()).unwrap();
        assert_eq!(fs::read_dir(t.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_retired_folder_without_its_successor_is_restored() {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir(t.path().join(".old-v1.0.0-4242")).unwrap();
        fs::write(t.path().join(".old-v1.0.0-4242/keep"), "x").unwrap();
        fs::create_dir(t.path().join("v2.0.0")).unwrap();
        fs::create_dir(t.path().join(".old-v2.0.0-7")).unwrap();
        clean_stale(t.path()).unwrap();
        assert!(t.path().join("v1.0.0/keep").exists(), "restored");
        assert!(
            !t.path().join(".old-v2.0.0-7").exists(),
            "superseded: removed"
        );
        assert_eq!(retired_name(".old-v1.0.0-rc.1-12"), Some("v1.0.0-rc.1"));
        assert_eq!(retired_name(".old-x"), None);
    }

    #[test]
    fn absolute_keeps_parent_components() {
        let t = tempfile::tempdir().unwrap();
        let base = fs::canonicalize(t.path()).unwrap();
        assert_eq!(
            absolute(&base.join("nx/../../victim")).unwrap(),
            base.parent().unwrap().join("victim")
        );
        assert_eq!(
            absolute(&base.join("a/./b/../c")).unwrap(),
            base.join("a/c")
        );
    }

    #[test]
    fn write_atomic_replaces() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("f");
        write_atomic(&p, b"one", 0o644).unwrap();
        write_atomic(&p, b"two", 0o600).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(fs::read_dir(t.path()).unwrap().count(), 1);
    }
}
