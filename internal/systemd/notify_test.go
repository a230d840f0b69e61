package systemd

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listenNotify stands in for systemd's notify socket, as go-systemd's own
// daemon/sdnotify_test.go does, and points $NOTIFY_SOCKET at it.
func listenNotify(t *testing.T) *net.UnixConn {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	return l
}

func readNotify(t *testing.T, l *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	l.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := l.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestNotifierSends(t *testing.T) {
	l := listenNotify(t)
	var n Notifier
	for _, tt := range []struct {
		send func() (bool, error)
		want string
	}{
		{n.Ready, "READY=1"},
		{func() (bool, error) { return n.Status("3/3 tunnels up") }, "STATUS=3/3 tunnels up"},
		{func() (bool, error) { return n.Status("a\nREADY=1\r\nb") }, "STATUS=a READY=1 b"},
		{n.Watchdog, "WATCHDOG=1"},
		{n.Stopping, "STOPPING=1"},
	} {
		sent, err := tt.send()
		if !sent || err != nil {
			t.Fatalf("%q: sent %v, err %v", tt.want, sent, err)
		}
		if got := readNotify(t, l); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestNotifierWithoutSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "")
	var n Notifier
	for name, f := range map[string]func() (bool, error){
		"Ready": n.Ready, "Watchdog": n.Watchdog, "Stopping": n.Stopping,
		"Status": func() (bool, error) { return n.Status("x") },
	} {
		if sent, err := f(); sent || err != nil {
			t.Errorf("%s: sent %v, err %v; want false, nil", name, sent, err)
		}
	}
	if d, err := n.WatchdogInterval(); d != 0 || err != nil {
		t.Errorf("WatchdogInterval = %v, %v; want 0, nil", d, err)
	}
}

func TestNotifierSocketGone(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "gone.sock"))
	var n Notifier
	sent, err := n.Ready()
	if sent || err == nil || !strings.HasPrefix(err.Error(), "systemd: notify READY=1: ") {
		t.Errorf("Ready: sent %v, err %v", sent, err)
	}
	// A status can be long and is not worth repeating in the error.
	_, err = n.Status("all\ngood")
	if err == nil || !strings.HasPrefix(err.Error(), "systemd: notify STATUS=...: ") {
		t.Errorf("Status: err %v", err)
	}
}

func TestWatchdogInterval(t *testing.T) {
	me := strconv.Itoa(os.Getpid())
	for _, tt := range []struct {
		usec, pid string
		want      time.Duration
		wantErr   bool
	}{
		{"", "", 0, false},
		{"20000000", "", 20 * time.Second, false},
		{"20000000", me, 20 * time.Second, false},
		{"20000000", "1", 0, false}, // meant for another process (our parent, say)
		{"soon", "", 0, true},
		{"-1", "", 0, true},
	} {
		t.Setenv("WATCHDOG_USEC", tt.usec)
		t.Setenv("WATCHDOG_PID", tt.pid)
		d, err := Notifier{}.WatchdogInterval()
		if d != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("WATCHDOG_USEC=%q WATCHDOG_PID=%q: %v, %v", tt.usec, tt.pid, d, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "systemd: watchdog interval: ") {
			t.Errorf("error %q lacks the prefix", err)
		}
	}
}
