package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// commented is a file in the shape postinst writes, plus hand edits.
const commented = `# Managed by debconf: api.auth_token, runner.name, runner.resource_class.
# Other keys may be edited by hand.
api:
  auth_token: "old-token-0123456789"   # from debconf
runner:
  # The host name is a good runner name.
  name: build-1
  resource_class: acme/linux   # keep in sync with the CircleCI UI
  command_prefix: ["/opt/circleci/launch-task"]
  working_directory: /opt/circleci/workdir/%s
  cleanup_working_directory: true

# Logging goes to the journal.
logging:
  level: info
`

func TestEdit(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		changes []Change
		want    string
	}{
		{
			name:    "replace quoted token keeps comment",
			input:   commented,
			changes: []Change{{Key: "api.auth_token", Value: "new-token-abcdef"}},
			want:    strings.Replace(commented, `"old-token-0123456789"`, `"new-token-abcdef"`, 1),
		},
		{
			name:    "replace plain values",
			input:   commented,
			changes: []Change{{Key: "runner.name", Value: "build-2"}, {Key: "runner.resource_class", Value: "acme/arm"}},
			want: strings.NewReplacer("name: build-1", "name: build-2", "resource_class: acme/linux ", "resource_class: acme/arm ").
				Replace(commented),
		},
		{
			name:    "replace boolean",
			input:   commented,
			changes: []Change{{Key: "runner.cleanup_working_directory", Value: false}},
			want:    strings.Replace(commented, "cleanup_working_directory: true", "cleanup_working_directory: false", 1),
		},
		{
			name:    "replace flow list",
			input:   commented,
			changes: []Change{{Key: "runner.command_prefix", Value: []string{"/usr/bin/sudo", "-u", "circleci"}}},
			want: strings.Replace(commented, `["/opt/circleci/launch-task"]`,
				`["/usr/bin/sudo", "-u", "circleci"]`, 1),
		},
		{
			name:    "add key at the end of its section",
			input:   commented,
			changes: []Change{{Key: "runner.mode", Value: "single-task"}},
			want: strings.Replace(commented, "cleanup_working_directory: true\n",
				"cleanup_working_directory: true\n  mode: single-task\n", 1),
		},
		{
			name:    "add nested key",
			input:   commented,
			changes: []Change{{Key: "runner.ssh.advertise_addr", Value: "host.example:54782"}},
			want: strings.Replace(commented, "cleanup_working_directory: true\n",
				"cleanup_working_directory: true\n  ssh:\n    advertise_addr: host.example:54782\n", 1),
		},
		{
			name:    "add key to the last section",
			input:   commented,
			changes: []Change{{Key: "logging.format", Value: "text"}},
			want:    commented + "  format: text\n",
		},
		{
			name:    "replace block list keeps block style",
			input:   "runner:\n  command_prefix:\n    - /a   # first\n    - /b\n  name: x\n",
			changes: []Change{{Key: "runner.command_prefix", Value: []string{"/c", "d e", "true"}}},
			want:    "runner:\n  command_prefix:\n    - /c\n    - d e\n    - \"true\"\n  name: x\n",
		},
		{
			name:    "replace block list at key indentation",
			input:   "runner:\n  command_prefix:\n  - /a\n  - /b\n  name: x\n",
			changes: []Change{{Key: "runner.command_prefix", Value: []string{"/c"}}},
			want:    "runner:\n  command_prefix:\n  - /c\n  name: x\n",
		},
		{
			name:    "empty list replaces block list",
			input:   "runner:\n  command_prefix:\n    - /a\n  name: x\n",
			changes: []Change{{Key: "runner.command_prefix", Value: []string{}}},
			want:    "runner:\n  command_prefix:\n    []\n  name: x\n",
		},
		{
			name:    "list replaces string",
			input:   "runner:\n  command_prefix: /opt/circleci/launch-task\n",
			changes: []Change{{Key: "runner.command_prefix", Value: []string{"/opt/circleci/launch-task"}}},
			want:    "runner:\n  command_prefix: [\"/opt/circleci/launch-task\"]\n",
		},
		{
			name:    "multi-line flow list with comment",
			input:   "runner:\n  command_prefix: [\"/a\",  # program\n     /b]\n  name: x\n",
			changes: []Change{{Key: "runner.command_prefix", Value: []string{"/c"}}},
			want:    "runner:\n  command_prefix: [\"/c\"]\n  name: x\n",
		},
		{
			name:    "key with no value",
			input:   "api:\n  auth_token:   # set by debconf\nrunner:\n  name: x\n",
			changes: []Change{{Key: "api.auth_token", Value: "tok"}},
			want:    "api:\n  auth_token: tok   # set by debconf\nrunner:\n  name: x\n",
		},
		{
			name:    "explicit null",
			input:   "runner:\n  name: ~  # unset\n",
			changes: []Change{{Key: "runner.name", Value: "x"}},
			want:    "runner:\n  name: x  # unset\n",
		},
		{
			name:    "single quotes kept",
			input:   "runner:\n  name: 'old'\n",
			changes: []Change{{Key: "runner.name", Value: "it's"}},
			want:    "runner:\n  name: 'it''s'\n",
		},
		{
			name:    "double quotes kept when not needed",
			input:   "runner:\n  name: \"old\"\n",
			changes: []Change{{Key: "runner.name", Value: "new"}},
			want:    "runner:\n  name: \"new\"\n",
		},
		{
			name:    "tagged value keeps its tag",
			input:   "runner:\n  name: !!str 007\n",
			changes: []Change{{Key: "runner.name", Value: "008"}},
			want:    "runner:\n  name: !!str \"008\"\n",
		},
		{
			name:    "multi-line plain scalar",
			input:   "runner:\n  name: a long\n    name\n  mode: continuous\n",
			changes: []Change{{Key: "runner.name", Value: "short"}},
			want:    "runner:\n  name: short\n  mode: continuous\n",
		},
		{
			name:    "literal block scalar",
			input:   "api:\n  auth_token: |\n    abc\n    def\n\nrunner:\n  name: x\n",
			changes: []Change{{Key: "api.auth_token", Value: "tok"}},
			want:    "api:\n  auth_token: tok\n\nrunner:\n  name: x\n",
		},
		{
			name:    "alias replaced",
			input:   "api:\n  auth_token: &t abc\nrunner:\n  name: *t\n",
			changes: []Change{{Key: "runner.name", Value: "x"}},
			want:    "api:\n  auth_token: &t abc\nrunner:\n  name: x\n",
		},
		{
			name:    "four-space indentation",
			input:   "api:\n    auth_token: t\nrunner:\n    name: x\n",
			changes: []Change{{Key: "runner.mode", Value: "single-task"}, {Key: "logging.file", Value: "/var/log/a.log"}},
			want: "api:\n    auth_token: t\nrunner:\n    name: x\n    mode: single-task\n" +
				"logging:\n    file: /var/log/a.log\n",
		},
		{
			name:    "section without value",
			input:   "runner:   # filled in later\napi:\n  auth_token: t\n",
			changes: []Change{{Key: "runner.name", Value: "x"}},
			want:    "runner:   # filled in later\n  name: x\napi:\n  auth_token: t\n",
		},
		{
			name:    "null section",
			input:   "runner: ~\n",
			changes: []Change{{Key: "runner.name", Value: "x"}},
			want:    "runner:\n  name: x\n",
		},
		{
			name:    "empty file",
			input:   "",
			changes: []Change{{Key: "api.auth_token", Value: "t"}, {Key: "runner.name", Value: "x"}},
			want:    "api:\n  auth_token: t\nrunner:\n  name: x\n",
		},
		{
			name:    "comments only",
			input:   "# nothing yet\n",
			changes: []Change{{Key: "runner.cleanup_working_directory", Value: true}},
			want:    "# nothing yet\nrunner:\n  cleanup_working_directory: true\n",
		},
		{
			name:    "missing final newline",
			input:   "runner:\n  name: x",
			changes: []Change{{Key: "runner.mode", Value: "single-task"}},
			want:    "runner:\n  name: x\n  mode: single-task\n",
		},
		{
			name:    "CRLF",
			input:   "api:\r\n  auth_token: t # c\r\nrunner:\r\n  name: x\r\n",
			changes: []Change{{Key: "api.auth_token", Value: "u"}, {Key: "runner.mode", Value: "single-task"}, {Key: "logging.level", Value: "debug"}},
			want:    "api:\r\n  auth_token: u # c\r\nrunner:\r\n  name: x\r\n  mode: single-task\r\nlogging:\r\n  level: debug\r\n",
		},
		{
			name:    "byte order mark",
			input:   "\ufeffrunner:\n  name: x\n",
			changes: []Change{{Key: "runner.name", Value: "z"}, {Key: "runner.mode", Value: "single-task"}},
			want:    "\ufeffrunner:\n  name: z\n  mode: single-task\n",
		},
		{
			name:    "flow mapping",
			input:   "runner: {name: x, mode: continuous}\n",
			changes: []Change{{Key: "runner.name", Value: "a,b"}, {Key: "runner.max_run_time", Value: "1h"}},
			want:    "runner: {name: \"a,b\", mode: continuous, max_run_time: 1h}\n",
		},
		{
			name:    "empty flow mapping",
			input:   "runner: {}\n",
			changes: []Change{{Key: "runner.ssh.advertise_addr", Value: "h:1"}},
			want:    "runner: {ssh: {advertise_addr: h:1}}\n",
		},
		{
			name:    "unicode value",
			input:   "runner:\n  name: x # é\n",
			changes: []Change{{Key: "runner.ssh.advertise_addr", Value: "hôte:22"}},
			want:    "runner:\n  name: x # é\n  ssh:\n    advertise_addr: hôte:22\n",
		},
		{
			name:    "same value twice",
			input:   "runner:\n  name: x\n",
			changes: []Change{{Key: "runner.name", Value: "a"}, {Key: "runner.name", Value: "b"}},
			want:    "runner:\n  name: b\n",
		},
		{
			name:    "document end marker",
			input:   "api:\n  auth_token: t\n...\n",
			changes: []Change{{Key: "runner.name", Value: "x"}},
			want:    "api:\n  auth_token: t\nrunner:\n  name: x\n...\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Edit([]byte(tt.input), tt.changes)

			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("edited file (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEditQuoting(t *testing.T) {
	tests := []struct {
		value string
		want  string
	}{
		{"plain", "plain"},
		{"/opt/circleci/workdir/%s", "/opt/circleci/workdir/%s"},
		{"~/workdir", "~/workdir"},
		{"host:2222", "host:2222"},
		{"007", `"007"`},
		{"true", `"true"`},
		{"False", `"False"`},
		{"yes", `"yes"`},
		{"off", `"off"`},
		{"null", `"null"`},
		{"~", `"~"`},
		{"1e100", `"1e100"`},
		{"0x1F", `"0x1F"`},
		{".inf", `".inf"`},
		{"2024-01-02", `"2024-01-02"`},
		{"a: b", `"a: b"`},
		{"a #b", `"a #b"`},
		{"#x", `"#x"`},
		{"", `""`},
		{" padded ", `" padded "`},
		{"-", `"-"`},
		{"- item", `"- item"`},
		{"[x]", `"[x]"`},
		{"{x}", `"{x}"`},
		{"*alias", `"*alias"`},
		{"&anchor", `"&anchor"`},
		{"!tag", `"!tag"`},
		{"@at", `"@at"`},
		{"`tick", "\"`tick\""},
		{"key:", `"key:"`},
		{`say "hi"`, `say "hi"`},
		{`"quoted"`, `"\"quoted\""`},
		{"back\\slash", `back\slash`},
		{"two\nlines", `"two\nlines"`},
		{"tab\there", `"tab\there"`},
		{"bell\a", `"bell\x07"`},
		{"nel\u0085", `"nel\x85"`},
		{"ls\u2028", `"ls\u2028"`},
		{"<< your auth token >>", "<< your auth token >>"},
		{"<<", `"<<"`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, err := Edit([]byte("runner:\n  name: old\n"), []Change{{Key: "runner.name", Value: tt.value}})

			if err != nil {
				t.Fatal(err)
			}
			want := "runner:\n  name: " + tt.want + "\n"
			if string(got) != want {
				t.Errorf("got %q, want %q", got, want)
			}
			value, ok, err := Get(got, "runner.name")
			if err != nil || !ok || value != tt.value {
				t.Errorf("Get = %q, %v, %v; want %q", value, ok, err, tt.value)
			}
		})
	}
}

func TestEditErrors(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		changes []Change
		want    string
	}{
		{
			name:    "unknown key",
			input:   "runner:\n  name: x\n",
			changes: []Change{{Key: "runner.nmae", Value: "y"}},
			want:    `unknown key "runner.nmae"; did you mean runner.name?`,
		},
		{
			name:    "section as key",
			input:   "runner:\n  name: x\n",
			changes: []Change{{Key: "runner", Value: "y"}},
			want:    `"runner" is a section, not a key; name a key in it, such as runner.name`,
		},
		{
			name:    "bool for a string key",
			input:   "",
			changes: []Change{{Key: "runner.name", Value: true}},
			want:    "cannot set runner.name: expected a string value, got a bool",
		},
		{
			name:    "string for a list key",
			input:   "",
			changes: []Change{{Key: "runner.command_prefix", Value: "/bin/sh"}},
			want:    "cannot set runner.command_prefix: expected a list of strings value, got a string",
		},
		{
			name:    "invalid UTF-8",
			input:   "",
			changes: []Change{{Key: "runner.name", Value: "\xff"}},
			want:    "cannot set runner.name: the value is not valid UTF-8",
		},
		{
			name:    "duplicate key anywhere",
			input:   "runner:\n  name: x\n  mode: a\n  mode: b\n",
			changes: []Change{{Key: "runner.name", Value: "y"}},
			want:    `line 4: duplicate key "mode", first set at line 3; remove one of them`,
		},
		{
			name:    "invalid YAML",
			input:   "runner:\n\tname: x\n",
			changes: []Change{{Key: "runner.name", Value: "y"}},
			want:    "line 2: a tab indents this line, but YAML allows only spaces; replace the tab with spaces",
		},
		{
			name:    "root is a list",
			input:   "- a\n",
			changes: []Change{{Key: "runner.name", Value: "y"}},
			want:    "line 1: expected a mapping with the sections api, runner and logging, found a list",
		},
		{
			name:    "section is a string",
			input:   "runner: x\n",
			changes: []Change{{Key: "runner.name", Value: "y"}},
			want:    "cannot set runner.name: line 1: runner is a single value, not a section; edit the file by hand",
		},
		{
			name:    "value is a mapping",
			input:   "runner:\n  name:\n    a: b\n",
			changes: []Change{{Key: "runner.name", Value: "y"}},
			want:    "cannot set runner.name: line 3: the value is a mapping; edit the file by hand",
		},
		{
			name:    "anchored section",
			input:   "runner: &r\n  name: x\nother: *r\n",
			changes: []Change{{Key: "runner.name", Value: "y"}},
			want: "cannot set runner.name: line 1: runner has an anchor (&r) that aliases may refer to; " +
				"edit the file by hand",
		},
		{
			name:    "anchored value",
			input:   "runner:\n  name: &n x\n  mode: *n\n",
			changes: []Change{{Key: "runner.name", Value: "y"}},
			want: "cannot set runner.name: line 2: name has an anchor (&n) that aliases may refer to; " +
				"edit the file by hand",
		},
		{
			name:    "multi-line plain scalar in a flow mapping",
			input:   "runner: {name: a\n  b}\n",
			changes: []Change{{Key: "runner.name", Value: "y"}},
			want:    "cannot set runner.name: cannot find where the value ends; edit the file by hand",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Edit([]byte(tt.input), tt.changes)

			if err == nil {
				t.Fatalf("Edit succeeded with %q", got)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

func TestEditErrorsHideValues(t *testing.T) {
	const secret = "secret-token-value-123"

	_, err := Edit([]byte("api:\n  auth_token: &a x\n  url: *a\n"), []Change{{Key: "api.auth_token", Value: secret}})

	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("error = %v, want one that does not contain the token", err)
	}
}

func TestEditResultLoads(t *testing.T) {
	f := newFixture(t)
	input := []byte("# header\n")
	changes := []Change{
		{Key: "api.auth_token", Value: testToken},
		{Key: "runner.name", Value: "007"},
		{Key: "runner.resource_class", Value: "acme/linux"},
		{Key: "runner.command_prefix", Value: []string{f.dir + "/launch-task"}},
		{Key: "runner.working_directory", Value: "/opt/circleci/workdir/%s"},
		{Key: "runner.cleanup_working_directory", Value: true},
		{Key: "runner.max_run_time", Value: "2h"},
	}

	out, err := Edit(input, changes)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := f.load(t, string(out))

	if err != nil {
		t.Fatal(err)
	}
	if cfg.Runner.Name != "007" {
		t.Errorf("name = %q, want 007", cfg.Runner.Name)
	}
	if !cfg.Runner.CleanupWorkingDirectory {
		t.Errorf("cleanup_working_directory = false, want true")
	}
}

// TestEditKeepsOtherBytes checks that an edit changes only the bytes of the
// edited value, for every key of a file with comments everywhere.
func TestEditKeepsOtherBytes(t *testing.T) {
	keys := map[string]any{
		"api.auth_token":                   "replacement-token-xyz",
		"runner.name":                      "replacement",
		"runner.resource_class":            "ns/replacement",
		"runner.command_prefix":            []string{"/replacement"},
		"runner.working_directory":         "/replacement/%s",
		"runner.cleanup_working_directory": false,
		"logging.level":                    "debug",
	}
	for key, value := range keys {
		t.Run(key, func(t *testing.T) {
			out, err := Edit([]byte(commented), []Change{{Key: key, Value: value}})
			if err != nil {
				t.Fatal(err)
			}

			prefix, suffix := commonPrefix(commented, string(out)), commonSuffix(commented, string(out))
			changedOld := commented[len(prefix) : len(commented)-len(suffix)]
			if strings.ContainsAny(changedOld, "#\n") {
				t.Errorf("the edit changed %q, beyond the value", changedOld)
			}
		})
	}
}

func commonPrefix(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return a[:i]
}

func commonSuffix(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[len(a)-1-i] == b[len(b)-1-i] {
		i++
	}
	return a[len(a)-i:]
}

func TestGet(t *testing.T) {
	file := []byte(commented + "  file: ''\n")
	tests := []struct {
		key    string
		want   string
		wantOK bool
	}{
		{"api.auth_token", "old-token-0123456789", true},
		{"runner.name", "build-1", true},
		{"runner.command_prefix", `["/opt/circleci/launch-task"]`, true},
		{"runner.cleanup_working_directory", "true", true},
		{"runner.mode", "", false},
		{"runner.ssh.advertise_addr", "", false},
		{"logging.file", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, ok, err := Get(file, tt.key)

			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Get = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestGetUnsetForms(t *testing.T) {
	for _, input := range []string{"", "# only a comment\n", "runner:\n", "runner: ~\n", "runner:\n  name:\n", "runner:\n  name: null\n"} {
		got, ok, err := Get([]byte(input), "runner.name")

		if err != nil || ok || got != "" {
			t.Errorf("Get(%q) = %q, %v, %v; want unset", input, got, ok, err)
		}
	}
}

func TestGetErrors(t *testing.T) {
	tests := []struct {
		input string
		key   string
		want  string
	}{
		{"runner:\n  name: a\n  name: b\n", "runner.name", "line 3: duplicate key name, first set at line 2; remove one of them"},
		{"runner:\n  ssh:\n    x: y\n", "runner.ssh", "line 3: runner.ssh is a section, not a value"},
		{"runner: x\n", "runner.name", "line 1: runner.name is inside a single value, which is not a section"},
		{"runner:\n  command_prefix: [[a]]\n", "runner.command_prefix", "line 2: item 1 of runner.command_prefix is a list, not a string"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, _, err := Get([]byte(tt.input), tt.key)

			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %s", err, tt.want)
			}
		})
	}
}

func TestHas(t *testing.T) {
	tests := []struct {
		input string
		key   string
		want  bool
	}{
		{"api:\n  auth_token: t\n", "api.auth_token", true},
		{"api:\n  auth_token: \"\"\n", "api.auth_token", false},
		{"api:\n  auth_token: \"  \"\n", "api.auth_token", false},
		{"api:\n  auth_token:\n", "api.auth_token", false},
		{"", "api.auth_token", false},
		{"runner:\n  command_prefix: []\n", "runner.command_prefix", false},
		{"runner:\n  command_prefix: [a]\n", "runner.command_prefix", true},
		{"runner:\n  cleanup_working_directory: false\n", "runner.cleanup_working_directory", true},
	}
	for _, tt := range tests {
		got, err := Has([]byte(tt.input), tt.key)

		if err != nil || got != tt.want {
			t.Errorf("Has(%q, %s) = %v, %v; want %v", tt.input, tt.key, got, err, tt.want)
		}
	}
}

func TestParseChange(t *testing.T) {
	tests := []struct {
		argument string
		want     Change
	}{
		{"runner.name=x", Change{Key: "runner.name", Value: "x"}},
		{"runner.name=a=b", Change{Key: "runner.name", Value: "a=b"}},
		{"runner.name=", Change{Key: "runner.name", Value: ""}},
		{"runner.cleanup_working_directory=true", Change{Key: "runner.cleanup_working_directory", Value: true}},
		{"runner.max_run_time=90m", Change{Key: "runner.max_run_time", Value: "90m"}},
		{`runner.command_prefix=["/a","/b"]`, Change{Key: "runner.command_prefix", Value: []string{"/a", "/b"}}},
		{"runner.command_prefix=/a -b", Change{Key: "runner.command_prefix", Value: []string{"/a", "-b"}}},
		{"runner.command_prefix=[]", Change{Key: "runner.command_prefix", Value: []string{}}},
	}
	for _, tt := range tests {
		t.Run(tt.argument, func(t *testing.T) {
			got, err := ParseChange(tt.argument)

			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("change (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseChangeErrors(t *testing.T) {
	tests := []struct {
		argument string
		want     string
	}{
		{"runner.name", `"runner.name" is not KEY=VALUE; write it such as runner.name=my-runner`},
		{"runner.nmae=x", `unknown key "runner.nmae"; did you mean runner.name?`},
		{"runner.cleanup_working_directory=yes", `runner.cleanup_working_directory: "yes" is a YAML 1.1 boolean, ` +
			"which YAML 1.2 reads as text; write true or false"},
		{"runner.max_run_time=300", `runner.max_run_time: "300" has no unit; add a unit, such as 300s or 5m`},
		{`runner.command_prefix=["/a"`, `runner.command_prefix: "[\"/a\"" is not a YAML flow list; ` +
			`write it such as ["/opt/circleci/launch-task"]`},
	}
	for _, tt := range tests {
		t.Run(tt.argument, func(t *testing.T) {
			_, err := ParseChange(tt.argument)

			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %s", err, tt.want)
			}
		})
	}
}
