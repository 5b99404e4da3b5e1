//! The release's SBOM: valid CycloneDX 1.5 by the official JSON schema (checked with
//! `cyclonedx-python-lib`'s validator from PyPI), the same bytes from two builds, listed in
//! `SHA256SUMS`, and `verify` catches an SBOM whose file hashes do not match the archives.

mod support;

use std::{fs, process::Command};

use support::*;

fn sbom_path(release: &std::path::Path) -> std::path::PathBuf {
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(release.join("dist-manifest.json")).unwrap()).unwrap();
    release.join(
        m["sbom"]["file"]
            .as_str()
            .expect("dist-manifest.json names the SBOM"),
    )
}

#[test]
fn the_sbom_is_valid_cyclonedx_reproducible_and_verified() {
    let validator = "from cyclonedx.validation.json import JsonStrictValidator\nfrom cyclonedx.schema import SchemaVersion\nimport sys\nerr = JsonStrictValidator(SchemaVersion.V1_5).validate_str(open(sys.argv[1]).read())\nprint(err if err else 'valid')\nsys.exit(1 if err else 0)\n";
    let has_lib = Command::new("python3")
        .args(["-c", "import cyclonedx.validation.json, jsonschema"])
        .status()
        .is_ok_and(|s| s.success());
    if !require::available(
        "the CycloneDX validator",
        has_lib,
        "pip install 'cyclonedx-python-lib[json-validation]'",
    ) {
        return;
    }
    let fx = Fixture::new();
    // The stand-in: its app has a composer.lock, so the SBOM lists the app's packages.
    let sample_dist = |out: &std::path::Path| {
        let mut c = fx.xtask();
        c.args(["dist", "--sample", "--out"]).arg(out);
        c
    };
    ok(&mut sample_dist(&fx.out()));
    let release = fx.out().join(config_version());
    let sbom = sbom_path(&release);
    let out = ok(Command::new("python3").args(["-c", validator]).arg(&sbom));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "valid");

    let doc: serde_json::Value = serde_json::from_slice(&fs::read(&sbom).unwrap()).unwrap();
    let binary = &doc["components"][0];
    let names: Vec<&str> = binary["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for want in [
        "frankenphp",
        "php",
        "caddy",
        "php-ext-pdo_pgsql",
        "cakephp/cakephp",
    ] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    assert!(
        !names.contains(&"phpunit/phpunit"),
        "development packages are not shipped"
    );
    let sums = fs::read_to_string(release.join("SHA256SUMS")).unwrap();
    assert!(sums.contains(sbom.file_name().unwrap().to_str().unwrap()));

    // Two builds: the same SBOM, byte for byte (no clock, no random serial number).
    let again = fx._tmp.path().join("again");
    ok(sample_dist(&again).arg("--no-cache"));
    assert!(
        fs::read(&sbom).unwrap() == fs::read(sbom_path(&again.join(config_version()))).unwrap()
    );

    // A file hash the archives do not have: verify names the SBOM (sums refreshed so only
    // the content check can catch it).
    let text = fs::read_to_string(&sbom).unwrap();
    let hash = doc["components"][1]["components"][0]["hashes"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    let forged = text.replacen(&hash, &"0".repeat(64), 1);
    fs::write(&sbom, &forged).unwrap();
    let name = sbom.file_name().unwrap().to_str().unwrap().to_string();
    let new =
        String::from_utf8(ok(Command::new("sha256sum").arg(&name).current_dir(&release)).stdout)
            .unwrap();
    let fixed: String = sums
        .lines()
        .map(|l| {
            if l.ends_with(&name) {
                new.trim_end().to_string()
            } else {
                l.to_string()
            }
        })
        .map(|l| l + "\n")
        .collect();
    fs::write(release.join("SHA256SUMS"), fixed).unwrap();
    let e = fails(fx.xtask().arg("verify").arg(&release));
    assert!(
        e.contains(&name) && e.contains("do not match the SHA256SUMS inside"),
        "{e}"
    );
}
