package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/gateway"
	"github.com/sitevpn/sitevpn/internal/pipeline"
)

// Status is `sitevpn status`: the health of the configuration in force
// (the files', or while they are invalid the last good one the daemon
// still runs) read now, with what the daemon reports.
func Status(ctx context.Context, root string, o pipeline.Options) (check.Report, error) {
	st, stErr := ReadState(root)
	var res *pipeline.Result
	var err error
	if c := st.Configuration; stErr == nil && c != nil && c.State == check.RolledBack {
		// The files are the configuration rolled back: the confirmed one
		// is what runs.
		res, _ = store{dir: filepath.Join(root, ConfirmDir)}.run(o)
	}
	if res == nil { // none kept, or it does not load: the files
		res, err = pipeline.Run(o)
	}
	var rep check.Report
	switch {
	case err == nil:
		gw := gateway.Open(root, slog.New(slog.DiscardHandler))
		defer gw.Close()
		rep = gw.Check(ctx, res)
		rep.Warnings = check.WarningLines(res.Warnings)
	case stErr == nil && st.ConfigError != "":
		rep = st.Health
	case noFleet(o.ConfigDir):
		return rep, fmt.Errorf("status: no fleet definition in %s (no *.hcl file): put the fleet there; the package installs an example as %s", o.ConfigDir, filepath.Join(o.ConfigDir, "example.hcl.sample"))
	default:
		return rep, err
	}
	if stErr != nil {
		return rep, nil // no daemon has run: what the system shows is all
	}
	return st.Merge(rep, time.Now()), nil
}

func noFleet(dir string) bool {
	m, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	return err == nil && len(m) == 0 || errors.Is(err, fs.ErrNotExist)
}

// WaitHealthy is `sitevpn status --wait-healthy`: Status again every 2 s
// until the gateway is healthy or timeout passes; the last reading either
// way (timeout 0: one reading). A staged rollout waits on it before it
// confirms a wave.
func WaitHealthy(ctx context.Context, root string, o pipeline.Options, timeout time.Duration) (check.Report, error) {
	if timeout <= 0 {
		return Status(ctx, root, o)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		rep, err := Status(ctx, root, o)
		if err == nil && rep.Healthy {
			return rep, nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				rep.Problems = append(rep.Problems, fmt.Sprintf("not healthy after waiting %s", timeout))
			}
			return rep, err
		case <-time.After(2 * time.Second):
		}
	}
}
