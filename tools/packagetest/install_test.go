package packagetest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/circleci-runner/circleci-runner/tools/testroot"
)

const (
	configPath   = "/opt/circleci/launch-agent-config.yaml"
	agentPath    = "/opt/circleci/circleci-launch-agent"
	policyLog    = "/var/log/policy-rc.d.log"
	firstToken   = "first-token-0123456789abcdef0123456789abcdef"
	secondToken  = "second-token-fedcba9876543210fedcba9876543210"
	resourceName = "test-namespace/test-class"
)

// answers are debconf answers to preseed, by question name without the
// package prefix.
type answers map[string]string

// fullAnswers is a complete preseed with a token.
func fullAnswers(token string) answers {
	return answers{
		"auth_token":     token,
		"runner_name":    "test-runner",
		"resource_class": resourceName,
		"api_url":        "http://127.0.0.1:9",
	}
}

// preseed stores debconf selections in the root's debconf database.
func preseed(t *testing.T, root *testroot.Overlay, values answers) {
	t.Helper()
	var b strings.Builder
	for question, value := range values {
		kind := "string"
		if question == "auth_token" {
			kind = "password"
		}
		b.WriteString("circleci-runner circleci-runner/" + question + " " + kind + " " + value + "\n")
	}
	root.RunCommand(testroot.Command{Args: []string{"debconf-set-selections"}, Stdin: strings.NewReader(b.String())})
}

// prepareSystemdStandIn makes the maintainer scripts take their systemd
// path in the chroot: /run/systemd/system exists, as under a running
// systemd, and policy-rc.d records each action that deb-systemd-invoke
// would take and forbids it (exit 101), so nothing is started.
func prepareSystemdStandIn(t *testing.T, root *testroot.Overlay) {
	t.Helper()
	if err := os.MkdirAll(root.Path("/run/systemd/system"), 0o755); err != nil {
		t.Fatal(err)
	}
	root.WriteFile("/usr/sbin/policy-rc.d", []byte("#!/bin/sh\necho \"$*\" >>"+policyLog+"\nexit 101\n"), 0o755)
}

// invokedActions returns the actions recorded by policy-rc.d, such as
// "circleci.service start".
func invokedActions(root *testroot.Overlay) []string {
	data, err := os.ReadFile(root.Path(policyLog))
	if err != nil {
		return nil
	}
	return lines(string(data))
}

// clearInvokedActions empties the policy-rc.d record.
func clearInvokedActions(root *testroot.Overlay) {
	os.Remove(root.Path(policyLog))
}

// dpkg runs dpkg in the root under the noninteractive debconf frontend,
// with standard input empty, and fails the test unless it exits 0.
func dpkg(t *testing.T, root *testroot.Overlay, args ...string) testroot.Result {
	t.Helper()
	return root.RunCommand(testroot.Command{
		Args: append([]string{"dpkg"}, args...),
		Env:  []string{"DEBIAN_FRONTEND=noninteractive"},
	})
}

// installPackage preseeds values (when not nil), installs deb with dpkg -i
// and returns dpkg's result.
func installPackage(t *testing.T, root *testroot.Overlay, deb string, values answers) testroot.Result {
	t.Helper()
	prepareSystemdStandIn(t, root)
	if values != nil {
		preseed(t, root, values)
	}
	inside := "/var/tmp/" + filepath.Base(deb)
	root.CopyIn(deb, inside)
	result := dpkg(t, root, "-i", inside)
	t.Logf("dpkg -i %s:\n%s", filepath.Base(deb), result.Output())
	return result
}

// passwdEntry returns the /etc/passwd fields of user, or nil.
func passwdEntry(root *testroot.Overlay, user string) []string {
	for _, line := range lines(root.ReadFile("/etc/passwd")) {
		fields := strings.Split(line, ":")
		if fields[0] == user {
			return fields
		}
	}
	return nil
}

// groupEntry returns the /etc/group fields of group, or nil.
func groupEntry(root *testroot.Overlay, group string) []string {
	for _, line := range lines(root.ReadFile("/etc/group")) {
		fields := strings.Split(line, ":")
		if fields[0] == group {
			return fields
		}
	}
	return nil
}

// fileOwner returns the mode and owner IDs of path inside root.
func fileOwner(t *testing.T, root *testroot.Overlay, path string) (os.FileMode, uint32, uint32) {
	t.Helper()
	info, err := os.Lstat(root.Path(path))
	if err != nil {
		t.Fatal(err)
	}
	stat := info.Sys().(*syscall.Stat_t)
	return info.Mode(), stat.Uid, stat.Gid
}

// configGet runs "circleci-launch-agent config get KEY" in the root.
func configGet(t *testing.T, root *testroot.Overlay, key string) string {
	t.Helper()
	result := root.Run(agentPath, "config", "get", "--config", configPath, key)
	return strings.TrimSpace(result.Stdout)
}

// debconfDatabase returns debconf's stored questions and passwords.
func debconfDatabase(root *testroot.Overlay) string {
	var b strings.Builder
	for _, file := range []string{"/var/cache/debconf/config.dat", "/var/cache/debconf/passwords.dat"} {
		data, _ := os.ReadFile(root.Path(file))
		b.Write(data)
	}
	return b.String()
}

// assertConfigFile checks the file's owner, mode, the reference keys and
// the token.
func assertConfigFile(t *testing.T, root *testroot.Overlay, token string) {
	t.Helper()
	mode, uid, gid := fileOwner(t, root, configPath)
	if mode.Perm() != 0o600 || uid != 0 || gid != 0 {
		t.Errorf("config has mode %v owner %d:%d, expected 0600 root:root", mode.Perm(), uid, gid)
	}
	text := root.ReadFile(configPath)
	for _, expected := range []string{
		"dpkg-reconfigure circleci-runner",
		`command_prefix: ["/opt/circleci/launch-task"]`,
		"working_directory: /opt/circleci/workdir/%s",
		"cleanup_working_directory: true",
	} {
		if !strings.Contains(text, expected) {
			t.Errorf("config lacks %q:\n%s", expected, text)
		}
	}
	if !strings.Contains(text, token) {
		t.Errorf("config lacks the token:\n%s", text)
	}
	for key, expected := range map[string]string{
		"runner.name":           "test-runner",
		"runner.resource_class": resourceName,
		"api.url":               "http://127.0.0.1:9",
	} {
		if got := configGet(t, root, key); got != expected {
			t.Errorf("config get %s = %q, expected %q", key, got, expected)
		}
	}
}

func TestInstallWithPreseededToken(t *testing.T) {
	t.Parallel()
	root := amd64Root(t)
	installPackage(t, root, current.debs["amd64"], fullAnswers(firstToken))

	user := passwdEntry(root, "circleci")
	if user == nil {
		t.Fatal("user circleci was not created")
	}
	if user[2] != "1500" {
		t.Errorf("circleci has uid %s, expected 1500", user[2])
	}
	if user[5] != "/home/circleci" || user[6] != "/bin/bash" {
		t.Errorf("circleci has home %s and shell %s, expected /home/circleci and /bin/bash", user[5], user[6])
	}
	if _, err := os.Stat(root.Path("/home/circleci")); err != nil {
		t.Errorf("home directory missing: %v", err)
	}
	mode, uid, _ := fileOwner(t, root, "/opt/circleci/workdir")
	if !mode.IsDir() || uid != 1500 {
		t.Errorf("workdir has mode %v and owner uid %d, expected a directory owned by circleci", mode, uid)
	}
	assertConfigFile(t, root, firstToken)
	if strings.Contains(debconfDatabase(root), firstToken) {
		t.Error("the token is still in debconf's database")
	}
	if _, err := os.Lstat(root.Path("/etc/systemd/system/multi-user.target.wants/circleci.service")); err != nil {
		t.Errorf("circleci.service is not enabled: %v", err)
	}
	if actions := invokedActions(root); strings.Join(actions, ";") != "circleci.service start" {
		t.Errorf("maintainer scripts invoked %q, expected one start", actions)
	}
}

func TestInstallWithoutToken(t *testing.T) {
	t.Parallel()
	root := amd64Root(t)
	result := installPackage(t, root, current.debs["amd64"], nil)

	if !strings.Contains(result.Stderr, "dpkg-reconfigure circleci-runner") {
		t.Errorf("install printed no hint to run dpkg-reconfigure:\n%s", result.Output())
	}
	if actions := invokedActions(root); len(actions) != 0 {
		t.Errorf("maintainer scripts invoked %q, expected nothing without a token", actions)
	}
	check, err := root.Exec(testroot.Command{Args: []string{agentPath, "config", "has", "--config", configPath, "api.auth_token"}})
	if err != nil {
		t.Fatal(err)
	}
	if check.ExitCode == 0 {
		t.Error("config has api.auth_token succeeded after an install without a token")
	}
	hostname, _ := os.Hostname()
	if got := configGet(t, root, "runner.name"); got != hostname {
		t.Errorf("runner.name = %q, expected the host name %q", got, hostname)
	}
	mode, _, _ := fileOwner(t, root, configPath)
	if mode.Perm() != 0o600 {
		t.Errorf("config has mode %v, expected 0600", mode.Perm())
	}
}

// handEdit adds a comment, a key that debconf does not manage and a
// changed reference key to the config, as an administrator would.
func handEdit(t *testing.T, root *testroot.Overlay) {
	t.Helper()
	text := root.ReadFile(configPath)
	text = strings.Replace(text, "cleanup_working_directory: true", "cleanup_working_directory: true\n  # hand edit: jobs here take long\n  max_run_time: 7h", 1)
	text += "# trailing comment by hand\n"
	root.WriteFile(configPath, []byte(text), 0o600)
}

func assertHandEditsKept(t *testing.T, root *testroot.Overlay) {
	t.Helper()
	text := root.ReadFile(configPath)
	for _, expected := range []string{"# hand edit: jobs here take long", "max_run_time: 7h", "# trailing comment by hand"} {
		if !strings.Contains(text, expected) {
			t.Errorf("config lost the hand edit %q:\n%s", expected, text)
		}
	}
}

func TestReconfigureKeepsHandEdits(t *testing.T) {
	t.Parallel()
	root := amd64Root(t)
	installPackage(t, root, current.debs["amd64"], fullAnswers(firstToken))
	handEdit(t, root)
	preseed(t, root, answers{"auth_token": secondToken})

	root.RunCommand(testroot.Command{Args: []string{"dpkg-reconfigure", "-f", "noninteractive", "circleci-runner"}})

	assertConfigFile(t, root, secondToken)
	assertHandEditsKept(t, root)
	if strings.Contains(root.ReadFile(configPath), firstToken) {
		t.Error("config still has the old token")
	}
	if strings.Contains(debconfDatabase(root), secondToken) {
		t.Error("the new token is still in debconf's database")
	}
}

func TestReconfigureWithoutTokenKeepsOldOne(t *testing.T) {
	t.Parallel()
	root := amd64Root(t)
	installPackage(t, root, current.debs["amd64"], fullAnswers(firstToken))
	handEdit(t, root)

	root.RunCommand(testroot.Command{Args: []string{"dpkg-reconfigure", "-f", "noninteractive", "circleci-runner"}})

	assertConfigFile(t, root, firstToken)
	assertHandEditsKept(t, root)
}

func TestUpgradeKeepsHandEdits(t *testing.T) {
	t.Parallel()
	root := amd64Root(t)
	installPackage(t, root, current.debs["amd64"], fullAnswers(firstToken))
	handEdit(t, root)
	defaults := strings.Replace(root.ReadFile("/etc/default/circleci-runner"), "#DRAIN_TIMEOUT=5m", "DRAIN_TIMEOUT=30m", 1)
	root.WriteFile("/etc/default/circleci-runner", []byte(defaults), 0o644)
	clearInvokedActions(root)

	// No DEBIAN_FRONTEND and no terminal, as under unattended-upgrades: a
	// question or a conffile prompt would fail the upgrade.
	inside := "/var/tmp/" + filepath.Base(newer.debs["amd64"])
	root.CopyIn(newer.debs["amd64"], inside)
	root.RunCommand(testroot.Command{Args: []string{"dpkg", "-i", inside}})

	version := root.Run("dpkg-query", "--showformat=${Version}", "--show", "circleci-runner")
	if version.Stdout != newer.version {
		t.Errorf("installed version %q, expected %q", version.Stdout, newer.version)
	}
	assertConfigFile(t, root, firstToken)
	assertHandEditsKept(t, root)
	if !strings.Contains(root.ReadFile("/etc/default/circleci-runner"), "\nDRAIN_TIMEOUT=30m\n") {
		t.Error("the edit of /etc/default/circleci-runner was lost")
	}
	for _, action := range invokedActions(root) {
		if action != "circleci.service start" {
			t.Errorf("upgrade invoked %q; only start, which leaves a running service alone, is expected", action)
		}
	}
	agentVersion := root.Run(agentPath, "--version")
	if !strings.Contains(agentVersion.Stdout, newer.version) {
		t.Errorf("agent --version printed %q, expected %s", agentVersion.Stdout, newer.version)
	}
}

func TestRemoveStopsService(t *testing.T) {
	t.Parallel()
	root := amd64Root(t)
	installPackage(t, root, current.debs["amd64"], fullAnswers(firstToken))
	clearInvokedActions(root)

	dpkg(t, root, "--remove", "circleci-runner")

	if actions := invokedActions(root); strings.Join(actions, ";") != "circleci.service stop" {
		t.Errorf("remove invoked %q, expected one stop", actions)
	}
	if _, err := os.Stat(root.Path(agentPath)); err == nil {
		t.Error("the agent is still installed after remove")
	}
	if _, err := os.Stat(root.Path(configPath)); err != nil {
		t.Errorf("remove deleted the config, which only purge should: %v", err)
	}
}

func TestPurgeRemovesStateAndReinstalls(t *testing.T) {
	t.Parallel()
	root := amd64Root(t)
	installPackage(t, root, current.debs["amd64"], fullAnswers(firstToken))
	root.WriteFile("/var/lib/circleci-runner/task-agents/1.0/circleci-agent", []byte("cached"), 0o755)
	root.WriteFile("/opt/circleci/workdir/leftover/file", []byte("job output"), 0o644)

	dpkg(t, root, "--purge", "circleci-runner")

	for _, path := range []string{configPath, "/opt/circleci/workdir", "/var/lib/circleci-runner", "/opt/circleci"} {
		if _, err := os.Lstat(root.Path(path)); err == nil {
			t.Errorf("%s is still there after purge", path)
		}
	}
	if passwdEntry(root, "circleci") == nil {
		t.Error("purge deleted the user circleci")
	}
	if strings.Contains(debconfDatabase(root), "circleci-runner/") {
		t.Error("debconf still has questions of circleci-runner after purge")
	}

	installPackage(t, root, current.debs["amd64"], fullAnswers(secondToken))
	assertConfigFile(t, root, secondToken)
}

func TestInstallReusesExistingGroup(t *testing.T) {
	t.Parallel()
	root := amd64Root(t)
	root.Run("groupadd", "--gid", "1600", "circleci")

	installPackage(t, root, current.debs["amd64"], fullAnswers(firstToken))

	user := passwdEntry(root, "circleci")
	if user == nil {
		t.Fatal("user circleci was not created")
	}
	if user[3] != "1600" {
		t.Errorf("circleci has primary gid %s, expected the existing group's 1600", user[3])
	}
	if user[2] != "1500" {
		t.Errorf("circleci has uid %s, expected 1500", user[2])
	}
}

func TestInstallWhenUID1500Taken(t *testing.T) {
	t.Parallel()
	root := amd64Root(t)
	root.Run("useradd", "--uid", "1500", "--create-home", "someone")

	installPackage(t, root, current.debs["amd64"], fullAnswers(firstToken))

	user := passwdEntry(root, "circleci")
	if user == nil {
		t.Fatal("user circleci was not created")
	}
	if user[2] == "1500" {
		t.Error("circleci got uid 1500, which another user has")
	}
	if owner := passwdEntry(root, "someone"); owner == nil || owner[2] != "1500" {
		t.Errorf("the existing user changed: %v", owner)
	}
	if groupEntry(root, "circleci") == nil {
		t.Error("group circleci was not created")
	}
	_, uid, _ := fileOwner(t, root, "/opt/circleci/workdir")
	if user[2] != strconv.FormatUint(uint64(uid), 10) {
		t.Errorf("workdir is owned by uid %d, expected circleci's %s", uid, user[2])
	}
}

func TestInstallReusesExistingUser(t *testing.T) {
	t.Parallel()
	root := amd64Root(t)
	root.Run("useradd", "--uid", "2000", "--create-home", "--shell", "/bin/bash", "circleci")

	installPackage(t, root, current.debs["amd64"], fullAnswers(firstToken))

	if user := passwdEntry(root, "circleci"); user == nil || user[2] != "2000" {
		t.Errorf("the existing user circleci changed: %v", user)
	}
}

// The teletype frontend reads the replies from standard input, so the test
// can answer as a person would, including one invalid resource class.
func TestInteractiveInstallAsksAgainOnInvalidAnswer(t *testing.T) {
	t.Parallel()
	root := amd64Root(t)
	prepareSystemdStandIn(t, root)
	inside := "/var/tmp/" + filepath.Base(current.debs["amd64"])
	root.CopyIn(current.debs["amd64"], inside)
	input := firstToken + "\nnot a class\n" + resourceName + "\ntest-runner\n"

	result := root.RunCommand(testroot.Command{
		Args:  []string{"dpkg", "-i", inside},
		Env:   []string{"DEBIAN_FRONTEND=teletype"},
		Stdin: strings.NewReader(input),
	})

	if !strings.Contains(result.Stdout, `"not a class" is not a valid runner.resource_class`) {
		t.Errorf("no error shown for the invalid resource class:\n%s", result.Output())
	}
	if got := configGet(t, root, "runner.resource_class"); got != resourceName {
		t.Errorf("runner.resource_class = %q, expected the second answer %q", got, resourceName)
	}
	if got := configGet(t, root, "runner.name"); got != "test-runner" {
		t.Errorf("runner.name = %q", got)
	}
	if !strings.Contains(root.ReadFile(configPath), firstToken) {
		t.Error("config lacks the token typed at the prompt")
	}
}

func TestInvalidPreseedDoesNotLoop(t *testing.T) {
	t.Parallel()
	root := amd64Root(t)
	values := fullAnswers(firstToken)
	values["resource_class"] = "not a class"

	result := installPackage(t, root, current.debs["amd64"], values)

	if !strings.Contains(result.Stderr, "is invalid, so circleci.service was not started") {
		t.Errorf("install did not report the invalid configuration:\n%s", result.Output())
	}
	if actions := invokedActions(root); len(actions) != 0 {
		t.Errorf("maintainer scripts invoked %q with an invalid configuration", actions)
	}
}
