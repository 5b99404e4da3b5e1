//! Renders `common/helpers/validate-env.sh`, the POSIX sh twin of `cargo xtask validate-env`
//! that the packages ship (the container entrypoint, `run-native.sh` and the units'
//! `ExecStartPre=` run it on the process environment; admins run it with `--env-file`).
//!
//! Everything that decides a verdict comes from the Rust side: the rule table (ids,
//! severities, messages, fixes, order, conditions), the known variables, the placeholder
//! patterns, the boolean words, the control and Unicode space characters. The shell code
//! around them mirrors `parse::classify_line` and `rules::check_values` step by step. The
//! committed script must equal [`render`]'s output (test below); the differential test in
//! `xtask/tests/validate_env.rs` runs both validators on the same files.

use std::fmt::Write as _;

use super::{
    known_keys,
    parse::{is_control, MAX_LINE, UNICODE_SPACES},
    rules::{
        Check, Rule, When, FALSE_WORDS, FORBIDDEN_KEYS, FORBIDDEN_PREFIXES, PLACEHOLDER_GLOBS,
        RENAMED, RULES, TRUE_WORDS,
    },
};

/// Where the generated script lives, relative to the repository.
#[cfg(test)]
pub const SCRIPT: &str = "common/helpers/validate-env.sh";

/// A word for the shell: bare when it is plainly safe, else single-quoted.
fn sq(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./:@%+,=".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `printf` octal escapes for bytes, so the script itself stays plain ASCII.
fn octal(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:03o}")).collect()
}

/// A `case` pattern matching `word` in any ASCII case: `true` -> `[Tt][Rr][Uu][Ee]`.
fn any_case(word: &str) -> String {
    word.chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase())
            } else {
                sq(&c.to_string())
            }
        })
        .collect()
}

/// A glob of [`PLACEHOLDER_GLOBS`] as a `case` pattern: wildcards and brackets stay
/// active, other characters that mean something to the shell are quoted.
fn case_pattern(glob: &str) -> String {
    let mut out = String::new();
    let mut in_bracket = false;
    for c in glob.chars() {
        if in_bracket {
            assert!(
                c.is_ascii_alphanumeric() || "!-_]".contains(c),
                "{glob}: keep bracket expressions to letters, digits, '!', '-' and '_'"
            );
            out.push(c);
            in_bracket = c != ']';
        } else if c == '[' {
            in_bracket = true;
            out.push(c);
        } else if c == '*' || c == '?' {
            out.push(c);
        } else {
            out.push_str(&sq(&c.to_string()));
        }
    }
    out
}

/// The whole script.
pub fn render() -> String {
    let mut s = String::new();
    s.push_str(HEADER);
    let known = known_keys();
    // NUL is for the prescan: a shell variable cannot hold it.
    let ctrl: Vec<u8> = (1u8..=0x7f)
        .filter(|&b| b != b'\n' && is_control(b))
        .collect();
    let uspace: Vec<String> = UNICODE_SPACES.iter().map(|u| octal(u.as_bytes())).collect();
    writeln!(
        s,
        "# Control characters except tab (a line has no newline; NUL is the prescan's)."
    )
    .unwrap();
    writeln!(s, "CTRL=$(printf '{}')", octal(&ctrl)).unwrap();
    writeln!(
        s,
        "# Characters docker compose (Python) treats as whitespace beyond ASCII, UTF-8."
    )
    .unwrap();
    writeln!(s, "USPACE=$(printf '{}')", uspace.join(" ")).unwrap();
    writeln!(s, "MAX_LINE={MAX_LINE}").unwrap();
    writeln!(s).unwrap();
    writeln!(
        s,
        "# Every variable the package reads: the names of .env.example and .env.full.example."
    )
    .unwrap();
    let mut lines = vec![String::new()];
    for k in &known {
        let last = lines.last_mut().unwrap();
        if !last.is_empty() && last.len() + k.len() > 76 {
            lines.push(String::new());
        }
        let last = lines.last_mut().unwrap();
        if !last.is_empty() {
            last.push(' ');
        }
        last.push_str(k);
    }
    writeln!(s, "KNOWN_VARS='{}'", lines.join("\n")).unwrap();
    s.push_str(FUNCTIONS_START);

    // get / line_of: indirect lookups without eval.
    s.push_str(
        "# get VAR: GET_VALUE = the value of VAR (empty when unset), GET_SET = 1 when VAR is\n# set (even to the empty string), else empty.\nget() {\n    case $1 in\n",
    );
    for k in &known {
        writeln!(s, "        {k}) GET_VALUE=${{{k}-}} GET_SET=${{{k}+1}} ;;").unwrap();
    }
    s.push_str("        *) GET_VALUE='' GET_SET='' ;;\n    esac\n}\n\n");

    // Names refused or renamed.
    let forbidden: Vec<String> = FORBIDDEN_KEYS
        .iter()
        .map(|k| k.to_string())
        .chain(FORBIDDEN_PREFIXES.iter().map(|p| format!("{p}*")))
        .collect();
    writeln!(
        s,
        "# is_forbidden_key NAME: a loader, shell or PHP start-up variable.\nis_forbidden_key() {{\n    case $1 in\n        {}) return 0 ;;\n    esac\n    return 1\n}}\n",
        forbidden.join(" | ")
    )
    .unwrap();
    s.push_str("# renamed_to NAME: RENAMED_TO = the name that replaced an old NAME (empty otherwise).\nrenamed_to() {\n    case $1 in\n");
    for (old, new) in RENAMED {
        writeln!(s, "        {old}) RENAMED_TO={new} ;;").unwrap();
    }
    s.push_str("        *) RENAMED_TO= ;;\n    esac\n}\n\n");
    s.push_str("# line_of VAR: LINE_VALUE = the line of FILE that last set VAR (empty otherwise).\nline_of() {\n    LINE_VALUE=\n    [ \"$HAVE_FILE\" -eq 1 ] || return 0\n    case $1 in\n");
    for k in &known {
        writeln!(s, "        {k}) LINE_VALUE=${{VE_LINE_{k}-}} ;;").unwrap();
    }
    s.push_str("    esac\n}\n\n");

    // rule_info: severity, message and fix of every rule.
    s.push_str("# rule_info RULE: R_SEV, R_MSG and R_FIX of a rule of the table.\n# (Messages quote $ literally.)\n# shellcheck disable=SC2016\nrule_info() {\n    case $1 in\n");
    for r in RULES {
        writeln!(
            s,
            "        {})\n            R_SEV={}\n            R_MSG={}\n            R_FIX={}\n            ;;",
            r.id,
            r.severity.label(),
            sq(&r.message()),
            sq(r.fix)
        )
        .unwrap();
    }
    s.push_str("        *)\n            R_SEV=ERROR\n            R_MSG=\"unknown rule $1\"\n            R_FIX='report this bug'\n            ;;\n    esac\n}\n\n");

    // Value classes.
    s.push_str("# is_placeholder VALUE: looks like a value copied unchanged from a template.\nis_placeholder() {\n    [ \"${#1}\" -le \"$MAX_LINE\" ] || return 1\n    case $1 in\n");
    for g in PLACEHOLDER_GLOBS {
        writeln!(s, "        {}) return 0 ;;", case_pattern(g)).unwrap();
    }
    s.push_str("    esac\n    return 1\n}\n\n");
    for (name, words) in [("is_true", TRUE_WORDS), ("is_false", FALSE_WORDS)] {
        let pats: Vec<String> = words.iter().map(|w| any_case(w)).collect();
        writeln!(
            s,
            "{name}() {{\n    case $1 in {}) return 0 ;; esac\n    return 1\n}}\n",
            pats.join(" | ")
        )
        .unwrap();
    }
    s.push_str(BODY);

    // The value rules, in table order.
    s.push_str("# The value rules of the table, in order. The first ERROR on a variable skips its\n# later rules (FLAGGED).\nrun_rules() {\n");
    for r in RULES {
        if let Some(call) = rule_call(r) {
            match r.when {
                When::Always => writeln!(s, "    {call}").unwrap(),
                When::True(k) => writeln!(
                    s,
                    "    get {k}\n    if is_true \"$GET_VALUE\"; then\n        {call}\n    fi"
                )
                .unwrap(),
                When::Equals(k, v) => writeln!(
                    s,
                    "    get {k}\n    if [ \"$GET_VALUE\" = {} ]; then\n        {call}\n    fi",
                    sq(v)
                )
                .unwrap(),
                When::Unset(k) => writeln!(
                    s,
                    "    get {k}\n    if [ -z \"$GET_VALUE\" ]; then\n        {call}\n    fi"
                )
                .unwrap(),
            }
        }
    }
    s.push_str("}\n\n");
    s.push_str(MAIN);
    s
}

/// The shell call that runs one value rule (none for the rules of the file reader).
fn rule_call(r: &Rule) -> Option<String> {
    let words = |ws: &[&str]| ws.iter().map(|w| sq(w)).collect::<Vec<_>>().join(" ");
    let id = r.id;
    Some(match r.check {
        Check::Set(k) => format!("check_set {id} {k}"),
        Check::MinLength(k, n) => format!("check_min_length {id} {k} {n}"),
        Check::Boolean(k) => format!("check_boolean {id} {k}"),
        Check::False(k) => format!("check_false {id} {k}"),
        Check::NotFalse(k) => format!("check_not_false {id} {k}"),
        Check::Port(k) => format!("check_port {id} {k}"),
        Check::PositiveInt(k) => format!("check_positive_int {id} {k}"),
        Check::IntRange(k, lo, hi) => format!("check_int_range {id} {k} {lo} {hi}"),
        Check::IpLiteral(k) => format!("check_ip_literal {id} {k}"),
        Check::PinnedImage(k) => format!("check_pinned_image {id} {k}"),
        Check::AbsolutePath(k) => format!("check_absolute_path {id} {k}"),
        Check::NotEmpty(k) => format!("check_not_empty {id} {k}"),
        Check::NoPrefix(k, ps) => format!("check_no_prefix {id} {k} {}", words(ps)),
        Check::Url(k) => format!("check_url {id} {k}"),
        Check::OneOf(k, ws) => format!("check_one_of {id} {k} {}", words(ws)),
        Check::NoneOf(k, ws) => format!("check_none_of {id} {k} {}", words(ws)),
        Check::Prefix(k, p) => format!("check_prefix {id} {k} {}", sq(p)),
        Check::Pair(a, b) => format!("check_pair {id} {a} {b}"),
        Check::Format
        | Check::ReadersDisagree
        | Check::Placeholder
        | Check::UnknownKey
        | Check::ForbiddenKey
        | Check::RenamedKey => return None,
    })
}

const HEADER: &str = r#"#!/bin/sh
# validate-env.sh — check the @@APP_NAME@@ @@VERSION@@ runtime configuration.
#
# GENERATED from the rule table of `cargo xtask validate-env`
# (xtask/src/validate_env/rules.rs) by xtask/src/validate_env/shell.rs: do not edit.
# After changing the table: UPDATE_GENERATED=1 cargo test -p xtask --bin xtask validate_env
#
# Usage:
#   validate-env.sh                     check the current process environment
#                                       (container entrypoint, systemd ExecStartPre=,
#                                       run-native.sh)
#   validate-env.sh --env-file FILE     check FILE without executing it
#   validate-env.sh --strict ...        also fail on warnings
#   validate-env.sh --quiet ...         print only findings, no summary line
#
# Output: one line per finding on stderr,
#   ERROR <rule> <where>[ <VAR>]: <problem> — fix: <hint>
#   WARN <rule> <where>[ <VAR>]: <problem> — fix: <hint>
# where <where> is "environment", FILE or FILE:LINE. Values are never printed.
# Exit status: 0 = no errors (warnings allowed unless --strict),
#              1 = errors (or warnings with --strict), 2 = usage error.
#
# FILE is never executed, sourced or evaluated: od and awk check its bytes, then it is
# read line by line with `read -r`. It must keep to the subset that docker compose
# (env_file) and systemd (EnvironmentFile=) read the same way; anything else is an
# ERROR naming the line:
#   - UTF-8 text without NUL, byte order mark or control characters (tab is fine)
#   - lines of at most 8192 bytes
#   - blank lines; comments: lines whose first non-blank character is '#' (not
#     ending in a backslash)
#   - KEY=VALUE with KEY of letters, digits and '_', not starting with a digit; no
#     'export ', no spaces around '='
#   - VALUE without '$', '`' or '\'; either quoted as a whole ("..." or '...' with
#     no quote of that kind inside) or unquoted without ' #' and Unicode spaces
#     (unquoted spaces are a warning: a shell would split them)
#   - the last line for a name wins (a duplicate is a warning)

set -fu
LC_ALL=C
export LC_ALL

PROG=validate-env
ERRORS=0
WARNINGS=0
STRICT=0
QUIET=0
ENV_FILE=
HAVE_FILE=0
PRINT_ENV=0
ORIGIN=environment
FLAGGED=' '
SEEN=' '
CR=$(printf '\r')
BOM=$(printf '\357\273\277')
BLANK=$(printf ' \t')
"#;

const FUNCTIONS_START: &str = r#"
KNOWN_LIST=' '
for name in $KNOWN_VARS; do
    KNOWN_LIST="$KNOWN_LIST$name "
done

usage() {
    cat <<'EOF'
Usage: validate-env.sh [--env-file FILE [--print-env]] [--strict] [--quiet]

Without --env-file the current process environment is checked.
--print-env: when FILE passes, print NAME=VALUE on stdout for each known name
it sets, valued as docker compose and systemd read it (for run-native.sh; the
file is never executed). Nothing is printed on stdout when it fails.
Prints "ERROR <rule> <where> <VAR>: ..." / "WARN ..." lines on stderr.
Exit status: 0 ok, 1 errors (or warnings with --strict), 2 usage error.
EOF
}

"#;

const BODY: &str = r#"is_uint() {
    case $1 in '' | *[!0-9]*) return 1 ;; esac
    return 0
}

is_known() {
    case $KNOWN_LIST in *" $1 "*) return 0 ;; esac
    return 1
}

# A name the package could read: letters, digits and _, not starting with a digit.
valid_key() {
    case $1 in '' | [0-9]* | *[!A-Za-z0-9_]*) return 1 ;; esac
    return 0
}

# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------

# report RULE VAR LINE [MESSAGE]: print one finding (VAR and LINE may be empty).
# An ERROR on VAR skips the later checks of VAR.
report() {
    rule_info "$1"
    msg=${4:-$R_MSG}
    where=$ORIGIN
    [ -z "$3" ] || where="$where:$3"
    if [ "$R_SEV" = ERROR ]; then
        ERRORS=$((ERRORS + 1))
        [ -z "$2" ] || FLAGGED="$FLAGGED$2 "
    else
        WARNINGS=$((WARNINGS + 1))
    fi
    if [ -n "$2" ]; then
        printf '%s %s %s %s: %s — fix: %s\n' "$R_SEV" "$1" "$where" "$2" "$msg" "$R_FIX" >&2
    else
        printf '%s %s %s: %s — fix: %s\n' "$R_SEV" "$1" "$where" "$msg" "$R_FIX" >&2
    fi
}

# report_value RULE VAR [MESSAGE]: a finding on VAR's value, at the line that set it.
report_value() {
    line_of "$2"
    report "$1" "$2" "$LINE_VALUE" "${3-}"
}

flagged() {
    case $FLAGGED in *" $1 "*) return 0 ;; esac
    return 1
}

# ---------------------------------------------------------------------------
# Value rules: RULE VAR [ARGS]. Unset and empty are the same.
# ---------------------------------------------------------------------------

check_set() {
    flagged "$2" && return 0
    get "$2"
    [ -n "$GET_VALUE" ] || report_value "$1" "$2"
}

check_min_length() { # RULE VAR MIN (bytes)
    flagged "$2" && return 0
    get "$2"
    if [ -n "$GET_VALUE" ] && [ "${#GET_VALUE}" -lt "$3" ]; then
        report_value "$1" "$2" "is ${#GET_VALUE} characters, at least $3 required"
    fi
}

check_boolean() {
    flagged "$2" && return 0
    get "$2"
    [ -n "$GET_VALUE" ] || return 0
    is_true "$GET_VALUE" || is_false "$GET_VALUE" || report_value "$1" "$2"
}

check_false() {
    flagged "$2" && return 0
    get "$2"
    if [ -n "$GET_VALUE" ] && ! is_false "$GET_VALUE"; then
        report_value "$1" "$2"
    fi
}

check_not_false() {
    flagged "$2" && return 0
    get "$2"
    if [ -n "$GET_VALUE" ] && is_false "$GET_VALUE"; then
        report_value "$1" "$2"
    fi
}

check_port() {
    flagged "$2" && return 0
    get "$2"
    [ -n "$GET_VALUE" ] || return 0
    if ! is_uint "$GET_VALUE" || [ "${#GET_VALUE}" -gt 5 ] ||
        [ "$GET_VALUE" -lt 1 ] || [ "$GET_VALUE" -gt 65535 ]; then
        report_value "$1" "$2"
    fi
}

check_positive_int() {
    flagged "$2" && return 0
    get "$2"
    [ -n "$GET_VALUE" ] || return 0
    if ! is_uint "$GET_VALUE" || [ "${#GET_VALUE}" -gt 9 ] || [ "$GET_VALUE" -lt 1 ]; then
        report_value "$1" "$2"
    fi
}

check_int_range() { # RULE VAR LOW HIGH
    flagged "$2" && return 0
    get "$2"
    [ -n "$GET_VALUE" ] || return 0
    if ! is_uint "$GET_VALUE" || [ "${#GET_VALUE}" -gt 9 ] ||
        [ "$GET_VALUE" -lt "$3" ] || [ "$GET_VALUE" -gt "$4" ]; then
        report_value "$1" "$2"
    fi
}

# is_ipv4 TEXT: a dotted quad of 0-255 without leading zeros.
is_ipv4() {
    case $1 in '' | *[!0-9.]* | .* | *. | *..*) return 1 ;; esac
    rest=$1. n=0
    while [ -n "$rest" ]; do
        part=${rest%%.*}
        rest=${rest#*.}
        n=$((n + 1))
        case $part in 0?* | ????*) return 1 ;; esac
        [ "$n" -le 4 ] && [ "$part" -le 255 ] || return 1
    done
    [ "$n" -eq 4 ]
}

# is_ipv6 TEXT: eight groups of 1-4 hex digits separated by ':', one '::' standing
# for one or more zero groups, the last two groups optionally written as IPv4.
is_ipv6() {
    v6=$1
    case $v6 in '' | *[!0-9A-Fa-f:.]*) return 1 ;; esac
    case $v6 in *.*)
        v4=${v6##*:}
        [ "$v4" != "$v6" ] && is_ipv4 "$v4" || return 1
        v6="${v6%"$v4"}0:0"
        ;;
    esac
    case $v6 in *.* | *:::* | *::*::* | :[!:]* | *[!:]:) return 1 ;; esac
    rest=$v6: n=0 empty=0
    while [ -n "$rest" ]; do
        group=${rest%%:*}
        rest=${rest#*:}
        n=$((n + 1))
        case $group in
            '') empty=$((empty + 1)) ;;
            ?????*) return 1 ;;
        esac
    done
    case $v6 in
        *::*) [ $((n - empty)) -le 7 ] ;;
        *) [ "$n" -eq 8 ] ;;
    esac
}

check_ip_literal() {
    flagged "$2" && return 0
    get "$2"
    [ -n "$GET_VALUE" ] || return 0
    is_ipv4 "$GET_VALUE" || is_ipv6 "$GET_VALUE" || report_value "$1" "$2"
}

# check_pinned_image: a version tag or a sha256 digest (rules::image_pin_problem).
check_pinned_image() {
    flagged "$2" && return 0
    get "$2"
    case $GET_VALUE in '' | *@sha256:*) return 0 ;; *@@*)
        report_value "$1" "$2"
        return 0
        ;;
    esac
    last=${GET_VALUE##*/}
    case $last in
        *:*)
            case ${last#*:} in '' | latest) report_value "$1" "$2" ;; esac
            ;;
        *) report_value "$1" "$2" ;;
    esac
}

check_absolute_path() {
    flagged "$2" && return 0
    get "$2"
    case $GET_VALUE in '' | /*) ;; *) report_value "$1" "$2" ;; esac
}

# check_not_empty: set, but to the empty string.
check_not_empty() {
    flagged "$2" && return 0
    get "$2"
    if [ -n "$GET_SET" ] && [ -z "$GET_VALUE" ]; then
        report_value "$1" "$2"
    fi
}

check_no_prefix() { # RULE VAR PREFIX...
    flagged "$2" && return 0
    get "$2"
    [ -n "$GET_VALUE" ] || return 0
    rule=$1 var=$2
    shift 2
    for prefix in "$@"; do
        case $GET_VALUE in "$prefix"*) return 0 ;; esac
    done
    report_value "$rule" "$var"
}

check_url() {
    flagged "$2" && return 0
    get "$2"
    case $GET_VALUE in
        '' | http://?* | https://?*) ;;
        *) report_value "$1" "$2" ;;
    esac
}

check_one_of() { # RULE VAR WORD...
    flagged "$2" && return 0
    get "$2"
    [ -n "$GET_VALUE" ] || return 0
    rule=$1 var=$2
    shift 2
    for word in "$@"; do
        [ "$GET_VALUE" = "$word" ] && return 0
    done
    report_value "$rule" "$var"
}

check_none_of() { # RULE VAR WORD...
    flagged "$2" && return 0
    get "$2"
    [ -n "$GET_VALUE" ] || return 0
    rule=$1 var=$2
    shift 2
    for word in "$@"; do
        if [ "$GET_VALUE" = "$word" ]; then
            report_value "$rule" "$var"
            return 0
        fi
    done
}

check_prefix() { # RULE VAR PREFIX
    flagged "$2" && return 0
    get "$2"
    case $GET_VALUE in "$3"*) report_value "$1" "$2" ;; esac
}

check_pair() { # RULE VAR1 VAR2: both set or neither
    get "$2"
    first=$GET_VALUE
    get "$3"
    if [ -n "$first" ] && [ -z "$GET_VALUE" ]; then
        flagged "$3" || report_value "$1" "$3" "is required because $2 is set"
    elif [ -z "$first" ] && [ -n "$GET_VALUE" ]; then
        flagged "$2" || report_value "$1" "$2" "is required because $3 is set"
    fi
}

# ---------------------------------------------------------------------------
# Reading FILE
# ---------------------------------------------------------------------------

# prescan: the byte checks of FILE. Prints "nul LINE" for the first NUL byte, else
# "utf8 LINE" for the first invalid UTF-8 sequence or Unicode noncharacter (systemd
# refuses those), else nothing.
prescan() {
    od -A n -t u1 -v <"$ENV_FILE" | awk '
        BEGIN { line = 1; need = 0; nul = 0; bad = 0 }
        {
            for (i = 1; i <= NF; i++) {
                b = $i + 0
                if (b == 0 && !nul) nul = line
                if (need > 0) {
                    if (b >= lo && b <= hi) {
                        cp = cp * 64 + b - 128
                        lo = 128
                        hi = 191
                        need--
                        if (need == 0 && ((cp >= 64976 && cp <= 65007) || cp % 65536 >= 65534)) {
                            if (!bad) bad = line
                        }
                        continue
                    }
                    if (!bad) bad = line
                    need = 0
                }
                if (b == 10) line++
                if (b < 128) continue
                lo = 128
                hi = 191
                if (b >= 194 && b <= 223) { need = 1; cp = b - 192 }
                else if (b == 224) { need = 2; cp = 0; lo = 160 }
                else if (b == 237) { need = 2; cp = 13; hi = 159 }
                else if (b >= 225 && b <= 239) { need = 2; cp = b - 224 }
                else if (b == 240) { need = 3; cp = 0; lo = 144 }
                else if (b >= 241 && b <= 243) { need = 3; cp = b - 240 }
                else if (b == 244) { need = 3; cp = 4; hi = 143 }
                else if (!bad) bad = line
            }
        }
        END {
            if (need > 0 && !bad) bad = line
            if (nul) print "nul " nul
            else if (bad) print "utf8 " bad
        }'
}

# Leading and trailing spaces and tabs of TRIMMED, removed without a loop.
trim() {
    lead=${TRIMMED%%[!"$BLANK"]*}
    TRIMMED=${TRIMMED#"$lead"}
    trail=${TRIMMED##*[!"$BLANK"]}
    TRIMMED=${TRIMMED%"$trail"}
}

# key_of TEXT: KEY = TEXT when it is a valid name.
key_of() {
    KEY=
    if valid_key "$1"; then KEY=$1; fi
}

# classify_line: the validator's reading of $line, check by check in the order of
# the Rust reader (parse::classify_line). Sets CLASS (skip, problem or assign), RULE
# (the format rule of a problem, or the warning of an assignment), KEY and VALUE.
classify_line() {
    CLASS=problem RULE='' KEY='' VALUE=''
    if [ "${#line}" -gt "$MAX_LINE" ]; then
        RULE='line-too-long'
        case $line in *=*) key_of "${line%%=*}" ;; esac
        return
    fi
    case $line in *["$CTRL"]*)
        RULE='control-char'
        return
        ;;
    esac
    lead=${line%%[!"$BLANK"]*}
    rest=${line#"$lead"}
    case $rest in
        '')
            CLASS=skip
            return
            ;;
        '#'*)
            case $rest in
                *\\) RULE='comment-continuation' ;;
                *) CLASS=skip ;;
            esac
            return
            ;;
        export["$BLANK"]*)
            RULE='export-prefix'
            TRIMMED=${rest#export}
            case $TRIMMED in *=*) TRIMMED=${TRIMMED%%=*} ;; esac
            trim
            key_of "$TRIMMED"
            return
            ;;
    esac
    case $line in
        *=*) ;;
        *)
            RULE='malformed-line'
            return
            ;;
    esac
    raw_key=${line%%=*}
    value=${line#*=}
    TRIMMED=$raw_key
    trim
    if ! valid_key "$TRIMMED"; then
        RULE='invalid-key'
        return
    fi
    KEY=$TRIMMED
    if [ "$KEY" != "$raw_key" ]; then
        RULE='key-spacing'
        return
    fi
    # shellcheck disable=SC2016 # literal $( and backtick
    case $value in
        ["$BLANK"]*) RULE='key-spacing' ;;
        *'$('* | *'`'*) RULE='command-substitution' ;;
        *'$'*) RULE='variable-reference' ;;
        *\\*) RULE='backslash' ;;
    esac
    [ -z "$RULE" ] || return
    case $value in
        \"*) quote=\" ;;
        \'*) quote=\' ;;
        *) quote= ;;
    esac
    if [ -n "$quote" ]; then
        inner=${value#?}
        case $inner in
            *"$quote")
                inner=${inner%?}
                case $inner in
                    *"$quote"*) ;;
                    *)
                        CLASS=assign VALUE=$inner
                        return
                        ;;
                esac
                ;;
        esac
        RULE='bad-quoting'
        return
    fi
    case $value in *["$BLANK"]'#'*)
        RULE='inline-comment'
        return
        ;;
    esac
    for u in $USPACE; do
        case $value in *"$u"*)
            RULE='unicode-space'
            return
            ;;
        esac
    done
    case $value in *["$BLANK"]*)
        RULE='unquoted-space'
        TRIMMED=$value
        trim
        value=$TRIMMED
        ;;
    esac
    CLASS=assign VALUE=$value
}

# assign: takes KEY=VALUE of line $lineno (a known KEY is exported into this process).
assign() {
    case $SEEN in
        *" $KEY "*) report duplicate-key "$KEY" "$lineno" ;;
        *)
            SEEN="$SEEN$KEY "
            renamed_to "$KEY"
            case $KEY in
                *[a-z]*) report key-case "$KEY" "$lineno" ;;
                *)
                    if is_forbidden_key "$KEY"; then
                        report forbidden-key "$KEY" "$lineno"
                    elif [ -n "$RENAMED_TO" ]; then
                        rule_info renamed-key
                        report renamed-key "$KEY" "$lineno" "$R_MSG; its name is now $RENAMED_TO"
                    else
                        is_known "$KEY" || report unknown-key "$KEY" "$lineno"
                    fi
                    ;;
            esac
            ;;
    esac
    [ -z "$RULE" ] || report "$RULE" "$KEY" "$lineno"
    if ! flagged "$KEY" && is_placeholder "$VALUE"; then
        report placeholder "$KEY" "$lineno"
    fi
    if is_known "$KEY"; then
        export "$KEY=$VALUE" "VE_LINE_$KEY=$lineno"
    fi
}

read_file() {
    lineno=0
    crlf=
    while IFS= read -r line || [ -n "$line" ]; do
        lineno=$((lineno + 1))
        if [ "$lineno" -eq 1 ]; then
            case $line in "$BOM"*)
                report byte-order-mark "" 1
                line=${line#"$BOM"}
                ;;
            esac
        fi
        case $line in *"$CR")
            line=${line%"$CR"}
            [ -n "$crlf" ] || crlf=$lineno
            ;;
        esac
        classify_line
        case $CLASS in
            problem)
                report "$RULE" "$KEY" "$lineno"
                # The readers take something else (or nothing) from this line.
                if [ -n "$KEY" ] && is_known "$KEY"; then
                    unset "$KEY"
                fi
                ;;
            assign) assign ;;
        esac
    done <"$ENV_FILE"
    [ -z "$crlf" ] || report crlf "" "$crlf"
}

check_environment_placeholders() {
    for name in $KNOWN_VARS; do
        get "$name"
        if [ -n "$GET_VALUE" ] && is_placeholder "$GET_VALUE"; then
            report placeholder "$name" ""
        fi
    done
}

"#;

const MAIN: &str = r#"# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
while [ $# -gt 0 ]; do
    case $1 in
        --env-file)
            [ $# -ge 2 ] || {
                echo "$PROG: --env-file needs a file name" >&2
                exit 2
            }
            ENV_FILE=$2 HAVE_FILE=1
            shift 2
            ;;
        --env-file=*)
            ENV_FILE=${1#--env-file=} HAVE_FILE=1
            shift
            ;;
        --strict)
            STRICT=1
            shift
            ;;
        --quiet | -q)
            QUIET=1
            shift
            ;;
        --print-env)
            PRINT_ENV=1
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            echo "$PROG: unknown argument: $1" >&2
            usage >&2
            exit 2
            ;;
    esac
done

if [ "$PRINT_ENV" -eq 1 ] && [ "$HAVE_FILE" -eq 0 ]; then
    echo "$PROG: --print-env needs --env-file FILE" >&2
    exit 2
fi

if [ "$HAVE_FILE" -eq 1 ]; then
    ORIGIN=$ENV_FILE
    for tool in od awk; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            echo "$PROG: $tool is needed to check a file" >&2
            exit 2
        fi
    done
    # Only the file counts: forget inherited values of the known variables.
    for name in $KNOWN_VARS; do
        unset "$name" "VE_LINE_$name"
    done
    if [ ! -f "$ENV_FILE" ] || [ ! -r "$ENV_FILE" ]; then
        report env-file "" ""
    else
        scan=$(prescan)
        case $scan in
            'nul '*) report nul-byte "" "${scan#nul }" ;;
            'utf8 '*) report non-utf8 "" "${scan#utf8 }" ;;
            *)
                read_file
                run_rules
                ;;
        esac
    fi
else
    check_environment_placeholders
    run_rules
fi

if [ "$ERRORS" -gt 0 ] || { [ "$STRICT" -eq 1 ] && [ "$WARNINGS" -gt 0 ]; }; then
    [ "$QUIET" -eq 1 ] ||
        printf '%s: FAILED (%s): %s error(s), %s warning(s)\n' \
            "$PROG" "$ORIGIN" "$ERRORS" "$WARNINGS" >&2
    exit 1
fi
if [ "$PRINT_ENV" -eq 1 ]; then
    # stdout carries only the assignments.
    [ "$QUIET" -eq 1 ] ||
        printf '%s: OK (%s): %s error(s), %s warning(s)\n' "$PROG" "$ORIGIN" "$ERRORS" "$WARNINGS" >&2
    for name in $KNOWN_VARS; do
        line_of "$name"
        [ -n "$LINE_VALUE" ] || continue
        get "$name"
        printf '%s=%s\n' "$name" "$GET_VALUE"
    done
    exit 0
fi
[ "$QUIET" -eq 1 ] ||
    printf '%s: OK (%s): %s error(s), %s warning(s)\n' "$PROG" "$ORIGIN" "$ERRORS" "$WARNINGS"
exit 0
"#;

#[cfg(test)]
mod tests {
    use std::{fs, os::unix::fs::PermissionsExt, path::Path};

    use super::*;

    /// sourcegen: the committed script is the generator's output. With UPDATE_GENERATED=1
    /// the test rewrites it instead of failing.
    #[test]
    fn committed_script_is_generated() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .join(SCRIPT);
        let want = render();
        let have = fs::read_to_string(&path).unwrap_or_default();
        if have == want {
            return;
        }
        if std::env::var_os("UPDATE_GENERATED").is_some_and(|v| v == "1") {
            fs::write(&path, &want).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
            eprintln!("updated {}", path.display());
            return;
        }
        panic!(
            "{SCRIPT} is not what the rule table generates. Regenerate it:\n  UPDATE_GENERATED=1 cargo test -p xtask --bin xtask validate_env"
        );
    }

    #[test]
    fn script_is_ascii_without_install_placeholders() {
        let s = render();
        assert!(s.is_ascii() || s.chars().all(|c| c.is_ascii() || c == '—'));
        // Package rendering replaces @@NAME@@: only the header may use them.
        assert!(s.contains(&format!("lines of at most {MAX_LINE} bytes")));
        let body = s.split_once("set -fu").unwrap().1;
        assert!(!body.contains("@@APP_NAME@@") && !body.contains("@@VERSION@@"));
    }

    #[test]
    fn helpers() {
        assert_eq!(sq("abc"), "abc");
        assert_eq!(sq(""), "''");
        assert_eq!(sq("it's"), r"'it'\''s'");
        assert_eq!(any_case("on1"), "[Oo][Nn]1");
        assert_eq!(case_pattern("*<*>*"), "*'<'*'>'*");
        assert_eq!(case_pattern("*[!A-Z]@@*"), "*[!A-Z]@@*");
        assert_eq!(octal(b"\r\x7f"), "\\015\\177");
    }
}
