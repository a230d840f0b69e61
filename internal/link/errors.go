package link

import (
	"errors"
	"fmt"
	"io/fs"
)

// Error is a failed operation on one link (or, with Link empty, on the
// namespace as a whole). It unwraps to the cause, so errors.Is(err,
// fs.ErrNotExist) works for a missing link, device or namespace.
type Error struct {
	Op   string // "create", "set peer", "observe"...
	Link string // the interface name; "" when the operation is not about one link
	Err  error
}

func (e *Error) Error() string {
	if e.Link == "" {
		return fmt.Sprintf("link: %s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("link: %s %s: %v", e.Op, e.Link, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

func opErr(op, link string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Link: link, Err: err}
}

// ErrUnsupported is returned where the operating system (not Linux) or the
// mode (vrf) has no such operation.
var ErrUnsupported = errors.New("not supported")

// notExist is a missing link or namespace: it matches fs.ErrNotExist.
type notExist string

func (e notExist) Error() string        { return string(e) }
func (e notExist) Is(target error) bool { return target == fs.ErrNotExist }

var (
	errNoLink      error = notExist("no such link")
	errNoNamespace error = notExist("no such namespace")
)
