package daemon

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/apply"
	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/fakesys"
	"github.com/sitevpn/sitevpn/internal/gateway"
	"github.com/sitevpn/sitevpn/internal/kernel"
	"github.com/sitevpn/sitevpn/internal/pipeline"
	"github.com/sitevpn/sitevpn/internal/testfleet"
)

// fakeClock is the probations' time, moved by the test.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// confirmRig is v1-1 of the example fleet run by the daemon through the
// real engine on the fake system, with confirmation on. Its health is
// derived from what the engine left in the fake kernel: a tunnel is up
// when its peer is the key the real peer holds (a wrong key never
// handshakes), unless the test says its path is dead (down).
type confirmRig struct {
	t               *testing.T
	dir, root, conf string
	socket          string // the control socket: short, unlike t.TempDir's paths
	src             []byte
	keys            map[string]wgtypes.Key // the lab's private keys, by gateway
	sys             *fakesys.System
	clock           *fakeClock
	rec             *recorder

	mu   sync.Mutex
	down map[string]bool // interface -> path dead
	// breaks, when set, says which tunnels the kernel's state breaks (a
	// change that black-holes a path).
	breaks func(iface string, k *kernel.Tunnel) bool
	peers  map[string]wgtypes.Key // interface -> peer key in the kernel, at the last check
	own    map[string]wgtypes.Key // interface -> the device's own public key, at the last check
	stop   func()
	tune   []func(*Daemon)
}

func newConfirmRig(t *testing.T) *confirmRig {
	src, err := testfleet.ExampleSource()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := testfleet.LabKeys()
	if err != nil {
		t.Fatal(err)
	}
	r := &confirmRig{t: t, dir: t.TempDir(), root: t.TempDir(), src: src, keys: keys,
		clock: &fakeClock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}, down: map[string]bool{}}
	r.conf = filepath.Join(r.root, ConfirmDir)
	short, err := os.MkdirTemp("", "sv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(short) })
	r.socket = filepath.Join(short, "control.sock")
	replace(t, filepath.Join(r.dir, "fleet.hcl"), src)
	writeKey(t, r.dir, keys["v1-1"])
	r.sys = fakesys.New(r.root, wgtypes.Key{}, "eth1", "eth2")
	return r
}

func (r *confirmRig) health(_ context.Context, res *pipeline.Result) check.Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := check.Report{Gateway: res.Me.Name, Tunnels: []check.Tunnel{}, Healthy: true}
	r.peers, r.own = map[string]wgtypes.Key{}, map[string]wgtypes.Key{}
	for _, tu := range res.Plan.Tunnels {
		t := check.Tunnel{Interface: tu.Interface, Peer: tu.Peer.Gateway, Site: tu.Peer.Site}
		k := r.sys.Tunnels[tu.Interface]
		if k != nil {
			r.own[tu.Interface] = k.PublicKey
		}
		switch {
		case k == nil || len(k.Peers) == 0:
			t.Problem = "no WireGuard device"
		case k.Peers[0].PublicKey != r.keys[tu.Peer.Gateway].PublicKey():
			r.peers[tu.Interface] = k.Peers[0].PublicKey
			t.Problem = "no handshake yet"
		case r.down[tu.Interface] || (r.breaks != nil && r.breaks(tu.Interface, k)):
			r.peers[tu.Interface] = k.Peers[0].PublicKey
			t.Problem = "BGP Active"
		default:
			r.peers[tu.Interface] = k.Peers[0].PublicKey
			t.Up = true
		}
		rep.Healthy = rep.Healthy && t.Up
		rep.Tunnels = append(rep.Tunnels, t)
	}
	return rep
}

// start runs a daemon (a new one after stop: a restart). Changes of the
// files are applied at once; health is read every few milliseconds, the
// probations' clock only moves when the test says.
func (r *confirmRig) start(tune ...func(*Daemon)) {
	r.tune = tune
	gw := gateway.New(r.root, gateway.Parts{
		Units: func(context.Context) (apply.Units, error) { return r.sys, nil },
		Bird:  r.sys,
		Sessions: func(context.Context, string, bool) (map[string]check.Session, error) {
			return map[string]check.Session{}, nil
		},
		NewKernel: func(ns string, k wgtypes.Key, netns bool) (gateway.Kernel, error) {
			return r.sys.NewKernel(ns, k, netns)
		},
	}, nil)
	r.rec = &recorder{}
	d := &Daemon{Options: pipeline.Options{ConfigDir: r.dir}, Apply: gw.Apply, Check: r.health,
		Notify: r.rec, State: r.rec.state, Clock: r.clock.Now, Log: slog.New(slog.NewTextHandler(testWriter{r.t}, nil)),
		ConfirmDir: r.conf, Control: r.socket,
		Debounce: 10 * time.Millisecond, Reconcile: time.Hour, Health: 5 * time.Millisecond}
	for _, f := range tune {
		f(d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	r.stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			r.t.Error(err)
		}
		gw.Close()
	})
	r.t.Cleanup(r.stop)
}

// restart stops the daemon and starts a new one, tuned the same.
func (r *confirmRig) restart() {
	r.stop()
	r.start(r.tune...)
}

// config waits until the published configuration satisfies cond.
func (r *confirmRig) config(what string, cond func(c check.Configuration, s State) bool) State {
	r.t.Helper()
	var s State
	eventually(r.t, what, func() bool {
		_, s, _ = r.rec.last()
		return s.Configuration != nil && cond(*s.Configuration, s)
	})
	return s
}

func (r *confirmRig) confirmed(gen int) State {
	r.t.Helper()
	return r.config("generation "+strconv.Itoa(gen)+" confirmed", func(c check.Configuration, _ State) bool {
		return c.State == check.Confirmed && c.Generation == gen
	})
}

func (r *confirmRig) push(content string) {
	replace(r.t, filepath.Join(r.dir, "fleet.hcl"), []byte(content))
}

// peerKey is the key the fake kernel held for iface's peer at the last
// health reading.
func (r *confirmRig) peerKey(iface string) wgtypes.Key {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peers[iface]
}

// tunnelKey is the public key of iface's device at the last health
// reading.
func (r *confirmRig) tunnelKey(iface string) wgtypes.Key {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.own[iface]
}

// breakWhenMTU: iface's path black-holes packets of that MTU.
func (r *confirmRig) breakWhenMTU(iface string, mtu int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.breaks = func(name string, k *kernel.Tunnel) bool { return name == iface && k.MTU == mtu }
}

func (r *confirmRig) setDown(iface string, down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down[iface] = down
}

// A change pushed everywhere that breaks a tunnel that worked (a peer's
// public key corrupted in the fleet file) is rolled back when its window
// ends, through the engine: the kernel's peer gets its real key back. The
// rollback shows in the state, the status and systemd's STATUS line, and
// the rejected files are not applied again, neither by SIGHUP's path nor
// by a restart, until they change.
func TestBreakingChangeRolledBack(t *testing.T) {
	r := newConfirmRig(t)
	r.start()
	r.confirmed(1)
	real := r.keys["v2-1"].PublicKey()
	eventually(t, "wg3's peer to hold v2-1's key", func() bool { return r.peerKey("wg3") == real })

	wrong, _ := wgtypes.GeneratePrivateKey()
	r.push(strings.Replace(string(r.src), real.String(), wrong.PublicKey().String(), 1))
	r.config("the change on probation, waiting for wg3", func(c check.Configuration, _ State) bool {
		return c.State == check.Probation && c.Generation == 2 && slices.Equal(c.Waiting, []string{"wg3 (v2-1) no handshake yet"})
	})
	if r.peerKey("wg3") != wrong.PublicKey() {
		t.Fatalf("the breaking change was not applied: wg3's peer is %s", r.peerKey("wg3"))
	}
	r.clock.advance(599 * time.Second)
	time.Sleep(50 * time.Millisecond) // checks run meanwhile: still before the deadline
	if _, s, _ := r.rec.last(); s.Configuration.State != check.Probation {
		t.Fatalf("rolled back before the window ended: %+v", s.Configuration)
	}
	r.clock.advance(2 * time.Second)
	s := r.config("the rollback", func(c check.Configuration, _ State) bool { return c.State == check.RolledBack })
	if c := s.Configuration; c.Generation != 1 || c.Rejected != 2 || c.Reason != "wg3 (v2-1) no handshake yet" || s.Rollbacks != 1 {
		t.Errorf("after the rollback: %+v, rollbacks %d", c, s.Rollbacks)
	}
	eventually(t, "wg3's peer to hold v2-1's real key again", func() bool { return r.peerKey("wg3") == real })
	rep := s.Report()
	if rep.Healthy || !strings.Contains(strings.Join(rep.Problems, "\n"), "rolled back from generation 2: wg3 (v2-1) no handshake yet") {
		t.Errorf("status after the rollback: healthy=%v problems=%q", rep.Healthy, rep.Problems)
	}
	if _, _, n := r.rec.last(); !strings.Contains(strings.Join(n, "\n"), "STATUS=4/4 tunnels up; rolled back generation 2: wg3 (v2-1) no handshake yet") {
		t.Errorf("systemd STATUS does not say the rollback: %q", n[len(n)-3:])
	}

	// The same files again, after a restart: the confirmed configuration
	// stays in force.
	r.restart()
	r.config("the rollback still reported after a restart", func(c check.Configuration, _ State) bool {
		return c.State == check.RolledBack && c.Rejected == 2
	})
	time.Sleep(50 * time.Millisecond)
	if r.peerKey("wg3") != real {
		t.Fatalf("the rejected files were applied again after a restart: wg3's peer %s", r.peerKey("wg3"))
	}

	// Fixed files: a new generation, applied.
	r.push(string(r.src) + "\n# fixed\n")
	r.confirmed(3)
}

// Which changes are kept: those whose only broken tunnels were not up
// before, are removed, or are new and wait for a peer that has not
// applied yet. A change that takes a tunnel that was up down is not kept
// before its deadline, even when the tunnel comes back meanwhile only
// after the settle time.
func TestProbationDecisions(t *testing.T) {
	sydney, err := os.ReadFile(filepath.Join(testfleet.ExampleDir(), "lab-keys", "sydney.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	withoutTokyo := func(src string) string {
		i := strings.Index(src, "site \"tokyo\"")
		return src[:i]
	}
	for _, c := range []struct {
		name   string
		change func(r *confirmRig)
	}{
		{"a site removed", func(r *confirmRig) { r.push(withoutTokyo(string(r.src))) }},
		{"a site added whose gateways have not applied yet", func(r *confirmRig) {
			r.setDown("wg7", true)
			r.setDown("wg8", true)
			replace(r.t, filepath.Join(r.dir, "sydney.hcl"), sydney)
		}},
		{"a tunnel that was never up stays down", func(r *confirmRig) {
			r.push(strings.Replace(string(r.src), "mtu       = 1420", "mtu       = 1400", 1))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newConfirmRig(t)
			r.setDown("wg6", true) // never up
			r.start()
			r.confirmed(1)
			c.change(r)
			r.config("the change on probation", func(c check.Configuration, _ State) bool { return c.State == check.Probation })
			r.clock.advance(30 * time.Second)
			r.confirmed(2)
		})
	}

	t.Run("a tunnel that was up goes down", func(t *testing.T) {
		r := newConfirmRig(t)
		r.start()
		r.confirmed(1)
		r.breakWhenMTU("wg4", 1400)
		r.push(strings.Replace(string(r.src), "mtu       = 1420", "mtu       = 1400", 1))
		r.config("the change on probation, waiting for wg4", func(c check.Configuration, _ State) bool {
			return c.State == check.Probation && slices.Equal(c.Waiting, []string{"wg4 (v2-2) BGP Active"})
		})
		r.clock.advance(10 * time.Minute)
		s := r.config("the rollback", func(c check.Configuration, _ State) bool { return c.State == check.RolledBack })
		if s.Configuration.Reason != "wg4 (v2-2) BGP Active" {
			t.Errorf("reason %q", s.Configuration.Reason)
		}
	})

	t.Run("all up at once is kept only after the settle time", func(t *testing.T) {
		r := newConfirmRig(t)
		r.start()
		r.confirmed(1)
		r.push(strings.Replace(string(r.src), "mtu       = 1420", "mtu       = 1400", 1))
		r.config("the change on probation", func(c check.Configuration, _ State) bool { return c.State == check.Probation })
		r.clock.advance(29 * time.Second)
		time.Sleep(50 * time.Millisecond)
		if _, s, _ := r.rec.last(); s.Configuration.State != check.Probation {
			t.Fatalf("confirmed before the settle time: %+v", s.Configuration)
		}
		r.clock.advance(time.Second)
		r.confirmed(2)
	})
}

// A probation cut short by a restart goes on: the next daemon judges the
// same change against the tunnels held before it, until the same
// deadline.
func TestProbationSurvivesRestart(t *testing.T) {
	r := newConfirmRig(t)
	r.start()
	r.confirmed(1)
	r.breakWhenMTU("wg5", 1400)
	r.push(strings.Replace(string(r.src), "mtu       = 1420", "mtu       = 1400", 1))
	r.config("the change on probation", func(c check.Configuration, _ State) bool { return c.State == check.Probation })
	r.restart()
	r.config("the same probation after the restart", func(c check.Configuration, _ State) bool {
		return c.State == check.Probation && c.Generation == 2 && slices.Equal(c.Waiting, []string{"wg5 (v3-1) BGP Active"})
	})
	r.clock.advance(10 * time.Minute)
	r.config("the rollback", func(c check.Configuration, _ State) bool { return c.State == check.RolledBack && c.Rejected == 2 })
}

// After a reboot with invalid files, the confirmed configuration is put
// in force (the system lost its links), not nothing.
func TestInvalidFilesAtStartRunTheConfirmed(t *testing.T) {
	r := newConfirmRig(t)
	r.start()
	r.confirmed(1)
	r.stop()
	r.push(string(r.src) + "\nsite \"x\" {\n  asn = \"no\"\n}\n")
	clear(r.sys.Tunnels) // a reboot: the links are gone
	r.start()
	eventually(t, "the confirmed configuration's tunnels, the invalid files reported", func() bool {
		_, s, _ := r.rec.last()
		return r.peerKey("wg3") == r.keys["v2-1"].PublicKey() && s.ConfigError != "" && !s.Report().Healthy
	})
}

// sitevpn apply --confirm: unless `sitevpn confirm` answers in time, the
// change is rolled back; confirm keeps it, rollback undoes it at once;
// each says so, and refuses what makes no sense.
func TestCommitConfirmed(t *testing.T) {
	r := newConfirmRig(t)
	// The test applies through the socket, not on the files' changes.
	r.start(func(d *Daemon) { d.Debounce, d.MaxDebounce = time.Hour, time.Hour })
	r.confirmed(1)
	ctx := context.Background()
	ask := func(req Request) (string, error) {
		req.ConfigDir = r.dir
		return Ask(ctx, r.socket, req)
	}
	if _, err := ask(Request{Op: "confirm"}); err == nil || !strings.Contains(err.Error(), "nothing to confirm: generation 1 is confirmed") {
		t.Errorf("confirm with nothing pending: %v", err)
	}
	if _, err := ask(Request{Op: "rollback"}); err == nil || !strings.Contains(err.Error(), "nothing to roll back") {
		t.Errorf("rollback with nothing pending: %v", err)
	}
	// Through the daemon, apply prints what it prints without one.
	if msg, err := ask(Request{Op: "apply"}); err != nil || msg != "no changes" {
		t.Errorf("apply with nothing to change: %q %v", msg, err)
	}
	if _, err := Ask(ctx, r.socket, Request{Op: "apply", ConfigDir: "/elsewhere"}); err == nil || !strings.Contains(err.Error(), "not /elsewhere") {
		t.Errorf("apply of another directory: %v", err)
	}

	// Unconfirmed: rolled back at the deadline, though every tunnel is up.
	r.push(strings.Replace(string(r.src), "mtu       = 1420", "mtu       = 1400", 1))
	msg, err := ask(Request{Op: "apply", Confirm: time.Minute})
	if err != nil || !strings.Contains(msg, "set-mtu") || !strings.Contains(msg, "generation 2, probation") || !strings.Contains(msg, "unless `sitevpn confirm` confirms it") {
		t.Fatalf("apply --confirm: %q %v", msg, err)
	}
	r.clock.advance(time.Hour) // past the fleet's window too: only confirm counts
	s := r.config("the rollback", func(c check.Configuration, _ State) bool { return c.State == check.RolledBack })
	if !strings.HasPrefix(s.Configuration.Reason, "not confirmed with `sitevpn confirm` in time") {
		t.Errorf("reason %q", s.Configuration.Reason)
	}

	// The same files, applied again by hand: a new try, confirmed.
	if msg, err := ask(Request{Op: "apply", Confirm: time.Minute}); err != nil || !strings.Contains(msg, "generation 3, probation") {
		t.Fatalf("apply --confirm of the rejected files: %q %v", msg, err)
	}
	if msg, err := ask(Request{Op: "confirm"}); err != nil || msg != "generation 3 confirmed" {
		t.Fatalf("confirm: %q %v", msg, err)
	}
	r.clock.advance(time.Hour)
	r.confirmed(3)

	// rollback at once.
	r.push(string(r.src))
	if _, err := ask(Request{Op: "apply", Confirm: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if msg, err := ask(Request{Op: "rollback"}); err != nil || !strings.Contains(msg, "generation 4 rolled back; generation 3 is in force") {
		t.Fatalf("rollback: %q %v", msg, err)
	}
	r.stop()
	if _, err := ask(Request{Op: "confirm"}); err != ErrNoDaemon {
		t.Errorf("with no daemon: %v, want ErrNoDaemon", err)
	}
}

// testWriter sends the daemon's log to the test's.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
