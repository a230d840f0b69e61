//go:build linux

package link

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
	"golang.zx2c4.com/wireguard/wgctrl"
)

// nsDir is where named namespaces are bind-mounted (ip netns, systemd's
// NetworkNamespacePath=).
const nsDir = "/run/netns"

// space is one network namespace: a handle on it (for setns and for
// moving links into it), a netlink handle whose sockets live in it and,
// once WireGuard is used there, a wgctrl client whose socket lives in it.
// A Kernel keeps its spaces between calls (see handles_linux.go).
type space struct {
	name string          // "main" or the namespace's name, for messages
	ns   netns.NsHandle  // open for the space's life
	id   nsID            // which namespace ns is (private spaces only)
	h    *netlink.Handle // nil after dropHandles until reopen
	wg   *wgctrl.Client  // nil until first used; see withWG
}

// nsID tells namespaces apart: the device and inode of their nsfs file.
// While a handle on one is open it lives, so no new one can get its inode.
type nsID struct{ dev, ino uint64 }

// close releases everything the space holds.
func (s *space) close() {
	s.dropHandles()
	s.ns.Close()
}

// dropHandles closes the sockets but keeps the namespace: reopen makes
// them again.
func (s *space) dropHandles() {
	if s.h != nil {
		s.h.Close()
		s.h = nil
	}
	if s.wg != nil {
		s.wg.Close()
		s.wg = nil
	}
}

// reopen makes the netlink handle again after dropHandles. Unlike
// openMain's first open it enters the namespace, which needs
// CAP_SYS_ADMIN: only a call that failed drops handles, and every call
// that changes anything needs root anyway.
func (s *space) reopen() error {
	if s.h != nil {
		return nil
	}
	h, err := netlink.NewHandleAt(s.ns)
	if err != nil {
		return fmt.Errorf("netlink in namespace %s: %w", s.name, err)
	}
	s.h = h
	return nil
}

// openMain opens the calling thread's namespace. The netlink sockets are
// made on the same (locked) thread with no setns, which would need
// CAP_SYS_ADMIN even to re-enter the namespace the thread is already in.
func openMain() (*space, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ns, err := netns.Get()
	if err != nil {
		return nil, fmt.Errorf("opening the main namespace: %w", err)
	}
	h, err := netlink.NewHandle()
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("netlink in the main namespace: %w", err)
	}
	return &space{name: "main", ns: ns, h: h}, nil
}

func openPrivate(name string) (*space, error) {
	ok, err := namespaceExists(name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s (the namespace's unit creates it)", errNoNamespace, filepath.Join(nsDir, name))
	}
	ns, err := netns.GetFromPath(filepath.Join(nsDir, name))
	if err != nil {
		return nil, fmt.Errorf("opening namespace %q: %w", name, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(ns), &st); err != nil {
		ns.Close()
		return nil, fmt.Errorf("reading namespace %q: %w", name, err)
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("netlink in namespace %q: %w", name, err)
	}
	return &space{name: name, ns: ns, id: nsID{uint64(st.Dev), uint64(st.Ino)}, h: h}, nil
}

// isNamed reports whether /run/netns/<name> is still the namespace s
// holds: it is not once the namespace was deleted (its mount is gone)
// or deleted and created again (another namespace is mounted there).
func (s *space) isNamed(name string) bool { return namedID(name) == s.id }

// namedID is which namespace /run/netns/<name> is now; zero if none.
func namedID(name string) nsID {
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(nsDir, name), &st); err != nil {
		return nsID{}
	}
	return nsID{uint64(st.Dev), uint64(st.Ino)}
}

// namespaceExists reports whether /run/netns/<name> is a mounted network
// namespace. A plain file left behind (a half-done "ip netns add", a
// stopped unit whose mount is gone) is not one: nothing can enter it.
func namespaceExists(name string) (bool, error) {
	var st unix.Statfs_t
	err := unix.Statfs(filepath.Join(nsDir, name), &st)
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking namespace %q: %w", name, err)
	}
	return st.Type == unix.NSFS_MAGIC, nil
}

// inNamespace runs fn on an OS thread that is in namespace ns, for what
// has no namespace option: wgctrl's genetlink socket is bound to the
// namespace of the thread that creates it, so fn must create its client
// itself. The calling goroutine's thread is never moved.
//
// The thread is restored to its original namespace before it is unlocked
// and returned to the scheduler; if restoring fails it stays locked, so
// the runtime kills it when the goroutine ends instead of running other
// goroutines in the wrong namespace.
func inNamespace(ns netns.NsHandle, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread() // not moved yet
			done <- fmt.Errorf("reading the thread's namespace: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			runtime.UnlockOSThread() // setns failed: the thread did not move
			done <- fmt.Errorf("entering namespace: %w", err)
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			// Stay locked: the thread dies with this goroutine.
			done <- errors.Join(ferr, fmt.Errorf("leaving namespace: %w", err))
			return
		}
		runtime.UnlockOSThread()
		done <- ferr
	}()
	return <-done
}
