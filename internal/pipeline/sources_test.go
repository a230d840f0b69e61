package pipeline

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/sitevpn/sitevpn/internal/testfleet"
)

// A result keeps the exact bytes of its fleet files, by base name; the
// digest changes with any byte and not with the order files are read in.
func TestSources(t *testing.T) {
	dir := testfleet.ExampleDir()
	res, err := Run(Options{ConfigDir: dir, Gateway: "v1-1"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(dir, "fleet.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Sources) != 1 || !bytes.Equal(res.Sources["fleet.hcl"], want) {
		t.Fatalf("sources: %d files, fleet.hcl equal: %v", len(res.Sources), bytes.Equal(res.Sources["fleet.hcl"], want))
	}
	a := Sources{"a.hcl": []byte("x"), "b.hcl": []byte("y")}
	b := Sources{"b.hcl": []byte("y"), "a.hcl": []byte("x")}
	c := Sources{"a.hcl": []byte("x"), "b.hcl": []byte("z")}
	d := Sources{"a.hcl": []byte("xb.hcl"), "": []byte("y")} // the same bytes run together
	if a.Digest() != b.Digest() || a.Digest() == c.Digest() || a.Digest() == d.Digest() {
		t.Errorf("digests: %s %s %s %s", a.Digest(), b.Digest(), c.Digest(), d.Digest())
	}
}
