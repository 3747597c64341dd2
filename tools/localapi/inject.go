package localapi

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// injectFaults applies the first matching fault rule to a request.
func (s *Server) injectFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loggedPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		rule, ok := s.faults.take(r.Method, r.URL.Path)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}

		recordFault(r, rule.ID)
		s.log.Info().Int("fault", rule.ID).Str("method", r.Method).Str("path", r.URL.Path).Msg("fault injected")
		if !wait(r, time.Duration(rule.Delay)) {
			return
		}

		switch {
		case rule.Status != 0:
			writeFaultStatus(w, rule)
		case rule.Truncate || rule.Hijack || rule.Oversize > 0 || rule.InvalidJSON:
			response := &bufferedResponse{header: http.Header{}}
			next.ServeHTTP(response, r)
			s.writeFaultedResponse(w, rule, response)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// wait sleeps for delay and reports whether the client is still there.
func wait(r *http.Request, delay time.Duration) bool {
	if delay <= 0 {
		return true
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()

	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func writeFaultStatus(w http.ResponseWriter, rule FaultRule) {
	if rule.RetryAfter != "" {
		w.Header().Set("Retry-After", rule.RetryAfter)
	}
	if rule.Body == "" {
		writeError(w, rule.Status, "injected fault %d: status %d", rule.ID, rule.Status)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(rule.Status)
	fmt.Fprint(w, rule.Body)
}

// bufferedResponse keeps a handler's response so that a fault can change it
// before it is sent.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedResponse) Write(data []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(data)
}

func (s *Server) writeFaultedResponse(w http.ResponseWriter, rule FaultRule, response *bufferedResponse) {
	body := response.body.Bytes()
	status := response.status
	if status == 0 {
		status = http.StatusOK
	}

	switch {
	case rule.Hijack:
		s.writeHijacked(w, status, response.header, body)
		return
	case rule.Truncate:
		body = body[:len(body)/2]
	case rule.Oversize > 0:
		body = oversize(body, response.header.Get("Content-Type"), rule.Oversize)
	case rule.InvalidJSON:
		body = []byte(`{"message": "injected invalid JSON`)
		response.header.Set("Content-Type", "application/json; charset=utf-8")
	}

	// A 204 has no body, so a body fault turns it into a 200 that the
	// client must parse.
	if status == http.StatusNoContent && (rule.Oversize > 0 || rule.InvalidJSON) {
		status = http.StatusOK
		response.header.Set("Content-Type", "application/json; charset=utf-8")
	}
	for key, values := range response.header {
		w.Header()[key] = values
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func oversize(body []byte, contentType string, size int64) []byte {
	padding := int(size) - len(body)
	if padding <= 0 {
		return body
	}
	if strings.HasPrefix(contentType, "application/json") {
		return append(bytes.Repeat([]byte(" "), padding), body...)
	}
	return append(body, make([]byte, padding)...)
}

// writeHijacked sends the status, the headers with the full Content-Length
// and the first half of the body, then closes the connection.
func (s *Server) writeHijacked(w http.ResponseWriter, status int, header http.Header, body []byte) {
	conn, buffered, err := http.NewResponseController(w).Hijack()
	if err != nil {
		s.log.Error().Err(err).Msg("hijack for fault failed")
		writeError(w, http.StatusInternalServerError, "hijack for fault failed: %v", err)
		return
	}
	defer conn.Close()

	header.Set("Content-Length", fmt.Sprint(len(body)))
	header.Set("Connection", "close")
	writeRawResponse(buffered.Writer, status, header, body[:len(body)/2])
}

func writeRawResponse(w *bufio.Writer, status int, header http.Header, body []byte) {
	fmt.Fprintf(w, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	header.Write(w)
	w.WriteString("\r\n")
	w.Write(body)
	w.Flush()
}
