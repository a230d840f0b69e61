// Package templates holds the text/template files sitevpn renders, one per
// kind of file, embedded in the binary.
package templates

import "embed"

// FS holds every *.tmpl file of this directory.
//
//go:embed *.tmpl
var FS embed.FS
