#!/bin/bash
# make package-test: checks the packages built by make package, without a
# VM. Installs what it needs (Debian 12): lintian, rpm, ansible,
# ansible-lint, systemd (systemd-analyze), prometheus (promtool).
set -euo pipefail
dist=${1:-dist}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
fail=0
step() { printf '\n== %s\n' "$*"; }
bad() { echo "FAIL: $*"; fail=1; }

step "tools"
missing=""
for t in lintian:lintian rpm:rpm ansible-playbook:ansible ansible-lint:ansible-lint systemd-analyze:systemd promtool:prometheus; do
	command -v "${t%%:*}" >/dev/null 2>&1 || missing="$missing ${t##*:}"
done
if [ -n "$missing" ]; then
	echo "installing$missing"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

deb=$(ls "$dist"/sitevpn_*_amd64.deb)
rpmf=$(ls "$dist"/sitevpn-*.x86_64.rpm)
v=$(packaging/version.sh)
[ "$deb" = "$dist/sitevpn_${v}_amd64.deb" ] || bad "deb name $deb, want $dist/sitevpn_${v}_amd64.deb"
[ "$rpmf" = "$dist/sitevpn-${v}.x86_64.rpm" ] || bad "rpm name $rpmf, want $dist/sitevpn-${v}.x86_64.rpm"

common="/usr/bin/sitevpn
/etc/sitevpn/example.hcl.sample
/etc/sitevpn/README
/usr/share/man/man8/sitevpn.8.gz
/usr/share/man/man8/sitevpn-validate.8.gz
/usr/share/bash-completion/completions/sitevpn
/usr/share/fish/vendor_completions.d/sitevpn.fish
/usr/share/doc/sitevpn/copyright
/usr/share/sitevpn/prometheus/sitevpn-alerts.yml"
want_deb="$common
/lib/systemd/system/sitevpn.service
/usr/share/zsh/vendor-completions/_sitevpn
/usr/share/lintian/overrides/sitevpn"
want_rpm="$common
/usr/lib/systemd/system/sitevpn.service
/usr/share/zsh/site-functions/_sitevpn"

step "dpkg-deb -c $deb"
got=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
for f in $want_deb; do grep -qx "$f" <<<"$got" && echo "ok $f" || bad "deb lacks $f"; done
if grep -q '^/etc/sitevpn/.*\.hcl$' <<<"$got"; then bad "deb ships a *.hcl the daemon would read"; fi
conf=$(dpkg-deb -I "$deb" conffiles)
for f in /etc/sitevpn/example.hcl.sample /etc/sitevpn/README; do grep -qx "$f" <<<"$conf" && echo "ok conffile $f" || bad "deb: $f is not a conffile"; done
ctl=$(dpkg-deb -f "$deb" Depends Recommends)
grep -q '^Depends: systemd, bird2, iproute2$' <<<"$ctl" || bad "deb Depends: $ctl"
grep -q '^Recommends: wireguard-tools$' <<<"$ctl" || bad "deb Recommends: $ctl"
echo "$ctl"
mode=$(dpkg-deb -c "$deb" | awk '$6=="./usr/bin/sitevpn"{print $1}')
[ "$mode" = "-rwxr-xr-x" ] || bad "deb /usr/bin/sitevpn mode $mode"

step "rpm -qlp $rpmf"
got=$(rpm -qlp "$rpmf" 2>/dev/null)
for f in $want_rpm; do grep -qx "$f" <<<"$got" && echo "ok $f" || bad "rpm lacks $f"; done
conf=$(rpm -qcp "$rpmf" 2>/dev/null)
for f in /etc/sitevpn/example.hcl.sample /etc/sitevpn/README; do grep -qx "$f" <<<"$conf" && echo "ok config $f" || bad "rpm: $f is not %config"; done
req=$(rpm -qp --requires "$rpmf" 2>/dev/null | grep -v '^rpmlib(' | sort | tr '\n' ' ')
[ "$req" = "bird iproute systemd " ] || bad "rpm Requires: $req"
rec=$(rpm -qp --recommends "$rpmf" 2>/dev/null)
[ "$rec" = "wireguard-tools" ] || bad "rpm Recommends: $rec"
echo "Requires: $req Recommends: $rec"

step "the binary runs, the example validates, the man page is section 8"
mkdir -p "$dist/check" && rm -rf "$dist/check/root" && mkdir "$dist/check/root"
dpkg-deb -x "$deb" "$dist/check/root"
[ "$(head -c 4 "$dist/check/root/usr/bin/sitevpn" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || bad "usr/bin/sitevpn is not an ELF binary"
"$dist/check/root/usr/bin/sitevpn" validate "$dist/check/root/etc/sitevpn/example.hcl.sample" || bad "the shipped example does not validate"
gzip -dc "$dist/check/root/usr/share/man/man8/sitevpn.8.gz" | grep -q '^\.TH "SITEVPN" "8"' || bad "sitevpn.8 is not a section 8 page"
rm -rf "$dist/check"

step "alert rules: promtool check rules, test rules; the exporter's output: check metrics; the graph from a real Prometheus"
(cd packaging/prometheus && promtool check rules sitevpn-alerts.yml && promtool test rules sitevpn-alerts_test.yml) || bad "the alert rules"
SITEVPN_PROMTOOL=1 go test -count=1 -run '^TestPromtoolCheckMetrics$' ./internal/daemon || bad "promtool check metrics on the exporter's output"
SITEVPN_PROMTOOL=1 go test -count=1 -run '^TestIntegrationPrometheus$' ./internal/graph || bad "sitevpn graph's health from a real Prometheus"

step "maintainer scripts (POSIX sh)"
for s in packaging/scripts/*.sh; do
	sh -n "$s" && echo "ok $s" || bad "$s: syntax"
	if command -v dash >/dev/null; then dash -n "$s" || bad "$s: dash syntax"; fi
done

step "lintian $deb"
# Errors fail; so do warnings not justified in packaging/lintian-overrides.
if lintian --fail-on error,warning --pedantic "$deb"; then echo "lintian: 0 errors, 0 warnings (overrides: packaging/lintian-overrides)"; else bad "lintian"; fi

step "unit exposure (systemd-analyze security --offline=true)"
SITEVPN_REQUIRE_TOOLS=1 go test -count=1 -v -run TestUnitExposure ./packaging | grep -E 'units/|v1-1/|^(ok|FAIL|---)' || bad "unit exposure"

step "ansible: syntax, lint, the fleet template rendered offline"
cd packaging/ansible
ansible-playbook --syntax-check -i inventory.example.yml site.yml || bad "site.yml syntax"
ANSIBLE_NOCOLOR=1 ansible-lint -q site.yml roles/sitevpn test/render.yml || bad "ansible-lint"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -o "$tmp/sitevpn" ../../cmd/sitevpn
mkdir -p "$tmp/fleet"
ansible-playbook -i inventory.example.yml -i test/keys.yml test/render.yml \
	-e out="$tmp/fleet" -e sitevpn="$tmp/sitevpn" >"$tmp/ansible.log" 2>&1 || { cat "$tmp/ansible.log"; bad "rendering the template"; }
"$tmp/sitevpn" validate "$tmp/fleet/fleet.hcl" || bad "sitevpn validate of the templated fleet"
# The example inventory is the example fleet: every gateway's rendered
# files must be the same from both.
for g in v1-1 v1-2 v2-1 v2-2 v3-1 v3-2; do
	"$tmp/sitevpn" --config "$tmp/fleet" --gateway "$g" render --out "$tmp/a/$g" >/dev/null
	"$tmp/sitevpn" --config ../../examples/article --gateway "$g" render --out "$tmp/b/$g" >/dev/null
	if diff -r "$tmp/a/$g" "$tmp/b/$g" >/dev/null; then echo "ok $g: templated fleet renders as examples/article"; else bad "$g: templated fleet renders differently"; diff -r "$tmp/a/$g" "$tmp/b/$g" | head -20; fi
done
# The hub-and-spoke example as an inventory: topology, hubs, a gateway
# without endpoint and a DNS endpoint through the template.
mkdir -p "$tmp/hs"
ansible-playbook -i test/hub-and-spoke.yml test/render.yml \
	-e out="$tmp/hs" -e sitevpn="$tmp/sitevpn" >"$tmp/ansible-hs.log" 2>&1 || { cat "$tmp/ansible-hs.log"; bad "rendering the template (hub-and-spoke)"; }
for g in h1-1 h1-2 h2-1 h2-2 s1-1 s2-1 s3-1 s4-1; do
	"$tmp/sitevpn" --config "$tmp/hs" --gateway "$g" render --out "$tmp/hs-a/$g" >/dev/null
	"$tmp/sitevpn" --config ../../examples/hub-and-spoke --gateway "$g" render --out "$tmp/hs-b/$g" >/dev/null
	if diff -r "$tmp/hs-a/$g" "$tmp/hs-b/$g" >/dev/null; then echo "ok $g: templated fleet renders as examples/hub-and-spoke"; else bad "$g: templated hub-and-spoke fleet renders differently"; diff -r "$tmp/hs-a/$g" "$tmp/hs-b/$g" | head -20; fi
done
cd "$top"

echo
if [ "$fail" = 0 ]; then echo "package-test: PASS"; else echo "package-test: FAIL"; exit 1; fi
