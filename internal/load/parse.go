package load

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// parseHCL parses one file into what hclsyntax.ParseConfig gives: with
// parsePlain when the file is plain HCL (fleets are), otherwise with hcl,
// so that every diagnostic is hcl's.
func parseHCL(src []byte, name string) (*hcl.File, hcl.Diagnostics) {
	if f, ok := parsePlain(src, name); ok {
		return f, nil
	}
	return hclsyntax.ParseConfig(src, name, hcl.Pos{Line: 1, Column: 1})
}
