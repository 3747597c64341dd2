// Package taskagent downloads, verifies and caches the task agent binary
// that runs a claimed task. A binary is downloaded from
// BASE/VERSION/linux/ARCH/circleci-agent, verified against
// BASE/VERSION/checksums.txt, and renamed into DIR/VERSION/circleci-agent, so
// a crash never leaves a half-written binary in the cache.
package taskagent

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/circleci-runner/circleci-runner/pkg/release"
	"github.com/circleci-runner/circleci-runner/pkg/version"
)

// Defaults for the zero fields of Options.
const (
	DefaultKeep           = 3
	DefaultMaxBinaryBytes = 512 << 20
	DefaultRequestTimeout = 10 * time.Minute
)

const (
	binaryName = "circleci-agent"

	// sumSuffix names the file beside the binary that contains its verified
	// digest in checksums.txt format, so sha256sum --check can read it too.
	sumSuffix = ".sha256"

	// tempPrefix starts the name of every temporary file, so Sweep can
	// find the ones that a crash left behind.
	tempPrefix = ".tmp-"

	lockName = ".lock"
)

// Options configures a Cache. Dir and BaseURL are required.
type Options struct {
	// Dir is the absolute path of the cache, such as
	// /var/lib/circleci-runner/task-agent. It is created 0755 when missing.
	Dir string

	// BaseURL is runner.task_agent_base_url, the folder that contains one
	// folder per task agent version.
	BaseURL string

	// Arch is the GOARCH name in download paths. It defaults to
	// runtime.GOARCH.
	Arch string

	// HTTPClient defaults to a new client with the default transport,
	// which honours the proxy environment variables.
	HTTPClient *http.Client

	// Keep is the number of versions kept, including the newest download.
	// It defaults to 3.
	Keep int

	// MaxBinaryBytes bounds a downloaded binary. It defaults to 512 MiB.
	MaxBinaryBytes int64

	// RequestTimeout bounds each download, from the request to the end of
	// the body. It defaults to 10 minutes.
	RequestTimeout time.Duration

	// UserAgent defaults to version.UserAgent().
	UserAgent string

	// Warn, when set, receives the errors that do not fail Get, such as a
	// failed prune or sweep, or a cached binary that failed verification.
	Warn func(error)
}

// Cache is the task agent cache. It is safe for concurrent use, and a lock
// file keeps processes that share Dir from working on it at the same time.
type Cache struct {
	opts    Options
	base    *url.URL // Options.BaseURL, nil when invalid
	baseErr error
	euid    func() int // os.Geteuid; tests replace it
	mu      sync.Mutex
	swept   bool
	// verified contains the cached binaries hashed by this Cache, by path.
	verified map[string]fileIdentity
}

// New returns a Cache for opts. Invalid options are reported by the first
// call of Get or Sweep.
func New(opts Options) *Cache {
	if opts.Arch == "" {
		opts.Arch = runtime.GOARCH
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	if opts.Keep <= 0 {
		opts.Keep = DefaultKeep
	}
	if opts.MaxBinaryBytes <= 0 {
		opts.MaxBinaryBytes = DefaultMaxBinaryBytes
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = DefaultRequestTimeout
	}
	if opts.UserAgent == "" {
		opts.UserAgent = version.UserAgent()
	}
	base, baseErr := parseBaseURL(opts.BaseURL)
	return &Cache{opts: opts, base: base, baseErr: baseErr, euid: os.Geteuid}
}

// Get returns the path of the verified task agent binary for version,
// downloading it when the cache does not contain it. A cached binary is
// hashed again unless this Cache hashed it before and its file has not
// changed since, and one that no longer matches its recorded digest is
// removed and downloaded again. After a download, versions beyond
// Options.Keep are pruned, oldest first.
func (c *Cache) Get(ctx context.Context, version string) (string, error) {
	if err := release.ValidateVersion(version); err != nil {
		return "", fmt.Errorf("task agent: %w", err)
	}

	c.mu.Lock()
	defer c.mu.Unlock()

	unlock, err := c.open(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()

	path, ok, err := c.cached(version)
	if err != nil || ok {
		return path, err
	}

	path, err = c.download(ctx, version)
	if err != nil {
		return "", err
	}

	c.prune(version)
	return path, nil
}

// Sweep removes temporary files that a crash left in the cache. Get sweeps
// once on its first call, so calling Sweep is needed only to clean up before
// the first task.
func (c *Cache) Sweep(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()

	unlock, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer unlock()

	return c.sweep()
}

// open validates the options, creates and checks Dir, and takes the lock
// file. The first call also sweeps leftovers. The caller holds c.mu.
func (c *Cache) open(ctx context.Context) (unlock func(), err error) {
	if err := c.validateOptions(); err != nil {
		return nil, err
	}
	if err := c.prepareRoot(); err != nil {
		return nil, err
	}

	unlock, err = lockDir(ctx, filepath.Join(c.opts.Dir, lockName))
	if err != nil {
		return nil, err
	}

	if !c.swept {
		c.swept = true
		c.warn(c.sweep())
	}
	return unlock, nil
}

func (c *Cache) warn(err error) {
	if err != nil && c.opts.Warn != nil {
		c.opts.Warn(err)
	}
}

func (c *Cache) versionDir(version string) string {
	return filepath.Join(c.opts.Dir, version)
}
