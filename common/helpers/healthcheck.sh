#!/bin/sh
# healthcheck.sh — probe the @@APP_NAME@@ health endpoint; exit 0 healthy, 1 not.
#
# Usage: healthcheck.sh [--url URL] [--timeout SECONDS] [--quiet]
#
# Default URL: http://HOST:PORT/home/healthcheck where PORT is $APP_PORT
# (default @@HTTP_PORT@@) and HOST is $APP_BIND_IP, or 127.0.0.1 when that is
# unset or a wildcard address. In the native package, when neither is set in
# the environment, both come from the package's .env (checked and read by
# helpers/validate-env.sh --print-env, never executed). For the Docker package
# run it on the host (APP_BIND_IP/APP_PORT are the published address) or pass
# --url.
# Uses curl when installed, otherwise wget (busybox wget works).

set -u

PROG=healthcheck
TIMEOUT=5
QUIET=0
URL=

while [ $# -gt 0 ]; do
    case $1 in
        --url)
            [ $# -ge 2 ] || {
                echo "$PROG: --url needs a value" >&2
                exit 2
            }
            URL=$2
            shift 2
            ;;
        --timeout)
            [ $# -ge 2 ] || {
                echo "$PROG: --timeout needs a value" >&2
                exit 2
            }
            TIMEOUT=$2
            shift 2
            ;;
        --quiet | -q)
            QUIET=1
            shift
            ;;
        -h | --help)
            sed -n '2,13s/^# \{0,1\}//p' "$0"
            exit 0
            ;;
        *)
            echo "$PROG: unknown argument: $1" >&2
            exit 2
            ;;
    esac
done

case $TIMEOUT in
    '' | *[!0-9]* | 0)
        echo "$PROG: --timeout must be a positive whole number of seconds" >&2
        exit 2
        ;;
esac

# Native package (run-native.sh beside helpers/): the address the server was
# started with is in .env when the caller's environment has none.
here=$(cd "$(dirname "$0")" && pwd -P)
if [ -z "$URL" ] && [ -z "${APP_BIND_IP+1}${APP_PORT+1}" ] &&
    [ -f "$here/../run-native.sh" ] && [ -r "$here/../.env" ]; then
    if values=$(sh "$here/validate-env.sh" --env-file "$here/../.env" --print-env --quiet 2>/dev/null); then
        while IFS= read -r line; do
            case $line in
                APP_BIND_IP=*) APP_BIND_IP=${line#*=} ;;
                APP_PORT=*) APP_PORT=${line#*=} ;;
            esac
        done <<EOF
$values
EOF
    fi
fi

if [ -z "$URL" ]; then
    host=${APP_BIND_IP:-127.0.0.1}
    case $host in
        0.0.0.0) host=127.0.0.1 ;;
        :: | '[::]') host='[::1]' ;;
        \[*\]) ;;
        *:*) host="[$host]" ;;
    esac
    URL="http://$host:${APP_PORT:-@@HTTP_PORT@@}/home/healthcheck"
fi

if command -v curl >/dev/null 2>&1; then
    curl -fsS -o /dev/null --max-time "$TIMEOUT" "$URL" 2>/dev/null
    rc=$?
elif command -v wget >/dev/null 2>&1; then
    # timeout(1) rather than wget -T: some busybox builds crash on -T
    if command -v timeout >/dev/null 2>&1; then
        timeout "$TIMEOUT" wget -q -O /dev/null "$URL" 2>/dev/null
    else
        wget -q -O /dev/null "$URL" 2>/dev/null
    fi
    rc=$?
else
    echo "$PROG: neither curl nor wget is installed" >&2
    exit 1
fi

if [ "$rc" -eq 0 ]; then
    [ "$QUIET" -eq 1 ] || echo "$PROG: healthy ($URL)"
    exit 0
fi
[ "$QUIET" -eq 1 ] || echo "$PROG: UNHEALTHY ($URL)" >&2
exit 1
