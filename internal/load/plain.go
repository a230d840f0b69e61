package load

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// parsePlain builds the syntax tree hclsyntax.ParseConfig would for a file
// in the plain HCL fleets are written in, in one pass and without hcl's
// token slice: ASCII, LF line ends, blocks with quoted labels opened and
// closed on their own lines, attributes whose value is a string without
// escapes or templates, a whole number, true, false, or a list of those,
// comments. hcl's lexer and parser were most of `sitevpn render`'s CPU
// (issue 13): this reads a 1,000-gateway fleet in a fraction of it.
//
// For anything else, or anything hcl would report, it returns false and
// the file goes to hcl, so every diagnostic stays hcl's. FuzzParsePlain
// checks that the trees agree wherever it returns true.
func parsePlain(src []byte, name string) (*hcl.File, bool) {
	p := &plainParser{src: src, name: name, line: 1}
	p.spaces()
	start := p.pos()
	root, ok := p.body(true)
	if !ok {
		return nil, false
	}
	eof := p.pos()
	root.SrcRange = hcl.Range{Filename: name, Start: start, End: eof}
	root.EndRange = hcl.Range{Filename: name, Start: eof, End: eof}
	return &hcl.File{Body: root, Bytes: src}, true
}

type plainParser struct {
	src       []byte
	name      string
	i         int // next byte
	line      int
	lineStart int // offset of the current line's first byte
}

func (p *plainParser) pos() hcl.Pos {
	return hcl.Pos{Line: p.line, Column: p.i - p.lineStart + 1, Byte: p.i}
}

func (p *plainParser) peek() byte {
	if p.i < len(p.src) {
		return p.src[p.i]
	}
	return 0
}

func (p *plainParser) rangeFrom(start hcl.Pos) hcl.Range {
	return hcl.Range{Filename: p.name, Start: start, End: p.pos()}
}

// spaces skips blanks within a line.
func (p *plainParser) spaces() {
	for p.i < len(p.src) && (p.src[p.i] == ' ' || p.src[p.i] == '\t') {
		p.i++
	}
}

// endOfLine reads what may end an item: blanks, a comment, the newline
// (or the end of the file at the top level).
func (p *plainParser) endOfLine(top bool) bool {
	p.spaces()
	if c := p.peek(); c == '#' || c == '/' && p.i+1 < len(p.src) && p.src[p.i+1] == '/' {
		for p.i < len(p.src) && p.src[p.i] != '\n' {
			if !plainByte(p.src[p.i]) {
				return false
			}
			p.i++
		}
		if p.i == len(p.src) {
			return false // hcl reads a comment that ends the file differently
		}
	}
	switch {
	case p.peek() == '\n':
		p.newline()
		return true
	case p.i == len(p.src):
		return top
	}
	return false
}

func (p *plainParser) newline() {
	p.i++
	p.line++
	p.lineStart = p.i
}

// body reads items up to the closing brace (or the end of the file at the
// top level), which it leaves unread.
func (p *plainParser) body(top bool) (*hclsyntax.Body, bool) {
	b := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}, Blocks: hclsyntax.Blocks{}}
	for {
		p.spaces()
		switch c := p.peek(); {
		case c == 0 && p.i == len(p.src):
			return b, top
		case c == '}':
			return b, !top
		case c == '\n', c == '#', c == '/':
			if !p.endOfLine(top) {
				return nil, false
			}
			continue
		}
		start := p.pos()
		ident, ok := p.ident()
		if !ok {
			return nil, false
		}
		identRange := p.rangeFrom(start)
		p.spaces()
		if p.peek() == '=' {
			a, ok := p.attribute(ident, identRange)
			if !ok || b.Attributes[ident] != nil || !p.endOfLine(top) {
				return nil, false
			}
			b.Attributes[ident] = a
			continue
		}
		blk, ok := p.block(ident, identRange)
		if !ok || !p.endOfLine(top) {
			return nil, false
		}
		b.Blocks = append(b.Blocks, blk)
	}
}

func (p *plainParser) attribute(name string, nameRange hcl.Range) (*hclsyntax.Attribute, bool) {
	eqStart := p.pos()
	p.i++
	equals := p.rangeFrom(eqStart)
	p.spaces()
	var expr hclsyntax.Expression
	var ok bool
	if p.peek() == '[' {
		expr, ok = p.list()
	} else {
		expr, ok = p.scalar()
	}
	if !ok {
		return nil, false
	}
	return &hclsyntax.Attribute{
		Name: name, Expr: expr,
		SrcRange:  hcl.RangeBetween(nameRange, expr.Range()),
		NameRange: nameRange, EqualsRange: equals,
	}, true
}

// block reads labels, the body and the closing brace of a block whose type
// has been read.
func (p *plainParser) block(typ string, typeRange hcl.Range) (*hclsyntax.Block, bool) {
	blk := &hclsyntax.Block{Type: typ, TypeRange: typeRange}
	for p.peek() == '"' {
		start := p.pos()
		label, ok := p.quoted()
		if !ok {
			return nil, false
		}
		blk.Labels = append(blk.Labels, label)
		blk.LabelRanges = append(blk.LabelRanges, p.rangeFrom(start))
		p.spaces()
	}
	if p.peek() != '{' {
		return nil, false
	}
	openStart := p.pos()
	p.i++
	blk.OpenBraceRange = p.rangeFrom(openStart)
	if !p.endOfLine(false) {
		return nil, false
	}
	body, ok := p.body(false)
	if !ok {
		return nil, false
	}
	closeStart := p.pos()
	p.i++
	blk.CloseBraceRange = p.rangeFrom(closeStart)
	body.SrcRange = hcl.RangeBetween(blk.OpenBraceRange, blk.CloseBraceRange)
	body.EndRange = hcl.Range{Filename: p.name, Start: blk.CloseBraceRange.End, End: blk.CloseBraceRange.End}
	blk.Body = body
	return blk, true
}

// list reads [value, value, ...] over one line or several, a trailing
// comma allowed.
func (p *plainParser) list() (hclsyntax.Expression, bool) {
	start := p.pos()
	p.i++
	open := p.rangeFrom(start)
	var exprs []hclsyntax.Expression
	for {
		p.blanksAndNewlines()
		if p.peek() == ']' {
			break
		}
		e, ok := p.scalar()
		if !ok {
			return nil, false
		}
		exprs = append(exprs, e)
		p.blanksAndNewlines()
		if p.peek() == ']' {
			break
		}
		if p.peek() != ',' {
			return nil, false
		}
		p.i++
	}
	closeStart := p.pos()
	p.i++
	return &hclsyntax.TupleConsExpr{
		Exprs:     exprs,
		SrcRange:  hcl.RangeBetween(open, p.rangeFrom(closeStart)),
		OpenRange: open,
	}, true
}

func (p *plainParser) blanksAndNewlines() {
	for p.spaces(); p.peek() == '\n'; p.spaces() {
		p.newline()
	}
}

// scalar reads a string, a whole number, true or false.
func (p *plainParser) scalar() (hclsyntax.Expression, bool) {
	start := p.pos()
	switch c := p.peek(); {
	case c == '"':
		s, ok := p.quoted()
		if !ok || s == "" { // hcl places an empty string's part oddly: leave it to hcl
			return nil, false
		}
		r := p.rangeFrom(start)
		inner := hcl.Range{Filename: p.name, Start: start, End: r.End}
		inner.Start.Column++
		inner.Start.Byte++
		inner.End.Column--
		inner.End.Byte--
		return &hclsyntax.TemplateExpr{
			Parts:    []hclsyntax.Expression{&hclsyntax.LiteralValueExpr{Val: cty.StringVal(s), SrcRange: inner}},
			SrcRange: r,
		}, true
	case c >= '0' && c <= '9':
		for p.i < len(p.src) && p.src[p.i] >= '0' && p.src[p.i] <= '9' {
			p.i++
		}
		if identByte(p.peek()) || p.peek() == '.' {
			return nil, false
		}
		v, err := cty.ParseNumberVal(string(p.src[start.Byte:p.i]))
		if err != nil {
			return nil, false
		}
		return &hclsyntax.LiteralValueExpr{Val: v, SrcRange: p.rangeFrom(start)}, true
	}
	word, ok := p.ident()
	if !ok || word != "true" && word != "false" {
		return nil, false
	}
	return &hclsyntax.LiteralValueExpr{Val: cty.BoolVal(word == "true"), SrcRange: p.rangeFrom(start)}, true
}

// quoted reads a string without escapes or templates.
func (p *plainParser) quoted() (string, bool) {
	p.i++
	start := p.i
	for p.i < len(p.src) && p.src[p.i] != '"' {
		c := p.src[p.i]
		if !plainByte(c) || c == '\\' || (c == '$' || c == '%') && p.i+1 < len(p.src) && p.src[p.i+1] == '{' {
			return "", false
		}
		p.i++
	}
	if p.i == len(p.src) {
		return "", false
	}
	s := string(p.src[start:p.i])
	p.i++
	return s, true
}

// ident reads an ASCII identifier: a letter or _, then letters, digits, _ or -.
func (p *plainParser) ident() (string, bool) {
	start := p.i
	if c := p.peek(); !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return "", false
	}
	for p.i < len(p.src) && identByte(p.src[p.i]) {
		p.i++
	}
	return string(p.src[start:p.i]), true
}

func identByte(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// plainByte: printable ASCII or a tab, where columns are bytes.
func plainByte(c byte) bool { return c >= 0x20 && c < 0x7f || c == '\t' }
