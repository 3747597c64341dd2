package taskagent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGetRejectsUnsafeVersions(t *testing.T) {
	rs := startReleaseServer(t)
	cache, _ := newTestCache(t, rs, nil)

	for _, version := range []string{"", ".", "..", "../1.0.0", "1.0.0/..", "a/b", ".hidden", "1..0", "1.0 0", "1.0%2f2"} {
		_, err := cache.Get(context.Background(), version)

		if err == nil || !strings.HasPrefix(err.Error(), "task agent: ") {
			t.Errorf("Get(%q) error = %v, want the version rejected", version, err)
		}
	}
	if n := rs.total(); n != 0 {
		t.Errorf("requests = %d, want none", n)
	}
	if _, err := os.Stat(cache.opts.Dir); !os.IsNotExist(err) {
		t.Errorf("cache folder exists after rejected versions: %v", err)
	}
}

func TestGetRejectsInvalidOptions(t *testing.T) {
	tests := []struct {
		name    string
		modify  func(*Options)
		message string
	}{
		{"no dir", func(o *Options) { o.Dir = "" }, "the directory is not set"},
		{"relative dir", func(o *Options) { o.Dir = "cache" }, `directory "cache" is not an absolute path`},
		{"no base URL", func(o *Options) { o.BaseURL = "" }, "set runner.task_agent_base_url"},
		{"file base URL", func(o *Options) { o.BaseURL = "file:///srv/release" }, "set runner.task_agent_base_url"},
		{"unsafe arch", func(o *Options) { o.Arch = "../amd64" }, "invalid architecture"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			rs := startReleaseServer(t)
			cache, _ := newTestCache(t, rs, test.modify)

			_, err := cache.Get(context.Background(), "1.0.0")

			if err == nil || !strings.Contains(err.Error(), test.message) {
				t.Errorf("Get error = %v, want %q", err, test.message)
			}
			if n := rs.total(); n != 0 {
				t.Errorf("requests = %d, want none", n)
			}
		})
	}
}

func TestGetRejectsWritableDir(t *testing.T) {
	for _, mode := range []os.FileMode{0o775, 0o757, 0o777} {
		rs := startReleaseServer(t)
		publishDefault(t, rs, "1.0.0")
		cache, _ := newTestCache(t, rs, nil)
		mkdirMode(t, cache.opts.Dir, mode)

		_, err := cache.Get(context.Background(), "1.0.0")

		if err == nil {
			t.Fatalf("mode %04o: Get succeeded, want an error", mode)
		}
		want := "task agent cache: " + cache.opts.Dir + " is writable by group or others"
		if !strings.Contains(err.Error(), want) {
			t.Errorf("mode %04o: Get error = %v, want the path named", mode, err)
		}
		if !strings.Contains(err.Error(), "run chmod go-w "+cache.opts.Dir) {
			t.Errorf("mode %04o: Get error = %v, want the fix", mode, err)
		}
		if n := rs.total(); n != 0 {
			t.Errorf("mode %04o: requests = %d, want none", mode, n)
		}
	}
}

func TestGetRejectsDirOwnedByOtherUser(t *testing.T) {
	requireRoot(t)
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	cache, _ := newTestCache(t, rs, nil)
	mkdirMode(t, cache.opts.Dir, 0o755)
	if err := os.Chown(cache.opts.Dir, 1500, 1500); err != nil {
		t.Fatal(err)
	}

	_, err := cache.Get(context.Background(), "1.0.0")

	want := "task agent cache: " + cache.opts.Dir + " is owned by uid 1500, but the launch agent runs as uid 0; " +
		"run chown -R root:root " + cache.opts.Dir
	if err == nil || err.Error() != want {
		t.Errorf("Get error = %v\nwant %s", err, want)
	}
}

func TestGetOwnershipForNonRootAgent(t *testing.T) {
	requireRoot(t)
	tests := []struct {
		owner int
		ok    bool
	}{
		{0, true},
		{1500, true},
		{1600, false},
	}
	for _, test := range tests {
		rs := startReleaseServer(t)
		publishDefault(t, rs, "1.0.0")
		cache, _ := newTestCache(t, rs, nil)
		cache.euid = func() int { return 1500 }
		mkdirMode(t, cache.opts.Dir, 0o755)
		if err := os.Chown(cache.opts.Dir, test.owner, test.owner); err != nil {
			t.Fatal(err)
		}

		_, err := cache.Get(context.Background(), "1.0.0")

		if test.ok && err != nil {
			t.Errorf("owner %d: Get error = %v, want success", test.owner, err)
		}
		if !test.ok && (err == nil || !strings.Contains(err.Error(), "run chown -R 1500 ")) {
			t.Errorf("owner %d: Get error = %v, want the chown fix", test.owner, err)
		}
	}
}

func TestGetRejectsUnsafeVersionDir(t *testing.T) {
	requireRoot(t)
	tests := map[string]func(t *testing.T, dir string){
		"writable": func(t *testing.T, dir string) {
			mkdirMode(t, dir, 0o777)
		},
		"other owner": func(t *testing.T, dir string) {
			mkdirMode(t, dir, 0o755)
			if err := os.Chown(dir, 1500, 1500); err != nil {
				t.Fatal(err)
			}
		},
		"symbolic link": func(t *testing.T, dir string) {
			if err := os.Symlink(t.TempDir(), dir); err != nil {
				t.Fatal(err)
			}
		},
		"file": func(t *testing.T, dir string) {
			if err := os.WriteFile(dir, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, prepare := range tests {
		t.Run(name, func(t *testing.T) {
			rs := startReleaseServer(t)
			publishDefault(t, rs, "1.0.0")
			cache, _ := newTestCache(t, rs, nil)
			mkdirMode(t, cache.opts.Dir, 0o755)
			prepare(t, cache.versionDir("1.0.0"))

			_, err := cache.Get(context.Background(), "1.0.0")

			if err == nil || !strings.Contains(err.Error(), cache.versionDir("1.0.0")) {
				t.Errorf("Get error = %v, want the version folder named", err)
			}
			if n := rs.count("/1.0.0/linux/amd64/circleci-agent"); n != 0 {
				t.Errorf("binary requests = %d, want none", n)
			}
		})
	}
}

func TestGetCreatesMissingParents(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	dir := filepath.Join(t.TempDir(), "var", "lib", "circleci-runner", "task-agent")
	cache, _ := newTestCache(t, rs, func(o *Options) { o.Dir = dir })

	if _, err := cache.Get(context.Background(), "1.0.0"); err != nil {
		t.Fatalf("Get: %v", err)
	}

	info, err := os.Stat(dir)
	if err != nil || info.Mode().Perm() != 0o755 {
		t.Errorf("cache folder = %v, %v; want mode 0755", info, err)
	}
}

func TestGetAcceptsSymlinkedDir(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	target := filepath.Join(t.TempDir(), "real-cache")
	mkdirMode(t, target, 0o755)
	link := filepath.Join(t.TempDir(), "cache")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	cache, _ := newTestCache(t, rs, func(o *Options) { o.Dir = link })

	if _, err := cache.Get(context.Background(), "1.0.0"); err != nil {
		t.Fatalf("Get: %v", err)
	}

	if _, err := os.Stat(filepath.Join(target, "1.0.0", "circleci-agent")); err != nil {
		t.Errorf("binary not in the link's target: %v", err)
	}
}

func mkdirMode(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.Mkdir(dir, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("changing the owner of a folder needs root")
	}
}
