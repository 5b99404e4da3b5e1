//! Dockerfile checks: a pinned base image, a non-root final `USER`, exec-form `CMD` and
//! `ENTRYPOINT`, no `ADD` of URLs, a `HEALTHCHECK`. Also the parser the reference check
//! uses for `COPY`/`ADD` sources, and `.dockerignore` matching.

pub use envcheck::image_ref::image_pin_problem;
use std::collections::BTreeMap;

use super::{glob_match, AuditFinding, Package};

pub const PARSE: &str = "dockerfile-parse";
pub const BASE_UNPINNED: &str = "dockerfile-base-unpinned";
pub const ROOT_USER: &str = "dockerfile-root-user";
pub const SHELL_FORM: &str = "dockerfile-shell-form";
pub const ADD_URL: &str = "dockerfile-add-url";
pub const NO_HEALTHCHECK: &str = "dockerfile-no-healthcheck";

const KEYWORDS: &[&str] = &[
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "MAINTAINER",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];

/// One instruction: its first line, keyword (upper case), leading `--flags` and the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct Instruction {
    pub line: usize,
    pub keyword: String,
    pub flags: Vec<String>,
    pub args: String,
}

impl Instruction {
    pub fn flag(&self, name: &str) -> Option<&str> {
        self.flags.iter().find_map(|f| {
            f.strip_prefix("--")
                .and_then(|f| f.strip_prefix(name))
                .and_then(|v| v.strip_prefix('='))
        })
    }
}

/// Splits a Dockerfile into instructions: joins continuation lines, drops comments and
/// skips here-document bodies (`RUN <<EOF`).
pub fn parse(text: &str) -> Vec<Instruction> {
    let lines: Vec<&str> = text.lines().collect();
    // The `# escape=` parser directive may only appear before anything else.
    let mut escape = '\\';
    for l in &lines {
        let t = l.trim();
        let Some(d) = t.strip_prefix('#') else { break };
        let d = d.trim().to_ascii_lowercase();
        if let Some(v) = d.strip_prefix("escape=") {
            if v.trim() == "`" {
                escape = '`';
            }
        } else if !d.starts_with("syntax=") && !d.starts_with("check=") {
            break;
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim();
        if t.is_empty() || t.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i;
        let mut logical = String::new();
        loop {
            let l = lines[i].trim_end();
            i += 1;
            match l.strip_suffix(escape) {
                Some(rest) => {
                    logical.push_str(rest);
                    logical.push(' ');
                    // Comment and blank lines inside a continuation are skipped.
                    while i < lines.len()
                        && (lines[i].trim().starts_with('#') || lines[i].trim().is_empty())
                    {
                        i += 1;
                    }
                    if i >= lines.len() {
                        break;
                    }
                }
                None => {
                    logical.push_str(l);
                    break;
                }
            }
        }
        let logical = logical.trim();
        let (kw, rest) = logical
            .split_once(char::is_whitespace)
            .unwrap_or((logical, ""));
        let mut rest = rest.trim_start();
        let mut flags = Vec::new();
        while rest.starts_with("--") {
            let (f, r) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            flags.push(f.to_string());
            rest = r.trim_start();
        }
        // Here-documents: skip their bodies up to the terminator line.
        let mut s = rest;
        while let Some(p) = s.find("<<") {
            let after = s[p + 2..].trim_start_matches('-');
            let word: String = after
                .trim_matches(|c| c == '"' || c == '\'')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            s = &s[p + 2..];
            if word.is_empty() {
                continue;
            }
            while i < lines.len() && lines[i].trim() != word {
                i += 1;
            }
            i += 1;
        }
        out.push(Instruction {
            line: start + 1,
            keyword: kw.to_ascii_uppercase(),
            flags,
            args: rest.to_string(),
        });
    }
    out
}

/// A JSON array of strings (the exec form), or `None` for the shell form.
pub fn exec_form(args: &str) -> Option<Vec<String>> {
    let t = args.trim();
    if !t.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(t).ok()
}

/// Expands `$X`, `${X}`, `${X:-word}`, `${X:+word}` from `vars` (an unset name with no
/// default gives `None`: the value cannot be known statically).
pub fn expand(s: &str, vars: &BTreeMap<String, String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(p) = rest.find('$') {
        out.push_str(&rest[..p]);
        let after = &rest[p + 1..];
        if let Some(inner) = after.strip_prefix('{') {
            let end = inner.find('}')?;
            let body = &inner[..end];
            let name_len = body
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(body.len());
            let (name, op) = body.split_at(name_len);
            let value = vars.get(name);
            match (op.get(..2), value) {
                (Some(":-"), Some(v)) if !v.is_empty() => out.push_str(v),
                (Some(":-"), _) => out.push_str(&expand(&op[2..], vars)?),
                (Some(":+"), Some(v)) if !v.is_empty() => out.push_str(&expand(&op[2..], vars)?),
                (Some(":+"), _) => {}
                (None, Some(v)) => out.push_str(v),
                _ => return None,
            }
            rest = &inner[end + 1..];
        } else {
            let n = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if n == 0 {
                out.push('$');
                rest = after;
                continue;
            }
            out.push_str(vars.get(&after[..n])?);
            rest = &after[n..];
        }
    }
    out.push_str(rest);
    Some(out)
}

/// A `COPY`/`ADD` of files from the build context.
#[derive(Debug, Clone, PartialEq)]
pub struct Copy {
    pub line: usize,
    pub keyword: String,
    /// Sources as written after variable expansion (`None` when not expandable).
    pub sources: Vec<Option<String>>,
    pub dest: String,
}

/// The parsed file with each stage's variables resolved.
pub struct Model {
    pub instructions: Vec<Instruction>,
    /// Index of each stage's `FROM` in `instructions`.
    pub stage_starts: Vec<usize>,
    /// Build-context copies of every stage (not `COPY --from`).
    pub copies: Vec<Copy>,
    /// Resolved image of each `FROM` (`None` when it cannot be resolved), with the line of
    /// the `ARG` that supplied it when it came from a variable.
    pub bases: Vec<(usize, String, Option<String>, Option<usize>)>,
    /// Variables of the final stage (ARG defaults and ENV) for USER expansion.
    pub final_vars: BTreeMap<String, String>,
}

impl Model {
    pub fn final_stage(&self) -> &[Instruction] {
        match self.stage_starts.last() {
            Some(&s) => &self.instructions[s..],
            None => &[],
        }
    }
}

/// Resolves stages, variables and copies.
pub fn model(text: &str) -> Model {
    let instructions = parse(text);
    let mut globals: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    let mut stage_names: Vec<String> = Vec::new();
    let mut stage_starts = Vec::new();
    let mut copies = Vec::new();
    let mut bases = Vec::new();
    for (idx, ins) in instructions.iter().enumerate() {
        match ins.keyword.as_str() {
            "ARG" => {
                for decl in ins.args.split_whitespace() {
                    let (name, default) = match decl.split_once('=') {
                        Some((n, d)) => (n, Some(unquote(d))),
                        None => (decl, None),
                    };
                    if stage_starts.is_empty() {
                        if let Some(d) = default {
                            globals.insert(name.to_string(), (d, ins.line));
                        }
                    } else {
                        match default.or_else(|| globals.get(name).map(|(v, _)| v.clone())) {
                            Some(v) => vars.insert(name.to_string(), v),
                            None => vars.remove(name),
                        };
                    }
                }
            }
            "ENV" if !stage_starts.is_empty() => {
                // `ENV K=V K2=V2`, or the legacy `ENV K V`.
                let words: Vec<&str> = ins.args.split_whitespace().collect();
                if words.first().is_some_and(|w| !w.contains('=')) {
                    if let Some((k, v)) = ins.args.split_once(char::is_whitespace) {
                        vars.insert(k.to_string(), unquote(v.trim()));
                    }
                } else {
                    for w in words {
                        if let Some((k, v)) = w.split_once('=') {
                            vars.insert(k.to_string(), unquote(v));
                        }
                    }
                }
            }
            "FROM" => {
                stage_starts.push(idx);
                vars.clear();
                let mut words = ins.args.split_whitespace();
                let image = words.next().unwrap_or("").to_string();
                let name = match (words.next(), words.next()) {
                    (Some(a), Some(n)) if a.eq_ignore_ascii_case("as") => Some(n.to_string()),
                    _ => None,
                };
                let gvals: BTreeMap<String, String> = globals
                    .iter()
                    .map(|(k, (v, _))| (k.clone(), v.clone()))
                    .collect();
                let resolved = expand(&image, &gvals);
                let arg_line = globals
                    .iter()
                    .find(|(k, _)| {
                        image.contains(&format!("${k}")) || image.contains(&format!("${{{k}"))
                    })
                    .map(|(_, (_, l))| *l);
                let is_stage = resolved
                    .as_deref()
                    .is_some_and(|r| stage_names.iter().any(|s| s.eq_ignore_ascii_case(r)));
                if !is_stage && resolved.as_deref() != Some("scratch") {
                    bases.push((ins.line, image, resolved, arg_line));
                }
                if let Some(n) = name {
                    stage_names.push(n);
                }
            }
            "COPY" | "ADD" if ins.flag("from").is_none() => {
                let words: Vec<String> = match exec_form(&ins.args) {
                    Some(v) => v,
                    None => ins.args.split_whitespace().map(String::from).collect(),
                };
                if let Some((dest, sources)) = words.split_last() {
                    copies.push(Copy {
                        line: ins.line,
                        keyword: ins.keyword.clone(),
                        sources: sources
                            .iter()
                            .filter(|s| !s.starts_with("<<"))
                            .map(|s| expand(s, &vars))
                            .collect(),
                        dest: expand(dest, &vars).unwrap_or_else(|| dest.clone()),
                    });
                }
            }
            _ => {}
        }
    }
    Model {
        instructions,
        stage_starts,
        copies,
        bases,
        final_vars: vars,
    }
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return s[1..s.len() - 1].to_string();
        }
    }
    s.to_string()
}

fn is_url(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://") || l.starts_with("git@")
}

/// Every Dockerfile check on one file's text.
pub fn check_text(file: &str, text: &str) -> Vec<AuditFinding> {
    let mut out = Vec::new();
    let m = model(text);
    for ins in &m.instructions {
        if !KEYWORDS.contains(&ins.keyword.as_str()) {
            out.push(AuditFinding::error(
                PARSE,
                file,
                Some(ins.line),
                format!(
                    "unknown instruction {:?}: the build fails here",
                    ins.keyword
                ),
                "fix the instruction (or a missing line continuation before it)",
            ));
        }
    }
    if m.stage_starts.is_empty() {
        out.push(AuditFinding::error(
            PARSE,
            file,
            Some(1),
            "no FROM instruction",
            "start the Dockerfile with FROM <image>:<version>",
        ));
        return out;
    }

    for (line, raw, resolved, arg_line) in &m.bases {
        let problem = match resolved {
            None => Some(format!(
                "FROM {raw}: the variable has no default, so the base image depends on the caller"
            )),
            Some(img) => image_pin_problem(img).map(|p| match arg_line {
                Some(_) => {
                    format!("base image (the ARG default used by FROM {raw} on line {line}): {p}")
                }
                None => format!("base image {p}"),
            }),
        };
        if let Some(p) = problem {
            out.push(AuditFinding::error(
                BASE_UNPINNED,
                file,
                Some(arg_line.unwrap_or(*line)),
                p,
                "pin a version tag or digest, e.g. alpine:3.20.3 or alpine@sha256:<digest> (runtime.base_image in packaging/release.toml)",
            ));
        }
    }

    for c in &m.copies {
        if c.keyword == "ADD" {
            for s in c.sources.iter().flatten().filter(|s| is_url(s)) {
                out.push(AuditFinding::error(
                    ADD_URL,
                    file,
                    Some(c.line),
                    format!("ADD downloads {s} at build time: unpinned, unverified content and a network dependency"),
                    "ship the file in the package and COPY it (or download it in a verified build step with a checksum)",
                ));
            }
        }
    }

    let stage = m.final_stage();
    let from_line = stage.first().map(|i| i.line);
    match stage.iter().rev().find(|i| i.keyword == "USER") {
        None => out.push(AuditFinding::error(
            ROOT_USER,
            file,
            from_line,
            "the final stage sets no USER, so the container runs as root (unless the base image sets a user)",
            "add USER <uid>:<gid> with a non-zero numeric id before ENTRYPOINT",
        )),
        Some(u) => {
            let value = expand(u.args.trim(), &m.final_vars).unwrap_or_else(|| u.args.clone());
            let user = value.split(':').next().unwrap_or("").trim();
            if user == "root" || user == "0" || user.is_empty() {
                out.push(AuditFinding::error(
                    ROOT_USER,
                    file,
                    Some(u.line),
                    format!("the final USER is {value:?}: the application runs as root"),
                    "use an unprivileged numeric user, e.g. USER 1000:1000",
                ));
            }
        }
    }

    for kw in ["ENTRYPOINT", "CMD"] {
        if let Some(i) = stage.iter().rev().find(|i| i.keyword == kw) {
            if exec_form(&i.args).is_none() {
                out.push(AuditFinding::error(
                    SHELL_FORM,
                    file,
                    Some(i.line),
                    if kw == "ENTRYPOINT" {
                        "ENTRYPOINT uses the shell form: /bin/sh -c becomes PID 1 and does not pass SIGTERM on, so `docker stop` kills the application after the grace period".to_string()
                    } else {
                        "CMD uses the shell form: it becomes /bin/sh -c '...' (or, with an ENTRYPOINT, the words \"/bin/sh\", \"-c\", ... as its arguments), so signals and arguments do not reach the application as written".to_string()
                    },
                    format!("use the exec form: {kw} [\"executable\", \"arg\"]"),
                ));
            }
        }
    }

    match stage.iter().rev().find(|i| i.keyword == "HEALTHCHECK") {
        Some(h) if !h.args.trim().eq_ignore_ascii_case("none") => {}
        found => out.push(AuditFinding::error(
            NO_HEALTHCHECK,
            file,
            found.map(|h| h.line).or(from_line),
            "the image has no HEALTHCHECK: Docker cannot tell a hung application from a healthy one",
            "add HEALTHCHECK --interval=30s --timeout=5s CMD [\"wget\", \"-q\", \"-O\", \"/dev/null\", \"http://127.0.0.1:<port>/<health path>\"]",
        )),
    }
    out
}

/// Dockerfiles of the package (any file named `Dockerfile` or `*.Dockerfile`).
pub fn dockerfiles(pkg: &Package) -> Vec<&str> {
    pkg.files
        .keys()
        .map(String::as_str)
        .filter(|p| {
            let name = p.rsplit('/').next().unwrap_or(p);
            name == "Dockerfile" || name.ends_with(".Dockerfile")
        })
        .collect()
}

pub fn check(pkg: &Package) -> Vec<AuditFinding> {
    dockerfiles(pkg)
        .into_iter()
        .filter_map(|f| pkg.text(f).map(|t| check_text(f, t)))
        .flatten()
        .collect()
}

/// The `.dockerignore` line (1-based) that excludes `path` from the build context, or
/// `None` when `path` is sent. Later lines win; `!` re-includes; a pattern that matches a
/// parent folder matches everything below it (as Docker's pattern matcher does).
pub fn dockerignore_excludes(ignore: &str, path: &str) -> Option<usize> {
    let mut decision = None;
    for (n, raw) in ignore.lines().enumerate() {
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (neg, pat) = match t.strip_prefix('!') {
            Some(p) => (true, p.trim()),
            None => (false, t),
        };
        let pat = pat.trim_start_matches('/').trim_end_matches('/');
        let pat = pat.strip_prefix("./").unwrap_or(pat);
        let comps: Vec<&str> = path.split('/').collect();
        let hit = (1..=comps.len()).any(|k| segments_match(pat, &comps[..k].join("/")));
        if hit {
            decision = if neg { None } else { Some(n + 1) };
        }
    }
    decision
}

/// Glob match where `**` spans any number of folders.
fn segments_match(pattern: &str, path: &str) -> bool {
    fn go(p: &[&str], s: &[&str]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some(&"**") => (0..=s.len()).any(|i| go(&p[1..], &s[i..])),
            Some(seg) => !s.is_empty() && glob_match(seg, s[0]) && go(&p[1..], &s[1..]),
        }
    }
    let p: Vec<&str> = pattern.split('/').collect();
    let s: Vec<&str> = path.split('/').collect();
    go(&p, &s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "# escape=\\\nARG BASE_IMAGE=alpine:3.20.3\nFROM ${BASE_IMAGE}\nRUN a \\\n  # comment\n  && b\nCOPY app /app/app\nCOPY [\"entrypoint.sh\", \"/app/\"]\nUSER 1000:1000\nHEALTHCHECK --interval=30s CMD [\"wget\", \"x\"]\nENTRYPOINT [\"/app/entrypoint.sh\"]\nCMD [\"php-server\"]\n";

    fn ids(text: &str) -> Vec<(&'static str, Option<usize>)> {
        check_text("Dockerfile", text)
            .into_iter()
            .map(|f| (f.check, f.line))
            .collect()
    }

    #[test]
    fn parse_joins_continuations_and_flags() {
        let p = parse(GOOD);
        let kws: Vec<&str> = p.iter().map(|i| i.keyword.as_str()).collect();
        assert_eq!(
            kws,
            [
                "ARG",
                "FROM",
                "RUN",
                "COPY",
                "COPY",
                "USER",
                "HEALTHCHECK",
                "ENTRYPOINT",
                "CMD"
            ]
        );
        assert_eq!(p[2].line, 4);
        assert_eq!(p[2].args, "a    && b");
        assert_eq!(p[6].flags, ["--interval=30s"]);
        assert_eq!(p[6].flag("interval"), Some("30s"));
        let m = model(GOOD);
        assert_eq!(m.copies.len(), 2);
        assert_eq!(m.copies[1].sources, [Some("entrypoint.sh".to_string())]);
        assert_eq!(m.copies[1].dest, "/app/");
        let heredoc = parse("FROM a:1\nRUN <<EOF\nUSER root\nEOF\nUSER 1\n");
        assert_eq!(heredoc.len(), 3);
        assert_eq!(heredoc[2].line, 5);
    }

    #[test]
    fn a_good_dockerfile_passes() {
        assert_eq!(ids(GOOD), []);
    }

    #[test]
    fn each_defect_is_found_on_its_line() {
        let bad = |from: &str, to: &str| ids(&GOOD.replace(from, to));
        assert_eq!(bad("alpine:3.20.3", "alpine"), [(BASE_UNPINNED, Some(2))]);
        assert_eq!(
            bad("alpine:3.20.3", "alpine:latest"),
            [(BASE_UNPINNED, Some(2))]
        );
        assert_eq!(
            bad("ARG BASE_IMAGE=alpine:3.20.3", "ARG BASE_IMAGE"),
            [(BASE_UNPINNED, Some(3))]
        );
        assert_eq!(
            bad("FROM ${BASE_IMAGE}", "FROM registry:5000/alpine@sha256:abc"),
            []
        );
        assert_eq!(bad("USER 1000:1000", "USER root"), [(ROOT_USER, Some(9))]);
        assert_eq!(bad("USER 1000:1000", "USER 0:0"), [(ROOT_USER, Some(9))]);
        assert_eq!(bad("USER 1000:1000", "LABEL a=b"), [(ROOT_USER, Some(3))]);
        assert_eq!(
            bad("CMD [\"php-server\"]", "CMD php-server"),
            [(SHELL_FORM, Some(12))]
        );
        assert_eq!(
            bad(
                "ENTRYPOINT [\"/app/entrypoint.sh\"]",
                "ENTRYPOINT /app/entrypoint.sh"
            ),
            [(SHELL_FORM, Some(11))]
        );
        assert_eq!(
            bad("COPY app /app/app", "ADD https://example.org/x.tgz /app/"),
            [(ADD_URL, Some(7))]
        );
        assert_eq!(
            bad(
                "HEALTHCHECK --interval=30s CMD [\"wget\", \"x\"]",
                "HEALTHCHECK NONE"
            ),
            [(NO_HEALTHCHECK, Some(10))]
        );
        assert_eq!(
            bad("USER 1000:1000", "USRE 1000"),
            [(PARSE, Some(9)), (ROOT_USER, Some(3))]
        );
    }

    #[test]
    fn multi_stage_and_expansion() {
        let text = "FROM golang:1.22 AS build\nUSER root\nFROM build\nCOPY --from=build /x /x\nUSER 1000\nHEALTHCHECK CMD true\nCMD [\"x\"]\n";
        assert_eq!(ids(text), []);
        let vars: BTreeMap<String, String> = [("A".to_string(), "1".to_string())].into();
        assert_eq!(expand("x${A}y$A${B:-z}", &vars), Some("x1y1z".into()));
        assert_eq!(expand("${B}", &vars), None);
        assert!(image_pin_problem("registry:5000/app").is_some());
        assert!(image_pin_problem("registry:5000/app:1.2").is_none());
    }

    #[test]
    fn dockerignore() {
        let ig = "# all but three\n*\n.env\n!app/bin\n!entrypoint.sh\n";
        assert_eq!(dockerignore_excludes(ig, "app/bin"), None);
        assert_eq!(dockerignore_excludes(ig, "entrypoint.sh"), None);
        assert_eq!(dockerignore_excludes(ig, "helpers/x.sh"), Some(2));
        assert_eq!(dockerignore_excludes(ig, ".env"), Some(3));
        assert_eq!(
            dockerignore_excludes("docs/**/*.md\n", "docs/a/b/c.md"),
            Some(1)
        );
        assert_eq!(dockerignore_excludes("", "x"), None);
    }
}
