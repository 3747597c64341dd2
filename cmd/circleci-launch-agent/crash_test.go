package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/circleci-runner/circleci-runner/pkg/runnerapi"
	"github.com/circleci-runner/circleci-runner/tools/localapi"
)

// crashJobs are a job whose step can wait for a file, and an independent
// one. The step of the first job waits for $RELEASE only when $HOLD exists
// as it starts.
const crashJobs = `version: 2.1
jobs:
  first:
    machine: true
    resource_class: test/rig
    steps:
      - run: touch "$STARTED"; if [ -e "$HOLD" ]; then while [ ! -e "$RELEASE" ]; do sleep 0.05; done; fi
  second:
    machine: true
    resource_class: test/rig
    steps:
      - run: echo second
workflows:
  main:
    jobs: [first, second]
`

// crashRig is a rig whose first job can be held inside its step.
type crashRig struct {
	*rig
	started, hold, release string
}

func newCrashRig(t *testing.T) *crashRig {
	t.Helper()
	dir := t.TempDir()
	c := &crashRig{
		started: filepath.Join(dir, "started"),
		hold:    filepath.Join(dir, "hold"),
		release: filepath.Join(dir, "release"),
	}
	config := strings.NewReplacer("$STARTED", c.started, "$HOLD", c.hold, "$RELEASE", c.release).Replace(crashJobs)
	c.rig = newRig(t, config, localapi.Options{})
	return c
}

// kill sends SIGKILL to the agent and waits for it to die.
func (r *rig) kill() {
	r.t.Helper()
	r.signal(syscall.SIGKILL)
	r.waitExit(10 * time.Second)
}

// finishAfterRestart starts the agent again, lets every job end, stops the
// agent, and checks that the restarted agent left nothing behind. It
// returns the accounting of the claims.
func (c *crashRig) finishAfterRestart() []claimRecord {
	c.t.Helper()
	c.start("")
	c.waitJobs(30 * time.Second)
	c.stopAgent()
	records := c.accountClaims()

	if entries, _ := os.ReadDir(c.workBase); len(entries) != 0 {
		c.t.Errorf("working directories left after the restart: %v", entries)
	}
	if entries, _ := os.ReadDir(filepath.Join(c.dir, "state")); len(entries) != 0 {
		c.t.Errorf("state files left after the restart: %v", entries)
	}
	checkCacheClean(c.t, c.taskAgentDir)
	return records
}

// childOfAgent is a match for openGate that accepts a child of an agent
// process, whichever run of the agent it is.
func childOfAgent(pid int) bool {
	parent, err := parentPID(pid)
	if err != nil {
		return false
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", parent))
	return err == nil && exe == agentBinary
}

func TestCrashAfterClaim(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	c := newCrashRig(t)
	// The request for the task configuration hangs, so the agent holds a
	// claim without the task id when it dies.
	c.addFault(localapi.FaultRule{Method: "GET", Path: runnerapi.TaskConfigPath, Delay: localapi.Duration(time.Minute), Count: 1})
	c.start("")
	c.waitLogged(msgClaimed, 1, 20*time.Second)
	c.kill()

	records := c.finishAfterRestart()

	checkFates(t, records, map[string][]claimFate{"first": {fateUnclaimed, fateRan}, "second": {fateRan}})
	if first := jobNamed(t, c.api.Jobs(), "first"); first.State != localapi.StateSucceeded {
		t.Errorf("first job state = %s (%s), want succeeded after it returned to the queue", first.State, first.Message)
	}
}

func TestCrashDuringDownload(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	c := newCrashRig(t)
	gate := newDownloadGate(t, c.api.URL())
	c.taskAgentBaseURL = gate.url + "/task-agent"
	c.writeConfig(c.token, "")
	held := gate.holdHalfway()
	c.start("")

	held.wait(t, 20*time.Second)
	var partial string
	waitFor(t, "half of the task agent in the cache", 10*time.Second, func() bool {
		matches, _ := filepath.Glob(filepath.Join(c.taskAgentDir, localapi.DefaultAgentVersion, ".tmp-*"))
		if len(matches) != 1 {
			return false
		}
		info, err := os.Stat(matches[0])
		partial = matches[0]
		return err == nil && info.Size() == int64(held.sent)
	})
	c.kill()
	if _, err := os.Stat(partial); err != nil {
		t.Fatalf("the partial download is not in the cache after the kill: %v", err)
	}

	records := c.finishAfterRestart()

	checkFates(t, records, map[string][]claimFate{"first": {fateUnclaimed, fateRan}, "second": {fateRan}})
	if _, err := os.Stat(partial); !os.IsNotExist(err) {
		t.Errorf("the partial download %s is still in the cache: %v", partial, err)
	}
}

func TestCrashAfterWorkDirMade(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	c := newCrashRig(t)
	// The kernel holds the exec of the command_prefix, which the agent
	// starts right after it made the working directory.
	gate := newOpenGate(t, unix.FAN_OPEN_EXEC_PERM, childOfAgent, filepath.Join(c.dir, "record-task"))
	c.start("")
	held := gate.wait(t, "the exec of the command_prefix", 20*time.Second)
	entries, err := os.ReadDir(c.workBase)
	if err != nil || len(entries) != 1 {
		t.Fatalf("working directories while the exec is held = %v, %v; want one", entries, err)
	}
	c.kill()
	// The child dies with the agent, because the agent starts it with
	// SIGTERM as its parent-death signal.
	waitFor(t, "the held child to die", 10*time.Second, func() bool { return !processAlive(held.pid) })
	gate.allow(held)

	records := c.finishAfterRestart()

	checkFates(t, records, map[string][]claimFate{"first": {fateUnclaimed, fateRan}, "second": {fateRan}})
}

func TestCrashDuringTask(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	c := newCrashRig(t)
	mustWrite(t, c.hold, "", 0o644)
	c.start("")
	waitFor(t, "the first job's step", 20*time.Second, func() bool { _, err := os.Stat(c.started); return err == nil })
	taskAgent := int(c.logged(msgStarted)[0]["pid"].(float64))
	c.kill()
	waitFor(t, "the task agent to end", 10*time.Second, func() bool { return !processAlive(taskAgent) })

	records := c.finishAfterRestart()

	checkFates(t, records, map[string][]claimFate{"first": {fateRan}, "second": {fateRan}})
	first := jobNamed(t, c.api.Jobs(), "first")
	wantPrefix := "The launch agent on runner rig restarted while the task ran"
	if len(first.FailEvents) != 1 || !strings.HasPrefix(first.FailEvents[0].Message, wantPrefix) {
		t.Errorf("fail events of the interrupted job = %+v, want one starting %q", first.FailEvents, wantPrefix)
	}
}

func TestCrashDuringCleanup(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	c := newCrashRig(t)
	mustWrite(t, c.hold, "", 0o644)
	c.start("")
	waitFor(t, "the first job's step", 20*time.Second, func() bool { _, err := os.Stat(c.started); return err == nil })
	workDir := c.logged(msgStarted)[0].str("work_dir")
	// Cleanup opens the working directory to remove what it contains. No
	// other open by the agent itself touches it, so the first one is held.
	agent := c.cmd.Process.Pid
	gate := newOpenGate(t, unix.FAN_OPEN_PERM|unix.FAN_ONDIR, func(pid int) bool { return pid == agent }, workDir)
	mustWrite(t, c.release, "", 0o644)
	gate.wait(t, "cleanup to open the working directory", 20*time.Second)
	c.kill()
	if _, err := os.Stat(workDir); err != nil {
		t.Fatalf("the working directory is gone before the restart: %v", err)
	}

	records := c.finishAfterRestart()

	checkFates(t, records, map[string][]claimFate{"first": {fateRan}, "second": {fateRan}})
	first := jobNamed(t, c.api.Jobs(), "first")
	if first.State != localapi.StateSucceeded {
		t.Errorf("first job state = %s (%s), want succeeded", first.State, first.Message)
	}
	if len(first.FailEvents) != 0 {
		t.Errorf("fail events of the finished job = %+v, want none: it succeeded before the crash", first.FailEvents)
	}
}

// processAlive reports whether pid is a process that has not exited. A
// zombie has exited.
func processAlive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	end := strings.LastIndexByte(string(data), ')')
	return end >= 0 && !strings.HasPrefix(string(data[end+1:]), " Z")
}
