package pipeline

import (
	"reflect"
	"testing"

	"github.com/sitevpn/sitevpn/internal/load"
	"github.com/sitevpn/sitevpn/internal/testfleet"
)

// A run through a cache, the first time and from the cache, renders what
// a run without one renders, for every gateway of the example fleet.
func TestRunWithCache(t *testing.T) {
	dir := testfleet.ExampleDir()
	c := load.NewCache()
	for _, gw := range []string{"v1-1", "v2-2", "v3-1"} {
		want, err := Run(Options{ConfigDir: dir, Gateway: gw})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			got, err := Run(Options{ConfigDir: dir, Gateway: gw, Cache: c})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Tree, want.Tree) || !reflect.DeepEqual(got.Plan, want.Plan) {
				t.Errorf("%s, run %d through the cache: another plan or tree", gw, i+1)
			}
		}
	}
}
