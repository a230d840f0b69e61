package main

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"

	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/internal/testfleet"
)

// writeNetplan writes, as netplan YAML, the WireGuard tunnels gateway g1 of
// the fleet src gets: the same number of tunnels, with their keys, ports,
// addresses, peers, endpoints and allowed IPs, so that bench/run can time
// netplan's generator on the work `sitevpn render` does for g1.
func writeNetplan(path string, src []byte) error {
	f, err := testfleet.Parse(load.Source{Name: "fleet.hcl", Bytes: src})
	if err != nil {
		return err
	}
	p := plan.For(f, f.Gateway("g1"))
	prefixes := map[uint32][]netip.Prefix{}
	for _, s := range p.Sites {
		prefixes[s.ASN] = append(append([]netip.Prefix(nil), s.V6...), s.V4...)
	}
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) // netplan refuses world-readable keys
	if err != nil {
		return err
	}
	w := bufio.NewWriter(out)
	key := testfleet.KeyFor(1).String()
	fmt.Fprintf(w, "network:\n  version: 2\n  renderer: networkd\n  tunnels:\n")
	for _, t := range p.Tunnels {
		fmt.Fprintf(w, "    %s:\n      mode: wireguard\n      port: %d\n      mtu: %d\n      key: %q\n", t.Interface, t.ListenPort, t.MTU, key)
		fmt.Fprintf(w, "      addresses: [%q, %q]\n", t.Local6, t.Local4)
		fmt.Fprintf(w, "      peers:\n        - keys:\n            public: %q\n          endpoint: %q\n", t.Peer.PublicKey, t.Peer.Endpoint)
		fmt.Fprintf(w, "          allowed-ips: [%q, %q", netip.PrefixFrom(t.Remote6, 128), netip.PrefixFrom(t.Remote4, 32))
		for _, pr := range prefixes[t.Peer.ASN] {
			fmt.Fprintf(w, ", %q", pr)
		}
		fmt.Fprintf(w, "]\n")
	}
	if err := w.Flush(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
