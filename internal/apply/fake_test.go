package apply

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/render"
)

// system is a fake gateway: systemd, networkd, BIRD and the kernel, with
// the files under root. It remembers what each service last loaded, so a
// test can check that what runs is what is on disk, and counts calls.
type system struct {
	root  string
	me    wgtypes.Key
	calls []string

	units    map[string]string // unit -> file content it runs with ("" = stopped)
	loaded   map[string]string // unit -> file content at the last daemon-reload
	networkd string            // networkd files at the last reload
	bird     string            // configuration BIRD runs
	fail     map[string]error  // call -> error to return, once

	ns      bool
	tunnels map[string]*TunnelState
	lans    map[string]*LANState
}

func newSystem(root string, me wgtypes.Key, lans ...string) *system {
	s := &system{root: root, me: me, units: map[string]string{}, loaded: map[string]string{},
		fail: map[string]error{}, tunnels: map[string]*TunnelState{}, lans: map[string]*LANState{}}
	for _, l := range lans {
		s.lans[l] = &LANState{Exists: true, InMain: true}
	}
	return s
}

func (s *system) call(format string, args ...any) error {
	c := fmt.Sprintf(format, args...)
	s.calls = append(s.calls, c)
	err := s.fail[c]
	delete(s.fail, c) // a failure happens once
	return err
}

func (s *system) read(dir string) string {
	var b strings.Builder
	paths, _ := filepath.Glob(filepath.Join(s.root, dir, "*"))
	sort.Strings(paths)
	for _, p := range paths {
		c, _ := os.ReadFile(p)
		fmt.Fprintf(&b, "%s\n%s", filepath.Base(p), c)
	}
	return b.String()
}

func (s *system) unitFile(name string) string {
	b, err := os.ReadFile(filepath.Join(s.root, render.UnitDir, name))
	if err != nil {
		return ""
	}
	return string(b)
}

// Units.

func (s *system) DaemonReload(context.Context) error {
	if err := s.call("daemon-reload"); err != nil {
		return err
	}
	s.loaded = map[string]string{}
	paths, _ := filepath.Glob(filepath.Join(s.root, render.UnitDir, "*.service"))
	for _, p := range paths {
		s.loaded[filepath.Base(p)] = s.unitFile(filepath.Base(p))
	}
	return nil
}

func (s *system) start(name string) error {
	def, ok := s.loaded[name]
	if !ok || def == "" {
		return fmt.Errorf("unit %s not loaded", name)
	}
	if def != s.unitFile(name) {
		return fmt.Errorf("unit %s changed on disk without daemon-reload", name)
	}
	s.units[name] = def
	if strings.HasPrefix(name, "sitevpn-netns-") {
		s.ns = true
	}
	if strings.HasPrefix(name, "sitevpn-bird-") {
		b, _ := os.ReadFile(filepath.Join(s.root, render.BirdDir, "sitevpn-private.conf"))
		s.bird = string(b)
	}
	return nil
}

func (s *system) RestartUnit(_ context.Context, name string) error {
	if err := s.call("restart %s", name); err != nil {
		return err
	}
	return s.start(name)
}

func (s *system) StartUnit(_ context.Context, name string) error {
	if err := s.call("start %s", name); err != nil {
		return err
	}
	if s.units[name] != "" {
		return nil
	}
	return s.start(name)
}

func (s *system) StopUnit(_ context.Context, name string) error {
	if err := s.call("stop %s", name); err != nil {
		return err
	}
	delete(s.units, name)
	return nil
}

func (s *system) ReloadNetworkd(context.Context) error {
	if err := s.call("reload networkd"); err != nil {
		return err
	}
	s.networkd = s.read(render.NetworkDir)
	return nil
}

func (s *system) ActiveState(_ context.Context, name string) (string, error) {
	if s.units[name] != "" {
		return "active", nil
	}
	return "inactive", nil
}

// BirdControl.

func (s *system) Check(_ context.Context, _, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if strings.Contains(string(b), "INVALID") {
		return fmt.Errorf("%s:1:1 syntax error", path)
	}
	return nil
}

func (s *system) Configure(_ context.Context, socket, conf string) error {
	if err := s.call("bird configure %s", conf); err != nil {
		return err
	}
	if !strings.HasPrefix(socket, "/run/sitevpn-bird-") {
		return fmt.Errorf("unexpected socket %s", socket)
	}
	if !slices.ContainsFunc(keys(s.units), func(u string) bool { return strings.HasPrefix(u, "sitevpn-bird-") }) {
		return fmt.Errorf("connect %s: no such file or directory", socket)
	}
	b, err := os.ReadFile(filepath.Join(s.root, conf))
	if err != nil {
		return err
	}
	s.bird = string(b)
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

func (s *system) Observe(_ context.Context, q Query) (KernelState, error) {
	ks := KernelState{NamespaceExists: s.ns, Tunnels: map[string]TunnelState{}, LANs: map[string]LANState{}}
	for name, t := range s.tunnels {
		c := *t
		c.Addresses = slices.Clone(t.Addresses)
		c.Peers = slices.Clone(t.Peers)
		ks.Tunnels[name] = c
	}
	for _, l := range q.LANs {
		if st, ok := s.lans[l]; ok {
			ks.LANs[l] = *st
		}
	}
	return ks, nil
}

func (s *system) CreateTunnel(_ context.Context, t plan.Tunnel) error {
	if err := s.call("create %s", t.Interface); err != nil {
		return err
	}
	if _, dup := s.tunnels[t.Interface]; dup {
		return fmt.Errorf("create %s: file exists (duplicate)", t.Interface)
	}
	if !s.ns {
		return fmt.Errorf("create %s: no namespace", t.Interface)
	}
	key, _ := wgtypes.ParseKey(t.Peer.PublicKey)
	s.tunnels[t.Interface] = &TunnelState{MTU: t.MTU, Up: true, Addresses: []netip.Prefix{t.Local6, t.Local4},
		ListenPort: t.ListenPort, PublicKey: s.me,
		Peers: []PeerState{{PublicKey: key, Endpoint: t.Peer.Endpoint, AllowedIPs: AllowedIPs, Keepalive: t.Peer.Keepalive}}}
	return nil
}

func (s *system) tunnel(name string) (*TunnelState, error) {
	t, ok := s.tunnels[name]
	if !ok {
		return nil, fmt.Errorf("%s: no such device", name)
	}
	return t, nil
}

func (s *system) DeleteTunnel(_ context.Context, name string, inMain bool) error {
	if err := s.call("delete %s main=%v", name, inMain); err != nil {
		return err
	}
	if _, err := s.tunnel(name); err != nil {
		return err
	}
	delete(s.tunnels, name)
	return nil
}

func (s *system) ConfigureDevice(_ context.Context, name string, port int) error {
	if err := s.call("configure %s port %d", name, port); err != nil {
		return err
	}
	t, err := s.tunnel(name)
	if err == nil {
		t.ListenPort, t.PublicKey = port, s.me
	}
	return err
}

func (s *system) SetPeer(_ context.Context, name string, p plan.Peer) error {
	if err := s.call("set-peer %s %s", name, p.Gateway); err != nil {
		return err
	}
	t, err := s.tunnel(name)
	if err != nil {
		return err
	}
	key, _ := wgtypes.ParseKey(p.PublicKey)
	ps := PeerState{PublicKey: key, Endpoint: p.Endpoint, AllowedIPs: AllowedIPs, Keepalive: p.Keepalive}
	for i := range t.Peers {
		if t.Peers[i].PublicKey == key {
			t.Peers[i] = ps
			return nil
		}
	}
	t.Peers = append(t.Peers, ps)
	return nil
}

func (s *system) RemovePeer(_ context.Context, name string, key wgtypes.Key) error {
	if err := s.call("remove-peer %s", name); err != nil {
		return err
	}
	t, err := s.tunnel(name)
	if err == nil {
		t.Peers = slices.DeleteFunc(t.Peers, func(p PeerState) bool { return p.PublicKey == key })
	}
	return err
}

func (s *system) SetMTU(_ context.Context, name string, mtu int) error {
	if err := s.call("mtu %s %d", name, mtu); err != nil {
		return err
	}
	t, err := s.tunnel(name)
	if err == nil {
		t.MTU = mtu
	}
	return err
}

func (s *system) SetUp(_ context.Context, name string) error {
	if err := s.call("up %s", name); err != nil {
		return err
	}
	if l, ok := s.lans[name]; ok {
		l.Up = true
		return nil
	}
	t, err := s.tunnel(name)
	if err == nil {
		t.Up = true
	}
	return err
}

func (s *system) addrs(name string) (*[]netip.Prefix, error) {
	if l, ok := s.lans[name]; ok {
		return &l.Addresses, nil
	}
	t, err := s.tunnel(name)
	if err != nil {
		return nil, err
	}
	return &t.Addresses, nil
}

func (s *system) AddAddress(_ context.Context, name string, p netip.Prefix) error {
	if err := s.call("add-address %s %s", name, p); err != nil {
		return err
	}
	a, err := s.addrs(name)
	if err != nil {
		return err
	}
	if slices.Contains(*a, p) {
		return fmt.Errorf("add %s to %s: file exists (duplicate)", p, name)
	}
	*a = append(*a, p)
	return nil
}

func (s *system) DelAddress(_ context.Context, name string, p netip.Prefix) error {
	if err := s.call("del-address %s %s", name, p); err != nil {
		return err
	}
	a, err := s.addrs(name)
	if err == nil {
		*a = slices.DeleteFunc(*a, func(q netip.Prefix) bool { return q == p })
	}
	return err
}

func (s *system) MoveLAN(_ context.Context, name string) error {
	if err := s.call("move %s", name); err != nil {
		return err
	}
	l, ok := s.lans[name]
	if !ok || !l.InMain || !s.ns {
		return fmt.Errorf("move %s: not in the main namespace", name)
	}
	*l = LANState{Exists: true} // the kernel drops addresses and state on a move
	return nil
}

// state prints the kernel and services as sorted lines, for comparing runs.
func (s *system) state() string {
	var lines []string
	for name, t := range s.tunnels {
		addrs := slices.Clone(t.Addresses)
		slices.SortFunc(addrs, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })
		var peers []string
		for _, p := range t.Peers {
			peers = append(peers, fmt.Sprintf("%s@%s/%d", p.PublicKey.String()[:8], p.Endpoint, p.Keepalive))
		}
		sort.Strings(peers)
		lines = append(lines, fmt.Sprintf("link %s mtu %d up %v port %d key-ok %v addrs %v peers %v", name, t.MTU, t.Up, t.ListenPort, t.PublicKey == s.me, addrs, peers))
	}
	for name, l := range s.lans {
		lines = append(lines, fmt.Sprintf("lan %s exists %v main %v up %v addrs %v", name, l.Exists, l.InMain, l.Up, l.Addresses))
	}
	for u := range s.units {
		lines = append(lines, "unit "+u+" running")
	}
	lines = append(lines, fmt.Sprintf("namespace %v", s.ns))
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
