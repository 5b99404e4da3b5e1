//! The one environment rule table of the release, shared by `cargo xtask validate-env` (file
//! mode), the generated POSIX `validate-env.sh` (rendered from [`rules::RULES`]) and the OCI
//! image's entrypoint (environment mode, [`check_environment`]): what counts as a variable,
//! how docker compose (1.29 and v2) and systemd read a `.env` line ([`parse`]), and which
//! values refuse a start ([`rules`]). Std only (plus serde's derive), so the static entrypoint stays small.

pub mod image_ref;
pub mod parse;
pub mod rules;

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    /// The word that starts a finding's line, in both validators.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::Warning => "WARN",
        }
    }
}

/// One problem: which rule, on which variable and line, what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub key: Option<String>,
    pub line: Option<usize>,
    pub message: String,
    pub fix: &'static str,
}

/// The `.env.example` the packages ship: the everyday settings.
pub const ENV_EXAMPLE: &str = include_str!("../../common/.env.example");
/// The `.env.full.example` the packages ship: every variable they read.
pub const ENV_FULL_EXAMPLE: &str = include_str!("../../common/.env.full.example");

/// The keys the packages know (from common/.env.example, then the ones only
/// common/.env.full.example has), in file order.
pub fn known_keys() -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for line in ENV_EXAMPLE.lines().chain(ENV_FULL_EXAMPLE.lines()) {
        if let Some((k, _)) = line.split_once('=') {
            if parse::valid_key(k.as_bytes())
                && k.bytes().all(|b| !b.is_ascii_lowercase())
                && !keys.iter().any(|x| x == k)
            {
                keys.push(k.to_string());
            }
        }
    }
    keys
}

/// Environment mode: checks variables a process already has (a container's environment),
/// the way `validate-env.sh` without `--env-file` does: only the known names count, a
/// placeholder value is an error, then the value rules. Nothing is read from a file.
pub fn check_environment(vars: impl IntoIterator<Item = (String, String)>) -> Vec<Finding> {
    let env: BTreeMap<String, String> = vars.into_iter().collect();
    let mut st = rules::State::default();
    for key in known_keys() {
        if let Some(value) = env.get(&key) {
            if !value.is_empty() && rules::is_placeholder(value) {
                let rule = rules::rule("placeholder");
                st.report(rule, Some(&key), None, rule.message());
            }
            st.values.insert(key, value.clone());
        }
    }
    rules::check_values(&mut st);
    st.findings
}
