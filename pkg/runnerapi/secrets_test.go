package runnerapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// echoCredentials responds with status and a message that repeats the
// Authorization header and the request body, as a careless server might.
func echoCredentials(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		message, _ := json.Marshal(map[string]string{
			"message": "rejected " + r.Header.Get("Authorization") + " with body " + string(body),
		})
		w.WriteHeader(status)
		w.Write(message)
	}
}

func TestErrorsNeverContainTokens(t *testing.T) {
	var errs []error
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusInternalServerError} {
		errs = append(errs, callEveryEndpoint(t, startFakeAPI(t, echoCredentials(status)).server.URL)...)
	}
	errs = append(errs, callEveryEndpoint(t, startFakeAPI(t, respond(http.StatusOK, "not json")).server.URL)...)
	errs = append(errs, callEveryEndpoint(t, startFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
	}).server.URL)...)
	errs = append(errs, callEveryEndpoint(t, "http://127.0.0.1:1")...)

	failures := 0
	for _, err := range errs {
		if err == nil {
			continue // unclaim and fail ignore the body of a 200
		}
		failures++
		text := err.Error()
		for _, token := range []string{testResourceClassToken, testTaskToken} {
			if strings.Contains(text, token) {
				t.Errorf("error contains a token: %s", text)
			}
		}
	}
	if failures < len(errs)-2 {
		t.Errorf("%d of %d calls failed, want all but two", failures, len(errs))
	}
}

func TestEchoedTokenIsMasked(t *testing.T) {
	api := startFakeAPI(t, echoCredentials(http.StatusBadRequest))
	client, _ := newTestClient(api.server.URL, nil)

	_, err := client.Claim(context.Background(), testClaimRequest)

	if err == nil || !strings.Contains(err.Error(), "rejected Bearer ****cdef") {
		t.Errorf("Claim error = %v, want the masked resource class token", err)
	}
}

// callEveryEndpoint calls each runner API endpoint once and returns the
// errors, without retries and with a short request timeout.
func callEveryEndpoint(t *testing.T, baseURL string) []error {
	t.Helper()
	client, _ := newTestClient(baseURL, func(o *Options) {
		o.MaxAttempts = 1
		o.RequestTimeout = 50 * time.Millisecond
	})
	ctx := context.Background()

	_, claimErr := client.Claim(ctx, testClaimRequest)
	_, configErr := client.TaskConfig(ctx, testTaskToken)
	unclaimErr := client.Unclaim(ctx, "task-1", testTaskToken)
	failErr := client.Fail(ctx, testTaskToken, "alloc-1", "failed", testNow)
	return []error{claimErr, configErr, unclaimErr, failErr}
}

func TestMaskToken(t *testing.T) {
	tests := map[string]string{
		"":                          "****",
		"short":                     "****",
		"0123456789abcde":           "****",
		"0123456789abcdef":          "****cdef",
		"a-much-longer-token-value": "****alue",
	}
	for token, want := range tests {
		if got := maskToken(token); got != want {
			t.Errorf("maskToken(%q) = %q, want %q", token, got, want)
		}
	}
}
