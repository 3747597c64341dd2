package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// defaults returns the configuration of a file with only the two required
// keys, as Load fills it in.
func defaults() Config {
	return Config{
		API: API{AuthToken: testToken, URL: "https://runner.circleci.com", RequestTimeout: 30 * time.Second},
		Runner: Runner{
			Name:              "test-runner",
			WorkingDirectory:  "/opt/circleci/workdir/%s",
			Mode:              ModeContinuous,
			MaxRunTime:        5 * time.Hour,
			CacheTaskAgent:    true,
			TaskAgentBaseURL:  DefaultTaskAgentBaseURL,
			ClaimInterval:     5 * time.Second,
			CancelGracePeriod: 20 * time.Second,
		},
		Logging: Logging{Level: "info", Format: "json"},
	}
}

var ignoreBookkeeping = cmpopts.IgnoreFields(Config{}, "Path", "Sources")

func TestLoadDefaults(t *testing.T) {
	f := newFixture(t)

	cfg, warnings, err := f.load(t, validHead)

	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warningLines(warnings))
	}
	if diff := cmp.Diff(defaults(), *cfg, ignoreBookkeeping); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if cfg.Path != f.file {
		t.Errorf("Path = %q, want %q", cfg.Path, f.file)
	}
	if got := cfg.Sources["runner.mode"]; got != (Source{Kind: SourceDefault}) {
		t.Errorf("source of runner.mode = %v, want default", got)
	}
	if got := cfg.Sources["runner.name"].String(); got != f.file+":4:9" {
		t.Errorf("source of runner.name = %q, want %q", got, f.file+":4:9")
	}
	if len(cfg.Sources) != len(keySpecs) {
		t.Errorf("Sources has %d keys, want %d", len(cfg.Sources), len(keySpecs))
	}
}

func TestLoadReferenceConfig(t *testing.T) {
	f := newFixture(t)
	content := strings.NewReplacer(
		"AUTH_TOKEN", testToken,
		"/opt/circleci/launch-task", "@DIR@/launch-task",
	).Replace(readTestdata(t, "reference.yaml"))

	cfg, _, err := f.load(t, content)

	if err != nil {
		t.Fatal(err)
	}
	want := defaults()
	want.Runner.Name = "RUNNER_NAME"
	want.Runner.ResourceClass = "NAMESPACE/RESOURCE_CLASS"
	want.Runner.CommandPrefix = []string{f.dir + "/launch-task"}
	want.Runner.CleanupWorkingDirectory = true
	if diff := cmp.Diff(want, *cfg, ignoreBookkeeping); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestLoadReferenceConfigPlaceholderToken(t *testing.T) {
	f := newFixture(t)
	content := strings.ReplaceAll(readTestdata(t, "reference.yaml"), "/opt/circleci/launch-task", "@DIR@/launch-task")

	_, _, err := f.load(t, content)

	want := []string{f.expand(`@FILE@:2:15: api.auth_token: "AUTH_TOKEN" is a placeholder; ` +
		"replace it with the resource class token, or run dpkg-reconfigure circleci-runner")}
	if diff := cmp.Diff(want, problemLines(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestLoadLineEndingsAndBOM loads the reference config with CRLF line
// endings, a byte order mark and no final newline.
func TestLoadLineEndingsAndBOM(t *testing.T) {
	base := strings.NewReplacer("AUTH_TOKEN", testToken, "/opt/circleci/launch-task", "@DIR@/launch-task").
		Replace(readTestdata(t, "reference.yaml"))
	crlf := strings.ReplaceAll(base, "\n", "\r\n")
	variants := map[string]string{
		"CRLF":                 crlf,
		"BOM":                  "\ufeff" + base,
		"BOM and CRLF":         "\ufeff" + crlf,
		"no final newline":     strings.TrimSuffix(base, "\n"),
		"CRLF without newline": strings.TrimSuffix(crlf, "\r\n"),
		"CR only":              strings.ReplaceAll(base, "\n", "\r"),
	}
	for name, content := range variants {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)

			cfg, _, err := f.load(t, content)

			if err != nil {
				t.Fatal(err)
			}
			if cfg.API.AuthToken != testToken {
				t.Errorf("token = %q, want %q", cfg.API.AuthToken, testToken)
			}
			if !cfg.Runner.CleanupWorkingDirectory {
				t.Errorf("cleanup_working_directory = false, want true")
			}
			if got := cfg.Sources["runner.name"]; got.Line != 4 || got.Column != 9 {
				t.Errorf("runner.name at %d:%d, want 4:9", got.Line, got.Column)
			}
		})
	}
}

func TestLoadBOMKeepsColumns(t *testing.T) {
	f := newFixture(t)

	_, _, err := f.load(t, "\ufeff"+validHead+"  mode: single\n")

	want := []string{f.expand(`@FILE@:5:9: runner.mode: "single" is not a mode; use continuous or single-task`)}
	if diff := cmp.Diff(want, problemLines(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestLoadStyles(t *testing.T) {
	f := newFixture(t)

	cfg, warnings, err := f.load(t, readTestdata(t, "styles.yaml"))

	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warningLines(warnings))
	}
	want := Config{
		API: API{AuthToken: "0123456789abcdef0123456789abcdef", URL: "http://127.0.0.1:8080", RequestTimeout: 30 * time.Second},
		Runner: Runner{
			Name:                    "007",
			ResourceClass:           "my-namespace/linux_large-2",
			CommandPrefix:           []string{f.dir + "/launch-task", "--verbose"},
			WorkingDirectory:        "/var/opt/circleci/workdir/%s",
			CleanupWorkingDirectory: true,
			Mode:                    ModeContinuous,
			MaxRunTime:              10 * time.Hour,
			SSHAdvertiseAddr:        "runner.example.com:54782",
			CacheTaskAgent:          true,
			TaskAgentBaseURL:        "http://127.0.0.1:8080/agents",
			ClaimInterval:           2 * time.Second,
			CancelGracePeriod:       90 * time.Second,
		},
		Logging: Logging{File: "", Level: "warn", Format: "json"},
	}
	if diff := cmp.Diff(want, *cfg, ignoreBookkeeping); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if got := cfg.Sources["runner.idle_timeout"]; got.Kind != SourceDefault {
		t.Errorf("idle_timeout with no value has source %v, want default", got)
	}
	if got := cfg.Sources["api.auth_token"].String(); got != f.file+":24:17" {
		t.Errorf("source of api.auth_token = %q, want %q", got, f.file+":24:17")
	}
}

func TestLoadFlowMapping(t *testing.T) {
	f := newFixture(t)

	cfg, _, err := f.load(t, readTestdata(t, "flow.yaml"))

	if err != nil {
		t.Fatal(err)
	}
	want := defaults()
	want.API.AuthToken = "flow-token-0123456789abcdef"
	want.Runner.Name = "flow-runner"
	want.Runner.CommandPrefix = []string{f.dir + "/launch-task", "--flag"}
	if diff := cmp.Diff(want, *cfg, ignoreBookkeeping); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestLoadDebconfWritten(t *testing.T) {
	f := newFixture(t)

	cfg, warnings, err := f.load(t, readTestdata(t, "debconf-written.yaml"))

	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warningLines(warnings))
	}
	if cfg.Runner.ResourceClass != "acme/linux-amd64" {
		t.Errorf("resource class = %q", cfg.Runner.ResourceClass)
	}
}

func TestLoadMachineRunner3(t *testing.T) {
	f := newFixture(t)

	cfg, warnings, err := f.load(t, readTestdata(t, "machine-runner-3.yaml"),
		"CIRCLECI_RUNNER_API_AUTH_TOKEN="+testToken,
		"CIRCLECI_RUNNER_COMMAND_PREFIX=@DIR@/launch-task --verbose",
		"CIRCLECI_RUNNER_MAX_RUN_TIME=2h",
		"CIRCLECI_RUNNER_CLAIM_INTERVAL=10s")

	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warningLines(warnings))
	}
	want := Config{
		API: API{AuthToken: testToken, URL: "https://runner.circleci.com", RequestTimeout: 30 * time.Second},
		Runner: Runner{
			Name:                         "mr3-host.example",
			CommandPrefix:                []string{f.dir + "/launch-task", "--verbose"},
			WorkingDirectory:             "/home/agent/workdir",
			CleanupWorkingDirectory:      true,
			Mode:                         ModeSingleTask,
			MaxRunTime:                   2 * time.Hour,
			IdleTimeout:                  30 * time.Minute,
			TaskAgentDirectory:           "/home/agent/.circleci-runner/task-agent",
			UseHomeSSHDirForCheckoutKeys: true,
			TaskAgentBaseURL:             DefaultTaskAgentBaseURL,
			ClaimInterval:                10 * time.Second,
			CancelGracePeriod:            20 * time.Second,
		},
		Logging: Logging{File: "/home/agent/circleci-runner.log", Level: "debug", Format: "text"},
	}
	if diff := cmp.Diff(want, *cfg, ignoreBookkeeping); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	wantSource := Source{Kind: SourceEnv, Name: "CIRCLECI_RUNNER_API_AUTH_TOKEN"}
	if got := cfg.Sources["api.auth_token"]; got != wantSource {
		t.Errorf("source of api.auth_token = %v, want %v", got, wantSource)
	}
}

func TestLoadScalarsForStringKeys(t *testing.T) {
	tests := []struct {
		written string
		want    string
	}{
		{"1e100", "1e100"},
		{"007", "007"},
		{"0x1F", "0x1F"},
		{"1_000", "1_000"},
		{"True", "True"},
		{"yes", "yes"},
		{"'it''s'", "it's"},
		{`"tab\there"`, "tab\there"},
		{"!!str 42", "42"},
		{".inf", ".inf"},
	}
	for _, tt := range tests {
		t.Run(tt.written, func(t *testing.T) {
			f := newFixture(t)

			cfg, _, err := f.load(t, validHead+"  ssh:\n    advertise_addr: "+tt.written+"\n")

			if err != nil {
				t.Fatal(err)
			}
			if cfg.Runner.SSHAdvertiseAddr != tt.want {
				t.Errorf("advertise_addr = %q, want %q", cfg.Runner.SSHAdvertiseAddr, tt.want)
			}
		})
	}
}

func TestLoadNumericName(t *testing.T) {
	for _, name := range []string{"1e100", "007", "2024"} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)

			cfg, _, err := f.load(t, "api:\n  auth_token: "+testToken+"\nrunner:\n  name: "+name+"\n")

			if err != nil {
				t.Fatal(err)
			}
			if cfg.Runner.Name != name {
				t.Errorf("name = %q, want %q", cfg.Runner.Name, name)
			}
		})
	}
}

func TestLoadBooleans(t *testing.T) {
	for written, want := range map[string]bool{
		"true": true, "True": true, "TRUE": true, `"true"`: true,
		"false": false, "False": false, "FALSE": false,
	} {
		t.Run(written, func(t *testing.T) {
			f := newFixture(t)

			cfg, _, err := f.load(t, validHead+"  cache_task_agent: "+written+"\n")

			if err != nil {
				t.Fatal(err)
			}
			if cfg.Runner.CacheTaskAgent != want {
				t.Errorf("cache_task_agent = %v, want %v", cfg.Runner.CacheTaskAgent, want)
			}
		})
	}
}

func TestLoadEmptyValuesAreUnset(t *testing.T) {
	f := newFixture(t)
	content := validHead + "  command_prefix:\n  resource_class: ~\n  mode: null\n" +
		"  working_directory:\n  max_run_time:\nlogging:\n"

	cfg, _, err := f.load(t, content)

	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(defaults(), *cfg, ignoreBookkeeping); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestLoadLoggingFileDash(t *testing.T) {
	f := newFixture(t)

	cfg, _, err := f.load(t, validHead+"logging:\n  file: \"-\"\n")

	if err != nil {
		t.Fatal(err)
	}
	if cfg.Logging.File != "" {
		t.Errorf("logging.file = %q, want \"\" for standard error", cfg.Logging.File)
	}
}

func TestLoadAnchors(t *testing.T) {
	f := newFixture(t)
	content := "api:\n  auth_token: &t " + testToken + "\nrunner: &r\n  name: anchored\n" +
		"  max_run_time: &long 8h\n  idle_timeout: *long\n"

	cfg, _, err := f.load(t, content)

	if err != nil {
		t.Fatal(err)
	}
	if cfg.Runner.IdleTimeout != 8*time.Hour {
		t.Errorf("idle_timeout = %v, want 8h", cfg.Runner.IdleTimeout)
	}
	if got := cfg.Sources["runner.idle_timeout"]; got.Line != 6 || got.Column != 17 {
		t.Errorf("idle_timeout source at %d:%d, want the alias at 6:17", got.Line, got.Column)
	}
}

func TestLoadCommandPrefixFromPath(t *testing.T) {
	f := newFixture(t)

	cfg, _, err := f.load(t, validHead+"  command_prefix: [launch-task, --flag]\n", "PATH=/nonexistent::@DIR@")

	if err != nil {
		t.Fatal(err)
	}
	want := []string{"launch-task", "--flag"}
	if diff := cmp.Diff(want, cfg.Runner.CommandPrefix); diff != "" {
		t.Errorf("command_prefix (-want +got):\n%s", diff)
	}
}

func TestLoadCommandPrefixHome(t *testing.T) {
	f := newFixture(t)

	_, _, err := f.load(t, validHead+"  command_prefix: [\"~/bin/launch\"]\n")

	want := []string{f.expand(`@FILE@:5:19: runner.command_prefix: program "/home/agent/bin/launch" not found; ` +
		"install it or correct the path")}
	if diff := cmp.Diff(want, problemLines(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestLoadEnvironment(t *testing.T) {
	f := newFixture(t)
	content := validHead + "  mode: continuous\n  command_prefix: [\"@DIR@/no-exec\"]\n"

	cfg, warnings, err := f.load(t, content,
		"HOME=/root",
		"LAUNCH_AGENT_RUNNER_MODE=single-task",
		"LAUNCH_AGENT_RUNNER_NAME=",
		"CIRCLECI_RUNNER_NAME=from-alias",
		`LAUNCH_AGENT_RUNNER_COMMAND_PREFIX=["@DIR@/launch-task", "--a b"]`,
		"LAUNCH_AGENT_RUNNER_CLEANUP_WORK_DIR=True",
		"LAUNCH_AGENT_API_URL=http://127.0.0.1:9999/",
		"LAUNCH_AGENT_LOGGING_FILE=-",
		"LAUNCH_AGENT_RUNNER_MODE=continuous")

	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warningLines(warnings))
	}
	want := defaults()
	want.API.URL = "http://127.0.0.1:9999"
	want.Runner.Name = "from-alias"
	want.Runner.Mode = ModeSingleTask
	want.Runner.CommandPrefix = []string{f.dir + "/launch-task", "--a b"}
	want.Runner.CleanupWorkingDirectory = true
	if diff := cmp.Diff(want, *cfg, ignoreBookkeeping); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	wantSources := map[string]string{
		"runner.mode":           "environment LAUNCH_AGENT_RUNNER_MODE",
		"runner.name":           "environment CIRCLECI_RUNNER_NAME",
		"runner.command_prefix": "environment LAUNCH_AGENT_RUNNER_COMMAND_PREFIX",
		"logging.file":          "environment LAUNCH_AGENT_LOGGING_FILE",
		"api.auth_token":        f.file + ":2:15",
		"runner.max_run_time":   "default",
	}
	for key, want := range wantSources {
		if got := cfg.Sources[key].String(); got != want {
			t.Errorf("source of %s = %q, want %q", key, got, want)
		}
	}
}

func TestLoadEnvironmentListSplitsOnWhitespace(t *testing.T) {
	f := newFixture(t)

	cfg, _, err := f.load(t, validHead, "LAUNCH_AGENT_RUNNER_COMMAND_PREFIX=  @DIR@/launch-task\t-u  circleci ")

	if err != nil {
		t.Fatal(err)
	}
	want := []string{f.dir + "/launch-task", "-u", "circleci"}
	if diff := cmp.Diff(want, cfg.Runner.CommandPrefix); diff != "" {
		t.Errorf("command_prefix (-want +got):\n%s", diff)
	}
}

func TestLoadEnvironmentOverridesInvalidFileValue(t *testing.T) {
	f := newFixture(t)

	cfg, _, err := f.load(t, validHead+"  max_run_time: 300\n", "LAUNCH_AGENT_RUNNER_MAX_RUN_TIME=1h")

	if err != nil {
		t.Fatal(err)
	}
	if cfg.Runner.MaxRunTime != time.Hour {
		t.Errorf("max_run_time = %v, want 1h", cfg.Runner.MaxRunTime)
	}
}

func TestLoadWarnings(t *testing.T) {
	tests := []struct {
		name    string
		content string
		environ []string
		want    []string
	}{
		{
			name:    "old api.host",
			content: "api:\n  host: https://runner.example.com/\n  auth_token: " + testToken + "\nrunner:\n  name: r\n",
			want:    []string{"@FILE@:2:9: api.host: api.host is the old name of api.url; rename the key to url"},
		},
		{
			name: "api.host next to api.url",
			content: "api:\n  host: https://old.example.com\n  url: https://runner.example.com\n" +
				"  auth_token: " + testToken + "\nrunner:\n  name: r\n",
			want: []string{"@FILE@:2:9: api.host: ignored because api.url is also set; remove api.host"},
		},
		{
			name:    "claim interval below a second",
			content: validHead + "  claim_interval: 200ms\n",
			want: []string{"@FILE@:5:19: runner.claim_interval: 200ms is below 1s, so an idle agent claims " +
				"more than once a second; use 1s or more"},
		},
		{
			name:    "misspelled variable",
			content: validHead,
			environ: []string{"LAUNCH_AGENT_RUNER_MODE=single-task"},
			want: []string{"environment LAUNCH_AGENT_RUNER_MODE: names no configuration key and is ignored; " +
				"did you mean LAUNCH_AGENT_RUNNER_MODE?"},
		},
		{
			name:    "misspelled alias",
			content: validHead,
			environ: []string{"CIRCLECI_RUNNER_WORKDIR=/tmp/%s"},
			want: []string{"environment CIRCLECI_RUNNER_WORKDIR: names no configuration key and is ignored; " +
				"did you mean CIRCLECI_RUNNER_WORK_DIR?"},
		},
		{
			name:    "unrelated variable with our prefix",
			content: validHead,
			environ: []string{"LAUNCH_AGENT_SOMETHING_ELSE_ENTIRELY=1"},
			want: []string{"environment LAUNCH_AGENT_SOMETHING_ELSE_ENTIRELY: names no configuration key and is " +
				`ignored; run "circleci-launch-agent config --help" for the list of variables`},
		},
		{
			name:    "both names set",
			content: validHead,
			environ: []string{"CIRCLECI_RUNNER_MODE=continuous", "LAUNCH_AGENT_RUNNER_MODE=single-task"},
			want: []string{"environment CIRCLECI_RUNNER_MODE: runner.mode: ignored because " +
				"LAUNCH_AGENT_RUNNER_MODE is also set; unset one of them"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)

			cfg, warnings, err := f.load(t, tt.content, tt.environ...)

			if err != nil {
				t.Fatal(err)
			}
			if cfg == nil {
				t.Fatal("no configuration")
			}
			want := make([]string, len(tt.want))
			for i, line := range tt.want {
				want[i] = f.expand(line)
			}
			if diff := cmp.Diff(want, warningLines(warnings)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadBothNamesLaunchAgentWins(t *testing.T) {
	f := newFixture(t)

	cfg, _, err := f.load(t, validHead, "CIRCLECI_RUNNER_MODE=continuous", "LAUNCH_AGENT_RUNNER_MODE=single-task")

	if err != nil {
		t.Fatal(err)
	}
	if cfg.Runner.Mode != ModeSingleTask {
		t.Errorf("mode = %q, want %q", cfg.Runner.Mode, ModeSingleTask)
	}
}

func TestLoadOldAPIHostSetsURL(t *testing.T) {
	f := newFixture(t)

	cfg, _, err := f.load(t, "api:\n  host: https://runner.example.com/\n  auth_token: "+testToken+"\nrunner:\n  name: r\n")

	if err != nil {
		t.Fatal(err)
	}
	if cfg.API.URL != "https://runner.example.com" {
		t.Errorf("api.url = %q, want https://runner.example.com", cfg.API.URL)
	}
}

func TestLoadConfigFileAccess(t *testing.T) {
	const otherUID = 1234
	tests := []struct {
		name     string
		mode     os.FileMode
		owner    int
		agentUID int
		problems []string
		warnings []string
	}{
		{
			name: "mode 0600 root", mode: 0o600,
		},
		{
			name: "mode 0644 warns", mode: 0o644,
			warnings: []string{"@FILE@: readable by group or others (mode 0644), but it contains the auth token; " +
				"run chmod 600 @FILE@"},
		},
		{
			name: "mode 0640 warns", mode: 0o640,
			warnings: []string{"@FILE@: readable by group or others (mode 0640), but it contains the auth token; " +
				"run chmod 600 @FILE@"},
		},
		{
			name: "mode 0666 rejected", mode: 0o666,
			problems: []string{"@FILE@: writable by group or others (mode 0666), so another user could change " +
				"the agent's configuration; run chmod 600 @FILE@"},
			warnings: []string{"@FILE@: readable by group or others (mode 0666), but it contains the auth token; " +
				"run chmod 600 @FILE@"},
		},
		{
			name: "mode 0620 rejected", mode: 0o620,
			problems: []string{"@FILE@: writable by group or others (mode 0620), so another user could change " +
				"the agent's configuration; run chmod 600 @FILE@"},
		},
		{
			name: "owned by another user", mode: 0o600, owner: otherUID,
			problems: []string{"@FILE@: owned by uid 1234, so that user could change the agent's configuration; " +
				"run chown root: @FILE@"},
		},
		{
			name: "owned by the agent's user", mode: 0o600, owner: otherUID, agentUID: otherUID,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.write(t, validHead)
			if err := os.Chmod(f.file, tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(f.file, tt.owner, tt.owner); err != nil {
				t.Fatal(err)
			}

			_, warnings, err := Load(Options{Path: f.file, AgentUID: tt.agentUID})

			if diff := cmp.Diff(expandAll(f, tt.problems), problemLines(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(expandAll(f, tt.warnings), warningLines(warnings)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func expandAll(f *fixture, lines []string) []string {
	var expanded []string
	for _, line := range lines {
		expanded = append(expanded, f.expand(line))
	}
	return expanded
}

func TestLoadConfigFileUnreadable(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		path string
		want string
	}{
		{
			name: "missing",
			path: filepath.Join(f.dir, "missing.yaml"),
			want: "@DIR@/missing.yaml: config file not found; run dpkg-reconfigure circleci-runner to write it, " +
				"or pass its path with --config",
		},
		{
			name: "directory",
			path: f.dir,
			want: "@DIR@: not a regular file; pass the path of the configuration file with --config",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Load(Options{Path: tt.path})

			want := []string{f.expand(tt.want)}
			if diff := cmp.Diff(want, problemLines(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadProgramAccess(t *testing.T) {
	const otherUID = 1234
	f := newFixture(t)
	script := f.program(t, "launch-task", 0o755)
	groupDir := filepath.Join(f.dir, "group-writable")
	otherDir := filepath.Join(f.dir, "other-owned")
	stickyDir := filepath.Join(f.dir, "sticky")
	for _, dir := range []string{groupDir, otherDir, stickyDir} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mustChmod(t, groupDir, 0o775)
	mustChown(t, otherDir, otherUID)
	mustChmod(t, stickyDir, os.ModeSticky|0o777)
	f.program(t, "group-writable/launch-task", 0o755)
	f.program(t, "other-owned/launch-task", 0o755)
	f.program(t, "sticky/launch-task", 0o755)
	otherScript := f.program(t, "owned-by-other", 0o755)
	mustChown(t, otherScript, otherUID)
	if err := os.Symlink(otherScript, filepath.Join(f.dir, "link")); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		program  string
		agentUID int
		want     []string
	}{
		{name: "root owned", program: script},
		{name: "sticky directory", program: stickyDir + "/launch-task"},
		{
			name:    "owned by another user",
			program: otherScript,
			want: []string{`@FILE@:5:19: runner.command_prefix: "@DIR@/owned-by-other" is owned by uid 1234, ` +
				"so that user could change what the agent runs; run chown root: @DIR@/owned-by-other"},
		},
		{name: "owned by the agent's user", program: otherScript, agentUID: otherUID},
		{
			name:    "symbolic link to a file of another user",
			program: f.dir + "/link",
			want: []string{`@FILE@:5:19: runner.command_prefix: "@DIR@/owned-by-other" is owned by uid 1234, ` +
				"so that user could change what the agent runs; run chown root: @DIR@/owned-by-other"},
		},
		{
			name:    "group-writable directory",
			program: groupDir + "/launch-task",
			want: []string{`@FILE@:5:19: runner.command_prefix: directory "@DIR@/group-writable" of program ` +
				`"@DIR@/group-writable/launch-task" is writable by group or others (mode 0775), so another user ` +
				"could replace the program; run chmod go-w @DIR@/group-writable"},
		},
		{
			name:    "directory of another user",
			program: otherDir + "/launch-task",
			want: []string{`@FILE@:5:19: runner.command_prefix: directory "@DIR@/other-owned" of program ` +
				`"@DIR@/other-owned/launch-task" is owned by uid 1234, so that user could replace the program; ` +
				"run chown root: @DIR@/other-owned"},
		},
		{
			name:    "directory",
			program: f.dir,
			want: []string{`@FILE@:5:19: runner.command_prefix: program "@DIR@" is a directory; ` +
				"write the path of the program file"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.write(t, validHead+"  command_prefix: [\""+tt.program+"\"]\n")

			_, _, err := Load(Options{Path: f.file, AgentUID: tt.agentUID})

			if diff := cmp.Diff(expandAll(f, tt.want), problemLines(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func mustChmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func mustChown(t *testing.T, path string, uid int) {
	t.Helper()
	if err := os.Chown(path, uid, uid); err != nil {
		t.Fatal(err)
	}
}

func TestLoadDefaultPath(t *testing.T) {
	if _, err := os.Stat(DefaultPath); err == nil {
		t.Skip(DefaultPath + " exists on this host")
	}

	_, _, err := Load(Options{})

	lines := problemLines(t, err)
	if len(lines) != 1 || !strings.HasPrefix(lines[0], DefaultPath+": ") {
		t.Errorf("problems = %q, want one about %s", lines, DefaultPath)
	}
}
