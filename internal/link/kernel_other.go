//go:build !linux

package link

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/kernel"
	"github.com/sitevpn/sitevpn/internal/plan"
)

// Kernel is Linux only: network namespaces and kernel WireGuard are.
type Kernel struct{}

var errOS = fmt.Errorf("%w on %s: sitevpn manages Linux gateways", ErrUnsupported, runtime.GOOS)

// New always fails outside Linux.
func New(namespace string, privateKey wgtypes.Key, netns bool) (*Kernel, error) {
	return nil, opErr("new", "", errOS)
}

func (k *Kernel) Close() error { return nil }

// Watch does nothing: there is nothing to watch.
func (k *Kernel) Watch(context.Context, kernel.Changes) {}

func (k *Kernel) Observe(context.Context, kernel.Query) (kernel.State, error) {
	return kernel.State{}, opErr("observe", "", errOS)
}
func (k *Kernel) CreateTunnel(_ context.Context, t plan.Tunnel) error {
	return opErr("create", t.Interface, errOS)
}
func (k *Kernel) DeleteTunnel(_ context.Context, name string, _ bool) error {
	return opErr("delete", name, errOS)
}
func (k *Kernel) ConfigureDevice(_ context.Context, name string, _ int) error {
	return opErr("configure", name, errOS)
}
func (k *Kernel) SetPeer(_ context.Context, name string, _ plan.Peer) error {
	return opErr("set peer", name, errOS)
}
func (k *Kernel) RemovePeer(_ context.Context, name string, _ wgtypes.Key) error {
	return opErr("remove peer", name, errOS)
}
func (k *Kernel) SetMTU(_ context.Context, name string, _ int) error {
	return opErr("set mtu", name, errOS)
}
func (k *Kernel) SetUp(_ context.Context, name string) error {
	return opErr("set up", name, errOS)
}
func (k *Kernel) AddAddress(_ context.Context, name string, _ netip.Prefix) error {
	return opErr("add address", name, errOS)
}
func (k *Kernel) DelAddress(_ context.Context, name string, _ netip.Prefix) error {
	return opErr("del address", name, errOS)
}
func (k *Kernel) MoveLAN(_ context.Context, name string) error {
	return opErr("move", name, errOS)
}
