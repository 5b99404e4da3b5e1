#!/bin/sh
# uninstall.sh — remove an installation made by helpers/install.sh.
#
# Usage:
#   sudo helpers/uninstall.sh [--prefix DIR] [--unit-dir DIR] [--purge] [--remove-user] [--dry-run]
#
#   --prefix DIR     installation directory (default: the directory this
#                    script is installed in, i.e. DIR/helpers/..)
#   --unit-dir DIR   where install.sh wrote the units (default /etc/systemd/system)
#   --purge          also delete DIR/.env (configuration and secrets)
#   --remove-user    also delete the service account named in the units
#   --dry-run        print what would be done; change nothing
#
# Stops and disables the services (when systemd is running and the default
# unit directory is used), removes the unit files that belong to DIR (their
# WorkingDirectory= is DIR; units of another installation are left alone),
# exactly the files listed in DIR/.install-manifest, then empty directories.
# DIR/.env is kept unless --purge is given. The service account is kept
# unless --remove-user is given. The application keeps no other data on the
# host.

set -eu
LC_ALL=C
export LC_ALL

PROG=uninstall
MANIFEST=.install-manifest
PREFIX=
UNIT_DIR=/etc/systemd/system
PURGE=0
REMOVE_USER=0
DRY_RUN=0
UNITS='orangescrum-queue.service orangescrum.service'

# shellcheck source=SCRIPTDIR/install-lib.sh
. "$(dirname "$0")/install-lib.sh"

usage() {
    sed -n '4,12s/^# \{0,1\}//p' "$0"
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
        --unit-dir)
            [ $# -ge 2 ] || die "--unit-dir needs a directory"
            UNIT_DIR=$2
            shift 2
            ;;
        --unit-dir=*)
            UNIT_DIR=${1#*=}
            shift
            ;;
        --purge)
            PURGE=1
            shift
            ;;
        --remove-user)
            REMOVE_USER=1
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

if [ -z "$PREFIX" ]; then
    PREFIX=$(cd "$(dirname "$0")/.." && pwd -P)
fi
PREFIX=${PREFIX%/}
UNIT_DIR=${UNIT_DIR%/}
check_dir_arg --prefix "$PREFIX"
check_dir_arg --unit-dir "$UNIT_DIR"
case $PREFIX in
    '' | /bin | /boot | /dev | /etc | /home | /lib | /lib64 | /opt | /proc | /root | /run | /sbin | /srv | /sys | /tmp | /usr | /usr/* | /var)
        die "refusing to uninstall from $PREFIX"
        ;;
esac
[ -f "$PREFIX/$MANIFEST" ] || die "$PREFIX/$MANIFEST not found: not an installation made by install.sh (nothing removed)"
if [ "$REMOVE_USER" -eq 1 ] && [ "$(id -u)" -ne 0 ] && [ "$DRY_RUN" -eq 0 ]; then
    die "--remove-user needs root"
fi

# --- services and units --------------------------------------------------------
# Only units rendered for this prefix are ours to remove.
OURS=
SVC_USER=
for unit in $UNITS; do
    [ -f "$UNIT_DIR/$unit" ] || continue
    if grep -qx "WorkingDirectory=$PREFIX" "$UNIT_DIR/$unit"; then
        OURS="$OURS $unit"
        if [ -z "$SVC_USER" ]; then
            SVC_USER=$(sed -n 's/^User=//p' "$UNIT_DIR/$unit" | head -n 1)
        fi
    else
        warn "$UNIT_DIR/$unit belongs to another installation (its WorkingDirectory= is not $PREFIX); left in place"
    fi
done

SYSTEMD=0
if [ "$UNIT_DIR" = /etc/systemd/system ] && [ -d /run/systemd/system ] &&
    command -v systemctl >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    SYSTEMD=1
fi
if [ "$SYSTEMD" -eq 1 ]; then
    for unit in $OURS; do
        run systemctl disable --now "$unit" || warn "could not stop/disable $unit"
    done
fi
for unit in $OURS; do
    run rm -f "$UNIT_DIR/$unit"
done
if [ "$SYSTEMD" -eq 1 ] && [ -n "$OURS" ]; then
    run systemctl daemon-reload
fi

# --- installed files -----------------------------------------------------------
NL='
'
DIRS=
while IFS= read -r rel; do
    case $rel in '' | /* | . | ./* | */./* | .. | ../* | */../* | */.. | .env | "$MANIFEST") continue ;; esac
    if [ -f "$PREFIX/$rel" ] || [ -L "$PREFIX/$rel" ]; then
        run rm -f "$PREFIX/$rel"
    fi
    dir=$rel
    while :; do
        case $dir in */*) dir=${dir%/*} ;; *) break ;; esac
        DIRS="$DIRS$NL$dir"
    done
done <"$PREFIX/$MANIFEST"

# Remove directories that are now empty; reverse order puts children before
# their parents. rmdir never removes a directory that still has content.
printf '%s\n' "$DIRS" | sort -ru | while IFS= read -r dir; do
    if [ -n "$dir" ] && [ -d "$PREFIX/$dir" ] && [ ! -L "$PREFIX/$dir" ]; then
        run rmdir "$PREFIX/$dir" 2>/dev/null || :
    fi
done
run rm -f "$PREFIX/$MANIFEST"

if [ -f "$PREFIX/.env" ] || [ -L "$PREFIX/.env" ]; then
    if [ "$PURGE" -eq 1 ]; then
        run rm -f "$PREFIX/.env"
    else
        say "kept $PREFIX/.env (configuration and secrets); delete it with --purge"
    fi
fi
if [ "$DRY_RUN" -eq 1 ]; then
    run rmdir "$PREFIX"
else
    rmdir "$PREFIX" 2>/dev/null || say "kept $PREFIX (not empty)"
fi

# --- service account -----------------------------------------------------------
if [ "$REMOVE_USER" -eq 1 ]; then
    if [ -z "$SVC_USER" ]; then
        warn "--remove-user: no unit of this installation names a user; nothing removed"
    elif ! id -u "$SVC_USER" >/dev/null 2>&1; then
        say "user $SVC_USER does not exist"
    elif [ "$(id -u "$SVC_USER")" -eq 0 ]; then
        warn "--remove-user: $SVC_USER has uid 0; not removed"
    else
        SVC_GROUP=$(id -gn "$SVC_USER")
        run userdel "$SVC_USER"
        # userdel removes a same-named primary group by itself on most systems.
        if [ "$DRY_RUN" -eq 0 ] && getent group "$SVC_GROUP" >/dev/null 2>&1 &&
            [ "$SVC_GROUP" = "$SVC_USER" ]; then
            groupdel "$SVC_GROUP" || warn "could not remove group $SVC_GROUP"
        fi
        SVC_USER=
    fi
fi

if [ "$DRY_RUN" -eq 1 ]; then
    say "dry run: nothing was changed"
else
    say "removed @@APP_NAME@@ from $PREFIX and $UNIT_DIR"
fi
if [ "$SYSTEMD" -eq 0 ] && [ "$UNIT_DIR" = /etc/systemd/system ] && [ -n "$OURS" ]; then
    echo "If the services were running, also run: systemctl disable --now$OURS; systemctl daemon-reload"
fi
if [ -n "$SVC_USER" ]; then
    echo "The service account is kept; remove it if nothing else uses it: userdel $SVC_USER"
fi
