package systemtest

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/localapi"
	"github.com/circleci-runner/circleci-runner/tools/taskproto"
)

// parkedJob is the one job of the config's workflow. Its resource class
// has no runner, so it stays queued. The tests enqueue the other jobs.
const parkedJob = "parked"

// circleciConfig is the CircleCI config of the local runner API: the
// lifecycle jobs below and hostileJobs. The first step of every job prints
// its working directory, whose last part is the launch id.
const circleciConfig = lifecycleJobs + hostileJobs + workflows

// lifecycleJobs defines the anchor *workdir, which hostileJobs uses too.
const lifecycleJobs = `version: 2.1

jobs:
  parked:
    machine: true
    resource_class: test/parked
    steps:
      - run: "true"

  identity:
    machine: true
    resource_class: test/system
    steps:
      - run: &workdir
          name: Show the working directory
          command: echo "workdir=$PWD"
      - run:
          name: Show who runs the job
          command: |
            echo "user=$(id -un)"
            sed 's/^/cgroup=/' /proc/self/cgroup
            env | sed 's/^/env=/'

  short:
    machine: true
    resource_class: test/system
    steps:
      - run: *workdir
      - run: echo done

  sleep-10:
    machine: true
    resource_class: test/system
    steps:
      - run: *workdir
      - run: sleep 10

  sleep-20:
    machine: true
    resource_class: test/system
    steps:
      - run: *workdir
      - run: sleep 20

  long:
    machine: true
    resource_class: test/system
    steps:
      - run: *workdir
      - run: sleep 600

  leftovers:
    machine: true
    resource_class: test/system
    steps:
      - run: *workdir
      - run: &leave
          name: Leave processes behind
          command: |
            nohup sleep 600 >/dev/null 2>&1 &
            setsid sleep 601 >/dev/null 2>&1 </dev/null &
            sleep 5

  leftovers-long:
    machine: true
    resource_class: test/system
    steps:
      - run: *workdir
      - run: *leave
      - run: sleep 300
`

const workflows = `
workflows:
  parked:
    jobs: [parked]
`

// enqueue queues a new run of the config job name.
func (s *system) enqueue(name string) localapi.Job {
	s.t.Helper()
	job, err := s.api.Enqueue(name)
	if err != nil {
		s.t.Fatal(err)
	}
	return job
}

// waitForJob waits until accept returns true for the job's record and
// returns it, failing the test with what it waited for after timeout.
func (s *system) waitForJob(id string, timeout time.Duration, what string, accept func(localapi.Job) bool) localapi.Job {
	s.t.Helper()
	deadline := time.After(timeout)
	for {
		changed := s.api.Changed()
		job, ok := s.api.Job(id)
		if !ok {
			s.t.Fatalf("no job has id %s", id)
		}
		if accept(job) {
			return job
		}
		select {
		case <-changed:
		case <-time.After(time.Second):
		case <-deadline:
			s.t.Fatalf("job %s is %s after %s, expected %s", job.Name, job.State, timeout, what)
		}
	}
}

// waitForEnd waits until the job has ended.
func (s *system) waitForEnd(id string, timeout time.Duration) localapi.Job {
	s.t.Helper()
	return s.waitForJob(id, timeout, "it to end", func(job localapi.Job) bool {
		return job.State.Ended()
	})
}

// waitForStep waits until the job's step (counted from 0) runs, so the
// steps before it have ended.
func (s *system) waitForStep(id string, step int, timeout time.Duration) localapi.Job {
	s.t.Helper()
	return s.waitForJob(id, timeout, fmt.Sprintf("step %d to run", step), func(job localapi.Job) bool {
		return len(job.Steps) > step && job.Steps[step].Status == taskproto.StatusRunning
	})
}

// launchID returns the launch id of the job's run, the last part of the
// working directory that its first step printed.
func launchID(job localapi.Job) string {
	for _, line := range strings.Split(job.Steps[0].Output, "\n") {
		if dir, ok := strings.CutPrefix(strings.TrimSpace(line), "workdir="); ok {
			return path.Base(dir)
		}
	}
	return ""
}

// outputLines returns the lines of every step's output.
func outputLines(job localapi.Job) []string {
	var lines []string
	for _, step := range job.Steps {
		lines = append(lines, strings.Split(step.Output, "\n")...)
	}
	return lines
}

// reports returns how often the launch agent reported the job as not run
// by it: its fail events and unclaims.
func reports(job localapi.Job) int {
	return len(job.FailEvents) + job.Unclaims
}
