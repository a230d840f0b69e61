// Package oneshot tunes the Go runtime for the commands that load the
// fleet once and exit (render, validate, plan), not for the daemon.
//
// Measured on a 2-core machine with a 1,000-gateway fleet (issue 13): with
// a second P the runtime runs idle-time GC mark workers beside the one
// goroutine that works, which add CPU (user and system time) and shorten
// nothing; and a run that allocates its whole fleet and exits spends
// little on a larger heap goal but much on collections at the default
// one. GOGC 400 lets the heap grow to five times what is live between
// collections; the memory limit brings collections back before a very
// large fleet (or hostile input) would take more than the limit.
package oneshot

import (
	"os"
	"runtime"
	"runtime/debug"
)

const (
	gcPercent   = 400
	memoryLimit = 1 << 30
)

// Tune applies those settings, unless the environment sets its own:
// GOMAXPROCS, GOGC and GOMEMLIMIT win, as they do for the daemon.
func Tune() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
