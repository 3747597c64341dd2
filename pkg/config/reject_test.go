package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const tokenFixText = "write the resource class token, or run dpkg-reconfigure circleci-runner"

// TestLoadRejects checks the exact message of every rule. In the content and
// the expected lines, @FILE@ is the config file and @DIR@ the directory of
// the test programs.
func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name    string
		content string
		environ []string
		want    []string
	}{
		// api.auth_token
		{
			name:    "token missing",
			content: "runner:\n  name: r1\n",
			want: []string{"@FILE@:1:1: api.auth_token: missing; add auth_token under api:, " +
				"set LAUNCH_AGENT_API_AUTH_TOKEN, or run dpkg-reconfigure circleci-runner"},
		},
		{
			name:    "token missing under api",
			content: "api:\n  url: https://runner.circleci.com\nrunner:\n  name: r1\n",
			want: []string{"@FILE@:1:1: api.auth_token: missing; add auth_token under api:, " +
				"set LAUNCH_AGENT_API_AUTH_TOKEN, or run dpkg-reconfigure circleci-runner"},
		},
		{
			name:    "token key without value",
			content: "runner:\n  name: r1\napi:\n  auth_token:\n",
			want: []string{"@FILE@:4:14: api.auth_token: missing; add auth_token under api:, " +
				"set LAUNCH_AGENT_API_AUTH_TOKEN, or run dpkg-reconfigure circleci-runner"},
		},
		{
			name:    "token empty",
			content: "api:\n  auth_token: \"\"\nrunner:\n  name: r1\n",
			want:    []string{"@FILE@:2:15: api.auth_token: empty; " + tokenFixText},
		},
		{
			name:    "token whitespace",
			content: "api:\n  auth_token: \"   \"\nrunner:\n  name: r1\n",
			want:    []string{"@FILE@:2:15: api.auth_token: contains only whitespace; " + tokenFixText},
		},
		{
			name:    "token placeholder from docs",
			content: "api:\n  auth_token: << your auth token >>\nrunner:\n  name: r1\n",
			want: []string{`@FILE@:2:15: api.auth_token: "<< your auth token >>" is a placeholder; ` +
				"replace it with the resource class token, or run dpkg-reconfigure circleci-runner"},
		},
		{
			name:    "token placeholder AUTH_TOKEN",
			content: "api:\n  auth_token: AUTH_TOKEN\nrunner:\n  name: r1\n",
			want: []string{`@FILE@:2:15: api.auth_token: "AUTH_TOKEN" is a placeholder; ` +
				"replace it with the resource class token, or run dpkg-reconfigure circleci-runner"},
		},
		{
			name:    "token unrendered template",
			content: "api:\n  auth_token: \"{{ runner_token }}\"\nrunner:\n  name: r1\n",
			want: []string{`@FILE@:2:15: api.auth_token: "{{ runner_token }}" is a placeholder; ` +
				"replace it with the resource class token, or run dpkg-reconfigure circleci-runner"},
		},
		{
			name:    "token with inner space is masked",
			content: "api:\n  auth_token: \"0123456789 abcdef012\"\nrunner:\n  name: r1\n",
			want: []string{"@FILE@:2:15: api.auth_token: token ****f012 contains whitespace or control characters; " +
				"write the token alone"},
		},
		{
			name:    "token as a list",
			content: "api:\n  auth_token: [a, b]\nrunner:\n  name: r1\n",
			want: []string{`@FILE@:2:15: api.auth_token: expected a string, found a list; ` +
				`quote the value if it contains ": " or starts with "{" or "["`},
		},

		// YAML syntax
		{
			name:    "tab indentation",
			content: "api:\n\tauth_token: " + testToken + "\nrunner:\n  name: r1\n",
			want:    []string{"@FILE@:2:1: a tab indents this line, but YAML allows only spaces; replace the tab with spaces"},
		},
		{
			name:    "tab after spaces on two lines",
			content: "api:\n  \tauth_token: " + testToken + "\nrunner:\n \t name: r1\n",
			want: []string{
				"@FILE@:2:3: a tab indents this line, but YAML allows only spaces; replace the tab with spaces",
				"@FILE@:4:2: a tab indents this line, but YAML allows only spaces; replace the tab with spaces",
			},
		},
		{
			name:    "mapping value in plain scalar",
			content: validHead + "  mode: a: b\n",
			want: []string{"@FILE@:5: invalid YAML: mapping values are not allowed in this context; " +
				"check the indentation and quoting on this line"},
		},
		{
			name:    "unclosed flow list",
			content: validHead + "  command_prefix: [\"/bin/sh\"\n",
			want: []string{"@FILE@:5: invalid YAML: did not find expected ',' or ']'; " +
				"check the indentation, brackets and quoting from this line on"},
		},
		{
			name:    "key indented less than its section",
			content: validHead + " mode: continuous\n",
			want: []string{"@FILE@:5: invalid YAML: did not find expected key; " +
				"check the indentation, brackets and quoting from this line on"},
		},
		{
			name:    "alias without anchor",
			content: validHead + "  mode: *mode\n",
			want: []string{"@FILE@:5:9: invalid YAML: alias *mode refers to no anchor &mode above it; " +
				"define the anchor first or remove the alias"},
		},
		{
			name:    "control character",
			content: validHead + "  mode: cont\x07inuous\n",
			want:    []string{"@FILE@:5:13: control character U+0007 is not allowed in YAML; remove it"},
		},
		{
			name:    "invalid UTF-8",
			content: validHead + "  mode: caf\xe9\n",
			want:    []string{"@FILE@:5:12: invalid UTF-8 byte 0xe9; save the file as UTF-8"},
		},
		{
			name:    "second document",
			content: validHead + "---\nrunner:\n  mode: single-task\n",
			want: []string{"@FILE@:5:1: a second YAML document starts here; " +
				"keep the whole configuration in one document"},
		},
		{
			name:    "root is a list",
			content: "- api\n- runner\n",
			want: []string{
				"@FILE@:1:1: expected a mapping with the sections api, runner and logging, found a list",
				"@FILE@:1:1: api.auth_token: missing; add auth_token under api:, " +
					"set LAUNCH_AGENT_API_AUTH_TOKEN, or run dpkg-reconfigure circleci-runner",
				"@FILE@:1:1: runner.name: missing; add name under runner:, such as the host name, " +
					"or set LAUNCH_AGENT_RUNNER_NAME",
			},
		},

		// Structure
		{
			name:    "unknown key with suggestion",
			content: validHead + "  nmae: other\n",
			want:    []string{"@FILE@:5:3: runner.nmae: unknown key; did you mean runner.name?"},
		},
		{
			name:    "key in the wrong section",
			content: validHead + "  auth_token: x\n",
			want:    []string{"@FILE@:5:3: runner.auth_token: unknown key; did you mean api.auth_token?"},
		},
		{
			name:    "unknown key without suggestion",
			content: validHead + "logging:\n  colour: blue\n",
			want: []string{"@FILE@:6:3: logging.colour: unknown key; " +
				"the logging section accepts file, format and level"},
		},
		{
			name:    "unknown runner key without suggestion",
			content: validHead + "  concurrency: 4\n",
			want: []string{"@FILE@:5:3: runner.concurrency: unknown key; " +
				`run "circleci-launch-agent config --help" for the list of keys`},
		},
		{
			name:    "misspelled section",
			content: "api:\n  auth_token: " + testToken + "\nrunner:\n  name: r1\nloging:\n  level: debug\n",
			want:    []string{"@FILE@:5:1: loging: unknown key; did you mean logging?"},
		},
		{
			name:    "duplicate mode",
			content: validHead + "  mode: continuous\n  mode: single-task\n",
			want:    []string{"@FILE@:6:3: runner.mode: duplicate key, first set at line 5; remove one of them"},
		},
		{
			name:    "duplicate section",
			content: validHead + "runner:\n  mode: single-task\n",
			want:    []string{"@FILE@:5:1: runner: duplicate key, first set at line 3; remove one of them"},
		},
		{
			name:    "section is a string",
			content: "api:\n  auth_token: " + testToken + "\nrunner: test-runner\n",
			want: []string{
				"@FILE@:3:1: runner.name: missing; add name under runner:, such as the host name, " +
					"or set LAUNCH_AGENT_RUNNER_NAME",
				"@FILE@:3:9: runner: expected a section of keys, found a single value; indent its keys under runner:",
			},
		},
		{
			name:    "merge key",
			content: "defaults: &d\n  mode: continuous\n" + validHead + "  <<: *d\n",
			want: []string{
				"@FILE@:1:1: defaults: unknown key; the top level accepts api, logging and runner",
				"@FILE@:7:3: runner.<<: merge keys (<<) are not supported; write the keys out in full",
			},
		},

		// Types
		{
			name:    "command_prefix as a string",
			content: validHead + "  command_prefix: /opt/circleci/launch-task\n",
			want: []string{`@FILE@:5:19: runner.command_prefix: "/opt/circleci/launch-task" is a string, ` +
				`but command_prefix is a list; write ["/opt/circleci/launch-task"]`},
		},
		{
			name:    "command_prefix string with arguments",
			content: validHead + "  command_prefix: \"sudo -u circleci\"\n",
			want: []string{`@FILE@:5:19: runner.command_prefix: "sudo -u circleci" is a string, ` +
				`but command_prefix is a list; write ["sudo", "-u", "circleci"]`},
		},
		{
			name:    "command_prefix items of the wrong shape",
			content: validHead + "  command_prefix:\n    - \"@DIR@/launch-task\"\n    - a: b\n    -\n",
			want: []string{
				`@FILE@:7:7: runner.command_prefix: item 2 is a mapping, but items must be strings; quote it if it contains ": "`,
				"@FILE@:8:6: runner.command_prefix: item 3 is empty; remove it or write a value",
			},
		},
		{
			name:    "name is a mapping",
			content: "api:\n  auth_token: " + testToken + "\nrunner:\n  name: {a: b}\n",
			want: []string{`@FILE@:4:9: runner.name: expected a string, found a mapping; ` +
				`quote the value if it contains ": " or starts with "{" or "["`},
		},
		{
			name:    "cleanup yes please",
			content: validHead + "  cleanup_working_directory: \"yes please\"\n",
			want:    []string{`@FILE@:5:30: runner.cleanup_working_directory: "yes please" is not a boolean; write true or false`},
		},
		{
			name:    "cleanup yes",
			content: validHead + "  cleanup_working_directory: yes\n",
			want: []string{`@FILE@:5:30: runner.cleanup_working_directory: "yes" is a YAML 1.1 boolean, ` +
				"which YAML 1.2 reads as text; write true or false"},
		},
		{
			name:    "cleanup off",
			content: validHead + "  cleanup_working_directory: off\n",
			want: []string{`@FILE@:5:30: runner.cleanup_working_directory: "off" is a YAML 1.1 boolean, ` +
				"which YAML 1.2 reads as text; write true or false"},
		},
		{
			name:    "boolean as a list",
			content: validHead + "  cache_task_agent: [true]\n",
			want:    []string{"@FILE@:5:21: runner.cache_task_agent: expected true or false, found a list"},
		},

		// Durations
		{
			name:    "max_run_time without unit",
			content: validHead + "  max_run_time: 300\n",
			want:    []string{`@FILE@:5:17: runner.max_run_time: "300" has no unit; add a unit, such as 300s or 5m`},
		},
		{
			name:    "idle_timeout in days",
			content: validHead + "  idle_timeout: 1d\n",
			want:    []string{`@FILE@:5:17: runner.idle_timeout: "1d" has unknown unit "d"; Go durations use h, so write 24h`},
		},
		{
			name:    "idle_timeout in fractional days",
			content: validHead + "  idle_timeout: 1.5d\n",
			want:    []string{`@FILE@:5:17: runner.idle_timeout: "1.5d" has unknown unit "d"; Go durations use h, so write 36h`},
		},
		{
			name:    "unit spelled out",
			content: validHead + "  idle_timeout: 10min\n",
			want:    []string{`@FILE@:5:17: runner.idle_timeout: "10min" has unknown unit "min"; Go durations use m, so write 10m`},
		},
		{
			name:    "unit unknown",
			content: validHead + "  idle_timeout: 10q\n",
			want: []string{`@FILE@:5:17: runner.idle_timeout: "10q" has unknown unit "q"; ` +
				"use ns, us, ms, s, m or h, such as 10m"},
		},
		{
			name:    "negative duration",
			content: validHead + "  idle_timeout: -5m\n",
			want:    []string{`@FILE@:5:17: runner.idle_timeout: "-5m" is negative; write a positive duration such as 5m`},
		},
		{
			name:    "duration with a space",
			content: validHead + "  max_run_time: 5 h\n",
			want: []string{`@FILE@:5:17: runner.max_run_time: "5 h" is not a duration; ` +
				"write a number and a unit, such as 5m or 1h30m"},
		},
		{
			name:    "duration too long",
			content: validHead + "  max_run_time: 9999999999h\n",
			want:    []string{`@FILE@:5:17: runner.max_run_time: "9999999999h" is too long; the maximum is about 2562047h (292 years)`},
		},
		{
			name:    "zero max_run_time",
			content: validHead + "  max_run_time: 0s\n",
			want:    []string{"@FILE@:5:17: runner.max_run_time: must be greater than 0s; write a duration such as 5h"},
		},
		{
			name:    "zero claim_interval",
			content: validHead + "  claim_interval: 0s\n",
			want:    []string{"@FILE@:5:19: runner.claim_interval: must be greater than 0s; write a duration such as 5s"},
		},
		{
			name:    "zero request_timeout",
			content: "api:\n  auth_token: " + testToken + "\n  request_timeout: 0s\nrunner:\n  name: test-runner\n",
			want:    []string{"@FILE@:3:20: api.request_timeout: must be greater than 0s; write a duration such as 30s"},
		},

		// Values
		{
			name:    "name with space and bang",
			content: "api:\n  auth_token: " + testToken + "\nrunner:\n  name: my runner!\n",
			want:    []string{`@FILE@:4:9: runner.name: "my runner!" contains " " and "!"; use only letters, digits and . ( ) - _`},
		},
		{
			name:    "name empty",
			content: "api:\n  auth_token: " + testToken + "\nrunner:\n  name: ''\n",
			want:    []string{"@FILE@:4:9: runner.name: empty; write a name such as the host name"},
		},
		{
			name:    "name missing",
			content: "api:\n  auth_token: " + testToken + "\nrunner:\n  mode: continuous\n",
			want: []string{"@FILE@:3:1: runner.name: missing; add name under runner:, such as the host name, " +
				"or set LAUNCH_AGENT_RUNNER_NAME"},
		},
		{
			name:    "resource class without slash",
			content: validHead + "  resource_class: myclass\n",
			want: []string{`@FILE@:5:19: runner.resource_class: "myclass" is not namespace/identifier; ` +
				"write it such as my-namespace/my-resource-class"},
		},
		{
			name:    "resource class with two slashes",
			content: validHead + "  resource_class: a/b/c\n",
			want: []string{`@FILE@:5:19: runner.resource_class: "a/b/c" is not namespace/identifier; ` +
				"write it such as my-namespace/my-resource-class"},
		},
		{
			name:    "resource class identifier with a dot",
			content: validHead + "  resource_class: acme/linux.large\n",
			want: []string{`@FILE@:5:19: runner.resource_class: identifier "linux.large" of "acme/linux.large" ` +
				`contains "."; use only letters, digits, - and _`},
		},
		{
			name:    "working directory relative",
			content: validHead + "  working_directory: workdir/%s\n",
			want: []string{`@FILE@:5:22: runner.working_directory: "workdir/%s" is relative; ` +
				"write an absolute path such as /opt/circleci/workdir/%s"},
		},
		{
			name:    "working directory root",
			content: validHead + "  working_directory: /\n",
			want: []string{`@FILE@:5:22: runner.working_directory: "/" is the root directory; ` +
				"use a directory of its own such as /opt/circleci/workdir/%s"},
		},
		{
			name:    "working directory directly under root",
			content: validHead + "  working_directory: /%s\n",
			want: []string{`@FILE@:5:22: runner.working_directory: "/%s" puts task directories in the root directory; ` +
				"use a directory of its own such as /opt/circleci/workdir/%s"},
		},
		{
			name:    "working directory with two %s",
			content: validHead + "  working_directory: /opt/circleci/%s/%s\n",
			want: []string{`@FILE@:5:22: runner.working_directory: "/opt/circleci/%s/%s" contains %s 2 times; ` +
				"keep one %s, which becomes the task's launch id"},
		},
		{
			name:    "mode unknown",
			content: validHead + "  mode: single\n",
			want:    []string{`@FILE@:5:9: runner.mode: "single" is not a mode; use continuous or single-task`},
		},
		{
			name:    "logging level unknown",
			content: validHead + "logging:\n  level: verbose\n",
			want:    []string{`@FILE@:6:10: logging.level: "verbose" is not a level; use trace, debug, info, warn or error`},
		},
		{
			name:    "logging format unknown",
			content: validHead + "logging:\n  format: xml\n",
			want:    []string{`@FILE@:6:11: logging.format: "xml" is not a format; use json or text`},
		},
		{
			name:    "api url without scheme",
			content: "api:\n  url: runner.circleci.com\n  auth_token: " + testToken + "\nrunner:\n  name: r1\n",
			want: []string{`@FILE@:2:8: api.url: "runner.circleci.com" is not an absolute http or https URL; ` +
				"write it such as https://runner.circleci.com"},
		},
		{
			name:    "api url with query",
			content: "api:\n  url: https://runner.example.com/?a=b\n  auth_token: " + testToken + "\nrunner:\n  name: r1\n",
			want: []string{`@FILE@:2:8: api.url: "https://runner.example.com/?a=b" has a query or fragment; ` +
				"remove it, because the agent appends paths to this URL"},
		},
		{
			name:    "task agent base url ftp",
			content: validHead + "  task_agent_base_url: ftp://example.com/agents\n",
			want: []string{`@FILE@:5:24: runner.task_agent_base_url: "ftp://example.com/agents" is not an absolute ` +
				"http or https URL; write it such as https://circleci-binary-releases.s3.amazonaws.com/circleci-agent"},
		},
		{
			name:    "task agent directory relative",
			content: validHead + "  task_agent_directory: cache\n",
			want: []string{`@FILE@:5:25: runner.task_agent_directory: "cache" is relative; ` +
				"write an absolute path, or remove the key to use the default"},
		},

		// command_prefix program
		{
			name:    "command_prefix program missing",
			content: validHead + "  command_prefix: [\"@DIR@/missing\"]\n",
			want: []string{`@FILE@:5:19: runner.command_prefix: program "@DIR@/missing" not found; ` +
				"install it or correct the path"},
		},
		{
			name:    "command_prefix program without execute bit",
			content: validHead + "  command_prefix: [\"@DIR@/no-exec\"]\n",
			want: []string{`@FILE@:5:19: runner.command_prefix: "@DIR@/no-exec" has no execute permission; ` +
				"run chmod 755 @DIR@/no-exec"},
		},
		{
			name:    "command_prefix program world-writable",
			content: validHead + "  command_prefix: [\"@DIR@/writable\"]\n",
			want: []string{`@FILE@:5:19: runner.command_prefix: "@DIR@/writable" is writable by group or others ` +
				"(mode 0777), so another user could change what the agent runs; run chmod go-w @DIR@/writable"},
		},
		{
			name:    "command_prefix program relative",
			content: validHead + "  command_prefix: [./launch-task]\n",
			want: []string{`@FILE@:5:19: runner.command_prefix: program "./launch-task" is a relative path; ` +
				"write its absolute path"},
		},
		{
			name:    "command_prefix program not in PATH",
			content: validHead + "  command_prefix: [no-such-program]\n",
			environ: []string{"PATH=@DIR@:/nonexistent"},
			want: []string{`@FILE@:5:19: runner.command_prefix: program "no-such-program" not found in PATH ` +
				"(@DIR@:/nonexistent); install it or write its absolute path"},
		},
		{
			name:    "command_prefix program in PATH without execute bit",
			content: validHead + "  command_prefix: [no-exec]\n",
			environ: []string{"PATH=@DIR@"},
			want: []string{`@FILE@:5:19: runner.command_prefix: "@DIR@/no-exec" has no execute permission; ` +
				"run chmod 755 @DIR@/no-exec"},
		},
		{
			name:    "command_prefix program empty",
			content: validHead + "  command_prefix: [\"\", x]\n",
			want:    []string{"@FILE@:5:19: runner.command_prefix: the program (item 1) is empty; write its absolute path"},
		},

		// Environment
		{
			name:    "env max_run_time without unit",
			content: validHead,
			environ: []string{"LAUNCH_AGENT_RUNNER_MAX_RUN_TIME=300"},
			want: []string{`environment LAUNCH_AGENT_RUNNER_MAX_RUN_TIME: runner.max_run_time: "300" has no unit; ` +
				"add a unit, such as 300s or 5m"},
		},
		{
			name:    "env alias working directory relative",
			content: validHead,
			environ: []string{"CIRCLECI_RUNNER_WORK_DIR=work"},
			want: []string{`environment CIRCLECI_RUNNER_WORK_DIR: runner.working_directory: "work" is relative; ` +
				"write an absolute path such as /opt/circleci/workdir/%s"},
		},
		{
			name:    "env boolean yes",
			content: validHead,
			environ: []string{"LAUNCH_AGENT_RUNNER_CLEANUP_WORK_DIR=yes"},
			want: []string{`environment LAUNCH_AGENT_RUNNER_CLEANUP_WORK_DIR: runner.cleanup_working_directory: ` +
				`"yes" is a YAML 1.1 boolean, which YAML 1.2 reads as text; write true or false`},
		},
		{
			name:    "env list not a flow list",
			content: validHead,
			environ: []string{`LAUNCH_AGENT_RUNNER_COMMAND_PREFIX=["/bin/sh"`},
			want: []string{`environment LAUNCH_AGENT_RUNNER_COMMAND_PREFIX: runner.command_prefix: "[\"/bin/sh\"" ` +
				`is not a YAML flow list; write it such as ["/opt/circleci/launch-task"]`},
		},
		{
			name:    "env token placeholder",
			content: "runner:\n  name: r1\n",
			environ: []string{"CIRCLECI_RUNNER_API_AUTH_TOKEN=<< your auth token >>"},
			want: []string{`environment CIRCLECI_RUNNER_API_AUTH_TOKEN: api.auth_token: "<< your auth token >>" ` +
				"is a placeholder; replace it with the resource class token, or run dpkg-reconfigure circleci-runner"},
		},

		// Several problems at once, in file order, then the environment.
		{
			name: "every problem listed",
			content: "api:\n  auth_token: AUTH_TOKEN\nrunner:\n  name: my runner!\n  nmae: x\n" +
				"  max_run_time: 300\n  mode: a\n  mode: b\n",
			environ: []string{"LAUNCH_AGENT_RUNNER_IDLE_TIMEOUT=1d"},
			want: []string{
				`@FILE@:2:15: api.auth_token: "AUTH_TOKEN" is a placeholder; replace it with the resource class token, ` +
					"or run dpkg-reconfigure circleci-runner",
				`@FILE@:4:9: runner.name: "my runner!" contains " " and "!"; use only letters, digits and . ( ) - _`,
				"@FILE@:5:3: runner.nmae: unknown key; did you mean runner.name?",
				`@FILE@:6:17: runner.max_run_time: "300" has no unit; add a unit, such as 300s or 5m`,
				`@FILE@:7:9: runner.mode: "a" is not a mode; use continuous or single-task`,
				"@FILE@:8:3: runner.mode: duplicate key, first set at line 7; remove one of them",
				`environment LAUNCH_AGENT_RUNNER_IDLE_TIMEOUT: runner.idle_timeout: "1d" has unknown unit "d"; ` +
					"Go durations use h, so write 24h",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			cfg, _, err := f.load(t, tt.content, tt.environ...)
			if cfg != nil {
				t.Errorf("Load returned a configuration along with the error")
			}
			want := make([]string, len(tt.want))
			for i, line := range tt.want {
				want[i] = f.expand(line)
			}
			if diff := cmp.Diff(want, problemLines(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadHomeDirectoryUnknown(t *testing.T) {
	f := newFixture(t)
	f.write(t, validHead+"  working_directory: ~/work/%s\n")

	_, _, err := Load(Options{Path: f.file, AgentUID: 0})

	want := []string{f.expand(`@FILE@:5:22: runner.working_directory: "~/work/%s" starts with ~/, ` +
		"but the home directory of uid 0 is unknown; write an absolute path")}
	if diff := cmp.Diff(want, problemLines(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}
