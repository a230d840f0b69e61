package daemon

import (
	"context"
	"os"
	"path/filepath"
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
	"github.com/sitevpn/sitevpn/render"
)

// keysSeen is what the fake system shows after an apply, taken in the
// daemon's goroutine so the test reads it without racing the daemon.
type keysSeen struct {
	mu      sync.Mutex
	kernel  wgtypes.Key            // public key of the kernel's private key
	devices map[string]wgtypes.Key // tunnel -> public key of its device's key
	copy    string                 // vrf mode: networkd's key file
	applies int
}

func (k *keysSeen) get() keysSeen {
	k.mu.Lock()
	defer k.mu.Unlock()
	return keysSeen{kernel: k.kernel, devices: k.devices, copy: k.copy, applies: k.applies}
}

// TestKeyRotationWithoutRestart: an operator writes a new private.key,
// then pushes the fleet with the gateway's new public key. The running
// daemon, with no restart, rebuilds the kernel side with the new key and
// gives it to every tunnel's device (netns mode), or to the devices
// networkd made and to networkd's copy of the key (vrf mode).
func TestKeyRotationWithoutRestart(t *testing.T) {
	for _, mode := range []string{"netns", "vrf"} {
		t.Run(mode, func(t *testing.T) { testKeyRotation(t, mode == "vrf") })
	}
}

func testKeyRotation(t *testing.T, vrf bool) {
	dir, root := t.TempDir(), t.TempDir()
	src, err := testfleet.ExampleSource()
	if err != nil {
		t.Fatal(err)
	}
	if vrf {
		src = testfleet.VRFVariant(src)
	}
	keys, err := testfleet.LabKeys()
	if err != nil {
		t.Fatal(err)
	}
	old := keys["v1-1"]
	replace(t, filepath.Join(dir, "fleet.hcl"), src)
	writeKey(t, dir, old)

	sys := fakesys.New(root, wgtypes.Key{}, "eth1", "eth2")
	gw := gateway.New(root, gateway.Parts{
		Units: func(context.Context) (apply.Units, error) { return sys, nil },
		Bird:  sys,
		Sessions: func(context.Context, string, bool) (map[string]check.Session, error) {
			return map[string]check.Session{}, nil
		},
		NewKernel: func(ns string, k wgtypes.Key, netns bool) (gateway.Kernel, error) { return sys.NewKernel(ns, k, netns) },
	}, nil)
	defer gw.Close()
	seen := &keysSeen{}
	applyAndLook := func(ctx context.Context, res *pipeline.Result) (apply.Report, error) {
		rep, err := gw.Apply(ctx, res)
		if vrf && len(sys.Tunnels) == 0 {
			// networkd made the devices from the .netdev files, with the key
			// of the file it read.
			pub := keyInCopy(root).PublicKey()
			for _, tu := range res.Plan.Tunnels {
				sys.Tunnels[tu.Interface] = &kernel.Tunnel{ListenPort: tu.ListenPort, PublicKey: pub}
			}
			rep, err = gw.Apply(ctx, res)
		}
		seen.mu.Lock()
		defer seen.mu.Unlock()
		seen.applies++
		seen.kernel = sys.Me
		seen.devices = map[string]wgtypes.Key{}
		for name, tu := range sys.Tunnels {
			seen.devices[name] = tu.PublicKey
		}
		if b, rerr := os.ReadFile(filepath.Join(root, render.NetworkdKey)); rerr == nil {
			seen.copy = strings.TrimSpace(string(b))
		}
		return rep, err
	}
	d := &Daemon{Options: pipeline.Options{ConfigDir: dir}, Apply: applyAndLook,
		Debounce: 50 * time.Millisecond, Reconcile: time.Hour, Health: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	allWith := func(want wgtypes.Key) func() bool {
		return func() bool {
			s := seen.get()
			if s.kernel != want.PublicKey() || len(s.devices) != 4 {
				return false
			}
			for _, k := range s.devices {
				if k != want.PublicKey() {
					return false
				}
			}
			return !vrf || s.copy == want.String()
		}
	}
	eventually(t, "the first apply with the old key", allWith(old))

	// Rotate: a new key on the gateway, then the fleet with its public key.
	fresh, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	writeKey(t, dir, fresh)
	replace(t, filepath.Join(dir, "fleet.hcl"), []byte(strings.ReplaceAll(string(src), old.PublicKey().String(), fresh.PublicKey().String())))
	eventually(t, "the kernel, every device and networkd's copy to take the new key", allWith(fresh))
}

func writeKey(t *testing.T, dir string, k wgtypes.Key) {
	t.Helper()
	tmp := filepath.Join(dir, ".private.key.tmp")
	if err := os.WriteFile(tmp, []byte(k.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "private.key")); err != nil {
		t.Fatal(err)
	}
}

// keyInCopy is the key of networkd's copy; zero (matching nothing) when
// there is none.
func keyInCopy(root string) wgtypes.Key {
	b, _ := os.ReadFile(filepath.Join(root, render.NetworkdKey))
	k, _ := wgtypes.ParseKey(strings.TrimSpace(string(b)))
	return k
}
