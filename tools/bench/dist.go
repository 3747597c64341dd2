package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// distTimeout bounds each make dist; a cold build takes about a minute and
// a half on 2 cores.
const distTimeout = 8 * time.Minute

// benchDist times make dist with an empty Go build cache in a temporary
// GOCACHE, then again with the cache that the first run filled. Modules
// come from the module cache in both runs. A failed build is reported as
// the figure's value instead of an error, because a failure measures no
// speed.
func benchDist(ctx context.Context, env *environment, report *Report) error {
	dir, err := env.runDir("dist")
	if err != nil {
		return err
	}
	cache := filepath.Join(dir, "go-build")
	for _, run := range []string{"cold", "warm"} {
		logPath := filepath.Join(dir, "make-dist-"+run+".log")
		elapsed, err := makeDist(ctx, env.opts, cache, logPath)
		figure := Figure{Name: "make dist, amd64 and arm64, " + run + " Go build cache", Verdict: Recorded}
		if err != nil {
			figure.Value = fmt.Sprintf("failed: %v (see %s)", err, logPath)
		} else {
			figure.Value = seconds(elapsed)
		}
		report.Figures = append(report.Figures, figure)
	}
	return nil
}

func makeDist(ctx context.Context, opts Options, cache, logPath string) (time.Duration, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return 0, err
	}
	defer log.Close()

	ctx, cancel := context.WithTimeout(ctx, distTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, opts.Make, "-C", opts.RepoDir, "dist")
	cmd.Env = append(os.Environ(), "GOCACHE="+cache)
	cmd.Stdout, cmd.Stderr = log, log
	start := time.Now()
	err = cmd.Run()
	return time.Since(start), err
}
