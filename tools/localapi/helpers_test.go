package localapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/circleci-runner/circleci-runner/pkg/runnerapi"
)

const (
	testToken      = "resource-class-token-0001"
	otherToken     = "resource-class-token-0002"
	testClass      = "acme/linux"
	otherClass     = "acme/other"
	testAgentBytes = "#!/bin/sh\necho task agent\n"
)

const testConfig = `version: 2.1
jobs:
  build:
    machine: true
    environment:
      GREETING: hello
    steps:
      - checkout
      - run:
          name: Say hello
          command: echo $GREETING
  test:
    machine: true
    resource_class: acme/linux
    steps:
      - run: make test
  other:
    resource_class: acme/other
    steps:
      - run: "true"
workflows:
  main:
    jobs:
      - build
      - test:
          requires: [build]
      - other
`

// newTestServer starts a local runner API on 127.0.0.1 for a repository
// with the given config and a file README.md.
func newTestServer(t *testing.T, config string, change func(*Options)) (*Server, *httptest.Server) {
	t.Helper()
	repo := t.TempDir()
	writeFile(t, filepath.Join(repo, ".circleci", "config.yml"), config)
	writeFile(t, filepath.Join(repo, "README.md"), "demo repository\n")
	agent := filepath.Join(t.TempDir(), "circleci-agent")
	writeFile(t, agent, testAgentBytes)

	opts := Options{
		RepoDir:              repo,
		Tokens:               map[string]string{testToken: testClass, otherToken: otherClass},
		TaskAgents:           map[string]string{"amd64": agent, "arm64": agent},
		DefaultResourceClass: testClass,
	}
	if change != nil {
		change(&opts)
	}
	server, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(server.Handler())
	t.Cleanup(ts.Close)
	return server, ts
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// do sends a request with an optional bearer token and JSON body, and
// returns the response with its body read.
func do(t *testing.T, ts *httptest.Server, method, path, token string, body any) (*http.Response, []byte) {
	t.Helper()
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		reader = bytes.NewReader(data)
	}
	request, err := http.NewRequest(method, ts.URL+path, reader)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		request.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	if token != "" {
		request.Header.Set("Authorization", "Bearer "+token)
	}
	return send(t, request)
}

func send(t *testing.T, request *http.Request) (*http.Response, []byte) {
	t.Helper()
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatalf("%s %s: %v", request.Method, request.URL.Path, err)
	}
	defer response.Body.Close()
	data, err := io.ReadAll(response.Body)
	if err != nil {
		t.Fatalf("read body of %s %s: %v", request.Method, request.URL.Path, err)
	}
	return response, data
}

var claimBody = runnerapi.ClaimRequest{Name: "runner-1", Hostname: "host", IP: "127.0.0.1", Version: "1.0.0"}

// claim claims a job with token and fails the test unless it gets one.
func claim(t *testing.T, ts *httptest.Server, token string) runnerapi.Claim {
	t.Helper()
	response, body := do(t, ts, "POST", "/api/v3/runner/claim", token, claimBody)
	if response.StatusCode != http.StatusOK {
		t.Fatalf("claim: status %d, body %s", response.StatusCode, body)
	}
	var claim runnerapi.Claim
	if err := json.Unmarshal(body, &claim); err != nil {
		t.Fatalf("claim body %s: %v", body, err)
	}
	return claim
}

func expectStatus(t *testing.T, response *http.Response, body []byte, want int) {
	t.Helper()
	if response.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", response.Request.Method, response.Request.URL.Path, response.StatusCode, want, body)
	}
}

// expectError checks a JSON error response's status and message.
func expectError(t *testing.T, response *http.Response, body []byte, status int, message string) {
	t.Helper()
	expectStatus(t, response, body, status)
	if got := response.Header.Get("Content-Type"); got != "application/json; charset=utf-8" {
		t.Errorf("error Content-Type = %q, want JSON", got)
	}
	var decoded errorMessage
	if err := json.Unmarshal(body, &decoded); err != nil {
		t.Fatalf("error body %s is not JSON: %v", body, err)
	}
	if decoded.Message != message {
		t.Errorf("message:\n got %q\nwant %q", decoded.Message, message)
	}
}

func jobNamed(t *testing.T, server *Server, name string) Job {
	t.Helper()
	for _, job := range server.Jobs() {
		if job.Name == name {
			return job
		}
	}
	t.Fatalf("no job named %q", name)
	return Job{}
}

// The helpers below run in goroutines, where t.Fatal must not be called.

func claimEventually(ts *httptest.Server, token string) runnerapi.Claim {
	for {
		response, body := doQuiet(ts, "POST", "/api/v3/runner/claim", token, claimBody)
		if response != nil && response.StatusCode == http.StatusOK {
			var claim runnerapi.Claim
			json.Unmarshal(body, &claim)
			return claim
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func postQuiet(ts *httptest.Server, token, path string, body any) {
	doQuiet(ts, "POST", path, token, body)
}

func doQuiet(ts *httptest.Server, method, path, token string, body any) (*http.Response, []byte) {
	var reader io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		reader = bytes.NewReader(data)
	}
	request, _ := http.NewRequest(method, ts.URL+path, reader)
	request.Header.Set("Content-Type", "application/json; charset=utf-8")
	request.Header.Set("Authorization", "Bearer "+token)
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		return nil, nil
	}
	defer response.Body.Close()
	out, _ := io.ReadAll(response.Body)
	return response, out
}
