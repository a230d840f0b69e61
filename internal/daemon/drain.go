package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sitevpn/sitevpn/internal/gateway"
	"github.com/sitevpn/sitevpn/internal/identity"
	"github.com/sitevpn/sitevpn/internal/pipeline"
	"github.com/sitevpn/sitevpn/render"
)

// DrainPath records, relative to the root, that the gateway is drained
// (sitevpn drain): it survives restarts and reboots until sitevpn
// undrain, so a gateway rebooted for maintenance comes back drained.
const DrainPath = render.StateDir + "/drain.json"

type drainRecord struct {
	Since time.Time `json:"since"`
}

// DrainedSince is when the gateway under root was drained; zero when it
// is not.
func DrainedSince(root string) (time.Time, error) {
	var r drainRecord
	err := readJSON(filepath.Join(root, DrainPath), &r)
	return r.Since, err
}

// setDrained drains the gateway (or, with drained false, puts it back in
// service): recorded, then the configuration in force rendered again and
// applied (no probation: the fleet did not change).
func (d *Daemon) setDrained(ctx context.Context, drained bool) (string, error) {
	if d.DrainFile == "" {
		return "", errors.New("draining needs the daemon's state directory")
	}
	was := d.Options.Drained
	if drained == was {
		if drained {
			return fmt.Sprintf("already drained since %s", d.current.DrainedSince.Local().Format(time.DateTime)), nil
		}
		return "not drained", nil
	}
	if drained {
		since := d.now()
		if err := writeJSON(d.DrainFile, drainRecord{Since: since}); err != nil {
			return "", fmt.Errorf("recording the drain: %w", err)
		}
		d.current.DrainedSince = since
	} else {
		if err := os.Remove(d.DrainFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("recording the undrain: %w", err)
		}
		d.current.DrainedSince = time.Time{}
	}
	d.Options.Drained = drained
	if d.good == nil {
		d.publish()
		return "recorded; no configuration is in force yet", nil
	}
	res, err := pipeline.Drain(d.good, drained)
	if err != nil {
		return "", err
	}
	d.good = res
	why := "undrain"
	if drained {
		why = "drain"
	}
	rep, err := d.apply(ctx, why)
	if err != nil {
		return "", err
	}
	d.Log.Info(why, "actions", len(rep.Actions))
	if drained {
		return "drained: routes announced with GRACEFUL_SHUTDOWN (65535:0), the LAN's least preferred way out; traffic moves to the other gateways", nil
	}
	return "back in service: routes announced as usual", nil
}

// restoreDrain reads the drain state at start.
func (d *Daemon) restoreDrain() {
	if d.DrainFile == "" {
		return
	}
	var r drainRecord
	if err := readJSON(d.DrainFile, &r); err != nil {
		d.Log.Error("reading the drain state", "err", err)
	}
	d.Options.Drained = !r.Since.IsZero()
	d.current.DrainedSince = r.Since
	if d.Options.Drained {
		d.Log.Info("drained since " + r.Since.Local().Format(time.DateTime) + ": sitevpn undrain puts it back in service")
	}
}

// QuietRate is the traffic, in bytes per second both ways, under which a
// tunnel carries no user traffic: BGP keepalives and BFD at 100 ms take
// under 2 KB/s; a 10 ms ping stream alone takes some 16 KB/s.
const QuietRate = 3000

// WaitDrained waits until no tunnel of the gateway under root carries
// more than QuietRate, measured over 2 s windows, or timeout passes.
func WaitDrained(ctx context.Context, root string, o pipeline.Options, timeout time.Duration) (string, error) {
	res, err := pipeline.Run(o)
	if err != nil {
		return "", err
	}
	gw := gateway.Open(root, slog.New(slog.DiscardHandler))
	defer gw.Close()
	start := time.Now()
	prev := gw.Check(ctx, res)
	for {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(2 * time.Second): // the measuring window
		}
		now := gw.Check(ctx, res)
		var busy []string
		for i, t := range now.Tunnels {
			if i >= len(prev.Tunnels) || prev.Tunnels[i].Interface != t.Interface {
				continue
			}
			rate := float64(t.RxBytes+t.TxBytes-prev.Tunnels[i].RxBytes-prev.Tunnels[i].TxBytes) / 2
			if rate > QuietRate {
				busy = append(busy, fmt.Sprintf("%s (%s) %.0f B/s", t.Interface, t.Peer, rate))
			}
		}
		if len(busy) == 0 {
			return fmt.Sprintf("drained after %s: no tunnel carries user traffic (each under %d B/s)", time.Since(start).Round(time.Second), QuietRate), nil
		}
		if time.Since(start) >= timeout {
			return "", fmt.Errorf("still carrying traffic after %s: %s (is its sibling up?)", timeout, strings.Join(busy, ", "))
		}
		prev = now
	}
}

// RotateKey is `sitevpn rotate-key` for the gateway this host's key
// identifies in the configuration o (o.Gateway, --gateway, may only name
// that one): drained first through the daemon's control socket, then a
// new key in private.key, the old one kept in oldFile (OldKeyPath, in the
// daemon's state directory) until a configuration with the new key is
// confirmed (the daemon then removes it). It returns what to do next.
// Without a running daemon it changes nothing: no drain, and no one to
// keep or remove the old key.
func RotateKey(ctx context.Context, socket, oldFile string, o pipeline.Options) (string, error) {
	named := o.Gateway
	o.Gateway = "" // the key says which gateway this host is
	res, err := pipeline.Run(o)
	if err != nil {
		return "", fmt.Errorf("rotate-key needs a valid configuration with a gateway whose public_key is this host's key: %w", err)
	}
	if named != "" && named != res.Me.Name {
		return "", fmt.Errorf("--gateway %q: this host's key is gateway %q's, and rotate-key replaces this host's key: the new one would give this host %q's identity. Run it on %s itself, or here without --gateway (nothing was changed)", named, res.Me.Name, named, named)
	}
	drained, err := Ask(ctx, socket, Request{Op: "drain"})
	if errors.Is(err, ErrNoDaemon) {
		return "", errors.New("the daemon is not running, so nothing was changed: rotate-key drains this gateway first (traffic leaves it before its tunnels change key) and the daemon keeps the old key until the new one is confirmed, or rolls back to it. Start it (systemctl start sitevpn), then run rotate-key again")
	} else if err != nil {
		return "", fmt.Errorf("draining first: %w", err)
	}
	keyFile := filepath.Join(o.ConfigDir, identity.KeyFile)
	if o.KeyFile != "" {
		keyFile = o.KeyFile
	}
	pub, err := identity.Rotate(keyFile, oldFile)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(`%s
new key written to %s (the old one kept as %s until the new one is confirmed)
new public key: %s

1. In the fleet definition, set gateway %q's public_key to it:
     public_key = %q
2. Push the fleet to every gateway (Ansible, or by hand). Until it arrives,
   this gateway runs its old key; then its tunnels take the new one.
3. Once "sitevpn status" is healthy here, "sitevpn undrain". When the
   configuration with the new key is confirmed, the daemon removes the old
   key; until then a rollback runs it.`,
		drained, keyFile, oldFile, pub, res.Me.Name, pub), nil
}

// OldKeyPath is where, on the system under root, a key rotation keeps the
// old key: in the confirmed configuration's directory, root-only, where
// the daemon may remove it.
func OldKeyPath(root string) string {
	return filepath.Join(root, ConfirmDir, identity.OldKeyFile)
}
