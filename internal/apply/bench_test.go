package apply

import (
	"context"
	"testing"
)

// BenchmarkNoopApply: an apply of the example fleet on a gateway already
// in that state: read the files and the manifest, ask each unit's state,
// observe the links, diff, do nothing. The system is the fake one, so this
// is sitevpn's own cost; the lab measures the real one (D-Bus, netlink).
// Target: under 20 ms.
func BenchmarkNoopApply(b *testing.B) {
	g, tree := desired(b, false)
	e, sys := newEngine(b, b.TempDir())
	if _, err := e.Apply(context.Background(), g, tree); err != nil {
		b.Fatal(err)
	}
	n := len(sys.Calls)
	b.ReportAllocs()
	for b.Loop() {
		rep, err := e.Apply(context.Background(), g, tree)
		if err != nil || rep.Changed() {
			b.Fatalf("not a no-op: %v %v", err, rep.Actions)
		}
	}
	if len(sys.Calls) != n {
		b.Fatalf("a no-op apply called the system: %v", sys.Calls[n:])
	}
}
