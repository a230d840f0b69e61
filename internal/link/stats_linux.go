//go:build linux

package link

import (
	"context"

	"github.com/sitevpn/sitevpn/internal/kernel"
)

// Peers reads, for each named tunnel, its peer's last handshake and
// transfer counters, for health checks. A tunnel without device or peer
// is reported absent; only a failure to reach WireGuard at all is an error.
func (k *Kernel) Peers(ctx context.Context, names []string) (_ map[string]kernel.PeerStats, err error) {
	if err := k.begin(ctx); err != nil {
		return nil, opErr("read peers", "", err)
	}
	defer k.end(&err)
	out := map[string]kernel.PeerStats{}
	s, err := k.target()
	if err != nil {
		return out, opErr("read peers", "", err)
	}
	err = withWG(s, func(c *wgCall) error {
		for _, name := range names {
			d, err := c.device(name)
			if err != nil || len(d.Peers) == 0 {
				continue // no device, or not WireGuard: absent
			}
			p := d.Peers[0]
			out[name] = kernel.PeerStats{Present: true, LastHandshake: p.LastHandshakeTime, RxBytes: p.ReceiveBytes, TxBytes: p.TransmitBytes}
		}
		return nil
	})
	return out, opErr("read peers", "", err)
}
