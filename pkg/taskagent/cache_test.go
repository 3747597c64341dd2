package taskagent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	agentAMD64 = "#!/bin/sh\necho amd64 task agent\n"
	agentARM64 = "#!/bin/sh\necho arm64 task agent\n"
)

func publishDefault(t *testing.T, rs *releaseServer, version string) {
	t.Helper()
	rs.publish(t, version, map[string]string{"amd64": agentAMD64 + version, "arm64": agentARM64 + version})
}

func TestGetDownloads(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	cache, warnings := newTestCache(t, rs, nil)

	path, err := cache.Get(context.Background(), "1.0.0")

	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	dir := cache.opts.Dir
	if want := filepath.Join(dir, "1.0.0", "circleci-agent"); path != want {
		t.Errorf("path = %s, want %s", path, want)
	}
	if content := readFile(t, path); content != agentAMD64+"1.0.0" {
		t.Errorf("binary content = %q, want the amd64 binary", content)
	}
	wantSumFile := sha256Hex(agentAMD64+"1.0.0") + " *circleci-agent\n"
	if content := readFile(t, path+".sha256"); content != wantSumFile {
		t.Errorf("digest file = %q, want %q", content, wantSumFile)
	}
	wantTree := []string{".lock", "1.0.0", "1.0.0/circleci-agent", "1.0.0/circleci-agent.sha256"}
	if diff := cmp.Diff(wantTree, listTree(t, dir)); diff != "" {
		t.Errorf("cache contents (-want +got):\n%s", diff)
	}
	if len(*warnings) != 0 {
		t.Errorf("warnings = %v, want none", *warnings)
	}
}

func TestGetSetsModes(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	cache, _ := newTestCache(t, rs, nil)
	oldUmask := syscall.Umask(0o077)
	defer syscall.Umask(oldUmask)

	path, err := cache.Get(context.Background(), "1.0.0")

	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	modes := map[string]os.FileMode{
		cache.opts.Dir:                         os.ModeDir | 0o755,
		filepath.Dir(path):                     os.ModeDir | 0o755,
		path:                                   0o755,
		path + ".sha256":                       0o644,
		filepath.Join(cache.opts.Dir, ".lock"): 0o600,
	}
	for file, want := range modes {
		info, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode() != want {
			t.Errorf("mode of %s = %v, want %v", file, info.Mode(), want)
		}
	}
}

func TestGetSendsUserAgent(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	cache, _ := newTestCache(t, rs, nil)

	if _, err := cache.Get(context.Background(), "1.0.0"); err != nil {
		t.Fatalf("Get: %v", err)
	}

	want := []string{"circleci-launch-agent/test", "circleci-launch-agent/test"}
	if diff := cmp.Diff(want, rs.agents); diff != "" {
		t.Errorf("User-Agent headers (-want +got):\n%s", diff)
	}
}

func TestGetReusesCache(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	cache, _ := newTestCache(t, rs, nil)
	first, err := cache.Get(context.Background(), "1.0.0")
	if err != nil {
		t.Fatalf("first Get: %v", err)
	}
	requests := rs.total()

	second, err := cache.Get(context.Background(), "1.0.0")

	if err != nil || second != first {
		t.Errorf("second Get = %q, %v; want %q, nil", second, err, first)
	}
	if rs.total() != requests {
		t.Errorf("second Get sent %d requests, want none", rs.total()-requests)
	}
}

func TestGetReusesCacheOfAnotherInstance(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	cache, _ := newTestCache(t, rs, nil)
	if _, err := cache.Get(context.Background(), "1.0.0"); err != nil {
		t.Fatalf("Get: %v", err)
	}
	requests := rs.total()
	restarted := New(cache.opts)

	if _, err := restarted.Get(context.Background(), "1.0.0"); err != nil {
		t.Fatalf("Get after restart: %v", err)
	}

	if rs.total() != requests {
		t.Errorf("Get after restart sent %d requests, want none", rs.total()-requests)
	}
}

func TestGetRedownloadsCorruptedBinary(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	cache, warnings := newTestCache(t, rs, nil)
	path, err := cache.Get(context.Background(), "1.0.0")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if err := os.WriteFile(path, []byte("corrupted"), 0o755); err != nil {
		t.Fatal(err)
	}

	path, err = cache.Get(context.Background(), "1.0.0")

	if err != nil {
		t.Fatalf("Get after corruption: %v", err)
	}
	if content := readFile(t, path); content != agentAMD64+"1.0.0" {
		t.Errorf("binary content = %q, want the download", content)
	}
	if n := rs.count("/1.0.0/linux/amd64/circleci-agent"); n != 2 {
		t.Errorf("binary requests = %d, want 2", n)
	}
	if len(*warnings) != 1 || !strings.Contains((*warnings)[0].Error(), "cached binary is invalid, downloading it again") {
		t.Errorf("warnings = %v, want one about the invalid binary", *warnings)
	}
}

func TestGetRedownloadsWithoutValidSumFile(t *testing.T) {
	tests := map[string]func(t *testing.T, sumFile string){
		"missing": func(t *testing.T, sumFile string) {
			if err := os.Remove(sumFile); err != nil {
				t.Fatal(err)
			}
		},
		"malformed": func(t *testing.T, sumFile string) {
			if err := os.WriteFile(sumFile, []byte("not a digest\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
		"other entry": func(t *testing.T, sumFile string) {
			line := sha256Hex("x") + " *other-file\n"
			if err := os.WriteFile(sumFile, []byte(line), 0o644); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, damage := range tests {
		t.Run(name, func(t *testing.T) {
			rs := startReleaseServer(t)
			publishDefault(t, rs, "1.0.0")
			cache, _ := newTestCache(t, rs, nil)
			path, err := cache.Get(context.Background(), "1.0.0")
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			damage(t, path+".sha256")

			if _, err := cache.Get(context.Background(), "1.0.0"); err != nil {
				t.Fatalf("Get after damage: %v", err)
			}

			if n := rs.count("/1.0.0/linux/amd64/circleci-agent"); n != 2 {
				t.Errorf("binary requests = %d, want 2", n)
			}
			wantSumFile := sha256Hex(agentAMD64+"1.0.0") + " *circleci-agent\n"
			if content := readFile(t, path+".sha256"); content != wantSumFile {
				t.Errorf("digest file = %q, want %q", content, wantSumFile)
			}
		})
	}
}

func TestGetRejectsSymlinkedBinary(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	cache, warnings := newTestCache(t, rs, nil)
	path, err := cache.Get(context.Background(), "1.0.0")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	elsewhere := filepath.Join(t.TempDir(), "agent")
	if err := os.WriteFile(elsewhere, []byte(agentAMD64+"1.0.0"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, path); err != nil {
		t.Fatal(err)
	}

	if _, err := cache.Get(context.Background(), "1.0.0"); err != nil {
		t.Fatalf("Get: %v", err)
	}

	info, err := os.Lstat(path)
	if err != nil || !info.Mode().IsRegular() {
		t.Errorf("binary is %v, %v; want a regular file again", info, err)
	}
	if len(*warnings) != 1 || !strings.Contains((*warnings)[0].Error(), "is not a regular file") {
		t.Errorf("warnings = %v", *warnings)
	}
}

func TestGetConcurrentCalls(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	cache, _ := newTestCache(t, rs, nil)
	var wg sync.WaitGroup
	paths := make([]string, 8)
	errs := make([]error, 8)

	for i := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			paths[i], errs[i] = cache.Get(context.Background(), "1.0.0")
		}()
	}
	wg.Wait()

	for i := range paths {
		if errs[i] != nil || paths[i] != paths[0] {
			t.Errorf("Get %d = %q, %v; want %q, nil", i, paths[i], errs[i], paths[0])
		}
	}
	if n := rs.count("/1.0.0/linux/amd64/circleci-agent"); n != 1 {
		t.Errorf("binary requests = %d, want 1", n)
	}
	if content := readFile(t, paths[0]); content != agentAMD64+"1.0.0" {
		t.Errorf("binary content = %q", content)
	}
}

// TestGetConcurrentInstances shares one folder between two caches, as two
// processes would, so only the lock file keeps them apart.
func TestGetConcurrentInstances(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	first, _ := newTestCache(t, rs, nil)
	second := New(first.opts)
	var wg sync.WaitGroup
	var errs [2]error

	for i, cache := range []*Cache{first, second} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = cache.Get(context.Background(), "1.0.0")
		}()
	}
	wg.Wait()

	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("Get errors = %v", errs)
	}
	if n := rs.count("/1.0.0/linux/amd64/circleci-agent"); n != 1 {
		t.Errorf("binary requests = %d, want 1", n)
	}
}

func TestGetWaitsForLockUntilContextEnds(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	cache, _ := newTestCache(t, rs, nil)
	if err := cache.Sweep(context.Background()); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	unlock, err := lockDir(context.Background(), filepath.Join(cache.opts.Dir, lockName))
	if err != nil {
		t.Fatalf("lockDir: %v", err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()

	_, err = New(cache.opts).Get(ctx, "1.0.0")

	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "wait for the lock") {
		t.Errorf("Get error = %v, want a lock wait that ended with the context", err)
	}
	if n := rs.total(); n != 0 {
		t.Errorf("requests = %d, want none while locked", n)
	}
}
