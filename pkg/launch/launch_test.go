package launch

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

func TestCommandArgs(t *testing.T) {
	c := Command{
		Prefix:           []string{"/opt/circleci/launch-task"},
		TaskAgent:        "/var/lib/circleci-runner/task-agent/1.0/circleci-agent",
		RunnerAPIURL:     "https://runner.circleci.com",
		Allocation:       "alloc-1",
		MaxRunTime:       5 * time.Hour,
		WorkDir:          "/opt/circleci/workdir/abc",
		SSHAdvertiseAddr: "10.0.0.2:54782",
	}
	want := []string{
		"/opt/circleci/launch-task",
		"/var/lib/circleci-runner/task-agent/1.0/circleci-agent",
		"_internal", "agent-runner",
		"--runnerAPIBaseURL=https://runner.circleci.com",
		"--allocation=alloc-1",
		"--maxRunTime=5h0m0s",
		"--workDir=/opt/circleci/workdir/abc",
		"--sshAdvertiseAddr=10.0.0.2:54782",
	}
	if diff := cmp.Diff(want, c.Args()); diff != "" {
		t.Errorf("Args() (-want +got):\n%s", diff)
	}
	c.SSHAdvertiseAddr = ""
	if got := c.Args(); got[len(got)-1] != "--workDir=/opt/circleci/workdir/abc" {
		t.Errorf("Args() without an SSH address ends with %q", got[len(got)-1])
	}
}

func TestEnvironmentFiltersSecrets(t *testing.T) {
	environ := []string{
		"PATH=/usr/bin:/bin",
		"HOME=/root",
		"LANG=C.UTF-8",
		"LC_ALL=C",
		"https_proxy=http://proxy:3128",
		"LAUNCH_AGENT_API_AUTH_TOKEN=secret-token",
		"CIRCLECI_RUNNER_NAME=r1",
		"NOTIFY_SOCKET=/run/systemd/notify",
		"INVOCATION_ID=abc",
		"TZ=secret-token-inside",
		"RANDOM_VAR=1",
	}
	want := []string{
		"HOME=/root",
		"LANG=C.UTF-8",
		"LC_ALL=C",
		"https_proxy=http://proxy:3128",
		"PATH=/usr/bin:/bin",
		"CIRCLECI_LAUNCH_ID=id-1",
		"CIRCLECI_CANCEL_GRACE_PERIOD_MS=20500",
	}
	got := Environment(environ, "id-1", 20500*time.Millisecond, []string{"secret-token"})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Environment() (-want +got):\n%s", diff)
	}
	if got := Environment(nil, "x", 0, nil); got[0] != "PATH="+DefaultPath {
		t.Errorf("Environment() without PATH = %v", got)
	}
}

func TestStartPassesTokenOnStdinOnly(t *testing.T) {
	dir := t.TempDir()
	prefix := writeScript(t, dir, "prefix", `
cat > "$OUT/stdin"
printf '%s\n' "$@" > "$OUT/args"
env > "$OUT/env"
`)
	var stdout bytes.Buffer
	task, err := Start(Spec{
		Command:   Command{Prefix: []string{prefix}, TaskAgent: "/agent", RunnerAPIURL: "http://127.0.0.1:1", Allocation: "a1", MaxRunTime: time.Minute, WorkDir: dir},
		LaunchID:  "lid",
		TaskToken: "task-token-123",
		Environ:   []string{"OUT=" + dir, "PATH=/usr/bin:/bin"},
		Stdout:    &stdout,
		Stderr:    &stdout,
	})
	if err != nil {
		t.Fatal(err)
	}
	<-task.Done()
	if r := task.Result(); !r.Success() {
		t.Fatalf("Result() = %v; output: %s", r, stdout.String())
	}

	if got := readFile(t, dir, "stdin"); got != "task-token-123\n" {
		t.Errorf("stdin = %q", got)
	}
	args := readFile(t, dir, "args")
	if strings.Contains(args, "task-token-123") {
		t.Errorf("arguments contain the task token: %s", args)
	}
	if !strings.HasPrefix(args, "/agent\n_internal\nagent-runner\n") {
		t.Errorf("args = %q", args)
	}
	env := readFile(t, dir, "env")
	if strings.Contains(env, "task-token-123") {
		t.Errorf("environment contains the task token")
	}
	if !strings.Contains(env, "CIRCLECI_LAUNCH_ID=lid\n") {
		t.Errorf("environment lacks CIRCLECI_LAUNCH_ID: %s", env)
	}
}

func TestResultReportsExitStatus(t *testing.T) {
	prefix := writeScript(t, t.TempDir(), "prefix", "exit 3")
	task := mustStart(t, prefix)
	<-task.Done()
	r := task.Result()
	if r.Success() || r.ExitCode != 3 || r.String() != "exit status 3" {
		t.Errorf("Result() = %+v (%s), want exit status 3", r, r)
	}
}

func TestResultTokenUnread(t *testing.T) {
	tests := []struct {
		name string
		body string
		want bool
	}{
		{"exits at once", "exit 0", true},
		{"fails at once", "exit 3", true},
		{"reads the token", "read -r token; exit 0", false},
		{"reads and fails", "cat >/dev/null; exit 3", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := writeScript(t, t.TempDir(), "prefix", tt.body)
			task := mustStart(t, prefix)
			<-task.Done()
			if got := task.Result().TokenUnread; got != tt.want {
				t.Errorf("Result().TokenUnread = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckExecutableNoexecMount(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOEXEC, "size=1m"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	script := writeScript(t, dir, "agent", "true")

	err := CheckExecutable(script)
	want := "command " + script + " cannot be executed: permission denied; check that its file system is not mounted noexec"
	if err == nil || err.Error() != want {
		t.Errorf("CheckExecutable on a noexec mount = %v, want %q", err, want)
	}
}

func TestStartMissingPrefix(t *testing.T) {
	_, err := Start(Spec{Command: Command{Prefix: []string{"/nonexistent/launch-task"}}})
	want := "start task agent /nonexistent/launch-task: fork/exec /nonexistent/launch-task: no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("Start() error = %v, want %q", err, want)
	}
}

func TestCancelStopsWholeProcessGroup(t *testing.T) {
	dir := t.TempDir()
	// The leader exits on SIGTERM but leaves a child that ignores it.
	prefix := writeScript(t, dir, "prefix", `
(trap '' TERM; echo $BASHPID > "$OUT/child"; while :; do sleep 0.1; done) &
while [ ! -s "$OUT/child" ]; do sleep 0.01; done
echo started > "$OUT/ready"
wait
`)
	task := mustStartEnv(t, prefix, []string{"OUT=" + dir, "PATH=/usr/bin:/bin"})
	waitForFile(t, filepath.Join(dir, "ready"))
	child := atoi(t, readFile(t, dir, "child"))

	killed := task.Cancel(2 * time.Second)
	if killed {
		t.Errorf("Cancel() needed SIGKILL for a leader that exits on SIGTERM")
	}
	waitGone(t, child)
}

func TestCancelKillsAfterGracePeriod(t *testing.T) {
	dir := t.TempDir()
	prefix := writeScript(t, dir, "prefix", `
trap '' TERM
echo started > "$OUT/ready"
while :; do sleep 0.1; done
`)
	task := mustStartEnv(t, prefix, []string{"OUT=" + dir, "PATH=/usr/bin:/bin"})
	waitForFile(t, filepath.Join(dir, "ready"))

	start := time.Now()
	if killed := task.Cancel(300 * time.Millisecond); !killed {
		t.Error("Cancel() = false for a task agent that ignores SIGTERM")
	}
	if elapsed := time.Since(start); elapsed < 300*time.Millisecond {
		t.Errorf("Cancel() returned after %v, before the grace period", elapsed)
	}
	if r := task.Result(); r.Signal != syscall.SIGKILL {
		t.Errorf("Result() = %v, want killed by SIGKILL", r)
	}
}

func TestCheckExecutable(t *testing.T) {
	dir := t.TempDir()
	script := writeScript(t, dir, "ok", "true")
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		script:                     "",
		plain:                      "command " + plain + " has no execute permission; run chmod 755 " + plain,
		dir:                        "command " + dir + " is not a regular file",
		filepath.Join(dir, "none"): "command " + filepath.Join(dir, "none") + ": stat " + filepath.Join(dir, "none") + ": no such file or directory",
	}
	for path, want := range tests {
		err := CheckExecutable(path)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("CheckExecutable(%s) = %q, want %q", path, got, want)
		}
	}
}

func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	// The task agent's environment is filtered, so the script gets its
	// output folder written in.
	script := "#!/bin/bash\nset -e\nOUT=" + dir + "\n" + body + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustStart(t *testing.T, prefix string) *Task {
	t.Helper()
	return mustStartEnv(t, prefix, nil)
}

func mustStartEnv(t *testing.T, prefix string, environ []string) *Task {
	t.Helper()
	task, err := Start(Spec{
		Command:   Command{Prefix: []string{prefix}, TaskAgent: "/agent", MaxRunTime: time.Minute},
		LaunchID:  "lid",
		TaskToken: "t",
		Environ:   environ,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = task.Signal(syscall.SIGKILL)
		<-task.Done()
	})
	return task
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func waitForFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s did not appear", path)
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("process %d survived the cancel", pid)
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	for _, c := range strings.TrimSpace(s) {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestDoneDoesNotWaitForEscapedChild(t *testing.T) {
	dir := t.TempDir()
	// A child in a new session keeps stdout open after the leader exits;
	// a child left in the group is killed with the group.
	prefix := writeScript(t, dir, "prefix", `
setsid sleep 30 &
echo $! > "$OUT/escaped"
nohup sleep 30 > /dev/null 2>&1 &
echo $! > "$OUT/stayed"
echo done
`)
	var out bytes.Buffer
	task, err := Start(Spec{
		Command:  Command{Prefix: []string{prefix}, TaskAgent: "/agent", MaxRunTime: time.Minute},
		LaunchID: "lid",
		Stdout:   &syncWriter{w: &out},
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-task.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done() not closed 10 s after the leader exited")
	}
	escaped := atoi(t, readFile(t, dir, "escaped"))
	t.Cleanup(func() { _ = syscall.Kill(escaped, syscall.SIGKILL) })
	waitGone(t, atoi(t, readFile(t, dir, "stayed")))
	if !strings.Contains(out.String(), "done") {
		t.Errorf("output = %q, want it to contain done", out.String())
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
