#!/bin/sh
# install.sh — install the @@APP_NAME@@ @@VERSION@@ native package as systemd services.
#
# Usage:
#   sudo helpers/install.sh --prefix DIR [--user NAME] [--unit-dir DIR] [--dry-run]
#
#   --prefix DIR     installation directory, e.g. /opt/@@APP_NAME@@ (required)
#   --user NAME      service account (default @@RUNTIME_USER@@); created as a
#                    system user without home or login shell if missing
#   --unit-dir DIR   where the unit files go (default /etc/systemd/system)
#   --dry-run        print what would be done; change nothing
#
# What it does:
#   1. verifies the package against SHA256SUMS (when the file is present)
#   2. creates the service user/group (as root, when missing)
#   3. copies the package to DIR, root-owned and read-only for the service;
#      never copies a .env and never touches an existing DIR/.env except to
#      set its owner root:GROUP and mode 0640 (the service may only read it)
#   4. writes orangescrum.service and orangescrum-queue.service into the
#      unit directory with the paths and the user filled in
#   5. prints the systemctl commands to run next (it does not start anything)
# Running it again with the same arguments changes nothing; running it from
# a newer package upgrades the files (files the old version had and the new
# one lacks are removed, as listed in DIR/.install-manifest).

set -eu
LC_ALL=C
export LC_ALL
umask 022

PROG=install
MANIFEST=.install-manifest
PREFIX=
SVC_USER=@@RUNTIME_USER@@
UNIT_DIR=/etc/systemd/system
DRY_RUN=0

PKG_DIR=$(cd "$(dirname "$0")/.." && pwd -P)

say() { printf '%s\n' "$PROG: $*"; }
warn() { printf '%s\n' "$PROG: WARNING: $*" >&2; }
die() {
    printf '%s\n' "$PROG: ERROR: $*" >&2
    exit 1
}

usage() {
    sed -n '4,11s/^# \{0,1\}//p' "$0"
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

while [ $# -gt 0 ]; do
    case $1 in
        --prefix)
            [ $# -ge 2 ] || die "--prefix needs a directory"
            PREFIX=$2
            shift 2
            ;;
        --prefix=*)
            PREFIX=${1#*=}
            shift
            ;;
        --user)
            [ $# -ge 2 ] || die "--user needs a name"
            SVC_USER=$2
            shift 2
            ;;
        --user=*)
            SVC_USER=${1#*=}
            shift
            ;;
        --unit-dir)
            [ $# -ge 2 ] || die "--unit-dir needs a directory"
            UNIT_DIR=$2
            shift 2
            ;;
        --unit-dir=*)
            UNIT_DIR=${1#*=}
            shift
            ;;
        --dry-run)
            DRY_RUN=1
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            usage >&2
            die "unknown argument: $1"
            ;;
    esac
done

[ -n "$PREFIX" ] || {
    usage >&2
    die "--prefix is required"
}
PREFIX=${PREFIX%/}
UNIT_DIR=${UNIT_DIR%/}
check_dir_arg --prefix "$PREFIX"
check_dir_arg --unit-dir "$UNIT_DIR"
case $PREFIX in
    '' | /bin | /boot | /dev | /etc | /home | /lib | /lib64 | /opt | /proc | /root | /run | /sbin | /srv | /sys | /tmp | /usr | /usr/* | /var)
        die "refusing to install into $PREFIX; use a dedicated directory such as /opt/@@APP_NAME@@"
        ;;
    /home/* | /root/* | /tmp/* | /var/tmp/*)
        warn "$PREFIX is hidden from the services (ProtectHome=/PrivateTmp=); use e.g. /opt/@@APP_NAME@@ for a real installation"
        ;;
esac
case $SVC_USER in
    '' | [!a-z_]* | *[!a-z0-9_-]*) die "--user must match ^[a-z_][a-z0-9_-]*\$: $SVC_USER" ;;
esac
[ "${#SVC_USER}" -le 32 ] || die "--user is longer than 32 characters"

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1
if [ "$IS_ROOT" -eq 0 ] && [ "$DRY_RUN" -eq 0 ]; then
    warn "not running as root: no user is created and ownership is not changed"
fi

[ -x "$PKG_DIR/bin/@@NATIVE_BINARY@@" ] || die "$PKG_DIR/bin/@@NATIVE_BINARY@@ is missing or not executable; is this an unpacked native package?"
set -- "$PKG_DIR"/systemd/*.service
[ -f "$1" ] || die "no unit files in $PKG_DIR/systemd"

# --- 1. integrity --------------------------------------------------------------
if [ -f "$PKG_DIR/SHA256SUMS" ]; then
    command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found (coreutils) but SHA256SUMS is present"
    if ! (cd "$PKG_DIR" && sha256sum -c --quiet SHA256SUMS); then
        die "package does not match SHA256SUMS (damaged or modified); re-download it"
    fi
    say "package verified against SHA256SUMS"
else
    warn "no SHA256SUMS in $PKG_DIR; integrity not verified"
fi

# --- 2. service user -----------------------------------------------------------
if id -u "$SVC_USER" >/dev/null 2>&1; then
    SVC_GROUP=$(id -gn "$SVC_USER")
else
    SVC_GROUP=$SVC_USER
    if [ "$IS_ROOT" -eq 1 ] || [ "$DRY_RUN" -eq 1 ]; then
        if ! getent group "$SVC_GROUP" >/dev/null 2>&1; then
            run groupadd --system "$SVC_GROUP"
        fi
        run useradd --system --no-create-home --shell /usr/sbin/nologin \
            --home-dir /nonexistent --gid "$SVC_GROUP" "$SVC_USER"
    else
        warn "user $SVC_USER does not exist; create it as root before starting the services"
    fi
fi
say "service user: $SVC_USER, group: $SVC_GROUP"

# --- 3. files ------------------------------------------------------------------
own() { # own MODE PATH: set mode, and root:root ownership when root
    run chmod "$1" "$2"
    if [ "$IS_ROOT" -eq 1 ]; then
        run chown root:root "$2"
    fi
}

NL='
'
if [ -n "$(cd "$PKG_DIR" && find . -name "*$NL*" -print)" ]; then
    die "a file name in the package contains a newline; refusing to install"
fi
# Relative paths of every package file except a local .env.
NEW_LIST=$(cd "$PKG_DIR" && find . -type f ! -path ./.env ! -path "./$MANIFEST" | sed 's|^\./||' | sort)
NEW_DIRS=$(printf '%s\n' "$NEW_LIST" | sed -n 's|/[^/]*$||p' | sort -u)

IN_PLACE=0
if [ -d "$PREFIX" ] && [ "$(cd "$PREFIX" && pwd -P)" = "$PKG_DIR" ]; then
    IN_PLACE=1
    say "installing in place ($PREFIX is the package directory)"
fi

if [ ! -d "$PREFIX" ]; then
    run mkdir -p "$PREFIX"
fi
own 0755 "$PREFIX"

# Files of a previous installation that this package no longer has.
if [ -f "$PREFIX/$MANIFEST" ] && [ "$IN_PLACE" -eq 0 ]; then
    while IFS= read -r old; do
        case $old in '' | /* | ../* | */../* | */..) continue ;; esac
        case "$NL$NEW_LIST$NL" in
            *"$NL$old$NL"*) ;;
            *)
                if [ -f "$PREFIX/$old" ]; then
                    run rm -f "$PREFIX/$old"
                fi
                ;;
        esac
    done <"$PREFIX/$MANIFEST"
fi

# Directories (sorted, so parents come first): root-owned 0755.
while IFS= read -r rel; do
    [ -n "$rel" ] || continue
    if [ ! -d "$PREFIX/$rel" ]; then
        run mkdir -p "$PREFIX/$rel"
    fi
    own 0755 "$PREFIX/$rel"
done <<EOF
$NEW_DIRS
EOF

# Files: copied only when different (a re-run changes nothing); root-owned,
# 0755 for executables, 0644 otherwise.
while IFS= read -r rel; do
    [ -n "$rel" ] || continue
    src=$PKG_DIR/$rel
    dst=$PREFIX/$rel
    if [ -x "$src" ]; then mode=0755; else mode=0644; fi
    if [ "$IN_PLACE" -eq 0 ] && ! cmp -s "$src" "$dst" 2>/dev/null; then
        # copy next to the target, then rename: replacing a running binary
        # in place would fail with "Text file busy"
        run cp -p "$src" "$dst.new.$$"
        run mv -f "$dst.new.$$" "$dst"
    fi
    own "$mode" "$dst"
done <<EOF
$NEW_LIST
EOF

if [ "$DRY_RUN" -eq 1 ]; then
    printf '[dry-run] write %s (list of installed files)\n' "$PREFIX/$MANIFEST"
elif [ ! -f "$PREFIX/$MANIFEST" ] || [ "$(cat "$PREFIX/$MANIFEST")" != "$NEW_LIST" ]; then
    printf '%s\n' "$NEW_LIST" >"$PREFIX/$MANIFEST"
fi
if [ -f "$PREFIX/$MANIFEST" ]; then
    own 0644 "$PREFIX/$MANIFEST"
fi

# .env: never copied, never overwritten; only owner and mode are enforced.
ENV_MISSING=0
if [ -f "$PREFIX/.env" ]; then
    run chmod 0640 "$PREFIX/.env"
    if [ "$IS_ROOT" -eq 1 ]; then
        run chown "root:$SVC_GROUP" "$PREFIX/.env"
    fi
    say "kept existing $PREFIX/.env (owner root:$SVC_GROUP, mode 0640)"
else
    ENV_MISSING=1
fi

# --- 4. systemd units ----------------------------------------------------------
if [ ! -d "$UNIT_DIR" ]; then
    run mkdir -p "$UNIT_DIR"
fi
UNITS=
for unit in "$PKG_DIR"/systemd/*.service; do
    name=${unit##*/}
    UNITS="$UNITS $name"
    dst=$UNIT_DIR/$name
    if [ "$DRY_RUN" -eq 1 ]; then
        printf '[dry-run] render %s -> %s (prefix %s, user %s, group %s)\n' \
            "systemd/$name" "$dst" "$PREFIX" "$SVC_USER" "$SVC_GROUP"
        continue
    fi
    tmp=$(mktemp)
    sed -e "s|@@PREFIX@@|$PREFIX|g" \
        -e "s|@@SERVICE_USER@@|$SVC_USER|g" \
        -e "s|@@SERVICE_GROUP@@|$SVC_GROUP|g" "$unit" >"$tmp"
    if grep -q '@@[A-Z_]*@@' "$tmp"; then
        rm -f "$tmp"
        die "unsubstituted placeholder left in $name; the package is incomplete"
    fi
    if ! cmp -s "$tmp" "$dst" 2>/dev/null; then
        cp "$tmp" "$dst"
        say "wrote $dst"
    fi
    rm -f "$tmp"
    own 0644 "$dst"
done

# --- 5. next steps -------------------------------------------------------------
echo
if [ "$DRY_RUN" -eq 1 ]; then
    say "dry run: nothing was changed"
else
    say "installed @@APP_NAME@@ @@VERSION@@ into $PREFIX"
fi
if [ "$ENV_MISSING" -eq 1 ]; then
    echo
    echo "Create the configuration (the services refuse to start without it):"
    echo "  install -m 0640 -o root -g $SVC_GROUP $PREFIX/.env.example $PREFIX/.env"
    echo "  $PREFIX/helpers/generate-secrets.sh --fill $PREFIX/.env"
    echo "  \$EDITOR $PREFIX/.env"
    echo "  $PREFIX/helpers/validate-env.sh --env-file $PREFIX/.env"
fi
echo
echo "Then enable and start the services:"
echo "  systemctl daemon-reload"
echo "  systemctl enable$UNITS"
echo "  systemctl start$UNITS"
echo "  systemctl status$UNITS"
if [ "$UNIT_DIR" != /etc/systemd/system ]; then
    echo "(units were written to $UNIT_DIR; systemd only reads them from its unit search path)"
fi
