package runnerapi

import (
	"math"
	"testing"
	"time"
)

func fixedRand(value float64) func() float64 {
	return func() float64 { return value }
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	backoff := Backoff{Initial: time.Second, Max: 30 * time.Second, Multiplier: 2, Rand: fixedRand(0.5)}
	want := []time.Duration{
		500 * time.Millisecond,
		time.Second,
		2 * time.Second,
		4 * time.Second,
		8 * time.Second,
		15 * time.Second, // the ceiling of 32 s is capped at 30 s
		15 * time.Second,
	}

	for i, expected := range want {
		if got := backoff.Next(i+1, 0); got != expected {
			t.Errorf("Next(%d, 0) = %s, want %s", i+1, got, expected)
		}
	}
}

func TestBackoffFullJitterBounds(t *testing.T) {
	backoff := Backoff{Initial: time.Second, Max: 30 * time.Second, Multiplier: 2}

	for i := 0; i < 1000; i++ {
		delay := backoff.Next(3, 0)
		if delay < 0 || delay > 4*time.Second {
			t.Fatalf("Next(3, 0) = %s, want between 0 and 4s", delay)
		}
	}
}

func TestBackoffRetryAfterIsFloor(t *testing.T) {
	backoff := Backoff{Initial: time.Second, Max: 30 * time.Second, Rand: fixedRand(0)}

	if got := backoff.Next(1, 7*time.Second); got != 7*time.Second {
		t.Errorf("Next(1, 7s) = %s, want 7s", got)
	}
}

func TestBackoffJitterAboveRetryAfter(t *testing.T) {
	backoff := Backoff{Initial: 16 * time.Second, Max: 30 * time.Second, Rand: fixedRand(0.75)}

	if got := backoff.Next(1, 2*time.Second); got != 12*time.Second {
		t.Errorf("Next(1, 2s) = %s, want 12s", got)
	}
}

func TestBackoffRetryAfterCappedAtMax(t *testing.T) {
	backoff := Backoff{Initial: time.Second, Max: 30 * time.Second, Rand: fixedRand(0)}

	if got := backoff.Next(1, time.Hour); got != 30*time.Second {
		t.Errorf("Next(1, 1h) = %s, want 30s", got)
	}
}

func TestBackoffZeroValueDefaults(t *testing.T) {
	backoff := Backoff{Rand: fixedRand(1)}

	if got := backoff.Next(1, 0); got != DefaultBackoffInitial {
		t.Errorf("Next(1, 0) = %s, want %s", got, DefaultBackoffInitial)
	}
	if got := backoff.Next(2, 0); got != 2*DefaultBackoffInitial {
		t.Errorf("Next(2, 0) = %s, want a multiplier of 2", got)
	}
	if got := backoff.Next(100, 0); got != DefaultBackoffMax {
		t.Errorf("Next(100, 0) = %s, want %s", got, DefaultBackoffMax)
	}
}

func TestBackoffAttemptBelowOne(t *testing.T) {
	backoff := Backoff{Initial: time.Second, Rand: fixedRand(1)}

	for _, attempt := range []int{0, -1, math.MinInt} {
		if got := backoff.Next(attempt, 0); got != time.Second {
			t.Errorf("Next(%d, 0) = %s, want the first delay", attempt, got)
		}
	}
}

func TestBackoffHugeAttemptDoesNotOverflow(t *testing.T) {
	backoff := Backoff{Initial: time.Second, Max: time.Minute, Multiplier: 10, Rand: fixedRand(1)}

	for _, attempt := range []int{64, 1000, math.MaxInt} {
		if got := backoff.Next(attempt, 0); got != time.Minute {
			t.Errorf("Next(%d, 0) = %s, want 1m", attempt, got)
		}
	}
}

func TestBackoffClampsRand(t *testing.T) {
	backoff := Backoff{Initial: 4 * time.Second, Max: time.Minute}
	tests := []struct {
		random float64
		want   time.Duration
	}{
		{-1, 0},
		{math.NaN(), 0},
		{2, 4 * time.Second},
		{math.Inf(1), 4 * time.Second},
	}
	for _, test := range tests {
		backoff.Rand = fixedRand(test.random)

		if got := backoff.Next(1, 0); got != test.want {
			t.Errorf("Next with Rand %v = %s, want %s", test.random, got, test.want)
		}
	}
}

func TestBackoffMultiplierBelowOne(t *testing.T) {
	backoff := Backoff{Initial: time.Second, Multiplier: 0.5, Rand: fixedRand(1)}

	if got := backoff.Next(3, 0); got != 4*time.Second {
		t.Errorf("Next(3, 0) = %s, want 4s with the default multiplier", got)
	}
}

func TestBackoffInitialAboveMax(t *testing.T) {
	backoff := Backoff{Initial: time.Hour, Max: time.Minute, Rand: fixedRand(1)}

	if got := backoff.Next(1, 0); got != time.Minute {
		t.Errorf("Next(1, 0) = %s, want 1m", got)
	}
}
