package load

import (
	"errors"
	"regexp"

	"github.com/hashicorp/hcl/v2"

	"github.com/sitevpn/sitevpn/internal/safefile"
)

// The limits on a fleet file, checked before the parser sees it. A fleet
// of 1,000 sites is 250 KB in 11,500 lines with 4,000 brackets and braces
// nested 4 deep: these leave room for any real fleet (or split it into
// files) and none for input that would exhaust the parser, whose memory
// grows with the tokens it reads (BenchmarkLoadWorstInputs).
const (
	MaxFileBytes = 1 << 20 // bytes per file
	MaxLines     = 50_000  // lines per file
	MaxOpenings  = 20_000  // brackets, braces and parentheses per file
	MaxNesting   = 32      // of those, one inside another
)

// readSource reads one fleet file: a regular file (after symlinks) under
// MaxFileBytes, not a WireGuard key (Parse checks the other limits). Its diagnostics never quote the
// content.
func readSource(path string) (Source, *hcl.Diagnostic) {
	b, err := safefile.Read(path, MaxFileBytes)
	switch {
	case errors.Is(err, safefile.ErrNotRegular):
		return Source{}, fileError(path, "Not a regular file", "%v: a fleet file must be a regular file (a symlink to one is fine); remove it or rename it so it does not end in .hcl.", err)
	case errors.Is(err, safefile.ErrTooLarge):
		return Source{}, fileError(path, "File too large", "%v: a fleet file may be at most %d MiB; split it or check that it is a fleet file.", err, MaxFileBytes>>20)
	case err != nil:
		return Source{}, fileError(path, "Cannot read the configuration", "%v.", err)
	case looksLikeKey(b):
		return Source{}, fileError(path, "A private key, not a fleet file", "%s holds a WireGuard key: it is never read as configuration nor quoted. Keep the key in private.key and pass only the *.hcl files.", path)
	}
	return Source{Name: path, Bytes: b}, nil // Parse checks the nesting
}

var keyPattern = regexp.MustCompile(`^\s*[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=\s*$`)

// looksLikeKey: one line of 44 base64 characters, as wg genkey writes.
func looksLikeKey(b []byte) bool { return len(b) < 100 && keyPattern.Match(b) }

// checkNesting refuses input nested deeper than MaxNesting, which the
// parser would take with recursion (a stack overflow kills the process),
// and more lines or openings than the limits, whose tokens would take the
// parser's memory. Brackets in strings and comments are skipped as HCL
// reads them, closely enough for a limit far above any real nesting.
func checkNesting(path string, b []byte) *hcl.Diagnostic {
	depth, opened, line, col := 0, 0, 1, 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		col++
		switch {
		case c == '\n':
			if line, col = line+1, 0; line > MaxLines {
				return fileError(path, "Too many lines", "more than %d lines in one file: split the fleet into several files.", MaxLines)
			}
		case c == '"':
			for i++; i < len(b) && b[i] != '"' && b[i] != '\n'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case c == '#' || c == '/' && i+1 < len(b) && b[i+1] == '/':
			for i < len(b) && b[i] != '\n' {
				i++
			}
			i-- // let the newline count
		case c == '{' || c == '[' || c == '(':
			if opened++; opened > MaxOpenings {
				return fileError(path, "Too many blocks and lists", "more than %d brackets, braces and parentheses in one file: split the fleet into several files.", MaxOpenings)
			}
			if depth++; depth > MaxNesting {
				d := fileError(path, "Nested too deeply", "more than %d levels of brackets, braces or parentheses: a fleet file needs 5.", MaxNesting)
				d.Subject = &hcl.Range{Filename: path, Start: hcl.Pos{Line: line, Column: col, Byte: i}, End: hcl.Pos{Line: line, Column: col + 1, Byte: i + 1}}
				return d
			}
		case c == '}' || c == ']' || c == ')':
			depth = max(depth-1, 0)
		}
	}
	return nil
}

// fileError is a diagnostic about a whole file, at its start.
func fileError(path, summary, format string, args ...any) *hcl.Diagnostic {
	d := errorf(summary, format, args...)
	start := hcl.Pos{Line: 1, Column: 1}
	d.Subject = &hcl.Range{Filename: path, Start: start, End: start}
	return d
}
