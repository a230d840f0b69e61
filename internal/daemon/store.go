package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/sitevpn/sitevpn/internal/atomicfile"
	"github.com/sitevpn/sitevpn/internal/confirm"
	"github.com/sitevpn/sitevpn/internal/identity"
	"github.com/sitevpn/sitevpn/internal/pipeline"
	"github.com/sitevpn/sitevpn/render"
)

// ConfirmDir is where the daemon keeps, relative to the root, the last
// confirmed configuration (a copy of its files), the one a rollback
// rejected, and a probation in progress: what survives a restart or a
// reboot, so a change cut short is still judged, and a rejected one is
// not applied again.
const ConfirmDir = render.StateDir + "/confirm"

// store is the confirm directory.
type store struct{ dir string }

func (s store) path(name string) string { return filepath.Join(s.dir, name) }

// confirmedDir holds the confirmed files and their record; a new one is
// written beside it and swapped in by two renames, so a crash leaves
// either the old set or the new one (confirmed.old, until removed).
func (s store) confirmedDir() string {
	d := s.path("confirmed")
	if _, err := os.Stat(d); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(d + ".old"); err == nil {
			return d + ".old"
		}
	}
	return d
}

// confirmed is the last confirmed configuration's record and files; nil
// when none was ever confirmed.
func (s store) confirmed() (*confirm.Record, []string, error) {
	dir := s.confirmedDir()
	var r confirm.Record
	if err := readJSON(filepath.Join(dir, "record.json"), &r); err != nil || r.Digest == "" {
		return nil, nil, err
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if err != nil {
		return nil, nil, err
	}
	return &r, files, nil
}

// run is the pipeline on the confirmed files, with o's key and identity;
// nil, nil when none was kept. During a key rotation the confirmed
// configuration names the old key, which the store's private.key.old
// still holds.
func (s store) run(o pipeline.Options) (*pipeline.Result, error) {
	r, files, err := s.confirmed()
	if err != nil || r == nil {
		return nil, err
	}
	o.Files = files
	res, err := pipeline.Run(o)
	if err != nil {
		o.KeyFile = filepath.Join(s.dir, identity.OldKeyFile)
		if old, oldErr := pipeline.Run(o); oldErr == nil {
			return old, nil
		}
	}
	return res, err
}

// confirm makes sources, generation gen, the confirmed configuration.
func (s store) confirm(gen int, sources pipeline.Sources, at time.Time) (*confirm.Record, error) {
	r := &confirm.Record{Generation: gen, Digest: sources.Digest(), At: at}
	next, cur := s.path("confirmed.new"), s.path("confirmed")
	os.RemoveAll(next)
	if err := os.MkdirAll(next, 0o700); err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(sources)) {
		if err := atomicfile.Write(filepath.Join(next, name), sources[name], 0o600, -1, -1); err != nil {
			return nil, err
		}
	}
	if err := writeJSON(filepath.Join(next, "record.json"), r); err != nil {
		return nil, err
	}
	os.RemoveAll(cur + ".old")
	if err := os.Rename(cur, cur+".old"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err := os.Rename(next, cur); err != nil {
		return nil, err
	}
	os.RemoveAll(cur + ".old")
	return r, nil
}

func (s store) rejected() (*confirm.Record, error) {
	var r confirm.Record
	if err := readJSON(s.path("rejected.json"), &r); err != nil || r.Digest == "" {
		return nil, err
	}
	return &r, nil
}

func (s store) reject(r *confirm.Record) error { return writeJSON(s.path("rejected.json"), r) }

func (s store) probation() (*confirm.Probation, error) {
	var p confirm.Probation
	if err := readJSON(s.path("probation.json"), &p); err != nil || p.Digest == "" {
		return nil, err
	}
	return &p, nil
}

// setProbation records p, or with nil ends the probation.
func (s store) setProbation(p *confirm.Probation) error {
	if p == nil {
		if err := os.Remove(s.path("probation.json")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	return writeJSON(s.path("probation.json"), p)
}

// readJSON reads path into v; a missing file leaves v as it is.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w (remove it to start afresh)", path, err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.Write(path, append(b, '\n'), 0o600, -1, -1)
}
