package systemd

import (
	"context"
	"fmt"
	"sync"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
)

// Manager talks to systemd and systemd-networkd over one bus. It is safe
// for concurrent use. Each unit method waits for the job it queued, so every
// call must be given a context with a deadline: a job that never finishes
// (a unit stuck in "activating") would otherwise block the caller for as
// long as systemd lets it, which can be forever with TimeoutStartSec=infinity.
type Manager struct {
	sd *sddbus.Conn
	// bus carries the calls go-systemd has no wrapper for (networkd). It is
	// one of the two connections go-systemd asked the dialer for: both are
	// ordinary connections, and go-systemd closes them on Close.
	bus *dbus.Conn
	// lost is closed when either connection ends (Close, bus daemon gone),
	// so that a wait for a JobRemoved signal that can no longer arrive
	// returns at once instead of at the caller's deadline.
	lost     chan struct{}
	lostOnce sync.Once
}

// New connects to the system bus (SystemBusAddress), where systemd and
// networkd are. ctx bounds connecting only; the connection lasts until
// Close.
func New(ctx context.Context) (*Manager, error) {
	return Dial(ctx, SystemBusAddress())
}

// Dial connects to the bus at address, a D-Bus address such as
// "unix:path=/run/dbus/system_bus_socket". Tests use it with a private bus.
// ctx bounds connecting only; the connection lasts until Close.
func Dial(ctx context.Context, address string) (*Manager, error) {
	var conns []*dbus.Conn
	sd, err := sddbus.NewConnection(func() (*dbus.Conn, error) {
		c, err := dial(ctx, address)
		if err == nil {
			conns = append(conns, c)
		}
		return c, err
	})
	if err != nil {
		return nil, &OpError{Op: "connect", Unit: address, Err: err}
	}
	m := &Manager{sd: sd, bus: conns[0], lost: make(chan struct{})}
	for _, c := range conns {
		context.AfterFunc(c.Context(), m.markLost)
	}
	return m, nil
}

func (m *Manager) markLost() { m.lostOnce.Do(func() { close(m.lost) }) }

// Close closes the connections to the bus. Calls in progress return an
// error matching ErrClosed (or godbus's own closed-connection error if the
// call was on the wire); calls after Close return ErrClosed.
func (m *Manager) Close() error {
	m.markLost()
	m.sd.Close() // closing twice is harmless: godbus closes once
	return nil
}

// DaemonReload makes systemd re-read every unit file (systemctl
// daemon-reload). systemd answers once the reload is complete, so units
// restarted after it returns run with their new files.
func (m *Manager) DaemonReload(ctx context.Context) error {
	return m.call("daemon-reload", "", func() error { return m.sd.ReloadContext(ctx) })
}

// StartUnit starts the unit (systemctl start) and waits for the job: nil
// means the unit is active, or was already.
func (m *Manager) StartUnit(ctx context.Context, name string) error {
	return m.job(ctx, "start", name, m.sd.StartUnitContext)
}

// RestartUnit restarts the unit, starting it if it is stopped (systemctl
// restart), and waits for the job: nil means the unit is active again.
// A unit systemd has no file for is an error (NoSuchUnit).
func (m *Manager) RestartUnit(ctx context.Context, name string) error {
	return m.job(ctx, "restart", name, m.sd.RestartUnitContext)
}

// StopUnit stops the unit (systemctl stop) and waits for the job. A unit
// systemd does not know (no file, never loaded) is already stopped, so that
// is not an error: it lets apply stop units whose files it removed even if
// a daemon-reload ran in between or the unit was never started.
func (m *Manager) StopUnit(ctx context.Context, name string) error {
	err := m.job(ctx, "stop", name, m.sd.StopUnitContext)
	if busErrorName(err) == errNoSuchUnit {
		return nil
	}
	return err
}

// ActiveState is the unit's ActiveState: "active", "reloading", "inactive",
// "failed", "activating" or "deactivating" (org.freedesktop.systemd1(5)).
// systemd loads units on demand for this, so a unit it has no file for is
// "inactive", not an error.
func (m *Manager) ActiveState(ctx context.Context, name string) (string, error) {
	var state string
	err := m.call("active-state", name, func() error {
		p, err := m.sd.GetUnitPropertyContext(ctx, name, "ActiveState")
		if err != nil {
			return err
		}
		s, ok := p.Value.Value().(string)
		if !ok {
			return fmt.Errorf("ActiveState is %s, not a string", p.Value.Signature())
		}
		state = s
		return nil
	})
	return state, err
}

// startJob is the shape of go-systemd's job methods (StartUnitContext...).
type startJob func(ctx context.Context, name, mode string, ch chan<- string) (int, error)

// job queues a job with start and waits for its JobRemoved signal.
func (m *Manager) job(ctx context.Context, op, name string, start startJob) error {
	return m.call(op, name, func() error {
		// Buffered: go-systemd sends the result while holding its job
		// table lock, so an unread channel (we gave up on ctx) would block
		// every later job of this connection.
		ch := make(chan string, 1)
		// "replace", as systemctl does: a conflicting queued job (a stop
		// still pending) gives way to this one instead of failing it.
		if _, err := start(ctx, name, "replace", ch); err != nil {
			return err
		}
		return waitJob(ctx, name, ch, m.lost)
	})
}

// call runs f as operation op on unit, wrapping its error.
func (m *Manager) call(op, unit string, f func() error) error {
	select {
	case <-m.lost:
		return &OpError{Op: op, Unit: unit, Err: ErrClosed}
	default:
	}
	if err := f(); err != nil {
		return &OpError{Op: op, Unit: unit, Err: err}
	}
	return nil
}
