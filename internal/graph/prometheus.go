package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sitevpn/sitevpn/internal/diag"
)

// tunnelsQuery is every gateway's tunnels with the gateway's name, which
// sitevpn_gateway_info gives each scrape target.
const tunnelsQuery = `sitevpn_tunnel_up * on (job, instance) group_left (gateway) sitevpn_gateway_info`

// PrometheusTimeout bounds a whole query of `sitevpn graph --prometheus`:
// connect, answer and body.
const PrometheusTimeout = 30 * time.Second

// maxAnswer bounds the body read: a fleet of 1,000 gateways with 100
// tunnels each answers about 20 MB. maxQuoted bounds what an error quotes
// of the server's own text.
const (
	maxAnswer = 64 << 20
	maxQuoted = 300
)

// NewClient is the HTTP client for FromPrometheus: every phase bounded,
// the whole request by timeout.
func NewClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: min(timeout, 5*time.Second)}).DialContext,
			TLSHandshakeTimeout:   min(timeout, 5*time.Second),
			ResponseHeaderTimeout: timeout,
		},
	}
}

// FromPrometheus is the health of the whole fleet as the Prometheus
// server at base sees it, from every gateway's sitevpn_tunnel_up. A
// tunnel that no gateway reports stays grey; one reported down by either
// end is down. The server is not trusted: its answer is read up to
// maxAnswer, and an error quotes its text cut and escaped.
func FromPrometheus(ctx context.Context, hc *http.Client, base string) (Health, error) {
	u, err := url.Parse(strings.TrimSuffix(base, "/") + "/api/v1/query")
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("prometheus URL %q: write http://host:9090", diag.Printable(base, maxQuoted))
	}
	u.RawQuery = url.Values{"query": {tunnelsQuery}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	where := u.Scheme + "://" + u.Host
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("querying Prometheus at %s: %w (is it up, and is this its address?)", where, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("querying Prometheus at %s: reading its answer: %w", where, err)
	}
	if len(body) > maxAnswer {
		return nil, fmt.Errorf("querying Prometheus at %s: its answer is over %d MiB, more than a fleet's tunnels: is this a Prometheus server?", where, maxAnswer>>20)
	}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		said := r.Error
		if err != nil {
			said = string(body)
		}
		return nil, fmt.Errorf("querying Prometheus at %s: HTTP %d, not a successful query: %s", where, resp.StatusCode, quoted(said))
	}
	h := Health{}
	for _, s := range r.Data.Result {
		gw, peer := s.Metric["gateway"], s.Metric["peer"]
		if gw == "" || peer == "" {
			continue
		}
		up := s.Value[1] == "1"
		k := Key(gw, peer)
		if old, seen := h[k]; seen && !old.Up {
			continue // either end down: down
		}
		st := EdgeState{Up: up}
		if !up {
			st.Problem = "down, says " + gw
		}
		h[k] = st
	}
	return h, nil
}

// quoted is a server's text as an error may show it: on one line, cut,
// with control characters escaped.
func quoted(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "(no text)"
	}
	return `"` + diag.Printable(strings.Join(strings.Fields(s), " "), maxQuoted) + `"`
}
