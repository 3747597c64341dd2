package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/circleci-runner/circleci-runner/pkg/config"
	"github.com/circleci-runner/circleci-runner/pkg/health"
	"github.com/circleci-runner/circleci-runner/pkg/runnerapi"
	"github.com/circleci-runner/circleci-runner/pkg/workdir"
)

// fakeAPI is an in-memory runner API. Claims are served from a queue of
// results; every call is recorded.
type fakeAPI struct {
	mu       sync.Mutex
	claims   []claimResult
	calls    []string
	fails    []string
	unclaim  error
	onClaim  func(n int)
	nClaims  int
	taskConf error
}

type claimResult struct {
	claim *runnerapi.Claim
	err   error
}

func (f *fakeAPI) Claim(ctx context.Context, _ runnerapi.ClaimRequest) (*runnerapi.Claim, error) {
	f.mu.Lock()
	f.nClaims++
	n := f.nClaims
	f.calls = append(f.calls, "claim")
	var r claimResult
	if len(f.claims) > 0 {
		r = f.claims[0]
		f.claims = f.claims[1:]
	}
	hook := f.onClaim
	f.mu.Unlock()

	if hook != nil {
		hook(n)
	}
	return r.claim, r.err
}

func (f *fakeAPI) TaskConfig(_ context.Context, token string) (*runnerapi.TaskConfig, error) {
	f.record("config " + token)
	if f.taskConf != nil {
		return nil, f.taskConf
	}
	return &runnerapi.TaskConfig{TaskID: "id-" + token}, nil
}

func (f *fakeAPI) Unclaim(_ context.Context, taskID, token string) error {
	f.record("unclaim " + taskID)
	return f.unclaim
}

func (f *fakeAPI) Fail(_ context.Context, token, allocation, message string, _ time.Time) error {
	f.record("fail " + allocation)
	f.mu.Lock()
	f.fails = append(f.fails, message)
	f.mu.Unlock()
	return nil
}

func (f *fakeAPI) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeAPI) recorded() ([]string, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...), append([]string(nil), f.fails...)
}

func claimedTask(n int) claimResult {
	return claimResult{claim: &runnerapi.Claim{
		TaskToken:    fmt.Sprintf("tok%d", n),
		AgentVersion: "1.0",
		Allocation:   fmt.Sprintf("alloc%d", n),
	}}
}

// fakeTaskAgents returns one script as the task agent for every version.
type fakeTaskAgents struct {
	path string
	err  error
}

func (f fakeTaskAgents) Get(context.Context, string) (string, error) { return f.path, f.err }

// harness runs an agent with a fake API, a task agent script and a clock
// whose waits return at once but are recorded.
type harness struct {
	t       *testing.T
	api     *fakeAPI
	cfg     *config.Config
	agents  fakeTaskAgents
	signals chan os.Signal
	agent   *Agent
	logs    *syncBuffer
	notify  *syncBuffer
	dir     string

	mu    sync.Mutex
	waits []time.Duration
}

func newHarness(t *testing.T, script string) *harness {
	t.Helper()
	dir := t.TempDir()
	base := filepath.Join(dir, "work")
	if err := os.Mkdir(base, 0o755); err != nil {
		t.Fatal(err)
	}
	agentPath := filepath.Join(dir, "circleci-agent")
	// A task agent reads its token first. One that does not is taken for
	// a task that never started.
	body := "#!/bin/bash\nIFS= read -r TOKEN\nOUT=" + dir + "\n" + script + "\n"
	if err := os.WriteFile(agentPath, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return &harness{
		t:   t,
		api: &fakeAPI{},
		cfg: &config.Config{
			Path: filepath.Join(dir, "config.yaml"),
			API:  config.API{AuthToken: "resource-class-token", URL: "http://127.0.0.1:1"},
			Runner: config.Runner{
				Name:                    "runner-1",
				WorkingDirectory:        base + "/%s",
				CleanupWorkingDirectory: true,
				Mode:                    config.ModeContinuous,
				MaxRunTime:              time.Hour,
				ClaimInterval:           5 * time.Second,
				CancelGracePeriod:       time.Second,
			},
		},
		agents:  fakeTaskAgents{path: agentPath},
		signals: make(chan os.Signal, 4),
		logs:    &syncBuffer{},
		notify:  &syncBuffer{},
		dir:     dir,
	}
}

func (h *harness) options() Options {
	log := zerolog.New(h.logs)
	return Options{
		Config: h.cfg,
		Build: func(cfg *config.Config) (Parts, error) {
			tmpl, err := workdir.Parse(cfg.Runner.WorkingDirectory)
			return Parts{API: h.api, TaskAgents: h.agents, WorkDir: tmpl}, err
		},
		Reload: func() (*config.Config, error) { return nil, errors.New("reload not expected") },
		Health: health.NewReporter(func(state string) (bool, error) {
			fmt.Fprintln(h.notify, state)
			return true, nil
		}, log),
		Log:     log,
		Signals: h.signals,
		Environ: []string{"PATH=/usr/bin:/bin"},
		Version: "1.0.0",
		After: func(d time.Duration) <-chan time.Time {
			if d == h.cfg.Runner.MaxRunTime {
				return nil // the max_run_time timer never fires
			}
			h.mu.Lock()
			h.waits = append(h.waits, d)
			h.mu.Unlock()
			ch := make(chan time.Time, 1)
			ch <- time.Now()
			return ch
		},
		Rand: func() float64 { return 0.5 },
	}
}

// run runs the agent and fails the test if it does not stop within 20 s.
func (h *harness) run(opts Options) {
	h.t.Helper()
	a, err := New(opts)
	if err != nil {
		h.t.Fatal(err)
	}
	h.agent = a
	done := make(chan error, 1)
	go func() { done <- a.Run(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			h.t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		h.t.Fatalf("agent did not stop; log:\n%s", h.logs.String())
	}
}

// send handles sig as the signal goroutine would, but synchronously, so
// the loop acts on it at its next step.
func (h *harness) send(sig os.Signal) {
	h.agent.ctl.handle(sig)
}

func (h *harness) recordedWaits() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Duration(nil), h.waits...)
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logLines returns the log entries whose message is msg.
func logLines(logs, msg string) []map[string]any {
	var found []map[string]any
	for _, line := range strings.Split(logs, "\n") {
		var entry map[string]any
		if json.Unmarshal([]byte(line), &entry) == nil && entry["message"] == msg {
			found = append(found, entry)
		}
	}
	return found
}

func TestRunsTasksThenDrains(t *testing.T) {
	h := newHarness(t, `echo "$TOKEN $CIRCLECI_LAUNCH_ID $*" >> "$OUT/runs"; echo hello from the task`)
	h.api.claims = []claimResult{claimedTask(1), {}, claimedTask(2)}
	h.api.onClaim = func(n int) {
		if n == 4 {
			h.send(syscall.SIGINT)
		}
	}

	h.run(h.options())

	calls, fails := h.api.recorded()
	want := []string{"claim", "config tok1", "claim", "claim", "config tok2", "claim"}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if len(fails) != 0 {
		t.Errorf("fail events = %v, want none", fails)
	}
	runs := readLines(t, filepath.Join(h.dir, "runs"))
	if len(runs) != 2 || !strings.HasPrefix(runs[0], "tok1 ") || !strings.HasPrefix(runs[1], "tok2 ") {
		t.Fatalf("task agent runs = %q", runs)
	}
	if !strings.Contains(runs[0], "--allocation=alloc1 --maxRunTime=1h0m0s --workDir="+h.cfg.Runner.WorkingDirectory[:len(h.cfg.Runner.WorkingDirectory)-2]) {
		t.Errorf("task agent arguments = %q", runs[0])
	}
	entries, _ := os.ReadDir(filepath.Dir(h.cfg.Runner.WorkingDirectory))
	if len(entries) != 0 {
		t.Errorf("working directories left behind: %v", entries)
	}
	if got := logLines(h.logs.String(), "hello from the task"); len(got) != 2 || got[0]["launch_id"] == nil || got[0]["allocation"] != "alloc1" {
		t.Errorf("task output log lines = %v", got)
	}
	// The wait after the empty claim is the claim interval with jitter;
	// after a task the loop claims again at once.
	if diff := cmp.Diff([]time.Duration{5 * time.Second}, h.recordedWaits()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	notify := h.notify.String()
	if !strings.HasPrefix(notify, "READY=1\nSTATUS=Healthy\n") || !strings.HasSuffix(notify, "STATUS=Draining\nSTOPPING=1\n") {
		t.Errorf("sd_notify states = %q", notify)
	}
}

func TestAuthFailuresBackOffAndLogOnce(t *testing.T) {
	h := newHarness(t, "exit 0")
	rejected := &runnerapi.StatusError{Op: "claim", StatusCode: 401}
	for range 12 {
		h.api.claims = append(h.api.claims, claimResult{err: rejected})
	}
	h.api.onClaim = func(n int) {
		if n == 13 {
			h.send(syscall.SIGINT)
		}
	}

	h.run(h.options())

	waits := h.recordedWaits()
	if len(waits) != 12 {
		t.Fatalf("waits = %v, want 12", waits)
	}
	for i, w := range waits {
		if w < 15*time.Second {
			t.Errorf("wait %d = %v, shorter than the 15 s floor for a rejected token", i, w)
		}
		if w > 5*time.Minute {
			t.Errorf("wait %d = %v, longer than the 5 min cap", i, w)
		}
	}
	if waits[len(waits)-1] != 5*time.Minute/2 {
		t.Errorf("last wait = %v, want half the 5 min cap with jitter 0.5", waits[len(waits)-1])
	}
	if got := logLines(h.logs.String(), "runner is unhealthy"); len(got) != 1 {
		t.Errorf("logged %d unhealthy lines, want 1", len(got))
	}
	if got := logLines(h.logs.String(), "claim failed"); len(got) != 12 || got[0]["level"] != "warn" || got[1]["level"] != "debug" {
		t.Errorf("claim failure log levels = %v", got)
	}
	wantStatus := "STATUS=Unhealthy: authentication rejected (HTTP 401); check api.auth_token or run dpkg-reconfigure circleci-runner\n"
	if !strings.Contains(h.notify.String(), wantStatus) || strings.Count(h.notify.String(), "Unhealthy") != 1 {
		t.Errorf("sd_notify states = %q", h.notify.String())
	}
}

func TestTransientFailureHonoursRetryAfter(t *testing.T) {
	h := newHarness(t, "exit 0")
	h.api.claims = []claimResult{
		{err: &runnerapi.StatusError{Op: "claim", StatusCode: 429, RetryAfter: 42 * time.Second}},
		{err: &runnerapi.RequestError{Op: "claim", URL: "http://127.0.0.1:1", Err: errors.New("connection refused")}},
	}
	h.api.onClaim = func(n int) {
		if n == 3 {
			h.send(syscall.SIGINT)
		}
	}

	h.run(h.options())

	waits := h.recordedWaits()
	if len(waits) != 2 || waits[0] != 42*time.Second || waits[1] < time.Second {
		t.Errorf("waits = %v, want 42s (Retry-After) then at least 1s", waits)
	}
	if !strings.Contains(h.notify.String(), "STATUS=Unhealthy: runner API unreachable at http://127.0.0.1:1\n") {
		t.Errorf("sd_notify states = %q", h.notify.String())
	}
}

func TestFailedTaskAgentSendsFailEvent(t *testing.T) {
	h := newHarness(t, "exit 1")
	h.cfg.Runner.Mode = config.ModeSingleTask
	h.api.claims = []claimResult{claimedTask(1)}

	h.run(h.options())

	calls, fails := h.api.recorded()
	if diff := cmp.Diff([]string{"claim", "config tok1", "fail alloc1"}, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if len(fails) != 1 || !strings.HasPrefix(fails[0], "The task agent on runner runner-1 ended with exit status 1 (launch id ") {
		t.Errorf("fail events = %q", fails)
	}
}

func TestTaskThatCannotStartIsUnclaimed(t *testing.T) {
	tests := []struct {
		name      string
		unclaim   error
		wantCalls []string
	}{
		{"returned to queue", nil, []string{"claim", "config tok1", "unclaim id-tok1"}},
		{"retries exhausted", fmt.Errorf("unclaim: %w", runnerapi.ErrRetriesExhausted), []string{"claim", "config tok1", "unclaim id-tok1", "fail alloc1"}},
		{"job cancelled", fmt.Errorf("unclaim: %w", runnerapi.ErrTaskGone), []string{"claim", "config tok1", "unclaim id-tok1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, "touch $OUT/ran")
			h.cfg.Runner.Mode = config.ModeSingleTask
			h.agents.err = errors.New("checksums.txt has no entry for linux/amd64/circleci-agent")
			h.api.claims = []claimResult{claimedTask(1)}
			h.api.unclaim = tt.unclaim

			h.run(h.options())

			calls, fails := h.api.recorded()
			if diff := cmp.Diff(tt.wantCalls, calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if _, err := os.Stat(filepath.Join(h.dir, "ran")); err == nil {
				t.Error("the task agent ran")
			}
			if len(fails) == 1 && fails[0] != "The task could not start on runner runner-1: task agent 1.0: checksums.txt has no entry for linux/amd64/circleci-agent" {
				t.Errorf("fail event = %q", fails[0])
			}
		})
	}
}

// failingTaskAgents fails the first failures calls of Get, then returns
// path.
type failingTaskAgents struct {
	path     string
	failures atomic.Int32
}

func (f *failingTaskAgents) Get(context.Context, string) (string, error) {
	if f.failures.Add(-1) >= 0 {
		return "", errors.New("task agent cache: open lock file: read-only file system")
	}
	return f.path, nil
}

func TestTaskThatCannotStartBacksOff(t *testing.T) {
	h := newHarness(t, "touch $OUT/ran")
	agents := &failingTaskAgents{path: h.agents.path}
	agents.failures.Store(2)
	h.api.claims = []claimResult{claimedTask(1), claimedTask(2), claimedTask(3)}
	h.api.onClaim = func(n int) {
		if n == 4 {
			h.send(syscall.SIGINT)
		}
	}
	opts := h.options()
	opts.Build = func(cfg *config.Config) (Parts, error) {
		tmpl, err := workdir.Parse(cfg.Runner.WorkingDirectory)
		return Parts{API: h.api, TaskAgents: agents, WorkDir: tmpl}, err
	}

	h.run(opts)

	// With jitter 0.5, the waits are half of 2 s and 4 s, but at least 1 s.
	// The third task starts, so the empty fourth claim is the only other
	// wait.
	waits := h.recordedWaits()
	if len(waits) < 2 || waits[0] != time.Second || waits[1] != 2*time.Second {
		t.Errorf("waits = %v, want 1s and 2s after the two tasks that could not start", waits)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "ran")); err != nil {
		t.Errorf("the third task did not run after the fault cleared: %v", err)
	}
	if got := logLines(h.logs.String(), "waiting before the next claim, because the claimed task could not start"); len(got) != 2 {
		t.Errorf("logged %d waits after a task that could not start, want 2", len(got))
	}
}

func TestPrefixWithoutTokenIsUnclaimed(t *testing.T) {
	h := newHarness(t, "exit 0")
	h.cfg.Runner.Mode = config.ModeSingleTask
	prefix := filepath.Join(h.dir, "prefix")
	if err := os.WriteFile(prefix, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	h.cfg.Runner.CommandPrefix = []string{prefix}
	h.api.claims = []claimResult{claimedTask(1)}

	h.run(h.options())

	calls, fails := h.api.recorded()
	if diff := cmp.Diff([]string{"claim", "config tok1", "unclaim id-tok1"}, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if len(fails) != 0 {
		t.Errorf("fail events = %q, want none for a task that returned to the queue", fails)
	}
	logged := logLines(h.logs.String(), "task could not start")
	want := "runner.command_prefix " + prefix + " exited with exit status 0 without reading the task token, so the task agent never ran; check that it starts the command it is given"
	if len(logged) != 1 || logged[0]["error"] != want {
		t.Errorf("log of the task that could not start = %v, want the error %q", logged, want)
	}
}

func TestMissingWorkDirBaseUnclaimsWithPath(t *testing.T) {
	h := newHarness(t, "touch $OUT/ran")
	h.cfg.Runner.Mode = config.ModeSingleTask
	missing := filepath.Join(h.dir, "missing")
	h.cfg.Runner.WorkingDirectory = missing + "/%s"
	h.api.claims = []claimResult{claimedTask(1)}
	h.api.unclaim = runnerapi.ErrRetriesExhausted

	h.run(h.options())

	_, fails := h.api.recorded()
	want := "The task could not start on runner runner-1: working directory base " + missing + ": stat " + missing + ": no such file or directory; create it or change runner.working_directory"
	if len(fails) != 1 || fails[0] != want {
		t.Errorf("fail events = %q, want %q", fails, want)
	}
}

func TestSigtermCancelsRunningTask(t *testing.T) {
	h := newHarness(t, `trap '' TERM; echo $$ > $OUT/pid; touch $OUT/started; sleep 30`)
	h.api.claims = []claimResult{claimedTask(1)}
	go func() {
		waitForFile(t, filepath.Join(h.dir, "started"))
		h.signals <- syscall.SIGTERM
	}()

	h.run(h.options())

	calls, fails := h.api.recorded()
	if diff := cmp.Diff([]string{"claim", "config tok1", "fail alloc1"}, calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if len(fails) != 1 || fails[0] != "The task was cancelled because runner runner-1 is shutting down (SIGTERM)." {
		t.Errorf("fail events = %q", fails)
	}
	entries, _ := os.ReadDir(filepath.Join(h.dir, "work"))
	if len(entries) != 0 {
		t.Errorf("working directories left behind: %v", entries)
	}
	if got := logLines(h.logs.String(), "task agent did not exit within the grace period; sent SIGKILL"); len(got) != 1 {
		t.Errorf("SIGKILL log lines = %d, want 1", len(got))
	}
}

// After a cancel the grace period is over, so the transient unit is stopped
// without another one: what is left of the task gets SIGKILL.
func TestCancelStopsUnitWithoutGrace(t *testing.T) {
	h := newHarness(t, `trap '' TERM; touch $OUT/started; sleep 30`)
	h.cfg.Runner.CommandPrefix = []string{"/usr/bin/env"}
	h.api.claims = []claimResult{claimedTask(1)}
	var stopped []string
	opts := h.options()
	opts.StopUnit = func(_ context.Context, launchID string, grace time.Duration) error {
		stopped = append(stopped, fmt.Sprintf("%s after %s", launchID, grace))
		return nil
	}
	go func() {
		waitForFile(t, filepath.Join(h.dir, "started"))
		h.signals <- syscall.SIGTERM
	}()

	h.run(opts)

	started := logLines(h.logs.String(), "task agent started")
	if len(started) != 1 {
		t.Fatalf("task agent start log lines = %d, want 1", len(started))
	}
	if diff := cmp.Diff([]string{fmt.Sprintf("%s after 0s", started[0]["launch_id"])}, stopped); diff != "" {
		t.Errorf("stopped units (-want +got):\n%s", diff)
	}
}

func TestSecondSigintCancels(t *testing.T) {
	h := newHarness(t, `touch $OUT/started; sleep 30`)
	h.api.claims = []claimResult{claimedTask(1)}
	go func() {
		waitForFile(t, filepath.Join(h.dir, "started"))
		h.signals <- syscall.SIGINT
		h.signals <- syscall.SIGINT
	}()

	h.run(h.options())

	_, fails := h.api.recorded()
	if len(fails) != 1 || fails[0] != "The task was cancelled because runner runner-1 is shutting down (a second SIGINT)." {
		t.Errorf("fail events = %q", fails)
	}
}

func TestMaxRunTimeCancelsTask(t *testing.T) {
	h := newHarness(t, `sleep 30`)
	h.cfg.Runner.Mode = config.ModeSingleTask
	h.api.claims = []claimResult{claimedTask(1)}
	opts := h.options()
	opts.After = func(d time.Duration) <-chan time.Time { return time.After(200 * time.Millisecond) }

	h.run(opts)

	_, fails := h.api.recorded()
	if len(fails) != 1 || fails[0] != "The task was cancelled because it ran longer than runner.max_run_time (1h0m0s)." {
		t.Errorf("fail events = %q", fails)
	}
}

func TestIdleTimeoutStops(t *testing.T) {
	h := newHarness(t, "exit 0")
	h.cfg.Runner.IdleTimeout = time.Minute
	start := time.Now()
	clock := start
	opts := h.options()
	opts.Now = func() time.Time { return clock }
	opts.After = func(d time.Duration) <-chan time.Time {
		clock = clock.Add(d)
		ch := make(chan time.Time, 1)
		ch <- clock
		return ch
	}

	h.run(opts)

	calls, _ := h.api.recorded()
	// 5 s between empty claims (jitter 0.5 gives the interval itself):
	// claims at 0, 5, ..., 55 s, then the idle timeout at 60 s.
	if len(calls) != 12 {
		t.Errorf("claims = %d, want 12", len(calls))
	}
	if got := logLines(h.logs.String(), "no task claimed within runner.idle_timeout; stopping"); len(got) != 1 {
		t.Errorf("idle timeout log lines = %d, want 1", len(got))
	}
}

func TestSighupReloadsBetweenTasks(t *testing.T) {
	h := newHarness(t, `touch $OUT/started; sleep 0.3`)
	h.api.claims = []claimResult{claimedTask(1)}
	reloads := 0
	opts := h.options()
	opts.Reload = func() (*config.Config, error) {
		reloads++
		if reloads == 1 {
			return nil, errors.New("config.yaml:3:1: runner.nmae: unknown key")
		}
		cfg := *h.cfg
		cfg.Runner.Name = "renamed"
		return &cfg, nil
	}
	go func() {
		waitForFile(t, filepath.Join(h.dir, "started"))
		h.signals <- syscall.SIGHUP
	}()
	h.api.onClaim = func(n int) {
		switch n {
		case 2:
			h.send(syscall.SIGHUP)
		case 3:
			h.send(syscall.SIGINT)
		}
	}

	h.run(opts)

	if reloads != 2 {
		t.Errorf("reloads = %d, want 2", reloads)
	}
	if got := logLines(h.logs.String(), "configuration reload failed; keeping the running configuration"); len(got) != 1 {
		t.Errorf("failed reload log lines = %d, want 1", len(got))
	}
	if got := logLines(h.logs.String(), "configuration reloaded"); len(got) != 1 {
		t.Errorf("reload log lines = %d, want 1", len(got))
	}
}

func TestReplacedExecutableDrains(t *testing.T) {
	h := newHarness(t, "exit 0")
	exe := filepath.Join(h.dir, "circleci-launch-agent")
	if err := os.WriteFile(exe, []byte("old"), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := h.options()
	opts.Executable = exe
	opts.ExecutableCheck = 10 * time.Millisecond
	opts.After = func(d time.Duration) <-chan time.Time { return time.After(20 * time.Millisecond) }
	h.api.onClaim = func(n int) {
		if n == 2 {
			replacement := exe + ".new"
			if err := os.WriteFile(replacement, []byte("new"), 0o755); err != nil {
				t.Error(err)
			}
			if err := os.Rename(replacement, exe); err != nil {
				t.Error(err)
			}
		}
	}

	h.run(opts)

	if got := logLines(h.logs.String(), "the agent's executable was replaced; draining so the new version starts after the running task"); len(got) != 1 {
		t.Errorf("replacement log lines = %d, want 1; log:\n%s", len(got), h.logs.String())
	}
}

func TestSweepsStaleWorkDirsAtStart(t *testing.T) {
	h := newHarness(t, "exit 0")
	stale := filepath.Join(h.dir, "work", workdir.NewLaunchID(time.Now()))
	if err := os.MkdirAll(filepath.Join(stale, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	h.api.onClaim = func(int) { h.send(syscall.SIGINT) }

	h.run(h.options())

	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale working directory %s still exists", stale)
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func waitForFile(t *testing.T, path string) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%s did not appear", path)
}

func TestRecoversInterruptedTask(t *testing.T) {
	tests := []struct {
		name          string
		record        inflight
		taskConfigErr error
		wantCalls     []string
		wantFail      string
	}{
		{
			name:      "started",
			record:    inflight{LaunchID: "mx0-a", Allocation: "alloc9", TaskToken: "tok9", TaskID: "id-tok9", Started: true},
			wantCalls: []string{"fail alloc9", "claim"},
			wantFail:  "The launch agent on runner runner-1 restarted while the task ran (launch id mx0-a), so the task was stopped.",
		},
		{
			name:      "not started",
			record:    inflight{LaunchID: "mx0-b", Allocation: "alloc9", TaskToken: "tok9", TaskID: "id-tok9"},
			wantCalls: []string{"unclaim id-tok9", "claim"},
		},
		{
			name:      "before task config",
			record:    inflight{LaunchID: "mx0-c", Allocation: "alloc9", TaskToken: "tok9"},
			wantCalls: []string{"config tok9", "unclaim id-tok9", "claim"},
		},
		{
			name:          "before task config, config fails",
			record:        inflight{LaunchID: "mx0-d", Allocation: "alloc9", TaskToken: "tok9"},
			taskConfigErr: errors.New("get task config: 404"),
			wantCalls:     []string{"config tok9", "fail alloc9", "claim"},
			wantFail:      "The launch agent on runner runner-1 restarted before the task started (launch id mx0-d).",
		},
		{
			name:      "during cleanup",
			record:    inflight{LaunchID: "mx0-e", Allocation: "alloc9", TaskToken: "tok9", TaskID: "id-tok9", Started: true, Reported: true},
			wantCalls: []string{"claim"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, "exit 0")
			h.api.taskConf = tt.taskConfigErr
			state := filepath.Join(h.dir, "state", "task-in-flight.json")
			tt.record.WorkDir = h.cfg.Runner.WorkingDirectory
			if err := writePrivateJSON(state, tt.record); err != nil {
				t.Fatal(err)
			}
			leftover := filepath.Join(h.dir, "work", tt.record.LaunchID)
			if err := os.MkdirAll(leftover, 0o755); err != nil {
				t.Fatal(err)
			}
			h.cfg.Runner.CommandPrefix = []string{"/bin/true"}
			var stopped []string
			opts := h.options()
			opts.StateFile = state
			opts.StopUnit = func(_ context.Context, launchID string, grace time.Duration) error {
				stopped = append(stopped, fmt.Sprintf("%s after %s", launchID, grace))
				return nil
			}
			h.api.onClaim = func(int) { h.send(syscall.SIGINT) }

			h.run(opts)

			calls, fails := h.api.recorded()
			if diff := cmp.Diff(tt.wantCalls, calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if tt.wantFail != "" && (len(fails) != 1 || fails[0] != tt.wantFail) {
				t.Errorf("fail events = %q, want %q", fails, tt.wantFail)
			}
			if tt.wantFail == "" && len(fails) != 0 {
				t.Errorf("fail events = %q, want none", fails)
			}
			// The unit's processes get the grace period, since launch-task
			// began to stop them when the previous agent died.
			if diff := cmp.Diff([]string{tt.record.LaunchID + " after 1s"}, stopped); diff != "" {
				t.Errorf("stopped units (-want +got):\n%s", diff)
			}
			if _, err := os.Stat(state); !os.IsNotExist(err) {
				t.Errorf("record still exists after recovery: %v", err)
			}
			if _, err := os.Stat(leftover); !os.IsNotExist(err) {
				t.Errorf("working directory of the interrupted task still exists")
			}
		})
	}
}

// The record's folder is the parent of the task agent cache as root, so
// it must stay traversable for the user that runs tasks.
func TestRecordFolderReadableByTasks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var-lib-circleci-runner")
	state := filepath.Join(dir, "task-in-flight.json")

	if err := writePrivateJSON(state, inflight{TaskToken: "tok1"}); err != nil {
		t.Fatal(err)
	}

	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm()&0o005 != 0o005 {
		t.Errorf("record folder mode = %v, want readable and searchable by others", info.Mode().Perm())
	}
	info, err = os.Stat(state)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("record mode = %v, want 0600 because it holds the task token", info.Mode().Perm())
	}
}

func TestRecordKeptWhileTaskRuns(t *testing.T) {
	h := newHarness(t, `touch $OUT/started; sleep 0.5`)
	state := filepath.Join(h.dir, "task-in-flight.json")
	h.cfg.Runner.Mode = config.ModeSingleTask
	h.api.claims = []claimResult{claimedTask(1)}
	opts := h.options()
	opts.StateFile = state
	var during inflight
	read := make(chan struct{})
	go func() {
		defer close(read)
		waitForFile(t, filepath.Join(h.dir, "started"))
		data, err := os.ReadFile(state)
		if err != nil {
			t.Error(err)
			return
		}
		if err := json.Unmarshal(data, &during); err != nil {
			t.Error(err)
		}
		info, err := os.Stat(state)
		if err == nil && info.Mode().Perm() != 0o600 {
			t.Errorf("record mode = %v, want 0600 because it holds the task token", info.Mode().Perm())
		}
	}()

	h.run(opts)
	<-read

	if !during.Started || during.Reported || during.TaskID != "id-tok1" || during.TaskToken != "tok1" || during.Allocation != "alloc1" {
		t.Errorf("record during the task = %+v", during)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("record still exists after the task: %v", err)
	}
}

func TestRecordWriteFailureLeavesNoPartialFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a full tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=4k"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, 0) })
	filler := filepath.Join(dir, "filler")
	_ = os.WriteFile(filler, bytes.Repeat([]byte("x"), 1<<20), 0o600)

	err := writePrivateJSON(filepath.Join(dir, "record.json"), inflight{TaskToken: strings.Repeat("secret", 2000)})
	if err == nil {
		t.Fatal("writePrivateJSON() on a full file system succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "record.json.tmp")); !os.IsNotExist(err) {
		t.Errorf("partial record left behind: %v", err)
	}
}
