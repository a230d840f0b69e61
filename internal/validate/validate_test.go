package validate_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
