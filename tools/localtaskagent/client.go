package localtaskagent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/taskproto"
)

// errGone reports a 410 response: the runner API cancelled the task.
var errGone = errors.New("the runner API cancelled the task")

const (
	requestTimeout = 30 * time.Second
	maxAttempts    = 4
	maxRetryAfter  = 10 * time.Second
	maxConfigBytes = 8 << 20
)

// client calls the runner API with the task token.
type client struct {
	base   string
	token  string
	http   *http.Client
	logf   func(format string, args ...any)
	onGone func()
}

func (c *client) taskConfig() (taskproto.TaskConfig, error) {
	var config taskproto.TaskConfig
	response, err := c.do(http.MethodGet, taskproto.PathConfig, nil)
	if err != nil {
		return config, err
	}
	defer response.Body.Close()

	body, err := io.ReadAll(io.LimitReader(response.Body, maxConfigBytes+1))
	if err != nil {
		return config, fmt.Errorf("read task config: %w", err)
	}
	if len(body) > maxConfigBytes {
		return config, fmt.Errorf("task config is larger than %d bytes", maxConfigBytes)
	}
	if err := json.Unmarshal(body, &config); err != nil {
		return config, fmt.Errorf("invalid task config: %w", err)
	}
	return config, nil
}

// post sends a JSON body and discards the response body.
func (c *client) post(path string, body any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	response, err := c.do(http.MethodPost, path, data)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(response.Body, 1<<20))
	return response.Body.Close()
}

// do sends a request and returns a 2xx response. Network errors, 429 and 5xx
// are retried up to maxAttempts times with exponential backoff, honouring a
// Retry-After in seconds. A 410 calls onGone.
func (c *client) do(method, path string, body []byte) (*http.Response, error) {
	var lastErr error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		response, retryAfter, err := c.attempt(method, path, body)
		if err == nil {
			return response, nil
		}
		if errors.Is(err, errGone) && c.onGone != nil {
			c.onGone()
		}
		if retryAfter < 0 {
			return nil, err
		}

		lastErr = err
		if attempt < maxAttempts {
			delay := max(retryAfter, time.Duration(250<<attempt)*time.Millisecond)
			c.logf("%s %s failed (attempt %d/%d), retrying in %s: %v", method, path, attempt, maxAttempts, delay, err)
			time.Sleep(delay)
		}
	}
	return nil, fmt.Errorf("%s %s failed after %d attempts: %w", method, path, maxAttempts, lastErr)
}

// attempt sends one request. retryAfter is negative when the error is not
// worth a retry.
func (c *client) attempt(method, path string, body []byte) (*http.Response, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	request, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		cancel()
		return nil, -1, err
	}
	request.Header.Set("Authorization", "Bearer "+c.token)
	request.Header.Set("User-Agent", "local-task-agent")
	if body != nil {
		request.Header.Set("Content-Type", "application/json; charset=utf-8")
	}

	response, err := c.http.Do(request)
	if err != nil {
		cancel()
		return nil, 0, err
	}
	if response.StatusCode/100 == 2 {
		response.Body = &cancelOnClose{ReadCloser: response.Body, cancel: cancel}
		return response, 0, nil
	}

	defer cancel()
	defer response.Body.Close()
	return nil, retryDelay(response), responseError(method, path, response)
}

func retryDelay(response *http.Response) time.Duration {
	if response.StatusCode != http.StatusTooManyRequests && response.StatusCode < 500 {
		return -1
	}
	seconds, err := strconv.Atoi(response.Header.Get("Retry-After"))
	if err != nil || seconds < 0 {
		return 0
	}
	return min(time.Duration(seconds)*time.Second, maxRetryAfter)
}

func responseError(method, path string, response *http.Response) error {
	if response.StatusCode == http.StatusGone {
		return errGone
	}
	var message struct {
		Message string `json:"message"`
	}
	data, _ := io.ReadAll(io.LimitReader(response.Body, 64<<10))
	if json.Unmarshal(data, &message) != nil || message.Message == "" {
		message.Message = string(bytes.TrimSpace(data))
	}
	return fmt.Errorf("%s %s: status %d: %s", method, path, response.StatusCode, message.Message)
}

// cancelOnClose ends a request's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
