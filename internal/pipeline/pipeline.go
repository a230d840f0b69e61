// Package pipeline chains the pure stages: load, validate, identify,
// plan, render. The CLI and the daemon both run it; only what comes after
// (apply, check) touches the system.
package pipeline

import (
	"path/filepath"

	"github.com/hashicorp/hcl/v2"

	"github.com/sitevpn/sitevpn/internal/diag"
	"github.com/sitevpn/sitevpn/internal/fleet"
	"github.com/sitevpn/sitevpn/internal/identity"
	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/plan"
	"github.com/sitevpn/sitevpn/internal/validate"
	"github.com/sitevpn/sitevpn/internal/verify"
	"github.com/sitevpn/sitevpn/render"
)

// Options say what to read and who this gateway is.
type Options struct {
	ConfigDir string   // every *.hcl of it, and private.key
	Files     []string // instead of ConfigDir's *.hcl, when set
	Gateway   string   // overrides the identity from the private key
	KeyFile   string   // instead of ConfigDir's private.key, when set
	// Drained renders this gateway as being drained (sitevpn drain): its
	// own state, not the fleet's.
	Drained bool
	// Cache, when set, keeps the files as decoded from run to run: the
	// daemon's, so that an edit decodes only the files it changed.
	Cache *load.Cache
}

// Result holds each stage's output.
type Result struct {
	Fleet *fleet.Fleet
	Me    *fleet.Gateway
	Plan  *plan.Gateway
	Tree  render.Tree
	// Key is this gateway's private key, read anew by every run, so that
	// a rotated key reaches the kernel without a restart. With --gateway it
	// is read when it can be; KeyErr then says why it could not (only
	// apply needs it).
	Key    identity.PrivateKey
	KeyErr error
	// Warnings are the formatted warnings of the files (risky settings
	// that are valid): shown, logged, never refused.
	Warnings string
	// Sources are the fleet files exactly as validated: what the daemon
	// keeps of a confirmed configuration, and what tells two apart.
	Sources Sources
}

// Validate loads and validates the fleet, and formats the warnings of a
// valid one (risky but accepted settings). Invalid input is a *diag.Error.
func Validate(o Options) (*fleet.Fleet, string, error) {
	f, warnings, _, err := validated(o)
	return f, warnings, err
}

// Verify loads and validates the fleet, then follows its every single
// failure (package verify): the report, each finding placed in the
// files, and the findings formatted as warnings.
func Verify(o Options) (*verify.Report, string, error) {
	f, _, doc, err := validated(o)
	if err != nil {
		return nil, "", err
	}
	rep := verify.Fleet(f)
	rep.Locate(doc)
	return rep, diag.Format(rep.Diagnostics(doc), doc.Files), nil
}

func validated(o Options) (*fleet.Fleet, string, *load.Document, error) {
	var doc *load.Document
	var diags hcl.Diagnostics
	if len(o.Files) > 0 {
		doc, diags = o.Cache.Files(o.Files)
	} else {
		doc, diags = o.Cache.Dir(o.ConfigDir)
	}
	if doc == nil {
		return nil, "", nil, &diag.Error{Diags: diags}
	}
	// Validate even a document with schema errors: the values that did
	// load are checked too, so every error of the files shows at once.
	f, vdiags := validate.Validate(doc)
	diags = append(diags, vdiags...)
	if diags.HasErrors() {
		return nil, "", nil, &diag.Error{Diags: diags, Files: doc.Files}
	}
	return f, diag.Format(diags, doc.Files), doc, nil
}

// Run runs every pure stage for this gateway.
func Run(o Options) (*Result, error) {
	f, warnings, doc, err := validated(o)
	if err != nil {
		return nil, err
	}
	keyPath := filepath.Join(o.ConfigDir, identity.KeyFile)
	if o.KeyFile != "" {
		keyPath = o.KeyFile
	}
	key, keyErr := identity.ReadPrivateKey(keyPath)
	if keyErr != nil && o.Gateway == "" {
		return nil, keyErr
	}
	me, err := identity.Find(f, key, keyPath, o.Gateway)
	if err != nil {
		return nil, err
	}
	res, err := forGateway(f, me, o.Drained)
	if err != nil {
		return nil, err
	}
	if keyErr == nil {
		res.Key = identity.NewPrivateKey(key)
	}
	res.KeyErr = keyErr
	res.Warnings = warnings
	res.Sources = sourcesOf(doc.Files)
	return res, nil
}

// ForGateway plans and renders for gateway me.
func ForGateway(f *fleet.Fleet, me *fleet.Gateway) (*Result, error) {
	return forGateway(f, me, false)
}

func forGateway(f *fleet.Fleet, me *fleet.Gateway, drained bool) (*Result, error) {
	p := plan.For(f, me)
	p.Drained = drained
	tree, err := render.Render(p)
	if err != nil {
		return nil, err
	}
	return &Result{Fleet: f, Me: me, Plan: p, Tree: tree}, nil
}

// Drain is res rendered again, drained or not: the same configuration,
// key and files.
func Drain(res *Result, drained bool) (*Result, error) {
	out, err := forGateway(res.Fleet, res.Me, drained)
	if err != nil {
		return nil, err
	}
	out.Key, out.KeyErr, out.Warnings, out.Sources = res.Key, res.KeyErr, res.Warnings, res.Sources
	return out, nil
}
