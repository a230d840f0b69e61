package bird

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// A handler answers one command with the bytes of a reply, as BIRD would
// write them. A non-nil error makes the fake hang up after writing the
// reply, as a BIRD that exits would.
type handler func(cmd string) (string, error)

var errHangUp = errors.New("hang up")

// fakeBIRD is a control socket in t.TempDir() that greets every connection
// like BIRD 2.0.12 and answers each command line with its handler.
type fakeBIRD struct {
	path     string
	greeting string

	mu    sync.Mutex
	cmds  []string
	conns int

	// hungUp receives once a connection has been closed because a handler
	// said so.
	hungUp chan struct{}
}

// dialFake starts a fake BIRD answering with h and returns a client
// connected to it (the way nltest.Dial hands out a connection to a
// function).
func dialFake(t *testing.T, h handler) (*Client, *fakeBIRD) {
	t.Helper()
	f := startFake(t, "0001 BIRD 2.0.12 ready.\n", h)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, f
}

func startFake(t *testing.T, greeting string, h handler) *fakeBIRD {
	t.Helper()
	f := &fakeBIRD{path: socketPath(t), greeting: greeting, hungUp: make(chan struct{}, 100)}
	l, err := net.Listen("unix", f.path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() {
		close(done)
		l.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns++
			f.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				f.serve(conn, done, h)
			}()
		}
	}()
	return f
}

func (f *fakeBIRD) serve(conn net.Conn, done <-chan struct{}, h handler) {
	defer conn.Close()
	go func() {
		<-done
		conn.Close() // unblocks the read below at the end of the test
	}()
	if _, err := conn.Write([]byte(f.greeting)); err != nil {
		return
	}
	r := bufio.NewReader(conn)
	for {
		cmd, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd = strings.TrimSuffix(cmd, "\n")
		f.mu.Lock()
		f.cmds = append(f.cmds, cmd)
		f.mu.Unlock()
		reply, err := h(cmd)
		if _, werr := conn.Write([]byte(reply)); werr != nil {
			return
		}
		if err != nil {
			conn.Close()
			f.hungUp <- struct{}{}
			return
		}
	}
}

// commands returns the commands received so far.
func (f *fakeBIRD) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.cmds...)
}

func (f *fakeBIRD) connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns
}

// socketPath is a socket path in t.TempDir(), or in a shorter temporary
// directory when a long test name would exceed sun_path's 108 bytes.
func socketPath(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "bird.ctl")
	if len(p) < 100 {
		return p
	}
	dir, err := os.MkdirTemp("", "bird")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "bird.ctl")
}

// replay answers the commands in script with the recorded replies in
// testdata/<file>.reply; any other command fails the test.
func replay(t *testing.T, script map[string]string) handler {
	return func(cmd string) (string, error) {
		file, ok := script[cmd]
		if !ok {
			t.Errorf("unexpected command %q", cmd)
			return "9001 syntax error\n", nil
		}
		return testdata(t, file), nil
	}
}

func testdata(t *testing.T, file string) string {
	b, err := os.ReadFile(filepath.Join("testdata", file+".reply"))
	if err != nil {
		t.Error(err)
		return "8000 no test data\n"
	}
	return string(b)
}

// answer always answers with reply.
func answer(reply string) handler {
	return func(string) (string, error) { return reply, nil }
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// detailOf returns the protocol called name from "show protocols all".
func detailOf(ctx context.Context, c *Client, name string) (*ProtocolDetail, error) {
	ds, err := c.ProtocolDetails(ctx)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		if ds[i].Name == name {
			return &ds[i], nil
		}
	}
	return nil, fmt.Errorf("BIRD runs no protocol %s", name)
}
