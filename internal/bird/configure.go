package bird

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// ConfigureResult is how BIRD took a new configuration.
type ConfigureResult int

const (
	// Reconfigured: BIRD runs the new configuration. Protocols whose
	// configuration did not change, and those BIRD could change in place,
	// kept running.
	Reconfigured ConfigureResult = codeReconfigured

	// ReconfigurationInProgress: the configuration is accepted but some
	// protocol has to stop or restart first (a changed BGP session option
	// restarts that session); BIRD finishes on its own. "show status"
	// says "Reconfiguration in progress" until it has.
	ReconfigurationInProgress ConfigureResult = codeReconfigurationProgress

	// ReconfigurationQueued: an earlier reconfiguration is still in
	// progress; this configuration is applied when it ends, replacing any
	// configuration queued before.
	ReconfigurationQueued ConfigureResult = codeReconfigurationQueued
)

func (r ConfigureResult) String() string {
	switch r {
	case Reconfigured:
		return "reconfigured"
	case ReconfigurationInProgress:
		return "reconfiguration in progress"
	case ReconfigurationQueued:
		return "reconfiguration queued"
	}
	return fmt.Sprintf("ConfigureResult(%d)", int(r))
}

// configureCheck asks BIRD to parse the configuration file at path without
// using it ("configure check"). An invalid file gives a *ConfigError with
// BIRD's file:line:column and message. path must be absolute, since BIRD
// would resolve a relative one against its own working directory; an empty
// path checks the file BIRD was started with (-c).
//
// BIRD reads the file itself, with its own privileges: a file it cannot
// read (bird2's unit drops to user bird) fails here as it would on
// Configure.
func (c *Client) configureCheck(ctx context.Context, path string) error {
	cmd, err := configureCommand("configure check", path)
	if err != nil {
		return err
	}
	lines, err := c.call(ctx, cmd)
	if err != nil {
		return configError(err)
	}
	if fin := lines[len(lines)-1]; fin.Code != codeConfigurationOK {
		return &OpError{Op: cmd, Err: fmt.Errorf("%w: unexpected reply %q", errMalformed, fin.String())}
	}
	return nil
}

// Configure makes BIRD read the configuration file at path and switch to it
// ("configure"). This is BIRD's default reconfiguration: only protocols
// whose configuration changed are touched, and a changed filter makes BIRD
// re-evaluate the routes of that channel (for BGP by route refresh), not
// restart the session. It is deliberately not "configure soft", which
// ignores filter changes and would leave routes that the new filters reject.
//
// An invalid file gives a *ConfigError and BIRD keeps running the old
// configuration. path follows the rules of configureCheck.
//
// BIRD does not remember path: "birdc configure", SIGHUP and bird.service's
// reload read the file given with -c again. Keep both the same.
func (c *Client) Configure(ctx context.Context, path string) (ConfigureResult, error) {
	cmd, err := configureCommand("configure", path)
	if err != nil {
		return 0, err
	}
	lines, err := c.call(ctx, cmd)
	if err != nil {
		return 0, configError(err)
	}
	switch fin := lines[len(lines)-1]; fin.Code {
	case codeReconfigured, codeReconfigurationProgress, codeReconfigurationQueued:
		return ConfigureResult(fin.Code), nil
	case codeReconfigurationIgnored:
		return 0, &OpError{Op: cmd, Err: errShuttingDown}
	default:
		return 0, &OpError{Op: cmd, Err: fmt.Errorf("%w: unexpected reply %q", errMalformed, fin.String())}
	}
}

// configureCommand quotes path as BIRD's lexer reads a string: between
// double quotes, with no escapes, so a path with a quote or a line break
// cannot be passed at all.
func configureCommand(verb, path string) (string, error) {
	if path == "" {
		return verb, nil
	}
	op := verb + " " + `"` + path + `"`
	if strings.ContainsAny(path, "\"\r\n\x00") {
		return "", &OpError{Op: op, Err: errors.New("path contains a character BIRD cannot read in a string (quote, line break or NUL)")}
	}
	if !filepath.IsAbs(path) {
		return "", &OpError{Op: op, Err: errors.New("path is not absolute; BIRD would resolve it against its own working directory")}
	}
	return op, nil
}

// configError turns the ReplyError of an 8002 reply into a *ConfigError,
// keeping the OpError around it.
func configError(err error) error {
	var oe *OpError
	var re *ReplyError
	if errors.As(err, &oe) && errors.As(err, &re) && re.Code == codeConfigurationError {
		return &OpError{Op: oe.Op, Err: parseConfigError(re)}
	}
	return err
}
