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
PRINT_ENV=0
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

# Every variable the package reads: the names of .env.example and .env.full.example.
KNOWN_VARS='COMPOSE_PROJECT_NAME APP_BIND_IP APP_PORT CADDY_ADMIN DB_HOST DB_PORT
DB_USERNAME DB_PASSWORD DB_NAME DB_PASSWORD_FILE DEBUG SECURITY_SALT
FULL_BASE_URL SUBSCRIPTION_KEY CACHE_ENGINE CACHE_PREFIX QUEUE_ENGINE
REDIS_HOST REDIS_PORT REDIS_PASSWORD REDIS_DATABASE REDIS_PERSISTENT
MEMCACHED_SERVER MEMCACHED_PORT MEMCACHED_PREFIX MEMCACHED_LOG
WORKER_MAX_RUNTIME WORKER_SLEEP SESSION_HANDLER SESSION_COOKIE_DOMAIN
SESSION_COOKIE_NAME EMAIL_TRANSPORT EMAIL_API_KEY SMTP_HOST SMTP_PORT
SMTP_USERNAME SMTP_PASSWORD SMTP_TLS FROM_EMAIL NOTIFY_EMAIL STORAGE_ENDPOINT
STORAGE_ACCESS_KEY STORAGE_SECRET_KEY STORAGE_BUCKET STORAGE_REGION
STORAGE_PATH_STYLE V4_ROUTING_ENABLED V2_ROUTING_API_KEY V2_BASE_URL
V4_BASE_URL V2_ROUTING_TOKEN_EXPIRATION V2_ROUTING_TIMEOUT
V2_ROUTING_SSL_VERIFY RECAPTCHA_ENABLED RECAPTCHA_SITE_KEY
RECAPTCHA_SECRET_KEY RECAPTCHA_THEME RECAPTCHA_SIZE GOOGLE_OAUTH_ENABLED
GOOGLE_OAUTH_CLIENT_ID GOOGLE_OAUTH_CLIENT_SECRET CRITICAL_PATH_ENABLED
CRITICAL_PATH_BASE_URL GITHUB_CLIENT_NAME GITHUB_CLIENT_ID
GITHUB_CLIENT_SECRET GITHUB_REDIRECT_URI GITHUB_HOOK_URI
GITHUB_WEBHOOK_SECRET GITLAB_CLIENT_NAME GITLAB_CLIENT_ID
GITLAB_CLIENT_SECRET GITLAB_REDIRECT_URI GITLAB_INSTANCE_URL
GITLAB_WEBHOOK_SECRET BITBUCKET_CLIENT_NAME BITBUCKET_CLIENT_ID
BITBUCKET_CLIENT_SECRET BITBUCKET_REDIRECT_URI BITBUCKET_WEBHOOK_SECRET
STRIPE_PUBLISHABLE_KEY STRIPE_SECRET_KEY STRIPE_WEBHOOK_SECRET
STRIPE_CURRENCY CLOUD_STORAGE_AUTH_DOMAIN DROPBOX_ENABLED DROPBOX_CLIENT_ID
DROPBOX_CLIENT_SECRET ONEDRIVE_ENABLED ONEDRIVE_CLIENT_ID
ONEDRIVE_CLIENT_SECRET ONEDRIVE_TENANT_ID BASE_IMAGE APP_IMAGE
SKIP_MIGRATIONS RUN_SEEDERS SKIP_SEEDERS DB_WAIT_TIMEOUT DB_LOG DB_SCHEMA
REDIS_PREFIX REDIS_TIMEOUT REDIS_TLS_ENABLED REDIS_TLS_VERIFY_PEER
REDIS_SSL_VERIFY_PEER QUEUE_URL PHP_MEMORY_LIMIT PHP_POST_MAX_SIZE
PHP_UPLOAD_MAX_FILESIZE PHP_MAX_EXECUTION_TIME APP_NAME APP_ENV
APP_DEFAULT_LOCALE APP_DEFAULT_TIMEZONE APP_ENCODING LOG_DEBUG_URL
LOG_ERROR_URL LOG_AUTH_URL LOG_EMAIL_URL LOG_QUERIES_URL LOG_CRON_URL
LOG_GITSYNC_URL LOG_DUMMYDATA_URL RECAPTCHA_VERSION RECAPTCHA_MIN_SCORE
GOOGLE_OAUTH_REDIRECT_URI CLOUD_STORAGE_ENABLED GOOGLE_DRIVE_CLIENT_ID
GOOGLE_DRIVE_CLIENT_SECRET GOOGLE_DRIVE_API_KEY LOAD_TEST_ENABLED
LOAD_TEST_TOKEN LOAD_TEST_AUTO_CLEANUP LOAD_TEST_CLEANUP_HOURS'

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

# get VAR: GET_VALUE = the value of VAR (empty when unset), GET_SET = 1 when VAR is
# set (even to the empty string), else empty.
get() {
    case $1 in
        COMPOSE_PROJECT_NAME) GET_VALUE=${COMPOSE_PROJECT_NAME-} GET_SET=${COMPOSE_PROJECT_NAME+1} ;;
        APP_BIND_IP) GET_VALUE=${APP_BIND_IP-} GET_SET=${APP_BIND_IP+1} ;;
        APP_PORT) GET_VALUE=${APP_PORT-} GET_SET=${APP_PORT+1} ;;
        CADDY_ADMIN) GET_VALUE=${CADDY_ADMIN-} GET_SET=${CADDY_ADMIN+1} ;;
        DB_HOST) GET_VALUE=${DB_HOST-} GET_SET=${DB_HOST+1} ;;
        DB_PORT) GET_VALUE=${DB_PORT-} GET_SET=${DB_PORT+1} ;;
        DB_USERNAME) GET_VALUE=${DB_USERNAME-} GET_SET=${DB_USERNAME+1} ;;
        DB_PASSWORD) GET_VALUE=${DB_PASSWORD-} GET_SET=${DB_PASSWORD+1} ;;
        DB_NAME) GET_VALUE=${DB_NAME-} GET_SET=${DB_NAME+1} ;;
        DB_PASSWORD_FILE) GET_VALUE=${DB_PASSWORD_FILE-} GET_SET=${DB_PASSWORD_FILE+1} ;;
        DEBUG) GET_VALUE=${DEBUG-} GET_SET=${DEBUG+1} ;;
        SECURITY_SALT) GET_VALUE=${SECURITY_SALT-} GET_SET=${SECURITY_SALT+1} ;;
        FULL_BASE_URL) GET_VALUE=${FULL_BASE_URL-} GET_SET=${FULL_BASE_URL+1} ;;
        SUBSCRIPTION_KEY) GET_VALUE=${SUBSCRIPTION_KEY-} GET_SET=${SUBSCRIPTION_KEY+1} ;;
        CACHE_ENGINE) GET_VALUE=${CACHE_ENGINE-} GET_SET=${CACHE_ENGINE+1} ;;
        CACHE_PREFIX) GET_VALUE=${CACHE_PREFIX-} GET_SET=${CACHE_PREFIX+1} ;;
        QUEUE_ENGINE) GET_VALUE=${QUEUE_ENGINE-} GET_SET=${QUEUE_ENGINE+1} ;;
        REDIS_HOST) GET_VALUE=${REDIS_HOST-} GET_SET=${REDIS_HOST+1} ;;
        REDIS_PORT) GET_VALUE=${REDIS_PORT-} GET_SET=${REDIS_PORT+1} ;;
        REDIS_PASSWORD) GET_VALUE=${REDIS_PASSWORD-} GET_SET=${REDIS_PASSWORD+1} ;;
        REDIS_DATABASE) GET_VALUE=${REDIS_DATABASE-} GET_SET=${REDIS_DATABASE+1} ;;
        REDIS_PERSISTENT) GET_VALUE=${REDIS_PERSISTENT-} GET_SET=${REDIS_PERSISTENT+1} ;;
        MEMCACHED_SERVER) GET_VALUE=${MEMCACHED_SERVER-} GET_SET=${MEMCACHED_SERVER+1} ;;
        MEMCACHED_PORT) GET_VALUE=${MEMCACHED_PORT-} GET_SET=${MEMCACHED_PORT+1} ;;
        MEMCACHED_PREFIX) GET_VALUE=${MEMCACHED_PREFIX-} GET_SET=${MEMCACHED_PREFIX+1} ;;
        MEMCACHED_LOG) GET_VALUE=${MEMCACHED_LOG-} GET_SET=${MEMCACHED_LOG+1} ;;
        WORKER_MAX_RUNTIME) GET_VALUE=${WORKER_MAX_RUNTIME-} GET_SET=${WORKER_MAX_RUNTIME+1} ;;
        WORKER_SLEEP) GET_VALUE=${WORKER_SLEEP-} GET_SET=${WORKER_SLEEP+1} ;;
        SESSION_HANDLER) GET_VALUE=${SESSION_HANDLER-} GET_SET=${SESSION_HANDLER+1} ;;
        SESSION_COOKIE_DOMAIN) GET_VALUE=${SESSION_COOKIE_DOMAIN-} GET_SET=${SESSION_COOKIE_DOMAIN+1} ;;
        SESSION_COOKIE_NAME) GET_VALUE=${SESSION_COOKIE_NAME-} GET_SET=${SESSION_COOKIE_NAME+1} ;;
        EMAIL_TRANSPORT) GET_VALUE=${EMAIL_TRANSPORT-} GET_SET=${EMAIL_TRANSPORT+1} ;;
        EMAIL_API_KEY) GET_VALUE=${EMAIL_API_KEY-} GET_SET=${EMAIL_API_KEY+1} ;;
        SMTP_HOST) GET_VALUE=${SMTP_HOST-} GET_SET=${SMTP_HOST+1} ;;
        SMTP_PORT) GET_VALUE=${SMTP_PORT-} GET_SET=${SMTP_PORT+1} ;;
        SMTP_USERNAME) GET_VALUE=${SMTP_USERNAME-} GET_SET=${SMTP_USERNAME+1} ;;
        SMTP_PASSWORD) GET_VALUE=${SMTP_PASSWORD-} GET_SET=${SMTP_PASSWORD+1} ;;
        SMTP_TLS) GET_VALUE=${SMTP_TLS-} GET_SET=${SMTP_TLS+1} ;;
        FROM_EMAIL) GET_VALUE=${FROM_EMAIL-} GET_SET=${FROM_EMAIL+1} ;;
        NOTIFY_EMAIL) GET_VALUE=${NOTIFY_EMAIL-} GET_SET=${NOTIFY_EMAIL+1} ;;
        STORAGE_ENDPOINT) GET_VALUE=${STORAGE_ENDPOINT-} GET_SET=${STORAGE_ENDPOINT+1} ;;
        STORAGE_ACCESS_KEY) GET_VALUE=${STORAGE_ACCESS_KEY-} GET_SET=${STORAGE_ACCESS_KEY+1} ;;
        STORAGE_SECRET_KEY) GET_VALUE=${STORAGE_SECRET_KEY-} GET_SET=${STORAGE_SECRET_KEY+1} ;;
        STORAGE_BUCKET) GET_VALUE=${STORAGE_BUCKET-} GET_SET=${STORAGE_BUCKET+1} ;;
        STORAGE_REGION) GET_VALUE=${STORAGE_REGION-} GET_SET=${STORAGE_REGION+1} ;;
        STORAGE_PATH_STYLE) GET_VALUE=${STORAGE_PATH_STYLE-} GET_SET=${STORAGE_PATH_STYLE+1} ;;
        V4_ROUTING_ENABLED) GET_VALUE=${V4_ROUTING_ENABLED-} GET_SET=${V4_ROUTING_ENABLED+1} ;;
        V2_ROUTING_API_KEY) GET_VALUE=${V2_ROUTING_API_KEY-} GET_SET=${V2_ROUTING_API_KEY+1} ;;
        V2_BASE_URL) GET_VALUE=${V2_BASE_URL-} GET_SET=${V2_BASE_URL+1} ;;
        V4_BASE_URL) GET_VALUE=${V4_BASE_URL-} GET_SET=${V4_BASE_URL+1} ;;
        V2_ROUTING_TOKEN_EXPIRATION) GET_VALUE=${V2_ROUTING_TOKEN_EXPIRATION-} GET_SET=${V2_ROUTING_TOKEN_EXPIRATION+1} ;;
        V2_ROUTING_TIMEOUT) GET_VALUE=${V2_ROUTING_TIMEOUT-} GET_SET=${V2_ROUTING_TIMEOUT+1} ;;
        V2_ROUTING_SSL_VERIFY) GET_VALUE=${V2_ROUTING_SSL_VERIFY-} GET_SET=${V2_ROUTING_SSL_VERIFY+1} ;;
        RECAPTCHA_ENABLED) GET_VALUE=${RECAPTCHA_ENABLED-} GET_SET=${RECAPTCHA_ENABLED+1} ;;
        RECAPTCHA_SITE_KEY) GET_VALUE=${RECAPTCHA_SITE_KEY-} GET_SET=${RECAPTCHA_SITE_KEY+1} ;;
        RECAPTCHA_SECRET_KEY) GET_VALUE=${RECAPTCHA_SECRET_KEY-} GET_SET=${RECAPTCHA_SECRET_KEY+1} ;;
        RECAPTCHA_THEME) GET_VALUE=${RECAPTCHA_THEME-} GET_SET=${RECAPTCHA_THEME+1} ;;
        RECAPTCHA_SIZE) GET_VALUE=${RECAPTCHA_SIZE-} GET_SET=${RECAPTCHA_SIZE+1} ;;
        GOOGLE_OAUTH_ENABLED) GET_VALUE=${GOOGLE_OAUTH_ENABLED-} GET_SET=${GOOGLE_OAUTH_ENABLED+1} ;;
        GOOGLE_OAUTH_CLIENT_ID) GET_VALUE=${GOOGLE_OAUTH_CLIENT_ID-} GET_SET=${GOOGLE_OAUTH_CLIENT_ID+1} ;;
        GOOGLE_OAUTH_CLIENT_SECRET) GET_VALUE=${GOOGLE_OAUTH_CLIENT_SECRET-} GET_SET=${GOOGLE_OAUTH_CLIENT_SECRET+1} ;;
        CRITICAL_PATH_ENABLED) GET_VALUE=${CRITICAL_PATH_ENABLED-} GET_SET=${CRITICAL_PATH_ENABLED+1} ;;
        CRITICAL_PATH_BASE_URL) GET_VALUE=${CRITICAL_PATH_BASE_URL-} GET_SET=${CRITICAL_PATH_BASE_URL+1} ;;
        GITHUB_CLIENT_NAME) GET_VALUE=${GITHUB_CLIENT_NAME-} GET_SET=${GITHUB_CLIENT_NAME+1} ;;
        GITHUB_CLIENT_ID) GET_VALUE=${GITHUB_CLIENT_ID-} GET_SET=${GITHUB_CLIENT_ID+1} ;;
        GITHUB_CLIENT_SECRET) GET_VALUE=${GITHUB_CLIENT_SECRET-} GET_SET=${GITHUB_CLIENT_SECRET+1} ;;
        GITHUB_REDIRECT_URI) GET_VALUE=${GITHUB_REDIRECT_URI-} GET_SET=${GITHUB_REDIRECT_URI+1} ;;
        GITHUB_HOOK_URI) GET_VALUE=${GITHUB_HOOK_URI-} GET_SET=${GITHUB_HOOK_URI+1} ;;
        GITHUB_WEBHOOK_SECRET) GET_VALUE=${GITHUB_WEBHOOK_SECRET-} GET_SET=${GITHUB_WEBHOOK_SECRET+1} ;;
        GITLAB_CLIENT_NAME) GET_VALUE=${GITLAB_CLIENT_NAME-} GET_SET=${GITLAB_CLIENT_NAME+1} ;;
        GITLAB_CLIENT_ID) GET_VALUE=${GITLAB_CLIENT_ID-} GET_SET=${GITLAB_CLIENT_ID+1} ;;
        GITLAB_CLIENT_SECRET) GET_VALUE=${GITLAB_CLIENT_SECRET-} GET_SET=${GITLAB_CLIENT_SECRET+1} ;;
        GITLAB_REDIRECT_URI) GET_VALUE=${GITLAB_REDIRECT_URI-} GET_SET=${GITLAB_REDIRECT_URI+1} ;;
        GITLAB_INSTANCE_URL) GET_VALUE=${GITLAB_INSTANCE_URL-} GET_SET=${GITLAB_INSTANCE_URL+1} ;;
        GITLAB_WEBHOOK_SECRET) GET_VALUE=${GITLAB_WEBHOOK_SECRET-} GET_SET=${GITLAB_WEBHOOK_SECRET+1} ;;
        BITBUCKET_CLIENT_NAME) GET_VALUE=${BITBUCKET_CLIENT_NAME-} GET_SET=${BITBUCKET_CLIENT_NAME+1} ;;
        BITBUCKET_CLIENT_ID) GET_VALUE=${BITBUCKET_CLIENT_ID-} GET_SET=${BITBUCKET_CLIENT_ID+1} ;;
        BITBUCKET_CLIENT_SECRET) GET_VALUE=${BITBUCKET_CLIENT_SECRET-} GET_SET=${BITBUCKET_CLIENT_SECRET+1} ;;
        BITBUCKET_REDIRECT_URI) GET_VALUE=${BITBUCKET_REDIRECT_URI-} GET_SET=${BITBUCKET_REDIRECT_URI+1} ;;
        BITBUCKET_WEBHOOK_SECRET) GET_VALUE=${BITBUCKET_WEBHOOK_SECRET-} GET_SET=${BITBUCKET_WEBHOOK_SECRET+1} ;;
        STRIPE_PUBLISHABLE_KEY) GET_VALUE=${STRIPE_PUBLISHABLE_KEY-} GET_SET=${STRIPE_PUBLISHABLE_KEY+1} ;;
        STRIPE_SECRET_KEY) GET_VALUE=${STRIPE_SECRET_KEY-} GET_SET=${STRIPE_SECRET_KEY+1} ;;
        STRIPE_WEBHOOK_SECRET) GET_VALUE=${STRIPE_WEBHOOK_SECRET-} GET_SET=${STRIPE_WEBHOOK_SECRET+1} ;;
        STRIPE_CURRENCY) GET_VALUE=${STRIPE_CURRENCY-} GET_SET=${STRIPE_CURRENCY+1} ;;
        CLOUD_STORAGE_AUTH_DOMAIN) GET_VALUE=${CLOUD_STORAGE_AUTH_DOMAIN-} GET_SET=${CLOUD_STORAGE_AUTH_DOMAIN+1} ;;
        DROPBOX_ENABLED) GET_VALUE=${DROPBOX_ENABLED-} GET_SET=${DROPBOX_ENABLED+1} ;;
        DROPBOX_CLIENT_ID) GET_VALUE=${DROPBOX_CLIENT_ID-} GET_SET=${DROPBOX_CLIENT_ID+1} ;;
        DROPBOX_CLIENT_SECRET) GET_VALUE=${DROPBOX_CLIENT_SECRET-} GET_SET=${DROPBOX_CLIENT_SECRET+1} ;;
        ONEDRIVE_ENABLED) GET_VALUE=${ONEDRIVE_ENABLED-} GET_SET=${ONEDRIVE_ENABLED+1} ;;
        ONEDRIVE_CLIENT_ID) GET_VALUE=${ONEDRIVE_CLIENT_ID-} GET_SET=${ONEDRIVE_CLIENT_ID+1} ;;
        ONEDRIVE_CLIENT_SECRET) GET_VALUE=${ONEDRIVE_CLIENT_SECRET-} GET_SET=${ONEDRIVE_CLIENT_SECRET+1} ;;
        ONEDRIVE_TENANT_ID) GET_VALUE=${ONEDRIVE_TENANT_ID-} GET_SET=${ONEDRIVE_TENANT_ID+1} ;;
        BASE_IMAGE) GET_VALUE=${BASE_IMAGE-} GET_SET=${BASE_IMAGE+1} ;;
        APP_IMAGE) GET_VALUE=${APP_IMAGE-} GET_SET=${APP_IMAGE+1} ;;
        SKIP_MIGRATIONS) GET_VALUE=${SKIP_MIGRATIONS-} GET_SET=${SKIP_MIGRATIONS+1} ;;
        RUN_SEEDERS) GET_VALUE=${RUN_SEEDERS-} GET_SET=${RUN_SEEDERS+1} ;;
        SKIP_SEEDERS) GET_VALUE=${SKIP_SEEDERS-} GET_SET=${SKIP_SEEDERS+1} ;;
        DB_WAIT_TIMEOUT) GET_VALUE=${DB_WAIT_TIMEOUT-} GET_SET=${DB_WAIT_TIMEOUT+1} ;;
        DB_LOG) GET_VALUE=${DB_LOG-} GET_SET=${DB_LOG+1} ;;
        DB_SCHEMA) GET_VALUE=${DB_SCHEMA-} GET_SET=${DB_SCHEMA+1} ;;
        REDIS_PREFIX) GET_VALUE=${REDIS_PREFIX-} GET_SET=${REDIS_PREFIX+1} ;;
        REDIS_TIMEOUT) GET_VALUE=${REDIS_TIMEOUT-} GET_SET=${REDIS_TIMEOUT+1} ;;
        REDIS_TLS_ENABLED) GET_VALUE=${REDIS_TLS_ENABLED-} GET_SET=${REDIS_TLS_ENABLED+1} ;;
        REDIS_TLS_VERIFY_PEER) GET_VALUE=${REDIS_TLS_VERIFY_PEER-} GET_SET=${REDIS_TLS_VERIFY_PEER+1} ;;
        REDIS_SSL_VERIFY_PEER) GET_VALUE=${REDIS_SSL_VERIFY_PEER-} GET_SET=${REDIS_SSL_VERIFY_PEER+1} ;;
        QUEUE_URL) GET_VALUE=${QUEUE_URL-} GET_SET=${QUEUE_URL+1} ;;
        PHP_MEMORY_LIMIT) GET_VALUE=${PHP_MEMORY_LIMIT-} GET_SET=${PHP_MEMORY_LIMIT+1} ;;
        PHP_POST_MAX_SIZE) GET_VALUE=${PHP_POST_MAX_SIZE-} GET_SET=${PHP_POST_MAX_SIZE+1} ;;
        PHP_UPLOAD_MAX_FILESIZE) GET_VALUE=${PHP_UPLOAD_MAX_FILESIZE-} GET_SET=${PHP_UPLOAD_MAX_FILESIZE+1} ;;
        PHP_MAX_EXECUTION_TIME) GET_VALUE=${PHP_MAX_EXECUTION_TIME-} GET_SET=${PHP_MAX_EXECUTION_TIME+1} ;;
        APP_NAME) GET_VALUE=${APP_NAME-} GET_SET=${APP_NAME+1} ;;
        APP_ENV) GET_VALUE=${APP_ENV-} GET_SET=${APP_ENV+1} ;;
        APP_DEFAULT_LOCALE) GET_VALUE=${APP_DEFAULT_LOCALE-} GET_SET=${APP_DEFAULT_LOCALE+1} ;;
        APP_DEFAULT_TIMEZONE) GET_VALUE=${APP_DEFAULT_TIMEZONE-} GET_SET=${APP_DEFAULT_TIMEZONE+1} ;;
        APP_ENCODING) GET_VALUE=${APP_ENCODING-} GET_SET=${APP_ENCODING+1} ;;
        LOG_DEBUG_URL) GET_VALUE=${LOG_DEBUG_URL-} GET_SET=${LOG_DEBUG_URL+1} ;;
        LOG_ERROR_URL) GET_VALUE=${LOG_ERROR_URL-} GET_SET=${LOG_ERROR_URL+1} ;;
        LOG_AUTH_URL) GET_VALUE=${LOG_AUTH_URL-} GET_SET=${LOG_AUTH_URL+1} ;;
        LOG_EMAIL_URL) GET_VALUE=${LOG_EMAIL_URL-} GET_SET=${LOG_EMAIL_URL+1} ;;
        LOG_QUERIES_URL) GET_VALUE=${LOG_QUERIES_URL-} GET_SET=${LOG_QUERIES_URL+1} ;;
        LOG_CRON_URL) GET_VALUE=${LOG_CRON_URL-} GET_SET=${LOG_CRON_URL+1} ;;
        LOG_GITSYNC_URL) GET_VALUE=${LOG_GITSYNC_URL-} GET_SET=${LOG_GITSYNC_URL+1} ;;
        LOG_DUMMYDATA_URL) GET_VALUE=${LOG_DUMMYDATA_URL-} GET_SET=${LOG_DUMMYDATA_URL+1} ;;
        RECAPTCHA_VERSION) GET_VALUE=${RECAPTCHA_VERSION-} GET_SET=${RECAPTCHA_VERSION+1} ;;
        RECAPTCHA_MIN_SCORE) GET_VALUE=${RECAPTCHA_MIN_SCORE-} GET_SET=${RECAPTCHA_MIN_SCORE+1} ;;
        GOOGLE_OAUTH_REDIRECT_URI) GET_VALUE=${GOOGLE_OAUTH_REDIRECT_URI-} GET_SET=${GOOGLE_OAUTH_REDIRECT_URI+1} ;;
        CLOUD_STORAGE_ENABLED) GET_VALUE=${CLOUD_STORAGE_ENABLED-} GET_SET=${CLOUD_STORAGE_ENABLED+1} ;;
        GOOGLE_DRIVE_CLIENT_ID) GET_VALUE=${GOOGLE_DRIVE_CLIENT_ID-} GET_SET=${GOOGLE_DRIVE_CLIENT_ID+1} ;;
        GOOGLE_DRIVE_CLIENT_SECRET) GET_VALUE=${GOOGLE_DRIVE_CLIENT_SECRET-} GET_SET=${GOOGLE_DRIVE_CLIENT_SECRET+1} ;;
        GOOGLE_DRIVE_API_KEY) GET_VALUE=${GOOGLE_DRIVE_API_KEY-} GET_SET=${GOOGLE_DRIVE_API_KEY+1} ;;
        LOAD_TEST_ENABLED) GET_VALUE=${LOAD_TEST_ENABLED-} GET_SET=${LOAD_TEST_ENABLED+1} ;;
        LOAD_TEST_TOKEN) GET_VALUE=${LOAD_TEST_TOKEN-} GET_SET=${LOAD_TEST_TOKEN+1} ;;
        LOAD_TEST_AUTO_CLEANUP) GET_VALUE=${LOAD_TEST_AUTO_CLEANUP-} GET_SET=${LOAD_TEST_AUTO_CLEANUP+1} ;;
        LOAD_TEST_CLEANUP_HOURS) GET_VALUE=${LOAD_TEST_CLEANUP_HOURS-} GET_SET=${LOAD_TEST_CLEANUP_HOURS+1} ;;
        *) GET_VALUE='' GET_SET='' ;;
    esac
}

# is_forbidden_key NAME: a loader, shell or PHP start-up variable.
is_forbidden_key() {
    case $1 in
        PATH | IFS | ENV | BASH_ENV | SHELLOPTS | BASHOPTS | PS4 | BASH_XTRACEFD | PROMPT_COMMAND | CDPATH | GLOBIGNORE | GCONV_PATH | PHPRC | PHP_INI_SCAN_DIR | LD_*) return 0 ;;
    esac
    return 1
}

# renamed_to NAME: RENAMED_TO = the name that replaced an old NAME (empty otherwise).
renamed_to() {
    case $1 in
        AWS_S3_BUCKET) RENAMED_TO=STORAGE_BUCKET ;;
        AWS_S3_REGION) RENAMED_TO=STORAGE_REGION ;;
        AWS_S3_ENDPOINT) RENAMED_TO=STORAGE_ENDPOINT ;;
        AWS_S3_USE_PATH_STYLE) RENAMED_TO=STORAGE_PATH_STYLE ;;
        AWS_ACCESS_KEY_ID) RENAMED_TO=STORAGE_ACCESS_KEY ;;
        AWS_SECRET_ACCESS_KEY) RENAMED_TO=STORAGE_SECRET_KEY ;;
        EMAIL_FROM) RENAMED_TO=FROM_EMAIL ;;
        SENDGRID_API_KEY) RENAMED_TO=EMAIL_API_KEY ;;
        GOOGLE_CLIENT_ID) RENAMED_TO=GOOGLE_OAUTH_CLIENT_ID ;;
        GOOGLE_CLIENT_SECRET) RENAMED_TO=GOOGLE_OAUTH_CLIENT_SECRET ;;
        V2_SSL_VERIFY) RENAMED_TO=V2_ROUTING_SSL_VERIFY ;;
        QUEUE_HEARTBEAT_SECS) RENAMED_TO=WORKER_SLEEP ;;
        *) RENAMED_TO= ;;
    esac
}

# line_of VAR: LINE_VALUE = the line of FILE that last set VAR (empty otherwise).
line_of() {
    LINE_VALUE=
    [ "$HAVE_FILE" -eq 1 ] || return 0
    case $1 in
        COMPOSE_PROJECT_NAME) LINE_VALUE=${VE_LINE_COMPOSE_PROJECT_NAME-} ;;
        APP_BIND_IP) LINE_VALUE=${VE_LINE_APP_BIND_IP-} ;;
        APP_PORT) LINE_VALUE=${VE_LINE_APP_PORT-} ;;
        CADDY_ADMIN) LINE_VALUE=${VE_LINE_CADDY_ADMIN-} ;;
        DB_HOST) LINE_VALUE=${VE_LINE_DB_HOST-} ;;
        DB_PORT) LINE_VALUE=${VE_LINE_DB_PORT-} ;;
        DB_USERNAME) LINE_VALUE=${VE_LINE_DB_USERNAME-} ;;
        DB_PASSWORD) LINE_VALUE=${VE_LINE_DB_PASSWORD-} ;;
        DB_NAME) LINE_VALUE=${VE_LINE_DB_NAME-} ;;
        DB_PASSWORD_FILE) LINE_VALUE=${VE_LINE_DB_PASSWORD_FILE-} ;;
        DEBUG) LINE_VALUE=${VE_LINE_DEBUG-} ;;
        SECURITY_SALT) LINE_VALUE=${VE_LINE_SECURITY_SALT-} ;;
        FULL_BASE_URL) LINE_VALUE=${VE_LINE_FULL_BASE_URL-} ;;
        SUBSCRIPTION_KEY) LINE_VALUE=${VE_LINE_SUBSCRIPTION_KEY-} ;;
        CACHE_ENGINE) LINE_VALUE=${VE_LINE_CACHE_ENGINE-} ;;
        CACHE_PREFIX) LINE_VALUE=${VE_LINE_CACHE_PREFIX-} ;;
        QUEUE_ENGINE) LINE_VALUE=${VE_LINE_QUEUE_ENGINE-} ;;
        REDIS_HOST) LINE_VALUE=${VE_LINE_REDIS_HOST-} ;;
        REDIS_PORT) LINE_VALUE=${VE_LINE_REDIS_PORT-} ;;
        REDIS_PASSWORD) LINE_VALUE=${VE_LINE_REDIS_PASSWORD-} ;;
        REDIS_DATABASE) LINE_VALUE=${VE_LINE_REDIS_DATABASE-} ;;
        REDIS_PERSISTENT) LINE_VALUE=${VE_LINE_REDIS_PERSISTENT-} ;;
        MEMCACHED_SERVER) LINE_VALUE=${VE_LINE_MEMCACHED_SERVER-} ;;
        MEMCACHED_PORT) LINE_VALUE=${VE_LINE_MEMCACHED_PORT-} ;;
        MEMCACHED_PREFIX) LINE_VALUE=${VE_LINE_MEMCACHED_PREFIX-} ;;
        MEMCACHED_LOG) LINE_VALUE=${VE_LINE_MEMCACHED_LOG-} ;;
        WORKER_MAX_RUNTIME) LINE_VALUE=${VE_LINE_WORKER_MAX_RUNTIME-} ;;
        WORKER_SLEEP) LINE_VALUE=${VE_LINE_WORKER_SLEEP-} ;;
        SESSION_HANDLER) LINE_VALUE=${VE_LINE_SESSION_HANDLER-} ;;
        SESSION_COOKIE_DOMAIN) LINE_VALUE=${VE_LINE_SESSION_COOKIE_DOMAIN-} ;;
        SESSION_COOKIE_NAME) LINE_VALUE=${VE_LINE_SESSION_COOKIE_NAME-} ;;
        EMAIL_TRANSPORT) LINE_VALUE=${VE_LINE_EMAIL_TRANSPORT-} ;;
        EMAIL_API_KEY) LINE_VALUE=${VE_LINE_EMAIL_API_KEY-} ;;
        SMTP_HOST) LINE_VALUE=${VE_LINE_SMTP_HOST-} ;;
        SMTP_PORT) LINE_VALUE=${VE_LINE_SMTP_PORT-} ;;
        SMTP_USERNAME) LINE_VALUE=${VE_LINE_SMTP_USERNAME-} ;;
        SMTP_PASSWORD) LINE_VALUE=${VE_LINE_SMTP_PASSWORD-} ;;
        SMTP_TLS) LINE_VALUE=${VE_LINE_SMTP_TLS-} ;;
        FROM_EMAIL) LINE_VALUE=${VE_LINE_FROM_EMAIL-} ;;
        NOTIFY_EMAIL) LINE_VALUE=${VE_LINE_NOTIFY_EMAIL-} ;;
        STORAGE_ENDPOINT) LINE_VALUE=${VE_LINE_STORAGE_ENDPOINT-} ;;
        STORAGE_ACCESS_KEY) LINE_VALUE=${VE_LINE_STORAGE_ACCESS_KEY-} ;;
        STORAGE_SECRET_KEY) LINE_VALUE=${VE_LINE_STORAGE_SECRET_KEY-} ;;
        STORAGE_BUCKET) LINE_VALUE=${VE_LINE_STORAGE_BUCKET-} ;;
        STORAGE_REGION) LINE_VALUE=${VE_LINE_STORAGE_REGION-} ;;
        STORAGE_PATH_STYLE) LINE_VALUE=${VE_LINE_STORAGE_PATH_STYLE-} ;;
        V4_ROUTING_ENABLED) LINE_VALUE=${VE_LINE_V4_ROUTING_ENABLED-} ;;
        V2_ROUTING_API_KEY) LINE_VALUE=${VE_LINE_V2_ROUTING_API_KEY-} ;;
        V2_BASE_URL) LINE_VALUE=${VE_LINE_V2_BASE_URL-} ;;
        V4_BASE_URL) LINE_VALUE=${VE_LINE_V4_BASE_URL-} ;;
        V2_ROUTING_TOKEN_EXPIRATION) LINE_VALUE=${VE_LINE_V2_ROUTING_TOKEN_EXPIRATION-} ;;
        V2_ROUTING_TIMEOUT) LINE_VALUE=${VE_LINE_V2_ROUTING_TIMEOUT-} ;;
        V2_ROUTING_SSL_VERIFY) LINE_VALUE=${VE_LINE_V2_ROUTING_SSL_VERIFY-} ;;
        RECAPTCHA_ENABLED) LINE_VALUE=${VE_LINE_RECAPTCHA_ENABLED-} ;;
        RECAPTCHA_SITE_KEY) LINE_VALUE=${VE_LINE_RECAPTCHA_SITE_KEY-} ;;
        RECAPTCHA_SECRET_KEY) LINE_VALUE=${VE_LINE_RECAPTCHA_SECRET_KEY-} ;;
        RECAPTCHA_THEME) LINE_VALUE=${VE_LINE_RECAPTCHA_THEME-} ;;
        RECAPTCHA_SIZE) LINE_VALUE=${VE_LINE_RECAPTCHA_SIZE-} ;;
        GOOGLE_OAUTH_ENABLED) LINE_VALUE=${VE_LINE_GOOGLE_OAUTH_ENABLED-} ;;
        GOOGLE_OAUTH_CLIENT_ID) LINE_VALUE=${VE_LINE_GOOGLE_OAUTH_CLIENT_ID-} ;;
        GOOGLE_OAUTH_CLIENT_SECRET) LINE_VALUE=${VE_LINE_GOOGLE_OAUTH_CLIENT_SECRET-} ;;
        CRITICAL_PATH_ENABLED) LINE_VALUE=${VE_LINE_CRITICAL_PATH_ENABLED-} ;;
        CRITICAL_PATH_BASE_URL) LINE_VALUE=${VE_LINE_CRITICAL_PATH_BASE_URL-} ;;
        GITHUB_CLIENT_NAME) LINE_VALUE=${VE_LINE_GITHUB_CLIENT_NAME-} ;;
        GITHUB_CLIENT_ID) LINE_VALUE=${VE_LINE_GITHUB_CLIENT_ID-} ;;
        GITHUB_CLIENT_SECRET) LINE_VALUE=${VE_LINE_GITHUB_CLIENT_SECRET-} ;;
        GITHUB_REDIRECT_URI) LINE_VALUE=${VE_LINE_GITHUB_REDIRECT_URI-} ;;
        GITHUB_HOOK_URI) LINE_VALUE=${VE_LINE_GITHUB_HOOK_URI-} ;;
        GITHUB_WEBHOOK_SECRET) LINE_VALUE=${VE_LINE_GITHUB_WEBHOOK_SECRET-} ;;
        GITLAB_CLIENT_NAME) LINE_VALUE=${VE_LINE_GITLAB_CLIENT_NAME-} ;;
        GITLAB_CLIENT_ID) LINE_VALUE=${VE_LINE_GITLAB_CLIENT_ID-} ;;
        GITLAB_CLIENT_SECRET) LINE_VALUE=${VE_LINE_GITLAB_CLIENT_SECRET-} ;;
        GITLAB_REDIRECT_URI) LINE_VALUE=${VE_LINE_GITLAB_REDIRECT_URI-} ;;
        GITLAB_INSTANCE_URL) LINE_VALUE=${VE_LINE_GITLAB_INSTANCE_URL-} ;;
        GITLAB_WEBHOOK_SECRET) LINE_VALUE=${VE_LINE_GITLAB_WEBHOOK_SECRET-} ;;
        BITBUCKET_CLIENT_NAME) LINE_VALUE=${VE_LINE_BITBUCKET_CLIENT_NAME-} ;;
        BITBUCKET_CLIENT_ID) LINE_VALUE=${VE_LINE_BITBUCKET_CLIENT_ID-} ;;
        BITBUCKET_CLIENT_SECRET) LINE_VALUE=${VE_LINE_BITBUCKET_CLIENT_SECRET-} ;;
        BITBUCKET_REDIRECT_URI) LINE_VALUE=${VE_LINE_BITBUCKET_REDIRECT_URI-} ;;
        BITBUCKET_WEBHOOK_SECRET) LINE_VALUE=${VE_LINE_BITBUCKET_WEBHOOK_SECRET-} ;;
        STRIPE_PUBLISHABLE_KEY) LINE_VALUE=${VE_LINE_STRIPE_PUBLISHABLE_KEY-} ;;
        STRIPE_SECRET_KEY) LINE_VALUE=${VE_LINE_STRIPE_SECRET_KEY-} ;;
        STRIPE_WEBHOOK_SECRET) LINE_VALUE=${VE_LINE_STRIPE_WEBHOOK_SECRET-} ;;
        STRIPE_CURRENCY) LINE_VALUE=${VE_LINE_STRIPE_CURRENCY-} ;;
        CLOUD_STORAGE_AUTH_DOMAIN) LINE_VALUE=${VE_LINE_CLOUD_STORAGE_AUTH_DOMAIN-} ;;
        DROPBOX_ENABLED) LINE_VALUE=${VE_LINE_DROPBOX_ENABLED-} ;;
        DROPBOX_CLIENT_ID) LINE_VALUE=${VE_LINE_DROPBOX_CLIENT_ID-} ;;
        DROPBOX_CLIENT_SECRET) LINE_VALUE=${VE_LINE_DROPBOX_CLIENT_SECRET-} ;;
        ONEDRIVE_ENABLED) LINE_VALUE=${VE_LINE_ONEDRIVE_ENABLED-} ;;
        ONEDRIVE_CLIENT_ID) LINE_VALUE=${VE_LINE_ONEDRIVE_CLIENT_ID-} ;;
        ONEDRIVE_CLIENT_SECRET) LINE_VALUE=${VE_LINE_ONEDRIVE_CLIENT_SECRET-} ;;
        ONEDRIVE_TENANT_ID) LINE_VALUE=${VE_LINE_ONEDRIVE_TENANT_ID-} ;;
        BASE_IMAGE) LINE_VALUE=${VE_LINE_BASE_IMAGE-} ;;
        APP_IMAGE) LINE_VALUE=${VE_LINE_APP_IMAGE-} ;;
        SKIP_MIGRATIONS) LINE_VALUE=${VE_LINE_SKIP_MIGRATIONS-} ;;
        RUN_SEEDERS) LINE_VALUE=${VE_LINE_RUN_SEEDERS-} ;;
        SKIP_SEEDERS) LINE_VALUE=${VE_LINE_SKIP_SEEDERS-} ;;
        DB_WAIT_TIMEOUT) LINE_VALUE=${VE_LINE_DB_WAIT_TIMEOUT-} ;;
        DB_LOG) LINE_VALUE=${VE_LINE_DB_LOG-} ;;
        DB_SCHEMA) LINE_VALUE=${VE_LINE_DB_SCHEMA-} ;;
        REDIS_PREFIX) LINE_VALUE=${VE_LINE_REDIS_PREFIX-} ;;
        REDIS_TIMEOUT) LINE_VALUE=${VE_LINE_REDIS_TIMEOUT-} ;;
        REDIS_TLS_ENABLED) LINE_VALUE=${VE_LINE_REDIS_TLS_ENABLED-} ;;
        REDIS_TLS_VERIFY_PEER) LINE_VALUE=${VE_LINE_REDIS_TLS_VERIFY_PEER-} ;;
        REDIS_SSL_VERIFY_PEER) LINE_VALUE=${VE_LINE_REDIS_SSL_VERIFY_PEER-} ;;
        QUEUE_URL) LINE_VALUE=${VE_LINE_QUEUE_URL-} ;;
        PHP_MEMORY_LIMIT) LINE_VALUE=${VE_LINE_PHP_MEMORY_LIMIT-} ;;
        PHP_POST_MAX_SIZE) LINE_VALUE=${VE_LINE_PHP_POST_MAX_SIZE-} ;;
        PHP_UPLOAD_MAX_FILESIZE) LINE_VALUE=${VE_LINE_PHP_UPLOAD_MAX_FILESIZE-} ;;
        PHP_MAX_EXECUTION_TIME) LINE_VALUE=${VE_LINE_PHP_MAX_EXECUTION_TIME-} ;;
        APP_NAME) LINE_VALUE=${VE_LINE_APP_NAME-} ;;
        APP_ENV) LINE_VALUE=${VE_LINE_APP_ENV-} ;;
        APP_DEFAULT_LOCALE) LINE_VALUE=${VE_LINE_APP_DEFAULT_LOCALE-} ;;
        APP_DEFAULT_TIMEZONE) LINE_VALUE=${VE_LINE_APP_DEFAULT_TIMEZONE-} ;;
        APP_ENCODING) LINE_VALUE=${VE_LINE_APP_ENCODING-} ;;
        LOG_DEBUG_URL) LINE_VALUE=${VE_LINE_LOG_DEBUG_URL-} ;;
        LOG_ERROR_URL) LINE_VALUE=${VE_LINE_LOG_ERROR_URL-} ;;
        LOG_AUTH_URL) LINE_VALUE=${VE_LINE_LOG_AUTH_URL-} ;;
        LOG_EMAIL_URL) LINE_VALUE=${VE_LINE_LOG_EMAIL_URL-} ;;
        LOG_QUERIES_URL) LINE_VALUE=${VE_LINE_LOG_QUERIES_URL-} ;;
        LOG_CRON_URL) LINE_VALUE=${VE_LINE_LOG_CRON_URL-} ;;
        LOG_GITSYNC_URL) LINE_VALUE=${VE_LINE_LOG_GITSYNC_URL-} ;;
        LOG_DUMMYDATA_URL) LINE_VALUE=${VE_LINE_LOG_DUMMYDATA_URL-} ;;
        RECAPTCHA_VERSION) LINE_VALUE=${VE_LINE_RECAPTCHA_VERSION-} ;;
        RECAPTCHA_MIN_SCORE) LINE_VALUE=${VE_LINE_RECAPTCHA_MIN_SCORE-} ;;
        GOOGLE_OAUTH_REDIRECT_URI) LINE_VALUE=${VE_LINE_GOOGLE_OAUTH_REDIRECT_URI-} ;;
        CLOUD_STORAGE_ENABLED) LINE_VALUE=${VE_LINE_CLOUD_STORAGE_ENABLED-} ;;
        GOOGLE_DRIVE_CLIENT_ID) LINE_VALUE=${VE_LINE_GOOGLE_DRIVE_CLIENT_ID-} ;;
        GOOGLE_DRIVE_CLIENT_SECRET) LINE_VALUE=${VE_LINE_GOOGLE_DRIVE_CLIENT_SECRET-} ;;
        GOOGLE_DRIVE_API_KEY) LINE_VALUE=${VE_LINE_GOOGLE_DRIVE_API_KEY-} ;;
        LOAD_TEST_ENABLED) LINE_VALUE=${VE_LINE_LOAD_TEST_ENABLED-} ;;
        LOAD_TEST_TOKEN) LINE_VALUE=${VE_LINE_LOAD_TEST_TOKEN-} ;;
        LOAD_TEST_AUTO_CLEANUP) LINE_VALUE=${VE_LINE_LOAD_TEST_AUTO_CLEANUP-} ;;
        LOAD_TEST_CLEANUP_HOURS) LINE_VALUE=${VE_LINE_LOAD_TEST_CLEANUP_HOURS-} ;;
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
            R_MSG='is not valid UTF-8 (or holds a Unicode noncharacter): docker compose 1.29 cannot decode it (v2 reads the bytes) and systemd refuses the whole file'
            R_FIX='save the file as UTF-8, e.g. iconv -f ISO-8859-1 -t UTF-8'
            ;;
        byte-order-mark)
            R_SEV=ERROR
            R_MSG='starts with a byte order mark: docker compose skips it, systemd reads it as part of the first name'
            R_FIX='save the file as UTF-8 without a byte order mark'
            ;;
        crlf)
            R_SEV=WARN
            R_MSG='has Windows (CRLF) line endings: docker compose (1.29 and v2) and systemd accept them, shell tools keep the CR'
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
            R_MSG='is not a KEY=VALUE line: docker compose passes the caller'\''s value of a bare name (v2 also reads KEY: VALUE), systemd ignores it'
            R_FIX='write KEY=VALUE, or start the line with # to make it a comment'
            ;;
        invalid-key)
            R_SEV=ERROR
            R_MSG='has an invalid variable name: systemd ignores the line, docker compose 1.29 may not, docker compose v2 may read it or refuse the whole file'
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
            R_MSG='contains a backslash: systemd treats it as an escape (a trailing one joins lines), docker compose keeps it outside quotes and decodes it inside (1.29 and v2 differently)'
            R_FIX='choose a value without backslashes'
            ;;
        bad-quoting)
            R_SEV=ERROR
            R_MSG='has unbalanced quotes or text after the closing quote (multi-line values are not supported): the readers disagree'
            R_FIX='write KEY="value" on one line, with no quote of the same kind inside'
            ;;
        inline-comment)
            R_SEV=ERROR
            R_MSG='has a comment after the value: docker compose 1.29 drops it, docker compose v2 drops it only after a space (not a tab), systemd keeps it as part of the value'
            R_FIX='put the comment on a line of its own'
            ;;
        unicode-space)
            R_SEV=ERROR
            R_MSG='contains a Unicode space (e.g. a no-break space) outside quotes: docker compose trims it at the ends, systemd keeps it'
            R_FIX='remove it, or quote the value'
            ;;
        unquoted-space)
            R_SEV=WARN
            R_MSG='has whitespace outside quotes: docker compose and systemd keep inner and drop trailing whitespace, a shell would split the value'
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
        forbidden-key)
            R_SEV=ERROR
            R_MSG='changes how programs are loaded or how the shell and PHP start (a loader, shell or PHP start-up variable): from .env it could run code or leak secrets'
            R_FIX='remove the line; the package sets what it needs itself'
            ;;
        renamed-key)
            R_SEV=ERROR
            R_MSG='is a name an earlier release of this package used; the package does not read it, so its value would be ignored'
            R_FIX='rename the line to the name given'
            ;;
        unknown-key)
            R_SEV=WARN
            R_MSG='is not read by the package (not in .env.example or .env.full.example)'
            R_FIX='remove the line or correct the name'
            ;;
        readers-disagree)
            R_SEV=ERROR
            R_MSG='is read differently by docker compose 1.29, docker compose v2 or systemd'
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
            R_SEV=WARN
            R_MSG='should be false in production'
            R_FIX='set DEBUG=false (debug pages leak configuration and stack traces)'
            ;;
        app-bind-ip-empty)
            R_SEV=ERROR
            R_MSG='is set but empty: it overrides the default 127.0.0.1 and listens on every interface'
            R_FIX='remove the line (127.0.0.1) or set an address such as 127.0.0.1'
            ;;
        app-bind-ip)
            R_SEV=ERROR
            R_MSG='is not an IP address: docker compose and the web server need an IPv4 or IPv6 literal'
            R_FIX='use an address such as 127.0.0.1 or ::1 (no host name, brackets, port or blanks)'
            ;;
        bind-all-interfaces)
            R_SEV=WARN
            R_MSG='listens on (native) or publishes to (Docker) every network interface'
            R_FIX='use 127.0.0.1 behind a TLS reverse proxy, unless this is intended and firewalled'
            ;;
        app-port-empty)
            R_SEV=ERROR
            R_MSG='is set but empty: the listen address would lose its port'
            R_FIX='remove the line (default port) or set a port number'
            ;;
        app-port)
            R_SEV=ERROR
            R_MSG='is not a TCP port number'
            R_FIX='use an integer between 1 and 65535'
            ;;
        caddy-admin-empty)
            R_SEV=ERROR
            R_MSG='is set but empty: the web server would enable its admin API on its default address'
            R_FIX='remove the line (off) or set CADDY_ADMIN=off'
            ;;
        caddy-admin-exposed)
            R_SEV=WARN
            R_MSG='opens the web server'\''s admin API beyond this host: whoever reaches it can reconfigure the server'
            R_FIX='set CADDY_ADMIN=off, or a loopback address such as localhost:2019'
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
            R_SEV=WARN
            R_MSG='is too short'
            R_FIX='generate one with helpers/generate-secrets.sh (--fill .env) and set it'
            ;;
        base-image)
            R_SEV=ERROR
            R_MSG='is not a pinned image'
            R_FIX='pin a version tag or digest, e.g. alpine:3.20.3 or alpine@sha256:<digest>, or leave it empty for the package default'
            ;;
        app-image)
            R_SEV=ERROR
            R_MSG='is not a pinned image'
            R_FIX='name the release image by digest (dist-manifest.json image.digest), e.g. ghcr.io/owner/repo@sha256:<digest>, or leave it empty to build'
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
        db-password-file)
            R_SEV=ERROR
            R_MSG='is not an absolute path'
            R_FIX='use the full path of the secret file, e.g. /run/secrets/db_password'
            ;;
        db-password-required)
            R_SEV=ERROR
            R_MSG='is required but not set (and DB_PASSWORD_FILE is not set)'
            R_FIX='generate one with helpers/generate-secrets.sh (--fill .env) and set it'
            ;;
        db-password-length)
            R_SEV=WARN
            R_MSG='is too short'
            R_FIX='generate one with helpers/generate-secrets.sh (--fill .env) and set it'
            ;;
        db-log-boolean)
            R_SEV=ERROR
            R_MSG='is not a boolean'
            R_FIX='use true or false'
            ;;
        skip-migrations)
            R_SEV=ERROR
            R_MSG='is ambiguous: any other non-empty value also skips the migrations: use one of true, false, 1, 0'
            R_FIX='use true (skip) or false (run them)'
            ;;
        run-seeders)
            R_SEV=ERROR
            R_MSG='is not a seeding mode: use one of auto, true, false'
            R_FIX='use auto (seed an empty database), true or false'
            ;;
        skip-seeders)
            R_SEV=ERROR
            R_MSG='is not true or false (only true skips seeding): use one of true, false'
            R_FIX='use true or false'
            ;;
        db-wait-timeout)
            R_SEV=ERROR
            R_MSG='is not a whole number of seconds from 1 to 3600'
            R_FIX='use e.g. DB_WAIT_TIMEOUT=60'
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
        redis-database)
            R_SEV=ERROR
            R_MSG='is not a Redis database number'
            R_FIX='use a whole number, e.g. 0'
            ;;
        redis-timeout)
            R_SEV=ERROR
            R_MSG='is not a positive integer'
            R_FIX='use a whole number of seconds, e.g. 1'
            ;;
        redis-persistent-boolean)
            R_SEV=ERROR
            R_MSG='is not a boolean'
            R_FIX='use true or false'
            ;;
        redis-tls-boolean)
            R_SEV=ERROR
            R_MSG='is not a boolean'
            R_FIX='use true or false'
            ;;
        redis-tls-verify-boolean)
            R_SEV=ERROR
            R_MSG='is not a boolean'
            R_FIX='use true or false'
            ;;
        redis-ssl-verify-boolean)
            R_SEV=ERROR
            R_MSG='is not a boolean'
            R_FIX='use true or false'
            ;;
        cache-engine)
            R_SEV=ERROR
            R_MSG='is not a supported cache engine: use one of redis, memcached, file, auto'
            R_FIX='use CACHE_ENGINE=redis'
            ;;
        cache-engine-local)
            R_SEV=WARN
            R_MSG='keeps the cache on local disk (not shared between instances)'
            R_FIX='use CACHE_ENGINE=redis'
            ;;
        memcached-port)
            R_SEV=ERROR
            R_MSG='is not a TCP port number'
            R_FIX='use an integer between 1 and 65535'
            ;;
        memcached-log-boolean)
            R_SEV=ERROR
            R_MSG='is not a boolean'
            R_FIX='use true or false'
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
            R_MSG='is not a supported queue engine: use one of redis, database'
            R_FIX='use QUEUE_ENGINE=redis'
            ;;
        queue-engine-database)
            R_SEV=WARN
            R_MSG='polls the database for jobs (slower than Redis)'
            R_FIX='use QUEUE_ENGINE=redis'
            ;;
        worker-max-runtime)
            R_SEV=ERROR
            R_MSG='is not a positive integer'
            R_FIX='use a whole number of seconds, e.g. 1800'
            ;;
        worker-sleep)
            R_SEV=ERROR
            R_MSG='is not a positive integer'
            R_FIX='use a whole number of seconds, e.g. 5'
            ;;
        storage-bucket-required)
            R_SEV=ERROR
            R_MSG='is required but not set'
            R_FIX='set the bucket that stores uploads'
            ;;
        storage-endpoint-url)
            R_SEV=ERROR
            R_MSG='is not an http(s) URL'
            R_FIX='leave it empty for AWS S3, or use the provider'\''s endpoint URL'
            ;;
        storage-path-style-boolean)
            R_SEV=ERROR
            R_MSG='is not a boolean'
            R_FIX='use true or false'
            ;;
        storage-credentials-pair)
            R_SEV=ERROR
            R_MSG='is required because the other storage key is set'
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
        from-email-unset)
            R_SEV=WARN
            R_MSG='is not set'
            R_FIX='set the sender address of the application'\''s mail'
            ;;
        notify-email-unset)
            R_SEV=WARN
            R_MSG='is not set'
            R_FIX='set the address that receives system notifications'
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
        routing-token-expiration)
            R_SEV=ERROR
            R_MSG='is not a positive integer'
            R_FIX='use a whole number of minutes, e.g. 15'
            ;;
        routing-timeout)
            R_SEV=ERROR
            R_MSG='is not a positive integer'
            R_FIX='use a whole number of seconds, e.g. 10'
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
            R_SEV=WARN
            R_MSG='should not be false when V4_ROUTING_ENABLED is true'
            R_FIX='set V2_ROUTING_SSL_VERIFY=true and give V2 a valid certificate'
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
        recaptcha-version)
            R_SEV=ERROR
            R_MSG='is not a reCAPTCHA version: use one of v2, v3'
            R_FIX='use v2 or v3'
            ;;
        recaptcha-theme)
            R_SEV=ERROR
            R_MSG='is not a reCAPTCHA theme: use one of light, dark'
            R_FIX='use light or dark'
            ;;
        recaptcha-size)
            R_SEV=ERROR
            R_MSG='is not a reCAPTCHA size: use one of normal, compact, invisible'
            R_FIX='use normal or compact'
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
        oauth-redirect-url)
            R_SEV=ERROR
            R_MSG='is not an http(s) URL'
            R_FIX='use the form https://host[:port][/path]'
            ;;
        critical-path-boolean)
            R_SEV=ERROR
            R_MSG='is not a boolean'
            R_FIX='use true or false'
            ;;
        critical-path-url)
            R_SEV=ERROR
            R_MSG='is not an http(s) URL'
            R_FIX='use the form https://host[:port][/path]'
            ;;
        critical-path-url-required)
            R_SEV=ERROR
            R_MSG='is required when CRITICAL_PATH_ENABLED is true'
            R_FIX='set the URL of the critical path service, or CRITICAL_PATH_ENABLED=false'
            ;;
        gitlab-instance-url)
            R_SEV=ERROR
            R_MSG='is not an http(s) URL'
            R_FIX='use the form https://host[:port][/path]'
            ;;
        cloud-storage-boolean)
            R_SEV=ERROR
            R_MSG='is not a boolean'
            R_FIX='use true or false'
            ;;
        dropbox-boolean)
            R_SEV=ERROR
            R_MSG='is not a boolean'
            R_FIX='use true or false'
            ;;
        dropbox-credentials-required)
            R_SEV=ERROR
            R_MSG='is required because the other Dropbox key is set'
            R_FIX='set both Dropbox keys, or neither'
            ;;
        onedrive-boolean)
            R_SEV=ERROR
            R_MSG='is not a boolean'
            R_FIX='use true or false'
            ;;
        onedrive-credentials-required)
            R_SEV=ERROR
            R_MSG='is required because the other OneDrive key is set'
            R_FIX='set both OneDrive keys, or neither'
            ;;
        load-test-boolean)
            R_SEV=ERROR
            R_MSG='is not a boolean'
            R_FIX='use true or false'
            ;;
        load-test-token-required)
            R_SEV=ERROR
            R_MSG='is required when LOAD_TEST_ENABLED is true'
            R_FIX='generate one with helpers/generate-secrets.sh (--fill .env) and set it'
            ;;
        load-test-enabled)
            R_SEV=WARN
            R_MSG='exposes load-test endpoints'
            R_FIX='set LOAD_TEST_ENABLED=false outside load testing'
            ;;
        load-test-cleanup-boolean)
            R_SEV=ERROR
            R_MSG='is not a boolean'
            R_FIX='use true or false'
            ;;
        load-test-cleanup-hours)
            R_SEV=ERROR
            R_MSG='is not a positive integer'
            R_FIX='use a whole number of hours, e.g. 24'
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
        365d69a31aa12630170a659a76ccbf1726a7c4a65efa339675cc69decd8a72ae) return 0 ;;
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

# The value rules of the table, in order. The first ERROR on a variable skips its
# later rules (FLAGGED).
run_rules() {
    check_boolean debug-boolean DEBUG
    check_false debug-false DEBUG
    check_not_empty app-bind-ip-empty APP_BIND_IP
    check_ip_literal app-bind-ip APP_BIND_IP
    check_none_of bind-all-interfaces APP_BIND_IP 0.0.0.0 :: ::0 0:0:0:0:0:0:0:0
    check_not_empty app-port-empty APP_PORT
    check_port app-port APP_PORT
    check_not_empty caddy-admin-empty CADDY_ADMIN
    check_no_prefix caddy-admin-exposed CADDY_ADMIN off localhost: 127. '[::1]:' unix/
    check_url base-url FULL_BASE_URL
    check_set base-url-unset FULL_BASE_URL
    check_prefix base-url-https FULL_BASE_URL http://
    check_set salt-required SECURITY_SALT
    check_min_length salt-length SECURITY_SALT 32
    check_pinned_image base-image BASE_IMAGE
    check_pinned_image app-image APP_IMAGE
    check_set db-host-required DB_HOST
    check_port db-port DB_PORT
    check_set db-username-unset DB_USERNAME
    check_set db-name-unset DB_NAME
    check_absolute_path db-password-file DB_PASSWORD_FILE
    get DB_PASSWORD_FILE
    if [ -z "$GET_VALUE" ]; then
        check_set db-password-required DB_PASSWORD
    fi
    check_min_length db-password-length DB_PASSWORD 16
    check_boolean db-log-boolean DB_LOG
    check_one_of skip-migrations SKIP_MIGRATIONS true false 1 0
    check_one_of run-seeders RUN_SEEDERS auto true false
    check_one_of skip-seeders SKIP_SEEDERS true false
    check_int_range db-wait-timeout DB_WAIT_TIMEOUT 1 3600
    check_set redis-host-required REDIS_HOST
    check_port redis-port REDIS_PORT
    check_set redis-password-unset REDIS_PASSWORD
    check_int_range redis-database REDIS_DATABASE 0 999999999
    check_positive_int redis-timeout REDIS_TIMEOUT
    check_boolean redis-persistent-boolean REDIS_PERSISTENT
    check_boolean redis-tls-boolean REDIS_TLS_ENABLED
    check_boolean redis-tls-verify-boolean REDIS_TLS_VERIFY_PEER
    check_boolean redis-ssl-verify-boolean REDIS_SSL_VERIFY_PEER
    check_one_of cache-engine CACHE_ENGINE redis memcached file auto
    check_none_of cache-engine-local CACHE_ENGINE file
    check_port memcached-port MEMCACHED_PORT
    check_boolean memcached-log-boolean MEMCACHED_LOG
    check_one_of session-handler SESSION_HANDLER cache php database
    check_none_of session-handler-local SESSION_HANDLER php
    check_one_of queue-engine QUEUE_ENGINE redis database
    check_none_of queue-engine-database QUEUE_ENGINE database
    check_positive_int worker-max-runtime WORKER_MAX_RUNTIME
    check_positive_int worker-sleep WORKER_SLEEP
    check_set storage-bucket-required STORAGE_BUCKET
    check_url storage-endpoint-url STORAGE_ENDPOINT
    check_boolean storage-path-style-boolean STORAGE_PATH_STYLE
    check_pair storage-credentials-pair STORAGE_ACCESS_KEY STORAGE_SECRET_KEY
    check_one_of email-transport EMAIL_TRANSPORT smtp sendgrid
    check_set email-transport-unset EMAIL_TRANSPORT
    check_set from-email-unset FROM_EMAIL
    check_set notify-email-unset NOTIFY_EMAIL
    get EMAIL_TRANSPORT
    if [ "$GET_VALUE" = smtp ]; then
        check_set smtp-host-required SMTP_HOST
    fi
    check_port smtp-port SMTP_PORT
    check_boolean smtp-tls-boolean SMTP_TLS
    get EMAIL_TRANSPORT
    if [ "$GET_VALUE" = sendgrid ]; then
        check_set sendgrid-key-required EMAIL_API_KEY
    fi
    check_boolean routing-boolean V4_ROUTING_ENABLED
    check_boolean ssl-verify-boolean V2_ROUTING_SSL_VERIFY
    check_url v2-base-url V2_BASE_URL
    check_url v4-base-url V4_BASE_URL
    check_positive_int routing-token-expiration V2_ROUTING_TOKEN_EXPIRATION
    check_positive_int routing-timeout V2_ROUTING_TIMEOUT
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
        check_not_false routing-ssl-verify V2_ROUTING_SSL_VERIFY
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
    check_one_of recaptcha-version RECAPTCHA_VERSION v2 v3
    check_one_of recaptcha-theme RECAPTCHA_THEME light dark
    check_one_of recaptcha-size RECAPTCHA_SIZE normal compact invisible
    check_boolean oauth-boolean GOOGLE_OAUTH_ENABLED
    get GOOGLE_OAUTH_ENABLED
    if is_true "$GET_VALUE"; then
        check_set oauth-client-id-required GOOGLE_OAUTH_CLIENT_ID
    fi
    get GOOGLE_OAUTH_ENABLED
    if is_true "$GET_VALUE"; then
        check_set oauth-client-secret-required GOOGLE_OAUTH_CLIENT_SECRET
    fi
    check_url oauth-redirect-url GOOGLE_OAUTH_REDIRECT_URI
    check_boolean critical-path-boolean CRITICAL_PATH_ENABLED
    check_url critical-path-url CRITICAL_PATH_BASE_URL
    get CRITICAL_PATH_ENABLED
    if is_true "$GET_VALUE"; then
        check_set critical-path-url-required CRITICAL_PATH_BASE_URL
    fi
    check_url gitlab-instance-url GITLAB_INSTANCE_URL
    check_boolean cloud-storage-boolean CLOUD_STORAGE_ENABLED
    check_boolean dropbox-boolean DROPBOX_ENABLED
    check_pair dropbox-credentials-required DROPBOX_CLIENT_ID DROPBOX_CLIENT_SECRET
    check_boolean onedrive-boolean ONEDRIVE_ENABLED
    check_pair onedrive-credentials-required ONEDRIVE_CLIENT_ID ONEDRIVE_CLIENT_SECRET
    check_boolean load-test-boolean LOAD_TEST_ENABLED
    get LOAD_TEST_ENABLED
    if is_true "$GET_VALUE"; then
        check_set load-test-token-required LOAD_TEST_TOKEN
    fi
    check_false load-test-enabled LOAD_TEST_ENABLED
    check_boolean load-test-cleanup-boolean LOAD_TEST_AUTO_CLEANUP
    check_positive_int load-test-cleanup-hours LOAD_TEST_CLEANUP_HOURS
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
