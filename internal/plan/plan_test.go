package plan_test

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/internal/testfleet"
)

func example(t *testing.T, extra ...string) *fleet.Fleet {
	t.Helper()
	src, err := testfleet.ExampleSource()
	if err != nil {
		t.Fatal(err)
	}
	srcs := []load.Source{{Name: "fleet.hcl", Bytes: src}}
	for _, e := range extra {
		b, err := os.ReadFile(filepath.Join(testfleet.ExampleDir(), e))
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, load.Source{Name: e, Bytes: b})
	}
	f, err := testfleet.Parse(srcs...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestExampleV11 checks the figures: v1-1 gets four tunnels, to the
// gateways of the two other sites, ListenPorts 5803-5806, peer port 5801.
func TestExampleV11(t *testing.T) {
	f := example(t)
	g := plan.For(f, f.Gateway("v1-1"))
	if len(g.Tunnels) != 4 {
		t.Fatalf("v1-1 has %d tunnels, want 4", len(g.Tunnels))
	}
	want := []struct {
		iface, peer, site string
		port              int
		endpoint          string
		local6, remote6   string
		local4, remote4   string
	}{
		// pair (1,3): k=1; (1,4): k=3; (1,5): k=6; (1,6): k=10
		{"wg3", "v2-1", "berlin", 5803, "[2001:db8:2::1]:5801", "2001:db8:ff::2/127", "2001:db8:ff::3", "169.254.0.2/31", "169.254.0.3"},
		{"wg4", "v2-2", "berlin", 5804, "[2001:db8:2::2]:5801", "2001:db8:ff::6/127", "2001:db8:ff::7", "169.254.0.6/31", "169.254.0.7"},
		{"wg5", "v3-1", "tokyo", 5805, "[2001:db8:3::1]:5801", "2001:db8:ff::c/127", "2001:db8:ff::d", "169.254.0.12/31", "169.254.0.13"},
		{"wg6", "v3-2", "tokyo", 5806, "[2001:db8:3::2]:5801", "2001:db8:ff::14/127", "2001:db8:ff::15", "169.254.0.20/31", "169.254.0.21"},
	}
	for i, w := range want {
		tu := g.Tunnels[i]
		got := []string{tu.Interface, tu.Peer.Gateway, tu.Peer.Site, tu.Peer.Endpoint.String(), tu.Local6.String(), tu.Remote6.String(), tu.Local4.String(), tu.Remote4.String()}
		exp := []string{w.iface, w.peer, w.site, w.endpoint, w.local6, w.remote6, w.local4, w.remote4}
		if !reflect.DeepEqual(got, exp) || tu.ListenPort != w.port {
			t.Errorf("tunnel %d = %v port %d, want %v port %d", i, got, tu.ListenPort, exp, w.port)
		}
	}
}

// TestBothEndsAgree: every tunnel seen from one end is the mirror of the
// same tunnel seen from the other end.
func TestBothEndsAgree(t *testing.T) {
	f := example(t)
	plans := map[string]*plan.Gateway{}
	for _, g := range f.Gateways() {
		plans[g.Name] = plan.For(f, g)
	}
	for _, g := range plans {
		for _, tu := range g.Tunnels {
			var back *plan.Tunnel
			for i, o := range plans[tu.Peer.Gateway].Tunnels {
				if o.Peer.ID == g.ID {
					back = &plans[tu.Peer.Gateway].Tunnels[i]
				}
			}
			if back == nil {
				t.Fatalf("%s has a tunnel to %s but not back", g.Name, tu.Peer.Gateway)
			}
			if back.Remote6 != tu.Local6.Addr() || back.Local6.Addr() != tu.Remote6 || back.Remote4 != tu.Local4.Addr() || back.Local4.Addr() != tu.Remote4 {
				t.Errorf("%s/%s and %s/%s disagree on transit addresses", g.Name, tu.Interface, tu.Peer.Gateway, back.Interface)
			}
			if int(back.Peer.Endpoint.Port()) != tu.ListenPort || int(tu.Peer.Endpoint.Port()) != back.ListenPort {
				t.Errorf("%s/%s listens on %d, peer sends to %d", g.Name, tu.Interface, tu.ListenPort, back.Peer.Endpoint.Port())
			}
		}
	}
}

// TestAddingASiteChangesNoTunnel: with the fourth site of the lab added,
// every existing gateway keeps every tunnel exactly as it was, and gains
// two.
func TestAddingASiteChangesNoTunnel(t *testing.T) {
	before, after := example(t), example(t, "lab-keys/sydney.hcl")
	for _, g := range before.Gateways() {
		old := plan.For(before, g).Tunnels
		grown := map[string]plan.Tunnel{}
		for _, tu := range plan.For(after, after.Gateway(g.Name)).Tunnels {
			grown[tu.Interface] = tu
		}
		if len(grown) != len(old)+2 {
			t.Errorf("%s: %d tunnels after adding a site, want %d", g.Name, len(grown), len(old)+2)
		}
		for _, tu := range old {
			if !reflect.DeepEqual(grown[tu.Interface], tu) {
				t.Errorf("%s: tunnel %s changed when a site was added:\nbefore %+v\nafter  %+v", g.Name, tu.Interface, tu, grown[tu.Interface])
			}
		}
	}
}

// TestPairIndexDense: the pair index is a bijection from pairs of ids
// 1..n onto 0..n(n-1)/2-1, so pools are used without gaps or collisions.
func TestPairIndexDense(t *testing.T) {
	const n = 300
	seen := make([]bool, n*(n-1)/2)
	for b := 2; b <= n; b++ {
		for a := 1; a < b; a++ {
			k := plan.PairIndex(a, b)
			if k != plan.PairIndex(b, a) {
				t.Fatalf("PairIndex not symmetric for %d,%d", a, b)
			}
			if k < 0 || k >= len(seen) || seen[k] {
				t.Fatalf("PairIndex(%d,%d) = %d: out of range or taken", a, b, k)
			}
			seen[k] = true
		}
	}
}

// TestGrowingRandomFleets: gateways join a generated fleet in random
// order; every tunnel's values, once derived, never change.
func TestGrowingRandomFleets(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 20; round++ {
		f := &fleet.Fleet{PortBase: 51820, MTU: 1420,
			Transit6: netip.MustParsePrefix("2001:db8:ff::/64"), Transit4: netip.MustParsePrefix("100.64.0.0/16")}
		seen := map[[2]int]plan.Tunnel{}
		ids := r.Perm(40)
		for i, id := range ids {
			s := &fleet.Site{Name: "s" + string(rune('a'+i)), ASN: uint32(64512 + i)}
			gw := &fleet.Gateway{Name: s.Name, Site: s, ID: id + 1, Endpoint: netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), 0)}
			s.Gateways = []*fleet.Gateway{gw}
			f.Sites = append(f.Sites, s)
			for _, g := range f.Gateways() {
				for _, tu := range plan.For(f, g).Tunnels {
					key := [2]int{g.ID, tu.Peer.ID}
					if old, ok := seen[key]; ok && !reflect.DeepEqual(old, tu) {
						t.Fatalf("round %d: tunnel %v changed after gateway %d joined", round, key, id+1)
					}
					seen[key] = tu
				}
			}
		}
	}
}
