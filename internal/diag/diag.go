// Package diag prints configuration diagnostics the way compilers do:
// file:line:col, the message, then the source line with a caret under the
// offending value.
package diag

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Format writes every diagnostic of diags, quoting source from files.
// They are sorted by position, so the errors of a file read top to bottom
// whichever stage found them.
func Format(diags hcl.Diagnostics, files map[string]*hcl.File) string {
	sorted := append(hcl.Diagnostics(nil), diags...)
	sort.SliceStable(sorted, func(i, j int) bool { return before(sorted[i].Subject, sorted[j].Subject) })
	var b strings.Builder
	for _, d := range sorted {
		writeOne(&b, d, files)
	}
	return b.String()
}

func writeOne(b *strings.Builder, d *hcl.Diagnostic, files map[string]*hcl.File) {
	sev := "error"
	if d.Severity == hcl.DiagWarning {
		sev = "warning"
	}
	msg := d.Summary
	if d.Detail != "" {
		msg += ": " + d.Detail
	}
	if d.Subject == nil {
		fmt.Fprintf(b, "%s: %s\n", sev, msg)
		return
	}
	r := *d.Subject
	fmt.Fprintf(b, "%s:%d:%d: %s: %s\n", r.Filename, r.Start.Line, r.Start.Column, sev, msg)
	f := files[r.Filename]
	if f == nil {
		return
	}
	lines := bytes.Split(f.Bytes, []byte("\n"))
	if r.Start.Line < 1 || r.Start.Line > len(lines) {
		return
	}
	line := strings.TrimRight(string(lines[r.Start.Line-1]), "\r")
	fmt.Fprintf(b, "  %s\n", strings.ReplaceAll(line, "\t", " "))
	width := 1
	if r.End.Line == r.Start.Line && r.End.Column > r.Start.Column {
		width = r.End.Column - r.Start.Column
	}
	fmt.Fprintf(b, "  %s%s\n", strings.Repeat(" ", max(r.Start.Column-1, 0)), strings.Repeat("^", width))
}

func before(a, b *hcl.Range) bool {
	switch {
	case a == nil || b == nil:
		return a == nil && b != nil
	case a.Filename != b.Filename:
		return a.Filename < b.Filename
	case a.Start.Line != b.Start.Line:
		return a.Start.Line < b.Start.Line
	default:
		return a.Start.Column < b.Start.Column
	}
}

// Error is an error made of configuration diagnostics.
type Error struct {
	Diags hcl.Diagnostics
	Files map[string]*hcl.File
}

func (e *Error) Error() string {
	n := 0
	for _, d := range e.Diags {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	return fmt.Sprintf("%sinvalid configuration: %d error(s); nothing was applied", Format(e.Diags, e.Files), n)
}
