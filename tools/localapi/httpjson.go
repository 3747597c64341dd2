package localapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"
)

// maxRequestBody bounds every request body. Output chunks of the local task
// agent are the largest bodies, and it sends at most 64 KiB of output in one.
const maxRequestBody = 1 << 20

// Errors that the Go API returns and the handlers map to a status.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)

// apiError is an error with the HTTP status that reports it.
type apiError struct {
	status  int
	message string
}

func (e *apiError) Error() string { return e.message }

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, message: fmt.Sprintf(format, args...)}
}

// errorMessage is the body of every error response.
type errorMessage struct {
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, value any) {
	body, err := json.Marshal(value)
	if err != nil {
		status = http.StatusInternalServerError
		body, _ = json.Marshal(errorMessage{Message: "encode response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)+1))
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, errorMessage{Message: fmt.Sprintf(format, args...)})
}

// writeErr writes err as an error response: an *apiError with its status,
// ErrNotFound as 404, ErrConflict as 409, anything else as 500.
func writeErr(w http.ResponseWriter, err error) {
	var api *apiError
	switch {
	case errors.As(err, &api):
		writeError(w, api.status, "%s", api.message)
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "%s", err)
	case errors.Is(err, ErrConflict):
		writeError(w, http.StatusConflict, "%s", err)
	default:
		writeError(w, http.StatusInternalServerError, "%s", err)
	}
}

// checkContentType requires the content type of the runner API,
// application/json with charset utf-8 (both case-insensitive).
func checkContentType(r *http.Request) error {
	header := r.Header.Get("Content-Type")
	mediaType, params, err := mime.ParseMediaType(header)
	if err != nil || mediaType != "application/json" || !strings.EqualFold(params["charset"], "utf-8") {
		return errorf(http.StatusUnsupportedMediaType,
			"invalid Content-Type %q: send application/json; charset=utf-8", header)
	}
	return nil
}

// decodeBody decodes the request body into value strictly: the content type
// must be JSON, the body one JSON object with every key in required, and no
// key that value does not have.
func decodeBody(r *http.Request, value any, required ...string) error {
	if err := checkContentType(r); err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return errorf(http.StatusBadRequest, "read request body: %v", err)
	}
	if len(body) > maxRequestBody {
		return errorf(http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", maxRequestBody)
	}

	if !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
		return errorf(http.StatusBadRequest, "invalid request body: want a JSON object")
	}
	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(value); err != nil {
		return errorf(http.StatusBadRequest, "invalid request body: %v", err)
	}
	if rest := bytes.TrimSpace(body[decoder.InputOffset():]); len(rest) > 0 {
		return errorf(http.StatusBadRequest, "invalid request body: data after the JSON object")
	}
	return requireKeys(body, required)
}

// requireKeys checks that body is a JSON object that has every key in
// required. A key whose value is null counts as missing.
func requireKeys(body []byte, required []string) error {
	var object map[string]json.RawMessage
	if err := json.Unmarshal(body, &object); err != nil || object == nil {
		return errorf(http.StatusBadRequest, "invalid request body: want a JSON object")
	}

	var missing []string
	for _, key := range required {
		if value, ok := object[key]; !ok || string(value) == "null" {
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return errorf(http.StatusBadRequest, "invalid request body: missing %s", strings.Join(missing, ", "))
	}
	return nil
}

// bearerToken returns the token of an "Authorization: Bearer TOKEN" header.
func bearerToken(r *http.Request) (string, error) {
	header := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", errorf(http.StatusUnauthorized, "missing or invalid Authorization header: send Authorization: Bearer TOKEN")
	}
	return strings.TrimSpace(token), nil
}

// methods routes a request by method and responds with 405 with the allowed
// methods otherwise. GET handlers also serve HEAD.
type methods map[string]http.HandlerFunc

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := r.Method
	if method == http.MethodHead && m[http.MethodHead] == nil {
		method = http.MethodGet
	}
	if handler, ok := m[method]; ok {
		handler(w, r)
		return
	}

	allowed := make([]string, 0, len(m))
	for name := range m {
		allowed = append(allowed, name)
	}
	sort.Strings(allowed)
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeError(w, http.StatusMethodNotAllowed, "method %s is not allowed on %s; use %s", r.Method, r.URL.Path, strings.Join(allowed, " or "))
}
