package bench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// agentProcess is one run of the launch agent binary.
type agentProcess struct {
	cmd    *exec.Cmd
	log    *os.File
	exited chan struct{}
	err    error
}

// agentConfig is the agent's configuration: the packaged defaults, with
// cleanup on, but no command_prefix, because launch-task needs systemd.
// runner.claim_interval stays at its default.
const agentConfig = `api:
  auth_token: %s
  url: %s
runner:
  name: bench
  resource_class: %s
  working_directory: %s/%%s
  cleanup_working_directory: true
  task_agent_base_url: %s/task-agent
  task_agent_directory: %s
`

// startAgent runs the agent against api, with its files in dir.
func startAgent(binary, dir string, api *apiServer) (*agentProcess, error) {
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	configPath := filepath.Join(dir, "launch-agent-config.yaml")
	config := fmt.Sprintf(agentConfig, api.token, api.url, resourceClass, work, api.url, filepath.Join(dir, "task-agents"))
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "agent.log"))
	if err != nil {
		return nil, err
	}

	p := &agentProcess{log: log, exited: make(chan struct{})}
	p.cmd = exec.Command(binary, "--config", configPath)
	p.cmd.Env = agentEnviron(os.Environ())
	p.cmd.Stdout, p.cmd.Stderr = log, log
	if err := p.cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		log.Close()
		close(p.exited)
	}()
	return p, nil
}

// agentEnviron drops the variables that would override the configuration
// file or make the agent talk to a systemd of this machine.
func agentEnviron(environ []string) []string {
	var env []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "LAUNCH_AGENT_") || strings.HasPrefix(name, "CIRCLECI_RUNNER_") ||
			name == "NOTIFY_SOCKET" || name == "WATCHDOG_USEC" || name == "WATCHDOG_PID" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (p *agentProcess) pid() int { return p.cmd.Process.Pid }

// running reports whether the agent has not exited.
func (p *agentProcess) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop drains the agent with SIGINT, and kills it when it has not exited
// after timeout.
func (p *agentProcess) stop(timeout time.Duration) error {
	if !p.running() {
		return p.exitError()
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
		return p.exitError()
	case <-time.After(timeout):
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	return fmt.Errorf("the launch agent did not exit within %s of SIGINT, so it was killed (see %s)", timeout, p.log.Name())
}

func (p *agentProcess) exitError() error {
	var exitErr *exec.ExitError
	if errors.As(p.err, &exitErr) {
		return fmt.Errorf("the launch agent exited with %s (see %s)", exitErr.ProcessState, p.log.Name())
	}
	return p.err
}

// waitFor polls cond every 10 ms until it is true. It fails when timeout
// passes or the agent exits first.
func (p *agentProcess) waitFor(what string, timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if !p.running() {
			return fmt.Errorf("the launch agent exited while waiting for %s: %v (see %s)", what, p.exitError(), p.log.Name())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s (see %s)", timeout, what, p.log.Name())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}
