// Package testroot gives tests a clean Debian root to install packages in:
// a debootstrap root cached on disk, a fresh overlay mount of it per test,
// commands run in it with chroot, and a systemd boot of it with
// systemd-nspawn. Everything here needs root; the helpers install the host
// tools they use with apt-get.
package testroot

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// hostPackages maps each host command the harness and the package tests
// use to the Debian package that provides it.
var hostPackages = map[string]string{
	"debootstrap":         "debootstrap",
	"lintian":             "lintian",
	"qemu-aarch64-static": "qemu-user-static",
	"systemd-nspawn":      "systemd-container",
	"gpg":                 "gnupg",
	"update-binfmts":      "binfmt-support",
	"dpkg-deb":            "dpkg",
	"chroot":              "coreutils",
	"nsenter":             "util-linux",
	"systemd-analyze":     "systemd",
	"curl":                "curl",
}

var installMu sync.Mutex

// InCI reports whether the tests run under CI (CI=true), where a missing
// prerequisite is a failure rather than a skip.
func InCI() bool {
	return os.Getenv("CI") == "true"
}

// skipOrFail skips the test with reason, or fails it under CI.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// RequireRoot skips the test when it does not run as root (fails it under CI).
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "needs root for mounts, chroot and apt-get; running as uid %d", os.Geteuid())
	}
}

// Require makes sure each host command is on PATH, installing the Debian
// packages that provide the missing ones with apt-get. It skips the test
// when not root or when the install fails, and fails it instead under CI.
func Require(t testing.TB, commands ...string) {
	t.Helper()
	RequireRoot(t)
	if err := InstallCommands(commands...); err != nil {
		skipOrFail(t, "missing test prerequisites: %v", err)
	}
}

// InstallCommands installs the Debian packages that provide the commands
// not yet on PATH. It runs apt-get update first, because a fresh machine
// may have no package lists. Concurrent callers, also in other test
// processes, are serialised by a lock file.
func InstallCommands(commands ...string) error {
	installMu.Lock()
	defer installMu.Unlock()

	missing := missingPackages(commands)
	if len(missing) == 0 {
		return nil
	}
	unlock, err := lockFile(filepath.Join(CacheDir(), "apt.lock"))
	if err != nil {
		return err
	}
	defer unlock()

	// Another process may have installed them while this one waited.
	missing = missingPackages(commands)
	if len(missing) == 0 {
		return nil
	}
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	update := exec.Command("apt-get", "update")
	update.Env = env
	if out, err := update.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get update failed: %v\n%s", err, out)
	}
	args := append([]string{"install", "-y", "--no-install-recommends"}, missing...)
	install := exec.Command("apt-get", args...)
	install.Env = env
	if out, err := install.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get install %s failed: %v\n%s", strings.Join(missing, " "), err, out)
	}
	if still := missingPackages(commands); len(still) > 0 {
		return fmt.Errorf("commands still missing after installing %s", strings.Join(still, " "))
	}
	return nil
}

// missingPackages returns the sorted Debian packages that provide the
// commands not found on PATH.
func missingPackages(commands []string) []string {
	set := map[string]bool{}
	for _, command := range commands {
		if _, err := exec.LookPath(command); err == nil {
			continue
		}
		pkg, ok := hostPackages[command]
		if !ok {
			pkg = command
		}
		set[pkg] = true
	}
	packages := make([]string, 0, len(set))
	for pkg := range set {
		packages = append(packages, pkg)
	}
	sort.Strings(packages)
	return packages
}

// RequireBinfmt registers qemu-user-static's binfmt_misc handler for the
// Debian architecture arch (such as "arm64"), so that the kernel runs that
// architecture's binaries by name, also inside a chroot. The handler has
// the F flag, so the root needs no copy of the emulator.
func RequireBinfmt(t testing.TB, arch string) {
	t.Helper()
	Require(t, "qemu-aarch64-static")
	if err := RegisterBinfmt(arch); err != nil {
		skipOrFail(t, "binfmt_misc registration for %s failed: %v", arch, err)
	}
}

// RegisterBinfmt registers the handler as RequireBinfmt does, but returns
// an error rather than failing a test.
func RegisterBinfmt(arch string) error {
	cpu, ok := qemuCPU[arch]
	if !ok {
		return fmt.Errorf("no qemu emulator known for architecture %q", arch)
	}
	const dir = "/proc/sys/fs/binfmt_misc"
	if _, err := os.Stat(filepath.Join(dir, "qemu-"+cpu)); err == nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "register")); err != nil {
		mount := exec.Command("mount", "-t", "binfmt_misc", "binfmt_misc", dir)
		if out, err := mount.CombinedOutput(); err != nil {
			return fmt.Errorf("mount binfmt_misc on %s: %v: %s", dir, err, out)
		}
	}
	// The binfmt.d file that qemu-user-static ships contains the exact line
	// that the kernel's register file expects.
	conf := "/usr/lib/binfmt.d/qemu-" + cpu + ".conf"
	line, err := os.ReadFile(conf)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "register"), line, 0o200); err != nil {
		return fmt.Errorf("register %s: %w", conf, err)
	}
	return nil
}

// qemuCPU maps Debian architecture names to qemu's CPU names.
var qemuCPU = map[string]string{
	"arm64": "aarch64",
}
