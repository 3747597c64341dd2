package systemtest

import (
	"strings"
	"testing"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/localapi"
	"github.com/circleci-runner/circleci-runner/tools/testroot"
)

func TestUpgradeDuringJob(t *testing.T) {
	t.Parallel()
	s := installedSystem(t, firstToken)
	pid := s.property("MainPID")
	job := s.waitForStep(s.enqueue("sleep-20").ID, 1, time.Minute)

	s.repository.publish(releases.Newer.Dir)
	s.apt("update")
	start := time.Now()
	s.apt("install", "--yes", "circleci-runner")
	elapsed := time.Since(start)
	t.Logf("apt-get install of the newer version took %s during the job", elapsed.Round(time.Millisecond))

	if elapsed > 10*time.Second {
		t.Errorf("apt-get install took %s during a job, expected it to return within 10s", elapsed.Round(time.Second))
	}
	s.checkUpgradeLetsJobFinish(pid, job.ID)
}

func TestUnattendedUpgradeDuringJob(t *testing.T) {
	t.Parallel()
	s := bootSystem(t)
	// unattended-upgrades takes packages only from the origins it is
	// given, and the repository's Release file has "Origin: circleci-runner".
	s.writeFile("/etc/apt/apt.conf.d/51circleci-runner-test",
		"Unattended-Upgrade::Origins-Pattern { \"origin=circleci-runner\"; };\n", "0644")
	// needrestart restarts, without asking, every service it finds
	// running an old binary, unless the package's override stops it.
	s.writeFile("/etc/needrestart/conf.d/zz-system-test.conf", "$nrconf{restart} = 'a';\n", "0644")
	s.install(firstToken)
	s.waitForStatus("Healthy", 20*time.Second)
	pid := s.property("MainPID")
	job := s.waitForStep(s.enqueue("sleep-20").ID, 1, time.Minute)

	s.repository.publish(releases.Newer.Dir)
	s.apt("update")
	start := time.Now()
	upgrade, err := s.machine.Exec(testroot.Command{Args: []string{"unattended-upgrade", "-v"}, Timeout: 3 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("unattended-upgrade took %s during the job", time.Since(start).Round(time.Millisecond))
	if upgrade.ExitCode != 0 {
		t.Fatalf("unattended-upgrade exited %d:\n%s", upgrade.ExitCode, upgrade.Output())
	}
	if !strings.Contains(upgrade.Output(), "Packages that will be upgraded: circleci-runner") {
		t.Errorf("unattended-upgrade did not upgrade circleci-runner:\n%s", upgrade.Output())
	}
	// needrestart runs from apt's DPkg::Post-Invoke hook. It finds the
	// agent running a replaced binary, and the package's override makes
	// it defer the restart instead of making it.
	dpkgLog := s.machine.Run("cat", "/var/log/unattended-upgrades/unattended-upgrades-dpkg.log").Stdout
	if !strings.Contains(dpkgLog, "Service restarts being deferred:\n systemctl restart circleci.service\n") {
		t.Errorf("needrestart did not defer the restart of circleci.service:\n%s", dpkgLog)
	}

	s.checkUpgradeLetsJobFinish(pid, job.ID)
}

// checkUpgradeLetsJobFinish checks what follows an upgrade to the newer
// version during the job: the agent pid keeps running until the job has
// finished, then systemd starts the new version by itself.
func (s *system) checkUpgradeLetsJobFinish(pid, jobID string) {
	t := s.t
	t.Helper()
	version := strings.TrimSpace(s.machine.Run("dpkg-query", "--showformat=${Version}", "--show", "circleci-runner").Stdout)
	if version != releases.Newer.Version {
		t.Fatalf("circleci-runner %s is installed, expected %s", version, releases.Newer.Version)
	}
	if got := s.property("MainPID"); got != pid {
		t.Errorf("MainPID changed from %s to %s during the upgrade, expected the old agent to keep the job", pid, got)
	}
	if job, _ := s.api.Job(jobID); job.State != localapi.StateRunning {
		t.Errorf("job is %s right after the upgrade, expected it still running", job.State)
	}

	job := s.waitForEnd(jobID, time.Minute)
	if job.State != localapi.StateSucceeded || reports(job) != 0 {
		t.Errorf("job ended as %s with %d fail events, expected succeeded", job.State, len(job.FailEvents))
	}
	newPID := s.waitForNewMainPID(pid, 30*time.Second)

	entries := s.journal()
	finished := entriesWithMessage(entries, "task finished")
	if len(finished) != 1 || finished[0].PID != pid {
		t.Errorf("the job finished under %d agents, expected the old agent %s", len(finished), pid)
	}
	startup := s.waitForEntry("launch agent starting", newPID)
	if got := field(startup.Fields, "version"); got != releases.Newer.Version {
		t.Errorf("the new agent (PID %s) logged version %q at startup, expected %s", newPID, got, releases.Newer.Version)
	}
	running := s.machine.Run("/proc/"+newPID+"/exe", "--version").Stdout
	if !strings.Contains(running, releases.Newer.Version) {
		t.Errorf("the running agent --version printed %q, expected %s", running, releases.Newer.Version)
	}
	// systemd's own restart after the old agent exited 0, and no other.
	if restarts := s.property("NRestarts"); restarts != "1" {
		t.Errorf("NRestarts = %s, expected 1", restarts)
	}
}

func TestReconfigureDuringJob(t *testing.T) {
	t.Parallel()
	s := installedSystem(t, firstToken)
	pid := s.property("MainPID")
	running := s.waitForStep(s.enqueue("sleep-10").ID, 1, time.Minute)

	start := time.Now()
	s.reconfigure(secondToken)
	t.Logf("dpkg-reconfigure took %s during the job", time.Since(start).Round(time.Millisecond))
	reconfigured := time.Now()
	next := s.enqueue("short")

	if job, _ := s.api.Job(running.ID); job.State != localapi.StateRunning {
		t.Errorf("job is %s right after dpkg-reconfigure, expected it still running", job.State)
	}
	running = s.waitForEnd(running.ID, time.Minute)
	next = s.waitForEnd(next.ID, time.Minute)

	if running.State != localapi.StateSucceeded || reports(running) != 0 {
		t.Errorf("the running job ended as %s with %d fail events, expected succeeded", running.State, len(running.FailEvents))
	}
	if next.State != localapi.StateSucceeded {
		t.Errorf("the next job ended as %s (%s), expected succeeded", next.State, next.Message)
	}
	if got := running.Claims[0].Token; got != localapi.MaskToken(firstToken) {
		t.Errorf("the running job was claimed with token %s, expected the first token", got)
	}
	claims := 0
	for _, call := range s.api.Calls() {
		if call.Path == "/api/v3/runner/claim" && call.Time.After(reconfigured) {
			claims++
			if call.Token != localapi.MaskToken(secondToken) {
				t.Errorf("claim %d after dpkg-reconfigure used token %s, expected the new token %s", call.Seq, call.Token, localapi.MaskToken(secondToken))
			}
		}
	}
	if claims == 0 {
		t.Error("no claim after dpkg-reconfigure")
	}
	if got := s.property("MainPID"); got != pid {
		t.Errorf("MainPID changed from %s to %s, expected a reload in place", pid, got)
	}
	if restarts := s.property("NRestarts"); restarts != "0" {
		t.Errorf("NRestarts = %s, expected 0", restarts)
	}
}
