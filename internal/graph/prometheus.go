package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// tunnelsQuery is every gateway's tunnels with the gateway's name, which
// sitevpn_gateway_info gives each scrape target.
const tunnelsQuery = `sitevpn_tunnel_up * on (job, instance) group_left (gateway) sitevpn_gateway_info`

// FromPrometheus is the health of the whole fleet as the Prometheus
// server at base sees it, from every gateway's sitevpn_tunnel_up. A
// tunnel that no gateway reports stays grey; one reported down by either
// end is down.
func FromPrometheus(ctx context.Context, hc *http.Client, base string) (Health, error) {
	u, err := url.Parse(strings.TrimSuffix(base, "/") + "/api/v1/query")
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("prometheus URL %q: write http://host:9090", base)
	}
	u.RawQuery = url.Values{"query": {tunnelsQuery}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("querying Prometheus: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("querying Prometheus: %w", err)
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
		return nil, fmt.Errorf("querying Prometheus (HTTP %d): %v %s", resp.StatusCode, err, r.Error)
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
