// Package load reads the fleet definition: every *.hcl file of a directory,
// in name order, as one document. It checks syntax, the schema (unknown or
// missing attributes and blocks) and value types, and keeps the source range
// of every value so that later stages can point at it. Meaning (addresses,
// keys, duplicates, pools) is the business of package validate.
package load

import "github.com/hashicorp/hcl/v2"

// Attr is one attribute's value with where it was written. Set is false
// when the attribute was absent; Range is then the enclosing block's.
type Attr[T any] struct {
	Value T
	Range hcl.Range
	Set   bool
	// Invalid: written, but not a value of T; load reported it, and
	// checks that depend on it stay silent rather than follow it up.
	Invalid bool
}

// Or returns the value, or def when the attribute was not written.
func (a Attr[T]) Or(def T) T {
	if a.Set {
		return a.Value
	}
	return def
}

// Document is the whole fleet definition as written.
type Document struct {
	// Files holds every parsed file by name, so diagnostics can quote source.
	Files map[string]*hcl.File
	Fleet *Fleet // nil when no file has a fleet block
	Sites []*Site
}

// Fleet is the fleet block: settings shared by every gateway.
type Fleet struct {
	DefRange        hcl.Range
	Isolation       Attr[string]
	Namespace       Attr[string]
	PortBase        Attr[int]
	Transit6        Attr[string]
	Transit4        Attr[string]
	MTU             Attr[int]
	Keepalive       Attr[int]
	VRFTable        Attr[int]
	MetricsListen   Attr[string]
	ConfirmWindow   Attr[int]
	Topology        Attr[string]
	EndpointRefresh Attr[int]
	BGP             *BGP // nil when absent
}

// BGP is the fleet's bgp block.
type BGP struct {
	DefRange      hcl.Range
	HoldTime      Attr[int]
	BFD           Attr[bool]
	BFDIntervalMS Attr[int]
	BFDMultiplier Attr[int]
	ImportLimit   Attr[int]
	ImportMargin  Attr[int]
}

// Site is a site block.
type Site struct {
	Name      string
	NameRange hcl.Range
	DefRange  hcl.Range
	ASN       Attr[int64]
	Prefixes  Attr[[]Attr[string]]
	Hub       Attr[bool]
	Gateways  []*Gateway
}

// Gateway is a gateway block inside a site.
type Gateway struct {
	Name      string
	NameRange hcl.Range
	DefRange  hcl.Range
	ID        Attr[int]
	Endpoint  Attr[string]
	PublicKey Attr[string]
	RouterID  Attr[string]
	LANs      []*LAN
}

// LAN is a lan block: an interface on the private side of a gateway.
type LAN struct {
	Name      string
	NameRange hcl.Range
	DefRange  hcl.Range
	Addresses Attr[[]Attr[string]]
	OSPF      Attr[bool]
}
