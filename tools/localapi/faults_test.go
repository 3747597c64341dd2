package localapi

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func addFault(t *testing.T, server *Server, rule FaultRule) FaultRule {
	t.Helper()
	added, err := server.AddFault(rule)
	if err != nil {
		t.Fatalf("AddFault: %v", err)
	}
	return added
}

func TestFaultStatusWithRetryAfter(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	addFault(t, server, FaultRule{Method: "POST", Path: "/api/v3/runner/claim", Count: 2, Status: 503, RetryAfter: "7"})

	for i := 0; i < 2; i++ {
		response, body := do(t, ts, "POST", "/api/v3/runner/claim", testToken, claimBody)
		expectError(t, response, body, 503, "injected fault 1: status 503")
		if got := response.Header.Get("Retry-After"); got != "7" {
			t.Errorf("Retry-After = %q, want 7", got)
		}
	}
	claim(t, ts, testToken) // the rule is used up

	if rules := server.Faults(); len(rules) != 0 {
		t.Errorf("rules left = %+v, want none", rules)
	}
	if state := jobNamed(t, server, "build").State; state != StateRunning {
		t.Errorf("build state = %s; the faulted claims must not claim it", state)
	}
}

func TestFaultStatusHTTPDateAndBody(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	date := time.Now().Add(time.Minute).UTC().Format(http.TimeFormat)
	addFault(t, server, FaultRule{Path: "/api/v3/*", Status: 429, RetryAfter: date, Body: `{"message":"slow down"}`})

	response, body := do(t, ts, "POST", "/api/v3/runner/claim", testToken, claimBody)
	expectError(t, response, body, 429, "slow down")
	if got := response.Header.Get("Retry-After"); got != date {
		t.Errorf("Retry-After = %q, want %q", got, date)
	}
	response, body = do(t, ts, "POST", "/api/v3/runner/claim", testToken, claimBody)
	expectStatus(t, response, body, 429) // Count 0 applies to every request
	if hits := server.Faults()[0].Hits; hits != 2 {
		t.Errorf("hits = %d, want 2", hits)
	}
}

func TestFaultMatchesMethod(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	addFault(t, server, FaultRule{Method: "GET", Path: "/api/v3/runner/claim", Status: 500})
	claim(t, ts, testToken)
}

func TestFaultDelay(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	addFault(t, server, FaultRule{Path: "/api/v3/runner/claim", Count: 1, Delay: Duration(300 * time.Millisecond)})

	start := time.Now()
	claim(t, ts, testToken)
	if elapsed := time.Since(start); elapsed < 300*time.Millisecond {
		t.Errorf("claim took %s, want at least the 300ms delay", elapsed)
	}
}

func TestFaultTruncate(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	addFault(t, server, FaultRule{Path: "/api/v3/runner/claim", Count: 1, Truncate: true})

	response, body := do(t, ts, "POST", "/api/v3/runner/claim", testToken, claimBody)
	expectStatus(t, response, body, 200)
	if json.Valid(body) {
		t.Errorf("truncated body is valid JSON: %s", body)
	}
	if state := jobNamed(t, server, "build").State; state != StateRunning {
		t.Errorf("build state = %s; a truncated claim still claims", state)
	}
}

func TestFaultHijack(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	addFault(t, server, FaultRule{Path: "/api/v3/runner/claim", Count: 1, Hijack: true})

	data, _ := json.Marshal(claimBody)
	request, _ := http.NewRequest("POST", ts.URL+"/api/v3/runner/claim", strings.NewReader(string(data)))
	request.Header.Set("Content-Type", "application/json; charset=utf-8")
	request.Header.Set("Authorization", "Bearer "+testToken)
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	defer response.Body.Close()
	if response.StatusCode != 200 {
		t.Errorf("status = %d, want 200", response.StatusCode)
	}
	if _, err := io.ReadAll(response.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("read body error = %v, want unexpected EOF", err)
	}

	// The server logs the call after the handler returns, which can be
	// after the client has seen the connection close.
	deadline := time.Now().Add(5 * time.Second)
	calls := server.Calls()
	for len(calls) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		calls = server.Calls()
	}
	if len(calls) == 0 {
		t.Fatal("call log is empty")
	}
	if last := calls[len(calls)-1]; last.Fault != 1 {
		t.Errorf("call log fault = %d, want 1", last.Fault)
	}
}

func TestFaultOversize(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	addFault(t, server, FaultRule{Path: "/api/v3/runner/claim", Count: 1, Oversize: 5 << 20})

	response, body := do(t, ts, "POST", "/api/v3/runner/claim", testToken, claimBody)
	expectStatus(t, response, body, 200)
	if len(body) != 5<<20 {
		t.Errorf("body is %d bytes, want %d", len(body), 5<<20)
	}
	if !json.Valid(body) {
		t.Error("oversized JSON body is not valid JSON")
	}
}

func TestFaultOversizeBinary(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	addFault(t, server, FaultRule{Path: "/task-agent/*", Oversize: 1000})

	response, body := do(t, ts, "GET", "/task-agent/local-1/linux/amd64/circleci-agent", "", nil)
	expectStatus(t, response, body, 200)
	if len(body) != 1000 || !strings.HasPrefix(string(body), testAgentBytes) {
		t.Errorf("body is %d bytes starting %q", len(body), body[:min(len(body), 20)])
	}
}

func TestFaultInvalidJSON(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	claim(t, ts, otherToken) // drain the queue, so the next claim is a 204
	addFault(t, server, FaultRule{Path: "/api/v3/runner/claim", InvalidJSON: true})

	response, body := do(t, ts, "POST", "/api/v3/runner/claim", otherToken, claimBody)
	expectStatus(t, response, body, 200) // a 204 turns into a 200 with a body
	if json.Valid(body) {
		t.Errorf("body %q is valid JSON", body)
	}
}

func TestFaultRuleValidation(t *testing.T) {
	server, _ := newTestServer(t, testConfig, nil)
	tests := []struct {
		rule FaultRule
		want string
	}{
		{FaultRule{Path: "api", Status: 500}, `invalid fault path "api": it must start with /`},
		{FaultRule{Path: "/local/jobs", Status: 500}, `invalid fault path "/local/jobs": /local endpoints cannot be faulted`},
		{FaultRule{Path: "/x"}, "invalid fault: it has no effect; set delay, status, truncate, hijack, oversize or invalid_json"},
		{FaultRule{Path: "/x", Status: 500, Truncate: true}, "invalid fault: use at most one of status, truncate, hijack, oversize and invalid_json"},
		{FaultRule{Path: "/x", Status: 99}, "invalid fault status 99: use 200 to 599"},
		{FaultRule{Path: "/x", Status: 503, RetryAfter: "soon"}, `invalid retry_after "soon": use whole seconds or an HTTP-date`},
		{FaultRule{Path: "/x", Truncate: true, Body: "x"}, "invalid fault: retry_after and body need a status"},
		{FaultRule{Path: "/x", Status: 500, Count: -1}, "invalid fault count -1: use 0 for every request or a positive number"},
		{FaultRule{Path: "/x", Oversize: -5}, "invalid fault oversize -5: use a positive number of bytes"},
	}
	for _, tt := range tests {
		if _, err := server.AddFault(tt.rule); err == nil || err.Error() != tt.want {
			t.Errorf("AddFault(%+v) error = %v, want %q", tt.rule, err, tt.want)
		}
	}
}

func TestFaultsEndpoint(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	request := map[string]any{
		"rules":    []map[string]any{{"path": "/api/v3/runner/claim", "status": 502, "count": 1, "delay": "10ms"}},
		"checksum": "wrong",
	}
	response, body := do(t, ts, "POST", "/local/faults", "", request)
	expectStatus(t, response, body, 200)
	var state faultsBody
	if err := json.Unmarshal(body, &state); err != nil {
		t.Fatal(err)
	}
	if len(state.Rules) != 1 || state.Rules[0].ID != 1 || state.Rules[0].Delay != Duration(10*time.Millisecond) {
		t.Errorf("rules = %+v", state.Rules)
	}
	if *state.Checksum != ChecksumWrong {
		t.Errorf("checksum = %q, want wrong", *state.Checksum)
	}

	response, body = do(t, ts, "POST", "/api/v3/runner/claim", testToken, claimBody)
	expectStatus(t, response, body, 502)

	response, body = do(t, ts, "DELETE", "/local/faults", "", nil)
	expectStatus(t, response, body, 200)
	if rules := server.Faults(); len(rules) != 0 {
		t.Errorf("rules after DELETE = %+v", rules)
	}
	if fault := server.agents.checksumFault(); fault != ChecksumCorrect {
		t.Errorf("checksum fault after DELETE = %q", fault)
	}
}

func TestFaultsEndpointRejections(t *testing.T) {
	_, ts := newTestServer(t, testConfig, nil)
	tests := []struct {
		body    any
		message string
	}{
		{map[string]any{}, "invalid request body: set rules, checksum or both"},
		{map[string]any{"rules": []map[string]any{{"path": "/x", "status": 500}, {"path": "/y"}}}, "rules[1]: invalid fault: it has no effect; set delay, status, truncate, hijack, oversize or invalid_json"},
		{map[string]any{"checksum": "bad"}, `invalid checksum fault "bad": use wrong, missing or an empty string`},
		{map[string]any{"rules": []map[string]any{{"path": "/x", "delay": 5}}}, `invalid request body: invalid duration 5: use a string such as "2s"`},
		{map[string]any{"rules": []map[string]any{{"path": "/x", "stauts": 500}}}, `invalid request body: json: unknown field "stauts"`},
	}
	for _, tt := range tests {
		response, body := do(t, ts, "POST", "/local/faults", "", tt.body)
		expectError(t, response, body, 400, tt.message)
	}
}

func TestTaskAgentDownload(t *testing.T) {
	_, ts := newTestServer(t, testConfig, nil)

	response, body := do(t, ts, "GET", "/task-agent/local-1/linux/arm64/circleci-agent", "", nil)
	expectStatus(t, response, body, 200)
	if string(body) != testAgentBytes {
		t.Errorf("binary = %q", body)
	}

	response, body = do(t, ts, "GET", "/task-agent/local-1/checksums.txt", "", nil)
	expectStatus(t, response, body, 200)
	sum := sha256.Sum256([]byte(testAgentBytes))
	digest := hex.EncodeToString(sum[:])
	want := digest + " *linux/amd64/circleci-agent\n" + digest + " *linux/arm64/circleci-agent\n"
	if string(body) != want {
		t.Errorf("checksums.txt:\n%s\nwant:\n%s", body, want)
	}
}

func TestTaskAgentChecksumFaults(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	sum := sha256.Sum256([]byte(testAgentBytes))
	digest := hex.EncodeToString(sum[:])

	server.SetChecksumFault(ChecksumWrong)
	_, body := do(t, ts, "GET", "/task-agent/local-1/checksums.txt", "", nil)
	if strings.Contains(string(body), digest) || strings.Count(string(body), "\n") != 2 {
		t.Errorf("wrong checksums.txt = %q", body)
	}

	server.SetChecksumFault(ChecksumMissing)
	_, body = do(t, ts, "GET", "/task-agent/local-1/checksums.txt", "", nil)
	if len(body) != 0 {
		t.Errorf("missing checksums.txt = %q, want empty", body)
	}
}

func TestTaskAgentVersions(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)

	response, body := do(t, ts, "GET", "/task-agent/local-2/checksums.txt", "", nil)
	expectError(t, response, body, 404, `task agent version "local-2" is not served here`)
	response, body = do(t, ts, "GET", "/task-agent/local-1/linux/s390x/circleci-agent", "", nil)
	expectError(t, response, body, 404, `no task agent "linux/s390x/circleci-agent" in version "local-1"`)

	server.SetAgentVersion("local-2")
	if got := claim(t, ts, testToken); got.AgentVersion != "local-2" {
		t.Errorf("agent_version = %q, want local-2", got.AgentVersion)
	}
	for _, version := range []string{"local-1", "local-2"} {
		response, body = do(t, ts, "GET", "/task-agent/"+version+"/linux/amd64/circleci-agent", "", nil)
		expectStatus(t, response, body, 200)
	}
}

// TestFaultHijackRawResponse reads the raw bytes of a hijacked response, to
// check that the status line and headers arrive before the connection
// closes.
func TestFaultHijackRawResponse(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	addFault(t, server, FaultRule{Path: "/task-agent/*", Hijack: true})

	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /task-agent/local-1/linux/amd64/circleci-agent HTTP/1.1\r\nHost: x\r\n\r\n")
	response, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	body, err := io.ReadAll(response.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("read error = %v, want unexpected EOF", err)
	}
	if string(body) != testAgentBytes[:len(testAgentBytes)/2] {
		t.Errorf("body = %q, want the first half", body)
	}
}
