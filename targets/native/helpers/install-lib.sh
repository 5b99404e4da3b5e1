# Shared by helpers/install.sh and helpers/uninstall.sh (sourced, never run on its own):
# messages, the --dry-run runner and the path check. The caller sets PROG and DRY_RUN.
# shellcheck shell=sh

say() { printf '%s\n' "$PROG: $*"; }
warn() { printf '%s\n' "$PROG: WARNING: $*" >&2; }
die() {
    printf '%s\n' "$PROG: ERROR: $*" >&2
    exit 1
}

# run CMD ARGS...: execute, or only print it with --dry-run.
run() {
    if [ "$DRY_RUN" -eq 1 ]; then
        printf '[dry-run] %s\n' "$*"
    else
        "$@"
    fi
}

# check_dir_arg NAME VALUE: an absolute path made of safe characters only.
# (This also guarantees the value cannot contain a newline or the '|' used as
# the sed delimiter when the units are rendered.)
check_dir_arg() {
    case $2 in
        /*) ;;
        *) die "$1 must be an absolute path: $2" ;;
    esac
    case $2 in
        *[!A-Za-z0-9._/+-]*) die "$1 may only contain letters, digits and . _ / + - : $2" ;;
        */./* | */. | */../* | */.. | *//*) die "$1 must be a normalised path: $2" ;;
    esac
}
