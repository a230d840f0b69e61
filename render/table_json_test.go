package render

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/internal/testfleet"
)

// The tunnel table written by hand is byte for byte what
// json.MarshalIndent writes: for every gateway of the example fleet in both
// modes, a generated fleet, and tables with nothing in them, zero values
// and strings that need escaping (an address's zone too).
func TestTableJSONIsMarshalIndent(t *testing.T) {
	src, err := testfleet.ExampleSource()
	if err != nil {
		t.Fatal(err)
	}
	var tables []Table
	hubs, err := testfleet.HubAndSpokeSource()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range [][]byte{src, testfleet.VRFVariant(src), testfleet.Generate(12), hubs} {
		f, err := testfleet.Parse(load.Source{Name: "fleet.hcl", Bytes: s})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range f.Gateways() {
			tables = append(tables, TableFor(plan.For(f, g)))
		}
	}
	odd := "<a&b>\"\\\t\x01é\u2028"
	tables = append(tables,
		Table{},
		Table{Tunnels: []plan.Tunnel{}, LANs: []TableLAN{{}}},
		Table{Gateway: odd, Site: odd, Isolation: fleet.Isolation(odd), Namespace: odd, PrivateKeyFile: odd,
			Tunnels: []plan.Tunnel{{}, {Interface: odd, ListenPort: -1, Peer: plan.Peer{Gateway: odd, ASN: 4294967295, PublicKey: odd,
				Endpoint: netip.MustParseAddrPort("[2001:db8::1]:1"), EndpointName: odd}, Local6: netip.MustParsePrefix("2001:db8::/127"),
				Remote4: netip.MustParseAddr("192.0.2.1"), Remote6: netip.MustParseAddr("fe80::1").WithZone(odd)}},
			LANs: []TableLAN{{Interface: odd, Addresses: []netip.Prefix{{}, netip.MustParsePrefix("10.0.0.1/24")}, OSPF: true}}},
	)
	for _, tb := range tables {
		want, err := json.MarshalIndent(tb, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if got := tableJSON(tb); !bytes.Equal(got, want) {
			t.Fatalf("table of %q:\n got %s\nwant %s", tb.Gateway, got, want)
		}
	}
}
