package localtaskagent

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/taskproto"
)

// runStep runs one step and reports its start and end. A background step is
// reported as ending when its process exits.
func (a *Agent) runStep(ctx context.Context, job *jobRun, index int, step taskproto.Step) (string, string) {
	fmt.Fprintf(a.echo, "==> Step %d/%d: %s\n", index+1, a.stepCount, step.Name)
	a.report(taskproto.PathStepStart, taskproto.StepStart{Step: index})
	start := time.Now()

	var status, message string
	exitCode := taskproto.NoExitCode
	switch {
	case step.Type == taskproto.StepCheckout:
		status, exitCode, message = a.runCheckout(job, step)
	case step.Type == taskproto.StepRun && step.Background:
		return a.startBackground(job, index, step)
	case step.Type == taskproto.StepRun:
		status, exitCode, message = a.runCommand(ctx, job, index, step)
	default:
		status, message = taskproto.StatusFailed, fmt.Sprintf("unknown step type %q", step.Type)
	}

	a.endStep(index, step.Name, status, exitCode, message, time.Since(start))
	return status, message
}

func (a *Agent) endStep(index int, name, status string, exitCode int, message string, duration time.Duration) {
	fmt.Fprintf(a.echo, "==> Step %d/%d: %s: %s%s in %s\n", index+1, a.stepCount, name,
		describeStatus(status, message), describeExit(exitCode), duration.Round(time.Millisecond))
	a.report(taskproto.PathStepEnd, taskproto.StepEnd{Step: index, Status: status, ExitCode: exitCode, Message: message})
}

func describeExit(code int) string {
	if code == taskproto.NoExitCode {
		return ""
	}
	return fmt.Sprintf(" (exit %d)", code)
}

func (a *Agent) runCheckout(job *jobRun, step taskproto.Step) (string, int, string) {
	dir, err := resolveDir(job.dir, step.Path)
	if err == nil {
		var count int
		count, err = a.checkout(dir)
		fmt.Fprintf(a.echo, "Unpacked %d entries of the repository into %s\n", count, dir)
	}
	if err != nil {
		fmt.Fprintf(a.echo, "checkout failed: %v\n", err)
		return taskproto.StatusFailed, 1, err.Error()
	}
	return taskproto.StatusSuccess, 0, ""
}

// prepareRun returns the step's working directory, created when missing, and
// its environment.
func (a *Agent) prepareRun(job *jobRun, step taskproto.Step) (string, []string, error) {
	dir, err := resolveDir(job.dir, step.WorkingDirectory)
	if err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, fmt.Errorf("create the step's working directory: %w", err)
	}
	env := stepEnvironment(a.Environ, builtinEnvironment(job.config, job.dir), job.config.Environment, step.Environment)
	return dir, env, nil
}

func (a *Agent) start(job *jobRun, index int, step taskproto.Step) (*stepProcess, *outputStream, error) {
	dir, env, err := a.prepareRun(job, step)
	if err != nil {
		return nil, nil, err
	}
	shell := step.Shell
	if shell == "" {
		shell = job.config.Shell
	}

	output := newOutputStream(a.client, index, a.echo)
	process, err := startProcess(shellCommand(shell, step.Command), dir, env, output)
	if err != nil {
		output.Close()
		return nil, nil, fmt.Errorf("start the step: %w", err)
	}
	a.mu.Lock()
	a.processes = append(a.processes, process)
	a.mu.Unlock()
	return process, output, nil
}

// runCommand runs a foreground run step until it exits, the task is stopped,
// or it writes no output for its no_output_timeout.
func (a *Agent) runCommand(ctx context.Context, job *jobRun, index int, step taskproto.Step) (string, int, string) {
	process, output, err := a.start(job, index, step)
	if err != nil {
		fmt.Fprintln(a.echo, err)
		return taskproto.StatusFailed, taskproto.NoExitCode, err.Error()
	}
	noOutputTimeout := noOutputTimeoutOf(step)

	status, message := a.supervise(ctx, process, output, noOutputTimeout)
	output.Close()
	if status != "" {
		return status, taskproto.NoExitCode, message
	}
	return exitStatus(process)
}

func noOutputTimeoutOf(step taskproto.Step) time.Duration {
	timeout, err := time.ParseDuration(step.NoOutputTimeout)
	if err != nil || timeout <= 0 {
		return 10 * time.Minute // CircleCI's default no_output_timeout
	}
	return timeout
}

// supervise waits for the process. It stops it and returns a status when
// the task is stopped or the step is silent for too long, and returns ""
// when the process exited by itself.
func (a *Agent) supervise(ctx context.Context, process *stepProcess, output *outputStream, noOutputTimeout time.Duration) (string, string) {
	ticker := time.NewTicker(min(time.Second, noOutputTimeout/4))
	defer ticker.Stop()

	for {
		select {
		case <-process.done:
			return "", ""
		case <-ctx.Done():
			process.stop(a.KillGrace)
			if context.Cause(ctx) == errMaxRunTime {
				return taskproto.StatusTimedOut, fmt.Sprintf("the task ran longer than --maxRunTime=%s", a.Args.MaxRunTime)
			}
			return taskproto.StatusCancelled, context.Cause(ctx).Error()
		case <-ticker.C:
			if output.sinceOutput() >= noOutputTimeout {
				process.stop(a.KillGrace)
				fmt.Fprintf(a.echo, "Too long with no output (exceeded %s)\n", noOutputTimeout)
				return taskproto.StatusTimedOut, fmt.Sprintf("no output for %s", noOutputTimeout)
			}
		}
	}
}

func exitStatus(process *stepProcess) (string, int, string) {
	code := process.exitCode()
	if code == 0 {
		return taskproto.StatusSuccess, 0, ""
	}
	if code < 0 {
		return taskproto.StatusFailed, taskproto.NoExitCode, process.signalDescription()
	}
	return taskproto.StatusFailed, code, fmt.Sprintf("exit status %d", code)
}
