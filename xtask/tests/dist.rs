//! End-to-end tests of `cargo xtask dist` and `cargo xtask verify`: reproducibility under
//! every condition that differs between machines, tamper detection, compatibility with
//! standard tools, atomicity and locking.

mod support;

use std::{
    fs,
    os::unix::fs::{MetadataExt, PermissionsExt},
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, SystemTime},
};

use support::*;

/// Builds the release of `fx` with `binary` into `out`, with `tweak` applied to the
/// command, and returns the release folder's files.
fn build(
    fx: &Fixture,
    out: &Path,
    binary: &Path,
    tweak: impl FnOnce(&mut Command),
) -> Vec<(String, Vec<u8>)> {
    let mut cmd = fx.dist_cmd(out, binary);
    tweak(&mut cmd);
    ok(&mut cmd);
    release_files(&out.join(config_version()))
}

/// The release every reproducibility test compares against: a plain fixture built under a
/// pinned umask 022 (so the test does not depend on the umask it was started with).
fn reference() -> Vec<(String, Vec<u8>)> {
    let fx = Fixture::new();
    let out = fx.out();
    ok(&mut with_umask("022", &fx.dist_cmd(&out, sample_binary())));
    release_files(&out.join(config_version()))
}

fn with_umask(umask: &str, cmd: &Command) -> Command {
    let script = format!("umask {umask} && exec \"$@\"");
    wrapped(&["sh", "-c", &script, "sh"], cmd)
}

fn assert_same(a: &[(String, Vec<u8>)], b: &[(String, Vec<u8>)], what: &str) {
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(a), names(b), "{what}: different release files");
    for ((n, x), (_, y)) in a.iter().zip(b) {
        assert!(x == y, "{what}: {n} differs between the two builds");
    }
    assert!(
        a.iter().any(|(n, _)| n.ends_with(".tar.zst")),
        "archives were built"
    );
}

/// The image entrypoint `dist` built from oci-entrypoint/ (in this build's target folder).
fn built_entrypoint() -> PathBuf {
    let target = Path::new(env!("CARGO_BIN_EXE_xtask"))
        .parent()
        .and_then(Path::parent)
        .unwrap();
    let p = target.join("release/oci-entrypoint");
    assert!(
        p.is_file(),
        "{} was not built by the reference run",
        p.display()
    );
    p
}

/// Wraps the command so it runs through `prefix` (e.g. `taskset -c 0`).
fn wrapped(prefix: &[&str], cmd: &Command) -> Command {
    wrapped_program(prefix, cmd.get_program(), cmd)
}

/// [`wrapped`], running `program` in place of `cmd`'s own.
fn wrapped_program(prefix: &[&str], program: &std::ffi::OsStr, cmd: &Command) -> Command {
    let mut c = Command::new(prefix[0]);
    c.args(&prefix[1..]).arg(program).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    c
}

fn set_all_mtimes(dir: &Path, t: SystemTime) {
    for p in walk(dir) {
        if p.is_file() {
            fs::File::options()
                .append(true)
                .open(&p)
                .unwrap()
                .set_modified(t)
                .unwrap();
        }
    }
}

#[test]
fn reproducible_across_umask_and_extra_mode_bits() {
    let a = reference();
    let fx = Fixture::new();
    for p in walk(&fx.root) {
        let m = fs::metadata(&p).unwrap().permissions().mode();
        fs::set_permissions(&p, fs::Permissions::from_mode(m | 0o070)).unwrap();
    }
    let out = fx.out();
    ok(&mut with_umask("002", &fx.dist_cmd(&out, sample_binary())));
    assert_same(
        &a,
        &release_files(&out.join(config_version())),
        "umask 002 + g+rwx",
    );
}

#[test]
fn reproducible_across_file_mtimes() {
    let a = reference();
    let fx = Fixture::new();
    set_all_mtimes(
        &fx.root,
        SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000),
    );
    let b = build(&fx, &fx.out(), sample_binary(), |_| {});
    assert_same(&a, &b, "touched files");
}

/// The order in which `read_dir` returns a folder's entries.
fn dir_order(dir: &Path) -> Vec<std::ffi::OsString> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect()
}

#[test]
fn reproducible_across_creation_order() {
    // On ext4 the listing order follows a name hash, not creation order, so reversing the
    // creation order alone would change nothing. tmpfs lists newest first: build both
    // trees there and check they really list differently.
    let shm = Path::new("/dev/shm");
    assert!(
        shm.is_dir(),
        "/dev/shm (tmpfs) is needed to vary the listing order"
    );
    let fa = Fixture::in_dir(shm, |s, d| copy_tree(s, d, false));
    let fb = Fixture::in_dir(shm, |s, d| copy_tree(s, d, true));
    let dir = Path::new("common/helpers");
    let (la, lb) = (dir_order(&fa.root.join(dir)), dir_order(&fb.root.join(dir)));
    assert!(la.len() > 2, "{la:?}");
    assert_ne!(
        la,
        lb,
        "the two trees must list {} in different orders",
        dir.display()
    );
    let a = build(&fa, &fa.out(), sample_binary(), |_| {});
    let b = build(&fb, &fb.out(), sample_binary(), |_| {});
    assert_same(&a, &b, "listing order");
    assert_same(&reference(), &a, "tmpfs vs the reference");
}

#[test]
fn reproducible_across_user_and_uid() {
    if !require::root() {
        return;
    }
    let a = reference();
    let fx = Fixture::new();
    let bin = fx._tmp.path().join("bin-copy");
    fs::copy(sample_binary(), &bin).unwrap();
    // The other user has no Rust toolchain: it reuses the image entrypoint the reference
    // run built (dist.oci_entrypoint), copied where it may read it.
    let entrypoint = fx._tmp.path().join("entrypoint-copy");
    fs::copy(built_entrypoint(), &entrypoint).unwrap();
    let out = fx.out();
    let mut cmd = fx.dist_cmd(&out, &bin);
    cmd.args([
        "--set",
        &format!("dist.oci_entrypoint={}", entrypoint.display()),
    ]);
    // The checkout may sit in a folder only root may enter (`mktemp -d` makes them 0700):
    // the other user runs a copy of xtask.
    let exe = fx._tmp.path().join("xtask-copy");
    fs::copy(cmd.get_program(), &exe).unwrap();
    ok(Command::new("chown")
        .args(["-R", "4321:4321"])
        .arg(fx._tmp.path()));
    let mut c = wrapped_program(
        &["setpriv", "--reuid=4321", "--regid=4321", "--clear-groups"],
        exe.as_os_str(),
        &cmd,
    );
    // git refuses repositories owned by someone else unless told they are safe.
    c.env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "safe.directory")
        .env("GIT_CONFIG_VALUE_0", "*");
    c.env("HOME", fx._tmp.path()).env("USER", "builder");
    ok(&mut c);
    assert_same(
        &a,
        &release_files(&out.join(config_version())),
        "other uid/user",
    );
}

#[test]
fn reproducible_across_hostname_time_zone_and_clock() {
    if !require::tool("faketime", "apt-get install faketime") {
        return;
    }
    let a = reference();
    // The clock moves years ahead (libfaketime); check the fake clock is really seen.
    let fake = "2031-06-01 12:00:00";
    let year =
        String::from_utf8(ok(Command::new("faketime").args([fake, "date", "+%Y"])).stdout).unwrap();
    assert_eq!(year.trim(), "2031", "faketime did not move the clock");
    let fx = Fixture::new();
    let out = fx.out();
    let mut cmd = fx.dist_cmd(&out, sample_binary());
    cmd.env("TZ", "Pacific/Kiritimati")
        .env("HOSTNAME", "elsewhere");
    let mut c = wrapped(
        &[
            "unshare",
            "--uts",
            "sh",
            "-c",
            "hostname other-builder && exec \"$@\"",
            "sh",
            "faketime",
            fake,
        ],
        &cmd,
    );
    ok(&mut c);
    assert_same(
        &a,
        &release_files(&out.join(config_version())),
        "hostname/TZ/clock",
    );
}

#[test]
fn reproducible_across_checkout_path_and_core_count() {
    let a = reference();
    // The checkout itself sits deeper and under longer names, not only the output.
    let base = tempfile::tempdir().unwrap();
    let deep = base
        .path()
        .join("a-much-longer-folder-name/with/several/more/levels/of-checkout-path");
    fs::create_dir_all(&deep).unwrap();
    let fx = Fixture::in_dir(&deep, |s, d| copy_tree(s, d, false));
    let reference_root = Fixture::new().root;
    assert!(
        fx.root.as_os_str().len() > reference_root.as_os_str().len() + 40,
        "the checkout path must really differ: {} vs {}",
        fx.root.display(),
        reference_root.display()
    );
    let out = fx.out();
    let cmd = fx.dist_cmd(&out, sample_binary());
    ok(&mut wrapped(&["taskset", "-c", "0"], &cmd));
    assert_same(
        &a,
        &release_files(&out.join(config_version())),
        "one core, other path",
    );
}

#[test]
fn reproducible_across_hardlinks_xattrs_and_sparse_files() {
    // A binary with a large zero region, so a sparse copy really has holes.
    let tmp = tempfile::tempdir().unwrap();
    let dense = tmp.path().join("dense");
    let mut bytes = fs::read(sample_binary()).unwrap();
    bytes.extend(std::iter::repeat_n(0u8, 8 << 20));
    bytes.extend_from_slice(b"tail");
    fs::write(&dense, &bytes).unwrap();
    let fx_a = Fixture::new();
    let a = build(&fx_a, &fx_a.out(), &dense, |_| {});

    let sparse = tmp.path().join("sparse");
    ok(Command::new("cp")
        .arg("--sparse=always")
        .arg(&dense)
        .arg(&sparse));
    ok(Command::new("fallocate").arg("--dig-holes").arg(&sparse));
    let m = fs::metadata(&sparse).unwrap();
    assert!(
        m.blocks() * 512 + (4 << 20) < m.len(),
        "the copy must have holes: {} bytes allocated for {}",
        m.blocks() * 512,
        m.len()
    );
    // A hardlinked pair inside the packaged tree, against a reference where the pair
    // are two copies (same contents, so the archives must not differ).
    let pair = (
        "common/docs/TROUBLESHOOTING.md",
        "common/docs/TROUBLESHOOTING-COPY.md",
    );
    let fx_copies = Fixture::with_files(|root| {
        fs::copy(root.join(pair.0), root.join(pair.1)).unwrap();
    });
    let copies = build(&fx_copies, &fx_copies.out(), &dense, |_| {});
    let fx_linked = Fixture::with_files(|root| {
        fs::hard_link(root.join(pair.0), root.join(pair.1)).unwrap();
    });
    let m = fs::metadata(fx_linked.root.join(pair.1)).unwrap();
    assert_eq!(m.nlink(), 2, "the pair is hardlinked");
    assert_eq!(
        m.ino(),
        fs::metadata(fx_linked.root.join(pair.0)).unwrap().ino()
    );
    let linked = build(&fx_linked, &fx_linked.out(), &dense, |_| {});
    assert_same(&copies, &linked, "hardlinked pair inside the package");

    let fx = Fixture::new();
    // Hardlink every source file to a twin outside the tree, and add xattrs.
    let twins = tmp.path().join("twins");
    fs::create_dir(&twins).unwrap();
    for (i, p) in walk(&fx.root.join("common")).into_iter().enumerate() {
        if p.is_file() {
            fs::hard_link(&p, twins.join(i.to_string())).unwrap();
        }
    }
    let xattr = Command::new("python3")
        .arg("-c")
        .arg("import os,sys\nfor p in sys.argv[1:]: os.setxattr(p, b'user.origin', b'elsewhere')")
        .args(
            walk(&fx.root.join("targets"))
                .into_iter()
                .filter(|p| p.is_file()),
        )
        .status()
        .unwrap();
    assert!(
        xattr.success(),
        "setting xattrs failed (filesystem without user xattrs?)"
    );
    let linked_bin = tmp.path().join("linked-bin");
    fs::hard_link(&sparse, &linked_bin).unwrap();
    let b = build(&fx, &fx.out(), &linked_bin, |_| {});
    assert_same(&a, &b, "hardlinks/xattrs/sparse binary");
}

#[test]
fn source_date_epoch_sets_every_mtime_and_malformed_is_an_error() {
    let fx = Fixture::new();
    ok(fx
        .dist_cmd(&fx.out(), sample_binary())
        .env("SOURCE_DATE_EPOCH", "1600000000"));
    let v = fx.out().join(config_version());
    let archive = find_archive(&v, "native-x86_64.tar.zst");
    let listing = String::from_utf8(
        ok(Command::new("tar")
            .args(["--zstd", "--full-time", "--utc", "-tvf"])
            .arg(&archive)
            .env("TZ", "UTC"))
        .stdout,
    )
    .unwrap();
    assert!(listing.lines().count() > 5);
    for line in listing.lines() {
        assert!(
            line.contains("2020-09-13 12:26:40"),
            "entry not stamped with SOURCE_DATE_EPOCH: {line}"
        );
        assert!(
            line.starts_with("-rw-r--r-- 0/0")
                || line.starts_with("-rwxr-xr-x 0/0")
                || line.starts_with("drwxr-xr-x 0/0"),
            "{line}"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(v.join("dist-manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["source_date_epoch"], 1600000000);

    let before = release_files(&v);
    for bad in ["yesterday", "-5", "1.5", ""] {
        let err = fails(
            fx.dist_cmd(&fx.out(), sample_binary())
                .env("SOURCE_DATE_EPOCH", bad),
        );
        assert!(
            err.contains("SOURCE_DATE_EPOCH") && err.contains("malformed"),
            "{bad}: {err}"
        );
    }
    assert_eq!(
        release_files(&v),
        before,
        "a refused run leaves the release as it was"
    );
}

#[test]
fn standard_tools_accept_the_release() {
    let fx = Fixture::new();
    let out = ok(fx.dist_cmd(&fx.out(), sample_binary()).arg("--json"));
    let v = fx.out().join(config_version());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["version"], config_version());
    assert_eq!(json["targets"].as_array().unwrap().len(), 3);
    assert_eq!(
        json,
        serde_json::from_slice::<serde_json::Value>(
            &fs::read(v.join("dist-manifest.json")).unwrap()
        )
        .unwrap()
    );

    ok(Command::new("sha256sum")
        .args(["-c", "--strict", "SHA256SUMS"])
        .current_dir(&v));
    let sums = fs::read_to_string(v.join("SHA256SUMS")).unwrap();
    assert!(sums.ends_with('\n') && !sums.contains('\r'));
    let names: Vec<&str> = sums
        .lines()
        .map(|l| l.split_once("  ").unwrap().1)
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    for t in json["targets"].as_array().unwrap() {
        let archive = t["archive"].as_str().unwrap();
        assert!(archive.ends_with(&format!("-{}.tar.zst", std::env::consts::ARCH)));
        ok(Command::new("sha256sum")
            .args(["-c", &format!("{archive}.sha256")])
            .current_dir(&v));
        // GNU tar extracts it and the inner SHA256SUMS checks out.
        let x = tempfile::tempdir().unwrap();
        ok(Command::new("tar")
            .args(["--zstd", "-xf"])
            .arg(v.join(archive))
            .arg("-C")
            .arg(x.path()));
        let tops: Vec<_> = fs::read_dir(x.path()).unwrap().collect();
        assert_eq!(tops.len(), 1, "one top-level folder");
        let top = x
            .path()
            .join(archive.trim_end_matches(&format!("-{}.tar.zst", std::env::consts::ARCH)));
        ok(Command::new("sha256sum")
            .args(["-c", "--strict", "--quiet", "SHA256SUMS"])
            .current_dir(&top));
        // The multi-frame stream is one valid zstd stream for the zstd CLI too.
        let raw = x.path().join("raw.tar");
        ok(Command::new("zstd")
            .args(["-q", "-d", "-o"])
            .arg(&raw)
            .arg(v.join(archive)));
        let entries =
            String::from_utf8(ok(Command::new("tar").arg("-tf").arg(&raw)).stdout).unwrap();
        // Entries in bytewise order, but for the two files that name the binary's hash:
        // they close the archive (dist hashes the binary while it compresses it).
        let names: Vec<&str> = entries.lines().collect();
        let (body, tail) = names.split_at(names.len() - 2);
        let mut sorted = body.to_vec();
        sorted.sort();
        assert_eq!(body, sorted, "{entries}");
        assert_eq!(
            tail.iter()
                .map(|n| n.split_once('/').unwrap().1)
                .collect::<Vec<_>>(),
            ["build-manifest.json", "SHA256SUMS"],
            "{entries}"
        );
        let frames =
            String::from_utf8(ok(Command::new("zstd").args(["-lv"]).arg(v.join(archive))).stdout)
                .unwrap();
        // The binary is spliced in as its own frame; the Kubernetes package has none.
        let want = if t["target"] == "kubernetes" { 1 } else { 3 };
        assert!(
            frames.contains(&format!("# Zstandard Frames: {want}")),
            "{}: {want} frame(s):\n{frames}",
            t["target"]
        );
        // The recorded hash is the binary's real hash, computed here independently.
        let real =
            String::from_utf8(ok(Command::new("sha256sum").arg(sample_binary())).stdout).unwrap();
        assert_eq!(
            t["binary_sha256"].as_str().unwrap(),
            real.split_whitespace().next().unwrap()
        );
        assert_eq!(t["files"].as_u64().unwrap() as usize, listing(&top).len());
    }
    ok(fx.xtask().arg("verify").arg(&v));
}

#[test]
fn verify_detects_tampering() {
    let fx = Fixture::new();
    ok(&mut fx.dist_cmd(&fx.out(), sample_binary()));
    let v = fx.out().join(config_version());
    ok(fx.xtask().arg("verify").arg(&v));
    let archive = find_archive(&v, "docker-x86_64.tar.zst");
    let name = archive.file_name().unwrap().to_string_lossy().into_owned();

    // An extracted folder: one edited file, one deleted, one added, and a local .env.
    let x = tempfile::tempdir().unwrap();
    let pkg = extract(&archive, x.path());
    ok(fx.xtask().arg("verify").arg(&pkg));
    fs::write(pkg.join(".env"), "SECURITY_SALT=local\n").unwrap();
    ok(fx.xtask().arg("verify").arg(&pkg));
    fs::write(pkg.join("docker-compose.yaml"), "services: {}\n").unwrap();
    fs::remove_file(pkg.join("Dockerfile")).unwrap();
    fs::write(pkg.join("backdoor.sh"), "#!/bin/sh\n").unwrap();
    let err = fails(fx.xtask().arg("verify").arg(&pkg));
    assert!(
        err.contains("MODIFIED") && err.contains("docker-compose.yaml"),
        "{err}"
    );
    assert!(
        err.contains("MISSING") && err.contains("Dockerfile"),
        "{err}"
    );
    assert!(
        err.contains("EXTRA") && err.contains("backdoor.sh"),
        "{err}"
    );
    assert!(
        !err.contains(".env"),
        "a local .env is expected on a server: {err}"
    );

    // One flipped byte in the middle of an archive.
    let mut bytes = fs::read(&archive).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    fs::write(&archive, &bytes).unwrap();
    let err = fails(fx.xtask().arg("verify").arg(&v));
    assert!(err.contains(&format!("MODIFIED {name}")), "{err}");
    let err = fails(fx.xtask().arg("verify").arg(&archive));
    assert!(err.contains(&name), "{err}");
    let check = Command::new("sha256sum")
        .args(["-c", "--quiet", "SHA256SUMS"])
        .current_dir(&v)
        .output()
        .unwrap();
    assert!(!check.status.success());
    assert!(String::from_utf8_lossy(&check.stdout).contains(&format!("{name}: FAILED")));
}

#[test]
fn verify_detects_a_rewritten_archive_with_matching_outer_sums() {
    // An attacker who replaces a file inside the archive and updates the outer checksums
    // is still caught by the archive's own SHA256SUMS.
    let fx = Fixture::new();
    ok(&mut fx.dist_cmd(&fx.out(), sample_binary()));
    let v = fx.out().join(config_version());
    let name = fs::read_to_string(v.join("SHA256SUMS"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .split_once("  ")
        .unwrap()
        .1
        .to_string();
    let x = tempfile::tempdir().unwrap();
    ok(Command::new("tar")
        .args(["--zstd", "-xf"])
        .arg(v.join(&name))
        .arg("-C")
        .arg(x.path()));
    let top = fs::read_dir(x.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    fs::write(x.path().join(&top).join("README.md"), "changed\n").unwrap();
    ok(Command::new("tar")
        .args(["--zstd", "-cf"])
        .arg(v.join(&name))
        .arg("-C")
        .arg(x.path())
        .arg(&top));
    let sha =
        String::from_utf8(ok(Command::new("sha256sum").arg(&name).current_dir(&v)).stdout).unwrap();
    let new_sha = sha.split_whitespace().next().unwrap();
    let sums = fs::read_to_string(v.join("SHA256SUMS")).unwrap();
    let old_sha = sums
        .lines()
        .next()
        .unwrap()
        .split_once("  ")
        .unwrap()
        .0
        .to_string();
    fs::write(v.join("SHA256SUMS"), sums.replace(&old_sha, new_sha)).unwrap();
    fs::write(
        v.join(format!("{name}.sha256")),
        format!("{new_sha}  {name}\n"),
    )
    .unwrap();
    let err = fails(fx.xtask().arg("verify").arg(&v));
    assert!(err.contains("README.md"), "{err}");
}

#[test]
fn verify_rebuild_compares_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    ok(xtask()
        .args(["dist", "--sample", "--out"])
        .arg(&out)
        .env_remove("SOURCE_DATE_EPOCH")
        .env("SOURCE_DATE_EPOCH", "1700000000"));
    let v = out.join(config_version());
    ok(xtask().args(["verify", "--rebuild"]).arg(&v));
    // Same hashes everywhere except the manifest's recorded level: the rebuild differs.
    let m = v.join("dist-manifest.json");
    let text = fs::read_to_string(&m).unwrap();
    fs::write(
        &m,
        text.replace(
            "\"source_date_epoch\": 1700000000",
            "\"source_date_epoch\": 1700000001",
        ),
    )
    .unwrap();
    let err = fails(xtask().args(["verify", "--rebuild"]).arg(&v));
    assert!(err.contains("REBUILD") && err.contains(".tar.zst"), "{err}");
}

/// A binary large enough that a run takes a while, so it can be killed mid-way.
fn big_binary(dir: &Path) -> PathBuf {
    let p = dir.join("big-bin");
    let mut bytes = fs::read(sample_binary()).unwrap();
    let mut x: u64 = 0x9e3779b97f4a7c15;
    bytes.extend((0..96u64 << 20).map(|_| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 56) as u8
    }));
    fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn reproducible_across_zstd_worker_counts_on_a_binary_of_many_jobs() {
    // At level 3 zstd's window is 2 MiB and a multi-threaded job is 4 windows (8 MiB, zstd's
    // ZSTDMT_computeTargetJobLog), so this 96 MiB binary is compressed as 12 jobs, shared
    // by 1, 2 or 4 workers (dist.zstd_workers): the bytes must not depend on the split.
    let fx = Fixture::new();
    let big = big_binary(fx._tmp.path());
    assert!(fs::metadata(&big).unwrap().len() >= 12 * (8 << 20));
    let mut first: Option<Vec<(String, Vec<u8>)>> = None;
    for workers in [1, 2, 4] {
        let out = fx._tmp.path().join(format!("workers-{workers}"));
        let set = format!("dist.zstd_workers={workers}");
        ok(fx.dist_cmd(&out, &big).args(["--no-cache", "--set", &set]));
        let files = release_files(&out.join(config_version()));
        match &first {
            None => first = Some(files),
            Some(a) => assert_same(a, &files, &format!("{workers} workers")),
        }
    }
}

#[test]
fn interrupted_runs_leave_the_previous_release_intact() {
    let fx = Fixture::new();
    let big = big_binary(fx._tmp.path());
    let out = fx.out();
    let v = out.join(config_version());
    ok(fx.dist_cmd(&out, sample_binary()).arg("--no-cache"));
    let before = release_files(&v);
    // What a completed run with the big binary produces (built elsewhere): a killed run
    // may only ever leave `before` or exactly this under the final name, never a mix.
    let elsewhere = fx._tmp.path().join("elsewhere");
    ok(fx.dist_cmd(&elsewhere, &big).arg("--no-cache"));
    let after = release_files(&elsewhere.join(config_version()));
    assert_ne!(before, after);
    for delay_ms in [20, 150, 400, 900] {
        let mut child = fx
            .dist_cmd(&out, &big)
            .arg("--no-cache")
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        child.wait().unwrap();
        let now = release_files(&v);
        assert!(
            now == before || now == after,
            "killed after {delay_ms} ms: the release folder holds a mix of old and new files"
        );
        ok(fx.xtask().arg("verify").arg(&v));
        for e in fs::read_dir(&out).unwrap() {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                n.starts_with('.') || n == config_version(),
                "partial output under a final name: {n}"
            );
        }
    }
    // Kills aimed at each step of the final swap (a timed kill cannot hit the instant
    // between two renames): each run must die exactly there, and what it leaves must be the
    // old or the new release, possibly still under its `.old-` name for the next run.
    for point in ["staged", "between-renames", "before-removing-old"] {
        let died = fx
            .dist_cmd(&out, &big)
            .arg("--no-cache")
            .env("CARGO_XTASK_CRASH_AT", point)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&died.stderr);
        assert!(!died.status.success(), "{point}: the run must die");
        assert!(
            stderr.contains(&format!("crash point {point} reached")),
            "{point}: the run died elsewhere:\n{stderr}"
        );
        let names: Vec<String> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let visible = if v.exists() {
            release_files(&v)
        } else {
            // Killed between the renames: the old release sits under its `.old-` name.
            assert_eq!(point, "between-renames", "{names:?}");
            let retired = names
                .iter()
                .find(|n| n.starts_with(&format!(".old-{}-", config_version())))
                .unwrap_or_else(|| panic!("{point}: the old release is lost: {names:?}"));
            release_files(&out.join(retired))
        };
        assert!(
            visible == before || visible == after,
            "{point}: a mix of old and new files"
        );
        // The next run puts things right (restoring a retired release) before it works;
        // `verify` of the restored release proves nothing was lost.
        ok(&mut fx.dist_cmd(&out, sample_binary()));
        assert_eq!(release_files(&v), before, "{point}");
        ok(fx.xtask().arg("verify").arg(&v));
    }
    // The next run cleans up whatever the killed ones left and succeeds.
    ok(&mut fx.dist_cmd(&out, sample_binary()));
    let stale: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp-") || n.starts_with(".old-"))
        .collect();
    assert!(stale.is_empty(), "stale staging left: {stale:?}");
    let frames: Vec<String> = fs::read_dir(out.join(".cache/frames"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp-"))
        .collect();
    assert!(frames.is_empty(), "partial cached frames left: {frames:?}");
    assert_eq!(
        release_files(&v),
        before,
        "a completed run with the first binary again"
    );
}

#[test]
fn concurrent_runs_do_not_corrupt_each_other() {
    let fx = Fixture::new();
    let out = fx.out();
    // The output root exists first, so every run meets the same lock file.
    ok(&mut fx.dist_cmd(&out, sample_binary()));
    let big = big_binary(fx._tmp.path());
    let children: Vec<_> = (0..3)
        .map(|_| {
            fx.dist_cmd(&out, &big)
                .arg("--no-cache")
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut waited = 0;
    for c in children {
        let done = c.wait_with_output().unwrap();
        assert!(done.status.success());
        if String::from_utf8_lossy(&done.stderr).contains("waiting for another xtask run") {
            waited += 1;
        }
    }
    // Three runs of a slow build started together: at least two found the lock taken, so
    // the runs really overlapped and were serialised.
    assert!(waited >= 2, "only {waited} run(s) waited for the lock");
    ok(fx.xtask().arg("verify").arg(out.join(config_version())));
}

#[test]
fn old_versions_are_pruned_beyond_the_keep_count() {
    let fx = Fixture::new();
    let out = fx.out();
    for v in ["v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0", "v1.4.0"] {
        ok(fx
            .dist_cmd(&out, sample_binary())
            .args(["--set", &format!("release.version={v}")])
            .args(["--set", "dist.keep_versions=2"]));
    }
    fs::create_dir(out.join("keep-me")).unwrap();
    ok(fx.dist_cmd(&out, sample_binary()).args([
        "--set",
        "release.version=v1.5.0",
        "--set",
        "dist.keep_versions=2",
    ]));
    let mut names: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    assert_eq!(names, ["keep-me", "v1.3.0", "v1.4.0", "v1.5.0"]);
}

#[test]
fn cached_binary_frame_is_reused_and_no_cache_gives_the_same_bytes() {
    let fx = Fixture::new();
    let out = fx.out();
    let first = ok(fx.dist_cmd(&out, sample_binary()).arg("--no-cache"));
    assert!(String::from_utf8_lossy(&first.stderr).contains("compressed at level"));
    let a = release_files(&out.join(config_version()));
    let second = ok(&mut fx.dist_cmd(&out, sample_binary()));
    assert!(String::from_utf8_lossy(&second.stderr).contains("reused from the cache"));
    assert_eq!(release_files(&out.join(config_version())), a);
    // A config-only change reuses the frame too.
    let third = ok(fx
        .dist_cmd(&out, sample_binary())
        .args(["--set", "runtime.http_port=9090"]));
    assert!(String::from_utf8_lossy(&third.stderr).contains("reused from the cache"));
    let other_level = ok(fx.dist_cmd(&out, sample_binary()).args(["--level", "5"]));
    assert!(String::from_utf8_lossy(&other_level.stderr).contains("compressed at level 5"));
    // Frames are not synced to disk: one cut short (as a crash may leave it) is not
    // reused, and the run gives the same bytes.
    let frames = out.join(".cache/frames");
    for e in fs::read_dir(&frames).unwrap() {
        let p = e.unwrap().path();
        let len = fs::metadata(&p).unwrap().len();
        fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(len / 2)
            .unwrap();
    }
    let after_crash = ok(&mut fx.dist_cmd(&out, sample_binary()));
    assert!(
        String::from_utf8_lossy(&after_crash.stderr).contains("compressed at level 3"),
        "{}",
        String::from_utf8_lossy(&after_crash.stderr)
    );
    assert_eq!(release_files(&out.join(config_version())), a);
}

#[test]
fn partial_target_selection() {
    let fx = Fixture::new();
    ok(fx
        .dist_cmd(&fx.out(), sample_binary())
        .args(["--target", "native"]));
    let v = fx.out().join(config_version());
    let sums = fs::read_to_string(v.join("SHA256SUMS")).unwrap();
    assert_eq!(sums.lines().count(), 1);
    assert!(sums.contains("-native-"));
    ok(fx.xtask().arg("verify").arg(&v));
}

#[test]
fn merged_per_target_outputs_equal_a_single_dist() {
    let fx = Fixture::new();
    let single = build(&fx, &fx.out(), sample_binary(), |_| {});
    let parts = fx._tmp.path().join("parts");
    for t in ["docker", "native", "kubernetes"] {
        ok(fx
            .dist_cmd(&parts.join(t), sample_binary())
            .args(["--target", t]));
    }
    let merged = fx._tmp.path().join("merged");
    let out = ok(fx
        .xtask()
        .args(["dist", "merge"])
        .arg(parts.join("native"))
        .arg(parts.join("kubernetes"))
        .arg(parts.join("docker").join(config_version()))
        .arg("--out")
        .arg(&merged)
        .arg("--json"));
    assert_eq!(
        release_files(&merged.join(config_version())),
        single,
        "merge == single dist, byte for byte"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["targets"].as_array().unwrap().len(), 3);
    ok(fx.xtask().arg("verify").arg(merged.join(config_version())));

    // Parts from a different source date (another commit) are refused, nothing written.
    let other = fx._tmp.path().join("other");
    ok(fx
        .dist_cmd(&other, sample_binary())
        .args(["--target", "native"])
        .env("SOURCE_DATE_EPOCH", "1"));
    let refused = fx._tmp.path().join("refused");
    let err = fails(
        fx.xtask()
            .args(["dist", "merge"])
            .arg(parts.join("docker"))
            .arg(&other)
            .arg("--out")
            .arg(&refused),
    );
    assert!(err.contains("source date"), "{err}");
    assert!(!refused.join(config_version()).exists());
    // A damaged part is refused, naming the archive.
    let archive = find_archive(&parts.join("docker").join(config_version()), ".tar.zst");
    let mut bytes = fs::read(&archive).unwrap();
    bytes[100] ^= 1;
    fs::write(&archive, bytes).unwrap();
    let err = fails(
        fx.xtask()
            .args(["dist", "merge"])
            .arg(parts.join("docker"))
            .arg(parts.join("native"))
            .arg("--out")
            .arg(&refused),
    );
    assert!(
        err.contains(&*archive.file_name().unwrap().to_string_lossy()),
        "{err}"
    );
}

/// Rewrites the archive at `path`: every original entry (through `keep`, which may alter
/// the header or drop the entry), then `extra` entries as (header, data).
fn rewrite_archive(
    path: &Path,
    keep: impl Fn(&mut tar::Header) -> bool,
    extra: Vec<(tar::Header, Vec<u8>)>,
) {
    use std::io::Read;
    let raw = zstd::decode_all(&fs::read(path).unwrap()[..]).unwrap();
    let mut out = tar::Builder::new(Vec::new());
    let mut ar = tar::Archive::new(&raw[..]);
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let mut h = e.header().clone();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        if keep(&mut h) {
            h.set_cksum();
            out.append(&h, &data[..]).unwrap();
        }
    }
    for (mut h, data) in extra {
        h.set_cksum();
        out.append(&h, &data[..]).unwrap();
    }
    let tar = out.into_inner().unwrap();
    fs::write(path, zstd::encode_all(&tar[..], 3).unwrap()).unwrap();
}

/// A raw GNU header with `name` written as is (bypassing the tar crate's path checks).
fn raw_header(name: &str, ty: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_entry_type(ty);
    h.set_mode(mode);
    h.set_size(size);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h
}

/// Alters an archive in place.
type Craft<'a> = Box<dyn Fn(&Path) + 'a>;

#[test]
fn verify_rejects_crafted_archives_and_folders() {
    let fx = Fixture::new();
    ok(fx
        .dist_cmd(&fx.out(), sample_binary())
        .args(["--target", "native"]));
    let v = fx.out().join(config_version());
    let good = find_archive(&v, ".tar.zst");
    let top = format!("orangescrum-{}-native", config_version());
    let scratch = fx._tmp.path().join("crafted");
    fs::create_dir(&scratch).unwrap();
    let cases: Vec<(&str, Craft, &str)> = vec![
        (
            "binary replaced by a later link escaping the package",
            Box::new(|p: &Path| {
                let mut h = raw_header(
                    &format!("{top}/bin/orangescrum"),
                    tar::EntryType::Symlink,
                    0o755,
                    0,
                );
                h.set_link_name("../../../../tmp/evil").unwrap();
                rewrite_archive(p, |_| true, vec![(h, Vec::new())]);
            }),
            "appears twice",
        ),
        (
            "a `..` entry",
            Box::new(|p: &Path| {
                let h = raw_header(
                    &format!("{top}/../evil.sh"),
                    tar::EntryType::Regular,
                    0o755,
                    3,
                );
                rewrite_archive(p, |_| true, vec![(h, b"hi\n".to_vec())]);
            }),
            "component",
        ),
        (
            "a setuid binary owned by another user",
            Box::new(|p: &Path| {
                rewrite_archive(
                    p,
                    |h| {
                        if h.path().unwrap().ends_with("bin/orangescrum") {
                            h.set_mode(0o4777);
                            h.set_uid(1000);
                        }
                        true
                    },
                    vec![],
                )
            }),
            "not a canonical entry",
        ),
        (
            "an oversized inner SHA256SUMS",
            Box::new(|p: &Path| {
                rewrite_archive(
                    p,
                    |h| !h.path().unwrap().ends_with("SHA256SUMS"),
                    vec![(
                        raw_header(
                            &format!("{top}/SHA256SUMS"),
                            tar::EntryType::Regular,
                            0o644,
                            2 << 20,
                        ),
                        vec![b'0'; 2 << 20],
                    )],
                )
            }),
            "a real one is a few KiB",
        ),
    ];
    for (what, craft, expect) in cases {
        let p = scratch.join(good.file_name().unwrap());
        fs::copy(&good, &p).unwrap();
        craft(&p);
        let err = fails(fx.xtask().arg("verify").arg(&p));
        assert!(
            err.contains("CORRUPT") && err.contains(expect),
            "{what}: {err}"
        );
    }

    // Release level: a duplicated SHA256SUMS line, an empty sidecar.
    let sums = fs::read_to_string(v.join("SHA256SUMS")).unwrap();
    let name = sums.split_once("  ").unwrap().1.trim().to_string();
    fs::write(
        v.join("SHA256SUMS"),
        format!("{}  {name}\n{sums}", "0".repeat(64)),
    )
    .unwrap();
    let err = fails(fx.xtask().arg("verify").arg(&v));
    assert!(err.contains("listed twice"), "{err}");
    fs::write(v.join("SHA256SUMS"), &sums).unwrap();
    let side = v.join(format!("{name}.sha256"));
    let side_text = fs::read(&side).unwrap();
    fs::write(&side, "").unwrap();
    let err = fails(fx.xtask().arg("verify").arg(&v));
    assert!(err.contains("expected one line"), "{err}");
    fs::write(&side, side_text).unwrap();
    ok(fx.xtask().arg("verify").arg(&v));

    // Extracted folder: a listed path outside it, a file swapped for a link to an
    // identical copy outside.
    let x = fx._tmp.path().join("x");
    fs::create_dir(&x).unwrap();
    ok(Command::new("tar")
        .args(["--zstd", "-xf"])
        .arg(&good)
        .arg("-C")
        .arg(&x));
    let pkg = x.join(&top);
    let sums_path = pkg.join("SHA256SUMS");
    let pkg_sums = fs::read_to_string(&sums_path).unwrap();
    let hostname =
        String::from_utf8(ok(Command::new("sha256sum").arg("/etc/hostname")).stdout).unwrap();
    let h = hostname.split_whitespace().next().unwrap();
    fs::write(
        &sums_path,
        format!("{pkg_sums}{h}  ../../../../../../../../etc/hostname\n"),
    )
    .unwrap();
    let err = fails(fx.xtask().arg("verify").arg(&pkg));
    assert!(err.contains("outside the package"), "{err}");
    fs::write(&sums_path, &pkg_sums).unwrap();
    let outside = fx._tmp.path().join("outside-copy");
    fs::copy(pkg.join("README.md"), &outside).unwrap();
    fs::remove_file(pkg.join("README.md")).unwrap();
    std::os::unix::fs::symlink(&outside, pkg.join("README.md")).unwrap();
    let err = fails(fx.xtask().arg("verify").arg(&pkg));
    assert!(
        err.contains("README.md resolves outside the package"),
        "{err}"
    );
}

#[test]
fn a_wrong_entrypoint_setting_fails_before_anything_is_written() {
    let fx = Fixture::new();
    let out = fx.out();
    let err = fails(
        fx.dist_cmd(&out, sample_binary())
            .args(["--set", "dist.oci_entrypoint=no/such/file"]),
    );
    assert!(
        err.contains("dist.oci_entrypoint = \"no/such/file\": no such file"),
        "{err}"
    );
    assert!(!out.exists(), "nothing is written: {}", out.display());
}

#[test]
fn dry_run_writes_nothing_and_the_run_follows_its_plan() {
    let fx = Fixture::new();
    let out = fx.out();
    let mut cmd = fx.dist_cmd(&out, sample_binary());
    cmd.arg("--dry-run");
    let printed = String::from_utf8(ok(&mut cmd).stdout).unwrap();
    assert!(
        !out.exists(),
        "a dry run must not create the output root {}",
        out.display()
    );
    assert!(
        printed.contains("binary frame: compressed once"),
        "{printed}"
    );
    let planned: Vec<&str> = printed
        .lines()
        .filter_map(|l| l.strip_prefix("archive "))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(planned.len(), 3, "{printed}");

    let files = build(&fx, &out, sample_binary(), |_| {});
    let archives: Vec<&str> = files
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| n.ends_with(".tar.zst"))
        .collect();
    let mut planned = planned;
    planned.sort();
    assert_eq!(archives, planned, "the run wrote what the plan said");

    // Once the frame is cached, the plan says it is reused, and still writes nothing.
    let mut again = fx.dist_cmd(&out, sample_binary());
    again.arg("--dry-run");
    let before = release_files(&out.join(config_version()));
    let printed = String::from_utf8(ok(&mut again).stdout).unwrap();
    assert!(printed.contains("binary frame: reused from"), "{printed}");
    assert_eq!(before, release_files(&out.join(config_version())));
}
