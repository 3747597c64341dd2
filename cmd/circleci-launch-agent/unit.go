package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// stopTransientUnit stops the unit that launch-task names
// circleci-LAUNCH_ID, in case launch-task was killed before its own trap
// could. A stop that takes longer than grace, because processes of the
// task ignore SIGTERM, ends with SIGKILL to every process left in the unit.
// Without that, systemd would wait for the unit's TimeoutStopSec. Without a
// running systemd it does nothing.
func stopTransientUnit(ctx context.Context, launchID string, grace time.Duration) error {
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return nil
	}
	unit := "circleci-" + launchID + ".service"
	if grace > 0 {
		graceCtx, cancel := context.WithTimeout(ctx, grace)
		err := systemctl(graceCtx, "stop", unit)
		cancel()
		if err == nil || ctx.Err() != nil {
			return err
		}
	}
	// A unit that stopped since is no longer loaded, and the stop below
	// reports any other failure, so an error of kill adds nothing.
	_ = systemctl(ctx, "kill", unit, "--signal=SIGKILL")
	return systemctl(ctx, "stop", unit)
}

// systemctlUnitNotLoaded is the exit status of "systemctl stop" for a unit
// that is not loaded (systemd 252), such as a transient unit that stopped
// and was collected.
const systemctlUnitNotLoaded = 5

// systemctl runs "systemctl VERB [OPTION...] -- UNIT". A unit that is not
// loaded counts as stopped, so that is no error.
func systemctl(ctx context.Context, verb, unit string, options ...string) error {
	args := append(append([]string{verb}, options...), "--", unit)
	out, err := exec.CommandContext(ctx, "systemctl", args...).CombinedOutput()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && exitErr.ExitCode() == systemctlUnitNotLoaded {
		return nil
	}
	if err != nil {
		return fmt.Errorf("systemctl %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}
