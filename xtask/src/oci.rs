//! The release's OCI image, built by `dist` without a Docker daemon or registry: one
//! reproducible tar holding an OCI image layout (`oci-layout`, `index.json`,
//! `blobs/sha256/...`) plus Docker's `manifest.json`, so `docker load` (Docker 20.10+),
//! `skopeo copy oci-archive:...` and registries all take the same bytes.
//!
//! The image holds only what runs: a minimal root (`/etc/passwd` and `/etc/group` with the
//! runtime account, the pinned CA bundle, `/tmp` 1777), the static entrypoint
//! (`oci-entrypoint/`: checks the environment, answers the health check, execs the server),
//! the PHP settings, and the application binary. Layers are uncompressed tars, so a layer's
//! digest is its diff ID and nothing depends on a compressor's version. Every timestamp is
//! the source date, every owner 0:0, every mode fixed.

use std::{
    fs::File,
    io::{self, BufWriter, Read, Write},
    path::{Path, PathBuf},
};

use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::{
    archive::{header_bytes, header_bytes_mode, padding, EntryKind, BLOCK},
    config::Config,
    hash::{self, HashingWriter},
};

/// `packaging/oci/ca-certificates.crt` must have this hash (see packaging/oci/README.md).
pub const CA_BUNDLE_SHA256: &str =
    "2021f64aa8b43c9eae5b1e330588e8c3ef12b821b119680de3f264f07923fa76";
pub const CA_BUNDLE: &str = "packaging/oci/ca-certificates.crt";

const MT_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
const MT_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const MT_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const MT_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// Where things live inside the image.
pub const APP_DIR: &str = "app";
pub const ENTRYPOINT: &str = "app/entrypoint";
pub const PHP_INI: &str = "app/php/php.ini";
/// The one php.ini of the release (the packages ship it as `php/php.ini`).
pub const PHP_INI_SOURCE: &str = "common/php/php.ini";

/// A file or folder of a layer. Paths are relative to the image root, without a leading `/`.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Dir {
        path: String,
        mode: u32,
    },
    Bytes {
        path: String,
        mode: u32,
        data: Vec<u8>,
    },
    /// A file read from disk when the layer is written (the big binaries).
    File {
        path: String,
        mode: u32,
        source: PathBuf,
        size: u64,
    },
}

impl Item {
    fn path(&self) -> &str {
        match self {
            Item::Dir { path, .. } | Item::Bytes { path, .. } | Item::File { path, .. } => path,
        }
    }
}

/// What the image is made of, decided before anything is written (pure: see [`plan`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ImagePlan {
    /// Layers in order, bottom first.
    pub layers: Vec<Vec<Item>>,
    /// The image configuration (OCI config JSON, with Docker's `Healthcheck`).
    pub config: serde_json::Value,
    /// `<app>:<version>`, the name `docker load` gives the image.
    pub repo_tag: String,
    /// `org.opencontainers.image.ref.name` in `index.json`.
    pub ref_name: String,
}

/// Facts the plan is made from.
pub struct ImageInputs<'a> {
    pub cfg: &'a Config,
    pub git_revision: &'a str,
    pub source_date: u64,
    /// OCI architecture name (`amd64`, `arm64`).
    pub arch: &'a str,
    pub binary: &'a Path,
    pub binary_size: u64,
    pub entrypoint: &'a Path,
    pub entrypoint_size: u64,
    pub ca_bundle: Vec<u8>,
    pub php_ini: Option<Vec<u8>>,
}

/// The OCI architecture name of an ELF machine name as `elf` reports it.
pub fn oci_arch(elf_arch: &str) -> Result<&'static str> {
    Ok(match elf_arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => bail!("no OCI architecture name for {other}"),
    })
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since 1970 (the image's `created`, from the source
/// date, never the clock).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Decides the layers and the configuration. Pure.
pub fn plan(i: &ImageInputs) -> ImagePlan {
    let cfg = i.cfg;
    let rt = &cfg.runtime;
    let passwd = format!(
        "root:x:0:0:root:/root:/sbin/nologin\n{}:x:{}:{}:{}:/tmp:/sbin/nologin\n",
        rt.user, rt.uid, rt.gid, cfg.release.app_name
    );
    let group = format!("root:x:0:\n{}:x:{}:\n", rt.user, rt.gid);
    let mut root = vec![
        Item::Dir {
            path: "app".into(),
            mode: 0o755,
        },
        Item::Dir {
            path: "etc".into(),
            mode: 0o755,
        },
        Item::Bytes {
            path: "etc/group".into(),
            mode: 0o644,
            data: group.into_bytes(),
        },
        Item::Bytes {
            path: "etc/passwd".into(),
            mode: 0o644,
            data: passwd.into_bytes(),
        },
        Item::Dir {
            path: "etc/ssl".into(),
            mode: 0o755,
        },
        Item::Dir {
            path: "etc/ssl/certs".into(),
            mode: 0o755,
        },
        Item::Bytes {
            path: "etc/ssl/certs/ca-certificates.crt".into(),
            mode: 0o644,
            data: i.ca_bundle.clone(),
        },
        // The binary unpacks the embedded app under TMPDIR; world-writable and sticky, as
        // on any system. A read-only container mounts a tmpfs over it.
        Item::Dir {
            path: "tmp".into(),
            mode: 0o1777,
        },
    ];
    if let Some(ini) = &i.php_ini {
        root.push(Item::Dir {
            path: "app/php".into(),
            mode: 0o755,
        });
        root.push(Item::Bytes {
            path: PHP_INI.into(),
            mode: 0o644,
            data: ini.clone(),
        });
    }
    root.sort_by(|a, b| a.path().as_bytes().cmp(b.path().as_bytes()));
    let binary_path = format!("{APP_DIR}/{}", cfg.binary.name);
    let layers = vec![
        root,
        vec![Item::File {
            path: ENTRYPOINT.into(),
            mode: 0o755,
            source: i.entrypoint.to_path_buf(),
            size: i.entrypoint_size,
        }],
        vec![Item::File {
            path: binary_path,
            mode: 0o755,
            source: i.binary.to_path_buf(),
            size: i.binary_size,
        }],
    ];

    let port = rt.http_port;
    let mut env = vec![
        "PATH=/app".to_string(),
        "HOME=/tmp".to_string(),
        "TMPDIR=/tmp".to_string(),
        "XDG_CONFIG_HOME=/tmp/caddy/config".to_string(),
        "XDG_DATA_HOME=/tmp/caddy/data".to_string(),
        // Inside the container the server listens on every interface of its own network
        // namespace; which host address it is published on is the runtime's business.
        "APP_BIND_IP=0.0.0.0".to_string(),
        format!("APP_PORT={port}"),
    ];
    if i.php_ini.is_some() {
        // php-cli does not read the embedded php.ini (only php-server adds the app to the
        // scan path); the leading ':' keeps the compiled-in scan dir.
        env.push("PHP_INI_SCAN_DIR=:/app/php".to_string());
    }
    let created = rfc3339(i.source_date);
    let title = &cfg.release.app_name;
    let version = &cfg.release.version;
    let labels = json!({
        "org.opencontainers.image.title": title,
        "org.opencontainers.image.description": format!(
            "{title} on FrankenPHP {} (PHP {}), static binary",
            cfg.frankenphp.version, cfg.frankenphp.php_version
        ),
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.revision": i.git_revision,
        "org.opencontainers.image.created": created,
        "org.opencontainers.image.source": cfg.release.source_url,
        "org.opencontainers.image.licenses": cfg.release.license,
    });
    let seconds = |s: u64| s * 1_000_000_000;
    let config = json!({
        "architecture": i.arch,
        "os": "linux",
        "created": created,
        "author": title,
        "config": {
            "User": format!("{}:{}", rt.uid, rt.gid),
            "ExposedPorts": { format!("{port}/tcp"): {} },
            "Env": env,
            "Entrypoint": [format!("/{ENTRYPOINT}")],
            "Cmd": ["php-server"],
            "WorkingDir": "/",
            "Labels": labels,
            "StopSignal": "SIGTERM",
            // Docker's extension (the OCI config has no health check); other runtimes
            // ignore it and probe /home/healthcheck themselves.
            "Healthcheck": {
                "Test": ["CMD", format!("/{ENTRYPOINT}"), "healthcheck"],
                "Interval": seconds(30),
                "Timeout": seconds(10),
                "StartPeriod": seconds(60),
                "Retries": 5,
            },
        },
        "rootfs": { "type": "layers", "diff_ids": [] },
        "history": [
            { "created": created, "created_by": "cargo xtask dist: minimal root (passwd, group, CA bundle, /tmp, php.ini)" },
            { "created": created, "created_by": "cargo xtask dist: entrypoint (environment check, health check, exec)" },
            { "created": created, "created_by": format!("cargo xtask dist: {}", cfg.binary.name) },
        ],
    });
    ImagePlan {
        layers,
        config,
        repo_tag: format!("{title}:{version}"),
        ref_name: version.clone(),
    }
}

/// Size in bytes of a layer's tar stream.
fn layer_size(items: &[Item]) -> Result<u64> {
    let mut total = 2 * BLOCK;
    for item in items {
        let (kind, size) = entry_kind(item);
        total += header_bytes(item.path(), &kind, 0)?.len() as u64;
        total += size + padding(size) as u64;
    }
    Ok(total)
}

fn entry_kind(item: &Item) -> (EntryKind, u64) {
    match item {
        Item::Dir { .. } => (EntryKind::Dir, 0),
        Item::Bytes { data, .. } => {
            let size = data.len() as u64;
            (
                EntryKind::File {
                    size,
                    executable: false,
                },
                size,
            )
        }
        Item::File { size, .. } => (
            EntryKind::File {
                size: *size,
                executable: false,
            },
            *size,
        ),
    }
}

/// Streams a layer's tar to `w` (headers with the item's own mode, 0:0, `mtime`).
fn write_layer(items: &[Item], mtime: u64, w: &mut dyn Write) -> Result<()> {
    for item in items {
        let (kind, size) = entry_kind(item);
        let mode = match item {
            Item::Dir { mode, .. } | Item::Bytes { mode, .. } | Item::File { mode, .. } => *mode,
        };
        w.write_all(&header_bytes_mode(item.path(), &kind, Some(mode), mtime)?)?;
        match item {
            Item::Dir { .. } => {}
            Item::Bytes { data, .. } => w.write_all(data)?,
            Item::File { source, path, .. } => {
                let f = File::open(source)
                    .with_context(|| format!("cannot open {}", source.display()))?;
                let copied = io::copy(&mut f.take(size), w)
                    .with_context(|| format!("cannot read {}", source.display()))?;
                if copied != size {
                    bail!(
                        "{} changed size while the image layer {path} was written",
                        source.display()
                    );
                }
            }
        }
        w.write_all(&vec![0u8; padding(size)])?;
    }
    w.write_all(&[0u8; 2 * BLOCK as usize])?;
    Ok(())
}

/// A content-addressed blob of the layout.
#[derive(Debug, Clone, PartialEq)]
struct Blob {
    hex: String,
    size: u64,
    media_type: &'static str,
}

/// A JSON document of the image and its blob.
fn json_blob(v: &serde_json::Value, media_type: &'static str) -> Result<(Blob, Vec<u8>)> {
    // serde_json's map is ordered by key, so equal values give equal bytes.
    let data = serde_json::to_vec(v).context("serialising an image JSON document")?;
    let blob = Blob {
        hex: hash::sha256_hex(&data),
        size: data.len() as u64,
        media_type,
    };
    Ok((blob, data))
}

fn descriptor(b: &Blob) -> serde_json::Value {
    json!({ "mediaType": b.media_type, "digest": format!("sha256:{}", b.hex), "size": b.size })
}

/// What was written: the archive's hash and size and the image's digest.
#[derive(Debug, Clone, PartialEq)]
pub struct WrittenImage {
    pub sha256: String,
    pub size: u64,
    /// `sha256:<hex>` of the image manifest: what a registry reports and a deployment pins.
    pub digest: String,
}

/// A tar stream written to a file, with the offset of the next byte.
struct TarFile {
    w: BufWriter<File>,
    at: u64,
}

impl TarFile {
    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        self.w.write_all(bytes).context("cannot write the image")?;
        self.at += bytes.len() as u64;
        Ok(())
    }

    fn entry(&mut self, path: &str, kind: &EntryKind, data: &[u8], mtime: u64) -> Result<()> {
        self.put(&header_bytes(path, kind, mtime)?)?;
        self.put(data)?;
        self.put(&vec![0u8; padding(data.len() as u64)])
    }

    fn file(&mut self, path: &str, data: &[u8], mtime: u64) -> Result<()> {
        let kind = EntryKind::File {
            size: data.len() as u64,
            executable: false,
        };
        self.entry(path, &kind, data, mtime)
    }
}

/// Writes the image archive to `dest` in one pass over its inputs, and hands the image's
/// digest to `on_digest` as soon as it is known, before the archive is finished (the
/// Kubernetes package pins it).
///
/// Each layer is streamed into place right after a header-sized gap, hashed on the way,
/// and its header (which names the blob by that hash) is written into the gap after; so
/// the 340 MB binary is read once and the digest is of exactly the bytes written. The
/// archive's own SHA-256 is then taken by reading it back. Entries: `blobs/`,
/// `blobs/sha256/`, the layers in layer order, the config and the manifest (by digest),
/// `index.json`, `manifest.json`, `oci-layout`.
pub fn write_image(
    plan: &ImagePlan,
    mtime: u64,
    dest: &Path,
    on_digest: impl FnOnce(&str),
) -> Result<WrittenImage> {
    use std::os::unix::fs::FileExt;
    let file = File::create(dest).with_context(|| format!("cannot create {}", dest.display()))?;
    let mut tar = TarFile {
        w: BufWriter::with_capacity(1 << 20, file),
        at: 0,
    };
    tar.entry("blobs", &EntryKind::Dir, &[], mtime)?;
    tar.entry("blobs/sha256", &EntryKind::Dir, &[], mtime)?;
    let mut layers = Vec::new();
    for (n, items) in plan.layers.iter().enumerate() {
        let size = layer_size(items)?;
        let header_at = tar.at;
        tar.put(&[0u8; BLOCK as usize])?;
        let mut hw = HashingWriter::new(&mut tar.w);
        write_layer(items, mtime, &mut hw)?;
        let (_, hex, written) = hw.finish();
        if written != size {
            bail!("image layer {n} is {written} bytes, {size} were planned");
        }
        tar.at += size;
        tar.put(&vec![0u8; padding(size)])?;
        let header = header_bytes(
            &format!("blobs/sha256/{hex}"),
            &EntryKind::File {
                size,
                executable: false,
            },
            mtime,
        )?;
        tar.w.flush().context("cannot write the image")?;
        tar.w
            .get_ref()
            .write_all_at(&header, header_at)
            .with_context(|| format!("cannot write {}", dest.display()))?;
        layers.push(Blob {
            hex,
            size,
            media_type: MT_LAYER,
        });
    }
    // A layout holds each blob once; the layers never repeat (root, entrypoint, binary).
    let mut seen: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for b in &layers {
        if !seen.insert(b.hex.clone()) {
            bail!("two layers of the image have the same content");
        }
    }

    let mut config = plan.config.clone();
    config["rootfs"]["diff_ids"] = json!(layers
        .iter()
        .map(|b| format!("sha256:{}", b.hex))
        .collect::<Vec<_>>());
    let (config, config_data) = json_blob(&config, MT_CONFIG)?;
    let (manifest, manifest_data) = json_blob(
        &json!({
            "schemaVersion": 2,
            "mediaType": MT_MANIFEST,
            "config": descriptor(&config),
            "layers": layers.iter().map(descriptor).collect::<Vec<_>>(),
        }),
        MT_MANIFEST,
    )?;
    let digest = format!("sha256:{}", manifest.hex);
    on_digest(&digest);
    let arch = plan.config["architecture"].clone();
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": MT_INDEX,
        "manifests": [{
            "mediaType": MT_MANIFEST,
            "digest": digest,
            "size": manifest.size,
            "platform": { "architecture": arch, "os": "linux" },
            "annotations": {
                "org.opencontainers.image.ref.name": plan.ref_name,
                "io.containerd.image.name": plan.repo_tag,
            },
        }],
    }))?;
    let docker_manifest = serde_json::to_vec(&json!([{
        "Config": format!("blobs/sha256/{}", config.hex),
        "RepoTags": [plan.repo_tag],
        "Layers": layers.iter().map(|b| format!("blobs/sha256/{}", b.hex)).collect::<Vec<_>>(),
    }]))?;
    let mut docs = [(config, config_data), (manifest, manifest_data)];
    docs.sort_by(|a, b| a.0.hex.cmp(&b.0.hex));
    for (blob, data) in &docs {
        if !seen.insert(blob.hex.clone()) {
            bail!("an image document has the content of a layer");
        }
        tar.file(&format!("blobs/sha256/{}", blob.hex), data, mtime)?;
    }
    tar.file("index.json", &index, mtime)?;
    tar.file("manifest.json", &docker_manifest, mtime)?;
    tar.file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#, mtime)?;
    tar.put(&[0u8; 2 * BLOCK as usize])?;
    let file = tar
        .w
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("cannot write {} (disk full?)", dest.display()))?;
    drop(file);
    crate::fsx::set_mode(dest, 0o644)?;
    // The layer headers were written after their data: hash the archive as it now is.
    let (sha256, size) = hash::sha256_file(dest)?;
    Ok(WrittenImage {
        sha256,
        size,
        digest,
    })
}

/// Reads and checks the pinned CA bundle.
pub fn read_ca_bundle(root: &Path) -> Result<Vec<u8>> {
    let path = root.join(CA_BUNDLE);
    let data = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let h = hash::sha256_hex(&data);
    if h != CA_BUNDLE_SHA256 {
        bail!(
            "{} has SHA-256 {h}, not the pinned {CA_BUNDLE_SHA256}: restore it from git, or update the pin as packaging/oci/README.md says",
            path.display()
        );
    }
    Ok(data)
}

/// Checks an image archive: every blob's content matches its name, `index.json` points at
/// the manifest with `digest`, the manifest's config and layers are present with their
/// sizes, the config's diff IDs are the layers' digests (uncompressed layers), and Docker's
/// `manifest.json` names the same config and layers. Streams the big blobs once.
pub fn check_image(path: &Path, digest: &str) -> Result<()> {
    use std::collections::BTreeMap;
    const SMALL: u64 = 1 << 20;
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut ar = tar::Archive::new(io::BufReader::new(file));
    // Every blob's size, and the content of the small ones (the JSON documents).
    let mut blobs: BTreeMap<String, u64> = BTreeMap::new();
    let mut small: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for entry in ar.entries().context("cannot read the tar stream")? {
        let mut entry = entry.context("damaged tar entry")?;
        let name = entry
            .path()
            .context("bad entry path")?
            .to_string_lossy()
            .into_owned();
        let name = name.trim_end_matches('/').to_string();
        if entry.header().entry_type().is_dir() {
            continue;
        }
        let size = entry.header().size().context("bad entry size")?;
        if let Some(hex) = name.strip_prefix("blobs/sha256/") {
            let h = if size <= SMALL {
                let mut data = Vec::new();
                entry
                    .read_to_end(&mut data)
                    .with_context(|| format!("cannot read {name}"))?;
                let h = hash::sha256_hex(&data);
                small.insert(format!("sha256:{hex}"), data);
                h
            } else {
                hash::sha256_reader(&mut entry)
                    .with_context(|| format!("cannot read {name}"))?
                    .0
            };
            if h != hex {
                bail!("{name} holds content with sha256 {h}: a blob must be named by its digest");
            }
            blobs.insert(format!("sha256:{hex}"), size);
        } else if ["index.json", "manifest.json", "oci-layout"].contains(&name.as_str()) {
            if size > SMALL {
                bail!("{name} is {size} bytes: not an image layout file");
            }
            let mut data = Vec::new();
            entry
                .read_to_end(&mut data)
                .with_context(|| format!("cannot read {name}"))?;
            small.insert(name, data);
        } else {
            bail!("unexpected entry {name} in an OCI image archive");
        }
    }
    let doc = |name: &str| -> Result<serde_json::Value> {
        let data = small
            .get(name)
            .with_context(|| format!("{name} is missing"))?;
        serde_json::from_slice(data).with_context(|| format!("{name} is not JSON"))
    };
    let layout = doc("oci-layout")?;
    if layout["imageLayoutVersion"] != "1.0.0" {
        bail!("oci-layout is {layout}, expected imageLayoutVersion 1.0.0");
    }
    let index = doc("index.json")?;
    let manifests = index["manifests"]
        .as_array()
        .context("index.json has no manifests")?;
    if manifests.len() != 1 || manifests[0]["digest"] != digest {
        bail!("index.json does not point at the image manifest {digest} (dist-manifest.json's digest)");
    }
    let described = |d: &serde_json::Value, what: &str| -> Result<String> {
        let dg = d["digest"]
            .as_str()
            .with_context(|| format!("{what} has no digest"))?;
        let size = d["size"]
            .as_u64()
            .with_context(|| format!("{what} has no size"))?;
        match blobs.get(dg) {
            Some(&n) if n == size => Ok(dg.to_string()),
            Some(&n) => bail!("{what} says {dg} is {size} bytes, the blob is {n}"),
            None => bail!("{what} names {dg}, which is not in the archive"),
        }
    };
    described(&manifests[0], "index.json")?;
    let manifest = doc(digest)?;
    let config_digest = described(&manifest["config"], "the image manifest's config")?;
    let layers: Vec<String> = manifest["layers"]
        .as_array()
        .context("the image manifest has no layers")?
        .iter()
        .enumerate()
        .map(|(n, l)| described(l, &format!("layer {n}")))
        .collect::<Result<_>>()?;
    let config = doc(&config_digest)?;
    let diff_ids: Vec<&str> = config["rootfs"]["diff_ids"]
        .as_array()
        .context("the image config has no diff_ids")?
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    if diff_ids != layers {
        bail!("the image config's diff_ids are not the layers' digests (layers are uncompressed)");
    }
    let docker = doc("manifest.json")?;
    let blob_path = |d: &str| format!("blobs/sha256/{}", d.trim_start_matches("sha256:"));
    let expected_layers: Vec<String> = layers.iter().map(|d| blob_path(d)).collect();
    if docker[0]["Config"] != blob_path(&config_digest)
        || docker[0]["Layers"] != serde_json::json!(expected_layers)
    {
        bail!("Docker's manifest.json does not name the image's config and layers");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_600_000_000), "2020-09-13T12:26:40Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    fn inputs<'a>(cfg: &'a Config, bin: &'a Path) -> ImageInputs<'a> {
        ImageInputs {
            cfg,
            git_revision: "abc",
            source_date: 1_600_000_000,
            arch: "amd64",
            binary: bin,
            binary_size: 5,
            entrypoint: bin,
            entrypoint_size: 5,
            ca_bundle: b"CERTS".to_vec(),
            php_ini: Some(b"memory_limit = 512M\n".to_vec()),
        }
    }

    #[test]
    fn plan_is_a_minimal_non_root_image() {
        let cfg = Config::default();
        let p = plan(&inputs(&cfg, Path::new("/bin/x")));
        let c = &p.config["config"];
        assert_eq!(
            c["User"],
            format!("{}:{}", cfg.runtime.uid, cfg.runtime.gid)
        );
        assert_eq!(c["Entrypoint"], json!(["/app/entrypoint"]));
        assert_eq!(
            c["Healthcheck"]["Test"],
            json!(["CMD", "/app/entrypoint", "healthcheck"])
        );
        assert_eq!(p.config["created"], "2020-09-13T12:26:40Z");
        assert!(c["Env"]
            .as_array()
            .unwrap()
            .contains(&json!("PHP_INI_SCAN_DIR=:/app/php")));
        let root = &p.layers[0];
        let tmp = root.iter().find(|i| i.path() == "tmp").unwrap();
        assert_eq!(
            tmp,
            &Item::Dir {
                path: "tmp".into(),
                mode: 0o1777
            }
        );
        let passwd = root.iter().find(|i| i.path() == "etc/passwd").unwrap();
        let Item::Bytes { data, .. } = passwd else {
            panic!()
        };
        let line = format!(
            "{}:x:{}:{}:",
            cfg.runtime.user, cfg.runtime.uid, cfg.runtime.gid
        );
        assert!(String::from_utf8_lossy(data).contains(&line));
        // Items of a layer are in bytewise path order, and nothing is a shell.
        let paths: Vec<&str> = root.iter().map(Item::path).collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);
        assert!(
            !paths
                .iter()
                .any(|p| p.starts_with("bin") || p.contains("sh")),
            "{paths:?}"
        );
    }

    #[test]
    fn layer_stream_size_and_modes() {
        let t = tempfile::tempdir().unwrap();
        let bin = t.path().join("b");
        std::fs::write(&bin, b"hello").unwrap();
        let cfg = Config::default();
        let p = plan(&inputs(&cfg, &bin));
        for items in &p.layers {
            let mut v = Vec::new();
            write_layer(items, 7, &mut v).unwrap();
            assert_eq!(v.len() as u64, layer_size(items).unwrap());
            let mut ar = tar::Archive::new(&v[..]);
            for e in ar.entries().unwrap() {
                let e = e.unwrap();
                let h = e.header();
                assert_eq!(
                    (h.uid().unwrap(), h.gid().unwrap(), h.mtime().unwrap()),
                    (0, 0, 7)
                );
                if e.path().unwrap().to_str() == Some("tmp/") {
                    assert_eq!(h.mode().unwrap(), 0o1777);
                }
            }
        }
    }

    #[test]
    fn written_image_is_a_consistent_layout_and_reproducible() {
        let t = tempfile::tempdir().unwrap();
        let bin = t.path().join("b");
        std::fs::write(&bin, b"hello").unwrap();
        let cfg = Config::default();
        let p = plan(&inputs(&cfg, &bin));
        let mut told = None;
        let a = write_image(&p, 7, &t.path().join("a.tar"), |d| {
            told = Some(d.to_string())
        })
        .unwrap();
        assert_eq!(
            told.as_deref(),
            Some(a.digest.as_str()),
            "the digest is handed out"
        );
        let b = write_image(&p, 7, &t.path().join("b.tar"), |_| {}).unwrap();
        assert_eq!(a, b);
        let (sha, size) = hash::sha256_file(&t.path().join("a.tar")).unwrap();
        assert_eq!((sha, size), (a.sha256.clone(), a.size));
        let mut ar = tar::Archive::new(File::open(t.path().join("a.tar")).unwrap());
        let mut names = Vec::new();
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            if let Some(hex) = name.strip_prefix("blobs/sha256/") {
                if !hex.is_empty() {
                    let (h, _) = hash::sha256_reader(&mut e).unwrap();
                    assert_eq!(h, hex, "blob named by its digest");
                }
            }
            names.push(name);
        }
        // The folders, the layers in layer order (each with its header in place), the
        // config and manifest by digest, then the layout files.
        let blobs: Vec<&str> = names
            .iter()
            .filter_map(|n| n.strip_prefix("blobs/sha256/"))
            .filter(|h| !h.is_empty())
            .collect();
        let layer_count = p.layers.len();
        assert_eq!(blobs.len(), layer_count + 2, "{names:?}");
        let mut docs = blobs[layer_count..].to_vec();
        docs.sort();
        assert_eq!(blobs[layer_count..], docs[..]);
        assert_eq!(&names[..2], ["blobs/", "blobs/sha256/"]);
        assert!(names.contains(&format!(
            "blobs/sha256/{}",
            a.digest.trim_start_matches("sha256:")
        )));
        assert_eq!(
            &names[names.len() - 3..],
            ["index.json", "manifest.json", "oci-layout"]
        );
        check_image(&t.path().join("a.tar"), &a.digest).unwrap();
        let e = format!(
            "{:#}",
            check_image(&t.path().join("a.tar"), "sha256:00").unwrap_err()
        );
        assert!(e.contains("does not point at the image manifest"), "{e}");
        // A flipped byte inside a layer is caught by its digest.
        let mut bytes = std::fs::read(t.path().join("a.tar")).unwrap();
        let at = bytes.windows(5).position(|w| w == b"hello").unwrap();
        bytes[at] = b'j';
        std::fs::write(t.path().join("bad.tar"), &bytes).unwrap();
        let e = format!(
            "{:#}",
            check_image(&t.path().join("bad.tar"), &a.digest).unwrap_err()
        );
        assert!(e.contains("must be named by its digest"), "{e}");
    }
}
