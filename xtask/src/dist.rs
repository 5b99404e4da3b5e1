//! `cargo xtask dist`: placeholder while the module is written.
use anyhow::Result;
use crate::project::Project;
#[derive(clap::Args)]
pub struct DistArgs {}
pub fn run(_p: &Project, _a: &DistArgs) -> Result<()> { Ok(()) }
