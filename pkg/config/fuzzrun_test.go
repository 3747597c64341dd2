package config

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// fuzzTargets are the fuzz targets that TestFuzzTargetsBriefly runs. make
// fuzz runs the same ones for longer.
var fuzzTargets = []string{"FuzzLoad", "FuzzLoadEnviron", "FuzzEdit"}

// defaultFuzzTime is each target's share of make test. CONFIG_FUZZTIME
// changes it, in go test's -fuzztime syntax.
const defaultFuzzTime = "20s"

// TestFuzzTargetsBriefly runs every fuzz target under the fuzzing engine for
// a bounded time, so make test looks for new crashers and not only replays
// the corpus. A crasher is written to testdata/fuzz/TARGET/, where plain go
// test replays it from then on; commit it as a regression case.
func TestFuzzTargetsBriefly(t *testing.T) {
	if testing.Short() {
		t.Skip("fuzzing takes about a minute")
	}
	fuzzTime := os.Getenv("CONFIG_FUZZTIME")
	if fuzzTime == "" {
		fuzzTime = defaultFuzzTime
	}
	budget, err := time.ParseDuration(fuzzTime)
	if err != nil {
		t.Fatalf("CONFIG_FUZZTIME=%q: %v; use a duration such as 20s", fuzzTime, err)
	}

	for _, target := range fuzzTargets {
		t.Run(target, func(t *testing.T) {
			// The limit adds three minutes to the fuzzing time for building
			// the instrumented test binary on a cold build cache.
			ctx, cancel := context.WithTimeout(context.Background(), budget+3*time.Minute)
			defer cancel()

			// One worker keeps the load of make test bounded on small
			// machines, and a short minimization leaves the time to search.
			cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$",
				"-fuzz", "^"+target+"$", "-fuzztime", fuzzTime,
				"-fuzzminimizetime", "5s", "-parallel", "1", ".")
			output, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("go test -fuzz %s did not end within %s, so an input may hang the loader:\n%s", target, budget+3*time.Minute, output)
			}
			if err != nil {
				t.Fatalf("go test -fuzz %s failed: %v; a crasher it found is saved in testdata/fuzz/%s/:\n%s", target, err, target, output)
			}
		})
	}
}
