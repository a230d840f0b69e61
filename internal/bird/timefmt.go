package bird

import (
	"strings"
	"time"
)

// parseTime reads a timestamp as BIRD prints it with its ISO time formats
// (lib/timer.h), in the local time zone, which is the one BIRD formats in
// when it runs on the same host:
//
//   - "iso long" (the default for "show status"): "2006-01-02 15:04:05"
//     with an optional fraction;
//   - "iso short" (the default for "show protocols"): "15:04:05" with an
//     optional fraction for events less than 20 hours old, "2006-01-02"
//     for older ones.
//
// A time of day alone is placed at the latest such instant not after now
// (a minute of slack covers clock differences), since BIRD only prints it
// for the last 20 hours. A date alone is midnight of that day: the moment is
// only known to the day. It returns false for anything else, such as a
// custom "timeformat" in BIRD's configuration.
func parseTime(s string, now time.Time) (time.Time, bool) {
	s = strings.TrimSpace(s)
	loc := now.Location()
	// Go accepts a fraction after the seconds even when the layout has
	// none, so one layout covers "s", "ms" and "us".
	if t, err := time.ParseInLocation(time.DateTime, s, loc); err == nil {
		return t, true
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, true
	}
	tod, err := time.ParseInLocation(time.TimeOnly, s, loc)
	if err != nil {
		return time.Time{}, false
	}
	y, m, d := now.Date()
	t := time.Date(y, m, d, tod.Hour(), tod.Minute(), tod.Second(), tod.Nanosecond(), loc)
	if t.After(now.Add(time.Minute)) {
		t = time.Date(y, m, d-1, tod.Hour(), tod.Minute(), tod.Second(), tod.Nanosecond(), loc)
	}
	return t, true
}
