package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/identity"
	"github.com/sitevpn/sitevpn/internal/kernel"
	"github.com/sitevpn/sitevpn/internal/pipeline"
	"github.com/sitevpn/sitevpn/render"
)

// sitevpn drain: BIRD's configuration on the (fake) gateway announces
// with GRACEFUL_SHUTDOWN and offers the LAN the least preferred routes,
// the state and status say so, a restart keeps it drained, and undrain
// puts the configuration back; none of it is a change of the fleet to
// judge (the generation stays confirmed).
func TestDrainPersistsAcrossRestarts(t *testing.T) {
	r := newConfirmRig(t)
	r.start(func(d *Daemon) { d.DrainFile = filepath.Join(r.root, DrainPath) })
	r.confirmed(1)
	ctx := context.Background()
	conf := filepath.Join(r.root, render.BirdDir, "sitevpn-private.conf")
	drainedConf := func() bool {
		b, _ := os.ReadFile(conf)
		return strings.Contains(string(b), "source != RTS_BGP && graceful_shutdown_announced();") &&
			strings.Contains(string(b), "export where source = RTS_BGP && lan_least_preferred();")
	}
	if drainedConf() {
		t.Fatal("drained before sitevpn drain")
	}
	msg, err := Ask(ctx, r.socket, Request{Op: "drain"})
	if err != nil || !strings.HasPrefix(msg, "drained: routes announced with GRACEFUL_SHUTDOWN") || !drainedConf() {
		t.Fatalf("drain: %q %v; BIRD's configuration drained: %v", msg, err, drainedConf())
	}
	if msg, err := Ask(ctx, r.socket, Request{Op: "drain"}); err != nil || !strings.HasPrefix(msg, "already drained since") {
		t.Errorf("drain again: %q %v", msg, err)
	}
	s := r.config("the drain in the state", func(_ check.Configuration, s State) bool { return !s.DrainedSince.IsZero() })
	var text strings.Builder
	s.Report().WriteText(&text)
	if !strings.Contains(text.String(), "drained since") || s.Configuration.Generation != 1 || s.Configuration.State != check.Confirmed {
		t.Errorf("status while drained: %+v\n%s", s.Configuration, text.String())
	}

	r.restart() // (and a reboot: the record is on disk)
	r.config("still drained after a restart", func(_ check.Configuration, s State) bool { return !s.DrainedSince.IsZero() })
	if !drainedConf() {
		t.Error("a restart undid the drain in BIRD's configuration")
	}
	msg, err = Ask(ctx, r.socket, Request{Op: "undrain"})
	if err != nil || !strings.HasPrefix(msg, "back in service") || drainedConf() {
		t.Fatalf("undrain: %q %v; BIRD's configuration drained: %v", msg, err, drainedConf())
	}
	if _, err := os.Stat(filepath.Join(r.root, DrainPath)); !os.IsNotExist(err) {
		t.Errorf("the drain record is still there after undrain: %v", err)
	}
}

// sitevpn rotate-key drains, writes a new key and keeps the old one. The
// fleet naming the new key is applied with it; if the tunnels never come
// back (the peers never got the new public key), the rollback runs the
// confirmed configuration with the old key again; pushed again and healthy,
// the rotation completes: confirmed, the old key removed.
func TestRotateKey(t *testing.T) {
	r := newConfirmRig(t)
	r.start(func(d *Daemon) { d.DrainFile = filepath.Join(r.root, DrainPath) })
	r.confirmed(1)
	ctx := context.Background()
	old := r.keys["v1-1"]
	msg, err := RotateKey(ctx, r.socket, OldKeyPath(r.root), pipeline.Options{ConfigDir: r.dir})
	if err != nil || !strings.HasPrefix(msg, "drained:") || !strings.Contains(msg, `gateway "v1-1"'s public_key`) {
		t.Fatalf("rotate-key: %v\n%s", err, msg)
	}
	fresh, err := identity.ReadPrivateKey(filepath.Join(r.dir, identity.KeyFile))
	if err != nil || fresh == old {
		t.Fatalf("the new key: %v", err)
	}
	withNew := strings.Replace(string(r.src), old.PublicKey().String(), fresh.PublicKey().String(), 1)
	// The peers never get it: every tunnel on the new key stays down.
	r.mu.Lock()
	r.breaks = func(_ string, k *kernel.Tunnel) bool { return k.PublicKey == fresh.PublicKey() }
	r.mu.Unlock()
	r.push(withNew)
	r.config("the new key on probation", func(c check.Configuration, _ State) bool { return c.State == check.Probation })
	r.clock.advance(10 * time.Minute)
	r.config("the rollback", func(c check.Configuration, _ State) bool { return c.State == check.RolledBack })
	eventually(t, "the tunnels on the old key again", func() bool { return r.tunnelKey("wg3") == old.PublicKey() })

	// Now the peers have it.
	r.mu.Lock()
	r.breaks = nil
	r.mu.Unlock()
	r.push(withNew + "\n# pushed again\n")
	r.config("the new key on probation again", func(c check.Configuration, _ State) bool { return c.State == check.Probation })
	r.clock.advance(30 * time.Second)
	r.config("the new key confirmed", func(c check.Configuration, _ State) bool { return c.State == check.Confirmed && c.Generation == 3 })
	if k := r.tunnelKey("wg3"); k != fresh.PublicKey() {
		t.Errorf("wg3 runs %s, want the new key", k)
	}
	eventually(t, "private.key.old removed", func() bool {
		_, err := os.Stat(OldKeyPath(r.root))
		return os.IsNotExist(err)
	})
}

// rotate-key changes nothing when it cannot do the whole job: --gateway
// naming another gateway than the one this host's key identifies (the new
// key would take over that gateway's identity), or no daemon to drain and
// to keep the old key.
func TestRotateKeyRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, gateway string
		daemon        bool
		want          string
	}{
		{"another gateway named", "v2-1", true, `--gateway "v2-1": this host's key is gateway "v1-1"'s`},
		{"a gateway not in the fleet", "nowhere", true, `--gateway "nowhere"`},
		{"no daemon", "", false, "the daemon is not running, so nothing was changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newConfirmRig(t)
			if tc.daemon {
				r.start(func(d *Daemon) { d.DrainFile = filepath.Join(r.root, DrainPath) })
				r.confirmed(1)
			}
			before, err := os.ReadFile(filepath.Join(r.dir, identity.KeyFile))
			if err != nil {
				t.Fatal(err)
			}
			msg, err := RotateKey(context.Background(), r.socket, OldKeyPath(r.root), pipeline.Options{ConfigDir: r.dir, Gateway: tc.gateway})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("rotate-key: %q, %v; want an error with %q", msg, err, tc.want)
			}
			if after, _ := os.ReadFile(filepath.Join(r.dir, identity.KeyFile)); string(after) != string(before) {
				t.Error("the key was replaced")
			}
			if _, err := os.Stat(OldKeyPath(r.root)); !os.IsNotExist(err) {
				t.Errorf("an old key was kept: %v", err)
			}
			if _, err := os.Stat(filepath.Join(r.root, DrainPath)); !os.IsNotExist(err) {
				t.Errorf("the gateway was drained: %v", err)
			}
		})
	}
}
