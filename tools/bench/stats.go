package bench

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// values, or 0 for no values.
func percentile(values []time.Duration, p float64) time.Duration {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

// median returns the middle of values, or the mean of the two middle
// values of an even count, or 0 for no values.
func median(values []time.Duration) time.Duration {
	if len(values) == 0 {
		return 0
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	middle := len(sorted) / 2
	if len(sorted)%2 == 0 {
		return (sorted[middle-1] + sorted[middle]) / 2
	}
	return sorted[middle]
}

func sum(values []time.Duration) time.Duration {
	var total time.Duration
	for _, v := range values {
		total += v
	}
	return total
}

// milliseconds formats d as milliseconds with two decimals.
func milliseconds(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// duration formats d in milliseconds below a second and in seconds above.
func duration(d time.Duration) string {
	if d < time.Second {
		return milliseconds(d)
	}
	return seconds(d)
}

func ratio(value, baseline time.Duration) float64 {
	if baseline <= 0 {
		return math.Inf(1)
	}
	return float64(value) / float64(baseline)
}

func formatRatio(r float64) string {
	return fmt.Sprintf("%.2f", r)
}

// formatBytes writes a size in decimal megabytes above 1 MB.
func formatBytes(n int64) string {
	if n >= 1_000_000 {
		return fmt.Sprintf("%g MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%d bytes", n)
}

func verdict(met bool) Verdict {
	if met {
		return Met
	}
	return Missed
}
