// Package localtaskagent runs the steps of one task from the local runner
// API. It replaces CircleCI's closed-source task agent: it accepts the
// same command line, reads the task token from standard input, runs checkout
// and run steps in the working directory, and reports each step with the
// protocol of package taskproto.
package localtaskagent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Exit codes of the local task agent.
const (
	ExitSucceeded = 0 // every step that ran passed
	ExitFailed    = 1 // a step failed or the task ran longer than --maxRunTime
	ExitUsage     = 2 // invalid command line or task token
	ExitCancelled = 3 // SIGTERM, or the runner API cancelled the task
	ExitError     = 4 // the runner API could not be reached or rejected a call
)

// Usage is the accepted command line.
const Usage = "usage: circleci-agent _internal agent-runner --runnerAPIBaseURL=URL --allocation=ALLOCATION " +
	"--maxRunTime=DURATION --workDir=DIR [--sshAdvertiseAddr=ADDR] (task token on standard input)"

// Args is the parsed command line.
type Args struct {
	RunnerAPIBaseURL string
	Allocation       string
	MaxRunTime       time.Duration
	WorkDir          string
	SSHAdvertiseAddr string
}

// ParseArgs parses the arguments after the program name. Only the form
// `_internal agent-runner --name=value ...` is accepted, because that is the
// form the launch agent writes.
func ParseArgs(args []string) (Args, error) {
	if len(args) < 2 || args[0] != "_internal" || args[1] != "agent-runner" {
		return Args{}, errors.New("the command must start with: _internal agent-runner")
	}

	values, err := flagValues(args[2:])
	if err != nil {
		return Args{}, err
	}
	for _, name := range []string{"runnerAPIBaseURL", "allocation", "maxRunTime", "workDir"} {
		if values[name] == "" {
			return Args{}, fmt.Errorf("--%s is missing or empty", name)
		}
	}
	return argsOf(values)
}

var knownFlags = map[string]bool{
	"runnerAPIBaseURL": true, "allocation": true, "maxRunTime": true, "workDir": true, "sshAdvertiseAddr": true,
}

func flagValues(args []string) (map[string]string, error) {
	values := map[string]string{}
	for _, arg := range args {
		name, value, ok := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
		if !strings.HasPrefix(arg, "--") || !ok {
			return nil, fmt.Errorf("invalid argument %q: use --name=value", arg)
		}
		if !knownFlags[name] {
			return nil, fmt.Errorf("unknown flag --%s", name)
		}
		if _, dup := values[name]; dup {
			return nil, fmt.Errorf("--%s is given twice", name)
		}
		values[name] = value
	}
	return values, nil
}

func argsOf(values map[string]string) (Args, error) {
	base, err := url.Parse(values["runnerAPIBaseURL"])
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return Args{}, fmt.Errorf("invalid --runnerAPIBaseURL %q: use an http or https URL", values["runnerAPIBaseURL"])
	}
	maxRunTime, err := time.ParseDuration(values["maxRunTime"])
	if err != nil || maxRunTime <= 0 {
		return Args{}, fmt.Errorf("invalid --maxRunTime %q: use a positive duration such as 5h", values["maxRunTime"])
	}
	if !filepath.IsAbs(values["workDir"]) {
		return Args{}, fmt.Errorf("invalid --workDir %q: use an absolute path", values["workDir"])
	}

	return Args{
		RunnerAPIBaseURL: strings.TrimSuffix(values["runnerAPIBaseURL"], "/"),
		Allocation:       values["allocation"],
		MaxRunTime:       maxRunTime,
		WorkDir:          filepath.Clean(values["workDir"]),
		SSHAdvertiseAddr: values["sshAdvertiseAddr"],
	}, nil
}

// maxTokenBytes bounds the token line, so a stray pipe cannot make the task
// agent read without end.
const maxTokenBytes = 4096

// ReadToken reads the task token: one line, which may end at end of input
// instead of a newline.
func ReadToken(r io.Reader) (string, error) {
	line, err := bufio.NewReaderSize(io.LimitReader(r, maxTokenBytes+1), maxTokenBytes+1).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read task token from standard input: %w", err)
	}
	if len(line) > maxTokenBytes {
		return "", fmt.Errorf("the task token on standard input is longer than %d bytes", maxTokenBytes)
	}

	token := strings.TrimRight(line, "\r\n")
	if strings.TrimSpace(token) == "" {
		return "", errors.New("the task token on standard input is empty; the launch agent writes it there")
	}
	if strings.ContainsAny(token, " \t") {
		return "", errors.New("the task token on standard input contains spaces")
	}
	return token, nil
}
