package localtaskagent

import (
	"strings"
	"testing"
	"time"
)

var validArgs = []string{
	"_internal", "agent-runner",
	"--runnerAPIBaseURL=http://127.0.0.1:8080/",
	"--allocation=alloc-1",
	"--maxRunTime=5h",
	"--workDir=/tmp/work/x",
}

func TestParseArgs(t *testing.T) {
	args, err := ParseArgs(append(validArgs, "--sshAdvertiseAddr=10.0.0.1:54782"))
	if err != nil {
		t.Fatalf("ParseArgs: %v", err)
	}
	if args.RunnerAPIBaseURL != "http://127.0.0.1:8080" {
		t.Errorf("RunnerAPIBaseURL = %q", args.RunnerAPIBaseURL)
	}
	if args.Allocation != "alloc-1" {
		t.Errorf("Allocation = %q", args.Allocation)
	}
	if args.MaxRunTime != 5*time.Hour {
		t.Errorf("MaxRunTime = %s", args.MaxRunTime)
	}
	if args.WorkDir != "/tmp/work/x" {
		t.Errorf("WorkDir = %q", args.WorkDir)
	}
	if args.SSHAdvertiseAddr != "10.0.0.1:54782" {
		t.Errorf("SSHAdvertiseAddr = %q", args.SSHAdvertiseAddr)
	}
}

func TestParseArgsRejections(t *testing.T) {
	replace := func(i int, value string) []string {
		out := append([]string(nil), validArgs...)
		out[i] = value
		return out
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", validArgs[2:], "the command must start with: _internal agent-runner"},
		{"other subcommand", replace(1, "build"), "the command must start with: _internal agent-runner"},
		{"space form", append(validArgs[:5:5], "--workDir", "/tmp"), `invalid argument "--workDir": use --name=value`},
		{"positional", append(validArgs, "extra"), `invalid argument "extra": use --name=value`},
		{"unknown flag", append(validArgs, "--verbose=1"), "unknown flag --verbose"},
		{"duplicate", append(validArgs, "--allocation=b"), "--allocation is given twice"},
		{"missing", validArgs[:5], "--workDir is missing or empty"},
		{"empty", replace(3, "--allocation="), "--allocation is missing or empty"},
		{"bad URL", replace(2, "--runnerAPIBaseURL=ftp://x"), `invalid --runnerAPIBaseURL "ftp://x": use an http or https URL`},
		{"duration without unit", replace(4, "--maxRunTime=300"), `invalid --maxRunTime "300": use a positive duration such as 5h`},
		{"relative workDir", replace(5, "--workDir=work"), `invalid --workDir "work": use an absolute path`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseArgs(tt.args)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestReadToken(t *testing.T) {
	for input, want := range map[string]string{
		"secret\n":     "secret",
		"secret\r\n":   "secret",
		"secret":       "secret",
		"secret\nmore": "secret",
	} {
		got, err := ReadToken(strings.NewReader(input))
		if err != nil || got != want {
			t.Errorf("ReadToken(%q) = %q, %v; want %q", input, got, err, want)
		}
	}
}

func TestReadTokenRejections(t *testing.T) {
	for input, want := range map[string]string{
		"":                               "the task token on standard input is empty; the launch agent writes it there",
		"\n":                             "the task token on standard input is empty; the launch agent writes it there",
		"two words\n":                    "the task token on standard input contains spaces",
		strings.Repeat("x", 5000) + "\n": "the task token on standard input is longer than 4096 bytes",
	} {
		_, err := ReadToken(strings.NewReader(input))
		if err == nil || err.Error() != want {
			t.Errorf("ReadToken(%.20q) error = %v, want %q", input, err, want)
		}
	}
}
