package systemd

import (
	"fmt"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Notifier tells systemd how the daemon is doing (sd_notify(3)), for a unit
// with Type=notify (or notify-reload) and WatchdogSec=. Its zero value is
// ready to use.
//
// Every method reports like go-systemd's daemon.SdNotify: (false, nil) when
// $NOTIFY_SOCKET is unset (not started by systemd, or not as Type=notify),
// so callers need no special case outside systemd; (true, nil) when the
// message was sent; (false, err) when it could not be. The environment is
// left as it is, so the notifier keeps working for the life of the process;
// sitevpn starts no children that could misuse it.
type Notifier struct{}

// Ready tells systemd that start-up is finished (READY=1): a Type=notify
// unit counts as started only now, and units ordered after it wait for it.
func (Notifier) Ready() (bool, error) { return notify(daemon.SdNotifyReady) }

// Status sets the one-line status "systemctl status" shows (STATUS=...).
// Newlines would end the assignment and start another one in the
// protocol's newline-separated format, so they are replaced by spaces.
func (Notifier) Status(s string) (bool, error) {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	return notify("STATUS=" + s)
}

// Watchdog is the watchdog heartbeat (WATCHDOG=1). With WatchdogSec= set,
// systemd kills the daemon when no heartbeat came for WatchdogInterval, so
// send it every WatchdogInterval/2, and only from a loop that would stop
// if the daemon were stuck.
func (Notifier) Watchdog() (bool, error) { return notify(daemon.SdNotifyWatchdog) }

// WatchdogInterval is the unit's WatchdogSec= as systemd passed it
// ($WATCHDOG_USEC, for this process only: $WATCHDOG_PID). It is 0 with a
// nil error when there is no watchdog for this process.
func (Notifier) WatchdogInterval() (time.Duration, error) {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return 0, fmt.Errorf("systemd: watchdog interval: %w", err)
	}
	return d, nil
}

// Stopping tells systemd the daemon is shutting down (STOPPING=1).
func (Notifier) Stopping() (bool, error) { return notify(daemon.SdNotifyStopping) }

// notify sends state and wraps the error with what was being sent.
func notify(state string) (bool, error) {
	sent, err := daemon.SdNotify(false, state)
	if err != nil {
		// Only the first assignment: a STATUS= line can be long.
		first, _, _ := strings.Cut(state, "\n")
		if k, _, ok := strings.Cut(first, "="); ok && k == "STATUS" {
			first = "STATUS=..."
		}
		return sent, fmt.Errorf("systemd: notify %s: %w", first, err)
	}
	return sent, nil
}
