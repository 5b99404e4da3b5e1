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
#   1. verifies the package against SHA256SUMS (required); nothing is changed
#      when a file is missing or modified
#   2. refuses an installation directory (or a directory above it) that an
#      account other than root could change, an .install-manifest that is
#      not root:root 0644, and manifest entries that lead through symbolic
#      links; refuses a service account with uid 0 or primary group gid 0
#   3. creates the service user/group (as root, when missing) and records
#      that it did, in DIR/.install-manifest and in the account's comment
#      (only such accounts are removed by uninstall.sh --remove-user)
#   4. copies exactly the files listed in SHA256SUMS (and SHA256SUMS) to DIR:
#      root-owned, 0755 for executables, 0644 otherwise, directories 0755;
#      then checks the copies against SHA256SUMS. The service account owns
#      nothing there and can write nowhere in DIR (the services only write to
#      their private /tmp). A .env is never copied and an existing DIR/.env is
#      never overwritten; only its owner root:GROUP and mode 0640 are enforced
#      (the service group may read it, not change it)
#   5. writes the units of the package's systemd/ folder listed in SHA256SUMS
#      (*.service, *.timer; root, 0644) into the unit directory with the
#      paths and the user filled in
#   6. prints the systemctl commands to run next (it does not start anything)
# Running it again with the same arguments changes nothing; running it from
# a newer package upgrades the files (files the old version had and the new
# one lacks are removed, as listed in DIR/.install-manifest).

set -eu
LC_ALL=C
export LC_ALL
umask 022

PROG=install
MANIFEST=.install-manifest
SUMS=SHA256SUMS
PREFIX=
SVC_USER=@@RUNTIME_USER@@
UNIT_DIR=/etc/systemd/system
DRY_RUN=0

PKG_DIR=$(cd "$(dirname "$0")/.." && pwd -P)

# The install-time placeholders of the unit templates, spelled so that this
# script contains none itself (not even the marker): after an installation the
# only files with placeholders are the templates in DIR/systemd/.
AT=@
AT=$AT$AT
PH_PREFIX=${AT}PREFIX${AT}
PH_USER=${AT}SERVICE_USER${AT}
PH_GROUP=${AT}SERVICE_GROUP${AT}

# A temporary file to remove if the script stops early.
CLEANUP=
trap 'if [ -n "$CLEANUP" ]; then rm -f "$CLEANUP"; fi' EXIT

# shellcheck source=SCRIPTDIR/install-lib.sh
. "$(dirname "$0")/install-lib.sh"

usage() {
    sed -n '4,11s/^# \{0,1\}//p' "$0"
}

# check_name WHAT NAME: a portable user/group name (also safe in sed and units).
check_name() {
    case $2 in
        '' | [!a-z_]* | *[!a-z0-9_-]*) die "$1 must match ^[a-z_][a-z0-9_-]*\$: $2" ;;
    esac
    [ "${#2}" -le 32 ] || die "$1 is longer than 32 characters: $2"
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
normalise_dir --prefix "$PREFIX"
PREFIX=$NORM
normalise_dir --unit-dir "$UNIT_DIR"
UNIT_DIR=$NORM
refuse_prefix() {
    die "refusing to install into $1; use a dedicated directory such as /opt/@@APP_NAME@@"
}
refused_dir "$PREFIX" && refuse_prefix "$PREFIX"
if [ -d "$PREFIX" ]; then
    refused_dir "$(physical "$PREFIX")" && refuse_prefix "$PREFIX (= $(physical "$PREFIX"))"
fi
case $PREFIX in
    /home/* | /root/* | /tmp/* | /var/tmp/*)
        warn "$PREFIX is hidden from the services (ProtectHome=/PrivateTmp=); use e.g. /opt/@@APP_NAME@@ for a real installation"
        ;;
esac
check_name --user "$SVC_USER"

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1
if [ "$IS_ROOT" -eq 0 ] && [ "$DRY_RUN" -eq 0 ]; then
    warn "not running as root: no user is created and ownership is not changed"
fi

[ -x "$PKG_DIR/bin/@@NATIVE_BINARY@@" ] || die "$PKG_DIR/bin/@@NATIVE_BINARY@@ is missing or not executable; is this an unpacked native package?"

# --- 1. integrity --------------------------------------------------------------
[ -f "$PKG_DIR/$SUMS" ] || die "$PKG_DIR/$SUMS is missing; is this a complete native package? (download it again)"
command -v sha256sum >/dev/null 2>&1 || die "sha256sum not found; install coreutils"
# check_sums DIR: DIR's files match DIR/SHA256SUMS; the lines that do not are
# printed. (No --quiet/--strict: BusyBox's sha256sum has neither; malformed
# lines are refused by the parser below.)
check_sums() {
    if sums_out=$(cd "$1" && sha256sum -c "$SUMS" 2>&1); then
        return 0
    fi
    printf '%s\n' "$sums_out" | grep -v ': OK$' >&2 || :
    return 1
}
if ! check_sums "$PKG_DIR"; then
    die "package does not match $SUMS (damaged or modified); download it again"
fi
say "package verified against $SUMS"

# The files to install: exactly those listed in SHA256SUMS, plus the list
# itself. Anything else in the package directory (a local .env, notes, editor
# backups) is not copied.
NL='
'
NEW_LIST=
while IFS= read -r line || [ -n "$line" ]; do
    # "<64 hex digits><space><space or *><relative path>"
    rel=${line#????????????????????????????????????????????????????????????????}
    hash=${line%"$rel"}
    case $hash in '' | *[!0-9a-f]*) die "$SUMS: unexpected line: $line" ;; esac
    case $rel in
        '  '?* | ' *'?*) rel=${rel#??} ;;
        *) die "$SUMS: unexpected line: $line" ;;
    esac
    case $rel in
        /* | *[!A-Za-z0-9._/+-]* | . | ./* | */. | */./* | .. | ../* | */.. | */../* | *//* | */)
            die "$SUMS: refusing to install a file named '$rel'"
            ;;
        .env | "$MANIFEST" | "$SUMS") die "$SUMS must not list $rel" ;;
    esac
    NEW_LIST="$NEW_LIST$rel$NL"
done <"$PKG_DIR/$SUMS"
[ -n "$NEW_LIST" ] || die "$SUMS lists no files"
NEW_LIST=$(printf '%s%s\n' "$NEW_LIST" "$SUMS" | sort -u)
# Every directory the files need, parents before children.
NEW_DIRS=$(printf '%s\n' "$NEW_LIST" | awk -F/ '{ p = $1; for (i = 2; i <= NF; i++) { print p; p = p "/" $i } }' | sort -u)
# The units: the *.service and *.timer templates among the verified files.
UNIT_FILES=$(printf '%s\n' "$NEW_LIST" | sed -n 's|^systemd/\([^/]*\.service\)$|\1|p; s|^systemd/\([^/]*\.timer\)$|\1|p')
[ -n "$UNIT_FILES" ] || die "$SUMS lists no unit files (systemd/*.service); is this a native package?"

# --- 2. trust: who else could change the installation directory? ---------------
# Everything below runs as root and deletes what .install-manifest lists: the
# directory, the directories above it and the manifest must be root's alone,
# and no entry may lead through a symbolic link out of the directory.
check_tree --prefix "$PREFIX"
check_tree --unit-dir "$UNIT_DIR"

IN_PLACE=0
if [ -d "$PREFIX" ] && [ "$(physical "$PREFIX")" = "$PKG_DIR" ]; then
    IN_PLACE=1
fi

OLD_LIST=
OLD_CREATED_USER=
OLD_CREATED_GROUP=
if [ -e "$PREFIX/$MANIFEST" ] || [ -L "$PREFIX/$MANIFEST" ]; then
    check_manifest "$PREFIX/$MANIFEST"
    OLD_LIST=$(grep -v '^#' "$PREFIX/$MANIFEST" || :)
    OLD_CREATED_USER=$(record created-user "$PREFIX/$MANIFEST")
    OLD_CREATED_GROUP=$(record created-group "$PREFIX/$MANIFEST")
fi
while IFS= read -r rel; do
    case $rel in '' | /* | . | ./* | */./* | .. | ../* | */../* | */..) continue ;; esac
    check_entry "$PREFIX" "$rel"
done <<LIST
$OLD_LIST
$NEW_LIST
LIST

# --- 3. service user -----------------------------------------------------------
# getent_id DB NAME: the numeric id of NAME in passwd/group, empty if none.
getent_id() {
    getent "$1" "$2" 2>/dev/null | cut -d: -f3
}
CREATE_USER=0
CREATE_GROUP=0
if id -u "$SVC_USER" >/dev/null 2>&1; then
    [ "$(id -u "$SVC_USER")" -ne 0 ] || die "--user $SVC_USER has uid 0; the services must not run as root. Choose another account (or omit --user)"
    [ "$(id -g "$SVC_USER")" -ne 0 ] || die "--user $SVC_USER has primary group gid 0 ($(id -gn "$SVC_USER")); the services would run with root's group. Choose another account, or change its primary group (usermod -g)"
    SVC_GROUP=$(id -gn "$SVC_USER")
    check_name "the primary group of $SVC_USER" "$SVC_GROUP"
else
    SVC_GROUP=$SVC_USER
    gid=$(getent_id group "$SVC_GROUP")
    if [ -n "$gid" ] && [ "$gid" -eq 0 ]; then
        die "group $SVC_GROUP has gid 0 (root's group); the account --user $SVC_USER would get it as its primary group. Choose another name"
    fi
    if [ "$IS_ROOT" -eq 1 ] || [ "$DRY_RUN" -eq 1 ]; then
        CREATE_USER=1
        [ -n "$gid" ] || CREATE_GROUP=1
    else
        warn "user $SVC_USER does not exist; create it as root before starting the services"
    fi
fi

# Records of accounts an earlier run created, kept while they still describe
# the same account (same name and id) and this installation still uses it.
KEEP_CREATED_USER=
KEEP_CREATED_GROUP=
if [ -n "$OLD_CREATED_USER" ]; then
    if [ "${OLD_CREATED_USER% *}" = "$SVC_USER" ] && [ "$(getent_id passwd "$SVC_USER")" = "${OLD_CREATED_USER#* }" ]; then
        KEEP_CREATED_USER=$OLD_CREATED_USER
    elif [ "${OLD_CREATED_USER% *}" != "$SVC_USER" ]; then
        warn "account ${OLD_CREATED_USER% *} was created by an earlier install.sh and is no longer used by $PREFIX; remove it if nothing else uses it: userdel ${OLD_CREATED_USER% *}"
    fi
fi
if [ -n "$OLD_CREATED_GROUP" ] && [ "${OLD_CREATED_GROUP% *}" = "$SVC_GROUP" ] &&
    [ "$(getent_id group "$SVC_GROUP")" = "${OLD_CREATED_GROUP#* }" ]; then
    KEEP_CREATED_GROUP=$OLD_CREATED_GROUP
fi

# manifest_text LIST: the manifest for this installation with the file LIST.
manifest_text() {
    printf '#user %s\n' "$SVC_USER"
    [ -z "$KEEP_CREATED_USER" ] || printf '#created-user %s\n' "$KEEP_CREATED_USER"
    [ -z "$KEEP_CREATED_GROUP" ] || printf '#created-group %s\n' "$KEEP_CREATED_GROUP"
    [ -z "$1" ] || printf '%s\n' "$1"
}

# write_manifest LIST: replaces DIR/.install-manifest (root:root 0644) when its
# content differs; --dry-run only reports it.
write_manifest() {
    if [ -f "$PREFIX/$MANIFEST" ] && [ "$(cat "$PREFIX/$MANIFEST")" = "$(manifest_text "$1")" ]; then
        return 0
    fi
    if [ "$DRY_RUN" -eq 1 ]; then
        printf '[dry-run] write %s (list of installed files)\n' "$PREFIX/$MANIFEST"
        return 0
    fi
    tmp=$PREFIX/.install-manifest.new.$$
    CLEANUP=$tmp
    rm -f "$tmp"
    manifest_text "$1" >"$tmp"
    if [ "$IS_ROOT" -eq 1 ]; then chown root:root "$tmp"; fi
    chmod 0644 "$tmp"
    mv -f "$tmp" "$PREFIX/$MANIFEST"
    CLEANUP=
}

# --- 4. files ------------------------------------------------------------------
# own MODE OWNER PATH: give PATH this mode and, when running as root, this
# user:group; only what differs is changed (and printed by --dry-run). A path
# that does not exist yet in a dry run was already reported as created.
own() {
    if [ ! -e "$3" ]; then
        [ "$DRY_RUN" -eq 1 ] && return 0
        die "$3 vanished during the installation"
    fi
    cur=$(stat -c '%a %U:%G' "$3")
    if [ "${cur%% *}" != "${1#0}" ]; then
        run chmod "$1" "$3"
    fi
    if [ "$IS_ROOT" -eq 1 ] && [ "${cur#* }" != "$2" ]; then
        run chown "$2" "$3"
    fi
}

# no_symlink PATH: chmod, chown and cmp would follow a symbolic link planted in
# the installation directory to a file elsewhere.
no_symlink() {
    if [ -L "$1" ]; then
        die "$1 is a symbolic link; remove it and run install.sh again"
    fi
}

if [ "$IN_PLACE" -eq 1 ]; then
    say "installing in place ($PREFIX is the package directory)"
fi

if [ ! -d "$PREFIX" ]; then
    run mkdir -p "$PREFIX"
    # Someone may have created a directory on the way first.
    [ "$DRY_RUN" -eq 1 ] || check_tree --prefix "$PREFIX"
fi
own 0755 root:root "$PREFIX"

# The service account, recorded in the manifest right away (with the files
# of the previous installation, which are still in place), so a run that stops
# later still lets uninstall.sh --remove-user know that install.sh created it.
if [ "$CREATE_USER" -eq 1 ]; then
    if [ "$CREATE_GROUP" -eq 1 ]; then
        run groupadd --system "$SVC_GROUP"
        [ "$DRY_RUN" -eq 1 ] || KEEP_CREATED_GROUP="$SVC_GROUP $(getent_id group "$SVC_GROUP")"
    fi
    if [ "$CREATE_GROUP" -eq 1 ]; then
        comment=$(account_comment "$PREFIX" "$SVC_GROUP")
    else
        comment=$(account_comment "$PREFIX" "")
    fi
    run useradd --system --no-create-home --shell /usr/sbin/nologin \
        --home-dir /nonexistent --comment "$comment" --gid "$SVC_GROUP" "$SVC_USER"
    [ "$DRY_RUN" -eq 1 ] || KEEP_CREATED_USER="$SVC_USER $(getent_id passwd "$SVC_USER")"
    if [ "$DRY_RUN" -eq 0 ] && [ "$IN_PLACE" -eq 0 ]; then
        write_manifest "$OLD_LIST"
    fi
fi
say "service user: $SVC_USER, group: $SVC_GROUP"

# Files of a previous installation that this package no longer has, then
# their directories if that left them empty.
if [ -n "$OLD_LIST" ] && [ "$IN_PLACE" -eq 0 ]; then
    STALE_DIRS=
    while IFS= read -r old; do
        case $old in '' | /* | . | ./* | */./* | .. | ../* | */../* | */.. | .env | "$MANIFEST") continue ;; esac
        case "$NL$NEW_LIST$NL" in
            *"$NL$old$NL"*) ;;
            *)
                if [ -f "$PREFIX/$old" ] || [ -L "$PREFIX/$old" ]; then
                    run rm -f "$PREFIX/$old"
                fi
                dir=$old
                while :; do
                    case $dir in */*) dir=${dir%/*} ;; *) break ;; esac
                    STALE_DIRS="$STALE_DIRS$NL$dir"
                done
                ;;
        esac
    done <<LIST
$OLD_LIST
LIST
    # Children sort after their parents, so reverse order removes them first;
    # rmdir never removes a directory that still has content.
    printf '%s\n' "$STALE_DIRS" | sort -ru | while IFS= read -r dir; do
        if [ -n "$dir" ] && [ -d "$PREFIX/$dir" ] && [ ! -L "$PREFIX/$dir" ]; then
            run rmdir "$PREFIX/$dir" 2>/dev/null || :
        fi
    done
fi

# Directories (sorted, so parents come first): root-owned 0755.
while IFS= read -r rel; do
    [ -n "$rel" ] || continue
    no_symlink "$PREFIX/$rel"
    if [ ! -d "$PREFIX/$rel" ]; then
        run mkdir "$PREFIX/$rel"
    fi
    own 0755 root:root "$PREFIX/$rel"
done <<EOF_DIRS
$NEW_DIRS
EOF_DIRS

# Files: copied only when different (a re-run changes nothing); root-owned,
# 0755 for executables, 0644 otherwise.
while IFS= read -r rel; do
    [ -n "$rel" ] || continue
    src=$PKG_DIR/$rel
    dst=$PREFIX/$rel
    no_symlink "$dst"
    if [ -x "$src" ]; then mode=0755; else mode=0644; fi
    if [ "$IN_PLACE" -eq 1 ] || cmp -s "$src" "$dst" 2>/dev/null; then
        own "$mode" root:root "$dst"
    elif [ "$DRY_RUN" -eq 1 ]; then
        printf '[dry-run] copy %s -> %s (mode %s)\n' "$rel" "$dst" "$mode"
    else
        # Copy next to the target with the final owner and mode, then rename:
        # replacing a running binary in place would fail with "Text file
        # busy", and the copy is never owned by whoever unpacked the package.
        new=$dst.new.$$
        CLEANUP=$new
        rm -f "$new"
        cp "$src" "$new"
        touch -r "$src" "$new"
        own "$mode" root:root "$new"
        mv -f "$new" "$dst"
        CLEANUP=
    fi
done <<EOF_FILES
$NEW_LIST
EOF_FILES

write_manifest "$NEW_LIST"
own 0644 root:root "$PREFIX/$MANIFEST"

# The copies must match too (a full disk or a concurrent change shows here).
if [ "$DRY_RUN" -eq 0 ] && [ "$IN_PLACE" -eq 0 ]; then
    if ! check_sums "$PREFIX"; then
        die "the files installed in $PREFIX do not match $SUMS; check the disk and run install.sh again"
    fi
    say "installed files verified against $SUMS"
fi

# .env: never copied, never overwritten; only owner and mode are enforced.
ENV_MISSING=0
if [ -L "$PREFIX/.env" ]; then
    warn "$PREFIX/.env is a symbolic link; left as it is (its target should be root:$SVC_GROUP, mode 0640)"
elif [ -f "$PREFIX/.env" ]; then
    own 0640 "root:$SVC_GROUP" "$PREFIX/.env"
    say "kept existing $PREFIX/.env (owner root:$SVC_GROUP, mode 0640)"
elif [ -e "$PREFIX/.env" ]; then
    die "$PREFIX/.env exists but is not a regular file"
else
    ENV_MISSING=1
fi

# --- 5. systemd units ----------------------------------------------------------
if [ ! -d "$UNIT_DIR" ]; then
    run mkdir -p "$UNIT_DIR"
fi
# render_unit TEMPLATE: the unit with the installation's values on stdout.
render_unit() {
    sed -e "s|$PH_PREFIX|$PREFIX|g" \
        -e "s|$PH_USER|$SVC_USER|g" \
        -e "s|$PH_GROUP|$SVC_GROUP|g" "$1"
}
# Enabled and started: the units with an [Install] section, except services a
# timer of the same name starts (they run when the timer fires, not at boot);
# services first, then timers. Units without [Install] (the migration) run
# because another unit requires them.
UNITS=
ENABLE=
ENABLE_TIMERS=
for name in $UNIT_FILES; do
    unit=$PKG_DIR/systemd/$name
    UNITS="$UNITS $name"
    if grep -q '^\[Install\]' "$unit"; then
        case $name in
            *.timer) ENABLE_TIMERS="$ENABLE_TIMERS $name" ;;
            *)
                case "$NL$UNIT_FILES$NL" in
                    *"$NL${name%.service}.timer$NL"*) ;;
                    *) ENABLE="$ENABLE $name" ;;
                esac
                ;;
        esac
    fi
    dst=$UNIT_DIR/$name
    no_symlink "$dst"
    if [ "$DRY_RUN" -eq 1 ]; then
        if ! render_unit "$unit" | cmp -s - "$dst" 2>/dev/null; then
            printf '[dry-run] render %s -> %s (prefix %s, user %s, group %s)\n' \
                "systemd/$name" "$dst" "$PREFIX" "$SVC_USER" "$SVC_GROUP"
        elif [ -f "$dst" ]; then
            own 0644 root:root "$dst"
        fi
        continue
    fi
    # Rendered next to the target, then renamed into place (umask 022: 0644).
    tmp=$UNIT_DIR/.$name.new.$$
    CLEANUP=$tmp
    rm -f "$tmp"
    render_unit "$unit" >"$tmp"
    if grep -q "${AT}[A-Z_]*${AT}" "$tmp"; then
        die "unsubstituted placeholder left in $name; the package is incomplete"
    fi
    if cmp -s "$tmp" "$dst" 2>/dev/null; then
        rm -f "$tmp"
    else
        own 0644 root:root "$tmp"
        mv -f "$tmp" "$dst"
        say "wrote $dst"
    fi
    CLEANUP=
    own 0644 root:root "$dst"
done

# Units an earlier version installed for this directory that this one no
# longer has: left to the operator (install.sh never stops a service), but named.
STALE_UNITS=
for name in $(printf '%s\n' "$OLD_LIST" | sed -n 's|^systemd/\([^/]*\.service\)$|\1|p; s|^systemd/\([^/]*\.timer\)$|\1|p'); do
    case "$NL$UNIT_FILES$NL" in *"$NL$name$NL"*) continue ;; esac
    if [ ! -f "$UNIT_DIR/$name" ] || [ -L "$UNIT_DIR/$name" ]; then
        continue
    fi
    case $name in
        *.timer) svc=${name%.timer}.service ;;
        *) svc=$name ;;
    esac
    if [ -f "$UNIT_DIR/$svc" ] && grep -Fqx -- "WorkingDirectory=$PREFIX" "$UNIT_DIR/$svc"; then
        STALE_UNITS="$STALE_UNITS $name"
    fi
done

# --- 6. next steps -------------------------------------------------------------
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
ENABLE=$ENABLE$ENABLE_TIMERS
echo "Then enable and start the services:"
echo "  systemctl daemon-reload"
echo "  systemctl enable$ENABLE"
echo "  systemctl start$ENABLE"
echo "  systemctl status$UNITS"
if [ "$UNIT_DIR" != /etc/systemd/system ]; then
    echo "(units were written to $UNIT_DIR; systemd only reads them from its unit search path)"
fi
if [ -n "$STALE_UNITS" ]; then
    echo
    warn "this version no longer has$STALE_UNITS; stop and remove them:"
    echo "  systemctl disable --now$STALE_UNITS"
    for name in $STALE_UNITS; do
        echo "  rm $UNIT_DIR/$name"
    done
    echo "  systemctl daemon-reload"
fi
