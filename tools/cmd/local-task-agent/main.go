// Command local-task-agent runs one task of the local runner API. It
// replaces CircleCI's task agent and is served to the launch agent as
// circleci-agent:
//
//	circleci-agent _internal agent-runner --runnerAPIBaseURL=URL --allocation=ALLOCATION \
//	    --maxRunTime=DURATION --workDir=DIR [--sshAdvertiseAddr=ADDR]
//
// The task token is read from standard input. Exit codes: 0 every step
// passed, 1 a step failed or --maxRunTime passed, 2 invalid usage or token,
// 3 cancelled by SIGTERM or the runner API, 4 the runner API failed.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/circleci-runner/circleci-runner/tools/localtaskagent"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	parsed, err := localtaskagent.ParseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "local-task-agent: %v\n%s\n", err, localtaskagent.Usage)
		return localtaskagent.ExitUsage
	}
	token, err := localtaskagent.ReadToken(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "local-task-agent: %v\n", err)
		return localtaskagent.ExitUsage
	}

	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	watchSignals(cancel, stderr)

	agent := &localtaskagent.Agent{Args: parsed, Token: token, Stdout: stdout, Stderr: stderr}
	return agent.Run(ctx)
}

// watchSignals cancels the task on SIGTERM and logs SIGINT without acting on
// it. Ctrl-C in a terminal sends SIGINT to the whole foreground process
// group, which can include the task agent, and for the launch agent SIGINT
// means a drain that lets the running task finish. The handler catches
// SIGINT instead of ignoring it, because exec resets caught signals but
// passes ignored ones on to the steps.
func watchSignals(cancel context.CancelCauseFunc, stderr io.Writer) {
	signals := make(chan os.Signal, 2)
	// A caught SIGPIPE turns a write to a closed stdout into an EPIPE error.
	// Without it, the Go runtime exits on such a write, which happens when
	// the launch agent dies first, and the steps would outlive the task.
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGPIPE)
	go func() {
		for sig := range signals {
			if sig == syscall.SIGPIPE {
				continue
			}
			if sig == syscall.SIGINT {
				fmt.Fprintln(stderr, "local-task-agent: SIGINT ignored; the task continues (send SIGTERM to cancel it)")
				continue
			}
			fmt.Fprintln(stderr, "local-task-agent: SIGTERM received; stopping the task")
			cancel(localtaskagent.ErrTerminated)
		}
	}()
}
