// Package workdir makes and removes the working directory of each task.
//
// A runner.working_directory template such as /opt/circleci/workdir/%s is
// split at the path element that contains %s. The folder before that element
// is the base, which must already exist. The element becomes the task's own
// directory once %s is replaced by the launch id. Removal happens through
// an os.Root opened on the base, so a task that swaps its directory for a
// symbolic link cannot make cleanup touch anything outside the base.
package workdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Template is a parsed runner.working_directory value.
type Template struct {
	raw string

	// base is the existing folder that the per-task directory is made in.
	base string
	// element is the path element below base that contains %s, or the
	// last element of a template without %s.
	element string
	// rest is the path below element, possibly empty.
	rest string
	// perTask is true when the template contains %s.
	perTask bool
}

// Parse splits a working directory template. The template must be absolute
// and contain %s at most once. pkg/config has already checked that, but
// Parse checks again, because a wrong split here would delete the wrong tree.
func Parse(template string) (Template, error) {
	if !filepath.IsAbs(template) {
		return Template{}, fmt.Errorf("working directory %q is not an absolute path", template)
	}
	if strings.Count(template, "%s") > 1 {
		return Template{}, fmt.Errorf("working directory %q contains %%s more than once", template)
	}

	clean := filepath.Clean(template)
	if clean == "/" {
		return Template{}, fmt.Errorf("working directory %q is the root folder", template)
	}

	t := Template{raw: template, perTask: strings.Contains(clean, "%s")}
	if !t.perTask {
		t.base, t.element = filepath.Split(clean)
		t.base = filepath.Clean(t.base)
		return t, nil
	}

	before, after, _ := strings.Cut(clean, "%s")
	slash := strings.LastIndex(before, "/")
	t.base = filepath.Clean(before[:slash+1])
	t.element = before[slash+1:] + "%s"
	if next := strings.Index(after, "/"); next >= 0 {
		t.element += after[:next]
		t.rest = after[next+1:]
	} else {
		t.element += after
	}
	return t, nil
}

// String returns the template as configured.
func (t Template) String() string { return t.raw }

// Base returns the existing folder that task directories are made in.
func (t Template) Base() string { return t.base }

// PerTask reports whether each task gets a directory of its own.
func (t Template) PerTask() bool { return t.perTask }

// Path returns the working directory of the task with this launch id.
func (t Template) Path(launchID string) string {
	return filepath.Join(t.base, t.elementFor(launchID), t.rest)
}

// Owned returns the directory that cleanup removes (or, without %s,
// empties) for this launch id.
func (t Template) Owned(launchID string) string {
	return filepath.Join(t.base, t.elementFor(launchID))
}

func (t Template) elementFor(launchID string) string {
	return strings.Replace(t.element, "%s", launchID, 1)
}

// matchesLaunchID reports whether a directory entry of the base has the name
// this template gives a task directory.
func (t Template) matchesLaunchID(name string) bool {
	if !t.perTask {
		return false
	}
	prefix, suffix, _ := strings.Cut(t.element, "%s")
	if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) {
		return false
	}
	if len(name) < len(prefix)+len(suffix) {
		return false
	}
	return launchIDPattern.MatchString(name[len(prefix) : len(name)-len(suffix)])
}

var launchIDPattern = regexp.MustCompile(`^` + launchIDExpr + `$`)

// Create makes the task's working directory and returns its path. The base
// must exist. Every directory made takes the owner, group and permission
// bits of the base, so a root agent makes directories that the task's user
// can write when that user owns the base.
func (t Template) Create(launchID string) (string, error) {
	base, err := os.Stat(t.base)
	if err != nil {
		return "", fmt.Errorf("working directory base %s: %w; create it or change runner.working_directory", t.base, err)
	}
	if !base.IsDir() {
		return "", fmt.Errorf("working directory base %s is not a directory", t.base)
	}

	root, err := os.OpenRoot(t.base)
	if err != nil {
		return "", fmt.Errorf("open working directory base %s: %w", t.base, err)
	}
	defer root.Close()

	if err := t.makeDirs(root, launchID, base); err != nil {
		return "", err
	}
	return t.Path(launchID), nil
}

func (t Template) makeDirs(root *os.Root, launchID string, base fs.FileInfo) error {
	uid, gid := ownerOf(base)
	perm := base.Mode().Perm()

	names := []string{t.elementFor(launchID)}
	if t.rest != "" {
		for _, part := range strings.Split(t.rest, "/") {
			names = append(names, filepath.Join(names[len(names)-1], part))
		}
	}

	for i, name := range names {
		err := root.Mkdir(name, perm)
		switch {
		case err == nil:
		case errors.Is(err, fs.ErrExist) && (i > 0 || !t.perTask):
			// A fixed working directory is reused from task to task, and
			// folders below a new per-task directory cannot exist yet
			// unless the template repeats them.
			continue
		default:
			return fmt.Errorf("create working directory %s: %w", filepath.Join(t.base, name), err)
		}
		if err := root.Lchown(name, uid, gid); err != nil {
			return fmt.Errorf("set owner of working directory %s: %w", filepath.Join(t.base, name), err)
		}
		// Mkdir applies the umask, so set the bits of the base explicitly.
		if err := root.Chmod(name, perm); err != nil {
			return fmt.Errorf("set mode of working directory %s: %w", filepath.Join(t.base, name), err)
		}
	}
	return nil
}

func ownerOf(info fs.FileInfo) (uid, gid int) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return -1, -1
	}
	return int(st.Uid), int(st.Gid)
}

// Remove deletes the task's directory, or empties it when the template has
// no %s. Symbolic links are removed, never followed, and nothing outside
// the base is touched.
func (t Template) Remove(launchID string) error {
	root, err := os.OpenRoot(t.base)
	if err != nil {
		return fmt.Errorf("open working directory base %s: %w", t.base, err)
	}
	defer root.Close()

	name := t.elementFor(launchID)
	if t.perTask {
		if err := root.RemoveAll(name); err != nil {
			return fmt.Errorf("remove working directory %s: %w", filepath.Join(t.base, name), err)
		}
		return nil
	}
	return emptyDir(root, name, filepath.Join(t.base, name))
}

// emptyDir removes everything inside name but name itself.
func emptyDir(root *os.Root, name, path string) error {
	info, err := root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("empty working directory %s: %w", path, err)
	}
	if !info.IsDir() {
		// The task replaced the directory with a file or a link: remove
		// that, and the next task creates the directory again.
		if err := root.Remove(name); err != nil {
			return fmt.Errorf("remove %s, which replaced the working directory: %w", path, err)
		}
		return nil
	}

	inner, err := root.OpenRoot(name)
	if err != nil {
		return fmt.Errorf("empty working directory %s: %w", path, err)
	}
	defer inner.Close()

	entries, err := fs.ReadDir(inner.FS(), ".")
	if err != nil {
		return fmt.Errorf("empty working directory %s: %w", path, err)
	}
	var errs []error
	for _, entry := range entries {
		if err := inner.RemoveAll(entry.Name()); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", filepath.Join(path, entry.Name()), err))
		}
	}
	return errors.Join(errs...)
}

// Hold takes an exclusive lock on the task's directory for as long as the
// task runs, so that Sweep in another agent that shares the base leaves it
// alone. The lock ends when release is called or the process exits, so a
// crashed agent's directories can be swept.
func (t Template) Hold(launchID string) (release func(), err error) {
	root, err := os.OpenRoot(t.base)
	if err != nil {
		return nil, fmt.Errorf("open working directory base %s: %w", t.base, err)
	}
	defer root.Close()

	name := t.elementFor(launchID)
	dir, err := root.Open(name)
	if err != nil {
		return nil, fmt.Errorf("lock working directory %s: %w", filepath.Join(t.base, name), err)
	}
	if err := unix.Flock(int(dir.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		dir.Close()
		return nil, fmt.Errorf("lock working directory %s: %w", filepath.Join(t.base, name), err)
	}
	return func() { dir.Close() }, nil
}

// inUse reports whether another process holds the lock that Hold takes on
// the directory name.
func inUse(root *os.Root, name string) bool {
	dir, err := root.OpenFile(name, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return false
	}
	defer dir.Close()

	err = unix.Flock(int(dir.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	return errors.Is(err, unix.EWOULDBLOCK)
}

// Sweep removes task directories that an earlier run of the agent left in
// the base, such as after a crash. A directory that another agent holds
// with Hold is skipped. It returns the paths removed and the errors met;
// one failure does not stop the rest.
func (t Template) Sweep() (removed []string, err error) {
	if !t.perTask {
		return nil, nil
	}

	root, err := os.OpenRoot(t.base)
	if err != nil {
		return nil, fmt.Errorf("open working directory base %s: %w", t.base, err)
	}
	defer root.Close()

	entries, err := fs.ReadDir(root.FS(), ".")
	if err != nil {
		return nil, fmt.Errorf("list working directory base %s: %w", t.base, err)
	}
	var errs []error
	for _, entry := range entries {
		if !t.matchesLaunchID(entry.Name()) {
			continue
		}
		path := filepath.Join(t.base, entry.Name())
		if inUse(root, entry.Name()) {
			continue
		}
		if err := root.RemoveAll(entry.Name()); err != nil {
			errs = append(errs, fmt.Errorf("remove stale working directory %s: %w", path, err))
			continue
		}
		removed = append(removed, path)
	}
	return removed, errors.Join(errs...)
}
