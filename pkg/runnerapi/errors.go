package runnerapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Errors that a *StatusError unwraps to, for the statuses that the runner API
// gives a meaning beyond their code. Test for them with errors.Is.
var (
	// ErrRetriesExhausted is unclaim's 409: the task cannot return to the
	// queue, so the caller should report it with a fail event instead.
	ErrRetriesExhausted = errors.New("the task has exhausted its retries and cannot be unclaimed")

	// ErrTaskGone is unclaim's 404: the job was already cancelled.
	ErrTaskGone = errors.New("the task no longer exists because its job was cancelled")

	// ErrUnknownAllocation is the fail event's 404: the allocation is not
	// the task that the task token belongs to.
	ErrUnknownAllocation = errors.New("the allocation is not the task token's task")
)

// StatusError is a response from the runner API with a status that the call
// does not treat as success.
type StatusError struct {
	Op         string // the call, such as "claim"
	URL        string // the request URL, with any password removed
	StatusCode int

	// Message is the "message" field of a JSON body, or else the start of
	// the body as text. Any token the client sent is masked in it.
	Message string

	// RetryAfter is the delay that the Retry-After header requests, or 0.
	RetryAfter time.Duration

	meaning error // one of the Err variables above, or nil
}

func (e *StatusError) Error() string {
	text := fmt.Sprintf("%s: %s returned %d %s", e.Op, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.meaning != nil {
		text += " (" + e.meaning.Error() + ")"
	}
	if e.Message != "" {
		text += ": " + e.Message
	}
	return text
}

// Unwrap returns the meaning of the status for this call, such as
// ErrTaskGone, or nil.
func (e *StatusError) Unwrap() error {
	return e.meaning
}

// RequestError is a request that got no complete response: the connection
// failed, the request timed out, or the body was cut off.
type RequestError struct {
	Op  string // the call, such as "claim"
	URL string // the request URL, with any password removed
	Err error
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("%s: %s: %v", e.Op, e.URL, e.Err)
}

func (e *RequestError) Unwrap() error {
	return e.Err
}

// IsAuthError reports whether err is a 401 or 403 response, which means that
// the runner API rejected the token.
func IsAuthError(err error) bool {
	var statusErr *StatusError
	if !errors.As(err, &statusErr) {
		return false
	}
	return statusErr.StatusCode == http.StatusUnauthorized || statusErr.StatusCode == http.StatusForbidden
}

// IsTransient reports whether the same request may succeed later: a network
// error, a timeout, a cut-off body, 408, 429 or a 5xx status. A request
// cancelled through its context is not transient.
func IsTransient(err error) bool {
	var statusErr *StatusError
	if errors.As(err, &statusErr) {
		return isTransientStatus(statusErr.StatusCode)
	}

	var requestErr *RequestError
	if errors.As(err, &requestErr) {
		return !errors.Is(err, context.Canceled)
	}
	return false
}

func isTransientStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500 && code <= 599
}

// retryAfter returns the Retry-After delay carried by err, or 0.
func retryAfter(err error) time.Duration {
	var statusErr *StatusError
	if errors.As(err, &statusErr) {
		return statusErr.RetryAfter
	}
	return 0
}
