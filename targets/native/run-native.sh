#!/bin/sh
# run-native.sh — run @@APP_NAME@@ @@VERSION@@ in the foreground without systemd.
#
# Usage:
#   ./run-native.sh                 serve HTTP on ${APP_BIND_IP:-127.0.0.1}:${APP_PORT:-@@HTTP_PORT@@}
#   ./run-native.sh queue-worker    run the queue worker
#
# For production use the systemd units (helpers/install.sh); this script is
# for trials, debugging and supervisors other than systemd.
#
# Configuration: .env in this directory, loaded WITHOUT executing it (see the
# parser below: KEY=VALUE lines only, one pair of surrounding quotes removed,
# no expansion). Variables that are already set in the environment take
# precedence over .env, so "APP_PORT=9090 ./run-native.sh" works; the names
# of such variables are reported. Then helpers/validate-env.sh checks the
# result and the server is not started if it reports errors.
#
# Signals: TERM and INT are forwarded to the server as TERM (graceful stop),
# also when they arrive while the server is being started; the script exits
# with the server's exit status.

set -eu

# C locale for this script's own pattern matching; the caller's LC_ALL (or its
# absence) is restored for the server, which runs as under systemd.
caller_lc_all=${LC_ALL-}
caller_lc_all_set=${LC_ALL+1}
LC_ALL=C
export LC_ALL

PROG=run-native
cd "$(dirname "$0")"

BIN=bin/@@NATIVE_BINARY@@
ENV_FILE=.env
CR=$(printf '\r')

log() {
    printf '%s\n' "$PROG: $*" >&2
}

usage() {
    cat <<'EOF'
Usage: run-native.sh [php-server|queue-worker]

  php-server    (default) serve HTTP on ${APP_BIND_IP:-127.0.0.1}:${APP_PORT:-@@HTTP_PORT@@}
  queue-worker  run the queue worker

Reads .env from the package directory (never executed). Variables already in
the environment win over .env. Refuses to start if helpers/validate-env.sh
reports errors.
EOF
}

# load_env_file FILE: export KEY=VALUE lines of FILE without executing it.
load_env_file() {
    loaded=' '
    kept=
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
                log "$1:$lineno: not a KEY=VALUE line, ignored"
                continue
                ;;
        esac
        key=${line%%=*}
        value=${line#*=}
        case $key in
            '' | [!A-Z_]* | *[!A-Z0-9_]*)
                log "$1:$lineno: invalid variable name, line ignored"
                continue
                ;;
        esac
        case $value in
            \"*\") value=${value#\"} value=${value%\"} ;;
            \'*\') value=${value#\'} value=${value%\'} ;;
        esac
        case $loaded in
            *" $key "*) ;; # set earlier from this file: the later line wins
            *)
                if printenv "$key" >/dev/null 2>&1; then
                    kept="$kept $key"
                    continue
                fi
                loaded="$loaded$key "
                ;;
        esac
        export "$key=$value"
    done <"$1"
    if [ -n "$kept" ]; then
        log "kept from the environment (not overridden by $1):$kept"
    fi
}

MODE=${1:-php-server}
case $MODE in
    php-server | queue-worker) ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        usage >&2
        exit 2
        ;;
esac

if [ ! -x "$BIN" ]; then
    log "$BIN is missing or not executable — re-extract the package (the binary must have mode 0755)"
    exit 1
fi

if [ -f "$ENV_FILE" ]; then
    if [ ! -r "$ENV_FILE" ]; then
        log "$ENV_FILE is not readable by $(id -un) — fix its permissions"
        exit 1
    fi
    load_env_file "$ENV_FILE"
else
    log "no $ENV_FILE here; using the environment only (create it: cp .env.example .env)"
fi

if ! sh helpers/validate-env.sh; then
    log "refusing to start: fix the variables named in the ERROR lines above (in $ENV_FILE)"
    log "check again with: helpers/validate-env.sh --env-file $ENV_FILE"
    exit 1
fi

if [ "$MODE" = queue-worker ]; then
    set -- "$BIN" php-cli bin/cake.php queue worker
else
    set -- "$BIN" php-server -l "${APP_BIND_IP:-127.0.0.1}:${APP_PORT:-@@HTTP_PORT@@}"
fi

if [ -n "$caller_lc_all_set" ]; then
    LC_ALL=$caller_lc_all
else
    unset LC_ALL
fi

child=
stopping=0
# shellcheck disable=SC2317  # invoked by the trap below
forward() {
    stopping=1
    if [ -n "$child" ]; then
        kill -TERM "$child" 2>/dev/null || :
    fi
}
# INT is forwarded as TERM: a background child of a non-interactive shell
# starts with SIGINT ignored, and TERM is the graceful stop signal anyway.
trap forward TERM INT

log "starting: $*"
"$@" &
child=$!
# A signal that arrived between the fork and the line above found no child to
# forward to; deliver it now instead of losing it.
if [ "$stopping" -eq 1 ]; then
    kill -TERM "$child" 2>/dev/null || :
fi

# wait returns early (status > 128) when a trapped signal arrives; keep
# waiting until the child has really exited and report its own status.
status=0
while :; do
    status=0
    wait "$child" || status=$?
    if [ "$status" -le 128 ]; then
        break
    fi
    if kill -0 "$child" 2>/dev/null; then
        continue
    fi
    final=0
    wait "$child" 2>/dev/null || final=$?
    if [ "$final" -ne 127 ]; then
        status=$final
    fi
    break
done
exit "$status"
