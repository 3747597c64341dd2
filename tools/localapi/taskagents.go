package localapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/circleci-runner/circleci-runner/pkg/release"
)

// ChecksumFault selects a fault in the served checksums.txt.
type ChecksumFault string

// Checksum faults.
const (
	ChecksumCorrect ChecksumFault = ""
	ChecksumWrong   ChecksumFault = "wrong"   // each digest is of other bytes
	ChecksumMissing ChecksumFault = "missing" // no line for any binary
)

// taskAgents is the task agent binaries served under /task-agent/, read
// into memory once so their checksums cannot drift from the files served.
type taskAgents struct {
	binaries map[string][]byte // by GOARCH
	modified time.Time

	mu    sync.Mutex
	fault ChecksumFault
}

func loadTaskAgents(paths map[string]string) (*taskAgents, error) {
	agents := &taskAgents{binaries: map[string][]byte{}, modified: time.Now()}
	for arch, path := range paths {
		if arch == "" || strings.ContainsAny(arch, "/ ") {
			return nil, fmt.Errorf("invalid architecture %q for task agent %s", arch, path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read task agent binary for %s: %w", arch, err)
		}
		if len(data) == 0 {
			return nil, fmt.Errorf("task agent binary %s for %s is empty", path, arch)
		}
		agents.binaries[arch] = data
	}
	return agents, nil
}

func (a *taskAgents) setFault(fault ChecksumFault) {
	a.mu.Lock()
	defer a.mu.Unlock()

	a.fault = fault
}

func (a *taskAgents) checksumFault() ChecksumFault {
	a.mu.Lock()
	defer a.mu.Unlock()

	return a.fault
}

// checksums returns checksums.txt, with the current fault applied.
func (a *taskAgents) checksums() ([]byte, error) {
	fault := a.checksumFault()
	var entries []release.Entry
	if fault != ChecksumMissing {
		for arch, data := range a.binaries {
			if fault == ChecksumWrong {
				data = append(append([]byte(nil), data...), "wrong"...)
			}
			sum := sha256.Sum256(data)
			entries = append(entries, release.Entry{Sum: hex.EncodeToString(sum[:]), Path: binaryPath(arch)})
		}
	}

	var out bytes.Buffer
	if err := release.Write(&out, entries); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func binaryPath(arch string) string {
	return "linux/" + arch + "/circleci-agent"
}

// handleTaskAgent serves GET /task-agent/VERSION/checksums.txt and
// GET /task-agent/VERSION/linux/ARCH/circleci-agent for every version that
// a claim handed out.
func (s *Server) handleTaskAgent(w http.ResponseWriter, r *http.Request) {
	version, file, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/task-agent/"), "/")
	s.mu.Lock()
	served := s.served[version]
	s.mu.Unlock()
	if !served {
		writeError(w, http.StatusNotFound, "task agent version %q is not served here", version)
		return
	}

	if file == "checksums.txt" {
		s.serveChecksums(w, r)
		return
	}
	for arch, data := range s.agents.binaries {
		if file == binaryPath(arch) {
			w.Header().Set("Content-Type", "application/octet-stream")
			http.ServeContent(w, r, "circleci-agent", s.agents.modified, bytes.NewReader(data))
			return
		}
	}
	writeError(w, http.StatusNotFound, "no task agent %q in version %q", file, version)
}

func (s *Server) serveChecksums(w http.ResponseWriter, r *http.Request) {
	body, err := s.agents.checksums()
	if err != nil {
		writeErr(w, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	http.ServeContent(w, r, "checksums.txt", s.agents.modified, bytes.NewReader(body))
}

// SetChecksumFault makes checksums.txt serve wrong or missing digests from
// now on; ChecksumCorrect ends the fault.
func (s *Server) SetChecksumFault(fault ChecksumFault) error {
	switch fault {
	case ChecksumCorrect, ChecksumWrong, ChecksumMissing:
		s.agents.setFault(fault)
		return nil
	}
	return fmt.Errorf("invalid checksum fault %q: use wrong, missing or an empty string", fault)
}
