package apply

import (
	"bytes"
	"sync"

	"github.com/sitevpn/sitevpn/internal/plan"
)

// TableNames remembers the interfaces a tunnel table names, for the
// table sitevpn last wrote or read: an edit then finds the tunnels the
// fleet lost without decoding the whole table again (at 300 tunnels its
// 150 KB of JSON took as long to decode as the rest of an edit's pure
// stages, issue 13). A table is known by its whole content, so a table
// changed by anyone else is decoded. A nil *TableNames remembers nothing.
// Safe for concurrent use.
type TableNames struct {
	mu      sync.Mutex
	content []byte // never written to: the tree's or the read file's
	names   []string
}

// NewTableNames knows no table yet.
func NewTableNames() *TableNames { return &TableNames{} }

// lookup returns the names of the table content, if it is the one m knows.
func (m *TableNames) lookup(content []byte) ([]string, bool) {
	if m == nil {
		return nil, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.content == nil || !bytes.Equal(m.content, content) {
		return nil, false
	}
	return m.names, true
}

// remember records that the table content names names. content is kept
// as it is: neither side may change it later.
func (m *TableNames) remember(content []byte, names []string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.content, m.names = content, names
}

// interfaces are the names of g's tunnels, in order.
func interfaces(g *plan.Gateway) []string {
	names := make([]string, len(g.Tunnels))
	for i, t := range g.Tunnels {
		names[i] = t.Interface
	}
	return names
}
