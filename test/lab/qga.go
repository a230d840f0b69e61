//go:build lab

package lab

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"time"
)

// qgaTimeout bounds one guest agent round trip when ctx has no earlier deadline.
const qgaTimeout = 5 * time.Second

// qgaConn is one session with a VM's QEMU guest agent over its unix socket.
// The agent speaks QMP-style JSON lines. Requests written while the agent was
// not yet running, or replies to a session that timed out, can arrive late, so
// each session starts with guest-sync and a fresh id and skips every reply
// before the matching one; after that, replies come in request order.
type qgaConn struct {
	ctx  context.Context
	conn net.Conn
	r    *bufio.Reader
}

func dialQGA(ctx context.Context, path string) (*qgaConn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	q := &qgaConn{ctx: ctx, conn: conn, r: bufio.NewReader(conn)}
	id := rand.Int64N(1 << 52) // exact in JSON numbers
	var got int64
	if err := q.send("guest-sync", map[string]any{"id": id}); err != nil {
		conn.Close()
		return nil, err
	}
	for got != id {
		err := q.recv(&got)
		if ae := (*agentError)(nil); errors.As(err, &ae) {
			continue // a stale request's error, not the sync's
		}
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("guest-sync: %w", err)
		}
	}
	return q, nil
}

func (q *qgaConn) Close() error { return q.conn.Close() }

// send writes one request and gives its reply qgaTimeout (or what is left
// of ctx) to arrive: a command's run time is spent between requests, so one
// exchange is always short.
func (q *qgaConn) send(cmd string, args any) error {
	deadline, ok := q.ctx.Deadline()
	if !ok || time.Until(deadline) > qgaTimeout {
		deadline = time.Now().Add(qgaTimeout)
	}
	q.conn.SetDeadline(deadline)
	b, err := json.Marshal(map[string]any{"execute": cmd, "arguments": args})
	if err != nil {
		return err
	}
	_, err = q.conn.Write(append(b, '\n'))
	return err
}

// agentError is an error reply of the agent (the request was refused).
type agentError struct{ Class, Desc string }

func (e *agentError) Error() string { return "guest agent: " + e.Class + ": " + e.Desc }

// recv reads the next reply into ret. Lines that are not replies (stale
// fragments) are skipped; an agent error is returned as an error.
func (q *qgaConn) recv(ret any) error {
	for {
		line, err := q.r.ReadBytes('\n')
		if err != nil {
			return err
		}
		var reply struct {
			Return json.RawMessage `json:"return"`
			Error  *agentError     `json:"error"`
		}
		if json.Unmarshal(line, &reply) != nil {
			continue
		}
		if reply.Error != nil {
			return reply.Error
		}
		if reply.Return == nil {
			continue
		}
		if err := json.Unmarshal(reply.Return, ret); err != nil {
			// A stale reply of another shape (e.g. an old sync): not ours.
			continue
		}
		return nil
	}
}

func (q *qgaConn) call(cmd string, args, ret any) error {
	if err := q.send(cmd, args); err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	if err := q.recv(ret); err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	return nil
}

// Result is what a command run in a VM produced.
type Result struct {
	Stdout, Stderr string
	ExitCode       int
}

// ExitError is returned by Exec when the command ran but did not exit 0.
type ExitError struct {
	Cmd string
	Result
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("%s: exit status %d\nstdout: %s\nstderr: %s",
		e.Cmd, e.ExitCode, strings.TrimSpace(e.Stdout), strings.TrimSpace(e.Stderr))
}

// execStatus is guest-exec-status's reply.
type execStatus struct {
	Exited   bool   `json:"exited"`
	ExitCode int    `json:"exitcode"`
	Signal   int    `json:"signal"`
	OutData  string `json:"out-data"`
	ErrData  string `json:"err-data"`
}

// start runs argv through guest-exec and returns its guest pid. The agent
// reports the end only once the command's stdout and stderr are closed:
// daemons must be started with </dev/null >file 2>&1.
func (q *qgaConn) start(argv []string) (int, error) {
	var started struct {
		PID int `json:"pid"`
	}
	args := map[string]any{"path": argv[0], "arg": argv[1:], "capture-output": true}
	if err := q.call("guest-exec", args, &started); err != nil {
		return 0, err
	}
	return started.PID, nil
}

// status asks once whether guest pid has ended; when it has, it returns
// its result.
func (q *qgaConn) status(pid int) (Result, bool, error) {
	var st execStatus
	if err := q.call("guest-exec-status", map[string]any{"pid": pid}, &st); err != nil {
		return Result{}, false, err
	}
	if !st.Exited {
		return Result{}, false, nil
	}
	out, err1 := base64.StdEncoding.DecodeString(st.OutData)
	errb, err2 := base64.StdEncoding.DecodeString(st.ErrData)
	res := Result{Stdout: string(out), Stderr: string(errb), ExitCode: st.ExitCode}
	if st.Signal != 0 {
		res.ExitCode = 128 + st.Signal
	}
	return res, true, errors.Join(err1, err2)
}

// timedOut reports whether err is a round trip that hit its deadline: the
// agent did not answer in time, which a guest starved of CPU (dpkg on
// eight emulated VMs at once) does, while the command runs on.
func timedOut(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// readFile reads a guest file through the agent's own file calls: no
// process is started in the guest, so polling a file costs the guest next
// to nothing (a shell and its command cost tens of ms of emulated CPU,
// which would slow down what is being measured).
func (q *qgaConn) readFile(path string, limit int) ([]byte, error) {
	var handle int
	if err := q.call("guest-file-open", map[string]any{"path": path, "mode": "r"}, &handle); err != nil {
		return nil, err
	}
	var out []byte
	var err error
	for len(out) < limit {
		var chunk struct {
			Count int    `json:"count"`
			Buf   string `json:"buf-b64"`
			EOF   bool   `json:"eof"`
		}
		if err = q.call("guest-file-read", map[string]any{"handle": handle, "count": min(limit-len(out), 48*1024)}, &chunk); err != nil {
			break
		}
		b, derr := base64.StdEncoding.DecodeString(chunk.Buf)
		if derr != nil {
			err = derr
			break
		}
		out = append(out, b...)
		if chunk.EOF || chunk.Count == 0 {
			break
		}
	}
	var closed struct{}
	return out, errors.Join(err, q.call("guest-file-close", map[string]any{"handle": handle}, &closed))
}
