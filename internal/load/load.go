package load

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"
)

// Dir loads every *.hcl file of dir, in name order, as one document.
func Dir(dir string) (*Document, hcl.Diagnostics) { return (*Cache)(nil).Dir(dir) }

// Files loads the named files, in name order, as one document.
func Files(paths []string) (*Document, hcl.Diagnostics) { return (*Cache)(nil).Files(paths) }

// Dir is load.Dir, reusing what c holds of files unchanged since.
func (c *Cache) Dir(dir string) (*Document, hcl.Diagnostics) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if err != nil {
		return nil, hcl.Diagnostics{errorf("Cannot list the configuration", "listing %s: %v.", dir, err)}
	}
	if len(paths) == 0 {
		return nil, hcl.Diagnostics{errorf("No configuration",
			"%s holds no *.hcl file: write the fleet definition there (see the example fleet in the documentation), or point --config at the directory that has it.", dir)}
	}
	return c.Files(paths)
}

// Files is load.Files, reusing what c holds of files unchanged since.
func (c *Cache) Files(paths []string) (*Document, hcl.Diagnostics) {
	sorted := append([]string(nil), paths...)
	sort.Strings(sorted)
	srcs := make([]Source, 0, len(sorted))
	var diags hcl.Diagnostics
	for _, p := range sorted {
		src, d := readSource(p)
		if d != nil {
			diags = append(diags, d)
			continue
		}
		srcs = append(srcs, src)
	}
	if diags.HasErrors() {
		return nil, diags // every unreadable file at once; nothing half-read is validated
	}
	return c.Parse(srcs)
}

// Source is one file's name and content.
type Source struct {
	Name  string
	Bytes []byte
}

// Parse reads sources, in the order given, as one document. It never panics
// on input; every problem is a diagnostic with its range, all reported at once.
func Parse(srcs []Source) (*Document, hcl.Diagnostics) { return (*Cache)(nil).Parse(srcs) }

// Parse is load.Parse, reusing what c holds of sources unchanged since.
func (c *Cache) Parse(srcs []Source) (*Document, hcl.Diagnostics) {
	r := c.begin()
	defer r.end()
	doc := &Document{Files: map[string]*hcl.File{}}
	var diags hcl.Diagnostics
	for _, src := range srcs {
		f, ok := r.lookup(src)
		var d hcl.Diagnostics
		if !ok {
			if d := checkNesting(src.Name, src.Bytes); d != nil {
				diags = append(diags, d)
				continue
			}
			f, d = r.parse(src)
			diags = append(diags, d...)
			if f == nil {
				continue
			}
		}
		// Quoted (in Files) only when what parsed is a fleet file (has a
		// fleet or site block): a file that is not one may be anything, a
		// secret included, even one that happens to be valid HCL.
		if f.fleetFile {
			doc.Files[src.Name] = f.hcl
		}
		if d.HasErrors() {
			continue // a broken file's body is partial: its schema errors would only add noise
		}
		diags = append(diags, doc.add(f)...)
	}
	if doc.Fleet == nil && !diags.HasErrors() {
		d := errorf("Missing fleet block",
			"No file has a fleet block. Add one, for example:\n  fleet {\n    transit6 = \"2001:db8:ff::/64\"\n  }")
		if len(srcs) > 0 {
			start := hcl.Pos{Line: 1, Column: 1}
			d.Subject = &hcl.Range{Filename: srcs[0].Name, Start: start, End: start}
		}
		diags = append(diags, d)
	}
	return doc, diags
}

// isFleetFile reports whether the part of f that parsed has a fleet or
// site block.
func isFleetFile(f *hcl.File) bool {
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return false
	}
	for _, b := range body.Blocks {
		if b.Type == "fleet" || b.Type == "site" {
			return true
		}
	}
	return false
}

// decodeBody decodes the sites of a file's body; its fleet blocks are
// kept as written, for add: whether one is a duplicate depends on the
// files before it.
func decodeBody(body hcl.Body) (content hcl.Diagnostics, blocks []decodedBlock) {
	c, diags := body.Content(rootSchema)
	for _, b := range c.Blocks {
		switch b.Type {
		case "fleet":
			blocks = append(blocks, decodedBlock{fleet: b})
		case "site":
			s, d := decodeSite(b)
			blocks = append(blocks, decodedBlock{site: s, diags: d})
		}
	}
	return diags, blocks
}

// decodedBlock is a top-level block of a file: a fleet block as written,
// or a site decoded, with its diagnostics.
type decodedBlock struct {
	fleet *hcl.Block
	site  *Site
	diags hcl.Diagnostics
}

// add adds a parsed file's blocks to doc, in their order.
func (doc *Document) add(f *parsed) hcl.Diagnostics {
	diags := slices.Clone(f.content)
	for _, b := range f.blocks {
		if b.site != nil {
			diags = append(diags, b.diags...)
			doc.Sites = append(doc.Sites, b.site)
			continue
		}
		if doc.Fleet != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate fleet block",
				Detail:   fmt.Sprintf("The fleet is already defined at %s; keep one fleet block across all files.", pos(doc.Fleet.DefRange)),
				Subject:  b.fleet.DefRange.Ptr(),
			})
			continue
		}
		var d hcl.Diagnostics
		doc.Fleet, d = decodeFleet(b.fleet)
		diags = append(diags, d...)
	}
	return diags
}

func decodeFleet(b *hcl.Block) (*Fleet, hcl.Diagnostics) {
	c, diags := b.Body.Content(fleetSchema)
	f := &Fleet{DefRange: b.DefRange}
	a := attrs{c.Attributes, b.DefRange, &diags}
	f.Isolation = attr[string](a, "isolation")
	f.Namespace = attr[string](a, "namespace")
	f.PortBase = attr[int](a, "port_base")
	f.Transit6 = attr[string](a, "transit6")
	f.Transit4 = attr[string](a, "transit4")
	f.MTU = attr[int](a, "mtu")
	f.Keepalive = attr[int](a, "keepalive")
	f.VRFTable = attr[int](a, "vrf_table")
	f.MetricsListen = attr[string](a, "metrics_listen")
	f.ConfirmWindow = attr[int](a, "confirm_window")
	f.Topology = attr[string](a, "topology")
	f.EndpointRefresh = attr[int](a, "endpoint_refresh")
	for _, blk := range c.Blocks {
		if f.BGP != nil {
			diags = append(diags, duplicateBlock("bgp", blk, f.BGP.DefRange))
			continue
		}
		bc, d := blk.Body.Content(bgpSchema)
		diags = append(diags, d...)
		ba := attrs{bc.Attributes, blk.DefRange, &diags}
		f.BGP = &BGP{
			DefRange:      blk.DefRange,
			HoldTime:      attr[int](ba, "hold_time"),
			BFD:           attr[bool](ba, "bfd"),
			BFDIntervalMS: attr[int](ba, "bfd_interval_ms"),
			BFDMultiplier: attr[int](ba, "bfd_multiplier"),
			ImportLimit:   attr[int](ba, "import_limit"),
			ImportMargin:  attr[int](ba, "import_margin"),
		}
	}
	return f, diags
}

func decodeSite(b *hcl.Block) (*Site, hcl.Diagnostics) {
	c, diags := b.Body.Content(siteSchema)
	s := &Site{Name: b.Labels[0], NameRange: b.LabelRanges[0], DefRange: b.DefRange}
	a := attrs{c.Attributes, b.DefRange, &diags}
	s.ASN = attr[int64](a, "asn")
	s.Prefixes = list(a, "prefixes")
	s.Hub = attr[bool](a, "hub")
	for _, gb := range c.Blocks {
		g, d := decodeGateway(gb)
		diags = append(diags, d...)
		s.Gateways = append(s.Gateways, g)
	}
	return s, diags
}

func decodeGateway(b *hcl.Block) (*Gateway, hcl.Diagnostics) {
	c, diags := b.Body.Content(gatewaySchema)
	g := &Gateway{Name: b.Labels[0], NameRange: b.LabelRanges[0], DefRange: b.DefRange}
	a := attrs{c.Attributes, b.DefRange, &diags}
	g.ID = attr[int](a, "id")
	g.Endpoint = attr[string](a, "endpoint")
	g.PublicKey = attr[string](a, "public_key")
	g.RouterID = attr[string](a, "router_id")
	for _, lb := range c.Blocks {
		lc, d := lb.Body.Content(lanSchema)
		diags = append(diags, d...)
		la := attrs{lc.Attributes, lb.DefRange, &diags}
		g.LANs = append(g.LANs, &LAN{
			Name: lb.Labels[0], NameRange: lb.LabelRanges[0], DefRange: lb.DefRange,
			Addresses: list(la, "addresses"),
			OSPF:      attr[bool](la, "ospf"),
		})
	}
	return g, diags
}

// attrs is one block's attributes plus where to report.
type attrs struct {
	all   hcl.Attributes
	block hcl.Range
	diags *hcl.Diagnostics
}

// attr decodes one literal attribute into T. Expressions that need an
// evaluation context (variables, functions) are reported, not evaluated.
func attr[T any](a attrs, name string) Attr[T] {
	at, ok := a.all[name]
	if !ok {
		return Attr[T]{Range: a.block}
	}
	var v T
	if d := decodeLiteral(at.Expr, &v); d.HasErrors() {
		*a.diags = append(*a.diags, d...)
		return Attr[T]{Range: at.Expr.Range(), Invalid: true}
	}
	return Attr[T]{Value: v, Range: at.Expr.Range(), Set: true}
}

// decodeLiteral decodes an expression that must not need an evaluation
// context. It evaluates the expression once: a variable or function gets
// one clear diagnostic (not a second one about its unknown value), and a
// value is converted as gohcl.DecodeExpression would, with its messages,
// without evaluating it again (every value of the fleet passes here).
func decodeLiteral(expr hcl.Expression, v any) hcl.Diagnostics {
	if s, ok := v.(*string); ok {
		if lit, ok := plainString(expr); ok {
			*s = lit
			return nil
		}
	}
	val, diags := expr.Value(nil)
	if diags.HasErrors() {
		return diags
	}
	ty, err := gocty.ImpliedType(v)
	if err != nil {
		panic(fmt.Sprintf("unsuitable decodeLiteral target: %s", err)) // a bug of this package, as in gohcl
	}
	if val, err = convert.Convert(val, ty); err == nil {
		err = gocty.FromCtyValue(val, v)
	}
	if err != nil {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Unsuitable value type",
			Detail:   fmt.Sprintf("Unsuitable value: %s", err.Error()),
			Subject:  expr.StartRange().Ptr(),
			Context:  expr.Range().Ptr(),
		})
	}
	return diags
}

// plainString is the value of a quoted string without templates, the
// most common value of a fleet, read from its one literal part: the value
// TemplateExpr.Value would give, without its buffer, marks and conversions.
func plainString(expr hcl.Expression) (string, bool) {
	t, ok := expr.(*hclsyntax.TemplateExpr)
	if !ok || len(t.Parts) != 1 {
		return "", false
	}
	lit, ok := t.Parts[0].(*hclsyntax.LiteralValueExpr)
	if !ok || lit.Val.Type() != cty.String || !lit.Val.IsKnown() || lit.Val.IsNull() || lit.Val.IsMarked() {
		return "", false
	}
	return lit.Val.AsString(), true
}

// list decodes a list of strings, keeping each element's own range so an
// error can point at the one bad element.
func list(a attrs, name string) Attr[[]Attr[string]] {
	at, ok := a.all[name]
	if !ok {
		return Attr[[]Attr[string]]{Range: a.block}
	}
	exprs, d := hcl.ExprList(at.Expr)
	*a.diags = append(*a.diags, d...)
	if d.HasErrors() {
		return Attr[[]Attr[string]]{Range: at.Expr.Range(), Invalid: true}
	}
	out := make([]Attr[string], 0, len(exprs))
	ok = true
	for _, e := range exprs {
		var s string
		d := decodeLiteral(e, &s)
		*a.diags = append(*a.diags, d...)
		ok = ok && !d.HasErrors()
		out = append(out, Attr[string]{Value: s, Range: e.Range(), Set: !d.HasErrors(), Invalid: d.HasErrors()})
	}
	return Attr[[]Attr[string]]{Value: out, Range: at.Expr.Range(), Set: ok, Invalid: !ok}
}

func duplicateBlock(kind string, b *hcl.Block, first hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Duplicate " + kind + " block",
		Detail:   fmt.Sprintf("A %s block is already defined at %s; merge the two.", kind, pos(first)),
		Subject:  b.DefRange.Ptr(),
	}
}

// pos prints a range as file:line:col, as diagnostics start.
func pos(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

func errorf(summary, format string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...)}
}
