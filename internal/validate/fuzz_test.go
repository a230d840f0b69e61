package validate_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sitevpn/sitevpn/internal/diag"
	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/internal/testfleet"
	"github.com/sitevpn/sitevpn/internal/validate"
	"github.com/sitevpn/sitevpn/render"
)

// FuzzLoadValidate feeds arbitrary bytes through load and validate, and
// whatever validates through plan and render for every gateway: no input
// may panic, and a valid fleet must render. .ci/run fuzzes it for 60 s.
func FuzzLoadValidate(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/invalid/*.hcl")
	seeds = append(seeds, "testdata/valid.hcl", filepath.Join(testfleet.ExampleDir(), "fleet.hcl"), filepath.Join(testfleet.HubAndSpokeDir(), "fleet.hcl"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		doc, diags := load.Parse([]load.Source{{Name: "fuzz.hcl", Bytes: src}})
		fl, vd := validate.Validate(doc)
		diags = append(diags, vd...)
		_ = diag.Format(diags, doc.Files)
		if fl == nil || diags.HasErrors() {
			return
		}
		for _, g := range fl.Gateways() {
			if _, err := render.Render(plan.For(fl, g)); err != nil {
				t.Fatalf("valid fleet does not render for %s: %v", g.Name, err)
			}
		}
	})
}
