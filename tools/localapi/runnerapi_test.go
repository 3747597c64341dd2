package localapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/circleci-runner/circleci-runner/pkg/runnerapi"
	"github.com/circleci-runner/circleci-runner/tools/taskproto"
)

func TestClaimReturnsQueuedJob(t *testing.T) {
	server, ts := newTestServer(t, testConfig, func(o *Options) { o.ClaimWarning = "upgrade soon" })

	got := claim(t, ts, testToken)

	if got.TaskToken == "" || got.Allocation == "" {
		t.Errorf("claim has no task token or allocation: %+v", got)
	}
	if got.AgentVersion != DefaultAgentVersion {
		t.Errorf("agent_version = %q, want %q", got.AgentVersion, DefaultAgentVersion)
	}
	if got.ResourceClass != testClass {
		t.Errorf("resource_class = %q, want %q", got.ResourceClass, testClass)
	}
	if got.Warning != "upgrade soon" {
		t.Errorf("warning = %q", got.Warning)
	}
	build := jobNamed(t, server, "build")
	if build.State != StateRunning {
		t.Errorf("build state = %s, want running", build.State)
	}
	if len(build.Claims) != 1 || build.Claims[0].Runner != "runner-1" || build.Claims[0].Allocation != got.Allocation {
		t.Errorf("build claims = %+v", build.Claims)
	}
	if build.Claims[0].Token != "****0001" {
		t.Errorf("claim token = %q, want it masked", build.Claims[0].Token)
	}
}

func TestClaimBodyHasEveryField(t *testing.T) {
	_, ts := newTestServer(t, testConfig, nil)
	_, body := do(t, ts, "POST", "/api/v3/runner/claim", testToken, claimBody)

	var fields map[string]any
	if err := json.Unmarshal(body, &fields); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"task_token", "agent_version", "allocation", "resource_class", "warning", "is_enterprise"} {
		if _, ok := fields[key]; !ok {
			t.Errorf("claim body has no %q: %s", key, body)
		}
	}
}

func TestClaimNoJobIs204(t *testing.T) {
	_, ts := newTestServer(t, testConfig, nil)
	claim(t, ts, otherToken) // the only job of acme/other

	response, body := do(t, ts, "POST", "/api/v3/runner/claim", otherToken, claimBody)
	expectStatus(t, response, body, http.StatusNoContent)
	if len(body) != 0 {
		t.Errorf("204 body = %q, want empty", body)
	}
}

func TestClaimOnlyOwnResourceClass(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	claim(t, ts, otherToken)

	if got := jobNamed(t, server, "other"); got.State != StateRunning {
		t.Errorf("other state = %s, want running", got.State)
	}
	if got := jobNamed(t, server, "build"); got.State != StateQueued {
		t.Errorf("build state = %s, want queued", got.State)
	}
}

func TestClaimRejections(t *testing.T) {
	_, ts := newTestServer(t, testConfig, nil)
	tests := []struct {
		name        string
		token       string
		body        any
		contentType string
		status      int
		message     string
	}{
		{"unknown token", "unknown-token-abcd", claimBody, "", 401, "resource-class token ****abcd is not valid"},
		{"missing token", "", claimBody, "", 401, "missing or invalid Authorization header: send Authorization: Bearer TOKEN"},
		{"missing field", testToken, map[string]string{"name": "a", "hostname": "b", "version": "1"}, "", 400, "invalid request body: missing ip"},
		{"unknown field", testToken, map[string]string{"name": "a", "hostname": "b", "ip": "", "version": "1", "extra": "x"}, "", 400, `invalid request body: json: unknown field "extra"`},
		{"wrong type", testToken, map[string]any{"name": 1, "hostname": "b", "ip": "", "version": "1"}, "", 400, "invalid request body: json: cannot unmarshal number into Go struct field ClaimRequest.name of type string"},
		{"empty name", testToken, runnerapi.ClaimRequest{Hostname: "h", Version: "1"}, "", 400, "invalid claim: name and version must not be empty"},
		{"not an object", testToken, []string{"a"}, "", 400, "invalid request body: want a JSON object"},
		{"plain JSON type", testToken, claimBody, "application/json", 415, `invalid Content-Type "application/json": send application/json; charset=utf-8`},
		{"text type", testToken, claimBody, "text/plain; charset=utf-8", 415, `invalid Content-Type "text/plain; charset=utf-8": send application/json; charset=utf-8`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, _ := json.Marshal(tt.body)
			request, _ := http.NewRequest("POST", ts.URL+"/api/v3/runner/claim", strings.NewReader(string(data)))
			request.Header.Set("Content-Type", "application/json; charset=utf-8")
			if tt.contentType != "" {
				request.Header.Set("Content-Type", tt.contentType)
			}
			if tt.token != "" {
				request.Header.Set("Authorization", "Bearer "+tt.token)
			}
			response, body := send(t, request)
			expectError(t, response, body, tt.status, tt.message)
		})
	}
}

func TestClaimTrailingData(t *testing.T) {
	_, ts := newTestServer(t, testConfig, nil)
	request, _ := http.NewRequest("POST", ts.URL+"/api/v3/runner/claim",
		strings.NewReader(`{"name":"a","hostname":"b","ip":"","version":"1"}}`))
	request.Header.Set("Content-Type", "application/json; charset=UTF-8")
	request.Header.Set("Authorization", "Bearer "+testToken)

	response, body := send(t, request)
	expectError(t, response, body, 400, "invalid request body: data after the JSON object")
}

func TestTaskConfigHasTaskID(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	got := claim(t, ts, testToken)

	response, body := do(t, ts, "GET", taskproto.PathConfig, got.TaskToken, nil)
	expectStatus(t, response, body, 200)
	var config taskproto.TaskConfig
	if err := json.Unmarshal(body, &config); err != nil {
		t.Fatal(err)
	}

	build := jobNamed(t, server, "build")
	if config.TaskID != build.ID {
		t.Errorf("task_id = %q, want %q", config.TaskID, build.ID)
	}
	if config.JobName != "build" || config.BuildNum != build.BuildNum || config.Allocation != got.Allocation {
		t.Errorf("config = %+v", config)
	}
	if config.Environment["GREETING"] != "hello" {
		t.Errorf("environment = %v", config.Environment)
	}
	if len(config.Steps) != 2 || config.Steps[0].Type != "checkout" || config.Steps[1].Command != "echo $GREETING" {
		t.Errorf("steps = %+v", config.Steps)
	}
}

func TestTaskConfigRejectsResourceClassToken(t *testing.T) {
	_, ts := newTestServer(t, testConfig, nil)
	claim(t, ts, testToken)

	response, body := do(t, ts, "GET", taskproto.PathConfig, testToken, nil)
	expectError(t, response, body, 401, "task token ****0001 is not valid")
}

func TestUnclaimRequeuesJob(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	first := claim(t, ts, testToken)
	build := jobNamed(t, server, "build")

	response, body := do(t, ts, "POST", "/api/v3/runner/unclaim", "", runnerapi.UnclaimRequest{TaskID: build.ID, TaskToken: first.TaskToken})
	expectStatus(t, response, body, 200)
	if got := jobNamed(t, server, "build"); got.State != StateQueued || got.Unclaims != 1 {
		t.Errorf("after unclaim: state %s, unclaims %d; want queued, 1", got.State, got.Unclaims)
	}

	second := claim(t, ts, testToken)
	if second.TaskToken == first.TaskToken {
		t.Error("a second claim reused the task token")
	}
	response, body = do(t, ts, "GET", taskproto.PathConfig, first.TaskToken, nil)
	expectError(t, response, body, 404, `task "`+build.ID+`" was returned to the queue; this token no longer acts on it`)
	response, body = do(t, ts, "POST", "/api/v3/runner/unclaim", "", runnerapi.UnclaimRequest{TaskID: build.ID, TaskToken: first.TaskToken})
	expectError(t, response, body, 404, `task "`+build.ID+`" was already returned to the queue by this token`)
}

func TestUnclaimConflictAfterMaxReturns(t *testing.T) {
	server, ts := newTestServer(t, testConfig, func(o *Options) { o.MaxUnclaims = 2 })
	build := jobNamed(t, server, "build")

	for i := 0; i < 2; i++ {
		got := claim(t, ts, testToken)
		response, body := do(t, ts, "POST", "/api/v3/runner/unclaim", "", runnerapi.UnclaimRequest{TaskID: build.ID, TaskToken: got.TaskToken})
		expectStatus(t, response, body, 200)
	}
	got := claim(t, ts, testToken)
	response, body := do(t, ts, "POST", "/api/v3/runner/unclaim", "", runnerapi.UnclaimRequest{TaskID: build.ID, TaskToken: got.TaskToken})
	expectError(t, response, body, 409, `task "`+build.ID+`" was returned to the queue 2 times; no retries are left`)

	if state := jobNamed(t, server, "build").State; state != StateRunning {
		t.Errorf("state after 409 = %s, want running", state)
	}
}

func TestUnclaimDefaultAllowsThree(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	build := jobNamed(t, server, "build")

	statuses := []int{}
	for i := 0; i < 4; i++ {
		got := claim(t, ts, testToken)
		response, _ := do(t, ts, "POST", "/api/v3/runner/unclaim", "", runnerapi.UnclaimRequest{TaskID: build.ID, TaskToken: got.TaskToken})
		statuses = append(statuses, response.StatusCode)
	}
	want := []int{200, 200, 200, 409}
	for i := range want {
		if statuses[i] != want[i] {
			t.Errorf("unclaim %d: status %d, want %d", i+1, statuses[i], want[i])
		}
	}
}

func TestUnclaimCancelledJobIs404(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	got := claim(t, ts, testToken)
	build := jobNamed(t, server, "build")
	if _, err := server.Cancel(build.ID); err != nil {
		t.Fatal(err)
	}

	response, body := do(t, ts, "POST", "/api/v3/runner/unclaim", "", runnerapi.UnclaimRequest{TaskID: build.ID, TaskToken: got.TaskToken})
	expectError(t, response, body, 404, `task "`+build.ID+`" already ended as cancelled`)
}

func TestUnclaimRejections(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	got := claim(t, ts, testToken)
	build := jobNamed(t, server, "build")

	response, body := do(t, ts, "POST", "/api/v3/runner/unclaim", "", runnerapi.UnclaimRequest{TaskID: build.ID, TaskToken: "unknown-task-token-zzzz"})
	expectError(t, response, body, 401, "task token ****zzzz is not valid")

	response, body = do(t, ts, "POST", "/api/v3/runner/unclaim", "", runnerapi.UnclaimRequest{TaskID: "other-id", TaskToken: got.TaskToken})
	expectError(t, response, body, 404, `task "other-id" is not the task of token `+MaskToken(got.TaskToken))

	response, body = do(t, ts, "POST", "/api/v3/runner/unclaim", "", map[string]string{"task_id": build.ID})
	expectError(t, response, body, 400, "invalid request body: missing task_token")
}

func failEvent(allocation, text string) runnerapi.FailEvent {
	return runnerapi.FailEvent{
		Allocation: allocation,
		Timestamp:  time.Now().UnixMilli(),
		Message:    base64.StdEncoding.EncodeToString([]byte(text)),
	}
}

func TestFailEventFailsJob(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	got := claim(t, ts, testToken)

	response, body := do(t, ts, "POST", "/api/v2/task/event/fail", got.TaskToken, failEvent(got.Allocation, "task agent exited with status 2"))
	expectStatus(t, response, body, 200)

	build := jobNamed(t, server, "build")
	if build.State != StateFailed {
		t.Errorf("state = %s, want failed", build.State)
	}
	if len(build.FailEvents) != 1 || build.FailEvents[0].Message != "task agent exited with status 2" {
		t.Errorf("fail events = %+v", build.FailEvents)
	}
	if test := jobNamed(t, server, "test"); test.State != StateBlocked {
		t.Errorf("dependent state = %s, want blocked", test.State)
	}
}

func TestFailEventRejections(t *testing.T) {
	_, ts := newTestServer(t, testConfig, nil)
	got := claim(t, ts, testToken)
	seconds := failEvent(got.Allocation, "x")
	seconds.Timestamp = time.Now().Unix()
	badBase64 := failEvent(got.Allocation, "x")
	badBase64.Message = "not base64!"
	unpadded := failEvent(got.Allocation, "x")
	unpadded.Message = strings.TrimRight(unpadded.Message, "=")

	tests := []struct {
		name    string
		token   string
		body    any
		status  int
		message string
	}{
		{"wrong allocation", got.TaskToken, failEvent("other-allocation", "x"), 404, `allocation "other-allocation" is not the allocation of task token ` + MaskToken(got.TaskToken)},
		{"unknown token", "unknown-task-token-wxyz", failEvent(got.Allocation, "x"), 401, "task token ****wxyz is not valid"},
		{"seconds", got.TaskToken, seconds, 400, "invalid timestamp " + jsonNumber(seconds.Timestamp) + ": send Unix milliseconds"},
		{"float timestamp", got.TaskToken, map[string]any{"allocation": got.Allocation, "timestamp": 1.7e12 + 0.5, "message": "eA=="}, 400, "invalid request body: json: cannot unmarshal number 1700000000000.5 into Go struct field FailEvent.timestamp of type int64"},
		{"string timestamp", got.TaskToken, map[string]any{"allocation": got.Allocation, "timestamp": "1700000000000", "message": "eA=="}, 400, "invalid request body: json: cannot unmarshal string into Go struct field FailEvent.timestamp of type int64"},
		{"bad base64", got.TaskToken, badBase64, 400, "invalid message: want standard padded base64 of UTF-8 text: illegal base64 data at input byte 3"},
		{"unpadded base64", got.TaskToken, unpadded, 400, "invalid message: want standard padded base64 of UTF-8 text: illegal base64 data at input byte 0"},
		{"missing message", got.TaskToken, map[string]any{"allocation": got.Allocation, "timestamp": 1700000000000}, 400, "invalid request body: missing message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			response, body := do(t, ts, "POST", "/api/v2/task/event/fail", tt.token, tt.body)
			expectError(t, response, body, tt.status, tt.message)
		})
	}
}

func jsonNumber(n int64) string {
	data, _ := json.Marshal(n)
	return string(data)
}
