package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/localapi"
)

const twoJobs = `version: 2.1
jobs:
  pass:
    machine: true
    resource_class: test/rig
    steps:
      - checkout
      - run: cat README
  fail:
    machine: true
    resource_class: test/rig
    steps:
      - run: exit 1
workflows:
  main:
    jobs:
      - pass
      - fail:
          requires: [pass]
`

func TestAgentRunsJobsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	r := newRig(t, twoJobs, localapi.Options{})
	r.start("")

	r.waitJobs(30 * time.Second)
	r.signal(syscall.SIGINT)
	if code := r.waitExit(10 * time.Second); code != 0 {
		t.Fatalf("exit status = %d after SIGINT, want 0", code)
	}
	// The task agent ends the job before the launch agent's fail event.
	jobs := r.api.Jobs()

	pass, fail := jobNamed(t, jobs, "pass"), jobNamed(t, jobs, "fail")
	if pass.State != localapi.StateSucceeded {
		t.Errorf("pass job state = %s (%s)", pass.State, pass.Message)
	}
	if fail.State != localapi.StateFailed {
		t.Errorf("fail job state = %s (%s)", fail.State, fail.Message)
	}
	if len(pass.FailEvents) != 0 {
		t.Errorf("pass job fail events = %+v", pass.FailEvents)
	}
	if len(fail.FailEvents) != 1 || !strings.Contains(fail.FailEvents[0].Message, "ended with exit status 1") {
		t.Errorf("fail job fail events = %+v, want one naming exit status 1", fail.FailEvents)
	}

	checkCallOrder(t, r.api.Calls())
	launches := r.recordedLaunches()
	if len(launches) != 2 {
		t.Fatalf("task agent launches = %d, want 2", len(launches))
	}
	for _, launch := range launches {
		checkLaunch(t, r, launch)
	}
	if entries, _ := os.ReadDir(r.workBase); len(entries) != 0 {
		t.Errorf("working directories left after cleanup: %v", entries)
	}
	checkNoSecrets(t, r, launches)
	notify := strings.Join(r.notify.messages(), "|")
	if !strings.HasPrefix(notify, "READY=1|STATUS=Healthy") || !strings.HasSuffix(notify, "STATUS=Draining|STOPPING=1") {
		t.Errorf("sd_notify messages = %s", notify)
	}
}

// checkCallOrder checks the launch agent's runner API calls: each claim
// is followed by the task configuration, the first one by the task agent
// download, and the fail event comes from the failed task.
func checkCallOrder(t *testing.T, calls []localapi.Call) {
	t.Helper()
	var got []string
	for _, c := range calls {
		if c.Status == 204 || !strings.Contains(c.UserAgent, "circleci-launch-agent/") {
			continue // empty claims, and calls of the task agent
		}
		got = append(got, c.Method+" "+c.Path)
	}
	want := []string{
		"POST /api/v3/runner/claim",
		"GET /api/v2/task/config",
		"GET /task-agent/local-1/checksums.txt",
		"GET /task-agent/local-1/linux/" + goarch() + "/circleci-agent",
		"POST /api/v3/runner/claim",
		"GET /api/v2/task/config",
		"POST /api/v2/task/event/fail",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("launch agent calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// checkLaunch checks one task agent's command line, standard input and
// environment, as the command_prefix recorded them.
func checkLaunch(t *testing.T, r *rig, dir string) {
	t.Helper()
	launchID := filepath.Base(dir)
	args := lines(readRecord(t, dir, "args"))
	want := []string{
		filepath.Join(r.dir, "task-agents", "local-1", "circleci-agent"),
		"_internal",
		"agent-runner",
		"--runnerAPIBaseURL=" + r.api.URL(),
		"--allocation=",
		"--maxRunTime=5h0m0s",
		"--workDir=" + filepath.Join(r.workBase, launchID),
	}
	if len(args) != len(want) {
		t.Fatalf("task agent arguments = %q, want %q", args, want)
	}
	for i := range want {
		if want[i] == "--allocation=" {
			if !strings.HasPrefix(args[i], want[i]) || len(args[i]) == len(want[i]) {
				t.Errorf("argument %d = %q, want an allocation", i, args[i])
			}
			continue
		}
		if args[i] != want[i] {
			t.Errorf("argument %d = %q, want %q", i, args[i], want[i])
		}
	}

	stdin := strings.TrimSuffix(readRecord(t, dir, "stdin"), "\n")
	if len(stdin) < 16 {
		t.Errorf("standard input = %q, want the task token", stdin)
	}

	env := map[string]string{}
	for _, kv := range lines(readRecord(t, dir, "env")) {
		name, value, _ := strings.Cut(kv, "=")
		env[name] = value
	}
	if env["CIRCLECI_LAUNCH_ID"] != launchID {
		t.Errorf("CIRCLECI_LAUNCH_ID = %q, want %q", env["CIRCLECI_LAUNCH_ID"], launchID)
	}
	for name := range env {
		if strings.HasPrefix(name, "LAUNCH_AGENT_") || strings.HasPrefix(name, "CIRCLECI_RUNNER_") || name == "NOTIFY_SOCKET" {
			t.Errorf("task environment contains %s", name)
		}
	}
}

// checkNoSecrets searches the agent's log, the task agents' arguments and
// environments for the resource-class token and the task tokens.
func checkNoSecrets(t *testing.T, r *rig, launches []string) {
	t.Helper()
	secrets := []string{r.token}
	for _, dir := range launches {
		secrets = append(secrets, strings.TrimSpace(readRecord(t, dir, "stdin")))
	}
	places := map[string]string{"agent log": r.stderr.String()}
	for _, dir := range launches {
		places[dir+"/args"] = readRecord(t, dir, "args")
		places[dir+"/env"] = readRecord(t, dir, "env")
	}
	for where, text := range places {
		for _, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("%s contains a token", where)
			}
		}
	}
}

const sleepJob = `version: 2.1
jobs:
  sleep:
    machine: true
    resource_class: test/rig
    steps:
      - run: echo $$ > "$MARKER"; sleep %s
workflows:
  main:
    jobs: [sleep]
`

func TestAgentDrainLetsTaskFinish(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	marker := filepath.Join(t.TempDir(), "pid")
	r := newRig(t, strings.Replace(strings.Replace(sleepJob, "%s", "2", 1), "$MARKER", marker, 1), localapi.Options{})
	r.start("")
	waitFor(t, "the job to start", 20*time.Second, func() bool { return pidWritten(marker) })

	r.signal(syscall.SIGINT)
	drainedAt := time.Now()
	if code := r.waitExit(20 * time.Second); code != 0 {
		t.Fatalf("exit status = %d, want 0", code)
	}

	job := jobNamed(t, r.api.Jobs(), "sleep")
	if job.State != localapi.StateSucceeded {
		t.Errorf("job state = %s (%s), want succeeded: a drain lets the task finish", job.State, job.Message)
	}
	for _, c := range r.api.Calls() {
		if c.Path == "/api/v3/runner/claim" && c.Time.After(drainedAt.Add(100*time.Millisecond)) {
			t.Errorf("claim at %v, after the drain began at %v", c.Time, drainedAt)
		}
	}
	if !r.notify.has("STATUS=Draining") {
		t.Errorf("sd_notify messages = %v, want STATUS=Draining", r.notify.messages())
	}
}

func TestAgentCancelStopsTask(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	marker := filepath.Join(t.TempDir(), "pid")
	r := newRig(t, strings.Replace(strings.Replace(sleepJob, "%s", "300", 1), "$MARKER", marker, 1), localapi.Options{})
	r.start("")
	waitFor(t, "the job to start", 20*time.Second, func() bool { return pidWritten(marker) })
	stepPID := readPID(t, marker)

	r.signal(syscall.SIGTERM)
	if code := r.waitExit(20 * time.Second); code != 0 {
		t.Fatalf("exit status = %d, want 0", code)
	}

	job := jobNamed(t, r.api.Jobs(), "sleep")
	if len(job.FailEvents) != 1 || job.FailEvents[0].Message != "The task was cancelled because runner rig is shutting down (SIGTERM)." {
		t.Errorf("fail events = %+v", job.FailEvents)
	}
	if err := syscall.Kill(stepPID, 0); err == nil {
		t.Errorf("the job's step (pid %d) survived the cancel", stepPID)
	}
	if entries, _ := os.ReadDir(r.workBase); len(entries) != 0 {
		t.Errorf("working directories left after cancel: %v", entries)
	}
}

func TestAgentUnclaimsOnChecksumMismatch(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	r := newRig(t, twoJobs, localapi.Options{MaxUnclaims: 1})
	if err := r.api.SetChecksumFault(localapi.ChecksumWrong); err != nil {
		t.Fatal(err)
	}
	r.start("")

	waitFor(t, "the first job to fail", 30*time.Second, func() bool {
		return jobNamed(t, r.api.Jobs(), "pass").State.Ended()
	})
	r.signal(syscall.SIGINT)
	r.waitExit(20 * time.Second)

	job := jobNamed(t, r.api.Jobs(), "pass")
	if job.Unclaims != 1 {
		t.Errorf("unclaims = %d, want 1 before unclaim answers 409", job.Unclaims)
	}
	if len(job.FailEvents) != 1 || !strings.Contains(job.FailEvents[0].Message, "SHA-256 mismatch") {
		t.Errorf("fail events = %+v, want one naming the checksum mismatch", job.FailEvents)
	}
	if launches := r.recordedLaunches(); len(launches) != 0 {
		t.Errorf("task agent ran %d times despite the wrong checksum", len(launches))
	}
	if _, err := os.Stat(filepath.Join(r.dir, "task-agents", "local-1", "circleci-agent")); !os.IsNotExist(err) {
		t.Errorf("unverified task agent is in the cache: %v", err)
	}
}

func TestAgentUnclaimsWhenWorkDirBaseMissing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	r := newRig(t, twoJobs, localapi.Options{MaxUnclaims: 1})
	if err := os.Remove(r.workBase); err != nil {
		t.Fatal(err)
	}
	r.start("")

	waitFor(t, "the first job to fail", 30*time.Second, func() bool {
		return jobNamed(t, r.api.Jobs(), "pass").State.Ended()
	})
	r.signal(syscall.SIGINT)
	r.waitExit(20 * time.Second)

	job := jobNamed(t, r.api.Jobs(), "pass")
	if job.Unclaims != 1 {
		t.Errorf("unclaims = %d, want 1", job.Unclaims)
	}
	if len(job.FailEvents) != 1 || !strings.Contains(job.FailEvents[0].Message, r.workBase) {
		t.Errorf("fail events = %+v, want one naming %s", job.FailEvents, r.workBase)
	}
}

func TestAgentUnhealthyUntilTokenFixed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	r := newRig(t, twoJobs, localapi.Options{})
	r.writeConfig("rejected-token-0000", "")
	r.start("")

	const unhealthy = "STATUS=Unhealthy: authentication rejected (HTTP 401); check api.auth_token or run dpkg-reconfigure circleci-runner"
	waitFor(t, "Unhealthy", 10*time.Second, func() bool { return r.notify.has(unhealthy) })

	r.writeConfig(r.token, "")
	r.signal(syscall.SIGHUP)
	r.waitJobs(30 * time.Second)
	r.signal(syscall.SIGINT)
	if code := r.waitExit(10 * time.Second); code != 0 {
		t.Fatalf("exit status = %d, want 0", code)
	}
	msgs := strings.Join(r.notify.messages(), "|")
	if !strings.Contains(msgs, unhealthy+"|STATUS=Healthy") {
		t.Errorf("sd_notify messages = %s, want Unhealthy then Healthy", msgs)
	}
	if strings.Contains(r.stderr.String(), "rejected-token-0000") {
		t.Error("the log contains the rejected token")
	}
}

func TestAgentExitsWhenExecutableReplaced(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	// A token of no resource class keeps the agent from claiming any job.
	r := newRig(t, twoJobs, localapi.Options{})
	r.writeConfig("token-of-no-class-1234", "")
	binary := filepath.Join(r.dir, "circleci-launch-agent")
	copyFile(t, agentBinary, binary)
	r.start(binary)
	waitFor(t, "READY=1", 10*time.Second, func() bool { return r.notify.has("READY=1") })

	// dpkg unpacks a new version next to the old one and renames it over.
	copyFile(t, agentBinary, binary+".dpkg-new")
	if err := os.Rename(binary+".dpkg-new", binary); err != nil {
		t.Fatal(err)
	}
	if code := r.waitExit(20 * time.Second); code != 0 {
		t.Fatalf("exit status = %d, want 0", code)
	}
	if !strings.Contains(r.stderr.String(), "the agent's executable was replaced") {
		t.Errorf("log does not say the executable was replaced")
	}
}

func TestAgentRejectsInvalidConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	mustWrite(t, path, "api:\n  auth_token: tok-123456\nrunner:\n  nmae: x\n", 0o600)

	cmd := exec.Command(agentBinary, "--config", path)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 78 {
		t.Errorf("exit status = %d, want 78; output:\n%s", code, out)
	}
	if !strings.Contains(string(out), path+":4:3: runner.nmae:") {
		t.Errorf("output does not name the file, line and key:\n%s", out)
	}
}

func TestAgentReportsTaskAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	marker := filepath.Join(t.TempDir(), "pid")
	config := strings.Replace(strings.Replace(sleepJob, "%s", "300", 1), "$MARKER", marker, 1)
	config = strings.Replace(config, "jobs: [sleep]", "jobs: [sleep, after]", 1)
	config = strings.Replace(config, "workflows:", "  after:\n    machine: true\n    resource_class: test/rig\n    steps:\n      - run: echo next\nworkflows:", 1)
	r := newRig(t, config, localapi.Options{})
	r.start("")
	waitFor(t, "the job to start", 20*time.Second, func() bool { return pidWritten(marker) })
	stepPID := readPID(t, marker)

	r.signal(syscall.SIGKILL)
	r.waitExit(10 * time.Second)
	// The task agent gets SIGTERM when its parent dies and stops its step.
	waitFor(t, "the step to end", 10*time.Second, func() bool { return syscall.Kill(stepPID, 0) != nil })

	r.start("")
	waitFor(t, "both jobs to end", 30*time.Second, func() bool {
		jobs := r.api.Jobs()
		return jobNamed(t, jobs, "sleep").State.Ended() && jobNamed(t, jobs, "after").State.Ended()
	})
	r.signal(syscall.SIGINT)
	if code := r.waitExit(10 * time.Second); code != 0 {
		t.Fatalf("exit status = %d, want 0", code)
	}

	jobs := r.api.Jobs()
	sleep := jobNamed(t, jobs, "sleep")
	wantPrefix := "The launch agent on runner rig restarted while the task ran (launch id "
	if len(sleep.FailEvents) != 1 || !strings.HasPrefix(sleep.FailEvents[0].Message, wantPrefix) {
		t.Errorf("fail events of the interrupted job = %+v, want one starting %q", sleep.FailEvents, wantPrefix)
	}
	if len(sleep.Claims) != 1 {
		t.Errorf("the interrupted job was claimed %d times, want 1", len(sleep.Claims))
	}
	if after := jobNamed(t, jobs, "after"); after.State != localapi.StateSucceeded {
		t.Errorf("next job state = %s (%s), want succeeded", after.State, after.Message)
	}
	if entries, _ := os.ReadDir(r.workBase); len(entries) != 0 {
		t.Errorf("working directories left after recovery: %v", entries)
	}
}

// pidWritten reports whether the step has written its process id to path.
// The shell creates the file before it writes to it, so an existing file
// may still be empty.
func pidWritten(path string) bool {
	data, err := os.ReadFile(path)
	return err == nil && strings.HasSuffix(string(data), "\n")
}

func TestSecondAgentLeavesRunningTaskAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	marker := filepath.Join(t.TempDir(), "pid")
	r := newRig(t, strings.Replace(strings.Replace(sleepJob, "%s", "2", 1), "$MARKER", marker, 1), localapi.Options{})
	r.start("")
	waitFor(t, "the job to start", 20*time.Second, func() bool { return pidWritten(marker) })

	// A second agent with its own configuration file and the same
	// working directory base starts while the first one runs the job.
	data, err := os.ReadFile(r.configPath)
	if err != nil {
		t.Fatal(err)
	}
	second := filepath.Join(r.dir, "second.yaml")
	mustWrite(t, second, strings.Replace(string(data), "name: rig", "name: rig-2", 1), 0o600)
	var log lockedBuffer
	cmd := exec.Command(agentBinary, "--config", second, "--state-dir", filepath.Join(r.dir, "state-2"))
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second agent to start", 10*time.Second, func() bool { return strings.Contains(log.String(), "launch agent starting") })
	_ = cmd.Process.Signal(syscall.SIGINT)
	_ = cmd.Wait()

	r.waitJobs(20 * time.Second)
	r.signal(syscall.SIGINT)
	r.waitExit(10 * time.Second)
	if job := jobNamed(t, r.api.Jobs(), "sleep"); job.State != localapi.StateSucceeded {
		t.Errorf("job state = %s (%s), want succeeded", job.State, job.Message)
	}
	if strings.Contains(log.String(), "removed stale working directory") {
		t.Errorf("the second agent swept the running task's working directory:\n%s", log.String())
	}
}

func TestAgentReopensLogFileOnSighup(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	r := newRig(t, twoJobs, localapi.Options{})
	logFile := filepath.Join(r.dir, "agent.log")
	r.writeConfig(r.token, "logging:\n  file: "+logFile+"\n")
	r.start("")
	waitFor(t, "the first log lines", 10*time.Second, func() bool {
		data, _ := os.ReadFile(logFile)
		return strings.Contains(string(data), "launch agent starting")
	})

	// logrotate renames the file, then sends SIGHUP so the agent reopens it.
	if err := os.Rename(logFile, logFile+".1"); err != nil {
		t.Fatal(err)
	}
	r.signal(syscall.SIGHUP)
	r.waitJobs(30 * time.Second)
	r.signal(syscall.SIGINT)
	if code := r.waitExit(10 * time.Second); code != 0 {
		t.Fatalf("exit status = %d, want 0", code)
	}

	current, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("no new log file after SIGHUP: %v", err)
	}
	if !strings.Contains(string(current), "configuration reloaded") || !strings.Contains(string(current), "launch agent stopped") {
		t.Errorf("new log file lacks the lines after the reload:\n%s", current)
	}
	rotated, _ := os.ReadFile(logFile + ".1")
	if strings.Contains(string(rotated), "launch agent stopped") {
		t.Error("the agent kept writing to the rotated file")
	}
}

func TestAgentRejectsUnwritableLogFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	missing := filepath.Join(dir, "no-such-folder", "agent.log")
	mustWrite(t, path, "api:\n  auth_token: tok-123456789\nrunner:\n  name: x\n  working_directory: "+dir+"/%s\nlogging:\n  file: "+missing+"\n", 0o600)

	for _, args := range [][]string{{"--check"}, {}} {
		cmd := exec.Command(agentBinary, append(args, "--config", path, "--state-dir", dir)...)
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != 78 {
			t.Errorf("%v: exit status = %d, want 78; output:\n%s", args, code, out)
		}
		if !strings.Contains(string(out), missing) {
			t.Errorf("%v: output does not name %s:\n%s", args, missing, out)
		}
	}
}
