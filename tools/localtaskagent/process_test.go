package localtaskagent_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/circleci-runner/circleci-runner/pkg/runnerapi"
	"github.com/circleci-runner/circleci-runner/tools/localapi"
	"github.com/circleci-runner/circleci-runner/tools/taskproto"
)

const token = "resource-class-token-test"

// agentBinary is the local task agent, built once by TestMain.
var agentBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "local-task-agent-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	agentBinary = filepath.Join(dir, "circleci-agent")
	build := exec.Command("go", "build", "-o", agentBinary, "github.com/circleci-runner/circleci-runner/tools/cmd/local-task-agent")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build the local task agent:", err)
		os.Exit(1)
	}

	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startAPI serves a repository with the given config and files.
func startAPI(t *testing.T, config string, files map[string]string) (*localapi.Server, *httptest.Server) {
	t.Helper()
	repo := t.TempDir()
	files[".circleci/config.yml"] = config
	for name, text := range files {
		path := filepath.Join(repo, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	server, err := localapi.New(localapi.Options{
		RepoDir:    repo,
		Tokens:     map[string]string{token: "test/local"},
		TaskAgents: map[string]string{"amd64": agentBinary},
	})
	if err != nil {
		t.Fatalf("localapi.New: %v", err)
	}
	ts := httptest.NewServer(server.Handler())
	t.Cleanup(ts.Close)
	return server, ts
}

func claimTask(t *testing.T, ts *httptest.Server) runnerapi.Claim {
	t.Helper()
	body, _ := json.Marshal(runnerapi.ClaimRequest{Name: "test", Hostname: "host", IP: "", Version: "1"})
	request, _ := http.NewRequest("POST", ts.URL+"/api/v3/runner/claim", bytes.NewReader(body))
	request.Header.Set("Content-Type", "application/json; charset=utf-8")
	request.Header.Set("Authorization", "Bearer "+token)
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatal(err)
	}
	defer response.Body.Close()
	if response.StatusCode != 200 {
		t.Fatalf("claim: status %d", response.StatusCode)
	}
	var claim runnerapi.Claim
	json.NewDecoder(response.Body).Decode(&claim)
	return claim
}

// agentRun is a started local task agent process.
type agentRun struct {
	cmd     *exec.Cmd
	stdout  bytes.Buffer
	stderr  bytes.Buffer
	workDir string
}

func startAgent(t *testing.T, ts *httptest.Server, claim runnerapi.Claim, maxRunTime string) *agentRun {
	t.Helper()
	run := &agentRun{workDir: filepath.Join(t.TempDir(), "work")}
	run.cmd = exec.Command(agentBinary, "_internal", "agent-runner",
		"--runnerAPIBaseURL="+ts.URL, "--allocation="+claim.Allocation,
		"--maxRunTime="+maxRunTime, "--workDir="+run.workDir)
	run.cmd.Stdin = strings.NewReader(claim.TaskToken + "\n")
	run.cmd.Stdout, run.cmd.Stderr = &run.stdout, &run.stderr
	run.cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "CIRCLECI_LAUNCH_ID=test-launch"}
	if err := run.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return run
}

func (r *agentRun) wait(t *testing.T) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		r.cmd.Process.Kill()
		t.Fatalf("the task agent did not exit within 60s\nstdout:\n%s\nstderr:\n%s", &r.stdout, &r.stderr)
	}
	return r.cmd.ProcessState.ExitCode()
}

func runTask(t *testing.T, config string, files map[string]string) (localapi.Job, *agentRun, int) {
	t.Helper()
	server, ts := startAPI(t, config, files)
	claim := claimTask(t, ts)
	run := startAgent(t, ts, claim, "1m")
	code := run.wait(t)
	return server.Jobs()[0], run, code
}

func stepNamed(t *testing.T, job localapi.Job, name string) localapi.StepRecord {
	t.Helper()
	for _, step := range job.Steps {
		if step.Name == name {
			return step
		}
	}
	t.Fatalf("job %s has no step %q", job.Name, name)
	return localapi.StepRecord{}
}

func TestAgentRunsPassingJob(t *testing.T) {
	config := `version: 2.1
jobs:
  build:
    machine: true
    working_directory: project
    environment:
      LEVEL: job
      JOB_ONLY: "1"
    steps:
      - checkout
      - run:
          name: Read file
          command: cat data/greeting.txt
      - run:
          name: Environment
          command: echo "$CIRCLE_JOB $CIRCLE_BUILD_NUM $CIRCLECI $CI $LEVEL $JOB_ONLY $CIRCLE_WORKING_DIRECTORY"
          environment:
            LEVEL: step
      - run:
          name: Directory
          working_directory: sub/dir
          command: pwd
      - run:
          name: Shell
          shell: /bin/sh -e
          command: echo "shell $0"
workflows:
  main:
    jobs: [build]
`
	job, run, code := runTask(t, config, map[string]string{"data/greeting.txt": "hello from the repository\n"})

	if code != 0 {
		t.Fatalf("exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", code, &run.stdout, &run.stderr)
	}
	if job.State != localapi.StateSucceeded {
		t.Errorf("job state = %s, want succeeded", job.State)
	}
	jobDir := filepath.Join(run.workDir, "project")
	if got := stepNamed(t, job, "Read file").Output; got != "hello from the repository\n" {
		t.Errorf("Read file output = %q", got)
	}
	wantEnv := fmt.Sprintf("build %d true true step 1 %s\n", job.BuildNum, jobDir)
	if got := stepNamed(t, job, "Environment").Output; got != wantEnv {
		t.Errorf("Environment output = %q, want %q", got, wantEnv)
	}
	if got := stepNamed(t, job, "Directory").Output; got != filepath.Join(jobDir, "sub/dir")+"\n" {
		t.Errorf("Directory output = %q", got)
	}
	if got := stepNamed(t, job, "Shell").Output; got != "shell /bin/sh\n" {
		t.Errorf("Shell output = %q", got)
	}
	for _, step := range job.Steps {
		if step.Status != taskproto.StatusSuccess {
			t.Errorf("step %q status = %s", step.Name, step.Status)
		}
	}
	if !strings.Contains(run.stdout.String(), "==> Step 2/5: Read file\nhello from the repository\n") {
		t.Errorf("stdout has no step header before the output:\n%s", &run.stdout)
	}
}

// A step that prints far more than the runner API keeps must not make the
// task agent buffer all of it: only the first taskproto.MaxStepOutput bytes
// are sent, while the task agent's own output echoes every byte.
func TestAgentTruncatesLargeOutput(t *testing.T) {
	const printed = 64 << 20
	config := fmt.Sprintf(`version: 2.1
jobs:
  build:
    machine: true
    steps:
      - run:
          name: Print
          command: (yes 0123456789abcdef || true) | head -c %d
workflows:
  main:
    jobs: [build]
`, printed)
	server, ts := startAPI(t, config, map[string]string{})
	run := startAgent(t, ts, claimTask(t, ts), "1m")
	peak := watchPeakMemory(run.cmd.Process.Pid)
	code := run.wait(t)
	job := server.Jobs()[0]

	if code != 0 {
		t.Fatalf("exit code = %d, want 0\nstderr:\n%s", code, &run.stderr)
	}
	output := stepNamed(t, job, "Print").Output
	if len(output) != taskproto.MaxStepOutput {
		t.Errorf("the runner API got %d bytes of output, want %d", len(output), taskproto.MaxStepOutput)
	}
	if !strings.HasSuffix(output, "\n[output truncated by the local task agent]\n") {
		t.Errorf("the output sent ends with %q, want the truncation marker", output[max(0, len(output)-80):])
	}
	if echoed := strings.Count(run.stdout.String(), "0123456789abcdef\n"); echoed != printed/17 {
		t.Errorf("stdout echoed %d whole lines, want %d", echoed, printed/17)
	}
	// Without the limit the buffer alone would hold the 64 MiB.
	high := <-peak
	if high == 0 {
		t.Error("the task agent's memory could not be read from /proc")
	}
	if high > 48<<20 {
		t.Errorf("the task agent's peak resident memory was %d MiB, want under 48 MiB", high>>20)
	}
}

// watchPeakMemory reads the VmHWM of process pid until it exits and then
// sends the highest value, in bytes. The rusage of a child is no use here:
// its maxrss starts at the test process's size at fork, which grows as
// earlier tests run.
func watchPeakMemory(pid int) <-chan int64 {
	peak := make(chan int64, 1)
	go func() {
		var high int64
		for {
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			if err != nil || strings.Contains(string(data), "State:\tZ") {
				break
			}
			for _, line := range strings.Split(string(data), "\n") {
				var kib int64
				if _, err := fmt.Sscanf(line, "VmHWM: %d kB", &kib); err == nil {
					high = max(high, kib*1024)
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
		peak <- high
	}()
	return peak
}

func TestAgentRunsFailingJob(t *testing.T) {
	config := `version: 2.1
jobs:
  build:
    machine: true
    steps:
      - run: echo first
      - run:
          name: Fail
          command: echo failing; exit 3
      - run:
          name: After success
          command: echo should not run
      - run:
          name: On failure
          command: echo cleanup
          when: on_fail
      - run:
          name: Always
          command: echo always
          when: always
workflows:
  main:
    jobs: [build]
`
	job, run, code := runTask(t, config, map[string]string{})

	if code != 1 {
		t.Fatalf("exit code = %d, want 1\nstderr:\n%s", code, &run.stderr)
	}
	if job.State != localapi.StateFailed {
		t.Errorf("job state = %s, want failed", job.State)
	}
	if job.Message != `step "Fail" failed: exit status 3` {
		t.Errorf("job message = %q", job.Message)
	}
	fail := stepNamed(t, job, "Fail")
	if fail.Status != taskproto.StatusFailed || fail.ExitCode == nil || *fail.ExitCode != 3 {
		t.Errorf("Fail step = %s, exit %v; want failed, 3", fail.Status, fail.ExitCode)
	}
	if got := stepNamed(t, job, "After success").Status; got != taskproto.StatusSkipped {
		t.Errorf("on_success step after a failure = %s, want skipped", got)
	}
	if got := stepNamed(t, job, "On failure"); got.Status != taskproto.StatusSuccess || got.Output != "cleanup\n" {
		t.Errorf("on_fail step = %s, %q", got.Status, got.Output)
	}
	if got := stepNamed(t, job, "Always").Status; got != taskproto.StatusSuccess {
		t.Errorf("always step = %s", got)
	}
}

func TestAgentBackgroundStep(t *testing.T) {
	config := `version: 2.1
jobs:
  build:
    machine: true
    steps:
      - run:
          name: Server
          background: true
          command: echo server started; sleep 60
      - run:
          name: Client
          command: sleep 0.5; echo client done
workflows:
  main:
    jobs: [build]
`
	start := time.Now()
	job, run, code := runTask(t, config, map[string]string{})

	if code != 0 {
		t.Fatalf("exit code = %d\nstderr:\n%s", code, &run.stderr)
	}
	if elapsed := time.Since(start); elapsed > 20*time.Second {
		t.Errorf("the task took %s; the background step must not be waited for", elapsed)
	}
	server := stepNamed(t, job, "Server")
	if server.Status != taskproto.StatusCancelled || server.Output != "server started\n" {
		t.Errorf("background step = %s, %q; want cancelled with its output", server.Status, server.Output)
	}
	if job.State != localapi.StateSucceeded {
		t.Errorf("job state = %s", job.State)
	}
}

func TestAgentMaxRunTime(t *testing.T) {
	config := "version: 2.1\njobs:\n  build:\n    machine: true\n    steps:\n      - run:\n          name: Slow\n          command: sleep 60\n"
	server, ts := startAPI(t, config, map[string]string{})
	run := startAgent(t, ts, claimTask(t, ts), "1s")

	start := time.Now()
	code := run.wait(t)
	if code != 1 {
		t.Errorf("exit code = %d, want 1\nstderr:\n%s", code, &run.stderr)
	}
	if elapsed := time.Since(start); elapsed > 15*time.Second {
		t.Errorf("the task took %s with --maxRunTime=1s", elapsed)
	}
	job := server.Jobs()[0]
	if job.State != localapi.StateFailed || job.Message != "the task ran longer than --maxRunTime=1s" {
		t.Errorf("job = %s, %q", job.State, job.Message)
	}
	if got := stepNamed(t, job, "Slow").Status; got != taskproto.StatusTimedOut {
		t.Errorf("step status = %s, want timedout", got)
	}
}

func TestAgentNoOutputTimeout(t *testing.T) {
	config := "version: 2.1\njobs:\n  build:\n    machine: true\n    steps:\n      - run:\n          name: Silent\n          command: echo begin; sleep 60\n          no_output_timeout: 1s\n"
	job, run, code := runTask(t, config, map[string]string{})

	if code != 1 {
		t.Errorf("exit code = %d, want 1\nstderr:\n%s", code, &run.stderr)
	}
	step := stepNamed(t, job, "Silent")
	if step.Status != taskproto.StatusTimedOut || step.Message != "no output for 1s" {
		t.Errorf("step = %s, %q", step.Status, step.Message)
	}
}

func TestAgentSIGTERMCancels(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	config := "version: 2.1\njobs:\n  build:\n    machine: true\n    steps:\n      - run:\n          name: Long\n          command: sleep 60 & echo $! > " + pidFile + "; wait\n"
	server, ts := startAPI(t, config, map[string]string{})
	run := startAgent(t, ts, claimTask(t, ts), "1m")
	childPID := waitForPID(t, pidFile)

	run.cmd.Process.Signal(syscall.SIGTERM)
	code := run.wait(t)

	if code != 3 {
		t.Errorf("exit code = %d, want 3\nstderr:\n%s", code, &run.stderr)
	}
	job := server.Jobs()[0]
	if job.State != localapi.StateCancelled {
		t.Errorf("job state = %s, want cancelled", job.State)
	}
	if got := stepNamed(t, job, "Long").Status; got != taskproto.StatusCancelled {
		t.Errorf("step status = %s, want cancelled", got)
	}
	if processAlive(childPID) {
		t.Errorf("the step's child %d survived the cancel", childPID)
	}
}

func TestAgentCancelledByAPI(t *testing.T) {
	config := "version: 2.1\njobs:\n  build:\n    machine: true\n    steps:\n      - run:\n          name: Ticking\n          command: while true; do echo tick; sleep 0.2; done\n"
	server, ts := startAPI(t, config, map[string]string{})
	run := startAgent(t, ts, claimTask(t, ts), "1m")
	time.Sleep(500 * time.Millisecond)

	if _, err := server.Cancel(server.Jobs()[0].ID); err != nil {
		t.Fatal(err)
	}
	if code := run.wait(t); code != 3 {
		t.Errorf("exit code = %d, want 3\nstderr:\n%s", code, &run.stderr)
	}
}

func TestAgentTokenNotInEnvironment(t *testing.T) {
	config := "version: 2.1\njobs:\n  build:\n    machine: true\n    steps:\n      - run:\n          name: Env\n          command: env; cat /proc/$PPID/cmdline | tr '\\0' ' '\n"
	server, ts := startAPI(t, config, map[string]string{})
	claim := claimTask(t, ts)
	run := startAgent(t, ts, claim, "1m")
	if code := run.wait(t); code != 0 {
		t.Fatalf("exit code = %d\nstderr:\n%s", code, &run.stderr)
	}

	output := stepNamed(t, server.Jobs()[0], "Env").Output
	if strings.Contains(output, claim.TaskToken) {
		t.Error("the task token is in a step's environment or its parent's arguments")
	}
	if !strings.Contains(output, "CIRCLECI_LAUNCH_ID=test-launch") {
		t.Errorf("the step did not inherit the task agent's environment:\n%s", output)
	}
}

func TestAgentUsageErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"no arguments":  {},
		"wrong command": {"agent-runner"},
	} {
		cmd := exec.Command(agentBinary, args...)
		output, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != 2 {
			t.Errorf("%s: exit code = %d, want 2", name, code)
		}
		if !strings.Contains(string(output), "usage: circleci-agent _internal agent-runner") {
			t.Errorf("%s: output has no usage line:\n%s", name, output)
		}
	}
}

func TestAgentEmptyToken(t *testing.T) {
	cmd := exec.Command(agentBinary, "_internal", "agent-runner", "--runnerAPIBaseURL=http://127.0.0.1:9",
		"--allocation=a", "--maxRunTime=1m", "--workDir="+t.TempDir())
	cmd.Stdin = strings.NewReader("\n")
	output, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 2 {
		t.Errorf("exit code = %d, want 2", code)
	}
	if !strings.Contains(string(output), "the task token on standard input is empty") {
		t.Errorf("output = %s", output)
	}
}

func TestAgentUnreachableAPI(t *testing.T) {
	// A listener that is closed at once gives a port where nothing listens.
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close()

	cmd := exec.Command(agentBinary, "_internal", "agent-runner", "--runnerAPIBaseURL="+url,
		"--allocation=a", "--maxRunTime=1m", "--workDir="+t.TempDir())
	cmd.Stdin = strings.NewReader("token\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != 4 {
		t.Errorf("exit code = %d, want 4\nstderr:\n%s", code, &stderr)
	}
}

func waitForPID(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		data, err := os.ReadFile(path)
		var pid int
		if err == nil {
			if _, err := fmt.Sscan(string(data), &pid); err == nil && pid > 0 {
				return pid
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no pid in %s", path)
	return 0
}

// processAlive reports whether pid is a process that has not exited. A
// zombie has exited; it stays until its new parent reaps it.
func processAlive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}
