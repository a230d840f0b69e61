// Package testfleet gives tests and benchmarks fleets to work on: the
// example fleet of the repository, its variants, and generated fleets of
// any size. It is imported by tests only.
package testfleet

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/diag"
	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/validate"
)

// RepoRoot is the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// ExampleDir holds the example fleet and the lab keys.
func ExampleDir() string { return filepath.Join(RepoRoot(), "examples", "article") }

// ExampleSource is the example fleet's HCL.
func ExampleSource() ([]byte, error) { return os.ReadFile(filepath.Join(ExampleDir(), "fleet.hcl")) }

// HubAndSpokeDir holds the hub-and-spoke example fleet.
func HubAndSpokeDir() string { return filepath.Join(RepoRoot(), "examples", "hub-and-spoke") }

// HubAndSpokeSource is the hub-and-spoke example fleet's HCL: two hub
// sites, four spokes, one gateway without endpoint, one DNS endpoint.
func HubAndSpokeSource() ([]byte, error) {
	return os.ReadFile(filepath.Join(HubAndSpokeDir(), "fleet.hcl"))
}

// HubAndSpoke is the hub-and-spoke example fleet, loaded and validated.
func HubAndSpoke() (*fleet.Fleet, error) {
	src, err := HubAndSpokeSource()
	if err != nil {
		return nil, err
	}
	return Parse(load.Source{Name: "fleet.hcl", Bytes: src})
}

// VRFVariant turns the example fleet into its vrf-mode twin, with BFD and
// keepalives on so every optional part of the templates is rendered.
func VRFVariant(src []byte) []byte {
	s := string(src)
	s = strings.Replace(s, `isolation = "netns"`, `isolation = "vrf"`, 1)
	// BFD on, with timers of its own: the golden files show them rendered.
	s = strings.Replace(s, "bfd       = false", "bfd       = true\n    bfd_interval_ms = 300\n    bfd_multiplier  = 3", 1)
	s = strings.Replace(s, "keepalive = 0", "keepalive = 25", 1)
	return []byte(s)
}

// WithoutTransit4 removes the transit4 line of a fleet's source: IPv4 then
// rides the IPv6 transit (RFC 8950).
func WithoutTransit4(src []byte) []byte {
	var out []string
	for _, l := range strings.Split(string(src), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "transit4") {
			out = append(out, l)
		}
	}
	return []byte(strings.Join(out, "\n"))
}

// Parse loads and validates sources, failing with the formatted
// diagnostics.
func Parse(srcs ...load.Source) (*fleet.Fleet, error) {
	doc, diags := load.Parse(srcs)
	if !diags.HasErrors() {
		var f *fleet.Fleet
		f, diags = validate.Validate(doc)
		if !diags.HasErrors() {
			return f, nil
		}
	}
	return nil, fmt.Errorf("%s", diag.Format(diags, doc.Files))
}

// LabKeys returns the private keys of the example fleet's gateways, by name.
func LabKeys() (map[string]wgtypes.Key, error) {
	paths, err := filepath.Glob(filepath.Join(ExampleDir(), "lab-keys", "*.key"))
	if err != nil {
		return nil, err
	}
	keys := map[string]wgtypes.Key{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		k, err := wgtypes.ParseKey(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		keys[strings.TrimSuffix(filepath.Base(p), ".key")] = k
	}
	return keys, nil
}

// Generate writes a fleet of n gateways, two per site, every site with an
// IPv6 and an IPv4 prefix, as the benchmarks and scale tests use. Keys are
// derived from the id, so the output is the same every time.
func Generate(n int) []byte {
	var b strings.Builder
	// A /10 of /31s holds 2M tunnels: ids up to 2048; a /8 holds 8M: ids up
	// to 4096. The /10 stays where it fits, so smaller fleets keep their
	// addresses.
	transit4 := "100.64.0.0/10"
	if n > 2048 {
		transit4 = "100.0.0.0/8"
	}
	fmt.Fprintf(&b, "fleet {\n  port_base = 20000\n  transit6 = \"2001:db8:ffff::/64\"\n  transit4 = %q\n}\n", transit4)
	for s := 0; s < (n+1)/2; s++ {
		fmt.Fprintf(&b, "\nsite \"s%d\" {\n  asn = %d\n  prefixes = [\"fd%02x:%x::/48\", \"10.%d.%d.0/24\"]\n", s, 4200000000+s, s>>16&0xff, s&0xffff, s>>8, s&0xff)
		for g := 0; g < 2 && 2*s+g < n; g++ {
			id := 2*s + g + 1
			fmt.Fprintf(&b, "  gateway \"g%d\" {\n    id = %d\n    endpoint = \"2001:db8:%x::%d\"\n    public_key = %q\n", id, id, s, g+1, KeyFor(id).PublicKey())
			fmt.Fprintf(&b, "    lan \"eth1\" {\n      addresses = [\"192.168.0.%d/24\"]\n      ospf = true\n    }\n  }\n", g+1)
		}
		b.WriteString("}\n")
	}
	return []byte(b.String())
}

// KeyFor is the private key of generated gateway id.
func KeyFor(id int) wgtypes.Key {
	var k wgtypes.Key
	copy(k[:], fmt.Sprintf("sitevpn-generated-gateway-%06d", id))
	k[0] &= 248 // clamp as Curve25519 does
	k[31] = (k[31] & 127) | 64
	return k
}

// GenerateHubAndSpoke writes a hub-and-spoke fleet of n sites, the first
// hubs of them hubs, one gateway each, every site with an IPv6 and an
// IPv4 prefix: the scale at which a flat import limit would drop a
// spoke's legitimate routes. Keys derive from the id, as Generate's.
func GenerateHubAndSpoke(n, hubs int) []byte {
	var b strings.Builder
	b.WriteString("fleet {\n  topology  = \"hub-and-spoke\"\n  port_base = 20000\n  transit6  = \"2001:db8:ffff::/64\"\n  transit4  = \"100.64.0.0/10\"\n}\n")
	for s := 0; s < n; s++ {
		id := s + 1
		fmt.Fprintf(&b, "\nsite \"s%d\" {\n  asn = %d\n  hub = %v\n  prefixes = [\"fd%02x:%x::/48\", \"10.%d.%d.0/24\"]\n", s, 4200000000+s, s < hubs, s>>16&0xff, s&0xffff, s>>8, s&0xff)
		fmt.Fprintf(&b, "  gateway \"g%d\" {\n    id = %d\n    endpoint = \"2001:db8:%x::1\"\n    public_key = %q\n", id, id, s, KeyFor(id).PublicKey())
		// eth2, as the example fleet's: the host tier's BIRDs read it.
		b.WriteString("    lan \"eth2\" {\n      addresses = [\"192.168.0.1/24\"]\n      ospf = true\n    }\n  }\n}\n")
	}
	return []byte(b.String())
}
