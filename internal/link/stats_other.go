//go:build !linux

package link

import (
	"context"

	"github.com/sitevpn/sitevpn/internal/check"
)

// Peers is not supported outside Linux.
func (k *Kernel) Peers(context.Context, []string) (map[string]check.Peer, error) {
	return nil, ErrUnsupported
}
