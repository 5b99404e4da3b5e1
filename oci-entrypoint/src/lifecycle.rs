//! The image's `migrate`, `queue-worker` and `scheduler` commands: the same steps as the
//! packages' `helpers/migrate.sh` and the Docker entrypoint's scheduler (which the image
//! cannot run: it has no shell), decided by pure functions and run with the binary's own
//! PHP. The order, the settings and the exit codes follow `migrate.sh`; a test runs both
//! against the same PostgreSQL and compares what they did.

use std::{
    process::{Command, ExitCode},
    sync::atomic::{AtomicBool, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// What `migrate` will do, from the environment (RUN_SEEDERS, SKIP_SEEDERS, SKIP_MIGRATIONS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigratePlan {
    pub migrations: bool,
    pub seeding: Seeding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seeding {
    Always,
    Never,
    /// When the `actions` table is empty (`db-lifecycle.php seed-needed`).
    IfEmpty,
}

pub fn migrate_plan(get: impl Fn(&str) -> Option<String>) -> Result<MigratePlan, String> {
    let migrations = matches!(
        get("SKIP_MIGRATIONS").as_deref(),
        None | Some("" | "0" | "false" | "FALSE" | "False")
    );
    let mut seeding = match get("RUN_SEEDERS").as_deref() {
        Some("true") => Seeding::Always,
        Some("false") => Seeding::Never,
        None | Some("auto" | "") => Seeding::IfEmpty,
        Some(other) => {
            return Err(format!(
                "RUN_SEEDERS={other} is not one of true, false, auto"
            ))
        }
    };
    if seeding == Seeding::IfEmpty && get("SKIP_SEEDERS").as_deref() == Some("true") {
        seeding = Seeding::Never;
    }
    Ok(MigratePlan {
        migrations,
        seeding,
    })
}

fn say(msg: &str) {
    println!("migrate: {msg}");
}

fn php(bin: &str, args: &[&str]) -> Command {
    let mut c = Command::new(bin);
    // A relative script is found inside the embedded app only when it does not exist
    // relative to the working directory (FrankenPHP's php-cli rule): run from /.
    c.arg("php-cli").args(args).current_dir("/");
    c
}

fn status(bin: &str, args: &[&str]) -> Result<i32, String> {
    say(&format!("running: php-cli {}", args.join(" ")));
    php(bin, args)
        .status()
        .map(|s| s.code().unwrap_or(128))
        .map_err(|e| format!("cannot run {bin}: {e}"))
}

fn run(bin: &str, args: &[&str]) -> Result<(), String> {
    match status(bin, args)? {
        0 => Ok(()),
        _ => Err(format!(
            "'php-cli {}' failed (its output is above)",
            args.join(" ")
        )),
    }
}

/// Exit 3 from `db-lifecycle.php sql` is SQLSTATE 23505: the data is already there.
fn run_sql(bin: &str, file: &str) -> Result<(), String> {
    match status(bin, &["bin/db-lifecycle.php", "sql", file])? {
        0 => Ok(()),
        3 => {
            say(&format!("already applied (SQLSTATE 23505): {file}"));
            Ok(())
        }
        _ => Err(format!(
            "'php-cli bin/db-lifecycle.php sql {file}' failed (its output is above)"
        )),
    }
}

pub fn migrate(bin: &str) -> ExitCode {
    match migrate_steps(bin) {
        Ok(()) => {
            say("done");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("migrate: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn migrate_steps(bin: &str) -> Result<(), String> {
    let plan = migrate_plan(|k| std::env::var(k).ok())?;
    if !plan.migrations && plan.seeding == Seeding::Never {
        say("migrations skipped and seeding disabled: nothing to do");
        return Ok(());
    }
    run(bin, &["bin/db-lifecycle.php", "wait"])?;
    if plan.migrations {
        run(bin, &["bin/cake.php", "migrations", "migrate"])?;
        let out = php(bin, &["bin/db-lifecycle.php", "plugins"])
            .output()
            .map_err(|e| format!("cannot run {bin}: {e}"))?;
        if !out.status.success() {
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
            return Err("cannot list the app's plugins (output above)".into());
        }
        for plugin in String::from_utf8_lossy(&out.stdout).split_whitespace() {
            run(
                bin,
                &["bin/cake.php", "migrations", "migrate", "-p", plugin],
            )?;
        }
    } else {
        say("SKIP_MIGRATIONS set: migrations skipped");
    }
    let seed = match plan.seeding {
        Seeding::Always => true,
        Seeding::Never => false,
        Seeding::IfEmpty => match status(bin, &["bin/db-lifecycle.php", "seed-needed"])? {
            0 => true,
            1 => false,
            _ => {
                return Err("cannot tell whether the database needs seeding (output above)".into())
            }
        },
    };
    if !seed {
        say("seeding skipped");
        return Ok(());
    }
    run_sql(bin, "config/schema/pg_config_1.sql")?;
    say("running: the seeders");
    let out = php(bin, &["bin/cake.php", "migrations", "seed"])
        .output()
        .map_err(|e| format!("cannot run {bin}: {e}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    print!("{text}");
    if !out.status.success() {
        if text.contains("23505") {
            say("seed data is already there (SQLSTATE 23505): nothing to seed");
        } else {
            return Err(format!(
                "the seeders failed (exit {}; their output is above)",
                out.status.code().unwrap_or(128)
            ));
        }
    }
    run_sql(bin, "config/schema/pg_config_2.sql")
}

/// `queue worker` arguments from WORKER_MAX_RUNTIME and WORKER_SLEEP (defaults 1800, 5).
pub fn worker_args(get: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let or = |k: &str, d: &str| get(k).filter(|v| !v.is_empty()).unwrap_or_else(|| d.into());
    [
        "php-cli",
        "bin/cake.php",
        "queue",
        "worker",
        "--max-runtime",
        &or("WORKER_MAX_RUNTIME", "1800"),
        "--sleep",
        &or("WORKER_SLEEP", "5"),
        "--verbose",
    ]
    .map(String::from)
    .to_vec()
}

/// Seconds from `now` to the next multiple of `interval` (at least 1): runs land on the
/// clock's slots (hh:00 and hh:30 for 1800), the same on every replica and restart.
pub fn until_next_slot(now: u64, interval: u64) -> u64 {
    let interval = interval.max(1);
    interval - now % interval
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop(_: i32) {
    STOP.store(true, Ordering::SeqCst);
}

extern "C" {
    // std only: declared by hand; glibc/musl `signal` keeps the handler installed.
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
}

/// `recurring_task` every `interval` seconds on the clock's slots, one run at a time; stops
/// between runs on SIGTERM/SIGINT (as PID 1 the default action would be ignored).
pub fn scheduler(bin: &str, interval: u64) -> ExitCode {
    for sig in [15, 2] {
        // SAFETY: the handler only stores to an atomic.
        unsafe { signal(sig, on_stop) };
    }
    eprintln!(
        "scheduler: recurring_task every {interval}s, aligned to the clock, one run at a time"
    );
    while !STOP.load(Ordering::SeqCst) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let wait = until_next_slot(now, interval);
        for _ in 0..wait * 10 {
            if STOP.load(Ordering::SeqCst) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if STOP.load(Ordering::SeqCst) {
            break;
        }
        eprintln!("scheduler: recurring_task started");
        let started = std::time::Instant::now();
        match php(bin, &["bin/cake.php", "recurring_task"]).status() {
            Ok(s) if s.success() => eprintln!(
                "scheduler: recurring_task finished in {}s",
                started.elapsed().as_secs()
            ),
            Ok(s) => eprintln!(
                "scheduler: recurring_task failed with exit status {} after {}s (next slot as usual; its output is above)",
                s.code().unwrap_or(128),
                started.elapsed().as_secs()
            ),
            Err(e) => eprintln!("scheduler: cannot run {bin}: {e}"),
        }
    }
    eprintln!("scheduler: stopped");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn plans_follow_migrate_sh() {
        let p = |pairs: &[(&str, &str)]| migrate_plan(env(pairs));
        assert_eq!(
            p(&[]).unwrap(),
            MigratePlan {
                migrations: true,
                seeding: Seeding::IfEmpty
            }
        );
        assert!(!p(&[("SKIP_MIGRATIONS", "1")]).unwrap().migrations);
        assert!(p(&[("SKIP_MIGRATIONS", "false")]).unwrap().migrations);
        assert_eq!(
            p(&[("RUN_SEEDERS", "true")]).unwrap().seeding,
            Seeding::Always
        );
        assert_eq!(
            p(&[("RUN_SEEDERS", "false")]).unwrap().seeding,
            Seeding::Never
        );
        assert_eq!(
            p(&[("SKIP_SEEDERS", "true")]).unwrap().seeding,
            Seeding::Never
        );
        // An explicit RUN_SEEDERS=true wins over SKIP_SEEDERS, as in migrate.sh.
        assert_eq!(
            p(&[("RUN_SEEDERS", "true"), ("SKIP_SEEDERS", "true")])
                .unwrap()
                .seeding,
            Seeding::Always
        );
        assert!(p(&[("RUN_SEEDERS", "yes")])
            .unwrap_err()
            .contains("RUN_SEEDERS=yes"));
    }

    #[test]
    fn worker_and_slots() {
        assert_eq!(
            worker_args(env(&[("WORKER_SLEEP", "2")]))[4..],
            ["--max-runtime", "1800", "--sleep", "2", "--verbose"]
        );
        assert_eq!(until_next_slot(1800 * 5, 1800), 1800);
        assert_eq!(until_next_slot(1800 * 5 + 1, 1800), 1799);
        assert_eq!(until_next_slot(7, 0), 1);
    }
}
