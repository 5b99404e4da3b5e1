//! How docker compose v2 reads a `.env` file: `env_file:` and the project `.env` both go
//! through compose-go's `dotenv` package (`parseWithLookup`, compose-go v2.11.0, the
//! version docker compose v5.x builds with; the reader has not changed since v2.9). The
//! facts modelled here, from its `parser.go`, `godotenv.go` and `template/template.go`:
//!
//! - One leading UTF-8 byte order mark is dropped; otherwise the text is read as it is:
//!   there is no line-ending translation (`\r` is plain whitespace, see below).
//! - Between statements, Unicode whitespace (Go's `unicode.IsSpace`, line breaks included)
//!   is skipped; a statement starting with `#` is a comment up to the next `\n`.
//! - `export` followed by whitespace (`\s`: space, tab, `\n`, `\f`, `\r`) is dropped, then
//!   the "blanks" `\t \v \f \r`, space, U+0085 and U+00A0 (its `isSpace`).
//! - The name runs to the first `=`, `:` (YAML style) or `\n` (no value: the name is taken
//!   from the environment docker compose runs in). Blanks inside are skipped; any character
//!   other than a letter, a number, `_ . - [ ]` fails the whole file, and so does a name
//!   that contains a space after trailing whitespace is trimmed.
//! - After `=`, blanks are skipped. A value starting with `'` or `"` runs to the first
//!   quote of that kind not preceded by a backslash (a backslash before that quote is
//!   dropped, before anything else kept); reading then resumes right after it, so text
//!   after a closing quote is the next statement. An unterminated quote fails the file.
//! - A double-quoted value then has `\a \b \f \n \r \t \v \\ \"` and `\0NNN` (octal)
//!   decoded, `\$` kept as a literal `$`, and `${...}`/`$NAME` interpolated; a single-quoted
//!   value is taken as it is.
//! - An unquoted value runs to `\n`, is cut at the first " #" (space then `#`; a tab before
//!   `#` does not start a comment), has trailing Unicode whitespace trimmed and is
//!   interpolated.
//! - Interpolation looks a name up in the environment docker compose runs in first, then in
//!   the values read so far (the opposite of docker compose 1.29). `$$` is a literal `$`;
//!   `${NAME:-x}`, `-`, `:+`, `+`, `:?`, `?` work as in the compose file; a `${` that is not
//!   a valid reference, or a required variable that is missing, fails the whole file.
//! - Every assignment is kept, the last one wins (a map).
//!
//! Not modelled (the validator refuses the lines anyway, so they cannot change a verdict):
//! names outside ASCII use Rust's `char::is_alphabetic`/`is_numeric` for Go's
//! `unicode.IsLetter`/`IsNumber`; a `${...}` spanning a line break inside double quotes;
//! files that are not UTF-8 (Go reads the bytes, this model returns an error).

use std::collections::BTreeMap;

use super::{ComposeValue, Entry};

/// Go's `unicode.IsSpace`: ASCII `\t \n \v \f \r` and space, U+0085, U+00A0 and the other
/// Unicode `White_Space` characters (the same set as [`super::UNICODE_SPACES`]).
fn go_space(c: char) -> bool {
    matches!(c, '\t'..='\r' | ' ') || super::UNICODE_SPACES.iter().any(|u| u.starts_with(c))
}

/// compose-go's own `isSpace`: whitespace that is not `\n`.
fn blank(c: char) -> bool {
    matches!(c, '\t' | '\x0b' | '\x0c' | '\r' | ' ' | '\u{85}' | '\u{a0}')
}

/// Go regexp's `\s` (ASCII only, without `\v`).
fn regexp_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0c' | '\r' | ' ')
}

/// The docker compose v2 reading with an empty caller environment: every assignment in file
/// order (duplicates included), or why docker compose v2 refuses the whole file. Values
/// that interpolate a name are [`ComposeValue::Interpolated`]: the caller's environment
/// comes first in v2, so they depend on it even when the file defines the name.
pub fn compose_v2(bytes: &[u8]) -> Result<Vec<Entry<ComposeValue>>, String> {
    compose_v2_with(bytes, &|_| None, &BTreeMap::new())
}

/// [`compose_v2`] with the environment docker compose runs in (`host`, compose-go's lookup
/// function, which comes first in interpolation) and the values read before this file
/// (`earlier`: earlier `env_file:` entries of the same service, which this file's values
/// then replace). Names without `=` stay [`ComposeValue::FromHost`]: resolve them with the
/// same `host`.
pub fn compose_v2_with(
    bytes: &[u8],
    host: &dyn Fn(&str) -> Option<String>,
    earlier: &BTreeMap<String, String>,
) -> Result<Vec<Entry<ComposeValue>>, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes)
        .map_err(|_| "not modelled: the file is not UTF-8 (refused before reading)".to_string())?;
    let s: Vec<char> = text.chars().collect();
    // Line numbers by binary search over the newline positions: counting newlines from the
    // start for every statement made a long file quadratic.
    let newlines: Vec<usize> = (0..s.len()).filter(|&i| s[i] == '\n').collect();
    let line_at = |p: usize| newlines.partition_point(|&n| n < p) + 1;
    let mut file = earlier.clone();
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        // getStatementStart: skip whitespace and whole comment statements.
        loop {
            pos += s[pos..].iter().take_while(|&&c| go_space(c)).count();
            if pos >= s.len() {
                return Ok(out);
            }
            if s[pos] != '#' {
                break;
            }
            match s[pos..].iter().position(|&c| c == '\n') {
                Some(n) => pos += n,
                None => return Ok(out),
            }
        }
        let line = line_at(pos);
        // locateKeyName
        if s[pos..].starts_with(&['e', 'x', 'p', 'o', 'r', 't'])
            && s.get(pos + 6).is_some_and(|&c| regexp_space(c))
        {
            pos += 6;
            pos += s[pos..].iter().take_while(|&&c| blank(c)).count();
        }
        if pos >= s.len() {
            return Err(format!("line {line}: zero length string"));
        }
        let start = pos;
        let mut end = None;
        for (i, &c) in s.iter().enumerate().skip(start) {
            if blank(c) {
                continue;
            }
            match c {
                '=' | ':' | '\n' => {
                    end = Some((i, c));
                    break;
                }
                '_' | '.' | '-' | '[' | ']' => {}
                c if c.is_alphabetic() || c.is_numeric() => {}
                c => {
                    let first: String = s[start..].iter().take_while(|&&c| c != '\n').collect();
                    return Err(format!(
                        "line {}: unexpected character \"{c}\" in variable name \"{first}\"",
                        line_at(i)
                    ));
                }
            }
        }
        // Without a separator up to the end of the file the name is empty and the whole
        // rest is the value.
        let (key, inherited, after) = match end {
            Some((i, c)) => (s[start..i].iter().collect::<String>(), c == '\n', i + 1),
            None => (String::new(), false, start),
        };
        let key = key.trim_end_matches(go_space).to_string();
        if key.contains(' ') {
            return Err(format!("line {line}: key cannot contain a space"));
        }
        pos = after + s[after..].iter().take_while(|&&c| blank(c)).count();
        if inherited {
            if let Some(v) = host(&key) {
                file.insert(key.clone(), v);
            }
            out.push(Entry {
                line,
                key,
                value: ComposeValue::FromHost,
            });
            continue;
        }
        let lookup = |name: &str| host(name).or_else(|| file.get(name).cloned());
        let (value, interpolated) = match s.get(pos) {
            Some(&q @ ('\'' | '"')) => {
                let mut chars = String::new();
                let mut escape = false;
                let mut close = None;
                for (i, &c) in s.iter().enumerate().skip(pos + 1) {
                    if c != q {
                        if !escape && c == '\\' {
                            escape = true;
                            continue;
                        }
                        if escape {
                            escape = false;
                            chars.push('\\');
                        }
                        chars.push(c);
                        continue;
                    }
                    if escape {
                        escape = false;
                        chars.push(c);
                        continue;
                    }
                    close = Some(i);
                    break;
                }
                let Some(close) = close else {
                    return Err(format!("line {line}: unterminated quoted value"));
                };
                pos = close + 1;
                if q == '"' {
                    interpolate(&expand_escapes(&chars), &lookup)
                        .map_err(|e| format!("line {line}: {e}"))?
                } else {
                    (chars, false)
                }
            }
            _ => {
                let n = s[pos..].iter().take_while(|&&c| c != '\n').count();
                let raw: String = s[pos..pos + n].iter().collect();
                pos = (pos + n + 1).min(s.len());
                let raw = raw.split_once(" #").map_or(raw.as_str(), |(v, _)| v);
                interpolate(raw.trim_end_matches(go_space), &lookup)
                    .map_err(|e| format!("line {line}: {e}"))?
            }
        };
        file.insert(key.clone(), value.clone());
        out.push(Entry {
            line,
            key,
            value: if interpolated {
                ComposeValue::Interpolated(value)
            } else {
                ComposeValue::Text(value)
            },
        });
    }
}

/// `expandEscapes`: the escapes of `\\(?:[abcfnrtv$"\\]|0\d{0,3})`, left to right; one that
/// Go's `strconv.UnquoteChar` refuses (`\c`, a short or out-of-range octal) stays as written.
/// `\$` becomes `$$`, which interpolation turns into a literal `$`.
fn expand_escapes(v: &str) -> String {
    let c: Vec<char> = v.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < c.len() {
        if c[i] != '\\' || i + 1 >= c.len() {
            out.push(c[i]);
            i += 1;
            continue;
        }
        let simple = match c[i + 1] {
            'a' => Some("\x07"),
            'b' => Some("\x08"),
            'f' => Some("\x0c"),
            'n' => Some("\n"),
            'r' => Some("\r"),
            't' => Some("\t"),
            'v' => Some("\x0b"),
            '$' => Some("$$"),
            '"' => Some("\""),
            '\\' => Some("\\"),
            'c' => Some("\\c"),
            _ => None,
        };
        if let Some(s) = simple {
            out.push_str(s);
            i += 2;
            continue;
        }
        if c[i + 1] == '0' {
            let digits: String = c[i + 2..]
                .iter()
                .take(3)
                .take_while(|c| c.is_ascii_digit())
                .collect();
            let octal = (digits.len() == 3)
                .then(|| u32::from_str_radix(&digits, 8).ok())
                .flatten()
                .filter(|&n| n <= 255)
                .and_then(char::from_u32);
            match octal {
                Some(ch) => out.push(ch),
                None => {
                    out.push_str("\\0");
                    out.push_str(&digits);
                }
            }
            i += 2 + digits.len();
            continue;
        }
        out.push('\\');
        i += 1;
    }
    out
}

fn name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn name_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

/// compose-go's `template.Substitute` for a dotenv value: the text and whether any name was
/// looked up (then the value depends on the caller's environment), or the error that fails
/// the whole file.
fn interpolate(v: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<(String, bool), String> {
    let c: Vec<char> = v.chars().collect();
    let mut out = String::new();
    let mut host = false;
    let mut i = 0;
    while i < c.len() {
        if c[i] != '$' {
            out.push(c[i]);
            i += 1;
            continue;
        }
        match c.get(i + 1) {
            Some('$') => {
                out.push('$');
                i += 2;
            }
            Some(&n) if name_start(n) => {
                let len = c[i + 1..].iter().take_while(|&&c| name_char(c)).count();
                let name: String = c[i + 1..i + 1 + len].iter().collect();
                out.push_str(&lookup(&name).unwrap_or_default());
                host = true;
                i += 1 + len;
            }
            Some('{') => {
                let (text, next) = braced(&c, i, lookup)?;
                out.push_str(&text);
                host = true;
                i = next;
            }
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    Ok((out, host))
}

/// `${...}` starting at `c[at]` (the `$`): its replacement and the index after it.
fn braced(
    c: &[char],
    at: usize,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, usize), String> {
    let invalid = || {
        let t: String = c.iter().collect();
        format!("Invalid template: {t:?}")
    };
    let name_at = at + 2;
    if !c.get(name_at).copied().is_some_and(name_start) {
        return Err(invalid());
    }
    let name_len = c[name_at..].iter().take_while(|&&c| name_char(c)).count();
    let name: String = c[name_at..name_at + name_len].iter().collect();
    let op_at = name_at + name_len;
    if c.get(op_at) == Some(&'}') {
        return Ok((lookup(&name).unwrap_or_default(), op_at + 1));
    }
    let colon = c.get(op_at) == Some(&':');
    let op = c.get(op_at + usize::from(colon)).copied();
    if !matches!(op, Some('-' | '+' | '?')) {
        return Err(invalid());
    }
    // The regexp takes `.*` up to the last `}` of the line; the word then ends at the brace
    // that closes `${` (nesting counted, the character after each `{` skipped).
    let line_end = c[at..]
        .iter()
        .position(|&c| c == '\n')
        .map_or(c.len(), |n| at + n);
    let Some(last) = c[at..line_end]
        .iter()
        .rposition(|&c| c == '}')
        .map(|n| at + n)
    else {
        return Err(invalid());
    };
    let word_at = op_at + 1 + usize::from(colon);
    if last < word_at {
        return Err(invalid());
    }
    let mut depth = 0;
    let mut close = last;
    let mut j = at + 1;
    while j <= last {
        if c[j] == '}' {
            depth -= 1;
            if depth == 0 {
                close = j;
                break;
            }
        }
        if c[j] == '{' {
            depth += 1;
            j += 1;
        }
        j += 1;
    }
    let word: String = c[word_at..close].iter().collect();
    let value = lookup(&name);
    let text = match (op, colon) {
        (Some('-'), _) => match value {
            Some(v) if !(colon && v.is_empty()) => v,
            _ => interpolate(&word, lookup)?.0,
        },
        (Some('+'), _) => match value {
            Some(v) if !(colon && v.is_empty()) => interpolate(&word, lookup)?.0,
            v => v.unwrap_or_default(),
        },
        _ => match value {
            Some(v) if !(colon && v.is_empty()) => v,
            _ => {
                let reason = interpolate(&word, lookup)?.0;
                return Err(if reason.is_empty() {
                    format!("required variable {name} is missing a value")
                } else {
                    format!("required variable {name} is missing a value: {reason}")
                });
            }
        },
    };
    Ok((text, close + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(s: &str) -> BTreeMap<String, ComposeValue> {
        compose_v2(s.as_bytes())
            .unwrap()
            .into_iter()
            .map(|e| (e.key, e.value))
            .collect()
    }

    fn t(s: &str) -> ComposeValue {
        ComposeValue::Text(s.into())
    }

    #[test]
    fn reads_like_compose_go() {
        let m = map(
            "A=1\nexport B=2\nC = 3 \nD=x #c\nE=x\t#c\nF='a b' # c\nG=\"a\\nb\"\nH='a\\nb'\n\
             I\nJ=\"x\"K=k\nL: l\nM=\"multi\nline\"\n# N=1\nO=\nP=${A}-${NOPE:-d}\nQ=x\u{a0}\n",
        );
        assert_eq!(m["A"], t("1"));
        assert_eq!(m["B"], t("2"));
        assert_eq!(m["C"], t("3"));
        assert_eq!(m["D"], t("x"));
        assert_eq!(m["E"], t("x\t#c"), "a tab does not start a comment");
        assert_eq!(m["F"], t("a b"));
        assert_eq!(m["G"], t("a\nb"));
        assert_eq!(m["H"], t("a\\nb"));
        assert_eq!(m["I"], ComposeValue::FromHost);
        assert_eq!(m["J"], t("x"));
        assert_eq!(
            m["K"],
            t("k"),
            "text after a closing quote is the next statement"
        );
        assert_eq!(m["L"], t("l"), "YAML-style separator");
        assert_eq!(m["M"], t("multi\nline"));
        assert!(!m.contains_key("N"));
        assert_eq!(m["O"], t(""));
        assert_eq!(m["P"], ComposeValue::Interpolated("1-d".into()));
        assert_eq!(m["Q"], t("x"), "trailing Unicode whitespace trimmed");
        // CR is whitespace, not a line break.
        assert_eq!(map("A=1\r\nB='2'\r\n")["B"], t("2"));
        assert_eq!(map("A=1\rB=2\n")["A"], t("1\rB=2"));
        // Whole-file failures.
        for bad in [
            "A B=1\n",
            ";A=1\n",
            "A=\"x\n",
            "A=${\n",
            "A=${B:?}\n",
            "A=ok\nB=${1}\n",
            "export ",
        ] {
            assert!(compose_v2(bad.as_bytes()).is_err(), "{bad:?}");
        }
        // The caller's environment comes first.
        let host = |k: &str| (k == "A").then(|| "host".to_string());
        let es = compose_v2_with(b"A=file\nB=${A}\n", &host, &BTreeMap::new()).unwrap();
        assert_eq!(es[1].value, ComposeValue::Interpolated("host".into()));
    }

    #[test]
    fn escapes() {
        assert_eq!(
            expand_escapes(r"\0123\0\01\0400\0377"),
            "S\\0\\01\\0400\u{ff}"
        );
        assert_eq!(expand_escapes(r"\c\x\$\\"), "\\c\\x$$\\");
    }
}
