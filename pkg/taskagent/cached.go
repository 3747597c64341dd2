package taskagent

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/circleci-runner/circleci-runner/pkg/release"
)

// maxSumFileBytes bounds the digest file beside a cached binary, which
// contains one line of about 82 bytes.
const maxSumFileBytes = 4096

// cached returns the path of the cached binary of version when it is there
// and still matches its recorded digest. A binary that does not match is
// removed, reported to Warn, and reported as not cached.
func (c *Cache) cached(version string) (path string, ok bool, err error) {
	dir := c.versionDir(version)
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err := c.checkVersionDir(dir); err != nil {
		return "", false, err
	}

	path = filepath.Join(dir, binaryName)
	expected, err := readSumFile(path + sumSuffix)
	if errors.Is(err, fs.ErrNotExist) {
		// A crash between the rename of the binary and the rename of its
		// digest file leaves a binary that was verified but not recorded.
		return "", false, nil
	}
	if err == nil {
		err = c.verifyCached(path, expected)
	}
	if err != nil {
		c.warn(fmt.Errorf("task agent %s: cached binary is invalid, downloading it again: %w", version, err))
		return "", false, removeCached(path)
	}

	c.touch(dir)
	return path, true, nil
}

// readSumFile returns the digest recorded in the digest file at path.
func readSumFile(path string) (string, error) {
	file, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer file.Close()

	sums, err := release.Parse(io.LimitReader(file, maxSumFileBytes))
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	sum, ok := sums.Lookup(binaryName)
	if !ok {
		return "", fmt.Errorf("%s has no entry for %s", path, binaryName)
	}
	return sum, nil
}

// verifyFile checks that path is a regular file with the SHA-256 digest
// expected.
func verifyFile(path, expected string) error {
	info, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}

	actual, err := release.FileSHA256(path)
	if err != nil {
		return err
	}
	if actual != expected {
		return fmt.Errorf("%s has SHA-256 %s, but %s%s records %s", path, actual, binaryName, sumSuffix, expected)
	}
	return nil
}

// removeCached removes a cached binary and its digest file.
func removeCached(path string) error {
	for _, name := range []string{path + sumSuffix, path} {
		if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("task agent cache: remove invalid binary: %w", err)
		}
	}
	return nil
}

// touch sets the modification time of a version folder to now, so pruning,
// which removes the oldest folders, keeps the versions in use.
func (c *Cache) touch(dir string) {
	now := time.Now()
	if err := os.Chtimes(dir, now, now); err != nil {
		c.warn(fmt.Errorf("task agent cache: %w", err))
	}
}
