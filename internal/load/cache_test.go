package load

import (
	"cmp"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// A cached load gives what an uncached one gives, diagnostics included,
// for every invalid and valid fleet of package validate's cases: the
// first time through the cache, and the second, from it.
func TestCacheGivesTheSameDocument(t *testing.T) {
	cases, err := filepath.Glob("../validate/testdata/*/*.hcl")
	if err != nil || len(cases) < 25 {
		t.Fatalf("%d cases (%v)", len(cases), err)
	}
	c := NewCache()
	for _, path := range cases {
		want, wdiags := Files([]string{path})
		for i := range 2 {
			got, gdiags := c.Files([]string{path})
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s, load %d through the cache: the document differs", path, i+1)
			}
			// hcl reports unexpected attributes in map order: compare
			// as sets.
			if g, w := sorted(comparable(gdiags)), sorted(comparable(wdiags)); !reflect.DeepEqual(g, w) {
				t.Errorf("%s, load %d through the cache: diagnostics\n%v\nwant\n%v", path, i+1, g, w)
			}
		}
	}
}

// An edit decodes the file it changed; the others come from the cache,
// which holds the files of the last load only.
func TestCacheDecodesWhatChanged(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("fleet.hcl", "fleet {\n  transit6 = \"2001:db8:ff::/64\"\n}\n")
	write("a.hcl", "site \"a\" {\n  asn      = 65001\n  prefixes = [\"10.0.1.0/24\"]\n}\n")
	write("b.hcl", "site \"b\" {\n  asn      = 65002\n  prefixes = [\"10.0.2.0/24\"]\n}\n")
	c := NewCache()
	first := load(t, c, dir)
	write("b.hcl", "site \"b\" {\n  asn      = 65003\n  prefixes = [\"10.0.2.0/24\"]\n}\n")
	second := load(t, c, dir)
	if first.Sites[0] != second.Sites[0] {
		t.Error("a.hcl, unchanged, was decoded again")
	}
	if first.Sites[1] == second.Sites[1] || second.Sites[1].ASN.Value != 65003 {
		t.Errorf("b.hcl, changed, gave %+v", second.Sites[1].ASN)
	}
	if err := os.Remove(filepath.Join(dir, "a.hcl")); err != nil {
		t.Fatal(err)
	}
	if third := load(t, c, dir); len(third.Sites) != 1 || len(c.files) != 2 {
		t.Errorf("a.hcl removed: %d sites loaded, %d files cached, want 1 and 2", len(third.Sites), len(c.files))
	}
}

func load(t *testing.T, c *Cache, dir string) *Document {
	t.Helper()
	doc, diags := c.Dir(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return doc
}

// sorted orders diagnostics by place and text, to compare them as sets.
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
