package identity

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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

// A FIFO or a device where the key should be is refused at once: the
// daemon watches the file and must never hang on it.
func TestKeyFileThatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "private.key")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.key")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, zero} {
		start := time.Now()
		if _, err := ReadPrivateKey(p); err == nil || time.Since(start) > time.Second {
			t.Errorf("%s: %v after %v", filepath.Base(p), err, time.Since(start))
		}
	}
}
