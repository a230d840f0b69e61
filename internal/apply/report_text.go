package apply

import (
	"fmt"
	"io"
)

// WriteText prints the report as `sitevpn apply` shows it: one line per
// action on out, the warnings on errs, "no changes" when there was none
// and nothing failed.
func (r Report) WriteText(out, errs io.Writer, failed bool) {
	for _, a := range r.Actions {
		fmt.Fprintf(out, "%-16s %s %s\n", a.Kind, a.Target, a.Arg)
	}
	for _, w := range r.Warnings {
		fmt.Fprintln(errs, "warning:", w)
	}
	if !failed && !r.Changed() {
		fmt.Fprintln(out, "no changes")
	}
}
