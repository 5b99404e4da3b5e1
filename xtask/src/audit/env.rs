//! Environment variables: every variable the package reads is documented in
//! `.env.example` (the everyday settings) or `.env.full.example` (every variable), and
//! both templates pass the environment validator with only the findings a template must
//! have (its placeholders for secrets and hosts).
//!
//! Readers: Compose interpolation (`${VAR...}`/`$VAR` in any compose value), the runtime
//! scripts (the image's entrypoint and the scripts the image or the units run,
//! `run-native.sh`), the units (`${VAR}`/`$VAR` in `Exec*=`, `Environment=`,
//! `PassEnvironment=`) and the PHP configuration templates (`env('VAR')`). A script's own
//! variables are not environment reads: a name the script assigns (`NAME=`, `read NAME`,
//! `for NAME in`...) is internal unless the assignment defaults it from itself
//! (`NAME=${NAME:-x}`, `${NAME:=x}`). [`RUNTIME`] lists what the system provides.

use std::collections::BTreeSet;

use super::{compose, dockerfile, shell, systemd, AuditFinding, Package};

pub const UNDOCUMENTED: &str = "env-undocumented";
pub const EXAMPLE_INVALID: &str = "env-example-invalid";

pub const EXAMPLE: &str = ".env.example";
pub const FULL_EXAMPLE: &str = ".env.full.example";

/// Variables set by the system, the shell, the container runtime or the units themselves
/// for the runtime (not configuration an operator sets).
pub const RUNTIME: &[&str] = &[
    "HOME",
    "PATH",
    "PWD",
    "OLDPWD",
    "USER",
    "LOGNAME",
    "SHELL",
    "TERM",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "TZ",
    "TMPDIR",
    "IFS",
    "HOSTNAME",
    "UID",
    "EUID",
    "PPID",
    "RANDOM",
    "LINENO",
    "OPTIND",
    "OPTARG",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
    "XDG_RUNTIME_DIR",
    "EDITOR",
    "VISUAL",
    "PAGER",
    // Set by every launcher to add the package's php/ folder (never from .env: the
    // validator refuses it there).
    "PHP_INI_SCAN_DIR",
];

/// Keys assigned in an env file (`KEY=VALUE` lines; comments and blank lines skipped).
pub fn documented_keys(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| {
            let t = l.trim_start();
            let t = t.strip_prefix("export ").unwrap_or(t);
            if t.starts_with('#') {
                return None;
            }
            let (k, _) = t.split_once('=')?;
            shell::is_name(k.trim()).then(|| k.trim().to_string())
        })
        .collect()
}

/// Variable names Compose interpolates in one value (`$$` is a literal `$`).
pub fn interpolations(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        match b.get(i + 1) {
            Some(b'$') => i += 2,
            Some(b'{') => {
                let start = i + 2;
                let n = s[start..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(s.len() - start);
                if n > 0 {
                    out.push(s[start..start + n].to_string());
                }
                // Nested `${...}` in a default are found as the scan goes on.
                i = start + n;
            }
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                let start = i + 1;
                let n = s[start..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(s.len() - start);
                out.push(s[start..start + n].to_string());
                i = start + n;
            }
            _ => i += 1,
        }
    }
    out
}

/// `env('NAME')` / `getenv("NAME")` in PHP.
pub fn php_env_reads(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        for f in ["env(", "getenv("] {
            let mut rest = line;
            while let Some(p) = rest.find(f) {
                // `getenv(` is not `env(`, `myenv(` is neither.
                let boundary = p == 0 || {
                    let c = rest.as_bytes()[p - 1];
                    !(c.is_ascii_alphanumeric() || c == b'_')
                };
                let after = rest[p + f.len()..].trim_start();
                rest = &rest[p + f.len()..];
                if !boundary {
                    continue;
                }
                let Some(q) = after.chars().next().filter(|c| *c == '\'' || *c == '"') else {
                    continue;
                };
                let name: String = after[1..].chars().take_while(|c| *c != q).collect();
                if shell::is_name(&name) {
                    out.push((name, n + 1));
                }
            }
        }
    }
    out
}

/// The scripts that run as part of the service: the entrypoint, `run-native.sh`, the
/// scripts the units execute and the scripts the Dockerfile copies into the image.
fn runtime_scripts(pkg: &Package) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for name in ["entrypoint.sh", "run-native.sh"] {
        if pkg.is_file(name) {
            out.insert(name.to_string());
        }
    }
    for unit in systemd::unit_files(pkg) {
        for e in systemd::parse_unit(pkg.text(unit).unwrap_or("")) {
            if systemd::is_exec_key(&e.key) {
                if let Some(w) = systemd::exec_words(&e.value).1.first() {
                    if let Some(rel) = w.strip_prefix(&format!("{}/", systemd::PREFIX)) {
                        out.insert(rel.to_string());
                    }
                }
            }
        }
    }
    for df in dockerfile::dockerfiles(pkg) {
        let context = df.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        for c in dockerfile::model(pkg.text(df).unwrap_or("")).copies {
            for s in c.sources.into_iter().flatten() {
                if let Some(rel) = super::join_rel(context, &s) {
                    out.insert(rel);
                }
            }
        }
    }
    out.retain(|rel| {
        pkg.text(rel)
            .is_some_and(|t| shell::is_shell_script(rel, t))
    });
    out
}

/// Every (file, line, variable) the package reads from its environment.
pub fn reads(pkg: &Package) -> Vec<(String, usize, String)> {
    let mut out = Vec::new();
    for rel in compose::compose_files(pkg) {
        let Some(Ok(Some(doc))) = pkg.text(rel).map(|t| compose::parse(rel, t)) else {
            continue;
        };
        for s in doc.scalars() {
            for name in s.as_str().map(interpolations).unwrap_or_default() {
                out.push((rel.to_string(), s.line, name));
            }
        }
    }
    for rel in runtime_scripts(pkg) {
        let lexed = shell::lex(pkg.text(&rel).unwrap_or(""));
        for e in lexed.environment_reads() {
            out.push((rel.clone(), e.line, e.name.clone()));
        }
    }
    for unit in systemd::unit_files(pkg) {
        for (name, line) in systemd::env_reads(pkg.text(unit).unwrap_or("")) {
            out.push((unit.to_string(), line, name));
        }
    }
    for (rel, text) in pkg.texts() {
        if rel.ends_with(".php") {
            for (name, line) in php_env_reads(text) {
                out.push((rel.to_string(), line, name));
            }
        }
    }
    out
}

pub fn check(pkg: &Package) -> Vec<AuditFinding> {
    let mut out = Vec::new();
    let reads = reads(pkg);
    let Some(example) = pkg.text(EXAMPLE) else {
        // package-incomplete reports the missing template once.
        return out;
    };
    let full = pkg.text(FULL_EXAMPLE);
    let mut documented = documented_keys(example);
    documented.extend(full.map(documented_keys).unwrap_or_default());
    let mut seen = BTreeSet::new();
    for (file, line, name) in reads {
        // A name the validator refuses in .env (loader, shell and PHP start-up
        // variables) is never configuration an operator documents.
        if documented.contains(&name)
            || RUNTIME.contains(&name.as_str())
            || crate::validate_env::rules::is_forbidden_key(&name)
        {
            continue;
        }
        if !seen.insert((file.clone(), name.clone())) {
            continue;
        }
        out.push(AuditFinding::error(
            UNDOCUMENTED,
            &file,
            Some(line),
            format!("{name} is read from the environment but documented in neither {EXAMPLE} nor {FULL_EXAMPLE}"),
            format!("add {name}=<default or placeholder> with a comment to common/.env.full.example (and common/.env.example if operators usually set it), or stop reading it"),
        ));
    }
    out.extend(validate_example(pkg, EXAMPLE, example));
    match full {
        Some(full) => {
            out.extend(validate_example(pkg, FULL_EXAMPLE, full));
            out.extend(full_covers_example(example, full));
        }
        None => out.push(AuditFinding::warning(
            EXAMPLE_INVALID,
            FULL_EXAMPLE,
            None,
            format!(
                "the package has no {FULL_EXAMPLE}: operators cannot see every variable it reads"
            ),
            "ship common/.env.full.example (package with the sources of the same commit)",
        )),
    }
    out
}

/// Every variable of `.env.example` is in `.env.full.example`, with the same value.
fn full_covers_example(example: &str, full: &str) -> Vec<AuditFinding> {
    let assignments = |text: &str| -> Vec<(usize, String, String)> {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim_start().starts_with('#'))
            .filter_map(|(n, l)| {
                let (k, v) = l.split_once('=')?;
                shell::is_name(k).then(|| (n + 1, k.to_string(), v.to_string()))
            })
            .collect()
    };
    let full = assignments(full);
    let mut out = Vec::new();
    for (line, key, value) in assignments(example) {
        let problem = match full.iter().find(|(_, k, _)| *k == key) {
            None => format!("{key} is in {EXAMPLE} but not in {FULL_EXAMPLE}"),
            Some((_, _, v)) if *v != value => {
                format!("{key} has another default in {FULL_EXAMPLE} than in {EXAMPLE}")
            }
            Some(_) => continue,
        };
        out.push(AuditFinding::warning(
            EXAMPLE_INVALID,
            EXAMPLE,
            Some(line),
            problem,
            "keep common/.env.full.example a superset of common/.env.example with the same values",
        ));
    }
    out
}

/// Whether a validator finding on `.env.example` is one a template must have: a value
/// still to be replaced (`placeholder`), or a secret left empty for the operator to
/// generate (its `*-required`/`*-length`/`*-unset` rules).
pub fn expected_in_template(rule: &str, key: Option<&str>) -> bool {
    rule == "placeholder"
        || (key.is_some_and(super::secrets::is_secret_key)
            && ["-required", "-length", "-unset"]
                .iter()
                .any(|s| rule.ends_with(s)))
}

/// A template (`.env.example` or `.env.full.example`, named by `rel`) through the
/// environment validator: only the findings a template is expected to have are accepted.
/// Keys the validator knows that `.env.full.example` lacks are reported too (it is the one
/// list of the package's variables).
fn validate_example(pkg: &Package, rel: &str, example: &str) -> Vec<AuditFinding> {
    use crate::validate_env::{check_env_bytes, known_keys, Severity};
    let mut out = Vec::new();
    for f in check_env_bytes(example.as_bytes(), pkg.target) {
        if expected_in_template(f.rule, f.key.as_deref()) {
            continue;
        }
        let message = format!(
            "the environment validator reports {}{} (rule {})",
            f.key
                .as_deref()
                .map(|k| format!("{k}: "))
                .unwrap_or_default(),
            f.message,
            f.rule
        );
        let fix = format!("{} in common/{rel}", f.fix);
        out.push(match f.severity {
            Severity::Error => AuditFinding::error(EXAMPLE_INVALID, rel, f.line, message, fix),
            Severity::Warning => AuditFinding::warning(EXAMPLE_INVALID, rel, f.line, message, fix),
        });
    }
    if rel == FULL_EXAMPLE {
        let documented = documented_keys(example);
        for key in known_keys() {
            if !documented.contains(&key) {
                out.push(AuditFinding::warning(
                    EXAMPLE_INVALID,
                    rel,
                    None,
                    format!("the environment validator knows {key}, which {rel} does not document"),
                    format!("add {key}= with a comment to common/{rel}, or package with the xtask of the same commit"),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Target;

    #[test]
    fn compose_interpolation() {
        assert_eq!(
            interpolations("${A:-x}:$B:$$C:${D:?set ${E}}:${F}"),
            ["A", "B", "D", "E", "F"]
        );
        assert!(interpolations("$$ $1 plain").is_empty());
    }

    #[test]
    fn php_reads() {
        let r = php_env_reads(
            "$a = env('DB_HOST');\n$b = getenv(\"X_Y\") ?: env( 'Z');\n$c = myenv('NO');\n",
        );
        let names: Vec<(&str, usize)> = r.iter().map(|(n, l)| (n.as_str(), *l)).collect();
        assert_eq!(names, [("DB_HOST", 1), ("Z", 2), ("X_Y", 2)]);
    }

    #[test]
    fn template_findings() {
        assert!(expected_in_template("placeholder", Some("DB_HOST")));
        assert!(expected_in_template(
            "db-password-required",
            Some("DB_PASSWORD")
        ));
        assert!(expected_in_template("salt-length", Some("SECURITY_SALT")));
        assert!(!expected_in_template("db-host-required", Some("DB_HOST")));
        assert!(!expected_in_template("debug-false", Some("DEBUG")));
        assert!(!expected_in_template("inline-comment", None));
    }

    const FULL: &str = include_str!("../../../common/.env.full.example");

    #[test]
    fn the_repository_templates_pass_the_validator() {
        let text = include_str!("../../../common/.env.example");
        let pkg = Package::from_texts(
            Some(Target::Docker),
            &[(EXAMPLE, 0o644, text), (FULL_EXAMPLE, 0o644, FULL)],
        );
        let f = validate_example(&pkg, EXAMPLE, text);
        assert!(f.is_empty(), "{f:#?}");
        let f = validate_example(&pkg, FULL_EXAMPLE, FULL);
        assert!(f.is_empty(), "{f:#?}");
        assert!(full_covers_example(text, FULL).is_empty());
        // The full template documents every name the validator knows; the short one
        // need not.
        let short = FULL.replace("\nDB_SCHEMA=public\n", "\n");
        let f = validate_example(&pkg, FULL_EXAMPLE, &short);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("DB_SCHEMA"), "{f:#?}");
        let bad = text.replace("DEBUG=false", "DEBUG=true # debug");
        let f = validate_example(&pkg, EXAMPLE, &bad);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].check, EXAMPLE_INVALID);
        assert_eq!(
            f[0].line,
            text.lines().position(|l| l == "DEBUG=false").map(|i| i + 1)
        );
    }

    #[test]
    fn full_template_covers_the_short_one() {
        let f = full_covers_example("A=1\nB=2\nC=3\n", "A=1\nB=5\n# C=3\nD=4\n");
        let got: Vec<(Option<usize>, &str)> =
            f.iter().map(|f| (f.line, f.message.as_str())).collect();
        assert_eq!(
            got,
            [
                (
                    Some(2),
                    "B has another default in .env.full.example than in .env.example"
                ),
                (Some(3), "C is in .env.example but not in .env.full.example"),
            ]
        );
    }

    #[test]
    fn documented_keys_skip_comments() {
        let k = documented_keys("# A=1\nB=2\n  C=\nexport D=4\nnot a line\n");
        assert_eq!(k.into_iter().collect::<Vec<_>>(), ["B", "C", "D"]);
    }

    #[test]
    fn undocumented_reads_are_found() {
        let pkg = Package::from_texts(
            Some(Target::Native),
            &[
                (".env.example", 0o644, "APP_PORT=8080\n"),
                (
                    "run-native.sh",
                    0o755,
                    "#!/bin/sh\nBIN=bin/x\nexec \"$BIN\" -l ${APP_PORT:-1} $HOME ${SECRET_THING} ${LD_PRELOAD+x}\n",
                ),
                ("docker-compose.yaml", 0o644, "services:\n  a:\n    image: \"x:${TAG}\"\n"),
                ("systemd/a.service", 0o644, "[Service]\nEnvironment=APP_PORT=1 OTHER=2\nExecStart=@@PREFIX@@/bin/x ${APP_PORT}\n"),
                ("config/a.php", 0o644, "<?php\nreturn ['a' => env('PHP_ONLY')];\n"),
            ],
        );
        let f: Vec<(String, String)> = check(&pkg)
            .into_iter()
            .filter(|f| f.check == UNDOCUMENTED)
            .map(|f| {
                (
                    f.location(),
                    f.message.split(' ').next().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(
            f,
            [
                ("docker-compose.yaml:3".to_string(), "TAG".to_string()),
                ("run-native.sh:3".into(), "SECRET_THING".into()),
                ("systemd/a.service:2".into(), "OTHER".into()),
                ("config/a.php:2".into(), "PHP_ONLY".into()),
            ]
        );
    }
}
