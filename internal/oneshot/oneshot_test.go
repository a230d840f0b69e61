package oneshot

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// settings reads the three settings Tune may change.
func settings() (procs, gcPercent int, limit int64) {
	gcPercent = debug.SetGCPercent(100)
	debug.SetGCPercent(gcPercent)
	return runtime.GOMAXPROCS(0), gcPercent, debug.SetMemoryLimit(-1)
}

// restore puts the test process's settings back after Tune.
func restore(t *testing.T) {
	procs, gcPercent, limit := settings()
	t.Cleanup(func() {
		runtime.GOMAXPROCS(procs)
		debug.SetGCPercent(gcPercent)
		debug.SetMemoryLimit(limit)
	})
}

func TestTune(t *testing.T) {
	restore(t)
	for _, v := range []string{"GOMAXPROCS", "GOGC", "GOMEMLIMIT"} {
		t.Setenv(v, "")
	}
	Tune()
	if procs, gc, limit := settings(); procs != 1 || gc != gcPercent || limit != memoryLimit {
		t.Errorf("GOMAXPROCS %d, GOGC %d, memory limit %d; want 1, %d, %d", procs, gc, limit, gcPercent, memoryLimit)
	}
}

// What the environment sets wins: Tune changes none of it.
func TestEnvironmentWins(t *testing.T) {
	restore(t)
	t.Setenv("GOMAXPROCS", "2")
	t.Setenv("GOGC", "100")
	t.Setenv("GOMEMLIMIT", "off")
	want1, want2, want3 := settings()
	Tune()
	if procs, gcPercent, limit := settings(); procs != want1 || gcPercent != want2 || limit != want3 {
		t.Errorf("Tune changed GOMAXPROCS, GOGC or the memory limit the environment set: %d %d %d, was %d %d %d", procs, gcPercent, limit, want1, want2, want3)
	}
}
