//! The typed release configuration (`packaging/release.toml`) and its precedence rules.
//!
//! Every name, version, path and limit used by the tasks comes from [`Config`]. Values are
//! layered: built-in defaults < the file < `XTASK_<SECTION>_<KEY>` environment variables <
//! `--set section.key=value` on the command line (task flags such as `--out` override last).

use std::{collections::BTreeMap, path::Path};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// Re-exported so callers that check folder names keep one parser: [`crate::version`].
use crate::version::ReleaseVersion;

/// Path of the configuration file, relative to the repository root.
pub const CONFIG_FILE: &str = "packaging/release.toml";
/// Prefix of the environment variables that override configuration keys.
pub const ENV_PREFIX: &str = "XTASK_";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub release: Release,
    pub binary: Binary,
    pub frankenphp: FrankenPhp,
    pub runtime: Runtime,
    pub app: App,
    pub dist: Dist,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Release {
    pub app_name: String,
    pub version: String,
    /// Where the source lives (the image's `org.opencontainers.image.source` label).
    pub source_url: String,
    /// SPDX license expression of what is shipped (image label, SBOM).
    pub license: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Binary {
    pub name: String,
    pub native_name: String,
    pub built_path: String,
    pub min_size_mb: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FrankenPhp {
    pub version: String,
    pub php_version: String,
    /// Go toolchain of the builder base image (`golang:<go_version>-alpine`).
    pub go_version: String,
    pub extensions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Runtime {
    pub user: String,
    pub uid: u32,
    pub gid: u32,
    pub http_port: u16,
    pub base_image: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct App {
    pub source: String,
    /// CakePHP config files installed into the app: `common/config/<name>.example.php` ->
    /// `config/<name>.php`.
    pub configs: Vec<String>,
    /// Plugin config files, `<Plugin>/<name>`: `common/config/plugins/<Plugin>/<name>.example.php`
    /// -> `plugins/<Plugin>/config/<name>.php`, when the app has `plugins/<Plugin>/`.
    pub plugin_configs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Dist {
    pub dir: String,
    pub keep_versions: usize,
    pub zstd_level: i32,
    /// zstd worker threads; 0: one per available core. The bytes are the same for any count.
    pub zstd_workers: u32,
    /// The OCI image's entrypoint binary; empty: built from `oci-entrypoint/` by `dist`
    /// (set it to reuse one built earlier, e.g. where no Rust toolchain is at hand).
    pub oci_entrypoint: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            release: Release {
                app_name: "orangescrum".into(),
                version: "v0.0.0".into(),
                source_url: String::new(),
                license: "NOASSERTION".into(),
            },
            binary: Binary {
                name: "osv4-prod".into(),
                native_name: "orangescrum".into(),
                built_path: "packaging/build/osv4-prod".into(),
                min_size_mb: 50,
            },
            frankenphp: FrankenPhp {
                version: "1.12.1".into(),
                php_version: "8.3".into(),
                go_version: "1.26.0".into(),
                extensions: Vec::new(),
            },
            runtime: Runtime {
                user: "orangescrum".into(),
                uid: 1000,
                gid: 1000,
                http_port: 8080,
                base_image: "alpine:3.20.3".into(),
            },
            app: App {
                source: "../apps/orangescrum-v4".into(),
                configs: Vec::new(),
                plugin_configs: Vec::new(),
            },
            dist: Dist {
                dir: "dist".into(),
                keep_versions: 3,
                zstd_level: 3,
                zstd_workers: 0,
                oci_entrypoint: String::new(),
            },
        }
    }
}

macro_rules! impl_default_from_config {
    ($($ty:ident => $field:ident),*) => {$(
        impl Default for $ty {
            fn default() -> Self { Config::default().$field }
        }
    )*};
}
impl_default_from_config!(Release => release, Binary => binary, FrankenPhp => frankenphp,
    Runtime => runtime, App => app, Dist => dist);

impl Config {
    /// Loads the file at `path` (defaults when it does not exist is *not* allowed: the
    /// file is part of the repository), then applies environment and CLI overrides.
    pub fn load(path: &Path, env: &[(String, String)], cli_overrides: &[String]) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the release configuration {}", path.display()))?;
        let file_cfg = Config::parse(&text)
            .with_context(|| format!("invalid release configuration {}", path.display()))?;
        let cfg = file_cfg.with_overrides(env, cli_overrides)?;
        cfg.validate().with_context(|| {
            format!(
                "invalid value in the release configuration {} (or its overrides)",
                path.display()
            )
        })?;
        Ok(cfg)
    }

    /// Parses the TOML text. Errors carry the line, the column and the offending key.
    pub fn parse(text: &str) -> Result<Config> {
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// Applies `XTASK_<SECTION>_<KEY>` variables from `env`, then `section.key=value` CLI
    /// overrides. Unknown keys are errors on both paths.
    pub fn with_overrides(&self, env: &[(String, String)], cli: &[String]) -> Result<Config> {
        let mut table = toml::Table::try_from(self).context("serialising the configuration")?;
        let keys = known_keys(&table);
        for (name, value) in env {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let Some((section, key)) = keys.get(rest) else {
                bail!(
                    "unknown configuration variable {name}: expected one of {}",
                    keys.keys()
                        .map(|k| format!("{ENV_PREFIX}{k}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            };
            set_key(&mut table, section, key, value)
                .with_context(|| format!("in environment variable {name}"))?;
        }
        for item in cli {
            let (dotted, value) = item
                .split_once('=')
                .with_context(|| format!("--set {item:?}: expected section.key=value"))?;
            let (section, key) = dotted
                .split_once('.')
                .filter(|(s, k)| keys.values().any(|(ks, kk)| ks == s && kk == k))
                .with_context(|| {
                    format!(
                        "--set {item:?}: unknown key {dotted:?}; known keys: {}",
                        keys.values()
                            .map(|(s, k)| format!("{s}.{k}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
            set_key(&mut table, section, key, value)
                .with_context(|| format!("in --set {item:?}"))?;
        }
        Config::deserialize(toml::Value::Table(table)).map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// Checks values that TOML types cannot express. Names end up in paths and shell
    /// scripts, so they are restricted to a safe character set.
    pub fn validate(&self) -> Result<()> {
        let v = &self.release.version;
        ReleaseVersion::parse(v).with_context(|| format!("release.version = {v:?}"))?;
        for (key, value) in [
            ("release.app_name", &self.release.app_name),
            ("binary.name", &self.binary.name),
            ("binary.native_name", &self.binary.native_name),
            ("runtime.user", &self.runtime.user),
        ] {
            if !is_safe_name(value) {
                bail!("{key} = {value:?}: use only letters, digits, '.', '_' and '-', not starting with '.' or '-'");
            }
        }
        if self.runtime.uid == 0 || self.runtime.gid == 0 {
            bail!("runtime.uid/gid must not be 0: the application never runs as root");
        }
        if self.runtime.http_port < 1024 {
            bail!(
                "runtime.http_port = {}: use an unprivileged port (>= 1024) so no capability is needed",
                self.runtime.http_port
            );
        }
        let image = &self.runtime.base_image;
        if let Some(problem) = envcheck::image_ref::image_pin_problem(image) {
            bail!("runtime.base_image = {image:?}: {problem}; pin a version tag or digest (never untagged or :latest)");
        }
        if !(1..=19).contains(&self.dist.zstd_level) {
            bail!(
                "dist.zstd_level = {}: expected 1..=19",
                self.dist.zstd_level
            );
        }
        if self.dist.dir.is_empty() || self.binary.built_path.is_empty() {
            bail!("dist.dir and binary.built_path must not be empty");
        }
        for (key, value) in [
            ("dist.dir", &self.dist.dir),
            ("binary.built_path", &self.binary.built_path),
        ] {
            if value.split('/').any(|c| c == "..") {
                bail!("{key} = {value:?}: no `..` components; use --out for an output folder elsewhere");
            }
        }
        self.validate_configs()?;
        if !is_dotted_number(&self.frankenphp.go_version) {
            bail!(
                "frankenphp.go_version = {:?}: expected a Go release such as 1.26.0 (the builder uses the image golang:<go_version>-alpine)",
                self.frankenphp.go_version
            );
        }
        Ok(())
    }

    /// `app.configs` are plain names, `app.plugin_configs` are `<Plugin>/<name>`, each listed
    /// once: they become file names in the app.
    fn validate_configs(&self) -> Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        for name in &self.app.configs {
            if !is_safe_name(name) || name.ends_with(".php") {
                bail!("app.configs: {name:?} is not a config name: list the name without folder or extension (common/config/<name>.example.php)");
            }
            if !seen.insert(name.as_str()) {
                bail!("app.configs lists {name:?} twice: remove one");
            }
        }
        for entry in &self.app.plugin_configs {
            let ok = entry
                .split_once('/')
                .is_some_and(|(p, n)| is_safe_name(p) && is_safe_name(n) && !n.ends_with(".php"));
            if !ok {
                bail!("app.plugin_configs: {entry:?} is not <Plugin>/<name> (common/config/plugins/<Plugin>/<name>.example.php)");
            }
            if !seen.insert(entry.as_str()) {
                bail!("app.plugin_configs lists {entry:?} twice: remove one");
            }
        }
        Ok(())
    }

    /// The package-time placeholders (`@@NAME@@`) and their values.
    pub fn placeholders(&self) -> Vec<(&'static str, String)> {
        vec![
            ("APP_NAME", self.release.app_name.clone()),
            ("VERSION", self.release.version.clone()),
            ("BINARY_NAME", self.binary.name.clone()),
            ("NATIVE_BINARY", self.binary.native_name.clone()),
            ("RUNTIME_USER", self.runtime.user.clone()),
            ("RUNTIME_UID", self.runtime.uid.to_string()),
            ("RUNTIME_GID", self.runtime.gid.to_string()),
            ("HTTP_PORT", self.runtime.http_port.to_string()),
            ("BASE_IMAGE", self.runtime.base_image.clone()),
            ("FRANKENPHP_VERSION", self.frankenphp.version.clone()),
            ("PHP_VERSION", self.frankenphp.php_version.clone()),
        ]
    }
}

/// Replaces `@@KEY@@` placeholders. Install-time placeholders are left in place; any other
/// unknown one is an error naming its line, so a typo never ships.
pub fn render(text: &str, values: &[(&'static str, String)]) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    for (lineno, line) in text.split_inclusive('\n').enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("@@") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find("@@").filter(|&e| {
                e > 0
                    && after[..e]
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            });
            match end {
                Some(e) => {
                    let key = &after[..e];
                    if let Some((_, v)) = values.iter().find(|(k, _)| *k == key) {
                        out.push_str(v);
                    } else if INSTALL_TIME_PLACEHOLDERS.contains(&key) {
                        out.push_str(&rest[start..start + e + 4]);
                    } else {
                        bail!(
                            "line {}: unknown placeholder @@{key}@@ (known: {})",
                            lineno + 1,
                            values
                                .iter()
                                .map(|(k, _)| *k)
                                .chain(INSTALL_TIME_PLACEHOLDERS.iter().copied())
                                .collect::<Vec<_>>()
                                .join(", ")
                        );
                    }
                    rest = &after[e + 2..];
                }
                None => {
                    out.push_str("@@");
                    rest = after;
                }
            }
        }
        out.push_str(rest);
    }
    Ok(out)
}

/// Placeholders that packaging leaves alone because the native install helper fills them.
pub const INSTALL_TIME_PLACEHOLDERS: &[&str] = &["PREFIX", "SERVICE_USER", "SERVICE_GROUP"];

/// `RELEASE_VERSION` -> ("release", "version") for every key of the configuration.
fn known_keys(table: &toml::Table) -> BTreeMap<String, (String, String)> {
    let mut keys = BTreeMap::new();
    for (section, value) in table {
        if let toml::Value::Table(inner) = value {
            for key in inner.keys() {
                let env = format!("{section}_{key}").to_ascii_uppercase();
                keys.insert(env, (section.clone(), key.clone()));
            }
        }
    }
    keys
}

/// Sets `section.key` from a string, converting it to the type the key already has.
fn set_key(table: &mut toml::Table, section: &str, key: &str, raw: &str) -> Result<()> {
    let slot = table
        .get_mut(section)
        .and_then(|s| s.as_table_mut())
        .and_then(|s| s.get_mut(key))
        .with_context(|| format!("unknown key {section}.{key}"))?;
    let new = match slot {
        toml::Value::String(_) => toml::Value::String(raw.to_string()),
        toml::Value::Integer(_) => toml::Value::Integer(
            raw.trim()
                .parse()
                .with_context(|| format!("{section}.{key} = {raw:?}: expected a whole number"))?,
        ),
        toml::Value::Boolean(_) => toml::Value::Boolean(
            raw.trim()
                .parse()
                .with_context(|| format!("{section}.{key} = {raw:?}: expected true or false"))?,
        ),
        toml::Value::Array(_) => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect(),
        ),
        other => bail!(
            "{section}.{key}: cannot override a {} from a string",
            other.type_str()
        ),
    };
    *slot = new;
    Ok(())
}

/// `1.26.0`, `1.26`: dot-separated numbers (a Go release; image tags use it verbatim).
pub fn is_dotted_number(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// A file-name component that is safe in paths, image names and shell words.
pub fn is_safe_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(['.', '-'])
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "[release]\napp_name = \"demo\"\nversion = \"v1.2.3\"\n";

    #[test]
    fn file_values_override_defaults() {
        let cfg = Config::parse(SAMPLE).unwrap();
        assert_eq!(cfg.release.app_name, "demo");
        assert_eq!(cfg.release.version, "v1.2.3");
        assert_eq!(cfg.runtime.uid, 1000, "unset keys keep their defaults");
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let err = Config::parse("[release]\nversion = \"v1.0.0\"\nverison = \"x\"\n").unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.contains("line 3"), "{msg}");
        assert!(msg.contains("verison"), "{msg}");
    }

    #[test]
    fn malformed_file_names_line() {
        let msg = format!(
            "{:#}",
            Config::parse("[release]\nversion = \n").unwrap_err()
        );
        assert!(msg.contains("line 2"), "{msg}");
    }

    #[test]
    fn wrong_type_is_an_error() {
        let msg = format!(
            "{:#}",
            Config::parse("[runtime]\nuid = \"abc\"\n").unwrap_err()
        );
        assert!(msg.contains("line 2") && msg.contains("uid"), "{msg}");
    }

    #[test]
    fn precedence_cli_over_env_over_file() {
        let cfg = Config::parse(SAMPLE).unwrap();
        let env = vec![
            ("XTASK_RELEASE_VERSION".to_string(), "v2.0.0".to_string()),
            ("XTASK_RUNTIME_UID".to_string(), "1234".to_string()),
            ("PATH".to_string(), "/bin".to_string()),
        ];
        let cli = vec!["release.version=v3.0.0".to_string()];
        let out = cfg.with_overrides(&env, &cli).unwrap();
        assert_eq!(out.release.version, "v3.0.0", "CLI wins over env");
        assert_eq!(out.runtime.uid, 1234, "env wins over file/default");
        assert_eq!(out.release.app_name, "demo", "file value kept");
    }

    #[test]
    fn array_override_splits_commas() {
        let env = vec![("XTASK_FRANKENPHP_EXTENSIONS".into(), "gd, intl,,zip".into())];
        let out = Config::default().with_overrides(&env, &[]).unwrap();
        assert_eq!(out.frankenphp.extensions, ["gd", "intl", "zip"]);
    }

    #[test]
    fn unknown_override_keys_are_errors() {
        let env = vec![("XTASK_RELEASE_VERISON".into(), "v1.0.0".into())];
        let msg = format!(
            "{:#}",
            Config::default().with_overrides(&env, &[]).unwrap_err()
        );
        assert!(msg.contains("XTASK_RELEASE_VERISON"), "{msg}");
        let msg = format!(
            "{:#}",
            Config::default()
                .with_overrides(&[], &["dist.nope=1".into()])
                .unwrap_err()
        );
        assert!(msg.contains("dist.nope"), "{msg}");
        let msg = format!(
            "{:#}",
            Config::default()
                .with_overrides(&[], &["runtime.uid=x".into()])
                .unwrap_err()
        );
        assert!(msg.contains("whole number"), "{msg}");
    }

    #[test]
    fn validation_rejects_unsafe_values() {
        let bad = |f: fn(&mut Config)| {
            let mut c = Config::default();
            f(&mut c);
            c.validate().is_err()
        };
        assert!(Config::default().validate().is_ok());
        assert!(bad(|c| c.release.version = "26.1.1".into()));
        assert!(bad(|c| c.release.version = "v26.1".into()));
        assert!(bad(|c| c.binary.name = "../evil".into()));
        assert!(bad(|c| c.runtime.uid = 0));
        assert!(bad(|c| c.runtime.http_port = 80));
        assert!(bad(|c| c.runtime.base_image = "alpine".into()));
        assert!(bad(|c| c.runtime.base_image = "alpine:latest".into()));
        assert!(bad(|c| c.dist.zstd_level = 0));
        assert!(bad(|c| c.dist.dir = "nx/../../victim".into()));
        assert!(!bad(
            |c| c.runtime.base_image = "registry:5000/alpine:3.20".into()
        ));
        assert!(bad(|c| c.frankenphp.go_version = "latest".into()));
        assert!(bad(|c| c.frankenphp.go_version = "1.26.0-alpine".into()));
        assert!(bad(|c| c.app.configs = vec!["../app".into()]));
        assert!(bad(|c| c.app.configs = vec!["smtp.php".into()]));
        assert!(bad(|c| c.app.configs = vec!["smtp".into(), "smtp".into()]));
        assert!(bad(|c| c.app.plugin_configs = vec!["stripe".into()]));
        assert!(bad(|c| c.app.plugin_configs = vec!["Payments/../x".into()]));
        assert!(bad(|c| c.app.plugin_configs = vec!["A/b/c".into()]));
        assert!(!bad(|c| {
            c.app.configs = vec!["app_local".into()];
            c.app.plugin_configs = vec!["Payments/stripe".into()];
        }));
    }

    #[test]
    fn version_errors_name_the_key() {
        let mut c = Config::default();
        c.release.version = "v1.0".into();
        let msg = format!("{:#}", c.validate().unwrap_err());
        assert!(
            msg.contains("release.version") && msg.contains("e.g. v26.1.1"),
            "{msg}"
        );
    }

    #[test]
    fn repository_config_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(CONFIG_FILE);
        let cfg = Config::load(&path, &[], &[]).unwrap();
        // Not pinned: the release step bumps it; it only has to be a release version.
        assert!(
            crate::version::is_version(&cfg.release.version),
            "{:?} is not a release version",
            cfg.release.version
        );
        assert_eq!(cfg.binary.name, "osv4-prod");
        assert_eq!(cfg.frankenphp.version, "1.12.1");
        assert_eq!(cfg.frankenphp.php_version, "8.3");
        assert_eq!(cfg.dist.keep_versions, 3);
        assert_eq!(cfg.frankenphp.go_version, "1.26.0");
        assert_eq!(
            cfg.frankenphp.extensions.len(),
            43,
            "the original's 43 extensions"
        );
        assert!(cfg.app.configs.contains(&"app_local".to_string()));
    }

    /// `app.configs`/`app.plugin_configs` and the files in common/config/ are the same set,
    /// so the list in packaging/release.toml is the one place that decides what is installed.
    #[test]
    fn config_list_equals_the_files_in_common_config() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let cfg = Config::load(&root.join(CONFIG_FILE), &[], &[]).unwrap();
        let dir = root.join("common/config");
        let mut files = std::collections::BTreeSet::new();
        for entry in walkdir::WalkDir::new(&dir).min_depth(1) {
            let entry = entry.unwrap();
            if entry.file_type().is_dir() {
                continue;
            }
            let rel = entry
                .path()
                .strip_prefix(&dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            files.insert(rel);
        }
        let mut listed = std::collections::BTreeSet::new();
        for name in &cfg.app.configs {
            listed.insert(format!("{name}.example.php"));
        }
        for entry in &cfg.app.plugin_configs {
            let (plugin, name) = entry.split_once('/').unwrap();
            listed.insert(format!("plugins/{plugin}/{name}.example.php"));
        }
        assert_eq!(
            listed, files,
            "packaging/release.toml [app] configs/plugin_configs must name exactly the files in common/config/"
        );
        assert_eq!(cfg.app.configs.len(), 15);
        assert_eq!(cfg.app.plugin_configs.len(), 5);
    }
}
