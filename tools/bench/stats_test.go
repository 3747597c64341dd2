package bench

import (
	"os"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	values := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	tests := []struct {
		p    float64
		want time.Duration
	}{
		{1, 1}, {10, 1}, {11, 2}, {50, 5}, {90, 9}, {99, 10}, {100, 10},
	}
	for _, tt := range tests {
		if got := percentile(values, tt.p); got != tt.want {
			t.Errorf("percentile(p%g) = %d, want %d", tt.p, got, tt.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile of no values = %d, want 0", got)
	}
}

func TestMedianOddAndEven(t *testing.T) {
	if got := median([]time.Duration{3, 1, 2}); got != 2 {
		t.Errorf("median of 3 values = %d, want 2", got)
	}
	if got := median([]time.Duration{4, 1, 3, 2}); got != 2 {
		t.Errorf("median of 4 values = %d, want 2 (the mean of 2 and 3, truncated)", got)
	}
	if got := median([]time.Duration{10, 20}); got != 15 {
		t.Errorf("median of 2 values = %d, want 15", got)
	}
	if got := median(nil); got != 0 {
		t.Errorf("median of no values = %d, want 0", got)
	}
}

func TestWriteResultsKeepsTextAroundMarkers(t *testing.T) {
	path := t.TempDir() + "/page.md"
	page := "# Title\n\nbefore\n\n" + beginMarker + "\nold results\n" + endMarker + "\n\nafter\n"
	mustWriteFile(t, path, page)

	if err := WriteResults(path, "new results\n"); err != nil {
		t.Fatal(err)
	}

	want := "# Title\n\nbefore\n\n" + beginMarker + "\nnew results\n" + endMarker + "\n\nafter\n"
	if got := mustReadFile(t, path); got != want {
		t.Errorf("page =\n%s\nwant\n%s", got, want)
	}
}

func TestWriteResultsRejectsPageWithoutMarkers(t *testing.T) {
	path := t.TempDir() + "/page.md"
	mustWriteFile(t, path, "# Title\n")

	if err := WriteResults(path, "results\n"); err == nil {
		t.Error("WriteResults succeeded on a page without markers, want an error")
	}
	if got := mustReadFile(t, path); got != "# Title\n" {
		t.Errorf("page changed to %q", got)
	}
}

func mustWriteFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustReadFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
