package bird

import (
	"context"
	"errors"
	"testing"
)

func TestOpError(t *testing.T) {
	re := &ReplyError{Code: codeNoProtocolsMatch, Message: "No protocols match"}
	err := error(&OpError{Op: `show protocols "x*"`, Err: re})
	if want := `bird: show protocols "x*": No protocols match (8003)`; err.Error() != want {
		t.Errorf("%q, want %q", err, want)
	}
	var got *ReplyError
	if !errors.As(err, &got) || got != re {
		t.Error("does not unwrap to the ReplyError")
	}
	err = &OpError{Op: "show status", Err: context.DeadlineExceeded}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("does not unwrap to the context's error")
	}
}

func TestConfigErrorString(t *testing.T) {
	for _, tt := range []struct {
		e    ConfigError
		want string
	}{
		{ConfigError{File: "/etc/bird/a.conf", Line: 3, Column: 7, Message: "syntax error"}, "/etc/bird/a.conf:3:7: syntax error"},
		{ConfigError{File: "/etc/bird/a.conf", Message: "Permission denied"}, "/etc/bird/a.conf: Permission denied"},
		{ConfigError{Message: "odd"}, "odd"},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%q, want %q", got, tt.want)
		}
	}
}

func TestParseConfigError(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want ConfigError
	}{
		{"/etc/bird/a.conf:28:1 syntax error, unexpected '}'",
			ConfigError{File: "/etc/bird/a.conf", Line: 28, Column: 1, Message: "syntax error, unexpected '}'"}},
		// The error is in the included file, not the one asked for.
		{"/etc/bird/peers.d/wg2.conf:3:17 Unknown symbol: as65002",
			ConfigError{File: "/etc/bird/peers.d/wg2.conf", Line: 3, Column: 17, Message: "Unknown symbol: as65002"}},
		{"/srv/my bird:v2/a.conf:4:2 Neighbor AS number out of range",
			ConfigError{File: "/srv/my bird:v2/a.conf", Line: 4, Column: 2, Message: "Neighbor AS number out of range"}},
		{"/etc/bird/a.conf: Permission denied",
			ConfigError{File: "/etc/bird/a.conf", Message: "Permission denied"}},
		{"/srv/x:1/a.conf: No such file or directory",
			ConfigError{File: "/srv/x:1/a.conf", Message: "No such file or directory"}},
		{"something else entirely",
			ConfigError{Message: "something else entirely"}},
	} {
		got := parseConfigError(&ReplyError{Code: codeConfigurationError, Message: tt.in})
		if got.File != tt.want.File || got.Line != tt.want.Line || got.Column != tt.want.Column || got.Message != tt.want.Message {
			t.Errorf("%q:\ngot  %+v\nwant %+v", tt.in, *got, tt.want)
		}
	}
}
