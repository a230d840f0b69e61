package bird

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestReconfiguring(t *testing.T) {
	for file, want := range map[string]bool{"show-status": false, "show-status-reconfiguring": true} {
		c, _ := dialFake(t, replay(t, map[string]string{"show status": file}))
		if got, err := c.reconfiguring(testContext(t)); err != nil || got != want {
			t.Errorf("%s: reconfiguring = %v, %v; want %v", file, got, err, want)
		}
	}
}

func TestStatusMalformed(t *testing.T) {
	for _, reply := range []string{
		"1000-BIRD 2.0.12\n0000 \n", // no state
		"0013 \n",                   // an empty one
	} {
		c, _ := dialFake(t, answer(reply))
		if busy, err := c.reconfiguring(testContext(t)); !errors.Is(err, errMalformed) {
			t.Errorf("%q: %v, %v", reply, busy, err)
		}
	}
}

func TestWaitReconfigured(t *testing.T) {
	var mu sync.Mutex
	n := 0
	c, _ := dialFake(t, func(string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n < 3 {
			return testdata(t, "show-status-reconfiguring"), nil
		}
		return testdata(t, "show-status"), nil
	})
	if err := c.waitReconfigured(testContext(t)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if n != 3 {
		t.Errorf("%d polls, want 3", n)
	}
}

func TestWaitReconfiguredDeadline(t *testing.T) {
	c, _ := dialFake(t, answer(testdata(t, "show-status-reconfiguring")))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := c.waitReconfigured(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want DeadlineExceeded", err)
	}
}
