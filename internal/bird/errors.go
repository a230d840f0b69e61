package bird

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// errClosed is matched by the error of calls on a Client after Close.
var errClosed = errors.New("client closed")

// errShuttingDown is returned by Configure when BIRD refuses the new
// configuration because it is shutting down (reply 0006).
var errShuttingDown = errors.New("reconfiguration ignored, BIRD is shutting down")

// OpError is the error of every call: Op is the command sent to BIRD (or
// "dial"), Err what went wrong. It unwraps, so errors.Is(err,
// context.DeadlineExceeded) and errors.As(err, new(*ReplyError)) work.
type OpError struct {
	Op  string
	Err error
}

func (e *OpError) Error() string { return "bird: " + e.Op + ": " + e.Err.Error() }

func (e *OpError) Unwrap() error { return e.Err }

// ReplyError is an error reply from BIRD: its code (8xxx run-time, 9xxx
// parse-time, see the Code constants) and its message.
type ReplyError struct {
	Code    int
	Message string
}

func (e *ReplyError) Error() string { return fmt.Sprintf("%s (%04d)", e.Message, e.Code) }

// ConfigError is a configuration BIRD could not read, from "configure" or
// "configure check". When BIRD names a position (a syntax or semantic error)
// File, Line and Column are set; when the file could not be read at all
// (missing, no permission) only File and Message are. It unwraps to the
// ReplyError it was parsed from.
type ConfigError struct {
	File    string
	Line    int // 1-based; 0 when BIRD gave no position
	Column  int // as BIRD counts it, 1-based; 0 when BIRD gave no position
	Message string

	reply *ReplyError
}

func (e *ConfigError) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
	case e.File != "":
		return e.File + ": " + e.Message
	}
	return e.Message
}

func (e *ConfigError) Unwrap() error { return e.reply }

// parseConfigError reads the text of an 8002 reply, which BIRD prints as
// "FILE:LINE:COL MESSAGE" (conf->err_*) or "FILE: STRERROR" (main.c,
// cmd_read_config). The file is the one the error is in, which differs from
// the one asked for when the error is in an included file.
func parseConfigError(re *ReplyError) *ConfigError {
	text := re.Message
	ce := &ConfigError{Message: text, reply: re}

	// "FILE:LINE:COL MESSAGE": the position is the last run of
	// ":digits:digits" before the first space after it. File names may
	// contain colons and spaces, so search from the message backwards: the
	// message starts after the first " " that follows ":N:N".
	for i := 0; i < len(text); i++ {
		if text[i] != ' ' {
			continue
		}
		head := text[:i]
		c2 := strings.LastIndexByte(head, ':')
		if c2 < 0 {
			continue
		}
		c1 := strings.LastIndexByte(head[:c2], ':')
		if c1 < 0 {
			continue
		}
		line, err1 := strconv.Atoi(head[c1+1 : c2])
		col, err2 := strconv.Atoi(head[c2+1:])
		if err1 != nil || err2 != nil || line < 1 {
			continue
		}
		ce.File, ce.Line, ce.Column, ce.Message = head[:c1], line, col, text[i+1:]
		return ce
	}

	// "FILE: STRERROR": split at the last ": ", since strerror texts have
	// no colon but paths might.
	if i := strings.LastIndex(text, ": "); i > 0 {
		ce.File, ce.Message = text[:i], text[i+2:]
	}
	return ce
}
