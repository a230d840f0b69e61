package load

import (
	"cmp"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// exampleFleet is the repository's example (testfleet imports this package).
const exampleFleet = "../../examples/article/fleet.hcl"

// hubAndSpokeFleet is the example of a hub-and-spoke fleet: hubs, a
// gateway without an endpoint, a DNS endpoint.
const hubAndSpokeFleet = "../../examples/hub-and-spoke/fleet.hcl"

// Inputs that a cut in the wrong place would parse differently.
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

// TestPiecesAgreeWithWholeFile: the fleet files of the repository, the
// invalid ones of validate's tests, a generated fleet and inputs built to
// mislead the cutter parse the same block by block as whole.
func TestPiecesAgreeWithWholeFile(t *testing.T) {
	for _, b := range fleetFiles(t) {
		samePiecesAndWhole(t, b)
	}
	for _, s := range awkward {
		samePiecesAndWhole(t, []byte(s))
	}
}

// fleetFiles are the fleet files of the repository: validate's invalid
// and valid inputs, and the example fleet.
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

// The example fleet is cut: one piece per top-level block.
func TestExampleFleetIsCut(t *testing.T) {
	b, err := os.ReadFile(exampleFleet)
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclsyntax.ParseConfig(b, "f.hcl", hcl.Pos{Line: 1, Column: 1})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if blocks, pieces := len(f.Body.(*hclsyntax.Body).Blocks), len(topLevelCuts(b)); pieces != blocks {
		t.Errorf("%d pieces for %d top-level blocks", pieces, blocks)
	}
}

func FuzzParsePieces(f *testing.F) {
	for _, s := range awkward {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile(exampleFleet); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if checkNesting("fuzz.hcl", src) != nil {
			return // Parse never hands such input to the parser
		}
		samePiecesAndWhole(t, src)
	})
}

// samePiecesAndWhole fails unless src gives the same diagnostics, root
// body ranges and decoded document parsed by parseHCL and as one file.
func samePiecesAndWhole(t *testing.T, src []byte) {
	t.Helper()
	whole, wdiags := hclsyntax.ParseConfig(src, "f.hcl", hcl.Pos{Line: 1, Column: 1})
	pieces, pdiags := parseHCL(src, "f.hcl")
	if !reflect.DeepEqual(comparable(wdiags), comparable(pdiags)) {
		t.Fatalf("%q: diagnostics differ:\nwhole:  %v\npieces: %v", src, wdiags, pdiags)
	}
	wb, pb := whole.Body.(*hclsyntax.Body), pieces.Body.(*hclsyntax.Body)
	if wb.SrcRange != pb.SrcRange || wb.EndRange != pb.EndRange {
		t.Errorf("%q: root body at %v (end %v), pieces at %v (end %v)", src, wb.SrcRange, wb.EndRange, pb.SrcRange, pb.EndRange)
	}
	wdoc, pdoc := &Document{}, &Document{}
	wd, pd := addBody(wdoc, wb), addBody(pdoc, pb)
	// hcl reports unexpected attributes in map order: compare as sets.
	if !reflect.DeepEqual(sorted(comparable(wd)), sorted(comparable(pd))) {
		t.Fatalf("%q: schema diagnostics differ:\nwhole:  %v\npieces: %v", src, wd, pd)
	}
	if !reflect.DeepEqual(wdoc, pdoc) {
		t.Fatalf("%q: documents differ", src)
	}
}

// addBody decodes body into doc as Parse does.
func addBody(doc *Document, body hcl.Body) hcl.Diagnostics {
	content, blocks := decodeBody(body)
	return doc.add(&parsed{content: content, blocks: blocks})
}

func sorted(diags []hcl.Diagnostic) []hcl.Diagnostic {
	slices.SortFunc(diags, func(a, b hcl.Diagnostic) int {
		return cmp.Or(cmp.Compare(start(a), start(b)), cmp.Compare(a.Summary, b.Summary), cmp.Compare(a.Detail, b.Detail))
	})
	return diags
}

func start(d hcl.Diagnostic) int {
	if d.Subject == nil {
		return -1
	}
	return d.Subject.Start.Byte
}

// comparable keeps what a diagnostic says and where, not the expression
// objects it points to.
func comparable(diags hcl.Diagnostics) []hcl.Diagnostic {
	var out []hcl.Diagnostic
	for _, d := range diags {
		out = append(out, hcl.Diagnostic{Severity: d.Severity, Summary: d.Summary, Detail: d.Detail, Subject: d.Subject, Context: d.Context})
	}
	return out
}
