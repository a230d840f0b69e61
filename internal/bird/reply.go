package bird

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Reply codes this package acts on (doc/reply_codes in BIRD's source).
const (
	codeOK                      = 0    // final line of most table replies, empty text
	codeWelcome                 = 1    // greeting: "BIRD 2.0.12 ready."
	codeReconfigured            = 3    // configure: done
	codeReconfigurationProgress = 4    // configure: accepted, finishing asynchronously
	codeReconfigurationQueued   = 5    // configure: another one is running, queued
	codeReconfigurationIgnored  = 6    // configure: BIRD is shutting down
	codeStatusReport            = 13   // show status: final line
	codeConfigurationOK         = 20   // configure check: valid
	codeProtocolList            = 1002 // show protocols: one row per protocol
	codeProtocolDetails         = 1006 // show protocols all: detail lines
	codeProtocolHeading         = 2002 // show protocols: column heading
	codeConfigurationError      = 8002 // configure, configure check: "FILE:LINE:COL message" or "FILE: strerror"
	codeNoProtocolsMatch        = 8003 // show protocols "pattern" matched nothing
	codeAccessDenied            = 8007 // restricted CLI (bird -R, or "restrict")
	codeParseError              = 9001 // the command itself did not parse
)

// maxLine bounds one reply line. BIRD formats lines into a 512-byte buffer
// (CLI_LINE_SIZE), so anything much longer means we are not talking to BIRD.
const maxLine = 16 << 10

// Line is one line of a reply. Continuation lines (those BIRD sends with a
// leading space instead of a code) carry the code of the line they continue,
// so callers never have to track it.
type Line struct {
	Code int
	Text string
}

// IsError reports whether the code is a run-time (8xxx) or parse-time (9xxx)
// error.
func (l Line) IsError() bool { return l.Code >= 8000 && l.Code <= 9999 }

// String formats the line as it would appear on the wire with a code.
func (l Line) String() string { return fmt.Sprintf("%04d %s", l.Code, l.Text) }

// errMalformed is wrapped by every error about bytes that do not follow the
// protocol; after one the stream cannot be trusted and the connection is
// dropped.
var errMalformed = errors.New("malformed reply")

// readReply reads one complete reply: every line up to and including the
// one whose code is followed by a space. Spontaneous '+' lines are skipped;
// they only appear after an "echo" command, which this package never sends,
// but a stray one must not be mistaken for the end of a reply.
func readReply(r *bufio.Reader) ([]Line, error) {
	var (
		lines []Line
		last  = -1 // code a continuation line continues; -1: none yet
	)
	for {
		raw, err := readLine(r)
		if err != nil {
			if err == io.EOF && last >= 0 {
				err = io.ErrUnexpectedEOF // hung up in the middle of a reply
			}
			return lines, err
		}
		switch {
		case len(raw) > 0 && raw[0] == '+':
			continue
		case len(raw) > 0 && raw[0] == ' ':
			if last < 0 {
				return lines, fmt.Errorf("%w: continuation line %q with no code before it", errMalformed, raw)
			}
			lines = append(lines, Line{Code: last, Text: string(raw[1:])})
			continue
		}

		code, final, ok := parseCode(raw)
		if !ok {
			return lines, fmt.Errorf("%w: line %q has no reply code", errMalformed, raw)
		}
		lines = append(lines, Line{Code: code, Text: string(raw[5:])})
		if final {
			return lines, nil
		}
		last = code
	}
}

// readLine returns one line without its line ending. BIRD ends lines with
// "\n"; a "\r" is tolerated so a test server or a proxy may send CRLF.
func readLine(r *bufio.Reader) ([]byte, error) {
	b, err := r.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, fmt.Errorf("%w: line longer than %d bytes", errMalformed, r.Size())
	case err == io.EOF && len(b) > 0:
		return nil, io.ErrUnexpectedEOF // a line cut short
	case err != nil:
		return nil, err
	}
	b = bytes.TrimSuffix(b[:len(b)-1], []byte{'\r'})
	return b, nil
}

// parseCode reads "NNNN-" or "NNNN " at the start of a line.
func parseCode(b []byte) (code int, final, ok bool) {
	if len(b) < 5 || (b[4] != '-' && b[4] != ' ') {
		return 0, false, false
	}
	for _, c := range b[:4] {
		if c < '0' || c > '9' {
			return 0, false, false
		}
		code = code*10 + int(c-'0')
	}
	return code, b[4] == ' ', true
}
