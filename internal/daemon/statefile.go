package daemon

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"time"

	"github.com/sitevpn/sitevpn/internal/atomicfile"
	"github.com/sitevpn/sitevpn/internal/check"
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

// stateRefresh is how often a state file that would say nothing new is
// written anyway: status takes a state older than StaleAfter for a
// daemon that is not running.
const stateRefresh = StaleAfter / 2

// stateWritten is what the daemon last wrote to the state file, and when.
type stateWritten struct {
	said State // steady
	at   time.Time
}

// next returns what the file will say if s is written, and whether it
// must be: it would say something new, or it is stateRefresh old.
// Handshake ages and byte counters alone are not new: they change at
// every check, and writing a hub's hundreds of tunnels every 10 s was
// most of its idle CPU (issue 13); status reads them live (the file's
// health is shown only while the files are invalid), metrics from the
// daemon.
func (w stateWritten) next(s State) (stateWritten, bool) {
	said := steady(s)
	return stateWritten{said, s.Updated}, s.Updated.Sub(w.at) >= stateRefresh || !reflect.DeepEqual(said, w.said)
}

// steady is s without what changes while nothing happens, copied so that
// the daemon's later changes in place do not reach it.
func steady(s State) State {
	s.Updated = time.Time{}
	h := &s.Health
	h.Tunnels = slices.Clone(h.Tunnels)
	for i := range h.Tunnels {
		t := &h.Tunnels[i]
		t.Handshake, t.HandshakeAge, t.RxBytes, t.TxBytes = time.Time{}, 0, 0, 0
	}
	h.Problems, h.Warnings, h.Endpoints = slices.Clone(h.Problems), slices.Clone(h.Warnings), slices.Clone(h.Endpoints)
	h.Adjacencies = slices.Clone(h.Adjacencies)
	h.Configuration = cloneConfiguration(h.Configuration)
	s.Configuration = cloneConfiguration(s.Configuration)
	return s
}

func cloneConfiguration(c *check.Configuration) *check.Configuration {
	if c == nil {
		return nil
	}
	cc := *c
	cc.Waiting = slices.Clone(c.Waiting)
	return &cc
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
