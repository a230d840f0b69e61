//go:build linux

package link

import (
	"context"
	"errors"
	"io/fs"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/sitevpn/sitevpn/internal/kernel"
)

// The private namespace's handles are kept between calls, and let go of
// when the namespace is deleted, then opened on the new one when it is
// created again (its unit restarted, or an operator's ip netns del/add):
// handles kept on the old namespace would keep it alive, and a LAN moved
// through them would vanish with it.
func TestIntegrationNamespaceRecreated(t *testing.T) {
	privileged(t)
	ctx := context.Background()
	k, main, priv := newKernel(t, mustPrivateKey(t), true)
	main.addLink(t, "lan0")
	priv.addLink(t, "old0")
	q := kernel.Query{Namespace: priv.name, LANs: []string{"lan0", "old0", "new0"}}

	st := observe(t, k, q)
	if !st.NamespaceExists || !st.LANs["old0"].Exists || st.LANs["old0"].InMain {
		t.Fatalf("before: %+v, want the namespace with old0 in it", st)
	}
	kept, keptH := k.priv, k.priv.h
	if err := k.SetMTU(ctx, "old0", 1400); err != nil {
		t.Fatal(err)
	}
	if k.priv != kept || k.priv.h != keptH {
		t.Fatal("the private namespace's handles were not kept from one call to the next")
	}

	// Deleted: the old namespace lives on (this test and, until its next
	// call, the kernel hold it), but it is no longer the private one.
	if err := netns.DeleteNamed(priv.name); err != nil {
		t.Fatal(err)
	}
	st = observe(t, k, q)
	if st.NamespaceExists || st.LANs["old0"].Exists {
		t.Errorf("deleted: %+v, want no namespace and no old0", st)
	}
	if k.priv != nil {
		t.Error("the kernel still holds the deleted namespace")
	}
	if err := k.MoveLAN(ctx, "lan0"); !errors.Is(err, fs.ErrNotExist) || !main.has(t, "lan0") {
		t.Errorf("MoveLAN without the namespace: %v, want ErrNotExist and lan0 left in main", err)
	}

	// Created again, with another link in it.
	again := recreate(t, priv.name)
	again.addLink(t, "new0")
	st = observe(t, k, q)
	if !st.NamespaceExists || st.LANs["old0"].Exists || !st.LANs["new0"].Exists || st.LANs["new0"].InMain {
		t.Errorf("re-created: %+v, want the new namespace with new0 and without old0", st)
	}
	if err := k.MoveLAN(ctx, "lan0"); err != nil {
		t.Fatal(err)
	}
	if !again.has(t, "lan0") || priv.has(t, "lan0") {
		t.Error("lan0 was not moved into the re-created namespace")
	}
	if err := k.SetMTU(ctx, "new0", 1400); err != nil {
		t.Errorf("SetMTU in the re-created namespace: %v", err)
	}
}

// A call that fails drops the kept handles and the next one opens them
// again; a missing link is an answer, not a failure, and keeps them.
func TestIntegrationHandlesReopenAfterFailure(t *testing.T) {
	privileged(t)
	ctx := context.Background()
	k, _, priv := newKernel(t, mustPrivateKey(t), true)
	priv.addLink(t, "lan0")
	if err := k.SetUp(ctx, "lan0"); err != nil {
		t.Fatal(err)
	}
	kept := k.priv
	if err := k.SetUp(ctx, "absent0"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("SetUp(absent0) = %v, want ErrNotExist", err)
	}
	if k.priv != kept {
		t.Error("a missing link dropped the handles")
	}
	if err := k.SetMTU(ctx, "lan0", 1<<20); err == nil {
		t.Fatal("an MTU of 1 MiB was accepted")
	}
	if k.priv != nil || k.main.h != nil {
		t.Error("a failed call kept its handles")
	}
	if err := k.SetMTU(ctx, "lan0", 1400); err != nil {
		t.Fatalf("after a failure: %v", err)
	}
	if k.priv == nil || k.main.h == nil {
		t.Error("the handles were not opened again")
	}
}

func observe(t *testing.T, k *Kernel, q kernel.Query) kernel.State {
	t.Helper()
	st, err := k.Observe(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// recreate creates namespace name again after it was deleted; the
// cleanup of the testNS that first had the name deletes it.
func recreate(t *testing.T, name string) *testNS {
	t.Helper()
	ns, err := createNamed(name)
	if err != nil {
		t.Fatalf("creating namespace %s again: %v", name, err)
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		ns.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.Close()
		ns.Close()
	})
	return &testNS{name: name, ns: ns, h: h}
}
