package systemd

import (
	"context"
	"fmt"
)

// jobResult is the outcome of a job as systemd reported it in JobRemoved.
func jobResult(unit, result string) error {
	if result == "done" {
		return nil
	}
	return &JobError{Unit: unit, Result: result}
}

// waitJob waits for the result of a job on ch, until ctx ends or lost is
// closed.
func waitJob(ctx context.Context, unit string, ch <-chan string, lost <-chan struct{}) error {
	select {
	case r := <-ch:
		return jobResult(unit, r)
	case <-ctx.Done():
		return fmt.Errorf("waiting for the job: %w", ctx.Err())
	case <-lost:
		return fmt.Errorf("waiting for the job: %w", ErrClosed)
	}
}
