package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/circleci-runner/circleci-runner/pkg/workdir"
)

const (
	// filesPerFolder is how many files each leaf folder of the cleanup
	// tree gets. Leaf folders sit three levels deep, ten to a level.
	filesPerFolder = 100
	// sharedMemory is where the tmpfs run of the cleanup benchmark goes.
	sharedMemory = "/dev/shm"
	// tmpfsMagic is the f_type that statfs(2) returns for tmpfs.
	tmpfsMagic = 0x01021994
)

// benchCleanup times the removal of a working directory of many small files
// by pkg/workdir, which the agent uses, and by rm -rf, on identical trees.
// It runs once on the file system of the scratch folder, and once on tmpfs,
// where only the system calls and the CPU time count.
func benchCleanup(ctx context.Context, env *environment, report *Report) error {
	dir, err := env.runDir("cleanup")
	if err != nil {
		return err
	}
	onDisk, err := timeRemovals(ctx, dir, env.opts.CleanupFiles, env.opts.CleanupRounds, env.opts.CleanupSettle, true)
	if err != nil {
		return err
	}
	report.Figures = append(report.Figures, onDisk.figure(fmt.Sprintf(
		"workdir cleanup, %d files, %s, with sync (pkg/workdir vs rm -rf)", env.opts.CleanupFiles, fileSystemName(dir))))

	if !isTmpfs(sharedMemory) {
		env.progress("bench: %s is not a tmpfs; skipping the tmpfs cleanup run", sharedMemory)
		return nil
	}
	tmpfsDir, err := os.MkdirTemp(sharedMemory, "circleci-runner-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmpfsDir)
	inMemory, err := timeRemovals(ctx, tmpfsDir, env.opts.CleanupFiles, env.opts.CleanupRounds+1, 0, false)
	if err != nil {
		return err
	}
	report.Figures = append(report.Figures, inMemory.figure(fmt.Sprintf(
		"workdir cleanup, %d files, tmpfs (pkg/workdir vs rm -rf)", env.opts.CleanupFiles)))
	return nil
}

// removals are the times of both ways of removing a tree.
type removals struct {
	agent, rm []time.Duration
}

func (r removals) figure(name string) Figure {
	agent, rm := median(r.agent), median(r.rm)
	value := ratio(agent, rm)
	return Figure{
		Name:     name,
		Value:    withRounds(agent, r.agent),
		Goal:     "ratio < 1.2",
		Baseline: withRounds(rm, r.rm),
		Ratio:    formatRatio(value),
		Verdict:  verdict(value < 1.2),
	}
}

// withRounds formats a median followed by the times of every round.
func withRounds(median time.Duration, rounds []time.Duration) string {
	formatted := make([]string, len(rounds))
	for i, d := range rounds {
		formatted[i] = duration(d)
	}
	return fmt.Sprintf("%s (%s)", duration(median), strings.Join(formatted, ", "))
}

// timeRemovals makes two identical trees per round and times the removal
// of one by pkg/workdir and of the other by rm -rf. The order of making and
// of removing alternates from round to round, because a removal leaves work
// for the disk that slows the one after it, and where a tree lies on the
// disk may depend on when it was made. Each removal waits settle first. With
// syncAfter, each time includes a sync, so the deferred writes of a removal
// count for that removal.
func timeRemovals(ctx context.Context, dir string, files, rounds int, settle time.Duration, syncAfter bool) (removals, error) {
	var times removals
	template, err := workdir.Parse(filepath.Join(dir, "%s"))
	if err != nil {
		return times, err
	}
	for round := range rounds {
		launchID := workdir.NewLaunchID(time.Now())
		rmTree := filepath.Join(dir, "rm-"+launchID)
		roots := []string{template.Owned(launchID), rmTree}
		if round%2 == 1 {
			roots[0], roots[1] = roots[1], roots[0]
		}
		for _, root := range roots {
			if err := makeTree(root, files); err != nil {
				return times, err
			}
		}
		if err := syncAll(); err != nil {
			return times, err
		}

		removeByAgent := func() error { return template.Remove(launchID) }
		removeByRm := func() error {
			if output, err := exec.CommandContext(ctx, "rm", "-rf", "--", rmTree).CombinedOutput(); err != nil {
				return fmt.Errorf("rm -rf %s: %w: %s", rmTree, err, output)
			}
			return nil
		}
		steps := []struct {
			remove func() error
			times  *[]time.Duration
		}{{removeByAgent, &times.agent}, {removeByRm, &times.rm}}
		if round%2 == 1 {
			steps[0], steps[1] = steps[1], steps[0]
		}
		for _, step := range steps {
			select {
			case <-ctx.Done():
				return times, ctx.Err()
			case <-time.After(settle):
			}
			elapsed, err := timeRemoval(step.remove, syncAfter)
			if err != nil {
				return times, err
			}
			*step.times = append(*step.times, elapsed)
		}
	}
	return times, nil
}

func timeRemoval(remove func() error, syncAfter bool) (time.Duration, error) {
	start := time.Now()
	if err := remove(); err != nil {
		return 0, err
	}
	if syncAfter {
		if err := syncAll(); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// makeTree writes files small files under root, in leaf folders three
// levels deep.
func makeTree(root string, files int) error {
	content := []byte("a small file of a working directory, as a checkout has many\n")
	for i := range files {
		leaf := i / filesPerFolder
		folder := filepath.Join(root, fmt.Sprint(leaf/100), fmt.Sprint(leaf/10%10), fmt.Sprint(leaf%10))
		if i%filesPerFolder == 0 {
			if err := os.MkdirAll(folder, 0o755); err != nil {
				return err
			}
		}
		if err := os.WriteFile(filepath.Join(folder, fmt.Sprintf("file-%d.txt", i)), content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func syncAll() error {
	if output, err := exec.Command("sync").CombinedOutput(); err != nil {
		return fmt.Errorf("sync: %w: %s", err, output)
	}
	return nil
}

func isTmpfs(path string) bool {
	var st syscall.Statfs_t
	return syscall.Statfs(path, &st) == nil && st.Type == tmpfsMagic
}

// fileSystemName names the file system type of path for the figure, from
// the mount that contains it in /proc/self/mounts.
func fileSystemName(path string) string {
	data, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return "disk"
	}
	best, kind := "", "disk"
	for _, line := range strings.Split(string(data), "\n") {
		var device, mountPoint, fsType string
		if _, err := fmt.Sscan(line, &device, &mountPoint, &fsType); err != nil {
			continue
		}
		under := mountPoint == "/" || path == mountPoint || strings.HasPrefix(path, mountPoint+"/")
		if under && len(mountPoint) >= len(best) {
			best, kind = mountPoint, fsType
		}
	}
	return kind
}
