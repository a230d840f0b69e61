// Package diag prints configuration diagnostics the way compilers do:
// file:line:col, the message, then the source line with a caret under the
// offending value.
package diag

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

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
	msg = printable(msg)
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
	line := []rune(strings.TrimRight(string(lines[r.Start.Line-1]), "\r"))
	col := max(r.Start.Column-1, 0)
	width := 1
	if r.End.Line == r.Start.Line && r.End.Column > r.Start.Column {
		width = r.End.Column - r.Start.Column
	}
	// A long line is quoted around the column, so a huge value is never
	// echoed whole.
	lead, trail := "", ""
	if from := col - quoteWidth/2; from > 0 && len(line) > quoteWidth {
		from = min(from, len(line)-quoteWidth)
		line, col, lead = line[from:], col-from, "..."
	}
	if len(line) > quoteWidth {
		line, trail = line[:quoteWidth], "..."
	}
	width = max(min(width, len(line)-col), 1)
	fmt.Fprintf(b, "  %s%s%s\n", lead, sourceLine(line), trail)
	fmt.Fprintf(b, "  %s%s%s\n", strings.Repeat(" ", len(lead)), strings.Repeat(" ", col), strings.Repeat("^", width))
}

// quoteWidth is the most of a source line a diagnostic quotes; maxMessage
// the longest message (a value quoted in it is cut).
const (
	quoteWidth = 160
	maxMessage = 1000
)

// sourceLine shows a quoted line one column per character, so the caret
// stays under its column: a tab as a space, any other control character
// (a terminal escape) as "?".
func sourceLine(line []rune) string {
	out := make([]rune, len(line))
	for i, c := range line {
		switch {
		case c == '\t':
			out[i] = ' '
		case unicode.IsControl(c) || c == utf8.RuneError:
			out[i] = '?'
		default:
			out[i] = c
		}
	}
	return string(out)
}

// printable escapes what a terminal would act on (control characters
// other than line breaks, invalid UTF-8) and cuts an overlong message.
func printable(s string) string { return Printable(s, maxMessage) }

// Printable is s as a diagnostic may quote it: control characters other
// than line breaks and invalid UTF-8 escaped (\xNN), cut after max
// characters. For text from elsewhere (a server's error, a file).
func Printable(s string, max int) string {
	var b strings.Builder
	n := 0
	for i, c := range s {
		if n++; n > max {
			b.WriteString("... (cut)")
			break
		}
		switch {
		case c == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case c != '\n' && unicode.IsControl(c):
			fmt.Fprintf(&b, "\\x%02x", c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
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
