package daemon

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sitevpn/sitevpn/internal/atomicfile"
)

// StatePath is where the daemon publishes its State for `sitevpn status`,
// relative to the root. Only root reads it (0600): it quotes the fleet
// files of a rejected configuration.
const StatePath = "run/sitevpn/state.json"

// WriteState replaces the state file under root. Compact: the daemon
// writes it after every check, and indenting the health of a hub's
// hundreds of tunnels doubled the cost of writing it, most of a check's
// CPU (issue 13); `jq . state.json` shows it indented.
func WriteState(root string, s State) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(root, StatePath), append(b, '\n'), 0o600, -1, -1)
}

// ReadState reads the state file under root.
func ReadState(root string) (State, error) {
	var s State
	p := filepath.Join(root, StatePath)
	b, err := os.ReadFile(p)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("reading the daemon's state %s: %w", p, err)
	}
	return s, nil
}
