//go:build lab

package lab

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// abortError ends a WaitFor early: the condition can never become true.
type abortError struct{ err error }

func (e abortError) Error() string { return e.err.Error() }
func (e abortError) Unwrap() error { return e.err }

// Abort wraps err so that WaitFor stops polling and returns it at once.
func Abort(err error) error { return abortError{err} }

// WaitFor polls cond until it returns nil, returns an Abort error, or timeout
// passes (or ctx ends). The error names what was awaited and carries the
// condition's last error: that is the evidence of why it never became true.
// Polling starts fast (100 ms) and backs off to 1 s, so a quick condition
// costs little and a slow one does not flood the guest; and it waits at
// least twice as long as the condition took: an emulated guest pays dearly
// for each command a condition runs, and eight gateways polled back to back
// took both host cores, slowing what the test waited for (test/lab/README.md).
func WaitFor(ctx context.Context, timeout time.Duration, what string, cond func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	interval := 100 * time.Millisecond
	for {
		began := time.Now()
		err := cond(ctx)
		took := time.Since(began)
		if err == nil {
			return nil
		}
		if ae := (abortError{}); errors.As(err, &ae) {
			return fmt.Errorf("waiting for %s: %w", what, ae.err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: gave up after %s: %w", what, time.Since(start).Round(time.Millisecond), err)
		case <-time.After(max(interval, 2*took)):
		}
		interval = min(2*interval, time.Second)
	}
}
