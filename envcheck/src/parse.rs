//! The readings of a `.env` file, as pure functions of its bytes: how docker compose 1.29
//! (`env_file:` and the project `.env`, both through python-dotenv 0.21), docker compose v2
//! (both through compose-go's dotenv, [`compose_v2`]) and systemd 252 (`EnvironmentFile=`)
//! read it, and how the validator itself reads it line by line.
//!
//! The validator's reading ([`classify_line`]) accepts only a subset on which all three
//! consumers agree (tested against the models; the 1.29 and systemd models against the real
//! programs, the v2 model against compose-go's own test cases); the
//! generated shell validator implements the same reading, so both give the same verdicts.

use std::collections::BTreeMap;

mod v2;
pub use v2::{compose_v2, compose_v2_with};

/// Longest line of the portable subset. No setting of the package needs more; the kernel
/// refuses a variable over 128 KiB anyway (`MAX_ARG_STRLEN`), and the bound keeps the
/// shell validator's pattern matching (quadratic in dash and busybox for some patterns)
/// well under a second.
pub const MAX_LINE: usize = 8192;

/// Characters Python's `str.isspace()` (and so python-dotenv's `\s`) treats as whitespace
/// beyond ASCII, as UTF-8. systemd knows only space, tab, CR and LF, so these are read
/// differently at the ends of a value.
pub const UNICODE_SPACES: &[&str] = &[
    "\u{85}", "\u{a0}", "\u{1680}", "\u{2000}", "\u{2001}", "\u{2002}", "\u{2003}", "\u{2004}",
    "\u{2005}", "\u{2006}", "\u{2007}", "\u{2008}", "\u{2009}", "\u{200a}", "\u{2028}", "\u{2029}",
    "\u{202f}", "\u{205f}", "\u{3000}",
];

/// One assignment as a consumer reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<V> {
    /// 1-based line where the assignment starts.
    pub line: usize,
    pub key: String,
    pub value: V,
}

/// A value as docker compose hands it to the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComposeValue {
    /// The text after quote removal and escapes.
    Text(String),
    /// The text after `${VAR}` interpolation of a variable the file does not define before
    /// it: it depends on the environment of whoever runs docker compose (shown here for an
    /// empty one).
    Interpolated(String),
    /// A `KEY` line without `=`: docker compose passes the caller's own `KEY`, if any.
    FromHost,
}

/// Why a whole file is unusable, before any line is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileProblem {
    /// A NUL byte (first one on this line): systemd refuses the file, Python reads it.
    Nul(usize),
    /// Invalid UTF-8 or a Unicode noncharacter (first one on this line): docker compose fails
    /// to decode the file, systemd refuses to load it.
    Encoding(usize),
}

fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1
}

/// U+FDD0..U+FDEF and U+xFFFE/U+xFFFF: valid UTF-8 for Python, refused by systemd's
/// `utf8_is_valid` (`unichar_is_valid`).
pub fn is_noncharacter(c: char) -> bool {
    let c = c as u32;
    (0xFDD0..=0xFDEF).contains(&c) || c & 0xFFFE == 0xFFFE
}

/// The byte-level checks that decide whether a file can be read at all.
pub fn scan_bytes(bytes: &[u8]) -> Option<FileProblem> {
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Some(FileProblem::Nul(line_of(bytes, at)));
    }
    match std::str::from_utf8(bytes) {
        Err(e) => Some(FileProblem::Encoding(line_of(bytes, e.valid_up_to()))),
        Ok(text) => text
            .char_indices()
            .find(|&(_, c)| is_noncharacter(c))
            .map(|(at, _)| FileProblem::Encoding(line_of(bytes, at))),
    }
}

/// How kustomize's `secretGenerator`/`configMapGenerator` `env:` file reader (kubectl's
/// built-in kustomize) reads a file: leading blanks trimmed, blank and `#` lines skipped,
/// split at the first `=`; the value is kept exactly as written (quotes and ` # ...` stay
/// in it), only a CR at the end of the line is dropped. A line without `=` takes the value
/// from kubectl's own environment; a key that is not a valid name refuses the file.
pub fn kustomize(bytes: &[u8]) -> Result<Vec<Entry<ComposeValue>>, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| "kustomize refuses a file that is not UTF-8".to_string())?;
    let mut out = Vec::new();
    for (n, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw).trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k, ComposeValue::Text(v.to_string())),
            None => (line, ComposeValue::FromHost),
        };
        if !valid_key(key.as_bytes()) {
            return Err(format!(
                "kustomize refuses the file: line {} has no valid variable name",
                n + 1
            ));
        }
        out.push(Entry {
            line: n + 1,
            key: key.to_string(),
            value,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod kustomize_tests {
    use super::*;

    #[test]
    fn values_are_kept_as_written() {
        let es = kustomize(b"# c\n  A=\"x\" # y\r\nB\n\nC=a=b\n").unwrap();
        let got: Vec<(usize, &str, &ComposeValue)> = es
            .iter()
            .map(|e| (e.line, e.key.as_str(), &e.value))
            .collect();
        assert_eq!(
            got,
            [
                (2, "A", &ComposeValue::Text("\"x\" # y".into())),
                (3, "B", &ComposeValue::FromHost),
                (5, "C", &ComposeValue::Text("a=b".into())),
            ]
        );
        assert!(kustomize(b"export A=1\n").unwrap_err().contains("line 1"));
    }
}

/// Last assignment wins, in both consumers.
pub fn last_wins<V: Clone>(entries: &[Entry<V>]) -> BTreeMap<String, (usize, V)> {
    entries
        .iter()
        .map(|e| (e.key.clone(), (e.line, e.value.clone())))
        .collect()
}

// ------------------------------------------------------------------------------------------
// docker compose 1.29: compose/config/environment.py `env_vars_from_file` =
// dotenv.dotenv_values(path, encoding="utf-8-sig", interpolate=True) of python-dotenv 0.21.
// ------------------------------------------------------------------------------------------

/// Python's `str.isspace()`, which is what `\s` matches in python-dotenv's regexes.
fn py_space(c: char) -> bool {
    matches!(c, '\t'..='\r' | '\x1c'..='\x1f' | ' ')
        || UNICODE_SPACES.iter().any(|u| u.starts_with(c))
}

/// `[^\S\r\n]`: whitespace except line breaks.
fn py_blank(c: char) -> bool {
    py_space(c) && c != '\n' && c != '\r'
}

struct Reader<'a> {
    s: &'a [char],
    pos: usize,
    line: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<char> {
        self.s.get(self.pos).copied()
    }

    fn at(&self, i: usize) -> Option<char> {
        self.s.get(self.pos + i).copied()
    }

    fn advance(&mut self, n: usize) {
        self.line += self.s[self.pos..self.pos + n]
            .iter()
            .filter(|&&c| c == '\n')
            .count();
        self.pos += n;
    }

    /// Length of the run of characters from `pos + from` that satisfy `f`.
    fn run(&self, from: usize, f: impl Fn(char) -> bool) -> usize {
        self.s[(self.pos + from).min(self.s.len())..]
            .iter()
            .take_while(|&&c| f(c))
            .count()
    }

    fn text(&self, from: usize, len: usize) -> String {
        self.s[self.pos + from..self.pos + from + len]
            .iter()
            .collect()
    }
}

/// The docker compose reading: every binding in file order (with duplicates), or why docker
/// compose cannot read the file at all.
pub fn compose(bytes: &[u8]) -> Result<Vec<Entry<ComposeValue>>, String> {
    // encoding="utf-8-sig" drops one leading BOM; text mode turns \r\n and \r into \n.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes)
        .map_err(|_| "docker compose stops with a UnicodeDecodeError".to_string())?;
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let chars: Vec<char> = text.chars().collect();
    let mut r = Reader {
        s: &chars,
        pos: 0,
        line: 1,
    };
    let mut raw = Vec::new();
    while r.pos < chars.len() {
        // _multiline_whitespace, then one binding.
        let n = r.run(0, py_space);
        r.advance(n);
        if r.pos >= chars.len() {
            break;
        }
        let line = r.line;
        match dotenv_binding(&mut r) {
            Ok(Some((key, value))) => raw.push((line, key, value)),
            Ok(None) => {}
            Err(()) => {
                // _rest_of_line from wherever the failing regex left the reader.
                let n = r.run(0, |c| c != '\n');
                r.advance(n + usize::from(r.at(n).is_some()));
            }
        }
    }
    // resolve_variables(override=True): earlier file values win over the caller's
    // environment, which is unknown here (taken as empty, and marked).
    let mut known: BTreeMap<String, (Option<String>, bool)> = BTreeMap::new();
    let mut out = Vec::new();
    for (line, key, value) in raw {
        let value = match value {
            None => {
                known.insert(key.clone(), (None, false));
                ComposeValue::FromHost
            }
            Some(v) => {
                let (text, host) = interpolate(&v, &known);
                known.insert(key.clone(), (Some(text.clone()), host));
                if host {
                    ComposeValue::Interpolated(text)
                } else {
                    ComposeValue::Text(text)
                }
            }
        };
        out.push(Entry { line, key, value });
    }
    Ok(out)
}

/// python-dotenv's `parse_binding` after the leading whitespace: `Ok(None)` for a comment,
/// `Err` where it logs "could not parse statement". The reader only moves past what the
/// regexes consumed, as in python-dotenv.
fn dotenv_binding(r: &mut Reader) -> Result<Option<(String, Option<String>)>, ()> {
    // _export = (?:export[^\S\r\n]+)?
    if r.text(0, 6.min(r.s.len() - r.pos)) == "export" && r.at(6).is_some_and(py_blank) {
        let n = r.run(6, py_blank);
        r.advance(6 + n);
    }
    let key = match r.peek() {
        Some('#') => None,
        Some('\'') => {
            // '([^']+)'
            let n = r.run(1, |c| c != '\'');
            if n == 0 || r.at(1 + n).is_none() {
                return Err(());
            }
            let k = r.text(1, n);
            r.advance(n + 2);
            Some(k)
        }
        _ => {
            // [^=\#\s]+
            let n = r.run(0, |c| c != '=' && c != '#' && !py_space(c));
            if n == 0 {
                return Err(());
            }
            let k = r.text(0, n);
            r.advance(n);
            Some(k)
        }
    };
    let n = r.run(0, py_blank);
    r.advance(n);
    let value = if r.peek() == Some('=') {
        let n = r.run(1, py_blank);
        r.advance(1 + n);
        Some(dotenv_value(r)?)
    } else {
        None
    };
    // _comment = (?:[^\S\r\n]*#[^\r\n]*)?
    let n = r.run(0, py_blank);
    if r.at(n) == Some('#') {
        let m = r.run(n, |c| c != '\n');
        r.advance(n + m);
    }
    // _end_of_line = [^\S\r\n]*(?:\r\n|\n|\r|$)
    let n = r.run(0, py_blank);
    match r.at(n) {
        None => r.advance(n),
        Some('\n') => r.advance(n + 1),
        Some(_) => return Err(()),
    }
    Ok(key.map(|k| (k, value)))
}

fn dotenv_value(r: &mut Reader) -> Result<String, ()> {
    match r.peek() {
        Some(q @ ('\'' | '"')) => {
            // '((?:\\'|[^'])*)' with backtracking: the content ends at the first quote not
            // escaped by the preceding backslash; without one, at the last escaped quote
            // (the backslash then counts as an ordinary character).
            let s = &r.s[r.pos + 1..];
            let mut i = 0;
            let mut last_escaped = None;
            let close = loop {
                if i >= s.len() {
                    break last_escaped.ok_or(())?;
                }
                if s[i] == '\\' && s.get(i + 1) == Some(&q) {
                    last_escaped = Some(i + 1);
                    i += 2;
                } else if s[i] != q {
                    i += 1;
                } else {
                    break i;
                }
            };
            let content: String = s[..close].iter().collect();
            r.advance(close + 2);
            Ok(decode_escapes(&content, q))
        }
        None | Some('\n') => Ok(String::new()),
        Some(_) => {
            let n = r.run(0, |c| c != '\n');
            let part: Vec<char> = r.s[r.pos..r.pos + n].to_vec();
            r.advance(n);
            // re.sub(r"\s+#.*", "", part).rstrip()
            let mut end = part.len();
            let mut i = 0;
            while i < part.len() {
                if py_space(part[i]) {
                    let j = i + part[i..].iter().take_while(|&&c| py_space(c)).count();
                    if part.get(j) == Some(&'#') {
                        end = i;
                        break;
                    }
                    i = j;
                } else {
                    i += 1;
                }
            }
            let v: String = part[..end].iter().collect();
            Ok(v.trim_end_matches(py_space).to_string())
        }
    }
}

/// `\\[\\']` (single quotes) or `\\[\\'"abfnrtv]` (double quotes), decoded like Python's
/// `unicode-escape` codec, left to right.
fn decode_escapes(s: &str, quote: char) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let decoded = match (chars.peek(), quote) {
            (Some('\\'), _) => Some('\\'),
            (Some('\''), _) => Some('\''),
            (Some('"'), '"') => Some('"'),
            (Some('a'), '"') => Some('\x07'),
            (Some('b'), '"') => Some('\x08'),
            (Some('f'), '"') => Some('\x0c'),
            (Some('n'), '"') => Some('\n'),
            (Some('r'), '"') => Some('\r'),
            (Some('t'), '"') => Some('\t'),
            (Some('v'), '"') => Some('\x0b'),
            _ => None,
        };
        match decoded {
            Some(d) => {
                chars.next();
                out.push(d);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// python-dotenv's `${NAME}` / `${NAME:-default}` (no `$NAME`): returns the text and whether
/// it depends on the caller's environment.
fn interpolate(v: &str, known: &BTreeMap<String, (Option<String>, bool)>) -> (String, bool) {
    let c: Vec<char> = v.chars().collect();
    let mut out = String::new();
    let mut host = false;
    let mut i = 0;
    while i < c.len() {
        if c[i] == '$' && c.get(i + 1) == Some(&'{') {
            // \$\{(?P<name>[^\}:]*)(?::-(?P<default>[^\}]*))?\}
            let name_end = i
                + 2
                + c[i + 2..]
                    .iter()
                    .take_while(|&&x| x != '}' && x != ':')
                    .count();
            let name: String = c[i + 2..name_end].iter().collect();
            let mut matched = None;
            if c.get(name_end) == Some(&'}') {
                matched = Some((None, name_end + 1));
            } else if c.get(name_end) == Some(&':') && c.get(name_end + 1) == Some(&'-') {
                let d_end =
                    name_end + 2 + c[name_end + 2..].iter().take_while(|&&x| x != '}').count();
                if d_end < c.len() {
                    let default: String = c[name_end + 2..d_end].iter().collect();
                    matched = Some((Some(default), d_end + 1));
                }
            }
            if let Some((default, next)) = matched {
                match known.get(&name) {
                    Some((value, h)) => {
                        out.push_str(value.as_deref().unwrap_or(""));
                        host |= h;
                    }
                    None => {
                        out.push_str(default.as_deref().unwrap_or(""));
                        host = true;
                    }
                }
                i = next;
                continue;
            }
        }
        out.push(c[i]);
        i += 1;
    }
    (out, host)
}

// ------------------------------------------------------------------------------------------
// systemd 252: src/basic/env-file.c `parse_env_file_internal` + `load_env_file_push`, then
// exec_context_load_environment's strv_env_clean (drops invalid names; last one wins).
// ------------------------------------------------------------------------------------------

const SD_WHITESPACE: &[u8] = b" \t\n\r";
const SD_NEWLINE: &[u8] = b"\n\r";
const SD_SHELL_NEED_ESCAPE: &[u8] = b"\"\\`$";

/// systemd's `env_name_is_valid`: letters, digits and `_`, not starting with a digit.
pub fn env_name_is_valid(key: &[u8]) -> bool {
    !key.is_empty()
        && !key[0].is_ascii_digit()
        && key.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// systemd's `utf8_is_valid`: strict UTF-8 without noncharacters.
fn sd_utf8_valid(b: &[u8]) -> bool {
    std::str::from_utf8(b).is_ok_and(|s| !s.chars().any(is_noncharacter))
}

/// The systemd reading: every assignment that reaches the service (with duplicates), or why
/// systemd refuses the whole file (and so the service does not start).
pub fn systemd(bytes: &[u8]) -> Result<Vec<Entry<String>>, String> {
    #[derive(PartialEq, Clone, Copy)]
    enum S {
        PreKey,
        Key,
        PreValue,
        Value,
        ValueEscape,
        Single,
        Double,
        DoubleEscape,
        Comment,
        CommentEscape,
    }
    // read_full_stream() without a size refuses embedded NULs (-EBADMSG): the whole file
    // fails to load.
    if bytes.contains(&0) {
        return Err("a NUL byte: systemd refuses the whole file".into());
    }
    let mut out = Vec::new();
    let mut push = |line: usize, key: &[u8], value: &[u8]| -> Result<(), String> {
        if !sd_utf8_valid(key) || !sd_utf8_valid(value) {
            return Err(format!(
                "line {line}: invalid UTF-8, systemd refuses the whole file"
            ));
        }
        if env_name_is_valid(key) {
            out.push(Entry {
                line,
                key: String::from_utf8_lossy(key).into_owned(),
                value: String::from_utf8_lossy(value).into_owned(),
            });
        }
        Ok(())
    };
    let mut state = S::PreKey;
    let (mut key, mut value) = (Vec::new(), Vec::new());
    let (mut key_ws, mut value_ws): (Option<usize>, Option<usize>) = (None, None);
    let (mut line, mut key_line) = (1, 1);
    for &c in bytes {
        match state {
            S::PreKey => {
                if c == b'#' || c == b';' {
                    state = S::Comment;
                } else if !SD_WHITESPACE.contains(&c) {
                    state = S::Key;
                    key_ws = None;
                    key.push(c);
                    key_line = line;
                }
            }
            S::Key => {
                if SD_NEWLINE.contains(&c) {
                    state = S::PreKey;
                    key.clear();
                } else if c == b'=' {
                    state = S::PreValue;
                    value_ws = None;
                } else {
                    if !SD_WHITESPACE.contains(&c) {
                        key_ws = None;
                    } else if key_ws.is_none() {
                        key_ws = Some(key.len());
                    }
                    key.push(c);
                }
            }
            S::PreValue => {
                if SD_NEWLINE.contains(&c) {
                    state = S::PreKey;
                    key.truncate(key_ws.unwrap_or(key.len()));
                    push(key_line, &key, &value)?;
                    key.clear();
                    value.clear();
                } else if c == b'\'' {
                    state = S::Single;
                } else if c == b'"' {
                    state = S::Double;
                } else if c == b'\\' {
                    state = S::ValueEscape;
                } else if !SD_WHITESPACE.contains(&c) {
                    state = S::Value;
                    value.push(c);
                }
            }
            S::Value => {
                if SD_NEWLINE.contains(&c) {
                    state = S::PreKey;
                    value.truncate(value_ws.unwrap_or(value.len()));
                    key.truncate(key_ws.unwrap_or(key.len()));
                    push(key_line, &key, &value)?;
                    key.clear();
                    value.clear();
                } else if c == b'\\' {
                    state = S::ValueEscape;
                    value_ws = None;
                } else {
                    if !SD_WHITESPACE.contains(&c) {
                        value_ws = None;
                    } else if value_ws.is_none() {
                        value_ws = Some(value.len());
                    }
                    value.push(c);
                }
            }
            S::ValueEscape => {
                state = S::Value;
                // An escaped line break joins the lines.
                if !SD_NEWLINE.contains(&c) {
                    value.push(c);
                }
            }
            S::Single => {
                if c == b'\'' {
                    state = S::PreValue;
                } else {
                    value.push(c);
                }
            }
            S::Double => {
                if c == b'"' {
                    state = S::PreValue;
                } else if c == b'\\' {
                    state = S::DoubleEscape;
                } else {
                    value.push(c);
                }
            }
            S::DoubleEscape => {
                state = S::Double;
                if SD_SHELL_NEED_ESCAPE.contains(&c) {
                    value.push(c);
                } else if c != b'\n' {
                    value.extend_from_slice(&[b'\\', c]);
                }
            }
            S::Comment => {
                if c == b'\\' {
                    state = S::CommentEscape;
                } else if SD_NEWLINE.contains(&c) {
                    state = S::PreKey;
                }
            }
            // Before systemd 254 the character after a backslash in a comment, a line break
            // included, stays in the comment: "# a \" swallows the next line.
            S::CommentEscape => state = S::Comment,
        }
        if c == b'\n' {
            line += 1;
        }
    }
    if matches!(
        state,
        S::PreValue | S::Value | S::ValueEscape | S::Single | S::Double | S::DoubleEscape
    ) {
        if state == S::Value {
            value.truncate(value_ws.unwrap_or(value.len()));
        }
        key.truncate(key_ws.unwrap_or(key.len()));
        push(key_line, &key, &value)?;
    }
    Ok(out)
}

// ------------------------------------------------------------------------------------------
// The validator's reading: one line at a time, the portable subset only.
// ------------------------------------------------------------------------------------------

/// How the validator reads one line (its CR line ending, and on line 1 a byte order mark,
/// already removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// Blank or a comment.
    Skip,
    /// Outside the portable subset: the format rule it breaks, and the variable when the
    /// line names a valid one.
    Problem {
        rule: &'static str,
        key: Option<String>,
    },
    /// `KEY=VALUE` that both consumers read as `value`; `warning` names a format rule for a
    /// form they agree on but that other readers (a shell) would not.
    Assign {
        key: String,
        value: String,
        warning: Option<&'static str>,
    },
}

fn is_blank(b: &u8) -> bool {
    *b == b' ' || *b == b'\t'
}

/// Bytes below space except tab, and DEL. A CR here is one inside the line: both consumers
/// start a new line there, a line-by-line reader does not.
pub fn is_control(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

/// A name the package could read: ASCII letters, digits and `_`, not starting with a digit.
pub fn valid_key(k: &[u8]) -> bool {
    env_name_is_valid(k)
}

fn trim_blank(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !is_blank(first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !is_blank(last) {
            break;
        }
        s = rest;
    }
    s
}

fn trim_start_blank(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| is_blank(b)).count();
    &s[n..]
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The validator's reading of one line. The order of the checks is part of the contract:
/// the shell script tests the same patterns in the same order (see `shell.rs`).
pub fn classify_line(line: &[u8]) -> Line {
    let problem = |rule: &'static str, key: Option<&[u8]>| Line::Problem {
        rule,
        key: key.filter(|k| valid_key(k)).map(text),
    };
    if line.len() > MAX_LINE {
        let key = line.iter().position(|&b| b == b'=').map(|eq| &line[..eq]);
        return problem("line-too-long", key);
    }
    if line.iter().any(|&b| is_control(b)) {
        return problem("control-char", None);
    }
    let rest = trim_start_blank(line);
    if rest.is_empty() {
        return Line::Skip;
    }
    if rest[0] == b'#' {
        return if rest.ends_with(b"\\") {
            problem("comment-continuation", None)
        } else {
            Line::Skip
        };
    }
    if rest.starts_with(b"export") && rest.get(6).is_some_and(is_blank) {
        let after = trim_start_blank(&rest[6..]);
        let key = match after.iter().position(|&b| b == b'=') {
            Some(eq) => &after[..eq],
            None => after,
        };
        return problem("export-prefix", Some(trim_blank(key)));
    }
    let Some(eq) = line.iter().position(|&b| b == b'=') else {
        return problem("malformed-line", None);
    };
    let (raw_key, value) = (&line[..eq], &line[eq + 1..]);
    let key = trim_blank(raw_key);
    if !valid_key(key) {
        return problem("invalid-key", None);
    }
    if key.len() != raw_key.len() || value.first().is_some_and(is_blank) {
        return problem("key-spacing", Some(key));
    }
    if contains(value, b"$(") || value.contains(&b'`') {
        return problem("command-substitution", Some(key));
    }
    if value.contains(&b'$') {
        return problem("variable-reference", Some(key));
    }
    if value.contains(&b'\\') {
        return problem("backslash", Some(key));
    }
    if let Some(&q) = value.first().filter(|&&q| q == b'"' || q == b'\'') {
        let n = value.len();
        if n >= 2 && value[n - 1] == q && !value[1..n - 1].contains(&q) {
            return Line::Assign {
                key: text(key),
                value: text(&value[1..n - 1]),
                warning: None,
            };
        }
        return problem("bad-quoting", Some(key));
    }
    if value.windows(2).any(|w| is_blank(&w[0]) && w[1] == b'#') {
        return problem("inline-comment", Some(key));
    }
    if UNICODE_SPACES.iter().any(|u| contains(value, u.as_bytes())) {
        return problem("unicode-space", Some(key));
    }
    if value.iter().any(is_blank) {
        return Line::Assign {
            key: text(key),
            value: text(trim_blank(value)),
            warning: Some("unquoted-space"),
        };
    }
    Line::Assign {
        key: text(key),
        value: text(value),
        warning: None,
    }
}

/// The file split the way `while IFS= read -r line` splits it: at `\n`, a last line without
/// one included. Each line comes with its 1-based number.
pub fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let empty = bytes.is_empty();
    body.split(|&b| b == b'\n')
        .filter(move |_| !empty)
        .enumerate()
        .map(|(i, l)| (i + 1, l))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn compose_map(s: &str) -> BTreeMap<String, ComposeValue> {
        last_wins(&compose(s.as_bytes()).unwrap())
            .into_iter()
            .map(|(k, (_, v))| (k, v))
            .collect()
    }

    fn systemd_map(s: &str) -> BTreeMap<String, String> {
        last_wins(&systemd(s.as_bytes()).unwrap())
            .into_iter()
            .map(|(k, (_, v))| (k, v))
            .collect()
    }

    fn t(s: &str) -> ComposeValue {
        ComposeValue::Text(s.into())
    }

    /// Tricky inputs for the model-versus-program tests, plus pseudo-random ones.
    fn oracle_corpus() -> Vec<Vec<u8>> {
        let mut files: Vec<Vec<u8>> = [
            "A=1\nexport B=2\nC = 3 \nD=x #c\nE=x#c\nF='a b' # c\nG=\"a\\nb\"\nH='a\\nb'\n",
            "I\nJ=\"x\" y\n'L'=l\nM=\"multi\nline\"\n# N=1\nO=\nP=\"\"\nQ=''\n",
            "A='x\\'\nB='x\\'y\nC=\"x\\\"\nD=\"a\\\\\"b\"\nE='it\\'s'\n",
            "\u{feff}A=1\r\nB=2\rC=3\r\n",
            "A=x\u{a0}\nB=\u{a0}x\nC=x\u{a0}#y\nD=\"x\u{a0}\"\nE=a\u{2028}b\nF=x\u{85}\n",
            "A=a\\\nb\n# c \\\nD=1\n; E=2\nF=\"a\\$b\\`c\\\"d\\\\e\\qf\"\nG='a\\b'\n",
            "A=\"x\ny\" z\nB=1\n",
            "  A=1\n\tB = 2\t\nC\t=\t3\n",
            "A==1\nB=#x\nC= #x\nD=a=b\n=x\n1A=1\nA-B=1\nA.B=1\n",
            "A=\"a\" \"b\"\nB='a''b'\nC=\"a\"'b'\n",
            "A=1\0B=2\n",
            "A=\x0bx\nB=x\x0c\nC=\x1cx\x1f\n",
            "A=x\\\n",
            "A=\"unterminated\nB=1\n",
            "export  A=1\nexport\tB=2\nexportC=3\nexport D\n",
            "A=1\nA=2\nA=\n",
            "A=é€😀\nB=\"é\"\n",
            "",
            "\n\n   \n",
            "A",
            "A=\"x\"",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        const PIECES: &[&str] = &[
            "A", "b", "=", " ", "\t", "#", "'", "\"", "\\", ";", "\n", "\r\n", "\r", "\u{a0}", "é",
            "x y", "\x0b", "export ",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..300 {
            let mut f = Vec::new();
            for _ in 0..(seed % 12) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                f.extend_from_slice(PIECES[(seed % PIECES.len() as u64) as usize].as_bytes());
            }
            files.push(f);
        }
        files
    }

    /// The compose model equals docker-compose 1.29's own `env_vars_from_file` (run with an
    /// empty environment, as the model assumes). Skipped where docker-compose 1.29 is not
    /// installed.
    #[test]
    fn compose_model_matches_docker_compose() {
        const PY: &str = "/usr/bin/python3";
        let probe = std::process::Command::new(PY)
            .args(["-c", "import compose.config.environment"])
            .env_clear()
            .output();
        if !probe.is_ok_and(|o| o.status.success()) {
            eprintln!("skipped: docker-compose 1.29 (python3 -m compose) is not installed");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let files = oracle_corpus();
        let mut paths = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let p = dir.path().join(format!("{i}.env"));
            std::fs::write(&p, f).unwrap();
            paths.push(p);
        }
        let script = "import json, sys\n\
            from compose.config.environment import env_vars_from_file\n\
            out = []\n\
            for p in sys.argv[1:]:\n\
            \x20   try:\n\
            \x20       out.append({'ok': env_vars_from_file(p)})\n\
            \x20   except Exception as e:\n\
            \x20       out.append({'error': type(e).__name__})\n\
            print(json.dumps(out))\n";
        let out = std::process::Command::new(PY)
            .arg("-c")
            .arg(script)
            .args(&paths)
            .env_clear()
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        for (f, real) in files.iter().zip(got) {
            let model = compose(f);
            match (&model, real.get("ok")) {
                (Err(_), None) => {}
                (Ok(entries), Some(real)) => {
                    let want: BTreeMap<String, Option<String>> =
                        serde_json::from_value(real.clone()).unwrap();
                    let have: BTreeMap<String, Option<String>> = last_wins(entries)
                        .into_iter()
                        .map(|(k, (_, v))| {
                            let v = match v {
                                ComposeValue::Text(t) | ComposeValue::Interpolated(t) => Some(t),
                                ComposeValue::FromHost => None,
                            };
                            (k, v)
                        })
                        .collect();
                    assert_eq!(have, want, "{:?}", String::from_utf8_lossy(f));
                }
                _ => panic!(
                    "{:?}: model {model:?}, docker compose {real}",
                    String::from_utf8_lossy(f)
                ),
            }
        }
    }

    /// Decodes the generator's `shell_maybe_quote` output: `KEY=value` or `KEY="v\"a\nl\033"`.
    fn parse_generator_output(out: &[u8]) -> BTreeMap<String, String> {
        let s = String::from_utf8_lossy(out);
        let mut map = BTreeMap::new();
        let mut chars = s.chars().peekable();
        while chars.peek().is_some() {
            let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
            let mut value = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        // C escapes for control characters, a backslash otherwise.
                        '\\' => match chars.next() {
                            Some('a') => value.push('\x07'),
                            Some('b') => value.push('\x08'),
                            Some('t') => value.push('\t'),
                            Some('n') => value.push('\n'),
                            Some('v') => value.push('\x0b'),
                            Some('f') => value.push('\x0c'),
                            Some('r') => value.push('\r'),
                            Some(d @ '0'..='7') => {
                                let mut n = d.to_digit(8).unwrap();
                                for _ in 0..2 {
                                    n = n * 8 + chars.next().and_then(|c| c.to_digit(8)).unwrap();
                                }
                                value.push(char::from_u32(n).unwrap());
                            }
                            Some(c) => value.push(c),
                            None => {}
                        },
                        c => value.push(c),
                    }
                }
                assert_eq!(chars.next(), Some('\n'));
            } else {
                value = chars.by_ref().take_while(|&c| c != '\n').collect();
            }
            map.insert(key, value);
        }
        map
    }

    /// The systemd model equals systemd's own parser, run through the environment.d
    /// generator (same `parse_env_file_internal`; it also expands `$`, so files with `$` are
    /// left out, and ignores empty values, which the comparison skips). Skipped where the
    /// generator is not installed.
    #[test]
    fn systemd_model_matches_systemd() {
        const GEN: &str =
            "/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator";
        if !Path::new(GEN).exists() {
            eprintln!("skipped: {GEN} is not installed");
            return;
        }
        let run = |conf: Option<&[u8]>| {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir(dir.path().join("environment.d")).unwrap();
            if let Some(c) = conf {
                std::fs::write(dir.path().join("environment.d/zz-test.conf"), c).unwrap();
            }
            let out = std::process::Command::new(GEN)
                .env_clear()
                .env("XDG_CONFIG_HOME", dir.path())
                .env("HOME", dir.path())
                .output()
                .unwrap();
            parse_generator_output(&out.stdout)
        };
        // What the system's own environment.d files contribute.
        let base = run(None);
        let mut compared = 0;
        for f in oracle_corpus() {
            if f.contains(&b'$') {
                continue;
            }
            let Ok(entries) = systemd(&f) else {
                continue;
            };
            let mut want = base.clone();
            for e in entries.iter().filter(|e| !e.value.is_empty()) {
                want.insert(e.key.clone(), e.value.clone());
            }
            assert_eq!(run(Some(&f)), want, "{:?}", String::from_utf8_lossy(&f));
            compared += 1;
        }
        assert!(compared > 200);
    }

    #[test]
    fn compose_reads_like_python_dotenv() {
        let m = compose_map(
            "A=1\nexport B=2\nC = 3 \nD=x #c\nE=x#c\nF='a b' # c\nG=\"a\\nb\"\nH='a\\nb'\n\
             I\nJ=\"x\" y\nK=${A}-${NOPE:-d}\n'L'=l\nM=\"multi\nline\"\n# N=1\nO=\n",
        );
        assert_eq!(m["A"], t("1"));
        assert_eq!(m["B"], t("2"), "export is stripped");
        assert_eq!(m["C"], t("3"));
        assert_eq!(m["D"], t("x"), "inline comment dropped");
        assert_eq!(m["E"], t("x#c"), "# without a space is kept");
        assert_eq!(m["F"], t("a b"));
        assert_eq!(m["G"], t("a\nb"), "escapes in double quotes");
        assert_eq!(m["H"], t("a\\nb"), "no escapes in single quotes");
        assert_eq!(m["I"], ComposeValue::FromHost);
        assert!(
            !m.contains_key("J"),
            "text after a closing quote: line skipped"
        );
        assert_eq!(m["K"], ComposeValue::Interpolated("1-d".into()));
        assert_eq!(m["L"], t("l"), "single-quoted key");
        assert_eq!(m["M"], t("multi\nline"));
        assert!(!m.contains_key("N"));
        assert_eq!(m["O"], t(""));
        // Line endings and the BOM.
        assert_eq!(compose_map("\u{feff}A=1\r\nB=2\rC=3")["C"], t("3"));
        assert!(compose(b"A=\xff\n").is_err());
        // Backtracking of '(?:\\'|[^'])*' without a closing quote.
        assert_eq!(compose_map("A='x\\'\n")["A"], t("x\\"));
        assert!(!compose_map("A='x\\'y\n").contains_key("A"));
        // Unicode whitespace is whitespace for Python.
        assert_eq!(compose_map("A=x\u{a0}\n")["A"], t("x"));
    }

    #[test]
    fn systemd_reads_like_env_file_c() {
        let m = systemd_map(
            "A=1\nexport B=2\nC = 3 \nD=x #c\nF='a b' # c\nG=\"a\\nb\\$\"\nH=a\\\nb\n\
             I\n; J=1\n# K=1 \\\nL=1\nM=\"x\" y\n1N=1\nO=\n",
        );
        assert_eq!(m["A"], "1");
        assert!(!m.contains_key("B") && !m.contains_key("export B"));
        assert_eq!(m["C"], "3");
        assert_eq!(m["D"], "x #c", "no inline comments");
        assert_eq!(m["F"], "a b# c");
        assert_eq!(m["G"], "a\\nb$");
        assert_eq!(m["H"], "ab", "backslash-newline joins lines");
        assert!(!m.contains_key("I") && !m.contains_key("J"));
        assert!(
            !m.contains_key("L"),
            "a comment ending in \\ swallows the next line (v252)"
        );
        assert_eq!(m["M"], "xy");
        assert!(!m.contains_key("1N"));
        assert_eq!(m["O"], "");
        assert_eq!(systemd_map("A=1\rB=2\r\n")["B"], "2");
        assert!(
            systemd(b"A=1\0B=2\n").is_err(),
            "a NUL byte fails the whole file"
        );
        assert!(systemd(b"A=\xef\xbf\xbf\n").is_err(), "noncharacter U+FFFF");
    }

    #[test]
    fn byte_scan() {
        assert_eq!(scan_bytes(b"A=1\nB=\0"), Some(FileProblem::Nul(2)));
        assert_eq!(
            scan_bytes(b"A=1\n\nB=\xc3\x28"),
            Some(FileProblem::Encoding(3))
        );
        assert_eq!(
            scan_bytes(b"\xff\0"),
            Some(FileProblem::Nul(1)),
            "NUL first"
        );
        assert_eq!(
            scan_bytes("A=\u{fdd0}".as_bytes()),
            Some(FileProblem::Encoding(1))
        );
        assert_eq!(
            scan_bytes(b"A=\xed\xa0\x80"),
            Some(FileProblem::Encoding(1))
        );
        assert_eq!(scan_bytes("A=é€😀\u{feff}".as_bytes()), None);
    }

    #[test]
    fn line_splitting() {
        let l = |b: &[u8]| lines(b).map(|(n, l)| (n, text(l))).collect::<Vec<_>>();
        assert_eq!(l(b""), vec![]);
        assert_eq!(l(b"\n"), vec![(1, String::new())]);
        assert_eq!(l(b"a\nb"), vec![(1, "a".into()), (2, "b".into())]);
        assert_eq!(
            l(b"a\n\nb\n"),
            vec![(1, "a".into()), (2, "".into()), (3, "b".into())]
        );
    }

    #[test]
    fn validator_reading() {
        let assign = |k: &str, v: &str, w| Line::Assign {
            key: k.into(),
            value: v.into(),
            warning: w,
        };
        let problem = |r, k: Option<&str>| Line::Problem {
            rule: r,
            key: k.map(String::from),
        };
        for (line, want) in [
            ("", Line::Skip),
            ("  \t", Line::Skip),
            ("  # c", Line::Skip),
            ("# c \\", problem("comment-continuation", None)),
            ("A=1", assign("A", "1", None)),
            ("a_b=1", assign("a_b", "1", None)),
            ("A=", assign("A", "", None)),
            ("A=x#y", assign("A", "x#y", None)),
            ("A=#y", assign("A", "#y", None)),
            ("A=it's", assign("A", "it's", None)),
            ("A=a=b", assign("A", "a=b", None)),
            ("A=\"a b #c\"", assign("A", "a b #c", None)),
            ("A='say \"hi\"'", assign("A", "say \"hi\"", None)),
            ("A=\"\"", assign("A", "", None)),
            ("A=a b  ", assign("A", "a b", Some("unquoted-space"))),
            ("A=a\tb", assign("A", "a\tb", Some("unquoted-space"))),
            ("export A=1", problem("export-prefix", Some("A"))),
            ("  export\tA = 1", problem("export-prefix", Some("A"))),
            ("export A", problem("export-prefix", Some("A"))),
            ("exportA=1", assign("exportA", "1", None)),
            ("JUSTAWORD", problem("malformed-line", None)),
            (";A=1", problem("invalid-key", None)),
            ("1A=1", problem("invalid-key", None)),
            ("A-B=1", problem("invalid-key", None)),
            ("'A'=1", problem("invalid-key", None)),
            ("=1", problem("invalid-key", None)),
            ("A =1", problem("key-spacing", Some("A"))),
            (" A=1", problem("key-spacing", Some("A"))),
            ("A= 1", problem("key-spacing", Some("A"))),
            ("A=$(touch x)", problem("command-substitution", Some("A"))),
            ("A=`id`", problem("command-substitution", Some("A"))),
            ("A=${HOME}", problem("variable-reference", Some("A"))),
            ("A=pa$$", problem("variable-reference", Some("A"))),
            ("A=a\\b", problem("backslash", Some("A"))),
            ("A=\"abc", problem("bad-quoting", Some("A"))),
            ("A=\"a\"b", problem("bad-quoting", Some("A"))),
            ("A=\"a\" ", problem("bad-quoting", Some("A"))),
            ("A=\"a\"b\"", problem("bad-quoting", Some("A"))),
            ("A=\"", problem("bad-quoting", Some("A"))),
            ("A=x #c", problem("inline-comment", Some("A"))),
            ("A=x\t#c", problem("inline-comment", Some("A"))),
            ("A=x\u{a0}", problem("unicode-space", Some("A"))),
            ("A=a\rb", problem("control-char", None)),
            ("# a\x1bb", problem("control-char", None)),
        ] {
            assert_eq!(classify_line(line.as_bytes()), want, "{line:?}");
        }
        let long = format!("BIG={}", "a".repeat(MAX_LINE));
        assert_eq!(
            classify_line(long.as_bytes()),
            problem("line-too-long", Some("BIG"))
        );
        assert_eq!(
            classify_line(&long.as_bytes()[..MAX_LINE]),
            assign("BIG", &"a".repeat(MAX_LINE - 4), None)
        );
    }
}
