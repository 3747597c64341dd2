package config

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMask(t *testing.T) {
	tests := []struct {
		token string
		want  string
	}{
		{"", ""},
		{"abc", "****"},
		{"0123456789a", "****"},
		{"0123456789ab", "****89ab"},
		{"0123456789abcdef0123456789abcdef", "****cdef"},
		{"ééééééééééééabcd", "****abcd"},
	}
	for _, tt := range tests {
		if got := Mask(tt.token); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.token, got, tt.want)
		}
	}
}

func TestSettings(t *testing.T) {
	f := newFixture(t)
	content := validHead + "  command_prefix: [\"@DIR@/launch-task\", \"-v\"]\n"
	cfg, _, err := f.load(t, content, "LAUNCH_AGENT_RUNNER_IDLE_TIMEOUT=90m")
	if err != nil {
		t.Fatal(err)
	}

	settings := cfg.Settings()

	want := []Setting{
		{Key: "api.auth_token", Value: "****0123", Source: f.file + ":2:15"},
		{Key: "api.url", Value: "https://runner.circleci.com", Source: "default"},
		{Key: "api.request_timeout", Value: "30s", Source: "default"},
		{Key: "runner.name", Value: "test-runner", Source: f.file + ":4:9"},
		{Key: "runner.resource_class", Value: "", Source: "default"},
		{Key: "runner.command_prefix", Value: `["` + f.dir + `/launch-task", "-v"]`, Source: f.file + ":5:19"},
		{Key: "runner.working_directory", Value: "/opt/circleci/workdir/%s", Source: "default"},
		{Key: "runner.cleanup_working_directory", Value: "false", Source: "default"},
		{Key: "runner.mode", Value: "continuous", Source: "default"},
		{Key: "runner.max_run_time", Value: "5h0m0s", Source: "default"},
		{Key: "runner.idle_timeout", Value: "1h30m0s", Source: "environment LAUNCH_AGENT_RUNNER_IDLE_TIMEOUT"},
		{Key: "runner.disable_auto_update", Value: "false", Source: "default"},
		{Key: "runner.ssh.advertise_addr", Value: "", Source: "default"},
		{Key: "runner.task_agent_directory", Value: "", Source: "default"},
		{Key: "runner.cache_task_agent", Value: "true", Source: "default"},
		{Key: "runner.use_home_ssh_dir_for_checkout_keys", Value: "false", Source: "default"},
		{Key: "runner.task_agent_base_url", Value: DefaultTaskAgentBaseURL, Source: "default"},
		{Key: "runner.claim_interval", Value: "5s", Source: "default"},
		{Key: "runner.cancel_grace_period", Value: "20s", Source: "default"},
		{Key: "logging.file", Value: "", Source: "default"},
		{Key: "logging.level", Value: "info", Source: "default"},
		{Key: "logging.format", Value: "json", Source: "default"},
	}
	if diff := cmp.Diff(want, settings); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
}

func TestSettingsNeverShowToken(t *testing.T) {
	f := newFixture(t)
	cfg, _, err := f.load(t, validHead)
	if err != nil {
		t.Fatal(err)
	}

	for _, s := range cfg.Settings() {
		if strings.Contains(s.Value, testToken) {
			t.Errorf("setting %s shows the token: %q", s.Key, s.Value)
		}
	}
}

// TestFieldsCoverKeys checks that every key has a Config field of the Go
// type that its kind converts to, and a valid default.
func TestFieldsCoverKeys(t *testing.T) {
	var c Config
	for _, spec := range keySpecs {
		field := c.field(spec.key)
		var ok bool
		switch spec.kind {
		case kindString:
			_, ok = field.(*string)
		case kindBool:
			_, ok = field.(*bool)
		case kindDuration:
			_, ok = field.(*time.Duration)
		case kindList:
			_, ok = field.(*[]string)
		}
		if !ok {
			t.Errorf("%s: field %T does not match kind %s", spec.key, field, spec.kind)
		}
		defaultValue(spec) // panics on an invalid default
	}
}

// TestPackageDocListsEveryKey keeps the table in doc.go in step with
// keySpecs.
func TestPackageDocListsEveryKey(t *testing.T) {
	data, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, k := range Keys() {
		row := fmt.Sprintf("//\t%-41s %-54s %-50s ", k.Key, k.Env, k.Alias)
		if !strings.Contains(doc, row) {
			t.Errorf("doc.go has no row starting %q", row)
		}
	}
}

func TestEnvironmentNames(t *testing.T) {
	want := map[string][2]string{
		"api.auth_token":                   {"LAUNCH_AGENT_API_AUTH_TOKEN", "CIRCLECI_RUNNER_API_AUTH_TOKEN"},
		"api.url":                          {"LAUNCH_AGENT_API_URL", "CIRCLECI_RUNNER_API_URL"},
		"runner.name":                      {"LAUNCH_AGENT_RUNNER_NAME", "CIRCLECI_RUNNER_NAME"},
		"runner.resource_class":            {"LAUNCH_AGENT_RUNNER_RESOURCE_CLASS", "CIRCLECI_RUNNER_RESOURCE_CLASS"},
		"runner.command_prefix":            {"LAUNCH_AGENT_RUNNER_COMMAND_PREFIX", "CIRCLECI_RUNNER_COMMAND_PREFIX"},
		"runner.working_directory":         {"LAUNCH_AGENT_RUNNER_WORK_DIR", "CIRCLECI_RUNNER_WORK_DIR"},
		"runner.cleanup_working_directory": {"LAUNCH_AGENT_RUNNER_CLEANUP_WORK_DIR", "CIRCLECI_RUNNER_CLEANUP_WORK_DIR"},
		"runner.mode":                      {"LAUNCH_AGENT_RUNNER_MODE", "CIRCLECI_RUNNER_MODE"},
		"runner.max_run_time":              {"LAUNCH_AGENT_RUNNER_MAX_RUN_TIME", "CIRCLECI_RUNNER_MAX_RUN_TIME"},
		"runner.idle_timeout":              {"LAUNCH_AGENT_RUNNER_IDLE_TIMEOUT", "CIRCLECI_RUNNER_IDLE_TIMEOUT"},
		"runner.disable_auto_update":       {"LAUNCH_AGENT_RUNNER_DISABLE_AUTO_UPDATE", "CIRCLECI_RUNNER_DISABLE_AUTO_UPDATE"},
		"runner.ssh.advertise_addr":        {"LAUNCH_AGENT_RUNNER_SSH_ADVERTISE_ADDR", "CIRCLECI_RUNNER_SSH_ADVERTISE_ADDR"},
		"runner.task_agent_base_url":       {"LAUNCH_AGENT_RUNNER_TASK_AGENT_BASE_URL", "CIRCLECI_RUNNER_TASK_AGENT_BASE_URL"},
		"logging.file":                     {"LAUNCH_AGENT_LOGGING_FILE", "CIRCLECI_RUNNER_LOGGING_FILE"},
		"logging.level":                    {"LAUNCH_AGENT_LOGGING_LEVEL", "CIRCLECI_RUNNER_LOGGING_LEVEL"},
	}
	for _, k := range Keys() {
		names, ok := want[k.Key]
		if !ok {
			continue
		}
		if k.Env != names[0] || k.Alias != names[1] {
			t.Errorf("%s: variables %s, %s; want %s, %s", k.Key, k.Env, k.Alias, names[0], names[1])
		}
	}
}

func TestCheckKey(t *testing.T) {
	tests := []struct {
		key  string
		want string
	}{
		{"runner.name", ""},
		{"runner.ssh.advertise_addr", ""},
		{"runner.ssh", `"runner.ssh" is a section, not a key; name a key in it, such as runner.ssh.advertise_addr`},
		{"runner.nmae", `unknown key "runner.nmae"; did you mean runner.name?`},
		{"auth_token", `unknown key "auth_token"; did you mean api.auth_token?`},
		{"zzz", `unknown key "zzz"; run "circleci-launch-agent config --help" for the list of keys`},
	}
	for _, tt := range tests {
		err := CheckKey(tt.key)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("CheckKey(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		problem Problem
		want    string
	}{
		{Problem{File: "/c.yaml", Line: 3, Column: 5, Key: "runner.mode", Message: "m"}, "/c.yaml:3:5: runner.mode: m"},
		{Problem{File: "/c.yaml", Line: 3, Message: "m"}, "/c.yaml:3: m"},
		{Problem{File: "/c.yaml", Message: "m"}, "/c.yaml: m"},
		{Problem{Env: "LAUNCH_AGENT_RUNNER_MODE", Key: "runner.mode", Message: "m"},
			"environment LAUNCH_AGENT_RUNNER_MODE: runner.mode: m"},
		{Problem{Env: "LAUNCH_AGENT_X", Message: "m"}, "environment LAUNCH_AGENT_X: m"},
	}
	for _, tt := range tests {
		if got := tt.problem.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
		if got := Warning(tt.problem).String(); got != tt.want {
			t.Errorf("Warning String() = %q, want %q", got, tt.want)
		}
	}
}

func TestErrorOnePerLine(t *testing.T) {
	err := &Error{Problems: []Problem{
		{File: "/c.yaml", Line: 1, Column: 1, Key: "api.auth_token", Message: "a"},
		{Env: "LAUNCH_AGENT_RUNNER_MODE", Key: "runner.mode", Message: "b"},
	}}

	want := "/c.yaml:1:1: api.auth_token: a\nenvironment LAUNCH_AGENT_RUNNER_MODE: runner.mode: b"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"name", "name", 0},
		{"nmae", "name", 1},
		{"nam", "name", 1},
		{"naem", "name", 1},
		{"kitten", "sitting", 3},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
