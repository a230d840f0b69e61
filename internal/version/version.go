// Package version says which sitevpn this is.
package version

import (
	"fmt"
	"os"
	"runtime/debug"
	"time"
)

// stamp is set by make package:
// -ldflags "-X github.com/sitevpn/sitevpn/internal/version.stamp=VERSION".
var stamp string

// String is the package version: SITEVPN_VERSION while packaging (the
// manual pages), else what the build was stamped with, else the module's
// version or VCS revision, else "dev".
func String() string {
	if v := os.Getenv("SITEVPN_VERSION"); v != "" {
		return v
	}
	if stamp != "" {
		return stamp
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return "dev"
}

// SourceDate honours SOURCE_DATE_EPOCH (reproducible builds); without it
// the pages carry no fixed date and cobra uses today's.
func SourceDate() (time.Time, bool) {
	var sec int64
	if _, err := fmt.Sscan(os.Getenv("SOURCE_DATE_EPOCH"), &sec); err != nil || sec <= 0 {
		return time.Time{}, false
	}
	return time.Unix(sec, 0).UTC(), true
}
