package bird

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Protocol is one row of "show protocols".
type Protocol struct {
	Name  string // "wg2"
	Proto string // protocol type: "BGP", "OSPF", "Static", "Kernel", "Device"...
	Table string // table of the protocol's only channel; "" when it has none or several (BIRD prints "---")
	State string // "up", "start", "stop", "down" or "flush"

	// Since is when the protocol last changed state (for a BGP session
	// that is up: when it was established). BIRD's default "timeformat
	// protocol" (iso short ms) prints a time of day for the last 20 hours
	// and only the date for older changes; with "timeformat protocol iso
	// long ms;" in BIRD's configuration it is exact. Zero when the format
	// is not an ISO one.
	Since time.Time

	// Info is the protocol's own status, such as "Established" for a BGP
	// session that is up, or "Active        Socket: Connection refused".
	// Trailing padding is removed.
	Info string
}

// Protocols lists every protocol ("show protocols"): the light query, a
// row a protocol, about a tenth of "show protocols all" for BIRD to
// produce and for sitevpn to read.
func (c *Client) Protocols(ctx context.Context) ([]Protocol, error) {
	const cmd = "show protocols"
	lines, err := c.call(ctx, cmd)
	if noProtocols(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ps, err := parseProtocols(lines, time.Now())
	if err != nil {
		return nil, &OpError{Op: cmd, Err: err}
	}
	return ps, nil
}

// parseProtocols reads the 1002 rows of a "show protocols" reply and
// ignores everything else (the 2002 heading).
func parseProtocols(lines []Line, now time.Time) ([]Protocol, error) {
	ps := make([]Protocol, 0, len(lines))
	for _, l := range lines {
		if l.Code != codeProtocolList {
			continue
		}
		p, err := parseProtocolRow(l.Text, now)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// noProtocols reports whether err is BIRD saying that no protocol matched,
// which for a listing of all of them means there are none.
func noProtocols(err error) bool {
	var re *ReplyError
	return errors.As(err, &re) && re.Code == codeNoProtocolsMatch
}

// parseProtocolRow reads one row, which BIRD prints with
// "%-10s %-10s %-10s %-6s %-12s  %s" (nest/proto.c, proto_cmd_show). The
// widths are minimums, so columns are found by spaces, not by position: the
// first four fields never contain one, the time may ("iso long" has date
// and time) but never two in a row, and is always followed by two.
func parseProtocolRow(s string, now time.Time) (Protocol, error) {
	var f [4]string
	rest := s
	for i := range f {
		rest = strings.TrimLeft(rest, " ")
		j := strings.IndexByte(rest, ' ')
		if j <= 0 {
			return Protocol{}, fmt.Errorf("%w: protocol row %q has fewer than 5 columns", errMalformed, s)
		}
		f[i], rest = rest[:j], rest[j:]
	}
	since, info, _ := strings.Cut(strings.TrimLeft(rest, " "), "  ")
	if since == "" {
		return Protocol{}, fmt.Errorf("%w: protocol row %q has no time", errMalformed, s)
	}
	p := Protocol{
		Name:  f[0],
		Proto: f[1],
		Table: f[2],
		State: f[3],
		Info:  strings.TrimSpace(info),
	}
	if p.Table == "---" {
		p.Table = ""
	}
	p.Since, _ = parseTime(since, now)
	return p, nil
}
