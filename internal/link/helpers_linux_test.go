//go:build linux

package link

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/internal/testnetns"
)

// tunnelFor is the tunnel to the gateway with id remote, as plan derives
// it for a gateway with id 1 (addresses of pair (1, remote)).
func tunnelFor(t testing.TB, remote int) plan.Tunnel {
	t.Helper()
	peer, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	k := plan.PairIndex(1, remote)
	l6 := netip.MustParseAddr(fmt.Sprintf("2001:db8:ff::%x", 2*k))
	l4 := netip.AddrFrom4([4]byte{169, 254, 0, byte(2 * k)})
	return plan.Tunnel{
		Interface:  plan.InterfaceName(remote),
		ListenPort: 5800 + remote,
		MTU:        1420,
		Peer: plan.Peer{
			Gateway: fmt.Sprintf("gw%d", remote), ID: remote,
			PublicKey: peer.PublicKey().String(),
			Endpoint:  netip.AddrPortFrom(netip.MustParseAddr(fmt.Sprintf("2001:db8:%d::1", remote)), 5801),
			Keepalive: 25,
		},
		Local6: netip.PrefixFrom(l6, 127), Remote6: l6.Next(),
		Local4: netip.PrefixFrom(l4, 31), Remote4: l4.Next(),
	}
}

// privileged skips a test unless it may change the kernel's state.
func privileged(t testing.TB) {
	t.Helper()
	testnetns.Root(t, "changes network namespaces and links")
}

var nsSeq atomic.Int32

// testNS is a fresh named namespace, deleted when the test ends.
type testNS struct {
	name string
	ns   netns.NsHandle
	h    *netlink.Handle
}

func newTestNS(t testing.TB) *testNS {
	t.Helper()
	name := fmt.Sprintf("sitevpn-test-%d-%d", os.Getpid(), nsSeq.Add(1))
	ns, err := createNamed(name)
	if err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		ns.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.Close()
		ns.Close()
		if err := netns.DeleteNamed(name); err != nil {
			t.Errorf("deleting namespace %s: %v", name, err)
		}
	})
	return &testNS{name: name, ns: ns, h: h}
}

// createNamed is netns.NewNamed on a throwaway locked thread: NewNamed
// leaves the calling thread in the new namespace.
func createNamed(name string) (netns.NsHandle, error) {
	type result struct {
		ns  netns.NsHandle
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{netns.None(), err}
			return
		}
		defer orig.Close()
		ns, err := netns.NewNamed(name)
		if rerr := netns.Set(orig); rerr != nil {
			done <- result{ns, fmt.Errorf("restoring: %w", rerr)} // thread stays locked and dies
			return
		}
		runtime.UnlockOSThread()
		done <- result{ns, err}
	}()
	r := <-done
	return r.ns, r.err
}

// newKernel returns a Kernel whose "main" namespace is a fresh test
// namespace, so that tests never touch the host's real links, and whose
// private namespace is another fresh one (or, with exists false, a name
// that does not exist yet).
func newKernel(t testing.TB, key wgtypes.Key, exists bool) (k *Kernel, main, priv *testNS) {
	t.Helper()
	main = newTestNS(t)
	if exists {
		priv = newTestNS(t)
	} else {
		priv = &testNS{name: fmt.Sprintf("sitevpn-test-%d-%d", os.Getpid(), nsSeq.Add(1))}
		t.Cleanup(func() { _ = netns.DeleteNamed(priv.name) })
	}
	k = kernelIn(t, main, priv.name, key, true)
	return k, main, priv
}

// kernelIn calls New from a thread in main, which New takes as the main
// namespace.
func kernelIn(t testing.TB, main *testNS, private string, key wgtypes.Key, netnsMode bool) *Kernel {
	t.Helper()
	var k *Kernel
	err := inNamespace(main.ns, func() error {
		var err error
		k, err = New(private, key, netnsMode)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

func mustPrivateKey(t testing.TB) wgtypes.Key {
	t.Helper()
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// addLink adds a veth pair to ns, name and name+"p" (a stand-in for a NIC
// or, by name, for a tunnel on kernels without WireGuard; this host's
// kernel has no dummy links either).
func (n *testNS) addLink(t testing.TB, name string) netlink.Link {
	t.Helper()
	attrs := netlink.NewLinkAttrs()
	attrs.Name = name
	if err := n.h.LinkAdd(&netlink.Veth{LinkAttrs: attrs, PeerName: name + "p"}); err != nil {
		t.Fatalf("adding veth %s: %v", name, err)
	}
	l, err := n.h.LinkByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// has reports whether ns has a link of that name.
func (n *testNS) has(t testing.TB, name string) bool {
	t.Helper()
	_, err := n.h.LinkByName(name)
	if _, ok := err.(netlink.LinkNotFoundError); ok {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// requireWireGuard skips unless the kernel can make wireguard links.
func requireWireGuard(t testing.TB) {
	t.Helper()
	n := newTestNS(t)
	attrs := netlink.NewLinkAttrs()
	attrs.Name = "wgprobe"
	if err := n.h.LinkAdd(&netlink.Wireguard{LinkAttrs: attrs}); err != nil {
		t.Skipf("this kernel has no WireGuard (ip link add type wireguard: %v): go test -tags lab -run TestLabIntegration ./test/lab/ runs it in a VM", err)
	}
}

func nsPath(name string) string { return filepath.Join(nsDir, name) }
