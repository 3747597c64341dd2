package runnerapi

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := testNow
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", 0},
		{"soon", 0},
		{"-5", 0},
		{"0", 0},
		{" 120 ", 2 * time.Minute},
		{"99999999999999", 24 * time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{now.Add(30 * time.Second).Format(time.RFC850), 30 * time.Second},
		{now.Add(45 * time.Second).Format(time.ANSIC), 45 * time.Second},
	}
	for _, test := range tests {
		if got := parseRetryAfter(test.value, now); got != test.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", test.value, got, test.want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"json message", `{"message":"token revoked"}`, "token revoked"},
		{"json without message", `{"error":"x"}`, `{"error":"x"}`},
		{"json message not a string", `{"message":42}`, `{"message":42}`},
		{"text", "  Service Unavailable\n", "Service Unavailable"},
		{"control characters", "line one\nline\x1btwo", "line one line two"},
		{"invalid utf-8", "bad \xff byte", "bad \uFFFD byte"},
		{"empty", "", ""},
		{"secret", `{"message":"token ` + testTaskToken + ` expired"}`, "token ****3210 expired"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			got := errorMessage([]byte(test.body), []string{testTaskToken})

			if got != test.want {
				t.Errorf("errorMessage(%q) = %q, want %q", test.body, got, test.want)
			}
		})
	}
}

func TestErrorMessageLimit(t *testing.T) {
	got := errorMessage([]byte(strings.Repeat("a", 2000)), nil)

	if len(got) != maxMessageBytes || !strings.HasSuffix(got, "...") {
		t.Errorf("errorMessage of 2000 bytes has %d bytes ending %q, want %d ending ...", len(got), got[len(got)-5:], maxMessageBytes)
	}
}
