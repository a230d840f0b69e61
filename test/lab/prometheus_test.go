//go:build lab

package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// metricsPort is where the alerting scenario has every gateway serve its
// metrics, on the address of its forward NIC (vm.Forward).
const metricsPort = 9474

// scenarioPrometheus is issue 15's check of the alerting path, end to end:
// a real Prometheus (Debian's, on the host: the lab's segments carry no
// host) scrapes the eight gateways through their forwarded ports, with the
// package's alert rules loaded (their "for: 2m" as labFor). metrics_listen reaches the gateways as any
// change does, pushed in the fleet file and followed without a restart.
// Then v2-2 is powered off: SitevpnTunnelDown must fire for the six
// tunnels to it, and only those, SitevpnDaemonDown for v2-2 itself, and
// SitevpnSiteUnreachable not at all (v2-1 still serves berlin); the times
// to fire are printed. `sitevpn graph --prometheus` (the packaged binary,
// on the fleet in force) must draw v2-2's six tunnels down and the
// eighteen others up. It leaves v2-2 off: it runs last.
func scenarioPrometheus(t *testing.T, tp *topology, figures map[string]string) {
	ctx := t.Context()
	if sites, err := sitesInForce(ctx, tp); err != nil || sites != 4 {
		t.Fatalf("the scenario expects the four sites in force: %d sites, %v", sites, err)
	}
	pkg := t.TempDir()
	if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", tp.deb, pkg).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -x: %v\n%s", err, out)
	}
	fleetDir := t.TempDir()
	fleet := fleetInForce(t, tp, fleetDir)
	start := time.Now()
	scraped := strings.Replace(fleet, "fleet {", fmt.Sprintf("fleet {\n  metrics_listen = \"10.0.2.15:%d\"", metricsPort), 1)
	if _, err := push(ctx, tp.gws, "fleet.hcl", scraped); err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(fleetDir, "fleet.hcl"), []byte(scraped), 0o644))

	prom := startPrometheus(t, tp, labRules(t, filepath.Join(pkg, "usr/share/sitevpn/prometheus/sitevpn-alerts.yml")))
	tunnels := len(tp.gws) * (len(tp.gws) - 2) // a tunnel to every gateway of the other sites, per gateway
	err := WaitFor(ctx, 3*time.Minute, fmt.Sprintf("Prometheus scraping %d gateways, %d tunnels up", len(tp.gws), tunnels), func(ctx context.Context) error {
		up, err := prom.scalar(ctx, `count(up{job="sitevpn"} == 1)`)
		if err != nil {
			return err
		}
		healthy, err := prom.scalar(ctx, `count(sitevpn_tunnel_up == 1)`)
		if err != nil {
			return err
		}
		if up != len(tp.gws) || healthy != tunnels {
			return fmt.Errorf("%d gateways scraped, %d tunnels up", up, healthy)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, prom.log())
	}
	figures["i0. metrics_listen pushed -> every gateway scraped, every tunnel up"] = since(start).String()

	victim := tp.gw("v2-2")
	var peers []string
	for _, g := range tp.gws {
		if g.Site != victim.Site {
			peers = append(peers, g.Name)
		}
	}
	killed := time.Now()
	must(t, victim.VM.Kill())
	firing := map[string]time.Duration{} // "alert instance" -> time to fire
	err = WaitFor(ctx, 6*time.Minute, "the alerts of a gateway powered off", func(ctx context.Context) error {
		alerts, err := prom.alerts(ctx)
		if err != nil {
			return err
		}
		for _, a := range alerts {
			if a.State != "firing" {
				continue
			}
			k := a.Labels["alertname"] + " " + a.Labels["instance"]
			if _, seen := firing[k]; !seen {
				firing[k] = time.Since(killed)
			}
		}
		var missing []string
		for _, p := range peers {
			if _, ok := firing["SitevpnTunnelDown "+p]; !ok {
				missing = append(missing, p)
			}
		}
		if _, ok := firing["SitevpnDaemonDown "+victim.Name]; !ok {
			missing = append(missing, "SitevpnDaemonDown "+victim.Name)
		}
		if len(missing) > 0 {
			return fmt.Errorf("not firing yet: %v", missing)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, prom.log())
	}
	var first, last time.Duration
	for _, p := range peers {
		d := firing["SitevpnTunnelDown "+p]
		if first == 0 || d < first {
			first = d
		}
		last = max(last, d)
	}
	figures["i1. v2-2 powered off -> SitevpnTunnelDown firing (for: "+labFor+"), first / sixth"] = fmt.Sprintf("%s / %s", first.Round(time.Second), last.Round(time.Second))
	figures["i2. v2-2 powered off -> SitevpnDaemonDown firing (for: "+labFor+")"] = firing["SitevpnDaemonDown "+victim.Name].Round(time.Second).String()

	alerts, err := prom.alerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	down := 0
	for _, a := range alerts {
		switch a.Labels["alertname"] {
		case "SitevpnTunnelDown":
			if a.Labels["peer"] != victim.Name {
				t.Errorf("SitevpnTunnelDown %s for a tunnel not to %s: %v", a.State, victim.Name, a.Labels)
			}
			down++
		case "SitevpnSiteUnreachable":
			t.Errorf("SitevpnSiteUnreachable %s while v2-1 serves berlin: %v", a.State, a.Labels)
		}
	}
	if down != len(peers) {
		t.Errorf("%d SitevpnTunnelDown alerts, want %d (one per tunnel to %s): %+v", down, len(peers), victim.Name, alerts)
	}
	t.Logf("alerts with %s off: %+v", victim.Name, alerts)

	graphDrawsDown(t, filepath.Join(pkg, "usr/bin/sitevpn"), fleetDir, prom.base, victim.Name, tunnels/2)
}

// labFor replaces the shipped rules' "for: 2m" in the lab: the scenario
// proves that the package's expressions fire on real daemons' metrics;
// promtool's tests (packaging/prometheus) prove the 2m, without waiting.
const labFor = "20s"

// labRules is a copy of the shipped rules file with labFor.
func labRules(t *testing.T, shipped string) string {
	t.Helper()
	b, err := os.ReadFile(shipped)
	if err != nil {
		t.Fatal(err)
	}
	rules := strings.ReplaceAll(string(b), "for: 2m\n", "for: "+labFor+"\n")
	if rules == string(b) {
		t.Fatalf("%s has no \"for: 2m\" to shorten for the lab", shipped)
	}
	path := filepath.Join(t.TempDir(), "sitevpn-alerts.yml")
	must(t, os.WriteFile(path, []byte(rules), 0o644))
	return path
}

// fleetInForce copies the gateways' *.hcl files (those of v1-1, the same
// everywhere) into dir and returns fleet.hcl's content.
func fleetInForce(t *testing.T, tp *topology, dir string) string {
	t.Helper()
	ctx := t.Context()
	vm := tp.gw("v1-1").VM
	res, err := vm.Sh(ctx, "ls /etc/sitevpn/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	var fleet string
	for _, path := range strings.Fields(res.Stdout) {
		b, err := vm.ReadFile(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		must(t, os.WriteFile(filepath.Join(dir, filepath.Base(path)), b, 0o644))
		if filepath.Base(path) == "fleet.hcl" {
			fleet = string(b)
		}
	}
	if !strings.Contains(fleet, "fleet {") {
		t.Fatalf("no fleet block in v1-1's fleet.hcl:\n%s", fleet)
	}
	return fleet
}

// edgeLine is one tunnel of `sitevpn graph`'s DOT output.
var edgeLine = regexp.MustCompile(`^\s*"([^"]+)" -- "([^"]+)" \[(.*)\];$`)

// graphDrawsDown runs `sitevpn graph --prometheus` and checks that it
// draws the tunnels of the gateway that is off down (red, dashed, with
// the reason) and every other one up (green).
func graphDrawsDown(t *testing.T, sitevpn, fleetDir, prom, off string, edges int) {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), sitevpn, "--config", fleetDir, "graph", "--prometheus", prom).CombinedOutput()
	if err != nil {
		t.Fatalf("sitevpn graph --prometheus: %v\n%s", err, out)
	}
	n := 0
	for line := range strings.Lines(string(out)) {
		m := edgeLine.FindStringSubmatch(strings.TrimRight(line, "\n"))
		if m == nil {
			continue
		}
		n++
		attrs := m[3]
		if m[1] == off || m[2] == off {
			if !strings.Contains(attrs, `color="#cc0000"`) || !strings.Contains(attrs, `label="down, says `) {
				t.Errorf("a tunnel of %s, which is off, is not drawn down: %s", off, line)
			}
		} else if !strings.Contains(attrs, `color="#2e8b57"`) {
			t.Errorf("a tunnel between two running gateways is not drawn up: %s", line)
		}
	}
	if n != edges {
		t.Errorf("sitevpn graph drew %d tunnels, want %d:\n%s", n, edges, out)
	}
	t.Logf("sitevpn graph --prometheus with %s off:\n%s", off, out)
}

// promServer is a Prometheus process on the host and its HTTP API.
type promServer struct {
	base    string
	logPath string
}

// startPrometheus runs Debian's Prometheus on the host with rules loaded,
// scraping every gateway's forwarded metrics port every 5 s (instance =
// the gateway's name), and stops it when the test ends.
func startPrometheus(t *testing.T, tp *topology, rules string) *promServer {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("prometheus is not installed on the host (image.sh installs it): %v", err)
	}
	dir := t.TempDir()
	var targets strings.Builder
	for _, g := range tp.gws {
		fmt.Fprintf(&targets, "      - targets: [\"127.0.0.1:%d\"]\n        labels: {instance: %q}\n", g.Metrics, g.Name)
	}
	config := fmt.Sprintf(`global:
  scrape_interval: 5s
  scrape_timeout: 4s
  evaluation_interval: 5s
rule_files: [%q]
scrape_configs:
  - job_name: sitevpn
    static_configs:
%s`, rules, targets.String())
	must(t, os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &promServer{base: "http://" + addr, logPath: filepath.Join(dir, "prometheus.log")}
	logf, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	if err := WaitFor(t.Context(), time.Minute, "Prometheus ready", func(ctx context.Context) error {
		_, err := p.get(ctx, "/-/ready")
		return err
	}); err != nil {
		t.Fatalf("%v\n%s", err, p.log())
	}
	return p
}

func (p *promServer) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d: %s", path, resp.StatusCode, body)
	}
	return body, nil
}

// scalar is the value of a query whose answer is one number, 0 when the
// answer is empty (count() of nothing).
func (p *promServer) scalar(ctx context.Context, query string) (int, error) {
	body, err := p.get(ctx, "/api/v1/query?query="+url.QueryEscape(query))
	if err != nil {
		return 0, err
	}
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, fmt.Errorf("%s: %w", query, err)
	}
	if len(r.Data.Result) == 0 {
		return 0, nil
	}
	var n int
	_, err = fmt.Sscan(fmt.Sprint(r.Data.Result[0].Value[1]), &n)
	return n, err
}

// promAlert is one alert of /api/v1/alerts: pending or firing.
type promAlert struct {
	Labels   map[string]string `json:"labels"`
	State    string            `json:"state"`
	ActiveAt time.Time         `json:"activeAt"`
}

func (p *promServer) alerts(ctx context.Context) ([]promAlert, error) {
	body, err := p.get(ctx, "/api/v1/alerts")
	if err != nil {
		return nil, err
	}
	var r struct {
		Data struct {
			Alerts []promAlert `json:"alerts"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, err
	}
	slices.SortFunc(r.Data.Alerts, func(a, b promAlert) int {
		return strings.Compare(a.Labels["alertname"]+a.Labels["instance"], b.Labels["alertname"]+b.Labels["instance"])
	})
	return r.Data.Alerts, nil
}

// log is the end of Prometheus's log, for a failure's evidence.
func (p *promServer) log() string {
	b, _ := os.ReadFile(p.logPath)
	return "--- prometheus log ---\n" + tail(string(b), 30)
}
