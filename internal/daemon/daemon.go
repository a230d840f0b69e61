// Package daemon is `sitevpn run`: apply at start, then keep the gateway
// in its desired state. It re-applies when the configuration directory
// changes (debounced: editors and Ansible replace files by rename), on
// SIGHUP, and periodically to repair drift (a link deleted by hand, BIRD
// killed); it keeps the last good configuration in force when a new one
// is invalid, checks health, notifies systemd and serves metrics.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/sitevpn/sitevpn/internal/apply"
	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/confirm"
	"github.com/sitevpn/sitevpn/internal/diag"
	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/pipeline"
)

// Notifier is systemd's notify protocol (systemd.Notifier; each call
// reports whether it was sent, and is a no-op outside systemd).
type Notifier interface {
	Ready() (bool, error)
	Status(string) (bool, error)
	Watchdog() (bool, error)
	Stopping() (bool, error)
}

// Daemon is one running sitevpn.
type Daemon struct {
	Options pipeline.Options
	// Apply performs an apply of a pipeline result, reading everything.
	Apply func(context.Context, *pipeline.Result) (apply.Report, error)
	// ApplyChanged, when set, is Apply reading only what may differ
	// since the last apply (gateway.ApplyChanged): for a changed
	// configuration, a DNS endpoint moved, and KernelChanged.
	ApplyChanged func(context.Context, *pipeline.Result) (apply.Report, error)
	// KernelChanged, when set, receives when the kernel changed a link
	// (gateway.KernelChanged): after KernelDebounce, an ApplyChanged
	// puts it back if it is not as the plan wants it.
	KernelChanged  <-chan struct{}
	KernelDebounce time.Duration // default 500 ms
	// Check measures the health of the applied gateway.
	Check func(context.Context, *pipeline.Result) check.Report
	// RefreshEndpoints, when set, looks the peers' DNS endpoints up again
	// (every endpoint_refresh) and reports whether an address changed:
	// then the daemon applies, which changes those peers alone.
	RefreshEndpoints func(context.Context, *pipeline.Result) bool
	// Reload receives SIGHUP.
	Reload <-chan struct{}
	Notify Notifier
	Log    *slog.Logger
	// State, when set, is where the daemon's state goes after each cycle
	// (read by `sitevpn status`).
	State func(State) error
	// Metrics receives every state, for the Prometheus exporter.
	Metrics func(State)
	// Listen, when set, receives the metrics_listen of every valid
	// configuration loaded: a changed one applies without a restart.
	Listen func(addr string) error

	Debounce time.Duration // after the last config change, default 100 ms
	// MaxDebounce bounds the wait from the first change of a burst: files
	// rewritten without pause still get applied. Default 2 s.
	MaxDebounce time.Duration
	// Reconcile is the period of the full repair, which reads every
	// tunnel, file and unit; default 30 s (Main: RepairEvery, since the
	// kernel's events bring what changes in links at once).
	Reconcile time.Duration
	// EndpointRefresh, when set, overrides the fleet's endpoint_refresh
	// (tests).
	EndpointRefresh time.Duration
	Health          time.Duration // check period, default 10 s
	Watchdog        time.Duration // systemd watchdog heartbeat period, 0 = off
	// StuckAfter: the watchdog is fed, apart from the loop, while the
	// loop's current work is younger than this (an apply is bounded by
	// its own timeout, 2 min); a loop stuck longer gets the daemon killed
	// and restarted by systemd. Default 3 min.
	StuckAfter time.Duration
	// ConfirmDir, when set, is where the confirmed configuration is kept
	// (ConfirmDir under the root): changes are confirmed or rolled back.
	ConfirmDir string
	// Control, when set, is the path of the control socket (ControlPath
	// under the root): sitevpn apply, confirm, rollback.
	Control string
	// DrainFile, when set, records that the gateway is drained (DrainPath
	// under the root).
	DrainFile string
	// Clock tells the time of probations (default time.Now).
	Clock func() time.Time

	good *pipeline.Result // the configuration in force
	// changed: the applies of the loop's current work read only what
	// may differ (ApplyChanged)
	changed bool
	current State
	busy    atomic.Int64 // unix nanoseconds the loop's current work began; 0 idle
	checked time.Time    // of the last health reading
	written stateWritten // what the state file says

	store    *store
	cs       confirm.State // what the confirm logic knows
	requests chan request
}

// State is what the daemon knows about itself, for status and metrics.
// Health is the checks' verdict alone; Report adds the daemon's own
// problems.
type State struct {
	ConfigError string       `json:"config_error,omitempty"` // the diagnostics of an invalid configuration
	Warnings    string       `json:"warnings,omitempty"`     // of the configuration in force: risky, valid
	ApplyError  string       `json:"apply_error,omitempty"`
	LastApply   time.Time    `json:"last_apply,omitzero"`
	Applies     int          `json:"applies"`
	Changes     int          `json:"changes"` // applies that changed something
	Health      check.Report `json:"health"`
	// Configuration is the one in force: its generation, confirmed or
	// on probation, or the one rolled back and why.
	Configuration *check.Configuration `json:"configuration,omitempty"`
	Rollbacks     int                  `json:"rollbacks"`
	// DrainedSince: the gateway is drained (sitevpn drain) since then.
	DrainedSince time.Time `json:"drained_since,omitzero"`
	Updated      time.Time `json:"updated"`
}

func (d *Daemon) defaults() {
	if d.Debounce == 0 {
		d.Debounce = 100 * time.Millisecond
	}
	if d.MaxDebounce == 0 {
		d.MaxDebounce = 2 * time.Second
	}
	if d.StuckAfter == 0 {
		d.StuckAfter = 3 * time.Minute
	}
	if d.Reconcile == 0 {
		d.Reconcile = 30 * time.Second
	}
	if d.Health == 0 {
		d.Health = 10 * time.Second
	}
	if d.KernelDebounce == 0 {
		d.KernelDebounce = 500 * time.Millisecond
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Clock == nil {
		d.Clock = time.Now
	}
}

func (d *Daemon) now() time.Time { return d.Clock() }

// Run runs until ctx ends. Only a failure to watch the configuration
// stops it early; every apply or check failure is logged and retried.
func (d *Daemon) Run(ctx context.Context) error {
	d.defaults()
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching the configuration: %w", err)
	}
	defer w.Close()
	// Watch the directory, not the files: a file replaced by rename
	// (editors, Ansible) would leave a watch on the old inode.
	if err := w.Add(d.Options.ConfigDir); err != nil {
		return fmt.Errorf("watching %s: %w", d.Options.ConfigDir, err)
	}
	stopWatchdog := d.startWatchdog(ctx)
	defer stopWatchdog()
	d.restore()
	d.restoreDrain()
	if d.Control != "" {
		stop, err := d.serveControl(ctx)
		if err != nil {
			return err
		}
		defer stop()
	}
	d.work(func() { d.load(ctx, "start"); d.check(ctx) })
	d.notify(Notifier.Ready)

	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	var pending time.Time // first change of the burst not applied yet
	changed := func() {
		if pending.IsZero() {
			pending = time.Now()
		}
		debounce.Reset(max(min(d.Debounce, d.MaxDebounce-time.Since(pending)), 0))
	}
	reconcile := time.NewTicker(d.Reconcile)
	defer reconcile.Stop()
	health := time.NewTicker(d.Health)
	defer health.Stop()
	refresh := time.NewTimer(d.endpointRefresh())
	defer refresh.Stop()
	// A link changed: bursts (an apply's own, a namespace going) are
	// taken as one.
	kernel := time.NewTimer(time.Hour)
	kernel.Stop()
	kernelPending := false
	for {
		select {
		case <-ctx.Done():
			stopWatchdog() // no heartbeat after STOPPING
			d.notify(Notifier.Stopping)
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return errors.New("configuration watcher closed")
			}
			if relevant(ev.Name) {
				changed()
			}
		case err, ok := <-w.Errors:
			if !ok {
				return errors.New("configuration watcher closed")
			}
			d.Log.Warn("watching the configuration", "err", err)
			changed() // events may be lost: look again
		case <-debounce.C:
			pending = time.Time{}
			d.workChanged(func() { d.load(ctx, "configuration changed"); d.check(ctx) })
		case <-d.KernelChanged:
			if !kernelPending {
				kernelPending = true
				kernel.Reset(d.KernelDebounce)
			}
		case <-kernel.C:
			kernelPending = false
			d.workChanged(func() { d.apply(ctx, "a link changed") })
		case <-d.Reload:
			d.work(func() { d.load(ctx, "SIGHUP"); d.check(ctx) })
		case <-reconcile.C:
			d.work(func() { d.apply(ctx, "reconcile") })
		case <-health.C:
			d.work(func() { d.check(ctx) })
		case <-refresh.C:
			d.workChanged(func() { d.refreshEndpoints(ctx) })
			refresh.Reset(d.endpointRefresh())
		case r := <-d.requests:
			d.work(func() { r.reply <- d.handle(ctx, r.req) })
		}
	}
}

// work runs f as the loop's current work, which the watchdog watches.
func (d *Daemon) work(f func()) {
	d.busy.Store(time.Now().UnixNano())
	defer d.busy.Store(0)
	f()
}

// workChanged is work whose applies read only what may differ since the
// last apply.
func (d *Daemon) workChanged(f func()) {
	d.changed = true
	defer func() { d.changed = false }()
	d.work(f)
}

// startWatchdog feeds the watchdog until the returned function is called
// (it waits for the feeder to end; calling it again does nothing).
func (d *Daemon) startWatchdog(ctx context.Context) (stop func()) {
	if d.Watchdog <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.feedWatchdog(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// feedWatchdog sends systemd's heartbeat every Watchdog period, apart
// from the loop, so that a slow apply (bounded, but longer than
// WatchdogSec) does not get the daemon killed; it stops feeding once the
// loop's work is older than StuckAfter: then the daemon is stuck.
func (d *Daemon) feedWatchdog(ctx context.Context) {
	t := time.NewTicker(d.Watchdog)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if since := d.busy.Load(); since != 0 && time.Since(time.Unix(0, since)) > d.StuckAfter {
				d.Log.Error("the loop is stuck: no watchdog heartbeat, systemd will restart the daemon", "busy", time.Since(time.Unix(0, since)).Round(time.Second))
				continue
			}
			d.notify(Notifier.Watchdog)
		}
	}
}

// relevant: the fleet files and the key; not editor swap files.
func relevant(name string) bool {
	base := filepath.Base(name)
	return strings.HasSuffix(base, ".hcl") || base == "private.key"
}

// load reads the configuration; a valid one becomes the one in force and
// is applied, an invalid one is reported and the last good one stays.
func (d *Daemon) load(ctx context.Context, why string) {
	d.loadFiles(ctx, why, false, 0)
}

// errRejected: the files are the configuration a rollback rejected.
var errRejected = errors.New("the files are the configuration that was rolled back")

// loadFiles is load; force applies the files even when they are the
// rejected configuration, manual > 0 puts the change on a probation that
// only `sitevpn confirm` ends. It returns the apply's report.
func (d *Daemon) loadFiles(ctx context.Context, why string, force bool, manual time.Duration) (apply.Report, error) {
	start := time.Now()
	res, err := pipeline.Run(d.Options)
	if err != nil {
		msg := err.Error()
		var de *diag.Error
		if errors.As(err, &de) {
			msg = strings.TrimSpace(diag.Format(de.Diags, de.Files))
		}
		d.current.ConfigError = msg
		d.Log.Error("configuration rejected; the last good one stays in force", "why", why, "diagnostics", msg)
		if d.good == nil && d.Listen != nil {
			// No metrics_listen known yet: the default, so the invalid
			// configuration shows in the metrics too.
			if err := d.Listen(fleet.DefaultMetricsListen); err != nil {
				d.Log.Error("serving metrics", "err", err)
			}
		}
		d.fallBack()
		d.apply(ctx, why+", last good configuration") // keep it in force
		return apply.Report{}, err
	}
	d.current.ConfigError = ""
	d.current.Warnings = strings.TrimSpace(res.Warnings)
	if d.current.Warnings != "" {
		d.Log.Warn("the configuration is valid but risky", "warnings", d.current.Warnings)
	}
	if d.Listen != nil {
		if err := d.Listen(res.Fleet.MetricsListen.String()); err != nil {
			d.Log.Error("serving metrics", "err", err)
		}
	}
	digest := res.Sources.Digest()
	if !d.admit(digest, force) {
		d.describe(nil)
		d.fallBack()
		d.apply(ctx, why+", confirmed configuration")
		return apply.Report{}, errRejected
	}
	held := d.held(ctx, res, digest)
	d.good = res
	d.Log.Info("configuration loaded", "why", why, "gateway", res.Me.Name, "tunnels", len(res.Plan.Tunnels), "took", time.Since(start).Round(time.Millisecond))
	rep, err := d.apply(ctx, why)
	d.judge(ctx, res, digest, rep.Changed(), held, manual)
	d.publish()
	return rep, err
}

func (d *Daemon) apply(ctx context.Context, why string) (apply.Report, error) {
	if d.good == nil {
		d.publish()
		return apply.Report{}, errors.New("no valid configuration yet")
	}
	start := time.Now()
	do := d.Apply
	if d.changed && d.ApplyChanged != nil {
		do = d.ApplyChanged
	}
	rep, err := do(ctx, d.good)
	d.current.Applies++
	d.current.LastApply = start
	if err != nil {
		d.current.ApplyError = err.Error()
		d.Log.Error("apply failed", "why", why, "err", err)
	} else {
		d.current.ApplyError = ""
		if rep.Changed() {
			d.current.Changes++
			d.Log.Info("applied", "why", why, "actions", len(rep.Actions), "took", time.Since(start).Round(time.Millisecond))
		}
		for _, w := range rep.Warnings {
			d.Log.Warn("apply", "warning", w)
		}
		if d.store != nil {
			d.carryOut(ctx, d.cs.FirstApply(d.now(), d.good.Sources.Digest()))
		}
	}
	d.publish()
	return rep, err
}

// endpointRefresh is how often the DNS endpoints are looked up again: the
// fleet's endpoint_refresh.
func (d *Daemon) endpointRefresh() time.Duration {
	if d.EndpointRefresh > 0 {
		return d.EndpointRefresh
	}
	if d.good == nil || d.good.Fleet.EndpointRefresh <= 0 {
		return fleet.DefaultEndpointRefresh * time.Second
	}
	return d.good.Fleet.EndpointRefresh
}

// refreshEndpoints looks the DNS endpoints up again and applies when one
// moved: the peer's endpoint changes in place, nothing else is touched.
func (d *Daemon) refreshEndpoints(ctx context.Context) {
	if d.good == nil || d.RefreshEndpoints == nil {
		return // a plan without DNS endpoints costs a refresh nothing
	}
	if d.RefreshEndpoints(ctx, d.good) {
		d.apply(ctx, "a DNS endpoint has a new address")
	}
}

func (d *Daemon) check(ctx context.Context) {
	if d.good != nil && d.Check != nil {
		was := map[string]bool{}
		for _, t := range d.current.Health.Tunnels {
			was[t.Interface] = t.ImportLimitHit
		}
		d.current.Health = d.Check(ctx, d.good)
		d.checked = d.now()
		for _, t := range d.current.Health.Tunnels {
			if t.ImportLimitHit && !was[t.Interface] {
				d.Log.Warn("a peer hit the import limit: the routes over it are dropped", "interface", t.Interface, "peer", t.Peer, "site", t.Site)
			}
		}
		d.verdict(ctx)
	}
	d.publish()
}

// publish hands the state to status, metrics and systemd's STATUS line.
func (d *Daemon) publish() {
	d.current.Updated = time.Now()
	s := d.current
	if next, write := d.written.next(s); write && d.State != nil {
		if err := d.State(s); err != nil {
			d.Log.Warn("writing the state file", "err", err)
		} else {
			d.written = next
		}
	}
	if d.Metrics != nil {
		d.Metrics(s)
	}
	d.notify(func(n Notifier) (bool, error) { return n.Status(statusLine(s)) })
}

// Report is the health as shown: the checks' verdict with the daemon's
// own problems (an invalid configuration, a failed apply).
func (s State) Report() check.Report {
	h := s.Health
	h.Problems = append([]string(nil), h.Problems...)
	if s.ConfigError != "" {
		h.Problems = append(h.Problems, "invalid configuration, the daemon keeps the last good one:\n"+s.ConfigError)
		h.Healthy = false
	}
	if s.ApplyError != "" {
		h.Problems = append(h.Problems, "last apply failed: "+s.ApplyError)
		h.Healthy = false
	}
	if s.Warnings != "" && len(h.Warnings) == 0 {
		h.Warnings = check.WarningLines(s.Warnings)
	}
	h.DrainedSince = s.DrainedSince
	if c := s.Configuration; c != nil {
		h.Configuration = c
		if c.State == check.RolledBack {
			h.Problems = append(h.Problems, c.String())
			h.Healthy = false
		}
	}
	return h
}

// StaleAfter: the daemon writes its state at least every stateRefresh;
// older than this, it is not running, or stuck.
const StaleAfter = time.Minute

// Merge is live, the health read now, with what the daemon reports: its
// own problems, or that its state is too old to be believed (its errors
// may be long gone).
func (s State) Merge(live check.Report, now time.Time) check.Report {
	if age := now.Sub(s.Updated); age > StaleAfter {
		live.Problems = append(slices.Clone(live.Problems), fmt.Sprintf("the daemon's state is %s old: is sitevpn.service running?", age.Round(time.Second)))
		live.Healthy = false
		return live
	}
	// Only the daemon resolves the DNS endpoints: its findings stay.
	live.Endpoints = s.Health.Endpoints
	s.Health = live
	return s.Report()
}

func statusLine(s State) string {
	up := 0
	for _, t := range s.Health.Tunnels {
		if t.Up {
			up++
		}
	}
	line := fmt.Sprintf("%d/%d tunnels up", up, len(s.Health.Tunnels))
	switch c := s.Configuration; {
	case s.ConfigError != "":
		line += "; configuration invalid, last good one in force"
	case s.ApplyError != "":
		line += "; last apply failed"
	case c != nil && c.State == check.RolledBack:
		line += fmt.Sprintf("; rolled back generation %d: %s", c.Rejected, c.Reason)
	case c != nil && c.State == check.Probation:
		line += fmt.Sprintf("; generation %d on probation until %s", c.Generation, c.Deadline.Local().Format(time.TimeOnly))
	}
	if !s.DrainedSince.IsZero() {
		line += "; drained"
	}
	return line
}

func (d *Daemon) notify(f func(Notifier) (bool, error)) {
	if d.Notify == nil {
		return
	}
	if _, err := f(d.Notify); err != nil {
		d.Log.Warn("notifying systemd", "err", err)
	}
}
