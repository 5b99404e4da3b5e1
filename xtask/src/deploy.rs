//! `cargo xtask deploy docker`: deploys a release's Docker package on this machine and
//! waits until it is healthy; `--down` stops it.
//!
//! The release (`<out>/<version>/`, newest by default) is verified first, then its docker
//! archive is extracted into `<out>/.deploy/<app>-<version>-docker/`, which persists (it
//! holds the `.env`, mode 0600) so a later `--down` or redeploy finds it. The env file is
//! checked with the package's own `helpers/validate-env.sh` before anything changes; then
//! `compose up -d --build` runs under a project name derived from app and version. Compose
//! starts the one-shot `migrate` service first and the others only after it exited 0; a
//! failed migration is reported with the migrate container's output.
//!
//! Decisions (which version, the compose command lines, reading `docker inspect` and
//! `docker port`) are pure functions with unit tests; the rest is thin process work.

use std::{
    fs,
    path::{Path, PathBuf},
    thread,
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use xshell::Shell;

use crate::{
    build::docker::{Cmd, Compose},
    dist::{self, RELEASE_SUMS},
    fsx, hash,
    manifest::{self, DistManifest, RELEASE_MANIFEST},
    project::Project,
    target::Target,
    verify,
    version::is_version,
};

/// Folder under the output root holding the deployed packages.
pub const DEPLOY_DIR: &str = ".deploy";
/// Service and profile names of the Docker package's docker-compose.yaml.
pub const APP_SERVICE: &str = "orangescrum-app";
pub const MIGRATE_SERVICE: &str = "migrate";
pub const SCHEDULER_SERVICE: &str = "scheduler";
pub const QUEUE_SERVICE: &str = "queue-worker";
pub const QUEUE_PROFILE: &str = "queue";
pub const COMPOSE_FILE: &str = "docker-compose.yaml";
/// The package's environment validator.
pub const VALIDATOR: &str = "helpers/validate-env.sh";

#[derive(clap::Args)]
pub struct DeployArgs {
    /// What to deploy; only the Docker package is deployed by xtask (the native package
    /// installs with its own helpers/install.sh).
    #[arg(value_enum)]
    pub target: DeployTarget,
    /// Release to deploy (default: the newest <version>/ folder in the output root; with
    /// --down: the newest deployed one).
    #[arg(long, value_name = "V")]
    pub version: Option<String>,
    /// Output root holding the releases instead of dist/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Environment file, installed as .env (mode 0600) after it passes the package's
    /// validator (default: the .env already in the deploy folder).
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
    /// Runtime base image for the package's Dockerfile (its BASE_IMAGE build argument).
    #[arg(long, value_name = "IMAGE")]
    pub base_image: Option<String>,
    /// Also start the queue worker (compose profile "queue").
    #[arg(long)]
    pub queue: bool,
    /// An extra compose file layered over the package's docker-compose.yaml (repeatable),
    /// e.g. docker-compose.services.yml of the package (development databases) or a site
    /// override. A relative path that does not exist as given is taken from the package.
    #[arg(long, value_name = "FILE")]
    pub compose_file: Vec<PathBuf>,
    /// Seconds to wait for the application container to become healthy.
    #[arg(long, value_name = "S", default_value_t = 120)]
    pub timeout: u64,
    /// Stop and remove the deployment's containers and network (volumes are kept).
    #[arg(long, conflicts_with_all = ["env_file", "base_image", "queue", "compose_file"])]
    pub down: bool,
    /// With --down: also remove the deployment's volumes.
    #[arg(long, requires = "down")]
    pub volumes: bool,
    #[command(flatten)]
    pub sets: crate::SetArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeployTarget {
    Docker,
}

pub fn run(proj: &Project, args: &DeployArgs) -> Result<()> {
    match args.target {
        DeployTarget::Docker if args.down => down(proj, args),
        DeployTarget::Docker => up(proj, args),
    }
}

/// The newest release version among the output root's folder names.
pub fn newest_release(names: &[String]) -> Option<String> {
    names
        .iter()
        .filter(|n| is_version(n))
        .max_by_key(|v| dist::version_key(v))
        .cloned()
}

/// The newest version among deploy folders named `<app>-<version>-docker`.
pub fn newest_deployed(names: &[String], app: &str) -> Option<String> {
    let versions: Vec<String> = names
        .iter()
        .filter_map(|n| {
            n.strip_prefix(app)?
                .strip_prefix('-')?
                .strip_suffix(&format!("-{}", Target::Docker))
                .map(str::to_string)
        })
        .collect();
    newest_release(&versions)
}

/// Compose project name from app and version: lower case, `[a-z0-9_-]` only (Compose v2
/// rejects dots, 1.29 would silently drop them), e.g. `orangescrum-v26-1-1`.
pub fn project_name(app: &str, version: &str) -> String {
    let raw = format!("{app}-{version}").to_ascii_lowercase();
    let name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    name.trim_start_matches(['-', '_']).to_string()
}

/// One deployment: compose flavour, project name and deploy folder. Its methods return
/// the exact commands; the compose file is named by absolute path, so Compose takes the
/// project folder (and its `.env`) from there whatever the current folder is.
#[derive(Debug, Clone)]
pub struct Stack {
    pub compose: Compose,
    pub project: String,
    pub dir: PathBuf,
    /// Extra compose files, absolute, after the package's own.
    pub extra: Vec<PathBuf>,
}

impl Stack {
    fn base(&self) -> Cmd {
        let mut c = self
            .compose
            .cmd()
            .arg("-p")
            .arg(&self.project)
            .arg("-f")
            .arg(self.dir.join(COMPOSE_FILE).to_string_lossy());
        for f in &self.extra {
            c = c.arg("-f").arg(f.to_string_lossy());
        }
        c
    }

    fn with_base_image(cmd: Cmd, base_image: Option<&str>) -> Cmd {
        match base_image {
            // The compose file maps the BASE_IMAGE variable to the Dockerfile's build arg.
            Some(img) => cmd.env("BASE_IMAGE", img),
            None => cmd,
        }
    }

    /// `up -d --build` of the default services (migrate, then the web application and the
    /// scheduler), with the queue worker too when `queue`. One `up` for all of them, so the
    /// migration runs once.
    pub fn up(&self, base_image: Option<&str>, queue: bool) -> Cmd {
        let c = self.base();
        let c = if queue {
            c.args(["--profile", QUEUE_PROFILE])
        } else {
            c
        };
        Self::with_base_image(c.args(["up", "-d", "--build"]), base_image)
    }

    /// Container ids of a service.
    pub fn ps(&self, service: &str) -> Cmd {
        self.base().args(["ps", "-q", service])
    }

    /// Stops and removes containers (queue worker included) and the network; volumes only
    /// when asked.
    pub fn down(&self, volumes: bool) -> Cmd {
        let c = self
            .base()
            .args(["--profile", QUEUE_PROFILE, "down", "--remove-orphans"]);
        if volumes {
            c.arg("--volumes")
        } else {
            c
        }
    }
}

/// Containers of one service of the project, stopped ones included, not `run` one-offs
/// (engine labels, the same for both compose flavours).
pub fn service_containers_cmd(project: &str, service: &str) -> Cmd {
    Cmd::new("docker").args([
        "ps".to_string(),
        "-a".into(),
        "-q".into(),
        "--filter".into(),
        format!("label=com.docker.compose.project={project}"),
        "--filter".into(),
        format!("label=com.docker.compose.service={service}"),
        "--filter".into(),
        "label=com.docker.compose.oneoff=False".into(),
    ])
}

/// What a one-shot container's state means: still running, done, or failed.
pub fn judge_one_shot(s: &State) -> Verdict {
    match s.status.as_str() {
        "exited" if s.exit_code == 0 => Verdict::Ready,
        "exited" | "dead" => Verdict::Fail(format!("exited with code {}", s.exit_code)),
        "created" | "running" | "restarting" => Verdict::Wait(format!("is {}", s.status)),
        other => Verdict::Fail(format!("is {other}")),
    }
}

/// `docker inspect` of the fields [`parse_state`] reads.
pub fn inspect_cmd(id: &str) -> Cmd {
    Cmd::new("docker").args([
        "inspect",
        "--format",
        "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.State.ExitCode}} {{.RestartCount}}",
        id,
    ])
}

/// A container's state as `docker inspect` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// created, running, restarting, exited, paused, dead, removing
    pub status: String,
    /// starting, healthy, unhealthy; None without a health check
    pub health: Option<String>,
    pub exit_code: i64,
    pub restarts: u64,
}

pub fn parse_state(text: &str) -> Result<State> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [status, health, code, restarts] = words[..] else {
        bail!("unexpected `docker inspect` output {text:?}");
    };
    Ok(State {
        status: status.to_string(),
        health: (health != "none").then(|| health.to_string()),
        exit_code: code
            .parse()
            .with_context(|| format!("bad exit code in {text:?}"))?,
        restarts: restarts
            .parse()
            .with_context(|| format!("bad restart count in {text:?}"))?,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ready,
    Wait(String),
    Fail(String),
}

/// What a state means for a deployment: wait, done, or failed (fail fast: a crashed,
/// crash-looping or unhealthy container does not become healthy by waiting). A restart
/// after exit code 0 is the queue worker's normal cycle (it exits after its max runtime).
pub fn judge(s: &State, need_health: bool) -> Verdict {
    if s.exit_code != 0 && (s.restarts > 0 || s.status == "restarting") {
        return Verdict::Fail(format!(
            "keeps restarting (restarted {} time(s), last exit code {})",
            s.restarts, s.exit_code
        ));
    }
    match s.status.as_str() {
        "running" => {}
        "restarting" => return Verdict::Wait("restarting after a clean exit".into()),
        "created" => return Verdict::Wait("created, not started yet".into()),
        "exited" | "dead" => {
            return Verdict::Fail(format!("{} with exit code {}", s.status, s.exit_code))
        }
        other => return Verdict::Fail(format!("is {other}")),
    }
    match (s.health.as_deref(), need_health) {
        (Some("healthy"), _) | (None, false) => Verdict::Ready,
        (Some("starting"), _) => Verdict::Wait("running, health check starting".into()),
        (Some("unhealthy"), _) => Verdict::Fail("is unhealthy (its health check fails)".into()),
        (Some(other), _) => Verdict::Fail(format!("has health status {other}")),
        (None, true) => Verdict::Fail(
            "has no health check: the image's HEALTHCHECK or the compose healthcheck is missing"
                .into(),
        ),
    }
}

/// `http://host:port/` for each published port of `docker port <id>` output
/// (`8080/tcp -> 127.0.0.1:18080`).
pub fn listen_urls(docker_port: &str) -> Vec<String> {
    docker_port
        .lines()
        .filter_map(|l| l.split_once("->"))
        .filter(|(c, _)| c.trim().ends_with("/tcp"))
        .map(|(_, host)| format!("http://{}/", host.trim()))
        .collect()
}

fn dir_names(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn up(proj: &Project, args: &DeployArgs) -> Result<()> {
    let sh = &proj.sh;
    if let Some(f) = &args.env_file {
        if !f.is_file() {
            bail!("--env-file {}: no such file. Start from the package's .env.example and fill it in (helpers/generate-secrets.sh makes the secrets)", f.display());
        }
    }
    let out_root = proj.out_root(args.out.as_deref());
    if !out_root.join(fsx::OUT_MARKER).is_file() {
        bail!(
            "{} holds no releases (no {} marker): build one with `cargo xtask dist` (or pass --out DIR)",
            out_root.display(),
            fsx::OUT_MARKER
        );
    }
    fsx::check_out_root(&proj.root, &out_root)?;
    let version = match &args.version {
        Some(v) => v.clone(),
        None => newest_release(
            &dir_names(&out_root)
                .into_iter()
                .filter(|n| out_root.join(n).join(RELEASE_MANIFEST).is_file())
                .collect::<Vec<_>>(),
        )
        .with_context(|| {
            format!(
                "no release in {}: build one with `cargo xtask dist`",
                out_root.display()
            )
        })?,
    };
    let release = out_root.join(&version);
    // Held from verification to extraction, so a concurrent `dist` cannot swap the archive
    // between the check and its use.
    let lock = fsx::Lock::acquire(&out_root)?;
    let (manifest, archive) = checked_release(&release)?;
    let (compose, _) = Compose::detect(sh)?;
    docker_reachable(sh)?;
    eprintln!(
        "deploying {} {version} with {} ({})",
        manifest.app,
        compose.name(),
        archive.display()
    );

    let top = dist::top_folder(&manifest.app, &version, Target::Docker);
    let deploy_root = out_root.join(DEPLOY_DIR);
    let dir = deploy_root.join(&top);
    install_package(sh, &out_root, &archive, &top, args.env_file.as_deref())?;
    drop(lock);

    let mut extra = Vec::new();
    for f in &args.compose_file {
        let path = if f.exists() || f.is_absolute() {
            fsx::absolute(f)?
        } else {
            dir.join(f)
        };
        if !path.is_file() {
            bail!(
                "--compose-file {}: no such file (neither as given nor in {})",
                f.display(),
                dir.display()
            );
        }
        extra.push(path);
    }
    let stack = Stack {
        compose,
        project: project_name(&manifest.app, &version),
        dir: dir.clone(),
        extra,
    };
    let base_image = args.base_image.as_deref();
    let timeout = Duration::from_secs(args.timeout);
    let started = stack.up(base_image, args.queue).run(sh).with_context(|| {
        format!(
            "starting {} failed (compose output above); fix the cause and deploy again, or stop it: cargo xtask deploy docker --down --version {version}",
            dir.display()
        )
    });
    // Compose starts nothing else when the migration fails: say so with its output
    // rather than only compose's "exited with code 1". Without a migrate container
    // (e.g. the build failed) compose's own error is the one to show.
    let migrated = wait_migrate(sh, &stack, timeout, &version)?;
    started?;
    if !migrated {
        bail!(
            "compose started no {MIGRATE_SERVICE} container in project {}: see `{}`",
            stack.project,
            service_containers_cmd(&stack.project, MIGRATE_SERVICE).line()
        );
    }
    eprintln!("{MIGRATE_SERVICE} finished: the database is migrated");
    let app_ids = container_ids(sh, &stack, APP_SERVICE)?;
    wait_for(sh, APP_SERVICE, &app_ids, true, timeout, &version)?;
    eprintln!("{APP_SERVICE} is healthy");
    let mut daemons = vec![SCHEDULER_SERVICE];
    if args.queue {
        daemons.push(QUEUE_SERVICE);
    }
    for service in daemons {
        let ids = container_ids(sh, &stack, service)?;
        wait_for(sh, service, &ids, false, timeout, &version)?;
        // A process that dies right after starting shows up as restarted: look again.
        thread::sleep(Duration::from_secs(2));
        wait_for(sh, service, &ids, false, timeout, &version)?;
        eprintln!("{service} is running");
    }
    let mut urls = Vec::new();
    for id in &app_ids {
        urls.extend(listen_urls(
            &Cmd::new("docker").args(["port", id]).read(sh)?,
        ));
    }
    eprintln!(
        "{} {version} deployed (compose project {}, folder {})",
        manifest.app,
        stack.project,
        dir.display()
    );
    if urls.is_empty() {
        eprintln!("no host port is published (see APP_BIND_IP/APP_PORT in .env)");
    }
    for u in urls {
        println!("listening on {u} (health: {u}home/healthcheck)");
    }
    eprintln!("stop it with: cargo xtask deploy docker --down --version {version}");
    Ok(())
}

/// Reads the release manifest and proves the docker archive is the published one: its
/// hash against the release `SHA256SUMS` and the manifest, and every file inside it
/// against the archive's own `SHA256SUMS` (verify.rs).
fn checked_release(release: &Path) -> Result<(DistManifest, PathBuf)> {
    let mpath = release.join(RELEASE_MANIFEST);
    let manifest: DistManifest = manifest::read(&mpath).with_context(|| {
        format!(
            "is {} a release folder made by cargo xtask dist?",
            release.display()
        )
    })?;
    let entry = manifest
        .targets
        .iter()
        .find(|t| t.target == Target::Docker)
        .with_context(|| {
            format!(
                "{} has no docker archive: build it with cargo xtask dist --target docker",
                release.display()
            )
        })?
        .clone();
    let archive = release.join(&entry.archive);
    let sums_path = release.join(RELEASE_SUMS);
    let sums = hash::parse_sums(
        &fs::read_to_string(&sums_path)
            .with_context(|| format!("cannot read {}", sums_path.display()))?,
    )
    .with_context(|| format!("malformed {}", sums_path.display()))?;
    let listed = sums
        .iter()
        .find(|(n, _)| *n == entry.archive)
        .map(|(_, h)| h.clone())
        .with_context(|| format!("{} does not list {}", sums_path.display(), entry.archive))?;
    let (actual, size) = hash::sha256_file(&archive)?;
    let mut report = verify::Report::default();
    if actual != listed || actual != entry.sha256 || size != entry.size {
        report.problems.push(format!(
            "MODIFIED {} (sha256 {actual}; {RELEASE_SUMS} says {listed}, {RELEASE_MANIFEST} {})",
            entry.archive, entry.sha256
        ));
    }
    verify::verify_archive(&archive, &mut report)?;
    if !report.problems.is_empty() {
        bail!(
            "refusing to deploy {}: it does not match its checksums:\n  {}\nRebuild the release (cargo xtask dist) or download it again",
            archive.display(),
            report.problems.join("\n  ")
        );
    }
    eprintln!("verified {} ({} files)", archive.display(), report.checked);
    Ok((manifest, archive))
}

/// Extracts the archive, validates the env file with the package's own validator and
/// installs it as `.env` (0600), then swaps the folder into `<out>/.deploy/<top>/`. Until
/// the swap nothing in the deploy folder changes, so a refused env file leaves the
/// current deployment as it was.
fn install_package(
    sh: &Shell,
    out_root: &Path,
    archive: &Path,
    top: &str,
    env_file: Option<&Path>,
) -> Result<()> {
    // The caller holds the output root's lock.
    let deploy_root = out_root.join(DEPLOY_DIR);
    fs::create_dir_all(&deploy_root)
        .with_context(|| format!("cannot create {}", deploy_root.display()))?;
    fsx::clean_stale(&deploy_root)?;
    let dir = deploy_root.join(top);
    let env_src = match env_file {
        Some(f) => f.to_path_buf(),
        None if dir.join(".env").is_file() => dir.join(".env"),
        None => bail!(
            "no environment file: pass --env-file FILE (start from .env.example of the package; helpers/generate-secrets.sh makes the secrets); {} has no .env from an earlier deploy",
            dir.display()
        ),
    };
    let env_bytes =
        fs::read(&env_src).with_context(|| format!("cannot read {}", env_src.display()))?;
    let staging = fsx::staging_path(&deploy_root, top);
    let result = (|| -> Result<()> {
        extract(archive, &staging, top)?;
        let pkg = staging.join(top);
        validate_env(sh, &pkg, &env_src)?;
        fsx::write_atomic(&pkg.join(".env"), &env_bytes, 0o600)?;
        fsx::replace_dir(&pkg, &dir)
    })();
    let _ = fs::remove_dir_all(&staging);
    result
}

/// Unpacks the `.tar.zst` into `dest` (new); its only top-level entry must be `top`.
fn extract(archive: &Path, dest: &Path, top: &str) -> Result<()> {
    fs::create_dir(dest).with_context(|| format!("cannot create {}", dest.display()))?;
    let file =
        fs::File::open(archive).with_context(|| format!("cannot open {}", archive.display()))?;
    let decoder = zstd::stream::read::Decoder::new(std::io::BufReader::new(file))
        .with_context(|| format!("{} is not a zstd stream", archive.display()))?;
    tar::Archive::new(decoder)
        .unpack(dest)
        .with_context(|| format!("cannot extract {} (disk full?)", archive.display()))?;
    let names = dir_names(dest);
    if names != [top] {
        bail!(
            "{} should hold the single folder {top}/, it holds {names:?}",
            archive.display()
        );
    }
    Ok(())
}

/// Runs `<pkg>/helpers/validate-env.sh --env-file <file>`: errors refuse the deployment
/// and show the validator's output; warnings are shown and accepted.
fn validate_env(sh: &Shell, pkg: &Path, env_file: &Path) -> Result<()> {
    let env_file = fsx::absolute(env_file)?;
    let cmd = Cmd::new(pkg.join(VALIDATOR).to_string_lossy())
        .arg("--env-file")
        .arg(env_file.to_string_lossy());
    let out = cmd.output(sh)?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    if !out.status.success() {
        bail!(
            "refusing to deploy: {} failed the package's {VALIDATOR}:\n{}\nFix the ERROR lines in {} and deploy again",
            env_file.display(),
            text.trim_end(),
            env_file.display()
        );
    }
    for line in text.lines() {
        eprintln!("  {line}");
    }
    Ok(())
}

fn docker_reachable(sh: &Shell) -> Result<()> {
    crate::build::plan::docker_info()
        .read(sh)
        .context("the Docker daemon is not reachable: start it (systemctl start docker), or set DOCKER_HOST, or add this user to the docker group")?;
    Ok(())
}

fn container_ids(sh: &Shell, stack: &Stack, service: &str) -> Result<Vec<String>> {
    let ids: Vec<String> = stack
        .ps(service)
        .read(sh)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if ids.is_empty() {
        bail!(
            "compose started no {service} container in project {}: see `{}`",
            stack.project,
            stack.ps(service).line()
        );
    }
    Ok(ids)
}

/// Waits until the migrate container exited 0 (`true`); its failure fails the deployment
/// with its output. `false`: there is no migrate container.
fn wait_migrate(sh: &Shell, stack: &Stack, timeout: Duration, version: &str) -> Result<bool> {
    let ids: Vec<String> = service_containers_cmd(&stack.project, MIGRATE_SERVICE)
        .read(sh)?
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if ids.is_empty() {
        return Ok(false);
    }
    let [id] = &ids[..] else {
        bail!(
            "expected one {MIGRATE_SERVICE} container in project {}, found {}: see the compose output above (`{}`)",
            stack.project,
            ids.len(),
            service_containers_cmd(&stack.project, MIGRATE_SERVICE).line()
        );
    };
    let deadline = Instant::now() + timeout;
    loop {
        let state = parse_state(&inspect_cmd(id).read(sh)?)?;
        match judge_one_shot(&state) {
            Verdict::Ready => return Ok(true),
            Verdict::Fail(why) => bail!(
                "the database migration failed: {MIGRATE_SERVICE} container {} {why}, so nothing else was started. Its output:\n{}\nFix the cause (database reachable? DB_* in .env), then deploy again; rerun only the migration with `docker compose run --rm {MIGRATE_SERVICE}` in {}",
                &id[..id.len().min(12)],
                logs(sh, id).trim_end(),
                stack.dir.display()
            ),
            Verdict::Wait(_) if Instant::now() >= deadline => bail!(
                "{MIGRATE_SERVICE} has not finished after {} s. Its output so far:\n{}\nRaise --timeout if the migration is just slow; stop it with: cargo xtask deploy docker --down --version {version}",
                timeout.as_secs(),
                logs(sh, id).trim_end()
            ),
            Verdict::Wait(_) => thread::sleep(Duration::from_secs(1)),
        }
    }
}

fn logs(sh: &Shell, id: &str) -> String {
    match Cmd::new("docker")
        .args(["logs", "--tail", "50", id])
        .output(sh)
    {
        Ok(o) => format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => format!("(cannot read its logs: {e:#})"),
    }
}

/// Polls `docker inspect` until every container is ready ([`judge`]); fails at once on a
/// failed container and after `timeout` otherwise, with the container's last logs.
fn wait_for(
    sh: &Shell,
    service: &str,
    ids: &[String],
    need_health: bool,
    timeout: Duration,
    version: &str,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let mut last = String::new();
    loop {
        let mut waiting: Option<(String, String)> = None;
        for id in ids {
            let state = parse_state(&inspect_cmd(id).read(sh)?)?;
            let short = &id[..id.len().min(12)];
            match judge(&state, need_health) {
                Verdict::Ready => {}
                Verdict::Wait(why) => waiting = Some((id.clone(), why)),
                Verdict::Fail(why) => bail!(
                    "{service} container {short} {why}. Its last log lines:\n{}\nFix the cause (often .env), then deploy again; stop it with: cargo xtask deploy docker --down --version {version}",
                    logs(sh, id).trim_end()
                ),
            }
        }
        let Some((id, why)) = waiting else {
            return Ok(());
        };
        if why != last {
            eprintln!("{service}: {why}");
            last = why;
        }
        if Instant::now() >= deadline {
            bail!(
                "{service} container {} is not ready after {} s ({last}). Its last log lines:\n{}\nRaise --timeout if it is just slow; stop it with: cargo xtask deploy docker --down --version {version}",
                &id[..id.len().min(12)],
                timeout.as_secs(),
                logs(sh, &id).trim_end()
            );
        }
        thread::sleep(Duration::from_secs(1));
    }
}

fn down(proj: &Project, args: &DeployArgs) -> Result<()> {
    let sh = &proj.sh;
    let app = &proj.cfg.release.app_name;
    let out_root = proj.out_root(args.out.as_deref());
    let deploy_root = out_root.join(DEPLOY_DIR);
    let version = match &args.version {
        Some(v) => v.clone(),
        None => newest_deployed(&dir_names(&deploy_root), app).with_context(|| {
            format!(
                "nothing deployed under {}: nothing to stop",
                deploy_root.display()
            )
        })?,
    };
    let dir = deploy_root.join(dist::top_folder(app, &version, Target::Docker));
    if !dir.join(COMPOSE_FILE).is_file() {
        bail!(
            "{} {version} is not deployed here ({} has no {COMPOSE_FILE}); deployed: {:?}",
            app,
            dir.display(),
            dir_names(&deploy_root)
        );
    }
    let (compose, _) = Compose::detect(sh)?;
    docker_reachable(sh)?;
    // Containers of services only an extra compose file defined are the project's
    // orphans here, and --remove-orphans removes them too.
    let stack = Stack {
        compose,
        project: project_name(app, &version),
        dir: dir.clone(),
        extra: Vec::new(),
    };
    stack
        .down(args.volumes)
        .run(sh)
        .with_context(|| format!("stopping {} failed (compose output above)", stack.project))?;
    eprintln!(
        "{app} {version} stopped: containers and network removed{}; {} (with its .env) is kept for the next deploy",
        if args.volumes { ", volumes too" } else { ", volumes kept" },
        dir.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn newest_version_wins() {
        assert_eq!(
            newest_release(&names(&[
                "v1.9.0",
                "v1.10.0",
                "v1.10.0-rc.1",
                ".cache",
                ".deploy",
                "notes"
            ])),
            Some("v1.10.0".into())
        );
        assert_eq!(
            newest_release(&names(&["v2.0.0-rc.1", "v1.10.0"])),
            Some("v2.0.0-rc.1".into())
        );
        assert_eq!(newest_release(&names(&[".cache", "x"])), None);
        assert_eq!(
            newest_deployed(
                &names(&[
                    "orangescrum-v26.1.1-docker",
                    "orangescrum-v26.2.0-docker",
                    "other-v30.0.0-docker",
                    "orangescrum-v27.0.0-native",
                    ".tmp-orangescrum-v28.0.0-docker-1",
                ]),
                "orangescrum"
            ),
            Some("v26.2.0".into())
        );
        assert_eq!(newest_deployed(&[], "orangescrum"), None);
    }

    #[test]
    fn project_names_are_valid_for_both_compose_flavours() {
        assert_eq!(
            project_name("orangescrum", "v26.1.1"),
            "orangescrum-v26-1-1"
        );
        assert_eq!(
            project_name("OrangeScrum", "v1.0.0-rc.1"),
            "orangescrum-v1-0-0-rc-1"
        );
        assert_eq!(project_name("_x", "v1.0.0"), "x-v1-0-0");
    }

    fn stack(c: Compose) -> Stack {
        Stack {
            compose: c,
            project: "orangescrum-v26-1-1".into(),
            dir: "/srv/dist/.deploy/orangescrum-v26.1.1-docker".into(),
            extra: Vec::new(),
        }
    }

    #[test]
    fn exact_compose_command_lines() {
        let f = "-f /srv/dist/.deploy/orangescrum-v26.1.1-docker/docker-compose.yaml";
        let s = stack(Compose::Standalone);
        assert_eq!(
            s.up(None, false).line(),
            format!("docker-compose -p orangescrum-v26-1-1 {f} up -d --build")
        );
        assert_eq!(
            s.up(Some("registry.local/alpine:3.20.3"), false).line(),
            format!("BASE_IMAGE=registry.local/alpine:3.20.3 docker-compose -p orangescrum-v26-1-1 {f} up -d --build")
        );
        assert_eq!(
            stack(Compose::Plugin).up(None, true).line(),
            format!("docker compose -p orangescrum-v26-1-1 {f} --profile queue up -d --build")
        );
        let mut layered = stack(Compose::Standalone);
        layered.extra.push("/srv/site/override.yml".into());
        assert_eq!(
            layered.up(None, false).line(),
            format!(
                "docker-compose -p orangescrum-v26-1-1 {f} -f /srv/site/override.yml up -d --build"
            )
        );
        assert_eq!(
            service_containers_cmd("orangescrum-v26-1-1", MIGRATE_SERVICE).line(),
            "docker ps -a -q --filter label=com.docker.compose.project=orangescrum-v26-1-1 --filter label=com.docker.compose.service=migrate --filter label=com.docker.compose.oneoff=False"
        );
        assert_eq!(
            s.ps(APP_SERVICE).line(),
            format!("docker-compose -p orangescrum-v26-1-1 {f} ps -q orangescrum-app")
        );
        assert_eq!(
            s.down(false).line(),
            format!(
                "docker-compose -p orangescrum-v26-1-1 {f} --profile queue down --remove-orphans"
            )
        );
        assert_eq!(
            stack(Compose::Plugin).down(true).line(),
            format!("docker compose -p orangescrum-v26-1-1 {f} --profile queue down --remove-orphans --volumes")
        );
        assert_eq!(
            inspect_cmd("abc").line(),
            "docker inspect --format '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.State.ExitCode}} {{.RestartCount}}' abc"
        );
    }

    #[test]
    fn health_parsing_and_decisions() {
        let st = |t: &str| parse_state(t).unwrap();
        assert_eq!(
            st("running healthy 0 0"),
            State {
                status: "running".into(),
                health: Some("healthy".into()),
                exit_code: 0,
                restarts: 0
            }
        );
        assert_eq!(st("running none 0 0\n").health, None);
        assert!(parse_state("running").is_err());
        assert!(parse_state("running healthy x 0").is_err());

        assert_eq!(judge(&st("running healthy 0 0"), true), Verdict::Ready);
        assert!(matches!(
            judge(&st("running starting 0 0"), true),
            Verdict::Wait(_)
        ));
        assert!(matches!(
            judge(&st("created none 0 0"), true),
            Verdict::Wait(_)
        ));
        let fail = |t: &str, need: bool| match judge(&st(t), need) {
            Verdict::Fail(w) => w,
            v => panic!("{t}: {v:?}"),
        };
        assert!(fail("running unhealthy 0 0", true).contains("unhealthy"));
        assert!(fail("exited none 1 0", true).contains("exit code 1"));
        assert!(fail("running starting 1 2", true).contains("restarted 2 time(s)"));
        assert!(fail("restarting none 1 0", false).contains("restarting"));
        // The worker's normal cycle: exit 0 after its max runtime, started again.
        assert_eq!(judge(&st("running none 0 3"), false), Verdict::Ready);
        assert!(matches!(
            judge(&st("restarting none 0 1"), false),
            Verdict::Wait(_)
        ));
        assert!(fail("running none 0 0", true).contains("no health check"));
        assert_eq!(judge(&st("running none 0 0"), false), Verdict::Ready);
        assert!(fail("paused none 0 0", false).contains("paused"));

        let one_shot = |t: &str| judge_one_shot(&st(t));
        assert_eq!(one_shot("exited none 0 0"), Verdict::Ready);
        assert!(matches!(one_shot("running none 0 0"), Verdict::Wait(_)));
        assert!(matches!(one_shot("created none 0 0"), Verdict::Wait(_)));
        assert_eq!(
            one_shot("exited none 1 0"),
            Verdict::Fail("exited with code 1".into())
        );
        assert!(matches!(one_shot("dead none 137 0"), Verdict::Fail(_)));
        assert!(matches!(one_shot("paused none 0 0"), Verdict::Fail(_)));
    }

    #[test]
    fn published_ports() {
        assert_eq!(
            listen_urls("8080/tcp -> 127.0.0.1:18080\n"),
            ["http://127.0.0.1:18080/"]
        );
        assert_eq!(
            listen_urls("8080/tcp -> 0.0.0.0:8080\n8080/tcp -> [::]:8080\n53/udp -> 0.0.0.0:53\n"),
            ["http://0.0.0.0:8080/", "http://[::]:8080/"]
        );
        assert!(listen_urls("").is_empty());
    }
}
