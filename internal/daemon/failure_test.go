package daemon

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sitevpn/sitevpn/internal/apply"
	"github.com/sitevpn/sitevpn/internal/pipeline"
	"github.com/sitevpn/sitevpn/internal/testfleet"
)

func fleetDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src, _ := testfleet.ExampleSource()
	key, _ := os.ReadFile(filepath.Join(testfleet.ExampleDir(), "lab-keys", "v1-1.key"))
	replace(t, filepath.Join(dir, "fleet.hcl"), src)
	if err := os.WriteFile(filepath.Join(dir, "private.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runDaemon(t *testing.T, d *Daemon) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

// stuckApply runs a daemon whose first apply blocks until the returned
// release is closed, with a 10 ms watchdog and stuckAfter, and returns
// once that apply has started, with a count of the heartbeats sent.
func stuckApply(t *testing.T, stuckAfter time.Duration) (heartbeats func() int, release chan struct{}) {
	rec := &recorder{}
	release = make(chan struct{})
	var applying atomic.Bool
	d := &Daemon{Options: pipeline.Options{ConfigDir: fleetDir(t)}, Notify: rec,
		Apply: func(ctx context.Context, res *pipeline.Result) (apply.Report, error) {
			applying.Store(true)
			<-release
			return apply.Report{}, nil
		},
		Reconcile: time.Hour, Health: time.Hour, Watchdog: 10 * time.Millisecond, StuckAfter: stuckAfter}
	runDaemon(t, d)
	eventually(t, "the first apply to start", applying.Load)
	return func() int {
		_, _, notes := rec.last()
		return strings.Count(strings.Join(notes, ","), "WATCHDOG")
	}, release
}

// An apply slower than the watchdog period (bounded, but longer than
// WatchdogSec) does not starve the heartbeat; a loop stuck past
// StuckAfter does.
func TestSlowApplyDoesNotStarveTheWatchdog(t *testing.T) {
	n, release := stuckApply(t, time.Hour)
	defer close(release)
	before := n()
	eventually(t, "heartbeats while the apply runs", func() bool { return n() >= before+5 })
}

func TestStuckLoopStopsTheWatchdog(t *testing.T) {
	count, release := stuckApply(t, 50*time.Millisecond)
	defer close(release)
	// Past StuckAfter the count stops growing: wait until it holds still
	// for ten periods.
	last, still := count(), 0
	eventually(t, "the heartbeat to stop", func() bool {
		time.Sleep(10 * time.Millisecond) // one watchdog period
		if c := count(); c != last {
			last, still = c, 0
			return false
		}
		still++
		return still >= 10
	})
}

// Files rewritten without a pause for longer than MaxDebounce are applied
// during the burst, not after it.
func TestEndlessBurstStillApplies(t *testing.T) {
	dir := fleetDir(t)
	var applies atomic.Int32
	d := &Daemon{Options: pipeline.Options{ConfigDir: dir},
		Apply: func(context.Context, *pipeline.Result) (apply.Report, error) {
			applies.Add(1)
			return apply.Report{}, nil
		},
		Debounce: 100 * time.Millisecond, MaxDebounce: 300 * time.Millisecond, Reconcile: time.Hour, Health: time.Hour}
	runDaemon(t, d)
	eventually(t, "the first apply", func() bool { return applies.Load() == 1 })
	src, _ := os.ReadFile(filepath.Join(dir, "fleet.hcl"))
	stop := make(chan struct{})
	burst := make(chan struct{})
	go func() {
		defer close(burst)
		tick := time.NewTicker(10 * time.Millisecond) // faster than Debounce
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C: // by rename, as an editor writes (no t.Fatal off the test's goroutine)
				tmp := filepath.Join(dir, ".fleet.hcl.tmp")
				if os.WriteFile(tmp, src, 0o644) == nil {
					os.Rename(tmp, filepath.Join(dir, "fleet.hcl"))
				}
			}
		}
	}()
	eventually(t, "an apply while the burst goes on", func() bool { return applies.Load() >= 2 })
	close(stop)
	<-burst
}

// A changed metrics_listen is followed without a restart.
func TestMetricsListenFollowedLive(t *testing.T) {
	dir := fleetDir(t)
	var mu sync.Mutex
	var addrs []string
	d := &Daemon{Options: pipeline.Options{ConfigDir: dir},
		Apply:    func(context.Context, *pipeline.Result) (apply.Report, error) { return apply.Report{}, nil },
		Listen:   func(a string) error { mu.Lock(); defer mu.Unlock(); addrs = append(addrs, a); return nil },
		Debounce: 20 * time.Millisecond, Reconcile: time.Hour, Health: time.Hour}
	runDaemon(t, d)
	last := func() string {
		mu.Lock()
		defer mu.Unlock()
		if len(addrs) == 0 {
			return ""
		}
		return addrs[len(addrs)-1]
	}
	eventually(t, "the default address", func() bool { return last() == "127.0.0.1:9474" })
	src, _ := os.ReadFile(filepath.Join(dir, "fleet.hcl"))
	edited := strings.Replace(string(src), "fleet {", "fleet {\n  metrics_listen = \"[::1]:9555\"", 1)
	replace(t, filepath.Join(dir, "fleet.hcl"), []byte(edited))
	eventually(t, "the new address", func() bool { return last() == "[::1]:9555" })
}

// A *.hcl symlink to the key file: the configuration is rejected, and
// neither the state (what status and metrics show) nor the log holds the
// key.
func TestKeyNeverReachesStateOrLog(t *testing.T) {
	dir := fleetDir(t)
	key, _ := os.ReadFile(filepath.Join(dir, "private.key"))
	if err := os.Symlink(filepath.Join(dir, "private.key"), filepath.Join(dir, "zz-key.hcl")); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	var mu sync.Mutex
	root := t.TempDir()
	d := &Daemon{Options: pipeline.Options{ConfigDir: dir},
		Apply:     func(context.Context, *pipeline.Result) (apply.Report, error) { return apply.Report{}, nil },
		State:     func(s State) error { mu.Lock(); defer mu.Unlock(); return WriteState(root, s) },
		Log:       slog.New(slog.NewTextHandler(&lockedWriter{w: &log, mu: &mu}, nil)),
		Reconcile: time.Hour, Health: time.Hour}
	runDaemon(t, d)
	var state []byte
	eventually(t, "the rejection in the state", func() bool {
		mu.Lock()
		defer mu.Unlock()
		state, _ = os.ReadFile(filepath.Join(root, StatePath))
		return strings.Contains(string(state), "A private key, not a fleet file")
	})
	mu.Lock()
	defer mu.Unlock()
	k := strings.TrimSpace(string(key))
	if strings.Contains(string(state), k) || strings.Contains(log.String(), k) {
		t.Error("the private key reached the state or the log")
	}
	if st, err := os.Stat(filepath.Join(root, StatePath)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("state file mode: %v, %v", st.Mode(), err)
	}
}

type lockedWriter struct {
	w  *strings.Builder
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
