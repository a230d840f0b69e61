package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sitevpn/sitevpn/internal/check"
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
