//! `cargo xtask validate-env`: checks a `.env` file the way the packages' consumers read it
//! (docker compose 1.29 and v2 `env_file:`, systemd `EnvironmentFile=`), without executing anything,
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
    /// The package that reads the file: docker (docker compose 1.29 and v2 env_file) or
    /// native (systemd EnvironmentFile=). Default: both. The format rules are the same for both; this only
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

/// Checks the bytes of an env file; `target` None = every consumer.
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

/// One consumer's reading of the whole file.
struct Reading {
    /// As messages name it.
    name: &'static str,
    /// The package whose consumer it is.
    target: Target,
    /// Every assignment in file order, or why the consumer refuses the whole file.
    entries: Result<Vec<Entry<ComposeValue>>, String>,
}

/// The consumers' readings of the file (docker compose 1.29, docker compose v2, systemd),
/// for messages and the consistency check.
struct Readers(Vec<Reading>);

impl Readers {
    fn new(bytes: &[u8]) -> Readers {
        let systemd = parse::systemd(bytes).map(|es| {
            es.into_iter()
                .map(|e| Entry {
                    line: e.line,
                    key: e.key,
                    value: ComposeValue::Text(e.value),
                })
                .collect()
        });
        // compose-go's messages quote the line, which may hold a secret: keep the line
        // number only.
        let v2 = parse::compose_v2(bytes).map_err(|e| {
            let at = e
                .strip_prefix("line ")
                .and_then(|r| r.split_once(':'))
                .map(|(n, _)| format!(" at line {n}"))
                .unwrap_or_default();
            format!("docker compose v2 refuses the whole file{at}")
        });
        Readers(vec![
            Reading {
                name: "docker compose 1.29",
                target: Target::Docker,
                entries: parse::compose(bytes),
            },
            Reading {
                name: "docker compose v2",
                target: Target::Docker,
                entries: v2,
            },
            Reading {
                name: "systemd",
                target: Target::Native,
                entries: systemd,
            },
            Reading {
                name: "kustomize (kubectl apply -k)",
                target: Target::Kubernetes,
                entries: parse::kustomize(bytes),
            },
        ])
    }

    /// The readings of `target`'s consumers (`None`: all).
    fn of(&self, target: Option<Target>) -> impl Iterator<Item = &Reading> {
        self.0
            .iter()
            // Without a target: the Docker and native consumers. Kustomize keeps quotes in
            // values, so it is checked only for the Kubernetes package (--target kubernetes).
            .filter(move |r| target.map_or(r.target != Target::Kubernetes, |t| t == r.target))
    }

    /// How the consumers read line `n`, as a clause to append to a message (values are
    /// never printed: they may be secrets).
    fn describe(&self, n: usize, target: Option<Target>) -> String {
        let readings: Vec<_> = self
            .of(target)
            .map(|r| {
                (
                    r,
                    r.entries.as_ref().map(|es| es.iter().find(|e| e.line == n)),
                )
            })
            .collect();
        let names = names(readings.iter().map(|(r, _)| r.name));
        if readings.len() > 1 {
            if let Some(Ok(Some(first))) = readings.first().map(|(_, e)| e) {
                let same_key = readings
                    .iter()
                    .all(|(_, e)| matches!(e, Ok(Some(x)) if x.key == first.key));
                let same_text = readings.iter().all(|(_, e)| {
                    matches!(e, Ok(Some(x)) if x.value == first.value)
                        && matches!(first.value, ComposeValue::Text(_))
                });
                if same_key && same_text {
                    return format!(
                        " ({names} read {} the same today; other readers differ)",
                        first.key
                    );
                }
                if same_key {
                    return format!(" ({names} read different values for {})", first.key);
                }
            }
        }
        let clauses: Vec<String> = readings
            .iter()
            .map(|(r, e)| match e {
                Err(why) => (*why).clone(),
                Ok(None) => format!("{} takes no variable from this line", r.name),
                Ok(Some(e)) if matches!(e.value, ComposeValue::Text(_)) => {
                    format!("{} sets {} from this line", r.name, e.key)
                }
                Ok(Some(e)) => {
                    format!("{} takes {} from the environment it runs in", r.name, e.key)
                }
            })
            .collect();
        format!(" ({})", clauses.join("; "))
    }

    /// Safety net for a file without format errors: the consumers (the ones of `target`, or
    /// all) must read every variable exactly as the validator did. The format rules are
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
        let maps: Vec<_> = self
            .of(target)
            .map(|r| match &r.entries {
                Ok(es) => (r, parse::last_wins(es)),
                Err(_) => (r, BTreeMap::new()),
            })
            .collect();
        let mut keys: BTreeSet<&String> = ours.keys().collect();
        for (_, m) in &maps {
            keys.extend(m.keys());
        }
        for key in keys {
            let mine = ours.get(key).map_or(Read::Unset, |(_, v)| Read::Text(v));
            let differ: Vec<&str> = maps
                .iter()
                .filter(|(_, m)| {
                    let theirs = m.get(key).map_or(Read::Unset, |(_, v)| match v {
                        ComposeValue::Text(t) => Read::Text(t),
                        ComposeValue::Interpolated(_) | ComposeValue::FromHost => Read::Host,
                    });
                    theirs != mine
                })
                .map(|(r, _)| r.name)
                .collect();
            if differ.is_empty() {
                continue;
            }
            let line = std::iter::once(ours.get(key).map(|(l, _)| *l))
                .chain(maps.iter().map(|(_, m)| m.get(key).map(|(l, _)| *l)))
                .flatten()
                .next();
            let message = format!(
                "{} ({} read it differently from this validator)",
                rule.problem,
                names(differ.into_iter())
            );
            st.report(rule, Some(key), line, message);
        }
    }
}

/// "a", "a and b", "a, b and c".
fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
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
                .contains("docker compose 1.29 sets DEBUG from this line; docker compose v2 sets DEBUG from this line; systemd takes no variable"),
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
    /// validator finds no format error, docker compose 1.29, docker compose v2 and systemd
    /// read every variable as it does (no `readers-disagree`), so the format rules alone
    /// decide the verdict.
    #[test]
    fn format_rules_cover_every_disagreement() {
        const PIECES: &[&str] = &[
            "KEY", "B", "x", "=", "==", " ", "\t", "#", "'", "\"", "\\", "$", "${B}", "$(", "`",
            "export ", ";", "\n", "\r\n", "\r", "\u{a0}", "\u{2028}", "é", ":-", "}", "a b",
            "\x0b", "\x1c", "\u{feff}",
            // What only docker compose v2 treats specially: YAML-style ':', name characters,
            // its blanks, octal escapes, '$$', a tab before '#'.
            ":", ".", "-", "[1]", "\x0c", "\u{85}", "\\0101", "{", "$$", "\t#", " # ",
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

    /// The safety net names the reader that differs, docker compose v2 included.
    #[test]
    fn agreement_names_each_reader() {
        let differ = |bytes: &[u8], ours: &[(&str, &str)]| {
            let ours = ours
                .iter()
                .map(|(k, v)| (k.to_string(), (1, v.to_string())))
                .collect();
            let mut st = State::default();
            Readers::new(bytes).check_agreement(&ours, None, &mut st);
            st.findings
                .iter()
                .map(|f| {
                    assert_eq!(f.rule, "readers-disagree");
                    format!("{}: {}", f.key.as_deref().unwrap(), f.message)
                })
                .collect::<Vec<_>>()
        };
        let only = |who: &str| format!("({who} read it differently from this validator)");
        // A tab before '#': only 1.29 drops the comment.
        let f = differ(b"DEBUG=x\t#c\n", &[("DEBUG", "x\t#c")]);
        assert!(
            f.len() == 1 && f[0].ends_with(&only("docker compose 1.29")),
            "{f:?}"
        );
        // A space before '#': both compose versions drop it, systemd keeps it.
        let f = differ(b"DEBUG=x #c\n", &[("DEBUG", "x")]);
        assert!(f.len() == 1 && f[0].ends_with(&only("systemd")), "{f:?}");
        // YAML style: only v2 sets a variable.
        let f = differ(b"DEBUG: false\n", &[]);
        assert!(
            f.len() == 1 && f[0].ends_with(&only("docker compose v2")),
            "{f:?}"
        );
        // A file v2 refuses as a whole: v2 sets nothing.
        let f = differ(b"DEBUG=false\nA B=1\n", &[("DEBUG", "false")]);
        assert!(
            f.len() == 1 && f[0].ends_with(&only("docker compose v2")),
            "{f:?}"
        );
        assert!(differ(b"DEBUG=false\n", &[("DEBUG", "false")]).is_empty());
    }

    /// A line v2 refuses the whole file for: the message says so, without the line's text
    /// (it may hold a secret).
    #[test]
    fn messages_name_v2_refusing_the_file() {
        let f = check_env_bytes(b"DEBUG=false\nSECRET s3cr3t=1\n", None);
        let m = &f.iter().find(|f| f.rule == "invalid-key").unwrap().message;
        assert!(
            m.contains("docker compose v2 refuses the whole file at line 2")
                && !m.contains("s3cr3t"),
            "{m}"
        );
        let f = check_env_bytes(b"DEBUG=false\nSECRET s3cr3t=1\n", Some(Target::Native));
        assert!(
            f[0].message
                .ends_with("(systemd takes no variable from this line)"),
            "{f:?}"
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
