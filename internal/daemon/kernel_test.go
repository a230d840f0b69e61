package daemon

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sitevpn/sitevpn/internal/apply"
	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/pipeline"
)

// TestWhichAppliesReadEverything: the start and the periodic repair read
// everything (Apply); a changed file and the kernel's events read only what
// may differ (ApplyChanged), a burst of events making one apply.
func TestWhichAppliesReadEverything(t *testing.T) {
	dir, sydney := exampleDir(t)
	var mu sync.Mutex
	var kinds []string
	record := func(kind string) func(context.Context, *pipeline.Result) (apply.Report, error) {
		return func(context.Context, *pipeline.Result) (apply.Report, error) {
			mu.Lock()
			defer mu.Unlock()
			kinds = append(kinds, kind)
			return apply.Report{}, nil
		}
	}
	seen := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(kinds)
	}
	changed := make(chan struct{}, 1)
	d := &Daemon{
		Options: pipeline.Options{ConfigDir: dir},
		Apply:   record("full"), ApplyChanged: record("changed"), KernelChanged: changed,
		Check:  func(context.Context, *pipeline.Result) check.Report { return check.Report{Healthy: true} },
		Notify: &recorder{}, Reconcile: time.Hour, Health: time.Hour, KernelDebounce: 50 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	eventually(t, "the start's apply", func() bool { return slices.Equal(seen(), []string{"full"}) })

	replace(t, filepath.Join(dir, "sydney.hcl"), sydney)
	eventually(t, "the edit's apply", func() bool { return slices.Equal(seen(), []string{"full", "changed"}) })

	for range 3 {
		changed <- struct{}{}
	}
	eventually(t, "one apply for a burst of kernel events", func() bool { return len(seen()) == 3 })
	if got := seen(); got[2] != "changed" {
		t.Errorf("after kernel events: %q", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := seen(); len(got) != 3 {
		t.Errorf("applies %q, want 3", got)
	}
}
