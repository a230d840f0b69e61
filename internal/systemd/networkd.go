package systemd

import (
	"context"

	"github.com/godbus/dbus/v5"
)

// networkd's bus API (org.freedesktop.network1(5)).
const (
	networkdName   = "org.freedesktop.network1"
	networkdPath   = dbus.ObjectPath("/org/freedesktop/network1")
	networkdReload = "org.freedesktop.network1.Manager.Reload"
)

// ReloadNetworkd makes systemd-networkd re-read its .netdev, .network and
// .link files and apply them (networkctl reload). networkd answers once it
// has read them.
//
// This is not a restart: on the systemd versions sitevpn targets (252, 257)
// a restart replaces every WireGuard peer of networkd-managed devices, which
// a reload does not (252) or does only for changed files (257). networkd is
// bus-activated, so if it is not running the bus starts it, which reads the
// files too.
func (m *Manager) ReloadNetworkd(ctx context.Context) error {
	return m.call("reload", "systemd-networkd", func() error {
		return m.bus.Object(networkdName, networkdPath).CallWithContext(ctx, networkdReload, 0).Store()
	})
}
