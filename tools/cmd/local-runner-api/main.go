// Command local-runner-api serves the local runner API for a repository, so
// the launch agent can run the jobs of its .circleci/config.yml on this
// machine. It listens on 127.0.0.1 only and prints
// "listening on http://127.0.0.1:PORT" once ready.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"

	"github.com/circleci-runner/circleci-runner/tools/localapi"
)

type flags struct {
	repo                 string
	tokensFile           string
	taskAgent            string
	taskAgentARM64       string
	listen               string
	defaultResourceClass string
	agentVersion         string
	maxUnclaims          int
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	parsed, err := parseFlags(args, stderr)
	if errors.Is(err, pflag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "local-runner-api: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, parsed, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "local-runner-api: %v\n", err)
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	var f flags
	set := pflag.NewFlagSet("local-runner-api", pflag.ContinueOnError)
	set.SetOutput(stderr)
	set.StringVar(&f.repo, "repo", "", "repository `DIR` whose .circleci/config.yml is run (required)")
	set.StringVar(&f.tokensFile, "tokens-file", "", "`FILE` with one \"TOKEN namespace/name\" line per resource-class token (required)")
	set.StringVar(&f.taskAgent, "task-agent", "", "task agent binary `PATH` served for linux/"+runtime.GOARCH+" (required)")
	set.StringVar(&f.taskAgentARM64, "task-agent-arm64", "", "task agent binary `PATH` served for linux/arm64")
	set.StringVar(&f.listen, "listen", "127.0.0.1:0", "listen address `127.0.0.1:PORT`; port 0 picks a free port")
	set.StringVar(&f.defaultResourceClass, "default-resource-class", "", "resource class `NS/NAME` of jobs with only machine: true (default: the tokens' class when there is one)")
	set.StringVar(&f.agentVersion, "agent-version", localapi.DefaultAgentVersion, "agent_version `VERSION` that claims hand out")
	set.IntVar(&f.maxUnclaims, "max-unclaims", localapi.DefaultMaxUnclaims, "unclaims of one job that succeed before unclaim responds with 409")
	set.Usage = func() {
		fmt.Fprintln(stderr, "usage: local-runner-api --repo DIR --tokens-file FILE --task-agent PATH [flags]")
		fmt.Fprintln(stderr, "\nServes the runner API for the jobs of a repository's .circleci/config.yml on 127.0.0.1.")
		fmt.Fprintln(stderr, "Stops on SIGINT or SIGTERM.\n\nFlags:")
		set.PrintDefaults()
	}

	if err := set.Parse(args); err != nil {
		return f, err
	}
	if set.NArg() > 0 {
		return f, fmt.Errorf("unexpected argument %q; every option is a flag (see --help)", set.Arg(0))
	}
	required := []struct{ name, value string }{{"repo", f.repo}, {"tokens-file", f.tokensFile}, {"task-agent", f.taskAgent}}
	for _, flag := range required {
		if flag.value == "" {
			return f, fmt.Errorf("--%s is missing (see --help)", flag.name)
		}
	}
	return f, nil
}

func serve(ctx context.Context, f flags, stdout, stderr io.Writer) error {
	tokens, err := localapi.ReadTokensFile(f.tokensFile)
	if err != nil {
		return err
	}
	warnReadable(f.tokensFile, stderr)

	server, err := localapi.New(options(f, tokens, stderr))
	if err != nil {
		return err
	}
	url, err := server.Start(f.listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening on %s\n", url)

	<-ctx.Done()
	fmt.Fprintln(stderr, "local-runner-api: stopping")
	return server.Close()
}

func options(f flags, tokens map[string]string, stderr io.Writer) localapi.Options {
	agents := map[string]string{runtime.GOARCH: f.taskAgent}
	if f.taskAgentARM64 != "" {
		agents["arm64"] = f.taskAgentARM64
	}
	maxUnclaims := f.maxUnclaims
	if maxUnclaims == 0 {
		maxUnclaims = -1 // 0 from the command line means no unclaim succeeds
	}
	return localapi.Options{
		RepoDir:              f.repo,
		Tokens:               tokens,
		TaskAgents:           agents,
		AgentVersion:         f.agentVersion,
		DefaultResourceClass: f.defaultResourceClass,
		MaxUnclaims:          maxUnclaims,
		Logger:               zerolog.New(zerolog.ConsoleWriter{Out: stderr, NoColor: true}).With().Timestamp().Logger(),
	}
}

// warnReadable warns when other users can read the tokens file.
func warnReadable(path string, stderr io.Writer) {
	info, err := os.Stat(path)
	if err == nil && info.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(stderr, "local-runner-api: warning: %s is readable by other users (mode %o); run chmod 600 on it\n", path, info.Mode().Perm())
	}
}
