// Package testdist builds the releases that the package and system tests
// install: the current version for amd64 and arm64, and a newer version
// for amd64 to upgrade to, both in one signed APT repository layout each.
// The builds are cached by a digest of their sources, so test processes that run at the same time, and later runs of
// an unchanged tree, share one build.
package testdist

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/builder"
	"github.com/circleci-runner/circleci-runner/tools/testroot"
)

// SourceDateEpoch is the SOURCE_DATE_EPOCH of every test build
// (2026-01-01 UTC), so that repeated builds can be compared byte for byte.
const SourceDateEpoch = 1767225600

// NewerSuffix is appended to the current version to make the newer one.
const NewerSuffix = "+test.1"

// layoutVersion is part of the cache key. Raise it when the cached layout
// or the way the releases are built changes.
const layoutVersion = "1"

// sourcePaths are the files and folders, relative to the repository root,
// whose content shapes a build: the agent's sources, the maintainer files
// and the builder.
var sourcePaths = []string{"go.mod", "go.sum", "cmd", "pkg", "debian", "tools/builder"}

// keepUnused is how long a cached build that no run has used is kept. A
// run marks its build as used when it starts, and the whole test suite
// takes minutes, so only a run longer than an hour could lose its build.
// Every change of the sources makes a new build of about 40 MB.
const keepUnused = time.Hour

// Release is one build of the release tree and APT repository.
type Release struct {
	// Dir is the release tree, served as it is by the tests.
	Dir     string `json:"dir"`
	Version string `json:"version"`
	// Debs maps an architecture to the path of its .deb in Dir.
	Debs map[string]string `json:"debs"`
	// KeyPath is the throwaway secret key that signed the repository.
	KeyPath string `json:"key_path"`
}

// Keyring returns the path of the repository's public key in binary form,
// as apt's signed-by option reads it.
func (r Release) Keyring() string {
	return filepath.Join(r.Dir, builder.KeyringName+".gpg")
}

// Releases are the two builds the tests need. Both repositories are signed
// with the same key, so a host that trusts one trusts the other.
type Releases struct {
	// Current is pkg/version/VERSION for amd64 and arm64.
	Current Release `json:"current"`
	// Newer is Current's version with NewerSuffix, for amd64 only.
	Newer Release `json:"newer"`
}

// Build returns the cached releases of the tree at repoRoot, building them
// first when the sources changed. A lock file serialises builders in
// other processes, and a build is renamed into place only when complete.
// goCommand is the go command, and log receives progress lines.
func Build(repoRoot, goCommand string, log io.Writer) (Releases, error) {
	key, err := sourceKey(repoRoot)
	if err != nil {
		return Releases{}, fmt.Errorf("hash the release sources: %w", err)
	}
	cache := cacheDir()
	final := filepath.Join(cache, key)
	if releases, err := load(final); err == nil {
		return releases, nil
	}

	unlock, err := testroot.Lock(filepath.Join(cache, "build.lock"))
	if err != nil {
		return Releases{}, err
	}
	defer unlock()
	if releases, err := load(final); err == nil {
		return releases, nil
	}

	keyPath, err := signingKey(cache)
	if err != nil {
		return Releases{}, err
	}
	staging, err := os.MkdirTemp(cache, key+".partial-")
	if err != nil {
		return Releases{}, err
	}
	defer os.RemoveAll(staging)
	if err := build(repoRoot, goCommand, keyPath, staging, log); err != nil {
		return Releases{}, err
	}
	if err := os.Rename(staging, final); err != nil {
		return Releases{}, err
	}
	prune(cache, key, log)
	return load(final)
}

// cacheDir returns where builds are cached: beside the Debian roots as
// root, otherwise in the user's cache folder, because the tests that need
// no root (package contents, lintian) use the builds too.
func cacheDir() string {
	if os.Geteuid() == 0 || os.Getenv("CIRCLECI_RUNNER_TEST_CACHE") != "" {
		return filepath.Join(testroot.CacheDir(), "dist")
	}
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "circleci-runner-test", "dist")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("circleci-runner-test-%d", os.Geteuid()), "dist")
}

// build writes both releases and their manifest into dir.
func build(repoRoot, goCommand, keyPath, dir string, log io.Writer) error {
	version, err := builder.ReadVersion(repoRoot)
	if err != nil {
		return err
	}
	current, err := buildRelease(repoRoot, goCommand, keyPath, filepath.Join(dir, "current"), "", nil, log)
	if err != nil {
		return err
	}
	newer, err := buildRelease(repoRoot, goCommand, keyPath, filepath.Join(dir, "newer"), version+NewerSuffix, []string{"amd64"}, log)
	if err != nil {
		return err
	}
	manifest, err := json.MarshalIndent(Releases{Current: current, Newer: newer}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "manifest.json"), manifest, 0o644)
}

// buildRelease builds one release into dir, with paths in the result
// relative to the cache entry so that the entry can be renamed.
func buildRelease(repoRoot, goCommand, keyPath, dir, version string, arches []string, log io.Writer) (Release, error) {
	signer, err := builder.LoadSigner(keyPath, nil)
	if err != nil {
		return Release{}, err
	}
	start := time.Now()
	result, err := builder.Build(builder.Options{
		RepoRoot: repoRoot,
		OutDir:   dir,
		Version:  version,
		Arches:   arches,
		Signer:   signer,
		Date:     time.Unix(SourceDateEpoch, 0).UTC(),
		Go:       goCommand,
	})
	if err != nil {
		return Release{}, fmt.Errorf("build release into %s: %w", dir, err)
	}
	fmt.Fprintf(log, "testdist: built circleci-runner %s in %s\n", result.Version, time.Since(start).Round(time.Millisecond))

	entry := filepath.Dir(dir)
	release := Release{Dir: filepath.Base(dir), Version: result.Version, Debs: map[string]string{}, KeyPath: keyPath}
	for arch, deb := range result.Debs {
		relative, err := filepath.Rel(entry, deb)
		if err != nil {
			return Release{}, err
		}
		release.Debs[arch] = relative
	}
	return release, nil
}

// load reads the manifest of a complete cache entry and makes its paths
// absolute. It marks the entry as used, which keeps prune from removing it.
func load(entry string) (Releases, error) {
	data, err := os.ReadFile(filepath.Join(entry, "manifest.json"))
	if err != nil {
		return Releases{}, err
	}
	var releases Releases
	if err := json.Unmarshal(data, &releases); err != nil {
		return Releases{}, fmt.Errorf("%s: %w", entry, err)
	}
	for _, release := range []*Release{&releases.Current, &releases.Newer} {
		release.Dir = filepath.Join(entry, release.Dir)
		for arch, deb := range release.Debs {
			release.Debs[arch] = filepath.Join(entry, deb)
		}
	}
	now := time.Now()
	_ = os.Chtimes(entry, now, now)
	return releases, nil
}

// signingKey returns the cache's throwaway signing key, generating it once.
// Its creation date is fixed, so every cache makes the same kind of key.
func signingKey(cache string) (string, error) {
	path := filepath.Join(cache, "signing-key.asc")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	created := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	tmp := path + ".tmp"
	if err := builder.GenerateKey(tmp, "circleci-runner test", "test@circleci-runner.invalid", created); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

// prune removes the other cache entries that no run has used for
// keepUnused, so that the cache does not grow with every change of the
// tree. A failure only leaves an entry behind, so it is logged.
func prune(cache, keep string, log io.Writer) {
	entries, err := os.ReadDir(cache)
	if err != nil {
		return
	}
	for _, entry := range entries {
		if !entry.IsDir() || entry.Name() == keep {
			continue
		}
		info, err := entry.Info()
		if err != nil || time.Since(info.ModTime()) < keepUnused {
			continue
		}
		if err := os.RemoveAll(filepath.Join(cache, entry.Name())); err != nil {
			fmt.Fprintf(log, "testdist: removing the unused build %s failed: %v\n", entry.Name(), err)
		}
	}
}

// sourceKey returns a digest of every file under sourcePaths, the Go
// version and the layout version.
func sourceKey(repoRoot string) (string, error) {
	digest := sha256.New()
	fmt.Fprintf(digest, "layout %s\ngo %s\n", layoutVersion, runtime.Version())
	var files []string
	for _, source := range sourcePaths {
		err := filepath.WalkDir(filepath.Join(repoRoot, source), func(path string, entry fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if entry.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	sort.Strings(files)
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return "", err
		}
		relative, _ := filepath.Rel(repoRoot, path)
		sum := sha256.Sum256(data)
		fmt.Fprintf(digest, "%s %s\n", hex.EncodeToString(sum[:]), relative)
	}
	return hex.EncodeToString(digest.Sum(nil))[:16], nil
}

// GoCommand returns the go command that runs the tests, also when its
// directory is not on PATH.
func GoCommand() string {
	if path, err := exec.LookPath("go"); err == nil {
		return path
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// RepoRoot returns the repository root above the working directory, which
// go test sets to the test's package folder.
func RepoRoot() (string, error) {
	return builder.FindRepoRoot(".")
}
