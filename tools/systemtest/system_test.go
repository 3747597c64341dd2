package systemtest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/builder"
	"github.com/circleci-runner/circleci-runner/tools/localapi"
	"github.com/circleci-runner/circleci-runner/tools/testroot"
)

const (
	serviceUnit   = "circleci.service"
	workdirBase   = "/opt/circleci/workdir"
	resourceClass = "test/system"
	runnerName    = "system-test"

	// The local runner API accepts firstToken and secondToken, and
	// rejects rejectedToken with 401. Their last four characters, which
	// the masked form shows, differ.
	firstToken    = "system-test-token-first-0001"
	secondToken   = "system-test-token-second-0002"
	rejectedToken = "system-test-token-rejected-0003"
	// parkedToken is for the resource class of parkedJob, which no agent
	// in the tests claims for.
	parkedToken         = "system-test-token-parked-0004"
	parkedResourceClass = "test/parked"

	// claimInterval replaces the default 5 s between empty claims, so a
	// job enqueued while the agent is idle starts within a second.
	claimInterval = "1s"

	dropInPath  = "/etc/systemd/system/circleci.service.d/system-test.conf"
	keyringPath = "/etc/apt/keyrings/" + builder.KeyringName + ".gpg"
)

// system is one booted container that installs circleci-runner from the
// signed repository, and the local runner API its agent claims from.
type system struct {
	t          *testing.T
	machine    *testroot.Machine
	api        *localapi.Server
	apiAddr    string // 127.0.0.1:PORT, kept to start the API again on it
	apiURL     string
	repository *repository
}

// bootSystem starts a local runner API and a repository server, boots a
// container, and points apt at the repository and, with a drop-in for the
// unit, the agent's task agent downloads at the local runner API. The
// package is not installed yet.
func bootSystem(t *testing.T) *system {
	t.Helper()
	if testing.Short() {
		t.Skip("system tests boot containers and need root; skipped under -short")
	}
	testroot.RequireRoot(t)
	if setupErr != nil {
		t.Fatalf("building the packages failed: %v", setupErr)
	}
	root := testroot.Root(t, testroot.BookwormUnattended)

	s := &system{t: t, repository: serveRepository(t, releases.Current.Dir)}
	s.startAPI("127.0.0.1:0")
	t.Cleanup(func() { s.api.Close() })

	start := time.Now()
	s.machine = testroot.Boot(t, root, testroot.BootOptions{Volatile: true})
	t.Logf("booted in %s", time.Since(start).Round(time.Millisecond))
	t.Cleanup(s.logOnFailure)

	s.configureApt()
	// The task agent comes from the local runner API, so the agent never
	// contacts CircleCI's download bucket, its default.
	dropIn := "[Service]\n" +
		"Environment=LAUNCH_AGENT_RUNNER_TASK_AGENT_BASE_URL=" + s.apiURL + "/task-agent\n" +
		"Environment=LAUNCH_AGENT_RUNNER_CLAIM_INTERVAL=" + claimInterval + "\n"
	s.writeFile(dropInPath, dropIn, "0644")
	return s
}

// installedSystem is bootSystem followed by an install with token, and
// waits until the service reports Healthy.
func installedSystem(t *testing.T, token string) *system {
	t.Helper()
	s := bootSystem(t)
	s.install(token)
	s.waitForStatus("Healthy", 20*time.Second)
	return s
}

// startAPI starts a new local runner API on addr with the jobs of
// circleciConfig.
func (s *system) startAPI(addr string) {
	s.t.Helper()
	repo := s.t.TempDir()
	writeHostFile(s.t, filepath.Join(repo, ".circleci", "config.yml"), circleciConfig)
	tokens := map[string]string{
		firstToken: resourceClass, secondToken: resourceClass, parkedToken: parkedResourceClass,
		canaryTokens[0]: resourceClass, canaryTokens[1]: resourceClass,
	}
	api, err := localapi.New(localapi.Options{
		RepoDir:    repo,
		Tokens:     tokens,
		TaskAgents: map[string]string{runtime.GOARCH: taskAgentBinary},
	})
	if err != nil {
		s.t.Fatal(err)
	}
	url, err := api.Start(addr)
	if err != nil {
		s.t.Fatalf("start the local runner API on %s: %v", addr, err)
	}
	s.api, s.apiURL = api, url
	s.apiAddr = strings.TrimPrefix(url, "http://")
}

// configureApt makes the repository server apt's only source, trusted
// through signed-by with the repository's key.
func (s *system) configureApt() {
	s.t.Helper()
	keyring, err := os.ReadFile(releases.Current.Keyring())
	if err != nil {
		s.t.Fatal(err)
	}
	s.writeFile(keyringPath, string(keyring), "0644")
	s.writeFile("/etc/apt/sources.list", "", "0644")
	line := fmt.Sprintf("deb [signed-by=%s] %s/ %s %s\n", keyringPath, s.repository.url, builder.Suite, builder.Component)
	s.writeFile("/etc/apt/sources.list.d/circleci-runner.list", line, "0644")
}

// install preseeds the debconf selections, with token unless it is empty, and runs
// apt-get update and apt-get install circleci-runner. It returns apt-get
// install's output.
func (s *system) install(token string) string {
	s.t.Helper()
	s.preseed(map[string]string{
		"runner_name":    runnerName,
		"resource_class": resourceClass,
		"api_url":        s.apiURL,
	})
	if token != "" {
		s.preseedToken(token)
	}
	s.apt("update")
	start := time.Now()
	result := s.apt("install", "--yes", "circleci-runner")
	s.t.Logf("apt-get install took %s", time.Since(start).Round(time.Millisecond))
	return result.Output()
}

// apt runs apt-get as an administrator would without a terminal, and
// fails the test unless it exits 0.
func (s *system) apt(args ...string) testroot.Result {
	s.t.Helper()
	command := append([]string{"env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-o", "Acquire::Retries=0"}, args...)
	result, err := s.machine.Exec(testroot.Command{Args: command, Timeout: 3 * time.Minute})
	if err != nil {
		s.t.Fatalf("apt-get %s: %v\n%s", strings.Join(args, " "), err, result.Output())
	}
	if result.ExitCode != 0 {
		s.t.Fatalf("apt-get %s exited %d:\n%s", strings.Join(args, " "), result.ExitCode, result.Output())
	}
	return result
}

// preseed stores debconf answers, by question name without the package
// prefix.
func (s *system) preseed(answers map[string]string) {
	s.t.Helper()
	var b strings.Builder
	for question, value := range answers {
		fmt.Fprintf(&b, "circleci-runner circleci-runner/%s string %s\n", question, value)
	}
	s.machine.RunInput(b.String(), "debconf-set-selections")
}

func (s *system) preseedToken(token string) {
	s.t.Helper()
	s.machine.RunInput("circleci-runner circleci-runner/auth_token password "+token+"\n", "debconf-set-selections")
}

// reconfigure preseeds token and runs dpkg-reconfigure without questions.
func (s *system) reconfigure(token string) {
	s.t.Helper()
	s.preseedToken(token)
	s.machine.Run("env", "DEBIAN_FRONTEND=noninteractive", "dpkg-reconfigure", "circleci-runner")
}

// writeFile writes content to path inside the container with mode, making
// its folder.
func (s *system) writeFile(path, content, mode string) {
	s.t.Helper()
	s.machine.RunInput(content, "/bin/sh", "-ec", `mkdir -p "$(dirname "$1")"; cat >"$1"; chmod "$2" "$1"`, "sh", path, mode)
}

// property returns a property of circleci.service, such as MainPID.
func (s *system) property(name string) string {
	s.t.Helper()
	return s.machine.UnitProperty(serviceUnit, name)
}

// waitForStatus waits until the StatusText of circleci.service starts with
// prefix, and fails the test with the journal when it does not within
// timeout.
func (s *system) waitForStatus(prefix string, timeout time.Duration) string {
	s.t.Helper()
	status := s.machine.WaitForUnitProperty(serviceUnit, "StatusText", timeout, func(value string) bool {
		return strings.HasPrefix(value, prefix)
	})
	if !strings.HasPrefix(status, prefix) {
		s.t.Fatalf("StatusText is %q after %s, expected %s...", status, timeout, prefix)
	}
	return status
}

// waitForNewMainPID waits until circleci.service is active with a main PID
// other than old, and returns it.
func (s *system) waitForNewMainPID(old string, timeout time.Duration) string {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		pid := s.property("MainPID")
		if pid != old && pid != "0" && s.property("ActiveState") == "active" {
			return pid
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("circleci.service has MainPID %s and is %s after %s, expected a new active agent", pid, s.property("ActiveState"), timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// processes returns "ps -eo pid,user,args" inside the container, without
// its header line and without ps itself.
func (s *system) processes() []string {
	s.t.Helper()
	var out []string
	for _, line := range strings.Split(s.machine.Run("ps", "-eo", "pid=,user:16=,args=").Stdout, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 3 || fields[2] == "ps" {
			continue
		}
		out = append(out, strings.TrimSpace(line))
	}
	return out
}

// processesMatching returns the processes whose line contains any of
// needles.
func (s *system) processesMatching(needles ...string) []string {
	s.t.Helper()
	var out []string
	for _, line := range s.processes() {
		for _, needle := range needles {
			if strings.Contains(line, needle) {
				out = append(out, line)
				break
			}
		}
	}
	return out
}

// workdirEntries returns the names in /opt/circleci/workdir.
func (s *system) workdirEntries() []string {
	s.t.Helper()
	return strings.Fields(s.machine.Run("ls", "-A", workdirBase).Stdout)
}

// transientUnits returns the loaded units named circleci-*.service other
// than circleci.service, with their state.
func (s *system) transientUnits() []string {
	s.t.Helper()
	result := s.machine.Run("systemctl", "list-units", "--all", "--plain", "--no-legend", "circleci-*.service")
	var units []string
	for _, line := range strings.Split(result.Stdout, "\n") {
		if fields := strings.Fields(line); len(fields) > 0 {
			units = append(units, strings.Join(fields[:min(4, len(fields))], " "))
		}
	}
	return units
}

// logOnFailure logs the agent's journal and the jobs when the test failed.
// It then kills the agent and its tasks, because a poweroff would wait for
// a running job to drain.
func (s *system) logOnFailure() {
	if !s.t.Failed() {
		return
	}
	result, _ := s.machine.Exec(testroot.Command{Args: []string{"journalctl", "--no-pager", "-o", "short-precise", "-u", "circleci*"}, Timeout: 20 * time.Second})
	s.t.Logf("journal of circleci*:\n%s", result.Output())
	for _, job := range s.api.Jobs() {
		if job.Name != parkedJob {
			s.t.Logf("job %s (%s): %s %s, %d claims, %d unclaims, %d fail events", job.Name, job.ID, job.State, job.Message, len(job.Claims), job.Unclaims, len(job.FailEvents))
		}
	}
	_, _ = s.machine.Exec(testroot.Command{Args: []string{"systemctl", "kill", "--signal=SIGKILL", serviceUnit, "circleci-*.service"}, Timeout: 20 * time.Second})
}

// repository serves a release directory over HTTP on 127.0.0.1, and can
// switch to another one, as a mirror does when a release is published.
type repository struct {
	url string
	dir atomic.Pointer[string]
}

func serveRepository(t *testing.T, dir string) *repository {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &repository{url: "http://" + listener.Addr().String()}
	r.publish(dir)
	handler := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		http.FileServer(http.Dir(*r.dir.Load())).ServeHTTP(w, req)
	})
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go server.Serve(listener)
	t.Cleanup(func() { server.Close() })
	return r
}

// publish makes dir the served release.
func (r *repository) publish(dir string) {
	r.dir.Store(&dir)
}

func writeHostFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// logEntry is one journal entry of circleci.service: a line of the agent,
// of stop-agent, or of systemd about the unit.
type logEntry struct {
	PID     string
	Command string // the process name, such as "circleci-launch" or "stop-agent"
	Message string
	// Fields are the agent's own fields, such as "launch_id", parsed from
	// its JSON line. They are nil for entries that are not the agent's.
	Fields map[string]any
}

// journal returns the entries of circleci.service in order.
func (s *system) journal() []logEntry {
	s.t.Helper()
	out := s.machine.Run("journalctl", "--unit", serviceUnit, "--output", "json", "--no-pager").Stdout
	var entries []logEntry
	for _, line := range strings.Split(out, "\n") {
		var raw map[string]any
		if json.Unmarshal([]byte(line), &raw) != nil {
			continue
		}
		entry := logEntry{PID: text(raw["_PID"]), Command: text(raw["_COMM"]), Message: text(raw["MESSAGE"])}
		if agentLine := text(raw["JSON"]); agentLine != "" {
			_ = json.Unmarshal([]byte(agentLine), &entry.Fields)
		}
		entries = append(entries, entry)
	}
	return entries
}

// entriesWithMessage returns the entries whose message is message.
func entriesWithMessage(entries []logEntry, message string) []logEntry {
	var found []logEntry
	for _, entry := range entries {
		if entry.Message == message {
			found = append(found, entry)
		}
	}
	return found
}

// text returns a journal field as a string. journalctl prints fields that
// are not UTF-8 as arrays of bytes, which become "".
func text(value any) string {
	if s, ok := value.(string); ok {
		return s
	}
	return ""
}

// field returns the agent's field at a dotted path, such as
// "settings.api.auth_token.value" split as "settings", "api.auth_token",
// "value", as a string.
func field(fields map[string]any, path ...string) string {
	var value any = fields
	for _, key := range path {
		object, ok := value.(map[string]any)
		if !ok {
			return ""
		}
		value = object[key]
	}
	return text(value)
}
