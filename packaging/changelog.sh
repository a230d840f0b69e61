#!/bin/sh
# Prints a Debian changelog entry for a native package build of version $1
# by maintainer $2, dated from the last commit (so a rebuild of the same
# commit gives the same file).
set -eu
v=$1
m=$2
top=$(dirname "$0")/..
date=$(git -C "$top" log -1 --format=%cD 2>/dev/null || date -R)
commit=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
cat <<EOT
sitevpn ($v) unstable; urgency=medium

  * Package built from commit $commit. The project's history is its git
    log.

 -- $m  $date
EOT
