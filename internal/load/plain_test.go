package load

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// exampleFleet is the repository's example (testfleet imports this package).
const exampleFleet = "../../examples/article/fleet.hcl"

// hubAndSpokeFleet is the example of a hub-and-spoke fleet: hubs, a
// gateway without an endpoint, a DNS endpoint.
const hubAndSpokeFleet = "../../examples/hub-and-spoke/fleet.hcl"

// plainInputs are read by parsePlain; the awkward inputs are not, or not
// all.
var plainInputs = []string{
	"",
	"\n\n",
	"  # only a comment\n",
	"fleet {\n}\n",
	"fleet {\n  transit6 = \"2001:db8:ff::/64\" # why\n  mtu      = 1420\n  bfd = true\n  x = false\n}",
	"// c\nsite \"a\" \"b\" {\n\tprefixes = [\"10.0.0.0/24\", \"fd00::/48\",]\n  empty = []\n  multi = [\n    \"a\",\n    \"b\"\n  ]\n  gateway \"g\" {\n    lan \"eth1\" {\n    }\n  }\n}\n\n",
	"a {\n}\nb {\n}\n",
	"fleet {\n  topology         = \"hub-and-spoke\"\n  endpoint_refresh = 60\n}\nsite \"s\" {\n  hub = true\n  gateway \"g\" {\n    endpoint = \"vpn.shop.example.net:7000\"\n  }\n}\n",
}

// awkward are inputs at the edges of plain HCL: heredocs, block comments,
// templates, CRLF, non-ASCII, stray braces, top-level attributes, repeats.
var awkward = []string{
	"site \"a\" {\n}\n",
	"site \"a\" {\n  x = <<EOT\n}\nsite \"b\" {\nEOT\n}\n",
	"site \"a\" {\n  x = \"}\\n\"\n}\nsite \"b\" {\n}\n",
	"/* site \"a\" {\n}\n*/\nsite \"b\" {\n}\n",
	"site \"a\" {\n  x = \"${1}\"\n}\nsite \"b\" {\n}\n",
	"site \"a\" {\n}\nx = 1\nsite \"b\" {\n}\nx = 2\n",
	"site \"a\" {\n}\n}\nsite \"b\" {\n}\n",
	"site \"a\" {\n# }\n}\nsite \"b\" { // {\n}\n# trailing\n",
	"site \"a\" {\r\n}\r\nsite \"b\" {\r\n}\r\n",
	"site \"a\" {\n  x = \"unterminated\n}\nsite \"b\" {\n}\n",
	"\ufeffsite \"ä\" {\n  asn = \"é\"\n}\nsite \"b\" {\n}\n",
	"fleet {\n}\nsite \"a\" {\n  prefixes = [\n  ]\n}\nsite \"a\" {\n}\n",
}

// fleetFiles are the fleet files of the repository: validate's invalid
// and valid inputs, and the examples.
func fleetFiles(t testing.TB) [][]byte {
	paths, _ := filepath.Glob("../validate/testdata/invalid/*.hcl")
	paths = append(paths, "../validate/testdata/valid.hcl", exampleFleet, hubAndSpokeFleet)
	var files [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	return files
}

// Wherever parsePlain reads a file, its syntax tree is hclsyntax's.
func TestPlainIsHCL(t *testing.T) {
	files := fleetFiles(t)
	read := 0
	for _, b := range files {
		if samePlainAndHCL(t, b) {
			read++
		}
	}
	for _, s := range append(plainInputs, awkward...) {
		samePlainAndHCL(t, []byte(s))
	}
	for _, s := range plainInputs {
		if _, ok := parsePlain([]byte(s), "f.hcl"); !ok {
			t.Errorf("%q: not read as plain", s)
		}
	}
	if b, _ := os.ReadFile(exampleFleet); !samePlainAndHCL(t, b) {
		t.Error("the example fleet is not read as plain HCL")
	}
	t.Logf("%d of %d files read as plain HCL", read, len(files))
}

func FuzzParsePlain(f *testing.F) {
	for _, s := range append(plainInputs, awkward...) {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile(exampleFleet); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if checkNesting("f.hcl", src) == nil {
			samePlainAndHCL(t, src)
		}
	})
}

// samePlainAndHCL reports whether parsePlain reads src, and fails when it
// does and its tree is not hclsyntax's, or hcl has anything to say.
func samePlainAndHCL(t *testing.T, src []byte) bool {
	t.Helper()
	plain, ok := parsePlain(src, "f.hcl")
	if !ok {
		return false
	}
	whole, diags := hclsyntax.ParseConfig(src, "f.hcl", hcl.Pos{Line: 1, Column: 1})
	if len(diags) > 0 {
		t.Fatalf("%q: read as plain, but hcl says %v", src, diags)
	}
	if !reflect.DeepEqual(whole.Body, plain.Body) {
		t.Fatalf("%q: syntax trees differ:\nhcl:   %s\nplain: %s", src, dump(whole.Body), dump(plain.Body))
	}
	return true
}

// dump prints a body with its ranges, to see where two differ.
func dump(b hcl.Body) string {
	body := b.(*hclsyntax.Body)
	s := "{" + body.SrcRange.String() + " end " + body.EndRange.String()
	for name, a := range body.Attributes {
		s += " " + name + "@" + a.SrcRange.String() + "/" + a.NameRange.String() + "/" + a.EqualsRange.String() + "=" + a.Expr.Range().String()
		if tu, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok {
			s += "(open " + tu.OpenRange.String()
			for _, e := range tu.Exprs {
				s += " " + e.Range().String()
			}
			s += ")"
		}
		if te, ok := a.Expr.(*hclsyntax.TemplateExpr); ok {
			for _, e := range te.Parts {
				s += " part " + e.Range().String()
			}
		}
	}
	for _, blk := range body.Blocks {
		s += " " + blk.Type + "@" + blk.TypeRange.String() + " open " + blk.OpenBraceRange.String() + " close " + blk.CloseBraceRange.String() + " " + dump(blk.Body)
	}
	return s + "}"
}
