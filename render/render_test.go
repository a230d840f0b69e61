package render_test

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/internal/testfleet"
	"github.com/sitevpn/sitevpn/render"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// modes are the example fleet in both isolation modes; with rfc8950,
// without its transit4 pool ("rfc8950-netns", "rfc8950-vrf").
func modes(t testing.TB, rfc8950 bool) map[string]*fleet.Fleet {
	t.Helper()
	src, err := testfleet.ExampleSource()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*fleet.Fleet{}
	for mode, s := range map[string][]byte{"netns": src, "vrf": testfleet.VRFVariant(src)} {
		if rfc8950 {
			mode, s = "rfc8950-"+mode, testfleet.WithoutTransit4(s)
		}
		f, err := testfleet.Parse(load.Source{Name: "fleet.hcl", Bytes: s})
		if err != nil {
			t.Fatal(err)
		}
		out[mode] = f
	}
	return out
}

// hubGoldens are the gateways of the hub-and-spoke example with golden
// files: a hub (whose spokes include one without endpoint and one with a
// DNS endpoint), and the spoke without endpoint.
var hubGoldens = []string{"h1-1", "s2-1"}

// hubAndSpoke is the hub-and-spoke example fleet.
func hubAndSpoke(t testing.TB) *fleet.Fleet {
	t.Helper()
	f, err := testfleet.HubAndSpoke()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// renderAll renders every gateway of every mode: "mode/gateway" -> tree;
// "drained/v1-1", v1-1 in netns mode being drained (sitevpn drain); and
// "hub-and-spoke/NAME", the hubGoldens of the hub-and-spoke example, and
// "hub-and-spoke-drained/h1-1", its hub h1-1 drained; "rfc8950-MODE/v1-1",
// v1-1 of the example without transit4 in both modes.
func renderAll(t testing.TB) map[string]render.Tree {
	t.Helper()
	trees := map[string]render.Tree{}
	hs := hubAndSpoke(t)
	for _, name := range hubGoldens {
		tree, err := render.Render(plan.For(hs, hs.Gateway(name)))
		if err != nil {
			t.Fatalf("hub-and-spoke/%s: %v", name, err)
		}
		trees["hub-and-spoke/"+name] = tree
	}
	// A drained hub announces its transit routes with GRACEFUL_SHUTDOWN too.
	drainedHub := plan.For(hs, hs.Gateway("h1-1"))
	drainedHub.Drained = true
	tree, err := render.Render(drainedHub)
	if err != nil {
		t.Fatal(err)
	}
	trees["hub-and-spoke-drained/h1-1"] = tree
	// Without transit4, v1-1 in both modes: no IPv4 on its tunnels,
	// extended next hop on every session.
	for mode, f := range modes(t, true) {
		tree, err := render.Render(plan.For(f, f.Gateway("v1-1")))
		if err != nil {
			t.Fatalf("%s/v1-1: %v", mode, err)
		}
		trees[mode+"/v1-1"] = tree
	}
	for mode, f := range modes(t, false) {
		for _, g := range f.Gateways() {
			p := plan.For(f, g)
			tree, err := render.Render(p)
			if err != nil {
				t.Fatalf("%s/%s: %v", mode, g.Name, err)
			}
			trees[mode+"/"+g.Name] = tree
			if mode == "netns" && g.Name == "v1-1" {
				p.Drained = true
				if trees["drained/v1-1"], err = render.Render(p); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return trees
}

// TestGolden compares every rendered file of every gateway, in both modes,
// with testdata/<mode>/<gateway>/<path>.golden. A file rendered without a
// golden twin, or a golden file no longer rendered, fails as well.
func TestGolden(t *testing.T) {
	for name, tree := range renderAll(t) {
		dir := filepath.Join("testdata", name)
		if *update {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
		}
		rendered := map[string]bool{}
		for _, f := range tree {
			golden := filepath.Join(dir, f.Path+".golden")
			rendered[golden] = true
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, f.Content, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Errorf("%s: rendered, but no golden file (run go test ./render -update): %v", golden, err)
				continue
			}
			if string(want) != string(f.Content) {
				t.Errorf("%s differs from its golden file (go test ./render -update, then review the diff):\n%s", golden, firstDiff(string(want), string(f.Content)))
			}
		}
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && !rendered[p] {
				t.Errorf("%s: golden file of a file no longer rendered", p)
			}
			return err
		})
		if err != nil {
			t.Error(err)
		}
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + a + "\n  got:  " + b
		}
	}
	return ""
}

// TestFileModes: BIRD's config is readable by the bird group only, and no
// rendered file is writable by anyone but root.
func TestFileModes(t *testing.T) {
	for name, tree := range renderAll(t) {
		for _, f := range tree {
			if f.Mode&0o022 != 0 {
				t.Errorf("%s %s: mode %v is writable by group or others", name, f.Path, f.Mode)
			}
			if strings.HasPrefix(f.Path, render.BirdDir) && (f.Mode != 0o640 || f.Group != "bird") {
				t.Errorf("%s %s: mode %v group %s, want 0640 group bird", name, f.Path, f.Mode, f.Group)
			}
		}
	}
}

// TestNetNSHasNoWireGuardNetdev: in netns mode networkd must not create
// WireGuard devices (it would re-create them after the move, LAB.md).
func TestNetNSHasNoWireGuardNetdev(t *testing.T) {
	for name, tree := range renderAll(t) {
		netdevs := 0
		for _, f := range tree {
			if strings.HasSuffix(f.Path, ".netdev") {
				netdevs++
				if strings.HasPrefix(name, "netns/") {
					t.Errorf("%s: netns mode renders %s", name, f.Path)
				}
			}
		}
		if strings.HasPrefix(name, "vrf/") && netdevs != 5 {
			t.Errorf("%s: %d .netdev files, want 5 (the VRF and 4 tunnels)", name, netdevs)
		}
	}
}

// In vrf mode networkd reads each tunnel's peer from its .netdev: a peer
// without endpoint (s2-1, behind NAT) or with a DNS one (s3-1) has no
// Endpoint= line (WireGuard learns the first, sitevpn resolves and sets
// the second), an address endpoint has its line.
func TestVRFNetdevEndpoints(t *testing.T) {
	hs := hubAndSpoke(t)
	p := plan.For(hs, hs.Gateway("h1-1"))
	p.Isolation = fleet.VRF
	tree, err := render.Render(p)
	if err != nil {
		t.Fatal(err)
	}
	for iface, want := range map[string]string{"wg6": "", "wg7": "", "wg3": "Endpoint=[2001:db8:"} {
		f := tree.Get(render.NetworkDir + "/50-sitevpn-" + iface + ".netdev")
		if f == nil {
			t.Fatalf("no netdev for %s", iface)
		}
		got := strings.Contains(string(f.Content), "Endpoint=")
		if want == "" && got || want != "" && !strings.Contains(string(f.Content), want) {
			t.Errorf("%s.netdev, want endpoint %q:\n%s", iface, want, f.Content)
		}
	}
}
