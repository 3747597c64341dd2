// Command bench runs the launch agent's benchmarks on this machine against
// the local runner API, prints one line per figure and records the results
// in the benchmarks page. See package bench for what each figure measures.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/circleci-runner/circleci-runner/tools/bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	agent := flag.String("agent", "bin/circleci-launch-agent", "the circleci-launch-agent binary to measure")
	repo := flag.String("repo", ".", "the repository root: the no-op task agent is built from it and make dist runs in it")
	page := flag.String("page", "docs/benchmarks.md", "the Markdown page whose results part is replaced; empty writes none")
	plotPath := flag.String("plot", "docs/benchmarks-start-latency.png", "the PNG of the start latency distribution; empty draws none")
	keep := flag.Bool("keep", false, "keep the scratch folder, with the agent logs, instead of removing it")
	dist := flag.Bool("dist", true, "time make dist too, which takes about two minutes")
	command := flag.String("command", strings.Join(os.Args, " "), "the command that the page names as the one that produced it")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	scratch, err := os.MkdirTemp("", "circleci-runner-bench-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintln(os.Stderr, "bench: scratch folder", scratch)
	} else {
		defer os.RemoveAll(scratch)
	}

	opts := bench.Full(*agent, *repo, scratch)
	opts.Dist = *dist
	opts.Progress = os.Stderr
	report, err := bench.Run(ctx, opts)
	if err != nil {
		return err
	}
	if err := report.Print(os.Stdout); err != nil {
		return err
	}
	return record(report, *page, *plotPath, *command)
}

func record(report *bench.Report, page, plotPath, command string) error {
	if plotPath != "" {
		if err := report.PlotStartLatency(plotPath); err != nil {
			return err
		}
	}
	if page == "" {
		return nil
	}
	plotLink := ""
	if plotPath != "" {
		rel, err := filepath.Rel(filepath.Dir(page), plotPath)
		if err != nil {
			return err
		}
		plotLink = rel
	}
	return bench.WriteResults(page, report.Results(command, plotLink))
}
