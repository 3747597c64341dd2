package localtaskagent

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// DefaultKillGrace is how long a step's process group has between SIGTERM
// and SIGKILL. It is short so that the task agent finishes its own cleanup
// well within the launch agent's cancel grace period.
const DefaultKillGrace = 3 * time.Second

// waitDelay bounds the wait for output after a step's shell exited. A process
// that the step left in the background may keep the output pipe open. Its
// later output is lost, and it is stopped with the rest of the process group
// when the task ends.
const waitDelay = time.Second

// defaultShell is CircleCI's default shell on Linux when bash is present.
const defaultShell = "/bin/bash -eo pipefail"

// stepProcess is a running step: its shell in a process group of its own,
// so that stopping the step reaches everything it started.
type stepProcess struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// shellCommand splits a shell such as "/bin/bash -eo pipefail" into words
// and appends "-c COMMAND".
// NOTE: the shell is split at white space; quotes in it are not interpreted.
func shellCommand(shell, command string) []string {
	if strings.TrimSpace(shell) == "" {
		shell = defaultShell
	}
	return append(strings.Fields(shell), "-c", command)
}

func startProcess(argv []string, dir string, env []string, output *outputStream) (*stepProcess, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = output
	cmd.Stderr = output
	cmd.WaitDelay = waitDelay
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}

	process := &stepProcess{cmd: cmd, done: make(chan struct{})}
	go func() {
		process.err = cmd.Wait()
		close(process.done)
	}()
	return process, nil
}

// exitCode returns the shell's exit status, or -1 when a signal ended it.
func (p *stepProcess) exitCode() int {
	if p.cmd.ProcessState == nil {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// signalDescription returns "killed by signal X" when a signal ended the
// shell, else "".
func (p *stepProcess) signalDescription() string {
	var exitErr *exec.ExitError
	if !errors.As(p.err, &exitErr) {
		return ""
	}
	status, ok := exitErr.Sys().(syscall.WaitStatus)
	if !ok || !status.Signaled() {
		return ""
	}
	return "killed by signal " + status.Signal().String()
}

// stop sends SIGTERM to the step's process group and SIGKILL after grace if
// the shell has not exited by then. It returns once the shell has exited.
func (p *stepProcess) stop(grace time.Duration) {
	pgid := p.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)

	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
}

// killGroup sends SIGKILL to what is left of the step's process group after
// its shell exited, such as a process the step started with "&".
// NOTE: when no member is left, the id is free and could name an unrelated
// process group that formed since. The task agent calls this moments after
// its steps end, so that is unlikely but not impossible.
func (p *stepProcess) killGroup() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
}
