package testroot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// DefaultMirror is the Debian archive that roots are made from.
const DefaultMirror = "http://deb.debian.org/debian"

// layoutVersion is part of every cache key; raise it when the way a root
// is prepared after debootstrap changes, so old caches are not reused.
const layoutVersion = "1"

// Spec describes a Debian root made with debootstrap.
type Spec struct {
	Suite   string   // such as "bookworm"
	Arch    string   // Debian architecture, such as "amd64" or "arm64"
	Variant string   // debootstrap --variant, such as "minbase"
	Include []string // packages added with --include
	Mirror  string
}

// Bookworm is the root the package tests install into: minbase plus what
// the package depends on, systemd so that it can be booted, and curl and
// sudo for the reference download script.
var Bookworm = Spec{
	Suite:   "bookworm",
	Arch:    "amd64",
	Variant: "minbase",
	Include: []string{
		"adduser", "curl", "dbus", "init-system-helpers", "procps", "sudo",
		"systemd", "systemd-sysv",
	},
	Mirror: DefaultMirror,
}

// BookwormUnattended is Bookworm with unattended-upgrades and needrestart,
// for the system tests that upgrade the package the way a host does it
// unattended. It is a root of its own, so that the package tests install
// into a root without needrestart's apt hook.
var BookwormUnattended = func() Spec {
	spec := Bookworm
	spec.Include = append(append([]string(nil), Bookworm.Include...), "needrestart", "unattended-upgrades")
	return spec
}()

// BookwormArm64 is Bookworm for arm64, made under qemu-user-static.
var BookwormArm64 = func() Spec {
	spec := Bookworm
	spec.Arch = "arm64"
	return spec
}()

// Key returns a name that changes whenever anything that shapes the root
// changes, so a cached root is rebuilt rather than reused stale.
func (s Spec) Key() string {
	sum := sha256.Sum256([]byte(strings.Join([]string{
		layoutVersion, s.Suite, s.Arch, s.Variant, s.Mirror, strings.Join(s.Include, ","),
	}, "\n")))
	return s.Suite + "-" + s.Arch + "-" + hex.EncodeToString(sum[:6])
}

// CacheDir returns where roots are cached: $CIRCLECI_RUNNER_TEST_CACHE, or
// /var/cache/circleci-runner-test.
func CacheDir() string {
	if dir := os.Getenv("CIRCLECI_RUNNER_TEST_CACHE"); dir != "" {
		return dir
	}
	return "/var/cache/circleci-runner-test"
}

// Root returns the path of the cached root for spec, making it first when
// it is missing. It skips the test under -short, and when the prerequisites
// are missing and not root (fails under CI). The returned directory must
// not be changed: tests work on an Overlay of it.
func Root(t testing.TB, spec Spec) string {
	t.Helper()
	if testing.Short() {
		t.Skip("debootstrap roots need root and minutes to make; skipped under -short")
	}
	Require(t, "debootstrap", "chroot")
	if spec.Arch != "amd64" {
		RequireBinfmt(t, spec.Arch)
	}
	dir, err := EnsureRoot(spec, testLogWriter{t})
	if err != nil {
		t.Fatalf("make %s root: %v", spec.Key(), err)
	}
	return dir
}

// EnsureRoot returns the cached root for spec, running debootstrap when it
// is missing. The root is built in a temporary directory and renamed into
// place, so an interrupted build never leaves a half-made root under the
// final name. A lock file serialises builders in other processes.
func EnsureRoot(spec Spec, log io.Writer) (string, error) {
	final := filepath.Join(CacheDir(), "roots", spec.Key())
	if _, err := os.Stat(final); err == nil {
		return final, nil
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return "", err
	}
	unlock, err := lockFile(final + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(final); err == nil {
		return final, nil
	}

	staging, err := os.MkdirTemp(filepath.Dir(final), spec.Key()+".partial-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(staging)
	// os.MkdirTemp makes the directory 0700, which would become the root
	// directory's mode inside the chroot.
	if err := os.Chmod(staging, 0o755); err != nil {
		return "", err
	}
	if err := debootstrap(spec, staging, log); err != nil {
		return "", err
	}
	if err := os.Rename(staging, final); err != nil {
		return "", err
	}
	return final, nil
}

func debootstrap(spec Spec, dir string, log io.Writer) error {
	args := []string{"--variant=" + spec.Variant, "--arch=" + spec.Arch}
	if len(spec.Include) > 0 {
		args = append(args, "--include="+strings.Join(spec.Include, ","))
	}
	args = append(args, spec.Suite, dir, spec.Mirror)
	start := time.Now()
	fmt.Fprintf(log, "debootstrap %s\n", strings.Join(args, " "))
	cmd := exec.Command("debootstrap", args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("debootstrap failed: %v\n%s", err, tail(out, 4000))
	}
	// The package lists and downloaded .debs are not needed by the tests,
	// which set their own sources, and would only grow the cache.
	clean := exec.Command("chroot", dir, "apt-get", "clean")
	if out, err := clean.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get clean in %s: %v: %s", dir, err, out)
	}
	if err := os.RemoveAll(filepath.Join(dir, "var/lib/apt/lists")); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "var/lib/apt/lists/partial"), 0o755); err != nil {
		return err
	}
	fmt.Fprintf(log, "debootstrap of %s took %s\n", spec.Key(), time.Since(start).Round(time.Second))
	return nil
}

// Lock takes an exclusive flock on path, creating the file and its
// folder, and returns its release. It waits while another process holds
// the lock, so it serialises work on the shared cache.
func Lock(path string) (func(), error) {
	return lockFile(path)
}

// lockFile takes an exclusive flock on path and returns its release.
func lockFile(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// testLogWriter sends each write to t.Log.
type testLogWriter struct{ t testing.TB }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
