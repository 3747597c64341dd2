// Command circleci-launch-agent claims CircleCI tasks from the runner API and
// runs each one through the task agent.
package main

import (
	"fmt"
	"os"

	"github.com/circleci-runner/circleci-runner/pkg/version"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "--version" {
		fmt.Println(version.Version())
		return
	}
	fmt.Fprintln(os.Stderr, "circleci-launch-agent: not built yet")
	os.Exit(1)
}
