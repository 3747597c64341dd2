package testroot

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRootHasDebianRelease(t *testing.T) {
	for _, spec := range []Spec{Bookworm, BookwormArm64} {
		t.Run(spec.Arch, func(t *testing.T) {
			dir := Root(t, spec)
			version, err := os.ReadFile(filepath.Join(dir, "etc/debian_version"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(version), "12.") {
				t.Errorf("etc/debian_version = %q, expected 12.x", version)
			}
		})
	}
}

func TestOverlayKeepsRootUnchanged(t *testing.T) {
	root := Root(t, Bookworm)
	overlay := NewOverlay(t, root)

	overlay.Shell("echo changed > /etc/overlay-test && rm /etc/debian_version")

	if got := overlay.ReadFile("/etc/overlay-test"); got != "changed\n" {
		t.Errorf("file written in the overlay reads %q", got)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/overlay-test")); err == nil {
		t.Error("file written in the overlay appeared in the cached root")
	}
	if _, err := os.Stat(filepath.Join(root, "etc/debian_version")); err != nil {
		t.Errorf("file removed in the overlay is gone from the cached root: %v", err)
	}
}

func TestOverlayExecReportsExitCode(t *testing.T) {
	overlay := NewOverlay(t, Root(t, Bookworm))

	result, err := overlay.Exec(Command{Args: []string{"/bin/sh", "-c", "cat /proc/self/comm; echo oops >&2; exit 3"}})
	if err != nil {
		t.Fatal(err)
	}
	if result.ExitCode != 3 {
		t.Errorf("exit code = %d, expected 3", result.ExitCode)
	}
	if result.Stdout != "cat\n" {
		t.Errorf("stdout = %q, expected /proc to be mounted and show cat", result.Stdout)
	}
	if result.Stderr != "oops\n" {
		t.Errorf("stderr = %q", result.Stderr)
	}
}

func TestBootReachesRunning(t *testing.T) {
	root := Root(t, Bookworm)
	machine := Boot(t, root, BootOptions{Volatile: true})

	state := machine.Run("systemctl", "show", "--property=SystemState", "--value")
	if got := strings.TrimSpace(state.Stdout); got != "running" && got != "degraded" {
		t.Errorf("SystemState = %q, expected running or degraded", got)
	}
	pid1 := machine.Run("cat", "/proc/1/comm")
	if got := strings.TrimSpace(pid1.Stdout); got != "systemd" {
		t.Errorf("PID 1 inside is %q, expected systemd", got)
	}
}
