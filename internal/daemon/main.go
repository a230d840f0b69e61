package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sitevpn/sitevpn/internal/gateway"
	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/pipeline"
	"github.com/sitevpn/sitevpn/internal/systemd"
)

// Main is `sitevpn run`: the daemon on the live gateway under root, its
// state, control socket and drain record there, systemd notified, SIGHUP
// a reload, SIGTERM and SIGINT the end. metrics, when set, pins the
// metrics address ("off" disables); else the fleet's is followed.

// PeersEvery is how often the daemon's checks read the WireGuard device of
// a tunnel known to work, or known down (see gateway.ReadPeersEvery); the
// others are read at every check. A minute: those reads of a hub's
// hundreds of devices were the largest part of its idle CPU at 30 s
// (issue 13), and they only refresh handshake ages and byte counters.
const PeersEvery = time.Minute

// RepairEvery is the period of the daemon's full repair, which reads every
// tunnel, file and unit. A change to a link (deleted, set down, an
// address removed, by hand or by anything else) is repaired within a
// second or so, by the kernel's own event; what sends none (a peer set
// with wg, a file edited, a unit stopped) waits for this pass. Every 30
// s, the pass cost most of an idle gateway's CPU at hundreds of tunnels.
const RepairEvery = 5 * time.Minute

func Main(ctx context.Context, root string, o pipeline.Options, metrics string, log *slog.Logger) error {
	if err := gateway.LiveRoot("run", root); err != nil {
		return err
	}
	if metrics != "" {
		var err error
		if metrics, err = ParseListen(metrics); err != nil {
			return fmt.Errorf("--metrics-listen: %w", err)
		}
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// Every reload reads the whole fleet: decode only what changed.
	o.Cache = load.NewCache()
	gw := gateway.Open(root, log)
	defer gw.Close()
	gw.ReadPeersEvery(PeersEvery)
	gw.WatchKernel()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{})
	go func() {
		for range hup {
			reload <- struct{}{}
		}
	}()
	exp := NewExporter()
	n := systemd.Notifier{}
	wd, _ := n.WatchdogInterval()
	d := &Daemon{
		Options: o, Apply: gw.Apply, ApplyChanged: gw.ApplyChanged, KernelChanged: gw.KernelChanged(),
		Reconcile: RepairEvery, Check: gw.Check, RefreshEndpoints: gw.RefreshEndpoints,
		Reload: reload, Notify: n, Log: log,
		State:   func(s State) error { return WriteState(root, s) },
		Metrics: exp.Update, Watchdog: wd / 2,
		ConfirmDir: filepath.Join(root, ConfirmDir), Control: filepath.Join(root, ControlPath),
		DrainFile: filepath.Join(root, DrainPath),
	}
	defer exp.Listen("off")
	if metrics == "" { // the fleet's, followed live
		d.Listen = exp.Listen
	} else if err := exp.Listen(metrics); err != nil {
		return err
	}
	return d.Run(ctx)
}
