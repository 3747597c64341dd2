package logging

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// writable returns nil when the calling process may write path.
func writable(path string) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	if err := unix.Access(path, unix.W_OK); err != nil {
		return &os.PathError{Op: "access", Path: path, Err: err}
	}
	return nil
}

func parentDir(path string) string {
	return filepath.Dir(filepath.Clean(path))
}
