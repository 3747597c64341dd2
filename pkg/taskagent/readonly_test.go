package taskagent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// mountTmpfs mounts a tmpfs on dir until the test ends. It skips the test
// without root.
func mountTmpfs(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m,mode=755"); err != nil {
		t.Skipf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
}

func makeReadOnly(t *testing.T, dir string) {
	t.Helper()
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_REMOUNT|unix.MS_RDONLY, "size=1m,mode=755"); err != nil {
		t.Fatalf("remount %s read-only: %v", dir, err)
	}
}

func TestGetFromReadOnlyCache(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	dir := filepath.Join(t.TempDir(), "task-agent")
	mountTmpfs(t, dir)
	first, _ := newTestCache(t, rs, func(o *Options) { o.Dir = dir })
	want, err := first.Get(context.Background(), "1.0.0")
	if err != nil {
		t.Fatalf("Get into the writable cache: %v", err)
	}
	makeReadOnly(t, dir)
	requests := rs.total()

	second, _ := newTestCache(t, rs, func(o *Options) { o.Dir = dir })
	got, err := second.Get(context.Background(), "1.0.0")

	if err != nil || got != want {
		t.Errorf("Get from the read-only cache = %q, %v; want %q, nil", got, err, want)
	}
	if rs.total() != requests {
		t.Errorf("Get from the read-only cache sent %d requests, want none", rs.total()-requests)
	}
}

func TestGetMissingFromReadOnlyCache(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	dir := filepath.Join(t.TempDir(), "task-agent")
	mountTmpfs(t, dir)
	makeReadOnly(t, dir)
	cache, _ := newTestCache(t, rs, func(o *Options) { o.Dir = dir })

	_, err := cache.Get(context.Background(), "1.0.0")

	if !errors.Is(err, syscall.EROFS) {
		t.Fatalf("Get into a read-only cache = %v, want a read-only file system error", err)
	}
	want := "task agent cache: create " + filepath.Join(dir, "1.0.0") + ": mkdir " + filepath.Join(dir, "1.0.0") + ": read-only file system"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}
