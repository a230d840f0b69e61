package bird

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestDial(t *testing.T) {
	c, f := dialFake(t, answer("0000 \n"))
	if _, err := c.Raw(testContext(t), "show status"); err != nil || f.connections() != 1 {
		t.Errorf("a call after Dial: %v, over %d connections", err, f.connections())
	}
}

func TestDialErrors(t *testing.T) {
	t.Run("no socket", func(t *testing.T) {
		_, err := Dial(testContext(t), socketPath(t))
		var oe *OpError
		if !errors.As(err, &oe) || oe.Op != "dial" || !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want a dial OpError wrapping ErrNotExist", err)
		}
	})
	t.Run("refused by BIRD", func(t *testing.T) {
		f := startFake(t, "8007 Access denied\n", answer("0000 \n"))
		_, err := Dial(testContext(t), f.path)
		var re *ReplyError
		if !errors.As(err, &re) || re.Code != codeAccessDenied || re.Message != "Access denied" {
			t.Errorf("err = %v, want a ReplyError 8007", err)
		}
	})
	t.Run("not BIRD", func(t *testing.T) {
		f := startFake(t, "SSH-2.0-OpenSSH_9.2\n", answer("0000 \n"))
		_, err := Dial(testContext(t), f.path)
		if !errors.Is(err, errMalformed) {
			t.Errorf("err = %v, want a malformed reply", err)
		}
	})
	t.Run("silent", func(t *testing.T) {
		f := startFake(t, "", answer("0000 \n"))
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := Dial(ctx, f.path)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want DeadlineExceeded", err)
		}
	})
}

func TestRaw(t *testing.T) {
	c, f := dialFake(t, replay(t, map[string]string{
		"show status":             "show-status",
		`show protocols "nomat*"`: "show-protocols-nomatch",
	}))
	ctx := testContext(t)

	lines, err := c.Raw(ctx, "show status")
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 7 || lines[2] != (Line{1011, "Hostname is vm"}) || lines[6] != (Line{13, "Daemon is up and running"}) {
		t.Errorf("lines = %q", lines)
	}

	// An error reply is returned as lines and a ReplyError inside an
	// OpError naming the command; the connection stays in use.
	lines, err = c.Raw(ctx, `show protocols "nomat*"`)
	var re *ReplyError
	if !errors.As(err, &re) || re.Code != codeNoProtocolsMatch || re.Message != "No protocols match" {
		t.Fatalf("err = %v, want ReplyError 8003", err)
	}
	if want := `bird: show protocols "nomat*": No protocols match (8003)`; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	if len(lines) != 1 || lines[0].Code != 8003 {
		t.Errorf("lines = %q", lines)
	}
	if _, err := c.Raw(ctx, "show status"); err != nil {
		t.Fatal(err)
	}
	if n := f.connections(); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
}

func TestRawRejectsLineBreaks(t *testing.T) {
	c, f := dialFake(t, answer("0000 \n"))
	for _, cmd := range []string{"show status\nshow protocols", "down\r"} {
		if _, err := c.Raw(testContext(t), cmd); err == nil {
			t.Errorf("Raw(%q) succeeded", cmd)
		}
	}
	if cmds := f.commands(); len(cmds) != 0 {
		t.Errorf("sent %q", cmds)
	}
}

func TestDeadline(t *testing.T) {
	c, f := dialFake(t, func(cmd string) (string, error) {
		if cmd == "show protocols all" {
			// Half a reply, then nothing: a BIRD stuck in a long output.
			return "2002-Name       Proto      Table      State  Since         Info\n", nil
		}
		return "0013 Daemon is up and running\n", nil
	})

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.ProtocolDetails(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	var oe *OpError
	if !errors.As(err, &oe) || oe.Op != "show protocols all" {
		t.Errorf("err = %#v, want an OpError for show protocols all", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned after %v", d)
	}

	// The rest of that reply may still come; the next call must not read
	// it, so it runs on a new connection.
	lines, err := c.Raw(testContext(t), "show status")
	if err != nil {
		t.Fatal(err)
	}
	if lines[0].Text != "Daemon is up and running" {
		t.Errorf("lines = %q", lines)
	}
	if n := f.connections(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

func TestCancel(t *testing.T) {
	got := make(chan struct{})
	c, _ := dialFake(t, func(cmd string) (string, error) {
		close(got)
		return "", nil // never answers
	})
	ctx, cancel := context.WithCancel(context.Background()) // no deadline
	go func() {
		<-got
		cancel()
	}()
	_, err := c.reconfiguring(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want Canceled", err)
	}
}

func TestDoneContextSendsNothing(t *testing.T) {
	c, f := dialFake(t, answer("0000 \n"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Raw(ctx, "show status"); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want Canceled", err)
	}
	if cmds := f.commands(); len(cmds) != 0 {
		t.Errorf("sent %q", cmds)
	}
}

func TestHangUp(t *testing.T) {
	// BIRD restarting: it hangs up in the middle of a reply, then answers
	// the next connection.
	var mu sync.Mutex
	calls := 0
	c, f := dialFake(t, func(cmd string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return "1000-BIRD 2.0.12\n", errHangUp
		}
		return testdata(t, "show-status"), nil
	})
	_, err := c.reconfiguring(testContext(t))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("err = %v, want ErrUnexpectedEOF", err)
	}
	busy, err := c.reconfiguring(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if busy || f.connections() != 2 {
		t.Errorf("reconfiguring %v over %d connections", busy, f.connections())
	}
}

func TestIdleConnectionClosedByBIRD(t *testing.T) {
	// BIRD answers, then goes away (restarted by its unit); the client
	// still holds the old connection. The next call must not fail for it.
	c, f := dialFake(t, func(cmd string) (string, error) {
		return testdata(t, "show-status"), errHangUp
	})
	if _, err := c.reconfiguring(testContext(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.hungUp:
	case <-testContext(t).Done():
		t.Fatal("the fake did not hang up")
	}
	if _, err := c.reconfiguring(testContext(t)); err != nil {
		t.Fatalf("after BIRD closed the idle connection: %v", err)
	}
	if n, cmds := f.connections(), f.commands(); n != 2 || len(cmds) != 2 {
		t.Errorf("%d connections, commands %q; want 2 and each command once", n, cmds)
	}
}

func TestClose(t *testing.T) {
	c, _ := dialFake(t, answer("0000 \n"))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c.Raw(testContext(t), "show status"); !errors.Is(err, errClosed) {
		t.Errorf("err = %v, want errClosed", err)
	}
}

func TestCallsAreSerialized(t *testing.T) {
	// Each reply names its command; with calls interleaved on the wire a
	// caller would get another's reply.
	c, _ := dialFake(t, func(cmd string) (string, error) {
		return fmt.Sprintf("1000-%s\n first\n second\n0000 \n", cmd), nil
	})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := fmt.Sprintf("eval %d", i)
			lines, err := c.Raw(testContext(t), cmd)
			if err != nil {
				t.Error(err)
				return
			}
			want := []Line{{1000, cmd}, {1000, "first"}, {1000, "second"}, {0, ""}}
			if !reflect.DeepEqual(lines, want) {
				t.Errorf("%s: got %q", cmd, lines)
			}
		}()
	}
	wg.Wait()
}
