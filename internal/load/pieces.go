package load

import (
	"bytes"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// parseHCL parses one file into what hclsyntax.ParseConfig gives: with
// parsePlain when the file is plain HCL (fleets are), otherwise with hcl,
// block by top-level block when it can. hcl's lexer holds every token of the
// file in one slice (about 90 bytes a token) that grows by doubling: for a
// 1,000-gateway fleet, 30 MB allocated and cleared only to be dropped
// after parsing, most of the system time of `sitevpn render` (issue 13).
// One top-level block at a time, the tokens of each die young and small.
//
// The pieces are cut only where the whole file's parse would end one body
// item and start the next (see topLevelCuts), each parsed at its own
// position in the file, so every range is the file's. A file that cannot
// be cut safely, or any piece with a diagnostic or a top-level attribute
// (both only in invalid files), is parsed whole, so that every diagnostic
// is the one the whole file gives. FuzzParsePieces checks that both ways
// agree.
func parseHCL(src []byte, name string) (*hcl.File, hcl.Diagnostics) {
	if f, ok := parsePlain(src, name); ok {
		return f, nil
	}
	start := hcl.Pos{Line: 1, Column: 1}
	cuts := topLevelCuts(src)
	if len(cuts) < 2 {
		return hclsyntax.ParseConfig(src, name, start)
	}
	root := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}}
	at := start
	for i, end := range cuts {
		piece := src[at.Byte:end]
		f, diags := hclsyntax.ParseConfig(piece, name, at)
		body, ok := f.Body.(*hclsyntax.Body)
		if len(diags) > 0 || !ok || len(body.Attributes) > 0 {
			return hclsyntax.ParseConfig(src, name, start)
		}
		root.Blocks = append(root.Blocks, body.Blocks...)
		if i == 0 {
			root.SrcRange = body.SrcRange
		}
		root.SrcRange = hcl.RangeBetween(root.SrcRange, body.SrcRange)
		root.EndRange = body.EndRange
		at = hcl.Pos{Line: at.Line + bytes.Count(piece, []byte("\n")), Column: 1, Byte: end}
	}
	return &hcl.File{Body: root, Bytes: src}, nil
}

// topLevelCuts returns where the top-level items of src may be parsed
// apart: the offsets just after a "}\n" that closes a top-level block, then
// len(src). It reads strings, comments and brackets as hcl's lexer does
// for the plain HCL a fleet is written in, and returns nil (parse whole)
// at anything else it would have to understand to cut right: heredocs,
// block comments, templates, multi-line strings, CRLF, unbalanced
// brackets.
func topLevelCuts(src []byte) []int {
	var cuts []int
	depth := 0
	next := func(i int) byte {
		if i+1 < len(src) {
			return src[i+1]
		}
		return 0
	}
	for i := 0; i < len(src); i++ {
		switch c := src[i]; c {
		case '"':
			for i++; i < len(src) && src[i] != '"'; i++ {
				switch src[i] {
				case '\n', '\r':
					return nil
				case '\\':
					if i++; i < len(src) && (src[i] == '\n' || src[i] == '\r') {
						return nil
					}
				case '$', '%':
					if next(i) == '{' {
						return nil
					}
				}
			}
		case '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case '/':
			switch next(i) {
			case '/':
				for i < len(src) && src[i] != '\n' {
					i++
				}
			case '*':
				return nil
			}
		case '<':
			if next(i) == '<' {
				return nil
			}
		case '$', '%':
			if next(i) == '{' {
				return nil
			}
		case '\r':
			return nil
		case '{', '[', '(':
			depth++
		case '}', ']', ')':
			if depth--; depth < 0 {
				return nil
			}
			if depth == 0 && c == '}' && next(i) == '\n' {
				cuts = append(cuts, i+2)
			}
		}
	}
	if depth != 0 {
		return nil
	}
	if len(cuts) == 0 || cuts[len(cuts)-1] != len(src) {
		cuts = append(cuts, len(src))
	}
	return cuts
}
