package runnerapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// call describes one request to the runner API.
type call struct {
	op     string // the name in errors, such as "claim"
	method string
	path   string
	token  string // sent as "Authorization: Bearer"; empty sends no header
	body   any    // marshalled to JSON; nil sends no body

	// secrets are masked in error messages. They include every token in
	// the header or the body.
	secrets []string
}

// response is a complete response, with a body of at most maxBody bytes.
type response struct {
	url    string // the request URL, with any password removed
	status int
	header http.Header
	body   []byte
}

func parseBaseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("the runner API URL is empty; set api.url")
	}

	// The error leaves out the URL, because it may contain a password.
	base, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid runner API URL: %w", unwrapURLError(err))
	}
	if base.Scheme != "http" && base.Scheme != "https" || base.Host == "" {
		return nil, fmt.Errorf("invalid runner API URL %q: expected http:// or https:// and a host", base.Redacted())
	}
	return base, nil
}

// send makes one attempt of c within the request timeout and reads the whole
// response body.
func (c *Client) send(ctx context.Context, req call) (*response, error) {
	if c.baseURLErr != nil {
		return nil, fmt.Errorf("%s: %w", req.op, c.baseURLErr)
	}
	target := c.baseURL.JoinPath(req.path)
	redacted := target.Redacted()

	attemptCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	httpReq, err := c.newRequest(attemptCtx, req, target.String())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", req.op, err)
	}

	httpResp, err := c.http.Do(httpReq)
	if err != nil {
		return nil, c.requestError(ctx, attemptCtx, req.op, redacted, unwrapURLError(err))
	}
	defer httpResp.Body.Close()

	body, err := c.readBody(httpResp)
	if err != nil {
		return nil, c.requestError(ctx, attemptCtx, req.op, redacted, err)
	}

	resp := &response{url: redacted, status: httpResp.StatusCode, header: httpResp.Header, body: body}
	if isSuccess(resp.status) && int64(len(body)) > c.maxBody {
		return nil, fmt.Errorf("%s: %s: the response body is larger than the limit of %d bytes", req.op, redacted, c.maxBody)
	}
	return resp, nil
}

func (c *Client) newRequest(ctx context.Context, req call, target string) (*http.Request, error) {
	var body io.Reader
	if req.body != nil {
		encoded, err := json.Marshal(req.body)
		if err != nil {
			return nil, fmt.Errorf("encode request body: %w", err)
		}
		body = bytes.NewReader(encoded)
	}

	httpReq, err := http.NewRequestWithContext(ctx, req.method, target, body)
	if err != nil {
		return nil, err
	}

	httpReq.Header.Set("Accept", "application/json")
	httpReq.Header.Set("User-Agent", c.userAgent)
	if req.body != nil {
		httpReq.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	if req.token != "" {
		httpReq.Header.Set("Authorization", "Bearer "+req.token)
	}
	return httpReq, nil
}

// readBody reads at most maxBody+1 bytes, so send can tell a body at the
// limit from a larger one without reading all of it.
func (c *Client) readBody(resp *http.Response) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read response body: %w", err)
	}
	return body, nil
}

// requestError wraps err, the failure of a request without a complete
// response. When the request timeout of the attempt expired, the message
// names the timeout. When the caller's ctx ended, err stays as it is.
func (c *Client) requestError(ctx, attemptCtx context.Context, op, url string, err error) error {
	if ctx.Err() == nil && errors.Is(attemptCtx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s: %w", c.timeout, err)
	}
	return &RequestError{Op: op, URL: url, Err: err}
}

// unwrapURLError removes the *url.Error that http.Client adds, because
// RequestError names the URL already.
func unwrapURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

// statusError returns the *StatusError for resp, masking req's secrets in
// its message. meaning is the call's Err variable for the status, or nil.
func (c *Client) statusError(req call, resp *response, meaning error) *StatusError {
	return &StatusError{
		Op:         req.op,
		URL:        resp.url,
		StatusCode: resp.status,
		Message:    errorMessage(resp.body, req.secrets),
		RetryAfter: parseRetryAfter(resp.header.Get("Retry-After"), c.now()),
		meaning:    meaning,
	}
}

func isSuccess(status int) bool {
	return status >= 200 && status <= 299
}

// decodeJSON decodes the body of a success response into value.
func decodeJSON(req call, resp *response, value any) error {
	if len(bytes.TrimSpace(resp.body)) == 0 {
		return fmt.Errorf("%s: %s returned %d with an empty body, expected JSON", req.op, resp.url, resp.status)
	}
	if err := json.Unmarshal(resp.body, value); err != nil {
		return fmt.Errorf("%s: %s returned invalid JSON: %w", req.op, resp.url, err)
	}
	return nil
}
