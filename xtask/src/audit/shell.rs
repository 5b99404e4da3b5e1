//! A small POSIX `sh` lexer for the audit: the words of each simple command (for file
//! references), every parameter expansion (for environment variables) and the names the
//! script assigns itself. It never runs anything and does not try to be a full parser:
//! it follows quoting, comments, `$(...)`, backticks and here-documents closely enough
//! that the packaged scripts are read the way `sh` reads them.

use std::collections::BTreeSet;

/// One word of a command, quotes removed (`$` expansions are kept as written).
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub text: String,
    pub line: usize,
}

/// One `$NAME` / `${NAME...}` expansion. `op` is what follows the name inside braces
/// (`:-`, `-`, `:=`, `#`...), empty for the plain forms.
#[derive(Debug, Clone, PartialEq)]
pub struct Expansion {
    pub name: String,
    pub line: usize,
    pub op: String,
}

#[derive(Debug, Default)]
pub struct Lexed {
    /// Simple commands at the top level of the script (not inside `$(...)`).
    pub commands: Vec<Vec<Word>>,
    pub expansions: Vec<Expansion>,
    /// Names the script assigns (`NAME=`, `read NAME`, `for NAME in`, `export NAME=`...).
    pub assigned: BTreeSet<String>,
    /// Literal prefixes of names assigned dynamically (`export "VE_LINE_$KEY=$n"` assigns
    /// some `VE_LINE_*`): every name with such a prefix is the script's own. An empty
    /// prefix (`export "$KEY=$VALUE"`, loading a file) says nothing and is not recorded.
    pub assigned_prefixes: BTreeSet<String>,
    /// Names assigned a default of themselves (`NAME=${NAME:-default}`): those still come
    /// from the environment.
    pub self_defaulted: BTreeSet<String>,
}

impl Lexed {
    /// Variables the script takes from its environment: expanded but never assigned, or
    /// only assigned a default of themselves. Positional and special parameters excluded.
    pub fn environment_reads(&self) -> Vec<&Expansion> {
        self.expansions
            .iter()
            .filter(|e| is_name(&e.name))
            .filter(|e| {
                !(self.assigned.contains(&e.name)
                    || self
                        .assigned_prefixes
                        .iter()
                        .any(|p| e.name.starts_with(p.as_str())))
                    || self.self_defaulted.contains(&e.name)
                    || e.op == "="
                    || e.op == ":="
            })
            .collect()
    }
}

pub fn is_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c == b'_' || c.is_ascii_alphabetic())
        && b.all(|c| c == b'_' || c.is_ascii_alphanumeric())
}

/// True for a shell script: `*.sh`, or a `#!` line naming a shell.
pub fn is_shell_script(rel: &str, text: &str) -> bool {
    if rel.ends_with(".sh") {
        return true;
    }
    let first = text.lines().next().unwrap_or("");
    first.starts_with("#!")
        && ["/sh", "/bash", "/dash", "/ash", "env sh", "env bash"]
            .iter()
            .any(|s| first.contains(s))
}

/// Reserved words that may start a command line before the real command.
const RESERVED: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time",
    "esac",
];

pub fn lex(text: &str) -> Lexed {
    let mut lx = Lexer {
        s: text.chars().collect(),
        i: 0,
        line: 1,
        out: Lexed::default(),
        word: None,
        cmd: Vec::new(),
        heredocs: Vec::new(),
    };
    lx.run();
    lx.out
}

struct Heredoc {
    delim: String,
    quoted: bool,
    strip_tabs: bool,
}

struct Lexer {
    s: Vec<char>,
    i: usize,
    line: usize,
    out: Lexed,
    word: Option<Word>,
    cmd: Vec<Word>,
    heredocs: Vec<Heredoc>,
}

impl Lexer {
    fn peek(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }

    fn push_char(&mut self, c: char) {
        let line = self.line;
        self.word
            .get_or_insert_with(|| Word {
                text: String::new(),
                line,
            })
            .text
            .push(c);
    }

    fn push_str(&mut self, s: &str) {
        for c in s.chars() {
            self.push_char(c);
        }
    }

    /// Starts an (empty) word so `''` and `""` count as words.
    fn touch_word(&mut self) {
        let line = self.line;
        self.word.get_or_insert_with(|| Word {
            text: String::new(),
            line,
        });
    }

    fn end_word(&mut self) {
        if let Some(w) = self.word.take() {
            self.cmd.push(w);
        }
    }

    fn end_command(&mut self) {
        self.end_word();
        let words = std::mem::take(&mut self.cmd);
        if words.is_empty() {
            return;
        }
        self.note_assignments(&words);
        self.out.commands.push(words);
    }

    fn note_assignment_word(&mut self, w: &str) -> bool {
        let Some((name, value)) = w.split_once('=') else {
            return false;
        };
        if !is_name(name) {
            if let Some((prefix, _)) = name.split_once('$') {
                if is_name(prefix) {
                    self.out.assigned_prefixes.insert(prefix.to_string());
                }
            }
            return false;
        }
        self.out.assigned.insert(name.to_string());
        // `NAME=${NAME:-x}` takes NAME from the environment; `NAME="$NAME x"` or
        // `NAME=${NAME%x}` only transform the script's own value.
        if [":-", "-", ":=", "="]
            .iter()
            .any(|op| value.contains(&format!("${{{name}{op}")))
        {
            self.out.self_defaulted.insert(name.to_string());
        }
        true
    }

    fn note_assignments(&mut self, words: &[Word]) {
        let mut k = 0;
        while k < words.len() && RESERVED.contains(&words[k].text.as_str()) {
            k += 1;
        }
        while k < words.len() && self.note_assignment_word(&words[k].text) {
            k += 1;
        }
        let Some(cmd) = words.get(k) else { return };
        let rest = &words[k + 1..];
        match cmd.text.as_str() {
            "export" | "local" | "readonly" | "declare" | "typeset" => {
                for w in rest.iter().filter(|w| !w.text.starts_with('-')) {
                    if !self.note_assignment_word(&w.text) && is_name(&w.text) {
                        self.out.assigned.insert(w.text.clone());
                    }
                }
            }
            "read" => {
                let mut skip = false;
                for w in rest {
                    if skip {
                        skip = false;
                    } else if w.text.starts_with('-') {
                        // Options with an argument (-p PROMPT...); `-a NAME` assigns NAME.
                        skip = matches!(w.text.as_str(), "-p" | "-d" | "-t" | "-n" | "-N" | "-u");
                    } else if is_name(&w.text) {
                        self.out.assigned.insert(w.text.clone());
                    }
                }
            }
            "for" => {
                if let Some(w) = rest.first().filter(|w| is_name(&w.text)) {
                    self.out.assigned.insert(w.text.clone());
                }
            }
            "getopts" => {
                if let Some(w) = rest.get(1).filter(|w| is_name(&w.text)) {
                    self.out.assigned.insert(w.text.clone());
                }
            }
            _ => {}
        }
    }

    fn run(&mut self) {
        while let Some(c) = self.peek(0) {
            match c {
                ' ' | '\t' | '\r' => {
                    self.end_word();
                    self.i += 1;
                }
                '\\' => {
                    if self.peek(1) == Some('\n') {
                        self.i += 2;
                        self.line += 1;
                    } else {
                        if let Some(n) = self.peek(1) {
                            self.push_char(n);
                        }
                        self.i += 2;
                    }
                }
                '\n' => {
                    self.end_command();
                    self.i += 1;
                    self.line += 1;
                    self.read_heredocs();
                }
                '#' if self.word.is_none() => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.i += 1;
                    }
                }
                '\'' => {
                    self.touch_word();
                    self.i += 1;
                    while let Some(c) = self.peek(0) {
                        self.i += 1;
                        if c == '\'' {
                            break;
                        }
                        if c == '\n' {
                            self.line += 1;
                        }
                        self.push_char(c);
                    }
                }
                '"' => {
                    self.touch_word();
                    self.i += 1;
                    let text = self.double_quoted();
                    self.push_str(&text);
                }
                '$' => {
                    let text = self.dollar();
                    self.push_str(&text);
                }
                '`' => {
                    let text = self.backticks();
                    self.push_str(&text);
                }
                ';' | '&' | '|' | '(' | ')' => {
                    self.end_command();
                    self.i += 1;
                    while self.peek(0).is_some_and(|n| n == c) {
                        self.i += 1;
                    }
                }
                '<' | '>' => {
                    self.end_word();
                    if c == '<' && self.peek(1) == Some('<') && self.peek(2) != Some('<') {
                        self.i += 2;
                        self.heredoc_start();
                    } else {
                        self.i += 1;
                        while self.peek(0).is_some_and(|n| "<>&|".contains(n)) {
                            self.i += 1;
                        }
                    }
                }
                _ => {
                    self.push_char(c);
                    self.i += 1;
                }
            }
        }
        self.end_command();
    }

    /// After `<<`: the optional `-` and the delimiter word (quoted = no expansion).
    fn heredoc_start(&mut self) {
        let strip_tabs = self.peek(0) == Some('-');
        if strip_tabs {
            self.i += 1;
        }
        while self.peek(0).is_some_and(|c| c == ' ' || c == '\t') {
            self.i += 1;
        }
        let mut delim = String::new();
        let mut quoted = false;
        while let Some(c) = self.peek(0) {
            match c {
                '\'' | '"' => {
                    quoted = true;
                    self.i += 1;
                    while let Some(q) = self.peek(0) {
                        self.i += 1;
                        if q == c {
                            break;
                        }
                        delim.push(q);
                    }
                }
                '\\' => {
                    quoted = true;
                    self.i += 1;
                    if let Some(n) = self.peek(0) {
                        delim.push(n);
                        self.i += 1;
                    }
                }
                c if c.is_whitespace() || ";&|<>()".contains(c) => break,
                c => {
                    delim.push(c);
                    self.i += 1;
                }
            }
        }
        self.heredocs.push(Heredoc {
            delim,
            quoted,
            strip_tabs,
        });
    }

    /// Reads the bodies of the here-documents opened on the line just ended.
    fn read_heredocs(&mut self) {
        for doc in std::mem::take(&mut self.heredocs) {
            loop {
                if self.i >= self.s.len() {
                    return;
                }
                let start = self.i;
                while self.peek(0).is_some_and(|c| c != '\n') {
                    self.i += 1;
                }
                let body_line: String = self.s[start..self.i].iter().collect();
                let line = self.line;
                self.i += 1;
                self.line += 1;
                let cmp = if doc.strip_tabs {
                    body_line.trim_start_matches('\t')
                } else {
                    body_line.as_str()
                };
                if cmp == doc.delim {
                    break;
                }
                if !doc.quoted {
                    scan_expansions(&body_line, line, &mut self.out.expansions);
                }
            }
        }
    }

    /// Inside `"..."` (opening quote consumed): returns the text, records expansions.
    fn double_quoted(&mut self) -> String {
        let mut text = String::new();
        while let Some(c) = self.peek(0) {
            match c {
                '"' => {
                    self.i += 1;
                    break;
                }
                '\\' => {
                    match self.peek(1) {
                        Some(n @ ('$' | '`' | '"' | '\\')) => text.push(n),
                        Some('\n') => self.line += 1,
                        Some(n) => {
                            text.push('\\');
                            text.push(n);
                        }
                        None => {}
                    }
                    self.i += 2;
                }
                '$' => text.push_str(&self.dollar()),
                '`' => text.push_str(&self.backticks()),
                '\n' => {
                    self.line += 1;
                    text.push(c);
                    self.i += 1;
                }
                _ => {
                    text.push(c);
                    self.i += 1;
                }
            }
        }
        text
    }

    /// At `$`: consumes one expansion, records it, returns its source text.
    fn dollar(&mut self) -> String {
        let start = self.i;
        self.i += 1;
        match self.peek(0) {
            Some('{') => {
                self.i += 1;
                let line = self.line;
                let mut prefix = String::new();
                if self.peek(0) == Some('#') && self.peek(1).is_some_and(|c| c != '}') {
                    prefix.push('#');
                    self.i += 1;
                }
                if self.peek(0) == Some('!') {
                    prefix.push('!');
                    self.i += 1;
                }
                let mut name = String::new();
                while let Some(c) = self.peek(0) {
                    let ok = if name.is_empty() {
                        c.is_ascii_alphanumeric() || "_@*#?$!-".contains(c)
                    } else {
                        (c.is_ascii_alphanumeric() || c == '_')
                            && !name.starts_with(|f: char| !(f.is_ascii_alphabetic() || f == '_'))
                    };
                    if !ok {
                        break;
                    }
                    name.push(c);
                    self.i += 1;
                }
                let mut op = String::new();
                while let Some(c) = self.peek(0).filter(|c| ":-=+?#%/^,".contains(*c)) {
                    if op.len() == 2 {
                        break;
                    }
                    op.push(c);
                    self.i += 1;
                    if c != ':' && c != '#' && c != '%' {
                        break;
                    }
                }
                if prefix == "#" {
                    op = "#".into();
                }
                if prefix != "!" {
                    self.out.expansions.push(Expansion { name, line, op });
                }
                // The rest up to the matching brace: nested expansions are recorded too.
                let mut depth = 0;
                while let Some(c) = self.peek(0) {
                    match c {
                        '}' if depth == 0 => {
                            self.i += 1;
                            break;
                        }
                        '}' => {
                            depth -= 1;
                            self.i += 1;
                        }
                        '$' => {
                            self.dollar();
                        }
                        '\'' => {
                            self.i += 1;
                            while self.peek(0).is_some_and(|q| q != '\'') {
                                self.count_newline();
                                self.i += 1;
                            }
                            self.i += 1;
                        }
                        '"' => {
                            self.i += 1;
                            self.double_quoted();
                        }
                        '\\' => self.i += 2,
                        '{' => {
                            depth += 1;
                            self.i += 1;
                        }
                        _ => {
                            self.count_newline();
                            self.i += 1;
                        }
                    }
                }
            }
            Some('(') => {
                self.i += 1;
                self.subst(')');
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {
                let mut name = String::new();
                while let Some(c) = self
                    .peek(0)
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    name.push(c);
                    self.i += 1;
                }
                self.out.expansions.push(Expansion {
                    name,
                    line: self.line,
                    op: String::new(),
                });
            }
            Some(c) if c.is_ascii_digit() || "@*#?$!-".contains(c) => self.i += 1,
            _ => {}
        }
        self.s[start..self.i.min(self.s.len())].iter().collect()
    }

    fn count_newline(&mut self) {
        if self.peek(0) == Some('\n') {
            self.line += 1;
        }
    }

    /// Inside `$(...)` (or `$((...))`): skips to the matching `)`, recording expansions.
    /// Words inside run in a subshell and are not the script's own commands.
    fn subst(&mut self, close: char) {
        let mut depth = 0;
        while let Some(c) = self.peek(0) {
            match c {
                '(' => {
                    depth += 1;
                    self.i += 1;
                }
                ')' if c == close => {
                    self.i += 1;
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                }
                '\'' => {
                    self.i += 1;
                    while self.peek(0).is_some_and(|q| q != '\'') {
                        self.count_newline();
                        self.i += 1;
                    }
                    self.i += 1;
                }
                '"' => {
                    self.i += 1;
                    self.double_quoted();
                }
                '$' => {
                    self.dollar();
                }
                '`' => {
                    self.backticks();
                }
                '\\' => self.i += 2,
                '#' if self.i > 0 && self.s[self.i - 1].is_whitespace() => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.i += 1;
                    }
                }
                _ => {
                    self.count_newline();
                    self.i += 1;
                }
            }
        }
    }

    fn backticks(&mut self) -> String {
        let start = self.i;
        self.i += 1;
        while let Some(c) = self.peek(0) {
            match c {
                '`' => {
                    self.i += 1;
                    break;
                }
                '\\' => self.i += 2,
                '$' => {
                    self.dollar();
                }
                _ => {
                    self.count_newline();
                    self.i += 1;
                }
            }
        }
        self.s[start..self.i.min(self.s.len())].iter().collect()
    }
}

/// Expansions in text that the shell expands like a double-quoted string (the body of an
/// unquoted here-document).
fn scan_expansions(text: &str, line: usize, out: &mut Vec<Expansion>) {
    let mut lx = Lexer {
        s: text.chars().collect(),
        i: 0,
        line,
        out: Lexed::default(),
        word: None,
        cmd: Vec::new(),
        heredocs: Vec::new(),
    };
    while let Some(c) = lx.peek(0) {
        match c {
            '\\' => lx.i += 2,
            '$' => {
                lx.dollar();
            }
            '`' => {
                lx.backticks();
            }
            _ => lx.i += 1,
        }
    }
    out.extend(lx.out.expansions);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(text: &str) -> Vec<String> {
        let l = lex(text);
        let mut v: Vec<String> = l
            .environment_reads()
            .into_iter()
            .map(|e| e.name.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    #[test]
    fn expansions_and_assignments() {
        let s = r#"#!/bin/sh
# comment $IGNORED
set -eu
BIN=bin/app
x=${APP_PORT:-8080} y="$HOST_NAME" z='$NOT_EXPANDED'
echo "${#BIN} \$ESCAPED $(printf %s "$IN_SUBST") `echo $IN_TICKS`"
while IFS= read -r line; do echo "$line"; done <"$FILE"
for n in a b; do echo $n; done
PORT=${PORT:-80}
: "${DEFAULTED:=1}"
ACC=''; ACC="$ACC x"; line=${line%x}
cat <<'EOF'
$QUOTED_HEREDOC
EOF
cat <<EOF
$OPEN_HEREDOC ${1:-x} $#
EOF
echo "$1" "$@" $$ "${BIN}"
"#;
        assert_eq!(
            reads(s),
            [
                "APP_PORT",
                "DEFAULTED",
                "FILE",
                "HOST_NAME",
                "IN_SUBST",
                "IN_TICKS",
                "OPEN_HEREDOC",
                "PORT"
            ]
        );
        let l = lex(s);
        assert!(l.assigned_prefixes.is_empty());
        for n in ["BIN", "x", "y", "z", "line", "n", "PORT"] {
            assert!(l.assigned.contains(n), "{n}");
        }
        let e = l
            .expansions
            .iter()
            .find(|e| e.name == "OPEN_HEREDOC")
            .unwrap();
        assert_eq!(e.line, 16);
        let e = l.expansions.iter().find(|e| e.name == "APP_PORT").unwrap();
        assert_eq!((e.line, e.op.as_str()), (5, ":-"));
    }

    #[test]
    fn dynamic_assignments() {
        let s = "for k in A B; do export \"$k=1\" \"VE_LINE_$k=2\"; done\necho \"${VE_LINE_A-}\" \"$A\"\n";
        let l = lex(s);
        assert_eq!(l.assigned_prefixes.iter().collect::<Vec<_>>(), ["VE_LINE_"]);
        let reads: Vec<&str> = l
            .environment_reads()
            .iter()
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(reads, ["A"]);
    }

    #[test]
    fn commands_and_words() {
        let l = lex(
            "a=1 exec \"$X\"/helpers/v.sh --x 'y z' # c\nsh helpers/b.sh && bin/c >/dev/null\n",
        );
        let words: Vec<Vec<&str>> = l
            .commands
            .iter()
            .map(|c| c.iter().map(|w| w.text.as_str()).collect())
            .collect();
        assert_eq!(
            words,
            [
                vec!["a=1", "exec", "$X/helpers/v.sh", "--x", "y z"],
                vec!["sh", "helpers/b.sh"],
                vec!["bin/c", "/dev/null"]
            ]
        );
        assert_eq!(l.commands[1][1].line, 2);
    }

    #[test]
    fn continuation_and_case() {
        let l = lex("case $1 in\n  a) v=${v#?} ;;\nesac\necho a \\\n  b\n");
        assert!(l.assigned.contains("v"));
        let last = l.commands.last().unwrap();
        assert_eq!(last.len(), 3);
        assert_eq!(last[2].line, 5);
    }

    #[test]
    fn script_detection() {
        assert!(is_shell_script("x.sh", ""));
        assert!(is_shell_script("run", "#!/bin/sh\n"));
        assert!(is_shell_script("run", "#!/usr/bin/env bash\n"));
        assert!(!is_shell_script("app.py", "#!/usr/bin/python3\n"));
    }
}
