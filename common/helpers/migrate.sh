#!/bin/sh
# migrate.sh BINARY: the database steps to run before the web server takes traffic, once per
# deployment (the Docker `migrate` service, the native orangescrum-migrate.service, or
# `run-native.sh migrate`). The caller has loaded the environment already; this script never
# reads a .env file.
#
#   1. wait up to DB_WAIT_TIMEOUT seconds (default 60) for DB_HOST:DB_PORT;
#   2. unless SKIP_MIGRATIONS is set (non-empty, not 0/false): bin/cake.php migrations
#      migrate, then migrations migrate -p PLUGIN for each plugin that has migrations;
#   3. seeding: RUN_SEEDERS=true forces it, RUN_SEEDERS=false or SKIP_SEEDERS=true skips it,
#      auto (default) seeds when the actions table is empty or missing:
#      config/schema/pg_config_1.sql, bin/cake.php migrations seed (SQLSTATE 23505 means
#      already seeded), config/schema/pg_config_2.sql.
# With migrations skipped and seeding off there is nothing to do: it exits 0 at once,
# without waiting for the database.
#
# Exits non-zero, after printing the failing command's output, on any failure.
# Commands run from /, so the binary resolves bin/... inside its embedded app.
set -eu

PROG=migrate.sh

say() { printf '%s: %s\n' "$PROG" "$*"; }
die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}

[ "$#" -eq 1 ] || die "usage: $PROG PATH-TO-BINARY (the application binary of this package)"
BIN=$1
[ -x "$BIN" ] || die "$BIN is not an executable file; pass the path of the application binary"

cd / || die "cannot change into /"

# Docker secrets: the password may come from a file; the console reads DB_PASSWORD.
if [ -n "${DB_PASSWORD_FILE:-}" ]; then
    [ -r "$DB_PASSWORD_FILE" ] || die "DB_PASSWORD_FILE=$DB_PASSWORD_FILE is not readable; fix the path or unset it"
    DB_PASSWORD=$(cat "$DB_PASSWORD_FILE") || die "cannot read DB_PASSWORD_FILE=$DB_PASSWORD_FILE"
    export DB_PASSWORD
fi

case ${SKIP_MIGRATIONS:-} in
    '' | 0 | false | FALSE | False) skip_migrations=false ;;
    *) skip_migrations=true ;;
esac

case ${RUN_SEEDERS:-auto} in
    true) seeding=true ;;
    false) seeding=false ;;
    auto | '') seeding=auto ;;
    *) die "RUN_SEEDERS=${RUN_SEEDERS} is not one of true, false, auto" ;;
esac
if [ "$seeding" = auto ] && [ "${SKIP_SEEDERS:-}" = true ]; then
    seeding=false
fi

# Runs BIN ARGS (ARGS start with php-cli), showing its output; stops on failure.
run() {
    say "running: $*"
    if ! "$BIN" "$@"; then
        die "'$*' failed (its output is above)"
    fi
}

# Runs BIN ARGS for an SQL file of the app; a duplicate key means it was applied before.
run_sql() {
    say "running: $*"
    status=0
    "$BIN" "$@" || status=$?
    case $status in
        0) ;;
        3) say "already applied (SQLSTATE 23505): $*" ;;
        *) die "'$*' failed (its output is above)" ;;
    esac
}

# The plugins (folders under the app's plugins/) that have migrations, one per line.
list_plugins() {
    "$BIN" php-cli bin/db-lifecycle.php plugins
}

seed() {
    "$BIN" php-cli bin/cake.php migrations seed
}

if [ "$skip_migrations" = true ] && [ "$seeding" = false ]; then
    say "SKIP_MIGRATIONS=${SKIP_MIGRATIONS} and seeding disabled: nothing to do"
    exit 0
fi

run php-cli bin/db-lifecycle.php wait

if [ "$skip_migrations" = true ]; then
    say "SKIP_MIGRATIONS=${SKIP_MIGRATIONS}: migrations skipped"
else
    run php-cli bin/cake.php migrations migrate
    plugins=$(list_plugins) || die "cannot list the app's plugins (output above)"
    for plugin in $plugins; do
        run php-cli bin/cake.php migrations migrate -p "$plugin"
    done
fi

if [ "$seeding" = auto ]; then
    status=0
    "$BIN" php-cli bin/db-lifecycle.php seed-needed || status=$?
    case $status in
        0) seeding=true ;;
        1) seeding=false ;;
        *) die "cannot tell whether the database needs seeding (output above)" ;;
    esac
fi

if [ "$seeding" = false ]; then
    say "seeding skipped (RUN_SEEDERS=${RUN_SEEDERS:-auto}, SKIP_SEEDERS=${SKIP_SEEDERS:-})"
    say "done"
    exit 0
fi

run_sql php-cli bin/db-lifecycle.php sql config/schema/pg_config_1.sql

say "running: the seeders"
status=0
output=$(seed 2>&1) || status=$?
printf '%s\n' "$output"
if [ "$status" -ne 0 ]; then
    case $output in
        *23505*) say "seed data is already there (SQLSTATE 23505): nothing to seed" ;;
        *) die "the seeders failed (exit $status; their output is above)" ;;
    esac
fi

run_sql php-cli bin/db-lifecycle.php sql config/schema/pg_config_2.sql
say "done"
