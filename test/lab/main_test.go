//go:build lab

package lab

import (
	"os"
	"testing"
)

// processCleanups run once every test of the process ended: what tests
// share (the package built once) outlives each of them.
var processCleanups []func()

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(processCleanups) - 1; i >= 0; i-- {
		processCleanups[i]()
	}
	os.Exit(code)
}
