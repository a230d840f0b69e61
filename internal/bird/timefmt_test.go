package bird

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	now := time.Date(2026, 11, 24, 0, 30, 0, 0, loc)
	for _, tt := range []struct {
		in   string
		want time.Time // zero: not parsed
	}{
		{"2026-11-24 00:20:52.407", time.Date(2026, 11, 24, 0, 20, 52, 407e6, loc)},       // iso long ms
		{"2026-11-24 00:20:52", time.Date(2026, 11, 24, 0, 20, 52, 0, loc)},               // iso long
		{"2026-11-24 00:20:52.407123", time.Date(2026, 11, 24, 0, 20, 52, 407123e3, loc)}, // iso long us
		{"00:20:52.407", time.Date(2026, 11, 24, 0, 20, 52, 407e6, loc)},                  // iso short ms
		{"00:30:30", time.Date(2026, 11, 24, 0, 30, 30, 0, loc)},                          // within the minute of slack
		{"23:59:59.999", time.Date(2026, 11, 23, 23, 59, 59, 999e6, loc)},                 // before midnight: yesterday
		{"2026-11-20", time.Date(2026, 11, 20, 0, 0, 0, 0, loc)},                          // older than 20 h
		{"  00:20:52.407  ", time.Date(2026, 11, 24, 0, 20, 52, 407e6, loc)},              // padding
		{"1795555252", time.Time{}},
		{"24/11/2026", time.Time{}},
		{"", time.Time{}},
	} {
		got, ok := parseTime(tt.in, now)
		if ok != !tt.want.IsZero() || !got.Equal(tt.want) {
			t.Errorf("%q: %v, %v; want %v", tt.in, got, ok, tt.want)
		}
	}
}
