package validate_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"

	"github.com/sitevpn/sitevpn/internal/diag"
	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/validate"
)

var update = flag.Bool("update", false, "rewrite the golden .err files")

func check(path string) (string, bool) {
	// As sitevpn reads files: the limits and refusals of load.Files apply.
	doc, diags := load.Files([]string{filepath.ToSlash(path)})
	if doc == nil {
		return diag.Format(diags, nil), diags.HasErrors()
	}
	_, vd := validate.Validate(doc)
	diags = append(diags, vd...)
	return diag.Format(diags, doc.Files), diags.HasErrors()
}

func TestValidBase(t *testing.T) {
	if out, bad := check("testdata/valid.hcl"); bad || out != "" {
		t.Fatalf("the base of the invalid cases is invalid itself:\n%s", out)
	}
}

// TestInvalid: each testdata/invalid/NAME.hcl is the valid base with one
// thing wrong; its diagnostics (position, message, quoted source) must be
// exactly testdata/invalid/NAME.err.
func TestInvalid(t *testing.T) {
	cases, err := filepath.Glob("testdata/invalid/*.hcl")
	if err != nil || len(cases) < 25 {
		t.Fatalf("%d invalid cases (%v), want at least 25", len(cases), err)
	}
	for _, c := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(c), ".hcl"), func(t *testing.T) {
			got, bad := check(c)
			if !bad {
				t.Fatalf("no error reported; diagnostics:\n%s", got)
			}
			compareGolden(t, c, got)
		})
	}
}

// TestWarnings: each testdata/warn/NAME.hcl is valid but risky: no error,
// and its warnings (position, the risk in words) exactly NAME.err.
func TestWarnings(t *testing.T) {
	cases, err := filepath.Glob("testdata/warn/*.hcl")
	if err != nil || len(cases) < 4 {
		t.Fatalf("%d warning cases (%v), want at least 4", len(cases), err)
	}
	for _, c := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(c), ".hcl"), func(t *testing.T) {
			got, bad := check(c)
			if bad || !strings.Contains(got, ": warning: ") {
				t.Fatalf("want warnings and no error; diagnostics:\n%s", got)
			}
			compareGolden(t, c, got)
		})
	}
}

// compareGolden compares the diagnostics of case c with c's .err file
// (-update writes it).
func compareGolden(t *testing.T, c, got string) {
	t.Helper()
	golden := strings.TrimSuffix(c, ".hcl") + ".err"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./internal/validate -update writes it; review it)", err)
	}
	if got != string(want) {
		t.Errorf("diagnostics differ from %s:\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
}

// A conflict between files names both: port_base in one, the id that
// overflows it in another; an endpoint's port in one, that id in another.
func TestConflictAcrossFilesNamesBoth(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"fleet.hcl": "fleet {\n  port_base = 65000\n  transit6  = \"2001:db8:ff::/64\"\n}\n",
		"paris.hcl": "site \"paris\" {\n  asn      = 65001\n  prefixes = [\"10.0.1.0/24\"]\n  gateway \"v1-1\" {\n    id         = 1\n    endpoint   = \"[2001:db8:1::1]:65500\"\n    public_key = \"ll5iJo0Skv/z4AhZUn7jc1QYcsw0Co8CP//gAIgPsDM=\"\n  }\n}\n",
		"tokyo.hcl": "site \"tokyo\" {\n  asn      = 65003\n  prefixes = [\"10.0.3.0/24\"]\n  gateway \"v3-1\" {\n    id         = 600\n    endpoint   = \"2001:db8:3::1\"\n    public_key = \"tu332Zy9c8g6n9PG6OLBkatkvL9zPDR5K5paj0Gi/GQ=\"\n  }\n}\n",
	}
	var paths []string
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, filepath.ToSlash(p))
	}
	doc, diags := load.Files(paths)
	if doc == nil {
		t.Fatal(diag.Format(diags, nil))
	}
	_, vd := validate.Validate(doc)
	out := diag.Format(vd, doc.Files)
	for _, want := range []string{
		"fleet.hcl:2:15: error: port_base too high: port_base 65000 plus the highest gateway id 600 (" + filepath.ToSlash(filepath.Join(dir, "tokyo.hcl")) + ":5:18)",
		"paris.hcl:6:18: error: Endpoint port too high: endpoint [2001:db8:1::1]:65500: peers reach this gateway at its port plus their own id, up to 66100 with the highest id 600 (" + filepath.ToSlash(filepath.Join(dir, "tokyo.hcl")) + ":5:18)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
}

// A mesh of 1,000 endpoint-less sites (499,500 pairs that can never
// connect) gets a bounded report: a few errors and the count, not one
// error per pair.
func TestErrorsStayBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("fleet {\n  port_base = 5800\n  transit6  = \"2001:db8:ff::/64\"\n}\n")
	for i := 1; i <= 1000; i++ {
		k, err := wgtypes.GeneratePrivateKey()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "site \"s%d\" {\n  asn      = %d\n  prefixes = [\"10.%d.%d.0/24\"]\n  gateway \"g%d\" {\n    id         = %d\n    public_key = %q\n  }\n}\n", i, 64512+i, i/256, i%256, i, i, k.PublicKey().String())
	}
	path := filepath.Join(t.TempDir(), "fleet.hcl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, bad := check(path)
	if !bad || strings.Count(out, ": error: ") > 10 || len(out) > 20000 {
		t.Fatalf("%d errors, %d bytes; want at most 10 errors in 20 kB:\n%.3000s", strings.Count(out, ": error: "), len(out), out)
	}
	if !strings.Contains(out, "994 more gateways, the first here, have no endpoint") || !strings.Contains(out, "499500 pairs of gateways in all can never connect") {
		t.Errorf("the count of what is left out is missing:\n%s", out)
	}
}
