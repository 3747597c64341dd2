package testroot

import (
	"bytes"
	"context"
	"errors"
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

// Overlay is a writable copy of a cached root: an overlay mount whose lower
// layer is the root, so changes land in a per-test upper directory and the
// cache stays clean.
type Overlay struct {
	// Dir is the merged mount, the root directory seen by chroot.
	Dir string
	t   testing.TB
	// mounts are unmounted in reverse order at cleanup.
	mounts []string
}

// NewOverlay mounts a fresh overlay of lower with /proc and a minimal /dev
// inside, and unmounts everything when the test ends.
func NewOverlay(t testing.TB, lower string) *Overlay {
	t.Helper()
	base := t.TempDir()
	o := &Overlay{Dir: filepath.Join(base, "merged"), t: t}
	upper := filepath.Join(base, "upper")
	work := filepath.Join(base, "work")
	for _, dir := range []string{o.Dir, upper, work} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(o.unmountAll)

	options := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work)
	o.mount("overlay", o.Dir, "overlay", 0, options)
	o.mount("proc", filepath.Join(o.Dir, "proc"), "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, "")
	o.mountDev()
	return o
}

func (o *Overlay) mount(source, target, fstype string, flags uintptr, data string) {
	o.t.Helper()
	if err := syscall.Mount(source, target, fstype, flags, data); err != nil {
		o.t.Fatalf("mount %s on %s: %v", fstype, target, err)
	}
	o.mounts = append(o.mounts, target)
}

// mountDev puts a tmpfs on /dev with the few device nodes that package
// scripts and apt use, rather than the host's whole /dev.
func (o *Overlay) mountDev() {
	o.t.Helper()
	dev := filepath.Join(o.Dir, "dev")
	o.mount("tmpfs", dev, "tmpfs", syscall.MS_NOSUID, "mode=0755,size=8m")
	nodes := []struct {
		name         string
		major, minor uint32
	}{
		{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
		{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
	}
	for _, node := range nodes {
		path := filepath.Join(dev, node.name)
		device := int(node.major<<8 | node.minor)
		if err := syscall.Mknod(path, syscall.S_IFCHR|0o666, device); err != nil {
			o.t.Fatalf("mknod %s: %v", path, err)
		}
		// Mknod's mode is reduced by the umask.
		if err := os.Chmod(path, 0o666); err != nil {
			o.t.Fatal(err)
		}
	}
	links := map[string]string{
		"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil {
			o.t.Fatal(err)
		}
	}
	for _, dir := range []string{"pts", "shm"} {
		if err := os.Mkdir(filepath.Join(dev, dir), 0o755); err != nil {
			o.t.Fatal(err)
		}
	}
}

// unmountAll unmounts in reverse order. A busy mount, such as one a
// leftover process still uses, is detached lazily, and a mount that cannot
// be detached either fails the test.
func (o *Overlay) unmountAll() {
	for i := len(o.mounts) - 1; i >= 0; i-- {
		target := o.mounts[i]
		if err := syscall.Unmount(target, 0); err != nil {
			if err := syscall.Unmount(target, syscall.MNT_DETACH); err != nil {
				o.t.Errorf("unmount %s: %v", target, err)
			}
		}
	}
	o.mounts = nil
}

// unmountAPI unmounts /proc and /dev inside the overlay, keeping the
// overlay itself.
func (o *Overlay) unmountAPI() {
	for len(o.mounts) > 1 {
		target := o.mounts[len(o.mounts)-1]
		if err := syscall.Unmount(target, 0); err != nil {
			o.t.Fatalf("unmount %s: %v", target, err)
		}
		o.mounts = o.mounts[:len(o.mounts)-1]
	}
}

// Path returns the host path of path inside the root.
func (o *Overlay) Path(path string) string {
	return filepath.Join(o.Dir, path)
}

// WriteFile writes a file inside the root, making its directory.
func (o *Overlay) WriteFile(path string, data []byte, mode os.FileMode) {
	o.t.Helper()
	full := o.Path(path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		o.t.Fatal(err)
	}
	if err := os.WriteFile(full, data, mode); err != nil {
		o.t.Fatal(err)
	}
	if err := os.Chmod(full, mode); err != nil {
		o.t.Fatal(err)
	}
}

// ReadFile returns a file inside the root, failing the test when it is
// missing.
func (o *Overlay) ReadFile(path string) string {
	o.t.Helper()
	data, err := os.ReadFile(o.Path(path))
	if err != nil {
		o.t.Fatal(err)
	}
	return string(data)
}

// CopyIn copies a host file into the root at path.
func (o *Overlay) CopyIn(hostPath, path string) {
	o.t.Helper()
	data, err := os.ReadFile(hostPath)
	if err != nil {
		o.t.Fatal(err)
	}
	o.WriteFile(path, data, 0o644)
}

// Command is one command to run in the root with chroot.
type Command struct {
	Args  []string
	Env   []string // added to a minimal environment
	Stdin io.Reader
	// Timeout bounds the run; DefaultTimeout when zero.
	Timeout time.Duration
}

// DefaultTimeout bounds each command run in a root, so a maintainer script
// that waits for input fails the test rather than hanging it.
const DefaultTimeout = 5 * time.Minute

// Result is the output and exit code of a command run in a root.
type Result struct {
	Stdout, Stderr string
	ExitCode       int
}

// Output returns stdout and stderr together, for failure messages.
func (r Result) Output() string {
	return r.Stdout + r.Stderr
}

// Exec runs a command in the root and returns its result. Only a failure to
// start it, or a timeout, is an error; a non-zero exit is in ExitCode.
// Standard input is empty unless given, as under an unattended upgrade.
func (o *Overlay) Exec(c Command) (Result, error) {
	env := append([]string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root",
		"LC_ALL=C.UTF-8",
	}, c.Env...)
	return execute("chroot", append([]string{o.Dir}, c.Args...), env, c)
}

// execute runs name with args and env, with c's standard input and
// timeout, and returns what it wrote and its exit code.
func execute(name string, args, env []string, c Command) (Result, error) {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Stdin = c.Stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	result := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	if ctx.Err() != nil {
		return result, fmt.Errorf("%s timed out after %s", strings.Join(c.Args, " "), timeout)
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		result.ExitCode = exitErr.ExitCode()
		return result, nil
	}
	return result, err
}

// Run runs a command in the root and fails the test unless it exits 0.
func (o *Overlay) Run(args ...string) Result {
	o.t.Helper()
	return o.RunCommand(Command{Args: args})
}

// RunCommand is Run with a full Command.
func (o *Overlay) RunCommand(c Command) Result {
	o.t.Helper()
	result, err := o.Exec(c)
	if err != nil {
		o.t.Fatalf("%s: %v\n%s", strings.Join(c.Args, " "), err, result.Output())
	}
	if result.ExitCode != 0 {
		o.t.Fatalf("%s exited %d:\n%s", strings.Join(c.Args, " "), result.ExitCode, result.Output())
	}
	return result
}

// Shell runs a POSIX sh script in the root and fails the test unless it
// exits 0.
func (o *Overlay) Shell(script string) Result {
	o.t.Helper()
	return o.Run("/bin/sh", "-ec", script)
}
