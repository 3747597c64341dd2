package runnerapi

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTaskConfigRequestWireFormat(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusOK, taskConfigBody))
	client, _ := newTestClient(api.server.URL, nil)

	config, err := client.TaskConfig(context.Background(), testTaskToken)

	if err != nil {
		t.Fatalf("TaskConfig: %v", err)
	}
	if config.TaskID != "task-1" {
		t.Errorf("TaskID = %q, want task-1", config.TaskID)
	}
	if string(config.Raw) != taskConfigBody {
		t.Errorf("Raw = %s, want the whole body", config.Raw)
	}
	got := api.request(t, 0)
	if got.method != http.MethodGet || got.path != "/api/v2/task/config" {
		t.Errorf("request = %s %s, want GET /api/v2/task/config", got.method, got.path)
	}
	if auth := got.header.Get("Authorization"); auth != "Bearer "+testTaskToken {
		t.Errorf("Authorization = %q, want the task token", auth)
	}
	if contentType := got.header.Get("Content-Type"); contentType != "" {
		t.Errorf("Content-Type = %q on a request without a body", contentType)
	}
	if got.header.Get("User-Agent") != testUserAgent {
		t.Errorf("User-Agent = %q", got.header.Get("User-Agent"))
	}
	if len(got.body) != 0 {
		t.Errorf("body = %q, want none", got.body)
	}
}

func TestTaskConfigWithoutTaskID(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusOK, `{"job":{}}`))
	client, _ := newTestClient(api.server.URL, nil)

	_, err := client.TaskConfig(context.Background(), testTaskToken)

	if err == nil || !strings.Contains(err.Error(), "without task_id") {
		t.Errorf("TaskConfig error = %v, want the missing task_id named", err)
	}
}

func TestTaskConfigEmptyToken(t *testing.T) {
	client, _ := newTestClient("http://127.0.0.1:1", nil)

	_, err := client.TaskConfig(context.Background(), "")

	if err == nil || !strings.Contains(err.Error(), "task token is empty") {
		t.Errorf("TaskConfig error = %v", err)
	}
}

func TestTaskConfigRetriesServerErrors(t *testing.T) {
	api := startFakeAPI(t,
		respond(http.StatusBadGateway, "<html>bad gateway</html>", "Content-Type", "text/html"),
		respond(http.StatusServiceUnavailable, `{"message":"maintenance"}`),
		respond(http.StatusOK, taskConfigBody),
	)
	client, sleeps := newTestClient(api.server.URL, nil)

	config, err := client.TaskConfig(context.Background(), testTaskToken)

	if err != nil {
		t.Fatalf("TaskConfig: %v", err)
	}
	if config.TaskID != "task-1" {
		t.Errorf("TaskID = %q", config.TaskID)
	}
	if n := api.requestCount(); n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
	want := []time.Duration{500 * time.Millisecond, time.Second}
	if diff := cmp.Diff(want, sleeps.recorded()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
}

func TestTaskConfigRetryAfterSeconds(t *testing.T) {
	api := startFakeAPI(t,
		respond(http.StatusTooManyRequests, `{"message":"slow down"}`, "Retry-After", "7"),
		respond(http.StatusOK, taskConfigBody),
	)
	client, sleeps := newTestClient(api.server.URL, nil)

	if _, err := client.TaskConfig(context.Background(), testTaskToken); err != nil {
		t.Fatalf("TaskConfig: %v", err)
	}

	if diff := cmp.Diff([]time.Duration{7 * time.Second}, sleeps.recorded()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
}

func TestTaskConfigRetryAfterDate(t *testing.T) {
	date := testNow.Add(9 * time.Second).Format(http.TimeFormat)
	api := startFakeAPI(t,
		respond(http.StatusServiceUnavailable, "", "Retry-After", date),
		respond(http.StatusOK, taskConfigBody),
	)
	client, sleeps := newTestClient(api.server.URL, nil)

	if _, err := client.TaskConfig(context.Background(), testTaskToken); err != nil {
		t.Fatalf("TaskConfig: %v", err)
	}

	if diff := cmp.Diff([]time.Duration{9 * time.Second}, sleeps.recorded()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
}

func TestTaskConfigRetryAfterCappedAtMax(t *testing.T) {
	api := startFakeAPI(t,
		respond(http.StatusServiceUnavailable, "", "Retry-After", "3600"),
		respond(http.StatusOK, taskConfigBody),
	)
	client, sleeps := newTestClient(api.server.URL, nil)

	if _, err := client.TaskConfig(context.Background(), testTaskToken); err != nil {
		t.Fatalf("TaskConfig: %v", err)
	}

	if diff := cmp.Diff([]time.Duration{DefaultBackoffMax}, sleeps.recorded()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
}

func TestTaskConfigGivesUpAfterMaxAttempts(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusInternalServerError, `{"message":"database down"}`))
	var retries []int
	client, sleeps := newTestClient(api.server.URL, func(o *Options) {
		o.OnRetry = func(op string, attempt, maxAttempts int, delay time.Duration, err error) {
			if op != "get task config" || maxAttempts != DefaultMaxAttempts || !IsTransient(err) {
				t.Errorf("OnRetry(%q, %d, %d, %s, %v)", op, attempt, maxAttempts, delay, err)
			}
			retries = append(retries, attempt)
		}
	})

	_, err := client.TaskConfig(context.Background(), testTaskToken)

	var statusErr *StatusError
	if !errors.As(err, &statusErr) || statusErr.StatusCode != http.StatusInternalServerError {
		t.Fatalf("TaskConfig error = %v, want the last *StatusError", err)
	}
	if !strings.Contains(err.Error(), "database down (failed after 5 attempts)") {
		t.Errorf("error = %q, want the attempt count", err)
	}
	if n := api.requestCount(); n != DefaultMaxAttempts {
		t.Errorf("requests = %d, want %d", n, DefaultMaxAttempts)
	}
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}
	if diff := cmp.Diff(want, sleeps.recorded()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{1, 2, 3, 4}, retries); diff != "" {
		t.Errorf("OnRetry attempts (-want +got):\n%s", diff)
	}
}

func TestTaskConfigMaxAttemptsOption(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusBadGateway, ""))
	client, _ := newTestClient(api.server.URL, func(o *Options) { o.MaxAttempts = 2 })

	_, err := client.TaskConfig(context.Background(), testTaskToken)

	if err == nil || !strings.Contains(err.Error(), "failed after 2 attempts") {
		t.Errorf("TaskConfig error = %v", err)
	}
	if n := api.requestCount(); n != 2 {
		t.Errorf("requests = %d, want 2", n)
	}
}

func TestTaskConfigNoRetryOnClientError(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusNotFound, `{"message":"no such task"}`))
	client, sleeps := newTestClient(api.server.URL, nil)

	_, err := client.TaskConfig(context.Background(), testTaskToken)

	if err == nil || IsTransient(err) {
		t.Errorf("TaskConfig error = %v, want a permanent error", err)
	}
	if n := api.requestCount(); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
	if len(sleeps.recorded()) != 0 {
		t.Errorf("sleeps = %v, want none", sleeps.recorded())
	}
}

func TestTaskConfigRetryStoppedByContext(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusServiceUnavailable, ""))
	client, sleeps := newTestClient(api.server.URL, nil)
	sleeps.err = context.Canceled

	_, err := client.TaskConfig(context.Background(), testTaskToken)

	if !errors.Is(err, context.Canceled) {
		t.Errorf("TaskConfig error = %v, want context.Canceled", err)
	}
	if !strings.Contains(err.Error(), "retry stopped") {
		t.Errorf("error = %q, want the stop explained", err)
	}
	if n := api.requestCount(); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

func TestTaskConfigNoRetryPastDeadline(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusServiceUnavailable, "", "Retry-After", "20"))
	client, sleeps := newTestClient(api.server.URL, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()

	_, err := client.TaskConfig(ctx, testTaskToken)

	if err == nil || !strings.Contains(err.Error(), "no retry, because the deadline is less than 20s away") {
		t.Errorf("TaskConfig error = %v", err)
	}
	if len(sleeps.recorded()) != 0 {
		t.Errorf("sleeps = %v, want none", sleeps.recorded())
	}
}

func TestTaskConfigDefaultSleepHonoursContext(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusServiceUnavailable, ""))
	client, _ := newTestClient(api.server.URL, func(o *Options) {
		o.Sleep = nil
		o.Backoff = Backoff{Initial: time.Hour, Max: time.Hour}
		o.Rand = func() float64 { return 1 }
	})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()

	_, err := client.TaskConfig(ctx, testTaskToken)

	if !errors.Is(err, context.Canceled) {
		t.Errorf("TaskConfig error = %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("TaskConfig returned after %s, want soon after the cancel", elapsed)
	}
}

func TestUnclaimRequestWireFormat(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusOK, `{}`))
	client, _ := newTestClient(api.server.URL, nil)

	if err := client.Unclaim(context.Background(), "task-1", testTaskToken); err != nil {
		t.Fatalf("Unclaim: %v", err)
	}

	got := api.request(t, 0)
	if got.method != http.MethodPost || got.path != "/api/v3/runner/unclaim" {
		t.Errorf("request = %s %s, want POST /api/v3/runner/unclaim", got.method, got.path)
	}
	if auth, ok := got.header["Authorization"]; ok {
		t.Errorf("Authorization = %q, want no header", auth)
	}
	if got.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", got.header.Get("Content-Type"))
	}
	if got.header.Get("User-Agent") != testUserAgent {
		t.Errorf("User-Agent = %q", got.header.Get("User-Agent"))
	}
	wantBody := `{"task_id":"task-1","task_token":"` + testTaskToken + `"}`
	if string(got.body) != wantBody {
		t.Errorf("body = %s, want %s", got.body, wantBody)
	}
}

func TestUnclaimStatuses(t *testing.T) {
	tests := []struct {
		status  int
		wantErr error // nil means success
		isError bool
	}{
		{http.StatusOK, nil, false},
		{http.StatusNoContent, nil, false},
		{http.StatusConflict, ErrRetriesExhausted, true},
		{http.StatusNotFound, ErrTaskGone, true},
		{http.StatusBadRequest, nil, true},
		{http.StatusUnauthorized, nil, true},
	}
	for _, test := range tests {
		t.Run(http.StatusText(test.status), func(t *testing.T) {
			api := startFakeAPI(t, respond(test.status, ""))
			client, _ := newTestClient(api.server.URL, nil)

			err := client.Unclaim(context.Background(), "task-1", testTaskToken)

			if (err != nil) != test.isError {
				t.Fatalf("Unclaim error = %v, want an error: %v", err, test.isError)
			}
			if test.wantErr != nil && !errors.Is(err, test.wantErr) {
				t.Errorf("Unclaim error = %v, want errors.Is %v", err, test.wantErr)
			}
			var statusErr *StatusError
			if test.isError && (!errors.As(err, &statusErr) || statusErr.StatusCode != test.status) {
				t.Errorf("Unclaim error = %v, want a *StatusError with %d", err, test.status)
			}
			if n := api.requestCount(); n != 1 {
				t.Errorf("requests = %d, want 1", n)
			}
		})
	}
}

func TestUnclaimErrorMessages(t *testing.T) {
	tests := map[int]string{
		http.StatusConflict: "unclaim: http://127.0.0.1:PORT/api/v3/runner/unclaim returned 409 Conflict " +
			"(the task has exhausted its retries and cannot be unclaimed): retries exhausted",
		http.StatusNotFound: "unclaim: http://127.0.0.1:PORT/api/v3/runner/unclaim returned 404 Not Found " +
			"(the task no longer exists because its job was cancelled): retries exhausted",
	}
	for status, want := range tests {
		api := startFakeAPI(t, respond(status, `{"message":"retries exhausted"}`))
		client, _ := newTestClient(api.server.URL, nil)

		err := client.Unclaim(context.Background(), "task-1", testTaskToken)

		want = strings.Replace(want, "http://127.0.0.1:PORT", api.server.URL, 1)
		if err == nil || err.Error() != want {
			t.Errorf("Unclaim error = %v\nwant %s", err, want)
		}
	}
}

func TestUnclaimRetriesServerErrors(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusInternalServerError, ""), respond(http.StatusOK, ""))
	client, sleeps := newTestClient(api.server.URL, nil)

	if err := client.Unclaim(context.Background(), "task-1", testTaskToken); err != nil {
		t.Fatalf("Unclaim: %v", err)
	}

	if n := api.requestCount(); n != 2 {
		t.Errorf("requests = %d, want 2", n)
	}
	if len(sleeps.recorded()) != 1 {
		t.Errorf("sleeps = %v, want one", sleeps.recorded())
	}
}

func TestUnclaimRequiresArguments(t *testing.T) {
	client, _ := newTestClient("http://127.0.0.1:1", nil)

	for _, args := range [][2]string{{"", testTaskToken}, {"task-1", ""}} {
		err := client.Unclaim(context.Background(), args[0], args[1])

		if err == nil || !strings.Contains(err.Error(), "are required") {
			t.Errorf("Unclaim(%q, token) error = %v", args[0], err)
		}
	}
}

func TestFailRequestWireFormat(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusOK, ""))
	client, _ := newTestClient(api.server.URL, nil)
	at := time.UnixMilli(1700000000123)

	err := client.Fail(context.Background(), testTaskToken, "alloc-1", `task agent "x" exited <1>`, at)

	if err != nil {
		t.Fatalf("Fail: %v", err)
	}
	got := api.request(t, 0)
	if got.method != http.MethodPost || got.path != "/api/v2/task/event/fail" {
		t.Errorf("request = %s %s, want POST /api/v2/task/event/fail", got.method, got.path)
	}
	if auth := got.header.Get("Authorization"); auth != "Bearer "+testTaskToken {
		t.Errorf("Authorization = %q, want the task token", auth)
	}
	if got.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", got.header.Get("Content-Type"))
	}
	message := base64.StdEncoding.EncodeToString([]byte("task agent x exited 1"))
	wantBody := `{"allocation":"alloc-1","timestamp":1700000000123,"message":"` + message + `"}`
	if string(got.body) != wantBody {
		t.Errorf("body = %s\nwant %s", got.body, wantBody)
	}
}

func TestFailUnknownAllocation(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusNotFound, `{"message":"not found"}`))
	client, _ := newTestClient(api.server.URL, nil)

	err := client.Fail(context.Background(), testTaskToken, "alloc-1", "failed", testNow)

	if !errors.Is(err, ErrUnknownAllocation) {
		t.Errorf("Fail error = %v, want ErrUnknownAllocation", err)
	}
	if n := api.requestCount(); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

func TestFailRetriesTooManyRequests(t *testing.T) {
	api := startFakeAPI(t,
		respond(http.StatusTooManyRequests, "", "Retry-After", "2"),
		respond(http.StatusOK, ""),
	)
	client, sleeps := newTestClient(api.server.URL, nil)

	if err := client.Fail(context.Background(), testTaskToken, "alloc-1", "failed", testNow); err != nil {
		t.Fatalf("Fail: %v", err)
	}

	if diff := cmp.Diff([]time.Duration{2 * time.Second}, sleeps.recorded()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
	first, second := api.request(t, 0), api.request(t, 1)
	if string(first.body) != string(second.body) {
		t.Errorf("retried body %s differs from %s", second.body, first.body)
	}
}

func TestFailRequiresArguments(t *testing.T) {
	client, _ := newTestClient("http://127.0.0.1:1", nil)

	if err := client.Fail(context.Background(), "", "alloc-1", "m", testNow); err == nil {
		t.Error("Fail accepted an empty task token")
	}
	if err := client.Fail(context.Background(), testTaskToken, "", "m", testNow); err == nil {
		t.Error("Fail accepted an empty allocation")
	}
	if err := client.Fail(context.Background(), testTaskToken, "alloc-1", "m", time.Time{}); err == nil {
		t.Error("Fail accepted a zero time")
	}
}

func TestEncodeFailMessage(t *testing.T) {
	tests := []struct {
		text string
		want string
	}{
		{"plain", "plain"},
		{`<b>"quoted" & 'single'</b>`, "bquoted  single/b"},
		{"ünïcödé ✓", "ünïcödé ✓"},
		{"invalid \xff byte", "invalid \uFFFD byte"},
		{"", ""},
	}
	for _, test := range tests {
		encoded := EncodeFailMessage(test.text)

		decoded, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			t.Errorf("EncodeFailMessage(%q) = %q is not standard base64: %v", test.text, encoded, err)
		}
		if string(decoded) != test.want {
			t.Errorf("EncodeFailMessage(%q) decodes to %q, want %q", test.text, decoded, test.want)
		}
	}
}

func TestEncodeFailMessagePadded(t *testing.T) {
	if got := EncodeFailMessage("ab"); got != "YWI=" {
		t.Errorf("EncodeFailMessage(ab) = %q, want YWI=", got)
	}
}
