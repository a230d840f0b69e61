package systemd

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestJobResult(t *testing.T) {
	if err := jobResult("a.service", "done"); err != nil {
		t.Errorf("done: %v", err)
	}
	// Every other result systemd documents is a failure, "skipped" too: it
	// means the unit is not in the state the job was to bring it to.
	for _, r := range []string{"canceled", "timeout", "failed", "dependency", "skipped", "invalid", ""} {
		err := jobResult("a.service", r)
		var je *JobError
		if !errors.As(err, &je) || je.Unit != "a.service" || je.Result != r {
			t.Errorf("%q: %v", r, err)
		}
	}
}

func TestWaitJob(t *testing.T) {
	bg := context.Background()
	result := func(r string) <-chan string {
		ch := make(chan string, 1)
		ch <- r
		return ch
	}
	closed := make(chan struct{})
	close(closed)
	expired, cancel := context.WithTimeout(bg, time.Millisecond)
	defer cancel()

	if err := waitJob(bg, "a.service", result("done"), nil); err != nil {
		t.Errorf("done: %v", err)
	}
	var je *JobError
	if err := waitJob(bg, "a.service", result("failed"), nil); !errors.As(err, &je) || je.Result != "failed" {
		t.Errorf("failed: %v", err)
	}
	// No result ever comes: the deadline ends the wait.
	if err := waitJob(expired, "a.service", make(chan string), nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v", err)
	}
	// The bus went away: the result cannot come, so do not wait for the
	// deadline.
	if err := waitJob(bg, "a.service", make(chan string), closed); !errors.Is(err, ErrClosed) {
		t.Errorf("connection lost: %v", err)
	}
}
