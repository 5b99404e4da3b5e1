//! `cargo xtask`: the OrangeScrum release pipeline as typed tasks. This file only parses
//! the command line and dispatches; each task lives in its own module.

mod archive;
mod audit;
mod bench;
mod build;
mod ci;
mod config;
mod deploy;
mod dist;
mod elf;
mod fanout;
mod fsx;
mod hash;
mod manifest;
mod oci;
mod package;
mod policy;
mod project;
mod sbom;
mod target;
mod validate_env;
mod verify;
mod version;

use std::{path::PathBuf, process::ExitCode};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::{project::Project, target::Target};

/// The OrangeScrum release pipeline: package, archive and verify the deployment targets.
///
/// Configuration comes from packaging/release.toml; any key can be overridden with an
/// environment variable XTASK_<SECTION>_<KEY> (e.g. XTASK_RELEASE_VERSION=v26.1.2) or,
/// with the highest precedence, --set section.key=value.
#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    version,
    max_term_width = 100
)]
struct Cli {
    /// Repository root to work on (default: the checkout this xtask was built from).
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    #[command(flatten)]
    sets: SetArgs,
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build the FrankenPHP static binary (PHP + Caddy + the embedded app) through Docker.
    Build(build::BuildArgs),
    /// Assemble deployment folders under dist/<version>/<target>/ from common/ and targets/<target>/.
    Package(PackageArgs),
    /// Package every target and write reproducible .tar.zst archives with SHA-256 manifests.
    Dist(dist::DistArgs),
    /// Check a dist/<version>/ folder, an archive or an extracted package against its checksums.
    Verify(verify::VerifyArgs),
    /// Check a .env file the way the packages read it (never executing it).
    ValidateEnv(validate_env::ValidateEnvArgs),
    /// Audit an assembled package or release folder for production readiness.
    Audit(audit::AuditArgs),
    /// Deploy a release's Docker package and wait until it is healthy (or stop it).
    Deploy(deploy::DeployArgs),
    /// Run the CI steps (all, or one with --step; --list names them): what ci.yml runs.
    Ci(ci::CiArgs),
    /// Print the configured release version; --check TAG fails when a tag does not match it.
    Version(ci::VersionArgs),
    /// Benchmark dist against the old cp+tar.gz and the tar|zstd pipelines on a 340 MB payload.
    Bench(bench::BenchArgs),
    /// One benchmark measurement in a fresh process (used by `bench`).
    #[command(hide = true)]
    BenchRun(bench::BenchRunArgs),
}

/// `--set`, accepted before and after the task name; both lists apply, in order.
/// (A clap `global` list would silently drop the first one.)
#[derive(Args, Clone, Default)]
pub struct SetArgs {
    /// Override a configuration key, e.g. --set release.version=v26.1.2 (repeatable).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub sets: Vec<String>,
}

#[derive(Args)]
struct PackageArgs {
    /// Which package to assemble.
    #[arg(value_enum)]
    target: PackageTarget,
    #[command(flatten)]
    binary: BinaryArgs,
    /// Output root instead of dist/ (packages go to OUT/<version>/<target>/). Must be new,
    /// empty, or made by xtask.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    sets: SetArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum PackageTarget {
    Docker,
    Native,
    Kubernetes,
    All,
}

/// Where the application binary comes from (default: binary.built_path, written by
/// `cargo xtask build`).
#[derive(Args, Clone, Default)]
pub struct BinaryArgs {
    /// Use this FrankenPHP binary instead of the built one.
    #[arg(long, value_name = "PATH", conflicts_with = "sample")]
    pub binary: Option<PathBuf>,
    /// Build and use the small stand-in server (for demos and tests; not the real app).
    #[arg(long)]
    pub sample: bool,
}

impl BinaryArgs {
    pub fn choice(&self) -> project::BinaryChoice {
        project::BinaryChoice {
            path: self.binary.clone(),
            sample: self.sample,
        }
    }
}

impl Task {
    /// The `--set`s given after the task name. Exhaustive on purpose: a new task must say
    /// whether it takes configuration overrides, or they would be dropped silently.
    fn sets(&self) -> &[String] {
        match self {
            Task::Package(a) => &a.sets.sets,
            Task::Dist(a) => &a.sets.sets,
            Task::Verify(a) => &a.sets.sets,
            Task::Build(a) => &a.sets.sets,
            Task::Deploy(a) => &a.sets.sets,
            Task::ValidateEnv(_)
            | Task::Audit(_)
            | Task::Ci(_)
            | Task::Version(_)
            | Task::Bench(_)
            | Task::BenchRun(_) => &[],
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // These read only the files they are given: a broken release.toml must not stop them.
    match &cli.task {
        Task::ValidateEnv(a) => return validate_env::run(a),
        Task::Audit(a) => return audit::run(a),
        _ => {}
    }
    let mut sets = cli.sets.sets;
    sets.extend_from_slice(cli.task.sets());
    let proj = Project::load(cli.root, &sets)?;
    match cli.task {
        Task::Package(a) => {
            let targets: &[Target] = match a.target {
                PackageTarget::Docker => &[Target::Docker],
                PackageTarget::Native => &[Target::Native],
                PackageTarget::Kubernetes => &[Target::Kubernetes],
                PackageTarget::All => &Target::ALL,
            };
            package::run(&proj, targets, &a.binary.choice(), a.out.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
        Task::Dist(a) => dist::run(&proj, &a).map(|()| ExitCode::SUCCESS),
        Task::Verify(a) => verify::run(&proj, &a),
        Task::Build(a) => build::run(&proj, &a).map(|()| ExitCode::SUCCESS),
        Task::ValidateEnv(_) | Task::Audit(_) => unreachable!("dispatched above"),
        Task::Deploy(a) => deploy::run(&proj, &a).map(|()| ExitCode::SUCCESS),
        Task::Ci(a) => ci::run(&proj, &a),
        Task::Version(a) => ci::version(&proj, &a).map(|()| ExitCode::SUCCESS),
        Task::Bench(a) => bench::run(&proj, &a).map(|()| ExitCode::SUCCESS),
        Task::BenchRun(a) => bench::run_one(&proj, &a).map(|()| ExitCode::SUCCESS),
    }
}
