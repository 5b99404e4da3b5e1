//! The deployment targets (`docker`, `native`): their names and where each puts the binary.
//! Shared by every task, so it sits below all of them.

use std::fmt;

use serde::Serialize;

use crate::config::Config;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    clap::ValueEnum,
    Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Docker,
    Native,
}

impl Target {
    pub const ALL: [Target; 2] = [Target::Docker, Target::Native];

    pub fn name(self) -> &'static str {
        match self {
            Target::Docker => "docker",
            Target::Native => "native",
        }
    }

    /// Where the application binary lives inside this target's package.
    pub fn binary_dest(self, cfg: &Config) -> String {
        match self {
            Target::Docker => format!("orangescrum-app/{}", cfg.binary.name),
            Target::Native => format!("bin/{}", cfg.binary.native_name),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
