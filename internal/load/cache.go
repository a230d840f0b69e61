package load

import (
	"bytes"
	"sync"

	"github.com/hashicorp/hcl/v2"
)

// Cache keeps each fleet file as parsed and decoded, by name and content,
// for the next load: the daemon reloads the whole fleet after every edit,
// and for a hub of 300 tunnels parsing and decoding the files that did
// not change was most of the load (issue 13); with a Cache an edit
// decodes the files it changed. It holds the files of the last load only.
// A nil *Cache caches nothing. Safe for concurrent use.
//
// What is shared between loads is never written after decoding: the
// stages after load read the Document and build their own values.
type Cache struct {
	mu    sync.Mutex
	files map[string]*parsed
}

// NewCache is an empty cache.
func NewCache() *Cache { return &Cache{files: map[string]*parsed{}} }

// parsed is one file that parsed without a diagnostic, with its blocks
// decoded.
type parsed struct {
	hcl       *hcl.File
	fleetFile bool // isFleetFile
	content   hcl.Diagnostics
	blocks    []decodedBlock
}

// run is one Parse's use of a cache: the files it has read so far.
type run struct {
	c   *Cache
	now map[string]*parsed
}

func (c *Cache) begin() *run {
	if c != nil {
		c.mu.Lock()
	}
	return &run{c: c, now: map[string]*parsed{}}
}

// end keeps the files of this load, and only those.
func (r *run) end() {
	if r.c != nil {
		r.c.files = r.now
		r.c.mu.Unlock()
	}
}

// lookup is src as read before: earlier in this load under the same name
// (a file named twice is read once), or by the last load with the same
// content.
func (r *run) lookup(src Source) (*parsed, bool) {
	if f, ok := r.now[src.Name]; ok {
		return f, true
	}
	if r.c == nil {
		return nil, false
	}
	f, ok := r.c.files[src.Name]
	if !ok || !bytes.Equal(f.hcl.Bytes, src.Bytes) {
		return nil, false
	}
	r.now[src.Name] = f
	return f, true
}

// parse parses src and, unless that failed, decodes it (a broken file's
// body is partial). Only a file that parsed without any diagnostic is
// kept: the others are rare, and their diagnostics are the parser's.
func (r *run) parse(src Source) (*parsed, hcl.Diagnostics) {
	f, diags := parseHCL(src.Bytes, src.Name)
	if f == nil {
		return nil, diags
	}
	p := &parsed{hcl: f, fleetFile: isFleetFile(f)}
	if diags.HasErrors() {
		return p, diags
	}
	p.content, p.blocks = decodeBody(f.Body)
	if len(diags) == 0 {
		r.now[src.Name] = p
	}
	return p, diags
}
