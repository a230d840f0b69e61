package link

import (
	"errors"
	"io/fs"
	"testing"
)

func TestErrorFormatAndUnwrap(t *testing.T) {
	err := opErr("set peer", "wg3", fs.ErrNotExist)
	if got, want := err.Error(), "link: set peer wg3: file does not exist"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(%v, fs.ErrNotExist) = false", err)
	}
	var le *Error
	if !errors.As(err, &le) || le.Op != "set peer" || le.Link != "wg3" {
		t.Errorf("errors.As: %#v", le)
	}
	if got, want := opErr("observe", "", fs.ErrPermission).Error(), "link: observe: permission denied"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if opErr("x", "y", nil) != nil {
		t.Error("opErr(nil) != nil")
	}
}
