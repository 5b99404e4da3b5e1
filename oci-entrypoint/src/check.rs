//! Environment check before start: the release's rule table (wired at merge).

use std::fmt;

pub struct Finding {
    pub fatal: bool,
    pub text: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

pub fn check(_env: &[(String, String)]) -> Vec<Finding> {
    Vec::new()
}
