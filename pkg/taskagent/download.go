package taskagent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"

	"github.com/circleci-runner/circleci-runner/pkg/release"
)

// maxChecksumsBytes bounds checksums.txt. A release lists a few dozen files
// at about 100 bytes a line, so 1 MiB is far above any real file.
const maxChecksumsBytes = 1 << 20

// DownloadError is a failed download or verification of a task agent.
type DownloadError struct {
	Version string
	URL     string // the file that failed, with any password removed
	Err     error
}

func (e *DownloadError) Error() string {
	return fmt.Sprintf("task agent %s: %s: %v", e.Version, e.URL, e.Err)
}

func (e *DownloadError) Unwrap() error {
	return e.Err
}

// download fetches checksums.txt and the binary of version, verifies the
// binary and installs it into the cache. A failed download or verification
// leaves nothing of this download in the cache.
func (c *Cache) download(ctx context.Context, version string) (string, error) {
	expected, err := c.expectedSum(ctx, version)
	if err != nil {
		return "", err
	}

	created, err := c.prepareVersionDir(version)
	if err != nil {
		return "", err
	}

	path, err := c.fetchAndInstall(ctx, version, expected)
	if err != nil && created {
		// Remove the folder this download created, unless another file
		// appeared in it.
		os.Remove(c.versionDir(version))
	}
	return path, err
}

// expectedSum downloads checksums.txt of version and returns the digest it
// lists for the binary of c's architecture.
func (c *Cache) expectedSum(ctx context.Context, version string) (string, error) {
	checksumsURL := c.url(version, "checksums.txt")
	fail := func(err error) error {
		return &DownloadError{Version: version, URL: checksumsURL.Redacted(), Err: err}
	}

	var body bytes.Buffer
	if err := c.fetch(ctx, checksumsURL.String(), maxChecksumsBytes, &body); err != nil {
		return "", fail(err)
	}
	sums, err := release.Parse(&body)
	if err != nil {
		return "", fail(err)
	}

	entry := "linux/" + c.opts.Arch + "/" + binaryName
	sum, ok := sums.Lookup(entry)
	if !ok {
		return "", fail(fmt.Errorf("no entry for %s, so this version has no task agent for %s", entry, c.opts.Arch))
	}
	return sum, nil
}

// fetchAndInstall downloads the binary into a temporary file in the version
// folder, verifies it against expected and renames it into place.
func (c *Cache) fetchAndInstall(ctx context.Context, version, expected string) (string, error) {
	binaryURL := c.url(version, "linux", c.opts.Arch, binaryName)
	fail := func(err error) error {
		return &DownloadError{Version: version, URL: binaryURL.Redacted(), Err: err}
	}

	temp, err := os.CreateTemp(c.versionDir(version), tempPrefix+binaryName+"-*")
	if err != nil {
		return "", fmt.Errorf("task agent cache: %w", err)
	}
	defer removeTemp(temp)

	hash := sha256.New()
	if err := c.fetch(ctx, binaryURL.String(), c.opts.MaxBinaryBytes, io.MultiWriter(temp, hash)); err != nil {
		return "", fail(err)
	}
	if actual := hex.EncodeToString(hash.Sum(nil)); actual != expected {
		return "", fail(fmt.Errorf("SHA-256 mismatch: checksums.txt lists %s, but the download has %s", expected, actual))
	}

	return c.install(temp, version, expected)
}

// fetch writes the body of a GET of rawURL to w. It fails on any status but
// 200 and on a body larger than limit bytes.
func (c *Cache) fetch(ctx context.Context, rawURL string, limit int64, w io.Writer) error {
	requestCtx, cancel := context.WithTimeout(ctx, c.opts.RequestTimeout)
	defer cancel()

	resp, err := c.get(requestCtx, rawURL)
	if err != nil {
		return c.timeoutError(ctx, requestCtx, err)
	}
	defer resp.Body.Close()

	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download failed with status %s", resp.Status)
	}
	if resp.ContentLength > limit {
		return fmt.Errorf("the file has %d bytes, more than the limit of %d bytes", resp.ContentLength, limit)
	}

	written, err := io.Copy(w, io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return c.timeoutError(ctx, requestCtx, fmt.Errorf("download failed: %w", err))
	}
	if written > limit {
		return fmt.Errorf("the file is larger than the limit of %d bytes", limit)
	}
	return nil
}

func (c *Cache) get(ctx context.Context, rawURL string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)

	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		// The *url.Error of http.Client repeats the URL that DownloadError
		// names already.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return nil, err
	}
	return resp, nil
}

// timeoutError names the request timeout in err when requestCtx expired
// while the caller's ctx had not ended.
func (c *Cache) timeoutError(ctx, requestCtx context.Context, err error) error {
	if ctx.Err() == nil && errors.Is(requestCtx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %s: %w", c.opts.RequestTimeout, err)
	}
	return err
}

// url returns BaseURL joined with the path segments.
func (c *Cache) url(segments ...string) *url.URL {
	return c.base.JoinPath(segments...)
}

// removeTemp closes and removes a temporary file. After a successful
// install the file has been renamed, and removing its old name fails
// harmlessly.
func removeTemp(file *os.File) {
	file.Close()
	os.Remove(file.Name())
}
