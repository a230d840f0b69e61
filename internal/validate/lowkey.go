package validate

import (
	"encoding/hex"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// lowOrder are the Curve25519 points of small order (1, 2, 4, 8) with
// their non-canonical encodings, bit 255 cleared (X25519 ignores it), as
// libsodium refuses them: a handshake with such a key yields an all-zero
// shared secret, which WireGuard rejects, so no tunnel ever comes up.
var lowOrder = func() [][32]byte {
	var out [][32]byte
	for _, h := range []string{
		"0000000000000000000000000000000000000000000000000000000000000000", // 0
		"0100000000000000000000000000000000000000000000000000000000000000", // 1
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", // order 8
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157", // order 8
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p-1
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p, as 0
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // p+1, as 1
	} {
		b, _ := hex.DecodeString(h)
		out = append(out, [32]byte(b))
	}
	return out
}()

// isLowOrder reports whether k is a point of small order, in any encoding.
func isLowOrder(k wgtypes.Key) bool {
	k[31] &= 0x7f
	for _, p := range lowOrder {
		if k == p {
			return true
		}
	}
	return false
}
