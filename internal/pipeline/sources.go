package pipeline

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"maps"
	"path/filepath"
	"slices"

	"github.com/hashicorp/hcl/v2"
)

// Sources are fleet files by base name.
type Sources map[string][]byte

// sourcesOf keeps the bytes of every parsed fleet file (files without a
// fleet or site block hold nothing of the configuration).
func sourcesOf(files map[string]*hcl.File) Sources {
	s := make(Sources, len(files))
	for name, f := range files {
		s[filepath.Base(name)] = f.Bytes
	}
	return s
}

// Digest identifies the file set: equal for the same names and bytes,
// whatever their order or modification times.
func (s Sources) Digest() string {
	h := sha256.New()
	for _, name := range slices.Sorted(maps.Keys(s)) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(name)))
		h.Write(n[:])
		h.Write([]byte(name))
		binary.BigEndian.PutUint64(n[:], uint64(len(s[name])))
		h.Write(n[:])
		h.Write(s[name])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
