package layering

import (
	"bufio"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sitevpn/sitevpn/internal/testfleet"
)

const module = "github.com/sitevpn/sitevpn/"

// layers lists every package of the module, lowest first. A package may
// import only packages of a lower layer. A new package must be placed
// here, which is the point: its place in the house is a decision.
var layers = [][]string{
	{"internal/diag", "internal/fleet", "internal/atomicfile", "internal/safefile", "internal/version", "internal/testnetns", "internal/oneshot", "internal/cliflag", "templates"},
	{"internal/load"},
	{"internal/validate", "internal/identity"},
	{"internal/plan", "internal/testfleet", "internal/verify"},
	{"render"},
	{"internal/pipeline"},
	// the system's boundary: the kernel's shapes, BIRD's and systemd's clients
	{"internal/kernel", "internal/bird", "internal/systemd"},
	{"internal/link", "internal/fakesys"},
	{"internal/apply"},
	{"internal/check"},
	{"internal/gateway", "internal/graph", "internal/confirm"},
	{"internal/daemon"},
	{"cmd/sitevpn", "bench/genfleet", "packaging", "internal/layering"},
}

func TestNoPackageImportsOneAboveIt(t *testing.T) {
	rank := map[string]int{}
	for i, l := range layers {
		for _, p := range l {
			rank[p] = i
		}
	}
	root := testfleet.RepoRoot()
	for dir, imports := range moduleImports(t, root) {
		r, ok := rank[dir]
		if !ok {
			t.Errorf("package %s has no layer: add it to layers", dir)
			continue
		}
		for _, imp := range imports {
			ir, ok := rank[imp]
			if ok && ir >= r && imp != dir {
				t.Errorf("%s (layer %d) imports %s (layer %d): only lower layers may be imported", dir, r, imp, ir)
			}
		}
	}
}

// cmd/sitevpn is flags, wiring and printing: what it does lives in the
// packages below it. The limit grows with commands (verify's help text and
// flags took it from 600), never with what a command does.
func TestCommandStaysThin(t *testing.T) {
	const limit = 650
	files, err := filepath.Glob(filepath.Join(testfleet.RepoRoot(), "cmd", "sitevpn", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			n += lines(t, f)
		}
	}
	if n >= limit {
		t.Errorf("cmd/sitevpn holds %d lines of non-test Go, want under %d: move the work into a package below it", n, limit)
	}
}

// moduleImports maps each package directory of the module (relative to
// root) to the module packages its non-test files import.
func moduleImports(t *testing.T, root string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "test" || name == "dist" || name == "out") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		dir = filepath.ToSlash(dir)
		if _, ok := out[dir]; !ok {
			out[dir] = nil
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if rest, ok := strings.CutPrefix(p, module); ok {
				out[dir] = append(out[dir], rest)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func lines(t *testing.T, path string) int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for s := bufio.NewScanner(f); s.Scan(); {
		n++
	}
	return n
}
