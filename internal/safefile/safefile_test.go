package safefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Each input is refused at once: none blocks (the test would time out),
// none is read into memory.
func TestRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.hcl")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	link := func(name, target string) string {
		p := filepath.Join(dir, name)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sub := filepath.Join(dir, "dir.hcl")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want error
	}{
		{fifo, ErrNotRegular},
		{link("to-fifo.hcl", fifo), ErrNotRegular},
		{link("zero.hcl", "/dev/zero"), ErrNotRegular},
		{sub, ErrNotRegular},
		{link("dangling.hcl", filepath.Join(dir, "nothing")), fs.ErrNotExist},
	} {
		start := time.Now()
		_, err := Read(tc.path, 1<<20)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", filepath.Base(tc.path), err, tc.want)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: took %v", filepath.Base(tc.path), d)
		}
	}
}

func TestSizeLimit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.hcl")
	if err := os.WriteFile(p, make([]byte, 101), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(p, 100); !errors.Is(err, ErrTooLarge) {
		t.Errorf("101 bytes under a 100-byte limit: %v", err)
	}
	if b, err := Read(p, 101); err != nil || len(b) != 101 {
		t.Errorf("at the limit: %d bytes, %v", len(b), err)
	}
}
