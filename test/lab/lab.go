//go:build lab

// Package lab boots Debian 12 VMs under QEMU (software emulation) wired by
// multicast L2 segments, so end-to-end tests run sitevpn against real
// systemd-networkd, kernel WireGuard and BIRD 2. README.md beside this
// file has the measured facts behind every choice here.
package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Image is a built base image: the VMs boot its kernel and initrd and get a
// copy-on-write overlay of its disk.
type Image struct {
	Dir    string // cache directory holding the three files
	Disk   string // base.raw (ext4, root=/dev/vda)
	Kernel string // vmlinuz
	Initrd string // initrd
}

// labDir is test/lab in the source tree, found from this file so the harness
// works whatever the test's working directory.
func labDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// BuildImage runs image.sh, which builds the image or, when its inputs did
// not change, only prints where the cached one is.
func BuildImage(ctx context.Context) (Image, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(labDir(), "image.sh"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Image{}, fmt.Errorf("image.sh: %w\n%s", err, tail(stderr.String(), 30))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	dir := lines[len(lines)-1]
	img := Image{
		Dir:    dir,
		Disk:   filepath.Join(dir, "base.raw"),
		Kernel: filepath.Join(dir, "vmlinuz"),
		Initrd: filepath.Join(dir, "initrd"),
	}
	for _, f := range []string{img.Disk, img.Kernel, img.Initrd} {
		if _, err := os.Stat(f); err != nil {
			return Image{}, fmt.Errorf("image.sh printed %q: %w", dir, err)
		}
	}
	return img, nil
}

// Segment is one L2 segment ("the internet", a site LAN): a multicast group
// on 127.0.0.1 that every NIC on it joins. It needs no host privileges.
type Segment struct {
	Name string
	Port int
}

func (s *Segment) netdev(id string) string {
	return fmt.Sprintf("socket,id=%s,mcast=230.0.0.1:%d,localaddr=127.0.0.1", id, s.Port)
}

// Lab is one run: its VMs, segments and work directory.
type Lab struct {
	Dir   string // work directory: one subdirectory per VM
	Image Image

	// logf, when set (ForTest), carries the harness's LABTIME lines: the
	// table at the end of make check reads them from the test log.
	logf func(format string, args ...any)
	name string // the test's, first on each LABTIME line

	mu       sync.Mutex
	segments []*Segment
	vms      []*VM
	portBase int
}

// New prepares a run in dir, which it creates. Segment ports are derived
// from this process's PID, so concurrent runs on one machine do not share
// segments.
func New(img Image, dir string) (*Lab, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &Lab{Dir: dir, Image: img, portBase: 20000 + os.Getpid()%2000*20}, nil
}

// Segment makes a new L2 segment. A run has at most 20 of them.
func (l *Lab) Segment(name string) *Segment {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.segments) == 20 {
		panic("lab: more than 20 segments in one run")
	}
	s := &Segment{Name: name, Port: l.portBase + len(l.segments)}
	l.segments = append(l.segments, s)
	return s
}

// VMs returns the VMs made so far, in creation order.
func (l *Lab) VMs() []*VM {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*VM(nil), l.vms...)
}

// Boot starts every VM that is not running yet, all at once, and waits
// until each one's guest agent answers (each VM gets the whole timeout:
// they boot side by side, sharing the CPUs).
func (l *Lab) Boot(ctx context.Context, timeout time.Duration) error {
	vms := l.VMs()
	start := time.Now()
	defer func() { l.Timed(fmt.Sprintf("boot %d VMs", len(vms)), start) }()
	for _, vm := range vms {
		if !vm.Running() {
			if err := vm.Start(ctx); err != nil {
				return err
			}
		}
	}
	return eachVM(vms, func(vm *VM) error { return vm.WaitAgent(ctx, timeout) })
}

// Timed logs how long what took since start, as a LABTIME line for make
// check's closing table.
func (l *Lab) Timed(what string, start time.Time) {
	if l.logf != nil {
		l.logf("LABTIME %s: %s %.1fs", l.name, what, time.Since(start).Seconds())
	}
}

// eachVM runs f on every VM concurrently and joins the errors.
func eachVM(vms []*VM, f func(*VM) error) error {
	errs := make([]error, len(vms))
	var wg sync.WaitGroup
	for i, vm := range vms {
		wg.Go(func() { errs[i] = f(vm) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Close stops every VM of the run, all at once (a clean shutdown takes
// seconds under emulation).
func (l *Lab) Close(ctx context.Context) error {
	return eachVM(l.VMs(), func(vm *VM) error { return vm.Stop(ctx) })
}

// ConsoleTails returns the last n console lines of every VM, for a failed
// test's log.
func (l *Lab) ConsoleTails(n int) string {
	var b strings.Builder
	for _, vm := range l.VMs() {
		fmt.Fprintf(&b, "--- %s console (last %d lines) ---\n%s\n", vm.Name, n, vm.ConsoleTail(n))
	}
	return b.String()
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// since is a short duration for logs.
func since(t time.Time) time.Duration { return time.Since(t).Round(100 * time.Millisecond) }
