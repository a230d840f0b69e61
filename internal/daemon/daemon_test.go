package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sitevpn/sitevpn/internal/apply"
	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/pipeline"
	"github.com/sitevpn/sitevpn/internal/testfleet"
)

// recorder stands in for the engine and systemd, and records.
type recorder struct {
	mu      sync.Mutex
	applies []int // tunnels of each applied configuration
	states  []State
	notes   []string
}

func (r *recorder) apply(_ context.Context, res *pipeline.Result) (apply.Report, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.applies = append(r.applies, len(res.Plan.Tunnels))
	return apply.Report{}, nil
}

func (r *recorder) state(s State) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, s)
	return nil
}

func (r *recorder) last() ([]int, State, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s State
	if len(r.states) > 0 {
		s = r.states[len(r.states)-1]
	}
	return append([]int(nil), r.applies...), s, append([]string(nil), r.notes...)
}

func (r *recorder) note(s string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, s)
	return true, nil
}

func (r *recorder) Ready() (bool, error)          { return r.note("READY") }
func (r *recorder) Status(s string) (bool, error) { return r.note("STATUS=" + s) }
func (r *recorder) Watchdog() (bool, error)       { return r.note("WATCHDOG") }
func (r *recorder) Stopping() (bool, error)       { return r.note("STOPPING") }

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// replace writes a file the way Ansible and editors do: a temporary file
// renamed over the target.
func replace(t *testing.T, path string, content []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err := os.WriteFile(tmp, content, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// exampleDir is a configuration directory with the example fleet and
// v1-1's key; sydney is the lab's fourth site, to add.
func exampleDir(t *testing.T) (dir string, sydney []byte) {
	t.Helper()
	dir = t.TempDir()
	src, _ := testfleet.ExampleSource()
	key, _ := os.ReadFile(filepath.Join(testfleet.ExampleDir(), "lab-keys", "v1-1.key"))
	sydney, _ = os.ReadFile(filepath.Join(testfleet.ExampleDir(), "lab-keys", "sydney.hcl"))
	if err := os.WriteFile(filepath.Join(dir, "fleet.hcl"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "private.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, sydney
}

func TestDaemon(t *testing.T) {
	dir, sydney := exampleDir(t)
	rec := &recorder{}
	reload := make(chan struct{})
	d := &Daemon{
		Options: pipeline.Options{ConfigDir: dir},
		Apply:   rec.apply,
		Check: func(context.Context, *pipeline.Result) check.Report {
			return check.Report{Gateway: "v1-1", Healthy: true}
		},
		Reload: reload, Notify: rec, State: rec.state,
		Debounce: 100 * time.Millisecond, Reconcile: time.Hour, Health: time.Hour, Watchdog: 20 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()

	eventually(t, "the first apply and READY", func() bool {
		a, _, n := rec.last()
		return len(a) == 1 && a[0] == 4 && strings.Contains(strings.Join(n, ","), "READY")
	})

	// A burst of changes, written by rename: one apply of the result.
	for i := 0; i < 5; i++ {
		replace(t, filepath.Join(dir, "sydney.hcl"), sydney)
	}
	eventually(t, "the apply of the fourth site", func() bool {
		a, _, _ := rec.last()
		return len(a) >= 2 && a[len(a)-1] == 6
	})
	time.Sleep(3 * d.Debounce) // let a second, wrong apply show up if debouncing failed
	if a, _, _ := rec.last(); len(a) != 2 {
		t.Errorf("a burst of 5 writes caused %d applies, want 1: %v", len(a)-1, a)
	}

	// An invalid file: rejected with its diagnostics, the last good
	// configuration stays in force (reconcile and SIGHUP apply it).
	replace(t, filepath.Join(dir, "zz-bad.hcl"), []byte("site \"x\" {\n  asn = \"no\"\n}\n"))
	eventually(t, "the invalid configuration to be reported", func() bool {
		_, s, _ := rec.last()
		return strings.Contains(s.ConfigError, "zz-bad.hcl:2:10") && !s.Report().Healthy
	})
	before, _, _ := rec.last()
	reload <- struct{}{}
	eventually(t, "SIGHUP to re-apply the last good configuration", func() bool {
		a, _, _ := rec.last()
		return len(a) > len(before) && a[len(a)-1] == 6
	})
	if _, _, n := rec.last(); !strings.Contains(strings.Join(n, "\n"), "STATUS=0/0 tunnels up; configuration invalid, last good one in force") {
		t.Errorf("systemd STATUS does not say the configuration is invalid: %q", n)
	}
	if err := os.Remove(filepath.Join(dir, "zz-bad.hcl")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the error to clear once the file is gone", func() bool {
		_, s, _ := rec.last()
		return s.ConfigError == "" && s.Report().Healthy
	})
	eventually(t, "watchdog heartbeats", func() bool {
		_, _, n := rec.last()
		return strings.Contains(strings.Join(n, ","), "WATCHDOG")
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, _, n := rec.last(); n[len(n)-1] != "STOPPING" {
		t.Errorf("last notification %q, want STOPPING", n[len(n)-1])
	}
}

// Every endpoint refresh period the daemon looks the DNS endpoints up
// again and applies only when an address changed.
func TestEndpointRefresh(t *testing.T) {
	dir := t.TempDir()
	src, err := testfleet.HubAndSpokeSource()
	if err != nil {
		t.Fatal(err)
	}
	replace(t, filepath.Join(dir, "fleet.hcl"), src)
	rec := &recorder{}
	var mu sync.Mutex
	refreshes, moved := 0, 0
	d := &Daemon{
		// h1-1's spokes include s3-1, whose endpoint is a DNS name.
		Options: pipeline.Options{ConfigDir: dir, Gateway: "h1-1"},
		Apply:   rec.apply,
		RefreshEndpoints: func(_ context.Context, res *pipeline.Result) bool {
			mu.Lock()
			defer mu.Unlock()
			if len(apply.Names(res.Plan)) == 0 {
				t.Error("refreshed a plan without DNS endpoints")
			}
			refreshes++
			if refreshes == 3 {
				moved++
				return true // the record changed
			}
			return false
		},
		Notify: rec, State: rec.state,
		Reconcile: time.Hour, Health: time.Hour, EndpointRefresh: 20 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	eventually(t, "five refreshes", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return refreshes >= 5
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	a, _, _ := rec.last()
	if len(a) != 2 || moved != 1 {
		t.Errorf("applies %v after %d moved endpoint: want the start's and one for the move", a, moved)
	}
}
