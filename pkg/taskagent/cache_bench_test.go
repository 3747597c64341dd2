package taskagent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/circleci-runner/circleci-runner/pkg/release"
)

// benchmarkSizes are task agent sizes: a small Go program, and about the
// size of CircleCI's circleci-agent.
var benchmarkSizes = []int{2_000_000, 20_000_000}

// BenchmarkGetCached measures Get of a cached task agent, which the claim
// loop calls before every task. "same cache" reuses one Cache, as a running
// agent does; "new cache" makes a Cache for every Get, as after a restart
// or a reload.
func BenchmarkGetCached(b *testing.B) {
	for _, size := range benchmarkSizes {
		b.Run(fmt.Sprintf("same cache/%d bytes", size), func(b *testing.B) {
			opts := downloadedCache(b, size)
			cache := New(opts)
			if _, err := cache.Get(context.Background(), "1.0.0"); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := cache.Get(context.Background(), "1.0.0"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("new cache/%d bytes", size), func(b *testing.B) {
			opts := downloadedCache(b, size)
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := New(opts).Get(context.Background(), "1.0.0"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGetDownload measures a first-use Get: download, check and
// install into an empty cache, over loopback.
func BenchmarkGetDownload(b *testing.B) {
	for _, size := range benchmarkSizes {
		b.Run(fmt.Sprintf("%d bytes", size), func(b *testing.B) {
			baseURL := serveRelease(b, size)
			b.SetBytes(int64(size))
			for b.Loop() {
				cache := New(Options{Dir: b.TempDir(), BaseURL: baseURL, Arch: "amd64"})
				if _, err := cache.Get(context.Background(), "1.0.0"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// downloadedCache returns the options of a cache that contains version
// 1.0.0, a binary of size bytes, whose files were last changed over a
// second ago.
func downloadedCache(b *testing.B, size int) Options {
	b.Helper()
	opts := Options{Dir: b.TempDir(), BaseURL: serveRelease(b, size), Arch: "amd64"}
	if _, err := New(opts).Get(context.Background(), "1.0.0"); err != nil {
		b.Fatal(err)
	}
	time.Sleep(verifiedMinAge + 100*time.Millisecond)
	return opts
}

// serveRelease serves version 1.0.0 with a pseudo-random amd64 binary of
// size bytes on 127.0.0.1 and returns the base URL.
func serveRelease(b *testing.B, size int) string {
	b.Helper()
	binary := make([]byte, size)
	source := rand.NewChaCha8([32]byte{})
	_, _ = source.Read(binary)
	sum := sha256.Sum256(binary)
	var checksums bytes.Buffer
	entry := release.Entry{Sum: hex.EncodeToString(sum[:]), Path: "linux/amd64/circleci-agent"}
	if err := release.Write(&checksums, []release.Entry{entry}); err != nil {
		b.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("/1.0.0/checksums.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Write(checksums.Bytes())
	})
	mux.HandleFunc("/1.0.0/linux/amd64/circleci-agent", func(w http.ResponseWriter, r *http.Request) {
		w.Write(binary)
	})
	listener, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	server := httptest.NewUnstartedServer(mux)
	server.Listener.Close()
	server.Listener = listener
	server.Start()
	b.Cleanup(server.Close)
	return server.URL
}
