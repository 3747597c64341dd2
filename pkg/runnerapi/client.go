package runnerapi

import (
	"context"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/circleci-runner/circleci-runner/pkg/version"
)

// Defaults for the zero fields of Options.
const (
	DefaultRequestTimeout = 30 * time.Second
	DefaultMaxBodyBytes   = 1 << 20
	DefaultMaxAttempts    = 5
)

// Options configures a Client. Only BaseURL and Token are required.
type Options struct {
	// BaseURL is api.url, such as "https://runner.example.com". A path in
	// it is kept as a prefix of the API paths.
	BaseURL string

	// Token is the resource class token that Claim sends.
	Token string

	// UserAgent defaults to version.UserAgent().
	UserAgent string

	// HTTPClient defaults to a new client with the default transport,
	// which honours the proxy environment variables.
	HTTPClient *http.Client

	// RequestTimeout bounds each attempt, from sending the request to
	// reading the whole body. It defaults to 30 s.
	RequestTimeout time.Duration

	// MaxBodyBytes bounds a response body. It defaults to 1 MiB.
	MaxBodyBytes int64

	// MaxAttempts bounds the attempts of the retried calls (TaskConfig,
	// Unclaim, Fail), counting the first one. It defaults to 5.
	MaxAttempts int

	// Backoff computes the delays between attempts. Its zero value uses
	// the Backoff defaults: 1 s growing by 2 up to 30 s.
	Backoff Backoff

	// Sleep waits between attempts and returns early with the context's
	// error. It defaults to a timer; tests inject a recorder.
	Sleep func(ctx context.Context, delay time.Duration) error

	// Rand returns a number in [0, 1) for the backoff jitter. It overrides
	// Backoff.Rand when set.
	Rand func() float64

	// Now is the clock for Retry-After dates. It defaults to time.Now.
	Now func() time.Time

	// OnRetry, when set, is called before each wait between attempts, so the
	// caller can log "attempt n of N" with the error and the delay.
	OnRetry func(op string, attempt, maxAttempts int, delay time.Duration, err error)
}

// Client calls the runner API. It is safe for concurrent use.
type Client struct {
	baseURL     *url.URL
	baseURLErr  error
	token       atomic.Pointer[string]
	userAgent   string
	http        *http.Client
	timeout     time.Duration
	maxBody     int64
	maxAttempts int
	backoff     Backoff
	sleep       func(context.Context, time.Duration) error
	now         func() time.Time
	onRetry     func(string, int, int, time.Duration, error)
}

// New returns a Client for opts. An invalid BaseURL is reported by the first
// call, so New itself cannot fail.
func New(opts Options) *Client {
	c := &Client{
		userAgent:   valueOr(opts.UserAgent, version.UserAgent()),
		http:        opts.HTTPClient,
		timeout:     valueOr(opts.RequestTimeout, DefaultRequestTimeout),
		maxBody:     valueOr(opts.MaxBodyBytes, DefaultMaxBodyBytes),
		maxAttempts: valueOr(opts.MaxAttempts, DefaultMaxAttempts),
		backoff:     opts.Backoff,
		sleep:       opts.Sleep,
		now:         opts.Now,
		onRetry:     opts.OnRetry,
	}
	c.baseURL, c.baseURLErr = parseBaseURL(opts.BaseURL)
	c.SetToken(opts.Token)

	if c.http == nil {
		c.http = &http.Client{}
	}
	if opts.Rand != nil {
		c.backoff.Rand = opts.Rand
	}
	if c.sleep == nil {
		c.sleep = sleepContext
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// SetToken replaces the resource class token, for a configuration reloaded
// after dpkg-reconfigure. Calls already sent keep the old token.
func (c *Client) SetToken(token string) {
	c.token.Store(&token)
}

func (c *Client) resourceClassToken() string {
	return *c.token.Load()
}

// valueOr returns value, or fallback when value is zero or negative.
func valueOr[T int | int64 | time.Duration | string](value, fallback T) T {
	var zero T
	if value <= zero {
		return fallback
	}
	return value
}

func sleepContext(ctx context.Context, delay time.Duration) error {
	timer := time.NewTimer(delay)
	defer timer.Stop()

	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
