//go:build linux

package bird

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sitevpn/sitevpn/internal/testnetns"
)

var record = flag.Bool("record", false, "TestIntegrationBIRD: write the replies of the real BIRD to testdata/*.reply")

// TestIntegrationBIRD runs two real BIRDs, each in a network namespace the
// test creates, joined by veth pairs standing in for tunnels (transit
// addresses 2001:db8:ff::/127 and 169.254.0.0/31, the next pair for a
// second tunnel), with an eBGP session per tunnel, and checks the client
// against them: status, sessions and route counts, configuration errors,
// which reconfigurations keep sessions up and which restart them, a peer
// going down, BIRD restarting under a connected client.
//
// It needs SITEVPN_PRIVILEGED=1, root and bird2; nothing outside the two
// namespaces is touched. With -record it saves BIRD's raw replies to
// testdata for the unit tests.
func TestIntegrationBIRD(t *testing.T) {
	lab := newLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	a := lab.start(ctx, t, "a", gatewayConfig(gatewayA, 0))
	b := lab.start(ctx, t, "b", gatewayConfig(gatewayB, 0))

	// Gateway A exports 2 routes (1 IPv6, 1 IPv4); B exports 3 (2, 1).
	waitFor(ctx, t, "session established with routes", func() error {
		if err := wantRoutes(ctx, a, "wg2", 2, 1, 1, 1); err != nil {
			return err
		}
		return wantRoutes(ctx, b, "wg1", 1, 2, 1, 1)
	})

	t.Run("Status", func(t *testing.T) {
		if busy, err := a.reconfiguring(ctx); err != nil || busy {
			t.Errorf("reconfiguring = %v, %v; want false", busy, err)
		}
	})

	t.Run("Protocols", func(t *testing.T) {
		ps, err := a.ProtocolDetails(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]Protocol{}
		for _, p := range ps {
			got[p.Name] = p.Protocol
		}
		if p := got["wg2"]; p.Proto != "BGP" || p.State != "up" || p.Info != "Established" || p.Table != "" {
			t.Errorf("wg2 = %+v", p)
		}
		if p := got["s6"]; p.Proto != "Static" || p.Table != "master6" || p.State != "up" {
			t.Errorf("s6 = %+v", p)
		}
		// A's protocol times are in BIRD's default short format (time of
		// day), B's in "iso long ms": both must come out as the same clock.
		now := time.Now()
		for _, p := range ps {
			if d := now.Sub(p.Since); d < 0 || d > time.Minute {
				t.Errorf("%s: Since %v is not in the last minute", p.Name, p.Since)
			}
		}
		bp, err := b.ProtocolDetails(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(bp) == 0 || now.Sub(bp[0].Since) > time.Minute || now.Sub(bp[0].Since) < 0 {
			t.Errorf("B: %+v", bp)
		}
	})

	t.Run("ProtocolDetail", func(t *testing.T) {
		d, err := detailOf(ctx, a, "wg2")
		if err != nil {
			t.Fatal(err)
		}
		bgp := d.BGP
		if !bgp.Established() || bgp.NeighborAddress.String() != "2001:db8:ff::1" || bgp.Interface != "vtA" ||
			bgp.NeighborAS != 65002 || bgp.LocalAS != 65001 || bgp.NeighborID.String() != "192.0.2.2" ||
			bgp.SourceAddress.String() != "2001:db8:ff::" || bgp.HoldTime != 6*time.Second {
			t.Errorf("BGP = %+v", bgp)
		}
		if d.Description != "tunnel on vtA" {
			t.Errorf("Description = %q", d.Description)
		}
		if len(d.Channels) != 2 || d.Channels[0].Name != "ipv6" || d.Channels[1].Name != "ipv4" ||
			d.Channels[0].State != "UP" || d.Channels[0].Table != "master6" {
			t.Errorf("Channels = %+v", d.Channels)
		}

		var re *ReplyError
		_, err = a.Raw(ctx, `show protocols "nomatch*"`)
		if !errors.As(err, &re) || re.Code != codeNoProtocolsMatch {
			t.Errorf("pattern matching nothing: err = %v, want a %d reply", err, codeNoProtocolsMatch)
		}
	})

	t.Run("ConfigureCheckSyntaxError", func(t *testing.T) {
		good := gatewayConfig(gatewayA, 0)
		n := strings.Count(good, "\n")
		bad := lab.write(t, "a-bad.conf", good+"protocol static broken {\n  ipv6;\n  route 2001:db8:a1:9::/64 unreachable\n}\n")
		wantLine := n + 4 // BIRD reports the token after the missing ';'

		for name, call := range map[string]func() error{
			"check":     func() error { return a.configureCheck(ctx, bad) },
			"configure": func() error { _, err := a.Configure(ctx, bad); return err },
		} {
			err := call()
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("%s: err = %v, want a *ConfigError", name, err)
			}
			if ce.File != bad || ce.Line != wantLine || ce.Column < 1 || !strings.Contains(ce.Message, "syntax error") {
				t.Errorf("%s: %#v, want %s:%d: syntax error", name, ce, bad, wantLine)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%s:%d:", bad, wantLine)) {
				t.Errorf("%s: message %q does not name the line", name, err)
			}
		}
		// The failed configure left the old configuration running.
		if err := wantRoutes(ctx, a, "wg2", 2, 1, 1, 1); err != nil {
			t.Error(err)
		}

		missing := filepath.Join(lab.dir, "missing.conf")
		err := a.configureCheck(ctx, missing)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.File != missing || ce.Line != 0 || ce.Message != "No such file or directory" {
			t.Errorf("missing file: %v", err)
		}
		if err := a.configureCheck(ctx, lab.write(t, "a-good.conf", good)); err != nil {
			t.Errorf("valid config: %v", err)
		}
	})

	// Control.Check, the engine's check of a candidate: by the running
	// BIRD when one answers on the socket (its *ConfigError), else by
	// `bird -p` (its output).
	t.Run("ControlCheck", func(t *testing.T) {
		ctl := Control{Binary: lab.bird}
		good := lab.write(t, "a-candidate-good.conf", gatewayConfig(gatewayA, 0))
		bad := lab.write(t, "a-candidate-bad.conf", gatewayConfig(gatewayA, 0)+"protocol static broken {\n")
		if err := ctl.Check(ctx, lab.socket["a"], good); err != nil {
			t.Errorf("valid candidate through the socket: %v", err)
		}
		var ce *ConfigError
		if err := ctl.Check(ctx, lab.socket["a"], bad); !errors.As(err, &ce) || ce.File != bad || ce.Line == 0 {
			t.Errorf("invalid candidate through the socket: %v, want BIRD's *ConfigError naming %s:LINE", err, bad)
		}
		nobody := filepath.Join(lab.dir, "nobody.ctl")
		if err := ctl.Check(ctx, nobody, good); err != nil {
			t.Errorf("valid candidate, no BIRD on the socket: %v", err)
		}
		err := ctl.Check(ctx, nobody, bad)
		if err == nil || errors.As(err, &ce) || !strings.Contains(err.Error(), "bird -p rejects") {
			t.Errorf("invalid candidate, no BIRD on the socket: %v, want bird -p's rejection", err)
		}
		// The checks left the running configuration alone.
		if err := wantRoutes(ctx, a, "wg2", 2, 1, 1, 1); err != nil {
			t.Error(err)
		}
	})

	// The established session's start time on each side, before any
	// reconfiguration.
	up, upB := sessionSince(ctx, t, a, "wg2"), sessionSince(ctx, t, b, "wg1")

	t.Run("ConfigureAddRoutesIsSoft", func(t *testing.T) {
		// One more route in s6 and a new protocol s6b with another one.
		before := time.Now()
		res, err := a.Configure(ctx, lab.write(t, "a.conf", gatewayConfig(gatewayA, stepMoreRoutes)))
		if err != nil || res != Reconfigured {
			t.Fatalf("Configure = %v, %v; want %v", res, err, Reconfigured)
		}
		waitFor(ctx, t, "the new routes at the peer", func() error {
			if err := wantRoutes(ctx, a, "wg2", 2, 3, 1, 1); err != nil {
				return err
			}
			return wantRoutes(ctx, b, "wg1", 3, 2, 1, 1)
		})
		checkNotReset(ctx, t, a, "wg2", up, before)
		checkNotReset(ctx, t, b, "wg1", upB, before)
	})

	t.Run("ConfigureFilterChangeIsSoft", func(t *testing.T) {
		// The export filter now leaves out s6b's route: BIRD re-exports
		// without restarting the session.
		before := time.Now()
		res, err := a.Configure(ctx, lab.write(t, "a.conf", gatewayConfig(gatewayA, stepMoreRoutes|stepFilter)))
		if err != nil || res != Reconfigured {
			t.Fatalf("Configure = %v, %v; want %v", res, err, Reconfigured)
		}
		waitFor(ctx, t, "the filtered route withdrawn at the peer", func() error {
			if err := wantRoutes(ctx, a, "wg2", 2, 2, 1, 1); err != nil {
				return err
			}
			return wantRoutes(ctx, b, "wg1", 2, 2, 1, 1)
		})
		checkNotReset(ctx, t, a, "wg2", up, before)
		checkNotReset(ctx, t, b, "wg1", upB, before)
	})

	t.Run("ConfigureSessionOptionRestartsSession", func(t *testing.T) {
		// The control for the two tests above: a changed BGP option does
		// restart the session, and the start time shows it.
		before := time.Now()
		path := lab.write(t, "a.conf", gatewayConfig(gatewayA, stepMoreRoutes|stepFilter|stepHoldTime))
		if *record {
			// The same change, made through raw replies first, while the
			// two reconfigurations still overlap.
			lab.write(t, "a-hold.conf", gatewayConfig(gatewayA, stepMoreRoutes|stepFilter|stepHoldTime))
			lab.recordReconfiguration(ctx, t)
		}
		res, err := a.Configure(ctx, path)
		if err != nil || (res != ReconfigurationInProgress && res != Reconfigured) {
			t.Fatalf("Configure = %v, %v", res, err)
		}
		// A second configure right away usually finds the first one still
		// waiting for the session to close.
		res2, err := a.Configure(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("hold time change: %v, then again: %v", res, res2)
		if err := a.waitReconfigured(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(ctx, t, "the session back with its routes", func() error {
			return wantRoutes(ctx, a, "wg2", 2, 2, 1, 1)
		})
		d, err := detailOf(ctx, a, "wg2")
		if err != nil {
			t.Fatal(err)
		}
		// BGP settles on the lower of the two hold times, so changing it on
		// one side restarted the session for nothing visible.
		if d.BGP.HoldTime != 6*time.Second {
			t.Errorf("negotiated hold time %v, want 6s (the peer's)", d.BGP.HoldTime)
		}
		if after := sessionSince(ctx, t, a, "wg2"); after.Before(before) {
			t.Errorf("session start %v is before the reconfiguration at %v: the restart went unnoticed", after, before)
		}
	})

	t.Run("PeerDown", func(t *testing.T) {
		// A disables its side: B must see its session go down, with why.
		lines, err := a.Raw(ctx, "disable wg2")
		if err != nil || lines[0].Code != 9 {
			t.Fatalf("disable: %v, %v", lines, err)
		}
		waitFor(ctx, t, "B to see the session down", func() error {
			d, err := detailOf(ctx, b, "wg1")
			if err != nil {
				return err
			}
			if d.BGP.Established() || d.State != "start" || !strings.Contains(d.BGP.LastError, "Administrative shutdown") ||
				!strings.Contains(d.Info, "Administrative shutdown") || d.Routes() != (RouteCounts{}) {
				return fmt.Errorf("wg1: %+v, BGP %+v", d.Protocol, d.BGP)
			}
			return nil
		})
		// A flushes its routes before its protocol reads "down": wait.
		waitFor(ctx, t, "A's wg2 down", func() error {
			d, err := detailOf(ctx, a, "wg2")
			if err != nil {
				return err
			}
			if d.State != "down" || d.BGP.State != "Down" || d.Channels[0].State != "DOWN" {
				return fmt.Errorf("wg2 after disable: %+v, BGP %+v, channels %+v", d.Protocol, d.BGP, d.Channels)
			}
			return nil
		})
		lab.record(ctx, t, "a", "show-protocols-all-disabled", "show protocols all 'wg2'")
		lab.record(ctx, t, "b", "show-protocols-all-peer-down", "show protocols all 'wg1'")

		if _, err := a.Raw(ctx, "enable wg2"); err != nil {
			t.Fatal(err)
		}
		waitFor(ctx, t, "the session back", func() error {
			return wantRoutes(ctx, a, "wg2", 2, 2, 1, 1)
		})
	})

	if *record {
		lab.recordAll(ctx, t)
	}

	t.Run("BIRDRestarted", func(t *testing.T) {
		// The client keeps its connection to B across B's restart: the
		// first call after it must still work.
		if _, err := b.reconfiguring(ctx); err != nil {
			t.Fatal(err)
		}
		restarted := time.Now()
		lab.restart(ctx, t, "b")
		if _, err := b.reconfiguring(ctx); err != nil {
			t.Fatalf("first call after the restart: %v", err)
		}
		waitFor(ctx, t, "the session back after the restart", func() error {
			return wantRoutes(ctx, a, "wg2", 2, 2, 1, 1)
		})
		// The new BIRD's session, not the old one's: it started after.
		if since := sessionSince(ctx, t, b, "wg1"); since.Before(restarted.Add(-time.Second)) {
			t.Errorf("talking to the old BIRD? session up since %v, restarted at %v", since, restarted)
		}
	})

	t.Run("ConfigureAddTunnelIsSoft", func(t *testing.T) {
		// A second tunnel between the two gateways, configured on both
		// sides: its session comes up, the first one is not touched.
		upA, upB := sessionSince(ctx, t, a, "wg2"), sessionSince(ctx, t, b, "wg1")
		before := time.Now()
		const all = stepMoreRoutes | stepFilter | stepHoldTime
		for _, g := range []struct {
			c    *Client
			name string
			conf string
		}{{a, "a.conf", gatewayConfig(gatewayA, all|stepSecondTunnel)}, {b, "b.conf", gatewayConfig(gatewayB, stepSecondTunnel)}} {
			res, err := g.c.Configure(ctx, lab.write(t, g.name, g.conf))
			if err != nil || res != Reconfigured {
				t.Fatalf("Configure %s = %v, %v; want %v", g.name, res, err, Reconfigured)
			}
		}
		waitFor(ctx, t, "the second session with the same routes", func() error {
			for _, s := range []struct {
				c          *Client
				name, peer string
				imp6       uint32
			}{{a, "wg3", "wg2", 2}, {b, "wg1b", "wg1", 2}} {
				d, err := detailOf(ctx, s.c, s.name)
				if err != nil {
					return err
				}
				if !d.BGP.Established() || d.Channel("ipv6").Routes.Imported != s.imp6 || d.Channel("ipv4").Routes.Imported != 1 {
					return fmt.Errorf("%s: %s, channels %+v", s.name, d.BGP.State, d.Channels)
				}
			}
			return nil
		})
		checkNotReset(ctx, t, a, "wg2", upA, before)
		checkNotReset(ctx, t, b, "wg1", upB, before)

		// Each route has one best path: over both tunnels, as many
		// preferred routes as distinct routes.
		ds, err := a.ProtocolDetails(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var pref uint32
		for _, d := range ds {
			if d.BGP != nil {
				pref += d.Routes().Preferred
			}
		}
		if pref != 3 {
			t.Errorf("%d preferred routes over both tunnels, want 3", pref)
		}
		lab.record(ctx, t, "a", "show-protocols-all-two-tunnels", "show protocols all")
	})
}

// wantRoutes checks that the BGP session name is established with these
// route counts on its ipv6 and ipv4 channels.
func wantRoutes(ctx context.Context, c *Client, name string, imp6, exp6, imp4, exp4 uint32) error {
	d, err := detailOf(ctx, c, name)
	if err != nil {
		return err
	}
	if !d.BGP.Established() {
		return fmt.Errorf("%s: BGP state %q, info %q", name, d.BGP.State, d.Info)
	}
	for _, w := range []struct {
		ch       string
		imp, exp uint32
	}{{"ipv6", imp6, exp6}, {"ipv4", imp4, exp4}} {
		ch := d.Channel(w.ch)
		if ch == nil {
			return fmt.Errorf("%s: no channel %s", name, w.ch)
		}
		if r := ch.Routes; r.Imported != w.imp || r.Exported != w.exp || r.Preferred != w.imp {
			return fmt.Errorf("%s %s: routes %+v, want %d imported (and preferred), %d exported", name, w.ch, r, w.imp, w.exp)
		}
	}
	return nil
}

func sessionSince(ctx context.Context, t *testing.T, c *Client, name string) time.Time {
	t.Helper()
	ps, err := c.ProtocolDetails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Name == name {
			if p.Info != "Established" || p.Since.IsZero() {
				t.Fatalf("%s: %+v", name, p)
			}
			return p.Since
		}
	}
	t.Fatalf("no protocol %s", name)
	return time.Time{}
}

// checkNotReset fails unless the session still has the start time it had
// before the reconfiguration that began at before.
func checkNotReset(ctx context.Context, t *testing.T, c *Client, name string, up, before time.Time) {
	t.Helper()
	now := sessionSince(ctx, t, c, name)
	// BIRD prints the wall clock now minus the monotonic age of the event,
	// so the same moment can come out a little different as the two clocks
	// drift. A reset would move it past before, which is what is checked.
	const slack = 100 * time.Millisecond
	if d := now.Sub(up); d < -slack || d > slack || !now.Before(before) {
		t.Errorf("%s: session start moved from %v to %v (reconfigured at %v): the session was reset", name, up, now, before)
	}
}

// waitFor polls cond until it returns nil, failing the test with its last
// error when ctx ends.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() error) {
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

type gateway struct {
	routerID     string
	asn, peerASN int
	tunnels      [2]tunnel // the second only with stepSecondTunnel
	routes6      []string
	routes4      []string
	timeformat   string
}

// tunnel is one BGP session on a veth pair standing in for a WireGuard
// link, on its transit addresses.
type tunnel struct {
	session, iface, local, peer string
}

var (
	gatewayA = gateway{
		routerID: "192.0.2.1", asn: 65001, peerASN: 65002,
		tunnels: [2]tunnel{
			{"wg2", "vtA", "2001:db8:ff::", "2001:db8:ff::1"},
			{"wg3", "vtA3", "2001:db8:ff::2", "2001:db8:ff::3"},
		},
		routes6: []string{"2001:db8:a1::/64"}, routes4: []string{"10.0.1.0/24"},
		// No timeformat: BIRD's default prints the time of day only.
	}
	gatewayB = gateway{
		routerID: "192.0.2.2", asn: 65002, peerASN: 65001,
		tunnels: [2]tunnel{
			{"wg1", "vtB", "2001:db8:ff::1", "2001:db8:ff::"},
			{"wg1b", "vtB3", "2001:db8:ff::3", "2001:db8:ff::2"},
		},
		routes6: []string{"2001:db8:b1::/64", "2001:db8:b2::/64"}, routes4: []string{"10.0.2.0/24"},
		timeformat: "timeformat protocol iso long ms;",
	}
)

const (
	stepMoreRoutes   = 1 << iota // a route more in s6, a protocol s6b with one more
	stepFilter                   // export filter leaves s6b out
	stepHoldTime                 // hold time 6 -> 9
	stepSecondTunnel             // a second session, on the second veth pair
)

// gatewayConfig is a BIRD config in the shape sitevpn renders: an eBGP
// session per tunnel on the tunnel's transit addresses carrying IPv6 and
// IPv4, exporting the site's own (here static) routes.
func gatewayConfig(g gateway, step int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "router id %s;\n%s\nlog stderr all;\nprotocol device {}\n", g.routerID, g.timeformat)
	routes6 := g.routes6
	if step&stepMoreRoutes != 0 {
		routes6 = append(routes6[:len(routes6):len(routes6)], "2001:db8:a1:1::/64")
	}
	fmt.Fprintf(&b, "protocol static s6 {\n  ipv6;\n")
	for _, r := range routes6 {
		fmt.Fprintf(&b, "  route %s unreachable;\n", r)
	}
	fmt.Fprintf(&b, "}\nprotocol static s4 {\n  ipv4;\n")
	for _, r := range g.routes4 {
		fmt.Fprintf(&b, "  route %s unreachable;\n", r)
	}
	fmt.Fprintf(&b, "}\n")
	if step&stepMoreRoutes != 0 {
		fmt.Fprintf(&b, "protocol static s6b {\n  ipv6;\n  route 2001:db8:a1:2::/64 unreachable;\n}\n")
	}
	export := "source = RTS_STATIC"
	if step&stepFilter != 0 {
		export += " && proto != \"s6b\""
	}
	hold := 6
	if step&stepHoldTime != 0 {
		hold = 9
	}
	tunnels := g.tunnels[:1]
	if step&stepSecondTunnel != 0 {
		tunnels = g.tunnels[:]
	}
	for _, tun := range tunnels {
		fmt.Fprintf(&b, `protocol bgp %s {
  description "tunnel on %s";
  local %s as %d;
  neighbor %s as %d;
  interface "%s";
  hold time %d;
  connect delay time 1;
  connect retry time 1;
  error wait time 1, 2;
  ipv6 { import all; export where %s; };
  ipv4 { extended next hop on; import all; export where %s; };
}
`, tun.session, tun.iface, tun.local, g.asn, tun.peer, g.peerASN, tun.iface, hold, export, export)
	}
	return b.String()
}

// lab is two network namespaces joined by a veth pair, and the BIRDs
// running in them. Everything is removed in t.Cleanup.
type lab struct {
	dir    string
	bird   string
	ns     map[string]string // "a" -> namespace name
	socket map[string]string
	stop   map[string]func() // stops the side's BIRD
}

func newLab(t *testing.T) *lab {
	bird := testnetns.RequireBIRD(t)

	l := &lab{dir: t.TempDir(), bird: bird, ns: map[string]string{}, socket: map[string]string{}, stop: map[string]func(){}}
	for _, side := range []string{"a", "b"} {
		name := fmt.Sprintf("sitevpn-birdtest-%d-%s", os.Getpid(), side)
		// Link-local addresses usable at once: BIRD wants one for the
		// IPv6 next hop of a session bound to an interface.
		testnetns.New(t, name, "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
		l.ns[side] = name
	}
	a, b := l.ns["a"], l.ns["b"]
	for i, link := range []struct{ a, b, a6, b6, a4, b4 string }{
		{"vtA", "vtB", "2001:db8:ff::/127", "2001:db8:ff::1/127", "169.254.0.0/31", "169.254.0.1/31"},
		{"vtA3", "vtB3", "2001:db8:ff::2/127", "2001:db8:ff::3/127", "169.254.0.2/31", "169.254.0.3/31"},
	} {
		if gatewayA.tunnels[i].iface != link.a || gatewayB.tunnels[i].iface != link.b {
			t.Fatalf("tunnel %d: interfaces differ from the configs'", i)
		}
		// Created directly in the namespaces: nothing appears in the host's.
		run(t, "ip", "link", "add", link.a, "netns", a, "type", "veth", "peer", "name", link.b, "netns", b)
		run(t, "ip", "-n", a, "addr", "add", link.a6, "dev", link.a, "nodad")
		run(t, "ip", "-n", a, "addr", "add", link.a4, "dev", link.a)
		run(t, "ip", "-n", b, "addr", "add", link.b6, "dev", link.b, "nodad")
		run(t, "ip", "-n", b, "addr", "add", link.b4, "dev", link.b)
		run(t, "ip", "-n", a, "link", "set", link.a, "up")
		run(t, "ip", "-n", b, "link", "set", link.b, "up")
	}
	// Runs before the namespaces are deleted (cleanups run last first).
	t.Cleanup(func() {
		for _, side := range []string{"a", "b"} {
			if stop := l.stop[side]; stop != nil {
				stop()
			}
			if t.Failed() {
				out, _ := os.ReadFile(filepath.Join(l.dir, side+".log"))
				t.Logf("bird %s log:\n%s", side, out)
			}
		}
	})
	return l
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

func (l *lab) write(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(l.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// start runs BIRD in the side's namespace with config and returns a client
// connected to it once its socket answers.
func (l *lab) start(ctx context.Context, t *testing.T, side, config string) *Client {
	t.Helper()
	l.write(t, side+".conf", config)
	l.run(ctx, t, side)
	var c *Client
	waitFor(ctx, t, "bird "+side+" control socket", func() error {
		var err error
		c, err = Dial(ctx, l.socket[side])
		return err
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// run starts BIRD on the side's config file and waits until its control
// socket accepts connections.
func (l *lab) run(ctx context.Context, t *testing.T, side string) {
	t.Helper()
	sock := filepath.Join(l.dir, side+".ctl")
	logf, err := os.OpenFile(filepath.Join(l.dir, side+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	// "ip netns exec" execs BIRD in place, so cmd.Process is BIRD itself.
	cmd := exec.Command("ip", "netns", "exec", l.ns[side], l.bird, "-f",
		"-c", filepath.Join(l.dir, side+".conf"), "-s", sock, "-P", filepath.Join(l.dir, side+".pid"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		logf.Close()
	}
	// Stopped by the cleanup newLab registered, which outlives a subtest
	// that restarts BIRD.
	l.stop[side] = stop
	l.socket[side] = sock

	waitFor(ctx, t, "bird "+side+" control socket", func() error {
		select {
		case err := <-exited:
			t.Fatalf("bird %s exited: %v", side, err)
		default:
		}
		conn, err := net.Dial("unix", sock)
		if err == nil {
			conn.Close()
		}
		return err
	})
}

// restart stops the side's BIRD and starts it again, as systemd restarting
// its unit would.
func (l *lab) restart(ctx context.Context, t *testing.T, side string) {
	t.Helper()
	l.stop[side]()
	l.run(ctx, t, side)
}

// record saves BIRD's raw reply to cmd as testdata/file.reply, with -record.
func (l *lab) record(ctx context.Context, t *testing.T, side, file, cmd string) {
	t.Helper()
	if !*record {
		return
	}
	raw, err := rawReply(ctx, l.socket[side], cmd)
	if err != nil {
		t.Fatalf("record %s: %v", file, err)
	}
	l.save(t, file, raw)
}

func (l *lab) save(t *testing.T, file, raw string) {
	t.Helper()
	// The lab's temporary directory differs on every run.
	raw = strings.ReplaceAll(raw, l.dir, "/etc/bird")
	if err := os.WriteFile(filepath.Join("testdata", file+".reply"), []byte(raw), 0o644); err != nil {
		t.Fatal(err)
	}
}

// recordReconfiguration records a reconfiguration that restarts a session
// and a second one sent before the first ended, on one connection as the
// Client would send them. Which replies come depends on timing, so only
// the expected ones are kept.
func (l *lab) recordReconfiguration(ctx context.Context, t *testing.T) {
	path := filepath.Join(l.dir, "a-hold.conf")
	cmds := []string{`configure "` + path + `"`, `configure "` + path + `"`, "show status", "configure status"}
	want := []string{"0004 ", "0005 ", "0013 Reconfiguration in progress", "0005-"}
	files := []string{"configure-in-progress", "configure-queued", "show-status-reconfiguring", "configure-status-queued"}
	replies, err := rawReplies(ctx, l.socket["a"], cmds...)
	if err != nil {
		t.Fatal(err)
	}
	for i, raw := range replies[1:] {
		if !strings.Contains(raw, want[i]) {
			t.Logf("record: %s gave %q, not saved", cmds[i], raw)
			continue
		}
		l.save(t, files[i], raw)
	}
}

// recordAll saves BIRD's raw replies to commands the unit tests replay.
func (l *lab) recordAll(ctx context.Context, t *testing.T) {
	bad := filepath.Join(l.dir, "a-bad.conf")
	for _, r := range []struct{ side, file, cmd string }{
		{"a", "show-status", "show status"},
		{"a", "show-protocols-all", "show protocols all"},
		{"a", "show-protocols-all-wg2", "show protocols all 'wg2'"},
		{"a", "show-protocols-nomatch", `show protocols "nomatch*"`},
		{"a", "configure-check-ok", `configure check "` + filepath.Join(l.dir, "a-good.conf") + `"`},
		{"a", "configure-check-syntax-error", `configure check "` + bad + `"`},
		{"a", "configure-check-missing", `configure check "` + filepath.Join(l.dir, "missing.conf") + `"`},
		{"a", "configure-reconfigured", `configure "` + filepath.Join(l.dir, "a.conf") + `"`},
		{"a", "not-a-command", "frobnicate"},
	} {
		l.record(ctx, t, r.side, r.file, r.cmd)
	}
	raw, err := rawReplies(ctx, l.socket["a"])
	if err != nil {
		t.Fatal(err)
	}
	l.save(t, "greeting", raw[0])
}

// rawReply sends cmd on a connection of its own and returns BIRD's reply
// byte for byte.
func rawReply(ctx context.Context, sock, cmd string) (string, error) {
	r, err := rawReplies(ctx, sock, cmd)
	if err != nil {
		return "", err
	}
	return r[1], nil
}

// rawReplies sends cmds one after the other, each as soon as the reply to
// the one before has ended, and returns the greeting and every reply as
// BIRD sent them.
func rawReplies(ctx context.Context, sock string, cmds ...string) ([]string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	r := bufio.NewReader(conn)
	readRaw := func() (string, error) {
		var b strings.Builder
		for {
			line, err := r.ReadString('\n')
			b.WriteString(line)
			if err != nil {
				return b.String(), err
			}
			if _, final, ok := parseCode([]byte(line)); ok && final {
				return b.String(), nil
			}
		}
	}
	greeting, err := readRaw()
	if err != nil {
		return nil, err
	}
	out := []string{greeting}
	for _, cmd := range cmds {
		if _, err := conn.Write([]byte(cmd + "\n")); err != nil {
			return nil, err
		}
		raw, err := readRaw()
		if err != nil {
			return nil, err
		}
		out = append(out, raw)
	}
	return out, nil
}
