package validate

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/load"
)

// writtenEndpoint is an endpoint as written: an address or a DNS name,
// with the port written after it (0 when none: peers use port_base).
type writtenEndpoint struct {
	addr netip.Addr // an address endpoint
	host string     // a DNS endpoint, lower case, never resolved here
	port uint16
}

// literal is the endpoint as an address and port, when it is an address.
func (e writtenEndpoint) literal() (netip.AddrPort, bool) {
	return netip.AddrPortFrom(e.addr, e.port), e.addr.IsValid()
}

// endpointSyntax is how an endpoint is written, for the messages.
const endpointSyntax = `write an address, "2001:db8:1::1" or "192.0.2.1", a DNS name, "vpn.example.net", or either with a port: "[2001:db8:1::1]:51820", "192.0.2.1:51820", "vpn.example.net:51820"`

// parseEndpoint reads an endpoint as written: "addr", "[v6addr]:port",
// "v4addr:port", "name" or "name:port", the port 1-65535. It never
// resolves a name. A problem comes back as the end of a sentence
// starting with the endpoint, saying what to write instead.
func parseEndpoint(s string) (writtenEndpoint, string) {
	s = strings.TrimSpace(s)
	if addr, err := netip.ParseAddr(s); err == nil {
		return writtenEndpoint{addr: addr}, ""
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return writtenEndpoint{}, portZero
		}
		return writtenEndpoint{addr: ap.Addr(), port: ap.Port()}, ""
	}
	// Brackets or two colons: meant as an IPv6 address, and not one.
	if strings.HasPrefix(s, "[") || strings.Count(s, ":") > 1 {
		return writtenEndpoint{}, "is not an IP address; " + endpointSyntax + "."
	}
	host, portText, hasPort := strings.Cut(s, ":")
	var port uint16
	if hasPort {
		n, err := strconv.ParseUint(portText, 10, 16)
		switch {
		case err != nil:
			return writtenEndpoint{}, fmt.Sprintf("has port %q; write a port from 1 to 65535, or leave it out (peers then use port_base plus their id).", portText)
		case n == 0:
			return writtenEndpoint{}, portZero
		}
		port = uint16(n)
	}
	if why := dnsNameProblem(host); why != "" {
		return writtenEndpoint{}, why
	}
	return writtenEndpoint{host: strings.ToLower(host), port: port}, ""
}

const portZero = "has port 0; leave the port out (peers then use port_base plus their id) or write the port the gateway listens on."

// dnsNameProblem checks a host name as RFC 1123 writes them, fully
// qualified: labels of 1-63 letters, digits and hyphens, not starting or
// ending with a hyphen, at least two, 253 characters at most. A name whose
// last label is all digits is an address written wrong (1.2.3.999), not a
// name: it is refused rather than sent to a resolver.
func dnsNameProblem(name string) string {
	if name == "" {
		return "has no host; " + endpointSyntax + "."
	}
	if len(name) > 253 {
		return fmt.Sprintf("is a name of %d characters; DNS names have at most 253.", len(name))
	}
	labels := strings.Split(name, ".")
	if last := labels[len(labels)-1]; last != "" && strings.Trim(last, "0123456789") == "" {
		return "looks like an IPv4 address but is not one (four numbers of 0 to 255); write the gateway's public address, or a DNS name."
	}
	if len(labels) < 2 {
		return fmt.Sprintf("is a single-label name, which each gateway would complete with its own search domains; write the fully qualified name, such as %q.", name+".example.net")
	}
	for _, l := range labels {
		switch {
		case l == "":
			return "has an empty label (two dots in a row, or a dot at either end); write the name as \"vpn.example.net\", without a trailing dot."
		case len(l) > 63:
			return fmt.Sprintf("has a label of %d characters; a DNS label has at most 63.", len(l))
		case l[0] == '-' || l[len(l)-1] == '-':
			return fmt.Sprintf("has the label %q, which starts or ends with '-'; DNS labels may not.", l)
		}
		// By character, not byte: a message quotes whole characters.
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Sprintf("has the label %q with %q in it; a host name has letters, digits and '-' only (an internationalized name in its ASCII form, xn--...).", l, string(c))
			}
		}
	}
	if tld := strings.ToLower(labels[len(labels)-1]); specialUseTLD[tld] != "" {
		return fmt.Sprintf("is under .%s, %s: no peer can reach a gateway by it; write the gateway's public DNS name or address.", tld, specialUseTLD[tld])
	}
	return ""
}

// specialUseTLD are the special-use domains (RFC 6761, 7686) under which
// no name can lead a peer to a gateway, with why.
var specialUseTLD = map[string]string{
	"localhost": "which every resolver answers with loopback (RFC 6761)",
	"invalid":   "which never resolves (RFC 6761)",
	"onion":     "a Tor name, which DNS never resolves (RFC 7686)",
}

// endpoint checks gateway b's endpoint and sets it on g: an address that
// other gateways can reach, or a well-formed DNS name.
func (v *validator) endpoint(g *fleet.Gateway, a load.Attr[string]) {
	e, why := parseEndpoint(a.Value)
	if why != "" {
		v.errorf(a.Range, "Invalid endpoint", "endpoint %q %s", a.Value, why)
		return
	}
	if e.host != "" {
		if first, ok := v.seen.endpointHosts.remember(e.host, a.Range); !ok {
			v.errorf(a.Range, "Duplicate endpoint", "endpoint name %s is already used at %s; each gateway needs its own public address.", e.host, pos(first))
		}
		g.EndpointHost, g.EndpointPort = e.host, e.port
		return
	}
	addr := e.addr
	if addr.Zone() != "" || addr.Is4In6() {
		v.errorf(a.Range, "Invalid endpoint", "endpoint %q is not a unicast address other gateways can reach; write the gateway's public address.", a.Value)
		return
	}
	if why := notRoutable(host(addr)); why != "" {
		v.errorf(a.Range, "Invalid endpoint", "endpoint %q is %s: other gateways cannot reach it; write the gateway's public address.", a.Value, why)
		return
	}
	if first, ok := v.seen.endpoints.remember(addr, a.Range); !ok {
		v.errorf(a.Range, "Duplicate endpoint", "endpoint address %s is already used at %s; each gateway needs its own public address.", addr, pos(first))
	}
	g.Endpoint, _ = e.literal()
}
