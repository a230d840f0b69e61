#!/bin/sh
# sitevpn pre-remove: Debian prerm and RPM %preun.
#   deb: $1 = remove, upgrade, deconfigure, failed-upgrade
#   rpm: $1 = 0 when the package is erased, 1 or more on upgrade
set -e

case "$1" in
remove | deconfigure | 0) ;;
*) exit 0 ;; # upgrade: the new package's post-install restarts it
esac

if [ -d /run/systemd/system ]; then
	if command -v deb-systemd-invoke >/dev/null 2>&1; then
		deb-systemd-invoke stop sitevpn.service >/dev/null || true
	else
		systemctl stop sitevpn.service || true # RPM
	fi
fi
if [ "$1" = 0 ] && command -v systemctl >/dev/null 2>&1; then
	systemctl --no-reload disable sitevpn.service >/dev/null 2>&1 || true # RPM (%systemd_preun)
fi
exit 0
