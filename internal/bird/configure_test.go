package bird

import (
	"errors"
	"reflect"
	"testing"
)

func TestConfigureCheck(t *testing.T) {
	c, f := dialFake(t, replay(t, map[string]string{
		`configure check "/etc/bird/a-good.conf"`:  "configure-check-ok",
		`configure check "/etc/bird/a-bad.conf"`:   "configure-check-syntax-error",
		`configure check "/etc/bird/missing.conf"`: "configure-check-missing",
		`configure check`:                          "configure-check-ok",
	}))
	ctx := testContext(t)

	if err := c.configureCheck(ctx, "/etc/bird/a-good.conf"); err != nil {
		t.Errorf("valid: %v", err)
	}
	if err := c.configureCheck(ctx, ""); err != nil {
		t.Errorf("BIRD's own file: %v", err)
	}

	err := c.configureCheck(ctx, "/etc/bird/a-bad.conf")
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a ConfigError", err)
	}
	want := ConfigError{File: "/etc/bird/a-bad.conf", Line: 28, Column: 1, Message: "syntax error, unexpected '}', expecting ';' or '{'"}
	if ce.File != want.File || ce.Line != want.Line || ce.Column != want.Column || ce.Message != want.Message {
		t.Errorf("got %+v\nwant %+v", *ce, want)
	}
	if s := `bird: configure check "/etc/bird/a-bad.conf": /etc/bird/a-bad.conf:28:1: syntax error, unexpected '}', expecting ';' or '{'`; err.Error() != s {
		t.Errorf("message %q\nwant    %q", err, s)
	}
	var re *ReplyError
	if !errors.As(err, &re) || re.Code != codeConfigurationError {
		t.Errorf("does not unwrap to the 8002 reply: %v", err)
	}

	err = c.configureCheck(ctx, "/etc/bird/missing.conf")
	if !errors.As(err, &ce) || ce.File != "/etc/bird/missing.conf" || ce.Line != 0 || ce.Message != "No such file or directory" {
		t.Errorf("missing file: %#v", err)
	}
	if s := `bird: configure check "/etc/bird/missing.conf": /etc/bird/missing.conf: No such file or directory`; err.Error() != s {
		t.Errorf("message %q\nwant    %q", err, s)
	}

	if got := len(f.commands()); got != 4 {
		t.Errorf("%d commands sent, want 4", got)
	}
}

func TestConfigure(t *testing.T) {
	for _, tt := range []struct {
		reply string
		want  ConfigureResult
		err   error
	}{
		{testdata(t, "configure-reconfigured"), Reconfigured, nil},
		{testdata(t, "configure-in-progress"), ReconfigurationInProgress, nil},
		{testdata(t, "configure-queued"), ReconfigurationQueued, nil},
		{"0002-Reading configuration from /etc/bird/a.conf\n0006 Reconfiguration ignored, shutting down\n", 0, errShuttingDown},
		{"0002-Reading configuration from /etc/bird/a.conf\n0020 Configuration OK\n", 0, errMalformed},
		{testdata(t, "configure-check-syntax-error"), 0, new(ConfigError)},
	} {
		c, f := dialFake(t, answer(tt.reply))
		got, err := c.Configure(testContext(t), "/etc/bird/a.conf")
		if got != tt.want {
			t.Errorf("%q: result %v, want %v", tt.reply, got, tt.want)
		}
		switch want := tt.err.(type) {
		case nil:
			if err != nil {
				t.Errorf("%q: %v", tt.reply, err)
			}
		case *ConfigError:
			if !errors.As(err, &want) {
				t.Errorf("%q: err = %v, want a ConfigError", tt.reply, err)
			}
		default:
			if !errors.Is(err, want) {
				t.Errorf("%q: err = %v, want %v", tt.reply, err, want)
			}
		}
		if cmds := f.commands(); !reflect.DeepEqual(cmds, []string{`configure "/etc/bird/a.conf"`}) {
			t.Errorf("sent %q", cmds)
		}
	}
}

func TestConfigureResultString(t *testing.T) {
	for r, s := range map[ConfigureResult]string{
		Reconfigured:              "reconfigured",
		ReconfigurationInProgress: "reconfiguration in progress",
		ReconfigurationQueued:     "reconfiguration queued",
		ConfigureResult(17):       "ConfigureResult(17)",
	} {
		if r.String() != s {
			t.Errorf("%d: %q, want %q", int(r), r.String(), s)
		}
	}
}

func TestConfigureRejectsPaths(t *testing.T) {
	c, f := dialFake(t, answer("0003 Reconfigured\n"))
	for _, p := range []string{
		"bird.conf",                  // relative: BIRD's working directory
		`/etc/bird/"quoted".conf`,    // BIRD strings have no escapes
		"/etc/bird/a.conf\nshutdown", // a second command
		"/etc/bird/a\x00.conf",
	} {
		if _, err := c.Configure(testContext(t), p); err == nil {
			t.Errorf("Configure(%q) succeeded", p)
		}
		if err := c.configureCheck(testContext(t), p); err == nil {
			t.Errorf("configureCheck(%q) succeeded", p)
		}
	}
	if cmds := f.commands(); len(cmds) != 0 {
		t.Errorf("sent %q", cmds)
	}
}
