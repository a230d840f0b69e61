package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/sitevpn/sitevpn/internal/apply"
	"github.com/sitevpn/sitevpn/internal/pipeline"
	"github.com/sitevpn/sitevpn/render"
)

// Preview is what apply would do under root: the whole plan (files,
// units, links, BIRD) when this process can see the system (root, on
// "/"), else the files only, with a note that says why.
func Preview(ctx context.Context, root string, res *pipeline.Result) ([]apply.Action, string, error) {
	note := "(files only: units, links and BIRD are compared when run as root on the gateway)"
	if os.Geteuid() == 0 && root == "/" {
		gw := Open(root, slog.New(slog.DiscardHandler))
		defer gw.Close()
		acts, err := gw.Plan(ctx, res)
		if err == nil {
			return acts, "", nil
		}
		note = fmt.Sprintf("(files only: the system could not be read: %v)", err)
	}
	have, err := apply.ReadHave(root, res.Tree)
	if err != nil {
		return nil, "", err
	}
	return apply.Diff(res.Tree, have), note, nil
}

// WritePreview prints a plan as `sitevpn plan` shows it: the tunnel table,
// then the actions apply would take, each with why.
func WritePreview(w io.Writer, t render.Table, asn uint32, acts []apply.Action) {
	t.WriteText(w, asn)
	fmt.Fprintln(w)
	if len(acts) == 0 {
		fmt.Fprintln(w, "no changes: the files are up to date")
		return
	}
	fmt.Fprintf(w, "%d actions:\n", len(acts))
	for _, a := range acts {
		fmt.Fprintf(w, "  %-16s %s (%s)\n", a.Kind, a.Target, a.Why)
	}
}
