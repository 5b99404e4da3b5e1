//! systemd unit checks: no shell-only syntax in `Exec*=` lines (systemd runs them without a
//! shell), no `MemoryDenyWriteExecute=` (it breaks PHP's JIT), and, through
//! `systemd-analyze`, no `verify` warnings and an exposure score of at most
//! [`MAX_EXPOSURE`] for each service.
//!
//! `systemd-analyze` runs on copies of the units with the install-time placeholders filled
//! in: `@@PREFIX@@` becomes a link to the package folder (so every referenced executable
//! exists exactly as it will after installation) and the service user/group become
//! [`AUDIT_USER`]. Two kinds of `verify` lines are dropped, nothing else: lines about
//! resolving that user (it does not exist here; the install helper creates it), and
//! "Command @@PREFIX@@/... is not executable" (the reference check reports those with
//! the unit line and a fix, as `ref-missing`/`ref-not-executable`).

use std::{collections::BTreeMap, fs, path::Path};

use anyhow::{Context, Result};
use xshell::{cmd, Shell};

use super::{AuditFinding, Package};

pub const SHELL_SYNTAX: &str = "systemd-shell-syntax";
pub const MDWE: &str = "systemd-mdwe";
pub const VERIFY: &str = "systemd-verify";
pub const EXPOSURE: &str = "systemd-exposure";
pub const ANALYZE_MISSING: &str = "systemd-analyze-missing";

/// Highest accepted `systemd-analyze security` exposure (0 = locked down, 10 = exposed).
pub const MAX_EXPOSURE: f64 = 2.0;
/// The service user/group substituted for `systemd-analyze`.
pub const AUDIT_USER: &str = "orangescrum-audit";
/// The install-time placeholder of the installation folder (= the package root).
pub const PREFIX: &str = "@@PREFIX@@";

const EXEC_KEYS: &[&str] = &[
    "ExecStart",
    "ExecStartPre",
    "ExecStartPost",
    "ExecReload",
    "ExecStop",
    "ExecStopPost",
    "ExecCondition",
];

pub fn is_exec_key(key: &str) -> bool {
    EXEC_KEYS.contains(&key)
}

/// One `Key=value` of a unit file (continuation lines joined).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub section: String,
    pub key: String,
    pub value: String,
    pub line: usize,
}

pub fn parse_unit(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut section = String::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let start = i;
        let t = lines[i].trim();
        i += 1;
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if t.starts_with('[') && t.ends_with(']') {
            section = t[1..t.len() - 1].to_string();
            continue;
        }
        let mut logical = t.to_string();
        while logical.ends_with('\\') && i < lines.len() {
            logical.pop();
            logical.push(' ');
            let next = lines[i].trim();
            i += 1;
            if !(next.starts_with('#') || next.starts_with(';')) {
                logical.push_str(next);
            }
        }
        if let Some((k, v)) = logical.split_once('=') {
            out.push(Entry {
                section: section.clone(),
                key: k.trim().to_string(),
                value: v.trim().to_string(),
                line: start + 1,
            });
        }
    }
    out
}

/// Unit files of the package.
pub fn unit_files(pkg: &Package) -> Vec<&str> {
    pkg.files
        .keys()
        .map(String::as_str)
        .filter(|p| {
            [".service", ".socket", ".timer", ".path", ".mount"]
                .iter()
                .any(|s| p.ends_with(s))
        })
        .collect()
}

/// Splits an `Exec*=` value into its prefix characters and words (systemd quoting).
pub fn exec_words(value: &str) -> (String, Vec<String>) {
    let v = value.trim_start();
    // Prefix characters, but not the `@@` that opens an install-time `@@PLACEHOLDER@@`.
    let mut prefix = String::new();
    for c in v.chars() {
        let rest = &v[prefix.len()..];
        let placeholder = rest.strip_prefix("@@").is_some_and(|r| {
            r.find("@@").is_some_and(|e| {
                e > 0 && r[..e].bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
            })
        });
        if placeholder || !"@-:+!".contains(c) {
            break;
        }
        prefix.push(c);
    }
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = v[prefix.len()..].chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' if !in_word || cur.is_empty() => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    cur.push(q);
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    (prefix, words)
}

/// Shell-only constructs in an `Exec*=` value (empty when there are none). A command run
/// through `sh -c` is left alone: there the shell is explicit.
pub fn shell_syntax(value: &str) -> Vec<&'static str> {
    let (_, words) = exec_words(value);
    let is_shell = words.first().is_some_and(|w| {
        let base = w.rsplit('/').next().unwrap_or(w);
        ["sh", "bash", "dash", "ash", "zsh", "ksh", "busybox"].contains(&base)
    }) && words
        .iter()
        .skip(1)
        .any(|w| w.starts_with('-') && !w.starts_with("--") && w.contains('c'));
    if is_shell {
        return Vec::new();
    }
    let mut found = Vec::new();
    let b = value.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && b.get(i + 1) == Some(&b'{') {
            let rest = &value[i + 2..];
            let n = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if rest.starts_with('#') || (n < rest.len() && !rest[n..].starts_with('}')) {
                found.push("${VAR...} with a default or other shell operator (systemd only expands plain ${VAR})");
            }
        } else if b[i] == b'$' && b.get(i + 1) == Some(&b'(') {
            found.push("$(...) command substitution");
        } else if b[i] == b'`' {
            found.push("`...` command substitution");
        }
        i += 1;
    }
    for w in &words {
        let op = match w.as_str() {
            "&&" | "||" => Some("&& / || command lists"),
            "|" | "|&" => Some("a | pipe"),
            ";" => None,
            _ if w.starts_with('>')
                || w.starts_with('<')
                || w.starts_with("2>")
                || w.starts_with("1>")
                || w.starts_with("&>") =>
            {
                Some("a < / > redirection")
            }
            _ => None,
        };
        if let Some(op) = op {
            found.push(op);
        }
    }
    found.dedup();
    found
}

/// Variables a unit takes from its environment: `${VAR}`/`$VAR` in `Exec*=` lines,
/// `Environment=` and `PassEnvironment=` names. (name, line)
pub fn env_reads(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for e in parse_unit(text) {
        if is_exec_key(&e.key) {
            let mut rest = e.value.as_str();
            while let Some(p) = rest.find('$') {
                let after = &rest[p + 1..];
                let body = after.strip_prefix('{').unwrap_or(after);
                let n = body
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(body.len());
                if n > 0 && super::shell::is_name(&body[..n]) {
                    out.push((body[..n].to_string(), e.line));
                }
                rest = &body[n..];
            }
        } else if e.key == "Environment" {
            for w in exec_words(&e.value).1 {
                if let Some((k, _)) = w.split_once('=') {
                    out.push((k.to_string(), e.line));
                }
            }
        } else if e.key == "PassEnvironment" {
            for w in e.value.split_whitespace() {
                out.push((w.to_string(), e.line));
            }
        }
    }
    out
}

fn is_truthy(v: &str) -> bool {
    ["1", "yes", "true", "on", "y", "t"].contains(&v.trim().to_ascii_lowercase().as_str())
}

/// The static unit checks on one file.
pub fn check_text(file: &str, text: &str) -> Vec<AuditFinding> {
    let mut out = Vec::new();
    for e in parse_unit(text) {
        if is_exec_key(&e.key) {
            let found = shell_syntax(&e.value);
            if !found.is_empty() {
                out.push(AuditFinding::error(
                    SHELL_SYNTAX,
                    file,
                    Some(e.line),
                    format!(
                        "{}= uses shell syntax that systemd does not interpret: {}",
                        e.key,
                        found.join(", ")
                    ),
                    "set defaults with Environment=VAR=value before EnvironmentFile=, use plain ${VAR}, and move real shell logic into a packaged script",
                ));
            }
        }
        if e.section == "Service" && e.key == "MemoryDenyWriteExecute" && is_truthy(&e.value) {
            out.push(AuditFinding::error(
                MDWE,
                file,
                Some(e.line),
                "MemoryDenyWriteExecute= forbids writable+executable memory: PHP's JIT (opcache.jit) then fails or crashes",
                "remove MemoryDenyWriteExecute= (keep the other hardening)",
            ));
        }
    }
    out
}

pub fn check(pkg: &Package) -> Vec<AuditFinding> {
    unit_files(pkg)
        .into_iter()
        .filter_map(|f| pkg.text(f).map(|t| check_text(f, t)))
        .flatten()
        .collect()
}

/// The line of `unit` whose text contains `needle`, for `verify` messages without one.
fn line_of(unit: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    unit.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

/// Turns `systemd-analyze verify` output into findings. `rendered` maps each unit's
/// rendered path to its package path and original text; `prefix` is the rendered
/// `@@PREFIX@@`.
pub fn parse_verify(
    output: &str,
    rendered: &[(String, String, String)],
    prefix: &str,
) -> Vec<AuditFinding> {
    let mut out = Vec::new();
    for raw in output.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let lower = raw.to_ascii_lowercase();
        if lower.contains(AUDIT_USER) && (lower.contains("user") || lower.contains("group")) {
            continue;
        }
        let text = raw.replace(prefix, PREFIX);
        // A missing or non-executable program of the package: the reference check
        // (ref-missing / ref-not-executable) reports it with the unit line and the fix.
        if text.contains(&format!("Command {PREFIX}/")) && text.contains("is not executable") {
            continue;
        }
        let mut hit = None;
        for (path, rel, original) in rendered {
            let name = rel.rsplit('/').next().unwrap_or(rel);
            if let Some(rest) = raw.strip_prefix(path.as_str()) {
                // "<path>:<line>: message"
                let rest = rest.trim_start_matches(':');
                let (n, msg) = rest.split_once(':').unwrap_or(("", rest));
                hit = Some((
                    rel,
                    n.trim().parse().ok(),
                    msg.trim().replace(prefix, PREFIX),
                ));
            } else if let Some(msg) = raw.strip_prefix(&format!("{name}:")) {
                let msg = msg.trim().replace(prefix, PREFIX);
                // Point at the line that names what the message is about, when one does.
                let line = msg
                    .split_whitespace()
                    .map(|w| w.trim_matches(|c: char| c == ':' || c == ','))
                    .filter(|w| w.starts_with(PREFIX) || w.contains('='))
                    .find_map(|w| line_of(original, w));
                hit = Some((rel, line, msg));
            }
            if hit.is_some() {
                break;
            }
        }
        let (file, line, msg) = match hit {
            Some((rel, line, msg)) => (rel.clone(), line, msg),
            None => (
                rendered.first().map(|r| r.1.clone()).unwrap_or_default(),
                None,
                text,
            ),
        };
        out.push(AuditFinding::error(
            VERIFY,
            &file,
            line,
            format!("systemd-analyze verify: {msg}"),
            "fix the unit: systemd ignores misspelled keys and invalid values, so the intended setting (often hardening) silently does not apply",
        ));
    }
    out
}

/// The overall exposure and the worst settings from `systemd-analyze security` output.
pub fn parse_security(output: &str) -> Option<(f64, Vec<String>)> {
    let score = output.lines().find_map(|l| {
        let (_, rest) = l.split_once("Overall exposure level for ")?;
        let (_, num) = rest.split_once(": ")?;
        num.split_whitespace().next()?.parse::<f64>().ok()
    })?;
    let mut weak: Vec<(f64, String)> = output
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let rest = l.strip_prefix("✗ ").or_else(|| l.strip_prefix("- "))?;
            let name = rest.split_whitespace().next()?.to_string();
            let exposure = rest.split_whitespace().last()?.parse::<f64>().ok()?;
            Some((exposure, name))
        })
        .collect();
    weak.sort_by(|a, b| b.0.total_cmp(&a.0));
    Some((score, weak.into_iter().take(6).map(|(_, n)| n).collect()))
}

/// Splits the report of `systemd-analyze security` on several units into one report per
/// unit name: each unit's table ends with its "Overall exposure level for <unit>" line.
pub fn split_security(output: &str) -> BTreeMap<String, String> {
    let mut reports = BTreeMap::new();
    let mut current = String::new();
    for line in output.lines() {
        current.push_str(line);
        current.push('\n');
        if let Some((_, rest)) = line.split_once("Overall exposure level for ") {
            if let Some((unit, _)) = rest.split_once(": ") {
                reports.insert(unit.to_string(), std::mem::take(&mut current));
            }
        }
    }
    reports
}

/// The report on `unit`. systemd names a template (`worker@.service`) by an instance it
/// makes up (`worker@i.service`), so a template's report is the one of its instance.
fn report_for<'a>(reports: &'a BTreeMap<String, String>, unit: &str) -> Option<&'a str> {
    if let Some(r) = reports.get(unit) {
        return Some(r);
    }
    let (stem, suffix) = unit.split_once("@.")?;
    let suffix = format!(".{suffix}");
    let prefix = format!("{stem}@");
    reports
        .iter()
        .find(|(k, _)| k.starts_with(&prefix) && k.ends_with(&suffix))
        .map(|(_, r)| r.as_str())
}

/// Runs `systemd-analyze verify` and `security --offline=yes` on the package's units.
pub fn analyze(pkg: &Package, root: &Path) -> Result<Vec<AuditFinding>> {
    let units: Vec<&str> = unit_files(pkg);
    if units.is_empty() {
        return Ok(Vec::new());
    }
    let sh = Shell::new().context("cannot start a shell context")?;
    sh.set_var("SYSTEMD_COLORS", "0");
    sh.set_var("SYSTEMD_PAGER", "");
    let tmp = tempfile::tempdir().context("cannot create a temporary folder")?;
    let root =
        fs::canonicalize(root).with_context(|| format!("cannot resolve {}", root.display()))?;
    let prefix = tmp.path().join("prefix");
    std::os::unix::fs::symlink(&root, &prefix)
        .with_context(|| format!("cannot create the link {}", prefix.display()))?;
    let prefix_s = prefix.to_string_lossy().into_owned();
    let unit_dir = tmp.path().join("units");
    fs::create_dir(&unit_dir).with_context(|| format!("cannot create {}", unit_dir.display()))?;
    let mut rendered = Vec::new();
    for rel in &units {
        let Some(text) = pkg.text(rel) else { continue };
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let path = unit_dir.join(name);
        let body = text
            .replace(PREFIX, &prefix_s)
            .replace("@@SERVICE_USER@@", AUDIT_USER)
            .replace("@@SERVICE_GROUP@@", AUDIT_USER);
        fs::write(&path, body).with_context(|| format!("cannot write {}", path.display()))?;
        rendered.push((
            path.to_string_lossy().into_owned(),
            rel.to_string(),
            text.to_string(),
        ));
    }
    let paths: Vec<&str> = rendered.iter().map(|r| r.0.as_str()).collect();
    // No `--version` probe first (`dist` audits while it compresses, and every process
    // competes for the same cores): a `verify` that cannot be started (not installed, or
    // not reachable on this user's PATH) says so.
    let out = match cmd!(sh, "systemd-analyze verify --man=no {paths...}")
        .quiet()
        .ignore_status()
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            return Ok(units
                .iter()
                .map(|u| {
                    AuditFinding::warning(
                        ANALYZE_MISSING,
                        u,
                        None,
                        format!("systemd-analyze cannot be run ({e}): `verify` and the exposure score were not checked"),
                        "install it (apt-get install systemd) and run the audit again",
                    )
                })
                .collect())
        }
    };
    // Its exit status is 0 even for misspelled keys: the output is what counts.
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut findings = parse_verify(&text, &rendered, &prefix_s);
    // One `security` run for every service (one process, not one per unit); its report
    // is one table per unit, each closed by that unit's "Overall exposure level" line.
    let services: Vec<&(String, String, String)> = rendered
        .iter()
        .filter(|(_, rel, _)| rel.ends_with(".service"))
        .collect();
    if services.is_empty() {
        return Ok(findings);
    }
    let paths: Vec<&str> = services.iter().map(|r| r.0.as_str()).collect();
    let out = cmd!(
        sh,
        "systemd-analyze security --offline=yes --no-pager {paths...}"
    )
    .quiet()
    .ignore_status()
    .output()
    .context("cannot run systemd-analyze security")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let reports = split_security(&stdout);
    for (path, rel, original) in services {
        let unit = path.rsplit('/').next().unwrap_or(path);
        let service_line = line_of(original, "[Service]");
        match report_for(&reports, unit).and_then(parse_security) {
            None => findings.push(AuditFinding::warning(
                ANALYZE_MISSING,
                rel,
                service_line,
                format!(
                    "systemd-analyze security --offline=yes gave no exposure score (systemd 250 or newer is needed): {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
                "run the audit on a host with systemd >= 250 (apt-get install systemd)",
            )),
            Some((score, weak)) if score > MAX_EXPOSURE => findings.push(AuditFinding::error(
                EXPOSURE,
                rel,
                service_line,
                format!(
                    "systemd-analyze security exposure is {score:.1}, above {MAX_EXPOSURE:.1}; weakest settings: {}",
                    weak.join(", ")
                ),
                "restore the hardening block (NoNewPrivileges=, ProtectSystem=strict, PrivateTmp=, CapabilityBoundingSet=, SystemCallFilter=, ...); check with systemd-analyze security --offline=yes",
            )),
            Some(_) => {}
        }
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_security_report_on_several_units_splits_per_unit() {
        let out = "  NAME  DESCRIPTION  EXPOSURE\n✗ PrivateNetwork= Service has access  0.5\n\
                   → Overall exposure level for a.service: 1.4 OK 🙂\n\
                   ✗ User=/DynamicUser= Service runs as root  0.4\n\
                   ✗ NoNewPrivileges= Service processes may acquire new privileges  0.2\n\
                   → Overall exposure level for b.service: 9.6 UNSAFE 😨\n";
        let r = split_security(out);
        assert_eq!(r.keys().collect::<Vec<_>>(), ["a.service", "b.service"]);
        assert_eq!(
            parse_security(&r["a.service"]),
            Some((1.4, vec!["PrivateNetwork=".to_string()]))
        );
        let (score, weak) = parse_security(&r["b.service"]).unwrap();
        assert_eq!(score, 9.6);
        assert_eq!(weak, ["User=/DynamicUser=", "NoNewPrivileges="]);
        // A template's report is under the instance systemd makes up for it.
        let t = split_security("→ Overall exposure level for worker@i.service: 9.6 UNSAFE 😨\n");
        assert!(report_for(&t, "worker@.service").is_some());
        assert!(report_for(&t, "other@.service").is_none());
        assert!(report_for(&r, "worker@.service").is_none());
    }

    #[test]
    fn unit_parsing() {
        let e = parse_unit("# c\n[Service]\nExecStart=/bin/a \\\n  b\nUser=x\n");
        assert_eq!(e.len(), 2);
        assert_eq!(
            (e[0].key.as_str(), e[0].value.as_str(), e[0].line),
            ("ExecStart", "/bin/a  b", 3)
        );
        assert_eq!(e[1].section, "Service");
    }

    #[test]
    fn shell_syntax_matchers() {
        assert!(shell_syntax("/bin/app -l ${HOST}:${PORT}").is_empty());
        assert!(shell_syntax("-/bin/app \"a b\" 'c|d' %h").is_empty());
        assert!(shell_syntax("/bin/sh -c 'a && b | c > /x'").is_empty());
        for bad in [
            "/bin/app ${PORT:-80}",
            "/bin/app ${#X}",
            "/bin/app $(date)",
            "/bin/app `date`",
            "/bin/a && /bin/b",
            "/bin/a || true",
            "/bin/a | tee x",
            "/bin/a >/var/log/x",
            "/bin/a 2>&1",
        ] {
            assert_eq!(shell_syntax(bad).len(), 1, "{bad}");
        }
        assert_eq!(exec_words("-@@PREFIX@@/bin/a").1, ["@@PREFIX@@/bin/a"]);
        let (p, w) = exec_words("-@/bin/a \"x y\" z");
        assert_eq!(
            (p.as_str(), w),
            ("-@", vec!["/bin/a".to_string(), "x y".into(), "z".into()])
        );
    }

    #[test]
    fn static_checks() {
        let unit = "[Service]\nExecStart=/x/bin ${A:-1}\nMemoryDenyWriteExecute=yes\n";
        let f = check_text("systemd/a.service", unit);
        let ids: Vec<(&str, Option<usize>)> = f.iter().map(|f| (f.check, f.line)).collect();
        assert_eq!(ids, [(SHELL_SYNTAX, Some(2)), (MDWE, Some(3))]);
        assert!(check_text("a.service", "[Service]\nMemoryDenyWriteExecute=no\n").is_empty());
    }

    #[test]
    fn env_names() {
        let reads = env_reads("[Service]\nEnvironment=A=1 \"B=2 3\"\nExecStart=/x ${C}:$D ${E:-f}\nPassEnvironment=G\n");
        let names: Vec<&str> = reads.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["A", "B", "C", "D", "E", "G"]);
    }

    #[test]
    fn verify_and_security_output() {
        let rendered = vec![(
            "/tmp/u/a.service".to_string(),
            "systemd/a.service".to_string(),
            "[Service]\nExecStart=@@PREFIX@@/bin/x\n".to_string(),
        )];
        let out = "/tmp/u/a.service:7: Unknown key 'Restrt' in section [Service], ignoring.\na.service: Command /tmp/p/bin/x is not executable: No such file or directory\nFailed to resolve user orangescrum-audit: No such process\n";
        let f = parse_verify(out, &rendered, "/tmp/p");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(
            (f[0].file.as_str(), f[0].line),
            ("systemd/a.service", Some(7))
        );
        assert!(f[0].message.contains("Restrt"));
        let f = parse_verify(
            "a.service: Failed to parse /tmp/p/bin/x value\n",
            &rendered,
            "/tmp/p",
        );
        assert_eq!(f[0].line, Some(2));
        assert!(
            f[0].message.contains("@@PREFIX@@/bin/x"),
            "{}",
            f[0].message
        );
        let sec = "  NAME   DESCRIPTION   EXPOSURE\n✗ PrivateNetwork=   Service has access   0.5\n✓ User=   ok\n✗ NoNewPrivileges=   may   0.2\n\n→ Overall exposure level for a.service: 9.2 UNSAFE 😨\n";
        assert_eq!(
            parse_security(sec),
            Some((
                9.2,
                vec!["PrivateNetwork=".to_string(), "NoNewPrivileges=".into()]
            ))
        );
        assert_eq!(
            parse_security("-> Overall exposure level for a.service: 1.4 OK :-)"),
            Some((1.4, vec![]))
        );
        assert_eq!(parse_security("garbage"), None);
    }
}
