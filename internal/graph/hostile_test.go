package graph

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// `sitevpn graph --prometheus` does not trust the server: one that never
// answers, one that sends a huge body, one whose error carries terminal
// escapes; each gives a clear error, bounded in time and size.
func TestPrometheusHostileServers(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() { // accepts, reads, never answers
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		chunk := bytes.Repeat([]byte("x"), 1<<20)
		for range 100 { // 100 MiB, more than any answer is read
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer huge.Close()
	escapes := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"status":"error","error":"\u001b[2J\u001b[31mpwned\u0007 ` + strings.Repeat("y", 10000) + `"}`))
	}))
	defer escapes.Close()
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("\x1b]0;title\x07upstream\r\nfailed"))
	}))
	defer plain.Close()

	// The huge body is cut by size, not time: it gets a client bound that
	// reading 64 MiB on a loaded machine (a CI run's image build beside
	// it) stays far under; the silent server shows the time bound.
	for _, tc := range []struct {
		name, url string
		bound     time.Duration
		want      []string
	}{
		{"never answers", "http://" + silent.Addr().String(), 2 * time.Second, []string{"querying Prometheus at http://" + silent.Addr().String(), "is it up"}},
		{"huge body", huge.URL, time.Minute, []string{"over 64 MiB"}},
		{"escapes in the error", escapes.URL, 2 * time.Second, []string{"HTTP 400", `"\x1b[2J\x1b[31mpwned\x07 yyy`, "... (cut)"}},
		{"not JSON", plain.URL, 2 * time.Second, []string{"HTTP 502", `"\x1b]0;title\x07upstream failed"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := FromPrometheus(context.Background(), NewClient(tc.bound), tc.url)
			took := time.Since(start)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q, want it to contain %q", msg, w)
				}
			}
			if strings.ContainsAny(msg, "\x1b\x07\r\n") || len(msg) > 1000 {
				t.Errorf("error of %d bytes, or with raw control characters: %q", len(msg), msg)
			}
			if took > tc.bound+8*time.Second {
				t.Errorf("took %s: the client's %s bound did not hold", took, tc.bound)
			}
		})
	}
}

// Label values from the server cannot break out of the DOT output: a
// gateway label naming no gateway of the fleet colours nothing, and a
// real one's problem is quoted.
func TestPrometheusLabelsCannotInject(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"status":"success","data":{"result":[
			{"metric":{"gateway":"v1-1\"] evil [x=\"","peer":"v2-1"},"value":[0,"0"]},
			{"metric":{"gateway":"v1-1","peer":"v2-1\";\n}\ndigraph x {"},"value":[0,"0"]},
			{"metric":{"gateway":"v1-1","peer":"v3-1"},"value":[0,"0"]}]}}`))
	}))
	defer srv.Close()
	h, err := FromPrometheus(context.Background(), NewClient(2*time.Second), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Write(&out, example(t, false), h); err != nil {
		t.Fatal(err)
	}
	dot := out.String()
	if strings.Contains(dot, "evil") || strings.Contains(dot, "digraph x") {
		t.Errorf("a label broke into the DOT output:\n%s", dot)
	}
	if !strings.Contains(dot, `label="down, says v1-1"`) || strings.Count(dot, "down, says") != 1 {
		t.Errorf("want only v1-1 -- v3-1 drawn down:\n%s", dot)
	}
}
