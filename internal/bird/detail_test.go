package bird

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

func TestProtocolDetail(t *testing.T) {
	c, _ := dialFake(t, replay(t, map[string]string{"show protocols all": "show-protocols-all-wg2"}))
	d, err := detailOf(testContext(t), c, "wg2")
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "wg2" || d.Proto != "BGP" || d.State != "up" || d.Info != "Established" || d.Since.IsZero() {
		t.Errorf("Protocol = %+v", d.Protocol)
	}
	if d.Description != "tunnel on vtA" || d.Message != "" {
		t.Errorf("Description %q, Message %q", d.Description, d.Message)
	}
	wantBGP := BGPStatus{
		State:           "Established",
		NeighborAddress: netip.MustParseAddr("2001:db8:ff::1"),
		Interface:       "vtA",
		NeighborAS:      65002,
		LocalAS:         65001,
		NeighborID:      netip.MustParseAddr("192.0.2.2"),
		SourceAddress:   netip.MustParseAddr("2001:db8:ff::"),
		HoldTime:        6 * time.Second,
		KeepaliveTime:   2 * time.Second,
	}
	if d.BGP == nil || *d.BGP != wantBGP {
		t.Errorf("BGP = %+v\nwant  %+v", d.BGP, wantBGP)
	}
	if !d.BGP.Established() {
		t.Error("not Established")
	}
	wantCh := []Channel{
		{Name: "ipv6", State: "UP", Table: "master6", Preference: 100, InputFilter: "ACCEPT", OutputFilter: "(unnamed)",
			Routes: RouteCounts{Imported: 2, Exported: 2, Preferred: 2}},
		{Name: "ipv4", State: "UP", Table: "master4", Preference: 100, InputFilter: "ACCEPT", OutputFilter: "(unnamed)",
			Routes: RouteCounts{Imported: 1, Exported: 1, Preferred: 1}},
	}
	if !reflect.DeepEqual(d.Channels, wantCh) {
		t.Errorf("Channels = %+v\nwant       %+v", d.Channels, wantCh)
	}
	if r := d.Routes(); r != (RouteCounts{Imported: 3, Exported: 3, Preferred: 3}) {
		t.Errorf("Routes() = %+v", r)
	}
	if ch := d.Channel("ipv4"); ch == nil || ch.Table != "master4" {
		t.Errorf("Channel(ipv4) = %+v", ch)
	}
	if ch := d.Channel("mpls"); ch != nil {
		t.Errorf("Channel(mpls) = %+v", ch)
	}

}

func TestProtocolDetailDown(t *testing.T) {
	ctx := testContext(t)

	// Disabled here: the protocol is down, its channels too, no counts.
	c, _ := dialFake(t, replay(t, map[string]string{"show protocols all": "show-protocols-all-disabled"}))
	d, err := detailOf(ctx, c, "wg2")
	if err != nil {
		t.Fatal(err)
	}
	if d.State != "down" || d.BGP.State != "Down" || d.BGP.Established() || d.BGP.NeighborAS != 65002 ||
		d.BGP.NeighborID.IsValid() || d.BGP.HoldTime != 0 || d.BGP.LastError != "" {
		t.Errorf("disabled: %+v, BGP %+v", d.Protocol, d.BGP)
	}
	if len(d.Channels) != 2 || d.Channels[0].State != "DOWN" || d.Routes() != (RouteCounts{}) {
		t.Errorf("disabled: channels %+v", d.Channels)
	}

	// Disabled at the peer: reconnecting, and why it went down.
	c, _ = dialFake(t, replay(t, map[string]string{"show protocols all": "show-protocols-all-peer-down"}))
	d, err = detailOf(ctx, c, "wg1")
	if err != nil {
		t.Fatal(err)
	}
	if d.State != "start" || d.Info != "Active        Received: Administrative shutdown" {
		t.Errorf("peer down: %+v", d.Protocol)
	}
	if d.BGP.State != "Active" || d.BGP.LastError != "Received: Administrative shutdown" ||
		d.BGP.NeighborAddress != netip.MustParseAddr("2001:db8:ff::") || d.BGP.Interface != "vtB" {
		t.Errorf("peer down: BGP %+v", d.BGP)
	}
	// A time in "iso long" format, as the peer's config asks for.
	if d.Since.IsZero() || d.Since.Year() != 2026 {
		t.Errorf("Since = %v", d.Since)
	}
}

func TestProtocolDetails(t *testing.T) {
	c, _ := dialFake(t, replay(t, map[string]string{"show protocols all": "show-protocols-all"}))
	ds, err := c.ProtocolDetails(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range ds {
		names = append(names, d.Name)
	}
	if want := []string{"device1", "s6", "s4", "s6b", "wg2"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("protocols %q, want %q", names, want)
	}
	if len(ds[0].Channels) != 0 || ds[0].BGP != nil {
		t.Errorf("device1: %+v", ds[0])
	}
	s6 := ds[1]
	if s6.BGP != nil || len(s6.Channels) != 1 || s6.Channels[0].OutputFilter != "REJECT" || s6.Channels[0].Preference != 200 ||
		s6.Routes() != (RouteCounts{Imported: 2, Preferred: 2}) {
		t.Errorf("s6: %+v", s6)
	}
	if wg2 := ds[4]; !wg2.BGP.Established() || wg2.Routes().Imported != 3 || len(wg2.Channels) != 2 {
		t.Errorf("wg2: %+v", wg2)
	}
}

func TestProtocolDetailsTwoTunnels(t *testing.T) {
	// Two sessions to the same peer offer the same routes; BIRD prefers one
	// path per route, so Preferred says which tunnel carries the traffic.
	c, _ := dialFake(t, replay(t, map[string]string{"show protocols all": "show-protocols-all-two-tunnels"}))
	ds, err := c.ProtocolDetails(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	var sessions []string
	var sum RouteCounts
	for _, d := range ds {
		if d.BGP == nil {
			continue
		}
		sessions = append(sessions, d.Name)
		if !d.BGP.Established() {
			t.Errorf("%s: %s", d.Name, d.BGP.State)
		}
		r := d.Routes()
		sum.Imported += r.Imported
		sum.Preferred += r.Preferred
	}
	if !reflect.DeepEqual(sessions, []string{"wg2", "wg3"}) || sum.Imported != 6 || sum.Preferred != 3 {
		t.Errorf("sessions %q, %d imported, %d preferred; want wg2 and wg3, 6, 3", sessions, sum.Imported, sum.Preferred)
	}
}

func TestNoProtocolsAtAll(t *testing.T) {
	// A BIRD with an empty configuration answers a listing with 8003.
	c, _ := dialFake(t, answer("8003 No protocols match\n"))
	ds, err := c.ProtocolDetails(testContext(t))
	if err != nil || len(ds) != 0 {
		t.Errorf("ProtocolDetails = %v, %v", ds, err)
	}
}

func TestParseProtocolDetails(t *testing.T) {
	now := time.Now()
	row := Line{codeProtocolList, "k6         Kernel     master6    up     22:20:50.243  "}
	detail := func(texts ...string) []Line {
		lines := []Line{{codeProtocolHeading, "Name       Proto      Table      State  Since         Info"}, row}
		for _, s := range texts {
			lines = append(lines, Line{codeProtocolDetails, s})
		}
		return append(lines, Line{codeOK, ""})
	}

	// "import keep filtered" adds a count; a message and unknown lines.
	ds, err := parseProtocolDetails(detail(
		"  Message:        Disabled by administrator",
		"  Something new:  in a later BIRD",
		"  Channel ipv6",
		"    State:          UP",
		"    Routes:         5 imported, 2 filtered, 0 exported, 4 preferred",
		"    Receive limit:  100",
		"      Action:       warn",
		"",
	), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Message != "Disabled by administrator" ||
		ds[0].Channels[0].Routes != (RouteCounts{Imported: 5, Filtered: 2, Preferred: 4}) {
		t.Errorf("got %+v", ds)
	}

	for name, lines := range map[string][]Line{
		"bad count":       detail("  Channel ipv6", "    Routes:         many imported"),
		"bad preference":  detail("  Channel ipv6", "    Preference:     high"),
		"bad neighbor":    detail("  BGP state:          Active", "    Neighbor address: nowhere"),
		"bad AS":          detail("  BGP state:          Active", "    Neighbor AS:      AS65002"),
		"bad timer":       detail("  BGP state:          Established", "    Hold timer:       3.1"),
		"details, no row": {{codeProtocolDetails, "  Channel ipv6"}, {codeOK, ""}},
		"bad row":         {{codeProtocolList, "k6"}, {codeOK, ""}},
	} {
		if ds, err := parseProtocolDetails(lines, now); !errors.Is(err, errMalformed) {
			t.Errorf("%s: %+v, %v", name, ds, err)
		}
	}
}

func TestChannelImportLimit(t *testing.T) {
	for val, want := range map[string]Channel{
		"1000":       {ImportLimit: 1000},
		"1000 [HIT]": {ImportLimit: 1000, ImportLimitHit: true},
	} {
		var c Channel
		if err := c.set("Import limit", val); err != nil || c != want {
			t.Errorf("%q: %+v, %v; want %+v", val, c, err, want)
		}
	}
	var c Channel
	if err := c.set("Import limit", "lots"); err == nil {
		t.Error("a malformed limit parsed")
	}
}
