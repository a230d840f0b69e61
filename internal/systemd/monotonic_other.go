//go:build !linux

package systemd

// monotonicUsec is unknown off Linux, where there is no systemd to ask for
// it; Reloading then sends RELOADING=1 alone.
func monotonicUsec() (uint64, bool) { return 0, false }
