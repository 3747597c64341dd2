package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// defaultSearchPath is used to find a command_prefix program given without a
// slash when the environment has no PATH. It is the usual PATH of root on
// Debian.
const defaultSearchPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// checkCommandPrefix checks the program that command_prefix runs: it must
// exist and be executable, and no user other than root and the agent's user
// may be able to change or replace it, because the agent runs it for every
// task.
func (l *loader) checkCommandPrefix() {
	const key = "runner.command_prefix"
	prefix := l.cfg.Runner.CommandPrefix
	if !l.valid(key) || len(prefix) == 0 {
		return
	}
	if prefix[0] == "" {
		l.problem(key, "the program (item 1) is empty; write its absolute path")
		return
	}

	path, message := l.findProgram(prefix[0])
	if message != "" {
		l.problem(key, message)
		return
	}
	for _, message := range programAccessProblems(path, l.opts.AgentUID) {
		l.problem(key, message)
	}
}

// findProgram returns the path of the program, searching PATH from
// Options.Environ when it has no slash, as exec.LookPath would. Empty PATH
// entries, which mean the current directory, are skipped.
func (l *loader) findProgram(program string) (string, string) {
	if strings.Contains(program, "/") {
		if !filepath.IsAbs(program) {
			return "", fmt.Sprintf("program %q is a relative path; write its absolute path", program)
		}
		if _, err := os.Stat(program); err != nil {
			return "", statMessage(program, err)
		}
		return program, ""
	}

	searchPath := l.searchPath()
	notExecutable := ""
	for _, dir := range filepath.SplitList(searchPath) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue
		}
		candidate := filepath.Join(dir, program)
		info, err := os.Stat(candidate)
		switch {
		case err != nil || info.IsDir():
		case info.Mode()&0o111 != 0:
			return candidate, ""
		case notExecutable == "":
			notExecutable = candidate
		}
	}
	if notExecutable != "" {
		return notExecutable, ""
	}
	return "", fmt.Sprintf("program %q not found in PATH (%s); install it or write its absolute path", program, searchPath)
}

func (l *loader) searchPath() string {
	for _, entry := range l.opts.Environ {
		if value, ok := strings.CutPrefix(entry, "PATH="); ok {
			return value
		}
	}
	return defaultSearchPath
}

func statMessage(program string, err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("program %q not found; install it or correct the path", program)
	}
	return fmt.Sprintf("cannot check program %q: %v", program, err)
}

// programAccessProblems checks the program file, the file a symbolic link
// points to, and every directory above both.
func programAccessProblems(path string, agentUID int) []string {
	info, err := os.Stat(path)
	if err != nil {
		return []string{statMessage(path, err)}
	}
	switch {
	case info.IsDir():
		return []string{fmt.Sprintf("program %q is a directory; write the path of the program file", path)}
	case !info.Mode().IsRegular():
		return []string{fmt.Sprintf("program %q is not a regular file; write the path of the program file", path)}
	}

	var problems []string
	if info.Mode()&0o111 == 0 {
		problems = append(problems, fmt.Sprintf("%q has no execute permission; run chmod 755 %s", path, path))
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return append(problems, fmt.Sprintf("cannot resolve program %q: %v", path, err))
	}
	problems = append(problems, fileWriterProblems(target, info, agentUID)...)
	for _, dir := range ancestors(path, target) {
		problems = append(problems, dirWriterProblems(dir, path, agentUID)...)
	}
	return problems
}

// fileWriterProblems reports a program file that group, others or a user
// other than root and the agent's user could change.
func fileWriterProblems(path string, info fs.FileInfo, agentUID int) []string {
	var problems []string
	if mode := info.Mode().Perm(); mode&0o022 != 0 {
		problems = append(problems, fmt.Sprintf(
			"%q is writable by group or others (mode %04o), so another user could change what the agent runs; run chmod go-w %s",
			path, mode, path))
	}
	if uid, ok := fileOwner(info); ok && uid != 0 && uid != agentUID {
		problems = append(problems, fmt.Sprintf(
			"%q is owned by uid %d, so that user could change what the agent runs; run chown root: %s", path, uid, path))
	}
	return problems
}

// dirWriterProblems reports a directory in which another user could replace
// the program. A sticky directory such as /tmp is safe when the program
// itself is safe, since only a file's owner may rename it there.
func dirWriterProblems(dir, program string, agentUID int) []string {
	info, err := os.Stat(dir)
	if err != nil {
		return []string{fmt.Sprintf("cannot check directory %q of program %q: %v", dir, program, err)}
	}
	var problems []string
	if mode := info.Mode(); mode.Perm()&0o022 != 0 && mode&fs.ModeSticky == 0 {
		problems = append(problems, fmt.Sprintf(
			"directory %q of program %q is writable by group or others (mode %04o), so another user could replace the program; run chmod go-w %s",
			dir, program, mode.Perm(), dir))
	}
	if uid, ok := fileOwner(info); ok && uid != 0 && uid != agentUID {
		problems = append(problems, fmt.Sprintf(
			"directory %q of program %q is owned by uid %d, so that user could replace the program; run chown root: %s",
			dir, program, uid, dir))
	}
	return problems
}

// ancestors returns the directories above each path, deepest first, without
// repeats.
func ancestors(paths ...string) []string {
	var dirs []string
	for _, path := range paths {
		for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
			if !slices.Contains(dirs, dir) {
				dirs = append(dirs, dir)
			}
			if dir == "/" || dir == "." {
				break
			}
		}
	}
	return dirs
}
