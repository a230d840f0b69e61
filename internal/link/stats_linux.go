//go:build linux

package link

import (
	"context"

	"golang.zx2c4.com/wireguard/wgctrl"

	"github.com/sitevpn/sitevpn/internal/kernel"
)

// Peers reads, for each named tunnel, its peer's last handshake and
// transfer counters, for health checks. A tunnel without device or peer
// is reported absent; only a failure to reach WireGuard at all is an error.
func (k *Kernel) Peers(ctx context.Context, names []string) (map[string]kernel.PeerStats, error) {
	if err := k.begin(ctx); err != nil {
		return nil, opErr("read peers", "", err)
	}
	defer k.mu.Unlock()
	out := map[string]kernel.PeerStats{}
	s, release, err := k.target()
	if err != nil {
		return out, opErr("read peers", "", err)
	}
	defer release()
	err = withWG(s, func(c *wgctrl.Client) error {
		for _, name := range names {
			d, err := c.Device(name)
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
