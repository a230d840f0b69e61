#!/bin/sh
# sitevpn post-install: Debian postinst and RPM %post.
#   deb: $1 = configure (with $2 = the old version on upgrade), abort-upgrade,
#        abort-remove, abort-deconfigure
#   rpm: $1 = 1 on first install, 2 or more on upgrade
set -e

conf=/etc/sitevpn
key=$conf/private.key

case "$1" in
configure) if [ -n "$2" ]; then action=upgrade; else action=install; fi ;;
abort-upgrade | abort-remove | abort-deconfigure) action=upgrade ;;
1) action=install ;;
[2-9] | [1-9][0-9]*) action=upgrade ;;
*) action=install ;;
esac

# systemd is PID 1 (not a chroot, a container build, an image being
# made): the test sd_booted(3) and debhelper use.
booted() { [ -d /run/systemd/system ]; }

# The gateway's identity: made once, never replaced (genkey refuses to
# overwrite, and an upgrade must keep it).
if [ ! -e "$key" ]; then
	sitevpn genkey --out "$key"
	pub=$(sitevpn --config "$conf" pubkey </dev/null)
	cat <<MSG
sitevpn: created this gateway's WireGuard key $key (mode 0600).
sitevpn: its public key is
    $pub
sitevpn: put it as public_key of this gateway's block in the fleet
sitevpn: definition ($conf/*.hcl, the same files on every gateway; see
sitevpn: $conf/README and $conf/example.hcl.sample).
MSG
fi

if command -v deb-systemd-helper >/dev/null 2>&1; then
	# Debian: what dh_installsystemd does. deb-systemd-helper keeps an
	# administrator's "disable" across upgrades and works in a chroot;
	# deb-systemd-invoke honours policy-rc.d (image builds, containers).
	deb-systemd-helper unmask sitevpn.service >/dev/null || true
	if deb-systemd-helper --quiet was-enabled sitevpn.service; then
		deb-systemd-helper enable sitevpn.service >/dev/null || true
	else
		deb-systemd-helper update-state sitevpn.service >/dev/null || true
	fi
	if booted; then
		systemctl --system daemon-reload >/dev/null || true
		if [ "$action" = upgrade ]; then
			deb-systemd-invoke try-restart sitevpn.service >/dev/null || true
		else
			# The unit has ConditionPathExistsGlob=/etc/sitevpn/*.hcl:
			# without a fleet definition this start is a silent no-op,
			# and the service starts once a fleet file is there
			# (systemctl start sitevpn, or the next boot).
			deb-systemd-invoke start sitevpn.service >/dev/null || true
		fi
	fi
elif command -v systemctl >/dev/null 2>&1; then
	# RPM: what the %systemd_post and %systemd_postun_with_restart macros do
	# (enabling only makes symlinks: it works without systemd running).
	if [ "$action" = install ]; then
		systemctl --no-reload enable sitevpn.service >/dev/null 2>&1 || true
	fi
	if booted; then
		systemctl --system daemon-reload >/dev/null || true
		if [ "$action" = upgrade ]; then
			systemctl try-restart sitevpn.service || true
		else
			systemctl start sitevpn.service || true # a no-op without *.hcl, as above
		fi
	fi
fi
exit 0
