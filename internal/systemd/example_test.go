package systemd_test

import (
	"context"
	"log"
	"time"

	"github.com/sitevpn/sitevpn/internal/systemd"
)

// Applying changed unit and networkd files, in the order apply does.
func ExampleManager() {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	m, err := systemd.New(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	// A unit whose file was removed: stop it (a unit systemd never
	// loaded is already stopped), then let systemd forget the file.
	if err := m.StopUnit(ctx, "sitevpn-bird@old.service"); err != nil {
		log.Fatal(err)
	}
	if err := m.DaemonReload(ctx); err != nil {
		log.Fatal(err)
	}
	// Returns once the unit is running again, or with a *JobError.
	if err := m.RestartUnit(ctx, "sitevpn-bird@private.service"); err != nil {
		log.Fatal(err)
	}
	if err := m.ReloadNetworkd(ctx); err != nil {
		log.Fatal(err)
	}
}

// The daemon's side of Type=notify and WatchdogSec=.
func ExampleNotifier() {
	var n systemd.Notifier
	// ... load, apply ...
	n.Ready()
	n.Status("3/3 tunnels up, 3/3 BGP sessions established")

	interval, err := n.WatchdogInterval()
	if err != nil || interval == 0 {
		return // no watchdog for this process
	}
	for range time.Tick(interval / 2) {
		// Only when the main loop made progress since the last tick.
		n.Watchdog()
	}
}
