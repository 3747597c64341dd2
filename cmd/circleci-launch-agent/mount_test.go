package main

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// mountTmpfs mounts a tmpfs with the mount flags and the tmpfs options
// (such as "size=64k") on dir, and unmounts it when the test ends. It skips
// the test without root, since only root may mount.
func mountTmpfs(t *testing.T, dir string, flags uintptr, options string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", flags, options); err != nil {
		t.Skipf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		// A lazy unmount succeeds even while a process still uses it.
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
}

// remount changes the mount flags of the tmpfs on dir, such as
// unix.MS_RDONLY to make it read-only or 0 to make it writable again.
func remount(t *testing.T, dir string, flags uintptr, options string) {
	t.Helper()
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_REMOUNT|flags, options); err != nil {
		t.Fatalf("remount %s: %v", dir, err)
	}
}

// fillFilesystem writes files in dir until its file system has no space
// and no inode left, and returns the files, so the test can free them.
func fillFilesystem(t *testing.T, dir string) []string {
	t.Helper()
	big := filepath.Join(dir, "fill-space")
	file, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := file.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	file.Close()

	files := []string{big}
	for i := 0; ; i++ {
		path := filepath.Join(dir, "fill-inode-"+strconv.Itoa(i))
		f, err := os.Create(path)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		files = append(files, path)
	}
	return files
}
