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
#   --remove-user    also delete the service account (and its group) when
#                    install.sh created it (recorded in .install-manifest)
#   --dry-run        print what would be done; change nothing
#
# Stops and disables the services (when systemd is running and the default
# unit directory is used), removes the unit files that belong to DIR (the units
# the manifest lists whose WorkingDirectory= is exactly DIR, and their timers;
# units of another installation are left alone), exactly the files listed in
# DIR/.install-manifest, then empty directories. Nothing is removed when DIR
# or a directory above it could be changed by an account other than root, when
# the manifest is not root:root 0644, or when an entry leads through a
# symbolic link. DIR/.env is kept unless --purge is given. The service account
# is kept unless --remove-user is given; it is only removed when install.sh
# created it. The application keeps no other data on the host.

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

# shellcheck source=SCRIPTDIR/install-lib.sh
. "$(dirname "$0")/install-lib.sh"

usage() {
    sed -n '4,13s/^# \{0,1\}//p' "$0"
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
normalise_dir --prefix "$PREFIX"
PREFIX=$NORM
normalise_dir --unit-dir "$UNIT_DIR"
UNIT_DIR=$NORM
refused_dir "$PREFIX" && die "refusing to uninstall from $PREFIX"
[ -d "$PREFIX" ] || die "$PREFIX is not a directory (nothing removed)"
refused_dir "$(physical "$PREFIX")" && die "refusing to uninstall from $PREFIX (= $(physical "$PREFIX"))"
[ -e "$PREFIX/$MANIFEST" ] || [ -L "$PREFIX/$MANIFEST" ] ||
    die "$PREFIX/$MANIFEST not found: not an installation made by install.sh (nothing removed)"
if [ "$REMOVE_USER" -eq 1 ] && [ "$ME" -ne 0 ] && [ "$DRY_RUN" -eq 0 ]; then
    die "--remove-user needs root"
fi

# --- trust: nothing is touched unless only root could have changed it ---------
check_tree --prefix "$PREFIX"
check_tree --unit-dir "$UNIT_DIR"
check_manifest "$PREFIX/$MANIFEST"
LIST=$(grep -v '^#' "$PREFIX/$MANIFEST" || :)
while IFS= read -r rel; do
    case $rel in '' | /* | . | ./* | */./* | .. | ../* | */../* | */..) continue ;; esac
    check_entry "$PREFIX" "$rel"
done <<EOF
$LIST
EOF

# The units: those whose templates the manifest lists.
UNITS=$(printf '%s\n' "$LIST" | sed -n 's|^systemd/\([^/]*\.service\)$|\1|p; s|^systemd/\([^/]*\.timer\)$|\1|p')

# The service account and what install.sh recorded about creating it.
SVC_USER=$(record user "$PREFIX/$MANIFEST")
CREATED_USER=$(record created-user "$PREFIX/$MANIFEST")
CREATED_GROUP=$(record created-group "$PREFIX/$MANIFEST")

# --- services and units: which are ours -----------------------------------------
# Only units rendered for this prefix are ours to remove: a service whose
# WorkingDirectory= is exactly PREFIX (compared as a string, never as a
# pattern), and a timer whose service of the same name is ours.
OURS=
for unit in $UNITS; do
    case $unit in *.service) ;; *) continue ;; esac
    [ -f "$UNIT_DIR/$unit" ] || continue
    [ ! -L "$UNIT_DIR/$unit" ] || die "$UNIT_DIR/$unit is a symbolic link, not a unit written by install.sh; nothing removed. Remove it yourself"
    if grep -Fqx -- "WorkingDirectory=$PREFIX" "$UNIT_DIR/$unit"; then
        OURS="$OURS $unit"
        if [ -z "$SVC_USER" ]; then
            SVC_USER=$(sed -n 's/^User=//p' "$UNIT_DIR/$unit" | head -n 1)
        fi
    else
        warn "$UNIT_DIR/$unit belongs to another installation (its WorkingDirectory= is not $PREFIX); left in place"
    fi
done
for unit in $UNITS; do
    case $unit in *.timer) ;; *) continue ;; esac
    [ -f "$UNIT_DIR/$unit" ] || continue
    [ ! -L "$UNIT_DIR/$unit" ] || die "$UNIT_DIR/$unit is a symbolic link, not a unit written by install.sh; nothing removed. Remove it yourself"
    case "$OURS " in
        *" ${unit%.timer}.service "*) OURS=" $unit$OURS" ;;
        *) warn "$UNIT_DIR/$unit belongs to another installation (${unit%.timer}.service is not one of $PREFIX); left in place" ;;
    esac
done

# --remove-user: only an account install.sh created and recorded, with the
# same id today (a name can be reused by a later, unrelated account). Decided
# before anything is removed.
DEL_USER=
if [ "$REMOVE_USER" -eq 1 ]; then
    if [ -z "$SVC_USER" ]; then
        die "--remove-user: $PREFIX/$MANIFEST and the units name no service account; nothing removed. Run again without --remove-user"
    fi
    uid=$(getent passwd "$SVC_USER" 2>/dev/null | cut -d: -f3)
    comment=$(getent passwd "$SVC_USER" 2>/dev/null | cut -d: -f5)
    grp=
    [ -z "$uid" ] || grp=$(id -gn "$SVC_USER")
    # Created by install.sh for this directory: the manifest's record (same
    # name and uid), or the comment install.sh gave the account (it outlives
    # the manifest when an uninstall kept the account).
    BY_US=0
    if [ "${CREATED_USER% *}" = "$SVC_USER" ] && [ "${CREATED_USER#* }" = "$uid" ]; then
        BY_US=1
    elif [ -n "$uid" ] && [ "$comment" = "$(account_comment "$PREFIX" "")" ]; then
        BY_US=1
    elif [ -n "$uid" ] && [ "$comment" = "$(account_comment "$PREFIX" "$grp")" ]; then
        BY_US=1
        [ -n "$CREATED_GROUP" ] || CREATED_GROUP="$grp $(id -g "$SVC_USER")"
    fi
    if [ -z "$uid" ]; then
        say "user $SVC_USER does not exist"
    elif [ "$BY_US" -eq 0 ]; then
        die "--remove-user: account $SVC_USER (uid $uid) was not created by install.sh for $PREFIX (no '#created-user' record in $PREFIX/$MANIFEST, and its comment is not install.sh's) and may be used by something else; nothing removed. Run again without --remove-user, and delete the account yourself if nothing uses it"
    elif [ "$uid" -eq 0 ] || [ "$(id -g "$SVC_USER")" -eq 0 ]; then
        die "--remove-user: $SVC_USER has uid or primary gid 0; nothing removed"
    else
        DEL_USER=$SVC_USER
    fi
fi

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
    check_entry "$PREFIX" "$rel"
    if [ -f "$PREFIX/$rel" ] || [ -L "$PREFIX/$rel" ]; then
        run rm -f "$PREFIX/$rel"
    fi
    dir=$rel
    while :; do
        case $dir in */*) dir=${dir%/*} ;; *) break ;; esac
        DIRS="$DIRS$NL$dir"
    done
done <<EOF
$LIST
EOF

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
if [ -n "$DEL_USER" ]; then
    grp=$(id -gn "$DEL_USER")
    gid=$(id -g "$DEL_USER")
    run userdel "$DEL_USER"
    if [ "${CREATED_GROUP% *}" = "$grp" ] && [ "${CREATED_GROUP#* }" = "$gid" ]; then
        # install.sh created the group too (userdel often removes it itself).
        if [ "$DRY_RUN" -eq 1 ]; then
            run groupdel "$grp"
        elif getent group "$grp" >/dev/null 2>&1; then
            groupdel "$grp" || warn "could not remove group $grp"
        fi
    elif [ "$DRY_RUN" -eq 0 ] && ! getent group "$grp" >/dev/null 2>&1; then
        # The group existed before install.sh: userdel removes a same-named
        # primary group without members (USERGROUPS_ENAB), so put it back.
        groupadd --gid "$gid" "$grp" || warn "userdel removed group $grp (gid $gid), which install.sh did not create, and it could not be recreated: groupadd --gid $gid $grp"
        say "kept group $grp (it existed before install.sh)"
    else
        say "kept group $grp (it existed before install.sh)"
    fi
    SVC_USER=
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
