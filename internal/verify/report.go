package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/sitevpn/sitevpn/internal/load"
)

var summaries = map[Check]string{
	Cut:           "Single point of failure",
	SingleGateway: "Prefix announced by one gateway",
	Unannounced:   "Prefix announced by no gateway",
	Transit:       "Transit the topology does not give",
}

// Locate sets each finding's At to where its fix goes in doc, the
// document the fleet was validated from.
func (r *Report) Locate(doc *load.Document) {
	for i := range r.Findings {
		if rng := rangeOf(doc, r.Findings[i].at); rng != nil {
			r.Findings[i].At = fmt.Sprintf("%s:%d:%d", rng.Filename, rng.Start.Line, rng.Start.Column)
		}
	}
}

// Diagnostics returns the findings as warnings at where each fix goes.
func (r *Report) Diagnostics(doc *load.Document) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, f := range r.Findings {
		out = append(out, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summaries[f.Check], Detail: f.text(), Subject: rangeOf(doc, f.at)})
	}
	if r.Omitted > 0 {
		out = append(out, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "More single points of failure",
			Detail: fmt.Sprintf("%d more findings are not listed; fix the ones above and verify again, or see them all with sitevpn verify --json.", r.Omitted)})
	}
	if r.Incomplete {
		out = append(out, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Verification incomplete",
			Detail: fmt.Sprintf("the fleet is too large to follow every single failure within %d steps; the findings above are those found before stopping.", maxWork)})
	}
	return out
}

// text is the finding as one diagnostic's detail: what fails, what it
// cuts, what fixes it.
func (f Finding) text() string {
	var b strings.Builder
	b.WriteString(f.Message)
	if len(f.Pairs) > 0 {
		names := make([]string, len(f.Pairs))
		for i, p := range f.Pairs {
			names[i] = p[0] + " - " + p[1]
		}
		fmt.Fprintf(&b, " (%s", strings.Join(names, ", "))
		if more := f.PairCount - len(f.Pairs); more > 0 {
			fmt.Fprintf(&b, " and %d more", more)
		}
		b.WriteString(")")
	}
	b.WriteString(". Fix: " + f.Fix + ".")
	return b.String()
}

// rangeOf finds the block or attribute ref names in doc, nil if absent.
func rangeOf(doc *load.Document, at ref) *hcl.Range {
	if doc == nil {
		return nil
	}
	for _, s := range doc.Sites {
		if s.Name != at.site {
			continue
		}
		switch {
		case at.gateway != "":
			for _, g := range s.Gateways {
				if g.Name == at.gateway {
					return g.DefRange.Ptr()
				}
			}
		case at.attr == "hub" && s.Hub.Set:
			return s.Hub.Range.Ptr()
		case at.attr == "prefixes" && s.Prefixes.Set:
			return s.Prefixes.Range.Ptr()
		}
		return s.DefRange.Ptr()
	}
	return nil
}

// Write prints the report as JSON, or as text, the findings formatted as
// diagnostics (Diagnostics), or the all-clear when there are none.
func (r *Report) Write(w io.Writer, asJSON bool, text string) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	if text == "" {
		text = "ok: no single failure of a gateway, a tunnel or a site cuts a pair of sites apart\n"
	}
	_, err := fmt.Fprint(w, text)
	return err
}
