package gateway

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/apply"
	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/fakesys"
	"github.com/sitevpn/sitevpn/internal/identity"
	"github.com/sitevpn/sitevpn/internal/kernel"
	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/pipeline"
	"github.com/sitevpn/sitevpn/internal/testfleet"
)

func fakeGateway(t *testing.T) (*Gateway, *fakesys.System) {
	t.Helper()
	sys := fakesys.New(t.TempDir(), wgtypes.Key{}, "eth1", "eth2")
	gw := New(sys.Root, Parts{
		Units: func(context.Context) (apply.Units, error) { return sys, nil },
		Bird:  sys,
		Sessions: func(context.Context, string, bool) (map[string]check.Session, error) {
			return nil, errors.New("BIRD unreachable (fake)")
		},
		NewKernel: func(ns string, k wgtypes.Key, netns bool) (Kernel, error) { return sys.NewKernel(ns, k, netns) },
	}, nil)
	t.Cleanup(gw.Close)
	return gw, sys
}

// result is the example fleet's v1-1, with src rewritten by edit, and key.
func result(t *testing.T, key wgtypes.Key, edit func(string) string) *pipeline.Result {
	t.Helper()
	src, err := testfleet.ExampleSource()
	if err != nil {
		t.Fatal(err)
	}
	f, err := testfleet.Parse(load.Source{Name: "fleet.hcl", Bytes: []byte(edit(string(src)))})
	if err != nil {
		t.Fatal(err)
	}
	res, err := pipeline.ForGateway(f, f.Gateway("v1-1"))
	if err != nil {
		t.Fatal(err)
	}
	if key != (wgtypes.Key{}) {
		res.Key = identity.NewPrivateKey(key)
	}
	return res
}

func same(s string) string { return s }

// The kernel side is made once per identity: again for a new key or
// namespace, not for anything else.
func TestKernelRebuiltOnlyWhenIdentityChanges(t *testing.T) {
	gw, sys := fakeGateway(t)
	keys, err := testfleet.LabKeys()
	if err != nil {
		t.Fatal(err)
	}
	k1, k2 := keys["v1-1"], keys["v1-2"]
	steps := []struct {
		res    *pipeline.Result
		builds int
	}{
		{result(t, k1, same), 1},
		{result(t, k1, same), 1},
		{result(t, k1, func(s string) string { return strings.Replace(s, "mtu       = 1420", "mtu       = 1400", 1) }), 1},
		{result(t, k2, same), 2},
		{result(t, k2, func(s string) string { return strings.Replace(s, `namespace = "private"`, `namespace = "vpn"`, 1) }), 3},
	}
	for i, s := range steps {
		if _, err := gw.Apply(context.Background(), s.res); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if len(sys.Builds) != s.builds {
			t.Errorf("step %d: %d kernels built, want %d: %+v", i, len(sys.Builds), s.builds, sys.Builds)
		}
	}
	if last := sys.Builds[len(sys.Builds)-1]; last.Namespace != "vpn" || last.Public != k2.PublicKey() {
		t.Errorf("last kernel built for %+v", last)
	}
}

// Apply needs the private key and says where it failed to read it; Check
// needs neither the key nor systemd.
func TestApplyNeedsTheKeyCheckDoesNot(t *testing.T) {
	gw, sys := fakeGateway(t)
	res := result(t, wgtypes.Key{}, same)
	res.KeyErr = errors.New("reading private key /etc/sitevpn/private.key: no private key")
	if _, err := gw.Apply(context.Background(), res); err == nil || !strings.Contains(err.Error(), "/etc/sitevpn/private.key") {
		t.Errorf("apply without a key: %v", err)
	}
	if len(sys.Calls) != 0 {
		t.Errorf("apply without a key touched the system: %v", sys.Calls)
	}
	rep := gw.Check(context.Background(), res)
	if rep.Healthy || len(rep.Tunnels) != 4 || !strings.Contains(strings.Join(rep.Problems, "\n"), "BIRD unreachable") {
		t.Errorf("check without a key: %+v", rep)
	}
}

// Health reads the light query every time and the details (route counts,
// import-limit hits) at most every DetailsEvery, keeping the last ones.
func TestHealthReadsDetailsSeldom(t *testing.T) {
	sys := fakesys.New(t.TempDir(), wgtypes.Key{}, "eth1", "eth2")
	var asked []bool
	gw := New(sys.Root, Parts{
		Units: func(context.Context) (apply.Units, error) { return sys, nil },
		Bird:  sys,
		Sessions: func(_ context.Context, _ string, details bool) (map[string]check.Session, error) {
			asked = append(asked, details)
			s := check.Session{Present: true, State: "Established"}
			if details {
				s.Routes, s.LimitHit = 2, true
			}
			return map[string]check.Session{"wg3": s}, nil
		},
		NewKernel: func(ns string, k wgtypes.Key, netns bool) (Kernel, error) { return sys.NewKernel(ns, k, netns) },
	}, nil)
	defer gw.Close()
	res := result(t, wgtypes.Key{}, same)
	for range 3 {
		rep := gw.Check(context.Background(), res)
		if tu := rep.Tunnels[0]; tu.Interface != "wg3" || tu.Routes != 2 || !tu.ImportLimitHit {
			t.Fatalf("details lost: %+v", tu)
		}
	}
	if len(asked) != 3 || !asked[0] || asked[1] || asked[2] {
		t.Errorf("detailed reads %v, want only the first", asked)
	}
}

// Check reads the OSPF neighbors of a plan with OSPF LANs: each LAN
// shows its neighbors, and one without any shows "none".
func TestCheckReadsAdjacencies(t *testing.T) {
	sys := fakesys.New(t.TempDir(), wgtypes.Key{}, "eth1", "eth2")
	var sockets []string
	gw := New(sys.Root, Parts{
		Units: func(context.Context) (apply.Units, error) { return sys, nil },
		Bird:  sys,
		Sessions: func(context.Context, string, bool) (map[string]check.Session, error) {
			return map[string]check.Session{}, nil
		},
		Adjacencies: func(_ context.Context, socket string) ([]check.Adjacency, error) {
			sockets = append(sockets, socket)
			return []check.Adjacency{
				{Interface: "eth2", Protocol: "ospf4", Neighbor: "10.0.1.1", State: "Full/DR", Up: true},
				{Interface: "eth9", Protocol: "ospf4", Neighbor: "10.0.9.1", State: "Full/DR", Up: true},
			}, nil
		},
		NewKernel: func(ns string, k wgtypes.Key, netns bool) (Kernel, error) { return sys.NewKernel(ns, k, netns) },
	}, nil)
	defer gw.Close()
	rep := gw.Check(context.Background(), result(t, wgtypes.Key{}, same))
	want := []check.Adjacency{
		{Interface: "eth1", State: "none"},
		{Interface: "eth2", Protocol: "ospf4", Neighbor: "10.0.1.1", State: "Full/DR", Up: true},
	}
	if len(sockets) != 1 || !strings.HasSuffix(sockets[0], "bird.ctl") || !slices.Equal(rep.Adjacencies, want) {
		t.Errorf("read from %v: %+v, want %+v", sockets, rep.Adjacencies, want)
	}
	var b strings.Builder
	rep.WriteText(&b)
	if !strings.Contains(b.String(), "LAN   OSPF   NEIGHBOR  STATE\neth1  -      -         none\neth2  ospf4  10.0.1.1  Full/DR\n") {
		t.Errorf("status text:\n%s", b.String())
	}
}

// With ReadPeersEvery, a check reads every WireGuard device only every
// period, and in between the tunnels whose session came up or went down
// since their last reading, or that are Established without a fresh
// handshake.
func TestHealthReadsWorkingPeersSeldom(t *testing.T) {
	sys := fakesys.New(t.TempDir(), wgtypes.Key{}, "eth1", "eth2")
	sessions := map[string]check.Session{
		"wg3": {Present: true, State: "Established"}, "wg4": {Present: true, State: "Active"},
		"wg5": {Present: true, State: "Established"}, "wg6": {Present: true, State: "Established"},
	}
	gw := New(sys.Root, Parts{
		Units: func(context.Context) (apply.Units, error) { return sys, nil },
		Bird:  sys,
		Sessions: func(context.Context, string, bool) (map[string]check.Session, error) {
			out := map[string]check.Session{}
			for k, v := range sessions {
				out[k] = v
			}
			return out, nil
		},
		NewKernel: func(ns string, k wgtypes.Key, netns bool) (Kernel, error) { return sys.NewKernel(ns, k, netns) },
	}, nil)
	defer gw.Close()
	sys.Handshakes = map[string]time.Time{"wg3": time.Now(), "wg5": time.Now()} // wg6: none yet
	for _, n := range []string{"wg3", "wg4", "wg5", "wg6"} {
		sys.Tunnels[n] = &kernel.Tunnel{Peers: []kernel.Peer{{}}}
	}
	gw.ReadPeersEvery(time.Hour)
	res := result(t, wgtypes.Key{}, same)
	read := func(want ...string) check.Report {
		t.Helper()
		sys.PeerReads = nil
		rep := gw.Check(context.Background(), res)
		if len(sys.PeerReads) != 1 || !slices.Equal(sys.PeerReads[0], want) {
			t.Fatalf("read %v, want %v", sys.PeerReads, want)
		}
		return rep
	}
	read("wg3", "wg4", "wg5", "wg6") // the first reads every tunnel
	rep := read("wg6")               // Established without a handshake; wg4 still down
	if !rep.Tunnels[0].Up || !rep.Tunnels[2].Up || rep.Tunnels[1].Up || rep.Tunnels[1].Problem != "no handshake yet" {
		t.Errorf("from the last reading: %+v", rep.Tunnels)
	}
	sessions["wg5"] = check.Session{Present: true, State: "Idle"}
	delete(sys.Tunnels, "wg5") // its device is gone too
	rep = read("wg5", "wg6")   // wg5 went down
	if rep.Tunnels[2].Up || rep.Tunnels[2].Problem != "no WireGuard device" {
		t.Errorf("wg5 after its device went: %+v", rep.Tunnels[2])
	}
	read("wg6")
	sys.Handshakes["wg4"] = time.Now()
	sessions["wg4"] = check.Session{Present: true, State: "Established"}
	if rep = read("wg4", "wg6"); !rep.Tunnels[1].Up { // wg4 came up
		t.Errorf("wg4 once up: %+v", rep.Tunnels[1])
	}
	read("wg6")

	gw.ReadPeersEvery(0) // the default: every tunnel at every check
	read("wg3", "wg4", "wg5", "wg6")
	read("wg3", "wg4", "wg5", "wg6")
}
