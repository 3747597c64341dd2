package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"
)

// Stop timeouts of the launch agent: a drain waits for the running task,
// and a cancel for the task to stop.
const (
	drainTimeout  = 30 * time.Second
	cancelTimeout = 15 * time.Second
)

// agentConfig is the launch agent configuration that the demo writes.
type agentConfig struct {
	API struct {
		AuthToken string `yaml:"auth_token"`
		URL       string `yaml:"url"`
	} `yaml:"api"`
	Runner struct {
		Name                    string `yaml:"name"`
		ResourceClass           string `yaml:"resource_class"`
		WorkingDirectory        string `yaml:"working_directory"`
		CleanupWorkingDirectory bool   `yaml:"cleanup_working_directory"`
		TaskAgentBaseURL        string `yaml:"task_agent_base_url"`
		TaskAgentDirectory      string `yaml:"task_agent_directory"`
		Mode                    string `yaml:"mode"`
		ClaimInterval           string `yaml:"claim_interval"`
	} `yaml:"runner"`
	Logging struct {
		File string `yaml:"file"`
	} `yaml:"logging"`
}

// demoDirs are the files and folders of one demo run under its temporary
// folder.
type demoDirs struct {
	root       string
	workdir    string // parent of the working directories
	taskAgents string // task agent cache
	config     string // launch agent configuration, mode 0600
	agentLog   string // logging.file
	agentOut   string // standard output and error of the launch agent
}

func newDemoDirs(root string) (demoDirs, error) {
	dirs := demoDirs{
		root:       root,
		workdir:    filepath.Join(root, "workdir"),
		taskAgents: filepath.Join(root, "task-agents"),
		config:     filepath.Join(root, "launch-agent-config.yaml"),
		agentLog:   filepath.Join(root, "agent.log"),
		agentOut:   filepath.Join(root, "agent-output.log"),
	}
	for _, dir := range []string{dirs.workdir, dirs.taskAgents} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			return dirs, err
		}
	}
	return dirs, nil
}

// writeAgentConfig writes the launch agent configuration with the token,
// readable by the current user only.
func writeAgentConfig(dirs demoDirs, token, apiURL, resourceClass string) error {
	var config agentConfig
	config.API.AuthToken = token
	config.API.URL = apiURL
	config.Runner.Name = "demo"
	config.Runner.ResourceClass = resourceClass
	config.Runner.WorkingDirectory = filepath.Join(dirs.workdir, "%s")
	config.Runner.CleanupWorkingDirectory = true
	config.Runner.TaskAgentBaseURL = apiURL + "/task-agent"
	config.Runner.TaskAgentDirectory = dirs.taskAgents
	config.Runner.Mode = "continuous"
	config.Runner.ClaimInterval = "1s"
	config.Logging.File = dirs.agentLog

	data, err := yaml.Marshal(&config)
	if err != nil {
		return err
	}
	file, err := os.OpenFile(dirs.config, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write the launch agent configuration: %w", err)
	}
	if _, err := file.Write(data); err != nil {
		file.Close()
		return fmt.Errorf("write the launch agent configuration: %w", err)
	}
	return file.Close()
}

// agentProcess is the running launch agent.
type agentProcess struct {
	cmd    *exec.Cmd
	output *os.File
	done   chan struct{}
	err    error
}

// startAgent starts the launch agent in its own process group, so that
// Ctrl-C in the terminal reaches only the demo, which then stops the agent
// in order.
func startAgent(binary string, dirs demoDirs) (*agentProcess, error) {
	output, err := os.OpenFile(dirs.agentOut, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	// The state folder in the demo's temporary folder keeps a root demo
	// from writing to /var/lib/circleci-runner.
	cmd := exec.Command(binary, "--config", dirs.config, "--state-dir", filepath.Join(dirs.root, "state"))
	cmd.Stdout, cmd.Stderr = output, output
	cmd.Env = agentEnvironment(os.Environ())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		output.Close()
		return nil, fmt.Errorf("start the launch agent %s: %w", binary, err)
	}

	agent := &agentProcess{cmd: cmd, output: output, done: make(chan struct{})}
	go func() {
		agent.err = cmd.Wait()
		output.Close()
		close(agent.done)
	}()
	return agent, nil
}

// agentEnvironment drops the variables that would override the demo's
// configuration file.
func agentEnvironment(environ []string) []string {
	var env []string
	for _, entry := range environ {
		if strings.HasPrefix(entry, "LAUNCH_AGENT_") || strings.HasPrefix(entry, "CIRCLECI_RUNNER_") {
			continue
		}
		env = append(env, entry)
	}
	return env
}

func (a *agentProcess) exited() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

func (a *agentProcess) exitCode() int {
	return a.cmd.ProcessState.ExitCode()
}

// stop drains the agent with SIGINT, cancels with SIGTERM when the drain
// takes longer than drainTimeout, and kills it after cancelTimeout more.
func (a *agentProcess) stop(logf func(string, ...any)) {
	steps := []struct {
		signal  syscall.Signal
		timeout time.Duration
	}{{syscall.SIGINT, drainTimeout}, {syscall.SIGTERM, cancelTimeout}, {syscall.SIGKILL, cancelTimeout}}

	for _, step := range steps {
		if a.exited() {
			return
		}
		logf("sending %s to the launch agent", step.signal)
		a.cmd.Process.Signal(step.signal)
		select {
		case <-a.done:
			return
		case <-time.After(step.timeout):
			logf("the launch agent did not exit within %s of %s", step.timeout, step.signal)
		}
	}
}
