//! `cargo xtask ci`: the one definition of the CI steps (fmt, clippy, tests, sample release
//! twice and compared, verify, audit), which `.github/workflows/ci.yml` runs one by one and
//! a developer runs all at once; and `cargo xtask version`, which the workflows use to read
//! and check the version.

use std::{fs, process::ExitCode};

use anyhow::{bail, Context, Result};
use xshell::cmd;

use crate::{
    dist::{self, DistArgs, RELEASE_MANIFEST, RELEASE_SUMS},
    project::Project,
    verify, BinaryArgs,
};

#[derive(clap::Args)]
pub struct VersionArgs {
    /// Fail unless the configured version equals this tag (e.g. $GITHUB_REF_NAME).
    #[arg(long, value_name = "TAG")]
    pub check: Option<String>,
}

pub fn version(proj: &Project, args: &VersionArgs) -> Result<()> {
    let v = &proj.cfg.release.version;
    if let Some(tag) = &args.check {
        crate::version::ReleaseVersion::parse(tag)
            .with_context(|| format!("release tag {tag:?}: tag releases as v<semver>, e.g. {v}"))?;
        if tag != v {
            bail!(
                "tag {tag} does not match release.version = {v} in packaging/release.toml: bump the version in that file (and commit) or tag {v}"
            );
        }
    }
    println!("{v}");
    Ok(())
}

/// The CI steps, in order. `.github/workflows/ci.yml` runs each as `cargo xtask ci --step
/// NAME` (a test checks the workflow names exactly these, in this order), and `cargo xtask
/// ci` runs them all: one definition of what CI does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Step {
    /// cargo fmt --check
    Fmt,
    /// cargo clippy, warnings denied
    Clippy,
    /// the README's test command
    Test,
    /// the sample release into dist/, built a second time elsewhere without the cache, compared
    Release,
    /// cargo xtask verify of the sample release
    Verify,
    /// cargo xtask audit --strict of the sample release
    Audit,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::Fmt,
        Step::Clippy,
        Step::Test,
        Step::Release,
        Step::Verify,
        Step::Audit,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Step::Fmt => "fmt",
            Step::Clippy => "clippy",
            Step::Test => "test",
            Step::Release => "release",
            Step::Verify => "verify",
            Step::Audit => "audit",
        }
    }
}

#[derive(clap::Args)]
pub struct CiArgs {
    /// Run only this step (default: all, in order).
    #[arg(long, value_enum, conflicts_with = "list")]
    pub step: Option<Step>,
    /// Print the step names, one per line, in order.
    #[arg(long)]
    pub list: bool,
}

pub fn run(proj: &Project, args: &CiArgs) -> Result<ExitCode> {
    if args.list {
        for s in Step::ALL {
            println!("{}", s.name());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let steps = match args.step {
        Some(s) => vec![s],
        None => Step::ALL.to_vec(),
    };
    for s in steps {
        eprintln!("== {}", s.name());
        run_step(proj, s)?;
    }
    eprintln!("ci: all steps passed");
    Ok(ExitCode::SUCCESS)
}

fn run_step(proj: &Project, step: Step) -> Result<()> {
    let sh = &proj.sh;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let version = &proj.cfg.release.version;
    // The sample release the last three steps share: the default output root, so CI can
    // upload it.
    let release = proj.out_root(None).join(version);
    match step {
        Step::Fmt => cmd!(sh, "{cargo} fmt --all -- --check")
            .run()
            .context("rustfmt: run `cargo fmt --all`"),
        Step::Clippy => cmd!(
            sh,
            "{cargo} clippy --workspace --all-targets -- -D warnings"
        )
        .run()
        .context("clippy found problems"),
        Step::Test => cmd!(sh, "{cargo} test --workspace")
            .run()
            .context("tests failed"),
        Step::Release => {
            let sample = BinaryArgs {
                binary: None,
                sample: true,
            };
            dist::run(
                proj,
                &DistArgs {
                    binary: sample.clone(),
                    ..DistArgs::default()
                },
            )?;
            let tmp = tempfile::tempdir().context("cannot create a temporary folder")?;
            dist::run(
                proj,
                &DistArgs {
                    binary: sample,
                    out: Some(tmp.path().to_path_buf()),
                    no_cache: true,
                    ..DistArgs::default()
                },
            )?;
            for name in [RELEASE_SUMS, RELEASE_MANIFEST] {
                let (x, y) = (release.join(name), tmp.path().join(version).join(name));
                if fs::read(&x).with_context(|| format!("cannot read {}", x.display()))?
                    != fs::read(&y).with_context(|| format!("cannot read {}", y.display()))?
                {
                    bail!(
                        "not reproducible: {} and {} differ",
                        x.display(),
                        y.display()
                    );
                }
            }
            Ok(())
        }
        Step::Verify => {
            let args = verify::VerifyArgs {
                path: release,
                rebuild: false,
                binary: BinaryArgs::default(),
                sets: crate::SetArgs::default(),
            };
            if verify::run(proj, &args)? != ExitCode::SUCCESS {
                bail!("verification of the sample release failed (FAIL lines above)");
            }
            Ok(())
        }
        Step::Audit => {
            let args = crate::audit::AuditArgs {
                path: release,
                json: false,
                strict: true,
            };
            if crate::audit::run(&args)? != ExitCode::SUCCESS {
                bail!("the sample release has audit findings (findings above; CI audits with --strict)");
            }
            Ok(())
        }
    }
}
