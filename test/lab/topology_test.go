//go:build lab

package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The article's topology (README.md, "TestLabTopology"), plus the
// fourth site the scenarios add: gateways vS-G (site S, gateway G), each with
// eth0 on "internet", eth1 on its site's sibling segment and eth2 on its own
// segment to the site router; one VM "routers" holds the site routers as
// network namespaces r1..r4, each with a dummy holding the site's prefixes
// and OSPF (v2 and v3) with both gateways of its site.

// gateway is one VPN gateway VM.
type gateway struct {
	Name string // v1-1
	Site int    // 1..4
	N    int    // 1 or 2 within the site
	VM   *VM
	// Metrics is the host port forwarded to the gateway's 10.0.2.15:9474,
	// where the alerting scenario has sitevpn serve its metrics.
	Metrics int
}

// id is the gateway's id in the example fleet: (site-1)*2 + n.
func (g *gateway) id() int { return (g.Site-1)*2 + g.N }

// topology is a booted lab: gateways in site order, and the routers VM.
type topology struct {
	lab      *Lab
	gws      []*gateway
	routers  *VM
	repo     string // the repository root
	deb      string // the package installed on the gateways
	bootedAt time.Time
}

func (tp *topology) gw(name string) *gateway { return gatewayNamed(tp.gws, name) }

// gatewayNamed is the gateway of gws named name.
func gatewayNamed(gws []*gateway, name string) *gateway {
	for _, g := range gws {
		if g.Name == name {
			return g
		}
	}
	panic("no gateway " + name)
}

// sites returns the gateways of the first n sites.
func (tp *topology) sites(n int) []*gateway {
	var out []*gateway
	for _, g := range tp.gws {
		if g.Site <= n {
			out = append(out, g)
		}
	}
	return out
}

// vmsOf is the VMs of gws, in their order.
func vmsOf(gws []*gateway) []*VM {
	vms := make([]*VM, len(gws))
	for i, g := range gws {
		vms[i] = g.VM
	}
	return vms
}

const birdc = "birdc -s /run/sitevpn-bird-private/bird.ctl"

// TestLabTopology boots the article's three sites (and a fourth, idle at
// first), installs sitevpn on every gateway as a user would, checks what
// the article shows, then runs the scenarios of issues 5, 11, 14 and 15 and prints
// their figures.
func TestLabTopology(t *testing.T) {
	start := time.Now()
	tp := bootTopology(t)
	ctx := t.Context()
	figures := map[string]string{}
	defer logFigures(t, "FIGURES", start, figures)

	three := tp.sites(3)
	if err := waitHealthy(ctx, three, 4, 6*time.Minute); err != nil {
		t.Fatalf("%s\ninitial convergence: %v", evidence(ctx, three), err)
	}
	figures["e1. qemu start -> 24 sessions Established"] = since(tp.bootedAt).String()
	checkPlane(t, tp, three, 3)
	if err := pingAll(ctx, tp.routers, 3, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	articleOutputs(t, tp.gw("v1-1"))
	figures["0. install + boot + checks"] = since(start).String()
	rss, err := daemonRSS(ctx, tp.gw("v1-1").VM)
	if err != nil {
		t.Fatal(err)
	}
	figures["f1. daemon RSS, v1-1 idle after start"] = rss
	defer func() {
		// v3-1: never powered off, and it went through every scenario.
		if rss, err := daemonRSS(ctx, tp.gw("v3-1").VM); err == nil {
			figures["f2. daemon RSS, v3-1 at the end"] = rss
		}
	}()

	t.Run("a-invalid-config", func(t *testing.T) { scenarioInvalid(t, tp, figures) })
	if t.Failed() {
		return
	}
	t.Run("b-add-site", func(t *testing.T) { scenarioAddSite(t, tp, figures) })
	if t.Failed() {
		return
	}
	t.Run("c-reboot", func(t *testing.T) { scenarioReboot(t, tp, figures) })
	if t.Failed() {
		return
	}
	t.Run("d-failover", func(t *testing.T) { scenarioFailover(t, tp, figures) })
	if t.Failed() {
		return
	}
	t.Run("g-key-rotation", func(t *testing.T) { scenarioKeyRotation(t, tp, figures) })
	if t.Failed() {
		return
	}
	t.Run("h-remove-gateway", func(t *testing.T) { scenarioRemoveGateway(t, tp, figures) })
	if t.Failed() {
		return
	}
	t.Run("k-rollback", func(t *testing.T) { scenarioRollback(t, tp, figures) })
	if t.Failed() {
		return
	}
	t.Run("l-restarts", func(t *testing.T) { scenarioRestarts(t, tp, figures) })
	if t.Failed() {
		return
	}
	t.Run("m-drain", func(t *testing.T) { scenarioDrain(t, tp, figures) })
	if t.Failed() {
		return
	}
	t.Run("n-rotate-key", func(t *testing.T) { scenarioRotateKey(t, tp, figures) })
	if t.Failed() {
		return
	}
	// Last: it leaves v2-2 powered off.
	t.Run("i-prometheus", func(t *testing.T) { scenarioPrometheus(t, tp, figures) })
}

// bootTopology declares every VM with its files, boots them all at once and
// installs sitevpn on the gateways. v4-1 and v4-2 get the four-site fleet,
// the six others the article's three sites.
func bootTopology(t *testing.T) *topology {
	t.Helper()
	ctx := t.Context()
	repo, err := filepath.Abs(filepath.Join(labDir(), "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	// The real package, built from the working tree, as a user installs it.
	deb := labPackage(t, repo)
	l := ForTest(t)
	tp := &topology{lab: l, repo: repo, deb: deb}
	internet := l.Segment("internet")
	sibling := map[int]*Segment{}
	for s := 1; s <= 4; s++ {
		sibling[s] = l.Segment(fmt.Sprintf("sibling%d", s))
	}
	var toRouter []*Segment
	for s := 1; s <= 4; s++ {
		for n := 1; n <= 2; n++ {
			name := fmt.Sprintf("v%d-%d", s, n)
			lan := l.Segment("lan-" + name)
			toRouter = append(toRouter, lan)
			vm, err := l.NewVM(name, internet, sibling[s], lan)
			if err != nil {
				t.Fatal(err)
			}
			g := &gateway{Name: name, Site: s, N: n, VM: vm}
			if g.Metrics, err = vm.Forward(metricsPort); err != nil {
				t.Fatal(err)
			}
			tp.gws = append(tp.gws, g)
			must(t, writeGatewayFiles(g, repo, deb))
		}
	}
	routers, err := l.NewVM("routers", toRouter...)
	if err != nil {
		t.Fatal(err)
	}
	tp.routers = routers
	must(t, writeRouterFiles(routers, tp.gws))

	tp.bootedAt = time.Now()
	if err := l.Boot(ctx, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	t.Logf("9 VMs booted (agents answer) in %s", since(tp.bootedAt))

	// The routers first: OSPF's wait timer (40 s) runs while the gateways
	// install.
	if _, err := routers.Sh(ctx, "sh /root/routers.sh"); err != nil {
		t.Fatalf("setting up the site routers: %v\n%s", err, routers.ConsoleTail(30))
	}
	// On every gateway, what a user does.
	if err := install(ctx, vmsOf(tp.gws), ""); err != nil {
		t.Fatalf("installing sitevpn: %v", err)
	}
	t.Logf("sitevpn installed and started on the 8 gateways %s after qemu start", since(tp.bootedAt))
	return tp
}

// installScript is what a user types on a gateway: the lab's key first
// (the package keeps a key it finds), the .deb with dpkg -i, the fleet,
// then start (the package enables the service; it starts once a *.hcl file
// is there). The files come from the lab's staging directory (the
// overlay). Namespaces keep the kernel's default DAD settings: its enhanced
// DAD (nonces) ignores the NS that qemu's segments echo back, so the moved
// LAN links' link-local addresses come up (net.core.devconf_inherit_init_net=1,
// tried first, broke neighbour discovery on those links: no NA was ever
// sent).
const installScript = `set -e
install -d -m 0755 /etc/sitevpn
install -m 0600 /root/stage/private.key /etc/sitevpn/private.key
dpkg -i /root/stage/sitevpn.deb >/root/dpkg.log 2>&1 || { cat /root/dpkg.log; exit 1; }
install -m 0644 /root/stage/*.hcl /etc/sitevpn/
` + startScript

// install runs script then installScript on every VM of vms at once; a
// failure carries the daemon's journal.
func install(ctx context.Context, vms []*VM, script string) error {
	if len(vms) > 0 {
		defer vms[0].lab.Timed(fmt.Sprintf("install sitevpn on %d gateways", len(vms)), time.Now())
	}
	return eachVM(vms, func(vm *VM) error {
		if _, err := vm.Sh(ctx, script+installScript); err != nil {
			j, _ := vm.Sh(ctx, "journalctl -b -u sitevpn --no-pager | tail -40")
			return fmt.Errorf("%s: %w\njournal:\n%s", vm.Name, err, j.Stdout)
		}
		return nil
	})
}

// startScript is installScript's last line.
const startScript = "systemctl start sitevpn 2>&1\n"

func linkFile(mac, name string) []byte {
	return fmt.Appendf(nil, "[Match]\nMACAddress=%s\n\n[Link]\nName=%s\n", mac, name)
}

func writeGatewayFiles(g *gateway, repo, deb string) error {
	vm := g.VM
	for i, name := range []string{"eth0", "eth1", "eth2"} {
		if err := vm.WriteFile("/etc/systemd/network/10-"+name+".link", linkFile(vm.NICs[i].MAC.String(), name), 0o644); err != nil {
			return err
		}
	}
	network := fmt.Sprintf("[Network]\nIPv6AcceptRA=no\nLinkLocalAddressing=ipv6\n\n[Address]\nAddress=2001:db8:%d::%d/64\nDuplicateAddressDetection=none\n\n[Route]\nDestination=2001:db8::/32\n", g.Site, g.N)
	if err := vm.WriteNetwork(0, "20-internet", network); err != nil {
		return err
	}
	files := map[string]string{
		deb: "/root/stage/sitevpn.deb",
		filepath.Join(repo, "examples/article/fleet.hcl"):               "/root/stage/fleet.hcl",
		filepath.Join(repo, "examples/article/lab-keys", g.Name+".key"): "/root/stage/private.key",
		filepath.Join(repo, "examples/article/lab-keys/sydney.hcl"):     "/root/stage/push/sydney.hcl",
	}
	if g.Site == 4 {
		files[filepath.Join(repo, "examples/article/lab-keys/sydney.hcl")] = "/root/stage/sydney.hcl"
	}
	for host, guest := range files {
		if err := vm.CopyFile(host, guest, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// The site routers: namespace rS, routing as a site router tuned for
// failover does: a next hop whose link lost its carrier is not used
// (ignore_routes_with_linkdown), instead of until OSPF's next tick (1 s)
// recomputes; the failover scenario measures sitevpn's part, the gateways'.
// Each router: a dummy with the site's prefixes, one
// link to each gateway of the site (192.168.S<n>.1/24, the gateway being
// .11 or .12 as the fleet's lan blocks say), BIRD with OSPFv2 and v3.
const routerBird = `log syslog all;
router id 10.0.%[1]d.1;
protocol device {
}
protocol kernel kernel4 {
	merge paths yes;
	ipv4 { export where source != RTS_DEVICE; };
}
protocol kernel kernel6 {
	merge paths yes;
	ipv6 { export where source != RTS_DEVICE; };
}
protocol ospf v2 ospf4 {
	ecmp yes;
	merge external yes;
	ipv4 { import all; export none; };
	area 0 {
		interface "dummy0" { stub yes; };
		interface "to-*";
	};
}
protocol ospf v3 ospf6 {
	ecmp yes;
	merge external yes;
	ipv6 { import all; export none; };
	area 0 {
		interface "dummy0" { stub yes; };
		interface "to-*";
	};
}
`

const routersScript = `set -e
for s in 1 2 3 4; do
	ip netns add r$s
	ip -n r$s link set lo up
	ip netns exec r$s sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv4.conf.all.ignore_routes_with_linkdown=1 net.ipv4.conf.default.ignore_routes_with_linkdown=1 \
		net.ipv6.conf.all.ignore_routes_with_linkdown=1 net.ipv6.conf.default.ignore_routes_with_linkdown=1
	ip -n r$s link add dummy0 type dummy
	ip -n r$s addr add 10.0.$s.1/24 dev dummy0
	ip -n r$s addr add 2001:db8:a$s::1/64 dev dummy0 nodad
	ip -n r$s link set dummy0 up
	for n in 1 2; do
		ip link set to-v$s-$n netns r$s
		ip -n r$s addr add 192.168.$s$n.1/24 dev to-v$s-$n
		ip -n r$s link set to-v$s-$n up
	done
	ip netns exec r$s bird -c /etc/lab/bird-r$s.conf -s /run/bird-r$s.ctl </dev/null >/dev/null 2>&1
done
`

func writeRouterFiles(vm *VM, gws []*gateway) error {
	for i, g := range gws {
		if err := vm.WriteFile("/etc/systemd/network/10-to-"+g.Name+".link", linkFile(vm.NICs[i].MAC.String(), "to-"+g.Name), 0o644); err != nil {
			return err
		}
	}
	for s := 1; s <= 4; s++ {
		if err := vm.WriteFile(fmt.Sprintf("/etc/lab/bird-r%d.conf", s), fmt.Appendf(nil, routerBird, s), 0o644); err != nil {
			return err
		}
	}
	return vm.WriteFile("/root/routers.sh", []byte(routersScript), 0o755)
}

// health is one gateway's reading of what the article shows.
type health struct {
	links       []string // WireGuard links in the private namespace
	handshakes  int      // of them with a handshake
	established int      // BGP sessions Established
	statusOK    bool     // sitevpn status exit 0 (withStatus)
	statusRead  bool     // withStatus ran
	out         string   // the raw outputs, for the evidence
}

func (h health) String() string {
	status := "not read"
	if h.statusRead {
		status = fmt.Sprintf("ok=%v", h.statusOK)
	}
	return fmt.Sprintf("%d links, %d handshakes, %d Established, status %s", len(h.links), h.handshakes, h.established, status)
}

var (
	reWG    = regexp.MustCompile(`(?m)^(wg\d+)\s`)
	reHS    = regexp.MustCompile(`(?m)^(wg\d+)\s+\S+\s+(\d+)$`)
	reBGPUp = regexp.MustCompile(`(?m)^wg\d+\s+BGP\s+.*\sEstablished`)
)

// readHealth reads one gateway's tunnels in one guest call, with the real
// tools (ip, wg, birdc). sitevpn status is left to withStatus: it costs as
// much guest CPU as the rest, and a poll that sees the tunnels not yet up
// needs no more.
func readHealth(ctx context.Context, vm *VM) (health, error) {
	res, err := vm.Sh(ctx, `ip -n private -br link show type wireguard; echo ---
ip netns exec private wg show all latest-handshakes; echo ---
`+birdc+` show protocols`)
	if err != nil {
		return health{}, err
	}
	parts := strings.Split(res.Stdout, "---\n")
	if len(parts) != 3 {
		return health{}, fmt.Errorf("%s: unexpected output:\n%s", vm.Name, res.Stdout)
	}
	var h health
	h.out = res.Stdout
	for _, m := range reWG.FindAllStringSubmatch(parts[0], -1) {
		h.links = append(h.links, m[1])
	}
	for _, m := range reHS.FindAllStringSubmatch(parts[1], -1) {
		if m[2] != "0" {
			h.handshakes++
		}
	}
	h.established = len(reBGPUp.FindAllString(parts[2], -1))
	return h, nil
}

// withStatus sets statusOK from sitevpn status's exit code.
func (h *health) withStatus(ctx context.Context, vm *VM) error {
	res, err := vm.Sh(ctx, "sitevpn status >/dev/null 2>&1 && echo status-ok || echo status-failed")
	if err != nil {
		return err
	}
	h.statusOK, h.statusRead = strings.TrimSpace(res.Stdout) == "status-ok", true
	return nil
}

// up reports whether h has tunnels links, each with a handshake and its
// session Established.
func (h health) up(tunnels int) bool {
	return len(h.links) == tunnels && h.handshakes == tunnels && h.established == tunnels
}

// healthy reports whether h is up with tunnels and sitevpn status agrees;
// status is asked only once the tunnels are up.
func (h *health) healthy(ctx context.Context, vm *VM, tunnels int) (bool, error) {
	if !h.up(tunnels) {
		return false, nil
	}
	if err := h.withStatus(ctx, vm); err != nil {
		return false, err
	}
	return h.statusOK, nil
}

// waitHealthy waits until each gateway has tunnels WireGuard links, each
// with a handshake, as many sessions Established, and sitevpn status
// exits 0.
func waitHealthy(ctx context.Context, gws []*gateway, tunnels int, timeout time.Duration) error {
	return waitUp(ctx, gws, tunnels, true, timeout)
}

// waitUp is waitHealthy, with sitevpn status's exit 0 required only when
// status is set.
func waitUp(ctx context.Context, gws []*gateway, tunnels int, status bool, timeout time.Duration) error {
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, g := range gws {
		wg.Go(func() {
			err := g.VM.WaitFor(ctx, timeout, fmt.Sprintf("%d healthy tunnels", tunnels), func(ctx context.Context) error {
				h, err := readHealth(ctx, g.VM)
				if err != nil {
					return err
				}
				ok := h.up(tunnels)
				if status {
					if ok, err = h.healthy(ctx, g.VM, tunnels); err != nil {
						return err
					}
				}
				if !ok {
					return fmt.Errorf("%s\n%s", h, h.out)
				}
				return nil
			})
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// evidence gathers what explains a failure on each gateway: status, the
// daemon's journal, BIRD's protocols.
func evidence(ctx context.Context, gws []*gateway) string {
	var b strings.Builder
	for _, g := range gws {
		res, _ := g.VM.Sh(ctx, "sitevpn status 2>&1; "+birdc+" show protocols 2>&1; systemctl --failed --no-legend --plain; journalctl -u sitevpn -u sitevpn-bird-private -u sitevpn-netns-private --no-pager -n 30 2>&1")
		fmt.Fprintf(&b, "=== %s\n%s\n", g.Name, res.Stdout)
	}
	return b.String()
}

// checkPlane checks, on each gateway, where the tunnels and their sockets
// live and the ECMP routes to every remote site. Routes wait for OSPF
// towards the site routers (its wait timer is 40 s on a fresh LAN).
func checkPlane(t *testing.T, tp *topology, gws []*gateway, sites int) {
	t.Helper()
	ctx := t.Context()
	err := eachVM(vmsOf(gws), func(vm *VM) error {
		return vm.WaitFor(ctx, 2*time.Minute, "sockets and ECMP routes", func(ctx context.Context) error {
			return planeOK(ctx, tp, vm, sites)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func planeOK(ctx context.Context, tp *topology, vm *VM, sites int) error {
	g := tp.gw(vm.Name)
	res, err := vm.Sh(ctx, `ss -H -uln; echo ---; ip netns exec private ss -H -uln; echo ---
ip -n private -br link show type wireguard; echo ---; ip -br link show type wireguard; echo ---
ip -n private -6 route show proto bird; echo ---; ip -n private -4 route show proto bird; echo ---
`+birdc+` show ospf neighbors; `+birdc+` show route count; `+birdc+` show route`)
	if err != nil {
		return err
	}
	p := strings.Split(res.Stdout, "---\n")
	var errs []error
	for _, other := range tp.sites(sites) {
		if other.Site == g.Site {
			continue
		}
		port := fmt.Sprintf(":%d ", 5800+other.id())
		if !strings.Contains(p[0], port) {
			errs = append(errs, fmt.Errorf("no UDP socket on port %d in the main namespace", 5800+other.id()))
		}
		if strings.Contains(p[1], port) {
			errs = append(errs, fmt.Errorf("UDP socket on port %d inside the private namespace", 5800+other.id()))
		}
	}
	if strings.TrimSpace(p[3]) != "" {
		errs = append(errs, fmt.Errorf("WireGuard links left in the main namespace: %s", p[3]))
	}
	for s := 1; s <= sites; s++ {
		if s == g.Site {
			continue
		}
		for _, c := range []struct{ routes, prefix string }{{p[4], fmt.Sprintf("2001:db8:a%d::/64", s)}, {p[5], fmt.Sprintf("10.0.%d.0/24", s)}} {
			if n := nextHops(c.routes, c.prefix); n != 2 {
				errs = append(errs, fmt.Errorf("%s: %d next hops, want 2 (ECMP over both gateways of site %d)", c.prefix, n, s))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w\n%s", errors.Join(errs...), res.Stdout)
	}
	return nil
}

// nextHops counts the next hops of prefix's route in `ip route` output.
func nextHops(routes, prefix string) int {
	lines := strings.Split(routes, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, prefix+" ") {
			continue
		}
		n := 0
		for _, next := range lines[i+1:] {
			if !strings.HasPrefix(next, "\tnexthop") {
				break
			}
			n++
		}
		if n == 0 && strings.Contains(l, " via ") {
			n = 1
		}
		return n
	}
	return 0
}

// pingAll pings from each site router's prefix addresses to every other
// site's, IPv6 and IPv4, waiting for routing to converge (OSPF towards the
// routers waits 40 s on a fresh LAN).
func pingAll(ctx context.Context, routers *VM, sites int, timeout time.Duration) error {
	var script strings.Builder
	for s := 1; s <= sites; s++ {
		for d := 1; d <= sites; d++ {
			if s == d {
				continue
			}
			fmt.Fprintf(&script, "ip netns exec r%d ping -q -c1 -W2 -I 2001:db8:a%d::1 2001:db8:a%d::1 >/dev/null || echo 'r%d -> 2001:db8:a%d::1 failed'\n", s, s, d, s, d)
			fmt.Fprintf(&script, "ip netns exec r%d ping -q -c1 -W2 -I 10.0.%d.1 10.0.%d.1 >/dev/null || echo 'r%d -> 10.0.%d.1 failed'\n", s, s, d, s, d)
		}
	}
	return routers.WaitFor(ctx, timeout, fmt.Sprintf("ping between the %d sites' routers", sites), func(ctx context.Context) error {
		res, err := routers.Sh(ctx, script.String())
		if err != nil {
			return err
		}
		if out := strings.TrimSpace(res.Stdout); out != "" {
			routes, _ := routers.Sh(ctx, "for s in 1 2 3 4; do echo r$s; ip -n r$s route; ip -n r$s -6 route | grep -v fe80; done")
			return fmt.Errorf("%s\nrouters' routes:\n%s", out, routes.Stdout)
		}
		return nil
	})
}

// articleOutputs prints, for one gateway, the article's three outputs side
// by side: wg show, BIRD's protocols, the kernel's ECMP routes.
func articleOutputs(t *testing.T, g *gateway) {
	res, err := g.VM.Sh(t.Context(), "echo '# ip netns exec private wg show'; ip netns exec private wg show; echo; echo '# birdc show protocols'; "+birdc+" show protocols; echo; echo '# ip -n private -6 route show proto bird'; ip -n private -6 route show proto bird; echo; echo '# ip -n private -4 route show proto bird'; ip -n private -4 route show proto bird; echo; echo '# sitevpn status'; sitevpn status")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s, as in the article:\n%s", g.Name, res.Stdout)
}

// logFigures logs a test's figures in the order of their names, with the
// time since start.
func logFigures(t *testing.T, title string, start time.Time, figures map[string]string) {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(figures)) {
		fmt.Fprintf(&b, "  %-52s %s\n", k, figures[k])
	}
	t.Logf("%s (total %s):\n%s", title, since(start), b.String())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// push writes a file into /etc/sitevpn on each gateway the way an editor
// or Ansible does (a temporary file renamed into place) and returns the
// guest time of the rename, per gateway.
func push(ctx context.Context, gws []*gateway, name, content string) (map[string]float64, error) {
	var mu sync.Mutex
	at := map[string]float64{}
	err := eachVM(vmsOf(gws), func(vm *VM) error {
		if err := os.WriteFile(filepath.Join(vm.Share, "push.tmp"), []byte(content), 0o644); err != nil {
			return err
		}
		ts, err := editAt(ctx, vm, fmt.Sprintf("cp /mnt/host/push.tmp /etc/sitevpn/.%[1]s.tmp && mv /etc/sitevpn/.%[1]s.tmp /etc/sitevpn/%[1]s", name))
		if err != nil {
			return err
		}
		mu.Lock()
		at[vm.Name] = ts
		mu.Unlock()
		return nil
	})
	return at, err
}

// editAt runs script, a change to /etc/sitevpn, in vm and returns the guest
// time of the change: a rename or removal there sets the directory's
// ctime. It is the instant of the edit itself, which a date run before mv
// would miss by mv's start-up (tens of ms under emulation).
func editAt(ctx context.Context, vm *VM, script string) (float64, error) {
	res, err := vm.Sh(ctx, script+" && stat -c %.9Z /etc/sitevpn")
	if err != nil {
		return 0, err
	}
	return strconv.ParseFloat(strings.TrimSpace(res.Stdout), 64)
}

// removeAll removes /etc/sitevpn/name on each gateway.
func removeAll(ctx context.Context, gws []*gateway, name string) error {
	return eachVM(vmsOf(gws), func(vm *VM) error {
		_, err := vm.Sh(ctx, "rm -f /etc/sitevpn/"+name)
		return err
	})
}

// appliedAfter waits until the daemon on vm logged an apply that changed
// something after guest time t, and reports how long after t that was, with
// the apply's own duration (the "took" it logged) beside it: the rest is the
// debounce, loading and rendering.
func appliedAfter(ctx context.Context, tb testing.TB, vm *VM, t float64, timeout time.Duration) (string, error) {
	took, apply, err := appliedLatency(ctx, tb, vm, t, timeout)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s (of which the apply: %s)", took, apply), nil
}

// appliedLatency is appliedAfter's measure: the time from t to the
// daemon's "applied ... took=" line, and that took. The daemon's lines
// from t on are logged, to see where the time goes.
func appliedLatency(ctx context.Context, tb testing.TB, vm *VM, t float64, timeout time.Duration) (time.Duration, string, error) {
	var took time.Duration
	apply := "?"
	err := vm.WaitFor(ctx, timeout, "an apply logged after the edit", func(ctx context.Context) error {
		// Poll the daemon's state file through the agent (no process in
		// the guest: a journalctl every 100 ms would compete with the
		// apply being measured for the guest's one emulated CPU); read
		// the journal once an apply started after the edit.
		b, err := vm.ReadFile(ctx, "/run/sitevpn/state.json")
		if err != nil {
			return err
		}
		var st struct {
			LastApply time.Time `json:"last_apply"`
		}
		if err := json.Unmarshal(b, &st); err != nil {
			return fmt.Errorf("state.json: %w", err)
		}
		if float64(st.LastApply.UnixNano())/1e9 < t {
			return fmt.Errorf("last apply started at %s, before the edit", st.LastApply.Format(time.StampMilli))
		}
		// --since takes whole seconds: an apply earlier in t's second is
		// skipped here, or it would be found first every time.
		res, err := vm.Sh(ctx, fmt.Sprintf("journalctl -u sitevpn -o short-unix --no-pager --since @%d | awk -v t=%.6f '$1 >= t && / msg=applied .* took=/ {print; exit}'", int64(t), t))
		if err != nil {
			return err
		}
		f := strings.Fields(res.Stdout)
		if len(f) == 0 {
			return errors.New("no line")
		}
		ts, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return err
		}
		took = time.Duration((ts - t) * float64(time.Second)).Round(time.Millisecond)
		for _, w := range f {
			if v, ok := strings.CutPrefix(w, "took="); ok {
				apply = v
			}
		}
		return nil
	})
	if err != nil {
		return 0, "", err
	}
	if res, err := vm.Sh(ctx, fmt.Sprintf("journalctl -u sitevpn -o short-precise --no-pager --since @%.3f | head -40", t)); err == nil {
		tb.Logf("%s: sitevpn's journal from the edit (at %.3f) on:\n%s", vm.Name, t, res.Stdout)
	}
	return took, apply, nil
}

// daemonRSS reads the resident memory of sitevpn's main process on vm.
func daemonRSS(ctx context.Context, vm *VM) (string, error) {
	res, err := vm.Sh(ctx, "grep VmRSS /proc/$(systemctl show -P MainPID sitevpn)/status")
	if err != nil {
		return "", err
	}
	return strings.Join(strings.Fields(strings.TrimPrefix(strings.TrimSpace(res.Stdout), "VmRSS:")), " "), nil
}
