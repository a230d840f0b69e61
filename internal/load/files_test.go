package load

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A directory whose *.hcl names a FIFO, a device, a directory or nothing
// is refused at once, every such file named, nothing read.
func TestSpecialFilesRefused(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "a-fifo.hcl"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"b-zero.hcl": "/dev/zero", "c-dangling.hcl": filepath.Join(dir, "nothing")} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "d-dir.hcl"), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	doc, diags := Dir(dir)
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
	if doc != nil || len(diags) != 4 {
		t.Fatalf("want 4 diagnostics and no document, got %d: %v", len(diags), diags)
	}
	for i, want := range []string{"a FIFO", "a device", "no such file", "a directory"} {
		if !strings.Contains(diags[i].Detail, want) {
			t.Errorf("diagnostic %d: %q, want it to say %q", i, diags[i].Detail, want)
		}
	}
}

// The worst inputs within the limits parse quickly in bounded memory
// (run with -benchmem; the target is under 2 s and 256 MB an op): a file
// at the openings limit nested at the nesting limit, the most lines of
// unknown attributes, one value as large as a file may be.
func BenchmarkLoadWorstInputs(b *testing.B) {
	nested := "x = " + strings.Repeat("[", MaxNesting) + strings.Repeat("]", MaxNesting) + "\n"
	var lines strings.Builder
	for i := 0; lines.Len() < MaxFileBytes-100 && i < MaxLines-1; i++ {
		fmt.Fprintf(&lines, "x%d = 1\n", i)
	}
	inputs := map[string]string{
		"nested": strings.Repeat(nested, MaxOpenings/MaxNesting),
		"lines":  lines.String(),
		"value":  `x = "` + strings.Repeat("a", MaxFileBytes-10) + "\"\n",
		"parens": "x = " + strings.Repeat("(1+", MaxNesting) + "1" + strings.Repeat(")", MaxNesting) + "\n",
	}
	for name, src := range inputs {
		if d := checkNesting("worst.hcl", []byte(src)); d != nil {
			b.Fatalf("%s is over a limit: %v", name, d)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				Parse([]Source{{Name: "worst.hcl", Bytes: []byte(src)}})
			}
		})
	}
}

func TestLimits(t *testing.T) {
	for name, src := range map[string]string{
		"Too many lines":            strings.Repeat("\n", MaxLines+1),
		"Too many blocks and lists": strings.Repeat("x = []\n", MaxOpenings+1),
		"Nested too deeply":         "x = " + strings.Repeat("[", MaxNesting+1),
	} {
		if d := checkNesting("f.hcl", []byte(src)); d == nil || d.Summary != name {
			t.Errorf("want %q, got %v", name, d)
		}
	}
	// Brackets in strings and comments do not count.
	if d := checkNesting("f.hcl", []byte(`x = "`+strings.Repeat("[", 100)+`" # `+strings.Repeat("{", 100))); d != nil {
		t.Errorf("brackets in a string or comment counted: %v", d)
	}
}
