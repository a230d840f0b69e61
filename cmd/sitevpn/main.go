// Command sitevpn renders and applies redundant route-based WireGuard
// site-to-site VPNs from one fleet-wide HCL definition.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/sitevpn/sitevpn/internal/diag"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		var de *diag.Error
		if errors.As(err, &de) {
			fmt.Fprintln(os.Stderr, de.Error())
		} else {
			fmt.Fprintln(os.Stderr, "sitevpn:", err)
		}
		var ex exitError
		if errors.As(err, &ex) {
			os.Exit(int(ex))
		}
		os.Exit(1)
	}
}

// exitError carries an exit status for a command that already said why.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
