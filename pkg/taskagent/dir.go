package taskagent

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"syscall"

	"github.com/circleci-runner/circleci-runner/pkg/release"
)

// dirMode is the mode of the cache folders: root may write, the circleci
// user that runs jobs may only read and execute.
const dirMode = 0o755

func (c *Cache) validateOptions() error {
	if c.opts.Dir == "" {
		return errors.New("task agent cache: the directory is not set")
	}
	if !filepath.IsAbs(c.opts.Dir) {
		return fmt.Errorf("task agent cache: directory %q is not an absolute path", c.opts.Dir)
	}

	if c.baseErr != nil {
		return c.baseErr
	}
	if err := release.ValidateVersion(c.opts.Arch); err != nil {
		return fmt.Errorf("task agent cache: invalid architecture: %w", err)
	}
	return nil
}

// parseBaseURL parses the base URL of task agent downloads. The error leaves
// out the URL, because it may contain a password.
func parseBaseURL(raw string) (*url.URL, error) {
	base, err := url.Parse(raw)
	if err != nil || base.Scheme != "http" && base.Scheme != "https" || base.Host == "" {
		return nil, errors.New("task agent cache: the base URL is not an http:// or https:// URL with a host; set runner.task_agent_base_url")
	}
	return base, nil
}

// prepareRoot creates Dir when it is missing and checks that no other user
// can change it. Dir may be a symbolic link to a folder.
//
// NOTE: the parents of Dir are not checked, so a parent writable by another
// user would let that user swap Dir.
func (c *Cache) prepareRoot() error {
	dir := c.opts.Dir
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, dirMode); err != nil {
			return fmt.Errorf("task agent cache: create %s: %w", dir, err)
		}
		// MkdirAll applies the umask, which may be stricter or looser.
		if err := os.Chmod(dir, dirMode); err != nil {
			return fmt.Errorf("task agent cache: %w", err)
		}
	}

	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("task agent cache: %w", err)
	}
	return c.checkOwnership(dir, info)
}

// prepareVersionDir creates the folder of version when it is missing, and
// checks it when it exists. It reports whether it created the folder.
func (c *Cache) prepareVersionDir(version string) (created bool, err error) {
	dir := c.versionDir(version)
	err = os.Mkdir(dir, dirMode)
	switch {
	case err == nil:
		created = true
		if err := os.Chmod(dir, dirMode); err != nil {
			return created, fmt.Errorf("task agent cache: %w", err)
		}
	case !errors.Is(err, fs.ErrExist):
		return false, fmt.Errorf("task agent cache: create %s: %w", dir, err)
	}

	return created, c.checkVersionDir(dir)
}

// checkVersionDir checks that dir is a folder, not a symbolic link, and that
// no other user can change it.
func (c *Cache) checkVersionDir(dir string) error {
	info, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("task agent cache: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("task agent cache: %s is not a directory; remove it", dir)
	}
	return c.checkOwnership(dir, info)
}

// checkOwnership rejects a folder that another user could change. The folder
// must not be writable by group or others, and its owner must be root or the
// user that the agent runs as.
func (c *Cache) checkOwnership(dir string, info fs.FileInfo) error {
	if !info.IsDir() {
		return fmt.Errorf("task agent cache: %s is not a directory", dir)
	}
	if perm := info.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("task agent cache: %s is writable by group or others (mode %04o), so another user could replace the task agent; run chmod go-w %s",
			dir, perm, dir)
	}

	stat, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("task agent cache: cannot read the owner of %s", dir)
	}
	euid := c.euid()
	if stat.Uid == 0 || int(stat.Uid) == euid {
		return nil
	}

	owner := fmt.Sprint(euid)
	if euid == 0 {
		owner = "root:root"
	}
	return fmt.Errorf("task agent cache: %s is owned by uid %d, but the launch agent runs as uid %d; run chown -R %s %s",
		dir, stat.Uid, euid, owner, dir)
}

// syncDir flushes the entries of dir to disk, so a rename in it survives a
// power loss.
func syncDir(dir string) error {
	handle, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer handle.Close()

	if err := handle.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
