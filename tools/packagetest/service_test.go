package packagetest

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/testroot"
)

// serviceUnit is the unit that the package installs.
const serviceUnit = "circleci.service"

// A smoke test of the unit under a booted systemd: the agent reaches
// READY, a reconfigure reloads it in place, an upgrade lets it exit and
// systemd start the new version, and remove stops it. The API URL is a
// closed port on loopback, so the agent reports Unhealthy but runs.
func TestServiceLifecycleUnderSystemd(t *testing.T) {
	root := amd64Root(t)
	installPackage(t, root, current.debs["amd64"], fullAnswers(firstToken))
	// The stand-in that keeps services from starting in the chroot must
	// not stop them under systemd.
	root.Run("rm", "/usr/sbin/policy-rc.d")
	newerDeb := "/var/tmp/" + filepath.Base(newer.debs["amd64"])
	root.CopyIn(newer.debs["amd64"], newerDeb)
	machine := root.Boot(testroot.BootOptions{})

	state := machine.WaitForUnitProperty(serviceUnit, "ActiveState", 30*time.Second, func(s string) bool { return s == "active" })
	if state != "active" {
		t.Fatalf("circleci.service is %s after boot:\n%s", state, machine.Run("journalctl", "-u", "circleci", "--no-pager").Stdout)
	}
	status := machine.UnitProperty(serviceUnit, "StatusText")
	if !strings.HasPrefix(status, "Unhealthy") {
		t.Errorf("StatusText = %q, expected Unhealthy with the API on a closed port", status)
	}
	pid := machine.UnitProperty(serviceUnit, "MainPID")

	preseedResult, err := machine.Exec(testroot.Command{
		Args:  []string{"debconf-set-selections"},
		Stdin: strings.NewReader("circleci-runner circleci-runner/auth_token password " + secondToken + "\n"),
	})
	if err != nil || preseedResult.ExitCode != 0 {
		t.Fatalf("debconf-set-selections: %v %s", err, preseedResult.Output())
	}
	machine.Run("env", "DEBIAN_FRONTEND=noninteractive", "dpkg-reconfigure", "circleci-runner")
	if got := machine.UnitProperty(serviceUnit, "MainPID"); got != pid {
		t.Errorf("reconfigure restarted the agent: MainPID %s, then %s", pid, got)
	}
	if !strings.Contains(root.ReadFile(configPath), secondToken) {
		t.Error("reconfigure did not write the new token")
	}

	// launch-task runs its command as circleci in a transient unit and
	// passes standard input through, which carries the task token.
	launched, err := machine.Exec(testroot.Command{
		Args:  []string{"env", "CIRCLECI_LAUNCH_ID=smoke-1", "/opt/circleci/launch-task", "/bin/sh", "-c", "read token; echo \"$(id -un) $token\""},
		Stdin: strings.NewReader("task-token-1\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if launched.ExitCode != 0 || strings.TrimSpace(launched.Stdout) != "circleci task-token-1" {
		t.Errorf("launch-task exited %d with output %q, expected \"circleci task-token-1\"", launched.ExitCode, launched.Output())
	}
	failed, err := machine.Exec(testroot.Command{Args: []string{"env", "CIRCLECI_LAUNCH_ID=smoke-2", "/opt/circleci/launch-task", "/bin/sh", "-c", "exit 3"}})
	if err != nil {
		t.Fatal(err)
	}
	if failed.ExitCode == 0 {
		t.Errorf("launch-task exited 0 for a command that failed:\n%s", failed.Output())
	}

	machine.Run("dpkg", "-i", newerDeb)
	newPID := machine.WaitForUnitProperty(serviceUnit, "MainPID", time.Minute, func(s string) bool { return s != pid && s != "0" })
	if newPID == pid || newPID == "0" {
		t.Errorf("the agent did not restart after the upgrade: MainPID %s", newPID)
	}
	// MainPID is set at fork, before the exec of the agent, and with
	// Type=notify the unit is active only once the new agent sent READY=1.
	machine.WaitForUnitProperty(serviceUnit, "ActiveState", 30*time.Second, func(s string) bool { return s == "active" })
	version := machine.Run("/proc/"+newPID+"/exe", "--version")
	if !strings.Contains(version.Stdout, newer.version) {
		t.Errorf("the running agent (PID %s) is version %q, expected %s", newPID, version.Stdout, newer.version)
	}
	if restarts := machine.UnitProperty(serviceUnit, "NRestarts"); restarts != "1" {
		t.Errorf("NRestarts = %s, expected the one restart after the old agent exited", restarts)
	}

	machine.Run("dpkg", "--remove", "circleci-runner")
	if state := machine.UnitProperty(serviceUnit, "ActiveState"); state != "inactive" {
		t.Errorf("circleci.service is %s after remove", state)
	}
}
