//! Checks of a Kubernetes package (a Kustomize base: `kustomization.yaml` and one object per
//! `*.yaml` file beside it), read as written, before Kustomize renders it:
//!
//! - `k8s-parse`: a file that is not one YAML mapping with `kind` (one object per file keeps
//!   every finding at a `file:line`), or an object name Kubernetes refuses;
//! - `k8s-image-unpinned`: a container image that is `:latest`, tag-only or has no tag and no
//!   digest after the kustomization's `images:` apply; the documented all-zero placeholder
//!   digest ([`PLACEHOLDER_DIGEST`]) is an error in a release (a package of a `built` binary)
//!   and a warning in test and demo packages;
//! - `k8s-no-probes`: a serving container (one with `ports`) of a long-running workload without
//!   a readiness and a liveness probe;
//! - `k8s-no-resources`: a container without CPU and memory requests and limits;
//! - `k8s-root`: a pod that may run as root (`runAsNonRoot` not true, `runAsUser: 0`), a
//!   privileged container, privilege escalation allowed, capabilities not dropped;
//! - `k8s-secret-in-configmap`: a ConfigMap (or `configMapGenerator`) holding a secret-named
//!   key or reading an env file: secrets go in a Secret (`secretGenerator`);
//! - `k8s-host-path`: `hostPath` volumes and the host's network, PID or IPC namespaces.
//!
//! [`set_image_digest`] fills the real digest into the kustomization when the release's OCI
//! image exists.

use anyhow::{bail, Result};

use super::{
    secrets::is_secret_key,
    yaml::{self, Node},
    AuditFinding, Package,
};
use crate::{
    manifest::{self, BuildManifest, BUILD_MANIFEST},
    target::Target,
};

pub const PARSE: &str = "k8s-parse";
pub const IMAGE_UNPINNED: &str = "k8s-image-unpinned";
pub const NO_PROBES: &str = "k8s-no-probes";
pub const NO_RESOURCES: &str = "k8s-no-resources";
pub const ROOT: &str = "k8s-root";
pub const SECRET_IN_CONFIGMAP: &str = "k8s-secret-in-configmap";
pub const HOST_PATH: &str = "k8s-host-path";

/// The kustomization file of the package.
pub const KUSTOMIZATION: &str = "kustomization.yaml";
/// The digest a package carries until the release's image exists; never valid in a release.
pub const PLACEHOLDER_DIGEST: &str =
    "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// Workload kinds and the path from the object to its pod spec.
const POD_SPEC_PATHS: &[(&str, &[&str])] = &[
    ("Deployment", &["spec", "template", "spec"]),
    ("StatefulSet", &["spec", "template", "spec"]),
    ("DaemonSet", &["spec", "template", "spec"]),
    ("ReplicaSet", &["spec", "template", "spec"]),
    ("Job", &["spec", "template", "spec"]),
    (
        "CronJob",
        &["spec", "jobTemplate", "spec", "template", "spec"],
    ),
    ("Pod", &["spec"]),
];
/// Kinds whose pods run until stopped: their serving containers need probes.
const LONG_RUNNING: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Pod",
];

/// True for a `sha256:` followed by 64 lowercase hex digits.
pub fn is_digest(d: &str) -> bool {
    d.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// Replaces the placeholder digest of the kustomization's `images:` entry with `digest`
/// (`sha256:<64 hex>`, the release image's manifest digest). Refuses a kustomization without
/// exactly one placeholder, so a changed file never silently keeps it.
// Called by `dist` once it builds the release's OCI image (the image and its digest are the
// coordinator's part of issue 16); tested here.
#[allow(dead_code)]
pub fn set_image_digest(kustomization: &str, digest: &str) -> Result<String> {
    if !is_digest(digest) || digest == PLACEHOLDER_DIGEST {
        bail!("{digest:?} is not an image digest: expected sha256: and 64 lowercase hex digits (the OCI image's manifest digest)");
    }
    let wanted = format!("digest: {PLACEHOLDER_DIGEST}");
    let hits = kustomization.lines().filter(|l| l.trim() == wanted).count();
    if hits != 1 {
        bail!("{KUSTOMIZATION} has {hits} `{wanted}` lines, expected exactly one (targets/kubernetes/{KUSTOMIZATION}, images: entry)");
    }
    Ok(kustomization.replacen(PLACEHOLDER_DIGEST, &digest.to_ascii_lowercase(), 1))
}

/// How the placeholder digest is judged: an error in a package of a `built` binary (a
/// release), a warning for the stand-in and for `--binary` test runs.
fn placeholder_is_error(pkg: &Package) -> bool {
    pkg.text(BUILD_MANIFEST)
        .and_then(|t| manifest::parse::<BuildManifest>(t.as_bytes(), BUILD_MANIFEST).ok())
        .is_none_or(|m| m.binary.binary_source == "built")
}

/// One object file, parsed.
struct Object<'a> {
    rel: &'a str,
    kind: String,
    name: String,
    doc: Node,
}

pub fn check(pkg: &Package) -> Vec<AuditFinding> {
    let mut out = Vec::new();
    let is_k8s = pkg.target == Some(Target::Kubernetes)
        || (pkg.target.is_none() && pkg.is_file(KUSTOMIZATION));
    if !is_k8s {
        return out;
    }
    let Some(kust) = pkg
        .text(KUSTOMIZATION)
        .and_then(|t| parse(KUSTOMIZATION, t, &mut out))
    else {
        return out;
    };
    let images = kustomize_images(&kust, pkg, &mut out);
    config_map_generators(&kust, &mut out);

    let mut objects = Vec::new();
    for res in kust.get("resources").map(Node::items).unwrap_or(&[]) {
        let Some(rel) = res.as_str() else { continue };
        let Some(text) = pkg.text(rel) else {
            out.push(AuditFinding::error(
                PARSE,
                KUSTOMIZATION,
                Some(res.line),
                format!("resource {rel} is not a file of the package"),
                "list only the package's own object files under resources:",
            ));
            continue;
        };
        if text.lines().skip(1).any(|l| l.trim_end() == "---") {
            out.push(AuditFinding::error(
                PARSE,
                rel,
                None,
                "more than one object in the file",
                "put each object in its own file and list it under resources:",
            ));
        }
        let Some(doc) = parse(rel, text, &mut out) else {
            continue;
        };
        let field = |k: &str| doc.get(k).and_then(Node::as_str).unwrap_or("").to_string();
        let kind = field("kind");
        let name = doc
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_string();
        if kind.is_empty() {
            out.push(AuditFinding::error(
                PARSE,
                rel,
                Some(doc.line),
                "not a Kubernetes object: no kind",
                "give it apiVersion, kind and metadata.name",
            ));
            continue;
        }
        if let Some(why) = name_problem(&kind, &name) {
            out.push(AuditFinding::error(
                PARSE,
                rel,
                Some(doc.line),
                format!("{kind} name {name:?} {why}"),
                "use lowercase letters, digits, '-' and '.' (a release version with upper-case letters cannot name a Job)",
            ));
        }
        objects.push(Object {
            rel,
            kind,
            name,
            doc,
        });
    }
    for o in &objects {
        if o.kind == "ConfigMap" {
            config_map(o, &mut out);
        }
        if let Some((_, path)) = POD_SPEC_PATHS.iter().find(|(k, _)| *k == o.kind) {
            let mut spec = Some(&o.doc);
            for p in *path {
                spec = spec.and_then(|n| n.get(p));
            }
            match spec {
                Some(spec) => pod_spec(o, spec, &images, &mut out),
                None => out.push(AuditFinding::error(
                    PARSE,
                    o.rel,
                    Some(o.doc.line),
                    format!(
                        "{} {} has no pod spec at {}",
                        o.kind,
                        o.name,
                        path.join(".")
                    ),
                    "write the pod template where Kubernetes expects it",
                )),
            }
        }
    }
    out
}

/// Why `name` cannot name a `kind` object (RFC 1123 subdomain; a Job's name is also a label
/// value, at most 63 characters, and a CronJob adds 11 characters to its Jobs' names).
fn name_problem(kind: &str, name: &str) -> Option<&'static str> {
    let max = match kind {
        "Job" => 63,
        "CronJob" => 52,
        _ => 253,
    };
    let b = name.as_bytes();
    let ok_char = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'.';
    let alnum = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if name.is_empty() {
        Some("is empty")
    } else if name.len() > max {
        Some("is too long")
    } else if !b.iter().all(ok_char) || !alnum(b.first()) || !alnum(b.last()) {
        Some("is not a valid Kubernetes name")
    } else {
        None
    }
}

fn parse(rel: &str, text: &str, out: &mut Vec<AuditFinding>) -> Option<Node> {
    match yaml::parse(text) {
        Ok(Some(doc)) if matches!(doc.value, yaml::Value::Map(_)) => Some(doc),
        Ok(_) => {
            out.push(AuditFinding::error(
                PARSE,
                rel,
                None,
                "not a YAML mapping",
                "write one Kubernetes object (or the kustomization) as a mapping",
            ));
            None
        }
        Err(e) => {
            out.push(AuditFinding::error(
                PARSE,
                rel,
                Some(e.line),
                format!("not valid YAML: {}", e.message),
                "fix the syntax (kubectl kustomize shows the same error)",
            ));
            None
        }
    }
}

/// An `images:` entry: the image name it matches and whether it sets a digest.
struct ImageOverride {
    name: String,
    digest: bool,
}

/// The kustomization's `images:`; entries that pin no digest, or a malformed one, are
/// findings themselves.
fn kustomize_images(kust: &Node, pkg: &Package, out: &mut Vec<AuditFinding>) -> Vec<ImageOverride> {
    let mut v = Vec::new();
    for item in kust.get("images").map(Node::items).unwrap_or(&[]) {
        let s = |k: &str| item.get(k).and_then(Node::as_str);
        let Some(name) = s("name") else { continue };
        let line = Some(item.line);
        let digest = match s("digest") {
            None => {
                out.push(AuditFinding::error(
                    IMAGE_UNPINNED,
                    KUSTOMIZATION,
                    line,
                    format!("images: {name} sets no digest (a tag can be moved to other contents)"),
                    "pin the release image by digest: digest: sha256:<manifest digest of the OCI image>",
                ));
                false
            }
            Some(d) if d == PLACEHOLDER_DIGEST => {
                let message = format!("images: {name} still has the placeholder digest");
                let fix = "set the digest of the release's OCI image (cargo xtask dist does it when the image is built; by hand: docker inspect --format '{{index .RepoDigests 0}}' after pushing it)";
                out.push(if placeholder_is_error(pkg) {
                    AuditFinding::error(IMAGE_UNPINNED, KUSTOMIZATION, line, message, fix)
                } else {
                    AuditFinding::warning(IMAGE_UNPINNED, KUSTOMIZATION, line, message, fix)
                });
                true
            }
            Some(d) if !is_digest(d) => {
                out.push(AuditFinding::error(
                    IMAGE_UNPINNED,
                    KUSTOMIZATION,
                    line,
                    format!("images: {name} has the malformed digest {d:?}"),
                    "write sha256: and the 64 lowercase hex digits of the image's manifest digest",
                ));
                true
            }
            Some(_) => true,
        };
        v.push(ImageOverride {
            name: name.to_string(),
            digest,
        });
    }
    v
}

/// Splits `repo[:tag][@digest]` (a registry port is not a tag).
fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[last_slash..].rfind(':') {
        Some(i) => (
            &rest[..last_slash + i],
            Some(&rest[last_slash + i + 1..]),
            digest,
        ),
        None => (rest, None, digest),
    }
}

fn pod_spec(o: &Object, spec: &Node, images: &[ImageOverride], out: &mut Vec<AuditFinding>) {
    let what = format!("{} {}", o.kind, o.name);
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        if let Some((k, v)) = spec.entry(key) {
            if v.is_true() {
                out.push(AuditFinding::error(
                    HOST_PATH,
                    o.rel,
                    Some(k.line),
                    format!("{what} shares the host's {key} namespace"),
                    format!("remove {key}: the application needs none of the node's namespaces"),
                ));
            }
        }
    }
    for vol in spec.get("volumes").map(Node::items).unwrap_or(&[]) {
        if let Some((k, _)) = vol.entry("hostPath") {
            out.push(AuditFinding::error(
                HOST_PATH,
                o.rel,
                Some(k.line),
                format!("{what} mounts a host path (volume {})", vol.get("name").and_then(Node::as_str).unwrap_or("?")),
                "use an emptyDir (scratch) or a PersistentVolumeClaim; host paths tie pods to one node and expose it",
            ));
        }
    }
    let pod_sc = spec.get("securityContext");
    let pod_non_root = pod_sc
        .and_then(|s| s.get("runAsNonRoot"))
        .is_some_and(Node::is_true);
    let run_as_root = |sc: Option<&Node>, whose: &str, out: &mut Vec<AuditFinding>| {
        if let Some((k, v)) = sc.and_then(|s| s.entry("runAsUser")) {
            if v.as_str() == Some("0") {
                out.push(AuditFinding::error(
                    ROOT,
                    o.rel,
                    Some(k.line),
                    format!("{whose} runs as root (runAsUser: 0)"),
                    "run as the image's unprivileged user (uid 1000)",
                ));
            }
        }
    };
    run_as_root(pod_sc, &what, out);
    for list in ["initContainers", "containers"] {
        for c in spec.get(list).map(Node::items).unwrap_or(&[]) {
            let cname = c.get("name").and_then(Node::as_str).unwrap_or("?");
            let who = format!("container {cname} of {what}");
            let line = Some(c.line);
            image(o, c, &who, images, out);
            if list == "containers"
                && LONG_RUNNING.contains(&o.kind.as_str())
                && !c.get("ports").map(Node::items).unwrap_or(&[]).is_empty()
            {
                for probe in ["readinessProbe", "livenessProbe"] {
                    if c.get(probe).is_none() {
                        out.push(AuditFinding::error(
                            NO_PROBES,
                            o.rel,
                            line,
                            format!("{who} serves a port but has no {probe}"),
                            "readiness: httpGet /home/healthcheck; liveness: tcpSocket on the port (it must not fail when only the database is down)",
                        ));
                    }
                }
            }
            let res = c.get("resources");
            for (section, key) in [
                ("requests", "cpu"),
                ("requests", "memory"),
                ("limits", "cpu"),
                ("limits", "memory"),
            ] {
                if res
                    .and_then(|r| r.get(section))
                    .and_then(|s| s.get(key))
                    .is_none()
                {
                    out.push(AuditFinding::error(
                        NO_RESOURCES,
                        o.rel,
                        line,
                        format!("{who} sets no resources.{section}.{key}"),
                        "set CPU and memory requests and limits (the compose limits: web 0.5/512Mi requested, 2/2Gi limit)",
                    ));
                }
            }
            let sc = c.get("securityContext");
            run_as_root(sc, &who, out);
            let container_non_root = sc.and_then(|s| s.get("runAsNonRoot"));
            let non_root = match container_non_root {
                Some(v) => v.is_true(),
                None => pod_non_root,
            };
            if !non_root {
                out.push(AuditFinding::error(
                    ROOT,
                    o.rel,
                    line,
                    format!("{who} may run as root: runAsNonRoot is not true"),
                    "set securityContext.runAsNonRoot: true and runAsUser: 1000 in the pod spec",
                ));
            }
            let flag = |k: &str| sc.and_then(|s| s.get(k));
            if flag("privileged").is_some_and(Node::is_true) {
                out.push(AuditFinding::error(
                    ROOT,
                    o.rel,
                    line,
                    format!("{who} is privileged"),
                    "remove privileged: true",
                ));
            }
            if flag("allowPrivilegeEscalation").and_then(Node::as_str) != Some("false") {
                out.push(AuditFinding::error(
                    ROOT,
                    o.rel,
                    line,
                    format!("{who} does not set allowPrivilegeEscalation: false"),
                    "set securityContext.allowPrivilegeEscalation: false",
                ));
            }
            let drops_all = flag("capabilities")
                .and_then(|c| c.get("drop"))
                .is_some_and(|d| d.items().iter().any(|i| i.as_str() == Some("ALL")));
            if !drops_all {
                out.push(AuditFinding::error(
                    ROOT,
                    o.rel,
                    line,
                    format!("{who} keeps the default capabilities"),
                    "set securityContext.capabilities.drop: [\"ALL\"]",
                ));
            }
        }
    }
}

fn image(o: &Object, c: &Node, who: &str, images: &[ImageOverride], out: &mut Vec<AuditFinding>) {
    let Some(node) = c.get("image") else {
        out.push(AuditFinding::error(
            IMAGE_UNPINNED,
            o.rel,
            Some(c.line),
            format!("{who} names no image"),
            "set image: to the release image's name (the kustomization pins its digest)",
        ));
        return;
    };
    let Some(img) = node.as_str() else { return };
    let (repo, tag, digest) = split_image(img);
    let line = Some(node.line);
    if tag == Some("latest") {
        out.push(AuditFinding::error(
            IMAGE_UNPINNED,
            o.rel,
            line,
            format!("{who} uses {img}: :latest changes under a running release"),
            "name the image without a tag and pin its digest in the kustomization's images:",
        ));
        return;
    }
    let pinned_here = digest.is_some_and(is_digest);
    let pinned_by_kustomization = images.iter().any(|i| i.name == repo && i.digest);
    if !pinned_here && !pinned_by_kustomization {
        out.push(AuditFinding::error(
            IMAGE_UNPINNED,
            o.rel,
            line,
            format!(
                "{who} uses {img}, {} and no digest",
                if tag.is_some() { "a tag" } else { "no tag" }
            ),
            format!("add an images: entry for {repo} with digest: sha256:... to {KUSTOMIZATION}"),
        ));
    }
}

/// ConfigMaps carry settings, never secrets.
fn config_map(o: &Object, out: &mut Vec<AuditFinding>) {
    for section in ["data", "binaryData"] {
        for (k, _) in o.doc.get(section).map(Node::entries).unwrap_or(&[]) {
            let Some(key) = k.as_str() else { continue };
            if is_secret_key(key) {
                out.push(AuditFinding::error(
                    SECRET_IN_CONFIGMAP,
                    o.rel,
                    Some(k.line),
                    format!("ConfigMap {} holds {key}, a secret", o.name),
                    "move it to a Secret (the package's secretGenerator reads .env)",
                ));
            }
        }
    }
}

/// A `configMapGenerator` must not read the `.env` (it holds the passwords) nor literal
/// secrets.
fn config_map_generators(kust: &Node, out: &mut Vec<AuditFinding>) {
    for g in kust
        .get("configMapGenerator")
        .map(Node::items)
        .unwrap_or(&[])
    {
        let name = g.get("name").and_then(Node::as_str).unwrap_or("?");
        for key in ["env", "envs"] {
            if let Some((k, _)) = g.entry(key) {
                out.push(AuditFinding::error(
                    SECRET_IN_CONFIGMAP,
                    KUSTOMIZATION,
                    Some(k.line),
                    format!("configMapGenerator {name} reads an env file into a ConfigMap (the .env holds passwords)"),
                    "read env files with secretGenerator instead",
                ));
            }
        }
        for lit in g.get("literals").map(Node::items).unwrap_or(&[]) {
            let Some(key) = lit.as_str().and_then(|l| l.split_once('=')).map(|(k, _)| k) else {
                continue;
            };
            if is_secret_key(key) {
                out.push(AuditFinding::error(
                    SECRET_IN_CONFIGMAP,
                    KUSTOMIZATION,
                    Some(lit.line),
                    format!("configMapGenerator {name} holds {key}, a secret"),
                    "put it in .env (read by the secretGenerator)",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        audit::FileKind,
        config::{render, Config},
    };

    /// The shipped base, rendered as `package` renders it, with a build manifest whose
    /// binary came from `source`.
    fn shipped(source: &str) -> Vec<(String, String)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../targets/kubernetes");
        let cfg = Config::default();
        let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .map(|p| {
                let text = std::fs::read_to_string(&p).unwrap();
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    render(&text, &cfg.placeholders()).unwrap(),
                )
            })
            .collect();
        files.push((
            BUILD_MANIFEST.into(),
            format!(
                r#"{{"app":"orangescrum","version":"v1.0.0","target":"kubernetes","git_revision":"x","frankenphp_version":"1","php_version":"8.3","php_extensions":[],"binary":{{"sha256":"00","size":1,"arch":"x86_64","binary_source":"{source}"}}}}"#
            ),
        ));
        files
    }

    fn audit(files: &[(String, String)]) -> Vec<AuditFinding> {
        let texts: Vec<(&str, u32, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), 0o644, t.as_str()))
            .collect();
        check(&Package::from_texts(Some(Target::Kubernetes), &texts))
    }

    /// The shipped base with `from` replaced by `to` in `file` (which must contain it).
    fn planted(file: &str, from: &str, to: &str) -> Vec<AuditFinding> {
        let mut files = shipped("sample");
        let f = files.iter_mut().find(|(p, _)| p == file).unwrap();
        assert!(f.1.contains(from), "{file} has no {from:?}");
        f.1 = f.1.replacen(from, to, 1);
        audit(&files)
    }

    fn errors(f: &[AuditFinding], check: &str) -> Vec<String> {
        f.iter()
            .filter(|f| f.check == check && f.severity == super::super::Severity::Error)
            .map(|f| format!("{}: {}", f.location(), f.message))
            .collect()
    }

    #[test]
    fn shipped_base_passes_with_only_the_placeholder_warning() {
        let f = audit(&shipped("sample"));
        let shown: Vec<String> = f.iter().map(|f| f.to_string()).collect();
        assert_eq!(f.len(), 1, "{shown:#?}");
        assert_eq!(f[0].check, IMAGE_UNPINNED);
        assert_eq!(f[0].severity, super::super::Severity::Warning);
        assert_eq!(f[0].file, KUSTOMIZATION);
    }

    #[test]
    fn placeholder_digest_is_an_error_in_a_release_and_a_filled_one_passes() {
        let f = audit(&shipped("built"));
        assert_eq!(errors(&f, IMAGE_UNPINNED).len(), 1, "{f:#?}");
        let mut files = shipped("built");
        let k = files.iter_mut().find(|(p, _)| p == KUSTOMIZATION).unwrap();
        k.1 = set_image_digest(&k.1, &format!("sha256:{}", "ab".repeat(32))).unwrap();
        assert!(audit(&files).is_empty(), "{:#?}", audit(&files));
    }

    #[test]
    fn set_image_digest_replaces_exactly_the_placeholder() {
        let k = "images:\n  - name: a\n    digest: sha256:0000000000000000000000000000000000000000000000000000000000000000\n";
        let d = format!("sha256:{}", "0f".repeat(32));
        assert_eq!(
            set_image_digest(k, &d).unwrap(),
            k.replace(PLACEHOLDER_DIGEST, &d)
        );
        for bad in [
            "sha256:abc",
            "md5:00",
            PLACEHOLDER_DIGEST,
            &format!("sha256:{}", "AB".repeat(32)),
        ] {
            assert!(set_image_digest(k, bad).is_err(), "{bad}");
        }
        let e = format!("{:#}", set_image_digest("images: []\n", &d).unwrap_err());
        assert!(
            e.contains("0 `digest:") && e.contains("targets/kubernetes"),
            "{e}"
        );
        let twice = format!("{k}{k}");
        assert!(set_image_digest(&twice, &d).is_err());
    }

    #[test]
    fn latest_and_tag_only_images_are_refused() {
        let f = planted(
            "worker-deployment.yaml",
            "image: orangescrum\n",
            "image: orangescrum:latest\n",
        );
        assert_eq!(errors(&f, IMAGE_UNPINNED).len(), 1, "{f:#?}");
        assert!(errors(&f, IMAGE_UNPINNED)[0].contains(":latest"));
        let f = planted(
            "worker-deployment.yaml",
            "image: orangescrum\n",
            "image: redis:7.2\n",
        );
        assert_eq!(errors(&f, IMAGE_UNPINNED), [format!("worker-deployment.yaml:{}: container worker of Deployment orangescrum-worker uses redis:7.2, a tag and no digest", line_of(&shipped("sample"), "worker-deployment.yaml", "image: orangescrum"))]);
        let pinned = format!("image: redis@sha256:{}\n", "1".repeat(64));
        assert!(errors(
            &planted("worker-deployment.yaml", "image: orangescrum\n", &pinned),
            IMAGE_UNPINNED
        )
        .is_empty());
        let f = planted(
            KUSTOMIZATION,
            &format!("digest: {PLACEHOLDER_DIGEST}"),
            "newTag: v1.0.0",
        );
        assert!(
            errors(&f, IMAGE_UNPINNED)
                .iter()
                .any(|e| e.contains("sets no digest")),
            "{f:#?}"
        );
        assert_eq!(
            split_image("reg:5000/a/b:1.2@sha256:x"),
            ("reg:5000/a/b", Some("1.2"), Some("sha256:x"))
        );
        assert_eq!(split_image("reg:5000/a"), ("reg:5000/a", None, None));
    }

    #[test]
    fn missing_probes_and_resources_are_caught() {
        let f = planted("web-deployment.yaml", "livenessProbe:", "livenessProbeX:");
        assert_eq!(errors(&f, NO_PROBES).len(), 1, "{f:#?}");
        assert!(errors(&f, NO_PROBES)[0].contains("livenessProbe"));
        let f = planted("worker-deployment.yaml", "              memory: 1Gi\n", "");
        assert_eq!(
            errors(&f, NO_RESOURCES),
            [format!("worker-deployment.yaml:{}: container worker of Deployment orangescrum-worker sets no resources.limits.memory", line_of(&shipped("sample"), "worker-deployment.yaml", "- name: worker"))]
        );
        let f = planted("recurring-cronjob.yaml", "requests:", "requestz:");
        assert_eq!(errors(&f, NO_RESOURCES).len(), 2, "{f:#?}");
    }

    #[test]
    fn root_and_privileges_are_caught() {
        let f = planted(
            "migrate-job.yaml",
            "runAsNonRoot: true",
            "runAsNonRoot: false",
        );
        assert_eq!(errors(&f, ROOT).len(), 1, "{f:#?}");
        let f = planted("web-deployment.yaml", "runAsUser: 1000", "runAsUser: 0");
        assert!(errors(&f, ROOT)[0].contains("runAsUser: 0"), "{f:#?}");
        let f = planted(
            "web-deployment.yaml",
            "privileged: false",
            "privileged: true",
        );
        assert!(errors(&f, ROOT)[0].contains("is privileged"), "{f:#?}");
        let f = planted(
            "web-deployment.yaml",
            "allowPrivilegeEscalation: false",
            "allowPrivilegeEscalation: true",
        );
        assert!(
            errors(&f, ROOT)[0].contains("allowPrivilegeEscalation"),
            "{f:#?}"
        );
        let f = planted(
            "web-deployment.yaml",
            "drop: [\"ALL\"]",
            "drop: [\"NET_RAW\"]",
        );
        assert!(errors(&f, ROOT)[0].contains("capabilities"), "{f:#?}");
    }

    #[test]
    fn secrets_in_config_maps_and_host_paths_are_caught() {
        let mut files = shipped("sample");
        files.push((
            "settings.yaml".into(),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\ndata:\n  DEBUG: \"false\"\n  DB_PASSWORD: x\n".into(),
        ));
        let k = files.iter_mut().find(|(p, _)| p == KUSTOMIZATION).unwrap();
        k.1 = k.1.replace("resources:\n", "resources:\n  - settings.yaml\n")
            + "configMapGenerator:\n  - name: c\n    envs: [.env]\n    literals:\n      - SMTP_PASSWORD=x\n      - TZ=UTC\n";
        let f = audit(&files);
        assert_eq!(
            errors(&f, SECRET_IN_CONFIGMAP),
            [
                &format!("{KUSTOMIZATION}:{}: configMapGenerator c reads an env file into a ConfigMap (the .env holds passwords)", line_of(&files, KUSTOMIZATION, "envs: [.env]")),
                &format!("{KUSTOMIZATION}:{}: configMapGenerator c holds SMTP_PASSWORD, a secret", line_of(&files, KUSTOMIZATION, "- SMTP_PASSWORD=x")),
                "settings.yaml:7: ConfigMap s holds DB_PASSWORD, a secret",
            ],
            "{f:#?}"
        );
        let f = planted(
            "web-deployment.yaml",
            "        - name: tmp\n          emptyDir:\n            sizeLimit: 1Gi\n",
            "        - name: tmp\n          hostPath:\n            path: /tmp\n",
        );
        assert_eq!(errors(&f, HOST_PATH).len(), 1, "{f:#?}");
        let f = planted(
            "web-deployment.yaml",
            "      automountServiceAccountToken: false\n",
            "      hostNetwork: true\n",
        );
        assert!(errors(&f, HOST_PATH)[0].contains("hostNetwork"), "{f:#?}");
    }

    /// 1-based line of the first line of `file` that reads `needle` (trimmed).
    fn line_of(files: &[(String, String)], file: &str, needle: &str) -> usize {
        let k = &files.iter().find(|(p, _)| p == file).unwrap().1;
        k.lines().position(|l| l.trim() == needle).unwrap() + 1
    }

    /// CPU in millicores from Kubernetes (`500m`, `2`) or Compose (`"0.5"`, `2`) notation.
    fn millicores(v: &str) -> u64 {
        match v.strip_suffix('m') {
            Some(m) => m.parse().unwrap(),
            None => (v.parse::<f64>().unwrap() * 1000.0).round() as u64,
        }
    }

    /// Bytes from Kubernetes (`512Mi`, `2Gi`) or Docker (`512M`, `2G`: binary units) notation.
    fn bytes(v: &str) -> u64 {
        let v = v.trim_end_matches('i');
        let (n, unit) = v.split_at(v.len() - 1);
        n.parse::<u64>().unwrap()
            * match unit {
                "M" => 1 << 20,
                "G" => 1 << 30,
                other => panic!("unit {other} in {v}"),
            }
    }

    #[test]
    fn web_resources_match_the_compose_limits() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let compose =
            std::fs::read_to_string(root.join("targets/docker/docker-compose.yaml")).unwrap();
        let compose = render(&compose, &Config::default().placeholders()).unwrap();
        let compose = yaml::parse(&compose).unwrap().unwrap();
        let app = compose
            .get("services")
            .and_then(|s| s.get("orangescrum-app"))
            .expect("services.orangescrum-app in the compose file");
        let res = app
            .get("deploy")
            .and_then(|d| d.get("resources"))
            .expect("services.orangescrum-app.deploy.resources in the compose file");
        let files = shipped("sample");
        let web = &files
            .iter()
            .find(|(p, _)| p == "web-deployment.yaml")
            .unwrap()
            .1;
        let web = yaml::parse(web).unwrap().unwrap();
        let c = &web
            .get("spec")
            .and_then(|s| s.get("template"))
            .and_then(|s| s.get("spec"))
            .and_then(|s| s.get("containers"))
            .unwrap()
            .items()[0];
        let k = c.get("resources").unwrap();
        let get = |n: &Node, a: &str, b: &str| {
            n.get(a)
                .and_then(|x| x.get(b))
                .and_then(Node::as_str)
                .unwrap()
                .to_string()
        };
        // The compose CPU limit is a CFS quota (cpu_quota / cpu_period), its reservation
        // deploy.resources.reservations.cpus.
        let number = |key: &str| -> u64 {
            app.get(key)
                .and_then(Node::as_str)
                .unwrap_or_else(|| panic!("{key} on orangescrum-app"))
                .parse()
                .unwrap()
        };
        assert_eq!(
            number("cpu_quota") * 1000 / number("cpu_period"),
            millicores(&get(k, "limits", "cpu")),
            "cpu_quota/cpu_period vs limits cpu"
        );
        assert_eq!(
            millicores(&get(res, "reservations", "cpus")),
            millicores(&get(k, "requests", "cpu")),
            "reservations cpus vs requests cpu"
        );
        for (compose_side, k8s_side) in [("limits", "limits"), ("reservations", "requests")] {
            assert_eq!(
                bytes(&get(res, compose_side, "memory")),
                bytes(&get(k, k8s_side, "memory")),
                "{compose_side} memory vs {k8s_side} memory"
            );
        }
    }

    #[test]
    fn parse_problems_are_findings() {
        let f = planted("web-hpa.yaml", "spec:\n", "spec: [\n");
        assert_eq!(errors(&f, PARSE).len(), 1, "{f:#?}");
        let f = planted("web-pdb.yaml", "spec:\n", "---\nkind: Other\nspec:\n");
        assert!(
            errors(&f, PARSE)
                .iter()
                .any(|e| e.contains("more than one object")),
            "{f:#?}"
        );
        let f = planted(
            "migrate-job.yaml",
            "name: orangescrum-migrate-v0.0.0",
            "name: orangescrum-migrate-v0.0.0-RC.1",
        );
        assert!(
            errors(&f, PARSE)[0].contains("not a valid Kubernetes name"),
            "{f:#?}"
        );
        assert_eq!(name_problem("Job", &"a".repeat(64)), Some("is too long"));
        assert_eq!(
            name_problem("Service", "web-"),
            Some("is not a valid Kubernetes name")
        );
        assert_eq!(name_problem("Job", "orangescrum-migrate-v26.1.1"), None);
        let f = planted(KUSTOMIZATION, "  - web-hpa.yaml\n", "  - missing.yaml\n");
        assert!(errors(&f, PARSE)[0].contains("missing.yaml"), "{f:#?}");
        // Other targets are not this module's business.
        let pkg = Package {
            target: Some(Target::Docker),
            files: [(
                KUSTOMIZATION.to_string(),
                super::super::PkgFile {
                    mode: 0o644,
                    kind: FileKind::Text("x: [".into()),
                },
            )]
            .into(),
        };
        assert!(check(&pkg).is_empty());
    }
}
