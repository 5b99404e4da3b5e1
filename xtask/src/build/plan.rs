//! The build plan: every step of `cargo xtask build`, computed by a pure function from the
//! configuration, the flags and the detected Compose flavour. `--dry-run` prints it
//! ([`render`]); the real run executes the very same steps (`build::execute`).

use std::path::{Path, PathBuf};

use crate::{config::Config, fsx, hash};

use super::{docker::Cmd, docker::Compose, source::EXCLUSION_SUMMARY};

/// The builder files, relative to the repository root.
pub const BUILDER_DIR: &str = "packaging/builder";
pub const BUILDER_FILES: [&str; 5] = [
    "base.Dockerfile",
    "embed.Dockerfile",
    "docker-compose.yaml",
    "Caddyfile",
    "php.ini",
];
/// Files rendered into the embedded app's root (FrankenPHP reads them from its working
/// directory, which is the embedded app).
pub const APP_ROOT_FILES: [&str; 2] = ["Caddyfile", "php.ini"];
/// The package folder (git-ignored): the app as it is embedded.
pub const PACKAGE_DIR: &str = "packaging/builder/package";
/// The production config overrides (`<name>.example.php`).
pub const CONFIG_OVERRIDES_DIR: &str = "common/config";
/// Label put on our temporary containers; its value is the app name.
pub const CONTAINER_LABEL: &str = "org.orangescrum.xtask.build";
/// Where the embed image leaves the binary (directory; the file is `binary.name`).
pub const BINARY_OUT_DIR: &str = "/out";

/// Every path the build touches, all absolute.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub root: PathBuf,
    pub builder: PathBuf,
    pub compose_file: PathBuf,
    pub package: PathBuf,
    pub overrides: PathBuf,
    pub built: PathBuf,
    pub out_dir: PathBuf,
}

impl Layout {
    pub fn new(root: &Path, cfg: &Config) -> Layout {
        let built = root.join(&cfg.binary.built_path);
        let out_dir = built.parent().unwrap_or(root).to_path_buf();
        let builder = root.join(BUILDER_DIR);
        Layout {
            root: root.to_path_buf(),
            compose_file: builder.join("docker-compose.yaml"),
            builder,
            package: root.join(PACKAGE_DIR),
            overrides: root.join(CONFIG_OVERRIDES_DIR),
            built,
            out_dir,
        }
    }

    /// The temporary name the binary is extracted to, beside its final name.
    pub fn temp_binary(&self, cfg: &Config, run_id: u32) -> PathBuf {
        self.out_dir
            .join(format!("{}{}-{run_id}", fsx::TMP_PREFIX, cfg.binary.name))
    }
}

/// The command-line switches that shape the plan.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Flags {
    pub skip_base: bool,
    pub rebuild_base: bool,
    pub skip_archive: bool,
    pub keep_package: bool,
}

/// The application source and how it is archived.
#[derive(Debug, Clone, PartialEq)]
pub struct AppSource {
    pub path: PathBuf,
    /// The top of a git work tree: `git archive HEAD`; otherwise a filtered copy.
    pub git: bool,
}

/// Everything besides the configuration that the plan depends on.
#[derive(Debug, Clone)]
pub struct PlanInput {
    pub layout: Layout,
    pub flags: Flags,
    pub compose: Compose,
    pub app: AppSource,
    /// SHA-256 (hex) of `base.Dockerfile`: part of the base image tag.
    pub base_dockerfile_sha256: String,
    /// Architecture the binary must have (the Docker daemon's).
    pub arch: String,
    /// Makes temporary names unique (the process id).
    pub run_id: u32,
}

/// One step of the plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A heading, printed as a comment.
    Comment(String),
    /// A subprocess; failure stops the build.
    Run(Cmd),
    /// Reuses `image` when `inspect` succeeds; otherwise runs `build`, or fails when there
    /// is none (`--skip-base`).
    EnsureImage {
        image: String,
        inspect: Cmd,
        build: Option<Cmd>,
    },
    /// Runs `body`; then runs `always` whether the body succeeded or not (a guard).
    Scope { body: Vec<Step>, always: Vec<Step> },
    /// Removes the folder if present and creates it empty.
    ResetDir(PathBuf),
    /// Streams `cmd` (`git archive`) into the filtered tar extractor at `dest`.
    GitArchive { cmd: Cmd, dest: PathBuf },
    /// Copies `src` into `dest` without the excluded paths.
    CopyFiltered { src: PathBuf, dest: PathBuf },
    /// Renders placeholders of each `(source, destination)` file.
    Render(Vec<(PathBuf, PathBuf)>),
    /// Installs `<from>/<name>.example.php` as `<to>/<name>.php`.
    ConfigOverrides { from: PathBuf, to: PathBuf },
    /// The folder must exist and not be empty (`--skip-archive`).
    RequireDir(PathBuf),
    /// Creates the output folder, takes its lock (held until the run ends: one build at a
    /// time) and removes `.tmp-*` entries left there by interrupted builds.
    LockDir(PathBuf),
    /// Checks `tmp` (ELF, static, `arch`, >= `min_mb`) and renames it to `dest`.
    Install {
        tmp: PathBuf,
        dest: PathBuf,
        min_mb: u64,
        arch: String,
    },
    /// Removes a file or folder if present.
    RemovePath(PathBuf),
    /// Runs `list`, then `remove NAME` for every name it prints.
    RemoveListed { list: Cmd, remove: Cmd },
}

/// `<app>-builder-base:<frankenphp>-php<php>-<hash>`: the hash covers the build arguments
/// and `base.Dockerfile`, so changing either gives a new tag (and a rebuild) instead of
/// silently reusing a stale image.
pub fn base_image(cfg: &Config, dockerfile_sha256: &str) -> String {
    let key = format!(
        "{}\n{}\n{}\n{dockerfile_sha256}\n",
        cfg.frankenphp.version,
        cfg.frankenphp.php_version,
        cfg.frankenphp.extensions.join(",")
    );
    let h = hash::sha256_hex(key.as_bytes());
    format!(
        "{}-builder-base:{}-php{}-{}",
        cfg.release.app_name,
        tag_safe(&cfg.frankenphp.version),
        tag_safe(&cfg.frankenphp.php_version),
        &h[..12]
    )
}

/// `<app>-builder:<version>`: the image with the app embedded and the binary built.
pub fn embed_image(cfg: &Config) -> String {
    format!(
        "{}-builder:{}",
        cfg.release.app_name,
        tag_safe(&cfg.release.version)
    )
}

/// Compose project of the builder stack.
pub fn builder_project(cfg: &Config) -> String {
    format!("{}-builder", cfg.release.app_name.to_ascii_lowercase())
}

/// Name of the temporary container the binary is copied out of.
pub fn container_name(cfg: &Config, run_id: u32) -> String {
    format!("{}-build-{run_id}", cfg.release.app_name)
}

/// Characters allowed in an image tag; anything else becomes `-`.
fn tag_safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The environment every builder compose command gets: image names and build arguments,
/// all from the configuration (docker-compose.yaml maps them to build args).
pub fn compose_env(cfg: &Config, base: &str) -> Vec<(String, String)> {
    [
        ("BUILDER_BASE_IMAGE", base.to_string()),
        ("BUILDER_EMBED_IMAGE", embed_image(cfg)),
        ("FRANKENPHP_VERSION", cfg.frankenphp.version.clone()),
        ("PHP_VERSION", cfg.frankenphp.php_version.clone()),
        ("PHP_EXTENSIONS", cfg.frankenphp.extensions.join(",")),
        (
            "BINARY_OUT",
            format!("{BINARY_OUT_DIR}/{}", cfg.binary.name),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// `<compose> -f <file> -p <project>` with the builder environment.
pub fn compose(cfg: &Config, input: &PlanInput, base: &str) -> Cmd {
    input
        .compose
        .cmd()
        .envs(&compose_env(cfg, base))
        .arg("-f")
        .arg(path_str(&input.layout.compose_file))
        .arg("-p")
        .arg(builder_project(cfg))
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Steps 2 to 6 of the build (step 1, the pre-flight, decides the input).
pub fn plan(cfg: &Config, input: &PlanInput) -> Vec<Step> {
    let l = &input.layout;
    let f = input.flags;
    let base = base_image(cfg, &input.base_dockerfile_sha256);
    let embed = embed_image(cfg);
    let container = container_name(cfg, input.run_id);
    let tmp = l.temp_binary(cfg, input.run_id);
    let binary_out = format!("{BINARY_OUT_DIR}/{}", cfg.binary.name);
    let mut body = Vec::new();

    // 2. The app source, as it is embedded.
    if f.skip_archive {
        body.push(Step::Comment(
            "2. app source: reuse the package folder (--skip-archive)".into(),
        ));
        body.push(Step::RequireDir(l.package.clone()));
    } else {
        let how = if input.app.git {
            "git archive HEAD (committed files only)"
        } else {
            "not a git checkout: filtered copy"
        };
        body.push(Step::Comment(format!(
            "2. app source {}: {how}",
            input.app.path.display()
        )));
        body.push(Step::ResetDir(l.package.clone()));
        if input.app.git {
            body.push(Step::GitArchive {
                cmd: Cmd::new("git")
                    .arg("-C")
                    .arg(path_str(&input.app.path))
                    .args(["archive", "--format=tar", "HEAD"]),
                dest: l.package.clone(),
            });
        } else {
            body.push(Step::CopyFiltered {
                src: input.app.path.clone(),
                dest: l.package.clone(),
            });
        }
        body.push(Step::ConfigOverrides {
            from: l.overrides.clone(),
            to: l.package.join("config"),
        });
        body.push(Step::Render(
            APP_ROOT_FILES
                .iter()
                .map(|n| (l.builder.join(n), l.package.join(n)))
                .collect(),
        ));
    }

    // 3. The FrankenPHP static builder base image.
    body.push(Step::Comment(format!(
        "3. builder base image {base} (FrankenPHP {}, PHP {}, {} extensions)",
        cfg.frankenphp.version,
        cfg.frankenphp.php_version,
        cfg.frankenphp.extensions.len()
    )));
    let inspect = Cmd::new("docker").args(["image", "inspect", "--format", "{{.Id}}", &base]);
    let build_base = compose(cfg, input, &base).arg("build");
    if f.rebuild_base {
        body.push(Step::Run(build_base.arg("--no-cache").arg("base")));
    } else {
        body.push(Step::EnsureImage {
            image: base.clone(),
            inspect,
            build: (!f.skip_base).then(|| build_base.arg("base")),
        });
    }

    // 4. Embed the app, build the binary, copy it out of a container that never runs.
    body.push(Step::Comment(format!(
        "4. embed the app and build the binary (image {embed})"
    )));
    body.push(Step::Run(
        compose(cfg, input, &base).args(["build", "embed"]),
    ));
    body.push(Step::Scope {
        body: vec![
            Step::Run(Cmd::new("docker").args([
                "create".to_string(),
                "--name".into(),
                container.clone(),
                "--label".into(),
                format!("{CONTAINER_LABEL}={}", cfg.release.app_name),
                embed.clone(),
            ])),
            Step::Scope {
                body: vec![Step::Run(Cmd::new("docker").args([
                    "cp".to_string(),
                    format!("{container}:{binary_out}"),
                    path_str(&tmp),
                ]))],
                always: vec![Step::Run(
                    Cmd::new("docker").args(["rm", "-f", "-v", &container]),
                )],
            },
            // 5. Validate and install atomically.
            Step::Comment(format!(
                "5. validate the binary and install it as {}",
                l.built.display()
            )),
            Step::Install {
                tmp: tmp.clone(),
                dest: l.built.clone(),
                min_mb: cfg.binary.min_size_mb,
                arch: input.arch.clone(),
            },
        ],
        always: vec![Step::RemovePath(tmp)],
    });

    // 6. Stop the builder stack, drop the embed image (the base image stays for reuse)
    // and the package folder: also after a failure.
    let mut always = vec![
        Step::Comment("6. stop the builder stack and clean up".into()),
        Step::Run(compose(cfg, input, &base).args(["down", "--remove-orphans"])),
        Step::Run(Cmd::new("docker").args(["image", "rm", &embed])),
    ];
    if f.keep_package {
        always.push(Step::Comment(format!(
            "keeping {} (--keep-package)",
            l.package.display()
        )));
    } else {
        always.push(Step::RemovePath(l.package.clone()));
    }
    vec![
        Step::LockDir(l.out_dir.clone()),
        Step::Scope { body, always },
    ]
}

/// `--clean`: what is left by interrupted builds. Containers are listed at run time (the
/// listing command is the first step); each is then removed with [`remove_container`].
pub fn clean_plan(cfg: &Config, input: &PlanInput) -> Vec<Step> {
    let base = base_image(cfg, &input.base_dockerfile_sha256);
    vec![
        Step::Comment("clean: builder leftovers".into()),
        Step::LockDir(input.layout.out_dir.clone()),
        Step::RemoveListed {
            list: list_containers(cfg),
            remove: Cmd::new("docker").args(["rm", "-f", "-v"]),
        },
        Step::RemoveListed {
            list: Cmd::new("docker").args([
                "images",
                "--format",
                "{{.Repository}}:{{.Tag}}",
                &embed_image(cfg),
            ]),
            remove: Cmd::new("docker").args(["image", "rm"]),
        },
        Step::Run(compose(cfg, input, &base).args(["down", "--remove-orphans"])),
        Step::RemovePath(input.layout.package.clone()),
    ]
}

/// Step 1, the pre-flight probes: `docker info` (daemon reachable, its architecture).
pub fn docker_info() -> Cmd {
    Cmd::new("docker").args(["info", "--format", "{{.ServerVersion}} {{.Architecture}}"])
}

/// `git -C <app> rev-parse HEAD`: the app revision that is archived.
pub fn git_revision(app: &Path) -> Cmd {
    Cmd::new("git")
        .arg("-C")
        .arg(path_str(app))
        .args(["rev-parse", "HEAD"])
}

/// `git -C <app> status --porcelain`: uncommitted changes are not archived (a note).
pub fn git_status(app: &Path) -> Cmd {
    Cmd::new("git")
        .arg("-C")
        .arg(path_str(app))
        .args(["status", "--porcelain"])
}

/// The pre-flight as printable steps (the probes it runs; the file checks are comments).
pub fn preflight_steps(cfg: &Config, input: &PlanInput) -> Vec<Step> {
    let mut steps = vec![
        Step::Comment(format!(
            "1. pre-flight: release {}, FrankenPHP {}, PHP {}",
            cfg.release.version, cfg.frankenphp.version, cfg.frankenphp.php_version
        )),
        Step::Run(docker_info()),
        Step::Run(Compose::Plugin.version_cmd()),
        Step::Comment(format!(
            "only when `docker compose` is missing: {}",
            Compose::Standalone.version_cmd().line()
        )),
    ];
    if !input.flags.skip_archive && input.app.git {
        steps.push(Step::Run(git_revision(&input.app.path)));
        steps.push(Step::Run(git_status(&input.app.path)));
    }
    steps.push(Step::Comment(format!(
        "xtask: check that {} and the builder files {} exist",
        if input.flags.skip_archive {
            input.layout.package.display()
        } else {
            input.app.path.display()
        },
        BUILDER_FILES.join(", ")
    )));
    steps
}

/// Lists our temporary containers (label and name prefix), one name per line.
pub fn list_containers(cfg: &Config) -> Cmd {
    Cmd::new("docker").args([
        "ps".to_string(),
        "-a".into(),
        "--filter".into(),
        format!("label={CONTAINER_LABEL}={}", cfg.release.app_name),
        "--format".into(),
        "{{.Names}}".into(),
    ])
}

/// The plan as text: one command per line (shell-quoted), in-process steps and headings as
/// `#` comments, guard steps marked `# always`.
pub fn render(steps: &[Step]) -> Vec<String> {
    let mut out = Vec::new();
    render_into(steps, false, &mut out);
    out
}

fn render_into(steps: &[Step], always: bool, out: &mut Vec<String>) {
    let mark = |line: String| {
        if always {
            format!("{line}  # always, also after a failure")
        } else {
            line
        }
    };
    for step in steps {
        match step {
            Step::Comment(c) => out.push(format!("# {c}")),
            Step::Run(cmd) => out.push(mark(cmd.line())),
            Step::EnsureImage {
                image,
                inspect,
                build,
            } => {
                out.push(mark(format!("{}  # present: reuse it", inspect.line())));
                match build {
                    Some(b) => out.push(mark(format!("{}  # only when missing", b.line()))),
                    None => out.push(format!(
                        "# missing {image} is an error (--skip-base)"
                    )),
                }
            }
            Step::Scope { body, always: a } => {
                render_into(body, always, out);
                render_into(a, true, out);
            }
            Step::ResetDir(p) => out.push(mark(format!(
                "# xtask: empty the folder {}",
                p.display()
            ))),
            Step::GitArchive { cmd, dest } => out.push(mark(format!(
                "{}  # piped into xtask: extract into {} without {EXCLUSION_SUMMARY}",
                cmd.line(),
                dest.display()
            ))),
            Step::CopyFiltered { src, dest } => out.push(mark(format!(
                "# xtask: copy {} into {} without {EXCLUSION_SUMMARY}",
                src.display(),
                dest.display()
            ))),
            Step::Render(files) => {
                for (from, to) in files {
                    out.push(mark(format!(
                        "# xtask: render {} into {}",
                        from.display(),
                        to.display()
                    )));
                }
            }
            Step::ConfigOverrides { from, to } => out.push(mark(format!(
                "# xtask: install {}/<name>.example.php as {}/<name>.php (placeholders filled)",
                from.display(),
                to.display()
            ))),
            Step::RequireDir(p) => out.push(mark(format!(
                "# xtask: require {} (made by an earlier --keep-package build)",
                p.display()
            ))),
            Step::LockDir(p) => out.push(mark(format!(
                "# xtask: create {}, lock it (one build at a time), remove .tmp-* left by interrupted builds",
                p.display()
            ))),
            Step::Install {
                tmp,
                dest,
                min_mb,
                arch,
            } => out.push(mark(format!(
                "# xtask: check {} (ELF, statically linked, {arch}, >= {min_mb} MB), then rename it to {}",
                tmp.display(),
                dest.display()
            ))),
            Step::RemovePath(p) => {
                out.push(mark(format!("# xtask: remove {}", p.display())))
            }
            Step::RemoveListed { list, remove } => out.push(mark(format!(
                "{}  # then for each NAME listed: {} NAME",
                list.line(),
                remove.line()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        let mut c = Config::default();
        c.release.version = "v26.1.1".into();
        c.frankenphp.extensions = vec!["gd".into(), "intl".into(), "pdo_pgsql".into()];
        c
    }

    fn input(compose: Compose, git: bool, flags: Flags) -> PlanInput {
        PlanInput {
            layout: Layout::new(Path::new("/repo"), &cfg()),
            flags,
            compose,
            app: AppSource {
                path: "/apps/orangescrum-v4".into(),
                git,
            },
            base_dockerfile_sha256: "ab".repeat(32),
            arch: "x86_64".into(),
            run_id: 4242,
        }
    }

    const ENV: &str = "BUILDER_BASE_IMAGE=orangescrum-builder-base:1.12.1-php8.3-HASH BUILDER_EMBED_IMAGE=orangescrum-builder:v26.1.1 FRANKENPHP_VERSION=1.12.1 PHP_VERSION=8.3 PHP_EXTENSIONS=gd,intl,pdo_pgsql BINARY_OUT=/out/osv4-prod";

    fn lines(c: Compose, git: bool, flags: Flags) -> Vec<String> {
        let base = base_image(&cfg(), &"ab".repeat(32));
        let hash = base.rsplit('-').next().unwrap().to_string();
        render(&plan(&cfg(), &input(c, git, flags)))
            .into_iter()
            .map(|l| l.replace(&hash, "HASH"))
            .collect()
    }

    #[test]
    fn exact_plan_for_a_git_source_with_docker_compose_1_29() {
        let dc = format!("{ENV} docker-compose -f /repo/packaging/builder/docker-compose.yaml -p orangescrum-builder");
        let always = "  # always, also after a failure";
        let expected = vec![
            "# xtask: create /repo/packaging/build, lock it (one build at a time), remove .tmp-* left by interrupted builds".to_string(),
            "# 2. app source /apps/orangescrum-v4: git archive HEAD (committed files only)".into(),
            "# xtask: empty the folder /repo/packaging/builder/package".into(),
            format!("git -C /apps/orangescrum-v4 archive --format=tar HEAD  # piped into xtask: extract into /repo/packaging/builder/package without {EXCLUSION_SUMMARY}"),
            "# xtask: install /repo/common/config/<name>.example.php as /repo/packaging/builder/package/config/<name>.php (placeholders filled)".into(),
            "# xtask: render /repo/packaging/builder/Caddyfile into /repo/packaging/builder/package/Caddyfile".into(),
            "# xtask: render /repo/packaging/builder/php.ini into /repo/packaging/builder/package/php.ini".into(),
            "# 3. builder base image orangescrum-builder-base:1.12.1-php8.3-HASH (FrankenPHP 1.12.1, PHP 8.3, 3 extensions)".into(),
            "docker image inspect --format '{{.Id}}' orangescrum-builder-base:1.12.1-php8.3-HASH  # present: reuse it".into(),
            format!("{dc} build base  # only when missing"),
            "# 4. embed the app and build the binary (image orangescrum-builder:v26.1.1)".into(),
            format!("{dc} build embed"),
            "docker create --name orangescrum-build-4242 --label org.orangescrum.xtask.build=orangescrum orangescrum-builder:v26.1.1".into(),
            "docker cp orangescrum-build-4242:/out/osv4-prod /repo/packaging/build/.tmp-osv4-prod-4242".into(),
            format!("docker rm -f -v orangescrum-build-4242{always}"),
            "# 5. validate the binary and install it as /repo/packaging/build/osv4-prod".into(),
            "# xtask: check /repo/packaging/build/.tmp-osv4-prod-4242 (ELF, statically linked, x86_64, >= 50 MB), then rename it to /repo/packaging/build/osv4-prod".into(),
            format!("# xtask: remove /repo/packaging/build/.tmp-osv4-prod-4242{always}"),
            "# 6. stop the builder stack and clean up".into(),
            format!("{dc} down --remove-orphans{always}"),
            format!("docker image rm orangescrum-builder:v26.1.1{always}"),
            format!("# xtask: remove /repo/packaging/builder/package{always}"),
        ];
        let got = lines(Compose::Standalone, true, Flags::default());
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(g, e, "line {i}");
        }
        assert_eq!(got.len(), expected.len(), "{got:#?}");
    }

    #[test]
    fn flags_and_flavours_change_only_their_lines() {
        let plain = lines(Compose::Plugin, false, Flags::default());
        assert_eq!(
            plain[1],
            "# 2. app source /apps/orangescrum-v4: not a git checkout: filtered copy"
        );
        assert_eq!(
            plain[3],
            format!("# xtask: copy /apps/orangescrum-v4 into /repo/packaging/builder/package without {EXCLUSION_SUMMARY}")
        );
        assert!(plain.iter().any(|l| l == &format!(
            "{ENV} docker compose -f /repo/packaging/builder/docker-compose.yaml -p orangescrum-builder build embed"
        )));
        assert!(!plain.iter().any(|l| l.contains("docker-compose ")));

        let rebuild = lines(
            Compose::Standalone,
            true,
            Flags {
                rebuild_base: true,
                ..Flags::default()
            },
        );
        assert!(rebuild
            .iter()
            .any(|l| l.ends_with(" build --no-cache base")));
        assert!(!rebuild.iter().any(|l| l.contains("image inspect")));

        let skip = lines(
            Compose::Standalone,
            true,
            Flags {
                skip_base: true,
                skip_archive: true,
                keep_package: true,
                ..Flags::default()
            },
        );
        assert!(skip.iter().any(|l| l.starts_with("docker image inspect")));
        assert!(skip.contains(
            &"# missing orangescrum-builder-base:1.12.1-php8.3-HASH is an error (--skip-base)"
                .to_string()
        ));
        assert!(!skip
            .iter()
            .any(|l| l.ends_with(" build base  # only when missing")));
        assert!(skip.contains(&"# xtask: require /repo/packaging/builder/package (made by an earlier --keep-package build)".to_string()));
        assert!(!skip.iter().any(|l| l.contains("git -C")));
        assert!(skip
            .contains(&"# keeping /repo/packaging/builder/package (--keep-package)".to_string()));
        assert!(!skip
            .iter()
            .any(|l| l.starts_with("# xtask: remove /repo/packaging/builder/package")));
    }

    #[test]
    fn base_tag_follows_versions_extensions_and_dockerfile() {
        let c = cfg();
        let t = base_image(&c, "x");
        assert!(
            t.starts_with("orangescrum-builder-base:1.12.1-php8.3-"),
            "{t}"
        );
        assert_eq!(t, base_image(&c, "x"), "stable");
        assert_ne!(t, base_image(&c, "y"), "Dockerfile change");
        let mut c2 = c.clone();
        c2.frankenphp.extensions.push("zip".into());
        assert_ne!(t, base_image(&c2, "x"), "extension change");
        let mut c3 = c.clone();
        c3.frankenphp.php_version = "8.4".into();
        assert!(base_image(&c3, "x").contains("-php8.4-"));
        assert_eq!(tag_safe("1.2+b/3"), "1.2-b-3");
    }

    #[test]
    fn preflight_lines() {
        let got = render(&preflight_steps(
            &cfg(),
            &input(Compose::Standalone, true, Flags::default()),
        ));
        assert_eq!(
            got,
            [
                "# 1. pre-flight: release v26.1.1, FrankenPHP 1.12.1, PHP 8.3",
                "docker info --format '{{.ServerVersion}} {{.Architecture}}'",
                "docker compose version",
                "# only when `docker compose` is missing: docker-compose version",
                "git -C /apps/orangescrum-v4 rev-parse HEAD",
                "git -C /apps/orangescrum-v4 status --porcelain",
                "# xtask: check that /apps/orangescrum-v4 and the builder files base.Dockerfile, embed.Dockerfile, docker-compose.yaml, Caddyfile, php.ini exist",
            ]
        );
    }

    #[test]
    fn clean_plan_lines() {
        let got = render(&clean_plan(
            &cfg(),
            &input(Compose::Plugin, true, Flags::default()),
        ));
        assert!(got[1].starts_with("# xtask: create /repo/packaging/build, lock it"));
        assert_eq!(got[2], "docker ps -a --filter label=org.orangescrum.xtask.build=orangescrum --format '{{.Names}}'  # then for each NAME listed: docker rm -f -v NAME");
        assert_eq!(got[3], "docker images --format '{{.Repository}}:{{.Tag}}' orangescrum-builder:v26.1.1  # then for each NAME listed: docker image rm NAME");
        assert!(got[4].ends_with("docker compose -f /repo/packaging/builder/docker-compose.yaml -p orangescrum-builder down --remove-orphans"));
        assert_eq!(got[5], "# xtask: remove /repo/packaging/builder/package");
        assert_eq!(got.len(), 6);
    }
}
