//! `cargo xtask ci`: the steps of `.github/workflows/ci.yml` (fmt, clippy, tests, sample
//! release twice and compared, verify, audit), run on a developer's machine,
//! and `cargo xtask version`, which the workflows use to read and check the version.

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

pub fn run(proj: &Project) -> Result<ExitCode> {
    let sh = &proj.sh;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("== rustfmt");
    cmd!(sh, "{cargo} fmt --all -- --check")
        .run()
        .context("rustfmt: run `cargo fmt --all`")?;
    eprintln!("== clippy");
    cmd!(
        sh,
        "{cargo} clippy --workspace --all-targets -- -D warnings"
    )
    .run()
    .context("clippy found problems")?;
    eprintln!("== tests");
    cmd!(sh, "{cargo} test --workspace")
        .run()
        .context("tests failed")?;

    eprintln!("== sample release, twice, compared");
    let tmp = tempfile::tempdir().context("cannot create a temporary folder")?;
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let sample = BinaryArgs {
        binary: None,
        sample: true,
    };
    dist::run(
        proj,
        &DistArgs {
            binary: sample.clone(),
            out: Some(a.clone()),
            ..DistArgs::default()
        },
    )?;
    dist::run(
        proj,
        &DistArgs {
            binary: sample,
            out: Some(b.clone()),
            no_cache: true,
            ..DistArgs::default()
        },
    )?;
    let version = &proj.cfg.release.version;
    for name in [RELEASE_SUMS, RELEASE_MANIFEST] {
        let (x, y) = (a.join(version).join(name), b.join(version).join(name));
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
    eprintln!("== verify");
    let args = verify::VerifyArgs {
        path: a.join(version),
        rebuild: false,
        binary: BinaryArgs::default(),
        sets: crate::SetArgs::default(),
    };
    let code = verify::run(proj, &args)?;
    if code != ExitCode::SUCCESS {
        bail!("verification of the sample release failed");
    }
    eprintln!("== audit");
    let args = crate::audit::AuditArgs {
        path: a.join(version),
        json: false,
        strict: true,
        sets: crate::SetArgs::default(),
    };
    if crate::audit::run(proj, &args)? != ExitCode::SUCCESS {
        bail!("the sample release has audit findings (ci.yml runs the audit with --strict)");
    }
    eprintln!("ci: all steps passed");
    Ok(ExitCode::SUCCESS)
}
