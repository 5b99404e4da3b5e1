#!/bin/sh
# Builds the compose-go dotenv oracle for envcheck/tests/compose_v2_oracle.rs.
# Usage: build.sh COMPOSE_GO_GIT_DIR OUT_BINARY [TAG]
# COMPOSE_GO_GIT_DIR: a clone (or bare mirror) of github.com/compose-spec/compose-go.
# Needs git, tar and Go 1.19 or later; nothing is downloaded (logrus, the only other
# import of dotenv/ and template/, is replaced by a no-op Warnf).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 COMPOSE_GO_GIT_DIR OUT_BINARY [TAG]" >&2; exit 2; }
git_dir=$1
out=$2
tag=${3:-v2.11.0}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/cg" "$work/logrus" "$work/main"
git --git-dir="$git_dir" archive "$tag" dotenv template | tar -x -C "$work/cg"
rm -f "$work"/cg/dotenv/*_test.go "$work"/cg/template/*_test.go
rm -rf "$work/cg/dotenv/fixtures"
cat >"$work/cg/go.mod" <<'MOD'
module github.com/compose-spec/compose-go/v2

go 1.19

require github.com/sirupsen/logrus v1.0.0

replace github.com/sirupsen/logrus => ../logrus
MOD
printf 'module github.com/sirupsen/logrus\n\ngo 1.19\n' >"$work/logrus/go.mod"
printf 'package logrus\n\nfunc Warnf(string, ...interface{}) {}\n' >"$work/logrus/logrus.go"
cp "$here/main.go" "$work/main/main.go"
cat >"$work/main/go.mod" <<'MOD'
module oracle

go 1.19

require github.com/compose-spec/compose-go/v2 v2.0.0
require github.com/sirupsen/logrus v1.0.0

replace github.com/compose-spec/compose-go/v2 => ../cg
replace github.com/sirupsen/logrus => ../logrus
MOD
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
(cd "$work/main" && GOFLAGS=-mod=mod GOPROXY=off go build -o "$out" .)
echo "built $out from compose-go $tag"
