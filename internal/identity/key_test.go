package identity

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

func TestPrivateKeyNeverPrints(t *testing.T) {
	k, err := wgtypes.GeneratePrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	p := NewPrivateKey(k)
	j, _ := json.Marshal(struct{ K PrivateKey }{p})
	for _, out := range []string{fmt.Sprint(p), fmt.Sprintf("%v %+v %#v %s %q %x", p, p, p, p, p, p), string(j)} {
		if strings.Contains(out, k.String()) || strings.Contains(out, fmt.Sprintf("%x", k[:])) {
			t.Errorf("the key leaks: %s", out)
		}
	}
	if p.Public() != k.PublicKey() || p.WireGuard() != k || p.IsZero() || !p.Equal(NewPrivateKey(k)) {
		t.Error("the wrapper does not carry the key")
	}
}

func TestWriteNewKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "etc", "private.key")
	pub, err := WriteNewKey(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ReadPrivateKey(path) // refuses anything but 0600
	if err != nil || k.PublicKey() != pub {
		t.Fatalf("read back: %v, public key match %v", err, k.PublicKey() == pub)
	}
	if _, err := WriteNewKey(path); err == nil || !strings.Contains(err.Error(), "not overwriting") {
		t.Errorf("an existing key was overwritten or the error says nothing: %v", err)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), k.String()) {
		t.Error("the second call changed the key")
	}
}
