package workdir

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseSplitsAtLaunchIDElement(t *testing.T) {
	tests := []struct {
		template, base, owned, path string
	}{
		{"/opt/circleci/workdir/%s", "/opt/circleci/workdir", "/opt/circleci/workdir/ID", "/opt/circleci/workdir/ID"},
		{"/w/job-%s/src", "/w", "/w/job-ID", "/w/job-ID/src"},
		{"/w/%s-x/a/b/", "/w", "/w/ID-x", "/w/ID-x/a/b"},
		{"/srv/build", "/srv", "/srv/build", "/srv/build"},
	}
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			tmpl, err := Parse(tt.template)
			if err != nil {
				t.Fatal(err)
			}
			if got := tmpl.Base(); got != tt.base {
				t.Errorf("Base() = %q, want %q", got, tt.base)
			}
			if got := tmpl.Owned("ID"); got != tt.owned {
				t.Errorf("Owned() = %q, want %q", got, tt.owned)
			}
			if got := tmpl.Path("ID"); got != tt.path {
				t.Errorf("Path() = %q, want %q", got, tt.path)
			}
		})
	}
}

func TestParseRejectsUnsafeTemplates(t *testing.T) {
	tests := map[string]string{
		"work/%s":  `working directory "work/%s" is not an absolute path`,
		"/":        `working directory "/" is the root folder`,
		"/w/%s/%s": `working directory "/w/%s/%s" contains %s more than once`,
		"/a/../":   `working directory "/a/../" is the root folder`,
	}
	for template, want := range tests {
		_, err := Parse(template)
		if err == nil || err.Error() != want {
			t.Errorf("Parse(%q) error = %v, want %q", template, err, want)
		}
	}
}

func TestNewLaunchIDShape(t *testing.T) {
	id := NewLaunchID(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC))
	if !regexp.MustCompile(`^[a-z0-9-]+$`).MatchString(id) {
		t.Fatalf("launch id %q has characters outside [a-z0-9-]", id)
	}
	if !launchIDPattern.MatchString(id) {
		t.Fatalf("launch id %q does not match the sweep pattern", id)
	}
	if other := NewLaunchID(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)); other == id {
		t.Fatalf("two launch ids are both %q", id)
	}
}

func TestCreateTakesOwnerAndModeOfBase(t *testing.T) {
	base := t.TempDir()
	if err := os.Chmod(base, 0o750); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if err := os.Chown(base, 1500, 1501); err != nil {
			t.Fatal(err)
		}
	}
	tmpl := mustParse(t, base+"/%s/src")

	path, err := tmpl.Create("abc")
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(base, "abc", "src") {
		t.Fatalf("Create() = %q", path)
	}
	for _, dir := range []string{filepath.Join(base, "abc"), path} {
		info, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o750 {
			t.Errorf("%s mode = %v, want 0750", dir, info.Mode().Perm())
		}
		st := info.Sys().(*syscall.Stat_t)
		if os.Geteuid() == 0 && (st.Uid != 1500 || st.Gid != 1501) {
			t.Errorf("%s owner = %d:%d, want 1500:1501", dir, st.Uid, st.Gid)
		}
	}
}

func TestCreateFailsWithoutBase(t *testing.T) {
	base := filepath.Join(t.TempDir(), "missing")
	_, err := mustParse(t, base+"/%s").Create("abc")
	if err == nil {
		t.Fatal("Create() succeeded without a base")
	}
	want := "working directory base " + base + ": stat " + base + ": no such file or directory; create it or change runner.working_directory"
	if err.Error() != want {
		t.Fatalf("error = %q, want %q", err, want)
	}
}

func TestCreateRejectsExistingPerTaskDirectory(t *testing.T) {
	base := t.TempDir()
	if err := os.Symlink("/etc", filepath.Join(base, "abc")); err != nil {
		t.Fatal(err)
	}
	if _, err := mustParse(t, base+"/%s").Create("abc"); err == nil {
		t.Fatal("Create() reused a symbolic link planted at the task's path")
	}
}

func TestRemoveDoesNotFollowSymlinks(t *testing.T) {
	base := t.TempDir()
	outside := t.TempDir()
	keep := filepath.Join(outside, "keep")
	writeFile(t, keep)
	tmpl := mustParse(t, base+"/%s")
	path, err := tmpl.Create("abc")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(path, "a", "b", "file"))
	if err := os.Symlink(outside, filepath.Join(path, "a", "link")); err != nil {
		t.Fatal(err)
	}

	if err := tmpl.Remove("abc"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("working directory still exists: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("file outside the working directory is gone: %v", err)
	}
}

func TestRemoveWhenDirectoryReplacedBySymlink(t *testing.T) {
	base := t.TempDir()
	outside := t.TempDir()
	keep := filepath.Join(outside, "keep")
	writeFile(t, keep)
	tmpl := mustParse(t, base+"/%s")
	path, err := tmpl.Create("abc")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, path); err != nil {
		t.Fatal(err)
	}

	if err := tmpl.Remove("abc"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("symbolic link still exists: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("file the link pointed at is gone: %v", err)
	}
}

func TestRemoveEmptiesFixedDirectory(t *testing.T) {
	parent := t.TempDir()
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "keep"))
	tmpl := mustParse(t, parent+"/build")
	path, err := tmpl.Create("abc")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(path, "x", "y"))
	if err := os.Symlink(outside, filepath.Join(path, "link")); err != nil {
		t.Fatal(err)
	}

	if err := tmpl.Remove("abc"); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		t.Fatalf("fixed working directory was removed: %v", err)
	}
	if len(entries) != 0 {
		t.Errorf("fixed working directory still holds %d entries", len(entries))
	}
	if _, err := os.Stat(filepath.Join(outside, "keep")); err != nil {
		t.Errorf("file outside the working directory is gone: %v", err)
	}

	// The next task reuses the directory.
	if _, err := tmpl.Create("def"); err != nil {
		t.Fatalf("Create() after cleanup: %v", err)
	}
}

func TestRemoveFixedDirectoryReplacedBySymlink(t *testing.T) {
	parent := t.TempDir()
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "keep"))
	tmpl := mustParse(t, parent+"/build")
	if err := os.Symlink(outside, filepath.Join(parent, "build")); err != nil {
		t.Fatal(err)
	}

	if err := tmpl.Remove("abc"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(outside, "keep")); err != nil {
		t.Errorf("file the link pointed at is gone: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(parent, "build")); !os.IsNotExist(err) {
		t.Errorf("symbolic link still exists: %v", err)
	}
}

func TestSweepRemovesOnlyLaunchIDDirectories(t *testing.T) {
	base := t.TempDir()
	tmpl := mustParse(t, base+"/job-%s")
	stale := NewLaunchID(time.Now())
	if _, err := tmpl.Create(stale); err != nil {
		t.Fatal(err)
	}
	others := []string{"job-notanid", "keepme", NewLaunchID(time.Now())}
	for _, name := range others {
		if err := os.Mkdir(filepath.Join(base, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}

	removed, err := tmpl.Sweep()
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != filepath.Join(base, "job-"+stale) {
		t.Errorf("Sweep() removed %v, want only job-%s", removed, stale)
	}
	for _, name := range others {
		if _, err := os.Stat(filepath.Join(base, name)); err != nil {
			t.Errorf("%s was swept: %v", name, err)
		}
	}
}

func mustParse(t *testing.T, template string) Template {
	t.Helper()
	tmpl, err := Parse(template)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func writeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Repeat("x", 10)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSweepSkipsHeldDirectory(t *testing.T) {
	base := t.TempDir()
	tmpl := mustParse(t, base+"/%s")
	held, stale := NewLaunchID(time.Now()), NewLaunchID(time.Now())
	for _, id := range []string{held, stale} {
		if _, err := tmpl.Create(id); err != nil {
			t.Fatal(err)
		}
	}
	release, err := tmpl.Hold(held)
	if err != nil {
		t.Fatal(err)
	}

	removed, err := tmpl.Sweep()
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != filepath.Join(base, stale) {
		t.Errorf("Sweep() removed %v, want only %s", removed, stale)
	}
	if _, err := os.Stat(filepath.Join(base, held)); err != nil {
		t.Errorf("held directory was swept: %v", err)
	}

	release()
	if removed, _ := tmpl.Sweep(); len(removed) != 1 {
		t.Errorf("Sweep() after release removed %v, want the released directory", removed)
	}
}
