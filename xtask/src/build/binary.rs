//! Step 5 of `cargo xtask build`: the extracted binary is checked (ELF, statically linked,
//! architecture, size) and only then renamed to `binary.built_path`, so a broken or partial
//! binary never appears under the final name.

use std::{fs, path::Path};

use anyhow::{bail, Context, Result};

use crate::{
    elf::{self, ElfInfo},
    fsx,
};

/// Checks what was read from the binary's header against the expectations.
pub fn check(path: &Path, info: &ElfInfo, size: u64, min_mb: u64, arch: &str) -> Result<()> {
    if !info.is_static {
        bail!(
            "{} is dynamically linked (it has an ELF interpreter): the FrankenPHP builder must produce a static binary; check packaging/builder/base.Dockerfile (SPC_LIBC=musl, build-static.sh)",
            path.display()
        );
    }
    if info.arch != arch {
        bail!(
            "{} is built for {} but the Docker daemon runs {arch}: build on a {arch} machine or point DOCKER_HOST at one",
            path.display(),
            info.arch
        );
    }
    let min = min_mb * 1024 * 1024;
    if size < min {
        bail!(
            "{} is {size} bytes, below binary.min_size_mb = {min_mb} MB: the app was probably not embedded (look at the embed step's output), or lower the limit (--set binary.min_size_mb=N)",
            path.display()
        );
    }
    Ok(())
}

/// Validates `tmp` and renames it to `dest` (same folder), mode 0755, synced first. On any
/// failure `tmp` is removed and `dest` is left as it was.
pub fn install(tmp: &Path, dest: &Path, min_mb: u64, arch: &str) -> Result<()> {
    let result = (|| -> Result<()> {
        let meta = fs::metadata(tmp).with_context(|| format!("cannot stat {}", tmp.display()))?;
        if !meta.is_file() {
            bail!(
                "{} is not a regular file: the builder wrote something else at the binary's path",
                tmp.display()
            );
        }
        let info = elf::read(tmp)?;
        check(tmp, &info, meta.len(), min_mb, arch)?;
        fsx::set_mode(tmp, 0o755)?;
        fs::File::open(tmp)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("cannot sync {}", tmp.display()))?;
        fs::rename(tmp, dest)
            .with_context(|| format!("cannot rename {} to {}", tmp.display(), dest.display()))
    })();
    if result.is_err() {
        let _ = fsx::remove_path(tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::fake_elf;

    const MB: usize = 1024 * 1024;

    fn setup(bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let tmp = t.path().join(".tmp-osv4-prod-1");
        let dest = t.path().join("osv4-prod");
        fs::write(&tmp, bytes).unwrap();
        (t, tmp, dest)
    }

    fn msg(r: Result<()>) -> String {
        format!("{:#}", r.unwrap_err())
    }

    #[test]
    fn a_good_binary_is_installed_with_mode_0755() {
        use std::os::unix::fs::PermissionsExt;
        let bytes = fake_elf(2 * MB, 62, false);
        let (t, tmp, dest) = setup(&bytes);
        install(&tmp, &dest, 1, "x86_64").unwrap();
        assert_eq!(fs::read(&dest).unwrap(), bytes);
        assert_eq!(
            fs::metadata(&dest).unwrap().permissions().mode() & 0o777,
            0o755
        );
        assert_eq!(
            fs::read_dir(t.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn refusals_leave_no_file_and_keep_the_previous_binary() {
        let cases: [(&str, Vec<u8>, &str); 5] = [
            ("dynamic", fake_elf(2 * MB, 62, true), "dynamically linked"),
            ("arch", fake_elf(2 * MB, 183, false), "built for aarch64"),
            (
                "small",
                fake_elf(MB / 2, 62, false),
                "below binary.min_size_mb = 1 MB",
            ),
            (
                "script",
                b"#!/bin/sh\necho not a binary\n".to_vec(),
                "\\x7fELF",
            ),
            ("empty", Vec::new(), "not an ELF file"),
        ];
        for (what, bytes, expected) in cases {
            let (t, tmp, dest) = setup(&bytes);
            fs::write(&dest, b"previous build").unwrap();
            let e = msg(install(&tmp, &dest, 1, "x86_64"));
            assert!(e.contains(expected), "{what}: {e}");
            assert_eq!(fs::read(&dest).unwrap(), b"previous build", "{what}");
            assert!(!tmp.exists(), "{what}: temporary file removed");
            assert_eq!(fs::read_dir(t.path()).unwrap().count(), 1, "{what}");
        }
    }

    #[test]
    fn a_folder_or_nothing_at_the_temporary_path_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let tmp = t.path().join(".tmp-x");
        let dest = t.path().join("x");
        assert!(msg(install(&tmp, &dest, 0, "x86_64")).contains("cannot stat"));
        fs::create_dir(&tmp).unwrap();
        fs::write(tmp.join("inner"), "x").unwrap();
        assert!(msg(install(&tmp, &dest, 0, "x86_64")).contains("not a regular file"));
        assert!(!tmp.exists() && !dest.exists());
    }

    #[test]
    fn a_real_dynamic_executable_is_refused() {
        // The test binary itself: a real, dynamically linked ELF of the host architecture.
        let me = std::env::current_exe().unwrap();
        let info = elf::read(&me).unwrap();
        let size = fs::metadata(&me).unwrap().len();
        let e = format!(
            "{:#}",
            check(&me, &info, size, 0, std::env::consts::ARCH).unwrap_err()
        );
        assert!(e.contains("dynamically linked"), "{e}");
    }

    #[test]
    fn check_accepts_static_of_the_right_arch_and_size() {
        let info = ElfInfo {
            arch: "x86_64",
            is_static: true,
        };
        let p = Path::new("b");
        assert!(check(p, &info, 50 * MB as u64, 50, "x86_64").is_ok());
        assert!(check(p, &info, 50 * MB as u64 - 1, 50, "x86_64").is_err());
        assert!(check(p, &info, 50 * MB as u64, 50, "aarch64").is_err());
        assert!(check(p, &info, 0, 0, "x86_64").is_ok());
    }
}
