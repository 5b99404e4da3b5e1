//! Docker Compose checks. The production file (`compose.yaml`/`docker-compose.yaml`, what
//! `docker compose up` loads) must give every long-running service a health check, CPU
//! and memory limits, log rotation and a restart policy, and no fixed `container_name`.
//! Every compose file (overlays such as the development `docker-compose.services.yml`
//! included) must not rely on `$(...)` (Compose keeps it literal) and pin its images.
//!
//! Health check exemption: a service may set `healthcheck: {disable: true}` when it
//! publishes no port (a queue worker has nothing to probe; its restart policy covers
//! crashes). A service without a `healthcheck` key is fine when it builds an image whose
//! Dockerfile has a `HEALTHCHECK`. A service with `restart: "no"` is one-shot and needs
//! neither a health check nor a restart policy.
//!
//! Long-running services should also run under Docker's init (`init: true`: it reaps the
//! processes PHP leaves behind, which an application PID 1 does not) and cap their process
//! count (`pids_limit`); both are warnings.
//!
//! CPU limit: `cpus` (or `deploy.resources.limits.cpus`) or `cpu_quota`. A `cpus` value
//! above 1 warns: Docker refuses to create the container on a host with fewer CPUs
//! ("Range of CPUs is from 0.01 to N"), while a CFS quota above the host's capacity is
//! accepted, so `cpu_quota`/`cpu_period` carries such a limit on every host.

use super::{
    dockerfile, join_rel,
    yaml::{self, Node},
    AuditFinding, Package, Severity,
};

pub const PARSE: &str = "compose-parse";
pub const NO_HEALTHCHECK: &str = "compose-no-healthcheck";
pub const NO_LIMITS: &str = "compose-no-limits";
pub const NO_LOG_ROTATION: &str = "compose-no-log-rotation";
pub const NO_RESTART: &str = "compose-no-restart";
pub const CONTAINER_NAME: &str = "compose-container-name";
pub const COMMAND_SUBSTITUTION: &str = "compose-command-substitution";
pub const IMAGE_UNPINNED: &str = "compose-image-unpinned";
pub const CPUS_HOST_BOUND: &str = "compose-cpus-host-bound";
pub const NO_INIT: &str = "compose-no-init";
pub const NO_PIDS_LIMIT: &str = "compose-no-pids-limit";

/// The files `docker compose` reads without `-f`.
const DEFAULT_FILES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// Compose files of the package: the default names and `compose.*.y(a)ml` /
/// `docker-compose.*.y(a)ml` overlays, at any depth.
pub fn compose_files(pkg: &Package) -> Vec<&str> {
    pkg.files
        .keys()
        .map(String::as_str)
        .filter(|p| {
            let name = p.rsplit('/').next().unwrap_or(p);
            (name.starts_with("compose.") || name.starts_with("docker-compose."))
                && (name.ends_with(".yaml") || name.ends_with(".yml"))
        })
        .collect()
}

pub fn is_production(rel: &str) -> bool {
    DEFAULT_FILES.contains(&rel.rsplit('/').next().unwrap_or(rel))
}

/// Parses a compose file; a parse error becomes a finding.
pub fn parse(rel: &str, text: &str) -> Result<Option<Node>, Box<AuditFinding>> {
    yaml::parse(text).map_err(|e| {
        Box::new(AuditFinding::error(
            PARSE,
            rel,
            Some(e.line),
            format!("not valid YAML for Compose: {}", e.message),
            "fix the syntax (docker compose config shows the same error)",
        ))
    })
}

/// The folder of a package file ("" at the top).
fn dir_of(rel: &str) -> &str {
    rel.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

/// Files a compose file refers to: (line, path relative to the package, what, optional).
/// A path that leaves the package is returned as `None`.
pub fn references(rel: &str, doc: &Node) -> Vec<(usize, String, Option<String>, bool)> {
    let base = dir_of(rel);
    let mut out = Vec::new();
    let mut add = |line: usize, what: String, path: &str, optional: bool| {
        out.push((line, what, join_rel(base, path), optional));
    };
    for (name_node, svc) in doc.get("services").map(Node::entries).unwrap_or(&[]) {
        let name = name_node.as_str().unwrap_or("?");
        if let Some(ef) = svc.get("env_file") {
            let items: Vec<&Node> = match &ef.value {
                yaml::Value::Seq(i) => i.iter().collect(),
                _ => vec![ef],
            };
            for it in items {
                let (path, optional) = match it.as_str() {
                    Some(p) => (Some(p), false),
                    None => (
                        it.get("path").and_then(Node::as_str),
                        it.get("required").is_some_and(|r| {
                            r.as_str().is_some_and(|s| s.eq_ignore_ascii_case("false"))
                        }),
                    ),
                };
                if let Some(p) = path {
                    add(it.line, format!("env_file of service {name}"), p, optional);
                }
            }
        }
        if let Some(b) = svc.get("build") {
            let (context, dockerfile) = match b.as_str() {
                Some(c) => (Some((b.line, c)), None),
                None => (
                    b.get("context")
                        .and_then(|c| c.as_str().map(|s| (c.line, s))),
                    b.get("dockerfile")
                        .and_then(|d| d.as_str().map(|s| (d.line, s))),
                ),
            };
            let (cline, ctx) = context.unwrap_or((b.line, "."));
            if !ctx.contains("://") && !ctx.starts_with("git@") {
                add(
                    cline,
                    format!("build context of service {name}"),
                    ctx,
                    false,
                );
                let (dline, df) = dockerfile.unwrap_or((b.line, "Dockerfile"));
                let joined = format!("{}/{df}", ctx.trim_end_matches('/'));
                add(
                    dline,
                    format!("Dockerfile of service {name}"),
                    &joined,
                    false,
                );
            }
        }
        for v in svc.get("volumes").map(Node::items).unwrap_or(&[]) {
            let source = match v.as_str() {
                Some(s) => s.split(':').next().map(str::to_string),
                None => match v.get("type").and_then(Node::as_str) {
                    Some("bind") | None => v.get("source").and_then(Node::as_str).map(String::from),
                    _ => None,
                },
            };
            if let Some(s) = source
                .filter(|s| s == "." || s == ".." || s.starts_with("./") || s.starts_with("../"))
            {
                add(v.line, format!("bind mount of service {name}"), &s, false);
            }
        }
        if let Some(f) = svc.get("extends").and_then(|e| e.get("file")) {
            if let Some(p) = f.as_str() {
                add(f.line, format!("extends of service {name}"), p, false);
            }
        }
    }
    for section in ["configs", "secrets"] {
        for (n, item) in doc.get(section).map(Node::entries).unwrap_or(&[]) {
            if let Some(f) = item.get("file") {
                if let Some(p) = f.as_str() {
                    add(
                        f.line,
                        format!("{section} entry {}", n.as_str().unwrap_or("?")),
                        p,
                        false,
                    );
                }
            }
        }
    }
    out
}

/// `$(` or a backtick that is not escaped as `$$(`: Compose passes it on literally.
fn command_substitution(s: &str) -> Option<&'static str> {
    let b = s.as_bytes();
    for i in 0..b.len() {
        if b[i] == b'$' && b.get(i + 1) == Some(&b'(') {
            let dollars = b[..i].iter().rev().take_while(|&&c| c == b'$').count();
            if dollars % 2 == 0 {
                return Some("$(...)");
            }
        }
        if b[i] == b'`' {
            return Some("`...`");
        }
    }
    None
}

fn has_any(n: &Node, paths: &[&[&str]]) -> bool {
    paths.iter().any(|p| {
        let mut cur = Some(n);
        for k in *p {
            cur = cur.and_then(|c| c.get(k));
        }
        cur.is_some_and(|c| !c.is_null())
    })
}

/// Whether the service's image (built from a Dockerfile in the package) has a HEALTHCHECK.
fn built_image_has_healthcheck(pkg: &Package, rel: &str, svc: &Node) -> bool {
    let Some(b) = svc.get("build") else {
        return false;
    };
    let ctx = b
        .as_str()
        .or_else(|| b.get("context").and_then(Node::as_str))
        .unwrap_or(".");
    let df = b
        .get("dockerfile")
        .and_then(Node::as_str)
        .unwrap_or("Dockerfile");
    let Some(path) = join_rel(dir_of(rel), &format!("{ctx}/{df}")) else {
        return false;
    };
    pkg.text(&path).is_some_and(|t| {
        let m = dockerfile::model(t);
        m.final_stage()
            .iter()
            .rev()
            .find(|i| i.keyword == "HEALTHCHECK")
            .is_some_and(|h| !h.args.trim().eq_ignore_ascii_case("none"))
    })
}

/// Checks one compose file.
pub fn check_file(pkg: &Package, rel: &str, text: &str) -> Vec<AuditFinding> {
    let mut out = Vec::new();
    let doc = match parse(rel, text) {
        Ok(Some(d)) => d,
        Ok(None) => return out,
        Err(f) => return vec![*f],
    };
    for s in doc.scalars() {
        if let Some(what) = s.as_str().and_then(command_substitution) {
            out.push(AuditFinding::error(
                COMMAND_SUBSTITUTION,
                rel,
                Some(s.line),
                format!("{what} in a Compose value is not run: Compose passes it on literally"),
                "put the value in .env, use ${VAR} interpolation, or write $$(...) when a shell inside the container should run it",
            ));
        }
    }
    let production = is_production(rel);
    for (name_node, svc) in doc.get("services").map(Node::entries).unwrap_or(&[]) {
        let name = name_node.as_str().unwrap_or("?");
        let line = Some(name_node.line);
        if let Some((k, v)) = svc.entry("image") {
            if let Some(p) = v.as_str().and_then(dockerfile::image_pin_problem) {
                // The built image's own name is only a local tag when `build` is there,
                // but the same moving tag would be pulled by a host without the build.
                out.push(AuditFinding::error(
                    IMAGE_UNPINNED,
                    rel,
                    Some(k.line),
                    format!("service {name}: image {p}"),
                    "pin a version tag or digest",
                ));
            }
        }
        if let Some((k, _)) = svc.entry("container_name") {
            let mut f = AuditFinding::error(
                CONTAINER_NAME,
                rel,
                Some(k.line),
                format!("service {name} has a fixed container_name: it cannot be scaled (docker compose up --scale) and two projects on one host collide"),
                "remove container_name; set COMPOSE_PROJECT_NAME in .env for stable names",
            );
            if !production {
                f.severity = Severity::Warning;
            }
            out.push(f);
        }
        if !production {
            continue;
        }
        let restart = svc.get("restart").and_then(Node::as_str);
        let policy = svc
            .get("deploy")
            .and_then(|d| d.get("restart_policy"))
            .and_then(|p| p.get("condition"))
            .and_then(Node::as_str);
        let one_shot = restart == Some("no") || policy == Some("none");
        match (restart, policy) {
            (Some("always" | "unless-stopped"), _) => {}
            (Some(r), _) if r.starts_with("on-failure") => {}
            (_, Some("any" | "on-failure")) => {}
            _ if one_shot => {}
            _ => out.push(AuditFinding::error(
                NO_RESTART,
                rel,
                svc.entry("restart").map(|(k, _)| k.line).or(line),
                format!(
                    "service {name} has no restart policy: after a crash or a reboot it stays down"
                ),
                "add restart: unless-stopped",
            )),
        }
        if !one_shot {
            let hc = svc.get("healthcheck");
            let disabled = hc.and_then(|h| h.get("disable")).is_some_and(Node::is_true);
            let has_test = hc.is_some_and(|h| {
                h.get("test").is_some_and(|t| {
                    !t.is_null() && t.items().first().and_then(Node::as_str) != Some("NONE")
                })
            });
            let publishes = has_any(svc, &[&["ports"], &["expose"]]);
            let problem = if disabled && publishes && !has_test {
                Some(format!(
                    "service {name} publishes a port but disables its health check"
                ))
            } else if has_test
                || disabled
                || (hc.is_none() && built_image_has_healthcheck(pkg, rel, svc))
            {
                None
            } else {
                Some(format!("service {name} has no health check: Docker cannot tell when it hangs, and depends_on: service_healthy never fires"))
            };
            if let Some(p) = problem {
                out.push(AuditFinding::error(
                    NO_HEALTHCHECK,
                    rel,
                    svc.entry("healthcheck").map(|(k, _)| k.line).or(line),
                    p,
                    "add healthcheck: {test: [CMD, ...], interval: 30s, timeout: 5s, retries: 3}; a worker without ports may set healthcheck: {disable: true}",
                ));
            }
        }
        if !one_shot {
            if !svc.get("init").is_some_and(Node::is_true) {
                out.push(AuditFinding::warning(
                    NO_INIT,
                    rel,
                    line,
                    format!("service {name} runs without Docker's init: processes its PID 1 leaves behind are never reaped and pile up as zombies"),
                    "add init: true",
                ));
            }
            if !has_any(
                svc,
                &[&["pids_limit"], &["deploy", "resources", "limits", "pids"]],
            ) {
                out.push(AuditFinding::warning(
                    NO_PIDS_LIMIT,
                    rel,
                    line,
                    format!("service {name} has no process limit: a fork or thread leak can exhaust the host's PIDs"),
                    "add pids_limit: 1024",
                ));
            }
        }
        let cpu = has_any(
            svc,
            &[
                &["cpus"],
                &["deploy", "resources", "limits", "cpus"],
                &["cpu_quota"],
            ],
        );
        for path in [&["cpus"][..], &["deploy", "resources", "limits", "cpus"]] {
            let mut cur = Some(svc);
            for k in path {
                cur = cur.and_then(|c| c.get(k));
            }
            let Some(n) = cur else { continue };
            if n.as_str()
                .and_then(|v| v.trim().parse::<f64>().ok())
                .is_some_and(|v| v > 1.0)
            {
                out.push(AuditFinding::warning(
                    CPUS_HOST_BOUND,
                    rel,
                    Some(n.line),
                    format!("service {name}: {} = {} makes Docker refuse the container on a host with fewer CPUs", path.join("."), n.as_str().unwrap_or("?")),
                    "limit CPU with cpu_period: 100000 and cpu_quota: <CPUs x 100000> instead (accepted on every host)",
                ));
            }
        }
        let mem = has_any(
            svc,
            &[&["mem_limit"], &["deploy", "resources", "limits", "memory"]],
        );
        if !cpu || !mem {
            let missing = match (cpu, mem) {
                (false, false) => "CPU and memory limits",
                (false, true) => "a CPU limit",
                _ => "a memory limit",
            };
            out.push(AuditFinding::error(
                NO_LIMITS,
                rel,
                line,
                format!(
                    "service {name} has no {missing}: one runaway container can starve the host"
                ),
                "set cpu_period/cpu_quota (or cpus) and deploy.resources.limits.memory",
            ));
        }
        let logging = svc.get("logging");
        let driver = logging
            .and_then(|l| l.get("driver"))
            .and_then(Node::as_str)
            .unwrap_or("json-file");
        let rotated = match driver {
            "json-file" => {
                has_any(svc, &[&["logging", "options", "max-size"]])
                    && has_any(svc, &[&["logging", "options", "max-file"]])
            }
            // These rotate by themselves or do not write to the host's disk.
            _ => true,
        };
        if !rotated {
            out.push(AuditFinding::error(
                NO_LOG_ROTATION,
                rel,
                svc.entry("logging").map(|(k, _)| k.line).or(line),
                format!("service {name} logs with json-file without max-size and max-file: the log grows until the disk is full"),
                "add logging: {driver: json-file, options: {max-size: \"10m\", max-file: \"3\"}}",
            ));
        }
    }
    out
}

pub fn check(pkg: &Package) -> Vec<AuditFinding> {
    compose_files(pkg)
        .into_iter()
        .filter_map(|rel| pkg.text(rel).map(|t| check_file(pkg, rel, t)))
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"x-common: &common
  image: app:v1.0.0
  build:
    context: .
  env_file: .env
  restart: unless-stopped
  deploy:
    resources:
      limits: {cpus: "1", memory: 2G}
  logging:
    driver: json-file
    options: {max-size: "10m", max-file: "3"}
  init: true
  pids_limit: 512
services:
  web:
    <<: *common
    ports: ["127.0.0.1:8080:8080"]
    healthcheck:
      test: ["CMD", "true"]
  worker:
    <<: *common
    healthcheck:
      disable: true
  init:
    image: busybox:1.36
    restart: "no"
    cpus: 1
    mem_limit: 64m
    logging: {driver: local}
"#;

    fn ids(text: &str) -> Vec<(&'static str, Option<usize>)> {
        let pkg = Package::from_texts(None, &[("docker-compose.yaml", 0o644, text)]);
        check_file(&pkg, "docker-compose.yaml", text)
            .into_iter()
            .map(|f| (f.check, f.line))
            .collect()
    }

    #[test]
    fn a_good_file_passes() {
        assert_eq!(ids(GOOD), []);
    }

    #[test]
    fn each_defect_is_found_on_its_line() {
        let bad = |from: &str, to: &str| {
            assert!(GOOD.contains(from), "{from}");
            ids(&GOOD.replace(from, to))
        };
        assert_eq!(
            bad("  restart: unless-stopped\n", ""),
            [(NO_RESTART, Some(15)), (NO_RESTART, Some(20))]
        );
        assert_eq!(
            bad(
                "      limits: {cpus: \"1\", memory: 2G}\n",
                "      limits: {cpus: \"1\"}\n"
            ),
            [(NO_LIMITS, Some(16)), (NO_LIMITS, Some(21))]
        );
        assert_eq!(
            bad(
                "options: {max-size: \"10m\", max-file: \"3\"}",
                "options: {}"
            ),
            [(NO_LOG_ROTATION, Some(10)), (NO_LOG_ROTATION, Some(10))]
        );
        assert_eq!(
            bad("    healthcheck:\n      test: [\"CMD\", \"true\"]\n", ""),
            [(NO_HEALTHCHECK, Some(16))]
        );
        assert_eq!(
            bad("  worker:\n", "  worker:\n    ports: [\"9000\"]\n"),
            [(NO_HEALTHCHECK, Some(24))]
        );
        assert_eq!(
            bad("  init:\n", "  init:\n    container_name: init\n"),
            [(CONTAINER_NAME, Some(26))]
        );
        assert_eq!(
            bad(
                "image: busybox:1.36",
                "image: busybox\n    command: [\"echo $(date)\"]"
            ),
            [(COMMAND_SUBSTITUTION, Some(27)), (IMAGE_UNPINNED, Some(26))]
        );
        assert_eq!(
            bad(
                "[\"CMD\", \"true\"]",
                "[\"CMD-SHELL\", \"test $$(id -u) = 1\"]"
            ),
            []
        );
        let err = ids("services:\n  a: [\n");
        assert_eq!(err.len(), 1);
        assert_eq!(err[0].0, PARSE);
    }

    #[test]
    fn cpu_limits_that_depend_on_the_host_warn() {
        let with = |limits: &str| {
            ids(&GOOD.replace(
                "      limits: {cpus: \"1\", memory: 2G}\n",
                &format!("      limits: {limits}\n"),
            ))
        };
        assert_eq!(
            with("{cpus: \"2\", memory: 2G}"),
            [(CPUS_HOST_BOUND, Some(9)), (CPUS_HOST_BOUND, Some(9))],
            "both services merge the anchor"
        );
        let good = GOOD.replace(
            "  restart: unless-stopped\n",
            "  restart: unless-stopped\n  cpus: 1.5\n",
        );
        assert_eq!(
            ids(&good),
            [(CPUS_HOST_BOUND, Some(7)), (CPUS_HOST_BOUND, Some(7))]
        );
        let quota = GOOD.replace(
            "      limits: {cpus: \"1\", memory: 2G}\n",
            "      limits: {memory: 2G}\n",
        );
        assert_eq!(
            ids(&quota),
            [(NO_LIMITS, Some(16)), (NO_LIMITS, Some(21))],
            "memory alone is not a CPU limit"
        );
        let quota = quota.replace(
            "  restart: unless-stopped\n",
            "  restart: unless-stopped\n  cpu_period: 100000\n  cpu_quota: 200000\n",
        );
        assert_eq!(ids(&quota), [], "a CFS quota is a CPU limit");
        assert_eq!(with("{cpus: \"1\", memory: 2G}"), []);
    }

    #[test]
    fn init_and_pids_limit_are_expected_of_long_running_services() {
        assert_eq!(
            ids(&GOOD.replace("  init: true\n", "")),
            [(NO_INIT, Some(15)), (NO_INIT, Some(20))]
        );
        assert_eq!(
            ids(&GOOD.replace("  pids_limit: 512\n", "")),
            [(NO_PIDS_LIMIT, Some(15)), (NO_PIDS_LIMIT, Some(20))]
        );
        let f = check_file(
            &Package::from_texts(None, &[]),
            "docker-compose.yaml",
            &GOOD.replace("  init: true\n", ""),
        );
        assert!(f.iter().all(|f| f.severity == Severity::Warning));
    }

    #[test]
    fn command_substitution_matcher() {
        assert_eq!(command_substitution("a $(b)"), Some("$(...)"));
        assert_eq!(command_substitution("a `b`"), Some("`...`"));
        assert_eq!(
            command_substitution("a $$(b)"),
            None,
            "escaped for the container shell"
        );
        assert_eq!(command_substitution("a $$$(b)"), Some("$(...)"));
        assert_eq!(command_substitution("${A:-b} $B (c)"), None);
    }

    #[test]
    fn overlays_only_get_the_generic_checks() {
        let text = "services:\n  db:\n    image: postgres:16\n    container_name: db\n";
        let pkg = Package::from_texts(None, &[]);
        let f = check_file(&pkg, "docker-compose.services.yml", text);
        assert_eq!(f.len(), 1);
        assert_eq!(
            (f[0].check, f[0].severity),
            (CONTAINER_NAME, Severity::Warning)
        );
    }

    #[test]
    fn references_are_listed() {
        let doc = yaml::parse(GOOD).unwrap().unwrap();
        let refs = references("docker-compose.yaml", &doc);
        let paths: Vec<Option<&str>> = refs.iter().map(|r| r.2.as_deref()).collect();
        assert_eq!(
            paths,
            [
                Some(".env"),
                Some(""),
                Some("Dockerfile"),
                Some(".env"),
                Some(""),
                Some("Dockerfile")
            ]
        );
        let doc = yaml::parse("services:\n  a:\n    volumes: [\"./data:/d\", \"../x:/x\", \"named:/n\"]\n    env_file: [{path: a.env, required: false}]\n").unwrap().unwrap();
        let refs = references("docker-compose.yaml", &doc);
        assert_eq!(refs.len(), 3);
        assert_eq!(refs[0].2.as_deref(), Some("a.env"));
        assert!(refs[0].3, "optional");
        assert_eq!(refs[1].2.as_deref(), Some("data"));
        assert_eq!(refs[2].2, None, "outside the package");
    }
}
