package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/confirm"
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
	d.cs.Confirmed, _, err = d.store.confirmed()
	errs = append(errs, err)
	d.cs.Rejected, err = d.store.rejected()
	errs = append(errs, err)
	d.cs.Probation, err = d.store.probation()
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		d.Log.Error("reading the confirmed configuration", "err", err)
	}
	d.describe(nil)
}

// admit decides whether the files (digest), valid, may be applied: not
// when they are the rejected configuration, unless forced (an operator
// asks to apply them anyway).
func (d *Daemon) admit(digest string, force bool) bool {
	if d.store == nil {
		return true
	}
	var ok bool
	d.cs, ok = d.cs.Admit(digest, force)
	if !ok {
		d.Log.Warn("the files are the configuration rolled back; the confirmed one stays in force until they change",
			"rejected", d.cs.Rejected.Generation, "reason", d.cs.Rejected.Reason)
	}
	return ok
}

// held is what a change about to be applied must keep: the tunnels up
// now. During a probation it stays the one from before the first change;
// a health reading older than two checks is taken again. res is the
// configuration about to be applied, with its files' digest: at start,
// when they are the confirmed files (a restart), res is what the system
// still runs, and the fleet is not parsed a second time.
func (d *Daemon) held(ctx context.Context, res *pipeline.Result, digest string) []check.Held {
	if d.cs.Probation != nil {
		return d.cs.Probation.Held
	}
	if d.Check == nil {
		return nil
	}
	if d.good != nil && d.now().Sub(d.checked) < 2*d.Health {
		return check.HeldTunnels(d.current.Health)
	}
	inForce := d.good
	if inForce == nil && d.cs.Confirmed != nil && digest == d.cs.Confirmed.Digest {
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

// judge hands the machine res, just applied (digest: its files';
// changed: it changed something on this gateway), with held, the tunnels
// it must keep; manual > 0: `sitevpn apply --confirm manual`.
func (d *Daemon) judge(ctx context.Context, res *pipeline.Result, digest string, changed bool, held []check.Held, manual time.Duration) {
	if d.store == nil {
		return
	}
	d.carryOut(ctx, d.cs.Applied(confirm.Applied{
		At: d.now(), Digest: digest, Changed: changed, Failed: d.current.ApplyError != "",
		Window: res.Fleet.ConfirmWindow, Settle: confirm.SettleTime(time.Duration(res.Fleet.BGP.HoldTime) * time.Second),
		Manual: manual, Held: held,
	}))
	d.describe(nil)
}

// verdict, after each health check: the machine's verdict on the
// probation, from what it still waits for.
func (d *Daemon) verdict(ctx context.Context) {
	p := d.cs.Probation
	if p == nil || d.good == nil {
		return
	}
	waiting := check.Regressions(p.Held, d.current.Health)
	if d.current.ApplyError != "" {
		waiting = append(waiting, "the apply failed: "+d.current.ApplyError)
	}
	if ds := d.cs.Checked(d.now(), waiting); len(ds) > 0 {
		d.carryOut(ctx, ds)
		return
	}
	d.describe(waiting)
}

// carryOut does what the machine decided and commits each decision it
// could carry out. The configuration to confirm is always the one in
// force.
func (d *Daemon) carryOut(ctx context.Context, ds []confirm.Decision) error {
	if len(ds) == 0 {
		return nil
	}
	var errs []error
	for _, dc := range ds {
		var err error
		switch dc.Kind {
		case confirm.Confirm:
			err = d.confirm(dc)
		case confirm.Probate:
			p := dc.Probation
			d.Log.Info(dc.Why, "generation", p.Generation, "until", p.Deadline.Format(time.TimeOnly), "manual", p.Manual, "held", len(p.Held))
			d.record(dc, d.store.setProbation(p), "recording the probation")
		case confirm.End:
			d.Log.Info(dc.Why, "generation", d.cs.Confirmed.Generation)
			d.record(dc, d.store.setProbation(nil), "ending the probation")
		case confirm.RollBack:
			err = d.rollback(ctx, dc)
		}
		errs = append(errs, err)
	}
	d.describe(nil)
	return errors.Join(errs...)
}

// record commits dc whether or not the store kept it (the state in
// memory is the one in force; an error is logged).
func (d *Daemon) record(dc confirm.Decision, err error, what string) {
	if err != nil {
		d.Log.Error(what, "err", err)
	}
	d.cs = d.cs.Commit(dc)
}

// confirm keeps the configuration in force as dc's generation; it is
// committed only once the store kept it.
func (d *Daemon) confirm(dc confirm.Decision) error {
	d.Log.Info(dc.Why, "generation", dc.Record.Generation)
	r, err := d.store.confirm(dc.Record.Generation, d.good.Sources, d.now())
	if err != nil {
		d.Log.Error("keeping the confirmed configuration", "err", err)
		return err
	}
	wasOn := d.cs.Probation != nil
	dc.Record = *r // as the store keeps it: what a restart reads
	d.cs = d.cs.Commit(dc)
	if wasOn {
		if err := d.store.setProbation(nil); err != nil {
			d.Log.Error("ending the probation", "err", err)
		}
	}
	old := filepath.Join(d.ConfirmDir, identity.OldKeyFile)
	if done, err := identity.FinishRotation(old, d.good.Key); err != nil {
		d.Log.Warn("key rotation confirmed, but the old key could not be removed: remove it by hand", "file", old, "err", err)
	} else if done {
		d.Log.Info("key rotation complete: a configuration with the new key is confirmed; the old key removed", "file", old)
	}
	return nil
}

// rollback applies the confirmed configuration again and rejects the
// probation's files until they change; when the confirmed configuration
// does not load, the change stays, confirmed.
func (d *Daemon) rollback(ctx context.Context, dc confirm.Decision) error {
	res, err := d.loadConfirmed()
	if err == nil && res == nil {
		err = errors.New("none was kept")
	}
	if err != nil {
		d.Log.Error("cannot roll back: the confirmed configuration does not load; the change stays in force", "generation", dc.Record.Generation, "reason", dc.Record.Reason, "err", err)
		d.confirm(d.cs.Keep())
		return fmt.Errorf("the confirmed configuration does not load: %w", err)
	}
	rej := dc.Record
	if err := d.store.reject(&rej); err != nil {
		d.Log.Error("recording the rejected configuration", "err", err)
	}
	d.record(dc, d.store.setProbation(nil), "ending the probation")
	d.Log.Error("rolled back: the change broke tunnels that were up; the confirmed configuration is in force again, and the files are not applied again until they change",
		"rejected", rej.Generation, "generation", d.cs.Confirmed.Generation, "reason", rej.Reason)
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
		d.Log.Info("the confirmed configuration is in force", "generation", d.cs.Confirmed.Generation)
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

// describe puts the configuration's state into the published State.
func (d *Daemon) describe(waiting []string) {
	if d.store == nil {
		return
	}
	d.current.Configuration = d.cs.Describe(waiting)
}
