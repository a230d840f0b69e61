package render

import (
	"encoding"
	"encoding/json"
	"strconv"

	"github.com/sitevpn/sitevpn/internal/plan"
)

// tableJSON is json.MarshalIndent(t, "", "  "), written field by field: at
// 3,000 tunnels encoding/json's reflection, then its second pass over the
// bytes to indent them, took 5% of `sitevpn render`'s CPU (issue 13).
// TestTableJSONIsMarshalIndent holds both to the same bytes, so a field
// added to Table, TableLAN, plan.Tunnel or plan.Peer fails it until it is
// written here too.
func tableJSON(t Table) []byte {
	o := &jsonOut{b: make([]byte, 0, 1024+600*len(t.Tunnels))}
	o.open('{')
	o.key("gateway").str(t.Gateway)
	o.key("id").int(int64(t.ID))
	o.key("site").str(t.Site)
	o.key("isolation").str(string(t.Isolation))
	o.key("namespace").str(t.Namespace)
	o.key("private_key_file").str(t.PrivateKeyFile)
	o.key("tunnels")
	o.array(len(t.Tunnels), t.Tunnels == nil, func(i int) { o.tunnel(t.Tunnels[i]) })
	o.key("lans")
	o.array(len(t.LANs), t.LANs == nil, func(i int) {
		l := t.LANs[i]
		o.open('{')
		o.key("interface").str(l.Interface)
		o.key("addresses")
		o.array(len(l.Addresses), l.Addresses == nil, func(i int) { text(o, l.Addresses[i]) })
		o.key("ospf").bool(l.OSPF)
		o.close('}')
	})
	o.close('}')
	return o.b
}

func (o *jsonOut) tunnel(t plan.Tunnel) {
	o.open('{')
	o.key("interface").str(t.Interface)
	o.key("listen_port").int(int64(t.ListenPort))
	o.key("mtu").int(int64(t.MTU))
	o.key("peer")
	o.open('{')
	o.key("gateway").str(t.Peer.Gateway)
	o.key("id").int(int64(t.Peer.ID))
	o.key("site").str(t.Peer.Site)
	o.key("asn").int(int64(t.Peer.ASN))
	o.key("public_key").str(t.Peer.PublicKey)
	text(o.key("endpoint"), t.Peer.Endpoint)
	if t.Peer.EndpointName != "" { // omitempty
		o.key("endpoint_name").str(t.Peer.EndpointName)
	}
	o.key("keepalive").int(int64(t.Peer.Keepalive))
	o.close('}')
	text(o.key("local6"), t.Local6)
	text(o.key("remote6"), t.Remote6)
	// None without a transit4 pool (RFC 8950): omitzero.
	if t.Local4.IsValid() {
		text(o.key("local4"), t.Local4)
	}
	if t.Remote4.IsValid() {
		text(o.key("remote4"), t.Remote4)
	}
	o.close('}')
}

// jsonOut writes indented JSON as MarshalIndent lays it out: each member
// on its own line, two spaces a level, empty arrays as [].
type jsonOut struct {
	b     []byte
	depth int
	empty bool // nothing written yet in the object or array just opened
}

func (o *jsonOut) open(c byte) {
	o.b = append(o.b, c)
	o.depth++
	o.empty = true
}

func (o *jsonOut) close(c byte) {
	o.depth--
	if !o.empty {
		o.newline()
	}
	o.b = append(o.b, c)
	o.empty = false
}

// member starts an element of the open object or array.
func (o *jsonOut) member() {
	if !o.empty {
		o.b = append(o.b, ',')
	}
	o.newline()
	o.empty = false
}

func (o *jsonOut) newline() {
	o.b = append(o.b, '\n')
	for range o.depth {
		o.b = append(o.b, "  "...)
	}
}

func (o *jsonOut) key(name string) *jsonOut {
	o.member()
	o.str(name)
	o.b = append(o.b, ": "...)
	return o
}

// array writes n elements with each, or null for a nil slice.
func (o *jsonOut) array(n int, isNil bool, each func(i int)) {
	if isNil {
		o.b = append(o.b, "null"...)
		return
	}
	o.open('[')
	for i := range n {
		o.member()
		each(i)
	}
	o.close(']')
}

func (o *jsonOut) int(n int64) { o.b = strconv.AppendInt(o.b, n, 10) }

func (o *jsonOut) bool(v bool) { o.b = strconv.AppendBool(o.b, v) }

// text writes a value as its text form, as encoding/json does for an
// encoding.TextAppender such as netip.Addr (the zero value is ""). It is
// generic so that the value is not boxed: an allocation per address.
func text[T encoding.TextAppender](o *jsonOut, v T) {
	start := len(o.b)
	o.b = append(o.b, '"')
	b, err := v.AppendText(o.b)
	if err != nil {
		panic(err) // netip's never fail
	}
	if needsEscape(b[start+1:]) { // an address's zone may hold anything
		s := string(b[start+1:])
		o.b = b[:start]
		o.str(s)
		return
	}
	o.b = append(b, '"')
}

// str quotes s; what encoding/json would escape (quotes, backslashes,
// control characters, <, > and &, anything not ASCII) it escapes by
// calling encoding/json itself.
func (o *jsonOut) str(s string) {
	if needsEscape(s) {
		q, _ := json.Marshal(s)
		o.b = append(o.b, q...)
		return
	}
	o.b = append(o.b, '"')
	o.b = append(o.b, s...)
	o.b = append(o.b, '"')
}

// needsEscape reports whether encoding/json would write s other than as
// it is between quotes.
func needsEscape[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return true
		}
	}
	return false
}
