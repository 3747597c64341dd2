package packagetest

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/builder"
	"github.com/circleci-runner/circleci-runner/tools/testdist"
	"github.com/circleci-runner/circleci-runner/tools/testroot"
)

// release is one build of the release tree, made once for all tests.
type release struct {
	dir     string
	version string
	debs    map[string]string // architecture to .deb path
	keyPath string            // the throwaway secret key that signed it
}

var (
	repoRoot string
	// current is the release of pkg/version/VERSION for amd64 and arm64.
	current release
	// newer is a higher version for amd64 only, to test upgrades.
	newer release
	// buildErr is set when the builds failed; every test then fails with it.
	buildErr error
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		// Every test here needs the built packages, and most need root.
		os.Exit(m.Run())
	}
	os.Setenv("SOURCE_DATE_EPOCH", strconv.Itoa(testdist.SourceDateEpoch))
	buildErr = buildReleases()
	os.Exit(m.Run())
}

// buildReleases gets both releases from the build cache that the system
// tests share, so one test run builds them once.
func buildReleases() error {
	var err error
	if repoRoot, err = builder.FindRepoRoot("."); err != nil {
		return err
	}
	releases, err := testdist.Build(repoRoot, goCommand(), os.Stderr)
	if err != nil {
		return err
	}
	current = fromTestdist(releases.Current)
	newer = fromTestdist(releases.Newer)
	return nil
}

func fromTestdist(r testdist.Release) release {
	return release{dir: r.Dir, version: r.Version, debs: r.Debs, keyPath: r.KeyPath}
}

// buildRelease builds a release into dir, for the test that compares two
// builds of the same tree.
func buildRelease(dir, keyPath, version string, arches []string) (release, error) {
	signer, err := builder.LoadSigner(keyPath, nil)
	if err != nil {
		return release{}, err
	}
	start := time.Now()
	result, err := builder.Build(builder.Options{
		RepoRoot: repoRoot,
		OutDir:   dir,
		Version:  version,
		Arches:   arches,
		Signer:   signer,
		Go:       goCommand(),
	})
	if err != nil {
		return release{}, fmt.Errorf("build release into %s: %w", dir, err)
	}
	fmt.Fprintf(os.Stderr, "packagetest: built circleci-runner %s in %s\n", result.Version, time.Since(start).Round(time.Millisecond))
	return release{dir: dir, version: result.Version, debs: result.Debs, keyPath: keyPath}, nil
}

// goCommand returns the go command that runs these tests.
func goCommand() string {
	return testdist.GoCommand()
}

// requireBuild fails the test when the shared builds failed, and skips it
// under -short, where nothing is built.
func requireBuild(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("package tests build packages and need root; skipped under -short")
	}
	if buildErr != nil {
		t.Fatalf("building the packages failed: %v", buildErr)
	}
}

// serve serves dir over HTTP on 127.0.0.1 until the test ends and returns
// its base URL.
func serve(t *testing.T, dir string) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 10 * time.Second}
	go server.Serve(listener)
	t.Cleanup(func() { server.Close() })
	return "http://" + listener.Addr().String()
}

// copyTree copies the regular files and directories of src into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		relative, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, relative)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// amd64Root returns a fresh overlay of the cached bookworm amd64 root.
func amd64Root(t *testing.T) *testroot.Overlay {
	t.Helper()
	requireBuild(t)
	return testroot.NewOverlay(t, testroot.Root(t, testroot.Bookworm))
}

// lines returns the non-empty lines of s.
func lines(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) != "" {
			out = append(out, line)
		}
	}
	return out
}
