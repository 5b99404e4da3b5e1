# Shared by helpers/install.sh and helpers/uninstall.sh (sourced, never run on its own):
# messages, the --dry-run runner, path normalisation and the trust checks on the
# installation directory and its manifest. The caller sets PROG and DRY_RUN.
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

# The account allowed to own what the scripts trust besides root: the caller
# (root for a real installation; a non-root caller can only hurt itself).
ME=$(id -u)

# normalise_dir NAME VALUE: sets NORM to VALUE as a normalised absolute path
# ('//', '.', '..' and trailing '/' resolved lexically), after checking that
# VALUE is absolute and made of safe characters only. The refused-directory
# checks run on the result, so '/etc//' or '/opt/x/..' cannot slip past them.
# (The character set also guarantees the value cannot contain a newline or the
# '|' used as the sed delimiter when the units are rendered.)
normalise_dir() {
    case $2 in
        /*) ;;
        *) die "$1 must be an absolute path: $2" ;;
    esac
    case $2 in
        *[!A-Za-z0-9._/+-]*) die "$1 may only contain letters, digits and . _ / + - : $2" ;;
    esac
    NORM=
    old_ifs=$IFS
    IFS=/
    set -f
    for c in $2; do
        case $c in
            '' | .) ;;
            ..) NORM=${NORM%/*} ;;
            *) NORM=$NORM/$c ;;
        esac
    done
    set +f
    IFS=$old_ifs
    [ -n "$NORM" ] || NORM=/
}

# refused_dir DIR: true for the system directories (and the virtual file
# systems) that must never be an installation directory.
refused_dir() {
    case $1 in
        / | /bin | /boot | /dev | /etc | /home | /lib | /lib32 | /lib64 | /libx32 | /media | /mnt | /opt | /proc | /root | /run | /sbin | /srv | /sys | /tmp | /usr | /var | /var/tmp | /var/lib | /var/log)
            return 0
            ;;
        /usr/* | /proc/* | /sys/* | /dev/* | /run/* | /boot/*) return 0 ;;
    esac
    return 1
}

# physical DIR: DIR with every symbolic link resolved (DIR must exist).
physical() {
    (cd -P "$1" 2>/dev/null && pwd -P) || die "cannot resolve $1"
}

# trusted_dir LABEL DIR STICKY_OK: DIR (an existing path) is a directory owned
# by root (or the caller) and writable by nobody else. With STICKY_OK=1 a
# world-writable directory is accepted when its sticky bit is set (like /tmp):
# nobody else can then rename or delete the root-owned entry below it.
trusted_dir() {
    [ -d "$2" ] || die "$1: $2 is not a directory"
    # shellcheck disable=SC2046 # two numbers from stat, split on purpose
    set -- "$1" "$2" "$3" $(stat -L -c '%u %a' "$2")
    if [ "$4" -ne 0 ] && [ "$4" -ne "$ME" ]; then
        die "$1: $2 is owned by uid $4, not root; another account could replace what is installed (chown root:root $2, or choose another directory)"
    fi
    if [ $((0$5 & 022)) -ne 0 ] && { [ "$3" -eq 0 ] || [ $((0$5 & 01000)) -eq 0 ]; }; then
        die "$1: $2 (mode $5) is writable by group or others; another account could replace what is installed (chmod go-w $2, or choose another directory)"
    fi
}

# check_tree LABEL DIR: DIR (when it exists) and every directory above it, as
# written and with symbolic links resolved, pass trusted_dir: only root can
# change what DIR contains or which directory DIR is. Only DIR itself must not
# be world-writable even with the sticky bit. A caller that then creates DIR
# checks again afterwards (someone may have created it first).
check_tree() {
    d=$2
    sticky=0
    while :; do
        if [ -L "$d" ] && [ ! -e "$d" ]; then
            die "$1: $d is a dangling symbolic link"
        fi
        if [ -e "$d" ]; then
            trusted_dir "$1" "$d" "$sticky"
            if [ -L "$d" ]; then
                # Where the link leads, and the directories above that.
                p=$(physical "$d")
                ps=$sticky
                while :; do
                    trusted_dir "$1" "$p" "$ps"
                    ps=1
                    [ "$p" != / ] || break
                    p=${p%/*}
                    [ -n "$p" ] || p=/
                done
            fi
        fi
        sticky=1
        [ "$d" != / ] || break
        d=${d%/*}
        [ -n "$d" ] || d=/
    done
}

# check_manifest FILE: FILE is a regular file owned by root:root (or the
# caller) with mode 0644; anything else may have been written by someone else.
check_manifest() {
    [ ! -L "$1" ] || die "$1 is a symbolic link; refusing to trust it (an installation made by install.sh has a regular file, root:root 0644)"
    [ -f "$1" ] || die "$1 is not a regular file"
    # shellcheck disable=SC2046 # three numbers from stat, split on purpose
    set -- "$1" $(stat -c '%u %g %a' "$1")
    if { [ "$2" -ne 0 ] && [ "$2" -ne "$ME" ]; } || { [ "$ME" -eq 0 ] && [ "$3" -ne 0 ]; } || [ "$4" != 644 ]; then
        die "$1 is uid:gid $2:$3 mode $4, not root:root 0644; it may have been written by another account, so nothing it lists is touched. Check the installation directory, then fix it (chown root:root, chmod 0644) or remove it"
    fi
}

# check_entry PREFIX REL: every directory between PREFIX and the file REL is a
# real directory (no symbolic link, so REL cannot resolve outside PREFIX)
# owned by root and writable by nobody else. Missing directories are fine.
check_entry() {
    d=$2
    while :; do
        case $d in */*) d=${d%/*} ;; *) break ;; esac
        if [ -L "$1/$d" ]; then
            die "$1/$d is a symbolic link (to $(readlink "$1/$d" || :)): $2 would resolve outside $1; nothing was changed. Remove the link and run again"
        fi
        if [ -d "$1/$d" ]; then
            trusted_dir "$2" "$1/$d" 0
        fi
    done
}

# MANIFEST lines starting with '#' are records, not files (file names never
# start with '#'):
#   #user NAME             the service account the units run as
#   #created-user NAME UID an account install.sh created (uninstall --remove-user)
#   #created-group NAME GID a group install.sh created
# record KEY FILE: the rest of the first '#KEY ' line of FILE (empty if none).
record() {
    sed -n "s/^#$1 //p" "$2" | head -n 1
}

# account_comment PREFIX GROUP: the comment (GECOS) install.sh gives an account
# it creates; GROUP is the group it created too, or empty. The comment is the
# record that outlives the manifest (an uninstall without --remove-user, a run
# that stopped early): only root can set it on another account.
account_comment() {
    if [ -n "$2" ]; then
        printf '%s\n' "@@APP_NAME@@ service account created by install.sh for $1 with group $2"
    else
        printf '%s\n' "@@APP_NAME@@ service account created by install.sh for $1"
    fi
}
