package graph

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/testfleet"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func example(t *testing.T, vrf bool) *fleet.Fleet {
	t.Helper()
	src, err := testfleet.ExampleSource()
	if err != nil {
		t.Fatal(err)
	}
	if vrf {
		src = testfleet.VRFVariant(src)
	}
	f, err := testfleet.Parse(load.Source{Name: "fleet.hcl", Bytes: src})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The example fleet in both modes, and with v1-1's health: DOT exactly as
// in testdata, 6 gateways in 3 clusters and 12 tunnels.
func TestGolden(t *testing.T) {
	health := FromReport("v1-1", check.Report{Tunnels: []check.Tunnel{
		{Peer: "v2-1", Up: true}, {Peer: "v2-2", Up: true},
		{Peer: "v3-1", Problem: "no handshake yet"}, {Peer: "v3-2", Problem: "BGP Active: Socket: Connection refused"},
	}})
	for name, c := range map[string]struct {
		vrf    bool
		health Health
	}{"netns": {false, nil}, "vrf": {true, nil}, "netns-status": {false, health}} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, example(t, c.vrf), c.health); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if n := strings.Count(out, " -- "); n != 12 {
				t.Errorf("%d tunnels, want 12", n)
			}
			if n := strings.Count(out, "subgraph cluster_"); n != 3 {
				t.Errorf("%d sites, want 3", n)
			}
			golden := filepath.Join("testdata", name+".dot")
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./internal/graph -update writes it; review it)", err)
			}
			if out != string(want) {
				t.Errorf("DOT differs from %s:\n%s", golden, out)
			}
			svg(t, b.Bytes())
		})
	}
}

// svg renders dot with Graphviz: it must accept what Write makes.
func svg(t *testing.T, dot []byte) {
	t.Helper()
	if _, err := exec.LookPath("dot"); err != nil {
		if os.Getenv("SITEVPN_REQUIRE_TOOLS") == "1" {
			t.Fatal("dot not found, and SITEVPN_REQUIRE_TOOLS=1: install graphviz")
		}
		t.Skip("dot not found: install graphviz to render the graph")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := SVG(ctx, dot)
	if err != nil || !bytes.Contains(out, []byte("<svg")) || bytes.Count(out, []byte(`class="edge"`)) != 12 {
		t.Errorf("SVG: %v, %d edges in %d bytes", err, bytes.Count(out, []byte(`class="edge"`)), len(out))
	}
}

// Names and problems cannot break out of their DOT strings.
func TestQuote(t *testing.T) {
	if got := quote("a\"b\\c\nd"); got != `"a\"b\\c\nd"` {
		t.Errorf("quote = %s", got)
	}
}

// TestHubAndSpoke: the hub-and-spoke example draws the topology's tunnels
// (hub-hub and hub-spoke, 4 + 4x4 = 20), and labels a gateway without
// endpoint and a DNS one sensibly, not with an invalid address.
func TestHubAndSpoke(t *testing.T) {
	f, err := testfleet.HubAndSpoke()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Write(&b, f, nil); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := strings.Count(out, " -- "); n != 20 {
		t.Errorf("%d tunnels, want 20", n)
	}
	for _, want := range []string{`s2-1\nid 6, no endpoint (connects out)`, `s3-1\nid 7, vpn.lille.example.net`, `s1-1\nid 5, 192.0.2.15`} {
		if !strings.Contains(out, want) {
			t.Errorf("no label %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "invalid IP") {
		t.Errorf("a label shows an invalid address:\n%s", out)
	}
}
