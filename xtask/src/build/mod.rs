//! `cargo xtask build`: builds the FrankenPHP static binary (PHP + Caddy + the embedded
//! OrangeScrum app) through Docker and writes it to `binary.built_path`.
//!
//! 1. pre-flight: Docker reachable, app source (`composer.json`, `webroot/index.php`),
//!    builder files, Go toolchain for the FrankenPHP version (`--check` stops here);
//! 2. the app source into `packaging/builder/package/` ([`source`]) with the overlay, the
//!    config files, the Caddyfile and php.ini; the required app files checked again;
//! 3. the builder base image (FrankenPHP static builder), reused when present;
//! 4. embed + build (`composer install`, then `vendor/autoload.php` required), binary
//!    copied out with `docker create` + `docker cp`;
//! 5. binary checked and installed atomically ([`binary`]);
//! 6. embed image and package folder removed.
//!
//! Both images are built with `docker build`; `GITHUB_TOKEN`, when set, reaches them as a
//! BuildKit secret ([`plan::image_build`]).
//!
//! Steps 2-6 are a [`plan::plan`] (pure); `--dry-run` prints it, a real run executes it.

pub mod binary;
pub mod docker;
pub mod plan;
pub mod source;

use std::{
    cell::RefCell,
    fs,
    path::{Path, PathBuf},
};

use anyhow::{bail, Context, Result};

use crate::{fsx, hash, project::Project};

use plan::{AppSource, Flags, Layout, PlanInput, Step};

#[derive(clap::Args)]
pub struct BuildArgs {
    /// Only run the pre-flight checks: exit 0 when everything is in place, 1 otherwise.
    #[arg(long, conflicts_with = "dry_run")]
    pub check: bool,
    /// Print every command the build would run, one per line (shell-quoted), and run none.
    #[arg(long)]
    pub dry_run: bool,
    /// Never build the builder base image; fail when it is missing.
    #[arg(long, conflicts_with = "rebuild_base")]
    pub skip_base: bool,
    /// Rebuild the builder base image from scratch (--no-cache) even when present.
    #[arg(long)]
    pub rebuild_base: bool,
    /// Do not archive the app source: embed packaging/builder/package/ as left by an
    /// earlier --keep-package build.
    #[arg(long)]
    pub skip_archive: bool,
    /// Keep packaging/builder/package/ (the app as embedded) after the build.
    #[arg(long)]
    pub keep_package: bool,
    /// Remove builder leftovers (package folder, our temporary containers) and exit.
    #[arg(long, conflicts_with_all = ["check", "skip_base", "rebuild_base", "skip_archive", "keep_package"])]
    pub clean: bool,
    /// The OrangeScrum V4 source tree (default: app.source of packaging/release.toml,
    /// relative to the repository root).
    #[arg(long, value_name = "DIR")]
    pub app_source: Option<PathBuf>,
    #[command(flatten)]
    pub sets: crate::SetArgs,
}

impl BuildArgs {
    fn flags(&self) -> Flags {
        Flags {
            skip_base: self.skip_base,
            rebuild_base: self.rebuild_base,
            skip_archive: self.skip_archive,
            keep_package: self.keep_package,
        }
    }
}

pub fn run(proj: &Project, args: &BuildArgs) -> Result<()> {
    let cfg = &proj.cfg;
    let layout = Layout::new(&proj.root, cfg);
    let app = app_source(proj, args)?;
    if args.dry_run {
        return dry_run(proj, args, layout, app);
    }
    let facts = preflight(proj, &layout, &app, args)?;
    if args.check {
        eprintln!("pre-flight passed: `cargo xtask build` can run");
        return Ok(());
    }
    let input = PlanInput {
        base_dockerfile_sha256: dockerfile_sha256(&layout)?,
        buildkit: uses_buildkit(&layout),
        github_token: github_token_set(),
        layout,
        flags: args.flags(),
        app,
        arch: facts.arch,
        run_id: std::process::id(),
    };
    let steps = if args.clean {
        plan::clean_plan(cfg, &input)
    } else {
        plan::plan(cfg, &input)
    };
    Exec::new(proj).steps(&steps)?;
    if args.clean {
        eprintln!("builder leftovers removed");
    } else {
        let size = fs::metadata(&input.layout.built)
            .map(|m| m.len())
            .unwrap_or(0);
        eprintln!(
            "built {} ({size} bytes, {}, statically linked): package it with cargo xtask dist",
            input.layout.built.display(),
            input.arch
        );
    }
    Ok(())
}

/// The app source folder: `--app-source` (relative to the current folder) or `app.source`
/// (relative to the repository root).
fn app_source(proj: &Project, args: &BuildArgs) -> Result<AppSource> {
    let path = match &args.app_source {
        Some(p) => fsx::absolute(p)?,
        None => fsx::absolute(&proj.root.join(&proj.cfg.app.source))?,
    };
    Ok(AppSource {
        git: is_git_checkout(&path),
        path,
    })
}

/// The top of a git work tree (a `.git` folder, or a `.git` file for worktrees and
/// submodules). A folder inside some other repository is copied, not archived.
pub fn is_git_checkout(path: &Path) -> bool {
    path.join(".git").exists()
}

/// `GITHUB_TOKEN` is set and not empty (its value is never read here: BuildKit reads it).
fn github_token_set() -> bool {
    std::env::var_os(plan::TOKEN_VAR).is_some_and(|v| !v.is_empty())
}

/// Either builder Dockerfile uses BuildKit syntax ([`plan::needs_buildkit`]).
fn uses_buildkit(layout: &Layout) -> bool {
    ["base.Dockerfile", "embed.Dockerfile"]
        .iter()
        .any(|f| fs::read_to_string(layout.builder.join(f)).is_ok_and(|t| plan::needs_buildkit(&t)))
}

fn dockerfile_sha256(layout: &Layout) -> Result<String> {
    let p = layout.builder.join("base.Dockerfile");
    Ok(hash::sha256_file(&p)
        .with_context(|| {
            format!(
                "the builder file {} is missing: restore it (git checkout -- {}/base.Dockerfile)",
                p.display(),
                plan::BUILDER_DIR
            )
        })?
        .0)
}

fn dry_run(proj: &Project, args: &BuildArgs, layout: Layout, app: AppSource) -> Result<()> {
    let cfg = &proj.cfg;
    let input = PlanInput {
        base_dockerfile_sha256: dockerfile_sha256(&layout)?,
        buildkit: uses_buildkit(&layout),
        github_token: github_token_set(),
        layout,
        flags: args.flags(),
        arch: docker::normalize_arch(std::env::consts::ARCH),
        app,
        run_id: std::process::id(),
    };
    let mut lines = vec![
        "# cargo xtask build --dry-run: every command a build runs, in order; nothing was run."
            .to_string(),
        format!(
            "# the binary must match the Docker daemon's architecture ({} assumed here)",
            input.arch
        ),
    ];
    if !args.clean {
        lines.extend(
            dry_run_warnings(cfg, &input)
                .into_iter()
                .map(|w| format!("# warning: {w}: the real run stops at the pre-flight (see cargo xtask build --check)")),
        );
    }
    if !args.clean {
        lines.extend(plan::render(&plan::preflight_steps(cfg, &input)));
    }
    let steps = if args.clean {
        plan::clean_plan(cfg, &input)
    } else {
        plan::plan(cfg, &input)
    };
    lines.extend(plan::render(&steps));
    let mut text = lines.join("\n");
    text.push('\n');
    use std::io::Write;
    std::io::stdout()
        .write_all(text.as_bytes())
        .context("writing to stdout")
}

/// What the dry run can tell without Docker: the pre-flight problems found in files.
fn dry_run_warnings(cfg: &crate::config::Config, input: &PlanInput) -> Vec<String> {
    let mut out = Vec::new();
    if !input.flags.skip_archive {
        if !input.app.path.is_dir() {
            out.push(format!(
                "the app source {} does not exist",
                input.app.path.display()
            ));
        } else {
            for f in source::missing_files(&input.app.path, &plan::APP_REQUIRED) {
                out.push(format!(
                    "the app source {} has no {f}",
                    input.app.path.display()
                ));
            }
        }
    }
    out.extend(plan::go_version_problem(cfg));
    out
}

/// What the pre-flight found out.
struct Facts {
    arch: String,
}

/// Step 1: checks everything the build needs and prints a report. Every problem is listed
/// (not only the first), each with its fix.
fn preflight(proj: &Project, layout: &Layout, app: &AppSource, args: &BuildArgs) -> Result<Facts> {
    let cfg = &proj.cfg;
    let sh = &proj.sh;
    let mut problems: Vec<String> = Vec::new();
    let ok = |what: String| eprintln!("  ok       {what}");
    eprintln!(
        "pre-flight: release {} (FrankenPHP {}, PHP {}, {} extensions), pipeline revision {}",
        cfg.release.version,
        cfg.frankenphp.version,
        cfg.frankenphp.php_version,
        cfg.frankenphp.extensions.len(),
        proj.git_revision()
    );

    let mut arch = String::new();
    let info = plan::docker_info();
    match info.output(sh) {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            let mut words = text.split_whitespace();
            let version = words.next().unwrap_or("?").to_string();
            arch = docker::normalize_arch(words.next().unwrap_or(""));
            ok(format!("Docker daemon {version} reachable ({arch})"));
        }
        Ok(out) => problems.push(format!(
            "the Docker daemon is not reachable (`{}`: {}). Fix: start it (systemctl start docker), or set DOCKER_HOST, or add this user to the docker group",
            info.line(),
            first_line(&out.stderr)
        )),
        Err(_) => problems.push(
            "the docker CLI is not installed (no `docker` on PATH). Fix: install Docker Engine (https://docs.docker.com/engine/install/)".into(),
        ),
    }
    if !args.clean && (uses_buildkit(layout) || github_token_set()) {
        // Docker 20.10's CLI has BuildKit built in; newer CLIs need the buildx plugin.
        if plan::buildx_version().succeeds(sh) {
            ok("BuildKit (docker buildx) for RUN --mount and build secrets".into());
        } else {
            eprintln!(
                "  note     `docker buildx version` failed: the builds need BuildKit (DOCKER_BUILDKIT=1). Docker CLI 20.10 has it built in; newer CLIs need the buildx plugin (apt-get install docker-buildx-plugin)"
            );
        }
    }

    if !args.clean {
        if args.skip_archive {
            let has_files = fs::read_dir(&layout.package).is_ok_and(|mut d| d.next().is_some());
            if has_files {
                ok(format!(
                    "package folder {} (--skip-archive)",
                    layout.package.display()
                ));
                for f in source::missing_files(&layout.package, &plan::APP_REQUIRED) {
                    problems.push(format!(
                        "--skip-archive: the package folder {} has no {f}. Fix: drop --skip-archive to archive the app again",
                        layout.package.display()
                    ));
                }
            } else {
                problems.push(format!(
                    "--skip-archive: the package folder {} is missing or empty. Fix: run one build with --keep-package first, or drop --skip-archive",
                    layout.package.display()
                ));
            }
        } else if !app.path.is_dir() {
            problems.push(format!(
                "the app source {} does not exist (app.source = {:?} in {}, relative to {}). Fix: check out OrangeScrum V4 there, or pass --app-source DIR, or set --set app.source=PATH",
                app.path.display(),
                cfg.app.source,
                crate::config::CONFIG_FILE,
                proj.root.display()
            ));
        } else {
            let kind = if app.git {
                let rev = match plan::git_revision(&app.path).read(sh) {
                    Ok(rev) => rev,
                    Err(e) => {
                        problems.push(format!(
                            "the app source {} is a git checkout without a readable HEAD commit ({e:#}): git archive HEAD has nothing to archive. Fix: commit the app, or remove its .git to copy the folder",
                            app.path.display()
                        ));
                        "no commit".into()
                    }
                };
                let dirty = plan::git_status(&app.path)
                    .read(sh)
                    .is_ok_and(|s| !s.is_empty());
                format!(
                    "git checkout at {rev}{}",
                    if dirty {
                        "; note: uncommitted changes are NOT included (git archive HEAD)"
                    } else {
                        ""
                    }
                )
            } else {
                "not a git checkout: copied without .git, .env*, vendor/, ...".into()
            };
            let missing = source::missing_files(&app.path, &plan::APP_REQUIRED);
            for f in &missing {
                let why = if *f == "composer.json" {
                    "the build runs composer install, and the app needs its vendor/ (CakePHP)"
                } else {
                    "the server serves webroot/, and CakePHP's front controller is webroot/index.php"
                };
                problems.push(format!(
                    "the app source {} has no {f}: {why}. Fix: point --app-source (or app.source) at the OrangeScrum V4 source tree{}",
                    app.path.display(),
                    if app.git { " and commit the file (git archive HEAD embeds committed files only)" } else { "" }
                ));
            }
            if missing.is_empty() {
                ok(format!("app source {} ({kind})", app.path.display()));
            }
        }
    }

    let missing: Vec<&str> = plan::REQUIRED_SOURCES
        .iter()
        .copied()
        .filter(|f| !proj.root.join(f).is_file())
        .collect();
    if missing.is_empty() {
        ok(format!(
            "builder files: {}",
            plan::REQUIRED_SOURCES.join(", ")
        ));
    } else if !args.clean {
        problems.push(format!(
            "builder files missing in {}: {}. Fix: restore them (git checkout -- {})",
            proj.root.display(),
            missing.join(", "),
            missing.join(" ")
        ));
    }

    if !args.clean {
        match plan::go_version_problem(cfg) {
            Some(p) => problems.push(p),
            None if plan::GO_REQUIRED.iter().any(|(v, _)| *v == cfg.frankenphp.version) => ok(format!(
                "Go {} satisfies FrankenPHP {}'s go.mod",
                cfg.frankenphp.go_version, cfg.frankenphp.version
            )),
            None => eprintln!(
                "  note     FrankenPHP {} is not in the Go table of xtask/src/build/plan.rs (GO_REQUIRED): check that Go {} satisfies the `go` line of its go.mod and caddy/go.mod, and add the pair",
                cfg.frankenphp.version, cfg.frankenphp.go_version
            ),
        }
        eprintln!("  note     {}", plan_token_note());
    }

    if !problems.is_empty() {
        for p in &problems {
            eprintln!("  MISSING  {p}");
        }
        bail!(
            "pre-flight failed: {} problem(s), listed above as MISSING with their fixes",
            problems.len()
        );
    }
    Ok(Facts { arch })
}

fn plan_token_note() -> String {
    if github_token_set() {
        format!(
            "{} is set: passed to the image builds as a BuildKit secret",
            plan::TOKEN_VAR
        )
    } else {
        format!(
            "{} is not set: GitHub downloads are anonymous (rate-limited)",
            plan::TOKEN_VAR
        )
    }
}

fn first_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no output")
        .trim()
        .to_string()
}

/// Runs plan steps. Locks taken by [`Step::LockDir`] are held until the run ends.
struct Exec<'a> {
    proj: &'a Project,
    locks: RefCell<Vec<fsx::Lock>>,
}

impl<'a> Exec<'a> {
    fn new(proj: &'a Project) -> Exec<'a> {
        Exec {
            proj,
            locks: RefCell::new(Vec::new()),
        }
    }

    fn steps(&self, steps: &[Step]) -> Result<()> {
        steps.iter().try_for_each(|s| self.step(s))
    }

    fn step(&self, step: &Step) -> Result<()> {
        let sh = &self.proj.sh;
        let cfg = &self.proj.cfg;
        match step {
            Step::Comment(c) => eprintln!("== {c}"),
            Step::Run(cmd) => cmd.run(sh).context(
                "a build step failed (its output is above); fix the cause and run again (cargo xtask build --clean removes leftovers)",
            )?,
            Step::EnsureImage {
                image,
                inspect,
                build,
            } => {
                eprintln!("$ {}", inspect.line());
                if inspect.succeeds(sh) {
                    eprintln!("reusing the builder base image {image} (--rebuild-base rebuilds it)");
                } else if let Some(build) = build {
                    eprintln!("the builder base image {image} is missing: building it (this takes a while)");
                    build.run(sh).context(
                        "building the FrankenPHP builder base image failed (see its output above); fix packaging/builder/base.Dockerfile or the [frankenphp] settings, then run again",
                    )?;
                } else {
                    bail!("the builder base image {image} is missing and --skip-base was given: run without --skip-base to build it");
                }
            }
            Step::Scope { body, always } => {
                let guard = Always {
                    exec: self,
                    steps: always,
                    armed: true,
                };
                let result = self.steps(body);
                let cleanup = guard.finish(result.is_err());
                result?;
                cleanup?;
            }
            Step::ResetDir(p) => {
                fsx::remove_path(p)?;
                fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))?;
            }
            Step::GitArchive { cmd, dest } => {
                eprintln!("$ {}  (extracting into {})", cmd.line(), dest.display());
                let reader = duct::cmd(&cmd.program, &cmd.args)
                    .reader()
                    .with_context(|| format!("cannot run `{}`", cmd.line()))?;
                let n = source::extract_filtered(reader, dest).with_context(|| {
                    format!(
                        "`{}` failed: is the app source a git checkout with a commit? (git's message is above)",
                        cmd.line()
                    )
                })?;
                eprintln!("app: {} files extracted, {} excluded", n.kept, n.excluded);
            }
            Step::CopyFiltered { src, dest } => {
                let n = source::copy_filtered(src, dest)
                    .with_context(|| format!("copying the app source {}", src.display()))?;
                eprintln!("app: {} files copied, {} excluded", n.kept, n.excluded);
            }
            Step::Render(files) => {
                for (from, to) in files {
                    source::render_file(cfg, from, to)?;
                }
            }
            Step::Overlay { from, to } => {
                let copied = source::copy_overlay(from, to)
                    .with_context(|| format!("adding {} to the app", from.display()))?;
                eprintln!(
                    "overlay: {}",
                    if copied.is_empty() {
                        format!("{} is absent or empty: nothing added", from.display())
                    } else {
                        copied.join(", ")
                    }
                );
            }
            Step::Configs { from, app } => {
                let done = source::install_configs(cfg, from, app)?;
                eprintln!("config files installed: {}", done.written.join(", "));
                if !done.skipped.is_empty() {
                    eprintln!(
                        "plugin configs skipped (the app has no such plugin folder): {}",
                        done.skipped.join(", ")
                    );
                }
            }
            Step::RequireFiles { dir, files } => {
                let names: Vec<&str> = files.iter().map(String::as_str).collect();
                let missing = source::missing_files(dir, &names);
                if !missing.is_empty() {
                    bail!(
                        "the app to embed ({}) has no {}: nothing was built. Fix: the app source must be the OrangeScrum V4 tree with composer.json and webroot/index.php committed (git archive HEAD embeds committed files only)",
                        dir.display(),
                        missing.join(" and ")
                    );
                }
            }
            Step::RequireDir(p) => {
                if !fs::read_dir(p).is_ok_and(|mut d| d.next().is_some()) {
                    bail!("--skip-archive: {} is missing or empty: run a build with --keep-package first", p.display());
                }
            }
            Step::LockDir(p) => {
                fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))?;
                self.locks.borrow_mut().push(fsx::Lock::acquire(p)?);
                fsx::clean_stale(p)?;
            }
            Step::Install {
                tmp,
                dest,
                min_mb,
                arch,
            } => binary::install(tmp, dest, *min_mb, arch)
                .with_context(|| format!("the built binary was not installed as {}", dest.display()))?,
            Step::RemovePath(p) => fsx::remove_path(p)?,
            Step::RemoveListed { list, remove } => {
                eprintln!("$ {}", list.line());
                let names = list.read(sh)?;
                for name in names.lines().map(str::trim).filter(|n| !n.is_empty()) {
                    remove.clone().arg(name).run(sh)?;
                }
            }
        }
        Ok(())
    }
}

/// Guard of a [`Step::Scope`]: its `always` steps run when the scope ends, also when the
/// body failed or panicked (then from `Drop`, errors only printed).
struct Always<'e, 'a> {
    exec: &'e Exec<'a>,
    steps: &'e [Step],
    armed: bool,
}

impl Always<'_, '_> {
    /// Runs the steps now. After a failed body their errors are printed, not returned,
    /// so the body's error is the one reported.
    fn finish(mut self, body_failed: bool) -> Result<()> {
        self.armed = false;
        self.run(body_failed)
    }

    fn run(&self, quiet: bool) -> Result<()> {
        let mut first: Option<anyhow::Error> = None;
        for s in self.steps {
            if let Err(e) = self.exec.step(s) {
                if quiet {
                    eprintln!("warning: clean-up step failed: {e:#}");
                } else if first.is_none() {
                    first = Some(e);
                }
            }
        }
        first.map_or(Ok(()), Err)
    }
}

impl Drop for Always<'_, '_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.run(true);
        }
    }
}
