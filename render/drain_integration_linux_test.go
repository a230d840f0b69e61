//go:build linux

package render_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitevpn/sitevpn/internal/testnetns"
)

// TestIntegrationDrain runs the rendered BIRD configurations of paris's
// v1-1 and of both berlin gateways in namespaces joined by veth pairs
// named like the tunnels. v1-1 routes berlin's prefixes over both tunnels
// (ECMP). v2-1 drained (its configuration rendered with Drained, applied
// with a soft reconfigure): v1-1 keeps v2-1's routes at local preference 0
// with GRACEFUL_SHUTDOWN and routes over v2-2 alone; undrained, over both
// again; no session restarts on the way.
func TestIntegrationDrain(t *testing.T) {
	birdBin := testnetns.RequireBIRD(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	f := exampleFleetNetNS(t)
	paris := newNSGateway(t, f, "v1-1", "v2-1")
	paris2 := newNSGateway(t, f, "v1-1", "v2-2")
	b1 := newNSGateway(t, f, "v2-1", "v1-1")
	b2 := newNSGateway(t, f, "v2-2", "v1-1")
	paris.lan = []string{"10.0.1.1/24", "2001:db8:a1::1/64"}
	b1.lan = []string{"10.0.2.1/24", "2001:db8:a2::1/64"}
	b2.lan = []string{"10.0.2.2/24", "2001:db8:a2::2/64"}
	paris2.shares = paris // one paris, two tunnels
	dir := startGateways(ctx, t, birdBin, []*nsGateway{paris, paris2, b1, b2}, [][2]*nsGateway{{paris, b1}, {paris2, b2}})
	both := []string{paris.tunnel.Interface, paris2.tunnel.Interface}
	pollUntil(ctx, t, "v1-1 routing berlin over both tunnels", func() error {
		return nextHops(paris, "10.0.2.0/24", both...)
	})
	since := map[string]time.Time{}
	for _, g := range []*nsGateway{paris, paris2} {
		d, err := protocolDetail(ctx, paris.client, g.tunnel.Interface)
		if err != nil {
			t.Fatal(err)
		}
		since[d.Name] = d.Since
	}

	reconfigure := func(drained bool) {
		b1.plan.Drained = drained
		path := filepath.Join(dir, b1.name+"-drained.conf")
		if err := os.WriteFile(path, renderBIRDConf(t, b1.plan), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := b1.client.Configure(ctx, path); err != nil {
			t.Fatalf("configure v2-1 (drained %v): %v", drained, err)
		}
	}
	reconfigure(true)
	pollUntil(ctx, t, "v1-1 routing berlin over v2-2's tunnel alone", func() error {
		for _, p := range []string{"10.0.2.0/24", "2001:db8:a2::/64"} {
			if err := nextHops(paris, p, paris2.tunnel.Interface); err != nil {
				return err
			}
		}
		return nil
	})
	lines, err := paris.client.Raw(ctx, "show route for 10.0.2.0/24 protocol "+paris.tunnel.Interface+" all")
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, l := range lines {
		all.WriteString(l.Text + "\n")
	}
	if !strings.Contains(all.String(), "BGP.local_pref: 0") || !strings.Contains(all.String(), "(65535,0)") {
		t.Errorf("v1-1's route to berlin through the drained v2-1 is not kept at local preference 0 with GRACEFUL_SHUTDOWN:\n%s", all.String())
	}

	reconfigure(false)
	pollUntil(ctx, t, "v1-1 routing berlin over both tunnels again", func() error {
		return nextHops(paris, "10.0.2.0/24", both...)
	})
	for _, g := range []*nsGateway{paris, paris2} {
		d, err := protocolDetail(ctx, paris.client, g.tunnel.Interface)
		if err != nil {
			t.Fatal(err)
		}
		if !d.BGP.Established() || d.Since.Sub(since[d.Name]).Abs() > time.Second {
			t.Errorf("v1-1 %s: %s since %v (was %v): drain restarted the session", d.Name, d.BGP.State, d.Since, since[d.Name])
		}
	}
}

// nextHops checks that g's kernel routes prefix over exactly the given
// interfaces.
func nextHops(g *nsGateway, prefix string, ifaces ...string) error {
	out, err := exec.Command("ip", "-n", g.ns, family(prefix), "route", "show", prefix, "proto", "bird").CombinedOutput()
	if err != nil {
		return err
	}
	got := map[string]bool{}
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "wg") || strings.HasPrefix(f, "vt") {
			got[f] = true
		}
	}
	if len(got) != len(ifaces) {
		return fmt.Errorf("%s over %v, want %v: %s", prefix, got, ifaces, out)
	}
	for _, i := range ifaces {
		if !got[i] {
			return fmt.Errorf("%s over %v, want %v: %s", prefix, got, ifaces, out)
		}
	}
	return nil
}
