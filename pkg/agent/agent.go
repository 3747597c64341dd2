// Package agent is the launch agent's claim loop. It claims a task, prepares
// its task agent and working directory, launches and supervises it, reports a
// failure and cleans up. It runs one task at a time until a signal, the idle
// timeout or single-task mode ends the loop.
package agent

import (
	"context"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/circleci-runner/circleci-runner/pkg/config"
	"github.com/circleci-runner/circleci-runner/pkg/health"
	"github.com/circleci-runner/circleci-runner/pkg/runnerapi"
	"github.com/circleci-runner/circleci-runner/pkg/workdir"
)

// API is the part of the runner API client that the claim loop calls.
type API interface {
	Claim(ctx context.Context, request runnerapi.ClaimRequest) (*runnerapi.Claim, error)
	TaskConfig(ctx context.Context, taskToken string) (*runnerapi.TaskConfig, error)
	Unclaim(ctx context.Context, taskID, taskToken string) error
	Fail(ctx context.Context, taskToken, allocation, message string, at time.Time) error
}

// TaskAgents returns the path of a verified task agent binary.
type TaskAgents interface {
	Get(ctx context.Context, version string) (string, error)
}

// Parts are the runner API client, task agent cache and working directory
// template built from a configuration, and built again on reload.
type Parts struct {
	API        API
	TaskAgents TaskAgents
	WorkDir    workdir.Template
}

// Options are the agent's configuration and its connections to the world,
// passed in so tests can replace the clock, signals and network.
type Options struct {
	Config *config.Config
	// Build makes the Parts for a configuration.
	Build func(*config.Config) (Parts, error)
	// Reload reads the configuration again, for SIGHUP.
	Reload func() (*config.Config, error)

	Health *health.Reporter
	Log    zerolog.Logger

	// Signals delivers SIGINT, SIGTERM and SIGHUP.
	Signals <-chan os.Signal
	// Environ is the agent's environment, filtered for each task agent.
	Environ []string
	// Hostname and IP are sent with each claim.
	Hostname, IP string
	// Version is sent with each claim.
	Version string

	// Executable is the agent's own binary; when it is replaced on disk
	// the agent drains. Empty disables the check.
	Executable string
	// ExecutableCheck is how often Executable is checked; default 5 s.
	ExecutableCheck time.Duration
	// WatchdogInterval is how often to send WATCHDOG=1; 0 disables it.
	WatchdogInterval time.Duration

	// StopUnit stops the transient systemd unit of a task after a cancel or
	// a restart, in case launch-task could not. Processes of the unit still
	// running after grace get SIGKILL. Nil does nothing.
	StopUnit func(ctx context.Context, launchID string, grace time.Duration) error

	// StateFile records the claimed task until it is reported, so a
	// restarted agent can report a task that a crash interrupted. Empty
	// disables the record.
	StateFile string

	// TaskOutput receives the task agent's output as lines; nil logs them.
	TaskOutput io.Writer

	// Now and After are the clock; nil means the time package.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// Rand returns a number in [0, 1) for jitter; nil means math/rand/v2.
	Rand func() float64
}

// Agent runs the claim loop. Create it with New and call Run once.
type Agent struct {
	opts   Options
	cfg    *config.Config
	parts  Parts
	log    zerolog.Logger
	health *health.Reporter
	ctl    *control

	// watchdog ticks at WatchdogInterval, or is nil.
	watchdog <-chan time.Time
}

// New returns an agent for the validated configuration in opts.
func New(opts Options) (*Agent, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.After == nil {
		opts.After = time.After
	}
	if opts.Rand == nil {
		opts.Rand = defaultRand
	}
	if opts.ExecutableCheck <= 0 {
		opts.ExecutableCheck = 5 * time.Second
	}

	parts, err := opts.Build(opts.Config)
	if err != nil {
		return nil, err
	}
	return &Agent{
		opts:   opts,
		cfg:    opts.Config,
		parts:  parts,
		log:    opts.Log,
		health: opts.Health,
		ctl:    newControl(opts.Log),
	}, nil
}

// Run claims and runs tasks until SIGINT (after the running task), SIGTERM
// (cancelling it), the idle timeout or single-task mode ends the loop, or
// ctx is cancelled. It returns nil in all of those cases.
func (a *Agent) Run(ctx context.Context) error {
	loopDone := make(chan struct{})
	defer close(loopDone)
	go a.ctl.watchContext(ctx, loopDone)

	ctx, stop := context.WithCancel(ctx)
	defer stop()

	go a.ctl.watchSignals(ctx, a.opts.Signals)
	if a.opts.Executable != "" {
		go a.ctl.watchExecutable(ctx, a.opts.Executable, a.opts.ExecutableCheck)
	}
	if a.opts.WatchdogInterval > 0 {
		ticker := time.NewTicker(a.opts.WatchdogInterval)
		defer ticker.Stop()
		a.watchdog = ticker.C
	}

	a.health.Ready()
	a.recoverInflight()
	a.sweep()
	a.loop(ctx)
	a.health.Stopping()
	a.log.Info().Msg("launch agent stopped")
	return nil
}

func (a *Agent) loop(ctx context.Context) {
	idleSince := a.opts.Now()
	failures, startFailures := 0, 0
	for {
		if a.ctl.draining() {
			a.health.Draining()
			return
		}
		a.reloadIfRequested()
		if a.idleTimedOut(idleSince) {
			a.log.Info().Dur("idle_timeout", a.cfg.Runner.IdleTimeout).Msg("no task claimed within runner.idle_timeout; stopping")
			return
		}

		claim, err := a.claim(ctx)
		if err != nil {
			failures++
			a.wait(a.claimFailed(err, failures), idleSince)
			continue
		}
		failures = 0
		a.health.Healthy()
		if claim == nil {
			delay := a.pollDelay()
			a.log.Debug().Dur("next_claim_in", delay).Msg("no task to claim")
			a.wait(delay, idleSince)
			continue
		}

		started := a.runTask(ctx, claim)
		if a.cfg.Runner.Mode == config.ModeSingleTask {
			a.log.Info().Msg("runner.mode is single-task; stopping after one task")
			return
		}
		idleSince = a.opts.Now()
		if started {
			// After a task ends the loop claims again at once.
			startFailures = 0
			continue
		}
		startFailures++
		a.wait(a.startFailed(startFailures), idleSince)
	}
}

func (a *Agent) idleTimedOut(idleSince time.Time) bool {
	timeout := a.cfg.Runner.IdleTimeout
	return timeout > 0 && a.opts.Now().Sub(idleSince) >= timeout
}

// wait pauses for d, or less when the idle timeout comes first, and returns
// early on drain, cancel or reload. It keeps the watchdog fed.
func (a *Agent) wait(d time.Duration, idleSince time.Time) {
	if a.ctl.draining() {
		return
	}
	if timeout := a.cfg.Runner.IdleTimeout; timeout > 0 {
		remaining := timeout - a.opts.Now().Sub(idleSince)
		d = max(0, min(d, remaining))
	}
	timer := a.opts.After(d)
	for {
		select {
		case <-timer:
			return
		case <-a.ctl.drain:
			return
		case <-a.ctl.reload:
			a.ctl.requestReload()
			return
		case <-a.watchdog:
			a.health.Watchdog()
		}
	}
}

// pollDelay is the wait after an empty claim: runner.claim_interval with
// up to 20 % jitter either way, so a fleet does not claim in lockstep.
func (a *Agent) pollDelay() time.Duration {
	interval := float64(a.cfg.Runner.ClaimInterval)
	return time.Duration(interval * (0.8 + 0.4*a.opts.Rand()))
}

func (a *Agent) sweep() {
	if !a.cfg.Runner.CleanupWorkingDirectory {
		return
	}
	removed, err := a.parts.WorkDir.Sweep()
	for _, path := range removed {
		a.log.Info().Str("path", path).Msg("removed stale working directory")
	}
	if err != nil {
		a.log.Error().Err(err).Msg("sweeping stale working directories failed")
	}
}

// reloadIfRequested applies a pending SIGHUP between tasks. An invalid
// configuration is logged and the running one kept.
func (a *Agent) reloadIfRequested() {
	select {
	case <-a.ctl.reload:
	default:
		return
	}

	cfg, err := a.opts.Reload()
	if err != nil {
		a.log.Error().Err(err).Msg("configuration reload failed; keeping the running configuration")
		return
	}
	parts, err := a.opts.Build(cfg)
	if err != nil {
		a.log.Error().Err(err).Msg("configuration reload failed; keeping the running configuration")
		return
	}
	a.cfg, a.parts = cfg, parts
	a.log.Info().Str("config", cfg.Path).Msg("configuration reloaded")
}

// signalName names sig for logs and fail events.
func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return sig.String()
}
