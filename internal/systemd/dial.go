package systemd

import (
	"context"
	"os"
	"strconv"

	"github.com/godbus/dbus/v5"
)

// defaultSystemBus is where the system bus listens when
// DBUS_SYSTEM_BUS_ADDRESS does not say otherwise (the D-Bus specification's
// well-known address, which godbus uses too).
const defaultSystemBus = "unix:path=/var/run/dbus/system_bus_socket"

// SystemBusAddress is the address of the system bus: $DBUS_SYSTEM_BUS_ADDRESS
// or the well-known socket.
func SystemBusAddress() string {
	if a := os.Getenv("DBUS_SYSTEM_BUS_ADDRESS"); a != "" {
		return a
	}
	return defaultSystemBus
}

// dial opens a private connection to the bus at address, authenticates and
// says Hello. ctx bounds only this handshake: godbus's WithContext (which
// go-systemd's New*ConnectionContext use) would instead close the
// connection whenever ctx ends, so a Manager made with a per-call timeout
// would die with it.
func dial(ctx context.Context, address string) (*dbus.Conn, error) {
	conn, err := dbus.Dial(address)
	if err != nil {
		return nil, err
	}
	// Closing the connection is the only way to interrupt godbus's Auth
	// and Hello, which take no context.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	// EXTERNAL only, with the numeric uid, as go-systemd does: no user
	// name lookup, no cookie file. The effective uid is what the kernel
	// reports to the bus (SO_PEERCRED), so that is the one to claim.
	err = conn.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(os.Geteuid()))})
	if err == nil {
		err = conn.Hello()
	}
	if !stop() {
		conn.Close()
		return nil, ctx.Err()
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}
