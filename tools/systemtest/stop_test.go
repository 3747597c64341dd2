package systemtest

import (
	"strings"
	"testing"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/localapi"
	"github.com/circleci-runner/circleci-runner/tools/testroot"
)

// stopService runs systemctl stop circleci and returns how long it took.
func (s *system) stopService() time.Duration {
	s.t.Helper()
	start := time.Now()
	result, err := s.machine.Exec(testroot.Command{Args: []string{"systemctl", "stop", serviceUnit}, Timeout: 5 * time.Minute})
	if err != nil || result.ExitCode != 0 {
		s.t.Fatalf("systemctl stop circleci: %v, exit %d:\n%s", err, result.ExitCode, result.Output())
	}
	return time.Since(start)
}

func TestStopDrainsThenCancels(t *testing.T) {
	t.Parallel()
	s := installedSystem(t, firstToken)

	// The default DRAIN_TIMEOUT (5m) lets a 20 s job finish.
	job := s.waitForStep(s.enqueue("sleep-20").ID, 1, time.Minute)
	elapsed := s.stopService()
	t.Logf("systemctl stop took %s while a 20 s job ran", elapsed.Round(time.Millisecond))
	stopped := time.Now()
	job, _ = s.api.Job(job.ID)
	if job.State != localapi.StateSucceeded {
		t.Errorf("job is %s (%s) after the stop, expected it to have finished first", job.State, job.Message)
	}
	if reports(job) != 0 {
		t.Errorf("job got %d fail events and %d unclaims, expected none", len(job.FailEvents), job.Unclaims)
	}
	if job.EndedAt.After(stopped) {
		t.Errorf("job ended at %s, after systemctl stop returned at %s", job.EndedAt, stopped)
	}
	if state := s.property("ActiveState"); state != "inactive" {
		t.Errorf("circleci.service is %s after the stop, expected inactive", state)
	}
	if left := s.transientUnits(); len(left) != 0 {
		t.Errorf("transient units are left after the stop: %v", left)
	}

	// With DRAIN_TIMEOUT=2s the stop cancels the job. stop-agent reads
	// the file when the stop begins, so the edit needs no restart.
	s.machine.Run("systemctl", "start", serviceUnit)
	s.waitForStatus("Healthy", 20*time.Second)
	s.machine.Run("sed", "-i", "s/^#DRAIN_TIMEOUT=.*/DRAIN_TIMEOUT=2s/", "/etc/default/circleci-runner")
	job = s.waitForStep(s.enqueue("long").ID, 1, time.Minute)
	id := launchID(job)
	elapsed = s.stopService()
	t.Logf("systemctl stop took %s with DRAIN_TIMEOUT=2s", elapsed.Round(time.Millisecond))

	// TimeoutStopSec is 10 minutes, while the cancel needs only
	// DRAIN_TIMEOUT, the task agent's own stop and a fail event.
	if elapsed > 30*time.Second {
		t.Errorf("systemctl stop took %s with DRAIN_TIMEOUT=2s, expected well under TimeoutStopSec", elapsed.Round(time.Second))
	}
	job, _ = s.api.Job(job.ID)
	if len(job.FailEvents) != 1 {
		t.Errorf("cancelled job got %d fail events, expected 1", len(job.FailEvents))
	} else if !strings.Contains(job.FailEvents[0].Message, "cancelled") {
		t.Errorf("fail event message %q does not say the task was cancelled", job.FailEvents[0].Message)
	}
	if left := s.processesMatching("sleep 600", "circleci-agent"); len(left) != 0 {
		t.Errorf("processes of the cancelled job remain:\n%s", strings.Join(left, "\n"))
	}
	if left := s.processesOf("circleci"); len(left) != 0 {
		t.Errorf("processes of circleci remain after the cancel:\n%s", strings.Join(left, "\n"))
	}
	if entries := s.workdirEntries(); len(entries) != 0 {
		t.Errorf("%s contains %v after the cancel, expected %s removed", workdirBase, entries, id)
	}
	if left := s.transientUnits(); len(left) != 0 {
		t.Errorf("transient units are left after the cancel: %v", left)
	}
	if state := s.property("ActiveState"); state != "inactive" {
		t.Errorf("circleci.service is %s after the stop, expected inactive", state)
	}
	if !s.journalHas("stop-agent", "did not finish within DRAIN_TIMEOUT=2s") {
		t.Error("stop-agent logged no cancel after DRAIN_TIMEOUT=2s")
	}
}

// journalHas reports whether a journal entry of the process command
// contains text.
func (s *system) journalHas(command, text string) bool {
	s.t.Helper()
	for _, entry := range s.journal() {
		if entry.Command == command && strings.Contains(entry.Message, text) {
			return true
		}
	}
	return false
}

func TestKilledAgentReportsTaskOnce(t *testing.T) {
	t.Parallel()
	s := installedSystem(t, firstToken)
	pid := s.property("MainPID")

	killed := s.waitForStep(s.enqueue("long").ID, 1, time.Minute)
	next := s.enqueue("short")
	id := launchID(killed)
	unit := "circleci-" + id + ".service"
	if state := s.machine.UnitProperty(unit, "ActiveState"); state != "active" {
		t.Fatalf("%s is %s while the job runs, expected active", unit, state)
	}

	s.machine.Run("kill", "-9", pid)
	newPID := s.waitForNewMainPID(pid, 30*time.Second)
	next = s.waitForEnd(next.ID, time.Minute)

	if next.State != localapi.StateSucceeded {
		t.Errorf("the next job ended as %s (%s), expected succeeded", next.State, next.Message)
	}
	killed, _ = s.api.Job(killed.ID)
	if reports(killed) != 1 {
		t.Errorf("the interrupted job got %d fail events and %d unclaims, expected to be reported exactly once",
			len(killed.FailEvents), killed.Unclaims)
	}
	if state := s.machine.UnitProperty(unit, "LoadState"); state != "not-found" {
		t.Errorf("%s is %s (%s) after the restart, expected it stopped and collected", unit, state, s.machine.UnitProperty(unit, "ActiveState"))
	}
	if left := s.processesMatching("sleep 600"); len(left) != 0 {
		t.Errorf("processes of the interrupted job remain:\n%s", strings.Join(left, "\n"))
	}
	s.waitForEmptyWorkdir()
	if restarts := s.property("NRestarts"); restarts != "1" {
		t.Errorf("NRestarts = %s, expected the one restart after kill -9", restarts)
	}
	recovered := entriesWithMessage(s.journal(), "found a task interrupted by a restart of the agent; reporting it")
	if len(recovered) != 1 || recovered[0].PID != newPID || field(recovered[0].Fields, "launch_id") != id {
		t.Errorf("the restarted agent (PID %s) logged %d recoveries, expected one of launch id %s", newPID, len(recovered), id)
	}
}

func TestSingleTaskModeRestartsPerJob(t *testing.T) {
	t.Parallel()
	s := installedSystem(t, firstToken)
	s.machine.Run("circleci-launch-agent", "config", "set", "runner.mode=single-task")
	s.machine.Run("systemctl", "reload", serviceUnit)
	// The reload is applied before the next claim, and logged.
	s.waitForJournal("configuration reloaded")
	pid := s.property("MainPID")

	first := s.enqueue("short")
	second := s.enqueue("short")
	first = s.waitForEnd(first.ID, time.Minute)
	second = s.waitForEnd(second.ID, time.Minute)

	for _, job := range []localapi.Job{first, second} {
		if job.State != localapi.StateSucceeded {
			t.Errorf("job %s ended as %s (%s), expected succeeded", job.ID, job.State, job.Message)
		}
	}
	claimers := map[string]string{}
	for _, entry := range entriesWithMessage(s.journal(), "claimed task") {
		claimers[field(entry.Fields, "allocation")] = entry.PID
	}
	firstPID, secondPID := claimers[first.Claims[0].Allocation], claimers[second.Claims[0].Allocation]
	if firstPID != pid {
		t.Errorf("the first job was claimed by PID %q, expected the running agent %s", firstPID, pid)
	}
	if secondPID == "" || secondPID == firstPID {
		t.Errorf("the second job was claimed by PID %q, expected a new agent after the first exited", secondPID)
	}
	if len(entriesWithMessage(s.journal(), "runner.mode is single-task; stopping after one task")) == 0 {
		t.Error("the agent did not log that it stops after one task")
	}
	if restarts := s.property("NRestarts"); restarts == "0" {
		t.Error("NRestarts = 0, expected systemd to start the agent again after each job")
	}
}

// waitForJournal waits until an entry of circleci.service has message.
func (s *system) waitForJournal(message string) {
	s.t.Helper()
	s.waitForEntry(message, "")
}

// waitForEntry waits until process pid, or any process when pid is empty,
// has logged message to the journal of circleci.service, and returns the
// first such entry. journald may store an entry a moment after the process
// sent it.
func (s *system) waitForEntry(message, pid string) logEntry {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		for _, entry := range entriesWithMessage(s.journal(), message) {
			if pid == "" || entry.PID == pid {
				return entry
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("circleci.service logged no %q from PID %q within 15s", message, pid)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
