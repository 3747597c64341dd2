package main

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/circleci-runner/circleci-runner/pkg/runnerapi"
	"github.com/circleci-runner/circleci-runner/tools/localapi"
)

// faultJobs are three independent jobs, so one that fails blocks no other.
// They are claimed in this order.
const faultJobs = `version: 2.1
jobs:
  first:
    machine: true
    resource_class: test/rig
    steps:
      - run: echo first
  fails:
    machine: true
    resource_class: test/rig
    steps:
      - run: exit 1
  third:
    machine: true
    resource_class: test/rig
    steps:
      - run: echo third
workflows:
  main:
    jobs: [first, fails, third]
`

// Paths of the task agent download in the local runner API.
var (
	checksumsPath = "/task-agent/" + localapi.DefaultAgentVersion + "/checksums.txt"
	binaryPath    = "/task-agent/" + localapi.DefaultAgentVersion + "/linux/" + goarch() + "/circleci-agent"
)

// minClaimRetry is the shortest wait of the claim loop after a failed
// claim, from pkg/agent.
const minClaimRetry = time.Second

func (r *rig) addFault(rule localapi.FaultRule) {
	r.t.Helper()
	if _, err := r.api.AddFault(rule); err != nil {
		r.t.Fatal(err)
	}
}

// agentCalls returns the launch agent's calls to path, leaving out the task
// agent's calls.
func (r *rig) agentCalls(path string) []localapi.Call {
	var calls []localapi.Call
	for _, call := range r.api.Calls() {
		if call.Path == path && strings.HasPrefix(call.UserAgent, "circleci-launch-agent/") {
			calls = append(calls, call)
		}
	}
	// The call log is in the order the responses ended, so a delayed call
	// comes late. Sorting by arrival puts it where the agent sent it.
	slices.SortStableFunc(calls, func(a, b localapi.Call) int { return a.Time.Compare(b.Time) })
	return calls
}

// statuses returns the status of each call.
func statuses(calls []localapi.Call) []int {
	out := make([]int, len(calls))
	for i, call := range calls {
		out[i] = call.Status
	}
	return out
}

// checkClaimBackoff checks that after every claim that failed, the next
// claim waited at least minWait.
func (r *rig) checkClaimBackoff(minWait time.Duration) {
	r.t.Helper()
	claims := r.agentCalls(runnerapi.ClaimPath)
	for i := 0; i+1 < len(claims); i++ {
		failed := claims[i].Fault != 0 || claims[i].Status != http.StatusOK && claims[i].Status != http.StatusNoContent
		if gap := claims[i+1].Time.Sub(claims[i].Time); failed && gap < minWait {
			r.t.Errorf("claim %d came %v after the failed claim %d (status %d), want at least %v",
				claims[i+1].Seq, gap, claims[i].Seq, claims[i].Status, minWait)
		}
	}
}

// stopAgent checks that the agent still runs, drains it with SIGINT and
// checks that it exits 0.
func (r *rig) stopAgent() {
	r.t.Helper()
	select {
	case <-r.exited:
		r.t.Fatalf("the agent exited during the faults: %v", r.err)
	default:
	}
	r.signal(syscall.SIGINT)
	if code := r.waitExit(20 * time.Second); code != 0 {
		r.t.Errorf("exit status = %d after SIGINT, want 0", code)
	}
}

// checkFates checks the claims of each job against want.
func checkFates(t *testing.T, records []claimRecord, want map[string][]claimFate) {
	t.Helper()
	for job, fatesWanted := range want {
		if got := fates(records, job); !slices.Equal(got, fatesWanted) {
			t.Errorf("claims of job %s = %v, want %v", job, got, fatesWanted)
		}
	}
}

func TestFaultServerErrorBursts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	r := newRig(t, faultJobs, localapi.Options{})
	for _, status := range []int{500, 502, 503} {
		r.addFault(localapi.FaultRule{Method: "POST", Path: runnerapi.ClaimPath, Status: status, Count: 1})
	}
	r.addFault(localapi.FaultRule{Method: "GET", Path: runnerapi.TaskConfigPath, Status: 503, Count: 2})
	r.addFault(localapi.FaultRule{Method: "POST", Path: runnerapi.FailPath, Status: 500, Count: 2})
	r.start("")

	r.waitJobs(40 * time.Second)
	r.stopAgent()
	jobs := r.api.Jobs()
	records := r.accountClaims()

	checkFates(t, records, map[string][]claimFate{"first": {fateRan}, "fails": {fateRan}, "third": {fateRan}})
	if got := statuses(r.agentCalls(runnerapi.ClaimPath)); len(got) < 6 || !slices.Equal(got[:3], []int{500, 502, 503}) {
		t.Errorf("claim statuses = %v, want 500, 502 and 503, then the claims of three jobs", got)
	}
	r.checkClaimBackoff(minClaimRetry)
	if got := statuses(r.agentCalls(runnerapi.TaskConfigPath)); !slices.Equal(got[:3], []int{503, 503, 200}) {
		t.Errorf("task config statuses = %v, want 503, 503, then 200", got)
	}
	if got := statuses(r.agentCalls(runnerapi.FailPath)); !slices.Equal(got, []int{500, 500, 200}) {
		t.Errorf("fail event statuses = %v, want 500, 500, then 200", got)
	}
	if fails := jobNamed(t, jobs, "fails"); len(fails.FailEvents) != 1 {
		t.Errorf("fail events of the failed job = %d, want 1 after the retries", len(fails.FailEvents))
	}
	unhealthy := "STATUS=Unhealthy: runner API server error (HTTP 500) at " + r.api.URL()
	if msgs := strings.Join(r.notify.messages(), "|"); !strings.Contains(msgs, unhealthy) || !strings.HasSuffix(msgs, "STATUS=Healthy|STATUS=Draining|STOPPING=1") {
		t.Errorf("sd_notify messages = %s, want %q, then Healthy again", msgs, unhealthy)
	}
}

func TestFaultRetryAfter(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	for _, form := range []string{"seconds", "HTTP-date"} {
		t.Run(form, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, faultJobs, localapi.Options{})
			retryAt := time.Now().Add(3 * time.Second).Truncate(time.Second)
			header := "3"
			if form == "HTTP-date" {
				header = retryAt.UTC().Format(http.TimeFormat)
			}
			r.addFault(localapi.FaultRule{Method: "POST", Path: runnerapi.ClaimPath, Status: 429, RetryAfter: header, Count: 1})
			r.addFault(localapi.FaultRule{Method: "GET", Path: runnerapi.TaskConfigPath, Status: 429, RetryAfter: "2", Count: 1})
			r.start("")

			r.waitJobs(30 * time.Second)
			r.stopAgent()
			records := r.accountClaims()

			checkFates(t, records, map[string][]claimFate{"first": {fateRan}, "fails": {fateRan}, "third": {fateRan}})
			claims := r.agentCalls(runnerapi.ClaimPath)
			if claims[0].Status != 429 {
				t.Fatalf("first claim status = %d, want the injected 429", claims[0].Status)
			}
			wait := claims[1].Time.Sub(claims[0].Time)
			if form == "seconds" && wait < 3*time.Second {
				t.Errorf("the claim after Retry-After: 3 came %v later, want at least 3s", wait)
			}
			if form == "HTTP-date" && claims[1].Time.Before(retryAt) {
				t.Errorf("the claim after Retry-After: %s came at %v, before that date", header, claims[1].Time)
			}
			configs := r.agentCalls(runnerapi.TaskConfigPath)
			if configs[0].Status != 429 {
				t.Fatalf("first task config status = %d, want the injected 429", configs[0].Status)
			}
			if wait := configs[1].Time.Sub(configs[0].Time); wait < 2*time.Second {
				t.Errorf("the task config retry after Retry-After: 2 came %v later, want at least 2s", wait)
			}
		})
	}
}

func TestFaultSlowResponse(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	r := newRig(t, faultJobs, localapi.Options{})
	r.apiLines = "  request_timeout: 1s\n"
	r.writeConfig(r.token, "")
	// The local runner API does not notice that a client of a POST gave
	// up, so a delay alone would still claim a task after the agent's
	// timeout. The status makes the late claim response one that claims
	// nothing. A late fail event still counts, as it may on a real server.
	delay := localapi.Duration(3 * time.Second)
	r.addFault(localapi.FaultRule{Method: "POST", Path: runnerapi.ClaimPath, Delay: delay, Status: 503, Count: 1})
	r.addFault(localapi.FaultRule{Method: "GET", Path: runnerapi.TaskConfigPath, Delay: delay, Count: 1})
	r.addFault(localapi.FaultRule{Method: "POST", Path: runnerapi.FailPath, Delay: delay, Count: 1})
	r.start("")

	r.waitJobs(30 * time.Second)
	// The task agent ends the job before the launch agent's fail event,
	// and the delayed attempt of that event ends after its retry.
	r.waitLogged(msgFailEventSent, 1, 20*time.Second)
	waitFor(t, "both fail event attempts", 10*time.Second, func() bool { return len(r.agentCalls(runnerapi.FailPath)) == 2 })
	records := r.accountClaims()
	r.stopAgent()

	checkFates(t, records, map[string][]claimFate{"first": {fateRan}, "fails": {fateRan}, "third": {fateRan}})
	claimFailed := r.logged("claim failed")
	if len(claimFailed) == 0 || !strings.Contains(claimFailed[0].str("error"), "timed out after 1s") {
		t.Errorf("claim failures = %v, want one that timed out after 1s", claimFailed)
	}
	claims := r.agentCalls(runnerapi.ClaimPath)
	if wait := claims[1].Time.Sub(claims[0].Time); wait < time.Second+minClaimRetry {
		t.Errorf("the claim after the timed-out claim came %v later, want the 1s timeout plus at least %v", wait, minClaimRetry)
	}
	if configs := r.agentCalls(runnerapi.TaskConfigPath); configs[0].Fault == 0 || configs[1].Fault != 0 {
		t.Errorf("task config calls = %+v, want a delayed one and then a retry", configs[:2])
	}
	if fails := r.agentCalls(runnerapi.FailPath); fails[0].Fault == 0 || fails[1].Fault != 0 {
		t.Errorf("fail event calls = %+v, want a delayed one and then a retry", fails)
	}
	if !r.notify.has("STATUS=Unhealthy: runner API unreachable at " + r.api.URL()) {
		t.Errorf("sd_notify messages = %v, want Unhealthy while the claim timed out", r.notify.messages())
	}
}

// TestFaultBrokenBodies breaks one response body of each endpoint in each
// way the local runner API can. A claim response that never reaches the
// agent leaves a claimed task that only the runner API can time out, so
// the test cancels that job as the runner API would.
func TestFaultBrokenBodies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	info, err := os.Stat(taskAgentBinary)
	if err != nil {
		t.Fatal(err)
	}
	kinds := []struct {
		name string
		rule func(endpoint string) localapi.FaultRule
	}{
		{"truncated", func(string) localapi.FaultRule { return localapi.FaultRule{Truncate: true} }},
		{"oversize", func(endpoint string) localapi.FaultRule {
			// Over the 1 MiB limit of API bodies and checksums.txt, and
			// for the binary, longer than the file checksums.txt lists.
			size := int64(2 << 20)
			if endpoint == "task agent" {
				size = info.Size() + 1<<20
			}
			return localapi.FaultRule{Oversize: size}
		}},
		{"invalid JSON", func(string) localapi.FaultRule { return localapi.FaultRule{InvalidJSON: true} }},
		{"connection reset", func(string) localapi.FaultRule { return localapi.FaultRule{Hijack: true} }},
	}
	endpoints := []struct {
		name, method, path string
		// firstFates are the claims of the first job, by fault kind.
		firstFates map[string][]claimFate
	}{
		{"claim", "POST", runnerapi.ClaimPath, map[string][]claimFate{
			"truncated": {fateLost}, "oversize": {fateLost}, "invalid JSON": {fateLost}, "connection reset": {fateLost},
		}},
		{"task config", "GET", runnerapi.TaskConfigPath, map[string][]claimFate{
			"truncated": {fateFailEvent}, "oversize": {fateFailEvent}, "invalid JSON": {fateFailEvent}, "connection reset": {fateRan},
		}},
		{"checksums", "GET", checksumsPath, map[string][]claimFate{
			"truncated": {fateUnclaimed, fateRan}, "oversize": {fateUnclaimed, fateRan},
			"invalid JSON": {fateUnclaimed, fateRan}, "connection reset": {fateUnclaimed, fateRan},
		}},
		{"task agent", "GET", binaryPath, map[string][]claimFate{
			"truncated": {fateUnclaimed, fateRan}, "oversize": {fateUnclaimed, fateRan},
			"invalid JSON": {fateUnclaimed, fateRan}, "connection reset": {fateUnclaimed, fateRan},
		}},
	}
	for _, endpoint := range endpoints {
		for _, kind := range kinds {
			t.Run(endpoint.name+" "+kind.name, func(t *testing.T) {
				t.Parallel()
				r := newRig(t, faultJobs, localapi.Options{})
				rule := kind.rule(endpoint.name)
				rule.Method, rule.Path, rule.Count = endpoint.method, endpoint.path, 1
				r.addFault(rule)
				r.start("")

				if endpoint.path == runnerapi.ClaimPath {
					r.cancelLostClaim()
				}
				r.waitJobs(30 * time.Second)
				r.stopAgent()
				records := r.accountClaims()

				checkFates(t, records, map[string][]claimFate{
					"first": endpoint.firstFates[kind.name], "fails": {fateRan}, "third": {fateRan},
				})
				r.checkClaimBackoff(minClaimRetry)
				if endpoint.path == checksumsPath || endpoint.path == binaryPath {
					checkCacheClean(t, r.taskAgentDir)
				}
			})
		}
	}
}

// cancelLostClaim waits for the faulted claim response, then cancels the
// job it claimed, as the runner API does with a task that never starts.
// The agent backs off for a second after the failed claim, so the only
// running job at that moment is the lost one.
func (r *rig) cancelLostClaim() {
	r.t.Helper()
	waitFor(r.t, "the faulted claim", 10*time.Second, func() bool {
		for _, call := range r.agentCalls(runnerapi.ClaimPath) {
			if call.Fault != 0 {
				return true
			}
		}
		return false
	})
	for _, job := range r.api.Jobs() {
		if job.State == localapi.StateRunning {
			if _, err := r.api.Cancel(job.ID); err != nil {
				r.t.Fatal(err)
			}
		}
	}
}

// checkCacheClean checks that the task agent cache holds no temporary file
// and that every cached binary is the one the local runner API serves.
func checkCacheClean(t *testing.T, dir string) {
	t.Helper()
	want, err := os.ReadFile(taskAgentBinary)
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(dir, func(path string, entry os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(entry.Name(), ".tmp-"):
			t.Errorf("temporary file left in the task agent cache: %s", path)
		case entry.Name() == "circleci-agent":
			got, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if string(got) != string(want) {
				t.Errorf("cached task agent %s differs from the served binary (%d bytes, want %d)", path, len(got), len(want))
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// blockedJobs is a job whose step waits for a file, and one that runs
// after it.
const blockedJobs = `version: 2.1
jobs:
  first:
    machine: true
    resource_class: test/rig
    steps:
      - run: touch "$STARTED"; while [ ! -e "$RELEASE" ]; do sleep 0.05; done
  second:
    machine: true
    resource_class: test/rig
    steps:
      - run: echo second
workflows:
  main:
    jobs:
      - first
      - second:
          requires: [first]
`

// blockedConfig returns blockedJobs with the files of its first job:
// started appears when the step runs, and the step ends once release
// exists.
func blockedConfig(t *testing.T) (config, started, release string) {
	dir := t.TempDir()
	started, release = filepath.Join(dir, "started"), filepath.Join(dir, "release")
	config = strings.NewReplacer("$STARTED", started, "$RELEASE", release).Replace(blockedJobs)
	return config, started, release
}

func TestFaultAuthRejectedMidRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	config, started, release := blockedConfig(t)
	r := newRig(t, config, localapi.Options{})
	r.start("")
	waitFor(t, "the first job's step", 20*time.Second, func() bool { _, err := os.Stat(started); return err == nil })

	// The first task is running and has its configuration, so these hit
	// the claim and the configuration of the second task.
	r.addFault(localapi.FaultRule{Method: "POST", Path: runnerapi.ClaimPath, Status: 401, Count: 1})
	r.addFault(localapi.FaultRule{Method: "GET", Path: runnerapi.TaskConfigPath, Status: 401, Count: 1})
	mustWrite(t, release, "", 0o644)
	const unhealthy = "STATUS=Unhealthy: authentication rejected (HTTP 401); check api.auth_token or run dpkg-reconfigure circleci-runner"
	waitFor(t, "Unhealthy", 20*time.Second, func() bool { return r.notify.has(unhealthy) })
	failed := r.waitLogged("claim failed", 1, 5*time.Second)

	// dpkg-reconfigure fixes the token and reloads the agent, which then
	// claims at once instead of after the slow retry of a rejected token.
	r.signal(syscall.SIGHUP)
	hupAt := time.Now()
	r.waitJobs(30 * time.Second)
	r.stopAgent()
	jobs := r.api.Jobs()
	records := r.accountClaims()

	checkFates(t, records, map[string][]claimFate{"first": {fateRan}, "second": {fateFailEvent}})
	text, _ := failed["retry_in"].(string)
	if retry, err := time.ParseDuration(text); err != nil || retry < 15*time.Second {
		t.Errorf("retry_in after the 401 = %q, want at least 15s for a rejected token", text)
	}
	claims := r.agentCalls(runnerapi.ClaimPath)
	if last := claims[len(claims)-1]; last.Time.Sub(hupAt) > 5*time.Second {
		t.Errorf("the claim after SIGHUP came %v later, want it at once", last.Time.Sub(hupAt))
	}
	second := jobNamed(t, jobs, "second")
	if len(second.FailEvents) != 1 || !strings.Contains(second.FailEvents[0].Message, "401") {
		t.Errorf("fail events of the second job = %+v, want one naming the 401 of the task configuration", second.FailEvents)
	}
	if msgs := strings.Join(r.notify.messages(), "|"); !strings.Contains(msgs, unhealthy+"|STATUS=Healthy") {
		t.Errorf("sd_notify messages = %s, want Unhealthy, then Healthy", msgs)
	}
}

func TestFaultTaskConfigNotFound(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	r := newRig(t, faultJobs, localapi.Options{})
	r.addFault(localapi.FaultRule{Method: "GET", Path: runnerapi.TaskConfigPath, Status: 404, Count: 1})
	r.start("")

	r.waitJobs(30 * time.Second)
	r.stopAgent()
	jobs := r.api.Jobs()
	records := r.accountClaims()

	checkFates(t, records, map[string][]claimFate{"first": {fateFailEvent}, "fails": {fateRan}, "third": {fateRan}})
	first := jobNamed(t, jobs, "first")
	if len(first.FailEvents) != 1 || !strings.Contains(first.FailEvents[0].Message, "could not fetch the task configuration") {
		t.Errorf("fail events of the first job = %+v, want one saying the configuration could not be fetched", first.FailEvents)
	}
	if got := statuses(r.agentCalls(runnerapi.TaskConfigPath)); got[0] != 404 || len(got) != 3 {
		t.Errorf("task config statuses = %v, want one 404 that is not retried, then one call per other job", got)
	}
}

func TestFaultUnclaimConflict(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	r := newRig(t, faultJobs, localapi.Options{})
	r.addFault(localapi.FaultRule{Method: "GET", Path: binaryPath, Status: 500, Count: 1})
	r.addFault(localapi.FaultRule{Method: "POST", Path: runnerapi.UnclaimPath, Status: 409, Count: 1})
	r.start("")

	r.waitJobs(30 * time.Second)
	r.stopAgent()
	jobs := r.api.Jobs()
	records := r.accountClaims()

	checkFates(t, records, map[string][]claimFate{"first": {fateFailEvent}, "fails": {fateRan}, "third": {fateRan}})
	first := jobNamed(t, jobs, "first")
	if len(first.FailEvents) != 1 || !strings.Contains(first.FailEvents[0].Message, "could not start") || !strings.Contains(first.FailEvents[0].Message, "500") {
		t.Errorf("fail events of the first job = %+v, want one saying it could not start, with the download's 500", first.FailEvents)
	}
}

func TestFaultUnclaimNotFound(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	r := newRig(t, faultJobs, localapi.Options{})
	gate := newDownloadGate(t, r.api.URL())
	r.taskAgentBaseURL = gate.url + "/task-agent"
	r.writeConfig(r.token, "")
	held := gate.holdThenFail(http.StatusInternalServerError)
	r.start("")

	// The job is cancelled while its task agent downloads, so the unclaim
	// after the failed download gets the runner API's 404.
	held.wait(t, 20*time.Second)
	first := jobNamed(t, r.api.Jobs(), "first")
	if _, err := r.api.Cancel(first.ID); err != nil {
		t.Fatal(err)
	}
	close(held.release)
	r.waitJobs(30 * time.Second)
	r.stopAgent()
	jobs := r.api.Jobs()
	records := r.accountClaims()

	checkFates(t, records, map[string][]claimFate{"first": {fateJobCancelled}, "fails": {fateRan}, "third": {fateRan}})
	if got := statuses(r.agentCalls(runnerapi.UnclaimPath)); !slices.Equal(got, []int{404}) {
		t.Errorf("unclaim statuses = %v, want one 404", got)
	}
	if events := jobNamed(t, jobs, "first").FailEvents; len(events) != 0 {
		t.Errorf("fail events of the cancelled job = %+v, want none after unclaim's 404", events)
	}
}

func TestFaultFailEventFails(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the agent binary")
	}
	t.Parallel()
	t.Run("after the task ran", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, faultJobs, localapi.Options{})
		r.addFault(localapi.FaultRule{Method: "POST", Path: runnerapi.FailPath, Status: 503, Count: runnerapi.DefaultMaxAttempts})
		r.start("")

		jobs := r.waitJobs(40 * time.Second)
		r.waitLogged(msgFailEventError, 1, 20*time.Second)
		records := r.accountClaims()
		r.stopAgent()

		checkFates(t, records, map[string][]claimFate{"first": {fateRan}, "fails": {fateRan}, "third": {fateRan}})
		if got := statuses(r.agentCalls(runnerapi.FailPath)); len(got) != runnerapi.DefaultMaxAttempts {
			t.Errorf("fail event attempts = %v, want %d", got, runnerapi.DefaultMaxAttempts)
		}
		// The task agent reported the failure itself, so the job still
		// ended.
		if fails := jobNamed(t, jobs, "fails"); fails.State != localapi.StateFailed {
			t.Errorf("state of the failed job = %s, want failed", fails.State)
		}
	})
	t.Run("after the unclaim failed", func(t *testing.T) {
		t.Parallel()
		r := newRig(t, faultJobs, localapi.Options{})
		r.addFault(localapi.FaultRule{Method: "GET", Path: binaryPath, Status: 500, Count: 1})
		r.addFault(localapi.FaultRule{Method: "POST", Path: runnerapi.UnclaimPath, Status: 409, Count: 1})
		r.addFault(localapi.FaultRule{Method: "POST", Path: runnerapi.FailPath, Status: 400, Count: 1})
		r.start("")

		entry := r.waitLogged(msgFailEventError, 1, 20*time.Second)
		// Nothing reported the task, so only the runner API's own timeout
		// can end it. The test cancels the job in place of that timeout.
		first := jobNamed(t, r.api.Jobs(), "first")
		if _, err := r.api.Cancel(first.ID); err != nil {
			t.Fatal(err)
		}
		r.waitJobs(30 * time.Second)
		r.stopAgent()
		records := r.accountClaims()

		checkFates(t, records, map[string][]claimFate{"first": {fateReportFailed}, "fails": {fateRan}, "third": {fateRan}})
		if !strings.Contains(entry.str("error"), "400") || entry.str("fail_message") == "" {
			t.Errorf("log of the failed fail event = %v, want the 400 and the message that was not sent", entry)
		}
		if got := statuses(r.agentCalls(runnerapi.FailPath)); !slices.Equal(got[:1], []int{400}) {
			t.Errorf("fail event statuses = %v, want one 400 that is not retried first", got)
		}
	})
}
