package taskagent

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// assertNothingCached checks that the cache folder contains only its lock
// file.
func assertNothingCached(t *testing.T, cache *Cache) {
	t.Helper()
	if diff := cmp.Diff([]string{".lock"}, listTree(t, cache.opts.Dir)); diff != "" {
		t.Errorf("cache contents (-want +got):\n%s", diff)
	}
}

func TestGetChecksumMismatch(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	rs.setFile("/1.0.0/linux/amd64/circleci-agent", "tampered binary")
	cache, _ := newTestCache(t, rs, nil)

	_, err := cache.Get(context.Background(), "1.0.0")

	var downloadErr *DownloadError
	if !errors.As(err, &downloadErr) {
		t.Fatalf("Get error = %v, want a *DownloadError", err)
	}
	if downloadErr.Version != "1.0.0" || downloadErr.URL != rs.server.URL+"/1.0.0/linux/amd64/circleci-agent" {
		t.Errorf("DownloadError = %+v, want the version and the binary URL", downloadErr)
	}
	wantMessage := "SHA-256 mismatch: checksums.txt lists " + sha256Hex(agentAMD64+"1.0.0") +
		", but the download has " + sha256Hex("tampered binary")
	if !strings.Contains(err.Error(), wantMessage) {
		t.Errorf("error = %q, want both digests", err)
	}
	assertNothingCached(t, cache)
}

func TestGetMissingArchEntry(t *testing.T) {
	rs := startReleaseServer(t)
	rs.publish(t, "1.0.0", map[string]string{"amd64": agentAMD64})
	cache, _ := newTestCache(t, rs, func(o *Options) { o.Arch = "arm64" })

	_, err := cache.Get(context.Background(), "1.0.0")

	want := "task agent 1.0.0: " + rs.server.URL + "/1.0.0/checksums.txt: no entry for linux/arm64/circleci-agent, " +
		"so this version has no task agent for arm64"
	if err == nil || err.Error() != want {
		t.Errorf("Get error = %v\nwant %s", err, want)
	}
	if n := rs.count("/1.0.0/linux/arm64/circleci-agent"); n != 0 {
		t.Errorf("binary requests = %d, want none", n)
	}
	assertNothingCached(t, cache)
}

func TestGetDefaultArch(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	cache, _ := newTestCache(t, rs, func(o *Options) { o.Arch = "" })
	if cache.opts.Arch != "amd64" && cache.opts.Arch != "arm64" {
		t.Skipf("the release server publishes no binary for %s", cache.opts.Arch)
	}

	_, err := cache.Get(context.Background(), "1.0.0")

	if err != nil {
		t.Errorf("Get with the default architecture: %v", err)
	}
}

func TestGetNotFound(t *testing.T) {
	tests := map[string]string{
		"checksums": "/1.0.0/checksums.txt",
		"binary":    "/1.0.0/linux/amd64/circleci-agent",
	}
	for name, missing := range tests {
		t.Run(name, func(t *testing.T) {
			rs := startReleaseServer(t)
			publishDefault(t, rs, "1.0.0")
			rs.handle(missing, http.NotFound)
			cache, _ := newTestCache(t, rs, nil)

			_, err := cache.Get(context.Background(), "1.0.0")

			want := "task agent 1.0.0: " + rs.server.URL + missing + ": download failed with status 404 Not Found"
			if err == nil || err.Error() != want {
				t.Errorf("Get error = %v\nwant %s", err, want)
			}
			assertNothingCached(t, cache)
		})
	}
}

func TestGetMalformedChecksums(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	rs.setFile("/1.0.0/checksums.txt", sha256Hex("x")+" *linux/riscv64/circleci-agent\n<html>not found</html>\n")
	cache, _ := newTestCache(t, rs, nil)

	_, err := cache.Get(context.Background(), "1.0.0")

	if err == nil || !strings.Contains(err.Error(), rs.server.URL+"/1.0.0/checksums.txt: checksums.txt line 2: ") {
		t.Errorf("Get error = %v, want the checksums URL and line", err)
	}
	assertNothingCached(t, cache)
}

func TestGetTruncatedBody(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	rs.handle("/1.0.0/linux/amd64/circleci-agent", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, agentAMD64[:10])
	})
	cache, _ := newTestCache(t, rs, nil)

	_, err := cache.Get(context.Background(), "1.0.0")

	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Get error = %v, want io.ErrUnexpectedEOF", err)
	}
	if err != nil && !strings.Contains(err.Error(), "1.0.0/linux/amd64/circleci-agent: download failed: ") {
		t.Errorf("error = %q, want the URL", err)
	}
	assertNothingCached(t, cache)
}

func TestGetOversizeBinary(t *testing.T) {
	tests := map[string]http.HandlerFunc{
		"content length": func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, strings.Repeat("x", 65))
		},
		"chunked": func(w http.ResponseWriter, r *http.Request) {
			for i := 0; i < 5; i++ {
				io.WriteString(w, strings.Repeat("x", 20))
				w.(http.Flusher).Flush()
			}
		},
	}
	wantMessages := map[string]string{
		"content length": "the file has 65 bytes, more than the limit of 64 bytes",
		"chunked":        "the file is larger than the limit of 64 bytes",
	}
	for name, handler := range tests {
		t.Run(name, func(t *testing.T) {
			rs := startReleaseServer(t)
			publishDefault(t, rs, "1.0.0")
			rs.handle("/1.0.0/linux/amd64/circleci-agent", handler)
			cache, _ := newTestCache(t, rs, func(o *Options) { o.MaxBinaryBytes = 64 })

			_, err := cache.Get(context.Background(), "1.0.0")

			if err == nil || !strings.Contains(err.Error(), wantMessages[name]) {
				t.Errorf("Get error = %v, want %q", err, wantMessages[name])
			}
			assertNothingCached(t, cache)
		})
	}
}

func TestGetBinaryAtLimit(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	cache, _ := newTestCache(t, rs, func(o *Options) { o.MaxBinaryBytes = int64(len(agentAMD64 + "1.0.0")) })

	if _, err := cache.Get(context.Background(), "1.0.0"); err != nil {
		t.Errorf("Get of a binary at the limit: %v", err)
	}
}

func TestGetOversizeChecksums(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	rs.setFile("/1.0.0/checksums.txt", strings.Repeat("#", maxChecksumsBytes+1))
	cache, _ := newTestCache(t, rs, nil)

	_, err := cache.Get(context.Background(), "1.0.0")

	if err == nil || !strings.Contains(err.Error(), "/1.0.0/checksums.txt: the file is larger than the limit of 1048576 bytes") {
		t.Errorf("Get error = %v", err)
	}
}

func TestGetTimesOut(t *testing.T) {
	rs := startReleaseServer(t)
	publishDefault(t, rs, "1.0.0")
	rs.handle("/1.0.0/linux/amd64/circleci-agent", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	cache, _ := newTestCache(t, rs, func(o *Options) { o.RequestTimeout = 100 * time.Millisecond })

	_, err := cache.Get(context.Background(), "1.0.0")

	if err == nil || !strings.Contains(err.Error(), "timed out after 100ms") {
		t.Errorf("Get error = %v, want a timeout", err)
	}
	assertNothingCached(t, cache)
}

func TestGetConnectionRefused(t *testing.T) {
	rs := startReleaseServer(t)
	cache, _ := newTestCache(t, rs, nil)
	rs.server.Close()

	_, err := cache.Get(context.Background(), "1.0.0")

	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Get error = %v, want ECONNREFUSED", err)
	}
	if err != nil && strings.Count(err.Error(), "/1.0.0/checksums.txt") != 1 {
		t.Errorf("error = %q, want the URL once", err)
	}
}

func TestGetURLPasswordRedacted(t *testing.T) {
	rs := startReleaseServer(t)
	baseURL := strings.Replace(rs.server.URL, "http://", "http://user:url-secret@", 1)
	cache, _ := newTestCache(t, rs, func(o *Options) { o.BaseURL = baseURL })

	_, err := cache.Get(context.Background(), "1.0.0")

	if err == nil || strings.Contains(err.Error(), "url-secret") {
		t.Errorf("Get error = %v, want an error without the password", err)
	}
}

func TestGetBaseURLWithPath(t *testing.T) {
	rs := startReleaseServer(t)
	rs.publish(t, "1.0.0", map[string]string{"amd64": agentAMD64})
	for path, content := range rs.files {
		rs.files["/releases/circleci-agent"+path] = content
	}
	cache, _ := newTestCache(t, rs, func(o *Options) { o.BaseURL = rs.server.URL + "/releases/circleci-agent/" })

	if _, err := cache.Get(context.Background(), "1.0.0"); err != nil {
		t.Fatalf("Get: %v", err)
	}

	if n := rs.count("/releases/circleci-agent/1.0.0/linux/amd64/circleci-agent"); n != 1 {
		t.Errorf("binary requests below the base path = %d, want 1", n)
	}
}
