package daemon

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sitevpn/sitevpn/internal/check"
)

// Exporter serves the daemon's state as Prometheus metrics. It keeps the
// last state and turns it into metrics at scrape time, so a scrape never
// waits on WireGuard or BIRD.
type Exporter struct {
	mu    sync.Mutex
	state State
	reg   *prometheus.Registry

	lmu  sync.Mutex // the listener's
	addr string     // where it serves; "" nowhere
	srv  *http.Server
}

var (
	labels          = []string{"interface", "peer", "site"}
	descTunnelUp    = prometheus.NewDesc("sitevpn_tunnel_up", "1 when the tunnel's WireGuard handshake is fresh and its BGP session Established.", labels, nil)
	descHandshake   = prometheus.NewDesc("sitevpn_wireguard_last_handshake_timestamp_seconds", "Time of the tunnel's last WireGuard handshake (0: none yet).", labels, nil)
	descRx          = prometheus.NewDesc("sitevpn_wireguard_receive_bytes_total", "Bytes received on the tunnel, as WireGuard counts them.", labels, nil)
	descTx          = prometheus.NewDesc("sitevpn_wireguard_transmit_bytes_total", "Bytes sent on the tunnel, as WireGuard counts them.", labels, nil)
	descBGP         = prometheus.NewDesc("sitevpn_bgp_session_established", "1 when the tunnel's BGP session is Established.", labels, nil)
	descRoutes      = prometheus.NewDesc("sitevpn_bgp_routes_imported", "Routes imported from the tunnel's BGP session (both families).", labels, nil)
	descLimitHit    = prometheus.NewDesc("sitevpn_bgp_import_limit_hit", "1 when the tunnel's peer announced more routes than import_limit (those over it are dropped).", labels, nil)
	descConfigValid = prometheus.NewDesc("sitevpn_config_valid", "1 when the configuration on disk is valid (else the last good one is in force).", nil, nil)
	descApplies     = prometheus.NewDesc("sitevpn_applies_total", "Applies run (at start, on changes, on SIGHUP, periodic reconciles).", nil, nil)
	descChanges     = prometheus.NewDesc("sitevpn_apply_changes_total", "Applies that changed something on the system.", nil, nil)
	descApplyOK     = prometheus.NewDesc("sitevpn_last_apply_success", "1 when the last apply succeeded.", nil, nil)
	descApplyTime   = prometheus.NewDesc("sitevpn_last_apply_timestamp_seconds", "Time of the last apply.", nil, nil)
	descHealthy     = prometheus.NewDesc("sitevpn_healthy", "1 when every tunnel is up and nothing is wrong, as `sitevpn status` exits 0.", nil, nil)
	descGeneration  = prometheus.NewDesc("sitevpn_config_generation", "Generation of the configuration in force (counts the changes applied on this gateway).", nil, nil)
	descProbation   = prometheus.NewDesc("sitevpn_config_probation", "1 while a change is on probation: rolled back unless the tunnels it kept are up again by its deadline (or, with apply --confirm, unless confirmed).", nil, nil)
	descRolledBack  = prometheus.NewDesc("sitevpn_config_rolled_back", "1 while the files are a configuration that was rolled back: the confirmed one is in force until they change.", nil, nil)
	descRollbacks   = prometheus.NewDesc("sitevpn_rollbacks_total", "Changes rolled back since the daemon started.", nil, nil)
	descOSPF        = prometheus.NewDesc("sitevpn_ospf_adjacency_up", "1 when the OSPF neighbor on the LAN is adjacent (Full, or 2-Way between two DROthers); a LAN with ospf = true and no neighbor has one series with neighbor=\"\" at 0.", []string{"interface", "protocol", "neighbor"}, nil)
	descDrained     = prometheus.NewDesc("sitevpn_drained", "1 while the gateway is drained for maintenance (sitevpn drain): traffic avoids it.", nil, nil)
	descInfo        = prometheus.NewDesc("sitevpn_gateway_info", "Which gateway of the fleet this is (always 1): join on instance to name a scrape target's gateway.", []string{"gateway"}, nil)
)

// NewExporter returns an exporter with the Go and process collectors.
func NewExporter() *Exporter {
	e := &Exporter{reg: prometheus.NewRegistry()}
	e.reg.MustRegister(e, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return e
}

// Update takes a new state; it is the daemon's Metrics hook.
func (e *Exporter) Update(s State) {
	e.mu.Lock()
	e.state = s
	e.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descTunnelUp, descHandshake, descRx, descTx, descBGP, descRoutes, descLimitHit, descConfigValid, descApplies, descChanges, descApplyOK, descApplyTime, descHealthy, descGeneration, descProbation, descRolledBack, descRollbacks, descOSPF, descDrained, descInfo} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	s := e.state
	e.mu.Unlock()
	for _, t := range s.Health.Tunnels {
		l := []string{t.Interface, t.Peer, t.Site}
		ch <- prometheus.MustNewConstMetric(descTunnelUp, prometheus.GaugeValue, b2f(t.Up), l...)
		hs := 0.0
		if !t.Handshake.IsZero() {
			hs = float64(t.Handshake.UnixNano()) / 1e9
		}
		ch <- prometheus.MustNewConstMetric(descHandshake, prometheus.GaugeValue, hs, l...)
		ch <- prometheus.MustNewConstMetric(descRx, prometheus.CounterValue, float64(t.RxBytes), l...)
		ch <- prometheus.MustNewConstMetric(descTx, prometheus.CounterValue, float64(t.TxBytes), l...)
		ch <- prometheus.MustNewConstMetric(descBGP, prometheus.GaugeValue, b2f(t.BGPState == "Established"), l...)
		ch <- prometheus.MustNewConstMetric(descRoutes, prometheus.GaugeValue, float64(t.Routes), l...)
		ch <- prometheus.MustNewConstMetric(descLimitHit, prometheus.GaugeValue, b2f(t.ImportLimitHit), l...)
	}
	for _, a := range s.Health.Adjacencies {
		ch <- prometheus.MustNewConstMetric(descOSPF, prometheus.GaugeValue, b2f(a.Up), a.Interface, a.Protocol, a.Neighbor)
	}
	ch <- prometheus.MustNewConstMetric(descConfigValid, prometheus.GaugeValue, b2f(s.ConfigError == ""))
	ch <- prometheus.MustNewConstMetric(descApplies, prometheus.CounterValue, float64(s.Applies))
	ch <- prometheus.MustNewConstMetric(descChanges, prometheus.CounterValue, float64(s.Changes))
	ch <- prometheus.MustNewConstMetric(descApplyOK, prometheus.GaugeValue, b2f(s.ApplyError == "" && !s.LastApply.IsZero()))
	ch <- prometheus.MustNewConstMetric(descApplyTime, prometheus.GaugeValue, float64(s.LastApply.UnixNano())/1e9)
	ch <- prometheus.MustNewConstMetric(descHealthy, prometheus.GaugeValue, b2f(s.Report().Healthy))
	if c := s.Configuration; c != nil {
		ch <- prometheus.MustNewConstMetric(descGeneration, prometheus.GaugeValue, float64(c.Generation))
		ch <- prometheus.MustNewConstMetric(descProbation, prometheus.GaugeValue, b2f(c.State == check.Probation))
		ch <- prometheus.MustNewConstMetric(descRolledBack, prometheus.GaugeValue, b2f(c.State == check.RolledBack))
	}
	ch <- prometheus.MustNewConstMetric(descRollbacks, prometheus.CounterValue, float64(s.Rollbacks))
	ch <- prometheus.MustNewConstMetric(descDrained, prometheus.GaugeValue, b2f(!s.DrainedSince.IsZero()))
	if s.Health.Gateway != "" {
		ch <- prometheus.MustNewConstMetric(descInfo, prometheus.GaugeValue, 1, s.Health.Gateway)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Listen serves /metrics on addr ("" or "off": nowhere), replacing the
// listener of an earlier address, so a changed metrics_listen applies
// without a restart; the same address again changes nothing. The server
// bounds every phase of a request: a slow or idle client holds nothing.
func (e *Exporter) Listen(addr string) error {
	e.lmu.Lock()
	defer e.lmu.Unlock()
	if addr == "off" {
		addr = ""
	}
	if addr == e.addr {
		return nil
	}
	if e.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = e.srv.Shutdown(ctx)
		cancel()
		e.srv, e.addr = nil, ""
	}
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serving metrics on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{Timeout: 10 * time.Second}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 8 << 10}
	go func() { _ = srv.Serve(ln) }() // ends with Shutdown
	e.srv, e.addr = srv, addr
	return nil
}

// ParseListen checks a metrics address as --metrics-listen takes it:
// "off", or an address and a non-zero port.
func ParseListen(s string) (string, error) {
	if s == "off" {
		return s, nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Port() == 0 {
		return "", fmt.Errorf("metrics address %q: write an address and a port, such as 127.0.0.1:9474 or [::1]:9474, or off", s)
	}
	return ap.String(), nil
}
