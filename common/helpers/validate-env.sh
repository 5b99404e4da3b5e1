#!/bin/sh
# validate-env.sh — check the @@APP_NAME@@ @@VERSION@@ runtime configuration.
#
# Usage:
#   validate-env.sh                     validate the current process environment
#                                       (container entrypoint, systemd ExecStartPre,
#                                       run-native.sh)
#   validate-env.sh --env-file FILE     validate FILE without executing it
#   validate-env.sh --strict ...        also fail on warnings
#   validate-env.sh --quiet ...         print only problems, no summary line
#
# Output: one line per problem on stderr,
#   ERROR <VAR>: <problem> — <fix>
#   WARN <VAR>: <problem> — <fix>
# Exit status: 0 = no errors (warnings allowed unless --strict),
#              1 = errors (or warnings with --strict), 2 = usage error.
#
# Safety: the file given to --env-file is parsed line by line; it is never
# executed or interpreted by the shell. This script never prompts and never
# prints a value.
#
# Env-file format (the same rules as run-native.sh):
#   - blank lines and lines whose first non-blank character is '#' are skipped
#   - other lines must be KEY=VALUE with KEY matching ^[A-Z_][A-Z0-9_]*$
#     (no spaces around '=', no 'export ' prefix); anything else is skipped
#     with a warning
#   - one pair of matching surrounding quotes ('...' or "...") is removed
#   - no variable expansion, no escapes, no inline comments; the last
#     assignment of a key wins

set -u
LC_ALL=C
export LC_ALL

PROG=validate-env
ERRORS=0
WARNINGS=0
STRICT=0
QUIET=0
ENV_FILE=
FLAGGED=' '
CR=$(printf '\r')

# Every variable the package reads. Keep in sync with .env.example, get()
# below and CONFIGS.md.
KNOWN_VARS='DEBUG APP_BIND_IP APP_PORT FULL_BASE_URL SECURITY_SALT
DB_HOST DB_PORT DB_USERNAME DB_PASSWORD DB_NAME
REDIS_HOST REDIS_PORT REDIS_PASSWORD
CACHE_ENGINE SESSION_HANDLER QUEUE_ENGINE QUEUE_HEARTBEAT_SECS
AWS_S3_BUCKET AWS_S3_REGION AWS_S3_ENDPOINT AWS_S3_USE_PATH_STYLE
AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
EMAIL_TRANSPORT EMAIL_FROM SMTP_HOST SMTP_PORT SMTP_USERNAME SMTP_PASSWORD
SMTP_TLS SENDGRID_API_KEY
V4_ROUTING_ENABLED V2_ROUTING_API_KEY V2_BASE_URL V4_BASE_URL V2_SSL_VERIFY
RECAPTCHA_ENABLED RECAPTCHA_SITE_KEY RECAPTCHA_SECRET_KEY
GOOGLE_OAUTH_ENABLED GOOGLE_CLIENT_ID GOOGLE_CLIENT_SECRET
COMPOSE_PROJECT_NAME BASE_IMAGE'

usage() {
    cat <<'EOF'
Usage: validate-env.sh [--env-file FILE] [--strict] [--quiet]

Without --env-file the current process environment is checked.
Prints "ERROR <VAR>: ..." / "WARN <VAR>: ..." lines on stderr.
Exit status: 0 ok, 1 errors (or warnings with --strict), 2 usage error.
EOF
}

# ---------------------------------------------------------------------------
# Indirect value lookup (no dynamic code): GET_VALUE receives the value of variable $1
# (empty when unset). Unset and empty are treated the same everywhere.
# ---------------------------------------------------------------------------
get() {
    case $1 in
        DEBUG) GET_VALUE=${DEBUG-} ;;
        APP_BIND_IP) GET_VALUE=${APP_BIND_IP-} ;;
        APP_PORT) GET_VALUE=${APP_PORT-} ;;
        FULL_BASE_URL) GET_VALUE=${FULL_BASE_URL-} ;;
        SECURITY_SALT) GET_VALUE=${SECURITY_SALT-} ;;
        DB_HOST) GET_VALUE=${DB_HOST-} ;;
        DB_PORT) GET_VALUE=${DB_PORT-} ;;
        DB_USERNAME) GET_VALUE=${DB_USERNAME-} ;;
        DB_PASSWORD) GET_VALUE=${DB_PASSWORD-} ;;
        DB_NAME) GET_VALUE=${DB_NAME-} ;;
        REDIS_HOST) GET_VALUE=${REDIS_HOST-} ;;
        REDIS_PORT) GET_VALUE=${REDIS_PORT-} ;;
        REDIS_PASSWORD) GET_VALUE=${REDIS_PASSWORD-} ;;
        CACHE_ENGINE) GET_VALUE=${CACHE_ENGINE-} ;;
        SESSION_HANDLER) GET_VALUE=${SESSION_HANDLER-} ;;
        QUEUE_ENGINE) GET_VALUE=${QUEUE_ENGINE-} ;;
        QUEUE_HEARTBEAT_SECS) GET_VALUE=${QUEUE_HEARTBEAT_SECS-} ;;
        AWS_S3_BUCKET) GET_VALUE=${AWS_S3_BUCKET-} ;;
        AWS_S3_REGION) GET_VALUE=${AWS_S3_REGION-} ;;
        AWS_S3_ENDPOINT) GET_VALUE=${AWS_S3_ENDPOINT-} ;;
        AWS_S3_USE_PATH_STYLE) GET_VALUE=${AWS_S3_USE_PATH_STYLE-} ;;
        AWS_ACCESS_KEY_ID) GET_VALUE=${AWS_ACCESS_KEY_ID-} ;;
        AWS_SECRET_ACCESS_KEY) GET_VALUE=${AWS_SECRET_ACCESS_KEY-} ;;
        EMAIL_TRANSPORT) GET_VALUE=${EMAIL_TRANSPORT-} ;;
        EMAIL_FROM) GET_VALUE=${EMAIL_FROM-} ;;
        SMTP_HOST) GET_VALUE=${SMTP_HOST-} ;;
        SMTP_PORT) GET_VALUE=${SMTP_PORT-} ;;
        SMTP_USERNAME) GET_VALUE=${SMTP_USERNAME-} ;;
        SMTP_PASSWORD) GET_VALUE=${SMTP_PASSWORD-} ;;
        SMTP_TLS) GET_VALUE=${SMTP_TLS-} ;;
        SENDGRID_API_KEY) GET_VALUE=${SENDGRID_API_KEY-} ;;
        V4_ROUTING_ENABLED) GET_VALUE=${V4_ROUTING_ENABLED-} ;;
        V2_ROUTING_API_KEY) GET_VALUE=${V2_ROUTING_API_KEY-} ;;
        V2_BASE_URL) GET_VALUE=${V2_BASE_URL-} ;;
        V4_BASE_URL) GET_VALUE=${V4_BASE_URL-} ;;
        V2_SSL_VERIFY) GET_VALUE=${V2_SSL_VERIFY-} ;;
        RECAPTCHA_ENABLED) GET_VALUE=${RECAPTCHA_ENABLED-} ;;
        RECAPTCHA_SITE_KEY) GET_VALUE=${RECAPTCHA_SITE_KEY-} ;;
        RECAPTCHA_SECRET_KEY) GET_VALUE=${RECAPTCHA_SECRET_KEY-} ;;
        GOOGLE_OAUTH_ENABLED) GET_VALUE=${GOOGLE_OAUTH_ENABLED-} ;;
        GOOGLE_CLIENT_ID) GET_VALUE=${GOOGLE_CLIENT_ID-} ;;
        GOOGLE_CLIENT_SECRET) GET_VALUE=${GOOGLE_CLIENT_SECRET-} ;;
        COMPOSE_PROJECT_NAME) GET_VALUE=${COMPOSE_PROJECT_NAME-} ;;
        BASE_IMAGE) GET_VALUE=${BASE_IMAGE-} ;;
        *) GET_VALUE= ;;
    esac
}

# ---------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------
error() { # VAR PROBLEM FIX
    ERRORS=$((ERRORS + 1))
    FLAGGED="$FLAGGED$1 "
    printf 'ERROR %s: %s — %s\n' "$1" "$2" "$3" >&2
}

warn() { # VAR PROBLEM FIX
    WARNINGS=$((WARNINGS + 1))
    printf 'WARN %s: %s — %s\n' "$1" "$2" "$3" >&2
}

# A variable that already has an error is not checked again (one error each).
flagged() {
    case $FLAGGED in *" $1 "*) return 0 ;; esac
    return 1
}

# ---------------------------------------------------------------------------
# Value classes
# ---------------------------------------------------------------------------
is_placeholder() {
    case $1 in
        *[Cc][Hh][Aa][Nn][Gg][Ee][Mm][Ee]*) return 0 ;;
        *[Cc][Hh][Aa][Nn][Gg][Ee][_-][Mm][Ee]*) return 0 ;;
        __[Cc][Hh][Aa][Nn][Gg][Ee]*) return 0 ;;
        [Yy][Oo][Uu][Rr][_-]*) return 0 ;;
        *[!A-Za-z0-9][Yy][Oo][Uu][Rr][_-]*) return 0 ;;
        *'<'*'>'*) return 0 ;;
    esac
    return 1
}

is_true() {
    case $1 in [Tt][Rr][Uu][Ee] | 1 | [Yy][Ee][Ss] | [Oo][Nn]) return 0 ;; esac
    return 1
}

is_false() {
    case $1 in [Ff][Aa][Ll][Ss][Ee] | 0 | [Nn][Oo] | [Oo][Ff][Ff]) return 0 ;; esac
    return 1
}

is_uint() {
    case $1 in '' | *[!0-9]*) return 1 ;; esac
    return 0
}

# ---------------------------------------------------------------------------
# Rule primitives. Each takes the variable NAME first; the value is looked
# up with get(). Rules on a variable that already has an error are skipped.
# ---------------------------------------------------------------------------

# no_placeholder VAR FIX: the value must not look like a template placeholder.
no_placeholder() {
    flagged "$1" && return 0
    get "$1"
    if [ -n "$GET_VALUE" ] && is_placeholder "$GET_VALUE"; then
        error "$1" "still contains a placeholder value" "$2"
    fi
}

# portable_value VAR: warn about characters the three .env readers disagree on
# (docker compose v2 interpolates '$' in env files; systemd and run-native.sh
# do not; nothing here ever executes a value).
portable_value() {
    flagged "$1" && return 0
    get "$1"
    case $GET_VALUE in
        *'$'* | *'`'* | *\\*)
            warn "$1" "contains \$, \` or a backslash" \
                "avoid these characters; the value is read differently by docker compose and systemd"
            ;;
    esac
}

# require VAR FIX: must be set and non-empty.
require() {
    flagged "$1" && return 0
    get "$1"
    [ -n "$GET_VALUE" ] || error "$1" "is required but not set" "$2"
}

# min_length VAR N FIX: when set, at least N characters.
min_length() {
    flagged "$1" && return 0
    get "$1"
    if [ -n "$GET_VALUE" ] && [ "${#GET_VALUE}" -lt "$2" ]; then
        error "$1" "is ${#GET_VALUE} characters, at least $2 required" "$3"
    fi
}

# boolean VAR: when set, one of true/false (also 1/0, yes/no, on/off).
boolean() {
    flagged "$1" && return 0
    get "$1"
    [ -n "$GET_VALUE" ] || return 0
    is_true "$GET_VALUE" || is_false "$GET_VALUE" ||
        error "$1" "is not a boolean" "use true or false"
}

# must_be_false VAR FIX: when set, must be false.
must_be_false() {
    flagged "$1" && return 0
    get "$1"
    if [ -n "$GET_VALUE" ] && ! is_false "$GET_VALUE"; then
        error "$1" "must be false in production" "$2"
    fi
}

# must_not_be_false VAR FIX: error when explicitly false.
# (Only used behind when_true, which shellcheck cannot follow.)
# shellcheck disable=SC2317
must_not_be_false() {
    flagged "$1" && return 0
    get "$1"
    if [ -n "$GET_VALUE" ] && is_false "$GET_VALUE"; then
        error "$1" "must not be false" "$2"
    fi
}

# port VAR: when set, an integer 1-65535.
port() {
    flagged "$1" && return 0
    get "$1"
    [ -n "$GET_VALUE" ] || return 0
    if ! is_uint "$GET_VALUE" || [ "${#GET_VALUE}" -gt 5 ] ||
        [ "$GET_VALUE" -lt 1 ] || [ "$GET_VALUE" -gt 65535 ]; then
        error "$1" "is not a TCP port number" "use an integer between 1 and 65535"
    fi
}

# positive_int VAR: when set, an integer >= 1.
positive_int() {
    flagged "$1" && return 0
    get "$1"
    [ -n "$GET_VALUE" ] || return 0
    if ! is_uint "$GET_VALUE" || [ "${#GET_VALUE}" -gt 9 ] || [ "$GET_VALUE" -lt 1 ]; then
        error "$1" "is not a positive integer" "use a whole number of seconds, e.g. 30"
    fi
}

# url VAR: when set, must start with http:// or https://.
url() {
    flagged "$1" && return 0
    get "$1"
    case $GET_VALUE in
        '' | http://?* | https://?*) ;;
        *) error "$1" "is not an http(s) URL" "use the form https://host[:port][/path]" ;;
    esac
}

# one_of VAR "A B C": when set, must be one of the listed words.
one_of() {
    flagged "$1" && return 0
    get "$1"
    [ -n "$GET_VALUE" ] || return 0
    case " $2 " in *" $GET_VALUE "*) return 0 ;; esac
    error "$1" "has unsupported value '$GET_VALUE'" "use one of: $2"
}

# warn_unset VAR FIX: warning when not set.
warn_unset() {
    flagged "$1" && return 0
    get "$1"
    [ -n "$GET_VALUE" ] || warn "$1" "is not set" "$2"
}

# warn_if VAR "V1 V2" PROBLEM FIX: warning when the value is one of the words.
warn_if() {
    flagged "$1" && return 0
    get "$1"
    [ -n "$GET_VALUE" ] || return 0
    case " $2 " in *" $GET_VALUE "*) warn "$1" "$3" "$4" ;; esac
}

# warn_prefix VAR PREFIX PROBLEM FIX: warning when the value starts with PREFIX.
warn_prefix() {
    flagged "$1" && return 0
    get "$1"
    case $GET_VALUE in "$2"*) warn "$1" "$3" "$4" ;; esac
}

# both_or_neither VAR1 VAR2 FIX: set together or not at all.
both_or_neither() {
    get "$1"
    first=$GET_VALUE
    get "$2"
    if [ -n "$first" ] && [ -z "$GET_VALUE" ]; then
        flagged "$2" || error "$2" "is required because $1 is set" "$3"
    elif [ -z "$first" ] && [ -n "$GET_VALUE" ]; then
        flagged "$1" || error "$1" "is required because $2 is set" "$3"
    fi
}

# Conditions: run the remaining arguments as a rule only when ...
when_true() { # VAR RULE ARGS...  ... VAR is true
    get "$1"
    is_true "$GET_VALUE" || return 0
    shift
    "$@"
}

when_equals() { # VAR VALUE RULE ARGS...  ... VAR equals VALUE
    get "$1"
    [ "$GET_VALUE" = "$2" ] || return 0
    shift 2
    "$@"
}

# ---------------------------------------------------------------------------
# Env-file parser: never executes the file. Known variables are exported into
# this process (after clearing any inherited values); unknown keys are only
# checked for placeholders.
# ---------------------------------------------------------------------------
load_env_file() {
    known_list=' '
    for name in $KNOWN_VARS; do
        unset "$name"
        known_list="$known_list$name "
    done
    lineno=0
    while IFS= read -r line || [ -n "$line" ]; do
        lineno=$((lineno + 1))
        line=${line%"$CR"}
        rest=$line
        while :; do
            case $rest in
                ' '* | '	'*) rest=${rest#?} ;;
                *) break ;;
            esac
        done
        case $rest in '' | '#'*) continue ;; esac
        case $line in
            *=*) ;;
            *)
                warn "$ENV_FILE:$lineno" "not a KEY=VALUE line, ignored" "fix or remove the line"
                continue
                ;;
        esac
        key=${line%%=*}
        value=${line#*=}
        case $key in
            '' | [!A-Z_]* | *[!A-Z0-9_]*)
                warn "$ENV_FILE:$lineno" "invalid variable name, line ignored" \
                    "names must match ^[A-Z_][A-Z0-9_]*\$ with no spaces before '='"
                continue
                ;;
        esac
        case $value in
            \"*\") value=${value#\"} value=${value%\"} ;;
            \'*\') value=${value#\'} value=${value%\'} ;;
        esac
        case $known_list in
            *" $key "*) export "$key=$value" ;;
            *)
                if is_placeholder "$value" && ! flagged "$key"; then
                    error "$key" "still contains a placeholder value" \
                        "set the real value or remove the line"
                fi
                ;;
        esac
    done <"$ENV_FILE"
}

# ---------------------------------------------------------------------------
# Rule table. One rule per line: RULE VAR [ARGS...]. Conditions prefix a rule
# (when_true VAR ..., when_equals VAR VALUE ...). Order matters only in that
# the first error on a variable suppresses later rules on it.
# ---------------------------------------------------------------------------
run_rules() {
    FIX_SECRET='generate one with helpers/generate-secrets.sh and set it in .env'

    # Placeholders first: any value copied unchanged from .env.example.
    for name in $KNOWN_VARS; do
        case $name in
            SECURITY_SALT | DB_PASSWORD | REDIS_PASSWORD | V2_ROUTING_API_KEY)
                no_placeholder "$name" "$FIX_SECRET" ;;
            *)
                no_placeholder "$name" "set the real value in .env (see .env.example comments)" ;;
        esac
        portable_value "$name"
    done

    # Application
    boolean DEBUG
    must_be_false DEBUG "set DEBUG=false (debug pages leak configuration and stack traces)"
    port APP_PORT
    warn_if APP_BIND_IP "0.0.0.0 :: [::]" "listens on / publishes to all interfaces" \
        "use 127.0.0.1 behind a reverse proxy unless this is intended and firewalled"
    url FULL_BASE_URL
    warn_unset FULL_BASE_URL "set the public https:// URL; links in e-mails use it"
    warn_prefix FULL_BASE_URL "http://" "is not https" "serve the application over TLS (reverse proxy)"
    require SECURITY_SALT "$FIX_SECRET"
    min_length SECURITY_SALT 32 "$FIX_SECRET"

    # Database (PostgreSQL)
    require DB_HOST "set the PostgreSQL host name or address"
    port DB_PORT
    warn_unset DB_USERNAME "set the PostgreSQL user name"
    warn_unset DB_NAME "set the PostgreSQL database name"
    require DB_PASSWORD "$FIX_SECRET"
    min_length DB_PASSWORD 16 "$FIX_SECRET"

    # Redis (cache, sessions, queue)
    require REDIS_HOST "set the Redis host name or address"
    port REDIS_PORT
    warn_unset REDIS_PASSWORD "protect Redis with a password (helpers/generate-secrets.sh)"
    one_of CACHE_ENGINE "redis file"
    warn_if CACHE_ENGINE "file" "keeps cache on local disk (not shared between instances)" \
        "use CACHE_ENGINE=redis"
    one_of SESSION_HANDLER "cache php database"
    warn_if SESSION_HANDLER "php" "keeps sessions on local disk (lost on restart, not shared)" \
        "use SESSION_HANDLER=cache"
    one_of QUEUE_ENGINE "redis"
    positive_int QUEUE_HEARTBEAT_SECS

    # Object storage (S3-compatible)
    require AWS_S3_BUCKET "set the bucket that stores uploads"
    url AWS_S3_ENDPOINT
    boolean AWS_S3_USE_PATH_STYLE
    both_or_neither AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
        "set both keys, or neither to use the instance/IAM role credentials"

    # E-mail
    one_of EMAIL_TRANSPORT "smtp sendgrid"
    warn_unset EMAIL_TRANSPORT "set EMAIL_TRANSPORT=smtp or sendgrid; the application cannot send mail"
    warn_unset EMAIL_FROM "set the sender address used for notifications"
    when_equals EMAIL_TRANSPORT smtp require SMTP_HOST "set the SMTP relay host"
    port SMTP_PORT
    boolean SMTP_TLS
    when_equals EMAIL_TRANSPORT sendgrid require SENDGRID_API_KEY "create an API key in SendGrid and set it"

    # V2/V4 routing
    boolean V4_ROUTING_ENABLED
    boolean V2_SSL_VERIFY
    url V2_BASE_URL
    url V4_BASE_URL
    when_true V4_ROUTING_ENABLED require V2_ROUTING_API_KEY "set the API key shared with the V2 installation"
    when_true V4_ROUTING_ENABLED require V2_BASE_URL "set the V2 base URL, e.g. https://v2.example.org"
    when_true V4_ROUTING_ENABLED require V4_BASE_URL "set this installation's public base URL"
    when_true V4_ROUTING_ENABLED must_not_be_false V2_SSL_VERIFY \
        "set V2_SSL_VERIFY=true and give V2 a valid certificate"

    # reCAPTCHA
    boolean RECAPTCHA_ENABLED
    when_true RECAPTCHA_ENABLED require RECAPTCHA_SITE_KEY "set the reCAPTCHA site key"
    when_true RECAPTCHA_ENABLED require RECAPTCHA_SECRET_KEY "set the reCAPTCHA secret key"

    # Google OAuth
    boolean GOOGLE_OAUTH_ENABLED
    when_true GOOGLE_OAUTH_ENABLED require GOOGLE_CLIENT_ID "set the OAuth client ID"
    when_true GOOGLE_OAUTH_ENABLED require GOOGLE_CLIENT_SECRET "set the OAuth client secret"
}

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
while [ $# -gt 0 ]; do
    case $1 in
        --env-file)
            [ $# -ge 2 ] || {
                echo "$PROG: --env-file needs a file name" >&2
                exit 2
            }
            ENV_FILE=$2
            shift 2
            ;;
        --env-file=*)
            ENV_FILE=${1#--env-file=}
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

if [ -n "$ENV_FILE" ]; then
    if [ ! -f "$ENV_FILE" ] || [ ! -r "$ENV_FILE" ]; then
        echo "$PROG: cannot read env file: $ENV_FILE" >&2
        exit 2
    fi
    load_env_file
    ORIGIN=$ENV_FILE
else
    ORIGIN=environment
fi

run_rules

if [ "$ERRORS" -gt 0 ] || { [ "$STRICT" -eq 1 ] && [ "$WARNINGS" -gt 0 ]; }; then
    [ "$QUIET" -eq 1 ] ||
        echo "$PROG: FAILED ($ORIGIN): $ERRORS error(s), $WARNINGS warning(s)" >&2
    exit 1
fi
[ "$QUIET" -eq 1 ] || echo "$PROG: OK ($ORIGIN): $WARNINGS warning(s)"
exit 0
