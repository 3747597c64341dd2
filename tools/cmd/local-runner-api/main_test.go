package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// build compiles the command into a temporary folder.
func build(t *testing.T) string {
	t.Helper()
	binary := filepath.Join(t.TempDir(), "local-runner-api")
	output, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, output)
	}
	return binary
}

// fixture writes a repository, a tokens file and a task agent file.
func fixture(t *testing.T) (repo, tokens, agent string) {
	t.Helper()
	dir := t.TempDir()
	repo = filepath.Join(dir, "repo")
	os.MkdirAll(filepath.Join(repo, ".circleci"), 0o755)
	config := "version: 2.1\njobs:\n  build:\n    machine: true\n    steps: [checkout]\n"
	os.WriteFile(filepath.Join(repo, ".circleci", "config.yml"), []byte(config), 0o644)
	tokens = filepath.Join(dir, "tokens")
	os.WriteFile(tokens, []byte("secret-token-0001 demo/local\n"), 0o600)
	agent = filepath.Join(dir, "agent")
	os.WriteFile(agent, []byte("agent"), 0o755)
	return repo, tokens, agent
}

func TestServeAndStopOnSIGTERM(t *testing.T) {
	binary := build(t)
	repo, tokens, agent := fixture(t)
	cmd := exec.Command(binary, "--repo", repo, "--tokens-file", tokens, "--task-agent", agent)
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("read the listening line: %v\nstderr:\n%s", err, &stderr)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line = %q, want listening on http://127.0.0.1:PORT", line)
	}

	response, err := http.Get(url + "/local/jobs")
	if err != nil {
		t.Fatal(err)
	}
	var jobs []struct {
		Name          string `json:"name"`
		ResourceClass string `json:"resource_class"`
	}
	json.NewDecoder(response.Body).Decode(&jobs)
	response.Body.Close()
	if len(jobs) != 1 || jobs[0].Name != "build" || jobs[0].ResourceClass != "demo/local" {
		t.Errorf("jobs = %+v", jobs)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\nstderr:\n%s", err, &stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop within 10s of SIGTERM")
	}
	if strings.Contains(stderr.String(), "secret-token-0001") {
		t.Error("stderr contains the token")
	}
}

func TestFlagErrors(t *testing.T) {
	binary := build(t)
	repo, tokens, agent := fixture(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help", []string{"--help"}, 0, "--tokens-file FILE"},
		{"missing repo", []string{"--tokens-file", tokens, "--task-agent", agent}, 2, "--repo is missing (see --help)"},
		{"positional", []string{"--repo", repo, "extra"}, 2, `unexpected argument "extra"`},
		{"public listen", []string{"--repo", repo, "--tokens-file", tokens, "--task-agent", agent, "--listen", "0.0.0.0:0"}, 1,
			`invalid listen address "0.0.0.0:0": the local runner API listens on 127.0.0.1 only`},
		{"token on command line", []string{"--token", "x"}, 2, "unknown flag: --token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(binary, tt.args...)
			output, _ := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != tt.code {
				t.Errorf("exit code = %d, want %d\n%s", code, tt.code, output)
			}
			if !strings.Contains(string(output), tt.want) {
				t.Errorf("output has no %q:\n%s", tt.want, output)
			}
		})
	}
}

func TestReadableTokensFileWarns(t *testing.T) {
	binary := build(t)
	repo, tokens, agent := fixture(t)
	os.Chmod(tokens, 0o644)
	cmd := exec.Command(binary, "--repo", repo, "--tokens-file", tokens, "--task-agent", agent, "--listen", "0.0.0.0:1")
	output, _ := cmd.CombinedOutput()
	if !strings.Contains(string(output), "is readable by other users (mode 644); run chmod 600 on it") {
		t.Errorf("output has no warning:\n%s", output)
	}
}
