package localapi

import (
	"encoding/base64"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/circleci-runner/circleci-runner/pkg/runnerapi"
	"github.com/circleci-runner/circleci-runner/tools/taskproto"
)

// minTimestampMillis is 2001-09-09 in Unix milliseconds. A smaller fail
// event timestamp is almost certainly in seconds, which the runner API does
// not accept.
const minTimestampMillis = 1_000_000_000_000

// emptyObject is the body of a 200 response that has nothing to return.
var emptyObject = struct{}{}

func (s *Server) handleClaim(w http.ResponseWriter, r *http.Request) {
	token, err := bearerToken(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	class, ok := s.opts.Tokens[token]
	if !ok {
		writeError(w, http.StatusUnauthorized, "resource-class token %s is not valid", MaskToken(token))
		return
	}

	var request runnerapi.ClaimRequest
	if err := decodeBody(r, &request, "name", "hostname", "ip", "version"); err != nil {
		writeErr(w, err)
		return
	}
	if request.Name == "" || request.Version == "" {
		writeError(w, http.StatusBadRequest, "invalid claim: name and version must not be empty")
		return
	}

	claim, ok := s.claim(class, token, request)
	if !ok {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, claim)
}

// claim hands the oldest queued job of the resource class to a runner.
func (s *Server) claim(class, token string, request runnerapi.ClaimRequest) (runnerapi.Claim, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	var next *job
	for _, j := range s.jobs {
		if j.record.State == StateQueued && j.record.ResourceClass == class &&
			(next == nil || j.queueSeq < next.queueSeq) {
			next = j
		}
	}
	if next == nil {
		return runnerapi.Claim{}, false
	}

	t := &task{token: newToken(), allocation: newUUID(), job: next, active: true}
	s.tasks[t.token] = t
	next.task = t
	next.record.State = StateRunning
	next.record.StartedAt = s.opts.Now()
	next.record.Claims = append(next.record.Claims, Claim{
		Time: next.record.StartedAt, Allocation: t.allocation, Token: MaskToken(token),
		Runner: request.Name, Hostname: request.Hostname, IP: request.IP, Version: request.Version,
	})
	s.log.Info().Str("job", next.record.Name).Str("task_id", next.record.ID).
		Str("allocation", t.allocation).Str("runner", request.Name).Msg("job claimed")
	s.notifyLocked()

	return runnerapi.Claim{
		TaskToken:     t.token,
		AgentVersion:  s.agentVersion,
		Allocation:    t.allocation,
		ResourceClass: class,
		Warning:       s.opts.ClaimWarning,
	}, true
}

func (s *Server) handleUnclaim(w http.ResponseWriter, r *http.Request) {
	var request runnerapi.UnclaimRequest
	if err := decodeBody(r, &request, "task_id", "task_token"); err != nil {
		writeErr(w, err)
		return
	}
	recordToken(r, request.TaskToken)

	if err := s.unclaim(request.TaskID, request.TaskToken); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, emptyObject)
}

// unclaim returns a running job to its queue, unless it was returned
// MaxUnclaims times already.
func (s *Server) unclaim(taskID, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	t, ok := s.tasks[token]
	if !ok {
		return errorf(http.StatusUnauthorized, "task token %s is not valid", MaskToken(token))
	}
	j := t.job
	switch {
	case j.record.ID != taskID:
		return errorf(http.StatusNotFound, "task %q is not the task of token %s", taskID, MaskToken(token))
	case j.record.State.Ended():
		return errorf(http.StatusNotFound, "task %q already ended as %s", taskID, j.record.State)
	case !t.active:
		return errorf(http.StatusNotFound, "task %q was already returned to the queue by this token", taskID)
	case j.record.Unclaims >= s.opts.MaxUnclaims:
		return errorf(http.StatusConflict, "task %q was returned to the queue %d times; no retries are left", taskID, j.record.Unclaims)
	}

	j.record.Unclaims++
	t.active = false
	s.log.Info().Str("job", j.record.Name).Str("task_id", taskID).Int("unclaims", j.record.Unclaims).Msg("job unclaimed")
	s.queueLocked(j)
	return nil
}

func (s *Server) handleFailEvent(w http.ResponseWriter, r *http.Request) {
	token, err := bearerToken(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	var event runnerapi.FailEvent
	if err := decodeBody(r, &event, "allocation", "timestamp", "message"); err != nil {
		writeErr(w, err)
		return
	}
	text, err := decodeFailMessage(event)
	if err != nil {
		writeErr(w, err)
		return
	}

	if err := s.fail(token, event, text); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, emptyObject)
}

func decodeFailMessage(event runnerapi.FailEvent) (string, error) {
	if event.Timestamp < minTimestampMillis {
		return "", errorf(http.StatusBadRequest, "invalid timestamp %d: send Unix milliseconds", event.Timestamp)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(event.Message)
	if err != nil {
		return "", errorf(http.StatusBadRequest, "invalid message: want standard padded base64 of UTF-8 text: %v", err)
	}
	if !utf8.Valid(raw) {
		return "", errorf(http.StatusBadRequest, "invalid message: the decoded bytes are not UTF-8")
	}
	if strings.TrimSpace(string(raw)) == "" {
		return "", errorf(http.StatusBadRequest, "invalid message: the text is empty")
	}
	return string(raw), nil
}

// fail records a fail event, and fails the job when the event comes from its
// current claim.
func (s *Server) fail(token string, event runnerapi.FailEvent, text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	t, ok := s.tasks[token]
	if !ok {
		return errorf(http.StatusUnauthorized, "task token %s is not valid", MaskToken(token))
	}
	if t.allocation != event.Allocation {
		return errorf(http.StatusNotFound, "allocation %q is not the allocation of task token %s", event.Allocation, MaskToken(token))
	}

	j := t.job
	j.record.FailEvents = append(j.record.FailEvents, FailEvent{
		Received: s.opts.Now(), Allocation: event.Allocation, Timestamp: event.Timestamp, Message: text,
	})
	s.log.Info().Str("job", j.record.Name).Str("task_id", j.record.ID).Str("fail_message", text).Msg("fail event")
	if t.active && j.record.State == StateRunning {
		s.endStepsLocked(j, taskproto.StatusCancelled)
		s.endLocked(j, StateFailed, "fail event: "+text)
		return nil
	}
	s.notifyLocked()
	return nil
}
