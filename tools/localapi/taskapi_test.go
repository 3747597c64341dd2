package localapi

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/circleci-runner/circleci-runner/pkg/runnerapi"
	"github.com/circleci-runner/circleci-runner/tools/taskproto"
)

// runSteps reports every step of a claimed task as passed, or the step at
// failAt as failed, then completes the task with result.
func runSteps(t *testing.T, ts *httptest.Server, token string, steps, failAt int, result string) {
	t.Helper()
	for i := 0; i < steps; i++ {
		post(t, ts, token, taskproto.PathStepStart, taskproto.StepStart{Step: i})
		post(t, ts, token, taskproto.PathStepOutput, taskproto.StepOutput{Step: i, Output: "line of step\n"})
		end := taskproto.StepEnd{Step: i, Status: taskproto.StatusSuccess}
		if i == failAt {
			end = taskproto.StepEnd{Step: i, Status: taskproto.StatusFailed, ExitCode: 1}
		}
		post(t, ts, token, taskproto.PathStepEnd, end)
	}
	post(t, ts, token, taskproto.PathComplete, taskproto.Complete{Result: result})
}

func post(t *testing.T, ts *httptest.Server, token, path string, body any) {
	t.Helper()
	response, data := do(t, ts, "POST", path, token, body)
	expectStatus(t, response, data, http.StatusOK)
}

func TestStepsRecorded(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	got := claim(t, ts, testToken)

	runSteps(t, ts, got.TaskToken, 2, -1, taskproto.ResultSucceeded)

	build := jobNamed(t, server, "build")
	if build.State != StateSucceeded {
		t.Errorf("state = %s, want succeeded", build.State)
	}
	for _, step := range build.Steps {
		if step.Status != taskproto.StatusSuccess {
			t.Errorf("step %d status = %s", step.Index, step.Status)
		}
		if step.Output != "line of step\n" {
			t.Errorf("step %d output = %q", step.Index, step.Output)
		}
		if step.ExitCode == nil || *step.ExitCode != 0 {
			t.Errorf("step %d exit code = %v, want 0", step.Index, step.ExitCode)
		}
		if step.StartedAt.IsZero() || step.EndedAt.IsZero() {
			t.Errorf("step %d has no start or end time", step.Index)
		}
	}
	if build.Steps[1].Name != "Say hello" {
		t.Errorf("step name = %q", build.Steps[1].Name)
	}
}

func TestRequiredJobQueuedAfterSuccess(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	if state := jobNamed(t, server, "test").State; state != StateWaiting {
		t.Fatalf("test state before build = %s, want waiting", state)
	}

	got := claim(t, ts, testToken)
	runSteps(t, ts, got.TaskToken, 2, -1, taskproto.ResultSucceeded)

	if state := jobNamed(t, server, "test").State; state != StateQueued {
		t.Errorf("test state after build = %s, want queued", state)
	}
}

func TestFailedJobBlocksDependent(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	got := claim(t, ts, testToken)

	runSteps(t, ts, got.TaskToken, 2, 1, taskproto.ResultFailed)

	build := jobNamed(t, server, "build")
	if build.State != StateFailed {
		t.Errorf("build state = %s, want failed", build.State)
	}
	if *build.Steps[1].ExitCode != 1 {
		t.Errorf("exit code = %d, want 1", *build.Steps[1].ExitCode)
	}
	test := jobNamed(t, server, "test")
	if test.State != StateBlocked {
		t.Errorf("test state = %s, want blocked", test.State)
	}
	if test.Message != `required job "build" ended as failed` {
		t.Errorf("blocked message = %q", test.Message)
	}
	if test.Steps[0].Status != taskproto.StatusNotRun {
		t.Errorf("blocked step status = %s, want not_run", test.Steps[0].Status)
	}
}

func TestSkippedStep(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	got := claim(t, ts, testToken)

	post(t, ts, got.TaskToken, taskproto.PathStepEnd, taskproto.StepEnd{Step: 0, Status: taskproto.StatusSkipped, ExitCode: -1})

	step := jobNamed(t, server, "build").Steps[0]
	if step.Status != taskproto.StatusSkipped || step.ExitCode != nil {
		t.Errorf("skipped step = %+v", step)
	}
}

func TestStepCallRejections(t *testing.T) {
	_, ts := newTestServer(t, testConfig, nil)
	got := claim(t, ts, testToken)
	post(t, ts, got.TaskToken, taskproto.PathStepStart, taskproto.StepStart{Step: 0})

	tests := []struct {
		name    string
		path    string
		body    any
		status  int
		message string
	}{
		{"step out of range", taskproto.PathStepStart, taskproto.StepStart{Step: 5}, 400, "invalid step 5: the job has steps 0 to 1"},
		{"start twice", taskproto.PathStepStart, taskproto.StepStart{Step: 0}, 409, "step 0 is running, not pending"},
		{"output before start", taskproto.PathStepOutput, taskproto.StepOutput{Step: 1, Output: "x"}, 409, "step 1 is pending, not running"},
		{"end before start", taskproto.PathStepEnd, taskproto.StepEnd{Step: 1, Status: "success"}, 409, "step 1 is pending, not running"},
		{"skip a running step", taskproto.PathStepEnd, taskproto.StepEnd{Step: 0, Status: "skipped", ExitCode: -1}, 409, "step 0 is running; only a pending step can be skipped"},
		{"unknown status", taskproto.PathStepEnd, taskproto.StepEnd{Step: 0, Status: "great"}, 400, `invalid status "great": use success, failed, timedout, cancelled or skipped`},
		{"success with exit code", taskproto.PathStepEnd, taskproto.StepEnd{Step: 0, Status: "success", ExitCode: 3}, 400, "invalid exit_code 3 for status success: want 0"},
		{"exit code out of range", taskproto.PathStepEnd, taskproto.StepEnd{Step: 0, Status: "failed", ExitCode: 300}, 400, "invalid exit_code 300: want 0 to 255, or -1 for none"},
		{"missing exit code", taskproto.PathStepEnd, map[string]any{"step": 0, "status": "failed"}, 400, "invalid request body: missing exit_code"},
		{"complete while running", taskproto.PathComplete, taskproto.Complete{Result: "succeeded"}, 409, "step 0 (Checkout code) is still running; end it before completing the task"},
		{"unknown result", taskproto.PathComplete, taskproto.Complete{Result: "fine"}, 400, `invalid result "fine": use succeeded, failed or cancelled`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			response, body := do(t, ts, "POST", tt.path, got.TaskToken, tt.body)
			expectError(t, response, body, tt.status, tt.message)
		})
	}
}

func TestCompletedTaskIsConflict(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	got := claim(t, ts, testToken)
	runSteps(t, ts, got.TaskToken, 2, -1, taskproto.ResultSucceeded)
	id := jobNamed(t, server, "build").ID

	response, body := do(t, ts, "GET", taskproto.PathConfig, got.TaskToken, nil)
	expectError(t, response, body, 409, `task "`+id+`" already ended as succeeded`)
	response, body = do(t, ts, "POST", "/api/v3/runner/unclaim", "", runnerapi.UnclaimRequest{TaskID: id, TaskToken: got.TaskToken})
	expectError(t, response, body, 404, `task "`+id+`" already ended as succeeded`)
}

func TestCancelledTaskIsGone(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	got := claim(t, ts, testToken)
	post(t, ts, got.TaskToken, taskproto.PathStepStart, taskproto.StepStart{Step: 0})
	id := jobNamed(t, server, "build").ID

	response, body := do(t, ts, "POST", "/local/jobs/"+id+"/cancel", "", nil)
	expectStatus(t, response, body, 200)

	response, body = do(t, ts, "POST", taskproto.PathStepOutput, got.TaskToken, taskproto.StepOutput{Step: 0, Output: "x"})
	expectError(t, response, body, 410, `task "`+id+`" was cancelled`)
	build := jobNamed(t, server, "build")
	if build.Steps[0].Status != taskproto.StatusCancelled {
		t.Errorf("running step after cancel = %s, want cancelled", build.Steps[0].Status)
	}
	if build.Steps[1].Status != taskproto.StatusNotRun {
		t.Errorf("pending step after cancel = %s, want not_run", build.Steps[1].Status)
	}
	if _, err := server.Cancel(id); err == nil {
		t.Error("cancelling an ended job succeeded")
	}
}

func TestCancelQueuedJobBlocksDependent(t *testing.T) {
	server, _ := newTestServer(t, testConfig, nil)
	if _, err := server.Cancel(jobNamed(t, server, "build").ID); err != nil {
		t.Fatal(err)
	}
	if state := jobNamed(t, server, "test").State; state != StateBlocked {
		t.Errorf("test state = %s, want blocked", state)
	}
}

func TestCheckoutTar(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	repo := server.opts.RepoDir
	writeFile(t, filepath.Join(repo, ".git", "HEAD"), "ref: refs/heads/main\n")
	writeFile(t, filepath.Join(repo, "scripts", "run.sh"), "#!/bin/sh\n")
	os.Chmod(filepath.Join(repo, "scripts", "run.sh"), 0o755)
	os.Symlink("README.md", filepath.Join(repo, "LINK"))
	got := claim(t, ts, testToken)

	response, body := do(t, ts, "GET", taskproto.PathCheckout, got.TaskToken, nil)
	expectStatus(t, response, body, 200)

	entries := map[string]*tar.Header{}
	reader := tar.NewReader(bytes.NewReader(body))
	for {
		header, err := reader.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read tar: %v", err)
		}
		entries[header.Name] = header
	}
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	sort.Strings(names)
	want := ".circleci/ .circleci/config.yml LINK README.md scripts/ scripts/run.sh"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("tar entries = %s, want %s", got, want)
	}
	if mode := entries["scripts/run.sh"].Mode; mode&0o111 == 0 {
		t.Errorf("run.sh mode = %o, want executable", mode)
	}
	if link := entries["LINK"]; link.Typeflag != tar.TypeSymlink || link.Linkname != "README.md" {
		t.Errorf("LINK = %+v, want a symbolic link to README.md", link)
	}
}

func TestCheckoutNeedsTaskToken(t *testing.T) {
	_, ts := newTestServer(t, testConfig, nil)
	response, body := do(t, ts, "GET", taskproto.PathCheckout, testToken, nil)
	expectError(t, response, body, 401, "task token ****0001 is not valid")
}

func TestWaitAllEnded(t *testing.T) {
	server, ts := newTestServer(t, testConfig, nil)
	go func() {
		for _, token := range []string{testToken, otherToken, testToken} {
			got := claimEventually(ts, token)
			var config taskproto.TaskConfig
			_, body := doQuiet(ts, "GET", taskproto.PathConfig, got.TaskToken, nil)
			json.Unmarshal(body, &config)
			steps := len(config.Steps)
			for i := 0; i < steps; i++ {
				postQuiet(ts, got.TaskToken, taskproto.PathStepStart, taskproto.StepStart{Step: i})
				postQuiet(ts, got.TaskToken, taskproto.PathStepEnd, taskproto.StepEnd{Step: i, Status: "success"})
			}
			postQuiet(ts, got.TaskToken, taskproto.PathComplete, taskproto.Complete{Result: "succeeded"})
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	jobs, err := server.WaitAllEnded(ctx)
	if err != nil {
		t.Fatalf("WaitAllEnded: %v", err)
	}
	for _, job := range jobs {
		if job.State != StateSucceeded {
			t.Errorf("job %s state = %s, want succeeded", job.Name, job.State)
		}
	}
}

func TestWaitAllEndedTimeout(t *testing.T) {
	server, _ := newTestServer(t, testConfig, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()

	_, err := server.WaitAllEnded(ctx)
	want := "context deadline exceeded while jobs have not ended: build (queued), test (waiting), other (queued)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}
