package localtaskagent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/taskproto"
)

// Causes that stop a task before its steps are done.
var (
	errMaxRunTime = errors.New("the task ran longer than --maxRunTime")

	// ErrTerminated is the cancel cause that the command passes on SIGTERM.
	ErrTerminated = errors.New("the task agent received SIGTERM")
)

// Agent runs one task.
type Agent struct {
	Args  Args
	Token string

	// Stdout receives a header per step and the steps' output; Stderr
	// receives the agent's own messages.
	Stdout io.Writer
	Stderr io.Writer

	// KillGrace is the time between SIGTERM and SIGKILL when a step is
	// stopped; DefaultKillGrace when 0.
	KillGrace time.Duration

	// Environ is the environment that steps inherit; os.Environ() when nil.
	Environ []string

	// HTTPClient calls the runner API; a client without a timeout of its
	// own when nil, since every request gets a timeout.
	HTTPClient *http.Client

	client    *client
	echo      *lockedWriter
	stepCount int

	mu         sync.Mutex
	processes  []*stepProcess
	background []*backgroundStep
}

// Run runs the task and returns the exit code of the local task agent.
// Cancelling ctx cancels the task, with context.Cause(ctx) as the reason.
func (a *Agent) Run(ctx context.Context) int {
	a.setup()
	ctx, gone := context.WithCancelCause(ctx)
	defer gone(nil)
	a.client.onGone = func() { gone(errGone) }
	runCtx, cancel := context.WithTimeoutCause(ctx, a.Args.MaxRunTime, errMaxRunTime)
	defer cancel()

	config, err := a.client.taskConfig()
	if err != nil {
		a.logf("fetch the task configuration: %v", err)
		if errors.Is(err, errGone) {
			return ExitCancelled
		}
		return ExitError
	}
	if config.Allocation != "" && config.Allocation != a.Args.Allocation {
		a.logf("the task configuration is for allocation %q, not --allocation=%s", config.Allocation, a.Args.Allocation)
		return ExitError
	}

	failure, err := a.runJob(runCtx, config)
	a.stopBackground()
	a.killLeftovers()
	return a.complete(context.Cause(runCtx), failure, err)
}

func (a *Agent) setup() {
	if a.KillGrace == 0 {
		a.KillGrace = DefaultKillGrace
	}
	if a.Environ == nil {
		a.Environ = os.Environ()
	}
	if a.HTTPClient == nil {
		a.HTTPClient = &http.Client{}
	}
	if a.Args.SSHAdvertiseAddr != "" {
		a.logf("SSH reruns are not supported; --sshAdvertiseAddr=%s is ignored", a.Args.SSHAdvertiseAddr)
	}
	a.echo = &lockedWriter{w: a.Stdout}
	a.client = &client{base: a.Args.RunnerAPIBaseURL, token: a.Token, http: a.HTTPClient, logf: a.logf}
}

func (a *Agent) logf(format string, args ...any) {
	fmt.Fprintf(a.Stderr, "local-task-agent: "+format+"\n", args...)
}

// runJob runs the steps in order. It returns the message of the first
// failed step, or an error when the job could not run at all.
func (a *Agent) runJob(ctx context.Context, config taskproto.TaskConfig) (string, error) {
	jobDir, err := resolveDir(a.Args.WorkDir, config.WorkingDirectory)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(jobDir, 0o755); err != nil {
		return "", fmt.Errorf("create the working directory: %w", err)
	}
	fmt.Fprintf(a.echo, "==> Job %s (build %d) in %s\n", config.JobName, config.BuildNum, jobDir)

	job := &jobRun{config: config, dir: jobDir}
	a.stepCount = len(config.Steps)
	failure := ""
	for i, step := range config.Steps {
		if ctx.Err() != nil {
			break
		}
		if !shouldRun(step.When, failure != "") {
			a.skip(i, step)
			continue
		}
		status, message := a.runStep(ctx, job, i, step)
		if status != taskproto.StatusSuccess && failure == "" {
			failure = fmt.Sprintf("step %q %s", step.Name, describeStatus(status, message))
		}
	}
	return failure, nil
}

// jobRun is the job state that every step uses: its configuration and its
// working directory.
type jobRun struct {
	config taskproto.TaskConfig
	dir    string
}

func shouldRun(when string, failed bool) bool {
	switch when {
	case taskproto.WhenAlways:
		return true
	case taskproto.WhenOnFail:
		return failed
	}
	return !failed
}

func describeStatus(status, message string) string {
	if message == "" {
		return status
	}
	return status + ": " + message
}

func (a *Agent) skip(index int, step taskproto.Step) {
	fmt.Fprintf(a.echo, "==> Step %d/%d: %s: skipped (when: %s)\n", index+1, a.stepCount, step.Name, step.When)
	a.report(taskproto.PathStepEnd, taskproto.StepEnd{Step: index, Status: taskproto.StatusSkipped, ExitCode: taskproto.NoExitCode})
}

// report sends a step call; a failure is logged, and the task goes on.
func (a *Agent) report(path string, body any) {
	if err := a.client.post(path, body); err != nil {
		a.logf("report %s: %v", path, err)
	}
}

// complete reports the task's result and returns the exit code.
func (a *Agent) complete(cause error, failure string, jobErr error) int {
	result, message, code := taskproto.ResultSucceeded, "", ExitSucceeded
	switch {
	case errors.Is(cause, errGone):
		a.logf("the runner API cancelled the task")
		return ExitCancelled
	case errors.Is(cause, errMaxRunTime):
		result, message, code = taskproto.ResultFailed, fmt.Sprintf("the task ran longer than --maxRunTime=%s", a.Args.MaxRunTime), ExitFailed
	case cause != nil:
		result, message, code = taskproto.ResultCancelled, "cancelled: "+cause.Error(), ExitCancelled
	case jobErr != nil:
		result, message, code = taskproto.ResultFailed, jobErr.Error(), ExitFailed
	case failure != "":
		result, message, code = taskproto.ResultFailed, failure, ExitFailed
	}

	fmt.Fprintf(a.echo, "==> Task %s%s\n", result, prefixed(": ", message))
	if err := a.client.post(taskproto.PathComplete, taskproto.Complete{Result: result, Message: message}); err != nil {
		a.logf("report the task result: %v", err)
		if code == ExitSucceeded {
			return ExitError
		}
	}
	return code
}

func prefixed(prefix, text string) string {
	if text == "" {
		return ""
	}
	return prefix + text
}
