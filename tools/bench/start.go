package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/circleci-runner/circleci-runner/pkg/taskagent"
	"github.com/circleci-runner/circleci-runner/tools/localapi"
)

// Stage is one part of a task's cycle, as the median over the tasks of a
// run.
type Stage struct {
	Name  string
	Agent time.Duration
	// Bare is the same part of a bare fork/exec, or 0 when it has none.
	Bare time.Duration
}

// startRun is the result of back-to-back tasks through the agent.
type startRun struct {
	// latencies run from each claim response to the task agent's first
	// statement, in task order.
	latencies []time.Duration
	// cycle is the mean time from one claim request to the next.
	cycle time.Duration
	// toConfig runs from each claim response to the task configuration
	// request, toStart from that request to the first statement, and
	// toNextClaim from the first statement to the next claim request.
	toConfig, toStart, toNextClaim []time.Duration
	// cpu is the agent's CPU time per task.
	cpu time.Duration
}

// runBackToBack lets the agent run tasks+1 queued jobs back to back. The
// task agent is in the agent's cache from the start, as on a host that has
// run a task before. The first task is still left out, because it is the
// first Get of the agent process, which hashes the cached binary.
func runBackToBack(ctx context.Context, env *environment, name, taskAgent string, tasks int) (startRun, error) {
	dir, err := env.runDir(name)
	if err != nil {
		return startRun{}, err
	}
	if err := os.Remove(env.records); err != nil && !os.IsNotExist(err) {
		return startRun{}, err
	}
	api, err := startAPI(dir, taskAgent, tasks+1)
	if err != nil {
		return startRun{}, err
	}
	defer api.close()
	if err := fillTaskAgentCache(ctx, api, filepath.Join(dir, "task-agents")); err != nil {
		return startRun{}, err
	}

	agent, err := startAgent(env.agent, dir, api)
	if err != nil {
		return startRun{}, err
	}
	run, err := watchBackToBack(ctx, agent, api, tasks)
	if stopErr := agent.stop(30 * time.Second); stopErr != nil && err == nil {
		err = stopErr
	}
	if err != nil {
		return startRun{}, err
	}

	records, err := readRecords(env.records)
	if err != nil {
		return startRun{}, err
	}
	if err := run.measure(api.requests.list(), records, tasks); err != nil {
		return startRun{}, fmt.Errorf("%w (see %s/agent.log)", err, dir)
	}
	return run, nil
}

// fillTaskAgentCache downloads the task agent into the agent's cache
// folder, then waits until the files are old enough for the cache to
// remember their hash.
func fillTaskAgentCache(ctx context.Context, api *apiServer, dir string) error {
	cache := taskagent.New(taskagent.Options{Dir: dir, BaseURL: api.url + "/task-agent"})
	if _, err := cache.Get(ctx, localapi.DefaultAgentVersion); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(1100 * time.Millisecond):
		return nil
	}
}

// watchBackToBack waits until every job is claimed and one more claim
// finds the queue empty, which marks the end of the last task's cleanup. It
// returns the agent's CPU time per task, from the second claim on.
func watchBackToBack(ctx context.Context, agent *agentProcess, api *apiServer, tasks int) (startRun, error) {
	var run startRun
	claimed := func(n int) func() bool {
		return func() bool { return ctx.Err() != nil || api.requests.claimCount() >= n }
	}
	if err := agent.waitFor("the second claim", time.Minute, claimed(2)); err != nil {
		return run, err
	}
	before, err := cpuTime(agent.pid())
	if err != nil {
		return run, err
	}

	want := tasks + 2
	timeout := time.Minute + time.Duration(tasks)*200*time.Millisecond
	if err := agent.waitFor(fmt.Sprintf("%d claims", want), timeout, claimed(want)); err != nil {
		return run, err
	}
	after, err := cpuTime(agent.pid())
	if err != nil {
		return run, err
	}
	run.cpu = (after - before) / time.Duration(tasks)
	return run, ctx.Err()
}

// measure computes the latencies and stages of the tasks after the first
// from the timed requests and the first statements.
func (run *startRun) measure(requests []request, records map[string]time.Time, tasks int) error {
	claims := claimsOf(requests)
	if len(claims) < tasks+2 {
		return fmt.Errorf("the agent made %d claims, want %d", len(claims), tasks+2)
	}
	run.cycle = claims[tasks+1].Arrived.Sub(claims[1].Arrived) / time.Duration(tasks)

	configs := configRequestsAfterClaims(requests)
	for i := 1; i <= tasks; i++ {
		claim := claims[i]
		started, ok := records[claim.Allocation]
		if claim.Status != 200 || !ok {
			return fmt.Errorf("claim %d (status %d, allocation %q) started no task agent", i, claim.Status, claim.Allocation)
		}
		config, ok := configs[claim.Allocation]
		if !ok {
			return fmt.Errorf("claim %d (allocation %q) was not followed by a task configuration request", i, claim.Allocation)
		}
		run.latencies = append(run.latencies, started.Sub(claim.Responded))
		run.toConfig = append(run.toConfig, config.Arrived.Sub(claim.Responded))
		run.toStart = append(run.toStart, started.Sub(config.Arrived))
		run.toNextClaim = append(run.toNextClaim, claims[i+1].Arrived.Sub(started))
	}
	return nil
}

// configRequestsAfterClaims maps the allocation of each claim to the task
// configuration request that followed it. The agent runs one task at a
// time, so the next such request belongs to the claim.
func configRequestsAfterClaims(requests []request) map[string]request {
	configs := map[string]request{}
	allocation := ""
	for _, r := range requests {
		switch {
		case r.Path == claimPath:
			allocation = r.Allocation
		case allocation != "":
			configs[allocation] = r
			allocation = ""
		}
	}
	return configs
}

// bareRun is the baseline: the no-op task agent run by a plain fork/exec,
// with the same arguments and the token on standard input.
type bareRun struct {
	// latencies run from just before the fork to the first statement, and
	// toExit from the first statement until the exit was reaped.
	latencies, toExit []time.Duration
	// mean is the mean time of one run, from the fork to the reaped exit.
	mean time.Duration
}

func runBare(ctx context.Context, env *environment, taskAgent string, runs int) (bareRun, error) {
	dir, err := env.runDir("bare")
	if err != nil {
		return bareRun{}, err
	}
	if err := os.Remove(env.records); err != nil && !os.IsNotExist(err) {
		return bareRun{}, err
	}

	forked := make([]time.Time, runs)
	exited := make([]time.Time, runs)
	for i := range runs {
		cmd := exec.CommandContext(ctx, taskAgent, "_internal", "agent-runner",
			"--runnerAPIBaseURL=http://127.0.0.1:1",
			fmt.Sprintf("--allocation=bare-%d", i),
			"--maxRunTime=5h0m0s",
			"--workDir="+dir)
		cmd.Dir = "/"
		cmd.Env = []string{"PATH=/usr/bin:/bin", "CIRCLECI_LAUNCH_ID=bare"}
		cmd.Stdin = strings.NewReader("bench-task-token\n")

		forked[i] = time.Now()
		if err := cmd.Run(); err != nil {
			return bareRun{}, fmt.Errorf("run %s: %w", taskAgent, err)
		}
		exited[i] = time.Now()
	}

	records, err := readRecords(env.records)
	if err != nil {
		return bareRun{}, err
	}
	run := bareRun{mean: exited[runs-1].Sub(forked[0]) / time.Duration(runs)}
	for i := range runs {
		started, ok := records[fmt.Sprintf("bare-%d", i)]
		if !ok {
			return bareRun{}, fmt.Errorf("bare run %d of %s left no record", i, taskAgent)
		}
		run.latencies = append(run.latencies, started.Sub(forked[i]))
		run.toExit = append(run.toExit, exited[i].Sub(started))
	}
	return run, nil
}

// benchStart measures back-to-back task start and the per-task overhead
// against bare fork/execs of the same binary.
func benchStart(ctx context.Context, env *environment, report *Report) error {
	tasks := env.opts.Tasks
	agent, err := runBackToBack(ctx, env, "start", env.noop, tasks)
	if err != nil {
		return err
	}
	bare, err := runBare(ctx, env, env.noop, tasks)
	if err != nil {
		return err
	}
	report.StartLatencies, report.BareLatencies = agent.latencies, bare.latencies
	report.Stages = []Stage{
		{Name: "claim response to task configuration request", Agent: median(agent.toConfig)},
		{Name: "task configuration request (bare: fork) to first statement", Agent: median(agent.toStart), Bare: median(bare.latencies)},
		{Name: "first statement to next claim request (bare: exit reaped)", Agent: median(agent.toNextClaim), Bare: median(bare.toExit)},
		{Name: "launch agent CPU time per task (mean)", Agent: agent.cpu},
	}

	p50, p99 := percentile(agent.latencies, 50), percentile(agent.latencies, 99)
	bareP50, bareP99 := percentile(bare.latencies, 50), percentile(bare.latencies, 99)
	overhead := ratio(agent.cycle, bare.mean)
	report.Figures = append(report.Figures,
		Figure{
			Name:     fmt.Sprintf("back-to-back task start p50 (%d tasks)", tasks),
			Value:    milliseconds(p50),
			Goal:     "< 20 ms",
			Baseline: milliseconds(bareP50),
			Ratio:    formatRatio(ratio(p50, bareP50)),
			Verdict:  verdict(p50 < 20*time.Millisecond),
		},
		Figure{
			Name:     fmt.Sprintf("back-to-back task start p99 (%d tasks)", tasks),
			Value:    milliseconds(p99),
			Goal:     "< 100 ms",
			Baseline: milliseconds(bareP99),
			Ratio:    formatRatio(ratio(p99, bareP99)),
			Verdict:  verdict(p99 < 100*time.Millisecond),
		},
		Figure{
			Name:     fmt.Sprintf("per-task time (%d no-op tasks vs bare fork/exec)", tasks),
			Value:    milliseconds(agent.cycle),
			Goal:     "ratio < 1.3",
			Baseline: milliseconds(bare.mean),
			Ratio:    formatRatio(overhead),
			Verdict:  verdict(overhead < 1.3),
		},
	)
	return nil
}

// benchLargeStart repeats back-to-back task start with a task agent as
// large as a real one.
func benchLargeStart(ctx context.Context, env *environment, report *Report) error {
	tasks := env.opts.LargeTasks
	run, err := runBackToBack(ctx, env, "start-large", env.large, tasks)
	if err != nil {
		return err
	}
	size := formatBytes(env.opts.TaskAgentBytes)
	report.Figures = append(report.Figures,
		Figure{
			Name:    fmt.Sprintf("task start p50, %s task agent (%d tasks)", size, tasks),
			Value:   milliseconds(percentile(run.latencies, 50)),
			Verdict: Recorded,
		},
		Figure{
			Name:    fmt.Sprintf("task start p99, %s task agent (%d tasks)", size, tasks),
			Value:   milliseconds(percentile(run.latencies, 99)),
			Verdict: Recorded,
		},
	)
	return nil
}
