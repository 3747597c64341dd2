package runnerapi

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

const (
	testResourceClassToken = "rc-token-0123456789abcdef"
	testTaskToken          = "task-token-fedcba9876543210"
	testUserAgent          = "circleci-launch-agent/9.9.9 (linux; test)"
)

// testNow is the fixed clock of test clients, for Retry-After dates.
var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// recordedRequest is what the fake runner API received.
type recordedRequest struct {
	method string
	path   string
	header http.Header
	body   []byte
}

// fakeAPI is a runner API on 127.0.0.1 that records every request and
// responds to the nth request with responses[n], repeating the last one.
type fakeAPI struct {
	server    *httptest.Server
	mu        sync.Mutex
	requests  []recordedRequest
	responses []http.HandlerFunc
}

func startFakeAPI(t *testing.T, responses ...http.HandlerFunc) *fakeAPI {
	t.Helper()
	api := &fakeAPI{responses: responses}
	api.server = startLocalServer(t, http.HandlerFunc(api.serve))
	return api
}

// startLocalServer starts handler on 127.0.0.1, never on another address.
func startLocalServer(t *testing.T, handler http.Handler) *httptest.Server {
	t.Helper()
	listener, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1: %v", err)
	}

	server := httptest.NewUnstartedServer(handler)
	server.Listener.Close()
	server.Listener = listener
	server.Start()
	t.Cleanup(server.Close)
	return server
}

func (api *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)

	api.mu.Lock()
	index := min(len(api.requests), len(api.responses)-1)
	api.requests = append(api.requests, recordedRequest{
		method: r.Method,
		path:   r.URL.Path,
		header: r.Header.Clone(),
		body:   body,
	})
	respond := api.responses[index]
	api.mu.Unlock()

	respond(w, r)
}

func (api *fakeAPI) requestCount() int {
	api.mu.Lock()
	defer api.mu.Unlock()

	return len(api.requests)
}

func (api *fakeAPI) request(t *testing.T, n int) recordedRequest {
	t.Helper()
	api.mu.Lock()
	defer api.mu.Unlock()

	if n >= len(api.requests) {
		t.Fatalf("the fake API received %d requests, want at least %d", len(api.requests), n+1)
	}
	return api.requests[n]
}

// sleepRecorder replaces Client sleeps: it records each delay and returns at
// once, or returns err when set.
type sleepRecorder struct {
	mu     sync.Mutex
	delays []time.Duration
	err    error
}

func (s *sleepRecorder) sleep(ctx context.Context, delay time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.delays = append(s.delays, delay)
	return s.err
}

func (s *sleepRecorder) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()

	return append([]time.Duration(nil), s.delays...)
}

// newTestClient returns a client for baseURL with a fixed clock, jitter of
// one half and recorded sleeps. modify, when not nil, changes the options.
func newTestClient(baseURL string, modify func(*Options)) (*Client, *sleepRecorder) {
	sleeps := &sleepRecorder{}
	opts := Options{
		BaseURL:        baseURL,
		Token:          testResourceClassToken,
		UserAgent:      testUserAgent,
		RequestTimeout: 5 * time.Second,
		Sleep:          sleeps.sleep,
		Rand:           func() float64 { return 0.5 },
		Now:            func() time.Time { return testNow },
	}
	if modify != nil {
		modify(&opts)
	}
	return New(opts), sleeps
}

// respond returns a handler that writes status, the header pairs and body.
func respond(status int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		if body != "" && w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

const claimBody = `{"task_token":"` + testTaskToken + `","agent_version":"1.0.2-abc","allocation":"alloc-1",` +
	`"resource_class":"acme/linux","warning":"","is_enterprise":false}`

const taskConfigBody = `{"task_id":"task-1","job":{"steps":[]}}`
