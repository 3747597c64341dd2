package testroot

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BootOptions configures Boot.
type BootOptions struct {
	// Volatile boots with --volatile=overlay: the root stays read-only
	// under a tmpfs, so a cached root can be booted directly. Leave it
	// false to boot an Overlay's Dir, which keeps changes in the overlay.
	Volatile bool
	// BindReadOnly lists "HOST:CONTAINER" paths made visible read-only.
	// The container's /tmp is a tmpfs, so bind under /var/tmp or elsewhere.
	BindReadOnly []string
}

// Machine is systemd booted in a root with systemd-nspawn. It shares the
// host's network namespace, so servers on the host's 127.0.0.1 are
// reachable from inside.
type Machine struct {
	// InitPID is the host PID of the container's systemd, for nsenter.
	InitPID int
	// dir is the booted root directory on the host.
	dir string
	// pidNamespace is the container's PID namespace, such as
	// "pid:[4026532561]", to find processes that outlive the machine.
	pidNamespace string
	nspawn       *exec.Cmd
	// exited is closed when systemd-nspawn has exited.
	exited  chan struct{}
	console syncBuffer
	t       testing.TB
}

// syncBuffer is a bytes.Buffer that systemd-nspawn's output copiers and
// the test may use at the same time.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Boot starts systemd in dir and waits until it reaches the running or
// degraded state. The machine is stopped when the test ends.
func Boot(t testing.TB, dir string, opts BootOptions) *Machine {
	t.Helper()
	Require(t, "systemd-nspawn", "nsenter")
	name := fmt.Sprintf("circleci-test-%d-%d", os.Getpid(), time.Now().UnixNano()%1_000_000)
	args := []string{
		"-D", dir, "-b", "--register=no", "--keep-unit",
		"--console=passive", "--machine=" + name,
	}
	if opts.Volatile {
		args = append(args, "--volatile=overlay")
	}
	for _, bind := range opts.BindReadOnly {
		args = append(args, "--bind-ro="+bind)
	}
	m := &Machine{t: t, dir: dir}
	m.nspawn = exec.Command("systemd-nspawn", args...)
	m.nspawn.Stdout = &m.console
	m.nspawn.Stderr = &m.console
	if err := m.nspawn.Start(); err != nil {
		t.Fatalf("start systemd-nspawn: %v", err)
	}
	m.exited = make(chan struct{})
	go func() {
		m.nspawn.Wait()
		close(m.exited)
	}()
	t.Cleanup(m.stop)

	pid, err := m.waitForInit(30 * time.Second)
	if err != nil {
		t.Fatalf("%v\nconsole:\n%s", err, m.console.String())
	}
	m.InitPID = pid
	m.pidNamespace, _ = os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err := m.waitForBoot(2 * time.Minute); err != nil {
		t.Fatalf("systemd in %s: %v\nconsole:\n%s", dir, err, m.console.String())
	}
	return m
}

// Boot boots systemd in the overlay, keeping changes in it. systemd-nspawn
// needs an empty /dev, so /proc and /dev inside are unmounted first, and
// Exec with chroot no longer works on the overlay afterwards: use the
// Machine's Exec.
func (o *Overlay) Boot(opts BootOptions) *Machine {
	o.t.Helper()
	o.unmountAPI()
	return Boot(o.t, o.Dir, opts)
}

// waitForBoot polls the system state until it is running or degraded.
// "systemctl is-system-running --wait" alone is not enough, because right
// after systemd starts it returns "offline" at once.
func (m *Machine) waitForBoot(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	state := ""
	for time.Now().Before(deadline) {
		result, _ := m.Exec(Command{Args: []string{"systemctl", "is-system-running", "--wait"}, Timeout: timeout})
		state = strings.TrimSpace(result.Stdout)
		if state == "running" || state == "degraded" {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("boot did not finish within %s; last state %q", timeout, state)
}

// waitForInit returns the PID of systemd-nspawn's child, the container's
// init.
func (m *Machine) waitForInit(timeout time.Duration) (int, error) {
	nspawnPID := m.nspawn.Process.Pid
	deadline := time.Now().Add(timeout)
	path := fmt.Sprintf("/proc/%d/task/%d/children", nspawnPID, nspawnPID)
	for time.Now().Before(deadline) {
		select {
		case <-m.exited:
			return 0, fmt.Errorf("systemd-nspawn exited before the container started: %v", m.nspawn.ProcessState)
		default:
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", path, err)
		}
		for _, field := range strings.Fields(string(data)) {
			pid, err := strconv.Atoi(field)
			if err != nil {
				continue
			}
			comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
			if strings.TrimSpace(string(comm)) == "systemd" {
				return pid, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return 0, fmt.Errorf("no systemd process under systemd-nspawn (PID %d) after %s", nspawnPID, timeout)
}

// Exec runs a command inside the machine with nsenter, in all of the
// container's namespaces. Only a failure to start it, or a timeout, is an
// error; a non-zero exit is in ExitCode.
func (m *Machine) Exec(c Command) (Result, error) {
	args := append([]string{"-t", strconv.Itoa(m.InitPID), "-a", "env", "-i",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root", "LC_ALL=C.UTF-8"}, c.Env...)
	return execute("nsenter", append(args, c.Args...), os.Environ(), c)
}

// Run runs a command inside the machine and fails the test unless it
// exits 0.
func (m *Machine) Run(args ...string) Result {
	m.t.Helper()
	result, err := m.Exec(Command{Args: args})
	if err != nil {
		m.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, result.Output())
	}
	if result.ExitCode != 0 {
		m.t.Fatalf("%s exited %d:\n%s", strings.Join(args, " "), result.ExitCode, result.Output())
	}
	return result
}

// RunInput is Run with stdin as the command's standard input.
func (m *Machine) RunInput(stdin string, args ...string) Result {
	m.t.Helper()
	result, err := m.Exec(Command{Args: args, Stdin: strings.NewReader(stdin)})
	if err != nil {
		m.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, result.Output())
	}
	if result.ExitCode != 0 {
		m.t.Fatalf("%s exited %d:\n%s", strings.Join(args, " "), result.ExitCode, result.Output())
	}
	return result
}

// Shell runs a POSIX sh script inside the machine and fails the test
// unless it exits 0.
func (m *Machine) Shell(script string) Result {
	m.t.Helper()
	return m.Run("/bin/sh", "-ec", script)
}

// UnitProperty returns one property of a unit as "systemctl show" prints
// its value, such as the MainPID of "circleci.service".
func (m *Machine) UnitProperty(unit, property string) string {
	m.t.Helper()
	result := m.Run("systemctl", "show", "--property="+property, "--value", unit)
	return strings.TrimSpace(result.Stdout)
}

// WaitForUnitProperty polls a property of unit every 200 ms until accept
// returns true or timeout has passed, and returns its last value.
func (m *Machine) WaitForUnitProperty(unit, property string, timeout time.Duration, accept func(string) bool) string {
	m.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		value := m.UnitProperty(unit, property)
		if accept(value) || time.Now().After(deadline) {
			return value
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stop powers the machine off and waits for systemd-nspawn to exit,
// killing it after 30 seconds. "systemctl poweroff" is used rather than
// SIGTERM to systemd-nspawn, because an arm64 systemd under emulation
// reacts to SIGTERM by entering rescue mode.
func (m *Machine) stop() {
	select {
	case <-m.exited:
		return
	default:
	}
	if m.InitPID != 0 {
		m.Exec(Command{Args: []string{"systemctl", "poweroff", "--no-block"}, Timeout: 10 * time.Second})
	} else {
		m.nspawn.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-m.exited:
	case <-time.After(30 * time.Second):
		m.nspawn.Process.Kill()
		<-m.exited
		m.t.Errorf("systemd-nspawn did not exit within 30s of poweroff; killed it\nconsole:\n%s", m.console.String())
	}
	m.checkNothingLeft()
}

// checkNothingLeft fails the test when a process of the container, a
// mount below its root or a loop device backed by a file in it outlived
// systemd-nspawn.
func (m *Machine) checkNothingLeft() {
	for _, pid := range processesIn(m.pidNamespace) {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		m.t.Errorf("process %d (%s) of the container is still running after systemd-nspawn exited", pid, strings.TrimSpace(string(comm)))
	}
	for _, mount := range mountsBelow(m.dir) {
		m.t.Errorf("%s is still mounted after systemd-nspawn exited", mount)
	}
	for _, loop := range loopDevicesBelow(m.dir) {
		m.t.Errorf("loop device %s is still attached after systemd-nspawn exited", loop)
	}
}

// HostPIDs returns the host PIDs of the machine's processes, so a test can
// read their /proc files from the host without starting a process inside.
func (m *Machine) HostPIDs() []int {
	return processesIn(m.pidNamespace)
}

// processesIn returns the host PIDs of the processes in the PID namespace
// named by namespace, as /proc/PID/ns/pid links read.
func processesIn(namespace string) []int {
	if namespace == "" {
		return nil
	}
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil {
			continue
		}
		if link, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); link == namespace {
			pids = append(pids, pid)
		}
	}
	return pids
}

// mountsBelow returns the host's mount points strictly below dir.
func mountsBelow(dir string) []string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var mounts []string
	for _, line := range strings.Split(string(data), "\n") {
		// The fifth field is the mount point.
		fields := strings.Fields(line)
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			mounts = append(mounts, fields[4])
		}
	}
	return mounts
}

// loopDevicesBelow returns the loop devices whose backing file is below
// dir.
func loopDevicesBelow(dir string) []string {
	files, _ := filepath.Glob("/sys/block/loop*/loop/backing_file")
	var devices []string
	for _, file := range files {
		backing, err := os.ReadFile(file)
		if err == nil && strings.HasPrefix(strings.TrimSpace(string(backing)), dir+"/") {
			devices = append(devices, "/dev/"+filepath.Base(filepath.Dir(filepath.Dir(file))))
		}
	}
	return devices
}
