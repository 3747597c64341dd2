package localapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/circleci-runner/circleci-runner/pkg/runnerapi"
	"github.com/circleci-runner/circleci-runner/tools/taskproto"
)

func TestCallLogOrderAndMasking(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	got := claim(t, ts, testToken)
	do(t, ts, "GET", taskproto.PathConfig, got.TaskToken, nil)
	do(t, ts, "GET", "/task-agent/local-1/checksums.txt", "", nil)
	build := jobNamed(t, server, "build")
	do(t, ts, "POST", "/api/v3/runner/unclaim", "", runnerapi.UnclaimRequest{TaskID: build.ID, TaskToken: got.TaskToken})
	do(t, ts, "GET", "/local/jobs", "", nil)

	calls := server.Calls()
	want := []string{
		"POST /api/v3/runner/claim 200 ****0001",
		"GET /api/v2/task/config 200 " + MaskToken(got.TaskToken),
		"GET /task-agent/local-1/checksums.txt 200 ",
		"POST /api/v3/runner/unclaim 200 " + MaskToken(got.TaskToken),
	}
	if len(calls) != len(want) {
		t.Fatalf("got %d calls, want %d: %+v", len(calls), len(want), calls)
	}
	for i, call := range calls {
		line := fmt.Sprintf("%s %s %d %s", call.Method, call.Path, call.Status, call.Token)
		if line != want[i] {
			t.Errorf("call %d = %q, want %q", i+1, line, want[i])
		}
		if call.Seq != i+1 {
			t.Errorf("call %d seq = %d", i+1, call.Seq)
		}
	}

	response, body := do(t, ts, "GET", "/local/calls", "", nil)
	expectStatus(t, response, body, 200)
	for _, secret := range []string{testToken, got.TaskToken} {
		if strings.Contains(string(body), secret) {
			t.Errorf("/local/calls contains a full token")
		}
	}
}

func TestLocalJobsNeverShowsTokens(t *testing.T) {
	_, ts := newTestServer(t, testConfig, nil)
	got := claim(t, ts, testToken)

	for _, path := range []string{"/local/jobs", "/"} {
		_, body := do(t, ts, "GET", path, "", nil)
		for _, secret := range []string{testToken, got.TaskToken} {
			if strings.Contains(string(body), secret) {
				t.Errorf("%s contains a full token", path)
			}
		}
	}
}

func TestLocalJobsEndpoints(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)

	response, body := do(t, ts, "GET", "/local/jobs", "", nil)
	expectStatus(t, response, body, 200)
	var jobs []Job
	if err := json.Unmarshal(body, &jobs); err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 3 || jobs[0].Name != "build" || jobs[0].BuildNum != 1 {
		t.Errorf("jobs = %+v", jobs)
	}

	response, body = do(t, ts, "GET", "/local/jobs/"+jobs[0].ID, "", nil)
	expectStatus(t, response, body, 200)
	response, body = do(t, ts, "GET", "/local/jobs/none", "", nil)
	expectError(t, response, body, 404, `no job has id "none"`)

	response, body = do(t, ts, "POST", "/local/jobs", "", map[string]string{"name": "test"})
	expectStatus(t, response, body, 201)
	var added Job
	json.Unmarshal(body, &added)
	if added.State != StateQueued || added.BuildNum != 4 || added.Workflow != "enqueued" {
		t.Errorf("enqueued job = %+v", added)
	}
	if len(server.Jobs()) != 4 {
		t.Errorf("jobs after enqueue = %d, want 4", len(server.Jobs()))
	}

	response, body = do(t, ts, "POST", "/local/jobs", "", map[string]string{"name": "deploy"})
	expectError(t, response, body, 404, `job "deploy" is not defined in the config's jobs`)
	response, body = do(t, ts, "POST", "/local/jobs/none/cancel", "", nil)
	expectError(t, response, body, 404, `not found: no job has id "none"`)
}

func TestLocalWaitEndpoint(t *testing.T) {
	server, ts := newTestServer(t, "version: 2.1\njobs:\n  build:\n    machine: true\n    steps: [checkout]\n", nil)

	response, body := do(t, ts, "GET", "/local/wait?timeout=50ms", "", nil)
	expectError(t, response, body, 408, "timed out after 50ms: context deadline exceeded while jobs have not ended: build (queued)")
	response, body = do(t, ts, "GET", "/local/wait?timeout=soon", "", nil)
	expectError(t, response, body, 400, `invalid timeout "soon": use a positive duration such as 30s`)

	server.Cancel(jobNamed(t, server, "build").ID)
	response, body = do(t, ts, "GET", "/local/wait", "", nil)
	expectStatus(t, response, body, 200)
}

func TestIndexPage(t *testing.T) {
	_, ts := newTestServer(t, testConfig, nil)
	response, body := do(t, ts, "GET", "/", "", nil)
	expectStatus(t, response, body, 200)

	text := string(body)
	for _, want := range []string{"JOB", "build", "queued", "1. Checkout code", "2. Say hello", "waiting"} {
		if !strings.Contains(text, want) {
			t.Errorf("index page has no %q:\n%s", want, text)
		}
	}
}

func TestUnknownPathAndMethod(t *testing.T) {
	_, ts := newTestServer(t, testConfig, nil)

	response, body := do(t, ts, "GET", "/api/v3/nothing", "", nil)
	expectError(t, response, body, 404, "no endpoint GET /api/v3/nothing")
	response, body = do(t, ts, "GET", "/api/v3/runner/claim", testToken, nil)
	expectError(t, response, body, 405, "method GET is not allowed on /api/v3/runner/claim; use POST")
	if allow := response.Header.Get("Allow"); allow != "POST" {
		t.Errorf("Allow = %q, want POST", allow)
	}
}

func TestListenOnlyLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "localhost:0", "[::1]:0", "192.0.2.1:80", "127.0.0.1"} {
		if listener, err := Listen(addr); err == nil {
			listener.Close()
			t.Errorf("Listen(%q) succeeded, want an error", addr)
		}
	}
	listener, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen(127.0.0.1:0): %v", err)
	}
	listener.Close()
}

func TestStartAndClose(t *testing.T) {
	server, _ := newTestServer(t, testConfig, nil)
	url, err := server.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Errorf("URL = %q", url)
	}
	response, err := http.Get(url + "/local/jobs")
	if err != nil {
		t.Fatal(err)
	}
	response.Body.Close()
	if err := server.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := server.Start("0.0.0.0:0"); err == nil {
		t.Error("Start on 0.0.0.0 succeeded")
	}
}

func TestNewRejections(t *testing.T) {
	repo := t.TempDir()
	agent := filepath.Join(t.TempDir(), "agent")
	writeFile(t, agent, "x")
	writeFile(t, filepath.Join(repo, ".circleci", "config.yml"), testConfig)
	base := func() Options {
		return Options{
			RepoDir:    repo,
			Tokens:     map[string]string{testToken: testClass, otherToken: otherClass},
			TaskAgents: map[string]string{"amd64": agent},
		}
	}

	tests := []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"no default class", func(o *Options) {}, `job "build" has no resource_class and no default resource class is set; set one with the default resource class option`},
		{"class without token", func(o *Options) { o.Tokens = map[string]string{testToken: testClass} }, `job "other" runs on resource class "acme/other", but no token is configured for it`},
		{"no tokens", func(o *Options) { o.Tokens = nil }, "no resource-class token is configured; add at least one token and resource class"},
		{"invalid token class", func(o *Options) { o.Tokens = map[string]string{testToken: "large"} }, `invalid resource class "large" of a token: use namespace/name`},
		{"no task agent", func(o *Options) { o.TaskAgents = nil }, "no task agent binary is configured"},
		{"missing task agent", func(o *Options) { o.TaskAgents = map[string]string{"amd64": "/nonexistent/agent"} }, "read task agent binary for amd64: open /nonexistent/agent: no such file or directory"},
		{"missing repo", func(o *Options) { o.RepoDir = "" }, "the repository directory is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := base()
			opts.DefaultResourceClass = ""
			if tt.name != "no default class" {
				opts.DefaultResourceClass = testClass
			}
			tt.change(&opts)
			_, err := New(opts)
			if err == nil || err.Error() != tt.want {
				t.Errorf("New error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestNewSingleClassIsDefault(t *testing.T) {
	server, _ := newTestServer(t, "version: 2.1\njobs:\n  build:\n    machine: true\n    steps: [checkout]\n", func(o *Options) {
		o.Tokens = map[string]string{testToken: testClass}
		o.DefaultResourceClass = ""
	})
	if class := jobNamed(t, server, "build").ResourceClass; class != testClass {
		t.Errorf("resource class = %q, want %q", class, testClass)
	}
}

func TestNewReportsConfigErrors(t *testing.T) {
	repo := t.TempDir()
	writeFile(t, filepath.Join(repo, ".circleci", "config.yml"), "version: 2.1\norbs: {}\n")
	agent := filepath.Join(repo, "agent")
	os.WriteFile(agent, []byte("x"), 0o755)

	_, err := New(Options{RepoDir: repo, Tokens: map[string]string{testToken: testClass}, TaskAgents: map[string]string{"amd64": agent}})
	if err == nil || !strings.Contains(err.Error(), `config.yml:2:1: key "orbs" is not supported by the local runner API`) {
		t.Errorf("New error = %v", err)
	}
}

func TestRejectedRequestIsLogged(t *testing.T) {
	var log strings.Builder
	_, ts := newTestServer(t, testConfig, func(o *Options) { o.Logger = zerolog.New(&log) })

	do(t, ts, "POST", "/api/v3/runner/claim", "unknown-token-wxyz", claimBody)

	line := log.String()
	for _, want := range []string{`"status":401`, `"token":"****wxyz"`, `"error":"resource-class token ****wxyz is not valid"`, `"message":"request rejected"`} {
		if !strings.Contains(line, want) {
			t.Errorf("log has no %s:\n%s", want, line)
		}
	}
	if strings.Contains(line, "unknown-token-wxyz") {
		t.Error("the log contains the full token")
	}
}
