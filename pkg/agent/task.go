package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/circleci-runner/circleci-runner/pkg/launch"
	"github.com/circleci-runner/circleci-runner/pkg/runnerapi"
	"github.com/circleci-runner/circleci-runner/pkg/workdir"
)

// reportTimeout bounds the unclaim or fail event after a task, retries
// included, so a stop stays within stop-agent's CANCEL_TIMEOUT.
const reportTimeout = 20 * time.Second

// task is one claimed task on its way through the loop.
type task struct {
	claim     *runnerapi.Claim
	id        string
	launchID  string
	claimedAt time.Time
	// startedAt is when the task agent started.
	startedAt time.Time
	workDir   string
	// releaseWorkDir ends the lock that keeps other agents' sweeps away
	// from the working directory.
	releaseWorkDir func()
	log            zerolog.Logger
	// workdir is the template in force when the task was claimed, so a
	// reload during the task cannot change what cleanup removes.
	workdir workdir.Template
	api     API
}

// runTask takes a claimed task to its end: fetch its configuration,
// prepare and launch the task agent, supervise it, report a failure and
// clean up. A task that cannot start is unclaimed. It returns false when
// the task agent never ran the task.
func (a *Agent) runTask(ctx context.Context, claim *runnerapi.Claim) bool {
	now := a.opts.Now()
	t := &task{
		claim:     claim,
		launchID:  workdir.NewLaunchID(now),
		claimedAt: now,
		workdir:   a.parts.WorkDir,
		api:       a.parts.API,
	}
	t.log = a.log.With().Str("launch_id", t.launchID).Str("allocation", claim.Allocation).Logger()
	a.saveInflight(t, progressClaimed)
	defer a.clearInflight(t)
	defer t.release()
	t.log.Info().Str("agent_version", claim.AgentVersion).Str("resource_class", claim.ResourceClass).Msg("claimed task")
	if claim.Warning != "" {
		t.log.Warn().Str("warning", claim.Warning).Msg("runner API sent a warning with the task")
	}

	taskConfig, err := t.api.TaskConfig(ctx, claim.TaskToken)
	if err != nil {
		// Without the task id the task cannot be unclaimed, so it fails.
		t.log.Error().Err(err).Msg("fetching the task configuration failed")
		a.fail(t, fmt.Sprintf("Runner %s could not fetch the task configuration: %v", a.cfg.Runner.Name, err))
		return false
	}
	t.id = taskConfig.TaskID
	t.log = t.log.With().Str("task_id", t.id).Logger()
	a.saveInflight(t, progressClaimed)

	if a.ctl.draining() {
		a.unclaim(t, "the runner is stopping")
		return false
	}
	proc, err := a.start(ctx, t)
	if err == nil {
		a.saveInflight(t, progressStarted)
		outcome := a.supervise(t, proc)
		if err = a.neverStarted(outcome); err == nil {
			a.finish(t, outcome)
			a.saveInflight(t, progressReported)
			a.cleanup(t)
			return true
		}
	}

	t.log.Error().Err(err).Msg("task could not start")
	a.unclaim(t, err.Error())
	a.cleanup(t)
	return false
}

// neverStarted returns an error when the task agent's standard input still
// held the task token after the exit: no program read it, so the task
// never started, as when the command prefix exits at once. Such a task is
// unclaimed like one that could not start.
//
// NOTE: a command prefix that reads the token and then exits without
// running the task agent goes unnoticed here.
func (a *Agent) neverStarted(o outcome) error {
	if !o.result.TokenUnread || o.cancelled != "" {
		return nil
	}
	program := a.cfg.Runner.CommandPrefix
	if len(program) == 0 {
		return fmt.Errorf("the task agent exited with %s without reading the task token", o.result)
	}
	return fmt.Errorf("runner.command_prefix %s exited with %s without reading the task token, so the task agent never ran; check that it starts the command it is given",
		program[0], o.result)
}

// start prepares the task agent binary, the working directory and the
// command prefix, then launches the task agent.
func (a *Agent) start(ctx context.Context, t *task) (*launch.Task, error) {
	binary, err := a.parts.TaskAgents.Get(ctx, t.claim.AgentVersion)
	if err == nil {
		err = launch.CheckExecutable(binary)
	}
	if err != nil {
		return nil, fmt.Errorf("task agent %s: %w", t.claim.AgentVersion, err)
	}
	if prefix := a.cfg.Runner.CommandPrefix; len(prefix) > 0 && isPath(prefix[0]) {
		if err := launch.CheckExecutable(prefix[0]); err != nil {
			return nil, fmt.Errorf("runner.command_prefix: %w", err)
		}
	}
	t.workDir, err = t.workdir.Create(t.launchID)
	if err != nil {
		return nil, err
	}
	if t.workdir.PerTask() {
		release, err := t.workdir.Hold(t.launchID)
		if err != nil {
			return nil, err
		}
		t.releaseWorkDir = release
	}

	spec := launch.Spec{
		Command: launch.Command{
			Prefix:           a.cfg.Runner.CommandPrefix,
			TaskAgent:        binary,
			RunnerAPIURL:     a.cfg.API.URL,
			Allocation:       t.claim.Allocation,
			MaxRunTime:       a.cfg.Runner.MaxRunTime,
			WorkDir:          t.workDir,
			SSHAdvertiseAddr: a.cfg.Runner.SSHAdvertiseAddr,
		},
		LaunchID:          t.launchID,
		CancelGracePeriod: a.cfg.Runner.CancelGracePeriod,
		TaskToken:         t.claim.TaskToken,
		Environ:           a.opts.Environ,
		Secrets:           []string{a.cfg.API.AuthToken, t.claim.TaskToken},
	}
	spec.Stdout, spec.Stderr = a.taskOutput(t)

	proc, err := launch.Start(spec)
	if err != nil {
		return nil, err
	}
	t.startedAt = a.opts.Now()
	t.log.Info().Str("work_dir", t.workDir).Int("pid", proc.PID()).Msg("task agent started")
	return proc, nil
}

func isPath(program string) bool {
	return len(program) > 0 && program[0] == '/'
}

// outcome is the end of a task: its exit and whether the agent cancelled it.
type outcome struct {
	result launch.Result
	// cancelled is the reason the agent stopped the task, or "".
	cancelled string
	// killed is true when the task agent needed SIGKILL.
	killed bool
}

// supervise waits for the task agent to exit, cancelling it on SIGTERM or
// when it runs longer than runner.max_run_time.
func (a *Agent) supervise(t *task, proc *launch.Task) outcome {
	var o outcome
	var maxRunTime <-chan time.Time
	if limit := a.cfg.Runner.MaxRunTime; limit > 0 {
		maxRunTime = a.opts.After(limit)
	}
	cancel := a.ctl.cancel
	drain := a.ctl.drain
	var cancelDone chan bool

	for {
		select {
		case <-proc.Done():
			if cancelDone != nil {
				o.killed = <-cancelDone
			}
			o.result = proc.Result()
			return o
		case <-cancel:
			_, cause := a.ctl.cancelling()
			o.cancelled = fmt.Sprintf("runner %s is shutting down (%s)", a.cfg.Runner.Name, cause)
			cancelDone = a.cancelTask(t, proc, o.cancelled)
			cancel, maxRunTime = nil, nil
		case <-maxRunTime:
			o.cancelled = fmt.Sprintf("it ran longer than runner.max_run_time (%s)", a.cfg.Runner.MaxRunTime)
			cancelDone = a.cancelTask(t, proc, o.cancelled)
			cancel, maxRunTime = nil, nil
		case <-drain:
			a.health.Draining()
			drain = nil
		case <-a.watchdog:
			a.health.Watchdog()
		}
	}
}

// cancelTask stops the task agent in the background, so the watchdog is
// still fed during the grace period. The channel gets whether SIGKILL was
// needed.
func (a *Agent) cancelTask(t *task, proc *launch.Task, reason string) chan bool {
	grace := a.cfg.Runner.CancelGracePeriod
	t.log.Warn().Str("reason", reason).Dur("grace_period", grace).Msg("cancelling task: SIGTERM to the task agent's process group")
	done := make(chan bool, 1)
	go func() {
		killed := proc.Cancel(grace)
		if killed {
			t.log.Warn().Msg("task agent did not exit within the grace period; sent SIGKILL")
		}
		done <- killed
	}()
	return done
}

// finish logs the outcome, makes sure no transient unit outlives a
// cancelled task, and sends a fail event for every outcome but success.
func (a *Agent) finish(t *task, o outcome) {
	if o.cancelled != "" {
		// Either the grace period is over, or launch-task exited after
		// stopping the unit itself. So what is left gets SIGKILL at once.
		a.stopUnit(t, 0)
	}

	ran := a.opts.Now().Sub(t.startedAt).Round(time.Millisecond)
	switch {
	case o.cancelled != "":
		t.log.Warn().Str("result", o.result.String()).Dur("duration", ran).Msg("task cancelled")
		a.fail(t, fmt.Sprintf("The task was cancelled because %s.", o.cancelled))
	case !o.result.Success():
		// A job whose steps fail can end this way too, so this is a
		// warning rather than an error of the runner.
		t.log.Warn().Str("result", o.result.String()).Dur("duration", ran).Msg("task agent failed")
		a.fail(t, fmt.Sprintf("The task agent on runner %s ended with %s (launch id %s); see the runner's log for its output.",
			a.cfg.Runner.Name, o.result, t.launchID))
	default:
		t.log.Info().Str("result", o.result.String()).Dur("duration", ran).Msg("task finished")
	}
}

// unclaim returns a task that could not start to the queue. When the task
// cannot return (409) or unclaim fails, a fail event reports the reason
// instead. A 404 means the job was cancelled, so nothing more is sent.
func (a *Agent) unclaim(t *task, reason string) {
	ctx, stop := context.WithTimeout(context.Background(), reportTimeout)
	defer stop()

	err := t.api.Unclaim(ctx, t.id, t.claim.TaskToken)
	switch {
	case err == nil:
		t.log.Info().Str("reason", reason).Msg("task unclaimed; it returns to the queue for another runner")
	case errors.Is(err, runnerapi.ErrTaskGone):
		t.log.Info().Str("reason", reason).Msg("task could not start and its job was already cancelled")
	default:
		t.log.Warn().Err(err).Msg("unclaim failed; sending a fail event instead")
		a.fail(t, fmt.Sprintf("The task could not start on runner %s: %s", a.cfg.Runner.Name, reason))
	}
}

// fail sends a fail event; an error is logged, because nothing else can
// report the task.
func (a *Agent) fail(t *task, message string) {
	ctx, stop := context.WithTimeout(context.Background(), reportTimeout)
	defer stop()

	err := t.api.Fail(ctx, t.claim.TaskToken, t.claim.Allocation, message, a.opts.Now())
	if err != nil {
		t.log.Error().Err(err).Str("fail_message", message).Msg("sending the fail event failed")
		return
	}
	t.log.Info().Str("fail_message", message).Msg("sent fail event")
}

// cleanup removes the task's working directory when
// runner.cleanup_working_directory is on. A failure is logged and does not
// stop the next task.
func (a *Agent) cleanup(t *task) {
	if !a.cfg.Runner.CleanupWorkingDirectory || t.workDir == "" {
		return
	}
	if err := t.workdir.Remove(t.launchID); err != nil {
		t.log.Error().Err(err).Str("path", t.workdir.Owned(t.launchID)).Msg("removing the working directory failed")
		return
	}
	t.log.Info().Str("path", t.workdir.Owned(t.launchID)).Msg("removed working directory")
}

func (t *task) release() {
	if t.releaseWorkDir != nil {
		t.releaseWorkDir()
		t.releaseWorkDir = nil
	}
}
