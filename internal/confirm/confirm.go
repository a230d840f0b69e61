// Package confirm is the daemon's confirm logic as a pure state machine:
// events in (files loaded, a change applied, a health reading, an
// operator's answer), decisions out (confirm, put on probation, end it,
// roll back). The daemon carries each decision out (the store, the apply)
// and commits it here once done, so a decision it could not carry out
// leaves the state as it was.
package confirm

import (
	"strings"
	"time"

	"github.com/sitevpn/sitevpn/internal/check"
)

// Record names one configuration: its generation and its files' digest.
type Record struct {
	Generation int       `json:"generation"`
	Digest     string    `json:"digest"`
	At         time.Time `json:"at"`
	Reason     string    `json:"reason,omitempty"` // a rejected one's: why
}

// Probation is a change being judged: the tunnels that were up before it
// (Held), and until when they have to be up again.
type Probation struct {
	Record
	Settle   time.Time    `json:"settle"`   // not confirmed before this: a broken path takes a hold time to show
	Deadline time.Time    `json:"deadline"` // rolled back at this time unless confirmed
	Manual   bool         `json:"manual,omitempty"`
	Held     []check.Held `json:"held"`
}

// State is what the machine knows: the last confirmed configuration, the
// last one rolled back, whether the files are that one, and the change
// on probation.
type State struct {
	Confirmed       *Record
	Rejected        *Record
	RejectedInFiles bool
	Probation       *Probation
}

// Kind is what a decision asks the daemon to do.
type Kind string

// The decisions.
const (
	// Confirm: keep the configuration in force as Record; any probation
	// ends with it.
	Confirm Kind = "confirm"
	// Probate: judge the configuration in force (Probation).
	Probate Kind = "probate"
	// End: the probation is over without a verdict (the files are the
	// confirmed configuration again).
	End Kind = "end"
	// RollBack: apply the confirmed configuration again, and reject
	// Record (the probation's, with its reason) until the files change.
	RollBack Kind = "rollback"
)

// Decision is one thing the daemon is to do, and why.
type Decision struct {
	Kind      Kind
	Record    Record
	Probation *Probation
	Why       string
}

// SettleTime is how long a change stays on probation at least: a path it
// broke can look healthy until BGP's hold time (or BFD) says otherwise,
// and a handshake stays fresh for minutes after its peer went silent.
func SettleTime(holdTime time.Duration) time.Duration { return max(30*time.Second, 3*holdTime) }

// Admit reports whether valid files (digest) may be applied: not when
// they are the configuration rolled back, unless forced (an operator's
// `sitevpn apply`).
func (s State) Admit(digest string, force bool) (State, bool) {
	s.RejectedInFiles = !force && s.Rejected != nil && digest == s.Rejected.Digest
	return s, !s.RejectedInFiles
}

// Applied is an apply of valid files.
type Applied struct {
	At      time.Time
	Digest  string
	Changed bool // it changed something on this gateway
	Failed  bool
	// Window is the fleet's confirm_window (0: off), Settle its
	// SettleTime, Manual apply --confirm's duration (0: none).
	Window, Settle, Manual time.Duration
	Held                   []check.Held // the tunnels up before it
}

// Applied judges a change just applied: the confirmed files again end a
// probation; a change that changed something is put on probation (the
// same change again stays on it); anything else is confirmed at once.
func (s State) Applied(e Applied) []Decision {
	p := s.Probation
	switch {
	case s.Confirmed != nil && e.Digest == s.Confirmed.Digest:
		if p != nil {
			return []Decision{{Kind: End, Why: "the files are the confirmed configuration again: probation over"}}
		}
		return nil
	case p != nil && e.Digest == p.Digest && e.Manual == 0:
		return nil // SIGHUP, a reconcile: still judged
	case s.Confirmed == nil || (!e.Changed && p == nil && e.Manual == 0) || (e.Window == 0 && e.Manual == 0):
		// Nothing to roll back to, nothing changed here, or confirmation off.
		if e.Failed {
			return nil
		}
		return []Decision{{Kind: Confirm, Record: Record{Generation: s.NextGeneration(), Digest: e.Digest, At: e.At}, Why: "configuration confirmed: nothing to judge (nothing to go back to, nothing changed here, or confirm_window 0)"}}
	}
	window := e.Window
	if e.Manual > 0 {
		window = e.Manual
	}
	gen := s.NextGeneration()
	if p != nil && p.Digest == e.Digest { // now with --confirm
		gen = p.Generation
	}
	return []Decision{{Kind: Probate, Why: "configuration on probation", Probation: &Probation{
		Record:   Record{Generation: gen, Digest: e.Digest, At: e.At},
		Settle:   e.At.Add(min(e.Settle, window)),
		Deadline: e.At.Add(window),
		Manual:   e.Manual > 0,
		Held:     e.Held,
	}}}
}

// FirstApply: an apply succeeded with nothing confirmed or judged yet, so
// there is nothing to go back to: the configuration in force (digest) is
// the first confirmed one.
func (s State) FirstApply(at time.Time, digest string) []Decision {
	if s.Confirmed != nil || s.Probation != nil {
		return nil
	}
	return []Decision{{Kind: Confirm, Record: Record{Generation: s.NextGeneration(), Digest: digest, At: at}, Why: "configuration confirmed: the first one applied, nothing to go back to"}}
}

// Checked is the verdict after a health reading: waiting lists what the
// probation still waits for (tunnels it held that are not up again, a
// failed apply). Past its settle time with nothing waiting, it is
// confirmed; past its deadline, rolled back.
func (s State) Checked(at time.Time, waiting []string) []Decision {
	p := s.Probation
	switch {
	case p == nil:
		return nil
	case !p.Manual && !at.Before(p.Settle) && len(waiting) == 0:
		return []Decision{{Kind: Confirm, Record: p.Record, Why: "configuration confirmed: every tunnel it kept is up"}}
	case !at.Before(p.Deadline):
		reason := strings.Join(waiting, ", ")
		if p.Manual {
			reason = "not confirmed with `sitevpn confirm` in time" + strings.TrimSuffix("; "+reason, "; ")
		}
		return []Decision{s.rollBack(at, reason)}
	}
	return nil
}

// ConfirmNow is `sitevpn confirm`; false when nothing is on probation.
func (s State) ConfirmNow() ([]Decision, bool) {
	if s.Probation == nil {
		return nil, false
	}
	return []Decision{{Kind: Confirm, Record: s.Probation.Record, Why: "configuration confirmed by `sitevpn confirm`"}}, true
}

// RollBackNow is `sitevpn rollback`; false when nothing is on probation.
func (s State) RollBackNow(at time.Time) ([]Decision, bool) {
	if s.Probation == nil {
		return nil, false
	}
	return []Decision{s.rollBack(at, "rolled back by `sitevpn rollback`")}, true
}

func (s State) rollBack(at time.Time, reason string) Decision {
	return Decision{Kind: RollBack, Record: Record{Generation: s.Probation.Generation, Digest: s.Probation.Digest, At: at, Reason: reason}, Why: reason}
}

// Keep is the decision when a rollback cannot be carried out (the
// confirmed configuration does not load): the change stays, confirmed.
func (s State) Keep() Decision {
	return Decision{Kind: Confirm, Record: s.Probation.Record, Why: "configuration confirmed: it cannot be rolled back"}
}

// Commit is the state once d has been carried out.
func (s State) Commit(d Decision) State {
	switch d.Kind {
	case Confirm:
		r := d.Record
		s.Confirmed, s.Probation = &r, nil
	case Probate:
		s.Probation = d.Probation
	case End:
		s.Probation = nil
	case RollBack:
		r := d.Record
		s.Rejected, s.RejectedInFiles, s.Probation = &r, true, nil
	}
	return s
}

// NextGeneration is one more than any generation known.
func (s State) NextGeneration() int {
	n := 0
	for _, r := range []*Record{s.Confirmed, s.Rejected} {
		if r != nil {
			n = max(n, r.Generation)
		}
	}
	if s.Probation != nil {
		n = max(n, s.Probation.Generation)
	}
	return n + 1
}

// Describe is the configuration's state as status shows it; nil when
// nothing was confirmed or judged yet.
func (s State) Describe(waiting []string) *check.Configuration {
	if s.Confirmed == nil && s.Probation == nil {
		return nil
	}
	if p := s.Probation; p != nil {
		return &check.Configuration{Generation: p.Generation, State: check.Probation, Deadline: p.Deadline, Manual: p.Manual, Waiting: waiting}
	}
	c := &check.Configuration{State: check.Confirmed, Generation: s.Confirmed.Generation}
	if s.Rejected != nil && s.RejectedInFiles {
		c.State, c.Rejected, c.Reason = check.RolledBack, s.Rejected.Generation, s.Rejected.Reason
	}
	return c
}
