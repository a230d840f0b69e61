//go:build linux

package systemd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
	"github.com/sitevpn/sitevpn/internal/testnetns"
)

// The integration tests run a private dbus-daemon and, on it, fakes of
// systemd's and networkd's bus APIs: this host has no systemd as PID 1, and
// what they prove is the wire (bus names, object paths, interfaces, method
// names, arguments, the JobRemoved signal), which a Go fake of go-systemd
// could not. The real systemd and networkd answer the same calls in the VM
// lab.

// TestIntegrationDBusManager drives a Manager against the fakes.
func TestIntegrationDBusManager(t *testing.T) {
	addr, _ := startBus(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sd := newFakeSystemd(ctx, t, addr)

	m, err := Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	t.Run("DaemonReload", func(t *testing.T) {
		sd.reset()
		if err := m.DaemonReload(ctx); err != nil {
			t.Fatal(err)
		}
		sd.want(t, "Reload")
	})

	t.Run("RestartUnit", func(t *testing.T) {
		sd.reset()
		if err := m.RestartUnit(ctx, "sitevpn-bird@private.service"); err != nil {
			t.Fatal(err)
		}
		// JobRemoved is in the log, so RestartUnit returned after the
		// fake announced the end of the job, not when it queued it.
		sd.want(t, "RestartUnit sitevpn-bird@private.service replace", "JobRemoved sitevpn-bird@private.service done")
	})

	t.Run("StartUnit", func(t *testing.T) {
		sd.reset()
		if err := m.StartUnit(ctx, "sitevpn-netns@private.service"); err != nil {
			t.Fatal(err)
		}
		sd.want(t, "StartUnit sitevpn-netns@private.service replace", "JobRemoved sitevpn-netns@private.service done")
	})

	t.Run("StopUnit", func(t *testing.T) {
		sd.reset()
		if err := m.StopUnit(ctx, "sitevpn-old.service"); err != nil {
			t.Fatal(err)
		}
		sd.want(t, "StopUnit sitevpn-old.service replace", "JobRemoved sitevpn-old.service done")
	})

	t.Run("StopUnitNotLoaded", func(t *testing.T) {
		sd.reset()
		if err := m.StopUnit(ctx, "missing.service"); err != nil {
			t.Fatalf("stopping a unit systemd does not know: %v", err)
		}
		sd.want(t, "StopUnit missing.service replace")
	})

	t.Run("RestartUnitNotFound", func(t *testing.T) {
		sd.reset()
		err := m.RestartUnit(ctx, "missing.service")
		var oe *OpError
		if !errors.As(err, &oe) || oe.Op != "restart" || oe.Unit != "missing.service" || busErrorName(err) != errNoSuchUnit {
			t.Fatalf("%v", err)
		}
		if want := "systemd: restart missing.service: Unit missing.service not found."; err.Error() != want {
			t.Errorf("got  %q\nwant %q", err, want)
		}
	})

	t.Run("JobFailed", func(t *testing.T) {
		sd.reset()
		err := m.RestartUnit(ctx, "fail.service")
		var je *JobError
		if !errors.As(err, &je) || je.Unit != "fail.service" || je.Result != "failed" {
			t.Fatalf("%v", err)
		}
		want := `systemd: restart fail.service: job result "failed", not "done" (see journalctl -u fail.service)`
		if err.Error() != want {
			t.Errorf("got  %q\nwant %q", err, want)
		}
		sd.want(t, "RestartUnit fail.service replace", "JobRemoved fail.service failed")
	})

	t.Run("JobTimeout", func(t *testing.T) {
		sd.reset()
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		err := m.RestartUnit(short, "hang.service")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%v", err)
		}
		// The job ends after the caller gave up; its result must not
		// block the connection for the jobs that follow.
		sd.finish("hang.service", "done")
		next, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := m.RestartUnit(next, "next.service"); err != nil {
			t.Fatalf("next job: %v", err)
		}
		sd.want(t, "RestartUnit hang.service replace", "JobRemoved hang.service done",
			"RestartUnit next.service replace", "JobRemoved next.service done")
	})

	t.Run("ActiveState", func(t *testing.T) {
		for unit, want := range map[string]string{
			"sitevpn-bird@private.service": "active",
			"fail.service":                 "failed",
			"missing.service":              "inactive",
		} {
			got, err := m.ActiveState(ctx, unit)
			if err != nil || got != want {
				t.Errorf("%s: %q, %v; want %q", unit, got, err, want)
			}
		}
	})

	t.Run("ReloadNetworkd", func(t *testing.T) {
		// No networkd on the bus yet: the call must fail, and say so.
		err := m.ReloadNetworkd(ctx)
		if err == nil || !strings.HasPrefix(err.Error(), "systemd: reload systemd-networkd: ") ||
			busErrorName(err) != "org.freedesktop.DBus.Error.ServiceUnknown" {
			t.Fatalf("without networkd: %v", err)
		}
		nd := newFakeNetworkd(ctx, t, addr)
		if err := m.ReloadNetworkd(ctx); err != nil {
			t.Fatal(err)
		}
		nd.want(t, "Reload")
	})

	t.Run("CloseDuringJob", func(t *testing.T) {
		m2, err := Dial(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- m2.RestartUnit(ctx, "hang2.service") }()
		sd.waitFor(t, "RestartUnit hang2.service replace")
		m2.Close()
		select {
		case err := <-done:
			if !errors.Is(err, ErrClosed) {
				t.Errorf("wait cut by Close: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("RestartUnit still waiting after Close")
		}
		if err := m2.DaemonReload(ctx); !errors.Is(err, ErrClosed) {
			t.Errorf("call after Close: %v", err)
		}
	})
}

// TestIntegrationDBusBusGone checks that a wait for a job ends when the bus
// daemon goes away, since its JobRemoved signal can then never arrive.
func TestIntegrationDBusBusGone(t *testing.T) {
	addr, stopBus := startBus(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sd := newFakeSystemd(ctx, t, addr)
	m, err := Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	done := make(chan error, 1)
	go func() { done <- m.RestartUnit(ctx, "hang.service") }()
	sd.waitFor(t, "RestartUnit hang.service replace")
	stopBus()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RestartUnit still waiting with the bus gone")
	}
}

const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
`

// startBus runs a private dbus-daemon listening in t.TempDir() and returns
// its address and a function that stops it, which also runs when the test
// ends.
func startBus(t *testing.T) (addr string, stop func()) {
	t.Helper()
	testnetns.Privileged(t, "starts a private dbus-daemon")
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("no dbus-daemon (Debian: apt-get install dbus):", err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, busConfig, filepath.Join(dir, "bus")), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config-file="+conf, "--nofork", "--nopidfile", "--print-address")
	// Shown only when the test fails: as non-root-in-a-container it
	// always complains that it cannot raise its fd limit.
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cmd.Process.Kill()
			cmd.Wait()
			if t.Failed() && stderr.Len() > 0 {
				t.Logf("dbus-daemon: %s", stderr.Bytes())
			}
		})
	}
	t.Cleanup(stop)

	// The daemon prints its address once it listens.
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case addr = <-line:
		if addr == "" {
			t.Fatal("dbus-daemon exited without printing its address")
		}
		return addr, stop
	case <-time.After(10 * time.Second):
		t.Fatal("dbus-daemon printed no address in 10 s")
	}
	return "", stop
}

// callLog is the calls a fake received, in order.
type callLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *callLog) record(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, s)
}

func (l *callLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = nil
}

func (l *callLog) want(t *testing.T, want ...string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !slices.Equal(l.calls, want) {
		t.Errorf("calls:\n  %s\nwant:\n  %s", strings.Join(l.calls, "\n  "), strings.Join(want, "\n  "))
	}
}

func (l *callLog) waitFor(t *testing.T, call string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		l.mu.Lock()
		found := slices.Contains(l.calls, call)
		l.mu.Unlock()
		if found {
			return
		}
	}
	t.Fatalf("no call %q", call)
}

// connectAs connects to the bus and takes the well-known name.
func connectAs(ctx context.Context, t *testing.T, addr, name string) *dbus.Conn {
	t.Helper()
	conn, err := dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	reply, err := conn.RequestName(name, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("RequestName %s: %v, %v", name, reply, err)
	}
	return conn
}

// fakeSystemd answers as org.freedesktop.systemd1 does for the calls
// Manager makes. Unit names choose the outcome: "missing*" has no unit
// file, "fail*" fails its job, "hang*" finishes only when the test says so
// (finish); any other unit's job is done.
type fakeSystemd struct {
	callLog
	conn *dbus.Conn

	mu     sync.Mutex
	lastID uint32
	hung   map[string]dbus.ObjectPath // unit -> job
	ids    map[dbus.ObjectPath]uint32
}

const sdManager = "org.freedesktop.systemd1.Manager"

func newFakeSystemd(ctx context.Context, t *testing.T, addr string) *fakeSystemd {
	f := &fakeSystemd{hung: map[string]dbus.ObjectPath{}, ids: map[dbus.ObjectPath]uint32{}}
	f.conn = connectAs(ctx, t, addr, "org.freedesktop.systemd1")
	if err := f.conn.Export(sdMethods{f}, "/org/freedesktop/systemd1", sdManager); err != nil {
		t.Fatal(err)
	}
	// Every unit object, as systemd loads them on demand.
	if err := f.conn.ExportSubtree(unitProps{}, "/org/freedesktop/systemd1/unit", "org.freedesktop.DBus.Properties"); err != nil {
		t.Fatal(err)
	}
	return f
}

// sdMethods is what the fake exports: godbus exports every exported method
// of the value, so the fake's helpers live on fakeSystemd instead.
type sdMethods struct{ f *fakeSystemd }

func (s sdMethods) Reload() *dbus.Error {
	s.f.record("Reload")
	return nil
}

func (s sdMethods) StartUnit(name, mode string) (dbus.ObjectPath, *dbus.Error) {
	return s.f.job("StartUnit", name, mode)
}

func (s sdMethods) RestartUnit(name, mode string) (dbus.ObjectPath, *dbus.Error) {
	return s.f.job("RestartUnit", name, mode)
}

func (s sdMethods) StopUnit(name, mode string) (dbus.ObjectPath, *dbus.Error) {
	return s.f.job("StopUnit", name, mode)
}

func (f *fakeSystemd) job(method, name, mode string) (dbus.ObjectPath, *dbus.Error) {
	f.record(method + " " + name + " " + mode)
	if strings.HasPrefix(name, "missing") {
		// What systemd answers (src/core/dbus-unit.c, dbus-manager.c).
		msg := "Unit " + name + " not found."
		if method == "StopUnit" {
			msg = "Unit " + name + " not loaded."
		}
		return "", dbus.NewError(errNoSuchUnit, []any{msg})
	}
	f.mu.Lock()
	f.lastID++
	id := f.lastID
	job := dbus.ObjectPath(fmt.Sprintf("/org/freedesktop/systemd1/job/%d", id))
	f.ids[job] = id
	f.mu.Unlock()

	switch {
	case strings.HasPrefix(name, "hang"):
		f.mu.Lock()
		f.hung[name] = job
		f.mu.Unlock()
	case strings.HasPrefix(name, "fail"):
		go f.remove(id, job, name, "failed")
	default:
		go f.remove(id, job, name, "done")
	}
	// systemd replies first and signals the job's end later; the
	// goroutines above (and their delay) keep that order.
	return job, nil
}

// remove announces the end of a job, as systemd does once it ran.
func (f *fakeSystemd) remove(id uint32, job dbus.ObjectPath, unit, result string) {
	time.Sleep(50 * time.Millisecond)
	f.record("JobRemoved " + unit + " " + result)
	f.conn.Emit("/org/freedesktop/systemd1", sdManager+".JobRemoved", id, job, unit, result)
}

// finish ends the hung job of unit with result.
func (f *fakeSystemd) finish(unit, result string) {
	f.mu.Lock()
	job := f.hung[unit]
	id := f.ids[job]
	delete(f.hung, unit)
	f.mu.Unlock()
	f.remove(id, job, unit, result)
}

// unitProps answers org.freedesktop.DBus.Properties.Get on unit objects.
type unitProps struct{}

func (unitProps) Get(msg dbus.Message, iface, prop string) (dbus.Variant, *dbus.Error) {
	path, _ := msg.Headers[dbus.FieldPath].Value().(dbus.ObjectPath)
	if iface != "org.freedesktop.systemd1.Unit" || prop != "ActiveState" {
		return dbus.Variant{}, dbus.NewError("org.freedesktop.DBus.Error.UnknownProperty", []any{iface + "." + prop})
	}
	state := "inactive" // systemd's answer for a unit it has no file for
	switch path {
	case unitObject("sitevpn-bird@private.service"):
		state = "active"
	case unitObject("fail.service"):
		state = "failed"
	}
	return dbus.MakeVariant(state), nil
}

func unitObject(name string) dbus.ObjectPath {
	return dbus.ObjectPath("/org/freedesktop/systemd1/unit/" + sddbus.PathBusEscape(name))
}

// fakeNetworkd answers org.freedesktop.network1.Manager.Reload.
type fakeNetworkd struct{ callLog }

func newFakeNetworkd(ctx context.Context, t *testing.T, addr string) *fakeNetworkd {
	f := &fakeNetworkd{}
	conn := connectAs(ctx, t, addr, "org.freedesktop.network1")
	if err := conn.Export(ndMethods{f}, "/org/freedesktop/network1", "org.freedesktop.network1.Manager"); err != nil {
		t.Fatal(err)
	}
	return f
}

type ndMethods struct{ f *fakeNetworkd }

func (n ndMethods) Reload() *dbus.Error {
	n.f.record("Reload")
	return nil
}
