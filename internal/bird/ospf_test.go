package bird

import (
	"slices"
	"testing"
)

// The reply of BIRD 2.0.12 to "show ospf neighbors" with OSPFv2 and v3 on
// one link each (recorded from real BIRDs over a veth pair), plus a
// protocol that is not up and a neighbor still in its database exchange.
func TestParseOSPFNeighbors(t *testing.T) {
	lines := []Line{
		{1013, "ospf4:"},
		{1013, "Router ID   \tPri\t     State     \tDTime\tInterface  Router IP"},
		{1013, "10.9.9.2    \t  1\tFull/DR   \t 3.038\tva         192.168.77.2"},
		{1013, "10.9.9.3    \t  1\tExStart/Other\t 3.100\tvb         192.168.78.3"},
		{1013, ""},
		{1013, "ospf6:"},
		{1013, "Router ID   \tPri\t     State     \tDTime\tInterface  Router IP"},
		{1013, "10.9.9.2    \t  1\tFull/DR   \t 3.555\tva         fe80::5867:98ff:fe77:3032"},
		{1013, ""},
		{1013, "ospf9: is not up"},
		{0, ""},
	}
	got := parseOSPFNeighbors(lines)
	want := []OSPFNeighbor{
		{"ospf4", "10.9.9.2", "Full", "DR", "va", "192.168.77.2"},
		{"ospf4", "10.9.9.3", "ExStart", "Other", "vb", "192.168.78.3"},
		{"ospf6", "10.9.9.2", "Full", "DR", "va", "fe80::5867:98ff:fe77:3032"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if !got[0].Adjacent() || got[1].Adjacent() {
		t.Errorf("adjacent: Full %v, ExStart %v", got[0].Adjacent(), got[1].Adjacent())
	}
}
