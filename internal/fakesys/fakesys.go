// Package fakesys is a fake gateway for tests: systemd, networkd, BIRD
// and the kernel, with the files under a root directory. Every query and
// argument it receives is honoured (a fake that ignores its arguments
// cannot fail), and it prints its state as sorted lines, so tests of apply,
// gateway and daemon compare runs and orders.
package fakesys

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/kernel"
	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/render"
)

// System is a fake gateway: systemd, networkd, BIRD and the kernel, with
// the files under root. It remembers what each service last loaded, so a
// test can check that what runs is what is on disk, and counts calls.
type System struct {
	Root  string
	Me    wgtypes.Key // public key of the kernel's private key
	Calls []string

	Units    map[string]string // unit -> file content it runs with ("" = stopped)
	Loaded   map[string]string // unit -> file content at the last daemon-reload
	Networkd string            // networkd files at the last reload
	Bird     string            // configuration BIRD runs
	Fail     map[string]error  // call -> error to return, once

	NS      bool
	Tunnels map[string]*kernel.Tunnel
	LANs    map[string]*kernel.LAN
	Queries []kernel.Query // every Observe's query
	// Dropped are tunnels deleted while BIRD still had their session:
	// their routes, and the siblings' IPv4 multipath routes, were lost.
	Dropped []string
	// Builds are the kernels made by NewKernel, in order.
	Builds []Build
	// Handshakes are the peers' last handshakes Peers reports, by tunnel.
	Handshakes map[string]time.Time
	// PeerReads are the names each call of Peers asked for.
	PeerReads [][]string
	// Watcher is what the last Watch was given: Change tells it, as
	// Linux's events would, of every change to a link (not of a device's
	// peers or port, which send no event); a test tells it of changes by
	// hand.
	Watcher *kernel.Changes
}

// Build is one kernel NewKernel made.
type Build struct {
	Namespace string
	NetNS     bool
	Public    wgtypes.Key // of its private key; zero without a key
}

// NewKernel is the kernel factory of package gateway: the fake kernel
// takes the new key (what ConfigureDevice and CreateTunnel give devices)
// and the namespace its queries must name.
func (s *System) NewKernel(namespace string, private wgtypes.Key, netns bool) (*System, error) {
	b := Build{Namespace: namespace, NetNS: netns}
	if private != (wgtypes.Key{}) {
		b.Public = private.PublicKey()
	}
	s.Builds = append(s.Builds, b)
	s.Me = b.Public
	return s, nil
}

// Close is the kernel's: the fake keeps its state.
func (s *System) Close() error { return nil }

// Watch keeps c as Watcher (the fake has no goroutine to stop).
func (s *System) Watch(_ context.Context, c kernel.Changes) { s.Watcher = &c }

// evented: the changes Linux sends a link event for.
var evented = []kernel.Op{kernel.CreateTunnel, kernel.DeleteTunnel, kernel.SetMTU, kernel.AddAddress, kernel.DelAddress, kernel.MoveLAN, kernel.SetUp}

// Peers reports each named tunnel that exists with a peer, and its
// handshake from Handshakes.
func (s *System) Peers(_ context.Context, names []string) (map[string]kernel.PeerStats, error) {
	s.PeerReads = append(s.PeerReads, slices.Clone(names))
	out := map[string]kernel.PeerStats{}
	for _, n := range names {
		if t, ok := s.Tunnels[n]; ok && len(t.Peers) > 0 {
			out[n] = kernel.PeerStats{Present: true, LastHandshake: s.Handshakes[n]}
		}
	}
	return out, nil
}

// New is a fake gateway whose kernel has the private key of public key
// me and LAN interfaces lans, not yet moved.
func New(root string, me wgtypes.Key, lans ...string) *System {
	s := &System{Root: root, Me: me, Units: map[string]string{}, Loaded: map[string]string{},
		Fail: map[string]error{}, Tunnels: map[string]*kernel.Tunnel{}, LANs: map[string]*kernel.LAN{}}
	for _, l := range lans {
		s.LANs[l] = &kernel.LAN{Exists: true, InMain: true}
	}
	return s
}

func (s *System) call(format string, args ...any) error {
	c := strings.TrimSpace(fmt.Sprintf(format, args...))
	s.Calls = append(s.Calls, c)
	err := s.Fail[c]
	delete(s.Fail, c) // a failure happens once
	return err
}

// Read is the files of dir, as networkd would load them.
func (s *System) Read(dir string) string {
	var b strings.Builder
	paths, _ := filepath.Glob(filepath.Join(s.Root, dir, "*"))
	sort.Strings(paths)
	for _, p := range paths {
		c, _ := os.ReadFile(p)
		fmt.Fprintf(&b, "%s\n%s", filepath.Base(p), c)
	}
	return b.String()
}

func (s *System) unitFile(name string) string {
	b, err := os.ReadFile(filepath.Join(s.Root, render.UnitDir, name))
	if err != nil {
		return ""
	}
	return string(b)
}

// Units.

func (s *System) DaemonReload(context.Context) error {
	if err := s.call("daemon-reload"); err != nil {
		return err
	}
	s.Loaded = map[string]string{}
	paths, _ := filepath.Glob(filepath.Join(s.Root, render.UnitDir, "*.service"))
	for _, p := range paths {
		s.Loaded[filepath.Base(p)] = s.unitFile(filepath.Base(p))
	}
	return nil
}

func (s *System) start(name string) error {
	def, ok := s.Loaded[name]
	if !ok || def == "" {
		return fmt.Errorf("unit %s not loaded", name)
	}
	if def != s.unitFile(name) {
		return fmt.Errorf("unit %s changed on disk without daemon-reload", name)
	}
	s.Units[name] = def
	if strings.HasPrefix(name, "sitevpn-netns-") {
		s.NS = true
	}
	if strings.HasPrefix(name, "sitevpn-bird-") {
		b, _ := os.ReadFile(filepath.Join(s.Root, render.BirdDir, "sitevpn-private.conf"))
		s.Bird = string(b)
	}
	return nil
}

func (s *System) RestartUnit(_ context.Context, name string) error {
	if err := s.call("restart %s", name); err != nil {
		return err
	}
	return s.start(name)
}

func (s *System) StartUnit(_ context.Context, name string) error {
	if err := s.call("start %s", name); err != nil {
		return err
	}
	if s.Units[name] != "" {
		return nil
	}
	return s.start(name)
}

func (s *System) StopUnit(_ context.Context, name string) error {
	if err := s.call("stop %s", name); err != nil {
		return err
	}
	delete(s.Units, name)
	return nil
}

func (s *System) ReloadNetworkd(context.Context) error {
	if err := s.call("reload networkd"); err != nil {
		return err
	}
	s.Networkd = s.Read(render.NetworkDir)
	return nil
}

func (s *System) ActiveState(_ context.Context, name string) (string, error) {
	if s.Units[name] != "" {
		return "active", nil
	}
	return "inactive", nil
}

// BirdControl.

func (s *System) Check(_ context.Context, _, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if strings.Contains(string(b), "INVALID") {
		return fmt.Errorf("%s:1:1 syntax error", path)
	}
	return nil
}

func (s *System) Configure(_ context.Context, socket, conf string) error {
	if err := s.call("bird configure %s", conf); err != nil {
		return err
	}
	if !strings.HasPrefix(socket, "/run/sitevpn-bird-") {
		return fmt.Errorf("unexpected socket %s", socket)
	}
	if !slices.ContainsFunc(keys(s.Units), func(u string) bool { return strings.HasPrefix(u, "sitevpn-bird-") }) {
		return fmt.Errorf("connect %s: no such file or directory", socket)
	}
	b, err := os.ReadFile(filepath.Join(s.Root, conf))
	if err != nil {
		return err
	}
	s.Bird = string(b)
	return nil
}

func keys[V any](m map[string]V) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}

// Kernel.

// Observe answers q as Linux and package link do: every tunnel of the
// private namespace (queried or not; only the queried ones with q.Only),
// a tunnel in the main namespace only when q names it, and only the LANs
// q names.
func (s *System) Observe(_ context.Context, q kernel.Query) (kernel.State, error) {
	s.Queries = append(s.Queries, q)
	if n := len(s.Builds); n > 0 && s.Builds[n-1].NetNS && q.Namespace != s.Builds[n-1].Namespace {
		return kernel.State{}, fmt.Errorf("query for namespace %q, but this kernel manages %q", q.Namespace, s.Builds[n-1].Namespace)
	}
	ks := kernel.State{NamespaceExists: s.NS, Tunnels: map[string]kernel.Tunnel{}, LANs: map[string]kernel.LAN{}}
	for _, name := range q.Tunnels {
		if _, ok := s.LANs[name]; ok {
			return ks, fmt.Errorf("observe %s: a device link has the name of a tunnel: rename or remove it", name)
		}
	}
	for name, t := range s.Tunnels {
		if (t.InMain || q.Only) && !slices.Contains(q.Tunnels, name) {
			continue
		}
		c := *t
		c.Addresses = slices.Clone(t.Addresses)
		c.Peers = slices.Clone(t.Peers)
		ks.Tunnels[name] = c
	}
	for _, l := range q.LANs {
		if st, ok := s.LANs[l]; ok {
			ks.LANs[l] = *st
		}
	}
	return ks, nil
}

// Change performs c; every field c's op uses is honoured and checked.
func (s *System) Change(_ context.Context, c kernel.Change) error {
	detail := c.Detail()
	if c.Op == kernel.SetPeer {
		detail = c.Peer.Gateway // shorter than its key, in calls tests compare
	}
	if err := s.call("%s %s %s", c.Op, c.Link, detail); err != nil {
		return err
	}
	if s.Watcher != nil && slices.Contains(evented, c.Op) {
		defer s.Watcher.Touched([]string{c.Link})
	}
	switch c.Op {
	case kernel.CreateTunnel:
		return s.create(c.Link, c.Tunnel)
	case kernel.DeleteTunnel:
		return s.delete(c.Link, c.InMain)
	case kernel.MoveLAN:
		l, ok := s.LANs[c.Link]
		if !ok || !l.InMain || !s.NS {
			return fmt.Errorf("move %s: not in the main namespace", c.Link)
		}
		*l = kernel.LAN{Exists: true} // the kernel drops addresses and state on a move
		return nil
	case kernel.SetUp:
		if l, ok := s.LANs[c.Link]; ok {
			l.Up = true
			return nil
		}
	case kernel.AddAddress, kernel.DelAddress:
		return s.address(c)
	}
	t, err := s.tunnel(c.Link)
	if err != nil {
		return err
	}
	switch c.Op {
	case kernel.ConfigureDevice:
		if s.Me == (wgtypes.Key{}) {
			return fmt.Errorf("configure %s: no private key", c.Link)
		}
		t.ListenPort, t.PublicKey = c.Port, s.Me
	case kernel.SetPeer:
		key, err := wgtypes.ParseKey(c.Peer.PublicKey)
		if err != nil {
			return err
		}
		ps := kernel.Peer{PublicKey: key, Endpoint: c.Peer.Endpoint, AllowedIPs: kernel.AllowedIPs, Keepalive: c.Peer.Keepalive}
		if i := slices.IndexFunc(t.Peers, func(p kernel.Peer) bool { return p.PublicKey == key }); i >= 0 {
			if !ps.Endpoint.IsValid() {
				// As WireGuard: no endpoint given keeps the one it has.
				ps.Endpoint = t.Peers[i].Endpoint
			}
			t.Peers[i] = ps
		} else {
			t.Peers = append(t.Peers, ps)
		}
	case kernel.RemovePeer:
		t.Peers = slices.DeleteFunc(t.Peers, func(p kernel.Peer) bool { return p.PublicKey == c.PeerKey })
	case kernel.SetMTU:
		t.MTU = c.MTU
	case kernel.SetUp:
		t.Up = true
	default:
		return fmt.Errorf("unknown change %q", c.Op)
	}
	return nil
}

func (s *System) create(name string, t *plan.Tunnel) error {
	if t == nil || t.Interface != name {
		return fmt.Errorf("create %s: the change carries no tunnel of that name", name)
	}
	if _, dup := s.Tunnels[name]; dup {
		return fmt.Errorf("create %s: file exists (duplicate)", name)
	}
	if !s.NS {
		return fmt.Errorf("create %s: no namespace", name)
	}
	key, _ := wgtypes.ParseKey(t.Peer.PublicKey)
	s.Tunnels[name] = &kernel.Tunnel{MTU: t.MTU, Up: true, Addresses: t.Addresses(),
		ListenPort: t.ListenPort, PublicKey: s.Me,
		Peers: []kernel.Peer{{PublicKey: key, Endpoint: t.Peer.Endpoint, AllowedIPs: kernel.AllowedIPs, Keepalive: t.Peer.Keepalive}}}
	return nil
}

// delete deletes a tunnel link where inMain says it is. As Linux does,
// deleting a link that BIRD still routes through drops those routes: with
// IPv4 multipath, the whole route to the remote site, the sibling
// tunnel's path included. The fake records it as lost.
func (s *System) delete(name string, inMain bool) error {
	t, err := s.tunnel(name)
	if err != nil {
		return err
	}
	if t.InMain != inMain {
		return fmt.Errorf("delete %s: no such device in the %s namespace", name, map[bool]string{true: "main", false: "private"}[inMain])
	}
	if !t.InMain && strings.Contains(s.Bird, "protocol bgp "+name+" ") {
		s.Dropped = append(s.Dropped, name)
	}
	delete(s.Tunnels, name)
	return nil
}

func (s *System) tunnel(name string) (*kernel.Tunnel, error) {
	t, ok := s.Tunnels[name]
	if !ok {
		return nil, fmt.Errorf("%s: no such device", name)
	}
	return t, nil
}

func (s *System) address(c kernel.Change) error {
	var a *[]netip.Prefix
	if l, ok := s.LANs[c.Link]; ok {
		a = &l.Addresses
	} else {
		t, err := s.tunnel(c.Link)
		if err != nil {
			return err
		}
		a = &t.Addresses
	}
	if !c.Address.IsValid() {
		return fmt.Errorf("%s %s: no address", c.Op, c.Link)
	}
	if c.Op == kernel.DelAddress {
		*a = slices.DeleteFunc(*a, func(q netip.Prefix) bool { return q == c.Address })
		return nil
	}
	if slices.Contains(*a, c.Address) {
		return fmt.Errorf("add %s to %s: file exists (duplicate)", c.Address, c.Link)
	}
	*a = append(*a, c.Address)
	return nil
}

// State prints the kernel and services as sorted lines, for comparing runs.
func (s *System) State() string {
	var lines []string
	for name, t := range s.Tunnels {
		addrs := slices.Clone(t.Addresses)
		slices.SortFunc(addrs, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
		var peers []string
		for _, p := range t.Peers {
			peers = append(peers, fmt.Sprintf("%s@%s/%d", p.PublicKey.String()[:8], p.Endpoint, p.Keepalive))
		}
		sort.Strings(peers)
		lines = append(lines, fmt.Sprintf("link %s mtu %d up %v port %d key-ok %v addrs %v peers %v", name, t.MTU, t.Up, t.ListenPort, t.PublicKey == s.Me, addrs, peers))
	}
	for name, l := range s.LANs {
		lines = append(lines, fmt.Sprintf("lan %s exists %v main %v up %v addrs %v", name, l.Exists, l.InMain, l.Up, l.Addresses))
	}
	for u := range s.Units {
		lines = append(lines, "unit "+u+" running")
	}
	lines = append(lines, fmt.Sprintf("namespace %v", s.NS))
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
