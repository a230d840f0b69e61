//go:build linux

package render_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/sitevpn/sitevpn/internal/bird"
	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/internal/testfleet"
	"github.com/sitevpn/sitevpn/internal/testnetns"
	"github.com/sitevpn/sitevpn/render"
)

// TestIntegrationRenderedBIRD runs the BIRD configurations sitevpn renders
// for v1-1 (paris) and v2-1 (berlin) of the example fleet, unchanged, in
// real BIRD 2, each in a network namespace of its own joined by a veth pair
// standing in for their WireGuard tunnel (wg3 on v1-1, wg1 on v2-1, with
// the plan's transit addresses). A dummy eth2 holds each site's prefix
// addresses, as the LAN does on a gateway. It proves, in the kernels:
//
//   - the session on the tunnel's transit addresses comes up, carrying IPv6
//     and IPv4 over one IPv6 session;
//   - each side installs the other site's prefixes, the IPv4 one with the
//     peer's IPv4 transit address as next hop;
//   - a gateway exports only its own site's prefixes, and imports from a
//     peer only that peer's site's prefixes (hijack protection), even when
//     the peer sends more;
//   - traffic between the two sites' addresses flows.
//
// The other sessions of each config (to gateways absent here) stay down.
// It needs SITEVPN_PRIVILEGED=1, root, bird2 and iproute2; nothing
// outside the two namespaces is touched.
func TestIntegrationRenderedBIRD(t *testing.T) {
	birdBin := testnetns.RequireBIRD(t)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	f := exampleFleetNetNS(t)
	paris := newNSGateway(t, f, "v1-1", "v2-1")
	berlin := newNSGateway(t, f, "v2-1", "v1-1")
	// The plan the kernel setup below follows, spelled out: the article's
	// names and addresses.
	for _, c := range []struct {
		g                     *nsGateway
		iface, local6, local4 string
		remote6, remote4      string
	}{
		{paris, "wg3", "2001:db8:ff::2/127", "169.254.0.2/31", "2001:db8:ff::3", "169.254.0.3"},
		{berlin, "wg1", "2001:db8:ff::3/127", "169.254.0.3/31", "2001:db8:ff::2", "169.254.0.2"},
	} {
		tun := c.g.tunnel
		if tun.Interface != c.iface || tun.Local6.String() != c.local6 || tun.Local4.String() != c.local4 ||
			tun.Remote6.String() != c.remote6 || tun.Remote4.String() != c.remote4 || tun.MTU != 1420 {
			t.Fatalf("%s: tunnel %+v, want %s %s %s", c.g.name, tun, c.iface, c.local6, c.local4)
		}
	}
	// Addresses on each site's LAN link: the site's own prefixes and, on
	// berlin, tokyo's prefixes and one outside every site, which berlin
	// must not export and paris must not import.
	paris.lan = []string{"10.0.1.1/24", "2001:db8:a1::1/64"}
	berlin.lan = []string{"10.0.2.1/24", "2001:db8:a2::1/64", "10.0.3.1/24", "2001:db8:a3::1/64", "192.0.2.1/24"}

	dir := t.TempDir()
	for _, g := range []*nsGateway{paris, berlin} {
		g.netns(t)
	}
	joinByVeth(t, paris, berlin)
	for _, g := range []*nsGateway{paris, berlin} {
		g.lanLink(t)
		g.startBIRD(ctx, t, birdBin, dir)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, g := range []*nsGateway{paris, berlin} {
				g.dump(t)
			}
		}
	})

	// Both sides export their own two prefixes (one per family) and
	// import the other's two.
	pollUntil(ctx, t, "the sessions established with their routes", func() error {
		if err := wantSessionRoutes(ctx, paris, 1, 1, 1, 1); err != nil {
			return err
		}
		return wantSessionRoutes(ctx, berlin, 1, 1, 1, 1)
	})
	t.Logf("sessions established %v after the start", time.Since(start).Round(time.Millisecond))

	t.Run("OtherSessionsDown", func(t *testing.T) {
		for _, g := range []*nsGateway{paris, berlin} {
			ps, err := g.client.ProtocolDetails(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var bgp []string
			for _, p := range ps {
				if p.Proto != "BGP" {
					continue
				}
				bgp = append(bgp, p.Name)
				if (p.Info == "Established") != (p.Name == g.tunnel.Interface) {
					t.Errorf("%s: %s is %q", g.name, p.Name, p.Info)
				}
			}
			if len(bgp) != 4 {
				t.Errorf("%s: BGP protocols %v, want one per tunnel (4)", g.name, bgp)
			}
		}
	})

	t.Run("KernelRoutes", func(t *testing.T) {
		want := map[*nsGateway][]nsRoute{
			paris: {
				{Dst: "10.0.2.0/24", Gateway: "169.254.0.3", Dev: "wg3", Protocol: "bird"},
				{Dst: "2001:db8:a2::/64", Gateway: "2001:db8:ff::3", Dev: "wg3", Protocol: "bird"},
			},
			berlin: {
				{Dst: "10.0.1.0/24", Gateway: "169.254.0.2", Dev: "wg1", Protocol: "bird"},
				{Dst: "2001:db8:a1::/64", Gateway: "2001:db8:ff::2", Dev: "wg1", Protocol: "bird"},
			},
		}
		for _, g := range []*nsGateway{paris, berlin} {
			// BIRD's kernel protocol installs an imported route at once;
			// the wait only covers the two being separate steps.
			pollUntil(ctx, t, g.name+"'s kernel routes", func() error {
				got, err := g.birdRoutes()
				if err != nil {
					return err
				}
				if !slices.Equal(got, want[g]) {
					return fmt.Errorf("%s: routes of proto bird %+v, want %+v", g.name, got, want[g])
				}
				return nil
			})
		}
		// Nothing of tokyo's nor of the foreign prefix reached paris, by
		// any protocol.
		all, err := paris.routes("")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range all {
			for _, bad := range []string{"10.0.3.0/24", "2001:db8:a3::/64", "192.0.2.0/24"} {
				if routeOverlaps(r.Dst, bad) {
					t.Errorf("paris has a route to %s: %+v", bad, r)
				}
			}
		}
	})

	t.Run("ExportOnlyOwnSite", func(t *testing.T) {
		// Berlin's table holds its LAN's five prefixes, as candidates for
		// export...
		for _, p := range []string{"10.0.2.0/24", "2001:db8:a2::/64", "10.0.3.0/24", "2001:db8:a3::/64", "192.0.2.0/24"} {
			if ok, err := birdHasRoute(ctx, berlin.client, p); err != nil || !ok {
				t.Errorf("berlin's BIRD has no route to %s (%v): the export filter is not tested", p, err)
			}
		}
		// ...and sends paris only its own site's, one per family (the wait
		// above checked the counts on both sides): paris received nothing
		// it had to filter.
		for _, ch := range []string{"ipv4", "ipv6"} {
			st, err := channelImportStats(ctx, paris.client, "wg3", ch)
			if err != nil {
				t.Fatal(err)
			}
			if st.received != 1 || st.filtered != 0 || st.accepted != 1 {
				t.Errorf("paris wg3 %s: import updates %+v, want 1 received and accepted, 0 filtered", ch, st)
			}
		}
	})

	t.Run("Ping", func(t *testing.T) {
		// ping -c1 -I SRC DST from paris's namespace, in Go: an echo
		// request from one site's address to the other's, and its reply,
		// cross the tunnel both ways on the routes BIRD installed.
		for _, p := range [][2]string{{"10.0.1.1", "10.0.2.1"}, {"2001:db8:a1::1", "2001:db8:a2::1"}} {
			rtt, err := pingFrom(ctx, paris.ns, netip.MustParseAddr(p[0]), netip.MustParseAddr(p[1]))
			if err != nil {
				t.Errorf("ping -I %s %s from paris: %v", p[0], p[1], err)
				continue
			}
			t.Logf("ping -I %s %s: reply in %v", p[0], p[1], rtt)
		}
	})

	t.Run("ImportOnlyPeerSite", func(t *testing.T) {
		// Berlin now misbehaves: its sessions export every prefix of its
		// LAN. Paris must receive them and keep only berlin's.
		conf := string(berlin.conf)
		leaky := strings.NewReplacer(
			"export where net ~ AS65002_V4 && source != RTS_BGP;", "export where source = RTS_DEVICE;",
			"export where net ~ AS65002_V6 && source != RTS_BGP;", "export where source = RTS_DEVICE;",
		).Replace(conf)
		if strings.Count(leaky, "export where source = RTS_DEVICE;") != 8 {
			t.Fatalf("berlin's config does not have the expected export filters:\n%s", conf)
		}
		path := filepath.Join(dir, berlin.name+"-leaky.conf")
		if err := os.WriteFile(path, []byte(leaky), 0o644); err != nil {
			t.Fatal(err)
		}
		before := map[string]importUpdates{}
		var err error
		for _, ch := range []string{"ipv4", "ipv6"} {
			if before[ch], err = channelImportStats(ctx, paris.client, "wg3", ch); err != nil {
				t.Fatal(err)
			}
		}
		res, err := berlin.client.Configure(ctx, path)
		if err != nil || res != bird.Reconfigured {
			t.Fatalf("configure berlin: %v, %v", res, err)
		}
		// Berlin re-sends its whole table (3 IPv4, 2 IPv6 prefixes): once
		// paris has received them, its import filter must have rejected
		// tokyo's prefixes and 192.0.2.0/24.
		for _, w := range []struct {
			ch                 string
			received, filtered uint32
		}{{"ipv4", 3, 2}, {"ipv6", 2, 1}} {
			var st importUpdates
			pollUntil(ctx, t, "paris to receive berlin's "+w.ch+" prefixes", func() error {
				st, err = channelImportStats(ctx, paris.client, "wg3", w.ch)
				if err == nil && st.received-before[w.ch].received < w.received {
					err = fmt.Errorf("paris wg3 %s: import updates %+v (before: %+v), want %d more received",
						w.ch, st, before[w.ch], w.received)
				}
				return err
			})
			if d := st.filtered - before[w.ch].filtered; d != w.filtered {
				t.Errorf("paris wg3 %s: import updates %+v (before: %+v): %d more filtered, want %d",
					w.ch, st, before[w.ch], d, w.filtered)
			}
		}
		// Berlin exported them all; paris imported only berlin's, and its
		// kernel still has only berlin's prefixes.
		if err := wantSessionRoutes(ctx, berlin, 1, 2, 1, 3); err != nil {
			t.Error(err)
		}
		if err := wantSessionRoutes(ctx, paris, 1, 1, 1, 1); err != nil {
			t.Error(err)
		}
		got, err := paris.birdRoutes()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Dst != "10.0.2.0/24" || got[1].Dst != "2001:db8:a2::/64" {
			t.Errorf("paris's routes of proto bird: %+v", got)
		}
	})
	t.Run("BFD", func(t *testing.T) {
		// bgp { bfd = true } pushed to both gateways, one after the
		// other as a rollout does: the session stays up (BIRD adds BFD to
		// it without a restart) and BFD comes up on the tunnel.
		since := map[*nsGateway]time.Time{}
		configured := time.Now()
		for _, g := range []*nsGateway{paris, berlin} {
			d, err := protocolDetail(ctx, g.client, g.tunnel.Interface)
			if err != nil {
				t.Fatal(err)
			}
			since[g] = d.Since
			p := *g.plan
			p.BGP.BFD = true
			path := filepath.Join(dir, g.name+"-bfd.conf")
			if err := os.WriteFile(path, renderBIRDConf(t, &p), 0o644); err != nil {
				t.Fatal(err)
			}
			if res, err := g.client.Configure(ctx, path); err != nil || res != bird.Reconfigured {
				t.Fatalf("configure %s with BFD: %v, %v", g.name, res, err)
			}
		}
		for _, g := range []*nsGateway{paris, berlin} {
			pollUntil(ctx, t, g.name+"'s BFD session Up", func() error { return bfdUp(ctx, g) })
			d, err := protocolDetail(ctx, g.client, g.tunnel.Interface)
			if err != nil {
				t.Fatal(err)
			}
			// A restart would date the session after the configure; the
			// same "since" may print a few ms apart (BIRD derives it from
			// its monotonic clock at each print).
			if !d.BGP.Established() || !d.Since.Before(configured) {
				t.Errorf("%s %s: %s since %v, was established since %v: turning BFD on restarted the session",
					g.name, d.Name, d.BGP.State, d.Since, since[g])
			}
		}

		// Paris's BIRD stalls for 1.5 s (three detection times of 0.5 s),
		// as a loaded gateway may: BFD takes the session down, and once
		// paris answers again the session must come back within seconds,
		// not after BIRD's default "error wait time" of 60 s.
		if err := syscall.Kill(paris.pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1500 * time.Millisecond) // the stall itself, not a wait for a condition
		if err := syscall.Kill(paris.pid, syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		resumed := time.Now()
		d, err := protocolDetail(ctx, berlin.client, berlin.tunnel.Interface)
		if err != nil {
			t.Fatal(err)
		}
		if d.Since.Before(resumed.Add(-1500 * time.Millisecond)) {
			t.Fatalf("berlin %s: still up since %v after paris stalled: BFD did not detect it", d.Name, d.Since)
		}
		recover, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		pollUntil(recover, t, "the session back after the stall", func() error {
			if err := wantSessionRoutes(ctx, paris, 1, 1, 1, 1); err != nil {
				return err
			}
			return wantSessionRoutes(ctx, berlin, 1, 1, 1, 1)
		})
		t.Logf("session re-established %v after the stall ended", time.Since(resumed).Round(time.Millisecond))
		for _, g := range []*nsGateway{paris, berlin} {
			pollUntil(ctx, t, g.name+"'s BFD session Up again", func() error { return bfdUp(ctx, g) })
		}
	})

	t.Logf("done in %v", time.Since(start).Round(time.Millisecond))
}

// gateway is one gateway of the example fleet run in a namespace of its
// own, with only its tunnel to the other one.
type nsGateway struct {
	name   string
	plan   *plan.Gateway
	tunnel plan.Tunnel // to the other gateway
	conf   []byte      // the rendered BIRD configuration
	lan    []string    // addresses on eth2
	shares *nsGateway  // another tunnel of that gateway: its namespace and BIRD

	ns     string
	pid    int // BIRD's
	stop   func()
	log    string
	client *bird.Client
}

func exampleFleetNetNS(t *testing.T) *fleet.Fleet {
	t.Helper()
	src, err := testfleet.ExampleSource()
	if err != nil {
		t.Fatal(err)
	}
	f, err := testfleet.Parse(load.Source{Name: "fleet.hcl", Bytes: src})
	if err != nil {
		t.Fatal(err)
	}
	if f.Isolation != fleet.NetNS {
		t.Fatalf("the example fleet is in %v mode, want netns", f.Isolation)
	}
	return f
}

// newGateway plans and renders gateway name of f, whose tunnel to peer
// this test realizes.
func newNSGateway(t *testing.T, f *fleet.Fleet, name, peer string) *nsGateway {
	t.Helper()
	var me *fleet.Gateway
	for _, g := range f.Gateways() {
		if g.Name == name {
			me = g
		}
	}
	if me == nil {
		t.Fatalf("no gateway %s in the example fleet", name)
	}
	g := &nsGateway{name: name, plan: plan.For(f, me)}
	for _, tun := range g.plan.Tunnels {
		if tun.Peer.Gateway == peer {
			g.tunnel = tun
		}
	}
	if g.tunnel.Interface == "" {
		t.Fatalf("%s has no tunnel to %s", name, peer)
	}
	g.conf = renderBIRDConf(t, g.plan)
	return g
}

// renderBIRDConf renders p and returns its BIRD configuration.
func renderBIRDConf(t *testing.T, p *plan.Gateway) []byte {
	t.Helper()
	tree, err := render.Render(p)
	if err != nil {
		t.Fatal(err)
	}
	file := tree.Get(render.BirdDir + "/" + render.NamesFor(p).BirdConfBase)
	if file == nil {
		t.Fatalf("%s: no BIRD configuration rendered", p.Name)
	}
	return file.Content
}

// bfdUp checks that BIRD has its BFD session on the gateway's tunnel Up.
func bfdUp(ctx context.Context, g *nsGateway) error {
	lines, err := g.client.Raw(ctx, "show bfd sessions")
	if err != nil {
		return err
	}
	var all []string
	for _, l := range lines {
		f := strings.Fields(l.Text)
		if len(f) >= 3 && f[0] == g.tunnel.Remote6.String() && f[1] == g.tunnel.Interface {
			if f[2] == "Up" {
				return nil
			}
		}
		all = append(all, l.Text)
	}
	return fmt.Errorf("%s: no BFD session Up to %s on %s:\n%s", g.name, g.tunnel.Remote6, g.tunnel.Interface, strings.Join(all, "\n"))
}

// netns creates the gateway's namespace, removed in t.Cleanup, set up as
// the namespace unit does: forwarding on, loopback up.
func (g *nsGateway) netns(t *testing.T) {
	t.Helper()
	g.ns = fmt.Sprintf("sitevpn-rendertest-%d-%s", os.Getpid(), g.name)
	// No duplicate address detection: addresses usable at once, as on a
	// WireGuard link (which does none).
	testnetns.New(t, g.ns, "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
		"net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
}

// joinByVeth joins a and b by a veth pair standing in for their tunnel, named
// and addressed as the plan says.
func joinByVeth(t *testing.T, a, b *nsGateway) {
	t.Helper()
	// Created directly in the namespaces: nothing appears in the host's.
	nsRun(t, "ip", "link", "add", a.tunnel.Interface, "netns", a.ns, "type", "veth",
		"peer", "name", b.tunnel.Interface, "netns", b.ns)
	for _, g := range []*nsGateway{a, b} {
		dev := g.tunnel.Interface
		// A WireGuard link has no link-local address: without one, BIRD
		// sends the global transit address as the IPv6 next hop, as it
		// will on the real tunnel.
		nsRun(t, "ip", "-n", g.ns, "link", "set", dev, "mtu", strconv.Itoa(g.tunnel.MTU), "addrgenmode", "none")
		nsRun(t, "ip", "-n", g.ns, "addr", "add", g.tunnel.Local6.String(), "dev", dev, "nodad")
		if g.tunnel.Local4.IsValid() { // none without transit4 (RFC 8950)
			nsRun(t, "ip", "-n", g.ns, "addr", "add", g.tunnel.Local4.String(), "dev", dev)
		}
		nsRun(t, "ip", "-n", g.ns, "link", "set", dev, "up")
	}
}

// lanLink gives the gateway an eth2 (one of its LAN interfaces in the
// example fleet, so BIRD's direct protocol reads it) with g.lan on it. A
// dummy interface would do, but not every kernel has the module: eth2 is
// one end of a veth pair whose other end, eth2-lan, stays in the
// namespace, unaddressed, to give eth2 its carrier.
func (g *nsGateway) lanLink(t *testing.T) {
	t.Helper()
	if !slices.ContainsFunc(g.plan.LANs, func(l fleet.LAN) bool { return l.Interface == "eth2" }) {
		t.Fatalf("%s has no LAN eth2", g.name)
	}
	nsRun(t, "ip", "-n", g.ns, "link", "add", "eth2", "type", "veth", "peer", "name", "eth2-lan")
	for _, a := range g.lan {
		args := []string{"-n", g.ns, "addr", "add", a, "dev", "eth2"}
		if strings.Contains(a, ":") {
			args = append(args, "nodad")
		}
		nsRun(t, "ip", args...)
	}
	nsRun(t, "ip", "-n", g.ns, "link", "set", "eth2-lan", "up")
	nsRun(t, "ip", "-n", g.ns, "link", "set", "eth2", "up")
}

// startBIRD runs BIRD in the gateway's namespace on its rendered
// configuration, stopped in t.Cleanup (before the namespace goes), and
// connects a client once the control socket answers.
func (g *nsGateway) startBIRD(ctx context.Context, t *testing.T, birdBin, dir string) {
	t.Helper()
	conf := filepath.Join(dir, g.name+".conf")
	if err := os.WriteFile(conf, g.conf, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, g.name+".ctl")
	g.log = filepath.Join(dir, g.name+".log")
	logf, err := os.Create(g.log)
	if err != nil {
		t.Fatal(err)
	}
	// "ip netns exec" execs BIRD in place, so cmd.Process is BIRD itself.
	cmd := exec.Command("ip", "netns", "exec", g.ns, birdBin, "-f",
		"-c", conf, "-s", sock, "-P", filepath.Join(dir, g.name+".pid"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	g.pid = cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	g.stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		logf.Close()
	}
	t.Cleanup(g.stop)

	pollUntil(ctx, t, g.name+"'s BIRD control socket", func() error {
		select {
		case err := <-exited:
			out, _ := os.ReadFile(g.log)
			t.Fatalf("%s: bird exited: %v\n%s", g.name, err, out)
		default:
		}
		conn, err := net.Dial("unix", sock)
		if err == nil {
			conn.Close()
		}
		return err
	})
	g.client, err = bird.Dial(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.client.Close() })
}

// dump logs what helps understand a failure.
func (g *nsGateway) dump(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var b strings.Builder
	if lines, err := g.client.Raw(ctx, "show protocols all"); err != nil {
		fmt.Fprintf(&b, "show protocols all: %v\n", err)
	} else {
		for _, l := range lines {
			fmt.Fprintln(&b, l.Text)
		}
	}
	if lines, err := g.client.Raw(ctx, "show route all"); err == nil {
		for _, l := range lines {
			fmt.Fprintln(&b, l.Text)
		}
	}
	for _, fam := range []string{"-4", "-6"} {
		out, _ := exec.Command("ip", "-n", g.ns, fam, "route").CombinedOutput()
		b.Write(out)
	}
	out, _ := os.ReadFile(g.log)
	t.Logf("%s:\n%s\nbird output:\n%s", g.name, b.String(), out)
}

// wantRoutes checks that the gateway's session on its tunnel is
// established with these route counts per channel.
func wantSessionRoutes(ctx context.Context, g *nsGateway, imp6, exp6, imp4, exp4 uint32) error {
	name := g.tunnel.Interface
	d, err := protocolDetail(ctx, g.client, name)
	if err != nil {
		return err
	}
	if !d.BGP.Established() {
		return fmt.Errorf("%s %s: BGP state %q, info %q, last error %q", g.name, name, d.BGP.State, d.Info, d.BGP.LastError)
	}
	if want := time.Duration(g.plan.BGP.HoldTime) * time.Second; d.BGP.HoldTime != want || d.BGP.SourceAddress != g.tunnel.Local6.Addr() {
		return fmt.Errorf("%s %s: hold time %v, source %v; want %v, %v", g.name, name, d.BGP.HoldTime, d.BGP.SourceAddress, want, g.tunnel.Local6.Addr())
	}
	for _, w := range []struct {
		ch       string
		imp, exp uint32
	}{{"ipv6", imp6, exp6}, {"ipv4", imp4, exp4}} {
		ch := d.Channel(w.ch)
		if ch == nil {
			return fmt.Errorf("%s %s: no channel %s", g.name, name, w.ch)
		}
		if r := ch.Routes; r.Imported != w.imp || r.Exported != w.exp || r.Preferred != w.imp || r.Filtered != 0 {
			return fmt.Errorf("%s %s %s: routes %+v, want %d imported (and preferred), %d exported",
				g.name, name, w.ch, r, w.imp, w.exp)
		}
		if ch.Preference != 160 {
			return fmt.Errorf("%s %s %s: preference %d, want 160", g.name, name, w.ch, ch.Preference)
		}
	}
	return nil
}

// importUpdates is a channel's "Import updates" row of "show protocols all".
type importUpdates struct{ received, rejected, filtered, ignored, accepted uint32 }

// importStats reads the "Import updates" row of channel ch of protocol
// name, which internal/bird does not parse.
func channelImportStats(ctx context.Context, c *bird.Client, name, ch string) (importUpdates, error) {
	lines, err := c.Raw(ctx, "show protocols all '"+name+"'")
	if err != nil {
		return importUpdates{}, err
	}
	in := false
	for _, l := range lines {
		text := strings.TrimSpace(l.Text)
		if strings.HasPrefix(text, "Channel ") {
			in = text == "Channel "+ch
			continue
		}
		if !in || !strings.HasPrefix(text, "Import updates:") {
			continue
		}
		f := strings.Fields(strings.TrimPrefix(text, "Import updates:"))
		if len(f) != 5 {
			return importUpdates{}, fmt.Errorf("%s %s: odd row %q", name, ch, text)
		}
		var n [5]uint32
		for i, s := range f {
			v, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return importUpdates{}, fmt.Errorf("%s %s: odd row %q", name, ch, text)
			}
			n[i] = uint32(v)
		}
		return importUpdates{n[0], n[1], n[2], n[3], n[4]}, nil
	}
	return importUpdates{}, fmt.Errorf("%s: no import updates for channel %s", name, ch)
}

// hasRoute reports whether BIRD's tables hold a route to prefix.
func birdHasRoute(ctx context.Context, c *bird.Client, prefix string) (bool, error) {
	lines, err := c.Raw(ctx, "show route "+prefix)
	var re *bird.ReplyError
	if errors.As(err, &re) && strings.Contains(re.Message, "not found") {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l.Text), prefix) {
			return true, nil
		}
	}
	return false, nil
}

// nsRoute is a route of "ip -j route".
type nsRoute struct {
	Dst      string `json:"dst"`
	Gateway  string `json:"gateway"`
	Dev      string `json:"dev"`
	Protocol string `json:"protocol"`
}

// routes lists the main table's routes of both families in the gateway's
// namespace, of protocol proto ("" for all).
func (g *nsGateway) routes(proto string) ([]nsRoute, error) {
	var all []nsRoute
	for _, fam := range []string{"-4", "-6"} {
		args := []string{"-j", "-n", g.ns, fam, "route", "show", "table", "main"}
		if proto != "" {
			args = append(args, "proto", proto)
		}
		out, err := exec.Command("ip", args...).Output()
		if err != nil {
			return nil, fmt.Errorf("ip %s: %v", strings.Join(args, " "), err)
		}
		var rs []nsRoute
		if err := json.Unmarshal(out, &rs); err != nil {
			return nil, fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
		for i := range rs {
			if rs[i].Protocol == "" {
				rs[i].Protocol = proto
			}
		}
		all = append(all, rs...)
	}
	return all, nil
}

// birdRoutes lists the routes BIRD installed in the gateway's kernel.
func (g *nsGateway) birdRoutes() ([]nsRoute, error) { return g.routes("bird") }

// overlaps reports whether the route dst ("default", an address or a
// prefix) covers or falls inside prefix p.
func routeOverlaps(dst, p string) bool {
	pp := netip.MustParsePrefix(p)
	if dst == "default" {
		return true
	}
	d, err := netip.ParsePrefix(dst)
	if err != nil {
		a, err := netip.ParseAddr(dst)
		if err != nil {
			return false
		}
		d = netip.PrefixFrom(a, a.BitLen())
	}
	return d.Overlaps(pp)
}

// pingFrom sends one ICMP echo request from src to dst inside network
// namespace ns, as "ping -c1 -I src dst" run there would, and waits for
// the reply.
func pingFrom(ctx context.Context, ns string, src, dst netip.Addr) (time.Duration, error) {
	network, proto, typ, reply := "ip4:icmp", 1, icmp.Type(ipv4.ICMPTypeEcho), icmp.Type(ipv4.ICMPTypeEchoReply)
	if src.Is6() {
		network, proto, typ, reply = "ip6:ipv6-icmp", 58, ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply
	}
	conn, err := listenIn(ns, func() (*icmp.PacketConn, error) { return icmp.ListenPacket(network, src.String()) })
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	id, seq := os.Getpid()&0xffff, 1
	msg, err := (&icmp.Message{Type: typ, Body: &icmp.Echo{ID: id, Seq: seq, Data: []byte("sitevpn")}}).Marshal(nil)
	if err != nil {
		return 0, err
	}
	deadline := time.Now().Add(5 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn.SetDeadline(deadline)
	sent := time.Now()
	if _, err := conn.WriteTo(msg, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
		return 0, err
	}
	// A raw socket sees every ICMP message of the namespace: wait for the
	// reply to this request, from dst.
	buf := make([]byte, 1500)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return 0, fmt.Errorf("no echo reply: %w", err)
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil || m.Type != reply {
			continue
		}
		if e, ok := m.Body.(*icmp.Echo); ok && e.ID == id && e.Seq == seq && from.String() == dst.String() {
			return time.Since(sent), nil
		}
	}
}

// listenIn runs listen, which opens a socket, in network namespace ns:
// the socket stays in ns once the thread is back in its own.
func listenIn[C any](ns string, listen func() (C, error)) (C, error) {
	var zero C
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return zero, err
	}
	defer orig.Close()
	h, err := netns.GetFromName(ns)
	if err != nil {
		runtime.UnlockOSThread()
		return zero, err
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		runtime.UnlockOSThread()
		return zero, err
	}
	c, lerr := listen()
	if err := netns.Set(orig); err != nil {
		// The thread is stuck in ns: it stays locked, so Go ends it with
		// this goroutine instead of running others on it.
		return zero, fmt.Errorf("back to the original network namespace: %w", err)
	}
	runtime.UnlockOSThread()
	return c, lerr
}

// waitFor polls cond until it returns nil, failing the test with its last
// error when ctx ends.
func pollUntil(ctx context.Context, t *testing.T, what string, cond func() error) {
	t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (last: %v)", what, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

func nsRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// protocolDetail returns the protocol called name from "show protocols all".
func protocolDetail(ctx context.Context, c *bird.Client, name string) (*bird.ProtocolDetail, error) {
	ds, err := c.ProtocolDetails(ctx)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		if ds[i].Name == name {
			return &ds[i], nil
		}
	}
	return nil, fmt.Errorf("BIRD runs no protocol %s", name)
}

// startGateways runs gws: each in its namespace (one with shares set in
// that gateway's, with its BIRD: another tunnel of the same gateway), the
// pairs of links joined by veth pairs named like their tunnels, each with
// its LAN and its BIRD. On failure their state is dumped. It returns the
// directory of the BIRDs' files (NAME.conf, NAME.ctl, NAME.log).
func startGateways(ctx context.Context, t *testing.T, birdBin string, gws []*nsGateway, links [][2]*nsGateway) string {
	t.Helper()
	dir := t.TempDir()
	var own []*nsGateway
	for _, g := range gws {
		if g.shares == nil {
			g.netns(t)
			own = append(own, g)
		}
	}
	for _, g := range gws {
		if g.shares != nil {
			g.ns = g.shares.ns
		}
	}
	for _, l := range links {
		joinByVeth(t, l[0], l[1])
	}
	for _, g := range own {
		g.lanLink(t)
		g.startBIRD(ctx, t, birdBin, dir)
	}
	for _, g := range gws {
		if g.shares != nil {
			g.client = g.shares.client
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, g := range own {
				g.dump(t)
			}
		}
	})
	return dir
}
