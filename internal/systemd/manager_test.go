package systemd

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// units is the apply engine's interface (see doc.go), copied here because
// the program wires apply to this package, not the other way round.
type units interface {
	DaemonReload(ctx context.Context) error
	RestartUnit(ctx context.Context, name string) error
	StartUnit(ctx context.Context, name string) error
	StopUnit(ctx context.Context, name string) error
	ReloadNetworkd(ctx context.Context) error
}

var _ units = (*Manager)(nil)

func TestDialNoBus(t *testing.T) {
	addr := "unix:path=" + filepath.Join(t.TempDir(), "no-bus")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := Dial(ctx, addr)
	if err == nil {
		m.Close()
		t.Fatal("Dial succeeded without a bus")
	}
	var oe *OpError
	if !errors.As(err, &oe) || oe.Op != "connect" || oe.Unit != addr {
		t.Fatalf("%#v", err)
	}
	if !errors.Is(err, syscall.ENOENT) {
		t.Errorf("%v does not unwrap to ENOENT", err)
	}
	if !strings.HasPrefix(err.Error(), "systemd: connect "+addr+": ") {
		t.Errorf("%q", err)
	}
}

func TestSystemBusAddress(t *testing.T) {
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "")
	if got := SystemBusAddress(); got != "unix:path=/var/run/dbus/system_bus_socket" {
		t.Errorf("default: %q", got)
	}
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/tmp/x")
	if got := SystemBusAddress(); got != "unix:path=/tmp/x" {
		t.Errorf("from the environment: %q", got)
	}
}

func TestBusErrorName(t *testing.T) {
	noSuch := dbus.Error{Name: errNoSuchUnit, Body: []any{"Unit x.service not loaded."}}
	for _, tt := range []struct {
		err  error
		want string
	}{
		{noSuch, errNoSuchUnit}, // what godbus returns for an error reply
		{&noSuch, errNoSuchUnit},
		{&OpError{Op: "stop", Unit: "x.service", Err: noSuch}, errNoSuchUnit},
		{fmt.Errorf("x: %w", context.Canceled), ""},
		{nil, ""},
	} {
		if got := busErrorName(tt.err); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.err, got, tt.want)
		}
	}
}
