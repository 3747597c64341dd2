// Package launch starts the task agent for one task: the command line after
// runner.command_prefix, the task token on standard input, a clean
// environment and a process group of its own so a cancel reaches every
// process the task agent started.
package launch

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Command is the task agent's command line.
type Command struct {
	// Prefix is runner.command_prefix, such as ["/opt/circleci/launch-task"].
	Prefix []string
	// TaskAgent is the path of the cached task agent binary.
	TaskAgent        string
	RunnerAPIURL     string
	Allocation       string
	MaxRunTime       time.Duration
	WorkDir          string
	SSHAdvertiseAddr string
}

// Args returns the full argument list: the prefix, then the task agent and
// its flags.
func (c Command) Args() []string {
	args := append([]string(nil), c.Prefix...)
	args = append(args,
		c.TaskAgent,
		"_internal", "agent-runner",
		"--runnerAPIBaseURL="+c.RunnerAPIURL,
		"--allocation="+c.Allocation,
		"--maxRunTime="+c.MaxRunTime.String(),
		"--workDir="+c.WorkDir,
	)
	if c.SSHAdvertiseAddr != "" {
		args = append(args, "--sshAdvertiseAddr="+c.SSHAdvertiseAddr)
	}
	return args
}

// Spec is everything needed to start one task agent.
type Spec struct {
	Command Command
	// LaunchID names the task; it is passed as CIRCLECI_LAUNCH_ID.
	LaunchID string
	// CancelGracePeriod is runner.cancel_grace_period, passed as
	// CIRCLECI_CANCEL_GRACE_PERIOD_MS for launch-task.
	CancelGracePeriod time.Duration
	// TaskToken is written to standard input, never to arguments or the
	// environment.
	TaskToken string
	// Environ is the agent's own environment; Environment filters it.
	Environ []string
	// Secrets are values that must not reach the task's environment, such
	// as the resource-class token.
	Secrets []string
	// Stdout and Stderr receive the task agent's output.
	Stdout, Stderr io.Writer
}

// Task is a started task agent.
type Task struct {
	cmd     *exec.Cmd
	outputs []*output
	done    chan struct{}
	err     error

	// stdin is the agent's copy of the read end of the task agent's
	// standard input, and tokenWritten is closed once the token is in the
	// pipe. tokenUnread is set after the exit.
	stdin        *os.File
	tokenWritten chan struct{}
	tokenUnread  bool
}

// Start starts the task agent, writes the task token and a newline to its
// standard input, and closes standard input.
func Start(spec Spec) (*Task, error) {
	args := spec.Command.Args()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = Environment(spec.Environ, spec.LaunchID, spec.CancelGracePeriod, spec.Secrets)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true,
		// If the agent dies, the task's leader gets SIGTERM, so
		// launch-task can stop the transient unit it started.
		Pdeathsig: syscall.SIGTERM,
	}

	t := &Task{cmd: cmd, done: make(chan struct{}), tokenWritten: make(chan struct{})}
	stdin, err := t.connect(spec.Stdout, spec.Stderr)
	if err != nil {
		return nil, fmt.Errorf("start task agent: %w", err)
	}
	err = cmd.Start()
	t.closeChildEnds()
	if err != nil {
		stdin.Close()
		t.stdin.Close()
		t.closeOutputs()
		return nil, fmt.Errorf("start task agent %s: %w", args[0], err)
	}

	for _, out := range t.outputs {
		go out.copy()
	}
	go t.writeToken(stdin, spec.TaskToken)
	go t.wait()
	return t, nil
}

// writeToken sends the token. A token is far smaller than a pipe's buffer
// (at least 4 KiB on Linux) and the agent keeps a read end open, so the
// write neither blocks nor fails when the child exits without reading.
func (t *Task) writeToken(stdin io.WriteCloser, token string) {
	_, _ = io.WriteString(stdin, token+"\n")
	_ = stdin.Close()
	close(t.tokenWritten)
}

// wait reaps the task agent, then kills what is left of its process group,
// so no process the task started outlives it unless it left the group.
func (t *Task) wait() {
	t.err = t.cmd.Wait()
	_ = t.Signal(syscall.SIGKILL)
	<-t.tokenWritten
	t.tokenUnread = unreadBytes(t.stdin) > 0
	t.stdin.Close()
	t.finishOutputs()
	close(t.done)
}

// unreadBytes returns how many bytes are still in the pipe of file, or 0
// when that cannot be found out. TIOCINQ is Linux's name for FIONREAD,
// which pipes support too.
func unreadBytes(file *os.File) int {
	n, err := unix.IoctlGetInt(int(file.Fd()), unix.TIOCINQ)
	if err != nil {
		return 0
	}
	return n
}

// PID returns the process id of the task agent, or of the first program of
// the prefix; it is also the process group id.
func (t *Task) PID() int { return t.cmd.Process.Pid }

// Done is closed when the task agent has exited.
func (t *Task) Done() <-chan struct{} { return t.done }

// Result describes how the task agent ended. Call it after Done is closed.
func (t *Task) Result() Result {
	state := t.cmd.ProcessState
	result := Result{Err: t.err, TokenUnread: t.tokenUnread}
	if state == nil {
		return result
	}
	ws, ok := state.Sys().(syscall.WaitStatus)
	switch {
	case ok && ws.Signaled():
		result.Signal = ws.Signal()
		result.ExitCode = -1
		result.Err = nil
	default:
		result.ExitCode = state.ExitCode()
		var exitErr *exec.ExitError
		if errors.As(t.err, &exitErr) {
			result.Err = nil
		}
	}
	return result
}

// Signal sends sig to the task agent's whole process group.
func (t *Task) Signal(sig syscall.Signal) error {
	err := syscall.Kill(-t.cmd.Process.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// Cancel sends SIGTERM to the process group and, if the task agent has not
// exited after grace, SIGKILL. It returns true when SIGKILL was needed.
// Cancel waits for the task agent to exit.
func (t *Task) Cancel(grace time.Duration) (killed bool) {
	_ = t.Signal(syscall.SIGTERM)
	timer := time.NewTimer(grace)
	defer timer.Stop()

	select {
	case <-t.done:
		// The leader is gone; members of its group that outlived it
		// still get SIGKILL, so nothing the task started survives.
		_ = t.Signal(syscall.SIGKILL)
		return false
	case <-timer.C:
	}
	_ = t.Signal(syscall.SIGKILL)
	<-t.done
	return true
}

// Result is the outcome of a task agent process.
type Result struct {
	// ExitCode is the exit status, or -1 when a signal ended the process.
	ExitCode int
	// Signal is the signal that ended the process, if any.
	Signal syscall.Signal
	// Err is set when waiting failed for a reason other than the exit
	// status, such as an I/O error copying output.
	Err error
	// TokenUnread is true when the task token was still in the standard
	// input pipe after the exit. Then no program read it, so the task agent
	// never started its task, whatever its exit status.
	TokenUnread bool
}

// Success reports whether the task agent exited with status 0.
func (r Result) Success() bool { return r.Err == nil && r.Signal == 0 && r.ExitCode == 0 }

// String describes the outcome for logs and fail events.
func (r Result) String() string {
	switch {
	case r.Err != nil:
		return r.Err.Error()
	case r.Signal != 0:
		return "killed by signal " + r.Signal.String()
	default:
		return fmt.Sprintf("exit status %d", r.ExitCode)
	}
}

// DefaultPath is the PATH a task agent gets when the agent's own has none.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// passedVariables are the variables of the agent's environment that a task
// agent may see: locale, time zone, home, and proxy settings from
// /etc/default/circleci-runner.
var passedVariables = map[string]bool{
	"HOME": true, "USER": true, "LOGNAME": true, "SHELL": true,
	"LANG": true, "LANGUAGE": true, "TZ": true, "TMPDIR": true,
	"HTTP_PROXY": true, "HTTPS_PROXY": true, "NO_PROXY": true,
	"http_proxy": true, "https_proxy": true, "no_proxy": true,
}

// Environment returns the task agent's environment: the allowed variables
// of environ, a PATH, CIRCLECI_LAUNCH_ID and CIRCLECI_CANCEL_GRACE_PERIOD_MS.
// launch-task gives the task's transient unit that stop timeout, so a
// process that ignores SIGTERM gets SIGKILL after the grace period also
// when the unit stops at the task's end. Configuration variables
// (LAUNCH_AGENT_*, CIRCLECI_RUNNER_*), systemd's NOTIFY_SOCKET and any
// variable whose value contains a secret are left out.
func Environment(environ []string, launchID string, grace time.Duration, secrets []string) []string {
	var env []string
	path := DefaultPath
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || containsSecret(value, secrets) {
			continue
		}
		switch {
		case name == "PATH":
			path = value
		case passedVariables[name] || strings.HasPrefix(name, "LC_"):
			env = append(env, kv)
		}
	}
	return append(env, "PATH="+path, "CIRCLECI_LAUNCH_ID="+launchID,
		"CIRCLECI_CANCEL_GRACE_PERIOD_MS="+strconv.FormatInt(grace.Milliseconds(), 10))
}

func containsSecret(value string, secrets []string) bool {
	for _, secret := range secrets {
		if secret != "" && strings.Contains(value, secret) {
			return true
		}
	}
	return false
}

// CheckExecutable returns an error naming path when it is missing, not a
// regular file, has no execute permission, or cannot be executed by the
// agent's user, as on a file system mounted noexec. The claim loop runs it
// before each task on the command prefix and the task agent, because
// either can break after the config was loaded.
func CheckExecutable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("command %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("command %s is not a regular file", path)
	}
	if info.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("command %s has no execute permission; run chmod 755 %s", path, path)
	}
	// access(2) also applies the mount's noexec flag, which the mode bits
	// do not show.
	if err := unix.Access(path, unix.X_OK); err != nil {
		return fmt.Errorf("command %s cannot be executed: %w; check that its file system is not mounted noexec", path, err)
	}
	return nil
}
