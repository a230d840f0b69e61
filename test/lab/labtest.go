//go:build lab

package lab

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ForTest builds (or reuses) the image and starts a run in
// test/lab/work/<test name>-<pid>. When the test ends every VM is stopped; a
// failed test logs every console's tail and keeps the directory (disks,
// console.log, shares) as evidence, a passed one removes it.
func ForTest(t testing.TB) *Lab {
	t.Helper()
	l := newRun(t, t.Name())
	t.Cleanup(func() {
		if t.Failed() {
			l.keepEvidence(t)
		}
		l.close(t, !t.Failed())
	})
	return l
}

// newRun builds (or reuses) the image and prepares a run named name in
// test/lab/work/<name>-<pid>; its LABTIME lines go to t's log.
func newRun(t testing.TB, name string) *Lab {
	t.Helper()
	work := filepath.Join(labDir(), "work")
	reapStale(work)
	start := time.Now()
	img, err := BuildImage(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("image %s ready in %s", img.Dir, since(start))
	t.Logf("LABTIME %s: image.sh %.1fs", t.Name(), time.Since(start).Seconds())
	name = strings.NewReplacer("/", "_", " ", "_").Replace(name)
	dir := filepath.Join(work, fmt.Sprintf("%s-%d", name, os.Getpid()))
	os.RemoveAll(dir) // a previous run in this same process (go test -count)
	l, err := New(img, dir)
	if err != nil {
		t.Fatal(err)
	}
	l.name, l.logf = t.Name(), t.Logf
	return l
}

// keepEvidence writes every console's tail to the run's directory, not
// after the failure: a log's tail then shows what failed (a WaitFor's
// error carries the console of the VM it waited on).
func (l *Lab) keepEvidence(t testing.TB) {
	consoles := filepath.Join(l.Dir, "consoles-at-failure.txt")
	if err := os.WriteFile(consoles, []byte(l.ConsoleTails(40)), 0o644); err != nil {
		consoles = err.Error()
	}
	t.Logf("lab directory kept: %s (every VM's console tail: %s)", l.Dir, consoles)
	holdOnFailure(t, l.Dir)
}

// close stops every VM, with its own deadline (t.Context is already
// canceled in a cleanup), and removes the run's directory when remove.
func (l *Lab) close(t testing.TB, remove bool) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := l.Close(ctx); err != nil {
		t.Errorf("stopping the lab: %v", err)
	}
	if remove {
		os.RemoveAll(l.Dir)
	}
}

// reapStale kills the VMs of runs whose test process is gone (a test killed
// by its timeout cannot stop its VMs) and removes those runs' disks, keeping
// their console logs. Runs are named <test>-<pid>.
func reapStale(work string) {
	runs, _ := filepath.Glob(filepath.Join(work, "*-*"))
	for _, run := range runs {
		pid, err := strconv.Atoi(run[strings.LastIndexByte(run, '-')+1:])
		if err != nil || pid == os.Getpid() || syscall.Kill(pid, 0) == nil {
			continue
		}
		copies, _ := filepath.Glob(filepath.Join(run, "*", "qemu.pid.copy"))
		for _, c := range copies {
			b, _ := os.ReadFile(c)
			qpid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err == nil && isQEMU(qpid, filepath.Dir(c)) {
				syscall.Kill(qpid, syscall.SIGKILL)
			}
			os.Remove(c)
			os.Remove(filepath.Join(filepath.Dir(c), "disk.qcow2"))
		}
	}
}

// holdOnFailure keeps a failed run's VMs up for a post-mortem when
// SITEVPN_LAB_HOLD is set: it creates dir/HOLD and waits until someone
// removes it (or 30 minutes pass). Meanwhile each VM's guest agent socket
// is dir/<vm>/qga.sock.
func holdOnFailure(t testing.TB, dir string) {
	if os.Getenv("SITEVPN_LAB_HOLD") == "" {
		return
	}
	hold := filepath.Join(dir, "HOLD")
	if err := os.WriteFile(hold, nil, 0o644); err != nil {
		return
	}
	t.Logf("SITEVPN_LAB_HOLD: VMs kept running until %s is removed", hold)
	for end := time.Now().Add(30 * time.Minute); time.Now().Before(end); time.Sleep(time.Second) {
		if _, err := os.Stat(hold); err != nil {
			return
		}
	}
}
