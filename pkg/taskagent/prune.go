package taskagent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/circleci-runner/circleci-runner/pkg/release"
)

// prune removes the version folders beyond Options.Keep, oldest modification
// time first. It never removes current, and it leaves alone any entry whose
// name is not a valid version. Failures go to Warn, because the binary that
// Get returns is fine either way.
func (c *Cache) prune(current string) {
	versions, err := c.listVersions()
	if err != nil {
		c.warn(fmt.Errorf("task agent cache: prune: %w", err))
		return
	}

	var others []versionFolder
	for _, v := range versions {
		if v.name != current {
			others = append(others, v)
		}
	}
	sort.Slice(others, func(i, j int) bool { return others[i].modified.After(others[j].modified) })

	for _, old := range others[min(len(others), c.opts.Keep-1):] {
		if err := os.RemoveAll(filepath.Join(c.opts.Dir, old.name)); err != nil {
			c.warn(fmt.Errorf("task agent cache: prune version %s: %w", old.name, err))
		}
	}
}

type versionFolder struct {
	name     string
	modified time.Time
}

// listVersions returns the folders in Dir whose names are valid versions.
// Symbolic links are skipped.
func (c *Cache) listVersions() ([]versionFolder, error) {
	entries, err := os.ReadDir(c.opts.Dir)
	if err != nil {
		return nil, err
	}

	var versions []versionFolder
	for _, entry := range entries {
		if !entry.IsDir() || release.ValidateVersion(entry.Name()) != nil {
			continue
		}
		info, err := entry.Info()
		if err != nil {
			continue // removed since ReadDir
		}
		versions = append(versions, versionFolder{name: entry.Name(), modified: info.ModTime()})
	}
	return versions, nil
}

// sweep removes the temporary files that a crash left in the version
// folders. The caller holds the lock file, so no download is in progress.
func (c *Cache) sweep() error {
	versions, err := c.listVersions()
	if err != nil {
		return fmt.Errorf("task agent cache: sweep: %w", err)
	}

	var errs []error
	for _, v := range versions {
		errs = append(errs, sweepFolder(filepath.Join(c.opts.Dir, v.name)))
	}
	return errors.Join(errs...)
}

func sweepFolder(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("task agent cache: sweep: %w", err)
	}

	for _, entry := range entries {
		if !strings.HasPrefix(entry.Name(), tempPrefix) || !entry.Type().IsRegular() {
			continue
		}
		err := os.Remove(filepath.Join(dir, entry.Name()))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("task agent cache: sweep: %w", err)
		}
	}
	return nil
}
