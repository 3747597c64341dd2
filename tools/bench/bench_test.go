package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunShort runs every benchmark but make dist with tiny counts, to
// check that they still work. The numbers of such a run mean nothing.
func TestRunShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the agent and runs it for several seconds")
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	scratch := t.TempDir()
	agent := filepath.Join(t.TempDir(), "circleci-launch-agent")
	build := exec.Command("go", "build", "-o", agent, "./cmd/circleci-launch-agent")
	build.Dir = repo
	if output, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, output)
	}

	opts := Options{
		Agent:          agent,
		RepoDir:        repo,
		ScratchDir:     scratch,
		Tasks:          5,
		LargeTasks:     2,
		TaskAgentBytes: 4_000_000,
		CachedRuns:     2,
		DownloadRuns:   1,
		Idle:           2 * time.Second,
		CleanupFiles:   1000,
		CleanupRounds:  1,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	report, err := Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}

	if len(report.StartLatencies) != opts.Tasks {
		t.Errorf("got %d start latencies, want %d", len(report.StartLatencies), opts.Tasks)
	}
	for i, latency := range report.StartLatencies {
		if latency <= 0 || latency > 10*time.Second {
			t.Errorf("start latency %d is %s, want between 0 and 10 s", i, latency)
		}
	}
	wantFigures := []string{"back-to-back task start p50", "back-to-back task start p99", "per-task time",
		"task start p50, 4 MB task agent", "cached 4 MB task agent", "download and verify",
		"idle claim rate", "idle RSS", "idle CPU", "workdir cleanup"}
	for _, name := range wantFigures {
		if figure, ok := findFigure(report, name); !ok {
			t.Errorf("no figure starts with %q", name)
		} else if figure.Value == "" {
			t.Errorf("figure %q has no value", figure.Name)
		}
	}

	page := filepath.Join(scratch, "benchmarks.md")
	png := filepath.Join(scratch, "start.png")
	if err := report.PlotStartLatency(png); err != nil {
		t.Fatal(err)
	}
	if err := WriteResults(page, report.Results("go test", "start.png")); err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(written), "| back-to-back task start p50") {
		t.Errorf("page has no results table:\n%s", written)
	}
	if !strings.Contains(string(written), "](start.png)") {
		t.Errorf("page does not link the plot:\n%s", written)
	}
}

func findFigure(report *Report, prefix string) (Figure, bool) {
	for _, f := range report.Figures {
		if strings.HasPrefix(f.Name, prefix) {
			return f, true
		}
	}
	return Figure{}, false
}
