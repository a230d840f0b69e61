package link

import (
	"context"
	"fmt"

	"github.com/sitevpn/sitevpn/internal/kernel"
)

// Change performs one kernel.Change with the method of its op; a change
// missing what its op needs is refused before anything is touched.
func (k *Kernel) Change(ctx context.Context, c kernel.Change) error {
	switch c.Op {
	case kernel.CreateTunnel:
		if c.Tunnel == nil || c.Tunnel.Interface != c.Link {
			return opErr("create", c.Link, fmt.Errorf("the change carries no tunnel named %q", c.Link))
		}
		return k.CreateTunnel(ctx, *c.Tunnel)
	case kernel.DeleteTunnel:
		return k.DeleteTunnel(ctx, c.Link, c.InMain)
	case kernel.ConfigureDevice:
		return k.ConfigureDevice(ctx, c.Link, c.Port)
	case kernel.SetPeer:
		if c.Peer == nil {
			return opErr("set peer", c.Link, fmt.Errorf("the change carries no peer"))
		}
		return k.SetPeer(ctx, c.Link, *c.Peer)
	case kernel.RemovePeer:
		return k.RemovePeer(ctx, c.Link, c.PeerKey)
	case kernel.SetMTU:
		return k.SetMTU(ctx, c.Link, c.MTU)
	case kernel.SetUp:
		return k.SetUp(ctx, c.Link)
	case kernel.AddAddress:
		return k.AddAddress(ctx, c.Link, c.Address)
	case kernel.DelAddress:
		return k.DelAddress(ctx, c.Link, c.Address)
	case kernel.MoveLAN:
		return k.MoveLAN(ctx, c.Link)
	}
	return opErr(string(c.Op), c.Link, fmt.Errorf("unknown change %q", c.Op))
}
