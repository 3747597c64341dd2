package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Options are the inputs of Load besides the file itself.
type Options struct {
	// Path is the configuration file, or "" for DefaultPath.
	Path string
	// Environ is the environment in the form of os.Environ. Load reads no
	// other environment, so nil means no overrides.
	Environ []string
	// AgentUID is the uid the agent runs as. Besides root, only this user may
	// own the config file and the command_prefix program.
	AgentUID int
	// HomeDir is the home directory of AgentUID, for a leading ~/ in path
	// keys. When it is "", such a path is a problem.
	HomeDir string
}

// maxFileSize bounds the config file. A real one is well under a kilobyte,
// so a file over 1 MiB is not a launch agent configuration.
const maxFileSize = 1 << 20

// Load reads the configuration file, applies the defaults and then the
// environment, which wins over the file, and validates the result. It returns
// the configuration and the warnings, or an *Error that lists every problem
// found, which includes a missing or unreadable file. The warnings are
// returned in both cases.
func Load(opts Options) (*Config, []Warning, error) {
	l := newLoader(opts)
	l.load()

	sortProblems(l.report.problems)
	sortWarnings(l.report.warnings)
	if len(l.report.problems) > 0 {
		return nil, l.report.warnings, &Error{Problems: l.report.problems}
	}
	return l.cfg, l.report.warnings, nil
}

// loader carries the state of one Load through its steps.
type loader struct {
	opts   Options
	path   string
	report report
	tree   *fileTree
	env    map[string]envValue
	cfg    *Config
	state  map[string]keyState
}

// keyState is the outcome of resolving one key.
type keyState int

const (
	keyUnset   keyState = iota // neither the file nor the environment sets it
	keySet                     // set and converted to its type
	keyInvalid                 // set, but a problem was reported
)

func newLoader(opts Options) *loader {
	path := opts.Path
	if path == "" {
		path = DefaultPath
	}
	return &loader{
		opts:  opts,
		path:  path,
		cfg:   &Config{Path: path, Sources: map[string]Source{}},
		state: map[string]keyState{},
	}
}

func (l *loader) load() {
	l.env = readEnvironment(l.opts.Environ, &l.report)

	data, ok := l.readFile()
	if !ok {
		return
	}
	root, problems := parseYAML(l.path, newText(data))
	if len(problems) > 0 {
		// Without a tree every key would look missing, so stop here.
		l.report.problems = append(l.report.problems, problems...)
		return
	}

	l.tree = walkFile(l.path, root, &l.report)
	l.resolve()
	l.normalize()
	l.validate()
}

// readFile reads the config file and checks who could change it.
func (l *loader) readFile() ([]byte, bool) {
	f, err := os.Open(l.path)
	if err != nil {
		l.fileProblem(readErrorMessage(err))
		return nil, false
	}
	defer f.Close()

	info, err := f.Stat()
	if err != nil {
		l.fileProblem(readErrorMessage(err))
		return nil, false
	}
	if !info.Mode().IsRegular() {
		l.fileProblem("not a regular file; pass the path of the configuration file with --config")
		return nil, false
	}
	l.checkFileAccess(info)

	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		l.fileProblem(readErrorMessage(err))
		return nil, false
	}
	if len(data) > maxFileSize {
		l.fileProblem(fmt.Sprintf("larger than %d bytes, so it is not a launch agent configuration; check the path", maxFileSize))
		return nil, false
	}
	return data, true
}

func readErrorMessage(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "config file not found; run dpkg-reconfigure circleci-runner to write it, or pass its path with --config"
	case errors.Is(err, fs.ErrPermission):
		return "cannot read the config file: permission denied; run the agent as root or as the file's owner"
	default:
		return fmt.Sprintf("cannot read the config file: %v", err)
	}
}

// checkFileAccess rejects a config file that a user other than root and the
// agent's user could change, and warns when others can read the token in it.
// NOTE: the directories above the file are not checked, although a user who
// can write to one of them could replace the file.
func (l *loader) checkFileAccess(info fs.FileInfo) {
	mode := info.Mode().Perm()
	if mode&0o022 != 0 {
		l.fileProblem(fmt.Sprintf(
			"writable by group or others (mode %04o), so another user could change the agent's configuration; run chmod 600 %s",
			mode, l.path))
	}
	if uid, ok := fileOwner(info); ok && uid != 0 && uid != l.opts.AgentUID {
		l.fileProblem(fmt.Sprintf(
			"owned by uid %d, so that user could change the agent's configuration; run chown root: %s", uid, l.path))
	}
	if mode&0o044 != 0 {
		l.report.warn(Problem{File: l.path, Message: fmt.Sprintf(
			"readable by group or others (mode %04o), but it contains the auth token; run chmod 600 %s", mode, l.path)})
	}
}

func fileOwner(info fs.FileInfo) (int, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

func (l *loader) fileProblem(message string) {
	l.report.problem(Problem{File: l.path, Message: message})
}
