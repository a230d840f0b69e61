package bird

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Client talks to one BIRD daemon over its control socket.
//
// Calls are serialized on one connection. When a call fails on the
// connection itself (deadline, cancellation, BIRD restarting, a malformed
// reply), the rest of that reply may still be in flight and would be read as
// the answer to the next command, so the connection is dropped and the next
// call dials again. A command that BIRD's end refused because it had closed
// the idle connection (BIRD restarted) was never delivered, so it is sent
// again once on a new connection. Error replies from BIRD (8xxx, 9xxx)
// leave the connection in use.
type Client struct {
	path string

	mu     sync.Mutex
	conn   net.Conn // nil: not connected, dial on next call
	r      *bufio.Reader
	closed bool
}

// Dial connects to the control socket at path (for sitevpn the one given
// to bird with -s) and reads BIRD's greeting.
func Dial(ctx context.Context, path string) (*Client, error) {
	c := &Client{path: path}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.connect(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Close closes the connection, after the call in progress if there is
// one. Calls after Close fail.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn, c.r = nil, nil
	return err
}

// Raw sends one command, exactly as it would be typed into birdc, and
// returns every line of the reply, the final one included. A reply whose
// final line is an error (8xxx, 9xxx) is returned together with a
// *ReplyError. The command must be a single line.
func (c *Client) Raw(ctx context.Context, cmd string) ([]Line, error) {
	return c.call(ctx, cmd)
}

// call is what every method runs: one command, one reply, under ctx. It
// returns the lines of the reply and, when the final line is an error, a
// *ReplyError; every error is an *OpError naming cmd.
func (c *Client) call(ctx context.Context, cmd string) ([]Line, error) {
	if strings.ContainsAny(cmd, "\r\n") {
		// A second line would be a second command and its reply would be
		// taken for the answer to the next call.
		return nil, &OpError{Op: cmd, Err: errors.New("command contains a line break")}
	}
	if err := ctx.Err(); err != nil {
		return nil, &OpError{Op: cmd, Err: err}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, &OpError{Op: cmd, Err: errClosed}
	}
	reused := c.conn != nil
	if !reused {
		if err := c.connect(ctx); err != nil {
			return nil, err
		}
	}

	lines, err := c.exchange(ctx, cmd)
	if err != nil && reused && peerGone(err) {
		// BIRD closed this connection while it sat idle (it restarted, or
		// was reloaded by its unit): the command was refused by the
		// kernel, not delivered, so sending it again on a new connection
		// cannot run it twice.
		c.drop()
		if err := c.connect(ctx); err != nil {
			return nil, err
		}
		lines, err = c.exchange(ctx, cmd)
	}
	if err != nil {
		c.drop()
		return nil, &OpError{Op: cmd, Err: err}
	}
	if fin := lines[len(lines)-1]; fin.IsError() {
		return lines, &OpError{Op: cmd, Err: &ReplyError{Code: fin.Code, Message: fin.Text}}
	}
	return lines, nil
}

// connect dials and reads the greeting. The caller holds c.mu.
func (c *Client) connect(ctx context.Context) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.path)
	if err != nil {
		return &OpError{Op: "dial", Err: err}
	}
	c.conn, c.r = conn, bufio.NewReaderSize(conn, maxLine)

	lines, err := c.exchange(ctx, "")
	if err == nil {
		err = c.greeting(lines)
	}
	if err != nil {
		c.drop()
		return &OpError{Op: "dial", Err: fmt.Errorf("%s: %w", c.path, err)}
	}
	return nil
}

// greeting checks the hello BIRD sends on connect ("0001 BIRD 2.0.12
// ready."). A restricted or refusing server answers with something else,
// which is reported as it is.
func (c *Client) greeting(lines []Line) error {
	fin := lines[len(lines)-1]
	if fin.IsError() {
		return &ReplyError{Code: fin.Code, Message: fin.Text}
	}
	if fin.Code != codeWelcome {
		return fmt.Errorf("%w: unexpected greeting %q", errMalformed, fin.String())
	}
	return nil
}

// exchange writes cmd (nothing when cmd is empty: the greeting) and reads
// one reply, with the connection's deadline following ctx. Cancellation
// without a deadline is turned into an immediate deadline so a blocked read
// returns.
func (c *Client) exchange(ctx context.Context, cmd string) ([]Line, error) {
	conn := c.conn
	deadline, _ := ctx.Deadline() // zero: none
	if err := conn.SetDeadline(deadline); err != nil {
		return nil, err
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		conn.SetDeadline(time.Unix(1, 0))
	})
	defer func() {
		// If the function already started, wait for it: returning early
		// would let its past deadline land after the next call set its own.
		if !stop() {
			<-fired
		}
	}()

	if cmd != "" {
		if _, err := conn.Write([]byte(cmd + "\n")); err != nil {
			return nil, &writeError{ctxErr(ctx, err)}
		}
	}
	lines, err := readReply(c.r)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	return lines, nil
}

// writeError marks a command that could not be written: BIRD never got it.
type writeError struct{ err error }

func (e *writeError) Error() string { return "sending command: " + e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// peerGone reports whether a command could not be written because BIRD had
// closed the connection. Writing to a unix stream socket whose peer is
// closed fails at once with EPIPE (or ECONNRESET), so the command went
// nowhere.
func peerGone(err error) bool {
	var we *writeError
	return errors.As(err, &we) && (errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET))
}

// ctxErr reports a failed read or write as the context's error when the
// context is why it failed. The socket deadline and the context's timer
// expire at the same instant, so the socket may notice first: a timeout at
// or after the context's deadline is that deadline.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
			return context.DeadlineExceeded
		}
	}
	return err
}

// drop forgets a connection whose stream position is no longer known.
func (c *Client) drop() {
	if c.conn != nil {
		c.conn.Close()
	}
	c.conn, c.r = nil, nil
}
