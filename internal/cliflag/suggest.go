// Package cliflag is what the command line does with flags beyond cobra:
// it suggests the flag a user meant.
package cliflag

import (
	"fmt"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Suggest adds "did you mean" to an unknown flag, as cobra does for
// commands (cobra's SetFlagErrorFunc).
func Suggest(cmd *cobra.Command, err error) error {
	_, name, ok := strings.Cut(err.Error(), "unknown flag: --")
	if !ok {
		return fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())
	}
	best, dist := "", 3 // suggest only close names
	visit := func(f *pflag.Flag) {
		if d := levenshtein.Distance(name, f.Name, nil); d < dist {
			best, dist = f.Name, d
		}
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	if best == "" {
		return fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())
	}
	return fmt.Errorf("%w; did you mean --%s?", err, best)
}
