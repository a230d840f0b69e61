//go:build !linux

package link

import (
	"context"

	"github.com/sitevpn/sitevpn/internal/kernel"
)

// Peers is not supported outside Linux.
func (k *Kernel) Peers(context.Context, []string) (map[string]kernel.PeerStats, error) {
	return nil, ErrUnsupported
}
