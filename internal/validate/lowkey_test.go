package validate

import (
	"crypto/ecdh"
	"testing"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Each listed point, with bit 255 clear or set, is what X25519 itself
// refuses (an all-zero shared secret); real keys are not.
func TestLowOrderKeys(t *testing.T) {
	priv, err := ecdh.X25519().GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	refused := func(k wgtypes.Key) bool {
		pub, err := ecdh.X25519().NewPublicKey(k[:])
		if err != nil {
			return true
		}
		_, err = priv.ECDH(pub)
		return err != nil
	}
	for _, p := range lowOrder {
		for _, high := range []byte{0, 0x80} {
			k := wgtypes.Key(p)
			k[31] |= high
			if !isLowOrder(k) || !refused(k) {
				t.Errorf("%x: isLowOrder %v, refused by X25519 %v; want both", k, isLowOrder(k), refused(k))
			}
		}
	}
	for range 100 {
		k, _ := wgtypes.GeneratePrivateKey()
		if pub := k.PublicKey(); isLowOrder(pub) || refused(pub) {
			t.Errorf("a real public key %s is taken for a low-order point", pub)
		}
	}
}
