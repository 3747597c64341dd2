package systemtest

import (
	"strings"
	"testing"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/localapi"
)

func TestJobRunsThroughLaunchTask(t *testing.T) {
	t.Parallel()
	s := installedSystem(t, firstToken)

	job := s.waitForEnd(s.enqueue("identity").ID, time.Minute)

	if job.State != localapi.StateSucceeded {
		t.Fatalf("job ended as %s (%s), expected succeeded", job.State, job.Message)
	}
	id := launchID(job)
	if id == "" {
		t.Fatalf("the job printed no working directory:\n%s", strings.Join(outputLines(job), "\n"))
	}
	lines := outputLines(job)
	if !contains(lines, "workdir="+workdirBase+"/"+id) {
		t.Errorf("the job ran in %q, expected %s/LAUNCH_ID", job.Steps[0].Output, workdirBase)
	}
	if !contains(lines, "user=circleci") {
		t.Errorf("the job did not run as circleci:\n%s", strings.Join(lines, "\n"))
	}
	// Under hybrid cgroups the job also prints the version 1 controller
	// hierarchies, which systemd does not manage in the container. Only
	// the systemd and unified hierarchies name the unit.
	transient := "/system.slice/circleci-" + id + ".service"
	var cgroups []string
	for _, line := range linesWithPrefix(lines, "cgroup=") {
		if strings.HasPrefix(line, "cgroup=0::") || strings.Contains(line, ":name=systemd:") {
			cgroups = append(cgroups, line)
		}
	}
	if len(cgroups) == 0 {
		t.Errorf("the job printed no systemd cgroup:\n%s", strings.Join(linesWithPrefix(lines, "cgroup="), "\n"))
	}
	for _, cgroup := range cgroups {
		if !strings.HasSuffix(cgroup, transient) {
			t.Errorf("the job ran in cgroup %q, expected the transient unit's %s", cgroup, transient)
		}
	}
	environment := linesWithPrefix(lines, "env=")
	if len(environment) == 0 {
		t.Error("the job printed no environment")
	}
	for _, variable := range environment {
		if strings.HasPrefix(variable, "env=LAUNCH_AGENT_") || strings.HasPrefix(variable, "env=CIRCLECI_RUNNER_") ||
			strings.HasPrefix(variable, "env=NOTIFY_SOCKET=") {
			t.Errorf("the job's environment has the agent's %s", strings.TrimPrefix(variable, "env="))
		}
		if strings.Contains(variable, firstToken) {
			t.Errorf("the job's environment has the resource class token in %s", strings.SplitN(variable, "=", 3)[1])
		}
	}

	started := entriesWithMessage(s.journal(), "task agent started")
	if len(started) != 1 || field(started[0].Fields, "launch_id") != id {
		t.Errorf("the agent logged %d task starts, expected one with launch_id %s", len(started), id)
	}
	// The task ended for the runner API before launch-task returned, so
	// the unit and the working directory may take a moment to go.
	s.waitForTaskGone(id)
	s.waitForEmptyWorkdir()
}

// waitForEmptyWorkdir waits until /opt/circleci/workdir is empty, as the
// agent leaves it after removing a task's working directory.
func (s *system) waitForEmptyWorkdir() {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		entries := s.workdirEntries()
		if len(entries) == 0 {
			return
		}
		if time.Now().After(deadline) {
			s.t.Errorf("%s contains %v 15s after the job, expected its working directory removed", workdirBase, entries)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitForTaskGone waits until the transient unit of launch id is unloaded,
// as systemd-run --collect makes it once it has stopped.
func (s *system) waitForTaskGone(id string) {
	s.t.Helper()
	unit := "circleci-" + id + ".service"
	state := s.machine.WaitForUnitProperty(unit, "LoadState", 30*time.Second, func(v string) bool { return v == "not-found" })
	if state != "not-found" {
		s.t.Errorf("%s is still %s (%s) 30s after the job ended", unit, state, s.machine.UnitProperty(unit, "ActiveState"))
	}
}

func TestNoProcessOutlivesTask(t *testing.T) {
	t.Parallel()
	s := installedSystem(t, firstToken)
	leftovers := []string{"sleep 600", "sleep 601"}

	// A job that ends on its own.
	job := s.waitForStep(s.enqueue("leftovers").ID, 1, time.Minute)
	s.waitForProcesses(leftovers)
	job = s.waitForEnd(job.ID, time.Minute)
	if job.State != localapi.StateSucceeded {
		t.Fatalf("job ended as %s (%s), expected succeeded", job.State, job.Message)
	}
	s.waitForTaskGone(launchID(job))
	if left := s.processesMatching(leftovers...); len(left) != 0 {
		t.Errorf("processes outlived the job:\n%s", strings.Join(left, "\n"))
	}
	if left := s.processesOf("circleci"); len(left) != 0 {
		t.Errorf("processes of circleci outlived the job:\n%s", strings.Join(left, "\n"))
	}

	// A job that the agent cancels on SIGTERM.
	pid := s.property("MainPID")
	job = s.waitForStep(s.enqueue("leftovers-long").ID, 2, time.Minute)
	s.waitForProcesses(leftovers)
	s.machine.Run("systemctl", "kill", "--kill-whom=main", "--signal=SIGTERM", serviceUnit)
	job = s.waitForJob(job.ID, time.Minute, "a fail event", func(job localapi.Job) bool { return reports(job) > 0 })
	s.waitForTaskGone(launchID(job))
	if left := s.processesMatching(leftovers...); len(left) != 0 {
		t.Errorf("processes outlived the cancel:\n%s", strings.Join(left, "\n"))
	}
	if left := s.processesOf("circleci"); len(left) != 0 {
		t.Errorf("processes of circleci outlived the cancel:\n%s", strings.Join(left, "\n"))
	}
	// The agent exits 0 after a cancel, and Restart=always starts it again.
	s.waitForNewMainPID(pid, 30*time.Second)
}

// waitForProcesses waits until a process matches each of needles, so that
// a later check that none is left tests something.
func (s *system) waitForProcesses(needles []string) {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		missing := ""
		for _, needle := range needles {
			if len(s.processesMatching(needle)) == 0 {
				missing = needle
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no process %q appeared while the job ran:\n%s", missing, strings.Join(s.processes(), "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// processesOf returns the processes of user.
func (s *system) processesOf(user string) []string {
	s.t.Helper()
	var out []string
	for _, line := range s.processes() {
		if fields := strings.Fields(line); len(fields) > 1 && fields[1] == user {
			out = append(out, line)
		}
	}
	return out
}

func contains(lines []string, line string) bool {
	for _, l := range lines {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

func linesWithPrefix(lines []string, prefix string) []string {
	var out []string
	for _, line := range lines {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return out
}
