//! The release version (`v` + semantic version, e.g. `v26.1.1`, `v1.0.0-rc.10`): the one type
//! that parses, validates and orders versions for the configuration, `dist` (pruning), `deploy`
//! (newest release) and `version --check`.

use std::{cmp::Ordering, fmt, str::FromStr};

use anyhow::{bail, Context, Result};

/// A release version as written in `release.version`, folder names and tags. Ordered by
/// semantic-version precedence (SemVer 2.0 §11), so `v1.0.0-rc.10` > `v1.0.0-rc.9` and a
/// release sorts after its pre-releases; build metadata is refused because the version
/// becomes a path and image-tag component where `+` is not safe.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ReleaseVersion {
    text: String,
    semver: semver::Version,
}

impl ReleaseVersion {
    pub fn parse(v: &str) -> Result<Self> {
        let Some(rest) = v.strip_prefix('v') else {
            bail!("{v:?} is not a release version: write `v` and a semantic version, e.g. v26.1.1 or v1.0.0-rc.1");
        };
        let semver = semver::Version::parse(rest).with_context(|| {
            format!("{v:?} is not a release version: write `v` and a semantic version, e.g. v26.1.1 or v1.0.0-rc.1")
        })?;
        if !semver.build.is_empty() {
            bail!("{v:?}: build metadata (`+...`) is not allowed in a release version, it ends up in file and image names");
        }
        Ok(Self {
            text: v.to_string(),
            semver,
        })
    }
}

/// True when `v` is a valid release version (folder names in an output root are filtered
/// with this, so unrelated folders are never pruned).
pub fn is_version(v: &str) -> bool {
    ReleaseVersion::parse(v).is_ok()
}

/// Sort key for names that may or may not be versions: non-versions sort lowest.
pub fn order_key(v: &str) -> Option<ReleaseVersion> {
    ReleaseVersion::parse(v).ok()
}

impl Ord for ReleaseVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.semver.cmp(&other.semver)
    }
}

impl PartialOrd for ReleaseVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl FromStr for ReleaseVersion {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl fmt::Display for ReleaseVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_refuses() {
        for ok in ["v26.1.1", "v1.0.0-rc.1", "v0.0.0", "v1.2.3-alpha.beta.1"] {
            assert!(is_version(ok), "{ok}");
        }
        for bad in [
            "26.1.1",
            "v1.0",
            "v1.0.0-",
            "v1.0.0-a/b",
            "v01.0.0",
            "v1.0.0+build.5",
            "v1.0.0 ",
            "",
            "v",
        ] {
            assert!(!is_version(bad), "{bad}");
        }
        let err = ReleaseVersion::parse("1.2.3").unwrap_err().to_string();
        assert!(err.contains("e.g. v26.1.1"), "{err}");
    }

    #[test]
    fn pre_releases_order_numerically_and_before_the_release() {
        let mut v: Vec<ReleaseVersion> = [
            "v1.0.0",
            "v1.0.0-rc.10",
            "v1.0.0-rc.9",
            "v0.9.12",
            "v1.0.0-alpha",
            "v1.0.0-rc.1",
            "v0.10.0",
            "v1.0.0-beta.2",
            "v1.0.0-beta.11",
        ]
        .iter()
        .map(|s| ReleaseVersion::parse(s).unwrap())
        .collect();
        v.sort();
        let names: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            [
                "v0.9.12",
                "v0.10.0",
                "v1.0.0-alpha",
                "v1.0.0-beta.2",
                "v1.0.0-beta.11",
                "v1.0.0-rc.1",
                "v1.0.0-rc.9",
                "v1.0.0-rc.10",
                "v1.0.0",
            ]
        );
    }

    #[test]
    fn non_versions_sort_lowest() {
        assert!(order_key("notes") < order_key("v0.0.1"));
        assert!(order_key("v1.0.0-rc.9") < order_key("v1.0.0-rc.10"));
    }
}
