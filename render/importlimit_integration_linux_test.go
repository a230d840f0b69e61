//go:build linux

package render_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitevpn/sitevpn/internal/bird"
	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/gateway"
	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/internal/testfleet"
	"github.com/sitevpn/sitevpn/internal/testnetns"
)

// TestIntegrationImportLimit: three real BIRDs on their rendered
// configurations. Berlin floods paris with 20,000 /128s inside its own
// /64, which paris's prefix filter accepts: paris's rendered import limit
// keeps all but the limit out of its tables and kernel, the flooding
// session stays up with its other family's routes, the session with
// tokyo keeps its uptime and routes, and status sees the hit.
func TestIntegrationImportLimit(t *testing.T) {
	birdBin := testnetns.RequireBIRD(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	f := exampleFleetNetNS(t)
	paris := newNSGateway(t, f, "v1-1", "v2-1")
	parisToTokyo := newNSGateway(t, f, "v1-1", "v3-1")
	berlin := newNSGateway(t, f, "v2-1", "v1-1")
	tokyo := newNSGateway(t, f, "v3-1", "v1-1")
	paris.lan = []string{"10.0.1.1/24", "2001:db8:a1::1/64"}
	berlin.lan = []string{"10.0.2.1/24", "2001:db8:a2::1/64"}
	tokyo.lan = []string{"10.0.3.1/24", "2001:db8:a3::1/64"}
	parisToTokyo.shares = paris // one paris, two tunnels
	dir := startGateways(ctx, t, birdBin, []*nsGateway{paris, parisToTokyo, berlin, tokyo}, [][2]*nsGateway{{paris, berlin}, {parisToTokyo, tokyo}})
	pollUntil(ctx, t, "paris's sessions with berlin and tokyo established with their routes", func() error {
		if err := wantSessionRoutes(ctx, paris, 1, 1, 1, 1); err != nil {
			return err
		}
		return wantSessionRoutes(ctx, parisToTokyo, 1, 1, 1, 1)
	})
	limit := sessionLimit(t, paris.plan, paris.tunnel.Peer.ASN)[1]
	since := map[string]time.Time{}
	for _, g := range []*nsGateway{paris, parisToTokyo} {
		d, err := protocolDetail(ctx, paris.client, g.tunnel.Interface)
		if err != nil {
			t.Fatal(err)
		}
		since[d.Name] = d.Since
	}

	conf := strings.ReplaceAll(string(berlin.conf),
		"export where net ~ AS65002_V6 && source != RTS_BGP;",
		"export where (net ~ AS65002_V6 && source != RTS_BGP) || source = RTS_STATIC;")
	var flood strings.Builder
	flood.WriteString("\nprotocol static flood {\n\tipv6;\n")
	for i := 0; i < 20000; i++ {
		fmt.Fprintf(&flood, "\troute 2001:db8:a2::1:%x/128 blackhole;\n", i)
	}
	flood.WriteString("}\n")
	path := filepath.Join(dir, berlin.name+"-flood.conf")
	if err := os.WriteFile(path, []byte(conf+flood.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := berlin.client.Configure(ctx, path); err != nil {
		t.Fatalf("configure berlin to flood: %v", err)
	}
	var ch *bird.Channel
	pollUntil(ctx, t, "paris to hit its import limit", func() error {
		d, err := protocolDetail(ctx, paris.client, paris.tunnel.Interface)
		if err != nil {
			return err
		}
		if ch = d.Channel("ipv6"); ch == nil || !ch.ImportLimitHit {
			return fmt.Errorf("paris %s ipv6: %+v", d.Name, ch)
		}
		return nil
	})
	if ch.ImportLimit != limit || ch.Routes.Imported > uint32(limit) {
		t.Errorf("paris ipv6 channel: limit %d, %d imported; want limit %d, at most that imported", ch.ImportLimit, ch.Routes.Imported, limit)
	}
	routes, err := paris.birdRoutes()
	if err != nil {
		t.Fatal(err)
	}
	// The limit, berlin's IPv4 prefix and tokyo's two.
	if len(routes) > limit+3 {
		t.Errorf("paris's kernel has %d routes of proto bird, want at most %d", len(routes), limit+3)
	}
	for _, g := range []*nsGateway{paris, parisToTokyo} {
		d, err := protocolDetail(ctx, paris.client, g.tunnel.Interface)
		if err != nil {
			t.Fatal(err)
		}
		if !d.BGP.Established() || d.Since.Sub(since[d.Name]).Abs() > time.Second || d.Channel("ipv4").Routes.Imported != 1 {
			t.Errorf("paris %s: %s since %v (was %v), ipv4 %+v: the flood disturbed the session", d.Name, d.BGP.State, d.Since, since[d.Name], d.Channel("ipv4").Routes)
		}
	}
	if err := wantSessionRoutes(ctx, parisToTokyo, 1, 1, 1, 1); err != nil {
		t.Errorf("tokyo's session after the flood: %v", err)
	}
	sessions, err := gateway.ReadSessions(ctx, filepath.Join(dir, paris.name+".ctl"), true)
	if err != nil {
		t.Fatal(err)
	}
	// The light read (health every 10 s) agrees on the states.
	light, err := gateway.ReadSessions(ctx, filepath.Join(dir, paris.name+".ctl"), false)
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range sessions {
		if l := light[name]; l.State != d.State || l.Since.Sub(d.Since).Abs() > time.Second {
			t.Errorf("%s: light read %+v, detailed %+v", name, l, d)
		}
	}
	rep := check.Evaluate(paris.plan, check.Readings{Sessions: sessions}, time.Now())
	if s := sessions[paris.tunnel.Interface]; !s.LimitHit || sessions[parisToTokyo.tunnel.Interface].LimitHit ||
		!strings.Contains(strings.Join(rep.Problems, "\n"), paris.tunnel.Interface+" (v2-1, site berlin): the peer announced more routes than import_limit") {
		t.Errorf("status does not name the peer that hit the limit: sessions %+v, problems %q", sessions, rep.Problems)
	}
	t.Logf("20,000 announced: %d imported (limit %d), %d routes in paris's kernel; tokyo's session untouched", ch.Routes.Imported, limit, len(routes))
}

// sessionLimit is the import limit, by family, of g's sessions to the
// gateways of the site of ASN asn.
func sessionLimit(t *testing.T, g *plan.Gateway, asn uint32) fleet.Counts {
	t.Helper()
	for _, s := range g.Sites {
		if s.ASN == asn {
			return s.ImportLimit
		}
	}
	t.Fatalf("%s has no site AS%d", g.Name, asn)
	return fleet.Counts{}
}

// TestIntegrationImportLimitAtScale: a hub and a spoke of a 1,101-site
// hub-and-spoke fleet, on real BIRDs and their rendered configurations.
// The hub announces every other site's prefixes (its own, and the 1,099
// others' as if learned from their sessions): the spoke learns all 1,100
// of each family over that one session, under its derived limit, none
// dropped. Then the spoke floods the hub with 2,000 more-specifics of its
// own prefix: the hub's session from it stops at its limit and stays up.
func TestIntegrationImportLimitAtScale(t *testing.T) {
	birdBin := testnetns.RequireBIRD(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f, err := testfleet.Parse(load.Source{Name: "fleet.hcl", Bytes: testfleet.GenerateHubAndSpoke(1101, 2)})
	if err != nil {
		t.Fatal(err)
	}
	hub := newNSGateway(t, f, "g1", "g5")
	spoke := newNSGateway(t, f, "g5", "g1")
	hub.lan = []string{"10.0.0.1/24", "fd00:0::1/48"}
	spoke.lan = []string{"10.0.4.1/24", "fd00:4::1/48"}
	// Every other site's prefixes on the hub, as its other sessions would
	// bring them; the spoke's own never come back to it.
	var others strings.Builder
	for _, fam := range []string{"ipv4", "ipv6"} {
		fmt.Fprintf(&others, "\nprotocol static others_%s {\n\t%s;\n", fam, fam)
		for s := 1; s <= 1100; s++ {
			if s == 4 {
				continue
			}
			route := fmt.Sprintf("10.%d.%d.0/24", s>>8, s&0xff)
			if fam == "ipv6" {
				route = fmt.Sprintf("fd00:%x::/48", s)
			}
			fmt.Fprintf(&others, "\troute %s blackhole;\n", route)
		}
		others.WriteString("}\n")
	}
	hub.conf = []byte(strings.ReplaceAll(string(hub.conf), "(source = RTS_BGP && other_site_", "((source = RTS_BGP || source = RTS_STATIC) && other_site_") + others.String())
	dir := startGateways(ctx, t, birdBin, []*nsGateway{hub, spoke}, [][2]*nsGateway{{hub, spoke}})

	limit := sessionLimit(t, spoke.plan, hub.plan.Site.ASN)
	if limit != (fleet.Counts{1200, 1200}) {
		t.Errorf("the spoke's limit on its hub session is %v, want 1,100 admitted plus the margin of 100", limit)
	}
	pollUntil(ctx, t, "the spoke to learn the 1,100 other sites of each family from the hub", func() error {
		d, err := protocolDetail(ctx, spoke.client, spoke.tunnel.Interface)
		if err != nil {
			return err
		}
		for i, name := range []string{"ipv4", "ipv6"} {
			ch := d.Channel(name)
			if ch == nil || ch.Routes.Imported != 1100 || ch.ImportLimitHit || ch.ImportLimit != limit[i] {
				return fmt.Errorf("%s %s: %+v", d.Name, name, ch)
			}
		}
		return nil
	})

	conf := strings.ReplaceAll(string(spoke.conf), "export where net ~ AS4200000004_V6 && source != RTS_BGP;",
		"export where (net ~ AS4200000004_V6 && source != RTS_BGP) || source = RTS_STATIC;")
	var flood strings.Builder
	flood.WriteString("\nprotocol static flood {\n\tipv6;\n")
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&flood, "\troute fd00:4::%x/128 blackhole;\n", i+1)
	}
	flood.WriteString("}\n")
	path := filepath.Join(dir, spoke.name+"-flood.conf")
	if err := os.WriteFile(path, []byte(conf+flood.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := spoke.client.Configure(ctx, path); err != nil {
		t.Fatalf("configure the spoke to flood: %v", err)
	}
	hubLimit := sessionLimit(t, hub.plan, spoke.plan.Site.ASN)[1]
	pollUntil(ctx, t, "the hub to cap the spoke's flood at its limit, the session up", func() error {
		d, err := protocolDetail(ctx, hub.client, hub.tunnel.Interface)
		if err != nil {
			return err
		}
		ch := d.Channel("ipv6")
		if !d.BGP.Established() || ch == nil || !ch.ImportLimitHit || ch.ImportLimit != hubLimit || ch.Routes.Imported > uint32(hubLimit) {
			return fmt.Errorf("%s %s: %+v", d.Name, d.BGP.State, ch)
		}
		return nil
	})
}
