package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeAgentVariable makes the test binary act as the fake launch agent.
const fakeAgentVariable = "DEMO_TEST_FAKE_AGENT"

// taskAgent is the local task agent, built once by TestMain.
var taskAgent string

func TestMain(m *testing.M) {
	if os.Getenv(fakeAgentVariable) == "1" {
		os.Exit(fakeLaunchAgent(os.Args[1:]))
	}

	dir, err := os.MkdirTemp("", "demo-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	taskAgent = filepath.Join(dir, "local-task-agent")
	build := exec.Command("go", "build", "-o", taskAgent, "github.com/circleci-runner/circleci-runner/tools/cmd/local-task-agent")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build the local task agent:", err)
		os.Exit(1)
	}

	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runDemo runs the demo with the test binary as the fake launch agent.
func runDemo(t *testing.T, mode string, extra ...string) (int, string) {
	t.Helper()
	t.Setenv(fakeAgentVariable, "1")
	t.Setenv(fakeAgentModeVariable, mode)
	t.Setenv("TMPDIR", t.TempDir())

	args := append([]string{"--agent", os.Args[0], "--task-agent", taskAgent, "--repo", "../../../examples/demo"}, extra...)
	var out bytes.Buffer
	code := run(args, &out, &out)
	return code, out.String()
}

func TestDemoPassesWithExampleRepository(t *testing.T) {
	code, output := runDemo(t, "")

	if code != 0 {
		t.Fatalf("exit code = %d, want 0\n%s", code, output)
	}
	for _, want := range []string{
		"build        succeeded in",
		"publish      blocked: required job \"failing\" ended as failed",
		"every job has ended",
		"sending interrupt to the launch agent",
		"JOB          RESULT     EXPECTED",
		"failing      failed     failed     ok",
		"Report success",
	} {
		if !strings.Contains(output, want) {
			t.Errorf("output has no %q:\n%s", want, output)
		}
	}
	if strings.Contains(output, "Problems:") {
		t.Errorf("output lists problems:\n%s", output)
	}
	entries, _ := os.ReadDir(os.Getenv("TMPDIR"))
	if len(entries) != 0 {
		t.Errorf("the temporary folder was not removed after success: %v", entries)
	}
}

func TestDemoReportsMismatch(t *testing.T) {
	expected := filepath.Join(t.TempDir(), "expected.yaml")
	text := "jobs:\n  build:\n    result: failed\n  deploy:\n    result: succeeded\n    outputs:\n      Deploy: [nowhere]\n" +
		"  environment:\n    result: succeeded\n  failing:\n    result: failed\n    statuses:\n      Report success: success\n  publish:\n    result: blocked\n  missing:\n    result: succeeded\n"
	os.WriteFile(expected, []byte(text), 0o644)

	code, output := runDemo(t, "", "--expected", expected)

	if code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	for _, want := range []string{
		"build        succeeded  failed     MISMATCH",
		"  - build: ended as succeeded, expected failed",
		`  - deploy: the output of step "Deploy" does not contain "nowhere"`,
		`  - failing: step "Report success" ended as skipped, expected success`,
		"  - missing: expected.yaml names this job, but the pipeline did not run it",
		"The configuration and logs are kept in",
	} {
		if !strings.Contains(output, want) {
			t.Errorf("output has no %q:\n%s", want, output)
		}
	}
}

func TestDemoAgentExitsEarly(t *testing.T) {
	code, output := runDemo(t, "exit")

	if code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	for _, want := range []string{
		"the launch agent exited before every job ended (status 5)",
		"the launch agent exited with status 5, expected 0 after a drain",
		"fake launch agent: exiting at once as the test asks",
	} {
		if !strings.Contains(output, want) {
			t.Errorf("output has no %q:\n%s", want, output)
		}
	}
}

func TestDemoTimeout(t *testing.T) {
	start := time.Now()
	code, output := runDemo(t, "idle", "--timeout", "1s")

	if code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	if !strings.Contains(output, "timed out after 1s waiting for every job to end") {
		t.Errorf("output has no timeout:\n%s", output)
	}
	if elapsed := time.Since(start); elapsed > 20*time.Second {
		t.Errorf("the demo took %s with --timeout 1s", elapsed)
	}
}

func TestParseOptionsErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--agent", "a"}, "--agent and --task-agent are required (see --help)"},
		{[]string{"--agent", "a", "--task-agent", "b", "extra"}, `unexpected argument "extra" (see --help)`},
		{[]string{"--agent", "a", "--task-agent", "b", "--timeout", "-1s"}, "invalid --timeout -1s: use a positive duration"},
		{[]string{"--timeout", "soon"}, `invalid argument "soon" for "--timeout" flag: must be a duration like "30s" or "5m"`},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		_, err := parseOptions(tt.args, &out)
		if err == nil || err.Error() != tt.want {
			t.Errorf("parseOptions(%q) error = %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestParseOptionsDefaults(t *testing.T) {
	opts, err := parseOptions([]string{"--agent", "a", "--task-agent", "b"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if opts.repo != "examples/demo" || opts.expected != "examples/demo/expected.yaml" || opts.timeout != 60*time.Second {
		t.Errorf("defaults = %+v", opts)
	}
}

func TestLoadExpectedErrors(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]string{
		"jobs:\n  build:\n    result: done\n":             `jobs.build.result "done" is invalid: use succeeded, failed, blocked or cancelled`,
		"jobs:\n  build:\n    result: failed\n    x: 1\n": "field x not found in type main.JobExpectation",
	}
	for text, want := range tests {
		path := filepath.Join(dir, "expected.yaml")
		os.WriteFile(path, []byte(text), 0o644)
		_, err := loadExpected(path)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("loadExpected(%q) error = %v, want it to contain %q", text, err, want)
		}
	}
}

func TestWriteAgentConfigMode(t *testing.T) {
	dirs, err := newDemoDirs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := writeAgentConfig(dirs, "secret-token", "http://127.0.0.1:1", "demo/local"); err != nil {
		t.Fatal(err)
	}

	info, err := os.Stat(dirs.config)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("config mode = %o, want 600", mode)
	}
	data, _ := os.ReadFile(dirs.config)
	for _, want := range []string{
		"auth_token: secret-token",
		"working_directory: " + dirs.workdir + "/%s",
		"cleanup_working_directory: true",
		"task_agent_base_url: http://127.0.0.1:1/task-agent",
		"claim_interval: 1s",
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("config has no %q:\n%s", want, data)
		}
	}
}

func TestAgentEnvironmentDropsOverrides(t *testing.T) {
	env := agentEnvironment([]string{"PATH=/bin", "LAUNCH_AGENT_API_URL=x", "CIRCLECI_RUNNER_NAME=y", "HOME=/root"})
	if got := strings.Join(env, " "); got != "PATH=/bin HOME=/root" {
		t.Errorf("environment = %s", got)
	}
}

// TestDemoWithRealLaunchAgent runs the demo with the launch agent built
// from this repository, end to end.
func TestDemoWithRealLaunchAgent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real launch agent")
	}
	agent := filepath.Join(t.TempDir(), "circleci-launch-agent")
	build := exec.Command("go", "build", "-o", agent, "github.com/circleci-runner/circleci-runner/cmd/circleci-launch-agent")
	if output, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the launch agent: %v\n%s", err, output)
	}
	t.Setenv("TMPDIR", t.TempDir())

	var out bytes.Buffer
	code := run([]string{"--agent", agent, "--task-agent", taskAgent, "--repo", "../../../examples/demo"}, &out, &out)
	if code != 0 {
		t.Fatalf("exit code = %d, want 0\n%s", code, &out)
	}
}
