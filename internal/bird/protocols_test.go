package bird

import (
	"errors"
	"testing"
	"time"
)

func TestProtocolRow(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	now := time.Date(2026, 11, 24, 22, 30, 0, 0, loc)
	at := func(d, h, m, s, ms int) time.Time { return time.Date(2026, 11, d, h, m, s, ms*1e6, loc) }
	for _, tt := range []struct {
		name, row string
		want      Protocol
	}{{
		name: "established, default time format",
		row:  "wg2        BGP        ---        up     22:20:52.407  Established   ",
		want: Protocol{Name: "wg2", Proto: "BGP", State: "up", Since: at(24, 22, 20, 52, 407), Info: "Established"},
	}, {
		name: "no info",
		row:  "s6         Static     master6    up     22:20:50.243  ",
		want: Protocol{Name: "s6", Proto: "Static", Table: "master6", State: "up", Since: at(24, 22, 20, 50, 243)},
	}, {
		name: "no info, trailing spaces trimmed",
		row:  "s6         Static     master6    up     22:20:50.243",
		want: Protocol{Name: "s6", Proto: "Static", Table: "master6", State: "up", Since: at(24, 22, 20, 50, 243)},
	}, {
		name: "info with spaces",
		row:  "wg1        BGP        ---        start  22:21:32.971  Active        Received: Administrative shutdown",
		want: Protocol{Name: "wg1", Proto: "BGP", State: "start", Since: at(24, 22, 21, 32, 971), Info: "Active        Received: Administrative shutdown"},
	}, {
		name: "iso long: a space inside the time",
		row:  "wg1        BGP        ---        up     2026-11-24 22:20:52.407  Established   ",
		want: Protocol{Name: "wg1", Proto: "BGP", State: "up", Since: at(24, 22, 20, 52, 407), Info: "Established"},
	}, {
		name: "older than 20 hours: the date only",
		row:  "wg2        BGP        ---        up     2026-11-20    Established   ",
		want: Protocol{Name: "wg2", Proto: "BGP", State: "up", Since: at(20, 0, 0, 0, 0), Info: "Established"},
	}, {
		name: "a time of day later than now is yesterday's",
		row:  "wg2        BGP        ---        up     23:10:00.000  Established   ",
		want: Protocol{Name: "wg2", Proto: "BGP", State: "up", Since: at(23, 23, 10, 0, 0), Info: "Established"},
	}, {
		name: "names wider than the columns",
		row:  "sitevpn_wg_tokyo_2 BGP        ---        down   22:20:52.407  ",
		want: Protocol{Name: "sitevpn_wg_tokyo_2", Proto: "BGP", State: "down", Since: at(24, 22, 20, 52, 407)},
	}, {
		name: "custom time format",
		row:  "wg2        BGP        ---        up     1795555252    Established   ",
		want: Protocol{Name: "wg2", Proto: "BGP", State: "up", Info: "Established"},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProtocolRow(tt.row, now)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Since.Equal(tt.want.Since) {
				t.Errorf("Since = %v, want %v", got.Since, tt.want.Since)
			}
			got.Since, tt.want.Since = time.Time{}, time.Time{}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestProtocolRowErrors(t *testing.T) {
	for _, row := range []string{
		"",
		"wg2        BGP        ---",
		"wg2        BGP        ---        up",
		"wg2        BGP        ---        up     ",
	} {
		if p, err := parseProtocolRow(row, time.Now()); !errors.Is(err, errMalformed) {
			t.Errorf("%q: %+v, %v", row, p, err)
		}
	}
}
