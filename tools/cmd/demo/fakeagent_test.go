package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/circleci-runner/circleci-runner/pkg/release"
	"github.com/circleci-runner/circleci-runner/pkg/runnerapi"
)

// fakeAgentModeVariable is the environment variable that selects the
// behaviour of the fake launch agent: "" runs tasks, "exit" exits with
// status 5 at once, and "idle" never claims.
const fakeAgentModeVariable = "DEMO_TEST_FAKE_AGENT_MODE"

// fakeLaunchAgent is a small launch agent for the demo's tests, so they do
// not depend on the real one: it claims tasks, downloads and verifies the
// task agent, runs it with the token on standard input, and drains on
// SIGINT. It reads the configuration file that the demo writes.
func fakeLaunchAgent(args []string) int {
	if len(args) != 4 || args[0] != "--config" || args[2] != "--state-dir" {
		fmt.Fprintln(os.Stderr, "fake launch agent: usage: --config FILE --state-dir DIR")
		return 2
	}
	data, err := os.ReadFile(args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake launch agent:", err)
		return 78
	}
	var config agentConfig
	if err := yaml.Unmarshal(data, &config); err != nil {
		fmt.Fprintln(os.Stderr, "fake launch agent:", err)
		return 78
	}

	switch os.Getenv(fakeAgentModeVariable) {
	case "exit":
		fmt.Fprintln(os.Stderr, "fake launch agent: exiting at once as the test asks")
		return 5
	case "idle":
		config.API.AuthToken = "not-a-token"
	}
	return claimLoop(config)
}

func claimLoop(config agentConfig) int {
	drain := make(chan os.Signal, 1)
	signal.Notify(drain, syscall.SIGINT)
	for count := 1; ; count++ {
		select {
		case <-drain:
			return 0
		default:
		}

		claim, ok := fakeClaim(config)
		if !ok {
			select {
			case <-drain:
				return 0
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		if err := fakeRunTask(config, claim, count); err != nil {
			fmt.Fprintln(os.Stderr, "fake launch agent:", err)
		}
	}
}

func fakeRequest(method, url, token string, body any) (*http.Response, error) {
	var reader io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		reader = bytes.NewReader(data)
	}
	request, err := http.NewRequest(method, url, reader)
	if err != nil {
		return nil, err
	}
	if body != nil {
		request.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	if token != "" {
		request.Header.Set("Authorization", "Bearer "+token)
	}
	return http.DefaultClient.Do(request)
}

func fakeClaim(config agentConfig) (runnerapi.Claim, bool) {
	var claim runnerapi.Claim
	request := runnerapi.ClaimRequest{Name: config.Runner.Name, Hostname: "fake", IP: "", Version: "fake"}
	response, err := fakeRequest("POST", config.API.URL+"/api/v3/runner/claim", config.API.AuthToken, request)
	if err != nil {
		return claim, false
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return claim, false
	}
	return claim, json.NewDecoder(response.Body).Decode(&claim) == nil
}

func fakeRunTask(config agentConfig, claim runnerapi.Claim, count int) error {
	binary, err := fakeDownload(config, claim.AgentVersion)
	if err != nil {
		return err
	}
	workDir := strings.Replace(config.Runner.WorkingDirectory, "%s", fmt.Sprintf("fake-%d", count), 1)
	if err := os.Mkdir(workDir, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(workDir)

	cmd := exec.Command(binary, "_internal", "agent-runner", "--runnerAPIBaseURL="+config.API.URL,
		"--allocation="+claim.Allocation, "--maxRunTime=1m", "--workDir="+workDir)
	cmd.Stdin = strings.NewReader(claim.TaskToken + "\n")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	cmd.Run() // the task agent reports the result itself
	return nil
}

// fakeDownload fetches the task agent and checks it against checksums.txt.
func fakeDownload(config agentConfig, version string) (string, error) {
	base := config.Runner.TaskAgentBaseURL + "/" + version
	sums, err := fakeGet(base + "/checksums.txt")
	if err != nil {
		return "", err
	}
	checksums, err := release.Parse(bytes.NewReader(sums))
	if err != nil {
		return "", err
	}
	path := "linux/" + runtime.GOARCH + "/circleci-agent"
	want, ok := checksums.Lookup(path)
	if !ok {
		return "", fmt.Errorf("checksums.txt has no %s", path)
	}

	data, err := fakeGet(base + "/" + path)
	if err != nil {
		return "", err
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != want {
		return "", fmt.Errorf("checksum mismatch for %s", path)
	}
	binary := filepath.Join(config.Runner.TaskAgentDirectory, version, "circleci-agent")
	os.MkdirAll(filepath.Dir(binary), 0o755)
	return binary, os.WriteFile(binary, data, 0o755)
}

func fakeGet(url string) ([]byte, error) {
	response, err := fakeRequest("GET", url, "", nil)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", url, response.StatusCode)
	}
	return io.ReadAll(response.Body)
}
