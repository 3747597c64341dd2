package localapi

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Call is one request in the call log. Requests to /local/ and to the index
// page are not logged, so the log shows only the runner API, the task agent
// protocol and the task-agent downloads, in the order they arrived.
type Call struct {
	Seq    int       `json:"seq"`
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	Path   string    `json:"path"`

	// Status is the response status, or 0 when an injected fault closed the
	// connection before a status was sent.
	Status int `json:"status"`

	// Token is the request's token masked to its last four characters:
	// the bearer token, or the task_token of an unclaim body.
	Token     string `json:"token,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`

	// Fault is the id of the injected fault rule that handled the request,
	// or 0.
	Fault int `json:"fault,omitempty"`
}

type callLog struct {
	mu    sync.Mutex
	calls []Call
}

func (l *callLog) add(call Call) {
	l.mu.Lock()
	defer l.mu.Unlock()

	call.Seq = len(l.calls) + 1
	l.calls = append(l.calls, call)
}

func (l *callLog) list() []Call {
	l.mu.Lock()
	defer l.mu.Unlock()

	return append([]Call{}, l.calls...)
}

// Calls returns the call log in arrival order.
func (s *Server) Calls() []Call {
	return s.calls.list()
}

type callKey struct{}

// recordToken replaces the bearer token of the request's call log entry with
// a token from the body.
func recordToken(r *http.Request, token string) {
	if call, ok := r.Context().Value(callKey{}).(*Call); ok {
		call.Token = MaskToken(token)
	}
}

func recordFault(r *http.Request, id int) {
	if call, ok := r.Context().Value(callKey{}).(*Call); ok {
		call.Fault = id
	}
}

func loggedPath(path string) bool {
	return path != "/" && !strings.HasPrefix(path, "/local/") && path != "/local"
}

// recordCalls adds every logged request to the call log once its response
// is written, and logs every request that was rejected with its message.
func (s *Server) recordCalls(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := &Call{Time: s.opts.Now(), Method: r.Method, Path: r.URL.Path, UserAgent: r.UserAgent()}
		if token, err := bearerToken(r); err == nil {
			call.Token = MaskToken(token)
		}
		recorder := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(recorder, r.WithContext(context.WithValue(r.Context(), callKey{}, call)))

		call.Status = recorder.status
		if call.Status == 0 && !recorder.hijacked {
			call.Status = http.StatusOK
		}
		if call.Status >= 400 {
			s.log.Warn().Str("method", call.Method).Str("path", call.Path).Int("status", call.Status).
				Str("token", call.Token).Int("fault", call.Fault).Str("error", recorder.errorMessage()).Msg("request rejected")
		}
		if loggedPath(r.URL.Path) {
			s.calls.add(*call)
		}
	})
}

// statusRecorder remembers the status that a handler writes, and the start
// of an error response's body for the log.
type statusRecorder struct {
	http.ResponseWriter
	status   int
	hijacked bool
	body     []byte
}

// maxLoggedBody bounds the part of an error body kept for the log.
const maxLoggedBody = 1024

func (r *statusRecorder) errorMessage() string {
	var message errorMessage
	if json.Unmarshal(r.body, &message) == nil && message.Message != "" {
		return message.Message
	}
	return string(r.body)
}

func (r *statusRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *statusRecorder) Write(data []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.status >= 400 && len(r.body) < maxLoggedBody {
		r.body = append(r.body, data[:min(len(data), maxLoggedBody-len(r.body))]...)
	}
	return r.ResponseWriter.Write(data)
}

func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	r.hijacked = true
	return http.NewResponseController(r.ResponseWriter).Hijack()
}

func (r *statusRecorder) Unwrap() http.ResponseWriter {
	return r.ResponseWriter
}
