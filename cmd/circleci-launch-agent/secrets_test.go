package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/circleci-runner/circleci-runner/pkg/config"
	"github.com/circleci-runner/circleci-runner/tools/localapi"
)

// canaryDirEnv names the folder of TestSecretsCanarySuite's run of the
// other integration tests. Its file "token" is the resource-class token of
// every rig, and each rig copies its agent's log, the command_prefix
// records and the local runner API's jobs and calls below "runs", where
// the suite searches them for the token.
const canaryDirEnv = "CIRCLECI_RUNNER_TEST_CANARY_DIR"

// useCanary makes the token in dir the rig's resource-class token and
// saves what the rig saw below dir when the test ends.
func (r *rig) useCanary(dir string) {
	r.t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		r.t.Fatal(err)
	}
	r.token = strings.TrimSpace(string(data))
	// Cleanups run last in, first out, so this one runs after the agent
	// has stopped and its log is complete.
	r.t.Cleanup(func() { r.saveForSearch(filepath.Join(dir, "runs")) })
}

// saveForSearch copies the agent's log, the command_prefix records, and
// the jobs and calls of the local runner API into a new folder below dir.
func (r *rig) saveForSearch(dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.t.Error(err)
		return
	}
	out, err := os.MkdirTemp(dir, strings.ReplaceAll(r.t.Name(), "/", "_")+"-")
	if err != nil {
		r.t.Error(err)
		return
	}
	jobs, _ := json.MarshalIndent(r.api.Jobs(), "", "  ")
	calls, _ := json.MarshalIndent(r.api.Calls(), "", "  ")
	files := map[string][]byte{"agent.log": []byte(r.stderr.String()), "jobs.json": jobs, "calls.json": calls}
	for _, path := range r.recordFiles() {
		data, err := os.ReadFile(path)
		if err == nil {
			relative, _ := filepath.Rel(r.records, path)
			files[filepath.Join("records", relative)] = data
		}
	}
	for name, data := range files {
		mustWrite(r.t, filepath.Join(out, name), string(data), 0o644)
	}
}

// recordFiles returns every file that the command_prefix recorded.
func (r *rig) recordFiles() []string {
	var paths []string
	filepath.WalkDir(r.records, func(path string, entry fs.DirEntry, err error) error {
		if err == nil && entry.Type().IsRegular() {
			paths = append(paths, path)
		}
		return nil
	})
	return paths
}

// newCanary returns a resource-class token that appears nowhere else.
func newCanary(t *testing.T) string {
	t.Helper()
	random := make([]byte, 16)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	return "canary-" + hex.EncodeToString(random)
}

// processTree returns root and every process below it, found through the
// parent of each process in /proc. Only these processes are searched, so
// the tests read no other program's environment.
func processTree(root int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return []int{root}
	}
	children := map[int][]int{}
	for _, entry := range entries {
		pid, err := strconv.Atoi(entry.Name())
		if err != nil {
			continue
		}
		if parent, err := parentPID(pid); err == nil {
			children[parent] = append(children[parent], pid)
		}
	}
	tree := []int{root}
	for i := 0; i < len(tree); i++ {
		tree = append(tree, children[tree[i]]...)
	}
	return tree
}

// procHits returns a description of each process in the tree below root
// whose command line or environment in /proc contains one of secrets.
// Reading the environment of another user's process needs root.
func procHits(root int, secrets []string) []string {
	var hits []string
	for _, pid := range processTree(root) {
		for _, file := range []string{"cmdline", "environ"} {
			data, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
			if err != nil {
				continue
			}
			for i, secret := range secrets {
				if bytes.Contains(data, []byte(secret)) {
					hits = append(hits, fmt.Sprintf("pid %d %s contains secret %d", pid, file, i))
				}
			}
		}
	}
	return hits
}

// searchFiles lists the files below dir that contain one of secrets,
// leaving out the file skip.
func searchFiles(t *testing.T, dir, skip string, secrets []string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(path string, entry fs.DirEntry, err error) error {
		if err != nil || !entry.Type().IsRegular() || path == skip {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, secret := range secrets {
			if bytes.Contains(data, []byte(secret)) {
				hits = append(hits, fmt.Sprintf("%s contains secret %d", path, i))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

const secretsJob = `version: 2.1
jobs:
  secrets:
    machine: true
    resource_class: test/rig
    steps:
      - checkout
      - run: env; cat /proc/$PPID/cmdline; echo $$ > "$STARTED"; while [ ! -e "$RELEASE" ]; do sleep 0.05; done
workflows:
  main:
    jobs: [secrets]
`

// TestSecretsStayOutOfProcesses holds a task in its step and searches the
// command line and the environment of the agent and every process below it
// for the resource-class token and the task token. Then it searches the agent's
// log, the task's output and environment, and the command_prefix records
// but the one of standard input, where the task token belongs.
func TestSecretsStayOutOfProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	canary := newCanary(t)
	dir := t.TempDir()
	started, release := filepath.Join(dir, "started"), filepath.Join(dir, "release")
	r := newRig(t, strings.NewReplacer("$STARTED", started, "$RELEASE", release).Replace(secretsJob),
		localapi.Options{Tokens: map[string]string{canary: "test/rig"}})
	r.token = canary
	r.writeConfig(canary, "")
	r.start("")
	waitFor(t, "the step", 20*time.Second, func() bool { _, err := os.Stat(started); return err == nil })
	launches := r.recordedLaunches()
	if len(launches) != 1 {
		t.Fatalf("task agent launches = %d, want 1", len(launches))
	}
	taskToken := strings.TrimSpace(readRecord(t, launches[0], "stdin"))
	secrets := []string{canary, taskToken}

	// A process with the canary in its environment shows that the search
	// reads what it should.
	control := exec.Command("sleep", "60")
	control.Env = []string{"CONTROL=" + canary}
	if err := control.Start(); err != nil {
		t.Fatal(err)
	}
	controlHits := procHits(control.Process.Pid, secrets)
	control.Process.Kill()
	control.Wait()
	wantControl := []string{fmt.Sprintf("pid %d environ contains secret 0", control.Process.Pid)}
	if !slices.Equal(controlHits, wantControl) {
		t.Errorf("search of the control process = %v, want %v", controlHits, wantControl)
	}

	for _, hit := range procHits(r.cmd.Process.Pid, secrets) {
		t.Errorf("while the task runs, %s", hit)
	}
	tree := processTree(r.cmd.Process.Pid)
	for _, pid := range []int{int(r.logged(msgStarted)[0]["pid"].(float64)), readPID(t, started)} {
		if !slices.Contains(tree, pid) {
			t.Errorf("pid %d of the task is not in the searched process tree %v", pid, tree)
		}
	}

	mustWrite(t, release, "", 0o644)
	r.waitJobs(30 * time.Second)
	r.stopAgent()

	jobs, _ := json.Marshal(r.api.Jobs())
	calls, _ := json.Marshal(r.api.Calls())
	places := map[string]string{"agent log": r.stderr.String(), "jobs": string(jobs), "calls": string(calls)}
	for _, path := range r.recordFiles() {
		if filepath.Base(path) != "stdin" {
			places[path] = readRecord(t, filepath.Dir(path), filepath.Base(path))
		}
	}
	for where, text := range places {
		for i, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("%s contains secret %d", where, i)
			}
		}
	}
	if !strings.Contains(string(jobs), "PATH=") {
		t.Error("the step's output does not show its environment, so the search of it proves nothing")
	}
}

// TestSecretsCanarySuite runs the other integration tests again with a
// canary as the resource-class token of every rig. While they run, it
// searches the command line and the environment of every process they
// start for the canary, and afterwards the tests' output and every agent log, task
// environment, command_prefix record, job and call that the rigs saved.
func TestSecretsCanarySuite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the integration tests again")
	}
	if os.Getenv(canaryDirEnv) != "" {
		t.Skip("this run is the canary run")
	}
	canary := newCanary(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	mustWrite(t, tokenFile, canary+"\n", 0o600)

	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run", "^Test(Agent|Fault|Crash|Resource|Secrets)",
		"-test.count=1", "-test.v", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), canaryDirEnv+"="+dir)
	output := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = output, output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	var procFound []string
	var err error
	for running := true; running; {
		select {
		case err = <-exited:
			running = false
		case <-time.After(50 * time.Millisecond):
			for _, hit := range procHits(cmd.Process.Pid, []string{canary}) {
				if !slices.Contains(procFound, hit) {
					procFound = append(procFound, hit)
				}
			}
		}
	}

	if err != nil {
		t.Errorf("the integration tests failed with the canary token: %v\n%s", err, output.String())
	}
	for _, hit := range procFound {
		t.Errorf("during the canary run, %s", hit)
	}
	if strings.Contains(output.String(), canary) {
		t.Error("the output of the tests contains the canary")
	}
	for _, hit := range searchFiles(t, dir, tokenFile, []string{canary}) {
		t.Error(hit)
	}
	// The masked canary in the agents' startup logs shows that the rigs
	// used it.
	masked := searchFiles(t, dir, tokenFile, []string{config.Mask(canary)})
	if len(masked) < 10 {
		t.Errorf("%d saved files show the masked canary, want at least 10, about one per rig: the rigs did not use it", len(masked))
	}
}
