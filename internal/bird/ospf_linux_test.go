package bird

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// OSPFNeighbors against two real BIRDs running OSPFv2 and v3 over a veth
// pair: each sees the other Full on both families, and a BIRD without
// OSPF answers with no neighbors, not an error.
func TestIntegrationOSPFNeighbors(t *testing.T) {
	l := newLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conf := func(id int, iface string) string {
		return fmt.Sprintf(`router id 10.9.9.%d;
protocol device {}
protocol ospf v2 ospf4 { ipv4 { import all; export none; }; area 0 { interface %q { hello 1; dead 4; }; }; }
protocol ospf v3 ospf6 { ipv6 { import all; export none; }; area 0 { interface %q { hello 1; dead 4; }; }; }
`, id, iface, iface)
	}
	a := l.start(ctx, t, "a", conf(1, "vtA"))
	l.start(ctx, t, "b", conf(2, "vtB"))
	waitFor(ctx, t, "a Full with b on both families", func() error {
		ns, err := a.OSPFNeighbors(ctx)
		if err != nil {
			return err
		}
		full := map[string]bool{}
		for _, n := range ns {
			if n.RouterID == "10.9.9.2" && n.Interface == "vtA" && n.Adjacent() {
				full[n.Protocol] = true
			}
		}
		if !full["ospf4"] || !full["ospf6"] {
			return fmt.Errorf("neighbors %+v", ns)
		}
		return nil
	})
	l.stop["b"]()
	bare := l.start(ctx, t, "b", "router id 10.9.9.2;\nprotocol device {}\n")
	if ns, err := bare.OSPFNeighbors(ctx); err != nil || len(ns) != 0 {
		t.Errorf("a BIRD without OSPF: %v, %v", ns, err)
	}
}
