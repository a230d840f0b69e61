package bird

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"
)

func TestStatus(t *testing.T) {
	c, _ := dialFake(t, replay(t, map[string]string{"show status": "show-status"}))
	s, err := c.Status(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if s.Version != "2.0.12" || s.RouterID != netip.MustParseAddr("192.0.2.1") || s.Hostname != "vm" ||
		s.State != "Daemon is up and running" || s.Reconfiguring() || s.ShuttingDown() {
		t.Errorf("got %+v", s)
	}
	if s.LastReboot.IsZero() || s.LastReconfiguration.Before(s.LastReboot) || s.ServerTime.Before(s.LastReconfiguration) {
		t.Errorf("times: reboot %v, reconfiguration %v, now %v", s.LastReboot, s.LastReconfiguration, s.ServerTime)
	}
}

func TestStatusReconfiguring(t *testing.T) {
	c, _ := dialFake(t, replay(t, map[string]string{"show status": "show-status-reconfiguring"}))
	s, err := c.Status(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Reconfiguring() {
		t.Errorf("got %+v", s)
	}
}

func TestStatusMalformed(t *testing.T) {
	for _, reply := range []string{
		"0013 Daemon is up and running\n",                            // no version
		"1000-BIRD 2.0.12\n0000 \n",                                  // no state
		"1000-BIRD 2.0.12\n1011-Router ID is 1\n0013 Daemon is up\n", // not an address
	} {
		c, _ := dialFake(t, answer(reply))
		if s, err := c.Status(testContext(t)); !errors.Is(err, errMalformed) {
			t.Errorf("%q: %+v, %v", reply, s, err)
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
	if err := c.WaitReconfigured(testContext(t)); err != nil {
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
	if err := c.WaitReconfigured(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want DeadlineExceeded", err)
	}
}
