package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/identity"
	"github.com/sitevpn/sitevpn/internal/pipeline"
)

// Confirmed changes. The daemon keeps the last confirmed configuration
// (store). A change that changed something on this gateway is on
// probation: every tunnel that was up before it and that it kept must be
// up again by the fleet's confirm_window, or the daemon applies the
// confirmed configuration again through the same hitless engine (a
// rollback) and does not apply the rejected files until they change.
// `sitevpn apply --confirm` puts a change on a manual probation instead:
// only `sitevpn confirm` keeps it.

// settleTime is how long a change stays on probation at least: a path it
// broke can look healthy until BGP's hold time (or BFD) says otherwise,
// and a handshake stays fresh for minutes after its peer went silent.
func settleTime(res *pipeline.Result) time.Duration {
	return max(30*time.Second, 3*time.Duration(res.Fleet.BGP.HoldTime)*time.Second)
}

// restore reads what a previous run left: the confirmed configuration,
// the rejected one and a probation cut short (judged anew against the
// tunnels it held, until its own deadline).
func (d *Daemon) restore() {
	if d.ConfirmDir == "" {
		return
	}
	d.store = &store{dir: d.ConfirmDir}
	var errs []error
	var err error
	d.confirmed, _, err = d.store.confirmed()
	errs = append(errs, err)
	d.rejected, err = d.store.rejected()
	errs = append(errs, err)
	d.prob, err = d.store.probation()
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		d.Log.Error("reading the confirmed configuration", "err", err)
	}
	d.describe(nil)
}

// admit decides whether the files, valid, may be applied: not when they
// are the rejected configuration (rejectedInFiles, false when an
// operator asks to apply them anyway).
func (d *Daemon) admit() bool {
	if d.store == nil || !d.rejectedInFiles {
		return true
	}
	d.Log.Warn("the files are the configuration rolled back; the confirmed one stays in force until they change",
		"rejected", d.rejected.Generation, "reason", d.rejected.Reason)
	return false
}

// held is what a change about to be applied must keep: the tunnels up
// now. During a probation it stays the one from before the first change;
// a health reading older than two checks is taken again. res is the
// configuration about to be applied, with its files' digest: at start,
// when they are the confirmed files (a restart), res is what the system
// still runs, and the fleet is not parsed a second time.
func (d *Daemon) held(ctx context.Context, res *pipeline.Result, digest string) []check.Held {
	if d.prob != nil {
		return d.prob.Held
	}
	if d.Check == nil {
		return nil
	}
	if d.good != nil && d.now().Sub(d.checked) < 2*d.Health {
		return check.HeldTunnels(d.current.Health)
	}
	inForce := d.good
	if inForce == nil && d.confirmed != nil && digest == d.confirmed.Digest {
		inForce = res
	}
	if inForce == nil { // at start: the configuration the system still runs
		var err error
		if inForce, err = d.loadConfirmed(); err != nil || inForce == nil {
			return nil
		}
	}
	return check.HeldTunnels(d.Check(ctx, inForce))
}

// judge starts, continues or ends the probation of res, just applied
// (digest: its files'; changed: it changed something on this gateway)
// with held, the tunnels it must keep. manual > 0: `sitevpn apply
// --confirm manual`.
func (d *Daemon) judge(res *pipeline.Result, digest string, changed bool, held []check.Held, manual time.Duration) {
	if d.store == nil {
		return
	}
	now := d.now()
	switch {
	case d.confirmed != nil && digest == d.confirmed.Digest:
		// The confirmed configuration again (files put back, a repair):
		// nothing to judge, even for apply --confirm.
		if d.prob != nil {
			d.Log.Info("the files are the confirmed configuration again: probation over", "generation", d.confirmed.Generation)
			d.endProbation()
		}
	case d.prob != nil && digest == d.prob.Digest && manual == 0:
		// The same change again (SIGHUP, a reconcile): still judged.
	case d.confirmed == nil || (!changed && d.prob == nil && manual == 0) || (res.Fleet.ConfirmWindow == 0 && manual == 0):
		// Nothing to roll back to, nothing changed here, or confirmation off.
		if d.current.ApplyError == "" {
			d.confirm(res, d.nextGeneration())
		}
	default:
		window := res.Fleet.ConfirmWindow
		if manual > 0 {
			window = manual
		}
		gen := d.nextGeneration()
		if d.prob != nil && d.prob.Digest == digest { // now with --confirm
			gen = d.prob.Generation
		}
		p := &probation{
			record:   record{Generation: gen, Digest: digest, At: now},
			Settle:   now.Add(min(settleTime(res), window)),
			Deadline: now.Add(window),
			Manual:   manual > 0,
			Held:     held,
		}
		d.prob = p
		if err := d.store.setProbation(p); err != nil {
			d.Log.Error("recording the probation", "err", err)
		}
		d.Log.Info("configuration on probation", "generation", p.Generation, "until", p.Deadline.Format(time.TimeOnly), "manual", p.Manual, "held", len(held))
	}
	d.describe(nil)
}

// verdict, after each health check: a probation whose held tunnels are
// all up after its settle time is confirmed; one past its deadline is
// rolled back.
func (d *Daemon) verdict(ctx context.Context) {
	p := d.prob
	if p == nil || d.good == nil {
		return
	}
	waiting := check.Regressions(p.Held, d.current.Health)
	if d.current.ApplyError != "" {
		waiting = append(waiting, "the apply failed: "+d.current.ApplyError)
	}
	now := d.now()
	switch {
	case !p.Manual && !now.Before(p.Settle) && len(waiting) == 0:
		d.Log.Info("configuration confirmed: every tunnel it kept is up", "generation", p.Generation)
		d.confirm(d.good, p.Generation)
	case !now.Before(p.Deadline):
		reason := strings.Join(waiting, ", ")
		if p.Manual {
			reason = "not confirmed with `sitevpn confirm` in time" + strings.TrimSuffix("; "+reason, "; ")
		}
		d.rollback(ctx, reason)
	default:
		d.describe(waiting)
	}
}

// confirm makes res the confirmed configuration, as generation gen.
func (d *Daemon) confirm(res *pipeline.Result, gen int) {
	r, err := d.store.confirm(gen, res.Sources, d.now())
	if err != nil {
		d.Log.Error("keeping the confirmed configuration", "err", err)
		return
	}
	d.confirmed = r
	d.endProbation()
	old := filepath.Join(d.ConfirmDir, identity.OldKeyFile)
	if done, err := identity.FinishRotation(old, res.Key); err != nil {
		d.Log.Warn("key rotation confirmed, but the old key could not be removed: remove it by hand", "file", old, "err", err)
	} else if done {
		d.Log.Info("key rotation complete: a configuration with the new key is confirmed; the old key removed", "file", old)
	}
}

func (d *Daemon) endProbation() {
	d.prob = nil
	if err := d.store.setProbation(nil); err != nil {
		d.Log.Error("ending the probation", "err", err)
	}
	d.describe(nil)
}

// rollback applies the confirmed configuration again and rejects the
// probation's files until they change.
func (d *Daemon) rollback(ctx context.Context, reason string) error {
	p := d.prob
	res, err := d.loadConfirmed()
	if err == nil && res == nil {
		err = errors.New("none was kept")
	}
	if err != nil {
		// Nothing to go back to: the change stays, and says so.
		d.Log.Error("cannot roll back: the confirmed configuration does not load; the change stays in force", "generation", p.Generation, "reason", reason, "err", err)
		d.confirm(d.good, p.Generation)
		return fmt.Errorf("the confirmed configuration does not load: %w", err)
	}
	rej := &record{Generation: p.Generation, Digest: p.Digest, At: d.now(), Reason: reason}
	if err := d.store.reject(rej); err != nil {
		d.Log.Error("recording the rejected configuration", "err", err)
	}
	d.rejected, d.rejectedInFiles = rej, true
	d.prob = nil
	if err := d.store.setProbation(nil); err != nil {
		d.Log.Error("ending the probation", "err", err)
	}
	d.Log.Error("rolled back: the change broke tunnels that were up; the confirmed configuration is in force again, and the files are not applied again until they change",
		"rejected", rej.Generation, "generation", d.confirmed.Generation, "reason", reason)
	d.current.Rollbacks++
	d.good = res
	d.apply(ctx, "rollback")
	d.describe(nil)
	return nil
}

// fallBack makes the confirmed configuration the one in force when there
// is none yet (a start with invalid or rejected files).
func (d *Daemon) fallBack() {
	if d.good != nil {
		return
	}
	res, err := d.loadConfirmed()
	if err != nil {
		d.Log.Error("loading the confirmed configuration", "err", err)
	}
	if res != nil {
		d.Log.Info("the confirmed configuration is in force", "generation", d.confirmed.Generation)
		d.good = res
	}
}

// loadConfirmed runs the pipeline on the confirmed files (with this
// gateway's key and identity); nil, nil when none was kept.
func (d *Daemon) loadConfirmed() (*pipeline.Result, error) {
	if d.store == nil {
		return nil, nil
	}
	return d.store.run(d.Options)
}

func (d *Daemon) nextGeneration() int {
	n := 0
	for _, r := range []*record{d.confirmed, d.rejected} {
		if r != nil {
			n = max(n, r.Generation)
		}
	}
	if d.prob != nil {
		n = max(n, d.prob.Generation)
	}
	return n + 1
}

// describe puts the configuration's state into the published State.
func (d *Daemon) describe(waiting []string) {
	if d.store == nil {
		return
	}
	if d.confirmed == nil && d.prob == nil {
		d.current.Configuration = nil
		return
	}
	c := &check.Configuration{State: check.Confirmed}
	if d.confirmed != nil {
		c.Generation = d.confirmed.Generation
	}
	switch {
	case d.prob != nil:
		c = &check.Configuration{Generation: d.prob.Generation, State: check.Probation, Deadline: d.prob.Deadline, Manual: d.prob.Manual, Waiting: waiting}
	case d.rejected != nil && d.rejectedInFiles:
		c.State, c.Rejected, c.Reason = check.RolledBack, d.rejected.Generation, d.rejected.Reason
	}
	d.current.Configuration = c
}
