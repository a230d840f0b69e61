//go:build linux

package link

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Kernel is the gateway's kernel over netlink and wgctrl (what package
// apply drives through its Kernel interface). Its methods are safe for
// concurrent use; they run one at a time, which also guards the handles
// it keeps.
type Kernel struct {
	mu        sync.Mutex
	namespace string // the private namespace (netns mode); unused in vrf mode
	netns     bool
	key       wgtypes.Key // never printed: see String
	// main is the namespace New was called in, where tunnel links are
	// created (and their UDP sockets stay). priv is the private
	// namespace, opened at first use and kept while /run/netns still
	// names it (its unit may restart and re-create it). Both keep their
	// handles from call to call: opening them cost more than most
	// actions (handles_linux.go).
	main *space
	priv *space // netns mode; nil until used, or after a failure
	// moved hears that priv was let go or opened: a Watch follows the
	// namespace tunnels live in.
	moved chan struct{}
}

// New returns the Kernel of a gateway whose WireGuard private key is
// privateKey; with a zero key it reads (Observe, Peers) and changes links
// but refuses to create or configure a device (errNoKey). With netns true (netns mode) namespace is the private
// namespace, /run/netns/<namespace>; it need not exist yet (Observe then
// says so). With netns false (vrf mode) everything is in the main
// namespace and namespace is not used.
//
// The main namespace is the one of the calling thread: call New from
// ordinary code, not from a goroutine that entered another namespace.
func New(namespace string, privateKey wgtypes.Key, netns bool) (*Kernel, error) {
	if netns {
		if err := checkNamespaceName(namespace); err != nil {
			return nil, opErr("new", "", err)
		}
	}
	m, err := openMain()
	if err != nil {
		return nil, opErr("new", "", err)
	}
	return &Kernel{namespace: namespace, netns: netns, key: privateKey, main: m, moved: make(chan struct{}, 1)}, nil
}

// Close releases every handle the Kernel keeps, in both namespaces.
// Links and devices stay.
func (k *Kernel) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closePrivate()
	if k.main != nil {
		k.main.close()
		k.main = nil
	}
	return nil
}

// String describes the Kernel without its key, so that printing one with
// %v or %+v can never leak the key.
func (k *Kernel) String() string {
	if k.netns {
		return fmt.Sprintf("link.Kernel(netns %q)", k.namespace)
	}
	return "link.Kernel(vrf)"
}

// GoString is String, for %#v.
func (k *Kernel) GoString() string { return k.String() }

// errNoKey: a Kernel made without a private key cannot give one to a
// device.
var errNoKey = errors.New("this kernel was made without the gateway's private key")

// begin takes the lock, checks the context and that Close was not
// called, and reopens the main namespace's netlink handle if a failure
// dropped it; callers defer k.end(&err) when it succeeds.
func (k *Kernel) begin(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k.mu.Lock()
	if k.main == nil {
		k.mu.Unlock()
		return errors.New("kernel closed")
	}
	if err := k.main.reopen(); err != nil {
		k.mu.Unlock()
		return err
	}
	return nil
}

func checkNamespaceName(ns string) error {
	// It becomes a path under /run/netns: no traversal, no empty name.
	if ns == "" || ns == "." || ns == ".." || strings.ContainsAny(ns, "/\x00") {
		return fmt.Errorf("invalid namespace name %q", ns)
	}
	return nil
}

// kind is a link's type as "ip -d link" shows it ("wireguard", "dummy").
func kind(l netlink.Link) string { return l.Type() }

func isWireGuard(l netlink.Link) bool { return kind(l) == "wireguard" }

// standIn is, in benchmarks on a kernel without WireGuard, the link kind
// Observe takes for a tunnel (its device half is then not read). Empty
// everywhere else.
var standIn string

// isTunnelLink: a WireGuard link, or the benchmarks' stand-in.
func isTunnelLink(l netlink.Link) bool { return isWireGuard(l) || standIn != "" && kind(l) == standIn }
