#!/bin/sh
# entrypoint.sh — container entrypoint for @@APP_NAME@@ @@VERSION@@.
#
# Commands (the image's CMD is "php-server"; docker-compose.yaml picks one per service):
#   php-server [ARGS...]  validate, then serve HTTP: "<binary> php-server" listens on
#                         APP_BIND_IP:APP_PORT from the environment (the embedded
#                         Caddyfile reads them; the compose file sets 0.0.0.0 and
#                         @@HTTP_PORT@@ inside the container)
#   migrate               validate, then helpers/migrate.sh: wait for the database,
#                         migrate the app and its plugins, seed per RUN_SEEDERS
#   queue-worker          validate, then the queue worker (WORKER_MAX_RUNTIME,
#                         WORKER_SLEEP); it exits after its max runtime and the
#                         restart policy starts it again
#   scheduler [SECONDS]   validate, then run "bin/cake.php recurring_task" at every
#                         multiple of SECONDS (default 1800: hh:00 and hh:30 UTC),
#                         one run at a time; stops on SIGTERM
#   php-cli ARGS...       validate, then run a PHP CLI script of the application
#                         (e.g. php-cli bin/cake.php migrations status)
#   version | -*          run the binary with these arguments, no validation
#   anything else         executed as given (e.g. sh for debugging)
#
# Configuration comes only from the container environment (docker compose env_file);
# no .env is read or executed here. DB_PASSWORD_FILE (Docker secrets) is the one file
# read: its content becomes DB_PASSWORD and is never printed. Long-running commands exec
# the binary so it receives SIGTERM from "docker stop" directly (compose runs this under
# "init: true", so PHP's children are reaped).

set -eu

APP_BIN=/app/@@BINARY_NAME@@
VALIDATOR=/app/helpers/validate-env.sh
MIGRATE=/app/helpers/migrate.sh
# php-cli does not add the embedded php.ini to the scan path (php-server does), so every
# PHP process gets the package's copy; the leading ':' keeps the compiled-in scan dir.
PHP_INI_SCAN_DIR=:/app/php
export PHP_INI_SCAN_DIR

log() {
    printf '%s\n' "entrypoint: $*" >&2
}

die() {
    log "$*"
    exit 1
}

# DB_PASSWORD_FILE, when set, supplies DB_PASSWORD (Docker secrets). A file that is set
# but unreadable stops the start: silently keeping another password would only fail
# later, at the database, with a less clear error.
load_password_file() {
    f=${DB_PASSWORD_FILE-}
    [ -n "$f" ] || return 0
    if [ ! -f "$f" ] || [ ! -r "$f" ]; then
        die "DB_PASSWORD_FILE=$f is not a readable file for uid $(id -u) — mount the secret there (compose 'secrets:' or a read-only bind mount) readable by uid $(id -u), or unset DB_PASSWORD_FILE and set DB_PASSWORD"
    fi
    # $(...) drops the trailing newline(s) an editor leaves; the value is not echoed.
    DB_PASSWORD=$(cat "$f") || die "cannot read DB_PASSWORD_FILE=$f"
    [ -n "$DB_PASSWORD" ] || die "DB_PASSWORD_FILE=$f is empty — write the database password into it"
    export DB_PASSWORD
}

validate() {
    if [ ! -x "$APP_BIN" ]; then
        die "$APP_BIN is missing or not executable — rebuild the image from an unmodified package"
    fi
    probe=/tmp/.entrypoint-write-test.$$
    if (: >"$probe") 2>/dev/null; then
        rm -f "$probe"
    else
        die "/tmp is not writable — the application unpacks itself there; mount a tmpfs at /tmp (see docker-compose.yaml)"
    fi
    load_password_file
    # Inside the container APP_BIND_IP/APP_PORT are the container's own socket (set by
    # the image and the compose file, 0.0.0.0:@@HTTP_PORT@@), not the operator's: their
    # .env values only choose the published host address, which compose and
    # "helpers/validate-env.sh --env-file .env" check on the host. Validating them here
    # would warn about 0.0.0.0 on every start.
    if ! env -u APP_BIND_IP -u APP_PORT "$VALIDATOR"; then
        log "refusing to start: the environment failed validation (ERROR lines above name each variable and its fix)."
        log "edit .env next to docker-compose.yaml, check it with: helpers/validate-env.sh --env-file .env"
        die "then recreate the containers: docker compose up -d"
    fi
}

# True when $1 is a whole number (no sign, no leading zero) in $2..$3.
in_range() {
    case $1 in
        '' | *[!0-9]* | 0?*) return 1 ;;
    esac
    [ "${#1}" -le 9 ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}

# Waits for $child; returns its exit status in $rc. A trapped signal interrupts "wait"
# (status > 128) while the child still runs: wait again until it is really gone.
wait_child() {
    rc=0
    wait "$child" || rc=$?
    while [ "$rc" -gt 128 ] && kill -0 "$child" 2>/dev/null; do
        rc=0
        wait "$child" || rc=$?
    done
    child=
}

on_stop() {
    stopping=1
    if [ -n "$child" ]; then
        kill -TERM "$child" 2>/dev/null || :
    fi
}

# One recurring_task run at every multiple of $1 seconds since the epoch (UTC clock, like
# cron's */30), strictly one after the other: a run that outlasts its slot delays the
# next one to the following slot instead of overlapping it. Output goes to the
# container's stdout/stderr (json-file).
scheduler() {
    interval=$1
    stopping=
    child=
    trap on_stop TERM INT
    log "scheduler: the recurring_task command every ${interval}s, aligned to the clock, one run at a time"
    while [ -z "$stopping" ]; do
        now=$(date +%s)
        sleep $((interval - now % interval)) &
        child=$!
        wait_child
        [ -z "$stopping" ] || break
        started=$(date +%s)
        log "scheduler: recurring_task started"
        "$APP_BIN" php-cli bin/cake.php recurring_task &
        child=$!
        wait_child
        took=$(($(date +%s) - started))
        if [ "$rc" -eq 0 ]; then
            log "scheduler: recurring_task finished in ${took}s"
        else
            log "scheduler: recurring_task failed with exit status $rc after ${took}s (next slot as usual; its output is above)"
        fi
    done
    log "scheduler: stopped"
}

if [ $# -eq 0 ]; then
    set -- php-server
fi

case $1 in
    php-server)
        validate
        exec "$APP_BIN" "$@"
        ;;
    migrate)
        [ $# -eq 1 ] || die "migrate takes no arguments (got: $*); it runs $MIGRATE $APP_BIN"
        validate
        [ -x "$MIGRATE" ] || die "$MIGRATE is missing or not executable — rebuild the image from an unmodified package"
        exec "$MIGRATE" "$APP_BIN"
        ;;
    queue-worker)
        [ $# -eq 1 ] || die "queue-worker takes no arguments (got: $*); set WORKER_MAX_RUNTIME and WORKER_SLEEP in .env"
        validate
        max_runtime=${WORKER_MAX_RUNTIME:-1800}
        sleep_s=${WORKER_SLEEP:-5}
        in_range "$max_runtime" 1 604800 || die "WORKER_MAX_RUNTIME=$max_runtime is not a whole number of seconds in 1..604800 — fix it in .env (default 1800)"
        in_range "$sleep_s" 0 3600 || die "WORKER_SLEEP=$sleep_s is not a whole number of seconds in 0..3600 — fix it in .env (default 5)"
        exec "$APP_BIN" php-cli bin/cake.php queue worker --max-runtime "$max_runtime" --sleep "$sleep_s" --verbose
        ;;
    scheduler)
        interval=${2:-1800}
        [ $# -le 2 ] || die "scheduler takes at most one argument, the interval in seconds (got: $*)"
        in_range "$interval" 1 86400 || die "scheduler: interval '$interval' is not a whole number of seconds in 1..86400 (default 1800)"
        validate
        scheduler "$interval"
        ;;
    php-cli)
        validate
        exec "$APP_BIN" "$@"
        ;;
    version | -*)
        exec "$APP_BIN" "$@"
        ;;
    *)
        exec "$@"
        ;;
esac
