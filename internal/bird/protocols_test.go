package bird

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestProtocols(t *testing.T) {
	c, _ := dialFake(t, replay(t, map[string]string{"show protocols": "show-protocols"}))
	ps, err := c.Protocols(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []Protocol{
		{Name: "device1", Proto: "Device", State: "up"},
		{Name: "s6", Proto: "Static", Table: "master6", State: "up"},
		{Name: "s4", Proto: "Static", Table: "master4", State: "up"},
		{Name: "s6b", Proto: "Static", Table: "master6", State: "up"},
		{Name: "wg2", Proto: "BGP", State: "up", Info: "Established"},
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d protocols: %+v", len(ps), ps)
	}
	for i, p := range ps {
		if p.Since.IsZero() {
			t.Errorf("%s: no Since", p.Name)
		}
		p.Since = time.Time{}
		if p != want[i] {
			t.Errorf("got  %+v\nwant %+v", p, want[i])
		}
	}
}

// BenchmarkParseHealth parses the light reply of a gateway with 1,000
// BGP sessions, the health check's read every 10 s: the row BIRD 2.0.12
// printed (testdata/show-protocols.reply) for each of them. Target: under
// 5 ms.
func BenchmarkParseHealth(b *testing.B) {
	reply := thousandSessions(b)
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		lines, err := readReply(bufio.NewReader(strings.NewReader(reply)))
		if err != nil {
			b.Fatal(err)
		}
		ps, err := parseProtocols(lines, now)
		if err != nil || len(ps) != 1004 {
			b.Fatalf("%d protocols, %v", len(ps), err)
		}
	}
}

// thousandSessions is the recorded reply with its BGP row repeated for
// wg2 ... wg1001.
func thousandSessions(tb testing.TB) string {
	b, err := os.ReadFile("testdata/show-protocols.reply")
	if err != nil {
		tb.Fatal(err)
	}
	var out strings.Builder
	for _, l := range strings.SplitAfter(string(b), "\n") {
		if !strings.HasPrefix(l, " wg2 ") {
			if !strings.HasPrefix(l, "0000") {
				out.WriteString(l)
			}
			continue
		}
		for i := 2; i < 1002; i++ {
			name := fmt.Sprintf("wg%d", i)
			out.WriteString(" " + name + strings.Repeat(" ", max(11-len(name), 1)) + l[12:])
		}
	}
	out.WriteString("0000 \n")
	return out.String()
}

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
