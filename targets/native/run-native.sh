#!/bin/sh
# run-native.sh — run @@APP_NAME@@ @@VERSION@@ in the foreground; also the launcher the
# systemd units run.
#
# Usage:
#   ./run-native.sh [php-server]     serve HTTP on APP_BIND_IP:APP_PORT (default 127.0.0.1:@@HTTP_PORT@@)
#   ./run-native.sh queue-worker     run the queue worker (WORKER_MAX_RUNTIME, WORKER_SLEEP)
#   ./run-native.sh migrate          migrate (and seed) the database: helpers/migrate.sh
#   ./run-native.sh recurring-task   run the recurring task once (the timer runs it every 30 min)
#   ./run-native.sh php-cli ARGS...  run a PHP script of the embedded application
#                                    (helpers/cake.sh: php-cli bin/cake.php ...)
#
# For production use the systemd units (helpers/install.sh), which run this script; on
# its own it is for trials, debugging and supervisors other than systemd.
#
# Configuration: .env in this directory, never executed. helpers/validate-env.sh checks
# the file first (exactly `validate-env.sh --env-file .env`) and prints its values the way
# docker compose and systemd read them (--print-env); only the names the package knows
# come out of it, and only those are exported. Variables already set in the environment
# win over .env ("APP_PORT=9090 ./run-native.sh"); their names are reported. Then the
# resulting environment is checked again. DB_PASSWORD_FILE, when set, supplies
# DB_PASSWORD from that file.
# Every PHP process runs with PHP_INI_SCAN_DIR=":<this directory>/php" (the package's
# php.ini; the leading ':' keeps PHP's compiled-in folder); PHPRC is removed.
#
# Refuses to run as root (use the service account; helpers/cake.sh and
# helpers/queue-worker.sh switch to it). The program replaces this script (exec), so
# every signal (TERM, INT, HUP, QUIT, USR1, USR2) reaches it directly and the exit status
# is its own.
#
# The script's own variables are lower-case: no .env name can change them.

set -eu

# The C locale for this script's own pattern matching; the caller's LC_ALL (or its
# absence) is restored for the program.
caller_lc_all=${LC_ALL-}
caller_lc_all_set=${LC_ALL+1}
LC_ALL=C
export LC_ALL
# The units remove PATH (UnsetEnvironment=): use systemd's default search path then.
if [ -z "${PATH-}" ]; then
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    export PATH
fi

prog=run-native
pkg=$(cd "$(dirname "$0")" && pwd -P)
bin=$pkg/bin/@@NATIVE_BINARY@@
env_file=$pkg/.env
validator=$pkg/helpers/validate-env.sh

log() {
    printf '%s\n' "$prog: $*" >&2
}

usage() {
    cat <<'EOF'
Usage: run-native.sh [php-server | queue-worker | migrate | recurring-task | php-cli ARGS...]

  php-server      (default) serve HTTP on APP_BIND_IP:APP_PORT (default 127.0.0.1:@@HTTP_PORT@@)
  queue-worker    run the queue worker (--max-runtime WORKER_MAX_RUNTIME, --sleep WORKER_SLEEP)
  migrate         wait for the database, run the migrations, seed (helpers/migrate.sh)
  recurring-task  run bin/cake.php recurring_task once
  php-cli ARGS    run a PHP script of the embedded application, e.g. php-cli bin/cake.php version

Reads .env from the package directory (checked, never executed). Variables already in
the environment win over .env. Refuses to start if helpers/validate-env.sh reports
errors, and refuses to run as root.
EOF
}

mode=${1:-php-server}
[ $# -eq 0 ] || shift
case $mode in
    php-server | queue-worker | migrate | recurring-task)
        if [ $# -gt 0 ]; then
            log "$mode takes no arguments (got: $*)"
            usage >&2
            exit 2
        fi
        ;;
    php-cli)
        if [ $# -eq 0 ]; then
            log "php-cli needs the script to run and its arguments (see --help)"
            exit 2
        fi
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        log "unknown mode: $mode"
        usage >&2
        exit 2
        ;;
esac

if [ "$(id -u)" -eq 0 ]; then
    log "refusing to run as root: run it as the service account (e.g. sudo -u @@RUNTIME_USER@@ $0 $mode), or use helpers/cake.sh / helpers/queue-worker.sh, which switch to it"
    exit 1
fi

if [ ! -x "$bin" ]; then
    log "$bin is missing or not executable — re-extract the package (the binary must have mode 0755)"
    exit 1
fi

# load_assignments TEXT: exports the NAME=VALUE lines of `validate-env.sh --print-env`,
# except names already set in the environment.
load_assignments() {
    kept=
    while IFS= read -r assignment; do
        [ -n "$assignment" ] || continue
        name=${assignment%%=*}
        value=${assignment#*=}
        case $name in
            '' | [!A-Z_]* | *[!A-Z0-9_]*)
                log "ignored unexpected output of validate-env.sh --print-env"
                continue
                ;;
        esac
        if printenv "$name" >/dev/null 2>&1; then
            kept="$kept $name"
            continue
        fi
        export "$name=$value"
    done <<EOF
$1
EOF
    if [ -n "$kept" ]; then
        log "kept from the environment (not overridden by $env_file):$kept"
    fi
}

if [ -e "$env_file" ]; then
    if [ ! -r "$env_file" ]; then
        log "$env_file is not readable by $(id -un) — it must be readable by the service account (install.sh makes it root:<service group> 0640)"
        exit 1
    fi
    if ! assignments=$(sh "$validator" --env-file "$env_file" --print-env); then
        log "refusing to start: fix the lines of $env_file named in the ERROR lines above"
        log "check again with: $validator --env-file $env_file"
        exit 1
    fi
    load_assignments "$assignments"
else
    log "no $env_file; using the environment only (create it: cp .env.example .env)"
fi

if [ -n "${DB_PASSWORD_FILE-}" ]; then
    if [ ! -f "$DB_PASSWORD_FILE" ] || [ ! -r "$DB_PASSWORD_FILE" ]; then
        log "DB_PASSWORD_FILE=$DB_PASSWORD_FILE is not a file $(id -un) can read — fix the path or its permissions, or remove DB_PASSWORD_FILE and set DB_PASSWORD"
        exit 1
    fi
    # Like the original packages: the file's content without trailing newlines.
    DB_PASSWORD=$(cat "$DB_PASSWORD_FILE")
    export DB_PASSWORD
    log "DB_PASSWORD taken from DB_PASSWORD_FILE"
fi

if ! sh "$validator"; then
    log "refusing to start: fix the variables named in the ERROR lines above (in $env_file or the environment)"
    exit 1
fi

# An empty address or port means the default (the Caddyfile's {$APP_PORT:...} default
# applies only to an unset variable).
[ -n "${APP_BIND_IP-}" ] || unset APP_BIND_IP
[ -n "${APP_PORT-}" ] || unset APP_PORT

# The package's php.ini for every PHP process, never one named by the caller.
PHP_INI_SCAN_DIR=:$pkg/php
export PHP_INI_SCAN_DIR
unset PHPRC

case $mode in
    php-server)
        set -- "$bin" php-server
        ;;
    queue-worker)
        # The validator checked both values (whole seconds) above.
        set -- "$bin" php-cli bin/cake.php queue worker \
            --max-runtime "${WORKER_MAX_RUNTIME:-1800}" --sleep "${WORKER_SLEEP:-5}" --verbose
        ;;
    recurring-task)
        set -- "$bin" php-cli bin/cake.php recurring_task
        ;;
    migrate)
        if [ ! -x "$pkg/helpers/migrate.sh" ]; then
            log "$pkg/helpers/migrate.sh is missing or not executable — re-extract the package"
            exit 1
        fi
        set -- "$pkg/helpers/migrate.sh" "$bin"
        ;;
    php-cli)
        set -- "$bin" php-cli "$@"
        ;;
esac

if [ -n "$caller_lc_all_set" ]; then
    LC_ALL=$caller_lc_all
else
    unset LC_ALL
fi

# FrankenPHP resolves a relative php-cli script inside the embedded application only
# when it does not exist relative to the working directory: run from / (no bin/ there).
cd /
log "starting: $*"
exec "$@"
