#!/bin/sh
# cake.sh — run a CakePHP console command of @@APP_NAME@@ @@VERSION@@ with the
# package's .env loaded (checked and read, never executed).
#
# Usage:
#   helpers/cake.sh [--user NAME] COMMAND [ARGS...]   e.g. helpers/cake.sh migrations status
#   helpers/cake.sh [--user NAME] --queue-worker      run the queue worker in the foreground
#                                                     (what helpers/queue-worker.sh does)
#
# Native package: runs `run-native.sh php-cli bin/cake.php COMMAND ARGS...` (or
# `run-native.sh queue-worker`), which loads .env through helpers/validate-env.sh and gives
# PHP the package's php.ini. Run as root, it first switches to the service account
# (--user NAME, default @@RUNTIME_USER@@: the account install.sh created) with setpriv and a
# clean environment; run-native.sh itself refuses root.
# Docker package: runs the same in a one-off container of the app service, which reads
# .env through compose's env_file (docker compose run --rm --no-deps orangescrum-app ...).
# Exit status: the command's own.

set -eu

prog=cake
here=$(cd "$(dirname "$0")" && pwd -P)
pkg=${here%/*}
user=@@RUNTIME_USER@@
user_given=0
worker=0

die() {
    printf '%s\n' "$prog: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case $1 in
        --user)
            [ $# -ge 2 ] || die "--user needs an account name"
            user=$2 user_given=1
            shift 2
            ;;
        --user=*)
            user=${1#--user=} user_given=1
            shift
            ;;
        --queue-worker)
            worker=1
            shift
            ;;
        -h | --help)
            sed -n '2,18s/^# \{0,1\}//p' "$0"
            exit 0
            ;;
        --)
            shift
            break
            ;;
        *) break ;;
    esac
done

if [ "$worker" -eq 1 ]; then
    [ $# -eq 0 ] || die "--queue-worker takes no arguments (set WORKER_MAX_RUNTIME/WORKER_SLEEP in .env)"
elif [ $# -eq 0 ]; then
    die "name a cake command, e.g. $0 migrations status (--help for more)"
fi

if [ -f "$pkg/run-native.sh" ]; then
    if [ "$worker" -eq 1 ]; then
        set -- "$pkg/run-native.sh" queue-worker
    else
        set -- "$pkg/run-native.sh" php-cli bin/cake.php "$@"
    fi
    if [ "$(id -u)" -ne 0 ]; then
        if [ "$user_given" -eq 1 ] && [ "$user" != "$(id -un)" ]; then
            die "only root can switch to --user $user; run this as root or as $user"
        fi
        exec "$@"
    fi
    uid=$(id -u "$user" 2>/dev/null) ||
        die "the service account $user does not exist; name the account the services run as with --user NAME (the User= of the installed units)"
    gid=$(id -g "$user")
    [ "$uid" -ne 0 ] || die "--user $user has uid 0; name the unprivileged service account"
    command -v setpriv >/dev/null 2>&1 ||
        die "setpriv (util-linux) is needed to switch to $user: apt-get install util-linux, or run this as $user"
    exec setpriv --reuid="$uid" --regid="$gid" --init-groups --reset-env -- "$@"
fi

if [ -f "$pkg/docker-compose.yaml" ]; then
    if [ "$worker" -eq 1 ]; then
        set -- queue-worker
    else
        set -- php-cli bin/cake.php "$@"
    fi
    cd "$pkg"
    if docker compose version >/dev/null 2>&1; then
        exec docker compose run --rm --no-deps orangescrum-app "$@"
    fi
    command -v docker-compose >/dev/null 2>&1 ||
        die "neither 'docker compose' nor docker-compose is installed"
    exec docker-compose run --rm --no-deps orangescrum-app "$@"
fi

die "$pkg holds neither run-native.sh nor docker-compose.yaml: run this from an extracted or installed package"
