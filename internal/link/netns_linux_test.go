//go:build linux

package link

import (
	"errors"
	"os"
	"runtime"
	"sync"
	"testing"

	"github.com/vishvananda/netns"
)

// threadNS returns the namespace of the calling goroutine's thread.
func threadNS(t *testing.T) netns.NsHandle {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	h, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestIntegrationInNamespace(t *testing.T) {
	privileged(t)
	n := newTestNS(t)
	before := threadNS(t)
	defer before.Close()
	if before.Equal(n.ns) {
		t.Fatal("the test already runs in the test namespace")
	}

	var inside netns.NsHandle
	err := inNamespace(n.ns, func() error {
		var err error
		inside, err = netns.Get()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer inside.Close()
	if !inside.Equal(n.ns) {
		t.Errorf("fn ran in %v, want the namespace %v", inside, n.ns)
	}
	after := threadNS(t)
	defer after.Close()
	if !after.Equal(before) {
		t.Errorf("calling thread moved: %v -> %v", before, after)
	}

	want := errors.New("from fn")
	if err := inNamespace(n.ns, func() error { return want }); !errors.Is(err, want) {
		t.Errorf("fn's error: got %v", err)
	}

	// A handle that is not a namespace: setns fails, fn does not run.
	f, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ran := false
	if err := inNamespace(netns.NsHandle(f.Fd()), func() error { ran = true; return nil }); err == nil || ran {
		t.Errorf("entering /dev/null: err %v, fn ran %v", err, ran)
	}
}

// Many goroutines in and out of a namespace at once; afterwards every
// thread the scheduler hands out is back in the original namespace.
func TestIntegrationInNamespaceNoLeak(t *testing.T) {
	privileged(t)
	n := newTestNS(t)
	orig := threadNS(t)
	defer orig.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- inNamespace(n.ns, func() error { runtime.Gosched(); return nil })
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	for range 256 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := threadNS(t)
			defer h.Close()
			if !h.Equal(orig) {
				mu.Lock()
				t.Errorf("a thread was left in %v", h)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func TestIntegrationNamespaceExists(t *testing.T) {
	privileged(t)
	n := newTestNS(t)
	if ok, err := namespaceExists(n.name); !ok || err != nil {
		t.Errorf("namespaceExists(%s) = %v, %v; want true", n.name, ok, err)
	}
	if ok, err := namespaceExists(n.name + "-absent"); ok || err != nil {
		t.Errorf("namespaceExists(absent) = %v, %v; want false, nil", ok, err)
	}
	// A plain file where the mount should be (left by a failed "ip netns
	// add") is not a namespace.
	stale := n.name + "-file"
	if err := os.WriteFile(nsPath(stale), nil, 0o444); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(nsPath(stale))
	if ok, err := namespaceExists(stale); ok || err != nil {
		t.Errorf("namespaceExists(plain file) = %v, %v; want false, nil", ok, err)
	}
}
