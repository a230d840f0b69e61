package diag

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// A quoted line is cut around its column and a terminal escape is never
// echoed raw, in the message or the quoted source; the caret stays under
// the value.
func TestQuotesAreBoundedAndInert(t *testing.T) {
	line := `  endpoint = "` + strings.Repeat("a", 3000) + "\x1b[2J" + `"`
	src := "x\n" + line + "\n"
	col := strings.Index(line, "\x1b") + 1
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid endpoint", Detail: "value \x1b[2J" + strings.Repeat("b", 5000),
		Subject: &hcl.Range{Filename: "f.hcl", Start: hcl.Pos{Line: 2, Column: col}, End: hcl.Pos{Line: 2, Column: col + 1}}}
	out := Format(hcl.Diagnostics{d}, map[string]*hcl.File{"f.hcl": {Bytes: []byte(src)}})
	if strings.ContainsRune(out, 0x1b) {
		t.Errorf("raw escape in the output: %q", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 || len(lines[0]) > maxMessage+100 || len(lines[1]) > quoteWidth+10 {
		t.Fatalf("unbounded output: %d lines, lengths %d %d", len(lines), len(lines[0]), len(lines[1]))
	}
	caret := strings.Index(lines[2], "^")
	if got := []rune(lines[1])[caret]; got != '?' {
		t.Errorf("the caret points at %q, want the escape shown as '?':\n%s\n%s", got, lines[1], lines[2])
	}
}
