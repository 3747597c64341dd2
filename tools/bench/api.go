package bench

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/localapi"
	"github.com/circleci-runner/circleci-runner/tools/taskproto"
)

const (
	resourceClass = "bench/noop"
	claimPath     = "/api/v3/runner/claim"
)

// benchConfig is the CircleCI config of the benchmark repository: one job
// whose step the no-op task agent never runs.
const benchConfig = `version: 2.1
jobs:
  noop:
    machine: true
    resource_class: bench/noop
    steps:
      - run:
          name: Nothing
          command: "true"
workflows:
  bench:
    jobs: [noop]
`

// apiServer is a local runner API on 127.0.0.1 that times claims and task
// configuration requests.
type apiServer struct {
	api      *localapi.Server
	url      string
	token    string
	server   *http.Server
	listener net.Listener
	requests requestLog
}

// startAPI serves a local runner API that hands out taskAgent and has
// queued jobs in its queue.
func startAPI(dir, taskAgent string, queued int) (*apiServer, error) {
	repo := filepath.Join(dir, "repo")
	if err := os.MkdirAll(filepath.Join(repo, ".circleci"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(repo, ".circleci", "config.yml"), []byte(benchConfig), 0o644); err != nil {
		return nil, err
	}

	s := &apiServer{token: "bench-" + randomHex(16)}
	api, err := localapi.New(localapi.Options{
		RepoDir:    repo,
		Tokens:     map[string]string{s.token: resourceClass},
		TaskAgents: map[string]string{runtime.GOARCH: taskAgent},
	})
	if err != nil {
		return nil, err
	}
	s.api = api
	if err := s.fillQueue(queued); err != nil {
		return nil, err
	}

	s.listener, err = localapi.Listen("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.url = "http://" + s.listener.Addr().String()
	s.server = &http.Server{Handler: s.requests.wrap(api.Handler()), ReadHeaderTimeout: 10 * time.Second}
	go s.server.Serve(s.listener)
	return s, nil
}

// fillQueue leaves exactly queued jobs in the queue: the workflow's job,
// then more runs of it, or none when queued is 0.
func (s *apiServer) fillQueue(queued int) error {
	if queued == 0 {
		for _, job := range s.api.Jobs() {
			if _, err := s.api.Cancel(job.ID); err != nil {
				return err
			}
		}
		return nil
	}
	for range queued - 1 {
		if _, err := s.api.Enqueue("noop"); err != nil {
			return err
		}
	}
	return nil
}

func (s *apiServer) close() {
	s.server.Close()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// request is one timed request to the runner API.
type request struct {
	Path      string
	Arrived   time.Time
	Responded time.Time // after the response was flushed to the socket
	Status    int
	// Allocation is the allocation of a claim that returned a task.
	Allocation string
}

// requestLog times the claims and task configuration requests.
type requestLog struct {
	mu       sync.Mutex
	requests []request
	claims   int
}

func (l *requestLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != claimPath && r.URL.Path != taskproto.PathConfig {
			next.ServeHTTP(w, r)
			return
		}
		record := request{Path: r.URL.Path, Arrived: time.Now()}
		captured := &capturingWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(captured, r)
		// The server buffers the response, and flushing puts it on the
		// socket.
		http.NewResponseController(w).Flush()
		record.Responded = time.Now()

		record.Status = captured.status
		if record.Path == claimPath && record.Status == http.StatusOK {
			var claim struct {
				Allocation string `json:"allocation"`
			}
			if err := json.Unmarshal(captured.body.Bytes(), &claim); err == nil {
				record.Allocation = claim.Allocation
			}
		}
		l.add(record)
	})
}

func (l *requestLog) add(record request) {
	l.mu.Lock()
	defer l.mu.Unlock()

	l.requests = append(l.requests, record)
	if record.Path == claimPath {
		l.claims++
	}
}

// list returns every request in arrival order.
func (l *requestLog) list() []request {
	l.mu.Lock()
	defer l.mu.Unlock()

	return append([]request(nil), l.requests...)
}

// claimCount returns the number of claims so far.
func (l *requestLog) claimCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.claims
}

// claimsOf returns the claims among requests.
func claimsOf(requests []request) []request {
	var claims []request
	for _, r := range requests {
		if r.Path == claimPath {
			claims = append(claims, r)
		}
	}
	return claims
}

// capturingWriter keeps the status and body of a response.
type capturingWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *capturingWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *capturingWriter) Write(p []byte) (int, error) {
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *capturingWriter) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}

// readRecords reads the no-op task agent's record file: the time of the
// first statement of each run, by allocation.
func readRecords(path string) (map[string]time.Time, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]time.Time{}, nil
	}
	if err != nil {
		return nil, err
	}
	records := map[string]time.Time{}
	for line := range bytes.Lines(data) {
		var allocation string
		var nanos int64
		if _, err := fmt.Sscan(string(line), &allocation, &nanos); err != nil {
			return nil, fmt.Errorf("%s: invalid line %q: %w", path, line, err)
		}
		records[allocation] = time.Unix(0, nanos)
	}
	return records, nil
}
