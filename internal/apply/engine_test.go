package apply

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sitevpn/sitevpn/internal/fakesys"
	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/internal/testfleet"
	"github.com/sitevpn/sitevpn/render"
)

// desired renders gateway v1-1 of the example fleet, with the lab's
// fourth site when withSydney.
func desired(t testing.TB, withSydney bool) (*plan.Gateway, render.Tree) {
	t.Helper()
	src, err := testfleet.ExampleSource()
	if err != nil {
		t.Fatal(err)
	}
	srcs := []load.Source{{Name: "fleet.hcl", Bytes: src}}
	if withSydney {
		b, err := os.ReadFile(filepath.Join(testfleet.ExampleDir(), "lab-keys", "sydney.hcl"))
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, load.Source{Name: "sydney.hcl", Bytes: b})
	}
	f, err := testfleet.Parse(srcs...)
	if err != nil {
		t.Fatal(err)
	}
	g := plan.For(f, f.Gateway("v1-1"))
	tree, err := render.Render(g)
	if err != nil {
		t.Fatal(err)
	}
	return g, tree
}

func newEngine(t testing.TB, root string) (*Engine, *fakesys.System) {
	keys, err := testfleet.LabKeys()
	if err != nil {
		t.Fatal(err)
	}
	me := keys["v1-1"].PublicKey()
	sys := fakesys.New(root, me, "eth1", "eth2")
	return &Engine{Root: root, Units: sys, Kernel: sys, Bird: sys, PublicKey: me}, sys
}

// converged checks that what runs is what is on disk: every unit runs its
// current file, networkd and BIRD loaded the current files, no journal is
// left, the manifest lists exactly the tree, and a new apply does nothing.
func converged(t *testing.T, e *Engine, sys *fakesys.System, g *plan.Gateway, tree render.Tree) {
	t.Helper()
	for _, f := range tree {
		if strings.HasPrefix(f.Path, render.UnitDir) {
			name := filepath.Base(f.Path)
			if sys.Units[name] != string(f.Content) {
				t.Errorf("unit %s does not run its current file", name)
			}
		}
	}
	if sys.Networkd != sys.Read(render.NetworkDir) {
		t.Error("networkd did not load the current files")
	}
	if sys.Bird != string(tree.Get(render.BirdDir+"/sitevpn-private.conf").Content) {
		t.Error("BIRD does not run the current configuration")
	}
	if _, err := os.Stat(filepath.Join(e.Root, journalPath)); err == nil {
		t.Error("journal left behind")
	}
	m, err := ReadManifest(e.Root)
	if err != nil || !slices.Equal(m.Files, paths(tree)) {
		t.Errorf("manifest %v (%v), want %v", m.Files, err, paths(tree))
	}
	if len(sys.Dropped) > 0 {
		t.Errorf("links deleted while BIRD still routed through them: %v", sys.Dropped)
	}
	n := len(sys.Calls)
	rep, err := e.Apply(context.Background(), g, tree)
	if err != nil || rep.Changed() || len(sys.Calls) != n {
		t.Errorf("apply after convergence: err %v, actions %v, calls %v", err, rep.Actions, sys.Calls[n:])
	}
}

// TestRemovedTunnelLeftInMainIsDeleted: a tunnel of the previous table
// that an interrupted create left in the main namespace is looked for
// there (the query comes from the table as it was before this apply wrote
// the new one) and deleted when its site leaves the fleet.
func TestRemovedTunnelLeftInMainIsDeleted(t *testing.T) {
	for _, known := range []bool{false, true} { // the table decoded, or known from the last apply
		t.Run(fmt.Sprintf("known=%v", known), func(t *testing.T) {
			g4, tree4 := desired(t, true)
			e, sys := newEngine(t, t.TempDir())
			if known {
				e.Tables = NewTableNames()
			}
			if _, err := e.Apply(context.Background(), g4, tree4); err != nil {
				t.Fatal(err)
			}
			sys.Tunnels["wg7"].InMain = true
			g, tree := desired(t, false)
			if _, err := e.Apply(context.Background(), g, tree); err != nil {
				t.Fatal(err)
			}
			if _, ok := sys.Tunnels["wg7"]; ok {
				t.Errorf("wg7, left in the main namespace, survived its removal; queries: %+v", sys.Queries)
			}
			if !slices.Contains(sys.Calls, "delete-tunnel wg7 main") {
				t.Errorf("no delete of wg7 in the main namespace: %q", sys.Calls)
			}
			converged(t, e, sys, g, tree)
		})
	}
}

// TestKnownTableIsTheOneOnDisk: the table an engine wrote last is not
// trusted once another wrote a different one (an apply killed, another
// command): its tunnels are read from the file.
func TestKnownTableIsTheOneOnDisk(t *testing.T) {
	g, tree := desired(t, false)
	e, sys := newEngine(t, t.TempDir())
	e.Tables = NewTableNames()
	if _, err := e.Apply(context.Background(), g, tree); err != nil {
		t.Fatal(err)
	}
	other := &Engine{Root: e.Root, Units: sys, Kernel: sys, Bird: sys, PublicKey: e.PublicKey}
	g4, tree4 := desired(t, true)
	if _, err := other.Apply(context.Background(), g4, tree4); err != nil {
		t.Fatal(err)
	}
	sys.Tunnels["wg7"].InMain = true
	if _, err := e.Apply(context.Background(), g, tree); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(sys.Calls, "delete-tunnel wg7 main") {
		t.Errorf("wg7 of the table another apply wrote was not looked for in the main namespace: %q", sys.Calls)
	}
	converged(t, e, sys, g, tree)
}

func TestApplyTwiceSecondDoesNothing(t *testing.T) {
	g, tree := desired(t, false)
	e, sys := newEngine(t, t.TempDir())
	rep, err := e.Apply(context.Background(), g, tree)
	if err != nil {
		t.Fatal(err)
	}
	if len(sys.Tunnels) != 4 || !rep.Changed() {
		t.Fatalf("first apply: %d tunnels, actions %v", len(sys.Tunnels), rep.Actions)
	}
	mtimes := map[string]int64{}
	for _, f := range tree {
		st, _ := os.Stat(filepath.Join(e.Root, f.Path))
		mtimes[f.Path] = st.ModTime().UnixNano()
	}
	converged(t, e, sys, g, tree) // applies a second time: no action, no call
	for _, f := range tree {
		st, _ := os.Stat(filepath.Join(e.Root, f.Path))
		if st.ModTime().UnixNano() != mtimes[f.Path] {
			t.Errorf("%s rewritten by the second apply", f.Path)
		}
	}
	want := strings.Join([]string{
		"lan eth1 exists true main false up true addrs [192.168.10.11/24]",
		"lan eth2 exists true main false up true addrs [192.168.11.11/24]",
	}, "\n")
	if !strings.Contains(sys.State(), want) {
		t.Errorf("LANs not moved and configured:\n%s", sys.State())
	}
}

// TestAddingASiteTouchesOnlyNewTunnels: the kernel sees two creates and
// nothing else; BIRD is reconfigured, not restarted; no unit restarts; no
// networkd reload (its files do not list tunnels in netns mode).
func TestAddingASiteTouchesOnlyNewTunnels(t *testing.T) {
	g, tree := desired(t, false)
	e, sys := newEngine(t, t.TempDir())
	if _, err := e.Apply(context.Background(), g, tree); err != nil {
		t.Fatal(err)
	}
	n := len(sys.Calls)
	g4, tree4 := desired(t, true)
	if _, err := e.Apply(context.Background(), g4, tree4); err != nil {
		t.Fatal(err)
	}
	got := sys.Calls[n:]
	want := []string{"create-tunnel wg7", "create-tunnel wg8", "bird configure /etc/bird/sitevpn-private.conf"}
	if !slices.Equal(got, want) {
		t.Errorf("calls when a site is added:\n got %q\nwant %q", got, want)
	}
	converged(t, e, sys, g4, tree4)
}

// TestRemovingASite deletes its tunnels and nothing else, only once BIRD
// has withdrawn the routes through them (the fake kernel, as Linux, drops
// the routes through a deleted link: with IPv4 multipath, the sibling
// tunnel's path too); a file sitevpn does not own is never touched.
func TestRemovingASite(t *testing.T) {
	g4, tree4 := desired(t, true)
	root := t.TempDir()
	e, sys := newEngine(t, root)
	mine := filepath.Join(root, render.NetworkDir, "10-mine.network")
	if err := os.MkdirAll(filepath.Dir(mine), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mine, []byte("[Match]\nName=eth0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Apply(context.Background(), g4, tree4); err != nil {
		t.Fatal(err)
	}
	n := len(sys.Calls)
	g, tree := desired(t, false)
	if _, err := e.Apply(context.Background(), g, tree); err != nil {
		t.Fatal(err)
	}
	want := []string{"bird configure /etc/bird/sitevpn-private.conf", "delete-tunnel wg7", "delete-tunnel wg8"}
	if got := sys.Calls[n:]; !slices.Equal(got, want) {
		t.Errorf("calls when a site is removed:\n got %q\nwant %q", got, want)
	}
	if len(sys.Dropped) > 0 {
		t.Errorf("links deleted while BIRD still routed through them: %v", sys.Dropped)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("a file sitevpn does not own was touched: %v", err)
	}
	converged(t, e, sys, g, tree)
}

// TestDriftIsRepaired: a tunnel deleted by hand, a peer endpoint changed,
// an address removed, BIRD stopped: one apply puts each back, touching
// nothing else.
func TestDriftIsRepaired(t *testing.T) {
	g, tree := desired(t, false)
	e, sys := newEngine(t, t.TempDir())
	if _, err := e.Apply(context.Background(), g, tree); err != nil {
		t.Fatal(err)
	}
	clean := sys.State()
	delete(sys.Tunnels, "wg3")
	sys.Tunnels["wg4"].Peers[0].Endpoint = sys.Tunnels["wg5"].Peers[0].Endpoint
	sys.Tunnels["wg5"].Addresses = sys.Tunnels["wg5"].Addresses[:1]
	delete(sys.Units, "sitevpn-bird-private.service")
	n := len(sys.Calls)
	if _, err := e.Apply(context.Background(), g, tree); err != nil {
		t.Fatal(err)
	}
	want := []string{"start sitevpn-bird-private.service", "create-tunnel wg3", "set-peer wg4 v2-2", "add-address wg5 169.254.0.12/31"}
	if got := sys.Calls[n:]; !slices.Equal(got, want) {
		t.Errorf("repair calls:\n got %q\nwant %q", got, want)
	}
	if sys.State() != clean {
		t.Errorf("state after repair:\n%s\nwant:\n%s", sys.State(), clean)
	}
}

// TestFailedStepRestoresFiles: when a unit fails to restart, the files of
// this apply are restored, the services reloaded from them, and the error
// names the step.
func TestFailedStepRestoresFiles(t *testing.T) {
	g, tree := desired(t, false)
	e, sys := newEngine(t, t.TempDir())
	if _, err := e.Apply(context.Background(), g, tree); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, e.Root)
	changed := slices.Clone(tree)
	for i := range changed {
		if strings.HasSuffix(changed[i].Path, "sitevpn-bird-private.service") {
			changed[i].Content = append(slices.Clone(changed[i].Content), "# changed\n"...)
		}
	}
	sys.Fail["restart sitevpn-bird-private.service"] = errors.New("job failed")
	_, err := e.Apply(context.Background(), g, changed)
	var se *StepError
	if !errors.As(err, &se) || se.Step != "units" || !strings.Contains(err.Error(), "sitevpn-bird-private.service") {
		t.Fatalf("want a units StepError naming the unit, got %v", err)
	}
	if after := snapshot(t, e.Root); after != before {
		t.Errorf("files not restored:\n%s\nwant:\n%s", after, before)
	}
	converged(t, e, sys, g, tree)
}

// TestInvalidBirdConfigIsNeverInstalled: a configuration bird -p rejects
// fails the apply before any file is written.
func TestInvalidBirdConfigIsNeverInstalled(t *testing.T) {
	g, tree := desired(t, false)
	e, sys := newEngine(t, t.TempDir())
	if _, err := e.Apply(context.Background(), g, tree); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, e.Root)
	bad := slices.Clone(tree)
	for i := range bad {
		if strings.HasPrefix(bad[i].Path, render.BirdDir) {
			bad[i].Content = []byte("INVALID\n")
		}
	}
	n := len(sys.Calls)
	_, err := e.Apply(context.Background(), g, bad)
	var se *StepError
	if !errors.As(err, &se) || se.Step != "check" {
		t.Fatalf("want a check StepError, got %v", err)
	}
	if snapshot(t, e.Root) != before || len(sys.Calls) != n {
		t.Errorf("a rejected BIRD configuration changed something: calls %v", sys.Calls[n:])
	}
}

// A candidate left by an apply killed while BIRD checked it is removed by
// the next apply, even one with nothing to do.
func TestLeftoverCandidateRemoved(t *testing.T) {
	g, tree := desired(t, false)
	e, sys := newEngine(t, t.TempDir())
	if _, err := e.Apply(context.Background(), g, tree); err != nil {
		t.Fatal(err)
	}
	var cand string
	for _, f := range tree {
		if strings.HasPrefix(f.Path, render.BirdDir+"/") {
			cand = filepath.Join(e.Root, candidatePath(f.Path))
		}
	}
	if err := os.WriteFile(cand, []byte("half written"), 0o640); err != nil {
		t.Fatal(err)
	}
	n := len(sys.Calls)
	rep, err := e.Apply(context.Background(), g, tree)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cand); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("leftover candidate %s: %v, want it removed", cand, err)
	}
	if rep.Changed() || len(sys.Calls) != n {
		t.Errorf("removing the leftover was reported as a change: %v, calls %v", rep.Actions, sys.Calls[n:])
	}
}

func snapshot(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || strings.HasSuffix(p, "manifest.json") {
			return err
		}
		c, err := os.ReadFile(p)
		b.WriteString(p + " " + info.Mode().String() + "\n" + string(c))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestKillAtEveryStep: an apply killed at any step boundary, then run
// again, converges to the same state as an uninterrupted one, with nothing
// lost (every service runs what is on disk) or duplicated (the fake kernel
// fails on a duplicate link or address). Both from scratch and while a
// site is added.
func TestKillAtEveryStep(t *testing.T) {
	for _, tc := range []struct {
		name      string
		from, to  bool // with sydney
		fromEmpty bool
	}{{"fresh install", false, false, true}, {"adding a site", false, true, false}, {"removing a site", true, false, false}} {
		t.Run(tc.name, func(t *testing.T) {
			g0, tree0 := desired(t, tc.from)
			g, tree := desired(t, tc.to)
			setup := func() (*Engine, *fakesys.System) {
				e, sys := newEngine(t, t.TempDir())
				if !tc.fromEmpty {
					if _, err := e.Apply(context.Background(), g0, tree0); err != nil {
						t.Fatal(err)
					}
				}
				return e, sys
			}
			// A clean run: the reference state, and how many boundaries.
			e, sys := setup()
			steps := 0
			e.crash = func(string) error { steps++; return nil }
			before := len(sys.Calls)
			if _, err := e.Apply(context.Background(), g, tree); err != nil {
				t.Fatal(err)
			}
			want := sys.State()
			wantRestarts := restarts(sys.Calls[before:])
			if steps < 5 {
				t.Fatalf("only %d step boundaries", steps)
			}
			for kill := 1; kill <= steps; kill++ {
				e, sys := setup()
				before := len(sys.Calls)
				n, at := 0, ""
				e.crash = func(step string) error {
					if n++; n == kill {
						at = step
						return errCrash
					}
					return nil
				}
				if _, err := e.Apply(context.Background(), g, tree); !errors.Is(err, errCrash) && kill < steps {
					t.Fatalf("kill %d: apply did not stop: %v", kill, err)
				}
				e.crash = nil
				if _, err := e.Apply(context.Background(), g, tree); err != nil {
					t.Fatalf("killed after %q, the next apply fails: %v", at, err)
				}
				if got := sys.State(); got != want {
					t.Errorf("killed after %q: state\n%s\nwant\n%s", at, got, want)
				}
				// A restart done before the kill is not done again: it would
				// reset BIRD's sessions for nothing.
				if got := restarts(sys.Calls[before:]); got != wantRestarts {
					t.Errorf("killed after %q: %d unit restarts in all, want %d", at, got, wantRestarts)
				}
				converged(t, e, sys, g, tree)
			}
		})
	}
}

func restarts(calls []string) int {
	n := 0
	for _, c := range calls {
		if strings.HasPrefix(c, "restart ") {
			n++
		}
	}
	return n
}

// A lan interface that holds the gateway's default route or endpoint is
// never moved into the private namespace: the apply fails on it, first,
// naming it, and no link is touched.
func TestUnsafeLANIsNeverMoved(t *testing.T) {
	g, tree := desired(t, false)
	e, sys := newEngine(t, t.TempDir())
	sys.LANs["eth2"].Carries = "the default route"
	_, err := e.Apply(context.Background(), g, tree)
	var se *StepError
	if !errors.As(err, &se) || se.Step != "links" || !strings.Contains(err.Error(), "lan eth2 carries the default route") {
		t.Fatalf("want a links StepError naming eth2, got %v", err)
	}
	for _, c := range sys.Calls {
		if strings.HasPrefix(c, "move-lan") || strings.HasPrefix(c, "create-tunnel") {
			t.Errorf("%q done before the refusal", c)
		}
	}
	if q := sys.Queries[len(sys.Queries)-1]; q.Endpoint != g.Endpoint || !g.Endpoint.IsValid() {
		t.Errorf("the query does not carry the endpoint %v: %+v", g.Endpoint, q)
	}
}
