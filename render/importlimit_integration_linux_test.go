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
	"github.com/sitevpn/sitevpn/internal/gateway"
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
	limit := paris.plan.BGP.ImportLimit
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
