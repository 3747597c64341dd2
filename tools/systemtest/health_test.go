package systemtest

import (
	"strings"
	"testing"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/localapi"
	"github.com/circleci-runner/circleci-runner/tools/testroot"
)

func TestInstallReportsHealthy(t *testing.T) {
	t.Parallel()
	s := bootSystem(t)
	s.install(firstToken)
	installed := time.Now()

	status := s.machine.WaitForUnitProperty(serviceUnit, "StatusText", 10*time.Second, func(v string) bool { return v == "Healthy" })
	t.Logf("Healthy %s after apt-get install returned", time.Since(installed).Round(time.Millisecond))
	if status != "Healthy" {
		t.Errorf("StatusText = %q 10s after install, expected Healthy", status)
	}
	active, err := s.machine.Exec(testroot.Command{Args: []string{"systemctl", "is-active", "circleci"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(active.Stdout); got != "active" {
		t.Errorf("systemctl is-active circleci printed %q, expected active", got)
	}

	startup := entriesWithMessage(s.journal(), "launch agent starting")
	if len(startup) != 1 {
		t.Fatalf("journalctl -u circleci has %d startup lines, expected 1", len(startup))
	}
	if got := field(startup[0].Fields, "settings", "api.auth_token", "value"); got != localapi.MaskToken(firstToken) {
		t.Errorf("startup line shows api.auth_token as %q, expected %q", got, localapi.MaskToken(firstToken))
	}
	journal := s.machine.Run("journalctl", "--unit", serviceUnit, "--output", "json", "--no-pager").Stdout
	if strings.Contains(journal, firstToken) {
		t.Error("journalctl -u circleci shows the token unmasked")
	}
}

// The reference installation procedure enables the unit by the path of
// its copy in /opt/circleci. On a host where the package already enabled
// it, the command must succeed and leave the running agent alone.
func TestReferenceEnableCommandWorks(t *testing.T) {
	t.Parallel()
	s := installedSystem(t, firstToken)
	pid := s.property("MainPID")

	enable, err := s.machine.Exec(testroot.Command{Args: []string{"systemctl", "enable", "/opt/circleci/circleci.service"}})
	if err != nil {
		t.Fatal(err)
	}
	s.machine.Run("systemctl", "daemon-reload")

	if enable.ExitCode != 0 {
		t.Errorf("systemctl enable /opt/circleci/circleci.service exited %d:\n%s", enable.ExitCode, enable.Output())
	}
	if enabled := strings.TrimSpace(s.machine.Run("systemctl", "is-enabled", serviceUnit).Stdout); enabled != "enabled" {
		t.Errorf("systemctl is-enabled printed %q, expected enabled", enabled)
	}
	if got := s.property("MainPID"); got != pid {
		t.Errorf("MainPID changed from %s to %s on systemctl enable", pid, got)
	}
	if status := s.property("StatusText"); status != "Healthy" {
		t.Errorf("StatusText = %q after systemctl enable, expected Healthy", status)
	}
}

func TestUnhealthyWithReasonWithoutRestart(t *testing.T) {
	t.Parallel()
	s := bootSystem(t)
	s.install(rejectedToken)
	pid := s.property("MainPID")

	// The local runner API rejects the token with 401.
	status := s.waitForStatus("Unhealthy: ", 10*time.Second)
	if !strings.Contains(status, "HTTP 401") || !strings.Contains(status, "dpkg-reconfigure circleci-runner") {
		t.Errorf("StatusText = %q, expected the 401 and a hint to run dpkg-reconfigure", status)
	}
	// With claim_interval 1s a healthy agent would claim about six times
	// in six seconds, but a rejected token is retried after 15 s at the
	// earliest.
	firstRejected := time.Now()
	time.Sleep(6 * time.Second)
	if rejected := countClaims(s.api.Calls(), 401); rejected > 2 {
		t.Errorf("%d claims were rejected within %s of the first, expected claims to slow down", rejected, time.Since(firstRejected).Round(time.Second))
	}
	if state := s.property("ActiveState"); state != "active" {
		t.Errorf("circleci.service is %s with a rejected token, expected active", state)
	}
	if restarts := s.property("NRestarts"); restarts != "0" {
		t.Errorf("NRestarts = %s with a rejected token, expected 0", restarts)
	}

	s.reconfigure(firstToken)
	s.waitForStatus("Healthy", 10*time.Second)
	if got := s.property("MainPID"); got != pid {
		t.Errorf("MainPID changed from %s to %s on reconfigure, expected a reload in place", pid, got)
	}

	s.api.Close()
	status = s.waitForStatus("Unhealthy: ", 15*time.Second)
	if !strings.Contains(status, s.apiURL) {
		t.Errorf("StatusText = %q with the API stopped, expected it to name %s", status, s.apiURL)
	}
	s.startAPI(s.apiAddr)
	s.waitForStatus("Healthy", 30*time.Second)

	if got := s.property("MainPID"); got != pid {
		t.Errorf("MainPID changed from %s to %s, expected one agent throughout", pid, got)
	}
	if restarts := s.property("NRestarts"); restarts != "0" {
		t.Errorf("NRestarts = %s, expected 0", restarts)
	}
}

// countClaims returns how many claims got a response with status from the
// local runner API.
func countClaims(calls []localapi.Call, status int) int {
	count := 0
	for _, call := range calls {
		if call.Path == "/api/v3/runner/claim" && call.Status == status {
			count++
		}
	}
	return count
}

func TestInstallWithoutTokenDoesNotLoop(t *testing.T) {
	t.Parallel()
	s := bootSystem(t)
	output := s.install("")

	if !strings.Contains(output, "dpkg-reconfigure circleci-runner") {
		t.Errorf("apt-get install printed no hint to run dpkg-reconfigure:\n%s", output)
	}
	// Longer than RestartSec (5 s), so a restart would have happened.
	time.Sleep(6 * time.Second)
	if state := s.property("ActiveState"); state != "inactive" {
		t.Errorf("circleci.service is %s after an install without a token, expected inactive", state)
	}
	if enabled := strings.TrimSpace(s.machine.Run("systemctl", "is-enabled", serviceUnit).Stdout); enabled != "enabled" {
		t.Errorf("systemctl is-enabled printed %q, expected enabled, so that a configured runner starts at boot", enabled)
	}

	// The next boot starts the enabled unit: it fails once with the hint
	// and is not restarted.
	start, err := s.machine.Exec(testroot.Command{Args: []string{"systemctl", "start", serviceUnit}, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if start.ExitCode == 0 {
		t.Error("systemctl start circleci succeeded without a token")
	}
	time.Sleep(6 * time.Second)
	if state := s.property("ActiveState"); state != "failed" {
		t.Errorf("circleci.service is %s after a start without a token, expected failed", state)
	}
	if status := s.property("ExecMainStatus"); status != "78" {
		t.Errorf("the agent exited with status %s, expected 78 (EX_CONFIG)", status)
	}
	if restarts := s.property("NRestarts"); restarts != "0" {
		t.Errorf("NRestarts = %s without a token, expected no restart", restarts)
	}
	status, err := s.machine.Exec(testroot.Command{Args: []string{"systemctl", "status", "--no-pager", "--lines=20", serviceUnit}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(status.Stdout, "dpkg-reconfigure circleci-runner") {
		t.Errorf("systemctl status circleci shows no hint to run dpkg-reconfigure:\n%s", status.Stdout)
	}
}
