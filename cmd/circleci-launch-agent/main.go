// Command circleci-launch-agent claims CircleCI tasks from the runner API and
// runs each one through the task agent. See --help for its flags and exit
// statuses.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/circleci-runner/circleci-runner/pkg/config"
	"github.com/circleci-runner/circleci-runner/pkg/logging"
	"github.com/circleci-runner/circleci-runner/pkg/version"
)

// Exit statuses.
const (
	exitOK     = 0
	exitError  = 1
	exitUsage  = 2
	exitConfig = 78 // EX_CONFIG from sysexits.h; the unit does not restart on it
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "config" {
		return runConfigCommand(args[1:], stdin, stdout, stderr)
	}

	flags := pflag.NewFlagSet("circleci-launch-agent", pflag.ContinueOnError)
	flags.SetOutput(stderr)
	configPath := flags.StringP("config", "c", config.DefaultPath, "path of the YAML configuration file")
	check := flags.Bool("check", false, "validate the configuration and the environment overrides, print the effective settings, and exit (0 when valid, 78 when not)")
	stateDir := flags.String("state-dir", "", "folder for the record of the running task, which a restarted agent reports (default /var/lib/circleci-runner as root, else the user's cache folder)")
	showVersion := flags.BoolP("version", "v", false, "print the version and exit")
	help := flags.BoolP("help", "h", false, "show this help and exit")
	flags.Usage = func() { printUsage(stderr, flags) }

	if err := flags.Parse(args); err != nil {
		fmt.Fprintf(stderr, "circleci-launch-agent: %v\nRun circleci-launch-agent --help for usage.\n", err)
		return exitUsage
	}
	switch {
	case *help:
		printUsage(stdout, flags)
		return exitOK
	case *showVersion:
		fmt.Fprintln(stdout, version.Version())
		return exitOK
	case flags.NArg() > 0:
		fmt.Fprintf(stderr, "circleci-launch-agent: unexpected argument %q\nRun circleci-launch-agent --help for usage.\n", flags.Arg(0))
		return exitUsage
	}

	cfg, warnings, err := loadConfig(*configPath)
	for _, w := range warnings {
		fmt.Fprintln(stderr, "warning: "+w.String())
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		var configErr *config.Error
		if errors.As(err, &configErr) {
			return exitConfig
		}
		return exitError
	}
	if *check {
		if err := logging.CheckFile(cfg.Logging.File); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", cfg.Path, err)
			return exitConfig
		}
		printSettings(stdout, cfg)
		fmt.Fprintf(stdout, "configuration %s is valid\n", cfg.Path)
		return exitOK
	}

	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(signals)
	return serve(context.Background(), cfg, warnings, *stateDir, signals, stderr)
}

func loadConfig(path string) (*config.Config, []config.Warning, error) {
	home, _ := os.UserHomeDir()
	return config.Load(config.Options{
		Path:     path,
		Environ:  os.Environ(),
		AgentUID: os.Geteuid(),
		HomeDir:  home,
	})
}

func printSettings(w io.Writer, cfg *config.Config) {
	table := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, s := range cfg.Settings() {
		fmt.Fprintf(table, "%s\t%s\t(%s)\n", s.Key, s.Value, s.Source)
	}
	table.Flush()
}

func printUsage(w io.Writer, flags *pflag.FlagSet) {
	fmt.Fprintf(w, `Usage: circleci-launch-agent [--config FILE] [--check]
       circleci-launch-agent config get|has|set ...

Claims CircleCI tasks for one resource class and runs each through the task
agent, one at a time. Signals: SIGINT drains (the running task finishes, then
the agent exits), SIGTERM or a second SIGINT cancels the running task,
SIGHUP reloads the configuration between tasks.

Flags:
%s
Environment variables LAUNCH_AGENT_* and CIRCLECI_RUNNER_* override the file;
circleci-launch-agent --check shows which source set each value.

Exit statuses:
  0   stopped normally: drained, cancelled, idle timeout or single task done
  1   failed for another reason, such as an unwritable logging.file
  2   invalid command line
  78  invalid configuration (EX_CONFIG); fix the file and start again

Run "circleci-launch-agent config --help" for the configuration editor used
by the Debian maintainer scripts.
`, flags.FlagUsages())
}
