package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/circleci-runner/circleci-runner/pkg/launch"
	"github.com/circleci-runner/circleci-runner/pkg/taskagent"
	"github.com/circleci-runner/circleci-runner/pkg/workdir"
	"github.com/circleci-runner/circleci-runner/tools/localapi"
)

// benchTaskAgent times the agent's own task agent code in this process:
// the first-use download and check of the large task agent from the local
// runner API, then Get and launch of the cached copy. The first Get of a
// Cache hashes the cached binary, as the first task after the agent starts
// does. Later Gets of the same Cache skip the hash while the file is
// unchanged.
func benchTaskAgent(ctx context.Context, env *environment, report *Report) error {
	dir, err := env.runDir("task-agent")
	if err != nil {
		return err
	}
	if err := os.Remove(env.records); err != nil && !os.IsNotExist(err) {
		return err
	}
	api, err := startAPI(dir, env.large, 0)
	if err != nil {
		return err
	}
	defer api.close()

	downloads, cacheDir, err := timeDownloads(ctx, api, dir, env.opts.DownloadRuns)
	if err != nil {
		return err
	}
	// A Cache remembers a hash only for a file last changed over a second
	// before.
	time.Sleep(1100 * time.Millisecond)
	newCache := func() *taskagent.Cache {
		return taskagent.New(taskagent.Options{Dir: cacheDir, BaseURL: api.url + "/task-agent"})
	}
	firstGets, err := timeCachedLaunches(ctx, env, api, dir, "first", newCache)
	if err != nil {
		return err
	}
	running := newCache()
	if _, err := running.Get(ctx, localapi.DefaultAgentVersion); err != nil {
		return err
	}
	laterGets, err := timeCachedLaunches(ctx, env, api, dir, "later", func() *taskagent.Cache { return running })
	if err != nil {
		return err
	}

	size := formatBytes(env.opts.TaskAgentBytes)
	download, first, later := median(downloads), median(firstGets), median(laterGets)
	report.Figures = append(report.Figures,
		Figure{
			Name:    fmt.Sprintf("cached %s task agent: hash and launch, first task of a process, p50 of %d", size, len(firstGets)),
			Value:   milliseconds(first),
			Goal:    "< 50 ms",
			Verdict: verdict(first < 50*time.Millisecond),
		},
		Figure{
			Name:    fmt.Sprintf("cached %s task agent: check and launch, later tasks, p50 of %d", size, len(laterGets)),
			Value:   milliseconds(later),
			Goal:    "< 50 ms",
			Verdict: verdict(later < 50*time.Millisecond),
		},
		Figure{
			Name: fmt.Sprintf("download and verify a %s task agent, first use, p50 of %d", size, len(downloads)),
			Value: fmt.Sprintf("%s (%.0f MB/s)", milliseconds(download),
				float64(env.opts.TaskAgentBytes)/1e6/download.Seconds()),
			Verdict: Recorded,
		},
	)
	return nil
}

// timeDownloads runs Get on an empty cache runs times, and returns the
// folder of the last cache, which contains the task agent.
func timeDownloads(ctx context.Context, api *apiServer, dir string, runs int) ([]time.Duration, string, error) {
	var times []time.Duration
	var cacheDir string
	for i := range runs {
		cacheDir = filepath.Join(dir, fmt.Sprintf("cache-%d", i))
		cache := taskagent.New(taskagent.Options{Dir: cacheDir, BaseURL: api.url + "/task-agent"})
		start := time.Now()
		if _, err := cache.Get(ctx, localapi.DefaultAgentVersion); err != nil {
			return nil, "", err
		}
		times = append(times, time.Since(start))
	}
	return times, cacheDir, nil
}

// timeCachedLaunches times Get on the cache that cache returns, then
// launch.Start, up to the task agent's first statement.
func timeCachedLaunches(ctx context.Context, env *environment, api *apiServer, dir, name string, cache func() *taskagent.Cache) ([]time.Duration, error) {
	template, err := workdir.Parse(filepath.Join(dir, "%s"))
	if err != nil {
		return nil, err
	}
	var starts []time.Time
	for i := range env.opts.CachedRuns {
		c := cache()
		start := time.Now()
		starts = append(starts, start)
		path, err := c.Get(ctx, localapi.DefaultAgentVersion)
		if err != nil {
			return nil, err
		}
		if err := launchOnce(path, api.url, template, fmt.Sprintf("%s-%d", name, i), start); err != nil {
			return nil, err
		}
	}

	records, err := readRecords(env.records)
	if err != nil {
		return nil, err
	}
	var times []time.Duration
	for i, start := range starts {
		started, ok := records[fmt.Sprintf("%s-%d", name, i)]
		if !ok {
			return nil, fmt.Errorf("cached launch %s-%d left no record", name, i)
		}
		times = append(times, started.Sub(start))
	}
	return times, nil
}

// launchOnce starts the task agent at path with pkg/launch, as the claim
// loop does, and waits for it to exit.
func launchOnce(path, apiURL string, template workdir.Template, allocation string, now time.Time) error {
	launchID := workdir.NewLaunchID(now)
	spec := launch.Spec{
		Command: launch.Command{
			TaskAgent:    path,
			RunnerAPIURL: apiURL,
			Allocation:   allocation,
			MaxRunTime:   5 * time.Hour,
			WorkDir:      template.Path(launchID),
		},
		LaunchID:  launchID,
		TaskToken: "bench-task-token",
		Environ:   os.Environ(),
		Stdout:    os.Stderr,
		Stderr:    os.Stderr,
	}
	task, err := launch.Start(spec)
	if err != nil {
		return err
	}
	<-task.Done()
	if result := task.Result(); !result.Success() {
		return fmt.Errorf("task agent %s ended with %s", path, result)
	}
	return nil
}
