//! The build plan: every step of `cargo xtask build`, computed by a pure function from the
//! configuration, the flags and what the pre-flight found. `--dry-run` prints it
//! ([`render`]); the real run executes the very same steps (`Exec` in `build/mod.rs`).

use std::path::{Path, PathBuf};

use crate::{config::Config, fsx, hash};

use super::{docker::Cmd, source::exclusion_summary};

/// The builder files, relative to the repository root.
pub const BUILDER_DIR: &str = "packaging/builder";
/// Files every build reads, relative to the repository root.
pub const REQUIRED_SOURCES: [&str; 4] = [
    "packaging/builder/base.Dockerfile",
    "packaging/builder/embed.Dockerfile",
    "packaging/builder/Caddyfile",
    PHP_INI,
];
/// The one php.ini of the application (embedded at the app root as `php.ini`).
pub const PHP_INI: &str = "common/php/php.ini";
/// Files added to the app as they are (`bin/db-lifecycle.php`, ...), relative to the
/// repository root; may be absent.
pub const OVERLAY_DIR: &str = "packaging/app-overlay";
/// The package folder (git-ignored): the app as it is embedded.
pub const PACKAGE_DIR: &str = "packaging/builder/package";
/// The config templates (`<name>.example.php`, `plugins/<Plugin>/<name>.example.php`).
pub const CONFIG_OVERRIDES_DIR: &str = "common/config";
/// Label put on our temporary containers; its value is the app name.
pub const CONTAINER_LABEL: &str = "org.orangescrum.xtask.build";
/// Where the embed image leaves the binary (directory; the file is `binary.name`).
pub const BINARY_OUT_DIR: &str = "/out";
/// Files the app must have before anything long starts: Composer's manifest (the build
/// runs `composer install`) and CakePHP's front controller (the Caddyfile serves `webroot/`).
pub const APP_REQUIRED: [&str; 2] = ["composer.json", "webroot/index.php"];
/// The environment variable whose value reaches both image builds as a BuildKit secret.
pub const TOKEN_VAR: &str = "GITHUB_TOKEN";
/// The secret's id; the Dockerfiles mount it at `/run/secrets/<id>`.
pub const TOKEN_SECRET_ID: &str = "github_token";

/// The `go` line of FrankenPHP's `go.mod` and `caddy/go.mod` (the higher of the two) at
/// each FrankenPHP version the build knows. With `GOTOOLCHAIN=local` an older Go stops at
/// `go mod download`, so the build refuses it before starting.
pub const GO_REQUIRED: &[(&str, &str)] = &[("1.12.1", "1.26.0")];

/// Every path the build touches, all absolute.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub root: PathBuf,
    pub builder: PathBuf,
    pub package: PathBuf,
    pub overrides: PathBuf,
    pub overlay: PathBuf,
    pub php_ini: PathBuf,
    pub built: PathBuf,
    pub out_dir: PathBuf,
}

impl Layout {
    pub fn new(root: &Path, cfg: &Config) -> Layout {
        let built = root.join(&cfg.binary.built_path);
        let out_dir = built.parent().unwrap_or(root).to_path_buf();
        Layout {
            root: root.to_path_buf(),
            builder: root.join(BUILDER_DIR),
            package: root.join(PACKAGE_DIR),
            overrides: root.join(CONFIG_OVERRIDES_DIR),
            overlay: root.join(OVERLAY_DIR),
            php_ini: root.join(PHP_INI),
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
    pub app: AppSource,
    /// SHA-256 (hex) of `base.Dockerfile`: part of the base image tag.
    pub base_dockerfile_sha256: String,
    /// The Dockerfiles use BuildKit syntax (`RUN --mount=...`): see [`needs_buildkit`].
    pub buildkit: bool,
    /// `GITHUB_TOKEN` is set and not empty in the environment of `cargo xtask build`.
    pub github_token: bool,
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
    /// Copies the overlay folder `from` over the app at `to` (modes kept).
    Overlay { from: PathBuf, to: PathBuf },
    /// Renders placeholders of each `(source, destination)` file.
    Render(Vec<(PathBuf, PathBuf)>),
    /// Installs the config files of `app.configs`/`app.plugin_configs` from `from` into
    /// the app at `app`.
    Configs { from: PathBuf, app: PathBuf },
    /// The app at `dir` must have these files (app-relative); the build stops otherwise.
    RequireFiles { dir: PathBuf, files: Vec<String> },
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

/// True when a Dockerfile uses BuildKit-only syntax (`RUN --mount=`): the builds then run
/// with `DOCKER_BUILDKIT=1`, so a Docker CLI whose default is the legacy builder fails at
/// once with Docker's own message instead of half-way through.
pub fn needs_buildkit(dockerfile: &str) -> bool {
    dockerfile.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("RUN ") && l.contains("--mount=")
    })
}

/// Why `frankenphp.go_version` cannot build `frankenphp.version`, or `None` when it can or
/// when the FrankenPHP version is not in [`GO_REQUIRED`] (the pre-flight then says so).
pub fn go_version_problem(cfg: &Config) -> Option<String> {
    let (_, required) = GO_REQUIRED
        .iter()
        .find(|(v, _)| *v == cfg.frankenphp.version)?;
    let have = &cfg.frankenphp.go_version;
    (version_key(have) < version_key(required)).then(|| {
        format!(
            "frankenphp.go_version = {have:?} is older than the go {required} that FrankenPHP {}'s go.mod requires (the builder sets GOTOOLCHAIN=local, so `go mod download` would stop). Fix: set go_version = \"{required}\" in [frankenphp] of {}",
            cfg.frankenphp.version,
            crate::config::CONFIG_FILE
        )
    })
}

/// `1.26.0` -> [1, 26, 0]; a missing patch counts as 0.
fn version_key(v: &str) -> Vec<u64> {
    let mut k: Vec<u64> = v.split('.').map(|p| p.parse().unwrap_or(0)).collect();
    k.resize(3, 0);
    k
}

/// `<app>-builder-base:<frankenphp>-php<php>-<hash>`: the hash covers the build arguments
/// and `base.Dockerfile`, so changing either gives a new tag (and a rebuild) instead of
/// silently reusing a stale image.
pub fn base_image(cfg: &Config, dockerfile_sha256: &str) -> String {
    let key = format!(
        "{}\n{}\n{}\n{}\n{dockerfile_sha256}\n",
        cfg.frankenphp.version,
        cfg.frankenphp.php_version,
        cfg.frankenphp.extensions.join(","),
        cfg.frankenphp.go_version,
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

/// The build arguments of `base.Dockerfile`, all from the configuration.
pub fn base_build_args(cfg: &Config) -> Vec<(String, String)> {
    [
        ("FRANKENPHP_VERSION", cfg.frankenphp.version.clone()),
        ("PHP_VERSION", cfg.frankenphp.php_version.clone()),
        ("PHP_EXTENSIONS", cfg.frankenphp.extensions.join(",")),
        ("GO_VERSION", cfg.frankenphp.go_version.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// `docker build` of one builder Dockerfile, context `packaging/builder/`. The token is
/// passed by name only (`--secret id=...,env=GITHUB_TOKEN`): BuildKit reads the value from
/// the environment of this process and mounts it for the one `RUN` that asks for it, so it
/// is in no build argument, no layer and no printed command.
pub fn image_build(
    input: &PlanInput,
    dockerfile: &str,
    tag: &str,
    args: &[(String, String)],
    no_cache: bool,
) -> Cmd {
    let mut cmd = Cmd::new("docker");
    if input.buildkit || input.github_token {
        cmd = cmd.env("DOCKER_BUILDKIT", "1");
    }
    cmd = cmd
        .arg("build")
        .arg("--file")
        .arg(path_str(&input.layout.builder.join(dockerfile)))
        .arg("--tag")
        .arg(tag);
    for (k, v) in args {
        cmd = cmd.arg("--build-arg").arg(format!("{k}={v}"));
    }
    if input.github_token {
        cmd = cmd
            .arg("--secret")
            .arg(format!("id={TOKEN_SECRET_ID},env={TOKEN_VAR}"));
    }
    if no_cache {
        cmd = cmd.arg("--no-cache");
    }
    cmd.arg(path_str(&input.layout.builder))
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// One line about the token, for the plan.
fn token_note(input: &PlanInput) -> String {
    if input.github_token {
        format!("{TOKEN_VAR} is set: both image builds get it as the BuildKit secret `{TOKEN_SECRET_ID}` (mounted for the build-static.sh step only; never a build argument or a layer)")
    } else {
        format!("{TOKEN_VAR} is not set: the builds download from GitHub anonymously (rate-limited); export {TOKEN_VAR} to pass it as a BuildKit secret")
    }
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
        body.push(Step::Overlay {
            from: l.overlay.clone(),
            to: l.package.clone(),
        });
        body.push(Step::Configs {
            from: l.overrides.clone(),
            app: l.package.clone(),
        });
        body.push(Step::Render(vec![
            (l.builder.join("Caddyfile"), l.package.join("Caddyfile")),
            (l.php_ini.clone(), l.package.join("php.ini")),
        ]));
    }
    // Before anything long: the app as it will be embedded must have these.
    body.push(Step::RequireFiles {
        dir: l.package.clone(),
        files: APP_REQUIRED.iter().map(|s| s.to_string()).collect(),
    });

    // 3. The FrankenPHP static builder base image.
    body.push(Step::Comment(format!(
        "3. builder base image {base} (FrankenPHP {}, PHP {}, Go {}, {} extensions)",
        cfg.frankenphp.version,
        cfg.frankenphp.php_version,
        cfg.frankenphp.go_version,
        cfg.frankenphp.extensions.len()
    )));
    body.push(Step::Comment(token_note(input)));
    let inspect = Cmd::new("docker").args(["image", "inspect", "--format", "{{.Id}}", &base]);
    let args = base_build_args(cfg);
    if f.rebuild_base {
        body.push(Step::Run(image_build(
            input,
            "base.Dockerfile",
            &base,
            &args,
            true,
        )));
    } else {
        body.push(Step::EnsureImage {
            image: base.clone(),
            inspect,
            build: (!f.skip_base)
                .then(|| image_build(input, "base.Dockerfile", &base, &args, false)),
        });
    }

    // 4. Embed the app, build the binary, copy it out of a container that never runs.
    body.push(Step::Comment(format!(
        "4. embed the app and build the binary (image {embed}); embed.Dockerfile runs composer install and stops without vendor/autoload.php or webroot/index.php"
    )));
    let embed_args = vec![
        ("BASE_IMAGE".to_string(), base.clone()),
        ("BINARY_OUT".to_string(), binary_out.clone()),
    ];
    body.push(Step::Run(image_build(
        input,
        "embed.Dockerfile",
        &embed,
        &embed_args,
        false,
    )));
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

    // 6. Drop the embed image (the base image stays for reuse) and the package folder:
    // also after a failure.
    let mut always = vec![
        Step::Comment("6. clean up".into()),
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
/// listing command is the first step); each is then removed with `docker rm -f -v` ([`Step::RemoveListed`]).
pub fn clean_plan(cfg: &Config, input: &PlanInput) -> Vec<Step> {
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
        Step::RemovePath(input.layout.package.clone()),
    ]
}

/// Step 1, the pre-flight probes: `docker info` (daemon reachable, its architecture).
pub fn docker_info() -> Cmd {
    Cmd::new("docker").args(["info", "--format", "{{.ServerVersion}} {{.Architecture}}"])
}

/// `docker buildx version`: whether the CLI has BuildKit's buildx plugin.
pub fn buildx_version() -> Cmd {
    Cmd::new("docker").args(["buildx", "version"])
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
            "1. pre-flight: release {}, FrankenPHP {}, PHP {}, Go {}",
            cfg.release.version,
            cfg.frankenphp.version,
            cfg.frankenphp.php_version,
            cfg.frankenphp.go_version
        )),
        Step::Run(docker_info()),
    ];
    if input.buildkit || input.github_token {
        steps.push(Step::Run(buildx_version()));
    }
    if !input.flags.skip_archive && input.app.git {
        steps.push(Step::Run(git_revision(&input.app.path)));
        steps.push(Step::Run(git_status(&input.app.path)));
    }
    steps.push(Step::Comment(format!(
        "xtask: check that {} has {}, that {} exist, and that Go {} satisfies FrankenPHP {}'s go.mod; any problem stops the build here",
        if input.flags.skip_archive {
            input.layout.package.display()
        } else {
            input.app.path.display()
        },
        APP_REQUIRED.join(" and "),
        REQUIRED_SOURCES.join(", "),
        cfg.frankenphp.go_version,
        cfg.frankenphp.version
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
                "{}  # piped into xtask: extract into {} without {}",
                cmd.line(),
                dest.display(),
                exclusion_summary()
            ))),
            Step::CopyFiltered { src, dest } => out.push(mark(format!(
                "# xtask: copy {} into {} without {}",
                src.display(),
                dest.display(),
                exclusion_summary()
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
            Step::Overlay { from, to } => out.push(mark(format!(
                "# xtask: copy {}/** over {} (modes kept; nothing when the folder is absent)",
                from.display(),
                to.display()
            ))),
            Step::Configs { from, app } => out.push(mark(format!(
                "# xtask: install {f}/<name>.example.php as {a}/config/<name>.php for each name of [app] configs, and {f}/plugins/<P>/<name>.example.php as {a}/plugins/<P>/config/<name>.php for each <P>/<name> of [app] plugin_configs whose plugin folder exists (placeholders filled)",
                f = from.display(),
                a = app.display()
            ))),
            Step::RequireFiles { dir, files } => out.push(mark(format!(
                "# xtask: stop unless {} has {}",
                dir.display(),
                files.join(" and ")
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

    fn input(git: bool, flags: Flags, token: bool) -> PlanInput {
        PlanInput {
            layout: Layout::new(Path::new("/repo"), &cfg()),
            flags,
            app: AppSource {
                path: "/apps/orangescrum-v4".into(),
                git,
            },
            base_dockerfile_sha256: "ab".repeat(32),
            buildkit: true,
            github_token: token,
            arch: "x86_64".into(),
            run_id: 4242,
        }
    }

    fn lines_of(i: &PlanInput) -> Vec<String> {
        let base = base_image(&cfg(), &"ab".repeat(32));
        let hash = base.rsplit('-').next().unwrap().to_string();
        render(&plan(&cfg(), i))
            .into_iter()
            .map(|l| l.replace(&hash, "HASH"))
            .collect()
    }

    fn lines(git: bool, flags: Flags) -> Vec<String> {
        lines_of(&input(git, flags, false))
    }

    const BASE_ARGS: &str = "--build-arg FRANKENPHP_VERSION=1.12.1 --build-arg PHP_VERSION=8.3 --build-arg PHP_EXTENSIONS=gd,intl,pdo_pgsql --build-arg GO_VERSION=1.26.0";

    #[test]
    fn exact_plan_for_a_git_source() {
        let always = "  # always, also after a failure";
        let expected = vec![
            "# xtask: create /repo/packaging/build, lock it (one build at a time), remove .tmp-* left by interrupted builds".to_string(),
            "# 2. app source /apps/orangescrum-v4: git archive HEAD (committed files only)".into(),
            "# xtask: empty the folder /repo/packaging/builder/package".into(),
            format!("git -C /apps/orangescrum-v4 archive --format=tar HEAD  # piped into xtask: extract into /repo/packaging/builder/package without {}", exclusion_summary()),
            "# xtask: copy /repo/packaging/app-overlay/** over /repo/packaging/builder/package (modes kept; nothing when the folder is absent)".into(),
            "# xtask: install /repo/common/config/<name>.example.php as /repo/packaging/builder/package/config/<name>.php for each name of [app] configs, and /repo/common/config/plugins/<P>/<name>.example.php as /repo/packaging/builder/package/plugins/<P>/config/<name>.php for each <P>/<name> of [app] plugin_configs whose plugin folder exists (placeholders filled)".into(),
            "# xtask: render /repo/packaging/builder/Caddyfile into /repo/packaging/builder/package/Caddyfile".into(),
            "# xtask: render /repo/common/php/php.ini into /repo/packaging/builder/package/php.ini".into(),
            "# xtask: stop unless /repo/packaging/builder/package has composer.json and webroot/index.php".into(),
            "# 3. builder base image orangescrum-builder-base:1.12.1-php8.3-HASH (FrankenPHP 1.12.1, PHP 8.3, Go 1.26.0, 3 extensions)".into(),
            "# GITHUB_TOKEN is not set: the builds download from GitHub anonymously (rate-limited); export GITHUB_TOKEN to pass it as a BuildKit secret".into(),
            "docker image inspect --format '{{.Id}}' orangescrum-builder-base:1.12.1-php8.3-HASH  # present: reuse it".into(),
            format!("DOCKER_BUILDKIT=1 docker build --file /repo/packaging/builder/base.Dockerfile --tag orangescrum-builder-base:1.12.1-php8.3-HASH {BASE_ARGS} /repo/packaging/builder  # only when missing"),
            "# 4. embed the app and build the binary (image orangescrum-builder:v26.1.1); embed.Dockerfile runs composer install and stops without vendor/autoload.php or webroot/index.php".into(),
            "DOCKER_BUILDKIT=1 docker build --file /repo/packaging/builder/embed.Dockerfile --tag orangescrum-builder:v26.1.1 --build-arg BASE_IMAGE=orangescrum-builder-base:1.12.1-php8.3-HASH --build-arg BINARY_OUT=/out/osv4-prod /repo/packaging/builder".into(),
            "docker create --name orangescrum-build-4242 --label org.orangescrum.xtask.build=orangescrum orangescrum-builder:v26.1.1".into(),
            "docker cp orangescrum-build-4242:/out/osv4-prod /repo/packaging/build/.tmp-osv4-prod-4242".into(),
            format!("docker rm -f -v orangescrum-build-4242{always}"),
            "# 5. validate the binary and install it as /repo/packaging/build/osv4-prod".into(),
            "# xtask: check /repo/packaging/build/.tmp-osv4-prod-4242 (ELF, statically linked, x86_64, >= 50 MB), then rename it to /repo/packaging/build/osv4-prod".into(),
            format!("# xtask: remove /repo/packaging/build/.tmp-osv4-prod-4242{always}"),
            "# 6. clean up".into(),
            format!("docker image rm orangescrum-builder:v26.1.1{always}"),
            format!("# xtask: remove /repo/packaging/builder/package{always}"),
        ];
        let got = lines(true, Flags::default());
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(g, e, "line {i}");
        }
        assert_eq!(got.len(), expected.len(), "{got:#?}");
    }

    /// The app's required files are checked right after the source step, before the base
    /// image (the long step), on every path, --skip-archive included.
    #[test]
    fn required_app_files_are_checked_before_any_long_step() {
        for flags in [
            Flags::default(),
            Flags {
                skip_archive: true,
                keep_package: true,
                ..Flags::default()
            },
            Flags {
                rebuild_base: true,
                ..Flags::default()
            },
        ] {
            let steps = match plan(&cfg(), &input(false, flags, false)).remove(1) {
                Step::Scope { body, .. } => body,
                other => panic!("{other:?}"),
            };
            let require = steps
                .iter()
                .position(|s| matches!(s, Step::RequireFiles { files, .. } if files == &["composer.json", "webroot/index.php"]))
                .expect("RequireFiles step");
            let first_docker = steps
                .iter()
                .position(|s| matches!(s, Step::Run(_) | Step::EnsureImage { .. }))
                .unwrap();
            assert!(require < first_docker, "{flags:?}: {steps:#?}");
            if !flags.skip_archive {
                let configs = steps
                    .iter()
                    .position(|s| matches!(s, Step::Configs { .. }))
                    .unwrap();
                let overlay = steps
                    .iter()
                    .position(|s| matches!(s, Step::Overlay { .. }))
                    .unwrap();
                assert!(overlay < configs && configs < require, "{steps:#?}");
            }
        }
    }

    /// The token travels by name as a BuildKit secret to both builds; its value is never
    /// part of a command, a build argument or the printed plan.
    #[test]
    fn github_token_is_a_build_secret_of_both_builds() {
        let with = lines_of(&input(true, Flags::default(), true));
        let builds: Vec<&String> = with
            .iter()
            .filter(|l| l.contains(" docker build "))
            .collect();
        assert_eq!(builds.len(), 2, "{with:#?}");
        for b in &builds {
            assert!(
                b.contains(" --secret id=github_token,env=GITHUB_TOKEN "),
                "{b}"
            );
            assert!(b.starts_with("DOCKER_BUILDKIT=1 "), "{b}");
            assert!(!b.contains("--build-arg GITHUB_TOKEN"), "{b}");
        }
        assert!(with.iter().any(|l| l.starts_with(
            "# GITHUB_TOKEN is set: both image builds get it as the BuildKit secret `github_token`"
        )));
        let without = lines(true, Flags::default());
        assert!(!without.iter().any(|l| l.contains("--secret")));
        // A Dockerfile without BuildKit syntax and no token: the engine's default builder.
        let mut plain = input(true, Flags::default(), false);
        plain.buildkit = false;
        let plain = lines_of(&plain);
        assert!(plain
            .iter()
            .filter(|l| l.contains("docker build "))
            .all(|l| l.starts_with("docker build ")));
    }

    #[test]
    fn flags_change_only_their_lines() {
        let plain = lines(false, Flags::default());
        assert_eq!(
            plain[1],
            "# 2. app source /apps/orangescrum-v4: not a git checkout: filtered copy"
        );
        assert_eq!(
            plain[3],
            format!("# xtask: copy /apps/orangescrum-v4 into /repo/packaging/builder/package without {}", exclusion_summary())
        );

        let rebuild = lines(
            true,
            Flags {
                rebuild_base: true,
                ..Flags::default()
            },
        );
        assert!(rebuild.iter().any(|l| l.contains("/base.Dockerfile ")
            && l.ends_with(" --no-cache /repo/packaging/builder")));
        assert!(!rebuild.iter().any(|l| l.contains("image inspect")));

        let skip = lines(
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
        assert!(!skip.iter().any(|l| l.ends_with("  # only when missing")));
        assert!(skip.contains(&"# xtask: require /repo/packaging/builder/package (made by an earlier --keep-package build)".to_string()));
        assert!(skip.contains(
            &"# xtask: stop unless /repo/packaging/builder/package has composer.json and webroot/index.php".to_string()
        ));
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
        let mut c4 = c.clone();
        c4.frankenphp.go_version = "1.26.1".into();
        assert_ne!(t, base_image(&c4, "x"), "Go change");
        assert_eq!(tag_safe("1.2+b/3"), "1.2-b-3");
    }

    #[test]
    fn go_toolchain_must_satisfy_frankenphp_go_mod() {
        let mut c = cfg();
        assert_eq!(go_version_problem(&c), None, "1.26.0 builds 1.12.1");
        c.frankenphp.go_version = "1.26.3".into();
        assert_eq!(go_version_problem(&c), None);
        c.frankenphp.go_version = "1.27".into();
        assert_eq!(go_version_problem(&c), None);
        c.frankenphp.go_version = "1.25.4".into();
        let p = go_version_problem(&c).unwrap();
        assert!(
            p.contains("\"1.25.4\" is older than the go 1.26.0")
                && p.contains("go_version = \"1.26.0\""),
            "{p}"
        );
        c.frankenphp.go_version = "1.26".into();
        assert_eq!(go_version_problem(&c), None, "1.26 means 1.26.0");
        c.frankenphp.version = "9.9.9".into();
        c.frankenphp.go_version = "1.0".into();
        assert_eq!(
            go_version_problem(&c),
            None,
            "unknown versions are not judged"
        );
        // The table matches the repository's own pins.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let repo = Config::load(&root.join(crate::config::CONFIG_FILE), &[], &[]).unwrap();
        assert!(GO_REQUIRED
            .iter()
            .any(|(v, _)| *v == repo.frankenphp.version));
        assert_eq!(go_version_problem(&repo), None);
    }

    #[test]
    fn buildkit_syntax_detection() {
        assert!(needs_buildkit(
            "FROM x\nRUN --mount=type=secret,id=github_token ./build-static.sh\n"
        ));
        assert!(needs_buildkit("  RUN --mount=type=cache,target=/c true"));
        assert!(!needs_buildkit(
            "FROM x\n# RUN --mount=type=secret\nRUN true\n"
        ));
        // The repository's Dockerfiles read the token through a secret mount.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for f in ["base.Dockerfile", "embed.Dockerfile"] {
            let text = std::fs::read_to_string(root.join(BUILDER_DIR).join(f)).unwrap();
            assert!(needs_buildkit(&text), "{f}");
            assert!(
                text.contains("--mount=type=secret,id=github_token"),
                "{f} mounts the token secret"
            );
            assert!(
                !text.contains("ARG GITHUB_TOKEN") && !text.contains("ENV GITHUB_TOKEN"),
                "{f}: the token is never a build argument or image environment"
            );
        }
    }

    fn repo_file(rel: &str) -> String {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        std::fs::read_to_string(root.join(rel)).unwrap()
    }

    /// The embedded Caddyfile follows FrankenPHP v1.12.1's rules (ARCHITECTURE.md,
    /// "Serving"): address from the environment, `php_server` with its own root, and the
    /// original's headers.
    #[test]
    fn embedded_caddyfile_takes_address_and_root_from_the_environment() {
        let text = repo_file("packaging/builder/Caddyfile");
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let has = |l: &str| lines.contains(&l);
        assert!(has("http://:{$APP_PORT:8080} {"), "{text}");
        assert!(has("bind {$APP_BIND_IP:127.0.0.1}"));
        assert!(has("admin {$CADDY_ADMIN:off}") && has("auto_https off"));
        assert!(has("root * webroot/") && has("encode zstd br gzip"));
        let php = lines
            .iter()
            .position(|l| *l == "php_server {")
            .expect("php_server block");
        assert_eq!(
            lines[php + 1],
            "root webroot/",
            "without it php_server serves public/"
        );
        for h in [
            "-Server",
            "-X-Powered-By",
            "-Server-Timing",
            "X-Content-Type-Options nosniff",
            "X-Frame-Options SAMEORIGIN",
            "X-XSS-Protection \"1; mode=block\"",
            "Referrer-Policy strict-origin-when-cross-origin",
            "header @static Cache-Control \"public, max-age=2592000, immutable\"",
            "@https header X-Forwarded-Proto https",
            "header @https Strict-Transport-Security \"max-age=31536000; includeSubDomains; preload\"",
        ] {
            assert!(has(h), "{h} missing from the Caddyfile");
        }
        let statics = lines
            .iter()
            .find(|l| l.starts_with("@static path "))
            .expect("@static matcher");
        for p in [
            "/css/*",
            "/js/*",
            "/img/*",
            "/favicon.ico",
            "/*.map",
            "/files/*",
            "/invoice-logo/*",
        ] {
            assert!(statics.split(' ').any(|w| w == p), "{p}");
        }
        assert!(
            !text.contains("@@"),
            "the Caddyfile needs no package placeholders"
        );
    }

    /// common/php/php.ini carries the original build's values.
    #[test]
    fn php_ini_has_the_original_values() {
        let text = repo_file(PHP_INI);
        let values: std::collections::BTreeMap<&str, &str> = text
            .lines()
            .filter(|l| !l.trim_start().starts_with(';'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim(), v.trim()))
            .collect();
        for (k, v) in [
            ("memory_limit", "512M"),
            ("max_execution_time", "300"),
            ("max_input_nesting_level", "64"),
            ("upload_max_filesize", "100M"),
            ("post_max_size", "100M"),
            ("max_file_uploads", "20"),
            ("output_buffering", "4096"),
            ("zlib.output_compression", "On"),
            ("zlib.output_compression_level", "6"),
            ("session.save_handler", "redis"),
            ("session.save_path", "\"tcp://${REDIS_HOST}:${REDIS_PORT}\""),
            ("session.gc_maxlifetime", "1800"),
            ("session.use_strict_mode", "On"),
            ("session.cookie_httponly", "On"),
            ("session.cookie_samesite", "Lax"),
            ("opcache.enable", "On"),
            ("opcache.memory_consumption", "256"),
            ("opcache.interned_strings_buffer", "32"),
            ("opcache.max_accelerated_files", "10000"),
            ("opcache.revalidate_freq", "0"),
            ("display_errors", "Off"),
            ("log_errors", "On"),
            ("expose_php", "Off"),
            ("default_charset", "\"UTF-8\""),
            ("default_socket_timeout", "60"),
        ] {
            assert_eq!(values.get(k), Some(&v), "{k}");
        }
        assert!(
            !text.contains("@@"),
            "no package placeholders: it is copied as is"
        );
    }

    #[test]
    fn preflight_lines() {
        let got = render(&preflight_steps(
            &cfg(),
            &input(true, Flags::default(), false),
        ));
        assert_eq!(
            got,
            [
                "# 1. pre-flight: release v26.1.1, FrankenPHP 1.12.1, PHP 8.3, Go 1.26.0",
                "docker info --format '{{.ServerVersion}} {{.Architecture}}'",
                "docker buildx version",
                "git -C /apps/orangescrum-v4 rev-parse HEAD",
                "git -C /apps/orangescrum-v4 status --porcelain",
                "# xtask: check that /apps/orangescrum-v4 has composer.json and webroot/index.php, that packaging/builder/base.Dockerfile, packaging/builder/embed.Dockerfile, packaging/builder/Caddyfile, common/php/php.ini exist, and that Go 1.26.0 satisfies FrankenPHP 1.12.1's go.mod; any problem stops the build here",
            ]
        );
    }

    #[test]
    fn clean_plan_lines() {
        let got = render(&clean_plan(&cfg(), &input(true, Flags::default(), false)));
        assert!(got[1].starts_with("# xtask: create /repo/packaging/build, lock it"));
        assert_eq!(got[2], "docker ps -a --filter label=org.orangescrum.xtask.build=orangescrum --format '{{.Names}}'  # then for each NAME listed: docker rm -f -v NAME");
        assert_eq!(got[3], "docker images --format '{{.Repository}}:{{.Tag}}' orangescrum-builder:v26.1.1  # then for each NAME listed: docker image rm NAME");
        assert_eq!(got[4], "# xtask: remove /repo/packaging/builder/package");
        assert_eq!(got.len(), 5);
    }
}
