package systemtest

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/circleci-runner/circleci-runner/tools/testdist"
)

var (
	// releases are the current and newer builds of the package, shared
	// with the package tests through the build cache.
	releases testdist.Releases
	// taskAgentBinary is the local task agent, which the local runner API
	// serves as the task agent that the launch agent downloads.
	taskAgentBinary string
	// setupErr is set when the builds failed, and every test then fails
	// with it.
	setupErr error
)

func TestMain(m *testing.M) {
	flag.Parse()
	// Without root every test skips (or fails under CI) before it needs
	// the builds, so they are not made.
	if testing.Short() || os.Geteuid() != 0 {
		os.Exit(m.Run())
	}
	scratch, err := os.MkdirTemp("", "circleci-runner-systemtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	setupErr = build(scratch)
	code := m.Run()
	os.RemoveAll(scratch)
	os.Exit(code)
}

func build(scratch string) error {
	repoRoot, err := testdist.RepoRoot()
	if err != nil {
		return err
	}
	if releases, err = testdist.Build(repoRoot, testdist.GoCommand(), os.Stderr); err != nil {
		return err
	}

	// A static binary, because it runs inside the container.
	taskAgentBinary = filepath.Join(scratch, "local-task-agent")
	cmd := exec.Command(testdist.GoCommand(), "build", "-o", taskAgentBinary, "./tools/cmd/local-task-agent")
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./tools/cmd/local-task-agent: %v\n%s", err, out)
	}
	return nil
}
