package runnerapi

import (
	"math"
	"math/rand/v2"
	"time"
)

// Defaults for the zero fields of Backoff.
const (
	DefaultBackoffInitial    = time.Second
	DefaultBackoffMax        = 30 * time.Second
	DefaultBackoffMultiplier = 2.0
)

// Backoff computes retry delays: exponential growth with full jitter, raised
// to the server's Retry-After and capped at Max. A zero field takes its
// default above, so the zero Backoff is usable.
//
// Backoff keeps no state. The caller counts failures and passes the count to
// Next; resetting the backoff after a success means counting from 1 again.
type Backoff struct {
	// Initial is the upper bound of the first delay.
	Initial time.Duration

	// Max is the upper bound of every delay, including one that a
	// Retry-After header requests.
	Max time.Duration

	// Multiplier is the growth of the upper bound per failure. Values below
	// 1 take the default.
	Multiplier float64

	// Rand returns a number in [0, 1). It defaults to math/rand/v2.Float64;
	// tests inject a fixed value.
	Rand func() float64
}

// Next returns the delay before the next attempt after attempt consecutive
// failures, counting from 1. The delay is uniformly random between 0 and
// min(Max, Initial*Multiplier^(attempt-1)), which is full jitter. When
// retryAfter is longer, the delay is retryAfter instead, but never more than
// Max, so a wrong Retry-After header cannot stall the caller for hours.
func (b Backoff) Next(attempt int, retryAfter time.Duration) time.Duration {
	maxDelay := b.max()
	delay := time.Duration(b.random() * float64(b.ceiling(attempt)))
	if delay < retryAfter {
		delay = retryAfter
	}
	return min(delay, maxDelay)
}

// ceiling returns the upper bound of the jittered delay for attempt.
func (b Backoff) ceiling(attempt int) time.Duration {
	initial := b.Initial
	if initial <= 0 {
		initial = DefaultBackoffInitial
	}
	multiplier := b.Multiplier
	if multiplier < 1 {
		multiplier = DefaultBackoffMultiplier
	}

	// Computing in float64 turns an overflow into +Inf, which the
	// comparison below caps, instead of a wrapped negative duration.
	bound := float64(initial) * math.Pow(multiplier, float64(max(attempt, 1)-1))
	if bound >= float64(b.max()) || math.IsNaN(bound) {
		return b.max()
	}
	return time.Duration(bound)
}

func (b Backoff) max() time.Duration {
	if b.Max <= 0 {
		return DefaultBackoffMax
	}
	return b.Max
}

// random returns b.Rand() clamped to [0, 1].
func (b Backoff) random() float64 {
	random := rand.Float64
	if b.Rand != nil {
		random = b.Rand
	}

	value := random()
	if value < 0 || math.IsNaN(value) {
		return 0
	}
	return min(value, 1)
}
