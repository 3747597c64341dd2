package systemtest

import (
	"strings"
	"testing"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/localapi"
)

func TestProxySettingsReachJob(t *testing.T) {
	t.Parallel()
	s := installedSystem(t, firstToken)

	// The proxy is never contacted: Go clients do not proxy requests to
	// 127.0.0.1, where the local runner API listens, and no job step uses
	// the network.
	const proxy = "http://user:proxy-secret@proxy.invalid:3128"
	s.machine.Shell(`printf 'HTTPS_PROXY=` + proxy + `\nno_proxy=127.0.0.1\n' >> /etc/default/circleci-runner`)
	pid := s.property("MainPID")
	s.machine.Run("systemctl", "restart", serviceUnit)
	s.waitForNewMainPID(pid, 20*time.Second)
	s.waitForStatus("Healthy", 20*time.Second)

	id := s.enqueue("identity").ID
	job := s.waitForEnd(id, time.Minute)

	if job.State != localapi.StateSucceeded {
		t.Fatalf("job ended as %s (%s), expected succeeded", job.State, job.Message)
	}
	lines := outputLines(job)
	if !contains(lines, "env=HTTPS_PROXY="+proxy) {
		t.Errorf("the job's environment lacks HTTPS_PROXY:\n%s", strings.Join(linesWithPrefix(lines, "env="), "\n"))
	}
	if !contains(lines, "env=no_proxy=127.0.0.1") {
		t.Errorf("the job's environment lacks no_proxy:\n%s", strings.Join(linesWithPrefix(lines, "env="), "\n"))
	}
	if !contains(lines, "env=CIRCLECI_LAUNCH_ID="+launchID(job)) {
		t.Errorf("the job's environment lacks CIRCLECI_LAUNCH_ID=%s", launchID(job))
	}
}
