package runnerapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/circleci-runner/circleci-runner/pkg/version"
	"github.com/google/go-cmp/cmp"
)

var testClaimRequest = ClaimRequest{Name: "runner-1", Hostname: "host-1", IP: "", Version: "1.2.3"}

func TestClaimRequestWireFormat(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusOK, claimBody))
	client, _ := newTestClient(api.server.URL, nil)

	if _, err := client.Claim(context.Background(), testClaimRequest); err != nil {
		t.Fatalf("Claim: %v", err)
	}

	got := api.request(t, 0)
	if got.method != http.MethodPost {
		t.Errorf("method = %s, want POST", got.method)
	}
	if got.path != "/api/v3/runner/claim" {
		t.Errorf("path = %s, want /api/v3/runner/claim", got.path)
	}
	if auth := got.header.Get("Authorization"); auth != "Bearer "+testResourceClassToken {
		t.Errorf("Authorization = %q, want the resource class token", auth)
	}
	if contentType := got.header.Get("Content-Type"); contentType != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", contentType)
	}
	if userAgent := got.header.Get("User-Agent"); userAgent != testUserAgent {
		t.Errorf("User-Agent = %q, want %q", userAgent, testUserAgent)
	}
	if accept := got.header.Get("Accept"); accept != "application/json" {
		t.Errorf("Accept = %q, want application/json", accept)
	}
	wantBody := `{"name":"runner-1","hostname":"host-1","ip":"","version":"1.2.3"}`
	if string(got.body) != wantBody {
		t.Errorf("body = %s, want %s", got.body, wantBody)
	}
}

func TestClaimResponse(t *testing.T) {
	body := `{"task_token":"tt","agent_version":"1.0.2-abc","allocation":"alloc-1",` +
		`"resource_class":"acme/linux","warning":"runner version is old","is_enterprise":true,"extra":1}`
	api := startFakeAPI(t, respond(http.StatusOK, body))
	client, _ := newTestClient(api.server.URL, nil)

	claim, err := client.Claim(context.Background(), testClaimRequest)

	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	want := &Claim{
		TaskToken:     "tt",
		AgentVersion:  "1.0.2-abc",
		Allocation:    "alloc-1",
		ResourceClass: "acme/linux",
		Warning:       "runner version is old",
		IsEnterprise:  true,
	}
	if diff := cmp.Diff(want, claim); diff != "" {
		t.Errorf("Claim (-want +got):\n%s", diff)
	}
}

func TestClaimNoTask(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusNoContent, ""))
	client, _ := newTestClient(api.server.URL, nil)

	claim, err := client.Claim(context.Background(), testClaimRequest)

	if claim != nil || err != nil {
		t.Errorf("Claim = %v, %v; want nil, nil", claim, err)
	}
}

func TestClaimTokenRejected(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		api := startFakeAPI(t, respond(status, `{"message":"invalid resource class token"}`))
		client, _ := newTestClient(api.server.URL, nil)

		_, err := client.Claim(context.Background(), testClaimRequest)

		if !IsAuthError(err) {
			t.Errorf("status %d: IsAuthError(%v) = false", status, err)
		}
		if IsTransient(err) {
			t.Errorf("status %d: IsTransient = true", status)
		}
		if !strings.Contains(err.Error(), ": invalid resource class token") {
			t.Errorf("status %d: error %q lacks the body's message", status, err)
		}
	}
}

func TestClaimErrorStatuses(t *testing.T) {
	tests := []struct {
		status    int
		transient bool
	}{
		{http.StatusBadRequest, false},
		{http.StatusNotFound, false},
		{http.StatusConflict, false},
		{http.StatusUnprocessableEntity, false},
		{http.StatusRequestTimeout, true},
		{http.StatusTooManyRequests, true},
		{http.StatusInternalServerError, true},
		{http.StatusBadGateway, true},
		{http.StatusServiceUnavailable, true},
		{http.StatusGatewayTimeout, true},
		{http.StatusCreated, false},
	}
	for _, test := range tests {
		t.Run(http.StatusText(test.status), func(t *testing.T) {
			api := startFakeAPI(t, respond(test.status, `{"message":"status test"}`))
			client, sleeps := newTestClient(api.server.URL, nil)

			claim, err := client.Claim(context.Background(), testClaimRequest)

			var statusErr *StatusError
			if !errors.As(err, &statusErr) {
				t.Fatalf("Claim = %v, %v; want a *StatusError", claim, err)
			}
			if statusErr.StatusCode != test.status {
				t.Errorf("StatusCode = %d, want %d", statusErr.StatusCode, test.status)
			}
			if statusErr.Message != "status test" {
				t.Errorf("Message = %q, want %q", statusErr.Message, "status test")
			}
			if statusErr.Op != "claim" {
				t.Errorf("Op = %q, want claim", statusErr.Op)
			}
			if IsTransient(err) != test.transient {
				t.Errorf("IsTransient = %v, want %v", IsTransient(err), test.transient)
			}
			if IsAuthError(err) {
				t.Error("IsAuthError = true")
			}
			if n := api.requestCount(); n != 1 {
				t.Errorf("Claim sent %d requests, want 1", n)
			}
			if delays := sleeps.recorded(); len(delays) != 0 {
				t.Errorf("Claim slept %v, want no sleep", delays)
			}
		})
	}
}

func TestClaimMissingFields(t *testing.T) {
	tests := map[string]string{
		"task_token":    `{"agent_version":"1","allocation":"a"}`,
		"allocation":    `{"task_token":"t","agent_version":"1"}`,
		"agent_version": `{"task_token":"t","allocation":"a"}`,
	}
	for field, body := range tests {
		api := startFakeAPI(t, respond(http.StatusOK, body))
		client, _ := newTestClient(api.server.URL, nil)

		_, err := client.Claim(context.Background(), testClaimRequest)

		if err == nil || !strings.Contains(err.Error(), "returned a task without "+field) {
			t.Errorf("Claim without %s: error = %v", field, err)
		}
	}
}

func TestClaimEmptyToken(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusOK, claimBody))
	client, _ := newTestClient(api.server.URL, func(o *Options) { o.Token = "" })

	_, err := client.Claim(context.Background(), testClaimRequest)

	if err == nil || !strings.Contains(err.Error(), "set api.auth_token") {
		t.Errorf("Claim error = %v, want the empty token named", err)
	}
	if n := api.requestCount(); n != 0 {
		t.Errorf("Claim sent %d requests without a token", n)
	}
}

func TestClaimAfterSetToken(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusNoContent, ""))
	client, _ := newTestClient(api.server.URL, nil)

	client.SetToken("replaced-token-after-reconfigure")
	if _, err := client.Claim(context.Background(), testClaimRequest); err != nil {
		t.Fatalf("Claim: %v", err)
	}

	if auth := api.request(t, 0).header.Get("Authorization"); auth != "Bearer replaced-token-after-reconfigure" {
		t.Errorf("Authorization = %q, want the replaced token", auth)
	}
}

// TestSetTokenConcurrentWithClaim is meant for go test -race.
func TestSetTokenConcurrentWithClaim(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusNoContent, ""))
	client, _ := newTestClient(api.server.URL, nil)
	var wg sync.WaitGroup

	for i := 0; i < 4; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			client.SetToken("token-from-goroutine")
		}()
		go func() {
			defer wg.Done()
			if _, err := client.Claim(context.Background(), testClaimRequest); err != nil {
				t.Errorf("Claim: %v", err)
			}
		}()
	}
	wg.Wait()

	for i := 0; i < api.requestCount(); i++ {
		auth := api.request(t, i).header.Get("Authorization")
		if auth != "Bearer "+testResourceClassToken && auth != "Bearer token-from-goroutine" {
			t.Errorf("request %d: Authorization = %q", i, auth)
		}
	}
}

func TestClaimDefaultUserAgent(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusNoContent, ""))
	client, _ := newTestClient(api.server.URL, func(o *Options) { o.UserAgent = "" })

	if _, err := client.Claim(context.Background(), testClaimRequest); err != nil {
		t.Fatalf("Claim: %v", err)
	}

	if userAgent := api.request(t, 0).header.Get("User-Agent"); userAgent != version.UserAgent() {
		t.Errorf("User-Agent = %q, want %q", userAgent, version.UserAgent())
	}
}

func TestClaimBaseURLPathPrefix(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusNoContent, ""))
	client, _ := newTestClient(api.server.URL+"/prefix/", nil)

	if _, err := client.Claim(context.Background(), testClaimRequest); err != nil {
		t.Fatalf("Claim: %v", err)
	}

	if path := api.request(t, 0).path; path != "/prefix/api/v3/runner/claim" {
		t.Errorf("path = %s, want /prefix/api/v3/runner/claim", path)
	}
}

func TestClaimInvalidBaseURL(t *testing.T) {
	tests := map[string]string{
		"":                    "the runner API URL is empty",
		"127.0.0.1:8080":      "invalid runner API URL",
		"ftp://127.0.0.1/":    "expected http:// or https://",
		"http://%zz":          "invalid runner API URL",
		"https:///no-host/x/": "expected http:// or https:// and a host",

		"http://user:url-secret@127.0.0.1/%zz": "invalid runner API URL",
	}
	for baseURL, message := range tests {
		client, _ := newTestClient(baseURL, nil)

		_, err := client.Claim(context.Background(), testClaimRequest)

		if err == nil || !strings.Contains(err.Error(), message) {
			t.Errorf("Claim with base URL %q: error = %v, want %q", baseURL, err, message)
		}
		if err != nil && strings.Contains(err.Error(), "url-secret") {
			t.Errorf("error = %q contains the URL's password", err)
		}
	}
}

func TestClaimStringMasksToken(t *testing.T) {
	claim := Claim{TaskToken: testTaskToken, Allocation: "alloc-1"}

	text := claim.String()

	if strings.Contains(text, testTaskToken) {
		t.Errorf("String() = %q contains the task token", text)
	}
	if !strings.Contains(text, "task_token:****3210") {
		t.Errorf("String() = %q, want the masked token", text)
	}
}
