// Package diag prints configuration diagnostics the way compilers do:
// file:line:col, the message, then the source line with a caret under the
// offending value.
package diag

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Format writes every diagnostic of diags, quoting source from files.
func Format(diags hcl.Diagnostics, files map[string]*hcl.File) string {
	var b strings.Builder
	for _, d := range diags {
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
