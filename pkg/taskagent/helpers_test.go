package taskagent

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/circleci-runner/circleci-runner/pkg/release"
)

// releaseServer is a task agent release tree on 127.0.0.1. It serves files
// by path, and handlers replace the response for a path.
type releaseServer struct {
	server   *httptest.Server
	mu       sync.Mutex
	files    map[string][]byte
	handlers map[string]http.HandlerFunc
	counts   map[string]int
	agents   []string // User-Agent of every request
}

func startReleaseServer(t *testing.T) *releaseServer {
	t.Helper()
	rs := &releaseServer{
		files:    map[string][]byte{},
		handlers: map[string]http.HandlerFunc{},
		counts:   map[string]int{},
	}

	listener, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1: %v", err)
	}
	rs.server = httptest.NewUnstartedServer(http.HandlerFunc(rs.serve))
	rs.server.Listener.Close()
	rs.server.Listener = listener
	rs.server.Start()
	t.Cleanup(rs.server.Close)
	return rs
}

func (rs *releaseServer) serve(w http.ResponseWriter, r *http.Request) {
	rs.mu.Lock()
	rs.counts[r.URL.Path]++
	rs.agents = append(rs.agents, r.Header.Get("User-Agent"))
	handler := rs.handlers[r.URL.Path]
	content, found := rs.files[r.URL.Path]
	rs.mu.Unlock()

	switch {
	case handler != nil:
		handler(w, r)
	case found:
		w.Write(content)
	default:
		http.NotFound(w, r)
	}
}

// publish adds a version with one binary per architecture and a
// checksums.txt that lists them all.
func (rs *releaseServer) publish(t *testing.T, version string, binaries map[string]string) {
	t.Helper()
	var entries []release.Entry
	rs.mu.Lock()
	defer rs.mu.Unlock()

	for arch, content := range binaries {
		path := "linux/" + arch + "/circleci-agent"
		rs.files["/"+version+"/"+path] = []byte(content)
		entries = append(entries, release.Entry{Sum: sha256Hex(content), Path: path})
	}

	var checksums bytes.Buffer
	if err := release.Write(&checksums, entries); err != nil {
		t.Fatalf("write checksums.txt: %v", err)
	}
	rs.files["/"+version+"/checksums.txt"] = checksums.Bytes()
}

func (rs *releaseServer) setFile(path string, content string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()

	rs.files[path] = []byte(content)
}

func (rs *releaseServer) handle(path string, handler http.HandlerFunc) {
	rs.mu.Lock()
	defer rs.mu.Unlock()

	rs.handlers[path] = handler
}

func (rs *releaseServer) count(path string) int {
	rs.mu.Lock()
	defer rs.mu.Unlock()

	return rs.counts[path]
}

func (rs *releaseServer) total() int {
	rs.mu.Lock()
	defer rs.mu.Unlock()

	total := 0
	for _, n := range rs.counts {
		total += n
	}
	return total
}

func sha256Hex(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}

// newTestCache returns a cache in a new folder for rs, for amd64, that
// collects warnings. modify, when not nil, changes the options.
func newTestCache(t *testing.T, rs *releaseServer, modify func(*Options)) (*Cache, *[]error) {
	t.Helper()
	var warnings []error
	opts := Options{
		Dir:       filepath.Join(t.TempDir(), "task-agent"),
		BaseURL:   rs.server.URL,
		Arch:      "amd64",
		UserAgent: "circleci-launch-agent/test",
		Warn:      func(err error) { warnings = append(warnings, err) },
	}
	if modify != nil {
		modify(&opts)
	}
	return New(opts), &warnings
}

// listTree returns the paths below dir, relative to it and sorted.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(dir, func(path string, entry os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir {
			relative, _ := filepath.Rel(dir, path)
			paths = append(paths, relative)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}

	sort.Strings(paths)
	return paths
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(content)
}
