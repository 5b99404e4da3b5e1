//! Attacks on the native package's `helpers/install.sh` / `helpers/uninstall.sh` and on
//! `helpers/generate-secrets.sh --fill` (issue 12, items 6 to 11), each run for real as root
//! against a package built by `xtask package native --sample`, in temporary prefixes and unit
//! directories, with throwaway accounts that guards delete again (also when an assertion
//! fails). Every attack is first shown to do its damage in the unfixed scripts (see the
//! commit history) and then asserted to be refused here.
//!
//! Refused prefixes that are real system directories (`/etc//`) are only ever tried with
//! `--dry-run`, so a regression cannot write into the host's `/etc`.

mod support;

use std::{
    collections::BTreeSet,
    fs,
    io::Write,
    os::unix::fs::{symlink, MetadataExt, PermissionsExt},
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex, MutexGuard, OnceLock,
    },
};

use sha2::{Digest, Sha256};
use support::*;

/// The search path the scripts get (systemd's default for services).
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// `useradd`/`userdel` lock `/etc/passwd`; the tests of this file take turns.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// True when running as root (these tests create accounts, chown and mount); else skips
/// (or fails under CI=true).
fn require_root() -> bool {
    require::root()
}

/// The native package of `xtask package native --sample`, built once per test process into
/// `$TMPDIR/xtask-install-<pid>` (xtask refuses an output folder inside the sources); those
/// of processes that have ended are removed.
fn built_package() -> &'static Path {
    static PKG: OnceLock<PathBuf> = OnceLock::new();
    PKG.get_or_init(|| {
        let base = std::env::temp_dir();
        for e in fs::read_dir(&base).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("xtask-install-") {
                if !Path::new("/proc").join(pid).exists() {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = base.join(format!("xtask-install-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let mut c = xtask();
        for (k, _) in std::env::vars() {
            if k.starts_with("XTASK_") {
                c.env_remove(k);
            }
        }
        ok(c.args(["package", "native", "--sample", "--out"]).arg(&dir));
        dir.join(config_version()).join("native")
    })
}

/// A private copy of the package (tests may add files and re-seal it).
fn package_copy(work: &Path) -> PathBuf {
    let dst = work.join("pkg");
    copy_tree(built_package(), &dst, false);
    dst
}

/// Rewrites `SHA256SUMS` of `pkg` for every file in it (except SHA256SUMS), minus `skip`.
fn reseal(pkg: &Path, skip: &[&str]) {
    let mut lines = Vec::new();
    for e in walkdir::WalkDir::new(pkg).sort_by_file_name() {
        let e = e.unwrap();
        if !e.file_type().is_file() {
            continue;
        }
        let rel = e.path().strip_prefix(pkg).unwrap().display().to_string();
        if rel == "SHA256SUMS" || skip.contains(&rel.as_str()) {
            continue;
        }
        let hash = Sha256::digest(fs::read(e.path()).unwrap());
        lines.push(format!("{hash:x}  {rel}\n"));
    }
    fs::write(pkg.join("SHA256SUMS"), lines.concat()).unwrap();
}

fn install(pkg: &Path, prefix: &Path, units: &Path, user: &str, extra: &[&str]) -> Command {
    let mut c = Command::new(pkg.join("helpers/install.sh"));
    c.arg("--prefix")
        .arg(prefix)
        .arg("--unit-dir")
        .arg(units)
        .args(["--user", user])
        .args(extra)
        .env_clear()
        .env("PATH", PATH);
    c
}

/// `uninstall.sh` of the package `pkg` (not the installed copy, which an attack may
/// have removed) for `prefix`.
fn uninstall(pkg: &Path, prefix: &Path, units: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(pkg.join("helpers/uninstall.sh"));
    c.arg("--prefix")
        .arg(prefix)
        .arg("--unit-dir")
        .arg(units)
        .args(extra)
        .env_clear()
        .env("PATH", PATH);
    c
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn names_in(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

// ------------------------------------------------------------------------------------------
// Accounts
// ------------------------------------------------------------------------------------------

/// A fresh account/group name (`osi<pid><n>`), unused on this machine.
fn fresh_name() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "osi{}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    assert!(
        !user_exists(&name) && !group_exists(&name),
        "{name} already exists"
    );
    name
}

/// Field `field` (0-based) of `getent <db> <name>`.
fn getent_field(db: &str, name: &str, field: usize) -> String {
    let out = ok(Command::new("getent").args([db, name]));
    stdout(&out)
        .trim()
        .split(':')
        .nth(field)
        .unwrap()
        .to_string()
}

/// Deletes the accounts and groups of these names on drop, if they exist.
struct Accounts(Vec<String>);

impl Accounts {
    fn new(names: &[&str]) -> Accounts {
        Accounts(names.iter().map(|s| s.to_string()).collect())
    }
}

impl Drop for Accounts {
    fn drop(&mut self) {
        for n in &self.0 {
            if user_exists(n) {
                let _ = Command::new("userdel").arg(n).env("PATH", PATH).status();
            }
        }
        for n in &self.0 {
            // --force: a group with gid 0 counts as root's primary group.
            if group_exists(n) {
                let _ = Command::new("groupdel")
                    .args(["--force", n])
                    .env("PATH", PATH)
                    .status();
            }
        }
    }
}

fn useradd(args: &[&str]) {
    ok(Command::new("useradd")
        .args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
        ])
        .args(args)
        .env("PATH", PATH));
}

/// A work folder below a root-owned, non-writable-by-others temporary folder, with the
/// prefix at `<work>/inst/opt/orangescrum` and the units in `<work>/inst/units`.
struct Layout {
    _tmp: tempfile::TempDir,
    work: PathBuf,
    prefix: PathBuf,
    units: PathBuf,
}

fn layout() -> Layout {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().to_path_buf();
    fs::set_permissions(&work, fs::Permissions::from_mode(0o755)).unwrap();
    let prefix = work.join("inst/opt/orangescrum");
    let units = work.join("inst/units");
    Layout {
        _tmp: tmp,
        work,
        prefix,
        units,
    }
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn chown(path: &Path, owner: &str) {
    ok(Command::new("chown").arg(owner).arg(path));
}

// ------------------------------------------------------------------------------------------
// Item 6: a prefix, parent or manifest another account could change; symlinked folders
// ------------------------------------------------------------------------------------------

/// A root-owned file outside the prefix that a planted `lnk -> outside` plus a manifest
/// entry `lnk/victim` would make install.sh/uninstall.sh delete.
struct Bait {
    victim: PathBuf,
    link: PathBuf,
}

fn plant(l: &Layout) -> Bait {
    let outside = l.work.join("outside");
    fs::create_dir_all(&outside).unwrap();
    let victim = outside.join("victim");
    fs::write(&victim, "root's file outside the prefix\n").unwrap();
    let link = l.prefix.join("lnk");
    symlink(&outside, &link).unwrap();
    let manifest = l.prefix.join(".install-manifest");
    let mut f = fs::OpenOptions::new().append(true).open(&manifest).unwrap();
    f.write_all(b"lnk/victim\n").unwrap();
    Bait { victim, link }
}

/// Runs install.sh and uninstall.sh on the tampered installation: both must refuse with
/// `expect` in the message, delete nothing outside, and leave the units in place.
fn both_refuse(pkg: &Path, l: &Layout, user: &str, bait: &Bait, expect: &str) {
    let units_before = names_in(&l.units);
    let err = fails(&mut uninstall(pkg, &l.prefix, &l.units, &[]));
    assert!(err.contains(expect), "uninstall names `{expect}`: {err}");
    assert!(
        bait.victim.exists(),
        "uninstall deleted a file outside the prefix"
    );
    assert_eq!(names_in(&l.units), units_before, "uninstall removed units");
    let err = fails(&mut install(pkg, &l.prefix, &l.units, user, &[]));
    assert!(err.contains(expect), "install names `{expect}`: {err}");
    assert!(
        bait.victim.exists(),
        "install deleted a file outside the prefix"
    );
}

#[test]
fn untrusted_prefix_parent_manifest_or_symlinked_folder_is_refused() {
    let _serial = serial();
    if !require_root() {
        return;
    }
    let l = layout();
    let pkg = package_copy(&l.work);
    let user = fresh_name();
    let _acc = Accounts::new(&[&user]);
    ok(&mut install(&pkg, &l.prefix, &l.units, &user, &[]));
    let bait = plant(&l);

    // The prefix writable by others (e.g. chmod 0777 by mistake): before the fix the
    // installer made it 0755 again, then deleted outside/victim through lnk/.
    chmod(&l.prefix, 0o777);
    both_refuse(&pkg, &l, &user, &bait, "writable by group or others");
    chmod(&l.prefix, 0o755);

    // Owned by another account.
    chown(&l.prefix, "nobody");
    both_refuse(&pkg, &l, &user, &bait, "is owned by uid");
    chown(&l.prefix, "root");

    // A directory above it writable by a group (even one without the sticky bit).
    let parent = l.prefix.parent().unwrap().to_path_buf();
    chmod(&parent, 0o775);
    both_refuse(&pkg, &l, &user, &bait, "writable by group or others");
    chmod(&parent, 0o755);

    // The prefix reached through a symbolic link whose target another account can write.
    let other = l.work.join("other");
    fs::create_dir(&other).unwrap();
    chmod(&other, 0o777);
    let real = other.join("real");
    fs::create_dir(&real).unwrap();
    let via = l.work.join("via");
    symlink(&real, &via).unwrap();
    let err = fails(&mut install(&pkg, &via, &l.units, &user, &["--dry-run"]));
    assert!(
        err.contains(&format!("{} (mode 777) is writable", other.display())),
        "{err}"
    );

    // The manifest: writable by others, then owned by another account.
    let manifest = l.prefix.join(".install-manifest");
    chmod(&manifest, 0o666);
    both_refuse(&pkg, &l, &user, &bait, "not root:root 0644");
    chmod(&manifest, 0o644);
    chown(&manifest, "nobody:nogroup");
    both_refuse(&pkg, &l, &user, &bait, "not root:root 0644");
    chown(&manifest, "root:root");
    // Replaced by a symbolic link.
    let saved = l.work.join("manifest.saved");
    fs::rename(&manifest, &saved).unwrap();
    symlink(&saved, &manifest).unwrap();
    both_refuse(&pkg, &l, &user, &bait, "is a symbolic link");
    fs::remove_file(&manifest).unwrap();
    fs::rename(&saved, &manifest).unwrap();

    // Everything root's, but an entry leads through the symlinked folder lnk/.
    both_refuse(&pkg, &l, &user, &bait, "lnk is a symbolic link");

    // A folder inside the prefix writable by others.
    let helpers = l.prefix.join("helpers");
    chmod(&helpers, 0o777);
    let err = fails(&mut uninstall(&pkg, &l.prefix, &l.units, &[]));
    assert!(err.contains("writable by group or others"), "{err}");
    chmod(&helpers, 0o755);

    // A unit directory others can write (they could swap a unit for a symbolic link).
    chmod(&l.units, 0o777);
    let err = fails(&mut install(
        &pkg,
        &l.prefix,
        &l.units,
        &user,
        &["--dry-run"],
    ));
    assert!(
        err.contains("--unit-dir") && err.contains("writable"),
        "{err}"
    );
    let err = fails(&mut uninstall(&pkg, &l.prefix, &l.units, &[]));
    assert!(
        err.contains("--unit-dir") && err.contains("writable"),
        "{err}"
    );
    chmod(&l.units, 0o755);

    // With the link gone the installation is trusted again and removed as usual.
    fs::remove_file(&bait.link).unwrap();
    ok(&mut install(&pkg, &l.prefix, &l.units, &user, &[]));
    ok(&mut uninstall(&pkg, &l.prefix, &l.units, &["--purge"]));
    assert!(!l.prefix.exists(), "uninstall removed the prefix");
    assert!(names_in(&l.units).is_empty(), "units removed");
    assert!(bait.victim.exists());
}

// ------------------------------------------------------------------------------------------
// Item 7: --prefix normalised before the refused list
// ------------------------------------------------------------------------------------------

#[test]
fn prefix_is_normalised_before_the_refused_list() {
    let _serial = serial();
    if !require_root() {
        return;
    }
    let l = layout();
    let pkg = built_package();
    // A name that does not exist: a dry run then only prints the useradd.
    let user = fresh_name();
    let _acc = Accounts::new(&[&user]);
    let etc_link = l.work.join("etc-link");
    symlink("/etc", &etc_link).unwrap();
    let etc_link = format!("{}/", etc_link.display());
    for p in [
        "/etc//",
        "/opt//",
        "/home//",
        "/./etc",
        "/etc/.",
        "//etc",
        "/usr/local/../../etc/",
        "/srv/x/..",
        "/var//tmp/",
        "/usr//local//",
        "/",
        "///",
        etc_link.as_str(),
    ] {
        let err = fails(&mut install(
            pkg,
            Path::new(p),
            &l.units,
            &user,
            &["--dry-run"],
        ));
        assert!(err.contains("refusing to install into"), "{p}: {err}");
        let err = fails(&mut uninstall(pkg, Path::new(p), &l.units, &["--dry-run"]));
        assert!(err.contains("refusing to uninstall from"), "{p}: {err}");
    }
    assert!(!user_exists(&user), "a refused dry run created an account");

    // A prefix written with '//', '.', '..' and a trailing '/' is installed (and its units
    // rendered) under its normalised name.
    let messy = format!("{}//inst/./opt/../opt//orangescrum/", l.work.display());
    ok(&mut install(pkg, Path::new(&messy), &l.units, &user, &[]));
    let unit = fs::read_to_string(l.units.join("orangescrum.service")).unwrap();
    assert!(
        unit.lines()
            .any(|x| x == format!("WorkingDirectory={}", l.prefix.display())),
        "units name the normalised prefix:\n{unit}"
    );
    ok(&mut uninstall(
        pkg,
        Path::new(&messy),
        &l.units,
        &["--purge", "--remove-user"],
    ));
    assert!(!l.prefix.exists() && !user_exists(&user));
}

// ------------------------------------------------------------------------------------------
// Item 8: --remove-user only removes what install.sh created
// ------------------------------------------------------------------------------------------

#[test]
fn remove_user_deletes_only_accounts_install_created() {
    let _serial = serial();
    if !require_root() {
        return;
    }
    let l = layout();
    let pkg = built_package();

    // An account that existed before (like `nobody` or `www-data`).
    let existing = fresh_name();
    let _acc1 = Accounts::new(&[&existing]);
    useradd(&["--user-group", &existing]);
    ok(&mut install(pkg, &l.prefix, &l.units, &existing, &[]));
    let err = fails(&mut uninstall(pkg, &l.prefix, &l.units, &["--remove-user"]));
    assert!(
        err.contains(&format!("account {existing}"))
            && err.contains("was not created by install.sh"),
        "clear refusal: {err}"
    );
    assert!(user_exists(&existing) && group_exists(&existing));
    assert!(
        l.prefix.join(".install-manifest").exists() && !names_in(&l.units).is_empty(),
        "a refused --remove-user removed nothing else either"
    );
    ok(&mut uninstall(pkg, &l.prefix, &l.units, &["--purge"]));
    assert!(user_exists(&existing) && group_exists(&existing));

    // A group that existed before; install.sh creates only the user in it. userdel
    // (USERGROUPS_ENAB) would take the same-named group with it: it must stay.
    let group_only = fresh_name();
    let _acc2 = Accounts::new(&[&group_only]);
    ok(Command::new("groupadd")
        .args(["--system", &group_only])
        .env("PATH", PATH));
    let gid = getent_field("group", &group_only, 2);
    ok(&mut install(pkg, &l.prefix, &l.units, &group_only, &[]));
    assert!(user_exists(&group_only));
    ok(&mut uninstall(
        pkg,
        &l.prefix,
        &l.units,
        &["--purge", "--remove-user"],
    ));
    assert!(
        !user_exists(&group_only),
        "the user install.sh created is removed"
    );
    assert!(
        group_exists(&group_only),
        "the group that existed before is kept"
    );
    assert_eq!(getent_field("group", &group_only, 2), gid, "with its gid");

    // Created by install.sh: removed with its group, also after a re-install and after an
    // uninstall that kept the account (the record outlives the manifest).
    let created = fresh_name();
    let _acc3 = Accounts::new(&[&created]);
    ok(&mut install(pkg, &l.prefix, &l.units, &created, &[]));
    ok(&mut install(pkg, &l.prefix, &l.units, &created, &[]));
    ok(&mut uninstall(pkg, &l.prefix, &l.units, &[]));
    assert!(user_exists(&created));
    ok(&mut install(pkg, &l.prefix, &l.units, &created, &[]));
    // ... but not by the uninstall of another installation that merely uses it.
    let other_prefix = l.work.join("inst/opt/second");
    let other_units = l.work.join("inst/units2");
    ok(&mut install(
        pkg,
        &other_prefix,
        &other_units,
        &created,
        &[],
    ));
    let err = fails(&mut uninstall(
        pkg,
        &other_prefix,
        &other_units,
        &["--remove-user"],
    ));
    assert!(err.contains("was not created by install.sh"), "{err}");
    ok(&mut uninstall(
        pkg,
        &other_prefix,
        &other_units,
        &["--purge"],
    ));
    ok(&mut uninstall(
        pkg,
        &l.prefix,
        &l.units,
        &["--purge", "--remove-user"],
    ));
    assert!(!user_exists(&created) && !group_exists(&created));

    // A record whose uid no longer matches (the name was reused) is not trusted.
    let reused = fresh_name();
    let _acc4 = Accounts::new(&[&reused]);
    ok(&mut install(pkg, &l.prefix, &l.units, &reused, &[]));
    let uid: u32 = getent_field("passwd", &reused, 2).parse().unwrap();
    ok(Command::new("userdel").arg(&reused).env("PATH", PATH));
    let new_uid = (uid + 1..60000)
        .find(|u| {
            !Command::new("getent")
                .args(["passwd", &u.to_string()])
                .stdout(Stdio::null())
                .status()
                .unwrap()
                .success()
        })
        .unwrap();
    useradd(&["--uid", &new_uid.to_string(), "--user-group", &reused]);
    let err = fails(&mut uninstall(pkg, &l.prefix, &l.units, &["--remove-user"]));
    assert!(err.contains("was not created by install.sh"), "{err}");
    assert!(user_exists(&reused));
    ok(&mut uninstall(pkg, &l.prefix, &l.units, &["--purge"]));
}

// ------------------------------------------------------------------------------------------
// Item 9: units matched literally
// ------------------------------------------------------------------------------------------

#[test]
fn uninstall_matches_units_of_its_prefix_literally() {
    let _serial = serial();
    if !require_root() {
        return;
    }
    let l = layout();
    let pkg = built_package();
    let user = fresh_name();
    let _acc = Accounts::new(&[&user]);
    let dotted = l.work.join("inst/p.x");
    let lookalike = l.work.join("inst/pAx");
    let units_a = l.work.join("inst/units-a");
    let units_b = l.work.join("inst/units-b");
    ok(&mut install(pkg, &lookalike, &units_a, &user, &[]));
    ok(&mut install(pkg, &dotted, &units_b, &user, &[]));
    let before = names_in(&units_a);
    assert!(!before.is_empty());
    let out = ok(&mut uninstall(pkg, &dotted, &units_a, &[]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        names_in(&units_a),
        before,
        "uninstall of p.x removed the units of pAx"
    );
    assert!(err.contains("belongs to another installation"), "{err}");
    // Each installation removes its own (the account goes with the one that created it).
    ok(&mut install(pkg, &dotted, &units_b, &user, &[]));
    ok(&mut uninstall(pkg, &dotted, &units_b, &["--purge"]));
    assert!(names_in(&units_b).is_empty());
    ok(&mut uninstall(
        pkg,
        &lookalike,
        &units_a,
        &["--purge", "--remove-user"],
    ));
    assert!(names_in(&units_a).is_empty() && !user_exists(&user));
}

// ------------------------------------------------------------------------------------------
// Item 10: no service account in root's group
// ------------------------------------------------------------------------------------------

#[test]
fn service_account_with_gid_0_or_uid_0_is_refused() {
    let _serial = serial();
    if !require_root() {
        return;
    }
    let l = layout();
    let pkg = built_package();

    // An existing account whose primary group is root.
    let in_root_group = fresh_name();
    let _acc1 = Accounts::new(&[&in_root_group]);
    useradd(&["--gid", "0", &in_root_group]);
    for extra in [&["--dry-run"][..], &[]] {
        let err = fails(&mut install(
            pkg,
            &l.prefix,
            &l.units,
            &in_root_group,
            extra,
        ));
        assert!(err.contains("gid 0"), "{err}");
    }

    // A new account whose same-named group is an alias of gid 0.
    let alias = fresh_name();
    let _acc2 = Accounts::new(&[&alias]);
    ok(Command::new("groupadd")
        .args(["--non-unique", "--gid", "0", &alias])
        .env("PATH", PATH));
    let err = fails(&mut install(
        pkg,
        &l.prefix,
        &l.units,
        &alias,
        &["--dry-run"],
    ));
    assert!(err.contains("gid 0"), "{err}");
    let err = fails(&mut install(pkg, &l.prefix, &l.units, &alias, &[]));
    assert!(err.contains("gid 0"), "{err}");
    assert!(!user_exists(&alias), "no account was created");

    // uid 0.
    let err = fails(&mut install(
        pkg,
        &l.prefix,
        &l.units,
        "root",
        &["--dry-run"],
    ));
    assert!(err.contains("uid 0"), "{err}");
    assert!(
        !l.prefix.exists() && !l.units.exists(),
        "a refusal changed something"
    );
}

// ------------------------------------------------------------------------------------------
// Units and files: from the package's own (verified) list
// ------------------------------------------------------------------------------------------

const EXTRA_UNITS: [(&str, &str); 3] = [
    (
        "orangescrum-migrate.service",
        "[Unit]\nDescription=migrate\nBefore=orangescrum.service\n\n[Service]\nType=oneshot\nUser=@@SERVICE_USER@@\nGroup=@@SERVICE_GROUP@@\nWorkingDirectory=@@PREFIX@@\nExecStart=@@PREFIX@@/helpers/migrate.sh @@PREFIX@@/bin/orangescrum\n\n[Install]\nWantedBy=multi-user.target\n",
    ),
    (
        "orangescrum-recurring.service",
        "[Unit]\nDescription=recurring\n\n[Service]\nType=oneshot\nUser=@@SERVICE_USER@@\nGroup=@@SERVICE_GROUP@@\nWorkingDirectory=@@PREFIX@@\nExecStart=@@PREFIX@@/bin/orangescrum php-cli bin/cake.php recurring_task\n",
    ),
    (
        "orangescrum-recurring.timer",
        "[Unit]\nDescription=recurring every 30 minutes\n\n[Timer]\nOnCalendar=*:0/30\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n",
    ),
];

#[test]
fn units_and_files_come_from_the_verified_package_list_timers_enabled() {
    let _serial = serial();
    if !require_root() {
        return;
    }
    let l = layout();
    let pkg = package_copy(&l.work);
    let user = fresh_name();
    let _acc = Accounts::new(&[&user]);
    // The new units and files (added here unless the package has them already), plus a
    // unit that is not in SHA256SUMS and must not be installed.
    for (name, text) in EXTRA_UNITS {
        let p = pkg.join("systemd").join(name);
        if !p.exists() {
            fs::write(&p, text).unwrap();
        }
    }
    for (rel, text, mode) in [
        ("php/php.ini", "memory_limit = 512M\n", 0o644),
        ("helpers/migrate.sh", "#!/bin/sh\nexit 0\n", 0o755),
        ("helpers/cake.sh", "#!/bin/sh\nexit 0\n", 0o755),
    ] {
        let p = pkg.join(rel);
        if !p.exists() {
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, text).unwrap();
            chmod(&p, mode);
        }
    }
    fs::write(
        pkg.join("systemd/rogue.service"),
        "[Service]\nUser=root\nExecStart=/bin/sh -c id\n",
    )
    .unwrap();
    reseal(&pkg, &["systemd/rogue.service"]);

    let out = ok(&mut install(&pkg, &l.prefix, &l.units, &user, &[]));
    let said = stdout(&out);
    let want: BTreeSet<String> = names_in(&pkg.join("systemd"))
        .into_iter()
        .filter(|n| n != "rogue.service")
        .collect();
    assert_eq!(
        names_in(&l.units),
        want,
        "the units are the package's listed ones"
    );
    for name in &want {
        let text = fs::read_to_string(l.units.join(name)).unwrap();
        assert!(!text.contains("@@"), "{name} rendered:\n{text}");
        let m = fs::metadata(l.units.join(name)).unwrap();
        assert_eq!(
            (m.mode() & 0o7777, m.uid(), m.gid()),
            (0o644, 0, 0),
            "{name}"
        );
    }
    // Enabled and started: units with [Install], services (except those a timer of their
    // name starts) first, then timers.
    let enable = said
        .lines()
        .find_map(|x| x.trim().strip_prefix("systemctl enable "))
        .unwrap_or_else(|| panic!("no `systemctl enable` line:\n{said}"));
    let enabled: Vec<&str> = enable.split(' ').collect();
    let installable = |n: &&str| {
        let text = fs::read_to_string(pkg.join("systemd").join(n)).unwrap();
        text.lines().any(|x| x.trim() == "[Install]")
    };
    let services = want
        .iter()
        .map(String::as_str)
        .filter(|n| {
            n.ends_with(".service")
                && !want.contains(&format!("{}.timer", n.trim_end_matches(".service")))
        })
        .filter(installable);
    let timers = want
        .iter()
        .map(String::as_str)
        .filter(|n| n.ends_with(".timer"))
        .filter(installable);
    let expected: Vec<&str> = services.chain(timers).collect();
    assert_eq!(enabled, expected, "{said}");
    assert!(enabled.contains(&"orangescrum-recurring.timer"));
    assert!(!enabled.contains(&"orangescrum-recurring.service"));
    assert!(
        said.contains(&format!("systemctl start {enable}")),
        "{said}"
    );

    // The new files with their modes; nothing unlisted.
    for (rel, mode) in [
        ("php/php.ini", 0o644),
        ("helpers/migrate.sh", 0o755),
        ("helpers/cake.sh", 0o755),
    ] {
        let m = fs::symlink_metadata(l.prefix.join(rel)).unwrap();
        assert_eq!((m.mode() & 0o7777, m.uid(), m.gid()), (mode, 0, 0), "{rel}");
    }
    assert!(!l.prefix.join("systemd/rogue.service").exists());

    // A version without the timer pair names the units it leaves behind (install.sh
    // never stops services) and changes nothing about them.
    let older = l.work.join("older");
    copy_tree(&pkg, &older, false);
    for n in [
        "orangescrum-recurring.timer",
        "orangescrum-recurring.service",
    ] {
        fs::remove_file(older.join("systemd").join(n)).unwrap();
    }
    reseal(&older, &["systemd/rogue.service"]);
    let out = ok(&mut install(&older, &l.prefix, &l.units, &user, &[]));
    let err = String::from_utf8_lossy(&out.stderr);
    let said = stdout(&out);
    assert!(
        err.contains("no longer has orangescrum-recurring.service orangescrum-recurring.timer"),
        "{err}"
    );
    assert!(
        said.contains(
            "systemctl disable --now orangescrum-recurring.service orangescrum-recurring.timer"
        ),
        "{said}"
    );
    assert_eq!(names_in(&l.units), want, "units left as they were");
    ok(&mut install(&pkg, &l.prefix, &l.units, &user, &[]));

    // Uninstall removes every unit of this installation, the timer included.
    ok(&mut uninstall(
        &pkg,
        &l.prefix,
        &l.units,
        &["--purge", "--remove-user"],
    ));
    assert!(
        names_in(&l.units).is_empty(),
        "left: {:?}",
        names_in(&l.units)
    );
    assert!(!user_exists(&user));
}

// ------------------------------------------------------------------------------------------
// Item 11: generate-secrets.sh --fill on a full disk
// ------------------------------------------------------------------------------------------

/// A tmpfs mounted for the test; unmounted on drop.
struct Tmpfs(PathBuf);

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

const PAGE: u64 = 4096;

/// An .env of just under one page whose filled version needs two.
fn env_text() -> String {
    let keys = "SECURITY_SALT=__CHANGE_ME__\nDB_PASSWORD=__CHANGE_ME__\nREDIS_PASSWORD=__CHANGE_ME__\nV2_ROUTING_API_KEY=__CHANGE_ME__\n";
    let mut text = String::from("APP_ENV=production\n");
    while text.len() + keys.len() + 40 < PAGE as usize - 16 {
        text.push_str("# padding padding padding padding padding\n");
    }
    text.push_str(keys);
    text
}

/// True if `filled` is `orig` with every `__CHANGE_ME__` value replaced by hex.
fn is_complete_fill(orig: &str, filled: &str) -> bool {
    let (a, b): (Vec<_>, Vec<_>) = (orig.lines().collect(), filled.lines().collect());
    a.len() == b.len()
        && filled.ends_with('\n')
        && a.iter()
            .zip(&b)
            .all(|(x, y)| match x.strip_suffix("=__CHANGE_ME__") {
                Some(key) => y
                    .strip_prefix(&format!("{key}="))
                    .is_some_and(|v| v.len() >= 32 && v.bytes().all(|c| c.is_ascii_hexdigit())),
                None => x == y,
            })
}

#[test]
fn fill_replaces_env_whole_or_not_at_all_on_a_full_disk() {
    if !require_root() {
        return;
    }
    let script = repo().join("common/helpers/generate-secrets.sh");
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("mnt");
    fs::create_dir(&mnt).unwrap();
    ok(Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=32k,mode=0755", "tmpfs"])
        .arg(&mnt));
    let _mounted = Tmpfs(mnt.clone());
    let orig = env_text();
    let env = mnt.join(".env");
    let mut shells = vec!["dash", "bash"];
    if Command::new("busybox")
        .arg("true")
        .status()
        .is_ok_and(|s| s.success())
    {
        shells.push("busybox");
    }
    let mut outcomes = Vec::new();
    for shell in shells {
        // Most free space first: the unfixed script destroyed .env at 2 free pages.
        for free_pages in (0..=4u64).rev() {
            for e in fs::read_dir(&mnt).unwrap() {
                fs::remove_file(e.unwrap().path()).unwrap();
            }
            fs::write(&env, &orig).unwrap();
            chmod(&env, 0o640);
            std::os::unix::fs::chown(&env, Some(1234), Some(4321)).unwrap();
            // Fill the file system, then give back `free_pages` pages.
            let filler = mnt.join("filler");
            let mut f = fs::File::create(&filler).unwrap();
            let chunk = vec![0u8; PAGE as usize];
            while f.write_all(&chunk).is_ok() {}
            let len = f.metadata().unwrap().len() / PAGE * PAGE;
            f.set_len(len.saturating_sub(free_pages * PAGE)).unwrap();
            drop(f);

            let mut c = Command::new(shell);
            if shell == "busybox" {
                c.arg("sh");
            }
            let out = run(c.arg(&script).arg("--fill").arg(&env).env("PATH", PATH));
            let now = fs::read_to_string(&env).unwrap_or_default();
            let m = fs::metadata(&env).unwrap();
            let left: Vec<String> = names_in(&mnt)
                .into_iter()
                .filter(|n| n != ".env" && n != "filler")
                .collect();
            let what = format!("{shell}, {free_pages} free pages");
            assert!(left.is_empty(), "{what}: left behind {left:?}");
            assert_eq!(
                (m.mode() & 0o7777, m.uid(), m.gid()),
                (0o640, 1234, 4321),
                "{what}: owner and mode kept"
            );
            if out.status.success() {
                assert!(is_complete_fill(&orig, &now), "{what}: success but:\n{now}");
            } else {
                assert!(
                    now == orig,
                    "{what}: a failed --fill changed .env ({} of {} bytes left, ending {:?})",
                    now.len(),
                    orig.len(),
                    &now[now.len().saturating_sub(60)..]
                );
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(err.contains("was not changed"), "{what}: {err}");
            }
            outcomes.push(out.status.success());
        }
    }
    assert!(
        outcomes.contains(&true) && outcomes.contains(&false),
        "{outcomes:?}"
    );
}

#[test]
fn fill_keeps_a_0600_env_and_its_owner_and_refuses_a_symlink() {
    let tmp = tempfile::tempdir().unwrap();
    let script = repo().join("common/helpers/generate-secrets.sh");
    let env = tmp.path().join(".env");
    fs::write(&env, "DB_PASSWORD=__CHANGE_ME__\nA=b\n").unwrap();
    chmod(&env, 0o600);
    let before = fs::metadata(&env).unwrap();
    ok(Command::new("sh").arg(&script).arg("--fill").arg(&env));
    let m = fs::metadata(&env).unwrap();
    assert_eq!(
        (m.mode() & 0o7777, m.uid(), m.gid()),
        (0o600, before.uid(), before.gid())
    );
    let text = fs::read_to_string(&env).unwrap();
    assert!(
        is_complete_fill("DB_PASSWORD=__CHANGE_ME__\nA=b\n", &text),
        "{text}"
    );
    assert_eq!(names_in(tmp.path()), BTreeSet::from([".env".to_string()]));

    let link = tmp.path().join("link.env");
    symlink(&env, &link).unwrap();
    let err = fails(Command::new("sh").arg(&script).arg("--fill").arg(&link));
    assert!(err.contains("symbolic link"), "{err}");
}

// ------------------------------------------------------------------------------------------
// The scripts under BusyBox sh (Alpine's /bin/sh), whose applets replace coreutils
// ------------------------------------------------------------------------------------------

fn busybox() -> bool {
    Command::new("busybox")
        .arg("true")
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn install_and_uninstall_run_under_busybox_sh() {
    let _serial = serial();
    if !require_root() {
        return;
    }
    if !require::available("busybox", busybox(), "apt-get install busybox-static") {
        return;
    }
    let l = layout();
    let pkg = built_package();
    let user = fresh_name();
    let _acc = Accounts::new(&[&user]);
    let under_busybox = |mut c: Command| {
        // Same arguments and environment, with `busybox sh <script>` as the program.
        let mut b = Command::new("busybox");
        b.arg("sh").arg(c.get_program()).args(c.get_args());
        b.env_clear().env("PATH", PATH);
        let _ = c.env_clear();
        b
    };
    ok(&mut under_busybox(install(
        pkg,
        &l.prefix,
        &l.units,
        &user,
        &[],
    )));
    assert!(user_exists(&user) && l.prefix.join("bin/orangescrum").is_file());
    ok(&mut under_busybox(install(
        pkg,
        &l.prefix,
        &l.units,
        &user,
        &[],
    )));
    ok(&mut under_busybox(uninstall(
        pkg,
        &l.prefix,
        &l.units,
        &["--purge", "--remove-user"],
    )));
    assert!(!l.prefix.exists() && !user_exists(&user) && names_in(&l.units).is_empty());
}
