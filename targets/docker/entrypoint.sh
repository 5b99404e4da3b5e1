#!/bin/sh
# entrypoint.sh — container entrypoint for @@APP_NAME@@ @@VERSION@@.
#
# Commands (the image's CMD is "php-server"):
#   php-server           validate the environment, then serve HTTP on
#                        0.0.0.0:@@HTTP_PORT@@
#   php-server ARGS...   validate, then run the binary's php-server with ARGS
#   queue-worker         validate, then run the queue worker
#   php-cli ARGS...      validate, then run a PHP CLI script of the application
#                        (e.g. php-cli bin/cake.php migrations migrate)
#   version              print the binary's version
#   -*                   options are passed to the binary
#   anything else        executed as given (e.g. sh for debugging)
#
# Configuration comes only from the container environment (docker compose
# env_file); no file is read or executed here. The binary is started with
# exec so it runs as PID 1 and receives SIGTERM from "docker stop" directly.

set -eu

APP_BIN=/app/@@BINARY_NAME@@
VALIDATOR=/app/helpers/validate-env.sh

log() {
    printf '%s\n' "entrypoint: $*" >&2
}

validate() {
    if [ ! -x "$APP_BIN" ]; then
        log "$APP_BIN is missing or not executable — rebuild the image from an unmodified package"
        exit 1
    fi
    probe=/tmp/.entrypoint-write-test.$$
    if (: >"$probe") 2>/dev/null; then
        rm -f "$probe"
    else
        log "/tmp is not writable — the application unpacks itself there; mount a tmpfs at /tmp (see docker-compose.yaml)"
        exit 1
    fi
    if ! "$VALIDATOR"; then
        log "refusing to start: the environment failed validation (ERROR lines above name each variable and its fix)."
        log "edit .env next to docker-compose.yaml, check it with: helpers/validate-env.sh --env-file .env"
        log "then recreate the container: docker compose up -d"
        exit 1
    fi
}

if [ $# -eq 0 ]; then
    set -- php-server
fi

case $1 in
    php-server)
        validate
        if [ $# -eq 1 ]; then
            exec "$APP_BIN" php-server -l "0.0.0.0:@@HTTP_PORT@@"
        fi
        exec "$APP_BIN" "$@"
        ;;
    queue-worker)
        validate
        exec "$APP_BIN" php-cli bin/cake.php queue worker
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
