//go:build linux

package link

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// The private key must not come out of a Kernel however it is printed,
// nor out of any error. Needs no privilege: New only opens the calling
// thread's namespace and a netlink socket.
func TestNoKeyInOutput(t *testing.T) {
	key, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	// A namespace that does not exist: even as root on a gateway this
	// test must not create anything.
	ns := fmt.Sprintf("sitevpn-absent-%d", os.Getpid())
	k, err := New(ns, key, true)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	out := fmt.Sprintf("%v %+v %#v %s", k, k, k, k)
	ctx := context.Background()
	// These fail (no such namespace, or no permission without root); what
	// matters is what their errors say.
	for _, err := range []error{
		k.ConfigureDevice(ctx, "wg3", 5803),
		k.CreateTunnel(ctx, tunnelFor(t, 3)),
	} {
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("without the namespace: %v, want ErrNotExist", err)
		}
		if err != nil {
			out += " " + err.Error()
		}
	}
	for _, secret := range []string{key.String(), fmt.Sprint(key[:]), fmt.Sprintf("%x", key[:])} {
		if strings.Contains(out, secret) {
			t.Errorf("the private key is in %q", out)
		}
	}
	if !strings.Contains(out, fmt.Sprintf("netns %q", ns)) {
		t.Errorf("String() = %q: want the mode and namespace", k.String())
	}
}

func TestNewRejects(t *testing.T) {
	key, _ := wgtypes.GeneratePrivateKey()
	for _, tc := range []struct {
		ns  string
		key wgtypes.Key
	}{
		{"", key}, {"..", key}, {"a/b", key}, {"../etc", key},
	} {
		k, err := New(tc.ns, tc.key, true)
		if err == nil {
			k.Close()
			t.Errorf("New(%q): no error", tc.ns)
			continue
		}
		var le *Error
		if !errors.As(err, &le) {
			t.Errorf("New(%q): %v is not a *link.Error", tc.ns, err)
		}
	}
	// A kernel without a key reads, but gives no device a key.
	k, err := New("private", wgtypes.Key{}, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.ConfigureDevice(context.Background(), "wg1", 5801); !errors.Is(err, errNoKey) {
		t.Errorf("ConfigureDevice without a key: %v, want errNoKey", err)
	}
	k.Close()
	// vrf mode has no namespace to name.
	k, err = New("", key, false)
	if err != nil {
		t.Fatal(err)
	}
	k.Close()
	if err := k.SetUp(context.Background(), "lo"); err == nil {
		t.Error("SetUp after Close: no error")
	}
}
