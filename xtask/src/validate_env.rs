//! `cargo xtask validate-env`: checks a `.env` file the way the packages' consumers read it
//! (docker compose `env_file:`, systemd `EnvironmentFile=`), without executing anything,
//! against one rule table ([`rules::RULES`]). The same table renders the shipped POSIX
//! validator `common/helpers/validate-env.sh` (`shell.rs`), so the two cannot drift: a test
//! fails when the committed script differs from the generator's output, and a differential
//! test runs both on a corpus of files and compares their verdicts.

mod shell;

#[cfg(test)]
use envcheck::ENV_EXAMPLE;
pub use envcheck::{known_keys, parse, rules, Finding, Severity};

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    io::Write,
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::{Context, Result};

use crate::target::Target;

use parse::{ComposeValue, Entry, FileProblem, Line};
use rules::{Check, State};

#[derive(clap::Args)]
pub struct ValidateEnvArgs {
    /// The file to check.
    #[arg(long, value_name = "FILE", default_value = ".env")]
    pub env_file: PathBuf,
    /// The package that reads the file: docker (docker compose env_file) or native (systemd
    /// EnvironmentFile=). Default: both. The format rules are the same for both; this only
    /// chooses which reader's view the messages and the consistency check use.
    #[arg(long, value_enum, value_name = "TARGET")]
    pub target: Option<Target>,
    /// Also fail (exit 1) on warnings.
    #[arg(long)]
    pub strict: bool,
    /// Print the findings as a JSON array of {rule, severity, key, line, message, fix}.
    #[arg(long)]
    pub json: bool,
    /// Print the generated common/helpers/validate-env.sh instead of checking anything.
    #[arg(long, hide = true)]
    pub print_shell: bool,
}

/// Checks the bytes of an env file; `target` None = both consumers.
pub fn check_env_bytes(bytes: &[u8], target: Option<Target>) -> Vec<Finding> {
    let mut st = State::default();
    if let Some(problem) = parse::scan_bytes(bytes) {
        // Neither consumer can use the file: nothing else is worth reporting.
        let (id, line) = match problem {
            FileProblem::Nul(line) => ("nul-byte", line),
            FileProblem::Encoding(line) => ("non-utf8", line),
        };
        let rule = rules::rule(id);
        st.report(rule, None, Some(line), rule.message());
        return st.findings;
    }
    let readers = Readers::new(bytes);
    let known = known_keys();
    let mut seen = BTreeSet::new();
    // The validator's reading of every key (the known ones also go to `st.values`).
    let mut ours: BTreeMap<String, (usize, String)> = BTreeMap::new();
    let mut crlf = None;
    for (n, raw) in parse::lines(bytes) {
        let mut line = raw;
        if n == 1 {
            if let Some(rest) = line.strip_prefix(b"\xEF\xBB\xBF") {
                let rule = rules::rule("byte-order-mark");
                st.report(rule, None, Some(1), rule.message());
                line = rest;
            }
        }
        if let Some(rest) = line.strip_suffix(b"\r") {
            line = rest;
            crlf.get_or_insert(n);
        }
        match parse::classify_line(line) {
            Line::Skip => {}
            Line::Problem { rule: id, key } => {
                let rule = rules::rule(id);
                let message = format!("{}{}", rule.message(), readers.describe(n, target));
                st.report(rule, key.as_deref(), Some(n), message);
                // The consumers read something else (or nothing) than the last good line.
                if let Some(k) = key {
                    st.values.remove(&k);
                    ours.remove(&k);
                }
            }
            Line::Assign {
                key,
                value,
                warning,
            } => {
                let is_known = known.contains(&key);
                if !seen.insert(key.clone()) {
                    let rule = rules::rule("duplicate-key");
                    st.report(rule, Some(&key), Some(n), rule.message());
                } else if key.bytes().any(|b| b.is_ascii_lowercase()) {
                    let rule = rules::rule("key-case");
                    let message = with_suggestion(rule.message(), &key, &known);
                    st.report(rule, Some(&key), Some(n), message);
                } else if rules::is_forbidden_key(&key) {
                    let rule = rules::rule("forbidden-key");
                    st.report(rule, Some(&key), Some(n), rule.message());
                } else if let Some(new) = rules::renamed_to(&key) {
                    let rule = rules::rule("renamed-key");
                    let message = rules::renamed_message(rule.problem, new);
                    st.report(rule, Some(&key), Some(n), message);
                } else if !is_known {
                    let rule = rules::rule("unknown-key");
                    let message = with_suggestion(rule.message(), &key, &known);
                    st.report(rule, Some(&key), Some(n), message);
                }
                if let Some(id) = warning {
                    let rule = rules::rule(id);
                    st.report(rule, Some(&key), Some(n), rule.message());
                }
                if st.open(&key) && rules::is_placeholder(&value) {
                    let rule = rules::rule("placeholder");
                    st.report(rule, Some(&key), Some(n), rule.message());
                }
                if is_known {
                    st.values.insert(key.clone(), value.clone());
                    st.lines.insert(key.clone(), n);
                }
                ours.insert(key, (n, value));
            }
        }
    }
    if let Some(n) = crlf {
        let rule = rules::rule("crlf");
        st.report(rule, None, Some(n), rule.message());
    }
    let format_error = st.findings.iter().any(|f| {
        f.severity == Severity::Error && matches!(rules::rule(f.rule).check, Check::Format)
    });
    if !format_error {
        readers.check_agreement(&ours, target, &mut st);
    }
    rules::check_values(&mut st);
    st.findings
}

fn with_suggestion(message: String, key: &str, known: &[String]) -> String {
    match rules::suggest(key, known) {
        Some(s) => format!("{message}; did you mean {s}?"),
        None => message,
    }
}

/// The two consumers' readings of the file, for messages and the consistency check.
struct Readers {
    compose: Result<Vec<Entry<ComposeValue>>, String>,
    systemd: Result<Vec<Entry<String>>, String>,
}

impl Readers {
    fn new(bytes: &[u8]) -> Readers {
        Readers {
            compose: parse::compose(bytes),
            systemd: parse::systemd(bytes),
        }
    }

    /// How the consumers read line `n`, as a clause to append to a message (values are
    /// never printed: they may be secrets).
    fn describe(&self, n: usize, target: Option<Target>) -> String {
        let compose = self
            .compose
            .as_ref()
            .map(|es| es.iter().find(|e| e.line == n));
        let systemd = self
            .systemd
            .as_ref()
            .map(|es| es.iter().find(|e| e.line == n));
        let one = |name: &str, key: Option<&str>, host: bool| match key {
            None => format!("{name} takes no variable from this line"),
            Some(k) if host => format!("{name} takes {k} from the environment it runs in"),
            Some(k) => format!("{name} sets {k} from this line"),
        };
        let c = match &compose {
            Err(e) => (*e).clone(),
            Ok(e) => one(
                "docker compose",
                e.map(|e| e.key.as_str()),
                e.is_some_and(|e| !matches!(e.value, ComposeValue::Text(_))),
            ),
        };
        let s = match &systemd {
            Err(e) => (*e).clone(),
            Ok(e) => one("systemd", e.map(|e| e.key.as_str()), false),
        };
        match target {
            Some(Target::Docker) => format!(" ({c})"),
            Some(Target::Native) => format!(" ({s})"),
            None => match (&compose, &systemd) {
                (Ok(Some(a)), Ok(Some(b))) if a.key == b.key => {
                    if a.value == ComposeValue::Text(b.value.clone()) {
                        format!(
                            " (docker compose and systemd read {} the same today; other readers differ)",
                            a.key
                        )
                    } else {
                        format!(
                            " (docker compose and systemd read different values for {})",
                            a.key
                        )
                    }
                }
                _ => format!(" ({c}; {s})"),
            },
        }
    }

    /// Safety net for a file without format errors: the consumers (the one of `target`, or
    /// both) must read every variable exactly as the validator did. The format rules are
    /// meant to make this impossible; a finding here means a rule is missing.
    fn check_agreement(
        &self,
        ours: &BTreeMap<String, (usize, String)>,
        target: Option<Target>,
        st: &mut State,
    ) {
        /// What a reader ends up with for one variable.
        #[derive(PartialEq)]
        enum Read<'a> {
            Unset,
            Text(&'a str),
            /// Depends on the environment docker compose runs in.
            Host,
        }
        let rule = rules::rule("readers-disagree");
        let compose = match &self.compose {
            Ok(es) => parse::last_wins(es),
            Err(_) => BTreeMap::new(),
        };
        let systemd = match &self.systemd {
            Ok(es) => parse::last_wins(es),
            Err(_) => BTreeMap::new(),
        };
        let keys: BTreeSet<&String> = ours
            .keys()
            .chain(compose.keys())
            .chain(systemd.keys())
            .collect();
        for key in keys {
            let mine = ours.get(key).map_or(Read::Unset, |(_, v)| Read::Text(v));
            let c = compose.get(key).map_or(Read::Unset, |(_, v)| match v {
                ComposeValue::Text(t) => Read::Text(t),
                ComposeValue::Interpolated(_) | ComposeValue::FromHost => Read::Host,
            });
            let s = systemd.get(key).map_or(Read::Unset, |(_, v)| Read::Text(v));
            let compose_ok = target == Some(Target::Native) || c == mine;
            let systemd_ok = target == Some(Target::Docker) || s == mine;
            if compose_ok && systemd_ok {
                continue;
            }
            let who = match (compose_ok, systemd_ok) {
                (false, false) => "docker compose and systemd",
                (false, true) => "docker compose",
                _ => "systemd",
            };
            let line = [
                ours.get(key).map(|(l, _)| *l),
                compose.get(key).map(|(l, _)| *l),
                systemd.get(key).map(|(l, _)| *l),
            ]
            .into_iter()
            .flatten()
            .next();
            let message = format!(
                "{} ({who} read it differently from this validator)",
                rule.problem
            );
            st.report(rule, Some(key), line, message);
        }
    }
}

/// One finding as a line of text, the format both validators print:
/// `ERROR|WARN <rule> <file>[:<line>][ <KEY>]: <message> — fix: <hint>`.
pub fn human(f: &Finding, origin: &str) -> String {
    let place = match f.line {
        Some(n) => format!("{origin}:{n}"),
        None => origin.to_string(),
    };
    let key = f
        .key
        .as_deref()
        .map(|k| format!(" {k}"))
        .unwrap_or_default();
    format!(
        "{} {} {place}{key}: {} — fix: {}",
        f.severity.label(),
        f.rule,
        f.message,
        f.fix
    )
}

/// Reads the file: `None` when it cannot be read (a finding, not a failure of the task).
fn read_env_file(path: &Path) -> Option<Vec<u8>> {
    if !path.is_file() {
        return None;
    }
    fs::read(path).ok()
}

pub fn run(args: &ValidateEnvArgs) -> Result<ExitCode> {
    if args.print_shell {
        std::io::stdout()
            .write_all(shell::render().as_bytes())
            .context("cannot write to stdout")?;
        return Ok(ExitCode::SUCCESS);
    }
    let path = &args.env_file;
    let findings = match read_env_file(path) {
        Some(bytes) => check_env_bytes(&bytes, args.target),
        None => {
            let rule = rules::rule("env-file");
            vec![Finding {
                rule: rule.id,
                severity: rule.severity,
                key: None,
                line: None,
                message: rule.message(),
                fix: rule.fix,
            }]
        }
    };
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    let origin = path.display().to_string();
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &findings).context("cannot write the findings")?;
        writeln!(out)?;
    } else {
        for f in &findings {
            writeln!(out, "{}", human(f, &origin))?;
        }
        let verdict = if errors > 0 || (args.strict && warnings > 0) {
            "FAILED"
        } else {
            "OK"
        };
        writeln!(
            out,
            "validate-env: {verdict} ({origin}): {errors} error(s), {warnings} warning(s)"
        )?;
    }
    out.flush()?;
    Ok(if errors > 0 || (args.strict && warnings > 0) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(findings: &[Finding]) -> Vec<(&'static str, Option<&str>)> {
        findings
            .iter()
            .map(|f| (f.rule, f.key.as_deref()))
            .collect()
    }

    #[test]
    fn known_keys_come_from_the_example() {
        let keys = known_keys();
        assert!(keys.len() >= 40, "{keys:?}");
        for k in [
            "SECURITY_SALT",
            "DB_PASSWORD",
            "V4_ROUTING_ENABLED",
            "COMPOSE_PROJECT_NAME",
        ] {
            assert!(keys.iter().any(|x| x == k), "{k}");
        }
    }

    /// The shipped template has only placeholders to fill in: no format, unknown-key or
    /// value finding beyond them.
    #[test]
    fn the_example_has_only_placeholder_findings() {
        let findings = check_env_bytes(ENV_EXAMPLE.as_bytes(), None);
        assert!(!findings.is_empty());
        for f in &findings {
            assert_eq!(f.rule, "placeholder", "{f:?}");
        }
        for k in ["SECURITY_SALT", "DB_PASSWORD", "APP_PORT", "DB_NAME"] {
            assert!(findings.iter().any(|f| f.key.as_deref() == Some(k)), "{k}");
        }
    }

    #[test]
    fn file_level_findings() {
        assert_eq!(
            pairs(&check_env_bytes(b"A=\0", None)),
            vec![("nul-byte", None)]
        );
        assert_eq!(
            pairs(&check_env_bytes(b"A=\xff", None)),
            vec![("non-utf8", None)]
        );
        let f = check_env_bytes(b"\xEF\xBB\xBFDEBUG=false\r\n", None);
        assert!(pairs(&f).contains(&("byte-order-mark", None)));
        assert!(pairs(&f).contains(&("crlf", None)));
        assert!(
            !pairs(&f).iter().any(|(r, _)| *r == "unknown-key"),
            "BOM stripped: {f:?}"
        );
    }

    #[test]
    fn line_findings_and_flagging() {
        let f = check_env_bytes(
            b"SECURITY_SALT=abc #c\nDB_PASSWORD=x\nDB_PASSWORD=__CHANGE_ME__\ndb_name=x\nDATABASE__NAME=y\n",
            None,
        );
        let p = pairs(&f);
        assert!(p.contains(&("inline-comment", Some("SECURITY_SALT"))));
        assert!(
            !p.contains(&("salt-required", Some("SECURITY_SALT"))),
            "one error per variable: {p:?}"
        );
        assert!(p.contains(&("duplicate-key", Some("DB_PASSWORD"))));
        assert!(p.contains(&("placeholder", Some("DB_PASSWORD"))));
        assert!(p.contains(&("key-case", Some("db_name"))));
        let unknown = f.iter().find(|f| f.rule == "unknown-key").unwrap();
        assert!(
            unknown.message.contains("did you mean DB_NAME?"),
            "{unknown:?}"
        );
        assert!(p.contains(&("db-name-unset", Some("DB_NAME"))));
        let inline = f.iter().find(|f| f.rule == "inline-comment").unwrap();
        assert!(
            inline
                .message
                .contains("different values for SECURITY_SALT"),
            "{inline:?}"
        );
        assert_eq!(inline.line, Some(1));
    }

    #[test]
    fn messages_name_the_readers() {
        let f = check_env_bytes(b"export DEBUG=false\n", None);
        assert!(
            f[0].message
                .contains("docker compose sets DEBUG from this line; systemd takes no variable"),
            "{f:?}"
        );
        let f = check_env_bytes(b"export DEBUG=false\n", Some(Target::Native));
        assert!(
            f[0].message
                .ends_with("(systemd takes no variable from this line)"),
            "{f:?}"
        );
    }

    /// Pseudo-random files from the characters that matter to the readers: whenever the
    /// validator finds no format error, docker compose and systemd read every variable as
    /// it does (no `readers-disagree`), so the format rules alone decide the verdict.
    #[test]
    fn format_rules_cover_every_disagreement() {
        const PIECES: &[&str] = &[
            "KEY", "B", "x", "=", "==", " ", "\t", "#", "'", "\"", "\\", "$", "${B}", "$(", "`",
            "export ", ";", "\n", "\r\n", "\r", "\u{a0}", "\u{2028}", "é", ":-", "}", "a b",
            "\x0b", "\x1c", "\u{feff}",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut clean = 0;
        for _ in 0..30_000 {
            let mut text = String::new();
            for _ in 0..next(4) + 1 {
                if next(2) == 0 {
                    text.push_str(["KEY", "B", "x"][next(3)]);
                    text.push('=');
                }
                for _ in 0..next(6) {
                    text.push_str(PIECES[next(PIECES.len())]);
                }
                text.push('\n');
            }
            let findings = check_env_bytes(text.as_bytes(), None);
            assert!(
                !findings.iter().any(|f| f.rule == "readers-disagree"),
                "{text:?}: {findings:?}"
            );
            if !findings.iter().any(|f| {
                f.severity == Severity::Error && matches!(rules::rule(f.rule).check, Check::Format)
            }) {
                clean += 1;
            }
        }
        assert!(
            clean > 1000,
            "the generator should also produce valid files: {clean}"
        );
    }

    /// Every variable the deployment files read from `.env` is in `.env.example` or `.env.full.example` (the audit
    /// checks the assembled packages; this checks the sources the known keys come from).
    #[test]
    fn every_variable_the_packages_read_is_known() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let known = known_keys();
        let read = |rel: &str| fs::read_to_string(root.join(rel)).unwrap();
        let mut wanted: BTreeMap<String, String> = BTreeMap::new();
        // ${NAME...} in the compose file (interpolated from .env).
        for name in braced_references(&read("targets/docker/docker-compose.yaml")) {
            wanted.insert(name, "docker-compose.yaml".into());
        }
        // ${NAME} in the units (systemd's own expansion), except what a unit sets itself
        // with Environment=.
        let mut units: Vec<String> = fs::read_dir(root.join("targets/native/systemd"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".service"))
            .collect();
        units.sort();
        for unit in &units {
            let text = read(&format!("targets/native/systemd/{unit}"));
            let set: Vec<&str> = text
                .lines()
                .filter_map(|l| l.strip_prefix("Environment="))
                .filter_map(|l| l.split_once('=').map(|(k, _)| k))
                .collect();
            for name in braced_references(&text) {
                if !set.contains(&name.as_str()) || known.contains(&name) {
                    wanted.insert(name, unit.clone());
                }
            }
        }
        // Shell scripts: upper-case $NAME / ${NAME} they read but never assign.
        for rel in [
            "targets/docker/entrypoint.sh",
            "targets/native/run-native.sh",
        ] {
            let text = read(rel);
            let code: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .collect::<Vec<_>>()
                .join("\n");
            for name in shell_references(&code) {
                let assigned = code.lines().any(|l| {
                    let l = l.trim_start();
                    l.starts_with(&format!("{name}=")) || l.starts_with(&format!("export {name}="))
                });
                if !assigned && !["LC_ALL", "PATH", "HOME", "PWD"].contains(&name.as_str()) {
                    wanted.insert(name, rel.to_string());
                }
            }
        }
        // env('NAME') in the configuration templates.
        for entry in walkdir::WalkDir::new(root.join("common/config")) {
            let entry = entry.unwrap();
            if !entry.file_type().is_file() {
                continue;
            }
            let path = entry.path().to_path_buf();
            let text = fs::read_to_string(&path).unwrap();
            for part in text.split("env('").skip(1) {
                if let Some(name) = part.split('\'').next() {
                    wanted.insert(name.to_string(), path.display().to_string());
                }
            }
        }
        assert!(wanted.contains_key("APP_BIND_IP") && wanted.contains_key("SECURITY_SALT"));
        let missing: Vec<String> = wanted
            .into_iter()
            .filter(|(name, _)| !known.contains(name))
            .map(|(name, file)| match rules::renamed_to(&name) {
                Some(new) => format!("{file} reads {name}: its name is now {new}"),
                None => format!("{file} reads {name}, which .env.full.example lacks"),
            })
            .collect();
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }

    fn braced_references(text: &str) -> Vec<String> {
        text.split("${")
            .skip(1)
            .filter_map(|p| {
                let name: String = p
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                (!name.is_empty()).then_some(name)
            })
            .collect()
    }

    fn shell_references(code: &str) -> Vec<String> {
        code.split('$')
            .skip(1)
            .filter_map(|p| {
                let p = p.strip_prefix('{').unwrap_or(p);
                let name: String = p
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit()))
                    .then_some(name)
            })
            .collect()
    }
}
