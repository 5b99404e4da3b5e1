//! Subprocess plumbing shared by `build` and `deploy`: [`Cmd`], a command that can be
//! printed exactly (shell-quoted, for `--dry-run` and logs) and run through `xshell`, and
//! [`Compose`], the Docker Compose flavour found on this machine (used by `deploy`).

use std::{fmt, process::Output};

use anyhow::{bail, Context, Result};
use xshell::{cmd, Shell};

/// One subprocess: environment assignments, program and arguments. Never a shell string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    pub env: Vec<(String, String)>,
    pub program: String,
    pub args: Vec<String>,
}

impl Cmd {
    pub fn new(program: impl Into<String>) -> Cmd {
        Cmd {
            env: Vec::new(),
            program: program.into(),
            args: Vec::new(),
        }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Cmd {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Cmd {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The command as one shell line: `K=V ... program args...`, each word quoted only when
    /// needed. Pasting it into `sh` runs exactly this command.
    pub fn line(&self) -> String {
        let mut words: Vec<String> = self
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", shell_quote(v)))
            .collect();
        words.push(shell_quote(&self.program));
        words.extend(self.args.iter().map(|a| shell_quote(a)));
        words.join(" ")
    }

    fn xshell<'a>(&self, sh: &'a Shell) -> xshell::Cmd<'a> {
        let program = &self.program;
        let args = &self.args;
        cmd!(sh, "{program} {args...}")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .quiet()
    }

    /// Runs with the terminal attached (progress visible), after printing `$ <line>`. The
    /// error names the command and its exit status; its own output is above it.
    pub fn run(&self, sh: &Shell) -> Result<()> {
        eprintln!("$ {}", self.line());
        self.xshell(sh).run().map_err(anyhow::Error::from)
    }

    /// Runs quietly and returns stdout, trimmed; an error carries the command's stderr.
    pub fn read(&self, sh: &Shell) -> Result<String> {
        let out = self.output(sh)?;
        if !out.status.success() {
            bail!(
                "`{}` failed ({}): {}",
                self.line(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Runs quietly whatever its exit status; only failing to start it is an error.
    pub fn output(&self, sh: &Shell) -> Result<Output> {
        self.xshell(sh)
            .ignore_status()
            .output()
            .with_context(|| format!("cannot run `{}`", self.line()))
    }

    /// True when the command exits 0 (output discarded).
    pub fn succeeds(&self, sh: &Shell) -> bool {
        self.output(sh).is_ok_and(|o| o.status.success())
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.line())
    }
}

/// Quotes `s` for a POSIX shell: unchanged when it only holds safe characters, else in
/// single quotes (a `'` inside becomes `'\''`).
pub fn shell_quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Which Docker Compose runs the stacks; detected once and used for every compose command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compose {
    /// The v2 CLI plugin: `docker compose`.
    Plugin,
    /// The standalone `docker-compose` (1.29, or a v2 binary under that name).
    Standalone,
}

/// The oldest standalone docker-compose that reads our compose files (profiles, `${VAR:?}`).
pub const MIN_STANDALONE: (u32, u32, u32) = (1, 29, 0);

impl Compose {
    /// The command prefix: `docker compose` or `docker-compose`.
    pub fn cmd(self) -> Cmd {
        match self {
            Compose::Plugin => Cmd::new("docker").arg("compose"),
            Compose::Standalone => Cmd::new("docker-compose"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compose::Plugin => "docker compose",
            Compose::Standalone => "docker-compose",
        }
    }

    /// `<compose> version`: the probe that tells whether this flavour works.
    pub fn version_cmd(self) -> Cmd {
        self.cmd().arg("version")
    }

    /// Asks both flavours for their version (`docker compose version`, then
    /// `docker-compose version`) and picks one with [`choose`].
    pub fn detect(sh: &Shell) -> Result<(Compose, (u32, u32, u32))> {
        let probe = |c: Compose| -> Option<String> {
            let out = c.version_cmd().output(sh).ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
        };
        let plugin = probe(Compose::Plugin);
        let standalone = if plugin.is_some() {
            None
        } else {
            probe(Compose::Standalone)
        };
        choose(plugin.as_deref(), standalone.as_deref())
    }
}

/// Picks the flavour from the `version` outputs (None: that flavour is not available).
pub fn choose(
    plugin: Option<&str>,
    standalone: Option<&str>,
) -> Result<(Compose, (u32, u32, u32))> {
    if let Some(v) = plugin.and_then(parse_compose_version) {
        return Ok((Compose::Plugin, v));
    }
    if let Some(text) = standalone {
        return match parse_compose_version(text) {
            Some(v) if v >= MIN_STANDALONE => Ok((Compose::Standalone, v)),
            Some((a, b, c)) => bail!(
                "docker-compose {a}.{b}.{c} is too old: install docker-compose >= 1.29 or the Docker Compose v2 plugin (`docker compose`)"
            ),
            None => bail!(
                "cannot read the version of docker-compose from {:?}: install docker-compose >= 1.29 or the Docker Compose v2 plugin",
                text.trim()
            ),
        };
    }
    bail!("Docker Compose not found: neither `docker compose` (v2 plugin) nor `docker-compose` (>= 1.29) works. Install one, e.g. apt-get install docker-compose-plugin (or docker-compose)")
}

/// The first `X.Y[.Z]` version in a `version` output such as `docker-compose version
/// 1.29.2, build unknown` or `Docker Compose version v2.24.5`.
pub fn parse_compose_version(text: &str) -> Option<(u32, u32, u32)> {
    // "5-desktop" -> 5: the digits a part starts with.
    fn leading(p: &str) -> Option<u32> {
        let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    }
    text.split_whitespace().find_map(|word| {
        let word = word.trim_end_matches(',').trim_start_matches('v');
        let mut parts = word.split('.');
        let major = parts
            .next()
            .filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))?
            .parse()
            .ok()?;
        let minor = leading(parts.next()?)?;
        let patch = parts.next().and_then(leading).unwrap_or(0);
        Some((major, minor, patch))
    })
}

/// Architecture names as used in archive names (`uname -m` style).
pub fn normalize_arch(arch: &str) -> String {
    match arch.trim() {
        "amd64" | "x86-64" => "x86_64".into(),
        "arm64" | "arm64/v8" => "aarch64".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("docker"), "docker");
        assert_eq!(
            shell_quote("a/b-c_d.e:f=g,h@i%j+k"),
            "a/b-c_d.e:f=g,h@i%j+k"
        );
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("{{.Id}}"), "'{{.Id}}'");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
    }

    #[test]
    fn command_lines() {
        let c = Cmd::new("docker")
            .env("A", "1 2")
            .env("B", "x")
            .args(["image", "inspect", "--format", "{{.Id}}", "img:1"]);
        assert_eq!(
            c.line(),
            "A='1 2' B=x docker image inspect --format '{{.Id}}' img:1"
        );
        assert_eq!(c.to_string(), c.line());
    }

    #[test]
    fn compose_versions() {
        assert_eq!(
            parse_compose_version(
                "docker-compose version 1.29.2, build unknown\ndocker-py version: 5.0.3"
            ),
            Some((1, 29, 2))
        );
        assert_eq!(
            parse_compose_version("Docker Compose version v2.24.5"),
            Some((2, 24, 5))
        );
        assert_eq!(
            parse_compose_version("Docker Compose version 2.27.0-desktop.2"),
            Some((2, 27, 0))
        );
        assert_eq!(parse_compose_version("no version here"), None);
    }

    #[test]
    fn flavour_choice() {
        assert_eq!(
            choose(Some("Docker Compose version v2.24.5"), None).unwrap(),
            (Compose::Plugin, (2, 24, 5))
        );
        assert_eq!(
            choose(None, Some("docker-compose version 1.29.2, build unknown")).unwrap(),
            (Compose::Standalone, (1, 29, 2))
        );
        assert_eq!(
            choose(None, Some("Docker Compose version v2.20.0"))
                .unwrap()
                .0,
            Compose::Standalone
        );
        let old = format!(
            "{:#}",
            choose(None, Some("docker-compose version 1.25.0, build x")).unwrap_err()
        );
        assert!(old.contains("1.25.0 is too old"), "{old}");
        let none = format!("{:#}", choose(None, None).unwrap_err());
        assert!(
            none.contains("not found") && none.contains("Install"),
            "{none}"
        );
        assert_eq!(Compose::Plugin.cmd().line(), "docker compose");
        assert_eq!(Compose::Standalone.cmd().line(), "docker-compose");
    }

    #[test]
    fn arch_names() {
        assert_eq!(normalize_arch("amd64"), "x86_64");
        assert_eq!(normalize_arch("x86_64\n"), "x86_64");
        assert_eq!(normalize_arch("arm64"), "aarch64");
        assert_eq!(normalize_arch("aarch64"), "aarch64");
    }
}
