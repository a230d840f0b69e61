package load

import (
	"bytes"
	"os"
	"testing"
)

// TestHubAndSpokeAttributes: topology, endpoint_refresh, hub and an
// optional endpoint decode the same whether the file is read by
// parsePlain (LF) or by hcl (the same file with CRLF line ends).
func TestHubAndSpokeAttributes(t *testing.T) {
	src, err := os.ReadFile(hubAndSpokeFleet)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := parsePlain(src, "f.hcl"); !ok {
		t.Fatal("the hub-and-spoke example is not read as plain HCL")
	}
	crlf := bytes.ReplaceAll(src, []byte("\n"), []byte("\r\n"))
	for name, b := range map[string][]byte{"plain": src, "hcl": crlf} {
		doc, diags := Parse([]Source{{Name: "fleet.hcl", Bytes: b}})
		if diags.HasErrors() {
			t.Fatalf("%s: %v", name, diags)
		}
		f := doc.Fleet
		if f.Topology.Value != "hub-and-spoke" || !f.Topology.Set || f.EndpointRefresh.Value != 60 || !f.EndpointRefresh.Set {
			t.Errorf("%s: topology %+v, endpoint_refresh %+v", name, f.Topology, f.EndpointRefresh)
		}
		hubs, endpoints := 0, 0
		for _, s := range doc.Sites {
			if s.Hub.Value {
				hubs++
			}
			for _, g := range s.Gateways {
				if g.Endpoint.Set {
					endpoints++
				}
			}
		}
		if hubs != 2 || endpoints != 7 {
			t.Errorf("%s: %d hub sites and %d endpoints, want 2 and 7 (s2-1 has none)", name, hubs, endpoints)
		}
	}
}
