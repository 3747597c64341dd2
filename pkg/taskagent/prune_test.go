package taskagent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// getVersions downloads each version and then sets the modification time
// of its folder to an hour apart, oldest first.
func getVersions(t *testing.T, cache *Cache, versions ...string) {
	t.Helper()
	start := time.Now().Add(-24 * time.Hour)
	for i, version := range versions {
		if _, err := cache.Get(context.Background(), version); err != nil {
			t.Fatalf("Get %s: %v", version, err)
		}
		modified := start.Add(time.Duration(i) * time.Hour)
		if err := os.Chtimes(cache.versionDir(version), modified, modified); err != nil {
			t.Fatal(err)
		}
	}
}

func versionFolders(t *testing.T, cache *Cache) []string {
	t.Helper()
	var names []string
	for _, path := range listTree(t, cache.opts.Dir) {
		if !strings.Contains(path, "/") && path != ".lock" {
			names = append(names, path)
		}
	}
	return names
}

func TestGetPrunesOldestVersions(t *testing.T) {
	rs := startReleaseServer(t)
	for _, version := range []string{"1.0.0", "1.1.0", "1.2.0", "1.3.0"} {
		publishDefault(t, rs, version)
	}
	cache, _ := newTestCache(t, rs, nil)

	getVersions(t, cache, "1.3.0", "1.0.0", "1.2.0", "1.1.0")

	// 1.3.0 has the oldest modification time, although it is the highest
	// version, so it is the one pruned.
	want := []string{"1.0.0", "1.1.0", "1.2.0"}
	if diff := cmp.Diff(want, versionFolders(t, cache)); diff != "" {
		t.Errorf("versions kept (-want +got):\n%s", diff)
	}
}

func TestGetKeepsVersionInUse(t *testing.T) {
	rs := startReleaseServer(t)
	for _, version := range []string{"1.0.0", "1.1.0", "1.2.0"} {
		publishDefault(t, rs, version)
	}
	cache, _ := newTestCache(t, rs, func(o *Options) { o.Keep = 2 })
	getVersions(t, cache, "1.0.0", "1.1.0")

	// A cache hit marks 1.0.0 as recently used, so 1.1.0 is the oldest.
	if _, err := cache.Get(context.Background(), "1.0.0"); err != nil {
		t.Fatalf("Get 1.0.0: %v", err)
	}
	if _, err := cache.Get(context.Background(), "1.2.0"); err != nil {
		t.Fatalf("Get 1.2.0: %v", err)
	}

	if diff := cmp.Diff([]string{"1.0.0", "1.2.0"}, versionFolders(t, cache)); diff != "" {
		t.Errorf("versions kept (-want +got):\n%s", diff)
	}
}

func TestGetNeverPrunesReturnedVersion(t *testing.T) {
	rs := startReleaseServer(t)
	for _, version := range []string{"1.0.0", "1.1.0"} {
		publishDefault(t, rs, version)
	}
	cache, _ := newTestCache(t, rs, func(o *Options) { o.Keep = 1 })
	getVersions(t, cache, "1.0.0")
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(cache.versionDir("1.0.0"), future, future); err != nil {
		t.Fatal(err)
	}

	path, err := cache.Get(context.Background(), "1.1.0")

	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("returned binary: %v", err)
	}
	if diff := cmp.Diff([]string{"1.1.0"}, versionFolders(t, cache)); diff != "" {
		t.Errorf("versions kept (-want +got):\n%s", diff)
	}
}

func TestPruneLeavesForeignEntries(t *testing.T) {
	rs := startReleaseServer(t)
	for _, version := range []string{"1.0.0", "1.1.0"} {
		publishDefault(t, rs, version)
	}
	cache, _ := newTestCache(t, rs, func(o *Options) { o.Keep = 1 })
	getVersions(t, cache, "1.0.0")
	foreign := []string{".hidden", "notes.txt", "link-to-tmp"}
	if err := os.Mkdir(filepath.Join(cache.opts.Dir, ".hidden"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cache.opts.Dir, "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(t.TempDir(), filepath.Join(cache.opts.Dir, "link-to-tmp")); err != nil {
		t.Fatal(err)
	}

	if _, err := cache.Get(context.Background(), "1.1.0"); err != nil {
		t.Fatalf("Get: %v", err)
	}

	for _, name := range foreign {
		if _, err := os.Lstat(filepath.Join(cache.opts.Dir, name)); err != nil {
			t.Errorf("prune removed %s: %v", name, err)
		}
	}
	if _, err := os.Stat(cache.versionDir("1.0.0")); !os.IsNotExist(err) {
		t.Errorf("1.0.0 still exists: %v", err)
	}
}

func TestGetSweepsCrashLeftovers(t *testing.T) {
	rs := startReleaseServer(t)
	for _, version := range []string{"1.0.0", "2.0.0"} {
		publishDefault(t, rs, version)
	}
	cache, _ := newTestCache(t, rs, nil)
	getVersions(t, cache, "1.0.0")
	leftovers := []string{
		filepath.Join(cache.versionDir("1.0.0"), ".tmp-circleci-agent-123456"),
		filepath.Join(cache.versionDir("1.0.0"), ".tmp-circleci-agent.sha256-654321"),
	}
	for _, path := range leftovers {
		if err := os.WriteFile(path, []byte("half written"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	restarted := New(cache.opts)

	if _, err := restarted.Get(context.Background(), "2.0.0"); err != nil {
		t.Fatalf("Get: %v", err)
	}

	want := []string{
		".lock",
		"1.0.0", "1.0.0/circleci-agent", "1.0.0/circleci-agent.sha256",
		"2.0.0", "2.0.0/circleci-agent", "2.0.0/circleci-agent.sha256",
	}
	if diff := cmp.Diff(want, listTree(t, cache.opts.Dir)); diff != "" {
		t.Errorf("cache contents (-want +got):\n%s", diff)
	}
}

func TestSweepRemovesLeftovers(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	cache, _ := newTestCache(t, rs, nil)
	getVersions(t, cache, "1.0.0")
	leftover := filepath.Join(cache.versionDir("1.0.0"), ".tmp-circleci-agent-1")
	if err := os.WriteFile(leftover, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	if err := cache.Sweep(context.Background()); err != nil {
		t.Fatalf("Sweep: %v", err)
	}

	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Errorf("leftover still exists: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cache.versionDir("1.0.0"), "circleci-agent")); err != nil {
		t.Errorf("Sweep removed the binary: %v", err)
	}
}
