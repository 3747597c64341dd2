// Package bench measures the launch agent on this machine against the local
// runner API. It times task start, the cost of a task beyond a bare
// fork/exec, the cost of an idle agent, working directory removal, task
// agent downloads and checks, and make dist. Run returns one Figure per
// measurement, and WriteResults records them in the benchmarks page.
//
// Task start is measured across two processes. The driver serves the runner
// API and stamps each claim response with CLOCK_REALTIME after flushing it
// to the socket. The no-op task agent stamps CLOCK_REALTIME as the first
// statement of its main function and appends it to a record file with its
// allocation. The difference, matched by allocation, is the start latency.
package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Options sets what Run measures and how much. The counts of Full are the
// published ones; tests use smaller ones.
type Options struct {
	// Agent is the circleci-launch-agent binary. Run copies it first, so a
	// rebuild during the run does not make the agent drain.
	Agent string
	// RepoDir is the module root: the no-op task agent is built from it
	// and make dist runs in it.
	RepoDir string
	// ScratchDir contains every file the run makes. It should be empty.
	ScratchDir string

	// Tasks is the number of back-to-back no-op tasks, and of bare
	// fork/execs in the baseline.
	Tasks int
	// LargeTasks is the number of back-to-back tasks with the large task
	// agent.
	LargeTasks int
	// TaskAgentBytes is the size of the large task agent.
	TaskAgentBytes int64
	// CachedRuns and DownloadRuns are the repetitions of the cached task
	// agent launch and of the first-use download.
	CachedRuns, DownloadRuns int
	// Idle is how long the idle agent is watched.
	Idle time.Duration
	// CleanupFiles is the number of files in the working directory that
	// cleanup removes, and CleanupRounds is how often each removal is
	// timed.
	CleanupFiles, CleanupRounds int
	// CleanupSettle is the pause before each removal on the disk, while
	// the disk finishes the writes and discards of the previous one.
	CleanupSettle time.Duration
	// Dist runs make dist twice, with an empty Go build cache and again.
	Dist bool
	// Make is the make program for the dist benchmark.
	Make string

	// Progress receives a line as each benchmark starts. Nil discards them.
	Progress io.Writer
}

// Full returns the options of make bench for an agent binary and a
// repository.
func Full(agent, repoDir, scratchDir string) Options {
	return Options{
		Agent:          agent,
		RepoDir:        repoDir,
		ScratchDir:     scratchDir,
		Tasks:          500,
		LargeTasks:     50,
		TaskAgentBytes: 20_000_000,
		CachedRuns:     20,
		DownloadRuns:   5,
		Idle:           60 * time.Second,
		CleanupFiles:   100_000,
		CleanupRounds:  2,
		CleanupSettle:  5 * time.Second,
		Dist:           true,
		Make:           "make",
	}
}

// Verdict compares a Figure with its goal.
type Verdict string

// Verdicts.
const (
	Met      Verdict = "met"
	Missed   Verdict = "missed"
	Recorded Verdict = "recorded" // the figure has no goal
)

// Figure is one measured result.
type Figure struct {
	Name  string
	Value string
	Goal  string
	// Baseline is the value of the same measurement without the agent, in
	// the same run, or "".
	Baseline string
	// Ratio is the value divided by the baseline, or "".
	Ratio   string
	Verdict Verdict
}

// Report is the result of Run.
type Report struct {
	Machine Machine
	// LoadAverage is the 1, 5 and 15 minute load average of
	// /proc/loadavg when the run started; other work on the machine
	// slows the figures.
	LoadAverage string
	Started     time.Time
	Duration    time.Duration
	Figures     []Figure
	// StartLatencies are the back-to-back start latencies of the no-op
	// task agent, in task order. BareLatencies are those of the bare
	// fork/execs, from just before the fork to the same first statement.
	StartLatencies, BareLatencies []time.Duration
	// Stages split the back-to-back task cycle.
	Stages []Stage
}

// Run runs every benchmark in turn and returns the figures. A slow figure is
// reported with its verdict, not as an error. An error means that a
// benchmark could not run.
func Run(ctx context.Context, opts Options) (*Report, error) {
	report := &Report{Started: time.Now()}
	machine, err := ReadMachine()
	if err != nil {
		return nil, err
	}
	report.Machine = machine
	report.LoadAverage = readLoadAverage()

	env, err := newEnvironment(ctx, opts)
	if err != nil {
		return nil, err
	}

	steps := []struct {
		name string
		skip bool
		run  func(context.Context, *environment, *Report) error
	}{
		{fmt.Sprintf("back-to-back task start and per-task overhead: %d no-op tasks, %d bare fork/execs", opts.Tasks, opts.Tasks), false, benchStart},
		{fmt.Sprintf("task start with a %s task agent: %d tasks", formatBytes(opts.TaskAgentBytes), opts.LargeTasks), false, benchLargeStart},
		{fmt.Sprintf("cached task agent and first-use download: %d and %d runs", opts.CachedRuns, opts.DownloadRuns), false, benchTaskAgent},
		{fmt.Sprintf("idle agent: %s with an empty queue", opts.Idle), false, benchIdle},
		{fmt.Sprintf("working directory cleanup: %d files, %d rounds", opts.CleanupFiles, opts.CleanupRounds), false, benchCleanup},
		{"make dist: an empty Go build cache, then again", !opts.Dist, benchDist},
	}
	for _, step := range steps {
		if step.skip {
			continue
		}
		env.progress("bench: %s", step.name)
		if err := step.run(ctx, env, report); err != nil {
			return nil, err
		}
	}
	report.Duration = time.Since(report.Started)
	return report, nil
}

// environment is the state that the benchmarks share: the options, the
// copied agent binary and the no-op task agents.
type environment struct {
	opts  Options
	agent string
	// noop is the no-op task agent, and large is the same program padded
	// to Options.TaskAgentBytes. Both append to records.
	noop, large string
	records     string
	// runs numbers the folders of agent runs.
	runs int
}

func newEnvironment(ctx context.Context, opts Options) (*environment, error) {
	env := &environment{opts: opts, records: filepath.Join(opts.ScratchDir, "first-instructions")}
	env.agent = filepath.Join(opts.ScratchDir, "circleci-launch-agent")
	if err := copyFile(opts.Agent, env.agent, 0o755); err != nil {
		return nil, fmt.Errorf("copy the launch agent binary: %w", err)
	}

	env.noop = filepath.Join(opts.ScratchDir, "noop-task-agent")
	if err := buildNoop(ctx, opts.RepoDir, env.noop, env.records); err != nil {
		return nil, err
	}
	env.large = filepath.Join(opts.ScratchDir, "large-task-agent")
	if err := padCopy(env.noop, env.large, opts.TaskAgentBytes); err != nil {
		return nil, err
	}
	return env, nil
}

func (e *environment) progress(format string, args ...any) {
	if e.opts.Progress != nil {
		fmt.Fprintf(e.opts.Progress, format+"\n", args...)
	}
}

// runDir makes a new folder for one benchmark run.
func (e *environment) runDir(name string) (string, error) {
	e.runs++
	dir := filepath.Join(e.opts.ScratchDir, fmt.Sprintf("%02d-%s", e.runs, name))
	return dir, os.MkdirAll(dir, 0o755)
}
