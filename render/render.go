// Package render turns one gateway's desired state into the files it needs:
// networkd .netdev/.network files, systemd units, the BIRD configuration and
// the tunnel table. It is pure: a plan in, a sorted tree of files out, the
// same bytes every time.
package render

import (
	"bytes"
	"fmt"
	"io/fs"
	"sort"
	"text/template"

	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/templates"
)

// Where rendered files go, relative to the root (/ on a gateway).
const (
	NetworkDir = "etc/systemd/network"
	UnitDir    = "etc/systemd/system"
	BirdDir    = "etc/bird"
	StateDir   = "var/lib/sitevpn"
	// TunnelTable lists every tunnel of the gateway: what apply realizes.
	TunnelTable = StateDir + "/tunnels.json"
	// NetworkdKey is the copy of the private key networkd reads in vrf
	// mode. It is installed by apply from /etc/sitevpn/private.key, never
	// rendered: render has no secret to write.
	NetworkdKey = "/etc/systemd/network/sitevpn.key"
)

// File is one rendered file. Owner and Group are names, resolved when the
// file is installed.
type File struct {
	Path    string // relative to the root, no leading slash
	Mode    fs.FileMode
	Owner   string
	Group   string
	Content []byte
	// StartOnly marks a unit that a change must not restart, only start if
	// it is not running: restarting the namespace unit would delete the
	// namespace and every tunnel in it, and its start is idempotent.
	StartOnly bool
}

// Tree is a gateway's rendered files, sorted by path.
type Tree []File

// Get returns the file at path, or nil.
func (t Tree) Get(path string) *File {
	i := sort.Search(len(t), func(i int) bool { return t[i].Path >= path })
	if i < len(t) && t[i].Path == path {
		return &t[i]
	}
	return nil
}

var tmpl = template.Must(template.New("").ParseFS(templates.FS, "*.tmpl"))

// Render returns every file gateway g needs.
func Render(g *plan.Gateway) (Tree, error) {
	r := &renderer{g: g}
	names := newNames(g)
	r.execute(BirdDir+"/"+names.BirdConfBase, 0o640, "bird", "bird.conf.tmpl", birdView(g))
	r.execute(UnitDir+"/"+names.BirdUnit, 0o644, "root", "bird.service.tmpl", names)
	if g.Isolation == fleet.NetNS {
		r.execute(UnitDir+"/"+names.NetNSUnit, 0o644, "root", "netns.service.tmpl", names)
		if r.err == nil {
			r.tree[len(r.tree)-1].StartOnly = true
		}
		if names.Unmanaged != "" {
			r.execute(NetworkDir+"/50-sitevpn-unmanaged.network", 0o644, "root", "unmanaged.network.tmpl", names)
		}
	} else {
		r.networkdVRF(names)
	}
	r.tunnelTable()
	if r.err != nil {
		return nil, r.err
	}
	sort.Slice(r.tree, func(i, j int) bool { return r.tree[i].Path < r.tree[j].Path })
	return r.tree, nil
}

type renderer struct {
	g    *plan.Gateway
	tree Tree
	buf  bytes.Buffer
	err  error
}

func (r *renderer) execute(path string, mode fs.FileMode, group, name string, data any) {
	if r.err != nil {
		return
	}
	r.buf.Reset()
	if err := tmpl.ExecuteTemplate(&r.buf, name, data); err != nil {
		r.err = fmt.Errorf("rendering %s with %s: %w", path, name, err)
		return
	}
	r.add(path, mode, group, bytes.Clone(r.buf.Bytes()))
}

func (r *renderer) add(path string, mode fs.FileMode, group string, content []byte) {
	r.tree = append(r.tree, File{Path: path, Mode: mode, Owner: "root", Group: group, Content: content})
}
