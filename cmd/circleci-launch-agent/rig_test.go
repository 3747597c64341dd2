package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/localapi"
)

// Binaries built once for the integration tests.
var (
	agentBinary     string
	taskAgentBinary string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "launch-agent-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	agentBinary = filepath.Join(dir, "circleci-launch-agent")
	taskAgentBinary = filepath.Join(dir, "local-task-agent")
	code := buildAndRun(m, map[string]string{
		agentBinary:     ".",
		taskAgentBinary: "../../tools/cmd/local-task-agent",
	})
	os.RemoveAll(dir)
	os.Exit(code)
}

func buildAndRun(m *testing.M, builds map[string]string) int {
	for out, pkg := range builds {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		if output, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, output)
			return 1
		}
	}
	return m.Run()
}

// rig is one launch agent process against an in-process local runner API,
// with a command_prefix that records what the task agent receives.
type rig struct {
	t     *testing.T
	dir   string
	api   *localapi.Server
	token string

	configPath string
	workBase   string
	records    string

	// commandPrefix, apiLines, taskAgentBaseURL and taskAgentDir are
	// written by writeConfig. A test may change them and write again.
	// commandPrefix is runner.command_prefix as a YAML flow list, and
	// apiLines are extra lines for the api section, each indented by two
	// spaces.
	commandPrefix    string
	apiLines         string
	taskAgentBaseURL string
	taskAgentDir     string

	cmd    *exec.Cmd
	starts int
	stderr *lockedBuffer
	notify *notifySocket
	exited chan struct{}
	err    error
}

// recorderScript is the command_prefix of the tests: it saves its
// arguments, environment and standard input under records/LAUNCH_ID, then
// runs the task agent with the same standard input.
const recorderScript = `#!/bin/bash
set -eu
out=%s/$CIRCLECI_LAUNCH_ID
mkdir -p "$out"
printf '%%s\n' "$@" > "$out/args"
env > "$out/env"
IFS= read -r token
printf '%%s\n' "$token" > "$out/stdin"
exec "$@" <<<"$token"
`

// newRig starts a local runner API for the CircleCI config circleciYAML.
// The agent is started by start, with extra lines for its runner section.
func newRig(t *testing.T, circleciYAML string, opts localapi.Options) *rig {
	t.Helper()
	dir := t.TempDir()
	r := &rig{
		t:        t,
		dir:      dir,
		token:    "rc-token-" + filepath.Base(dir),
		workBase: filepath.Join(dir, "work"),
		records:  filepath.Join(dir, "records"),
		stderr:   &lockedBuffer{},
	}
	if canaryDir := os.Getenv(canaryDirEnv); canaryDir != "" {
		r.useCanary(canaryDir)
	}
	repo := filepath.Join(dir, "repo")
	mustWrite(t, filepath.Join(repo, ".circleci", "config.yml"), circleciYAML, 0o644)
	mustWrite(t, filepath.Join(repo, "README"), "example\n", 0o644)
	for _, d := range []string{r.workBase, r.records} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	opts.RepoDir = repo
	if opts.Tokens == nil {
		opts.Tokens = map[string]string{r.token: "test/rig"}
	}
	opts.TaskAgents = map[string]string{runtime.GOARCH: taskAgentBinary}
	api, err := localapi.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { api.Close() })
	r.api = api

	prefix := filepath.Join(dir, "record-task")
	mustWrite(t, prefix, fmt.Sprintf(recorderScript, r.records), 0o755)
	r.commandPrefix = fmt.Sprintf("[%q]", prefix)
	r.taskAgentBaseURL = api.URL() + "/task-agent"
	r.taskAgentDir = filepath.Join(dir, "task-agents")
	r.configPath = filepath.Join(dir, "launch-agent-config.yaml")
	r.writeConfig(r.token, "")
	return r
}

// writeConfig writes the agent's configuration with token and extra
// runner keys, each line indented by four spaces.
func (r *rig) writeConfig(token, extraRunner string) {
	r.t.Helper()
	config := fmt.Sprintf(`api:
  auth_token: %s
  url: %s
%srunner:
  name: rig
  resource_class: test/rig
  command_prefix: %s
  working_directory: %s/%%s
  cleanup_working_directory: true
  task_agent_base_url: %s
  task_agent_directory: %s
  claim_interval: 200ms
  cancel_grace_period: 2s
%s`, token, r.api.URL(), r.apiLines, r.commandPrefix, r.workBase, r.taskAgentBaseURL, r.taskAgentDir, extraRunner)
	tmp := r.configPath + ".tmp"
	mustWrite(r.t, tmp, config, 0o600)
	if err := os.Rename(tmp, r.configPath); err != nil {
		r.t.Fatal(err)
	}
}

// start runs binary (the agent unless a copy is given) with the config.
func (r *rig) start(binary string) {
	r.t.Helper()
	if binary == "" {
		binary = agentBinary
	}
	r.starts++
	r.notify = listenNotify(r.t, filepath.Join(r.dir, fmt.Sprintf("notify-%d", r.starts)))
	r.cmd = exec.Command(binary, "--config", r.configPath, "--state-dir", filepath.Join(r.dir, "state"))
	r.cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+r.notify.path, "LAUNCH_AGENT_RUNNER_NAME=rig")
	r.cmd.Stderr = r.stderr
	r.exited = make(chan struct{})
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	go func() {
		r.err = r.cmd.Wait()
		close(r.exited)
	}()
	r.t.Cleanup(func() {
		select {
		case <-r.exited:
		default:
			_ = r.cmd.Process.Kill()
			<-r.exited
		}
		if r.t.Failed() {
			r.t.Logf("agent log:\n%s", r.stderr.String())
		}
	})
}

func (r *rig) signal(sig syscall.Signal) {
	r.t.Helper()
	if err := r.cmd.Process.Signal(sig); err != nil {
		r.t.Fatal(err)
	}
}

// waitExit waits for the agent to exit and returns its exit status.
func (r *rig) waitExit(timeout time.Duration) int {
	r.t.Helper()
	select {
	case <-r.exited:
	case <-time.After(timeout):
		r.t.Fatalf("agent still running after %v", timeout)
	}
	return r.cmd.ProcessState.ExitCode()
}

// waitJobs waits until every job has ended.
func (r *rig) waitJobs(timeout time.Duration) []localapi.Job {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	jobs, err := r.api.WaitAllEnded(ctx)
	if err != nil {
		r.t.Fatalf("jobs did not end: %v; jobs: %+v", err, r.api.Jobs())
	}
	return jobs
}

// waitFor polls cond until it is true.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func jobNamed(t *testing.T, jobs []localapi.Job, name string) localapi.Job {
	t.Helper()
	for _, j := range jobs {
		if j.Name == name {
			return j
		}
	}
	t.Fatalf("no job %q in %+v", name, jobs)
	return localapi.Job{}
}

// notifySocket collects the sd_notify messages of the agent.
type notifySocket struct {
	path string
	mu   sync.Mutex
	msgs []string
}

func listenNotify(t *testing.T, path string) *notifySocket {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	n := &notifySocket{path: path}
	go func() {
		buf := make([]byte, 4096)
		for {
			size, err := conn.Read(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			n.msgs = append(n.msgs, string(buf[:size]))
			n.mu.Unlock()
		}
	}()
	return n
}

func (n *notifySocket) messages() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.msgs...)
}

func (n *notifySocket) has(msg string) bool {
	for _, m := range n.messages() {
		if m == msg {
			return true
		}
	}
	return false
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func mustWrite(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func readRecord(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// recordedLaunches returns the record folders, one per task agent launch.
func (r *rig) recordedLaunches() []string {
	entries, err := os.ReadDir(r.records)
	if err != nil {
		r.t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		dirs = append(dirs, filepath.Join(r.records, e.Name()))
	}
	return dirs
}

func lines(s string) []string {
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}

func goarch() string { return runtime.GOARCH }

func readPID(t *testing.T, path string) int {
	t.Helper()
	var pid int
	if _, err := fmt.Sscan(readRecord(t, filepath.Dir(path), filepath.Base(path)), &pid); err != nil {
		t.Fatal(err)
	}
	return pid
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, to, string(data), 0o755)
}
