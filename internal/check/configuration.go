package check

import (
	"fmt"
	"strings"
	"time"
)

// The states of the configuration in force, as the daemon reports them.
const (
	Confirmed  = "confirmed"   // kept: every tunnel it held came back, or nothing changed
	Probation  = "probation"   // applied, being judged until its deadline
	RolledBack = "rolled back" // the files' configuration broke what worked: the confirmed one is back
)

// Configuration is which configuration is in force: the daemon's
// confirmation of changes (a change that breaks tunnels that were up is
// rolled back).
type Configuration struct {
	Generation int    `json:"generation"`
	State      string `json:"state"`
	// Probation: rolled back at Deadline unless confirmed; Manual: only
	// `sitevpn confirm` confirms it; Waiting: the tunnels it held that are
	// not up yet.
	Deadline time.Time `json:"deadline,omitzero"`
	Manual   bool      `json:"manual,omitempty"`
	Waiting  []string  `json:"waiting,omitempty"`
	// Rolled back: the generation rejected, and why.
	Rejected int    `json:"rejected,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// String is the configuration as one line of `sitevpn status`.
func (c Configuration) String() string {
	s := fmt.Sprintf("generation %d, %s", c.Generation, c.State)
	switch c.State {
	case Probation:
		how := "unless every tunnel it kept is up again"
		if c.Manual {
			how = "unless `sitevpn confirm` confirms it"
		}
		s += fmt.Sprintf(": rolled back at %s %s", c.Deadline.Local().Format(time.TimeOnly), how)
		if len(c.Waiting) > 0 {
			s += " (waiting for " + strings.Join(c.Waiting, ", ") + ")"
		}
	case RolledBack:
		s = fmt.Sprintf("generation %d in force, rolled back from generation %d: %s; the files are not applied again until they change", c.Generation, c.Rejected, c.Reason)
	}
	return s
}
