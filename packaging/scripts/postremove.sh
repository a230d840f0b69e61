#!/bin/sh
# sitevpn post-remove: Debian postrm and RPM %postun.
#   deb: $1 = remove, purge, upgrade, failed-upgrade, abort-install,
#        abort-upgrade, disappear
#   rpm: $1 = 0 when the package is erased, 1 or more on upgrade
#
# remove (deb): the binary is gone; the fleet definition, the key and what
#   sitevpn rendered stay (dpkg's "remove keeps configuration").
# purge (deb): also everything sitevpn rendered (the files its manifest
#   lists, its units, the private namespace or the VRF and its tunnels),
#   its state, and the key /etc/sitevpn/private.key. Fleet files written
#   by the operator (*.hcl) are not the package's and stay.
# erase (rpm, $1 = 0): RPM has no purge, so erasing cleans up what sitevpn
#   rendered as purge does, but keeps the key: it is the gateway's identity
#   in the fleet, and RPM keeps configuration the same way (.rpmsave).
set -e

state=/var/lib/sitevpn
manifest=$state/manifest.json
table=$state/tunnels.json
key=/etc/sitevpn/private.key

booted() { [ -d /run/systemd/system ]; }
have() { command -v "$1" >/dev/null 2>&1; }

# Debian: the service's enablement state, as dh_installsystemd does
# (remove: mask, so a leftover link cannot start it; purge: forget it).
if have deb-systemd-helper; then
	case "$1" in
	remove) deb-systemd-helper mask sitevpn.service >/dev/null || true ;;
	purge)
		deb-systemd-helper purge sitevpn.service >/dev/null || true
		deb-systemd-helper unmask sitevpn.service >/dev/null || true
		;;
	esac
fi

case "$1" in
purge) dropkey=yes ;;
0) dropkey=no ;;
*)
	if booted && have systemctl; then systemctl --system daemon-reload || true; fi
	exit 0
	;;
esac

stop_unit() {
	if have deb-systemd-invoke; then
		deb-systemd-invoke stop "$1" >/dev/null || true
	else
		systemctl stop "$1" || true # RPM
	fi
}

# The paths the manifest lists, one per line, relative to / (the manifest
# is sitevpn's indented JSON: one "path", per line).
owned() {
	[ -f "$manifest" ] || return 0
	sed -n 's/^[[:space:]]*"\([^"]*\)",\{0,1\}[[:space:]]*$/\1/p' "$manifest"
}

# Only what sitevpn renders is removed, whatever the manifest says.
removable() {
	case "$1" in
	*..*) return 1 ;;
	etc/systemd/network/50-sitevpn-* | etc/systemd/network/sitevpn.key) return 0 ;;
	etc/systemd/system/sitevpn-*.service) return 0 ;;
	etc/bird/sitevpn-*.conf) return 0 ;;
	var/lib/sitevpn/*) return 0 ;;
	esac
	return 1
}

# Rendered units: those in the manifest, plus any sitevpn-*.service that
# says it was rendered by sitevpn (a manifest lost or never written).
units=""
for p in $(owned); do
	case "$p" in etc/systemd/system/sitevpn-*.service) units="$units ${p##*/}" ;; esac
done
for f in /etc/systemd/system/sitevpn-*.service; do
	[ -f "$f" ] || continue
	if head -n 1 "$f" | grep -q '^# Rendered by sitevpn'; then
		case " $units " in *" ${f##*/} "*) ;; *) units="$units ${f##*/}" ;; esac
	fi
done

# The namespace or VRF and the tunnels, from the tunnel table.
isolation=$(sed -n 's/^  "isolation": "\([^"]*\)",*$/\1/p' "$table" 2>/dev/null || true)
namespace=$(sed -n 's/^  "namespace": "\([^"]*\)",*$/\1/p' "$table" 2>/dev/null || true)
links=$(sed -n 's/^ *"interface": "\(wg[0-9]*\)",*$/\1/p' "$table" 2>/dev/null || true)

# Rendered units are started by sitevpn, never enabled: stopping them is
# enough. BIRD first: it is bound to the namespace unit, whose stop deletes
# the namespace (and with it the tunnels inside).
if booted; then
	for u in $units; do case "$u" in sitevpn-bird-*) stop_unit "$u" ;; esac; done
	for u in $units; do stop_unit "$u"; done
fi

# Live network state exists only on a running system, never in a chroot.
if booted && have ip; then
	if [ "$isolation" = vrf ]; then
		for l in $links; do ip link delete "$l" 2>/dev/null || true; done
		if [ -n "$namespace" ] && ip -d link show "$namespace" 2>/dev/null | grep -qw vrf; then
			ip link delete "$namespace" || true
		fi
	elif [ -n "$namespace" ] && [ -e "/run/netns/$namespace" ]; then
		ip netns delete "$namespace" || true
	fi
fi

for p in $(owned); do
	if removable "$p"; then rm -f "/$p"; fi
done
for u in $units; do rm -f "/etc/systemd/system/$u"; done
rm -rf "$state" /run/sitevpn

if booted && have systemctl; then
	systemctl --system daemon-reload || true
	if have networkctl && [ -d /run/systemd/netif ]; then
		networkctl reload || true
	fi
fi

if [ "$dropkey" = yes ]; then
	rm -f "$key"
	rmdir /etc/sitevpn 2>/dev/null || true
else
	echo "sitevpn: kept this gateway's key $key (remove it by hand to retire the gateway)"
fi
exit 0
