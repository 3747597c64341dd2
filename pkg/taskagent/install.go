package taskagent

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/circleci-runner/circleci-runner/pkg/release"
)

// install makes the verified temporary file executable, flushes it and
// renames it to the binary's place, then records its digest beside it. The
// renames are flushed too, so the cache survives a power loss.
func (c *Cache) install(temp *os.File, version, sum string) (string, error) {
	dir := c.versionDir(version)
	path := filepath.Join(dir, binaryName)

	if err := temp.Chmod(0o755); err != nil {
		return "", fmt.Errorf("task agent cache: %w", err)
	}
	if err := temp.Sync(); err != nil {
		return "", fmt.Errorf("task agent cache: sync %s: %w", temp.Name(), err)
	}
	if err := temp.Close(); err != nil {
		return "", fmt.Errorf("task agent cache: %w", err)
	}
	if err := os.Rename(temp.Name(), path); err != nil {
		return "", fmt.Errorf("task agent cache: %w", err)
	}

	if err := writeSumFile(dir, sum); err != nil {
		return "", err
	}
	if err := syncDir(dir); err != nil {
		return "", fmt.Errorf("task agent cache: %w", err)
	}
	if err := syncDir(c.opts.Dir); err != nil {
		return "", fmt.Errorf("task agent cache: %w", err)
	}
	return path, nil
}

// writeSumFile records the verified digest of the binary in dir, in
// checksums.txt format, through a temporary file and a rename.
func writeSumFile(dir, sum string) error {
	var content bytes.Buffer
	if err := release.Write(&content, []release.Entry{{Sum: sum, Path: binaryName}}); err != nil {
		return fmt.Errorf("task agent cache: %w", err)
	}

	temp, err := os.CreateTemp(dir, tempPrefix+binaryName+sumSuffix+"-*")
	if err != nil {
		return fmt.Errorf("task agent cache: %w", err)
	}
	defer removeTemp(temp)

	if _, err := temp.Write(content.Bytes()); err != nil {
		return fmt.Errorf("task agent cache: write %s: %w", temp.Name(), err)
	}
	if err := temp.Chmod(0o644); err != nil {
		return fmt.Errorf("task agent cache: %w", err)
	}
	if err := temp.Sync(); err != nil {
		return fmt.Errorf("task agent cache: sync %s: %w", temp.Name(), err)
	}
	if err := temp.Close(); err != nil {
		return fmt.Errorf("task agent cache: %w", err)
	}
	if err := os.Rename(temp.Name(), filepath.Join(dir, binaryName+sumSuffix)); err != nil {
		return fmt.Errorf("task agent cache: %w", err)
	}
	return nil
}
