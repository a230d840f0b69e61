package verify

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sitevpn/sitevpn/internal/diag"
	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/testfleet"
	"github.com/sitevpn/sitevpn/internal/validate"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// parse loads and validates src as fleet.hcl.
func parse(t *testing.T, src []byte) (*fleet.Fleet, *load.Document) {
	t.Helper()
	doc, diags := load.Parse([]load.Source{{Name: "fleet.hcl", Bytes: src}})
	f, vd := validate.Validate(doc)
	if diags = append(diags, vd...); diags.HasErrors() {
		t.Fatalf("invalid fleet:\n%s", diag.Format(diags, doc.Files))
	}
	return f, doc
}

// without drops the block that starts with header, through its closing
// brace at the same indentation, from src.
func without(t *testing.T, src []byte, header string) []byte {
	t.Helper()
	lines := strings.SplitAfter(string(src), "\n")
	for i, l := range lines {
		indent := l[:len(l)-len(strings.TrimLeft(l, " "))]
		if !strings.HasPrefix(l, indent+header+" {") {
			continue
		}
		for j := i + 1; j < len(lines); j++ {
			if lines[j] == indent+"}\n" {
				return []byte(strings.Join(append(lines[:i:i], lines[j+1:]...), ""))
			}
		}
	}
	t.Fatalf("no block %q to remove", header)
	return nil
}

func replaced(t *testing.T, src []byte, old, new string, n int) []byte {
	t.Helper()
	if c := strings.Count(string(src), old); c < n {
		t.Fatalf("%q occurs %d times, want %d", old, c, n)
	}
	return []byte(strings.Replace(string(src), old, new, n))
}

func source(t *testing.T, read func() ([]byte, error)) []byte {
	t.Helper()
	b, err := read()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// noOSPF turns OSPF off on the LANs with these addresses.
func noOSPF(t *testing.T, src []byte, addrs ...string) []byte {
	t.Helper()
	for _, a := range addrs {
		src = replaced(t, src, "addresses = [\""+a+"\"]\n      ospf      = true", "addresses = [\""+a+"\"]\n      ospf      = false", 1)
	}
	return src
}

// TestGoldenFindings: the examples and their broken variants, each
// golden as validate prints the findings, then as --json gives them.
func TestGoldenFindings(t *testing.T) {
	article := source(t, testfleet.ExampleSource)
	hubs := source(t, testfleet.HubAndSpokeSource)
	cases := []struct {
		name     string
		src      []byte
		findings int
	}{
		{"article", article, 0},
		{"article-vrf", testfleet.VRFVariant(article), 0},
		// Its branches have one gateway each: each one's failure cuts it off.
		{"hub-and-spoke", hubs, 4},
		// A site with one gateway: berlin's v2-2 gone.
		{"site-with-one-gateway", without(t, article, `gateway "v2-2"`), 1},
		// Two such sites: their one tunnel is the only path between them.
		{"two-sites-with-one-gateway", without(t, without(t, article, `gateway "v2-2"`), `gateway "v3-2"`), 3},
		// One hub, with one gateway: every pair of spokes crosses h1-1.
		{"hub-with-one-gateway", without(t, without(t, hubs, `site "dc-frankfurt"`), `gateway "h1-2"`), 9},
		// A hub site with one gateway: dc-frankfurt still joins the
		// spokes; dc-paris is cut off when h1-1 fails.
		{"hub-site-with-one-gateway", without(t, hubs, `gateway "h1-2"`), 5},
		// Both hub gateways in one site, frankfurt a spoke now: losing
		// dc-paris cuts every pair of spokes.
		{"hubs-in-one-site", replaced(t, hubs, "hub      = true\n  asn      = 65002", "hub      = false\n  asn      = 65002", 1), 5},
		// v1-2 runs no OSPF: v1-1 alone announces paris's prefixes.
		{"prefix-from-one-gateway", noOSPF(t, article, "192.168.10.12/24", "192.168.12.12/24"), 1},
		// No paris gateway runs OSPF: nothing announces paris's prefixes.
		{"prefix-from-no-gateway", noOSPF(t, article, "192.168.10.11/24", "192.168.11.11/24", "192.168.10.12/24", "192.168.12.12/24"), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, doc := parse(t, c.src)
			rep := Fleet(f)
			if len(rep.Findings) != c.findings || rep.Omitted != 0 || rep.Incomplete {
				t.Errorf("%d findings (%d omitted, incomplete %v), want %d", len(rep.Findings), rep.Omitted, rep.Incomplete, c.findings)
			}
			rep.Locate(doc)
			js, err := json.MarshalIndent(rep, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			compareGolden(t, filepath.Join("testdata", c.name+".golden"), diag.Format(rep.Diagnostics(doc), doc.Files)+"--- json\n"+string(js)+"\n")
		})
	}
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n%s", path, got)
	}
}

func sourceOf(b []byte) load.Source { return load.Source{Name: "fleet.hcl", Bytes: b} }
