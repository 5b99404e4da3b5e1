#!/bin/sh
# queue-worker.sh — run the @@APP_NAME@@ @@VERSION@@ queue worker in the foreground with
# the package's .env loaded (checked and read, never executed).
#
# Usage: helpers/queue-worker.sh [--user NAME]
#
# Runs bin/cake.php queue worker --max-runtime WORKER_MAX_RUNTIME (default 1800)
# --sleep WORKER_SLEEP (default 5) --verbose; it exits after --max-runtime seconds (the
# systemd unit and compose restart it). As root it switches to the service account
# (--user NAME, default @@RUNTIME_USER@@). Details: helpers/cake.sh --help.

set -eu

case ${1-} in
    -h | --help)
        sed -n '2,10s/^# \{0,1\}//p' "$0"
        exit 0
        ;;
esac
exec "$(cd "$(dirname "$0")" && pwd -P)/cake.sh" --queue-worker "$@"
