package validate

import "strings"

// validName accepts names safe as a file name, a unit name part and an
// interface name: letters, digits, '-', '_', '.', not starting with '-' or '.'.
func validName(s string, max int) bool {
	if s == "" || len(s) > max || s[0] == '-' || s[0] == '.' {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}

// tunnelName reports whether s has the form wg<digits>, the names sitevpn
// gives its tunnel interfaces.
func tunnelName(s string) bool {
	rest, ok := strings.CutPrefix(s, "wg")
	if !ok || rest == "" {
		return false
	}
	return strings.Trim(rest, "0123456789") == ""
}

// reservedDevice says why no device sitevpn creates or takes may be named
// s: one every namespace has already, or one the kernel refuses ("" when
// neither).
func reservedDevice(s string) string {
	switch s {
	case "lo":
		return "the loopback interface, which every namespace has"
	case "all", "default":
		return "a name the kernel refuses for an interface (it names the defaults under /proc/sys/net/*/conf)"
	}
	return ""
}
