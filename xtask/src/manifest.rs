//! The JSON manifests the pipeline writes and reads back: `build-manifest.json` (inside each
//! package) and `dist-manifest.json` (beside a release's archives). One typed definition per
//! file, used by every writer and reader (`package`, `dist`, `merge`, `verify`, `deploy`,
//! `audit`, `bench`), so a renamed or missing field is a clear error, not a silent `null`.

use std::{fs, io::Read, path::Path};

use anyhow::{bail, Context, Result};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::target::Target;

/// File name of the per-package manifest.
pub const BUILD_MANIFEST: &str = "build-manifest.json";
/// File name of the release manifest.
pub const RELEASE_MANIFEST: &str = "dist-manifest.json";
/// Manifests are small; anything larger is not one of ours (and is not read whole).
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// Contents of `build-manifest.json`: what a package was built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildManifest {
    pub app: String,
    pub version: String,
    pub target: Target,
    pub git_revision: String,
    pub frankenphp_version: String,
    pub php_version: String,
    pub php_extensions: Vec<String>,
    pub binary: ManifestBinary,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestBinary {
    /// Path of the binary inside the package; absent for a package without it (Kubernetes:
    /// the binary is in the release's image, and the rest of this record says which one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub sha256: String,
    pub size: u64,
    pub arch: String,
    pub binary_source: String,
}

/// Contents of `dist-manifest.json`: one release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistManifest {
    pub app: String,
    pub version: String,
    pub git_revision: String,
    pub source_date_epoch: u64,
    pub zstd_level: i32,
    pub libzstd: String,
    pub targets: Vec<TargetEntry>,
    /// The OCI image archive, made with the Docker target (absent from a part without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageEntry>,
    /// The CycloneDX SBOM, written when the release holds every target (a `dist --target`
    /// part has none; `dist merge` writes it for the whole).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom: Option<FileEntry>,
}

/// A published file beside the archives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub file: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageEntry {
    /// `<app>-<version>-oci-<arch>.tar`: an OCI image layout plus Docker's `manifest.json`.
    pub archive: String,
    pub size: u64,
    /// SHA-256 of the archive file.
    pub sha256: String,
    /// `sha256:<hex>` of the image manifest (what `docker images --digests` and registries show).
    pub digest: String,
    /// The name `docker load` gives it.
    pub repo_tag: String,
    pub arch: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetEntry {
    pub target: Target,
    pub archive: String,
    pub size: u64,
    pub sha256: String,
    pub files: usize,
    pub arch: String,
    pub binary_sha256: String,
    pub binary_source: String,
}

/// Pretty JSON with a final newline: the one serialised form, so equal manifests are equal
/// bytes (archives and `merge` depend on that).
pub fn to_json<T: Serialize>(m: &T, what: &str) -> Result<Vec<u8>> {
    let mut json = serde_json::to_vec_pretty(m).with_context(|| format!("serialising {what}"))?;
    json.push(b'\n');
    Ok(json)
}

/// Parses manifest bytes; `place` names the file in the error (with the fix).
pub fn parse<T: DeserializeOwned>(bytes: &[u8], place: &str) -> Result<T> {
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        bail!("{place} is larger than {MAX_MANIFEST_BYTES} bytes: not a manifest written by xtask; rebuild the release");
    }
    serde_json::from_slice(bytes).with_context(|| {
        format!("{place} is not a valid manifest (missing, unknown or mistyped field): rebuild it with the xtask of this checkout")
    })
}

/// Reads and parses a manifest file, refusing oversized files before reading them whole.
pub fn read<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let file = fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    parse(&bytes, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build() -> BuildManifest {
        BuildManifest {
            app: "orangescrum".into(),
            version: "v1.0.0".into(),
            target: Target::Native,
            git_revision: "abc".into(),
            frankenphp_version: "1.12.1".into(),
            php_version: "8.3".into(),
            php_extensions: vec!["pdo_pgsql".into()],
            binary: ManifestBinary {
                path: Some("bin/orangescrum".into()),
                sha256: "00".repeat(32),
                size: 1,
                arch: "x86_64".into(),
                binary_source: "sample".into(),
            },
        }
    }

    #[test]
    fn round_trip_and_clear_errors() {
        let json = to_json(&build(), BUILD_MANIFEST).unwrap();
        assert!(json.ends_with(b"}\n"));
        let back: BuildManifest = parse(&json, BUILD_MANIFEST).unwrap();
        assert_eq!(back, build());

        // A typo'd field name is an error, not a silently missing value.
        let typo = String::from_utf8(json.clone())
            .unwrap()
            .replace("\"sha256\"", "\"sha265\"");
        let e = format!(
            "{:#}",
            parse::<BuildManifest>(typo.as_bytes(), "pkg/build-manifest.json").unwrap_err()
        );
        assert!(
            e.contains("pkg/build-manifest.json") && e.contains("sha265"),
            "{e}"
        );
        // A missing field too.
        let e = format!(
            "{:#}",
            parse::<BuildManifest>(b"{\"app\":\"x\"}", "m.json").unwrap_err()
        );
        assert!(e.contains("missing field"), "{e}");
        // Oversized input is refused before parsing.
        let big = vec![b' '; MAX_MANIFEST_BYTES as usize + 1];
        let e = format!("{:#}", parse::<BuildManifest>(&big, "m.json").unwrap_err());
        assert!(e.contains("larger than"), "{e}");
    }

    #[test]
    fn a_package_without_the_binary_has_no_path() {
        let mut m = build();
        m.target = Target::Kubernetes;
        m.binary.path = None;
        let json = to_json(&m, BUILD_MANIFEST).unwrap();
        let text = String::from_utf8(json.clone()).unwrap();
        assert!(!text.contains("\"path\""), "{text}");
        assert!(text.contains("\"target\": \"kubernetes\""), "{text}");
        assert_eq!(parse::<BuildManifest>(&json, BUILD_MANIFEST).unwrap(), m);
    }

    #[test]
    fn read_refuses_oversized_files_without_reading_them_whole() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join(RELEASE_MANIFEST);
        fs::write(&p, vec![b' '; MAX_MANIFEST_BYTES as usize + 10]).unwrap();
        let e = format!("{:#}", read::<DistManifest>(&p).unwrap_err());
        assert!(e.contains("larger than"), "{e}");
        let e = format!(
            "{:#}",
            read::<DistManifest>(&t.path().join("none.json")).unwrap_err()
        );
        assert!(e.contains("cannot read"), "{e}");
    }
}
