//go:build linux

package render_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitevpn/sitevpn/internal/bird"
	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/testfleet"
	"github.com/sitevpn/sitevpn/internal/testnetns"
)

// TestIntegrationHubAndSpoke runs the BIRD configurations rendered for the
// hub-and-spoke example's paris hub gateways (h1-1, h1-2) and two spokes,
// lyon (s1-1) and nice (s4-1), in namespaces joined by veth pairs named
// like their tunnels: each spoke to each hub gateway, no spoke to spoke.
// It proves, on real BIRDs and kernels:
//
//   - each spoke learns the other spoke's prefixes (IPv4 and IPv6) through
//     the hub, with the hub's ASN in the path, and routes them over both
//     hub gateways at once (ECMP); traffic between the spokes flows;
//   - a spoke announcing another site's prefix (nantes') is filtered by
//     the hubs: neither a hub nor the other spoke has it.
//
// It runs twice: with the example's transit4 pool, and without one, where
// IPv4 rides the IPv6 transit (RFC 8950: BIRD's extended next hop, IPv4
// routes via an IPv6 gateway, ECMP included) and the tunnels have no IPv4
// address at all.
func TestIntegrationHubAndSpoke(t *testing.T) {
	birdBin := testnetns.RequireBIRD(t)
	src, err := testfleet.HubAndSpokeSource()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []struct {
		name string
		src  []byte
	}{{"transit4", src}, {"rfc8950", testfleet.WithoutTransit4(src)}} {
		t.Run(v.name, func(t *testing.T) {
			f, err := testfleet.Parse(load.Source{Name: "fleet.hcl", Bytes: v.src})
			if err != nil {
				t.Fatal(err)
			}
			hubAndSpokeOnBIRD(t, birdBin, f)
		})
	}
}

func hubAndSpokeOnBIRD(t *testing.T, birdBin string, f *fleet.Fleet) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rfc8950 := !f.Transit4.IsValid()
	h1 := newNSGateway(t, f, "h1-1", "s1-1")
	h1nice := newNSGateway(t, f, "h1-1", "s4-1")
	h2 := newNSGateway(t, f, "h1-2", "s1-1")
	h2nice := newNSGateway(t, f, "h1-2", "s4-1")
	lyon := newNSGateway(t, f, "s1-1", "h1-1")
	lyon2 := newNSGateway(t, f, "s1-1", "h1-2")
	nice := newNSGateway(t, f, "s4-1", "h1-1")
	nice2 := newNSGateway(t, f, "s4-1", "h1-2")
	h1nice.shares, h2nice.shares, lyon2.shares, nice2.shares = h1, h2, lyon, nice
	h1.lan = []string{"10.0.1.1/24", "2001:db8:a1::1/64"}
	h2.lan = []string{"10.0.1.2/24", "2001:db8:a1::2/64"}
	lyon.lan = []string{"10.1.1.1/24", "2001:db8:b1::1/64"}
	// Nice's LAN also holds nantes' prefixes, which its sessions do not
	// export until it misbehaves below.
	nice.lan = []string{"10.1.4.1/24", "2001:db8:b4::1/64", "10.1.2.1/24", "2001:db8:b2::1/64"}
	dir := startGateways(ctx, t, birdBin,
		[]*nsGateway{h1, h1nice, h2, h2nice, lyon, lyon2, nice, nice2},
		[][2]*nsGateway{{h1, lyon}, {h1nice, nice}, {h2, lyon2}, {h2nice, nice2}})

	// A hub sends a spoke its own site's prefix and the other spoke's; a
	// spoke sends only its own.
	pollUntil(ctx, t, "every session established with its routes", func() error {
		for _, g := range []*nsGateway{h1, h1nice, h2, h2nice} {
			if err := wantSessionCounts(ctx, g, 1, 2); err != nil {
				return err
			}
		}
		for _, g := range []*nsGateway{lyon, lyon2, nice, nice2} {
			if err := wantSessionCounts(ctx, g, 2, 1); err != nil {
				return err
			}
		}
		return nil
	})
	t.Logf("sessions established %v after the start", time.Since(start).Round(time.Millisecond))

	t.Run("SpokeToSpokeThroughHubs", func(t *testing.T) {
		for _, c := range []struct {
			g    *nsGateway
			dsts []string
		}{{lyon, []string{"10.1.4.0/24", "2001:db8:b4::/64", "10.0.1.0/24"}}, {nice, []string{"10.1.1.0/24", "2001:db8:b1::/64", "2001:db8:a1::/64"}}} {
			for _, dst := range c.dsts {
				// ECMP over both hub gateways: the kernel protocol's
				// merge paths joins routes of equal AS-path length.
				pollUntil(ctx, t, c.g.name+" routing "+dst+" over both hub gateways", func() error {
					return nextHops(c.g, dst, "wg1", "wg2")
				})
				if rfc8950 && !strings.Contains(dst, ":") {
					if err := viaIPv6(c.g, dst); err != nil {
						t.Error(err)
					}
				}
				if out, err := exec.Command("ip", "-n", c.g.ns, family(dst), "route", "show", dst, "proto", "bird").CombinedOutput(); err == nil {
					t.Logf("%s: %s", c.g.name, strings.Join(strings.Fields(string(out)), " "))
				}
			}
		}
		lines, err := lyon.client.Raw(ctx, "show route for 10.1.4.0/24 all")
		if err != nil {
			t.Fatal(err)
		}
		var all strings.Builder
		for _, l := range lines {
			all.WriteString(l.Text + "\n")
		}
		if !strings.Contains(all.String(), "BGP.as_path: 65001 65104") {
			t.Errorf("lyon's route to nice does not cross the hub (AS path 65001 65104):\n%s", all.String())
		}
		for _, p := range [][2]string{{"10.1.1.1", "10.1.4.1"}, {"2001:db8:b1::1", "2001:db8:b4::1"}} {
			rtt, err := pingFrom(ctx, lyon.ns, netip.MustParseAddr(p[0]), netip.MustParseAddr(p[1]))
			if err != nil {
				t.Errorf("ping -I %s %s from lyon: %v", p[0], p[1], err)
				continue
			}
			t.Logf("ping -I %s %s from lyon, through a hub: reply in %v", p[0], p[1], rtt)
		}
	})

	t.Run("HubFiltersAnotherSitesPrefix", func(t *testing.T) {
		// Nice now exports every prefix of its LAN, nantes' among them.
		leaky := strings.NewReplacer(
			"export where net ~ AS65104_V4 && source != RTS_BGP;", "export where source = RTS_DEVICE;",
			"export where net ~ AS65104_V6 && source != RTS_BGP;", "export where source = RTS_DEVICE;",
		).Replace(string(nice.conf))
		if strings.Count(leaky, "export where source = RTS_DEVICE;") != 8 {
			t.Fatalf("nice's config does not have the expected export filters:\n%s", nice.conf)
		}
		path := filepath.Join(dir, "s4-1-leaky.conf")
		if err := os.WriteFile(path, []byte(leaky), 0o644); err != nil {
			t.Fatal(err)
		}
		hubs := []*nsGateway{h1nice, h2nice}
		before := map[string]importUpdates{}
		for _, g := range hubs {
			for _, ch := range []string{"ipv4", "ipv6"} {
				st, err := channelImportStats(ctx, g.client, g.tunnel.Interface, ch)
				if err != nil {
					t.Fatal(err)
				}
				before[g.name+ch] = st
			}
		}
		if res, err := nice.client.Configure(ctx, path); err != nil || res != bird.Reconfigured {
			t.Fatalf("configure nice: %v, %v", res, err)
		}
		// Each hub receives nice's two prefixes per family again and
		// filters nantes' one.
		for _, g := range hubs {
			for _, ch := range []string{"ipv4", "ipv6"} {
				b := before[g.name+ch]
				pollUntil(ctx, t, g.name+" to filter nantes' "+ch+" prefix from nice", func() error {
					st, err := channelImportStats(ctx, g.client, g.tunnel.Interface, ch)
					if err == nil && (st.received-b.received < 2 || st.filtered-b.filtered != 1) {
						err = fmt.Errorf("%s %s %s: import updates %+v (before %+v), want 2 more received, 1 more filtered", g.name, g.tunnel.Interface, ch, st, b)
					}
					return err
				})
			}
		}
		for _, g := range []*nsGateway{h1, h2, lyon} {
			for _, p := range []string{"10.1.2.0/24", "2001:db8:b2::/64"} {
				if ok, err := birdHasRoute(ctx, g.client, p); err != nil || ok {
					t.Errorf("%s's BIRD has a route to nantes' %s (%v)", g.name, p, err)
				}
				rs, err := g.routes("")
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rs {
					if routeOverlaps(r.Dst, p) {
						t.Errorf("%s's kernel has a route to nantes' %s: %+v", g.name, p, r)
					}
				}
			}
		}
		// Nice's own prefixes still reach lyon over both hubs.
		if err := nextHops(lyon, "10.1.4.0/24", "wg1", "wg2"); err != nil {
			t.Error(err)
		}
	})
	t.Logf("done in %v", time.Since(start).Round(time.Millisecond))
}

// wantSessionCounts checks that g's session on its tunnel is established
// and imports imp routes and exports exp per family. Unlike
// wantSessionRoutes it does not ask that every imported route be the
// preferred one: over ECMP only one of equal routes is.
func wantSessionCounts(ctx context.Context, g *nsGateway, imp, exp uint32) error {
	d, err := protocolDetail(ctx, g.client, g.tunnel.Interface)
	if err != nil {
		return err
	}
	if !d.BGP.Established() {
		return fmt.Errorf("%s %s: BGP state %q, info %q, last error %q", g.name, d.Name, d.BGP.State, d.Info, d.BGP.LastError)
	}
	for _, ch := range []string{"ipv4", "ipv6"} {
		c := d.Channel(ch)
		if c == nil {
			return fmt.Errorf("%s %s: no channel %s", g.name, d.Name, ch)
		}
		if r := c.Routes; r.Imported != imp || r.Exported != exp || r.Filtered != 0 {
			return fmt.Errorf("%s %s %s: routes %+v, want %d imported, %d exported", g.name, d.Name, ch, r, imp, exp)
		}
	}
	return nil
}

// viaIPv6 checks that g's kernel routes the IPv4 prefix through IPv6
// next hops only (RFC 8950), and that its tunnel has no IPv4 address.
func viaIPv6(g *nsGateway, prefix string) error {
	out, err := exec.Command("ip", "-n", g.ns, "-4", "route", "show", prefix, "proto", "bird").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", g.name, err, out)
	}
	if n, v6 := strings.Count(string(out), " via "), strings.Count(string(out), " via inet6 "); n == 0 || n != v6 {
		return fmt.Errorf("%s routes %s not only via IPv6 next hops:\n%s", g.name, prefix, out)
	}
	addrs, err := exec.Command("ip", "-n", g.ns, "-4", "-o", "addr", "show", "dev", g.tunnel.Interface).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(addrs))) != 0 {
		return fmt.Errorf("%s's %s has IPv4 addresses (%v): %s", g.name, g.tunnel.Interface, err, addrs)
	}
	return nil
}

// family is ip's flag for prefix's address family.
func family(prefix string) string {
	if strings.Contains(prefix, ":") {
		return "-6"
	}
	return "-4"
}
