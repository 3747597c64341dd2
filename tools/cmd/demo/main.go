// Command demo runs the jobs of an example repository with the real launch
// agent against an in-process local runner API on 127.0.0.1, then prints how
// every job and step ended:
//
//	demo --agent PATH --task-agent PATH --repo examples/demo [--timeout 60s]
//
// It exits 0 only when every job ended as the repository's expected.yaml
// requires and the launch agent exited 0 after its drain. It needs no root and
// uses nothing but loopback.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

// options are the demo's command-line flags.
type options struct {
	agent         string
	taskAgent     string
	repo          string
	expected      string
	resourceClass string
	timeout       time.Duration
	keep          bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	opts, err := parseOptions(args, stderr)
	if errors.Is(err, pflag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return (&demo{opts: opts, out: stdout, start: time.Now()}).run(ctx)
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var opts options
	set := pflag.NewFlagSet("demo", pflag.ContinueOnError)
	set.SetOutput(stderr)
	set.StringVar(&opts.agent, "agent", "", "launch agent binary `PATH` to run (required)")
	set.StringVar(&opts.taskAgent, "task-agent", "", "task agent binary `PATH` that the local runner API serves (required)")
	set.StringVar(&opts.repo, "repo", "examples/demo", "repository `DIR` with .circleci/config.yml and expected.yaml")
	set.StringVar(&opts.expected, "expected", "", "expected results `FILE` (default REPO/expected.yaml)")
	set.StringVar(&opts.resourceClass, "resource-class", "", "resource class `NS/NAME` of the demo runner (default: the one the config's jobs use, else demo/local)")
	set.DurationVar(&opts.timeout, "timeout", 60*time.Second, "maximum time for every job to end, such as 60s")
	set.BoolVar(&opts.keep, "keep", false, "keep the temporary folder with the agent's logs and configuration even on success")
	set.Usage = func() {
		fmt.Fprintln(stderr, "usage: demo --agent PATH --task-agent PATH [--repo DIR] [--timeout 60s]")
		fmt.Fprintln(stderr, "\nRuns a repository's CircleCI jobs with the launch agent against a local runner API.\n\nFlags:")
		set.PrintDefaults()
	}

	if err := set.Parse(args); err != nil {
		return opts, err
	}
	if set.NArg() > 0 {
		return opts, fmt.Errorf("unexpected argument %q (see --help)", set.Arg(0))
	}
	if opts.agent == "" || opts.taskAgent == "" {
		return opts, errors.New("--agent and --task-agent are required (see --help)")
	}
	if opts.timeout <= 0 {
		return opts, fmt.Errorf("invalid --timeout %s: use a positive duration", opts.timeout)
	}
	if opts.expected == "" {
		opts.expected = filepath.Join(opts.repo, "expected.yaml")
	}
	return opts, nil
}
