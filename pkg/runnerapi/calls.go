package runnerapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Paths of the runner API calls, relative to the base URL.
const (
	ClaimPath      = "/api/v3/runner/claim"
	TaskConfigPath = "/api/v2/task/config"
	UnclaimPath    = "/api/v3/runner/unclaim"
	FailPath       = "/api/v2/task/event/fail"
)

// Claim requests a task from the runner API with the resource class token. It
// makes one attempt, because the caller's claim loop owns polling and
// backoff. It returns (nil, nil) when no task is waiting (204). A rejected
// token (401, 403) satisfies IsAuthError.
func (c *Client) Claim(ctx context.Context, request ClaimRequest) (*Claim, error) {
	token := c.resourceClassToken()
	if token == "" {
		return nil, errors.New("claim: the resource class token is empty; set api.auth_token")
	}
	req := call{op: "claim", method: http.MethodPost, path: ClaimPath, token: token, body: request, secrets: []string{token}}

	resp, err := c.send(ctx, req)
	if err != nil {
		return nil, err
	}

	switch resp.status {
	case http.StatusOK:
		return decodeClaim(req, resp)
	case http.StatusNoContent:
		return nil, nil
	default:
		return nil, c.statusError(req, resp, nil)
	}
}

func decodeClaim(req call, resp *response) (*Claim, error) {
	var claim Claim
	if err := decodeJSON(req, resp, &claim); err != nil {
		return nil, err
	}

	required := []struct{ field, value string }{
		{"task_token", claim.TaskToken},
		{"allocation", claim.Allocation},
		{"agent_version", claim.AgentVersion},
	}
	for _, r := range required {
		if r.value == "" {
			return nil, fmt.Errorf("claim: %s returned a task without %s", resp.url, r.field)
		}
	}
	return &claim, nil
}

// TaskConfig fetches the configuration of the claimed task with its task
// token. Transient failures are retried.
func (c *Client) TaskConfig(ctx context.Context, taskToken string) (*TaskConfig, error) {
	if taskToken == "" {
		return nil, errors.New("get task config: the task token is empty")
	}
	req := call{op: "get task config", method: http.MethodGet, path: TaskConfigPath, token: taskToken, secrets: []string{taskToken}}

	var config *TaskConfig
	err := c.retry(ctx, req.op, func(ctx context.Context) error {
		var err error
		config, err = c.taskConfigAttempt(ctx, req)
		return err
	})
	return config, err
}

func (c *Client) taskConfigAttempt(ctx context.Context, req call) (*TaskConfig, error) {
	resp, err := c.send(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusOK {
		return nil, c.statusError(req, resp, nil)
	}

	config := TaskConfig{Raw: resp.body}
	if err := decodeJSON(req, resp, &config); err != nil {
		return nil, err
	}
	if config.TaskID == "" {
		return nil, fmt.Errorf("get task config: %s returned a configuration without task_id", resp.url)
	}
	return &config, nil
}

// Unclaim returns a claimed task to the queue, so another runner can take
// it. The task token travels in the body, and the request carries no
// Authorization header, because the body already proves the claim and the
// resource class token is not needed. Transient failures are retried.
// A 409 satisfies errors.Is(err, ErrRetriesExhausted), and a 404
// errors.Is(err, ErrTaskGone).
func (c *Client) Unclaim(ctx context.Context, taskID, taskToken string) error {
	if taskID == "" || taskToken == "" {
		return errors.New("unclaim: the task ID and the task token are required")
	}
	body := UnclaimRequest{TaskID: taskID, TaskToken: taskToken}
	req := call{op: "unclaim", method: http.MethodPost, path: UnclaimPath, body: body, secrets: []string{taskToken}}

	// NOTE: when an attempt times out after the server unclaimed the task,
	// the retry may see 404 or 409 for a task that did return to the queue.
	return c.retry(ctx, req.op, func(ctx context.Context) error {
		return c.postAttempt(ctx, req, map[int]error{
			http.StatusConflict: ErrRetriesExhausted,
			http.StatusNotFound: ErrTaskGone,
		})
	})
}

// Fail sends a fail event for the task at allocation, with message as the
// reason a person reads and at as its time. Transient failures are retried.
// A 404 satisfies errors.Is(err, ErrUnknownAllocation).
func (c *Client) Fail(ctx context.Context, taskToken, allocation, message string, at time.Time) error {
	if taskToken == "" || allocation == "" {
		return errors.New("send fail event: the task token and the allocation are required")
	}
	if at.IsZero() {
		return errors.New("send fail event: the event time is zero")
	}
	body := FailEvent{Allocation: allocation, Timestamp: at.UnixMilli(), Message: EncodeFailMessage(message)}
	req := call{op: "send fail event", method: http.MethodPost, path: FailPath, token: taskToken, body: body, secrets: []string{taskToken}}

	return c.retry(ctx, req.op, func(ctx context.Context) error {
		return c.postAttempt(ctx, req, map[int]error{http.StatusNotFound: ErrUnknownAllocation})
	})
}

// postAttempt makes one attempt of a call whose success body is ignored.
// meanings maps a status to the Err variable that its StatusError unwraps to.
func (c *Client) postAttempt(ctx context.Context, req call, meanings map[int]error) error {
	resp, err := c.send(ctx, req)
	if err != nil {
		return err
	}
	if isSuccess(resp.status) {
		return nil
	}
	return c.statusError(req, resp, meanings[resp.status])
}
