package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/circleci-runner/circleci-runner/pkg/runnerapi"
)

// Delays between failed claims. Server and network failures retry quickly
// at first. A rejected token retries slowly, because it changes only when an
// administrator fixes it, and still retries, so the fix is picked up.
var (
	transientBackoff = runnerapi.Backoff{Initial: 2 * time.Second, Max: time.Minute}
	authBackoff      = runnerapi.Backoff{Initial: 30 * time.Second, Max: 5 * time.Minute}
	// minClaimRetry keeps full jitter from turning into a fast loop.
	minClaimRetry = time.Second
	minAuthRetry  = 15 * time.Second
)

// startBackoff is the wait after a claimed task could not start. Without
// it, a local fault such as a full disk makes the agent unclaim each task
// and claim it back at once. The runner API then rejects the unclaims and
// the task fails, so a fleet loses its tasks to the one broken runner.
var startBackoff = runnerapi.Backoff{Initial: 2 * time.Second, Max: time.Minute}

// startFailed returns how long to wait before the next claim after
// failures tasks in a row could not start, and logs it.
func (a *Agent) startFailed(failures int) time.Duration {
	backoff := startBackoff
	backoff.Rand = a.opts.Rand
	delay := max(minClaimRetry, backoff.Next(failures, 0))
	a.log.Warn().Int("failures", failures).Dur("retry_in", delay).Msg("waiting before the next claim, because the claimed task could not start")
	return delay
}

// claim requests a task from the runner API and keeps the watchdog fed while
// the request is in flight. A cancel aborts the request.
func (a *Agent) claim(ctx context.Context) (*runnerapi.Claim, error) {
	ctx, stop := context.WithCancel(ctx)
	defer stop()

	type result struct {
		claim *runnerapi.Claim
		err   error
	}
	done := make(chan result, 1)
	request := runnerapi.ClaimRequest{
		Name:     a.cfg.Runner.Name,
		Hostname: a.opts.Hostname,
		IP:       a.opts.IP,
		Version:  a.opts.Version,
	}
	go func() {
		claim, err := a.parts.API.Claim(ctx, request)
		done <- result{claim, err}
	}()

	cancel := a.ctl.cancel
	for {
		select {
		case r := <-done:
			return r.claim, r.err
		case <-a.watchdog:
			a.health.Watchdog()
		case <-cancel:
			stop()
			cancel = nil
		}
	}
}

// claimFailed reports a failed claim as Unhealthy with its reason and
// returns how long to wait before the next claim. The status change is
// logged once; repeats of the same failure are logged at debug level.
func (a *Agent) claimFailed(err error, failures int) time.Duration {
	if errors.Is(err, context.Canceled) {
		return 0
	}
	var statusErr *runnerapi.StatusError
	var retryAfter time.Duration
	if errors.As(err, &statusErr) {
		retryAfter = statusErr.RetryAfter
	}

	var delay time.Duration
	if runnerapi.IsAuthError(err) {
		backoff := authBackoff
		backoff.Rand = a.opts.Rand
		delay = max(minAuthRetry, backoff.Next(failures, retryAfter))
	} else {
		backoff := transientBackoff
		backoff.Rand = a.opts.Rand
		delay = max(minClaimRetry, backoff.Next(failures, retryAfter))
	}

	reason := a.unhealthyReason(err)
	before := a.health.Status()
	a.health.Unhealthy(reason)
	event := a.log.Debug()
	if a.health.Status() != before {
		event = a.log.Warn()
	}
	event.Err(err).Int("failures", failures).Dur("retry_in", delay).Msg("claim failed")
	return delay
}

// unhealthyReason is the text after "Unhealthy: " in systemctl status.
func (a *Agent) unhealthyReason(err error) string {
	var statusErr *runnerapi.StatusError
	switch {
	case runnerapi.IsAuthError(err):
		return fmt.Sprintf("authentication rejected (HTTP %d); check api.auth_token or run dpkg-reconfigure circleci-runner", statusCode(err))
	case errors.As(err, &statusErr) && statusErr.StatusCode >= 500:
		return fmt.Sprintf("runner API server error (HTTP %d) at %s", statusErr.StatusCode, a.cfg.API.URL)
	case errors.As(err, &statusErr):
		return fmt.Sprintf("claim rejected (HTTP %d) by %s", statusErr.StatusCode, a.cfg.API.URL)
	default:
		return "runner API unreachable at " + a.cfg.API.URL
	}
}

func statusCode(err error) int {
	var statusErr *runnerapi.StatusError
	if errors.As(err, &statusErr) {
		return statusErr.StatusCode
	}
	return 0
}
