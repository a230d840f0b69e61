package bird

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ProtocolDetail is one protocol of "show protocols all".
type ProtocolDetail struct {
	Protocol

	Description string // the protocol's "description" option
	Message     string // why it is down or disabled, when BIRD knows

	// Channels in BIRD's order; a BGP session has one per address family.
	Channels []Channel

	// BGP is set for BGP protocols.
	BGP *BGPStatus
}

// Channel is one channel of a protocol: its link to a routing table.
type Channel struct {
	Name         string // "ipv4", "ipv6"
	State        string // "UP", "START", "DOWN", "FLUSHING"
	Table        string // "master6"
	Preference   int
	InputFilter  string // "ACCEPT", "REJECT", a filter name or "(unnamed)"
	OutputFilter string

	// Routes is zero while the channel is down: BIRD prints no counts then.
	Routes RouteCounts

	// ImportLimit is the channel's import limit (0: none) and
	// ImportLimitHit whether the protocol reached it: routes over it were
	// dropped (action block).
	ImportLimit    int
	ImportLimitHit bool
}

// RouteCounts is a channel's "Routes:" line.
type RouteCounts struct {
	Imported  uint32 // accepted from the protocol into the table
	Filtered  uint32 // rejected by the import filter but kept ("import keep filtered")
	Exported  uint32 // sent from the table to the protocol
	Preferred uint32 // imported routes that are the best ones in the table
}

// BGPStatus is the BGP part of "show protocols all" for a BGP protocol.
type BGPStatus struct {
	// State is the session state: "Idle", "Connect", "Active", "OpenSent",
	// "OpenConfirm", "Established", "Close", "Passive", or "Down" when the
	// protocol is down.
	State string

	NeighborAddress netip.Addr
	Interface       string // the "interface" option, printed after "%" in the neighbor address
	NeighborAS      uint32
	LocalAS         uint32

	// Set only while the session is up.
	NeighborID    netip.Addr // the peer's router ID
	SourceAddress netip.Addr
	HoldTime      time.Duration // negotiated
	KeepaliveTime time.Duration // negotiated

	// LastError is the last error, such as "Socket: Connection refused" or
	// "BGP Error: Hold timer expired"; empty after none.
	LastError string
}

// Established reports whether the BGP session is up.
func (b *BGPStatus) Established() bool { return b != nil && b.State == "Established" }

// Routes sums the route counts of all channels.
func (d *ProtocolDetail) Routes() RouteCounts {
	var r RouteCounts
	for _, c := range d.Channels {
		r.Imported += c.Routes.Imported
		r.Filtered += c.Routes.Filtered
		r.Exported += c.Routes.Exported
		r.Preferred += c.Routes.Preferred
	}
	return r
}

// Channel returns the channel called name, or nil.
func (d *ProtocolDetail) Channel(name string) *Channel {
	for i := range d.Channels {
		if d.Channels[i].Name == name {
			return &d.Channels[i]
		}
	}
	return nil
}

// ProtocolDetails returns the details of every protocol ("show protocols
// all"), which costs one round trip however many sessions there are.
func (c *Client) ProtocolDetails(ctx context.Context) ([]ProtocolDetail, error) {
	const cmd = "show protocols all"
	lines, err := c.call(ctx, cmd)
	if noProtocols(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ds, err := parseProtocolDetails(lines, time.Now())
	if err != nil {
		return nil, &OpError{Op: cmd, Err: err}
	}
	return ds, nil
}

// parseProtocolDetails reads a "show protocols all" reply: each protocol is a
// 1002 row followed by 1006 lines, indented by two spaces for the protocol,
// four for the items of a section (BGP, a channel), and more for tables
// this package does not read (capabilities, route change stats). Lines it
// does not know are skipped, so that a newer BIRD that prints more still
// parses.
func parseProtocolDetails(lines []Line, now time.Time) ([]ProtocolDetail, error) {
	var (
		ds []ProtocolDetail
		d  *ProtocolDetail
		ch *Channel // the channel being read; nil in the BGP section or none
	)
	for _, l := range lines {
		switch l.Code {
		case codeProtocolList:
			p, err := parseProtocolRow(l.Text, now)
			if err != nil {
				return nil, err
			}
			ds = append(ds, ProtocolDetail{Protocol: p})
			d, ch = &ds[len(ds)-1], nil
			continue
		case codeProtocolDetails:
		default:
			continue
		}
		if d == nil {
			return nil, fmt.Errorf("%w: protocol details %q before any protocol row", errMalformed, l.Text)
		}

		indent := len(l.Text) - len(strings.TrimLeft(l.Text, " "))
		text := strings.TrimSpace(l.Text)
		key, val, _ := strings.Cut(text, ":")
		val = strings.TrimSpace(val)

		var err error
		switch indent {
		case 2:
			ch = nil
			if name, ok := strings.CutPrefix(text, "Channel "); ok {
				d.Channels = append(d.Channels, Channel{Name: name})
				ch = &d.Channels[len(d.Channels)-1]
				continue
			}
			switch key {
			case "Description":
				d.Description = val
			case "Message":
				d.Message = val
			case "BGP state":
				d.BGP = &BGPStatus{State: val}
			}
		case 4:
			switch {
			case ch != nil:
				err = ch.set(key, val)
			case d.BGP != nil:
				err = d.BGP.set(key, val)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%w: protocol %s: %q: %v", errMalformed, d.Name, text, err)
		}
	}
	return ds, nil
}

func (c *Channel) set(key, val string) error {
	var err error
	switch key {
	case "State":
		c.State = val
	case "Table":
		c.Table = val
	case "Preference":
		c.Preference, err = strconv.Atoi(val)
	case "Input filter":
		c.InputFilter = val
	case "Output filter":
		c.OutputFilter = val
	case "Routes":
		c.Routes, err = parseRouteCounts(val)
	case "Import limit":
		n, hit := strings.CutSuffix(val, " [HIT]")
		c.ImportLimit, err = strconv.Atoi(n)
		c.ImportLimitHit = hit
	}
	return err
}

// parseRouteCounts reads "2 imported, 1 exported, 2 preferred", or with
// "N filtered" after imported when the channel keeps filtered routes.
func parseRouteCounts(s string) (RouteCounts, error) {
	var r RouteCounts
	for _, item := range strings.Split(s, ",") {
		num, what, ok := strings.Cut(strings.TrimSpace(item), " ")
		if !ok {
			return r, fmt.Errorf("route count %q", item)
		}
		n, err := strconv.ParseUint(num, 10, 32)
		if err != nil {
			return r, fmt.Errorf("route count %q", item)
		}
		switch what {
		case "imported":
			r.Imported = uint32(n)
		case "filtered":
			r.Filtered = uint32(n)
		case "exported":
			r.Exported = uint32(n)
		case "preferred":
			r.Preferred = uint32(n)
		}
	}
	return r, nil
}

func (b *BGPStatus) set(key, val string) error {
	var err error
	switch key {
	case "Neighbor address":
		// "%I%J": the address, then "%iface" when the session is bound
		// to an interface (link-local or "interface" option).
		addr, iface, _ := strings.Cut(val, "%")
		b.NeighborAddress, err = netip.ParseAddr(addr)
		b.Interface = iface
	case "Neighbor AS":
		b.NeighborAS, err = parseUint32(val)
	case "Local AS":
		b.LocalAS, err = parseUint32(val)
	case "Neighbor ID":
		b.NeighborID, err = netip.ParseAddr(val)
	case "Source address":
		b.SourceAddress, err = netip.ParseAddr(val)
	case "Hold timer":
		b.HoldTime, err = negotiated(val)
	case "Keepalive timer":
		b.KeepaliveTime, err = negotiated(val)
	case "Last error":
		b.LastError = val
	}
	return err
}

func parseUint32(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err
}

// negotiated reads the second half of a BGP timer, "remaining/negotiated"
// ("3.413/6"): the remaining part changes every second and says nothing
// about the session.
func negotiated(s string) (time.Duration, error) {
	_, total, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("timer %q", s)
	}
	n, err := strconv.ParseUint(total, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("timer %q", s)
	}
	return time.Duration(n) * time.Second, nil
}
