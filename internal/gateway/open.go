package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/apply"
	"github.com/sitevpn/sitevpn/internal/bird"
	"github.com/sitevpn/sitevpn/internal/link"
	"github.com/sitevpn/sitevpn/internal/systemd"
)

var (
	_ Kernel      = (*link.Kernel)(nil)
	_ apply.Units = (*systemd.Manager)(nil)
)

// LiveRoot refuses a command that drives the live system (D-Bus,
// netlink: what a root prefix cannot redirect) with a root other than /:
// it would write files under root, yet reload and change this host's
// services and links.
func LiveRoot(command, root string) error {
	if filepath.Clean(root) == "/" {
		return nil
	}
	return fmt.Errorf("%s --root %s: %s changes this host's services and links, which --root cannot redirect; to write this gateway's files under a directory, use \"sitevpn render --out DIR\", and \"sitevpn plan --root %s\" to see what it would change there", command, root, command, root)
}

// Open is the gateway under root over the real system: systemd (connected
// when first needed), the kernel (package link), BIRD's control socket.
func Open(root string, log *slog.Logger) *Gateway {
	return New(root, Parts{
		Units: func(ctx context.Context) (apply.Units, error) {
			m, err := systemd.New(ctx)
			if err != nil {
				return nil, fmt.Errorf("connecting to systemd over D-Bus (apply runs on a systemd host, as root): %w", err)
			}
			return m, nil
		},
		Bird:     bird.Control{},
		Sessions: ReadSessions, Adjacencies: ReadAdjacencies,
		NewKernel: func(namespace string, private wgtypes.Key, netns bool) (Kernel, error) {
			return link.New(namespace, private, netns)
		},
	}, log)
}
