package confirm

import (
	"reflect"
	"testing"
	"time"

	"github.com/sitevpn/sitevpn/internal/check"
)

var t0 = time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func rec(gen int, digest string) *Record { return &Record{Generation: gen, Digest: digest, At: t0} }

func prob(gen int, digest string, manual bool) *Probation {
	return &Probation{Record: Record{Generation: gen, Digest: digest, At: t0}, Settle: at(30), Deadline: at(600), Manual: manual}
}

var held = []check.Held{{Interface: "wg3"}}

// Applied, as a table: the state before, the apply, the decisions.
func TestApplied(t *testing.T) {
	win := Applied{At: t0, Digest: "B", Changed: true, Window: 600 * time.Second, Settle: 30 * time.Second, Held: held}
	with := func(f func(*Applied)) Applied { e := win; f(&e); return e }
	probation := func(gen int, digest string, settle, deadline int, manual bool) []Decision {
		return []Decision{{Kind: Probate, Why: "configuration on probation", Probation: &Probation{
			Record: Record{Generation: gen, Digest: digest, At: t0}, Settle: at(settle), Deadline: at(deadline), Manual: manual, Held: held}}}
	}
	confirm := func(gen int, digest string) []Decision {
		return []Decision{{Kind: Confirm, Record: Record{Generation: gen, Digest: digest, At: t0}, Why: "configuration confirmed: nothing to judge (nothing to go back to, nothing changed here, or confirm_window 0)"}}
	}
	for _, c := range []struct {
		name  string
		state State
		ev    Applied
		want  []Decision
	}{
		{"a change that changed something: probation", State{Confirmed: rec(1, "A")}, win, probation(2, "B", 30, 600, false)},
		{"nothing confirmed yet: confirmed at once", State{}, win, confirm(1, "B")},
		{"nothing confirmed yet, the apply failed: nothing", State{}, with(func(e *Applied) { e.Failed = true }), nil},
		{"nothing changed here: confirmed", State{Confirmed: rec(1, "A")}, with(func(e *Applied) { e.Changed = false }), confirm(2, "B")},
		{"confirm_window 0: confirmed", State{Confirmed: rec(1, "A")}, with(func(e *Applied) { e.Window = 0 }), confirm(2, "B")},
		{"confirm_window 0 but apply --confirm: probation until its end", State{Confirmed: rec(1, "A")}, with(func(e *Applied) { e.Window, e.Manual = 0, 120*time.Second }), probation(2, "B", 30, 120, true)},
		{"apply --confirm shorter than the settle time settles at its end", State{Confirmed: rec(1, "A")}, with(func(e *Applied) { e.Manual = 20 * time.Second }), probation(2, "B", 20, 20, true)},
		{"the confirmed files again end a probation", State{Confirmed: rec(1, "A"), Probation: prob(2, "B", false)}, with(func(e *Applied) { e.Digest = "A" }),
			[]Decision{{Kind: End, Why: "the files are the confirmed configuration again: probation over"}}},
		{"the confirmed files again, nothing on probation: nothing", State{Confirmed: rec(1, "A")}, with(func(e *Applied) { e.Digest = "A" }), nil},
		{"the same change again (a reconcile): still judged", State{Confirmed: rec(1, "A"), Probation: prob(2, "B", false)}, win, nil},
		{"the same change with --confirm: the same generation, now manual", State{Confirmed: rec(1, "A"), Probation: prob(2, "B", false)}, with(func(e *Applied) { e.Manual = 60 * time.Second }), probation(2, "B", 30, 60, true)},
		{"another change during a probation: the next generation, judged anew", State{Confirmed: rec(1, "A"), Probation: prob(2, "B", false)}, with(func(e *Applied) { e.Digest = "C" }), probation(3, "C", 30, 600, false)},
		{"after a rollback: the next generation passes the rejected one", State{Confirmed: rec(1, "A"), Rejected: rec(4, "R")}, win, probation(5, "B", 30, 600, false)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.state.Applied(c.ev); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// Checked, as a table: a probation's verdict at each health reading.
func TestChecked(t *testing.T) {
	on := State{Confirmed: rec(1, "A"), Probation: prob(2, "B", false)}
	manual := State{Confirmed: rec(1, "A"), Probation: prob(2, "B", true)}
	confirmed := []Decision{{Kind: Confirm, Record: on.Probation.Record, Why: "configuration confirmed: every tunnel it kept is up"}}
	rolled := func(reason string) []Decision {
		return []Decision{{Kind: RollBack, Record: Record{Generation: 2, Digest: "B", At: at(600), Reason: reason}, Why: reason}}
	}
	for _, c := range []struct {
		name    string
		state   State
		at      int
		waiting []string
		want    []Decision
	}{
		{"nothing on probation", State{Confirmed: rec(1, "A")}, 600, nil, nil},
		{"all up before the settle time: still judged", on, 29, nil, nil},
		{"all up at the settle time: confirmed", on, 30, nil, confirmed},
		{"waiting before the deadline: still judged", on, 599, []string{"wg3 (v3-1) down"}, nil},
		{"waiting at the deadline: rolled back, saying what", on, 600, []string{"wg3 (v3-1) down", "wg4 (v3-2) down"}, rolled("wg3 (v3-1) down, wg4 (v3-2) down")},
		{"manual, all up: only sitevpn confirm keeps it", manual, 300, nil, nil},
		{"manual, at the deadline: rolled back", manual, 600, nil, rolled("not confirmed with `sitevpn confirm` in time")},
		{"manual, at the deadline, waiting too", manual, 600, []string{"the apply failed: x"}, rolled("not confirmed with `sitevpn confirm` in time; the apply failed: x")},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.state.Checked(at(c.at), c.waiting); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// Commit, as a table: the state once each decision is carried out; a
// decision not committed (the store failed) leaves the state as it was.
func TestCommit(t *testing.T) {
	on := State{Confirmed: rec(1, "A"), Probation: prob(2, "B", false)}
	for _, c := range []struct {
		name  string
		state State
		d     Decision
		want  State
	}{
		{"confirm ends the probation", on, Decision{Kind: Confirm, Record: *rec(2, "B")}, State{Confirmed: rec(2, "B")}},
		{"probate", State{Confirmed: rec(1, "A")}, Decision{Kind: Probate, Probation: prob(2, "B", false)}, on},
		{"end", on, Decision{Kind: End}, State{Confirmed: rec(1, "A")}},
		{"rollback rejects, and the files are the rejected ones", on, Decision{Kind: RollBack, Record: Record{Generation: 2, Digest: "B", At: t0, Reason: "r"}},
			State{Confirmed: rec(1, "A"), Rejected: &Record{Generation: 2, Digest: "B", At: t0, Reason: "r"}, RejectedInFiles: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.state.Commit(c.d); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// A bad change from push to fix, event after event, each decision
// committed as the daemon would once it carried it out.
func TestBadChangeRolledBackAndNotAppliedAgain(t *testing.T) {
	s := State{Confirmed: rec(1, "A")}
	step := func(ds []Decision, want Kind) {
		t.Helper()
		if len(ds) != 1 || ds[0].Kind != want {
			t.Fatalf("decisions %+v, want one %s", ds, want)
		}
		s = s.Commit(ds[0])
	}
	var ok bool
	if s, ok = s.Admit("B", false); !ok {
		t.Fatal("new files refused")
	}
	step(s.Applied(Applied{At: t0, Digest: "B", Changed: true, Window: 600 * time.Second, Settle: 30 * time.Second, Held: held}), Probate)
	if ds := s.Checked(at(300), []string{"wg3 (v3-1) down"}); ds != nil {
		t.Fatalf("judged early: %+v", ds)
	}
	step(s.Checked(at(600), []string{"wg3 (v3-1) down"}), RollBack)
	if c := s.Describe(nil); c.State != check.RolledBack || c.Rejected != 2 || c.Generation != 1 {
		t.Errorf("after the rollback: %+v", c)
	}
	// SIGHUP: the same files are refused; an operator's apply forces them.
	if _, ok = s.Admit("B", false); ok {
		t.Error("the rejected files admitted again")
	}
	if _, ok = s.Admit("B", true); !ok {
		t.Error("the rejected files refused to an operator's apply")
	}
	// Fixed files: admitted, judged as the next generation.
	if s, ok = s.Admit("C", false); !ok {
		t.Fatal("fixed files refused")
	}
	step(s.Applied(Applied{At: at(700), Digest: "C", Changed: true, Window: 600 * time.Second, Settle: 30 * time.Second}), Probate)
	if s.Probation.Generation != 3 {
		t.Errorf("the fix is generation %d, want 3", s.Probation.Generation)
	}
	step(s.Checked(at(730), nil), Confirm)
	if c := s.Describe(nil); c.State != check.Confirmed || c.Generation != 3 {
		t.Errorf("after the fix: %+v", c)
	}
}

// The operator's answers, and a rollback that cannot be carried out.
func TestOperator(t *testing.T) {
	on := State{Confirmed: rec(1, "A"), Probation: prob(2, "B", true)}
	if _, ok := (State{Confirmed: rec(1, "A")}).ConfirmNow(); ok {
		t.Error("confirm with nothing on probation")
	}
	if _, ok := (State{Confirmed: rec(1, "A")}).RollBackNow(t0); ok {
		t.Error("rollback with nothing on probation")
	}
	if ds, ok := on.ConfirmNow(); !ok || ds[0].Kind != Confirm || ds[0].Record != on.Probation.Record {
		t.Errorf("confirm: %+v", ds)
	}
	if ds, ok := on.RollBackNow(at(10)); !ok || ds[0].Kind != RollBack || ds[0].Record.Reason != "rolled back by `sitevpn rollback`" {
		t.Errorf("rollback: %+v", ds)
	}
	if d := on.Keep(); d.Kind != Confirm || d.Record.Generation != 2 {
		t.Errorf("keep: %+v", d)
	}
	if ds := on.FirstApply(t0, "B"); ds != nil {
		t.Errorf("first apply during a probation: %+v", ds)
	}
	if ds := (State{}).FirstApply(t0, "A"); len(ds) != 1 || ds[0].Record.Generation != 1 {
		t.Errorf("first apply: %+v", ds)
	}
}
