//! The environment check before start: the release's one rule table (`envcheck`), in
//! environment mode, exactly as `helpers/validate-env.sh` checks a container's environment
//! in the Docker package (a test compares the two on the validator's corpus).

use std::fmt;

pub struct Finding {
    pub fatal: bool,
    text: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The findings for these variables, as the validators print them (values never shown).
pub fn check(env: &[(String, String)]) -> Vec<Finding> {
    envcheck::check_environment(env.iter().cloned())
        .into_iter()
        .map(|f| {
            let key = f
                .key
                .as_deref()
                .map(|k| format!(" {k}"))
                .unwrap_or_default();
            Finding {
                fatal: f.severity == envcheck::Severity::Error,
                text: format!(
                    "{} {} environment{key}: {} — fix: {}",
                    f.severity.label(),
                    f.rule,
                    f.message,
                    f.fix
                ),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_placeholder_secret_is_fatal_and_named() {
        let found = check(&env(&[(
            "SECURITY_SALT",
            "__CHANGE_THIS_TO_RANDOM_STRING__",
        )]));
        let fatal: Vec<String> = found
            .iter()
            .filter(|f| f.fatal)
            .map(|f| f.to_string())
            .collect();
        assert!(
            fatal
                .iter()
                .any(|t| t.starts_with("ERROR ") && t.contains(" SECURITY_SALT:")),
            "{fatal:?}"
        );
        assert!(
            !fatal.iter().any(|t| t.contains("__CHANGE_THIS")),
            "values are never printed"
        );
    }

    #[test]
    fn unknown_variables_of_the_process_are_not_findings() {
        let found = check(&env(&[
            ("PATH", "/app"),
            ("HOSTNAME", "abc"),
            ("HOME", "/tmp"),
        ]));
        assert!(
            !found
                .iter()
                .any(|f| f.text.contains(" PATH:") || f.text.contains(" HOSTNAME:")),
            "{:?}",
            found.iter().map(|f| f.to_string()).collect::<Vec<_>>()
        );
    }
}
