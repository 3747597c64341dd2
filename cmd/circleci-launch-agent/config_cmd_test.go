package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/circleci-runner/circleci-runner/pkg/config"
)

const testConfig = `# debconf manages the token, name and resource class.
api:
  auth_token: "tok-0123456789abcdef"   # secret
runner:
  name: build-1
  command_prefix: ["/opt/circleci/launch-task"]
`

// configRun is the result of one runConfigCommand call.
type configRun struct {
	status int
	stdout string
	stderr string
}

func runConfig(t *testing.T, stdin string, args ...string) configRun {
	t.Helper()
	var stdout, stderr bytes.Buffer
	status := runConfigCommand(args, strings.NewReader(stdin), &stdout, &stderr)
	return configRun{status: status, stdout: stdout.String(), stderr: stderr.String()}
}

func writeTestConfig(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "launch-agent-config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigGet(t *testing.T) {
	path := writeTestConfig(t, testConfig, 0o600)
	tests := []struct {
		key  string
		want configRun
	}{
		{"runner.name", configRun{status: 0, stdout: "build-1\n"}},
		{"runner.command_prefix", configRun{status: 0, stdout: "[\"/opt/circleci/launch-task\"]\n"}},
		{"runner.mode", configRun{status: 1}},
		{"runner.ssh.advertise_addr", configRun{status: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got := runConfig(t, "", "get", "--config", path, tt.key)

			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestConfigGetMissingFile(t *testing.T) {
	got := runConfig(t, "", "get", "--config", filepath.Join(t.TempDir(), "missing.yaml"), "runner.name")

	if got != (configRun{status: 1}) {
		t.Errorf("got %+v, want status 1 and no output", got)
	}
}

func TestConfigGetRejectsToken(t *testing.T) {
	path := writeTestConfig(t, testConfig, 0o600)

	got := runConfig(t, "", "get", "--config", path, "api.auth_token")

	if got.status != 2 || got.stdout != "" {
		t.Errorf("got %+v, want status 2 and nothing on stdout", got)
	}
	if !strings.Contains(got.stderr, "config has api.auth_token") {
		t.Errorf("stderr %q does not point to config has", got.stderr)
	}
	if strings.Contains(got.stderr, "tok-") {
		t.Errorf("stderr shows the token: %q", got.stderr)
	}
}

func TestConfigUsageErrors(t *testing.T) {
	path := writeTestConfig(t, testConfig, 0o600)
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no command", nil, "Usage: circleci-launch-agent config get"},
		{"unknown command", []string{"show"}, `unknown command "show"; use get, has or set`},
		{"unknown key", []string{"get", "--config", path, "runner.nmae"},
			`circleci-launch-agent config get: unknown key "runner.nmae"; did you mean runner.name?`},
		{"no key", []string{"has", "--config", path}, "config has: expected one KEY, got 0 arguments"},
		{"two keys", []string{"get", "runner.name", "runner.mode"}, "config get: expected one KEY, got 2 arguments"},
		{"unknown flag", []string{"get", "--cofig", path, "runner.name"}, "config get: unknown flag: --cofig"},
		{"token in arguments", []string{"set", "--config", path, "api.auth_token=secret-value"},
			"api.auth_token is not accepted as an argument"},
		{"bad boolean", []string{"set", "--config", path, "runner.cleanup_working_directory=yes"},
			`config set: runner.cleanup_working_directory: "yes" is a YAML 1.1 boolean, which YAML 1.2 reads as text; ` +
				"write true or false"},
		{"not an assignment", []string{"set", "--config", path, "runner.name"},
			`"runner.name" is not KEY=VALUE; write it such as runner.name=my-runner`},
		{"nothing to set", []string{"set", "--config", path}, "expected at least one KEY=VALUE, or --token-stdin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runConfig(t, "", tt.args...)

			if got.status != 2 {
				t.Errorf("status = %d, want 2", got.status)
			}
			if got.stdout != "" {
				t.Errorf("stdout = %q, want nothing", got.stdout)
			}
			if !strings.Contains(got.stderr, tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", got.stderr, tt.stderr)
			}
			if strings.Contains(got.stderr, "secret-value") {
				t.Errorf("stderr shows the token: %q", got.stderr)
			}
		})
	}
}

func TestConfigHas(t *testing.T) {
	path := writeTestConfig(t, testConfig+"  resource_class: \"\"\n", 0o600)
	tests := []struct {
		key    string
		status int
	}{
		{"api.auth_token", 0},
		{"runner.name", 0},
		{"runner.resource_class", 1},
		{"runner.mode", 1},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got := runConfig(t, "", "has", "--config", path, tt.key)

			if got != (configRun{status: tt.status}) {
				t.Errorf("got %+v, want status %d and no output", got, tt.status)
			}
		})
	}
}

func TestConfigSet(t *testing.T) {
	path := writeTestConfig(t, testConfig, 0o640)
	if err := os.Chown(path, 0, 1234); err != nil {
		t.Fatal(err)
	}

	got := runConfig(t, "new-token-abcdef\n", "set", "--config", path, "--token-stdin",
		"runner.name=007", `runner.command_prefix=["/a","/b c"]`, "runner.cleanup_working_directory=true",
		"runner.max_run_time=2h")

	if got != (configRun{status: 0}) {
		t.Fatalf("got %+v, want status 0 and no output", got)
	}
	want := `# debconf manages the token, name and resource class.
api:
  auth_token: "new-token-abcdef"   # secret
runner:
  name: "007"
  command_prefix: ["/a", "/b c"]
  cleanup_working_directory: true
  max_run_time: 2h
`
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != want {
		t.Errorf("file:\n%s\nwant:\n%s", data, want)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o640 {
		t.Errorf("mode = %04o, want 0640 kept", info.Mode().Perm())
	}
	if st := info.Sys().(*syscall.Stat_t); st.Uid != 0 || st.Gid != 1234 {
		t.Errorf("owner = %d:%d, want 0:1234 kept", st.Uid, st.Gid)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the config file", len(entries))
	}
}

func TestConfigSetNewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "launch-agent-config.yaml")

	got := runConfig(t, "tok-0123456789abcdef\r\n", "set", "--config", path, "--token-stdin",
		"runner.name=host-1", "runner.resource_class=acme/linux")

	if got != (configRun{status: 0}) {
		t.Fatalf("got %+v, want status 0 and no output", got)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "runner:\n  name: host-1\n  resource_class: acme/linux\napi:\n  auth_token: tok-0123456789abcdef\n"
	if string(data) != want {
		t.Errorf("file:\n%s\nwant:\n%s", data, want)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode = %04o, want 0600", info.Mode().Perm())
	}
	if st := info.Sys().(*syscall.Stat_t); st.Uid != 0 || st.Gid != 0 {
		t.Errorf("owner = %d:%d, want root", st.Uid, st.Gid)
	}
}

func TestConfigSetThroughSymlink(t *testing.T) {
	target := writeTestConfig(t, testConfig, 0o600)
	link := filepath.Join(t.TempDir(), "link.yaml")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}

	got := runConfig(t, "", "set", "--config", link, "runner.name=host-2")

	if got.status != 0 {
		t.Fatalf("got %+v, want status 0", got)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symbolic link was replaced: %v", err)
	}
	data, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "name: host-2") {
		t.Errorf("target not edited:\n%s", data)
	}
}

func TestConfigSetFailures(t *testing.T) {
	tests := []struct {
		name    string
		content string
		stdin   string
		args    []string
		stderr  string
	}{
		{
			name:    "duplicate keys",
			content: "runner:\n  name: a\n  name: b\n",
			args:    []string{"runner.mode=single-task"},
			stderr:  `line 3: duplicate key "name", first set at line 2; remove one of them`,
		},
		{
			name:    "invalid YAML",
			content: "runner:\n\tname: a\n",
			args:    []string{"runner.mode=single-task"},
			stderr:  "line 2: a tab indents this line, but YAML allows only spaces; replace the tab with spaces",
		},
		{
			name:    "empty token",
			content: testConfig,
			stdin:   "\n",
			args:    []string{"--token-stdin"},
			stderr:  "no token on standard input; write the token as one line",
		},
		{
			name:    "token too long",
			content: testConfig,
			stdin:   strings.Repeat("x", maxTokenLine+1),
			args:    []string{"--token-stdin"},
			stderr:  "the line on standard input is longer than 4096 bytes",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTestConfig(t, tt.content, 0o600)

			got := runConfig(t, tt.stdin, append([]string{"set", "--config", path}, tt.args...)...)

			if got.status != 1 {
				t.Errorf("status = %d, want 1", got.status)
			}
			if !strings.Contains(got.stderr, tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", got.stderr, tt.stderr)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != tt.content {
				t.Errorf("file changed to:\n%s", data)
			}
		})
	}
}

func TestConfigHelp(t *testing.T) {
	tests := []struct {
		args     []string
		contains []string
	}{
		{[]string{"--help"}, []string{"Usage: circleci-launch-agent config get", "runner.max_run_time",
			"LAUNCH_AGENT_RUNNER_WORK_DIR or CIRCLECI_RUNNER_WORK_DIR", "Exit statuses"}},
		{[]string{"help"}, []string{"Commands:"}},
		{[]string{"get", "--help"}, []string{"config get [--config PATH] KEY", "--config string", "api.auth_token is never printed"}},
		{[]string{"has", "-h"}, []string{"config has [--config PATH] KEY", "1 no value or failure"}},
		{[]string{"set", "--help"}, []string{"--token-stdin", "atomically", "mode 0600"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got := runConfig(t, "", tt.args...)

			if got.status != 0 || got.stderr != "" {
				t.Errorf("status %d, stderr %q; want 0 and nothing", got.status, got.stderr)
			}
			for _, s := range tt.contains {
				if !strings.Contains(got.stdout, s) {
					t.Errorf("help lacks %q:\n%s", s, got.stdout)
				}
			}
		})
	}
}

func TestConfigHelpListsEveryKey(t *testing.T) {
	got := runConfig(t, "", "--help")

	for _, k := range config.Keys() {
		if !strings.Contains(got.stdout, k.Key) || !strings.Contains(got.stdout, k.Env) {
			t.Errorf("help lacks %s or %s", k.Key, k.Env)
		}
	}
}

func TestReadTokenLine(t *testing.T) {
	tests := []struct {
		input string
		want  string
	}{
		{"abc\n", "abc"},
		{"abc\r\n", "abc"},
		{"abc", "abc"},
		{"abc\nignored\n", "abc"},
	}
	for _, tt := range tests {
		got, err := readTokenLine(strings.NewReader(tt.input))
		if err != nil || got != tt.want {
			t.Errorf("readTokenLine(%q) = %q, %v; want %q", tt.input, got, err, tt.want)
		}
	}
	if _, err := readTokenLine(io.MultiReader()); err == nil {
		t.Errorf("readTokenLine on empty input succeeded")
	}
}
