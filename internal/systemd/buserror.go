package systemd

import (
	"errors"

	"github.com/godbus/dbus/v5"
)

// D-Bus error names systemd answers with (src/libsystemd/sd-bus/bus-common-errors.h).
const (
	errNoSuchUnit = "org.freedesktop.systemd1.NoSuchUnit"
)

// busErrorName is the D-Bus error name of err ("" when err is not an error
// reply). godbus returns error replies as dbus.Error values; pointers are
// accepted too, as godbus's own constructors make them.
func busErrorName(err error) string {
	var v dbus.Error
	if errors.As(err, &v) {
		return v.Name
	}
	var p *dbus.Error
	if errors.As(err, &p) && p != nil {
		return p.Name
	}
	return ""
}
