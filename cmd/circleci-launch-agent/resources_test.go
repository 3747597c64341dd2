package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/circleci-runner/circleci-runner/pkg/runnerapi"
	"github.com/circleci-runner/circleci-runner/tools/localapi"
)

// msgCannotStart is the agent's log message for a task that could not
// start.
const msgCannotStart = "task could not start"

// checkStartFailure checks the agent's first log line about a task that
// could not start: its error names path and contains reason.
func (r *rig) checkStartFailure(entry logEntry, path, reason string) {
	r.t.Helper()
	if err := entry.str("error"); !strings.Contains(err, path) || !strings.Contains(err, reason) {
		r.t.Errorf("log of the task that could not start: error = %q, want it to name %s and say %q", err, path, reason)
	}
	if entry.str("launch_id") == "" || entry.str("allocation") == "" {
		r.t.Errorf("log of the task that could not start = %v, want its launch id and allocation", entry)
	}
}

// finishAfterFault waits for every job to end once the fault is cleared,
// stops the agent and checks that the first job returned to the queue
// and then ran, and that the other jobs ran. It also checks that the agent
// waited before it claimed again after the unclaim.
func (r *rig) finishAfterFault() {
	r.t.Helper()
	r.waitJobs(30 * time.Second)
	r.stopAgent()
	records := r.accountClaims()
	checkFates(r.t, records, map[string][]claimFate{"first": {fateUnclaimed, fateRan}, "fails": {fateRan}, "third": {fateRan}})

	unclaims := r.agentCalls(runnerapi.UnclaimPath)
	if len(unclaims) != 1 {
		r.t.Fatalf("unclaim calls = %d, want 1", len(unclaims))
	}
	for _, claim := range r.agentCalls(runnerapi.ClaimPath) {
		if gap := claim.Time.Sub(unclaims[0].Time); gap > 0 && gap < minClaimRetry {
			r.t.Errorf("claim %v after the unclaim of a task that could not start, want at least %v", gap, minClaimRetry)
		}
	}
}

func TestResourceFullWorkDirFilesystem(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	r := newRig(t, faultJobs, localapi.Options{})
	mountTmpfs(t, r.workBase, 0, "size=256k,nr_inodes=32,mode=755")
	fill := fillFilesystem(t, r.workBase)
	r.start("")

	entry := r.waitLogged(msgCannotStart, 1, 20*time.Second)
	for _, path := range fill {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
	r.finishAfterFault()

	r.checkStartFailure(entry, r.workBase, "no space left on device")
}

func TestResourceReadOnlyTaskAgentCache(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	r := newRig(t, faultJobs, localapi.Options{})
	mountTmpfs(t, r.taskAgentDir, unix.MS_RDONLY, "size=64m,mode=755")
	r.start("")

	entry := r.waitLogged(msgCannotStart, 1, 20*time.Second)
	remount(t, r.taskAgentDir, 0, "size=64m,mode=755")
	r.finishAfterFault()

	r.checkStartFailure(entry, r.taskAgentDir, "read-only file system")
	checkCacheClean(t, r.taskAgentDir)
}

func TestResourceReadOnlyCacheWithAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	config, started, release := blockedConfig(t)
	r := newRig(t, config, localapi.Options{})
	mountTmpfs(t, r.taskAgentDir, 0, "size=64m,mode=755")
	r.start("")

	// Once the first task runs, its task agent is in the cache, and the
	// cache becomes read-only before the next task.
	waitFor(t, "the first job's step", 20*time.Second, func() bool { _, err := os.Stat(started); return err == nil })
	remount(t, r.taskAgentDir, unix.MS_RDONLY, "size=64m,mode=755")
	mustWrite(t, release, "", 0o644)
	r.waitJobs(30 * time.Second)
	r.stopAgent()
	records := r.accountClaims()

	checkFates(t, records, map[string][]claimFate{"first": {fateRan}, "second": {fateRan}})
}

func TestResourceUnwritableWorkDirParent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	r := newRig(t, faultJobs, localapi.Options{})
	// Root ignores mode bits when it writes, so a read-only mount is what makes
	// the base unwritable for a root agent.
	mountTmpfs(t, r.workBase, unix.MS_RDONLY, "size=1m,mode=755")
	r.start("")

	entry := r.waitLogged(msgCannotStart, 1, 20*time.Second)
	remount(t, r.workBase, 0, "size=1m,mode=755")
	r.finishAfterFault()

	r.checkStartFailure(entry, r.workBase, "read-only file system")
}

func TestResourceTaskAgentNotExecutable(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	r := newRig(t, faultJobs, localapi.Options{})
	mountTmpfs(t, r.taskAgentDir, unix.MS_NOEXEC, "size=64m,mode=755")
	r.start("")

	entry := r.waitLogged(msgCannotStart, 1, 20*time.Second)
	remount(t, r.taskAgentDir, 0, "size=64m,mode=755")
	r.finishAfterFault()

	binary := filepath.Join(r.taskAgentDir, localapi.DefaultAgentVersion, "circleci-agent")
	r.checkStartFailure(entry, binary, "permission denied")
}

func TestResourcePrefixExitsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	for _, status := range []string{"0", "3"} {
		t.Run("exit "+status, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, faultJobs, localapi.Options{})
			prefix := filepath.Join(r.dir, "record-task")
			recorder, err := os.ReadFile(prefix)
			if err != nil {
				t.Fatal(err)
			}
			// The prefix exits without reading the task token or starting
			// the task agent.
			mustWrite(t, prefix, "#!/bin/sh\nexit "+status+"\n", 0o755)
			r.start("")

			entry := r.waitLogged(msgCannotStart, 1, 20*time.Second)
			mustWrite(t, prefix+".new", string(recorder), 0o755)
			if err := os.Rename(prefix+".new", prefix); err != nil {
				t.Fatal(err)
			}
			r.finishAfterFault()

			r.checkStartFailure(entry, prefix, "without reading the task token")
		})
	}
}
