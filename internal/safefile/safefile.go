// Package safefile reads configuration files an operator (or an attacker
// with write access to a directory sitevpn reads) may have replaced by
// something that is not one: only regular files, after symlinks, up to a
// size, and never blocking on a FIFO or a device.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// ErrNotRegular is returned (wrapped) for a directory, FIFO, socket or
// device, and for a symlink to one.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is returned (wrapped) for a file over the size limit.
var ErrTooLarge = errors.New("file too large")

// Read returns the content of the regular file at path (symlinks
// followed), refusing anything else and anything over max bytes. It opens
// without blocking (a FIFO with no writer would hang a plain open or
// read) and checks the file it opened, not the name, so a swap between
// check and read changes nothing. Errors name the path, never the content.
func Read(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, err
	}
	return readOpen(f, path, max)
}

// ReadIn is Read for name beneath root: symlinks are followed only
// while they stay inside it (os.Root).
func ReadIn(root *os.Root, name string, max int64) ([]byte, error) {
	f, err := root.OpenFile(name, openFlags, 0)
	if err != nil {
		return nil, err
	}
	return readOpen(f, name, max)
}

const openFlags = os.O_RDONLY | syscall.O_NONBLOCK | syscall.O_NOCTTY

// readOpen is Read's checks and read of f, opened as path; it closes f.
func readOpen(f *os.File, path string, max int64) ([]byte, error) {
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, kind(st.Mode()))
	}
	if st.Size() > max {
		return nil, fmt.Errorf("%s: %w: %d bytes, the limit is %d", path, ErrTooLarge, st.Size(), max)
	}
	// The size may grow while reading: read one byte past the limit to
	// tell.
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: %w: over %d bytes", path, ErrTooLarge, max)
	}
	return b, nil
}

func kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}
