package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// downloadGate serves task agent downloads in front of the local runner API
// and can hold the download of the binary, so a test acts while the agent
// is inside the download instead of sleeping and hoping. It listens on
// 127.0.0.1 only.
type downloadGate struct {
	url      string
	upstream string

	mu   sync.Mutex
	next *heldDownload
}

// heldDownload is one download of the binary that the gate holds. held is
// closed once the agent has received sent bytes of the body. After release
// is closed, the gate sends status when it is set (and sent is negative,
// so no header went out yet), or else cuts the connection.
type heldDownload struct {
	sent    int
	status  int
	held    chan struct{}
	release chan struct{}
}

func newDownloadGate(t *testing.T, upstream string) *downloadGate {
	t.Helper()
	gate := &downloadGate{upstream: upstream}
	server := httptest.NewServer(gate)
	t.Cleanup(server.Close)
	gate.url = server.URL
	return gate
}

// holdHalfway makes the gate send the headers and the first half of the
// next binary download, then wait.
func (g *downloadGate) holdHalfway() *heldDownload {
	return g.arm(&heldDownload{sent: 0})
}

// holdThenFail makes the gate wait before the headers of the next binary
// download, and send status once released.
func (g *downloadGate) holdThenFail(status int) *heldDownload {
	return g.arm(&heldDownload{sent: -1, status: status})
}

// wait waits until the gate holds the download, or fails the test after
// timeout.
func (h *heldDownload) wait(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case <-h.held:
	case <-time.After(timeout):
		t.Fatalf("timed out after %v waiting for the task agent download", timeout)
	}
}

func (g *downloadGate) arm(h *heldDownload) *heldDownload {
	h.held = make(chan struct{})
	h.release = make(chan struct{})

	g.mu.Lock()
	defer g.mu.Unlock()

	g.next = h
	return h
}

func (g *downloadGate) take(path string) *heldDownload {
	g.mu.Lock()
	defer g.mu.Unlock()

	if !strings.HasSuffix(path, "/circleci-agent") {
		return nil
	}
	h := g.next
	g.next = nil
	return h
}

func (g *downloadGate) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	resp, err := http.Get(g.upstream + req.URL.Path)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}

	h := g.take(req.URL.Path)
	if h == nil || resp.StatusCode != http.StatusOK {
		w.WriteHeader(resp.StatusCode)
		w.Write(body)
		return
	}
	if h.sent >= 0 {
		h.sent = len(body) / 2
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body[:h.sent])
		http.NewResponseController(w).Flush()
	}
	close(h.held)

	select {
	case <-h.release:
	case <-req.Context().Done():
		return
	}
	if h.sent < 0 {
		http.Error(w, "held download released with an error", h.status)
		return
	}
	// Cutting the connection leaves the body short of its Content-Length.
	panic(http.ErrAbortHandler)
}
