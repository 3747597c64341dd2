package bench

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	// claimInterval is the default runner.claim_interval that the idle
	// agent runs with.
	claimInterval = 5 * time.Second
	// minClaimGap is claimInterval less its 20 % jitter: no wait between
	// empty claims may be shorter.
	minClaimGap = claimInterval * 8 / 10
	// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat,
	// which is 100 on every Linux architecture.
	clockTicks = 100
)

// benchIdle watches an agent with an empty queue: its claims, its resident
// memory and the CPU time it uses.
func benchIdle(ctx context.Context, env *environment, report *Report) error {
	dir, err := env.runDir("idle")
	if err != nil {
		return err
	}
	api, err := startAPI(dir, env.noop, 0)
	if err != nil {
		return err
	}
	defer api.close()
	agent, err := startAgent(env.agent, dir, api)
	if err != nil {
		return err
	}
	defer agent.stop(10 * time.Second)

	if err := agent.waitFor("the first claim", 30*time.Second, func() bool { return api.requests.claimCount() > 0 }); err != nil {
		return err
	}
	// The window starts a second after the first claim, so the agent's
	// startup is not counted as idle.
	time.Sleep(time.Second)
	usage, err := watchProcess(ctx, agent, env.opts.Idle)
	if err != nil {
		return err
	}

	report.Figures = append(report.Figures, idleFigures(claimsOf(api.requests.list()), usage, env.opts.Idle)...)
	return nil
}

// processUsage is the resource use that watchProcess measured.
type processUsage struct {
	cpu     time.Duration // CPU time used in the window
	peakRSS int64         // the largest VmRSS seen, in bytes
}

// watchProcess samples the agent's VmRSS every second for d, and returns
// its peak and the CPU time used in between.
func watchProcess(ctx context.Context, agent *agentProcess, d time.Duration) (processUsage, error) {
	var usage processUsage
	before, err := cpuTime(agent.pid())
	if err != nil {
		return usage, err
	}
	deadline := time.Now().Add(d)
	for {
		rss, err := residentBytes(agent.pid())
		if err != nil {
			return usage, err
		}
		usage.peakRSS = max(usage.peakRSS, rss)

		remaining := time.Until(deadline)
		if remaining <= 0 {
			break
		}
		select {
		case <-ctx.Done():
			return usage, ctx.Err()
		case <-time.After(min(time.Second, remaining)):
		}
	}
	after, err := cpuTime(agent.pid())
	if err != nil {
		return usage, err
	}
	usage.cpu = after - before
	return usage, nil
}

// cpuTime returns the CPU time that the threads of a process have used:
// the sum of the first field of /proc/PID/task/TID/schedstat, in
// nanoseconds. Without schedstat it falls back to utime plus stime of
// /proc/PID/stat, which count in ticks of 10 ms.
func cpuTime(pid int) (time.Duration, error) {
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/schedstat", pid)); errors.Is(err, fs.ErrNotExist) {
		return statCPUTime(pid)
	}
	threads, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for _, thread := range threads {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, thread.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			// A thread that exited after the listing has no file.
			continue
		}
		if err != nil {
			return 0, err
		}
		fields := strings.Fields(string(data))
		if len(fields) == 0 {
			continue
		}
		nanoseconds, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/task/%s/schedstat: %w", pid, thread.Name(), err)
		}
		total += time.Duration(nanoseconds)
	}
	return total, nil
}

// statCPUTime returns utime plus stime of /proc/PID/stat, which count
// every thread of the process.
func statCPUTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name in brackets may contain spaces, so the fields are
	// counted after it. They start with the state, field 3, which puts
	// utime (14) and stime (15) at indexes 11 and 12.
	end := strings.LastIndexByte(string(data), ')')
	fields := strings.Fields(string(data[end+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat has %d fields after the name", pid, len(fields))
	}
	var ticks int64
	for _, field := range fields[11:13] {
		n, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// residentBytes returns VmRSS of /proc/PID/status.
func residentBytes(pid int) (int64, error) {
	value, err := procField(fmt.Sprintf("/proc/%d/status", pid), "VmRSS")
	if err != nil {
		return 0, err
	}
	kb, err := strconv.ParseInt(strings.TrimSuffix(value, " kB"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/status: invalid VmRSS %q", pid, value)
	}
	return kb * 1024, nil
}

func idleFigures(claims []request, usage processUsage, window time.Duration) []Figure {
	rate := Figure{Name: fmt.Sprintf("idle claim rate (%s, claim_interval %s)", window, claimInterval),
		Goal: "12/min, no gap < 4 s", Value: "fewer than 2 claims", Verdict: Recorded}
	if len(claims) >= 2 {
		var gaps []time.Duration
		for i := 1; i < len(claims); i++ {
			gaps = append(gaps, claims[i].Arrived.Sub(claims[i-1].Arrived))
		}
		mean := sum(gaps) / time.Duration(len(gaps))
		perMinute := float64(time.Minute) / float64(mean)
		shortest := slices.Min(gaps)
		rate.Value = fmt.Sprintf("%.1f/min (%d claims, shortest gap %s)", perMinute, len(claims), seconds(shortest))
		// The mean of a dozen jittered waits stays within a few percent of
		// the interval, so 13/min allows for chance, not for a faster loop.
		rate.Verdict = verdict(shortest >= minClaimGap && perMinute <= 13)
	}

	cpuPercent := 100 * usage.cpu.Seconds() / window.Seconds()
	rssMB := float64(usage.peakRSS) / 1e6
	return []Figure{
		rate,
		{
			Name:    fmt.Sprintf("idle RSS, peak of VmRSS over %s", window),
			Value:   fmt.Sprintf("%.1f MB", rssMB),
			Goal:    "< 20 MB",
			Verdict: verdict(rssMB < 20),
		},
		{
			Name:    fmt.Sprintf("idle CPU over %s", window),
			Value:   fmt.Sprintf("%.4f %% (%.3f ms)", cpuPercent, toMilliseconds(usage.cpu)),
			Goal:    "< 0.1 %",
			Verdict: verdict(cpuPercent < 0.1),
		},
	}
}
