package runnerapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestTruncatedBody(t *testing.T) {
	api := startFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"task_token":`)
	})
	client, _ := newTestClient(api.server.URL, nil)

	_, err := client.Claim(context.Background(), testClaimRequest)

	var requestErr *RequestError
	if !errors.As(err, &requestErr) {
		t.Fatalf("Claim error = %v, want a *RequestError", err)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("error = %v, want io.ErrUnexpectedEOF", err)
	}
	if !IsTransient(err) {
		t.Error("IsTransient = false for a cut-off body")
	}
	if !strings.Contains(err.Error(), api.server.URL+"/api/v3/runner/claim") {
		t.Errorf("error = %q, want the URL", err)
	}
}

func TestTruncatedBodyRetried(t *testing.T) {
	api := startFakeAPI(t,
		func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, `{"task_id":`)
		},
		respond(http.StatusOK, taskConfigBody),
	)
	client, _ := newTestClient(api.server.URL, nil)

	config, err := client.TaskConfig(context.Background(), testTaskToken)

	if err != nil || config.TaskID != "task-1" {
		t.Errorf("TaskConfig = %v, %v; want task-1 after a retry", config, err)
	}
}

func TestInvalidJSON(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusOK, `{"task_id": nope}`))
	client, _ := newTestClient(api.server.URL, nil)

	_, err := client.TaskConfig(context.Background(), testTaskToken)

	if err == nil || !strings.Contains(err.Error(), "returned invalid JSON") {
		t.Fatalf("TaskConfig error = %v, want invalid JSON", err)
	}
	if IsTransient(err) {
		t.Error("IsTransient = true for invalid JSON")
	}
	if n := api.requestCount(); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

func TestEmptyBodyOnSuccess(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusOK, ""))
	client, _ := newTestClient(api.server.URL, nil)

	_, err := client.Claim(context.Background(), testClaimRequest)

	if err == nil || !strings.Contains(err.Error(), "returned 200 with an empty body, expected JSON") {
		t.Errorf("Claim error = %v", err)
	}
}

func TestOversizeBody(t *testing.T) {
	body := `{"task_id":"task-1","padding":"` + strings.Repeat("x", 100) + `"}`
	api := startFakeAPI(t, respond(http.StatusOK, body))
	client, _ := newTestClient(api.server.URL, func(o *Options) { o.MaxBodyBytes = int64(len(body) - 1) })

	_, err := client.TaskConfig(context.Background(), testTaskToken)

	want := fmt.Sprintf("larger than the limit of %d bytes", len(body)-1)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("TaskConfig error = %v, want the limit named", err)
	}
	if IsTransient(err) {
		t.Error("IsTransient = true for an oversize body")
	}
}

func TestBodyAtLimit(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusOK, taskConfigBody))
	client, _ := newTestClient(api.server.URL, func(o *Options) { o.MaxBodyBytes = int64(len(taskConfigBody)) })

	config, err := client.TaskConfig(context.Background(), testTaskToken)

	if err != nil || string(config.Raw) != taskConfigBody {
		t.Errorf("TaskConfig = %v, %v; want the body at the limit accepted", config, err)
	}
}

func TestOversizeErrorBodyTruncatesMessage(t *testing.T) {
	page := "<html>" + strings.Repeat("é", 5000) + "</html>"
	api := startFakeAPI(t, respond(http.StatusBadRequest, page, "Content-Type", "text/html"))
	client, _ := newTestClient(api.server.URL, func(o *Options) { o.MaxBodyBytes = 2048 })

	_, err := client.Claim(context.Background(), testClaimRequest)

	var statusErr *StatusError
	if !errors.As(err, &statusErr) {
		t.Fatalf("Claim error = %v, want a *StatusError", err)
	}
	if len(statusErr.Message) > maxMessageBytes {
		t.Errorf("Message has %d bytes, want at most %d", len(statusErr.Message), maxMessageBytes)
	}
	if !strings.HasPrefix(statusErr.Message, "<html>éé") || !strings.HasSuffix(statusErr.Message, "é...") {
		t.Errorf("Message = %q, want the start of the page cut at a rune", statusErr.Message)
	}
}

func TestTextErrorMessage(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusBadGateway, "\n  upstream\tconnect error\r\n", "Content-Type", "text/plain"))
	client, _ := newTestClient(api.server.URL, nil)

	_, err := client.Claim(context.Background(), testClaimRequest)

	var statusErr *StatusError
	if !errors.As(err, &statusErr) || statusErr.Message != "upstream connect error" {
		t.Errorf("Claim error = %v, want the trimmed text as the message", err)
	}
}

func TestSlowResponseTimesOut(t *testing.T) {
	api := startFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	client, _ := newTestClient(api.server.URL, func(o *Options) { o.RequestTimeout = 50 * time.Millisecond })
	start := time.Now()

	_, err := client.Claim(context.Background(), testClaimRequest)

	if err == nil || !strings.Contains(err.Error(), "timed out after 50ms") {
		t.Fatalf("Claim error = %v, want a timeout", err)
	}
	if !IsTransient(err) {
		t.Error("IsTransient = false for a timeout")
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Claim returned after %s", elapsed)
	}
}

func TestSlowBodyTimesOut(t *testing.T) {
	api := startFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"task_id":`)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	client, _ := newTestClient(api.server.URL, func(o *Options) {
		o.RequestTimeout = 100 * time.Millisecond
		o.MaxAttempts = 2
	})

	_, err := client.TaskConfig(context.Background(), testTaskToken)

	if err == nil || !strings.Contains(err.Error(), "timed out after 100ms") {
		t.Fatalf("TaskConfig error = %v, want a timeout", err)
	}
	if n := api.requestCount(); n != 2 {
		t.Errorf("requests = %d, want 2 because a timeout is retried", n)
	}
}

func TestCallerCancelIsNotTransient(t *testing.T) {
	api := startFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	client, _ := newTestClient(api.server.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)

	_, err := client.TaskConfig(ctx, testTaskToken)

	if !errors.Is(err, context.Canceled) {
		t.Errorf("TaskConfig error = %v, want context.Canceled", err)
	}
	if IsTransient(err) {
		t.Error("IsTransient = true after the caller cancelled")
	}
	if n := api.requestCount(); n != 1 {
		t.Errorf("requests = %d, want 1", n)
	}
}

// TestConnectionResetMidBody sends part of a body and then resets the TCP
// connection: SO_LINGER 0 makes Close send RST instead of FIN.
func TestConnectionResetMidBody(t *testing.T) {
	api := startFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		conn, buffered, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		writeAndReset(t, conn, buffered)
	})
	client, _ := newTestClient(api.server.URL, func(o *Options) { o.MaxAttempts = 2 })

	_, err := client.TaskConfig(context.Background(), testTaskToken)

	var requestErr *RequestError
	if !errors.As(err, &requestErr) {
		t.Fatalf("TaskConfig error = %v, want a *RequestError", err)
	}
	if !IsTransient(err) {
		t.Error("IsTransient = false for a reset connection")
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("error = %v, want ECONNRESET", err)
	}
	if !strings.Contains(err.Error(), "read response body") {
		t.Errorf("error = %q, want the body read named", err)
	}
	if n := api.requestCount(); n != 2 {
		t.Errorf("requests = %d, want 2 because a reset is retried", n)
	}
}

func writeAndReset(t *testing.T, conn net.Conn, buffered *bufio.ReadWriter) {
	buffered.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
	buffered.WriteString(`{"task_id":"task-1","padding":"`)
	if err := buffered.Flush(); err != nil {
		t.Errorf("write partial response: %v", err)
	}

	// Give the client time to read the headers, so the reset hits the body.
	time.Sleep(50 * time.Millisecond)
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	conn.Close()
}

func TestConnectionRefused(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusOK, claimBody))
	baseURL := api.server.URL
	api.server.Close()
	client, _ := newTestClient(baseURL, nil)

	_, err := client.Claim(context.Background(), testClaimRequest)

	var requestErr *RequestError
	if !errors.As(err, &requestErr) {
		t.Fatalf("Claim error = %v, want a *RequestError", err)
	}
	if requestErr.URL != baseURL+"/api/v3/runner/claim" || requestErr.Op != "claim" {
		t.Errorf("RequestError = %+v, want the claim URL", requestErr)
	}
	if !IsTransient(err) {
		t.Error("IsTransient = false for a refused connection")
	}
	if strings.Count(err.Error(), "/api/v3/runner/claim") != 1 {
		t.Errorf("error = %q, want the URL once", err)
	}
}

func TestURLPasswordRedacted(t *testing.T) {
	api := startFakeAPI(t, respond(http.StatusBadRequest, ""))
	baseURL := strings.Replace(api.server.URL, "http://", "http://user:url-secret@", 1)
	client, _ := newTestClient(baseURL, nil)

	_, err := client.Claim(context.Background(), testClaimRequest)

	if err == nil || strings.Contains(err.Error(), "url-secret") {
		t.Errorf("Claim error = %v, want the password removed", err)
	}
	if !strings.Contains(err.Error(), "user:xxxxx@") {
		t.Errorf("error = %q, want the redacted URL", err)
	}
}
