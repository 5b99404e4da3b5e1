//! `cargo xtask dist`: packages every target and writes the release folder
//! `<out>/<version>/`: one reproducible `.tar.zst` per target with its `.sha256`, a
//! release-level `SHA256SUMS` and `dist-manifest.json`.
//!
//! The binary is compressed once into a zstd frame cached under `<out>/.cache/frames/`
//! (keyed by its SHA-256, size, level and libzstd version) and spliced into every archive.
//! The whole version folder is staged under a temporary name and renamed into place.

use std::{
    fmt,
    fs::{self, File},
    io::{self, BufWriter, IsTerminal, Read, Write},
    path::{Path, PathBuf},
    time::Instant,
};

use anyhow::{bail, Context, Result};

use crate::{
    archive::{self, TarZstWriter, ZstdParams},
    config::{is_safe_name, Config},
    fanout, fsx,
    fsx::CACHE_DIR,
    hash::{self, HashingWriter},
    manifest::{self, ImageEntry},
    oci, package,
    project::{self, Project},
    project::{note, BinaryInfo, BinarySource},
    sbom,
    target::Target,
    version::{self, is_version, ReleaseVersion},
    BinaryArgs,
};

pub const RELEASE_SUMS: &str = "SHA256SUMS";
pub use crate::manifest::{DistManifest, TargetEntry, RELEASE_MANIFEST};

#[derive(clap::Args, Clone, Default)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DistArgs {
    #[command(subcommand)]
    pub action: Option<DistAction>,
    /// Only these targets (repeatable; default: all).
    #[arg(long = "target", value_enum, value_name = "TARGET")]
    pub targets: Vec<Target>,
    #[command(flatten)]
    pub binary: BinaryArgs,
    /// Output root instead of dist/ (the release goes to OUT/<version>/). Must be new,
    /// empty, or made by xtask.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// zstd level, 1-19 (default: dist.zstd_level).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(1..=19))]
    pub level: Option<i32>,
    /// Recompress the binary even when a cached frame exists.
    #[arg(long)]
    pub no_cache: bool,
    /// Print the release manifest as JSON on stdout (progress stays on stderr).
    #[arg(long)]
    pub json: bool,
    /// Print what would be written (archives, their frames, the cache entry used, what
    /// pruning removes) and write nothing.
    #[arg(long, conflicts_with = "json")]
    pub dry_run: bool,
    #[command(flatten)]
    pub sets: crate::SetArgs,
    /// Source date forced by `verify --rebuild` (the recorded one), not a CLI flag.
    #[arg(skip)]
    pub source_date: Option<u64>,
}

#[derive(clap::Subcommand, Clone)]
pub enum DistAction {
    /// Combine per-target outputs of `dist --target T --out DIR` (e.g. from CI matrix jobs)
    /// into one release folder, byte-identical to a single `dist` of all those targets.
    Merge(MergeArgs),
}

#[derive(clap::Args, Clone)]
pub struct MergeArgs {
    /// Partial outputs: each an output root holding <version>/, or a <version>/ folder.
    #[arg(required = true, value_name = "FOLDER")]
    pub inputs: Vec<PathBuf>,
    /// Output root instead of dist/ (the release goes to OUT/<version>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the merged manifest as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `<app>-<version>-<target>`: the archive's top-level folder.
pub fn top_folder(app: &str, version: &str, target: Target) -> String {
    format!("{app}-{version}-{target}")
}

/// `<app>-<version>-<target>-<arch>.tar.zst`.
pub fn archive_name(app: &str, version: &str, target: Target, arch: &str) -> String {
    format!("{}-{arch}.tar.zst", top_folder(app, version, target))
}

/// One `sha256sum` line.
pub fn sums_line(sha: &str, name: &str) -> String {
    format!("{sha}  {name}\n")
}

/// Writes `<name>.sha256` (one `sha256sum` line) beside the file `name` in `dir`.
fn write_sidecar(dir: &Path, name: &str, sha256: &str) -> Result<()> {
    fsx::write_file(
        &dir.join(format!("{name}.sha256")),
        sums_line(sha256, name).as_bytes(),
        0o644,
    )
}

/// The release-level `SHA256SUMS`: one line per archive, sorted bytewise by name.
/// `<app>-<version>-oci-<arch>.tar`: the release's OCI image archive.
pub fn image_name(app: &str, version: &str, arch: &str) -> String {
    format!("{app}-{version}-oci-{arch}.tar")
}

/// Every file a release publishes beside its manifest, as (name, sha256, size).
pub fn artifacts(m: &DistManifest) -> Vec<(&str, &str, u64)> {
    m.targets
        .iter()
        .map(|e| (e.archive.as_str(), e.sha256.as_str(), e.size))
        .chain(
            m.image
                .iter()
                .map(|i| (i.archive.as_str(), i.sha256.as_str(), i.size)),
        )
        .chain(
            m.sbom
                .iter()
                .map(|s| (s.file.as_str(), s.sha256.as_str(), s.size)),
        )
        .collect()
}

pub fn release_sums(m: &DistManifest) -> String {
    let mut lines: Vec<(&str, &str)> = artifacts(m).into_iter().map(|(n, h, _)| (n, h)).collect();
    lines.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    lines.into_iter().map(|(n, h)| sums_line(h, n)).collect()
}

pub fn manifest_json(m: &DistManifest) -> Result<Vec<u8>> {
    manifest::to_json(m, RELEASE_MANIFEST)
}

pub fn run(proj: &Project, args: &DistArgs) -> Result<()> {
    if let Some(DistAction::Merge(m)) = &args.action {
        return merge(proj, m);
    }
    let started = Instant::now();
    let cfg = &proj.cfg;
    let level = args.level.unwrap_or(cfg.dist.zstd_level);
    let params = ZstdParams::new(level, cfg.dist.zstd_workers);

    // Everything that can be refused cheaply is checked before any output is touched.
    given_entrypoint(&proj.root, cfg)?;
    let source_date = match args.source_date {
        Some(t) => t,
        None => proj.source_date_epoch()?,
    };
    let out_root = proj.out_root(args.out.as_deref());
    // A dry run writes nothing: no output root, no lock, no cache entry.
    let _lock = if args.dry_run {
        fsx::check_out_root(&proj.root, &out_root)?;
        None
    } else {
        let lock = proj.prepare_out(&out_root)?;
        fsx::clean_stale(&out_root)?;
        Some(lock)
    };
    let (mut binary, meta) = proj.locate_binary(&args.binary.choice())?;
    let cache = out_root.join(CACHE_DIR);
    let cached = if args.no_cache {
        None
    } else {
        cached_frame(&cache, &mut binary, &meta, params, !args.dry_run)?
    };
    let plan = plan(&PlanInputs {
        cfg,
        targets: &args.targets,
        level,
        source_date,
        git_revision: proj.git_revision(),
        binary: &binary,
        cached_frame: cached,
        out_root: &out_root,
        // A dry run may name an output root that does not exist yet.
        existing: &release_folders(&out_root).unwrap_or_default(),
    });
    if args.dry_run {
        print!("{plan}");
        return Ok(());
    }
    let manifest = execute(proj, &plan, binary, &meta, params)?;
    let done = format!(
        "release {} ready in {} ({:.2} s)",
        plan.version,
        plan.release_dir.display(),
        started.elapsed().as_secs_f64()
    );
    finish_release(proj, &out_root, &manifest, args.json, &done)
}

/// What `dist` will write, decided before any output is touched: `--dry-run` prints it
/// and [`execute`] follows it, as `build` does with its command plan.
#[derive(Debug, Clone, PartialEq)]
pub struct DistPlan {
    pub app: String,
    pub version: String,
    pub git_revision: String,
    pub source_date: u64,
    pub level: i32,
    /// `<out>/<version>/`, staged under a temporary name and renamed into place.
    pub release_dir: PathBuf,
    pub binary: PathBuf,
    pub binary_size: u64,
    pub arch: &'static str,
    pub binary_source: BinarySource,
    /// Frame 2 of every archive: the compressed binary.
    pub frame: FramePlan,
    /// One archive per target, in target order.
    pub archives: Vec<ArchivePlan>,
    /// Older release folders removed once the new one is in place (`dist.keep_versions`).
    pub prune: Vec<String>,
    /// The OCI image archive, made whenever the Docker target is (same binary, same date).
    pub image: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FramePlan {
    /// A cached frame of exactly this binary, level and libzstd.
    Reuse(PathBuf),
    /// Compressed once (streamed, hashed on the way) into this cache folder.
    Compress { frames_dir: PathBuf },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ArchivePlan {
    pub target: Target,
    /// Archive file name; `<name>.sha256` is written beside it.
    pub name: String,
    /// The archive's one top folder.
    pub top: String,
    /// Where the binary sits in the package: frame 1 ends with its header. `None` for a
    /// package without the binary (Kubernetes): the archive is then one frame.
    pub binary_dest: Option<String>,
}

/// What [`plan`] decides from: facts already gathered by the thin shell.
pub struct PlanInputs<'a> {
    pub cfg: &'a Config,
    /// Requested targets (empty: all); sorted and de-duplicated by the plan.
    pub targets: &'a [Target],
    pub level: i32,
    pub source_date: u64,
    pub git_revision: String,
    pub binary: &'a BinaryInfo,
    pub cached_frame: Option<PathBuf>,
    pub out_root: &'a Path,
    /// Names of the folders in the output root (for pruning).
    pub existing: &'a [String],
}

/// Decides the release: archive names and contents per target, where frame 2 comes from,
/// and what pruning removes. Pure.
pub fn plan(i: &PlanInputs) -> DistPlan {
    let cfg = i.cfg;
    let mut targets = if i.targets.is_empty() {
        Target::ALL.to_vec()
    } else {
        i.targets.to_vec()
    };
    targets.sort();
    targets.dedup();
    let version = cfg.release.version.clone();
    let app = cfg.release.app_name.clone();
    let archives = targets
        .iter()
        .map(|&target| ArchivePlan {
            target,
            name: archive_name(&app, &version, target, i.binary.arch),
            top: top_folder(&app, &version, target),
            binary_dest: target.binary_dest(cfg),
        })
        .collect();
    let image = targets
        .iter()
        // The Kubernetes package pins the image's digest, so it comes with the image too
        // (a CI matrix part of kubernetes alone then holds the same image as docker's).
        .any(|t| matches!(t, Target::Docker | Target::Kubernetes))
        .then(|| image_name(&app, &version, i.binary.arch));
    DistPlan {
        image,
        release_dir: i.out_root.join(&version),
        prune: prune_selection(i.existing, &version, cfg.dist.keep_versions),
        frame: match &i.cached_frame {
            Some(p) => FramePlan::Reuse(p.clone()),
            None => FramePlan::Compress {
                frames_dir: i.out_root.join(CACHE_DIR).join("frames"),
            },
        },
        app,
        version,
        git_revision: i.git_revision.clone(),
        source_date: i.source_date,
        level: i.level,
        binary: i.binary.path.clone(),
        binary_size: i.binary.size,
        arch: i.binary.arch,
        binary_source: i.binary.source,
        archives,
    }
}

impl fmt::Display for DistPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "release {} of {} -> {} (revision {}, source date {}, zstd level {})",
            self.version,
            self.app,
            self.release_dir.display(),
            self.git_revision,
            self.source_date,
            self.level
        )?;
        writeln!(
            f,
            "binary: {} ({} bytes, {}, {})",
            self.binary.display(),
            self.binary_size,
            self.arch,
            self.binary_source.as_str()
        )?;
        match &self.frame {
            FramePlan::Reuse(p) => writeln!(f, "binary frame: reused from {}", p.display())?,
            FramePlan::Compress { frames_dir } => writeln!(
                f,
                "binary frame: compressed once (hashed while compressing) into {}",
                frames_dir.display()
            )?,
        }
        for a in &self.archives {
            writeln!(f, "archive {} (+ {}.sha256):", a.name, a.name)?;
            match &a.binary_dest {
                Some(dest) => {
                    writeln!(
                        f,
                        "  package: common/ + targets/{}/ + the binary as {}/{dest}, audited",
                        a.target, a.top
                    )?;
                    writeln!(
                        f,
                        "  frames: [entries up to the header of {}/{dest}] [binary frame] [the rest, then {}, end of archive]",
                        a.top,
                        package::HASH_FILES.join(" and ")
                    )?;
                }
                None => {
                    writeln!(
                        f,
                        "  package: common/ + targets/{}/ (no binary: it runs the release image), audited",
                        a.target
                    )?;
                    writeln!(
                        f,
                        "  frames: [every entry, then {}, end of archive]",
                        package::HASH_FILES.join(" and ")
                    )?;
                }
            }
        }
        if let Some(image) = &self.image {
            writeln!(
                f,
                "image {image} (+ {image}.sha256): OCI layout + docker manifest.json; layers: minimal root, entrypoint, the binary"
            )?;
        }
        writeln!(f, "then: {RELEASE_SUMS}, {RELEASE_MANIFEST}")?;
        if self.prune.is_empty() {
            writeln!(f, "prune: nothing")
        } else {
            writeln!(f, "prune: {}", self.prune.join(" "))
        }
    }
}

/// Carries out a [`DistPlan`] inside the staged release folder, which is swapped in at the
/// end. The binary is read once for the archives: a new frame is compressed (and the
/// binary hashed) on one thread, its bytes going to the cache file and to every package
/// archive as they are produced. Meanwhile each target's package is written, its units
/// analysed and its archive written up to the two files that name the binary's hash
/// ([`package::HASH_FILES`]), which close the archive once the hash is known. The image is
/// hashed and written on its own thread; the Kubernetes package, which pins the image's
/// digest, is made as soon as that digest is known.
fn execute(
    proj: &Project,
    plan: &DistPlan,
    mut binary: BinaryInfo,
    meta: &fs::Metadata,
    params: ZstdParams,
) -> Result<DistManifest> {
    let cfg = &proj.cfg;
    // What the image thread needs of the binary, whose hash the main thread fills in.
    let image_binary = plan
        .image
        .as_ref()
        .map(|_| (binary.path.clone(), binary.size, binary.arch));
    fsx::publish_dir(&plan.release_dir, |staging| -> Result<DistManifest> {
        fs::create_dir(staging).with_context(|| format!("cannot create {}", staging.display()))?;
        // Package folders are only a step towards the archives: they live in a scratch
        // folder, with the binary hard-linked rather than copied, and are removed after.
        let scratch = staging.join(".packages");
        fs::create_dir(&scratch).with_context(|| format!("cannot create {}", scratch.display()))?;
        let job = Job {
            root: &proj.root,
            cfg,
            plan,
            params,
            staging,
            scratch: &scratch,
        };
        let job = &job;
        let (entries, image) = std::thread::scope(|s| -> Result<_> {
            let (digest_tx, digest_rx) = std::sync::mpsc::channel::<String>();
            let mut image_thread = image_binary
                .as_ref()
                .map(|binary| s.spawn(move || job.image(binary, digest_tx)));
            // Packages without the binary (Kubernetes, which pins the image's digest) are
            // started as soon as that digest is known, while the binary is still being
            // compressed; their hash files wait for the binary's hash like the others.
            let early = binary.clone();
            let without_binary = s.spawn(move || -> Result<Vec<Started>> {
                let mut digest: Option<String> = None;
                let mut out = Vec::new();
                for a in plan.archives.iter().filter(|a| a.binary_dest.is_none()) {
                    if digest.is_none() && plan.image.is_some() {
                        // A closed channel: the image failed, and says why when joined.
                        let Ok(d) = digest_rx.recv() else {
                            return Ok(out);
                        };
                        digest = Some(d);
                    }
                    out.push(job.start(a, &early, digest.as_deref(), &mut io::empty())?);
                }
                Ok(out)
            });
            // Packages that hold the binary are started while it is read.
            let (started, new_frame) = job.start_with_binary(&mut binary, meta)?;
            let binary = &binary;
            // Storing the new frame may unlink an old one (a tenth of a second for a frame
            // this size on a filesystem mounted with `discard`): off the critical path.
            let stored = new_frame
                .map(|f| s.spawn(move || store_frame(f.tmp, f.frames_dir, binary, params)));
            let mut started = started;
            started.extend(without_binary.join().expect("package thread panicked")?);
            if started.len() != plan.archives.len() {
                // The image thread ended before its digest was known: its error.
                if let Some(h) = image_thread.take() {
                    h.join().expect("image thread panicked")?;
                }
                bail!("internal error: the image thread gave no digest");
            }
            // Then every package gets its hash files and its archive's end.
            let entries = std::thread::scope(|s| {
                let handles: Vec<_> = started
                    .into_iter()
                    .map(|st| s.spawn(move || job.finish(st, binary)))
                    .collect();
                join_all(handles, "archive")
            })?;
            let image = image_thread
                .map(|h| h.join().expect("image thread panicked"))
                .transpose()?;
            if let Some(h) = stored {
                h.join().expect("cache thread panicked")?;
            }
            Ok((entries, image))
        })?;
        // The compressor and the image each opened the binary by its path: if it was
        // replaced or rewritten meanwhile (a rebuild during the run), the archives and the
        // image could hold different binaries. Every read is over by now.
        if !project::unchanged(&plan.binary, meta)? {
            bail!(
                "{} changed while it was read (replaced or rewritten during the run); nothing was published, run again",
                plan.binary.display()
            );
        }
        let mut entries = entries;
        entries.sort_by_key(|e| e.target);
        let files = entries
            .iter()
            .map(|e| {
                let sums = scratch.join(e.target.name()).join(package::SUMS_FILE);
                let text = fs::read_to_string(&sums)
                    .with_context(|| format!("cannot read {}", sums.display()))?;
                hash::parse_sums(&text)
            })
            .collect::<Result<Vec<Vec<(String, String)>>>>()?;
        fs::remove_dir_all(&scratch)
            .with_context(|| format!("cannot remove {}", scratch.display()))?;
        let mut manifest = DistManifest {
            app: plan.app.clone(),
            version: plan.version.clone(),
            git_revision: plan.git_revision.clone(),
            source_date_epoch: plan.source_date,
            zstd_level: plan.level,
            libzstd: zstd::zstd_safe::version_string().to_string(),
            targets: entries,
            image,
            sbom: None,
        };
        manifest.sbom = write_sbom(proj, staging, &manifest, files)?;
        write_release_files(staging, &manifest)?;
        Ok(manifest)
    })
}

/// Joins scoped worker threads, keeping their order; the first error wins.
fn join_all<T>(
    handles: Vec<std::thread::ScopedJoinHandle<'_, Result<T>>>,
    what: &str,
) -> Result<Vec<T>> {
    handles
        .into_iter()
        .map(|h| {
            h.join()
                .unwrap_or_else(|_| panic!("{what} thread panicked"))
        })
        .collect()
}

/// What every step of [`execute`] shares.
struct Job<'a> {
    root: &'a Path,
    cfg: &'a Config,
    plan: &'a DistPlan,
    params: ZstdParams,
    staging: &'a Path,
    scratch: &'a Path,
}

/// A frame just compressed into a temporary file of the cache folder `frames_dir`.
struct NewFrame<'a> {
    tmp: tempfile::NamedTempFile,
    frames_dir: &'a Path,
}

/// A target's package folder, audited, and its archive written up to the binary's hash
/// files.
struct Started<'a> {
    archive: &'a ArchivePlan,
    assembly: package::Assembly,
    open: OpenArchive,
    pkg: PathBuf,
}

impl<'a> Job<'a> {
    /// Starts every package that holds the binary, with the binary frame from the cache
    /// or compressed now (then also returned, with the cache folder, to be stored there).
    /// Afterwards `binary.sha256` is known.
    fn start_with_binary(
        &self,
        binary: &mut BinaryInfo,
        meta: &fs::Metadata,
    ) -> Result<(Vec<Started<'a>>, Option<NewFrame<'a>>)> {
        let plan = self.plan;
        let with_binary: Vec<&'a ArchivePlan> = plan
            .archives
            .iter()
            .filter(|a| a.binary_dest.is_some())
            .collect();
        match &plan.frame {
            FramePlan::Reuse(path) => {
                note(format!(
                    "binary: {} ({} bytes) compressed frame reused from the cache",
                    binary.path.display(),
                    binary.size
                ));
                // Most recently used frames survive cache pruning.
                touch(path);
                let binary = &*binary;
                std::thread::scope(|s| {
                    let handles: Vec<_> = with_binary
                        .iter()
                        .map(|&a| {
                            s.spawn(move || {
                                let mut f = File::open(path)
                                    .with_context(|| format!("cannot open {}", path.display()))?;
                                self.start(a, binary, None, &mut f)
                            })
                        })
                        .collect();
                    join_all(handles, "archive")
                })
                .map(|started| (started, None))
            }
            FramePlan::Compress { frames_dir } => {
                let tmp = frame_tempfile(frames_dir)?;
                // Unbuffered: zstd hands out large chunks, and a buffer dropped inside the
                // encoder would swallow a write error.
                let frame_file = fsx::WriteBehind::new(tmp.as_file());
                let (tee, readers) = fanout::fan_out(frame_file, with_binary.len());
                let reading = &*binary;
                let (sha, started) = std::thread::scope(|s| {
                    let compressor = s.spawn(|| compress_frame(tee, reading, self.params));
                    let handles: Vec<_> = with_binary
                        .iter()
                        .zip(readers)
                        .map(|(&a, mut r)| s.spawn(move || self.start(a, reading, None, &mut r)))
                        .collect();
                    let started = join_all(handles, "archive");
                    (
                        compressor.join().expect("compressor thread panicked"),
                        started,
                    )
                });
                // The compressor's error first: an archive cut short by it is a symptom.
                let sha = sha?;
                let started = started?;
                if binary.sha256.is_empty() {
                    let cache = frames_dir
                        .parent()
                        .expect("frames live in the cache folder");
                    project::remember_sha256(cache, meta, &sha)?;
                    binary.sha256 = sha;
                } else if binary.sha256 != sha {
                    bail!(
                        "{} changed while it was read; run again",
                        binary.path.display()
                    );
                }
                Ok((started, Some(NewFrame { tmp, frames_dir })))
            }
        }
    }

    /// Writes `a`'s package (but for its hash files) and its archive up to them, taking
    /// the binary's data from `frame`; the package is audited meanwhile (the audit fails
    /// the run before anything is published).
    fn start(
        &self,
        a: &'a ArchivePlan,
        binary: &BinaryInfo,
        digest: Option<&str>,
        frame: &mut dyn Read,
    ) -> Result<Started<'a>> {
        let (plan, target) = (self.plan, a.target);
        let pkg = self.scratch.join(target.name());
        let assembly = package::begin(
            self.root,
            self.cfg,
            target,
            binary,
            &plan.git_revision,
            &pkg,
            package::BinaryPlacement::Link,
            digest,
        )
        .with_context(|| format!("assembling the {target} package"))?;
        let (findings, open) = std::thread::scope(|s| {
            let findings =
                s.spawn(|| crate::audit::audit_dir_before(&pkg, target, &package::HASH_FILES));
            let open = start_archive(
                &pkg,
                &a.top,
                a.binary_dest.as_deref(),
                frame,
                binary.size,
                self.params,
                plan.source_date,
                &self.staging.join(&a.name),
            );
            (findings.join().expect("audit thread panicked"), open)
        });
        let findings = findings.with_context(|| format!("auditing the {target} package"))?;
        package::report_audit(target, &findings)?;
        let open = open.with_context(|| format!("writing {}", a.name))?;
        Ok(Started {
            archive: a,
            assembly,
            open,
            pkg,
        })
    }

    /// Adds the hash files to a started package and closes its archive.
    fn finish(&self, st: Started<'a>, binary: &BinaryInfo) -> Result<TargetEntry> {
        let Started {
            archive: a,
            assembly,
            open,
            pkg,
        } = st;
        let (target, name) = (a.target, &a.name);
        assembly
            .finish(&binary.sha256)
            .with_context(|| format!("assembling the {target} package"))?;
        let (sha256, size, files) = open
            .finish(&pkg, &package::HASH_FILES)
            .with_context(|| format!("writing {name}"))?;
        write_sidecar(self.staging, name, &sha256)?;
        note(format!("{target}: {name} ({size} bytes, {files} files)"));
        Ok(TargetEntry {
            target,
            archive: name.clone(),
            size,
            sha256,
            files,
            arch: binary.arch.to_string(),
            binary_sha256: binary.sha256.clone(),
            binary_source: binary.source.as_str().to_string(),
        })
    }

    /// Writes the image archive; its digest is sent on `digest` as soon as it is known
    /// (before the archive is finished).
    fn image(
        &self,
        (binary, binary_size, elf_arch): &(PathBuf, u64, &str),
        digest: std::sync::mpsc::Sender<String>,
    ) -> Result<ImageEntry> {
        let plan = self.plan;
        // Here rather than before the run: cargo's look at the entrypoint (a build on a
        // first run) overlaps the compression.
        let build = image_build(self.root, self.cfg)?;
        let arch = oci::oci_arch(elf_arch)?;
        let image_plan = oci::plan(&oci::ImageInputs {
            cfg: self.cfg,
            git_revision: &plan.git_revision,
            source_date: plan.source_date,
            arch,
            binary,
            binary_size: *binary_size,
            entrypoint: &build.entrypoint,
            entrypoint_size: build.entrypoint_size,
            ca_bundle: build.ca_bundle,
            php_ini: build.php_ini,
        });
        let name = plan.image.clone().expect("an image is planned");
        let img = oci::write_image(
            &image_plan,
            plan.source_date,
            &self.staging.join(&name),
            // The receiver is gone only when the run failed elsewhere.
            |d| drop(digest.send(d.to_string())),
        )
        .with_context(|| format!("writing {name}"))?;
        write_sidecar(self.staging, &name, &img.sha256)?;
        note(format!(
            "image: {name} ({} bytes, {})",
            img.size, img.digest
        ));
        Ok(ImageEntry {
            archive: name,
            size: img.size,
            sha256: img.sha256,
            digest: img.digest,
            repo_tag: format!("{}:{}", plan.app, plan.version),
            arch: arch.to_string(),
        })
    }
}

/// Writes the release's SBOM into `dir` when `manifest` holds every target (with each
/// package's files, in target order, from its `SHA256SUMS`); a partial release gets none.
fn write_sbom(
    proj: &Project,
    dir: &Path,
    manifest: &DistManifest,
    files: Vec<Vec<(String, String)>>,
) -> Result<Option<manifest::FileEntry>> {
    if !Target::ALL
        .iter()
        .all(|t| manifest.targets.iter().any(|e| e.target == *t))
    {
        return Ok(None);
    }
    let first = &manifest.targets[0];
    let inputs = sbom::SbomInputs {
        cfg: &proj.cfg,
        git_revision: &manifest.git_revision,
        source_date: manifest.source_date_epoch,
        binary_sha256: &first.binary_sha256,
        binary_source: &first.binary_source,
        composer_lock: sbom::find_composer_lock(&proj.root, &proj.cfg, &first.binary_source),
        packages: manifest
            .targets
            .iter()
            .zip(files)
            .map(|(e, files)| sbom::PackageFiles {
                target: e.target,
                archive: e.archive.clone(),
                archive_sha256: e.sha256.clone(),
                files,
            })
            .collect(),
        image: manifest
            .image
            .as_ref()
            .map(|i| (i.archive.clone(), i.sha256.clone(), i.digest.clone())),
    };
    let doc = sbom::document(&inputs)?;
    let bytes = manifest::to_json(&doc, "the SBOM")?;
    let file = format!("{}-{}-sbom.cdx.json", manifest.app, manifest.version);
    let sha256 = hash::sha256_hex(&bytes);
    fsx::write_file(&dir.join(&file), &bytes, 0o644)?;
    write_sidecar(dir, &file, &sha256)?;
    Ok(Some(manifest::FileEntry {
        file,
        size: bytes.len() as u64,
        sha256,
    }))
}

/// The inner `SHA256SUMS` of a package archive, as (path, sha256).
pub fn inner_sums(archive: &Path) -> Result<Vec<(String, String)>> {
    let file = File::open(archive).with_context(|| format!("cannot open {}", archive.display()))?;
    let decoder = zstd::stream::read::Decoder::new(io::BufReader::new(file))
        .with_context(|| format!("{} is not a zstd stream", archive.display()))?;
    let mut ar = tar::Archive::new(decoder);
    for entry in ar
        .entries()
        .with_context(|| format!("cannot read {}", archive.display()))?
    {
        let entry = entry.with_context(|| format!("damaged entry in {}", archive.display()))?;
        let path = entry.path()?.to_string_lossy().into_owned();
        if path
            .split_once('/')
            .is_some_and(|(_, rel)| rel == package::SUMS_FILE)
        {
            let mut text = String::new();
            entry
                .take(manifest::MAX_MANIFEST_BYTES)
                .read_to_string(&mut text)
                .with_context(|| format!("cannot read {path} in {}", archive.display()))?;
            return hash::parse_sums(&text);
        }
    }
    bail!("{} has no {}", archive.display(), package::SUMS_FILE)
}

/// What the image needs besides the binary: the static entrypoint (built here), the pinned
/// CA bundle and the PHP settings.
struct ImageBuild {
    entrypoint: PathBuf,
    entrypoint_size: u64,
    ca_bundle: Vec<u8>,
    php_ini: Option<Vec<u8>>,
}

/// The entrypoint `dist.oci_entrypoint` names, checked; `None` when it is empty (built from
/// `oci-entrypoint/`). Called before anything is written, so a wrong path fails at once.
fn given_entrypoint(root: &Path, cfg: &Config) -> Result<Option<PathBuf>> {
    match cfg.dist.oci_entrypoint.as_str() {
        "" => Ok(None),
        given => {
            let p = root.join(given);
            if !p.is_file() {
                bail!("dist.oci_entrypoint = {given:?}: no such file; leave it empty to build the entrypoint from oci-entrypoint/");
            }
            Ok(Some(p))
        }
    }
}

fn image_build(root: &Path, cfg: &Config) -> Result<ImageBuild> {
    let app_bin = format!("/{}/{}", oci::APP_DIR, cfg.binary.name);
    let entrypoint = match given_entrypoint(root, cfg)? {
        Some(p) => p,
        None => {
            eprintln!("building the image entrypoint (static)...");
            project::build_static("oci-entrypoint", &[("OCI_APP_BINARY", &app_bin)])?
        }
    };
    let entrypoint_size = fs::metadata(&entrypoint)
        .with_context(|| format!("cannot read {}", entrypoint.display()))?
        .len();
    let ini = root.join(oci::PHP_INI_SOURCE);
    let php_ini = if ini.is_file() {
        Some(fs::read(&ini).with_context(|| format!("cannot read {}", ini.display()))?)
    } else {
        None
    };
    Ok(ImageBuild {
        entrypoint,
        entrypoint_size,
        ca_bundle: oci::read_ca_bundle(root)?,
        php_ini,
    })
}

/// After a release folder is in place: prunes old versions, reports, prints the
/// manifest for `--json`.
fn finish_release(
    proj: &Project,
    out_root: &Path,
    manifest: &DistManifest,
    json: bool,
    done: &str,
) -> Result<()> {
    prune(out_root, &manifest.version, proj.cfg.dist.keep_versions)?;
    note(done);
    if json {
        io::stdout()
            .write_all(&manifest_json(manifest)?)
            .context("writing to stdout")?;
    }
    Ok(())
}

/// Combines partial manifests: they must agree on everything but their targets, and
/// each target may come from one input only. Targets are ordered as `dist` orders them.
pub fn merge_manifests(parts: &[DistManifest]) -> Result<DistManifest> {
    let first = parts.first().context("nothing to merge")?;
    let mut merged = DistManifest {
        targets: Vec::new(),
        ..first.clone()
    };
    for (i, p) in parts.iter().enumerate() {
        for (what, a, b) in [
            ("app", &first.app, &p.app),
            ("version", &first.version, &p.version),
            ("git revision", &first.git_revision, &p.git_revision),
            ("libzstd version", &first.libzstd, &p.libzstd),
        ] {
            if a != b {
                bail!("input {} has {what} {b}, input 1 has {a}: only outputs of the same build can be merged", i + 1);
            }
        }
        if p.source_date_epoch != first.source_date_epoch {
            bail!(
                "input {} has source date {}, input 1 has {}: build every part from the same commit (or the same SOURCE_DATE_EPOCH)",
                i + 1,
                p.source_date_epoch,
                first.source_date_epoch
            );
        }
        if p.zstd_level != first.zstd_level {
            bail!(
                "input {} used zstd level {}, input 1 used {}",
                i + 1,
                p.zstd_level,
                first.zstd_level
            );
        }
        for t in &p.targets {
            // Names come from a file an attacker may have edited: they must be exactly
            // what `dist` names, never a path.
            let expected = archive_name(&p.app, &p.version, t.target, &t.arch);
            if t.archive != expected || !is_safe_name(&t.arch) {
                bail!("input {} lists archive {:?}, expected {expected:?}: the part was not written by `dist`", i + 1, t.archive);
            }
            if let Some(other) = merged.targets.first().or(parts[0].targets.first()) {
                if other.binary_sha256 != t.binary_sha256 || other.arch != t.arch {
                    bail!(
                        "input {} was built from another binary ({} {}) than the others ({} {}): build every part from the same binary",
                        i + 1, t.arch, t.binary_sha256, other.arch, other.binary_sha256
                    );
                }
            }
            if merged.targets.iter().any(|m| m.target == t.target) {
                bail!("target {} appears in more than one input", t.target);
            }
            merged.targets.push(t.clone());
        }
    }
    merged.targets.sort_by_key(|t| t.target);
    // The image comes with the Docker part: at most one part may carry it, and it must
    // have been made from the same binary (same architecture) as the archives.
    let mut images = parts.iter().filter_map(|p| p.image.as_ref());
    merged.image = images.next().cloned();
    if images.any(|other| Some(other) != merged.image.as_ref()) {
        bail!("the inputs carry different OCI images: build every part from the same binary and commit");
    }
    if let (Some(img), Some(t)) = (&merged.image, merged.targets.first()) {
        if img.archive != image_name(&merged.app, &merged.version, &t.arch) {
            bail!("the image {:?} is not named for this release and architecture: the part was not written by `dist`", img.archive);
        }
    }
    Ok(merged)
}

/// The release folder inside a merge input: the input itself or `<input>/<version>/`.
fn release_dir(input: &Path, version: &str) -> Result<PathBuf> {
    if input.join(RELEASE_MANIFEST).is_file() {
        return Ok(input.to_path_buf());
    }
    let nested = input.join(version);
    if nested.join(RELEASE_MANIFEST).is_file() {
        return Ok(nested);
    }
    bail!(
        "{} holds no {RELEASE_MANIFEST} (nor {version}/{RELEASE_MANIFEST}): pass the --out folder of a `cargo xtask dist --target T` run",
        input.display()
    )
}

/// `cargo xtask dist merge`: checks every part's archives against its manifest, then
/// writes the combined release folder (staged and renamed like `dist`).
pub fn merge(proj: &Project, args: &MergeArgs) -> Result<()> {
    let version = &proj.cfg.release.version;
    let mut parts = Vec::new();
    let mut sources = Vec::new();
    for input in &args.inputs {
        let dir = release_dir(input, version)?;
        let path = dir.join(RELEASE_MANIFEST);
        let m: DistManifest = manifest::read(&path)?;
        let arch_ok = m.targets.iter().all(|t| {
            t.archive == archive_name(&m.app, &m.version, t.target, &t.arch)
                && is_safe_name(&t.arch)
        });
        let image_ok = m.image.as_ref().is_none_or(|i| {
            is_safe_name(&i.arch)
                && m.targets
                    .iter()
                    .all(|t| i.archive == image_name(&m.app, &m.version, &t.arch))
        });
        if !arch_ok || !image_ok {
            bail!(
                "{} lists a file that is not a name `dist` writes: refusing the part",
                path.display()
            );
        }
        for (name, expected, expected_size) in artifacts(&m) {
            // The image comes with both the docker and the kubernetes part: copy it once
            // (merge_manifests refuses parts whose images differ).
            if sources
                .iter()
                .any(|(_, n, _): &(PathBuf, String, String)| n == name)
            {
                continue;
            }
            let file = dir.join(name);
            let (sha, size) = hash::sha256_file(&file)?;
            if sha != expected || size != expected_size {
                bail!("{} does not match {} (sha256 {sha}, {size} bytes): the part is damaged, rebuild it", file.display(), path.display());
            }
            sources.push((file, name.to_string(), sha));
        }
        parts.push(m);
    }
    let merged = merge_manifests(&parts)?;
    if merged.app != proj.cfg.release.app_name {
        bail!(
            "the parts are of app {}, this checkout configures {}",
            merged.app,
            proj.cfg.release.app_name
        );
    }
    if merged.version != *version {
        bail!(
            "the parts are release {}, this checkout configures {version}",
            merged.version
        );
    }
    let out_root = proj.out_root(args.out.as_deref());
    let _lock = proj.prepare_out(&out_root)?;
    fsx::clean_stale(&out_root)?;
    let dest = out_root.join(version);
    let merged = fsx::publish_dir(&dest, |staging| {
        fs::create_dir(staging).with_context(|| format!("cannot create {}", staging.display()))?;
        for (src, name, sha) in &sources {
            fsx::copy_file(src, &staging.join(name), 0o644)?;
            write_sidecar(staging, name, sha)?;
        }
        // The SBOM covers the whole release: made here, from the archives themselves, as a
        // single `dist` makes it from the package folders (same document).
        let files = merged
            .targets
            .iter()
            .map(|t| inner_sums(&staging.join(&t.archive)))
            .collect::<Result<Vec<_>>>()?;
        let mut merged = merged.clone();
        merged.sbom = write_sbom(proj, staging, &merged, files)?;
        write_release_files(staging, &merged)?;
        Ok(merged)
    })?;
    let done = format!(
        "merged {} target(s) into {}",
        merged.targets.len(),
        dest.display()
    );
    finish_release(proj, &out_root, &merged, args.json, &done)
}

/// Writes `SHA256SUMS` and `dist-manifest.json` for `manifest` into `dir`.
pub fn write_release_files(dir: &Path, manifest: &DistManifest) -> Result<()> {
    fsx::write_file(
        &dir.join(RELEASE_SUMS),
        release_sums(manifest).as_bytes(),
        0o644,
    )?;
    fsx::write_file(
        &dir.join(RELEASE_MANIFEST),
        &manifest_json(manifest)?,
        0o644,
    )
}

/// The start of the cached frame names for this binary state, level and libzstd; the
/// frame's own length follows (`<prefix><bytes>.zst`).
fn frame_prefix(sha: &str, size: u64, level: i32) -> String {
    let zver = zstd::zstd_safe::version_string();
    format!("{sha}-{size}-l{level}-zstd{zver}-")
}

/// Looks for a cached frame of this binary. Fills `binary.sha256` when the hash is known
/// (from the cache index, or by hashing when a frame of the same size exists: hashing is
/// fast, recompressing is not). `record` allows updating the cache index (not in dry runs).
fn cached_frame(
    cache: &Path,
    binary: &mut BinaryInfo,
    meta: &fs::Metadata,
    params: ZstdParams,
    record: bool,
) -> Result<Option<PathBuf>> {
    let frames = cache.join("frames");
    let mut known = project::known_sha256(cache, meta);
    if known.is_none() && has_frame_of_size(&frames, binary.size) {
        let sha = hash::sha256_file(&binary.path)?.0;
        if record {
            project::remember_sha256(cache, meta, &sha)?;
        }
        known = Some(sha);
    }
    let Some(sha) = known else { return Ok(None) };
    binary.sha256 = sha;
    let prefix = frame_prefix(&binary.sha256, binary.size, params.level);
    Ok(find_frame(&frames, &prefix))
}

/// The frame named `<prefix><length>.zst` in `frames` whose size is that length (a frame
/// is synced before it gets its name; the length is a second guard, against a frame cut
/// short by anything else).
fn find_frame(frames: &Path, prefix: &str) -> Option<PathBuf> {
    fs::read_dir(frames).ok()?.flatten().find_map(|e| {
        let name = e.file_name();
        let len: u64 = name
            .to_str()?
            .strip_prefix(prefix)?
            .strip_suffix(".zst")?
            .parse()
            .ok()?;
        let meta = e.metadata().ok()?;
        (meta.is_file() && meta.len() == len).then(|| e.path())
    })
}

/// A temporary file for a new frame in the cache (a killed run's leftovers are removed
/// first: we hold the lock).
fn frame_tempfile(frames: &Path) -> Result<tempfile::NamedTempFile> {
    fs::create_dir_all(frames).with_context(|| format!("cannot create {}", frames.display()))?;
    fsx::clean_stale(frames)?;
    tempfile::Builder::new()
        .prefix(fsx::TMP_PREFIX)
        .tempfile_in(frames)
        .with_context(|| format!("cannot create a temporary file in {}", frames.display()))
}

/// Compresses the binary once into `out`, streamed; returns its SHA-256, computed in the
/// same pass (the only time a cold run reads the binary for the archives).
fn compress_frame(out: impl Write, binary: &BinaryInfo, params: ZstdParams) -> Result<String> {
    let started = Instant::now();
    let file = File::open(&binary.path)
        .with_context(|| format!("cannot open {}", binary.path.display()))?;
    let reader = Progress::new(
        file,
        binary.size,
        format!("compressing {}", binary.path.display()),
    );
    let sha = archive::compress_data_frame(reader, binary.size, params, out)
        .with_context(|| format!("compressing {}", binary.path.display()))?;
    note(format!(
        "binary: {} ({} bytes) compressed at level {} in {:.2} s",
        binary.path.display(),
        binary.size,
        params.level,
        started.elapsed().as_secs_f64()
    ));
    Ok(sha)
}

/// Keeps a complete new frame in the cache under its final name, synced first: a frame
/// that a crash left with the right length but not all of its data (filesystems that
/// record the size before the data) would otherwise be spliced into later releases. This
/// runs on its own thread, beside the rest of the release.
fn store_frame(
    tmp: tempfile::NamedTempFile,
    frames: &Path,
    binary: &BinaryInfo,
    params: ZstdParams,
) -> Result<()> {
    tmp.as_file()
        .sync_data()
        .with_context(|| format!("cannot write {} (disk full?)", tmp.path().display()))?;
    let len = tmp
        .as_file()
        .metadata()
        .with_context(|| format!("cannot stat {}", tmp.path().display()))?
        .len();
    let prefix = frame_prefix(&binary.sha256, binary.size, params.level);
    let path = frames.join(format!("{prefix}{len}.zst"));
    tmp.persist(&path)
        .with_context(|| format!("cannot store {}", path.display()))?;
    prune_frames(frames, &path)
}

fn has_frame_of_size(frames: &Path, size: u64) -> bool {
    let needle = format!("-{size}-l");
    fs::read_dir(frames)
        .map(|rd| {
            rd.flatten()
                .any(|e| e.file_name().to_string_lossy().contains(&needle))
        })
        .unwrap_or(false)
}

fn touch(path: &Path) {
    if let Ok(f) = File::options().append(true).open(path) {
        let _ = f.set_modified(std::time::SystemTime::now());
    }
}

/// Keeps the cache to the two most recently used frames (each is ~1/3 of the binary).
fn prune_frames(frames: &Path, keep: &Path) -> Result<()> {
    let mut all: Vec<(std::time::SystemTime, PathBuf)> = fs::read_dir(frames)
        .with_context(|| format!("cannot read {}", frames.display()))?
        .flatten()
        .filter(|e| e.path() != keep && e.file_name().to_string_lossy().ends_with(".zst"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    all.sort();
    let excess = all.len().saturating_sub(1);
    for (_, p) in all.into_iter().take(excess) {
        fs::remove_file(&p)
            .with_context(|| format!("cannot remove the old cache entry {}", p.display()))?;
    }
    Ok(())
}

/// A package archive written up to the files that name the binary's hash.
pub struct OpenArchive {
    w: TarZstWriter<HashingWriter<BufWriter<File>>>,
    top: String,
    dest: PathBuf,
    files: usize,
}

/// Streams the package folder `pkg`, as it is, into a `.tar.zst` at `dest` under the top
/// folder `top`, entries in bytewise order; the file at `binary_rel` is taken from the
/// pre-compressed `frame` (with no `binary_rel`, the frame is not read). The archive is
/// closed by [`OpenArchive::finish`].
#[allow(clippy::too_many_arguments)]
pub fn start_archive(
    pkg: &Path,
    top: &str,
    binary_rel: Option<&str>,
    frame: &mut dyn Read,
    binary_size: u64,
    params: ZstdParams,
    mtime: u64,
    dest: &Path,
) -> Result<OpenArchive> {
    let entries = collect_entries(pkg)?;
    let file = File::create(dest).with_context(|| format!("cannot create {}", dest.display()))?;
    // The frames around the binary's hold the package's small files: one worker gives
    // the same bytes as any count, without each frame's encoder starting a thread pool
    // and its buffers while the binary is being compressed.
    let small = ZstdParams {
        workers: 1,
        ..params
    };
    let mut w = TarZstWriter::new(
        HashingWriter::new(BufWriter::with_capacity(1 << 20, file)),
        small,
        mtime,
    );
    w.add_dir(top)?;
    let mut files = 0;
    for (rel, kind) in &entries {
        let path = format!("{top}/{rel}");
        let abs = pkg.join(rel);
        match kind {
            Kind::Dir => w.add_dir(&path)?,
            Kind::Symlink(to) => {
                files += 1;
                w.add_symlink(&path, to)?
            }
            Kind::File { size, executable } => {
                files += 1;
                if Some(rel.as_str()) == binary_rel {
                    if *size != binary_size {
                        bail!(
                            "{} is {size} bytes but the binary is {binary_size}",
                            abs.display()
                        );
                    }
                    w.add_file_frame(&path, true, *size, &mut *frame)?;
                } else {
                    add_file(&mut w, &path, &abs, *size, *executable)?;
                }
            }
        }
    }
    Ok(OpenArchive {
        w,
        top: top.to_string(),
        dest: dest.to_path_buf(),
        files,
    })
}

fn add_file(
    w: &mut TarZstWriter<HashingWriter<BufWriter<File>>>,
    path: &str,
    abs: &Path,
    size: u64,
    executable: bool,
) -> Result<()> {
    let f = File::open(abs).with_context(|| format!("cannot open {}", abs.display()))?;
    w.add_file(path, executable, size, f)
}

impl OpenArchive {
    /// Appends the regular files `last` of `pkg` (top-level names, in that order), ends
    /// the archive and returns (sha256, size, number of non-folder entries).
    pub fn finish(mut self, pkg: &Path, last: &[&str]) -> Result<(String, u64, usize)> {
        for name in last {
            let abs = pkg.join(name);
            let meta = fs::symlink_metadata(&abs)
                .with_context(|| format!("cannot stat {}", abs.display()))?;
            if !meta.is_file() {
                bail!("{} is not a regular file", abs.display());
            }
            let path = format!("{}/{name}", self.top);
            add_file(&mut self.w, &path, &abs, meta.len(), false)?;
            self.files += 1;
        }
        let dest = &self.dest;
        let sink = self.w.finish()?;
        let (buf, sha, size) = sink.finish();
        let file = buf
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("cannot write {} (disk full?)", dest.display()))?;
        drop(file);
        fsx::set_mode(dest, 0o644)?;
        Ok((sha, size, self.files))
    }
}

#[derive(Debug, PartialEq)]
pub enum Kind {
    Dir,
    File { size: u64, executable: bool },
    Symlink(String),
}

/// Every entry below `dir` as (relative path, kind), sorted bytewise by path. Sockets,
/// FIFOs and devices are refused.
pub fn collect_entries(dir: &Path) -> Result<Vec<(String, Kind)>> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).min_depth(1) {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let rel = entry
            .path()
            .strip_prefix(dir)
            .expect("below root")
            .to_str()
            .with_context(|| format!("{} is not UTF-8", entry.path().display()))?
            .to_string();
        let ft = entry.file_type();
        let kind = if ft.is_dir() {
            Kind::Dir
        } else if ft.is_symlink() {
            let to = fs::read_link(entry.path())
                .with_context(|| format!("cannot read {}", entry.path().display()))?;
            Kind::Symlink(to.to_string_lossy().into_owned())
        } else if ft.is_file() {
            let meta = entry
                .metadata()
                .with_context(|| format!("cannot stat {}", entry.path().display()))?;
            Kind::File {
                size: meta.len(),
                executable: meta.permissions().mode() & 0o111 != 0,
            }
        } else {
            bail!(
                "{} is a socket, FIFO or device: it cannot be archived",
                entry.path().display()
            );
        };
        out.push((rel, kind));
    }
    out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(out)
}

/// The folder names in the output root.
fn release_folders(out_root: &Path) -> Result<Vec<String>> {
    Ok(fs::read_dir(out_root)
        .with_context(|| format!("cannot read {}", out_root.display()))?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect())
}

/// Which of `folders` pruning removes: release versions other than `current`, beyond the
/// `keep` newest (semantic-version order). Nothing that is not a version is ever chosen.
pub fn prune_selection(folders: &[String], current: &str, keep: usize) -> Vec<String> {
    let mut versions: Vec<&String> = folders
        .iter()
        .filter(|n| is_version(n) && *n != current)
        .collect();
    versions.sort_by_key(|v| std::cmp::Reverse(version_key(v)));
    versions.into_iter().skip(keep).cloned().collect()
}

/// Removes the oldest `<version>/` folders beyond `keep` besides `current`. Only folders
/// whose names are versions are considered; nothing else in the output root is touched.
pub fn prune(out_root: &Path, current: &str, keep: usize) -> Result<Vec<String>> {
    let removed = prune_selection(&release_folders(out_root)?, current, keep);
    for old in &removed {
        let path = out_root.join(old);
        fs::remove_dir_all(&path)
            .with_context(|| format!("cannot remove the old release {}", path.display()))?;
        note(format!("pruned old release {old}"));
    }
    Ok(removed)
}

/// Sort key for release folder names: semantic-version precedence (`v1.0.0-rc.10` after
/// `v1.0.0-rc.9`, a release after its pre-releases); names that are not versions sort lowest.
pub fn version_key(v: &str) -> Option<ReleaseVersion> {
    version::order_key(v)
}

/// A reader that reports progress: a live percentage on a terminal, else nothing (the
/// caller prints one line when the step ends).
struct Progress<R> {
    inner: R,
    total: u64,
    done: u64,
    last_pct: u64,
    label: String,
    tty: bool,
}

impl<R: Read> Progress<R> {
    fn new(inner: R, total: u64, label: String) -> Self {
        let tty = io::stderr().is_terminal();
        Progress {
            inner,
            total: total.max(1),
            done: 0,
            last_pct: u64::MAX,
            label,
            tty,
        }
    }
}

impl<R: Read> Read for Progress<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        if self.tty {
            let pct = self.done * 100 / self.total;
            if pct != self.last_pct {
                self.last_pct = pct;
                let width = 30;
                let filled = (pct as usize * width / 100).min(width);
                let mut err = io::stderr().lock();
                let _ = write!(
                    err,
                    "\r{} [{}{}] {pct:3}%",
                    self.label,
                    "#".repeat(filled),
                    ".".repeat(width - filled)
                );
                if self.done >= self.total {
                    let _ = writeln!(err);
                }
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs_binary() -> BinaryInfo {
        BinaryInfo {
            path: PathBuf::from("/b/osv4-prod"),
            size: 42,
            sha256: String::new(),
            arch: "x86_64",
            source: BinarySource::External,
        }
    }

    #[test]
    fn plan_decides_archives_frames_and_pruning() {
        let cfg = Config::default();
        let binary = inputs_binary();
        let existing: Vec<String> = ["v0.0.1", "v0.0.2", "v0.0.3", "v0.0.4", ".cache", "notes"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let base = PlanInputs {
            cfg: &cfg,
            targets: &[Target::Native, Target::Docker, Target::Native],
            level: 3,
            source_date: 7,
            git_revision: "abc".into(),
            binary: &binary,
            cached_frame: None,
            out_root: Path::new("/out"),
            existing: &existing,
        };
        let p = plan(&base);
        let v = &cfg.release.version;
        assert_eq!(p.release_dir, Path::new("/out").join(v));
        // Targets are sorted and de-duplicated; names follow archive_name/top_folder.
        let names: Vec<_> = p.archives.iter().map(|a| a.target).collect();
        assert_eq!(names, [Target::Docker, Target::Native]);
        assert_eq!(
            p.archives[1].name,
            archive_name(&cfg.release.app_name, v, Target::Native, "x86_64")
        );
        assert_eq!(p.archives[1].binary_dest, Target::Native.binary_dest(&cfg));
        assert_eq!(
            p.frame,
            FramePlan::Compress {
                frames_dir: PathBuf::from("/out/.cache/frames")
            }
        );
        // keep_versions newest are kept; non-versions are never chosen.
        assert_eq!(
            p.prune,
            prune_selection(&existing, v, cfg.dist.keep_versions)
        );
        assert_eq!(p.prune.len(), 4 - cfg.dist.keep_versions);
        let printed = p.to_string();
        for a in &p.archives {
            assert!(printed.contains(&a.name), "{printed}");
        }
        assert!(printed.contains("compressed once"), "{printed}");

        let cached = plan(&PlanInputs {
            cached_frame: Some(PathBuf::from("/out/.cache/frames/x.zst")),
            targets: &[],
            git_revision: base.git_revision.clone(),
            ..base
        });
        assert_eq!(cached.archives.len(), Target::ALL.len());
        assert_eq!(
            cached.frame,
            FramePlan::Reuse(PathBuf::from("/out/.cache/frames/x.zst"))
        );
        assert!(cached
            .to_string()
            .contains("reused from /out/.cache/frames/x.zst"));

        // A target without the binary gets a one-frame archive of its files only.
        let k8s = plan(&PlanInputs {
            targets: &[Target::Kubernetes],
            ..base
        });
        assert_eq!(k8s.archives.len(), 1);
        assert_eq!(k8s.archives[0].binary_dest, None);
        let printed = k8s.to_string();
        assert!(
            printed.contains("(no binary: it runs the release image)")
                && printed.contains("frames: [every entry, then build-manifest.json and SHA256SUMS, end of archive]")
                && !printed.contains("[binary frame]"),
            "{printed}"
        );
    }

    #[test]
    fn prune_selection_keeps_the_newest_and_never_non_versions() {
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let all = f(&["v1.0.0-rc.9", "v1.0.0-rc.10", "v0.9.0", "latest", "v2.0.0"]);
        assert_eq!(
            prune_selection(&all, "v2.0.0", 1),
            f(&["v1.0.0-rc.9", "v0.9.0"])
        );
        assert_eq!(prune_selection(&all, "v2.0.0", 10), f(&[]));
        assert_eq!(
            prune_selection(&all, "v9.9.9", 0),
            f(&["v2.0.0", "v1.0.0-rc.10", "v1.0.0-rc.9", "v0.9.0"])
        );
    }

    #[test]
    fn names() {
        assert_eq!(
            archive_name("orangescrum", "v26.1.1", Target::Docker, "x86_64"),
            "orangescrum-v26.1.1-docker-x86_64.tar.zst"
        );
        assert_eq!(top_folder("a", "v1.0.0", Target::Native), "a-v1.0.0-native");
    }

    #[test]
    fn release_sums_sorted_lf() {
        let e = |name: &str, h: char| TargetEntry {
            target: Target::Docker,
            archive: name.into(),
            size: 1,
            sha256: h.to_string().repeat(64),
            files: 1,
            arch: "x86_64".into(),
            binary_sha256: String::new(),
            binary_source: "sample".into(),
        };
        let mut m = manifest(&[], 1);
        m.targets = vec![e("b.tar.zst", 'b'), e("a.tar.zst", 'a')];
        m.image = Some(ImageEntry {
            archive: "a-oci.tar".into(),
            size: 1,
            sha256: "c".repeat(64),
            digest: format!("sha256:{}", "d".repeat(64)),
            repo_tag: "a:v1.0.0".into(),
            arch: "amd64".into(),
        });
        assert_eq!(
            release_sums(&m),
            format!(
                "{}  a-oci.tar\n{}  a.tar.zst\n{}  b.tar.zst\n",
                "c".repeat(64),
                "a".repeat(64),
                "b".repeat(64)
            )
        );
    }

    fn manifest(targets: &[Target], date: u64) -> DistManifest {
        DistManifest {
            app: "a".into(),
            version: "v1.0.0".into(),
            git_revision: "r".into(),
            source_date_epoch: date,
            zstd_level: 3,
            libzstd: "1.5.7".into(),
            targets: targets
                .iter()
                .map(|&t| TargetEntry {
                    target: t,
                    archive: archive_name("a", "v1.0.0", t, "x86_64"),
                    size: 1,
                    sha256: "0".repeat(64),
                    files: 1,
                    arch: "x86_64".into(),
                    binary_sha256: String::new(),
                    binary_source: "sample".into(),
                })
                .collect(),
            image: None,
            sbom: None,
        }
    }

    #[test]
    fn merge_orders_targets_and_refuses_mismatches() {
        let merged = merge_manifests(&[
            manifest(&[Target::Native], 5),
            manifest(&[Target::Docker], 5),
        ])
        .unwrap();
        assert_eq!(merged, manifest(&[Target::Docker, Target::Native], 5));
        let e = format!(
            "{:#}",
            merge_manifests(&[
                manifest(&[Target::Native], 5),
                manifest(&[Target::Docker], 6)
            ])
            .unwrap_err()
        );
        assert!(e.contains("source date"), "{e}");
        let e = format!(
            "{:#}",
            merge_manifests(&[
                manifest(&[Target::Native], 5),
                manifest(&[Target::Native], 5)
            ])
            .unwrap_err()
        );
        assert!(e.contains("more than one input"), "{e}");
        let mut other = manifest(&[Target::Docker], 5);
        other.git_revision = "other".into();
        let e = format!(
            "{:#}",
            merge_manifests(&[manifest(&[Target::Native], 5), other]).unwrap_err()
        );
        assert!(
            e.contains("has git revision other") && e.contains("same build"),
            "{e}"
        );
        let mut other = manifest(&[Target::Docker], 5);
        other.targets[0].archive = "../../etc/passwd".into();
        let e = format!(
            "{:#}",
            merge_manifests(&[manifest(&[Target::Native], 5), other]).unwrap_err()
        );
        assert!(e.contains("not written by `dist`"), "{e}");
        let mut other = manifest(&[Target::Docker], 5);
        other.targets[0].binary_sha256 = "f".repeat(64);
        let e = format!(
            "{:#}",
            merge_manifests(&[manifest(&[Target::Native], 5), other]).unwrap_err()
        );
        assert!(e.contains("another binary"), "{e}");
        let mut other = manifest(&[Target::Docker], 5);
        other.version = "v2.0.0".into();
        let e = format!(
            "{:#}",
            merge_manifests(&[manifest(&[Target::Native], 5), other]).unwrap_err()
        );
        assert!(e.contains("has version v2.0.0"), "{e}");
    }

    #[test]
    fn version_ordering_and_prune() {
        let mut v = vec!["v1.10.0", "v1.9.0", "v1.10.0-rc.1", "v2.0.0"];
        v.sort_by_key(|v| version_key(v));
        assert_eq!(v, ["v1.9.0", "v1.10.0-rc.1", "v1.10.0", "v2.0.0"]);

        // Pre-release identifiers compare numerically: rc.10 is newer than rc.9, so pruning
        // keeps it (string order would have deleted it).
        let t = tempfile::tempdir().unwrap();
        for d in ["v1.0.0-rc.9", "v1.0.0-rc.10", "v1.0.0-rc.2"] {
            fs::create_dir(t.path().join(d)).unwrap();
        }
        let removed = prune(t.path(), "v1.0.0", 1).unwrap();
        assert_eq!(removed, ["v1.0.0-rc.9", "v1.0.0-rc.2"]);
        assert!(t.path().join("v1.0.0-rc.10").exists());

        let t = tempfile::tempdir().unwrap();
        for d in [
            "v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0", "v2.0.0", "notes", ".cache",
        ] {
            fs::create_dir(t.path().join(d)).unwrap();
        }
        fs::write(t.path().join("v0.9.0"), "a file named like a version").unwrap();
        let removed = prune(t.path(), "v2.0.0", 2).unwrap();
        assert_eq!(removed, ["v1.1.0", "v1.0.0"]);
        for kept in ["v1.2.0", "v1.3.0", "v2.0.0", "notes", ".cache", "v0.9.0"] {
            assert!(t.path().join(kept).exists(), "{kept} kept");
        }
    }
}
