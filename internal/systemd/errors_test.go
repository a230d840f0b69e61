package systemd

import (
	"context"
	"errors"
	"testing"
)

func TestOpError(t *testing.T) {
	for _, tt := range []struct {
		err  *OpError
		want string
	}{
		{&OpError{Op: "restart", Unit: "sitevpn-bird@private.service", Err: &JobError{Unit: "sitevpn-bird@private.service", Result: "failed"}},
			`systemd: restart sitevpn-bird@private.service: job result "failed", not "done" (see journalctl -u sitevpn-bird@private.service)`},
		{&OpError{Op: "daemon-reload", Err: context.DeadlineExceeded},
			"systemd: daemon-reload: context deadline exceeded"},
		{&OpError{Op: "reload", Unit: "systemd-networkd", Err: ErrClosed},
			"systemd: reload systemd-networkd: connection to the bus closed"},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got  %q\nwant %q", got, tt.want)
		}
	}
}

func TestOpErrorUnwraps(t *testing.T) {
	je := &JobError{Unit: "a.service", Result: "timeout"}
	var err error = &OpError{Op: "stop", Unit: "a.service", Err: je}
	var got *JobError
	if !errors.As(err, &got) || got != je {
		t.Error("does not unwrap to the JobError")
	}
	err = &OpError{Op: "stop", Unit: "a.service", Err: waitErr()}
	if !errors.Is(err, context.Canceled) {
		t.Error("does not unwrap to the context's error")
	}
}

// waitErr is what waitJob makes of a canceled context.
func waitErr() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return waitJob(ctx, "a.service", nil, nil)
}
