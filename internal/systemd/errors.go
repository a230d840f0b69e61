package systemd

import (
	"errors"
	"strconv"
)

// OpError is the error of every Manager call. Op is what was asked of
// systemd ("daemon-reload", "start", "restart", "stop", "active-state",
// "reload", "connect"), Unit the unit it was asked about ("" for
// daemon-reload, the bus address for connect), Err the cause. It unwraps, so errors.Is(err, context.DeadlineExceeded) and
// errors.As(err, new(*JobError)) work.
type OpError struct {
	Op   string
	Unit string
	Err  error
}

func (e *OpError) Error() string {
	s := "systemd: " + e.Op
	if e.Unit != "" {
		s += " " + e.Unit
	}
	return s + ": " + e.Err.Error()
}

func (e *OpError) Unwrap() error { return e.Err }

// JobError is a job systemd ran to its end with a result other than "done":
// "canceled", "timeout", "failed", "dependency", "skipped" or "invalid"
// (org.freedesktop.systemd1(5), JobRemoved). The reason is in the unit's
// journal, not on the bus, hence the hint in the message.
type JobError struct {
	Unit   string
	Result string
}

func (e *JobError) Error() string {
	return "job result " + strconv.Quote(e.Result) + ", not \"done\" (see journalctl -u " + e.Unit + ")"
}

// ErrClosed is matched by the error of calls on a Manager after Close, and
// of a wait for a job cut short because the connection to the bus was lost.
var ErrClosed = errors.New("connection to the bus closed")
