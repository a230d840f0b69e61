// Package validate turns a load.Document into a fleet.Fleet, checking every
// rule of the design: value syntax, ranges, uniqueness, prefix overlaps,
// transit pool capacity. Every problem is a diagnostic at the offending
// value, with the value and what to do; all of them are reported at once.
package validate

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/load"
)

// Validate checks doc and returns the fleet it defines. The fleet is nil
// whenever any diagnostic is an error: nothing half-valid goes further.
func Validate(doc *load.Document) (*fleet.Fleet, hcl.Diagnostics) {
	if doc == nil || doc.Fleet == nil {
		return nil, nil
	}
	v := &validator{seen: newSeen(doc)}
	f := v.fleet(doc.Fleet)
	for _, s := range doc.Sites {
		if site := v.site(f, s); site != nil {
			f.Sites = append(f.Sites, site)
		}
	}
	v.uniqueness(f, doc)
	v.pools(f, doc)
	v.hubs(f, doc)
	v.unreachablePairs(f, doc)
	v.importLimitFits(f, doc)
	if v.diags.HasErrors() {
		return nil, v.diags
	}
	return f, v.diags
}

type validator struct {
	diags hcl.Diagnostics
	seen  seen
	// topologyKnown: the topology is a valid one; checks that depend on
	// it are skipped otherwise.
	topologyKnown bool
}

// pos prints a range as file:line:col, as diagnostics start.
func pos(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

func (v *validator) errorf(r hcl.Range, summary, format string, args ...any) {
	v.diags = append(v.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  r.Ptr(),
	})
}

// warnf records a warning: valid, but risky; said, never refused.
func (v *validator) warnf(r hcl.Range, summary, format string, args ...any) {
	v.diags = append(v.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  r.Ptr(),
	})
}

func (v *validator) fleet(b *load.Fleet) *fleet.Fleet {
	f := &fleet.Fleet{
		Isolation: fleet.Isolation(b.Isolation.Or(string(fleet.DefaultIsolation))),
		Namespace: b.Namespace.Or(fleet.DefaultNamespace),
		PortBase:  b.PortBase.Or(fleet.DefaultPortBase),
		MTU:       b.MTU.Or(fleet.DefaultMTU),
		Keepalive: b.Keepalive.Or(fleet.DefaultKeepalive),
		VRFTable:  b.VRFTable.Or(fleet.DefaultVRFTable),
		BGP: fleet.BGP{
			HoldTime:      fleet.DefaultHoldTime,
			BFDIntervalMS: fleet.DefaultBFDIntervalMS,
			BFDMultiplier: fleet.DefaultBFDMultiplier,
			ImportMargin:  fleet.DefaultImportMargin,
		},
	}
	switch f.Isolation {
	case fleet.NetNS, fleet.VRF:
	default:
		v.errorf(b.Isolation.Range, "Invalid isolation", "isolation is %q; use \"netns\" (a private network namespace, the default) or \"vrf\".", b.Isolation.Value)
	}
	v.namespace(f, b.Namespace)
	if f.PortBase < 1 || f.PortBase > 65535 {
		v.errorf(b.PortBase.Range, "Invalid port_base", "port_base is %d; use a UDP port between 1 and 65535 (ListenPort = port_base + remote gateway id).", f.PortBase)
	}
	if b.Transit6.Set { // a missing one is reported by load
		f.Transit6 = v.pool(b.Transit6, "transit6", true, 127)
	}
	if b.Transit4.Set { // else IPv4 rides the IPv6 transit (RFC 8950)
		f.Transit4 = v.pool(b.Transit4, "transit4", false, 31)
	}
	if f.MTU < 1280 || f.MTU > 9000 {
		v.errorf(b.MTU.Range, "Invalid mtu", "mtu is %d; use 1280 (IPv6's minimum) to 9000. WireGuard adds 80 bytes over IPv6: 1420 fits a 1500-byte path.", f.MTU)
	}
	if f.Keepalive < 0 || f.Keepalive > 65535 {
		v.errorf(b.Keepalive.Range, "Invalid keepalive", "keepalive is %d; use 0 (off) to 65535 seconds; 25 keeps NAT mappings open.", f.Keepalive)
	}
	if f.VRFTable < 1 || f.VRFTable > 0xfffffffe || (f.VRFTable >= 253 && f.VRFTable <= 255) {
		v.errorf(b.VRFTable.Range, "Invalid vrf_table", "vrf_table is %d; use a routing table number from 1 to 4294967294 other than 253-255 (the kernel's default, main and local tables).", f.VRFTable)
	}
	listen := b.MetricsListen.Or(fleet.DefaultMetricsListen)
	ap, err := netip.ParseAddrPort(listen)
	if err != nil {
		v.errorf(b.MetricsListen.Range, "Invalid metrics_listen", "metrics_listen is %q; write an address and port, such as \"127.0.0.1:9474\" or \"[::1]:9474\".", listen)
	}
	switch {
	case err != nil:
	case ap.Port() == 0:
		v.errorf(b.MetricsListen.Range, "Invalid metrics_listen", "metrics_listen %q has port 0, which would pick a port no scraper knows; use a fixed port such as 9474.", listen)
	case ap.Addr().IsMulticast() || ap.Addr() == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || ap.Addr().Zone() != "" || ap.Addr().Is4In6():
		v.errorf(b.MetricsListen.Range, "Invalid metrics_listen", "metrics_listen %q is not an address of this host a scraper can connect to (multicast, broadcast, zoned or IPv4-mapped); use one of its unicast addresses, such as \"127.0.0.1:9474\".", listen)
	case !ap.Addr().IsLoopback():
		v.warnf(b.MetricsListen.Range, "Metrics open to the network", "metrics_listen %s serves, without authentication, the fleet's topology, peers and traffic counters to every host that reaches %s; keep it on loopback (127.0.0.1:9474) and scrape through a proxy, or firewall the port.", ap, ap.Addr())
	}
	f.MetricsListen = ap
	window := b.ConfirmWindow.Or(fleet.DefaultConfirmWindow)
	if window != 0 && (window < fleet.MinConfirmWindow || window > fleet.MaxConfirmWindow) {
		v.errorf(b.ConfirmWindow.Range, "Invalid confirm_window", "confirm_window is %d; use 0 (never roll back by itself) or %d to %d seconds: the time a change has to bring back the tunnels it kept before the daemon rolls it back (600, the default, suits an Ansible rollout of a few minutes).", window, fleet.MinConfirmWindow, fleet.MaxConfirmWindow)
	}
	f.ConfirmWindow = time.Duration(window) * time.Second
	v.topologySettings(f, b)
	if b.BGP != nil {
		f.BGP.HoldTime = b.BGP.HoldTime.Or(fleet.DefaultHoldTime)
		f.BGP.BFD = b.BGP.BFD.Value
		if h := f.BGP.HoldTime; h != 0 && (h < 3 || h > 65535) {
			v.errorf(b.BGP.HoldTime.Range, "Invalid hold_time", "hold_time is %d; BGP allows 0 (no keepalives) or 3 to 65535 seconds. 6 detects a dead tunnel in 6 s.", h)
		}
		v.bfdTimers(f, b.BGP)
		if f.BGP.HoldTime == 0 && !f.BGP.BFD {
			v.warnf(b.BGP.HoldTime.Range, "Dead tunnels go unnoticed", "hold_time = 0 turns BGP keepalives off and BFD is off: a tunnel whose peer died keeps its routes forever and traffic to that site is lost. Use a hold time (6) or bfd = true.")
		}
		if b.BGP.ImportLimit.Set {
			f.BGP.ImportLimit = b.BGP.ImportLimit.Value
			if n := f.BGP.ImportLimit; n < 1 || n > 1_000_000 {
				v.errorf(b.BGP.ImportLimit.Range, "Invalid import_limit", "import_limit is %d; use 1 to 1000000 routes per session and family, or leave it out: each session's limit is then what its policy admits plus import_margin, %d at least.", n, fleet.DefaultImportLimit)
				f.BGP.ImportLimit = 0
			}
		}
		f.BGP.ImportMargin = b.BGP.ImportMargin.Or(fleet.DefaultImportMargin)
		if n := f.BGP.ImportMargin; n < 0 || n > 1_000_000 {
			v.errorf(b.BGP.ImportMargin.Range, "Invalid import_margin", "import_margin is %d; use 0 to 1000000 routes: what a session may import over the prefixes its policy admits (default %d).", n, fleet.DefaultImportMargin)
		}
	}
	return f
}

// bfdTimers checks bfd_interval_ms and bfd_multiplier, set or not: BFD
// may be turned on later with the timers already written.
func (v *validator) bfdTimers(f *fleet.Fleet, b *load.BGP) {
	f.BGP.BFDIntervalMS = b.BFDIntervalMS.Or(fleet.DefaultBFDIntervalMS)
	f.BGP.BFDMultiplier = b.BFDMultiplier.Or(fleet.DefaultBFDMultiplier)
	ms, mult := f.BGP.BFDIntervalMS, f.BGP.BFDMultiplier
	if ms < 10 || ms > 60000 {
		v.errorf(b.BFDIntervalMS.Range, "Invalid bfd_interval_ms", "bfd_interval_ms is %d; use 10 to 60000 milliseconds. 100 (with bfd_multiplier 5) detects a dead tunnel in 0.5 s.", ms)
		return
	}
	if mult < 1 || mult > 255 {
		v.errorf(b.BFDMultiplier.Range, "Invalid bfd_multiplier", "bfd_multiplier is %d; use 1 to 255 missed packets (BFD's detect multiplier); 3 to 5 tolerates a lost packet.", mult)
		return
	}
	// BFD is there to be faster than the hold timer; slower, it only adds
	// packets.
	if h := f.BGP.HoldTime; h != 0 && ms*mult >= h*1000 {
		r := b.BFDIntervalMS.Range
		if !b.BFDIntervalMS.Set {
			r = b.BFDMultiplier.Range
		}
		v.errorf(r, "BFD slower than BGP", "bfd_interval_ms %d x bfd_multiplier %d detects a dead tunnel in %d ms, not before the %d s hold_time; shorten the BFD timers.", ms, mult, ms*mult, h)
	}
}

func (v *validator) namespace(f *fleet.Fleet, a load.Attr[string]) {
	max := 255 // a file name under /run/netns
	if f.Isolation == fleet.VRF {
		max = 15 // the VRF is a network interface
	}
	if !validName(f.Namespace, max) {
		v.errorf(a.Range, "Invalid namespace", "namespace is %q; use 1 to %d letters, digits, '-', '_' or '.', not starting with '-' or '.'%s.",
			f.Namespace, max, map[bool]string{true: " (in vrf mode it names a network interface)"}[f.Isolation == fleet.VRF])
	}
	// BIRD's control socket is /run/sitevpn-bird-<namespace>/bird.ctl: a
	// Unix socket path has 107 bytes.
	if sock := len("/run/sitevpn-bird-") + len(f.Namespace) + len("/bird.ctl"); sock > 107 {
		v.errorf(a.Range, "Invalid namespace", "namespace %q is %d bytes: BIRD's control socket path in it would be %d bytes, past the 107 a Unix socket allows; use at most %d.", f.Namespace, len(f.Namespace), sock, 107-len("/run/sitevpn-bird-")-len("/bird.ctl"))
	}
	if why := reservedDevice(f.Namespace); why != "" && f.Isolation == fleet.VRF {
		v.errorf(a.Range, "Invalid namespace", "namespace %q names the VRF device in vrf mode, and %q is %s; pick another name, such as \"private\".", f.Namespace, f.Namespace, why)
	}
	if tunnelName(f.Namespace) {
		v.errorf(a.Range, "Invalid namespace", "namespace %q looks like a tunnel interface name (wg<id>), which sitevpn owns; pick another name, such as \"private\".", f.Namespace)
	}
}

// pool parses a transit pool: a canonical CIDR of the right family with
// room for at least one tunnel (a /127 or a /31).
func (v *validator) pool(a load.Attr[string], name string, six bool, tunnelBits int) netip.Prefix {
	p, err := netip.ParsePrefix(a.Value)
	family := map[bool]string{true: "IPv6", false: "IPv4"}[six]
	switch {
	case err != nil:
		v.errorf(a.Range, "Invalid "+name, "%s is %q, not a CIDR prefix; write an %s prefix such as %q.", name, a.Value, family, map[bool]string{true: "2001:db8:ff::/64", false: "169.254.0.0/16"}[six])
	case six && p.Addr().Is4In6():
		v.errorf(a.Range, "Invalid "+name, "%s %q is IPv4-mapped space (::ffff:0:0/96), which stands for IPv4 addresses; write an IPv6 prefix such as \"fd00:ff::/64\".", name, a.Value)
	case p.Addr().Is6() != six || p.Addr().Is4In6():
		v.errorf(a.Range, "Invalid "+name, "%s is %q; it must be an %s prefix.", name, a.Value, family)
	case p.Masked() != p:
		v.errorf(a.Range, "Invalid "+name, "%s %q has host bits set; write %q.", name, a.Value, p.Masked().String())
	case p.Bits() > tunnelBits:
		v.errorf(a.Range, "Invalid "+name, "%s %q cannot hold one /%d; use a shorter prefix.", name, a.Value, tunnelBits)
	case p.Bits() == 0:
		v.errorf(a.Range, "Invalid "+name, "%s %q is every address; tunnel addresses need a pool of their own: use a private range such as %q.", name, a.Value, map[bool]string{true: "fd00:ff::/64", false: "169.254.0.0/16"}[six])
	// IPv4 link-local is the usual pool (a /31 per tunnel works there);
	// IPv6 link-local is not: every link has its own fe80::/64 already.
	case special(p, !six) != "":
		v.errorf(a.Range, "Invalid "+name, "%s %q overlaps %s, where no tunnel address works; use a private range such as %q.", name, a.Value, special(p, !six), map[bool]string{true: "fd00:ff::/64", false: "169.254.0.0/16"}[six])
	default:
		return p
	}
	return netip.Prefix{}
}
