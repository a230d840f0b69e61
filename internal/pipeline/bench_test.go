package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/testfleet"
)

// BenchmarkEditReload: what the daemon does with the fleet after an edit
// on a hub-sized gateway (issue 13): a site added or removed in a file of
// its own, then every pure stage with the daemon's cache (load decodes
// the changed file only; validate, plan and render run on the whole
// fleet). g1 of a generated 306-gateway fleet has 304 tunnels, as the VM
// lab's hub; under emulation every millisecond here is about 15 there.
func BenchmarkEditReload(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gen.hcl"), testfleet.Generate(306), 0o644); err != nil {
		b.Fatal(err)
	}
	site := fmt.Appendf(nil, "site \"extra\" {\n  asn = 4210000000\n  prefixes = [\"fdff:1::/48\"]\n"+
		"  gateway \"x1\" {\n    id = 400\n    endpoint = \"2001:db8:fffe::1\"\n    public_key = %q\n  }\n}\n", testfleet.KeyFor(400).PublicKey())
	o := Options{ConfigDir: dir, Gateway: "g1", Cache: load.NewCache()}
	res, err := Run(o)
	if err != nil {
		b.Fatal(err)
	}
	if n := len(res.Plan.Tunnels); n != 304 {
		b.Fatalf("%d tunnels, want 304", n)
	}
	extra := filepath.Join(dir, "extra.hcl")
	b.ReportAllocs()
	added := false
	for b.Loop() {
		if added = !added; added {
			err = os.WriteFile(extra, site, 0o644)
		} else {
			err = os.Remove(extra)
		}
		if err != nil {
			b.Fatal(err)
		}
		if res, err = Run(o); err != nil {
			b.Fatal(err)
		}
		if want := 304 + map[bool]int{true: 1}[added]; len(res.Plan.Tunnels) != want {
			b.Fatalf("%d tunnels, want %d", len(res.Plan.Tunnels), want)
		}
	}
}
