//! The deployment targets (`docker`, `native`, `kubernetes`): their names and where each puts
//! the binary (the Kubernetes package has none: it runs the release's OCI image).
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
    Kubernetes,
}

impl Target {
    pub const ALL: [Target; 3] = [Target::Docker, Target::Native, Target::Kubernetes];

    pub fn name(self) -> &'static str {
        match self {
            Target::Docker => "docker",
            Target::Native => "native",
            Target::Kubernetes => "kubernetes",
        }
    }

    /// Where the application binary lives inside this target's package; `None` for a
    /// package without it (Kubernetes pulls the release's image, built from that binary).
    pub fn binary_dest(self, cfg: &Config) -> Option<String> {
        match self {
            Target::Docker => Some(format!("orangescrum-app/{}", cfg.binary.name)),
            Target::Native => Some(format!("bin/{}", cfg.binary.native_name)),
            Target::Kubernetes => None,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
