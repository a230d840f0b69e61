package daemon

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sitevpn/sitevpn/internal/check"
)

func TestExporter(t *testing.T) {
	e := NewExporter()
	hs := time.Unix(1700000000, 0)
	e.Update(State{Applies: 3, Changes: 1, LastApply: hs, Health: check.Report{Healthy: false, Tunnels: []check.Tunnel{
		{Interface: "wg3", Peer: "v2-1", Site: "berlin", Up: true, Handshake: hs, RxBytes: 10, TxBytes: 20, BGPState: "Established", Routes: 2, ImportLimitHit: true},
		{Interface: "wg4", Peer: "v2-2", Site: "berlin", BGPState: "Active"},
	}}, ConfigError: "bad"})
	if problems, err := testutil.CollectAndLint(e); err != nil || len(problems) > 0 {
		t.Fatalf("metrics do not follow Prometheus conventions: %v %v", problems, err)
	}
	want := `
# HELP sitevpn_tunnel_up 1 when the tunnel's WireGuard handshake is fresh and its BGP session Established.
# TYPE sitevpn_tunnel_up gauge
sitevpn_tunnel_up{interface="wg3",peer="v2-1",site="berlin"} 1
sitevpn_tunnel_up{interface="wg4",peer="v2-2",site="berlin"} 0
# HELP sitevpn_bgp_import_limit_hit 1 when the tunnel's peer announced more routes than import_limit (those over it are dropped).
# TYPE sitevpn_bgp_import_limit_hit gauge
sitevpn_bgp_import_limit_hit{interface="wg3",peer="v2-1",site="berlin"} 1
sitevpn_bgp_import_limit_hit{interface="wg4",peer="v2-2",site="berlin"} 0
# HELP sitevpn_config_valid 1 when the configuration on disk is valid (else the last good one is in force).
# TYPE sitevpn_config_valid gauge
sitevpn_config_valid 0
`
	if err := testutil.CollectAndCompare(e, strings.NewReader(want), "sitevpn_tunnel_up", "sitevpn_bgp_import_limit_hit", "sitevpn_config_valid"); err != nil {
		t.Error(err)
	}

	// Served over HTTP on loopback, then moved to another address live.
	addr := freeAddr(t)
	if err := e.Listen(addr); err != nil {
		t.Fatal(err)
	}
	defer e.Listen("off")
	body := scrape(t, addr)
	moved := freeAddr(t)
	if err := e.Listen(moved); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
		t.Errorf("still served on %s after moving to %s", addr, moved)
	}
	if b := scrape(t, moved); !strings.Contains(b, "sitevpn_applies_total 3") {
		t.Errorf("not served on %s after the move", moved)
	}
	for _, m := range []string{"sitevpn_wireguard_receive_bytes_total{", "sitevpn_applies_total 3", "process_resident_memory_bytes"} {
		if !strings.Contains(body, m) {
			t.Errorf("/metrics lacks %q", m)
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// scrape reads /metrics at addr; Listen has bound it already.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestParseListen(t *testing.T) {
	for in, ok := range map[string]bool{"off": true, "127.0.0.1:9474": true, "[::1]:9474": true, "127.0.0.1:0": false, "localhost:9474": false, "9474": false, "": false} {
		if _, err := ParseListen(in); (err == nil) != ok {
			t.Errorf("ParseListen(%q): %v", in, err)
		}
	}
}

// promtool check metrics accepts the exporter's real output (make
// package-test runs it with SITEVPN_PROMTOOL=1, which installs promtool).
func TestPromtoolCheckMetrics(t *testing.T) {
	bin, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("SITEVPN_PROMTOOL") == "1" {
			t.Fatal("promtool not found, and SITEVPN_PROMTOOL=1: install prometheus")
		}
		t.Skip("promtool not found: make package-test installs it")
	}
	e := NewExporter()
	e.Update(State{Applies: 1, Rollbacks: 1, Configuration: &check.Configuration{Generation: 3, State: check.RolledBack, Rejected: 4, Reason: "wg3 (v2-1) no handshake yet"}, Health: check.Report{Tunnels: []check.Tunnel{{Interface: "wg3", Peer: "v2-1", Site: "berlin", Up: true, BGPState: "Established"}}}})
	addr := freeAddr(t)
	if err := e.Listen(addr); err != nil {
		t.Fatal(err)
	}
	defer e.Listen("off")
	body := scrape(t, addr)
	cmd := exec.Command(bin, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// The configuration's generation, a rollback and the LANs' OSPF
// adjacencies show in the metrics (SitevpnRolledBack fires on
// sitevpn_config_rolled_back).
func TestConfigurationMetrics(t *testing.T) {
	e := NewExporter()
	e.Update(State{Rollbacks: 2, Health: check.Report{Adjacencies: []check.Adjacency{{Interface: "eth2", Protocol: "ospf4", Neighbor: "10.0.1.1", State: "Full/DR", Up: true}, {Interface: "eth1", State: "none"}}}, Configuration: &check.Configuration{Generation: 3, State: check.RolledBack, Rejected: 4, Reason: "wg3 (v2-1) no handshake yet"}})
	want := `
# HELP sitevpn_config_generation Generation of the configuration in force (counts the changes applied on this gateway).
# TYPE sitevpn_config_generation gauge
sitevpn_config_generation 3
# HELP sitevpn_config_probation 1 while a change is on probation: rolled back unless the tunnels it kept are up again by its deadline (or, with apply --confirm, unless confirmed).
# TYPE sitevpn_config_probation gauge
sitevpn_config_probation 0
# HELP sitevpn_config_rolled_back 1 while the files are a configuration that was rolled back: the confirmed one is in force until they change.
# TYPE sitevpn_config_rolled_back gauge
sitevpn_config_rolled_back 1
# HELP sitevpn_rollbacks_total Changes rolled back since the daemon started.
# TYPE sitevpn_rollbacks_total counter
sitevpn_rollbacks_total 2
# HELP sitevpn_ospf_adjacency_up 1 when the OSPF neighbor on the LAN is adjacent (Full, or 2-Way between two DROthers); a LAN with ospf = true and no neighbor has one series with neighbor="" at 0.
# TYPE sitevpn_ospf_adjacency_up gauge
sitevpn_ospf_adjacency_up{interface="eth1",neighbor="",protocol=""} 0
sitevpn_ospf_adjacency_up{interface="eth2",neighbor="10.0.1.1",protocol="ospf4"} 1
`
	if err := testutil.CollectAndCompare(e, strings.NewReader(want), "sitevpn_config_generation", "sitevpn_config_probation", "sitevpn_config_rolled_back", "sitevpn_rollbacks_total", "sitevpn_ospf_adjacency_up"); err != nil {
		t.Error(err)
	}
}
