#!/bin/sh
# Prints the package version, valid for both Debian and RPM:
#   VERSION file (top level) if present, verbatim;
#   tag v1.2.3                  -> 1.2.3
#   tag v1.2.3-rc1              -> 1.2.3~rc1          (sorts before 1.2.3)
#   8 commits after v1.2.3      -> 1.2.3+git8.gabc1234
#   no tag at all               -> 0.0.0~git44.gabc1234 (44 = commits so far)
# Only digits, letters, ".", "+" and "~": no "-" (RPM forbids it in a
# version, Debian reads it as a revision) and a leading digit (Debian).
set -eu
top=$(dirname "$0")/..
if [ -s "$top/VERSION" ]; then
	tr -d ' \n' <"$top/VERSION"
	echo
	exit 0
fi
if d=$(git -C "$top" describe --tags 2>/dev/null); then
	d=${d#v}
	# X.Y.Z[-pre]-N-gHASH -> X.Y.Z[~pre]+gitN.gHASH
	echo "$d" | sed -E 's/-([0-9]+)-(g[0-9a-f]+)$/+git\1.\2/; s/-/~/g'
else
	echo "0.0.0~git$(git -C "$top" rev-list --count HEAD).g$(git -C "$top" rev-parse --short HEAD)"
fi
