package runnerapi

import (
	"context"
	"fmt"
	"time"
)

// retry runs attempt until it succeeds, fails with an error that is not
// transient, or MaxAttempts attempts have failed. Between attempts it waits
// for the backoff delay, which honours Retry-After. It stops early when ctx
// ends, or when ctx's deadline would pass during the wait.
func (c *Client) retry(ctx context.Context, op string, attempt func(context.Context) error) error {
	for count := 1; ; count++ {
		err := attempt(ctx)
		if err == nil || !IsTransient(err) || ctx.Err() != nil {
			return err
		}
		if count >= c.maxAttempts {
			return fmt.Errorf("%w (failed after %d attempts)", err, count)
		}

		delay := c.backoff.Next(count, retryAfter(err))
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < delay {
			return fmt.Errorf("%w (no retry, because the deadline is less than %s away)", err, delay)
		}
		if c.onRetry != nil {
			c.onRetry(op, count, c.maxAttempts, delay, err)
		}
		if sleepErr := c.sleep(ctx, delay); sleepErr != nil {
			return fmt.Errorf("%w (retry stopped: %w)", err, sleepErr)
		}
	}
}
