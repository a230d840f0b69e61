package graph_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/sitevpn/sitevpn/internal/check"
	"github.com/sitevpn/sitevpn/internal/daemon"
	"github.com/sitevpn/sitevpn/internal/graph"
)

// A real Prometheus scrapes two gateways' exporters (v1-1 sees its tunnel
// to v2-1 up and to v3-1 down; v2-1 sees its tunnel to v1-1 up); the
// graph's health from it colours those tunnels and leaves the others grey.
// Run by make package-test (SITEVPN_PROMTOOL=1, which installs Debian's
// prometheus).
func TestIntegrationPrometheus(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("SITEVPN_PROMTOOL") == "1" {
			t.Fatal("prometheus not found, and SITEVPN_PROMTOOL=1: install prometheus")
		}
		t.Skip("prometheus not found: make package-test installs it")
	}
	targets := ""
	for _, rep := range []check.Report{
		{Gateway: "v1-1", Tunnels: []check.Tunnel{{Interface: "wg3", Peer: "v2-1", Site: "berlin", Up: true}, {Interface: "wg5", Peer: "v3-1", Site: "tokyo"}}},
		{Gateway: "v2-1", Tunnels: []check.Tunnel{{Interface: "wg1", Peer: "v1-1", Site: "paris", Up: true}}},
	} {
		e := daemon.NewExporter()
		e.Update(daemon.State{Health: rep})
		addr := freeAddr(t)
		if err := e.Listen(addr); err != nil {
			t.Fatal(err)
		}
		defer e.Listen("off")
		targets += fmt.Sprintf("%q, ", addr)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "prometheus.yml")
	cfg := fmt.Sprintf("global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: sitevpn\n    static_configs:\n      - targets: [%s]\n", targets)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	web := freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--config.file="+conf, "--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+web)
	log, _ := os.Create(filepath.Join(dir, "prometheus.log"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()

	var h graph.Health
	for {
		h, err = graph.FromPrometheus(ctx, http.DefaultClient, "http://"+web)
		if err == nil && len(h) == 2 {
			break
		}
		if ctx.Err() != nil {
			out, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
			t.Fatalf("no health from Prometheus: %v, %v\n%s", h, err, out)
		}
		time.Sleep(200 * time.Millisecond) // the next poll of a scrape every second
	}
	if st := h[graph.Key("v1-1", "v2-1")]; !st.Up {
		t.Errorf("v1-1 -- v2-1: %+v, want up", st)
	}
	if st := h[graph.Key("v3-1", "v1-1")]; st.Up || st.Problem != "down, says v1-1" {
		t.Errorf("v1-1 -- v3-1: %+v, want down", st)
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
