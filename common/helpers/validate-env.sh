#!/bin/sh
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
ORIGIN=environment
FLAGGED=' '
SEEN=' '
CR=$(printf '\r')
BOM=$(printf '\357\273\277')
BLANK=$(printf ' \t')
# Control characters except tab (a line has no newline; NUL is the prescan's).
CTRL=$(printf '\001\002\003\004\005\006\007\010\013\014\015\016\017\020\021\022\023\024\025\026\027\030\031\032\033\034\035\036\037\177')
# Characters docker compose (Python) treats as whitespace beyond ASCII, UTF-8.
USPACE=$(printf '\302\205 \302\240 \341\232\200 \342\200\200 \342\200\201 \342\200\202 \342\200\203 \342\200\204 \342\200\205 \342\200\206 \342\200\207 \342\200\210 \342\200\211 \342\200\212 \342\200\250 \342\200\251 \342\200\257 \342\201\237 \343\200\200')
MAX_LINE=8192

# Every variable the package reads: the names of .env.example.
KNOWN_VARS='DEBUG APP_BIND_IP APP_PORT FULL_BASE_URL SECURITY_SALT DB_HOST DB_PORT
DB_USERNAME DB_PASSWORD DB_NAME REDIS_HOST REDIS_PORT REDIS_PASSWORD
CACHE_ENGINE SESSION_HANDLER QUEUE_ENGINE QUEUE_HEARTBEAT_SECS AWS_S3_BUCKET
AWS_S3_REGION AWS_S3_ENDPOINT AWS_S3_USE_PATH_STYLE AWS_ACCESS_KEY_ID
AWS_SECRET_ACCESS_KEY EMAIL_TRANSPORT EMAIL_FROM SMTP_HOST SMTP_PORT
SMTP_USERNAME SMTP_PASSWORD SMTP_TLS SENDGRID_API_KEY V4_ROUTING_ENABLED
V2_ROUTING_API_KEY V2_BASE_URL V4_BASE_URL V2_SSL_VERIFY RECAPTCHA_ENABLED
RECAPTCHA_SITE_KEY RECAPTCHA_SECRET_KEY GOOGLE_OAUTH_ENABLED GOOGLE_CLIENT_ID
GOOGLE_CLIENT_SECRET COMPOSE_PROJECT_NAME BASE_IMAGE'

KNOWN_LIST=' '
for name in $KNOWN_VARS; do
    KNOWN_LIST="$KNOWN_LIST$name "
done

usage() {
    cat <<'EOF'
Usage: validate-env.sh [--env-file FILE] [--strict] [--quiet]

Without --env-file the current process environment is checked.
Prints "ERROR <rule> <where> <VAR>: ..." / "WARN ..." lines on stderr.
Exit status: 0 ok, 1 errors (or warnings with --strict), 2 usage error.
EOF
}

# get VAR: GET_VALUE = the value of VAR (empty when unset).
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

# line_of VAR: LINE_VALUE = the line of FILE that last set VAR (empty otherwise).
line_of() {
    LINE_VALUE=
    [ "$HAVE_FILE" -eq 1 ] || return 0
    case $1 in
        DEBUG) LINE_VALUE=${VE_LINE_DEBUG-} ;;
        APP_BIND_IP) LINE_VALUE=${VE_LINE_APP_BIND_IP-} ;;
        APP_PORT) LINE_VALUE=${VE_LINE_APP_PORT-} ;;
        FULL_BASE_URL) LINE_VALUE=${VE_LINE_FULL_BASE_URL-} ;;
        SECURITY_SALT) LINE_VALUE=${VE_LINE_SECURITY_SALT-} ;;
        DB_HOST) LINE_VALUE=${VE_LINE_DB_HOST-} ;;
        DB_PORT) LINE_VALUE=${VE_LINE_DB_PORT-} ;;
        DB_USERNAME) LINE_VALUE=${VE_LINE_DB_USERNAME-} ;;
        DB_PASSWORD) LINE_VALUE=${VE_LINE_DB_PASSWORD-} ;;
        DB_NAME) LINE_VALUE=${VE_LINE_DB_NAME-} ;;
        REDIS_HOST) LINE_VALUE=${VE_LINE_REDIS_HOST-} ;;
        REDIS_PORT) LINE_VALUE=${VE_LINE_REDIS_PORT-} ;;
        REDIS_PASSWORD) LINE_VALUE=${VE_LINE_REDIS_PASSWORD-} ;;
        CACHE_ENGINE) LINE_VALUE=${VE_LINE_CACHE_ENGINE-} ;;
        SESSION_HANDLER) LINE_VALUE=${VE_LINE_SESSION_HANDLER-} ;;
        QUEUE_ENGINE) LINE_VALUE=${VE_LINE_QUEUE_ENGINE-} ;;
        QUEUE_HEARTBEAT_SECS) LINE_VALUE=${VE_LINE_QUEUE_HEARTBEAT_SECS-} ;;
        AWS_S3_BUCKET) LINE_VALUE=${VE_LINE_AWS_S3_BUCKET-} ;;
        AWS_S3_REGION) LINE_VALUE=${VE_LINE_AWS_S3_REGION-} ;;
        AWS_S3_ENDPOINT) LINE_VALUE=${VE_LINE_AWS_S3_ENDPOINT-} ;;
        AWS_S3_USE_PATH_STYLE) LINE_VALUE=${VE_LINE_AWS_S3_USE_PATH_STYLE-} ;;
        AWS_ACCESS_KEY_ID) LINE_VALUE=${VE_LINE_AWS_ACCESS_KEY_ID-} ;;
        AWS_SECRET_ACCESS_KEY) LINE_VALUE=${VE_LINE_AWS_SECRET_ACCESS_KEY-} ;;
        EMAIL_TRANSPORT) LINE_VALUE=${VE_LINE_EMAIL_TRANSPORT-} ;;
        EMAIL_FROM) LINE_VALUE=${VE_LINE_EMAIL_FROM-} ;;
        SMTP_HOST) LINE_VALUE=${VE_LINE_SMTP_HOST-} ;;
        SMTP_PORT) LINE_VALUE=${VE_LINE_SMTP_PORT-} ;;
        SMTP_USERNAME) LINE_VALUE=${VE_LINE_SMTP_USERNAME-} ;;
        SMTP_PASSWORD) LINE_VALUE=${VE_LINE_SMTP_PASSWORD-} ;;
        SMTP_TLS) LINE_VALUE=${VE_LINE_SMTP_TLS-} ;;
        SENDGRID_API_KEY) LINE_VALUE=${VE_LINE_SENDGRID_API_KEY-} ;;
        V4_ROUTING_ENABLED) LINE_VALUE=${VE_LINE_V4_ROUTING_ENABLED-} ;;
        V2_ROUTING_API_KEY) LINE_VALUE=${VE_LINE_V2_ROUTING_API_KEY-} ;;
        V2_BASE_URL) LINE_VALUE=${VE_LINE_V2_BASE_URL-} ;;
        V4_BASE_URL) LINE_VALUE=${VE_LINE_V4_BASE_URL-} ;;
        V2_SSL_VERIFY) LINE_VALUE=${VE_LINE_V2_SSL_VERIFY-} ;;
        RECAPTCHA_ENABLED) LINE_VALUE=${VE_LINE_RECAPTCHA_ENABLED-} ;;
        RECAPTCHA_SITE_KEY) LINE_VALUE=${VE_LINE_RECAPTCHA_SITE_KEY-} ;;
        RECAPTCHA_SECRET_KEY) LINE_VALUE=${VE_LINE_RECAPTCHA_SECRET_KEY-} ;;
        GOOGLE_OAUTH_ENABLED) LINE_VALUE=${VE_LINE_GOOGLE_OAUTH_ENABLED-} ;;
        GOOGLE_CLIENT_ID) LINE_VALUE=${VE_LINE_GOOGLE_CLIENT_ID-} ;;
        GOOGLE_CLIENT_SECRET) LINE_VALUE=${VE_LINE_GOOGLE_CLIENT_SECRET-} ;;
        COMPOSE_PROJECT_NAME) LINE_VALUE=${VE_LINE_COMPOSE_PROJECT_NAME-} ;;
        BASE_IMAGE) LINE_VALUE=${VE_LINE_BASE_IMAGE-} ;;
    esac
}

# rule_info RULE: R_SEV, R_MSG and R_FIX of a rule of the table.
# (Messages quote $ literally.)
# shellcheck disable=SC2016
rule_info() {
    case $1 in
        env-file)
            R_SEV=ERROR
            R_MSG='cannot be read (missing, not a regular file, or not readable)'
            R_FIX='create it from the template: cp .env.example .env (or pass --env-file PATH)'
            ;;
        nul-byte)
            R_SEV=ERROR
            R_MSG='contains a NUL byte: systemd refuses the whole file, docker compose reads it'
            R_FIX='save the file as plain text without binary data'
            ;;
        non-utf8)
            R_SEV=ERROR
            R_MSG='is not valid UTF-8 (or holds a Unicode noncharacter): docker compose cannot decode it and systemd refuses the whole file'
            R_FIX='save the file as UTF-8, e.g. iconv -f ISO-8859-1 -t UTF-8'
            ;;
        byte-order-mark)
            R_SEV=ERROR
            R_MSG='starts with a byte order mark: docker compose skips it, systemd reads it as part of the first name'
            R_FIX='save the file as UTF-8 without a byte order mark'
            ;;
        crlf)
            R_SEV=WARN
            R_MSG='has Windows (CRLF) line endings: both readers accept them, shell tools keep the CR'
            R_FIX='convert the file, e.g. dos2unix .env or sed -i '\''s/\r$//'\'' .env'
            ;;
        line-too-long)
            R_SEV=ERROR
            R_MSG='is longer than 8192 bytes: no setting needs that much (and over 128 KiB the kernel refuses to start the process)'
            R_FIX='shorten the value; large data belongs in a file'
            ;;
        control-char)
            R_SEV=ERROR
            R_MSG='contains a control character (e.g. a carriage return inside the line): the readers split or keep it differently'
            R_FIX='remove it; values must be printable text (tabs are allowed)'
            ;;
        comment-continuation)
            R_SEV=ERROR
            R_MSG='is a comment ending in a backslash: systemd (before 254) continues the comment on the next line, docker compose does not'
            R_FIX='remove the trailing backslash'
            ;;
        export-prefix)
            R_SEV=ERROR
            R_MSG='starts with '\''export'\'': docker compose strips it, systemd ignores the line'
            R_FIX='remove '\''export '\'' and write KEY=VALUE'
            ;;
        malformed-line)
            R_SEV=ERROR
            R_MSG='is not a KEY=VALUE line: docker compose passes the caller'\''s value of a bare name, systemd ignores it'
            R_FIX='write KEY=VALUE, or start the line with # to make it a comment'
            ;;
        invalid-key)
            R_SEV=ERROR
            R_MSG='has an invalid variable name: systemd ignores the line, docker compose may not'
            R_FIX='use letters, digits and _ only, not starting with a digit (e.g. DB_NAME)'
            ;;
        key-spacing)
            R_SEV=ERROR
            R_MSG='has spaces around '\''='\'''
            R_FIX='write KEY=VALUE with no space before or after '\''='\'''
            ;;
        command-substitution)
            R_SEV=ERROR
            R_MSG='contains $(...) or a backtick: the readers keep it literally, a shell sourcing the file would run it'
            R_FIX='write the literal value (generated secrets are plain hex)'
            ;;
        variable-reference)
            R_SEV=ERROR
            R_MSG='contains '\''$'\'': docker compose interpolates ${VAR} (Compose v2 also $VAR), systemd keeps it literally'
            R_FIX='write the literal value without '\''$'\'''
            ;;
        backslash)
            R_SEV=ERROR
            R_MSG='contains a backslash: systemd treats it as an escape (a trailing one joins lines), docker compose keeps it'
            R_FIX='choose a value without backslashes'
            ;;
        bad-quoting)
            R_SEV=ERROR
            R_MSG='has unbalanced quotes or text after the closing quote (multi-line values are not supported): the readers disagree'
            R_FIX='write KEY="value" on one line, with no quote of the same kind inside'
            ;;
        inline-comment)
            R_SEV=ERROR
            R_MSG='has a comment after the value: docker compose drops it, systemd keeps it as part of the value'
            R_FIX='put the comment on a line of its own'
            ;;
        unicode-space)
            R_SEV=ERROR
            R_MSG='contains a Unicode space (e.g. a no-break space) outside quotes: docker compose trims it at the ends, systemd keeps it'
            R_FIX='remove it, or quote the value'
            ;;
        unquoted-space)
            R_SEV=WARN
            R_MSG='has whitespace outside quotes: both readers keep inner and drop trailing whitespace, a shell would split the value'
            R_FIX='quote the value, e.g. KEY="two words"'
            ;;
        duplicate-key)
            R_SEV=WARN
            R_MSG='is set more than once; the last line wins'
            R_FIX='keep one line per variable'
            ;;
        key-case)
            R_SEV=WARN
            R_MSG='has lower-case letters: names are case-sensitive and the package reads upper-case names only'
            R_FIX='write the name as in .env.example'
            ;;
        unknown-key)
            R_SEV=WARN
            R_MSG='is not read by the package (not in .env.example)'
            R_FIX='remove the line or correct the name'
            ;;
        readers-disagree)
            R_SEV=ERROR
            R_MSG='is read differently by docker compose and systemd'
            R_FIX='write the line in the plain KEY=VALUE form of .env.example'
            ;;
        placeholder)
            R_SEV=ERROR
            R_MSG='still contains a placeholder value'
            R_FIX='replace it with the real value (secrets: helpers/generate-secrets.sh --fill .env)'
            ;;
        debug-boolean)
            R_SEV=ERROR
            R_MSG='is not a boolean'
            R_FIX='use true or false'
            ;;
        debug-false)
            R_SEV=ERROR
            R_MSG='must be false in production'
            R_FIX='set DEBUG=false (debug pages leak configuration and stack traces)'
            ;;
        app-port)
            R_SEV=ERROR
            R_MSG='is not a TCP port number'
            R_FIX='use an integer between 1 and 65535'
            ;;
        bind-all-interfaces)
            R_SEV=WARN
            R_MSG='listens on (native) or publishes to (Docker) every network interface'
            R_FIX='use 127.0.0.1 behind a TLS reverse proxy, unless this is intended and firewalled'
            ;;
        base-url)
            R_SEV=ERROR
            R_MSG='is not an http(s) URL'
            R_FIX='use the form https://host[:port][/path]'
            ;;
        base-url-unset)
            R_SEV=WARN
            R_MSG='is not set'
            R_FIX='set the public https:// URL; links in e-mails use it'
            ;;
        base-url-https)
            R_SEV=WARN
            R_MSG='is not https'
            R_FIX='serve the application over TLS (reverse proxy) and use https://'
            ;;
        salt-required)
            R_SEV=ERROR
            R_MSG='is required but not set'
            R_FIX='generate one with helpers/generate-secrets.sh (--fill .env) and set it'
            ;;
        salt-length)
            R_SEV=ERROR
            R_MSG='is too short'
            R_FIX='generate one with helpers/generate-secrets.sh (--fill .env) and set it'
            ;;
        db-host-required)
            R_SEV=ERROR
            R_MSG='is required but not set'
            R_FIX='set the PostgreSQL host name or address'
            ;;
        db-port)
            R_SEV=ERROR
            R_MSG='is not a TCP port number'
            R_FIX='use an integer between 1 and 65535'
            ;;
        db-username-unset)
            R_SEV=WARN
            R_MSG='is not set'
            R_FIX='set the PostgreSQL user name'
            ;;
        db-name-unset)
            R_SEV=WARN
            R_MSG='is not set'
            R_FIX='set the PostgreSQL database name'
            ;;
        db-password-required)
            R_SEV=ERROR
            R_MSG='is required but not set'
            R_FIX='generate one with helpers/generate-secrets.sh (--fill .env) and set it'
            ;;
        db-password-length)
            R_SEV=ERROR
            R_MSG='is too short'
            R_FIX='generate one with helpers/generate-secrets.sh (--fill .env) and set it'
            ;;
        redis-host-required)
            R_SEV=ERROR
            R_MSG='is required but not set'
            R_FIX='set the Redis host name or address'
            ;;
        redis-port)
            R_SEV=ERROR
            R_MSG='is not a TCP port number'
            R_FIX='use an integer between 1 and 65535'
            ;;
        redis-password-unset)
            R_SEV=WARN
            R_MSG='is not set: Redis without authentication'
            R_FIX='protect Redis with a password (helpers/generate-secrets.sh)'
            ;;
        cache-engine)
            R_SEV=ERROR
            R_MSG='is not a supported cache engine: use one of redis, file'
            R_FIX='use CACHE_ENGINE=redis'
            ;;
        cache-engine-local)
            R_SEV=WARN
            R_MSG='keeps the cache on local disk (not shared between instances)'
            R_FIX='use CACHE_ENGINE=redis'
            ;;
        session-handler)
            R_SEV=ERROR
            R_MSG='is not a supported session handler: use one of cache, php, database'
            R_FIX='use SESSION_HANDLER=cache'
            ;;
        session-handler-local)
            R_SEV=WARN
            R_MSG='keeps sessions on local disk (lost on restart, not shared)'
            R_FIX='use SESSION_HANDLER=cache'
            ;;
        queue-engine)
            R_SEV=ERROR
            R_MSG='is not a supported queue engine: use one of redis'
            R_FIX='use QUEUE_ENGINE=redis'
            ;;
        queue-heartbeat)
            R_SEV=ERROR
            R_MSG='is not a positive integer'
            R_FIX='use a whole number of seconds, e.g. 30'
            ;;
        s3-bucket-required)
            R_SEV=ERROR
            R_MSG='is required but not set'
            R_FIX='set the bucket that stores uploads'
            ;;
        s3-endpoint-url)
            R_SEV=ERROR
            R_MSG='is not an http(s) URL'
            R_FIX='leave it empty for AWS S3, or use the provider'\''s endpoint URL'
            ;;
        s3-path-style-boolean)
            R_SEV=ERROR
            R_MSG='is not a boolean'
            R_FIX='use true or false'
            ;;
        s3-credentials-pair)
            R_SEV=ERROR
            R_MSG='is required because the other S3 key is set'
            R_FIX='set both keys, or neither to use the instance/IAM role credentials'
            ;;
        email-transport)
            R_SEV=ERROR
            R_MSG='is not a supported transport: use one of smtp, sendgrid'
            R_FIX='use EMAIL_TRANSPORT=smtp or sendgrid'
            ;;
        email-transport-unset)
            R_SEV=WARN
            R_MSG='is not set: the application cannot send mail'
            R_FIX='set EMAIL_TRANSPORT=smtp or sendgrid'
            ;;
        email-from-unset)
            R_SEV=WARN
            R_MSG='is not set'
            R_FIX='set the sender address used for notifications'
            ;;
        smtp-host-required)
            R_SEV=ERROR
            R_MSG='is required when EMAIL_TRANSPORT=smtp'
            R_FIX='set the SMTP relay host'
            ;;
        smtp-port)
            R_SEV=ERROR
            R_MSG='is not a TCP port number'
            R_FIX='use an integer between 1 and 65535'
            ;;
        smtp-tls-boolean)
            R_SEV=ERROR
            R_MSG='is not a boolean'
            R_FIX='use true or false'
            ;;
        sendgrid-key-required)
            R_SEV=ERROR
            R_MSG='is required when EMAIL_TRANSPORT=sendgrid'
            R_FIX='create an API key in SendGrid and set it'
            ;;
        routing-boolean)
            R_SEV=ERROR
            R_MSG='is not a boolean'
            R_FIX='use true or false'
            ;;
        ssl-verify-boolean)
            R_SEV=ERROR
            R_MSG='is not a boolean'
            R_FIX='use true or false'
            ;;
        v2-base-url)
            R_SEV=ERROR
            R_MSG='is not an http(s) URL'
            R_FIX='use the form https://host[:port][/path]'
            ;;
        v4-base-url)
            R_SEV=ERROR
            R_MSG='is not an http(s) URL'
            R_FIX='use the form https://host[:port][/path]'
            ;;
        routing-api-key-required)
            R_SEV=ERROR
            R_MSG='is required when V4_ROUTING_ENABLED is true'
            R_FIX='generate one with helpers/generate-secrets.sh (--fill .env) and set it'
            ;;
        routing-v2-url-required)
            R_SEV=ERROR
            R_MSG='is required when V4_ROUTING_ENABLED is true'
            R_FIX='set the V2 base URL, e.g. https://v2.example.org'
            ;;
        routing-v4-url-required)
            R_SEV=ERROR
            R_MSG='is required when V4_ROUTING_ENABLED is true'
            R_FIX='set this installation'\''s public base URL'
            ;;
        routing-ssl-verify)
            R_SEV=ERROR
            R_MSG='must not be false when V4_ROUTING_ENABLED is true'
            R_FIX='set V2_SSL_VERIFY=true and give V2 a valid certificate'
            ;;
        recaptcha-boolean)
            R_SEV=ERROR
            R_MSG='is not a boolean'
            R_FIX='use true or false'
            ;;
        recaptcha-site-key-required)
            R_SEV=ERROR
            R_MSG='is required when RECAPTCHA_ENABLED is true'
            R_FIX='set the reCAPTCHA site key'
            ;;
        recaptcha-secret-key-required)
            R_SEV=ERROR
            R_MSG='is required when RECAPTCHA_ENABLED is true'
            R_FIX='set the reCAPTCHA secret key'
            ;;
        oauth-boolean)
            R_SEV=ERROR
            R_MSG='is not a boolean'
            R_FIX='use true or false'
            ;;
        oauth-client-id-required)
            R_SEV=ERROR
            R_MSG='is required when GOOGLE_OAUTH_ENABLED is true'
            R_FIX='set the Google OAuth client ID'
            ;;
        oauth-client-secret-required)
            R_SEV=ERROR
            R_MSG='is required when GOOGLE_OAUTH_ENABLED is true'
            R_FIX='set the Google OAuth client secret'
            ;;
        *)
            R_SEV=ERROR
            R_MSG="unknown rule $1"
            R_FIX='report this bug'
            ;;
    esac
}

# is_placeholder VALUE: looks like a value copied unchanged from a template.
is_placeholder() {
    [ "${#1}" -le "$MAX_LINE" ] || return 1
    case $1 in
        *[Cc][Hh][Aa][Nn][Gg][Ee][Mm][Ee]*) return 0 ;;
        *[Cc][Hh][Aa][Nn][Gg][Ee][_-][Mm][Ee]*) return 0 ;;
        __[Cc][Hh][Aa][Nn][Gg][Ee]*) return 0 ;;
        [Yy][Oo][Uu][Rr][_-]*) return 0 ;;
        *[!A-Za-z0-9][Yy][Oo][Uu][Rr][_-]*) return 0 ;;
        *'<'*'>'*) return 0 ;;
        *@@[A-Z]*@@*) return 0 ;;
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
            case $KEY in
                *[a-z]*) report key-case "$KEY" "$lineno" ;;
                *) is_known "$KEY" || report unknown-key "$KEY" "$lineno" ;;
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

# The value rules of the table, in order. The first ERROR on a variable skips its
# later rules (FLAGGED).
run_rules() {
    check_boolean debug-boolean DEBUG
    check_false debug-false DEBUG
    check_port app-port APP_PORT
    check_none_of bind-all-interfaces APP_BIND_IP 0.0.0.0 :: '[::]'
    check_url base-url FULL_BASE_URL
    check_set base-url-unset FULL_BASE_URL
    check_prefix base-url-https FULL_BASE_URL http://
    check_set salt-required SECURITY_SALT
    check_min_length salt-length SECURITY_SALT 32
    check_set db-host-required DB_HOST
    check_port db-port DB_PORT
    check_set db-username-unset DB_USERNAME
    check_set db-name-unset DB_NAME
    check_set db-password-required DB_PASSWORD
    check_min_length db-password-length DB_PASSWORD 16
    check_set redis-host-required REDIS_HOST
    check_port redis-port REDIS_PORT
    check_set redis-password-unset REDIS_PASSWORD
    check_one_of cache-engine CACHE_ENGINE redis file
    check_none_of cache-engine-local CACHE_ENGINE file
    check_one_of session-handler SESSION_HANDLER cache php database
    check_none_of session-handler-local SESSION_HANDLER php
    check_one_of queue-engine QUEUE_ENGINE redis
    check_positive_int queue-heartbeat QUEUE_HEARTBEAT_SECS
    check_set s3-bucket-required AWS_S3_BUCKET
    check_url s3-endpoint-url AWS_S3_ENDPOINT
    check_boolean s3-path-style-boolean AWS_S3_USE_PATH_STYLE
    check_pair s3-credentials-pair AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
    check_one_of email-transport EMAIL_TRANSPORT smtp sendgrid
    check_set email-transport-unset EMAIL_TRANSPORT
    check_set email-from-unset EMAIL_FROM
    get EMAIL_TRANSPORT
    if [ "$GET_VALUE" = smtp ]; then
        check_set smtp-host-required SMTP_HOST
    fi
    check_port smtp-port SMTP_PORT
    check_boolean smtp-tls-boolean SMTP_TLS
    get EMAIL_TRANSPORT
    if [ "$GET_VALUE" = sendgrid ]; then
        check_set sendgrid-key-required SENDGRID_API_KEY
    fi
    check_boolean routing-boolean V4_ROUTING_ENABLED
    check_boolean ssl-verify-boolean V2_SSL_VERIFY
    check_url v2-base-url V2_BASE_URL
    check_url v4-base-url V4_BASE_URL
    get V4_ROUTING_ENABLED
    if is_true "$GET_VALUE"; then
        check_set routing-api-key-required V2_ROUTING_API_KEY
    fi
    get V4_ROUTING_ENABLED
    if is_true "$GET_VALUE"; then
        check_set routing-v2-url-required V2_BASE_URL
    fi
    get V4_ROUTING_ENABLED
    if is_true "$GET_VALUE"; then
        check_set routing-v4-url-required V4_BASE_URL
    fi
    get V4_ROUTING_ENABLED
    if is_true "$GET_VALUE"; then
        check_not_false routing-ssl-verify V2_SSL_VERIFY
    fi
    check_boolean recaptcha-boolean RECAPTCHA_ENABLED
    get RECAPTCHA_ENABLED
    if is_true "$GET_VALUE"; then
        check_set recaptcha-site-key-required RECAPTCHA_SITE_KEY
    fi
    get RECAPTCHA_ENABLED
    if is_true "$GET_VALUE"; then
        check_set recaptcha-secret-key-required RECAPTCHA_SECRET_KEY
    fi
    check_boolean oauth-boolean GOOGLE_OAUTH_ENABLED
    get GOOGLE_OAUTH_ENABLED
    if is_true "$GET_VALUE"; then
        check_set oauth-client-id-required GOOGLE_CLIENT_ID
    fi
    get GOOGLE_OAUTH_ENABLED
    if is_true "$GET_VALUE"; then
        check_set oauth-client-secret-required GOOGLE_CLIENT_SECRET
    fi
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
[ "$QUIET" -eq 1 ] ||
    printf '%s: OK (%s): %s error(s), %s warning(s)\n' "$PROG" "$ORIGIN" "$ERRORS" "$WARNINGS"
exit 0
