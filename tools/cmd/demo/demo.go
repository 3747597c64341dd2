package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/localapi"
	"github.com/circleci-runner/circleci-runner/tools/pipeline"
)

// defaultResourceClass is the demo runner's resource class when the config's
// jobs name none.
const defaultResourceClass = "demo/local"

// demo is one run of the demo.
type demo struct {
	opts  options
	out   io.Writer
	start time.Time

	dirs   demoDirs
	server *localapi.Server
	agent  *agentProcess
}

func (d *demo) logf(format string, args ...any) {
	elapsed := time.Since(d.start).Seconds()
	fmt.Fprintf(d.out, "[%5.1fs] %s\n", elapsed, fmt.Sprintf(format, args...))
}

// run runs the demo and returns the exit code.
func (d *demo) run(ctx context.Context) int {
	expected, err := loadExpected(d.opts.expected)
	if err != nil {
		fmt.Fprintf(d.out, "demo: %v\n", err)
		return 2
	}
	if err := d.setUp(); err != nil {
		fmt.Fprintf(d.out, "demo: %v\n", err)
		d.cleanUp(false)
		return 1
	}
	defer d.server.Close()

	waitErr := d.watch(ctx)
	d.agent.stop(d.logf)
	jobs := d.server.Jobs()
	problems := expected.check(jobs)
	problems = append(problems, d.agentProblems(waitErr)...)
	problems = append(problems, d.leftoverProblems()...)

	printSummary(d.out, jobs, expected)
	ok := len(problems) == 0
	if !ok {
		d.printProblems(problems)
	}
	d.cleanUp(ok)
	if !ok {
		return 1
	}
	return 0
}

// setUp starts the local runner API and the launch agent.
func (d *demo) setUp() error {
	class, err := d.resourceClass()
	if err != nil {
		return err
	}
	root, err := os.MkdirTemp("", "circleci-demo-")
	if err != nil {
		return err
	}
	if d.dirs, err = newDemoDirs(root); err != nil {
		return err
	}

	token := randomToken()
	d.server, err = localapi.New(localapi.Options{
		RepoDir:              d.opts.repo,
		Tokens:               map[string]string{token: class},
		TaskAgents:           map[string]string{runtime.GOARCH: d.opts.taskAgent},
		DefaultResourceClass: class,
	})
	if err != nil {
		return err
	}
	url, err := d.server.Start("127.0.0.1:0")
	if err != nil {
		return err
	}
	d.logf("local runner API listening on %s with %d jobs for resource class %s", url, len(d.server.Jobs()), class)

	if err := writeAgentConfig(d.dirs, token, url, class); err != nil {
		return err
	}
	if d.agent, err = startAgent(d.opts.agent, d.dirs); err != nil {
		return err
	}
	d.logf("launch agent %s started with --config %s", d.opts.agent, d.dirs.config)
	return nil
}

// resourceClass returns the --resource-class flag, else the one resource
// class that the config's jobs name, else defaultResourceClass.
func (d *demo) resourceClass() (string, error) {
	if d.opts.resourceClass != "" {
		return d.opts.resourceClass, nil
	}
	config, err := pipeline.Load(filepath.Join(d.opts.repo, ".circleci", "config.yml"))
	if err != nil {
		return "", err
	}

	classes := map[string]bool{}
	for _, job := range config.Jobs {
		if job.ResourceClass != "" {
			classes[job.ResourceClass] = true
		}
	}
	switch len(classes) {
	case 0:
		return defaultResourceClass, nil
	case 1:
		for class := range classes {
			return class, nil
		}
	}
	return "", fmt.Errorf("the config's jobs use %d resource classes, but the demo runs one launch agent; set --resource-class", len(classes))
}

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return "demo-" + hex.EncodeToString(b)
}

// agentProblems describes how the wait or the launch agent went wrong.
func (d *demo) agentProblems(waitErr error) []string {
	var problems []string
	if waitErr != nil {
		problems = append(problems, waitErr.Error())
	}
	if code := d.agent.exitCode(); code != 0 {
		problems = append(problems, fmt.Sprintf("the launch agent exited with status %d, expected 0 after a drain", code))
	}
	return problems
}

// leftoverProblems lists working directories that the launch agent left
// behind, although the demo's configuration turns cleanup on.
func (d *demo) leftoverProblems() []string {
	entries, err := os.ReadDir(d.dirs.workdir)
	if err != nil {
		return []string{fmt.Sprintf("list working directories: %v", err)}
	}
	var problems []string
	for _, entry := range entries {
		problems = append(problems, fmt.Sprintf("working directory %s was not cleaned up", filepath.Join(d.dirs.workdir, entry.Name())))
	}
	return problems
}

func (d *demo) printProblems(problems []string) {
	fmt.Fprintln(d.out, "\nProblems:")
	for _, problem := range problems {
		fmt.Fprintf(d.out, "  - %s\n", problem)
	}
	for _, path := range []string{d.dirs.agentLog, d.dirs.agentOut} {
		printTail(d.out, path, 200)
	}
}

// cleanUp removes the temporary folder after a successful run unless --keep
// is set, and keeps it for inspection otherwise.
func (d *demo) cleanUp(ok bool) {
	if d.dirs.root == "" {
		return
	}
	if ok && !d.opts.keep {
		if err := os.RemoveAll(d.dirs.root); err != nil {
			fmt.Fprintf(d.out, "demo: remove %s: %v\n", d.dirs.root, err)
		}
		return
	}
	fmt.Fprintf(d.out, "\nThe configuration and logs are kept in %s\n", d.dirs.root)
}

// errAgentExited reports a launch agent that exited while jobs were open.
var errAgentExited = errors.New("the launch agent exited before every job ended")
