//! The release's software bill of materials: one CycloneDX 1.5 JSON document per release
//! (`<app>-<version>-sbom.cdx.json`) naming what the binary is made of (FrankenPHP, PHP, Caddy,
//! the PHP extensions), the embedded app's PHP packages (from its `composer.lock`, production
//! packages only), and every file of every package and the OCI image with its SHA-256.
//! Deterministic: the only time in it is the source date, the serial number is derived from
//! the content, components are in a fixed order.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{json, Value};

use crate::{config::Config, hash, oci, target::Target};

/// Caddy as required by FrankenPHP's `caddy/go.mod` at the configured FrankenPHP version
/// (ARCHITECTURE.md, Serving); keyed by FrankenPHP version so a bump cannot go unnoticed.
const CADDY_FOR_FRANKENPHP: &[(&str, &str)] = &[("1.12.1", "2.11.2")];

/// One package of the release and its files, as (path, sha256) from its `SHA256SUMS`.
pub struct PackageFiles {
    pub target: Target,
    pub archive: String,
    pub archive_sha256: String,
    pub files: Vec<(String, String)>,
}

pub struct SbomInputs<'a> {
    pub cfg: &'a Config,
    pub git_revision: &'a str,
    pub source_date: u64,
    pub binary_sha256: &'a str,
    pub binary_source: &'a str,
    /// The app's `composer.lock`, when known.
    pub composer_lock: Option<(String, Vec<u8>)>,
    pub packages: Vec<PackageFiles>,
    /// (archive name, archive sha256, image digest).
    pub image: Option<(String, String, String)>,
}

fn property(name: &str, value: impl Into<String>) -> Value {
    json!({ "name": name, "value": value.into() })
}

/// The production packages of a `composer.lock`, as CycloneDX components.
pub fn composer_components(lock: &[u8], origin: &str) -> Result<Vec<Value>> {
    let v: Value = serde_json::from_slice(lock)
        .with_context(|| format!("{origin} is not valid JSON: a composer.lock is"))?;
    let packages = v["packages"]
        .as_array()
        .with_context(|| format!("{origin} has no \"packages\" list"))?;
    let mut out: Vec<Value> = packages
        .iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap_or("unknown");
            let version = p["version"].as_str().unwrap_or("unknown");
            let mut c = json!({
                "type": "library",
                "bom-ref": format!("pkg:composer/{name}@{version}"),
                "name": name,
                "version": version,
                "purl": format!("pkg:composer/{name}@{version}"),
            });
            if let Some(licenses) = p["license"].as_array() {
                c["licenses"] = Value::Array(
                    licenses
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|l| json!({ "license": { "id": l } }))
                        .collect(),
                );
            }
            c
        })
        .collect();
    out.sort_by(|a, b| a["bom-ref"].as_str().cmp(&b["bom-ref"].as_str()));
    Ok(out)
}

/// The document. Pure: everything comes from `i`.
pub fn document(i: &SbomInputs) -> Result<Value> {
    let cfg = i.cfg;
    let app = &cfg.release.app_name;
    let version = &cfg.release.version;
    let fp = &cfg.frankenphp;
    let caddy = CADDY_FOR_FRANKENPHP
        .iter()
        .find(|(f, _)| *f == fp.version)
        .map(|(_, c)| *c);
    let mut runtime = vec![
        json!({
            "type": "framework", "bom-ref": "frankenphp", "name": "frankenphp",
            "version": fp.version,
            "purl": format!("pkg:golang/github.com/dunglas/frankenphp@v{}", fp.version),
        }),
        json!({ "type": "framework", "bom-ref": "php", "name": "php", "version": fp.php_version }),
    ];
    if let Some(c) = caddy {
        runtime.push(json!({
            "type": "framework", "bom-ref": "caddy", "name": "caddy", "version": c,
            "purl": format!("pkg:golang/github.com/caddyserver/caddy/v2@v{c}"),
        }));
    }
    let mut extensions: Vec<&String> = fp.extensions.iter().collect();
    extensions.sort();
    for e in extensions {
        runtime.push(json!({
            "type": "library", "bom-ref": format!("php-ext-{e}"), "name": format!("php-ext-{e}"),
            "version": fp.php_version,
            "description": "PHP extension compiled into the static binary",
        }));
    }
    let (app_packages, lock_note) = match &i.composer_lock {
        Some((origin, bytes)) => (composer_components(bytes, origin)?, origin.clone()),
        None => (
            Vec::new(),
            "unknown: no composer.lock was available to dist".into(),
        ),
    };
    let binary = json!({
        "type": "application",
        "bom-ref": "binary",
        "name": cfg.binary.name,
        "version": version,
        "hashes": [{ "alg": "SHA-256", "content": i.binary_sha256 }],
        "properties": [
            property("orangescrum:binary-source", i.binary_source),
            property("orangescrum:composer-lock", lock_note),
        ],
        "components": runtime.into_iter().chain(app_packages).collect::<Vec<_>>(),
    });
    let mut components = vec![binary];
    for p in &i.packages {
        let mut files: Vec<&(String, String)> = p.files.iter().collect();
        files.sort();
        components.push(json!({
            "type": "application",
            "bom-ref": format!("package-{}", p.target),
            "name": format!("{app}-{version}-{}", p.target),
            "version": version,
            "hashes": [{ "alg": "SHA-256", "content": p.archive_sha256 }],
            "properties": [property("orangescrum:archive", p.archive.clone())],
            "components": files.iter().map(|(path, sha)| json!({
                "type": "file",
                "bom-ref": format!("package-{}:{path}", p.target),
                "name": path,
                "hashes": [{ "alg": "SHA-256", "content": sha }],
            })).collect::<Vec<_>>(),
        }));
    }
    if let Some((archive, sha, digest)) = &i.image {
        components.push(json!({
            "type": "container",
            "bom-ref": "image",
            "name": format!("{app}"),
            "version": digest,
            "hashes": [{ "alg": "SHA-256", "content": sha }],
            "properties": [
                property("orangescrum:archive", archive.clone()),
                property("oci:digest", digest.clone()),
                property("oci:ca-bundle-sha256", oci::CA_BUNDLE_SHA256),
            ],
        }));
    }
    let mut doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "timestamp": oci::rfc3339(i.source_date),
            "tools": { "components": [{ "type": "application", "name": "cargo-xtask", "version": env!("CARGO_PKG_VERSION") }] },
            "component": {
                "type": "application", "bom-ref": "release", "name": app, "version": version,
                "properties": [property("orangescrum:git-revision", i.git_revision)],
                "externalReferences": if cfg.release.source_url.is_empty() { json!([]) } else {
                    json!([{ "type": "vcs", "url": cfg.release.source_url }])
                },
            },
            "licenses": [{ "expression": cfg.release.license }],
        },
        "components": components,
    });
    // The serial number names this exact content: derived from it, so it is reproducible.
    let digest = hash::sha256_hex(&serde_json::to_vec(&doc).context("serialising the SBOM")?);
    doc["serialNumber"] = json!(format!(
        "urn:uuid:{}-{}-5{}-8{}-{}",
        &digest[0..8],
        &digest[8..12],
        &digest[13..16],
        &digest[17..20],
        &digest[20..32]
    ));
    Ok(doc)
}

/// The `composer.lock` of the app the binary embeds, when dist can know it: the sample's
/// fixture for `--sample`, the app source (`app.source`) otherwise.
pub fn find_composer_lock(
    root: &Path,
    cfg: &Config,
    binary_source: &str,
) -> Option<(String, Vec<u8>)> {
    let (base, rel) = if binary_source == "sample" {
        // The stand-in is part of the tooling: its app is in xtask's own workspace.
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()?
            .to_path_buf();
        (workspace, "sample-app/fixture/composer.lock".to_string())
    } else {
        (
            root.to_path_buf(),
            format!("{}/composer.lock", cfg.app.source.trim_end_matches('/')),
        )
    };
    std::fs::read(base.join(&rel)).ok().map(|b| (rel, b))
}

/// The files an SBOM lists for a release: (path, sha256) of every package file and artifact,
/// so `verify` can compare them with what is there.
pub fn listed_hashes(doc: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for c in doc["components"].as_array().into_iter().flatten() {
        let Some(bom_ref) = c["bom-ref"].as_str() else {
            continue;
        };
        for f in c["components"].as_array().into_iter().flatten() {
            if f["type"] == "file" {
                if let (Some(name), Some(sha)) =
                    (f["name"].as_str(), f["hashes"][0]["content"].as_str())
                {
                    out.push((bom_ref.to_string(), name.to_string(), sha.to_string()));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(cfg: &Config) -> SbomInputs<'_> {
        SbomInputs {
            cfg,
            git_revision: "abc",
            source_date: 1_600_000_000,
            binary_sha256: "aa",
            binary_source: "sample",
            composer_lock: Some((
                "composer.lock".into(),
                br#"{"packages":[{"name":"b/b","version":"2.0.0","license":["MIT"]},{"name":"a/a","version":"1.0.0"}],"packages-dev":[{"name":"phpunit/phpunit","version":"9"}]}"#.to_vec(),
            )),
            packages: vec![PackageFiles {
                target: Target::Native,
                archive: "x-native.tar.zst".into(),
                archive_sha256: "bb".into(),
                files: vec![("z".into(), "01".into()), ("a".into(), "02".into())],
            }],
            image: Some(("x-oci.tar".into(), "cc".into(), "sha256:dd".into())),
        }
    }

    #[test]
    fn lists_runtime_app_packages_and_files_deterministically() {
        let cfg = Config::default();
        let a = document(&inputs(&cfg)).unwrap();
        let b = document(&inputs(&cfg)).unwrap();
        assert_eq!(a, b);
        assert_eq!(a["metadata"]["timestamp"], "2020-09-13T12:26:40Z");
        let inner: Vec<&str> = a["components"][0]["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert!(inner.contains(&"frankenphp") && inner.contains(&"php"));
        // Production packages only, sorted.
        let pos = |n: &str| inner.iter().position(|x| *x == n);
        assert!(pos("a/a") < pos("b/b") && pos("a/a").is_some());
        assert!(pos("phpunit/phpunit").is_none());
        assert_eq!(
            listed_hashes(&a),
            [
                (
                    "package-native".to_string(),
                    "a".to_string(),
                    "02".to_string()
                ),
                (
                    "package-native".to_string(),
                    "z".to_string(),
                    "01".to_string()
                )
            ]
        );
        let serial = a["serialNumber"].as_str().unwrap();
        assert!(
            serial.starts_with("urn:uuid:") && serial.len() == 45,
            "{serial}"
        );
        let mut other = inputs(&cfg);
        other.binary_sha256 = "ab";
        assert_ne!(document(&other).unwrap()["serialNumber"], a["serialNumber"]);
    }

    #[test]
    fn a_broken_lock_file_is_named() {
        let e = composer_components(b"{", "app/composer.lock")
            .unwrap_err()
            .to_string();
        assert!(e.contains("app/composer.lock"), "{e}");
    }
}
