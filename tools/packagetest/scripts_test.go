package packagetest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runScript runs one of the debian/ scripts on the host with env as its
// whole environment and returns its exit code and standard error.
func runScript(t *testing.T, name string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(mustRepoRoot(t), "debian", name), args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if exitErr, ok := err.(*exec.ExitError); ok {
		return exitErr.ExitCode(), stderr.String()
	}
	if err != nil {
		t.Fatalf("run %s: %v", name, err)
	}
	return 0, stderr.String()
}

func TestLaunchTaskRejectsBadInvocation(t *testing.T) {
	emptyBin := t.TempDir()
	cases := []struct {
		name    string
		env     []string
		args    []string
		message string
	}{
		{"no command", []string{"PATH=/usr/bin:/bin", "CIRCLECI_LAUNCH_ID=abc-1"}, nil, "no command given"},
		{"no launch id", []string{"PATH=/usr/bin:/bin"}, []string{"true"}, "CIRCLECI_LAUNCH_ID is not set"},
		{"invalid launch id", []string{"PATH=/usr/bin:/bin", "CIRCLECI_LAUNCH_ID=../x"}, []string{"true"}, "CIRCLECI_LAUNCH_ID=../x is invalid"},
		{"no systemd-run", []string{"PATH=" + emptyBin, "CIRCLECI_LAUNCH_ID=abc-1"}, []string{"true"}, "systemd-run not found"},
		{"invalid grace period", []string{"PATH=/usr/bin:/bin", "CIRCLECI_LAUNCH_ID=abc-1", "CIRCLECI_CANCEL_GRACE_PERIOD_MS=20s"}, []string{"true"}, "CIRCLECI_CANCEL_GRACE_PERIOD_MS=20s is invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stderr := runScript(t, "launch-task", c.env, c.args...)
			if code != 2 {
				t.Errorf("exit code %d, expected 2", code)
			}
			if !strings.Contains(stderr, c.message) {
				t.Errorf("stderr %q lacks %q", stderr, c.message)
			}
		})
	}
}

func TestStopAgentWithoutMainPID(t *testing.T) {
	code, stderr := runScript(t, "stop-agent", []string{"PATH=/usr/bin:/bin"})
	if code != 0 || stderr != "" {
		t.Errorf("exit code %d, stderr %q; expected a quiet exit 0 when the agent is not running", code, stderr)
	}
}

// startAgentStandIn starts a shell in place of the agent: it runs
// script to set its signal handling and then sleeps. The process is reaped
// as soon as it exits, because stop-agent's "tail --pid" would wait for a
// zombie as for a running process.
func startAgentStandIn(t *testing.T, script string) int {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script+"; while :; do sleep 0.1; done")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	// Give the shell time to install its traps before signals arrive.
	time.Sleep(200 * time.Millisecond)
	return cmd.Process.Pid
}

func TestStopAgentDrainsWithSIGINT(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "signal")
	agent := startAgentStandIn(t, "trap 'echo INT > "+marker+"; exit 0' INT")

	start := time.Now()
	code, stderr := runScript(t, "stop-agent", []string{"PATH=/usr/bin:/bin", "MAINPID=" + strconv.Itoa(agent), "DRAIN_TIMEOUT=30s"})

	if code != 0 {
		t.Errorf("exit code %d, stderr %q", code, stderr)
	}
	if got, _ := os.ReadFile(marker); string(got) != "INT\n" {
		t.Errorf("the agent received %q, expected SIGINT", got)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("stop-agent took %s for an agent that drained at once", elapsed)
	}
}

func TestStopAgentCancelsAfterDrainTimeout(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "signal")
	agent := startAgentStandIn(t, "trap 'echo INT >> "+marker+"' INT; trap 'echo TERM >> "+marker+"; exit 0' TERM")

	code, stderr := runScript(t, "stop-agent", []string{"PATH=/usr/bin:/bin", "MAINPID=" + strconv.Itoa(agent), "DRAIN_TIMEOUT=1s", "CANCEL_TIMEOUT=30s"})

	if code != 0 {
		t.Errorf("exit code %d, stderr %q", code, stderr)
	}
	if got, _ := os.ReadFile(marker); string(got) != "INT\nTERM\n" {
		t.Errorf("the agent received %q, expected SIGINT and then SIGTERM", got)
	}
	if !strings.Contains(stderr, "did not finish within DRAIN_TIMEOUT=1s") {
		t.Errorf("stderr %q does not say the drain timed out", stderr)
	}
}

func TestStopAgentReplacesInvalidTimeout(t *testing.T) {
	agent := startAgentStandIn(t, "trap 'exit 0' INT")

	code, stderr := runScript(t, "stop-agent", []string{"PATH=/usr/bin:/bin", "MAINPID=" + strconv.Itoa(agent), "DRAIN_TIMEOUT=0"})

	if code != 0 {
		t.Errorf("exit code %d", code)
	}
	if !strings.Contains(stderr, "DRAIN_TIMEOUT=0 is invalid, using 5m") {
		t.Errorf("stderr %q does not reject DRAIN_TIMEOUT=0", stderr)
	}
}
