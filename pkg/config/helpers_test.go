package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testToken is a token that passes validation.
const testToken = "0123456789abcdef0123"

// validHead is a file start with the two required keys; runner keys can be
// appended from line 5 on.
const validHead = "api:\n  auth_token: " + testToken + "\nrunner:\n  name: test-runner\n"

// fixture is a directory with programs for command_prefix cases and a place
// for the config file.
type fixture struct {
	dir  string // programs: launch-task (0755), no-exec (0644), writable (0777)
	file string // config file path
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), file: filepath.Join(t.TempDir(), "launch-agent-config.yaml")}
	f.program(t, "launch-task", 0o755)
	f.program(t, "no-exec", 0o644)
	f.program(t, "writable", 0o777)
	return f
}

// program writes a shell script with the given mode, set with chmod so that
// the umask does not change it.
func (f *fixture) program(t *testing.T, name string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(f.dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\nexec \"$@\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// expand replaces @DIR@ with the program directory and @FILE@ with the
// config file path.
func (f *fixture) expand(s string) string {
	return strings.NewReplacer("@DIR@", f.dir, "@FILE@", f.file).Replace(s)
}

// write writes the config file with mode 0600 after expanding placeholders.
func (f *fixture) write(t *testing.T, content string) {
	t.Helper()
	if err := os.WriteFile(f.file, []byte(f.expand(content)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(f.file, 0o600); err != nil {
		t.Fatal(err)
	}
}

// load writes content and loads it with the environment, which may contain
// placeholders.
func (f *fixture) load(t *testing.T, content string, environ ...string) (*Config, []Warning, error) {
	t.Helper()
	f.write(t, content)
	return f.loadFile(environ...)
}

func (f *fixture) loadFile(environ ...string) (*Config, []Warning, error) {
	for i, e := range environ {
		environ[i] = f.expand(e)
	}
	return Load(Options{Path: f.file, Environ: environ, HomeDir: "/home/agent"})
}

// problemLines returns the lines of a *Error, and fails the test for any
// other error.
func problemLines(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var configErr *Error
	if !errors.As(err, &configErr) {
		t.Fatalf("error is %T, not *Error: %v", err, err)
	}
	lines := make([]string, len(configErr.Problems))
	for i, p := range configErr.Problems {
		lines[i] = p.String()
	}
	return lines
}

func warningLines(warnings []Warning) []string {
	var lines []string
	for _, w := range warnings {
		lines = append(lines, w.String())
	}
	return lines
}

// readTestdata returns a file from testdata.
func readTestdata(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
