// Command genfleet writes a generated fleet of N gateways (two per site) to
// DIR/fleet.hcl, with gateway g1's private key as DIR/private.key, for the
// benchmarks of bench/run; with -netplan FILE, also g1's tunnels as netplan
// YAML, what netplan's generator is timed on beside `sitevpn render`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sitevpn/sitevpn/internal/testfleet"
)

func main() {
	n := flag.Int("n", 1000, "number of gateways")
	dir := flag.String("dir", ".", "directory to write fleet.hcl and private.key into")
	netplanFile := flag.String("netplan", "", "also write gateway g1's tunnels as netplan YAML to this file")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	src := testfleet.Generate(*n)
	if err := os.WriteFile(filepath.Join(*dir, "fleet.hcl"), src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	key := testfleet.KeyFor(1).String() + "\n"
	if err := os.WriteFile(filepath.Join(*dir, "private.key"), []byte(key), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if *netplanFile != "" {
		if err := writeNetplan(*netplanFile, src); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}
