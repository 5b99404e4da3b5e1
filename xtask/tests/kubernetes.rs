//! The Kubernetes package end to end, offline: `dist --target kubernetes` makes a
//! reproducible single-frame archive without the binary that `verify` accepts; `kubectl
//! kustomize` (Debian's kubernetes-client, kustomize v2.0.3, or any later kubectl) renders
//! it; every rendered object passes the API schemas of a current Kubernetes release
//! (`kubernetes-validate --strict`); and the production audit catches planted defects in
//! the extracted package.
//!
//! `KUBECTL=/path/to/kubectl` picks the kubectl to render with (default: `kubectl`).

mod support;

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use support::{extract, find_archive, ok, require, run, sample_binary, Fixture};

fn kubectl() -> String {
    std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into())
}

fn have_kubectl() -> bool {
    let runs = Command::new(kubectl())
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    require::available(
        "kubectl",
        runs,
        "apt-get install kubernetes-client (or .ci/install-deps)",
    )
}

/// A release of the Kubernetes target only, made from the repository's sources.
fn release(fx: &Fixture, out: &Path) -> PathBuf {
    ok(fx
        .dist_cmd(out, sample_binary())
        .args(["--target", "kubernetes"]));
    let version = support::config_version();
    out.join(version)
}

/// Extracts the archive into `into` and returns the package folder.

#[test]
fn kubernetes_archive_is_reproducible_single_frame_and_verified() {
    let fx = Fixture::new();
    let a = release(&fx, &fx.out());
    let b = release(&fx, &fx._tmp.path().join("out2"));
    assert_eq!(
        support::release_files(&a),
        support::release_files(&b),
        "two runs give the same bytes"
    );
    let archive = find_archive(&a, "-kubernetes-x86_64.tar.zst");
    let listing =
        String::from_utf8(ok(Command::new("zstd").arg("-lv").arg(&archive)).stdout).unwrap();
    assert!(
        listing.contains("# Zstandard Frames: 1"),
        "no binary frame spliced in:\n{listing}"
    );
    let sums = fs::read_to_string(a.join("SHA256SUMS")).unwrap();
    assert!(
        sums.contains(archive.file_name().unwrap().to_str().unwrap()),
        "{sums}"
    );
    ok(fx.xtask().arg("verify").arg(&a));

    let pkg = extract(&archive, &fx._tmp.path().join("x"));
    assert!(pkg.join("kustomization.yaml").is_file());
    // No binary: nothing executable but the shell helpers, and the manifest names no path.
    for e in support::walk(&pkg) {
        let bytes = fs::read(&e).unwrap_or_default();
        assert!(
            !bytes.starts_with(b"\x7fELF"),
            "{} is a binary",
            e.display()
        );
    }
    let manifest = fs::read_to_string(pkg.join("build-manifest.json")).unwrap();
    assert!(
        manifest.contains("\"target\": \"kubernetes\"") && !manifest.contains("\"path\""),
        "{manifest}"
    );
    ok(fx.xtask().arg("verify").arg(&pkg));
}

#[test]
fn kustomize_renders_objects_that_pass_the_api_schemas() {
    if !have_kubectl()
        || !require::tool(
            "kubernetes-validate",
            "pip install kubernetes-validate (or .ci/install-deps)",
        )
    {
        return;
    }
    let fx = Fixture::new();
    let rel = release(&fx, &fx.out());
    let pkg = extract(
        &find_archive(&rel, "-kubernetes-x86_64.tar.zst"),
        &fx._tmp.path().join("x"),
    );
    // The operator's step: .env from the example (kustomize reads it literally).
    fs::copy(pkg.join(".env.example"), pkg.join(".env")).unwrap();
    let rendered = ok(Command::new(kubectl()).arg("kustomize").arg(&pkg)).stdout;
    let rendered = String::from_utf8(rendered).unwrap();
    let kinds: Vec<&str> = rendered
        .lines()
        .filter_map(|l| l.strip_prefix("kind: "))
        .collect();
    let mut sorted = kinds.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "CronJob",
            "Deployment",
            "Deployment",
            "HorizontalPodAutoscaler",
            "Job",
            "PodDisruptionBudget",
            "Secret",
            "Service"
        ],
        "{rendered}"
    );
    // Every container image is the release image by digest; the Job carries the version.
    let images: Vec<&str> = rendered
        .lines()
        .filter_map(|l| l.trim().strip_prefix("image: "))
        .collect();
    assert_eq!(images.len(), 4, "{rendered}");
    assert!(
        images.iter().all(|i| i.starts_with("orangescrum@sha256:")),
        "{images:?}"
    );
    let version = support::config_version();
    assert!(
        rendered.contains(&format!("name: orangescrum-migrate-{version}\n")),
        "{rendered}"
    );
    // The generated Secret (hash-suffixed) is what every pod reads.
    let secret = rendered
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("name: orangescrum-env-"))
        .expect("the generated Secret");
    assert_eq!(
        rendered
            .matches(&format!("name: orangescrum-env-{secret}"))
            .count(),
        5,
        "the Secret and its four users: {rendered}"
    );

    let file = fx._tmp.path().join("rendered.yaml");
    fs::write(&file, &rendered).unwrap();
    let res = run(Command::new("kubernetes-validate")
        .arg("--strict")
        .arg(&file));
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
    assert!(res.status.success(), "{report}");
    assert_eq!(
        report.matches(" passed for resource ").count(),
        kinds.len(),
        "{report}"
    );
    assert!(!report.contains("ERROR"), "{report}");
}

#[test]
fn audit_catches_defects_planted_in_the_released_package() {
    let fx = Fixture::new();
    let rel = release(&fx, &fx.out());
    let archive = find_archive(&rel, "-kubernetes-x86_64.tar.zst");
    let audit = |pkg: &Path| run(fx.xtask().arg("audit").arg(pkg));

    // As released: pinned to the release's own OCI image, so the audit finds nothing.
    let clean = extract(&archive, &fx._tmp.path().join("clean"));
    let res = audit(&clean);
    let log =
        String::from_utf8_lossy(&res.stderr).into_owned() + &String::from_utf8_lossy(&res.stdout);
    assert!(res.status.success(), "{log}");
    assert!(log.contains("0 error(s), 0 warning(s)"), "{log}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(rel.join("dist-manifest.json")).unwrap()).unwrap();
    let digest = manifest["image"]["digest"].as_str().unwrap();
    let kustomization = fs::read_to_string(clean.join("kustomization.yaml")).unwrap();
    assert!(
        kustomization.contains(&format!("digest: {digest}")),
        "the package names the release's image by digest:\n{kustomization}"
    );

    for (n, (file, from, to, check)) in [
        (
            "worker-deployment.yaml",
            "image: orangescrum\n",
            "image: orangescrum:latest\n",
            "k8s-image-unpinned",
        ),
        (
            "web-deployment.yaml",
            "readinessProbe:",
            "readinessProbeOff:",
            "k8s-no-probes",
        ),
        (
            "migrate-job.yaml",
            "runAsNonRoot: true",
            "runAsNonRoot: false",
            "k8s-root",
        ),
        (
            "recurring-cronjob.yaml",
            "          emptyDir:\n                sizeLimit: 1Gi\n",
            "          hostPath:\n                path: /var/tmp\n",
            "k8s-host-path",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let pkg = extract(&archive, &fx._tmp.path().join(format!("planted{n}")));
        let path = pkg.join(file);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} has no {from:?}");
        fs::write(&path, text.replacen(from, to, 1)).unwrap();
        let res = audit(&pkg);
        let log = String::from_utf8_lossy(&res.stderr).into_owned()
            + &String::from_utf8_lossy(&res.stdout);
        assert!(!res.status.success(), "{file}: {log}");
        assert!(
            log.lines()
                .any(|l| l.contains("ERROR") && l.contains(file) && l.contains(check)),
            "{file}: expected {check}: {log}"
        );
    }
}
