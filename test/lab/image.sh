#!/usr/bin/env bash
# Builds the VM lab's Debian 12 base image (see /work/shared/LAB.md) and prints
# the directory holding base.raw, vmlinuz and initrd on stdout (logs go to
# stderr). The image is cached by a hash of its inputs (this script and the
# files under rootfs/), so a second run on the same machine only prints the path.
set -euo pipefail
# Files copied from rootfs/ get 0644/0755 whatever the checkout's modes were.
umask 022

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${SITEVPN_LAB_CACHE:-/var/cache/sitevpn-lab}
suite=bookworm
# nftables and dnsmasq-base are TestLabHubSpoke's NAT and DNS resolver
# (dnsmasq-base: the binary, no service).
packages=systemd,systemd-sysv,dbus,udev,kmod,linux-image-amd64,initramfs-tools,iproute2,wireguard-tools,bird2,iputils-ping,tcpdump,qemu-guest-agent,procps,openssh-server,python3,python3-apt,nftables,dnsmasq-base

log() { printf 'image.sh: %s\n' "$*" >&2; }

# Host tools: installed only when one is missing, so a cached run stays
# offline. Prometheus runs on the host in TestLabTopology's alerting scenario.
# SITEVPN_IMAGE_TOOLS=build: only the build's own (make check installs the
# lab's beside the build, and two apt-gets would race for dpkg's lock).
tools="qemu-system-x86_64 qemu-img debootstrap mkfs.ext4 socat prometheus"
tool_packages="qemu-system-x86 qemu-utils debootstrap e2fsprogs socat prometheus"
if [ "${SITEVPN_IMAGE_TOOLS:-}" = build ]; then
	tools="qemu-img debootstrap mkfs.ext4"
	tool_packages="qemu-utils debootstrap e2fsprogs"
fi
need_host_tools() {
	local c
	for c in $tools; do
		command -v "$c" >/dev/null || return 0
	done
	return 1
}
if need_host_tools; then
	log "installing host packages"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2
	# shellcheck disable=SC2086 # a list of package names
	apt-get install -y --no-install-recommends $tool_packages >&2
fi

hash=$( (
	cd "$here"
	sha256sum image.sh
	find rootfs -type f -print0 | sort -z | xargs -0 sha256sum
) | sha256sum | cut -c1-16)
out=$cache/$hash
if [ -f "$out/base.raw" ]; then
	touch "$out" 2>/dev/null || true # last use, for pruning below
	echo "$out"
	exit 0
fi

mkdir -p "$cache"
# One builder at a time; whoever waited finds the image the first one made.
exec 9>"$cache/.lock"
flock 9
if [ -f "$out/base.raw" ]; then
	echo "$out"
	exit 0
fi

# The Debian mirror this machine's own apt uses; never a name written here.
mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
	mirror=$(sed -E 's/\[[^]]*\]//' /etc/apt/sources.list | awk '$1=="deb"{print $2; exit}')
fi
[ -n "$mirror" ] || { log "no Debian mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"; exit 1; }

# Removes a build directory; never rm -rf through a live /proc or /sys: the
# chroot's mounts go first.
remove_build() {
	local m
	for m in sys proc; do
		if mountpoint -q "$1/rootfs/$m"; then umount -l "$1/rootfs/$m"; fi
	done
	rm -rf --one-file-system "$1"
}
# A build killed outright (SIGKILL) left its directory; we hold the lock, so
# no build is running in any of them.
for stale in "$cache"/.build.*; do
	if [ -d "$stale" ]; then log "removing stale $stale"; remove_build "$stale"; fi
done

tmp=$(mktemp -d "$cache/.build.$hash.XXXXXX")
rootfs=$tmp/rootfs
trap 'remove_build "$tmp"' EXIT
# bash skips the EXIT trap on a fatal signal unless the signal is trapped.
trap 'exit 130' INT TERM HUP

start=$SECONDS
log "debootstrap $suite from $mirror into $rootfs"
mkdir -p "$cache/debootstrap"
debootstrap --variant=minbase --cache-dir="$cache/debootstrap" --include="$packages" \
	"$suite" "$rootfs" "$mirror" >&2
log "debootstrap took $((SECONDS - start)) s"

# Not -a: existing directories (/etc) keep their modes, new files get the umask's.
cp -r "$here/rootfs/." "$rootfs/"
mkdir -p "$rootfs/mnt/host"
echo lab >"$rootfs/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$rootfs/etc/hosts"
# Each VM makes its own machine-id on first boot; the image ships none.
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id" "$rootfs"/etc/ssh/ssh_host_*

mount -t proc proc "$rootfs/proc"
mount -t sysfs sys "$rootfs/sys"
in_root() { chroot "$rootfs" "$@" >&2; }
in_root passwd -d root
in_root systemctl enable systemd-networkd lab-overlay.service
# wait-online would hold boot for links the lab may leave unconfigured;
# e2scrub_reap costs about 11 s of boot; the project's units start BIRD.
in_root systemctl mask systemd-networkd-wait-online.service e2scrub_reap.service
# The lab never logs in on a console, updates or trims: no timers (one
# firing mid-test costs an emulated guest seconds), no getty.
in_root systemctl mask apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
	e2scrub_all.timer fstrim.timer systemd-tmpfiles-clean.timer \
	getty@.service serial-getty@.service
in_root systemctl disable systemd-pstore.service systemd-network-generator.service
# Nor loads modules or mounts file systems it never uses: each unit costs
# an emulated boot a fork and an exec, and nine VMs boot on two cores.
in_root systemctl mask modprobe@fuse.service modprobe@dm_mod.service modprobe@drm.service \
	modprobe@loop.service modprobe@configfs.service systemd-binfmt.service \
	proc-sys-fs-binfmt_misc.automount dev-hugepages.mount dev-mqueue.mount \
	sys-kernel-debug.mount sys-kernel-tracing.mount sys-fs-fuse-connections.mount \
	sys-kernel-config.mount systemd-update-utmp.service systemd-update-utmp-runlevel.service
# Generators run at boot and at every daemon-reload (dpkg's maintainer
# scripts, sitevpn's applies): only fstab's is used (/mnt/host). A link
# to /dev/null in /etc disables one (systemd.generator(7)).
mkdir -p "$rootfs/etc/systemd/system-generators"
for g in "$rootfs"/lib/systemd/system-generators/*; do
	[ "${g##*/}" = systemd-fstab-generator ] || ln -sf /dev/null "$rootfs/etc/systemd/system-generators/${g##*/}"
done
in_root systemctl set-default multi-user.target
# ssh is for the Ansible test, which starts it: key generation alone took
# 11 s of CPU at every boot.
in_root systemctl disable bird.service ssh.service
in_root update-initramfs -u -k all
in_root apt-get clean
umount "$rootfs/sys" "$rootfs/proc"

cp "$rootfs"/boot/vmlinuz-* "$tmp/vmlinuz"
cp "$rootfs"/boot/initrd.img-* "$tmp/initrd"
# Writes the filesystem straight from the tree: no loop mount needed.
mkfs.ext4 -q -F -L root -d "$rootfs" "$tmp/base.raw" 2048M >&2
rm -rf --one-file-system "$rootfs"

# Atomic publish: a reader sees the whole image or none.
chmod 755 "$tmp"
mv -T "$tmp" "$out"
log "built $out in $((SECONDS - start)) s"
# Images of older inputs unused for 3 days: about 800 MB each.
find "$cache" -mindepth 1 -maxdepth 1 -type d -regex '.*/[0-9a-f]\{16\}' -mtime +3 \
	-exec rm -rf --one-file-system {} + >&2
echo "$out"
